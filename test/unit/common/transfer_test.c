/*
 * transfer_test.c: mkt_transfer_run() and mkt_transfer_probe().
 *
 * Fixtures are made at start-up in a temporary directory: random content,
 * its gzip/bzip2/xz/zstd/tar/OVA forms (libarchive's write API, so no
 * command-line tool is needed), disk-image headers and a sparse file.
 * HTTP cases use transfer_httpd.py, started on a free loopback port, which
 * drops connections, stalls, fails or ignores Range when asked to.  Digests
 * are checked against OpenSSL's one-shot EVP_Digest() over the whole file.
 */
#include <config.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>
#include <check.h>
#include <openssl/evp.h>

#include "common/alloc.h"
#include "common/error.h"
#include "common/transfer.h"

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))
#define MIB (1024 * 1024)
#define PLAIN_LEN (3 * MIB + 12345)     /* several blocks, not a multiple */
#define SPARSE_LEN (16 * MIB)

static char topdir[PATH_MAX / 2];       /* everything the suite creates */
static char srcdir[PATH_MAX];   /* fixtures, served over HTTP too */
static pid_t httpd_pid = -1;
static int httpd_port;
static char httpd_log[PATH_MAX];

/* ------------------------------------------------------------- helpers */

static char *path_in(const char *dir, const char *name)
{
	return mkt_asprintf("%s/%s", dir, name);
}

static char *fixture(const char *name)
{
	return path_in(srcdir, name);
}

static char *url(const char *path_and_query)
{
	return mkt_asprintf("http://127.0.0.1:%d/%s", httpd_port, path_and_query);
}

/* A fresh output directory for one test (removed with topdir). */
static char *outdir(void)
{
	char *dir = mkt_asprintf("%s/out.XXXXXX", topdir);

	ck_assert_ptr_nonnull(mkdtemp(dir));
	return dir;
}

static unsigned char *read_all(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	unsigned char *data;
	long size;

	ck_assert_msg(f != NULL, "cannot open %s: %s", path, strerror(errno));
	fseek(f, 0, SEEK_END);
	size = ftell(f);
	fseek(f, 0, SEEK_SET);
	data = mkt_malloc((size_t)size + 1);
	ck_assert_int_eq(fread(data, 1, (size_t)size, f), (size_t)size);
	data[size] = '\0';
	fclose(f);
	*len = (size_t)size;
	return data;
}

static void write_all(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");

	ck_assert_msg(f != NULL, "cannot create %s: %s", path, strerror(errno));
	ck_assert_int_eq(fwrite(data, 1, len, f), len);
	ck_assert_int_eq(fclose(f), 0);
}

/* Reproducible content: a xorshift block of 64 KiB, repeated with each
 * copy changed in a few bytes.  Never zero blocks, and compressible enough
 * that making the xz/bzip2 fixtures takes milliseconds, not seconds. */
static void fill_random(unsigned char *p, size_t len, uint64_t seed)
{
	const size_t period = 65536;
	uint64_t s = seed * 0x9e3779b97f4a7c15ULL + 1;
	size_t i;

	for (i = 0; i < len; i++) {
		if (i >= period) {
			p[i] = p[i - period];
			continue;
		}
		s ^= s << 13;
		s ^= s >> 7;
		s ^= s << 17;
		p[i] = (unsigned char)(s >> 24);
	}
	for (i = period; i + period <= len; i += period) {
		memcpy(p + i, &i, sizeof(i));
		p[i + 8 + (i / period * 7919) % (period - 8)] ^= 0xa5;
	}
}

static void digest_hex(const char *path, const EVP_MD *md, char *out)
{
	unsigned char d[EVP_MAX_MD_SIZE];
	unsigned int len = 0, i;
	size_t n;
	unsigned char *data = read_all(path, &n);

	ck_assert(EVP_Digest(data, n, d, &len, md, NULL));
	for (i = 0; i < len; i++)
		sprintf(out + 2 * i, "%02x", d[i]);
	free(data);
}

static void assert_same_file(const char *a, const char *b)
{
	size_t la, lb;
	unsigned char *da = read_all(a, &la), *db = read_all(b, &lb);

	ck_assert_msg(la == lb, "%s has %zu bytes, %s has %zu", a, la, b, lb);
	ck_assert_msg(!memcmp(da, db, la), "%s and %s differ", a, b);
	free(da);
	free(db);
}

/* The digests in @res are those of @source_file, computed independently. */
static void assert_digests(const mkt_transfer_result *res, const char *source_file)
{
	char md5[33], sha256[65];

	digest_hex(source_file, EVP_md5(), md5);
	digest_hex(source_file, EVP_sha256(), sha256);
	ck_assert_str_eq(res->md5, md5);
	ck_assert_str_eq(res->sha256, sha256);
}

/* md5_out/sha256_out are those of @written_file. */
static void assert_out_digests(const mkt_transfer_result *res, const char *written_file)
{
	char md5[33], sha256[65];

	digest_hex(written_file, EVP_md5(), md5);
	digest_hex(written_file, EVP_sha256(), sha256);
	ck_assert_str_eq(res->md5_out, md5);
	ck_assert_str_eq(res->sha256_out, sha256);
}

static int count_parts(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d)))
		n += strstr(e->d_name, ".part.") != NULL;
	closedir(d);
	return n;
}

static void assert_failed(int ret, int code, const char *fragment)
{
	ck_assert_msg(ret == code, "returned %d (want %d): %s", ret, code, mkt_error_message());
	ck_assert_int_eq(mkt_error_last()->code, code);
	ck_assert_msg(strstr(mkt_error_message(), fragment),
		      "error \"%s\" does not contain \"%s\"", mkt_error_message(), fragment);
}

/* Copy @source to a fresh directory; asserts success. */
static char *run_ok(const char *source, int unpack, mkt_transfer_result *res, char **dir_out)
{
	char *dir = outdir();
	char *target = path_in(dir, "image");
	mkt_transfer_opts o = { .source = source, .target = target, .unpack = unpack };
	int ret = mkt_transfer_run(&o, res);

	ck_assert_msg(ret == 0, "%s: %s", source, mkt_error_message());
	ck_assert_int_eq(count_parts(dir), 0);
	*dir_out = dir;
	return target;
}

/* -------------------------------------------------------------- fixtures */

typedef int (*add_filter_fn)(struct archive *);

typedef struct {
	const char *name;
	const char *source;     /* fixture holding the content */
} member;

static void write_archive(const char *name, add_filter_fn filter, int raw,
			  const member *members, size_t n)
{
	struct archive *a = archive_write_new();
	char *path = fixture(name);
	size_t i;

	if (filter) {
		ck_assert_int_eq(filter(a), ARCHIVE_OK);
		/* Random data does not compress: do not try hard. */
		ck_assert_int_eq(archive_write_set_filter_option(a, NULL, "compression-level", "1"), ARCHIVE_OK);
	}
	ck_assert_int_eq(raw ? archive_write_set_format_raw(a) : archive_write_set_format_ustar(a), ARCHIVE_OK);
	ck_assert_int_eq(archive_write_open_filename(a, path), ARCHIVE_OK);
	for (i = 0; i < n; i++) {
		struct archive_entry *e = archive_entry_new();
		char *src = fixture(members[i].source);
		size_t len;
		unsigned char *data = read_all(src, &len);

		archive_entry_set_pathname(e, members[i].name);
		archive_entry_set_filetype(e, AE_IFREG);
		archive_entry_set_perm(e, 0644);
		archive_entry_set_size(e, (la_int64_t)len);
		ck_assert_int_eq(archive_write_header(a, e), ARCHIVE_OK);
		ck_assert_int_eq(archive_write_data(a, data, len), (la_ssize_t)len);
		archive_entry_free(e);
		free(data);
		free(src);
	}
	ck_assert_int_eq(archive_write_close(a), ARCHIVE_OK);
	archive_write_free(a);
	free(path);
}

static void make_file(const char *name, size_t len, uint64_t seed, const char *magic,
		      size_t magic_off, size_t magic_len)
{
	unsigned char *data = mkt_malloc(len ? len : 1);
	char *path = fixture(name);

	fill_random(data, len, seed);
	if (magic)
		memcpy(data + magic_off, magic, magic_len);
	write_all(path, data, len);
	free(data);
	free(path);
}

static void patch_file(const char *name, off_t off, const char *bytes, size_t len)
{
	char *path = fixture(name);
	int fd = open(path, O_WRONLY);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pwrite(fd, bytes, len, off), (ssize_t)len);
	close(fd);
	free(path);
}

static void make_sparse(void)
{
	char *path = fixture("sparse.img");
	unsigned char *data = mkt_malloc(MIB);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	ck_assert_int_ge(fd, 0);
	fill_random(data, MIB, 7);
	ck_assert_int_eq(pwrite(fd, data, 4096, 0), 4096);
	ck_assert_int_eq(pwrite(fd, data, MIB, 5 * MIB), MIB);
	ck_assert_int_eq(pwrite(fd, data, 1000, 12 * MIB + 100), 1000);
	ck_assert_int_eq(ftruncate(fd, SPARSE_LEN), 0);
	close(fd);
	free(data);
	free(path);
}

static void make_fixtures(void)
{
	static const member plain[] = { { "data", "plain.bin" } };
	static const member zeros[] = { { "data", "zeros-head.img" } };
	static const member tar[] = { { "disk.img", "plain.bin" } };
	static const member several[] = { { "a.txt", "small.bin" }, { "b.txt", "small.bin" } };
	static const member readme[] = { { "README", "plain.bin" }, { "disk.raw", "small.bin" } };
	static const member ova[] = {
		{ "app.ovf", "app.ovf" },
		{ "disk-small.vmdk", "disk-small.vmdk" },
		{ "disk-big.vmdk", "disk-big.vmdk" },
		{ "disk-mid.vmdk", "disk-mid.vmdk" },
		{ "app.mf", "app.ovf" },
	};
	static const struct {
		const char *ext;
		add_filter_fn filter;
	} filters[] = {
		{ "gz", archive_write_add_filter_gzip },
		{ "bz2", archive_write_add_filter_bzip2 },
		{ "xz", archive_write_add_filter_xz },
		{ "zst", archive_write_add_filter_zstd },
	};
	unsigned char zero_head[1536] = { 0 };
	char *name, *path;
	size_t i, len;
	unsigned char *data;

	make_file("plain.bin", PLAIN_LEN, 1, NULL, 0, 0);
	make_file("small.bin", 70000, 2, NULL, 0, 0);
	make_file("empty.bin", 0, 0, NULL, 0, 0);
	make_file("name with space.bin", 5000, 3, NULL, 0, 0);
	/* A raw image starting with zero sectors: libarchive's tar reader
	 * would bid on it as an empty archive. */
	make_file("zeros-head.img", 200000, 4, (const char *)zero_head, 0, sizeof(zero_head));
	make_file("app.ovf", 600, 5, "<?xml", 0, 5);
	make_file("disk-small.vmdk", 65536, 6, "KDMV", 0, 4);
	make_file("disk-big.vmdk", 3 * MIB / 2, 8, "KDMV", 0, 4);
	make_file("disk-mid.vmdk", MIB / 2, 9, "KDMV", 0, 4);
	make_file("fmt.qcow2", 40960, 10, "QFI\xfb", 0, 4);
	make_file("fmt.vmdk", 40960, 11, "KDMV", 0, 4);
	make_file("fmt-desc.vmdk", 40960, 12, "# Disk DescriptorFile", 0, 21);
	make_file("fmt.vhdx", 40960, 13, "vhdxfile", 0, 8);
	make_file("fmt.vdi", 40960, 14, "<<< Oracle VM VirtualBox Disk Image >>>\n", 0, 40);
	patch_file("fmt.vdi", 0x40, "\x7f\x10\xda\xbe", 4);
	make_file("fmt.iso", 40960, 15, "\x01" "CD001", 0x8000, 6);
	make_file("fmt.raw", 40960, 16, "\0\0\0\0", 0, 4);
	make_file("fmt-short.raw", 3, 17, NULL, 0, 0);
	make_sparse();

	for (i = 0; i < N_ELEMS(filters); i++) {
		name = mkt_asprintf("plain.bin.%s", filters[i].ext);
		write_archive(name, filters[i].filter, 1, plain, 1);
		free(name);
	}
	write_archive("zeros-head.img.gz", archive_write_add_filter_gzip, 1, zeros, 1);
	write_archive("fmt.qcow2.gz", archive_write_add_filter_gzip, 1,
		      (const member[]){ { "data", "fmt.qcow2" } }, 1);
	write_archive("plain.tar", NULL, 0, tar, 1);
	write_archive("plain.tar.gz", archive_write_add_filter_gzip, 0, tar, 1);
	write_archive("plain.tar.xz", archive_write_add_filter_xz, 0, tar, 1);
	write_archive("several.tar", NULL, 0, several, N_ELEMS(several));
	write_archive("readme.tar", NULL, 0, readme, N_ELEMS(readme));
	write_archive("app.ova", NULL, 0, ova, N_ELEMS(ova));
	write_archive("meta.tar", NULL, 0, (const member[]){ { "app.ovf", "app.ovf" } }, 1);
	write_archive("empty.bin.gz", archive_write_add_filter_gzip, 1,
		      (const member[]){ { "data", "empty.bin" } }, 1);

	/* A gzip stream cut in the middle. */
	path = fixture("plain.bin.gz");
	data = read_all(path, &len);
	free(path);
	path = fixture("truncated.gz");
	write_all(path, data, len / 2);
	free(path);
	free(data);
}

/* ---------------------------------------------------------------- httpd */

static const char *script_path(void)
{
	static char path[PATH_MAX];
	const char *src = getenv("MKT_SRCDIR");

	if (src)
		snprintf(path, sizeof(path), "%s/test/unit/common/transfer_httpd.py", src);
	else
		snprintf(path, sizeof(path), "%.*s/transfer_httpd.py",
			 (int)(strrchr(__FILE__, '/') - __FILE__), __FILE__);
	return path;
}

static int httpd_start(void)
{
	char *portfile = path_in(topdir, "httpd.port");
	FILE *f = NULL;
	int i;

	fflush(NULL);   /* the child must not flush our buffers again */
	snprintf(httpd_log, sizeof(httpd_log), "%s/httpd.log", topdir);
	if ((httpd_pid = fork()) == 0) {
		/* Die with the suite, even if it crashes (stderr stays, for
		 * Python's errors). */
		int null = open("/dev/null", O_RDWR);

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		dup2(null, STDIN_FILENO);
		dup2(null, STDOUT_FILENO);
		execlp("python3", "python3", script_path(), srcdir, portfile, httpd_log, (char *)NULL);
		_exit(127);
	}
	for (i = 0; i < 200 && !(f = fopen(portfile, "r")); i++)
		usleep(50000);
	free(portfile);
	if (!f || fscanf(f, "%d", &httpd_port) != 1) {
		if (f)
			fclose(f);
		return -1;
	}
	fclose(f);
	return 0;
}

static void httpd_stop(void)
{
	if (httpd_pid > 0) {
		kill(httpd_pid, SIGTERM);
		waitpid(httpd_pid, NULL, 0);
		httpd_pid = -1;
	}
}

static char *httpd_requests(void)
{
	size_t len;

	return (char *)read_all(httpd_log, &len);
}

static int count_lines(const char *log, const char *needle)
{
	int n = 0;

	for (; (log = strstr(log, needle)); log++)
		n++;
	return n;
}

/* ---------------------------------------------------------- local cases */

START_TEST(test_copy_local)
{
	mkt_transfer_result res;
	char *src = fixture("plain.bin"), *dir;
	char *target = run_ok(src, 0, &res, &dir);
	struct stat st;
	mode_t mask = umask(0);

	umask(mask);
	assert_same_file(src, target);
	assert_digests(&res, src);
	assert_out_digests(&res, src);
	ck_assert_uint_eq(res.bytes_in, PLAIN_LEN);
	ck_assert_uint_eq(res.bytes_out, PLAIN_LEN);
	ck_assert_str_eq(res.format, "raw");
	ck_assert_int_eq(stat(target, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0666 & ~mask);
	free(src);
	free(target);
	free(dir);
}
END_TEST

START_TEST(test_copy_empty)
{
	mkt_transfer_result res;
	char *src = fixture("empty.bin"), *dir;
	char *target = run_ok(src, 1, &res, &dir);

	assert_same_file(src, target);
	ck_assert_str_eq(res.md5, "d41d8cd98f00b204e9800998ecf8427e");
	ck_assert_uint_eq(res.bytes_in, 0);
	ck_assert_str_eq(res.format, "raw");
	free(src);
	free(target);
	free(dir);
}
END_TEST

START_TEST(test_file_url)
{
	mkt_transfer_result res;
	char *src = fixture("name with space.bin"), *dir;
	char *u = mkt_asprintf("file://%s/name%%20with%%20space.bin", srcdir);
	char *target = run_ok(u, 0, &res, &dir);

	assert_same_file(src, target);
	assert_digests(&res, src);
	free(u);
	free(src);
	free(target);
	free(dir);
}
END_TEST

static const char *const compressed[] = { "gz", "bz2", "xz", "zst" };

START_TEST(test_unpack_compressed)
{
	mkt_transfer_result res;
	char *name = mkt_asprintf("plain.bin.%s", compressed[_i]);
	char *src = fixture(name), *plain = fixture("plain.bin"), *dir;
	char *target = run_ok(src, 1, &res, &dir);
	struct stat st;

	assert_same_file(plain, target);
	/* Digests and bytes_in are those of the compressed source, the
	 * _out digests those of what was written. */
	assert_digests(&res, src);
	assert_out_digests(&res, plain);
	ck_assert_int_eq(stat(src, &st), 0);
	ck_assert_uint_eq(res.bytes_in, (uint64_t)st.st_size);
	ck_assert_uint_eq(res.bytes_out, PLAIN_LEN);
	free(name);
	free(src);
	free(plain);
	free(target);
	free(dir);
}
END_TEST

START_TEST(test_compressed_no_unpack)
{
	mkt_transfer_result res;
	char *src = fixture("plain.bin.xz"), *dir;
	char *target = run_ok(src, 0, &res, &dir);

	assert_same_file(src, target);
	assert_digests(&res, src);
	free(src);
	free(target);
	free(dir);
}
END_TEST

static const char *const tars[] = { "plain.tar", "plain.tar.gz", "plain.tar.xz" };

START_TEST(test_unpack_tar)
{
	mkt_transfer_result res;
	char *src = fixture(tars[_i]), *plain = fixture("plain.bin"), *dir;
	char *target = run_ok(src, 1, &res, &dir);

	assert_same_file(plain, target);
	assert_digests(&res, src);
	assert_out_digests(&res, plain);
	free(src);
	free(plain);
	free(target);
	free(dir);
}
END_TEST

START_TEST(test_unpack_ova_largest)
{
	mkt_transfer_result res;
	char *src = fixture("app.ova"), *disk = fixture("disk-big.vmdk"), *dir;
	char *target = run_ok(src, 1, &res, &dir);

	assert_same_file(disk, target);
	assert_digests(&res, src);
	assert_out_digests(&res, disk);
	ck_assert_str_eq(res.format, "vmdk");
	ck_assert_uint_eq(res.bytes_out, 3 * MIB / 2);
	free(src);
	free(disk);
	free(target);
	free(dir);
}
END_TEST

START_TEST(test_unpack_tar_prefers_disk)
{
	mkt_transfer_result res;
	char *src = fixture("readme.tar"), *disk = fixture("small.bin"), *dir;
	char *target = run_ok(src, 1, &res, &dir);

	/* disk.raw is smaller than README but is the image by its name. */
	assert_same_file(disk, target);
	free(src);
	free(disk);
	free(target);
	free(dir);
}
END_TEST

static const struct {
	const char *file;
	const char *error;
} bad_archives[] = {
	{ "several.tar", "the archive holds 2 files and no disk image" },
	{ "meta.tar", "no regular file in the archive" },
	{ "truncated.gz", "cannot unpack" },
};

START_TEST(test_unpack_errors)
{
	char *dir = outdir();
	char *src = fixture(bad_archives[_i].file), *target = path_in(dir, "image");
	mkt_transfer_opts o = { .source = src, .target = target, .unpack = 1 };

	assert_failed(mkt_transfer_run(&o, NULL), MKT_EINVAL, bad_archives[_i].error);
	ck_assert_ptr_nonnull(strstr(mkt_error_message(), src));
	ck_assert_int_ne(access(target, F_OK), 0);
	ck_assert_int_eq(count_parts(dir), 0);
	free(src);
	free(target);
	free(dir);
}
END_TEST

/* Content that only looks like something else passes unchanged. */
static const char *const passthrough[] = { "fmt.qcow2", "zeros-head.img", "fmt.iso", "fmt-short.raw" };

START_TEST(test_unpack_passthrough)
{
	mkt_transfer_result res;
	char *src = fixture(passthrough[_i]), *dir;
	char *target = run_ok(src, 1, &res, &dir);

	assert_same_file(src, target);
	assert_digests(&res, src);
	assert_out_digests(&res, src);
	free(src);
	free(target);
	free(dir);
}
END_TEST

START_TEST(test_unpack_gz_of_zero_head)
{
	mkt_transfer_result res;
	char *src = fixture("zeros-head.img.gz"), *img = fixture("zeros-head.img"), *dir;
	char *target = run_ok(src, 1, &res, &dir);

	assert_same_file(img, target);
	free(src);
	free(img);
	free(target);
	free(dir);
}
END_TEST

START_TEST(test_unpack_gz_qcow2)
{
	mkt_transfer_result res;
	char *src = fixture("fmt.qcow2.gz"), *img = fixture("fmt.qcow2"), *dir;
	char *target = run_ok(src, 1, &res, &dir);

	assert_same_file(img, target);
	ck_assert_str_eq(res.format, "qcow2");
	free(src);
	free(img);
	free(target);
	free(dir);
}
END_TEST

START_TEST(test_unpack_empty_gz)
{
	mkt_transfer_result res;
	char *src = fixture("empty.bin.gz"), *dir;
	char *target = run_ok(src, 1, &res, &dir);
	struct stat st;

	ck_assert_int_eq(stat(target, &st), 0);
	ck_assert_int_eq(st.st_size, 0);
	free(src);
	free(target);
	free(dir);
}
END_TEST

static const struct {
	const char *file;
	const char *format;
} formats[] = {
	{ "fmt.qcow2", "qcow2" },
	{ "fmt.vmdk", "vmdk" },
	{ "fmt-desc.vmdk", "vmdk" },
	{ "fmt.vhdx", "vhdx" },
	{ "fmt.vdi", "vdi" },
	{ "fmt.iso", "iso" },
	{ "fmt.raw", "raw" },
	{ "fmt-short.raw", "raw" },
	{ "plain.bin.gz", "raw" },
};

START_TEST(test_format_sniff)
{
	mkt_transfer_result res;
	char *src = fixture(formats[_i].file), *dir;
	char *target = run_ok(src, 0, &res, &dir);

	ck_assert_str_eq(res.format, formats[_i].format);
	free(src);
	free(target);
	free(dir);
}
END_TEST

START_TEST(test_expect_md5)
{
	mkt_transfer_result res;
	char *dir = outdir();
	char *src = fixture("plain.bin"), *target = path_in(dir, "image");
	char md5[33], upper[33];
	mkt_transfer_opts o = { .source = src, .target = target, .expect_md5 = upper };
	size_t i;

	digest_hex(src, EVP_md5(), md5);
	for (i = 0; i < sizeof(md5); i++)
		upper[i] = (char)toupper((unsigned char)md5[i]);
	ck_assert_msg(mkt_transfer_run(&o, &res) == 0, "%s", mkt_error_message());
	ck_assert_str_eq(res.md5, md5);
	assert_same_file(src, target);
	free(src);
	free(target);
	free(dir);
}
END_TEST

START_TEST(test_expect_md5_mismatch)
{
	char *dir = outdir();
	char *src = fixture("plain.bin.gz"), *target = path_in(dir, "image");
	mkt_transfer_opts o = {
		.source = src, .target = target, .unpack = 1,
		.expect_md5 = "0123456789abcdef0123456789abcdef",
	};
	char want[128], md5[33];

	digest_hex(src, EVP_md5(), md5);
	snprintf(want, sizeof(want), "checksum mismatch: expected 0123456789abcdef0123456789abcdef, got %s", md5);
	assert_failed(mkt_transfer_run(&o, NULL), MKT_EINVAL, want);
	ck_assert_int_ne(access(target, F_OK), 0);
	ck_assert_int_eq(count_parts(dir), 0);
	free(src);
	free(target);
	free(dir);
}
END_TEST

START_TEST(test_expect_md5_invalid)
{
	mkt_transfer_opts o = { .source = "/nonexistent", .target = "/nonexistent", .expect_md5 = "abc" };

	assert_failed(mkt_transfer_run(&o, NULL), MKT_EINVAL, "is not an md5 digest");
}
END_TEST

/* ------------------------------------------------------ write callback */

/* What a test writer received, and when it should fail. */
typedef struct {
	unsigned char *data;
	size_t len;
	size_t calls;
	size_t fail_after;      /* fail the call that passes this many bytes; 0 never */
} collector;

static int collect(void *ud, const unsigned char *p, size_t n)
{
	collector *c = ud;

	c->calls++;
	if (c->fail_after && c->len + n > c->fail_after)
		return mkt_error_set(MKT_ERROR, MKT_ERR_OS, "upload refused by the test writer");
	c->data = mkt_realloc(c->data, c->len + n);
	memcpy(c->data + c->len, p, n);
	c->len += n;
	return 0;
}

/* Every byte reaches the writer, in order, digested and sniffed like a
 * file target, and no file is created anywhere. */
START_TEST(test_write_callback)
{
	mkt_transfer_result res;
	collector c = { 0 };
	char *src = fixture("plain.bin");
	mkt_transfer_opts o = { .source = src, .write = collect, .write_ud = &c };
	unsigned char *want;
	size_t want_len;

	ck_assert_msg(mkt_transfer_run(&o, &res) == 0, "%s", mkt_error_message());
	want = read_all(src, &want_len);
	ck_assert_uint_eq(c.len, want_len);
	ck_assert_int_eq(memcmp(c.data, want, want_len), 0);
	ck_assert_uint_gt(c.calls, 1);
	assert_digests(&res, src);
	assert_out_digests(&res, src);
	ck_assert_uint_eq(res.bytes_out, PLAIN_LEN);
	ck_assert_str_eq(res.format, "raw");
	free(want);
	free(c.data);
	free(src);
}
END_TEST

/* Unpacking feeds the writer the unpacked bytes. */
START_TEST(test_write_callback_unpack)
{
	mkt_transfer_result res;
	collector c = { 0 };
	char *src = fixture("plain.bin.gz"), *plain = fixture("plain.bin");
	mkt_transfer_opts o = { .source = src, .unpack = 1, .write = collect, .write_ud = &c };
	unsigned char *want;
	size_t want_len;

	ck_assert_msg(mkt_transfer_run(&o, &res) == 0, "%s", mkt_error_message());
	want = read_all(plain, &want_len);
	ck_assert_uint_eq(c.len, want_len);
	ck_assert_int_eq(memcmp(c.data, want, want_len), 0);
	assert_out_digests(&res, plain);
	free(want);
	free(c.data);
	free(src);
	free(plain);
}
END_TEST

/* The writer's error is the transfer's, unchanged. */
START_TEST(test_write_callback_fails)
{
	collector c = { .fail_after = 2 * MIB };
	char *src = fixture("plain.bin");
	mkt_transfer_opts o = { .source = src, .write = collect, .write_ud = &c };

	assert_failed(mkt_transfer_run(&o, NULL), MKT_ERROR, "upload refused by the test writer");
	ck_assert_uint_le(c.len, 2 * MIB);
	free(c.data);
	free(src);
}
END_TEST

/* A checksum mismatch fails after the writer got everything: the caller
 * must not commit. */
START_TEST(test_write_callback_md5_mismatch)
{
	collector c = { 0 };
	char *src = fixture("plain.bin");
	mkt_transfer_opts o = {
		.source = src, .write = collect, .write_ud = &c,
		.expect_md5 = "0123456789abcdef0123456789abcdef",
	};

	assert_failed(mkt_transfer_run(&o, NULL), MKT_EINVAL, "checksum mismatch");
	free(c.data);
	free(src);
}
END_TEST

/* A failed transfer leaves an existing target alone; a good one replaces it. */
START_TEST(test_replace_target)
{
	char *dir = outdir();
	char *src = fixture("small.bin"), *target = path_in(dir, "image");
	mkt_transfer_opts o = { .source = src, .target = target, .expect_md5 = "00000000000000000000000000000000" };
	size_t len;
	unsigned char *data;

	write_all(target, "old", 3);
	assert_failed(mkt_transfer_run(&o, NULL), MKT_EINVAL, "checksum mismatch");
	data = read_all(target, &len);
	ck_assert_uint_eq(len, 3);
	free(data);
	o.expect_md5 = NULL;
	ck_assert_int_eq(mkt_transfer_run(&o, NULL), 0);
	assert_same_file(src, target);
	ck_assert_int_eq(count_parts(dir), 0);
	free(src);
	free(target);
	free(dir);
}
END_TEST

START_TEST(test_missing_source)
{
	char *dir = outdir();
	char *src = fixture("no-such-file"), *target = path_in(dir, "image");
	mkt_transfer_opts o = { .source = src, .target = target };
	char want[PATH_MAX + 64];

	snprintf(want, sizeof(want), "cannot read %s: No such file or directory", src);
	assert_failed(mkt_transfer_run(&o, NULL), MKT_ENOTFOUND, want);
	ck_assert_int_ne(access(target, F_OK), 0);
	ck_assert_int_eq(count_parts(dir), 0);
	free(src);
	free(target);
	free(dir);
}
END_TEST

START_TEST(test_bad_scheme)
{
	mkt_transfer_opts o = { .source = "ftp://example.com/x", .target = "/nonexistent/x" };

	assert_failed(mkt_transfer_run(&o, NULL), MKT_EINVAL, "cannot read ftp://example.com/x: unsupported URL scheme");
}
END_TEST

/* Targets that cannot be written, each with the error it must give. */
static const struct {
	const char *target;     /* under the output directory unless absolute */
	const char *error;
} bad_targets[] = {
	{ "missing-dir/image", "No such file or directory" },
	{ "a-file/image", "Not a directory" },
	{ "a-dir", "Is a directory" },          /* fails at the final rename */
	{ "/proc/self/image", "cannot write /proc/self/image: " },
};

START_TEST(test_bad_target)
{
	char *dir = outdir();
	char *src = fixture("small.bin"), *afile = path_in(dir, "a-file"), *adir = path_in(dir, "a-dir");
	char *target = bad_targets[_i].target[0] == '/' ? mkt_strdup(bad_targets[_i].target) :
		       path_in(dir, bad_targets[_i].target);
	mkt_transfer_opts o = { .source = src, .target = target };
	char want[PATH_MAX + 64];

	write_all(afile, "x", 1);
	ck_assert_int_eq(mkdir(adir, 0755), 0);
	snprintf(want, sizeof(want), "cannot write %s: ", target);
	/* Whatever errno says, the target is not "not found" (the source
	 * is what MKT_ENOTFOUND is about). */
	assert_failed(mkt_transfer_run(&o, NULL), MKT_ERROR, bad_targets[_i].error);
	ck_assert_ptr_nonnull(strstr(mkt_error_message(), want));
	ck_assert_int_eq(count_parts(dir), 0);
	free(src);
	free(afile);
	free(adir);
	free(target);
	free(dir);
}
END_TEST

/* A write that fails half-way (the file size limit stands in for a full
 * disk) removes the temporary file. */
START_TEST(test_write_fails_midway)
{
	char *dir = outdir();
	char *src = fixture("plain.bin"), *target = path_in(dir, "image");
	mkt_transfer_opts o = { .source = src, .target = target };
	struct rlimit lim = { MIB, MIB };
	char want[PATH_MAX + 64];

	signal(SIGXFSZ, SIG_IGN);
	ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &lim), 0);
	snprintf(want, sizeof(want), "cannot write %s: File too large", target);
	assert_failed(mkt_transfer_run(&o, NULL), MKT_ERROR, want);
	ck_assert_int_ne(access(target, F_OK), 0);
	ck_assert_int_eq(count_parts(dir), 0);
	free(src);
	free(target);
	free(dir);
}
END_TEST

START_TEST(test_stdout)
{
	char *dir = outdir();
	char *src = fixture("plain.bin.gz"), *plain = fixture("plain.bin"), *out = path_in(dir, "stdout");
	mkt_transfer_opts o = { .source = src, .target = "-", .unpack = 1 };
	mkt_transfer_result res;
	int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644), saved = dup(STDOUT_FILENO), ret;

	fflush(stdout);
	dup2(fd, STDOUT_FILENO);
	ret = mkt_transfer_run(&o, &res);
	dup2(saved, STDOUT_FILENO);
	close(saved);
	close(fd);
	ck_assert_msg(ret == 0, "%s", mkt_error_message());
	assert_same_file(plain, out);
	assert_digests(&res, src);
	assert_out_digests(&res, plain);
	ck_assert_uint_eq(res.bytes_out, PLAIN_LEN);
	ck_assert_int_eq(count_parts(dir), 0);
	free(src);
	free(plain);
	free(out);
	free(dir);
}
END_TEST

/* Standard output cannot take back a member for a better one. */
START_TEST(test_stdout_tar_order)
{
	char *src = fixture("readme.tar");
	mkt_transfer_opts o = { .source = src, .target = "-", .unpack = 1 };
	int fd = open("/dev/null", O_WRONLY), saved = dup(STDOUT_FILENO), ret;

	fflush(stdout);
	dup2(fd, STDOUT_FILENO);
	ret = mkt_transfer_run(&o, NULL);
	dup2(saved, STDOUT_FILENO);
	close(saved);
	close(fd);
	assert_failed(ret, MKT_EINVAL, "disk.raw comes after README, already written to standard output");
	free(src);
}
END_TEST

START_TEST(test_stdout_full)
{
	char *src = fixture("small.bin");
	mkt_transfer_opts o = { .source = src, .target = "-" };
	int fd = open("/dev/full", O_WRONLY), saved = dup(STDOUT_FILENO), ret;

	ck_assert_int_ge(fd, 0);
	fflush(stdout);
	dup2(fd, STDOUT_FILENO);
	ret = mkt_transfer_run(&o, NULL);
	dup2(saved, STDOUT_FILENO);
	close(saved);
	close(fd);
	assert_failed(ret, MKT_ERROR, "cannot write standard output: No space left on device");
	free(src);
}
END_TEST

/* A device target is written in place (no temporary file beside it). */
START_TEST(test_device_target)
{
	char *src = fixture("plain.bin");
	mkt_transfer_opts o = { .source = src, .target = "/dev/null" };
	mkt_transfer_result res;
	struct stat st;

	ck_assert_msg(mkt_transfer_run(&o, &res) == 0, "%s", mkt_error_message());
	ck_assert_uint_eq(res.bytes_out, PLAIN_LEN);
	ck_assert_int_eq(stat("/dev/null", &st), 0);
	ck_assert(S_ISCHR(st.st_mode));
	free(src);
}
END_TEST

START_TEST(test_sparse)
{
	mkt_transfer_result res;
	char *src = fixture("sparse.img"), *dir;
	char *target = run_ok(src, 1, &res, &dir);
	struct stat st;

	assert_same_file(src, target);
	assert_digests(&res, src);
	ck_assert_int_eq(stat(target, &st), 0);
	ck_assert_int_eq(st.st_size, SPARSE_LEN);
	/* 4 KiB + 1 MiB + 1000 bytes of data: far less than 16 MiB. */
	ck_assert_msg((uint64_t)st.st_blocks * 512 <= 2 * MIB,
		      "%lld bytes allocated", (long long)st.st_blocks * 512);
	free(src);
	free(target);
	free(dir);
}
END_TEST

/* "tar --sparse -cf <name>.tar <name>" of a fixture, by GNU tar: its
 * sparse members are what the transfer must give their logical size. */
static char *make_sparse_tar(const char *name)
{
	char *tar = mkt_asprintf("%s/%s.tar", srcdir, name);
	pid_t pid;
	int status;

	if (access(tar, F_OK) == 0)
		return tar;
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		execlp("tar", "tar", "--sparse", "-C", srcdir, "-cf", tar, name, (char *)NULL);
		_exit(127);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "tar --sparse failed");
	return tar;
}

/* A file of @len zero bytes, all of it a hole. */
static char *make_zeros(const char *name, off_t len)
{
	char *path = fixture(name);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(ftruncate(fd, len), 0);
	close(fd);
	return path;
}

static const struct {
	const char *file;
	off_t zeros;            /* make it: all zeros, this long; 0: a fixture */
} sparse_tars[] = {
	{ "zeros-10m.img", 10 * MIB },
	{ "sparse.img", 0 },    /* data, holes between and at the end */
};

START_TEST(test_unpack_sparse_tar)
{
	mkt_transfer_result res;
	char *file = sparse_tars[_i].zeros ? make_zeros(sparse_tars[_i].file, sparse_tars[_i].zeros)
					   : fixture(sparse_tars[_i].file);
	char *tar = make_sparse_tar(sparse_tars[_i].file), *dir;
	char *target = run_ok(tar, 1, &res, &dir);
	struct stat src_st, st;

	ck_assert_int_eq(stat(file, &src_st), 0);
	ck_assert_int_eq(stat(target, &st), 0);
	ck_assert_int_eq(st.st_size, src_st.st_size);
	ck_assert_uint_eq(res.bytes_out, (uint64_t)src_st.st_size);
	assert_same_file(file, target);
	assert_out_digests(&res, file);
	ck_assert_msg((uint64_t)st.st_blocks * 512 <= 2 * MIB,
		      "%lld bytes allocated: the holes were written", (long long)st.st_blocks * 512);
	free(file);
	free(tar);
	free(target);
	free(dir);
}
END_TEST

/* A gzip bomb in miniature: 8 MiB of zeros in a few KiB. */
START_TEST(test_max_size)
{
	char *zeros = make_zeros("zeros-8m.img", 8 * MIB), *dir = outdir();
	char *bomb = fixture("zeros-8m.img.gz"), *target = path_in(dir, "image");
	char *plain = fixture("plain.bin");
	mkt_transfer_opts o = { .source = bomb, .target = target, .unpack = 1, .max_size = MIB };
	mkt_transfer_result res;

	write_archive("zeros-8m.img.gz", archive_write_add_filter_gzip, 1,
		      (const member[]){ { "data", "zeros-8m.img" } }, 1);
	assert_failed(mkt_transfer_run(&o, NULL), MKT_EINVAL, "more than MAX_IMAGE_SIZE (1 MiB)");
	ck_assert_int_eq(access(target, F_OK), -1);
	ck_assert_int_eq(count_parts(dir), 0);
	/* A plain copy is capped too. */
	o.source = plain;
	o.max_size = PLAIN_LEN - 1;
	assert_failed(mkt_transfer_run(&o, NULL), MKT_EINVAL, "MAX_IMAGE_SIZE");
	ck_assert_int_eq(count_parts(dir), 0);
	/* Exactly the limit is allowed. */
	o.max_size = PLAIN_LEN;
	ck_assert_msg(mkt_transfer_run(&o, &res) == 0, "%s", mkt_error_message());
	ck_assert_uint_eq(res.bytes_out, PLAIN_LEN);
	free(zeros);
	free(bomb);
	free(plain);
	free(target);
	free(dir);
}
END_TEST

START_TEST(test_reserve)
{
	char *dir = outdir(), *target = path_in(dir, "image"), *src = fixture("plain.bin");
	mkt_transfer_opts o = { .source = src, .target = target, .reserve = 1ULL << 62 };

	assert_failed(mkt_transfer_run(&o, NULL), MKT_ERROR, "MiB reserved");
	ck_assert_int_eq(access(target, F_OK), -1);
	ck_assert_int_eq(count_parts(dir), 0);
	o.reserve = 1;
	ck_assert_msg(mkt_transfer_run(&o, NULL) == 0, "%s", mkt_error_message());
	free(src);
	free(target);
	free(dir);
}
END_TEST

typedef struct {
	const char *fifo;
	const char *dir;
	int beside;             /* temporary files seen beside the target */
	int hidden;             /* in .marketd-tmp, and locked */
	int mode;               /* of .marketd-tmp */
} tmp_seen;

/* Feed the transfer through a FIFO and look at its temporary file while it
 * waits for the rest. */
static void *feed_and_look(void *ud)
{
	tmp_seen *t = ud;
	char *hidden = path_in(t->dir, ".marketd-tmp");
	unsigned char data[8192] = { 1 };
	int fd = open(t->fifo, O_WRONLY), tries;
	struct stat st;

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, data, sizeof(data)), (ssize_t)sizeof(data));
	for (tries = 0; tries < 500 && !t->hidden; tries++) {
		DIR *d = opendir(hidden);
		struct dirent *e;

		while (d && (e = readdir(d))) {
			char *path = path_in(hidden, e->d_name);
			int tfd = strstr(e->d_name, ".part.") ? open(path, O_RDONLY) : -1;

			if (tfd >= 0 && flock(tfd, LOCK_EX | LOCK_NB) < 0 && errno == EWOULDBLOCK)
				t->hidden++;
			if (tfd >= 0)
				close(tfd);
			free(path);
		}
		if (d)
			closedir(d);
		usleep(10000);
	}
	t->beside = count_parts(t->dir);
	t->mode = stat(hidden, &st) == 0 ? (int)(st.st_mode & 0777) : -1;
	ck_assert_int_eq(write(fd, data, sizeof(data)), (ssize_t)sizeof(data));
	close(fd);
	free(hidden);
	return NULL;
}

START_TEST(test_private_tmp)
{
	char *dir = outdir(), *target = path_in(dir, "image"), *fifo = path_in(dir, "fifo");
	char *hidden = path_in(dir, ".marketd-tmp"), *plain = fixture("plain.bin");
	tmp_seen seen = { .fifo = fifo, .dir = dir };
	mkt_transfer_opts o = { .source = fifo, .target = target, .private_tmp = 1 };
	mkt_transfer_result res;
	pthread_t feeder;
	struct stat st;

	ck_assert_int_eq(mkfifo(fifo, 0600), 0);
	ck_assert_int_eq(pthread_create(&feeder, NULL, feed_and_look, &seen), 0);
	ck_assert_msg(mkt_transfer_run(&o, &res) == 0, "%s", mkt_error_message());
	pthread_join(feeder, NULL);
	ck_assert_uint_eq(res.bytes_out, 16384);
	ck_assert_int_eq(seen.beside, 0);
	ck_assert_int_eq(seen.hidden, 1);
	ck_assert_int_eq(seen.mode, 0700);
	/* Removed once empty again, a failure's too. */
	ck_assert_int_eq(stat(hidden, &st), -1);
	o.source = plain;
	o.max_size = 1;
	ck_assert_int_eq(mkt_transfer_run(&o, NULL), MKT_EINVAL);
	ck_assert_int_eq(stat(hidden, &st), -1);
	free(plain);
	free(hidden);
	free(fifo);
	free(target);
	free(dir);
}
END_TEST

typedef struct {
	int files;
	uint64_t bytes;
} swept;

static void on_swept(void *ud, const char *path, uint64_t size, uint64_t allocated)
{
	swept *sw = ud;

	(void)allocated;
	ck_assert_ptr_nonnull(strstr(path, ".part."));
	sw->files++;
	sw->bytes += size;
}

static char *leftover(const char *dir, const char *name, size_t len, int old)
{
	char *path = path_in(dir, name);
	unsigned char *data = mkt_calloc(1, len);
	struct timeval tv[2] = { { time(NULL) - 3600, 0 }, { time(NULL) - 3600, 0 } };

	write_all(path, data, len);
	if (old)
		ck_assert_int_eq(utimes(path, tv), 0);
	free(data);
	return path;
}

START_TEST(test_sweep)
{
	char *dir = outdir(), *hidden = path_in(dir, ".marketd-tmp");
	char *dead, *alive, *old_layout, *young, *image, *other;
	swept sw = { 0 };
	int fd;

	ck_assert_int_eq(mkdir(hidden, 0700), 0);
	dead = leftover(hidden, "image.part.ABCDEF", 1000, 1);
	alive = leftover(hidden, "image2.part.GHIJKL", 10, 1);
	old_layout = leftover(dir, "image3.part.MNOPQR", 2000, 1);
	young = leftover(hidden, "image4.part.STUVWX", 10, 0);
	image = leftover(dir, "image", 10, 1);
	other = leftover(dir, "notes.part.AB", 10, 1);
	/* A transfer still writing holds the lock (another open file
	 * description, as another process's would be). */
	fd = open(alive, O_RDONLY);
	ck_assert_int_eq(flock(fd, LOCK_EX | LOCK_NB), 0);

	ck_assert_int_eq(mkt_transfer_sweep(dir, 60, on_swept, &sw), 0);
	ck_assert_int_eq(sw.files, 2);
	ck_assert_uint_eq(sw.bytes, 3000);
	ck_assert_int_eq(access(dead, F_OK), -1);
	ck_assert_int_eq(access(old_layout, F_OK), -1);
	ck_assert_int_eq(access(alive, F_OK), 0);
	ck_assert_int_eq(access(young, F_OK), 0);
	ck_assert_int_eq(access(image, F_OK), 0);
	ck_assert_int_eq(access(other, F_OK), 0);

	close(fd);      /* the writer died */
	memset(&sw, 0, sizeof(sw));
	ck_assert_int_eq(mkt_transfer_sweep(dir, 60, on_swept, &sw), 0);
	ck_assert_int_eq(sw.files, 1);
	ck_assert_int_eq(access(alive, F_OK), -1);
	ck_assert_int_eq(access(young, F_OK), 0);
	ck_assert_int_eq(mkt_transfer_sweep(dir, 0, NULL, NULL), 0);
	ck_assert_int_eq(access(young, F_OK), -1);
	/* The empty directory goes too. */
	ck_assert_int_eq(access(hidden, F_OK), -1);
	/* Nothing to sweep where there is no directory. */
	ck_assert_int_eq(mkt_transfer_sweep(hidden, 0, NULL, NULL), 0);
	free(dead);
	free(alive);
	free(old_layout);
	free(young);
	free(image);
	free(other);
	free(hidden);
	free(dir);
}
END_TEST

typedef struct {
	int calls;
	uint64_t last_done;
	uint64_t last_total;
	int decreasing;
	int bad_total;
	uint64_t size;
} progress_log;

static void on_progress(void *ud, uint64_t done, uint64_t total)
{
	progress_log *p = ud;

	if (done < p->last_done)
		p->decreasing = 1;
	if (total != 0 && total != p->size)
		p->bad_total = 1;
	p->calls++;
	p->last_done = done;
	p->last_total = total;
}

static void check_progress(const char *source, uint64_t size)
{
	char *dir = outdir(), *target = path_in(dir, "image");
	progress_log p = { .size = size };
	mkt_transfer_opts o = { .source = source, .target = target, .progress = on_progress, .progress_ud = &p };

	ck_assert_msg(mkt_transfer_run(&o, NULL) == 0, "%s", mkt_error_message());
	ck_assert_int_ge(p.calls, 2);
	ck_assert_int_eq(p.decreasing, 0);
	ck_assert_int_eq(p.bad_total, 0);
	ck_assert_uint_eq(p.last_done, size);
	ck_assert_uint_eq(p.last_total, size);
	free(target);
	free(dir);
}

START_TEST(test_progress)
{
	char *src = fixture("plain.bin");

	check_progress(src, PLAIN_LEN);
	free(src);
}
END_TEST

static void cancel_on_progress(void *ud, uint64_t done, uint64_t total)
{
	*(volatile int *)ud = 1;
}

START_TEST(test_cancel_local)
{
	char *dir = outdir();
	char *src = fixture("plain.bin.gz"), *target = path_in(dir, "image");
	volatile int cancel = 0;
	mkt_transfer_opts o = {
		.source = src, .target = target, .unpack = 1,
		.progress = cancel_on_progress, .progress_ud = (void *)&cancel, .cancel = &cancel,
	};

	assert_failed(mkt_transfer_run(&o, NULL), MKT_ERROR, "cancelled");
	ck_assert_int_ne(access(target, F_OK), 0);
	ck_assert_int_eq(count_parts(dir), 0);
	free(src);
	free(target);
	free(dir);
}
END_TEST

START_TEST(test_probe_local)
{
	char *src = fixture("plain.bin"), *missing = fixture("no-such-file");
	uint64_t size = 1;

	ck_assert_int_eq(mkt_transfer_probe(src, &size), 0);
	ck_assert_uint_eq(size, PLAIN_LEN);
	assert_failed(mkt_transfer_probe(missing, &size), MKT_ENOTFOUND, "No such file or directory");
	ck_assert_uint_eq(size, 0);
	free(src);
	free(missing);
}
END_TEST

/* Only a plain local file is opened, and a FIFO is not touched: opening
 * it would block (no writer) or take the writer the transfer is to read. */
START_TEST(test_open_file)
{
	char *src = fixture("plain.bin"), *file_url = mkt_asprintf("file://%s", src);
	char *dir = outdir(), *fifo = path_in(dir, "fifo"), *missing = fixture("no-such-file");
	struct stat st;
	int fd;

	fd = mkt_transfer_open_file(src);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(fstat(fd, &st), 0);
	ck_assert_int_eq(st.st_size, PLAIN_LEN);
	close(fd);
	fd = mkt_transfer_open_file(file_url);
	ck_assert_int_ge(fd, 0);
	close(fd);
	ck_assert_int_eq(mkfifo(fifo, 0600), 0);
	ck_assert_int_eq(mkt_transfer_open_file(fifo), -1);     /* returns: did not wait */
	ck_assert_int_eq(mkt_transfer_open_file(dir), -1);
	ck_assert_int_eq(mkt_transfer_open_file(missing), -1);
	ck_assert_int_eq(mkt_transfer_open_file("http://127.0.0.1:1/plain.bin"), -1);
	ck_assert_int_eq(mkt_transfer_open_file(NULL), -1);
	ck_assert_int_eq(mkt_error_last()->code, 0);
	free(src);
	free(file_url);
	free(dir);
	free(fifo);
	free(missing);
}
END_TEST

/* ----------------------------------------------------------- HTTP cases */

static void http_ok(const char *query, const char *fixture_name, const char *expect_name,
		    int unpack, mkt_transfer_result *res)
{
	char *u = url(query), *dir;
	char *src = fixture(fixture_name), *expect = fixture(expect_name);
	char *target = run_ok(u, unpack, res, &dir);

	assert_same_file(expect, target);
	assert_digests(res, src);
	free(u);
	free(src);
	free(expect);
	free(target);
	free(dir);
}

START_TEST(test_http_plain)
{
	mkt_transfer_result res;

	http_ok("plain.bin", "plain.bin", "plain.bin", 0, &res);
	ck_assert_uint_eq(res.bytes_in, PLAIN_LEN);
}
END_TEST

START_TEST(test_http_resume_after_drop)
{
	mkt_transfer_result res;
	char *log;

	http_ok("plain.bin?drop=1000000&id=resume", "plain.bin", "plain.bin", 0, &res);
	log = httpd_requests();
	ck_assert_int_eq(count_lines(log, "GET /plain.bin?drop=1000000&id=resume "), 2);
	ck_assert_ptr_nonnull(strstr(log, "GET /plain.bin?drop=1000000&id=resume range=bytes=1000000- "));
	free(log);
}
END_TEST

START_TEST(test_http_resume_without_range)
{
	mkt_transfer_result res;

	/* The server answers the resume with the whole file again. */
	http_ok("plain.bin?drop=1500000&norange=1&id=norange", "plain.bin", "plain.bin", 0, &res);
	ck_assert_uint_eq(res.bytes_in, PLAIN_LEN);
}
END_TEST

START_TEST(test_http_resume_unpack)
{
	mkt_transfer_result res;

	http_ok("plain.tar.gz?drop=20000&id=targz", "plain.tar.gz", "plain.bin", 1, &res);
	ck_assert_uint_eq(res.bytes_out, PLAIN_LEN);
}
END_TEST

START_TEST(test_http_500_then_ok)
{
	mkt_transfer_result res;
	char *log;

	http_ok("small.bin?fail=1&id=500", "small.bin", "small.bin", 0, &res);
	log = httpd_requests();
	ck_assert_int_eq(count_lines(log, "GET /small.bin?fail=1&id=500 "), 2);
	free(log);
}
END_TEST

START_TEST(test_http_stall)
{
	char *dir = outdir(), *target = path_in(dir, "image");
	/* Headers, then nothing: curl averages speed over ~5 s, so bytes
	 * before the stall would only delay its detection. */
	char *u = url("plain.bin?stall=0&id=stall"), *src = fixture("plain.bin");
	mkt_transfer_opts o = { .source = u, .target = target, .stall_timeout = 1 };

	ck_assert_msg(mkt_transfer_run(&o, NULL) == 0, "%s", mkt_error_message());
	assert_same_file(src, target);
	free(u);
	free(src);
	free(target);
	free(dir);
}
END_TEST

START_TEST(test_http_too_slow)
{
	char *dir = outdir(), *target = path_in(dir, "image");
	char *u = url("plain.bin?trickle=100&id=slow"), *log;
	mkt_transfer_opts o = { .source = u, .target = target, .min_rate = 1024,
				.min_rate_window = 1 };
	struct timespec t0, t1;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_failed(mkt_transfer_run(&o, NULL), MKT_ERROR,
		      "transfer too slow: under 1024 bytes/s for 1 s");
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ck_assert_int_lt(t1.tv_sec - t0.tv_sec, 5);
	ck_assert_int_eq(count_parts(dir), 0);
	/* Given up, not resumed: a slower server would not get faster. */
	log = httpd_requests();
	ck_assert_int_eq(count_lines(log, "GET /plain.bin?trickle=100&id=slow "), 1);
	free(log);
	free(u);
	free(target);
	free(dir);
}
END_TEST

START_TEST(test_http_timeout)
{
	char *dir = outdir(), *target = path_in(dir, "image");
	/* Fast enough for any rate check, too slow to end in a second. */
	char *u = url("plain.bin?trickle=200000&id=late");
	mkt_transfer_opts o = { .source = u, .target = target, .timeout = 1, .min_rate = 1024 };
	struct timespec t0, t1;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_failed(mkt_transfer_run(&o, NULL), MKT_ERROR, "transfer took longer than 1 s");
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ck_assert_int_lt(t1.tv_sec - t0.tv_sec, 3);
	ck_assert_int_eq(count_parts(dir), 0);
	free(u);
	free(target);
	free(dir);
}
END_TEST

START_TEST(test_http_min_rate_met)
{
	char *dir = outdir(), *target = path_in(dir, "image");
	char *u = url("plain.bin"), *src = fixture("plain.bin");
	mkt_transfer_opts o = { .source = u, .target = target, .timeout = 60, .min_rate = 1024,
				.min_rate_window = 1 };

	ck_assert_msg(mkt_transfer_run(&o, NULL) == 0, "%s", mkt_error_message());
	assert_same_file(src, target);
	free(u);
	free(src);
	free(target);
	free(dir);
}
END_TEST

START_TEST(test_http_redirect)
{
	mkt_transfer_result res;

	http_ok("small.bin?redirect=1", "small.bin", "small.bin", 0, &res);
}
END_TEST

START_TEST(test_http_progress_unknown_size)
{
	char *u = url("plain.bin?nolength=1");

	check_progress(u, PLAIN_LEN);
	free(u);
}
END_TEST

static const struct {
	const char *query;
	int code;
	const char *error;
} http_errors[] = {
	{ "missing.bin", MKT_ENOTFOUND, "HTTP 404 Not Found" },
	{ "small.bin?status=403", MKT_EPERM, "HTTP 403 Forbidden" },
	{ "small.bin?status=400", MKT_ERROR, "HTTP 400 Bad Request" },
	{ "small.bin?status=503", MKT_ERROR, "HTTP 503 Service Unavailable (after 1 retries)" },
};

START_TEST(test_http_errors)
{
	char *dir = outdir(), *target = path_in(dir, "image");
	char *u = url(http_errors[_i].query);
	mkt_transfer_opts o = { .source = u, .target = target, .retries = 1 };
	char want[256];

	snprintf(want, sizeof(want), "cannot read %s: %s", u, http_errors[_i].error);
	assert_failed(mkt_transfer_run(&o, NULL), http_errors[_i].code, want);
	ck_assert_int_ne(access(target, F_OK), 0);
	ck_assert_int_eq(count_parts(dir), 0);
	free(u);
	free(target);
	free(dir);
}
END_TEST

START_TEST(test_http_refused)
{
	/* Port 1 on the loopback: nothing listens there. */
	mkt_transfer_opts o = { .source = "http://127.0.0.1:1/x", .target = "/nonexistent/x", .retries = 1 };

	assert_failed(mkt_transfer_run(&o, NULL), MKT_ERROR, "cannot read http://127.0.0.1:1/x: ");
	ck_assert_ptr_nonnull(strstr(mkt_error_message(), "(after 1 retries)"));
}
END_TEST

START_TEST(test_http_credentials_hidden)
{
	char *dir = outdir(), *target = path_in(dir, "image");
	char *u = mkt_asprintf("http://user:secret@127.0.0.1:%d/missing.bin", httpd_port);
	char *shown = mkt_asprintf("cannot read http://user:****@127.0.0.1:%d/missing.bin: HTTP 404", httpd_port);
	mkt_transfer_opts o = { .source = u, .target = target };

	assert_failed(mkt_transfer_run(&o, NULL), MKT_ENOTFOUND, shown);
	ck_assert_ptr_null(strstr(mkt_error_message(), "secret"));
	free(u);
	free(shown);
	free(target);
	free(dir);
}
END_TEST

/* A refused address fails at once (no retry), names the address, and
 * leaves no file; an allowed exception goes through. */
START_TEST(test_http_networks)
{
	char *dir = outdir(), *target = path_in(dir, "image");
	char *u = mkt_asprintf("http://user:secret@127.0.0.1:%d/small.bin", httpd_port);
	char *shown = mkt_asprintf("IMPORT_SOURCE http://user:****@127.0.0.1:%d/small.bin: "
				   "address 127.0.0.1 is not allowed for imports (IMPORT_DENIED_NETWORKS)",
				   httpd_port);
	mkt_netpolicy *deny = NULL, *except = NULL;
	mkt_transfer_opts o = { .source = u, .target = target };
	struct timespec t0, t1;

	ck_assert_int_eq(mkt_netpolicy_new(&deny, "IMPORT_SOURCE", "", "10.0.0.0/8, 127.0.0.0/8"), 0);
	ck_assert_int_eq(mkt_netpolicy_new(&except, "IMPORT_SOURCE", "127.0.0.1", "127.0.0.0/8"), 0);
	o.networks = deny;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_failed(mkt_transfer_run(&o, NULL), MKT_EPERM, shown);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ck_assert_int_lt(t1.tv_sec - t0.tv_sec, 2);     /* the first backoff is 0.5 s */
	ck_assert_int_eq(count_parts(dir), 0);
	ck_assert_int_ne(access(target, F_OK), 0);
	o.networks = except;
	ck_assert_int_eq(mkt_transfer_run(&o, NULL), 0);
	ck_assert_int_eq(access(target, F_OK), 0);
	mkt_netpolicy_free(deny);
	mkt_netpolicy_free(except);
	free(u);
	free(shown);
	free(target);
	free(dir);
}
END_TEST

START_TEST(test_http_headers)
{
	char *dir = outdir(), *target = path_in(dir, "image");
	char *u = url("__headers");
	const char *const headers[] = { "X-Marketd-Test: yes", NULL };
	mkt_transfer_opts o = {
		.source = u, .target = target, .headers = headers, .user_agent = "marketd-test/1",
	};
	unsigned char *body;
	size_t len;

	ck_assert_msg(mkt_transfer_run(&o, NULL) == 0, "%s", mkt_error_message());
	body = read_all(target, &len);
	ck_assert_ptr_nonnull(strstr((char *)body, "X-Marketd-Test: yes"));
	ck_assert_ptr_nonnull(strstr((char *)body, "User-Agent: marketd-test/1"));
	free(body);
	free(u);
	free(target);
	free(dir);
}
END_TEST

/* SigV4: libcurl signs with the key id and the region; the secret and a
 * display name keep the URL's secrets out of messages. */
START_TEST(test_http_aws_sigv4)
{
	char *dir = outdir(), *target = path_in(dir, "image");
	char *u = url("__headers?X-Amz-Signature=topsecret");
	const char *const headers[] = { "x-amz-content-sha256: UNSIGNED-PAYLOAD", NULL };
	mkt_transfer_opts o = {
		.source = u, .target = target, .headers = headers,
		.aws_sigv4 = "aws:amz:eu-west-3:s3", .aws_key_id = "AKIDTEST", .aws_secret = "s3cr3t",
	};
	char *missing = url("missing.bin?X-Amz-Signature=topsecret");
	mkt_transfer_opts m = { .source = missing, .target = target, .display = "s3://bucket/missing.bin" };
	unsigned char *body;
	size_t len;

	ck_assert_msg(mkt_transfer_run(&o, NULL) == 0, "%s", mkt_error_message());
	body = read_all(target, &len);
	ck_assert_ptr_nonnull(strstr((char *)body,
				     "Authorization: AWS4-HMAC-SHA256 Credential=AKIDTEST/"));
	ck_assert_ptr_nonnull(strstr((char *)body, "/eu-west-3/s3/aws4_request"));
	ck_assert_ptr_nonnull(strstr((char *)body, "X-Amz-Date: "));
	ck_assert_ptr_null(strstr((char *)body, "s3cr3t"));
	free(body);
	assert_failed(mkt_transfer_run(&m, NULL), MKT_ENOTFOUND,
		      "cannot read s3://bucket/missing.bin: HTTP 404");
	ck_assert_ptr_null(strstr(mkt_error_message(), "topsecret"));
	free(missing);
	free(u);
	free(target);
	free(dir);
}
END_TEST

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void *cancel_later(void *ud)
{
	usleep(300000);
	__atomic_store_n((volatile int *)ud, 1, __ATOMIC_RELAXED);
	return NULL;
}

/* Another thread cancels while the server sends nothing (stall detection
 * would take 60 s). */
START_TEST(test_http_cancel_waiting)
{
	char *dir = outdir(), *target = path_in(dir, "image");
	char *u = url("plain.bin?stall=1000&id=cancel");
	volatile int cancel = 0;
	mkt_transfer_opts o = { .source = u, .target = target, .cancel = &cancel };
	pthread_t t;
	double start = now_s();

	ck_assert_int_eq(pthread_create(&t, NULL, cancel_later, (void *)&cancel), 0);
	assert_failed(mkt_transfer_run(&o, NULL), MKT_ERROR, "cancelled");
	pthread_join(t, NULL);
	ck_assert_msg(now_s() - start < 5, "took %.1f s", now_s() - start);
	ck_assert_int_eq(count_parts(dir), 0);
	free(u);
	free(target);
	free(dir);
}
END_TEST

static volatile int signalled;

static void on_alarm(int sig)
{
	signalled = sig;
}

/* A signal handler (the drivers' SIGTERM) cancels during the backoff of
 * a retry (0.5 + 1 + 2 + 4 + 8 s in all otherwise). */
START_TEST(test_http_cancel_signal)
{
	char *dir = outdir(), *target = path_in(dir, "image");
	char *u = url("small.bin?status=500");
	mkt_transfer_opts o = { .source = u, .target = target, .cancel = &signalled };
	struct sigaction sa;
	struct itimerval it = { { 0, 0 }, { 0, 700000 } };
	double start = now_s();

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;
	sigemptyset(&sa.sa_mask);
	ck_assert_int_eq(sigaction(SIGALRM, &sa, NULL), 0);
	ck_assert_int_eq(setitimer(ITIMER_REAL, &it, NULL), 0);
	assert_failed(mkt_transfer_run(&o, NULL), MKT_ERROR, "cancelled");
	ck_assert_int_eq(signalled, SIGALRM);
	ck_assert_msg(now_s() - start < 3, "took %.1f s", now_s() - start);
	ck_assert_int_eq(count_parts(dir), 0);
	free(u);
	free(target);
	free(dir);
}
END_TEST

/* Concurrent transfers (the daemon's workers): libcurl set up once, each
 * thread with its own error. */
typedef struct {
	pthread_t thread;
	int index;
	int ret;
	char dir[PATH_MAX];
	char message[256];
	mkt_transfer_result res;
} worker;

static void *worker_run(void *ud)
{
	worker *w = ud;
	char *u = url(w->index % 2 ? "plain.bin" : "missing.bin");
	char *target = path_in(w->dir, "image");
	mkt_transfer_opts o = { .source = u, .target = target };

	w->ret = mkt_transfer_run(&o, &w->res);
	snprintf(w->message, sizeof(w->message), "%s", mkt_error_message());
	free(u);
	free(target);
	return NULL;
}

START_TEST(test_http_threads)
{
	worker w[6];
	char *plain = fixture("plain.bin"), md5[33];
	int i;

	digest_hex(plain, EVP_md5(), md5);
	for (i = 0; i < 6; i++) {
		char *dir = outdir();

		memset(&w[i], 0, sizeof(w[i]));
		w[i].index = i;
		snprintf(w[i].dir, sizeof(w[i].dir), "%s", dir);
		free(dir);
		ck_assert_int_eq(pthread_create(&w[i].thread, NULL, worker_run, &w[i]), 0);
	}
	for (i = 0; i < 6; i++) {
		ck_assert_int_eq(pthread_join(w[i].thread, NULL), 0);
		if (i % 2) {
			ck_assert_msg(w[i].ret == 0, "worker %d: %s", i, w[i].message);
			ck_assert_str_eq(w[i].res.md5, md5);
		} else {
			ck_assert_int_eq(w[i].ret, MKT_ENOTFOUND);
			ck_assert_ptr_nonnull(strstr(w[i].message, "HTTP 404"));
		}
	}
	free(plain);
}
END_TEST

START_TEST(test_probe_http)
{
	char *u = url("plain.bin"), *missing = url("missing.bin");
	uint64_t size = 1;

	ck_assert_msg(mkt_transfer_probe(u, &size) == 0, "%s", mkt_error_message());
	ck_assert_uint_eq(size, PLAIN_LEN);
	assert_failed(mkt_transfer_probe(missing, &size), MKT_ENOTFOUND, "HTTP 404");
	free(u);
	free(missing);
}
END_TEST

/* ------------------------------------------------------------------ main */

/* Unchecked fixtures run once in the parent: what they make, every forked
 * test sees. */
static void setup_fixtures(void)
{
	static int done;

	if (done++)
		return;
	snprintf(srcdir, sizeof(srcdir), "%s/src", topdir);
	ck_assert_int_eq(mkdir(srcdir, 0755), 0);
	make_fixtures();
}

static void setup_httpd(void)
{
	setup_fixtures();
	/* A proxy from the environment must not see the loopback server. */
	setenv("no_proxy", "127.0.0.1,localhost", 1);
	setenv("NO_PROXY", "127.0.0.1,localhost", 1);
	ck_assert_msg(httpd_start() == 0, "%s did not start", script_path());
}

static Suite *transfer_suite(void)
{
	Suite *s = suite_create("transfer");
	TCase *tc;

	tc = tcase_create("local");
	tcase_add_test(tc, test_copy_local);
	tcase_add_test(tc, test_write_callback);
	tcase_add_test(tc, test_write_callback_unpack);
	tcase_add_test(tc, test_write_callback_fails);
	tcase_add_test(tc, test_write_callback_md5_mismatch);
	tcase_add_test(tc, test_copy_empty);
	tcase_add_test(tc, test_file_url);
	tcase_add_loop_test(tc, test_unpack_compressed, 0, N_ELEMS(compressed));
	tcase_add_test(tc, test_compressed_no_unpack);
	tcase_add_loop_test(tc, test_unpack_tar, 0, N_ELEMS(tars));
	tcase_add_test(tc, test_unpack_ova_largest);
	tcase_add_test(tc, test_unpack_tar_prefers_disk);
	tcase_add_loop_test(tc, test_unpack_errors, 0, N_ELEMS(bad_archives));
	tcase_add_loop_test(tc, test_unpack_passthrough, 0, N_ELEMS(passthrough));
	tcase_add_test(tc, test_unpack_gz_of_zero_head);
	tcase_add_test(tc, test_unpack_gz_qcow2);
	tcase_add_test(tc, test_unpack_empty_gz);
	tcase_add_loop_test(tc, test_format_sniff, 0, N_ELEMS(formats));
	tcase_add_test(tc, test_expect_md5);
	tcase_add_test(tc, test_expect_md5_mismatch);
	tcase_add_test(tc, test_expect_md5_invalid);
	tcase_add_test(tc, test_replace_target);
	tcase_add_test(tc, test_missing_source);
	tcase_add_test(tc, test_bad_scheme);
	tcase_add_loop_test(tc, test_bad_target, 0, N_ELEMS(bad_targets));
	tcase_add_test(tc, test_write_fails_midway);
	tcase_add_test(tc, test_stdout);
	tcase_add_test(tc, test_stdout_tar_order);
	tcase_add_test(tc, test_stdout_full);
	tcase_add_test(tc, test_device_target);
	tcase_add_test(tc, test_sparse);
	tcase_add_loop_test(tc, test_unpack_sparse_tar, 0, N_ELEMS(sparse_tars));
	tcase_add_test(tc, test_max_size);
	tcase_add_test(tc, test_reserve);
	tcase_add_test(tc, test_private_tmp);
	tcase_add_test(tc, test_sweep);
	tcase_add_test(tc, test_progress);
	tcase_add_test(tc, test_cancel_local);
	tcase_add_test(tc, test_probe_local);
	tcase_add_test(tc, test_open_file);
	tcase_add_unchecked_fixture(tc, setup_fixtures, NULL);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);

	tc = tcase_create("http");
	tcase_add_test(tc, test_http_plain);
	tcase_add_test(tc, test_http_resume_after_drop);
	tcase_add_test(tc, test_http_resume_without_range);
	tcase_add_test(tc, test_http_resume_unpack);
	tcase_add_test(tc, test_http_500_then_ok);
	tcase_add_test(tc, test_http_stall);
	tcase_add_test(tc, test_http_too_slow);
	tcase_add_test(tc, test_http_timeout);
	tcase_add_test(tc, test_http_min_rate_met);
	tcase_add_test(tc, test_http_redirect);
	tcase_add_test(tc, test_http_progress_unknown_size);
	tcase_add_loop_test(tc, test_http_errors, 0, N_ELEMS(http_errors));
	tcase_add_test(tc, test_http_refused);
	tcase_add_test(tc, test_http_credentials_hidden);
	tcase_add_test(tc, test_http_networks);
	tcase_add_test(tc, test_http_headers);
	tcase_add_test(tc, test_http_aws_sigv4);
	tcase_add_test(tc, test_http_cancel_waiting);
	tcase_add_test(tc, test_http_cancel_signal);
	tcase_add_test(tc, test_http_threads);
	tcase_add_test(tc, test_probe_http);
	tcase_add_unchecked_fixture(tc, setup_httpd, httpd_stop);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	return s;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

int main(void)
{
	const char *tmp = getenv("TMPDIR");
	SRunner *sr;
	int failed;

	if ((size_t)snprintf(topdir, sizeof(topdir), "%s/transfer_test.XXXXXX", tmp ? tmp : "/tmp") >= sizeof(topdir) ||
	    !mkdtemp(topdir)) {
		perror("mkdtemp");
		return EXIT_FAILURE;
	}
	sr = srunner_create(transfer_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	nftw(topdir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

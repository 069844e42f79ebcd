/*
 * transfer.c: one pass from a source to a target (see transfer.h).
 *
 * Bytes flow through a chain of inputs, each pulling from the one below:
 *
 *   source: a file or HTTP (transfer_http.c); digests and progress here
 *     -> decompressor: libarchive filters + raw format, when unpack is set
 *        and the first bytes carry a gzip/bzip2/xz/zstd magic
 *       -> tar reader: libarchive, when unpack is set and the (possibly
 *          decompressed) stream starts with a ustar header
 *         -> sink: a temporary file renamed at the end, or stdout
 *
 * Formats are sniffed from the bytes, never from names, and only those
 * magics route content through libarchive: anything else (raw, qcow2,
 * vmdk, iso...) is copied byte for byte.  In particular libarchive's tar
 * reader is never offered a raw disk, whose zero first sector it would
 * take for an empty archive.
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "alloc.h"
#include "error.h"
#include "transfer_priv.h"
#include "util.h"

#define BLOCK MKT_TRANSFER_BLOCK
#define PEEK_LEN 512            /* one tar header */
#define PROGRESS_NS 100000000L  /* at most ten progress calls a second */
#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

typedef enum {
	SNIFF_PLAIN = 0,
	SNIFF_COMPRESSED,
	SNIFF_TAR
} sniff_kind;

/* What routes input through libarchive. */
static const struct {
	size_t offset;
	const char *magic;
	size_t len;
	sniff_kind kind;
} input_magics[] = {
	{ 0, "\x1f\x8b", 2, SNIFF_COMPRESSED },                 /* gzip */
	{ 0, "BZh", 3, SNIFF_COMPRESSED },                      /* bzip2 */
	{ 0, "\xfd" "7zXZ\0", 6, SNIFF_COMPRESSED },            /* xz */
	{ 0, "\x28\xb5\x2f\xfd", 4, SNIFF_COMPRESSED },         /* zstd */
	{ 257, "ustar", 5, SNIFF_TAR },                         /* POSIX and GNU tar */
};

/* What names the written content; anything else is "raw". */
static const struct {
	size_t offset;
	const char *magic;
	size_t len;
	const char *format;
} output_magics[] = {
	{ 0, "QFI\xfb", 4, "qcow2" },
	{ 0, "KDMV", 4, "vmdk" },                               /* sparse extent */
	{ 0, "# Disk DescriptorFile", 21, "vmdk" },             /* descriptor */
	{ 0, "vhdxfile", 8, "vhdx" },
	{ 0x40, "\x7f\x10\xda\xbe", 4, "vdi" },                 /* after the text banner */
	{ 0x8001, "CD001", 5, "iso" },                          /* ISO 9660 volume descriptor */
};

/* A pull stream, with room to look at its first bytes before reading. */
typedef ssize_t (*read_fn)(void *ud, unsigned char *buf, size_t len);

typedef struct {
	read_fn fn;
	void *ud;
	unsigned char peek[PEEK_LEN];
	size_t peek_len;
	size_t peek_pos;
} input;

typedef struct {
	const mkt_transfer_opts *opts;
	char *display;                  /* the source as messages show it */
	int fd;                         /* a local source, or -1 */
	mkt_transfer_http *http;        /* an HTTP source, or NULL */
	uint64_t size;                  /* of the source, 0 while unknown */
	uint64_t bytes_in;
	long long deadline;             /* mkt_transfer__deadline(), 0: none */
	mkt_transfer_digests *digests;  /* of the source bytes */
	struct timespec last_progress;
	unsigned char *buf;             /* the copy buffer */
} xfer;

/* libarchive reading from an input. */
typedef struct {
	xfer *x;
	struct archive *a;
	input *from;
	unsigned char *buf;
	int err;                        /* status of a failed read below (recorded) */
	int empty;                      /* compressed nothing: no entry at all */
	/* The current entry, read block by block: its logical size (-1
	 * unknown), the bytes of it handed on so far, and the data block
	 * libarchive gave last (at offset block_off, block_len bytes not yet
	 * handed on). */
	int64_t logical;
	int64_t pos;
	const unsigned char *block;
	size_t block_len;
	int64_t block_off;
	int eof;
} arc;

/* ----------------------------------------------------------------- input */

static ssize_t input_read(input *in, unsigned char *buf, size_t len)
{
	if (in->peek_pos < in->peek_len) {
		size_t n = in->peek_len - in->peek_pos;

		if (n > len)
			n = len;
		memcpy(buf, in->peek + in->peek_pos, n);
		in->peek_pos += n;
		return (ssize_t)n;
	}
	return in->fn(in->ud, buf, len);
}

/* Fill @len bytes unless the input ends first: the number read, or < 0. */
static ssize_t input_read_full(input *in, unsigned char *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = input_read(in, buf + got, len - got);

		if (n < 0)
			return n;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

/* Read the first PEEK_LEN bytes (fewer if the input is shorter) into
 * in->peek; later reads return them first. */
static int input_peek(input *in)
{
	ssize_t n = input_read_full(in, in->peek, PEEK_LEN);

	if (n < 0)
		return (int)n;
	in->peek_len = (size_t)n;
	in->peek_pos = 0;
	return 0;
}

static sniff_kind sniff_input(const input *in)
{
	size_t i;

	for (i = 0; i < N_ELEMS(input_magics); i++) {
		if (in->peek_len >= input_magics[i].offset + input_magics[i].len &&
		    !memcmp(in->peek + input_magics[i].offset, input_magics[i].magic, input_magics[i].len))
			return input_magics[i].kind;
	}
	return SNIFF_PLAIN;
}

static const char *sniff_output(const unsigned char *head, size_t len)
{
	size_t i;

	for (i = 0; i < N_ELEMS(output_magics); i++) {
		if (len >= output_magics[i].offset + output_magics[i].len &&
		    !memcmp(head + output_magics[i].offset, output_magics[i].magic, output_magics[i].len))
			return output_magics[i].format;
	}
	return "raw";
}

/* ---------------------------------------------------------------- source */

/* The path of a local source: itself, or a file:// URL decoded. */
static int local_path(char **out, const char *source, const char *display)
{
	const char *p = source + 7;
	char *path, *o;

	if (strncasecmp(source, "file://", 7)) {
		if (mkt_util_url_has_scheme(source))
			return mkt_error_set(MKT_EINVAL, MKT_ERR_OS, "cannot read %s: unsupported URL scheme", display);
		*out = mkt_strdup(source);
		return 0;
	}
	if (!strncasecmp(p, "localhost/", 10))
		p += 9;
	if (*p != '/')
		return mkt_error_set(MKT_EINVAL, MKT_ERR_OS, "cannot read %s: not a local file URL", display);
	path = o = mkt_malloc(strlen(p) + 1);
	for (; *p && *p != '?' && *p != '#'; p++) {
		int hi = *p == '%' ? mkt_util_parse_hex_digit(p[1]) : -1;
		int lo = hi >= 0 ? mkt_util_parse_hex_digit(p[2]) : -1;

		if (lo >= 0 && (hi | lo) != 0) {
			*o++ = (char)(hi * 16 + lo);
			p += 2;
		} else {
			*o++ = *p;
		}
	}
	*o = '\0';
	*out = path;
	return 0;
}

static int source_open(xfer *x)
{
	char *path = NULL;
	struct stat st;
	int ret = 0;

	if (mkt_transfer__is_http(x->opts->source))
		return mkt_transfer__http_open(&x->http, x->opts, x->display, x->deadline);
	if ((ret = local_path(&path, x->opts->source, x->display)) < 0)
		return ret;
	if ((x->fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		ret = mkt_error_set_os(errno, "cannot read %s", x->display);
		goto cleanup;
	}
	if (fstat(x->fd, &st) == 0 && S_ISREG(st.st_mode))
		x->size = (uint64_t)st.st_size;
	posix_fadvise(x->fd, 0, 0, POSIX_FADV_SEQUENTIAL);

 cleanup:
	free(path);
	return ret;
}

static void source_close(xfer *x)
{
	if (x->fd >= 0)
		close(x->fd);
	x->fd = -1;
	mkt_transfer__http_free(x->http);
	x->http = NULL;
}

static void progress_tick(xfer *x)
{
	struct timespec now;
	long long ns;

	if (!x->opts->progress)
		return;
	clock_gettime(CLOCK_MONOTONIC, &now);
	ns = (now.tv_sec - x->last_progress.tv_sec) * 1000000000LL + (now.tv_nsec - x->last_progress.tv_nsec);
	if (x->last_progress.tv_sec && ns < PROGRESS_NS)
		return;
	x->last_progress = now;
	x->opts->progress(x->opts->progress_ud, x->bytes_in, x->size);
}

int mkt_transfer__cancelled(const mkt_transfer_opts *opts)
{
	/* Atomic: another thread may set it (a signal handler too). */
	return opts->cancel && __atomic_load_n(opts->cancel, __ATOMIC_RELAXED);
}

int mkt_transfer__cancel_error(void)
{
	return mkt_error_set(MKT_ERROR, MKT_ERR_OS, "cancelled");
}

long long mkt_transfer__now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

long long mkt_transfer__deadline(const mkt_transfer_opts *opts)
{
	return opts->timeout > 0 ? mkt_transfer__now_ms() + opts->timeout * 1000LL : 0;
}

int mkt_transfer__timeout_error(const mkt_transfer_opts *opts, const char *display)
{
	return mkt_error_set(MKT_ERROR, MKT_ERR_OS, "cannot read %s: transfer took longer than %ld s",
			     display, opts->timeout);
}

int mkt_transfer__check_stop(const mkt_transfer_opts *opts, long long deadline,
			     const char *display)
{
	if (mkt_transfer__cancelled(opts))
		return mkt_transfer__cancel_error();
	if (deadline && mkt_transfer__now_ms() >= deadline)
		return mkt_transfer__timeout_error(opts, display);
	return 0;
}

/* The bottom of the chain: every byte of the source passes here once, and
 * every block read is a point where a cancel takes effect. */
static ssize_t source_read(void *ud, unsigned char *buf, size_t len)
{
	xfer *x = ud;
	ssize_t n;
	int ret;

	if ((ret = mkt_transfer__check_stop(x->opts, x->deadline, x->display)) < 0)
		return ret;
	if (x->http) {
		n = mkt_transfer__http_read(x->http, buf, len);
		if (!x->size)
			x->size = mkt_transfer__http_size(x->http);
	} else {
		/* A signal that cancels (a driver's SIGTERM) interrupts a read
		 * that waits (a pipe, a FIFO): it must end the transfer. */
		do
			n = read(x->fd, buf, len);
		while (n < 0 && errno == EINTR && !mkt_transfer__cancelled(x->opts));
		if (n < 0 && errno == EINTR)
			return mkt_transfer__cancel_error();
		if (n < 0)
			return mkt_error_set_os(errno, "cannot read %s", x->display);
	}
	if (n <= 0)
		return n;
	if ((ret = mkt_transfer__digests_update(x->digests, buf, (size_t)n)) < 0)
		return ret;
	x->bytes_in += (uint64_t)n;
	progress_tick(x);
	return n;
}

/* ------------------------------------------------------------------ copy */

/* Copy all of @in into @s, in whole blocks so holes stay aligned. */
static int copy(xfer *x, input *in, mkt_transfer_sink *s)
{
	for (;;) {
		ssize_t n = input_read_full(in, x->buf, BLOCK);
		int ret;

		if (n <= 0)
			return (int)n;
		if ((ret = mkt_transfer__sink_write(s, x->buf, (size_t)n)) < 0)
			return ret;
	}
}

/* The sink's digest mode (transfer_sink.c): md5, plus sha256 if wanted. */
static int sink_digests(const xfer *x)
{
	return x->opts->md5_only ? 1 : 2;
}

/* @digest: the content is not the source's, so hash it on its own. */
static int copy_new(xfer *x, input *in, mkt_transfer_sink **out, int digest)
{
	mkt_transfer_sink *s = NULL;
	int ret;

	if ((ret = mkt_transfer__sink_new(&s, x->opts, digest ? sink_digests(x) : 0)) < 0)
		return ret;
	if ((ret = copy(x, in, s)) < 0) {
		mkt_transfer__sink_free(s);
		return ret;
	}
	*out = s;
	return 0;
}

/* --------------------------------------------------------------- archive */

static la_ssize_t arc_read(struct archive *a, void *ud, const void **out)
{
	arc *r = ud;
	ssize_t n = input_read(r->from, r->buf, BLOCK);

	if (n < 0) {
		r->err = (int)n;
		archive_set_error(a, EIO, "read failed");
		return ARCHIVE_FATAL;
	}
	*out = r->buf;
	return n;
}

static int arc_error(arc *r)
{
	const char *why = archive_error_string(r->a);

	/* A failure below was recorded there; libarchive only echoes it. */
	if (r->err)
		return r->err;
	return mkt_error_set(MKT_EINVAL, MKT_ERR_OS, "cannot unpack %s: %s", r->x->display,
			     why ? why : "unrecognised content");
}

/* Start reading an entry of logical size @logical (-1: unknown). */
static void arc_entry(arc *r, int64_t logical)
{
	r->logical = logical;
	r->pos = 0;
	r->block = NULL;
	r->block_len = 0;
	r->block_off = 0;
	r->eof = 0;
}

static ssize_t zeros(arc *r, unsigned char *buf, size_t len, int64_t upto)
{
	size_t n = upto - r->pos < (int64_t)len ? (size_t)(upto - r->pos) : len;

	memset(buf, 0, n);
	r->pos += (int64_t)n;
	return (ssize_t)n;
}

/* The current entry's data, as an input.  Read by blocks and their
 * offsets, not with archive_read_data(): a sparse member (tar --sparse) is
 * data blocks at offsets, and its holes, the one at its end included (all
 * of an all-zero file), come from here as zeros up to its logical size.
 * The sink makes them holes again.  (archive_read_data() of libarchive 3.6
 * returns 0, the end, before the zeros of such a member.) */
static ssize_t arc_data(void *ud, unsigned char *buf, size_t len)
{
	arc *r = ud;

	if (r->empty)
		return 0;
	for (;;) {
		const void *p;
		size_t n;
		la_int64_t off;
		int ret;

		if (r->pos < r->block_off)
			return zeros(r, buf, len, r->block_off);
		if (r->block_len > 0) {
			n = r->block_len < len ? r->block_len : len;
			memcpy(buf, r->block, n);
			r->block += n;
			r->block_len -= n;
			r->block_off += (int64_t)n;
			r->pos += (int64_t)n;
			return (ssize_t)n;
		}
		if (r->eof)
			return r->pos < r->logical ? zeros(r, buf, len, r->logical) : 0;
		ret = archive_read_data_block(r->a, &p, &n, &off);
		if (ret == ARCHIVE_EOF) {
			r->eof = 1;
			continue;
		}
		if (ret < ARCHIVE_WARN)
			return arc_error(r);
		if (off < r->pos)
			return mkt_error_set(MKT_EINVAL, MKT_ERR_OS,
					     "cannot unpack %s: a data block at offset %lld overlaps the one before",
					     r->x->display, (long long)off);
		r->block = p;
		r->block_len = n;
		r->block_off = off;
	}
}

/* Decompress (@tar = 0: filters and the raw format) or read a tar. */
static int arc_open(xfer *x, arc *r, input *from, int tar)
{
	r->x = x;
	r->from = from;
	arc_entry(r, -1);
	r->buf = mkt_malloc(BLOCK);
	if (!(r->a = archive_read_new()))
		return mkt_error_set(MKT_ERROR, MKT_ERR_OS, "cannot unpack %s: out of memory", x->display);
	if (tar) {
		archive_read_support_format_tar(r->a);
	} else {
		/* (ARCHIVE_WARN when a filter would need an external
		 * program: only the built-in ones are sniffed for.) */
		archive_read_support_filter_all(r->a);
		archive_read_support_format_raw(r->a);
		/* raw wants at least one byte: "empty" takes a compressed
		 * empty file (no entry at all). */
		archive_read_support_format_empty(r->a);
	}
	if (archive_read_open(r->a, r, NULL, arc_read, NULL) != ARCHIVE_OK)
		return arc_error(r);
	return 0;
}

static void arc_close(arc *r)
{
	if (r->a)
		archive_read_free(r->a);
	free(r->buf);
}

/* 0: OVA metadata, never the image; 2: a disk image by its name; 1: any
 * other file. */
static int member_rank(const char *name)
{
	static const char *const meta[] = { ".ovf", ".mf", ".cert" };
	static const char *const disks[] = { ".vmdk", ".qcow2", ".img", ".raw" };
	size_t len = strlen(name), i;

	for (i = 0; i < N_ELEMS(meta); i++) {
		if (len >= strlen(meta[i]) && !strcasecmp(name + len - strlen(meta[i]), meta[i]))
			return 0;
	}
	for (i = 0; i < N_ELEMS(disks); i++) {
		if (len >= strlen(disks[i]) && !strcasecmp(name + len - strlen(disks[i]), disks[i]))
			return 2;
	}
	return 1;
}

/* Extract the image of a tar: its one regular file, or the largest disk
 * image by name (OVA).  A tar is a stream, so a better member found later
 * replaces the one extracted so far (at most two temporary files). */
static int extract_tar(xfer *x, input *in, mkt_transfer_sink **out)
{
	arc r = { 0 };
	input data = { arc_data, &r, { 0 }, 0, 0 };
	struct archive_entry *e;
	mkt_transfer_sink *best = NULL, *s = NULL;
	char *best_name = NULL;
	int64_t best_size = -1;
	int best_rank = 0, others = 0, ret;

	if ((ret = arc_open(x, &r, in, 1)) < 0)
		goto cleanup;
	while ((ret = archive_read_next_header(r.a, &e)) != ARCHIVE_EOF) {
		const char *name;
		int64_t size;
		int rank;

		if (ret < ARCHIVE_WARN) {
			ret = arc_error(&r);
			goto cleanup;
		}
		if (!(name = archive_entry_pathname(e)))
			name = "";
		size = archive_entry_size(e);
		rank = member_rank(name);
		if (archive_entry_filetype(e) != AE_IFREG || rank == 0)
			continue;
		others += rank == 1;
		if (best && (rank < best_rank || (rank == best_rank && size <= best_size)))
			continue;
		if (best && !best->tmp) {
			/* Written in place: no second chance. */
			ret = mkt_error_set(MKT_EINVAL, MKT_ERR_OS,
					    "cannot unpack %s: %s comes after %s, already written to %s",
					    x->display, name, best_name, best->name);
			goto cleanup;
		}
		arc_entry(&r, archive_entry_size_is_set(e) ? size : -1);
		if ((ret = mkt_transfer__sink_new(&s, x->opts, sink_digests(x))) < 0 ||
		    (ret = copy(x, &data, s)) < 0)
			goto cleanup;
		mkt_transfer__sink_free(best);
		best = MKT_STEAL(s);
		free(best_name);
		best_name = mkt_strdup(name);
		best_rank = rank;
		best_size = size;
	}
	ret = 0;
	if (!best)
		ret = mkt_error_set(MKT_EINVAL, MKT_ERR_OS, "cannot unpack %s: no regular file in the archive", x->display);
	else if (best_rank == 1 && others > 1)
		ret = mkt_error_set(MKT_EINVAL, MKT_ERR_OS,
				    "cannot unpack %s: the archive holds %d files and no disk image", x->display, others);
	else
		*out = MKT_STEAL(best);

 cleanup:
	mkt_transfer__sink_free(s);
	mkt_transfer__sink_free(best);
	free(best_name);
	arc_close(&r);
	return ret;
}

/* A compressed stream: its content, or the image of the tar inside. */
static int decompress(xfer *x, input *in, mkt_transfer_sink **out)
{
	arc r = { 0 };
	input data = { arc_data, &r, { 0 }, 0, 0 };
	struct archive_entry *e;
	int ret;

	if ((ret = arc_open(x, &r, in, 0)) < 0)
		goto cleanup;
	if ((ret = archive_read_next_header(r.a, &e)) < ARCHIVE_WARN) {
		ret = arc_error(&r);
		goto cleanup;
	}
	r.empty = ret == ARCHIVE_EOF;
	if ((ret = input_peek(&data)) < 0)
		goto cleanup;
	if (sniff_input(&data) == SNIFF_TAR)
		ret = extract_tar(x, &data, out);
	else
		ret = copy_new(x, &data, out, 1);

 cleanup:
	arc_close(&r);
	return ret;
}

/* ------------------------------------------------------------------- run */

static int pump(xfer *x, input *in, mkt_transfer_sink **out)
{
	sniff_kind kind;
	int ret;

	if ((ret = input_peek(in)) < 0)
		return ret;
	kind = x->opts->unpack ? sniff_input(in) : SNIFF_PLAIN;
	if (kind == SNIFF_COMPRESSED)
		return decompress(x, in, out);
	if (kind == SNIFF_TAR)
		return extract_tar(x, in, out);
	return copy_new(x, in, out, 0);
}

/* The digests cover the whole source, also what libarchive left unread
 * (tar padding, data after the end of the archive). */
static int drain(xfer *x, input *in)
{
	ssize_t n;

	while ((n = input_read(in, x->buf, BLOCK)) > 0)
		;
	return (int)n;
}

static int valid_md5(const char *s)
{
	size_t i;

	for (i = 0; s[i]; i++) {
		if (mkt_util_parse_hex_digit(s[i]) < 0)
			return 0;
	}
	return i == 32;
}

int mkt_transfer_run(const mkt_transfer_opts *opts, mkt_transfer_result *out)
{
	xfer x = { 0 };
	input src = { source_read, &x, { 0 }, 0, 0 };
	mkt_transfer_result res;
	mkt_transfer_sink *s = NULL;
	int ret = 0;

	memset(&res, 0, sizeof(res));
	if (out)
		*out = res;
	x.fd = -1;
	if (!opts || !opts->source || (!opts->write && (!opts->target || !*opts->target)))
		return mkt_error_set(MKT_EINVAL, MKT_ERR_OS, "transfer: a source and a target are required");
	if (opts->expect_md5 && !valid_md5(opts->expect_md5))
		return mkt_error_set(MKT_EINVAL, MKT_ERR_OS, "transfer: '%s' is not an md5 digest", opts->expect_md5);
	x.opts = opts;
	x.deadline = mkt_transfer__deadline(opts);
	x.display = opts->display ? mkt_strdup(opts->display) : mkt_util_url_mask(opts->source);
	x.buf = mkt_malloc(BLOCK);
	if ((ret = mkt_transfer__digests_new(&x.digests, !opts->md5_only)) < 0 ||
	    (ret = source_open(&x)) < 0 ||
	    (ret = pump(&x, &src, &s)) < 0 || (ret = drain(&x, &src)) < 0 ||
	    (ret = mkt_transfer__digests_final(x.digests, res.md5, res.sha256)) < 0)
		goto cleanup;
	if (!s->digests) {
		memcpy(res.md5_out, res.md5, sizeof(res.md5));
		memcpy(res.sha256_out, res.sha256, sizeof(res.sha256));
	} else if ((ret = mkt_transfer__digests_final(s->digests, res.md5_out, res.sha256_out)) < 0) {
		goto cleanup;
	}
	if (opts->expect_md5 && strcasecmp(opts->expect_md5, res.md5)) {
		ret = mkt_error_set(MKT_EINVAL, MKT_ERR_OS, "checksum mismatch: expected %s, got %s",
				    opts->expect_md5, res.md5);
		goto cleanup;
	}
	/* The source is complete: release it before the (slow) fsync. */
	source_close(&x);
	if (mkt_transfer__cancelled(opts)) {
		ret = mkt_transfer__cancel_error();
		goto cleanup;
	}
	if ((ret = mkt_transfer__sink_commit(s)) < 0)
		goto cleanup;
	res.bytes_in = x.bytes_in;
	res.bytes_out = s->off;
	snprintf(res.format, sizeof(res.format), "%s", sniff_output(s->head, s->head_len));
	if (opts->progress)
		opts->progress(opts->progress_ud, x.bytes_in, x.bytes_in);
	if (out)
		*out = res;

 cleanup:
	mkt_transfer__sink_free(s);
	source_close(&x);
	mkt_transfer__digests_free(x.digests);
	free(x.buf);
	free(x.display);
	return ret;
}

int mkt_transfer_probe(const char *source, uint64_t *out)
{
	char *display = NULL, *path = NULL;
	struct stat st;
	int ret = 0, fd;

	*out = 0;
	if (!source)
		return mkt_error_set(MKT_EINVAL, MKT_ERR_OS, "transfer: a source is required");
	display = mkt_util_url_mask(source);
	if (mkt_transfer__is_http(source)) {
		ret = mkt_transfer__http_probe(source, display, out);
		goto cleanup;
	}
	if ((ret = local_path(&path, source, display)) < 0)
		goto cleanup;
	if (stat(path, &st) < 0) {
		ret = mkt_error_set_os(errno, "cannot read %s", display);
		goto cleanup;
	}
	if (S_ISREG(st.st_mode)) {
		*out = (uint64_t)st.st_size;
	} else if (S_ISBLK(st.st_mode) && (fd = open(path, O_RDONLY | O_CLOEXEC)) >= 0) {
		off_t end = lseek(fd, 0, SEEK_END);

		if (end > 0)
			*out = (uint64_t)end;
		close(fd);
	}

 cleanup:
	free(path);
	free(display);
	return ret;
}

int mkt_transfer_open_file(const char *source)
{
	mkt_error saved;
	char *path = NULL;
	struct stat st;
	int fd = -1;

	mkt_error_preserve(&saved);     /* this asks; it fails nothing */
	if (!source || mkt_transfer__is_http(source) || local_path(&path, source, source) < 0)
		goto cleanup;
	/* Not even opened when it is not a plain file: opening a FIFO would
	 * wait for a writer, or take the one the transfer is to read. */
	if (stat(path, &st) < 0 || !S_ISREG(st.st_mode))
		goto cleanup;
	if ((fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)) >= 0 &&
	    (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || fcntl(fd, F_SETFL, 0) < 0)) {
		close(fd);
		fd = -1;
	}

 cleanup:
	mkt_error_restore(&saved);
	free(path);
	return fd;
}

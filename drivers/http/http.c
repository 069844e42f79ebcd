/*
 * http.c: the http market driver.
 *
 * A marketplace is a directory (PUBLIC_DIR) that a web server publishes at
 * BASE_URL; both are required attributes of the marketplace template.
 * Apps are plain files named "<app id>-<16 random hex digits>", and an
 * app's SOURCE is BASE_URL/<name>.
 *
 *   import   copy IMPORT_SOURCE (a path or a URL) into PUBLIC_DIR
 *   export   download SOURCE over HTTP into EXPORT_TARGET, unpacked,
 *            checked against the app's MD5
 *   delete   remove PUBLIC_DIR/<name>; with no SOURCE (an app whose
 *            import was cut short), whatever file that import made
 *   monitor  capacity of the file system holding PUBLIC_DIR, after
 *            removing the temporary files of imports that were killed
 *            and the files of apps that no longer exist
 *
 * All copies go through the transfer module (src/common/transfer.h), which
 * streams, digests and writes atomically, run by the helper library's
 * mkt_drv_run_transfer() (cancelled cleanly by SIGTERM); export is the
 * library's mkt_drv_export_source(), shared with the one driver.  One binary serves every action;
 * drivers/http/{import,export,delete,monitor} are links to it.  The
 * protocol is in share/doc/drivers.md.
 */
#include <config.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/error.h"
#include "common/transfer.h"
#include "common/util.h"
#include "driver.h"

#define USER_AGENT "marketd-http-driver/" PACKAGE_VERSION
#define NAME_RANDOM_BYTES 8     /* 16 hex digits */

typedef struct {
	char *base_url;           /* BASE_URL without trailing slashes */
	const char *public_dir;   /* borrowed from the document */
} http_market;

static void http_market_clear(http_market *m)
{
	MKT_FREE(m->base_url);
}

/* The two required market attributes; MKT_DRV_EINPUT naming the missing
 * one. */
static int http_market_read(mkt_drv *d, http_market *out)
{
	static const char *const required[] = { "BASE_URL", "PUBLIC_DIR" };
	const char *values[2];
	size_t len;
	int ret;

	if ((ret = mkt_drv_market_require(d, "http", required, 2, values)) != 0)
		return ret;
	len = strlen(values[0]);
	while (len > 0 && values[0][len - 1] == '/')
		len--;
	if (len == 0)
		return mkt_drv_fail(MKT_DRV_EINPUT, "BASE_URL \"%s\" is not a URL", values[0]);
	if (values[1][0] != '/')
		return mkt_drv_fail(MKT_DRV_EINPUT, "PUBLIC_DIR \"%s\" is not an absolute path",
				    values[1]);
	out->base_url = mkt_strndup(values[0], len);
	out->public_dir = values[1];
	return 0;
}

/* ---- actions ------------------------------------------------------------ */

static int http_import(mkt_drv *d)
{
	http_market m = { 0 };
	mkt_transfer_opts opts = { 0 };
	mkt_transfer_result r;
	unsigned char rnd[NAME_RANDOM_BYTES];
	char hex[2 * NAME_RANDOM_BYTES + 1];
	const char *id = NULL;
	char *name = NULL, *target = NULL, *url = NULL;
	int ret;

	if ((ret = http_market_read(d, &m)) != 0)
		goto cleanup;
	if ((ret = mkt_drv_import_opts(d, &opts)) != 0 ||
	    (ret = mkt_drv_require_id(d, &id)) != 0)
		goto cleanup;
	if (mkt_util_random(rnd, sizeof(rnd)) < 0) {
		ret = mkt_drv_fail(MKT_DRV_EFAIL, "%s", mkt_error_message());
		goto cleanup;
	}
	mkt_util_hex(rnd, sizeof(rnd), hex);
	name = mkt_asprintf("%s-%s", id, hex);
	target = mkt_asprintf("%s/%s", m.public_dir, name);
	if (mkt_util_mkdir_p(m.public_dir, 0755) < 0) {
		ret = mkt_drv_fail(MKT_DRV_EFAIL, "%s", mkt_error_message());
		goto cleanup;
	}

	opts.target = target;
	opts.unpack = 0;
	mkt_drv_log(MKT_LOG_INFO, "importing %s into %s", opts.display, target);
	if ((ret = mkt_drv_transfer(&opts, USER_AGENT, &r)) != 0)
		goto cleanup;

	url = mkt_asprintf("%s/%s", m.base_url, name);
	mkt_drv_import_results(d, url, &r);

 cleanup:
	free(url);
	free(target);
	free(name);
	http_market_clear(&m);
	return ret;
}

/* The market attributes are checked first, as for every action, so that a
 * broken marketplace fails the same way whatever is asked of it. */
static int http_export(mkt_drv *d)
{
	http_market m = { 0 };
	mkt_transfer_opts opts = { 0 };
	const char *source = NULL;
	int ret;

	if ((ret = http_market_read(d, &m)) != 0 ||
	    (ret = mkt_drv_require(d, "MARKETPLACEAPP/SOURCE", &source)) != 0)
		goto cleanup;
	opts.source = source;
	ret = mkt_drv_export(d, &opts, USER_AGENT);

 cleanup:
	http_market_clear(&m);
	return ret;
}

/* "<app id>-<16 hex digits>", the name of an app's file: its app id in
 * @id; 0 for any other name (files put there by others are left alone). */
static int app_file(const char *name, char *id, size_t idlen)
{
	size_t n = strspn(name, "0123456789");

	if (n == 0 || n >= idlen || name[n] != '-' ||
	    strlen(name + n + 1) != 2 * NAME_RANDOM_BYTES ||
	    strspn(name + n + 1, "0123456789abcdef") != 2 * NAME_RANDOM_BYTES)
		return 0;
	memcpy(id, name, n);
	id[n] = '\0';
	return 1;
}

/* Remove the app files of PUBLIC_DIR that @stale says are no longer
 * wanted; the count removed. */
static int remove_app_files(const char *dir, int (*stale)(void *, const char *id, int fd,
							   const char *name), void *arg)
{
	DIR *dp = opendir(dir);
	struct dirent *e;
	char id[24];
	int n = 0;

	if (!dp)
		return 0;
	while ((e = readdir(dp))) {
		if (!app_file(e->d_name, id, sizeof(id)) || !stale(arg, id, dirfd(dp), e->d_name))
			continue;
		if (unlinkat(dirfd(dp), e->d_name, 0) == 0) {
			mkt_drv_log(MKT_LOG_INFO, "removed %s/%s: app %s no longer has it",
				    dir, e->d_name, id);
			n++;
		} else if (errno != ENOENT) {
			mkt_drv_log(MKT_LOG_WARN, "cannot remove %s/%s: %s", dir, e->d_name,
				    strerror(errno));
		}
	}
	closedir(dp);
	return n;
}

static int is_this_app(void *arg, const char *id, int fd, const char *name)
{
	(void)fd, (void)name;
	return !strcmp(arg, id);
}

static int http_delete(mkt_drv *d)
{
	http_market m = { 0 };
	const char *source = NULL, *name;
	char *path = NULL;
	size_t blen;
	int ret;

	if ((ret = http_market_read(d, &m)) != 0)
		goto cleanup;
	source = mkt_drv_get(d, "MARKETPLACEAPP/SOURCE");
	if (!source || !*source) {
		/* An import cut short (marketd killed) may have made its file
		 * without marketd learning its name. */
		const char *id = NULL;

		if ((ret = mkt_drv_require_id(d, &id)) == 0 &&
		    remove_app_files(m.public_dir, is_this_app, (void *)id) == 0)
			mkt_drv_log(MKT_LOG_INFO, "app %s has no SOURCE and no file: nothing to "
				    "delete", id);
		goto cleanup;
	}
	blen = strlen(m.base_url);
	name = !strncmp(source, m.base_url, blen) && source[blen] == '/' ? source + blen + 1 : "";
	if (!*name || strchr(name, '/') || strstr(name, "..")) {
		ret = mkt_drv_fail(MKT_DRV_EINPUT,
				   "SOURCE \"%s\" is not a file directly under BASE_URL %s/",
				   source, m.base_url);
		goto cleanup;
	}
	path = mkt_asprintf("%s/%s", m.public_dir, name);
	if (unlink(path) < 0) {
		if (errno != ENOENT) {
			ret = mkt_drv_fail(MKT_DRV_EFAIL, "cannot remove %s: %s", path, strerror(errno));
			goto cleanup;
		}
		mkt_drv_log(MKT_LOG_WARN, "%s does not exist; nothing to delete", path);
	} else {
		mkt_drv_log(MKT_LOG_INFO, "removed %s", path);
	}

 cleanup:
	free(path);
	http_market_clear(&m);
	return ret;
}

/* A temporary file of an import untouched this long after the import's
 * time limit is a dead import's: marketd kills a driver 5 s after its
 * SIGTERM. */
#define SWEEP_MARGIN 10
#define DEFAULT_IMPORT_TIMEOUT 600

typedef struct {
	mkt_drv *d;
	long min_age;
} orphan_scan;

/* A file of an app the market no longer lists, old enough not to be an
 * import whose app is being made. */
static int is_orphan(void *arg, const char *id, int fd, const char *name)
{
	orphan_scan *o = arg;
	char path[64];
	struct stat st;

	if (fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode) ||
	    time(NULL) - st.st_mtime < o->min_age)
		return 0;
	snprintf(path, sizeof(path), "APPS/ID[normalize-space(.)='%s']", id);
	return !mkt_drv_exists(o->d, path);
}

static int http_monitor(mkt_drv *d)
{
	http_market m = { 0 };
	struct statvfs st;
	unsigned long long unit, mb = 1ULL << 20;
	long long import_timeout = DEFAULT_IMPORT_TIMEOUT;
	int ret;

	if ((ret = http_market_read(d, &m)) != 0)
		goto cleanup;
	if (mkt_drv_get_long(d, "IMPORT_TIMEOUT", &import_timeout) == MKT_EINVAL) {
		ret = mkt_drv_fail(MKT_DRV_EINPUT, "IMPORT_TIMEOUT \"%s\" is not a number of seconds",
				   mkt_drv_get(d, "IMPORT_TIMEOUT"));
		goto cleanup;
	}
	/* Before measuring: what it frees counts as free.  Files of apps
	 * that are gone (an import that finished after marketd was killed,
	 * its app deleted since) only when the document lists the apps. */
	mkt_drv_sweep(m.public_dir, (long)import_timeout + SWEEP_MARGIN);
	if (mkt_drv_exists(d, "APPS")) {
		orphan_scan o = { d, (long)import_timeout + SWEEP_MARGIN };

		remove_app_files(m.public_dir, is_orphan, &o);
	}
	if (statvfs(m.public_dir, &st) < 0) {
		ret = mkt_drv_fail(MKT_DRV_EFAIL, "cannot read the capacity of %s: %s",
				   m.public_dir, strerror(errno));
		goto cleanup;
	}
	/* df's figures: used = blocks - bfree, free = what non-root may use. */
	unit = st.f_frsize ? st.f_frsize : st.f_bsize;
	mkt_drv_result_long("TOTAL_MB", (long long)((unsigned long long)st.f_blocks * unit / mb));
	mkt_drv_result_long("FREE_MB", (long long)((unsigned long long)st.f_bavail * unit / mb));
	mkt_drv_result_long("USED_MB",
			    (long long)((unsigned long long)(st.f_blocks - st.f_bfree) * unit / mb));

 cleanup:
	http_market_clear(&m);
	return ret;
}

static const mkt_drv_action http_actions[] = {
	{ "import", http_import },
	{ "export", http_export },
	{ "delete", http_delete },
	{ "monitor", http_monitor },
	{ NULL, NULL }
};

int main(int argc, char **argv)
{
	return mkt_drv_main(argc, argv, http_actions);
}

/*
 * s3.c: the s3 market driver.
 *
 * A marketplace is an S3 bucket (AWS S3, Ceph RGW, MinIO, ...); apps are
 * objects named "<APP_PREFIX>-<app id>" and an app's SOURCE is
 * s3://BUCKET/<name>.  Market attributes: see drivers/s3/README.md.
 *
 *   import   stream IMPORT_SOURCE into the bucket: one PUT when it fits
 *            in one part (READ_LENGTH MB), else a multipart upload
 *   export   download SOURCE into EXPORT_TARGET (unpacked, md5 checked)
 *   delete   remove the object
 *   monitor  USED_MB = the objects under APP_PREFIX, FREE = TOTAL - USED
 *
 * S3 calls go through s3_client.h (libcurl for signature v4, libs3 for
 * v2); the content flows through the transfer module (digests, format,
 * downloads with Range resumes).  One binary serves every action;
 * drivers/s3/{import,export,delete,monitor} are links to it.
 */
#include <config.h>

#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>

#include "common/alloc.h"
#include "common/error.h"
#include "common/transfer.h"
#include "driver.h"
#include "s3_client.h"

#define USER_AGENT "marketd-s3-driver/" PACKAGE_VERSION
#define MB (1024ULL * 1024)
#define DEFAULT_TOTAL_MB 1048576LL      /* 1 TB, as OpenNebula */
#define DEFAULT_READ_LENGTH 32LL        /* MB per part */
#define MAX_READ_LENGTH 5120LL          /* S3's largest part: 5 GiB */
#define MIN_S3_PART 5LL                 /* S3's smallest part but the last */
#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

typedef struct {
	s3_config cfg;          /* strings borrowed from the document, but endpoint */
	char *endpoint;
	const char *prefix;
	long long total_mb;
	size_t part_size;
} s3_market;

static const struct {
	const char *name;
	s3_signature sig;
} signatures[] = {
	{ "v4", S3_SIGV4 },
	{ "4", S3_SIGV4 },
	{ "s3v4", S3_SIGV4 },
	{ "v2", S3_SIGV2 },
	{ "2", S3_SIGV2 },
	{ "s3", S3_SIGV2 },
};

static void s3_market_clear(s3_market *m)
{
	MKT_FREE(m->endpoint);
}

/* Characters allowed in BUCKET and APP_PREFIX: they go into URLs and
 * object names as they are. */
static int plain_name(const char *s, const char *extra)
{
	for (; *s; s++) {
		if (!isalnum((unsigned char)*s) && !strchr(extra, *s))
			return 0;
	}
	return 1;
}

/* A numeric attribute, @def when absent, within [@min, @max]. */
static int read_number(mkt_drv *d, const char *name, long long def, long long min, long long max,
		       long long *out)
{
	char *path = mkt_asprintf("MARKETPLACE/TEMPLATE/%s", name);
	int ret = mkt_drv_get_long(d, path, out);

	free(path);
	if (ret == MKT_ENOTFOUND) {
		*out = def;
		return 0;
	}
	if (ret < 0 || *out < min || *out > max)
		return mkt_drv_fail(MKT_DRV_EINPUT, "%s must be a whole number from %lld to %lld",
				    name, min, max);
	return 0;
}

static int read_bool(mkt_drv *d, const char *name, int def, int *out)
{
	char *path = mkt_asprintf("MARKETPLACE/TEMPLATE/%s", name);
	int ret = mkt_drv_get_bool(d, path, out);

	free(path);
	if (ret == MKT_ENOTFOUND) {
		*out = def;
		return 0;
	}
	if (ret < 0)
		return mkt_drv_fail(MKT_DRV_EINPUT, "%s must be YES or NO", name);
	return 0;
}

/* The market's attributes; MKT_DRV_EINPUT naming a missing or bad one. */
static int s3_market_read(mkt_drv *d, s3_market *out)
{
	static const char *const required[] = { "ACCESS_KEY_ID", "SECRET_ACCESS_KEY", "REGION", "BUCKET" };
	const char *values[N_ELEMS(required)], *sig, *endpoint, *prefix;
	long long read_length;
	int aws, ret;
	size_t i;

	if ((ret = mkt_drv_market_require(d, "s3", required, N_ELEMS(required), values)) != 0)
		return ret;
	out->cfg.access_key_id = values[0];
	out->cfg.secret_access_key = values[1];
	out->cfg.region = values[2];
	out->cfg.bucket = values[3];
	if (!plain_name(out->cfg.bucket, ".-_"))
		return mkt_drv_fail(MKT_DRV_EINPUT, "BUCKET \"%s\" is not a bucket name", out->cfg.bucket);
	if (!plain_name(out->cfg.region, "-_"))
		return mkt_drv_fail(MKT_DRV_EINPUT, "REGION \"%s\" is not a region name", out->cfg.region);

	sig = mkt_drv_get(d, "MARKETPLACE/TEMPLATE/SIGNATURE_VERSION");
	out->cfg.signature = S3_SIGV4;
	if (sig && *sig) {
		for (i = 0; i < N_ELEMS(signatures) && strcasecmp(sig, signatures[i].name); i++)
			;
		if (i == N_ELEMS(signatures))
			return mkt_drv_fail(MKT_DRV_EINPUT, "SIGNATURE_VERSION \"%s\" is not v4 or v2 (s3)", sig);
		out->cfg.signature = signatures[i].sig;
	}

	if ((ret = read_bool(d, "AWS", 1, &aws)) != 0 ||
	    (ret = read_bool(d, "FORCE_PATH_STYLE", 0, &out->cfg.path_style)) != 0 ||
	    (ret = read_number(d, "TOTAL_MB", DEFAULT_TOTAL_MB, 0, 1LL << 50, &out->total_mb)) != 0 ||
	    (ret = read_number(d, "READ_LENGTH", DEFAULT_READ_LENGTH, 1, MAX_READ_LENGTH, &read_length)) != 0)
		return ret;
	out->part_size = (size_t)(read_length * (long long)MB);

	endpoint = mkt_drv_get(d, "MARKETPLACE/TEMPLATE/ENDPOINT");
	if (endpoint && *endpoint) {
		size_t len = strlen(endpoint);

		while (len > 0 && endpoint[len - 1] == '/')
			len--;
		out->endpoint = mkt_strndup(endpoint, len);
	} else if (!aws) {
		return mkt_drv_fail(MKT_DRV_EINPUT, "ENDPOINT is required when AWS is NO");
	} else {
		out->endpoint = mkt_asprintf("https://s3.%s.amazonaws.com", out->cfg.region);
	}
	out->cfg.endpoint = out->endpoint;

	prefix = mkt_drv_get(d, "MARKETPLACE/TEMPLATE/APP_PREFIX");
	out->prefix = prefix && *prefix ? prefix : "marketapp";
	if (!plain_name(out->prefix, "._-/") || strstr(out->prefix, ".."))
		return mkt_drv_fail(MKT_DRV_EINPUT,
				    "APP_PREFIX \"%s\" may hold only letters, digits, '.', '_', '-' and '/'",
				    out->prefix);
	out->cfg.user_agent = USER_AGENT;
	out->cfg.cancel = mkt_drv_stop_flag();
	return 0;
}

static int client_open(const s3_market *m, s3_client **out)
{
	if (s3_client_new(out, &m->cfg) < 0)
		return mkt_drv_fail(MKT_DRV_EINPUT, "%s", mkt_error_message());
	return 0;
}

/* The key of an app's SOURCE, "s3://BUCKET/<APP_PREFIX>-<name>" (borrowed
 * from @source); MKT_DRV_EINPUT for a SOURCE this market did not make. */
static int source_key(const s3_market *m, const char *source, const char **out)
{
	size_t blen = strlen(m->cfg.bucket), plen = strlen(m->prefix);
	const char *key = source + 5 + blen + 1;

	if (strncmp(source, "s3://", 5) || strncmp(source + 5, m->cfg.bucket, blen) ||
	    source[5 + blen] != '/' || strncmp(key, m->prefix, plen) || key[plen] != '-' ||
	    !key[plen + 1] || strstr(key, ".."))
		return mkt_drv_fail(MKT_DRV_EINPUT,
				    "SOURCE \"%s\" is not an app of this marketplace (s3://%s/%s-...)",
				    source, m->cfg.bucket, m->prefix);
	*out = key;
	return 0;
}

/* ---- import: the content, part after part --------------------------------- */

/*
 * The transfer hands the content over in order (hashing it on the way);
 * every part_size bytes make a part, sent when more content comes: with
 * v4 as the next part of a multipart upload, with v2 (no multipart) kept
 * for one PUT at the end.  Content that fits in one part is one PUT.
 * Nothing is visible in the bucket before upload_finish().
 *
 * Where a part's bytes come from when it is sent (and sent again on a
 * retry):
 *   - a source that is a local regular file, the usual case (an image of
 *     a datastore): the file itself, read back at the part's offset.  The
 *     driver then holds no part in memory, and a v2 PUT is of the file.
 *     The transfer reads the very file the parts come from (through
 *     /proc/self/fd, even if the path is renamed or replaced meanwhile),
 *     and the file must not change: upload_finish() refuses to keep the
 *     object when its size, times or identity moved, as the digests would
 *     not describe what was stored.
 *     A part read from the file is sent by a thread of its own while the
 *     transfer reads and hashes the next one: the network and the store
 *     are kept busy during the hashing.  One part is in flight at most, so
 *     the S3 client is never used by two threads at once.
 *   - anything else (a URL): a part buffer of part_size bytes, sent before
 *     the buffer is filled again, and for v2 a spool file in TMPDIR that
 *     the buffer is appended to.
 */
typedef struct {
	s3_client *client;
	const char *key;
	const char *source;     /* IMPORT_SOURCE as messages show it */
	size_t part_size;
	int src;                /* the source file, or -1 */
	char *src_path;         /* "/proc/self/fd/<src>": what the transfer reads */
	struct stat src_st;     /* as it was when the import began */
	unsigned char *buf;     /* the part being filled, when src is -1 */
	uint64_t sent;          /* bytes of the content before the current part */
	size_t len;             /* bytes of the current part */
	int parts;              /* parts sent so far */
	int part_failed;        /* a part's request failed, perhaps cut short */
	char *upload_id;        /* the multipart upload, once begun */
	int spool;              /* v2 without src: the spool file, or -1 */
	/* The part in flight (file sources) and how its sending ended. */
	int sending;
	pthread_t sender;
	s3_body flight;
	int flight_number;
	int flight_ret;
	mkt_error flight_error;
} upload;

/* @source is read; @display names it in messages. */
static int upload_init(upload *u, s3_client *c, const char *key, size_t part_size,
		       const char *source, const char *display)
{
	u->client = c;
	u->key = key;
	u->source = display;
	u->part_size = part_size;
	u->spool = -1;
	if ((u->src = mkt_transfer_open_file(source)) >= 0 && fstat(u->src, &u->src_st) < 0) {
		close(u->src);
		u->src = -1;
	}
	if (u->src < 0) {
		u->buf = mkt_malloc(part_size);
		return 0;
	}
	u->src_path = mkt_asprintf("/proc/self/fd/%d", u->src);
	return s3_client_fits(c, key, (uint64_t)u->src_st.st_size, part_size);
}

/* The current part, where upload_flush() and upload_finish() send it from. */
static s3_body upload_part(const upload *u)
{
	s3_body b = { u->buf, u->src, u->src >= 0 ? u->sent : 0, u->len };

	return b;
}

static int spool_write(upload *u)
{
	const unsigned char *p = u->buf;
	size_t n = u->len;

	if (u->spool < 0) {
		const char *dir = getenv("TMPDIR");
		char *path = mkt_asprintf("%s/s3-spool.XXXXXX", dir && *dir ? dir : "/tmp");

		u->spool = mkstemp(path);
		if (u->spool >= 0)
			unlink(path);   /* gone with the process, whatever happens */
		else
			mkt_error_set_os(errno, "cannot create a spool file %s", path);
		free(path);
		if (u->spool < 0)
			return MKT_ERROR;
	}
	while (n > 0) {
		ssize_t w = write(u->spool, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return mkt_error_set_os(w < 0 ? errno : EIO, "cannot write the spool file");
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* The source file still is what the transfer began to read and hash;
 * with @whole, also the transfer handed all of it over. */
static int source_unchanged(const upload *u, int whole)
{
	const struct stat *a = &u->src_st;
	struct stat b;

	if (u->src < 0)
		return 0;
	if (fstat(u->src, &b) < 0)
		return mkt_error_set_os(errno, "cannot read %s", u->source);
	if (a->st_dev != b.st_dev || a->st_ino != b.st_ino || a->st_size != b.st_size ||
	    a->st_mtim.tv_sec != b.st_mtim.tv_sec || a->st_mtim.tv_nsec != b.st_mtim.tv_nsec ||
	    a->st_ctim.tv_sec != b.st_ctim.tv_sec || a->st_ctim.tv_nsec != b.st_ctim.tv_nsec ||
	    (whole && u->sent + u->len != (uint64_t)a->st_size))
		return mkt_error_set(MKT_ERROR, MKT_ERR_DRIVER,
				     "%s changed while it was being imported; not storing it", u->source);
	return 0;
}

/* A part or PUT read from the file failed: when the file changed, say
 * that rather than what reading it meanwhile ran into. */
static int upload_failed(const upload *u, int ret)
{
	mkt_error first;
	int changed;

	if (ret >= 0 || u->src < 0)
		return ret;
	mkt_error_preserve(&first);
	if ((changed = source_unchanged(u, 0)) < 0)
		return changed;
	mkt_error_restore(&first);
	return ret;
}

static void *flight_run(void *ud)
{
	upload *u = ud;

	u->flight_ret = s3_multipart_part(u->client, u->key, u->upload_id, u->flight_number,
					  &u->flight);
	if (u->flight_ret < 0)
		mkt_error_preserve(&u->flight_error);
	return NULL;
}

/* Wait for the part in flight; its failure becomes this thread's error. */
static int upload_wait(upload *u)
{
	if (!u->sending)
		return 0;
	pthread_join(u->sender, NULL);
	u->sending = 0;
	if (u->flight_ret < 0) {
		u->part_failed = 1;
		mkt_error_restore(&u->flight_error);
	}
	return upload_failed(u, u->flight_ret);
}

/* Send the current part on: to S3 (from a file: in flight until the next
 * upload_wait()), to the spool, or (v2 reading the source file) nowhere
 * yet. */
static int upload_flush(upload *u)
{
	s3_body part = upload_part(u);
	int ret = 0;

	if (!s3_client_multipart(u->client)) {
		if (u->src < 0)
			ret = spool_write(u);
	} else {
		if ((ret = upload_wait(u)) < 0 ||
		    (!u->upload_id && (ret = s3_multipart_begin(u->client, u->key, &u->upload_id)) < 0))
			return ret;
		if (u->src < 0) {
			ret = s3_multipart_part(u->client, u->key, u->upload_id, u->parts + 1, &part);
			u->part_failed |= ret < 0;
		} else {
			u->flight = part;
			u->flight_number = u->parts + 1;
			u->sending = 1;
			if ((ret = pthread_create(&u->sender, NULL, flight_run, u)) != 0) {
				u->sending = 0;
				return mkt_error_set_os(ret, "cannot start a thread");
			}
		}
	}
	if (ret < 0)
		return ret;
	u->parts++;
	u->sent += u->len;
	u->len = 0;
	return 0;
}

/* The transfer's writer (mkt_transfer_opts.write). */
static int upload_write(void *ud, const unsigned char *p, size_t n)
{
	upload *u = ud;
	int ret;

	while (n > 0) {
		size_t c;

		if (u->len == u->part_size && (ret = upload_flush(u)) < 0)
			return ret;
		c = u->part_size - u->len < n ? u->part_size - u->len : n;
		if (u->buf)
			memcpy(u->buf + u->len, p, c);
		u->len += c;
		p += c;
		n -= c;
	}
	return 0;
}

/* All content is in: make the object. */
static int upload_finish(upload *u)
{
	mkt_error first;
	s3_body body;
	int ret;

	if (u->upload_id) {
		if ((u->len > 0 && (ret = upload_flush(u)) < 0) || (ret = upload_wait(u)) < 0 ||
		    (ret = source_unchanged(u, 1)) < 0)
			return ret;
		return s3_multipart_complete(u->client, u->key, u->upload_id);
	}
	if ((ret = source_unchanged(u, 1)) < 0)
		return ret;
	if (u->spool >= 0) {
		if ((ret = spool_write(u)) < 0)
			return ret;
		body = (s3_body){ NULL, u->spool, 0, u->sent + u->len };
	} else {
		/* One part, or v2 reading the source file. */
		body = (s3_body){ u->buf, u->src, 0, u->sent + u->len };
	}
	if ((ret = upload_failed(u, s3_object_put(u->client, u->key, &body))) < 0 ||
	    (ret = source_unchanged(u, 1)) == 0)
		return ret;
	/* The file changed while it was sent: the object is not what was
	 * hashed.  Removed whatever the stop flag says. */
	mkt_error_preserve(&first);
	s3_client_ignore_cancel(u->client);
	if (s3_object_delete(u->client, u->key) < 0)
		mkt_drv_log(MKT_LOG_WARN, "%s", mkt_error_message());
	mkt_error_restore(&first);
	return ret;
}

/* A failed upload leaves no parts behind (when the server lets us). */
static void upload_abort(upload *u)
{
	const struct timespec later = { 1, 0 };
	mkt_error first;
	int ret;

	/* The client is free once the part in flight has ended. */
	mkt_error_preserve(&first);
	upload_wait(u);
	mkt_error_restore(&first);
	if (!u->upload_id)
		return;
	s3_client_ignore_cancel(u->client);
	if (s3_multipart_abort(u->client, u->key, u->upload_id) < 0) {
		mkt_drv_log(MKT_LOG_WARN, "%s (its parts stay on the server until it expires them)",
			    mkt_error_message());
		return;
	}
	mkt_drv_log(MKT_LOG_INFO, "aborted the multipart upload of %s", u->key);
	if (!u->part_failed)
		return;
	/* S3 may still store a part whose request was cut short after the
	 * abort ("it might be necessary to abort a given multipart upload
	 * multiple times"): once more, a moment later.  Gone (NoSuchUpload)
	 * is what is hoped for; a failure here is about that one part only. */
	nanosleep(&later, NULL);
	ret = s3_multipart_abort(u->client, u->key, u->upload_id);
	if (ret < 0 && ret != MKT_ENOTFOUND)
		mkt_drv_log(MKT_LOG_WARN, "%s (a part cut short before the abort may stay on the "
			    "server until it expires it)", mkt_error_message());
}

static void upload_clear(upload *u)
{
	free(u->buf);
	free(u->upload_id);
	if (u->spool >= 0)
		close(u->spool);
	if (u->src >= 0)
		close(u->src);
	free(u->src_path);
}

/* The bucket exists (created when missing) and holds no object @key. */
static int import_check(s3_client *c, const char *key)
{
	uint64_t size;
	char *url;
	int ret;

	if ((ret = s3_bucket_head(c)) == MKT_ENOTFOUND) {
		url = s3_client_url(c, NULL);
		mkt_drv_log(MKT_LOG_INFO, "creating the bucket %s", url);
		free(url);
		ret = s3_bucket_create(c);
	}
	if (ret < 0)
		return mkt_drv_fail(MKT_DRV_EFAIL, "%s", mkt_error_message());
	if ((ret = s3_object_head(c, key, &size)) == 0) {
		url = s3_client_url(c, key);
		ret = mkt_drv_fail(MKT_DRV_EFAIL, "%s already exists (%llu bytes); not overwriting it",
				   url, (unsigned long long)size);
		free(url);
		return ret;
	}
	if (ret != MKT_ENOTFOUND)
		return mkt_drv_fail(MKT_DRV_EFAIL, "%s", mkt_error_message());
	return 0;
}

static int s3_import(mkt_drv *d)
{
	s3_market m = { 0 };
	s3_client *c = NULL;
	upload u = { .spool = -1, .src = -1 };
	mkt_transfer_opts opts = { 0 };
	mkt_transfer_result r;
	const char *id = NULL;
	const volatile int *stop;
	char *key = NULL, *url = NULL;
	int ret;

	if ((ret = s3_market_read(d, &m)) != 0 ||
	    (ret = mkt_drv_import_opts(d, &opts)) != 0 ||
	    (ret = mkt_drv_require_id(d, &id)) != 0)
		goto cleanup;
	if (m.part_size < MIN_S3_PART * MB)
		mkt_drv_log(MKT_LOG_WARN, "READ_LENGTH %llu is below S3's 5 MB minimum part size",
			    (unsigned long long)(m.part_size / MB));
	stop = mkt_drv_stop_flag();
	if ((ret = client_open(&m, &c)) != 0)
		goto cleanup;
	key = mkt_asprintf("%s-%s", m.prefix, id);
	url = s3_client_url(c, key);
	if ((ret = import_check(c, key)) != 0)
		goto cleanup;

	if (upload_init(&u, c, key, m.part_size, opts.source, opts.display) < 0) {
		ret = mkt_drv_fail(MKT_DRV_EINPUT, "%s", mkt_error_message());
		goto cleanup;
	}
	if (u.src_path)
		opts.source = u.src_path;
	opts.target = url;
	opts.write = upload_write;
	opts.write_ud = &u;
	mkt_drv_log(MKT_LOG_INFO, "importing %s into %s", opts.display, url);
	if ((ret = mkt_drv_transfer(&opts, USER_AGENT, &r)) != 0)
		goto cleanup;
	if ((ret = upload_finish(&u)) == 0)
		MKT_FREE(u.upload_id);  /* complete: nothing to abort */
	if (*stop) {
		/* marketd gave up on the action: an object made anyway would
		 * belong to no app. */
		if (ret == 0) {
			s3_client_ignore_cancel(c);
			s3_object_delete(c, key);
		}
		ret = mkt_drv_fail(MKT_DRV_EFAIL, "terminated by signal %d while writing %s",
				   (int)*stop, url);
		goto cleanup;
	}
	if (ret < 0) {
		ret = mkt_drv_fail(MKT_DRV_EFAIL, "%s", mkt_error_message());
		goto cleanup;
	}
	mkt_drv_log(MKT_LOG_INFO, "stored %s (%llu bytes)", url, (unsigned long long)r.bytes_out);

	mkt_drv_import_results(d, url, &r);

 cleanup:
	if (ret != 0)
		upload_abort(&u);
	upload_clear(&u);
	s3_client_free(c);
	free(url);
	free(key);
	s3_market_clear(&m);
	return ret;
}

/* ---- export, delete, monitor ------------------------------------------------ */

static int s3_export(mkt_drv *d)
{
	s3_market m = { 0 };
	s3_client *c = NULL;
	s3_download dl = { 0 };
	mkt_transfer_opts opts = { 0 };
	const char *source = NULL, *key;
	int ret;

	if ((ret = s3_market_read(d, &m)) != 0 ||
	    (ret = mkt_drv_require(d, "MARKETPLACEAPP/SOURCE", &source)) != 0 ||
	    (ret = source_key(&m, source, &key)) != 0 ||
	    (ret = client_open(&m, &c)) != 0)
		goto cleanup;
	if (s3_download_prepare(c, key, &dl, &opts) < 0) {
		ret = mkt_drv_fail(MKT_DRV_EFAIL, "%s", mkt_error_message());
		goto cleanup;
	}
	ret = mkt_drv_export(d, &opts, USER_AGENT);

 cleanup:
	s3_download_clear(&dl);
	s3_client_free(c);
	s3_market_clear(&m);
	return ret;
}

static int s3_delete(mkt_drv *d)
{
	s3_market m = { 0 };
	s3_client *c = NULL;
	const char *source = NULL, *key;
	uint64_t size;
	int ret;

	if ((ret = s3_market_read(d, &m)) != 0)
		goto cleanup;
	/* No SOURCE: an import cut short, whose key marketd never learnt;
	 * a multipart upload left open expires by the bucket's rules. */
	source = mkt_drv_get(d, "MARKETPLACEAPP/SOURCE");
	if (!source || !*source) {
		mkt_drv_log(MKT_LOG_INFO, "the app has no SOURCE: nothing known to delete");
		goto cleanup;
	}
	if ((ret = source_key(&m, source, &key)) != 0 ||
	    (ret = client_open(&m, &c)) != 0)
		goto cleanup;
	/* S3 answers a DELETE of a missing key with success: ask first. */
	if ((ret = s3_object_head(c, key, &size)) == MKT_ENOTFOUND) {
		mkt_drv_log(MKT_LOG_WARN, "%s does not exist; nothing to delete", source);
		ret = 0;
		goto cleanup;
	}
	if (ret < 0 || (ret = s3_object_delete(c, key)) < 0) {
		ret = mkt_drv_fail(MKT_DRV_EFAIL, "%s", mkt_error_message());
		goto cleanup;
	}
	mkt_drv_log(MKT_LOG_INFO, "removed %s (%llu bytes)", source, (unsigned long long)size);

 cleanup:
	s3_client_free(c);
	s3_market_clear(&m);
	return ret;
}

static int add_size(void *ud, const char *key, uint64_t size)
{
	(void)key;
	*(uint64_t *)ud += size;
	return 0;
}

static int s3_monitor(mkt_drv *d)
{
	s3_market m = { 0 };
	s3_client *c = NULL;
	uint64_t used = 0;
	long long used_mb;
	char *prefix = NULL;
	int ret;

	if ((ret = s3_market_read(d, &m)) != 0 || (ret = client_open(&m, &c)) != 0)
		goto cleanup;
	prefix = mkt_asprintf("%s-", m.prefix);
	if ((ret = s3_object_list(c, prefix, add_size, &used)) == MKT_ENOTFOUND) {
		/* The first import creates it. */
		mkt_drv_log(MKT_LOG_INFO, "the bucket %s does not exist yet", m.cfg.bucket);
		ret = 0;
	}
	if (ret < 0) {
		ret = mkt_drv_fail(MKT_DRV_EFAIL, "%s", mkt_error_message());
		goto cleanup;
	}
	used_mb = used ? mkt_drv_size_mb(used) : 0;
	mkt_drv_result_long("USED_MB", used_mb);
	mkt_drv_result_long("FREE_MB", m.total_mb > used_mb ? m.total_mb - used_mb : 0);
	mkt_drv_result_long("TOTAL_MB", m.total_mb);

 cleanup:
	free(prefix);
	s3_client_free(c);
	s3_market_clear(&m);
	return ret;
}

static const mkt_drv_action s3_actions[] = {
	{ "import", s3_import },
	{ "export", s3_export },
	{ "delete", s3_delete },
	{ "monitor", s3_monitor },
	{ NULL, NULL }
};

int main(int argc, char **argv)
{
	return mkt_drv_main(argc, argv, s3_actions);
}

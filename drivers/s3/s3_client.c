/*
 * s3_client.c: the transport-independent part of the S3 client (see
 * s3_client.h): configuration, messages, retries and the parts of a
 * multipart upload.
 */
#include <config.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/error.h"
#include "driver.h"
#include "s3_client_priv.h"

#define BACKOFF_FIRST_MS 500L
#define BACKOFF_MAX_MS 8000L
#define WAKE_MS 100L

/* The transport of each signature version. */
static const s3_transport *const transports[] = {
	[S3_SIGV4] = &s3__curl_transport,
	[S3_SIGV2] = &s3__libs3_transport,
};

static void config_copy(s3_config *to, const s3_config *from)
{
	*to = *from;
	to->access_key_id = mkt_strdup(from->access_key_id);
	to->secret_access_key = mkt_strdup(from->secret_access_key);
	to->region = mkt_strdup(from->region);
	to->bucket = mkt_strdup(from->bucket);
	to->endpoint = mkt_strdup(from->endpoint);
	to->user_agent = from->user_agent ? mkt_strdup(from->user_agent) : NULL;
}

static void config_clear(s3_config *c)
{
	free((char *)c->access_key_id);
	free((char *)c->secret_access_key);
	free((char *)c->region);
	free((char *)c->bucket);
	free((char *)c->endpoint);
	free((char *)c->user_agent);
}

static void etags_clear(s3_client *c)
{
	int i;

	for (i = 0; i < c->netags; i++)
		free(c->etags[i]);
	MKT_FREE(c->etags);
	c->netags = 0;
}

int s3_client_new(s3_client **out, const s3_config *cfg)
{
	s3_client *c = mkt_calloc(1, sizeof(*c));
	int ret = 0;

	config_copy(&c->cfg, cfg);
	if (!strncasecmp(c->cfg.endpoint, "https://", 8)) {
		c->https = 1;
		c->host = c->cfg.endpoint + 8;
	} else if (!strncasecmp(c->cfg.endpoint, "http://", 7)) {
		c->host = c->cfg.endpoint + 7;
	} else {
		ret = mkt_error_set(MKT_EINVAL, MKT_ERR_DRIVER,
				    "ENDPOINT \"%s\" is not an http:// or https:// URL", cfg->endpoint);
		goto cleanup;
	}
	if (!*c->host || strchr(c->host, '/')) {
		ret = mkt_error_set(MKT_EINVAL, MKT_ERR_DRIVER,
				    "ENDPOINT \"%s\" must be a scheme and a host[:port], without a path",
				    cfg->endpoint);
		goto cleanup;
	}
	c->t = transports[cfg->signature];
	if ((ret = c->t->open(c)) < 0)
		goto cleanup;
	*out = MKT_STEAL(c);

 cleanup:
	if (c) {
		config_clear(&c->cfg);
		free(c);
	}
	return ret;
}

void s3_client_free(s3_client *c)
{
	if (!c)
		return;
	c->t->close(c);
	etags_clear(c);
	config_clear(&c->cfg);
	free(c);
}

char *s3_client_url(const s3_client *c, const char *key)
{
	return key ? mkt_asprintf("s3://%s/%s", c->cfg.bucket, key) : mkt_asprintf("s3://%s", c->cfg.bucket);
}

int s3__status_code(long status)
{
	if (status == 404)
		return MKT_ENOTFOUND;
	if (status == 401 || status == 403)
		return MKT_EPERM;
	return MKT_ERROR;
}

ssize_t s3__body_read(const s3_body *body, uint64_t pos, void *buf, size_t n)
{
	ssize_t got;

	if (pos >= body->len)
		return 0;
	if (n > body->len - pos)
		n = (size_t)(body->len - pos);
	if (body->data) {
		memcpy(buf, body->data + pos, n);
		return (ssize_t)n;
	}
	do
		got = pread(body->fd, buf, n, (off_t)(body->offset + pos));
	while (got < 0 && errno == EINTR);
	if (got == 0) {
		/* The file is shorter than when the body was measured. */
		errno = EIO;
		return -1;
	}
	return got;
}

int s3__cancelled(const s3_client *c)
{
	return c->cfg.cancel && __atomic_load_n(c->cfg.cancel, __ATOMIC_RELAXED);
}

int s3__fail(s3_client *c, int code, int retryable, const char *what, const char *key,
	     long status, const char *s3code, const char *message)
{
	char *url = s3_client_url(c, key);
	mkt_buf why = MKT_BUF_INIT;
	int ret;

	c->retryable = retryable;
	if (status)
		mkt_buf_printf(&why, "HTTP %ld", status);
	if (s3code && *s3code)
		mkt_buf_printf(&why, "%s%s", why.len ? " " : "", s3code);
	if (message && *message)
		mkt_buf_printf(&why, "%s%s", why.len ? ": " : "", message);
	if (!why.len)
		mkt_buf_add(&why, "failed");
	if (code == MKT_EPERM)
		ret = mkt_error_set(code, MKT_ERR_DRIVER, "cannot %s %s: access denied (%s)", what, url,
				    mkt_buf_cstr(&why));
	else
		ret = mkt_error_set(code, MKT_ERR_DRIVER, "cannot %s %s: %s", what, url, mkt_buf_cstr(&why));
	mkt_buf_free(&why);
	free(url);
	return ret;
}

/* ---- retries ------------------------------------------------------------ */

/* Wait before attempt @attempt (1, 2, ...), in slices so a cancel is seen
 * at once. */
static int backoff(s3_client *c, int attempt)
{
	long ms = BACKOFF_FIRST_MS;
	int i;

	for (i = 1; i < attempt && ms < BACKOFF_MAX_MS; i++)
		ms *= 2;
	if (ms > BACKOFF_MAX_MS)
		ms = BACKOFF_MAX_MS;
	mkt_drv_log(MKT_LOG_WARN, "%s; retrying in %ld ms (%d of %d)", mkt_error_message(), ms,
		    attempt, S3_RETRIES);
	while (ms > 0) {
		long slice = ms < WAKE_MS ? ms : WAKE_MS;
		struct timespec ts = { 0, slice * 1000000L };

		if (s3__cancelled(c))
			return mkt_error_set(MKT_ERROR, MKT_ERR_DRIVER, "cancelled");
		nanosleep(&ts, NULL);
		ms -= slice;
	}
	return 0;
}

/* Run one operation, again while it fails in a way worth retrying.  The
 * operation is a statement that sets `ret`. */
#define WITH_RETRIES(c, call)                                                  \
	do {                                                                   \
		int attempt_;                                                  \
		for (attempt_ = 0;; attempt_++) {                              \
			(c)->retryable = 0;                                    \
			if (s3__cancelled(c)) {                                \
				ret = mkt_error_set(MKT_ERROR, MKT_ERR_DRIVER, "cancelled"); \
				break;                                         \
			}                                                      \
			ret = (call);                                          \
			if (ret == 0 || !(c)->retryable || attempt_ >= S3_RETRIES) \
				break;                                         \
			if ((ret = backoff((c), attempt_ + 1)) < 0)            \
				break;                                         \
		}                                                              \
	} while (0)

int s3_bucket_head(s3_client *c)
{
	int ret;

	WITH_RETRIES(c, c->t->bucket_head(c));
	return ret;
}

int s3_bucket_create(s3_client *c)
{
	int ret;

	WITH_RETRIES(c, c->t->bucket_create(c));
	return ret;
}

int s3_object_head(s3_client *c, const char *key, uint64_t *size)
{
	int ret;

	WITH_RETRIES(c, c->t->object_head(c, key, size));
	return ret;
}

/* S3's limits on one object, as every call that meets them says it. */
static int too_large(s3_client *c, const char *key, uint64_t size)
{
	char *url = s3_client_url(c, key);
	int ret;

	if (s3_client_multipart(c))
		ret = mkt_error_set(MKT_EINVAL, MKT_ERR_DRIVER,
				    "cannot write %s: larger than %d parts of READ_LENGTH; raise READ_LENGTH",
				    url, S3_MAX_PARTS);
	else
		ret = mkt_error_set(MKT_EINVAL, MKT_ERR_DRIVER,
				    "cannot write %s: %llu bytes is larger than 5 GiB, the most one PUT "
				    "(signature v2) can store", url, (unsigned long long)size);
	free(url);
	return ret;
}

int s3_client_fits(s3_client *c, const char *key, uint64_t size, uint64_t part_size)
{
	if (s3_client_multipart(c) ? size > part_size * S3_MAX_PARTS : size > S3_MAX_PUT)
		return too_large(c, key, size);
	return 0;
}

int s3_object_put(s3_client *c, const char *key, const s3_body *body)
{
	int ret;

	if (body->len > S3_MAX_PUT)
		return too_large(c, key, body->len);
	WITH_RETRIES(c, c->t->object_put(c, key, body));
	return ret;
}

int s3_object_delete(s3_client *c, const char *key)
{
	int ret;

	WITH_RETRIES(c, c->t->object_delete(c, key));
	return ret;
}

int s3_object_list(s3_client *c, const char *prefix, s3_list_cb cb, void *ud)
{
	char *marker = NULL, *next = NULL;
	int ret;

	do {
		free(marker);
		marker = MKT_STEAL(next);
		WITH_RETRIES(c, c->t->list_page(c, prefix, marker, cb, ud, &next));
	} while (ret == 0 && next);
	free(marker);
	free(next);
	return ret;
}

int s3_download_prepare(s3_client *c, const char *key, s3_download *out, mkt_transfer_opts *opts)
{
	int ret;

	memset(out, 0, sizeof(*out));
	if ((ret = c->t->download(c, key, out)) < 0) {
		s3_download_clear(out);
		return ret;
	}
	opts->source = out->url;
	opts->display = out->display;
	opts->headers = out->headers[0] ? out->headers : NULL;
	if (out->provider) {
		opts->aws_sigv4 = out->provider;
		opts->aws_key_id = c->cfg.access_key_id;
		opts->aws_secret = c->cfg.secret_access_key;
	}
	return 0;
}

void s3_download_clear(s3_download *d)
{
	MKT_FREE(d->url);
	MKT_FREE(d->display);
	MKT_FREE(d->provider);
}

/* ---- multipart ---------------------------------------------------------- */

int s3_client_multipart(const s3_client *c)
{
	return c->t->multipart_begin != NULL;
}

int s3_multipart_begin(s3_client *c, const char *key, char **upload_id)
{
	int ret;

	etags_clear(c);
	WITH_RETRIES(c, c->t->multipart_begin(c, key, upload_id));
	return ret;
}

int s3_multipart_part(s3_client *c, const char *key, const char *upload_id, int number,
		      const s3_body *body)
{
	char *etag = NULL;
	int ret;

	if (number < 1 || number > S3_MAX_PARTS)
		return too_large(c, key, 0);
	WITH_RETRIES(c, c->t->multipart_part(c, key, upload_id, number, body, &etag));
	if (ret < 0)
		return ret;
	if (number > c->netags) {
		c->etags = mkt_realloc(c->etags, (size_t)number * sizeof(*c->etags));
		memset(c->etags + c->netags, 0, (size_t)(number - c->netags) * sizeof(*c->etags));
		c->netags = number;
	}
	free(c->etags[number - 1]);
	c->etags[number - 1] = etag;
	return 0;
}

int s3_multipart_complete(s3_client *c, const char *key, const char *upload_id)
{
	int ret;

	WITH_RETRIES(c, c->t->multipart_complete(c, key, upload_id, c->etags, c->netags));
	return ret;
}

int s3_multipart_abort(s3_client *c, const char *key, const char *upload_id)
{
	int ret;

	WITH_RETRIES(c, c->t->multipart_abort(c, key, upload_id));
	return ret;
}

void s3_client_ignore_cancel(s3_client *c)
{
	c->cfg.cancel = NULL;
}

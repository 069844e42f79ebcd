/*
 * s3_libs3.c: the signature V2 transport of the S3 client, over libs3.
 *
 * libs3 (Debian's 2.0) signs V2 and does every call synchronously here
 * (no request context).  It has no multipart upload, so this transport
 * leaves those operations out and an object is one PUT.  Downloads do not
 * go through libs3: libs3 makes a presigned GET URL (V2 query-string
 * authentication, valid DOWNLOAD_VALID_S) and the transfer module reads
 * it like any HTTP URL, with Range resumes; the URL itself never appears
 * in a message (the signature is a credential until it expires).
 *
 * libs3 has no timeouts: a server that stops answering holds a call until
 * marketd's time limit for the action.
 */
#include <config.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libs3.h>

#include "common/alloc.h"
#include "common/error.h"
#include "s3_client_priv.h"

#define DOWNLOAD_VALID_S (7 * 24 * 3600)
#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

/* libs3's statuses that are not MKT_ERROR. */
static const struct {
	S3Status status;
	int code;
} status_codes[] = {
	{ S3StatusErrorNoSuchBucket, MKT_ENOTFOUND },
	{ S3StatusErrorNoSuchKey, MKT_ENOTFOUND },
	{ S3StatusHttpErrorNotFound, MKT_ENOTFOUND },
	{ S3StatusErrorAccessDenied, MKT_EPERM },
	{ S3StatusErrorInvalidAccessKeyId, MKT_EPERM },
	{ S3StatusErrorSignatureDoesNotMatch, MKT_EPERM },
	{ S3StatusErrorAccountProblem, MKT_EPERM },
	{ S3StatusHttpErrorForbidden, MKT_EPERM },
};

/* One call's callback data. */
typedef struct {
	s3_client *c;
	S3Status status;
	char message[512];
	uint64_t length;                /* Content-Length of the answer */
	/* put */
	const s3_body *body;
	uint64_t pos;
	int read_errno;
	/* list */
	s3_list_cb cb;
	void *ud;
	int cb_ret;
	int truncated;
	char *next;
} call;

static S3BucketContext bucket_context(const s3_client *c)
{
	S3BucketContext b = {
		.hostName = c->host,
		.bucketName = c->cfg.bucket,
		.protocol = c->https ? S3ProtocolHTTPS : S3ProtocolHTTP,
		.uriStyle = c->cfg.path_style ? S3UriStylePath : S3UriStyleVirtualHost,
		.accessKeyId = c->cfg.access_key_id,
		.secretAccessKey = c->cfg.secret_access_key,
	};

	return b;
}

static S3Status on_properties(const S3ResponseProperties *p, void *ud)
{
	call *k = ud;

	k->length = p->contentLength;
	return S3StatusOK;
}

static void on_complete(S3Status status, const S3ErrorDetails *e, void *ud)
{
	call *k = ud;

	k->status = status;
	if (e && e->message)
		snprintf(k->message, sizeof(k->message), "%s", e->message);
}

static const S3ResponseHandler response_handler = { on_properties, on_complete };

/* The result of call @k: 0, or its error recorded. */
static int finish(call *k, const char *what, const char *key)
{
	const char *name;
	int code = MKT_ERROR;
	size_t i;

	if (k->status == S3StatusOK)
		return 0;
	if (k->status == S3StatusAbortedByCallback && s3__cancelled(k->c))
		return mkt_error_set(MKT_ERROR, MKT_ERR_DRIVER, "cancelled");
	if (k->read_errno)
		return s3__fail(k->c, MKT_ERROR, 0, what, key, 0, NULL, strerror(k->read_errno));
	for (i = 0; i < N_ELEMS(status_codes); i++) {
		if (status_codes[i].status == k->status)
			code = status_codes[i].code;
	}
	/* "ErrorAccessDenied", "HttpErrorNotFound": S3's names follow. */
	name = S3_get_status_name(k->status);
	if (!strncmp(name, "HttpError", 9))
		name += 9;
	else if (!strncmp(name, "Error", 5))
		name += 5;
	return s3__fail(k->c, code, S3_status_is_retryable(k->status), what, key, 0, name,
			k->message[0] ? k->message : NULL);
}

static int libs3_open(s3_client *c)
{
	S3Status st = S3_initialize(c->cfg.user_agent, S3_INIT_ALL, c->host);

	if (st != S3StatusOK)
		return mkt_error_set(MKT_ERROR, MKT_ERR_DRIVER, "cannot initialise libs3: %s",
				     S3_get_status_name(st));
	/* Nothing else to keep: every call takes the bucket context. */
	c->impl = c;
	return 0;
}

static void libs3_close(s3_client *c)
{
	if (c->impl)
		S3_deinitialize();
	c->impl = NULL;
}

static int libs3_bucket_head(s3_client *c)
{
	call k = { .c = c };
	char location[64] = "";

	S3_test_bucket(c->https ? S3ProtocolHTTPS : S3ProtocolHTTP,
		       c->cfg.path_style ? S3UriStylePath : S3UriStyleVirtualHost,
		       c->cfg.access_key_id, c->cfg.secret_access_key, c->host, c->cfg.bucket,
		       sizeof(location), location, NULL, &response_handler, &k);
	return finish(&k, "read", NULL);
}

static int libs3_bucket_create(s3_client *c)
{
	call k = { .c = c };

	S3_create_bucket(c->https ? S3ProtocolHTTPS : S3ProtocolHTTP,
			 c->cfg.access_key_id, c->cfg.secret_access_key, c->host, c->cfg.bucket,
			 S3CannedAclPrivate, strcmp(c->cfg.region, "us-east-1") ? c->cfg.region : NULL,
			 NULL, &response_handler, &k);
	return finish(&k, "create", NULL);
}

static int libs3_object_head(s3_client *c, const char *key, uint64_t *size)
{
	S3BucketContext b = bucket_context(c);
	call k = { .c = c };
	int ret;

	S3_head_object(&b, key, NULL, &response_handler, &k);
	if ((ret = finish(&k, "read", key)) == 0)
		*size = k.length;
	return ret;
}

static int on_put_data(int size, char *buf, void *ud)
{
	call *k = ud;
	ssize_t got;

	if (s3__cancelled(k->c))
		return -1;
	if ((got = s3__body_read(k->body, k->pos, buf, (size_t)size)) < 0) {
		k->read_errno = errno;
		return -1;
	}
	k->pos += (uint64_t)got;
	return (int)got;
}

static int libs3_object_put(s3_client *c, const char *key, const s3_body *body)
{
	S3BucketContext b = bucket_context(c);
	S3PutProperties props = { .contentType = "application/octet-stream", .expires = -1 };
	S3PutObjectHandler h = { response_handler, on_put_data };
	call k = { .c = c, .body = body };

	S3_put_object(&b, key, body->len, &props, NULL, &h, &k);
	return finish(&k, "write", key);
}

static int libs3_object_delete(s3_client *c, const char *key)
{
	S3BucketContext b = bucket_context(c);
	call k = { .c = c };

	S3_delete_object(&b, key, NULL, &response_handler, &k);
	return finish(&k, "delete", key);
}

static S3Status on_list(int truncated, const char *next_marker, int n,
			const S3ListBucketContent *contents, int nprefixes,
			const char **prefixes, void *ud)
{
	call *k = ud;
	int i;

	(void)nprefixes, (void)prefixes;
	k->truncated = truncated;
	for (i = 0; i < n && !k->cb_ret; i++)
		k->cb_ret = k->cb(k->ud, contents[i].key, contents[i].size);
	free(k->next);
	k->next = NULL;
	if (next_marker && *next_marker)
		k->next = mkt_strdup(next_marker);
	else if (n > 0)
		k->next = mkt_strdup(contents[n - 1].key);
	return k->cb_ret ? S3StatusAbortedByCallback : S3StatusOK;
}

static int libs3_list_page(s3_client *c, const char *prefix, const char *marker,
			   s3_list_cb cb, void *ud, char **next)
{
	S3BucketContext b = bucket_context(c);
	S3ListBucketHandler h = { response_handler, on_list };
	call k = { .c = c, .cb = cb, .ud = ud };
	int ret;

	*next = NULL;
	S3_list_bucket(&b, prefix, marker, NULL, 1000, NULL, &h, &k);
	if (k.cb_ret) {
		ret = k.cb_ret;
	} else if ((ret = finish(&k, "list", NULL)) == 0 && k.truncated) {
		if (!k.next)
			ret = s3__fail(c, MKT_ERROR, 0, "list", NULL, 0, NULL,
				       "a truncated listing without keys");
		else
			*next = MKT_STEAL(k.next);
	}
	free(k.next);
	return ret;
}

static int libs3_download(s3_client *c, const char *key, s3_download *out)
{
	S3BucketContext b = bucket_context(c);
	char url[S3_MAX_AUTHENTICATED_QUERY_STRING_SIZE];
	S3Status st;

	st = S3_generate_authenticated_query_string(url, &b, key, (int64_t)time(NULL) + DOWNLOAD_VALID_S, NULL);
	if (st != S3StatusOK)
		return s3__fail(c, MKT_ERROR, 0, "read", key, 0, NULL, S3_get_status_name(st));
	out->url = mkt_strdup(url);
	out->display = s3_client_url(c, key);
	return 0;
}

const s3_transport s3__libs3_transport = {
	.open = libs3_open,
	.close = libs3_close,
	.bucket_head = libs3_bucket_head,
	.bucket_create = libs3_bucket_create,
	.object_head = libs3_object_head,
	.object_put = libs3_object_put,
	.object_delete = libs3_object_delete,
	.list_page = libs3_list_page,
	.download = libs3_download,
	/* libs3 2.0 has no multipart upload. */
};

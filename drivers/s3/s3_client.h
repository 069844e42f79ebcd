/*
 * s3_client.h: the S3 operations the s3 market driver needs.
 *
 * One interface over two transports, chosen by the market's
 * SIGNATURE_VERSION (s3_client_new()):
 *
 *   v4        s3_curl.c    libcurl; libcurl signs (CURLOPT_AWS_SIGV4)
 *   v2, s3    s3_libs3.c   libs3, which signs V2 only
 *
 * No signing code is written here: each transport lets its library sign.
 * Debian's libs3 has no multipart upload and libcurl cannot sign V2, so
 * multipart uploads exist for v4 only (s3_client_multipart() says so); a
 * v2 market stores an object with one PUT, at most 5 GiB.
 *
 * Errors follow src/common/error.h: a negative mkt_status with a one-line
 * message naming the object, e.g.
 *   "cannot write s3://b/marketapp-4: access denied (HTTP 403
 *    InvalidAccessKeyId: The AWS Access Key Id you provided does not exist
 *    in our records.)"
 *   MKT_ENOTFOUND  no such bucket or object
 *   MKT_EPERM      access denied (HTTP 401/403: unknown key id, wrong
 *                  secret, no permission)
 *   MKT_ERROR      anything else
 * The credentials never appear in a message.  Failures worth retrying (the
 * network, HTTP 5xx, a slow-down answer) are retried inside the call, with
 * a backoff of 0.5 s doubling up to 8 s, up to S3_RETRIES times; a cancel
 * flag stops the waits and the request in flight.
 */
#ifndef MKT_S3_CLIENT_H
#define MKT_S3_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "common/transfer.h"

#define S3_RETRIES 5
/* A single PUT holds at most 5 GiB (S3's limit). */
#define S3_MAX_PUT (5ULL << 30)
/* Multipart: at most 10000 parts, each of at least 5 MiB but the last. */
#define S3_MAX_PARTS 10000

typedef enum {
	S3_SIGV4 = 0,
	S3_SIGV2
} s3_signature;

typedef struct {
	const char *access_key_id;
	const char *secret_access_key;
	const char *region;
	const char *bucket;
	/* "http://host[:port]" or "https://host[:port]", no path. */
	const char *endpoint;
	s3_signature signature;
	int path_style;                 /* /bucket/key rather than bucket.host/key */
	const char *user_agent;
	/* When it becomes non-zero, calls stop and fail with "cancelled". */
	const volatile int *cancel;
} s3_config;

typedef struct s3_client s3_client;

/* The content of a PUT or of a part: @len bytes at @data, or when @data
 * is NULL, read from @fd at @offset (with pread(), so a retry reads it
 * again and one fd serves every part). */
typedef struct {
	const unsigned char *data;
	int fd;
	uint64_t offset;
	uint64_t len;
} s3_body;

/* Called for each object of a listing; non-zero stops it (returned). */
typedef int (*s3_list_cb)(void *ud, const char *key, uint64_t size);

/* @cfg's strings are copied. */
int s3_client_new(s3_client **out, const s3_config *cfg);
void s3_client_free(s3_client *c);          /* accepts NULL */

/* From now on, calls run whatever the cancel flag says: the clean-up of
 * a cancelled upload (abort, delete). */
void s3_client_ignore_cancel(s3_client *c);

/* "s3://bucket/key" as messages name an object (caller frees). */
char *s3_client_url(const s3_client *c, const char *key);

/* 0 when the bucket exists, MKT_ENOTFOUND when it does not. */
int s3_bucket_head(s3_client *c);
int s3_bucket_create(s3_client *c);

/* Size of an object; MKT_ENOTFOUND when it does not exist. */
int s3_object_head(s3_client *c, const char *key, uint64_t *size);
int s3_object_put(s3_client *c, const char *key, const s3_body *body);
int s3_object_delete(s3_client *c, const char *key);
/* Every object whose key starts with @prefix, page after page. */
int s3_object_list(s3_client *c, const char *prefix, s3_list_cb cb, void *ud);

/* Download source: fills @opts's source, display, headers and signing
 * fields so that mkt_transfer_run() reads the object over HTTP (resuming
 * with Range requests).  The strings belong to @out; free with
 * s3_download_clear(). */
typedef struct {
	char *url;
	char *display;
	char *provider;
	const char *headers[2];
} s3_download;

int s3_download_prepare(s3_client *c, const char *key, s3_download *out, mkt_transfer_opts *opts);
void s3_download_clear(s3_download *d);

/* Can @size bytes be stored under @key: in parts of @part_size (multipart)
 * or with one PUT (v2)?  0, or MKT_EINVAL with the message the upload
 * itself would fail with, so content that cannot be stored is refused
 * before it is read. */
int s3_client_fits(s3_client *c, const char *key, uint64_t size, uint64_t part_size);

/* Multipart upload (v4 only): nonzero when the transport has it. */
int s3_client_multipart(const s3_client *c);
int s3_multipart_begin(s3_client *c, const char *key, char **upload_id);
/* Part @number (1..S3_MAX_PARTS); its ETag is kept in the client for
 * s3_multipart_complete(). */
int s3_multipart_part(s3_client *c, const char *key, const char *upload_id, int number,
		      const s3_body *body);
int s3_multipart_complete(s3_client *c, const char *key, const char *upload_id);
int s3_multipart_abort(s3_client *c, const char *key, const char *upload_id);

#endif

/*
 * s3_client_priv.h: what s3_client.c shares with its two transports
 * (s3_curl.c, s3_libs3.c).  Not part of the contract: include only from
 * them.
 */
#ifndef MKT_S3_CLIENT_PRIV_H
#define MKT_S3_CLIENT_PRIV_H

#include <sys/types.h>

#include "s3_client.h"

/*
 * A transport: one row per signature version.  Every operation returns 0
 * or a negative mkt_status recorded with s3__fail(); s3_client.c does the
 * retries.  The multipart operations are NULL where the library has none.
 */
typedef struct {
	int (*open)(s3_client *c);
	void (*close)(s3_client *c);
	int (*bucket_head)(s3_client *c);
	int (*bucket_create)(s3_client *c);
	int (*object_head)(s3_client *c, const char *key, uint64_t *size);
	int (*object_put)(s3_client *c, const char *key, const s3_body *body);
	int (*object_delete)(s3_client *c, const char *key);
	/* One page of a listing from @marker (NULL: the first); *@next is
	 * the marker of the next page, NULL after the last. */
	int (*list_page)(s3_client *c, const char *prefix, const char *marker,
			 s3_list_cb cb, void *ud, char **next);
	int (*download)(s3_client *c, const char *key, s3_download *out);
	int (*multipart_begin)(s3_client *c, const char *key, char **upload_id);
	int (*multipart_part)(s3_client *c, const char *key, const char *upload_id, int number,
			      const s3_body *body, char **etag);
	int (*multipart_complete)(s3_client *c, const char *key, const char *upload_id,
				  char *const *etags, int n);
	int (*multipart_abort)(s3_client *c, const char *key, const char *upload_id);
} s3_transport;

extern const s3_transport s3__curl_transport;
extern const s3_transport s3__libs3_transport;

struct s3_client {
	s3_config cfg;                  /* strings owned */
	const char *host;               /* endpoint without its scheme: host[:port] */
	int https;
	const s3_transport *t;
	void *impl;                     /* the transport's state */
	int retryable;                  /* the last failure is worth a retry */
	char **etags;                   /* of the multipart upload's parts, by number - 1 */
	int netags;
};

/*
 * Record a failed request: "cannot <what> <s3 url>: <why>", where <why>
 * is "access denied (HTTP <status> <code>: <message>)" for MKT_EPERM and
 * "HTTP <status> <code>: <message>" otherwise; @status 0 leaves "HTTP
 * <status>" out, @code and @message may be NULL.  @key NULL names the
 * bucket.  Sets c->retryable from @retryable.  Returns the mkt_status.
 */
int s3__fail(s3_client *c, int code, int retryable, const char *what, const char *key,
	     long status, const char *s3code, const char *message);

/* The mkt_status of an HTTP status: 404 MKT_ENOTFOUND, 401/403 MKT_EPERM,
 * else MKT_ERROR. */
int s3__status_code(long status);

/* Copy up to @n bytes of @body from position @pos (relative to the
 * body's start) into @buf: the count (0 at the end), or -1 with errno set
 * when reading its fd failed.  Both transports feed their libraries'
 * read callbacks with it. */
ssize_t s3__body_read(const s3_body *body, uint64_t pos, void *buf, size_t n);

/* Nonzero once the configured cancel flag is set. */
int s3__cancelled(const s3_client *c);

#endif

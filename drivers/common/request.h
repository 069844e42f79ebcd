/*
 * request.h: one HTTP request whose reply is read whole into memory, for
 * the drivers that talk to an API rather than copy content: the one
 * driver's catalog GET, the osb driver's broker calls.  (Content is
 * streamed by the transfer module, src/common/transfer.h, instead.)
 *
 * libcurl, with the proxy variables of the environment (http_proxy,
 * https_proxy, no_proxy, ALL_PROXY; libcurl ignores an upper-case
 * HTTP_PROXY on purpose), a connect and a total time limit, and a cap on
 * the body so that a runaway server cannot fill the memory.  Nothing is
 * printed: the caller decides what a status or a failure means and says
 * it in its own words.
 */
#ifndef MKT_DRV_REQUEST_H
#define MKT_DRV_REQUEST_H

#include <stddef.h>

typedef struct {
	const char *method;            /* "GET" (also when NULL), "PUT", "PATCH", "DELETE" */
	const char *url;
	const char *const *headers;    /* "Name: value" lines, NULL terminated; may be NULL */
	const char *body;              /* sent when not NULL */
	size_t body_len;
	const char *username;          /* Basic auth when not NULL */
	const char *password;
	const char *user_agent;        /* may be NULL */
	long connect_timeout;          /* seconds; 0 = libcurl's default */
	long timeout;                  /* seconds, the whole exchange; 0 = none */
	size_t max_size;               /* bytes of (decoded) body kept */
	int follow_redirects;          /* 3xx followed (at most 10) */
	int accept_encoding;           /* ask for compressed replies */
	const char *capture_header;    /* a response header to keep, e.g. "Retry-After" */
} mkt_drv_request;

/* How a request ended, beside the HTTP status of a reply. */
typedef enum {
	MKT_DRV_REQ_OK = 0,        /* a whole reply came: see status */
	MKT_DRV_REQ_ENOTSENT,      /* no byte of the request left (no connection, DNS, TLS) */
	MKT_DRV_REQ_ETIMEOUT,      /* the time limit ran out after the request went out */
	MKT_DRV_REQ_ECUT,          /* any other failure after it went out (connection cut) */
	MKT_DRV_REQ_ETOOLARGE      /* the body was larger than max_size (status is set) */
} mkt_drv_req_end;

typedef struct {
	mkt_drv_req_end end;
	long status;               /* the HTTP status; 0 when no reply came */
	char *body;                /* NUL terminated (may hold NULs before); never NULL after a run */
	size_t len;
	char *header;              /* capture_header's value (trimmed), or NULL */
	char *message;             /* for end != OK: libcurl's reason, e.g. "Timeout was reached (…)" */
} mkt_drv_response;

/*
 * Run @req.  0 when a whole reply came (out->status is its status,
 * whatever it is); -1 otherwise, out->end and out->message saying how (a
 * libcurl that does not initialise is MKT_DRV_REQ_ENOTSENT).  Either way
 * *out must be freed with mkt_drv_response_free().
 */
int mkt_drv_request_run(const mkt_drv_request *req, mkt_drv_response *out);

void mkt_drv_response_free(mkt_drv_response *r);   /* accepts NULL */

#endif

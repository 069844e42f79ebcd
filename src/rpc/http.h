/*
 * http.h: marketd's HTTP front end (libmicrohttpd).
 *
 * One event-driven server serves every path: a route table maps a path
 * and a method to a handler, so a web page's static files can sit beside
 * /RPC2 as more rows.  An idle or slow client costs a socket and a few
 * bytes, never a thread: libmicrohttpd's pool threads each run an epoll
 * loop over many connections, close those idle for longer than the
 * timeout and cap connections in all and per client address.
 *
 * Handlers run on a pool thread once the whole body is in memory (bodies
 * are bounded, so reading one never blocks a thread).  A handler may block
 * (marketd's handlers wait for the core lock): it then delays only the
 * other ready requests of its own pool thread, which is why the pool has
 * a few threads more than the CPUs.  A request that may wait for long (a
 * zone's long poll of the change log) must not hold a pool thread: the
 * route's `slow` says which, and those run on a thread of their own while
 * their connection is suspended (at most MKT_HTTP_SLOW_MAX at once; more
 * run as the others do).
 */
#ifndef MKT_RPC_HTTP_H
#define MKT_RPC_HTTP_H

#include <stddef.h>

/* Requests are templates and ids; 2 MiB is far above any real one. */
#define MKT_HTTP_BODY_LIMIT (2u * 1024 * 1024)

typedef struct {
	const char *method;          /* "POST", "GET"... */
	const char *path;
	const char *body;            /* NUL-terminated; "" without a body */
	size_t body_len;
	const char *client_addr;     /* numeric address of the peer, "?" if unknown */
} mkt_http_request;

/* A body made while it is sent: up to @max bytes at @pos into @buf; the
 * count (0 only at the end), or -1 to cut the connection. */
typedef long (*mkt_http_body_fn)(void *arg, unsigned long long pos, char *buf, size_t max);

/* body_len of a reader's body whose length is known only at its end
 * (sent chunked, or up to the connection's close for HTTP/1.0). */
#define MKT_HTTP_SIZE_UNKNOWN ((size_t)-1)

typedef struct {
	unsigned status;             /* 200 unless the handler sets another */
	const char *content_type;    /* static string */
	char *body;                  /* malloc'd, freed by the front end */
	size_t body_len;
	/* Or, body NULL: body_len bytes from @reader, then @reader_free(arg)
	 * (a large answer sent as it is encoded, not copied whole first). */
	mkt_http_body_fn reader;
	void (*reader_free)(void *arg);
	void *reader_arg;
} mkt_http_response;

/* Fill @out; return 0, or -1 for "500 Internal Server Error". */
typedef int (*mkt_http_handler)(void *arg, const mkt_http_request *req, mkt_http_response *out);

/* Non-zero when @req may keep its handler waiting for long. */
typedef int (*mkt_http_slow_fn)(const mkt_http_request *req);

#define MKT_HTTP_SLOW_MAX 64

typedef struct {
	const char *path;            /* exact path */
	const char *method;          /* the one method served; others get 405 */
	mkt_http_handler handler;
	mkt_http_slow_fn slow;       /* NULL: no request of the route is */
} mkt_http_route;

typedef struct {
	int listen_fd;               /* bound, not yet listening; the server owns it */
	unsigned threads;            /* event threads in the pool */
	unsigned max_conn;           /* connections at once, in all */
	unsigned max_conn_per_addr;  /* and per client address (0: no limit) */
	unsigned timeout;            /* seconds a connection may stay idle */
	const mkt_http_route *routes;
	size_t nroutes;
	void *arg;                   /* passed to every handler */
} mkt_http_config;

typedef struct mkt_http mkt_http;

/* A server for @conf; it owns conf->listen_fd from now on.  No thread
 * starts before mkt_http_run() (a daemon forks in between). */
int mkt_http_new(mkt_http **out, const mkt_http_config *conf);
/* Start the threads (they inherit the caller's signal mask) and serve
 * until mkt_http_stop(); then stop accepting, let the answers in flight
 * go out (for up to the timeout), close every connection, join the
 * threads and return 0, or an error if the server could not start. */
int mkt_http_run(mkt_http *h);
/* Make mkt_http_run() return, or not start; safe from any thread (a
 * signal thread). */
void mkt_http_stop(mkt_http *h);
/* Accepts NULL; not while mkt_http_run() runs. */
void mkt_http_free(mkt_http *h);

#endif

/*
 * http.c: the HTTP front end on libmicrohttpd (see http.h).
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <microhttpd.h>

#include "common/alloc.h"
#include "common/error.h"
#include "common/log.h"
#include "http.h"

#define LISTEN_BACKLOG 512

struct mkt_http {
	struct MHD_Daemon *mhd;
	mkt_http_config conf;
	pthread_mutex_t mu;
	pthread_cond_t cond;
	int stopping;
	unsigned in_flight;          /* requests past their handler, not yet sent */
	unsigned slow;               /* requests on threads of their own */
};

/* One request's state, from its headers to its completion. */
typedef struct {
	const mkt_http_route *route;
	char *body;
	size_t len;
	int too_large;
	int counted;                 /* in mkt_http.in_flight */
	/* A slow request's answer, made on its own thread while the
	 * connection was suspended. */
	struct MHD_Connection *conn;
	mkt_http *h;
	char *addr;
	int answered;
	int failed;
	mkt_http_response resp;
} request;

/* Plain-text answers of the front end itself, one row per status. */
static const struct {
	unsigned status;
	const char *text;
} status_texts[] = {
	{ MHD_HTTP_NOT_FOUND, "Not Found\n" },
	{ MHD_HTTP_METHOD_NOT_ALLOWED, "Method Not Allowed\n" },
	{ MHD_HTTP_CONTENT_TOO_LARGE, "Request body larger than 2097152 bytes.\n" },
	{ MHD_HTTP_INTERNAL_SERVER_ERROR, "Internal Server Error\n" },
};

static enum MHD_Result queue(struct MHD_Connection *c, unsigned status, const char *type,
			     char *body, size_t len, const char *allow)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;

	resp = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	if (!resp) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	if (allow)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, allow);
	ret = MHD_queue_response(c, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result queue_status(struct MHD_Connection *c, unsigned status, const char *allow)
{
	const char *text = "";
	size_t i;

	for (i = 0; i < sizeof(status_texts) / sizeof(status_texts[0]); i++) {
		if (status_texts[i].status == status)
			text = status_texts[i].text;
	}
	return queue(c, status, "text/plain", mkt_strdup(text), strlen(text), allow);
}

static void client_address(struct MHD_Connection *c, char *buf, size_t bufsz)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *sa = ci ? ci->client_addr : NULL;
	socklen_t sl = sa && sa->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) :
						       sizeof(struct sockaddr_in);

	if (!sa || getnameinfo(sa, sl, buf, bufsz, NULL, 0, NI_NUMERICHOST) != 0)
		snprintf(buf, bufsz, "?");
}

/* The first call, with the headers: route, or answer at once. */
static enum MHD_Result on_headers(mkt_http *h, struct MHD_Connection *c, const char *url,
				  const char *method, void **con_cls)
{
	const mkt_http_route *route = NULL, *path_match = NULL;
	const char *len;
	request *r;
	size_t i;

	for (i = 0; i < h->conf.nroutes; i++) {
		const mkt_http_route *row = &h->conf.routes[i];

		if (strcmp(row->path, url) != 0)
			continue;
		path_match = row;
		if (!strcmp(row->method, method))
			route = row;
	}
	if (!path_match)
		return queue_status(c, MHD_HTTP_NOT_FOUND, NULL);
	if (!route)
		return queue_status(c, MHD_HTTP_METHOD_NOT_ALLOWED, path_match->method);
	/* Refuse before the body comes: MHD then closes the connection. */
	len = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
	if (len && strtoull(len, NULL, 10) > MKT_HTTP_BODY_LIMIT)
		return queue_status(c, MHD_HTTP_CONTENT_TOO_LARGE, NULL);
	r = mkt_calloc(1, sizeof(*r));
	r->route = route;
	*con_cls = r;
	return MHD_YES;
}

/* A chunked body may still outgrow the limit: the rest is read and
 * dropped (the connection timeout bounds how long), then 413. */
static void on_body(request *r, const char *data, size_t size)
{
	if (r->too_large)
		return;
	if (size > MKT_HTTP_BODY_LIMIT - r->len) {
		r->too_large = 1;
		free(r->body);
		r->body = NULL;
		r->len = 0;
		return;
	}
	r->body = mkt_realloc(r->body, r->len + size + 1);
	memcpy(r->body + r->len, data, size);
	r->len += size;
	r->body[r->len] = '\0';
}

static ssize_t read_body(void *cls, uint64_t pos, char *buf, size_t max)
{
	mkt_http_response *resp = cls;
	long n = resp->reader(resp->reader_arg, (unsigned long long)pos, buf, max);

	return n < 0 ? MHD_CONTENT_READER_END_WITH_ERROR :
	       n == 0 ? MHD_CONTENT_READER_END_OF_STREAM : (ssize_t)n;
}

static void free_body(void *cls)
{
	mkt_http_response *resp = cls;

	if (resp->reader_free)
		resp->reader_free(resp->reader_arg);
	free(resp);
}

static enum MHD_Result queue_reader(struct MHD_Connection *c, mkt_http_response *r)
{
	mkt_http_response *own = mkt_malloc(sizeof(*own));
	struct MHD_Response *resp;
	enum MHD_Result ret;

	*own = *r;
	memset(r, 0, sizeof(*r));
	resp = MHD_create_response_from_callback(own->body_len == MKT_HTTP_SIZE_UNKNOWN ?
						 MHD_SIZE_UNKNOWN : own->body_len,
						 64 * 1024, read_body, own, free_body);
	if (!resp) {
		free_body(own);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, own->content_type);
	ret = MHD_queue_response(c, own->status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static void response_clear(mkt_http_response *resp)
{
	free(resp->body);
	resp->body = NULL;
	if (resp->reader && resp->reader_free)
		resp->reader_free(resp->reader_arg);
	resp->reader = NULL;
}

static enum MHD_Result queue_answer(struct MHD_Connection *c, int failed,
				    mkt_http_response *resp)
{
	if (failed) {
		response_clear(resp);
		return queue_status(c, MHD_HTTP_INTERNAL_SERVER_ERROR, NULL);
	}
	if (!resp->body && resp->reader)
		return queue_reader(c, resp);
	return queue(c, resp->status, resp->content_type, MKT_STEAL(resp->body),
		     resp->body_len, NULL);
}

/* A slow request's thread: answer, then give the connection back to its
 * pool thread, which sends the answer (on_complete again).  Nothing of
 * @r may be touched after the resume: the connection may end at once. */
static void *run_slow(void *arg)
{
	request *r = arg;
	mkt_http *h = r->h;
	mkt_http_request req = { r->route->method, r->route->path, r->body ? r->body : "",
				 r->len, r->addr };

	r->failed = r->route->handler(h->conf.arg, &req, &r->resp) < 0;
	r->answered = 1;
	pthread_mutex_lock(&h->mu);
	h->slow--;
	MHD_resume_connection(r->conn);
	pthread_cond_broadcast(&h->cond);
	pthread_mutex_unlock(&h->mu);
	return NULL;
}

/* Run @r's handler on a thread of its own, its connection suspended;
 * 0 when there is no room for one more (run it here). */
static int start_slow(mkt_http *h, struct MHD_Connection *c, request *r, const char *addr)
{
	pthread_attr_t attr;
	pthread_t t;
	int ok = 0;

	pthread_mutex_lock(&h->mu);
	if (h->slow < MKT_HTTP_SLOW_MAX && !h->stopping) {
		r->conn = c;
		r->h = h;
		r->addr = mkt_strdup(addr);
		pthread_attr_init(&attr);
		pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
		MHD_suspend_connection(c);
		if (pthread_create(&t, &attr, run_slow, r) == 0) {
			h->slow++;
			ok = 1;
		} else {
			MHD_resume_connection(c);
		}
		pthread_attr_destroy(&attr);
	}
	pthread_mutex_unlock(&h->mu);
	return ok;
}

static enum MHD_Result on_complete(mkt_http *h, struct MHD_Connection *c, const char *url,
				   const char *method, request *r)
{
	mkt_http_response resp = { MHD_HTTP_OK, "text/plain", NULL, 0, NULL, NULL, NULL };
	char addr[64];
	mkt_http_request req = { method, url, r->body ? r->body : "", r->len, addr };

	if (r->answered)
		return queue_answer(c, r->failed, &r->resp);
	if (r->too_large)
		return queue_status(c, MHD_HTTP_CONTENT_TOO_LARGE, NULL);
	client_address(c, addr, sizeof(addr));
	pthread_mutex_lock(&h->mu);
	h->in_flight++;
	r->counted = 1;
	pthread_mutex_unlock(&h->mu);
	if (r->route->slow && r->route->slow(&req)) {
		r->resp = resp;
		if (start_slow(h, c, r, addr))
			return MHD_YES;
	}
	return queue_answer(c, r->route->handler(h->conf.arg, &req, &resp) < 0, &resp);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version,
				  const char *upload_data, size_t *upload_data_size,
				  void **con_cls)
{
	mkt_http *h = cls;
	request *r = *con_cls;

	if (!r)
		return on_headers(h, c, url, method, con_cls);
	if (*upload_data_size) {
		on_body(r, upload_data, *upload_data_size);
		*upload_data_size = 0;
		return MHD_YES;
	}
	return on_complete(h, c, url, method, r);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	mkt_http *h = cls;
	request *r = *con_cls;

	if (!r)
		return;
	if (r->counted) {
		pthread_mutex_lock(&h->mu);
		h->in_flight--;
		pthread_cond_broadcast(&h->cond);
		pthread_mutex_unlock(&h->mu);
	}
	free(r->body);
	free(r->addr);
	response_clear(&r->resp);
	free(r);
	*con_cls = NULL;
}

/* libmicrohttpd's own messages (a refused connection, a timeout) are
 * about one client each: debug level, not warnings. */
__attribute__((format(printf, 2, 0)))
static void on_log(void *cls, const char *fmt, va_list ap)
{
	char msg[512];
	size_t n;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	n = strlen(msg);
	while (n > 0 && msg[n - 1] == '\n')
		msg[--n] = '\0';
	mkt_log(MKT_LOG_DEBUG, "http", "%s", msg);
}

static int listen_on(int fd)
{
	int flags = fcntl(fd, F_GETFL);

	if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
		return mkt_error_set_os(errno, "cannot make the API socket non-blocking");
	if (listen(fd, LISTEN_BACKLOG) < 0)
		return mkt_error_set_os(errno, "cannot listen on the API socket");
	return 0;
}

int mkt_http_new(mkt_http **out, const mkt_http_config *conf)
{
	mkt_http *h = mkt_calloc(1, sizeof(*h));

	h->conf = *conf;
	pthread_mutex_init(&h->mu, NULL);
	pthread_cond_init(&h->cond, NULL);
	*out = h;
	return 0;
}

/* No new connection; the answers in flight get until the timeout to
 * reach their clients; then every connection is closed. */
static void shut_down(mkt_http *h)
{
	struct timespec deadline;
	MHD_socket fd;

	if ((fd = MHD_quiesce_daemon(h->mhd)) != MHD_INVALID_SOCKET)
		close(fd);
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += h->conf.timeout;
	pthread_mutex_lock(&h->mu);
	while (h->in_flight > 0 &&
	       pthread_cond_timedwait(&h->cond, &h->mu, &deadline) != ETIMEDOUT)
		;
	/* A suspended connection must be resumed before the server goes:
	 * slow handlers end soon (the stop woke the long polls). */
	while (h->slow > 0)
		pthread_cond_wait(&h->cond, &h->mu);
	pthread_mutex_unlock(&h->mu);
	MHD_stop_daemon(h->mhd);
	h->mhd = NULL;
}

int mkt_http_run(mkt_http *h)
{
	int fd = h->conf.listen_fd;
	int ret;

	h->conf.listen_fd = -1;     /* MHD's from here on, or closed */
	if ((ret = listen_on(fd)) < 0) {
		close(fd);
		return ret;
	}
	h->mhd = MHD_start_daemon(MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ITC | MHD_USE_ERROR_LOG |
				  MHD_ALLOW_SUSPEND_RESUME,
				  0, NULL, NULL, on_request, h,
				  /* First, or MHD logs the options before it to stderr. */
				  MHD_OPTION_EXTERNAL_LOGGER, on_log, h,
				  MHD_OPTION_LISTEN_SOCKET, (MHD_socket)fd,
				  MHD_OPTION_THREAD_POOL_SIZE, h->conf.threads,
				  MHD_OPTION_CONNECTION_LIMIT, h->conf.max_conn,
				  MHD_OPTION_PER_IP_CONNECTION_LIMIT, h->conf.max_conn_per_addr,
				  MHD_OPTION_CONNECTION_TIMEOUT, h->conf.timeout,
				  MHD_OPTION_NOTIFY_COMPLETED, on_completed, h,
				  MHD_OPTION_END);
	if (!h->mhd) {
		close(fd);
		return mkt_error_set(MKT_ERROR, MKT_ERR_RPC,
				     "cannot start the HTTP server (libmicrohttpd)");
	}
	pthread_mutex_lock(&h->mu);
	while (!h->stopping)
		pthread_cond_wait(&h->cond, &h->mu);
	pthread_mutex_unlock(&h->mu);
	shut_down(h);
	return 0;
}

void mkt_http_stop(mkt_http *h)
{
	pthread_mutex_lock(&h->mu);
	h->stopping = 1;
	pthread_cond_broadcast(&h->cond);
	pthread_mutex_unlock(&h->mu);
}

void mkt_http_free(mkt_http *h)
{
	if (!h)
		return;
	if (h->conf.listen_fd >= 0)
		close(h->conf.listen_fd);
	pthread_cond_destroy(&h->cond);
	pthread_mutex_destroy(&h->mu);
	free(h);
}

/*
 * server.c: the XML-RPC route of the HTTP front end (http.h), xmlrpc-c's
 * registry and the one dispatcher every method goes through.
 */
#include <config.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <xmlrpc-c/base.h>
#include <xmlrpc-c/server.h>

#include "common/alloc.h"
#include "common/error.h"
#include "common/log.h"
#include "core/user.h"
#include "decode.h"
#include "http.h"
#include "request.h"
#include "rpc.h"

/* What xmlrpc-c hands dispatch() as its call info: about the HTTP request,
 * the same for every call of a system.multicall. */
typedef struct {
	const char *client_addr;
	int multicall;               /* the request is a system.multicall */
	/* A single call's text answer sent as it is encoded (large_reply):
	 * one too large for xmlrpc-c's encoder, or one made in pieces. */
	mkt_rpc_pieces large;
	size_t large_len;            /* its encoded length, or MKT_HTTP_SIZE_UNKNOWN */
} http_call;

/* xmlrpc-c builds a reply in one memory block of at most 128 MB, and the
 * pool of a 100 000-app catalog is larger: a text answer over this size
 * is encoded here instead, while it is sent (large_reply). */
#define LARGE_TEXT (4u << 20)

typedef struct {
	mkt_rpc_server *srv;
	const mkt_rpc_method *method;
} method_slot;

struct mkt_rpc_server {
	mkt_rpc_env env;
	xmlrpc_registry *registry;
	mkt_http *http;
	method_slot *slots;
	int fd;
	int port;
	unsigned stream_grace;       /* RPC/TIMEOUT, seconds */
	unsigned long long stream_min_rate;   /* bytes/s; 0: none */
};

/* ---- text answers in pieces ------------------------------------------ */

/* What XML needs escaped in character data (and \r, which parsers would
 * turn into \n), by byte; each is copied as ESCAPE_MAX bytes, then counted
 * as its length. */
#define ESCAPE_MAX 5
static const struct {
	char text[ESCAPE_MAX + 1];
	unsigned char len;           /* 0: the byte goes as it is */
} escapes[256] = {
	['&'] = { "&amp;", 5 }, ['<'] = { "&lt;", 4 }, ['>'] = { "&gt;", 4 },
	['\r'] = { "&#13;", 5 },
};

/* The length of @s once it is escaped. */
static size_t escaped_len(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += escapes[(unsigned char)*s].len ? escapes[(unsigned char)*s].len : 1;
	return n;
}

typedef struct {
	char *text;
	int given;
} text_piece;

static int text_next(void *arg, const char **data, size_t *len)
{
	text_piece *t = arg;

	if (t->given)
		return 0;
	t->given = 1;
	*data = t->text;
	*len = strlen(t->text);
	return 1;
}

static void text_free(void *arg)
{
	text_piece *t = arg;

	free(t->text);
	free(t);
}

/* @text (taken) as pieces: one. */
static void text_pieces(char *text, mkt_rpc_pieces *out)
{
	text_piece *t = mkt_calloc(1, sizeof(*t));

	t->text = text;
	*out = (mkt_rpc_pieces){ text_next, text_free, t };
}

/* All the pieces in one text, for an answer that cannot be streamed (a
 * call of a system.multicall).  Frees the source. */
static int pieces_drain(mkt_rpc_pieces *p, char **out)
{
	mkt_buf b = MKT_BUF_INIT;
	const char *data;
	size_t len;
	int ret;

	while ((ret = p->next(p->arg, &data, &len)) > 0)
		mkt_buf_addn(&b, data, len);
	p->free(p->arg);
	p->free = NULL;
	if (ret < 0) {
		mkt_buf_free(&b);
		return ret;
	}
	*out = mkt_buf_steal(&b);
	return 0;
}

static xmlrpc_value *dispatch(xmlrpc_env *env, xmlrpc_value *params, void *server_info,
			      void *call_info)
{
	method_slot *slot = server_info;
	const http_call *call = call_info;
	const mkt_rpc_method *m = slot->method;
	const mkt_rpc_env *renv = &slot->srv->env;
	mkt_core *core = renv->core;
	mkt_rpc_arg args[MKT_RPC_MAX_ARGS];
	mkt_rpc_result result = { .id = -1 };
	mkt_principal who = { .uid = -1 };
	mkt_login login;
	xmlrpc_value *reply = NULL;
	const char *session = NULL;
	char msg[256];
	int ret, resp_id = -1, own_reply;

	memset(args, 0, sizeof(args));
	mkt_error_clear();
	if (mkt_rpc_decode_params(env, m, params, &session, args, msg, sizeof(msg)) < 0) {
		reply = mkt_rpc_failure(env, m->name, msg, MKT_RPC_RPC_API, -1);
		goto cleanup;
	}
	if (m->sig[m->sig[0] == '|'] == 'i' && args[0].present)
		resp_id = args[0].i;

	/* A password not in the session cache is verified without the core
	 * lock: its yescrypt must not stall every other caller (user.h). */
	mkt_login_init(&login, core, session, call ? call->client_addr : NULL);
	pthread_mutex_lock(&core->lock);
	ret = mkt_user_authenticate(core, &login, &who);
	if (ret == 1) {
		pthread_mutex_unlock(&core->lock);
		mkt_user_verify(core, &login);
		pthread_mutex_lock(&core->lock);
		ret = mkt_user_authenticate(core, &login, &who);
	}
	if (ret < 0 || m->fed == MKT_RPC_FED_LOCAL || (m->fed == MKT_RPC_FED_PROXY &&
							 !mkt_fed_is_slave(renv->fed))) {
		if (ret == 0)
			ret = m->handler(renv, &who, m, args, &result);
		pthread_mutex_unlock(&core->lock);
	} else if (m->fed == MKT_RPC_FED_SERVER) {
		pthread_mutex_unlock(&core->lock);
		ret = m->handler(renv, &who, m, args, &result);
	} else {
		/* The master answers; its reply is this call's, as it is. */
		pthread_mutex_unlock(&core->lock);
		if ((ret = mkt_fed_proxy(renv->fed, m->name, params, who.uname, who.uid, &reply)) == 0)
			mkt_log(MKT_LOG_DEBUG, "rpc", "%s by uid %d: proxied to the master", m->name,
				who.uid);
	}
	mkt_login_clear(&login);

	/* A single call of an HTTP request sends a large or streamed text
	 * itself (serve_rpc), once. */
	own_reply = call && !call->multicall && !call->large.next;
	if (reply) {
		;
	} else if (ret < 0) {
		/* Failed logins are logged by the throttle, rate-limited. */
		mkt_log(ret == MKT_EPERM ? MKT_LOG_WARN : MKT_LOG_DEBUG, "rpc",
			"%s by uid %d failed: %s", m->name, who.uid, mkt_error_message());
		reply = mkt_rpc_fault(env, m, ret, &who, resp_id);
	} else if (result.is_text && !result.text && own_reply) {
		/* Sent by serve_rpc() in place of this reply's "". */
		mkt_log(MKT_LOG_DDEBUG, "rpc", "%s by uid %d: streamed", m->name, who.uid);
		((http_call *)call)->large = result.pieces;
		((http_call *)call)->large_len = MKT_HTTP_SIZE_UNKNOWN;
		result.pieces.free = NULL;
		reply = xmlrpc_build_value(env, "(bsi)", (xmlrpc_bool)1, "", 0);
	} else if (result.is_text && !result.text &&
		   (ret = pieces_drain(&result.pieces, &result.text)) < 0) {
		mkt_log(MKT_LOG_WARN, "rpc", "%s by uid %d failed: %s", m->name, who.uid,
			mkt_error_message());
		reply = mkt_rpc_fault(env, m, ret, &who, resp_id);
	} else if (result.is_text) {
		size_t len = strlen(result.text);

		mkt_log(MKT_LOG_DDEBUG, "rpc", "%s by uid %d: %zu bytes", m->name, who.uid, len);
		if (len > LARGE_TEXT && own_reply) {
			/* Sent by serve_rpc() in place of this reply's "". */
			((http_call *)call)->large_len = escaped_len(result.text);
			text_pieces(MKT_STEAL(result.text), &((http_call *)call)->large);
			reply = xmlrpc_build_value(env, "(bsi)", (xmlrpc_bool)1, "", 0);
		} else {
			reply = xmlrpc_build_value(env, "(bsi)", (xmlrpc_bool)1, result.text, 0);
		}
	} else {
		mkt_log(MKT_LOG_DEBUG, "rpc", "%s by uid %d: %d", m->name, who.uid, result.id);
		reply = xmlrpc_build_value(env, "(bii)", (xmlrpc_bool)1, result.id, 0);
	}

 cleanup:
	free((char *)session);
	free(result.text);
	if (result.pieces.free)
		result.pieces.free(result.pieces.arg);
	mkt_rpc_args_clear(args);
	mkt_principal_clear(&who);
	return reply;
}

static int bind_socket(const mkt_config *conf, int *out_fd, int *out_port)
{
	struct addrinfo hints = { 0 }, *ai = NULL;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char port[16];
	int fd = -1, one = 1, rc, ret = 0;

	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	snprintf(port, sizeof(port), "%d", conf->port);
	if ((rc = getaddrinfo(conf->listen_address, port, &hints, &ai)) != 0)
		return mkt_error_set(MKT_EINVAL, MKT_ERR_CONFIG, "LISTEN_ADDRESS '%s': %s",
				     conf->listen_address, gai_strerror(rc));
	if ((fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0) {
		ret = mkt_error_set_os(errno, "cannot create the API socket");
		goto cleanup;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
		ret = mkt_error_set_os(errno, "cannot listen on %s:%d", conf->listen_address,
				       conf->port);
		goto cleanup;
	}
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0)
		*out_port = ntohs(ss.ss_family == AF_INET6 ?
				  ((struct sockaddr_in6 *)&ss)->sin6_port :
				  ((struct sockaddr_in *)&ss)->sin_port);
	*out_fd = fd;
	fd = -1;

 cleanup:
	if (fd >= 0)
		close(fd);
	freeaddrinfo(ai);
	return ret;
}

/* A body that fails the pre-check gets the fault xmlrpc-c itself would
 * give a body it cannot parse. */
static void refuse_xml(xmlrpc_env *env, mkt_rpc_request_status st, const char *msg,
		       xmlrpc_mem_block **out)
{
	xmlrpc_env fault;

	xmlrpc_env_init(&fault);
	xmlrpc_env_set_fault_formatted(&fault, st == MKT_RPC_REQUEST_TOO_DEEP ?
				       XMLRPC_LIMIT_EXCEEDED_ERROR : XMLRPC_PARSE_ERROR,
				       "%s", msg);
	*out = XMLRPC_MEMBLOCK_NEW(char, env, 0);
	if (!env->fault_occurred)
		xmlrpc_serialize_fault(env, *out, &fault);
	xmlrpc_env_clean(&fault);
}

/* ---- a large text answer, encoded as it is sent ----------------------- */

static const char large_head[] =
	"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n<methodResponse>\r\n<params>\r\n"
	"<param><value><array><data>\r\n<value><boolean>1</boolean></value>\r\n"
	"<value><string>";
static const char large_tail[] =
	"</string></value>\r\n<value><i4>0</i4></value>\r\n</data></array></value>"
	"</param>\r\n</params>\r\n</methodResponse>\r\n";

typedef struct {
	mkt_rpc_pieces src;
	const char *piece;           /* the piece being encoded */
	size_t len;
	size_t next;                 /* its next byte to encode */
	int ended;                   /* src has no more pieces */
	size_t head_sent, tail_sent;
	char pending[8];             /* an escape that did not fit */
	size_t npending, pending_sent;
	/* The rate floor: a client that reads slower than it, past the
	 * grace, holds the pool's read snapshot for nothing. */
	struct timespec start;
	unsigned long long sent;
	unsigned grace;
	unsigned long long min_rate;
	char client[64];
} large_reply;

static size_t copy_part(const char *src, size_t len, size_t *sent, char *buf, size_t max)
{
	size_t n = len - *sent < max ? len - *sent : max;

	memcpy(buf, src + *sent, n);
	*sent += n;
	return n;
}

/* The next piece, when the current one is encoded; -1 on error. */
static int large_advance(large_reply *r)
{
	int ret;

	if (r->next < r->len || r->ended)
		return 0;
	if ((ret = r->src.next(r->src.arg, &r->piece, &r->len)) < 0) {
		/* The status line went out long ago: cutting the
		 * connection is all that tells the client. */
		mkt_log(MKT_LOG_ERROR, "rpc", "answer cut after it was started: %s",
			mkt_error_message());
		mkt_error_clear();
		return -1;
	}
	r->next = 0;
	if (ret == 0) {
		r->ended = 1;
		r->len = 0;
	}
	return 0;
}

/* 1 when the client has read too slowly for too long (logged once). */
static int large_too_slow(large_reply *r)
{
	struct timespec now;
	double elapsed;

	if (!r->min_rate)
		return 0;
	clock_gettime(CLOCK_MONOTONIC, &now);
	elapsed = (double)(now.tv_sec - r->start.tv_sec) +
		  (double)(now.tv_nsec - r->start.tv_nsec) / 1e9;
	if (elapsed <= r->grace || (double)r->sent >= (double)r->min_rate * elapsed)
		return 0;
	mkt_log(MKT_LOG_WARN, "rpc", "answer to %s cut after %.0f s: %llu bytes read, below "
		"RPC/STREAM_MIN_RATE (%llu KiB/s); a smaller page of the pool is faster to read",
		r->client, elapsed, r->sent, r->min_rate / 1024);
	return 1;
}

static long large_read(void *arg, unsigned long long pos, char *buf, size_t max)
{
	large_reply *r = arg;
	size_t out = 0;

	(void)pos;                   /* libmicrohttpd reads in order */
	/* Called only when the client has made room: one that stops reading
	 * is the idle timeout's, one that trickles is the rate floor's. */
	if (large_too_slow(r))
		return -1;
	out += copy_part(large_head, sizeof(large_head) - 1, &r->head_sent, buf, max);
	while (out < max) {
		const unsigned char *p;
		size_t run;

		if (r->pending_sent < r->npending) {
			out += copy_part(r->pending, r->npending, &r->pending_sent, buf + out,
					 max - out);
			continue;
		}
		if (large_advance(r) < 0)
			return -1;
		if (r->ended)
			break;
		/* Byte by byte (the runs between tags are short), while any
		 * escape fits; the one that does not waits in pending. */
		p = (const unsigned char *)r->piece;
		run = r->next;
		while (run < r->len && max - out >= ESCAPE_MAX) {
			unsigned char c = p[run++];

			if (!escapes[c].len) {
				buf[out++] = (char)c;
			} else {
				memcpy(buf + out, escapes[c].text, ESCAPE_MAX);
				out += escapes[c].len;
			}
		}
		if (run < r->len && out < max) {
			unsigned char c = p[run];

			if (!escapes[c].len) {
				buf[out++] = (char)c;
			} else {
				memcpy(r->pending, escapes[c].text, escapes[c].len);
				r->npending = escapes[c].len;
				r->pending_sent = 0;
			}
			run++;
		}
		r->next = run;
	}
	if (r->ended && r->pending_sent == r->npending)
		out += copy_part(large_tail, sizeof(large_tail) - 1, &r->tail_sent, buf + out,
				 max - out);
	r->sent += out;
	return (long)out;
}

static void large_free(void *arg)
{
	large_reply *r = arg;

	if (r->src.free)
		r->src.free(r->src.arg);
	free(r);
}

/* @src (taken) as the answer's string, @len bytes once escaped (or
 * MKT_HTTP_SIZE_UNKNOWN: known only at its end). */
static void large_response(const mkt_rpc_server *srv, const char *client, mkt_rpc_pieces *src,
			   size_t len, mkt_http_response *out)
{
	large_reply *r = mkt_calloc(1, sizeof(*r));

	clock_gettime(CLOCK_MONOTONIC, &r->start);
	r->grace = srv->stream_grace;
	r->min_rate = srv->stream_min_rate;
	snprintf(r->client, sizeof(r->client), "%s", client ? client : "?");
	r->src = *src;
	memset(src, 0, sizeof(*src));
	out->content_type = "text/xml; charset=utf-8";
	out->body = NULL;
	out->body_len = len == MKT_HTTP_SIZE_UNKNOWN ? len :
			sizeof(large_head) - 1 + len + sizeof(large_tail) - 1;
	out->reader = large_read;
	out->reader_free = large_free;
	out->reader_arg = r;
}

/* POST /RPC2: check the body, let xmlrpc-c decode it and call dispatch()
 * (once, or once per call of a system.multicall), and encode the reply. */
static int serve_rpc(void *arg, const mkt_http_request *req, mkt_http_response *out)
{
	static const char multicall[] = "<methodName>system.multicall</methodName>";
	mkt_rpc_server *srv = arg;
	http_call call = { req->client_addr, 0, { NULL, NULL, NULL }, 0 };
	xmlrpc_mem_block *reply = NULL;
	mkt_rpc_request_status st;
	xmlrpc_env env;
	char msg[256];
	int ret = 0;

	xmlrpc_env_init(&env);
	call.multicall = memmem(req->body, req->body_len < 512 ? req->body_len : 512, multicall,
				sizeof(multicall) - 1) != NULL;
	if ((st = mkt_rpc_request_check(req->body, req->body_len, msg, sizeof(msg))) ==
	    MKT_RPC_REQUEST_OK)
		xmlrpc_registry_process_call2(&env, srv->registry, req->body, req->body_len, &call,
					      &reply);
	else
		refuse_xml(&env, st, msg, &reply);
	if (env.fault_occurred) {
		mkt_log(MKT_LOG_ERROR, "rpc", "cannot answer a request: %s", env.fault_string);
		ret = -1;
		goto cleanup;
	}
	if (call.large.next) {
		large_response(srv, req->client_addr, &call.large, call.large_len, out);
		goto cleanup;
	}
	/* What Abyss sent, and oned sends. */
	out->content_type = "text/xml; charset=utf-8";
	out->body_len = XMLRPC_MEMBLOCK_SIZE(char, reply);
	out->body = mkt_malloc(out->body_len + 1);
	memcpy(out->body, XMLRPC_MEMBLOCK_CONTENTS(char, reply), out->body_len);

 cleanup:
	if (reply)
		XMLRPC_MEMBLOCK_FREE(char, reply);
	if (call.large.free)
		call.large.free(call.large.arg);
	xmlrpc_env_clean(&env);
	return ret;
}

/* A zone's long poll of the change log waits up to seconds for an entry:
 * it gets a thread of its own (http.h).  Only a hint: the method itself
 * checks who calls. */
static int rpc_is_slow(const mkt_http_request *req)
{
	static const char tag[] = "<methodName>one.zone.fedlog</methodName>";
	size_t head = req->body_len < 512 ? req->body_len : 512;

	return memmem(req->body, head, tag, sizeof(tag) - 1) != NULL;
}

/* What the front end serves; a web page's files would be more rows. */
static const mkt_http_route routes[] = {
	{ "/RPC2", "POST", serve_rpc, rpc_is_slow },
};

int mkt_rpc_server_new(mkt_rpc_server **out, mkt_core *core, mkt_driver *drv,
		       const mkt_config *conf)
{
	mkt_rpc_server *srv = mkt_calloc(1, sizeof(*srv));
	mkt_http_config hc = { 0 };
	xmlrpc_env env;
	size_t i;
	int ret = 0;

	xmlrpc_env_init(&env);
	srv->env.core = core;
	srv->env.drv = drv;
	srv->fd = -1;
	/* xmlrpc-c bounds every XML it builds or parses by this.  Requests
	 * are bounded by the front end before xmlrpc-c sees them, and the
	 * replies a zone reads from its master by their pages; what is left
	 * is our own replies: the app pool of a 100 000-app catalog is
	 * ~250 MB of XML (64 MiB failed it with "Memory block too large"). */
	xmlrpc_limit_set(XMLRPC_XML_SIZE_LIMIT_ID, (size_t)1 << 30);
	srv->registry = xmlrpc_registry_new(&env);
	srv->slots = mkt_calloc(mkt_rpc_nmethods, sizeof(*srv->slots));
	for (i = 0; !env.fault_occurred && i < mkt_rpc_nmethods; i++) {
		struct xmlrpc_method_info3 info = { 0 };

		srv->slots[i].srv = srv;
		srv->slots[i].method = &mkt_rpc_methods[i];
		info.methodName = mkt_rpc_methods[i].name;
		info.methodFunction = dispatch;
		info.serverInfo = &srv->slots[i];
		info.signatureString = "?";
		info.help = mkt_rpc_methods[i].help;
		xmlrpc_registry_add_method3(&env, srv->registry, &info);
	}
	if (env.fault_occurred) {
		ret = mkt_error_set(MKT_ERROR, MKT_ERR_RPC, "cannot register the API: %s",
				    env.fault_string);
		goto cleanup;
	}
	if ((ret = bind_socket(conf, &srv->fd, &srv->port)) < 0)
		goto cleanup;
	hc.listen_fd = srv->fd;
	srv->fd = -1;       /* the front end owns it now */
	hc.threads = (unsigned)conf->rpc_threads;
	hc.max_conn = (unsigned)conf->rpc_max_conn;
	hc.max_conn_per_addr = (unsigned)conf->rpc_max_conn_per_ip;
	hc.timeout = (unsigned)conf->rpc_timeout;
	srv->stream_grace = (unsigned)conf->rpc_timeout;
	srv->stream_min_rate = (unsigned long long)conf->rpc_stream_min_rate * 1024;
	hc.routes = routes;
	hc.nroutes = sizeof(routes) / sizeof(routes[0]);
	hc.arg = srv;
	if ((ret = mkt_http_new(&srv->http, &hc)) < 0)
		goto cleanup;
	*out = MKT_STEAL(srv);

 cleanup:
	xmlrpc_env_clean(&env);
	mkt_rpc_server_free(srv);
	return ret;
}

void mkt_rpc_server_set_driver(mkt_rpc_server *srv, mkt_driver *drv)
{
	srv->env.drv = drv;
}

void mkt_rpc_server_set_services(mkt_rpc_server *srv, mkt_serviceflow *services)
{
	srv->env.services = services;
}

void mkt_rpc_server_set_federation(mkt_rpc_server *srv, mkt_fed *fed)
{
	srv->env.fed = fed;
}

int mkt_rpc_server_run(mkt_rpc_server *srv)
{
	return mkt_http_run(srv->http);
}

void mkt_rpc_server_stop(mkt_rpc_server *srv)
{
	/* Zones' long polls answer now: the front end waits for them. */
	mkt_fed_quiesce(srv->env.fed);
	mkt_http_stop(srv->http);
}

int mkt_rpc_server_port(const mkt_rpc_server *srv)
{
	return srv->port;
}

void mkt_rpc_server_free(mkt_rpc_server *srv)
{
	if (!srv)
		return;
	mkt_http_free(srv->http);
	if (srv->fd >= 0)
		close(srv->fd);
	if (srv->registry)
		xmlrpc_registry_free(srv->registry);
	free(srv->slots);
	free(srv);
}

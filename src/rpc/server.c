/*
 * server.c: xmlrpc-c glue and the one dispatcher every method goes through.
 */
#include <config.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <xmlrpc-c/base.h>
#include <xmlrpc-c/server.h>
#include <xmlrpc-c/server_abyss.h>

#include "common/alloc.h"
#include "common/error.h"
#include "common/log.h"
#include "core/user.h"
#include "rpc.h"

/* Requests are templates and ids; 16 MiB is far above any real one. */
#define REQUEST_SIZE_LIMIT (16u * 1024 * 1024)

typedef struct {
	mkt_rpc_server *srv;
	const mkt_rpc_method *method;
} method_slot;

struct mkt_rpc_server {
	mkt_core *core;
	xmlrpc_registry *registry;
	xmlrpc_server_abyss_t *abyss;
	method_slot *slots;
	int fd;
	int port;
	unsigned long requests;
};

/* Decode the parameters after the session into @args according to the
 * method's signature.  Returns 0, or fills *reply with an RPC_API failure. */
static int decode_args(xmlrpc_env *env, const mkt_rpc_method *m, xmlrpc_value *params,
		       int nparams, mkt_rpc_arg *args, xmlrpc_value **reply)
{
	const char *sig;
	int idx = 1, optional = 0;
	char msg[256];

	for (sig = m->sig; *sig; sig++) {
		mkt_rpc_arg *a = &args[idx - 1];
		xmlrpc_value *v = NULL;
		xmlrpc_type t;

		if (*sig == '|') {
			optional = 1;
			continue;
		}
		if (idx >= nparams) {
			if (optional)
				break;
			snprintf(msg, sizeof(msg), "Not enough parameters: %s takes %zu after the session",
				 m->name, strlen(m->sig) - (strchr(m->sig, '|') ? 1 : 0));
			goto fail;
		}
		xmlrpc_array_read_item(env, params, idx, &v);
		t = xmlrpc_value_type(v);
		switch (*sig) {
		case 'i':
		case 'b':
			if (t == XMLRPC_TYPE_INT) {
				xmlrpc_read_int(env, v, &a->i);
			} else if (t == XMLRPC_TYPE_I8) {
				xmlrpc_int64 l;

				xmlrpc_read_i8(env, v, &l);
				a->i = (int)l;
			} else if (t == XMLRPC_TYPE_BOOL) {
				xmlrpc_bool b;

				xmlrpc_read_bool(env, v, &b);
				a->i = b ? 1 : 0;
			} else {
				xmlrpc_DECREF(v);
				snprintf(msg, sizeof(msg), "Parameter %d must be %s", idx + 1,
					 *sig == 'i' ? "an int" : "a boolean");
				goto fail;
			}
			break;
		case 's':
			if (t != XMLRPC_TYPE_STRING) {
				xmlrpc_DECREF(v);
				snprintf(msg, sizeof(msg), "Parameter %d must be a string", idx + 1);
				goto fail;
			}
			xmlrpc_read_string(env, v, &a->s);
			break;
		case 'A': {
			int n, j;

			if (t != XMLRPC_TYPE_ARRAY) {
				xmlrpc_DECREF(v);
				snprintf(msg, sizeof(msg), "Parameter %d must be an array of ints", idx + 1);
				goto fail;
			}
			n = xmlrpc_array_size(env, v);
			a->ints = mkt_calloc((size_t)n, sizeof(int));
			for (j = 0; j < n; j++) {
				xmlrpc_value *e = NULL;

				xmlrpc_array_read_item(env, v, j, &e);
				if (xmlrpc_value_type(e) != XMLRPC_TYPE_INT) {
					xmlrpc_DECREF(e);
					xmlrpc_DECREF(v);
					snprintf(msg, sizeof(msg), "Parameter %d must be an array of ints",
						 idx + 1);
					goto fail;
				}
				xmlrpc_read_int(env, e, &a->ints[j]);
				xmlrpc_DECREF(e);
			}
			a->nints = (size_t)n;
			break;
		}
		}
		xmlrpc_DECREF(v);
		if (env->fault_occurred) {
			snprintf(msg, sizeof(msg), "Parameter %d: %s", idx + 1, env->fault_string);
			xmlrpc_env_clean(env);
			xmlrpc_env_init(env);
			goto fail;
		}
		a->present = 1;
		idx++;
	}
	return 0;

 fail:
	*reply = mkt_rpc_failure(env, m->name, msg, MKT_RPC_RPC_API, -1);
	return -1;
}

static void free_args(mkt_rpc_arg *args)
{
	int i;

	for (i = 0; i < MKT_RPC_MAX_ARGS; i++) {
		free((char *)args[i].s);
		free(args[i].ints);
	}
}

static xmlrpc_value *dispatch(xmlrpc_env *env, xmlrpc_value *params, void *server_info,
			      void *call_info)
{
	method_slot *slot = server_info;
	const mkt_rpc_method *m = slot->method;
	mkt_core *core = slot->srv->core;
	mkt_rpc_arg args[MKT_RPC_MAX_ARGS];
	mkt_rpc_result result = { 0, -1, NULL };
	mkt_principal who = { .uid = -1 };
	xmlrpc_value *reply = NULL, *sv = NULL;
	const char *session = NULL;
	int nparams, ret, resp_id = -1;

	memset(args, 0, sizeof(args));
	mkt_error_clear();
	nparams = xmlrpc_array_size(env, params);
	if (nparams < 1) {
		reply = mkt_rpc_failure(env, m->name, "Missing the session string (user:password)",
					MKT_RPC_RPC_API, -1);
		goto cleanup;
	}
	xmlrpc_array_read_item(env, params, 0, &sv);
	if (xmlrpc_value_type(sv) != XMLRPC_TYPE_STRING) {
		reply = mkt_rpc_failure(env, m->name, "Parameter 1 must be the session string",
					MKT_RPC_RPC_API, -1);
		goto cleanup;
	}
	xmlrpc_read_string(env, sv, &session);
	if (decode_args(env, m, params, nparams, args, &reply) < 0)
		goto cleanup;
	if (m->sig[0] == 'i')
		resp_id = args[0].i;

	pthread_mutex_lock(&core->lock);
	ret = mkt_user_authenticate(core, session, &who);
	if (ret == 0)
		ret = m->handler(core, &who, m, args, &result);
	pthread_mutex_unlock(&core->lock);

	if (ret < 0) {
		mkt_log(ret == MKT_EAUTH || ret == MKT_EPERM ? MKT_LOG_WARN : MKT_LOG_DEBUG, "rpc",
			"%s by uid %d failed: %s", m->name, who.uid, mkt_error_message());
		reply = mkt_rpc_fault(env, m, ret, &who, resp_id);
	} else if (result.is_text) {
		mkt_log(MKT_LOG_DDEBUG, "rpc", "%s by uid %d: %zu bytes", m->name, who.uid,
			strlen(result.text));
		reply = xmlrpc_build_value(env, "(bsi)", (xmlrpc_bool)1, result.text, 0);
	} else {
		mkt_log(MKT_LOG_DEBUG, "rpc", "%s by uid %d: %d", m->name, who.uid, result.id);
		reply = xmlrpc_build_value(env, "(bii)", (xmlrpc_bool)1, result.id, 0);
	}

 cleanup:
	if (sv)
		xmlrpc_DECREF(sv);
	free((char *)session);
	free(result.text);
	free_args(args);
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

int mkt_rpc_server_new(mkt_rpc_server **out, mkt_core *core, const mkt_config *conf)
{
	mkt_rpc_server *srv = mkt_calloc(1, sizeof(*srv));
	xmlrpc_server_abyss_parms parms;
	xmlrpc_env env;
	size_t i;
	int ret = 0;

	xmlrpc_env_init(&env);
	srv->core = core;
	srv->fd = -1;
	xmlrpc_limit_set(XMLRPC_XML_SIZE_LIMIT_ID, REQUEST_SIZE_LIMIT);
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

	memset(&parms, 0, sizeof(parms));
	parms.registryP = srv->registry;
	parms.socket_bound = 1;
	parms.socket_handle = srv->fd;
	parms.uri_path = "/RPC2";
	parms.keepalive_timeout = (unsigned)conf->rpc_timeout;
	parms.keepalive_max_conn = 30;
	parms.timeout = (unsigned)conf->rpc_timeout;
	parms.dont_advertise = 1;
	parms.max_conn = (unsigned)conf->rpc_max_conn;
	parms.max_conn_backlog = 128;
	xmlrpc_server_abyss_create(&env, &parms, XMLRPC_APSIZE(max_conn_backlog), &srv->abyss);
	if (env.fault_occurred) {
		ret = mkt_error_set(MKT_ERROR, MKT_ERR_RPC, "cannot start the API server: %s",
				    env.fault_string);
		goto cleanup;
	}
	*out = MKT_STEAL(srv);

 cleanup:
	xmlrpc_env_clean(&env);
	mkt_rpc_server_free(srv);
	return ret;
}

int mkt_rpc_server_run(mkt_rpc_server *srv)
{
	xmlrpc_env env;
	int ret = 0;

	xmlrpc_env_init(&env);
	xmlrpc_server_abyss_run_server(&env, srv->abyss);
	if (env.fault_occurred)
		ret = mkt_error_set(MKT_ERROR, MKT_ERR_RPC, "API server failed: %s",
				    env.fault_string);
	xmlrpc_env_clean(&env);
	return ret;
}

void mkt_rpc_server_stop(mkt_rpc_server *srv)
{
	xmlrpc_env env;

	xmlrpc_env_init(&env);
	xmlrpc_server_abyss_terminate(&env, srv->abyss);
	xmlrpc_env_clean(&env);
}

int mkt_rpc_server_port(const mkt_rpc_server *srv)
{
	return srv->port;
}

void mkt_rpc_server_free(mkt_rpc_server *srv)
{
	if (!srv)
		return;
	if (srv->abyss)
		xmlrpc_server_abyss_destroy(srv->abyss);
	if (srv->registry)
		xmlrpc_registry_free(srv->registry);
	if (srv->fd >= 0)
		close(srv->fd);
	free(srv->slots);
	free(srv);
}

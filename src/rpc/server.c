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
#include <xmlrpc-c/abyss.h>
#include <xmlrpc-c/server_abyss.h>

#include "common/alloc.h"
#include "common/error.h"
#include "common/log.h"
#include "core/user.h"
#include "decode.h"
#include "request.h"
#include "rpc.h"

/* Requests are templates and ids; 2 MiB is far above any real one. */
#define REQUEST_SIZE_LIMIT (2u * 1024 * 1024)
/* Bodies are checked by mkt_rpc_request_check() (request.h) before
 * xmlrpc-c, whose recursion the depth limit there keeps far from this. */
#define HANDLER_STACK_SIZE (1024u * 1024)

typedef struct {
	mkt_rpc_server *srv;
	const mkt_rpc_method *method;
} method_slot;

struct mkt_rpc_server {
	mkt_rpc_env env;
	xmlrpc_registry *registry;
	TChanSwitch *chan;
	TServer abyss;
	int abyss_created;
	method_slot *slots;
	int fd;
	int port;
};

static xmlrpc_value *dispatch(xmlrpc_env *env, xmlrpc_value *params, void *server_info,
			      void *call_info)
{
	method_slot *slot = server_info;
	const mkt_rpc_method *m = slot->method;
	const mkt_rpc_env *renv = &slot->srv->env;
	mkt_core *core = renv->core;
	mkt_rpc_arg args[MKT_RPC_MAX_ARGS];
	mkt_rpc_result result = { 0, -1, NULL };
	mkt_principal who = { .uid = -1 };
	xmlrpc_value *reply = NULL;
	const char *session = NULL;
	char msg[256];
	int ret, resp_id = -1;

	memset(args, 0, sizeof(args));
	mkt_error_clear();
	if (mkt_rpc_decode_params(env, m, params, &session, args, msg, sizeof(msg)) < 0) {
		reply = mkt_rpc_failure(env, m->name, msg, MKT_RPC_RPC_API, -1);
		goto cleanup;
	}
	if (m->sig[m->sig[0] == '|'] == 'i' && args[0].present)
		resp_id = args[0].i;

	pthread_mutex_lock(&core->lock);
	ret = mkt_user_authenticate(core, session, &who);
	if (ret == 0)
		ret = m->handler(renv, &who, m, args, &result);
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
	free((char *)session);
	free(result.text);
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

/* Abyss request handler that runs before the XML-RPC one: an oversized
 * body gets "413 Payload Too Large" instead of being read. */
static void limit_handler(void *userdata, TSession *session, abyss_bool *handled)
{
	const char *len = RequestHeaderValue(session, "content-length");
	char msg[128];

	*handled = 0;
	if (!len || strtoull(len, NULL, 10) <= REQUEST_SIZE_LIMIT)
		return;
	snprintf(msg, sizeof(msg), "Request body larger than %u bytes.", REQUEST_SIZE_LIMIT);
	ResponseStatus(session, 413);
	ResponseError2(session, msg);
	*handled = 1;
}

static void process_xml(xmlrpc_env *env, void *arg, const char *xml, size_t len,
			TSession *session, xmlrpc_mem_block **out)
{
	mkt_rpc_server *srv = arg;
	mkt_rpc_request_status st;
	xmlrpc_env fault;
	char msg[256];

	if ((st = mkt_rpc_request_check(xml, len, msg, sizeof(msg))) == MKT_RPC_REQUEST_OK) {
		xmlrpc_registry_process_call2(env, srv->registry, xml, len, NULL, out);
		return;
	}
	xmlrpc_env_init(&fault);
	xmlrpc_env_set_fault_formatted(&fault, st == MKT_RPC_REQUEST_TOO_DEEP ?
				       XMLRPC_LIMIT_EXCEEDED_ERROR : XMLRPC_PARSE_ERROR,
				       "%s", msg);
	*out = XMLRPC_MEMBLOCK_NEW(char, env, 0);
	if (!env->fault_occurred)
		xmlrpc_serialize_fault(env, *out, &fault);
	xmlrpc_env_clean(&fault);
}

static int abyss_setup(mkt_rpc_server *srv, const mkt_config *conf)
{
	struct ServerReqHandler3 guard = { NULL, limit_handler, srv, 0 };
	xmlrpc_server_abyss_handler_parms hp;
	const char *err = NULL;
	abyss_bool ok = 0;
	xmlrpc_env env;
	int ret = 0;

	ChanSwitchUnixCreateFd(srv->fd, &srv->chan, &err);
	if (err)
		goto abyss_error;
	ServerCreateSwitch(&srv->abyss, srv->chan, &err);
	if (err)
		goto abyss_error;
	srv->abyss_created = 1;
	ServerSetTimeout(&srv->abyss, (xmlrpc_uint32_t)conf->rpc_timeout);
	ServerSetKeepaliveTimeout(&srv->abyss, (xmlrpc_uint32_t)conf->rpc_timeout);
	ServerSetKeepaliveMaxConn(&srv->abyss, 30);
	ServerSetMaxConn(&srv->abyss, (unsigned)conf->rpc_max_conn);
	ServerSetMaxConnBacklog(&srv->abyss, 128);
	ServerSetAdvertise(&srv->abyss, 0);

	memset(&hp, 0, sizeof(hp));
	hp.xml_processor = process_xml;
	hp.xml_processor_arg = srv;
	hp.xml_processor_max_stack = HANDLER_STACK_SIZE;
	hp.uri_path = "/RPC2";
	xmlrpc_env_init(&env);
	xmlrpc_server_abyss_set_handler3(&env, &srv->abyss, &hp, XMLRPC_AHPSIZE(chunk_response));
	if (env.fault_occurred)
		ret = mkt_error_set(MKT_ERROR, MKT_ERR_RPC, "cannot set up the API handler: %s",
				    env.fault_string);
	xmlrpc_env_clean(&env);
	if (ret < 0)
		return ret;
	/* Abyss tries the most recently added handler first. */
	ServerAddHandler3(&srv->abyss, &guard, &ok);
	if (!ok) {
		err = "cannot add the request size guard";
		goto abyss_error;
	}
	ServerInit2(&srv->abyss, &err);
	if (err)
		goto abyss_error;
	return 0;

 abyss_error:
	ret = mkt_error_set(MKT_ERROR, MKT_ERR_RPC, "cannot start the API server: %s", err);
	free((char *)err);
	return ret;
}

int mkt_rpc_server_new(mkt_rpc_server **out, mkt_core *core, mkt_driver *drv,
		       const mkt_config *conf)
{
	mkt_rpc_server *srv = mkt_calloc(1, sizeof(*srv));
	xmlrpc_env env;
	size_t i;
	int ret = 0;

	xmlrpc_env_init(&env);
	srv->env.core = core;
	srv->env.drv = drv;
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
	if ((ret = bind_socket(conf, &srv->fd, &srv->port)) < 0 ||
	    (ret = abyss_setup(srv, conf)) < 0)
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

int mkt_rpc_server_run(mkt_rpc_server *srv)
{
	ServerRun(&srv->abyss);
	return 0;
}

void mkt_rpc_server_stop(mkt_rpc_server *srv)
{
	ServerTerminate(&srv->abyss);
}

int mkt_rpc_server_port(const mkt_rpc_server *srv)
{
	return srv->port;
}

void mkt_rpc_server_free(mkt_rpc_server *srv)
{
	if (!srv)
		return;
	if (srv->abyss_created)
		ServerFree(&srv->abyss);
	if (srv->chan)
		ChanSwitchDestroy(srv->chan);
	else if (srv->fd >= 0)
		close(srv->fd);
	if (srv->registry)
		xmlrpc_registry_free(srv->registry);
	free(srv->slots);
	free(srv);
}

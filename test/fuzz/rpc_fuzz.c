/*
 * rpc_fuzz.c: libFuzzer target for the XML-RPC request path.
 *
 * A body goes the server's way, without a daemon: mkt_rpc_request_check(),
 * then xmlrpc-c's parsing and registry (with every method of the table,
 * system.multicall and the other built-ins), then the argument decoding
 * against the method's signature, in a stub that runs no handler.  The
 * same body also goes through mkt_rpc_decode_call(), which must agree with
 * the registry on the method and on whether its arguments decode.
 */
#include <config.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xmlrpc-c/base.h>
#include <xmlrpc-c/server.h>

#include "common/alloc.h"
#include "common/log.h"
#include "rpc/decode.h"
#include "rpc/request.h"
#include "rpc/rpc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* What the stub saw of the last single call. */
static struct {
	int calls;
	const mkt_rpc_method *method;
	int decoded;
} seen;

static void check_args(const mkt_rpc_method *m, const mkt_rpc_arg *args)
{
	const char *sig;
	int i = 0, optional = 0;

	for (sig = m->sig; *sig; sig++) {
		if (*sig == '|') {
			optional = 1;
			continue;
		}
		if (!args[i].present && !optional) {
			fprintf(stderr, "%s: argument %d decoded but not present\n", m->name, i);
			abort();
		}
		if (args[i].present && *sig == 's' && !args[i].s) {
			fprintf(stderr, "%s: string argument %d is NULL\n", m->name, i);
			abort();
		}
		if (args[i].present && *sig == 'A' && args[i].nints && !args[i].ints) {
			fprintf(stderr, "%s: array argument %d has no ints\n", m->name, i);
			abort();
		}
		i++;
	}
}

/* The dispatcher up to the handler (server.c). */
static xmlrpc_value *stub(xmlrpc_env *env, xmlrpc_value *params, void *server_info,
			  void *call_info)
{
	const mkt_rpc_method *m = server_info;
	mkt_rpc_arg args[MKT_RPC_MAX_ARGS];
	const char *session = NULL;
	xmlrpc_value *reply;
	char msg[256];

	memset(args, 0, sizeof(args));
	seen.calls++;
	seen.method = m;
	seen.decoded = mkt_rpc_decode_params(env, m, params, &session, args, msg, sizeof(msg)) == 0;
	if (seen.decoded) {
		check_args(m, args);
		reply = xmlrpc_build_value(env, "(bii)", (xmlrpc_bool)1, 0, 0);
	} else {
		reply = mkt_rpc_failure(env, m->name, msg, MKT_RPC_RPC_API, -1);
	}
	free((char *)session);
	mkt_rpc_args_clear(args);
	return reply;
}

static xmlrpc_registry *registry(void)
{
	static xmlrpc_registry *reg;
	xmlrpc_env env;
	size_t i;

	if (reg)
		return reg;
	mkt_log_open(MKT_LOG_STD, NULL, MKT_LOG_ERROR);
	xmlrpc_env_init(&env);
	xmlrpc_limit_set(XMLRPC_XML_SIZE_LIMIT_ID, 2u * 1024 * 1024);
	reg = xmlrpc_registry_new(&env);
	for (i = 0; !env.fault_occurred && i < mkt_rpc_nmethods; i++) {
		struct xmlrpc_method_info3 info = { 0 };

		info.methodName = mkt_rpc_methods[i].name;
		info.methodFunction = stub;
		info.serverInfo = (void *)&mkt_rpc_methods[i];
		info.signatureString = "?";
		info.help = mkt_rpc_methods[i].help;
		xmlrpc_registry_add_method3(&env, reg, &info);
	}
	if (env.fault_occurred) {
		fprintf(stderr, "cannot build the registry: %s\n", env.fault_string);
		abort();
	}
	xmlrpc_env_clean(&env);
	return reg;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	xmlrpc_registry *reg = registry();
	const char *xml = (const char *)data;
	xmlrpc_mem_block *out = NULL;
	mkt_rpc_call call;
	xmlrpc_env env;
	char msg[256];
	int ret;

	ret = mkt_rpc_decode_call(&call, xml, size, msg, sizeof(msg));
	if (ret == 0)
		check_args(call.method, call.args);

	/* The server's process_xml(): the check, then the registry. */
	memset(&seen, 0, sizeof(seen));
	if (mkt_rpc_request_check(xml, size, msg, sizeof(msg)) == MKT_RPC_REQUEST_OK) {
		xmlrpc_env_init(&env);
		xmlrpc_registry_process_call2(&env, reg, xml, size, NULL, &out);
		if (out)
			XMLRPC_MEMBLOCK_FREE(char, out);
		xmlrpc_env_clean(&env);
	}
	if (ret == 0 && (seen.calls != 1 || seen.method != call.method || !seen.decoded)) {
		fprintf(stderr, "mkt_rpc_decode_call() decoded %s, the registry did not "
			"(%d calls, %s)\n", call.method->name, seen.calls,
			seen.method ? seen.method->name : "-");
		abort();
	}
	mkt_rpc_call_clear(&call);
	return 0;
}

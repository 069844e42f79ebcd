/*
 * decode.h: an XML-RPC request, from its body to a method row, a session
 * and the arguments its signature asks for.
 *
 * The server runs the same steps through xmlrpc-c's registry (server.c:
 * mkt_rpc_request_check(), xmlrpc_registry_process_call2(), then
 * mkt_rpc_decode_params() in the dispatcher); mkt_rpc_decode_call() runs
 * them without a daemon, registry or store, for the fuzz target and tests.
 */
#ifndef MKT_RPC_DECODE_H
#define MKT_RPC_DECODE_H

#include <stddef.h>
#include <xmlrpc-c/base.h>

#include "rpc.h"

/*
 * Decode @params of a call to @m (params[0] the session string, then the
 * arguments of m->sig) into *out_session and @args (MKT_RPC_MAX_ARGS
 * zeroed entries).  0, or -1 with @msg (of @msgsz bytes) saying what is
 * wrong, for an RPC_API failure.  Either way the caller frees
 * *out_session and mkt_rpc_args_clear(@args).
 */
int mkt_rpc_decode_params(xmlrpc_env *env, const mkt_rpc_method *m, xmlrpc_value *params,
			  const char **out_session, mkt_rpc_arg *args, char *msg, size_t msgsz);

/* Free what mkt_rpc_decode_params() put in @args. */
void mkt_rpc_args_clear(mkt_rpc_arg *args);

typedef struct {
	char *name;                      /* the methodName, as sent */
	const mkt_rpc_method *method;    /* its row; NULL when not in the table */
	const char *session;
	mkt_rpc_arg args[MKT_RPC_MAX_ARGS];
} mkt_rpc_call;

/*
 * Decode the request body @xml (@len bytes) as the server does before it
 * runs a handler.  0 with @out filled; or -1 with @msg saying why: the body
 * failed mkt_rpc_request_check() or xmlrpc-c's parsing (out->name NULL),
 * the method is not one of the table's (out->method NULL), or its
 * parameters do not fit its signature.  Always mkt_rpc_call_clear(@out).
 */
int mkt_rpc_decode_call(mkt_rpc_call *out, const char *xml, size_t len, char *msg,
			size_t msgsz);
void mkt_rpc_call_clear(mkt_rpc_call *c);

#endif

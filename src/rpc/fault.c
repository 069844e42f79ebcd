/*
 * fault.c: the one place where an error becomes an API reply.
 *
 * oned answers [false, "[method] message", code, resp_id, replication_idx];
 * the message forms below are its Request::failure_message ones, so that
 * OpenNebula clients and scripts that match on them keep working.
 */
#include <config.h>

#include <stdio.h>
#include <xmlrpc-c/base.h>

#include "common/alloc.h"
#include "common/error.h"
#include "rpc.h"

xmlrpc_value *mkt_rpc_failure(xmlrpc_env *env, const char *method, const char *message,
			      int code, int resp_id)
{
	char *text = mkt_asprintf("[%s] %s", method, message);
	xmlrpc_value *v = xmlrpc_build_value(env, "(bsiiI)", (xmlrpc_bool)0, text, code,
					     resp_id, (xmlrpc_int64)-1);

	free(text);
	return v;
}

xmlrpc_value *mkt_rpc_fault(xmlrpc_env *env, const mkt_rpc_method *m, int status,
			    const mkt_principal *who, int resp_id)
{
	const char *msg = mkt_error_message();
	xmlrpc_value *v;
	char *text = NULL;
	int code;

	switch (status) {
	case MKT_EAUTH:
		code = MKT_RPC_AUTHENTICATION;
		text = mkt_strdup("User couldn't be authenticated, aborting call.");
		break;
	case MKT_EPERM:
		code = MKT_RPC_AUTHORIZATION;
		text = mkt_asprintf("User [%d] : %s", who ? who->uid : -1, msg);
		break;
	case MKT_ENOTFOUND:
		code = MKT_RPC_NO_EXISTS;
		text = mkt_strdup(msg);
		break;
	case MKT_EINVAL:
	case MKT_EEXISTS:
		code = m->allocate ? MKT_RPC_ALLOCATE : MKT_RPC_ACTION;
		text = m->allocate ? mkt_asprintf("Error allocating a new %s. %s", m->object, msg)
				   : mkt_strdup(msg);
		break;
	case MKT_EACTION:
	case MKT_EBUSY:
	case MKT_EDRIVER:
		code = MKT_RPC_ACTION;
		text = mkt_strdup(msg);
		break;
	default:
		code = MKT_RPC_INTERNAL;
		text = mkt_strdup(msg[0] ? msg : "internal error");
		break;
	}
	if (status != MKT_ENOTFOUND)
		resp_id = -1;
	v = mkt_rpc_failure(env, m->name, text, code, resp_id);
	free(text);
	return v;
}

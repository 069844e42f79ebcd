/*
 * decode.c: an XML-RPC request's method, session and arguments (decode.h).
 */
#include <config.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xmlrpc-c/base.h>

#include "common/alloc.h"
#include "decode.h"
#include "request.h"

/* Decode the parameters after the session into @args according to the
 * method's signature.  Returns 0, or -1 with @msg. */
static int decode_args(xmlrpc_env *env, const mkt_rpc_method *m, xmlrpc_value *params,
		       int nparams, mkt_rpc_arg *args, char *msg, size_t msgsz)
{
	const char *sig;
	int idx = 1, optional = 0;

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
			snprintf(msg, msgsz, "Not enough parameters: %s takes %zu after the session",
				 m->name, strlen(m->sig) - (strchr(m->sig, '|') ? 1 : 0));
			return -1;
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

				/* Truncating would alias another object's id. */
				xmlrpc_read_i8(env, v, &l);
				if (l < INT_MIN || l > INT_MAX) {
					xmlrpc_DECREF(v);
					snprintf(msg, msgsz, "Parameter %d is out of range", idx + 1);
					return -1;
				}
				a->i = (int)l;
			} else if (t == XMLRPC_TYPE_BOOL && *sig == 'b') {
				xmlrpc_bool b;

				xmlrpc_read_bool(env, v, &b);
				a->i = b ? 1 : 0;
			} else {
				xmlrpc_DECREF(v);
				snprintf(msg, msgsz, "Parameter %d must be %s", idx + 1,
					 *sig == 'i' ? "an int" : "a boolean");
				return -1;
			}
			break;
		case 's':
			if (t != XMLRPC_TYPE_STRING) {
				xmlrpc_DECREF(v);
				snprintf(msg, msgsz, "Parameter %d must be a string", idx + 1);
				return -1;
			}
			xmlrpc_read_string(env, v, &a->s);
			break;
		case 'A': {
			int n, j;

			if (t != XMLRPC_TYPE_ARRAY) {
				xmlrpc_DECREF(v);
				snprintf(msg, msgsz, "Parameter %d must be an array of ints", idx + 1);
				return -1;
			}
			n = xmlrpc_array_size(env, v);
			a->ints = mkt_calloc((size_t)n, sizeof(int));
			for (j = 0; j < n; j++) {
				xmlrpc_value *e = NULL;

				xmlrpc_array_read_item(env, v, j, &e);
				if (xmlrpc_value_type(e) != XMLRPC_TYPE_INT) {
					xmlrpc_DECREF(e);
					xmlrpc_DECREF(v);
					snprintf(msg, msgsz, "Parameter %d must be an array of ints",
						 idx + 1);
					return -1;
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
			snprintf(msg, msgsz, "Parameter %d: %s", idx + 1, env->fault_string);
			xmlrpc_env_clean(env);
			xmlrpc_env_init(env);
			return -1;
		}
		a->present = 1;
		idx++;
	}
	return 0;
}

int mkt_rpc_decode_params(xmlrpc_env *env, const mkt_rpc_method *m, xmlrpc_value *params,
			  const char **out_session, mkt_rpc_arg *args, char *msg, size_t msgsz)
{
	xmlrpc_value *sv = NULL;
	int nparams, ret = -1;

	nparams = xmlrpc_array_size(env, params);
	if (nparams < 1) {
		snprintf(msg, msgsz, "Missing the session string (user:password)");
		goto cleanup;
	}
	xmlrpc_array_read_item(env, params, 0, &sv);
	if (xmlrpc_value_type(sv) != XMLRPC_TYPE_STRING) {
		snprintf(msg, msgsz, "Parameter 1 must be the session string");
		goto cleanup;
	}
	xmlrpc_read_string(env, sv, out_session);
	ret = decode_args(env, m, params, nparams, args, msg, msgsz);

 cleanup:
	if (sv)
		xmlrpc_DECREF(sv);
	return ret;
}

void mkt_rpc_args_clear(mkt_rpc_arg *args)
{
	int i;

	for (i = 0; i < MKT_RPC_MAX_ARGS; i++) {
		free((char *)args[i].s);
		free(args[i].ints);
	}
	memset(args, 0, MKT_RPC_MAX_ARGS * sizeof(*args));
}

static const mkt_rpc_method *lookup(const char *name)
{
	size_t i;

	for (i = 0; i < mkt_rpc_nmethods; i++) {
		if (strcmp(mkt_rpc_methods[i].name, name) == 0)
			return &mkt_rpc_methods[i];
	}
	return NULL;
}

int mkt_rpc_decode_call(mkt_rpc_call *out, const char *xml, size_t len, char *msg,
			size_t msgsz)
{
	xmlrpc_value *params = NULL;
	const char *name = NULL;
	xmlrpc_env env;
	int ret = -1;

	memset(out, 0, sizeof(*out));
	if (mkt_rpc_request_check(xml, len, msg, msgsz) != MKT_RPC_REQUEST_OK)
		return -1;
	xmlrpc_env_init(&env);
	xmlrpc_parse_call(&env, xml, len, &name, &params);
	if (env.fault_occurred) {
		snprintf(msg, msgsz, "%s", env.fault_string);
		goto cleanup;
	}
	out->name = mkt_strdup(name);
	if (!(out->method = lookup(name))) {
		snprintf(msg, msgsz, "no method '%s'", name);
		goto cleanup;
	}
	ret = mkt_rpc_decode_params(&env, out->method, params, &out->session, out->args, msg,
				    msgsz);

 cleanup:
	if (params)
		xmlrpc_DECREF(params);
	free((char *)name);
	xmlrpc_env_clean(&env);
	return ret;
}

void mkt_rpc_call_clear(mkt_rpc_call *c)
{
	free(c->name);
	free((char *)c->session);
	mkt_rpc_args_clear(c->args);
	memset(c, 0, sizeof(*c));
}

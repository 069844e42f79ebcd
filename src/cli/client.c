/*
 * client.c: XML-RPC calls to marketd, endpoint and credentials discovery,
 * and decoding of oned-style [ok, value, code] replies.
 */
#include <config.h>

#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <xmlrpc-c/base.h>
#include <xmlrpc-c/client.h>

#include "common/alloc.h"
#include "common/error.h"

#include "client.h"
#include "input.h"

/* Pools can be tens of MB; xmlrpc-c's default limit is 512 KiB. */
#define REPLY_SIZE_LIMIT ((size_t)1 << 30)

struct mkt_client {
	char *endpoint;
	char *user;                 /* --user/--password, or NULL */
	char *password;
	char *session;              /* "user:password", read on first call */
	xmlrpc_client *xc;          /* created on first call */
	xmlrpc_server_info *server;
	int global_setup;           /* xmlrpc_client_setup_global_const done */
	int last_code;              /* code of the last [false, message, code] */
};

mkt_client *mkt_client_new(const char *endpoint, const char *user,
			   const char *password)
{
	mkt_client *c = mkt_calloc(1, sizeof(*c));
	const char *env = getenv("ONE_XMLRPC");

	if (endpoint)
		c->endpoint = mkt_strdup(endpoint);
	else if (env && *env)
		c->endpoint = mkt_strdup(env);
	else
		c->endpoint = mkt_strdup(MKT_CLIENT_DEFAULT_ENDPOINT);
	c->user = mkt_strdup(user);
	c->password = mkt_strdup(password);
	return c;
}

void mkt_client_free(mkt_client *c)
{
	if (!c)
		return;
	if (c->server)
		xmlrpc_server_info_free(c->server);
	if (c->xc)
		xmlrpc_client_destroy(c->xc);
	if (c->global_setup)
		xmlrpc_client_teardown_global_const();
	free(c->endpoint);
	free(c->user);
	free(c->password);
	free(c->session);
	free(c);
}

int mkt_client_last_code(const mkt_client *c)
{
	return c->last_code;
}

const char *mkt_client_endpoint(const mkt_client *c)
{
	return c->endpoint;
}

int mkt_client_read_auth(char **out, const char *path)
{
	char *text = NULL;
	char *colon;
	int ret;

	*out = NULL;
	if ((ret = mkt_input_read(&text, path, "credentials file")) < 0)
		return ret;
	mkt_input_rstrip(text);
	colon = strchr(text, ':');
	if (!colon || colon == text || strchr(text, '\n')) {
		free(text);
		return mkt_error_set(MKT_ERROR, MKT_ERR_AUTH,
				     "invalid credentials file %s: expected one line \"user:password\"",
				     path);
	}
	*out = text;
	return 0;
}

/* The session string: --user/--password, else $ONE_AUTH, else
 * ~/.one/one_auth (OpenNebula's order). */
static int load_session(mkt_client *c)
{
	const char *env = getenv("ONE_AUTH");
	const char *home;
	char *path = NULL;
	int ret;

	if (c->user) {
		c->session = mkt_asprintf("%s:%s", c->user, c->password ? c->password : "");
		return 0;
	}
	if (env && *env)
		return mkt_client_read_auth(&c->session, env);

	home = getenv("HOME");
	if (!home || !*home) {
		struct passwd *pw = getpwuid(getuid());

		home = pw ? pw->pw_dir : NULL;
	}
	if (!home)
		return mkt_error_set(MKT_ERROR, MKT_ERR_AUTH,
				     "cannot find the credentials file: set ONE_AUTH or HOME, or use --user and --password");
	path = mkt_asprintf("%s/.one/one_auth", home);
	ret = mkt_client_read_auth(&c->session, path);
	free(path);
	return ret;
}

/* Connect lazily: credentials and the xmlrpc-c client on the first call. */
static int ensure_ready(mkt_client *c)
{
	xmlrpc_env env;
	struct xmlrpc_curl_xportparms curl;
	struct xmlrpc_clientparms parms;
	int ret = MKT_ERROR;

	if (c->xc)
		return 0;
	if (!c->session && load_session(c) < 0)
		return MKT_ERROR;

	xmlrpc_env_init(&env);
	xmlrpc_limit_set(XMLRPC_XML_SIZE_LIMIT_ID, REPLY_SIZE_LIMIT);
	if (!c->global_setup) {
		xmlrpc_client_setup_global_const(&env);
		if (env.fault_occurred) {
			mkt_error_set(MKT_ERROR, MKT_ERR_RPC,
				      "cannot initialise the XML-RPC client: %s",
				      env.fault_string);
			goto cleanup;
		}
		c->global_setup = 1;
	}

	memset(&curl, 0, sizeof(curl));
	curl.user_agent = "marketctl/" PACKAGE_VERSION;
	memset(&parms, 0, sizeof(parms));
	parms.transport = "curl";
	parms.transportparmsP = &curl;
	parms.transportparm_size = XMLRPC_CXPSIZE(user_agent);

	c->server = xmlrpc_server_info_new(&env, c->endpoint);
	if (env.fault_occurred) {
		mkt_error_set(MKT_ERROR, MKT_ERR_RPC, "invalid endpoint %s: %s",
			      c->endpoint, env.fault_string);
		goto cleanup;
	}
	xmlrpc_client_create(&env, XMLRPC_CLIENT_NO_FLAGS, "marketctl",
			     PACKAGE_VERSION, &parms,
			     XMLRPC_CPSIZE(transportparm_size), &c->xc);
	if (env.fault_occurred) {
		c->xc = NULL;
		mkt_error_set(MKT_ERROR, MKT_ERR_RPC,
			      "cannot create the XML-RPC client: %s",
			      env.fault_string);
		goto cleanup;
	}
	ret = 0;

 cleanup:
	xmlrpc_env_clean(&env);
	return ret;
}

/* Turn a fault of xmlrpc_client_call2 into one clear message. */
static int report_fault(const mkt_client *c, const char *method,
			const xmlrpc_env *env)
{
	const char *msg = env->fault_string ? env->fault_string : "";
	const char *why;

	if (env->fault_code == XMLRPC_NETWORK_ERROR ||
	    env->fault_code == XMLRPC_TIMEOUT_ERROR) {
		/* Keep libcurl's own explanation, not xmlrpc-c's preamble. */
		if ((why = strstr(msg, "explaining:")) != NULL) {
			msg = why + strlen("explaining:");
			while (*msg == ' ')
				msg++;
		}
		return mkt_error_set(MKT_ERROR, MKT_ERR_RPC,
				     "cannot connect to marketd at %s: %s",
				     c->endpoint, msg);
	}
	return mkt_error_set(MKT_ERROR, MKT_ERR_RPC,
			     "%s: XML-RPC fault %d from %s: %s",
			     method, env->fault_code, c->endpoint, msg);
}

static int unexpected(const char *method, const char *what)
{
	return mkt_error_set(MKT_ERROR, MKT_ERR_RPC,
			     "unexpected reply from marketd to %s: %s",
			     method, what);
}

/* [true, value, 0] → *out = value; [false, message, code, ...] → error. */
static int decode_reply(xmlrpc_value **out, int *out_code, const char *method,
			xmlrpc_value *result)
{
	xmlrpc_env env;
	xmlrpc_value *ok = NULL, *value = NULL, *code = NULL;
	xmlrpc_bool success = 0;
	const char *msg = NULL;
	int icode = 0;
	int ret = MKT_ERROR;

	xmlrpc_env_init(&env);
	if (xmlrpc_value_type(result) != XMLRPC_TYPE_ARRAY ||
	    xmlrpc_array_size(&env, result) < 2) {
		unexpected(method, "not an array [ok, value, ...]");
		goto cleanup;
	}
	xmlrpc_array_read_item(&env, result, 0, &ok);
	if (!env.fault_occurred)
		xmlrpc_array_read_item(&env, result, 1, &value);
	if (!env.fault_occurred && xmlrpc_value_type(ok) == XMLRPC_TYPE_BOOL)
		xmlrpc_read_bool(&env, ok, &success);
	if (env.fault_occurred || xmlrpc_value_type(ok) != XMLRPC_TYPE_BOOL) {
		unexpected(method, "the first element is not a boolean");
		goto cleanup;
	}

	if (success) {
		*out = value;
		value = NULL;
		ret = 0;
		goto cleanup;
	}

	if (xmlrpc_value_type(value) != XMLRPC_TYPE_STRING) {
		unexpected(method, "a failure without a message");
		goto cleanup;
	}
	xmlrpc_read_string(&env, value, &msg);
	if (env.fault_occurred) {
		unexpected(method, "an unreadable failure message");
		goto cleanup;
	}
	if (xmlrpc_array_size(&env, result) >= 3) {
		xmlrpc_array_read_item(&env, result, 2, &code);
		if (!env.fault_occurred && xmlrpc_value_type(code) == XMLRPC_TYPE_INT)
			xmlrpc_read_int(&env, code, &icode);
		xmlrpc_env_clean(&env);
		xmlrpc_env_init(&env);
	}
	*out_code = icode;
	if (*msg)
		ret = mkt_error_set(MKT_CLIENT_EREPLY, MKT_ERR_RPC, "%s", msg);
	else
		ret = mkt_error_set(MKT_CLIENT_EREPLY, MKT_ERR_RPC,
				    "[%s] failed with error code %d", method, icode);

 cleanup:
	free((char *)msg);
	if (ok)
		xmlrpc_DECREF(ok);
	if (value)
		xmlrpc_DECREF(value);
	if (code)
		xmlrpc_DECREF(code);
	xmlrpc_env_clean(&env);
	return ret;
}

static int call_va(mkt_client *c, xmlrpc_value **out, const char *method,
		   const char *fmt, va_list ap)
{
	xmlrpc_env env;
	xmlrpc_value *rest = NULL, *params = NULL, *item = NULL, *result = NULL;
	char *full = NULL;
	const char *tail = NULL;
	int i, n;
	int ret = MKT_ERROR;

	*out = NULL;
	c->last_code = 0;
	xmlrpc_env_init(&env);
	if ((ret = ensure_ready(c)) < 0)
		goto cleanup;
	ret = MKT_ERROR;

	/* [session] + the caller's parameters */
	full = mkt_asprintf("(%s)", fmt);
	xmlrpc_build_value_va(&env, full, ap, &rest, &tail);
	if (env.fault_occurred || (tail && *tail)) {
		mkt_error_set(MKT_ERROR, MKT_ERR_RPC,
			      "cannot build the parameters of %s: %s", method,
			      env.fault_occurred ? env.fault_string : "bad format");
		goto cleanup;
	}
	params = xmlrpc_array_new(&env);
	item = xmlrpc_string_new(&env, c->session);
	if (env.fault_occurred) {
		mkt_error_set(MKT_ERROR, MKT_ERR_AUTH,
			      "invalid credentials: %s", env.fault_string);
		goto cleanup;
	}
	xmlrpc_array_append_item(&env, params, item);
	xmlrpc_DECREF(item);
	item = NULL;
	n = xmlrpc_array_size(&env, rest);
	for (i = 0; i < n && !env.fault_occurred; i++) {
		xmlrpc_array_read_item(&env, rest, i, &item);
		if (!env.fault_occurred) {
			xmlrpc_array_append_item(&env, params, item);
			xmlrpc_DECREF(item);
		}
		item = NULL;
	}
	if (env.fault_occurred) {
		mkt_error_set(MKT_ERROR, MKT_ERR_RPC,
			      "cannot build the parameters of %s: %s", method,
			      env.fault_string);
		goto cleanup;
	}

	xmlrpc_client_call2(&env, c->xc, c->server, method, params, &result);
	if (env.fault_occurred) {
		result = NULL;
		report_fault(c, method, &env);
		goto cleanup;
	}
	ret = decode_reply(out, &c->last_code, method, result);

 cleanup:
	free(full);
	if (rest)
		xmlrpc_DECREF(rest);
	if (params)
		xmlrpc_DECREF(params);
	if (result)
		xmlrpc_DECREF(result);
	xmlrpc_env_clean(&env);
	return ret;
}

int mkt_client_call(mkt_client *c, xmlrpc_value **out, const char *method,
		    const char *fmt, ...)
{
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = call_va(c, out, method, fmt, ap);
	va_end(ap);
	return ret;
}

int mkt_client_call_id(mkt_client *c, long long *out, const char *method,
		       const char *fmt, ...)
{
	xmlrpc_env env;
	xmlrpc_value *v = NULL;
	va_list ap;
	int i4 = 0;
	xmlrpc_int64 i8 = 0;
	int ret;

	xmlrpc_env_init(&env);
	va_start(ap, fmt);
	ret = call_va(c, &v, method, fmt, ap);
	va_end(ap);
	if (ret < 0)
		goto cleanup;

	if (xmlrpc_value_type(v) == XMLRPC_TYPE_INT) {
		xmlrpc_read_int(&env, v, &i4);
		*out = i4;
	} else if (xmlrpc_value_type(v) == XMLRPC_TYPE_I8) {
		xmlrpc_read_i8(&env, v, &i8);
		*out = i8;
	} else {
		ret = unexpected(method, "the value is not an integer id");
		goto cleanup;
	}
	if (env.fault_occurred)
		ret = unexpected(method, env.fault_string);

 cleanup:
	if (v)
		xmlrpc_DECREF(v);
	xmlrpc_env_clean(&env);
	return ret;
}

int mkt_client_call_string(mkt_client *c, char **out, const char *method,
			   const char *fmt, ...)
{
	xmlrpc_env env;
	xmlrpc_value *v = NULL;
	va_list ap;
	const char *s = NULL;
	size_t len = 0;
	int ret;

	*out = NULL;
	xmlrpc_env_init(&env);
	va_start(ap, fmt);
	ret = call_va(c, &v, method, fmt, ap);
	va_end(ap);
	if (ret < 0)
		goto cleanup;

	if (xmlrpc_value_type(v) != XMLRPC_TYPE_STRING) {
		ret = unexpected(method, "the value is not a string");
		goto cleanup;
	}
	xmlrpc_read_string_lp(&env, v, &len, &s);
	if (env.fault_occurred) {
		ret = unexpected(method, env.fault_string);
		goto cleanup;
	}
	*out = mkt_strndup(s, len);

 cleanup:
	free((char *)s);
	if (v)
		xmlrpc_DECREF(v);
	xmlrpc_env_clean(&env);
	return ret;
}

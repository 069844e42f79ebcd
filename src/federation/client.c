/*
 * client.c: a zone's XML-RPC calls to the master.
 *
 * libcurl and xmlrpc-c's encoder/decoder directly, rather than xmlrpc-c's
 * client: these calls run in the daemon's own threads, some under the
 * core lock, and need a timeout per call and a way out when the daemon
 * stops in the middle of a long poll.
 */
#include <config.h>

#include <stdlib.h>
#include <string.h>
#include <xmlrpc-c/base.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/error.h"
#include "common/log.h"
#include "federation_priv.h"

static size_t collect(char *data, size_t size, size_t n, void *arg)
{
	mkt_buf *b = arg;

	mkt_buf_addn(b, data, size * n);
	return size * n;
}

/* A stopping daemon does not wait for a long poll to end. */
static int still_wanted(void *arg, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
	mkt_fed *f = arg;
	int stop;

	(void)dt, (void)dn, (void)ut, (void)un;
	pthread_mutex_lock(&f->mu);
	stop = f->stop;
	pthread_mutex_unlock(&f->mu);
	return stop;
}

static int unreachable(mkt_fed *f, const char *why)
{
	return mkt_error_set(MKT_ERROR, MKT_ERR_RPC, "master zone %d unreachable: %s",
			     f->master_zone, why);
}

/* [true, value, ...] → value; [false, message, ...] → the message. */
static int decode_reply(xmlrpc_env *env, xmlrpc_value *reply, xmlrpc_value **out)
{
	xmlrpc_value *ok = NULL, *value = NULL;
	xmlrpc_bool success = 0;
	const char *msg = NULL;
	int ret = 0;

	if (xmlrpc_value_type(reply) == XMLRPC_TYPE_ARRAY && xmlrpc_array_size(env, reply) >= 2) {
		xmlrpc_array_read_item(env, reply, 0, &ok);
		if (!env->fault_occurred)
			xmlrpc_array_read_item(env, reply, 1, &value);
		if (!env->fault_occurred)
			xmlrpc_read_bool(env, ok, &success);
	}
	if (env->fault_occurred || !value) {
		ret = mkt_error_set(MKT_ERROR, MKT_ERR_RPC, "the master's reply is not oned's array");
	} else if (!success) {
		xmlrpc_read_string(env, value, &msg);
		ret = mkt_error_set(MKT_ERROR, MKT_ERR_RPC, "%s",
				    env->fault_occurred ? "the master refused" : msg);
		free((char *)msg);
	} else if (out) {
		*out = value;
		value = NULL;
	}
	if (ok)
		xmlrpc_DECREF(ok);
	if (value)
		xmlrpc_DECREF(value);
	return ret;
}

int fed_call(mkt_fed *f, CURL **curl, const char *method, const char *session,
	     xmlrpc_value *params, long timeout_ms, int raw, xmlrpc_value **out)
{
	xmlrpc_mem_block *body = NULL;
	xmlrpc_value *call = NULL, *reply = NULL, *s;
	mkt_buf resp = MKT_BUF_INIT;
	struct curl_slist *headers = NULL;
	CURL *own = NULL, *h;
	char errbuf[CURL_ERROR_SIZE] = "";
	const char *fault_str = NULL;
	long status = 0;
	int fault_code = 0, ret = 0, i, n;
	xmlrpc_env env;
	CURLcode rc;

	xmlrpc_env_init(&env);
	call = xmlrpc_array_new(&env);
	s = xmlrpc_string_new(&env, session ? session : f->session);
	xmlrpc_array_append_item(&env, call, s);
	xmlrpc_DECREF(s);
	n = params ? xmlrpc_array_size(&env, params) : 0;
	for (i = 0; i < n && !env.fault_occurred; i++) {
		xmlrpc_value *item;

		xmlrpc_array_read_item(&env, params, (unsigned)i, &item);
		if (!env.fault_occurred) {
			xmlrpc_array_append_item(&env, call, item);
			xmlrpc_DECREF(item);
		}
	}
	body = XMLRPC_MEMBLOCK_NEW(char, &env, 0);
	if (!env.fault_occurred)
		xmlrpc_serialize_call2(&env, body, method, call, xmlrpc_dialect_i8);
	if (env.fault_occurred) {
		ret = mkt_error_set(MKT_ERROR, MKT_ERR_RPC, "cannot encode %s: %s", method,
				    env.fault_string);
		goto cleanup;
	}

	if (!curl || !*curl) {
		if (!(h = curl_easy_init())) {
			ret = unreachable(f, "cannot make an HTTP handle");
			goto cleanup;
		}
		if (curl)
			*curl = h;
		else
			own = h;
	} else {
		h = *curl;
		curl_easy_reset(h);
	}
	headers = curl_slist_append(headers, "Content-Type: text/xml");
	curl_easy_setopt(h, CURLOPT_URL, f->master_url);
	curl_easy_setopt(h, CURLOPT_POST, 1L);
	curl_easy_setopt(h, CURLOPT_POSTFIELDS, XMLRPC_MEMBLOCK_CONTENTS(char, body));
	curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE,
			 (curl_off_t)XMLRPC_MEMBLOCK_SIZE(char, body));
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &resp);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 3000L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms);
	curl_easy_setopt(h, CURLOPT_PROXY, "");       /* zones talk directly */
	curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, still_wanted);
	curl_easy_setopt(h, CURLOPT_XFERINFODATA, f);
	if ((rc = curl_easy_perform(h)) != CURLE_OK) {
		ret = unreachable(f, rc == CURLE_ABORTED_BY_CALLBACK ? "marketd is stopping" :
				  errbuf[0] ? errbuf : curl_easy_strerror(rc));
		goto cleanup;
	}
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	if (status != 200) {
		char why[64];

		snprintf(why, sizeof(why), "HTTP status %ld", status);
		ret = unreachable(f, why);
		goto cleanup;
	}
	xmlrpc_parse_response2(&env, resp.ptr ? resp.ptr : "", resp.len, &reply, &fault_code,
			       &fault_str);
	if (env.fault_occurred || fault_str) {
		ret = mkt_error_set(MKT_ERROR, MKT_ERR_RPC, "the master's reply to %s: %s", method,
				    env.fault_occurred ? env.fault_string : fault_str);
		goto cleanup;
	}
	if (raw) {
		*out = reply;
		reply = NULL;
	} else {
		ret = decode_reply(&env, reply, out);
	}

 cleanup:
	free((char *)fault_str);
	if (reply)
		xmlrpc_DECREF(reply);
	if (call)
		xmlrpc_DECREF(call);
	if (body)
		XMLRPC_MEMBLOCK_FREE(char, body);
	curl_slist_free_all(headers);
	if (own)
		curl_easy_cleanup(own);
	mkt_buf_free(&resp);
	xmlrpc_env_clean(&env);
	return ret;
}

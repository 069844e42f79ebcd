/*
 * broker.c: the broker and its HTTP calls (broker.h).
 */
#include <config.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/util.h"
#include "broker.h"

#define DEFAULT_API_VERSION "2.17"
#define DEFAULT_PLATFORM "marketd"
#define DEFAULT_TIMEOUT 60LL
/* A catalog of thousands of plans with schemas is a few MiB; a broker's
 * other replies are small.  This only stops a runaway broker. */
#define MAX_REPLY ((size_t)16 << 20)
#define USER_AGENT "marketd/" PACKAGE_VERSION " (Market Driver osb)"

struct osb_broker {
	char *url;                 /* BROKER_URL without trailing slashes */
	char *display;             /* the same, userinfo masked */
	const char *username;      /* borrowed from the document */
	const char *password;
	const char *platform;
	long timeout;
	char *headers[5];          /* "Name: value", NULL terminated */
};

/* ---- reading the marketplace ---------------------------------------------- */

static const char *market_attr(mkt_drv *d, const char *name, const char *def)
{
	char *path = mkt_asprintf("MARKETPLACE/TEMPLATE/%s", name);
	const char *v = mkt_drv_get(d, path);

	free(path);
	return v && *v ? v : def;
}

/* A GUID (RFC 4122 version 4) for the request identity of a call no user
 * asked for. */
static char *new_guid(void)
{
	unsigned char r[16] = { 0 };

	mkt_util_random(r, sizeof(r));
	r[6] = (unsigned char)((r[6] & 0x0f) | 0x40);
	r[8] = (unsigned char)((r[8] & 0x3f) | 0x80);
	return mkt_asprintf("%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
			    r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9],
			    r[10], r[11], r[12], r[13], r[14], r[15]);
}

/* "<platform> <base64 of {"user_id": …, "user_name": …}>" (OSB's
 * originating identity, the Cloud Foundry form). */
static char *originating_identity(const char *platform, const char *uid, const char *uname)
{
	json_t *who = json_object();
	char *text, *b64, *out;

	json_object_set_new(who, "user_id", json_string(uid));
	if (uname && *uname)
		json_object_set_new(who, "user_name", json_string(uname));
	text = json_dumps(who, JSON_COMPACT);
	b64 = mkt_util_base64_encode(text, strlen(text));
	out = mkt_asprintf("X-Broker-API-Originating-Identity: %s %s", platform, b64);
	free(b64);
	free(text);
	json_decref(who);
	return out;
}

static int is_http_url(const char *s)
{
	return !strncasecmp(s, "http://", 7) || !strncasecmp(s, "https://", 8);
}

int osb_broker_new(osb_broker **out, mkt_drv *d, int user_request)
{
	static const char *const required[] = { "BROKER_URL", "BROKER_USERNAME", "BROKER_PASSWORD" };
	const char *values[3], *version, *timeout_text, *rid = NULL, *uid = NULL, *uname;
	osb_broker *b = NULL;
	long long timeout = DEFAULT_TIMEOUT;
	char *guid = NULL;
	size_t len, n = 0;
	int ret;

	if ((ret = mkt_drv_market_require(d, "osb", required, 3, values)) != 0)
		return ret;
	if (!is_http_url(values[0])) {
		char *shown = mkt_util_url_mask(values[0]);

		ret = mkt_drv_fail(MKT_DRV_EINPUT, "BROKER_URL \"%s\" is not an http:// or https:// URL",
				   shown);
		free(shown);
		return ret;
	}
	timeout_text = market_attr(d, "TIMEOUT", NULL);
	if (timeout_text && (mkt_util_parse_long(timeout_text, &timeout) < 0 || timeout <= 0 ||
			     timeout > 86400))
		return mkt_drv_fail(MKT_DRV_EINPUT,
				    "TIMEOUT \"%s\" is not a number of seconds between 1 and 86400",
				    timeout_text);
	if (user_request && ((ret = mkt_drv_require(d, "REQUEST/ID", &rid)) != 0 ||
			     (ret = mkt_drv_require(d, "REQUEST/UID", &uid)) != 0))
		return ret;

	b = mkt_calloc(1, sizeof(*b));
	len = strlen(values[0]);
	while (len > 0 && values[0][len - 1] == '/')
		len--;
	b->url = mkt_strndup(values[0], len);
	b->display = mkt_util_url_mask(b->url);
	b->username = values[1];
	b->password = values[2];
	b->platform = market_attr(d, "PLATFORM", DEFAULT_PLATFORM);
	b->timeout = (long)timeout;
	version = market_attr(d, "API_VERSION", DEFAULT_API_VERSION);
	b->headers[n++] = mkt_asprintf("X-Broker-API-Version: %s", version);
	if (!rid)
		rid = guid = new_guid();
	b->headers[n++] = mkt_asprintf("X-Broker-API-Request-Identity: %s", rid);
	if (user_request) {
		uname = mkt_drv_get(d, "REQUEST/UNAME");
		b->headers[n++] = originating_identity(b->platform, uid, uname);
	}
	b->headers[n++] = mkt_strdup("Accept: application/json");
	free(guid);
	*out = b;
	return MKT_DRV_OK;
}

void osb_broker_free(osb_broker *b)
{
	size_t i;

	if (!b)
		return;
	for (i = 0; b->headers[i]; i++)
		free(b->headers[i]);
	free(b->display);
	free(b->url);
	free(b);
}

const char *osb_broker_display(const osb_broker *b)
{
	return b->display;
}

const char *osb_broker_platform(const osb_broker *b)
{
	return b->platform;
}

/* ---- calls ------------------------------------------------------------------ */

char *osb_escape(const char *s)
{
	mkt_buf b = MKT_BUF_INIT;

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (isalnum(c) || strchr("-._~", c))
			mkt_buf_addc(&b, (char)c);
		else
			mkt_buf_printf(&b, "%%%02X", c);
	}
	return b.ptr ? mkt_buf_steal(&b) : mkt_strdup("");
}

/* The reply body: JSON object (an empty body counts as {}), or
 * malformed; an error reply's code and description when it has them. */
static void parse_body(osb_reply *out, const mkt_drv_response *r)
{
	json_t *v;
	size_t i;

	for (i = 0; i < r->len && isspace((unsigned char)r->body[i]); i++)
		;
	if (i == r->len) {
		out->json = json_object();
		return;
	}
	out->json = json_loadb(r->body, r->len, 0, NULL);
	if (!json_is_object(out->json)) {
		json_decref(out->json);
		out->json = NULL;
		out->malformed = 1;
		return;
	}
	v = json_object_get(out->json, "error");
	out->error = json_is_string(v) && *json_string_value(v) ? json_string_value(v) : NULL;
	v = json_object_get(out->json, "description");
	out->description = json_is_string(v) && *json_string_value(v) ? json_string_value(v) : NULL;
}

/* What a call's 200 body is digested with before it is parsed (monitor). */
typedef struct {
	mkt_drv *d;
	const char *scheme;
	int unchanged;
} catalog_check;

static int broker_call(osb_broker *b, const char *method, const char *path, json_t *body,
		       osb_reply *out, catalog_check *check)
{
	const char *headers[8];
	mkt_drv_request req = {
		.method = method, .headers = headers, .username = b->username,
		.password = b->password, .user_agent = USER_AGENT,
		.connect_timeout = b->timeout, .timeout = b->timeout, .max_size = MAX_REPLY,
		.capture_header = "Retry-After",
	};
	mkt_drv_response r;
	char *text = NULL, *url = mkt_asprintf("%s%s", b->url, path);
	size_t n = 0, i;

	memset(out, 0, sizeof(*out));
	for (i = 0; b->headers[i]; i++)
		headers[n++] = b->headers[i];
	if (body) {
		text = json_dumps(body, JSON_COMPACT);
		headers[n++] = "Content-Type: application/json";
		req.body = text;
		req.body_len = strlen(text);
	}
	headers[n] = NULL;
	req.url = url;
	mkt_drv_log(MKT_LOG_DEBUG, "%s %s%s", method, b->display, path);
	mkt_drv_request_run(&req, &r);
	out->end = r.end;
	out->status = r.status;
	out->retry_after = MKT_STEAL(r.header);
	out->reason = MKT_STEAL(r.message);
	if (r.end == MKT_DRV_REQ_ETOOLARGE)
		out->malformed = 1;
	else if (r.end == MKT_DRV_REQ_OK && check && r.status == 200) {
		check->unchanged = mkt_drv_catalog_digest(check->d, check->scheme, r.body, r.len);
		out->body_len = r.len;
		out->body = MKT_STEAL(r.body);
	} else if (r.end == MKT_DRV_REQ_OK)
		parse_body(out, &r);
	mkt_drv_response_free(&r);
	free(text);
	free(url);
	return out->end == MKT_DRV_REQ_OK || out->end == MKT_DRV_REQ_ETOOLARGE ? 0 : -1;
}

int osb_broker_call(osb_broker *b, const char *method, const char *path, json_t *body,
		    osb_reply *out)
{
	return broker_call(b, method, path, body, out, NULL);
}

int osb_broker_get_catalog(osb_broker *b, mkt_drv *d, const char *scheme, osb_reply *out,
			   int *unchanged)
{
	catalog_check check = { d, scheme, 0 };
	int ret = broker_call(b, "GET", "/v2/catalog", NULL, out, &check);

	*unchanged = check.unchanged;
	return ret;
}

void osb_reply_free(osb_reply *r)
{
	if (!r)
		return;
	json_decref(r->json);
	free(r->body);
	free(r->retry_after);
	free(r->reason);
	memset(r, 0, sizeof(*r));
}

int osb_broker_fail(const osb_broker *b, int code, const char *method, const char *path,
		    const osb_reply *r, const char *extra)
{
	mkt_buf why = MKT_BUF_INIT;

	if (r->status > 0) {
		mkt_buf_printf(&why, "HTTP %ld", r->status);
		if (r->end == MKT_DRV_REQ_ETOOLARGE)
			mkt_buf_printf(&why, ": %s", r->reason);
		else if (r->malformed)
			mkt_buf_add(&why, ": malformed body");
		if (r->error || r->description)
			mkt_buf_printf(&why, ":%s%s%s%s", r->error ? " " : "", r->error ? r->error : "",
				       r->description ? " " : "", r->description ? r->description : "");
	} else {
		mkt_buf_add(&why, r->reason ? r->reason : "no reply");
	}
	mkt_drv_fail(code, "broker %s: %s %s: %s%s%s", b->display, method, path,
		     mkt_buf_cstr(&why), extra ? "; " : "", extra ? extra : "");
	mkt_buf_free(&why);
	return code;
}

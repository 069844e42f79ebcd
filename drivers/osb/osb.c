/*
 * osb.c: the osb market driver, an Open Service Broker (OSB API v2.17).
 *
 * The broker's catalog is the market's apps (one per plan), and users
 * provision service instances of a plan and bindings of an instance
 * through marketd.  Every broker call is made here, one process per call
 * (share/doc/drivers.md, "Service actions"):
 *
 *   monitor         GET /v2/catalog -> APP lines (catalog.h)
 *   provision       PUT    /v2/service_instances/:iid
 *   update          PATCH  /v2/service_instances/:iid
 *   deprovision     DELETE /v2/service_instances/:iid
 *   bind            PUT    /v2/service_instances/:iid/service_bindings/:bid
 *   unbind          DELETE /v2/service_instances/:iid/service_bindings/:bid
 *   last_operation  GET    …/last_operation of an instance or a binding
 *
 * What each HTTP status means is a table per action (the spec's, orphan
 * mitigation included), not code: a row maps a status range to an outcome,
 * with a second outcome for a reply whose body is malformed.
 *
 * One binary serves every action; drivers/osb/<action> are links to it.
 */
#include <config.h>

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <curl/curl.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/util.h"
#include "broker.h"
#include "catalog.h"
#include "document.h"
#include "driver.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
/* The catalog mapping (mkt_drv_catalog_digest): change it with catalog.c's output. */
#define CATALOG_SCHEME "osb catalog 1"

/* What a broker's answer comes to. */
typedef enum {
	O_FAIL,          /* exit 1: refused or failed, nothing was created */
	O_ORPHAN,        /* exit 4: the broker may have created something */
	O_SUCCEEDED,     /* STATE=succeeded */
	O_IN_PROGRESS,   /* STATE=in progress: poll with last_operation */
	O_GONE,          /* STATE=succeeded GONE=YES: a delete found nothing */
	O_POLLED         /* last_operation: the state is in the body */
} outcome;

/* Statuses lo..hi give @ok, or @malformed when the body is not what the
 * spec says.  The first matching row wins; no row: O_FAIL. */
typedef struct {
	long lo, hi;
	outcome ok, malformed;
} status_row;

/* Provision and bind (spec: "Orphan Mitigation"): 200 is an identical
 * object that already exists, so a bad body there is a plain failure;
 * after a 201/202 that cannot be read, any other 2xx or a 5xx, something
 * may exist at the broker. */
static const status_row create_rows[] = {
	{ 200, 200, O_SUCCEEDED, O_FAIL },
	{ 201, 201, O_SUCCEEDED, O_ORPHAN },
	{ 202, 202, O_IN_PROGRESS, O_ORPHAN },
	{ 200, 299, O_ORPHAN, O_ORPHAN },
	{ 500, 599, O_ORPHAN, O_ORPHAN },
	{ 0, 0, O_FAIL, O_FAIL }
};

/* Update: never orphan mitigation; an update either happened or not. */
static const status_row update_rows[] = {
	{ 200, 200, O_SUCCEEDED, O_FAIL },
	{ 202, 202, O_IN_PROGRESS, O_FAIL },
	{ 0, 0, O_FAIL, O_FAIL }
};

/* Deprovision and unbind: 410 is success (already gone); a failed delete
 * is simply retried by marketd.  200's body is {} and not looked at. */
static const status_row delete_rows[] = {
	{ 200, 200, O_SUCCEEDED, O_SUCCEEDED },
	{ 202, 202, O_IN_PROGRESS, O_FAIL },
	{ 410, 410, O_GONE, O_GONE },
	{ 0, 0, O_FAIL, O_FAIL }
};

/* last_operation: 410 is success only when polling a delete. */
static const status_row poll_rows[] = {
	{ 200, 200, O_POLLED, O_FAIL },
	{ 0, 0, O_FAIL, O_FAIL }
};
static const status_row poll_delete_rows[] = {
	{ 200, 200, O_POLLED, O_FAIL },
	{ 410, 410, O_GONE, O_GONE },
	{ 0, 0, O_FAIL, O_FAIL }
};

/* Reads the body of a successful reply into results; -1 when malformed
 * (nothing added then). */
typedef int (*reply_fn)(json_t *body, outcome o);

static int instance_reply(json_t *body, outcome o);
static int binding_reply(json_t *body, outcome o);
static int delete_reply(json_t *body, outcome o);

/* One row per service action that calls the broker once. */
typedef struct {
	const char *name;
	const char *method;
	int binding;                 /* acts on a binding (argv id is its id) */
	int delete_query;            /* service_id and plan_id go in the query */
	osb_body_fn body;            /* NULL: no request body */
	const status_row *rows;
	outcome on_lost;             /* the request went out, no reply came */
	reply_fn reply;
} service_action;

static const service_action service_actions[] = {
	{ "provision", "PUT", 0, 0, osb_doc_provision_body, create_rows, O_ORPHAN, instance_reply },
	{ "update", "PATCH", 0, 0, osb_doc_update_body, update_rows, O_FAIL, instance_reply },
	{ "deprovision", "DELETE", 0, 1, NULL, delete_rows, O_FAIL, delete_reply },
	{ "bind", "PUT", 1, 0, osb_doc_bind_body, create_rows, O_ORPHAN, binding_reply },
	{ "unbind", "DELETE", 1, 1, NULL, delete_rows, O_FAIL, delete_reply },
};

/* What last_operation polls (OPERATION_KIND). */
static const struct {
	const char *kind;
	int binding;
	const status_row *rows;
} poll_kinds[] = {
	{ "provision", 0, poll_rows },
	{ "update", 0, poll_rows },
	{ "deprovision", 0, poll_delete_rows },
	{ "bind", 1, poll_rows },
	{ "unbind", 1, poll_delete_rows },
};

static const char *const poll_states[] = { "in progress", "succeeded", "failed" };

#define ORPHAN_NOTE "the broker may have created it: orphan mitigation (delete) required"

/* ---- reading replies ---------------------------------------------------------- */

/* Optional member @key of @obj must have JSON type @type: -1 when it is
 * there with another; 0 with *out (NULL when missing or null). */
static int member(json_t *obj, const char *key, json_type type, json_t **out)
{
	json_t *v = json_object_get(obj, key);

	*out = NULL;
	if (!v || json_is_null(v))
		return 0;
	if (json_typeof(v) != type &&
	    !(type == JSON_TRUE && json_is_boolean(v)))
		return -1;
	*out = v;
	return 0;
}

static void result_json(const char *key, json_t *v)
{
	char *text;

	if (!v)
		return;
	text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	mkt_drv_result(key, text);
	free(text);
}

static void result_string(const char *key, json_t *v)
{
	if (v && *json_string_value(v))
		mkt_drv_result(key, json_string_value(v));
}

/* "operation" of a 202: a string when given. */
static int operation_member(json_t *body, json_t **op)
{
	return member(body, "operation", JSON_STRING, op);
}

static int instance_reply(json_t *body, outcome o)
{
	json_t *dash, *op;

	if (member(body, "dashboard_url", JSON_STRING, &dash) < 0 ||
	    (o == O_IN_PROGRESS && operation_member(body, &op) < 0))
		return -1;
	if (o == O_IN_PROGRESS)
		result_string("OPERATION", op);
	result_string("DASHBOARD_URL", dash);
	return 0;
}

static int delete_reply(json_t *body, outcome o)
{
	json_t *op = NULL;

	if (o == O_IN_PROGRESS && operation_member(body, &op) < 0)
		return -1;
	result_string("OPERATION", op);
	if (o == O_GONE)
		mkt_drv_result("GONE", "YES");
	return 0;
}

/* A binding: credentials, metadata.expires_at, endpoints, the drains. */
static int binding_reply(json_t *body, outcome o)
{
	json_t *op, *creds, *meta, *expires = NULL, *endpoints, *syslog, *route;

	if (o == O_IN_PROGRESS) {
		if (operation_member(body, &op) < 0)
			return -1;
		result_string("OPERATION", op);
		return 0;
	}
	if (member(body, "credentials", JSON_OBJECT, &creds) < 0 ||
	    member(body, "metadata", JSON_OBJECT, &meta) < 0 ||
	    (meta && member(meta, "expires_at", JSON_STRING, &expires) < 0) ||
	    member(body, "endpoints", JSON_ARRAY, &endpoints) < 0 ||
	    member(body, "syslog_drain_url", JSON_STRING, &syslog) < 0 ||
	    member(body, "route_service_url", JSON_STRING, &route) < 0)
		return -1;
	result_json("CREDENTIALS", creds);
	result_string("EXPIRES_AT", expires);
	result_json("ENDPOINTS", endpoints);
	result_string("SYSLOG_DRAIN_URL", syslog);
	result_string("ROUTE_SERVICE_URL", route);
	return 0;
}

/* The outcome of a call by @rows; a reply that did not come is @on_lost
 * (a request that never left is a plain failure). */
static outcome classify(const status_row *rows, outcome on_lost, const osb_reply *r)
{
	if (r->status == 0)
		return r->end == MKT_DRV_REQ_ENOTSENT ? O_FAIL : on_lost;
	for (; rows->lo; rows++) {
		if (r->status >= rows->lo && r->status <= rows->hi)
			return r->malformed ? rows->malformed : rows->ok;
	}
	return O_FAIL;
}

/* ---- paths -------------------------------------------------------------------- */

/* /v2/service_instances/:iid[/service_bindings/:bid] */
static void object_path(mkt_buf *b, const osb_target *t, int binding)
{
	mkt_buf_printf(b, "/v2/service_instances/%s", t->instance);
	if (binding)
		mkt_buf_printf(b, "/service_bindings/%s", t->binding);
}

/* ?…service_id=…&plan_id=… (escaped) */
static void ids_query(mkt_buf *b, const osb_target *t, int first)
{
	char *sid = osb_escape(t->service_id), *pid = osb_escape(t->plan_id);

	mkt_buf_printf(b, "%sservice_id=%s&plan_id=%s", first ? "?" : "&", sid, pid);
	free(pid);
	free(sid);
}

/* ---- the actions ------------------------------------------------------------------ */

static int osb_monitor(mkt_drv *d)
{
	osb_broker *b = NULL;
	osb_reply r;
	osb_catalog_stats stats;
	char *where = NULL;
	int ret, unchanged = 0;

	memset(&r, 0, sizeof(r));
	if ((ret = osb_broker_new(&b, d, 0)) != 0)
		return ret;
	if (osb_broker_get_catalog(b, d, CATALOG_SCHEME, &r, &unchanged) < 0 || r.status != 200 ||
	    r.end != MKT_DRV_REQ_OK) {
		ret = osb_broker_fail(b, MKT_DRV_EFAIL, "GET", "/v2/catalog", &r, NULL);
		goto cleanup;
	}
	where = mkt_asprintf("the catalog of broker %s", osb_broker_display(b));
	if (unchanged) {
		mkt_drv_log(MKT_LOG_INFO, "%s is unchanged since the last pass", where);
		goto cleanup;
	}
	if ((ret = osb_catalog_convert_text(where, r.body, r.body_len, &stats)) ==
	    OSB_CATALOG_MALFORMED) {
		r.malformed = 1;
		ret = osb_broker_fail(b, MKT_DRV_EFAIL, "GET", "/v2/catalog", &r, NULL);
	} else if (ret == 0)
		mkt_drv_log(MKT_LOG_INFO, "%zu apps from %s (%zu services or plans skipped)",
			    stats.apps, where, stats.skipped);

 cleanup:
	free(where);
	osb_reply_free(&r);
	osb_broker_free(b);
	return ret;
}

static const service_action *find_service_action(const char *name)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(service_actions); i++) {
		if (!strcmp(service_actions[i].name, name))
			return &service_actions[i];
	}
	return NULL;
}

/* STATE of a success outcome, NULL for a failure. */
static const char *outcome_state(outcome o)
{
	static const char *const states[] = {
		[O_SUCCEEDED] = "succeeded", [O_GONE] = "succeeded", [O_IN_PROGRESS] = "in progress",
	};

	return o < ARRAY_SIZE(states) ? states[o] : NULL;
}

/* provision, update, deprovision, bind, unbind: one call, one table. */
static int osb_service(mkt_drv *d)
{
	const service_action *a = find_service_action(mkt_drv_action_name(d));
	osb_broker *b = NULL;
	osb_target t;
	osb_reply r;
	json_t *body = NULL;
	mkt_buf path = MKT_BUF_INIT;
	outcome o;
	int ret;

	memset(&r, 0, sizeof(r));
	if ((ret = osb_broker_new(&b, d, 1)) != 0 ||
	    (ret = osb_doc_target(d, a->binding, &t)) != 0 ||
	    (a->body && (ret = a->body(d, &t, osb_broker_platform(b), &body)) != 0))
		goto cleanup;
	object_path(&path, &t, a->binding);
	mkt_buf_add(&path, "?accepts_incomplete=true");
	if (a->delete_query)
		ids_query(&path, &t, 0);
	osb_broker_call(b, a->method, mkt_buf_cstr(&path), body, &r);
	o = classify(a->rows, a->on_lost, &r);
	if (outcome_state(o)) {
		mkt_drv_result("STATE", outcome_state(o));
		/* A body the row accepts may still have a field of the wrong
		 * type: then it is malformed after all (a 201 -> orphan). */
		if (r.json && a->reply(r.json, o) < 0) {
			mkt_drv_results_reset();
			r.malformed = 1;
			o = classify(a->rows, a->on_lost, &r);
		}
	}
	if (!outcome_state(o)) {
		ret = osb_broker_fail(b, o == O_ORPHAN ? MKT_DRV_EORPHAN : MKT_DRV_EFAIL, a->method,
				      mkt_buf_cstr(&path), &r, o == O_ORPHAN ? ORPHAN_NOTE : NULL);
		goto cleanup;
	}
	mkt_drv_result_long("HTTP_STATUS", r.status);

 cleanup:
	mkt_buf_free(&path);
	json_decref(body);
	osb_reply_free(&r);
	osb_broker_free(b);
	return ret;
}

/* Retry-After: seconds, or an HTTP date (seconds from now, at least 0). */
static void retry_after_result(const char *value)
{
	long long secs;
	time_t when;

	if (!value || !*value)
		return;
	if (mkt_util_parse_long(value, &secs) == 0 && secs >= 0) {
		mkt_drv_result_long("RETRY_AFTER", secs);
		return;
	}
	when = curl_getdate(value, NULL);
	if (when >= 0)
		mkt_drv_result_long("RETRY_AFTER", when > time(NULL) ? (long long)(when - time(NULL)) : 0);
}

/* After a bind polled to success: the binding itself, for its
 * credentials (the 202 of an async bind carries none). */
static int fetch_binding(mkt_drv *d, osb_broker *b, const osb_target *t)
{
	mkt_buf path = MKT_BUF_INIT;
	osb_reply r;
	int retrievable = 0, ret = 0;

	mkt_drv_get_bool(d, "MARKETPLACEAPP/TEMPLATE/BINDINGS_RETRIEVABLE", &retrievable);
	if (!retrievable) {
		mkt_drv_log(MKT_LOG_WARN,
			    "the service's bindings are not retrievable: binding %s has no credentials",
			    t->binding);
		return 0;
	}
	object_path(&path, t, 1);
	if (osb_broker_call(b, "GET", mkt_buf_cstr(&path), NULL, &r) < 0 || r.status != 200 ||
	    !r.json || binding_reply(r.json, O_SUCCEEDED) < 0) {
		if (r.json && r.status == 200)
			r.malformed = 1;
		ret = osb_broker_fail(b, MKT_DRV_EFAIL, "GET", mkt_buf_cstr(&path), &r,
				      "the bind succeeded but its credentials could not be read");
	}
	osb_reply_free(&r);
	mkt_buf_free(&path);
	return ret;
}

/* The body of a 200 last_operation: state (required), description,
 * instance_usable, update_repeatable.  -1 when malformed. */
static int poll_reply(json_t *body, const char **state)
{
	json_t *st, *desc, *usable, *repeatable;
	size_t i;

	*state = NULL;
	if (member(body, "state", JSON_STRING, &st) < 0 || !st ||
	    member(body, "description", JSON_STRING, &desc) < 0 ||
	    member(body, "instance_usable", JSON_TRUE, &usable) < 0 ||
	    member(body, "update_repeatable", JSON_TRUE, &repeatable) < 0)
		return -1;
	for (i = 0; i < ARRAY_SIZE(poll_states); i++) {
		if (!strcmp(json_string_value(st), poll_states[i]))
			*state = poll_states[i];
	}
	if (!*state)
		return -1;
	mkt_drv_result("STATE", *state);
	result_string("DESCRIPTION", desc);
	if (!strcmp(*state, "failed") && usable)
		mkt_drv_result("INSTANCE_USABLE", json_is_true(usable) ? "YES" : "NO");
	if (!strcmp(*state, "failed") && repeatable)
		mkt_drv_result("UPDATE_REPEATABLE", json_is_true(repeatable) ? "YES" : "NO");
	return 0;
}

static int osb_last_operation(mkt_drv *d)
{
	const char *kind = NULL, *state = NULL;
	const char *binding_uuid = mkt_drv_get(d, "SERVICE_BINDING/UUID");
	osb_broker *b = NULL;
	osb_target t;
	osb_reply r;
	mkt_buf path = MKT_BUF_INIT;
	size_t i, k = ARRAY_SIZE(poll_kinds);
	outcome o;
	char *op;
	int ret;

	memset(&r, 0, sizeof(r));
	if ((ret = mkt_drv_require(d, "OPERATION_KIND", &kind)) != 0)
		return ret;
	for (i = 0; i < ARRAY_SIZE(poll_kinds); i++) {
		if (!strcmp(kind, poll_kinds[i].kind))
			k = i;
	}
	if (k == ARRAY_SIZE(poll_kinds))
		return mkt_drv_fail(MKT_DRV_EINPUT,
				    "OPERATION_KIND \"%.40s\" is not provision, update, deprovision, bind or unbind",
				    kind);
	if (!poll_kinds[k].binding && binding_uuid)
		return mkt_drv_fail(MKT_DRV_EINPUT,
				    "OPERATION_KIND %s is an instance's operation, but the document has a SERVICE_BINDING",
				    kind);
	if ((ret = osb_broker_new(&b, d, 1)) != 0 ||
	    (ret = osb_doc_target(d, poll_kinds[k].binding, &t)) != 0)
		goto cleanup;
	object_path(&path, &t, poll_kinds[k].binding);
	mkt_buf_add(&path, "/last_operation");
	ids_query(&path, &t, 1);
	if (t.operation) {
		op = osb_escape(t.operation);
		mkt_buf_printf(&path, "&operation=%s", op);
		free(op);
	}
	osb_broker_call(b, "GET", mkt_buf_cstr(&path), NULL, &r);
	o = classify(poll_kinds[k].rows, O_FAIL, &r);
	if (o == O_POLLED && (!r.json || poll_reply(r.json, &state) < 0)) {
		mkt_drv_results_reset();
		r.malformed = 1;
		o = O_FAIL;
	}
	if (o == O_GONE) {
		mkt_drv_result("STATE", "succeeded");
		mkt_drv_result("GONE", "YES");
	} else if (o != O_POLLED) {
		ret = osb_broker_fail(b, MKT_DRV_EFAIL, "GET", mkt_buf_cstr(&path), &r, NULL);
		goto cleanup;
	}
	retry_after_result(r.retry_after);
	if (state && !strcmp(state, "succeeded") && !strcmp(kind, "bind") &&
	    (ret = fetch_binding(d, b, &t)) != 0)
		goto cleanup;
	mkt_drv_result_long("HTTP_STATUS", r.status);

 cleanup:
	if (ret != 0)
		mkt_drv_results_reset();
	mkt_buf_free(&path);
	osb_reply_free(&r);
	osb_broker_free(b);
	return ret;
}

static const mkt_drv_action osb_actions[] = {
	{ "monitor", osb_monitor },
	{ "provision", osb_service },
	{ "update", osb_service },
	{ "deprovision", osb_service },
	{ "bind", osb_service },
	{ "unbind", osb_service },
	{ "last_operation", osb_last_operation },
	{ NULL, NULL }
};

int main(int argc, char **argv)
{
	return mkt_drv_main(argc, argv, osb_actions);
}

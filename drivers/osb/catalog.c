/*
 * catalog.c: a broker's catalog -> APP lines (catalog.h).
 *
 * Each plan is built as an mkt_template and written with
 * mkt_template_format_text(), the writer marketd's own template parser is
 * tested against, so quotes, backslashes and newlines in a description
 * (and the JSON attributes) survive the trip through marketd unchanged.
 */
#include <config.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/template.h"
#include "common/util.h"
#include "catalog.h"
#include "driver.h"
#include "json_names.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Where a field is read: the plan, the service, or the plan falling back
 * to the service (the spec lets a plan override bindable and
 * plan_updateable). */
typedef enum { FROM_PLAN, FROM_SERVICE, FROM_PLAN_OR_SERVICE, FROM_SERVICE_META } field_from;

/* The YES/NO attributes: always present, with the spec's default when
 * the catalog leaves the field out, so marketd never has to guess. */
static const struct {
	const char *attr;
	const char *key;
	field_from from;
	int def;
} flags[] = {
	{ "FREE", "free", FROM_PLAN, 1 },
	{ "BINDABLE", "bindable", FROM_PLAN_OR_SERVICE, 0 },
	{ "PLAN_UPDATEABLE", "plan_updateable", FROM_PLAN_OR_SERVICE, 0 },
	{ "BINDING_ROTATABLE", "binding_rotatable", FROM_PLAN, 0 },
	{ "INSTANCES_RETRIEVABLE", "instances_retrievable", FROM_SERVICE, 0 },
	{ "BINDINGS_RETRIEVABLE", "bindings_retrievable", FROM_SERVICE, 0 },
	{ "SENSITIVE", "sensitive", FROM_SERVICE_META, 0 },
};

/* Lists of strings, joined with ", ". */
static const struct {
	const char *attr;
	const char *key;
} lists[] = {
	{ "TAGS", "tags" },
	{ "REQUIRES", "requires" },
};

/* Scalars of the plan (or of its metadata), as text; left out when missing. */
static const struct {
	const char *attr;
	const char *key;
	int in_metadata;
} scalars[] = {
	{ "DISPLAY_NAME", "displayName", 1 },
	{ "EXPIRY_DAYS", "expiryDays", 1 },
	{ "MAXIMUM_POLLING_DURATION", "maximum_polling_duration", 0 },
};

/* Objects and lists of the plan kept as JSON text; left out when missing. */
static const struct {
	const char *attr;
	const char *key;
	int in_metadata;
	json_type type;
} documents[] = {
	{ "SCHEMAS", "schemas", 0, JSON_OBJECT },
	{ "MAINTENANCE_INFO", "maintenance_info", 0, JSON_OBJECT },
	{ "COSTS", "costs", 1, JSON_ARRAY },
	{ "METADATA", "metadata", 0, JSON_OBJECT },
};

typedef struct {
	json_t *service, *plan;       /* borrowed from the catalog */
	json_t *smeta, *pmeta;        /* their metadata objects, or NULL */
	const char *sid, *sname, *pid, *pname;
	mkt_template *t;
	char why[200];                /* why the plan is skipped */
} plan_ctx;

/* ---- JSON values ------------------------------------------------------------ */

/* A non-empty JSON string without NUL bytes or control characters: what
 * an id or a name must be to be a template value and a URL part. */
static const char *text_of(json_t *v)
{
	const char *s;

	if (!json_is_string(v) || json_string_length(v) == 0)
		return NULL;
	s = json_string_value(v);
	if (strlen(s) != json_string_length(v))
		return NULL;
	for (; *s; s++) {
		if (iscntrl((unsigned char)*s))
			return NULL;
	}
	return json_string_value(v);
}

static int skip(plan_ctx *c, const char *key, const char *expected, json_t *v)
{
	snprintf(c->why, sizeof(c->why), "%s is %s, not %s", key, mkt_drv_json_type_name(v), expected);
	return -1;
}

/* Field @key of @obj, NULL when missing or null. */
static json_t *field(json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);

	return json_is_null(v) ? NULL : v;
}

/* An optional string field of @obj: 0 with *out NULL when missing or
 * empty, -1 (c->why set) when not a string. */
static int opt_string(plan_ctx *c, json_t *obj, const char *key, const char **out)
{
	json_t *v = field(obj, key);

	*out = NULL;
	if (!v)
		return 0;
	if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v))
		return skip(c, key, "a string", v);
	*out = *json_string_value(v) ? json_string_value(v) : NULL;
	return 0;
}

/* ---- one plan ------------------------------------------------------------------ */

static int add_flags(plan_ctx *c)
{
	json_t *v;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(flags); i++) {
		switch (flags[i].from) {
		case FROM_PLAN:
			v = field(c->plan, flags[i].key);
			break;
		case FROM_SERVICE:
			v = field(c->service, flags[i].key);
			break;
		case FROM_SERVICE_META:
			v = field(c->smeta, flags[i].key);
			break;
		default:
			if (!(v = field(c->plan, flags[i].key)))
				v = field(c->service, flags[i].key);
			break;
		}
		if (v && !json_is_boolean(v))
			return skip(c, flags[i].key, "a boolean", v);
		mkt_template_add(c->t, flags[i].attr,
				 (v ? json_is_true(v) : flags[i].def) ? "YES" : "NO");
	}
	return 0;
}

static int add_lists(plan_ctx *c)
{
	mkt_buf b = MKT_BUF_INIT;
	json_t *list, *e;
	size_t i, j;
	int ret = -1;

	for (i = 0; i < ARRAY_SIZE(lists); i++) {
		mkt_buf_reset(&b);
		if (!(list = field(c->service, lists[i].key)))
			continue;
		if (!json_is_array(list)) {
			skip(c, lists[i].key, "a list", list);
			goto cleanup;
		}
		json_array_foreach(list, j, e) {
			if (!text_of(e)) {
				skip(c, lists[i].key, "a list of strings", list);
				goto cleanup;
			}
			mkt_buf_printf(&b, "%s%s", b.len ? ", " : "", json_string_value(e));
		}
		if (b.len)
			mkt_template_add(c->t, lists[i].attr, mkt_buf_cstr(&b));
	}
	ret = 0;

 cleanup:
	mkt_buf_free(&b);
	return ret;
}

static int add_scalars(plan_ctx *c)
{
	char buf[48];
	json_t *v;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(scalars); i++) {
		v = field(scalars[i].in_metadata ? c->pmeta : c->plan, scalars[i].key);
		if (!v)
			continue;
		if (json_is_integer(v))
			snprintf(buf, sizeof(buf), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		else if (json_is_real(v) &&
			 (snprintf(buf, sizeof(buf), "%.15g", json_real_value(v)),
			  strtod(buf, NULL) != json_real_value(v)))
			snprintf(buf, sizeof(buf), "%.17g", json_real_value(v));   /* shortest that reads back */
		else if (!text_of(v))
			return skip(c, scalars[i].key, "a number or a string", v);
		mkt_template_add(c->t, scalars[i].attr, json_is_string(v) ? json_string_value(v) : buf);
	}
	return 0;
}

static int add_documents(plan_ctx *c)
{
	json_t *v;
	char *text;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(documents); i++) {
		v = field(documents[i].in_metadata ? c->pmeta : c->plan, documents[i].key);
		if (!v)
			continue;
		if (json_typeof(v) != documents[i].type)
			return skip(c, documents[i].key,
				    documents[i].type == JSON_OBJECT ? "an object" : "a list", v);
		/* Sorted keys: a broker that reorders an object's members
		 * has not changed the plan. */
		text = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
		mkt_template_add(c->t, documents[i].attr, text);
		free(text);
	}
	return 0;
}

static int render_plan(plan_ctx *c, mkt_buf *text)
{
	const char *pdesc, *sdesc, *version = NULL;
	json_t *mi;
	char *id;

	if (c->pmeta && !json_is_object(c->pmeta))
		return skip(c, "metadata", "an object", c->pmeta);
	if (opt_string(c, c->plan, "description", &pdesc) < 0 ||
	    opt_string(c, c->service, "description", &sdesc) < 0)
		return -1;
	mi = field(c->plan, "maintenance_info");
	if (mi && json_is_object(mi) && opt_string(c, mi, "version", &version) < 0)
		return -1;

	id = mkt_asprintf("%s (%s)", c->sname, c->pname);
	mkt_template_add(c->t, "NAME", id);
	free(id);
	id = mkt_asprintf("%s:%s", c->sid, c->pid);
	mkt_template_add(c->t, "IMPORT_ID", id);
	free(id);
	mkt_template_add(c->t, "TYPE", "SERVICE");
	mkt_template_add(c->t, "ORIGIN_ID", "-1");
	mkt_template_add(c->t, "SIZE", "0");
	if (pdesc || sdesc)
		mkt_template_add(c->t, "DESCRIPTION", pdesc ? pdesc : sdesc);
	mkt_template_add(c->t, "VERSION", version ? version : "0.0");
	mkt_template_add(c->t, "SERVICE_ID", c->sid);
	mkt_template_add(c->t, "SERVICE_NAME", c->sname);
	if (sdesc)
		mkt_template_add(c->t, "SERVICE_DESCRIPTION", sdesc);
	mkt_template_add(c->t, "PLAN_ID", c->pid);
	mkt_template_add(c->t, "PLAN_NAME", c->pname);
	if (add_flags(c) < 0 || add_lists(c) < 0 || add_scalars(c) < 0 || add_documents(c) < 0)
		return -1;
	mkt_template_format_text(c->t, text);
	return 0;
}

/* ---- the catalog ------------------------------------------------------------------ */

static void emit(const mkt_buf *text)
{
	char *b64 = mkt_util_base64_encode(text->ptr ? text->ptr : "", text->len);

	mkt_drv_result("APP", b64);
	free(b64);
}

/* The plans of service #@si; a bad service skips all of them. */
static void convert_service(json_t *service, size_t si, json_t *seen, osb_catalog_stats *stats)
{
	plan_ctx c = { .service = service };
	mkt_buf text = MKT_BUF_INIT;
	json_t *plans = json_object_get(service, "plans"), *plan;
	size_t pi;

	c.sid = text_of(json_object_get(service, "id"));
	c.sname = text_of(json_object_get(service, "name"));
	c.smeta = field(service, "metadata");
	if (!json_is_object(service) || !c.sid || !c.sname || !json_is_array(plans) ||
	    (c.smeta && !json_is_object(c.smeta))) {
		mkt_drv_log(MKT_LOG_WARN,
			    "service #%zu (%s, \"%.80s\") skipped: %s", si,
			    c.sid ? c.sid : "no id", c.sname ? c.sname : "",
			    !json_is_object(service) ? "it is not an object"
			    : !c.sid ? "it has no id" : !c.sname ? "it has no name"
			    : !json_is_array(plans) ? "its plans are not a list"
			    : "its metadata is not an object");
		stats->skipped++;
		return;
	}
	json_array_foreach(plans, pi, plan) {
		c.plan = plan;
		c.pid = text_of(json_object_get(plan, "id"));
		c.pname = text_of(json_object_get(plan, "name"));
		c.pmeta = field(plan, "metadata");
		c.t = mkt_template_new();
		mkt_buf_reset(&text);
		if (!json_is_object(plan))
			skip(&c, "the plan", "an object", plan);
		else if (!c.pid)
			skip(&c, "id", "a non-empty string", json_object_get(plan, "id"));
		else if (!c.pname)
			skip(&c, "name", "a non-empty string", json_object_get(plan, "name"));
		else if (json_object_get(seen, c.pid))
			snprintf(c.why, sizeof(c.why), "an earlier plan has the same id");
		if (!*c.why && render_plan(&c, &text) == 0) {
			json_object_set_new(seen, c.pid, json_true());
			emit(&text);
			stats->apps++;
		} else {
			mkt_drv_log(MKT_LOG_WARN, "plan #%zu (%s, \"%.80s\") of service %s skipped: %s",
				    pi, c.pid ? c.pid : "no id", c.pname ? c.pname : "", c.sid, c.why);
			stats->skipped++;
		}
		c.why[0] = '\0';
		mkt_template_free(c.t);
	}
	mkt_buf_free(&text);
}

int osb_catalog_convert(const char *where, json_t *root, osb_catalog_stats *out)
{
	osb_catalog_stats stats = { 0, 0 };
	json_t *services, *service, *seen;
	size_t i;

	services = json_object_get(root, "services");
	if (!json_is_array(services)) {
		mkt_drv_fail(MKT_DRV_EFAIL,
			     "%s is not a broker catalog: expected {\"services\": [...]}, found %s%s",
			     where, mkt_drv_json_type_name(root),
			     json_is_object(root) ? (services ? " whose services is not a list"
						    : " without services") : "");
		return MKT_DRV_EFAIL;
	}
	seen = json_object();
	json_array_foreach(services, i, service)
		convert_service(service, i, seen, &stats);
	json_decref(seen);
	if (out)
		*out = stats;
	return MKT_DRV_OK;
}

/* ---- the catalog as text, one service at a time ---------------------------------- */

/*
 * A catalog of thousands of plans is megabytes of JSON: parsed whole it
 * is a tree several times that size, and most of the time of a pass goes
 * to the memory (page faults) rather than to the parsing.  The usual
 * shape, {"services": [...]} with other members anywhere, is read one
 * service at a time instead; anything else (a duplicate "services", a
 * syntax error, another type) starts over with the whole tree, so the
 * answer is the one osb_catalog_convert() gives.
 */
typedef struct {
	const char *p, *end;
} cursor;

static void skip_space(cursor *c)
{
	while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r'))
		c->p++;
}

static int take(cursor *c, char ch)
{
	skip_space(c);
	if (c->p == c->end || *c->p != ch)
		return 0;
	c->p++;
	return 1;
}

/* The JSON value at the cursor, or NULL. */
static json_t *next_value(cursor *c)
{
	json_error_t err;
	json_t *v;

	skip_space(c);
	v = json_loadb(c->p, (size_t)(c->end - c->p), JSON_DECODE_ANY | JSON_DISABLE_EOF_CHECK, &err);
	if (v)
		c->p += err.position;
	return v;
}

/* The services array, its "[" taken: 0 after its "]", -1 when malformed. */
static int stream_services(cursor *c, json_t *seen, osb_catalog_stats *stats)
{
	json_t *service;
	size_t i = 0;

	if (take(c, ']'))
		return 0;
	for (;;) {
		if (!(service = next_value(c)))
			return -1;
		convert_service(service, i++, seen, stats);
		json_decref(service);
		if (take(c, ']'))
			return 0;
		if (!take(c, ','))
			return -1;
	}
}

static int stream_catalog(const char *body, size_t len, osb_catalog_stats *stats)
{
	cursor c = { body, body + len };
	json_t *key = NULL, *other, *seen = json_object();
	int ret = -1, services = 0;

	/*
	 * jansson reads over a NUL byte without counting it in the position
	 * it reports, so the cursor would land short of where the value
	 * ended; such a body (never valid JSON) is left to the whole parse.
	 */
	if (memchr(body, '\0', len) || !take(&c, '{'))
		goto cleanup;
	if (take(&c, '}'))
		goto end;
	for (;;) {
		if (!(key = next_value(&c)) || !json_is_string(key) || !take(&c, ':'))
			goto cleanup;
		if (!strcmp(json_string_value(key), "services") &&
		    strlen(json_string_value(key)) == json_string_length(key)) {
			skip_space(&c);
			if (services++ || !take(&c, '[') || stream_services(&c, seen, stats) < 0)
				goto cleanup;
		} else if ((other = next_value(&c))) {
			json_decref(other);
		} else {
			goto cleanup;
		}
		json_decref(key);
		key = NULL;
		if (take(&c, '}'))
			break;
		if (!take(&c, ','))
			goto cleanup;
	}
 end:
	skip_space(&c);
	ret = services == 1 && c.p == c.end ? 0 : -1;

 cleanup:
	json_decref(key);
	json_decref(seen);
	return ret;
}

int osb_catalog_convert_text(const char *where, const char *body, size_t len,
			     osb_catalog_stats *out)
{
	osb_catalog_stats stats = { 0, 0 };
	size_t mark = mkt_drv_results_mark(), i;
	json_t *root;
	int ret;

	if (stream_catalog(body, len, &stats) == 0) {
		if (out)
			*out = stats;
		return MKT_DRV_OK;
	}
	/* Whatever it is, it is looked at whole, as a reply always was. */
	mkt_drv_results_rewind(mark);
	for (i = 0; i < len && isspace((unsigned char)body[i]); i++)
		;
	root = i == len ? json_object() : json_loadb(body, len, 0, NULL);
	if (!json_is_object(root)) {
		json_decref(root);
		return OSB_CATALOG_MALFORMED;
	}
	ret = osb_catalog_convert(where, root, out);
	json_decref(root);
	return ret;
}

/*
 * catalog.c: the OpenNebula public marketplace catalog -> APP lines
 * (catalog.h).
 *
 * Each appliance is built as an mkt_template and written with
 * mkt_template_format_text(), the writer that marketd's own template
 * parser is tested against, so quotes, backslashes and newlines in a
 * description survive the trip through marketd unchanged.
 */
#include <config.h>

#include <ctype.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <jansson.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/template.h"
#include "common/util.h"
#include "catalog.h"
#include "driver.h"
#include "json_names.h"

/* Longest text of a JSON number or boolean (scalar_text()). */
#define SCALAR_BUF 40

typedef struct {
	json_t *app;              /* the appliance (borrowed from the catalog) */
	size_t index;             /* its position in the catalog, from 0 */
	const char *url;          /* the endpoint, one trailing '/' */
	const char *id;           /* _id.$oid */
	const char *name;
	const char *arch;         /* ARCHITECTURE */
	char arch_buf[SCALAR_BUF];
	char hv_buf[SCALAR_BUF];
	char *hypervisor;         /* HYPERVISOR, lower case */
	mkt_template *t;          /* the app template being built */
	char why[200];            /* why the appliance is skipped */
} app_ctx;

typedef int (*render_fn)(app_ctx *c);

static int render_image(app_ctx *c);
static int render_vmtemplate(app_ctx *c);
static int render_service_template(app_ctx *c);

/* The appliance types OpenNebula knows; any other is skipped.  An
 * appliance without a type is an IMAGE (the catalog's oldest entries). */
static const struct {
	const char *type;
	render_fn render;
} app_types[] = {
	{ "IMAGE", render_image },
	{ "VMTEMPLATE", render_vmtemplate },
	{ "SERVICE_TEMPLATE", render_service_template },
};

/* The catalog's os-arch -> ARCHITECTURE (OpenNebula's names); an empty or
 * missing one is "all", any other is kept as it is. */
static const struct {
	const char *catalog;
	const char *arch;
} arch_names[] = {
	{ "amd64", "x86_64" },
	{ "x86_64", "x86_64" },
	{ "arm64", "aarch64" },
	{ "aarch64", "aarch64" },
};

/* ---- JSON values ------------------------------------------------------------ */

/* A JSON string without NUL bytes (the catalog is loaded with
 * JSON_ALLOW_NUL so that one bad string costs one appliance, not the
 * catalog; a template value cannot hold a NUL). */
static int plain_string(json_t *v)
{
	return json_is_string(v) && strlen(json_string_value(v)) == json_string_length(v);
}

/*
 * The template text of a JSON scalar: a string as it is, an integer in
 * decimal, a real in the shortest form that reads back the same, a boolean
 * as YES/NO (OpenNebula's).  1 with *out set (into @buf for non-strings),
 * 0 for null, -1 for an object, an array or a string with a NUL.
 */
static int scalar_text(json_t *v, char buf[SCALAR_BUF], const char **out)
{
	switch (json_typeof(v)) {
	case JSON_STRING:
		if (!plain_string(v))
			return -1;
		*out = json_string_value(v);
		return 1;
	case JSON_INTEGER:
		snprintf(buf, SCALAR_BUF, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		break;
	case JSON_REAL:
		snprintf(buf, SCALAR_BUF, "%.15g", json_real_value(v));
		if (strtod(buf, NULL) != json_real_value(v))
			snprintf(buf, SCALAR_BUF, "%.17g", json_real_value(v));
		break;
	case JSON_TRUE:
		snprintf(buf, SCALAR_BUF, "YES");
		break;
	case JSON_FALSE:
		snprintf(buf, SCALAR_BUF, "NO");
		break;
	case JSON_NULL:
		return 0;
	default:
		return -1;
	}
	*out = buf;
	return 1;
}

static int skip(app_ctx *c, const char *key, const char *expected, json_t *v)
{
	snprintf(c->why, sizeof(c->why), "%s is %s, not %s", key, mkt_drv_json_type_name(v), expected);
	return -1;
}

/* Field @key of @obj as text: 0 with *out NULL when missing, null or
 * empty; -1 (c->why set) when it is not a scalar. */
static int field_text(app_ctx *c, json_t *obj, const char *key, char buf[SCALAR_BUF],
		      const char **out)
{
	json_t *v = json_object_get(obj, key);
	int r;

	*out = NULL;
	if (!v)
		return 0;
	if ((r = scalar_text(v, buf, out)) < 0)
		return skip(c, key, "a string", v);
	if (r == 0 || !**out)
		*out = NULL;
	return 0;
}

/* ATTR = field @key of @obj, when there is one (OpenNebula leaves empty
 * values out). */
static int add_field(app_ctx *c, mkt_template *t, const char *attr, json_t *obj, const char *key)
{
	char buf[SCALAR_BUF];
	const char *text;

	if (field_text(c, obj, key, buf, &text) < 0)
		return -1;
	if (text)
		mkt_template_add(t, attr, text);
	return 0;
}

/* ---- opennebula_template: JSON -> template ----------------------------------- */

static int valid_name(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++) {
		if (!isalnum((unsigned char)*s) && !strchr("_.-", *s))
			return 0;
	}
	return 1;
}

/* A vector member's text: a scalar as scalar_text(), a nested object or
 * list as compact JSON (template vectors do not nest).  Caller frees;
 * NULL for null or empty. */
static char *member_text(json_t *v)
{
	char buf[SCALAR_BUF];
	const char *text;
	int r = scalar_text(v, buf, &text);

	if (r < 0)
		return json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	return r > 0 && *text ? mkt_strdup(text) : NULL;
}

static void add_vector(mkt_template *t, const char *name, json_t *obj)
{
	mkt_tattr *vec;
	const char *key;
	json_t *v;
	char *text;

	if (json_object_size(obj) == 0)
		return;
	vec = mkt_template_add_vector(t, name);
	json_object_foreach(obj, key, v) {
		if (!valid_name(key) || !(text = member_text(v)))
			continue;
		mkt_tattr_vector_set(vec, key, text);
		free(text);
	}
}

static void add_value(mkt_template *t, const char *name, json_t *v)
{
	char *text;

	if (json_is_object(v)) {
		add_vector(t, name, v);
	} else if ((text = member_text(v))) {
		mkt_template_add(t, name, text);
		free(text);
	}
}

/*
 * The template form of a VM template given as a JSON object, as
 * OpenNebula's template_to_str: a string or number is NAME = "value", an
 * object a vector; and beyond it, a list gives the attribute once per
 * element (NIC = [...] twice for two NICs), a boolean is YES/NO, and null
 * or empty values are left out.  Keys that are not template names cannot
 * be written; they are left out and counted in *dropped.
 */
static mkt_template *template_from_json(json_t *obj, size_t *dropped)
{
	mkt_template *t = mkt_template_new();
	const char *key;
	json_t *v, *e;
	size_t i;

	*dropped = 0;
	json_object_foreach(obj, key, v) {
		if (!valid_name(key)) {
			(*dropped)++;
			continue;
		}
		if (json_is_array(v)) {
			json_array_foreach(v, i, e)
				add_value(t, key, e);
		} else {
			add_value(t, key, v);
		}
	}
	return t;
}

/* Template text -> base64, added as @attr. */
static void add_template64(mkt_template *dst, const char *attr, const mkt_template *t)
{
	mkt_buf text = MKT_BUF_INIT;
	char *b64;

	mkt_template_format_text(t, &text);
	b64 = mkt_util_base64_encode(text.ptr ? text.ptr : "", text.len);
	mkt_template_add(dst, attr, b64);
	free(b64);
	mkt_buf_free(&text);
}

/*
 * The appliance's opennebula_template as a JSON object (caller's
 * reference), NULL when it has none.  It is a JSON document in a string;
 * one that does not parse costs the app its VM template only, with a
 * WARN: line, as OpenNebula's driver rescues it.  -1 (c->why set) when the
 * field has a wrong type.
 */
static int vm_template_json(app_ctx *c, json_t **out)
{
	json_t *v = json_object_get(c->app, "opennebula_template");
	json_error_t err;

	*out = NULL;
	if (!v || json_is_null(v) || (json_is_string(v) && json_string_length(v) == 0))
		return 0;
	if (json_is_object(v)) {
		*out = json_incref(v);
		return 0;
	}
	if (!json_is_string(v))
		return skip(c, "opennebula_template", "a string", v);
	*out = json_loadb(json_string_value(v), json_string_length(v), 0, &err);
	if (!*out || !json_is_object(*out)) {
		mkt_drv_log(MKT_LOG_WARN,
			    "appliance #%zu (%s, \"%s\"): opennebula_template is not a JSON object (%s); app listed without its VM template",
			    c->index, c->id, c->name, *out ? "another JSON value" : err.text);
		json_decref(*out);
		*out = NULL;
	}
	return 0;
}

static mkt_template *vm_template(app_ctx *c, json_t *obj)
{
	size_t dropped;
	mkt_template *t = template_from_json(obj, &dropped);

	if (dropped)
		mkt_drv_log(MKT_LOG_WARN,
			    "appliance #%zu (%s, \"%s\"): %zu opennebula_template attribute(s) with names that are not template names left out",
			    c->index, c->id, c->name, dropped);
	return t;
}

/* ---- the three types ------------------------------------------------------------ */

/* files[0].size: bytes as a number or a decimal string. */
static int file_size(app_ctx *c, json_t *file, uint64_t *out)
{
	json_t *v = json_object_get(file, "size");
	const char *s;
	char *end;

	*out = 0;
	if (!v || json_is_null(v))
		return 0;
	if (json_is_integer(v) && json_integer_value(v) >= 0) {
		*out = (uint64_t)json_integer_value(v);
		return 0;
	}
	if (json_is_real(v) && json_real_value(v) >= 0 && json_real_value(v) < 1.8e19) {
		*out = (uint64_t)ceil(json_real_value(v));
		return 0;
	}
	if (plain_string(v)) {
		s = json_string_value(v);
		if (!*s)
			return 0;
		if (isdigit((unsigned char)*s)) {
			*out = strtoull(s, &end, 10);
			if (!*end)
				return 0;
		}
	}
	return skip(c, "files[0].size", "a number of bytes", v);
}

/*
 * The VM template of an image says where it can run, so that a VM made
 * from it lands on a host that can run it: an ARM image gets OS/ARCH
 * aarch64 (merged here, in the JSON, where the catalog's "os" object is
 * still one value), and SCHED_REQUIREMENTS/HYPERVISOR name the catalog's
 * hypervisor and architecture (image_vm_sched(), on the template).
 */
static void image_vm_arm_os(app_ctx *c, json_t *ot)
{
	const char *key;
	json_t *v, *os = NULL;

	if (strcmp(c->arch, "aarch64"))
		return;
	json_object_foreach(ot, key, v) {
		if (!strcasecmp(key, "OS") && json_is_object(v))
			os = v;
	}
	if (!os) {
		os = json_object();
		json_object_set_new(ot, "OS", os);
	}
	/* Set last, so it wins over an "arch" member of the catalog's. */
	json_object_set_new(os, "ARCH", json_string("aarch64"));
}

static void image_vm_sched(app_ctx *c, mkt_template *vt)
{
	int arch_known = !strcmp(c->arch, "x86_64") || !strcmp(c->arch, "aarch64");
	const char *old = mkt_template_get(vt, "SCHED_REQUIREMENTS");
	mkt_buf req = MKT_BUF_INIT;

	if (old && *old)
		mkt_buf_printf(&req, "(%s) & ", old);
	mkt_buf_printf(&req, "HYPERVISOR=%s", c->hypervisor);
	if (arch_known)
		mkt_buf_printf(&req, " & ARCH=%s", c->arch);
	mkt_template_remove(vt, "SCHED_REQUIREMENTS");
	mkt_template_add(vt, "SCHED_REQUIREMENTS", mkt_buf_cstr(&req));
	mkt_template_remove(vt, "HYPERVISOR");
	mkt_template_add(vt, "HYPERVISOR", c->hypervisor);
	mkt_buf_free(&req);
}

static int render_image(app_ctx *c)
{
	json_t *files = json_object_get(c->app, "files"), *file = NULL, *ot = NULL;
	mkt_template *img = NULL, *vt = NULL;
	uint64_t bytes = 0;
	char size[32];
	int ret = -1;

	if (files && !json_is_null(files) && !json_is_array(files))
		return skip(c, "files", "a list", files);
	if (json_is_array(files) && json_array_size(files) > 0) {
		file = json_array_get(files, 0);
		if (!json_is_object(file))
			return skip(c, "files[0]", "an object", file);
	}
	if (file && file_size(c, file, &bytes) < 0)
		return -1;
	snprintf(size, sizeof(size), "%lld", mkt_drv_size_mb(bytes));
	mkt_template_add(c->t, "SIZE", size);
	img = mkt_template_new();
	if (file && (add_field(c, c->t, "MD5", file, "md5") < 0 ||
		     add_field(c, img, "DEV_PREFIX", file, "dev_prefix") < 0 ||
		     add_field(c, img, "TYPE", file, "type") < 0))
		goto cleanup;
	if (mkt_template_size(img) > 0)
		add_template64(c->t, "APPTEMPLATE64", img);
	if (vm_template_json(c, &ot) < 0)
		goto cleanup;
	if (ot) {
		image_vm_arm_os(c, ot);
		vt = vm_template(c, ot);
		image_vm_sched(c, vt);
		add_template64(c->t, "VMTEMPLATE64", vt);
	}
	ret = 0;

 cleanup:
	mkt_template_free(vt);
	mkt_template_free(img);
	json_decref(ot);
	return ret;
}

static int render_vmtemplate(app_ctx *c)
{
	json_t *disks = json_object_get(c->app, "disks"), *disk, *ot = NULL;
	mkt_template *vt = NULL;
	mkt_tattr *vec;
	char index[24];
	size_t i;

	if (disks && !json_is_null(disks) && !json_is_array(disks))
		return skip(c, "disks", "a list", disks);
	json_array_foreach(disks, i, disk) {
		if (!plain_string(disk) || !*json_string_value(disk))
			return skip(c, "an entry of disks", "an app name", disk);
	}
	mkt_template_add(c->t, "SIZE", "0");
	/* NAME only tells the disks apart; OpenNebula draws it at random,
	 * which would make every monitor pass look like a change. */
	json_array_foreach(disks, i, disk) {
		snprintf(index, sizeof(index), "%zu", i);
		vec = mkt_template_add_vector(c->t, "DISK");
		mkt_tattr_vector_set(vec, "NAME", index);
		mkt_tattr_vector_set(vec, "APP", json_string_value(disk));
	}
	if (vm_template_json(c, &ot) < 0)
		return -1;
	if (ot) {
		vt = vm_template(c, ot);
		add_template64(c->t, "APPTEMPLATE64", vt);
		mkt_template_free(vt);
		json_decref(ot);
	}
	return 0;
}

static int render_service_template(app_ctx *c)
{
	json_t *roles = json_object_get(c->app, "roles"), *app;
	json_t *ot = json_object_get(c->app, "opennebula_template");
	const char *role;
	mkt_tattr *vec;
	char *text, *b64;

	if (roles && !json_is_null(roles) && !json_is_object(roles))
		return skip(c, "roles", "an object", roles);
	json_object_foreach(roles, role, app) {
		if (!plain_string(app) || !*json_string_value(app))
			return skip(c, "a role of roles", "an app name", app);
	}
	if (ot && !json_is_null(ot) && !plain_string(ot) && !json_is_object(ot))
		return skip(c, "opennebula_template", "a string", ot);
	mkt_template_add(c->t, "SIZE", "0");
	json_object_foreach(roles, role, app) {
		vec = mkt_template_add_vector(c->t, "ROLE");
		mkt_tattr_vector_set(vec, "NAME", role);
		mkt_tattr_vector_set(vec, "APP", json_string_value(app));
	}
	/* The service template document itself, as the catalog has it. */
	if (plain_string(ot) && json_string_length(ot) > 0) {
		b64 = mkt_util_base64_encode(json_string_value(ot), json_string_length(ot));
		mkt_template_add(c->t, "APPTEMPLATE64", b64);
		free(b64);
	} else if (json_is_object(ot)) {
		text = json_dumps(ot, JSON_COMPACT);
		b64 = mkt_util_base64_encode(text, strlen(text));
		mkt_template_add(c->t, "APPTEMPLATE64", b64);
		free(b64);
		free(text);
	}
	return 0;
}

/* ---- one appliance ---------------------------------------------------------------- */

/* The attributes every app has; the type's renderer adds the rest. */
static int render_common(app_ctx *c, const char *type)
{
	json_t *tags = json_object_get(c->app, "tags"), *tag;
	char buf[SCALAR_BUF];
	const char *text;
	mkt_buf b = MKT_BUF_INIT;
	size_t i;
	int ret = -1;

	mkt_template_add(c->t, "NAME", c->name);
	mkt_template_add(c->t, "IMPORT_ID", c->id);
	mkt_template_add(c->t, "ORIGIN_ID", "-1");
	mkt_template_add(c->t, "TYPE", type);
	if (add_field(c, c->t, "PUBLISHER", c->app, "publisher") < 0 ||
	    add_field(c, c->t, "FORMAT", c->app, "format") < 0 ||
	    add_field(c, c->t, "DESCRIPTION", c->app, "short_description") < 0 ||
	    add_field(c, c->t, "VERSION", c->app, "version") < 0)
		goto cleanup;
	if (tags && !json_is_null(tags) && !json_is_array(tags)) {
		skip(c, "tags", "a list", tags);
		goto cleanup;
	}
	json_array_foreach(tags, i, tag) {
		if (scalar_text(tag, buf, &text) <= 0) {
			skip(c, "a tag", "a string", tag);
			goto cleanup;
		}
		mkt_buf_printf(&b, "%s%s", b.len ? ", " : "", text);
	}
	if (b.len)
		mkt_template_add(c->t, "TAGS", mkt_buf_cstr(&b));
	if (add_field(c, c->t, "REGTIME", c->app, "creation_time") < 0)
		goto cleanup;
	mkt_buf_reset(&b);
	mkt_buf_printf(&b, "%sappliance/%s", c->url, c->id);
	mkt_template_add(c->t, "LINK", mkt_buf_cstr(&b));
	mkt_buf_add(&b, "/download/0");
	mkt_template_add(c->t, "SOURCE", mkt_buf_cstr(&b));
	mkt_template_add(c->t, "ARCHITECTURE", c->arch);
	mkt_template_add(c->t, "HYPERVISOR", c->hypervisor);
	ret = 0;

 cleanup:
	mkt_buf_free(&b);
	return ret;
}

/* An id goes into URLs and is the app's identity in the market: only
 * what the catalog uses (Mongo object ids are hex) and nothing that could
 * change the path. */
static int valid_id(const char *id)
{
	if (!*id)
		return 0;
	for (; *id; id++) {
		if (!isalnum((unsigned char)*id) && *id != '-' && *id != '_')
			return 0;
	}
	return 1;
}

static int read_identity(app_ctx *c, render_fn *render, const char **type)
{
	json_t *id = json_object_get(json_object_get(c->app, "_id"), "$oid");
	json_t *name = json_object_get(c->app, "name");
	json_t *t = json_object_get(c->app, "type");
	const char *arch, *hv;
	size_t i;

	if (!plain_string(id) || !valid_id(json_string_value(id)))
		return skip(c, "_id.$oid", "an object id", id);
	c->id = json_string_value(id);
	if (!plain_string(name) || !*json_string_value(name))
		return skip(c, "name", "a non-empty string", name);
	c->name = json_string_value(name);
	if (t && !json_is_null(t) && !plain_string(t))
		return skip(c, "type", "a string", t);
	*type = t && !json_is_null(t) ? json_string_value(t) : "IMAGE";
	*render = NULL;
	for (i = 0; i < sizeof(app_types) / sizeof(app_types[0]); i++) {
		if (!strcmp(*type, app_types[i].type)) {
			*render = app_types[i].render;
			*type = app_types[i].type;
		}
	}
	if (!*render) {
		snprintf(c->why, sizeof(c->why),
			 "type \"%.40s\" is not IMAGE, VMTEMPLATE or SERVICE_TEMPLATE", *type);
		return -1;
	}
	if (field_text(c, c->app, "os-arch", c->arch_buf, &arch) < 0 ||
	    field_text(c, c->app, "hypervisor", c->hv_buf, &hv) < 0)
		return -1;
	c->arch = arch ? arch : "all";
	for (i = 0; arch && i < sizeof(arch_names) / sizeof(arch_names[0]); i++) {
		if (!strcasecmp(arch, arch_names[i].catalog))
			c->arch = arch_names[i].arch;
	}
	c->hypervisor = mkt_strdup(!hv || !strcasecmp(hv, "ALL") ? "kvm" : hv);
	for (i = 0; c->hypervisor[i]; i++)
		c->hypervisor[i] = (char)tolower((unsigned char)c->hypervisor[i]);
	return 0;
}

/* The template text of one appliance into @text; -1 with c->why set when
 * it is skipped. */
static int render_app(app_ctx *c, mkt_buf *text)
{
	render_fn render;
	const char *type;
	int ret;

	if (!json_is_object(c->app))
		return skip(c, "the appliance", "an object", c->app);
	if ((ret = read_identity(c, &render, &type)) < 0 ||
	    (ret = render_common(c, type)) < 0 ||
	    (ret = render(c)) < 0)
		return ret;
	mkt_template_format_text(c->t, text);
	return 0;
}

/* ---- the catalog ------------------------------------------------------------------ */

/* Results are written out every so often rather than at the end: marketd
 * applies APP lines while the catalog is still being converted, and the
 * driver holds one such chunk instead of the whole result. */
#define FLUSH_BYTES ((size_t)1 << 20)

/* jansson's JSON_PARSER_MAX_DEPTH (fixed when the library is built, 2048
 * by default; one_catalog_test checks it): every value counts one level,
 * the root too.  A piece parsed alone starts at level 1, so the scanner
 * adds the levels above it to refuse what the whole document would. */
#define JSON_MAX_DEPTH 2048

/* The document is read piece by piece: the scanner finds where each value
 * ends, jansson parses the piece, so the scanner need not check what is
 * inside; it only has to find the same ends as a parser of the whole
 * document, and refuse what lies between them unless it is JSON's. */
typedef struct {
	const char *p;
	const char *end;
} cursor;

/* JSON's whitespace, all that jansson skips: not isspace(), whose \v and
 * \f would pass here what the whole-document parse refuses. */
static int json_space(char ch)
{
	return ch == ' ' || ch == '\n' || ch == '\r' || ch == '\t';
}

static void skip_space(cursor *c)
{
	while (c->p < c->end && json_space(*c->p))
		c->p++;
}

/* Skip whitespace and @ch; 0 when something else comes first. */
static int take(cursor *c, char ch)
{
	skip_space(c);
	if (c->p == c->end || *c->p != ch)
		return 0;
	c->p++;
	return 1;
}

/* The closing quote of the string whose opening quote is at @p, or NULL
 * when the document ends first.  A quote is escaped by an odd run of
 * backslashes before it; looking only at quotes keeps the long strings of
 * a catalog (descriptions, templates) at memchr()'s speed. */
static const char *string_end(const char *p, const char *end)
{
	const char *q = p + 1, *b;

	while ((q = memchr(q, '"', (size_t)(end - q)))) {
		for (b = q; b > p + 1 && b[-1] == '\\'; b--)
			;
		if ((q - b) % 2 == 0)
			return q;
		q++;
	}
	return NULL;
}

/*
 * The value at c->p (whitespace skipped): its length into *len and its
 * depth in jansson's levels (1 for a scalar, 2 for [1], ...) into *depth,
 * c->p left on it.  A string ends at its closing quote, an object or list
 * at the bracket that closes it, any other value before the next ',', '}',
 * ']' or whitespace.  -1 when the document ends inside it or nothing is
 * there; what it holds is jansson's to judge.
 */
static int value_extent(cursor *c, size_t *len, int *depth)
{
	const char *p, *q;
	int open = 0;

	skip_space(c);
	p = c->p;
	if (p == c->end)
		return -1;
	*depth = 1;
	if (*p == '"') {
		if (!(q = string_end(p, c->end)))
			return -1;
		*len = (size_t)(q + 1 - p);
		return 0;
	}
	if (*p != '{' && *p != '[') {
		for (q = p; q < c->end && !json_space(*q) && *q != ',' && *q != '}' && *q != ']'; q++)
			;
		*len = (size_t)(q - p);
		return q > p ? 0 : -1;
	}
	/* Anything but brackets inside a container is (part of) a value one
	 * level below it, a key too: an object's key has a value. */
	for (q = p; q < c->end; q++) {
		switch (*q) {
		case '{':
		case '[':
			if (++open > *depth)
				*depth = open;
			break;
		case '}':
		case ']':
			if (--open == 0) {
				*len = (size_t)(q + 1 - p);
				return 0;
			}
			break;
		case ' ':
		case '\n':
		case '\r':
		case '\t':
		case ',':
		case ':':
			break;
		case '"':
			if (!(q = string_end(q, c->end)))
				return -1;
			/* fall through */
		default:
			if (open + 1 > *depth)
				*depth = open + 1;
			break;
		}
	}
	return -1;
}

/* Parse the value at c->p, @above levels below the root, and step over
 * it: the value (caller's reference) or NULL when it is not one. */
static json_t *take_value(cursor *c, int above)
{
	json_t *v;
	size_t len;
	int depth;

	if (value_extent(c, &len, &depth) < 0 || depth + above > JSON_MAX_DEPTH)
		return NULL;
	/* JSON_ALLOW_NUL as the whole document was parsed: a NUL costs one
	 * appliance, not the catalog. */
	v = json_loadb(c->p, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
	c->p += len;
	return v;
}

/* One appliance -> an APP line, or a WARN: line saying why not. */
static void convert_app(const char *url, json_t *app, size_t index, mkt_buf *text,
			one_catalog_stats *stats)
{
	app_ctx c = { .app = app, .index = index, .url = url, .id = "no id", .name = "" };
	char *b64;

	c.t = mkt_template_new();
	mkt_buf_reset(text);
	if (render_app(&c, text) == 0) {
		b64 = mkt_util_base64_encode(text->ptr ? text->ptr : "", text->len);
		mkt_drv_result("APP", b64);
		free(b64);
		stats->apps++;
	} else {
		mkt_drv_log(MKT_LOG_WARN, "appliance #%zu (%s, \"%.80s\") skipped: %s",
			    index, c.id, c.name, c.why);
		stats->skipped++;
	}
	mkt_template_free(c.t);
	free(c.hypervisor);
}

/* The appliances list at c->p, each appliance converted as soon as it is
 * read: 0, or -1 when the list is not JSON. */
static int convert_list(cursor *c, const char *url, one_catalog_stats *stats)
{
	mkt_buf text = MKT_BUF_INIT;
	json_t *app;
	size_t i;
	int ret = -1;

	if (!take(c, '['))
		goto cleanup;
	if (take(c, ']')) {
		ret = 0;
		goto cleanup;
	}
	for (i = 0;; i++) {
		/* The root object and the list are the two levels above. */
		if (!(app = take_value(c, 2)))
			goto cleanup;
		convert_app(url, app, i, &text, stats);
		json_decref(app);
		if (mkt_drv_results_size() >= FLUSH_BYTES)
			mkt_drv_results_flush();
		if (take(c, ']'))
			break;
		if (!take(c, ','))
			goto cleanup;
	}
	ret = 0;

 cleanup:
	mkt_buf_free(&text);
	return ret;
}

/* Is the key at c->p "appliances"?  Decoded as JSON, since it may be
 * spelled with escapes; 1 or 0, c->p after it, or -1 when it is not a
 * key jansson would take (not a string, or one holding a NUL). */
static int take_key(cursor *c)
{
	json_t *key;
	int ret = -1;

	skip_space(c);
	if (c->p == c->end || *c->p != '"' || !(key = take_value(c, 1)))
		return -1;
	if (strlen(json_string_value(key)) == json_string_length(key))
		ret = json_string_length(key) == strlen("appliances") &&
		      !memcmp(json_string_value(key), "appliances", strlen("appliances"));
	json_decref(key);
	return ret;
}

typedef enum {
	STREAM_OK,
	STREAM_MALFORMED,     /* not a catalog: the whole-document parse says why */
	STREAM_DUPLICATE,     /* two "appliances" members */
} stream_status;

/*
 * Convert the catalog member by member, and its appliances one by one as
 * they are read, so that the catalog is never held whole as a jansson tree
 * (about six times its size), and its APP lines can go out as they are
 * made.  Every other member is parsed too (and dropped), so that what
 * passes is JSON.
 */
static stream_status stream_catalog(const char *url, const char *body, size_t len,
				    one_catalog_stats *stats)
{
	cursor c = { body, body + len };
	json_t *v;
	int key, seen = 0, converted = 0;

	if (!take(&c, '{'))
		return STREAM_MALFORMED;
	if (!take(&c, '}')) {
		do {
			if ((key = take_key(&c)) < 0 || !take(&c, ':'))
				return STREAM_MALFORMED;
			skip_space(&c);
			if (key && seen++ == 0 && c.p < c.end && *c.p == '[') {
				if (convert_list(&c, url, stats) < 0)
					return STREAM_MALFORMED;
				converted = 1;
			} else {
				if (!(v = take_value(&c, 1)))
					return STREAM_MALFORMED;
				json_decref(v);
			}
		} while (take(&c, ','));
		if (!take(&c, '}'))
			return STREAM_MALFORMED;
	}
	skip_space(&c);
	if (c.p != c.end)
		return STREAM_MALFORMED;
	/* jansson keeps the last of two equal keys: the appliances already
	 * converted would not be the catalog's. */
	if (seen > 1)
		return STREAM_DUPLICATE;
	return converted ? STREAM_OK : STREAM_MALFORMED;
}

/*
 * Why @body is not a catalog, in the words the driver has always used:
 * the whole document parsed at once (only on this path: it takes about six
 * times the document's memory).
 */
static int catalog_error(const char *where, const char *body, size_t len)
{
	json_error_t err;
	json_t *root, *apps;
	size_t lead;

	root = json_loadb(body, len, JSON_ALLOW_NUL, &err);
	if (!root) {
		for (lead = 0; lead < len && isspace((unsigned char)body[lead]); lead++)
			;
		return mkt_drv_fail(MKT_DRV_EFAIL, "%s is not JSON%s: %s at line %d, column %d",
				    where,
				    lead < len && body[lead] == '<' ? " (an HTML or XML page?)" : "",
				    err.text, err.line, err.column);
	}
	apps = json_object_get(root, "appliances");
	if (!json_is_array(apps))
		mkt_drv_fail(MKT_DRV_EFAIL,
			     "%s is not a marketplace catalog: expected {\"appliances\": [...]}, found %s%s",
			     where, mkt_drv_json_type_name(root),
			     json_is_object(root) ? (apps ? " whose appliances is not a list"
						    : " without appliances") : "");
	else
		mkt_drv_fail(MKT_DRV_EFAIL,
			     "%s could not be read appliance by appliance, yet it parses as a catalog (a bug of the one driver)",
			     where);
	json_decref(root);
	return MKT_DRV_EFAIL;
}

int one_catalog_convert(const char *url, const char *where, const char *body, size_t len,
			one_catalog_stats *out)
{
	one_catalog_stats stats = { 0, 0 };
	size_t mark = mkt_drv_results_mark();
	stream_status st = stream_catalog(url, body, len, &stats);

	if (st == STREAM_OK) {
		if (out)
			*out = stats;
		return MKT_DRV_OK;
	}
	mkt_drv_results_rewind(mark);
	if (st == STREAM_DUPLICATE)
		return mkt_drv_fail(MKT_DRV_EFAIL,
				    "%s is not a marketplace catalog: it has \"appliances\" more than once",
				    where);
	return catalog_error(where, body, len);
}

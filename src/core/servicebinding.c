/*
 * servicebinding.c: bindings of service instances (see service.h).
 */
#include <config.h>

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/alloc.h"
#include "common/error.h"
#include "common/log.h"
#include "common/seal.h"
#include "common/util.h"
#include "common/xml.h"
#include "service_priv.h"

static const char *const binding_states[MKT_BINDING_STATE_LAST] = {
	[MKT_BINDING_BINDING] = "BINDING", [MKT_BINDING_READY] = "READY",
	[MKT_BINDING_UNBINDING] = "UNBINDING", [MKT_BINDING_FAILED] = "FAILED",
};

const char *mkt_binding_state_name(int state)
{
	return state >= 0 && state < MKT_BINDING_STATE_LAST ? binding_states[state] : "UNKNOWN";
}

/* A sensitive service's credentials, until their owner saw them once. */
struct mkt_once_secret {
	struct mkt_once_secret *next;
	int binding;
	char *credentials;
};

void mkt_binding_forget_once(mkt_core *core)
{
	while (core->once) {
		mkt_once_secret *o = core->once;

		core->once = o->next;
		mkt_seal_wipe_free(o->credentials);
		free(o);
	}
}

/* Take (*out) or drop (out NULL) the held credentials of @binding. */
static int take_once(mkt_core *core, int binding, char **out)
{
	mkt_once_secret **pp, *o;

	for (pp = &core->once; (o = *pp); pp = &o->next) {
		if (o->binding != binding)
			continue;
		*pp = o->next;
		if (out)
			*out = o->credentials;
		else
			mkt_seal_wipe_free(o->credentials);
		free(o);
		return 1;
	}
	return 0;
}

/* ---- the class ------------------------------------------------------------ */

static const mkt_service_text binding_texts[] = {
	{ "UUID", offsetof(mkt_binding, uuid) },
	{ "EXPIRES_AT", offsetof(mkt_binding, expires_at) },
	{ "PARAMETERS", offsetof(mkt_binding, parameters) },
	{ "ERROR", offsetof(mkt_binding, error) },
};
#define NTEXTS (sizeof(binding_texts) / sizeof(binding_texts[0]))

static void binding_free(mkt_object *obj)
{
	mkt_binding *bd = (mkt_binding *)obj;

	mkt_object_clear(&bd->obj);
	mkt_service__texts_free(bd, binding_texts, NTEXTS);
	free(bd->sealed);
	mkt_service__op_clear(&bd->op);
	free(bd);
}

static int binding_parse(mkt_object **out, xmlNodePtr root)
{
	static const char *const ints[] = { "STATE", "SERVICE_INSTANCE_ID", "REGTIME", "EXPIRES",
					    "SENSITIVE" };
	mkt_binding *bd = mkt_calloc(1, sizeof(*bd));
	long long v[5];
	int ret;

	if ((ret = mkt_object_parse_common(&bd->obj, root)) < 0 ||
	    (ret = mkt_xml_children_long(root, ints, 5, v)) < 0 ||
	    (ret = mkt_service__op_parse(&bd->op, root)) < 0) {
		binding_free(&bd->obj);
		return ret;
	}
	bd->state = (int)v[0];
	bd->instance_id = (int)v[1];
	bd->regtime = v[2];
	bd->expires = v[3];
	bd->sensitive = (int)v[4];
	mkt_service__texts_parse(bd, binding_texts, NTEXTS, root);
	bd->sealed = mkt_xml_child_text(root, "SEALED_CREDENTIALS");
	if (bd->sealed && !*bd->sealed)
		mkt_service__set(&bd->sealed, NULL);
	*out = &bd->obj;
	return 0;
}

/* The binding's XML; @credentials (JSON text) only in an info for the
 * instance's owner or the oneadmin group.  The sealed text never leaves
 * the store. */
static void format_binding(const mkt_binding *bd, mkt_format_mode mode, const char *credentials,
			   mkt_buf *b)
{
	mkt_buf_add(b, "<SERVICE_BINDING>");
	mkt_object_format_head(&bd->obj, b);
	mkt_buf_add_elem(b, "NAME", bd->obj.name);
	mkt_object_format_lock(&bd->obj, b);
	mkt_object_format_perms(&bd->obj, b);
	mkt_buf_add_elem_int(b, "STATE", bd->state);
	mkt_buf_add_elem_int(b, "SERVICE_INSTANCE_ID", bd->instance_id);
	mkt_buf_add_elem_int(b, "REGTIME", bd->regtime);
	mkt_buf_add_elem_int(b, "EXPIRES", bd->expires);
	mkt_buf_add_elem_int(b, "SENSITIVE", bd->sensitive);
	mkt_service__texts_format(bd, binding_texts, NTEXTS, b);
	mkt_service__op_format(&bd->op, b);
	if (mode == MKT_FORMAT_STORE)
		mkt_buf_add_elem(b, "SEALED_CREDENTIALS", bd->sealed);
	if (credentials)
		mkt_buf_add_elem(b, "CREDENTIALS", credentials);
	mkt_template_format_xml(bd->obj.tmpl, b, NULL);
	mkt_buf_add(b, "</SERVICE_BINDING>");
}

static void binding_format(mkt_core *core, const mkt_object *obj, mkt_format_mode mode,
			   mkt_buf *b)
{
	format_binding((const mkt_binding *)obj, mode, NULL, b);
}

static void binding_row(const mkt_object *obj, mkt_store_row *row)
{
	row->parent = ((const mkt_binding *)obj)->instance_id;
	row->state = ((const mkt_binding *)obj)->state;
}

const mkt_class mkt_binding_class = {
	.xml_name = "SERVICE_BINDING",
	.human_name = "service binding",
	.table = MKT_TABLE_BINDING,
	.name_per_owner = 1,
	.lockable = 1,
	.body_is_view = 0,        /* the stored body has the sealed credentials */
	.parse = binding_parse,
	.format = binding_format,
	.free = binding_free,
	.row = binding_row,
};

/* ---- operations ------------------------------------------------------------ */

int mkt_binding_allocate(mkt_core *core, const mkt_principal *who, int instance_id,
			 const char *text, int *out_id)
{
	mkt_binding *bd = mkt_calloc(1, sizeof(*bd));
	mkt_object *iobj = NULL;
	mkt_app *plan = NULL;
	mkt_instance *in;
	const char *name, *params;
	long long days = 0;
	int ret;

	if ((ret = mkt_template_parse_any(&bd->obj.tmpl, text ? text : "")) < 0)
		goto cleanup;
	params = mkt_template_value(bd->obj.tmpl, "PARAMETERS");
	bd->parameters = params ? mkt_strdup(params) : NULL;
	bd->obj.uid = who->uid;
	bd->obj.gid = who->gid;
	bd->obj.uname = mkt_strdup(who->uname);
	bd->obj.gname = mkt_strdup(who->gname);
	mkt_object_set_default_perms(&bd->obj);
	bd->regtime = (long long)time(NULL);
	bd->state = MKT_BINDING_BINDING;
	bd->instance_id = instance_id;
	if (!(bd->uuid = mkt_service__uuid())) {
		ret = mkt_error_set(MKT_ERROR, MKT_ERR_CORE, "cannot draw a binding id");
		goto cleanup;
	}
	mkt_service__op_start(&bd->op, MKT_OP_BIND);

	if ((ret = mkt_core_begin(core)) < 0)
		goto cleanup;
	/* Binding hands out credentials: MANAGE of the instance. */
	if ((ret = mkt_object_get(core, who, &mkt_instance_class, instance_id, MKT_AUTH_MANAGE, 0,
				  &iobj)) < 0)
		goto end;
	in = (mkt_instance *)iobj;
	if (in->state != MKT_INSTANCE_READY) {
		ret = mkt_error_set(MKT_EACTION, MKT_ERR_CORE,
				    "service instance %d is %s: only a READY instance can be bound",
				    instance_id, mkt_instance_state_name(in->state));
		goto end;
	}
	if ((ret = mkt_service__plan(core, NULL, in->app_id, &plan)) < 0)
		goto end;
	if (!mkt_service__yes(plan->obj.tmpl, "BINDABLE")) {
		ret = mkt_error_set(MKT_EACTION, MKT_ERR_CORE,
				    "the plan of service instance %d is not bindable", instance_id);
		goto end;
	}
	bd->sensitive = mkt_service__yes(plan->obj.tmpl, "SENSITIVE");
	if (mkt_template_get_long(plan->obj.tmpl, "EXPIRY_DAYS", &days) == 0 && days > 0)
		bd->expires = bd->regtime + days * 24 * 3600;
	mkt_error_clear();
	if ((ret = mkt_store_next_oid(core->store, MKT_TABLE_BINDING, 0, &bd->obj.id)) < 0)
		goto end;
	name = mkt_template_get(bd->obj.tmpl, "NAME");
	bd->obj.name = name && *name ? mkt_strdup(name) : mkt_asprintf("binding-%d", bd->obj.id);
	mkt_template_remove(bd->obj.tmpl, "NAME");
	mkt_template_remove(bd->obj.tmpl, "PARAMETERS");
	if ((ret = mkt_object_validate_name(bd->obj.name)) == 0 &&
	    (ret = mkt_object_check_name(core, &mkt_binding_class, bd->obj.name, who->uid, -1)) == 0 &&
	    (ret = mkt_object_save(core, &mkt_binding_class, &bd->obj, MKT_STORE_INSERT)) == 0)
		*out_id = bd->obj.id;
 end:
	ret = mkt_core_end(core, ret);

 cleanup:
	mkt_object_free(&mkt_app_class, plan ? &plan->obj : NULL);
	mkt_object_free(&mkt_instance_class, iobj);
	binding_free(&bd->obj);
	return ret;
}

/* Start an unbind (a user's delete, the expiry job, an instance's delete). */
static int start_unbind(mkt_core *core, mkt_binding *bd)
{
	bd->state = MKT_BINDING_UNBINDING;
	mkt_service__set(&bd->error, NULL);
	mkt_service__op_start(&bd->op, MKT_OP_UNBIND);
	return mkt_object_save(core, &mkt_binding_class, &bd->obj, MKT_STORE_UPDATE);
}

int mkt_binding_delete(mkt_core *core, const mkt_principal *who, int id)
{
	mkt_object *obj = NULL;
	int ret;

	if ((ret = mkt_core_begin(core)) < 0)
		return ret;
	if ((ret = mkt_object_get(core, who, &mkt_binding_class, id, MKT_AUTH_MANAGE, 0, &obj)) == 0) {
		if (((mkt_binding *)obj)->state == MKT_BINDING_UNBINDING)
			ret = mkt_error_set(MKT_EACTION, MKT_ERR_CORE,
					    "service binding %d is already being unbound", id);
		else
			ret = start_unbind(core, (mkt_binding *)obj);
	}
	mkt_object_free(&mkt_binding_class, obj);
	return mkt_core_end(core, ret);
}

int mkt_binding_expire(mkt_core *core, int id)
{
	mkt_object *obj = NULL;
	int ret;

	if ((ret = mkt_core_begin(core)) < 0)
		return ret;
	if ((ret = mkt_object_load(core, &mkt_binding_class, id, &obj)) == 0 &&
	    ((mkt_binding *)obj)->state == MKT_BINDING_READY) {
		mkt_log(MKT_LOG_INFO, "service", "service binding %d (instance %d) expired at %lld: "
			"unbinding it", id, ((mkt_binding *)obj)->instance_id,
			((mkt_binding *)obj)->expires);
		ret = start_unbind(core, (mkt_binding *)obj);
	}
	mkt_object_free(&mkt_binding_class, obj);
	return mkt_core_end(core, ret);
}

/* For an instance's delete: every binding not yet unbinding starts to. */
int mkt_binding_unbind_all(mkt_core *core, const int *ids, size_t n)
{
	size_t i;
	int ret = 0;

	for (i = 0; i < n && ret == 0; i++) {
		mkt_object *obj = NULL;

		if ((ret = mkt_object_load(core, &mkt_binding_class, ids[i], &obj)) == 0 &&
		    ((mkt_binding *)obj)->state != MKT_BINDING_UNBINDING)
			ret = start_unbind(core, (mkt_binding *)obj);
		mkt_object_free(&mkt_binding_class, obj);
	}
	return ret;
}

int mkt_binding_pool(mkt_core *core, const mkt_principal *who, int filter, int start_id,
		     int end_id, char **out_xml)
{
	return mkt_object_pool_filtered(core, who, &mkt_binding_class, filter, start_id, end_id,
					-1, "SERVICE_BINDING_POOL", out_xml);
}

/* RFC 3339 (2026-12-04T17:00:00Z, or with an offset) → epoch; -1 if not. */
static long long parse_rfc3339(const char *s)
{
	struct tm tm = { 0 };
	const char *p;
	long long t;
	int oh = 0, om = 0, sign = 1;

	if (!s || !(p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm)))
		return -1;
	if (*p == '.')
		while (*++p >= '0' && *p <= '9')
			;
	if (*p == '+' || *p == '-') {
		sign = *p == '-' ? -1 : 1;
		if (sscanf(p + 1, "%2d:%2d", &oh, &om) != 2)
			return -1;
	} else if (*p != 'Z' && *p != 'z') {
		return -1;
	}
	t = (long long)timegm(&tm);
	return t - sign * (oh * 3600 + om * 60);
}

/* Store what a bind answered: sealed credentials (or, for a sensitive
 * service, held once in memory), and when they expire. */
static int keep_credentials(mkt_core *core, mkt_binding *bd, const mkt_template *result)
{
	const char *creds = mkt_template_get(result, "CREDENTIALS");
	const char *exp = mkt_template_get(result, "EXPIRES_AT");
	const mkt_seal_key *key;
	long long t;
	int ret;

	if (exp && (t = parse_rfc3339(exp)) > 0) {
		bd->expires = t;
		mkt_service__set(&bd->expires_at, exp);
	}
	if (!creds)
		return 0;
	if (bd->sensitive) {
		mkt_once_secret *o = mkt_calloc(1, sizeof(*o));

		take_once(core, bd->obj.id, NULL);
		o->binding = bd->obj.id;
		o->credentials = mkt_strdup(creds);
		o->next = core->once;
		core->once = o;
		return 0;
	}
	if ((ret = mkt_core_seal_key(core, &key)) < 0)
		return ret;
	free(bd->sealed);
	bd->sealed = mkt_seal_encrypt(key, creds, strlen(creds));
	return 0;
}

int mkt_binding_op_done(mkt_core *core, int id, int kind, mkt_outcome outcome,
			const mkt_template *result, const char *message, int *out_next)
{
	mkt_object *obj = NULL;
	mkt_binding *bd;
	const char *v;
	int ret;

	*out_next = MKT_OP_NONE;
	if ((ret = mkt_core_begin(core)) < 0)
		return ret;
	if ((ret = mkt_object_load(core, &mkt_binding_class, id, &obj)) < 0)
		goto cleanup;
	bd = (mkt_binding *)obj;
	/* A stale answer or none at all: nothing follows from it. */
	if (bd->op.kind != kind || outcome == MKT_OUTCOME_RETRY)
		goto cleanup;
	bd->op.attempts++;
	if (result && (v = mkt_template_get(result, "OPERATION")))
		mkt_service__set(&bd->op.token, v);
	switch (outcome) {
	case MKT_OUTCOME_PENDING:
		bd->op.async = 1;
		*out_next = kind;
		break;
	case MKT_OUTCOME_DONE:
		if (kind == MKT_OP_UNBIND || bd->op.orphan) {
			mkt_store_row row = { .oid = id };

			take_once(core, id, NULL);
			mkt_log(MKT_LOG_INFO, "service", "service binding %d of instance %d %s", id,
				bd->instance_id, bd->op.orphan ? "removed by orphan mitigation" :
				"unbound");
			ret = mkt_store_write(core->store, MKT_TABLE_BINDING, MKT_STORE_DELETE, &row);
			goto cleanup;
		}
		if ((ret = keep_credentials(core, bd, result)) < 0)
			goto cleanup;
		mkt_service__op_clear(&bd->op);
		mkt_service__set(&bd->error, NULL);
		bd->state = MKT_BINDING_READY;
		break;
	case MKT_OUTCOME_FAILED:
	case MKT_OUTCOME_ORPHAN:
		mkt_service__set(&bd->error, message ? message : "the broker reported a failure");
		mkt_log(MKT_LOG_WARN, "service", "service binding %d: %s failed: %s", id,
			mkt_op_kind_name(kind), bd->error);
		bd->state = MKT_BINDING_FAILED;
		if (outcome == MKT_OUTCOME_ORPHAN && kind == MKT_OP_BIND) {
			mkt_service__op_start(&bd->op, MKT_OP_UNBIND);
			bd->op.orphan = 1;
			*out_next = MKT_OP_UNBIND;
			mkt_log(MKT_LOG_WARN, "service", "service binding %d: orphan mitigation: "
				"unbinding what the broker may have made", id);
		} else if (bd->op.orphan) {
			*out_next = kind;
		} else {
			mkt_service__op_clear(&bd->op);
		}
		break;
	case MKT_OUTCOME_RETRY:
		break;
	}
	ret = mkt_object_save(core, &mkt_binding_class, obj, MKT_STORE_UPDATE);

 cleanup:
	mkt_object_free(&mkt_binding_class, obj);
	return mkt_core_end(core, ret);
}

int mkt_binding_credentials(mkt_core *core, const mkt_principal *who, int id, char **out)
{
	mkt_object *obj = NULL, *iobj = NULL;
	const mkt_seal_key *key;
	mkt_binding *bd;
	int ret;

	*out = NULL;
	if ((ret = mkt_object_get(core, who, &mkt_binding_class, id, MKT_AUTH_USE, 1, &obj)) < 0 ||
	    (ret = mkt_object_load(core, &mkt_instance_class, ((mkt_binding *)obj)->instance_id,
				   &iobj)) < 0)
		goto cleanup;
	bd = (mkt_binding *)obj;
	if (!who->admin && who->uid != iobj->uid)
		goto cleanup;          /* not theirs to see: no CREDENTIALS */
	if (bd->sensitive) {
		take_once(core, id, out);
		goto cleanup;
	}
	if (bd->sealed && (ret = mkt_core_seal_key(core, &key)) == 0)
		ret = mkt_seal_decrypt(key, bd->sealed, out);

 cleanup:
	mkt_object_free(&mkt_binding_class, obj);
	mkt_object_free(&mkt_instance_class, iobj);
	return ret;
}

int mkt_binding_info(mkt_core *core, const mkt_principal *who, int id, char **out_xml)
{
	mkt_buf b = MKT_BUF_INIT;
	mkt_object *obj = NULL;
	char *creds = NULL;
	int ret;

	if ((ret = mkt_object_get(core, who, &mkt_binding_class, id, MKT_AUTH_USE, 1, &obj)) < 0 ||
	    (ret = mkt_binding_credentials(core, who, id, &creds)) < 0)
		goto cleanup;
	format_binding((mkt_binding *)obj, MKT_FORMAT_VIEW, creds, &b);
	*out_xml = mkt_buf_steal(&b);

 cleanup:
	mkt_seal_wipe_free(creds);
	mkt_object_free(&mkt_binding_class, obj);
	return ret;
}

/* ---- start-up and expiry ---------------------------------------------------- */

typedef struct {
	mkt_service_pending *v;
	size_t n, cap;
} pending_walk;

static int pending_row(const mkt_store_row *row, void *payload)
{
	pending_walk *w = payload;
	const mkt_class *cls = NULL;
	mkt_object *obj = NULL;
	const mkt_op *op;
	xmlDocPtr doc = NULL;
	int ret;

	if ((ret = mkt_xml_parse(&doc, row->body, strlen(row->body))) < 0)
		return ret;
	cls = !strcmp((const char *)xmlDocGetRootElement(doc)->name, "SERVICE_BINDING") ?
	      &mkt_binding_class : &mkt_instance_class;
	ret = cls->parse(&obj, xmlDocGetRootElement(doc));
	xmlFreeDoc(doc);
	if (ret < 0)
		return ret;
	op = cls == &mkt_binding_class ? &((mkt_binding *)obj)->op : &((mkt_instance *)obj)->op;
	if (op->kind != MKT_OP_NONE) {
		if (w->n == w->cap) {
			w->cap = w->cap ? 2 * w->cap : 16;
			w->v = mkt_realloc(w->v, w->cap * sizeof(*w->v));
		}
		w->v[w->n++] = (mkt_service_pending){ cls->table, obj->id, op->kind, op->async };
	}
	mkt_object_free(cls, obj);
	return 0;
}

int mkt_service_list_pending(mkt_core *core, mkt_service_pending **out, size_t *out_n)
{
	pending_walk w = { NULL, 0, 0 };
	mkt_store_query q;
	int ret;

	mkt_store_query_init(&q);
	if ((ret = mkt_store_list(core->store, MKT_TABLE_INSTANCE, &q, pending_row, &w)) == 0)
		ret = mkt_store_list(core->store, MKT_TABLE_BINDING, &q, pending_row, &w);
	if (ret < 0) {
		free(w.v);
		return ret;
	}
	*out = w.v;
	*out_n = w.n;
	return 0;
}

typedef struct {
	long long now, next;
	int *ids;
	size_t n, cap;
} expiry_walk;

static int expiry_row(const mkt_store_row *row, void *payload)
{
	expiry_walk *w = payload;
	mkt_object *obj = NULL;
	xmlDocPtr doc = NULL;
	mkt_binding *bd;
	int ret;

	if (row->state != MKT_BINDING_READY)
		return 0;
	if ((ret = mkt_xml_parse(&doc, row->body, strlen(row->body))) < 0)
		return ret;
	ret = binding_parse(&obj, xmlDocGetRootElement(doc));
	xmlFreeDoc(doc);
	if (ret < 0)
		return ret;
	bd = (mkt_binding *)obj;
	if (bd->expires > 0 && bd->expires <= w->now) {
		if (w->n == w->cap) {
			w->cap = w->cap ? 2 * w->cap : 16;
			w->ids = mkt_realloc(w->ids, w->cap * sizeof(*w->ids));
		}
		w->ids[w->n++] = obj->id;
	} else if (bd->expires > 0 && (!w->next || bd->expires < w->next)) {
		w->next = bd->expires;
	}
	binding_free(obj);
	return 0;
}

int mkt_binding_list_expired(mkt_core *core, long long now, int **out, size_t *out_n,
			     long long *out_next)
{
	expiry_walk w = { now, 0, NULL, 0, 0 };
	mkt_store_query q;
	int ret;

	mkt_store_query_init(&q);
	if ((ret = mkt_store_list(core->store, MKT_TABLE_BINDING, &q, expiry_row, &w)) < 0) {
		free(w.ids);
		return ret;
	}
	*out = w.ids;
	*out_n = w.n;
	*out_next = w.next;
	return 0;
}

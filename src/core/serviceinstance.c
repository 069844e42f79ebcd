/*
 * serviceinstance.c: service instances (see service.h).
 */
#include <config.h>

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "common/alloc.h"
#include "common/error.h"
#include "common/jsonschema.h"
#include "common/log.h"
#include "common/util.h"
#include "common/xml.h"
#include "market.h"
#include "service_priv.h"
#include "user.h"

/* Polls stop after this when neither plan nor market sets a limit. */
#define DEFAULT_MAX_POLLING (24 * 3600)

static const char *const instance_states[MKT_INSTANCE_STATE_LAST] = {
	[MKT_INSTANCE_PROVISIONING] = "PROVISIONING", [MKT_INSTANCE_READY] = "READY",
	[MKT_INSTANCE_UPDATING] = "UPDATING", [MKT_INSTANCE_DEPROVISIONING] = "DEPROVISIONING",
	[MKT_INSTANCE_FAILED] = "FAILED",
};

static const char *const op_kinds[MKT_OP_LAST] = {
	[MKT_OP_NONE] = "", [MKT_OP_PROVISION] = "provision", [MKT_OP_UPDATE] = "update",
	[MKT_OP_DEPROVISION] = "deprovision", [MKT_OP_BIND] = "bind", [MKT_OP_UNBIND] = "unbind",
};

const char *mkt_instance_state_name(int state)
{
	return state >= 0 && state < MKT_INSTANCE_STATE_LAST ? instance_states[state] : "UNKNOWN";
}

const char *mkt_op_kind_name(int kind)
{
	return kind >= 0 && kind < MKT_OP_LAST ? op_kinds[kind] : "";
}

/* ---- shared with servicebinding.c ---------------------------------------- */

void mkt_service__set(char **field, const char *value)
{
	free(*field);
	*field = value ? mkt_strdup(value) : NULL;
}

void mkt_service__op_clear(mkt_op *op)
{
	free(op->token);
	memset(op, 0, sizeof(*op));
}

void mkt_service__op_start(mkt_op *op, int kind)
{
	mkt_service__op_clear(op);
	op->kind = kind;
	op->start = (long long)time(NULL);
}

/* Flat elements: OPERATION is the broker's token, as drivers read it
 * (share/doc/drivers.md). */
void mkt_service__op_format(const mkt_op *op, mkt_buf *b)
{
	mkt_buf_add_elem(b, "OPERATION", op->token);
	mkt_buf_add_elem(b, "OPERATION_KIND", mkt_op_kind_name(op->kind));
	mkt_buf_add_elem_int(b, "OPERATION_START", op->start);
	mkt_buf_add_elem_int(b, "OPERATION_ASYNC", op->async);
	mkt_buf_add_elem_int(b, "OPERATION_ATTEMPTS", op->attempts);
	mkt_buf_add_elem_int(b, "ORPHAN_MITIGATION", op->orphan);
}

int mkt_service__op_parse(mkt_op *op, xmlNodePtr root)
{
	static const char *const ints[] = { "OPERATION_START", "OPERATION_ASYNC",
					    "OPERATION_ATTEMPTS", "ORPHAN_MITIGATION" };
	long long v[4];
	char *kind;
	int i, ret;

	memset(op, 0, sizeof(*op));
	if ((ret = mkt_xml_children_long(root, ints, 4, v)) < 0)
		return ret;
	op->start = v[0];
	op->async = (int)v[1];
	op->attempts = (int)v[2];
	op->orphan = (int)v[3];
	op->token = mkt_xml_child_text(root, "OPERATION");
	if (op->token && !*op->token)
		mkt_service__set(&op->token, NULL);
	kind = mkt_xml_child_text(root, "OPERATION_KIND");
	for (i = 1; kind && i < MKT_OP_LAST; i++)
		if (!strcmp(kind, op_kinds[i]))
			op->kind = i;
	free(kind);
	return 0;
}

#define TEXT(obj, t) ((char **)((char *)(obj) + (t).off))

void mkt_service__texts_parse(void *obj, const mkt_service_text *t, size_t n, xmlNodePtr root)
{
	size_t i;

	for (i = 0; i < n; i++) {
		*TEXT(obj, t[i]) = mkt_xml_child_text(root, t[i].elem);
		if (*TEXT(obj, t[i]) && !**TEXT(obj, t[i]))
			mkt_service__set(TEXT(obj, t[i]), NULL);
	}
}

void mkt_service__texts_format(const void *obj, const mkt_service_text *t, size_t n, mkt_buf *b)
{
	size_t i;

	for (i = 0; i < n; i++)
		mkt_buf_add_elem(b, t[i].elem, *TEXT(obj, t[i]));
}

void mkt_service__texts_free(void *obj, const mkt_service_text *t, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		mkt_service__set(TEXT(obj, t[i]), NULL);
}

char *mkt_service__uuid(void)
{
	unsigned char r[16];

	if (mkt_util_random(r, sizeof(r)) < 0)
		return NULL;
	r[6] = (unsigned char)((r[6] & 0x0f) | 0x40);
	r[8] = (unsigned char)((r[8] & 0x3f) | 0x80);
	return mkt_asprintf("%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
			    r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10],
			    r[11], r[12], r[13], r[14], r[15]);
}

int mkt_service__yes(const mkt_template *t, const char *name)
{
	const char *v = t ? mkt_template_get(t, name) : NULL;

	return v && (!strcasecmp(v, "YES") || !strcasecmp(v, "TRUE") || !strcmp(v, "1"));
}

int mkt_service__plan(mkt_core *core, const mkt_principal *who, int app_id, mkt_app **out)
{
	const mkt_market_mad_conf *conf = NULL;
	mkt_object *obj = NULL, *mobj = NULL;
	mkt_app *a;
	int ret;

	ret = who ? mkt_object_get(core, who, &mkt_app_class, app_id, MKT_AUTH_USE, 0, &obj) :
		    mkt_object_load(core, &mkt_app_class, app_id, &obj);
	if (ret < 0)
		return ret;
	a = (mkt_app *)obj;
	if (a->type != MKT_APP_SERVICE) {
		ret = mkt_error_set(MKT_EINVAL, MKT_ERR_CORE,
				    "MARKETPLACEAPP %d is a %s, not a SERVICE plan of a broker",
				    app_id, mkt_app_type_name(a->type));
		goto cleanup;
	}
	/* A new instance needs a plan its broker still offers. */
	if (who && a->state != MKT_APP_READY) {
		ret = mkt_error_set(MKT_EACTION, MKT_ERR_CORE,
				    "MARKETPLACEAPP %d is %s: %s", app_id, mkt_app_state_name(a->state),
				    mkt_template_get(obj->tmpl, "INACTIVE") ?
				    "the plan left its broker's catalog" : "only a READY plan can be used");
		goto cleanup;
	}
	if ((ret = mkt_object_load(core, &mkt_market_class, a->market_id, &mobj)) < 0 ||
	    (ret = mkt_market_get_mad_conf(core, (mkt_market *)mobj, &conf)) < 0)
		goto cleanup;
	if (!(conf->app_actions & MKT_APP_ACTION_SERVICE)) {
		ret = mkt_error_set(MKT_EACTION, MKT_ERR_CORE,
				    "marketplace %d's driver %s has no service actions (APP_ACTIONS)",
				    a->market_id, ((mkt_market *)mobj)->mad);
		goto cleanup;
	}
	*out = a;
	obj = NULL;

 cleanup:
	mkt_object_free(&mkt_market_class, mobj);
	mkt_object_free(&mkt_app_class, obj);
	return ret;
}

/* ---- the class ------------------------------------------------------------ */

/* Text children, each a field: one table for parse, format and free. */
static const mkt_service_text instance_texts[] = {
	{ "UUID", offsetof(mkt_instance, uuid) },
	{ "SERVICE_ID", offsetof(mkt_instance, service_id) },
	{ "PLAN_ID", offsetof(mkt_instance, plan_id) },
	{ "DASHBOARD_URL", offsetof(mkt_instance, dashboard_url) },
	{ "DESCRIPTION", offsetof(mkt_instance, description) },
	{ "PARAMETERS", offsetof(mkt_instance, parameters) },
	{ "ERROR", offsetof(mkt_instance, error) },
	{ "NEXT_PLAN_ID", offsetof(mkt_instance, next_plan_id) },
	{ "NEXT_PARAMETERS", offsetof(mkt_instance, next_parameters) },
};
#define NTEXTS (sizeof(instance_texts) / sizeof(instance_texts[0]))

static void instance_free(mkt_object *obj)
{
	mkt_instance *in = (mkt_instance *)obj;

	mkt_object_clear(&in->obj);
	mkt_service__texts_free(in, instance_texts, NTEXTS);
	mkt_service__op_clear(&in->op);
	free(in);
}

static int instance_parse(mkt_object **out, xmlNodePtr root)
{
	static const char *const ints[] = { "STATE", "MARKETPLACEAPP_ID", "MARKETPLACE_ID",
					    "PROJECT", "REGTIME" };
	mkt_instance *in = mkt_calloc(1, sizeof(*in));
	long long v[5];
	int ret;

	if ((ret = mkt_object_parse_common(&in->obj, root)) < 0 ||
	    (ret = mkt_xml_children_long(root, ints, 5, v)) < 0 ||
	    (ret = mkt_service__op_parse(&in->op, root)) < 0) {
		instance_free(&in->obj);
		return ret;
	}
	in->state = (int)v[0];
	in->app_id = (int)v[1];
	in->market_id = (int)v[2];
	in->project = (int)v[3];
	in->regtime = v[4];
	mkt_service__texts_parse(in, instance_texts, NTEXTS, root);
	*out = &in->obj;
	return 0;
}

static void instance_format(mkt_core *core, const mkt_object *obj, mkt_format_mode mode,
			    mkt_buf *b)
{
	const mkt_instance *in = (const mkt_instance *)obj;

	mkt_buf_add(b, "<SERVICE_INSTANCE>");
	mkt_object_format_head(obj, b);
	mkt_buf_add_elem(b, "NAME", obj->name);
	mkt_object_format_lock(obj, b);
	mkt_object_format_perms(obj, b);
	mkt_buf_add_elem_int(b, "STATE", in->state);
	mkt_buf_add_elem_int(b, "MARKETPLACEAPP_ID", in->app_id);
	mkt_buf_add_elem_int(b, "MARKETPLACE_ID", in->market_id);
	mkt_buf_add_elem_int(b, "PROJECT", in->project);
	mkt_buf_add_elem_int(b, "REGTIME", in->regtime);
	mkt_service__texts_format(in, instance_texts, NTEXTS, b);
	mkt_service__op_format(&in->op, b);
	if (mode != MKT_FORMAT_STORE) {
		mkt_buf_add(b, "<SERVICE_BINDINGS>");
		mkt_object_format_child_ids(core, MKT_TABLE_BINDING, obj->id, b);
		mkt_buf_add(b, "</SERVICE_BINDINGS>");
	}
	mkt_template_format_xml(obj->tmpl, b, NULL);
	mkt_buf_add(b, "</SERVICE_INSTANCE>");
}

static void instance_row(const mkt_object *obj, mkt_store_row *row)
{
	row->parent = ((const mkt_instance *)obj)->app_id;
	row->state = ((const mkt_instance *)obj)->state;
}

const mkt_class mkt_instance_class = {
	.xml_name = "SERVICE_INSTANCE",
	.human_name = "service instance",
	.table = MKT_TABLE_INSTANCE,
	.name_per_owner = 1,
	.lockable = 1,
	.body_is_view = 0,        /* views list the bindings */
	.parse = instance_parse,
	.format = instance_format,
	.free = instance_free,
	.row = instance_row,
};

/* ---- parameters ---------------------------------------------------------- */

/* PARAMETERS must be a JSON object that the plan's schema for @schema_path
 * (service_instance.create or .update) accepts; the broker never sees
 * what it refuses.  Keywords the validator does not know are the broker's
 * to check (it answers 400). */
static int check_parameters(const mkt_app *plan, const char *text, const char *schema_path)
{
	const char *schemas_text = mkt_template_get(plan->obj.tmpl, "SCHEMAS");
	json_t *params = NULL, *schemas = NULL, *schema;
	mkt_jsonschema *js = NULL;
	json_error_t jerr;
	char path[64], *p, *save = NULL;
	int ret = 0;

	if (!text)
		return 0;
	if (!(params = json_loads(text, JSON_REJECT_DUPLICATES, &jerr)) || !json_is_object(params)) {
		ret = mkt_error_set(MKT_EINVAL, MKT_ERR_CORE,
				    "PARAMETERS must be a JSON object: %s",
				    params ? "it is another JSON value" : jerr.text);
		goto cleanup;
	}
	if (!schemas_text || !(schemas = json_loads(schemas_text, 0, NULL)))
		goto cleanup;
	snprintf(path, sizeof(path), "%s", schema_path);
	schema = schemas;
	for (p = strtok_r(path, ".", &save); p && schema; p = strtok_r(NULL, ".", &save))
		schema = json_object_get(schema, p);
	if (!json_is_object(schema))
		goto cleanup;
	if ((ret = mkt_jsonschema_new(&js, schema)) < 0) {
		/* A broker's broken schema is its own to enforce. */
		mkt_log(MKT_LOG_WARN, "service", "plan %d: its %s schema is not usable (%s); "
			"PARAMETERS are left to the broker", plan->obj.id, schema_path,
			mkt_error_message());
		mkt_error_clear();
		ret = 0;
		goto cleanup;
	}
	ret = mkt_jsonschema_validate(js, params, "PARAMETERS");

 cleanup:
	mkt_jsonschema_free(js);
	json_decref(params);
	json_decref(schemas);
	return ret;
}

/* ---- operations ---------------------------------------------------------- */

static int check_project(mkt_core *core, const mkt_principal *who, const char *text,
			 int *out)
{
	long long gid;
	char *name = NULL;
	int ret;

	if (!text) {
		*out = who->gid;
		return 0;
	}
	if (mkt_util_parse_long(text, &gid) < 0 || gid < 0 || gid > 0x7fffffff)
		return mkt_error_set(MKT_EINVAL, MKT_ERR_CORE,
				     "PROJECT must be a group id, not '%s'", text);
	if ((ret = mkt_group_name(core, (int)gid, &name)) < 0)
		return mkt_error_set(MKT_EINVAL, MKT_ERR_CORE, "PROJECT %lld: no such group", gid);
	free(name);
	if (!who->admin && !mkt_principal_in_group(who, (int)gid))
		return mkt_error_set(MKT_EPERM, MKT_ERR_AUTH,
				     "Not authorized to provision into PROJECT %lld: "
				     "user %d is not a member of that group", gid, who->uid);
	*out = (int)gid;
	return 0;
}

int mkt_instance_allocate(mkt_core *core, const mkt_principal *who, const char *text,
			  int *out_id)
{
	mkt_instance *in = mkt_calloc(1, sizeof(*in));
	mkt_app *plan = NULL;
	const char *name, *app, *params;
	long long app_id;
	int ret;

	if ((ret = mkt_template_parse_any(&in->obj.tmpl, text)) < 0)
		goto cleanup;
	name = mkt_template_get(in->obj.tmpl, "NAME");
	if ((ret = mkt_object_validate_name(name)) < 0)
		goto cleanup;
	in->obj.name = mkt_strdup(name);
	if (!(app = mkt_template_value(in->obj.tmpl, "APP")) ||
	    mkt_util_parse_long(app, &app_id) < 0 || app_id < 0 || app_id > 0x7fffffff) {
		ret = mkt_error_set(MKT_EINVAL, MKT_ERR_CORE,
				    "APP must be the id of a SERVICE app (a broker's plan)%s%s%s",
				    app ? ", not '" : "", app ? app : "", app ? "'" : "");
		goto cleanup;
	}
	params = mkt_template_value(in->obj.tmpl, "PARAMETERS");
	in->parameters = params ? mkt_strdup(params) : NULL;
	in->obj.uid = who->uid;
	in->obj.gid = who->gid;
	in->obj.uname = mkt_strdup(who->uname);
	in->obj.gname = mkt_strdup(who->gname);
	mkt_object_set_default_perms(&in->obj);
	in->regtime = (long long)time(NULL);
	in->state = MKT_INSTANCE_PROVISIONING;
	if (!(in->uuid = mkt_service__uuid())) {
		ret = mkt_error_set(MKT_ERROR, MKT_ERR_CORE, "cannot draw an instance id");
		goto cleanup;
	}
	mkt_service__op_start(&in->op, MKT_OP_PROVISION);

	if ((ret = mkt_core_begin(core)) < 0)
		goto cleanup;
	if ((ret = mkt_service__plan(core, who, (int)app_id, &plan)) == 0 &&
	    (ret = check_project(core, who, mkt_template_value(in->obj.tmpl, "PROJECT"),
				 &in->project)) == 0 &&
	    (ret = check_parameters(plan, in->parameters, "service_instance.create.parameters")) == 0) {
		in->app_id = plan->obj.id;
		in->market_id = plan->market_id;
		in->service_id = mkt_strdup(mkt_template_get(plan->obj.tmpl, "SERVICE_ID"));
		in->plan_id = mkt_strdup(mkt_template_get(plan->obj.tmpl, "PLAN_ID"));
		if (!in->service_id || !in->plan_id)
			ret = mkt_error_set(MKT_EINVAL, MKT_ERR_CORE,
					    "MARKETPLACEAPP %d has no SERVICE_ID/PLAN_ID", plan->obj.id);
	}
	mkt_template_remove(in->obj.tmpl, "NAME");
	mkt_template_remove(in->obj.tmpl, "APP");
	mkt_template_remove(in->obj.tmpl, "PROJECT");
	mkt_template_remove(in->obj.tmpl, "PARAMETERS");
	if (ret == 0 &&
	    (ret = mkt_object_check_name(core, &mkt_instance_class, in->obj.name, who->uid, -1)) == 0 &&
	    (ret = mkt_store_next_oid(core->store, MKT_TABLE_INSTANCE, 0, &in->obj.id)) == 0 &&
	    (ret = mkt_object_save(core, &mkt_instance_class, &in->obj, MKT_STORE_INSERT)) == 0)
		*out_id = in->obj.id;
	ret = mkt_core_end(core, ret);

 cleanup:
	mkt_object_free(&mkt_app_class, plan ? &plan->obj : NULL);
	instance_free(&in->obj);
	return ret;
}

static int busy(const mkt_instance *in)
{
	return mkt_error_set(MKT_EACTION, MKT_ERR_CORE,
			     "service instance %d is %s (%s under way): wait for it to end",
			     in->obj.id, mkt_instance_state_name(in->state),
			     mkt_op_kind_name(in->op.kind));
}

int mkt_instance_update(mkt_core *core, const mkt_principal *who, int id, const char *text)
{
	mkt_template *t = NULL;
	mkt_object *obj = NULL;
	mkt_app *plan = NULL, *next = NULL;
	mkt_instance *in;
	const char *plan_text, *params;
	long long next_id = -1;
	int ret;

	if ((ret = mkt_template_parse_any(&t, text)) < 0)
		return ret;
	plan_text = mkt_template_value(t, "PLAN");
	params = mkt_template_value(t, "PARAMETERS");
	if (!plan_text && !params) {
		mkt_template_free(t);
		return mkt_error_set(MKT_EINVAL, MKT_ERR_CORE,
				     "an update names PLAN (a SERVICE app) and/or PARAMETERS");
	}
	if (plan_text && (mkt_util_parse_long(plan_text, &next_id) < 0 || next_id < 0 ||
			  next_id > 0x7fffffff)) {
		mkt_template_free(t);
		return mkt_error_set(MKT_EINVAL, MKT_ERR_CORE,
				     "PLAN must be the id of a SERVICE app, not '%s'", plan_text);
	}
	if ((ret = mkt_core_begin(core)) < 0) {
		mkt_template_free(t);
		return ret;
	}
	if ((ret = mkt_object_get(core, who, &mkt_instance_class, id, MKT_AUTH_MANAGE, 0, &obj)) < 0)
		goto cleanup;
	in = (mkt_instance *)obj;
	if (in->state != MKT_INSTANCE_READY) {
		ret = in->op.kind != MKT_OP_NONE ? busy(in) :
		      mkt_error_set(MKT_EACTION, MKT_ERR_CORE,
				    "service instance %d is %s: only a READY instance can be updated",
				    id, mkt_instance_state_name(in->state));
		goto cleanup;
	}
	if ((ret = mkt_service__plan(core, NULL, in->app_id, &plan)) < 0)
		goto cleanup;
	if (next_id >= 0 && next_id != in->app_id) {
		if ((ret = mkt_service__plan(core, who, (int)next_id, &next)) < 0)
			goto cleanup;
		if (next->market_id != in->market_id ||
		    strcmp(mkt_template_get(next->obj.tmpl, "SERVICE_ID") ?: "", in->service_id ?: "")) {
			ret = mkt_error_set(MKT_EINVAL, MKT_ERR_CORE,
					    "PLAN %d is not a plan of the same service", (int)next_id);
			goto cleanup;
		}
		if (!mkt_service__yes(plan->obj.tmpl, "PLAN_UPDATEABLE")) {
			ret = mkt_error_set(MKT_EACTION, MKT_ERR_CORE,
					    "the plan of service instance %d cannot be changed "
					    "(plan_updateable is false)", id);
			goto cleanup;
		}
	}
	if ((ret = check_parameters(next ? next : plan, params,
				    "service_instance.update.parameters")) < 0)
		goto cleanup;
	mkt_service__set(&in->next_plan_id, next ? mkt_template_get(next->obj.tmpl, "PLAN_ID") :
					    in->plan_id);
	mkt_service__set(&in->next_parameters, params);
	mkt_template_set(obj->tmpl, "NEXT_APP", next ? plan_text : "");
	in->state = MKT_INSTANCE_UPDATING;
	mkt_service__set(&in->error, NULL);
	mkt_service__op_start(&in->op, MKT_OP_UPDATE);
	ret = mkt_object_save(core, &mkt_instance_class, obj, MKT_STORE_UPDATE);

 cleanup:
	mkt_object_free(&mkt_app_class, plan ? &plan->obj : NULL);
	mkt_object_free(&mkt_app_class, next ? &next->obj : NULL);
	mkt_object_free(&mkt_instance_class, obj);
	mkt_template_free(t);
	return mkt_core_end(core, ret);
}

int mkt_instance_delete(mkt_core *core, const mkt_principal *who, int id, int **out_bindings,
			size_t *out_n, int *out_dropped)
{
	mkt_object *obj = NULL;
	mkt_instance *in;
	int ret;

	*out_bindings = NULL;
	*out_n = 0;
	*out_dropped = 0;
	if ((ret = mkt_core_begin(core)) < 0)
		return ret;
	if ((ret = mkt_object_get(core, who, &mkt_instance_class, id, MKT_AUTH_MANAGE, 0, &obj)) < 0)
		goto cleanup;
	in = (mkt_instance *)obj;
	if (in->state == MKT_INSTANCE_DEPROVISIONING) {
		int n = 0;

		/* Waiting for bindings whose unbind failed: a new delete
		 * tries them again.  Otherwise the broker call is under way. */
		if ((ret = mkt_object_count_children(core, MKT_TABLE_BINDING, id, &n)) == 0 && n > 0)
			ret = mkt_object_child_ids(core, MKT_TABLE_BINDING, id, out_bindings, out_n);
		else if (ret == 0)
			ret = mkt_error_set(MKT_EACTION, MKT_ERR_CORE,
					    "service instance %d is already being deprovisioned", id);
		goto cleanup;
	}
	/* A FAILED provision whose orphan mitigation is done left nothing at
	 * the broker: nothing to call. */
	if (in->state == MKT_INSTANCE_FAILED && in->op.kind == MKT_OP_NONE &&
	    mkt_template_get(obj->tmpl, "NEVER_PROVISIONED")) {
		mkt_store_row row = { .oid = id };

		if ((ret = mkt_store_write(core->store, MKT_TABLE_INSTANCE, MKT_STORE_DELETE,
					   &row)) == 0)
			*out_dropped = 1;
		goto cleanup;
	}
	/* Deprovisioning is allowed while a provision or update runs (OSB):
	 * the delete replaces it, and its bindings go first. */
	in->state = MKT_INSTANCE_DEPROVISIONING;
	mkt_service__set(&in->error, NULL);
	mkt_service__op_start(&in->op, MKT_OP_DEPROVISION);
	if ((ret = mkt_object_save(core, &mkt_instance_class, obj, MKT_STORE_UPDATE)) == 0)
		ret = mkt_object_child_ids(core, MKT_TABLE_BINDING, id, out_bindings, out_n);

 cleanup:
	mkt_object_free(&mkt_instance_class, obj);
	return mkt_core_end(core, ret);
}

int mkt_instance_pool(mkt_core *core, const mkt_principal *who, int filter, int start_id,
		      int end_id, char **out_xml)
{
	return mkt_object_pool_filtered(core, who, &mkt_instance_class, filter, start_id, end_id,
					-1, "SERVICE_INSTANCE_POOL", out_xml);
}

int mkt_instance_ready_to_deprovision(mkt_core *core, int id)
{
	mkt_object *obj = NULL;
	int n = 0, ret;

	if (mkt_object_load(core, &mkt_instance_class, id, &obj) < 0) {
		mkt_error_clear();
		return 0;
	}
	ret = ((mkt_instance *)obj)->state == MKT_INSTANCE_DEPROVISIONING &&
	      mkt_object_count_children(core, MKT_TABLE_BINDING, id, &n) == 0 && n == 0;
	mkt_object_free(&mkt_instance_class, obj);
	return ret;
}

long long mkt_service_max_polling(mkt_core *core, int instance_id)
{
	mkt_object *obj = NULL, *app = NULL, *market = NULL;
	long long v = 0;

	if (mkt_object_load(core, &mkt_instance_class, instance_id, &obj) == 0 &&
	    mkt_object_load(core, &mkt_app_class, ((mkt_instance *)obj)->app_id, &app) == 0 &&
	    mkt_template_get_long(app->tmpl, "MAXIMUM_POLLING_DURATION", &v) == 0 && v > 0)
		goto done;
	v = 0;
	if (obj && mkt_object_load(core, &mkt_market_class, ((mkt_instance *)obj)->market_id,
				   &market) == 0 &&
	    mkt_template_get_long(market->tmpl, "MAX_POLLING_DURATION", &v) == 0 && v > 0)
		goto done;
	v = DEFAULT_MAX_POLLING;
 done:
	mkt_error_clear();
	mkt_object_free(&mkt_instance_class, obj);
	mkt_object_free(&mkt_app_class, app);
	mkt_object_free(&mkt_market_class, market);
	return v;
}

/* ---- outcomes ------------------------------------------------------------- */

/* Where each operation goes, by outcome (PENDING keeps the state). */
static const struct {
	int done;                 /* state after success (-1: the instance is dropped) */
	int failed;               /* state after failure */
} instance_moves[MKT_OP_LAST] = {
	[MKT_OP_PROVISION] = { MKT_INSTANCE_READY, MKT_INSTANCE_FAILED },
	/* A failed update leaves the instance as it was (OSB: usable). */
	[MKT_OP_UPDATE] = { MKT_INSTANCE_READY, MKT_INSTANCE_READY },
	[MKT_OP_DEPROVISION] = { -1, MKT_INSTANCE_FAILED },
};

int mkt_instance_op_done(mkt_core *core, int id, int kind, mkt_outcome outcome,
			 const mkt_template *result, const char *message, int *out_next)
{
	mkt_object *obj = NULL;
	mkt_instance *in;
	const char *v;
	int ret;

	*out_next = MKT_OP_NONE;
	if ((ret = mkt_core_begin(core)) < 0)
		return ret;
	if ((ret = mkt_object_load(core, &mkt_instance_class, id, &obj)) < 0)
		goto cleanup;
	in = (mkt_instance *)obj;
	/* An answer to an operation that a delete has replaced is stale. */
	/* A stale answer (a delete replaced the operation, which has calls
	 * of its own) or none at all: nothing follows from it. */
	if (in->op.kind != kind || outcome == MKT_OUTCOME_RETRY)
		goto cleanup;
	in->op.attempts++;
	if (result) {
		if ((v = mkt_template_get(result, "OPERATION")))
			mkt_service__set(&in->op.token, v);
		if ((v = mkt_template_get(result, "DASHBOARD_URL")))
			mkt_service__set(&in->dashboard_url, v);
		if ((v = mkt_template_get(result, "DESCRIPTION")))
			mkt_service__set(&in->description, v);
	}
	switch (outcome) {
	case MKT_OUTCOME_PENDING:
		in->op.async = 1;
		*out_next = kind;
		break;
	case MKT_OUTCOME_DONE:
		if (in->op.orphan) {
			/* Orphan mitigation is over: what the failed provision
			 * may have made is gone, the instance stays FAILED. */
			mkt_log(MKT_LOG_INFO, "service", "service instance %d: orphan mitigation "
				"done after %d call(s)", id, in->op.attempts);
			mkt_template_set(obj->tmpl, "NEVER_PROVISIONED", "YES");
			mkt_service__op_clear(&in->op);
			in->state = MKT_INSTANCE_FAILED;
			break;
		}
		if (instance_moves[kind].done < 0) {
			mkt_store_row row = { .oid = id };

			mkt_log(MKT_LOG_INFO, "service", "service instance %d deprovisioned%s", id,
				result && mkt_service__yes(result, "GONE") ? " (the broker had it gone)" : "");
			ret = mkt_store_write(core->store, MKT_TABLE_INSTANCE, MKT_STORE_DELETE, &row);
			goto cleanup;
		}
		if (kind == MKT_OP_UPDATE) {
			const char *next_app = mkt_template_get(obj->tmpl, "NEXT_APP");
			long long app_id;

			if (in->next_plan_id)
				mkt_service__set(&in->plan_id, in->next_plan_id);
			if (in->next_parameters)
				mkt_service__set(&in->parameters, in->next_parameters);
			if (next_app && mkt_util_parse_long(next_app, &app_id) == 0)
				in->app_id = (int)app_id;
		}
		mkt_service__set(&in->next_plan_id, NULL);
		mkt_service__set(&in->next_parameters, NULL);
		mkt_template_remove(obj->tmpl, "NEXT_APP");
		mkt_service__op_clear(&in->op);
		mkt_service__set(&in->error, NULL);
		in->state = instance_moves[kind].done;
		break;
	case MKT_OUTCOME_FAILED:
	case MKT_OUTCOME_ORPHAN:
		mkt_service__set(&in->error, message ? message : "the broker reported a failure");
		mkt_log(MKT_LOG_WARN, "service", "service instance %d: %s failed: %s", id,
			mkt_op_kind_name(kind), in->error);
		mkt_service__set(&in->next_plan_id, NULL);
		mkt_service__set(&in->next_parameters, NULL);
		mkt_template_remove(obj->tmpl, "NEXT_APP");
		in->state = instance_moves[kind].failed;
		if (outcome == MKT_OUTCOME_ORPHAN && kind == MKT_OP_PROVISION) {
			/* OSB orphan mitigation: delete until the broker confirms. */
			mkt_service__op_start(&in->op, MKT_OP_DEPROVISION);
			in->op.orphan = 1;
			*out_next = MKT_OP_DEPROVISION;
			mkt_log(MKT_LOG_WARN, "service", "service instance %d: orphan mitigation: "
				"deprovisioning what the broker may have made", id);
		} else if (in->op.orphan) {
			/* A mitigation call failed: it goes on (with backoff). */
			*out_next = kind;
			in->state = MKT_INSTANCE_FAILED;
		} else {
			mkt_service__op_clear(&in->op);
			if (kind == MKT_OP_PROVISION)
				mkt_template_set(obj->tmpl, "NEVER_PROVISIONED", "YES");
		}
		break;
	case MKT_OUTCOME_RETRY:
		break;
	}
	ret = mkt_object_save(core, &mkt_instance_class, obj, MKT_STORE_UPDATE);

 cleanup:
	mkt_object_free(&mkt_instance_class, obj);
	return mkt_core_end(core, ret);
}

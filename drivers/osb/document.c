/*
 * document.c: the service actions' documents and request bodies
 * (document.h).
 */
#include <config.h>

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "document.h"

/* What may go into a URL path unescaped: GUIDs and the like. */
static int valid_path_id(const char *s)
{
	if (!*s || !strcmp(s, ".") || !strcmp(s, ".."))
		return 0;
	for (; *s; s++) {
		if (!isalnum((unsigned char)*s) && !strchr("-_.", *s))
			return 0;
	}
	return 1;
}

static int require_path_id(mkt_drv *d, const char *path, const char **out)
{
	int ret;

	if ((ret = mkt_drv_require(d, path, out)) != 0)
		return ret;
	if (!valid_path_id(*out))
		return mkt_drv_fail(MKT_DRV_EINPUT,
				    "%s \"%.80s\" is not an id (letters, digits, '-', '_', '.')",
				    path, *out);
	return 0;
}

int osb_doc_target(mkt_drv *d, int binding, osb_target *out)
{
	const char *op;
	int ret;

	memset(out, 0, sizeof(*out));
	if ((ret = mkt_drv_require(d, "MARKETPLACEAPP/TEMPLATE/SERVICE_ID", &out->service_id)) != 0 ||
	    (ret = mkt_drv_require(d, "MARKETPLACEAPP/TEMPLATE/PLAN_ID", &out->plan_id)) != 0 ||
	    (ret = require_path_id(d, "SERVICE_INSTANCE/UUID", &out->instance)) != 0)
		return ret;
	if (binding && (ret = require_path_id(d, "SERVICE_BINDING/UUID", &out->binding)) != 0)
		return ret;
	op = mkt_drv_get(d, binding ? "SERVICE_BINDING/OPERATION" : "SERVICE_INSTANCE/OPERATION");
	out->operation = op && *op ? op : NULL;
	return 0;
}

/* The JSON object in element @path (empty or missing: *out NULL). */
static int json_element(mkt_drv *d, const char *path, json_t **out)
{
	const char *text = mkt_drv_get(d, path);
	json_error_t err;

	*out = NULL;
	if (!text || !*text)
		return 0;
	*out = json_loads(text, 0, &err);
	if (!json_is_object(*out)) {
		json_decref(*out);
		*out = NULL;
		return mkt_drv_fail(MKT_DRV_EINPUT, "%s is not a JSON object%s%s", path,
				    err.text[0] ? ": " : "", err.text);
	}
	return 0;
}

/* context: the platform and where the instance lives in marketd. */
static json_t *context(mkt_drv *d, const char *platform, const char *project)
{
	const char *name = mkt_drv_get(d, "SERVICE_INSTANCE/NAME");
	json_t *c = json_object();

	json_object_set_new(c, "platform", json_string(platform));
	if (project)
		json_object_set_new(c, "project_id", json_string(project));
	if (name && *name)
		json_object_set_new(c, "instance_name", json_string(name));
	return c;
}

/* The members every body starts with; @parameters_path is added last when
 * it holds an object. */
static int base_body(mkt_drv *d, const osb_target *t, const char *plan_id, const char *platform,
		     const char *parameters_path, json_t **params, json_t **out)
{
	const char *project = mkt_drv_get(d, "SERVICE_INSTANCE/PROJECT");
	int ret;

	if ((ret = json_element(d, parameters_path, params)) != 0)
		return ret;
	*out = json_object();
	json_object_set_new(*out, "service_id", json_string(t->service_id));
	json_object_set_new(*out, "plan_id", json_string(plan_id));
	json_object_set_new(*out, "context", context(d, platform, project && *project ? project : NULL));
	return 0;
}

static void finish_body(json_t *body, json_t *params)
{
	if (params)
		json_object_set_new(body, "parameters", params);
}

int osb_doc_provision_body(mkt_drv *d, const osb_target *t, const char *platform, json_t **out)
{
	json_t *params = NULL, *mi = NULL, *body = NULL;
	const char *project;
	int ret;

	/* organization_guid and space_guid are deprecated but still
	 * required by v2.17: the project stands for both. */
	if ((ret = mkt_drv_require(d, "SERVICE_INSTANCE/PROJECT", &project)) != 0 ||
	    (ret = json_element(d, "MARKETPLACEAPP/TEMPLATE/MAINTENANCE_INFO", &mi)) != 0 ||
	    (ret = base_body(d, t, t->plan_id, platform, "SERVICE_INSTANCE/PARAMETERS", &params,
			     &body)) != 0)
		goto cleanup;
	json_object_set_new(body, "organization_guid", json_string(project));
	json_object_set_new(body, "space_guid", json_string(project));
	finish_body(body, MKT_STEAL(params));
	if (mi)
		json_object_set_new(body, "maintenance_info", MKT_STEAL(mi));
	*out = MKT_STEAL(body);

 cleanup:
	json_decref(body);
	json_decref(params);
	json_decref(mi);
	return ret;
}

int osb_doc_update_body(mkt_drv *d, const osb_target *t, const char *platform, json_t **out)
{
	const char *plan, *previous;
	json_t *params = NULL, *body = NULL, *prev;
	int ret;

	if ((ret = mkt_drv_require(d, "UPDATE/PLAN_ID", &plan)) != 0 ||
	    (ret = base_body(d, t, plan, platform, "UPDATE/PARAMETERS", &params, &body)) != 0)
		return ret;
	previous = mkt_drv_get(d, "UPDATE/PREVIOUS_PLAN_ID");
	prev = json_object();
	json_object_set_new(prev, "plan_id", json_string(previous && *previous ? previous
							 : t->plan_id));
	json_object_set_new(prev, "service_id", json_string(t->service_id));
	json_object_set_new(body, "previous_values", prev);
	finish_body(body, params);
	*out = body;
	return 0;
}

int osb_doc_bind_body(mkt_drv *d, const osb_target *t, const char *platform, json_t **out)
{
	json_t *params = NULL, *body = NULL;
	int ret;

	if ((ret = base_body(d, t, t->plan_id, platform, "SERVICE_BINDING/PARAMETERS", &params,
			     &body)) != 0)
		return ret;
	/* Credentials for no particular app: marketd's users take them. */
	json_object_set_new(body, "bind_resource", json_object());
	finish_body(body, params);
	*out = body;
	return 0;
}

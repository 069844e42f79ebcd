/*
 * cmd_service.c: the service instance class (`service list` table,
 * `service show` block) and the commands only instances have: create
 * from a broker's plan (a SERVICE app) and update.  Bindings are in
 * cmd_binding.c.
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/error.h"
#include "common/util.h"

#include "doc.h"
#include "object.h"
#include "output.h"
#include "params.h"
#include "wait.h"

/* mkt_instance_state (src/core/service.h), long and short (index = value). */
static const char *const state_long[] = {
	"PROVISIONING", "READY", "UPDATING", "DEPROVISIONING", "FAILED",
};
static const char *const state_short[] = { "prov", "rdy", "upd", "dprv", "fail" };

/* An app's TYPE of a broker's plan (MarketPlaceApp TYPE 4). */
#define APP_TYPE_SERVICE 4

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

static int print_list(FILE *fp, xmlNodePtr pool)
{
	static const mkt_output_column cols[] = {
		{ "ID", 1 }, { "USER", 0 }, { "GROUP", 0 }, { "NAME", 0 }, { "STAT", 0 },
		{ "PLAN", 1 }, { "MARKET", 1 }, { "PROJECT", 1 }, { "BINDINGS", 1 },
		{ "REGTIME", 0 },
	};
	mkt_output_table *t = mkt_output_table_new(cols, N_ELEMS(cols));
	xmlNodePtr s;

	for (s = mkt_doc_first(pool, "SERVICE_INSTANCE"); s;
	     s = mkt_doc_next(s, "SERVICE_INSTANCE")) {
		mkt_output_table_cell_take(t, mkt_doc_get(s, "ID"));
		mkt_output_table_cell_take(t, mkt_doc_get(s, "UNAME"));
		mkt_output_table_cell_take(t, mkt_doc_get(s, "GNAME"));
		mkt_output_table_cell_take(t, mkt_doc_get(s, "NAME"));
		mkt_output_table_cell(t, mkt_output_enum(s, "STATE", state_short,
							 N_ELEMS(state_short)));
		mkt_output_table_cell_take(t, mkt_doc_get(s, "MARKETPLACEAPP_ID"));
		mkt_output_table_cell_take(t, mkt_doc_get(s, "MARKETPLACE_ID"));
		mkt_output_table_cell_take(t, mkt_doc_get(s, "PROJECT"));
		mkt_output_table_cellf(t, "%zu", mkt_doc_count(mkt_doc_find(s, "SERVICE_BINDINGS"),
							       "ID"));
		mkt_output_table_cell_take(t, mkt_output_time_at(s, "REGTIME", 0));
	}
	mkt_output_table_print(t, fp);
	mkt_output_table_free(t);
	return 0;
}

/* A JSON text element as its own section, pretty printed. */
static void print_json_section(FILE *fp, xmlNodePtr obj, const char *path, const char *title)
{
	char *text = mkt_doc_get(obj, path);

	if (text && *text) {
		mkt_output_section(fp, title);
		mkt_output_json_text(fp, text);
	}
	free(text);
}

static int print_show(FILE *fp, xmlNodePtr s)
{
	char *id = mkt_doc_get_or(s, "ID", "-");
	char *op = mkt_doc_get(s, "OPERATION_KIND");
	char *err = mkt_doc_get(s, "ERROR");
	xmlNodePtr n;

	fprintf(fp, "SERVICE INSTANCE %s INFORMATION\n", id);
	mkt_output_kv_take(fp, "ID", id);
	mkt_output_kv_take(fp, "NAME", mkt_doc_get(s, "NAME"));
	mkt_output_kv_take(fp, "USER", mkt_doc_get(s, "UNAME"));
	mkt_output_kv_take(fp, "GROUP", mkt_doc_get(s, "GNAME"));
	mkt_output_kv(fp, "STATE", mkt_output_enum(s, "STATE", state_long, N_ELEMS(state_long)));
	if (op && *op)
		mkt_output_kv(fp, "OPERATION", op);
	if (err && *err)
		mkt_output_kv(fp, "ERROR", err);
	mkt_output_kv_take(fp, "PLAN (APP)", mkt_doc_get(s, "MARKETPLACEAPP_ID"));
	mkt_output_kv_take(fp, "MARKETPLACE_ID", mkt_doc_get(s, "MARKETPLACE_ID"));
	mkt_output_kv_take(fp, "PROJECT", mkt_doc_get(s, "PROJECT"));
	mkt_output_kv_take(fp, "REGISTER TIME", mkt_output_time_at(s, "REGTIME", 1));
	free(op);
	free(err);

	mkt_output_permissions(fp, s);

	mkt_output_section(fp, "BROKER");
	mkt_output_kv_take(fp, "INSTANCE_ID", mkt_doc_get(s, "UUID"));
	mkt_output_kv_take(fp, "SERVICE_ID", mkt_doc_get(s, "SERVICE_ID"));
	mkt_output_kv_take(fp, "PLAN_ID", mkt_doc_get(s, "PLAN_ID"));
	mkt_output_kv_take(fp, "DASHBOARD_URL", mkt_doc_get(s, "DASHBOARD_URL"));
	mkt_output_kv_take(fp, "DESCRIPTION", mkt_doc_get(s, "DESCRIPTION"));

	print_json_section(fp, s, "PARAMETERS", "PARAMETERS");
	print_json_section(fp, s, "NEXT_PARAMETERS", "PARAMETERS OF THE UPDATE");

	mkt_output_section(fp, "SERVICE BINDINGS");
	for (n = mkt_doc_first(mkt_doc_find(s, "SERVICE_BINDINGS"), "ID"); n;
	     n = mkt_doc_next(n, "ID")) {
		char *bid = mkt_doc_text(n);

		fprintf(fp, "%s\n", bid);
		free(bid);
	}

	return mkt_output_template(fp, "SERVICE INSTANCE TEMPLATE", mkt_doc_find(s, "TEMPLATE"));
}

/* A create waits through PROVISIONING, an update through UPDATING (a
 * failed update is READY again with ERROR set), a delete through
 * DEPROVISIONING. */
static const mkt_cli_states states = {
	.ready = 1,
	.error = 4,
	.pending = (1u << 0) | (1u << 2),
	.removing = 1u << 3,
	.names = state_long,
	.nnames = N_ELEMS(state_long),
	.error_path = "ERROR",
	.ready_error = 1,
	.announce = 1,
	.work = "the broker's operation",
};

const mkt_cli_class mkt_cmd_service_class = {
	.name = "service",
	.label = "service instance",
	.prefix = "one.serviceinstance",
	.pool_method = "one.serviceinstancepool.info",
	.pool_filtered = 1,
	.pool_root = "SERVICE_INSTANCE_POOL",
	.root = "SERVICE_INSTANCE",
	.print_list = print_list,
	.print_show = print_show,
	.states = &states,
};

/* ---- plans ---------------------------------------------------------------- */

/* Whether SERVICE app @a is @arg: its NAME ("db (small)"), or
 * "SERVICE_NAME/PLAN_NAME" ("db/small"). */
static int plan_named(xmlNodePtr a, const char *arg)
{
	char *name = mkt_doc_get(a, "NAME");
	char *sname = mkt_doc_get(a, "TEMPLATE/SERVICE_NAME");
	char *pname = mkt_doc_get(a, "TEMPLATE/PLAN_NAME");
	size_t n = sname ? strlen(sname) : 0;
	int hit = (name && strcmp(name, arg) == 0) ||
		  (sname && pname && strncmp(arg, sname, n) == 0 && arg[n] == '/' &&
		   strcmp(arg + n + 1, pname) == 0);

	free(name);
	free(sname);
	free(pname);
	return hit;
}

/*
 * --plan APP: an id as it is (marketd checks it is a plan), else the
 * SERVICE app of that NAME or SERVICE/PLAN.  The message of a miss says
 * where the names come from; a name only apps of other types have says
 * so.
 */
static int resolve_plan(mkt_cli *cli, const char *arg, long long *out)
{
	const mkt_cli_class *apps = &mkt_cmd_app_class;
	char *xml = NULL;
	xmlDocPtr doc = NULL;
	xmlNodePtr a;
	mkt_buf ids = MKT_BUF_INIT;
	long long v, other = -1;
	size_t found = 0;
	int ret;

	if (mkt_util_parse_long(arg, &v) == 0 && v >= 0 && v <= 0x7fffffff) {
		*out = v;
		return 0;
	}
	if (!*arg)
		return mkt_object_usage("empty plan name");
	if ((ret = mkt_object_pool(cli, apps, -2, &xml)) < 0 ||
	    (ret = mkt_doc_parse(&doc, xml, apps->pool_method, apps->pool_root)) < 0)
		goto cleanup;
	for (a = mkt_doc_first(xmlDocGetRootElement(doc), apps->root); a;
	     a = mkt_doc_next(a, apps->root)) {
		long long type = -1;

		if (!plan_named(a, arg) || mkt_doc_get_long(a, "ID", &v) < 0)
			continue;
		mkt_doc_get_long(a, "TYPE", &type);
		if (type != APP_TYPE_SERVICE) {
			other = v;
			continue;
		}
		mkt_buf_printf(&ids, "%s%lld", found ? ", " : "", v);
		*out = v;
		found++;
	}
	if (found == 1)
		ret = 0;
	else if (found > 1)
		ret = mkt_error_set(MKT_ERROR, MKT_ERR_CORE,
				    "plan name '%s' is ambiguous (SERVICE apps %s): use the ID",
				    arg, mkt_buf_cstr(&ids));
	else if (other >= 0)
		ret = mkt_error_set(MKT_ENOTFOUND, MKT_ERR_CORE,
				    "app %lld '%s' is not a SERVICE app (a broker's plan)", other, arg);
	else
		ret = mkt_error_set(MKT_ENOTFOUND, MKT_ERR_CORE,
				    "plan '%s' not found: give the ID, NAME or SERVICE/PLAN of a SERVICE app (marketctl app list)",
				    arg);

 cleanup:
	if (doc)
		xmlFreeDoc(doc);
	free(xml);
	mkt_buf_free(&ids);
	return ret;
}

/* ---- create and update -------------------------------------------------- */

/*
 * The template of a create (@name, the plan as APP, --project) or an
 * update (@name NULL, the plan as PLAN): the options given, resolved to
 * ids, and PARAMETERS from --params/--param.
 */
static int service_template(mkt_cli *cli, const char *name, const char *plan_attr,
			    char **out)
{
	const char *names[] = { "NAME", plan_attr, "PROJECT", "PARAMETERS" };
	const char *values[N_ELEMS(names)] = { name, NULL, NULL, NULL };
	char *params = NULL, *plan_text = NULL, *project_text = NULL;
	long long plan = -1, gid = -1;
	int ret;

	*out = NULL;
	if ((ret = mkt_params_build(&params, cli->params_file, cli->params, cli->nparams)) < 0 ||
	    (cli->plan && (ret = resolve_plan(cli, cli->plan, &plan)) < 0) ||
	    (cli->project &&
	     (ret = mkt_object_resolve(cli, &mkt_cmd_group_class, cli->project, &gid)) < 0))
		goto cleanup;
	if (cli->plan)
		values[1] = plan_text = mkt_asprintf("%lld", plan);
	if (cli->project)
		values[2] = project_text = mkt_asprintf("%lld", gid);
	values[3] = params;
	ret = mkt_object_build_template(out, NULL, names, values, N_ELEMS(names));

 cleanup:
	free(params);
	free(plan_text);
	free(project_text);
	return ret;
}

int mkt_cmd_service_create(mkt_cli *cli, const mkt_cli_cmd *cmd, int argc, char **argv)
{
	char *tmpl = NULL;
	long long id;
	int ret;

	if (!*argv[0])
		return mkt_object_usage("the service instance name must not be empty");
	if (!cli->plan)
		return mkt_object_usage("service create needs --plan APP (a SERVICE app)");
	if ((ret = service_template(cli, argv[0], "APP", &tmpl)) < 0 ||
	    (ret = mkt_client_call_id(cli->client, &id, "one.serviceinstance.allocate", "s",
				      tmpl)) < 0)
		goto cleanup;
	mkt_object_print_id(id);
	if (cli->wait)
		ret = mkt_wait_object(cli, cmd->cls, id);

 cleanup:
	free(tmpl);
	return ret;
}

int mkt_cmd_service_update(mkt_cli *cli, const mkt_cli_cmd *cmd, int argc, char **argv)
{
	char *tmpl = NULL;
	long long id, rid;
	int ret;

	if (!cli->plan && !cli->params_file && cli->nparams == 0)
		return mkt_object_usage("service update needs --plan APP and/or --param/--params");
	if ((ret = service_template(cli, NULL, "PLAN", &tmpl)) < 0 ||
	    (ret = mkt_object_resolve(cli, cmd->cls, argv[0], &id)) < 0 ||
	    (ret = mkt_client_call_id(cli->client, &rid, "one.serviceinstance.update", "is",
				      (int)id, tmpl)) < 0)
		goto cleanup;
	if (cli->wait)
		ret = mkt_wait_object(cli, cmd->cls, id);

 cleanup:
	free(tmpl);
	return ret;
}

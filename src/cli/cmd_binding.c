/*
 * cmd_binding.c: the service binding class (`binding list` table,
 * `binding show` block with the credentials for those who may see them,
 * the warning about bindings that expire within a day) and `binding
 * create`.
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/alloc.h"
#include "common/error.h"

#include "doc.h"
#include "object.h"
#include "output.h"
#include "params.h"
#include "wait.h"

/* mkt_binding_state (src/core/service.h), long and short (index = value). */
static const char *const state_long[] = { "BINDING", "READY", "UNBINDING", "FAILED" };
static const char *const state_short[] = { "bind", "rdy", "unb", "fail" };

#define STATE_READY 1

/* A binding expiring within this many seconds is warned about. */
#define EXPIRY_WARNING (24 * 3600)

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

/* EXPIRES of a READY binding that expires within a day: 1 and the epoch
 * in *when; else 0 (never, far off, or no longer READY). */
static int expires_soon(xmlNodePtr b, long long *when)
{
	long long state = -1;

	*when = 0;
	if (mkt_doc_get_long(b, "EXPIRES", when) < 0 || *when <= 0 ||
	    mkt_doc_get_long(b, "STATE", &state) < 0 || state != STATE_READY)
		return 0;
	return *when - (long long)time(NULL) < EXPIRY_WARNING;
}

/* EXPIRES as a date, "never" for 0, with the marker " !" when soon. */
static char *expires_of(xmlNodePtr b, int with_time)
{
	long long when = 0;
	char *date, *cell;

	if (mkt_doc_get_long(b, "EXPIRES", &when) < 0)
		return mkt_strdup("-");
	if (when <= 0)
		return mkt_strdup("never");
	date = mkt_output_time(when, with_time);
	if (!expires_soon(b, &when))
		return date;
	cell = mkt_asprintf("%s !", date);
	free(date);
	return cell;
}

/* "in 5h03m", "in 12m", or "5m ago" when already past. */
static char *time_left(long long when)
{
	long long left = when - (long long)time(NULL);
	long long m = (left < 0 ? -left : left) / 60;
	char *span = m >= 60 ? mkt_asprintf("%lldh%02lldm", m / 60, m % 60) :
			       mkt_asprintf("%lldm", m);
	char *out = left < 0 ? mkt_asprintf("%s ago", span) : mkt_asprintf("in %s", span);

	free(span);
	return out;
}

static void warn_one(FILE *fp, xmlNodePtr b)
{
	long long when;
	char *id, *name, *date, *left;

	if (!expires_soon(b, &when))
		return;
	id = mkt_doc_get_or(b, "ID", "-");
	name = mkt_doc_get_or(b, "NAME", "-");
	date = mkt_output_time(when, 1);
	left = time_left(when);
	fprintf(fp, "marketctl: warning: service binding %s (%s) %s at %s (%s): "
		"its credentials stop working then; create a new binding\n", id, name,
		when < (long long)time(NULL) ? "expired" : "expires within a day,", date, left);
	free(id);
	free(name);
	free(date);
	free(left);
}

static void warn(FILE *fp, xmlNodePtr root, int pool)
{
	xmlNodePtr b;

	if (!pool) {
		warn_one(fp, root);
		return;
	}
	for (b = mkt_doc_first(root, "SERVICE_BINDING"); b; b = mkt_doc_next(b, "SERVICE_BINDING"))
		warn_one(fp, b);
}

static int print_list(FILE *fp, xmlNodePtr pool)
{
	static const mkt_output_column cols[] = {
		{ "ID", 1 }, { "USER", 0 }, { "GROUP", 0 }, { "NAME", 0 }, { "STAT", 0 },
		{ "INSTANCE", 1 }, { "EXPIRES", 0 }, { "REGTIME", 0 },
	};
	mkt_output_table *t = mkt_output_table_new(cols, N_ELEMS(cols));
	xmlNodePtr b;

	for (b = mkt_doc_first(pool, "SERVICE_BINDING"); b; b = mkt_doc_next(b, "SERVICE_BINDING")) {
		mkt_output_table_cell_take(t, mkt_doc_get(b, "ID"));
		mkt_output_table_cell_take(t, mkt_doc_get(b, "UNAME"));
		mkt_output_table_cell_take(t, mkt_doc_get(b, "GNAME"));
		mkt_output_table_cell_take(t, mkt_doc_get(b, "NAME"));
		mkt_output_table_cell(t, mkt_output_enum(b, "STATE", state_short,
							 N_ELEMS(state_short)));
		mkt_output_table_cell_take(t, mkt_doc_get(b, "SERVICE_INSTANCE_ID"));
		mkt_output_table_cell_take(t, expires_of(b, 0));
		mkt_output_table_cell_take(t, mkt_output_time_at(b, "REGTIME", 0));
	}
	mkt_output_table_print(t, fp);
	mkt_output_table_free(t);
	return 0;
}

/* The CREDENTIALS section: the JSON, or why there is none. */
static void print_credentials(FILE *fp, xmlNodePtr b)
{
	char *creds = mkt_doc_get(b, "CREDENTIALS");
	long long state = -1;

	mkt_output_section(fp, "CREDENTIALS");
	mkt_doc_get_long(b, "STATE", &state);
	if (creds && *creds)
		mkt_output_json_text(fp, creds);
	else if (state != STATE_READY)
		fprintf(fp, "none: the binding is %s, not READY\n",
			mkt_output_enum(b, "STATE", state_long, N_ELEMS(state_long)));
	else
		fprintf(fp, "not visible to you: only the service instance's owner and the oneadmin group see them%s\n",
			mkt_doc_get_long(b, "SENSITIVE", &state) == 0 && state == 1 ?
			", and this sensitive service's only once" : "");
	free(creds);
}

static int print_show(FILE *fp, xmlNodePtr b)
{
	char *id = mkt_doc_get_or(b, "ID", "-");
	char *op = mkt_doc_get(b, "OPERATION_KIND");
	char *err = mkt_doc_get(b, "ERROR");

	fprintf(fp, "SERVICE BINDING %s INFORMATION\n", id);
	mkt_output_kv_take(fp, "ID", id);
	mkt_output_kv_take(fp, "NAME", mkt_doc_get(b, "NAME"));
	mkt_output_kv_take(fp, "USER", mkt_doc_get(b, "UNAME"));
	mkt_output_kv_take(fp, "GROUP", mkt_doc_get(b, "GNAME"));
	mkt_output_kv(fp, "STATE", mkt_output_enum(b, "STATE", state_long, N_ELEMS(state_long)));
	if (op && *op)
		mkt_output_kv(fp, "OPERATION", op);
	if (err && *err)
		mkt_output_kv(fp, "ERROR", err);
	mkt_output_kv_take(fp, "INSTANCE", mkt_doc_get(b, "SERVICE_INSTANCE_ID"));
	mkt_output_kv_take(fp, "BINDING_ID", mkt_doc_get(b, "UUID"));
	mkt_output_kv_take(fp, "REGISTER TIME", mkt_output_time_at(b, "REGTIME", 1));
	mkt_output_kv_take(fp, "EXPIRES", expires_of(b, 1));
	mkt_output_kv(fp, "SENSITIVE", mkt_output_yes_no(b, "SENSITIVE"));
	free(op);
	free(err);

	mkt_output_permissions(fp, b);

	print_credentials(fp, b);

	return mkt_output_template(fp, "SERVICE BINDING TEMPLATE", mkt_doc_find(b, "TEMPLATE"));
}

/* A create waits through BINDING, a delete through UNBINDING. */
static const mkt_cli_states states = {
	.ready = STATE_READY,
	.error = 3,
	.pending = 1u << 0,
	.removing = 1u << 2,
	.names = state_long,
	.nnames = N_ELEMS(state_long),
	.error_path = "ERROR",
	.announce = 1,
	.work = "the broker's operation",
};

const mkt_cli_class mkt_cmd_binding_class = {
	.name = "binding",
	.label = "service binding",
	.prefix = "one.servicebinding",
	.pool_method = "one.servicebindingpool.info",
	.pool_filtered = 1,
	.pool_root = "SERVICE_BINDING_POOL",
	.root = "SERVICE_BINDING",
	.print_list = print_list,
	.print_show = print_show,
	.states = &states,
	.warn = warn,
};

int mkt_cmd_binding_create(mkt_cli *cli, const mkt_cli_cmd *cmd, int argc, char **argv)
{
	static const char *const names[] = { "NAME", "PARAMETERS" };
	const char *values[N_ELEMS(names)] = { cli->name, NULL };
	char *params = NULL, *tmpl = NULL;
	long long iid, id;
	int ret;

	if (cli->name && !*cli->name)
		return mkt_object_usage("the binding name must not be empty");
	if ((ret = mkt_params_build(&params, cli->params_file, cli->params, cli->nparams)) < 0 ||
	    (ret = mkt_object_resolve(cli, &mkt_cmd_service_class, argv[0], &iid)) < 0)
		goto cleanup;
	values[1] = params;
	if ((ret = mkt_object_build_template(&tmpl, NULL, names, values, N_ELEMS(names))) < 0 ||
	    (ret = mkt_client_call_id(cli->client, &id, "one.servicebinding.allocate", "is",
				      (int)iid, tmpl)) < 0)
		goto cleanup;
	mkt_object_print_id(id);
	if (cli->wait)
		ret = mkt_wait_object(cli, cmd->cls, id);

 cleanup:
	free(params);
	free(tmpl);
	return ret;
}

/*
 * cmd_market.c: the marketplace class: `market list` table and
 * `market show` block, in the layout of OpenNebula's onemarket.
 * Every market command is a generic handler of object.c.
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/error.h"

#include "client.h"
#include "doc.h"
#include "object.h"
#include "output.h"
#include "progress.h"
#include "wait.h"

static const char *state_name(long long state, int shrt)
{
	switch (state) {
	case 0: return shrt ? "on" : "ENABLED";
	case 1: return shrt ? "off" : "DISABLED";
	default: return "-";
	}
}

static int print_list(FILE *fp, xmlNodePtr pool)
{
	static const mkt_output_column cols[] = {
		{ "ID", 1 }, { "USER", 0 }, { "GROUP", 0 }, { "NAME", 0 },
		{ "SIZE", 1 }, { "AVAIL", 1 }, { "APPS", 1 }, { "MAD", 0 },
		{ "ZONE", 1 }, { "STAT", 0 },
	};
	mkt_output_table *t = mkt_output_table_new(cols, sizeof(cols) / sizeof(cols[0]));
	xmlNodePtr m;

	for (m = mkt_doc_first(pool, "MARKETPLACE"); m;
	     m = mkt_doc_next(m, "MARKETPLACE")) {
		long long state = -1;

		mkt_output_table_cell_take(t, mkt_doc_get(m, "ID"));
		mkt_output_table_cell_take(t, mkt_doc_get(m, "UNAME"));
		mkt_output_table_cell_take(t, mkt_doc_get(m, "GNAME"));
		mkt_output_table_cell_take(t, mkt_doc_get(m, "NAME"));
		mkt_output_table_cell_take(t, mkt_output_size_at(m, "TOTAL_MB"));
		mkt_output_table_cell_take(t, mkt_output_avail(m));
		mkt_output_table_cellf(t, "%zu",
				       mkt_doc_count(mkt_doc_find(m, "MARKETPLACEAPPS"), "ID"));
		mkt_output_table_cell_take(t, mkt_doc_get(m, "MARKET_MAD"));
		mkt_output_table_cell_take(t, mkt_doc_get(m, "ZONE_ID"));
		mkt_doc_get_long(m, "STATE", &state);
		mkt_output_table_cell(t, state_name(state, 1));
	}
	mkt_output_table_print(t, fp);
	mkt_output_table_free(t);
	return 0;
}

static int print_show(FILE *fp, xmlNodePtr m)
{
	char *id = mkt_doc_get_or(m, "ID", "-");
	long long state = -1;
	xmlNodePtr n;
	int ret;

	fprintf(fp, "MARKETPLACE %s INFORMATION\n", id);
	mkt_output_kv_take(fp, "ID", id);
	mkt_output_kv_take(fp, "NAME", mkt_doc_get(m, "NAME"));
	mkt_output_kv_take(fp, "USER", mkt_doc_get(m, "UNAME"));
	mkt_output_kv_take(fp, "GROUP", mkt_doc_get(m, "GNAME"));
	mkt_doc_get_long(m, "STATE", &state);
	mkt_output_kv(fp, "STATE", state_name(state, 0));
	mkt_output_kv_take(fp, "MARKET_MAD", mkt_doc_get(m, "MARKET_MAD"));
	mkt_output_kv_take(fp, "ZONE_ID", mkt_doc_get(m, "ZONE_ID"));

	mkt_output_section(fp, "MARKETPLACE CAPACITY");
	mkt_output_kv_take(fp, "TOTAL", mkt_output_size_at(m, "TOTAL_MB"));
	mkt_output_kv_take(fp, "FREE", mkt_output_size_at(m, "FREE_MB"));
	mkt_output_kv_take(fp, "USED", mkt_output_size_at(m, "USED_MB"));

	mkt_output_permissions(fp, m);

	if ((ret = mkt_output_template(fp, "MARKETPLACE TEMPLATE",
				       mkt_doc_find(m, "TEMPLATE"))) < 0)
		return ret;

	if ((n = mkt_doc_find(m, "MONITORING"))) {
		long long ended = 0;

		mkt_output_section(fp, "LAST MONITOR");
		mkt_output_kv_take(fp, "STATE", mkt_doc_get(n, "STATE"));
		mkt_doc_get_long(n, "LAST_MONITOR", &ended);
		mkt_output_kv_take(fp, "ENDED", ended > 0 ? mkt_output_time(ended, 1) : mkt_strdup("-"));
		mkt_output_kv_take(fp, "MESSAGE", mkt_doc_get(n, "MESSAGE"));
		mkt_output_kv_take(fp, "APPS ADDED", mkt_doc_get(n, "APPS_ADDED"));
		mkt_output_kv_take(fp, "APPS UPDATED", mkt_doc_get(n, "APPS_UPDATED"));
		mkt_output_kv_take(fp, "APPS REMOVED", mkt_doc_get(n, "APPS_REMOVED"));
		mkt_output_kv_take(fp, "APPS SKIPPED", mkt_doc_get(n, "APPS_SKIPPED"));
	}

	mkt_output_section(fp, "MARKETAPPS");
	for (n = mkt_doc_first(mkt_doc_find(m, "MARKETPLACEAPPS"), "ID"); n;
	     n = mkt_doc_next(n, "ID")) {
		char *appid = mkt_doc_text(n);

		fprintf(fp, "%s\n", appid);
		free(appid);
	}
	return 0;
}

const mkt_cli_class mkt_cmd_market_class = {
	.name = "market",
	.label = "marketplace",
	.prefix = "one.market",
	.pool_method = "one.marketpool.info",
	.pool_filtered = 0,
	.pool_root = "MARKETPLACE_POOL",
	.root = "MARKETPLACE",
	.print_list = print_list,
	.print_show = print_show,
};

/* ---- market monitor ----------------------------------------------------- */

/* The market's <MONITORING> counters: passes ended, and whether one runs. */
static int read_monitoring(mkt_cli *cli, long long id, xmlDocPtr *doc, long long *passes,
			   int *running)
{
	xmlNodePtr mon;
	char *state;
	int ret;

	*passes = 0;
	*running = 0;
	if ((ret = mkt_object_info(cli, &mkt_cmd_market_class, id, doc, NULL)) < 0)
		return ret;
	mon = mkt_doc_find(xmlDocGetRootElement(*doc), "MONITORING");
	if (!mon)
		return 0;
	mkt_doc_get_long(mon, "PASSES", passes);
	state = mkt_doc_get(mon, "STATE");
	*running = state && !strcmp(state, "RUNNING");
	free(state);
	return 0;
}

static int report_pass(long long id, xmlNodePtr mon)
{
	static const struct { const char *elem, *label; } counts[] = {
		{ "APPS_ADDED", "added" }, { "APPS_UPDATED", "updated" },
		{ "APPS_REMOVED", "removed" }, { "APPS_UNCHANGED", "unchanged" },
		{ "APPS_SKIPPED", "skipped" }, { "APPS_MISSING", "missing" },
	};
	char *state = mkt_doc_get_or(mon, "STATE", "-");
	char *msg = mkt_doc_get_or(mon, "MESSAGE", "");
	size_t i;
	int ret = 0;

	if (strcmp(state, "DONE") != 0) {
		ret = mkt_error_set(MKT_ERROR, MKT_ERR_CORE, "monitor of marketplace %lld failed: %s",
				    id, *msg ? msg : state);
		goto cleanup;
	}
	printf("MARKETPLACE %lld monitored: ", id);
	for (i = 0; i < sizeof(counts) / sizeof(counts[0]); i++) {
		long long n = 0;

		mkt_doc_get_long(mon, counts[i].elem, &n);
		printf("%s%lld %s", i ? ", " : "", n, counts[i].label);
	}
	printf(" app(s)\n");

 cleanup:
	free(state);
	free(msg);
	return ret;
}

int mkt_cmd_market_monitor(mkt_cli *cli, const mkt_cli_cmd *cmd, int argc, char **argv)
{
	const volatile int *interrupted = mkt_progress_interrupted();
	xmlDocPtr doc = NULL;
	long long id, out, before, passes;
	int running, ret;

	if ((ret = mkt_object_resolve(cli, cmd->cls, argv[0], &id)) < 0 ||
	    (ret = read_monitoring(cli, id, &doc, &before, &running)) < 0)
		return ret;
	xmlFreeDoc(doc);
	doc = NULL;
	/* A pass already running is the pass asked for: wait for it. */
	if (running)
		before--;
	if ((ret = mkt_client_call_id(cli->client, &out, "one.market.monitor", "i", (int)id)) < 0)
		return ret;
	if (!cli->wait) {
		printf("MARKETPLACE %lld: monitor started\n", id);
		return 0;
	}
	mkt_progress_arm_sigint();
	for (;;) {
		if ((ret = read_monitoring(cli, id, &doc, &passes, &running)) < 0)
			break;
		/* marketd restarted meanwhile: its count started again. */
		if (passes < before)
			before = 0;
		if (passes > before && !running) {
			ret = report_pass(id, mkt_doc_find(xmlDocGetRootElement(doc), "MONITORING"));
			break;
		}
		xmlFreeDoc(doc);
		doc = NULL;
		if (*interrupted) {
			ret = mkt_error_set(MKT_CLI_EINTERRUPTED, MKT_ERR_CORE,
					    "stopped waiting; the monitor of marketplace %lld goes on", id);
			break;
		}
		mkt_progress_sleep(MKT_WAIT_INTERVAL_MS);
	}
	mkt_progress_disarm_sigint();
	if (doc)
		xmlFreeDoc(doc);
	return ret;
}

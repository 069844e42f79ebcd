/*
 * cmd_zone.c: the zone class (`zone list`, `zone show`, like OpenNebula's
 * onezone) and `zone create`.  `zone list` also asks each zone's ENDPOINT
 * how far its replica is (one.zone.raftstatus), as onezone show asks each
 * server: the credentials are the same everywhere (users are shared).
 */
#include <config.h>

#include <libxml/tree.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/error.h"
#include "client.h"
#include "doc.h"
#include "object.h"
#include "output.h"

static int print_list(FILE *fp, xmlNodePtr pool)
{
	static const mkt_output_column cols[] = {
		{ "ID", 1 }, { "NAME", 0 }, { "ENDPOINT", 0 }, { "INDEX", 1 }, { "LAG", 1 },
	};
	mkt_output_table *t = mkt_output_table_new(cols, sizeof(cols) / sizeof(cols[0]));
	xmlNodePtr z;

	for (z = mkt_doc_first(pool, "ZONE"); z; z = mkt_doc_next(z, "ZONE")) {
		mkt_output_table_cell_take(t, mkt_doc_get(z, "ID"));
		mkt_output_table_cell_take(t, mkt_doc_get(z, "NAME"));
		mkt_output_table_cell_take(t, mkt_doc_get(z, "TEMPLATE/ENDPOINT"));
		mkt_output_table_cell_take(t, mkt_doc_get_or(z, "FEDLOG_INDEX", "-"));
		mkt_output_table_cell_take(t, mkt_doc_get_or(z, "LAG", "unreachable"));
	}
	mkt_output_table_print(t, fp);
	mkt_output_table_free(t);
	return 0;
}

static int print_show(FILE *fp, xmlNodePtr z)
{
	char *id = mkt_doc_get_or(z, "ID", "-");

	fprintf(fp, "ZONE %s INFORMATION\n", id);
	mkt_output_kv_take(fp, "ID", id);
	mkt_output_kv_take(fp, "NAME", mkt_doc_get(z, "NAME"));
	mkt_output_kv_take(fp, "STATE", mkt_doc_get_or(z, "STATE", "0"));
	return mkt_output_template(fp, "ZONE TEMPLATE", mkt_doc_find(z, "TEMPLATE"));
}

const mkt_cli_class mkt_cmd_zone_class = {
	.name = "zone",
	.label = "zone",
	.prefix = "one.zone",
	.pool_method = "one.zonepool.info",
	.pool_filtered = 0,
	.pool_root = "ZONE_POOL",
	.root = "ZONE",
	.print_list = print_list,
	.print_show = print_show,
};

/* FEDLOG_INDEX of the zone at @endpoint, or -1 (with the reason on
 * stderr) when it does not answer. */
static long long zone_index(const char *endpoint, const char *zone_id)
{
	mkt_client *c = mkt_client_new(endpoint, NULL, NULL);
	char *xml = NULL;
	xmlDocPtr doc = NULL;
	long long idx = -1;

	if (mkt_client_call_string(c, &xml, "one.zone.raftstatus", "") < 0 ||
	    mkt_doc_parse(&doc, xml, "one.zone.raftstatus", "RAFT") < 0 ||
	    mkt_doc_get_long(xmlDocGetRootElement(doc), "FEDLOG_INDEX", &idx) < 0) {
		fprintf(stderr, "marketctl: zone %s (%s): %s\n", zone_id, endpoint,
			mkt_error_message());
		idx = -1;
	}
	if (doc)
		xmlFreeDoc(doc);
	free(xml);
	mkt_client_free(c);
	return idx;
}

int mkt_cmd_zone_list(mkt_cli *cli, const mkt_cli_cmd *cmd, int argc, char **argv)
{
	char *xml = NULL, buf[32];
	xmlDocPtr doc = NULL;
	xmlNodePtr z;
	long long newest = -1;
	int ret;

	if ((ret = mkt_object_pool(cli, cmd->cls, -2, &xml)) < 0 ||
	    (ret = mkt_doc_parse(&doc, xml, cmd->cls->pool_method, cmd->cls->pool_root)) < 0)
		goto cleanup;
	/* Each zone's index; the master's is the newest (slaves only apply
	 * its log), and a zone's lag is how far behind it that zone is. */
	for (z = mkt_doc_first(xmlDocGetRootElement(doc), "ZONE"); z;
	     z = mkt_doc_next(z, "ZONE")) {
		char *ep = mkt_doc_get_or(z, "TEMPLATE/ENDPOINT", "");
		char *id = mkt_doc_get_or(z, "ID", "?");
		long long idx = *ep ? zone_index(ep, id) : -1;

		if (idx >= 0) {
			snprintf(buf, sizeof(buf), "%lld", idx);
			xmlNewTextChild(z, NULL, BAD_CAST "FEDLOG_INDEX", BAD_CAST buf);
			if (idx > newest)
				newest = idx;
		}
		free(ep);
		free(id);
	}
	for (z = mkt_doc_first(xmlDocGetRootElement(doc), "ZONE"); z;
	     z = mkt_doc_next(z, "ZONE")) {
		long long idx;

		if (mkt_doc_get_long(z, "FEDLOG_INDEX", &idx) < 0)
			continue;
		snprintf(buf, sizeof(buf), "%lld", newest - idx);
		xmlNewTextChild(z, NULL, BAD_CAST "LAG", BAD_CAST buf);
	}
	mkt_error_clear();
	ret = mkt_object_output(cli, cmd->cls, NULL, doc, 1);

 cleanup:
	if (doc)
		xmlFreeDoc(doc);
	free(xml);
	return ret;
}

int mkt_cmd_zone_create(mkt_cli *cli, const mkt_cli_cmd *cmd, int argc, char **argv)
{
	char *tmpl = NULL;
	long long id;
	int ret;

	if (!*argv[0])
		return mkt_object_usage("the zone name must not be empty");
	if (strncmp(argv[1], "http://", 7) && strncmp(argv[1], "https://", 8))
		return mkt_object_usage("ENDPOINT must be the zone's http(s)://host:port/RPC2");
	if (strpbrk(argv[0], "\"\\\n") || strpbrk(argv[1], "\"\\\n"))
		return mkt_object_usage("NAME and ENDPOINT must not hold quotes, backslashes "
					"or new lines");
	tmpl = mkt_asprintf("NAME=\"%s\"\nENDPOINT=\"%s\"\n", argv[0], argv[1]);
	ret = mkt_client_call_id(cli->client, &id, "one.zone.allocate", "s", tmpl);
	free(tmpl);
	if (ret < 0)
		return ret;
	mkt_object_print_id(id);
	return 0;
}

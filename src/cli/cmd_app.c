/*
 * cmd_app.c: the marketplace app class (`app list` table, `app show`
 * block, in the layout of OpenNebula's onemarketapp) and the commands
 * only apps have: list --market and create (from a template, an image or
 * a file/URL).  `app export` and `app download` are in cmd_app_transfer.c.
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/error.h"
#include "common/util.h"

#include "doc.h"
#include "object.h"
#include "output.h"
#include "progress.h"
#include "wait.h"

/* MarketPlaceApp::State and ::Type, long and short (index = value). */
static const char *const state_long[] = { "INIT", "READY", "LOCKED", "ERROR", "DISABLED" };
static const char *const state_short[] = { "ini", "rdy", "lck", "err", "dis" };
/* TYPE 4 is marketd's own, a broker's plan: spelt out, as "srv" is taken. */
static const char *const type_long[] = {
	"UNKNOWN", "IMAGE", "VMTEMPLATE", "SERVICE_TEMPLATE", "SERVICE",
};
static const char *const type_short[] = { "unk", "img", "tpl", "srv", "SERVICE" };
/* LOCK/LOCKED levels 1..4 */
static const char *const lock_names[] = { "None", "Use", "Manage", "Admin", "All" };

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

static char *size_of(xmlNodePtr node)
{
	return mkt_output_size_at(node, "SIZE");
}

static int print_list(FILE *fp, xmlNodePtr pool)
{
	static const mkt_output_column cols[] = {
		{ "ID", 1 }, { "NAME", 0 }, { "VERSION", 0 }, { "SIZE", 1 },
		{ "STAT", 0 }, { "TYPE", 0 }, { "REGTIME", 0 }, { "MARKET", 0 },
		{ "ZONE", 1 },
	};
	mkt_output_table *t = mkt_output_table_new(cols, N_ELEMS(cols));
	xmlNodePtr a;

	for (a = mkt_doc_first(pool, "MARKETPLACEAPP"); a;
	     a = mkt_doc_next(a, "MARKETPLACEAPP")) {
		mkt_output_table_cell_take(t, mkt_doc_get(a, "ID"));
		mkt_output_table_cell_take(t, mkt_doc_get(a, "NAME"));
		mkt_output_table_cell_take(t, mkt_doc_get(a, "VERSION"));
		mkt_output_table_cell_take(t, size_of(a));
		mkt_output_table_cell(t, mkt_output_enum(a, "STATE", state_short, N_ELEMS(state_short)));
		mkt_output_table_cell(t, mkt_output_enum(a, "TYPE", type_short, N_ELEMS(type_short)));
		mkt_output_table_cell_take(t, mkt_output_time_at(a, "REGTIME", 0));
		mkt_output_table_cell_take(t, mkt_doc_get(a, "MARKETPLACE"));
		mkt_output_table_cell_take(t, mkt_doc_get(a, "ZONE_ID"));
	}
	mkt_output_table_print(t, fp);
	mkt_output_table_free(t);
	return 0;
}

/* APPTEMPLATE64 decoded; the raw value when it is not base64 of text. */
static void print_import_template(FILE *fp, xmlNodePtr app)
{
	char *b64 = mkt_doc_get(app, "APPTEMPLATE64");
	unsigned char *raw = NULL;
	size_t len = 0;
	const char *text = b64;

	if (!b64 || !*b64)
		goto cleanup;
	if (mkt_util_base64_decode(&raw, &len, b64) == 0 && raw &&
	    !memchr(raw, '\0', len)) {
		raw = mkt_realloc(raw, len + 1);
		raw[len] = '\0';
		text = (const char *)raw;
	} else {
		len = strlen(b64);
	}
	mkt_output_section(fp, "IMPORT TEMPLATE");
	fputs(text, fp);
	if (len > 0 && text[len - 1] != '\n')
		fputc('\n', fp);

 cleanup:
	free(raw);
	free(b64);
}

static int print_show(FILE *fp, xmlNodePtr a)
{
	char *id = mkt_doc_get_or(a, "ID", "-");
	xmlNodePtr lock = mkt_doc_find(a, "LOCK");
	char *publisher;

	fprintf(fp, "MARKETPLACE APP %s INFORMATION\n", id);
	mkt_output_kv_take(fp, "ID", id);
	mkt_output_kv_take(fp, "NAME", mkt_doc_get(a, "NAME"));
	mkt_output_kv(fp, "TYPE", mkt_output_enum(a, "TYPE", type_long, N_ELEMS(type_long)));
	mkt_output_kv_take(fp, "USER", mkt_doc_get(a, "UNAME"));
	mkt_output_kv_take(fp, "GROUP", mkt_doc_get(a, "GNAME"));
	mkt_output_kv_take(fp, "MARKETPLACE", mkt_doc_get(a, "MARKETPLACE"));
	mkt_output_kv_take(fp, "MARKETPLACE_ID", mkt_doc_get(a, "MARKETPLACE_ID"));
	mkt_output_kv(fp, "STATE", mkt_output_enum(a, "STATE", state_long, N_ELEMS(state_long)));
	if (lock)
		mkt_output_kv(fp, "LOCK", mkt_output_enum(lock, "LOCKED", lock_names,
							  N_ELEMS(lock_names)));
	mkt_output_kv_take(fp, "ZONE_ID", mkt_doc_get(a, "ZONE_ID"));
	mkt_progress_print(fp, a);

	mkt_output_permissions(fp, a);

	mkt_output_section(fp, "DETAILS");
	mkt_output_kv_take(fp, "SOURCE", mkt_doc_get(a, "SOURCE"));
	mkt_output_kv_take(fp, "MD5", mkt_doc_get(a, "MD5"));
	publisher = mkt_doc_get(a, "PUBLISHER");
	if (!publisher)
		publisher = mkt_doc_get(a, "TEMPLATE/PUBLISHER");
	mkt_output_kv_take(fp, "PUBLISHER", publisher);
	mkt_output_kv_take(fp, "REGISTER TIME", mkt_output_time_at(a, "REGTIME", 1));
	mkt_output_kv_take(fp, "VERSION", mkt_doc_get(a, "VERSION"));
	mkt_output_kv_take(fp, "DESCRIPTION", mkt_doc_get(a, "DESCRIPTION"));
	mkt_output_kv_take(fp, "SIZE", size_of(a));
	mkt_output_kv_take(fp, "ORIGIN_ID", mkt_doc_get(a, "ORIGIN_ID"));
	mkt_output_kv_take(fp, "FORMAT", mkt_doc_get(a, "FORMAT"));

	print_import_template(fp, a);

	return mkt_output_template(fp, "MARKETPLACE APP TEMPLATE",
				   mkt_doc_find(a, "TEMPLATE"));
}

/* MarketPlaceApp::State: the upload of an IMAGE app runs while LOCKED. */
static const mkt_cli_states states = {
	.ready = 1,
	.error = 3,
	.pending = (1u << 0) | (1u << 2),
	.names = state_long,
	.nnames = N_ELEMS(state_long),
};

const mkt_cli_class mkt_cmd_app_class = {
	.name = "app",
	.label = "marketplace app",
	.prefix = "one.marketapp",
	.pool_method = "one.marketapppool.info",
	.pool_filtered = 1,
	.pool_root = "MARKETPLACEAPP_POOL",
	.root = "MARKETPLACEAPP",
	.print_list = print_list,
	.print_show = print_show,
	.states = &states,
};

/* Drop the apps of other markets from the pool document. */
static void keep_market(xmlNodePtr pool, long long market_id)
{
	xmlNodePtr a = mkt_doc_first(pool, "MARKETPLACEAPP");

	while (a) {
		xmlNodePtr next = mkt_doc_next(a, "MARKETPLACEAPP");
		long long mid;

		if (mkt_doc_get_long(a, "MARKETPLACE_ID", &mid) < 0 || mid != market_id) {
			xmlUnlinkNode(a);
			xmlFreeNode(a);
		}
		a = next;
	}
}

int mkt_cmd_app_list(mkt_cli *cli, const mkt_cli_cmd *cmd, int argc, char **argv)
{
	const mkt_cli_class *cls = cmd->cls;
	char *xml = NULL;
	xmlDocPtr doc = NULL;
	long long filter, market_id = -1;
	int ret;

	if ((ret = mkt_object_filter(cli, &filter)) < 0 ||
	    (cli->market &&
	     (ret = mkt_object_resolve(cli, &mkt_cmd_market_class, cli->market, &market_id)) < 0))
		goto cleanup;

	if ((ret = mkt_object_pool(cli, cls, (int)filter, &xml)) < 0 ||
	    (ret = mkt_doc_parse(&doc, xml, cls->pool_method, cls->pool_root)) < 0)
		goto cleanup;

	if (cli->market) {
		keep_market(xmlDocGetRootElement(doc), market_id);
		MKT_FREE(xml);     /* --xml prints the filtered document */
	}
	ret = mkt_object_output(cli, cls, xml, doc, 1);

 cleanup:
	if (doc)
		xmlFreeDoc(doc);
	free(xml);
	return ret;
}


/*
 * The template of `app create`: FILE with --name/--description/--version
 * set in it, or one built from --image (NAME defaults to the image's) or
 * --path (NAME defaults to the file's base name), the way onemarketapp
 * create builds it from its options.
 */
static int create_template(mkt_cli *cli, const char *file, char **out)
{
	static const char *const names[] = {
		"NAME", "ORIGIN_ID", "IMPORT_SOURCE", "TYPE", "DESCRIPTION", "VERSION",
	};
	const char *values[N_ELEMS(names)] = {
		cli->name, NULL, NULL, NULL, cli->description, cli->version,
	};
	char *base = NULL, *origin = NULL, *source = NULL, *name = NULL;
	xmlDocPtr doc = NULL;
	long long image_id;
	int ret;

	*out = NULL;
	if (file) {
		if ((ret = mkt_object_read_template(&base, file)) < 0)
			goto cleanup;
		if (!cli->name && !cli->description && !cli->version) {
			*out = MKT_STEAL(base);     /* sent as it is */
			goto cleanup;
		}
	} else if (cli->image) {
		if ((ret = mkt_object_resolve(cli, &mkt_cmd_image_class, cli->image, &image_id)) < 0)
			goto cleanup;
		if (!cli->name) {
			if ((ret = mkt_object_info(cli, &mkt_cmd_image_class, image_id, &doc, NULL)) < 0)
				goto cleanup;
			name = mkt_doc_get(xmlDocGetRootElement(doc), "NAME");
			values[0] = name;
		}
		origin = mkt_asprintf("%lld", image_id);
		values[1] = origin;
		values[3] = "IMAGE";
	} else {
		if (!cli->name && !(name = mkt_object_basename(cli->path))) {
			ret = mkt_object_usage("cannot take an app name from '%s': give --name",
					       cli->path);
			goto cleanup;
		}
		if (!cli->name)
			values[0] = name;
		source = mkt_object_abs_source(cli->path);
		values[1] = "-1";
		values[2] = source;
		values[3] = "IMAGE";
	}
	ret = mkt_object_build_template(out, base, names, values, N_ELEMS(names));

 cleanup:
	if (doc)
		xmlFreeDoc(doc);
	free(base);
	free(origin);
	free(source);
	free(name);
	return ret;
}

int mkt_cmd_app_create(mkt_cli *cli, const mkt_cli_cmd *cmd, int argc, char **argv)
{
	char *tmpl = NULL;
	long long market_id, id;
	int ret;

	if (!cli->market) {
		ret = mkt_object_usage("app create needs --market ID");
		goto cleanup;
	}
	if ((argc > 0) + !!cli->image + !!cli->path != 1) {
		ret = mkt_object_usage("app create needs one of FILE, --image ID and --path FILE_OR_URL");
		goto cleanup;
	}
	if ((ret = create_template(cli, argc > 0 ? argv[0] : NULL, &tmpl)) < 0 ||
	    (ret = mkt_object_resolve(cli, &mkt_cmd_market_class, cli->market, &market_id)) < 0 ||
	    (ret = mkt_client_call_id(cli->client, &id, "one.marketapp.allocate", "si",
				      tmpl, (int)market_id)) < 0)
		goto cleanup;
	mkt_object_print_id(id);
	if (cli->wait)
		ret = mkt_wait_object(cli, cmd->cls, id);

 cleanup:
	free(tmpl);
	return ret;
}

/*
 * cmd_app_transfer.c: moving an app's content out of its market:
 * `app export` (marketd copies it into a datastore as a new image) and
 * `app download` (marketctl streams it into a local file, checked against
 * the app's MD5).
 */
#include <config.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/error.h"
#include "common/transfer.h"

#include "doc.h"
#include "object.h"
#include "progress.h"
#include "wait.h"

#define USER_AGENT "marketctl/" PACKAGE_VERSION

/* The app's TYPE (1 IMAGE, 2 VMTEMPLATE, 3 SERVICE_TEMPLATE). */
static int app_type(mkt_cli *cli, long long id, long long *type)
{
	xmlDocPtr doc = NULL;
	int ret;

	*type = 1;
	if ((ret = mkt_object_info(cli, &mkt_cmd_app_class, id, &doc, NULL)) < 0)
		return ret;
	mkt_doc_get_long(xmlDocGetRootElement(doc), "TYPE", type);
	xmlFreeDoc(doc);
	return 0;
}

/* --wait of a template export: every image of its EXPORT_GROUP, in turn.
 * One failing undoes the export, and its error is the one reported. */
static int wait_group(mkt_cli *cli, const mkt_cli_class *head, long long id)
{
	xmlDocPtr doc = NULL, pool = NULL;
	char *group = NULL, *xmltext = NULL;
	xmlNodePtr im;
	int ret;

	if ((ret = mkt_object_info(cli, head, id, &doc, NULL)) < 0)
		return ret;
	group = mkt_doc_get(xmlDocGetRootElement(doc), "TEMPLATE/EXPORT_GROUP");
	if (!group || (ret = mkt_object_pool(cli, &mkt_cmd_image_class, -2, &xmltext)) < 0 ||
	    (ret = mkt_doc_parse(&pool, xmltext, mkt_cmd_image_class.pool_method,
				 mkt_cmd_image_class.pool_root)) < 0)
		goto cleanup;
	for (im = mkt_doc_first(xmlDocGetRootElement(pool), "IMAGE"); im && ret == 0;
	     im = mkt_doc_next(im, "IMAGE")) {
		char *g = mkt_doc_get(im, "TEMPLATE/EXPORT_GROUP");
		long long iid = -1;

		if (g && !strcmp(g, group) && mkt_doc_get_long(im, "ID", &iid) == 0) {
			fprintf(stderr, "image %lld:\n", iid);
			ret = mkt_wait_object(cli, &mkt_cmd_image_class, iid);
		}
		free(g);
	}

 cleanup:
	if (pool)
		xmlFreeDoc(pool);
	xmlFreeDoc(doc);
	free(xmltext);
	free(group);
	return ret;
}

int mkt_cmd_app_export(mkt_cli *cli, const mkt_cli_cmd *cmd, int argc, char **argv)
{
	static const struct { const char *label; const mkt_cli_class *cls; } kinds[] = {
		{ "IMAGE", &mkt_cmd_image_class },
		{ "VMTEMPLATE", &mkt_cmd_template_class },
		{ "DOCUMENT", &mkt_cmd_document_class },
	};
	long long app_id, ds_id, id, type;
	size_t k;
	int ret;

	if (!cli->datastore)
		return mkt_object_usage("app export needs --datastore DS");
	if (cli->name && !*cli->name)
		return mkt_object_usage("the image name must not be empty");
	if ((ret = mkt_object_resolve(cli, cmd->cls, argv[0], &app_id)) < 0 ||
	    (ret = mkt_object_resolve(cli, &mkt_cmd_datastore_class, cli->datastore, &ds_id)) < 0 ||
	    (ret = app_type(cli, app_id, &type)) < 0)
		return ret;
	k = type == 2 ? 1 : type == 3 ? 2 : 0;
	/* Without a name marketd names the image after the app. */
	if (cli->name)
		ret = mkt_client_call_id(cli->client, &id, "one.marketapp.export", "iis",
					 (int)app_id, (int)ds_id, cli->name);
	else
		ret = mkt_client_call_id(cli->client, &id, "one.marketapp.export", "ii",
					 (int)app_id, (int)ds_id);
	if (ret < 0)
		return ret;
	printf("%s ID: %lld\n", kinds[k].label, id);
	fflush(stdout);
	if (cli->wait)
		ret = k == 0 ? mkt_wait_object(cli, &mkt_cmd_image_class, id) :
		      wait_group(cli, kinds[k].cls, id);
	return ret;
}

/* SOURCE must be an http(s) URL: other schemes (s3://, a path on the
 * marketd host) are for marketd's drivers to read. */
static int check_source(long long app_id, const char *source)
{
	const char *sep = strstr(source, "://");
	size_t n = strspn(source, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+.-");

	if (!strncasecmp(source, "http://", 7) || !strncasecmp(source, "https://", 8))
		return 0;
	if (sep && n > 0 && source + n == sep)
		return mkt_error_set(MKT_EACTION, MKT_ERR_CORE,
				     "marketctl cannot download %.*s:// sources (app %lld has SOURCE %s); export the app to a datastore instead: marketctl app export %lld --datastore DS",
				     (int)n, source, app_id, source, app_id);
	return mkt_error_set(MKT_EACTION, MKT_ERR_CORE,
			     "marketctl cannot download app %lld: its SOURCE %s is not an http(s) URL; export the app to a datastore instead: marketctl app export %lld --datastore DS",
			     app_id, source, app_id);
}

/* The SOURCE and MD5 of a READY app with content (malloc'ed; *md5 NULL
 * when the app has none). */
static int read_app(mkt_cli *cli, const mkt_cli_class *cls, long long id, char **source,
		    char **md5)
{
	xmlDocPtr doc = NULL;
	xmlNodePtr app;
	long long state = -1;
	int ret;

	*source = *md5 = NULL;
	if ((ret = mkt_object_info(cli, cls, id, &doc, NULL)) < 0)
		return ret;
	app = xmlDocGetRootElement(doc);
	mkt_doc_get_long(app, "STATE", &state);
	if (state != cls->states->ready) {
		ret = mkt_error_set(MKT_EACTION, MKT_ERR_CORE,
				    "%s %lld is %s: only a READY app can be downloaded",
				    cls->label, id, mkt_object_state_name(cls, app));
		goto cleanup;
	}
	*source = mkt_doc_get(app, "SOURCE");
	if (!*source || !**source) {
		ret = mkt_error_set(MKT_EACTION, MKT_ERR_CORE,
				    "%s %lld has no SOURCE: it has no content to download",
				    cls->label, id);
		goto cleanup;
	}
	if ((ret = check_source(id, *source)) < 0)
		goto cleanup;
	*md5 = mkt_doc_get(app, "MD5");
	if (*md5 && !**md5)
		MKT_FREE(*md5);

 cleanup:
	if (ret < 0) {
		MKT_FREE(*source);
		MKT_FREE(*md5);
	}
	xmlFreeDoc(doc);
	return ret;
}

static void on_progress(void *ud, uint64_t done, uint64_t total)
{
	mkt_progress_update(ud, done, total);
}

int mkt_cmd_app_download(mkt_cli *cli, const mkt_cli_cmd *cmd, int argc, char **argv)
{
	const volatile int *interrupted = mkt_progress_interrupted();
	mkt_transfer_opts opts;
	mkt_transfer_result res;
	mkt_progress *prog = NULL;
	char *source = NULL, *md5 = NULL;
	long long id;
	int ret;

	if (!*argv[1])
		return mkt_object_usage("the target file name must not be empty");
	if ((ret = mkt_object_resolve(cli, cmd->cls, argv[0], &id)) < 0 ||
	    (ret = read_app(cli, cmd->cls, id, &source, &md5)) < 0)
		goto cleanup;

	prog = mkt_progress_new(stderr, isatty(STDERR_FILENO));
	memset(&opts, 0, sizeof(opts));
	memset(&res, 0, sizeof(res));
	opts.source = source;
	opts.target = argv[1];
	opts.unpack = 0;                /* the bytes the market holds, as they are */
	opts.expect_md5 = md5;
	opts.user_agent = USER_AGENT;
	opts.progress = on_progress;
	opts.progress_ud = prog;
	opts.cancel = interrupted;

	mkt_progress_arm_sigint();
	ret = mkt_transfer_run(&opts, &res);
	mkt_progress_disarm_sigint();
	if (ret < 0) {
		mkt_progress_abort(prog);
		if (*interrupted && strcmp(argv[1], "-") == 0)
			ret = mkt_error_set(MKT_CLI_EINTERRUPTED, MKT_ERR_OS,
					    "download of %s %lld interrupted: standard output got part of it",
					    cmd->cls->label, id);
		else if (*interrupted)
			ret = mkt_error_set(MKT_CLI_EINTERRUPTED, MKT_ERR_OS,
					    "download of %s %lld interrupted: nothing was written to %s",
					    cmd->cls->label, id, argv[1]);
		goto cleanup;
	}
	mkt_progress_finish(prog, res.bytes_in, res.bytes_in);

 cleanup:
	mkt_progress_free(prog);
	free(source);
	free(md5);
	return ret;
}

/*
 * object.c: name resolution, output dispatch and the handlers shared by
 * every object class (show, create, update, delete, chmod, chown, chgrp,
 * rename, enable, disable).
 */
#include <config.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/error.h"
#include "common/util.h"

#include "doc.h"
#include "input.h"
#include "object.h"
#include "output.h"

/* The method "<prefix>.<op>" of a class, e.g. one.market.chown. */
static char *method_name(const mkt_cli_class *cls, const char *op)
{
	return mkt_asprintf("%s.%s", cls->prefix, op);
}

int mkt_object_usage(const char *fmt, ...)
{
	va_list ap;
	char msg[512];

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return mkt_error_set(MKT_CLI_EUSAGE, MKT_ERR_CONFIG, "%s", msg);
}

int mkt_object_pool(mkt_cli *cli, const mkt_cli_class *cls, int filter,
		    char **out)
{
	if (cls->pool_filtered)
		return mkt_client_call_string(cli->client, out, cls->pool_method,
					      "iii", filter, -1, -1);
	return mkt_client_call_string(cli->client, out, cls->pool_method, "");
}

int mkt_object_resolve(mkt_cli *cli, const mkt_cli_class *cls,
		       const char *arg, long long *out)
{
	char *xml = NULL;
	xmlDocPtr doc = NULL;
	xmlNodePtr n;
	mkt_buf ids = MKT_BUF_INIT;
	long long id = -1, v;
	size_t found = 0;
	int ret;

	if (mkt_util_parse_long(arg, &v) == 0 && v >= 0 && v <= 0x7fffffff) {
		*out = v;
		return 0;
	}
	if (!*arg)
		return mkt_object_usage("empty %s name", cls->label);

	if ((ret = mkt_object_pool(cli, cls, -2, &xml)) < 0 ||
	    (ret = mkt_doc_parse(&doc, xml, cls->pool_method, cls->pool_root)) < 0)
		goto cleanup;

	for (n = mkt_doc_first(xmlDocGetRootElement(doc), cls->root); n;
	     n = mkt_doc_next(n, cls->root)) {
		char *name = mkt_doc_get(n, "NAME");

		if (name && strcmp(name, arg) == 0 &&
		    mkt_doc_get_long(n, "ID", &v) == 0) {
			mkt_buf_printf(&ids, "%s%lld", found ? ", " : "", v);
			id = v;
			found++;
		}
		free(name);
	}

	if (found == 0) {
		ret = mkt_error_set(MKT_ENOTFOUND, MKT_ERR_CORE,
				    "%s '%s' not found", cls->label, arg);
	} else if (found > 1) {
		ret = mkt_error_set(MKT_ERROR, MKT_ERR_CORE,
				    "%s name '%s' is ambiguous (IDs %s): use the ID",
				    cls->label, arg, mkt_buf_cstr(&ids));
	} else {
		*out = id;
		ret = 0;
	}

 cleanup:
	if (doc)
		xmlFreeDoc(doc);
	free(xml);
	mkt_buf_free(&ids);
	return ret;
}

int mkt_object_output(mkt_cli *cli, const mkt_cli_class *cls,
		      const char *raw, xmlDocPtr doc, int pool)
{
	xmlNodePtr root = xmlDocGetRootElement(doc);

	switch (cli->output) {
	case MKT_CLI_OUT_XML:
		if (!raw) {
			mkt_output_xml(stdout, doc);
		} else {
			size_t len = strlen(raw);

			fputs(raw, stdout);
			if (len == 0 || raw[len - 1] != '\n')
				fputc('\n', stdout);
		}
		return 0;
	case MKT_CLI_OUT_JSON:
		return mkt_output_json(stdout, root);
	case MKT_CLI_OUT_TABLE:
	default:
		return pool ? cls->print_list(stdout, root) : cls->print_show(stdout, root);
	}
}

int mkt_object_list(mkt_cli *cli, const mkt_cli_cmd *cmd, int argc, char **argv)
{
	const mkt_cli_class *cls = cmd->cls;
	char *xml = NULL;
	xmlDocPtr doc = NULL;
	int ret;

	if ((ret = mkt_object_pool(cli, cls, -2, &xml)) < 0 ||
	    (ret = mkt_doc_parse(&doc, xml, cls->pool_method, cls->pool_root)) < 0)
		goto cleanup;
	ret = mkt_object_output(cli, cls, xml, doc, 1);

 cleanup:
	if (doc)
		xmlFreeDoc(doc);
	free(xml);
	return ret;
}

int mkt_object_show(mkt_cli *cli, const mkt_cli_cmd *cmd, int argc, char **argv)
{
	const mkt_cli_class *cls = cmd->cls;
	char *method = method_name(cls, "info");
	char *xml = NULL;
	xmlDocPtr doc = NULL;
	long long id = -1;      /* one.user.info(-1): the caller itself */
	int ret;

	if (argc > 0 && (ret = mkt_object_resolve(cli, cls, argv[0], &id)) < 0)
		goto cleanup;
	if ((ret = mkt_client_call_string(cli->client, &xml, method, "i", (int)id)) < 0 ||
	    (ret = mkt_doc_parse(&doc, xml, method, cls->root)) < 0)
		goto cleanup;
	ret = mkt_object_output(cli, cls, xml, doc, 0);

 cleanup:
	if (doc)
		xmlFreeDoc(doc);
	free(xml);
	free(method);
	return ret;
}

int mkt_object_read_template(char **out, const char *path)
{
	return mkt_input_read(out, path, "template file");
}

void mkt_object_print_id(long long id)
{
	printf("ID: %lld\n", id);
}

int mkt_object_create(mkt_cli *cli, const mkt_cli_cmd *cmd, int argc, char **argv)
{
	char *method = method_name(cmd->cls, "allocate");
	char *tmpl = NULL;
	long long id;
	int ret;

	if ((ret = mkt_object_read_template(&tmpl, argv[0])) < 0 ||
	    (ret = mkt_client_call_id(cli->client, &id, method, "s", tmpl)) < 0)
		goto cleanup;
	mkt_object_print_id(id);

 cleanup:
	free(tmpl);
	free(method);
	return ret;
}

int mkt_object_update(mkt_cli *cli, const mkt_cli_cmd *cmd, int argc, char **argv)
{
	char *method = method_name(cmd->cls, "update");
	char *tmpl = NULL;
	long long id, rid;
	int ret;

	if ((ret = mkt_object_read_template(&tmpl, argv[1])) < 0 ||
	    (ret = mkt_object_resolve(cli, cmd->cls, argv[0], &id)) < 0)
		goto cleanup;
	ret = mkt_client_call_id(cli->client, &rid, method, "isi", (int)id,
				 tmpl, cli->append ? 1 : 0);

 cleanup:
	free(tmpl);
	free(method);
	return ret;
}

/* Resolve argv[0] and call <prefix>.<op>(id). */
static int call_on_id(mkt_cli *cli, const mkt_cli_class *cls, const char *op,
		      const char *arg)
{
	char *method = method_name(cls, op);
	long long id, rid;
	int ret;

	if ((ret = mkt_object_resolve(cli, cls, arg, &id)) < 0)
		goto cleanup;
	ret = mkt_client_call_id(cli->client, &rid, method, "i", (int)id);

 cleanup:
	free(method);
	return ret;
}

int mkt_object_delete(mkt_cli *cli, const mkt_cli_cmd *cmd, int argc, char **argv)
{
	return call_on_id(cli, cmd->cls, "delete", argv[0]);
}

/*
 * An octet such as 640 (or 0640) as the nine 0/1 flags of chmod:
 * owner, group, other × use (4), manage (2), admin (1).
 */
static int parse_octet(int out[9], const char *s)
{
	const char *digits = s;
	size_t i;

	if (strlen(digits) == 4 && digits[0] == '0')
		digits++;
	if (strlen(digits) != 3 || strspn(digits, "01234567") != 3)
		return mkt_object_usage("invalid permissions '%s': expected three octal digits such as 640",
					s);
	for (i = 0; i < 3; i++) {
		int d = digits[i] - '0';

		out[i * 3 + 0] = (d & 4) ? 1 : 0;
		out[i * 3 + 1] = (d & 2) ? 1 : 0;
		out[i * 3 + 2] = (d & 1) ? 1 : 0;
	}
	return 0;
}

int mkt_object_chmod(mkt_cli *cli, const mkt_cli_cmd *cmd, int argc, char **argv)
{
	char *method = method_name(cmd->cls, "chmod");
	int p[9];
	long long id, rid;
	int ret;

	if ((ret = parse_octet(p, argv[1])) < 0 ||
	    (ret = mkt_object_resolve(cli, cmd->cls, argv[0], &id)) < 0)
		goto cleanup;
	ret = mkt_client_call_id(cli->client, &rid, method, "iiiiiiiiii", (int)id,
				 p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7], p[8]);

 cleanup:
	free(method);
	return ret;
}

/* <prefix>.chown(id, uid, gid) with names resolved; NULL keeps (-1). */
static int do_chown(mkt_cli *cli, const mkt_cli_class *cls, const char *obj,
		    const char *user, const char *group)
{
	char *method = method_name(cls, "chown");
	long long id, uid = -1, gid = -1, rid;
	int ret;

	if ((ret = mkt_object_resolve(cli, cls, obj, &id)) < 0 ||
	    (user && (ret = mkt_object_resolve(cli, &mkt_cmd_user_class, user, &uid)) < 0) ||
	    (group && (ret = mkt_object_resolve(cli, &mkt_cmd_group_class, group, &gid)) < 0))
		goto cleanup;
	ret = mkt_client_call_id(cli->client, &rid, method, "iii", (int)id,
				 (int)uid, (int)gid);

 cleanup:
	free(method);
	return ret;
}

int mkt_object_chown(mkt_cli *cli, const mkt_cli_cmd *cmd, int argc, char **argv)
{
	return do_chown(cli, cmd->cls, argv[0], argv[1], argc > 2 ? argv[2] : NULL);
}

int mkt_object_chgrp(mkt_cli *cli, const mkt_cli_cmd *cmd, int argc, char **argv)
{
	return do_chown(cli, cmd->cls, argv[0], NULL, argv[1]);
}

int mkt_object_rename(mkt_cli *cli, const mkt_cli_cmd *cmd, int argc, char **argv)
{
	char *method = method_name(cmd->cls, "rename");
	long long id, rid;
	int ret;

	if (!*argv[1]) {
		ret = mkt_object_usage("the new name must not be empty");
		goto cleanup;
	}
	if ((ret = mkt_object_resolve(cli, cmd->cls, argv[0], &id)) < 0)
		goto cleanup;
	ret = mkt_client_call_id(cli->client, &rid, method, "is", (int)id, argv[1]);

 cleanup:
	free(method);
	return ret;
}

static int set_enabled(mkt_cli *cli, const mkt_cli_class *cls,
		       const char *arg, int enable)
{
	char *method = method_name(cls, "enable");
	long long id, rid;
	int ret;

	if ((ret = mkt_object_resolve(cli, cls, arg, &id)) < 0)
		goto cleanup;
	ret = mkt_client_call_id(cli->client, &rid, method, "ib", (int)id,
				 (xmlrpc_bool)(enable ? 1 : 0));

 cleanup:
	free(method);
	return ret;
}

int mkt_object_enable(mkt_cli *cli, const mkt_cli_cmd *cmd, int argc, char **argv)
{
	return set_enabled(cli, cmd->cls, argv[0], 1);
}

int mkt_object_disable(mkt_cli *cli, const mkt_cli_cmd *cmd, int argc, char **argv)
{
	return set_enabled(cli, cmd->cls, argv[0], 0);
}

/*
 * object.c: name resolution, output dispatch, templates built from
 * options and the handlers shared by every object class (list, show,
 * create, update, delete [--wait], chmod, chown, chgrp, rename, enable,
 * disable, lock, unlock).
 */
#include <config.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/error.h"
#include "common/template.h"
#include "common/util.h"

#include "doc.h"
#include "input.h"
#include "object.h"
#include "output.h"
#include "wait.h"

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

int mkt_object_filter(mkt_cli *cli, long long *out)
{
	*out = cli->filter;
	if (cli->filter_user)
		return mkt_object_resolve(cli, &mkt_cmd_user_class, cli->filter_user, out);
	return 0;
}

int mkt_object_info(mkt_cli *cli, const mkt_cli_class *cls, long long id,
		    xmlDocPtr *out, char **raw)
{
	char *method = method_name(cls, "info");
	char *xml = NULL;
	int ret;

	*out = NULL;
	if (raw)
		*raw = NULL;
	if ((ret = mkt_client_call_string(cli->client, &xml, method, "i", (int)id)) < 0 ||
	    (ret = mkt_doc_parse(out, xml, method, cls->root)) < 0)
		goto cleanup;
	if (raw)
		*raw = MKT_STEAL(xml);

 cleanup:
	free(xml);
	free(method);
	return ret;
}

const char *mkt_object_state_name(const mkt_cli_class *cls, xmlNodePtr obj)
{
	return mkt_output_enum(obj, "STATE", cls->states->names, cls->states->nnames);
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

	if (cls->warn) {
		cls->warn(stderr, root, pool);
		fflush(stderr);
	}
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
	long long filter = -2;
	int ret;

	if ((cmd->opts & MKT_CLI_OPT_FILTER) && (ret = mkt_object_filter(cli, &filter)) < 0)
		goto cleanup;
	if ((ret = mkt_object_pool(cli, cls, (int)filter, &xml)) < 0 ||
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
	char *xml = NULL;
	xmlDocPtr doc = NULL;
	long long id = -1;      /* one.user.info(-1): the caller itself */
	int ret;

	if ((argc > 0 && (ret = mkt_object_resolve(cli, cls, argv[0], &id)) < 0) ||
	    (ret = mkt_object_info(cli, cls, id, &doc, &xml)) < 0)
		goto cleanup;
	ret = mkt_object_output(cli, cls, xml, doc, 0);

 cleanup:
	if (doc)
		xmlFreeDoc(doc);
	free(xml);
	return ret;
}

int mkt_object_read_template(char **out, const char *path)
{
	return mkt_input_read(out, path, "template file");
}

void mkt_object_print_id(long long id)
{
	printf("ID: %lld\n", id);
	fflush(stdout);
}

int mkt_object_build_template(char **out, const char *base, const char *const *names,
			      const char *const *values, size_t n)
{
	mkt_template *t = NULL;
	mkt_buf b = MKT_BUF_INIT;
	size_t i;
	int ret;

	*out = NULL;
	if (!base)
		t = mkt_template_new();
	else if ((ret = mkt_template_parse_any(&t, base)) < 0)
		return ret;
	for (i = 0; i < n; i++)
		if (values[i])
			mkt_template_set(t, names[i], values[i]);
	mkt_template_format_text(t, &b);
	*out = mkt_buf_steal(&b);
	mkt_template_free(t);
	mkt_buf_free(&b);
	return 0;
}

/* Whether @s starts with "<scheme>://". */
static int is_url(const char *s)
{
	size_t n = strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+.-");

	return n > 0 && strncmp(s + n, "://", 3) == 0;
}

char *mkt_object_abs_source(const char *path)
{
	char *cwd;
	char *abs;

	if (path[0] == '/' || is_url(path))
		return mkt_strdup(path);
	if (!(cwd = getcwd(NULL, 0)))
		return mkt_strdup(path);    /* the daemon's error will name it */
	while (path[0] == '.' && path[1] == '/') {
		path += 2;
		while (*path == '/')
			path++;
	}
	abs = mkt_asprintf("%s%s%s", cwd, strcmp(cwd, "/") ? "/" : "", path);
	free(cwd);
	return abs;
}

char *mkt_object_basename(const char *path)
{
	const char *p = path, *start;
	size_t end;

	if (is_url(path)) {
		p = strstr(path, "://") + 3;
		p += strcspn(p, "/?#");         /* past the host */
		end = strcspn(p, "?#");
	} else {
		end = strlen(p);
	}
	while (end > 0 && p[end - 1] == '/')
		end--;
	start = p + end;
	while (start > p && start[-1] != '/')
		start--;
	if (start == p + end)
		return NULL;
	return mkt_strndup(start, (size_t)(p + end - start));
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

/* Resolve @arg into *id and call <prefix>.<op>(id). */
static int call_on_id(mkt_cli *cli, const mkt_cli_class *cls, const char *op,
		      const char *arg, long long *id)
{
	char *method = method_name(cls, op);
	long long rid;
	int ret;

	if ((ret = mkt_object_resolve(cli, cls, arg, id)) < 0)
		goto cleanup;
	ret = mkt_client_call_id(cli->client, &rid, method, "i", (int)*id);

 cleanup:
	free(method);
	return ret;
}

int mkt_object_delete(mkt_cli *cli, const mkt_cli_cmd *cmd, int argc, char **argv)
{
	long long id;
	int ret;

	if ((ret = call_on_id(cli, cmd->cls, "delete", argv[0], &id)) < 0)
		return ret;
	/* --wait: only for classes whose objects the broker removes */
	return cli->wait ? mkt_wait_gone(cli, cmd->cls, id) : 0;
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

int mkt_object_lock(mkt_cli *cli, const mkt_cli_cmd *cmd, int argc, char **argv)
{
	char *method = method_name(cmd->cls, "lock");
	long long id, rid;
	int ret;

	if ((ret = mkt_object_resolve(cli, cmd->cls, argv[0], &id)) < 0)
		goto cleanup;
	ret = mkt_client_call_id(cli->client, &rid, method, "iib", (int)id,
				 cli->lock_level ? cli->lock_level : 1, (xmlrpc_bool)0);

 cleanup:
	free(method);
	return ret;
}

int mkt_object_unlock(mkt_cli *cli, const mkt_cli_cmd *cmd, int argc, char **argv)
{
	long long id;

	return call_on_id(cli, cmd->cls, "unlock", argv[0], &id);
}

/*
 * object.c: the operations every pool object shares (see object.h).
 */
#include <config.h>

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "common/alloc.h"
#include "common/error.h"
#include "common/xml.h"
#include "object.h"
#include "user.h"

static const char *const perm_names[MKT_PERM_BITS] = {
	"OWNER_U", "OWNER_M", "OWNER_A", "GROUP_U", "GROUP_M", "GROUP_A",
	"OTHER_U", "OTHER_M", "OTHER_A",
};

static const char *const op_names[MKT_AUTH_LAST] = { "USE", "MANAGE", "ADMIN" };

void mkt_object_clear(mkt_object *obj)
{
	free(obj->uname);
	free(obj->gname);
	free(obj->name);
	mkt_template_free(obj->tmpl);
	memset(obj, 0, sizeof(*obj));
}

void mkt_object_free(const mkt_class *cls, mkt_object *obj)
{
	if (obj)
		cls->free(obj);
}

static int child_int(xmlNodePtr node, const char *name, int *out)
{
	long long v;
	int ret = mkt_xml_child_long(node, name, &v);

	if (ret == MKT_ENOTFOUND)
		return mkt_error_set(MKT_EINVAL, MKT_ERR_XML, "missing element %s", name);
	if (ret == 0)
		*out = (int)v;
	return ret;
}

int mkt_object_parse_common(mkt_object *obj, xmlNodePtr root)
{
	xmlNodePtr perms, lock, tmpl;
	int ret, i;

	if ((ret = child_int(root, "ID", &obj->id)) < 0 ||
	    (ret = child_int(root, "UID", &obj->uid)) < 0 ||
	    (ret = child_int(root, "GID", &obj->gid)) < 0)
		return ret;
	obj->uname = mkt_xml_child_text(root, "UNAME");
	obj->gname = mkt_xml_child_text(root, "GNAME");
	obj->name = mkt_xml_child_text(root, "NAME");
	if (!obj->name || !obj->uname || !obj->gname)
		return mkt_error_set(MKT_EINVAL, MKT_ERR_XML, "missing NAME, UNAME or GNAME");
	if ((perms = mkt_xml_child(root, "PERMISSIONS"))) {
		for (i = 0; i < MKT_PERM_BITS; i++) {
			int bit = 0;

			if ((ret = child_int(perms, perm_names[i], &bit)) < 0)
				return ret;
			obj->perms[i] = bit != 0;
		}
	}
	if ((lock = mkt_xml_child(root, "LOCK"))) {
		long long t = 0;

		if ((ret = child_int(lock, "LOCKED", &obj->lock_level)) < 0 ||
		    (ret = child_int(lock, "OWNER", &obj->lock_owner)) < 0 ||
		    (ret = child_int(lock, "REQ_ID", &obj->lock_req)) < 0 ||
		    (ret = mkt_xml_child_long(lock, "TIME", &t)) < 0)
			return ret;
		obj->lock_time = t;
	}
	if ((tmpl = mkt_xml_child(root, "TEMPLATE")))
		return mkt_template_parse_xml_node(&obj->tmpl, tmpl);
	obj->tmpl = mkt_template_new();
	return 0;
}

void mkt_object_format_head(const mkt_object *obj, mkt_buf *b)
{
	mkt_buf_add_elem_int(b, "ID", obj->id);
	mkt_buf_add_elem_int(b, "UID", obj->uid);
	mkt_buf_add_elem_int(b, "GID", obj->gid);
	mkt_buf_add_elem(b, "UNAME", obj->uname);
	mkt_buf_add_elem(b, "GNAME", obj->gname);
}

void mkt_object_format_lock(const mkt_object *obj, mkt_buf *b)
{
	if (obj->lock_level == MKT_LOCK_NONE)
		return;
	mkt_buf_add(b, "<LOCK>");
	mkt_buf_add_elem_int(b, "LOCKED", obj->lock_level);
	mkt_buf_add_elem_int(b, "OWNER", obj->lock_owner);
	mkt_buf_add_elem_int(b, "TIME", obj->lock_time);
	mkt_buf_add_elem_int(b, "REQ_ID", obj->lock_req);
	mkt_buf_add(b, "</LOCK>");
}

void mkt_object_format_perms(const mkt_object *obj, mkt_buf *b)
{
	int i;

	mkt_buf_add(b, "<PERMISSIONS>");
	for (i = 0; i < MKT_PERM_BITS; i++)
		mkt_buf_add_elem_int(b, perm_names[i], obj->perms[i]);
	mkt_buf_add(b, "</PERMISSIONS>");
}

/* oned's Quotas::to_xml order.  marketd keeps no quotas, but OpenNebula's
 * schemas name these sets, and the bindings generated from the schemas
 * reject a USER or GROUP without them: each is written empty. */
static const char *const quota_sets[] = {
	"DATASTORE_QUOTA", "NETWORK_QUOTA", "VM_QUOTA", "IMAGE_QUOTA",
};

void mkt_object_format_quotas(mkt_buf *b)
{
	size_t i;

	for (i = 0; i < sizeof(quota_sets) / sizeof(quota_sets[0]); i++)
		mkt_buf_printf(b, "<%s></%s>", quota_sets[i], quota_sets[i]);
}

void mkt_object_format_default_quotas(mkt_buf *b, const char *root)
{
	mkt_buf_printf(b, "<%s>", root);
	mkt_object_format_quotas(b);
	mkt_buf_printf(b, "</%s>", root);
}

void mkt_object_format_pool_quotas(mkt_buf *b, int id)
{
	mkt_buf_add(b, "<QUOTAS>");
	mkt_buf_add_elem_int(b, "ID", id);
	mkt_object_format_quotas(b);
	mkt_buf_add(b, "</QUOTAS>");
}

char *mkt_object_default_quotas(const char *root)
{
	mkt_buf b = MKT_BUF_INIT;

	mkt_object_format_default_quotas(&b, root);
	return mkt_buf_steal(&b);
}

void mkt_object_set_default_perms(mkt_object *obj)
{
	/* oned's default umask 177: the owner may use and manage, nobody else. */
	memset(obj->perms, 0, sizeof(obj->perms));
	obj->perms[0] = 1;
	obj->perms[1] = 1;
}

void mkt_object_format_progress(mkt_core *core, mkt_table t, int oid, mkt_buf *b)
{
	unsigned long long done, total;

	if (!mkt_core_progress_get(core, t, oid, &done, &total))
		return;
	mkt_buf_printf(b, "<PROGRESS><DONE>%llu</DONE><TOTAL>%llu</TOTAL></PROGRESS>", done, total);
}

int mkt_object_check_source(const mkt_principal *who, const char *source)
{
	if (!source || !*source)
		return 0;
	if (!strncasecmp(source, "http://", 7) || !strncasecmp(source, "https://", 8))
		return 0;
	if (who->admin)
		return 0;
	return mkt_error_set(MKT_EPERM, MKT_ERR_AUTH,
			     "Not authorized to read '%s' on the marketd host: only the oneadmin "
			     "group may use local paths; give an http(s) URL", source);
}

#define NAME_MAX_LEN 128
static const char name_forbidden[] = "&|:\\\";/'#{}$<>";

int mkt_object_validate_name(const char *name)
{
	const unsigned char *p;

	if (!name || !*name)
		return mkt_error_set(MKT_EINVAL, MKT_ERR_CORE, "Invalid NAME, it cannot be empty");
	if (strlen(name) > NAME_MAX_LEN)
		return mkt_error_set(MKT_EINVAL, MKT_ERR_CORE, "Invalid NAME, max length is %d",
				     NAME_MAX_LEN);
	if (strpbrk(name, name_forbidden))
		return mkt_error_set(MKT_EINVAL, MKT_ERR_CORE,
				     "Invalid NAME, it cannot contain the following characters: %s",
				     name_forbidden);
	for (p = (const unsigned char *)name; *p; p++) {
		if (*p < 0x20 || *p == 0x7f)
			return mkt_error_set(MKT_EINVAL, MKT_ERR_CORE,
					     "Invalid NAME, it cannot contain control characters");
	}
	return 0;
}

/* What stands for each character a name may not hold ("" drops it). */
static const struct {
	char c;
	const char *with;
} name_replacements[] = {
	{ '"', "" }, { '\'', "" }, { '#', "" }, { '$', "" },
	{ '&', "+" }, { '|', "-" }, { ':', "-" }, { '\\', "-" }, { ';', "-" }, { '/', "-" },
	{ '{', "(" }, { '<', "(" }, { '}', ")" }, { '>', ")" },
};

char *mkt_object_make_name(const char *text)
{
	mkt_buf b = MKT_BUF_INIT;
	const unsigned char *p;
	size_t i, len;
	char *name;

	for (p = (const unsigned char *)text; p && *p; p++) {
		const char *with = NULL;

		for (i = 0; i < sizeof(name_replacements) / sizeof(name_replacements[0]); i++)
			if (*p == (unsigned char)name_replacements[i].c)
				with = name_replacements[i].with;
		if (*p < 0x20 || *p == 0x7f || *p == ' ') {
			if (b.len && b.ptr[b.len - 1] != ' ')
				mkt_buf_addc(&b, ' ');
		} else if (with) {
			mkt_buf_add(&b, with);
		} else {
			mkt_buf_addc(&b, (char)*p);
		}
	}
	name = mkt_buf_steal(&b);
	len = strlen(name);
	if (len > NAME_MAX_LEN) {
		len = NAME_MAX_LEN;
		/* Back up over UTF-8 continuation bytes to a character start. */
		while (len > 0 && ((unsigned char)name[len] & 0xc0) == 0x80)
			len--;
	}
	while (len > 0 && name[len - 1] == ' ')
		len--;
	name[len] = '\0';
	if (!len) {
		free(name);
		return NULL;
	}
	return name;
}

typedef struct {
	const mkt_class *cls;
	mkt_object *obj;
} load_ctx;

static int parse_row(const mkt_store_row *row, void *payload)
{
	load_ctx *lc = payload;
	xmlDocPtr doc = NULL;
	int ret;

	if ((ret = mkt_xml_parse(&doc, row->body, strlen(row->body))) < 0)
		goto cleanup;
	ret = lc->cls->parse(&lc->obj, xmlDocGetRootElement(doc));

 cleanup:
	if (ret < 0)
		mkt_error_set(MKT_ERROR, MKT_ERR_STORE, "stored %s %d is corrupt: %s",
			      lc->cls->human_name, row->oid, mkt_error_message());
	xmlFreeDoc(doc);
	return ret;
}

int mkt_object_load(mkt_core *core, const mkt_class *cls, int id, mkt_object **out)
{
	load_ctx lc = { cls, NULL };
	int ret = mkt_store_load(core->store, cls->table, id, parse_row, &lc);

	if (ret == MKT_ENOTFOUND)
		return mkt_error_set(MKT_ENOTFOUND, MKT_ERR_CORE, "Error getting %s [%d].",
				     cls->human_name, id);
	if (ret < 0)
		return ret;
	*out = lc.obj;
	return 0;
}

int mkt_object_save(mkt_core *core, const mkt_class *cls, mkt_object *obj, mkt_store_op op)
{
	mkt_buf body = MKT_BUF_INIT;
	mkt_store_row row = {
		.oid = obj->id, .name = obj->name, .uid = obj->uid, .gid = obj->gid,
		.owner_u = obj->perms[0], .group_u = obj->perms[3], .other_u = obj->perms[6],
		.parent = -1, .state = 0,
	};
	int ret;

	cls->format(core, obj, MKT_FORMAT_STORE, &body);
	row.body = mkt_buf_cstr(&body);
	if (cls->row)
		cls->row(obj, &row);
	ret = mkt_store_write(core->store, cls->table, op, &row);
	mkt_buf_free(&body);
	return ret;
}

int mkt_object_check_name(mkt_core *core, const mkt_class *cls, const char *name,
			  int uid, int self)
{
	int other = -1;
	int ret = mkt_store_lookup_name(core->store, cls->table, name,
					cls->name_per_owner ? uid : -1, &other);

	if (ret == MKT_ENOTFOUND)
		return 0;
	if (ret < 0)
		return ret;
	if (other == self)
		return 0;
	return mkt_error_set(MKT_EEXISTS, MKT_ERR_CORE, "NAME is already taken by %s %d",
			     cls->xml_name, other);
}

int mkt_object_authorize(const mkt_principal *who, const mkt_class *cls,
			 const mkt_object *obj, mkt_auth_op op)
{
	if (who->admin)
		return 0;
	if ((who->uid == obj->uid && obj->perms[op]) ||
	    (mkt_principal_in_group(who, obj->gid) && obj->perms[3 + op]) ||
	    obj->perms[6 + op])
		return 0;
	return mkt_error_set(MKT_EPERM, MKT_ERR_AUTH, "Not authorized to perform %s %s [%d].",
			     op_names[op], cls->xml_name, obj->id);
}

/* A lock at level L forbids operations that need L or more (USE < MANAGE
 * < ADMIN); ALL forbids everything that honours locks. */
static int lock_covers(const mkt_object *obj, mkt_auth_op op)
{
	if (obj->lock_level == MKT_LOCK_NONE)
		return 0;
	if (obj->lock_level == MKT_LOCK_ALL)
		return 1;
	return (int)op + 1 >= obj->lock_level;
}

int mkt_object_get(mkt_core *core, const mkt_principal *who, const mkt_class *cls,
		   int id, mkt_auth_op op, int ignore_lock, mkt_object **out)
{
	mkt_object *obj = NULL;
	int ret;

	if ((ret = mkt_object_load(core, cls, id, &obj)) < 0)
		return ret;
	if (!ignore_lock && lock_covers(obj, op)) {
		ret = mkt_error_set(MKT_EPERM, MKT_ERR_CORE, "%s is locked. [%d].",
				    cls->xml_name, id);
		goto cleanup;
	}
	if ((ret = mkt_object_authorize(who, cls, obj, op)) < 0)
		goto cleanup;
	*out = MKT_STEAL(obj);

 cleanup:
	mkt_object_free(cls, obj);
	return ret;
}

int mkt_object_has_secrets(const mkt_class *cls, const mkt_object *obj)
{
	const char *const *name;

	for (name = cls->secrets; name && *name; name++) {
		if (mkt_template_get(obj->tmpl, *name))
			return 1;
	}
	return 0;
}

/* The class's secret attributes as @who may see them. */
static void hide_secrets(const mkt_class *cls, const mkt_principal *who, mkt_object *obj)
{
	const char *const *name;

	if (!cls->secrets || who->admin || who->uid == obj->uid)
		return;
	for (name = cls->secrets; *name; name++) {
		if (mkt_template_get(obj->tmpl, *name))
			mkt_template_set(obj->tmpl, *name, "****");
	}
}

int mkt_object_info(mkt_core *core, const mkt_principal *who, const mkt_class *cls,
		    int id, char **out_xml)
{
	mkt_buf b = MKT_BUF_INIT;
	mkt_object *obj = NULL;
	int ret;

	/* info is allowed on locked objects (oned's USE_NO_LCK). */
	if ((ret = mkt_object_get(core, who, cls, id, MKT_AUTH_USE, 1, &obj)) < 0)
		return ret;
	hide_secrets(cls, who, obj);
	cls->format(core, obj, MKT_FORMAT_VIEW, &b);
	*out_xml = mkt_buf_steal(&b);
	mkt_object_free(cls, obj);
	return 0;
}

int mkt_object_chmod(mkt_core *core, const mkt_principal *who, const mkt_class *cls,
		     int id, const int perms[MKT_PERM_BITS])
{
	mkt_object *obj = NULL;
	int ret, i, admin_bits = 0;

	for (i = 0; i < MKT_PERM_BITS; i++) {
		if (perms[i] < -1 || perms[i] > 1)
			return mkt_error_set(MKT_EINVAL, MKT_ERR_CORE,
					     "permission %s must be -1, 0 or 1, not %d",
					     perm_names[i], perms[i]);
	}
	if ((ret = mkt_core_begin(core)) < 0)
		return ret;
	if ((ret = mkt_object_get(core, who, cls, id, MKT_AUTH_MANAGE, 0, &obj)) < 0)
		goto cleanup;
	/* Changing who may administer an object is itself an ADMIN action. */
	for (i = 2; i < MKT_PERM_BITS; i += 3)
		admin_bits |= perms[i] != -1 && perms[i] != obj->perms[i];
	if (admin_bits && (ret = mkt_object_authorize(who, cls, obj, MKT_AUTH_ADMIN)) < 0)
		goto cleanup;
	for (i = 0; i < MKT_PERM_BITS; i++) {
		if (perms[i] != -1)
			obj->perms[i] = (unsigned char)perms[i];
	}
	ret = mkt_object_save(core, cls, obj, MKT_STORE_UPDATE);

 cleanup:
	mkt_object_free(cls, obj);
	return mkt_core_end(core, ret);
}

int mkt_object_chown(mkt_core *core, const mkt_principal *who, const mkt_class *cls,
		     int id, int uid, int gid)
{
	mkt_object *obj = NULL;
	char *uname = NULL, *gname = NULL;
	int ret;

	if ((ret = mkt_core_begin(core)) < 0)
		return ret;
	if ((ret = mkt_object_get(core, who, cls, id, MKT_AUTH_MANAGE, 0, &obj)) < 0)
		goto cleanup;
	/* Giving an object away needs admin rights; moving it to a group
	 * needs membership of that group (oned's default ACLs). */
	if (uid >= 0 && uid != obj->uid && !who->admin) {
		ret = mkt_error_set(MKT_EPERM, MKT_ERR_AUTH,
				    "Not authorized to perform MANAGE USER [%d].", uid);
		goto cleanup;
	}
	if (gid >= 0 && gid != obj->gid && !who->admin && !mkt_principal_in_group(who, gid)) {
		ret = mkt_error_set(MKT_EPERM, MKT_ERR_AUTH,
				    "Not authorized to perform USE GROUP [%d].", gid);
		goto cleanup;
	}
	if (uid >= 0) {
		if ((ret = mkt_user_name(core, uid, &uname)) < 0)
			goto cleanup;
		if ((ret = mkt_object_check_name(core, cls, obj->name, uid, obj->id)) < 0)
			goto cleanup;
		obj->uid = uid;
		free(obj->uname);
		obj->uname = MKT_STEAL(uname);
	}
	if (gid >= 0) {
		if ((ret = mkt_group_name(core, gid, &gname)) < 0)
			goto cleanup;
		obj->gid = gid;
		free(obj->gname);
		obj->gname = MKT_STEAL(gname);
	}
	ret = mkt_object_save(core, cls, obj, MKT_STORE_UPDATE);

 cleanup:
	free(uname);
	free(gname);
	mkt_object_free(cls, obj);
	return mkt_core_end(core, ret);
}

int mkt_object_rename(mkt_core *core, const mkt_principal *who, const mkt_class *cls,
		      int id, const char *name)
{
	mkt_object *obj = NULL;
	int ret;

	if ((ret = mkt_object_validate_name(name)) < 0)
		return ret;
	if ((ret = mkt_core_begin(core)) < 0)
		return ret;
	if ((ret = mkt_object_get(core, who, cls, id, MKT_AUTH_MANAGE, 0, &obj)) < 0)
		goto cleanup;
	if ((ret = mkt_object_check_name(core, cls, name, obj->uid, obj->id)) < 0)
		goto cleanup;
	free(obj->name);
	obj->name = mkt_strdup(name);
	if ((ret = mkt_object_save(core, cls, obj, MKT_STORE_UPDATE)) < 0)
		goto cleanup;
	if (cls->renamed)
		ret = cls->renamed(core, obj);

 cleanup:
	mkt_object_free(cls, obj);
	return mkt_core_end(core, ret);
}

/* Attributes only marketd writes: what ties the objects of one export
 * together (an undo deletes by them, so users must not forge them). */
static const char *const daemon_attrs[] = { "EXPORT_GROUP", "EXPORT_UNDONE" };

void mkt_object_strip_daemon_attrs(mkt_template *tmpl)
{
	size_t i;

	for (i = 0; i < sizeof(daemon_attrs) / sizeof(daemon_attrs[0]); i++)
		mkt_template_remove(tmpl, daemon_attrs[i]);
}

/* An update replaces the user's attributes, never marketd's. */
static void keep_daemon_attrs(const mkt_template *old, mkt_template *tmpl)
{
	size_t i;

	mkt_object_strip_daemon_attrs(tmpl);
	for (i = 0; i < sizeof(daemon_attrs) / sizeof(daemon_attrs[0]); i++) {
		const char *v = mkt_template_get(old, daemon_attrs[i]);

		if (v)
			mkt_template_set(tmpl, daemon_attrs[i], v);
	}
}

int mkt_object_update(mkt_core *core, const mkt_principal *who, const mkt_class *cls,
		      int id, const char *text, int merge)
{
	mkt_template *tmpl = NULL;
	mkt_object *obj = NULL;
	int ret;

	if ((ret = mkt_template_parse_any(&tmpl, text)) < 0)
		return ret;
	if ((ret = mkt_core_begin(core)) < 0) {
		mkt_template_free(tmpl);
		return ret;
	}
	if ((ret = mkt_object_get(core, who, cls, id, MKT_AUTH_MANAGE, 0, &obj)) < 0)
		goto cleanup;
	mkt_object_strip_daemon_attrs(tmpl);
	if (merge) {
		mkt_template_merge(obj->tmpl, tmpl);
		mkt_template_free(tmpl);
		tmpl = mkt_template_dup(obj->tmpl);
	}
	/* The class validates the new template before it replaces the old. */
	if (cls->update && (ret = cls->update(core, obj, tmpl)) < 0)
		goto cleanup;
	keep_daemon_attrs(obj->tmpl, tmpl);
	mkt_template_free(obj->tmpl);
	obj->tmpl = MKT_STEAL(tmpl);
	ret = mkt_object_save(core, cls, obj, MKT_STORE_UPDATE);

 cleanup:
	mkt_template_free(tmpl);
	mkt_object_free(cls, obj);
	return mkt_core_end(core, ret);
}

int mkt_object_lock(mkt_core *core, const mkt_principal *who, const mkt_class *cls,
		    int id, int level, int test)
{
	mkt_object *obj = NULL;
	int ret;

	if (!cls->lockable)
		return mkt_error_set(MKT_EACTION, MKT_ERR_CORE, "%s objects cannot be locked",
				     cls->xml_name);
	if (level < MKT_LOCK_USE || level > MKT_LOCK_ALL)
		return mkt_error_set(MKT_EINVAL, MKT_ERR_CORE,
				     "lock level must be 1 (use), 2 (manage), 3 (admin) or 4 (all), not %d",
				     level);
	if ((ret = mkt_core_begin(core)) < 0)
		return ret;
	if ((ret = mkt_object_get(core, who, cls, id, MKT_AUTH_MANAGE, 1, &obj)) < 0)
		goto cleanup;
	if (test && obj->lock_level != MKT_LOCK_NONE) {
		ret = mkt_error_set(MKT_EPERM, MKT_ERR_CORE, "%s is locked. [%d].",
				    cls->xml_name, id);
		goto cleanup;
	}
	obj->lock_level = level;
	obj->lock_owner = who->uid;
	obj->lock_time = (long long)time(NULL);
	obj->lock_req = ++core->req_id;
	ret = mkt_object_save(core, cls, obj, MKT_STORE_UPDATE);

 cleanup:
	mkt_object_free(cls, obj);
	return mkt_core_end(core, ret);
}

int mkt_object_unlock(mkt_core *core, const mkt_principal *who, const mkt_class *cls,
		      int id)
{
	mkt_object *obj = NULL;
	int ret;

	if ((ret = mkt_core_begin(core)) < 0)
		return ret;
	if ((ret = mkt_object_get(core, who, cls, id, MKT_AUTH_MANAGE, 1, &obj)) < 0)
		goto cleanup;
	/* Only whoever locked it (or an admin) may lift a lock. */
	if (obj->lock_level != MKT_LOCK_NONE && obj->lock_owner != who->uid && !who->admin) {
		ret = mkt_error_set(MKT_EPERM, MKT_ERR_AUTH,
				    "Not authorized to unlock %s [%d]: locked by user %d.",
				    cls->xml_name, id, obj->lock_owner);
		goto cleanup;
	}
	obj->lock_level = MKT_LOCK_NONE;
	obj->lock_owner = obj->lock_req = 0;
	obj->lock_time = 0;
	ret = mkt_object_save(core, cls, obj, MKT_STORE_UPDATE);

 cleanup:
	mkt_object_free(cls, obj);
	return mkt_core_end(core, ret);
}

int mkt_object_child_ids(mkt_core *core, mkt_table t, int parent, int **ids, size_t *n)
{
	mkt_store_query q;

	mkt_store_query_init(&q);
	q.parent = parent;
	return mkt_store_list_ids(core->store, t, &q, ids, n);
}

int mkt_object_count_children(mkt_core *core, mkt_table t, int parent, int *out)
{
	int *ids = NULL;
	size_t n = 0;
	int ret = mkt_object_child_ids(core, t, parent, &ids, &n);

	*out = (int)n;
	free(ids);
	return ret;
}

int mkt_object_format_child_ids(mkt_core *core, mkt_table t, int parent, mkt_buf *b)
{
	int *ids = NULL;
	size_t i, n = 0;
	int ret = mkt_object_child_ids(core, t, parent, &ids, &n);

	for (i = 0; i < n; i++)
		mkt_buf_add_elem_int(b, "ID", ids[i]);
	free(ids);
	return ret;
}

void mkt_object_query_for(const mkt_principal *who, mkt_store_query *q)
{
	q->all = who->admin;
	q->uid = who->uid;
	q->gids = who->gids;
	q->ngids = who->ngids;
}

typedef struct {
	const mkt_class *cls;
	const mkt_principal *who;
} pool_ctx;

static int pool_row(mkt_core *core, const mkt_store_row *row, mkt_buf *b, void *payload)
{
	const pool_ctx *pc = payload;
	const mkt_class *cls = pc->cls;
	load_ctx lc = { cls, NULL };
	int ret;

	if (cls->body_is_view) {
		mkt_buf_add(b, row->body);
		return 0;
	}
	if ((ret = parse_row(row, &lc)) < 0)
		return ret;
	hide_secrets(cls, pc->who, lc.obj);
	cls->format(core, lc.obj, MKT_FORMAT_POOL, b);
	mkt_object_free(cls, lc.obj);
	return 0;
}

int mkt_object_pool(mkt_core *core, const mkt_principal *who, const mkt_class *cls,
		    mkt_store_query *q, const char *root, char **out_xml)
{
	pool_ctx pc = { cls, who };

	mkt_object_query_for(who, q);
	return mkt_core_pool(core, cls->table, q, root, NULL, pool_row, &pc, out_xml);
}

/* oned's (filter, start_id, end_id) arguments, checked, as a query. */
static int pool_query(int filter, int start_id, int end_id, int parent, mkt_store_query *q)
{
	if (filter < -4)
		return mkt_error_set(MKT_EINVAL, MKT_ERR_CORE,
				     "filter must be -4 (group), -3 (mine), -2 (all), -1 (mine and group) or a user id, not %d",
				     filter);
	mkt_store_query_init(q);
	q->filter = filter;
	q->start_id = start_id;
	q->end_id = end_id;
	q->parent = parent;
	return 0;
}

int mkt_object_pool_filtered(mkt_core *core, const mkt_principal *who, const mkt_class *cls,
			     int filter, int start_id, int end_id, int parent, const char *root,
			     char **out_xml)
{
	mkt_store_query q;
	int ret;

	if ((ret = pool_query(filter, start_id, end_id, parent, &q)) < 0)
		return ret;
	return mkt_object_pool(core, who, cls, &q, root, out_xml);
}

struct mkt_pool_stream {
	mkt_store_cursor *cursor;
	char *head, *tail;            /* <ROOT> and </ROOT> */
	int step;                     /* 0 head, 1 rows, 2 tail, 3 done */
};

int mkt_object_pool_stream(mkt_core *core, const mkt_principal *who, const mkt_class *cls,
			   int filter, int start_id, int end_id, int parent, const char *root,
			   mkt_pool_stream **out)
{
	mkt_pool_stream *s;
	mkt_store_query q;
	int ret;

	if (!cls->body_is_view)
		return mkt_error_set(MKT_EINVAL, MKT_ERR_CORE, "%s pools are not streamed",
				     cls->human_name);
	if ((ret = pool_query(filter, start_id, end_id, parent, &q)) < 0)
		return ret;
	mkt_object_query_for(who, &q);
	s = mkt_calloc(1, sizeof(*s));
	if ((ret = mkt_store_cursor_open(core->store, cls->table, &q, &s->cursor)) < 0) {
		free(s);
		return ret;
	}
	s->head = mkt_asprintf("<%s>", root);
	s->tail = mkt_asprintf("</%s>", root);
	*out = s;
	return 0;
}

int mkt_pool_stream_next(mkt_pool_stream *s, const char **data, size_t *len)
{
	mkt_store_row row;
	int ret;

	switch (s->step) {
	case 0:
		s->step = 1;
		*data = s->head;
		break;
	case 1:
		if ((ret = mkt_store_cursor_next(s->cursor, &row)) < 0)
			return ret;
		if (ret > 0) {
			*data = row.body ? row.body : "";
			break;
		}
		s->step = 2;
		/* fall through */
	case 2:
		s->step = 3;
		*data = s->tail;
		break;
	default:
		return 0;
	}
	*len = strlen(*data);
	return 1;
}

void mkt_pool_stream_free(mkt_pool_stream *s)
{
	if (!s)
		return;
	mkt_store_cursor_close(s->cursor);
	free(s->head);
	free(s->tail);
	free(s);
}

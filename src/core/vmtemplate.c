/*
 * vmtemplate.c: VM templates and documents (see vmtemplate.h).
 */
#include <config.h>

#include <stdlib.h>
#include <time.h>

#include "common/alloc.h"
#include "common/error.h"
#include "common/xml.h"
#include "vmtemplate.h"

static void vt_free(mkt_object *obj)
{
	mkt_object_clear(obj);
	free(obj);
}

static int vt_parse(mkt_object **out, xmlNodePtr root)
{
	mkt_vmtemplate *t = mkt_calloc(1, sizeof(*t));
	long long v = 0;
	int ret;

	if ((ret = mkt_object_parse_common(&t->obj, root)) < 0 ||
	    (ret = mkt_xml_child_long(root, "REGTIME", &t->regtime)) < 0) {
		vt_free(&t->obj);
		return ret;
	}
	if (mkt_xml_child_long(root, "TYPE", &v) == 0)
		t->type = (int)v;
	*out = &t->obj;
	return 0;
}

/* Both in oned's order (vmtemplate.xsd, document.xsd): VMTEMPLATE
 * ID..GNAME NAME LOCK PERMISSIONS REGTIME TEMPLATE; DOCUMENT ID..GNAME NAME
 * TYPE PERMISSIONS LOCK TEMPLATE. */
static void template_format(mkt_core *core, const mkt_object *obj, mkt_format_mode mode,
			    mkt_buf *b)
{
	const mkt_vmtemplate *t = (const mkt_vmtemplate *)obj;

	mkt_buf_add(b, "<VMTEMPLATE>");
	mkt_object_format_head(obj, b);
	mkt_buf_add_elem(b, "NAME", obj->name);
	mkt_object_format_lock(obj, b);
	mkt_object_format_perms(obj, b);
	mkt_buf_add_elem_int(b, "REGTIME", t->regtime);
	mkt_template_format_xml(obj->tmpl, b, NULL);
	mkt_buf_add(b, "</VMTEMPLATE>");
}

static void document_format(mkt_core *core, const mkt_object *obj, mkt_format_mode mode,
			    mkt_buf *b)
{
	const mkt_vmtemplate *t = (const mkt_vmtemplate *)obj;

	mkt_buf_add(b, "<DOCUMENT>");
	mkt_object_format_head(obj, b);
	mkt_buf_add_elem(b, "NAME", obj->name);
	mkt_buf_add_elem_int(b, "TYPE", t->type);
	mkt_object_format_perms(obj, b);
	mkt_object_format_lock(obj, b);
	/* A document has no REGTIME in oned, and document.xsd allows none:
	 * marketd keeps its own in the store only. */
	if (mode == MKT_FORMAT_STORE)
		mkt_buf_add_elem_int(b, "REGTIME", t->regtime);
	mkt_template_format_xml(obj->tmpl, b, NULL);
	mkt_buf_add(b, "</DOCUMENT>");
}

/* Documents of different types may share a name (oned's document pool). */
static void document_row(const mkt_object *obj, mkt_store_row *row)
{
	row->parent = ((const mkt_vmtemplate *)obj)->type;
}

const mkt_class mkt_vmtemplate_class = {
	.xml_name = "VMTEMPLATE",
	.human_name = "template",
	.table = MKT_TABLE_TEMPLATE,
	.name_per_owner = 1,
	.lockable = 1,
	.body_is_view = 1,
	.parse = vt_parse,
	.format = template_format,
	.free = vt_free,
};

const mkt_class mkt_document_class = {
	.xml_name = "DOCUMENT",
	.human_name = "document",
	.table = MKT_TABLE_DOCUMENT,
	.name_per_owner = 1,
	.lockable = 1,
	.body_is_view = 0,        /* the stored body has REGTIME */
	.parse = vt_parse,
	.format = document_format,
	.free = vt_free,
	.row = document_row,
};

int mkt_vmtemplate_create(mkt_core *core, const mkt_class *cls, const mkt_principal *who,
			  const char *name, int type, mkt_template *tmpl, int *out_id)
{
	mkt_vmtemplate *t = mkt_calloc(1, sizeof(*t));
	/* oned names an unnamed document "document-<id>" (Document::insert);
	 * a VM template without a name is refused like any other object. */
	int unnamed = cls == &mkt_document_class && (!name || !*name);
	int ret;

	t->obj.tmpl = tmpl;
	if (!unnamed && (ret = mkt_object_validate_name(name)) < 0)
		goto cleanup;
	t->obj.uid = who->uid;
	t->obj.gid = who->gid;
	t->obj.uname = mkt_strdup(who->uname);
	t->obj.gname = mkt_strdup(who->gname);
	mkt_object_set_default_perms(&t->obj);
	t->regtime = (long long)time(NULL);
	t->type = type;
	if ((ret = mkt_core_begin(core)) < 0)
		goto cleanup;
	if ((ret = mkt_store_next_oid(core->store, cls->table, 0, &t->obj.id)) == 0) {
		t->obj.name = unnamed ? mkt_asprintf("document-%d", t->obj.id) : mkt_strdup(name);
		ret = mkt_object_check_name(core, cls, t->obj.name, who->uid, -1);
	}
	if (ret == 0 && (ret = mkt_object_save(core, cls, &t->obj, MKT_STORE_INSERT)) == 0)
		*out_id = t->obj.id;
	ret = mkt_core_end(core, ret);

 cleanup:
	vt_free(&t->obj);
	return ret;
}

int mkt_vmtemplate_allocate(mkt_core *core, const mkt_class *cls, const mkt_principal *who,
			    const char *text, int type, int *out_id)
{
	mkt_template *tmpl = NULL;
	char *name = NULL;
	int ret;

	if ((ret = mkt_template_parse_any(&tmpl, text)) < 0)
		return ret;
	/* EXPORT_GROUP would let an export's undo remove this object. */
	mkt_object_strip_daemon_attrs(tmpl);
	/* NAME is the object's, not a template attribute (oned erases it). */
	if (mkt_template_get(tmpl, "NAME"))
		name = mkt_strdup(mkt_template_get(tmpl, "NAME"));
	mkt_template_remove(tmpl, "NAME");
	ret = mkt_vmtemplate_create(core, cls, who, name, type, tmpl, out_id);
	free(name);
	return ret;
}

int mkt_vmtemplate_clone(mkt_core *core, const mkt_class *cls, const mkt_principal *who,
			 int id, const char *name, int recursive, int *out_id)
{
	mkt_object *src = NULL;
	mkt_template *copy;
	int ret;

	if ((ret = mkt_core_begin(core)) < 0)
		return ret;
	/* oned asks USE of the source (its lock included) and CREATE, which
	 * every marketd user has. */
	if ((ret = mkt_object_get(core, who, cls, id, MKT_AUTH_USE, 0, &src)) < 0)
		goto cleanup;
	/* A recursive clone copies the template's images into their
	 * datastores as new persistent images: not something marketd does. */
	if (recursive) {
		ret = mkt_error_set(MKT_EACTION, MKT_ERR_CORE,
				    "Cannot clone the images of %s %d: marketd clones templates only without their images (recursive = false)",
				    cls->human_name, id);
		goto cleanup;
	}
	copy = mkt_template_dup(src->tmpl);
	/* The copy is the caller's own, outside the source's export group. */
	mkt_object_strip_daemon_attrs(copy);
	ret = mkt_vmtemplate_create(core, cls, who, name, ((mkt_vmtemplate *)src)->type, copy,
				    out_id);

 cleanup:
	mkt_object_free(cls, src);
	return mkt_core_end(core, ret);
}

int mkt_vmtemplate_delete(mkt_core *core, const mkt_class *cls, const mkt_principal *who, int id)
{
	mkt_object *obj = NULL;
	int ret;

	if ((ret = mkt_core_begin(core)) < 0)
		return ret;
	if ((ret = mkt_object_get(core, who, cls, id, MKT_AUTH_MANAGE, 0, &obj)) == 0)
		ret = mkt_object_save(core, cls, obj, MKT_STORE_DELETE);
	mkt_object_free(cls, obj);
	return mkt_core_end(core, ret);
}

int mkt_vmtemplate_pool(mkt_core *core, const mkt_class *cls, const mkt_principal *who,
			int filter, int start_id, int end_id, int type, char **out_xml)
{
	return mkt_object_pool_filtered(core, who, cls, filter, start_id, end_id, type,
					cls == &mkt_document_class ? "DOCUMENT_POOL" :
					"VMTEMPLATE_POOL", out_xml);
}

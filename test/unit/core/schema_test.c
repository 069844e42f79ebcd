/*
 * schema_test.c: every object and pool document marketd answers has the
 * child elements, in the order, of OpenNebula's XML Schema for it
 * (share/doc/xsd/<object>.xsd and <object>_pool.xsd in OpenNebula's tree).
 *
 * The lists below are the contract.  They are written out here, one per
 * document shape, from the schemas' xs:sequence (an optional element the
 * instance has no reason to carry, such as LOCK on an unlocked object or
 * LOGIN_TOKEN, is left out, since the list is what one instance holds).
 * Each case builds its document through marketd's real core (a sqlite
 * store in a temporary directory), once with no children and once with
 * several, and compares the element names one by one.
 */
#include <config.h>

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/error.h"
#include "common/template.h"
#include "common/util.h"
#include "common/xml.h"
#include "core/core.h"
#include "core/datastore.h"
#include "core/image.h"
#include "core/market.h"
#include "core/marketapp.h"
#include "core/object.h"
#include "core/user.h"
#include "core/vmtemplate.h"

/* ---- the schemas' sequences ------------------------------------------- */

#define END NULL

static const char *const perms_seq[] = {
	"OWNER_U", "OWNER_M", "OWNER_A", "GROUP_U", "GROUP_M", "GROUP_A",
	"OTHER_U", "OTHER_M", "OTHER_A", END,
};

static const char *const quota_sets_seq[] = {
	"DATASTORE_QUOTA", "NETWORK_QUOTA", "VM_QUOTA", "IMAGE_QUOTA", END,
};

static const char *const pool_quotas_seq[] = {
	"ID", "DATASTORE_QUOTA", "NETWORK_QUOTA", "VM_QUOTA", "IMAGE_QUOTA", END,
};

/* user.xsd */
static const char *const user_seq[] = {
	"ID", "GID", "GROUPS", "GNAME", "NAME", "PASSWORD", "AUTH_DRIVER", "ENABLED",
	"TEMPLATE", "DATASTORE_QUOTA", "NETWORK_QUOTA", "VM_QUOTA", "IMAGE_QUOTA",
	"DEFAULT_USER_QUOTAS", END,
};

/* user_pool.xsd: USER without its quotas, QUOTAS beside it. */
static const char *const pool_user_seq[] = {
	"ID", "GID", "GROUPS", "GNAME", "NAME", "PASSWORD", "AUTH_DRIVER", "ENABLED",
	"TEMPLATE", END,
};

/* group.xsd */
static const char *const group_seq[] = {
	"ID", "NAME", "TEMPLATE", "USERS", "ADMINS", "DATASTORE_QUOTA", "NETWORK_QUOTA",
	"VM_QUOTA", "IMAGE_QUOTA", "DEFAULT_GROUP_QUOTAS", END,
};

/* group_pool.xsd */
static const char *const pool_group_seq[] = {
	"ID", "NAME", "TEMPLATE", "USERS", "ADMINS", END,
};

/* image.xsd (image_pool.xsd refers to it) */
static const char *const image_seq[] = {
	"ID", "UID", "GID", "UNAME", "GNAME", "NAME", "PERMISSIONS", "TYPE", "DISK_TYPE",
	"PERSISTENT", "REGTIME", "SOURCE", "PATH", "FORMAT", "FS", "SIZE", "STATE",
	"PREV_STATE", "RUNNING_VMS", "CLONING_OPS", "CLONING_ID", "TARGET_SNAPSHOT",
	"DATASTORE_ID", "DATASTORE", "VMS", "CLONES", "APP_CLONES", "TEMPLATE", "SNAPSHOTS",
	"BACKUP_INCREMENTS", "BACKUP_DISK_IDS", END,
};

static const char *const image_snapshots_seq[] = {
	"ALLOW_ORPHANS", "CURRENT_BASE", "NEXT_SNAPSHOT", END,
};

/* datastore.xsd */
static const char *const datastore_seq[] = {
	"ID", "UID", "GID", "UNAME", "GNAME", "NAME", "PERMISSIONS", "DS_MAD", "TM_MAD",
	"BASE_PATH", "TYPE", "DISK_TYPE", "STATE", "CLUSTERS", "TOTAL_MB", "FREE_MB",
	"USED_MB", "IMAGES", "TEMPLATE", END,
};

/* marketplace.xsd */
static const char *const market_seq[] = {
	"ID", "UID", "GID", "UNAME", "GNAME", "NAME", "STATE", "MARKET_MAD", "ZONE_ID",
	"TOTAL_MB", "FREE_MB", "USED_MB", "MARKETPLACEAPPS", "PERMISSIONS", "TEMPLATE", END,
};

/* marketplaceapp.xsd (an unlocked app: no LOCK) */
static const char *const app_seq[] = {
	"ID", "UID", "GID", "UNAME", "GNAME", "REGTIME", "NAME", "ZONE_ID", "ORIGIN_ID",
	"SOURCE", "MD5", "SIZE", "DESCRIPTION", "VERSION", "FORMAT", "APPTEMPLATE64",
	"MARKETPLACE_ID", "MARKETPLACE", "STATE", "TYPE", "PERMISSIONS", "TEMPLATE", END,
};

/* vmtemplate.xsd */
static const char *const vmtemplate_seq[] = {
	"ID", "UID", "GID", "UNAME", "GNAME", "NAME", "PERMISSIONS", "REGTIME", "TEMPLATE",
	END,
};

/* document.xsd */
static const char *const document_seq[] = {
	"ID", "UID", "GID", "UNAME", "GNAME", "NAME", "TYPE", "PERMISSIONS", "TEMPLATE", END,
};

/* ---- checking --------------------------------------------------------- */

static xmlNodePtr first_elem(xmlNodePtr n)
{
	while (n && n->type != XML_ELEMENT_NODE)
		n = n->next;
	return n;
}

/* The element children of @parent are exactly @seq, in order. */
static void check_children(xmlNodePtr parent, const char *const *seq, const char *where)
{
	xmlNodePtr c = first_elem(parent->children);
	size_t i;

	for (i = 0; seq[i]; i++, c = first_elem(c->next)) {
		ck_assert_msg(c != NULL, "%s: <%s> ends before %s", where,
			      (const char *)parent->name, seq[i]);
		ck_assert_msg(!strcmp((const char *)c->name, seq[i]),
			      "%s: <%s> child %zu is %s, the schema wants %s", where,
			      (const char *)parent->name, i, (const char *)c->name, seq[i]);
	}
	ck_assert_msg(c == NULL, "%s: <%s> has %s after its last child %s", where,
		      (const char *)parent->name, c ? (const char *)c->name : "", seq[i - 1]);
}

/* Parts every schema above spells out inside an object. */
static void check_nested(xmlNodePtr obj, const char *where)
{
	xmlNodePtr c;

	if ((c = mkt_xml_child(obj, "PERMISSIONS")))
		check_children(c, perms_seq, where);
	if ((c = mkt_xml_child(obj, "SNAPSHOTS")))
		check_children(c, image_snapshots_seq, where);
	if ((c = mkt_xml_child(obj, "DEFAULT_USER_QUOTAS")))
		check_children(c, quota_sets_seq, where);
	if ((c = mkt_xml_child(obj, "DEFAULT_GROUP_QUOTAS")))
		check_children(c, quota_sets_seq, where);
}

static xmlDocPtr parse_doc(const char *xml, const char *root)
{
	xmlDocPtr doc = NULL;

	ck_assert_msg(xml != NULL, "%s: no document: %s", root, mkt_error_message());
	ck_assert_int_eq(mkt_xml_parse(&doc, xml, strlen(xml)), 0);
	ck_assert_str_eq((const char *)xmlDocGetRootElement(doc)->name, root);
	return doc;
}

static void check_object(const char *xml, const char *root, const char *const *seq)
{
	xmlDocPtr doc = parse_doc(xml, root);

	check_children(xmlDocGetRootElement(doc), seq, root);
	check_nested(xmlDocGetRootElement(doc), root);
	xmlFreeDoc(doc);
}

/* A pool: @n times <@item> (each with @item_seq) and, when @quotas, its
 * <QUOTAS> right after it; then <@defaults> when not NULL. */
static void check_pool(const char *xml, const char *root, const char *item,
		       const char *const *item_seq, size_t n, int quotas, const char *defaults)
{
	xmlDocPtr doc = parse_doc(xml, root);
	xmlNodePtr c = first_elem(xmlDocGetRootElement(doc)->children);
	size_t i;

	for (i = 0; i < n; i++) {
		ck_assert_msg(c && !strcmp((const char *)c->name, item),
			      "%s: entry %zu is %s, not %s", root, i, c ? (const char *)c->name : "the end",
			      item);
		check_children(c, item_seq, root);
		check_nested(c, root);
		c = first_elem(c->next);
		if (quotas) {
			ck_assert_msg(c && !strcmp((const char *)c->name, "QUOTAS"),
				      "%s: no QUOTAS after entry %zu", root, i);
			check_children(c, pool_quotas_seq, root);
			c = first_elem(c->next);
		}
	}
	if (defaults) {
		ck_assert_msg(c && !strcmp((const char *)c->name, defaults),
			      "%s: %s after the entries, not %s", root, defaults,
			      c ? (const char *)c->name : "the end");
		check_children(c, quota_sets_seq, root);
		c = first_elem(c->next);
	}
	ck_assert_msg(c == NULL, "%s: unexpected %s after the entries", root,
		      c ? (const char *)c->name : "");
	xmlFreeDoc(doc);
}

/* ---- a core in a temporary directory --------------------------------- */

static char *dir;
static mkt_config *conf;
static mkt_store *store;
static mkt_core *core;
static const mkt_principal admin = { .uid = MKT_ONEADMIN_UID, .gid = MKT_ONEADMIN_GID,
				     .uname = (char *)"oneadmin", .gname = (char *)"oneadmin",
				     .admin = 1 };

static void write_text(const char *path, const char *text)
{
	ck_assert_int_eq(mkt_util_write_file(path, text, strlen(text), 0600), 0);
}

static void setup(void)
{
	char tmpl[] = "/tmp/mkt-schema-XXXXXX";
	char *conf_path, *auth_path, *db_path, *text;

	ck_assert_ptr_nonnull(mkdtemp(tmpl));
	dir = mkt_strdup(tmpl);
	conf_path = mkt_asprintf("%s/marketd.conf", dir);
	auth_path = mkt_asprintf("%s/one_auth", dir);
	db_path = mkt_asprintf("%s/marketd.db", dir);
	text = mkt_asprintf("DATA_DIR = %s\n"
			    "MARKET_MAD_CONF = [ NAME = \"one\", REQUIRED_ATTRS = \"\", "
			    "APP_ACTIONS = \"monitor\", PUBLIC = \"yes\" ]\n", dir);
	write_text(conf_path, text);
	write_text(auth_path, "oneadmin:secret\n");
	ck_assert_msg(mkt_config_load(&conf, conf_path) == 0, "%s", mkt_error_message());
	ck_assert_msg(mkt_store_open(&store, "sqlite", db_path) == 0, "%s", mkt_error_message());
	ck_assert_int_eq(mkt_core_new(&core, conf, store), 0);
	ck_assert_msg(mkt_core_bootstrap(core, auth_path) >= 0, "%s", mkt_error_message());
	ck_assert_msg(mkt_datastore_bootstrap(core) == 0, "%s", mkt_error_message());
	free(text);
	free(conf_path);
	free(auth_path);
	free(db_path);
}

static void teardown(void)
{
	char *cmd = mkt_asprintf("rm -rf '%s'", dir);

	mkt_core_free(core);
	mkt_store_close(store);
	mkt_config_free(conf);
	ck_assert_int_eq(system(cmd), 0);
	free(cmd);
	free(dir);
}

/* ---- cases ------------------------------------------------------------ */

START_TEST(test_user)
{
	int gids[] = { MKT_USERS_GID };
	char *xml = NULL;
	int i, id;

	ck_assert_int_eq(mkt_user_pool(core, &admin, &xml), 0);
	check_pool(xml, "USER_POOL", "USER", pool_user_seq, 1, 1, "DEFAULT_USER_QUOTAS");
	free(xml);
	for (i = 0; i < 3; i++) {
		char name[16];

		snprintf(name, sizeof(name), "u%d", i);
		ck_assert_int_eq(mkt_user_allocate(core, &admin, name, "pw", "core", gids, 1, &id),
				 0);
	}
	ck_assert_int_eq(mkt_user_pool(core, &admin, &xml), 0);
	check_pool(xml, "USER_POOL", "USER", pool_user_seq, 4, 1, "DEFAULT_USER_QUOTAS");
	free(xml);

	ck_assert_int_eq(mkt_user_info(core, &admin, id, &xml), 0);
	check_object(xml, "USER", user_seq);
	/* The schema's PASSWORD is the hash in oned: marketd never shows it. */
	ck_assert_ptr_null(strstr(xml, "$y$"));
	free(xml);
}
END_TEST

START_TEST(test_group)
{
	int gids[] = { 0 };
	char *xml = NULL;
	int gid, uid;

	ck_assert_int_eq(mkt_group_allocate(core, &admin, "empty", &gid), 0);
	ck_assert_int_eq(mkt_group_info(core, &admin, gid, &xml), 0);
	check_object(xml, "GROUP", group_seq);
	free(xml);

	gids[0] = gid;
	ck_assert_int_eq(mkt_user_allocate(core, &admin, "a", "pw", "core", gids, 1, &uid), 0);
	ck_assert_int_eq(mkt_user_allocate(core, &admin, "b", "pw", "core", gids, 1, &uid), 0);
	ck_assert_int_eq(mkt_group_info(core, &admin, gid, &xml), 0);
	check_object(xml, "GROUP", group_seq);
	ck_assert_ptr_nonnull(strstr(xml, "<USERS><ID>"));
	free(xml);

	ck_assert_int_eq(mkt_group_pool(core, &admin, &xml), 0);
	check_pool(xml, "GROUP_POOL", "GROUP", pool_group_seq, 3, 1, "DEFAULT_GROUP_QUOTAS");
	free(xml);
}
END_TEST

START_TEST(test_image)
{
	char *xml = NULL, *path = mkt_asprintf("%s/content", dir);
	int i, id;

	ck_assert_int_eq(mkt_image_pool(core, &admin, -2, -1, -1, &xml), 0);
	check_pool(xml, "IMAGE_POOL", "IMAGE", image_seq, 0, 0, NULL);
	free(xml);
	write_text(path, "x");
	for (i = 0; i < 3; i++) {
		char *t = mkt_asprintf("NAME = \"img%d\"\nPATH = \"%s\"\n", i, path);

		ck_assert_msg(mkt_image_allocate(core, &admin, t, MKT_DEFAULT_DATASTORE, &id) == 0,
			      "%s", mkt_error_message());
		free(t);
	}
	ck_assert_int_eq(mkt_image_fill_done(core, id, 1, "raw", NULL, NULL, NULL), 0);
	ck_assert_int_eq(mkt_image_pool(core, &admin, -2, -1, -1, &xml), 0);
	check_pool(xml, "IMAGE_POOL", "IMAGE", image_seq, 3, 0, NULL);
	free(xml);
	ck_assert_int_eq(mkt_object_info(core, &admin, &mkt_image_class, id, &xml), 0);
	check_object(xml, "IMAGE", image_seq);
	free(xml);
	free(path);
}
END_TEST

START_TEST(test_datastore)
{
	char *xml = NULL, *text = mkt_asprintf("NAME = \"second\"\nBASE_PATH = \"%s/ds2\"\n", dir);
	int id;

	ck_assert_int_eq(mkt_datastore_pool(core, &admin, &xml), 0);
	check_pool(xml, "DATASTORE_POOL", "DATASTORE", datastore_seq, 1, 0, NULL);
	free(xml);
	ck_assert_msg(mkt_datastore_allocate(core, &admin, text, &id) == 0, "%s",
		      mkt_error_message());
	ck_assert_int_eq(mkt_datastore_pool(core, &admin, &xml), 0);
	check_pool(xml, "DATASTORE_POOL", "DATASTORE", datastore_seq, 2, 0, NULL);
	free(xml);
	ck_assert_int_eq(mkt_object_info(core, &admin, &mkt_datastore_class, id, &xml), 0);
	check_object(xml, "DATASTORE", datastore_seq);
	free(xml);
	free(text);
}
END_TEST

START_TEST(test_market_and_app)
{
	char *in = NULL, *xml = NULL, *in_path;
	const char *top = getenv("MKT_SRCDIR");
	xmlDocPtr doc = NULL;
	mkt_object *obj = NULL;
	mkt_buf b = MKT_BUF_INIT;
	mkt_pool_stream *stream = NULL;
	const char *piece;
	size_t len;
	int n;

	/* Bootstrap made market 0, OpenNebula Public. */
	ck_assert_int_eq(mkt_market_pool(core, &admin, &xml), 0);
	check_pool(xml, "MARKETPLACE_POOL", "MARKETPLACE", market_seq, 1, 0, NULL);
	free(xml);
	ck_assert_int_eq(mkt_object_info(core, &admin, &mkt_market_class, 0, &xml), 0);
	check_object(xml, "MARKETPLACE", market_seq);
	free(xml);

	/* The app pool, as one.marketapppool.info sends it: streamed. */
	ck_assert_int_eq(mkt_object_pool_stream(core, &admin, &mkt_app_class, -2, -1, -1, -1,
						"MARKETPLACEAPP_POOL", &stream), 0);
	while ((n = mkt_pool_stream_next(stream, &piece, &len)) > 0)
		mkt_buf_addn(&b, piece, len);
	ck_assert_int_eq(n, 0);
	mkt_pool_stream_free(stream);
	check_pool(mkt_buf_cstr(&b), "MARKETPLACEAPP_POOL", "MARKETPLACEAPP", app_seq, 0, 0, NULL);
	mkt_buf_free(&b);
	/* An app needs a driver to exist; its format code runs on oned's own. */
	in_path = mkt_asprintf("%s/test/unit/core/object-in/app-oned.xml", top ? top : ".");
	ck_assert_int_eq(mkt_util_read_file(&in, in_path, 1 << 20), 0);
	ck_assert_int_eq(mkt_xml_parse(&doc, in, strlen(in)), 0);
	ck_assert_int_eq(mkt_app_class.parse(&obj, xmlDocGetRootElement(doc)), 0);
	mkt_app_class.format(core, obj, MKT_FORMAT_VIEW, &b);
	check_object(mkt_buf_cstr(&b), "MARKETPLACEAPP", app_seq);
	mkt_object_free(&mkt_app_class, obj);
	mkt_buf_free(&b);
	xmlFreeDoc(doc);
	free(in);
	free(in_path);
}
END_TEST

static void check_templates(const mkt_class *cls, int type, const char *root,
			    const char *pool_root, const char *const *seq)
{
	char *xml = NULL;
	int i, id;

	ck_assert_int_eq(mkt_vmtemplate_pool(core, cls, &admin, -2, -1, -1, -1, &xml), 0);
	check_pool(xml, pool_root, root, seq, 0, 0, NULL);
	free(xml);
	for (i = 0; i < 3; i++) {
		char name[16];
		mkt_template *t = NULL;

		snprintf(name, sizeof(name), "t%d", i);
		ck_assert_int_eq(mkt_template_parse_any(&t, "CPU = \"1\"\nMEMORY = \"64\"\n"), 0);
		ck_assert_msg(mkt_vmtemplate_create(core, cls, &admin, name, type, t, &id) == 0,
			      "%s", mkt_error_message());
	}
	ck_assert_int_eq(mkt_vmtemplate_pool(core, cls, &admin, -2, -1, -1, -1, &xml), 0);
	check_pool(xml, pool_root, root, seq, 3, 0, NULL);
	free(xml);
	ck_assert_int_eq(mkt_object_info(core, &admin, cls, id, &xml), 0);
	check_object(xml, root, seq);
	free(xml);
}

START_TEST(test_vmtemplate)
{
	check_templates(&mkt_vmtemplate_class, 0, "VMTEMPLATE", "VMTEMPLATE_POOL",
			vmtemplate_seq);
}
END_TEST

START_TEST(test_document)
{
	check_templates(&mkt_document_class, 100, "DOCUMENT", "DOCUMENT_POOL", document_seq);
}
END_TEST

static Suite *schema_suite(void)
{
	Suite *s = suite_create("schema");
	TCase *tc = tcase_create("documents");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_user);
	tcase_add_test(tc, test_group);
	tcase_add_test(tc, test_image);
	tcase_add_test(tc, test_datastore);
	tcase_add_test(tc, test_market_and_app);
	tcase_add_test(tc, test_vmtemplate);
	tcase_add_test(tc, test_document);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(schema_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

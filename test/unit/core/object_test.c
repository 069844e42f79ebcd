/*
 * object_test.c: object XML parse/format against golden files, the
 * permission checks, and name validation.
 *
 * Each DO_TEST case parses object-in/<case>.xml and compares the
 * formatted result with object-out/<case>.xml.  MKT_TEST_REGENERATE=1
 * rewrites the expected files (review the diff like code).
 */
#include <config.h>

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/error.h"
#include "common/util.h"
#include "common/xml.h"
#include "core/market.h"
#include "core/marketapp.h"
#include "core/object.h"

static const struct {
	const char *name;
	const mkt_class *cls;
} xml_cases[] = {
	{ "market-oned", &mkt_market_class },
	{ "app-oned", &mkt_app_class },
	{ "app-oned-locked", &mkt_app_class },
	{ "app-escapes", &mkt_app_class },
};

static char *srcpath(const char *dir, const char *name)
{
	const char *top = getenv("MKT_SRCDIR");

	return mkt_asprintf("%s/test/unit/core/%s/%s.xml", top ? top : ".", dir, name);
}

START_TEST(test_xml_roundtrip)
{
	char *in_path = srcpath("object-in", xml_cases[_i].name);
	char *out_path = srcpath("object-out", xml_cases[_i].name);
	char *in = NULL, *expect = NULL;
	mkt_object *obj = NULL, *again = NULL;
	mkt_buf b = MKT_BUF_INIT, b2 = MKT_BUF_INIT;
	xmlDocPtr doc = NULL, doc2 = NULL;

	ck_assert_int_eq(mkt_util_read_file(&in, in_path, 1 << 20), 0);
	ck_assert_int_eq(mkt_xml_parse(&doc, in, strlen(in)), 0);
	ck_assert_msg(xml_cases[_i].cls->parse(&obj, xmlDocGetRootElement(doc)) == 0,
		      "%s: %s", xml_cases[_i].name, mkt_error_message());
	/* for_store=1: no core needed (derived parts left out). */
	xml_cases[_i].cls->format(NULL, obj, 1, &b);
	mkt_buf_addc(&b, '\n');

	if (getenv("MKT_TEST_REGENERATE"))
		ck_assert_int_eq(mkt_util_write_file(out_path, b.ptr, b.len, 0644), 0);
	ck_assert_int_eq(mkt_util_read_file(&expect, out_path, 1 << 20), 0);
	ck_assert_str_eq(mkt_buf_cstr(&b), expect);

	/* Formatting is a fixed point: parse(format(x)) formats the same. */
	ck_assert_int_eq(mkt_xml_parse(&doc2, b.ptr, b.len), 0);
	ck_assert_int_eq(xml_cases[_i].cls->parse(&again, xmlDocGetRootElement(doc2)), 0);
	xml_cases[_i].cls->format(NULL, again, 1, &b2);
	mkt_buf_addc(&b2, '\n');
	ck_assert_str_eq(mkt_buf_cstr(&b2), mkt_buf_cstr(&b));

	mkt_object_free(xml_cases[_i].cls, obj);
	mkt_object_free(xml_cases[_i].cls, again);
	xmlFreeDoc(doc);
	xmlFreeDoc(doc2);
	mkt_buf_free(&b);
	mkt_buf_free(&b2);
	free(in);
	free(expect);
	free(in_path);
	free(out_path);
}
END_TEST

START_TEST(test_parse_errors)
{
	static const char *const bad[] = {
		"<MARKETPLACE><UID>0</UID></MARKETPLACE>",
		"<MARKETPLACE><ID>x</ID><UID>0</UID><GID>0</GID></MARKETPLACE>",
		"<MARKETPLACEAPP><ID>1</ID><UID>0</UID><GID>0</GID><UNAME>a</UNAME><GNAME>b</GNAME>"
		"<NAME>n</NAME></MARKETPLACEAPP>",
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		xmlDocPtr doc = NULL;
		mkt_object *obj = NULL;
		const mkt_class *cls = strstr(bad[i], "APP") ? &mkt_app_class : &mkt_market_class;

		ck_assert_int_eq(mkt_xml_parse(&doc, bad[i], strlen(bad[i])), 0);
		ck_assert_int_lt(cls->parse(&obj, xmlDocGetRootElement(doc)), 0);
		ck_assert_ptr_null(obj);
		xmlFreeDoc(doc);
	}
}
END_TEST

/* who: uid 5 in groups {10}; object owned by uid/gid with perms. */
static const struct {
	int admin, obj_uid, obj_gid;
	const char *perms;          /* 9 chars of 0/1 */
	mkt_auth_op op;
	int allowed;
} auth_cases[] = {
	{ 1, 0, 0, "000000000", MKT_AUTH_ADMIN, 1 },   /* admin: always */
	{ 0, 5, 1, "110000000", MKT_AUTH_USE, 1 },     /* owner use */
	{ 0, 5, 1, "110000000", MKT_AUTH_MANAGE, 1 },
	{ 0, 5, 1, "110000000", MKT_AUTH_ADMIN, 0 },
	{ 0, 5, 1, "000000000", MKT_AUTH_USE, 0 },     /* owner without bits */
	{ 0, 6, 10, "110100000", MKT_AUTH_USE, 1 },    /* group use */
	{ 0, 6, 10, "110100000", MKT_AUTH_MANAGE, 0 },
	{ 0, 6, 11, "110100000", MKT_AUTH_USE, 0 },    /* not my group */
	{ 0, 6, 11, "110000100", MKT_AUTH_USE, 1 },    /* other use */
	{ 0, 6, 11, "110000110", MKT_AUTH_MANAGE, 1 },
	{ 0, 6, 11, "111111110", MKT_AUTH_ADMIN, 0 },
	{ 0, 5, 10, "000000100", MKT_AUTH_USE, 1 },    /* bits are OR'd */
};

START_TEST(test_authorize)
{
	int gids[] = { 10 };
	mkt_principal who = { .uid = 5, .gid = 10, .gids = gids, .ngids = 1 };
	mkt_object obj = { .id = 42 };
	int i, ret;

	who.admin = auth_cases[_i].admin;
	obj.uid = auth_cases[_i].obj_uid;
	obj.gid = auth_cases[_i].obj_gid;
	for (i = 0; i < MKT_PERM_BITS; i++)
		obj.perms[i] = auth_cases[_i].perms[i] == '1';
	ret = mkt_object_authorize(&who, &mkt_app_class, &obj, auth_cases[_i].op);
	ck_assert_msg((ret == 0) == auth_cases[_i].allowed, "case %d: got %d", _i, ret);
	if (ret != 0) {
		ck_assert_int_eq(ret, MKT_EPERM);
		ck_assert_ptr_nonnull(strstr(mkt_error_message(), "Not authorized to perform"));
		ck_assert_ptr_nonnull(strstr(mkt_error_message(), "MARKETPLACEAPP [42]"));
	}
}
END_TEST

START_TEST(test_validate_name)
{
	static const struct { const char *name; int ok; } cases[] = {
		{ "ubuntu 22.04", 1 }, { "a-b_c.d", 1 }, { "", 0 }, { "a/b", 0 }, { "a\"b", 0 },
		{ "a#b", 0 }, { "a\nb", 0 }, { "a:b", 0 },
	};
	char longname[200];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		ck_assert_msg((mkt_object_validate_name(cases[i].name) == 0) == cases[i].ok,
			      "name '%s'", cases[i].name);
	ck_assert_int_eq(mkt_object_validate_name(NULL), MKT_EINVAL);
	memset(longname, 'x', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	ck_assert_int_eq(mkt_object_validate_name(longname), MKT_EINVAL);
	ck_assert_ptr_nonnull(strstr(mkt_error_message(), "max length is 128"));
}
END_TEST

/* Names made from catalog names: valid, readable, NULL when nothing is
 * left. */
static const struct {
	const char *in, *out;
} made_names[] = {
	{ "Ubuntu \"Noble\" 24.04", "Ubuntu Noble 24.04" },
	{ "a/b:c|d;e\\f", "a-b-c-d-e-f" },
	{ "{x} <y> & $z #1 'q'", "(x) (y) + z 1 q" },
	{ "  tab\there\n\nnew  ", "tab here new" },
	{ "plain name", "plain name" },
	{ "\"\"''##", NULL },
	{ "", NULL },
};

START_TEST(test_make_name)
{
	char *got = mkt_object_make_name(made_names[_i].in);

	if (!made_names[_i].out) {
		ck_assert_ptr_null(got);
		return;
	}
	ck_assert_ptr_nonnull(got);
	ck_assert_str_eq(got, made_names[_i].out);
	ck_assert_int_eq(mkt_object_validate_name(got), 0);
	free(got);
}
END_TEST

START_TEST(test_make_name_long_utf8)
{
	/* 100 two-byte characters: cut at 128 bytes, never inside one. */
	char in[201], *got;
	int i;

	for (i = 0; i < 100; i++)
		memcpy(in + 2 * i, "\xc3\xa9", 2);
	in[200] = '\0';
	got = mkt_object_make_name(in);
	ck_assert_ptr_nonnull(got);
	ck_assert_uint_eq(strlen(got), 128);
	ck_assert_int_eq(mkt_object_validate_name(got), 0);
	free(got);
	in[1] = 'x';            /* an odd cut point: 127 bytes then */
	memmove(in + 1, in + 2, 199);
	got = mkt_object_make_name(in);
	ck_assert_uint_eq(strlen(got), 127);
	free(got);
}
END_TEST

START_TEST(test_app_types)
{
	int t = -1;

	ck_assert_int_eq(mkt_app_type_parse("image", &t), 0);
	ck_assert_int_eq(t, MKT_APP_IMAGE);
	ck_assert_int_eq(mkt_app_type_parse("Service_Template", &t), 0);
	ck_assert_int_eq(t, MKT_APP_SERVICE_TEMPLATE);
	ck_assert_int_eq(mkt_app_type_parse("disk", &t), MKT_EINVAL);
	ck_assert_str_eq(mkt_app_type_name(MKT_APP_VMTEMPLATE), "VMTEMPLATE");
	ck_assert_str_eq(mkt_app_type_name(99), "UNKNOWN");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("object");
	TCase *tc = tcase_create("object");
	SRunner *sr;
	int failed;

	tcase_add_loop_test(tc, test_xml_roundtrip, 0,
			    (int)(sizeof(xml_cases) / sizeof(xml_cases[0])));
	tcase_add_test(tc, test_parse_errors);
	tcase_add_loop_test(tc, test_authorize, 0,
			    (int)(sizeof(auth_cases) / sizeof(auth_cases[0])));
	tcase_add_test(tc, test_validate_name);
	tcase_add_loop_test(tc, test_make_name, 0, sizeof(made_names) / sizeof(made_names[0]));
	tcase_add_test(tc, test_make_name_long_utf8);
	tcase_add_test(tc, test_app_types);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

/*
 * one_catalog_test.c: the one driver's catalog conversion (drivers/one/
 * catalog.h), read back with marketd's own template parser.
 *
 * The Python tests read the APP lines with the conformance kit's parser;
 * this one proves that what marketd itself parses (mkt_template_parse(),
 * as the monitor reply and then each APP template are parsed) is what the
 * catalog said: quotes, backslashes, newlines and UTF-8 in a description,
 * vectors, and the skipped appliances.
 */
#include <config.h>

#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "common/template.h"
#include "common/util.h"
#include "catalog.h"
#include "driver.h"

#define URL "http://h/"
#define DESC "a \\\"quoted\\\" C:\\\\dir\\\\ \\\\\\nline 2: \\u00fcml\\u00e4ut \\u65e5\\u672c"
#define DESC_C "a \"quoted\" C:\\dir\\ \\\nline 2: \xc3\xbcml\xc3\xa4ut \xe6\x97\xa5\xe6\x9c\xac"

static const char catalog_json[] =
	"{\"appliances\": ["
	" {\"_id\": {\"$oid\": \"a1\"}, \"name\": \"img\", \"short_description\": \"" DESC "\","
	"  \"files\": [{\"size\": \"1048577\", \"md5\": \"m\", \"dev_prefix\": \"vd\"}],"
	"  \"opennebula_template\": \"{\\\"CONTEXT\\\": {\\\"X\\\": \\\"a\\\\\\\"b\\\"}, \\\"NIC\\\": [{\\\"N\\\": 1}, {\\\"N\\\": 2}]}\"},"
	" {\"_id\": {\"$oid\": \"a2\"}, \"name\": \"bad\", \"files\": {}},"
	" {\"_id\": {\"$oid\": \"a3\"}, \"name\": \"vm \\\"x\\\"\", \"type\": \"VMTEMPLATE\","
	"  \"disks\": [\"img\", \"other \\\\ disk\"]},"
	" 42,"
	" {\"_id\": {\"$oid\": \"../x\"}, \"name\": \"evil id\"}"
	"]}";

/* The monitor result as marketd parses it, its APP values decoded and
 * parsed in turn.  Returns how many; @out[i] are the app templates. */
static size_t parse_apps(mkt_template **out, size_t max)
{
	mkt_template *result = NULL;
	unsigned char *text;
	size_t i, n = 0, len;
	const mkt_tattr *a;

	ck_assert_int_eq(mkt_template_parse(&result, mkt_drv_results()), 0);
	for (i = 0; i < mkt_template_size(result); i++) {
		a = mkt_template_at(result, i);
		ck_assert_str_eq(mkt_tattr_name(a), "APP");
		ck_assert_int_lt(n, max);
		ck_assert_int_eq(mkt_util_base64_decode(&text, &len, mkt_tattr_value(a)), 0);
		ck_assert_int_eq(mkt_template_parse(&out[n++], (const char *)text), 0);
		free(text);
	}
	mkt_template_free(result);
	return n;
}

static mkt_template *decode64(const mkt_template *t, const char *name)
{
	mkt_template *out = NULL;
	unsigned char *text;
	size_t len;

	ck_assert_ptr_nonnull(mkt_template_get(t, name));
	ck_assert_int_eq(mkt_util_base64_decode(&text, &len, mkt_template_get(t, name)), 0);
	ck_assert_int_eq(mkt_template_parse(&out, (const char *)text), 0);
	free(text);
	return out;
}

START_TEST(test_round_trip)
{
	one_catalog_stats stats;
	mkt_template *apps[8] = { NULL }, *vm;
	const mkt_tattr *a;
	size_t n, i;

	mkt_drv_results_reset();
	ck_assert_int_eq(one_catalog_convert(URL, URL "appliance", catalog_json,
					     strlen(catalog_json), &stats), MKT_DRV_OK);
	ck_assert_uint_eq(stats.apps, 2);
	ck_assert_uint_eq(stats.skipped, 3);
	n = parse_apps(apps, 8);
	ck_assert_uint_eq(n, 2);

	ck_assert_str_eq(mkt_template_get(apps[0], "DESCRIPTION"), DESC_C);
	ck_assert_str_eq(mkt_template_get(apps[0], "SIZE"), "2");
	ck_assert_str_eq(mkt_template_get(apps[0], "SOURCE"), URL "appliance/a1/download/0");
	vm = decode64(apps[0], "VMTEMPLATE64");
	a = mkt_template_find(vm, "CONTEXT");
	ck_assert_str_eq(mkt_tattr_vector_get(a, "X"), "a\"b");
	ck_assert_uint_eq(mkt_template_count(vm, "NIC"), 2);
	ck_assert_str_eq(mkt_template_get(vm, "SCHED_REQUIREMENTS"), "HYPERVISOR=kvm");
	mkt_template_free(vm);

	ck_assert_str_eq(mkt_template_get(apps[1], "NAME"), "vm \"x\"");
	ck_assert_uint_eq(mkt_template_count(apps[1], "DISK"), 2);
	for (i = 0; i < mkt_template_size(apps[1]); i++) {
		a = mkt_template_at(apps[1], i);
		if (!strcmp(mkt_tattr_name(a), "DISK") && !strcmp(mkt_tattr_vector_get(a, "NAME"), "1"))
			ck_assert_str_eq(mkt_tattr_vector_get(a, "APP"), "other \\ disk");
	}
	for (i = 0; i < n; i++)
		mkt_template_free(apps[i]);
	mkt_drv_results_reset();
}
END_TEST

START_TEST(test_bad_documents)
{
	static const char *const bad[] = {
		"", "<html></html>", "[1]", "{\"appliances\": {}}", "{\"apps\": []}", "null",
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		mkt_drv_results_reset();
		ck_assert_int_eq(one_catalog_convert(URL, "x", bad[i], strlen(bad[i]), NULL),
				 MKT_DRV_EFAIL);
		ck_assert_str_eq(mkt_drv_results(), "");
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("one_catalog");
	TCase *tc = tcase_create("convert");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_round_trip);
	tcase_add_test(tc, test_bad_documents);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}

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

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

/* ---- the catalog read member by member ---------------------------------------- */

/* Three good appliances; the second one's strings hold brackets, braces,
 * an escaped quote and a backslash, which must not end anything early. */
#define APP1 "{\"_id\": {\"$oid\": \"b1\"}, \"name\": \"one\", \"files\": [{\"size\": 5}]}"
#define APP2 "{\"_id\": {\"$oid\": \"b2\"}, \"name\": \"two ]} \\\"[{\\\\\", \"type\": \"VMTEMPLATE\"," \
	" \"disks\": [\"one\"], \"tags\": [\"}]\", \"\\\\\"]}"
#define APP3 "{\"_id\": {\"$oid\": \"b3\"}, \"name\": \"three\"," \
	" \"opennebula_template\": \"{\\\"CPU\\\": \\\"1\\\", \\\"X\\\": \\\"]}\\\"}\"}"
#define APPS APP1 ", " APP2 ", " APP3

static const char plain_json[] = "{\"appliances\": [" APPS "]}";

/* What one_catalog_convert() prints into *err (stderr, captured; caller
 * frees) and returns; the results are left in mkt_drv_results(). */
static int convert_captured(const char *doc, size_t len, one_catalog_stats *stats, char **err)
{
	FILE *f = tmpfile();
	int saved, ret;
	long n;

	ck_assert_ptr_nonnull(f);
	fflush(stderr);
	saved = dup(STDERR_FILENO);
	ck_assert_int_ge(saved, 0);
	ck_assert_int_ge(dup2(fileno(f), STDERR_FILENO), 0);
	mkt_drv_results_reset();
	ret = one_catalog_convert(URL, "x", doc, len, stats);
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	n = ftell(f);
	ck_assert_int_ge(n, 0);
	*err = calloc(1, (size_t)n + 1);
	rewind(f);
	ck_assert_uint_eq(fread(*err, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	return ret;
}

/* The results of the three appliances given plainly (caller frees). */
static char *plain_results(void)
{
	one_catalog_stats stats;
	char *err, *out;

	ck_assert_int_eq(convert_captured(plain_json, strlen(plain_json), &stats, &err), MKT_DRV_OK);
	ck_assert_str_eq(err, "");
	ck_assert_uint_eq(stats.apps, 3);
	out = strdup(mkt_drv_results());
	ck_assert_int_eq(strncmp(out, "APP=\"", 5), 0);
	free(err);
	mkt_drv_results_reset();
	return out;
}

/* @doc converts to exactly what plain_json does, silently. */
static void assert_like_plain(const char *doc)
{
	char *want = plain_results(), *err;
	one_catalog_stats stats;

	ck_assert_int_eq(convert_captured(doc, strlen(doc), &stats, &err), MKT_DRV_OK);
	ck_assert_str_eq(err, "");
	ck_assert_uint_eq(stats.apps, 3);
	ck_assert_uint_eq(stats.skipped, 0);
	ck_assert_str_eq(mkt_drv_results(), want);
	free(want);
	free(err);
	mkt_drv_results_reset();
}

/* @doc fails with exactly the ERROR: line @message, having added nothing. */
static void assert_fails(const char *doc, size_t len, const char *message)
{
	char *err, *want;

	ck_assert_int_eq(convert_captured(doc, len, NULL, &err), MKT_DRV_EFAIL);
	ck_assert_str_eq(mkt_drv_results(), "");
	want = calloc(1, strlen(message) + 9);
	sprintf(want, "ERROR: %s\n", message);
	ck_assert_str_eq(err, want);
	free(want);
	free(err);
}

static void assert_fails_str(const char *doc, const char *message)
{
	assert_fails(doc, strlen(doc), message);
}

START_TEST(test_members_around_appliances)
{
	assert_like_plain("{\"before\": {\"a\": [1, {\"b\": \"]}\\\"\\\\\"}], \"c\": \"}\"},"
			  " \"list\": [[], {}, \"]\", \"\\\\\", \"\\\"\", null, true, -1.5e3],"
			  " \"appliances\": [" APPS "],"
			  " \"after\": [{\"x\": \"{[\"}, \"]]}}\\\\\\\\\"], \"n\": 0, \"t\": false}");
}
END_TEST

START_TEST(test_escaped_key)
{
	assert_like_plain("{\"appliance\\u0073\": [" APPS "]}");
	assert_like_plain("{\"\\u0061ppliances\": [" APPS "]}");
	/* Not the same key: another case, a space, a NUL after it. */
	assert_fails_str("{\"Appliances\": []}",
		     "x is not a marketplace catalog: expected {\"appliances\": [...]}, found an object without appliances");
	assert_fails_str("{\"appliances \": [], \"x\": 1}",
		     "x is not a marketplace catalog: expected {\"appliances\": [...]}, found an object without appliances");
	assert_fails_str("{\"appliances\\u0000\": []}",
		     "x is not JSON: NUL byte in object key not supported near '\"appliances\\u0000\"' at line 1, column 19");
}
END_TEST

START_TEST(test_whitespace_everywhere)
{
	assert_like_plain(" \r\n\t{ \n\"appliances\"\n:\r\n[\n" APP1 "\n,\t" APP2 " \r\n, "
			  APP3 "\n\n]\t,\n\"z\"\n:\n[ 1 ,\n2 ]\n}\n \t\r\n");
	/* \f and \v are whitespace to isspace(), not to JSON. */
	assert_fails_str("{\"appliances\": []}\f",
		     "x is not JSON: end of file expected near '\f' at line 1, column 19");
	assert_fails_str("{\v\"appliances\": []}",
		     "x is not JSON: string or '}' expected near '\v' at line 1, column 2");
}
END_TEST

START_TEST(test_empty_list)
{
	one_catalog_stats stats = { 7, 7 };
	char *err;

	ck_assert_int_eq(convert_captured("{ \"x\": [], \"appliances\" : [ \n ] }", 33, &stats, &err),
			 MKT_DRV_OK);
	ck_assert_str_eq(err, "");
	ck_assert_str_eq(mkt_drv_results(), "");
	ck_assert_uint_eq(stats.apps, 0);
	ck_assert_uint_eq(stats.skipped, 0);
	free(err);
}
END_TEST

START_TEST(test_duplicate_appliances)
{
	/* jansson would keep the second list; the first one's apps would have
	 * gone out already.  Whatever the two hold, it is refused. */
	static const char *const docs[] = {
		"{\"appliances\": [" APPS "], \"appliances\": []}",
		"{\"appliances\": [], \"appliances\": [" APPS "]}",
		"{\"appliances\": 1, \"x\": 2, \"appliance\\u0073\": [" APPS "]}",
	};
	size_t i;

	for (i = 0; i < sizeof(docs) / sizeof(docs[0]); i++)
		assert_fails(docs[i], strlen(docs[i]),
			     "x is not a marketplace catalog: it has \"appliances\" more than once");
}
END_TEST

START_TEST(test_truncated)
{
	const char *third = strstr(plain_json, APP3);
	size_t cut = (size_t)(third - plain_json) + strlen(APP3) / 2, len;
	char msg[200];

	ck_assert_ptr_nonnull(third);
	/* In the middle of the third appliance (its opennebula_template). */
	snprintf(msg, sizeof(msg), "x is not JSON: premature end of input near '\"openneb' at line 1, column %zu",
		 cut);
	assert_fails(plain_json, cut, msg);
	/* Cut anywhere, it fails the same way, with nothing added. */
	for (len = 0; len < sizeof(plain_json) - 1; len++) {
		char *err;

		ck_assert_int_eq(convert_captured(plain_json, len, NULL, &err), MKT_DRV_EFAIL);
		ck_assert_str_eq(mkt_drv_results(), "");
		ck_assert_msg(!strncmp(err, "ERROR: x is not JSON: ", 22) && !strchr(err, '\n')[1],
			      "cut at %zu: %s", len, err);
		free(err);
	}
}
END_TEST

START_TEST(test_trailing_garbage)
{
	static const char doc[] = "{\"appliances\": [" APPS "]} {}";

	assert_fails(doc, strlen(doc), "x is not JSON: end of file expected near '{' at line 1, column 294");
	assert_fails_str("{\"appliances\": []}]",
		     "x is not JSON: end of file expected near ']' at line 1, column 19");
	/* A NUL byte is not the end of the body. */
	assert_fails("{\"appliances\": []}\0", 19,
		     "x is not JSON: end of file expected near end of file at line 1, column 19");
}
END_TEST

START_TEST(test_elements_not_objects)
{
	static const char doc[] = "{\"appliances\": [" APP1 ", [\"a\", {}], " APP2 ", 42, " APP3 ", \"s\"]}";
	one_catalog_stats stats;
	char *want = plain_results(), *err;

	ck_assert_int_eq(convert_captured(doc, strlen(doc), &stats, &err), MKT_DRV_OK);
	ck_assert_str_eq(mkt_drv_results(), want);
	ck_assert_uint_eq(stats.apps, 3);
	ck_assert_uint_eq(stats.skipped, 3);
	ck_assert_str_eq(err,
			 "WARN: appliance #1 (no id, \"\") skipped: the appliance is a list, not an object\n"
			 "WARN: appliance #3 (no id, \"\") skipped: the appliance is a number, not an object\n"
			 "WARN: appliance #5 (no id, \"\") skipped: the appliance is a string, not an object\n");
	free(want);
	free(err);
	mkt_drv_results_reset();
}
END_TEST

START_TEST(test_bad_pieces)
{
	/* What the scanner lets through, jansson refuses, with its words for
	 * the whole document: a bad appliance, a bad member elsewhere. */
	assert_fails_str("{\"appliances\": [" APP1 ", {\"a\": tru}]}",
		     "x is not JSON: invalid token near 'tru' at line 1, column 89");
	assert_fails_str("{\"appliances\": [" APP1 " " APP1 "]}",
		     "x is not JSON: ']' expected near '{' at line 1, column 80");
	assert_fails_str("{\"appliances\": [" APP1 ",]}",
		     "x is not JSON: unexpected token near ']' at line 1, column 80");
	assert_fails_str("{\"appliances\": [], \"x\": [1}}",
		     "x is not JSON: ']' expected near '}' at line 1, column 27");
	assert_fails_str("{\"appliances\": [], \"x\": \"\\q\"}",
		     "x is not JSON: invalid escape near '\"\\q' at line 1, column 27");
	assert_fails_str("{\"appliances\": [] \"x\": 1}",
		     "x is not JSON: '}' expected near '\"x\"' at line 1, column 21");
}
END_TEST

/* A document whose appliance (at level 3: root, list, appliance) nests
 * @levels deep in all, jansson's levels; caller frees. */
static char *nested_catalog(int levels, size_t *len)
{
	int n = levels - 2, i;
	char *doc = malloc((size_t)n * 2 + 40), *p = doc;

	p += sprintf(p, "{\"appliances\": [");
	for (i = 0; i < n - 1; i++)
		*p++ = '[';
	p += sprintf(p, "1");
	for (i = 0; i < n - 1; i++)
		*p++ = ']';
	p += sprintf(p, "]}");
	*len = (size_t)(p - doc);
	return doc;
}

START_TEST(test_depth_limit)
{
	/* The scanner's JSON_MAX_DEPTH is the library's: one level more and
	 * the whole document would not parse. */
	size_t len;
	char *doc = nested_catalog(2048, &len), *err;

	ck_assert_int_eq(convert_captured(doc, len, NULL, &err), MKT_DRV_OK);
	ck_assert_str_eq(err, "WARN: appliance #0 (no id, \"\") skipped: the appliance is a list, not an object\n");
	free(err);
	free(doc);
	doc = nested_catalog(2049, &len);
	assert_fails(doc, len, "x is not JSON: maximum parsing depth reached near '1' at line 1, column 2063");
	free(doc);
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
	tcase_add_test(tc, test_members_around_appliances);
	tcase_add_test(tc, test_escaped_key);
	tcase_add_test(tc, test_whitespace_everywhere);
	tcase_add_test(tc, test_empty_list);
	tcase_add_test(tc, test_duplicate_appliances);
	tcase_add_test(tc, test_truncated);
	tcase_add_test(tc, test_trailing_garbage);
	tcase_add_test(tc, test_elements_not_objects);
	tcase_add_test(tc, test_bad_pieces);
	tcase_add_test(tc, test_depth_limit);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}

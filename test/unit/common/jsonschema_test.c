/*
 * jsonschema_test.c: the draft-04 validator, against Debian's
 * json-schema-test-suite and our own cases (untrusted schemas, numbers
 * beyond a double's precision, ECMA-262 patterns, messages).
 *
 * The suite's files are run for the keywords we support.  A test group
 * whose schema uses any other keyword anywhere (maxItems beside
 * patternProperties, say) is skipped whole: its verdicts depend on
 * something we leave to the broker.  Counts of run and skipped cases are
 * printed.  Without the suite (MKT_JSONSCHEMA_SUITE, or Debian's path) the
 * own cases still run and the test then exits 77 (skipped).
 */
#include <config.h>

#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <check.h>
#include <jansson.h>

#include "common/alloc.h"
#include "common/error.h"
#include "common/jsonschema.h"
#include "common/jsonschema_priv.h"

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

#define SUITE_DIR "/usr/share/json-schema-test-suite/tests/draft4"

/* The suite's files for our keywords (jsonschema.h). */
static const char *const suite_files[] = {
	"type", "required", "properties", "additionalProperties", "enum",
	"minimum", "maximum", "minLength", "maxLength", "pattern", "items",
	"patternProperties", "additionalItems",
};

/* What a group's schema may use and still be run.  Listed here rather
 * than taken from jsonschema.c, so the test states the claim itself. */
static const char *const supported[] = {
	"type", "enum", "required", "properties", "patternProperties",
	"additionalProperties", "minimum", "exclusiveMinimum", "maximum",
	"exclusiveMaximum", "minLength", "maxLength", "pattern", "items",
	"additionalItems",
};

static int suite_run, suite_skipped;

static const char *suite_dir(void)
{
	const char *dir = getenv("MKT_JSONSCHEMA_SUITE");

	return dir && *dir ? dir : SUITE_DIR;
}

static int have_suite(void)
{
	struct stat st;

	return stat(suite_dir(), &st) == 0 && S_ISDIR(st.st_mode);
}

static json_t *J(const char *text)
{
	json_error_t err;
	json_t *v = json_loads(text, JSON_DECODE_ANY, &err);

	ck_assert_msg(v != NULL, "bad JSON in the test: %s: %s", text, err.text);
	return v;
}

static int is_supported(const char *keyword)
{
	size_t i;

	for (i = 0; i < N_ELEMS(supported); i++)
		if (strcmp(keyword, supported[i]) == 0)
			return 1;
	return 0;
}

/* 1 when @schema or a subschema uses a keyword outside supported[]. */
static int uses_unsupported(const json_t *schema)
{
	const char *key, *name;
	json_t *value, *sub;
	size_t i;

	if (!json_is_object(schema))
		return 0;
	json_object_foreach((json_t *)schema, key, value) {
		if (!is_supported(key))
			return 1;
		if (strcmp(key, "properties") == 0 || strcmp(key, "patternProperties") == 0) {
			json_object_foreach(value, name, sub)
				if (uses_unsupported(sub))
					return 1;
		} else if (json_is_array(value) && strcmp(key, "items") == 0) {
			json_array_foreach(value, i, sub)
				if (uses_unsupported(sub))
					return 1;
		} else if (json_is_object(value) && strcmp(key, "enum") != 0 && uses_unsupported(value)) {
			return 1;
		}
	}
	return 0;
}

START_TEST(test_suite_file)
{
	const char *name = suite_files[_i];
	char *path = mkt_asprintf("%s/%s.json", suite_dir(), name);
	json_error_t err;
	json_t *groups = json_load_file(path, 0, &err), *group, *test;
	size_t g, t;
	int run = 0, skipped = 0;

	ck_assert_msg(groups != NULL, "%s: %s", path, err.text);
	json_array_foreach(groups, g, group) {
		json_t *schema = json_object_get(group, "schema");
		json_t *tests = json_object_get(group, "tests");
		const char *gdesc = json_string_value(json_object_get(group, "description"));
		mkt_jsonschema *s = NULL;

		if (uses_unsupported(schema)) {
			skipped += (int)json_array_size(tests);
			printf("  skip %s: \"%s\" (a keyword outside the supported set)\n", name, gdesc);
			continue;
		}
		ck_assert_msg(mkt_jsonschema_new(&s, schema) == 0, "%s: \"%s\": schema refused: %s",
			      name, gdesc, mkt_error_message());
		json_array_foreach(tests, t, test) {
			int want = json_is_true(json_object_get(test, "valid"));
			int rc = mkt_jsonschema_validate(s, json_object_get(test, "data"), NULL);

			ck_assert_msg(rc == 0 || rc == MKT_EINVAL, "unexpected status %d", rc);
			ck_assert_msg((rc == 0) == want, "%s: \"%s\" / \"%s\": expected %s, got %s%s",
				      name, gdesc,
				      json_string_value(json_object_get(test, "description")),
				      want ? "valid" : "invalid", rc == 0 ? "valid" : "invalid: ",
				      rc == 0 ? "" : mkt_error_message());
			run++;
		}
		mkt_jsonschema_free(s);
	}
	printf("draft4/%s.json: %d run, %d skipped\n", name, run, skipped);
	suite_run += run;
	suite_skipped += skipped;
	json_decref(groups);
	free(path);
}
END_TEST

/* ------------------------------------------------------------ own cases */

typedef struct {
	const char *schema;
	const char *instance;
	const char *error;      /* NULL: valid; else the whole message */
} vcase;

static void check_case(const vcase *c, const char *root)
{
	json_t *schema = J(c->schema), *inst = J(c->instance);
	mkt_jsonschema *s = NULL;
	int rc;

	ck_assert_msg(mkt_jsonschema_new(&s, schema) == 0, "%s: %s", c->schema, mkt_error_message());
	mkt_error_clear();
	rc = mkt_jsonschema_validate(s, inst, root);
	if (!c->error) {
		ck_assert_msg(rc == 0, "%s against %s: %s", c->instance, c->schema, mkt_error_message());
	} else {
		ck_assert_msg(rc == MKT_EINVAL, "%s against %s: valid", c->instance, c->schema);
		ck_assert_str_eq(mkt_error_message(), c->error);
		ck_assert_int_eq(mkt_error_last()->area, MKT_ERR_JSONSCHEMA);
	}
	mkt_jsonschema_free(s);
	json_decref(schema);
	json_decref(inst);
}

static const vcase messages[] = {
	{ "{\"properties\": {\"size\": {\"maximum\": 64}}}", "{\"size\": 70}",
	  "parameters.size: 70 is greater than the maximum 64" },
	{ "{\"properties\": {\"size\": {\"maximum\": 64, \"exclusiveMaximum\": true}}}", "{\"size\": 64}",
	  "parameters.size: 64 is not less than the exclusive maximum 64" },
	{ "{\"properties\": {\"n\": {\"minimum\": 1.5}}}", "{\"n\": 1}",
	  "parameters.n: 1 is less than the minimum 1.5" },
	{ "{\"properties\": {\"n\": {\"minimum\": 1, \"exclusiveMinimum\": true}}}", "{\"n\": 1.0}",
	  "parameters.n: 1 is not greater than the exclusive minimum 1" },
	{ "{\"properties\": {\"tags\": {\"items\": {\"type\": \"string\"}}}}", "{\"tags\": [\"a\", 3]}",
	  "parameters.tags[1]: 3 is not of type string" },
	{ "{\"properties\": {\"a b\": {\"type\": [\"integer\", \"null\"]}}}", "{\"a b\": \"x\\\"y\"}",
	  "parameters[\"a b\"]: \"x\\\"y\" is not of type integer or null" },
	{ "{\"required\": [\"size\"]}", "{}",
	  "parameters: the required property \"size\" is missing" },
	{ "{\"properties\": {\"a\": {}}, \"additionalProperties\": false}", "{\"a\": 1, \"b\": 2}",
	  "parameters.b: the property is not allowed here" },
	{ "{\"additionalProperties\": {\"type\": \"boolean\"}}", "{\"x\": {}}",
	  "parameters.x: an object is not of type boolean" },
	{ "{\"items\": [{}, {}], \"additionalItems\": false}", "[1, 2, 3]",
	  "parameters[2]: the array may hold at most 2 items" },
	{ "{\"enum\": [\"s\", \"m\", 1.5, null]}", "\"xl\"",
	  "parameters: \"xl\" is not one of \"s\", \"m\", 1.5, null" },
	{ "{\"properties\": {\"name\": {\"pattern\": \"^[a-z]+$\"}}}", "{\"name\": \"Ab\"}",
	  "parameters.name: \"Ab\" does not match the pattern \"^[a-z]+$\"" },
	{ "{\"minLength\": 3}", "\"\\u00e9\\u00e9\"",
	  "parameters: \"\xc3\xa9\xc3\xa9\" has 2 characters, fewer than the minimum length 3" },
	{ "{\"maxLength\": 1}", "\"ab\"",
	  "parameters: \"ab\" has 2 characters, more than the maximum length 1" },
	{ "{\"maxLength\": 1}",
	  "\"0123456789012345678901234567890123456789012345678901234567890123456789\"",
	  "parameters: \"0123456789012345678901234567890123456789012345678901234567890123\"..."
	  " has 70 characters, more than the maximum length 1" },
};

START_TEST(test_messages)
{
	check_case(&messages[_i], "parameters");
}
END_TEST

START_TEST(test_root_default)
{
	static const vcase c = { "{\"items\": {\"type\": \"integer\"}}", "[1, 1.0]",
				 "$[1]: 1 is not of type integer" };

	check_case(&c, NULL);
}
END_TEST

static const vcase numbers[] = {
	/* 2^53 + 1 is no double: a comparison through doubles would pass it. */
	{ "{\"maximum\": 9007199254740992.0}", "9007199254740993",
	  "$: 9007199254740993 is greater than the maximum 9007199254740992" },
	{ "{\"maximum\": 9007199254740992}", "9007199254740993",
	  "$: 9007199254740993 is greater than the maximum 9007199254740992" },
	{ "{\"minimum\": 9007199254740993}", "9007199254740992.0",
	  "$: 9007199254740992 is less than the minimum 9007199254740993" },
	{ "{\"maximum\": 1e300}", "9223372036854775807", NULL },
	{ "{\"minimum\": -1e300}", "-9223372036854775808", NULL },
	{ "{\"maximum\": 9223372036854775807}", "1e300",
	  "$: 1e+300 is greater than the maximum 9223372036854775807" },
	{ "{\"minimum\": -9223372036854775808, \"exclusiveMinimum\": true}", "-9223372036854775808",
	  "$: -9223372036854775808 is not greater than the exclusive minimum -9223372036854775808" },
	{ "{\"maximum\": -0.5}", "0", "$: 0 is greater than the maximum -0.5" },
	{ "{\"minimum\": -0.5}", "-1", "$: -1 is less than the minimum -0.5" },
	{ "{\"maximum\": -0.5}", "-1", NULL },
	/* draft-04 equality is by value; "integer" is by spelling. */
	{ "{\"enum\": [1]}", "1.0", NULL },
	{ "{\"enum\": [1.0]}", "1", NULL },
	{ "{\"enum\": [[1, {\"a\": 2.0}]]}", "[1.0, {\"a\": 2}]", NULL },
	{ "{\"enum\": [true]}", "1", "$: 1 is not one of true" },
	{ "{\"enum\": [0]}", "false", "$: false is not one of 0" },
	{ "{\"type\": \"integer\"}", "1.0", "$: 1 is not of type integer" },
	{ "{\"type\": \"number\"}", "-9223372036854775808", NULL },
};

START_TEST(test_numbers)
{
	check_case(&numbers[_i], NULL);
}
END_TEST

/* Whatever jansson cannot represent never reaches us: it is a parse error
 * for the caller, not a verdict. */
START_TEST(test_unrepresentable_input)
{
	json_error_t err;

	ck_assert_ptr_null(json_loads("123456789012345678901234567890", JSON_DECODE_ANY, &err));
	ck_assert_ptr_null(json_loads("1e400", JSON_DECODE_ANY, &err));
	ck_assert_ptr_null(json_loads("\"\xff\xfe\"", JSON_DECODE_ANY, &err));
	ck_assert_ptr_null(json_loads("\"\xc3\"", JSON_DECODE_ANY, &err));
}
END_TEST

/* A hand-built string that is not UTF-8 or holds NULs must not crash. */
START_TEST(test_odd_strings)
{
	json_t *schema = J("{\"minLength\": 1, \"maxLength\": 3, \"pattern\": \"^a\"}");
	json_t *bad = json_stringn_nocheck("a\xff\xfe\x00z", 5);
	json_t *nul = json_stringn("a\0b", 3);
	mkt_jsonschema *s = NULL;

	ck_assert_int_eq(mkt_jsonschema_new(&s, schema), 0);
	ck_assert_int_eq(mkt_jsonschema_validate(s, bad, NULL), MKT_EINVAL);   /* 5 characters */
	ck_assert_int_eq(mkt_jsonschema_validate(s, nul, NULL), 0);
	mkt_jsonschema_free(s);
	json_decref(schema);
	json_decref(bad);
	json_decref(nul);
}
END_TEST

/* {"properties": {"a": ... @depth levels ... {}}}.  Deeper than jansson
 * parses (2048), not so deep that jansson's own recursive free overflows. */
static json_t *nested_schema(int depth, const char *keyword)
{
	json_t *s = json_object();
	int i;

	for (i = 0; i < depth; i++) {
		json_t *outer = json_object();

		if (strcmp(keyword, "properties") == 0)
			json_object_set_new(outer, keyword, json_pack("{s:o}", "a", s));
		else
			json_object_set_new(outer, keyword, s);
		s = outer;
	}
	return s;
}

START_TEST(test_nesting_bomb)
{
	static const char *const keywords[] = { "properties", "items", "additionalProperties",
						"additionalItems" };
	size_t k;

	for (k = 0; k < N_ELEMS(keywords); k++) {
		json_t *ok = nested_schema(MKT_JSONSCHEMA_MAX_DEPTH, keywords[k]);
		json_t *bomb = nested_schema(4096, keywords[k]);
		mkt_jsonschema *s = NULL;

		ck_assert_msg(mkt_jsonschema_new(&s, ok) == 0, "%s: %s", keywords[k], mkt_error_message());
		mkt_jsonschema_free(s);
		ck_assert_int_eq(mkt_jsonschema_new(&s, bomb), MKT_EINVAL);
		ck_assert_ptr_null(s);
		ck_assert_msg(strstr(mkt_error_message(), "schemas nest deeper than 64 levels"),
			      "%s", mkt_error_message());
		json_decref(ok);
		json_decref(bomb);
	}
}
END_TEST

/* Deep instances and deep enum values. */
START_TEST(test_deep_values)
{
	json_t *inst = json_array(), *deep_enum = json_array(), *schema;
	mkt_jsonschema *s = NULL;
	int i;

	for (i = 0; i < 4096; i++) {
		json_t *outer = json_array();

		json_array_append_new(outer, inst);
		inst = outer;
	}
	for (i = 0; i < 100; i++) {
		json_t *outer = json_array();

		json_array_append_new(outer, deep_enum);
		deep_enum = outer;
	}
	/* The validator goes no deeper than the schema. */
	schema = J("{\"type\": \"array\", \"items\": {\"items\": {\"type\": \"array\"}}, "
		   "\"enum\": [[[[]]], [[[[]]]]]}");
	ck_assert_int_eq(mkt_jsonschema_new(&s, schema), 0);
	ck_assert_int_eq(mkt_jsonschema_validate(s, inst, NULL), MKT_EINVAL);
	ck_assert_str_eq(mkt_error_message(), "$: an array is not one of an array, an array");
	mkt_jsonschema_free(s);
	json_decref(schema);
	/* An enum value as deep as a bomb is the schema's fault. */
	schema = json_pack("{s:[o]}", "enum", deep_enum);
	ck_assert_int_eq(mkt_jsonschema_new(&s, schema), MKT_EINVAL);
	ck_assert_str_eq(mkt_error_message(), "schema #/enum: values nest deeper than 64 levels");
	json_decref(schema);
	json_decref(inst);
}
END_TEST

typedef struct {
	const char *schema;
	const char *error;
} scase;

static const scase malformed[] = {
	{ "[]", "schema #: a schema must be an object" },
	{ "{\"type\": \"any\"}", "schema #/type: unknown type \"any\"" },
	{ "{\"type\": []}", "schema #/type: must be a type name or a non-empty array of them" },
	{ "{\"type\": [\"string\", 3]}", "schema #/type: item 1 is not a type name" },
	{ "{\"enum\": []}", "schema #/enum: must be a non-empty array" },
	{ "{\"required\": \"a\"}", "schema #/required: must be an array of property names" },
	{ "{\"required\": [\"a\", 1]}", "schema #/required: item 1 is not a string" },
	{ "{\"properties\": []}", "schema #/properties: must be an object of schemas" },
	{ "{\"properties\": {\"a/b~c\": {\"maximum\": \"64\"}}}",
	  "schema #/properties/a~1b~0c/maximum: must be a number" },
	{ "{\"items\": [{}, {\"minLength\": -1}]}",
	  "schema #/items/1/minLength: must be a non-negative integer" },
	{ "{\"items\": 3}", "schema #/items: a schema must be an object" },
	{ "{\"additionalProperties\": null}", "schema #/additionalProperties: a schema must be an object" },
	{ "{\"exclusiveMinimum\": 1}", "schema #/exclusiveMinimum: must be a boolean" },
	{ "{\"maxLength\": 1.0}", "schema #/maxLength: must be a non-negative integer" },
	{ "{\"pattern\": 1}", "schema #/pattern: must be a string" },
	{ "{\"pattern\": \"(a\"}", "schema #/pattern: invalid regular expression (a: unmatched (" },
	{ "{\"pattern\": \"a)\"}", "schema #/pattern: invalid regular expression a): unmatched )" },
	{ "{\"pattern\": \"[a-\"}", "schema #/pattern: invalid regular expression [a-: unterminated character class" },
	{ "{\"pattern\": \"[z-a]\"}",
	  "schema #/pattern: invalid regular expression [z-a]: range out of order in character class" },
	{ "{\"pattern\": \"a\\\\\"}", "schema #/pattern: invalid regular expression a\\: pattern ends with a backslash" },
	{ "{\"pattern\": \"a{2,1}\"}",
	  "schema #/pattern: invalid regular expression a{2,1}: Invalid content of \\{\\}" },
	{ "{\"properties\": {\"p\": {\"patternProperties\": {\"*\": {}}}}}",
	  "schema #/properties/p/patternProperties/*: invalid regular expression *: nothing to repeat" },
	/* glibc would take this, in time exponential in the '+'s. */
	{ "{\"pattern\": \"]*-n$\\\"*++++++++]*\"}",
	  "schema #/pattern: invalid regular expression ]*-n$\"*++++++++]*: nothing to repeat" },
	{ "{\"pattern\": \"(|*)\"}", "schema #/pattern: invalid regular expression (|*): nothing to repeat" },
	{ "{\"pattern\": \"a{2}{3}\"}", "schema #/pattern: invalid regular expression a{2}{3}: nothing to repeat" },
};

START_TEST(test_malformed)
{
	json_t *schema = J(malformed[_i].schema);
	mkt_jsonschema *s = (mkt_jsonschema *)&s;   /* must be reset to NULL */

	ck_assert_int_eq(mkt_jsonschema_new(&s, schema), MKT_EINVAL);
	ck_assert_ptr_null(s);
	ck_assert_str_eq(mkt_error_message(), malformed[_i].error);
	json_decref(schema);
}
END_TEST

/* What we do not check must never refuse a valid instance. */
static const vcase lenient[] = {
	{ "{\"$ref\": \"#/definitions/x\", \"type\": \"string\"}", "5", NULL },
	{ "{\"properties\": {\"a\": {\"$ref\": \"#\", \"maximum\": 1}}}", "{\"a\": 5}", NULL },
	{ "{\"minItems\": 5, \"format\": \"email\", \"allOf\": [{\"type\": \"string\"}]}", "[1]", NULL },
	{ "{\"pattern\": \"^(?=a)b\"}", "\"zz\"", NULL },
	{ "{\"pattern\": \"(a)\\\\1\"}", "\"ab\"", NULL },
	{ "{\"pattern\": \"((a{255}){255}){255}\"}", "\"b\"", NULL },
	{ "{\"pattern\": \"a{1001}\"}", "\"b\"", NULL },
	{ "{\"pattern\": \"[]\"}", "\"b\"", NULL },
	/* An unchecked pattern property may cover any name. */
	{ "{\"patternProperties\": {\"^(?!x)\": {}}, \"additionalProperties\": false}", "{\"y\": 1}", NULL },
	{ "{\"patternProperties\": {\"^v\": {}}, \"additionalProperties\": false}", "{\"y\": 1}",
	  "$.y: the property is not allowed here" },
	/* Unknown type names inside a schema we skip are none of our business. */
	{ "{\"not\": {\"type\": \"any\"}}", "1", NULL },
};

START_TEST(test_lenient)
{
	check_case(&lenient[_i], NULL);
}
END_TEST

/* ECMA-262 patterns and what they must match.  -1: left unchecked. */
static const struct {
	const char *pattern;
	const char *text;
	int match;
} patterns[] = {
	{ "^\\d+$", "123", 1 }, { "^\\d+$", "12a", 0 }, { "^\\D+$", "ab", 1 },
	{ "^\\w+$", "a_Z9", 1 }, { "^\\w+$", "\xc3\xa9", 0 }, { "^\\W$", "-", 1 },
	{ "^\\s$", " ", 1 }, { "^\\s$", "\xc2\xa0", 1 }, { "^\\S+$", "\xc3\xa9t\xc3\xa9", 1 },
	{ "^[\\w.-]+$", "my-db.v2", 1 }, { "^[\\w.-]+$", "my db", 0 },
	{ "^[\\d\\s]+$", "1 2", 1 }, { "^[^\\d]$", "a", 1 }, { "^[^\\d]$", "1", 0 },
	{ "^[\\]a]+$", "]a]", 1 }, { "^[\\^]$", "^", 1 }, { "^[\\^]$", "a", 0 },
	{ "^[a\\-z]+$", "-", 1 }, { "^[a\\-z]+$", "b", 0 }, { "^[-^]+$", "^-", 1 },
	{ "^[\\[\\]]+$", "[]", 1 }, { "^[[:]+$", "[:", 1 }, { "^[\\\\]$", "\\", 1 },
	{ "^[^^]$", "^", 0 }, { "^[^^]$", "a", 1 },
	{ "^(?:ab)+$", "abab", 1 }, { "^(?:ab)+$", "aba", 0 }, { "^(?<x>a)$", "a", 1 },
	{ "^a+?$", "aaa", 1 }, { "^a+?$", "", 0 }, { "^a??b$", "b", 1 }, { "^a{2,}?$", "a", 0 },
	{ "^.$", "\xc3\xa9", 1 }, { "^.$", "\n", 0 }, { "^.$", "\r", 0 }, { "^...$", "a\xe2\x82\xac" "b", 1 },
	{ "^\\u00e1", "\xc3\xa1rv\xc3\xadz", 1 }, { "^\\u00e1", "\xc3\xa9", 0 },
	{ "^[\\u00e0-\\u00ff]$", "\xc3\xa9", 1 }, { "^[\\u00e0-\\u00ff]$", "z", 0 },
	{ "^\\uD83D\\uDCA9$", "\xf0\x9f\x92\xa9", 1 }, { "^\\x41\\t$", "A\t", 1 },
	{ "^\\cJ$", "\n", 1 }, { "^a\\.b$", "a.b", 1 }, { "^a\\.b$", "axb", 0 },
	{ "^a\\/b$", "a/b", 1 }, { "^\\$\\(\\)\\*\\+\\?\\{\\}\\|$", "$()*+?{}|", 1 },
	{ "^a{$", "a{", 1 }, { "^a}$", "a}", 1 }, { "^x{2}$", "xx", 1 }, { "^x{2}$", "x", 0 },
	{ "^a|b$", "bx", 0 }, { "^a|b$", "ax", 1 }, { "a", "bab", 1 }, { "\\bfoo\\b", "a foo", 1 },
	{ "\\bfoo\\b", "afoo", 0 }, { "^[^\\u0000-\\u001f]+$", "ok", 1 }, { "^[^\\u0000-\\u001f]+$", "a\tb", 0 },
	{ "^(?=a)", "a", -1 }, { "(a)\\1", "aa", -1 }, { "\\0", "", -1 }, { "[^]", "", -1 },
	{ "[\\D]", "", -1 }, { "[\\u0000]", "", -1 },
};

START_TEST(test_patterns)
{
	const char *p = patterns[_i].pattern, *text = patterns[_i].text;
	char why[256];
	regex_t re;
	mkt_jsonschema_re_status st = mkt_jsonschema__regex_compile(&re, p, strlen(p), why, sizeof(why));

	if (patterns[_i].match < 0) {
		ck_assert_msg(st == MKT_JSONSCHEMA_RE_UNSUPPORTED, "/%s/ compiled (%d)", p, st);
		return;
	}
	ck_assert_msg(st == MKT_JSONSCHEMA_RE_OK, "/%s/: %s", p, why);
	ck_assert_msg(mkt_jsonschema__regex_search(&re, text, strlen(text)) == patterns[_i].match,
		      "/%s/ on \"%s\": expected %s", p, text, patterns[_i].match ? "a match" : "no match");
	regfree(&re);
}
END_TEST

/* Past MKT_JSONSCHEMA_PATTERN_TEXT_MAX a pattern is left to the broker. */
START_TEST(test_long_text)
{
	json_t *schema = J("{\"pattern\": \"^a+$\", \"maxLength\": 5000}");
	char *text = mkt_malloc(MKT_JSONSCHEMA_PATTERN_TEXT_MAX + 2);
	json_t *fits, *longer;
	mkt_jsonschema *s = NULL;

	memset(text, 'a', MKT_JSONSCHEMA_PATTERN_TEXT_MAX + 1);
	text[MKT_JSONSCHEMA_PATTERN_TEXT_MAX] = 'b';
	text[MKT_JSONSCHEMA_PATTERN_TEXT_MAX + 1] = '\0';
	fits = json_stringn(text + 1, MKT_JSONSCHEMA_PATTERN_TEXT_MAX);
	longer = json_string(text);
	ck_assert_int_eq(mkt_jsonschema_new(&s, schema), 0);
	ck_assert_int_eq(mkt_jsonschema_validate(s, fits, NULL), MKT_EINVAL);
	ck_assert_int_eq(mkt_jsonschema_validate(s, longer, NULL), 0);
	mkt_jsonschema_free(s);
	json_decref(schema);
	json_decref(fits);
	json_decref(longer);
	free(text);
}
END_TEST

START_TEST(test_strings_with_nul)
{
	json_t *schema = J("{\"pattern\": \"^a.b$\"}");
	json_t *inst = json_stringn("a\0b", 3);
	mkt_jsonschema *s = NULL;

	ck_assert_int_eq(mkt_jsonschema_new(&s, schema), 0);
	/* The whole string is searched, NUL included. */
	ck_assert_int_eq(mkt_jsonschema_validate(s, inst, NULL), 0);
	mkt_jsonschema_free(s);
	json_decref(schema);
	json_decref(inst);
}
END_TEST

/* Validation is read-only: one schema, many threads (the RPC workers),
 * each switching to the C.UTF-8 locale around its own regexec. */
static void *validate_many(void *arg)
{
	const mkt_jsonschema *s = arg;
	json_t *good = J("{\"name\": \"a\u00e9\u00e9\", \"size\": 3}");
	json_t *bad = J("{\"name\": \"-x\", \"size\": 3}");
	long failures = 0;
	int i;

	for (i = 0; i < 2000; i++) {
		failures += mkt_jsonschema_validate(s, good, NULL) != 0;
		failures += mkt_jsonschema_validate(s, bad, NULL) != MKT_EINVAL;
		failures += strcmp(mkt_error_message(),
				   "$.name: \"-x\" does not match the pattern \"^\\\\w.{2,}$\"") != 0;
	}
	json_decref(good);
	json_decref(bad);
	return (void *)failures;
}

START_TEST(test_threads)
{
	json_t *schema = J("{\"properties\": {\"name\": {\"pattern\": \"^\\\\w.{2,}$\"}, "
			   "\"size\": {\"maximum\": 4}}}");
	mkt_jsonschema *s = NULL;
	pthread_t th[4];
	void *failures;
	size_t i;

	ck_assert_int_eq(mkt_jsonschema_new(&s, schema), 0);
	for (i = 0; i < N_ELEMS(th); i++)
		ck_assert_int_eq(pthread_create(&th[i], NULL, validate_many, s), 0);
	for (i = 0; i < N_ELEMS(th); i++) {
		pthread_join(th[i], &failures);
		ck_assert_int_eq((long)failures, 0);
	}
	mkt_jsonschema_free(s);
	json_decref(schema);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("jsonschema");
	TCase *own = tcase_create("own"), *draft4 = tcase_create("draft4");
	SRunner *sr;
	int failed, with_suite = have_suite();

	tcase_add_loop_test(own, test_messages, 0, N_ELEMS(messages));
	tcase_add_test(own, test_root_default);
	tcase_add_loop_test(own, test_numbers, 0, N_ELEMS(numbers));
	tcase_add_test(own, test_unrepresentable_input);
	tcase_add_test(own, test_odd_strings);
	tcase_add_test(own, test_strings_with_nul);
	tcase_add_test(own, test_long_text);
	tcase_add_test(own, test_nesting_bomb);
	tcase_add_test(own, test_deep_values);
	tcase_add_loop_test(own, test_malformed, 0, N_ELEMS(malformed));
	tcase_add_loop_test(own, test_lenient, 0, N_ELEMS(lenient));
	tcase_add_loop_test(own, test_patterns, 0, N_ELEMS(patterns));
	tcase_add_test(own, test_threads);
	tcase_set_timeout(own, 60);
	suite_add_tcase(s, own);
	if (with_suite) {
		tcase_add_loop_test(draft4, test_suite_file, 0, N_ELEMS(suite_files));
		suite_add_tcase(s, draft4);
	}
	sr = srunner_create(s);
	/* In-process, so the suite's counts add up across its files. */
	srunner_set_fork_status(sr, CK_NOFORK);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	if (!with_suite) {
		printf("SKIP: the JSON Schema test suite is not in %s (apt-get install json-schema-test-suite)\n",
		       suite_dir());
		return failed ? EXIT_FAILURE : 77;
	}
	printf("json-schema-test-suite draft4: %d cases run, %d skipped\n", suite_run, suite_skipped);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

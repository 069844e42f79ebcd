/*
 * jsonschema_fuzz.c: libFuzzer target for the JSON Schema validator.
 *
 * Schemas come from service brokers and instances from API clients, so
 * neither may crash the daemon or hang it.  An input that parses as a JSON
 * array is [schema, instance...]; any other input is taken as an ECMA-262
 * pattern (raw bytes, invalid UTF-8 included) and searched for in itself,
 * which reaches the pattern translator without JSON's escaping.
 */
#include <config.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/alloc.h"
#include "common/error.h"
#include "common/jsonschema.h"
#include "common/jsonschema_priv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_status(int rc, const char *what)
{
	if (rc != 0 && rc != MKT_EINVAL) {
		fprintf(stderr, "%s returned %d\n", what, rc);
		abort();
	}
	if (rc != 0 && !*mkt_error_message()) {
		fprintf(stderr, "%s failed without a message\n", what);
		abort();
	}
}

static void run_pattern(const uint8_t *data, size_t size)
{
	char why[256], *text = mkt_malloc(size + 1);   /* searched text ends in NUL */
	regex_t re;

	memcpy(text, data, size);
	text[size] = '\0';
	if (mkt_jsonschema__regex_compile(&re, text, size, why, sizeof(why)) == MKT_JSONSCHEMA_RE_OK) {
		if (mkt_jsonschema__regex_search(&re, text, size) < 0) {
			fprintf(stderr, "search failed\n");
			abort();
		}
		regfree(&re);
	}
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *doc = json_loadb((const char *)data, size, 0, NULL);
	mkt_jsonschema *s = NULL;
	size_t i;
	int rc;

	if (!json_is_array(doc) || json_array_size(doc) == 0) {
		run_pattern(data, size);
		json_decref(doc);
		return 0;
	}
	mkt_error_clear();
	rc = mkt_jsonschema_new(&s, json_array_get(doc, 0));
	check_status(rc, "mkt_jsonschema_new");
	if (rc == 0) {
		for (i = 1; i < json_array_size(doc); i++)
			check_status(mkt_jsonschema_validate(s, json_array_get(doc, i), "fuzz"),
				     "mkt_jsonschema_validate");
	} else if (s) {
		fprintf(stderr, "mkt_jsonschema_new failed but returned a schema\n");
		abort();
	}
	mkt_jsonschema_free(s);
	json_decref(doc);
	return 0;
}

/*
 * params.c: a JSON object from --params FILE and --param KEY=VALUE.
 */
#include <config.h>

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/alloc.h"
#include "common/error.h"

#include "input.h"
#include "object.h"
#include "params.h"

/* The object in @file; a usage-free error naming @file otherwise. */
static int load_file(json_t **out, const char *file)
{
	json_error_t jerr;
	char *text = NULL;
	int ret;

	*out = NULL;
	if ((ret = mkt_input_read(&text, file, "parameters file")) < 0)
		return ret;
	*out = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
	free(text);
	if (!*out)
		return mkt_error_set(MKT_ERROR, MKT_ERR_CONFIG,
				     "parameters file %s: not JSON: %s (line %d)",
				     strcmp(file, "-") ? file : "(standard input)", jerr.text,
				     jerr.line);
	if (!json_is_object(*out)) {
		json_decref(*out);
		*out = NULL;
		return mkt_error_set(MKT_ERROR, MKT_ERR_CONFIG,
				     "parameters file %s: not a JSON object ({\"key\": value, ...})",
				     strcmp(file, "-") ? file : "(standard input)");
	}
	return 0;
}

/* VALUE as the JSON it spells, else as a string. */
static json_t *param_value(const char *text)
{
	json_t *v = json_loads(text, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, NULL);

	return v ? v : json_string(text);
}

int mkt_params_build(char **out, const char *file, const char *const *kv, size_t n)
{
	json_t *obj = NULL;
	size_t i;
	int ret = 0;

	*out = NULL;
	if (!file && n == 0)
		return 0;
	if (file && (ret = load_file(&obj, file)) < 0)
		return ret;
	if (!obj)
		obj = json_object();
	for (i = 0; i < n; i++) {
		const char *eq = strchr(kv[i], '=');
		char *key;
		json_t *v;

		if (!eq || eq == kv[i]) {
			ret = mkt_object_usage("invalid --param '%s': expected KEY=VALUE, e.g. size=S or replicas=2",
					       kv[i]);
			goto cleanup;
		}
		key = mkt_strndup(kv[i], (size_t)(eq - kv[i]));
		v = param_value(eq + 1);
		if (!v || json_object_set_new(obj, key, v) < 0) {
			ret = mkt_object_usage("invalid --param '%s': not UTF-8 text", kv[i]);
			free(key);
			goto cleanup;
		}
		free(key);
	}
	if (!(*out = json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER)))
		ret = mkt_error_set(MKT_ERROR, MKT_ERR_CONFIG, "cannot write the parameters as JSON");

 cleanup:
	json_decref(obj);
	return ret;
}

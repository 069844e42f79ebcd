/*
 * jsonschema_fuzz.c: libFuzzer target for the JSON Schema checker
 * (common/jsonschema.h): a broker's plan schema, and the parameters a user
 * sends for it.
 *
 * An input [schema, instance] is both; any other JSON value is a schema
 * validated against itself.  Schemas are untrusted: compiling and
 * validating must end with an answer, never a crash, a leak or an
 * unbounded recursion.
 */
#include <config.h>

#include <stdint.h>
#include <jansson.h>

#include "common/error.h"
#include "common/jsonschema.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *root = json_loadb((const char *)data, size, JSON_DECODE_ANY, NULL);
	json_t *schema = root, *instance = root;
	mkt_jsonschema *js = NULL;

	if (!root)
		return 0;
	if (json_is_array(root) && json_array_size(root) == 2) {
		schema = json_array_get(root, 0);
		instance = json_array_get(root, 1);
	}
	if (mkt_jsonschema_new(&js, schema) == 0)
		(void)mkt_jsonschema_validate(js, instance, "parameters");
	mkt_jsonschema_free(js);
	json_decref(root);
	mkt_error_clear();
	return 0;
}

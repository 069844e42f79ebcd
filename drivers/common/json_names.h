/*
 * json_names.h: what the catalog drivers (one, osb) call a JSON value in
 * their messages ("ENDPOINT's catalog … is a list, not an object").
 * Header only, so that the helper library itself needs no jansson.
 */
#ifndef MKT_DRV_JSON_NAMES_H
#define MKT_DRV_JSON_NAMES_H

#include <jansson.h>

/* "an object", "a list", "a string", "a number", "a boolean", "null";
 * "missing" for NULL. */
static inline const char *mkt_drv_json_type_name(const json_t *v)
{
	static const char *const names[] = {
		[JSON_OBJECT] = "an object", [JSON_ARRAY] = "a list",
		[JSON_STRING] = "a string", [JSON_INTEGER] = "a number",
		[JSON_REAL] = "a number", [JSON_TRUE] = "a boolean",
		[JSON_FALSE] = "a boolean", [JSON_NULL] = "null",
	};

	return v ? names[json_typeof(v)] : "missing";
}

#endif

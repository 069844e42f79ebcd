/*
 * params.h: the PARAMETERS of a service instance or binding, built from
 * `--params FILE` (a JSON object) and `--param KEY=VALUE` options.
 */
#ifndef MKT_PARAMS_H
#define MKT_PARAMS_H

#include <stddef.h>

/*
 * One JSON object, compact, in *out (malloc'ed): the object in @file
 * ("-" is standard input; NULL for none), then each of the @n "KEY=VALUE"
 * strings of @kv set in it in turn (a later KEY replaces an earlier one
 * and the file's).  VALUE is the JSON value it spells when it is one
 * (2, true, null, "text", {"a": 1}, [1, 2]), else a string.  *out is NULL
 * when there is neither a file nor a KEY=VALUE.
 *
 * A KEY=VALUE without "=" or with an empty KEY is a usage error
 * (MKT_CLI_EUSAGE); a file that cannot be read or holds no JSON object is
 * MKT_ERROR; both with a message naming the culprit.
 */
int mkt_params_build(char **out, const char *file, const char *const *kv, size_t n);

#endif

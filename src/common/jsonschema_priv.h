/*
 * jsonschema_priv.h: what jsonschema.c and jsonschema_regex.c share.  Not
 * part of the module's contract: include only from those two files (and
 * the unit test, which checks the ECMA-262 translation directly).
 */
#ifndef MKT_JSONSCHEMA_PRIV_H
#define MKT_JSONSCHEMA_PRIV_H

#include <regex.h>
#include <stddef.h>

/* What mkt_jsonschema__regex_compile() found. */
typedef enum {
	MKT_JSONSCHEMA_RE_OK = 0,
	MKT_JSONSCHEMA_RE_UNSUPPORTED, /* valid ECMA-262 we cannot express: left to the broker */
	MKT_JSONSCHEMA_RE_INVALID      /* not a regular expression: the schema is malformed */
} mkt_jsonschema_re_status;

/* Translate the ECMA-262 @pattern (@len bytes of UTF-8) to a POSIX ERE.
 * On MKT_JSONSCHEMA_RE_OK *out is the ERE (caller frees); otherwise *out
 * is NULL and @why (of @why_size bytes) says what was wrong. */
mkt_jsonschema_re_status mkt_jsonschema__regex_translate(char **out, const char *pattern,
							 size_t len, char *why, size_t why_size);

/* Translate and regcomp() @pattern in the C.UTF-8 locale, so that `.`,
 * bracket expressions and ranges see code points, not bytes.  On OK the
 * caller owns *re (regfree). */
mkt_jsonschema_re_status mkt_jsonschema__regex_compile(regex_t *re, const char *pattern,
						       size_t len, char *why, size_t why_size);

/* 1 when @re matches somewhere in @s (@len bytes, NULs allowed), 0 when it
 * does not, -1 when the matcher gave up (out of memory).  glibc reads only
 * @len bytes, but @s[@len] must be a NUL all the same: sanitizers'
 * regexec interceptors read @s as a C string. */
int mkt_jsonschema__regex_search(const regex_t *re, const char *s, size_t len);

#endif

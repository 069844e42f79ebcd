/*
 * template.h: OpenNebula template attributes, their text syntax and XML form.
 *
 * One parser serves the daemon configuration (marketd.conf) and every object
 * template sent over the API, so both accept exactly the same syntax:
 *
 *     # comment to end of line
 *     NAME = "a value"            quoted: \" and \\ escape, may span lines
 *     SIZE = 1024                 unquoted: runs to the end of the line
 *     DISK = [ IMAGE = "x",       vector: comma or newline separated pairs,
 *              SIZE  = "2" ]      may span lines
 *
 * Attribute names are case-insensitive and stored upper-case; names are
 * [A-Za-z0-9_.-]+ and may repeat (a template is a multimap).  Values are
 * UTF-8 strings; an empty value is allowed.
 *
 * The XML form is the one oned uses inside <TEMPLATE>: <NAME>value</NAME>
 * for a single attribute, <DISK><IMAGE>x</IMAGE></DISK> for a vector,
 * attributes in name order (stable for repeated names), vector members in
 * name order.
 */
#ifndef MKT_TEMPLATE_H
#define MKT_TEMPLATE_H

#include <stddef.h>
#include <libxml/tree.h>
#include <stdio.h>
#include <sys/types.h>

#include "buf.h"

typedef struct mkt_template mkt_template;
typedef struct mkt_tattr mkt_tattr;

mkt_template *mkt_template_new(void);
void mkt_template_free(mkt_template *t);           /* accepts NULL */
mkt_template *mkt_template_dup(const mkt_template *t);

/*
 * Parse template text.  On failure returns MKT_EINVAL and sets an error
 * naming the line: "syntax error at line 3: unterminated quoted value".
 */
int mkt_template_parse(mkt_template **out, const char *text);

/*
 * Parse the children of an XML element (usually <TEMPLATE>): an element
 * with element children is a vector, any other element a single value
 * (its text, CDATA included).  Returns 0, or MKT_EINVAL for a vector nested
 * in a vector.
 */
int mkt_template_parse_xml_node(mkt_template **out, xmlNodePtr node);

/*
 * oned's parse_str_or_xml: text whose first non-blank character is '<' is
 * parsed as XML (the root element's children are the attributes, whatever
 * the root's name), anything else as template text.  Malformed XML gives
 * MKT_EINVAL with libxml2's message.
 */
int mkt_template_parse_any(mkt_template **out, const char *text);
/* Where the XML of @text starts when mkt_template_parse_any() would read
 * it as XML (after a byte order mark and blanks), else NULL. */
const char *mkt_template_xml_start(const char *text);

/*
 * Template text too big to hold (a catalog's monitor answer), read one
 * attribute at a time from @read, which gives what it has (as read(2):
 * > 0 bytes, 0 at the end, < 0 with errno), so an attribute is returned
 * as soon as its text has come, before the rest of the text was written.
 */
typedef ssize_t (*mkt_template_read_fn)(void *src, char *buf, size_t size);
typedef struct mkt_template_reader mkt_template_reader;

mkt_template_reader *mkt_template_reader_new(mkt_template_read_fn read, void *src, size_t max);
void mkt_template_reader_free(mkt_template_reader *r);    /* accepts NULL */

/*
 * The next attribute: 1 with it, 0 at the end of the text, MKT_EINVAL for
 * one with a syntax error or longer than @max bytes (the reader has moved
 * past it: the caller may go on), another error when @read failed.
 *
 * A line NAME="value" whose name is upper-case and whose value is ASCII
 * without quotes or backslashes (every APP="<base64>" line) is not parsed
 * but cut out of the reader's buffer: with @name given, *name and *value
 * point there, valid until the next call, and *out is NULL.  Anything
 * else, and every attribute when @name is NULL, comes as *out, the
 * template of its text; both ways read the same attributes.
 */
int mkt_template_reader_next(mkt_template_reader *r, const char **name, const char **value,
			     mkt_template **out);

/* Template text carried as base64 (APP lines, APPTEMPLATE64): decoded and
 * parsed; MKT_EINVAL for bad base64, a NUL byte or bad syntax. */
int mkt_template_parse_base64(mkt_template **out, const char *b64);

/* Number of attributes, and the i-th in insertion order (borrowed). */
size_t mkt_template_size(const mkt_template *t);
const mkt_tattr *mkt_template_at(const mkt_template *t, size_t i);

/* First attribute with this name (case-insensitive), or NULL. */
const mkt_tattr *mkt_template_find(const mkt_template *t, const char *name);
size_t mkt_template_count(const mkt_template *t, const char *name);

/* Value of the first single-valued attribute @name, NULL if none. */
const char *mkt_template_get(const mkt_template *t, const char *name);

/* The same, but NULL for an empty value too.  Attributes that name content
 * or a choice (PATH, IMPORT_SOURCE, FROM_APP, ORIGIN_ID, MARKET_MAD...)
 * are read with this one, so that the check of a request and the action
 * it leads to can never tell "absent" and "empty" apart differently. */
const char *mkt_template_value(const mkt_template *t, const char *name);

/* Typed getters: 0 on success, MKT_ENOTFOUND when absent (out untouched),
 * MKT_EINVAL with an error naming the attribute when the value is not a
 * number / boolean.  Booleans accept YES/NO, TRUE/FALSE, 1/0 (any case). */
int mkt_template_get_long(const mkt_template *t, const char *name, long long *out);
int mkt_template_get_bool(const mkt_template *t, const char *name, int *out);

/* Replace every attribute @name by one single value (appended at the end). */
void mkt_template_set(mkt_template *t, const char *name, const char *value);
/* Append a single-valued attribute (names may repeat). */
void mkt_template_add(mkt_template *t, const char *name, const char *value);
/* Append an empty vector attribute and return it (borrowed from @t). */
mkt_tattr *mkt_template_add_vector(mkt_template *t, const char *name);
/* Remove every attribute named @name; returns how many were removed. */
size_t mkt_template_remove(mkt_template *t, const char *name);

/* oned's merge (update type 1): every name present in @src replaces all
 * attributes of that name in @dst; other attributes of @dst stay. */
void mkt_template_merge(mkt_template *dst, const mkt_template *src);

/* Append <TEMPLATE>…</TEMPLATE> (or <@root>) to @b. */
void mkt_template_format_xml(const mkt_template *t, mkt_buf *b, const char *root);

/* Append the text form, one attribute per line, values quoted and escaped,
 * so that mkt_template_parse() of the result gives the same template. */
void mkt_template_format_text(const mkt_template *t, mkt_buf *b);

/* Attributes. */
const char *mkt_tattr_name(const mkt_tattr *a);
int mkt_tattr_is_vector(const mkt_tattr *a);
const char *mkt_tattr_value(const mkt_tattr *a);        /* NULL for a vector */
/* Vector members: count, i-th name/value, lookup by name (NULL if absent). */
size_t mkt_tattr_vector_size(const mkt_tattr *a);
const char *mkt_tattr_vector_name(const mkt_tattr *a, size_t i);
const char *mkt_tattr_vector_value(const mkt_tattr *a, size_t i);
const char *mkt_tattr_vector_get(const mkt_tattr *a, const char *name);
/* Set (replace or append) a member of a vector attribute. */
void mkt_tattr_vector_set(mkt_tattr *a, const char *name, const char *value);

#endif

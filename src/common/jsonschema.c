/*
 * jsonschema.c: draft-04 JSON Schema validation for the keywords in
 * jsonschema.h.
 *
 * Two walks over one keyword table: mkt_jsonschema_new() checks each
 * keyword's shape and compiles the patterns once, so that validation, which
 * runs per request, can trust the schema and never reports a broker's
 * mistake as the user's.  Both walks are bounded by
 * MKT_JSONSCHEMA_MAX_DEPTH; validation only descends into an instance where
 * the schema does, so the instance's own depth never matters.
 */
#include <config.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "buf.h"
#include "error.h"
#include "jsonschema.h"
#include "jsonschema_priv.h"
#include "strmap.h"

struct mkt_jsonschema {
	json_t *schema;
	/* Pattern text -> index in res[], or -1 for a pattern we cannot
	 * check (jsonschema_regex.c), which then passes everything. */
	mkt_strmap *patterns;
	regex_t **res;
	size_t nres;
};

/* Instance types, as bits so that "number" is integer|real. */
enum {
	T_NULL = 1 << 0,
	T_BOOLEAN = 1 << 1,
	T_INTEGER = 1 << 2,
	T_REAL = 1 << 3,
	T_STRING = 1 << 4,
	T_ARRAY = 1 << 5,
	T_OBJECT = 1 << 6,
	T_NUMBER = T_INTEGER | T_REAL,
	T_ANY = (1 << 7) - 1
};

static const struct {
	const char *name;
	int bits;
} type_names[] = {
	{ "null", T_NULL }, { "boolean", T_BOOLEAN }, { "integer", T_INTEGER },
	{ "number", T_NUMBER }, { "string", T_STRING }, { "array", T_ARRAY },
	{ "object", T_OBJECT },
};

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

/* How much of a string a message quotes, in bytes. */
#define QUOTE_MAX 64
/* How many enum values a message lists. */
#define ENUM_LIST_MAX 8

static int type_bit(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT: return T_OBJECT;
	case JSON_ARRAY: return T_ARRAY;
	case JSON_STRING: return T_STRING;
	case JSON_INTEGER: return T_INTEGER;
	case JSON_REAL: return T_REAL;
	case JSON_TRUE:
	case JSON_FALSE: return T_BOOLEAN;
	default: return T_NULL;
	}
}

/* The bits of a "type" name, 0 for an unknown name. */
static int type_name_bits(const json_t *name)
{
	size_t i;

	for (i = 0; i < N_ELEMS(type_names); i++)
		if (json_is_string(name) && strcmp(json_string_value(name), type_names[i].name) == 0)
			return type_names[i].bits;
	return 0;
}

/* ------------------------------------------------------------ values */

/* -1, 0 or 1 as @i is less than, equal to or greater than @d, exactly:
 * 2^53 + 1 converted to a double would round, so the integral part of @d
 * is compared as an integer instead. */
static int int_real_cmp(json_int_t i, double d)
{
	json_int_t t;

	if (d != d)
		return 0;
	if (d >= 9223372036854775808.0)
		return -1;
	if (d < -9223372036854775808.0)
		return 1;
	t = (json_int_t)d;     /* truncated, exactly representable */
	if (i != t)
		return i < t ? -1 : 1;
	return d > (double)t ? -1 : d < (double)t ? 1 : 0;
}

static int num_cmp(const json_t *a, const json_t *b)
{
	if (json_is_integer(a) && json_is_integer(b)) {
		json_int_t x = json_integer_value(a), y = json_integer_value(b);

		return x < y ? -1 : x > y;
	}
	if (json_is_integer(a))
		return int_real_cmp(json_integer_value(a), json_real_value(b));
	if (json_is_integer(b))
		return -int_real_cmp(json_integer_value(b), json_real_value(a));
	return json_real_value(a) < json_real_value(b) ? -1 :
	       json_real_value(a) > json_real_value(b);
}

/* draft-04 equality: numbers by value (1 equals 1.0, which json_equal()
 * denies), containers member by member.  The recursion ends with the
 * shallower side, and enum values nest at most MKT_JSONSCHEMA_MAX_DEPTH. */
static int equal(const json_t *a, const json_t *b)
{
	const char *key;
	json_t *av;
	size_t i;

	if (json_is_number(a) && json_is_number(b))
		return num_cmp(a, b) == 0;
	if (json_typeof(a) != json_typeof(b))
		return 0;
	switch (json_typeof(a)) {
	case JSON_STRING:
		return json_string_length(a) == json_string_length(b) &&
		       memcmp(json_string_value(a), json_string_value(b), json_string_length(a)) == 0;
	case JSON_ARRAY:
		if (json_array_size(a) != json_array_size(b))
			return 0;
		for (i = 0; i < json_array_size(a); i++)
			if (!equal(json_array_get(a, i), json_array_get(b, i)))
				return 0;
		return 1;
	case JSON_OBJECT:
		if (json_object_size(a) != json_object_size(b))
			return 0;
		json_object_foreach((json_t *)a, key, av) {
			json_t *bv = json_object_get(b, key);

			if (!bv || !equal(av, bv))
				return 0;
		}
		return 1;
	default:
		return 1;      /* true, false, null */
	}
}

static int nests_deeper(const json_t *v, int depth)
{
	const char *key;
	json_t *child;
	size_t i;

	if (depth > MKT_JSONSCHEMA_MAX_DEPTH)
		return 1;
	if (json_is_array(v)) {
		json_array_foreach(v, i, child)
			if (nests_deeper(child, depth + 1))
				return 1;
	} else if (json_is_object(v)) {
		json_object_foreach((json_t *)v, key, child)
			if (nests_deeper(child, depth + 1))
				return 1;
	}
	return 0;
}

/* Characters of a UTF-8 string: bytes that do not continue a sequence. */
static size_t code_points(const json_t *s)
{
	const unsigned char *p = (const unsigned char *)json_string_value(s);
	size_t i, n = 0, len = json_string_length(s);

	for (i = 0; i < len; i++)
		n += (p[i] & 0xc0) != 0x80;
	return n;
}

/* A JSON string literal of @s (@len bytes), cut at QUOTE_MAX bytes on a
 * character boundary. */
static void put_quoted(mkt_buf *b, const char *s, size_t len)
{
	size_t i, n = len;

	if (n > QUOTE_MAX) {
		n = QUOTE_MAX;
		while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;
	}
	mkt_buf_addc(b, '"');
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '"' || c == '\\')
			mkt_buf_printf(b, "\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			mkt_buf_printf(b, "\\u%04x", c);
		else
			mkt_buf_addc(b, (char)c);
	}
	mkt_buf_add(b, n < len ? "\"..." : "\"");
}

/* A short description of @v for a message: scalars as JSON, containers
 * by kind (an instance may be megabytes). */
static void put_value(mkt_buf *b, const json_t *v)
{
	char num[64];

	switch (json_typeof(v)) {
	case JSON_OBJECT: mkt_buf_add(b, "an object"); break;
	case JSON_ARRAY: mkt_buf_add(b, "an array"); break;
	case JSON_STRING: put_quoted(b, json_string_value(v), json_string_length(v)); break;
	case JSON_INTEGER: mkt_buf_printf(b, "%" JSON_INTEGER_FORMAT, json_integer_value(v)); break;
	case JSON_REAL:
		/* The shortest of %.15g and %.17g that reads back the same:
		 * 1.1, not 1.1000000000000001. */
		snprintf(num, sizeof(num), "%.15g", json_real_value(v));
		if (strtod(num, NULL) != json_real_value(v))
			snprintf(num, sizeof(num), "%.17g", json_real_value(v));
		mkt_buf_add(b, num);
		break;
	case JSON_TRUE: mkt_buf_add(b, "true"); break;
	case JSON_FALSE: mkt_buf_add(b, "false"); break;
	default: mkt_buf_add(b, "null"); break;
	}
}

/* -------------------------------------------------------------- paths */

typedef struct {
	const char *key;      /* NULL: an array index */
	size_t index;
} segment;

typedef struct {
	/* A schema level adds at most two segments (keyword, key or index). */
	segment seg[2 * MKT_JSONSCHEMA_MAX_DEPTH + 8];
	size_t n;
	size_t dropped;       /* pushes beyond seg[], so pops stay balanced */
} path;

static void push_key(path *p, const char *key)
{
	if (p->n < N_ELEMS(p->seg))
		p->seg[p->n++] = (segment){ key, 0 };
	else
		p->dropped++;
}

static void push_index(path *p, size_t index)
{
	if (p->n < N_ELEMS(p->seg))
		p->seg[p->n++] = (segment){ NULL, index };
	else
		p->dropped++;
}

static void pop(path *p)
{
	if (p->dropped)
		p->dropped--;
	else if (p->n)
		p->n--;
}

static int is_identifier(const char *s)
{
	if (!*s || (*s >= '0' && *s <= '9'))
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '_' || *s == '-'))
			return 0;
	return 1;
}

/* Paths longer than this many segments show their first and last ones
 * only: a message is one line, and a nesting bomb's path is not. */
#define PATH_HEAD 4
#define PATH_TAIL 8

/* The segments put_*_path show, with ".." or "/..." for the others. */
static int path_elides(const path *p, size_t i)
{
	return p->n > PATH_HEAD + PATH_TAIL && i >= PATH_HEAD && i < p->n - PATH_TAIL;
}

/* An instance location: root.key, root["odd key"], root[3]. */
static void put_instance_path(mkt_buf *b, const char *root, const path *p)
{
	size_t i;

	mkt_buf_add(b, root ? root : "$");
	for (i = 0; i < p->n; i++) {
		const segment *s = &p->seg[i];

		if (path_elides(p, i)) {
			if (i == PATH_HEAD)
				mkt_buf_add(b, "...");
		} else if (!s->key) {
			mkt_buf_printf(b, "[%zu]", s->index);
		} else if (is_identifier(s->key) && strlen(s->key) <= QUOTE_MAX) {
			mkt_buf_printf(b, ".%s", s->key);
		} else {
			mkt_buf_addc(b, '[');
			put_quoted(b, s->key, strlen(s->key));
			mkt_buf_addc(b, ']');
		}
	}
}

/* A schema location as a JSON pointer (RFC 6901): #/properties/a~1b. */
static void put_schema_pointer(mkt_buf *b, const path *p)
{
	const char *c;
	size_t i;

	mkt_buf_addc(b, '#');
	for (i = 0; i < p->n; i++) {
		if (path_elides(p, i)) {
			if (i == PATH_HEAD)
				mkt_buf_add(b, "/...");
			continue;
		}
		if (!p->seg[i].key) {
			mkt_buf_printf(b, "/%zu", p->seg[i].index);
			continue;
		}
		mkt_buf_addc(b, '/');
		for (c = p->seg[i].key; *c; c++) {
			if (*c == '~')
				mkt_buf_add(b, "~0");
			else if (*c == '/')
				mkt_buf_add(b, "~1");
			else
				mkt_buf_addc(b, *c);
		}
	}
}

/* ------------------------------------------------------- keyword table */

typedef struct {
	mkt_jsonschema *s;
	path at;
} checker;

typedef struct {
	const mkt_jsonschema *s;
	const char *root;
	path at;
	mkt_buf why;          /* the violation, without its path */
} validator;

typedef struct {
	const char *name;
	int applies;          /* the instance types it constrains */
	/* Is @value (the keyword's value in @schema) well formed? */
	int (*check)(checker *c, const json_t *schema, const json_t *value, int depth);
	/* Does @inst satisfy it?  NULL: read by another keyword. */
	int (*validate)(validator *v, const json_t *schema, const json_t *value,
			const json_t *inst, int depth);
} keyword;

static int check_schema(checker *c, const json_t *schema, int depth);
static int validate_schema(validator *v, const json_t *schema, const json_t *inst, int depth);

static int schema_error(checker *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int schema_error(checker *c, const char *fmt, ...)
{
	mkt_buf b = MKT_BUF_INIT;
	va_list ap;
	char detail[512];
	int rc;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	mkt_buf_add(&b, "schema ");
	put_schema_pointer(&b, &c->at);
	rc = mkt_error_set(MKT_EINVAL, MKT_ERR_JSONSCHEMA, "%s: %s", mkt_buf_cstr(&b), detail);
	mkt_buf_free(&b);
	return rc;
}

/* Report v->why at the current instance path. */
static int invalid(validator *v)
{
	mkt_buf b = MKT_BUF_INIT;
	int rc;

	put_instance_path(&b, v->root, &v->at);
	rc = mkt_error_set(MKT_EINVAL, MKT_ERR_JSONSCHEMA, "%s: %s", mkt_buf_cstr(&b),
			   mkt_buf_cstr(&v->why));
	mkt_buf_free(&b);
	return rc;
}

/* Validate @inst[key] or @inst[index] against @schema, one level down. */
static int validate_member(validator *v, const json_t *schema, const char *key, size_t index,
			   const json_t *inst, int depth)
{
	int rc;

	if (key)
		push_key(&v->at, key);
	else
		push_index(&v->at, index);
	rc = validate_schema(v, schema, inst, depth + 1);
	pop(&v->at);
	return rc;
}

/* --------------------------------------------------------- patterns */

static int compile_pattern(checker *c, const char *text)
{
	mkt_jsonschema *s = c->s;
	regex_t re;
	char why[256];
	int idx;

	if (mkt_strmap_get(s->patterns, text, &idx))
		return 0;
	switch (mkt_jsonschema__regex_compile(&re, text, strlen(text), why, sizeof(why))) {
	case MKT_JSONSCHEMA_RE_OK:
		s->res = mkt_realloc(s->res, (s->nres + 1) * sizeof(*s->res));
		s->res[s->nres] = mkt_malloc(sizeof(re));
		*s->res[s->nres] = re;
		mkt_strmap_put(s->patterns, text, (int)s->nres++);
		return 0;
	case MKT_JSONSCHEMA_RE_UNSUPPORTED:
		mkt_strmap_put(s->patterns, text, -1);
		return 0;
	default:
		return schema_error(c, "invalid regular expression %s: %s", text, why);
	}
}

/* 1 if @pattern matches @text, 0 if not, -1 if we cannot tell. */
static int pattern_search(const mkt_jsonschema *s, const char *pattern, size_t pattern_len,
			  const char *text, size_t len)
{
	int idx;

	/* A pattern with a NUL (a hand-built json_t) was compiled cut short.
	 * glibc's matcher is no backtracker, but its time still grows with
	 * the square of the text for some patterns: a broker's pattern and a
	 * user's long string must not stall an RPC worker. */
	if (strlen(pattern) != pattern_len || len > MKT_JSONSCHEMA_PATTERN_TEXT_MAX ||
	    !mkt_strmap_get(s->patterns, pattern, &idx) || idx < 0)
		return -1;
	return mkt_jsonschema__regex_search(s->res[idx], text, len);
}

/* ------------------------------------------------------------ checks */

static int check_type(checker *c, const json_t *schema, const json_t *value, int depth)
{
	const json_t *name;
	size_t i;

	if (json_is_string(value))
		return type_name_bits(value) ? 0 :
		       schema_error(c, "unknown type \"%s\"", json_string_value(value));
	if (!json_is_array(value) || json_array_size(value) == 0)
		return schema_error(c, "must be a type name or a non-empty array of them");
	json_array_foreach(value, i, name)
		if (!type_name_bits(name))
			return schema_error(c, "item %zu is not a type name", i);
	return 0;
}

static int check_enum(checker *c, const json_t *schema, const json_t *value, int depth)
{
	if (!json_is_array(value) || json_array_size(value) == 0)
		return schema_error(c, "must be a non-empty array");
	if (nests_deeper(value, 0))
		return schema_error(c, "values nest deeper than %d levels", MKT_JSONSCHEMA_MAX_DEPTH);
	return 0;
}

static int check_required(checker *c, const json_t *schema, const json_t *value, int depth)
{
	const json_t *name;
	size_t i;

	if (!json_is_array(value))
		return schema_error(c, "must be an array of property names");
	json_array_foreach(value, i, name)
		if (!json_is_string(name))
			return schema_error(c, "item %zu is not a string", i);
	return 0;
}

/* properties and patternProperties: an object of schemas. */
static int check_schema_map(checker *c, const json_t *schema, const json_t *value, int depth)
{
	int is_patterns = value == json_object_get(schema, "patternProperties");
	const char *key;
	json_t *sub;
	int rc = 0;

	if (!json_is_object(value))
		return schema_error(c, "must be an object of schemas");
	json_object_foreach((json_t *)value, key, sub) {
		push_key(&c->at, key);
		if (is_patterns)
			rc = compile_pattern(c, key);
		if (rc == 0)
			rc = check_schema(c, sub, depth + 1);
		pop(&c->at);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* additionalProperties, additionalItems: a boolean or a schema. */
static int check_additional(checker *c, const json_t *schema, const json_t *value, int depth)
{
	return json_is_boolean(value) ? 0 : check_schema(c, value, depth + 1);
}

static int check_number(checker *c, const json_t *schema, const json_t *value, int depth)
{
	return json_is_number(value) ? 0 : schema_error(c, "must be a number");
}

static int check_boolean(checker *c, const json_t *schema, const json_t *value, int depth)
{
	return json_is_boolean(value) ? 0 : schema_error(c, "must be a boolean");
}

static int check_length(checker *c, const json_t *schema, const json_t *value, int depth)
{
	return json_is_integer(value) && json_integer_value(value) >= 0 ? 0 :
	       schema_error(c, "must be a non-negative integer");
}

static int check_pattern(checker *c, const json_t *schema, const json_t *value, int depth)
{
	if (!json_is_string(value))
		return schema_error(c, "must be a string");
	if (strlen(json_string_value(value)) != json_string_length(value))
		return 0;      /* NUL inside: never compiled, never checked */
	return compile_pattern(c, json_string_value(value));
}

static int check_items(checker *c, const json_t *schema, const json_t *value, int depth)
{
	const json_t *sub;
	size_t i;
	int rc;

	if (!json_is_array(value))
		return check_schema(c, value, depth + 1);
	json_array_foreach(value, i, sub) {
		push_index(&c->at, i);
		rc = check_schema(c, sub, depth + 1);
		pop(&c->at);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* -------------------------------------------------------- validation */

static int validate_type(validator *v, const json_t *schema, const json_t *value,
			 const json_t *inst, int depth)
{
	const json_t *name;
	int bits = 0;
	size_t i;

	if (json_is_array(value)) {
		json_array_foreach(value, i, name)
			bits |= type_name_bits(name);
	} else {
		bits = type_name_bits(value);
	}
	if (!bits || (bits & type_bit(inst)))
		return 0;
	put_value(&v->why, inst);
	mkt_buf_add(&v->why, " is not of type ");
	if (json_is_array(value)) {
		size_t n = json_array_size(value);

		json_array_foreach(value, i, name)
			mkt_buf_printf(&v->why, "%s%s", i == 0 ? "" : i + 1 < n ? ", " : " or ",
				       json_is_string(name) ? json_string_value(name) : "?");
	} else {
		mkt_buf_add(&v->why, json_string_value(value));
	}
	return invalid(v);
}

static int validate_enum(validator *v, const json_t *schema, const json_t *value,
			 const json_t *inst, int depth)
{
	const json_t *e;
	size_t i;

	json_array_foreach(value, i, e)
		if (equal(inst, e))
			return 0;
	put_value(&v->why, inst);
	mkt_buf_add(&v->why, " is not one of ");
	json_array_foreach(value, i, e) {
		if (i == ENUM_LIST_MAX) {
			mkt_buf_add(&v->why, ", ...");
			break;
		}
		if (i)
			mkt_buf_add(&v->why, ", ");
		put_value(&v->why, e);
	}
	return invalid(v);
}

static int validate_required(validator *v, const json_t *schema, const json_t *value,
			     const json_t *inst, int depth)
{
	const json_t *name;
	size_t i;

	json_array_foreach(value, i, name) {
		if (!json_is_string(name) || json_object_get(inst, json_string_value(name)))
			continue;
		mkt_buf_add(&v->why, "the required property ");
		put_quoted(&v->why, json_string_value(name), json_string_length(name));
		mkt_buf_add(&v->why, " is missing");
		return invalid(v);
	}
	return 0;
}

static int validate_properties(validator *v, const json_t *schema, const json_t *value,
			       const json_t *inst, int depth)
{
	const char *key;
	json_t *sub;
	int rc;

	json_object_foreach((json_t *)value, key, sub) {
		const json_t *member = json_object_get(inst, key);

		if (member && (rc = validate_member(v, sub, key, 0, member, depth)) < 0)
			return rc;
	}
	return 0;
}

static int validate_pattern_properties(validator *v, const json_t *schema, const json_t *value,
				       const json_t *inst, int depth)
{
	const char *key, *pattern;
	json_t *member, *sub;
	int rc;

	json_object_foreach((json_t *)inst, key, member) {
		json_object_foreach((json_t *)value, pattern, sub) {
			if (pattern_search(v->s, pattern, strlen(pattern), key, strlen(key)) == 1 &&
			    (rc = validate_member(v, sub, key, 0, member, depth)) < 0)
				return rc;
		}
	}
	return 0;
}

/* Is @key matched by "properties" or a "patternProperties" pattern?  -1
 * when a pattern cannot tell. */
static int is_declared(const validator *v, const json_t *schema, const char *key)
{
	const json_t *patterns = json_object_get(schema, "patternProperties");
	const char *pattern;
	json_t *sub;
	int found = 0;

	if (json_object_get(json_object_get(schema, "properties"), key))
		return 1;
	json_object_foreach((json_t *)patterns, pattern, sub) {
		int m = pattern_search(v->s, pattern, strlen(pattern), key, strlen(key));

		if (m == 1)
			return 1;
		if (m < 0)
			found = -1;
	}
	return found;
}

static int validate_additional_properties(validator *v, const json_t *schema, const json_t *value,
					  const json_t *inst, int depth)
{
	const char *key;
	json_t *member;
	int rc;

	if (json_is_true(value))
		return 0;
	json_object_foreach((json_t *)inst, key, member) {
		if (is_declared(v, schema, key) != 0)   /* unknown counts as declared */
			continue;
		if (json_is_object(value)) {
			if ((rc = validate_member(v, value, key, 0, member, depth)) < 0)
				return rc;
			continue;
		}
		push_key(&v->at, key);
		mkt_buf_add(&v->why, "the property is not allowed here");
		rc = invalid(v);
		pop(&v->at);
		return rc;
	}
	return 0;
}

/* minimum and maximum, with draft-04's boolean exclusive flags. */
static int validate_bound(validator *v, const json_t *schema, const json_t *value,
			  const json_t *inst, int depth)
{
	int is_min = value == json_object_get(schema, "minimum");
	int exclusive = json_is_true(json_object_get(schema, is_min ? "exclusiveMinimum" :
										   "exclusiveMaximum"));
	int cmp;

	if (!json_is_number(value))
		return 0;
	cmp = num_cmp(inst, value) * (is_min ? 1 : -1);
	if (cmp > 0 || (cmp == 0 && !exclusive))
		return 0;
	put_value(&v->why, inst);
	mkt_buf_printf(&v->why, exclusive ? " is not %s than the exclusive %s " : " is %s than the %s ",
		       is_min ? (exclusive ? "greater" : "less") : (exclusive ? "less" : "greater"),
		       is_min ? "minimum" : "maximum");
	put_value(&v->why, value);
	return invalid(v);
}

/* minLength and maxLength, in code points. */
static int validate_length(validator *v, const json_t *schema, const json_t *value,
			   const json_t *inst, int depth)
{
	int is_min = value == json_object_get(schema, "minLength");
	json_int_t bound = json_integer_value(value);
	size_t n = code_points(inst);

	if (!json_is_integer(value) || bound < 0 ||
	    (is_min ? n >= (size_t)bound : n <= (size_t)bound))
		return 0;
	put_value(&v->why, inst);
	mkt_buf_printf(&v->why, " has %zu characters, %s than the %s length %" JSON_INTEGER_FORMAT,
		       n, is_min ? "fewer" : "more", is_min ? "minimum" : "maximum", bound);
	return invalid(v);
}

static int validate_pattern(validator *v, const json_t *schema, const json_t *value,
			    const json_t *inst, int depth)
{
	if (!json_is_string(value) ||
	    pattern_search(v->s, json_string_value(value), json_string_length(value),
			   json_string_value(inst), json_string_length(inst)) != 0)
		return 0;
	put_value(&v->why, inst);
	mkt_buf_add(&v->why, " does not match the pattern ");
	put_quoted(&v->why, json_string_value(value), json_string_length(value));
	return invalid(v);
}

static int validate_items(validator *v, const json_t *schema, const json_t *value,
			  const json_t *inst, int depth)
{
	const json_t *item;
	size_t i;
	int rc;

	json_array_foreach(inst, i, item) {
		const json_t *sub = json_is_array(value) ? json_array_get(value, i) : value;

		if (!sub)
			break;
		if ((rc = validate_member(v, sub, NULL, i, item, depth)) < 0)
			return rc;
	}
	return 0;
}

/* Items past an array of "items" schemas; nothing else is additional. */
static int validate_additional_items(validator *v, const json_t *schema, const json_t *value,
				     const json_t *inst, int depth)
{
	const json_t *items = json_object_get(schema, "items");
	size_t i, n = json_array_size(items);
	int rc;

	if (!json_is_array(items) || json_is_true(value) || json_array_size(inst) <= n)
		return 0;
	if (json_is_false(value)) {
		push_index(&v->at, n);
		mkt_buf_printf(&v->why, "the array may hold at most %zu items", n);
		rc = invalid(v);
		pop(&v->at);
		return rc;
	}
	for (i = n; i < json_array_size(inst); i++)
		if ((rc = validate_member(v, value, NULL, i, json_array_get(inst, i), depth)) < 0)
			return rc;
	return 0;
}

/* One row per keyword, in the order violations are looked for. */
static const keyword keywords[] = {
	{ "type", T_ANY, check_type, validate_type },
	{ "enum", T_ANY, check_enum, validate_enum },
	{ "required", T_OBJECT, check_required, validate_required },
	{ "properties", T_OBJECT, check_schema_map, validate_properties },
	{ "patternProperties", T_OBJECT, check_schema_map, validate_pattern_properties },
	{ "additionalProperties", T_OBJECT, check_additional, validate_additional_properties },
	{ "minimum", T_NUMBER, check_number, validate_bound },
	{ "exclusiveMinimum", T_NUMBER, check_boolean, NULL },
	{ "maximum", T_NUMBER, check_number, validate_bound },
	{ "exclusiveMaximum", T_NUMBER, check_boolean, NULL },
	{ "minLength", T_STRING, check_length, validate_length },
	{ "maxLength", T_STRING, check_length, validate_length },
	{ "pattern", T_STRING, check_pattern, validate_pattern },
	{ "items", T_ARRAY, check_items, validate_items },
	{ "additionalItems", T_ARRAY, check_additional, validate_additional_items },
};

static int check_schema(checker *c, const json_t *schema, int depth)
{
	size_t i;
	int rc;

	if (!json_is_object(schema))
		return schema_error(c, "a schema must be an object");
	if (depth > MKT_JSONSCHEMA_MAX_DEPTH)
		return schema_error(c, "schemas nest deeper than %d levels", MKT_JSONSCHEMA_MAX_DEPTH);
	if (json_object_get(schema, "$ref"))
		return 0;
	for (i = 0; i < N_ELEMS(keywords); i++) {
		const json_t *value = json_object_get(schema, keywords[i].name);

		if (!value)
			continue;
		push_key(&c->at, keywords[i].name);
		rc = keywords[i].check(c, schema, value, depth);
		pop(&c->at);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int validate_schema(validator *v, const json_t *schema, const json_t *inst, int depth)
{
	int bit = type_bit(inst);
	size_t i;
	int rc;

	/* Checked by mkt_jsonschema_new(); kept so a schema changed since
	 * cannot make this recurse without end. */
	if (!json_is_object(schema) || depth > MKT_JSONSCHEMA_MAX_DEPTH ||
	    json_object_get(schema, "$ref"))
		return 0;
	for (i = 0; i < N_ELEMS(keywords); i++) {
		const json_t *value;

		if (!keywords[i].validate || !(keywords[i].applies & bit))
			continue;
		value = json_object_get(schema, keywords[i].name);
		if (value && (rc = keywords[i].validate(v, schema, value, inst, depth)) < 0)
			return rc;
	}
	return 0;
}


/* ---------------------------------------------------------------- API */

int mkt_jsonschema_new(mkt_jsonschema **out, json_t *schema)
{
	mkt_jsonschema *s = mkt_calloc(1, sizeof(*s));
	checker *c = mkt_calloc(1, sizeof(*c));   /* its path is a few KiB */
	int rc;

	*out = NULL;
	s->schema = json_incref(schema);
	s->patterns = mkt_strmap_new();
	c->s = s;
	if ((rc = check_schema(c, schema, 0)) < 0)
		goto cleanup;
	*out = MKT_STEAL(s);
 cleanup:
	free(c);
	mkt_jsonschema_free(s);
	return rc;
}

int mkt_jsonschema_validate(const mkt_jsonschema *s, const json_t *instance, const char *root)
{
	validator *v = mkt_calloc(1, sizeof(*v));
	int rc;

	v->s = s;
	v->root = root;
	rc = validate_schema(v, s->schema, instance, 0);
	mkt_buf_free(&v->why);
	free(v);
	return rc;
}

void mkt_jsonschema_free(mkt_jsonschema *s)
{
	size_t i;

	if (!s)
		return;
	for (i = 0; i < s->nres; i++) {
		regfree(s->res[i]);
		free(s->res[i]);
	}
	free(s->res);
	mkt_strmap_free(s->patterns);
	json_decref(s->schema);
	free(s);
}

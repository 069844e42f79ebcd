/*
 * template.c: OpenNebula template attributes: the multimap itself, its
 * lookups and edits, and both output forms.  The readers live in
 * template_parse.c.
 */
#include <config.h>

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/xmlerror.h>
#include <libxml/xmlversion.h>

#include "alloc.h"
#include "error.h"
#include "template.h"
#include "template_priv.h"

/* ---------------------------------------------------------------- helpers */

int mkt_template__is_name_char(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
}

/* ASCII only: toupper() would depend on the locale of the daemon. */
static char upper(char c)
{
	return c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c;
}

char *mkt_template__upper_dup(const char *s, size_t n)
{
	char *p = mkt_strndup(s, n);
	char *q;

	for (q = p; *q; q++)
		*q = upper(*q);
	return p;
}

/* @stored is upper-case already; @name comes from a caller in any case. */
static int name_eq(const char *stored, const char *name)
{
	for (; *stored && upper(*name) == *stored; stored++, name++)
		;
	return *stored == '\0' && *name == '\0';
}

int mkt_template__is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/* Copy at most @n bytes of untrusted text into an error message, printable
 * ASCII only, so a message never carries control characters or a cut UTF-8
 * sequence. */
const char *mkt_template__quote_n(char *dst, size_t size, const char *src, size_t n)
{
	size_t i = 0;

	for (; n && *src && i + 4 < size; src++, n--)
		dst[i++] = *src == '\n' || *src == '\t' ? ' ' :
			   *src >= 0x20 && *src < 0x7f ? *src : '?';
	if (n && *src)
		dst[i++] = '.', dst[i++] = '.', dst[i++] = '.';
	dst[i] = '\0';
	return dst;
}

const char *mkt_template__quote(char *dst, size_t size, const char *src)
{
	return mkt_template__quote_n(dst, size, src, SIZE_MAX);
}

mkt_tattr *mkt_template__attr_new(const char *name, size_t len, char *value)
{
	mkt_tattr *a = mkt_calloc(1, sizeof(*a));

	a->name = mkt_template__upper_dup(name, len);
	a->value = value;
	return a;
}

static void attr_free(mkt_tattr *a)
{
	size_t i;

	if (!a)
		return;
	for (i = 0; i < a->nmembers; i++) {
		free(a->members[i].name);
		free(a->members[i].value);
	}
	free(a->members);
	free(a->name);
	free(a->value);
	free(a);
}

static mkt_tattr *attr_dup(const mkt_tattr *src)
{
	mkt_tattr *a = mkt_calloc(1, sizeof(*a));
	size_t i;

	a->name = mkt_strdup(src->name);
	a->value = mkt_strdup(src->value);
	if (src->nmembers) {
		a->members = mkt_malloc(src->nmembers * sizeof(*a->members));
		a->cmembers = a->nmembers = src->nmembers;
		for (i = 0; i < src->nmembers; i++) {
			a->members[i].name = mkt_strdup(src->members[i].name);
			a->members[i].value = mkt_strdup(src->members[i].value);
		}
	}
	return a;
}

/* Takes ownership of @name (upper-case) and @value. */
void mkt_template__member_append(mkt_tattr *a, char *name, char *value)
{
	if (a->nmembers == a->cmembers) {
		a->cmembers = a->cmembers ? a->cmembers * 2 : 4;
		a->members = mkt_realloc(a->members, a->cmembers * sizeof(*a->members));
	}
	a->members[a->nmembers].name = name;
	a->members[a->nmembers].value = value;
	a->nmembers++;
}

mkt_tattr *mkt_template__append(mkt_template *t, mkt_tattr *a)
{
	if (t->len == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 8;
		t->attrs = mkt_realloc(t->attrs, t->cap * sizeof(*t->attrs));
	}
	t->attrs[t->len++] = a;
	return a;
}

/* ----------------------------------------------------- stable name order */

typedef struct {
	const char *name;
	size_t idx;
} sort_key;

/* The index breaks ties, which makes qsort() stable. */
static int key_cmp(const void *pa, const void *pb)
{
	const sort_key *a = pa, *b = pb;
	int c = strcmp(a->name, b->name);

	if (c)
		return c;
	return a->idx < b->idx ? -1 : a->idx > b->idx;
}

static int key_cmp_name(const void *pa, const void *pb)
{
	return strcmp(((const sort_key *)pa)->name, ((const sort_key *)pb)->name);
}

static void keys_sort(sort_key *keys, size_t n)
{
	size_t i;

	/* Templates written by marketd itself are mostly in order already. */
	for (i = 1; i < n && strcmp(keys[i - 1].name, keys[i].name) <= 0; i++)
		;
	if (i < n)
		qsort(keys, n, sizeof(*keys), key_cmp);
}

static sort_key *attr_keys(const mkt_template *t)
{
	sort_key *keys = mkt_malloc(t->len * sizeof(*keys));
	size_t i;

	for (i = 0; i < t->len; i++) {
		keys[i].name = t->attrs[i]->name;
		keys[i].idx = i;
	}
	keys_sort(keys, t->len);
	return keys;
}

/* ------------------------------------------------------------ formatting */

static void format_vector_xml(const mkt_tattr *a, mkt_buf *b)
{
	sort_key *keys = mkt_malloc(a->nmembers * sizeof(*keys));
	size_t i;

	for (i = 0; i < a->nmembers; i++) {
		keys[i].name = a->members[i].name;
		keys[i].idx = i;
	}
	keys_sort(keys, a->nmembers);
	mkt_buf_printf(b, "<%s>", a->name);
	for (i = 0; i < a->nmembers; i++)
		mkt_buf_add_elem(b, keys[i].name, a->members[keys[i].idx].value);
	mkt_buf_printf(b, "</%s>", a->name);
	free(keys);
}

void mkt_template_format_xml(const mkt_template *t, mkt_buf *b, const char *root)
{
	sort_key *keys = attr_keys(t);
	const mkt_tattr *a;
	size_t i;

	if (!root)
		root = "TEMPLATE";
	mkt_buf_printf(b, "<%s>", root);
	for (i = 0; i < t->len; i++) {
		a = t->attrs[keys[i].idx];
		if (a->value)
			mkt_buf_add_elem(b, a->name, a->value);
		else
			format_vector_xml(a, b);
	}
	mkt_buf_printf(b, "</%s>", root);
	free(keys);
}

static void add_quoted(mkt_buf *b, const char *s)
{
	const char *run = s;

	mkt_buf_addc(b, '"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\') {
			mkt_buf_addn(b, run, (size_t)(s - run));
			mkt_buf_addc(b, '\\');
			run = s;
		}
	}
	mkt_buf_addn(b, run, (size_t)(s - run));
	mkt_buf_addc(b, '"');
}

void mkt_template_format_text(const mkt_template *t, mkt_buf *b)
{
	const mkt_tattr *a;
	size_t i, j;

	for (i = 0; i < t->len; i++) {
		a = t->attrs[i];
		mkt_buf_add(b, a->name);
		mkt_buf_addc(b, '=');
		if (a->value) {
			add_quoted(b, a->value);
		} else {
			mkt_buf_addc(b, '[');
			for (j = 0; j < a->nmembers; j++) {
				mkt_buf_add(b, j ? ",\n  " : "\n  ");
				mkt_buf_add(b, a->members[j].name);
				mkt_buf_addc(b, '=');
				add_quoted(b, a->members[j].value);
			}
			mkt_buf_add(b, " ]");
		}
		mkt_buf_addc(b, '\n');
	}
}

/* ------------------------------------------------------------- templates */

mkt_template *mkt_template_new(void)
{
	return mkt_calloc(1, sizeof(mkt_template));
}

void mkt_template_free(mkt_template *t)
{
	size_t i;

	if (!t)
		return;
	for (i = 0; i < t->len; i++)
		attr_free(t->attrs[i]);
	free(t->attrs);
	free(t);
}

mkt_template *mkt_template_dup(const mkt_template *t)
{
	mkt_template *d;
	size_t i;

	if (!t)
		return NULL;
	d = mkt_template_new();
	for (i = 0; i < t->len; i++)
		mkt_template__append(d, attr_dup(t->attrs[i]));
	return d;
}

size_t mkt_template_size(const mkt_template *t)
{
	return t->len;
}

const mkt_tattr *mkt_template_at(const mkt_template *t, size_t i)
{
	return i < t->len ? t->attrs[i] : NULL;
}

const mkt_tattr *mkt_template_find(const mkt_template *t, const char *name)
{
	size_t i;

	for (i = 0; i < t->len; i++)
		if (name_eq(t->attrs[i]->name, name))
			return t->attrs[i];
	return NULL;
}

size_t mkt_template_count(const mkt_template *t, const char *name)
{
	size_t i, n = 0;

	for (i = 0; i < t->len; i++)
		n += name_eq(t->attrs[i]->name, name);
	return n;
}

static const mkt_tattr *find_single(const mkt_template *t, const char *name)
{
	size_t i;

	for (i = 0; i < t->len; i++)
		if (t->attrs[i]->value && name_eq(t->attrs[i]->name, name))
			return t->attrs[i];
	return NULL;
}

const char *mkt_template_get(const mkt_template *t, const char *name)
{
	const mkt_tattr *a = find_single(t, name);

	return a ? a->value : NULL;
}

const char *mkt_template_value(const mkt_template *t, const char *name)
{
	const char *v = mkt_template_get(t, name);

	return v && *v ? v : NULL;
}

static int not_found(const char *name)
{
	char q[QUOTE_MAX + 4];

	return mkt_error_set(MKT_ENOTFOUND, MKT_ERR_TEMPLATE, "attribute %s is not set",
			     mkt_template__quote(q, sizeof(q), name));
}

int mkt_template_get_long(const mkt_template *t, const char *name, long long *out)
{
	const mkt_tattr *a = find_single(t, name);
	const char *s;
	char *end;
	char q[QUOTE_MAX + 4];
	long long v;

	if (!a)
		return not_found(name);
	for (s = a->value; mkt_template__is_blank(*s); s++)
		;
	/* strtoll() alone would also take "", "  \n 5" and "0x"-less junk. */
	if ((*s >= '0' && *s <= '9') ||
	    ((*s == '-' || *s == '+') && s[1] >= '0' && s[1] <= '9')) {
		errno = 0;
		v = strtoll(s, &end, 10);
		while (mkt_template__is_blank(*end))
			end++;
		if (*end == '\0' && errno == ERANGE)
			return mkt_error_set(MKT_EINVAL, MKT_ERR_TEMPLATE,
					     "attribute %s is out of range for an integer: \"%s\"",
					     a->name, mkt_template__quote(q, sizeof(q), a->value));
		if (*end == '\0') {
			*out = v;
			return 0;
		}
	}
	return mkt_error_set(MKT_EINVAL, MKT_ERR_TEMPLATE,
			     "attribute %s must be an integer, not \"%s\"",
			     a->name, mkt_template__quote(q, sizeof(q), a->value));
}

int mkt_template_get_bool(const mkt_template *t, const char *name, int *out)
{
	static const struct {
		const char *word;
		int value;
	} words[] = {
		{ "YES", 1 }, { "TRUE", 1 }, { "1", 1 },
		{ "NO", 0 }, { "FALSE", 0 }, { "0", 0 },
	};
	const mkt_tattr *a = find_single(t, name);
	const char *s, *e;
	char q[QUOTE_MAX + 4];
	size_t i, j, len;

	if (!a)
		return not_found(name);
	for (s = a->value; mkt_template__is_blank(*s); s++)
		;
	for (e = s + strlen(s); e > s && mkt_template__is_blank(e[-1]); e--)
		;
	len = (size_t)(e - s);
	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		for (j = 0; j < len && upper(s[j]) == words[i].word[j]; j++)
			;
		if (j == len && words[i].word[len] == '\0') {
			*out = words[i].value;
			return 0;
		}
	}
	return mkt_error_set(MKT_EINVAL, MKT_ERR_TEMPLATE,
			     "attribute %s must be YES or NO (or TRUE/FALSE, 1/0), not \"%s\"",
			     a->name, mkt_template__quote(q, sizeof(q), a->value));
}

void mkt_template_set(mkt_template *t, const char *name, const char *value)
{
	mkt_template_remove(t, name);
	mkt_template_add(t, name, value);
}

void mkt_template_add(mkt_template *t, const char *name, const char *value)
{
	mkt_template__append(t, mkt_template__attr_new(name, SIZE_MAX, mkt_strdup(value ? value : "")));
}

mkt_tattr *mkt_template_add_vector(mkt_template *t, const char *name)
{
	return mkt_template__append(t, mkt_template__attr_new(name, SIZE_MAX, NULL));
}

size_t mkt_template_remove(mkt_template *t, const char *name)
{
	size_t i, kept = 0;

	for (i = 0; i < t->len; i++) {
		if (name_eq(t->attrs[i]->name, name))
			attr_free(t->attrs[i]);
		else
			t->attrs[kept++] = t->attrs[i];
	}
	i = t->len - kept;
	t->len = kept;
	return i;
}

void mkt_template_merge(mkt_template *dst, const mkt_template *src)
{
	sort_key *keys = NULL;
	size_t *group = NULL;
	sort_key probe = { NULL, 0 };
	size_t i, k, kept = 0;

	if (dst == src || src->len == 0)
		return;
	/* Sorting src once keeps this O((n + m) log m) instead of a scan of
	 * dst per name. */
	keys = attr_keys(src);
	for (i = 0; i < dst->len; i++) {
		probe.name = dst->attrs[i]->name;
		if (bsearch(&probe, keys, src->len, sizeof(*keys), key_cmp_name))
			attr_free(dst->attrs[i]);
		else
			dst->attrs[kept++] = dst->attrs[i];
	}
	dst->len = kept;

	/* group[i]: where the run of src->attrs[i]'s name starts in keys. */
	group = mkt_malloc(src->len * sizeof(*group));
	for (k = 0; k < src->len; k++)
		group[keys[k].idx] = k && strcmp(keys[k - 1].name, keys[k].name) == 0 ?
				     group[keys[k - 1].idx] : k;
	/* Names in order of first appearance, each with all its attributes. */
	for (i = 0; i < src->len; i++) {
		if (keys[group[i]].idx != i)
			continue;
		for (k = group[i]; k < src->len && strcmp(keys[k].name, keys[group[i]].name) == 0; k++)
			mkt_template__append(dst, attr_dup(src->attrs[keys[k].idx]));
	}
	free(group);
	free(keys);
}

/* ------------------------------------------------------------- attributes */

const char *mkt_tattr_name(const mkt_tattr *a)
{
	return a->name;
}

int mkt_tattr_is_vector(const mkt_tattr *a)
{
	return a->value == NULL;
}

const char *mkt_tattr_value(const mkt_tattr *a)
{
	return a->value;
}

size_t mkt_tattr_vector_size(const mkt_tattr *a)
{
	return a->nmembers;
}

const char *mkt_tattr_vector_name(const mkt_tattr *a, size_t i)
{
	return i < a->nmembers ? a->members[i].name : NULL;
}

const char *mkt_tattr_vector_value(const mkt_tattr *a, size_t i)
{
	return i < a->nmembers ? a->members[i].value : NULL;
}

const char *mkt_tattr_vector_get(const mkt_tattr *a, const char *name)
{
	size_t i;

	for (i = 0; i < a->nmembers; i++)
		if (name_eq(a->members[i].name, name))
			return a->members[i].value;
	return NULL;
}

/* Parsed vectors may repeat a member; setting one leaves a single copy so
 * that a following get sees the new value. */
void mkt_tattr_vector_set(mkt_tattr *a, const char *name, const char *value)
{
	size_t i, kept = 0;
	int done = 0;

	if (a->value)
		return;
	for (i = 0; i < a->nmembers; i++) {
		if (!name_eq(a->members[i].name, name)) {
			a->members[kept++] = a->members[i];
		} else if (!done) {
			free(a->members[i].value);
			a->members[i].value = mkt_strdup(value ? value : "");
			a->members[kept++] = a->members[i];
			done = 1;
		} else {
			free(a->members[i].name);
			free(a->members[i].value);
		}
	}
	a->nmembers = kept;
	if (!done)
		mkt_template__member_append(a, mkt_template__upper_dup(name, SIZE_MAX), mkt_strdup(value ? value : ""));
}

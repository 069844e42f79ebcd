/*
 * template.c: OpenNebula template attributes, their text syntax and XML form.
 *
 * The text parser is a hand-written scanner over the NUL-terminated input:
 * it never looks past the terminating NUL, does not recurse, and reports the
 * first error with the line it was found on.  Templates arrive from API
 * clients, so every path must reject bad input cleanly rather than guess.
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

typedef struct {
	char *name;
	char *value;
} member;

struct mkt_tattr {
	char *name;             /* upper-case */
	char *value;            /* NULL for a vector */
	member *members;
	size_t nmembers;
	size_t cmembers;
};

struct mkt_template {
	/* Pointers rather than structs: attributes handed out by
	 * mkt_template_add_vector() must survive the array growing. */
	mkt_tattr **attrs;
	size_t len;
	size_t cap;
};

/* How much of a name or value an error message quotes. */
#define QUOTE_MAX 48

/* ---------------------------------------------------------------- helpers */

static int is_name_char(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
}

/* ASCII only: toupper() would depend on the locale of the daemon. */
static char upper(char c)
{
	return c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c;
}

static char *upper_dup(const char *s, size_t n)
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

static int is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/* Copy at most @n bytes of untrusted text into an error message, printable
 * ASCII only, so a message never carries control characters or a cut UTF-8
 * sequence. */
static const char *quote_n(char *dst, size_t size, const char *src, size_t n)
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

static const char *quote(char *dst, size_t size, const char *src)
{
	return quote_n(dst, size, src, SIZE_MAX);
}

static mkt_tattr *attr_new(const char *name, size_t len, char *value)
{
	mkt_tattr *a = mkt_calloc(1, sizeof(*a));

	a->name = upper_dup(name, len);
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
static void member_append(mkt_tattr *a, char *name, char *value)
{
	if (a->nmembers == a->cmembers) {
		a->cmembers = a->cmembers ? a->cmembers * 2 : 4;
		a->members = mkt_realloc(a->members, a->cmembers * sizeof(*a->members));
	}
	a->members[a->nmembers].name = name;
	a->members[a->nmembers].value = value;
	a->nmembers++;
}

static mkt_tattr *append(mkt_template *t, mkt_tattr *a)
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

/* ------------------------------------------------------------ text parser */

typedef struct {
	const char *p;
	long line;
	mkt_buf scratch;        /* reused for every quoted value */
	char what[24];
} parser;

static int syntax_error(long line, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int syntax_error(long line, const char *fmt, ...)
{
	char msg[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return mkt_error_set(MKT_EINVAL, MKT_ERR_TEMPLATE,
			     "syntax error at line %ld: %s", line, msg);
}

/* What the parser is looking at, for "expected X, found Y" messages. */
static const char *found(parser *ps)
{
	unsigned char c = (unsigned char)*ps->p;

	if (c == '\0')
		return "end of input";
	if (c == '\n')
		return "end of line";
	if (c > 0x20 && c < 0x7f)
		snprintf(ps->what, sizeof(ps->what), "'%c'", c);
	else
		snprintf(ps->what, sizeof(ps->what), "byte 0x%02x", c);
	return ps->what;
}

/* The header promises UTF-8 values, and XML output depends on it, so
 * reject anything else up front.  Returns the line of the first invalid
 * sequence, or 0. */
static long utf8_check(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	long line = 1;
	unsigned char lo, hi;
	int more;

	while (*p) {
		if (*p < 0x80) {
			line += *p++ == '\n';
			continue;
		}
		lo = 0x80;
		hi = 0xbf;
		if (*p >= 0xc2 && *p <= 0xdf) {
			more = 1;
		} else if (*p >= 0xe0 && *p <= 0xef) {
			more = 2;
			if (*p == 0xe0)
				lo = 0xa0;      /* overlong */
			else if (*p == 0xed)
				hi = 0x9f;      /* UTF-16 surrogates */
		} else if (*p >= 0xf0 && *p <= 0xf4) {
			more = 3;
			if (*p == 0xf0)
				lo = 0x90;      /* overlong */
			else if (*p == 0xf4)
				hi = 0x8f;      /* above U+10FFFF */
		} else {
			return line;
		}
		/* A NUL fails the range test, so this stops at the end. */
		if (p[1] < lo || p[1] > hi)
			return line;
		for (p += 2; --more > 0; p++)
			if (*p < 0x80 || *p > 0xbf)
				return line;
	}
	return 0;
}

static void skip_blanks(parser *ps)
{
	while (is_blank(*ps->p))
		ps->p++;
}

/* Blanks, newlines and comments: what may separate attributes. */
static void skip_space(parser *ps)
{
	for (;;) {
		skip_blanks(ps);
		if (*ps->p == '#')
			ps->p += strcspn(ps->p, "\n");
		if (*ps->p != '\n')
			return;
		ps->p++;
		ps->line++;
	}
}

/*
 * NAME followed by '=' and blanks.  @vec is the enclosing vector's name,
 * NULL at the top level; it only changes the wording of errors.
 */
static int parse_name(parser *ps, const char **name, size_t *len, const char *vec)
{
	const char *start = ps->p;
	char c;

	while (is_name_char((unsigned char)*ps->p))
		ps->p++;
	*name = start;
	*len = (size_t)(ps->p - start);
	c = *ps->p;
	if (*len == 0 && c == '=' && vec)
		return syntax_error(ps->line, "missing member name before '=' in vector %s",
				    vec);
	if (*len == 0 && c == '=')
		return syntax_error(ps->line, "missing attribute name before '='");
	if (*len == 0 && vec)
		return syntax_error(ps->line,
				    "expected a member name or ']' in vector %s, found %s",
				    vec, found(ps));
	if (*len == 0)
		return syntax_error(ps->line, "expected an attribute name, found %s",
				    found(ps));
	if (c != '=' && !is_blank(c) && c != '\n' && c != '\0' && c != '#' &&
	    c != ',' && c != ']')
		return syntax_error(ps->line,
				    "invalid character %s after %.*s in a name (names may contain only letters, digits, '_', '.' and '-')",
				    found(ps), (int)(*len > QUOTE_MAX ? QUOTE_MAX : *len), start);
	skip_blanks(ps);
	if (*ps->p != '=')
		return syntax_error(ps->line, "expected '=' after %.*s%s%s, found %s",
				    (int)(*len > QUOTE_MAX ? QUOTE_MAX : *len), start,
				    vec ? " in vector " : "", vec ? vec : "", found(ps));
	ps->p++;
	skip_blanks(ps);
	return 0;
}

/* "..." with \" and \\ escapes; any other backslash stays as it is, as in
 * oned.  @name is only for the error message. */
static int parse_quoted(parser *ps, char **out, const char *name, size_t len)
{
	long open = ps->line;
	const char *p = ps->p + 1;
	size_t run;

	mkt_buf_reset(&ps->scratch);
	while (*p != '"') {
		run = strcspn(p, "\"\\\n");
		mkt_buf_addn(&ps->scratch, p, run);
		p += run;
		if (*p == '\0') {
			ps->p = p;
			return syntax_error(open,
					    "unterminated quoted value of %.*s (missing closing '\"')",
					    (int)(len > QUOTE_MAX ? QUOTE_MAX : len), name);
		}
		if (*p == '\n') {
			ps->line++;
			mkt_buf_addc(&ps->scratch, *p++);
		} else if (*p == '\\') {
			if (p[1] == '"' || p[1] == '\\')
				p++;
			mkt_buf_addc(&ps->scratch, *p++);
		}
	}
	ps->p = p + 1;
	*out = mkt_strndup(mkt_buf_cstr(&ps->scratch), ps->scratch.len);
	return 0;
}

/* Up to (not including) one of @stops, trimmed. */
static char *parse_unquoted(parser *ps, const char *stops)
{
	const char *start = ps->p;
	const char *end = start + strcspn(start, stops);

	ps->p = end;
	while (end > start && is_blank(end[-1]))
		end--;
	return mkt_strndup(start, (size_t)(end - start));
}

/* After a quoted value or a vector: only a comment may follow. */
static int expect_eol(parser *ps, const char *after, const char *name)
{
	skip_blanks(ps);
	if (*ps->p == '#')
		ps->p += strcspn(ps->p, "\n");
	if (*ps->p == '\n' || *ps->p == '\0')
		return 0;
	return syntax_error(ps->line,
			    "unexpected %s after %s %s (one attribute per line; only a '#' comment may follow)",
			    found(ps), after, name);
}

static int parse_vector(parser *ps, mkt_tattr *a)
{
	long open = ps->line;
	const char *name;
	size_t len;
	char *value = NULL;
	int ret;

	ps->p++;
	for (;;) {
		skip_space(ps);
		if (*ps->p == '\0')
			return syntax_error(open, "unterminated vector %s (missing ']')",
					    a->name);
		if (*ps->p == ']') {
			ps->p++;
			return 0;
		}
		if ((ret = parse_name(ps, &name, &len, a->name)) < 0)
			return ret;
		if (*ps->p == '[')
			return syntax_error(ps->line,
					    "member %.*s of vector %s cannot be a vector (vectors do not nest)",
					    (int)(len > QUOTE_MAX ? QUOTE_MAX : len), name, a->name);
		if (*ps->p == '"') {
			if ((ret = parse_quoted(ps, &value, name, len)) < 0)
				return ret;
		} else {
			value = parse_unquoted(ps, "#\n,]");
		}
		member_append(a, upper_dup(name, len), MKT_STEAL(value));
		skip_blanks(ps);
		if (*ps->p == ',')
			ps->p++;
		else if (*ps->p != '\n' && *ps->p != '#' && *ps->p != ']' && *ps->p != '\0')
			return syntax_error(ps->line,
					    "expected ',' or ']' after the value of %s in vector %s, found %s",
					    a->members[a->nmembers - 1].name, a->name, found(ps));
	}
}

static int parse_text(mkt_template *t, parser *ps)
{
	const char *name;
	size_t len;
	char *value = NULL;
	mkt_tattr *a;
	int ret;

	for (;;) {
		skip_space(ps);
		if (*ps->p == '\0')
			return 0;
		if ((ret = parse_name(ps, &name, &len, NULL)) < 0)
			return ret;
		if (*ps->p == '[') {
			/* In the template before it is complete, so that an
			 * error frees it along with everything else. */
			a = append(t, attr_new(name, len, NULL));
			if ((ret = parse_vector(ps, a)) < 0 ||
			    (ret = expect_eol(ps, "']' closing vector", a->name)) < 0)
				return ret;
		} else if (*ps->p == '"') {
			if ((ret = parse_quoted(ps, &value, name, len)) < 0)
				return ret;
			a = append(t, attr_new(name, len, MKT_STEAL(value)));
			if ((ret = expect_eol(ps, "the quoted value of", a->name)) < 0)
				return ret;
		} else {
			value = parse_unquoted(ps, "#\n");
			append(t, attr_new(name, len, MKT_STEAL(value)));
		}
	}
}

int mkt_template_parse(mkt_template **out, const char *text)
{
	parser ps = { 0 };
	mkt_template *t = NULL;
	long bad;
	int ret;

	*out = NULL;
	if (!text)
		return mkt_error_set(MKT_EINVAL, MKT_ERR_TEMPLATE, "no template text");
	if ((bad = utf8_check(text)) > 0)
		return syntax_error(bad, "invalid UTF-8 sequence");
	ps.p = text;
	ps.line = 1;
	/* Editors on Windows like to start files with a byte order mark. */
	if (strncmp(ps.p, "\xef\xbb\xbf", 3) == 0)
		ps.p += 3;
	t = mkt_template_new();
	if ((ret = parse_text(t, &ps)) < 0)
		goto cleanup;
	*out = MKT_STEAL(t);
	ret = 0;
 cleanup:
	mkt_buf_free(&ps.scratch);
	mkt_template_free(t);
	return ret;
}

/* -------------------------------------------------------------- XML form */

static int xml_name_check(xmlNodePtr node)
{
	const xmlChar *p = node->name;
	char q[QUOTE_MAX + 4];

	for (; *p && is_name_char(*p); p++)
		;
	if (*p == '\0' && p != node->name)
		return 0;
	return mkt_error_set(MKT_EINVAL, MKT_ERR_TEMPLATE,
			     "invalid attribute name <%s> at line %ld (names may contain only letters, digits, '_', '.' and '-')",
			     quote(q, sizeof(q), (const char *)node->name), xmlGetLineNo(node));
}

static int xml_has_elements(xmlNodePtr node)
{
	xmlNodePtr c;

	for (c = node->children; c; c = c->next)
		if (c->type == XML_ELEMENT_NODE)
			return 1;
	return 0;
}

/* Text and CDATA children only: xmlNodeGetContent() would expand entity
 * references, which is exactly what an untrusted document must not get. */
static int xml_text(mkt_buf *scratch, xmlNodePtr node, char **out)
{
	xmlNodePtr c;
	char q[QUOTE_MAX + 4];

	mkt_buf_reset(scratch);
	for (c = node->children; c; c = c->next) {
		if (c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE)
			mkt_buf_add(scratch, (const char *)c->content);
		else if (c->type == XML_ENTITY_REF_NODE)
			return mkt_error_set(MKT_EINVAL, MKT_ERR_TEMPLATE,
					     "entity reference &%s; at line %ld is not allowed in a template",
					     quote(q, sizeof(q), (const char *)c->name),
					     xmlGetLineNo(node));
	}
	*out = mkt_strndup(mkt_buf_cstr(scratch), scratch->len);
	return 0;
}

static int xml_vector(mkt_buf *scratch, xmlNodePtr node, mkt_tattr *a)
{
	xmlNodePtr c;
	char *value = NULL;
	int ret;

	for (c = node->children; c; c = c->next) {
		if (c->type != XML_ELEMENT_NODE)
			continue;
		if ((ret = xml_name_check(c)) < 0)
			return ret;
		if (xml_has_elements(c))
			return mkt_error_set(MKT_EINVAL, MKT_ERR_TEMPLATE,
					     "member %s of vector %s at line %ld contains elements: vectors cannot be nested",
					     c->name, a->name, xmlGetLineNo(c));
		if ((ret = xml_text(scratch, c, &value)) < 0)
			return ret;
		member_append(a, upper_dup((const char *)c->name, SIZE_MAX),
			      MKT_STEAL(value));
	}
	return 0;
}

int mkt_template_parse_xml_node(mkt_template **out, xmlNodePtr node)
{
	mkt_template *t = NULL;
	mkt_buf scratch = MKT_BUF_INIT;
	xmlNodePtr c;
	char *value = NULL;
	mkt_tattr *a;
	int ret;

	*out = NULL;
	if (!node) {
		ret = mkt_error_set(MKT_EINVAL, MKT_ERR_TEMPLATE, "no XML template element");
		goto cleanup;
	}
	t = mkt_template_new();
	for (c = node->children; c; c = c->next) {
		if (c->type != XML_ELEMENT_NODE)
			continue;
		if ((ret = xml_name_check(c)) < 0)
			goto cleanup;
		if (xml_has_elements(c)) {
			a = append(t, attr_new((const char *)c->name, SIZE_MAX, NULL));
			if ((ret = xml_vector(&scratch, c, a)) < 0)
				goto cleanup;
		} else {
			if ((ret = xml_text(&scratch, c, &value)) < 0)
				goto cleanup;
			append(t, attr_new((const char *)c->name, SIZE_MAX, MKT_STEAL(value)));
		}
	}
	*out = MKT_STEAL(t);
	ret = 0;
 cleanup:
	mkt_buf_free(&scratch);
	mkt_template_free(t);
	return ret;
}

#if LIBXML_VERSION >= 21200
typedef const xmlError *xml_error_arg;
#else
typedef xmlErrorPtr xml_error_arg;
#endif

/* The first error of one parse (libxml2's later ones are mostly echoes). */
typedef struct {
	int level;
	int line;
	char message[256];
} xml_capture;

/* Installed on the parser context, not globally, so concurrent parses in
 * other threads keep their own errors. */
static void xml_capture_error(void *data, xml_error_arg err)
{
	xmlParserCtxtPtr ctxt = data;
	xml_capture *cap = ctxt ? ctxt->_private : NULL;
	const char *msg;
	size_t len;

	if (!cap || !err || err->level < XML_ERR_ERROR)
		return;
	if (cap->level >= XML_ERR_ERROR &&
	    !(err->level == XML_ERR_FATAL && cap->level < XML_ERR_FATAL))
		return;
	cap->level = err->level;
	cap->line = err->line;
	msg = err->message ? err->message : "";
	/* libxml2 ends its messages with a newline. */
	for (len = strlen(msg); len > 0 && (msg[len - 1] == '\n' || msg[len - 1] == ' '); len--)
		;
	quote_n(cap->message, sizeof(cap->message), msg, len);
}

static int parse_xml_text(mkt_template **out, const char *text)
{
	xmlParserCtxtPtr ctxt = NULL;
	xmlDocPtr doc = NULL;
	xml_capture cap = { 0 };
	size_t len = strlen(text);
	int ret;

	if (len > INT_MAX) {
		ret = mkt_error_set(MKT_EINVAL, MKT_ERR_TEMPLATE, "XML template too large");
		goto cleanup;
	}
	ctxt = xmlNewParserCtxt();
	if (!ctxt) {
		ret = mkt_error_set(MKT_ERROR, MKT_ERR_XML, "cannot create an XML parser");
		goto cleanup;
	}
	ctxt->_private = &cap;
	ctxt->sax->serror = xml_capture_error;
	/* No XML_PARSE_NOENT and no DTD loading: entities stay unexpanded. */
	doc = xmlCtxtReadMemory(ctxt, text, (int)len, NULL, NULL,
				XML_PARSE_NONET | XML_PARSE_NOBLANKS);
	if (!doc || !xmlDocGetRootElement(doc)) {
		ret = mkt_error_set(MKT_EINVAL, MKT_ERR_XML, "malformed XML at line %d: %s",
				    cap.line, cap.message[0] ? cap.message : "not a well-formed document");
		goto cleanup;
	}
	ret = mkt_template_parse_xml_node(out, xmlDocGetRootElement(doc));
 cleanup:
	xmlFreeDoc(doc);
	xmlFreeParserCtxt(ctxt);
	return ret;
}

int mkt_template_parse_any(mkt_template **out, const char *text)
{
	const char *p = text;

	*out = NULL;
	if (!text)
		return mkt_template_parse(out, text);
	if (strncmp(p, "\xef\xbb\xbf", 3) == 0)
		p += 3;
	p += strspn(p, " \t\r\n");
	if (*p != '<')
		return mkt_template_parse(out, text);
	return parse_xml_text(out, p);
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
		append(d, attr_dup(t->attrs[i]));
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

static int not_found(const char *name)
{
	char q[QUOTE_MAX + 4];

	return mkt_error_set(MKT_ENOTFOUND, MKT_ERR_TEMPLATE, "attribute %s is not set",
			     quote(q, sizeof(q), name));
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
	for (s = a->value; is_blank(*s); s++)
		;
	/* strtoll() alone would also take "", "  \n 5" and "0x"-less junk. */
	if ((*s >= '0' && *s <= '9') ||
	    ((*s == '-' || *s == '+') && s[1] >= '0' && s[1] <= '9')) {
		errno = 0;
		v = strtoll(s, &end, 10);
		while (is_blank(*end))
			end++;
		if (*end == '\0' && errno == ERANGE)
			return mkt_error_set(MKT_EINVAL, MKT_ERR_TEMPLATE,
					     "attribute %s is out of range for an integer: \"%s\"",
					     a->name, quote(q, sizeof(q), a->value));
		if (*end == '\0') {
			*out = v;
			return 0;
		}
	}
	return mkt_error_set(MKT_EINVAL, MKT_ERR_TEMPLATE,
			     "attribute %s must be an integer, not \"%s\"",
			     a->name, quote(q, sizeof(q), a->value));
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
	for (s = a->value; is_blank(*s); s++)
		;
	for (e = s + strlen(s); e > s && is_blank(e[-1]); e--)
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
			     a->name, quote(q, sizeof(q), a->value));
}

void mkt_template_set(mkt_template *t, const char *name, const char *value)
{
	mkt_template_remove(t, name);
	mkt_template_add(t, name, value);
}

void mkt_template_add(mkt_template *t, const char *name, const char *value)
{
	append(t, attr_new(name, SIZE_MAX, mkt_strdup(value ? value : "")));
}

mkt_tattr *mkt_template_add_vector(mkt_template *t, const char *name)
{
	return append(t, attr_new(name, SIZE_MAX, NULL));
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
			append(dst, attr_dup(src->attrs[keys[k].idx]));
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
		member_append(a, upper_dup(name, SIZE_MAX), mkt_strdup(value ? value : ""));
}

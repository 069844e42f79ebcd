/*
 * template_parse.c: the two readers of templates, the text syntax and the
 * XML form (see template.h for both).
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
#include "template_priv.h"
#include "util.h"

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
	while (mkt_template__is_blank(*ps->p))
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

	while (mkt_template__is_name_char((unsigned char)*ps->p))
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
	/* A template is stored as XML: each name becomes an element name. */
	if (!((start[0] >= 'A' && start[0] <= 'Z') || (start[0] >= 'a' && start[0] <= 'z') ||
	      start[0] == '_'))
		return syntax_error(ps->line, "attribute name %.*s must start with a letter or '_'",
				    (int)(*len > 40 ? 40 : *len), start);
	if (c != '=' && !mkt_template__is_blank(c) && c != '\n' && c != '\0' && c != '#' &&
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
	while (end > start && mkt_template__is_blank(end[-1]))
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
		mkt_template__member_append(a, mkt_template__upper_dup(name, len), MKT_STEAL(value));
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
			a = mkt_template__append(t, mkt_template__attr_new(name, len, NULL));
			if ((ret = parse_vector(ps, a)) < 0 ||
			    (ret = expect_eol(ps, "']' closing vector", a->name)) < 0)
				return ret;
		} else if (*ps->p == '"') {
			if ((ret = parse_quoted(ps, &value, name, len)) < 0)
				return ret;
			a = mkt_template__append(t, mkt_template__attr_new(name, len, MKT_STEAL(value)));
			if ((ret = expect_eol(ps, "the quoted value of", a->name)) < 0)
				return ret;
		} else {
			value = parse_unquoted(ps, "#\n");
			mkt_template__append(t, mkt_template__attr_new(name, len, MKT_STEAL(value)));
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

	for (; *p && mkt_template__is_name_char(*p); p++)
		;
	if (*p == '\0' && p != node->name)
		return 0;
	return mkt_error_set(MKT_EINVAL, MKT_ERR_TEMPLATE,
			     "invalid attribute name <%s> at line %ld (names may contain only letters, digits, '_', '.' and '-')",
			     mkt_template__quote(q, sizeof(q), (const char *)node->name), xmlGetLineNo(node));
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
					     mkt_template__quote(q, sizeof(q), (const char *)c->name),
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
		mkt_template__member_append(a, mkt_template__upper_dup((const char *)c->name, SIZE_MAX),
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
			a = mkt_template__append(t, mkt_template__attr_new((const char *)c->name, SIZE_MAX, NULL));
			if ((ret = xml_vector(&scratch, c, a)) < 0)
				goto cleanup;
		} else {
			if ((ret = xml_text(&scratch, c, &value)) < 0)
				goto cleanup;
			mkt_template__append(t, mkt_template__attr_new((const char *)c->name, SIZE_MAX, MKT_STEAL(value)));
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
	mkt_template__quote_n(cap->message, sizeof(cap->message), msg, len);
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

int mkt_template_parse_base64(mkt_template **out, const char *b64)
{
	unsigned char *raw = NULL;
	size_t len = 0;
	char *text;
	int ret;

	*out = NULL;
	if (!b64 || mkt_util_base64_decode(&raw, &len, b64) < 0)
		return mkt_error_set(MKT_EINVAL, MKT_ERR_TEMPLATE, "not base64");
	text = mkt_malloc(len + 1);
	memcpy(text, raw, len);
	text[len] = '\0';
	free(raw);
	if (strlen(text) != len)
		ret = mkt_error_set(MKT_EINVAL, MKT_ERR_TEMPLATE, "the template holds a NUL byte");
	else
		ret = mkt_template_parse(out, text);
	free(text);
	return ret;
}

const char *mkt_template_xml_start(const char *text)
{
	const char *p = text;

	if (strncmp(p, "\xef\xbb\xbf", 3) == 0)
		p += 3;
	p += strspn(p, " \t\r\n");
	return *p == '<' ? p : NULL;
}

int mkt_template_parse_any(mkt_template **out, const char *text)
{
	const char *p;

	*out = NULL;
	if (!text || !(p = mkt_template_xml_start(text)))
		return mkt_template_parse(out, text);
	return parse_xml_text(out, p);
}


/* ------------------------------------------------ reading piece by piece */

struct mkt_template_reader {
	mkt_template_read_fn read;
	void *src;
	size_t max;
	char *buf;               /* bytes read and not yet consumed: [pos, end) */
	size_t pos, end, cap;
	int eof;
	int err;                 /* errno of a failed read */
	mkt_buf chunk;           /* the text of the attribute being read */
};

/* What one read asks for: a catalog's entries are kilobytes each. */
#define READER_BLOCK ((size_t)64 << 10)

mkt_template_reader *mkt_template_reader_new(mkt_template_read_fn read, void *src, size_t max)
{
	mkt_template_reader *r = mkt_calloc(1, sizeof(*r));

	r->read = read;
	r->src = src;
	r->max = max;
	r->cap = READER_BLOCK;
	r->buf = mkt_malloc(r->cap);
	return r;
}

void mkt_template_reader_free(mkt_template_reader *r)
{
	if (!r)
		return;
	free(r->buf);
	mkt_buf_free(&r->chunk);
	free(r);
}

/* More bytes at the end of the buffer (which must have room): 1 when some
 * came, 0 at the end of the text, -1 when the read failed. */
static int reader_fill(mkt_template_reader *r)
{
	ssize_t n;

	if (r->err)
		return -1;
	if (r->eof)
		return 0;
	do
		n = r->read(r->src, r->buf + r->end, r->cap - r->end);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		r->err = errno ? errno : EIO;
		return -1;
	}
	if (n == 0) {
		r->eof = 1;
		return 0;
	}
	r->end += (size_t)n;
	return 1;
}

static int reader_getc(mkt_template_reader *r)
{
	if (r->pos == r->end) {
		r->pos = r->end = 0;
		if (reader_fill(r) <= 0)
			return EOF;
	}
	return (unsigned char)r->buf[r->pos++];
}

/*
 * The text of the next attribute: up to a new line that is outside a
 * quoted value and a vector.  States follow parse_text: a '[' right after
 * '=' opens a vector, a '"' right after '=' a quoted value, which may hold
 * new lines and \" escapes; '#' comments to the end of the line.  1 with
 * the chunk in r->chunk; 0 at the end.  A chunk over r->max bytes is read
 * to its end but not kept (*too_long).
 */
/* Bytes of a chunk go through a small stage: a catalog's chunk is
 * kilobytes of base64, too many for one mkt_buf_addc() each. */
typedef struct {
	mkt_buf *b;
	size_t n;
	char v[4096];
} stage;

static void stage_put(stage *st, char c)
{
	if (st->n == sizeof(st->v)) {
		mkt_buf_addn(st->b, st->v, st->n);
		st->n = 0;
	}
	st->v[st->n++] = c;
}

static void stage_flush(stage *st)
{
	mkt_buf_addn(st->b, st->v, st->n);
	st->n = 0;
}

static int read_chunk(mkt_template_reader *r, size_t *too_long)
{
	int c, quoted = 0, comment = 0, vector = 0, after_eq = 0, in_value = 0, content = 0;
	size_t n = 0, max = r->max;
	mkt_buf *b = &r->chunk;
	stage st;

	st.b = b;
	st.n = 0;
	mkt_buf_reset(b);
	*too_long = 0;
	while ((c = reader_getc(r)) != EOF) {
		if (++n <= max)
			stage_put(&st, (char)c);
		if (comment) {
			comment = c != '\n';
		} else if (quoted) {
			if (c == '\\') {
				int next = reader_getc(r);

				if (next == EOF)
					break;
				if (++n <= max)
					stage_put(&st, (char)next);
			} else if (c == '"') {
				quoted = 0;
			}
			continue;
		} else if (c == '"' && after_eq) {
			quoted = 1;          /* only a value may be quoted */
		} else if (c == '#') {
			comment = 1;
		} else if (after_eq && !vector && c == '[') {
			vector = 1;
			in_value = 0;        /* its members' names come next */
		} else if (vector && c == ']') {
			vector = 0;
		}
		/* The '=' after a name starts a value; others are the value's
		 * (base64 ends in '='). */
		if (c == '=' && !comment && !in_value) {
			after_eq = 1;
			in_value = 1;
		} else if (!mkt_template__is_blank((char)c)) {
			after_eq = 0;
		}
		if (c == '\n' || (vector && c == ','))
			in_value = 0;
		if (c != '\n' && !comment && !mkt_template__is_blank((char)c))
			content = 1;
		if (c != '\n')
			continue;
		if (content && !vector)
			break;
		if (!content) {               /* a blank or comment line */
			mkt_buf_reset(b);
			st.n = 0;
			n = 0;
		}
	}
	stage_flush(&st);
	if (n > max)
		*too_long = n;
	return content ? 1 : 0;
}

/* The next line, whole in the buffer: 1 with its length (new line
 * included), 0 when it is not there (longer than r->max, or the text ends
 * without a new line), -1 when a read failed. */
static int reader_line(mkt_template_reader *r, size_t *len)
{
	size_t scanned = 0;
	const char *nl;
	int ret;

	for (;;) {
		if ((nl = memchr(r->buf + r->pos + scanned, '\n', r->end - r->pos - scanned))) {
			*len = (size_t)(nl - (r->buf + r->pos)) + 1;
			return 1;
		}
		scanned = r->end - r->pos;
		if (scanned >= r->max)
			return 0;
		if (r->end == r->cap) {
			if (r->pos > 0) {
				memmove(r->buf, r->buf + r->pos, scanned);
				r->pos = 0;
				r->end = scanned;
			} else {
				/* Up to one line of r->max bytes, never more. */
				r->cap = r->cap * 2 < r->max ? r->cap * 2 : r->max;
				r->buf = mkt_realloc(r->buf, r->cap);
			}
		}
		if ((ret = reader_fill(r)) <= 0)
			return ret;
	}
}

/* @line (@len bytes, its new line included) as NAME="value" in the form
 * parse_text reads as written: an upper-case name, a value of ASCII
 * without '"' or '\\' (nor NUL, which the parser would take as the end),
 * quoted, then the end of the line.  Where the value starts, or NULL. */
static char *plain_line(char *line, size_t len)
{
	char *p = line, *v, *close = line + len - 2;
	unsigned char bad = 0;

	if (len < 5 || *close != '"' || !((*p >= 'A' && *p <= 'Z') || *p == '_'))
		return NULL;
	while ((*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_' ||
	       *p == '.' || *p == '-')
		p++;
	if (p[0] != '=' || p[1] != '"' || p + 1 == close)
		return NULL;
	v = p + 2;
	if (memchr(v, '"', (size_t)(close - v)) || memchr(v, '\\', (size_t)(close - v)))
		return NULL;
	/* 0x01-0x7f only (c - 1 wraps a NUL to 0xff): a loop the compiler
	 * makes wide. */
	for (p = v; p < close; p++)
		bad |= (unsigned char)((unsigned char)*p - 1) >= 0x7f;
	return bad ? NULL : v;
}

int mkt_template_reader_next(mkt_template_reader *r, const char **name, const char **value,
			     mkt_template **out)
{
	size_t len, too_long;
	char *line, *v;
	int ret;

	*out = NULL;
	if (name)
		*name = *value = NULL;
	if ((ret = reader_line(r, &len)) > 0 && len <= r->max &&
	    (v = plain_line((line = r->buf + r->pos), len))) {
		r->pos += len;
		v[-2] = '\0';                   /* the '=' */
		line[len - 2] = '\0';           /* the closing quote */
		if (name) {
			*name = line;
			*value = v;
		} else {
			*out = mkt_template_new();
			mkt_template_set(*out, line, v);
		}
		return 1;
	}
	if (ret >= 0)
		ret = read_chunk(r, &too_long);
	/* A chunk a failed read cut short is not an attribute. */
	if (r->err)
		return mkt_error_set_os(r->err, "reading template text");
	if (ret == 0)
		return 0;
	if (too_long)
		return mkt_error_set(MKT_EINVAL, MKT_ERR_TEMPLATE, "an attribute of %zu bytes "
				     "(more than the %zu allowed) was skipped", too_long, r->max);
	if ((ret = mkt_template_parse(out, mkt_buf_cstr(&r->chunk))) < 0)
		return ret;
	return 1;
}

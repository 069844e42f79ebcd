/*
 * jsonschema_regex.c: JSON Schema patterns (ECMA-262) run by POSIX regex.
 *
 * Debian has no ECMA-262 engine in C that we already link, and a schema's
 * pattern only asks "is there a match somewhere", which POSIX extended
 * regular expressions answer the same way for the common subset: leftmost-
 * longest versus leftmost-first and lazy versus greedy quantifiers change
 * which match is found, never whether one exists.  So a pattern is
 * translated, not passed through: ECMA-262's \d \w \s, escapes inside
 * brackets and (?:...) have no POSIX spelling, and handing them to regcomp
 * unchanged would quietly mean something else ("\d" is a literal "d" to
 * glibc) and reject valid parameters.
 *
 * What has no POSIX equivalent (lookaround, backreferences, NUL, empty
 * classes, surrogates) is reported UNSUPPORTED: the caller then skips the
 * check and leaves it to the broker, since a check we cannot do exactly
 * must never turn a valid instance into an invalid one.  What ECMA-262
 * itself rejects (a trailing backslash, an unterminated class, a range out
 * of order) is INVALID, as is whatever regcomp() rejects.
 *
 * Known differences that remain (documented in jsonschema.h): `.` and
 * classes see code points where ECMA-262 sees UTF-16 units, and \b uses
 * glibc's idea of a word character, which includes non-ASCII letters.
 */
#include <config.h>

#include <locale.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "buf.h"
#include "jsonschema_priv.h"
#include "util.h"

typedef struct {
	uint32_t lo, hi;
} range;

/* ECMA-262 character class escapes (ES5.1 15.10.2.12). */
static const range digit_ranges[] = { { '0', '9' } };
static const range word_ranges[] = { { '0', '9' }, { 'A', 'Z' }, { '_', '_' }, { 'a', 'z' } };
static const range space_ranges[] = {
	{ 0x09, 0x0d }, { 0x20, 0x20 }, { 0xa0, 0xa0 }, { 0x1680, 0x1680 },
	{ 0x2000, 0x200a }, { 0x2028, 0x2029 }, { 0x202f, 0x202f },
	{ 0x205f, 0x205f }, { 0x3000, 0x3000 }, { 0xfeff, 0xfeff },
};
/* `.` is every code point but the line terminators. */
static const range line_terminators[] = { { '\n', '\n' }, { '\r', '\r' }, { 0x2028, 0x2029 } };

#define N_RANGES(a) (sizeof(a) / sizeof((a)[0]))

static const struct {
	char letter;
	const range *ranges;
	size_t n;
	int negated;
} class_escapes[] = {
	{ 'd', digit_ranges, N_RANGES(digit_ranges), 0 },
	{ 'D', digit_ranges, N_RANGES(digit_ranges), 1 },
	{ 'w', word_ranges, N_RANGES(word_ranges), 0 },
	{ 'W', word_ranges, N_RANGES(word_ranges), 1 },
	{ 's', space_ranges, N_RANGES(space_ranges), 0 },
	{ 'S', space_ranges, N_RANGES(space_ranges), 1 },
};

static const struct {
	char letter;
	char value;
} control_escapes[] = {
	{ 'n', '\n' }, { 't', '\t' }, { 'r', '\r' }, { 'f', '\f' }, { 'v', '\v' },
};

/* glibc builds a bounded repetition by copying its operand, so "((a{255})
 * {255}){255}" is sixteen million nodes: a broker's schema must not be able
 * to make the daemon allocate that.  This bounds the expanded size. */
#define EXPANDED_MAX 20000
#define REPEAT_MAX 1000
#define GROUP_DEPTH_MAX 64
/* Non-ASCII ranges are written out character by character (see
 * put_class_members); this bounds how many. */
#define CLASS_EXPAND_MAX 256

typedef struct {
	const char *p;
	const char *end;
	mkt_buf out;
	char *why;
	size_t why_size;
	/* Expanded size of each open group, and of the last atom, so that a
	 * {n,m} can multiply what it repeats (see EXPANDED_MAX). */
	unsigned long size[GROUP_DEPTH_MAX + 1];
	unsigned long last_atom;
	int depth;
	/* Whether a quantifier may come next: "a**" and "(*" are ECMA-262
	 * syntax errors, and glibc, which takes stacked quantifiers, needs
	 * time exponential in their number to compile them. */
	int can_repeat;
} tr;

enum { ESC_CHAR, ESC_CLASS, ESC_BOUNDARY };

static mkt_jsonschema_re_status fail(tr *t, mkt_jsonschema_re_status st, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static mkt_jsonschema_re_status fail(tr *t, mkt_jsonschema_re_status st, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(t->why, t->why_size, fmt, ap);
	va_end(ap);
	return st;
}

/* @n hex digits at @p as a number, or -1. */
static long read_hex(const char *p, const char *end, int n)
{
	long v = 0;
	int i;

	if (end - p < n)
		return -1;
	for (i = 0; i < n; i++) {
		int d = mkt_util_parse_hex_digit(p[i]);

		if (d < 0)
			return -1;
		v = v * 16 + d;
	}
	return v;
}

/* One UTF-8 sequence at t->p into *cp.  Patterns come from jansson, which
 * only holds valid UTF-8, so a bad sequence means a hand-built json_t. */
static mkt_jsonschema_re_status read_utf8(tr *t, uint32_t *cp)
{
	const unsigned char *s = (const unsigned char *)t->p;
	size_t avail = (size_t)(t->end - t->p), n, i;
	uint32_t v;

	if (s[0] < 0x80) {
		n = 1;
		v = s[0];
	} else if ((s[0] & 0xe0) == 0xc0) {
		n = 2;
		v = s[0] & 0x1f;
	} else if ((s[0] & 0xf0) == 0xe0) {
		n = 3;
		v = s[0] & 0x0f;
	} else if ((s[0] & 0xf8) == 0xf0) {
		n = 4;
		v = s[0] & 0x07;
	} else {
		return fail(t, MKT_JSONSCHEMA_RE_INVALID, "invalid UTF-8");
	}
	if (n > avail)
		return fail(t, MKT_JSONSCHEMA_RE_INVALID, "invalid UTF-8");
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return fail(t, MKT_JSONSCHEMA_RE_INVALID, "invalid UTF-8");
		v = (v << 6) | (s[i] & 0x3f);
	}
	t->p += n;
	*cp = v;
	return MKT_JSONSCHEMA_RE_OK;
}

/* A code point as UTF-8.  NUL cannot reach regcomp (C strings) and a lone
 * surrogate is not a character: both are beyond a POSIX translation. */
static mkt_jsonschema_re_status put_utf8(tr *t, mkt_buf *b, uint32_t cp)
{
	char u[4];
	size_t n;

	if (cp == 0)
		return fail(t, MKT_JSONSCHEMA_RE_UNSUPPORTED, "NUL characters are not supported");
	if ((cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return fail(t, MKT_JSONSCHEMA_RE_UNSUPPORTED, "lone surrogates are not supported");
	if (cp < 0x80) {
		u[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		u[0] = (char)(0xc0 | (cp >> 6));
		u[1] = (char)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		u[0] = (char)(0xe0 | (cp >> 12));
		u[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		u[2] = (char)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		u[0] = (char)(0xf0 | (cp >> 18));
		u[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		u[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
		u[3] = (char)(0x80 | (cp & 0x3f));
		n = 4;
	}
	mkt_buf_addn(b, u, n);
	return MKT_JSONSCHEMA_RE_OK;
}

/* A literal character outside brackets: ERE operators get a backslash. */
static mkt_jsonschema_re_status put_literal(tr *t, uint32_t cp)
{
	if (cp < 0x80 && strchr(".[]()*+?{}|^$\\", (int)cp))
		mkt_buf_addc(&t->out, '\\');
	return put_utf8(t, &t->out, cp);
}

/* \uXXXX, joining a surrogate pair into one code point.  -1 when @p does
 * not hold four hex digits (Annex B then reads "\u" as a plain "u"). */
static long read_unicode_escape(tr *t)
{
	long hi = read_hex(t->p, t->end, 4), lo;

	if (hi < 0)
		return -1;
	t->p += 4;
	if (hi >= 0xd800 && hi <= 0xdbff && t->end - t->p >= 6 &&
	    t->p[0] == '\\' && t->p[1] == 'u') {
		lo = read_hex(t->p + 2, t->end, 4);
		if (lo >= 0xdc00 && lo <= 0xdfff) {
			t->p += 6;
			return 0x10000 + ((hi - 0xd800) << 10) + (lo - 0xdc00);
		}
	}
	return hi;
}

/* The escape after a backslash (t->p is past it).  *kind says whether it
 * is a character (*cp), a class escape (*cls indexes class_escapes) or a
 * word boundary (only outside brackets). */
static mkt_jsonschema_re_status read_escape(tr *t, int in_class, int *kind, uint32_t *cp,
					    size_t *cls)
{
	char c;
	size_t i;
	long v;

	if (t->p >= t->end)
		return fail(t, MKT_JSONSCHEMA_RE_INVALID, "pattern ends with a backslash");
	c = *t->p;
	*kind = ESC_CHAR;
	for (i = 0; i < N_RANGES(class_escapes); i++) {
		if (class_escapes[i].letter == c) {
			t->p++;
			*kind = ESC_CLASS;
			*cls = i;
			return MKT_JSONSCHEMA_RE_OK;
		}
	}
	for (i = 0; i < N_RANGES(control_escapes); i++) {
		if (control_escapes[i].letter == c) {
			t->p++;
			*cp = (uint32_t)control_escapes[i].value;
			return MKT_JSONSCHEMA_RE_OK;
		}
	}
	if (c == 'b' || c == 'B') {
		t->p++;
		if (in_class && c == 'b') {   /* [\b] is a backspace */
			*cp = 0x08;
			return MKT_JSONSCHEMA_RE_OK;
		}
		if (in_class)
			return fail(t, MKT_JSONSCHEMA_RE_UNSUPPORTED, "\\B inside a class is not supported");
		*kind = ESC_BOUNDARY;
		*cp = (uint32_t)c;
		return MKT_JSONSCHEMA_RE_OK;
	}
	if (c >= '0' && c <= '9')
		return fail(t, MKT_JSONSCHEMA_RE_UNSUPPORTED,
			    "\\%c (NUL, octal or a backreference) is not supported", c);
	if (c == 'k')
		return fail(t, MKT_JSONSCHEMA_RE_UNSUPPORTED, "named backreferences are not supported");
	t->p++;
	if (c == 'x' && (v = read_hex(t->p, t->end, 2)) >= 0) {
		t->p += 2;
		*cp = (uint32_t)v;
		return MKT_JSONSCHEMA_RE_OK;
	}
	if (c == 'u' && (v = read_unicode_escape(t)) >= 0) {
		*cp = (uint32_t)v;
		return MKT_JSONSCHEMA_RE_OK;
	}
	if (c == 'c') {
		if (t->p < t->end && ((*t->p >= 'a' && *t->p <= 'z') || (*t->p >= 'A' && *t->p <= 'Z'))) {
			*cp = (uint32_t)(*t->p++ % 32);
			return MKT_JSONSCHEMA_RE_OK;
		}
		return fail(t, MKT_JSONSCHEMA_RE_UNSUPPORTED, "\\c without a letter is not supported");
	}
	/* Identity escape ("\.", "\/", Annex B's "\x" without digits). */
	t->p--;
	return read_utf8(t, cp);
}

static int is_bracket_special(uint32_t cp)
{
	return cp == ']' || cp == '[' || cp == '^' || cp == '-';
}

/* The members of a bracket expression other than ']' '[' '^' '-' into @b;
 * *count says how many went in. */
static mkt_jsonschema_re_status put_class_members(tr *t, mkt_buf *b, const range *r, size_t n,
						  int negated, size_t *count)
{
	mkt_jsonschema_re_status st;
	size_t i;

	*count = 0;
	for (i = 0; i < n; i++) {
		/* "[^\0-\x1f]": NUL cannot be written, so a negated class lets
		 * it through, which only ever accepts more. */
		uint32_t lo = r[i].lo ? r[i].lo : 1, hi = r[i].hi, cp;

		if (lo == hi && is_bracket_special(lo))
			continue;
		if (lo < 0x80) {
			uint32_t top = hi < 0x80 ? hi : 0x7f;

			if ((st = put_utf8(t, b, lo)) != MKT_JSONSCHEMA_RE_OK)
				return st;
			if (top != lo) {
				mkt_buf_addc(b, '-');
				if ((st = put_utf8(t, b, top)) != MKT_JSONSCHEMA_RE_OK)
					return st;
			}
			++*count;
			lo = 0x80;
		}
		if (lo > hi)
			continue;
		/* glibc refuses a range with a multibyte end in a locale without
		 * collation rules such as C.UTF-8 (REG_ECOLLATE): list them. */
		if (hi - lo >= CLASS_EXPAND_MAX) {
			if (negated)    /* excluding less only accepts more */
				continue;
			return fail(t, MKT_JSONSCHEMA_RE_UNSUPPORTED,
				    "class ranges over more than %d non-ASCII characters are not supported",
				    CLASS_EXPAND_MAX);
		}
		for (cp = lo; cp <= hi; cp++) {
			if (cp >= 0xd800 && cp <= 0xdfff)
				continue;
			if ((st = put_utf8(t, b, cp)) != MKT_JSONSCHEMA_RE_OK)
				return st;
			++*count;
		}
	}
	return MKT_JSONSCHEMA_RE_OK;
}

/* A POSIX bracket expression for the union of @r.  POSIX gives ']', '-',
 * '^' and '[' their meaning by position, not by escaping (a backslash is
 * literal inside brackets): ']' goes first, '[' '^' '-' last, which keeps
 * each of them literal. */
static mkt_jsonschema_re_status put_class(tr *t, const range *r, size_t n, int negated)
{
	mkt_buf members = MKT_BUF_INIT;
	int close = 0, open = 0, caret = 0, dash = 0;
	mkt_jsonschema_re_status st;
	size_t i, others;

	for (i = 0; i < n; i++) {
		uint32_t lo = r[i].lo, hi = r[i].hi;

		if (lo == 0 && (!negated || hi == 0))
			return fail(t, MKT_JSONSCHEMA_RE_UNSUPPORTED, "NUL characters are not supported");
		if (lo == hi && is_bracket_special(lo)) {
			close |= lo == ']';
			open |= lo == '[';
			caret |= lo == '^';
			dash |= lo == '-';
		} else if (is_bracket_special(lo) || is_bracket_special(hi)) {
			return fail(t, MKT_JSONSCHEMA_RE_UNSUPPORTED,
				    "a range ending in one of []^- is not supported");
		}
	}
	if ((st = put_class_members(t, &members, r, n, negated, &others)) != MKT_JSONSCHEMA_RE_OK)
		goto cleanup;
	if (!close && !open && !caret && !dash && !others) {
		/* Only dropped members: a negated class that excludes nothing
		 * we can write is any character, which POSIX `.` is. */
		mkt_buf_addc(&t->out, '.');
	} else if (caret && !close && !others && !open && !negated) {
		/* A '^' in first place would negate: alone it is a plain
		 * literal, with '-' the pair goes dash first. */
		if (dash)
			mkt_buf_add(&t->out, "[-^]");
		else
			st = put_literal(t, '^');
	} else {
		mkt_buf_add(&t->out, negated ? "[^" : "[");
		if (close)
			mkt_buf_addc(&t->out, ']');
		mkt_buf_add(&t->out, mkt_buf_cstr(&members));
		if (open)
			mkt_buf_addc(&t->out, '[');
		if (caret)
			mkt_buf_addc(&t->out, '^');
		if (dash)
			mkt_buf_addc(&t->out, '-');
		mkt_buf_addc(&t->out, ']');
	}
 cleanup:
	mkt_buf_free(&members);
	return st;
}

typedef struct {
	range *r;
	size_t n, cap;
} range_list;

static void range_add(range_list *l, uint32_t lo, uint32_t hi)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 16;
		l->r = mkt_realloc(l->r, l->cap * sizeof(*l->r));
	}
	l->r[l->n].lo = lo;
	l->r[l->n].hi = hi;
	l->n++;
}

/* One class atom: a character (*cp) or a class escape (*cls, *is_class). */
static mkt_jsonschema_re_status read_class_atom(tr *t, uint32_t *cp, int *is_class, size_t *cls)
{
	int kind = ESC_CHAR;
	mkt_jsonschema_re_status st;

	*is_class = 0;
	if (*t->p != '\\')
		return read_utf8(t, cp);
	t->p++;
	if ((st = read_escape(t, 1, &kind, cp, cls)) != MKT_JSONSCHEMA_RE_OK)
		return st;
	*is_class = kind == ESC_CLASS;
	return MKT_JSONSCHEMA_RE_OK;
}

/* A [...] class (t->p is past the '['). */
static mkt_jsonschema_re_status translate_class(tr *t)
{
	range_list l = { NULL, 0, 0 };
	mkt_jsonschema_re_status st = MKT_JSONSCHEMA_RE_OK;
	int negated = 0, is_class;
	uint32_t lo, hi;
	size_t cls, i;

	if (t->p < t->end && *t->p == '^') {
		negated = 1;
		t->p++;
	}
	if (t->p < t->end && *t->p == ']') {
		st = fail(t, MKT_JSONSCHEMA_RE_UNSUPPORTED, "empty classes ([] and [^]) are not supported");
		goto cleanup;
	}
	for (;;) {
		if (t->p >= t->end) {
			st = fail(t, MKT_JSONSCHEMA_RE_INVALID, "unterminated character class");
			goto cleanup;
		}
		if (*t->p == ']') {
			t->p++;
			break;
		}
		if ((st = read_class_atom(t, &lo, &is_class, &cls)) != MKT_JSONSCHEMA_RE_OK)
			goto cleanup;
		if (is_class) {
			if (class_escapes[cls].negated) {
				st = fail(t, MKT_JSONSCHEMA_RE_UNSUPPORTED,
					  "\\%c inside a class is not supported", class_escapes[cls].letter);
				goto cleanup;
			}
			for (i = 0; i < class_escapes[cls].n; i++)
				range_add(&l, class_escapes[cls].ranges[i].lo, class_escapes[cls].ranges[i].hi);
			continue;
		}
		hi = lo;
		if (t->end - t->p >= 2 && t->p[0] == '-' && t->p[1] != ']') {
			t->p++;
			if ((st = read_class_atom(t, &hi, &is_class, &cls)) != MKT_JSONSCHEMA_RE_OK)
				goto cleanup;
			if (is_class) {
				st = fail(t, MKT_JSONSCHEMA_RE_UNSUPPORTED,
					  "a range ending in a class escape is not supported");
				goto cleanup;
			}
			if (lo > hi) {
				st = fail(t, MKT_JSONSCHEMA_RE_INVALID, "range out of order in character class");
				goto cleanup;
			}
		}
		range_add(&l, lo, hi);
	}
	st = put_class(t, l.r, l.n, negated);
 cleanup:
	free(l.r);
	return st;
}

/* Length of a {n}, {n,} or {n,m} quantifier at t->p and its largest count
 * in *max (n for {n,}), or 0 when the brace is a literal (Annex B). */
static size_t brace_quantifier(const tr *t, unsigned long *max)
{
	const char *p = t->p + 1;
	unsigned long n = 0, m = 0;
	int digits = 0, comma = 0;

	for (; p < t->end && *p != '}'; p++) {
		if (*p >= '0' && *p <= '9') {
			unsigned long *v = comma ? &m : &n;

			if (*v < 100000)
				*v = *v * 10 + (unsigned long)(*p - '0');
			digits |= comma ? 2 : 1;
		} else if (*p == ',' && !comma) {
			comma = 1;
		} else {
			return 0;
		}
	}
	if (p >= t->end || !(digits & 1))
		return 0;
	*max = (digits & 2) ? m : n;
	if (*max < n)
		*max = n;
	return (size_t)(p - t->p) + 1;
}

/* Account for an atom of expanded size @size just written. */
static void atom(tr *t, unsigned long size)
{
	t->last_atom = size;
	t->size[t->depth] += size;
	t->can_repeat = 1;
}

/* A quantifier applies to the last atom; glibc copies the atom once per
 * count ("a+" is "aa*"), so its expanded size grows accordingly. */
static mkt_jsonschema_re_status repeat(tr *t, unsigned long count)
{
	unsigned long grown;

	if (!t->can_repeat)
		return fail(t, MKT_JSONSCHEMA_RE_INVALID, "nothing to repeat");
	t->can_repeat = 0;
	if (count > REPEAT_MAX)
		return fail(t, MKT_JSONSCHEMA_RE_UNSUPPORTED, "repetition counts above %d are not supported",
			    REPEAT_MAX);
	grown = t->last_atom * (count ? count : 1);
	t->size[t->depth] += grown - t->last_atom;
	t->last_atom = grown;
	if (t->size[t->depth] > EXPANDED_MAX)
		return fail(t, MKT_JSONSCHEMA_RE_UNSUPPORTED, "the pattern is too large once its repetitions are expanded");
	/* "a*?": laziness changes which match is found, not whether one is. */
	if (t->p < t->end && *t->p == '?')
		t->p++;
	return MKT_JSONSCHEMA_RE_OK;
}

/* "(", "(?:" and "(?<name>" open a group; lookaround has no POSIX form. */
static mkt_jsonschema_re_status open_group(tr *t)
{
	if (t->p < t->end && *t->p == '?') {
		const char *q = t->p + 1;

		if (q < t->end && *q == ':') {
			t->p = q + 1;
		} else if (q < t->end && *q == '<' && q + 1 < t->end && q[1] != '=' && q[1] != '!') {
			const char *close = memchr(q, '>', (size_t)(t->end - q));

			if (!close)
				return fail(t, MKT_JSONSCHEMA_RE_INVALID, "unterminated group name");
			t->p = close + 1;
		} else {
			return fail(t, MKT_JSONSCHEMA_RE_UNSUPPORTED, "lookaround assertions are not supported");
		}
	}
	if (t->depth >= GROUP_DEPTH_MAX)
		return fail(t, MKT_JSONSCHEMA_RE_UNSUPPORTED, "groups nested deeper than %d are not supported",
			    GROUP_DEPTH_MAX);
	t->size[++t->depth] = 0;
	t->can_repeat = 0;
	mkt_buf_addc(&t->out, '(');
	return MKT_JSONSCHEMA_RE_OK;
}

static mkt_jsonschema_re_status close_group(tr *t)
{
	unsigned long size;

	if (t->depth == 0)
		return fail(t, MKT_JSONSCHEMA_RE_INVALID, "unmatched )");
	size = t->size[t->depth--];
	mkt_buf_addc(&t->out, ')');
	atom(t, size ? size : 1);
	return MKT_JSONSCHEMA_RE_OK;
}

static mkt_jsonschema_re_status translate_escape(tr *t)
{
	int kind;
	uint32_t cp;
	size_t cls;
	mkt_jsonschema_re_status st = read_escape(t, 0, &kind, &cp, &cls);

	if (st != MKT_JSONSCHEMA_RE_OK)
		return st;
	if (kind == ESC_BOUNDARY) {
		mkt_buf_addc(&t->out, '\\');       /* glibc's \b and \B */
		mkt_buf_addc(&t->out, (char)cp);
		t->can_repeat = 0;
		return MKT_JSONSCHEMA_RE_OK;
	}
	atom(t, 1);
	if (kind == ESC_CLASS)
		return put_class(t, class_escapes[cls].ranges, class_escapes[cls].n,
				 class_escapes[cls].negated);
	return put_literal(t, cp);
}

static mkt_jsonschema_re_status translate_one(tr *t)
{
	mkt_jsonschema_re_status st;
	unsigned long max;
	size_t n;
	uint32_t cp;
	char c = *t->p++;

	switch (c) {
	case '\\':
		return translate_escape(t);
	case '[':
		atom(t, 1);
		return translate_class(t);
	case '(':
		return open_group(t);
	case ')':
		return close_group(t);
	case '*':
	case '+':
	case '?':
		mkt_buf_addc(&t->out, c);
		return repeat(t, c == '+' ? 2 : 1);
	case '{':
		t->p--;
		if ((n = brace_quantifier(t, &max)) == 0) {
			t->p++;
			atom(t, 1);
			return put_literal(t, '{');
		}
		mkt_buf_addn(&t->out, t->p, n);
		t->p += n;
		return repeat(t, max);
	case '}':
		atom(t, 1);
		return put_literal(t, '}');
	case '.':
		atom(t, 1);
		return put_class(t, line_terminators, N_RANGES(line_terminators), 1);
	case '|':
	case '^':
	case '$':
		mkt_buf_addc(&t->out, c);
		t->can_repeat = 0;
		return MKT_JSONSCHEMA_RE_OK;
	default:
		t->p--;
		atom(t, 1);
		if ((st = read_utf8(t, &cp)) != MKT_JSONSCHEMA_RE_OK)
			return st;
		return put_literal(t, cp);
	}
}

mkt_jsonschema_re_status mkt_jsonschema__regex_translate(char **out, const char *pattern,
							 size_t len, char *why, size_t why_size)
{
	tr t;
	mkt_jsonschema_re_status st = MKT_JSONSCHEMA_RE_OK;

	memset(&t, 0, sizeof(t));
	t.p = pattern;
	t.end = pattern + len;
	t.why = why;
	t.why_size = why_size;
	*out = NULL;
	if (why_size)
		why[0] = '\0';
	while (t.p < t.end && st == MKT_JSONSCHEMA_RE_OK)
		st = translate_one(&t);
	if (st == MKT_JSONSCHEMA_RE_OK && t.depth)
		st = fail(&t, MKT_JSONSCHEMA_RE_INVALID, "unmatched (");
	if (st == MKT_JSONSCHEMA_RE_OK)
		*out = mkt_buf_steal(&t.out);
	mkt_buf_free(&t.out);
	return st;
}

/* regcomp and regexec read LC_CTYPE and LC_COLLATE; C.UTF-8 makes them see
 * code points in code point order whatever the daemon's locale is.  Built
 * once, never changed: shared read-only by every thread. */
static locale_t utf8_locale;
static pthread_once_t utf8_once = PTHREAD_ONCE_INIT;

static void utf8_locale_init(void)
{
	utf8_locale = newlocale(LC_CTYPE_MASK | LC_COLLATE_MASK, "C.UTF-8", (locale_t)0);
}

static locale_t utf8(void)
{
	pthread_once(&utf8_once, utf8_locale_init);
	return utf8_locale;
}

mkt_jsonschema_re_status mkt_jsonschema__regex_compile(regex_t *re, const char *pattern,
						       size_t len, char *why, size_t why_size)
{
	char *ere = NULL;
	locale_t loc = utf8(), saved;
	mkt_jsonschema_re_status st;
	int rc;

	if (!loc) {
		snprintf(why, why_size, "the C.UTF-8 locale is missing");
		return MKT_JSONSCHEMA_RE_UNSUPPORTED;
	}
	st = mkt_jsonschema__regex_translate(&ere, pattern, len, why, why_size);
	if (st != MKT_JSONSCHEMA_RE_OK)
		goto cleanup;
	saved = uselocale(loc);
	rc = regcomp(re, ere, REG_EXTENDED | REG_NOSUB);
	uselocale(saved);
	if (rc != 0) {
		regerror(rc, NULL, why, why_size);
		/* Out of memory is our limit, not the broker's mistake. */
		st = rc == REG_ESPACE ? MKT_JSONSCHEMA_RE_UNSUPPORTED : MKT_JSONSCHEMA_RE_INVALID;
	}
 cleanup:
	free(ere);
	return st;
}

int mkt_jsonschema__regex_search(const regex_t *re, const char *s, size_t len)
{
	regmatch_t span = { 0, (regoff_t)len };
	locale_t saved = uselocale(utf8());
	int rc = regexec(re, s, 1, &span, REG_STARTEND);

	uselocale(saved);
	if (rc == 0)
		return 1;
	return rc == REG_NOMATCH ? 0 : -1;
}

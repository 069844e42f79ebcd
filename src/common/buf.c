/*
 * buf.c: growable string buffer.
 */
#include <config.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "buf.h"

static void grow(mkt_buf *b, size_t extra)
{
	size_t need = b->len + extra + 1;
	size_t cap;

	if (need <= b->cap)
		return;
	cap = b->cap ? b->cap : 256;
	while (cap < need)
		cap *= 2;
	b->ptr = mkt_realloc(b->ptr, cap);
	b->cap = cap;
}

void mkt_buf_addn(mkt_buf *b, const char *s, size_t n)
{
	grow(b, n);
	memcpy(b->ptr + b->len, s, n);
	b->len += n;
	b->ptr[b->len] = '\0';
}

void mkt_buf_add(mkt_buf *b, const char *s)
{
	if (s)
		mkt_buf_addn(b, s, strlen(s));
}

void mkt_buf_addc(mkt_buf *b, char c)
{
	mkt_buf_addn(b, &c, 1);
}

void mkt_buf_printf(mkt_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n <= 0)
		return;
	grow(b, (size_t)n);
	va_start(ap, fmt);
	vsnprintf(b->ptr + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

/* The bytes mkt_buf_add_xml() must look at: the end of the string, the
 * markup characters, and the control characters XML 1.0 cannot hold (a
 * parser reads a raw CR as LF: a value would change each time it is
 * stored and read back, so it is escaped too). */
static const unsigned char xml_special[256] = {
	[0] = 1, [1] = 1, [2] = 1, [3] = 1, [4] = 1, [5] = 1, [6] = 1, [7] = 1, [8] = 1,
	[11] = 1, [12] = 1, [13] = 1, [14] = 1, [15] = 1, [16] = 1, [17] = 1, [18] = 1,
	[19] = 1, [20] = 1, [21] = 1, [22] = 1, [23] = 1, [24] = 1, [25] = 1, [26] = 1,
	[27] = 1, [28] = 1, [29] = 1, [30] = 1, [31] = 1,
	['&'] = 1, ['<'] = 1, ['>'] = 1, ['"'] = 1, ['\''] = 1,
};

void mkt_buf_add_xml(mkt_buf *b, const char *s)
{
	const char *run = s;

	if (!s)
		return;
	/* Copy unescaped runs in one go: most values need no escaping. */
	for (;;) {
		const char *rep;

		while (!xml_special[(unsigned char)*s])
			s++;
		switch (*s) {
		case '\0': mkt_buf_addn(b, run, (size_t)(s - run)); return;
		case '&': rep = "&amp;"; break;
		case '<': rep = "&lt;"; break;
		case '>': rep = "&gt;"; break;
		case '"': rep = "&quot;"; break;
		case '\'': rep = "&apos;"; break;
		case '\r': rep = "&#13;"; break;
		default: rep = ""; break;    /* not allowed in XML 1.0 */
		}
		mkt_buf_addn(b, run, (size_t)(s - run));
		mkt_buf_add(b, rep);
		run = ++s;
	}
}

void mkt_buf_add_elem(mkt_buf *b, const char *tag, const char *text)
{
	mkt_buf_addc(b, '<');
	mkt_buf_add(b, tag);
	mkt_buf_addc(b, '>');
	mkt_buf_add_xml(b, text);
	mkt_buf_add(b, "</");
	mkt_buf_add(b, tag);
	mkt_buf_addc(b, '>');
}

void mkt_buf_add_elem_int(mkt_buf *b, const char *tag, long long v)
{
	/* Every object body has a dozen of these: no printf. */
	char digits[24], *p = digits + sizeof(digits);
	unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;

	do {
		*--p = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (v < 0)
		*--p = '-';
	mkt_buf_addc(b, '<');
	mkt_buf_add(b, tag);
	mkt_buf_addc(b, '>');
	mkt_buf_addn(b, p, (size_t)(digits + sizeof(digits) - p));
	mkt_buf_add(b, "</");
	mkt_buf_add(b, tag);
	mkt_buf_addc(b, '>');
}

const char *mkt_buf_cstr(const mkt_buf *b)
{
	return b->ptr ? b->ptr : "";
}

char *mkt_buf_steal(mkt_buf *b)
{
	char *p = b->ptr ? b->ptr : mkt_strdup("");

	b->ptr = NULL;
	b->len = b->cap = 0;
	return p;
}

void mkt_buf_reset(mkt_buf *b)
{
	b->len = 0;
	if (b->ptr)
		b->ptr[0] = '\0';
}

void mkt_buf_free(mkt_buf *b)
{
	free(b->ptr);
	b->ptr = NULL;
	b->len = b->cap = 0;
}

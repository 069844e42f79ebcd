/*
 * buf.h: a growable string buffer with XML escaping.
 *
 * Every XML document marketd writes is built through this buffer (never by
 * concatenating unescaped strings).  The content is always NUL terminated.
 */
#ifndef MKT_BUF_H
#define MKT_BUF_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
	char *ptr;
	size_t len;
	size_t cap;
} mkt_buf;

#define MKT_BUF_INIT { NULL, 0, 0 }

void mkt_buf_add(mkt_buf *b, const char *s);
void mkt_buf_addn(mkt_buf *b, const char *s, size_t n);
void mkt_buf_addc(mkt_buf *b, char c);
void mkt_buf_printf(mkt_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Append @s with &, <, >, " and ' escaped, CR as &#13; (a parser would
 * read it as LF); control characters other than tab/newline/CR (illegal
 * in XML 1.0) are dropped. */
void mkt_buf_add_xml(mkt_buf *b, const char *s);

/* <tag>escaped text</tag>; a NULL text gives an empty element. */
void mkt_buf_add_elem(mkt_buf *b, const char *tag, const char *text);
void mkt_buf_add_elem_int(mkt_buf *b, const char *tag, long long v);

/* Content, never NULL ("" for an empty buffer); borrowed from @b. */
const char *mkt_buf_cstr(const mkt_buf *b);

/* Take the content (caller frees; never NULL); @b is reset to empty. */
char *mkt_buf_steal(mkt_buf *b);

void mkt_buf_reset(mkt_buf *b);   /* keep the memory, drop the content */
void mkt_buf_free(mkt_buf *b);    /* release the memory */

#endif

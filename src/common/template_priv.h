/*
 * template_priv.h: what template.c and template_parse.c share.  Not part of
 * the module's contract: include only from those two files.
 */
#ifndef MKT_TEMPLATE_PRIV_H
#define MKT_TEMPLATE_PRIV_H

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

int mkt_template__is_name_char(unsigned char c);
char *mkt_template__upper_dup(const char *s, size_t n);
int mkt_template__is_blank(char c);
const char *mkt_template__quote_n(char *dst, size_t size, const char *src, size_t n);
const char *mkt_template__quote(char *dst, size_t size, const char *src);
mkt_tattr *mkt_template__attr_new(const char *name, size_t len, char *value);
void mkt_template__member_append(mkt_tattr *a, char *name, char *value);
mkt_tattr *mkt_template__append(mkt_template *t, mkt_tattr *a);

#endif

/*
 * alloc.c: aborting allocators (see alloc.h for why).
 */
#include <config.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef HAVE_MALLOC_TRIM
#include <malloc.h>
#endif

#include "alloc.h"

static void oom(size_t size)
{
	fprintf(stderr, "marketd: out of memory allocating %zu bytes\n", size);
	abort();
}

void *mkt_malloc(size_t size)
{
	void *p = malloc(size ? size : 1);

	if (!p)
		oom(size);
	return p;
}

void *mkt_calloc(size_t nmemb, size_t size)
{
	void *p = calloc(nmemb ? nmemb : 1, size ? size : 1);

	if (!p)
		oom(nmemb * size);
	return p;
}

void *mkt_realloc(void *ptr, size_t size)
{
	void *p = realloc(ptr, size ? size : 1);

	if (!p)
		oom(size);
	return p;
}

char *mkt_strdup(const char *s)
{
	return s ? mkt_strndup(s, strlen(s)) : NULL;
}

char *mkt_strndup(const char *s, size_t n)
{
	size_t len = strnlen(s, n);
	char *p = mkt_malloc(len + 1);

	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

char *mkt_asprintf(const char *fmt, ...)
{
	va_list ap;
	char *p = NULL;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&p, fmt, ap);
	va_end(ap);
	if (n < 0)
		oom(strlen(fmt));
	return p;
}

void mkt_alloc_trim(void)
{
#ifdef HAVE_MALLOC_TRIM
	malloc_trim(0);
#endif
}

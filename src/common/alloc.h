/*
 * alloc.h: allocation that never returns NULL.
 *
 * marketd treats out-of-memory as fatal (as redis' zmalloc and glib do):
 * a control-plane daemon that cannot allocate a few bytes cannot keep its
 * promises anyway, and checking every allocation would hide the real error
 * paths.  These abort with a message instead.
 */
#ifndef MKT_ALLOC_H
#define MKT_ALLOC_H

#include <stddef.h>

void *mkt_malloc(size_t size);
void *mkt_calloc(size_t nmemb, size_t size);
void *mkt_realloc(void *ptr, size_t size);
char *mkt_strdup(const char *s);           /* NULL in, NULL out */
char *mkt_strndup(const char *s, size_t n);
char *mkt_asprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Give the memory freed after a large transient working set (a monitor
 * pass over 100 000 appliances) back to the system: glibc keeps freed
 * chunks below an arena's top, and the daemon's RSS would stay at its
 * high-water mark for good.  A no-op where the C library cannot. */
void mkt_alloc_trim(void);

/* Free *pp and set it to NULL. */
#define MKT_FREE(p) do { free(p); (p) = NULL; } while (0)

/* Move a pointer out of a variable, leaving NULL behind. */
#define MKT_STEAL(p) mkt__steal((void **)&(p))
static inline void *mkt__steal(void **pp) { void *p = *pp; *pp = NULL; return p; }

#endif

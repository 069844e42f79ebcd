/*
 * strmap.h: a map from strings to integers.
 *
 * For work that matches thousands of names against thousands of others in
 * one go (a monitor pass reconciling a catalog with a market's apps),
 * where a linear search per entry would be quadratic.  Open addressing,
 * 16 bytes a slot; not thread-safe.  A map copies its keys, or borrows
 * them (mkt_strmap_new_borrowing) where they live in the caller's records
 * anyway: 100 000 apps' keys and digests are ~10 MiB a copy.
 */
#ifndef MKT_STRMAP_H
#define MKT_STRMAP_H

#include <stddef.h>

typedef struct mkt_strmap mkt_strmap;

mkt_strmap *mkt_strmap_new(void);
/* A map whose keys are not copied: each must stay unchanged until the map
 * is freed. */
mkt_strmap *mkt_strmap_new_borrowing(void);
void mkt_strmap_free(mkt_strmap *m);   /* accepts NULL */

/* Map @key to @value, replacing an earlier value. */
void mkt_strmap_put(mkt_strmap *m, const char *key, int value);

/* 1 with *value set when @key is in the map, else 0. */
int mkt_strmap_get(const mkt_strmap *m, const char *key, int *value);

size_t mkt_strmap_count(const mkt_strmap *m);

#endif

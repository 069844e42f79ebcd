/*
 * strmap.c: string -> integer map, open addressing with linear probing.
 */
#include <config.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "strmap.h"

typedef struct {
	const char *key;     /* NULL: free slot (there are no deletions) */
	uint32_t hash;
	int value;
} slot;

struct mkt_strmap {
	slot *slots;
	size_t cap;          /* a power of two */
	size_t count;
	int borrowing;       /* keys are the caller's */
};

/* FNV-1a: keys are short and not chosen against us in a way that matters
 * (a collision costs a probe, never a wrong answer). */
static uint32_t hash_key(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ULL;
	}
	return (uint32_t)(h ^ (h >> 32));
}

mkt_strmap *mkt_strmap_new(void)
{
	mkt_strmap *m = mkt_calloc(1, sizeof(*m));

	m->cap = 64;
	m->slots = mkt_calloc(m->cap, sizeof(slot));
	return m;
}

mkt_strmap *mkt_strmap_new_borrowing(void)
{
	mkt_strmap *m = mkt_strmap_new();

	m->borrowing = 1;
	return m;
}

void mkt_strmap_free(mkt_strmap *m)
{
	size_t i;

	if (!m)
		return;
	for (i = 0; i < m->cap && !m->borrowing; i++)
		free((char *)m->slots[i].key);
	free(m->slots);
	free(m);
}

static slot *find(const mkt_strmap *m, const char *key, uint32_t h)
{
	size_t i = (size_t)h & (m->cap - 1);

	while (m->slots[i].key &&
	       (m->slots[i].hash != h || strcmp(m->slots[i].key, key) != 0))
		i = (i + 1) & (m->cap - 1);
	return &m->slots[i];
}

static void grow(mkt_strmap *m)
{
	slot *old = m->slots;
	size_t i, oldcap = m->cap;

	m->cap *= 2;
	m->slots = mkt_calloc(m->cap, sizeof(slot));
	for (i = 0; i < oldcap; i++) {
		if (old[i].key)
			*find(m, old[i].key, old[i].hash) = old[i];
	}
	free(old);
}

void mkt_strmap_put(mkt_strmap *m, const char *key, int value)
{
	uint32_t h = hash_key(key);
	slot *s;

	/* Keep the load under 1/2 so probes stay short. */
	if (2 * (m->count + 1) > m->cap)
		grow(m);
	s = find(m, key, h);
	if (!s->key) {
		s->key = m->borrowing ? key : mkt_strdup(key);
		s->hash = h;
		m->count++;
	}
	s->value = value;
}

int mkt_strmap_get(const mkt_strmap *m, const char *key, int *value)
{
	const slot *s = find(m, key, hash_key(key));

	if (!s->key)
		return 0;
	*value = s->value;
	return 1;
}

size_t mkt_strmap_count(const mkt_strmap *m)
{
	return m->count;
}

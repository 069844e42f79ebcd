/*
 * transfer_digest.c: md5 + sha256 of a stream (OpenSSL EVP), for the
 * source bytes and, when unpacking changes them, the bytes written.
 *
 * Hashing both costs about as much CPU as the copy's I/O (md5 ~700 MB/s,
 * sha256 ~1.1 GB/s with SHA-NI, one after the other ~430 MB/s), so each
 * algorithm runs on a helper thread of its own, overlapped with reading
 * and writing.  Data is copied into a ring of SLOTS fixed slots; the
 * producer waits when all are queued, so memory stays SLOTS * SLOT_SIZE
 * whatever the stream's size.  Without threads, hashing happens inline.
 */
#include <config.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "alloc.h"
#include "error.h"
#include "transfer_priv.h"
#include "util.h"

#define SLOTS 4
#define SLOT_SIZE (256 * 1024)
#define LANES 2                         /* md5, sha256 */

struct mkt_transfer_digests;

/* One algorithm on its own thread, over the same slots as the other. */
typedef struct {
	struct mkt_transfer_digests *d;
	EVP_MD_CTX *ctx;
	pthread_t thread;
	uint64_t done;                  /* slots hashed */
	int failed;                     /* an EVP update failed */
} lane;

struct mkt_transfer_digests {
	lane lanes[LANES];
	int nlanes;                     /* 1: md5 only, 2: md5 and sha256 */
	int threaded;                   /* the lanes' threads run */
	pthread_mutex_t lock;
	pthread_cond_t cond;            /* any change of submitted, done or end */
	unsigned char *slot[SLOTS];
	size_t len[SLOTS];
	uint64_t submitted;             /* slots queued; slot n is slot[n % SLOTS] */
	size_t fill;                    /* bytes in slot[submitted % SLOTS] */
	int end;                        /* no more input: the threads end */
};

static void *hasher(void *ud)
{
	lane *l = ud;
	mkt_transfer_digests *d = l->d;

	pthread_mutex_lock(&d->lock);
	for (;;) {
		unsigned i;

		while (l->done == d->submitted && !d->end)
			pthread_cond_wait(&d->cond, &d->lock);
		if (l->done == d->submitted)
			break;
		/* A slot is reused only once every lane has hashed it. */
		i = l->done % SLOTS;
		pthread_mutex_unlock(&d->lock);
		if (!EVP_DigestUpdate(l->ctx, d->slot[i], d->len[i]))
			l->failed = 1;
		pthread_mutex_lock(&d->lock);
		l->done++;
		pthread_cond_broadcast(&d->cond);
	}
	pthread_mutex_unlock(&d->lock);
	return NULL;
}

/* Stop the threads once they hashed everything queued. */
static void stop(mkt_transfer_digests *d, int running)
{
	int i;

	pthread_mutex_lock(&d->lock);
	d->end = 1;
	pthread_cond_broadcast(&d->cond);
	pthread_mutex_unlock(&d->lock);
	for (i = 0; i < running; i++)
		pthread_join(d->lanes[i].thread, NULL);
	d->threaded = 0;
}

int mkt_transfer__digests_new(mkt_transfer_digests **out, int sha256)
{
	static const EVP_MD *(*const algorithms[LANES])(void) = { EVP_md5, EVP_sha256 };
	mkt_transfer_digests *d = mkt_calloc(1, sizeof(*d));
	int i, running = 0, ret = 0;

	d->nlanes = sha256 ? 2 : 1;
	for (i = 0; i < d->nlanes; i++) {
		d->lanes[i].d = d;
		if (!(d->lanes[i].ctx = EVP_MD_CTX_new()) ||
		    !EVP_DigestInit_ex(d->lanes[i].ctx, algorithms[i](), NULL)) {
			ret = mkt_error_set(MKT_ERROR, MKT_ERR_OS, "cannot set up the md5 and sha256 digests");
			goto cleanup;
		}
	}
	for (i = 0; i < SLOTS; i++)
		d->slot[i] = mkt_malloc(SLOT_SIZE);
	pthread_mutex_init(&d->lock, NULL);
	pthread_cond_init(&d->cond, NULL);
	while (running < d->nlanes &&
	       pthread_create(&d->lanes[running].thread, NULL, hasher, &d->lanes[running]) == 0)
		running++;
	d->threaded = running == d->nlanes;
	if (!d->threaded)
		stop(d, running);       /* (and hash inline) */
	*out = MKT_STEAL(d);

 cleanup:
	mkt_transfer__digests_free(d);
	return ret;
}

static uint64_t slowest(const mkt_transfer_digests *d)
{
	uint64_t low = d->lanes[0].done;
	int i;

	for (i = 1; i < d->nlanes; i++) {
		if (d->lanes[i].done < low)
			low = d->lanes[i].done;
	}
	return low;
}

/* Queue the slot being filled; wait until the next one is free. */
static void submit(mkt_transfer_digests *d)
{
	pthread_mutex_lock(&d->lock);
	d->len[d->submitted % SLOTS] = d->fill;
	d->submitted++;
	d->fill = 0;
	pthread_cond_broadcast(&d->cond);
	while (d->submitted - slowest(d) == SLOTS)
		pthread_cond_wait(&d->cond, &d->lock);
	pthread_mutex_unlock(&d->lock);
}

int mkt_transfer__digests_update(mkt_transfer_digests *d, const void *p, size_t n)
{
	const unsigned char *c = p;
	int i;

	if (!d->threaded) {
		for (i = 0; i < d->nlanes; i++) {
			if (!EVP_DigestUpdate(d->lanes[i].ctx, p, n))
				return mkt_error_set(MKT_ERROR, MKT_ERR_OS, "cannot update the md5 and sha256 digests");
		}
		return 0;
	}
	while (n > 0) {
		size_t len = SLOT_SIZE - d->fill < n ? SLOT_SIZE - d->fill : n;

		/* Only this thread changes submitted: the slot is ours. */
		memcpy(d->slot[d->submitted % SLOTS] + d->fill, c, len);
		d->fill += len;
		c += len;
		n -= len;
		if (d->fill == SLOT_SIZE)
			submit(d);
	}
	return 0;
}

/* Hash what is left and stop the threads. */
static void finish(mkt_transfer_digests *d)
{
	if (!d->threaded)
		return;
	if (d->fill > 0)
		submit(d);
	stop(d, d->nlanes);
}

static int hex(EVP_MD_CTX *ctx, char *out, size_t size)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len = 0;

	if (!EVP_DigestFinal_ex(ctx, md, &len) || 2 * (size_t)len + 1 > size)
		return -1;
	mkt_util_hex(md, len, out);
	return 0;
}

int mkt_transfer__digests_final(mkt_transfer_digests *d, char md5[33], char sha256[65])
{
	finish(d);
	sha256[0] = '\0';
	if (d->lanes[0].failed || hex(d->lanes[0].ctx, md5, 33) < 0 ||
	    (d->nlanes > 1 && (d->lanes[1].failed || hex(d->lanes[1].ctx, sha256, 65) < 0)))
		return mkt_error_set(MKT_ERROR, MKT_ERR_OS, "cannot compute the md5 and sha256 digests");
	return 0;
}

void mkt_transfer__digests_free(mkt_transfer_digests *d)
{
	int i;

	if (!d)
		return;
	if (d->slot[0]) {
		/* (Set up completely: the threads may be running.) */
		finish(d);
		pthread_cond_destroy(&d->cond);
		pthread_mutex_destroy(&d->lock);
	}
	for (i = 0; i < SLOTS; i++)
		free(d->slot[i]);
	for (i = 0; i < LANES; i++)
		EVP_MD_CTX_free(d->lanes[i].ctx);      /* NULL for unused lanes */
	free(d);
}

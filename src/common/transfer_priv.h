/*
 * transfer_priv.h: what the transfer_*.c files share.  Not part of the
 * module's contract: include only from them.
 */
#ifndef MKT_TRANSFER_PRIV_H
#define MKT_TRANSFER_PRIV_H

#include <stdint.h>
#include <sys/types.h>

#include "transfer.h"

/* Size of every buffer the transfer holds: reads, writes, libarchive input
 * and received HTTP data.  Memory use is a small multiple of this whatever
 * the size of the content. */
#define MKT_TRANSFER_BLOCK (1024 * 1024)

/* Enough of the output to find an ISO's "CD001" at 0x8001. */
#define MKT_TRANSFER_HEAD_LEN 0x8800

/* md5 + sha256 of a stream, hashed on a helper thread (transfer_digest.c). */
typedef struct mkt_transfer_digests mkt_transfer_digests;

/* md5 always; sha256 too unless @sha256 is 0 (the other then stays ""). */
int mkt_transfer__digests_new(mkt_transfer_digests **out, int sha256);
int mkt_transfer__digests_update(mkt_transfer_digests *d, const void *p, size_t n);
/* Wait for the helper and write both hex digests; call once. */
int mkt_transfer__digests_final(mkt_transfer_digests *d, char md5[33], char sha256[65]);
void mkt_transfer__digests_free(mkt_transfer_digests *d);

/* Nonzero once opts->cancel is set. */
int mkt_transfer__cancelled(const mkt_transfer_opts *opts);
/* Record the error of a cancelled transfer; returns its status. */
int mkt_transfer__cancel_error(void);

/* CLOCK_MONOTONIC in ms. */
long long mkt_transfer__now_ms(void);
/* When a transfer that started now must end (opts->timeout), in
 * mkt_transfer__now_ms() terms; 0 for never. */
long long mkt_transfer__deadline(const mkt_transfer_opts *opts);
/* 0 while the transfer may go on; else the recorded error of a cancel or
 * of a @deadline passed (naming the source as @display). */
int mkt_transfer__check_stop(const mkt_transfer_opts *opts, long long deadline,
			     const char *display);
/* Record the error of a transfer past its deadline; returns its status. */
int mkt_transfer__timeout_error(const mkt_transfer_opts *opts, const char *display);

/* Where the content goes (transfer_sink.c). */
typedef struct {
	const char *target;             /* as given; "-" is standard output */
	/* opts->write: the content goes there (no file, nothing to commit) */
	int (*write)(void *ud, const unsigned char *p, size_t n);
	void *write_ud;
	const char *name;               /* as messages show it */
	char *tmp;                      /* the temporary file; NULL when written in place */
	char *tmp_dir;                  /* its MKT_TRANSFER_TMP_DIR, or NULL */
	int fd;
	int own_fd;
	int holes;                      /* zero blocks may be skipped */
	uint64_t max_size;              /* opts->max_size: 0 or the cap on off */
	uint64_t reserve;               /* opts->reserve: bytes to leave free */
	uint64_t off;                   /* bytes written */
	uint64_t flushing;              /* writeback started up to here */
	uint64_t flushed;               /* writeback finished up to here */
	unsigned char *buf;
	size_t len;
	unsigned char head[MKT_TRANSFER_HEAD_LEN];   /* the first bytes, to sniff */
	size_t head_len;
	mkt_transfer_digests *digests;  /* of the written bytes, or NULL */
} mkt_transfer_sink;

/* Open a temporary file beside opts->target (borrowed: must outlive the
 * sink), or in its MKT_TRANSFER_TMP_DIR, or standard output for "-", or a device or pipe in place, or
 * hand blocks to opts->write when set.  With @digest, the bytes written
 * are hashed too (unpacking changes them): 1 md5 only, 2 md5 and
 * sha256. */
int mkt_transfer__sink_new(mkt_transfer_sink **out, const mkt_transfer_opts *opts, int digest);
int mkt_transfer__sink_write(mkt_transfer_sink *s, const unsigned char *p, size_t n);
/* Flush, fsync and rename over the target. */
int mkt_transfer__sink_commit(mkt_transfer_sink *s);
/* Close; an uncommitted temporary file is removed. */
void mkt_transfer__sink_free(mkt_transfer_sink *s);

/* One HTTP(S) download, read as a stream (pull model over curl_multi). */
typedef struct mkt_transfer_http mkt_transfer_http;

/* Nonzero for an http:// or https:// URL. */
int mkt_transfer__is_http(const char *source);

/* Prepare a download of opts->source; nothing is sent before the first
 * read.  @display is the URL as error messages show it (borrowed; must
 * outlive the handle); @deadline is the transfer's
 * (mkt_transfer__deadline()). */
int mkt_transfer__http_open(mkt_transfer_http **out, const mkt_transfer_opts *opts,
			    const char *display, long long deadline);

/* Up to @len bytes of the body: > 0, 0 at its end, or a negative
 * mkt_status with the error recorded.  Dropped connections and 5xx
 * answers are resumed with a Range request inside this call. */
ssize_t mkt_transfer__http_read(mkt_transfer_http *h, void *buf, size_t len);

/* Size of the body once the first answer arrived; 0 while unknown. */
uint64_t mkt_transfer__http_size(const mkt_transfer_http *h);

void mkt_transfer__http_free(mkt_transfer_http *h);

/* mkt_transfer_probe() for an HTTP(S) URL (a HEAD request). */
int mkt_transfer__http_probe(const char *url, const char *display, uint64_t *out);

#endif

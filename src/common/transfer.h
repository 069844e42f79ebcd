/*
 * transfer.h: stream content from a file or URL into a file, in one pass.
 *
 * Used by marketd (images created from a PATH) and by the drivers (uploads
 * into a market, downloads out of one).  Content is never held whole in
 * memory: it flows in fixed-size blocks from the source, through the md5
 * and sha256 digests (of the bytes as read from the source), through an
 * optional decompressor/unarchiver (libarchive), into the target.
 *
 * The target is written as "<target>.part.XXXXXX" in the same directory,
 * fsync'd and renamed over <target> only when everything succeeded, so a
 * crash, a kill or a checksum mismatch never leaves a partial file under
 * the final name (the temporary file is removed on every failure this
 * process survives).
 */
#ifndef MKT_TRANSFER_H
#define MKT_TRANSFER_H

#include <stddef.h>
#include <stdint.h>

typedef void (*mkt_transfer_progress_cb)(void *ud, uint64_t done, uint64_t total);

typedef struct {
	/* A local path, a file:// URL or an http(s):// URL (libcurl; follows
	 * redirects; honours http_proxy/https_proxy/no_proxy). */
	const char *source;
	/* Final path of the content.  "-" writes to standard output instead
	 * (no temporary file, no rename). */
	const char *target;
	/* Decompress gzip/bzip2/xz/zstd and, for a tar or OVA archive, extract
	 * its disk image (the single regular file, or for OVA the largest
	 * .vmdk/.qcow2/.img/.raw member).  Plain content passes unchanged. */
	int unpack;
	/* When set, the md5 (hex) the source bytes must have: a mismatch fails
	 * with "checksum mismatch: expected X, got Y" and no target. */
	const char *expect_md5;
	/* HTTP: how many times to resume (Range request) after a dropped
	 * connection or a 5xx, with backoff; 0 = default (5). */
	int retries;
	/* HTTP: seconds to connect, and seconds without progress before
	 * giving up; 0 = defaults (30, 60). */
	long connect_timeout;
	long stall_timeout;
	/* HTTP: extra headers (NULL-terminated "Name: value" list) and a
	 * User-Agent; both optional. */
	const char *const *headers;
	const char *user_agent;
	/* Called at most about ten times a second, and once at the end;
	 * total is 0 when the size is unknown. */
	mkt_transfer_progress_cb progress;
	void *progress_ud;
	/* Polled between blocks: when it becomes non-zero the transfer stops,
	 * removes its temporary file and fails with "cancelled". */
	const volatile int *cancel;
} mkt_transfer_opts;

typedef struct {
	uint64_t bytes_in;      /* bytes read from the source */
	uint64_t bytes_out;     /* bytes written to the target */
	char md5[33];           /* hex digest of the source bytes */
	char sha256[65];
	/* Format of the written content, sniffed from its header: "qcow2",
	 * "vmdk", "vhdx", "vdi", "iso" or "raw". */
	char format[16];
} mkt_transfer_result;

/*
 * Run one transfer.  0 on success; otherwise a negative mkt_status with a
 * one-line message naming what failed and where, e.g.
 *   "cannot read http://h/x: HTTP 404 Not Found"
 *   "cannot write /ds/1/abc: No space left on device"
 *   "checksum mismatch: expected 0123..., got 4567..."
 *   "cannot unpack http://h/x.tar.gz: <libarchive message>"
 */
int mkt_transfer_run(const mkt_transfer_opts *opts, mkt_transfer_result *out);

/* Size in bytes of a source before reading it (stat or HTTP HEAD);
 * MKT_ENOTFOUND when it does not exist, 0 with *out = 0 when unknown. */
int mkt_transfer_probe(const char *source, uint64_t *out);

#endif

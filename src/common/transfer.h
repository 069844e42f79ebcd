/*
 * transfer.h: stream content from a file or URL into a file, in one pass.
 *
 * Used by marketd (images created from a PATH) and by the drivers (uploads
 * into a market, downloads out of one).  Content is never held whole in
 * memory: it flows in fixed-size blocks from the source, through the md5
 * and sha256 digests (of the bytes as read from the source), through an
 * optional decompressor/unarchiver (libarchive), into the target.
 *
 * The target is written as "<target>.part.XXXXXX" in the same directory
 * (or in its ".marketd-tmp" subdirectory: opts.private_tmp), fsync'd and
 * renamed over <target> only when everything succeeded, so a crash, a kill
 * or a checksum mismatch never leaves a partial file under the final name
 * (the temporary file is removed on every failure this process survives;
 * mkt_transfer_sweep() removes what a SIGKILL left).  The writer holds an
 * flock on it until it has its final name.  It is created with mode 0666
 * minus the umask, and blocks of zeros are left as holes, so sparse images
 * stay sparse.  A target that is a device or a pipe cannot be replaced by
 * a rename: it is written in place, zeros included.
 *
 * Memory use is a few fixed 1 MiB buffers, whatever the size of the
 * content.  Transfers may run concurrently in several threads.
 */
#ifndef MKT_TRANSFER_H
#define MKT_TRANSFER_H

#include <stddef.h>
#include <stdint.h>

#include "netpolicy.h"
/* Where temporary files go with opts.private_tmp, in the target's
 * directory. */
#define MKT_TRANSFER_TMP_DIR ".marketd-tmp"

typedef void (*mkt_transfer_progress_cb)(void *ud, uint64_t done, uint64_t total);

typedef struct {
	/* A local path, a file:// URL or an http(s):// URL (libcurl; follows
	 * redirects; honours http_proxy/https_proxy/no_proxy).  A file://
	 * URL must be local (file:///p or file://localhost/p) and may be
	 * percent-encoded.  Messages show a URL's userinfo masked
	 * (mkt_util_url_mask()). */
	const char *source;
	/* Final path of the content.  "-" writes to standard output instead
	 * (no temporary file, no rename).  Ignored (may be NULL) when @write
	 * is set. */
	const char *target;
	/* Instead of a file, hand the content to @write, in order, in blocks
	 * of any size (up to 1 MiB): an upload to a store that is not a file
	 * system (the s3 driver's multipart upload).  It returns 0, or a
	 * negative mkt_status after mkt_error_set(), which fails the transfer
	 * with that error.  Nothing is committed for the caller: when
	 * mkt_transfer_run() succeeds, every byte went to @write and the
	 * checks (expect_md5, cancel) passed, and the caller makes the
	 * content visible; when it fails, the caller throws away what
	 * @write received.  Unpacking works as for "-": a tar whose better
	 * member comes after one already written fails. */
	int (*write)(void *ud, const unsigned char *p, size_t n);
	void *write_ud;
	/* How messages name the source; default: the source with a URL's
	 * userinfo masked (mkt_util_url_mask()).  Set it when the URL
	 * itself holds a secret (a presigned URL's signature). */
	const char *display;
	/* Decompress gzip/bzip2/xz/zstd and, for a tar or OVA archive, extract
	 * its disk image (the single regular file, or for OVA the largest
	 * .vmdk/.qcow2/.img/.raw member).  Plain content passes unchanged.
	 * Formats are told by their magic bytes, never by the name, and
	 * anything else (raw, qcow2, vmdk, iso...) is copied byte for byte.
	 * In a tar, .ovf/.mf/.cert members are never the image, a member
	 * named like a disk wins over any other file, and several other files
	 * without a disk are an error.  With target "-", a better member that
	 * comes after one already written is an error too.  A member has its
	 * logical size: the holes of a sparse member (tar --sparse) are
	 * zeros, and holes again in the target. */
	int unpack;
	/* Write the temporary file in "<target's directory>/.marketd-tmp/"
	 * (created with mode 0700) instead of beside the target: a web server
	 * publishing the target's directory does not serve it (nginx with
	 * the usual "location ~ /\." deny; others cannot enter it), and it is
	 * where mkt_transfer_sweep() looks first.  The same file system as
	 * the target, so the rename stays a rename.  Removed at the end of
	 * the transfer when empty. */
	int private_tmp;
	/* Fail once more than this many bytes were written (the logical
	 * size: holes count), with "... more than MAX_IMAGE_SIZE (N MiB)"
	 * (MKT_EINVAL, nothing left behind): the cap that stops a
	 * decompression bomb.  0: no limit. */
	uint64_t max_size;
	/* Fail (MKT_ERROR, nothing left behind) when, while writing, the
	 * file system of the temporary file has fewer bytes than this
	 * available (statvfs f_bavail), so that a copy never fills it up.
	 * 0: no check.  Only for a file target. */
	uint64_t reserve;
	/* When set, the md5 (hex, any case) the source bytes must have: a
	 * mismatch fails with "checksum mismatch: expected X, got Y" and no
	 * target (an existing target is left as it was). */
	const char *expect_md5;
	/* HTTP: how many times, in all, to resume (Range request) after a
	 * refused or dropped connection, a stall or a 5xx, waiting 0.5 s,
	 * then twice as long each time, up to 10 s; 0 = default (5).  Other
	 * answers (4xx) fail at once.  A server that ignores Range sends the
	 * whole body again and the part already received is skipped. */
	int retries;
	/* HTTP: seconds to connect, and seconds without progress before
	 * giving up; 0 = defaults (30, 60). */
	long connect_timeout;
	long stall_timeout;
	/* Seconds the whole transfer may take, resumes and backoffs
	 * included: past it, it fails with "cannot read <source>: transfer
	 * took longer than N s" (MKT_ERROR, not retried, nothing left
	 * behind).  0: no limit.  A local source is checked between blocks,
	 * HTTP also while waiting (and libcurl gets what is left as
	 * CURLOPT_TIMEOUT_MS). */
	long timeout;
	/* HTTP: fail when the body arrives at under @min_rate bytes a
	 * second for @min_rate_window seconds (libcurl's LOW_SPEED_LIMIT and
	 * LOW_SPEED_TIME), with "cannot read <source>: transfer too slow:
	 * under N bytes/s for W s" (MKT_ERROR).  Not resumed, unlike a
	 * stall: the same server would be as slow again, and the point is
	 * to free the worker.  Replaces @stall_timeout; 0: only the stall
	 * check.  @min_rate_window 0 = 30. */
	long min_rate;
	long min_rate_window;
	/* HTTP: the addresses it may connect to (netpolicy.h), checked
	 * for every address a name resolves to and every redirect; NULL
	 * for any.  When all are refused, the transfer fails at once, not
	 * retried, with MKT_EPERM and mkt_netpolicy_refuse()'s message.
	 * Through a proxy (http_proxy...), the address checked is the
	 * proxy's: the proxy then decides what may be reached. */
	const mkt_netpolicy *networks;
	/* HTTP: extra headers (NULL-terminated "Name: value" list) and a
	 * User-Agent; both optional. */
	const char *const *headers;
	const char *user_agent;
	/* HTTP: sign every request with AWS signature V4 (libcurl's
	 * CURLOPT_AWS_SIGV4): @aws_sigv4 is the provider string, e.g.
	 * "aws:amz:us-east-1:s3", @aws_key_id and @aws_secret the
	 * credentials (never shown in messages).  S3 also wants an
	 * "x-amz-content-sha256" header: pass it in @headers.  Redirects
	 * are not followed then (the signature is for the first host). */
	const char *aws_sigv4;
	const char *aws_key_id;
	const char *aws_secret;
	/* Called at most about ten times a second, and once at the end of a
	 * successful transfer with done == total == bytes_in; before that,
	 * total is 0 while the size is unknown.  done counts source bytes. */
	mkt_transfer_progress_cb progress;
	void *progress_ud;
	/* Polled between blocks: when it becomes non-zero the transfer stops,
	 * removes its temporary file and fails with "cancelled" (MKT_ERROR).
	 * It is also looked at just before the final rename, and at least
	 * every 250 ms while HTTP waits for data or backs off; a signal
	 * handler may set it (a signal also wakes the HTTP wait at once). */
	const volatile int *cancel;
	/* Compute md5 only: sha256 and sha256_out stay "".  Hashing is most
	 * of a transfer's CPU, and a download checked against an md5 needs no
	 * sha256. */
	int md5_only;
} mkt_transfer_opts;

typedef struct {
	uint64_t bytes_in;      /* bytes read from the source */
	uint64_t bytes_out;     /* bytes written to the target */
	char md5[33];           /* hex digest of the source bytes */
	char sha256[65];
	/* Format of the written content, sniffed from its header: "qcow2",
	 * "vmdk" (sparse extent or descriptor), "vhdx", "vdi", "iso" or
	 * "raw". */
	char format[16];
	/* Digests of the bytes written to the target: those of the source
	 * unless unpacking changed the content (then they are what a later
	 * copy of the target, e.g. an upload of a stored image, must match). */
	char md5_out[33];
	char sha256_out[65];
} mkt_transfer_result;

/*
 * Run one transfer.  0 on success (@out, which may be NULL, is filled only
 * then); otherwise a negative mkt_status with a one-line message naming
 * what failed and where, e.g.
 *   "cannot read http://h/x: HTTP 404 Not Found"
 *   "cannot write /ds/1/abc: No space left on device"
 *   "checksum mismatch: expected 0123..., got 4567..."
 *   "cannot unpack http://h/x.tar.gz: <libarchive message>"
 * The status says whose fault it is:
 *   MKT_ENOTFOUND  the source does not exist (ENOENT, HTTP 404/410)
 *   MKT_EPERM      the source is refused (EACCES, HTTP 401/403/407,
 *                  an address the networks policy refuses)
 *   MKT_EINVAL     bad options, an unsupported URL scheme, a checksum
 *                  mismatch, content that cannot be unpacked
 *   MKT_ERROR      anything else, and every failure to write the target
 */
int mkt_transfer_run(const mkt_transfer_opts *opts, mkt_transfer_result *out);

/* Size in bytes of a source before reading it (stat or HTTP HEAD);
 * MKT_ENOTFOUND when it does not exist, 0 with *out = 0 when unknown. */
int mkt_transfer_probe(const char *source, uint64_t *out);

/* @source opened read-only when it is a local regular file (a path or a
 * file:// URL), else -1: a URL, a device, a pipe, or a file that cannot
 * be opened (mkt_transfer_run() reports why).  For a writer that would
 * rather read back what it was handed than keep it in memory: the bytes
 * @write receives from a plain (not unpacking) transfer of such a source
 * are the file's, in order from offset 0. */
int mkt_transfer_open_file(const char *source);

/* Called by mkt_transfer_sweep() for each file it removed: @size is its
 * length, @allocated the disk space it held (both in bytes). */
typedef void (*mkt_transfer_swept_cb)(void *ud, const char *path, uint64_t size,
				      uint64_t allocated);

/*
 * Remove the temporary files that transfers which did not survive (a
 * SIGKILL, a crash) left for targets in @dir: those in
 * "<dir>/.marketd-tmp/" and the "*.part.XXXXXX" files in @dir itself
 * (without opts.private_tmp), when not modified for @min_age seconds and
 * not locked by a transfer still writing them.  A transfer locks its
 * temporary file just after creating it, so @min_age 0 could take one in
 * that instant: callers that may run beside transfers pass a few seconds
 * at least.  An empty "<dir>/.marketd-tmp" is removed too.  @cb (may be
 * NULL) hears of each removal.  0 (also when @dir
 * does not exist), or MKT_ERROR when a directory cannot be read; a file
 * that cannot be removed is skipped.
 */
int mkt_transfer_sweep(const char *dir, long min_age, mkt_transfer_swept_cb cb, void *ud);

/* Is libcurl's result @code (a CURLcode) worth a retry: the network or
 * the server failed, not the request?  For every client of libcurl in
 * marketd, so they all retry the same failures. */
int mkt_transfer_curl_retryable(int code);

#endif

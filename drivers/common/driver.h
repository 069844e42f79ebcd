/*
 * driver.h: the helper library of marketd's market drivers.
 *
 * A market driver is one executable per action (import, export, delete,
 * monitor) in DRIVER_DIR/<MARKET_MAD>/; share/doc/drivers.md is the whole
 * protocol.  This library is its C side: a driver written with it is one
 * binary whose main() is
 *
 *     static const mkt_drv_action actions[] = {
 *         { "import",  http_import },
 *         { "delete",  http_delete },
 *         { NULL, NULL }
 *     };
 *     int main(int argc, char **argv)
 *     {
 *         return mkt_drv_main(argc, argv, actions);
 *     }
 *
 * installed once and linked (symlink or hardlink) under every action name:
 * mkt_drv_main() picks the row named by basename(argv[0]), reads the action
 * document, runs the handler and turns its return value into the exit
 * status.
 *
 * Output discipline: results (mkt_drv_result*) are collected in memory and
 * written to stdout when the handler returns MKT_DRV_OK; after a failure
 * what is still collected is dropped.  A handler with a long result (a
 * catalog's APP lines) may write it as it goes with
 * mkt_drv_results_flush(), so a failed action's results may already be
 * partly on stdout; marketd treats the action as failed: it goes by the
 * exit status, never by a partial result.  Everything else goes to stderr
 * in the protocol's line format ("ERROR: …", "PROGRESS <done> <total>").
 *
 * A driver is a short-lived single-threaded process: the results and the
 * progress rate limiter are process-wide, like stdout and stderr themselves.
 */
#ifndef MKT_DRIVER_H
#define MKT_DRIVER_H

#include <stdint.h>

#include "common/log.h"
#include "common/transfer.h"

/* Exit statuses of a driver action (the protocol's). */
typedef enum {
	MKT_DRV_OK = 0,       /* success */
	MKT_DRV_EFAIL = 1,    /* the action failed */
	MKT_DRV_EINPUT = 2,   /* bad input: unreadable/malformed document, missing attribute */
	MKT_DRV_ENOTSUP = 3,  /* this driver does not implement the action */
	MKT_DRV_EORPHAN = 4   /* service actions (provision, bind): the outcome is unknown
			       * and the broker may have created something: marketd
			       * must delete it (OSB orphan mitigation) */
} mkt_drv_status;

/* The parsed action document (opaque). */
typedef struct mkt_drv mkt_drv;

/* An action handler returns an mkt_drv_status; on failure it has printed
 * an ERROR: line (mkt_drv_fail() does both). */
typedef int (*mkt_drv_handler)(mkt_drv *d);

/* One row of a driver's action table; the table ends with { NULL, NULL }. */
typedef struct {
	const char *action;
	mkt_drv_handler handler;
} mkt_drv_action;

/*
 * The whole main() of a driver.  The action is basename(argv[0]); when that
 * is not an action name (the binary run under its own name, for debugging)
 * argv[1] names the action and the arguments shift by one:
 *     http import - 42 < doc.xml
 * argv[1] is the base64 of the action document, or "-" (or absent) to read
 * it from stdin; argv[2] is the object id.
 *
 * Returns the exit status: the handler's, MKT_DRV_EINPUT for a document
 * that cannot be read or parsed, or whose ACTION names another action, and
 * MKT_DRV_ENOTSUP for an action name missing from @actions.
 */
int mkt_drv_main(int argc, char **argv, const mkt_drv_action *actions);

/*
 * Read a document from memory (what mkt_drv_main() does with stdin or the
 * decoded argv[1]); for tests and for drivers with their own main().
 * @action is the action being run; @id the id from the command line (may
 * be NULL).  MKT_DRV_OK, or MKT_DRV_EINPUT after printing an ERROR: line.
 */
int mkt_drv_new(mkt_drv **out, const char *action, const char *id,
		const char *text, size_t len);
void mkt_drv_free(mkt_drv *d);   /* accepts NULL */

/* The action being run ("import", …); borrowed from @d. */
const char *mkt_drv_action_name(const mkt_drv *d);

/* The object id from the command line (the app id; the market id for
 * monitor), or when absent MARKETPLACEAPP/ID (MARKETPLACE/ID for monitor);
 * NULL when neither is there.  Borrowed from @d. */
const char *mkt_drv_id(mkt_drv *d);

/* mkt_drv_id() when it is a number (what names an app's content in a
 * store, so never anything that could change a path or a key); else
 * prints "ERROR: the app id "…" is not a number" and returns
 * MKT_DRV_EINPUT. */
int mkt_drv_require_id(mkt_drv *d, const char **out);

/*
 * Text of the element at @path, an XPath relative to the document root
 * (MARKET_DRIVER_ACTION_DATA), e.g. "MARKETPLACE/TEMPLATE/BASE_URL", with
 * leading and trailing blanks removed.  NULL when there is no such element;
 * "" for an empty one.  Borrowed from @d (valid until mkt_drv_free()).
 */
const char *mkt_drv_get(mkt_drv *d, const char *path);

/* Like mkt_drv_get(), but a missing or empty element prints
 * "ERROR: missing <path> in the action document" and returns
 * MKT_DRV_EINPUT; 0 with *out set otherwise. */
int mkt_drv_require(mkt_drv *d, const char *path, const char **out);
/* Does the document hold an element at @path (an XPath)? */
int mkt_drv_exists(mkt_drv *d, const char *path);

/* Typed getters: 0 with *out set; MKT_ENOTFOUND when the element is
 * missing or empty (*out untouched); MKT_EINVAL when the value is not a
 * whole number / a boolean (YES/NO, TRUE/FALSE, ON/OFF, 1/0). */
int mkt_drv_get_long(mkt_drv *d, const char *path, long long *out);
int mkt_drv_get_bool(mkt_drv *d, const char *path, int *out);

/*
 * Log a line to stderr in the protocol's format: "ERROR: …", "WARN: …",
 * "INFO: …" or "DEBUG: …" (MKT_LOG_DDEBUG and above print as DEBUG).  A
 * message with newlines becomes one prefixed line per line.
 */
void mkt_drv_log(mkt_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Print "ERROR: …" and return @code, so handlers can
 * `return mkt_drv_fail(MKT_DRV_EINPUT, "…")`. */
int mkt_drv_fail(int code, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * Report progress: "PROGRESS <done> <total>" (total 0 when unknown) on
 * stderr, at most 4 lines a second.  A call with done == total (total > 0)
 * is always printed, once; mkt_drv_progress_flush() prints the last value
 * that the rate limit held back (mkt_drv_main() calls it after a handler
 * that succeeded).
 */
void mkt_drv_progress(uint64_t done, uint64_t total);
void mkt_drv_progress_flush(void);
/* mkt_drv_progress() with the signature of a mkt_transfer_progress_cb. */
void mkt_drv_transfer_progress(void *ud, uint64_t done, uint64_t total);

/*
 * From the first call on, SIGTERM (marketd's time limit) and SIGINT no
 * longer kill the driver but set the returned flag to the signal's number
 * (0 until one comes), so an action can stop and clean up: remove a
 * temporary file, abort an upload.  Pass it as mkt_transfer_opts.cancel.
 */
const volatile int *mkt_drv_stop_flag(void);

/*
 * mkt_transfer_run() the driver way: PROGRESS lines, the stop flag as the
 * cancel flag, @user_agent (when opts->user_agent is unset), the temporary
 * file in the target directory's .marketd-tmp (opts->private_tmp, so that
 * mkt_drv_sweep() finds it after a SIGKILL).  On failure,
 * or when a signal came (a target already renamed into place is then
 * removed), prints one ERROR: line and returns MKT_DRV_EFAIL; 0 otherwise.
 */
int mkt_drv_transfer(mkt_transfer_opts *opts, const char *user_agent,
		     mkt_transfer_result *out);

/*
 * Add a result attribute: KEY="value" in template syntax, '"' and '\'
 * escaped with a backslash.  Collected, and printed on stdout when the
 * handler returns MKT_DRV_OK (or earlier by mkt_drv_results_flush()).
 * @key must be a template name ([A-Za-z0-9_.-]+; asserted).
 */
void mkt_drv_result(const char *key, const char *value);
void mkt_drv_result_long(const char *key, long long value);

/* The results collected and not flushed yet, as they will be printed
 * (borrowed), their length in bytes (strlen of it, without the walk), and
 * dropping them (tests; a driver with its own main()). */
const char *mkt_drv_results(void);
size_t mkt_drv_results_size(void);
void mkt_drv_results_reset(void);

/*
 * Write the results collected so far to stdout, the bytes the end of the
 * action would print, and empty the collection, so that marketd can use
 * them while the handler goes on (a long catalog): a flushed result can no
 * longer be taken back (the action's failure is then its exit status, see
 * the output discipline above).  Only under mkt_drv_main() running one
 * action; elsewhere (unit tests, fuzz targets, the calls of a batch, whose
 * results are their CALL vector) it does nothing and the results stay in
 * mkt_drv_results().  A write error is reported when the handler returns:
 * the action then fails.
 */
void mkt_drv_results_flush(void);

/*
 * How much has been added since the start (flushed results included), and
 * dropping what was added after that mark (a converter that fails or has
 * to start over).  What a flush wrote cannot be dropped: rewinding to a
 * mark from before a flush drops only what is still collected, so it is
 * for a handler that is failing; one that starts over and succeeds must
 * not flush before it knows it will not start over.
 */
size_t mkt_drv_results_mark(void);
void mkt_drv_results_rewind(size_t mark);

/*
 * Catalog digests (drivers.md): a monitor that maps a catalog fetched as
 * one body calls this with that body before mapping it.  The digest
 * covers @scheme (the mapping's name and version: change it when the same
 * body would map to other entries), marketd's version and the bytes.
 * When the document's CATALOG_DIGEST equals it, CATALOG_UNCHANGED is
 * printed and 1 returned: print no APP entry then.  Otherwise
 * CATALOG_DIGEST is printed and 0 returned: print the entries.
 */
int mkt_drv_catalog_digest(mkt_drv *d, const char *scheme, const void *body, size_t len);

/*
 * The marketplace template attributes @names[0..n-1] that @driver
 * requires, into @values (borrowed from @d).  A missing or empty one
 * prints "ERROR: the marketplace template has no X attribute (required by
 * the <driver> driver)" and returns MKT_DRV_EINPUT.
 */
int mkt_drv_market_require(mkt_drv *d, const char *driver, const char *const *names, size_t n,
			   const char **values);

/*
 * Remove what transfers killed by SIGKILL left in @dir (see
 * mkt_transfer_sweep(): files not modified for @min_age seconds and not
 * locked), logging each with its size and a total.  A failure is a
 * warning: the action goes on.
 */
void mkt_drv_sweep(const char *dir, long min_age);

/*
 * The common part of an export: @opts has its source (and any signing)
 * set; this adds the target (EXPORT_TARGET, which must be an absolute
 * path), unpacking, the caps MAX_IMAGE_SIZE and RESERVED_MB of the
 * document (MB, when given), the check against MARKETPLACEAPP/MD5, runs it with
 * mkt_drv_transfer() and adds the results MD5, SIZE and FORMAT of the
 * written file.  A status of the protocol.
 */
int mkt_drv_export(mkt_drv *d, mkt_transfer_opts *opts, const char *user_agent);

/*
 * The common part of an import: @opts gets its source (IMPORT_SOURCE,
 * required), a display of it with any userinfo masked (for the driver's
 * own messages too), the check against the document's MD5, and the
 * networks that the document's IMPORT_NETWORK_POLICY allows (none: any
 * address).  Strings and policy are borrowed from @d.  A status of the
 * protocol: MKT_DRV_EINPUT for a missing IMPORT_SOURCE or a malformed
 * policy.
 */
int mkt_drv_import_opts(mkt_drv *d, mkt_transfer_opts *opts);

/* The results of an import stored at @source: SOURCE, MD5, SIZE, FORMAT
 * (the document's FORMAT, else the one sniffed) and SHA256. */
void mkt_drv_import_results(mkt_drv *d, const char *source, const mkt_transfer_result *r);

/* Bytes -> MB as the protocol counts them: rounded up (1 byte is 1 MB). */
long long mkt_drv_size_mb(uint64_t bytes);

#endif

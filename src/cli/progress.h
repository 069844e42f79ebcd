/*
 * progress.h: how marketctl shows a transfer that is running (`--wait`,
 * `app download`), and Ctrl-C while it does.
 *
 * On a terminal the display is one line on stderr redrawn in place:
 *     [=====>    ]  42%  120.5 MiB/s  ETA 0:07
 * elsewhere (a log, a pipe) plain lines, at most one every two seconds:
 *     42% 512/1224 MiB
 * When the total is unknown both show the bytes so far and the rate.
 */
#ifndef MKT_PROGRESS_H
#define MKT_PROGRESS_H

#include <stdint.h>
#include <stdio.h>
#include <libxml/tree.h>

typedef struct mkt_progress mkt_progress;

/* A display on @fp; @tty selects the redrawn bar (pass
 * isatty(fileno(fp))). */
mkt_progress *mkt_progress_new(FILE *fp, int tty);
void mkt_progress_free(mkt_progress *p);   /* accepts NULL */

/* @done bytes of @total (0: unknown) so far.  The rate is measured from
 * successive calls. */
void mkt_progress_update(mkt_progress *p, uint64_t done, uint64_t total);

/* The transfer ended well: the final line (100% when @total is known),
 * whatever the two-second limit. */
void mkt_progress_finish(mkt_progress *p, uint64_t done, uint64_t total);

/* The transfer ended otherwise: end the terminal line so that a message
 * can follow on a line of its own. */
void mkt_progress_abort(mkt_progress *p);

/* The PROGRESS element of an app or image (marketd adds it while a
 * transfer of the object runs): 0 with the byte counts in @done and
 * @total, or MKT_ENOTFOUND. */
int mkt_progress_read(xmlNodePtr obj, uint64_t *done, uint64_t *total);

/* "42% (512.0 MiB of 1.2 GiB)", or "512.0 MiB (total unknown)";
 * malloc'ed. */
char *mkt_progress_describe(uint64_t done, uint64_t total);

/* `show`: "PROGRESS       : 42% (...)" when @obj has a PROGRESS element. */
void mkt_progress_print(FILE *fp, xmlNodePtr obj);

/*
 * Ctrl-C: while armed, SIGINT only sets a flag (so a wait can stop
 * cleanly and a download remove its partial file) instead of killing
 * marketctl.  mkt_progress_interrupted() is that flag, suitable for
 * mkt_transfer_opts.cancel.
 */
void mkt_progress_arm_sigint(void);
void mkt_progress_disarm_sigint(void);
const volatile int *mkt_progress_interrupted(void);

/* Sleep @ms milliseconds, returning early on Ctrl-C. */
void mkt_progress_sleep(long ms);

#endif

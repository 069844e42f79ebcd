/*
 * spawn.h: the one way marketd runs another program.
 *
 * An argv vector (no shell), an explicit environment, the child in its own
 * process group with a clean signal mask, every descriptor but 0-2 closed,
 * stdin fed from a buffer, stdout collected, stderr handed over line by
 * line, and a timeout that kills the whole group (SIGTERM, then SIGKILL
 * after a grace period).  The child is always reaped: no zombies.
 */
#ifndef MKT_SPAWN_H
#define MKT_SPAWN_H

#include <stdio.h>

#include <stddef.h>

typedef void (*mkt_spawn_line_cb)(void *ud, const char *line);

typedef struct {
	const char *const *argv;     /* argv[0] is the executable's path */
	const char *const *envp;     /* NULL-terminated; NULL = empty */
	const char *cwd;             /* NULL: inherit */
	const char *input;           /* written to stdin, then stdin is closed */
	size_t input_len;
	int timeout;                 /* seconds; 0 = none */
	int kill_grace;              /* seconds from SIGTERM to SIGKILL; 0 = 5 */
	size_t max_output;           /* stdout cap in bytes; 0 = 64 MiB */
	/* Write stdout here instead of keeping it in memory (output stays
	 * empty; output_len counts what was written).  NULL: in memory. */
	FILE *output_file;
	/* With output_file: called after each piece of stdout is written and
	 * flushed to it, with the bytes written so far (a reader of the file
	 * may then read that far while the child still runs). */
	void (*on_output)(void *ud, size_t written);
	mkt_spawn_line_cb on_stderr; /* each stderr line, without its newline */
	void *ud;
	/* Polled a few times a second: when it becomes non-zero the child's
	 * group is stopped as on a timeout (r->cancelled is set instead). */
	const volatile int *cancel;
} mkt_spawn_opts;

typedef struct {
	char *output;                /* stdout, NUL-terminated (caller frees) */
	size_t output_len;
	int output_truncated;        /* more than max_output was printed */
	int exit_status;             /* when the child exited normally */
	int term_signal;             /* when a signal ended it (0 otherwise) */
	int timed_out;               /* killed because of the timeout */
	int cancelled;               /* killed because *cancel was set */
	double elapsed;              /* seconds */
} mkt_spawn_result;

/* Run to completion.  0 when the child ran (whatever its exit status);
 * an error only when it could not be started. */
int mkt_spawn_run(const mkt_spawn_opts *opts, mkt_spawn_result *out);

void mkt_spawn_result_clear(mkt_spawn_result *r);

/* "exited with status 3", "killed by signal 9", "timed out after 10 s". */
const char *mkt_spawn_describe(const mkt_spawn_result *r, int timeout, char *buf, size_t len);

/*
 * Test hook (libvirt's virCommandSetDryRun): while set, mkt_spawn_run()
 * starts nothing and calls @cb instead, which may record the argv and
 * stdin and fill in a canned result.  Process-wide; tests only.
 */
typedef int (*mkt_spawn_dry_run_cb)(void *ud, const mkt_spawn_opts *opts,
				    mkt_spawn_result *out);
void mkt_spawn_set_dry_run(mkt_spawn_dry_run_cb cb, void *ud);

#endif

/*
 * spawn.c: run a program (see spawn.h).
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "alloc.h"
#include "buf.h"
#include "error.h"
#include "spawn.h"

#define DEFAULT_MAX_OUTPUT (64u * 1024 * 1024)
#define MAX_LINE 8192
/* After the child exits, how long descendants may keep its pipes open. */
#define LINGER_MS 1000

static struct {
	mkt_spawn_dry_run_cb cb;
	void *ud;
} dry_run;

void mkt_spawn_set_dry_run(mkt_spawn_dry_run_cb cb, void *ud)
{
	dry_run.cb = cb;
	dry_run.ud = ud;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void mkt_spawn_result_clear(mkt_spawn_result *r)
{
	free(r->output);
	memset(r, 0, sizeof(*r));
}

const char *mkt_spawn_describe(const mkt_spawn_result *r, int timeout, char *buf, size_t len)
{
	if (r->timed_out)
		snprintf(buf, len, "timed out after %d s", timeout);
	else if (r->cancelled)
		snprintf(buf, len, "cancelled");
	else if (r->term_signal)
		snprintf(buf, len, "killed by signal %d (%s)", r->term_signal,
			 strsignal(r->term_signal));
	else
		snprintf(buf, len, "exited with status %d", r->exit_status);
	return buf;
}

typedef struct {
	mkt_buf partial;
	mkt_spawn_line_cb cb;
	void *ud;
} line_splitter;

static void split_lines(line_splitter *ls, const char *data, size_t n, int flush)
{
	size_t i, start = 0;

	for (i = 0; i < n; i++) {
		if (data[i] != '\n')
			continue;
		mkt_buf_addn(&ls->partial, data + start, i - start);
		if (ls->cb)
			ls->cb(ls->ud, mkt_buf_cstr(&ls->partial));
		mkt_buf_reset(&ls->partial);
		start = i + 1;
	}
	/* Overlong lines are cut rather than buffered without bound. */
	if (ls->partial.len < MAX_LINE)
		mkt_buf_addn(&ls->partial, data + start,
			     n - start < MAX_LINE - ls->partial.len ? n - start :
			     MAX_LINE - ls->partial.len);
	if (flush && ls->partial.len) {
		if (ls->cb)
			ls->cb(ls->ud, mkt_buf_cstr(&ls->partial));
		mkt_buf_reset(&ls->partial);
	}
}

/* When to stop a child: on cancel or at its deadline SIGTERM goes to its
 * group, and SIGKILL after the grace period. */
typedef struct {
	double deadline;        /* 0: none */
	int grace;
	int term_sent;
	double kill_at;         /* 0: nothing pending */
} stop_state;

static void stop_if_due(stop_state *st, const mkt_spawn_opts *o, mkt_spawn_result *out,
			pid_t pid, double t)
{
	int cancel = o->cancel && __atomic_load_n(o->cancel, __ATOMIC_RELAXED);

	if (!st->term_sent && (cancel || (st->deadline && t > st->deadline))) {
		if (cancel)
			out->cancelled = 1;
		else
			out->timed_out = 1;
		kill(-pid, SIGTERM);
		st->term_sent = 1;
		st->kill_at = t + st->grace;
	}
	if (st->term_sent && st->kill_at && t > st->kill_at) {
		kill(-pid, SIGKILL);
		st->kill_at = 0;
	}
}

static int setup_spawn(posix_spawn_file_actions_t *fa, posix_spawnattr_t *attr,
		       const int in[2], const int out[2], const int err[2], const char *cwd)
{
	sigset_t none, defaults;

	posix_spawn_file_actions_init(fa);
	posix_spawn_file_actions_adddup2(fa, in[0], 0);
	posix_spawn_file_actions_adddup2(fa, out[1], 1);
	posix_spawn_file_actions_adddup2(fa, err[1], 2);
	/* Nothing of the daemon's (sockets, the database) leaks into drivers. */
	posix_spawn_file_actions_addclosefrom_np(fa, 3);
	if (cwd)
		posix_spawn_file_actions_addchdir_np(fa, cwd);

	posix_spawnattr_init(attr);
	sigemptyset(&none);
	sigfillset(&defaults);
	posix_spawnattr_setsigmask(attr, &none);
	posix_spawnattr_setsigdefault(attr, &defaults);
	posix_spawnattr_setpgroup(attr, 0);
	return posix_spawnattr_setflags(attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
					POSIX_SPAWN_SETSIGDEF);
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

int mkt_spawn_run(const mkt_spawn_opts *o, mkt_spawn_result *out)
{
	static const char *const empty_env[] = { NULL };
	int in[2] = { -1, -1 }, po[2] = { -1, -1 }, pe[2] = { -1, -1 };
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	line_splitter ls = { MKT_BUF_INIT, o->on_stderr, o->ud };
	mkt_buf output = MKT_BUF_INIT;
	size_t spooled = 0;             /* written to o->output_file */
	size_t max_output = o->max_output ? o->max_output : DEFAULT_MAX_OUTPUT;
	size_t written = 0;
	double start = now_s(), linger_until = 0;
	stop_state stop = { 0, o->kill_grace > 0 ? o->kill_grace : 5, 0, 0 };
	int ret = 0, rc, status = 0, exited = 0, pidfd = -1;
	pid_t pid = -1;

	memset(out, 0, sizeof(*out));
	if (dry_run.cb)
		return dry_run.cb(dry_run.ud, o, out);

	if (pipe2(in, O_CLOEXEC) < 0 || pipe2(po, O_CLOEXEC) < 0 || pipe2(pe, O_CLOEXEC) < 0) {
		ret = mkt_error_set_os(errno, "cannot create pipes for %s", o->argv[0]);
		goto cleanup;
	}
	setup_spawn(&fa, &attr, in, po, pe, o->cwd);
	rc = posix_spawn(&pid, o->argv[0], &fa, &attr, (char *const *)o->argv,
			 (char *const *)(o->envp ? o->envp : empty_env));
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	if (rc != 0) {
		pid = -1;
		ret = mkt_error_set_os(rc, "cannot run %s", o->argv[0]);
		goto cleanup;
	}
	close_fd(&in[0]);
	close_fd(&po[1]);
	close_fd(&pe[1]);
	/* Waiting for the child's exit on its pidfd wakes us the moment it
	 * ends; without one (old kernels) we look every millisecond. */
	pidfd = pidfd_open(pid, 0);
	fcntl(in[1], F_SETFL, O_NONBLOCK);
	if (o->input_len == 0)
		close_fd(&in[1]);
	stop.deadline = o->timeout > 0 ? start + o->timeout : 0;

	/* Read until the child closes its output.  Its exit is looked for
	 * only when nothing happens for a while (a descendant may hold the
	 * pipes open after it is gone): reaping it while its output is still
	 * flowing turned out to cost milliseconds per run. */
	while (po[0] >= 0 || pe[0] >= 0) {
		struct pollfd pfd[3];
		char block[65536];
		nfds_t n = 0;
		double t = now_s();
		int ready;

		if (exited && t > linger_until)
			break;
		stop_if_due(&stop, o, out, pid, t);
		if (in[1] >= 0)
			pfd[n++] = (struct pollfd){ .fd = in[1], .events = POLLOUT };
		if (po[0] >= 0)
			pfd[n++] = (struct pollfd){ .fd = po[0], .events = POLLIN };
		if (pe[0] >= 0)
			pfd[n++] = (struct pollfd){ .fd = pe[0], .events = POLLIN };
		ready = poll(pfd, n, 100);
		if (ready < 0 && errno != EINTR)
			break;
		if (ready == 0 && !exited && waitpid(pid, &status, WNOHANG) == pid) {
			exited = 1;
			linger_until = now_s() + LINGER_MS / 1000.0;
		}
		for (nfds_t i = 0; ready > 0 && i < n; i++) {
			ssize_t got;

			if (!pfd[i].revents)
				continue;
			if (pfd[i].fd == in[1]) {
				got = write(in[1], o->input + written, o->input_len - written);
				if (got > 0)
					written += (size_t)got;
				/* A driver that ignores stdin closes it early (EPIPE). */
				if ((got < 0 && errno != EAGAIN) || written == o->input_len)
					close_fd(&in[1]);
				continue;
			}
			got = read(pfd[i].fd, block, sizeof(block));
			if (got < 0 && (errno == EAGAIN || errno == EINTR))
				continue;
			if (got <= 0) {
				if (pfd[i].fd == pe[0]) {
					split_lines(&ls, "", 0, 1);
					close_fd(&pe[0]);
				} else {
					close_fd(&po[0]);
				}
				continue;
			}
			if (pfd[i].fd == pe[0]) {
				split_lines(&ls, block, (size_t)got, 0);
			} else if (spooled + output.len + (size_t)got > max_output) {
				out->output_truncated = 1;
			} else if (!o->output_file) {
				mkt_buf_addn(&output, block, (size_t)got);
			} else if (fwrite(block, 1, (size_t)got, o->output_file) != (size_t)got ||
				   (o->on_output && fflush(o->output_file) != 0)) {
				out->output_truncated = 1;          /* the disk is full */
			} else {
				spooled += (size_t)got;
				if (o->on_output)
					o->on_output(o->ud, spooled);
			}
		}
	}
	split_lines(&ls, "", 0, 1);
	close_fd(&in[1]);
	/* The output is closed: the child is exiting (or already reaped).
	 * Wait for it, still honouring the timeout, and leave nothing of its
	 * process group behind. */
	while (!exited) {
		double t = now_s();

		if (waitpid(pid, &status, WNOHANG) == pid) {
			exited = 1;
			break;
		}
		stop_if_due(&stop, o, out, pid, t);
		if (pidfd >= 0) {
			struct pollfd p = { .fd = pidfd, .events = POLLIN };

			poll(&p, 1, 100);
		} else {
			usleep(1000);
		}
	}
	kill(-pid, SIGKILL);
	out->exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
	out->term_signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
	out->output_len = output.len + spooled;
	out->output = mkt_buf_steal(&output);
	out->elapsed = now_s() - start;

 cleanup:
	close_fd(&in[0]);
	close_fd(&in[1]);
	close_fd(&po[0]);
	close_fd(&po[1]);
	close_fd(&pe[0]);
	close_fd(&pe[1]);
	close_fd(&pidfd);
	mkt_buf_free(&ls.partial);
	mkt_buf_free(&output);
	return ret;
}

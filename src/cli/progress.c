/*
 * progress.c: the progress bar and lines of --wait and `app download`,
 * and the Ctrl-C flag.
 */
#include <config.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/alloc.h"
#include "common/error.h"

#include "doc.h"
#include "output.h"
#include "progress.h"

#define BAR_WIDTH 30
#define LINE_INTERVAL_NS 2000000000LL   /* plain lines: at most one per 2 s */
#define RATE_MIN_NS 200000000LL         /* measure the rate over >= 0.2 s */

struct mkt_progress {
	FILE *fp;
	int tty;
	int drawn;                  /* a bar is on the terminal line */
	long long start_ns;
	long long sample_ns;        /* the last rate sample */
	uint64_t sample_done;
	double rate;                /* bytes/s, smoothed; 0 until measured */
	long long line_ns;          /* when the last plain line was printed */
	char last_line[128];        /* and what it said */
};

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

mkt_progress *mkt_progress_new(FILE *fp, int tty)
{
	mkt_progress *p = mkt_calloc(1, sizeof(*p));

	p->fp = fp;
	p->tty = tty;
	p->start_ns = now_ns();
	p->sample_ns = p->start_ns;
	return p;
}

void mkt_progress_free(mkt_progress *p)
{
	free(p);
}

/* "512.0 MiB", "3.4 GiB", "812 B". */
static void human(char *buf, size_t len, double bytes)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB" };
	size_t u = 0;

	while (bytes >= 1024 && u + 1 < sizeof(units) / sizeof(units[0])) {
		bytes /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(buf, len, "%.0f %s", bytes, units[u]);
	else
		snprintf(buf, len, "%.1f %s", bytes, units[u]);
}

/* "0:07", "1:02:33". */
static void duration(char *buf, size_t len, double seconds)
{
	long long s = (long long)(seconds + 0.5);

	if (s >= 3600)
		snprintf(buf, len, "%lld:%02lld:%02lld", s / 3600, s / 60 % 60, s % 60);
	else
		snprintf(buf, len, "%lld:%02lld", s / 60, s % 60);
}

static void measure(mkt_progress *p, uint64_t done, long long now)
{
	double dt = (double)(now - p->sample_ns) / 1e9;
	double inst;

	if (now - p->sample_ns < RATE_MIN_NS || done < p->sample_done)
		return;
	inst = (double)(done - p->sample_done) / dt;
	p->rate = p->rate > 0 ? 0.7 * p->rate + 0.3 * inst : inst;
	p->sample_ns = now;
	p->sample_done = done;
}

static void draw_bar(mkt_progress *p, uint64_t done, uint64_t total, int final)
{
	char rate[32], size[32], eta[32];
	double frac;
	int i, fill;

	if (p->rate > 0) {
		human(rate, sizeof(rate), p->rate);
		strcat(rate, "/s");
	} else {
		strcpy(rate, "--/s");
	}
	fputc('\r', p->fp);
	if (total == 0) {
		human(size, sizeof(size), (double)done);
		fprintf(p->fp, "%10s  %11s", size, rate);
	} else {
		frac = done >= total ? 1.0 : (double)done / (double)total;
		fill = (int)(frac * BAR_WIDTH);
		fputc('[', p->fp);
		for (i = 0; i < BAR_WIDTH; i++)
			fputc(i < fill ? '=' : i == fill ? '>' : ' ', p->fp);
		if (final)
			strcpy(eta, "0:00");
		else if (p->rate > 0)
			duration(eta, sizeof(eta), (double)(total - (done < total ? done : total)) / p->rate);
		else
			strcpy(eta, "-:--");
		fprintf(p->fp, "] %3d%%  %11s  ETA %s", (int)(frac * 100), rate, eta);
	}
	fputs("\033[K", p->fp);     /* clear what a longer line left */
	if (final)
		fputc('\n', p->fp);
	fflush(p->fp);
	p->drawn = !final;
}

/* "42% 512/1224 MiB" (KiB or B for smaller totals), or "512.0 MiB  120.5 MiB/s"
 * when the total is unknown. */
static void format_line(const mkt_progress *p, char *buf, size_t len, uint64_t done,
			uint64_t total)
{
	char rate[32], size[32];

	if (total == 0) {
		human(size, sizeof(size), (double)done);
		if (p->rate > 0) {
			human(rate, sizeof(rate), p->rate);
			snprintf(buf, len, "%s  %s/s", size, rate);
		} else {
			snprintf(buf, len, "%s", size);
		}
	} else {
		int shift = total >= (1u << 20) ? 20 : total >= (1u << 10) ? 10 : 0;

		if (done > total)
			done = total;
		snprintf(buf, len, "%d%% %llu/%llu %s", (int)((double)done * 100 / (double)total),
			 (unsigned long long)(done >> shift), (unsigned long long)(total >> shift),
			 shift == 20 ? "MiB" : shift == 10 ? "KiB" : "B");
	}
}

static void print_line(mkt_progress *p, uint64_t done, uint64_t total, int final, long long now)
{
	char line[sizeof(p->last_line)];

	format_line(p, line, sizeof(line), done, total);
	if (final && strcmp(line, p->last_line) == 0)
		return;                 /* already said */
	if (!final && p->line_ns && now - p->line_ns < LINE_INTERVAL_NS)
		return;
	fprintf(p->fp, "%s\n", line);
	fflush(p->fp);
	p->line_ns = now;
	snprintf(p->last_line, sizeof(p->last_line), "%s", line);
}

void mkt_progress_update(mkt_progress *p, uint64_t done, uint64_t total)
{
	long long now = now_ns();

	measure(p, done, now);
	if (done == 0 && total == 0)
		return;                 /* not started: "0 B" would say nothing */
	if (p->tty)
		draw_bar(p, done, total, 0);
	else
		print_line(p, done, total, 0, now);
}

void mkt_progress_finish(mkt_progress *p, uint64_t done, uint64_t total)
{
	long long now = now_ns();

	if (total && done < total)
		done = total;
	if (p->rate <= 0 && now > p->start_ns)
		p->rate = (double)done / ((double)(now - p->start_ns) / 1e9);
	if (p->tty)
		draw_bar(p, done, total, 1);
	else
		print_line(p, done, total, 1, now);
}

void mkt_progress_abort(mkt_progress *p)
{
	if (p && p->tty && p->drawn) {
		fputc('\n', p->fp);
		fflush(p->fp);
		p->drawn = 0;
	}
}

int mkt_progress_read(xmlNodePtr obj, uint64_t *done, uint64_t *total)
{
	xmlNodePtr prog = mkt_doc_find(obj, "PROGRESS");
	long long d = 0, t = 0;

	if (!prog || mkt_doc_get_long(prog, "DONE", &d) < 0 || d < 0)
		return MKT_ENOTFOUND;
	if (mkt_doc_get_long(prog, "TOTAL", &t) < 0 || t < 0)
		t = 0;
	*done = (uint64_t)d;
	*total = (uint64_t)t;
	return 0;
}

char *mkt_progress_describe(uint64_t done, uint64_t total)
{
	char d[32], t[32];

	human(d, sizeof(d), (double)done);
	if (total == 0)
		return mkt_asprintf("%s (total unknown)", d);
	human(t, sizeof(t), (double)total);
	return mkt_asprintf("%d%% (%s of %s)",
			    (int)((double)(done < total ? done : total) * 100 / (double)total), d, t);
}

void mkt_progress_print(FILE *fp, xmlNodePtr obj)
{
	uint64_t done, total;

	if (mkt_progress_read(obj, &done, &total) == 0)
		mkt_output_kv_take(fp, "PROGRESS", mkt_progress_describe(done, total));
}

/* ---- Ctrl-C ----------------------------------------------------------- */

static volatile sig_atomic_t interrupted;
static struct sigaction saved_sigint;
static int armed;

_Static_assert(sizeof(sig_atomic_t) == sizeof(int), "sig_atomic_t is an int");

static void on_sigint(int signum)
{
	(void)signum;
	interrupted = 1;
}

void mkt_progress_arm_sigint(void)
{
	struct sigaction sa;

	if (armed)
		return;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sigint;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0;            /* no SA_RESTART: let sleeps return */
	if (sigaction(SIGINT, &sa, &saved_sigint) == 0)
		armed = 1;
}

void mkt_progress_disarm_sigint(void)
{
	if (!armed)
		return;
	sigaction(SIGINT, &saved_sigint, NULL);
	armed = 0;
}

const volatile int *mkt_progress_interrupted(void)
{
	return (const volatile int *)&interrupted;
}

void mkt_progress_sleep(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (!interrupted && nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/*
 * dispatch_bench.c: driver dispatch overhead.  Runs N actions of a no-op
 * driver through marketd's driver pool (document on stdin and in argv,
 * explicit environment, stderr parsing, result parsing) and N plain
 * posix_spawn+waitpid of the same executable, one at a time each, and
 * prints both times.
 *
 * Usage: dispatch_bench DRIVER_DIR N
 */
#include <config.h>

#include <fcntl.h>
#include <pthread.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/error.h"
#include "common/log.h"
#include "core/config.h"
#include "driver/driver.h"

extern char **environ;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static int done_count, failed;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void on_done(const mkt_driver_reply *reply, void *ud)
{
	pthread_mutex_lock(&lock);
	failed += !reply->ok;
	done_count++;
	pthread_cond_signal(&cond);
	pthread_mutex_unlock(&lock);
}

int main(int argc, char **argv)
{
	const char *doc = "<MARKET_DRIVER_ACTION_DATA><ACTION>monitor</ACTION><MARKETPLACE>"
			  "<ID>100</ID><NAME>bench</NAME><TEMPLATE/></MARKETPLACE>"
			  "</MARKET_DRIVER_ACTION_DATA>";
	mkt_config conf = { 0 };
	mkt_driver *drv = NULL;
	char *exe;
	double t0, pool_s, spawn_s;
	int n, i;

	if (argc != 3) {
		fprintf(stderr, "usage: dispatch_bench DRIVER_DIR N\n");
		return 2;
	}
	n = atoi(argv[2]);
	conf.driver_dir = argv[1];
	conf.data_dir = (char *)"/tmp";
	conf.driver_workers = 1;        /* one at a time, like the spawn loop */
	for (i = 0; i < MKT_ACTION_LAST; i++)
		conf.driver_timeout[i] = 60;
	mkt_log_open(MKT_LOG_STD, NULL, MKT_LOG_WARN);
	if (mkt_driver_new(&drv, &conf) < 0) {
		fprintf(stderr, "%s\n", mkt_error_message());
		return 1;
	}

	t0 = now();
	for (i = 0; i < n; i++) {
		mkt_driver_request req = { .action = MKT_ACTION_MONITOR, .mad = "noop", .oid = 100,
					   .document = mkt_strdup(doc), .done = on_done };

		if (mkt_driver_submit(drv, &req) < 0) {
			fprintf(stderr, "%s\n", mkt_error_message());
			return 1;
		}
	}
	pthread_mutex_lock(&lock);
	while (done_count < n)
		pthread_cond_wait(&cond, &lock);
	pthread_mutex_unlock(&lock);
	pool_s = now() - t0;
	mkt_driver_free(drv);

	/* The peer: the same executable, its output discarded, no pipes. */
	exe = mkt_asprintf("%s/noop/monitor", argv[1]);
	t0 = now();
	for (i = 0; i < n; i++) {
		char *args[] = { exe, (char *)"-", (char *)"100", NULL };
		posix_spawn_file_actions_t fa;
		pid_t pid;
		int status, rc;

		posix_spawn_file_actions_init(&fa);
		posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
		posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
		rc = posix_spawn(&pid, exe, &fa, NULL, args, environ);
		posix_spawn_file_actions_destroy(&fa);
		if (rc != 0 || waitpid(pid, &status, 0) != pid)
			return 1;
	}
	spawn_s = now() - t0;
	printf("%d %.3f %.3f %d\n", n, pool_s, spawn_s, failed);
	free(exe);
	return failed ? 1 : 0;
}

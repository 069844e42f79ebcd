/*
 * log.c: the daemon log (see log.h).
 */
#include <config.h>

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "alloc.h"
#include "error.h"
#include "log.h"

/* Process-wide by nature: one sink shared by all threads, guarded by lock. */
static struct {
	pthread_mutex_t lock;
	mkt_log_system system;
	int level;
	char *path;
	FILE *fp;
	int zone;
} logger = { PTHREAD_MUTEX_INITIALIZER, MKT_LOG_STD, MKT_LOG_INFO, NULL, NULL, 0 };

static const char level_char[] = { 'E', 'W', 'I', 'D', 'D', 'D' };

int mkt_log_system_parse(const char *s)
{
	if (!s)
		return -1;
	if (!strcasecmp(s, "std"))
		return MKT_LOG_STD;
	if (!strcasecmp(s, "file"))
		return MKT_LOG_FILE;
	if (!strcasecmp(s, "syslog"))
		return MKT_LOG_SYSLOG;
	return -1;
}

static int open_file(const char *path, FILE **out)
{
	FILE *fp = fopen(path, "a");

	if (!fp)
		return mkt_error_set_os(errno, "cannot open log file '%s'", path);
	setvbuf(fp, NULL, _IOLBF, 0);
	*out = fp;
	return 0;
}

int mkt_log_open(mkt_log_system system, const char *file, int level)
{
	FILE *fp = NULL;
	int ret = 0;

	if (system == MKT_LOG_FILE && (ret = open_file(file, &fp)) < 0)
		return ret;
	pthread_mutex_lock(&logger.lock);
	if (logger.fp)
		fclose(logger.fp);
	free(logger.path);
	logger.fp = fp;
	logger.path = mkt_strdup(file);
	logger.system = system;
	logger.level = level;
	if (system == MKT_LOG_SYSLOG)
		openlog("marketd", LOG_PID, LOG_DAEMON);
	pthread_mutex_unlock(&logger.lock);
	return 0;
}

int mkt_log_reopen(void)
{
	FILE *fp = NULL;
	int ret = 0;

	pthread_mutex_lock(&logger.lock);
	if (logger.system == MKT_LOG_FILE && (ret = open_file(logger.path, &fp)) == 0) {
		fclose(logger.fp);
		logger.fp = fp;
	}
	pthread_mutex_unlock(&logger.lock);
	return ret;
}

void mkt_log_close(void)
{
	pthread_mutex_lock(&logger.lock);
	if (logger.fp)
		fclose(logger.fp);
	if (logger.system == MKT_LOG_SYSLOG)
		closelog();
	logger.fp = NULL;
	MKT_FREE(logger.path);
	logger.system = MKT_LOG_STD;
	pthread_mutex_unlock(&logger.lock);
}

void mkt_log_set_zone(int zone)
{
	pthread_mutex_lock(&logger.lock);
	logger.zone = zone;
	pthread_mutex_unlock(&logger.lock);
}

int mkt_log_enabled(mkt_log_level level)
{
	return (int)level <= logger.level;
}

void mkt_log(mkt_log_level level, const char *module, const char *fmt, ...)
{
	static const int syslog_prio[] = { LOG_ERR, LOG_WARNING, LOG_INFO,
					   LOG_DEBUG, LOG_DEBUG, LOG_DEBUG };
	char msg[2048];
	char stamp[64];
	struct tm tm;
	time_t now;
	va_list ap;

	if (!mkt_log_enabled(level))
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);

	pthread_mutex_lock(&logger.lock);
	if (logger.system == MKT_LOG_SYSLOG) {
		syslog(syslog_prio[level], "[Z%d][%s][%c]: %s", logger.zone, module,
		       level_char[level], msg);
	} else {
		FILE *fp = logger.fp ? logger.fp : stderr;

		now = time(NULL);
		localtime_r(&now, &tm);
		strftime(stamp, sizeof(stamp), "%a %b %d %H:%M:%S %Y", &tm);
		fprintf(fp, "%s [Z%d][%s][%c]: %s\n", stamp, logger.zone, module,
			level_char[level], msg);
		fflush(fp);
	}
	pthread_mutex_unlock(&logger.lock);
}

int mkt_log_limit(mkt_log_limiter *l, long long now_ms, long long interval_ms,
		  unsigned long *count)
{
	l->unlogged++;
	if (l->last_ms != 0 && now_ms - l->last_ms < interval_ms)
		return 0;
	*count = l->unlogged;
	l->unlogged = 0;
	l->last_ms = now_ms;
	return 1;
}

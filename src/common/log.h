/*
 * log.h: the daemon log.
 *
 * The log is the one process-wide sink (like collectd's plugin_log): it is
 * configured once at start-up and reopened on SIGHUP; every thread writes
 * through it.  Levels follow oned's DEBUG_LEVEL: 0 ERROR, 1 WARNING,
 * 2 INFO, 3 DEBUG (4 and 5 are more verbose DEBUG).
 */
#ifndef MKT_LOG_H
#define MKT_LOG_H

typedef enum {
	MKT_LOG_ERROR = 0,
	MKT_LOG_WARN = 1,
	MKT_LOG_INFO = 2,
	MKT_LOG_DEBUG = 3,
	MKT_LOG_DDEBUG = 4,
	MKT_LOG_DDDEBUG = 5
} mkt_log_level;

typedef enum {
	MKT_LOG_STD = 0,    /* stderr */
	MKT_LOG_FILE,
	MKT_LOG_SYSLOG
} mkt_log_system;

/* Configure the sink.  @file is used for MKT_LOG_FILE.  Returns 0 or an
 * error (the file cannot be opened). */
int mkt_log_open(mkt_log_system system, const char *file, int level);
/* Reopen the log file (after logrotate moved it). */
int mkt_log_reopen(void);
void mkt_log_close(void);
/* The zone each line names ("[Z<id>]", as oned's log): ZONE_ID. */
void mkt_log_set_zone(int zone);

/* Parse "file" / "syslog" / "std"; -1 if unknown. */
int mkt_log_system_parse(const char *s);

/* @module is a short tag: "rpc", "store", "core", "driver", "daemon". */
void mkt_log(mkt_log_level level, const char *module, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

int mkt_log_enabled(mkt_log_level level);

/*
 * At most a line per interval for a storm of like events (failed logins,
 * libxml2's reports): mkt_log_limit() counts an event at @now_ms and
 * returns 1 when a line is due, with *count the events it reports (this
 * one and those left out since the last line), else 0.  The caller
 * serialises calls on one limiter.
 */
typedef struct {
	long long last_ms;       /* 0: no line yet */
	unsigned long unlogged;
} mkt_log_limiter;

int mkt_log_limit(mkt_log_limiter *l, long long now_ms, long long interval_ms,
		  unsigned long *count);

#endif

/*
 * error.h: the one error discipline of marketd.
 *
 * A function that fails returns a negative mkt_status and, once, where the
 * failure is found, records a one-line message with mkt_error_set().  The
 * record is thread-local, so concurrent RPC workers never see each other's
 * errors.  Callers propagate the status unchanged and do not re-report.
 */
#ifndef MKT_ERROR_H
#define MKT_ERROR_H

#include <stdarg.h>

typedef enum {
	MKT_OK = 0,
	MKT_ERROR = -1,     /* generic failure */
	MKT_ENOTFOUND = -2, /* object or file does not exist */
	MKT_EEXISTS = -3,   /* name or id already taken */
	MKT_EPERM = -4,     /* authorization denied */
	MKT_EINVAL = -5,    /* bad input from a user or a peer */
	MKT_EBUSY = -6,     /* object locked or in a state that forbids it */
	MKT_EDRIVER = -7,   /* a driver failed */
	MKT_EAUTH = -8,     /* authentication failed */
	MKT_EACTION = -9    /* action not allowed in this state/config */
} mkt_status;

typedef enum {
	MKT_ERR_NONE = 0,
	MKT_ERR_OS,
	MKT_ERR_CONFIG,
	MKT_ERR_TEMPLATE,
	MKT_ERR_XML,
	MKT_ERR_STORE,
	MKT_ERR_AUTH,
	MKT_ERR_CORE,
	MKT_ERR_RPC,
	MKT_ERR_DRIVER,
	MKT_ERR_JSONSCHEMA,
	MKT_ERR_LAST
} mkt_error_area;

typedef struct {
	int code;            /* an mkt_status */
	mkt_error_area area;
	char message[1024];
} mkt_error;

/* Record an error for this thread and return @code, so a failure site can
 * say `return mkt_error_set(MKT_EINVAL, MKT_ERR_CORE, "...")`. */
int mkt_error_set(int code, mkt_error_area area, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Like mkt_error_set() with strerror(errno_value) appended after ": ". */
int mkt_error_set_os(int errno_value, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* The last error of this thread; never NULL (code 0 and "" when none). */
const mkt_error *mkt_error_last(void);

/* Convenience: the last message, never NULL. */
const char *mkt_error_message(void);

void mkt_error_clear(void);

/* Keep the first error across cleanup code that may set its own. */
void mkt_error_preserve(mkt_error *saved);
void mkt_error_restore(const mkt_error *saved);

const char *mkt_error_area_name(mkt_error_area area);

#endif

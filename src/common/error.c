/*
 * error.c: thread-local last error.
 */
#include <config.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "error.h"

static _Thread_local mkt_error last_error;

static const char *const area_names[MKT_ERR_LAST] = {
	[MKT_ERR_NONE] = "none",
	[MKT_ERR_OS] = "os",
	[MKT_ERR_CONFIG] = "config",
	[MKT_ERR_TEMPLATE] = "template",
	[MKT_ERR_XML] = "xml",
	[MKT_ERR_STORE] = "store",
	[MKT_ERR_AUTH] = "auth",
	[MKT_ERR_CORE] = "core",
	[MKT_ERR_RPC] = "rpc",
	[MKT_ERR_DRIVER] = "driver",
	[MKT_ERR_JSONSCHEMA] = "jsonschema",
};

/* Callers may pass the current message as an argument ("%s",
 * mkt_error_message()) to re-classify an error: format into a scratch
 * buffer first so the source is never overwritten while being read. */
int mkt_error_set(int code, mkt_error_area area, const char *fmt, ...)
{
	char message[sizeof(last_error.message)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(message, sizeof(message), fmt, ap);
	va_end(ap);
	last_error.code = code;
	last_error.area = area;
	memcpy(last_error.message, message, sizeof(message));
	return code;
}

int mkt_error_set_os(int errno_value, const char *fmt, ...)
{
	va_list ap;
	size_t len;
	int code = errno_value == ENOENT ? MKT_ENOTFOUND :
		   errno_value == EACCES || errno_value == EPERM ? MKT_EPERM : MKT_ERROR;

	char message[sizeof(last_error.message)];

	va_start(ap, fmt);
	vsnprintf(message, sizeof(message), fmt, ap);
	va_end(ap);
	len = strlen(message);
	snprintf(message + len, sizeof(message) - len, ": %s", strerror(errno_value));
	last_error.code = code;
	last_error.area = MKT_ERR_OS;
	memcpy(last_error.message, message, sizeof(message));
	return code;
}

const mkt_error *mkt_error_last(void)
{
	return &last_error;
}

const char *mkt_error_message(void)
{
	return last_error.message;
}

void mkt_error_clear(void)
{
	memset(&last_error, 0, sizeof(last_error));
}

void mkt_error_preserve(mkt_error *saved)
{
	*saved = last_error;
}

void mkt_error_restore(const mkt_error *saved)
{
	last_error = *saved;
}

const char *mkt_error_area_name(mkt_error_area area)
{
	if (area < 0 || area >= MKT_ERR_LAST)
		return "unknown";
	return area_names[area];
}

/*
 * input.c: reading template and credentials files (or standard input).
 */
#include <config.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/error.h"

#include "input.h"

int mkt_input_read(char **out, const char *path, const char *what)
{
	FILE *fp = NULL;
	mkt_buf b = MKT_BUF_INIT;
	char chunk[65536];
	const char *name = strcmp(path, "-") == 0 ? "standard input" : path;
	size_t n;
	int ret = MKT_ERROR;

	*out = NULL;
	if (strcmp(path, "-") == 0) {
		fp = stdin;
	} else if (!(fp = fopen(path, "r"))) {
		mkt_error_set(MKT_ERROR, MKT_ERR_OS, "cannot read %s %s: %s",
			      what, path, strerror(errno));
		goto cleanup;
	}

	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0) {
		if (memchr(chunk, '\0', n)) {
			mkt_error_set(MKT_ERROR, MKT_ERR_OS,
				      "cannot read %s %s: it holds a NUL byte (not text)",
				      what, name);
			goto cleanup;
		}
		if (b.len + n > MKT_INPUT_MAX) {
			mkt_error_set(MKT_ERROR, MKT_ERR_OS,
				      "cannot read %s %s: larger than %u bytes",
				      what, name, MKT_INPUT_MAX);
			goto cleanup;
		}
		mkt_buf_addn(&b, chunk, n);
	}
	if (ferror(fp)) {
		mkt_error_set(MKT_ERROR, MKT_ERR_OS, "cannot read %s %s: %s",
			      what, name, strerror(errno));
		goto cleanup;
	}

	*out = mkt_buf_steal(&b);
	ret = 0;

 cleanup:
	if (fp && fp != stdin)
		fclose(fp);
	mkt_buf_free(&b);
	return ret;
}

char *mkt_input_rstrip(char *s)
{
	size_t len = strlen(s);

	while (len > 0 && strchr(" \t\r\n\v\f", s[len - 1]))
		s[--len] = '\0';
	return s;
}

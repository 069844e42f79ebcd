/*
 * fetch.h: one HTTP GET into memory, for a catalog that is read whole.
 *
 * libcurl, following redirects, with the proxy variables of the
 * environment (http_proxy, https_proxy, no_proxy, ALL_PROXY; libcurl
 * ignores an upper-case HTTP_PROXY on purpose), a connect and a total
 * time limit, and compressed transfer when the server offers it.  Content
 * goes to stdout never: what comes back is the body, for the caller to
 * parse.
 */
#ifndef ONE_FETCH_H
#define ONE_FETCH_H

#include <stddef.h>

typedef struct {
	const char *user_agent;
	long connect_timeout;     /* seconds */
	long timeout;             /* seconds, the whole request */
	size_t max_size;          /* bytes of (decoded) body */
} one_fetch_opts;

/*
 * GET @url.  MKT_DRV_OK with *out (NUL terminated, caller frees) and
 * *out_len set; MKT_DRV_EFAIL after one ERROR: line naming the URL and
 * the reason: "cannot read URL: HTTP 500", "…: Couldn't connect to
 * server (…)", "…: the body is larger than N MiB".
 */
int one_fetch(const char *url, const one_fetch_opts *opts, char **out, size_t *out_len);

#endif

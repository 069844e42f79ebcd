/*
 * fetch.c: one HTTP GET into memory (fetch.h), on the helper library's
 * request (drivers/common/request.h).
 */
#include <config.h>

#include <stdlib.h>

#include "common/alloc.h"
#include "driver.h"
#include "fetch.h"
#include "request.h"

int one_fetch(const char *url, const one_fetch_opts *opts, char **out, size_t *out_len)
{
	mkt_drv_request req = {
		.url = url, .user_agent = opts->user_agent,
		.connect_timeout = opts->connect_timeout, .timeout = opts->timeout,
		.max_size = opts->max_size, .follow_redirects = 1, .accept_encoding = 1,
	};
	mkt_drv_response r;
	int ret = MKT_DRV_EFAIL;

	if (mkt_drv_request_run(&req, &r) < 0) {
		mkt_drv_fail(ret, "cannot read %s: %s", url, r.message);
		goto cleanup;
	}
	if (r.status < 200 || r.status > 299) {
		mkt_drv_fail(ret, "cannot read %s: HTTP %ld", url, r.status);
		goto cleanup;
	}
	*out_len = r.len;
	*out = MKT_STEAL(r.body);
	ret = MKT_DRV_OK;

 cleanup:
	mkt_drv_response_free(&r);
	return ret;
}

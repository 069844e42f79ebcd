/*
 * fetch.c: one HTTP GET into memory (fetch.h).
 */
#include <config.h>

#include <stdlib.h>
#include <string.h>
#include <curl/curl.h>

#include "common/buf.h"
#include "driver.h"
#include "fetch.h"

#define MAX_REDIRECTS 10

typedef struct {
	mkt_buf body;
	size_t max;
	int too_large;
} sink;

static size_t on_data(char *data, size_t size, size_t n, void *ud)
{
	sink *s = ud;
	size_t len = size * n;    /* size is always 1 */

	if (len > s->max - s->body.len) {
		s->too_large = 1;
		return 0;               /* CURLE_WRITE_ERROR */
	}
	mkt_buf_addn(&s->body, data, len);
	return len;
}

int one_fetch(const char *url, const one_fetch_opts *opts, char **out, size_t *out_len)
{
	char errbuf[CURL_ERROR_SIZE] = "";
	sink s = { MKT_BUF_INIT, opts->max_size, 0 };
	CURL *curl = NULL;
	CURLcode rc;
	long status = 0;
	int ret = MKT_DRV_EFAIL;

	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return mkt_drv_fail(MKT_DRV_EFAIL, "cannot read %s: libcurl does not initialise", url);
	if (!(curl = curl_easy_init())) {
		mkt_drv_fail(ret, "cannot read %s: libcurl does not initialise", url);
		goto cleanup;
	}
	/* No CURLOPT_PROXY/NOPROXY: libcurl then takes them from the
	 * environment, which is what marketd passes on to drivers. */
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_USERAGENT, opts->user_agent);
	curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(curl, CURLOPT_MAXREDIRS, (long)MAX_REDIRECTS);
	curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, opts->connect_timeout);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT, opts->timeout);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, &s);

	rc = curl_easy_perform(curl);
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
	if (s.too_large) {
		mkt_drv_fail(ret, "cannot read %s: the body is larger than %zu MiB", url,
			     s.max >> 20);
		goto cleanup;
	}
	if (rc != CURLE_OK) {
		mkt_drv_fail(ret, "cannot read %s: %s%s%s%s", url, curl_easy_strerror(rc),
			     *errbuf ? " (" : "", errbuf, *errbuf ? ")" : "");
		goto cleanup;
	}
	if (status < 200 || status > 299) {
		mkt_drv_fail(ret, "cannot read %s: HTTP %ld", url, status);
		goto cleanup;
	}
	*out_len = s.body.len;
	*out = mkt_buf_steal(&s.body);
	ret = MKT_DRV_OK;

 cleanup:
	mkt_buf_free(&s.body);
	curl_easy_cleanup(curl);
	curl_global_cleanup();
	return ret;
}

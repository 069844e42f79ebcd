/*
 * request.c: one HTTP request, the reply read into memory (request.h).
 */
#include <config.h>

#include <ctype.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <curl/curl.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "request.h"

#define MAX_REDIRECTS 10

typedef struct {
	mkt_buf body;
	size_t max;
	int too_large;
	const char *capture;       /* header name, or NULL */
	char *header;              /* its value */
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

/* Header lines come one per call, "Name: value\r\n", for every reply of
 * the exchange (redirects too): the last one's value wins. */
static size_t on_header(char *data, size_t size, size_t n, void *ud)
{
	sink *s = ud;
	size_t len = size * n, name = s->capture ? strlen(s->capture) : 0;
	const char *v, *end = data + len;

	if (!name || len <= name || data[name] != ':' || strncasecmp(data, s->capture, name))
		return len;
	for (v = data + name + 1; v < end && isspace((unsigned char)*v); v++)
		;
	while (end > v && isspace((unsigned char)end[-1]))
		end--;
	free(s->header);
	s->header = mkt_strndup(v, (size_t)(end - v));
	return len;
}

static void set_failure(mkt_drv_response *out, mkt_drv_req_end end, const char *reason,
			const char *detail)
{
	out->end = end;
	out->message = mkt_asprintf("%s%s%s%s", reason, detail && *detail ? " (" : "",
				    detail ? detail : "", detail && *detail ? ")" : "");
}

/* Once per process, before any thread of a batch makes a call. */
static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_status;

static void global_init(void)
{
	global_status = curl_global_init(CURL_GLOBAL_DEFAULT);
}

int mkt_drv_request_run(const mkt_drv_request *req, mkt_drv_response *out)
{
	char errbuf[CURL_ERROR_SIZE] = "";
	sink s = { MKT_BUF_INIT, req->max_size, 0, req->capture_header, NULL };
	const char *method = req->method ? req->method : "GET";
	struct curl_slist *headers = NULL;
	const char *const *h;
	CURL *curl = NULL;
	CURLcode rc;
	long sent = 0;
	int ret = -1;

	memset(out, 0, sizeof(*out));
	pthread_once(&global_once, global_init);
	if (global_status != CURLE_OK) {
		set_failure(out, MKT_DRV_REQ_ENOTSENT, "libcurl does not initialise", NULL);
		out->body = mkt_strdup("");
		return -1;
	}
	if (!(curl = curl_easy_init())) {
		set_failure(out, MKT_DRV_REQ_ENOTSENT, "libcurl does not initialise", NULL);
		goto cleanup;
	}
	for (h = req->headers; h && *h; h++)
		headers = curl_slist_append(headers, *h);
	/* No CURLOPT_PROXY/NOPROXY: libcurl then takes them from the
	 * environment, which is what marketd passes on to drivers. */
	curl_easy_setopt(curl, CURLOPT_URL, req->url);
	if (req->user_agent)
		curl_easy_setopt(curl, CURLOPT_USERAGENT, req->user_agent);
	if (strcmp(method, "GET"))
		curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
	if (req->body) {
		curl_easy_setopt(curl, CURLOPT_POSTFIELDS, req->body);
		curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
	}
	if (req->username) {
		curl_easy_setopt(curl, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		curl_easy_setopt(curl, CURLOPT_USERNAME, req->username);
		curl_easy_setopt(curl, CURLOPT_PASSWORD, req->password ? req->password : "");
	}
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, req->follow_redirects ? 1L : 0L);
	curl_easy_setopt(curl, CURLOPT_MAXREDIRS, (long)MAX_REDIRECTS);
	if (req->connect_timeout > 0)
		curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, req->connect_timeout);
	if (req->timeout > 0)
		curl_easy_setopt(curl, CURLOPT_TIMEOUT, req->timeout);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	if (req->accept_encoding)
		curl_easy_setopt(curl, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, &s);
	curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(curl, CURLOPT_HEADERDATA, &s);

	rc = curl_easy_perform(curl);
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &out->status);
	curl_easy_getinfo(curl, CURLINFO_REQUEST_SIZE, &sent);
	if (s.too_large) {
		out->end = MKT_DRV_REQ_ETOOLARGE;
		out->message = mkt_asprintf("the body is larger than %zu MiB", s.max >> 20);
	} else if (rc != CURLE_OK) {
		/* Whether the server may have acted on the request is what a
		 * caller such as the osb driver needs to know. */
		set_failure(out, sent == 0 ? MKT_DRV_REQ_ENOTSENT
			    : rc == CURLE_OPERATION_TIMEDOUT ? MKT_DRV_REQ_ETIMEOUT
			    : MKT_DRV_REQ_ECUT, curl_easy_strerror(rc), errbuf);
		out->status = 0;
	} else {
		ret = 0;
	}

 cleanup:
	out->len = s.body.len;
	out->body = s.body.ptr ? mkt_buf_steal(&s.body) : mkt_strdup("");
	out->header = MKT_STEAL(s.header);
	mkt_buf_free(&s.body);
	curl_slist_free_all(headers);
	curl_easy_cleanup(curl);
	curl_global_cleanup();
	return ret;
}

void mkt_drv_response_free(mkt_drv_response *r)
{
	if (!r)
		return;
	free(r->body);
	free(r->header);
	free(r->message);
	memset(r, 0, sizeof(*r));
}

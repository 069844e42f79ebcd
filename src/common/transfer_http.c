/*
 * transfer_http.c: the HTTP(S) source of a transfer (libcurl).
 *
 * The transfer pulls bytes (libarchive reads that way) while libcurl pushes
 * them into a write callback.  The two meet in one bounded buffer:
 * curl_multi runs only when the reader wants more, and the callback pauses
 * the transfer (CURL_WRITEFUNC_PAUSE) when the buffer is full, so received
 * data never piles up in memory behind a slow disk or decompressor.
 *
 * A dropped connection, a stall or a 5xx answer is retried from the byte
 * where the data stopped (a Range request), after a backoff that doubles
 * from 0.5 s up to 10 s.  A server that ignores Range sends the whole body
 * again; the part already received is then skipped, so the reader above
 * never sees a byte twice.
 */
#include <config.h>

#include <arpa/inet.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>

#include "alloc.h"
#include "error.h"
#include "log.h"
#include "transfer_priv.h"

#define DEFAULT_RETRIES 5
#define DEFAULT_CONNECT_TIMEOUT 30L
#define DEFAULT_STALL_TIMEOUT 60L
#define DEFAULT_MIN_RATE_WINDOW 30L
#define BACKOFF_FIRST_MS 500L
#define BACKOFF_MAX_MS 10000L
#define MAX_REDIRS 10L
#define WAKE_MS 250             /* how often waits look at opts->cancel */
#define DEFAULT_USER_AGENT PACKAGE_NAME "/" PACKAGE_VERSION

/* What the header callback keeps of the last answer: after redirects, the
 * one whose body arrives. */
typedef struct {
	char reason[96];
	char etag[128];
	int64_t range_start;    /* Content-Range first byte, -1 if none */
	int64_t range_total;    /* Content-Range complete length, -1 if unknown */
} answer;

struct mkt_transfer_http {
	const mkt_transfer_opts *opts;
	CURLM *multi;
	CURL *easy;
	struct curl_slist *headers;
	const char *display;
	long long deadline;     /* mkt_transfer__deadline(), 0: none */
	int retries;
	int attempt;            /* retries used so far */
	unsigned char *buf;     /* received, not yet read: buf[start, start + len) */
	size_t cap;
	size_t start;
	size_t len;
	uint64_t pos;           /* body bytes received: where a resume starts */
	uint64_t size;          /* body size, 0 while unknown */
	uint64_t skip;          /* bytes of this answer that were received before */
	int active;             /* the easy handle is in the multi handle */
	int checked;            /* this answer's status was accepted ... */
	int bad_status;         /* ... or refused, and the callback aborted */
	int paused;
	int finished;           /* the whole body was received */
	int err;                /* a fatal error the callbacks recorded */
	char etag[128];         /* of the first answer, to notice a change */
	char refused[INET6_ADDRSTRLEN + 16];  /* an address opts->networks refused */
	answer ans;
	char errbuf[CURL_ERROR_SIZE];
};

/* curl_global_init() is not thread-safe and must run once per process;
 * the daemon's workers may start transfers concurrently. */
static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_status;

static void global_init(void)
{
	global_status = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static int ensure_global(const char *display)
{
	pthread_once(&global_once, global_init);
	if (global_status != CURLE_OK)
		return mkt_error_set(MKT_ERROR, MKT_ERR_OS, "cannot read %s: cannot initialise libcurl: %s",
				     display, curl_easy_strerror(global_status));
	return 0;
}

int mkt_transfer__is_http(const char *source)
{
	return !strncasecmp(source, "http://", 7) || !strncasecmp(source, "https://", 8);
}

static long min_rate_window(const mkt_transfer_opts *opts)
{
	return opts->min_rate_window > 0 ? opts->min_rate_window : DEFAULT_MIN_RATE_WINDOW;
}

static void answer_reset(answer *a)
{
	a->reason[0] = '\0';
	a->etag[0] = '\0';
	a->range_start = -1;
	a->range_total = -1;
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *ud)
{
	answer *a = ud;
	size_t n = size * nmemb;
	char line[256];
	size_t len = n < sizeof(line) - 1 ? n : sizeof(line) - 1;
	char *p;

	memcpy(line, data, len);
	line[len] = '\0';
	line[strcspn(line, "\r\n")] = '\0';
	if (!strncmp(line, "HTTP/", 5)) {
		/* A new answer (a redirect or 100 Continue came before). */
		answer_reset(a);
		if ((p = strchr(line, ' ')) && (p = strchr(p + 1, ' ')))
			snprintf(a->reason, sizeof(a->reason), "%s", p + 1);
	} else if (!strncasecmp(line, "etag:", 5)) {
		p = line + 5 + strspn(line + 5, " \t");
		snprintf(a->etag, sizeof(a->etag), "%s", p);
	} else if (!strncasecmp(line, "content-range:", 14)) {
		unsigned long long first, last, total;

		p = line + 14 + strspn(line + 14, " \t");
		if (sscanf(p, "bytes %llu-%llu/%llu", &first, &last, &total) == 3) {
			a->range_start = (int64_t)first;
			a->range_total = (int64_t)total;
		} else if (sscanf(p, "bytes %llu-%llu/", &first, &last) == 2) {
			a->range_start = (int64_t)first;
		}
	}
	return n;
}

static int status_code(long status)
{
	if (status == 404 || status == 410)
		return MKT_ENOTFOUND;
	if (status == 401 || status == 403 || status == 407)
		return MKT_EPERM;
	return MKT_ERROR;
}

static int status_error(const mkt_transfer_http *h, long status)
{
	return mkt_error_set(status_code(status), MKT_ERR_OS, "cannot read %s: HTTP %ld%s%s",
			     h->display, status, h->ans.reason[0] ? " " : "", h->ans.reason);
}

/* Look at the answer before taking its first byte: only 200 and the 206
 * that continues where the data stopped are content. */
static int check_answer(mkt_transfer_http *h)
{
	long status = 0;
	curl_off_t length = -1;

	curl_easy_getinfo(h->easy, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_getinfo(h->easy, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &length);
	if (status == 206 && h->pos > 0) {
		if (h->ans.range_start != (int64_t)h->pos)
			return h->err = mkt_error_set(MKT_ERROR, MKT_ERR_OS,
						      "cannot read %s: asked to resume at byte %" PRIu64 ", the server sent byte %" PRId64,
						      h->display, h->pos, h->ans.range_start);
		if (h->ans.range_total >= 0)
			h->size = (uint64_t)h->ans.range_total;
		else if (length >= 0)
			h->size = h->pos + (uint64_t)length;
	} else if (status == 200) {
		/* Without Range support the body starts over. */
		h->skip = h->pos;
		if (length >= 0)
			h->size = (uint64_t)length;
	} else {
		h->bad_status = 1;
		return -1;
	}
	if (!h->etag[0])
		snprintf(h->etag, sizeof(h->etag), "%s", h->ans.etag);
	else if (h->ans.etag[0] && strcmp(h->etag, h->ans.etag))
		return h->err = mkt_error_set(MKT_ERROR, MKT_ERR_OS,
					      "cannot read %s: the content changed while resuming (ETag %s, was %s)",
					      h->display, h->ans.etag, h->etag);
	h->checked = 1;
	return 0;
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *ud)
{
	mkt_transfer_http *h = ud;
	size_t n = size * nmemb;
	size_t drop, keep;

	if (!h->checked && check_answer(h) < 0)
		return 0;       /* anything but n aborts the transfer */
	drop = h->skip < n ? (size_t)h->skip : n;
	keep = n - drop;
	if (h->cap - h->start - h->len < keep) {
		memmove(h->buf, h->buf + h->start, h->len);
		h->start = 0;
	}
	if (h->cap - h->len < keep) {
		/* Nothing is taken from a paused chunk: curl delivers it
		 * again, whole, once the reader made room. */
		if (h->len > 0) {
			h->paused = 1;
			return CURL_WRITEFUNC_PAUSE;
		}
		h->cap = keep;
		h->buf = mkt_realloc(h->buf, h->cap);
	}
	memcpy(h->buf + h->start + h->len, data + drop, keep);
	h->len += keep;
	h->skip -= drop;
	h->pos += keep;
	return n;
}

/* Options shared by downloads and probes. */
static void setup_easy(CURL *e, const char *url, long connect_timeout, long stall_timeout,
		       const char *user_agent, answer *a, char *errbuf)
{
	curl_easy_setopt(e, CURLOPT_URL, url);
	/* Worker threads: no SIGALRM for DNS timeouts. */
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(e, CURLOPT_MAXREDIRS, MAX_REDIRS);
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
#else
	curl_easy_setopt(e, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
	curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT, connect_timeout > 0 ? connect_timeout : DEFAULT_CONNECT_TIMEOUT);
	/* A stall is less than a byte a second for that long. */
	curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, stall_timeout > 0 ? stall_timeout : DEFAULT_STALL_TIMEOUT);
	curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(e, CURLOPT_USERAGENT, user_agent ? user_agent : DEFAULT_USER_AGENT);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, a);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, errbuf);
	answer_reset(a);
}

/* Every connection libcurl makes, to each address of a name and after
 * each redirect, opens its socket here: the one place where the policy
 * sees the address that will really be connected to (a check of the name
 * before the transfer could be answered differently by DNS later). */
static curl_socket_t open_socket(void *ud, curlsocktype purpose, struct curl_sockaddr *a)
{
	mkt_transfer_http *h = ud;

	if (purpose == CURLSOCKTYPE_IPCXN &&
	    !mkt_netpolicy_allows(h->opts->networks, &a->addr, h->refused, sizeof(h->refused)))
		return CURL_SOCKET_BAD;    /* libcurl tries the next address */
	return socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
}

int mkt_transfer__http_open(mkt_transfer_http **out, const mkt_transfer_opts *opts,
			    const char *display, long long deadline)
{
	mkt_transfer_http *h = mkt_calloc(1, sizeof(*h));
	const char *const *hdr;
	int ret;

	h->opts = opts;
	h->display = display;
	h->deadline = deadline;
	h->retries = opts->retries > 0 ? opts->retries : DEFAULT_RETRIES;
	if ((ret = ensure_global(display)) < 0)
		goto cleanup;
	if (!(h->multi = curl_multi_init()) || !(h->easy = curl_easy_init())) {
		ret = mkt_error_set(MKT_ERROR, MKT_ERR_OS, "cannot read %s: cannot create a libcurl handle", display);
		goto cleanup;
	}
	for (hdr = opts->headers; hdr && *hdr; hdr++) {
		struct curl_slist *l = curl_slist_append(h->headers, *hdr);

		if (!l) {
			ret = mkt_error_set(MKT_ERROR, MKT_ERR_OS, "cannot read %s: cannot add header '%s'", display, *hdr);
			goto cleanup;
		}
		h->headers = l;
	}
	setup_easy(h->easy, opts->source, opts->connect_timeout, opts->stall_timeout,
		   opts->user_agent, &h->ans, h->errbuf);
	curl_easy_setopt(h->easy, CURLOPT_HTTPHEADER, h->headers);
	if (opts->min_rate > 0) {
		curl_easy_setopt(h->easy, CURLOPT_LOW_SPEED_LIMIT, opts->min_rate);
		curl_easy_setopt(h->easy, CURLOPT_LOW_SPEED_TIME, min_rate_window(opts));
	}
	if (opts->aws_sigv4) {
		/* libcurl signs each request, resumes included; a redirect
		 * would carry the signature to another host. */
		curl_easy_setopt(h->easy, CURLOPT_AWS_SIGV4, opts->aws_sigv4);
		curl_easy_setopt(h->easy, CURLOPT_USERNAME, opts->aws_key_id ? opts->aws_key_id : "");
		curl_easy_setopt(h->easy, CURLOPT_PASSWORD, opts->aws_secret ? opts->aws_secret : "");
		curl_easy_setopt(h->easy, CURLOPT_FOLLOWLOCATION, 0L);
	}
	if (opts->networks) {
		curl_easy_setopt(h->easy, CURLOPT_OPENSOCKETFUNCTION, open_socket);
		curl_easy_setopt(h->easy, CURLOPT_OPENSOCKETDATA, h);
	}
	/* Large reads: the default 16 KiB means a callback, and a copy into
	 * the pull buffer, every 16 KiB of a multi-GiB image. */
	curl_easy_setopt(h->easy, CURLOPT_BUFFERSIZE, (long)(512 * 1024));
	curl_easy_setopt(h->easy, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h->easy, CURLOPT_WRITEDATA, h);
	h->cap = MKT_TRANSFER_BLOCK;
	h->buf = mkt_malloc(h->cap);
	*out = MKT_STEAL(h);

 cleanup:
	mkt_transfer__http_free(h);
	return ret;
}

static int start_attempt(mkt_transfer_http *h)
{
	char range[32];
	CURLMcode mc;
	int ret;

	/* libcurl ends the request itself at the deadline, even inside a
	 * long curl_multi_perform(). */
	if ((ret = mkt_transfer__check_stop(h->opts, h->deadline, h->display)) < 0)
		return ret;
	if (h->deadline) {
		long long left = h->deadline - mkt_transfer__now_ms();

		/* (0 would mean no limit.) */
		curl_easy_setopt(h->easy, CURLOPT_TIMEOUT_MS, (long)(left > 0 ? left : 1));
	}

	h->checked = 0;
	h->bad_status = 0;
	h->paused = 0;
	h->skip = 0;
	h->errbuf[0] = '\0';
	h->refused[0] = '\0';
	answer_reset(&h->ans);
	/* CURLOPT_RANGE rather than RESUME_FROM: curl fails a resume the
	 * server answers with 200, and that answer is still usable. */
	snprintf(range, sizeof(range), "%" PRIu64 "-", h->pos);
	curl_easy_setopt(h->easy, CURLOPT_RANGE, h->pos > 0 ? range : NULL);
	if ((mc = curl_multi_add_handle(h->multi, h->easy)) != CURLM_OK)
		return mkt_error_set(MKT_ERROR, MKT_ERR_OS, "cannot read %s: %s", h->display, curl_multi_strerror(mc));
	h->active = 1;
	return 0;
}

int mkt_transfer_curl_retryable(int code)
{
	switch ((CURLcode)code) {
	case CURLE_COULDNT_CONNECT:
	case CURLE_PARTIAL_FILE:
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
		return 1;
	default:
		return 0;
	}
}

/* Sleep @ms in slices, so a cancel need not wait for the end. */
static int sleep_ms(const mkt_transfer_http *h, long ms)
{
	while (ms > 0) {
		long slice = ms < WAKE_MS ? ms : WAKE_MS;
		struct timespec ts = { 0, slice * 1000000L };
		int ret = mkt_transfer__check_stop(h->opts, h->deadline, h->display);

		if (ret < 0)
			return ret;
		/* (A signal ends the slice early: fine, the flag is checked.) */
		nanosleep(&ts, NULL);
		ms -= slice;
	}
	return 0;
}

/* Wait and let the next read resume, or give up with @why as the error. */
static int retry(mkt_transfer_http *h, int code, const char *why)
{
	long delay = BACKOFF_FIRST_MS;
	int i;

	if (h->attempt >= h->retries)
		return mkt_error_set(code, MKT_ERR_OS, "cannot read %s: %s (after %d retries)",
				     h->display, why, h->attempt);
	for (i = 0; i < h->attempt && delay < BACKOFF_MAX_MS; i++)
		delay *= 2;
	if (delay > BACKOFF_MAX_MS)
		delay = BACKOFF_MAX_MS;
	h->attempt++;
	mkt_log(MKT_LOG_WARN, "transfer", "%s: %s; resuming at byte %" PRIu64 " in %ld ms (retry %d of %d)",
		h->display, why, h->pos, delay, h->attempt, h->retries);
	return sleep_ms(h, delay);
}

/* A request that timed out for good: past the transfer's deadline
 * (libcurl's CURLOPT_TIMEOUT_MS), or under opts->min_rate once connected
 * (its LOW_SPEED check).  That error, or 0 to leave the timeout to the
 * retries (a connect timeout, a stall without min_rate). */
static int final_timeout(mkt_transfer_http *h)
{
	curl_off_t connect_us = 0;
	/* Both end in CURLE_OPERATION_TIMEDOUT: libcurl's message tells its
	 * LOW_SPEED check from its timer (whose end may come a few ms before
	 * our clock says the deadline passed). */
	int slow = !strncmp(h->errbuf, "Operation too slow", 18);

	if (h->deadline && mkt_transfer__now_ms() + (slow ? 0 : 250) >= h->deadline)
		return mkt_transfer__timeout_error(h->opts, h->display);
	curl_easy_getinfo(h->easy, CURLINFO_CONNECT_TIME_T, &connect_us);
	if (h->opts->min_rate > 0 && connect_us > 0)
		return mkt_error_set(MKT_ERROR, MKT_ERR_OS,
				     "cannot read %s: transfer too slow: under %ld bytes/s for %ld s",
				     h->display, h->opts->min_rate, min_rate_window(h->opts));
	return 0;
}

/* One request ended with @rc: done, retry or fail. */
static int attempt_done(mkt_transfer_http *h, CURLcode rc)
{
	long status = 0;
	int ret;
	char why[CURL_ERROR_SIZE + 128];

	curl_easy_getinfo(h->easy, CURLINFO_RESPONSE_CODE, &status);
	curl_multi_remove_handle(h->multi, h->easy);
	h->active = 0;
	if (h->err)
		return h->err;
	/* No address was allowed: nothing a retry would change. */
	if (rc != CURLE_OK && h->refused[0])
		return mkt_netpolicy_refuse(h->opts->networks, h->display, h->refused);
	if (rc == CURLE_OPERATION_TIMEDOUT && (ret = final_timeout(h)) < 0)
		return ret;
	/* An empty body never reached on_body: judge the answer now. */
	if (rc == CURLE_OK && !h->checked && !h->bad_status && check_answer(h) < 0 && h->err)
		return h->err;
	if (rc == CURLE_OK && h->checked) {
		if (h->skip > 0)
			return mkt_error_set(MKT_ERROR, MKT_ERR_OS,
					     "cannot read %s: the content changed while resuming (now %" PRIu64 " bytes)",
					     h->display, h->pos);
		h->finished = 1;
		return 0;
	}
	if (h->bad_status) {
		/* Asked for the bytes after the last: nothing was missing. */
		if (status == 416 && h->size > 0 && h->pos >= h->size) {
			h->finished = 1;
			return 0;
		}
		if (status < 500 || status > 599)
			return status_error(h, status);
		snprintf(why, sizeof(why), "HTTP %ld%s%s", status, h->ans.reason[0] ? " " : "", h->ans.reason);
		return retry(h, status_code(status), why);
	}
	snprintf(why, sizeof(why), "%s", h->errbuf[0] ? h->errbuf : curl_easy_strerror(rc));
	if (!mkt_transfer_curl_retryable(rc))
		return mkt_error_set(MKT_ERROR, MKT_ERR_OS, "cannot read %s: %s", h->display, why);
	return retry(h, MKT_ERROR, why);
}

ssize_t mkt_transfer__http_read(mkt_transfer_http *h, void *buf, size_t len)
{
	for (;;) {
		CURLMsg *msg;
		CURLMcode mc = CURLM_OK;
		int running = 0, left, ret;

		if (h->len > 0) {
			size_t n = h->len < len ? h->len : len;

			memcpy(buf, h->buf + h->start, n);
			h->start += n;
			h->len -= n;
			if (h->len == 0)
				h->start = 0;
			return (ssize_t)n;
		}
		if (h->err)
			return h->err;
		if (h->finished)
			return 0;
		if ((ret = mkt_transfer__check_stop(h->opts, h->deadline, h->display)) < 0)
			return h->err = ret;
		if (!h->active && (ret = start_attempt(h)) < 0)
			return h->err = ret;
		if (h->paused) {
			/* The buffer is empty: take what the callback refused
			 * (curl may deliver it right inside this call). */
			CURLcode rc;

			h->paused = 0;
			if ((rc = curl_easy_pause(h->easy, CURLPAUSE_CONT)) != CURLE_OK)
				return h->err = mkt_error_set(MKT_ERROR, MKT_ERR_OS, "cannot read %s: %s",
							      h->display, curl_easy_strerror(rc));
			continue;
		}
		mc = curl_multi_perform(h->multi, &running);
		while (mc == CURLM_OK && (msg = curl_multi_info_read(h->multi, &left))) {
			if (msg->msg == CURLMSG_DONE && (ret = attempt_done(h, msg->data.result)) < 0)
				return h->err = ret;
		}
		if (mc == CURLM_OK && h->len == 0 && h->active && !h->paused)
			mc = curl_multi_poll(h->multi, NULL, 0, WAKE_MS, NULL);
		if (mc != CURLM_OK)
			return h->err = mkt_error_set(MKT_ERROR, MKT_ERR_OS, "cannot read %s: %s",
						      h->display, curl_multi_strerror(mc));
	}
}

uint64_t mkt_transfer__http_size(const mkt_transfer_http *h)
{
	return h->size;
}

void mkt_transfer__http_free(mkt_transfer_http *h)
{
	if (!h)
		return;
	if (h->active)
		curl_multi_remove_handle(h->multi, h->easy);
	curl_easy_cleanup(h->easy);
	curl_multi_cleanup(h->multi);
	curl_slist_free_all(h->headers);
	free(h->buf);
	free(h);
}

int mkt_transfer__http_probe(const char *url, const char *display, uint64_t *out)
{
	CURL *e = NULL;
	answer a;
	char errbuf[CURL_ERROR_SIZE] = "";
	curl_off_t length = -1;
	long status = 0;
	CURLcode rc;
	int ret;

	*out = 0;
	if ((ret = ensure_global(display)) < 0)
		return ret;
	if (!(e = curl_easy_init()))
		return mkt_error_set(MKT_ERROR, MKT_ERR_OS, "cannot read %s: cannot create a libcurl handle", display);
	setup_easy(e, url, 0, 0, NULL, &a, errbuf);
	curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
	if ((rc = curl_easy_perform(e)) != CURLE_OK) {
		ret = mkt_error_set(MKT_ERROR, MKT_ERR_OS, "cannot read %s: %s", display,
				    errbuf[0] ? errbuf : curl_easy_strerror(rc));
		goto cleanup;
	}
	curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
	if (status >= 200 && status < 300) {
		curl_easy_getinfo(e, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &length);
		if (length > 0)
			*out = (uint64_t)length;
	} else if (status != 405 && status != 501) {
		/* (A server without HEAD leaves the size unknown.) */
		ret = mkt_error_set(status_code(status), MKT_ERR_OS, "cannot read %s: HTTP %ld%s%s",
				    display, status, a.reason[0] ? " " : "", a.reason);
	}

 cleanup:
	curl_easy_cleanup(e);
	return ret;
}

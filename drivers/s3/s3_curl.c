/*
 * s3_curl.c: the signature V4 transport of the S3 client, over libcurl.
 *
 * libcurl signs every request itself (CURLOPT_AWS_SIGV4, provider
 * "aws:amz:<region>:s3"); S3 also wants the payload's sha256 in an
 * x-amz-content-sha256 header, and gets "UNSIGNED-PAYLOAD": hashing each
 * part a second time would cost as much CPU as the whole content's digests
 * the transfer already computes.  One easy handle is reused for every
 * request, so the connection stays open between parts.
 */
#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/error.h"
#include "common/xml.h"
#include "s3_client_priv.h"

#define CONNECT_TIMEOUT 30L
#define STALL_TIMEOUT 60L
#define MAX_ANSWER (1 << 20)    /* an XML answer; object bodies never come here */
#define PAYLOAD_HEADER "x-amz-content-sha256: UNSIGNED-PAYLOAD"

typedef struct {
	CURL *easy;
	char *provider;         /* "aws:amz:<region>:s3" */
} curl_state;

/* One request and what came back. */
typedef struct {
	const char *method;     /* GET, HEAD, PUT, POST, DELETE */
	const char *what;       /* for messages: "read", "write", ... */
	const char *key;        /* NULL: the bucket */
	const char *query;      /* encoded, without '?'; NULL for none */
	const s3_body *upload;  /* PUT */
	uint64_t upload_pos;
	int read_errno;         /* reading the upload's fd failed */
	const char *post;       /* POST */
	size_t post_len;
	const char *content_type;
	const s3_client *c;
	long status;
	mkt_buf answer;
	char etag[128];
	uint64_t length;        /* Content-Length (HEAD) */
} request;

/* ---- URLs --------------------------------------------------------------- */

/* A key in a URL path: everything but unreserved characters and '/'
 * percent-encoded (as S3 and SigV4 canonicalise it). */
static void add_key(mkt_buf *b, const char *key)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p;

	for (p = (const unsigned char *)key; *p; p++) {
		if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
		    strchr("-._~/", *p)) {
			mkt_buf_addc(b, (char)*p);
		} else {
			mkt_buf_addc(b, '%');
			mkt_buf_addc(b, hex[*p >> 4]);
			mkt_buf_addc(b, hex[*p & 15]);
		}
	}
}

static char *object_url(const s3_client *c, const char *key, const char *query)
{
	mkt_buf b = MKT_BUF_INIT;

	mkt_buf_add(&b, c->https ? "https://" : "http://");
	if (c->cfg.path_style)
		mkt_buf_printf(&b, "%s/%s/", c->host, c->cfg.bucket);
	else
		mkt_buf_printf(&b, "%s.%s/", c->cfg.bucket, c->host);
	if (key)
		add_key(&b, key);
	if (query)
		mkt_buf_printf(&b, "?%s", query);
	return mkt_buf_steal(&b);
}

/* A query value: the same encoding as a key, '/' included. */
static void add_query_value(mkt_buf *b, const char *v)
{
	for (; *v; v++) {
		char one[2] = { *v, '\0' };

		if (*v == '/')
			mkt_buf_add(b, "%2F");
		else
			add_key(b, one);
	}
}

/* ---- requests ----------------------------------------------------------- */

static size_t on_answer(char *data, size_t size, size_t nmemb, void *ud)
{
	request *r = ud;
	size_t n = size * nmemb;

	if (r->answer.len + n <= MAX_ANSWER)
		mkt_buf_addn(&r->answer, data, n);
	return n;
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *ud)
{
	request *r = ud;
	size_t n = size * nmemb;

	if (n > 5 && !strncasecmp(data, "etag:", 5)) {
		const char *v = data + 5 + strspn(data + 5, " \t");
		size_t len = strcspn(v, "\r\n");

		if (len >= sizeof(r->etag))
			len = sizeof(r->etag) - 1;
		memcpy(r->etag, v, len);
		r->etag[len] = '\0';
	}
	return n;
}

static size_t on_read(char *buf, size_t size, size_t nmemb, void *ud)
{
	request *r = ud;
	ssize_t got = s3__body_read(r->upload, r->upload_pos, buf, size * nmemb);

	if (got < 0) {
		r->read_errno = errno;
		return CURL_READFUNC_ABORT;
	}
	r->upload_pos += (uint64_t)got;
	return (size_t)got;
}

/* A retry sends the body again from its start. */
static int on_seek(void *ud, curl_off_t offset, int origin)
{
	request *r = ud;

	if (origin != SEEK_SET || offset < 0 || (uint64_t)offset > r->upload->len)
		return CURL_SEEKFUNC_FAIL;
	r->upload_pos = (uint64_t)offset;
	return CURL_SEEKFUNC_OK;
}

static int on_progress(void *ud, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
	const request *r = ud;

	(void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
	return s3__cancelled(r->c);
}

/* The error of an S3 answer: its <Error><Code> and <Message>. */
static int answer_error(s3_client *c, request *r)
{
	xmlDocPtr doc = NULL;
	char *code = NULL, *message = NULL;
	int retryable = r->status >= 500 || r->status == 429;
	int ret;

	if (r->answer.len && mkt_xml_parse(&doc, r->answer.ptr, r->answer.len) == 0) {
		xmlNodePtr root = xmlDocGetRootElement(doc);

		code = mkt_xml_child_text(root, "Code");
		message = mkt_xml_child_text(root, "Message");
	}
	if (code && (!strcmp(code, "SlowDown") || !strcmp(code, "RequestTimeout") ||
		     !strcmp(code, "InternalError")))
		retryable = 1;
	ret = s3__fail(c, s3__status_code(r->status), retryable, r->what, r->key, r->status,
		       code, message);
	free(code);
	free(message);
	if (doc)
		xmlFreeDoc(doc);
	return ret;
}

/* Send @r; 0 for a 2xx answer, else the error recorded. */
static int perform(s3_client *c, request *r)
{
	curl_state *st = c->impl;
	CURL *e = st->easy;
	struct curl_slist *headers = NULL, *l;
	char errbuf[CURL_ERROR_SIZE] = "", ctype[128];
	char *url = object_url(c, r->key, r->query);
	curl_off_t length = -1;
	CURLcode rc;
	int ret = 0;

	r->c = c;
	curl_easy_reset(e);
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
#else
	curl_easy_setopt(e, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT, CONNECT_TIMEOUT);
	curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, STALL_TIMEOUT);
	curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(e, CURLOPT_AWS_SIGV4, st->provider);
	curl_easy_setopt(e, CURLOPT_USERNAME, c->cfg.access_key_id);
	curl_easy_setopt(e, CURLOPT_PASSWORD, c->cfg.secret_access_key);
	if (c->cfg.user_agent)
		curl_easy_setopt(e, CURLOPT_USERAGENT, c->cfg.user_agent);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_answer);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, r);
	curl_easy_setopt(e, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(e, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(e, CURLOPT_XFERINFODATA, r);

	if (!(l = curl_slist_append(headers, PAYLOAD_HEADER)))
		goto nomem;
	headers = l;
	if (r->content_type) {
		snprintf(ctype, sizeof(ctype), "Content-Type: %s", r->content_type);
		if (!(l = curl_slist_append(headers, ctype)))
			goto nomem;
		headers = l;
	}
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, headers);

	if (!strcmp(r->method, "HEAD")) {
		curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
	} else if (!strcmp(r->method, "PUT")) {
		curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(e, CURLOPT_INFILESIZE_LARGE, (curl_off_t)r->upload->len);
		curl_easy_setopt(e, CURLOPT_READFUNCTION, on_read);
		curl_easy_setopt(e, CURLOPT_READDATA, r);
		curl_easy_setopt(e, CURLOPT_SEEKFUNCTION, on_seek);
		curl_easy_setopt(e, CURLOPT_SEEKDATA, r);
		/* Large reads: a part is tens of MiB. */
		curl_easy_setopt(e, CURLOPT_UPLOAD_BUFFERSIZE, 512L * 1024);
	} else if (!strcmp(r->method, "POST")) {
		curl_easy_setopt(e, CURLOPT_POST, 1L);
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, r->post ? r->post : "");
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)r->post_len);
	} else if (strcmp(r->method, "GET")) {
		curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, r->method);
	}

	r->upload_pos = 0;
	r->read_errno = 0;
	mkt_buf_reset(&r->answer);
	r->etag[0] = '\0';
	rc = curl_easy_perform(e);
	if (r->read_errno) {
		ret = s3__fail(c, MKT_ERROR, 0, r->what, r->key, 0, NULL, strerror(r->read_errno));
		goto cleanup;
	}
	if (rc == CURLE_ABORTED_BY_CALLBACK) {
		ret = mkt_error_set(MKT_ERROR, MKT_ERR_DRIVER, "cancelled");
		goto cleanup;
	}
	if (rc != CURLE_OK) {
		ret = s3__fail(c, MKT_ERROR, mkt_transfer_curl_retryable(rc), r->what, r->key, 0, NULL,
			       errbuf[0] ? errbuf : curl_easy_strerror(rc));
		goto cleanup;
	}
	curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &r->status);
	curl_easy_getinfo(e, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &length);
	r->length = length > 0 ? (uint64_t)length : 0;
	if (r->status < 200 || r->status > 299)
		ret = answer_error(c, r);
	goto cleanup;

 nomem:
	ret = s3__fail(c, MKT_ERROR, 0, r->what, r->key, 0, NULL, "out of memory");
 cleanup:
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, NULL);
	curl_slist_free_all(headers);
	free(url);
	return ret;
}

static void request_clear(request *r)
{
	mkt_buf_free(&r->answer);
}

/* Parse the XML answer of @r (after a 2xx); its root element. */
static int answer_root(s3_client *c, request *r, xmlDocPtr *doc, xmlNodePtr *root)
{
	if (mkt_xml_parse(doc, r->answer.ptr ? r->answer.ptr : "", r->answer.len) < 0)
		return s3__fail(c, MKT_ERROR, 0, r->what, r->key, r->status, NULL,
				"the answer is not XML");
	*root = xmlDocGetRootElement(*doc);
	return 0;
}

/* ---- operations --------------------------------------------------------- */

static int curl_open(s3_client *c)
{
	curl_state *st = mkt_calloc(1, sizeof(*st));

	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK || !(st->easy = curl_easy_init())) {
		free(st);
		return mkt_error_set(MKT_ERROR, MKT_ERR_DRIVER, "cannot initialise libcurl");
	}
	st->provider = mkt_asprintf("aws:amz:%s:s3", c->cfg.region);
	c->impl = st;
	return 0;
}

static void curl_close(s3_client *c)
{
	curl_state *st = c->impl;

	if (!st)
		return;
	curl_easy_cleanup(st->easy);
	free(st->provider);
	free(st);
	c->impl = NULL;
	curl_global_cleanup();
}

/* A listing of no keys rather than a HEAD: an error comes with a body
 * saying why (InvalidAccessKeyId, NoSuchBucket, ...), and the permission
 * it needs is the one monitor needs anyway. */
static int curl_bucket_head(s3_client *c)
{
	request r = { .method = "GET", .what = "read", .query = "max-keys=0" };
	int ret = perform(c, &r);

	request_clear(&r);
	return ret;
}

static int curl_bucket_create(s3_client *c)
{
	mkt_buf body = MKT_BUF_INIT;
	s3_body content = { .data = (const unsigned char *)"", .fd = -1 };
	request r = { .method = "PUT", .what = "create", .upload = &content };
	int ret;

	/* us-east-1 is the one region that takes no LocationConstraint. */
	if (strcmp(c->cfg.region, "us-east-1")) {
		mkt_buf_add(&body, "<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
			    "<LocationConstraint>");
		mkt_buf_add_xml(&body, c->cfg.region);
		mkt_buf_add(&body, "</LocationConstraint></CreateBucketConfiguration>");
		content.data = (const unsigned char *)body.ptr;
		content.len = body.len;
		r.content_type = "application/xml";
	}
	ret = perform(c, &r);
	request_clear(&r);
	mkt_buf_free(&body);
	return ret;
}

static int curl_object_head(s3_client *c, const char *key, uint64_t *size)
{
	request r = { .method = "HEAD", .what = "read", .key = key };
	int ret = perform(c, &r);

	if (ret == 0)
		*size = r.length;
	request_clear(&r);
	return ret;
}

static int curl_object_put(s3_client *c, const char *key, const s3_body *body)
{
	request r = { .method = "PUT", .what = "write", .key = key, .upload = body,
		      .content_type = "application/octet-stream" };
	int ret = perform(c, &r);

	request_clear(&r);
	return ret;
}

static int curl_object_delete(s3_client *c, const char *key)
{
	request r = { .method = "DELETE", .what = "delete", .key = key };
	int ret = perform(c, &r);

	request_clear(&r);
	return ret;
}

/* ListObjects (version 1, which every S3 implementation has): up to 1000
 * keys a page; the next page starts after the last key of this one. */
static int curl_list_page(s3_client *c, const char *prefix, const char *marker,
			  s3_list_cb cb, void *ud, char **next)
{
	request r = { .method = "GET", .what = "list" };
	mkt_buf q = MKT_BUF_INIT;
	xmlDocPtr doc = NULL;
	xmlNodePtr root, n;
	char *truncated = NULL, *last = NULL;
	int ret;

	*next = NULL;
	/* Parameters in the canonical (sorted) order. */
	if (marker) {
		mkt_buf_add(&q, "marker=");
		add_query_value(&q, marker);
		mkt_buf_addc(&q, '&');
	}
	mkt_buf_add(&q, "max-keys=1000&prefix=");
	add_query_value(&q, prefix);
	r.query = q.ptr;
	if ((ret = perform(c, &r)) < 0 || (ret = answer_root(c, &r, &doc, &root)) < 0)
		goto cleanup;
	for (n = root->children; n; n = n->next) {
		char *key, *size;

		if (n->type != XML_ELEMENT_NODE || strcmp((const char *)n->name, "Contents"))
			continue;
		key = mkt_xml_child_text(n, "Key");
		size = mkt_xml_child_text(n, "Size");
		if (key && size)
			ret = cb(ud, key, strtoull(size, NULL, 10));
		free(size);
		free(last);
		last = key;
		if (ret)
			goto cleanup;
	}
	truncated = mkt_xml_child_text(root, "IsTruncated");
	if (truncated && !strcmp(truncated, "true")) {
		char *nm = mkt_xml_child_text(root, "NextMarker");

		if (nm && *nm) {
			*next = nm;
		} else {
			free(nm);
			if (!last) {
				ret = s3__fail(c, MKT_ERROR, 0, "list", NULL, r.status, NULL,
					       "a truncated listing without keys");
				goto cleanup;
			}
			*next = MKT_STEAL(last);
		}
	}

 cleanup:
	free(truncated);
	free(last);
	if (doc)
		xmlFreeDoc(doc);
	mkt_buf_free(&q);
	request_clear(&r);
	return ret;
}

static int curl_download(s3_client *c, const char *key, s3_download *out)
{
	out->url = object_url(c, key, NULL);
	out->display = s3_client_url(c, key);
	out->provider = mkt_strdup(((curl_state *)c->impl)->provider);
	out->headers[0] = PAYLOAD_HEADER;
	out->headers[1] = NULL;
	return 0;
}

static int curl_multipart_begin(s3_client *c, const char *key, char **upload_id)
{
	request r = { .method = "POST", .what = "start an upload to", .key = key,
		      .query = "uploads",
		      .content_type = "application/octet-stream" };
	xmlDocPtr doc = NULL;
	xmlNodePtr root;
	char *id = NULL;
	int ret;

	if ((ret = perform(c, &r)) < 0 || (ret = answer_root(c, &r, &doc, &root)) < 0)
		goto cleanup;
	if (!(id = mkt_xml_child_text(root, "UploadId")) || !*id) {
		ret = s3__fail(c, MKT_ERROR, 0, r.what, key, r.status, NULL, "no UploadId in the answer");
		goto cleanup;
	}
	*upload_id = MKT_STEAL(id);

 cleanup:
	free(id);
	if (doc)
		xmlFreeDoc(doc);
	request_clear(&r);
	return ret;
}

static char *upload_query(const char *upload_id, int number)
{
	mkt_buf q = MKT_BUF_INIT;

	if (number > 0)
		mkt_buf_printf(&q, "partNumber=%d&", number);
	mkt_buf_add(&q, "uploadId=");
	add_query_value(&q, upload_id);
	return mkt_buf_steal(&q);
}

static int curl_multipart_part(s3_client *c, const char *key, const char *upload_id, int number,
			       const s3_body *body, char **etag)
{
	char *query = upload_query(upload_id, number);
	request r = { .method = "PUT", .what = "write", .key = key, .query = query, .upload = body };
	int ret;

	if ((ret = perform(c, &r)) == 0) {
		if (!r.etag[0])
			ret = s3__fail(c, MKT_ERROR, 0, "write", key, r.status, NULL,
				       "no ETag for an uploaded part");
		else
			*etag = mkt_strdup(r.etag);
	}
	request_clear(&r);
	free(query);
	return ret;
}

static int curl_multipart_complete(s3_client *c, const char *key, const char *upload_id,
				   char *const *etags, int n)
{
	char *query = upload_query(upload_id, 0);
	request r = { .method = "POST", .what = "complete the upload of", .key = key,
		      .query = query, .content_type = "application/xml" };
	mkt_buf body = MKT_BUF_INIT;
	xmlDocPtr doc = NULL;
	xmlNodePtr root;
	int i, ret;

	mkt_buf_add(&body, "<CompleteMultipartUpload>");
	for (i = 0; i < n; i++) {
		mkt_buf_printf(&body, "<Part><PartNumber>%d</PartNumber>", i + 1);
		mkt_buf_add_elem(&body, "ETag", etags[i] ? etags[i] : "");
		mkt_buf_add(&body, "</Part>");
	}
	mkt_buf_add(&body, "</CompleteMultipartUpload>");
	r.post = body.ptr;
	r.post_len = body.len;
	if ((ret = perform(c, &r)) < 0 || (ret = answer_root(c, &r, &doc, &root)) < 0)
		goto cleanup;
	/* S3 may answer 200 and report the failure in the body. */
	if (!strcmp((const char *)root->name, "Error"))
		ret = answer_error(c, &r);

 cleanup:
	if (doc)
		xmlFreeDoc(doc);
	mkt_buf_free(&body);
	request_clear(&r);
	free(query);
	return ret;
}

static int curl_multipart_abort(s3_client *c, const char *key, const char *upload_id)
{
	char *query = upload_query(upload_id, 0);
	request r = { .method = "DELETE", .what = "abort the upload of", .key = key, .query = query };
	int ret = perform(c, &r);

	request_clear(&r);
	free(query);
	return ret;
}

const s3_transport s3__curl_transport = {
	.open = curl_open,
	.close = curl_close,
	.bucket_head = curl_bucket_head,
	.bucket_create = curl_bucket_create,
	.object_head = curl_object_head,
	.object_put = curl_object_put,
	.object_delete = curl_object_delete,
	.list_page = curl_list_page,
	.download = curl_download,
	.multipart_begin = curl_multipart_begin,
	.multipart_part = curl_multipart_part,
	.multipart_complete = curl_multipart_complete,
	.multipart_abort = curl_multipart_abort,
};

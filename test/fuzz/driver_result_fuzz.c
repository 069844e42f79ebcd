/*
 * driver_result_fuzz.c: libFuzzer target for what a driver prints on
 * stdout: mkt_driver_parse_result() (template text or XML), then, as a
 * monitor pass does (core/catalog.c), each APP="<base64 template>" entry
 * decoded, parsed and turned into an app.
 *
 * Whatever app an entry makes must be storable: its store XML must load
 * back, and format the same again (a catalog app that cannot be read back
 * would make its market's every later pass fail).
 *
 * Template text that parses whole must read the same one attribute at a
 * time (mkt_template_reader_next, how a monitor's answer is read).
 */
#include <config.h>

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/error.h"
#include "common/log.h"
#include "common/template.h"
#include "common/xml.h"
#include "core/marketapp.h"
#include "core/object.h"
#include "driver/driver.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void reload(const mkt_buf *first)
{
	xmlDocPtr doc = NULL;
	mkt_object *back = NULL;
	mkt_buf second = MKT_BUF_INIT;

	if (mkt_xml_parse(&doc, first->ptr, first->len) < 0 ||
	    mkt_app_class.parse(&back, xmlDocGetRootElement(doc)) < 0) {
		fprintf(stderr, "a catalog app's store XML does not load: %s\n--\n%s\n--\n",
			mkt_error_message(), mkt_buf_cstr(first));
		abort();
	}
	mkt_app_class.format(NULL, back, MKT_FORMAT_STORE, &second);
	if (strcmp(mkt_buf_cstr(first), mkt_buf_cstr(&second)) != 0) {
		fprintf(stderr, "a catalog app changed when stored and loaded:\n--\n%s\n--\n%s\n--\n",
			mkt_buf_cstr(first), mkt_buf_cstr(&second));
		abort();
	}
	mkt_object_free(&mkt_app_class, back);
	xmlFreeDoc(doc);
	mkt_buf_free(&second);
}

/* An APP entry as core/catalog.c's add_app() makes it. */
static void apply_entry(const char *b64)
{
	static const unsigned char perms[MKT_PERM_BITS] = { 1, 1, 0, 1, 0, 0, 1, 0, 0 };
	mkt_template *t = NULL;
	mkt_app *a;
	mkt_buf b = MKT_BUF_INIT;

	if (mkt_template_parse_base64(&t, b64) < 0)
		return;
	a = mkt_calloc(1, sizeof(*a));
	a->obj.tmpl = mkt_template_new();
	a->obj.id = 1;
	if (mkt_app_set_catalog_entry(a, t) == 0) {
		a->obj.uname = mkt_strdup("oneadmin");
		a->obj.gname = mkt_strdup("oneadmin");
		memcpy(a->obj.perms, perms, sizeof(perms));
		a->market_name = mkt_strdup("market");
		mkt_app_class.format(NULL, &a->obj, MKT_FORMAT_STORE, &b);
		reload(&b);
	}
	mkt_object_free(&mkt_app_class, &a->obj);
	mkt_buf_free(&b);
}

/* @text handed out a few bytes at a time, as a driver prints. */
typedef struct {
	const char *p;
	size_t left;
} piecewise;

static ssize_t read_piece(void *src, char *buf, size_t size)
{
	piecewise *pw = src;
	size_t n = size < 61 ? size : 61;

	if (n > pw->left)
		n = pw->left;
	memcpy(buf, pw->p, n);
	pw->p += n;
	pw->left -= n;
	return (ssize_t)n;
}

/* The attributes of @whole, read back from @text in chunks (lines cut out
 * of the buffer or parsed). */
static void read_in_chunks(const char *text, size_t size, const mkt_template *whole)
{
	piecewise pw = { text, size };
	mkt_template_reader *r = mkt_template_reader_new(read_piece, &pw, size + 1);
	mkt_buf want = MKT_BUF_INIT, got = MKT_BUF_INIT;
	const char *name, *value;
	mkt_template *t = NULL;
	int ret;

	mkt_template_format_text(whole, &want);
	while ((ret = mkt_template_reader_next(r, &name, &value, &t)) == 1) {
		if (!t) {
			t = mkt_template_new();
			mkt_template_set(t, name, value);
		}
		mkt_template_format_text(t, &got);
		mkt_template_free(t);
		t = NULL;
	}
	mkt_template_reader_free(r);
	if (ret < 0 || strcmp(mkt_buf_cstr(&want), mkt_buf_cstr(&got)) != 0) {
		fprintf(stderr, "template text reads differently in chunks (%s):\n--\n%s\n--\n%s\n--\n",
			ret < 0 ? mkt_error_message() : "other attributes", mkt_buf_cstr(&want),
			mkt_buf_cstr(&got));
		abort();
	}
	mkt_buf_free(&want);
	mkt_buf_free(&got);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int init;
	char *text = mkt_malloc(size + 1);
	mkt_template *result = NULL;
	long long v;
	size_t i;

	if (!init) {
		mkt_log_open(MKT_LOG_STD, NULL, MKT_LOG_ERROR);
		init = 1;
	}
	memcpy(text, data, size);
	text[size] = '\0';
	if (mkt_driver_parse_result(text, &result) == 0) {
		const char *p = text;

		while (isspace((unsigned char)*p))
			p++;
		/* A spooled answer is read from its first non-blank byte too. */
		if (!mkt_template_xml_start(p) && strlen(text) == size)
			read_in_chunks(p, size - (size_t)(p - text), result);
		(void)mkt_template_get_long(result, "TOTAL_MB", &v);
		for (i = 0; i < mkt_template_size(result); i++) {
			const mkt_tattr *a = mkt_template_at(result, i);

			if (strcmp(mkt_tattr_name(a), "APP") == 0 && !mkt_tattr_is_vector(a))
				apply_entry(mkt_tattr_value(a));
		}
	}
	mkt_error_clear();
	mkt_template_free(result);
	free(text);
	return 0;
}

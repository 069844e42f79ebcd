/*
 * template_fuzz.c: libFuzzer target for the template parsers.
 *
 * Templates come from API clients, so both parsers must survive any input;
 * and whatever they accept, the text form must give back the same template,
 * or templates would drift each time they are stored and read again.
 */
#include <config.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/error.h"
#include "common/template.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_roundtrip(const mkt_template *t)
{
	mkt_buf first = MKT_BUF_INIT;
	mkt_buf second = MKT_BUF_INIT;
	mkt_template *back = NULL;

	mkt_template_format_text(t, &first);
	if (mkt_template_parse(&back, mkt_buf_cstr(&first)) != 0) {
		fprintf(stderr, "format_text output does not parse: %s\n--\n%s--\n",
			mkt_error_message(), mkt_buf_cstr(&first));
		abort();
	}
	mkt_template_format_text(back, &second);
	if (strcmp(mkt_buf_cstr(&first), mkt_buf_cstr(&second)) != 0) {
		fprintf(stderr, "round trip changed the template:\n--\n%s--\n%s--\n",
			mkt_buf_cstr(&first), mkt_buf_cstr(&second));
		abort();
	}
	/* Not compared (XML drops control characters), only exercised. */
	mkt_buf_reset(&second);
	mkt_template_format_xml(back, &second, NULL);
	mkt_template_free(back);
	mkt_buf_free(&first);
	mkt_buf_free(&second);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = mkt_malloc(size + 1);
	mkt_template *t = NULL;

	memcpy(text, data, size);
	text[size] = '\0';
	if (mkt_template_parse(&t, text) == 0)
		check_roundtrip(t);
	mkt_template_free(t);
	if (mkt_template_parse_any(&t, text) == 0)
		check_roundtrip(t);
	mkt_template_free(t);
	free(text);
	return 0;
}

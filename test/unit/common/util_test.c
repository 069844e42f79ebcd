/*
 * util_test.c: what util.c says about URLs (masking userinfo, finding it
 * in a document).
 */
#include <config.h>

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/log.h"
#include "common/util.h"

static const struct {
	const char *url;
	const char *shown;
} masks[] = {
	{ "http://user:secretpw@host/x", "http://user:****@host/x" },
	{ "https://user:secretpw@host:8443/x?q=1", "https://user:****@host:8443/x?q=1" },
	{ "http://token@host/x", "http://****@host/x" },             /* may be a token */
	{ "http://user:p@ss@host/x", "http://user:****@host/x" },    /* last '@' ends it */
	{ "http://user:pw@host", "http://user:****@host" },
	{ "http://user:@host/", "http://user:****@host/" },
	{ "s3://key:secret@bucket/k", "s3://key:****@bucket/k" },
	{ "http://host/x@y", "http://host/x@y" },                    /* '@' in the path */
	{ "http://host/x?u=a:b@c", "http://host/x?u=a:b@c" },        /* ... in the query */
	{ "http://host:80/x", "http://host:80/x" },
	{ "/var/lib/a@b:c", "/var/lib/a@b:c" },                      /* a path */
	{ "file:///srv/a@b", "file:///srv/a@b" },
	{ "1http://u:p@h/", "1http://u:p@h/" },                      /* not a scheme */
	{ "", "" },
};

START_TEST(test_url_mask)
{
	char *shown = mkt_util_url_mask(masks[_i].url);

	ck_assert_str_eq(shown, masks[_i].shown);
	free(shown);
}
END_TEST

static const struct {
	const char *text;
	int has;
} texts[] = {
	{ "<IMPORT_SOURCE>http://user:pw@127.0.0.1:1/x</IMPORT_SOURCE>", 1 },
	{ "<A>x</A><PATH><![CDATA[https://u:p@h/]]></PATH>", 1 },
	{ "PATH=\"ftp://anonymous@h/f\"", 1 },
	{ "<IMPORT_SOURCE>http://127.0.0.1:1/x</IMPORT_SOURCE><MAIL>a@b</MAIL>", 0 },
	{ "<S>http://h/x@y</S>", 0 },
	{ "<S>http://h</S><T>@</T>", 0 },                /* the element ends the host */
	{ "<S>://u:p@h/</S>", 0 },                       /* no scheme */
	{ "", 0 },
};

START_TEST(test_text_has_url_userinfo)
{
	ck_assert_msg(mkt_util_text_has_url_userinfo(texts[_i].text) == texts[_i].has, "%s",
		      texts[_i].text);
}
END_TEST

/* Every length and every byte value round-trips; blanks between digits
 * are skipped; anything else, or a digit after padding, is refused. */
START_TEST(test_base64)
{
	static const char *const bad[] = { "QQ=A", "Q*==", "QUJD!", "QUJDRA=\x01" };
	unsigned char data[300], *got = NULL;
	size_t len, n, i;
	char *text;

	for (i = 0; i < sizeof(data); i++)
		data[i] = (unsigned char)(i * 37 + 11);
	for (n = 0; n <= sizeof(data); n += n < 20 ? 1 : 41) {
		text = mkt_util_base64_encode(data, n);
		ck_assert_int_eq(mkt_util_base64_decode(&got, &len, text), 0);
		ck_assert_uint_eq(len, n);
		ck_assert_int_eq(memcmp(got, data, n), 0);
		ck_assert_int_eq(got[len], 0);
		free(got);
		free(text);
	}
	ck_assert_int_eq(mkt_util_base64_decode(&got, &len, " QU\nJD\tRA== \n"), 0);
	ck_assert_str_eq((char *)got, "ABCD");
	free(got);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(mkt_util_base64_decode(&got, &len, bad[i]) < 0, "%s decoded", bad[i]);
}
END_TEST

/* Markup is escaped, CR kept as a reference, other control characters
 * (which XML 1.0 cannot hold) dropped, UTF-8 left alone. */
START_TEST(test_buf_add_xml)
{
	mkt_buf b = MKT_BUF_INIT;

	mkt_buf_add_xml(&b, "a&b<c>d\"e'f\rg\x01h\ti\nj\x1fk\xc3\xa9");
	ck_assert_str_eq(mkt_buf_cstr(&b),
			 "a&amp;b&lt;c&gt;d&quot;e&apos;f&#13;gh\ti\njk\xc3\xa9");
	mkt_buf_reset(&b);
	mkt_buf_add_xml(&b, "");
	mkt_buf_add_xml(&b, "&");
	mkt_buf_add_xml(&b, "plain");
	ck_assert_str_eq(mkt_buf_cstr(&b), "&amp;plain");
	mkt_buf_free(&b);
}
END_TEST

START_TEST(test_hex)
{
	static const unsigned char bytes[] = { 0x00, 0x0f, 0xa5, 0xff };
	char out[2 * sizeof(bytes) + 1];

	memset(out, 'x', sizeof(out));
	mkt_util_hex(bytes, sizeof(bytes), out);
	ck_assert_str_eq(out, "000fa5ff");
	mkt_util_hex(bytes, 0, out);
	ck_assert_str_eq(out, "");
}
END_TEST

START_TEST(test_printable)
{
	char out[8];

	mkt_util_printable(out, sizeof(out), "a\nb\r\x7f\x01\xc3\xa9");
	ck_assert_str_eq(out, "a?b??\?\xc3");          /* cut to 7 bytes; UTF-8 stays */
	mkt_util_printable(out, sizeof(out), "");
	ck_assert_str_eq(out, "");
}
END_TEST

START_TEST(test_log_limit)
{
	mkt_log_limiter l = { 0, 0 };
	unsigned long n = 0;

	ck_assert_int_eq(mkt_log_limit(&l, 5000, 1000, &n), 1);   /* the first is due */
	ck_assert_uint_eq(n, 1);
	ck_assert_int_eq(mkt_log_limit(&l, 5100, 1000, &n), 0);
	ck_assert_int_eq(mkt_log_limit(&l, 5999, 1000, &n), 0);
	ck_assert_int_eq(mkt_log_limit(&l, 6000, 1000, &n), 1);   /* with the two left out */
	ck_assert_uint_eq(n, 3);
	ck_assert_int_eq(mkt_log_limit(&l, 9000, 1000, &n), 1);
	ck_assert_uint_eq(n, 1);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("util");
	TCase *tc = tcase_create("url");
	SRunner *sr;
	int failed;

	tcase_add_loop_test(tc, test_url_mask, 0, sizeof(masks) / sizeof(masks[0]));
	tcase_add_loop_test(tc, test_text_has_url_userinfo, 0, sizeof(texts) / sizeof(texts[0]));
	tcase_add_test(tc, test_hex);
	tcase_add_test(tc, test_base64);
	tcase_add_test(tc, test_buf_add_xml);
	tcase_add_test(tc, test_printable);
	tcase_add_test(tc, test_log_limit);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

/*
 * driver_test.c: the drivers' helper library (drivers/common/driver.h).
 *
 * Reading action documents (table of good and bad documents), getters,
 * result escaping (round-tripped through marketd's own template parser),
 * log lines, progress rate limiting, and mkt_drv_main()'s dispatch with
 * its exit statuses and output discipline.  stdout and stderr are captured
 * through temporary files.
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>
#include <libxml/parser.h>

#include "common/alloc.h"
#include "common/error.h"
#include "common/template.h"
#include "common/util.h"
#include "driver.h"

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

#define MARKET "<MARKETPLACE><ID>4</ID><TEMPLATE>" \
	"<BASE_URL>  http://h/x/  </BASE_URL><EMPTY></EMPTY>" \
	"<AMP>a &amp; b &lt;c&gt;</AMP><CDATA><![CDATA[x<y]]></CDATA>" \
	"<NUM> 42 </NUM><BAD>4x</BAD><YES>yes</YES>" \
	"</TEMPLATE></MARKETPLACE>"
#define DOC(action) "<MARKET_DRIVER_ACTION_DATA><ACTION>" action "</ACTION>" \
	"<MARKETPLACEAPP><ID>17</ID><SOURCE>s</SOURCE></MARKETPLACEAPP>" MARKET \
	"</MARKET_DRIVER_ACTION_DATA>"

/* ---- capturing a file descriptor ------------------------------------------ */

typedef struct {
	int fd;
	int saved;
	FILE *file;
} capture;

static void capture_start(capture *c, int fd)
{
	fflush(stdout);
	fflush(stderr);
	c->fd = fd;
	c->file = tmpfile();
	ck_assert_ptr_nonnull(c->file);
	c->saved = dup(fd);
	dup2(fileno(c->file), fd);
}

/* Stop capturing; the text written meanwhile (caller frees). */
static char *capture_end(capture *c)
{
	char *text;
	long len;

	fflush(stdout);
	fflush(stderr);
	dup2(c->saved, c->fd);
	close(c->saved);
	len = ftell(c->file);
	text = mkt_calloc(1, (size_t)len + 1);
	rewind(c->file);
	ck_assert_int_eq(fread(text, 1, (size_t)len, c->file), len);
	fclose(c->file);
	return text;
}

/* ---- reading documents ------------------------------------------------------ */

static const struct {
	const char *name;
	const char *action;
	const char *doc;
	int status;
	const char *message;   /* fragment of the ERROR: line, or NULL */
} doc_cases[] = {
	{ "good", "import", DOC("import"), MKT_DRV_OK, NULL },
	{ "no ACTION element (OpenNebula)", "delete",
	  "<MARKET_DRIVER_ACTION_DATA>" MARKET "</MARKET_DRIVER_ACTION_DATA>", MKT_DRV_OK, NULL },
	{ "empty", "import", "", MKT_DRV_EINPUT, "ERROR: empty action document" },
	{ "blank", "import", " \n\t ", MKT_DRV_EINPUT, "ERROR: empty action document" },
	{ "malformed", "import", "<MARKET_DRIVER_ACTION_DATA><ACTION>import</ACT",
	  MKT_DRV_EINPUT, "ERROR: cannot read the action document: malformed XML" },
	{ "not XML", "monitor", "SOURCE=\"x\"", MKT_DRV_EINPUT, "malformed XML" },
	{ "other root", "monitor", "<DS_DRIVER_ACTION_DATA/>", MKT_DRV_EINPUT,
	  "root is <DS_DRIVER_ACTION_DATA>, not <MARKET_DRIVER_ACTION_DATA>" },
	{ "other action", "monitor", DOC("import"), MKT_DRV_EINPUT,
	  "the action document is for action \"import\", not \"monitor\"" },
	{ "no external entities", "monitor",
	  "<!DOCTYPE d [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>"
	  "<MARKET_DRIVER_ACTION_DATA><ACTION>&x;</ACTION></MARKET_DRIVER_ACTION_DATA>",
	  MKT_DRV_OK, NULL },
};

START_TEST(test_document)
{
	mkt_drv *d = NULL;
	capture c;
	char *err;
	int ret;

	capture_start(&c, STDERR_FILENO);
	ret = mkt_drv_new(&d, doc_cases[_i].action, NULL, doc_cases[_i].doc,
			  strlen(doc_cases[_i].doc));
	err = capture_end(&c);
	ck_assert_msg(ret == doc_cases[_i].status, "%s: status %d, stderr %s",
		      doc_cases[_i].name, ret, err);
	if (doc_cases[_i].message) {
		ck_assert_msg(strstr(err, doc_cases[_i].message), "%s: stderr %s",
			      doc_cases[_i].name, err);
		ck_assert_ptr_null(d);
	} else {
		ck_assert_ptr_nonnull(d);
		ck_assert_str_eq(mkt_drv_action_name(d), doc_cases[_i].action);
		ck_assert_str_eq(err, "");
	}
	mkt_drv_free(d);
	free(err);
}
END_TEST

static mkt_drv *load(const char *action, const char *id, const char *doc)
{
	mkt_drv *d = NULL;

	ck_assert_int_eq(mkt_drv_new(&d, action, id, doc, strlen(doc)), 0);
	return d;
}

static const struct {
	const char *path;
	const char *value;     /* NULL: absent */
} get_cases[] = {
	{ "ACTION", "import" },
	{ "MARKETPLACE/TEMPLATE/BASE_URL", "http://h/x/" },      /* trimmed */
	{ "MARKETPLACE/TEMPLATE/EMPTY", "" },
	{ "MARKETPLACE/TEMPLATE/AMP", "a & b <c>" },
	{ "MARKETPLACE/TEMPLATE/CDATA", "x<y" },
	{ "MARKETPLACE/TEMPLATE/MISSING", NULL },
	{ "MARKETPLACEAPP/ID", "17" },
	{ "MARKETPLACE/ID", "4" },
	{ "IMPORT_SOURCE", NULL },
	{ "MARKETPLACE/TEMPLATE/[", NULL },                      /* bad XPath */
};

START_TEST(test_get)
{
	mkt_drv *d = load("import", NULL, DOC("import"));
	capture c;
	const char *v;
	char *err;

	capture_start(&c, STDERR_FILENO);
	v = mkt_drv_get(d, get_cases[_i].path);
	err = capture_end(&c);
	if (get_cases[_i].value)
		ck_assert_msg(v && !strcmp(v, get_cases[_i].value), "%s: got \"%s\"",
			      get_cases[_i].path, v ? v : "(null)");
	else
		ck_assert_msg(!v, "%s: got \"%s\"", get_cases[_i].path, v);
	ck_assert_msg(!*err, "%s: stderr %s", get_cases[_i].path, err);
	free(err);
	mkt_drv_free(d);
}
END_TEST

START_TEST(test_typed_getters)
{
	mkt_drv *d = load("import", NULL, DOC("import"));
	const char *v = NULL;
	long long n = -1;
	int b = -1;
	capture c;
	char *err;

	ck_assert_int_eq(mkt_drv_get_long(d, "MARKETPLACE/TEMPLATE/NUM", &n), 0);
	ck_assert_int_eq(n, 42);
	ck_assert_int_eq(mkt_drv_get_long(d, "MARKETPLACE/TEMPLATE/BAD", &n), MKT_EINVAL);
	ck_assert_int_eq(mkt_drv_get_long(d, "MARKETPLACE/TEMPLATE/EMPTY", &n), MKT_ENOTFOUND);
	ck_assert_int_eq(mkt_drv_get_long(d, "NOPE", &n), MKT_ENOTFOUND);
	ck_assert_int_eq(n, 42);
	ck_assert_int_eq(mkt_drv_get_bool(d, "MARKETPLACE/TEMPLATE/YES", &b), 0);
	ck_assert_int_eq(b, 1);
	ck_assert_int_eq(mkt_drv_get_bool(d, "MARKETPLACE/TEMPLATE/NUM", &b), MKT_EINVAL);

	ck_assert_int_eq(mkt_drv_require(d, "MARKETPLACEAPP/SOURCE", &v), 0);
	ck_assert_str_eq(v, "s");
	capture_start(&c, STDERR_FILENO);
	ck_assert_int_eq(mkt_drv_require(d, "MARKETPLACE/TEMPLATE/EMPTY", &v), MKT_DRV_EINPUT);
	ck_assert_int_eq(mkt_drv_require(d, "EXPORT_TARGET", &v), MKT_DRV_EINPUT);
	err = capture_end(&c);
	ck_assert_str_eq(err, "ERROR: missing MARKETPLACE/TEMPLATE/EMPTY in the action document\n"
			      "ERROR: missing EXPORT_TARGET in the action document\n");
	free(err);
	mkt_drv_free(d);
}
END_TEST

START_TEST(test_id)
{
	mkt_drv *d = load("import", "99", DOC("import"));

	ck_assert_str_eq(mkt_drv_id(d), "99");
	mkt_drv_free(d);
	d = load("import", NULL, DOC("import"));
	ck_assert_str_eq(mkt_drv_id(d), "17");
	mkt_drv_free(d);
	d = load("monitor", "", "<MARKET_DRIVER_ACTION_DATA>" MARKET "</MARKET_DRIVER_ACTION_DATA>");
	ck_assert_str_eq(mkt_drv_id(d), "4");
	mkt_drv_free(d);
	d = load("monitor", NULL, "<MARKET_DRIVER_ACTION_DATA/>");
	ck_assert_ptr_null(mkt_drv_id(d));
	mkt_drv_free(d);
}
END_TEST

/* Only a number names an app's content in a store. */
static const struct {
	const char *id;
	int ok;
} require_id_cases[] = {
	{ "99", 1 }, { "0", 1 }, { "", 0 }, { "1a", 0 }, { "../x", 0 }, { "-1", 0 },
};

START_TEST(test_require_id)
{
	mkt_drv *d = load("import", require_id_cases[_i].id, "<MARKET_DRIVER_ACTION_DATA/>");
	const char *id = NULL;
	capture c;
	char *err;
	int ret;

	capture_start(&c, STDERR_FILENO);
	ret = mkt_drv_require_id(d, &id);
	err = capture_end(&c);
	if (require_id_cases[_i].ok) {
		ck_assert_int_eq(ret, 0);
		ck_assert_str_eq(id, require_id_cases[_i].id);
		ck_assert_str_eq(err, "");
	} else {
		ck_assert_int_eq(ret, MKT_DRV_EINPUT);
		ck_assert_ptr_null(id);
		ck_assert_ptr_nonnull(strstr(err, "is not a number"));
	}
	free(err);
	mkt_drv_free(d);
}
END_TEST

/* ---- imports ------------------------------------------------------------------ */

#define IMPORT_DOC(inner) "<MARKET_DRIVER_ACTION_DATA>" inner "</MARKET_DRIVER_ACTION_DATA>"

static const struct {
	const char *doc;
	int status;
	const char *display;   /* opts.display when status is 0 */
	int networks;          /* opts.networks set */
	const char *message;   /* fragment of the ERROR: line, or NULL */
} import_cases[] = {
	{ IMPORT_DOC("<IMPORT_SOURCE>/srv/a.img</IMPORT_SOURCE>"), 0, "/srv/a.img", 0, NULL },
	{ IMPORT_DOC("<IMPORT_SOURCE>http://u:secretpw@h/x</IMPORT_SOURCE><MD5>ab</MD5>"), 0,
	  "http://u:****@h/x", 0, NULL },
	{ IMPORT_DOC("<IMPORT_SOURCE>http://h/x</IMPORT_SOURCE><IMPORT_NETWORK_POLICY>"
		     "<ALLOWED>127.0.0.2</ALLOWED><DENIED>127.0.0.0/8, ::1</DENIED>"
		     "</IMPORT_NETWORK_POLICY>"), 0, "http://h/x", 1, NULL },
	{ IMPORT_DOC("<IMPORT_SOURCE>http://h/x</IMPORT_SOURCE><IMPORT_NETWORK_POLICY/>"), 0,
	  "http://h/x", 1, NULL },
	{ IMPORT_DOC("<IMPORT_SOURCE>http://h/x</IMPORT_SOURCE><IMPORT_NETWORK_POLICY>"
		     "<DENIED>127.0.0.0/99</DENIED></IMPORT_NETWORK_POLICY>"), MKT_DRV_EINPUT, NULL, 0,
	  "ERROR: IMPORT_NETWORK_POLICY: IMPORT_DENIED_NETWORKS: '127.0.0.0/99' is not" },
	{ IMPORT_DOC("<MD5>ab</MD5>"), MKT_DRV_EINPUT, NULL, 0,
	  "ERROR: missing IMPORT_SOURCE in the action document" },
};

START_TEST(test_import_opts)
{
	mkt_drv *d = load("import", "3", import_cases[_i].doc);
	mkt_transfer_opts opts = { 0 };
	capture c;
	char *err;
	int ret;

	capture_start(&c, STDERR_FILENO);
	ret = mkt_drv_import_opts(d, &opts);
	err = capture_end(&c);
	ck_assert_msg(ret == import_cases[_i].status, "status %d, stderr %s", ret, err);
	if (import_cases[_i].message) {
		ck_assert_msg(strstr(err, import_cases[_i].message), "stderr %s", err);
	} else {
		ck_assert_str_eq(err, "");
		ck_assert_str_eq(opts.source, mkt_drv_get(d, "IMPORT_SOURCE"));
		ck_assert_str_eq(opts.display, import_cases[_i].display);
		ck_assert_int_eq(opts.networks != NULL, import_cases[_i].networks);
		if (mkt_drv_get(d, "MD5"))
			ck_assert_str_eq(opts.expect_md5, "ab");
		else
			ck_assert_ptr_null(opts.expect_md5);
	}
	free(err);
	mkt_drv_free(d);
}
END_TEST

/* ---- results ------------------------------------------------------------------ */

static const struct {
	const char *value;
	const char *line;
} result_cases[] = {
	{ "plain", "K=\"plain\"\n" },
	{ "", "K=\"\"\n" },
	{ "say \"hi\"", "K=\"say \\\"hi\\\"\"\n" },
	{ "C:\\dir\\", "K=\"C:\\\\dir\\\\\"\n" },
	{ "\\\"", "K=\"\\\\\\\"\"\n" },
	{ "two\nlines", "K=\"two\nlines\"\n" },
	{ "# not a comment = [x]", "K=\"# not a comment = [x]\"\n" },
	{ "ünïcødé", "K=\"ünïcødé\"\n" },
};

START_TEST(test_result_escaping)
{
	mkt_template *t = NULL;

	mkt_drv_results_reset();
	mkt_drv_result("K", result_cases[_i].value);
	ck_assert_str_eq(mkt_drv_results(), result_cases[_i].line);
	/* marketd's parser gives the value back. */
	ck_assert_msg(mkt_template_parse(&t, mkt_drv_results()) == 0, "%s", mkt_error_message());
	ck_assert_str_eq(mkt_template_get(t, "K"), result_cases[_i].value);
	mkt_template_free(t);
	mkt_drv_results_reset();
}
END_TEST

START_TEST(test_result_long_and_size)
{
	mkt_drv_results_reset();
	mkt_drv_result_long("SIZE", mkt_drv_size_mb(1));
	mkt_drv_result_long("A", mkt_drv_size_mb(0));
	mkt_drv_result_long("B", mkt_drv_size_mb(1 << 20));
	mkt_drv_result_long("C", mkt_drv_size_mb((1 << 20) + 1));
	mkt_drv_result_long("D", -5);
	ck_assert_str_eq(mkt_drv_results(), "SIZE=\"1\"\nA=\"0\"\nB=\"1\"\nC=\"2\"\nD=\"-5\"\n");
	mkt_drv_results_reset();
	ck_assert_str_eq(mkt_drv_results(), "");
}
END_TEST

START_TEST(test_results_flush_in_tests)
{
	size_t mark;

	/* Outside mkt_drv_main() a flush leaves the results where tests
	 * read them. */
	mkt_drv_results_reset();
	mkt_drv_result("A", "1");
	mark = mkt_drv_results_mark();
	mkt_drv_result("B", "2");
	mkt_drv_results_flush();
	ck_assert_str_eq(mkt_drv_results(), "A=\"1\"\nB=\"2\"\n");
	ck_assert_uint_eq(mkt_drv_results_size(), strlen(mkt_drv_results()));
	mkt_drv_results_rewind(mark);
	ck_assert_str_eq(mkt_drv_results(), "A=\"1\"\n");
	ck_assert_uint_eq(mkt_drv_results_size(), 6);
	mkt_drv_results_reset();
	ck_assert_uint_eq(mkt_drv_results_size(), 0);
}
END_TEST

/* ---- logs and progress -------------------------------------------------------- */

START_TEST(test_log_lines)
{
	capture c;
	char *err;

	capture_start(&c, STDERR_FILENO);
	mkt_drv_log(MKT_LOG_ERROR, "e %d", 1);
	mkt_drv_log(MKT_LOG_WARN, "w");
	mkt_drv_log(MKT_LOG_INFO, "i");
	mkt_drv_log(MKT_LOG_DEBUG, "d");
	mkt_drv_log(MKT_LOG_DDDEBUG, "dd");
	mkt_drv_log(MKT_LOG_INFO, "first\nsecond\r\nthird");
	ck_assert_int_eq(mkt_drv_fail(MKT_DRV_ENOTSUP, "no %s", "way"), MKT_DRV_ENOTSUP);
	err = capture_end(&c);
	ck_assert_str_eq(err, "ERROR: e 1\nWARN: w\nINFO: i\nDEBUG: d\nDEBUG: dd\n"
			      "INFO: first\nINFO: second\nINFO: third\nERROR: no way\n");
	free(err);
}
END_TEST

START_TEST(test_progress_rate)
{
	capture c;
	char *err;
	uint64_t i;

	capture_start(&c, STDERR_FILENO);
	for (i = 1; i <= 1000; i++)
		mkt_drv_progress(i, 1000);   /* a burst: the first, and the final one */
	mkt_drv_progress(1000, 1000);    /* repeated: not printed again */
	mkt_drv_progress(5, 0);          /* held back by the rate limit... */
	mkt_drv_progress(6, 0);
	mkt_drv_progress_flush();        /* ...until flushed: the last value */
	mkt_drv_progress_flush();        /* nothing held any more */
	err = capture_end(&c);
	ck_assert_str_eq(err, "PROGRESS 1 1000\nPROGRESS 1000 1000\nPROGRESS 6 0\n");
	free(err);

	capture_start(&c, STDERR_FILENO);
	usleep(300000);
	mkt_drv_progress(7, 0);          /* 250 ms passed: printed at once */
	err = capture_end(&c);
	ck_assert_str_eq(err, "PROGRESS 7 0\n");
	free(err);
}
END_TEST

/* ---- mkt_drv_main ------------------------------------------------------------- */

static int handled;

static int h_ok(mkt_drv *d)
{
	handled++;
	mkt_drv_result("SOURCE", mkt_drv_get(d, "MARKETPLACE/TEMPLATE/BASE_URL"));
	mkt_drv_result("ID", mkt_drv_id(d));
	return MKT_DRV_OK;
}

static int h_fail(mkt_drv *d)
{
	handled++;
	mkt_drv_result("PARTIAL", "never printed");
	return mkt_drv_fail(MKT_DRV_EFAIL, "it broke");
}

/* Results written as they come: the same bytes as at the end. */
static int h_flush(mkt_drv *d)
{
	size_t mark;

	handled++;
	mkt_drv_result("A", "1");
	mkt_drv_results_flush();
	mark = mkt_drv_results_mark();
	mkt_drv_result("B", "dropped");
	mkt_drv_results_rewind(mark);
	mkt_drv_result("B", "2");
	mkt_drv_results_flush();
	mkt_drv_results_flush();
	mkt_drv_result("C", "3");
	return MKT_DRV_OK;
}

/* A flushed result stays printed when the action fails after it; what is
 * not flushed yet is dropped, a rewind to before the flush included. */
static int h_flush_fail(mkt_drv *d)
{
	size_t mark = mkt_drv_results_mark();

	handled++;
	mkt_drv_result("A", "1");
	mkt_drv_results_flush();
	mkt_drv_result("B", "2");
	mkt_drv_results_rewind(mark);
	ck_assert_str_eq(mkt_drv_results(), "");
	mkt_drv_result("C", "3");
	return mkt_drv_fail(MKT_DRV_EFAIL, "it broke late");
}

static const mkt_drv_action table[] = {
	{ "import", h_ok },
	{ "delete", h_fail },
	{ "export", h_flush },
	{ "provision", h_flush_fail },
	{ NULL, NULL }
};

static const struct {
	const char *name;
	const char *argv0;
	const char *arg1;       /* "B64" for the base64 of @doc */
	const char *arg2;
	const char *arg3;
	const char *doc;
	int status;
	const char *out;
	const char *err;        /* fragment */
	int handled;
} main_cases[] = {
	{ "by basename", "/x/drivers/foo/import", "B64", "12", NULL, DOC("import"),
	  MKT_DRV_OK, "SOURCE=\"http://h/x/\"\nID=\"12\"\n", NULL, 1 },
	{ "under its own name", "/x/drivers/foo/foo", "import", "B64", "3", DOC("import"),
	  MKT_DRV_OK, "SOURCE=\"http://h/x/\"\nID=\"3\"\n", NULL, 1 },
	{ "id from the document", "import", "B64", NULL, NULL, DOC("import"),
	  MKT_DRV_OK, "SOURCE=\"http://h/x/\"\nID=\"17\"\n", NULL, 1 },
	{ "failure prints nothing", "delete", "B64", "1", NULL, DOC("delete"),
	  MKT_DRV_EFAIL, "", "ERROR: it broke\n", 1 },
	{ "flushed results", "export", "B64", "1", NULL, DOC("export"),
	  MKT_DRV_OK, "A=\"1\"\nB=\"2\"\nC=\"3\"\n", NULL, 1 },
	{ "failure after a flush", "provision", "B64", "1", NULL, DOC("provision"),
	  MKT_DRV_EFAIL, "A=\"1\"\n", "ERROR: it broke late\n", 1 },
	{ "unsupported action", "monitor", "B64", "1", NULL, DOC("monitor"),
	  MKT_DRV_ENOTSUP, "", "ERROR: action \"monitor\" is not supported by this driver", 0 },
	{ "unknown action", "foo", "frob", "B64", "1", DOC("import"),
	  MKT_DRV_ENOTSUP, "", "ERROR: action \"frob\" is not supported", 0 },
	{ "no action at all", "foo", NULL, NULL, NULL, "",
	  MKT_DRV_EINPUT, "", "ERROR: usage: foo ACTION", 0 },
	{ "bad base64", "import", "%%%", "1", NULL, "",
	  MKT_DRV_EINPUT, "", "ERROR: the action document argument is not base64", 0 },
	{ "document for another action", "import", "B64", "1", NULL, DOC("delete"),
	  MKT_DRV_EINPUT, "", "for action \"delete\", not \"import\"", 0 },
};

START_TEST(test_main)
{
	char *b64 = mkt_util_base64_encode(main_cases[_i].doc, strlen(main_cases[_i].doc));
	const char *given[] = { main_cases[_i].argv0, main_cases[_i].arg1, main_cases[_i].arg2,
				main_cases[_i].arg3 };
	char *argv[5] = { NULL };
	int argc = 0, ret;
	capture out, err;
	char *out_text, *err_text;
	size_t i;

	for (i = 0; i < N_ELEMS(given) && given[i]; i++)
		argv[argc++] = (char *)(strcmp(given[i], "B64") ? given[i] : b64);
	handled = 0;
	capture_start(&out, STDOUT_FILENO);
	capture_start(&err, STDERR_FILENO);
	ret = mkt_drv_main(argc, argv, table);
	err_text = capture_end(&err);
	out_text = capture_end(&out);
	ck_assert_msg(ret == main_cases[_i].status, "%s: status %d, stderr %s",
		      main_cases[_i].name, ret, err_text);
	ck_assert_msg(!strcmp(out_text, main_cases[_i].out), "%s: stdout \"%s\"",
		      main_cases[_i].name, out_text);
	if (main_cases[_i].err)
		ck_assert_msg(strstr(err_text, main_cases[_i].err), "%s: stderr %s",
			      main_cases[_i].name, err_text);
	ck_assert_int_eq(handled, main_cases[_i].handled);
	free(out_text);
	free(err_text);
	free(b64);
}
END_TEST

static Suite *driver_suite(void)
{
	Suite *s = suite_create("driver");
	TCase *tc;

	tc = tcase_create("document");
	tcase_add_loop_test(tc, test_document, 0, N_ELEMS(doc_cases));
	tcase_add_loop_test(tc, test_get, 0, N_ELEMS(get_cases));
	tcase_add_test(tc, test_typed_getters);
	tcase_add_test(tc, test_id);
	tcase_add_loop_test(tc, test_require_id, 0,
			    sizeof(require_id_cases) / sizeof(require_id_cases[0]));
	suite_add_tcase(s, tc);

	tc = tcase_create("output");
	tcase_add_loop_test(tc, test_import_opts, 0, N_ELEMS(import_cases));
	tcase_add_loop_test(tc, test_result_escaping, 0, N_ELEMS(result_cases));
	tcase_add_test(tc, test_result_long_and_size);
	tcase_add_test(tc, test_results_flush_in_tests);
	tcase_add_test(tc, test_log_lines);
	tcase_add_test(tc, test_progress_rate);
	suite_add_tcase(s, tc);

	tc = tcase_create("main");
	tcase_add_loop_test(tc, test_main, 0, N_ELEMS(main_cases));
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr;
	int failed;

	xmlInitParser();
	sr = srunner_create(driver_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	xmlCleanupParser();
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

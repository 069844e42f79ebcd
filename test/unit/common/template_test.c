/*
 * template_test.c: the template parser, its XML form and the attribute API.
 *
 * Most cases are rows of a table: an input and either the text or XML it
 * must format to, or a fragment of the error it must give (with its line).
 */
#include <config.h>

#include <limits.h>
#include <pthread.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <libxml/parser.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/error.h"
#include "common/template.h"

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

static char *format_text(const mkt_template *t)
{
	mkt_buf b = MKT_BUF_INIT;

	mkt_template_format_text(t, &b);
	return mkt_buf_steal(&b);
}

static char *format_xml(const mkt_template *t, const char *root)
{
	mkt_buf b = MKT_BUF_INIT;

	mkt_template_format_xml(t, &b, root);
	return mkt_buf_steal(&b);
}

/* Parse @in (with parse_any when @any) and compare its text form. */
static void check_text(const char *in, const char *want, int any)
{
	mkt_template *t = NULL;
	char *got;
	int ret = any ? mkt_template_parse_any(&t, in) : mkt_template_parse(&t, in);

	ck_assert_msg(ret == 0, "parse of \"%s\" failed: %s", in, mkt_error_message());
	got = format_text(t);
	ck_assert_str_eq(got, want);
	free(got);
	mkt_template_free(t);
}

static void check_error(const char *in, const char *want, int any)
{
	mkt_template *t = (mkt_template *)&t;   /* must be reset to NULL */
	int ret;

	mkt_error_clear();
	ret = any ? mkt_template_parse_any(&t, in) : mkt_template_parse(&t, in);
	ck_assert_msg(ret == MKT_EINVAL, "parse of \"%s\" gave %d, not MKT_EINVAL", in, ret);
	ck_assert_ptr_null(t);
	ck_assert_int_eq(mkt_error_last()->code, MKT_EINVAL);
	ck_assert_msg(strstr(mkt_error_message(), want) != NULL,
		      "error for \"%s\" is \"%s\", expected it to contain \"%s\"",
		      in, mkt_error_message(), want);
}

/* ------------------------------------------------------------ text: valid */

static const struct {
	const char *in;
	const char *text;
} parse_ok[] = {
	{ "", "" },
	{ "\n\n   \n\t\n", "" },
	{ "# only a comment\n   # another\n", "" },
	{ "A = 1", "A=\"1\"\n" },
	{ "A=1\n", "A=\"1\"\n" },
	{ "  A   =   two words  \t\n", "A=\"two words\"\n" },
	{ "name = value # trailing comment", "NAME=\"value\"\n" },
	{ "a.b-c_1 = x", "A.B-C_1=\"x\"\n" },
	{ "Mixed_Case = v\nmixed_case = w", "MIXED_CASE=\"v\"\nMIXED_CASE=\"w\"\n" },
	/* repeated names keep their order */
	{ "A = 1\nB = 2\nA = 3", "A=\"1\"\nB=\"2\"\nA=\"3\"\n" },
	/* empty values */
	{ "A =\nB = \"\"\nC=", "A=\"\"\nB=\"\"\nC=\"\"\n" },
	{ "A = # nothing but a comment", "A=\"\"\n" },
	/* unquoted values keep inner blanks and odd characters */
	{ "A = 5\" x = y ] , [", "A=\"5\\\" x = y ] , [\"\n" },
	{ "URL = http://h:80/p?q=1&r=2", "URL=\"http://h:80/p?q=1&r=2\"\n" },
	/* quoted values */
	{ "A = \"x # not a comment\"", "A=\"x # not a comment\"\n" },
	{ "A = \"say \\\"hi\\\"\"", "A=\"say \\\"hi\\\"\"\n" },
	{ "A = \"c:\\\\dir\"", "A=\"c:\\\\dir\"\n" },
	/* an unknown escape stays a backslash and a letter */
	{ "A = \"a\\nb\\t\"", "A=\"a\\\\nb\\\\t\"\n" },
	{ "A = \"ends with \\\\\"", "A=\"ends with \\\\\"\n" },
	{ "A = \"  padded  \"", "A=\"  padded  \"\n" },
	{ "A = \"[x, y = z]\"", "A=\"[x, y = z]\"\n" },
	{ "A = \"x\"   # comment", "A=\"x\"\n" },
	{ "A=\"x\"\nB=\"y\"", "A=\"x\"\nB=\"y\"\n" },
	/* multi-line quoted values */
	{ "A = \"line1\nline2\n\"\nB = 2", "A=\"line1\nline2\n\"\nB=\"2\"\n" },
	{ "A = \"\n\n\"", "A=\"\n\n\"\n" },
	/* UTF-8 */
	{ "A = \"h\xc3\xa9llo \xe2\x9c\x93 \xf0\x9f\x98\x80\"", "A=\"h\xc3\xa9llo \xe2\x9c\x93 \xf0\x9f\x98\x80\"\n" },
	{ "\xef\xbb\xbf" "A = 1", "A=\"1\"\n" },
	/* vectors */
	{ "DISK = [ IMAGE = \"x\", SIZE = 2 ]", "DISK=[\n  IMAGE=\"x\",\n  SIZE=\"2\" ]\n" },
	{ "disk=[image=x,size=2]", "DISK=[\n  IMAGE=\"x\",\n  SIZE=\"2\" ]\n" },
	{ "D = [\n  A = 1,\n  B = \"two\"\n]\nE = 3",
	  "D=[\n  A=\"1\",\n  B=\"two\" ]\nE=\"3\"\n" },
	{ "D = [ A = 1,\n B = 2, ]", "D=[\n  A=\"1\",\n  B=\"2\" ]\n" },
	{ "D = [\n A = 1\n B = 2\n]", "D=[\n  A=\"1\",\n  B=\"2\" ]\n" },
	{ "D = [ A = \"x\"\n B = \"y\" ]", "D=[\n  A=\"x\",\n  B=\"y\" ]\n" },
	{ "D = []", "D=[ ]\n" },
	{ "D = [ ]", "D=[ ]\n" },
	{ "D = [\n\n]", "D=[ ]\n" },
	{ "D = [ A = ]", "D=[\n  A=\"\" ]\n" },
	{ "D = [ A = , B = \"\" ]", "D=[\n  A=\"\",\n  B=\"\" ]\n" },
	{ "D = [ A = \"a, b ] c\", B = \"x\ny\" ]", "D=[\n  A=\"a, b ] c\",\n  B=\"x\ny\" ]\n" },
	{ "D = [ A = 1 # one\n  # a comment line\n  B = 2, # two\n ] # done",
	  "D=[\n  A=\"1\",\n  B=\"2\" ]\n" },
	{ "D = [ A = two words , B = x=y ]", "D=[\n  A=\"two words\",\n  B=\"x=y\" ]\n" },
	{ "D = [ A = 1, A = 2 ]", "D=[\n  A=\"1\",\n  A=\"2\" ]\n" },
	{ "D = [ A = 1 ]\nD = [ A = 2 ]", "D=[\n  A=\"1\" ]\nD=[\n  A=\"2\" ]\n" },
	/* Windows line endings */
	{ "A = 1\r\nB = \"x\"\r\nV = [ C = 1,\r\n D = 2\r\n]\r\n# c\r\n",
	  "A=\"1\"\nB=\"x\"\nV=[\n  C=\"1\",\n  D=\"2\" ]\n" },
	/* a CR inside quotes is part of the value */
	{ "A = \"x\r\ny\"\r\n", "A=\"x\r\ny\"\n" },
	/* control characters are kept in values (the XML form drops them) */
	{ "A = x\x01y", "A=\"x\x01y\"\n" },
};

START_TEST(test_parse_ok)
{
	check_text(parse_ok[_i].in, parse_ok[_i].text, 0);
	/* Text that does not start with '<' goes the same way through parse_any. */
	check_text(parse_ok[_i].in, parse_ok[_i].text, 1);
}
END_TEST

/* ------------------------------------------------------------ text: errors */

static const struct {
	const char *in;
	const char *error;
} parse_err[] = {
	{ "A = \"abc", "syntax error at line 1: unterminated quoted value of A (missing closing '\"')" },
	{ "\n\nA = \"abc\nmore\n", "line 3: unterminated quoted value of A" },
	{ "A = \"ends in escape\\\"", "line 1: unterminated quoted value of A" },
	{ "A = \"backslash at end\\", "line 1: unterminated quoted value of A" },
	{ "A = [ B = 1", "syntax error at line 1: unterminated vector A (missing ']')" },
	{ "X = 1\nA = [\n B = 1,\n", "line 2: unterminated vector A" },
	{ "A = [ B = \"x", "line 1: unterminated quoted value of B" },
	{ "A = [\n B = \"x\n\n", "line 2: unterminated quoted value of B" },
	{ "A 1", "syntax error at line 1: expected '=' after A, found '1'" },
	{ "A", "line 1: expected '=' after A, found end of input" },
	{ "A\n= 1", "line 1: expected '=' after A, found end of line" },
	{ "A # c\n", "line 1: expected '=' after A, found '#'" },
	{ "= 1", "syntax error at line 1: missing attribute name before '='" },
	{ "A = 1\n\n  = 2", "line 3: missing attribute name before '='" },
	{ "A$B = 1", "line 1: invalid character '$' after A in a name" },
	{ "X = 1\nA:B = 1", "line 2: invalid character ':' after A in a name" },
	{ "\"A\" = 1", "line 1: expected an attribute name, found '\"'" },
	{ "]", "line 1: expected an attribute name, found ']'" },
	{ "[ A = 1 ]", "line 1: expected an attribute name, found '['" },
	{ "\xc3\xa9t\xc3\xa9 = 1", "line 1: expected an attribute name, found byte 0xc3" },
	{ "\x01 = 1", "line 1: expected an attribute name, found byte 0x01" },
	{ "A = [ B = [ C = 1 ] ]", "line 1: member B of vector A cannot be a vector" },
	{ "A = [\n B = 1,\n C = [] ]", "line 3: member C of vector A cannot be a vector" },
	{ "A = \"x\" y", "syntax error at line 1: unexpected 'y' after the quoted value of A" },
	{ "A = \"x\"\nB = \"y\" \"z\"", "line 2: unexpected '\"' after the quoted value of B" },
	{ "A = \"multi\nline\" junk", "line 2: unexpected 'j' after the quoted value of A" },
	{ "A = \"x\" B = \"y\"", "line 1: unexpected 'B' after the quoted value of A" },
	{ "A = [ B = \"x\" C = 1 ]", "line 1: expected ',' or ']' after the value of B in vector A, found 'C'" },
	{ "A = [ B = 1 ] C = 2", "line 1: unexpected 'C' after ']' closing vector A" },
	{ "A = [\n B = 1\n ],", "line 3: unexpected ',' after ']' closing vector A" },
	{ "A = [ , B = 1 ]", "line 1: expected a member name or ']' in vector A, found ','" },
	{ "A = [ B = 1,, C = 2 ]", "line 1: expected a member name or ']' in vector A, found ','" },
	{ "A = [ = 1 ]", "line 1: missing member name before '=' in vector A" },
	{ "A = [ B ]", "line 1: expected '=' after B in vector A, found ']'" },
	{ "A = [\n B\n = 1 ]", "line 2: expected '=' after B in vector A, found end of line" },
	{ "A = [ B$ = 1 ]", "line 1: invalid character '$' after B in a name" },
	{ "A = [ \"B\" = 1 ]", "line 1: expected a member name or ']' in vector A, found '\"'" },
	{ "X = \xff", "syntax error at line 1: invalid UTF-8 sequence" },
	{ "A = 1\nB = \"\xed\xa0\x80\"", "line 2: invalid UTF-8" },     /* surrogate */
	{ "A = \"\xc0\xaf\"", "line 1: invalid UTF-8" },                /* overlong */
	{ "A = \"\xe0\x80\xaf\"", "line 1: invalid UTF-8" },            /* overlong */
	{ "A = \"\xf4\x90\x80\x80\"", "line 1: invalid UTF-8" },        /* > U+10FFFF */
	{ "A = \"\xe2\x9c\"", "line 1: invalid UTF-8" },                /* truncated */
	{ "A = \xe2\x9c", "line 1: invalid UTF-8" },                    /* at the end */
	{ "A = \xf0\x9f\x98", "line 1: invalid UTF-8" },
	{ "A = \x80", "line 1: invalid UTF-8" },
};

START_TEST(test_parse_error)
{
	check_error(parse_err[_i].in, parse_err[_i].error, 0);
	check_error(parse_err[_i].in, parse_err[_i].error, 1);
	ck_assert_int_eq(mkt_error_last()->area, MKT_ERR_TEMPLATE);
}
END_TEST

START_TEST(test_parse_null)
{
	mkt_template *t = NULL;

	ck_assert_int_eq(mkt_template_parse(&t, NULL), MKT_EINVAL);
	ck_assert_ptr_null(t);
	ck_assert_int_eq(mkt_template_parse_any(&t, NULL), MKT_EINVAL);
	ck_assert_ptr_null(t);
}
END_TEST

/* Every prefix of a template exercising all the syntax must either parse
 * or fail cleanly (the sanitizers and valgrind watch for stray reads). */
START_TEST(test_parse_prefixes)
{
	static const char sample[] =
		"# header\r\nA = 1\nB = \"q\\\"u\\\\o\\te\nd\" # c\n"
		"V = [ X = \"1\", Y = two,\n  Z = \"\xe2\x9c\x93\" # c\n ]\nE = []\n";
	char *buf = mkt_malloc(sizeof(sample));
	mkt_template *t = NULL;
	size_t n;

	for (n = 0; n < sizeof(sample); n++) {
		memcpy(buf, sample, n);
		buf[n] = '\0';
		mkt_template_parse(&t, buf);
		mkt_template_free(t);
		mkt_template_parse_any(&t, buf);
		mkt_template_free(t);
	}
	free(buf);
}
END_TEST

/* ----------------------------------------------------------------- XML */

static const struct {
	const char *in;
	const char *xml;       /* expected format_xml, or NULL */
	const char *error;     /* expected error fragment, or NULL */
} xml_cases[] = {
	{ "<TEMPLATE><A>1</A></TEMPLATE>", "<TEMPLATE><A>1</A></TEMPLATE>", NULL },
	{ "<TEMPLATE/>", "<TEMPLATE></TEMPLATE>", NULL },
	{ "  \r\n\t<T><A>1</A></T>", "<TEMPLATE><A>1</A></TEMPLATE>", NULL },
	{ "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ANY_ROOT>\n  <b>2</b>\n  <a>1</a>\n</ANY_ROOT>",
	  "<TEMPLATE><A>1</A><B>2</B></TEMPLATE>", NULL },
	{ "\xef\xbb\xbf<T><A>1</A></T>", "<TEMPLATE><A>1</A></TEMPLATE>", NULL },
	{ "<T><A><![CDATA[<&>\"]]></A></T>", "<TEMPLATE><A>&lt;&amp;&gt;&quot;</A></TEMPLATE>", NULL },
	{ "<T><A>x<![CDATA[ & ]]>y</A></T>", "<TEMPLATE><A>x &amp; y</A></TEMPLATE>", NULL },
	{ "<T><A>&amp;&lt;&#x41;&#233;</A></T>", "<TEMPLATE><A>&amp;&lt;A\xc3\xa9</A></TEMPLATE>", NULL },
	{ "<T><A></A><B/><C> </C></T>", "<TEMPLATE><A></A><B></B><C> </C></TEMPLATE>", NULL },
	{ "<T><A attr=\"ignored\">v</A><!-- comment --><?pi x?></T>", "<TEMPLATE><A>v</A></TEMPLATE>", NULL },
	{ "<T><DISK><SIZE>2</SIZE><image>x</image></DISK></T>",
	  "<TEMPLATE><DISK><IMAGE>x</IMAGE><SIZE>2</SIZE></DISK></TEMPLATE>", NULL },
	{ "<T>\n <D>\n  <A>1</A>\n  <A>2</A>\n </D>\n</T>",
	  "<TEMPLATE><D><A>1</A><A>2</A></D></TEMPLATE>", NULL },
	{ "<T><D><A><![CDATA[c]]></A><B/></D></T>",
	  "<TEMPLATE><D><A>c</A><B></B></D></TEMPLATE>", NULL },
	{ "<T>text at the top is ignored<A>1</A></T>", "<TEMPLATE><A>1</A></TEMPLATE>", NULL },
	{ "<T xmlns:n=\"urn:x\"><n:A>1</n:A></T>", "<TEMPLATE><A>1</A></TEMPLATE>", NULL },
	/* an external DTD is neither fetched nor needed */
	{ "<!DOCTYPE T SYSTEM \"file:///nonexistent/t.dtd\"><T><A>1</A></T>",
	  "<TEMPLATE><A>1</A></TEMPLATE>", NULL },
	/* errors */
	{ "<T><D><A><B>1</B></A></D></T>", NULL, "member A of vector D at line 1 contains elements: vectors cannot be nested" },
	{ "<T>\n<D>\n<A>1</A>\n<B><C/></B></D></T>", NULL, "member B of vector D at line 4" },
	{ "<T><A>1</B></T>", NULL, "malformed XML at line 1: Opening and ending tag mismatch: A line 1 and B" },
	/* the first error, not libxml2's "Premature end of data" after it */
	{ "<T><A>1</B>", NULL, "malformed XML at line 1: Opening and ending tag mismatch: A line 1 and B" },
	{ "<T>\n<A>1</A>\n<B>", NULL, "malformed XML at line 3: Premature end of data in tag B" },
	{ "<T><A>x & y</A></T>", NULL, "malformed XML at line 1:" },
	{ "<T><A>1</A></T><U/>", NULL, "malformed XML at line 1: Extra content at the end of the document" },
	{ "<", NULL, "malformed XML at line 1:" },
	{ "<T><A>&undefined;</A></T>", NULL, "malformed XML at line 1:" },
	{ "<T><A>\xff</A></T>", NULL, "malformed XML" },
	{ "<!DOCTYPE T [<!ENTITY x SYSTEM \"file:///etc/passwd\">]><T><A>&x;</A></T>",
	  NULL, "entity reference &x; at line 1 is not allowed" },
	{ "<!DOCTYPE T [<!ENTITY x \"internal\">]><T><D><A>&x;</A></D></T>",
	  NULL, "entity reference &x; at line 1 is not allowed" },
	/* billion laughs: refused, whether by libxml2 or by the entity rule */
	{ "<!DOCTYPE T [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;\">"
	  "<!ENTITY c \"&b;&b;&b;&b;&b;&b;&b;&b;\"><!ENTITY d \"&c;&c;&c;&c;&c;&c;&c;&c;\">"
	  "<!ENTITY e \"&d;&d;&d;&d;&d;&d;&d;&d;\"><!ENTITY f \"&e;&e;&e;&e;&e;&e;&e;&e;\">"
	  "<!ENTITY g \"&f;&f;&f;&f;&f;&f;&f;&f;\"><!ENTITY h \"&g;&g;&g;&g;&g;&g;&g;&g;\">]>"
	  "<T><A>&h;</A><B>&h;&h;&h;&h;</B></T>", NULL, "line 1" },
	{ "<T><a:B>1</a:B></T>", NULL, "invalid attribute name <a:B> at line 1" },
	{ "<T><D><\xc3\xa9>1</\xc3\xa9></D></T>", NULL, "invalid attribute name <?\?> at line 1" },
};

START_TEST(test_xml)
{
	mkt_template *t = NULL;
	char *got;

	if (xml_cases[_i].error) {
		check_error(xml_cases[_i].in, xml_cases[_i].error, 1);
		return;
	}
	ck_assert_msg(mkt_template_parse_any(&t, xml_cases[_i].in) == 0,
		      "parse of \"%s\" failed: %s", xml_cases[_i].in, mkt_error_message());
	got = format_xml(t, NULL);
	ck_assert_str_eq(got, xml_cases[_i].xml);
	free(got);
	mkt_template_free(t);
}
END_TEST

START_TEST(test_xml_node)
{
	static const char doc_text[] =
		"<VM><ID>7</ID><TEMPLATE><NAME>vm</NAME><NIC><IP>1.2.3.4</IP></NIC></TEMPLATE></VM>";
	xmlDocPtr doc = xmlReadMemory(doc_text, (int)strlen(doc_text), NULL, NULL, XML_PARSE_NONET);
	xmlNodePtr node;
	mkt_template *t = NULL;
	const mkt_tattr *nic;

	ck_assert_ptr_nonnull(doc);
	node = xmlDocGetRootElement(doc)->children->next;
	ck_assert_str_eq((const char *)node->name, "TEMPLATE");
	ck_assert_int_eq(mkt_template_parse_xml_node(&t, node), 0);
	ck_assert_uint_eq(mkt_template_size(t), 2);
	ck_assert_str_eq(mkt_template_get(t, "name"), "vm");
	nic = mkt_template_find(t, "NIC");
	ck_assert_ptr_nonnull(nic);
	ck_assert(mkt_tattr_is_vector(nic));
	ck_assert_str_eq(mkt_tattr_vector_get(nic, "ip"), "1.2.3.4");
	mkt_template_free(t);

	/* an element with no children is an empty template */
	ck_assert_int_eq(mkt_template_parse_xml_node(&t, xmlDocGetRootElement(doc)->children), 0);
	ck_assert_uint_eq(mkt_template_size(t), 0);
	mkt_template_free(t);

	t = (mkt_template *)&t;
	ck_assert_int_eq(mkt_template_parse_xml_node(&t, NULL), MKT_EINVAL);
	ck_assert_ptr_null(t);
	xmlFreeDoc(doc);
}
END_TEST

/* parse_any decides on the first non-blank character only. */
START_TEST(test_parse_any_dispatch)
{
	check_text("A = <b>", "A=\"<b>\"\n", 1);
	check_text("\n\t  A = 1", "A=\"1\"\n", 1);
	check_error("# a comment first\n<T/>", "line 2: expected an attribute name, found '<'", 1);
	check_error("<T/>", "line 1: expected an attribute name, found '<'", 0);
	check_text("<T><A>x</A></T>", "A=\"x\"\n", 1);
}
END_TEST

/* Errors are captured per parse, so threads never see each other's. */
struct xml_thread {
	const char *doc;
	const char *want;
	int ok;
};

static void *xml_thread_run(void *arg)
{
	struct xml_thread *x = arg;
	mkt_template *t = NULL;
	int i;

	x->ok = 1;
	for (i = 0; i < 200; i++) {
		if (mkt_template_parse_any(&t, x->doc) != MKT_EINVAL ||
		    !strstr(mkt_error_message(), x->want))
			x->ok = 0;
	}
	return NULL;
}

START_TEST(test_xml_errors_threads)
{
	struct xml_thread x[] = {
		{ "<T><A>1</B></T>", "tag mismatch: A line 1 and B", 0 },
		{ "<T>\n\n<A>", "malformed XML at line 3", 0 },
		{ "<T><A>1</A></T><X/>", "Extra content", 0 },
		{ "<T><D><A><B/></A></D></T>", "member A of vector D", 0 },
	};
	pthread_t th[N_ELEMS(x)];
	size_t i;

	for (i = 0; i < N_ELEMS(x); i++)
		ck_assert_int_eq(pthread_create(&th[i], NULL, xml_thread_run, &x[i]), 0);
	for (i = 0; i < N_ELEMS(x); i++) {
		pthread_join(th[i], NULL);
		ck_assert_msg(x[i].ok, "thread %zu saw a wrong error", i);
	}
}
END_TEST

/* --------------------------------------------------------------- format */

START_TEST(test_format_xml_order)
{
	mkt_template *t = mkt_template_new();
	mkt_tattr *v;
	char *got;

	mkt_template_add(t, "b", "1");
	mkt_template_add(t, "A", "x<&>'\"");
	v = mkt_template_add_vector(t, "C");
	mkt_tattr_vector_set(v, "Z", "z");
	mkt_tattr_vector_set(v, "a", "first");
	mkt_template_add(t, "B", "2");
	mkt_template_add(t, "a", "y");
	mkt_template_add(t, "B", "3");

	got = format_xml(t, NULL);
	ck_assert_str_eq(got, "<TEMPLATE><A>x&lt;&amp;&gt;&apos;&quot;</A><A>y</A>"
			 "<B>1</B><B>2</B><B>3</B><C><A>first</A><Z>z</Z></C></TEMPLATE>");
	free(got);
	got = format_xml(t, "MARKETPLACE");
	ck_assert(strncmp(got, "<MARKETPLACE><A>", 16) == 0);
	ck_assert(strcmp(got + strlen(got) - 14, "</MARKETPLACE>") == 0);
	free(got);
	/* the template itself keeps its insertion order */
	ck_assert_str_eq(mkt_tattr_name(mkt_template_at(t, 0)), "B");
	mkt_template_free(t);

	t = mkt_template_new();
	got = format_xml(t, NULL);
	ck_assert_str_eq(got, "<TEMPLATE></TEMPLATE>");
	free(got);
	mkt_template_free(t);
}
END_TEST

/* Enough repeated names to need a real sort: equal names keep their order. */
START_TEST(test_format_xml_stable)
{
	static const char *const names[] = { "E", "B", "D", "A", "C" };
	mkt_template *t = mkt_template_new();
	mkt_template *back = NULL;
	char value[16];
	const char *prev_name = "";
	long prev = -1;
	char *xml;
	size_t i;

	for (i = 0; i < 500; i++) {
		snprintf(value, sizeof(value), "%zu", i);
		mkt_template_add(t, names[(i * 7) % N_ELEMS(names)], value);
	}
	xml = format_xml(t, NULL);
	ck_assert_int_eq(mkt_template_parse_any(&back, xml), 0);
	ck_assert_uint_eq(mkt_template_size(back), 500);
	for (i = 0; i < mkt_template_size(back); i++) {
		const mkt_tattr *a = mkt_template_at(back, i);
		long n = atol(mkt_tattr_value(a));
		int c = strcmp(prev_name, mkt_tattr_name(a));

		ck_assert_int_le(c, 0);
		if (c == 0)
			ck_assert_int_gt(n, prev);
		prev_name = mkt_tattr_name(a);
		prev = n;
	}
	free(xml);
	mkt_template_free(back);
	mkt_template_free(t);
}
END_TEST

static const char *const nasty_values[] = {
	"", "\"", "\\", "\\\"", "\"\\", "a\nb", "\n", "# not a comment", "[a, b]",
	"x = y", "  spaces  ", "\r\n", "tab\there", "\xc3\xbc\xe2\x9c\x93", "ends\\",
	"\\n stays", "]", ",", "=", "'single'", "<xml>&amp;</xml>",
};

START_TEST(test_format_text_roundtrip)
{
	mkt_template *t = mkt_template_new();
	mkt_template *back = NULL;
	mkt_tattr *v;
	char *text, *again;
	char name[16];
	size_t i;

	v = mkt_template_add_vector(t, "VEC");
	for (i = 0; i < N_ELEMS(nasty_values); i++) {
		snprintf(name, sizeof(name), "A%zu", i);
		mkt_template_add(t, name, nasty_values[i]);
		mkt_tattr_vector_set(v, name, nasty_values[i]);
	}
	mkt_template_add_vector(t, "EMPTY");
	mkt_template_add(t, "A0", "repeated");

	text = format_text(t);
	ck_assert_msg(mkt_template_parse(&back, text) == 0, "%s", mkt_error_message());
	ck_assert_uint_eq(mkt_template_size(back), mkt_template_size(t));
	for (i = 0; i < N_ELEMS(nasty_values); i++) {
		const mkt_tattr *a = mkt_template_at(back, i + 1);

		ck_assert_str_eq(mkt_tattr_value(a), nasty_values[i]);
		ck_assert_str_eq(mkt_tattr_vector_value(mkt_template_at(back, 0), i),
				 nasty_values[i]);
	}
	ck_assert(mkt_tattr_is_vector(mkt_template_find(back, "empty")));
	ck_assert_uint_eq(mkt_tattr_vector_size(mkt_template_find(back, "empty")), 0);
	again = format_text(back);
	ck_assert_str_eq(again, text);
	free(again);
	free(text);
	mkt_template_free(back);
	mkt_template_free(t);
}
END_TEST

START_TEST(test_format_text_shape)
{
	mkt_template *t = NULL;
	char *text;

	ck_assert_int_eq(mkt_template_parse(&t, "b = 2\nDISK = [ image = \"x\", size = 2 ]\na = \"q\\\"\""), 0);
	text = format_text(t);
	ck_assert_str_eq(text, "B=\"2\"\nDISK=[\n  IMAGE=\"x\",\n  SIZE=\"2\" ]\nA=\"q\\\"\"\n");
	free(text);
	mkt_template_free(t);
}
END_TEST

/* ------------------------------------------------------------ attributes */

START_TEST(test_add_set_remove)
{
	mkt_template *t = mkt_template_new();
	char *text;

	mkt_template_add(t, "a", "1");
	mkt_template_add(t, "B", "2");
	mkt_template_add(t, "A", "3");
	mkt_template_add(t, "null", NULL);
	ck_assert_uint_eq(mkt_template_size(t), 4);
	ck_assert_uint_eq(mkt_template_count(t, "a"), 2);
	ck_assert_uint_eq(mkt_template_count(t, "A"), 2);
	ck_assert_uint_eq(mkt_template_count(t, "missing"), 0);
	ck_assert_str_eq(mkt_template_get(t, "a"), "1");
	ck_assert_str_eq(mkt_template_get(t, "NULL"), "");
	ck_assert_ptr_null(mkt_template_get(t, "missing"));
	ck_assert_ptr_null(mkt_template_get(t, "AA"));
	ck_assert_ptr_null(mkt_template_get(t, ""));

	/* set replaces every A with one A at the end */
	mkt_template_set(t, "A", "9");
	ck_assert_uint_eq(mkt_template_count(t, "a"), 1);
	text = format_text(t);
	ck_assert_str_eq(text, "B=\"2\"\nNULL=\"\"\nA=\"9\"\n");
	free(text);
	mkt_template_set(t, "new", "n");
	ck_assert_str_eq(mkt_template_get(t, "NEW"), "n");

	ck_assert_uint_eq(mkt_template_remove(t, "b"), 1);
	ck_assert_uint_eq(mkt_template_remove(t, "b"), 0);
	ck_assert_uint_eq(mkt_template_remove(t, "null"), 1);
	text = format_text(t);
	ck_assert_str_eq(text, "A=\"9\"\nNEW=\"n\"\n");
	free(text);
	ck_assert_ptr_null(mkt_template_at(t, 2));
	mkt_template_free(t);
	mkt_template_free(NULL);
}
END_TEST

START_TEST(test_find_get_vector)
{
	mkt_template *t = NULL;
	const mkt_tattr *a;

	ck_assert_int_eq(mkt_template_parse(&t, "D = [ X = 1 ]\nD = plain\nS = 5"), 0);
	a = mkt_template_find(t, "d");
	ck_assert(mkt_tattr_is_vector(a));
	ck_assert_ptr_null(mkt_tattr_value(a));
	ck_assert_uint_eq(mkt_template_count(t, "D"), 2);
	/* get skips vectors */
	ck_assert_str_eq(mkt_template_get(t, "D"), "plain");
	a = mkt_template_find(t, "s");
	ck_assert(!mkt_tattr_is_vector(a));
	ck_assert_str_eq(mkt_tattr_name(a), "S");
	ck_assert_str_eq(mkt_tattr_value(a), "5");
	ck_assert_uint_eq(mkt_tattr_vector_size(a), 0);
	ck_assert_ptr_null(mkt_tattr_vector_name(a, 0));
	ck_assert_ptr_null(mkt_tattr_vector_get(a, "X"));
	ck_assert_ptr_null(mkt_template_find(t, "nope"));
	mkt_template_free(t);
}
END_TEST

static const struct {
	const char *value;
	int ret;
	long long n;
} long_cases[] = {
	{ "42", 0, 42 },
	{ "-7", 0, -7 },
	{ " +3 ", 0, 3 },
	{ "0", 0, 0 },
	{ "9223372036854775807", 0, LLONG_MAX },
	{ "-9223372036854775808", 0, LLONG_MIN },
	{ "9223372036854775808", MKT_EINVAL, 0 },
	{ "", MKT_EINVAL, 0 },
	{ "  ", MKT_EINVAL, 0 },
	{ "abc", MKT_EINVAL, 0 },
	{ "12abc", MKT_EINVAL, 0 },
	{ "1 2", MKT_EINVAL, 0 },
	{ "0x10", MKT_EINVAL, 0 },
	{ "1.5", MKT_EINVAL, 0 },
	{ "-", MKT_EINVAL, 0 },
	{ "\n5", MKT_EINVAL, 0 },
};

START_TEST(test_get_long)
{
	mkt_template *t = mkt_template_new();
	long long n = 12345;
	int ret;

	mkt_template_add(t, "SIZE", long_cases[_i].value);
	ret = mkt_template_get_long(t, "size", &n);
	ck_assert_msg(ret == long_cases[_i].ret, "\"%s\" gave %d", long_cases[_i].value, ret);
	if (ret == 0) {
		ck_assert(n == long_cases[_i].n);
	} else {
		ck_assert(n == 12345);
		ck_assert_ptr_nonnull(strstr(mkt_error_message(), "attribute SIZE"));
		ck_assert_int_eq(mkt_error_last()->code, MKT_EINVAL);
	}
	mkt_template_free(t);
}
END_TEST

START_TEST(test_get_long_messages)
{
	mkt_template *t = NULL;
	long long n = 1;

	ck_assert_int_eq(mkt_template_parse(&t, "MEMORY = lots\nCPU = 99999999999999999999\nV = [ X = 1 ]"), 0);
	ck_assert_int_eq(mkt_template_get_long(t, "memory", &n), MKT_EINVAL);
	ck_assert_str_eq(mkt_error_message(), "attribute MEMORY must be an integer, not \"lots\"");
	ck_assert_int_eq(mkt_template_get_long(t, "CPU", &n), MKT_EINVAL);
	ck_assert_ptr_nonnull(strstr(mkt_error_message(), "attribute CPU is out of range"));
	ck_assert_int_eq(mkt_template_get_long(t, "missing", &n), MKT_ENOTFOUND);
	ck_assert_int_eq(mkt_template_get_long(t, "V", &n), MKT_ENOTFOUND);
	ck_assert(n == 1);
	mkt_template_free(t);
}
END_TEST

static const struct {
	const char *value;
	int ret;
	int b;
} bool_cases[] = {
	{ "YES", 0, 1 }, { "yes", 0, 1 }, { "Yes", 0, 1 }, { "TRUE", 0, 1 },
	{ "true", 0, 1 }, { "1", 0, 1 }, { " yes ", 0, 1 },
	{ "NO", 0, 0 }, { "no", 0, 0 }, { "False", 0, 0 }, { "0", 0, 0 },
	{ "", MKT_EINVAL, 0 }, { "maybe", MKT_EINVAL, 0 }, { "on", MKT_EINVAL, 0 },
	{ "2", MKT_EINVAL, 0 }, { "y", MKT_EINVAL, 0 }, { "yess", MKT_EINVAL, 0 },
	{ "TRUE1", MKT_EINVAL, 0 }, { "ye", MKT_EINVAL, 0 },
};

START_TEST(test_get_bool)
{
	mkt_template *t = mkt_template_new();
	int b = 7;
	int ret;

	mkt_template_add(t, "Enabled", bool_cases[_i].value);
	ret = mkt_template_get_bool(t, "ENABLED", &b);
	ck_assert_msg(ret == bool_cases[_i].ret, "\"%s\" gave %d", bool_cases[_i].value, ret);
	if (ret == 0) {
		ck_assert_int_eq(b, bool_cases[_i].b);
	} else {
		ck_assert_int_eq(b, 7);
		ck_assert_ptr_nonnull(strstr(mkt_error_message(), "attribute ENABLED must be YES or NO"));
	}
	ck_assert_int_eq(mkt_template_get_bool(t, "missing", &b), MKT_ENOTFOUND);
	mkt_template_free(t);
}
END_TEST

/* Error messages quote values only as printable ASCII, and not too much. */
START_TEST(test_error_quotes_safely)
{
	mkt_template *t = mkt_template_new();
	char *big = mkt_malloc(5000);
	long long n;

	memset(big, 'x', 4999);
	big[4999] = '\0';
	mkt_template_add(t, "A", "\x01\xc3\xa9\n");
	mkt_template_add(t, "B", big);
	ck_assert_int_eq(mkt_template_get_long(t, "A", &n), MKT_EINVAL);
	ck_assert_str_eq(mkt_error_message(), "attribute A must be an integer, not \"??? \"");
	ck_assert_int_eq(mkt_template_get_long(t, "B", &n), MKT_EINVAL);
	ck_assert_uint_lt(strlen(mkt_error_message()), 120);
	ck_assert_ptr_nonnull(strstr(mkt_error_message(), "x...\""));
	free(big);
	mkt_template_free(t);
}
END_TEST

START_TEST(test_dup)
{
	mkt_template *t = NULL, *d;
	char *a, *b;

	ck_assert_int_eq(mkt_template_parse(&t, "A = 1\nV = [ X = 1, Y = 2 ]\nE = []\nA = 2"), 0);
	d = mkt_template_dup(t);
	a = format_text(t);
	b = format_text(d);
	ck_assert_str_eq(a, b);
	free(b);
	/* deep: changing the copy leaves the original alone */
	mkt_tattr_vector_set((mkt_tattr *)mkt_template_find(d, "V"), "X", "changed");
	mkt_template_set(d, "A", "3");
	b = format_text(t);
	ck_assert_str_eq(a, b);
	ck_assert_str_eq(mkt_tattr_vector_get(mkt_template_find(t, "V"), "X"), "1");
	free(a);
	free(b);
	mkt_template_free(d);
	mkt_template_free(t);
	ck_assert_ptr_null(mkt_template_dup(NULL));
}
END_TEST

START_TEST(test_vector_set_get)
{
	mkt_template *t = mkt_template_new();
	mkt_tattr *v = mkt_template_add_vector(t, "disk");
	mkt_template *p = NULL;
	mkt_tattr *pv;
	size_t i;

	ck_assert_str_eq(mkt_tattr_name(v), "DISK");
	ck_assert(mkt_tattr_is_vector(v));
	ck_assert_uint_eq(mkt_tattr_vector_size(v), 0);
	mkt_tattr_vector_set(v, "image", "x");
	mkt_tattr_vector_set(v, "SIZE", "2");
	mkt_tattr_vector_set(v, "Image", "y");
	mkt_tattr_vector_set(v, "empty", NULL);
	ck_assert_uint_eq(mkt_tattr_vector_size(v), 3);
	ck_assert_str_eq(mkt_tattr_vector_name(v, 0), "IMAGE");
	ck_assert_str_eq(mkt_tattr_vector_value(v, 0), "y");
	ck_assert_str_eq(mkt_tattr_vector_name(v, 1), "SIZE");
	ck_assert_str_eq(mkt_tattr_vector_get(v, "image"), "y");
	ck_assert_str_eq(mkt_tattr_vector_get(v, "EMPTY"), "");
	ck_assert_ptr_null(mkt_tattr_vector_get(v, "none"));
	ck_assert_ptr_null(mkt_tattr_vector_name(v, 3));
	ck_assert_ptr_null(mkt_tattr_vector_value(v, 3));

	/* the vector stays valid while the template grows */
	for (i = 0; i < 100; i++)
		mkt_template_add(t, "FILL", "x");
	mkt_tattr_vector_set(v, "LATE", "1");
	ck_assert_str_eq(mkt_tattr_vector_get(mkt_template_find(t, "DISK"), "late"), "1");
	mkt_template_free(t);

	/* setting a repeated member leaves one, in the first one's place */
	ck_assert_int_eq(mkt_template_parse(&p, "V = [ A = 1, B = 2, A = 3 ]"), 0);
	pv = (mkt_tattr *)mkt_template_at(p, 0);
	mkt_tattr_vector_set(pv, "a", "9");
	ck_assert_uint_eq(mkt_tattr_vector_size(pv), 2);
	ck_assert_str_eq(mkt_tattr_vector_name(pv, 0), "A");
	ck_assert_str_eq(mkt_tattr_vector_value(pv, 0), "9");
	ck_assert_str_eq(mkt_tattr_vector_name(pv, 1), "B");
	mkt_template_free(p);
}
END_TEST

static const struct {
	const char *dst;
	const char *src;
	const char *text;
} merge_cases[] = {
	{ "A = 1\nB = 2\nA = 3\nC = 4\nV = [ X = 1 ]",
	  "a = 9\nD = 5\nA = 10\nV = [ Y = 2 ]",
	  "B=\"2\"\nC=\"4\"\nA=\"9\"\nA=\"10\"\nD=\"5\"\nV=[\n  Y=\"2\" ]\n" },
	{ "A = 1\nB = 2", "", "A=\"1\"\nB=\"2\"\n" },
	{ "", "B = 1\nA = 2\nB = 3", "B=\"1\"\nB=\"3\"\nA=\"2\"\n" },
	{ "A = 1\nV = [ X = 1 ]", "V = plain", "A=\"1\"\nV=\"plain\"\n" },
	{ "Z = 1\nY = 2\nX = 3", "Y = 20", "Z=\"1\"\nX=\"3\"\nY=\"20\"\n" },
};

START_TEST(test_merge)
{
	mkt_template *dst = NULL, *src = NULL;
	char *text;

	ck_assert_int_eq(mkt_template_parse(&dst, merge_cases[_i].dst), 0);
	ck_assert_int_eq(mkt_template_parse(&src, merge_cases[_i].src), 0);
	mkt_template_merge(dst, src);
	text = format_text(dst);
	ck_assert_str_eq(text, merge_cases[_i].text);
	free(text);
	/* src is copied, not moved */
	mkt_template_free(src);
	text = format_text(dst);
	ck_assert_str_eq(text, merge_cases[_i].text);
	free(text);
	mkt_template_free(dst);
}
END_TEST

START_TEST(test_merge_self)
{
	mkt_template *t = NULL;
	char *text;

	ck_assert_int_eq(mkt_template_parse(&t, "A = 1\nB = 2\nA = 3"), 0);
	mkt_template_merge(t, t);
	text = format_text(t);
	ck_assert_str_eq(text, "A=\"1\"\nB=\"2\"\nA=\"3\"\n");
	free(text);
	mkt_template_free(t);
}
END_TEST

/* Pool listings parse thousands of templates: a big one must stay fast
 * (a quadratic parser would take minutes here, and time out). */
START_TEST(test_parse_large)
{
	mkt_buf in = MKT_BUF_INIT;
	mkt_template *t = NULL;
	size_t i;

	for (i = 0; i < 20000; i++)
		mkt_buf_printf(&in, "ATTR_%zu = \"value %zu\"\nV = [ A = 1, B = \"x\" ]\n", i, i);
	mkt_buf_add(&in, "BIG = \"");
	for (i = 0; i < 100000; i++)
		mkt_buf_add(&in, "0123456789\\\"");
	mkt_buf_add(&in, "\"\n");
	ck_assert_int_eq(mkt_template_parse(&t, mkt_buf_cstr(&in)), 0);
	ck_assert_uint_eq(mkt_template_size(t), 40001);
	ck_assert_uint_eq(strlen(mkt_template_get(t, "BIG")), 1100000);
	mkt_template_free(t);
	mkt_buf_free(&in);
}
END_TEST

/* A source of template text that hands it out @piece bytes at a time (a
 * driver still printing), and fails with EIO once @fail_at bytes went. */
typedef struct {
	const char *p;
	size_t left;
	size_t piece;
	size_t fail_at;
	size_t given;
} mem_src;

static ssize_t mem_read(void *src, char *buf, size_t size)
{
	mem_src *m = src;
	size_t n = size < m->piece ? size : m->piece;

	if (m->fail_at && m->given >= m->fail_at) {
		errno = EIO;
		return -1;
	}
	if (n > m->left)
		n = m->left;
	memcpy(buf, m->p, n);
	m->p += n;
	m->left -= n;
	m->given += n;
	return (ssize_t)n;
}

static mkt_template_reader *mem_reader(mem_src *m, const char *text, size_t len, size_t piece,
				       size_t max)
{
	memset(m, 0, sizeof(*m));
	m->p = text;
	m->left = len;
	m->piece = piece;
	return mkt_template_reader_new(mem_read, m, max);
}

/* Template text read one attribute at a time (a catalog's answer while
 * the driver prints it): the same attributes as a whole parse, whatever
 * spans lines, however the text comes in pieces. */
START_TEST(test_reader)
{
	static const char text[] =
		"# a comment\n"
		"\n"
		"A = \"one\"\n"
		"B = \"two\n  lines with \\\" and # and [\"  # trailing comment\n"
		"V = [ X = \"1\",\n  Y = \"]\" ]\n"
		"APP=\"QUJD+/09=\"\n"
		"C = plain value\n"
		"D = \"last, no new line\"";
	static const char *const want[] = {
		"A=\"one\"\n", "B=\"two\n  lines with \\\" and # and [\"\n",
		"V=[\n  X=\"1\",\n  Y=\"]\" ]\n", "APP=\"QUJD+/09=\"\n", "C=\"plain value\"\n",
		"D=\"last, no new line\"\n",
	};
	static const size_t pieces[] = { 1, 3, 7, 4096 };
	mkt_template *t = NULL, *whole = NULL;
	size_t i, k;

	for (k = 0; k < N_ELEMS(pieces); k++) {
		mem_src m;
		mkt_template_reader *r = mem_reader(&m, text, sizeof(text) - 1, pieces[k], 1024);

		for (i = 0; i < N_ELEMS(want); i++) {
			char *got;

			ck_assert_int_eq(mkt_template_reader_next(r, NULL, NULL, &t), 1);
			got = format_text(t);
			ck_assert_str_eq(got, want[i]);
			free(got);
			mkt_template_free(t);
		}
		ck_assert_int_eq(mkt_template_reader_next(r, NULL, NULL, &t), 0);
		ck_assert_ptr_null(t);
		mkt_template_reader_free(r);
	}
	/* The whole text parses to the same attributes. */
	ck_assert_int_eq(mkt_template_parse(&whole, text), 0);
	ck_assert_uint_eq(mkt_template_size(whole), N_ELEMS(want));
	mkt_template_free(whole);
}
END_TEST

/* NAME="value" lines a parse would read as written are cut out of the
 * buffer; every other form is parsed, to the same attributes it had. */
START_TEST(test_reader_plain_lines)
{
	static const struct {
		const char *line;
		const char *name;       /* NULL: parsed, not cut out */
		const char *value;      /* what either way gives */
	} cases[] = {
		{ "APP=\"QUJD\"\n", "APP", "QUJD" },
		{ "APP=\"\"\n", "APP", "" },
		{ "X_1.a-B=\"v # not a comment\"\n", NULL, "v # not a comment" },
		{ "X_1.-Z=\"v # not a comment\"\n", "X_1.-Z", "v # not a comment" },
		{ "app=\"lower\"\n", NULL, "lower" },
		{ "APP = \"spaced\"\n", NULL, "spaced" },
		{ "APP=\"cr\"\r\n", NULL, "cr" },
		{ "APP=\"q\\\"uote\"\n", NULL, "q\"uote" },
		{ "APP=\"back\\\\slash\"\n", NULL, "back\\slash" },
		{ "APP=\"caf\xc3\xa9\"\n", NULL, "caf\xc3\xa9" },
		{ "APP=unquoted\n", NULL, "unquoted" },
		{ "APP=\"a\" # note\n", NULL, "a" },
	};
	size_t i;

	for (i = 0; i < N_ELEMS(cases); i++) {
		mem_src m;
		mkt_template_reader *r = mem_reader(&m, cases[i].line, strlen(cases[i].line), 5, 64);
		const char *name = NULL, *value = NULL;
		mkt_template *t = NULL;

		ck_assert_msg(mkt_template_reader_next(r, &name, &value, &t) == 1, "%s: %s",
			      cases[i].line, mkt_error_message());
		if (cases[i].name) {
			ck_assert_ptr_null(t);
			ck_assert_str_eq(name, cases[i].name);
			ck_assert_str_eq(value, cases[i].value);
		} else {
			ck_assert_msg(t != NULL, "%s was cut out", cases[i].line);
			ck_assert_uint_eq(mkt_template_size(t), 1);
			ck_assert_str_eq(mkt_tattr_value(mkt_template_at(t, 0)), cases[i].value);
			mkt_template_free(t);
		}
		ck_assert_int_eq(mkt_template_reader_next(r, &name, &value, &t), 0);
		mkt_template_reader_free(r);
	}
}
END_TEST

/* A line longer than the reader's first buffer, in small pieces, is
 * still one value; one longer than the limit is an error. */
START_TEST(test_reader_long_lines)
{
	mkt_buf in = MKT_BUF_INIT;
	const char *name, *value;
	mkt_template *t = NULL;
	mkt_template_reader *r;
	mem_src m;
	size_t i;

	mkt_buf_add(&in, "SHORT=\"s\"\nAPP=\"");
	for (i = 0; i < 300000; i++)
		mkt_buf_addc(&in, (char)('A' + i % 26));
	mkt_buf_add(&in, "\"\nNEXT=\"n\"\n");
	r = mem_reader(&m, in.ptr, in.len, 1000, 400000);
	ck_assert_int_eq(mkt_template_reader_next(r, &name, &value, &t), 1);
	ck_assert_str_eq(value, "s");
	ck_assert_int_eq(mkt_template_reader_next(r, &name, &value, &t), 1);
	ck_assert_ptr_null(t);
	ck_assert_str_eq(name, "APP");
	ck_assert_uint_eq(strlen(value), 300000);
	ck_assert_int_eq(value[299999], 'A' + 299999 % 26);
	ck_assert_int_eq(mkt_template_reader_next(r, &name, &value, &t), 1);
	ck_assert_str_eq(value, "n");
	mkt_template_reader_free(r);

	/* The same over a limit of 100 000 bytes: skipped, then the next. */
	r = mem_reader(&m, in.ptr, in.len, 1000, 100000);
	ck_assert_int_eq(mkt_template_reader_next(r, &name, &value, &t), 1);
	ck_assert_int_eq(mkt_template_reader_next(r, &name, &value, &t), MKT_EINVAL);
	ck_assert_ptr_nonnull(strstr(mkt_error_message(), "more than the 100000 allowed"));
	ck_assert_int_eq(mkt_template_reader_next(r, &name, &value, &t), 1);
	ck_assert_str_eq(value, "n");
	ck_assert_int_eq(mkt_template_reader_next(r, &name, &value, &t), 0);
	mkt_template_reader_free(r);
	mkt_buf_free(&in);
}
END_TEST

/* An attribute over the limit, or with bad syntax, is an error the reader
 * has moved past; a failed read is an error of its own. */
START_TEST(test_reader_errors)
{
	static const char text[] =
		"A = \"0123456789012345678901234567890123456789\"\n"
		"B = \"ok\"\n"
		"C \"no equals\"\n"
		"D = \"ok too\"\n"
		"E=\"0123456789012345678901234567890123456789\"\n"
		"F=\"fine\"\n";
	mkt_template *t = NULL;
	mem_src m;
	mkt_template_reader *r = mem_reader(&m, text, sizeof(text) - 1, 6, 32);

	ck_assert_int_eq(mkt_template_reader_next(r, NULL, NULL, &t), MKT_EINVAL);
	ck_assert_ptr_nonnull(strstr(mkt_error_message(), "more than the 32 allowed"));
	ck_assert_int_eq(mkt_template_reader_next(r, NULL, NULL, &t), 1);
	ck_assert_str_eq(mkt_template_get(t, "B"), "ok");
	mkt_template_free(t);
	ck_assert_int_eq(mkt_template_reader_next(r, NULL, NULL, &t), MKT_EINVAL);
	ck_assert_int_eq(mkt_template_reader_next(r, NULL, NULL, &t), 1);
	ck_assert_str_eq(mkt_template_get(t, "D"), "ok too");
	mkt_template_free(t);
	/* A plain line over the limit too. */
	ck_assert_int_eq(mkt_template_reader_next(r, NULL, NULL, &t), MKT_EINVAL);
	ck_assert_ptr_nonnull(strstr(mkt_error_message(), "more than the 32 allowed"));
	ck_assert_int_eq(mkt_template_reader_next(r, NULL, NULL, &t), 1);
	ck_assert_str_eq(mkt_template_get(t, "F"), "fine");
	mkt_template_free(t);
	ck_assert_int_eq(mkt_template_reader_next(r, NULL, NULL, &t), 0);
	mkt_template_reader_free(r);

	/* A read that fails mid-attribute: not an attribute, an error. */
	r = mem_reader(&m, text, sizeof(text) - 1, 6, 1024);
	m.fail_at = 50;
	ck_assert_int_eq(mkt_template_reader_next(r, NULL, NULL, &t), 1);
	mkt_template_free(t);
	ck_assert_int_lt(mkt_template_reader_next(r, NULL, NULL, &t), 0);
	ck_assert_ptr_null(t);
	ck_assert_ptr_nonnull(strstr(mkt_error_message(), "reading template text"));
	mkt_template_reader_free(r);
}
END_TEST

static Suite *template_suite(void)
{
	Suite *s = suite_create("template");
	TCase *tc;

	tc = tcase_create("text");
	tcase_add_loop_test(tc, test_parse_ok, 0, N_ELEMS(parse_ok));
	tcase_add_loop_test(tc, test_parse_error, 0, N_ELEMS(parse_err));
	tcase_add_test(tc, test_parse_null);
	tcase_add_test(tc, test_parse_prefixes);
	tcase_add_test(tc, test_parse_large);
	tcase_add_test(tc, test_reader);
	tcase_add_test(tc, test_reader_plain_lines);
	tcase_add_test(tc, test_reader_long_lines);
	tcase_add_test(tc, test_reader_errors);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);

	tc = tcase_create("xml");
	tcase_add_loop_test(tc, test_xml, 0, N_ELEMS(xml_cases));
	tcase_add_test(tc, test_xml_node);
	tcase_add_test(tc, test_parse_any_dispatch);
	tcase_add_test(tc, test_xml_errors_threads);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);

	tc = tcase_create("format");
	tcase_add_test(tc, test_format_xml_order);
	tcase_add_test(tc, test_format_xml_stable);
	tcase_add_test(tc, test_format_text_roundtrip);
	tcase_add_test(tc, test_format_text_shape);
	suite_add_tcase(s, tc);

	tc = tcase_create("api");
	tcase_add_test(tc, test_add_set_remove);
	tcase_add_test(tc, test_find_get_vector);
	tcase_add_loop_test(tc, test_get_long, 0, N_ELEMS(long_cases));
	tcase_add_test(tc, test_get_long_messages);
	tcase_add_loop_test(tc, test_get_bool, 0, N_ELEMS(bool_cases));
	tcase_add_test(tc, test_error_quotes_safely);
	tcase_add_test(tc, test_dup);
	tcase_add_test(tc, test_vector_set_get);
	tcase_add_loop_test(tc, test_merge, 0, N_ELEMS(merge_cases));
	tcase_add_test(tc, test_merge_self);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr;
	int failed;

	/* libxml2 wants its global state set up once, before any thread. */
	xmlInitParser();
	sr = srunner_create(template_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	xmlCleanupParser();
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

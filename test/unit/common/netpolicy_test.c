/*
 * netpolicy_test.c: the network lists of the import policy (CIDR
 * matching, IPv4 and IPv6, allowed over denied, HOST, parse errors).
 */
#include <config.h>

#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/netpolicy.h"

/* @text as a socket address, IPv4 or IPv6. */
static void sockaddr_of(struct sockaddr_storage *ss, const char *text)
{
	struct sockaddr_in *in = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, text, &in->sin_addr) == 1) {
		in->sin_family = AF_INET;
		return;
	}
	ck_assert_msg(inet_pton(AF_INET6, text, &in6->sin6_addr) == 1, "bad test address %s", text);
	in6->sin6_family = AF_INET6;
}

static const struct {
	const char *allowed;
	const char *denied;
	const char *addr;
	int allows;
} cases[] = {
	/* Prefix boundaries, IPv4. */
	{ "", "10.0.0.0/8", "10.255.255.255", 0 },
	{ "", "10.0.0.0/8", "11.0.0.0", 1 },
	{ "", "10.0.0.0/8", "9.255.255.255", 1 },
	{ "", "192.168.1.128/25", "192.168.1.128", 0 },
	{ "", "192.168.1.128/25", "192.168.1.127", 1 },
	{ "", "172.16.0.0/12", "172.31.255.1", 0 },
	{ "", "172.16.0.0/12", "172.32.0.1", 1 },
	{ "", "203.0.113.7", "203.0.113.7", 0 },         /* no prefix: one address */
	{ "", "203.0.113.7", "203.0.113.8", 1 },
	{ "", "0.0.0.0/0", "198.51.100.1", 0 },          /* everything */
	{ "", "0.0.0.0/0", "2001:db8::1", 1 },           /* ... of IPv4 */
	{ "", "10.1.2.3/8", "10.9.9.9", 0 },             /* host bits ignored */
	/* IPv6. */
	{ "", "fe80::/10", "fe80::1", 0 },
	{ "", "fe80::/10", "febf:ffff::1", 0 },
	{ "", "fe80::/10", "fec0::1", 1 },
	{ "", "::1", "::1", 0 },
	{ "", "::1", "::2", 1 },
	{ "", "2001:db8::/32", "2001:db8:ffff::1", 0 },
	{ "", "2001:db8::/33", "2001:db8:8000::1", 1 },
	{ "", "::/0", "10.0.0.1", 1 },
	/* IPv4-mapped IPv6 is the IPv4 address, both ways. */
	{ "", "127.0.0.0/8", "::ffff:127.0.0.1", 0 },
	{ "", "::ffff:127.0.0.0/104", "127.1.2.3", 0 },
	{ "", "::ffff:127.0.0.0/104", "128.0.0.1", 1 },
	/* Allowed is an exception to denied. */
	{ "127.0.0.2", "127.0.0.0/8", "127.0.0.2", 1 },
	{ "127.0.0.2", "127.0.0.0/8", "127.0.0.1", 0 },
	{ "192.0.2.0/24, 2001:db8::/32", "0.0.0.0/0 ::/0", "192.0.2.9", 1 },
	{ "192.0.2.0/24, 2001:db8::/32", "0.0.0.0/0 ::/0", "2001:db8::9", 1 },
	{ "192.0.2.0/24, 2001:db8::/32", "0.0.0.0/0 ::/0", "198.51.100.9", 0 },
	{ "10.0.0.0/8", "", "8.8.8.8", 1 },               /* nothing denied */
	/* The default list. */
	{ "", MKT_NETPOLICY_DEFAULT_DENIED, "127.0.0.1", 0 },
	{ "", MKT_NETPOLICY_DEFAULT_DENIED, "127.53.0.1", 0 },
	{ "", MKT_NETPOLICY_DEFAULT_DENIED, "169.254.169.254", 0 },
	{ "", MKT_NETPOLICY_DEFAULT_DENIED, "0.0.0.0", 0 },
	{ "", MKT_NETPOLICY_DEFAULT_DENIED, "::", 0 },
	{ "", MKT_NETPOLICY_DEFAULT_DENIED, "::1", 0 },
	{ "", MKT_NETPOLICY_DEFAULT_DENIED, "fe80::abcd", 0 },
	{ "", MKT_NETPOLICY_DEFAULT_DENIED, "::ffff:169.254.169.254", 0 },
	{ "", MKT_NETPOLICY_DEFAULT_DENIED, "192.0.2.1", 1 },
	{ "", MKT_NETPOLICY_DEFAULT_DENIED, "2001:db8::1", 1 },
};

START_TEST(test_match)
{
	struct sockaddr_storage ss;
	mkt_netpolicy *p = NULL;
	char addr[64] = "";

	ck_assert_int_eq(mkt_netpolicy_new(&p, "IMPORT_SOURCE", cases[_i].allowed, cases[_i].denied), 0);
	sockaddr_of(&ss, cases[_i].addr);
	ck_assert_msg(mkt_netpolicy_allows(p, (struct sockaddr *)&ss, addr, sizeof(addr)) ==
		      cases[_i].allows, "allowed \"%s\", denied \"%s\": %s should be %s",
		      cases[_i].allowed, cases[_i].denied, cases[_i].addr,
		      cases[_i].allows ? "allowed" : "refused");
	mkt_netpolicy_free(p);
}
END_TEST

/* A refusal names the address as the IPv4 it is, and says why. */
START_TEST(test_refusal_message)
{
	struct sockaddr_storage ss;
	mkt_netpolicy *p = NULL;
	char addr[64] = "";

	ck_assert_int_eq(mkt_netpolicy_new(&p, "PATH", NULL, "127.0.0.0/8"), 0);
	sockaddr_of(&ss, "::ffff:127.0.0.1");
	ck_assert_int_eq(mkt_netpolicy_allows(p, (struct sockaddr *)&ss, addr, sizeof(addr)), 0);
	ck_assert_str_eq(addr, "127.0.0.1");
	ck_assert_int_eq(mkt_netpolicy_refuse(p, "http://h:1/x", addr), MKT_EPERM);
	ck_assert_str_eq(mkt_error_message(),
			 "PATH http://h:1/x: address 127.0.0.1 is not allowed for imports (IMPORT_DENIED_NETWORKS)");
	mkt_netpolicy_free(p);
	mkt_netpolicy_free(NULL);
}
END_TEST

/* HOST: the loopback interface is always there. */
START_TEST(test_host)
{
	struct sockaddr_storage ss;
	mkt_netpolicy *p = NULL;
	char addr[64] = "";

	ck_assert_int_eq(mkt_netpolicy_new(&p, "IMPORT_SOURCE", "", "host"), 0);
	sockaddr_of(&ss, "127.0.0.1");
	ck_assert_int_eq(mkt_netpolicy_allows(p, (struct sockaddr *)&ss, addr, sizeof(addr)), 0);
	sockaddr_of(&ss, "192.0.2.123");    /* TEST-NET-1: no host has it */
	ck_assert_int_eq(mkt_netpolicy_allows(p, (struct sockaddr *)&ss, addr, sizeof(addr)), 1);
	mkt_netpolicy_free(p);
}
END_TEST

static const struct {
	const char *allowed;
	const char *denied;
	const char *message;
} bad[] = {
	{ "10.0.0.0/33", "", "IMPORT_ALLOWED_NETWORKS: '10.0.0.0/33' is not" },
	{ "", "::1/129", "IMPORT_DENIED_NETWORKS: '::1/129' is not" },
	{ "", "10.0.0.0/", "'10.0.0.0/' is not" },
	{ "", "10.0.0.0/-1", "'10.0.0.0/-1' is not" },
	{ "", "10.0.0.0/8x", "'10.0.0.0/8x' is not" },
	{ "", "10.0.0", "'10.0.0' is not" },
	{ "", "example.com", "'example.com' is not" },
	{ "", "127.0.0.1;", "'127.0.0.1;' is not" },
	{ "", "fe80::1%lo", "'fe80::1%lo' is not" },
};

START_TEST(test_parse_errors)
{
	mkt_netpolicy *p = NULL;

	ck_assert_int_eq(mkt_netpolicy_new(&p, "IMPORT_SOURCE", bad[_i].allowed, bad[_i].denied),
			 MKT_EINVAL);
	ck_assert_ptr_null(p);
	ck_assert_msg(strstr(mkt_error_message(), bad[_i].message), "%s: got \"%s\"",
		      bad[_i].message, mkt_error_message());
}
END_TEST

int main(void)
{
	Suite *s = suite_create("netpolicy");
	TCase *tc = tcase_create("netpolicy");
	SRunner *sr;
	int failed;

	tcase_add_loop_test(tc, test_match, 0, sizeof(cases) / sizeof(cases[0]));
	tcase_add_test(tc, test_refusal_message);
	tcase_add_test(tc, test_host);
	tcase_add_loop_test(tc, test_parse_errors, 0, sizeof(bad) / sizeof(bad[0]));
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

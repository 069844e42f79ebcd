/*
 * throttle_test.c: the back-off of failed logins (core/throttle.h).
 * Every case runs well within the first delay (1 s), so no case sleeps.
 */
#include <config.h>

#include <check.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/error.h"
#include "core/throttle.h"

/* Five free failures per user; the sixth starts the delay. */
START_TEST(test_user_backs_off_after_free_failures)
{
	mkt_throttle *t = mkt_throttle_new();
	int i;

	for (i = 0; i < 5; i++) {
		ck_assert_int_eq(mkt_throttle_check(t, "alice", "10.0.0.1"), 0);
		mkt_throttle_fail(t, "alice", "10.0.0.1", 0);
	}
	ck_assert_int_eq(mkt_throttle_check(t, "alice", "10.0.0.1"), 0);
	mkt_throttle_fail(t, "alice", "10.0.0.1", 0);
	ck_assert_int_eq(mkt_throttle_check(t, "alice", "10.0.0.1"), MKT_EBUSY);
	/* The user, from anywhere; not another user from this address. */
	ck_assert_int_eq(mkt_throttle_check(t, "alice", "10.0.0.2"), MKT_EBUSY);
	ck_assert_int_eq(mkt_throttle_check(t, "bob", "10.0.0.1"), 0);
	mkt_throttle_free(t);
	mkt_throttle_free(NULL);
}
END_TEST

START_TEST(test_success_forgets_the_user_not_the_address)
{
	mkt_throttle *t = mkt_throttle_new();
	int i;

	for (i = 0; i < 51; i++)
		mkt_throttle_fail(t, i < 6 ? "carol" : "guess", "10.0.0.3", 0);
	ck_assert_int_eq(mkt_throttle_check(t, "carol", "10.0.0.4"), MKT_EBUSY);
	mkt_throttle_success(t, "carol");
	ck_assert_int_eq(mkt_throttle_check(t, "carol", "10.0.0.4"), 0);
	/* 51 failures from 10.0.0.3: any user from there waits. */
	ck_assert_int_eq(mkt_throttle_check(t, "carol", "10.0.0.3"), MKT_EBUSY);
	ck_assert_int_eq(mkt_throttle_check(t, "dave", "10.0.0.3"), MKT_EBUSY);
	mkt_throttle_free(t);
}
END_TEST

/* An address has 50 free failures: many users may share it. */
START_TEST(test_address_has_more_free_failures)
{
	mkt_throttle *t = mkt_throttle_new();
	char name[32];
	int i;

	for (i = 0; i < 50; i++) {
		snprintf(name, sizeof(name), "user%d", i);
		mkt_throttle_fail(t, name, "10.0.0.5", 0);
	}
	ck_assert_int_eq(mkt_throttle_check(t, "erin", "10.0.0.5"), 0);
	mkt_throttle_fail(t, "erin", "10.0.0.5", 0);
	ck_assert_int_eq(mkt_throttle_check(t, "frank", "10.0.0.5"), MKT_EBUSY);
	mkt_throttle_free(t);
}
END_TEST

/* More keys than slots: the table stays bounded, and a fresh entry still
 * counts from zero. */
START_TEST(test_many_keys)
{
	mkt_throttle *t = mkt_throttle_new();
	char name[32];
	int i;

	for (i = 0; i < 20000; i++) {
		snprintf(name, sizeof(name), "u%d", i);
		mkt_throttle_fail(t, name, name, 0);
	}
	for (i = 0; i < 6; i++)
		mkt_throttle_fail(t, "grace", "10.0.0.6", 0);
	ck_assert_int_eq(mkt_throttle_check(t, "grace", "10.0.0.7"), MKT_EBUSY);
	ck_assert_int_eq(mkt_throttle_check(t, "heidi", "10.0.0.7"), 0);
	mkt_throttle_free(t);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("throttle");
	TCase *tc = tcase_create("throttle");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_user_backs_off_after_free_failures);
	tcase_add_test(tc, test_success_forgets_the_user_not_the_address);
	tcase_add_test(tc, test_address_has_more_free_failures);
	tcase_add_test(tc, test_many_keys);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

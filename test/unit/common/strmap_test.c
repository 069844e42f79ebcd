/*
 * strmap_test.c: the string -> integer map.
 */
#include <config.h>

#include <check.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/strmap.h"

START_TEST(test_put_get_replace)
{
	mkt_strmap *m = mkt_strmap_new();
	char key[] = "volatile";
	long v = 0;

	ck_assert_int_eq(mkt_strmap_get(m, "a", &v), 0);
	mkt_strmap_put(m, "a", 1);
	mkt_strmap_put(m, "", -7);
	mkt_strmap_put(m, key, 3);
	key[0] = 'X';      /* the map keeps its own copy */
	ck_assert_int_eq(mkt_strmap_get(m, "a", &v), 1);
	ck_assert_int_eq(v, 1);
	ck_assert_int_eq(mkt_strmap_get(m, "", &v), 1);
	ck_assert_int_eq(v, -7);
	ck_assert_int_eq(mkt_strmap_get(m, "volatile", &v), 1);
	ck_assert_int_eq(v, 3);
	ck_assert_int_eq(mkt_strmap_get(m, "Xolatile", &v), 0);
	mkt_strmap_put(m, "a", 42);
	ck_assert_int_eq(mkt_strmap_get(m, "a", &v), 1);
	ck_assert_int_eq(v, 42);
	ck_assert_uint_eq(mkt_strmap_count(m), 3);
	mkt_strmap_free(m);
	mkt_strmap_free(NULL);
}
END_TEST

/* Past many growths, every key still maps to its own value. */
START_TEST(test_many_keys)
{
	mkt_strmap *m = mkt_strmap_new();
	char key[32];
	long i, v;

	for (i = 0; i < 50000; i++) {
		snprintf(key, sizeof(key), "id:%ld", i);
		mkt_strmap_put(m, key, i * 3);
	}
	ck_assert_uint_eq(mkt_strmap_count(m), 50000);
	for (i = 0; i < 50000; i++) {
		snprintf(key, sizeof(key), "id:%ld", i);
		ck_assert_int_eq(mkt_strmap_get(m, key, &v), 1);
		ck_assert_int_eq(v, i * 3);
	}
	ck_assert_int_eq(mkt_strmap_get(m, "id:50000", &v), 0);
	mkt_strmap_free(m);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("strmap");
	TCase *tc = tcase_create("strmap");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_put_get_replace);
	tcase_add_test(tc, test_many_keys);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

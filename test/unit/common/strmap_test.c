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
	int v = 0;

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

/* A borrowing map uses the caller's strings, through its growths, and
 * frees none of them (these are on the stack: freeing one would crash). */
START_TEST(test_borrowing)
{
	mkt_strmap *m = mkt_strmap_new_borrowing();
	char keys[200][8];
	int i, v;

	for (i = 0; i < 200; i++) {
		snprintf(keys[i], sizeof(keys[i]), "k%d", i);
		mkt_strmap_put(m, keys[i], i);
	}
	ck_assert_uint_eq(mkt_strmap_count(m), 200);
	ck_assert_int_eq(mkt_strmap_get(m, "k199", &v), 1);
	ck_assert_int_eq(v, 199);
	keys[7][0] = 'X';  /* borrowed, not copied: the map sees the change */
	ck_assert_int_eq(mkt_strmap_get(m, "k7", &v), 0);
	mkt_strmap_put(m, "k3", 33);
	ck_assert_int_eq(mkt_strmap_get(m, "k3", &v), 1);
	ck_assert_int_eq(v, 33);
	ck_assert_uint_eq(mkt_strmap_count(m), 200);
	mkt_strmap_free(m);
}
END_TEST

/* Past many growths, every key still maps to its own value. */
START_TEST(test_many_keys)
{
	mkt_strmap *m = mkt_strmap_new();
	char key[32];
	int i, v;

	for (i = 0; i < 50000; i++) {
		snprintf(key, sizeof(key), "id:%d", i);
		mkt_strmap_put(m, key, i * 3);
	}
	ck_assert_uint_eq(mkt_strmap_count(m), 50000);
	for (i = 0; i < 50000; i++) {
		snprintf(key, sizeof(key), "id:%d", i);
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
	tcase_add_test(tc, test_borrowing);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

/*
 * spawn_test.c: mkt_spawn_run against real /bin/sh children.
 */
#include <config.h>

#include <check.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/spawn.h"

static int run_sh(const char *script, const char *input, int timeout, mkt_buf *err_lines,
		  mkt_spawn_result *r);

static void collect_line(void *ud, const char *line)
{
	mkt_buf_add(ud, line);
	mkt_buf_add(ud, "|");
}

static int run_sh(const char *script, const char *input, int timeout, mkt_buf *err_lines,
		  mkt_spawn_result *r)
{
	const char *argv[] = { "/bin/sh", "-c", script, NULL };
	const char *envp[] = { "PATH=/usr/bin:/bin", "ONLY=this", NULL };
	mkt_spawn_opts o = { .argv = argv, .envp = envp, .input = input,
			     .input_len = input ? strlen(input) : 0, .timeout = timeout,
			     .kill_grace = 1, .on_stderr = collect_line, .ud = err_lines };

	return mkt_spawn_run(&o, r);
}

START_TEST(test_stdout_stderr_status)
{
	mkt_buf err = MKT_BUF_INIT;
	mkt_spawn_result r;

	ck_assert_int_eq(run_sh("echo out; echo 'INFO: one' >&2; printf 'two' >&2; exit 3",
				NULL, 10, &err, &r), 0);
	ck_assert_str_eq(r.output, "out\n");
	ck_assert_str_eq(mkt_buf_cstr(&err), "INFO: one|two|");
	ck_assert_int_eq(r.exit_status, 3);
	ck_assert_int_eq(r.timed_out, 0);
	mkt_spawn_result_clear(&r);
	mkt_buf_free(&err);
}
END_TEST

START_TEST(test_stdin_and_env)
{
	mkt_buf err = MKT_BUF_INIT;
	mkt_spawn_result r;
	char *big = mkt_malloc(1 << 20);

	/* More than a pipe's capacity, to exercise the non-blocking writer. */
	memset(big, 'x', (1 << 20) - 1);
	big[(1 << 20) - 1] = '\0';
	ck_assert_int_eq(run_sh("wc -c", big, 10, &err, &r), 0);
	ck_assert_int_eq(atoi(r.output), (1 << 20) - 1);
	mkt_spawn_result_clear(&r);
	ck_assert_int_eq(run_sh("env | sort", NULL, 10, &err, &r), 0);
	ck_assert_ptr_nonnull(strstr(r.output, "ONLY=this\n"));
	ck_assert_ptr_null(strstr(r.output, "HOME="));
	mkt_spawn_result_clear(&r);
	free(big);
	mkt_buf_free(&err);
}
END_TEST

START_TEST(test_timeout_kills_group)
{
	mkt_buf err = MKT_BUF_INIT;
	mkt_spawn_result r;

	/* The child ignores SIGTERM: SIGKILL must follow after the grace. */
	ck_assert_int_eq(run_sh("trap '' TERM; sleep 30 & sleep 30", NULL, 1, &err, &r), 0);
	ck_assert_int_eq(r.timed_out, 1);
	ck_assert_double_lt(r.elapsed, 10.0);
	mkt_spawn_result_clear(&r);
	mkt_buf_free(&err);
}
END_TEST

START_TEST(test_background_child_does_not_hang)
{
	mkt_buf err = MKT_BUF_INIT;
	mkt_spawn_result r;

	ck_assert_int_eq(run_sh("sleep 30 & echo done", NULL, 20, &err, &r), 0);
	ck_assert_str_eq(r.output, "done\n");
	ck_assert_double_lt(r.elapsed, 5.0);
	mkt_spawn_result_clear(&r);
	mkt_buf_free(&err);
}
END_TEST

START_TEST(test_no_descriptor_leaks)
{
	mkt_buf err = MKT_BUF_INIT;
	mkt_spawn_result r;
	int fd = open("/dev/null", O_RDONLY);   /* no O_CLOEXEC on purpose */

	ck_assert_int_ge(fd, 3);
	ck_assert_int_eq(run_sh("ls /proc/self/fd | sort -n | tr '\\n' ' '", NULL, 10, &err,
				&r), 0);
	/* 0-2, plus the descriptor ls uses to read the directory. */
	ck_assert_str_eq(r.output, "0 1 2 3 ");
	mkt_spawn_result_clear(&r);
	close(fd);
	mkt_buf_free(&err);
}
END_TEST

START_TEST(test_missing_executable)
{
	const char *argv[] = { "/nonexistent/driver", NULL };
	mkt_spawn_opts o = { .argv = argv };
	mkt_spawn_result r;

	ck_assert_int_lt(mkt_spawn_run(&o, &r), 0);
	mkt_spawn_result_clear(&r);
}
END_TEST

START_TEST(test_output_cap)
{
	const char *argv[] = { "/bin/sh", "-c", "head -c 100000 /dev/zero", NULL };
	mkt_spawn_opts o = { .argv = argv, .max_output = 1000 };
	mkt_spawn_result r;

	ck_assert_int_eq(mkt_spawn_run(&o, &r), 0);
	ck_assert_int_eq(r.output_truncated, 1);
	ck_assert_uint_le(r.output_len, 1000);
	mkt_spawn_result_clear(&r);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("spawn");
	TCase *tc = tcase_create("spawn");
	SRunner *sr;
	int failed;

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_stdout_stderr_status);
	tcase_add_test(tc, test_stdin_and_env);
	tcase_add_test(tc, test_timeout_kills_group);
	tcase_add_test(tc, test_background_child_does_not_hang);
	tcase_add_test(tc, test_no_descriptor_leaks);
	tcase_add_test(tc, test_missing_executable);
	tcase_add_test(tc, test_output_cap);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

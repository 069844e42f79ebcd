#!/bin/sh
# Runs one C test program, under valgrind when MKT_TEST_WRAPPER=valgrind
# (collectd's testwrapper.sh idea).  Leaks and errors then fail the test.
if [ "${MKT_TEST_WRAPPER:-}" = valgrind ]; then
	exec valgrind --quiet --error-exitcode=99 --leak-check=full \
		--errors-for-leak-kinds=definite "$@"
fi
exec "$@"

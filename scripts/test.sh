#!/bin/bash
# The test command: installs what the tests need, builds with -Werror and
# runs `make check` (C unit tests and the integration tests that start the
# real marketd on a loopback port).  Prints "N passed, N failed".
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --test
[ -x ./configure ] || autoreconf -fi >/dev/null
./configure --quiet --enable-werror
make -s -j"$(nproc)"
status=0
make -s check -j"$(nproc)" || status=$?
[ $status -eq 0 ] || cat test-suite.log
scripts/test-summary.sh test-suite.log
exit $status

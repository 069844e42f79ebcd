#!/bin/sh
# Build the fuzz targets with clang's libFuzzer and run each for a while:
#   make fuzz [FUZZ_TARGETS='rpc object'] [FUZZ_SECONDS=60] [FUZZ_CC=clang]
#   make fuzz FUZZ_RUNS=10000000      (a campaign: that many inputs a target)
# `make fuzz` sets the variables below from the configured build.  Every
# library source is compiled again with -fsanitize=fuzzer-no-link,address,
# undefined (coverage for the fuzzer, ASan/UBSan/LSan for the crash) into
# test/fuzz/build/, then each target links test/fuzz/<target>_fuzz.c.
#
# A run reads test/fuzz/corpora/<target>/ and writes what it finds to
# test/fuzz/build/corpus/<target>/ (the repository corpus stays as it is;
# copy an input that matters into it by hand).  A crash, leak, timeout or
# UBSan report stops the run: its input is test/fuzz/build/crash/<target>-*;
# the script then goes on with the other targets and fails at the end.
#
# A campaign (FUZZ_RUNS) checks for leaks once, at the end of each target's
# run, instead of after each input whose mallocs and frees do not balance:
# such a check scans the whole heap, and sqlite's and libxml2's caches make
# a few inputs in a hundred look unbalanced, which slows a target ten times.
# A leak of any input is still reported (with its allocation stack), only
# not with the input that made it.  Its hang limit (FUZZ_TIMEOUT, 300 s in
# a campaign, else 10 s) is wall-clock time: a campaign paused to free the
# CPU for a while (kill -STOP) must not report the input it was on.
#
# A campaign also keeps inputs to FUZZ_MAX_LEN (4096, libFuzzer's own
# default without a corpus) bytes, records 8 frames of each allocation's
# stack instead of 30 and quarantines 16 MB of freed memory instead of
# 256: the osb_catalog target had grown inputs of 12 KB and ran at ~650
# inputs/s in 513 MB; so set, 4 000-6 000/s in 82 MB.  Replay an input a
# campaign reports for the full stacks.
set -u

: "${FUZZ_CC:=clang}" "${FUZZ_SECONDS:=60}" "${FUZZ_RUNS:=}" "${MKT_SRCDIR:=.}"
: "${FUZZ_CPPFLAGS:=}" "${FUZZ_LIBS:=}" "${FUZZ_LIB_SRCS:=}"
build=test/fuzz/build
san="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
# The paths configure gives the daemon (AM_CPPFLAGS), for config.c.
dirs='-DMKT_SYSCONFDIR="/etc" -DMKT_LOCALSTATEDIR="/var" -DMKT_LIBEXECDIR="/usr/libexec"'
cflags="-g -O1 $san $dirs"

if ! command -v "$FUZZ_CC" >/dev/null 2>&1; then
	echo "fuzz: $FUZZ_CC not found (apt-get install clang)" >&2
	exit 77
fi
mkdir -p "$build/obj" "$build/bin" "$build/corpus" "$build/crash" || exit 1

# 1. The libraries, once for every target: an object is rebuilt when its
#    source or any header of the tree is newer.
newest_header=$(find "$MKT_SRCDIR/src" "$MKT_SRCDIR/drivers" config.h -name '*.h' \
	-newer "$build/lib.a" 2>/dev/null | head -n 1)
[ -f "$build/lib.a" ] || newest_header=all
obj_of() { echo "$build/obj/$(echo "$1" | tr / _ | sed 's/\.c$/.o/')"; }
objs=""
for src in $FUZZ_LIB_SRCS; do
	case $src in *.c) objs="$objs $(obj_of "$src")" ;; esac
done
for src in $FUZZ_LIB_SRCS; do
	case $src in *.c) ;; *) continue ;; esac
	obj=$(obj_of "$src")
	if [ -n "$newest_header" ] || [ ! -f "$obj" ] || [ "$MKT_SRCDIR/$src" -nt "$obj" ]; then
		echo "$MKT_SRCDIR/$src $obj"
	fi
done | {
	fail=0
	# Two compilers at a time at most: the machines are shared.
	while read -r src obj; do
		echo "  FUZZCC   $obj"
		# shellcheck disable=SC2086
		$FUZZ_CC $cflags -fsanitize=fuzzer-no-link $FUZZ_CPPFLAGS -c "$src" -o "$obj" &
		if [ -n "${pid:-}" ]; then wait "$pid" || fail=1; fi
		pid=$!
	done
	if [ -n "${pid:-}" ]; then wait "$pid" || fail=1; fi
	exit $fail
} || { echo "fuzz: compiling the libraries failed" >&2; exit 1; }
# shellcheck disable=SC2086
rm -f "$build/lib.a" && ar rcs "$build/lib.a" $objs || exit 1

# 2. The targets.
status=0
for t in $FUZZ_TARGETS; do
	echo "  FUZZLD   $build/bin/${t}_fuzz"
	# shellcheck disable=SC2086
	if ! $FUZZ_CC $cflags -fsanitize=fuzzer $FUZZ_CPPFLAGS \
		"$MKT_SRCDIR/test/fuzz/${t}_fuzz.c" "$build/lib.a" $FUZZ_LIBS \
		-o "$build/bin/${t}_fuzz"; then
		echo "fuzz: cannot build $t" >&2
		exit 1
	fi
done

# 3. The runs.
for t in $FUZZ_TARGETS; do
	dict=$MKT_SRCDIR/test/fuzz/dict/$t.dict
	if [ -n "$FUZZ_RUNS" ]; then
		set -- -runs="$FUZZ_RUNS" -detect_leaks=0 -timeout="${FUZZ_TIMEOUT:-300}" \
			-max_len="${FUZZ_MAX_LEN:-4096}"
		what="$FUZZ_RUNS runs"
		asan=detect_leaks=1:malloc_context_size=8:quarantine_size_mb=16
	else
		set -- -max_total_time="$FUZZ_SECONDS" -timeout="${FUZZ_TIMEOUT:-10}"
		what="${FUZZ_SECONDS}s"
		asan=detect_leaks=1
	fi
	set -- "$@" -rss_limit_mb=1024 \
		-print_final_stats=1 -artifact_prefix="$build/crash/$t-"
	[ -f "$dict" ] && set -- "$@" -dict="$dict"
	# The drivers' mappers log a WARN: line per skipped entry (stderr);
	# sanitizer reports still come out.
	case $t in *_catalog) set -- "$@" -close_fd_mask=2 ;; esac
	mkdir -p "$build/corpus/$t"
	echo "=== fuzz $t ($what) ==="
	ASAN_OPTIONS=${ASAN_OPTIONS:-$asan} \
	UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
		"$build/bin/${t}_fuzz" "$@" "$build/corpus/$t" \
		"$MKT_SRCDIR/test/fuzz/corpora/$t" >"$build/$t.log" 2>&1
	rc=$?
	grep -E '^(stat::number_of_executed_units|stat::average_exec_per_sec|stat::peak_rss_mb|#[0-9]+ +DONE)' \
		"$build/$t.log"
	if [ $rc -ne 0 ]; then
		tail -n 60 "$build/$t.log"
		echo "fuzz: $t failed (exit $rc); the input is in $build/crash/, the log $build/$t.log" >&2
		status=1
	fi
done
exit $status

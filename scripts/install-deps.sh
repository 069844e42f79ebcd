#!/bin/sh
# Install what marketd needs to build, run and test on Debian 12 (bookworm).
# Usage: scripts/install-deps.sh [--test]   (--test adds the test tools)
# Runs apt-get as root, or through sudo when not root.  While another apt-get
# or dpkg holds apt's locks it waits, up to APT_LOCK_WAIT seconds (900).
set -eu

BUILD="autoconf automake libtool pkg-config make gcc
	libxml2-dev libcurl4-openssl-dev libsqlite3-dev libarchive-dev
	libjansson-dev libxmlrpc-core-c3-dev libs3-dev libcrypt-dev libssl-dev
	libsodium-dev libmicrohttpd-dev"
# groff-base, man-db (man) and mandoc: test/man_lint.sh lints the man pages;
# apache2-utils (ab): bench/rpc_bench.py's keep-alive clients;
# clang: `make fuzz` (libFuzzer), which .ci/run runs.
TEST="check python3 valgrind sqlite3 groff-base man-db mandoc nginx-light s3cmd
	nodejs npm json-schema-test-suite apache2-utils clang"

pkgs=$BUILD
[ "${1:-}" = "--test" ] && pkgs="$BUILD $TEST"

# Node.js may come from elsewhere (NodeSource's nodejs bundles npm and
# conflicts with Debian's npm): working node and npm commands are enough.
have_node() { command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1; }

missing=""
for p in $pkgs; do
	case $p in nodejs|npm) have_node && continue ;; esac
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0

SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
lock_wait=${APT_LOCK_WAIT:-900}

# apt-get ARGS..., retried every 5 s while another apt-get or dpkg holds a
# lock it needs.  A lock is taken before anything changes, so a retry is safe;
# DPkg::Lock::Timeout alone would not do: apt-get update (apt 2.6) ignores it
# for the lists lock, and apt-get -qq waits without a word.  LC_ALL=C keeps
# apt's message in English for the match; env passes both through sudo.
apt_get() {
	waited=0
	while ! out=$($SUDO env LC_ALL=C DEBIAN_FRONTEND=noninteractive apt-get "$@" 2>&1); do
		case $out in
		*"Could not get lock"*) ;;
		*) echo "$out" >&2; return 1 ;;
		esac
		if [ "$waited" -ge "$lock_wait" ]; then
			echo "$out" >&2
			echo "install-deps: apt is still locked after ${lock_wait}s; is an apt-get or dpkg stuck?" >&2
			return 1
		fi
		if [ "$waited" -eq 0 ]; then
			echo "Waiting for another apt-get or dpkg to finish (up to ${lock_wait}s):"
			echo "$out" | grep "Could not get lock" | head -1
		fi
		sleep 5
		waited=$((waited + 5))
	done
}

echo "Installing:$missing"
apt_get update -qq
# shellcheck disable=SC2086
apt_get install -y -qq --no-install-recommends $missing

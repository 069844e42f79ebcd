#!/bin/sh
# Install what marketd needs to build, run and test on Debian 12 (bookworm).
# Usage: scripts/install-deps.sh [--test]   (--test adds the test tools)
# Runs apt-get as root, or through sudo when not root.
set -eu

BUILD="autoconf automake libtool pkg-config make gcc
	libxml2-dev libcurl4-openssl-dev libsqlite3-dev libarchive-dev
	libjansson-dev libxmlrpc-core-c3-dev libs3-dev libcrypt-dev libssl-dev"
TEST="check python3 valgrind sqlite3 groff-base nginx-light s3cmd nodejs npm
	json-schema-test-suite"

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
echo "Installing:$missing"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null

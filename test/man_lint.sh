#!/bin/sh
# Lint every man page in share/man with the two formatters users read them
# with: mandoc -T lint (every message, style ones included) and groff through
# man-db with all of groff's warnings (man --warnings=w).  Any message, or a
# missing tool, fails the test; the messages name the page and the line.
#   MKT_SRCDIR=. sh test/man_lint.sh
set -u
src=${MKT_SRCDIR:-.}

for tool in mandoc man; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "man_lint: '$tool' not found; scripts/install-deps.sh --test installs it (packages mandoc, man-db)"
		exit 1
	fi
done

status=0
pages=0
for page in "$src"/share/man/*.[1-9]; do
	[ -f "$page" ] || continue
	pages=$((pages + 1))
	bad=0

	out=$(mandoc -T lint -W style "$page" 2>&1)
	rc=$?
	if [ $rc -ne 0 ] || [ -n "$out" ]; then
		echo "FAIL: mandoc -T lint $page (exit $rc):"
		echo "$out"
		bad=1
	fi

	# man reads the page through preconv/tbl into groff, as for a reader;
	# a fixed width keeps line-breaking warnings the same on every terminal.
	out=$(LC_ALL=C.UTF-8 MANWIDTH=80 MANPAGER=cat PAGER=cat \
		man --warnings=w -l "$page" 2>&1 >/dev/null)
	rc=$?
	if [ $rc -ne 0 ] || [ -n "$out" ]; then
		echo "FAIL: man --warnings=w -l $page (exit $rc):"
		echo "$out"
		bad=1
	fi
	if [ $bad -eq 0 ]; then echo "ok: $page"; else status=1; fi
done

if [ $pages -eq 0 ]; then
	echo "man_lint: no man page found in $src/share/man"
	exit 1
fi
exit $status

# common.sh: what the four actions of the dummy driver share.  Sourced by
# import, export, delete and monitor; not run on its own.
#
# The dummy driver keeps each app as a file in the directory named by the
# marketplace template attribute DIR:  DIR/app-<app id>, SOURCE
# "dummy://app-<app id>".  It needs a POSIX shell, coreutils (md5sum, df,
# mktemp) and python3, used only to read the action document (XML).
#
# The protocol in one paragraph (share/doc/drivers.md has it all): marketd
# runs DRIVER_DIR/<driver>/<action> with the action document, an XML
# <MARKET_DRIVER_ACTION_DATA>, on stdin (argv[1] is its base64 or "-",
# argv[2] the object id).  The result goes to stdout as KEY="value" lines;
# stderr carries "ERROR: ", "WARN: ", "INFO: ", "DEBUG: " lines and
# "PROGRESS <done> <total>".  Exit 0 on success, 1 when the action failed,
# 2 for bad input, 3 for an action the driver does not support.

set -u

ACTION=$(basename "$0")
DOC=""        # the action document, saved to a file by read_document
CLEANUP=""    # files to remove on exit (temporary copies)

cleanup() {
	# shellcheck disable=SC2086
	[ -z "$CLEANUP" ] || rm -f $CLEANUP
	[ -z "$DOC" ] || rm -f "$DOC"
}
trap cleanup EXIT
# On marketd's timeout (SIGTERM) leave through the EXIT trap, so no
# temporary file stays behind.
trap 'exit 143' TERM
trap 'exit 130' INT

# log LEVEL MESSAGE: a log line for marketd (LEVEL: ERROR WARN INFO DEBUG).
log() {
	printf '%s: %s\n' "$1" "$2" >&2
}

# fail STATUS MESSAGE: report an error and exit with STATUS (1 or 2).
fail() {
	log ERROR "$2"
	exit "$1"
}

# progress DONE TOTAL: bytes done so far, of TOTAL (0 when unknown).
progress() {
	printf 'PROGRESS %s %s\n' "$1" "$2" >&2
}

# result KEY VALUE: one line of the result, in template syntax.  Print
# results last, once the action has succeeded: stdout must hold nothing
# else, and nothing at all when the action fails.
result() {
	printf '%s="%s"\n' "$1" "$(printf '%s' "$2" | sed 's/[\\"]/\\&/g')"
}

# read_document: save stdin (marketd always writes the document there) and
# check that it is an action document for this action; exit 2 otherwise.
read_document() {
	DOC=$(mktemp "${TMPDIR:-/tmp}/dummy-doc.XXXXXX") || fail 1 "cannot create a temporary file"
	cat > "$DOC"
	python3 - "$DOC" "$ACTION" <<'EOF' || exit 2
import sys
import xml.etree.ElementTree as ET

try:
    root = ET.parse(sys.argv[1]).getroot()
except (ET.ParseError, OSError) as e:
    sys.exit("ERROR: cannot read the action document: %s" % e)
if root.tag != "MARKET_DRIVER_ACTION_DATA":
    sys.exit("ERROR: the action document's root is <%s>" % root.tag)
action = (root.findtext("ACTION") or "").strip()
if action and action != sys.argv[2]:
    sys.exit("ERROR: the action document is for %s, not %s" % (action, sys.argv[2]))
EOF
}

# xml_get PATH: text of the element at PATH under the document root, e.g.
# MARKETPLACE/TEMPLATE/DIR; empty when there is no such element.
xml_get() {
	python3 - "$DOC" "$1" <<'EOF'
import sys
import xml.etree.ElementTree as ET

node = ET.parse(sys.argv[1]).getroot().find(sys.argv[2])
if node is not None:
    sys.stdout.write("".join(node.itertext()).strip())
EOF
}

# load_market: DIR, the marketplace's directory (a required attribute).
load_market() {
	DIR=$(xml_get MARKETPLACE/TEMPLATE/DIR)
	[ -n "$DIR" ] || fail 2 "the marketplace template has no DIR attribute (required by the dummy driver)"
	case $DIR in
	/*) ;;
	*) fail 2 "DIR \"$DIR\" is not an absolute path" ;;
	esac
}

# app_file: the app's file name from its SOURCE (dummy://<name>); exit 2
# for a SOURCE this driver did not make.
app_file() {
	SOURCE=$(xml_get MARKETPLACEAPP/SOURCE)
	NAME=${SOURCE#dummy://}
	case $SOURCE:$NAME in
	dummy://*:app-*) ;;
	*) fail 2 "SOURCE \"$SOURCE\" is not a dummy://app-<id> URL" ;;
	esac
	case $NAME in
	*/* | *..*) fail 2 "SOURCE \"$SOURCE\" is not a dummy://app-<id> URL" ;;
	esac
}

# size_mb BYTES: the protocol's SIZE, in MB rounded up.
size_mb() {
	echo $((($1 + 1048575) / 1048576))
}

# md5_of FILE
md5_of() {
	md5sum < "$1" | cut -d' ' -f1
}

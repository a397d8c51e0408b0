#!/bin/sh
# make conformance: start a gateway as conformance/suite.yaml says (a fresh
# temporary store holding the conformance world, the suite's frozen clock and
# gateway ASID, free ports for the SOAP endpoint and the admin listener),
# replay the whole corpus against it with the admin listener (so that the
# notification cases run too), write the JUnit and HTML reports, stop the
# gateway. The exit status is replay's: non-zero when any case fails.
#
#   BIN  the spinegw binary (default bin/spinegw, as `make build` makes it)
#   OUT  where the reports go (default bin/conformance)
set -eu
cd "$(dirname "$0")/.."
BIN=${BIN:-bin/spinegw}
OUT=${OUT:-bin/conformance}
SUITE=conformance/suite.yaml

[ -x "$BIN" ] || { echo "conformance: $BIN not found: run make build first" >&2; exit 2; }

# suite.yaml is flat `key: value` YAML.
suite() { sed -n "s/^$1:[[:space:]]*\"\{0,1\}\([^\"#]*[^\"#[:space:]]\)\"\{0,1\}.*/\1/p" "$SUITE"; }
clock=$(suite clock)
asid=$(suite gateway_asid)
world=conformance/$(suite world)
[ -n "$clock" ] && [ -n "$asid" ] && [ -f "$world" ] || { echo "conformance: cannot read $SUITE" >&2; exit 2; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/spinegw-conformance.XXXXXX")
pid=
cleanup() {
	if [ -n "$pid" ]; then
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The world is loaded into a store of its own; nothing outside $tmp is read
# or written but the reports.
"$BIN" serve --listen 127.0.0.1:0 --admin-listen 127.0.0.1:0 --db "$tmp/spinegw.db" \
	--mailbox-dir "$tmp/mailbox" --world "$world" --clock "$clock" --asid "$asid" \
	>"$tmp/serve.out" 2>"$tmp/serve.log" &
pid=$!

i=0
until grep -q '^LA uploads:' "$tmp/serve.out" 2>/dev/null; do
	if ! kill -0 "$pid" 2>/dev/null; then
		echo "conformance: the gateway did not start:" >&2
		cat "$tmp/serve.out" "$tmp/serve.log" >&2
		pid=
		exit 2
	fi
	i=$((i + 1))
	[ "$i" -le 200 ] || { echo "conformance: the gateway was not ready after 20 s" >&2; exit 2; }
	sleep 0.1
done
target=$(sed -n 's/^spinegw listening on \(http:[^ ]*\) .*/\1/p' "$tmp/serve.out")
admin=$(sed -n 's/.*admin POST \(http:[^ ]*\)\/admin\/clock.*/\1/p' "$tmp/serve.out")
[ -n "$target" ] && [ -n "$admin" ] || { echo "conformance: cannot tell the gateway's addresses:" >&2; cat "$tmp/serve.out" >&2; exit 2; }

echo "conformance: gateway $target (admin $admin), world $world, clock $clock, ASID $asid"
mkdir -p "$OUT"
status=0
"$BIN" replay conformance/cases --target "$target" --admin "$admin" \
	--junit "$OUT/junit.xml" --html "$OUT/report.html" || status=$?
echo "conformance: reports in $OUT/junit.xml and $OUT/report.html"
exit "$status"

#!/usr/bin/env bash
# Runs every test and ends with the line CI reads: "N passed, N failed".
# Each suite prints TAP-style "ok - ..." / "not ok - ..." lines.
#   BUILD=build|build-san  which build to test (make sets it)
set -u
cd "$(dirname "$0")/.."
ROOT=$PWD
BUILD=${BUILD:-build}
export SYNTH_ROOT=$ROOT SYNTH_BUILD=$ROOT/$BUILD
LOG=$(mktemp)
trap 'rm -f "$LOG"' EXIT


run_suite() {
	local name=$1; shift
	echo "# begin $name" >>"$LOG"
	local out rc t0
	t0=$(date +%s)
	out=$("$@" 2>&1); rc=$?
	printf '%s\n' "$out" >>"$LOG"
	local p f
	p=$(printf '%s\n' "$out" | grep -c '^ok ' || true)
	f=$(printf '%s\n' "$out" | grep -c '^not ok ' || true)
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "not ok - suite $name exited with status $rc" >>"$LOG"
		f=1
		printf '%s\n' "$out" | tail -20
	fi
	printf '%-28s %4d passed, %d failed  (%ds)\n' "$name" "$p" "$f" $(($(date +%s) - t0))
	printf '%s\n' "$out" | grep '^not ok' -A3 || true
}

for t in "$BUILD"/test/test_*; do
	[ -x "$t" ] || continue
	run_suite "unit/$(basename "$t")" "$t"
done
for t in test/cli/*.sh; do
	[ -f "$t" ] || continue
	run_suite "cli/$(basename "$t" .sh)" bash "$t"
done
if [ "${SAN:-}" != 1 ]; then
	run_suite "spec-checker" bash test/spec/run_tests.sh
fi

passed=$(grep -c '^ok ' "$LOG" || true)
failed=$(grep -c '^not ok ' "$LOG" || true)
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]

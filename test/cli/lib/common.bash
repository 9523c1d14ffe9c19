# Shared helpers for test/cli/*.sh (sourced; not a test itself: test/run.sh
# runs only test/cli/*.sh). Each assertion prints one TAP-style line,
# "ok - ..." or "not ok - ..." with "#"-prefixed diagnostics; `finish`
# ends the script with status 0 only if every assertion passed.
#
# Environment (set by test/run.sh; defaults for running a script by hand):
#   SYNTH_ROOT   the repository root
#   SYNTH_BUILD  absolute path of the build directory under test

set -u
SYNTH_ROOT=${SYNTH_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)}
SYNTH_BUILD=${SYNTH_BUILD:-$SYNTH_ROOT/build}
SYNTH=$SYNTH_BUILD/synth
SPEC=$SYNTH_ROOT/test/spec
SYSPY=/usr/bin/python3
export SYNTH_ROOT SYNTH_BUILD
# Sanitized builds: leaks are errors, and a crash report should not hide
# the test's own output.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

T_PASSED=0
T_FAILED=0

# Temporary directory for the whole script, removed on exit.
TMP=$(mktemp -d "${TMPDIR:-/tmp}/synth-cli.XXXXXX")
trap 'rm -rf "$TMP"' EXIT

pass() { echo "ok - $*"; T_PASSED=$((T_PASSED + 1)); }
fail() { echo "not ok - $*"; T_FAILED=$((T_FAILED + 1)); }
diag() { printf '%s\n' "$@" | sed 's/^/#   /'; }
# diag_file FILE [LINES]: the first lines of FILE as diagnostics.
diag_file() { head -n "${2:-20}" "$1" 2>/dev/null | sed 's/^/#   /'; }

# check DESCRIPTION COMMAND...: passes when COMMAND succeeds.
check() {
	local d=$1
	shift
	if "$@"; then pass "$d"; else fail "$d"; fi
}

# check_eq DESCRIPTION GOT EXPECTED
check_eq() {
	if [ "$2" = "$3" ]; then
		pass "$1"
	else
		fail "$1"
		diag "got:      $2" "expected: $3"
	fi
}

# check_contains DESCRIPTION TEXT NEEDLE
check_contains() {
	case $2 in
	*"$3"*) pass "$1" ;;
	*) fail "$1"; diag "expected to contain: $3" "in:"; printf '%s\n' "$2" | head -n 15 | sed 's/^/#     /' ;;
	esac
}

# check_not_contains DESCRIPTION TEXT NEEDLE
check_not_contains() {
	case $2 in
	*"$3"*) fail "$1"; diag "expected not to contain: $3" "in:"; printf '%s\n' "$2" | head -n 15 | sed 's/^/#     /' ;;
	*) pass "$1" ;;
	esac
}

# check_match DESCRIPTION TEXT ERE: TEXT matches the extended regex ERE.
check_match() {
	if printf '%s\n' "$2" | grep -Eq -- "$3"; then
		pass "$1"
	else
		fail "$1"; diag "expected to match: $3" "in:"; printf '%s\n' "$2" | head -n 15 | sed 's/^/#     /'
	fi
}

finish() {
	echo "# $T_PASSED passed, $T_FAILED failed"
	[ "$T_FAILED" -eq 0 ]
	exit $?
}

# copy_sample SRC DEST: a clean copy of a backend directory (no build cache,
# no previous assembly).
copy_sample() {
	mkdir -p "$2"
	(cd "$1" && tar --exclude=./.synth --exclude=./cdk.out --exclude='./cdk.out.*' -cf - .) |
		(cd "$2" && tar -xf -)
}

# synth_in DIR ARGS...: runs the CLI in DIR; stdout in $OUT, stderr in $ERR,
# exit status in $RC.
synth_in() {
	local dir=$1
	shift
	OUT=$(cd "$dir" && "$SYNTH" "$@" 2>"$TMP/.stderr")
	RC=$?
	ERR=$(cat "$TMP/.stderr")
}

# is_san: true when testing the sanitizer build.
is_san() { case $SYNTH_BUILD in *build-san | *build-san/) return 0 ;; esac; return 1; }

# spec_ready: the spec checker's dependencies are installed (idempotent).
spec_ready() {
	if [ -z "${SPEC_READY:-}" ]; then
		if bash "$SPEC/setup.sh" >"$TMP/.setup.log" 2>&1; then SPEC_READY=1; else SPEC_READY=0; fi
	fi
	[ "$SPEC_READY" = 1 ]
}

# cfn_lint_ok DESCRIPTION FILES...: cfn-lint reports no error (exit bits 1|2
# clear; warnings and informational findings are allowed).
cfn_lint_ok() {
	local d=$1
	shift
	if ! command -v cfn-lint >/dev/null; then
		fail "$d"; diag "cfn-lint is not on PATH"; return
	fi
	local out rc
	out=$(cfn-lint --format parseable -- "$@" 2>&1)
	rc=$?
	CFN_LINT_OUT=$out # for further checks (warnings)
	if (((rc & 3) == 0)); then
		pass "$d"
	else
		fail "$d"; diag "cfn-lint exit $rc"
		printf '%s\n' "$out" | grep -v ':W[0-9]*:\|:I[0-9]*:' | head -n 20 | sed 's/^/#     /'
	fi
}

# cfnspec_ok DESCRIPTION FILES...
cfnspec_ok() {
	local d=$1
	shift
	if ! spec_ready; then
		fail "$d"; diag "test/spec/setup.sh failed:"; diag_file "$TMP/.setup.log"; return
	fi
	local out
	if out=$(python3 "$SPEC/cfnspec.py" "$@" 2>&1); then
		pass "$d"
	else
		fail "$d"; printf '%s\n' "$out" | grep -v '^ok ' | head -n 20 | sed 's/^/#     /'
	fi
}

# assembly_ok DESCRIPTION DIR: check_assembly.py accepts the cloud assembly.
assembly_ok() {
	if ! spec_ready; then
		fail "$1"; diag "test/spec/setup.sh failed:"; diag_file "$TMP/.setup.log"; return
	fi
	local out
	if out=$("$SYSPY" "$SPEC/check_assembly.py" "$2" 2>&1); then
		pass "$1"
	else
		fail "$1"; printf '%s\n' "$out" | head -n 20 | sed 's/^/#     /'
	fi
}

# stray_staging DIR: lists leftover staging directories in DIR.
stray_staging() {
	find "$1" -maxdepth 1 \( -name '*.tmp*' -o -name '*.stage*' -o -name '*.old.*' \) -print 2>/dev/null
}

# poll_until DEADLINE_S CMD...: runs CMD until it succeeds (status 0) or
# DEADLINE_S seconds have passed (then status 1). For tests that wait: the
# machine may be loaded (CI runners, suites run side by side), so wait for
# the condition with a generous deadline, never for a fixed time. CMD runs
# in this shell, so the variables it sets (e.g. $OUT) are seen afterwards.
poll_until() {
	local end=$((SECONDS + $1))
	shift
	until "$@"; do
		[ $SECONDS -lt $end ] || return 1
		sleep 0.1
	done
}

#!/usr/bin/env bash
# bench/karaoke.sh: a warm `synth --branch main -q` of samples/karaoke (126
# resources, 9 Python functions in 4 zips, one stack), whole process: the
# CLI's cache check, the backend program, the spec check, the assembly
# written. One cold run first (compiles backend.c and the five resource.c,
# zips the code), then RUNS warm runs: median, min and max wall time,
# against the target.
#
# The anchor: the same application as an AWS CDK app (SST/CDK in
# TypeScript), whose `cdk synth` takes about 15 s on this machine (issue
# #13, measured there; CDK is not installed here, so it is quoted, not run).
#
# Not a timed test (as bench/run.sh): it prints the figure beside the
# target and exits 0 either way. Where the time goes, in two more medians:
# the same with --no-validate (no spec check), and the cached backend
# program alone (no CLI).
#
# Environment: BUILD (default build), RUNS (default 10), TARGET_MS (default
# 12), BENCH_TMPDIR (default /dev/shm when there is one, else /tmp).
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
RUNS=${RUNS:-10}
TARGET_MS=${TARGET_MS:-12}
CDK_ANCHOR_MS=15000
BASE=${BENCH_TMPDIR:-$([ -d /dev/shm ] && [ -w /dev/shm ] && echo /dev/shm || echo /tmp)}
W=$(mktemp -d "$BASE/synth-karaoke-bench.XXXXXX")
trap 'rm -rf "$W"' EXIT

ns() { date +%s%N; }

mkdir -p "$W/karaoke"
(cd samples/karaoke && tar --exclude=./.synth --exclude=./cdk.out --exclude=./tests -cf - .) | (cd "$W/karaoke" && tar -xf -)
cd "$W/karaoke"
t0=$(ns)
"$BUILD/synth" --branch main -q
t1=$(ns)
echo "karaoke: cold synth (compile backend.c + 5 resource.c, zip 4 code dirs): $(( (t1 - t0) / 1000000 )) ms"
"$BUILD/synth" --branch main -q   # warm-up: caches in place

times=()
for _ in $(seq "$RUNS"); do
	t0=$(ns)
	"$BUILD/synth" --branch main -q
	t1=$(ns)
	times+=($(( (t1 - t0) / 1000 )))   # microseconds
done
sorted=$(printf '%s\n' "${times[@]}" | sort -n)
stat() { awk -v n="$RUNS" '{a[NR]=$1} END {
	med = (n % 2) ? a[(n+1)/2] : (a[n/2] + a[n/2+1]) / 2
	printf "%.1f %.1f %.1f\n", med / 1000, a[1] / 1000, a[n] / 1000 }'; }
read -r median min max < <(printf '%s\n' "$sorted" | stat)
resources=$(python3 -c 'import json,glob; print(len(json.load(open(glob.glob("cdk.out/*.template.json")[0]))["Resources"]))' 2>/dev/null || echo "?")
verdict=$(awk -v m="$median" -v t="$TARGET_MS" 'BEGIN { print (m <= t) ? "within" : "OVER" }')
echo "karaoke: warm synth --branch main -q ($resources resources): median $median ms (min $min, max $max, $RUNS runs); target <= $TARGET_MS ms: $verdict"
echo "karaoke: anchor: the CDK karaoke app's cdk synth ~$((CDK_ANCHOR_MS / 1000)) s on this machine (issue #13; not run here): $(awk -v m="$median" -v a="$CDK_ANCHOR_MS" 'BEGIN { printf "%.0fx", a / m }') faster"
median_of() { # CMD...: the median of RUNS runs, ms
	local a=() t0 t1
	for _ in $(seq "$RUNS"); do
		t0=$(ns); "$@" >/dev/null; t1=$(ns)
		a+=($(( (t1 - t0) / 1000 )))
	done
	printf '%s\n' "${a[@]}" | sort -n | stat | cut -d' ' -f1
}
echo "karaoke:   of which: without the spec check (--no-validate) $(median_of "$BUILD/synth" --branch main -q --no-validate) ms;" \
	"the backend program alone (.synth/backend) $(median_of ./.synth/backend --context synth:type=branch --context synth:name=main --out "$W/alone") ms;" \
	"/bin/true $(median_of /bin/true) ms"

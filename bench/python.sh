#!/usr/bin/env bash
# bench/python.sh: a backend with Python functions whose requirements.txt
# names local wheels (test/python/make_wheel.py; no network: PIP_FIND_LINKS
# + PIP_NO_INDEX), synthesized once (pip runs: the cold figure), then
# re-synthesized RUNS times with nothing changed: the median, min and max
# wall time of the `synth` command, and the proof that no pip ran (python3
# on PATH is replaced by one that logs and fails for those runs).
#
# Environment: BUILD (default build), RUNS (default 10), PKGS (wheels in
# requirements.txt, default 8), BENCH_TMPDIR (default /dev/shm when there
# is one, else /tmp).
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
RUNS=${RUNS:-10}
PKGS=${PKGS:-8}
BASE=${BENCH_TMPDIR:-$([ -d /dev/shm ] && [ -w /dev/shm ] && echo /dev/shm || echo /tmp)}
W=$(mktemp -d "$BASE/synth-pybench.XXXXXX")
trap 'rm -rf "$W"' EXIT
REAL_PY=$(command -v python3)

ms() { echo $(( $(date +%s%N) / 1000000 )); }

# The backend: test/python/app with PKGS wheels in its requirements.
cp -r "$ROOT/test/python/app" "$W/app"
"$REAL_PY" "$ROOT/test/python/make_wheel.py" "$W/wheels" >/dev/null
echo 'synthdemo==1.0' >"$W/app/functions/api/requirements.txt"
for i in $(seq 2 "$PKGS"); do
	"$REAL_PY" "$ROOT/test/python/make_wheel.py" "$W/wheels" "benchpkg$i" "1.$i" >/dev/null
	echo "benchpkg$i==1.$i" >>"$W/app/functions/api/requirements.txt"
done
unset PIP_INDEX_URL PIP_EXTRA_INDEX_URL
export PIP_FIND_LINKS=$W/wheels PIP_NO_INDEX=1

mkdir -p "$W/bin"
printf '#!/bin/sh\necho "$*" >>%s/py.log\nexec %s "$@"\n' "$W" "$REAL_PY" >"$W/bin/python3"
chmod +x "$W/bin/python3"
export PATH=$W/bin:$PATH
: >"$W/py.log"

cd "$W/app"
t0=$(ms)
"$BUILD/synth" --branch main -q
t1=$(ms)
cold_runs=$(grep -c '^-m pip install' "$W/py.log" || true)
echo "python: cold synth (pip installs $PKGS packages for 2 platforms): $((t1 - t0)) ms, pip runs: $cold_runs"

# Unchanged: python3 now fails if anything runs it.
printf '#!/bin/sh\necho "$*" >>%s/py.log\nexit 97\n' "$W" >"$W/bin/python3"
: >"$W/py.log"
zip_before=$(ls cdk.out/asset.*.zip | sort | xargs sha256sum)
times=()
for _ in $(seq "$RUNS"); do
	t0=$(ms)
	"$BUILD/synth" --branch main -q
	t1=$(ms)
	times+=($((t1 - t0)))
done
sorted=$(printf '%s\n' "${times[@]}" | sort -n)
median=$(printf '%s\n' "$sorted" | awk -v n="$RUNS" '{a[NR]=$1} END {print (n % 2) ? a[(n+1)/2] : (a[n/2] + a[n/2+1]) / 2}')
min=$(printf '%s\n' "$sorted" | head -1)
max=$(printf '%s\n' "$sorted" | tail -1)
runs=$(wc -l <"$W/py.log" | tr -d ' ')
zip_after=$(ls cdk.out/asset.*.zip | sort | xargs sha256sum)
same=$([ "$zip_before" = "$zip_after" ] && echo yes || echo NO)
echo "python: re-synth, nothing changed: median $median ms (min $min, max $max, $RUNS runs)"
echo "python: python3 runs during the re-synths: $runs (must be 0); zips byte-identical: $same"
[ "$runs" = 0 ] && [ "$same" = yes ]

#!/usr/bin/env bash
# All tests: install what is missing, then the test suite on a normal build
# and again on an AddressSanitizer + UBSan build. Ends with the line
# "N passed, N failed" summing both runs.
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh || exit 1
bash test/spec/setup.sh >/dev/null || exit 1
make -s all test-bin || exit 1
make -s SAN=1 all test-bin || exit 1
out=$(mktemp)
trap 'rm -f "$out"' EXIT
echo "== tests (build/) =="
BUILD=build bash test/run.sh | tee "$out"; rc1=${PIPESTATUS[0]}
echo "== tests (build-san/, ASan + UBSan) =="
BUILD=build-san SAN=1 bash test/run.sh | tee -a "$out"; rc2=${PIPESTATUS[0]}
p=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$out" | awk '{s+=$1} END {print s+0}')
f=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$out" | awk '{s+=$3} END {print s+0}')
echo "$p passed, $f failed"
[ "$rc1" -eq 0 ] && [ "$rc2" -eq 0 ] && [ "$f" -eq 0 ]

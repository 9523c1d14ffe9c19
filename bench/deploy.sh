#!/usr/bin/env bash
# Deploy timings against the local peers (client side): the no-op redeploy
# of samples/hello (synth + DescribeStacks + GetTemplate; target < 300 ms),
# the same with --assembly (the deployer alone, no synth), and a first
# deploy of a new branch stack with the endpoint's simulated waits set to 0
# (wall time, and the synth process's CPU time). Medians of RUNS (default 7).
#   bench/deploy.sh [RUNS]          (SYNTH_BUILD=build-dir to pick a build)
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${SYNTH_BUILD:-$ROOT/build}
SYNTH=$BUILD/synth
RUNS=${1:-7}
T=$(mktemp -d)
export PEERS_DIR=$T/peers
trap 'bash "$ROOT/test/peers/peers.sh" stop >/dev/null 2>&1; rm -rf "$T"' EXIT
bash "$ROOT/test/peers/setup.sh" >/dev/null 2>&1
eval "$(bash "$ROOT/test/peers/peers.sh" start 2>/dev/null)" || { echo "peers did not start" >&2; exit 1; }
export AWS_ENDPOINT_URL_SSM=${AWS_ENDPOINT_URL_SSM:-$AWS_ENDPOINT_URL_CLOUDFORMATION}
export AWS_CONFIG_FILE=$T/none AWS_SHARED_CREDENTIALS_FILE=$T/none CI=true SYNTH_POLL_MS=20,200
curl -sS -X POST "$PEERS_ADMIN_CFN/cfn/settings" -d '{"step_ms":0,"changeset_ms":0}' >/dev/null
W=$T/hello
mkdir -p "$W"
(cd "$ROOT/samples/hello" && tar --exclude=./.synth --exclude=./cdk.out -cf - .) | (cd "$W" && tar -xf -)
aws --region us-east-1 --endpoint-url "$AWS_ENDPOINT_URL_SSM" ssm put-parameter \
	--name /synth/hello/shared/API_KEY --type SecureString --value bench >/dev/null
(cd "$W" && "$SYNTH" bootstrap >/dev/null) || exit 1

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
# timed ARGS...: wall ms and CPU ms (user+sys of the command and its children), "WALL CPU"
timed() {
	local t0 t1
	t0=$(date +%s%N)
	/usr/bin/env time -f '%U %S' -o "$T/cpu" "$SYNTH" "$@" >/dev/null 2>"$T/err" </dev/null || { cat "$T/err" >&2; return 1; }
	t1=$(date +%s%N)
	echo "$(((t1 - t0) / 1000000)) $(awk '{printf "%d", ($1+$2)*1000}' "$T/cpu")"
}
cd "$W"
first_wall=() first_cpu=()
for i in $(seq "$RUNS"); do
	r=$(timed deploy --branch "bench$i" -q) || exit 1
	first_wall+=("${r% *}") first_cpu+=("${r#* }")
done
"$SYNTH" deploy --branch main -q >/dev/null 2>&1
noop=() noop_cpu=() asm=()
for i in $(seq "$RUNS"); do
	r=$(timed deploy --branch main -q) || exit 1
	noop+=("${r% *}") noop_cpu+=("${r#* }")
	r=$(timed deploy --branch main --assembly cdk.out -q) || exit 1
	asm+=("${r% *}")
done
todo=()
if [ -f "$ROOT/samples/todo/backend.c" ]; then
	TD=$T/todo
	mkdir -p "$TD"
	(cd "$ROOT/samples/todo" && tar --exclude=./.synth --exclude=./cdk.out -cf - .) | (cd "$TD" && tar -xf -)
	(cd "$TD" && "$SYNTH" deploy --branch main -q >/dev/null 2>&1) || { echo "todo: first deploy failed" >&2; exit 1; }
	for i in $(seq "$RUNS"); do
		r=$(cd "$TD" && timed deploy --branch main -q) || exit 1
		todo+=("${r% *}")
	done
fi
printf 'deploy (samples/hello, %d runs, medians; endpoint step delay 0):\n' "$RUNS"
printf '  no-op redeploy (synth + check):  %4d ms wall  %4d ms CPU   (target < 300 ms)\n' \
	"$(printf '%s\n' "${noop[@]}" | median)" "$(printf '%s\n' "${noop_cpu[@]}" | median)"
printf '  no-op redeploy, --assembly:      %4d ms wall\n' "$(printf '%s\n' "${asm[@]}" | median)"
printf '  first deploy of a branch stack:  %4d ms wall  %4d ms CPU\n' \
	"$(printf '%s\n' "${first_wall[@]}" | median)" "$(printf '%s\n' "${first_cpu[@]}" | median)"
[ ${#todo[@]} -eq 0 ] ||
	printf '  todo: no-op redeploy:            %4d ms wall                (target < 300 ms)\n' \
		"$(printf '%s\n' "${todo[@]}" | median)"

#!/usr/bin/env bash
# The main job on the built-in sample: install what is missing, build
# libsynth and the synth CLI, synthesize samples/todo (auth, data, storage,
# functions) for branch main, then deploy it to the local AWS peers
# (test/peers: S3, CloudFormation, STS, SSM on 127.0.0.1; no AWS account
# needed) and show the amplify_outputs.json the deploy wrote. A second
# deploy shows the no-change path. The peers are stopped at the end.
#   bash scripts/demo.sh               synth + deploy to the local peers
#   bash scripts/demo.sh --synth-only  synth only (no npm/Python peers needed)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
bash scripts/deps.sh
make -s
SYNTH=$ROOT/build/synth
WORK=$(mktemp -d)
export PEERS_DIR=$WORK/peers
cleanup() {
	[ -d "$PEERS_DIR" ] && bash "$ROOT/test/peers/peers.sh" stop >/dev/null 2>&1 || true
	rm -rf "$WORK"
}
trap cleanup EXIT
# A copy, so the sample's directory stays clean (the namespace is the
# directory's name: keep it).
mkdir -p "$WORK/todo"
(cd samples/todo && tar --exclude=./.synth --exclude=./cdk.out -cf - .) | (cd "$WORK/todo" && tar -xf -)
cd "$WORK/todo"
echo "== synth --branch main (samples/todo)"
"$SYNTH" --branch main
[ "${1:-}" = --synth-only ] && exit 0

echo "== local AWS peers"
bash "$ROOT/test/peers/setup.sh" >"$WORK/setup.log" 2>&1 || { cat "$WORK/setup.log"; exit 1; }
eval "$(bash "$ROOT/test/peers/peers.sh" start)"
echo "== synth bootstrap"
"$SYNTH" bootstrap
echo "== synth deploy --branch main"
CI=true "$SYNTH" deploy --branch main --outputs "$WORK/amplify_outputs.json"
echo "== amplify_outputs.json (categories and a few values)"
python3 - "$WORK/amplify_outputs.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
print("version", c["version"], "categories:", ", ".join(k for k in sorted(c) if k != "version"))
print("auth.user_pool_id:", c["auth"]["user_pool_id"])
print("data.url:", c["data"]["url"], "default auth:", c["data"]["default_authorization_type"])
print("data models:", ", ".join(sorted(c["data"].get("model_introspection", {}).get("models", {}))))
print("storage.bucket_name:", c["storage"]["bucket_name"])
PY
echo "== synth deploy --branch main, again (nothing changed)"
t0=$(date +%s%N)
CI=true "$SYNTH" deploy --branch main --outputs "$WORK/amplify_outputs.json"
echo "(took $((($(date +%s%N) - t0) / 1000000)) ms)"

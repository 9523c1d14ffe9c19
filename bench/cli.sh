#!/usr/bin/env bash
# bench/cli.sh: the whole `synth` command, as a user runs it (`make bench`).
#
#   1. samples/todo and samples/karaoke: `synth --branch main -q` with the
#      build cache warm and the spec check on, whole process (fork, exec,
#      dynamic loading, the cache check, the backend program, the spec
#      check, the swap), median of RUNS runs against the targets of issues
#      #10 and #13 (10 ms, 12 ms); then where the time goes: the same with
#      --no-validate, the cached backend program alone, `synth --help` (the
#      CLI's own start-up), /bin/true (fork + exec), and the spec check
#      redone in full (without the list of templates that passed before).
#   2. The anchors, measured in the same run: samples/todo written as an
#      Amplify Gen2 app (bench/anchor/todo: amplify/backend.ts and its
#      auth, data, storage and function resources), synthesized the way
#      Amplify's deployer does it: `cdk synth --app 'tsx amplify/backend.ts'`
#      with the backend identifier in the context (amplify-backend-namespace,
#      -name, -type=branch); and samples/karaoke written as a CDK app
#      (bench/anchor/karaoke/app.ts, L2 constructs, the same Python code).
#      Offline: no AWS call (no credentials, no instance metadata, no
#      notices or version check). The npm packages (pinned in
#      bench/anchor/package.json) are installed once into bench/.anchor and
#      reused. Printed as a median of ANCHOR_RUNS runs and as the ratio to
#      synth's median. When they cannot run (no npm, no registry), the
#      reason and the last known figures are printed instead.
#
# Not a timed test: it prints figures beside targets and exits 0 either way
# (1 only if a synth itself fails). Wall times come from bench/runbench.c
# (fork + exec + wait4 around the child's whole life). The load average is
# printed before and after: the figures are only as quiet as the machine.
#
# Environment: BUILD (default build), RUNS (default 21), ANCHOR=0 skips the
# anchor, ANCHOR_RUNS (default 3), BENCH_TMPDIR (default /dev/shm when
# there is one, else /tmp).
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
RUNS=${RUNS:-21}
ANCHOR=${ANCHOR:-1}
ANCHOR_RUNS=${ANCHOR_RUNS:-3}
BASE=${BENCH_TMPDIR:-$([ -d /dev/shm ] && [ -w /dev/shm ] && echo /dev/shm || echo /tmp)}
W=$(mktemp -d "$BASE/synth-cli-bench.XXXXXX")
trap 'rm -rf "$W"' EXIT
SYNTH=$BUILD/synth
[ -x "$SYNTH" ] || { echo "cli: no $SYNTH (run make first)" >&2; exit 1; }

cc -std=c11 -O2 -Wall -Wextra -o "$W/runbench" bench/runbench.c
load() { cut -d' ' -f1-3 /proc/loadavg; }
# median_ms LABEL DIR CMD...: the median (ms) of RUNS runs after 2 warm-ups.
median_ms() {
	local label=$1 dir=$2
	shift 2
	(cd "$dir" && "$W/runbench" -n "$RUNS" -w 2 -l "$label" -- "$@") |
		tr ' ' '\n' | sed -n 's/^med_ms=//p'
}
verdict() { awk -v m="$1" -v t="$2" 'BEGIN { print (m <= t) ? "within" : "OVER" }'; }

echo "cli: load average before: $(load) ($(nproc) cores)"
declare -A MED
for sample in todo:10 karaoke:12; do
	name=${sample%%:*}
	target=${sample##*:}
	d=$W/$name
	mkdir -p "$d"
	(cd "samples/$name" && tar --exclude=./.synth --exclude=./cdk.out --exclude=./tests -cf - .) |
		(cd "$d" && tar -xf -)
	# Cold: compiles backend.c, zips the code; the warm-ups fill the rest.
	(cd "$d" && "$SYNTH" --branch main -q) || { echo "cli: $name: synth failed" >&2; exit 1; }
	med=$(median_ms "$name" "$d" "$SYNTH" --branch main -q)
	MED[$name]=$med
	echo "cli: $name: warm synth --branch main -q (spec check on), whole process:" \
		"median $med ms ($RUNS runs); target <= $target ms: $(verdict "$med" "$target")"
	echo "cli: $name:   of which: --no-validate $(median_ms noval "$d" "$SYNTH" --branch main -q --no-validate) ms;" \
		"the backend program alone $(median_ms backend "$d" ./.synth/backend --context synth:type=branch \
			--context synth:name=main --out "$W/$name-alone") ms;" \
		"synth --help $(median_ms help "$d" "$SYNTH" --help) ms; /bin/true $(median_ms true "$d" /bin/true) ms"
	# The spec check in full every run: the list of templates that passed
	# (.synth/spec-checked) removed first, through sh (whose own cost is
	# the second figure).
	echo "cli: $name:   with the spec check redone in full (sh -c 'rm .synth/spec-checked; synth'):" \
		"$(median_ms full "$d" sh -c 'rm -f .synth/spec-checked; exec "$0" --branch main -q' "$SYNTH") ms;" \
		"sh -c 'rm; true' alone $(median_ms sh "$d" sh -c 'rm -f .synth/none; exec true') ms"
done

# --- the anchors: Amplify Gen2 + CDK, CDK --------------------------------
anchor_skip() { # NAME LAST_MS WHY
	echo "cli: anchor: $1 not run ($3); last known $2 ms," \
		"$(awk -v a="$2" -v m="${MED[$1]}" 'BEGIN { printf "%.0fx", a / m }') synth's median"
}
A=$ROOT/bench/.anchor
anchor_install() {
	command -v npm >/dev/null || { echo "npm not found"; return 1; }
	if [ -x "$A/node_modules/.bin/cdk" ] && [ -x "$A/node_modules/.bin/tsx" ] &&
		cmp -s bench/anchor/package.json "$A/package.json"; then
		return 0
	fi
	mkdir -p "$A"
	cp bench/anchor/package.json "$A/package.json"
	echo "cli: anchor: installing the npm packages of bench/anchor/package.json into bench/.anchor (once)" >&2
	(cd "$A" && npm install --no-audit --no-fund --loglevel=error >"$W/npm.log" 2>&1) ||
		{ rm -f "$A/package.json"; echo "npm install failed: $(tail -1 "$W/npm.log")"; return 1; }
}
# anchor NAME LAST_MS WHAT APP [CONTEXT...]: `cdk synth` of $A/NAME,
# ANCHOR_RUNS times, offline; prints the median beside synth's.
anchor() {
	local name=$1 last=$2 what=$3 app=$4 times=() failed= t0 t1
	shift 4
	local ctx=()
	for c in "$@"; do ctx+=(--context "$c"); done
	for _ in $(seq "$ANCHOR_RUNS"); do
		rm -rf "$A/$name/cdk.out"
		t0=$(date +%s%N)
		if ! (cd "$A/$name" && env -u AWS_PROFILE -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY \
			-u AWS_SESSION_TOKEN AWS_EC2_METADATA_DISABLED=true CDK_DISABLE_VERSION_CHECK=1 \
			AWS_CONFIG_FILE=/nonexistent AWS_SHARED_CREDENTIALS_FILE=/nonexistent \
			../node_modules/.bin/cdk synth --ci --no-notices --no-version-reporting -q \
			--app "$app" --output cdk.out "${ctx[@]}") >"$W/anchor-$name.log" 2>&1; then
			failed=$(grep -m1 -iE 'error|fail' "$W/anchor-$name.log" || tail -1 "$W/anchor-$name.log")
			break
		fi
		t1=$(date +%s%N)
		times+=($(( (t1 - t0) / 1000000 )))
	done
	if [ -n "$failed" ]; then
		anchor_skip "$name" "$last" "cdk synth failed: $failed"
		return
	fi
	local n=${#times[@]} amed amin amax res
	read -r amed amin amax < <(printf '%s\n' "${times[@]}" | sort -n | awk -v n="$n" '{a[NR]=$1} END {
		printf "%d %d %d\n", (n % 2) ? a[(n+1)/2] : (a[n/2] + a[n/2+1]) / 2, a[1], a[n] }')
	res=$(cat "$A/$name"/cdk.out/*.template.json | grep -c '"Type": *"AWS::' || true)
	echo "cli: anchor: $name as $what: cdk synth ($(ls "$A/$name"/cdk.out/*.template.json | wc -l) templates," \
		"$res resources): median $amed ms (min $amin, max $amax, $n runs)"
	local ratio
	ratio=$(awk -v a="$amed" -v m="${MED[$name]}" 'BEGIN { printf "%.0f", a / m }')
	if [ "$name" = todo ]; then # issue #10: >= 1,000x Amplify
		echo "cli: anchor: synth of samples/$name is ${ratio}x faster; target >= 1000x:" \
			"$([ "$ratio" -ge 1000 ] && echo within || echo OVER)"
	else
		echo "cli: anchor: synth of samples/$name is ${ratio}x faster"
	fi
}
# Issue #10 measured Amplify Gen2's `cdk synth` of the todo app at 11.7 s,
# issue #13 the CDK karaoke app's at about 15 s.
if [ "$ANCHOR" = 0 ]; then
	anchor_skip todo 11700 "ANCHOR=0"
	anchor_skip karaoke 15000 "ANCHOR=0"
elif ! why=$(anchor_install); then
	anchor_skip todo 11700 "$why"
	anchor_skip karaoke 15000 "$why"
else
	echo "cli: anchor: @aws-amplify/backend $(node -p "require('$A/node_modules/@aws-amplify/backend/package.json').version")," \
		"aws-cdk-lib $(node -p "require('$A/node_modules/aws-cdk-lib/package.json').version")," \
		"aws-cdk $(node -p "require('$A/node_modules/aws-cdk/package.json').version"), node $(node --version)"
	rm -rf "$A/todo" "$A/karaoke"
	cp -r bench/anchor/todo "$A/todo"
	# Amplify's deployer: the backend identifier in the context.
	anchor todo 11700 "an Amplify Gen2 app (bench/anchor/todo)" "../node_modules/.bin/tsx amplify/backend.ts" \
		amplify-backend-namespace=todo amplify-backend-name=main amplify-backend-type=branch
	mkdir -p "$A/karaoke"
	cp bench/anchor/karaoke/app.ts "$A/karaoke/"
	cp -r samples/karaoke/functions "$A/karaoke/functions"
	anchor karaoke 15000 "a CDK app (bench/anchor/karaoke/app.ts)" "../node_modules/.bin/tsx app.ts" stage=main
fi
echo "cli: load average after: $(load)"

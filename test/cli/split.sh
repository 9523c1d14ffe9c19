#!/usr/bin/env bash
# Nested stacks: a backend too big for one template is split so that every
# template keeps within CloudFormation's limits, cross-stack references are
# parameters of the consumer and outputs of the producer wired through the
# root, the stack graph is acyclic and every resource appears once; a
# backend small enough stays in one stack. Backends come from
# test/gen/gen_backend.sh; the layout checks are test/cli/lib/check_split.py.
. "$(dirname "$0")/lib/common.bash"

GEN=$SYNTH_ROOT/test/gen/gen_backend.sh
CHECK=$SYNTH_ROOT/test/cli/lib/check_split.py

# gen NAME GEN-ARGS...: generates $TMP/NAME/NAME and synthesizes it
# (--branch main); RC and ERR as synth_in sets them.
gen() {
	local name=$1
	shift
	DIR=$TMP/$name/$name
	if ! bash "$GEN" "$@" "$DIR" >"$TMP/gen.log" 2>&1; then
		fail "$name: gen_backend.sh $*"; diag_file "$TMP/gen.log"; RC=99; return
	fi
	synth_in "$DIR" --branch main -q
}

# split_check NAME ARGS...: check_split.py on $DIR/cdk.out, its lines
# prefixed with NAME.
split_check() {
	local name=$1
	shift
	local out rc
	out=$(python3 "$CHECK" "$DIR/cdk.out" "$@" 2>&1)
	rc=$?
	out=$(printf '%s\n' "$out" | grep -v '^# [0-9]* passed' |
		sed -e "s/^ok - /ok - $name: /" -e "s/^not ok - /not ok - $name: /")
	printf '%s\n' "$out"
	T_PASSED=$((T_PASSED + $(printf '%s\n' "$out" | grep -c '^ok - ')))
	T_FAILED=$((T_FAILED + $(printf '%s\n' "$out" | grep -c '^not ok - ')))
	if [ "$rc" -ne 0 ] && ! printf '%s\n' "$out" | grep -q '^not ok - '; then
		fail "$name: check_split.py ran"; printf '%s\n' "$out" | tail -n 5 | sed 's/^/#     /'
	fi
}

# lint_ok DESC FILES...: cfn-lint finds no error, and no redundant
# DependsOn (W3005: one a Ref, GetAtt or parameter implies already).
lint_ok() {
	local d=$1
	shift
	CFN_LINT_OUT=
	cfn_lint_ok "$d: cfn-lint finds no errors" "$@"
	check_eq "$d: no redundant DependsOn (cfn-lint W3005)" \
		"$(printf '%s\n' "$CFN_LINT_OUT" | grep -c ':W3005:')" 0
}

synth_ok() {
	if [ "$RC" -eq 0 ]; then
		pass "$1: synth exits 0"
	else
		fail "$1: synth exits 0"; diag "exit $RC"; printf '%s\n' "$ERR" | head -n 5 | sed 's/^/#     /'
	fi
	[ "$RC" -eq 0 ]
}

# --- 200 scheduled functions (1000+ resources) with cross references ----
if gen big 200; then :; fi
if synth_ok "big (200 functions, one code dir each)"; then
	split_check big --functions 200 --split --gen-refs --min-stacks 3
	templates=("$DIR"/cdk.out/*.template.json)
	lint_ok "big: the ${#templates[@]} templates (root and nested)" "${templates[@]}"
	cfnspec_ok "big: cfnspec.py accepts every template (root and nested)" "${templates[@]}"
	assembly_ok "big: check_assembly.py accepts the assembly" "$DIR/cdk.out"
	zips=("$DIR"/cdk.out/asset.*.zip)
	check_eq "big: one zip per code directory" "${#zips[@]}" 200
	# The summary counts the resources of the nested stacks too.
	synth_in "$DIR" --branch main --json
	sum=$(printf '%s\n' "$OUT" | python3 -c '
import json, sys
s = json.load(sys.stdin)["stacks"][0]
print(s["resources"], sum(s["resourceTypes"].values()), len(s["nestedTemplates"]))' 2>&1)
	total=$(python3 -c '
import glob, json, sys
n = 0
for f in glob.glob(sys.argv[1] + "/*.template.json"):
    n += sum(1 for r in json.load(open(f))["Resources"].values() if r["Type"] != "AWS::CloudFormation::Stack")
print(n)' "$DIR/cdk.out")
	nested=$(($(ls "$DIR"/cdk.out/*.template.json | wc -l) - 1))
	check_eq "big: synth --json counts every resource of the root and nested stacks" "$sum" "$total $total $nested"
	cp -a "$DIR/cdk.out" "$TMP/big.first"
	synth_in "$DIR" --branch main -q --no-cache
	if d=$(diff -r "$TMP/big.first" "$DIR/cdk.out" 2>&1); then
		pass "big: a second synth gives identical templates and assets"
	else
		fail "big: a second synth gives identical templates and assets"; diag "$(printf '%s\n' "$d" | head -n 5)"
	fi
fi

# --- references both ways, far apart: outputs and parameters budgeted -----
# 400 functions (2,000 resources): each reads the ARN of fn[i/2] and the
# role ARN of fn[N-1-i/2]; before the budgets, one nested stack had 410
# outputs. (1,000 functions: test/cli/placement.sh, which deploys them.)
gen cross400 -s -p -x 400
if synth_ok "cross400 (400 functions referencing each other both ways)"; then
	split_check cross400 --functions 400 --split --min-stacks 4
	# cfn-lint takes seconds per template: the root, and the nested
	# templates with the most parameters and the most outputs.
	pick=$(python3 -c '
import glob, json, sys
ts = [(f, json.load(open(f))) for f in glob.glob(sys.argv[1] + "/*.nested.template.json")]
p = max(ts, key=lambda x: len(x[1].get("Parameters", {})))[0]
o = max(ts, key=lambda x: len(x[1].get("Outputs", {})))[0]
print(p); print(o)' "$DIR/cdk.out" | sort -u)
	mapfile -t some < <(ls "$DIR"/cdk.out/*.template.json | grep -v nested; printf '%s\n' "$pick")
	lint_ok "cross400: ${#some[@]} templates" "${some[@]}"
	cfnspec_ok "cross400: cfnspec.py accepts every template" "$DIR"/cdk.out/*.template.json
fi

# --- 600 functions sharing one code directory ----------------------------
gen huge -s 600
if synth_ok "huge (600 functions, one shared code dir)"; then
	split_check huge --functions 600 --split --gen-refs --min-stacks 7
	cfnspec_ok "huge: cfnspec.py accepts every template" "$DIR"/cdk.out/*.template.json
	zips=("$DIR"/cdk.out/asset.*.zip)
	check_eq "huge: one zip for the shared code directory" "${#zips[@]}" 1
fi

# --- big in bytes, not in resources ---------------------------------------
gen bytes -p -s -b 260 20
if synth_ok "bytes (360 resources, ~1.2 MB)"; then
	split_check bytes --functions 20 --split
	n=$(python3 -c '
import glob, json, sys
print(sum(sum(1 for r in json.load(open(f))["Resources"].values() if r["Type"] != "AWS::CloudFormation::Stack")
          for f in glob.glob(sys.argv[1] + "/*.template.json")))' "$DIR/cdk.out")
	check_eq "bytes: 360 resources in all (the split is by size)" "$n" 360
	templates=("$DIR"/cdk.out/*.template.json)
	cfn_lint_ok "bytes: cfn-lint finds no errors" "${templates[@]}"
	cfnspec_ok "bytes: cfnspec.py accepts every template" "${templates[@]}"
fi

# --- the 500-resource boundary --------------------------------------------
gen edge500 -p -s 100
if synth_ok "edge500 (100 plain functions = 500 resources)"; then
	split_check edge500 --functions 100 --single
fi
gen edge505 -p -s 101
if synth_ok "edge505 (101 plain functions = 505 resources)"; then
	split_check edge505 --functions 101 --split
	cfnspec_ok "edge505: cfnspec.py accepts every template" "$DIR"/cdk.out/*.template.json
fi

# --- small: one stack ----------------------------------------------------
gen small 10
if synth_ok "small (10 functions with cross references)"; then
	split_check small --functions 10 --single --gen-refs
	cfn_lint_ok "small: cfn-lint finds no errors" "$DIR"/cdk.out/*.template.json
	cfnspec_ok "small: cfnspec.py accepts the template" "$DIR"/cdk.out/*.template.json
fi

# --- layouts that exist but are harder to find -----------------------------
# 150 functions that form one strongly connected group of constructs (each
# reads the next one's role ARN; no resource cycle): 750 resources in
# a group bigger than a stack.
gen ring -s -r 150
if synth_ok "ring (150 functions, one strongly connected group)"; then
	split_check ring --functions 150 --split --gen-refs
	cfnspec_ok "ring: cfnspec.py accepts every template" "$DIR"/cdk.out/*.template.json
fi
# One resource that references 300 functions (an invoke-all policy): it
# fits in the root, which reads nested outputs without parameters.
gen fanin -s -p -a 300
if synth_ok "fanin (one policy referencing 300 functions)"; then
	split_check fanin --functions 300 --split
	cfnspec_ok "fanin: cfnspec.py accepts every template" "$DIR"/cdk.out/*.template.json
fi
finish

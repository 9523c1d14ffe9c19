#!/usr/bin/env bash
# The placement memory (issue #10, part 1): a resource stays in the stack
# that holds it. A 600-function backend, its functions named by $FNS (read
# at run time, so one compiled backend.c serves every step), is changed:
# functions added before, between and after the others, some removed,
# every function grown by a schedule; no existing resource moves. The
# memory survives without cdk.out (the deployed root template, named by
# SYNTH_DEPLOYED_TEMPLATE, which `synth deploy` sets; and on the CFN peer,
# `synth deploy` from a fresh copy). When a limit forces a move, stateless
# resources move with a warning each and stateful ones are refused.
# Helpers: test/cli/lib/placement.py.
. "$(dirname "$0")/lib/common.bash"

PL=$SYNTH_ROOT/test/cli/lib/placement.py
B=$TMP/app
mkdir -p "$B/functions/shared"
echo 'export const handler = async () => process.env.INDEX;' >"$B/functions/shared/index.mjs"
cat >"$B/backend.c" <<'C'
/* Functions named by $FNS. A name ending in 0, 3 or 6 (or any with
 * $SCHEDULE_ALL) has a schedule; in 7, an SNS subscription and a Lambda
 * permission on "Topic"; in 5, a table it reads. $BULK=table|param adds
 * $NBULK raw tables or SSM parameters; $READER a parameter that reads
 * two attributes of each and every function's ARN; $NEWREF (names) a new
 * topic, defined last, that those functions read. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <synth.h>

int main(int argc, char **argv)
{
	synth_backend *b;
	if (synth_backend_new(&b, argc, argv) < 0)
		return synth_backend_fail(NULL);
	const char *fns = getenv("FNS"), *bulk = getenv("BULK");
	int all = getenv("SCHEDULE_ALL") != NULL, nbulk = bulk ? atoi(getenv("NBULK")) : 0;
	synth_backend_add_resource(b, "Topic", "AWS::SNS::Topic", NULL);
	json_t *reads = json_array();
	char *list = strdup(fns ? fns : ""), *save = NULL;
	for (char *n = strtok_r(list, " ", &save); n; n = strtok_r(NULL, " ", &save)) {
		char last = n[strlen(n) - 1], id[64];
		const char *sched = all || strchr("036", last) ? "every hour" : NULL;
		synth_function *f = synth_define_function(b, n, &(synth_function_props){
			.entry = "functions/shared", .schedule = sched,
			.environment = (const synth_env[]){{.name = "INDEX", .value = n}, {0}},
		});
		json_array_append_new(reads, synth_function_arn(f));
		for (const char *w = getenv("NEWREF"); w && strstr(w, n); w = NULL)
			synth_function_add_environment(f, "NEW_TOPIC", synth_ref("NewTopic"));
		if (last == '7') {
			snprintf(id, sizeof id, "Sub%s", n);
			synth_backend_add_resource(b, id, "AWS::SNS::Subscription",
				json_pack("{s:s,s:o,s:o}", "Protocol", "lambda", "Endpoint",
					  synth_function_arn(f), "TopicArn", synth_ref("Topic")));
			snprintf(id, sizeof id, "Perm%s", n);
			synth_backend_add_resource(b, id, "AWS::Lambda::Permission",
				json_pack("{s:s,s:o,s:s,s:o}", "Action", "lambda:InvokeFunction",
					  "FunctionName", synth_function_arn(f), "Principal",
					  "sns.amazonaws.com", "SourceArn", synth_ref("Topic")));
		}
		if (last == '5') {
			snprintf(id, sizeof id, "Tbl%s", n);
			synth_backend_add_resource(b, id, "AWS::DynamoDB::Table",
				json_pack("{s:s,s:[{s:s,s:s}],s:[{s:s,s:s}]}", "BillingMode",
					  "PAY_PER_REQUEST", "KeySchema", "AttributeName", "pk",
					  "KeyType", "HASH", "AttributeDefinitions", "AttributeName",
					  "pk", "AttributeType", "S"));
			synth_function_add_environment(f, "TABLE", synth_ref(id));
		}
	}
	free(list);
	if (getenv("NEWREF"))
		synth_backend_add_resource(b, "NewTopic", "AWS::SNS::Topic", NULL);
	for (int k = 0; k < nbulk; k++) {
		char id[32];
		snprintf(id, sizeof id, "Bulk%03d", k);
		if (!strcmp(bulk, "table")) {
			synth_backend_add_resource(b, id, "AWS::DynamoDB::Table",
				json_pack("{s:s,s:[{s:s,s:s}],s:[{s:s,s:s}],s:{s:s}}", "BillingMode",
					  "PAY_PER_REQUEST", "KeySchema", "AttributeName", "pk",
					  "KeyType", "HASH", "AttributeDefinitions", "AttributeName",
					  "pk", "AttributeType", "S", "StreamSpecification",
					  "StreamViewType", "KEYS_ONLY"));
			json_array_append_new(reads, synth_getatt(id, "Arn"));
			json_array_append_new(reads, synth_getatt(id, "StreamArn"));
		} else {
			synth_backend_add_resource(b, id, "AWS::SSM::Parameter",
				json_pack("{s:s,s:s}", "Type", "String", "Value", "v"));
			json_array_append_new(reads, synth_ref(id));
			json_array_append_new(reads, synth_getatt(id, "Value"));
		}
	}
	if (getenv("READER"))
		synth_backend_add_resource(b, "Reader", "AWS::SSM::Parameter",
			json_pack("{s:s,s:o}", "Type", "StringList", "Value",
				  json_pack("{s:[s,O]}", "Fn::Join", ",", reads)));
	json_decref(reads);
	return synth_backend_main(b);
}
C

names() { # FROM TO: fnFROM .. fnTO-1
	local i out=
	for ((i = $1; i < $2; i++)); do printf -v out '%s fn%04d' "$out" "$i"; done
	printf '%s' "$out"
}
map() { # NAME: the placement of $B/cdk.out into $TMP/NAME.map (not empty)
	python3 "$PL" map "$B/cdk.out" >"$TMP/$1.map" 2>/dev/null
	[ -s "$TMP/$1.map" ] || fail "$1: no assembly to read the placement of"
}
moves() { python3 "$PL" moves "$TMP/$1.map" "$TMP/$2.map"; }
limits_ok() { # DESC
	local over
	over=$(python3 "$PL" limits "$B/cdk.out" 2>&1)
	check_eq "$1: every template within CloudFormation's limits" "${over:-none}" none
}
step() { # DESC ENV...: synth with the ENV given
	shift
	(cd "$B" && env "$@" "$SYNTH" --branch main -q) >"$TMP/out" 2>"$TMP/err"
	RC=$?
	ERR=$(cat "$TMP/err")
}

rc_ok() { # DESC: synth exited 0 (else its stderr)
	if [ "$RC" -eq 0 ]; then pass "$1"; else fail "$1"; diag "exit $RC"; printf '%s\n' "$ERR" | head -n 5 | cut -c1-400 | sed 's/^/#     /'; fi
}

BASE="$(names 0 600)"
step "base" FNS="$BASE"
rc_ok "base: 600 functions synthesize"
map base
nstacks=$(ls "$B"/cdk.out/*.nested.template.json | wc -l)
check "base: split into nested stacks ($nstacks)" test "$nstacks" -ge 5
ROOT=$(ls "$B"/cdk.out/*.template.json | grep -v nested)
check_contains "base: the root template holds the placement memory" "$(cat "$ROOT")" '"synth:layout"'
limits_ok base

# Same input, same memory: the same bytes.
cp -a "$B/cdk.out" "$TMP/base.out"
step "again" FNS="$BASE"
if d=$(diff -r -x synth-assets.json "$TMP/base.out" "$B/cdk.out" 2>&1); then
	pass "again: a second synth is byte-identical"
else
	fail "again: a second synth is byte-identical"; diag "$(printf '%s\n' "$d" | head -n 5)"
fi

# 10 before, 10 between, 10 after; fn0100..fn0114 removed.
EDIT="$(printf ' a%03d' $(seq 0 9))$(names 0 100)$(names 115 300)$(printf ' fn0299x%d' $(seq 0 9))$(names 300 600)$(printf ' zz%03d' $(seq 0 9))"
step "edit" FNS="$EDIT"
rc_ok "edit: 30 functions added, 15 removed: synth exits 0"
map edit
check_eq "edit: zero existing resources moved" "$(moves base edit | wc -l)" 0
check_not_contains "edit: no move warning" "$ERR" "warning"
check "edit: the new functions are there" grep -q "^a000" "$TMP/edit.map"
check "edit: ... and the ones between" grep -q "^fn0299x9" "$TMP/edit.map"
check "edit: the removed ones are gone" test "$(grep -c '^fn0100' "$TMP/edit.map")" -eq 0
limits_ok edit

# A fresh clone: no cdk.out, the deployed root template as the memory.
cp "$(ls "$B"/cdk.out/*.template.json | grep -v nested)" "$TMP/deployed.json"
cp -a "$B/cdk.out" "$TMP/edit.out"
rm -rf "$B/cdk.out"
step "fresh" FNS="$EDIT" SYNTH_DEPLOYED_TEMPLATE="$TMP/deployed.json"
rc_ok "fresh clone: synth with the deployed template exits 0"
map fresh
check_eq "fresh clone: zero moves against the deployed layout" "$(moves edit fresh | wc -l)" 0
if d=$(diff -r -x synth-assets.json "$TMP/edit.out" "$B/cdk.out" 2>&1); then
	pass "fresh clone: the same assembly, byte for byte"
else
	fail "fresh clone: the same assembly, byte for byte"; diag "$(printf '%s\n' "$d" | head -n 5)"
fi
# Without any memory the same backend is laid out anew: the check above
# would see moves.
rm -rf "$B/cdk.out"
step "nomemory" FNS="$EDIT"
map nomemory
check "no memory: a fresh layout moves resources (what the memory prevents)" \
	test "$(moves edit nomemory | wc -l)" -gt 0
echo '{' >"$TMP/bad.json"
step "bad" FNS="$EDIT" SYNTH_DEPLOYED_TEMPLATE="$TMP/bad.json"
check "unreadable deployed template: synth fails" test "$RC" -ne 0
check_contains "unreadable deployed template: the error names the file" "$ERR" "$TMP/bad.json"

# A new topic, defined last, read by existing functions in three stacks:
# it goes where all of them can read it; none of them moves.
rm -rf "$B/cdk.out"
cp -a "$TMP/edit.out" "$B/cdk.out"
step "newref" FNS="$EDIT" NEWREF="fn0005 fn0300 fn0590"
rc_ok "new resource read by existing ones: synth exits 0"
map newref
check_eq "new resource read by existing ones: zero existing resources moved" "$(moves edit newref | wc -l)" 0
check "new resource read by existing ones: it is there" grep -q "^NewTopic" "$TMP/newref.map"

# Growth: every function gets a schedule (2 more resources each).
rm -rf "$B/cdk.out"
cp -a "$TMP/edit.out" "$B/cdk.out"
step "grow" FNS="$EDIT" SCHEDULE_ALL=1
rc_ok "grow: a schedule on every function: synth exits 0"
map grow
check_eq "grow: zero existing resources moved" "$(moves edit grow | wc -l)" 0
check "grow: more resources than before" test "$(wc -l <"$TMP/grow.map")" -gt "$(wc -l <"$TMP/edit.map")"
limits_ok grow

# A limit forces moves. 250 stateless parameters, then a reader of two
# values of each (in the root: it reads every function too): their stack
# would pass 200 outputs, so some parameters move, each with a warning.
rm -rf "$B/cdk.out"
step "params" FNS="$BASE" BULK=param NBULK=250
map params
step "params+reader" FNS="$BASE" BULK=param NBULK=250 READER=1
rc_ok "forced move of stateless resources: synth exits 0"
map reader
nmoved=$(moves params reader | wc -l)
check "forced move: some parameters moved ($nmoved)" test "$nmoved" -gt 0
check_eq "forced move: only parameters moved" "$(moves params reader | grep -vc ' AWS::SSM::Parameter 0$')" 0
check_eq "forced move: one warning per moved resource" "$(printf '%s\n' "$ERR" | grep -c 'synth: warning: Bulk[0-9]*/Resource .* moves from Nested[0-9]* to Nested[0-9]*: its stack would pass 200 outputs')" "$nmoved"
limits_ok "forced move"
# The same with tables: they hold data, so synth refuses and says why.
rm -rf "$B/cdk.out"
step "tables" FNS="$BASE" BULK=table NBULK=250
cp -a "$B/cdk.out" "$TMP/tables.out"
step "tables+reader" FNS="$BASE" BULK=table NBULK=250 READER=1
check "stateful: synth refuses to move tables" test "$RC" -ne 0
check_match "stateful: the error names a table, why it cannot move and the limit" "$ERR" \
	"Bulk[0-9]+/Resource \(AWS::DynamoDB::Table, it holds data\) in Nested[0-9]+: its stack would pass 200 outputs"
check_contains "stateful: ... and what to do" "$ERR" "move other resources out of it"
if d=$(diff -r "$TMP/tables.out" "$B/cdk.out" 2>&1); then
	pass "stateful: cdk.out is kept as it was"
else
	fail "stateful: cdk.out is kept as it was"; diag "$(printf '%s\n' "$d" | head -n 5)"
fi

# --- on the CloudFormation peer: the deployed stack is the memory ----------
export PEERS_DIR=$TMP/peers
trap 'bash "$SYNTH_ROOT/test/peers/peers.sh" stop >/dev/null 2>&1; rm -rf "$TMP"' EXIT
if bash "$SYNTH_ROOT/test/peers/setup.sh" >"$TMP/setup.log" 2>&1 &&
	env_lines=$(bash "$SYNTH_ROOT/test/peers/peers.sh" start 2>"$TMP/peers.err"); then
	pass "the peers start"
else
	fail "the peers start"; diag_file "$TMP/peers.err"; diag_file "$TMP/setup.log"; finish
fi
eval "$env_lines"
export AWS_CONFIG_FILE=$TMP/none AWS_SHARED_CREDENTIALS_FILE=$TMP/none SYNTH_POLL_MS=40,400 CI=true
curl -sS -X POST "$PEERS_ADMIN_CFN/cfn/settings" -d '{"step_ms":0}' >/dev/null
deploy() { # DESC ENV...: synth deploy in $B with the ENV given
	shift
	(cd "$B" && env "$@" "$SYNTH" deploy --branch main -q) >"$TMP/out" 2>"$TMP/err"
	RC=$?
	ERR=$(cat "$TMP/err" "$TMP/out")
}
(cd "$B" && "$SYNTH" bootstrap) >"$TMP/out" 2>&1 || diag_file "$TMP/out"
rm -rf "$B/cdk.out" "$B/.synth"
deploy "peer base" FNS="$BASE"
rc_ok "peer: the 600-function backend deploys"
map peerbase
# A fresh clone: no cdk.out, no .synth; functions added before, between
# and after, some removed. Only the deployed stack remembers the layout.
rm -rf "$B/cdk.out" "$B/.synth"
deploy "peer edit" FNS="$EDIT"
rc_ok "peer: from a fresh clone, the changed backend deploys"
map peeredit
check_eq "peer: zero existing resources moved (the layout read back from the deployed stack)" \
	"$(moves peerbase peeredit | wc -l)" 0
check "peer: the deployed layout has the new functions" grep -q "^zz009" "$TMP/peeredit.map"
STACK=$(python3 -c 'import json,sys; print([k for k, v in json.load(open(sys.argv[1]))["artifacts"].items() if v["type"] == "aws:cloudformation:stack"][0])' "$B/cdk.out/manifest.json")
check_eq "peer: the deployed stack is complete" \
	"$(curl -sS "$PEERS_ADMIN_CFN/stacks/$STACK" | python3 -c 'import json,sys; print(json.load(sys.stdin)["StackStatus"])')" UPDATE_COMPLETE

# 1,000 functions referencing each other both ways (5,000 resources): within
# every limit, and deployed. (400: test/cli/split.sh, with cfn-lint.)
X=$TMP/cross1000
bash "$SYNTH_ROOT/test/gen/gen_backend.sh" -s -p -x 1000 "$X" >"$TMP/gen.log" 2>&1 || diag_file "$TMP/gen.log"
(cd "$X" && "$SYNTH" deploy --branch main -q) >"$TMP/out" 2>&1
RC=$?
ERR=$(cat "$TMP/out")
rc_ok "cross1000: 1,000 functions referencing each other both ways deploy"
over=$(python3 "$PL" limits "$X/cdk.out" 2>&1)
check_eq "cross1000: every template within CloudFormation's limits" "${over:-none}" none
check "cross1000: split into 10 or more nested stacks" test "$(ls "$X"/cdk.out/*.nested.template.json | wc -l)" -ge 10

# 2,000 functions the same way (10,000 resources, the issue's largest size):
# within every limit, cfn-lint on the root and on the nested templates with
# the most parameters, outputs and resources (it takes seconds per
# template), and deployed.
X=$TMP/cross2000
bash "$SYNTH_ROOT/test/gen/gen_backend.sh" -s -p -x 2000 "$X" >"$TMP/gen.log" 2>&1 || diag_file "$TMP/gen.log"
(cd "$X" && "$SYNTH" deploy --branch main -q) >"$TMP/out" 2>&1
RC=$?
ERR=$(cat "$TMP/out")
rc_ok "cross2000: 2,000 functions referencing each other both ways deploy"
over=$(python3 "$PL" limits "$X/cdk.out" 2>&1)
check_eq "cross2000: every template within CloudFormation's limits" "${over:-none}" none
check "cross2000: split into 20 or more nested stacks" test "$(ls "$X"/cdk.out/*.nested.template.json | wc -l)" -ge 20
pick=$(python3 -c '
import glob, json, sys
ts = [(f, json.load(open(f))) for f in glob.glob(sys.argv[1] + "/*.nested.template.json")]
for k in ("Parameters", "Outputs", "Resources"):
    print(max(ts, key=lambda x: len(x[1].get(k, {})))[0])' "$X/cdk.out" | sort -u)
mapfile -t some < <(ls "$X"/cdk.out/*.template.json | grep -v nested; printf '%s\n' "$pick")
CFN_LINT_OUT=
cfn_lint_ok "cross2000: cfn-lint finds no errors in ${#some[@]} templates" "${some[@]}"
check_eq "cross2000: no redundant DependsOn (cfn-lint W3005)" \
	"$(printf '%s\n' "$CFN_LINT_OUT" | grep -c ':W3005:')" 0
finish

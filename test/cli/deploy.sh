#!/usr/bin/env bash
# synth deploy / destroy / diff / sandbox / outputs against the local peers
# (s3rver behind the SigV4 proxy; the CloudFormation + STS + SSM endpoint):
# bad input first (no credentials, no git branch, a branch that sanitizes
# to nothing, a secret never set, no bootstrap, a template over 1 MB, over
# 500 resources), then samples/hello: created with its assets and a valid
# client config; the same deploy again makes no mutating call and no
# upload; a changed function uploads one zip and updates; diff; a failing
# resource gives its root cause and leaves the client config untouched,
# and the next deploy recovers; ROLLBACK_COMPLETE is deleted and created
# again; UPDATE_ROLLBACK_FAILED and --continue-rollback; every call kind
# throttled or failing once is retried; a stack stuck updating is waited
# for; Ctrl-C stops the wait and --watch resumes it; destroy; sandbox
# --once, a refused identifier, one sandbox per identifier, a redeploy on a
# file change, sandbox delete; outputs --branch; nested stacks (root cause
# in the nested stack, diff inside it); auth secrets rotate (a secret set
# again updates the secret fetcher, an unchanged one keeps the no-op, no
# value anywhere).
. "$(dirname "$0")/lib/common.bash"

export PEERS_DIR=$TMP/peers
cleanup() { [ -n "${BG:-}" ] && kill "$BG" 2>/dev/null; bash "$SYNTH_ROOT/test/peers/peers.sh" stop >/dev/null 2>&1; rm -rf "$TMP"; }
trap cleanup EXIT

bash "$SYNTH_ROOT/test/peers/setup.sh" >"$TMP/setup.log" 2>&1
if env_lines=$(bash "$SYNTH_ROOT/test/peers/peers.sh" start 2>"$TMP/peers.err"); then
	pass "the peers start"
else
	fail "the peers start"; diag_file "$TMP/peers.err"; diag_file "$TMP/setup.log"; finish
fi
eval "$env_lines"
# The endpoint serves SSM too.
export AWS_ENDPOINT_URL_SSM=${AWS_ENDPOINT_URL_SSM:-$AWS_ENDPOINT_URL_CLOUDFORMATION}
export AWS_CONFIG_FILE=$TMP/none AWS_SHARED_CREDENTIALS_FILE=$TMP/none
export SYNTH_POLL_MS=40,400 CI=true
SECRET_VALUE=s3cr3t-value-never-printed
SCHEMA=$SYNTH_ROOT/../shared/testdata/amplify-outputs/schema_v1.5.json
STACK=synth-hello-main-branch-9ce895e024

# run DIR ARGS...: synth in DIR; all output in $T_OUT (and $OUTTXT), status in $RC.
T_OUT=$TMP/out
run() {
	local dir=$1
	shift
	(cd "$dir" && "$SYNTH" "$@") >"$T_OUT" 2>&1 </dev/null
	RC=$?
	OUTTXT=$(cat "$T_OUT")
	cat "$T_OUT" >>"$TMP/all-output"
}
admin() { curl -sS "$@"; }
mark() { admin -X DELETE "$PEERS_ADMIN_S3/calls" >/dev/null; admin -X DELETE "$PEERS_ADMIN_CFN/calls" >/dev/null; }
# cfn_calls [mutating|ACTION]: endpoint calls since the mark
cfn_calls() {
	admin "$PEERS_ADMIN_CFN/calls" | "$SYSPY" -c '
import json, sys
want = sys.argv[1] if len(sys.argv) > 1 else None
calls = json.load(sys.stdin)["calls"]
print(sum(1 for c in calls if want is None or (want == "mutating" and c.get("mutating"))
          or c.get("action") == want))' "$@"
}
s3_calls() { # [OP]
	admin "$PEERS_ADMIN_S3/calls" | "$SYSPY" -c '
import json, sys
op = sys.argv[1] if len(sys.argv) > 1 else None
print(sum(1 for c in json.load(sys.stdin)["calls"] if op is None or c.get("op") == op))' "$@"
}
stack_field() { # NAME PYEXPR(s): a field of the admin view of stack NAME
	admin "$PEERS_ADMIN_CFN/stacks/$1" | "$SYSPY" -c "import json,sys; s=json.load(sys.stdin); print($2)"
}
cfn_fault() { admin -X POST "$PEERS_ADMIN_CFN/cfn/faults" -d "$1" >/dev/null; }
call_fault() { # ADMIN KIND MATCH
	admin -X POST "$1/fault" -d "{\"kind\":\"$2\",\"count\":1,\"match\":\"$3\"}" >/dev/null
}
schema_ok() { # DESC FILE
	local out
	if out=$("$SYSPY" - "$SCHEMA" "$2" 2>&1 <<'PY'
import json, sys
from jsonschema import Draft202012Validator
schema = json.load(open(sys.argv[1]))
doc = json.load(open(sys.argv[2]))
errs = list(Draft202012Validator(schema).iter_errors(doc))
for e in errs[:5]:
    print(list(e.path), e.message)
sys.exit(1 if errs else 0)
PY
	); then pass "$1"; else fail "$1"; diag "$out"; fi
}
change() { echo "// $RANDOM $1" >>"$W/functions/greeter/index.mjs"; }

W=$TMP/hello
copy_sample "$SYNTH_ROOT/samples/hello" "$W"

# --- bad input ---------------------------------------------------------------
mark
(cd "$W" && env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY "$SYNTH" deploy --branch main) >"$T_OUT" 2>&1 </dev/null
RC=$?
check_eq "no credentials: exit 2" "$RC" 2
check_match "no credentials: the chain tried is named" "$(cat "$T_OUT")" "AWS_ACCESS_KEY_ID|credentials"
check_eq "no credentials: no call at all" "$(cfn_calls)" 0

run "$W" deploy
check_eq "no git repository and no --branch: exit 2" "$RC" 2
check_contains "no git repository: says to name the branch" "$OUTTXT" "name the branch with --branch NAME"

if command -v git >/dev/null; then
	G=$TMP/gitapp
	copy_sample "$SYNTH_ROOT/samples/hello" "$G"
	(cd "$G" && git init -q -b feature/x . && git -c user.email=t@t -c user.name=t commit -q --allow-empty -m x) >/dev/null 2>&1
	run "$G" deploy --watch
	check_match "the current git branch is the default" "$OUTTXT" "stack synth-gitapp-feature-x-branch-[0-9a-f]+ does not exist"
fi

run "$W" deploy --branch '///'
check_eq "a branch name that sanitizes to nothing: exit 2" "$RC" 2

mark
run "$W" deploy --branch main
check_eq "a secret never set: exit 6" "$RC" 6
check_contains "a secret never set: named, with the command that sets it" "$OUTTXT" \
	'secret API_KEY is not set: run `synth secret set API_KEY --branch main`'
check_eq "a secret never set: no mutating call" "$(cfn_calls mutating)" 0
check_eq "a secret never set: nothing uploaded" "$(s3_calls PutObject)" 0

aws --region us-east-1 --endpoint-url "$AWS_ENDPOINT_URL_SSM" ssm put-parameter \
	--name /synth/hello/shared/API_KEY --type SecureString --value "$SECRET_VALUE" >/dev/null 2>"$TMP/ssm.err"
check "the secret is set (aws ssm put-parameter)" test $? -eq 0

mark
run "$W" deploy --branch main
check_eq "no bootstrap bucket: exit 6" "$RC" 6
check_contains "no bootstrap bucket: says to run synth bootstrap" "$OUTTXT" 'run `synth bootstrap`'
check_eq "no bootstrap bucket: no mutating call" "$(cfn_calls mutating)" 0

run "$W" bootstrap
check_eq "bootstrap" "$RC" 0

# Limits: an assembly whose template is over 1 MB, one with 501 resources.
run "$W" --branch main -q
BIGA=$TMP/asm-big
cp -r "$W/cdk.out" "$BIGA"
"$SYSPY" - "$BIGA/$STACK.template.json" <<'PY'
import json, sys
p = sys.argv[1]
t = json.load(open(p))
t["Metadata"]["Padding"] = "x" * (1100 * 1024)
json.dump(t, open(p, "w"), indent=1)
PY
mark
run "$W" deploy --branch main --assembly "$BIGA"
check_eq "a template over 1 MB: exit 6" "$RC" 6
check_match "a template over 1 MB: names the stack and the size" "$OUTTXT" "stack $STACK: the template .* is [0-9]+ bytes; CloudFormation accepts at most 1048576"
check_eq "a template over 1 MB: no call" "$(cfn_calls mutating)" 0
MANYA=$TMP/asm-many
cp -r "$W/cdk.out" "$MANYA"
"$SYSPY" - "$MANYA/$STACK.template.json" <<'PY'
import json, sys
p = sys.argv[1]
t = json.load(open(p))
for i in range(501):
    t["Resources"]["Topic%03d" % i] = {"Type": "AWS::SNS::Topic"}
json.dump(t, open(p, "w"), indent=1)
PY
run "$W" deploy --branch main --assembly "$MANYA"
check_eq "over 500 resources: exit 6" "$RC" 6
check_match "over 500 resources: named" "$OUTTXT" "stack $STACK: 51[0-9] resources .*CloudFormation allows 500"

# --- create, no-op, update -----------------------------------------------------
mark
run "$W" deploy --branch main
check_eq "deploy --branch main: exit 0" "$RC" 0
check_contains "deploy: the stack is created" "$OUTTXT" "stack $STACK created"
check_eq "deploy: 3 assets uploaded (2 zips, the template)" "$(s3_calls PutObject)" 3
check_contains "deploy: the change set's changes are listed" "$OUTTXT" "+ Add      greeter277AB5C9 (AWS::Lambda::Function)"
check_contains "deploy: events, one line each (not a terminal)" "$OUTTXT" "CREATE_COMPLETE              greeter277AB5C9 (AWS::Lambda::Function)"
check_eq "deploy: one change set created and executed" "$(cfn_calls CreateChangeSet),$(cfn_calls ExecuteChangeSet)" "1,1"
check_eq "deploy: the stack is CREATE_COMPLETE" "$(stack_field $STACK 's["StackStatus"]')" CREATE_COMPLETE
check_eq "deploy: tags (Amplify's and created-by)" \
	"$(stack_field $STACK '",".join(sorted(t["Key"]+"="+t["Value"] for t in s["Tags"]))')" \
	"amplify:branch-name=main,amplify:deployment-type=branch,created-by=synth,synth:name=main,synth:namespace=hello,synth:type=branch"
check_eq "deploy: capabilities" "$(stack_field $STACK '",".join(s["Capabilities"] or [])')" \
	"CAPABILITY_IAM,CAPABILITY_NAMED_IAM,CAPABILITY_AUTO_EXPAND"
check "deploy: amplify_outputs.json written" test -s "$W/amplify_outputs.json"
schema_ok "deploy: amplify_outputs.json is valid against schema 1.5" "$W/amplify_outputs.json"
check_match "deploy: the output's value came from the stack" "$(cat "$W/amplify_outputs.json")" '"greeterFunctionName": "synth-hello-main-branch-'

mark
run "$W" deploy --branch main
check_eq "the same deploy again: exit 0" "$RC" 0
check_contains "the same deploy again: no changes" "$OUTTXT" "stack $STACK: no changes"
check_eq "the same deploy again: zero mutating calls" "$(cfn_calls mutating)" 0
# Twice each: the placement memory before the synth, the no-op compare after.
check_eq "the same deploy again: only DescribeStacks and GetTemplate" \
	"$(cfn_calls DescribeStacks),$(cfn_calls GetTemplate),$(cfn_calls)" "2,2,4"
check_eq "the same deploy again: no S3 call at all" "$(s3_calls)" 0

# Termination protection: set apart from the change set, only when asked
# and only when it differs; destroy refuses a protected stack.
mark
run "$W" deploy --branch main --termination-protection
check_eq "--termination-protection on an unchanged stack: exit 0" "$RC" 0
check_eq "--termination-protection: one call, UpdateTerminationProtection, no change set" \
	"$(cfn_calls mutating),$(cfn_calls UpdateTerminationProtection),$(cfn_calls CreateChangeSet)" "1,1,0"
check_eq "--termination-protection: the stack is protected" \
	"$(stack_field $STACK 's["EnableTerminationProtection"]')" True
mark
run "$W" deploy --branch main --termination-protection
check_eq "--termination-protection again: zero mutating calls" "$RC,$(cfn_calls mutating)" "0,0"
mark
run "$W" deploy --branch main
check_eq "a deploy without the flag leaves the protection alone" \
	"$RC,$(cfn_calls mutating),$(stack_field $STACK 's["EnableTerminationProtection"]')" "0,0,True"
run "$W" destroy --branch main --yes
check_eq "destroy of a protected stack: refused" "$RC" 6
check_contains "destroy of a protected stack: says how" "$OUTTXT" "termination protection"
run "$W" deploy --branch main --no-termination-protection
check_eq "--no-termination-protection: protection off" \
	"$RC,$(stack_field $STACK 's["EnableTerminationProtection"]')" "0,False"

cp "$W/amplify_outputs.json" "$TMP/outputs.ok"
rm "$W/amplify_outputs.json"
run "$W" outputs --branch main
check_eq "outputs --branch main: exit 0" "$RC" 0
check "outputs --branch main: the same client config from the deployed stack" cmp -s "$TMP/outputs.ok" "$W/amplify_outputs.json"
run "$W" outputs --branch nosuch
check_eq "outputs --branch of a stack never deployed: exit 1" "$RC" 1
check_contains "outputs --branch of a stack never deployed: says so" "$OUTTXT" "does not exist"

change one
run "$W" diff --branch main
check_eq "diff: exit 0" "$RC" 0
check_contains "diff: the changed function" "$OUTTXT" "~ greeter277AB5C9 (AWS::Lambda::Function)"
check_contains "diff: the changed property path" "$OUTTXT" "Properties.Code.S3Key"
check_contains "diff: counted" "$OUTTXT" "1 resource would change"

mark
run "$W" deploy --branch main
check_eq "a changed function: exit 0" "$RC" 0
check_contains "a changed function: updated" "$OUTTXT" "stack $STACK updated"
check_contains "a changed function: its zip uploaded" "$OUTTXT" "uploaded functions/greeter"
check_not_contains "a changed function: the other zip not uploaded" "$OUTTXT" "uploaded functions/say-hello"
check_eq "a changed function: one zip and the template uploaded" "$(s3_calls PutObject)" 2
check_eq "a changed function: one change set executed" "$(cfn_calls ExecuteChangeSet)" 1
check_eq "the stack is UPDATE_COMPLETE" "$(stack_field $STACK 's["StackStatus"]')" UPDATE_COMPLETE

# --- failures ---------------------------------------------------------------------
cp "$W/amplify_outputs.json" "$TMP/outputs.before"
touch -d '2001-01-01' "$W/amplify_outputs.json"
cfn_fault '{"kind":"fail_resource","logical_id":"greeter277AB5C9","op":"update"}'
change two
run "$W" deploy --branch main
check_eq "a failing resource: exit 6" "$RC" 6
check_contains "a failing resource: the root cause is the resource and its reason" "$OUTTXT" \
	"root cause: greeter277AB5C9 (AWS::Lambda::Function, construct greeter/Resource) in stack $STACK: Resource handler returned message"
check_not_contains "a failing resource: not the stack's summary as root cause" "$(grep 'root cause' "$T_OUT")" "The following resource(s) failed"
check_contains "a failing resource: the rollback is seen" "$OUTTXT" "UPDATE_ROLLBACK_COMPLETE"
check "a failing resource: the client config is untouched" cmp -s "$TMP/outputs.before" "$W/amplify_outputs.json"
check_eq "a failing resource: not even rewritten" "$(stat -c %Y "$W/amplify_outputs.json")" "$(date -d 2001-01-01 +%s)"
run "$W" deploy --branch main
check_eq "the next deploy recovers" "$RC,$(stack_field $STACK 's["StackStatus"]')" "0,UPDATE_COMPLETE"

# UPDATE_ROLLBACK_FAILED, then --continue-rollback.
cfn_fault '{"kind":"fail_resource","logical_id":"greeter277AB5C9","op":"update"}'
cfn_fault '{"kind":"rollback_fails","logical_id":"greeter277AB5C9"}'
change three
run "$W" deploy --branch main
check_eq "the rollback fails too: exit 6" "$RC" 6
check_contains "UPDATE_ROLLBACK_FAILED: said" "$OUTTXT" "failed (UPDATE_ROLLBACK_FAILED)"
check_contains "UPDATE_ROLLBACK_FAILED: the way out" "$OUTTXT" 'synth deploy --branch main --continue-rollback'
run "$W" deploy --branch main
check_eq "a deploy on UPDATE_ROLLBACK_FAILED: refused with exit 6" "$RC" 6
check_contains "a deploy on UPDATE_ROLLBACK_FAILED: explains" "$OUTTXT" "is UPDATE_ROLLBACK_FAILED"
run "$W" deploy --branch main --continue-rollback
check_eq "--continue-rollback: exit 0" "$RC" 0
check_contains "--continue-rollback: the stack is rolled back" "$OUTTXT" "is UPDATE_ROLLBACK_COMPLETE"
run "$W" deploy --branch main
check_eq "then the deploy goes through" "$RC,$(stack_field $STACK 's["StackStatus"]')" "0,UPDATE_COMPLETE"

# A failed create: ROLLBACK_COMPLETE, deleted and created again next time.
cfn_fault '{"kind":"fail_resource","logical_id":"sayHello7E3FE627","op":"create"}'
run "$W" deploy --branch feat
check_eq "a failed create: exit 6" "$RC" 6
check_contains "a failed create: root cause" "$OUTTXT" "root cause: sayHello7E3FE627 (AWS::Lambda::Function, construct sayHello/Resource)"
check_contains "a failed create: ROLLBACK_COMPLETE" "$OUTTXT" "failed (ROLLBACK_COMPLETE)"
run "$W" deploy --branch feat
check_eq "after ROLLBACK_COMPLETE: the deploy succeeds" "$RC" 0
check_contains "after ROLLBACK_COMPLETE: deleted and created again, saying so" "$OUTTXT" "deleting it and creating it again"
check_contains "after ROLLBACK_COMPLETE: created" "$OUTTXT" "created"

# --- every call kind throttled or failing once: retried ---------------------------
export AWS_MAX_ATTEMPTS=4
i=0
for m in "sts:GetCallerIdentity" "DescribeStacks" "GetTemplate" "ssm:GetParameters" "CreateChangeSet" \
	"DescribeChangeSet" "ExecuteChangeSet" "DescribeStackEvents"; do
	kind=$(case $((i % 3)) in 0) echo throttle ;; 1) echo 500 ;; 2) echo 503 ;; esac)
	i=$((i + 1))
	change "$m"
	call_fault "$PEERS_ADMIN_CFN" "$kind" "$m"
	run "$W" deploy --branch main -q
	check_eq "fault $kind on $m: retried, the deploy succeeds" "$RC" 0
	left=$(admin "$PEERS_ADMIN_CFN/faults" | "$SYSPY" -c 'import json,sys; print(len(json.load(sys.stdin)["faults"]))')
	check_eq "fault $kind on $m: it fired" "$left" 0
done
for m in "HeadBucket" "PutObject" "HeadObject"; do
	change "$m"
	call_fault "$PEERS_ADMIN_S3" 503 "$m"
	run "$W" deploy --branch main -q
	check_eq "fault 503 on S3 $m: retried, the deploy succeeds" "$RC" 0
done
unset AWS_MAX_ATTEMPTS

# --- a stack being updated by someone else: waited for ------------------------------
# The other update is held until this deploy said it waits (then released),
# not for a fixed time a loaded machine can let pass before it looks.
cfn_fault '{"kind":"hold","status":"UPDATE_IN_PROGRESS","ms":300000}'
change other
(cd "$W" && "$SYNTH" deploy --branch main --out cdk.other -q) >"$TMP/bg.out" 2>&1 </dev/null &
BG=$!
updating() { [ "$(stack_field "$STACK" 's["StackStatus"]')" = UPDATE_IN_PROGRESS ]; }
poll_until 300 updating
change mine
(run "$W" deploy --branch main; echo "$RC" >"$TMP/fg.rc") &
FG=$!
poll_until 300 grep -q "waiting for it to finish" "$T_OUT"
admin -X POST "$PEERS_ADMIN_CFN/cfn/release" -d '{}' >/dev/null
wait "$FG"
RC=$(cat "$TMP/fg.rc") OUTTXT=$(cat "$T_OUT")
wait "$BG"
BGRC=$?
BG=
check_eq "the other deploy finished" "$BGRC" 0
check_eq "a stack already updating: exit 0" "$RC" 0
check_contains "a stack already updating: waited for" "$OUTTXT" "is UPDATE_IN_PROGRESS (another operation): waiting for it to finish"
check_contains "a stack already updating: then updated" "$OUTTXT" "stack $STACK updated"

# --- Ctrl-C while waiting; --watch resumes -------------------------------------------
# Held until released: the signal arrives while the deploy waits, however
# slowly a loaded machine gets there.
cfn_fault '{"kind":"hold","status":"UPDATE_IN_PROGRESS","ms":300000}'
change sigint
(cd "$W" && exec "$SYNTH" deploy --branch main) >"$TMP/int.out" 2>&1 </dev/null &
BG=$!
poll_until 300 grep -q "updating stack" "$TMP/int.out"
kill -INT "$BG"
wait "$BG"
IRC=$?
BG=
admin -X POST "$PEERS_ADMIN_CFN/cfn/release" -d '{}' >/dev/null
check_eq "SIGINT while waiting: exit 130" "$IRC" 130
check_contains "SIGINT: says how to resume watching" "$(cat "$TMP/int.out")" 'resume watching with `synth deploy --branch main --watch`'
run "$W" deploy --branch main --watch
check_eq "--watch: waits for the stack, exit 0" "$RC" 0
check_contains "--watch: the final status" "$OUTTXT" "stack $STACK is UPDATE_COMPLETE"

# --- destroy -------------------------------------------------------------------------
run "$W" destroy --branch feat
check_eq "destroy without --yes, stdin not a terminal: exit 2" "$RC" 2
check_contains "destroy without --yes: says why" "$OUTTXT" "pass --yes"
run "$W" destroy --branch feat --yes
check_eq "destroy --yes: exit 0" "$RC" 0
check_contains "destroy --yes: deleted" "$OUTTXT" "deleted stack synth-hello-feat-branch-"
run "$W" destroy --branch feat --yes
check_eq "destroy of a stack that does not exist: exit 0" "$RC" 0
check_contains "destroy of a stack that does not exist: says so" "$OUTTXT" "does not exist: nothing to delete"

# --- sandbox --------------------------------------------------------------------------
run "$W" sandbox --identifier main --once
check_eq "sandbox --identifier main: refused, exit 2" "$RC" 2
check_contains "sandbox --identifier main: says why" "$OUTTXT" "is refused: it names a shared environment"
aws --region us-east-1 --endpoint-url "$AWS_ENDPOINT_URL_SSM" ssm put-parameter \
	--name /synth/hello/sandbox/tester/API_KEY --type SecureString --value "$SECRET_VALUE" >/dev/null 2>&1
run "$W" sandbox --identifier tester --once
check_eq "sandbox --once: exit 0" "$RC" 0
check_match "sandbox --once: the sandbox stack is created" "$OUTTXT" "stack synth-hello-tester-sandbox-[0-9a-f]+ created"
SBX=$(printf '%s\n' "$OUTTXT" | grep -o 'synth-hello-tester-sandbox-[0-9a-f]*' | head -1)
check_eq "sandbox: tagged as a sandbox" "$(stack_field "$SBX" '[t["Value"] for t in s["Tags"] if t["Key"]=="amplify:deployment-type"][0]')" sandbox

# The watch mode: a second sandbox for the same identifier is refused; a change redeploys.
(cd "$W" && exec "$SYNTH" sandbox --identifier tester) >"$TMP/sbx.out" 2>&1 </dev/null &
BG=$!
poll_until 300 grep -q "watching for changes" "$TMP/sbx.out"
check_contains "sandbox: deploys, then watches" "$(cat "$TMP/sbx.out")" "watching for changes"
run "$W" sandbox --identifier tester --once
check_eq "a second sandbox for the same identifier: exit 2" "$RC" 2
check_match "a second sandbox: refused, naming the holder" "$OUTTXT" "$BG|pid"
change watched
poll_until 300 grep -q 'stack synth-hello-tester-sandbox-.* updated' "$TMP/sbx.out"
check_contains "sandbox: a file change redeploys" "$(cat "$TMP/sbx.out")" "changed: deploying again"
check_match "sandbox: the redeploy updates the stack" "$(cat "$TMP/sbx.out")" "stack synth-hello-tester-sandbox-[0-9a-f]+ updated"
kill -INT "$BG"
wait "$BG"
SRC=$?
BG=
check_eq "sandbox: Ctrl-C stops it, exit 0" "$SRC" 0
cat "$TMP/sbx.out" >>"$TMP/all-output"

rm -f "$TMP/sbx.json"
run "$W" outputs --sandbox tester --file "$TMP/sbx.json"
check_eq "outputs --sandbox: exit 0" "$RC" 0
check_match "outputs --sandbox: the sandbox's function name" "$(cat "$TMP/sbx.json" 2>/dev/null)" '"greeterFunctionName": "synth-hello-tester-sandbox'

run "$W" sandbox delete --identifier tester
check_eq "sandbox delete without --yes, stdin not a terminal: exit 2" "$RC" 2
run "$W" sandbox delete --identifier tester --yes
check_eq "sandbox delete --yes: exit 0" "$RC" 0
check_contains "sandbox delete: deleted" "$OUTTXT" "deleted stack $SBX"
check_eq "sandbox delete: the stack is gone" "$(admin -s -o /dev/null -w '%{http_code}' "$PEERS_ADMIN_CFN/stacks/$SBX")" 404

# --- nested stacks ----------------------------------------------------------------------
N=$TMP/big
if bash "$SYNTH_ROOT/test/gen/gen_backend.sh" -s 110 "$N" >"$TMP/gen.log" 2>&1; then
	admin -X POST "$PEERS_ADMIN_CFN/cfn/settings" -d '{"step_ms":0}' >/dev/null
	run "$N" deploy --branch main -q
	check_eq "nested: a backend split in two stacks deploys" "$RC" 0
	NT=$(ls "$N"/cdk.out/*.nested.template.json 2>/dev/null | head -1)
	check "nested: the assembly has a nested template" test -n "$NT"
	NLID=$("$SYSPY" -c 'import json,sys; t=json.load(open(sys.argv[1])); print([k for k,v in t["Resources"].items() if v["Type"]=="AWS::Lambda::Function"][-1])' "$NT")
	echo "// changed" >>"$N/functions/shared/index.mjs"
	run "$N" diff --branch main
	check_match "nested: diff shows the nested stack's changed functions, indented" "$OUTTXT" "^      ~ $NLID \(AWS::Lambda::Function\)"
	cfn_fault "{\"kind\":\"fail_resource\",\"logical_id\":\"$NLID\",\"op\":\"update\"}"
	run "$N" deploy --branch main
	check_eq "nested: a failure in the nested stack: exit 6" "$RC" 6
	check_match "nested: the root cause is in the nested stack" "$OUTTXT" "root cause: $NLID \(AWS::Lambda::Function, construct [A-Za-z0-9_-]+/Resource\) in stack synth-big-main-branch-[0-9a-f]+/Nested[0-9A-Za-z]+: Resource handler"
	run "$N" deploy --branch main -q
	check_eq "nested: the next deploy recovers" "$RC" 0
	mark
	run "$N" deploy --branch main
	check_eq "nested: no changes, zero mutating calls, zero uploads" "$RC,$(cfn_calls mutating),$(s3_calls)" "0,0,0"
	admin -X POST "$PEERS_ADMIN_CFN/cfn/settings" -d '{"step_ms":20}' >/dev/null
else
	fail "nested: gen_backend.sh"; diag_file "$TMP/gen.log"
fi

# --- samples/todo: auth, data, storage; the model introspection schema ----------------
if [ -f "$SYNTH_ROOT/samples/todo/backend.c" ]; then
	TD=$TMP/todo
	copy_sample "$SYNTH_ROOT/samples/todo" "$TD"
	mark
	run "$TD" deploy --branch main -q
	check_eq "todo: deploy --branch main: exit 0" "$RC" 0
	schema_ok "todo: amplify_outputs.json is valid against schema 1.5" "$TD/amplify_outputs.json"
	check_eq "todo: auth, data (with its model introspection) and storage" \
		"$("$SYSPY" -c 'import json,sys; d=json.load(open(sys.argv[1])); print(sorted(d), "model_introspection" in d["data"])' "$TD/amplify_outputs.json" 2>&1)" \
		"['auth', 'data', 'storage', 'version'] True"
	check_eq "todo: the model schema came from the assembly (no GetObject)" "$(s3_calls GetObject)" 0
	mark
	run "$TD" deploy --branch main
	check_eq "todo: the same deploy again: no changes, zero mutating calls, zero S3 calls" \
		"$RC,$(cfn_calls mutating),$(s3_calls)" "0,0,0"
	E=$TMP/elsewhere
	mkdir -p "$E"
	mark
	run "$E" outputs --branch main --namespace todo --file "$E/out.json"
	check_eq "todo: outputs --branch elsewhere (no assembly): exit 0" "$RC" 0
	check "todo: the same client config, the model schema fetched from S3" cmp -s "$TD/amplify_outputs.json" "$E/out.json"
	check_eq "todo: one GetObject for it" "$(s3_calls GetObject)" 1
fi

# --- auth secrets: a changed secret reaches the stack (rotation) -------------------------
# test/auth/oauth: Google + an OIDC provider whose client secrets the secret
# fetcher (Custom::SecretFetcher) reads at deploy time. The deployer sets
# the parameter SynthSecretVersions to a digest of the secrets' SSM versions:
# unchanged secrets keep the deploy a no-op; `synth secret set` with a new
# value makes the next deploy update the fetcher.
AU=$TMP/authapp
mkdir -p "$AU"
cp "$SYNTH_ROOT/test/auth/oauth/backend.c" "$AU/"
AUSTACK=
GOOGLE_V1=GOCSPX-rotation-first-$$-x7
GOOGLE_V2=GOCSPX-rotation-second-$$-q2
OKTA_V=okta-secret-$$-never-printed
secret_set() { # NAME VALUE ARGS...: synth secret set NAME (value on stdin)
	local name=$1 value=$2
	shift 2
	printf '%s\n' "$value" | (cd "$AU" && "$SYNTH" secret set "$name" "$@") >>"$TMP/all-output" 2>&1
}
secret_set GOOGLE_CLIENT_SECRET "$GOOGLE_V1" --branch main
check_eq "auth: synth secret set GOOGLE_CLIENT_SECRET --branch main" "$?" 0
mark
run "$AU" deploy --branch main
check_eq "auth: a provider's secret never set: exit 6" "$RC" 6
check_contains "auth: the missing secret is named, with the command that sets it" "$OUTTXT" \
	'secret OKTA_CLIENT_SECRET is not set: run `synth secret set OKTA_CLIENT_SECRET --branch main`'
check_eq "auth: a secret never set: no mutating call, nothing uploaded" "$(cfn_calls mutating),$(s3_calls PutObject)" "0,0"
secret_set OKTA_CLIENT_SECRET "$OKTA_V" --branch main --shared
check_eq "auth: synth secret set OKTA_CLIENT_SECRET --shared" "$?" 0

mark
run "$AU" deploy --branch main
check_eq "auth: deploy #1: exit 0" "$RC" 0
AUSTACK=$(printf '%s\n' "$OUTTXT" | grep -o 'synth-authapp-main-branch-[0-9a-f]*' | head -1)
check_contains "auth: deploy #1 creates the stack" "$OUTTXT" "stack $AUSTACK created"
check_eq "auth: the versions were read without decryption (GetParameters, no GetParameter)" \
	"$(cfn_calls GetParameters),$(cfn_calls GetParameter)" "1,0"
V1=$(stack_field "$AUSTACK" '[p["ParameterValue"] for p in s["Parameters"] if p["ParameterKey"]=="SynthSecretVersions"][0]')
check_match "auth: the stack's SynthSecretVersions is a digest, not the default" "$V1" '^[0-9a-f]{64}$'
AUTPL=$(ls "$AU"/cdk.out/*.template.json | grep -v nested | head -1)
FETCHER=$("$SYSPY" -c 'import json,sys; t=json.load(open(sys.argv[1])); print([k for k,v in t["Resources"].items() if v["Type"]=="Custom::SecretFetcher"][0])' "$AUTPL")
check_eq "auth: the fetcher's properties reference the parameter" \
	"$("$SYSPY" -c 'import json,sys; t=json.load(open(sys.argv[1])); print(t["Resources"][sys.argv[2]]["Properties"]["Versions"])' "$AUTPL" "$FETCHER")" \
	"{'Ref': 'SynthSecretVersions'}"

mark
run "$AU" deploy --branch main
check_eq "auth: deploy #2, nothing changed: exit 0" "$RC" 0
check_contains "auth: deploy #2: no changes" "$OUTTXT" "stack $AUSTACK: no changes"
check_eq "auth: deploy #2: zero mutating calls, zero S3 calls" "$(cfn_calls mutating),$(s3_calls)" "0,0"
check_eq "auth: deploy #2: DescribeStacks, GetParameters, GetTemplate only" \
	"$(cfn_calls DescribeStacks),$(cfn_calls GetParameters),$(cfn_calls GetTemplate),$(cfn_calls)" "2,1,2,5"

# The shared value of a secret set on the branch is not the one the fetcher
# reads: changing it changes nothing.
secret_set GOOGLE_CLIENT_SECRET "shared-google-$$" --branch main --shared
mark
run "$AU" deploy --branch main
check_eq "auth: a shadowed shared value changed: no changes, zero mutating calls" \
	"$RC,$(cfn_calls mutating)" "0,0"

secret_set GOOGLE_CLIENT_SECRET "$GOOGLE_V2" --branch main
check_eq "auth: synth secret set GOOGLE_CLIENT_SECRET with a new value" "$?" 0
run "$AU" diff --branch main
check_eq "auth: diff: exit 0" "$RC" 0
check_contains "auth: diff names the changed secret parameter" "$OUTTXT" "~ parameter SynthSecretVersions"
check_contains "auth: diff counts it" "$OUTTXT" "1 resource would change"
mark
run "$AU" deploy --branch main
check_eq "auth: deploy #3 after the secret changed: exit 0" "$RC" 0
check_contains "auth: deploy #3 updates the stack" "$OUTTXT" "stack $AUSTACK updated"
check_contains "auth: deploy #3: the change set modifies the fetcher" "$OUTTXT" "~ Modify   $FETCHER (Custom::SecretFetcher)"
check_eq "auth: deploy #3: one change set executed" "$(cfn_calls ExecuteChangeSet)" 1
check_eq "auth: deploy #3: nothing uploaded (no asset changed)" "$(s3_calls PutObject)" 0
V2=$(stack_field "$AUSTACK" '[p["ParameterValue"] for p in s["Parameters"] if p["ParameterKey"]=="SynthSecretVersions"][0]')
check "auth: the stack's SynthSecretVersions changed" test "$V1" != "$V2"
NCH=$(printf '%s\n' "$OUTTXT" | grep -cE '^ *[~+-] (Add|Modify|Remove) ')
check_eq "auth: deploy #3: exactly one resource changes (the fetcher)" "$NCH" 1
mark
run "$AU" deploy --branch main
check_eq "auth: deploy #4, nothing changed since: no changes, zero mutating calls" \
	"$RC,$(cfn_calls mutating)" "0,0"

# The secret values are nowhere: not in the calls log, the peer's state,
# the assembly, the templates or any output.
LEAK=
for v in "$GOOGLE_V1" "$GOOGLE_V2" "$OKTA_V" "shared-google-$$"; do
	admin "$PEERS_ADMIN_CFN/calls" | grep -qF -- "$v" && LEAK="$LEAK calls"
	admin "$PEERS_ADMIN_CFN/stacks/$AUSTACK" | grep -qF -- "$v" && LEAK="$LEAK stack"
	grep -rqF -- "$v" "$AU/cdk.out" "$AU/amplify_outputs.json" && LEAK="$LEAK assembly"
	grep -qF -- "$v" "$TMP/all-output" && LEAK="$LEAK output"
	grep -qF -- "$v" "$PEERS_DIR"/*.log 2>/dev/null && LEAK="$LEAK peer-logs"
done
check_eq "auth: no secret value in the calls log, the stack, the assembly, the outputs or the peers' logs" "${LEAK:-none}" none

# The same when auth lands in a nested stack (495 topics first): the
# parameter goes down to it, and a rotated secret updates the nested
# stack's fetcher.
NA=$TMP/nestauth
mkdir -p "$NA"
cat >"$NA/backend.c" <<'C'
#include <stdio.h>
#include <synth.h>

int main(int argc, char **argv)
{
	synth_backend *b;
	if (synth_backend_new(&b, argc, argv) < 0)
		return synth_backend_fail(NULL);
	for (int i = 0; i < 495; i++) {
		char id[32];
		snprintf(id, sizeof id, "Topic%03d", i);
		synth_backend_add_resource(b, id, "AWS::SNS::Topic", json_object());
	}
	synth_define_auth(b, &(synth_auth_props){.external = &(synth_auth_external){
		.google = &(synth_auth_provider){.client_id = "g-id",
						 .client_secret = "GOOGLE_CLIENT_SECRET"},
		.callback_urls = (const char *const[]){"http://localhost:3000/", NULL},
		.logout_urls = (const char *const[]){"http://localhost:3000/", NULL}}});
	return synth_backend_main(b);
}
C
printf '%s\n' "$GOOGLE_V1" | (cd "$NA" && "$SYNTH" secret set GOOGLE_CLIENT_SECRET --branch main) >>"$TMP/all-output" 2>&1
admin -X POST "$PEERS_ADMIN_CFN/cfn/settings" -d '{"step_ms":0}' >/dev/null
run "$NA" deploy --branch main -q
check_eq "nested auth: deploy #1: exit 0" "$RC" 0
NFILE=$(grep -l '"Custom::SecretFetcher"' "$NA"/cdk.out/*.nested.template.json 2>/dev/null | head -1)
check "nested auth: the fetcher is in a nested template" test -n "$NFILE"
mark
run "$NA" deploy --branch main
check_eq "nested auth: deploy #2: no changes, zero mutating calls" \
	"$RC,$(cfn_calls mutating)" "0,0"
printf '%s\n' "$GOOGLE_V2" | (cd "$NA" && "$SYNTH" secret set GOOGLE_CLIENT_SECRET --branch main) >>"$TMP/all-output" 2>&1
mark
run "$NA" deploy --branch main
check_eq "nested auth: deploy #3 after the secret changed: exit 0" "$RC" 0
check_match "nested auth: deploy #3 updates the nested stack" "$OUTTXT" "~ Modify +Nested[0-9A-Za-z]+ \(AWS::CloudFormation::Stack\)"
check_match "nested auth: ... and its fetcher" "$OUTTXT" "UPDATE_COMPLETE +authSecrets[0-9A-F]+ \(Custom::SecretFetcher\)"
admin -X POST "$PEERS_ADMIN_CFN/cfn/settings" -d '{"step_ms":20}' >/dev/null

# --- valgrind on a whole update (normal build only) ------------------------------------
if ! is_san && command -v valgrind >/dev/null; then
	change valgrind
	run "$W" --branch main -q
	(cd "$W" && valgrind -q --leak-check=full --errors-for-leak-kinds=definite,indirect \
		--error-exitcode=9 "$SYNTH" deploy --branch main --assembly cdk.out -q) >"$T_OUT" 2>&1 </dev/null
	RC=$?
	check_eq "valgrind: an update deploy has no error and no leak" "$RC" 0
	[ "$RC" = 0 ] || diag_file "$T_OUT"
fi

# --- secrets never printed ------------------------------------------------------------
check_not_contains "the secret value is never printed" "$(cat "$TMP/all-output")" "$SECRET_VALUE"
check_not_contains "the secret access key is never printed" "$(cat "$TMP/all-output")" "$AWS_SECRET_ACCESS_KEY"

finish

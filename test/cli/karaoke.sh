#!/usr/bin/env bash
# samples/karaoke (issue #13 parts 10-11): the karaoke backend in C with
# Python handlers.
#   1. its handlers' unit tests (python3 -m unittest, samples/karaoke/tests,
#      on a boto3 stub: run by /usr/bin/python3, which has no boto3) pass;
#   2. its assembly is the golden one (test/golden/karaoke, byte for byte;
#      test/cli/golden.sh also lints it) and has what the sample promises:
#      resource counts, JWT on every route, the links' environment and
#      least-privilege grants, the queue's DLQ and partial batch responses,
#      the bus rules' patterns, the cron's time zone, the email subscription;
#   3. on the local peers: `synth deploy --branch test|dev|prod` gives three
#      independent stacks, CREATE_COMPLETE, each with its four API URLs in
#      amplify_outputs.json's custom section; the same deploy again changes
#      nothing; a new route and a table's TTL on branch test update that
#      stack alone (UPDATE_COMPLETE, +3 resources); destroy removes it and
#      leaves dev and prod.
. "$(dirname "$0")/lib/common.bash"

SAMPLE=$SYNTH_ROOT/samples/karaoke
GOLD=$SYNTH_ROOT/test/golden/karaoke
export PYTHONDONTWRITEBYTECODE=1

# --- 1. the Python unit tests -----------------------------------------------------
PY=$SYSPY
[ -x "$PY" ] || PY=$(command -v python3)
U=$TMP/unit
copy_sample "$SAMPLE" "$U"
(cd "$U" && "$PY" -m unittest discover -s tests -t tests -v) >"$TMP/unit.log" 2>&1
RC=$?
check_eq "python unittest: exit 0 ($PY)" "$RC" 0
[ "$RC" = 0 ] || diag_file "$TMP/unit.log" 40
ran=$(sed -n 's/^Ran \([0-9]*\) tests\{0,1\} in.*/\1/p' "$TMP/unit.log")
check_match "python unittest: at least 30 tests ran (ran ${ran:-0})" "${ran:-0}" '^([3-9][0-9]|[1-9][0-9]{2,})$'
check_eq "python unittest: none failed or errored" "$(grep -cE '\.\.\. (FAIL|ERROR)$' "$TMP/unit.log")" 0
for svc in singers songs rotations performances; do
	check_match "python unittest: test_$svc.py ran ($(grep -c "(test_$svc\\." "$TMP/unit.log") tests)" \
		"$(grep -c "(test_$svc\\." "$TMP/unit.log")" '^[1-9]' 
done
check_eq "the handlers do not need boto3 installed to be tested ($PY has none, or a stub replaced it)" \
	"$(grep -c "No module named 'boto3'" "$TMP/unit.log")" 0

# --- 2. the assembly -----------------------------------------------------------------
A=$TMP/golden/karaoke
copy_sample "$SAMPLE" "$A"
rm -rf "$A/tests"   # not part of the backend; golden.sh synthesizes the sample as it is
synth_in "$A" --branch main -q
check_eq "synth --branch main: exit 0" "$RC" 0
[ "$RC" = 0 ] || diag "$ERR"
if [ -d "$GOLD" ]; then
	d=$(diff -r -q "$GOLD" "$A/cdk.out" 2>&1)
	check_eq "the assembly is test/golden/karaoke byte for byte" "$d" ""
else
	fail "test/golden/karaoke exists (UPDATE_GOLDEN=1 bash test/cli/golden.sh)"
fi
TPL=$(ls "$A"/cdk.out/*.template.json 2>/dev/null | head -n 1)
facts=$("$SYSPY" - "${TPL:-/dev/null}" <<'PY'
import collections, json, sys
t = json.load(open(sys.argv[1]))
R = t["Resources"]
by = collections.Counter(r["Type"] for r in R.values())
def of(ty):
    return [r for r in R.values() if r["Type"] == ty]
def path(r):
    return r.get("Metadata", {}).get("synth:path", "")
out = {}
out["resources"] = len(R)
for ty in ("AWS::Lambda::Function", "AWS::DynamoDB::Table", "AWS::ApiGatewayV2::Api",
           "AWS::ApiGatewayV2::Route", "AWS::ApiGatewayV2::Authorizer", "AWS::SQS::Queue",
           "AWS::Events::EventBus", "AWS::Events::Rule", "AWS::SNS::Topic",
           "AWS::SNS::Subscription", "AWS::Scheduler::Schedule",
           "AWS::Lambda::EventSourceMapping", "AWS::Cognito::UserPool"):
    out[ty.split("::", 1)[1]] = by[ty]
fns = {path(r).split("/")[0]: r["Properties"] for r in of("AWS::Lambda::Function")}
out["runtimes"] = sorted({p["Runtime"] for p in fns.values()})
out["handlers"] = {k: p["Handler"] for k, p in fns.items()}
out["env"] = {k: sorted(p.get("Environment", {}).get("Variables", {})) for k, p in fns.items()}
routes = of("AWS::ApiGatewayV2::Route")
out["routes_jwt"] = sum(1 for r in routes if r["Properties"].get("AuthorizationType") == "JWT")
out["authorizers_jwt"] = sum(1 for r in of("AWS::ApiGatewayV2::Authorizer")
                             if r["Properties"]["AuthorizerType"] == "JWT")
out["outputs"] = sorted(t.get("Outputs", {}))
pool = of("AWS::Cognito::UserPool")[0]["Properties"]
out["pool"] = [pool.get("UsernameAttributes"), sorted(pool.get("LambdaConfig", {}))]
q = {path(r): r["Properties"] for r in of("AWS::SQS::Queue")}
out["redrive"] = q.get("rotation-signups/Queue", {}).get("RedrivePolicy", {}).get("maxReceiveCount")
out["visibility"] = q.get("rotation-signups/Queue", {}).get("VisibilityTimeout")
esm = of("AWS::Lambda::EventSourceMapping")
out["esm"] = [path(esm[0]), esm[0]["Properties"].get("FunctionResponseTypes")] if esm else None
out["rules"] = sorted((path(r).split("/")[0], json.dumps(r["Properties"]["EventPattern"], sort_keys=True))
                      for r in of("AWS::Events::Rule"))
s = of("AWS::Scheduler::Schedule")[0]["Properties"]
out["schedule"] = [s["ScheduleExpression"], s.get("ScheduleExpressionTimezone")]
sub = of("AWS::SNS::Subscription")[0]["Properties"]
out["email"] = [sub["Protocol"], sub.get("FilterPolicy")]
ttl = {path(r): r["Properties"].get("TimeToLiveSpecification") for r in of("AWS::DynamoDB::Table")}
out["ttl"] = ttl.get("rotations/Table")
# Least privilege: what each function may do (action lists, sorted, by service).
acts = collections.defaultdict(set)
for r in of("AWS::IAM::Policy"):
    fn = path(r).split("/")[0]
    for st in r["Properties"]["PolicyDocument"]["Statement"]:
        a = st["Action"]
        acts[fn].update([a] if isinstance(a, str) else a)
out["actions"] = {k: sorted(v) for k, v in acts.items()}
print(json.dumps(out, sort_keys=True))
PY
)
fact() { "$SYSPY" -c "import json,sys; d=json.loads(sys.argv[1]); print(json.dumps(eval(sys.argv[2], {'d': d}), sort_keys=True))" "$facts" "$1"; }
check_eq "126 resources in one stack" "$(fact 'd["resources"]')" 126
check_eq "9 Python functions, all python3.13" "$(fact '[d["Lambda::Function"], d["runtimes"]]')" '[9, ["python3.13"]]'
check_eq "4 DynamoDB tables (singers, songs, rotations, performances)" "$(fact 'd["DynamoDB::Table"]')" 4
check_eq "4 HTTP APIs, 4 JWT authorizers" "$(fact '[d["ApiGatewayV2::Api"], d["authorizers_jwt"]]')" '[4, 4]'
check_eq "17 routes, every one JWT-authorized (the default with auth)" \
	"$(fact '[d["ApiGatewayV2::Route"], d["routes_jwt"]]')" '[17, 17]'
check_eq "the user pool: email sign-in, a post-confirmation trigger" "$(fact 'd["pool"]')" \
	'[["email"], ["PostConfirmation"]]'
check_eq "one function per module: handlers" "$(fact 'd["handlers"]')" \
	'{"performancesHandler": "performances.handler", "performancesLog": "performances.on_performance_completed", "postConfirmation": "singers.post_confirmation", "rotationsAdvance": "rotations.on_performance_completed", "rotationsCleanup": "rotations.cleanup_stale", "rotationsHandler": "rotations.handler", "rotationsSignups": "rotations.process_signups", "singersHandler": "singers.handler", "songsHandler": "songs.handler"}'
check_eq "the sign-up trigger gets the singers table and the topic" "$(fact 'd["env"]["postConfirmation"]')" \
	'["SYNTH_SINGERS_ARN", "SYNTH_SINGERS_NAME", "SYNTH_SINGER_NOTIFICATIONS_ARN"]'
check_eq "the rotations API gets its table, the queue and the bus" "$(fact 'd["env"]["rotationsHandler"]')" \
	'["SYNTH_KARAOKE_ARN", "SYNTH_KARAOKE_NAME", "SYNTH_ROTATIONS_ARN", "SYNTH_ROTATIONS_NAME", "SYNTH_ROTATION_SIGNUPS_ARN", "SYNTH_ROTATION_SIGNUPS_URL"]'
check_eq "the trigger may write singers and publish, nothing else" "$(fact 'd["actions"]["postConfirmation"]')" \
	'["dynamodb:BatchWriteItem", "dynamodb:DeleteItem", "dynamodb:DescribeTable", "dynamodb:PutItem", "dynamodb:UpdateItem", "sns:Publish"]'
check_contains "the rotations API may send to the queue and put events" "$(fact 'd["actions"]["rotationsHandler"]')" \
	'"events:PutEvents"'
check_contains "  and sqs:SendMessage" "$(fact 'd["actions"]["rotationsHandler"]')" '"sqs:SendMessage"'
check_not_contains "the performances API only reads" "$(fact 'd["actions"]["performancesHandler"]')" 'PutItem'
check_eq "the sign-up queue and its DLQ (3 receives), visibility 60 s" \
	"$(fact '[d["SQS::Queue"], d["redrive"], d["visibility"]]')" '[2, 3, 60]'
check_eq "its consumer reports partial batch failures" "$(fact 'd["esm"]')" \
	'["rotationsSignups/rotation-signupsEventSource", ["ReportBatchItemFailures"]]'
check_eq "one bus, two rules on Performance Completed (rotations and performances react)" \
	"$(fact '[d["Events::EventBus"], [r[0] for r in d["rules"]]]')" '[1, ["performancesLog", "rotationsAdvance"]]'
check_contains "the rules match source and detail-type" "$(fact 'd["rules"]')" \
	'\"detail-type\": [\"Performance Completed\"], \"source\": [\"karaoke.rotations\"]'
check_eq "the nightly cron: 04:00 America/Chicago on EventBridge Scheduler" "$(fact 'd["schedule"]')" \
	'["cron(0 4 * * ? *)", "America/Chicago"]'
check_eq "the topic welcomes by email (filter kind=welcome)" "$(fact '[d["SNS::Topic"], d["email"]]')" \
	'[1, ["email", {"kind": ["welcome"]}]]'
check_eq "the rotations table expires items (TTL expires_at)" "$(fact 'd["ttl"]')" \
	'{"AttributeName": "expires_at", "Enabled": true}'
check_eq "outputs: auth's and the four API URLs" "$(fact '[o for o in d["outputs"] if o.endswith("ApiUrl")]')" \
	'["performancesApiUrl", "rotationsApiUrl", "singersApiUrl", "songsApiUrl"]'

# --- 3. deploy on the local peers ----------------------------------------------
export PEERS_DIR=$TMP/peers
cleanup() { bash "$SYNTH_ROOT/test/peers/peers.sh" stop >/dev/null 2>&1; rm -rf "$TMP"; }
trap cleanup EXIT
if ! bash "$SYNTH_ROOT/test/peers/setup.sh" >"$TMP/setup.log" 2>&1; then
	fail "the peers' dependencies install (test/peers/setup.sh)"; diag_file "$TMP/setup.log"; finish
fi
if env_lines=$(bash "$SYNTH_ROOT/test/peers/peers.sh" start 2>"$TMP/peers.err"); then
	pass "the peers start"
else
	fail "the peers start"; diag_file "$TMP/peers.err"; finish
fi
eval "$env_lines"
export AWS_CONFIG_FILE=$TMP/none AWS_SHARED_CREDENTIALS_FILE=$TMP/none
export SYNTH_POLL_MS=40,400 CI=true
curl -sS -X POST "$PEERS_ADMIN_CFN/cfn/settings" -d '{"step_ms": 2}' >/dev/null

W=$TMP/deploy/karaoke   # the namespace is the directory's name
copy_sample "$SAMPLE" "$W"
rm -rf "$W/tests"
T_OUT=$TMP/out
run() { (cd "$W" && "$SYNTH" "$@") >"$T_OUT" 2>&1 </dev/null; RC=$?; OUTTXT=$(cat "$T_OUT"); }
# stack NAME EXPR: EXPR over the endpoint's view of stack NAME (s), or "absent".
stack() {
	curl -sS "$PEERS_ADMIN_CFN/stacks/$1" 2>/dev/null | "$SYSPY" -c '
import json, sys
try:
    s = json.load(sys.stdin)
except ValueError:
    print("absent"); sys.exit()
if not isinstance(s, dict) or "StackStatus" not in s:
    print("absent"); sys.exit()
print(eval(sys.argv[1], {"s": s, "json": json}))' "$2"
}
# wait_for DESC DEADLINE_S CMD...: polls CMD until it succeeds or the deadline passes.
wait_for() {
	local d=$1 limit=$2 t0
	shift 2
	t0=$(date +%s)
	until "$@"; do
		if [ $(($(date +%s) - t0)) -ge "$limit" ]; then fail "$d (not within ${limit} s)"; return 1; fi
		sleep 0.2
	done
	pass "$d"
}
status_is() { [ -n "$1" ] && [ "$(stack "$1" 's["StackStatus"]')" = "$2" ]; }
mutating() { curl -sS "$PEERS_ADMIN_CFN/calls/summary" | "$SYSPY" -c 'import json,sys; print(json.load(sys.stdin)["mutating"])'; }

run bootstrap
check_eq "synth bootstrap" "$RC" 0
declare -A STACKS
for br in test dev prod; do
	mkdir -p "$TMP/outputs/$br"
	run deploy --branch "$br" --outputs "$TMP/outputs/$br/amplify_outputs.json" -q
	check_eq "deploy --branch $br: exit 0" "$RC" 0
	[ "$RC" = 0 ] || diag "$(tail -n 15 "$T_OUT")"
	# The stack deployed is the one the assembly names.
	STACKS[$br]=$(cd "$W/cdk.out" 2>/dev/null && ls synth-karaoke-"$br"-branch-*.template.json 2>/dev/null |
		sed 's/\.template\.json$//' | head -n 1)
	check_match "deploy --branch $br: names its stack" "${STACKS[$br]}" "^synth-karaoke-$br-branch-[0-9a-f]{10}$"
	wait_for "stack of $br: CREATE_COMPLETE" 120 status_is "${STACKS[$br]}" CREATE_COMPLETE
	check_eq "stack of $br: 126 resources" "$(stack "${STACKS[$br]}" 'len(s["Resources"])')" 126
done
check_eq "three distinct stack names" "$(printf '%s\n' "${STACKS[@]}" | sort -u | grep -c .)" 3
ALL=$(curl -sS "$PEERS_ADMIN_CFN/stacks" | "$SYSPY" -c '
import json, sys
print(" ".join(sorted(s["StackName"] for s in json.load(sys.stdin)["stacks"]
                      if s["StackName"].startswith("synth-karaoke-") and s["StackStatus"] == "CREATE_COMPLETE")))')
check_eq "the endpoint holds exactly these three karaoke stacks" "$ALL" \
	"$(printf '%s\n' "${STACKS[@]}" | sort | tr '\n' ' ' | sed 's/ $//')"

urls_of() { # BRANCH: the custom section's API URLs, one per line
	"$SYSPY" -c '
import json, sys
c = json.load(open(sys.argv[1])).get("custom", {})
for k in sorted(c):
    if k.endswith("ApiUrl"):
        print(k, c[k])' "$TMP/outputs/$1/amplify_outputs.json" 2>/dev/null
}
for br in test dev prod; do
	U=$(urls_of "$br")
	check_eq "amplify_outputs.json of $br: four API URLs in custom" "$(printf '%s\n' "$U" | grep -cE '^[a-z]+ApiUrl https://[a-z0-9]+\.execute-api\.us-east-1\.amazonaws\.com$')" 4
	out_urls=$(stack "${STACKS[$br]}" '"\n".join(sorted("%s %s" % (o["OutputKey"], o["OutputValue"]) for o in s["Outputs"] if o["OutputKey"].endswith("ApiUrl")))')
	check_eq "amplify_outputs.json of $br: the stack's outputs" "$U" "$out_urls"
	check_contains "amplify_outputs.json of $br: the user pool" "$(cat "$TMP/outputs/$br/amplify_outputs.json")" '"user_pool_id"'
done
check_eq "each branch has its own APIs (12 distinct URLs)" \
	"$(for br in test dev prod; do urls_of "$br"; done | awk '{print $2}' | sort -u | grep -c .)" 12

# The same deploy again: nothing to do.
curl -sS -X DELETE "$PEERS_ADMIN_CFN/calls" >/dev/null
run deploy --branch dev --outputs "$TMP/outputs/dev/amplify_outputs.json" -q
check_eq "dev again: exit 0, no changes, zero mutating calls" \
	"$RC,$(printf '%s' "$OUTTXT" | grep -c 'no changes'),$(mutating)" "0,1,0"

# An update on test: a new route, and a TTL on the songs table.
"$SYSPY" - "$W/songs/resource.c" <<'PY'
import sys
p = sys.argv[1]
s = open(p).read()
s = s.replace('.hash_key = "id",', '.hash_key = "id",\n\t\t.ttl = "expires_at",', 1)
s = s.replace('synth_api_route(api, "DELETE /songs/{id}", fn, NULL);',
              'synth_api_route(api, "DELETE /songs/{id}", fn, NULL);\n\tsynth_api_route(api, "GET /artists/{artist}/songs", fn, NULL);', 1)
open(p, "w").write(s)
PY
check_contains "the sample copy is changed (a route, a TTL)" "$(cat "$W/songs/resource.c")" 'GET /artists/{artist}/songs'
run deploy --branch test --outputs "$TMP/outputs/test/amplify_outputs.json" -q
check_eq "deploy --branch test after the change: exit 0" "$RC" 0
[ "$RC" = 0 ] || diag "$(tail -n 15 "$T_OUT")"
wait_for "stack of test: UPDATE_COMPLETE" 120 status_is "${STACKS[test]}" UPDATE_COMPLETE
check_eq "stack of test: 129 resources (+ integration, route, permission)" \
	"$(stack "${STACKS[test]}" 'len(s["Resources"])')" 129
check_contains "stack of test: the route is deployed" "$(stack "${STACKS[test]}" 's["TemplateBody"]')" \
	'"RouteKey": "GET /artists/{artist}/songs"'
check_contains "stack of test: the songs table has a TTL" \
	"$(stack "${STACKS[test]}" 'json.dumps([r["Properties"].get("TimeToLiveSpecification") for k, r in json.loads(s["TemplateBody"])["Resources"].items() if k.startswith("songsTable")])')" \
	'"AttributeName": "expires_at"'
for br in dev prod; do
	check_eq "stack of $br: untouched (CREATE_COMPLETE, never updated, 126 resources)" \
		"$(stack "${STACKS[$br]}" '[s["StackStatus"], s["LastUpdatedTime"], len(s["Resources"])]')" \
		"['CREATE_COMPLETE', None, 126]"
done

# Delete test.
run destroy --branch test --yes
check_eq "destroy --branch test --yes: exit 0" "$RC" 0
check_contains "destroy: names the stack" "$OUTTXT" "deleted stack ${STACKS[test]}"
gone() { case $(stack "${STACKS[test]}" 's["StackStatus"]') in absent | DELETE_COMPLETE) return 0 ;; esac; return 1; }
wait_for "stack of test: deleted" 120 gone
for br in dev prod; do
	check_eq "stack of $br: still CREATE_COMPLETE" "$(stack "${STACKS[$br]}" 's["StackStatus"]')" CREATE_COMPLETE
done
run destroy --branch test --yes
check_eq "destroy again: exit 0, nothing to delete" \
	"$RC,$(printf '%s' "$OUTTXT" | grep -c 'nothing to delete')" "0,1"
finish

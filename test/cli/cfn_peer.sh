#!/usr/bin/env bash
# The CloudFormation + SSM test endpoint (test/peers/cfn.py, ssm.py), driven
# by Debian's real `aws` CLI as a deployer would drive AWS: a stack with a
# nested stack (its template in the S3 peer), states over time, outputs
# resolved through the nested stack, events, change sets (no changes ->
# FAILED with AWS's reason; a change -> Modify -> executed), AWS's errors,
# injected failures and their rollbacks (root cause in the nested stack's
# events), holds, throttling retried by the CLI, exports in use, delete;
# SSM parameters put/get/list/delete; every resource type the components
# emit (Ref, each documented GetAtt, replacement). Starts and stops its own peers.
. "$(dirname "$0")/lib/common.bash"

# This suite tests the Python peer with the aws CLI; no libsynth code runs,
# so the sanitizer pass of test/run.sh would repeat it identically.
if is_san; then
	echo "# cfn_peer: runs in the normal pass only (no libsynth code under test)"
	finish
fi

P=$SYNTH_ROOT/test/peers
AWS=/usr/bin/aws
trap 'stop_peers; rm -rf "$TMP"' EXIT
stop_peers() {
	if [ -n "${PEERS_DIR:-}" ] && [ -d "$PEERS_DIR" ]; then bash "$P/peers.sh" stop >/dev/null 2>&1; fi
}

if ! bash "$P/setup.sh" >"$TMP/setup.log" 2>&1; then
	fail "test/peers/setup.sh"
	diag_file "$TMP/setup.log"
	finish
fi
export PEERS_DIR=$TMP/peers
if ! bash "$P/peers.sh" start >"$TMP/env" 2>"$TMP/start.err"; then
	fail "peers start"
	diag_file "$TMP/start.err"
	finish
fi
. "$TMP/env"
pass "peers start"

mkdir -p "$TMP/aws"
export AWS_CONFIG_FILE=$TMP/aws/config AWS_SHARED_CREDENTIALS_FILE=$TMP/aws/credentials
printf '[default]\nregion = us-east-1\n' >"$AWS_CONFIG_FILE"
: >"$AWS_SHARED_CREDENTIALS_FILE"
export AWS_PAGER="" AWS_EC2_METADATA_DISABLED=true AWS_RETRY_MODE=standard AWS_MAX_ATTEMPTS=3 AWS_CLI_AUTO_PROMPT=off
unset AWS_DEFAULT_PROFILE AWS_CA_BUNDLE
EP=$AWS_ENDPOINT_URL_CLOUDFORMATION

run_aws() {
	OUT=$("$AWS" --no-cli-pager --color off "$@" 2>"$TMP/.aws.err")
	RC=$?
	ERR=$(cat "$TMP/.aws.err")
}
s3() { run_aws --endpoint-url "$AWS_ENDPOINT_URL_S3" "$@"; }
cfn() { run_aws --endpoint-url "$EP" cloudformation "$@"; }
ssm() { run_aws --endpoint-url "$EP" ssm "$@"; }
admin() { curl -sS -X "$1" "$2" ${3:+-H 'Content-Type: application/json' -d "$3"}; }
jq_py() { "$SYSPY" -c "import json,sys; d=json.load(sys.stdin); $1"; }
flat() { printf '%s' "$1" | tr '\t\n' '  ' | sed 's/ *$//'; }

# Waits poll for a condition with a generous deadline (WAIT_S): on a loaded
# machine (suites side by side, shared CI runners) one aws call can take
# seconds; the deadline only bounds a test that has already failed.
WAIT_S=300
# wait_stack NAME FINAL_REGEX [SECONDS]: polls DescribeStacks until the
# status matches; $SEEN lists the distinct statuses seen, $STATUS the last.
wait_stack() {
	SEEN="" STATUS=""
	poll_until "${3:-$WAIT_S}" stack_is "$1" "$2"
	local rc=$?
	SEEN=${SEEN# }
	return $rc
}
stack_is() {
	cfn describe-stacks --stack-name "$1" --query 'Stacks[0].StackStatus' --output text
	STATUS=$OUT
	case " $SEEN " in *" $STATUS "*) ;; *) SEEN="$SEEN $STATUS" ;; esac
	printf '%s\n' "$STATUS" | grep -Eq "^($2)\$"
}
# wait_cs STACK CHANGESET: until the change set is no longer pending.
wait_cs() { poll_until "$WAIT_S" cs_settled "$1" "$2"; }
cs_settled() {
	cfn describe-change-set --stack-name "$1" --change-set-name "$2" --query Status --output text
	case $OUT in CREATE_COMPLETE | FAILED | DELETE_*) return 0 ;; esac
	return 1
}
# held STACK: a hold fault keeps STACK in a status now.
held() {
	admin GET "$PEERS_ADMIN_CFN/cfn/holds" | jq_py "sys.exit(0 if any(h['name'] == '$1' for h in d['holds']) else 1)"
}
events() { # events STACK: "Logical Status" lines, oldest first
	cfn describe-stack-events --stack-name "$1" --query 'StackEvents[].[LogicalResourceId,ResourceStatus]' --output text
	printf '%s\n' "$OUT" | tac | tr '\t' ' '
}

# --- templates -----------------------------------------------------------------
cat >"$TMP/child.json" <<'EOF'
{"AWSTemplateFormatVersion": "2010-09-09",
 "Parameters": {"PoolName": {"Type": "String"}},
 "Resources": {
  "UserPool": {"Type": "AWS::Cognito::UserPool", "Properties": {"UserPoolName": {"Ref": "PoolName"}}},
  "Client": {"Type": "AWS::Cognito::UserPoolClient", "Properties": {"UserPoolId": {"Ref": "UserPool"}}}},
 "Outputs": {
  "UserPoolId": {"Value": {"Ref": "UserPool"}},
  "ProviderName": {"Value": {"Fn::GetAtt": ["UserPool", "ProviderName"]}}}}
EOF
sed 's/"UserPoolId": {"Ref": "UserPool"}}}},/"UserPoolId": {"Ref": "UserPool"}, "GenerateSecret": true}}},/' \
	"$TMP/child.json" >"$TMP/child2.json"
# root.json with a placeholder for the nested template's URL and Fn's variable.
cat >"$TMP/root.in" <<'EOF'
{"AWSTemplateFormatVersion": "2010-09-09", "Description": "root",
 "Parameters": {"Env": {"Type": "String", "Default": "dev", "AllowedValues": ["dev", "prod"]}},
 "Conditions": {"IsProd": {"Fn::Equals": [{"Ref": "Env"}, "prod"]}},
 "Resources": {
  "Bucket": {"Type": "AWS::S3::Bucket"},
  "Role": {"Type": "AWS::IAM::Role", "Properties": {"AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": []}}},
  "Fn": {"Type": "AWS::Lambda::Function", "Properties": {"Role": {"Fn::GetAtt": ["Role", "Arn"]},
     "Environment": {"Variables": {"BUCKET": {"Ref": "Bucket"}, "MODE": "@MODE@"}}}},
  "Auth": {"Type": "AWS::CloudFormation::Stack", "Properties": {"TemplateURL": "@URL@",
     "Parameters": {"PoolName": {"Fn::Sub": "${AWS::StackName}-pool"}}}},
  "Topic": {"Type": "AWS::SNS::Topic", "Condition": "IsProd"}},
 "Outputs": {
  "BucketName": {"Value": {"Ref": "Bucket"}, "Export": {"Name": {"Fn::Sub": "${AWS::StackName}-bucket"}}},
  "FnArn": {"Value": {"Fn::GetAtt": ["Fn", "Arn"]}},
  "PoolId": {"Value": {"Fn::GetAtt": ["Auth", "Outputs.UserPoolId"]}},
  "Mode": {"Value": {"Fn::Join": ["/", [{"Ref": "AWS::Region"}, {"Fn::If": ["IsProd", "prod", "dev"]}, "@MODE@"]]}}}}
EOF
root() { # root MODE URL > file
	sed -e "s|@MODE@|$1|g" -e "s|@URL@|$2|" "$TMP/root.in"
}
TPL=cfn-templates-123456789012
s3 s3 mb "s3://$TPL"
s3 s3 cp --no-progress "$TMP/child.json" "s3://$TPL/nested/child.json"
s3 s3 cp --no-progress "$TMP/child2.json" "s3://$TPL/nested/child2.json"
check_eq "aws s3 cp: the nested templates are in the S3 peer" "$RC" 0
URL1=https://s3.us-east-1.amazonaws.com/$TPL/nested/child.json
URL2=https://$TPL.s3.amazonaws.com/nested/child2.json
root one "$URL1" >"$TMP/root1.json"
root two "$URL1" >"$TMP/root2.json"
root two "$URL2" >"$TMP/root3.json"

# --- create, watched over time ------------------------------------------------------
# The stack stays CREATE_IN_PROGRESS until a DescribeStacks has shown it
# (hold "seen": 1), however late a loaded machine runs the poller; then
# resource steps of 120 ms.
admin POST "$PEERS_ADMIN_CFN/cfn/settings" '{"step_ms": 120}' >/dev/null
admin POST "$PEERS_ADMIN_CFN/cfn/faults" '{"kind": "hold", "stack": "app", "status": "CREATE_IN_PROGRESS", "seen": 1, "ms": 300000}' >/dev/null
cfn create-stack --stack-name app --template-body "file://$TMP/root1.json"
check_contains "create-stack with an IAM role and no capability: InsufficientCapabilitiesException" "$ERR" \
	"An error occurred (InsufficientCapabilitiesException) when calling the CreateStack operation: Requires capabilities : [CAPABILITY_IAM]"
cfn create-stack --stack-name app --template-body "file://$TMP/root1.json" --capabilities CAPABILITY_IAM \
	--parameters ParameterKey=Env,ParameterValue=dev --tags Key=branch,Value=main --query StackId --output text
SID=$OUT
check_match "create-stack: a stack ARN" "$SID" '^arn:aws:cloudformation:us-east-1:123456789012:stack/app/[0-9a-f-]{36}$'
wait_stack app 'CREATE_COMPLETE|.*FAILED|ROLLBACK_COMPLETE'
check_eq "DescribeStacks reaches CREATE_COMPLETE" "$STATUS" CREATE_COMPLETE
check_contains "a poller sees CREATE_IN_PROGRESS first" "$SEEN" "CREATE_IN_PROGRESS CREATE_COMPLETE"
check_eq "the hold on CREATE_IN_PROGRESS fired, and ended once seen" \
	"$(admin GET "$PEERS_ADMIN_CFN/cfn/faults" | jq_py 'print(len(d["faults"]))') $(admin GET "$PEERS_ADMIN_CFN/cfn/holds" | jq_py 'print(len(d["holds"]))')" "0 0"
admin POST "$PEERS_ADMIN_CFN/cfn/settings" '{"step_ms": 5, "changeset_ms": 5}' >/dev/null

cfn describe-stacks --stack-name app --output json
printf '%s' "$OUT" >"$TMP/app.json"
outs=$(jq_py 'print(" ".join("%s=%s" % (o["OutputKey"], o["OutputValue"]) for o in d["Stacks"][0]["Outputs"]))' <"$TMP/app.json")
check_match "outputs: Ref of a bucket, GetAtt Arn of a function" "$outs" \
	'BucketName=app-bucket-[a-z0-9]{12} FnArn=arn:aws:lambda:us-east-1:123456789012:function:app-Fn-[A-Z0-9]{12} '
check_match "outputs: GetAtt Outputs.X through the nested stack" "$outs" 'PoolId=us-east-1_[A-Za-z0-9]{9}( |$)'
check_contains "outputs: Fn::Join, Fn::If on a condition, a pseudo parameter" "$outs" "Mode=us-east-1/dev/one"
check_eq "outputs: the export name is registered" \
	"$(jq_py 'print([o.get("ExportName") for o in d["Stacks"][0]["Outputs"] if o["OutputKey"]=="BucketName"][0])' <"$TMP/app.json")" app-bucket
cfn list-exports --query 'Exports[].Name' --output text
check_eq "list-exports" "$OUT" app-bucket

cfn describe-stack-resource --stack-name app --logical-resource-id Auth --query StackResourceDetail.PhysicalResourceId --output text
NID=$OUT
check_match "the nested stack: a child stack named <root>-<LogicalId>-<RANDOM>" "$NID" \
	'^arn:aws:cloudformation:us-east-1:123456789012:stack/app-Auth-[A-Z0-9]{13}/'
cfn describe-stacks --stack-name "$NID" --query 'Stacks[0].[StackStatus,ParentId,RootId,Outputs[?OutputKey==`UserPoolId`].OutputValue|[0],Parameters[0].ParameterValue]' --output text
read -r nst npar nroot npool nparam <<<"$(flat "$OUT")"
check_eq "nested stack: CREATE_COMPLETE, ParentId and RootId the root" "$nst $npar $nroot" "CREATE_COMPLETE $SID $SID"
check_eq "nested stack: its output is the parent's PoolId" "PoolId=$npool" "$(printf '%s\n' $outs | grep '^PoolId=')"
check_eq "nested stack: its parameter from Fn::Sub \${AWS::StackName}" "$nparam" app-pool
cfn list-stack-resources --stack-name app --query 'StackResourceSummaries[].LogicalResourceId' --output text
check_eq "the resource whose Condition is false is not created" "$(flat "$OUT")" "Bucket Role Auth Fn"

ev=$(events app)
check_eq "events: the first is the stack's CREATE_IN_PROGRESS" "$(printf '%s\n' "$ev" | head -1)" "app CREATE_IN_PROGRESS"
check_eq "events: the last is the stack's CREATE_COMPLETE" "$(printf '%s\n' "$ev" | tail -1)" "app CREATE_COMPLETE"
order=$(printf '%s\n' "$ev" | grep ' CREATE_COMPLETE$' | cut -d' ' -f1 | tr '\n' ' ')
check_eq "events: resources complete in dependency order (Role before Fn)" "$order" "Bucket Role Auth Fn app "
check_eq "events: each resource IN_PROGRESS (twice: initiated) before COMPLETE" \
	"$(printf '%s\n' "$ev" | grep '^Fn ' | tr '\n' ',')" "Fn CREATE_IN_PROGRESS,Fn CREATE_IN_PROGRESS,Fn CREATE_COMPLETE,"
cfn describe-stack-events --stack-name app --query 'StackEvents[0].[EventId,StackName,ResourceType,PhysicalResourceId]' --output text
check_match "events: newest first, with EventId, StackName, type, physical id" "$(flat "$OUT")" \
	"^[0-9a-f-]{36} app AWS::CloudFormation::Stack $SID\$"
events "$NID" >"$TMP/nev"
check_eq "the nested stack has its own events" "$(head -1 "$TMP/nev") | $(tail -1 "$TMP/nev")" \
	"$(basename "$(dirname "$NID")") CREATE_IN_PROGRESS | $(basename "$(dirname "$NID")") CREATE_COMPLETE"
cfn get-template --stack-name app --query TemplateBody.Description --output text
check_eq "get-template: the body as submitted" "$OUT" root

# --- AWS's errors --------------------------------------------------------------------
cfn create-stack --stack-name app --template-body "file://$TMP/root1.json" --capabilities CAPABILITY_IAM
check_contains "create-stack again: AlreadyExistsException" "$ERR" "(AlreadyExistsException) when calling the CreateStack operation: Stack [app] already exists"
cfn update-stack --stack-name app --use-previous-template --capabilities CAPABILITY_IAM --parameters ParameterKey=Env,UsePreviousValue=true
check_contains "update-stack with nothing changed: No updates are to be performed." "$ERR" \
	"(ValidationError) when calling the UpdateStack operation: No updates are to be performed."
cfn update-stack --stack-name nope --use-previous-template
check_contains "update-stack of a missing stack" "$ERR" "(ValidationError) when calling the UpdateStack operation: Stack with id nope does not exist"
cfn create-stack --stack-name bad --template-body '{"Resources": {"A": {"Type": "AWS::S3::Bucket", "Properties": {"X": {"Ref": "Nope"}}}}}'
check_contains "a Ref to nothing: AWS's template format error" "$ERR" \
	"Template format error: Unresolved resource dependencies [Nope] in the Resources block of the template"
cfn create-stack --stack-name bad --template-body '{"Parameters": {"P": {"Type": "String"}}, "Resources": {"A": {"Type": "AWS::S3::Bucket"}}}'
check_contains "a parameter without a value" "$ERR" "Parameters: [P] must have values"
cfn create-stack --stack-name bad --template-body "file://$TMP/root1.json" --capabilities CAPABILITY_IAM --parameters ParameterKey=Env,ParameterValue=qa
check_contains "a value outside AllowedValues" "$ERR" "Parameter 'Env' must be one of AllowedValues"
cfn create-stack --stack-name bad --template-url "https://s3.us-east-1.amazonaws.com/$TPL/missing.json"
check_contains "a TemplateURL to a missing object" "$ERR" "S3 error: The specified key does not exist."
cfn describe-change-set --stack-name app --change-set-name nope
check_contains "describe-change-set of a missing change set: ChangeSetNotFound" "$ERR" "(ChangeSetNotFound)"
AWS_SECRET_ACCESS_KEY=not-the-secret cfn create-stack --stack-name forged --template-body "file://$TMP/root1.json"
check_contains "a wrong secret: SignatureDoesNotMatch" "$ERR" "(SignatureDoesNotMatch) when calling the CreateStack"
cfn describe-stacks --stack-name forged
check_contains "and no stack was created" "$ERR" "Stack with id forged does not exist"

# --- change sets ------------------------------------------------------------------------
cfn create-change-set --stack-name app --change-set-name same --use-previous-template --capabilities CAPABILITY_IAM \
	--parameters ParameterKey=Env,UsePreviousValue=true
wait_cs app same
cfn describe-change-set --stack-name app --change-set-name same --query '[Status,ExecutionStatus,StatusReason]' --output text
check_eq "a change set with no changes: FAILED with AWS's reason" "$(printf '%s' "$OUT" | tr '\t' '|')" \
	"FAILED|UNAVAILABLE|The submitted information didn't contain changes. Submit different information to create a change set."
cfn delete-change-set --stack-name app --change-set-name same
check_eq "delete-change-set" "$RC" 0
cfn create-change-set --stack-name app --change-set-name mode-two --template-body "file://$TMP/root2.json" \
	--capabilities CAPABILITY_IAM --description "mode two" --query Id --output text
CS=$OUT
check_match "create-change-set: a change set ARN" "$CS" '^arn:aws:cloudformation:us-east-1:123456789012:changeSet/mode-two/'
wait_cs app "$CS"
cfn describe-change-set --change-set-name "$CS" --query '[Status,ExecutionStatus,Changes[].ResourceChange.[Action,LogicalResourceId,Replacement,Details[0].Target.Name]]' --output text
check_eq "the change set (by ARN): CREATE_COMPLETE, AVAILABLE, Fn Modify of Environment, no replacement" \
	"$(flat "$OUT")" "CREATE_COMPLETE AVAILABLE Modify Fn False Environment"
cfn list-change-sets --stack-name app --query 'Summaries[].ChangeSetName' --output text
check_eq "list-change-sets" "$OUT" mode-two
cfn execute-change-set --stack-name app --change-set-name mode-two
wait_stack app 'UPDATE_COMPLETE|UPDATE_ROLLBACK_COMPLETE|.*FAILED'
check_eq "execute-change-set: UPDATE_COMPLETE" "$STATUS" UPDATE_COMPLETE
cfn describe-stacks --stack-name app --query 'Stacks[0].Outputs[?OutputKey==`Mode`].OutputValue' --output text
check_eq "the update's output" "$OUT" us-east-1/dev/two
cfn describe-change-set --change-set-name "$CS" --query ExecutionStatus --output text
check_eq "the executed change set: EXECUTE_COMPLETE" "$OUT" EXECUTE_COMPLETE
ev=$(events app)
check_eq "update events: Fn updated, then UPDATE_COMPLETE_CLEANUP_IN_PROGRESS, UPDATE_COMPLETE" \
	"$(printf '%s\n' "$ev" | tail -5 | tr '\n' ',')" \
	"app UPDATE_IN_PROGRESS,Fn UPDATE_IN_PROGRESS,Fn UPDATE_COMPLETE,app UPDATE_COMPLETE_CLEANUP_IN_PROGRESS,app UPDATE_COMPLETE,"

# --- failures on demand ----------------------------------------------------------------
# A resource of the nested stack fails its update: the parent's event says
# only "Embedded stack ...", the nested stack's events hold the root cause.
admin POST "$PEERS_ADMIN_CFN/cfn/faults" '{"kind": "fail_resource", "stack": "Auth", "logical_id": "Client", "reason": "Client secret generation is not allowed (peer)"}' >/dev/null
cfn create-change-set --stack-name app --change-set-name nested --template-body "file://$TMP/root3.json" --capabilities CAPABILITY_IAM
wait_cs app nested
cfn describe-change-set --stack-name app --change-set-name nested --query 'Changes[].ResourceChange.[Action,LogicalResourceId]' --output text
check_eq "a new nested template: the nested stack is Modify" "$(flat "$OUT")" "Modify Auth"
cfn execute-change-set --stack-name app --change-set-name nested
wait_stack app 'UPDATE_COMPLETE|UPDATE_ROLLBACK_COMPLETE|.*FAILED'
check_eq "nested failure: the root stack rolls back" "$STATUS" UPDATE_ROLLBACK_COMPLETE
check_eq "the root's events: UPDATE_ROLLBACK_IN_PROGRESS, ..._CLEANUP_IN_PROGRESS, UPDATE_ROLLBACK_COMPLETE" \
	"$(events app | grep '^app ' | tail -3 | tr '\n' ',')" \
	"app UPDATE_ROLLBACK_IN_PROGRESS,app UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS,app UPDATE_ROLLBACK_COMPLETE,"
cfn describe-stack-events --stack-name app --query 'StackEvents[?ResourceStatus==`UPDATE_FAILED`].[LogicalResourceId,ResourceStatusReason]' --output text
check_match "the parent's event: Embedded stack ... was not successfully updated" "$OUT" \
	"^Auth	Embedded stack $NID was not successfully updated\. Currently in UPDATE_ROLLBACK_IN_PROGRESS with reason: The following resource\(s\) failed to update: \[Client\]\."
cfn describe-stack-events --stack-name "$NID" --query 'StackEvents[?ResourceStatus==`UPDATE_FAILED`].[LogicalResourceId,ResourceStatusReason]' --output text
check_eq "the root cause in the nested stack's events" "$OUT" "Client	Client secret generation is not allowed (peer)"
cfn describe-stacks --stack-name "$NID" --query 'Stacks[0].StackStatus' --output text
check_eq "the nested stack rolled back too" "$OUT" UPDATE_ROLLBACK_COMPLETE
cfn get-template --stack-name app --query 'TemplateBody.Resources.Auth.Properties.TemplateURL' --output text
check_eq "after the rollback: the old template" "$OUT" "$URL1"

# "fail the update after N resources": two changes, the second fails.
sed -e 's/"MODE": "two"/"MODE": "three"/' -e 's/"Statement": \[\]/"Statement": [{"Effect": "Allow"}]/' "$TMP/root2.json" >"$TMP/root4.json"
admin POST "$PEERS_ADMIN_CFN/cfn/faults" '{"kind": "fail_after", "n": 1, "op": "update", "stack": "app"}' >/dev/null
cfn update-stack --stack-name app --template-body "file://$TMP/root4.json" --capabilities CAPABILITY_IAM
wait_stack app 'UPDATE_COMPLETE|UPDATE_ROLLBACK_COMPLETE|.*FAILED'
check_eq "fail_after 1: UPDATE_ROLLBACK_COMPLETE" "$STATUS" UPDATE_ROLLBACK_COMPLETE
cfn describe-stacks --stack-name app --query 'Stacks[0].[StackStatusReason,Outputs[?OutputKey==`Mode`].OutputValue|[0]]' --output text
check_eq "the old outputs are back" "$(flat "$OUT")" "None us-east-1/dev/two"
ev=$(events app | tail -12 | tr '\n' ',')
check_contains "Role updated, Fn failed, Role rolled back" "$ev" \
	"Role UPDATE_IN_PROGRESS,Role UPDATE_COMPLETE,Fn UPDATE_IN_PROGRESS,Fn UPDATE_FAILED,app UPDATE_ROLLBACK_IN_PROGRESS,"
cfn describe-stack-events --stack-name app --query 'StackEvents[?ResourceStatus==`UPDATE_ROLLBACK_IN_PROGRESS`]|[0].ResourceStatusReason' --output text
check_eq "the rollback's reason names the failed resource" "$OUT" "The following resource(s) failed to update: [Fn]."

# Hold the stack in UPDATE_IN_PROGRESS: a second update is refused meanwhile.
# The hold lasts until released (the 300 s are only a bound), so the refused
# calls happen while it holds however slowly a loaded machine runs them.
admin POST "$PEERS_ADMIN_CFN/cfn/faults" '{"kind": "hold", "status": "UPDATE_IN_PROGRESS", "ms": 300000}' >/dev/null
admin POST "$PEERS_ADMIN_CFN/cfn/faults" '{"kind": "rollback_fails", "stack": "app", "logical_id": "Bucket"}' >/dev/null
admin POST "$PEERS_ADMIN_CFN/cfn/faults" '{"kind": "fail_resource", "stack": "app", "logical_id": "Bucket", "op": "update"}' >/dev/null
sed -e 's/"Bucket": {"Type": "AWS::S3::Bucket"}/"Bucket": {"Type": "AWS::S3::Bucket", "Properties": {"Tags": [{"Key": "a", "Value": "b"}]}}/' "$TMP/root4.json" >"$TMP/root5.json"
cfn update-stack --stack-name app --template-body "file://$TMP/root5.json" --capabilities CAPABILITY_IAM
cfn update-stack --stack-name app --template-body "file://$TMP/root4.json" --capabilities CAPABILITY_IAM
check_contains "an update while UPDATE_IN_PROGRESS: AWS's ValidationError" "$ERR" \
	"(ValidationError) when calling the UpdateStack operation: Stack:$SID is in UPDATE_IN_PROGRESS state and can not be updated."
cfn delete-stack --stack-name app
check_contains "a delete while UPDATE_IN_PROGRESS is refused" "$ERR" "cannot be deleted while in status UPDATE_IN_PROGRESS"
poll_until "$WAIT_S" held app
check_eq "the held update is released" "$(admin POST "$PEERS_ADMIN_CFN/cfn/release" '{"stack": "app"}' | jq_py 'print(d["released"])')" 1
wait_stack app 'UPDATE_COMPLETE|UPDATE_ROLLBACK_COMPLETE|.*FAILED'
check_eq "rollback fails: UPDATE_ROLLBACK_FAILED" "$STATUS" UPDATE_ROLLBACK_FAILED
cfn update-stack --stack-name app --template-body "file://$TMP/root4.json" --capabilities CAPABILITY_IAM
check_contains "an update in UPDATE_ROLLBACK_FAILED is refused" "$ERR" "is in UPDATE_ROLLBACK_FAILED state and can not be updated."
cfn continue-update-rollback --stack-name app
wait_stack app 'UPDATE_ROLLBACK_COMPLETE|.*FAILED'
check_eq "continue-update-rollback: UPDATE_ROLLBACK_COMPLETE" "$STATUS" UPDATE_ROLLBACK_COMPLETE
out=$(admin GET "$PEERS_ADMIN_CFN/cfn/faults")
check_contains "every one-shot fault was used" "$out" '"faults": []'

# A nested resource fails on create: ROLLBACK_COMPLETE, generic parent reason.
admin POST "$PEERS_ADMIN_CFN/cfn/faults" '{"kind": "fail_resource", "stack": "Auth", "logical_id": "Client", "op": "create", "reason": "Invalid callback URL (peer)"}' >/dev/null
cfn create-stack --stack-name app2 --template-body "file://$TMP/root1.json" --capabilities CAPABILITY_IAM
wait_stack app2 'CREATE_COMPLETE|ROLLBACK_COMPLETE|.*FAILED'
check_eq "nested create failure: ROLLBACK_COMPLETE" "$STATUS" ROLLBACK_COMPLETE
cfn describe-stack-events --stack-name app2 --query 'StackEvents[?ResourceStatus==`CREATE_FAILED`].[LogicalResourceId,PhysicalResourceId,ResourceStatusReason]' --output text
IFS=$'\t' read -r flid fphys freason <<<"$OUT"
check_eq "the parent's CREATE_FAILED: AWS's generic reason" "$flid $freason" \
	"Auth Embedded stack $fphys was not successfully created: The following resource(s) failed to create: [Client]."
cfn describe-stack-events --stack-name "$fphys" --query 'StackEvents[?ResourceStatus==`CREATE_FAILED`].[LogicalResourceId,ResourceStatusReason]' --output text
check_eq "the nested stack (by id, deleted by the rollback) keeps the root cause" "$OUT" "Client	Invalid callback URL (peer)"
cfn describe-stacks --stack-name "$fphys" --query 'Stacks[0].StackStatus' --output text
check_eq "the failed nested stack is DELETE_COMPLETE after the parent's rollback" "$OUT" DELETE_COMPLETE
cfn update-stack --stack-name app2 --use-previous-template --capabilities CAPABILITY_IAM
check_contains "a ROLLBACK_COMPLETE stack can not be updated" "$ERR" "is in ROLLBACK_COMPLETE state and can not be updated."
cfn delete-stack --stack-name app2
check_eq "a ROLLBACK_COMPLETE stack can be deleted" "$RC" 0

# --- throttling, retried by the CLI; the calls log -------------------------------------------
admin POST "$PEERS_ADMIN_CFN/reset" >/dev/null
admin POST "$PEERS_ADMIN_CFN/fault" '{"kind": "throttle", "count": 2, "match": "cloudformation:DescribeStacks"}' >/dev/null
cfn describe-stacks --stack-name app --query 'Stacks[0].StackName' --output text
check_eq "throttled twice: aws retries and succeeds" "$OUT" app
sum=$(curl -sS "$PEERS_ADMIN_CFN/calls/summary")
check_eq "calls summary: 3 DescribeStacks, none mutating" \
	"$(printf '%s' "$sum" | jq_py 'print(d["by_action"].get("cloudformation:DescribeStacks"), d["mutating"])')" "3 0"
cfn get-template --stack-name app --query 'TemplateBody.Description' --output text
cfn delete-change-set --stack-name app --change-set-name nope
sum=$(curl -sS "$PEERS_ADMIN_CFN/calls/summary")
check_eq "calls summary: a DeleteChangeSet attempt counts as mutating" \
	"$(printf '%s' "$sum" | jq_py 'print(d["mutating"], d["mutating_calls"])')" "1 ['cloudformation:DeleteChangeSet']"

# --- exports in use, delete ------------------------------------------------------------------
cfn create-stack --stack-name importer --template-body \
	'{"Resources": {"Q": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": {"Fn::ImportValue": "app-bucket"}}}}, "Outputs": {"U": {"Value": {"Fn::GetAtt": ["Q", "QueueUrl"]}}}}'
wait_stack importer 'CREATE_COMPLETE|ROLLBACK_COMPLETE|.*FAILED'
cfn describe-stacks --stack-name importer --query 'Stacks[0].StackId' --output text
IMP=$OUT
cfn describe-stacks --stack-name importer --query 'Stacks[0].Outputs[0].OutputValue' --output text
check_match "Fn::ImportValue resolves another stack's export" "$OUT" \
	'^https://sqs\.us-east-1\.amazonaws\.com/123456789012/app-bucket-[a-z0-9]{12}$'
cfn list-imports --export-name app-bucket --query Imports --output text
check_eq "list-imports" "$OUT" importer
cfn delete-stack --stack-name app
wait_stack app 'DELETE_COMPLETE|DELETE_FAILED'
cfn describe-stacks --stack-name app --query 'Stacks[0].StackStatusReason' --output text
check_eq "deleting a stack whose export is in use: DELETE_FAILED, AWS's reason" "$STATUS $OUT" \
	"DELETE_FAILED Export app-bucket cannot be deleted as it is in use by importer"
cfn delete-stack --stack-name importer
wait_stack "$IMP" 'DELETE_COMPLETE|DELETE_FAILED'
check_eq "the importer is deleted" "$STATUS" DELETE_COMPLETE
cfn delete-stack --stack-name app
check_eq "delete-stack" "$RC" 0
cfn delete-stack --stack-name app
check_eq "delete-stack again while DELETE_IN_PROGRESS: accepted (idempotent)" "$RC" 0
wait_stack "$SID" 'DELETE_COMPLETE'
check_eq "the deleted stack, by id: DELETE_COMPLETE" "$STATUS" DELETE_COMPLETE
cfn describe-stacks --stack-name app
check_contains "by name: does not exist" "$ERR" "Stack with id app does not exist"
cfn describe-stacks --stack-name "$NID" --query 'Stacks[0].StackStatus' --output text
check_eq "its nested stack was deleted too" "$OUT" DELETE_COMPLETE
events "$SID" | tail -3 >"$TMP/dev"
check_eq "delete events end with the stack's DELETE_COMPLETE" "$(tail -1 "$TMP/dev")" "app DELETE_COMPLETE"
cfn delete-stack --stack-name app
check_eq "delete-stack of a deleted stack: success (idempotent)" "$RC" 0

# --- SSM Parameter Store ----------------------------------------------------------------------
admin POST "$PEERS_ADMIN_CFN/reset" >/dev/null
SECRET_VALUE="s3cr3t-$$-value"
ssm put-parameter --name /amplify/app/main/API_KEY --type SecureString --value "$SECRET_VALUE" --query Version --output text
check_eq "ssm put-parameter SecureString: version 1" "$OUT" 1
ssm put-parameter --name /amplify/app/main/API_KEY --type SecureString --value other
check_contains "again without --overwrite: ParameterAlreadyExists" "$ERR" "An error occurred (ParameterAlreadyExists) when calling the PutParameter operation"
ssm put-parameter --name /amplify/app/main/API_KEY --type SecureString --value "$SECRET_VALUE-2" --overwrite --query Version --output text
check_eq "with --overwrite: version 2" "$OUT" 2
ssm get-parameter --name /amplify/app/main/API_KEY --with-decryption --query Parameter.[Value,Type,Version] --output text
check_eq "ssm get-parameter --with-decryption" "$(flat "$OUT")" "$SECRET_VALUE-2 SecureString 2"
ssm get-parameter --name /amplify/app/main/API_KEY --query Parameter.Value --output text
check_not_contains "without decryption the value is not shown" "$OUT" "$SECRET_VALUE"
ssm get-parameter --name /amplify/app/main/NOPE
check_contains "a missing parameter: ParameterNotFound" "$ERR" "An error occurred (ParameterNotFound) when calling the GetParameter operation"
for i in $(seq 1 12); do ssm put-parameter --name "/amplify/app/main/K$i" --type SecureString --value "v$i" >/dev/null; done
ssm put-parameter --name /amplify/shared/DEEP/X --type String --value x
ssm get-parameters-by-path --path /amplify/app/main --recursive --with-decryption --query 'Parameters[].Name' --output text
check_eq "get-parameters-by-path: 13 parameters over pages of 10" "$(printf '%s' "$OUT" | wc -w)" 13
ssm get-parameters-by-path --path /amplify/app/main --max-items 5 --page-size 2 --query 'Parameters[].Name' --output text
# (text output adds the CLI's own NextToken as a last line, since --max-items stops early)
check_eq "get-parameters-by-path in pages of 2 (MaxResults, NextToken)" "$(flat "$(printf '%s' "$OUT" | tr '\t' '\n' | grep '^/')")" \
	"/amplify/app/main/API_KEY /amplify/app/main/K1 /amplify/app/main/K10 /amplify/app/main/K11 /amplify/app/main/K12"
ssm get-parameters-by-path --path /amplify/app/main --max-results 11
check_contains "MaxResults over 10: ValidationException" "$ERR" "(ValidationException)"
ssm get-parameters-by-path --path /amplify --query 'length(Parameters)' --output text
check_eq "not recursive: only direct children" "$OUT" 0
ssm get-parameters --names /amplify/app/main/K1 /amplify/app/main/NOPE --with-decryption --query '[Parameters[0].Value,InvalidParameters[0]]' --output text
check_eq "get-parameters: found and InvalidParameters" "$(flat "$OUT")" "v1 /amplify/app/main/NOPE"
admin POST "$PEERS_ADMIN_CFN/fault" '{"kind": "throttle", "count": 1, "match": "ssm:GetParameter "}' >/dev/null
ssm get-parameter --name /amplify/app/main/K2 --with-decryption --query Parameter.Value --output text
check_eq "ssm throttled once (ThrottlingException): retried" "$OUT" v2
AWS_SECRET_ACCESS_KEY=not-the-secret ssm get-parameter --name /amplify/app/main/K2
check_contains "ssm with a wrong secret: InvalidSignatureException" "$ERR" "(InvalidSignatureException) when calling the GetParameter operation"
ssm delete-parameter --name /amplify/app/main/K1
check_eq "ssm delete-parameter" "$RC" 0
ssm delete-parameter --name /amplify/app/main/K1
check_contains "delete again: ParameterNotFound" "$ERR" "(ParameterNotFound) when calling the DeleteParameter operation"
calls=$(curl -sS "$PEERS_ADMIN_CFN/calls")
check_not_contains "the calls log never holds a parameter value" "$calls" "$SECRET_VALUE"
check_contains "the calls log names the parameters" "$calls" '"/amplify/app/main/API_KEY"'
cat >"$TMP/ssmtpl.json" <<'EOF'
{"Parameters": {"Version": {"Type": "AWS::SSM::Parameter::Value<String>", "Default": "/cdk-bootstrap/hnb659fds/version"}},
 "Resources": {"T": {"Type": "AWS::SNS::Topic"}}, "Outputs": {"V": {"Value": {"Ref": "Version"}}}}
EOF
cfn create-stack --stack-name ssmparam --template-body "file://$TMP/ssmtpl.json"
check_contains "an SSM parameter type naming a missing parameter: AWS's error" "$ERR" \
	"Unable to fetch parameters [/cdk-bootstrap/hnb659fds/version] from parameter store for this account."
ssm put-parameter --name /cdk-bootstrap/hnb659fds/version --type String --value 21 >/dev/null
cfn create-stack --stack-name ssmparam --template-body "file://$TMP/ssmtpl.json"
wait_stack ssmparam 'CREATE_COMPLETE|ROLLBACK_COMPLETE|.*FAILED'
cfn describe-stacks --stack-name ssmparam --query 'Stacks[0].[Outputs[0].OutputValue,Parameters[0].ResolvedValue]' --output text
check_eq "... and once it exists, its value (ResolvedValue)" "$(flat "$OUT")" "21 21"

# --- the components' resource types (samples/karaoke): Ref, GetAtt, replacement ---------------
# test/peers/fixtures/types.json: every type the components emit, each Ref
# and each documented GetAtt as an output. Create, check each output's
# shape, update a replacing and a non-replacing property, delete.
admin POST "$PEERS_ADMIN_CFN/reset" '{"stacks": true}' >/dev/null
admin POST "$PEERS_ADMIN_CFN/cfn/settings" '{"step_ms": 2, "changeset_ms": 5}' >/dev/null
TYPES=$P/fixtures/types.json
# outputs STACK: "Key<TAB>Value" lines into $TMP/outs.STACK; out KEY reads one
outputs() {
	cfn describe-stacks --stack-name "$1" --output json
	printf '%s' "$OUT" | jq_py 'print("\n".join("%s\t%s" % (o["OutputKey"], o["OutputValue"]) for o in d["Stacks"][0].get("Outputs", [])))' >"$TMP/outs.$1"
}
out() { awk -F'\t' -v k="$2" '$1 == k { print $2 }' "$TMP/outs.$1"; }
physid() { # physid STACK LOGICAL_ID
	cfn describe-stack-resource --stack-name "$1" --logical-resource-id "$2" --query StackResourceDetail.PhysicalResourceId --output text
	printf '%s' "$OUT"
}
cfn create-stack --stack-name types --template-body "file://$TYPES" --capabilities CAPABILITY_IAM
wait_stack types 'CREATE_COMPLETE|ROLLBACK_COMPLETE|.*FAILED'
check_eq "types: every component resource type creates (CREATE_COMPLETE)" "$STATUS" CREATE_COMPLETE
outputs types
check_eq "types: 57 outputs" "$(wc -l <"$TMP/outs.types")" 57
A='arn:aws:[a-z0-9-]+:us-east-1:123456789012'
R='[A-Z0-9]{12}'
U='[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}'
while read -r key re; do
	[ -n "$key" ] || continue
	check_match "types: output $key" "$(out types "$key")" "^$re\$"
done <<EOF
ApiRef [a-z0-9]{10}
ApiEndpoint https://[a-z0-9]{10}\.execute-api\.us-east-1\.amazonaws\.com
ApiId [a-z0-9]{10}
StageRef prod
RouteRef [a-z0-9]{7}
RouteId [a-z0-9]{7}
IntegrationRef [a-z0-9]{7}
IntegrationId [a-z0-9]{7}
AuthorizerRef [a-z0-9]{7}
AuthorizerId [a-z0-9]{7}
DomainRef api\.karaoke\.example\.com
DomainRegionalDomainName d-[a-z0-9]{10}\.execute-api\.us-east-1\.amazonaws\.com
DomainRegionalHostedZoneId Z1UJRXOUMOOFQ8
DomainArn arn:aws:apigateway:us-east-1::/domainnames/api\.karaoke\.example\.com
MappingRef [a-z0-9]{6}
MappingId [a-z0-9]{6}
QueueRef https://sqs\.us-east-1\.amazonaws\.com/123456789012/types-Queue-$R
QueueArn arn:aws:sqs:us-east-1:123456789012:types-Queue-$R
QueueName types-Queue-$R
QueueUrl https://sqs\.us-east-1\.amazonaws\.com/123456789012/types-Queue-$R
FifoQueueName types-FifoQueue-$R\.fifo
QueuePolicyRef types-QueuePolicy-$R
QueuePolicyId types-QueuePolicy-$R
TopicRef arn:aws:sns:us-east-1:123456789012:types-Topic-$R
TopicArn arn:aws:sns:us-east-1:123456789012:types-Topic-$R
TopicName types-Topic-$R
FifoTopicRef arn:aws:sns:us-east-1:123456789012:karaoke-events\.fifo
SubscriptionRef arn:aws:sns:us-east-1:123456789012:types-Topic-$R:$U
SubscriptionArn arn:aws:sns:us-east-1:123456789012:types-Topic-$R:$U
TopicPolicyRef types-TopicPolicy-$R
TopicPolicyId types-TopicPolicy-$R
BusRef karaoke-bus
BusArn arn:aws:events:us-east-1:123456789012:event-bus/karaoke-bus
BusName karaoke-bus
RuleRef karaoke-bus\|types-Rule-$R
RuleArn arn:aws:events:us-east-1:123456789012:rule/karaoke-bus/types-Rule-$R
DefaultRuleRef karaoke-nightly
DefaultRuleArn arn:aws:events:us-east-1:123456789012:rule/karaoke-nightly
ScheduleRef types-Schedule-$R
ScheduleArn arn:aws:scheduler:us-east-1:123456789012:schedule/default/types-Schedule-$R
StreamMappingRef $U
StreamMappingId $U
StreamMappingArn arn:aws:lambda:us-east-1:123456789012:event-source-mapping:$U
QueueMappingRef $U
TableRef types-Table-$R
TableArn arn:aws:dynamodb:us-east-1:123456789012:table/types-Table-$R
TableStreamArn arn:aws:dynamodb:us-east-1:123456789012:table/types-Table-$R/stream/[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}
PermissionRef types-Permission-$R
PermissionId types-Permission-$R
RoleRef types-Role-$R
RoleArn arn:aws:iam::123456789012:role/types-Role-$R
RoleId AROA[A-Z0-9]{17}
PolicyRef types-Policy-$R
PolicyId types-Policy-$R
LogsRef types-Logs-$R
LogsArn arn:aws:logs:us-east-1:123456789012:log-group:types-Logs-$R:\*
FnArn arn:aws:lambda:us-east-1:123456789012:function:types-Fn-$R
EOF
# The attributes agree with the Refs they derive from.
o() { out types "$1"; }
check_eq "types: ApiEndpoint and ApiId from the API's Ref" "$(o ApiEndpoint) $(o ApiId)" \
	"https://$(o ApiRef).execute-api.us-east-1.amazonaws.com $(o ApiRef)"
check_eq "types: RouteId, IntegrationId, AuthorizerId, ApiMappingId are their Refs" \
	"$(o RouteId) $(o IntegrationId) $(o AuthorizerId) $(o MappingId)" "$(o RouteRef) $(o IntegrationRef) $(o AuthorizerRef) $(o MappingRef)"
check_eq "types: the queue's Ref is its QueueUrl, its Arn and QueueName agree" \
	"$(o QueueUrl) $(o QueueArn)" "$(o QueueRef) arn:aws:sqs:us-east-1:123456789012:$(o QueueName)"
check_eq "types: the topic's Ref is its TopicArn, TopicName its last part" "$(o TopicArn) $(o TopicName)" \
	"$(o TopicRef) $(o TopicRef | sed 's/.*://')"
check_eq "types: the subscription's ARN is under its topic's" "$(o SubscriptionRef | sed 's/:[^:]*$//') $(o SubscriptionArn)" \
	"$(o TopicRef) $(o SubscriptionRef)"
check_eq "types: a custom-bus rule: Ref bus|name, Arn rule/bus/name" "$(o RuleArn)" \
	"arn:aws:events:us-east-1:123456789012:rule/$(o RuleRef | tr '|' '/')"
check_eq "types: the event source mapping: Id is its Ref, the ARN ends with it" \
	"$(o StreamMappingId) $(o StreamMappingArn)" "$(o StreamMappingRef) arn:aws:lambda:us-east-1:123456789012:event-source-mapping:$(o StreamMappingRef)"
check_eq "types: the role's Arn names its Ref" "$(o RoleArn)" "arn:aws:iam::123456789012:role/$(o RoleRef)"
check_eq "types: the Ref of each resource is its PhysicalResourceId" \
	"$(physid types Stage) $(physid types Rule) $(physid types StreamMapping) $(physid types Queue)" \
	"$(o StageRef) $(o RuleRef) $(o StreamMappingRef) $(o QueueRef)"

# A change set: StageName and StartingPosition replace, BatchSize does not.
cfn create-change-set --stack-name types --change-set-name repl --use-previous-template --capabilities CAPABILITY_IAM \
	--parameters ParameterKey=StageName,ParameterValue=live ParameterKey=StartingPosition,ParameterValue=TRIM_HORIZON \
	ParameterKey=BatchSize,ParameterValue=20 ParameterKey=Visibility,UsePreviousValue=true
wait_cs types repl
cfn describe-change-set --stack-name types --change-set-name repl \
	--query 'Changes[].ResourceChange.[LogicalResourceId,Action,Replacement]' --output text
check_eq "types change set: Stage and StreamMapping Replacement True; QueueMapping and Mapping (its Stage) False" \
	"$(printf '%s\n' "$OUT" | tr '\t' ' ' | sort | tr '\n' ',')" \
	"Mapping Modify False,QueueMapping Modify False,Stage Modify True,StreamMapping Modify True,"
cfn delete-change-set --stack-name types --change-set-name repl
before_queue=$(o QueueRef) before_qmap=$(o QueueMappingRef) before_map=$(o MappingRef)
before_stage=$(o StageRef) before_smap=$(o StreamMappingRef)
cfn update-stack --stack-name types --use-previous-template --capabilities CAPABILITY_IAM \
	--parameters ParameterKey=StageName,ParameterValue=live ParameterKey=StartingPosition,ParameterValue=TRIM_HORIZON \
	ParameterKey=BatchSize,ParameterValue=20 ParameterKey=Visibility,ParameterValue=60
wait_stack types 'UPDATE_COMPLETE|UPDATE_ROLLBACK_COMPLETE|.*FAILED'
check_eq "types update: UPDATE_COMPLETE" "$STATUS" UPDATE_COMPLETE
outputs types
check_eq "types update: StageName (Update requires: Replacement) gives a new stage" "$before_stage -> $(o StageRef)" "prod -> live"
check_match "types update: StartingPosition replaces the event source mapping (new UUID)" \
	"$before_smap -> $(o StreamMappingRef)" "^($U) -> ($U)\$"
check_eq "types update: ... a different one" "$([ "$before_smap" != "$(o StreamMappingRef)" ] && echo changed)" changed
check_eq "types update: BatchSize, VisibilityTimeout, the mapping's Stage: updated in place (same physical ids)" \
	"$(o QueueMappingRef) $(o QueueRef) $(o MappingRef)" "$before_qmap $before_queue $before_map"
ev=$(events types)
check_contains "types update: the mapping whose Stage was replaced is updated (in place)" \
	"$(printf '%s\n' "$ev" | grep '^Mapping ' | tr '\n' ',')" "Mapping UPDATE_IN_PROGRESS,Mapping UPDATE_COMPLETE,"
check_contains "types update: the old stage is deleted in the cleanup" \
	"$(printf '%s\n' "$ev" | sed -n '/UPDATE_COMPLETE_CLEANUP_IN_PROGRESS/,$p' | tr '\n' ',')" "Stage DELETE_COMPLETE,"
cfn describe-stack-events --stack-name types --query 'StackEvents[?LogicalResourceId==`Stage` && ResourceStatus==`DELETE_COMPLETE`].PhysicalResourceId' --output text
check_eq "types update: the deleted stage is the old one" "$OUT" prod

# AWS's refusals and failures for these types.
cfn create-stack --stack-name badatt --template-body '{"Resources": {"Q": {"Type": "AWS::SQS::Queue"}}, "Outputs": {"X": {"Value": {"Fn::GetAtt": ["Q", "Nope"]}}}}'
check_contains "a GetAtt the type does not document: AWS's template error" "$ERR" \
	"Template error: resource Q does not support attribute type Nope in Fn::GetAtt"
cfn create-stack --stack-name nostream --template-body '{"Resources": {"T": {"Type": "AWS::DynamoDB::Table", "Properties": {"KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}]}}}, "Outputs": {"S": {"Value": {"Fn::GetAtt": ["T", "StreamArn"]}}}}'
wait_stack nostream 'CREATE_COMPLETE|ROLLBACK_COMPLETE|.*FAILED'
cfn describe-stack-events --stack-name nostream --query 'StackEvents[?ResourceStatus==`ROLLBACK_IN_PROGRESS`]|[0].ResourceStatusReason' --output text
check_eq "StreamArn of a table without a stream: the create rolls back" "$STATUS: $OUT" "ROLLBACK_COMPLETE: Attribute 'StreamArn' does not exist"
cat >"$TMP/named.json" <<'EOF'
{"Parameters": {"PackageType": {"Type": "String", "Default": "Zip"}},
 "Resources": {"Fn": {"Type": "AWS::Lambda::Function", "Properties": {"FunctionName": "karaoke-fn", "PackageType": {"Ref": "PackageType"}, "Role": "arn:aws:iam::123456789012:role/r"}}},
 "Outputs": {"Arn": {"Value": {"Fn::GetAtt": ["Fn", "Arn"]}}}}
EOF
cfn create-stack --stack-name named --template-body "file://$TMP/named.json"
wait_stack named 'CREATE_COMPLETE|ROLLBACK_COMPLETE|.*FAILED'
cfn update-stack --stack-name named --use-previous-template --parameters ParameterKey=PackageType,ParameterValue=Image
wait_stack named 'UPDATE_COMPLETE|UPDATE_ROLLBACK_COMPLETE|.*FAILED'
cfn describe-stack-events --stack-name named --query 'StackEvents[?ResourceStatus==`UPDATE_FAILED`]|[0].ResourceStatusReason' --output text
check_eq "replacing a custom-named resource: AWS's refusal, rolled back" "$STATUS: $OUT" \
	"UPDATE_ROLLBACK_COMPLETE: CloudFormation cannot update a stack when a custom-named resource requires replacing. Rename karaoke-fn and update the stack again."

TYID=$(cfn describe-stacks --stack-name types --query 'Stacks[0].StackId' --output text >/dev/null; printf '%s' "$OUT")
cfn delete-stack --stack-name types
wait_stack "$TYID" 'DELETE_COMPLETE|DELETE_FAILED'
check_eq "types: delete" "$STATUS" DELETE_COMPLETE
check_eq "types: every resource deleted, then the stack" \
	"$(events "$TYID" | sed -n '/^types DELETE_IN_PROGRESS/,$p' | grep -c ' DELETE_COMPLETE$') $(events "$TYID" | tail -1)" "27 types DELETE_COMPLETE"

finish

#!/usr/bin/env bash
# The local AWS test peers (test/peers/): s3rver behind the signature-checking
# S3 proxy, and the CloudFormation + STS test endpoint. Started, proven with
# Debian's real `aws` CLI (its responses parse as AWS's, its signatures are
# accepted, a wrong secret is rejected, its own retries get through every
# injected fault), raw-HTTP checks (check_peers.py), then stopped.
. "$(dirname "$0")/lib/common.bash"

P=$SYNTH_ROOT/test/peers
AWS=/usr/bin/aws
trap 'stop_peers; rm -rf "$TMP"' EXIT
stop_peers() {
	if [ -n "${PEERS_DIR:-}" ] && [ -d "$PEERS_DIR" ]; then bash "$P/peers.sh" stop >/dev/null 2>&1; fi
}

if ! bash "$P/setup.sh" >"$TMP/setup.log" 2>&1; then
	fail "test/peers/setup.sh installs s3rver, python3-botocore and awscli"
	diag_file "$TMP/setup.log"
	finish
fi
pass "test/peers/setup.sh installs s3rver, python3-botocore and awscli"

# --- start -------------------------------------------------------------------
export PEERS_DIR=$TMP/peers
t0=$(date +%s%N)
if bash "$P/peers.sh" start >"$TMP/env" 2>"$TMP/start.err"; then
	ms=$((($(date +%s%N) - t0) / 1000000))
	pass "peers start (in ${ms} ms)"
else
	fail "peers start"
	diag_file "$TMP/start.err"
	for f in "$PEERS_DIR"/*.log; do diag "$f:"; diag_file "$f"; done
	finish
fi
. "$TMP/env"
check_match "env: endpoints on 127.0.0.1" "$AWS_ENDPOINT_URL_S3 $AWS_ENDPOINT_URL_CLOUDFORMATION $AWS_ENDPOINT_URL_STS" \
	'^http://127\.0\.0\.1:[0-9]+ http://127\.0\.0\.1:[0-9]+ http://127\.0\.0\.1:[0-9]+$'
out=$(bash "$P/peers.sh" status 2>&1)
check_eq "status: three peers running" "$(printf '%s\n' "$out" | grep -c ': running')" 3
check_eq "start again with the same PEERS_DIR: the same env, nothing restarted" \
	"$(bash "$P/peers.sh" start 2>/dev/null | md5sum)" "$(md5sum <"$TMP/env")"

# The aws CLI: temp config, no pager/colour/IMDS, standard retries (3 attempts).
mkdir -p "$TMP/aws"
export AWS_CONFIG_FILE=$TMP/aws/config AWS_SHARED_CREDENTIALS_FILE=$TMP/aws/credentials
printf '[default]\nregion = us-east-1\ns3 =\n  multipart_threshold = 5MB\n  multipart_chunksize = 5MB\n' >"$AWS_CONFIG_FILE"
: >"$AWS_SHARED_CREDENTIALS_FILE"
export AWS_PAGER="" AWS_EC2_METADATA_DISABLED=true AWS_RETRY_MODE=standard AWS_MAX_ATTEMPTS=3 AWS_CLI_AUTO_PROMPT=off
unset AWS_DEFAULT_PROFILE AWS_CA_BUNDLE

# run_aws ARGS...: $OUT, $ERR, $RC
run_aws() {
	OUT=$("$AWS" --no-cli-pager --color off "$@" 2>"$TMP/.aws.err")
	RC=$?
	ERR=$(cat "$TMP/.aws.err")
}
s3() { run_aws --endpoint-url "$AWS_ENDPOINT_URL_S3" "$@"; }
cfn() { run_aws --endpoint-url "$AWS_ENDPOINT_URL_CLOUDFORMATION" cloudformation "$@"; }
sts() { run_aws --endpoint-url "$AWS_ENDPOINT_URL_STS" sts "$@"; }
admin() { # admin METHOD URL [JSON]
	curl -sS -X "$1" "$2" ${3:+-H 'Content-Type: application/json' -d "$3"}
}
# count_calls ADMIN_URL OP [FAULT|-] [STATUS]: calls in the log with that op.
count_calls() {
	curl -sS "$1/calls" | "$SYSPY" -c '
import json, sys
op, fault, status = sys.argv[1], sys.argv[2], sys.argv[3]
n = 0
for c in json.load(sys.stdin)["calls"]:
    if c["op"] != op: continue
    if fault != "*" and (c["fault"] or "-") != fault: continue
    if status != "*" and str(c["status"]) != status: continue
    n += 1
print(n)' "$2" "${3:-*}" "${4:-*}"
}

# --- STS and CloudFormation ---------------------------------------------------
sts get-caller-identity --output json
acct=$(printf '%s' "$OUT" | "$SYSPY" -c 'import json,sys; print(json.load(sys.stdin)["Account"])' 2>&1)
check_eq "aws sts get-caller-identity: the account" "$acct" 123456789012
check_contains "aws sts get-caller-identity: the user ARN" "$OUT" '"Arn": "arn:aws:iam::123456789012:user/synth-test"'

cfn describe-stacks --stack-name nope
check_eq "aws cloudformation describe-stacks nope: fails" "$([ $RC -ne 0 ] && echo failed)" failed
check_contains "describe-stacks nope: the ValidationError as AWS words it" "$ERR" \
	"An error occurred (ValidationError) when calling the DescribeStacks operation: Stack with id nope does not exist"

seed=$(admin POST "$PEERS_ADMIN_CFN/stacks" '{"StackName":"amplify-app-main-branch","StackStatus":"UPDATE_COMPLETE","Description":"seeded","Outputs":[{"OutputKey":"BucketName","OutputValue":"my-bucket","Description":"the bucket","ExportName":"app-bucket"},{"OutputKey":"ApiUrl","OutputValue":"https://api.example.com/"}],"Parameters":{"Env":"main"},"Tags":{"amplify:branch":"main"}}')
check_contains "admin: seed a stack" "$seed" '"StackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/amplify-app-main-branch/'
cfn describe-stacks --stack-name amplify-app-main-branch --output text \
	--query 'Stacks[0].[StackStatus, Outputs[?OutputKey==`BucketName`].OutputValue | [0], Outputs[?OutputKey==`BucketName`].ExportName | [0], Parameters[0].ParameterValue, Tags[0].Value]'
check_eq "describe-stacks: the seeded stack's status, outputs, parameters and tags" "$(printf '%s' "$OUT" | tr '\t' ' ')" \
	"UPDATE_COMPLETE my-bucket app-bucket main main"
sid=$(printf '%s' "$seed" | "$SYSPY" -c 'import json,sys; print(json.load(sys.stdin)["StackId"])')
cfn describe-stacks --stack-name "$sid" --query 'Stacks[0].StackName' --output text
check_eq "describe-stacks by stack id" "$OUT" amplify-app-main-branch
cfn describe-stacks --query 'length(Stacks)' --output text
check_eq "describe-stacks without a name lists the live stacks" "$OUT" 1

# --- S3 through the proxy -------------------------------------------------------
s3 s3api create-bucket --bucket cdk-hnb659fds-assets-123456789012-us-east-1
check_eq "aws s3api create-bucket" "$RC" 0
printf 'hello peers\n' >"$TMP/small.txt"
s3 s3api put-object --bucket cdk-hnb659fds-assets-123456789012-us-east-1 --key assets/small.txt --body "$TMP/small.txt"
check_contains "aws s3api put-object (Content-MD5 and signed payload checked)" "$OUT" '"ETag"'
s3 s3api head-object --bucket cdk-hnb659fds-assets-123456789012-us-east-1 --key assets/small.txt --query ContentLength --output text
check_eq "aws s3api head-object: the size" "$OUT" 12
head -c $((12 * 1024 * 1024 + 123)) /dev/urandom >"$TMP/big.bin"
admin POST "$PEERS_ADMIN_S3/reset" >/dev/null
s3 s3 cp --no-progress "$TMP/big.bin" s3://cdk-hnb659fds-assets-123456789012-us-east-1/assets/big.bin
check_eq "aws s3 cp of 12 MB (multipart, 5 MB parts)" "$RC" 0
check_eq "calls log: one CreateMultipartUpload" "$(count_calls "$PEERS_ADMIN_S3" CreateMultipartUpload)" 1
check_eq "calls log: three UploadPart" "$(count_calls "$PEERS_ADMIN_S3" UploadPart '*' 200)" 3
check_eq "calls log: one CompleteMultipartUpload" "$(count_calls "$PEERS_ADMIN_S3" CompleteMultipartUpload '*' 200)" 1
s3 s3 cp --no-progress s3://cdk-hnb659fds-assets-123456789012-us-east-1/assets/big.bin "$TMP/big.back"
check "the multipart object downloads identical" cmp -s "$TMP/big.bin" "$TMP/big.back"
s3 s3api list-objects-v2 --bucket cdk-hnb659fds-assets-123456789012-us-east-1 --query 'Contents[].Key' --output text
check_eq "aws s3api list-objects-v2" "$(printf '%s' "$OUT" | tr '\t' ' ')" "assets/big.bin assets/small.txt"

# Multipart operations s3rver lacks, answered by the proxy.
B=cdk-hnb659fds-assets-123456789012-us-east-1
s3 s3api create-multipart-upload --bucket $B --key mp/obj --query UploadId --output text
UP=$OUT
head -c $((5 * 1024 * 1024)) /dev/urandom >"$TMP/p1"
s3 s3api upload-part --bucket $B --key mp/obj --upload-id "$UP" --part-number 1 --body "$TMP/p1" --query ETag --output text
E1=$OUT
s3 s3api upload-part --bucket $B --key mp/obj --upload-id "$UP" --part-number 2 --body "$TMP/small.txt"
s3 s3api list-parts --bucket $B --key mp/obj --upload-id "$UP" --query 'Parts[].[PartNumber,Size,ETag]' --output text
check_eq "aws s3api list-parts (ListParts by the proxy)" "$(printf '%s' "$OUT" | tr '\t\n' '  ' | sed 's/ *$//')" \
	"1 5242880 $E1 2 12 \"$(md5sum <"$TMP/small.txt" | cut -d' ' -f1)\""
s3 s3api list-multipart-uploads --bucket $B --query 'Uploads[].Key' --output text
check_eq "aws s3api list-multipart-uploads" "$OUT" mp/obj
s3 s3api complete-multipart-upload --bucket $B --key mp/obj --upload-id "$UP" \
	--multipart-upload '{"Parts":[{"PartNumber":1,"ETag":"\"0123456789abcdef0123456789abcdef\""}]}'
check_contains "complete-multipart-upload with a wrong ETag: InvalidPart" "$ERR" "(InvalidPart)"
s3 s3api abort-multipart-upload --bucket $B --key mp/obj --upload-id "$UP"
check_eq "aws s3api abort-multipart-upload (AbortMultipartUpload by the proxy)" "$RC" 0
s3 s3api list-parts --bucket $B --key mp/obj --upload-id "$UP"
check_contains "list-parts after the abort: NoSuchUpload" "$ERR" "(NoSuchUpload)"

# --- signatures -------------------------------------------------------------------
AWS_SECRET_ACCESS_KEY=not-the-secret s3 s3api list-objects-v2 --bucket $B
check_contains "a wrong secret key: the S3 proxy answers SignatureDoesNotMatch" "$ERR" \
	"An error occurred (SignatureDoesNotMatch) when calling the ListObjectsV2 operation: The request signature we calculated does not match the signature you provided."
AWS_SECRET_ACCESS_KEY=not-the-secret s3 s3api put-object --bucket $B --key assets/x --body "$TMP/small.txt"
check_contains "a wrong secret key on put-object (100-continue): SignatureDoesNotMatch" "$ERR" "(SignatureDoesNotMatch)"
AWS_SECRET_ACCESS_KEY=not-the-secret sts get-caller-identity
check_contains "a wrong secret key: the endpoint answers SignatureDoesNotMatch" "$ERR" \
	"An error occurred (SignatureDoesNotMatch) when calling the GetCallerIdentity operation: The request signature we calculated does not match the signature you provided."
AWS_SECRET_ACCESS_KEY=not-the-secret cfn describe-stacks --stack-name nope
check_contains "a wrong secret key: CloudFormation too" "$ERR" "(SignatureDoesNotMatch) when calling the DescribeStacks"
check_not_contains "the error never shows the secret key" "$ERR$OUT" "$AWS_SECRET_ACCESS_KEY"
AWS_ACCESS_KEY_ID=AKIDUNKNOWNKEY000000 s3 s3api list-objects-v2 --bucket $B
check_contains "an unknown access key: InvalidAccessKeyId from the proxy" "$ERR" "(InvalidAccessKeyId)"
AWS_ACCESS_KEY_ID=AKIDUNKNOWNKEY000000 sts get-caller-identity
check_contains "an unknown access key: InvalidClientTokenId from the endpoint" "$ERR" "(InvalidClientTokenId)"
AWS_ACCESS_KEY_ID=$PEERS_SESSION_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY=$PEERS_SESSION_SECRET_ACCESS_KEY \
	AWS_SESSION_TOKEN=$PEERS_SESSION_TOKEN sts get-caller-identity --query Arn --output text
check_eq "session credentials with their token" "$OUT" "arn:aws:sts::123456789012:assumed-role/synth-test-role/synth-session"
AWS_ACCESS_KEY_ID=$PEERS_SESSION_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY=$PEERS_SESSION_SECRET_ACCESS_KEY \
	s3 s3api list-objects-v2 --bucket $B
check_contains "session credentials without the token: InvalidToken" "$ERR" "(InvalidToken)"
sts assume-role --role-arn arn:aws:iam::123456789012:role/deployer --role-session-name ci --output json
printf '%s' "$OUT" >"$TMP/assumed.json"
read -r AK SK ST < <("$SYSPY" -c 'import json,sys; c=json.load(open(sys.argv[1]))["Credentials"]; print(c["AccessKeyId"], c["SecretAccessKey"], c["SessionToken"])' "$TMP/assumed.json" 2>/dev/null)
AWS_ACCESS_KEY_ID=$AK AWS_SECRET_ACCESS_KEY=$SK AWS_SESSION_TOKEN=$ST sts get-caller-identity --query Arn --output text
check_eq "sts assume-role: its credentials work on the endpoint" "$OUT" "arn:aws:sts::123456789012:assumed-role/deployer/ci"
AWS_ACCESS_KEY_ID=$AK AWS_SECRET_ACCESS_KEY=$SK AWS_SESSION_TOKEN=$ST s3 s3api head-object --bucket $B --key assets/small.txt --query ContentLength --output text
check_eq "sts assume-role: and on the S3 proxy" "$OUT" 12

# --- faults: the CLI's own retries get through -----------------------------------------
for kind in 500 503 throttle reset; do
	admin POST "$PEERS_ADMIN_CFN/reset" >/dev/null
	admin POST "$PEERS_ADMIN_CFN/fault" "{\"kind\":\"$kind\",\"count\":1,\"match\":\"GetCallerIdentity\"}" >/dev/null
	sts get-caller-identity --query Account --output text
	check_eq "endpoint fault $kind once: aws retries and succeeds" "$OUT" 123456789012
	check_eq "endpoint fault $kind: logged, then a 200" \
		"$(count_calls "$PEERS_ADMIN_CFN" GetCallerIdentity "$kind") $(count_calls "$PEERS_ADMIN_CFN" GetCallerIdentity - 200)" "1 1"
	admin POST "$PEERS_ADMIN_S3/reset" >/dev/null
	admin POST "$PEERS_ADMIN_S3/fault" "{\"kind\":\"$kind\",\"count\":1,\"match\":\"PutObject\"}" >/dev/null
	s3 s3api put-object --bucket $B --key "faults/$kind" --body "$TMP/small.txt"
	check_contains "S3 fault $kind once on put-object: aws retries and succeeds" "$OUT" '"ETag"'
	check_eq "S3 fault $kind: logged, then a 200" \
		"$(count_calls "$PEERS_ADMIN_S3" PutObject "$kind") $(count_calls "$PEERS_ADMIN_S3" PutObject - 200)" "1 1"
done
admin POST "$PEERS_ADMIN_CFN/reset" >/dev/null
admin POST "$PEERS_ADMIN_CFN/fault" '{"kind":"slow","delay_ms":300}' >/dev/null
sts get-caller-identity --query Account --output text
check_eq "endpoint slow (300 ms): answered, no retry" "$OUT $(count_calls "$PEERS_ADMIN_CFN" GetCallerIdentity)" "123456789012 1"
admin POST "$PEERS_ADMIN_CFN/fault" '{"kind":"slow","delay_ms":2500}' >/dev/null
sts get-caller-identity --query Account --output text --cli-read-timeout 1
check_eq "endpoint slow (2.5 s) past a 1 s read timeout: aws times out, retries, succeeds" "$OUT" 123456789012
admin POST "$PEERS_ADMIN_S3/fault" '{"kind":"slow","delay_ms":2500,"match":"HeadObject"}' >/dev/null
s3 s3api head-object --bucket $B --key assets/small.txt --query ContentLength --output text --cli-read-timeout 1
check_eq "S3 slow past the read timeout: retried, succeeds" "$OUT" 12
admin POST "$PEERS_ADMIN_CFN/fault" '{"kind":"throttle","count":3}' >/dev/null
cfn describe-stacks --stack-name amplify-app-main-branch
check_contains "endpoint throttling 3 times (the CLI's budget): the error is shown" "$ERR" \
	"An error occurred (Throttling) when calling the DescribeStacks operation (reached max retries: 2): Rate exceeded"
admin POST "$PEERS_ADMIN_S3/fault" '{"kind":"503","count":3,"match":"PutObject"}' >/dev/null
s3 s3api put-object --bucket $B --key faults/persistent --body "$TMP/small.txt"
check_contains "S3 503 three times: the error is shown" "$ERR" "(ServiceUnavailable) when calling the PutObject operation (reached max retries: 2)"
admin POST "$PEERS_ADMIN_S3/fault" '{"kind":"throttle","count":3,"match":"PutObject"}' >/dev/null
s3 s3api put-object --bucket $B --key faults/persistent --body "$TMP/small.txt"
check_contains "S3 throttling three times: SlowDown shown" "$ERR" "(SlowDown) when calling the PutObject operation (reached max retries: 2): Please reduce your request rate."
s3 s3api head-object --bucket $B --key faults/persistent
check_contains "after a persistent fault, nothing was stored" "$ERR" "(404)"
out=$(admin GET "$PEERS_ADMIN_S3/faults")
check_contains "no fault left pending" "$out" '"faults": []'

# --- the calls log counts mutating calls ----------------------------------------------
admin POST "$PEERS_ADMIN_S3/reset" >/dev/null
s3 s3api put-object --bucket $B --key count/a --body "$TMP/small.txt"
s3 s3api put-object --bucket $B --key count/b --body "$TMP/small.txt"
s3 s3api head-object --bucket $B --key count/a
check_eq "calls log: 2 PutObject and 1 HeadObject since the reset" \
	"$(count_calls "$PEERS_ADMIN_S3" PutObject) $(count_calls "$PEERS_ADMIN_S3" HeadObject)" "2 1"

# --- raw HTTP checks --------------------------------------------------------------------
out=$(BUCKET=$B "$SYSPY" "$P/check_peers.py" 2>&1)
printf '%s\n' "$out" | grep -E '^(ok |not ok |#)'
T_PASSED=$((T_PASSED + $(printf '%s\n' "$out" | grep -c '^ok ')))
T_FAILED=$((T_FAILED + $(printf '%s\n' "$out" | grep -c '^not ok ')))
if ! printf '%s\n' "$out" | grep -q '^ok '; then fail "check_peers.py ran"; diag "$out"; fi

# --- stop ------------------------------------------------------------------------------------
pids=$(cat "$PEERS_DIR"/*.pid)
bash "$P/peers.sh" stop 2>/dev/null
alive=0
for p in $pids; do kill -0 "$p" 2>/dev/null && alive=$((alive + 1)); done
check_eq "stop: every recorded process is gone" "$alive" 0
port=${AWS_ENDPOINT_URL_S3##*:}
check "stop: nothing listens on the S3 port" bash -c "! (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null"
finish

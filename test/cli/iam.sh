#!/usr/bin/env bash
# Linking grants exactly what each access level allows, checked against the
# rule ("may this function do this on that?"), not against a golden file:
# test/iam/app (one function per component and access level, and a second
# resource of each type) is synthesized with the real synth binary, and
# test/iam/evaluator.py (an IAM policy evaluator over the resolved template,
# its own unit tests run first) decides every case below. A function may do
# the actions of its level on exactly its resource; not on another resource
# of the type, not the actions of another level, never service:*. The levels
# are the ones the headers document (include/synth/queue.h, topic.h, bus.h,
# table.h, api.h; storage.c's link for define_storage).
. "$(dirname "$0")/lib/common.bash"

IAM=$SYNTH_ROOT/test/iam
EVAL=$IAM/evaluator.py

# tap_count OUTPUT: adds OUTPUT's TAP lines to the counts (already printed).
tap_count() {
	T_PASSED=$((T_PASSED + $(printf '%s\n' "$1" | grep -c '^ok - ')))
	T_FAILED=$((T_FAILED + $(printf '%s\n' "$1" | grep -c '^not ok - ')))
}

# --- the evaluator's own unit tests -----------------------------------------
out=$(python3 "$IAM/test_evaluator.py" -v 2>&1)
rc=$?
# "test_x (__main__.Class.test_x) ... ok" (3.11; "(__main__.Class)" before)
tap=$(printf '%s\n' "$out" | sed -n \
	-e 's/^\(test_[a-z0-9_]*\) (__main__\.\([A-Za-z0-9]*\)[a-z0-9_.]*) \.\.\. ok$/ok - evaluator: \2.\1/p' \
	-e 's/^\(test_[a-z0-9_]*\) (__main__\.\([A-Za-z0-9]*\)[a-z0-9_.]*) \.\.\. \(FAIL\|ERROR\)$/not ok - evaluator: \2.\1/p')
printf '%s\n' "$tap"
tap_count "$tap"
if [ "$rc" -ne 0 ] || [ -z "$tap" ]; then
	fail "evaluator: test_evaluator.py passes (exit $rc)"
	printf '%s\n' "$out" | grep -v '\.\.\. ok$' | tail -n 25 | sed 's/^/#     /'
fi

# --- the fixture ------------------------------------------------------------
copy_sample "$IAM/app" "$TMP/app"
synth_in "$TMP/app" --branch main -q
if [ "$RC" -ne 0 ]; then
	fail "the IAM fixture synthesizes"; diag "exit $RC"; printf '%s\n' "$ERR" | head -n 10 | sed 's/^/#     /'
	finish
fi
pass "the IAM fixture synthesizes"
templates=("$TMP"/app/cdk.out/*.template.json)
check_eq "one template" "${#templates[@]}" 1
T=${templates[0]}

# --- the cases --------------------------------------------------------------
# cases ROLE allow|deny RESOURCE ACTION... [-- KEY=VALUE...]: one case per
# action. RESOURCE: {construct/path} is its ARN, {path.Attr} an attribute.
CASES=$TMP/cases
: >"$CASES"
cases() {
	local role=$1 expect=$2 res=$3 ctx="" a
	shift 3
	local acts=()
	while [ $# -gt 0 ]; do
		if [ "$1" = -- ]; then shift; ctx="$*"; break; fi
		acts+=("$1"); shift
	done
	for a in "${acts[@]}"; do
		echo "$role $expect $a $res $ctx" >>"$CASES"
	done
}
ACCT=123456789012
REG=us-east-1

# Queue "send": SendMessage, GetQueueAttributes, GetQueueUrl on orders only.
Q_SEND=(sqs:SendMessage sqs:GetQueueAttributes sqs:GetQueueUrl)
Q_RECV=(sqs:ReceiveMessage sqs:DeleteMessage sqs:ChangeMessageVisibility sqs:GetQueueAttributes sqs:GetQueueUrl)
cases qsend allow '{orders/Queue}' "${Q_SEND[@]}"
cases qsend deny '{jobs/Queue}' "${Q_SEND[@]}"
cases qsend deny '{spare-queue/Queue}' "${Q_SEND[@]}"
cases qsend deny "arn:aws:sqs:$REG:$ACCT:not-in-this-stack" sqs:SendMessage
cases qsend deny '{orders/Queue}' sqs:ReceiveMessage sqs:DeleteMessage sqs:ChangeMessageVisibility \
	sqs:PurgeQueue sqs:SetQueueAttributes sqs:DeleteQueue sqs:AddPermission sqs:TagQueue 'sqs:*' '*'
# Queue "receive": the consumer's five actions on jobs only.
cases qreceive allow '{jobs/Queue}' "${Q_RECV[@]}"
cases qreceive deny '{orders/Queue}' "${Q_RECV[@]}"
cases qreceive deny '{spare-queue/Queue}' "${Q_RECV[@]}"
cases qreceive deny '{jobs/Queue}' sqs:SendMessage sqs:PurgeQueue sqs:SetQueueAttributes sqs:DeleteQueue \
	sqs:AddPermission 'sqs:*' '*'

# A KMS-encrypted queue, "send": the queue's actions, and the AWS managed
# key (alias/aws/sqs) through SQS only: not directly, not through another
# service, not another key; never kms:Encrypt or grants.
KEY="arn:aws:kms:$REG:$ACCT:key/1234abcd-12ab-34cd-56ef-1234567890ab"
VIA_SQS="kms:ViaService=sqs.$REG.amazonaws.com"
SQS_KEY="kms:ResourceAliases=alias/aws/sqs"
cases ksend allow '{sealed/Queue}' "${Q_SEND[@]}"
cases ksend deny '{orders/Queue}' sqs:SendMessage
cases ksend deny '{sealed/Queue}' sqs:ReceiveMessage sqs:DeleteMessage
cases ksend allow "$KEY" kms:GenerateDataKey kms:Decrypt -- "$VIA_SQS" "$SQS_KEY"
cases ksend deny "$KEY" kms:GenerateDataKey kms:Decrypt -- "$SQS_KEY"
cases ksend deny "$KEY" kms:Decrypt -- "kms:ViaService=s3.$REG.amazonaws.com" "$SQS_KEY"
cases ksend deny "$KEY" kms:Decrypt -- "$VIA_SQS" kms:ResourceAliases=alias/mine
cases ksend deny "$KEY" kms:Decrypt -- "$VIA_SQS"
cases ksend deny "$KEY" kms:Encrypt kms:CreateGrant kms:ReEncryptFrom 'kms:*' -- "$VIA_SQS" "$SQS_KEY"
cases ksend deny "arn:aws:kms:us-west-2:$ACCT:key/1234abcd-12ab-34cd-56ef-1234567890ab" kms:Decrypt -- \
	"kms:ViaService=sqs.us-west-2.amazonaws.com" "$SQS_KEY"
# qsend's queue is SSE-SQS: no KMS at all.
cases qsend deny "$KEY" kms:GenerateDataKey kms:Decrypt -- "$VIA_SQS" "$SQS_KEY"

# Topic "publish": sns:Publish on alerts only.
cases tpublish allow '{alerts/Topic}' sns:Publish
cases tpublish deny '{spare-topic/Topic}' sns:Publish
cases tpublish deny "arn:aws:sns:$REG:$ACCT:not-in-this-stack" sns:Publish
cases tpublish deny '{alerts/Topic}' sns:Subscribe sns:SetTopicAttributes sns:GetTopicAttributes \
	sns:DeleteTopic sns:AddPermission 'sns:*' '*'

# Bus "put": events:PutEvents on the events bus only (not the default bus).
cases bput allow '{events/Bus}' events:PutEvents
cases bput deny '{spare-bus/Bus}' events:PutEvents
cases bput deny "arn:aws:events:$REG:$ACCT:event-bus/default" events:PutEvents
cases bput deny '{events/Bus}' events:PutRule events:PutTargets events:DeleteEventBus \
	events:PutPermission 'events:*' '*'

# Table "read": six read actions on items and its indexes; no write, no
# stream (reading the stream is synth_table_subscribe's grant).
T_READ=(dynamodb:GetItem dynamodb:BatchGetItem dynamodb:Query dynamodb:Scan dynamodb:ConditionCheckItem dynamodb:DescribeTable)
T_WRITE=(dynamodb:PutItem dynamodb:UpdateItem dynamodb:DeleteItem dynamodb:BatchWriteItem dynamodb:DescribeTable)
cases tread allow '{items/Table}' "${T_READ[@]}"
cases tread allow '{items/Table}/index/byOwner' dynamodb:Query dynamodb:Scan
cases tread deny '{ledger/Table}' "${T_READ[@]}"
cases tread deny '{spare-table/Table}' "${T_READ[@]}"
cases tread deny '{ledger/Table}/index/byOwner' dynamodb:Query
cases tread deny '{items/Table}' dynamodb:PutItem dynamodb:UpdateItem dynamodb:DeleteItem \
	dynamodb:BatchWriteItem dynamodb:DeleteTable dynamodb:UpdateTable dynamodb:PartiQLSelect 'dynamodb:*' '*'
cases tread deny '{items/Table.StreamArn}' dynamodb:GetRecords dynamodb:GetShardIterator dynamodb:DescribeStream
# Table "write": five write actions on ledger itself (not its indexes); no read.
cases twrite allow '{ledger/Table}' "${T_WRITE[@]}"
cases twrite deny '{items/Table}' "${T_WRITE[@]}"
cases twrite deny '{spare-table/Table}' "${T_WRITE[@]}"
cases twrite deny '{ledger/Table}/index/any' dynamodb:Query dynamodb:PutItem
cases twrite deny '{ledger/Table}' dynamodb:GetItem dynamodb:BatchGetItem dynamodb:Query dynamodb:Scan \
	dynamodb:ConditionCheckItem dynamodb:DeleteTable dynamodb:UpdateTable 'dynamodb:*' '*'

# Bucket "read" (storage.c: get and list): GetObject on every key of media,
# ListBucket on media (any prefix); no put, no delete; TLS only.
cases sread allow '{media/Bucket}/photos/a.jpg' s3:GetObject
cases sread allow '{media/Bucket}' s3:ListBucket -- s3:prefix=photos/
cases sread allow '{media/Bucket}' s3:ListBucket -- s3:prefix=
# (A List request that sends no prefix parameter at all has no s3:prefix
# key, and the StringLike ["", "*"] condition then does not hold: denied.
# Not asserted either way; see the report of this test's introduction.)
cases sread deny '{archive/Bucket}/photos/a.jpg' s3:GetObject
cases sread deny '{archive/Bucket}' s3:ListBucket -- s3:prefix=photos/
cases sread deny '{media/Bucket}/photos/a.jpg' s3:PutObject s3:DeleteObject s3:PutObjectAcl \
	s3:GetObjectAcl s3:DeleteObjectVersion 's3:*' '*'
cases sread deny '{media/Bucket}' s3:DeleteBucket s3:PutBucketPolicy s3:GetBucketPolicy s3:PutBucketAcl
cases sread deny '{media/Bucket}/photos/a.jpg' s3:GetObject -- aws:SecureTransport=false
# Bucket "write": PutObject only (delete is its own level, "write" implies no read).
cases swrite allow '{media/Bucket}/photos/a.jpg' s3:PutObject
cases swrite deny '{archive/Bucket}/photos/a.jpg' s3:PutObject
cases swrite deny '{media/Bucket}/photos/a.jpg' s3:GetObject s3:DeleteObject s3:PutObjectAcl 's3:*' '*'
cases swrite deny '{media/Bucket}' s3:ListBucket -- s3:prefix=photos/
cases swrite deny '{media/Bucket}/photos/a.jpg' s3:PutObject -- aws:SecureTransport=false

# API "invoke": execute-api:Invoke on exactly the IAM routes of web, stage $default.
cases ainvoke allow '{web/Api}/$default/POST/admin' execute-api:Invoke
cases ainvoke allow '{web/Api}/$default/GET/admin/42' execute-api:Invoke
cases ainvoke deny '{web/Api}/$default/GET/public' execute-api:Invoke
cases ainvoke deny '{web/Api}/$default/DELETE/admin' execute-api:Invoke
cases ainvoke deny '{web/Api}/$default/GET/admin' execute-api:Invoke
cases ainvoke deny '{web/Api}/prod/POST/admin' execute-api:Invoke
cases ainvoke deny '{spare-api/Api}/$default/POST/admin' execute-api:Invoke
cases ainvoke deny '{web/Api}/$default/POST/admin' execute-api:ManageConnections 'execute-api:*' '*'

# Subscribers (queue.h, table.h): qworker polls jobs with exactly the three
# actions Lambda's poller uses; tstream reads exactly the items stream.
cases qworker allow '{jobs/Queue}' sqs:ReceiveMessage sqs:DeleteMessage sqs:GetQueueAttributes
cases qworker deny '{orders/Queue}' sqs:ReceiveMessage sqs:DeleteMessage sqs:GetQueueAttributes
cases qworker deny '{jobs/Queue}' sqs:SendMessage sqs:ChangeMessageVisibility sqs:PurgeQueue 'sqs:*'
cases tstream allow '{items/Table.StreamArn}' dynamodb:DescribeStream dynamodb:GetRecords dynamodb:GetShardIterator
cases tstream deny '{items/Table}/stream/2000-01-01T00:00:00.000' dynamodb:GetRecords
cases tstream deny '{items/Table}' dynamodb:GetItem dynamodb:Query dynamodb:Scan dynamodb:PutItem 'dynamodb:*'
cases tstream deny '{ledger/Table}' dynamodb:GetItem

# Services, through resource policies: SNS may send to orders from the
# alerts topic only; EventBridge to spare-queue from its rule only; API
# Gateway may invoke the route handler from its routes only.
cases service:sns.amazonaws.com allow '{orders/Queue}' sqs:SendMessage -- 'aws:SourceArn={alerts/Topic}'
cases service:sns.amazonaws.com deny '{orders/Queue}' sqs:SendMessage -- 'aws:SourceArn={spare-topic/Topic}'
cases service:sns.amazonaws.com deny '{orders/Queue}' sqs:SendMessage
cases service:sns.amazonaws.com deny '{jobs/Queue}' sqs:SendMessage -- 'aws:SourceArn={alerts/Topic}'
cases service:sns.amazonaws.com deny '{orders/Queue}' sqs:ReceiveMessage sqs:PurgeQueue -- 'aws:SourceArn={alerts/Topic}'
cases service:events.amazonaws.com deny '{orders/Queue}' sqs:SendMessage -- 'aws:SourceArn={alerts/Topic}'
cases service:events.amazonaws.com allow '{spare-queue/Queue}' sqs:SendMessage -- 'aws:SourceArn={events/spare-queue/Rule}'
cases service:events.amazonaws.com deny '{spare-queue/Queue}' sqs:SendMessage -- "aws:SourceArn=arn:aws:events:$REG:$ACCT:rule/other"
cases service:events.amazonaws.com deny '{spare-queue/Queue}' sqs:SendMessage
cases service:sns.amazonaws.com deny '{spare-queue/Queue}' sqs:SendMessage -- 'aws:SourceArn={events/spare-queue/Rule}'
AG=service:apigateway.amazonaws.com
cases $AG allow '{handler/Resource}' lambda:InvokeFunction -- 'aws:SourceArn={web/Api}/$default/POST/admin'
cases $AG allow '{handler/Resource}' lambda:InvokeFunction -- 'aws:SourceArn={web/Api}/$default/GET/admin/7'
cases $AG allow '{handler/Resource}' lambda:InvokeFunction -- 'aws:SourceArn={web/Api}/$default/GET/public'
cases $AG allow '{handler/Resource}' lambda:InvokeFunction -- 'aws:SourceArn={spare-api/Api}/$default/POST/admin'
cases $AG deny '{handler/Resource}' lambda:InvokeFunction -- 'aws:SourceArn={web/Api}/$default/DELETE/admin'
cases $AG deny '{handler/Resource}' lambda:InvokeFunction -- 'aws:SourceArn={spare-api/Api}/$default/GET/public'
cases $AG deny '{handler/Resource}' lambda:InvokeFunction -- "aws:SourceArn=arn:aws:execute-api:$REG:$ACCT:otherapi/\$default/POST/admin"
cases $AG deny '{handler/Resource}' lambda:InvokeFunction
cases $AG deny '{handler/Resource}' lambda:UpdateFunctionCode lambda:GetFunction -- 'aws:SourceArn={web/Api}/$default/POST/admin'
cases $AG deny '{ainvoke/Resource}' lambda:InvokeFunction -- 'aws:SourceArn={web/Api}/$default/POST/admin'

# Across components: a link grants nothing on the other components.
cases qsend deny '{alerts/Topic}' sns:Publish
cases tpublish deny '{orders/Queue}' sqs:SendMessage
cases bput deny '{orders/Queue}' sqs:SendMessage
cases tread deny '{media/Bucket}/photos/a.jpg' s3:GetObject
cases sread deny '{items/Table}' dynamodb:GetItem
cases ainvoke deny '{events/Bus}' events:PutEvents
# The route handler is linked to nothing: it can do none of these.
cases handler deny '{orders/Queue}' sqs:SendMessage
cases handler deny '{alerts/Topic}' sns:Publish
cases handler deny '{items/Table}' dynamodb:GetItem
cases handler deny '{media/Bucket}/photos/a.jpg' s3:GetObject
cases handler deny '{web/Api}/$default/POST/admin' execute-api:Invoke
# Every function writes its own logs, not another's.
for f in qsend ksend qreceive tpublish bput tread twrite sread swrite ainvoke handler qworker tstream; do
	cases $f allow "arn:aws:logs:$REG:$ACCT:log-group:{$f/LogGroup!ref}:log-stream:s1" \
		logs:PutLogEvents logs:CreateLogStream
done
cases qsend deny "arn:aws:logs:$REG:$ACCT:log-group:{qreceive/LogGroup!ref}:log-stream:s1" logs:PutLogEvents
cases qsend deny "arn:aws:logs:$REG:$ACCT:log-group:{qsend/LogGroup!ref}:log-stream:s1" \
	logs:DeleteLogGroup logs:CreateLogGroup logs:GetLogEvents 'logs:*'

out=$(python3 "$EVAL" "$T" --cases "$CASES" 2>&1)
tap=$(printf '%s\n' "$out" | grep '^\(not \)\?ok - \|^#   ')
printf '%s\n' "$tap"
tap_count "$tap"
if ! printf '%s\n' "$out" | grep -q '^# [0-9]* passed, [0-9]* failed$'; then
	fail "the evaluator ran every case"; printf '%s\n' "$out" | tail -n 8 | sed 's/^/#     /'
fi

# --- exactly: each function's grants are the level's, and nothing else -----
out=$(python3 - "$EVAL" "$T" 2>&1 <<'PY'
import importlib.util, sys
spec = importlib.util.spec_from_file_location("evaluator", sys.argv[1])
E = importlib.util.module_from_spec(spec); spec.loader.exec_module(E)
t = E.Template.load(sys.argv[2])
def check(cond, desc, *d):
    print(("ok - " if cond else "not ok - ") + desc)
    for x in d if not cond else ():
        print("#   " + str(x))
want = {
    "qsend": {"sqs:SendMessage", "sqs:GetQueueAttributes", "sqs:GetQueueUrl"},
    "qreceive": {"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility",
                 "sqs:GetQueueAttributes", "sqs:GetQueueUrl"},
    "tpublish": {"sns:Publish"},
    "bput": {"events:PutEvents"},
    "tread": {"dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query", "dynamodb:Scan",
              "dynamodb:ConditionCheckItem", "dynamodb:DescribeTable"},
    "twrite": {"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem",
               "dynamodb:BatchWriteItem", "dynamodb:DescribeTable"},
    "sread": {"s3:GetObject", "s3:ListBucket"},
    "swrite": {"s3:PutObject"},
    "ainvoke": {"execute-api:Invoke"},
    "handler": set(),
    "ksend": {"sqs:SendMessage", "sqs:GetQueueAttributes", "sqs:GetQueueUrl",
              "kms:GenerateDataKey", "kms:Decrypt"},
    "qworker": {"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"},
    "tstream": {"dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator",
                "dynamodb:ListStreams"},
}
logs = {"logs:CreateLogStream", "logs:PutLogEvents"}
for fn, acts in want.items():
    stmts = [s for _, d in t.identity_policies(fn) for s in E._aslist(d.get("Statement"))]
    got = set()
    for s in stmts:
        got |= set(E._aslist(s.get("Action")))
    check(got - logs == acts, "%s: its policies grant exactly %s" % (fn, ", ".join(sorted(acts)) or "nothing"),
          "extra: %s" % sorted(got - logs - acts), "missing: %s" % sorted(acts - got))
    bad = [s for s in stmts if "NotAction" in s or "NotResource" in s or s.get("Effect") != "Allow"
           or any("*" in a for a in E._aslist(s.get("Action")))
           or any(r == "*" or r.endswith(":*") and not r.startswith("arn:aws:logs:")
                  for r in E._aslist(s.get("Resource")))]
    check(not bad, "%s: no wildcard action, no Resource \"*\", no Not* statement" % fn, *bad)
PY
)
tap=$(printf '%s\n' "$out" | grep '^\(not \)\?ok - \|^#   ')
printf '%s\n' "$tap"
tap_count "$tap"
if [ -z "$tap" ] || printf '%s\n' "$out" | grep -q Traceback; then
	fail "the exactness checks ran"; printf '%s\n' "$out" | tail -n 8 | sed 's/^/#     /'
fi
# --- the cases can fail: over-grants planted in a copy are caught ----------
# qsend also gets sqs:ReceiveMessage, tread's read statement any table ("*"),
# swrite s3:* on the bucket's keys: each must turn its "may not" cases red.
MUT=$TMP/mutated.template.json
python3 - "$T" "$MUT" <<'PY'
import json, sys
t = json.load(open(sys.argv[1]))
for lid, r in t["Resources"].items():
    path = r.get("Metadata", {}).get("synth:path")
    if path == "qsend/ServiceRole/DefaultPolicy":
        r["Properties"]["PolicyDocument"]["Statement"][0]["Action"].append("sqs:ReceiveMessage")
    if path == "tread/ServiceRole/DefaultPolicy":
        r["Properties"]["PolicyDocument"]["Statement"][0]["Resource"] = "*"
    if path == "swrite/ServiceRole/DefaultPolicy":
        r["Properties"]["PolicyDocument"]["Statement"][0]["Action"] = "s3:*"
json.dump(t, open(sys.argv[2], "w"))
PY
out=$(python3 "$EVAL" "$MUT" --cases "$CASES" 2>&1)
for want in "qsend may not sqs:ReceiveMessage on" "tread may not dynamodb:GetItem on arn:aws:dynamodb:[^ ]*ledger" \
	"tread may not dynamodb:Query on arn:aws:dynamodb:[^ ]*spare" "swrite may not s3:GetObject on" \
	"swrite may not s3:\\* on"; do
	check_match "a planted over-grant is caught: $want" "$(printf '%s\n' "$out" | grep '^not ok - ')" "^not ok - $want"
done
check_match "the planted over-grants fail no allowed case" "$(printf '%s\n' "$out" | grep -c '^not ok - [a-z]* may [^n]')" '^0$'
finish

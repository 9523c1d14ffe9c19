#!/usr/bin/env bash
# Queues, topics and bucket events through the real synth binary: a
# backend using all of them (subscribers, links, a queue fed by a topic
# and a bucket, a topic fed by a bucket, FIFO to FIFO) synthesizes, and
# cfn-lint and the specification check accept the template; a refusal
# exits non-zero naming the construct.
set -u
ROOT=${SYNTH_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${SYNTH_BUILD:-$ROOT/build}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fails=0
ok() { if eval "$2"; then echo "ok - $1"; else echo "not ok - $1"; fails=$((fails + 1)); [ -z "${3:-}" ] || sed 's/^/#   /' "$3" | tail -8; fi; }
W=$T/files
for f in worker notify thumb; do
	mkdir -p "$W/functions/$f"
	echo 'export const handler = async (e) => e;' >"$W/functions/$f/index.mjs"
done
backend() {
	{
		echo '#include <synth.h>'
		echo '#include <synth/queue.h>'
		echo '#include <synth/topic.h>'
		echo 'int main(int argc, char **argv) {'
		echo '	synth_backend *b;'
		echo '	if (synth_backend_new(&b, argc, argv) < 0) return synth_backend_fail(NULL);'
		echo '	synth_function *worker = synth_define_function(b, "worker", &(synth_function_props){.timeout_s = 30});'
		echo '	synth_function *notify = synth_define_function(b, "notify", NULL);'
		echo '	synth_function *thumb = synth_define_function(b, "thumb", NULL);'
		cat
		echo '	return synth_backend_main(b);'
		echo '}'
	} >"$W/backend.c"
}
run() { (cd "$W" && rm -rf cdk.out && "$BUILD/synth" --branch main -q) >"$T/out" 2>&1; echo $?; }

backend <<'C'
	synth_queue *jobs = synth_define_queue(b, "jobs", &(synth_queue_props){.visibility_timeout_s = 180, .dlq_max_receives = 5});
	synth_queue *turns = synth_define_queue(b, "turns", &(synth_queue_props){.fifo = true, .content_dedup = true});
	synth_topic *singers = synth_define_topic(b, "singers", &(synth_topic_props){.display_name = "Singers"});
	synth_topic *order = synth_define_topic(b, "order", &(synth_topic_props){.fifo = true});
	synth_storage *media = synth_define_storage(b, "media", NULL);
	synth_queue_subscribe(jobs, worker, &(synth_queue_subscribe_opts){.batch_size = 100, .batching_window_s = 5, .partial_responses = true, .max_concurrency = 10});
	synth_topic_subscribe(singers, notify, &(synth_topic_subscribe_opts){.filter_policy = "{\"kind\": [\"welcome\", \"turn\"]}"});
	synth_topic_subscribe_queue(singers, jobs, &(synth_topic_subscribe_opts){.raw_delivery = true});
	synth_topic_subscribe_queue(order, turns, NULL);
	synth_topic_subscribe_email(singers, "host@example.com", NULL);
	synth_topic_subscribe_https(singers, "https://hooks.example.com/karaoke", NULL);
	synth_function_link(worker, synth_topic_construct(singers), "publish");
	synth_function_link(notify, synth_queue_construct(turns), "send");
	synth_function_link(thumb, synth_storage_construct(media), "read,write");
	synth_storage_notify_function(media, thumb, "s3:ObjectCreated:*", "uploads/", ".jpg");
	synth_storage_notify_queue(media, jobs, "s3:ObjectCreated:*", "songs/", NULL);
	synth_storage_notify_topic(media, singers, "s3:ObjectRemoved:*", NULL, NULL);
C
ok "queues, topics and bucket events synthesize" "[ $(run) -eq 0 ]" "$T/out"
TPLS=$(ls "$W"/cdk.out/*.template.json 2>/dev/null)
cfn-lint --format parseable -- $TPLS >"$T/lint" 2>&1; lrc=$?
ok "cfn-lint: no errors (no E3004 circular dependency)" "[ \$(( lrc & 2 )) -eq 0 ] && ! grep -q E3004 '$T/lint'" "$T/lint"
bash "$ROOT/test/spec/setup.sh" >/dev/null 2>&1
ok "cfnspec.py accepts it" "python3 '$ROOT/test/spec/cfnspec.py' $TPLS >'$T/spec' 2>&1" "$T/spec"
n=$(cat $TPLS | python3 -c '
import json, sys
t = json.loads(sys.stdin.read())
print(sum(1 for r in t["Resources"].values() if r["Type"] in ("AWS::SQS::Queue", "AWS::SNS::Topic", "AWS::SNS::Subscription", "AWS::Lambda::EventSourceMapping", "AWS::SQS::QueuePolicy", "AWS::SNS::TopicPolicy")))' 2>/dev/null)
ok "the template has the 3 queues, 2 topics, 5 subscriptions, 1 mapping, 2 queue policies and 1 topic policy ($n)" "[ '$n' = 14 ]"

backend <<'C'
	synth_queue *q = synth_define_queue(b, "short", &(synth_queue_props){.visibility_timeout_s = 10});
	synth_queue_subscribe(q, worker, NULL);
C
ok "a visibility timeout under the consumer's timeout exits non-zero" "[ $(run) -ne 0 ]" "$T/out"
ok "naming the queue, both timeouts and the 6x advice" "grep -q 'short: visibility timeout 10 s is shorter than the timeout of its consumer worker (30 s)' '$T/out' && grep -q '6x' '$T/out'" "$T/out"
[ $fails -eq 0 ]

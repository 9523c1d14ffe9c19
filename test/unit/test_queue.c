/*
 * define_queue: the queue and its dead-letter queue, FIFO names,
 * encryption, subscribers (event source mappings after the function's
 * policy, exact receive grants), linking (exact actions, env vars), the
 * queue policy of synth_queue_allow_send, every refusal, and cfn-lint.
 */
#include "check.h"
#include "helpers.h"
#include "synth/sys/construct.h"
#include "synth/queue.h"

/* The logical ID of the resource at PATH in T ("" if none). */
static const char *lid(json_t *t, const char *path)
{
	const char *k;
	json_t *r;
	json_object_foreach(json_object_get(t, "Resources"), k, r)
		if (r == by_path(t, path))
			return k;
	return "";
}

static char *dump(json_t *j) { return json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS); }

/* cfn-lint over every template under ./out: 0 when it finds no error. */
static int lint(void)
{
	int rc = system("cfn-lint --format parseable -- out/*.template.json > lint.txt 2>&1");
	int code = WIFEXITED(rc) ? WEXITSTATUS(rc) : 255;
	if (code & 2)
		system("sed 's/^/#   /' lint.txt | head -20");
	return code & 2;
}

static void fn_dir(const char *name)
{
	char p[128];
	snprintf(p, sizeof p, "functions/%s/index.mjs", name);
	write_text(p, "export const handler = async () => 1;\n");
}

static void test_queue_resources(void)
{
	char *d = tmp_cwd();
	fn_dir("worker"), fn_dir("sender"), fn_dir("reader");
	synth_backend *b = new_backend();
	synth_queue *orders = synth_define_queue(b, "orders", &(synth_queue_props){
		.delay_s = 5, .visibility_timeout_s = 120, .retention_s = 86400,
		.dlq_max_receives = 3});
	synth_queue *jobs = synth_define_queue(b, "jobs", &(synth_queue_props){
		.fifo = true, .content_dedup = true, .encryption = "kms", .dlq_max_receives = 5});
	synth_queue *plain = synth_define_queue(b, "plain", &(synth_queue_props){
		.encryption = "none"});
	synth_function *worker = synth_define_function(b, "worker", &(synth_function_props){
		.timeout_s = 20});
	synth_function *sender = synth_define_function(b, "sender", NULL);
	synth_function *reader = synth_define_function(b, "reader", NULL);
	CHECK(orders && jobs && plain && worker && sender && reader, "defined (%s)",
	      synth_error_last()->message);
	CHECK(synth_queue_subscribe(orders, worker, &(synth_queue_subscribe_opts){
		      .batch_size = 50, .batching_window_s = 2, .partial_responses = true,
		      .filters = "[{\"body\": {\"kind\": [\"order\"]}}]",
		      .max_concurrency = 5}) == 0,
	      "subscribe (%s)", synth_error_last()->message);
	CHECK(synth_queue_subscribe(jobs, reader, NULL) == 0, "subscribe a FIFO queue, no options");
	CHECK(synth_function_link(sender, synth_queue_construct(orders), "send") == 0, "link send");
	CHECK(synth_function_link(reader, synth_queue_construct(jobs), "send, receive") == 0,
	      "link send and receive");
	CHECK(synth_backend_run(b) == 0, "run (%s)", synth_error_last()->message);
	json_t *t = root_template();

	char *s = dump(json_object_get(by_path(t, "orders/Queue"), "Properties"));
	char want[512];
	snprintf(want, sizeof want,
		 "{\"DelaySeconds\":5,\"MessageRetentionPeriod\":86400,\"RedrivePolicy\":"
		 "{\"deadLetterTargetArn\":{\"Fn::GetAtt\":[\"%s\",\"Arn\"]},\"maxReceiveCount\":3},"
		 "\"SqsManagedSseEnabled\":true,\"VisibilityTimeout\":120}",
		 lid(t, "orders/DeadLetterQueue"));
	CHECK_STR(s, want, "orders/Queue: delay, retention, visibility, SSE-SQS, redrive to its DLQ");
	free(s);
	s = dump(json_object_get(by_path(t, "orders/DeadLetterQueue"), "Properties"));
	CHECK_STR(s, "{\"MessageRetentionPeriod\":1209600,\"SqsManagedSseEnabled\":true}",
		  "the dead-letter queue keeps messages 14 days, encrypted as the queue");
	free(s);
	s = dump(json_object_get(by_path(t, "plain/Queue"), "Properties"));
	CHECK_STR(s, "{\"MessageRetentionPeriod\":345600,\"SqsManagedSseEnabled\":false,"
		     "\"VisibilityTimeout\":30}", "defaults: 30 s visibility, 4 days; encryption none");
	free(s);
	CHECK(by_path(t, "plain/DeadLetterQueue") == NULL, "no dead-letter queue by default");

	json_t *jp = json_object_get(by_path(t, "jobs/Queue"), "Properties");
	const char *qn = json_string_value(json_object_get(jp, "QueueName"));
	CHECK(json_is_true(json_object_get(jp, "FifoQueue")) &&
		      json_is_true(json_object_get(jp, "ContentBasedDeduplication")),
	      "jobs: FIFO with content-based deduplication");
	CHECK(qn && !strncmp(qn, "jobs-", 5) && strlen(qn) == 5 + 10 + 5 &&
		      !strcmp(qn + strlen(qn) - 5, ".fifo"),
	      "jobs: named jobs-<hash>.fifo (%s)", qn ? qn : "none");
	CHECK_STR(json_string_value(json_object_get(jp, "KmsMasterKeyId")), "alias/aws/sqs",
		  "jobs: SSE-KMS with the AWS managed key");
	const char *dn = json_string_value(json_object_get(
		json_object_get(by_path(t, "jobs/DeadLetterQueue"), "Properties"), "QueueName"));
	CHECK(dn && !strncmp(dn, "jobs-dlq-", 9) && strstr(dn, ".fifo"),
	      "a FIFO queue's dead-letter queue is FIFO too (%s)", dn ? dn : "none");

	/* The subscriber's mapping, after its policy. */
	json_t *esm = by_path(t, "worker/ordersEventSource");
	s = dump(json_object_get(esm, "Properties"));
	snprintf(want, sizeof want,
		 "{\"BatchSize\":50,\"Enabled\":true,\"EventSourceArn\":{\"Fn::GetAtt\":[\"%s\","
		 "\"Arn\"]},\"FilterCriteria\":{\"Filters\":[{\"Pattern\":\"{\\\"body\\\":"
		 "{\\\"kind\\\":[\\\"order\\\"]}}\"}]},\"FunctionName\":{\"Ref\":\"%s\"},"
		 "\"FunctionResponseTypes\":[\"ReportBatchItemFailures\"],"
		 "\"MaximumBatchingWindowInSeconds\":2,\"ScalingConfig\":{\"MaximumConcurrency\":5}}",
		 lid(t, "orders/Queue"), lid(t, "worker/Resource"));
	CHECK_STR(s, want, "the event source mapping: every option");
	free(s);
	s = dump(json_object_get(esm, "DependsOn"));
	CHECK_HAS(s, lid(t, "worker/ServiceRole/DefaultPolicy"), "it depends on the policy");
	free(s);
	s = dump(json_object_get(json_object_get(by_path(t, "worker/ServiceRole/DefaultPolicy"),
						 "Properties"), "PolicyDocument"));
	snprintf(want, sizeof want,
		 "{\"Statement\":[{\"Action\":[\"sqs:ReceiveMessage\",\"sqs:DeleteMessage\","
		 "\"sqs:GetQueueAttributes\"],\"Effect\":\"Allow\",\"Resource\":{\"Fn::GetAtt\":"
		 "[\"%s\",\"Arn\"]}}],\"Version\":\"2012-10-17\"}", lid(t, "orders/Queue"));
	CHECK_STR(s, want, "the subscriber may receive, delete and read attributes of exactly "
			   "this queue");
	free(s);
	s = dump(json_object_get(by_path(t, "reader/jobsEventSource"), "Properties"));
	CHECK_HAS(s, "\"BatchSize\":10,", "default batch size 10");
	CHECK(!strstr(s, "MaximumBatchingWindow") && !strstr(s, "FunctionResponseTypes") &&
		      !strstr(s, "FilterCriteria") && !strstr(s, "ScalingConfig"),
	      "no options: none of them emitted");
	free(s);

	/* Links. */
	s = dump(json_object_get(json_object_get(by_path(t, "sender/ServiceRole/DefaultPolicy"),
						 "Properties"), "PolicyDocument"));
	snprintf(want, sizeof want,
		 "{\"Statement\":[{\"Action\":[\"sqs:SendMessage\",\"sqs:GetQueueAttributes\","
		 "\"sqs:GetQueueUrl\"],\"Effect\":\"Allow\",\"Resource\":{\"Fn::GetAtt\":[\"%s\","
		 "\"Arn\"]}}],\"Version\":\"2012-10-17\"}", lid(t, "orders/Queue"));
	CHECK_STR(s, want, "send: exactly send, attributes and URL on exactly this queue");
	free(s);
	s = dump(json_object_get(json_object_get(by_path(t, "reader/ServiceRole/DefaultPolicy"),
						 "Properties"), "PolicyDocument"));
	CHECK_HAS(s, "\"Action\":[\"sqs:SendMessage\",\"sqs:GetQueueAttributes\",\"sqs:GetQueueUrl\","
		     "\"sqs:ReceiveMessage\",\"sqs:DeleteMessage\",\"sqs:ChangeMessageVisibility\"]",
		  "send,receive: the union, each action once");
	CHECK_HAS(s, "\"Action\":[\"kms:GenerateDataKey\",\"kms:Decrypt\"]",
		  "a KMS-encrypted queue: the key's actions");
	CHECK_HAS(s, "\"ForAnyValue:StringEquals\":{\"kms:ResourceAliases\":\"alias/aws/sqs\"}",
		  "on the AWS managed key of SQS only (its alias)");
	CHECK_HAS(s, "\"kms:ViaService\":{\"Fn::Sub\":\"sqs.${AWS::Region}.amazonaws.com\"}",
		  "used through SQS only");
	free(s);
	s = dump(by_path(t, "sender/Resource"));
	snprintf(want, sizeof want, "\"SYNTH_ORDERS_URL\":{\"Ref\":\"%s\"}", lid(t, "orders/Queue"));
	CHECK_HAS(s, want, "env SYNTH_ORDERS_URL: the queue's Ref");
	snprintf(want, sizeof want, "\"SYNTH_ORDERS_ARN\":{\"Fn::GetAtt\":[\"%s\",\"Arn\"]}",
		 lid(t, "orders/Queue"));
	CHECK_HAS(s, want, "env SYNTH_ORDERS_ARN: its ARN");
	free(s);
	s = dump(t);
	CHECK(!strstr(s, "\"Resource\":\"*\"") && !strstr(s, "sqs:*"),
	      "no Resource \"*\", no sqs:*");
	free(s);
	CHECK(lint() == 0, "cfn-lint: no errors");
	json_decref(t);
	synth_backend_free(b);
	rm_tmp(d);
}

static void test_allow_send(void)
{
	char *d = tmp_cwd();
	synth_backend *b = new_backend();
	synth_queue *q = synth_define_queue(b, "inbox", NULL);
	CHECK(synth_queue_allow_send(q, "FromTopic-news", "sns.amazonaws.com",
				     synth_sub("arn:aws:sns:us-east-1:111122223333:news", NULL)) == 0,
	      "allow send from a topic");
	CHECK(synth_queue_allow_send(q, "FromBucket", "s3.amazonaws.com",
				     synth_sub("arn:${AWS::Partition}:s3:::bkt", NULL)) == 0,
	      "and from a bucket");
	CHECK(synth_queue_allow_send(q, "FromTopicnews", "sns.amazonaws.com",
				     json_string("x")) == SYNTH_EEXISTS,
	      "a statement ID twice is refused");
	CHECK_HAS(synth_error_last()->message, "inbox", "naming the queue");
	CHECK(synth_backend_run(b) == SYNTH_EEXISTS, "the run reports it");
	synth_backend_free(b);

	b = new_backend();
	q = synth_define_queue(b, "inbox", NULL);
	synth_queue_allow_send(q, "FromTopic-news", "sns.amazonaws.com",
			       json_string("arn:aws:sns:us-east-1:111122223333:news"));
	CHECK(synth_backend_run(b) == 0, "run (%s)", synth_error_last()->message);
	/* After generation: the same policy, one more statement. */
	CHECK(synth_queue_allow_send(q, "Late", "events.amazonaws.com", json_string("arn:r")) == 0,
	      "allow send after generation");
	json_t *t = root_template();
	json_t *pol = by_path(t, "inbox/Policy");
	char *s = dump(json_object_get(pol, "Properties"));
	char want[1024];
	snprintf(want, sizeof want,
		 "{\"PolicyDocument\":{\"Statement\":[{\"Action\":\"sqs:SendMessage\",\"Condition\":"
		 "{\"ArnEquals\":{\"aws:SourceArn\":\"arn:aws:sns:us-east-1:111122223333:news\"}},"
		 "\"Effect\":\"Allow\",\"Principal\":{\"Service\":\"sns.amazonaws.com\"},"
		 "\"Resource\":{\"Fn::GetAtt\":[\"%s\",\"Arn\"]},\"Sid\":\"FromTopicnews\"}],"
		 "\"Version\":\"2012-10-17\"},\"Queues\":[{\"Ref\":\"%s\"}]}",
		 lid(t, "inbox/Queue"), lid(t, "inbox/Queue"));
	CHECK_STR(s, want, "NAME/Policy: one statement per source, exactly");
	free(s);
	CHECK(lint() == 0, "cfn-lint: no errors");
	json_decref(t);
	s = dump(synth_resource_properties(synth_backend_resource(b, "inbox/Policy")));
	CHECK_HAS(s, "\"Sid\":\"Late\"", "a late statement joins the same policy");
	free(s);
	synth_backend_free(b);

	b = new_backend();
	q = synth_define_queue(b, "locked", &(synth_queue_props){.encryption = "kms"});
	CHECK(synth_queue_allow_send(q, "S", "sns.amazonaws.com", json_string("arn:x")) ==
		      SYNTH_EINVALID, "a queue with the AWS managed key: refused");
	CHECK_HAS(synth_error_last()->message, "locked: sns.amazonaws.com cannot send",
		  "naming the queue and the service");
	CHECK_HAS(synth_error_last()->message, "use encryption \"sqs\"", "and the way out");
	CHECK(synth_queue_allow_send(q, "", "sns.amazonaws.com", json_string("arn:x")) < 0,
	      "an empty statement ID: refused");
	synth_backend_free(b);
	rm_tmp(d);
}

/* Defines a queue named "q1" with P; the message when refused. */
static int refused(const synth_queue_props *p, const char *needle, const char *what)
{
	synth_backend *b = new_backend();
	synth_queue *q = synth_define_queue(b, "q1", p);
	int ok = !q && strstr(synth_error_last()->message, "q1: ") &&
		 strstr(synth_error_last()->message, needle);
	CHECK(ok, "refused: %s", what);
	if (!ok)
		printf("#   got: %s\n", synth_error_last()->message);
	CHECK(synth_backend_run(b) < 0, "and the run fails: %s", what);
	synth_backend_free(b);
	return ok;
}

static void test_refusals(void)
{
	refused(&(synth_queue_props){.delay_s = 901}, "delay 901 s is outside 0..900", "delay");
	refused(&(synth_queue_props){.delay_s = -1}, "delay -1 s", "negative delay");
	refused(&(synth_queue_props){.visibility_timeout_s = 43201},
		"visibility timeout 43201 s is outside 0..43200", "visibility");
	refused(&(synth_queue_props){.retention_s = 59}, "retention 59 s is outside 60..1209600",
		"short retention");
	refused(&(synth_queue_props){.retention_s = 1209601}, "retention 1209601 s",
		"long retention");
	refused(&(synth_queue_props){.dlq_max_receives = 1001},
		"dead-letter max receives 1001 is outside 1..1000", "DLQ receives");
	refused(&(synth_queue_props){.content_dedup = true}, "needs a FIFO queue",
		"dedup without FIFO");
	refused(&(synth_queue_props){.encryption = "aes"}, "encryption 'aes' is not sqs, kms or none",
		"unknown encryption");

	char *d = tmp_cwd();
	fn_dir("slow");
	struct {
		bool fifo;
		synth_queue_subscribe_opts o;
		const char *needle, *what;
	} cases[] = {
		{false, {.batch_size = 10001, .batching_window_s = 1}, "batch size 10001 is outside 1..10000", "batch"},
		{true, {.batch_size = 11}, "batch size 11 is outside 1..10 (a FIFO queue)", "FIFO batch"},
		{false, {.batch_size = 11}, "needs a batching window of at least 1 s", "batch > 10 without window"},
		{false, {.batching_window_s = 301}, "batching window 301 s is outside 0..300", "window"},
		{true, {.batching_window_s = 1}, "Lambda has none for FIFO queues", "FIFO window"},
		{false, {.max_concurrency = 1}, "maximum concurrency 1 is outside 2..1000", "concurrency low"},
		{false, {.max_concurrency = 1001}, "maximum concurrency 1001", "concurrency high"},
		{false, {.filters = "[{\"a\": "}, "not a JSON array of patterns", "filters: bad JSON"},
		{false, {.filters = "{\"a\": 1}"}, "not a JSON array", "filters: an object"},
		{false, {.filters = "[]"}, "an empty array", "filters: empty"},
		{false, {.filters = "[1]"}, "an element is not", "filters: a number"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		synth_backend *b = new_backend();
		synth_queue *q = synth_define_queue(b, "q1", &(synth_queue_props){.fifo = cases[i].fifo});
		synth_function *fn = synth_define_function(b, "slow", NULL);
		int rc = synth_queue_subscribe(q, fn, &cases[i].o);
		CHECK(rc == SYNTH_EINVALID && strstr(synth_error_last()->message, "q1: ") &&
			      strstr(synth_error_last()->message, cases[i].needle),
		      "subscribe refused: %s", cases[i].what);
		if (rc == 0 || !strstr(synth_error_last()->message, cases[i].needle))
			printf("#   got: %s\n", synth_error_last()->message);
		synth_backend_free(b);
	}

	/* The consumer outlives the visibility timeout. */
	synth_backend *b = new_backend();
	synth_queue *q = synth_define_queue(b, "q1", &(synth_queue_props){.visibility_timeout_s = 60});
	synth_function *fn = synth_define_function(b, "slow", &(synth_function_props){.timeout_s = 90});
	CHECK(synth_function_timeout(fn) == 90, "synth_function_timeout reads the timeout");
	CHECK(synth_queue_subscribe(q, fn, NULL) == SYNTH_EINVALID,
	      "a visibility timeout shorter than the function's timeout: refused");
	CHECK_HAS(synth_error_last()->message,
		  "q1: visibility timeout 60 s is shorter than the timeout of its consumer slow "
		  "(90 s)", "naming both values");
	CHECK_HAS(synth_error_last()->message, "6x the function's timeout, 540 s",
		  "and the 6x recommendation");
	CHECK(synth_backend_run(b) == SYNTH_EINVALID, "the run fails with it");
	synth_backend_free(b);

	b = new_backend();
	q = synth_define_queue(b, "q1", &(synth_queue_props){.visibility_timeout_s = 90});
	fn = synth_define_function(b, "slow", &(synth_function_props){.timeout_s = 90});
	CHECK(synth_queue_subscribe(q, fn, NULL) == 0, "equal timeouts are accepted (%s)",
	      synth_error_last()->message);
	CHECK(synth_queue_subscribe(q, fn, NULL) == SYNTH_EEXISTS, "a second subscription: refused");
	CHECK_HAS(synth_error_last()->message, "q1: slow is subscribed to it already", "naming both");
	synth_backend_free(b);

	b = new_backend();
	q = synth_define_queue(b, "q1", NULL);
	fn = synth_define_function(b, "slow", NULL);
	CHECK(synth_function_link(fn, synth_queue_construct(q), "send,peek") == SYNTH_EINVALID,
	      "an unknown access level: refused");
	CHECK_HAS(synth_error_last()->message, "q1: link of slow: access 'peek' is not send or "
		  "receive", "naming the queue, the function, the level and the known ones");
	CHECK(synth_queue_subscribe(NULL, fn, NULL) == SYNTH_EINVALID, "a failed queue: refused");
	synth_backend_free(b);
	rm_tmp(d);
}

int main(void)
{
	test_queue_resources();
	test_allow_send();
	test_refusals();
	return check_failed ? 1 : 0;
}

/*
 * define_topic: the topic (standard, FIFO), subscriptions to functions
 * (subscription + permission from this topic, in the function's
 * construct), queues (subscription after the queue's policy, which allows
 * exactly this topic), email and HTTPS; filter policies; publish linking;
 * every refusal; cfn-lint.
 */
#include "check.h"
#include "helpers.h"
#include "synth/sys/construct.h"
#include "synth/queue.h"
#include "synth/topic.h"

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

static int lint(void)
{
	int rc = system("cfn-lint --format parseable -- out/*.template.json > lint.txt 2>&1");
	int code = WIFEXITED(rc) ? WEXITSTATUS(rc) : 255;
	if (code & 2)
		(void)!system("sed 's/^/#   /' lint.txt | head -20");
	return code & 2;
}

static void test_topic_resources(void)
{
	char *d = tmp_cwd();
	write_text("functions/welcome/index.mjs", "export const handler = async () => 1;\n");
	write_text("functions/app/index.mjs", "export const handler = async () => 1;\n");
	synth_backend *b = new_backend();
	synth_topic *news = synth_define_topic(b, "news", &(synth_topic_props){
		.display_name = "News"});
	synth_topic *turns = synth_define_topic(b, "turns", &(synth_topic_props){
		.fifo = true, .content_dedup = true});
	synth_queue *inbox = synth_define_queue(b, "inbox", NULL);
	synth_queue *fq = synth_define_queue(b, "ordered", &(synth_queue_props){.fifo = true});
	synth_function *welcome = synth_define_function(b, "welcome", NULL);
	synth_function *app = synth_define_function(b, "app", NULL);
	CHECK(news && turns && inbox && fq && welcome && app, "defined (%s)",
	      synth_error_last()->message);
	CHECK(synth_topic_subscribe(news, welcome, &(synth_topic_subscribe_opts){
		      .filter_policy = "{\"kind\": [\"welcome\"]}"}) == 0,
	      "a function with a filter policy");
	CHECK(synth_topic_subscribe_queue(news, inbox, &(synth_topic_subscribe_opts){
		      .filter_policy = "{\"singer\": [{\"exists\": true}]}", .filter_on_body = true,
		      .raw_delivery = true}) == 0,
	      "a queue, raw, filtered on the body (%s)", synth_error_last()->message);
	CHECK(synth_topic_subscribe_queue(turns, fq, NULL) == 0, "a FIFO topic to a FIFO queue");
	CHECK(synth_topic_subscribe_email(news, "ops@example.com", NULL) == 0, "email");
	CHECK(synth_topic_subscribe_https(news, "https://hooks.example.com/sns", &(
		      synth_topic_subscribe_opts){.raw_delivery = true}) == 0, "https");
	CHECK(synth_topic_subscribe_email(news, "dev@example.org", NULL) == 0, "a second email");
	CHECK(synth_function_link(app, synth_topic_construct(news), "publish") == 0, "link publish");
	CHECK(synth_backend_run(b) == 0, "run (%s)", synth_error_last()->message);
	json_t *t = root_template();
	char want[1024], *s;

	s = dump(json_object_get(by_path(t, "news/Topic"), "Properties"));
	CHECK_STR(s, "{\"DisplayName\":\"News\"}", "news/Topic: the display name, nothing else");
	free(s);
	json_t *tp = json_object_get(by_path(t, "turns/Topic"), "Properties");
	const char *tn = json_string_value(json_object_get(tp, "TopicName"));
	CHECK(json_is_true(json_object_get(tp, "FifoTopic")) &&
		      json_is_true(json_object_get(tp, "ContentBasedDeduplication")),
	      "turns: FIFO with content-based deduplication");
	CHECK(tn && !strncmp(tn, "turns-", 6) && strlen(tn) == 6 + 10 + 5 &&
		      !strcmp(tn + strlen(tn) - 5, ".fifo"),
	      "turns: named turns-<hash>.fifo (%s)", tn ? tn : "none");

	/* The function's subscription and permission, in its construct. */
	s = dump(json_object_get(by_path(t, "welcome/newsSubscription"), "Properties"));
	snprintf(want, sizeof want,
		 "{\"Endpoint\":{\"Fn::GetAtt\":[\"%s\",\"Arn\"]},\"FilterPolicy\":{\"kind\":"
		 "[\"welcome\"]},\"Protocol\":\"lambda\",\"TopicArn\":{\"Ref\":\"%s\"}}",
		 lid(t, "welcome/Resource"), lid(t, "news/Topic"));
	CHECK_STR(s, want, "welcome/newsSubscription: lambda, with the filter policy");
	free(s);
	s = dump(json_object_get(by_path(t, "welcome/newsPermission"), "Properties"));
	snprintf(want, sizeof want,
		 "{\"Action\":\"lambda:InvokeFunction\",\"FunctionName\":{\"Fn::GetAtt\":[\"%s\","
		 "\"Arn\"]},\"Principal\":\"sns.amazonaws.com\",\"SourceArn\":{\"Ref\":\"%s\"}}",
		 lid(t, "welcome/Resource"), lid(t, "news/Topic"));
	CHECK_STR(s, want, "welcome/newsPermission: SNS, from this topic only");
	free(s);

	/* The queue's subscription, after its policy. */
	json_t *qs = by_path(t, "news/inboxSubscription");
	s = dump(json_object_get(qs, "Properties"));
	snprintf(want, sizeof want,
		 "{\"Endpoint\":{\"Fn::GetAtt\":[\"%s\",\"Arn\"]},\"FilterPolicy\":{\"singer\":"
		 "[{\"exists\":true}]},\"FilterPolicyScope\":\"MessageBody\",\"Protocol\":\"sqs\","
		 "\"RawMessageDelivery\":true,\"TopicArn\":{\"Ref\":\"%s\"}}",
		 lid(t, "inbox/Queue"), lid(t, "news/Topic"));
	CHECK_STR(s, want, "news/inboxSubscription: sqs, raw, filtered on the body");
	free(s);
	s = dump(json_object_get(qs, "DependsOn"));
	CHECK_HAS(s, lid(t, "inbox/Policy"), "it waits for the queue's policy");
	free(s);
	s = dump(json_object_get(json_object_get(by_path(t, "inbox/Policy"), "Properties"),
				 "PolicyDocument"));
	snprintf(want, sizeof want,
		 "{\"Statement\":[{\"Action\":\"sqs:SendMessage\",\"Condition\":{\"ArnEquals\":"
		 "{\"aws:SourceArn\":{\"Ref\":\"%s\"}}},\"Effect\":\"Allow\",\"Principal\":"
		 "{\"Service\":\"sns.amazonaws.com\"},\"Resource\":{\"Fn::GetAtt\":[\"%s\",\"Arn\"]},"
		 "\"Sid\":\"FromTopicnews\"}],\"Version\":\"2012-10-17\"}",
		 lid(t, "news/Topic"), lid(t, "inbox/Queue"));
	CHECK_STR(s, want, "the queue policy allows exactly this topic to send");
	free(s);
	CHECK(by_path(t, "turns/orderedSubscription") != NULL, "FIFO to FIFO subscription");

	s = dump(json_object_get(by_path(t, "news/Email1"), "Properties"));
	snprintf(want, sizeof want, "{\"Endpoint\":\"ops@example.com\",\"Protocol\":\"email\","
				    "\"TopicArn\":{\"Ref\":\"%s\"}}", lid(t, "news/Topic"));
	CHECK_STR(s, want, "news/Email1");
	free(s);
	CHECK(by_path(t, "news/Email2") != NULL, "news/Email2: numbered in call order");
	s = dump(json_object_get(by_path(t, "news/Https1"), "Properties"));
	CHECK_HAS(s, "\"Endpoint\":\"https://hooks.example.com/sns\",\"Protocol\":\"https\","
		     "\"RawMessageDelivery\":true", "news/Https1, raw");
	free(s);

	s = dump(json_object_get(json_object_get(by_path(t, "app/ServiceRole/DefaultPolicy"),
						 "Properties"), "PolicyDocument"));
	snprintf(want, sizeof want,
		 "{\"Statement\":[{\"Action\":[\"sns:Publish\"],\"Effect\":\"Allow\",\"Resource\":"
		 "{\"Ref\":\"%s\"}}],\"Version\":\"2012-10-17\"}", lid(t, "news/Topic"));
	CHECK_STR(s, want, "publish: sns:Publish on exactly this topic");
	free(s);
	s = dump(by_path(t, "app/Resource"));
	snprintf(want, sizeof want, "\"SYNTH_NEWS_ARN\":{\"Ref\":\"%s\"}", lid(t, "news/Topic"));
	CHECK_HAS(s, want, "env SYNTH_NEWS_ARN");
	free(s);
	s = dump(t);
	CHECK(!strstr(s, "\"Resource\":\"*\"") && !strstr(s, "sns:*"), "no Resource \"*\", no sns:*");
	free(s);
	CHECK(lint() == 0, "cfn-lint: no errors");
	json_decref(t);
	synth_backend_free(b);
	rm_tmp(d);
}

static void test_refusals(void)
{
	char *d = tmp_cwd();
	synth_backend *b = new_backend();
	CHECK(!synth_define_topic(b, "t1", &(synth_topic_props){.content_dedup = true}),
	      "dedup without FIFO: refused");
	CHECK_HAS(synth_error_last()->message, "t1: content-based deduplication needs a FIFO topic",
		  "naming the topic");
	CHECK(synth_backend_run(b) < 0, "the run fails");
	synth_backend_free(b);
	b = new_backend();
	CHECK(!synth_define_topic(b, "t1", &(synth_topic_props){.display_name = ""}),
	      "an empty display name: refused");
	CHECK_HAS(synth_error_last()->message, "t1: display name must have 1 to 100", "why");
	synth_backend_free(b);

	b = new_backend();
	synth_topic *fifo = synth_define_topic(b, "ft", &(synth_topic_props){.fifo = true});
	synth_topic *std = synth_define_topic(b, "st", NULL);
	synth_queue *fq = synth_define_queue(b, "fq", &(synth_queue_props){.fifo = true});
	synth_queue *sq = synth_define_queue(b, "sq", NULL);
	synth_queue *kq = synth_define_queue(b, "kq", &(synth_queue_props){.encryption = "kms"});
	synth_function *fn = synth_define_function(b, "fn", NULL);
	CHECK(synth_topic_subscribe(fifo, fn, NULL) == SYNTH_EINVALID, "FIFO topic -> Lambda: refused");
	CHECK_HAS(synth_error_last()->message, "ft: a FIFO topic cannot invoke function fn",
		  "naming both");
	CHECK(synth_topic_subscribe_queue(std, fq, NULL) == SYNTH_EINVALID,
	      "standard topic -> FIFO queue: refused");
	CHECK_HAS(synth_error_last()->message, "st: standard topic st cannot deliver to FIFO queue fq",
		  "naming both");
	CHECK(synth_topic_subscribe_queue(fifo, sq, NULL) == SYNTH_EINVALID,
	      "FIFO topic -> standard queue: refused");
	CHECK_HAS(synth_error_last()->message, "ft: FIFO topic ft cannot deliver to standard queue sq",
		  "naming both");
	CHECK(synth_topic_subscribe_queue(std, kq, NULL) == SYNTH_EINVALID,
	      "a queue with the AWS managed key: refused");
	CHECK_HAS(synth_error_last()->message, "kq: sns.amazonaws.com cannot send", "naming the queue");
	const char *bad_filters[] = {"[1, 2]", "{\"a\": ", "\"x\"", "{}", NULL};
	for (size_t i = 0; bad_filters[i]; i++) {
		CHECK(synth_topic_subscribe(std, fn, &(synth_topic_subscribe_opts){
			      .filter_policy = bad_filters[i]}) == SYNTH_EINVALID,
		      "filter policy %s: refused", bad_filters[i]);
		CHECK_HAS(synth_error_last()->message,
			  "st: the filter policy of fn's subscription is not a non-empty JSON object",
			  "naming the topic and subscriber");
	}
	CHECK(synth_topic_subscribe(std, fn, &(synth_topic_subscribe_opts){.filter_on_body = true}) ==
		      SYNTH_EINVALID, "filter on body without a policy: refused");
	CHECK(synth_topic_subscribe(std, fn, &(synth_topic_subscribe_opts){.raw_delivery = true}) ==
		      SYNTH_EINVALID, "raw delivery to a function: refused");
	CHECK_HAS(synth_error_last()->message, "only queues and HTTPS endpoints", "why");
	const char *bad_email[] = {"nobody", "@example.com", "a@b", "a b@example.com",
				   "a@@example.com", "a@example.", NULL};
	for (size_t i = 0; bad_email[i]; i++) {
		CHECK(synth_topic_subscribe_email(std, bad_email[i], NULL) == SYNTH_EINVALID,
		      "email '%s': refused", bad_email[i]);
		CHECK_HAS(synth_error_last()->message, "is not an email address", "why");
	}
	const char *bad_url[] = {"http://example.com", "https://", "https:///path",
				 "https://exa mple.com", "ftp://x", NULL};
	for (size_t i = 0; bad_url[i]; i++) {
		CHECK(synth_topic_subscribe_https(std, bad_url[i], NULL) == SYNTH_EINVALID,
		      "URL '%s': refused", bad_url[i]);
		CHECK_HAS(synth_error_last()->message, "st: ", "naming the topic");
	}
	CHECK(synth_topic_subscribe(std, fn, NULL) == 0, "a good subscription");
	CHECK(synth_topic_subscribe(std, fn, NULL) == SYNTH_EEXISTS, "twice: refused");
	CHECK(synth_topic_subscribe_queue(std, sq, NULL) == 0, "a good queue subscription");
	CHECK(synth_topic_subscribe_queue(std, sq, NULL) == SYNTH_EEXISTS, "twice: refused");
	CHECK(synth_function_link(fn, synth_topic_construct(std), "subscribe") == SYNTH_EINVALID,
	      "link 'subscribe': refused");
	CHECK_HAS(synth_error_last()->message, "st: link of fn: access 'subscribe' is not publish",
		  "naming the level and the known one");
	CHECK(synth_backend_run(b) < 0, "the run fails with the first error");
	synth_backend_free(b);
	rm_tmp(d);
}

int main(void)
{
	test_topic_resources();
	test_refusals();
	return check_failed ? 1 : 0;
}

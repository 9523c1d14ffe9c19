/*
 * Bucket events (synth_storage_notify_*): the notification configuration,
 * the bucket's name and the ARN built from it, the Lambda permission and
 * the queue/topic policies naming exactly this bucket, the bucket after
 * them, no circular dependency (cfn-lint E3004) even for a function that
 * both handles and reads the bucket, and every refusal.
 */
#include "check.h"
#include "helpers.h"
#include "synth/sys/construct.h"
#include "synth/storage.h"

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

static void test_notifications(void)
{
	char *d = tmp_cwd();
	write_text("functions/thumb/index.mjs", "export const handler = async () => 1;\n");
	write_text("functions/audit/index.mjs", "export const handler = async () => 1;\n");
	synth_backend *b = new_backend();
	synth_function *thumb = synth_define_function(b, "thumb", NULL);
	synth_function *audit = synth_define_function(b, "audit", NULL);
	synth_storage *s = synth_define_storage(b, "Media_Files", &(synth_storage_props){
		.on_delete = audit});
	synth_queue *q = synth_define_queue(b, "uploads", NULL);
	synth_topic *t = synth_define_topic(b, "changes", NULL);
	/* Linked before the first notification: its env is rewritten. */
	CHECK(synth_function_link(thumb, synth_storage_construct(s), "read") == 0, "link read");
	CHECK(synth_storage_notify_function(s, thumb, "s3:ObjectCreated:Put,s3:ObjectCreated:Post",
					    "photos/", ".jpg") == 0,
	      "notify a function (%s)", synth_error_last()->message);
	CHECK(synth_storage_notify_queue(s, q, NULL, "docs/", NULL) == 0, "notify a queue");
	CHECK(synth_storage_notify_queue(s, q, "s3:ObjectCreated:*", "csv/", NULL) == 0,
	      "the same queue again");
	CHECK(synth_storage_notify_topic(s, t, "s3:ObjectRestore:Completed", "docs/", NULL) == 0,
	      "notify a topic");
	CHECK(synth_backend_run(b) == 0, "run (%s)", synth_error_last()->message);
	json_t *tpl = root_template();
	json_t *bucket = by_path(tpl, "Media_Files/Bucket");
	json_t *bp = json_object_get(bucket, "Properties");
	const char *bn = json_string_value(json_object_get(json_object_get(bp, "BucketName"),
							   "Fn::Sub"));
	CHECK(bn && !strncmp(bn, "media-files-", 12) &&
		      strstr(bn, "-${AWS::AccountId}-${AWS::Region}"),
	      "the bucket is named media-files-<hash>-<account>-<region> (%s)", bn ? bn : "none");
	CHECK(bn && strlen(bn) - strlen("${AWS::AccountId}${AWS::Region}") + 12 + 14 <= 63,
	      "within 63 characters for any account and region");
	char arn[256], want[2048];
	snprintf(arn, sizeof arn, "arn:${AWS::Partition}:s3:::%s", bn ? bn : "");

	char *str = dump(json_object_get(bp, "NotificationConfiguration"));
	snprintf(want, sizeof want,
		 "{\"LambdaConfigurations\":["
		 "{\"Event\":\"s3:ObjectRemoved:*\",\"Function\":{\"Fn::GetAtt\":[\"%s\",\"Arn\"]}},"
		 "{\"Event\":\"s3:ObjectCreated:Put\",\"Filter\":{\"S3Key\":{\"Rules\":[{\"Name\":"
		 "\"prefix\",\"Value\":\"photos/\"},{\"Name\":\"suffix\",\"Value\":\".jpg\"}]}},"
		 "\"Function\":{\"Fn::GetAtt\":[\"%s\",\"Arn\"]}},"
		 "{\"Event\":\"s3:ObjectCreated:Post\",\"Filter\":{\"S3Key\":{\"Rules\":[{\"Name\":"
		 "\"prefix\",\"Value\":\"photos/\"},{\"Name\":\"suffix\",\"Value\":\".jpg\"}]}},"
		 "\"Function\":{\"Fn::GetAtt\":[\"%s\",\"Arn\"]}}],"
		 "\"QueueConfigurations\":["
		 "{\"Event\":\"s3:ObjectCreated:*\",\"Filter\":{\"S3Key\":{\"Rules\":[{\"Name\":"
		 "\"prefix\",\"Value\":\"docs/\"}]}},\"Queue\":{\"Fn::GetAtt\":[\"%s\",\"Arn\"]}},"
		 "{\"Event\":\"s3:ObjectCreated:*\",\"Filter\":{\"S3Key\":{\"Rules\":[{\"Name\":"
		 "\"prefix\",\"Value\":\"csv/\"}]}},\"Queue\":{\"Fn::GetAtt\":[\"%s\",\"Arn\"]}}],"
		 "\"TopicConfigurations\":["
		 "{\"Event\":\"s3:ObjectRestore:Completed\",\"Filter\":{\"S3Key\":{\"Rules\":[{\"Name\":"
		 "\"prefix\",\"Value\":\"docs/\"}]}},\"Topic\":{\"Ref\":\"%s\"}}]}",
		 lid(tpl, "audit/Resource"), lid(tpl, "thumb/Resource"), lid(tpl, "thumb/Resource"),
		 lid(tpl, "uploads/Queue"), lid(tpl, "uploads/Queue"), lid(tpl, "changes/Topic"));
	CHECK_STR(str, want, "the notification configuration: every event, filter and target");
	free(str);

	str = dump(json_object_get(by_path(tpl, "Media_Files/thumbNotificationPermission"),
				   "Properties"));
	snprintf(want, sizeof want,
		 "{\"Action\":\"lambda:InvokeFunction\",\"FunctionName\":{\"Fn::GetAtt\":[\"%s\","
		 "\"Arn\"]},\"Principal\":\"s3.amazonaws.com\",\"SourceAccount\":{\"Ref\":"
		 "\"AWS::AccountId\"},\"SourceArn\":{\"Fn::Sub\":\"%s\"}}",
		 lid(tpl, "thumb/Resource"), arn);
	CHECK_STR(str, want, "one permission per function: from this bucket (by name) and account");
	free(str);
	str = dump(json_object_get(by_path(tpl, "Media_Files/OnDeletePermission"), "Properties"));
	CHECK_HAS(str, arn, "the on_delete trigger's permission names the bucket too");
	free(str);

	str = dump(json_object_get(json_object_get(by_path(tpl, "uploads/Policy"), "Properties"),
				   "PolicyDocument"));
	snprintf(want, sizeof want,
		 "{\"Statement\":[{\"Action\":\"sqs:SendMessage\",\"Condition\":{\"ArnEquals\":"
		 "{\"aws:SourceArn\":{\"Fn::Sub\":\"%s\"}}},\"Effect\":\"Allow\",\"Principal\":"
		 "{\"Service\":\"s3.amazonaws.com\"},\"Resource\":{\"Fn::GetAtt\":[\"%s\",\"Arn\"]},"
		 "\"Sid\":\"FromBucketMediaFiles\"}],\"Version\":\"2012-10-17\"}",
		 arn, lid(tpl, "uploads/Queue"));
	CHECK_STR(str, want, "the queue policy: one statement for exactly this bucket");
	free(str);
	str = dump(json_object_get(json_object_get(by_path(tpl, "changes/Policy"), "Properties"),
				   "PolicyDocument"));
	snprintf(want, sizeof want,
		 "{\"Statement\":[{\"Action\":\"sns:Publish\",\"Condition\":{\"ArnEquals\":"
		 "{\"aws:SourceArn\":{\"Fn::Sub\":\"%s\"}}},\"Effect\":\"Allow\",\"Principal\":"
		 "{\"Service\":\"s3.amazonaws.com\"},\"Resource\":{\"Ref\":\"%s\"},"
		 "\"Sid\":\"FromBucketMediaFiles\"}],\"Version\":\"2012-10-17\"}",
		 arn, lid(tpl, "changes/Topic"));
	CHECK_STR(str, want, "the topic policy: exactly this bucket may publish");
	free(str);

	str = dump(json_object_get(bucket, "DependsOn"));
	const char *after[] = {"Media_Files/OnDeletePermission", "Media_Files/thumbNotificationPermission",
			       "uploads/Policy", "changes/Policy", NULL};
	for (size_t i = 0; after[i]; i++)
		CHECK_HAS(str, lid(tpl, after[i]), "the bucket is created after %s", after[i]);
	CHECK(json_array_size(json_object_get(bucket, "DependsOn")) == 4, "and nothing else");
	free(str);

	str = dump(by_path(tpl, "thumb/Resource"));
	snprintf(want, sizeof want, "\"SYNTH_MEDIA_FILES_NAME\":{\"Fn::Sub\":\"%s\"}", bn ? bn : "");
	CHECK_HAS(str, want, "a linked function gets the name as text, not a Ref (no cycle)");
	snprintf(want, sizeof want, "\"SYNTH_MEDIA_FILES_ARN\":{\"Fn::Sub\":\"%s\"}", arn);
	CHECK_HAS(str, want, "and the ARN");
	free(str);
	CHECK(lint() == 0, "cfn-lint: no errors (no E3004 circular dependency)");
	json_decref(tpl);
	synth_backend_free(b);
	rm_tmp(d);
}

/* A bucket without notifications keeps its generated name and trigger
 * permissions as they were (the golden samples). */
static void test_unnamed(void)
{
	char *d = tmp_cwd();
	write_text("functions/up/index.mjs", "export const handler = async () => 1;\n");
	synth_backend *b = new_backend();
	synth_function *up = synth_define_function(b, "up", NULL);
	synth_storage *s = synth_define_storage(b, "plain", &(synth_storage_props){.on_upload = up});
	CHECK(s != NULL, "defined");
	CHECK(synth_backend_run(b) == 0, "run (%s)", synth_error_last()->message);
	json_t *tpl = root_template();
	char *str = dump(by_path(tpl, "plain/Bucket"));
	CHECK(str && !strstr(str, "BucketName"), "no BucketName without notifications");
	free(str);
	str = dump(by_path(tpl, "plain/OnUploadPermission"));
	CHECK(str && !strstr(str, "SourceArn") && strstr(str, "SourceAccount"),
	      "the trigger's permission: SourceAccount, as before");
	free(str);
	json_decref(tpl);
	synth_backend_free(b);

	/* A trigger's function linked to its unnamed bucket is the cycle
	 * notifications avoid: reported naming it. */
	b = new_backend();
	up = synth_define_function(b, "up", NULL);
	s = synth_define_storage(b, "plain", &(synth_storage_props){.on_upload = up});
	synth_function_link(up, synth_storage_construct(s), "write");
	CHECK(synth_backend_run(b) == SYNTH_ECYCLE, "on_upload + link: a cycle, reported");
	CHECK_HAS(synth_error_last()->message, "up/Resource -> plain/Bucket -> up/Resource",
		  "naming every step");
	synth_backend_free(b);
	rm_tmp(d);
}

static void test_refusals(void)
{
	char *d = tmp_cwd();
	synth_backend *b = new_backend();
	synth_function *fn = synth_define_function(b, "fn", NULL);
	synth_function *other = synth_define_function(b, "other", NULL);
	synth_storage *s = synth_define_storage(b, "bkt", &(synth_storage_props){.on_upload = fn});
	synth_queue *fq = synth_define_queue(b, "fq", &(synth_queue_props){.fifo = true});
	synth_queue *kq = synth_define_queue(b, "kq", &(synth_queue_props){.encryption = "kms"});
	synth_topic *ft = synth_define_topic(b, "ft", &(synth_topic_props){.fifo = true});
	CHECK(synth_storage_notify_function(s, other, "s3:ObjectCreated:Nope", NULL, NULL) ==
		      SYNTH_EINVALID, "an unknown event type: refused");
	CHECK_HAS(synth_error_last()->message,
		  "bkt: notification of other: 's3:ObjectCreated:Nope' is not an S3 event type",
		  "naming the bucket, the target and the event");
	CHECK(synth_storage_notify_function(s, other, "", NULL, NULL) == SYNTH_EINVALID,
	      "no events: refused");
	CHECK(synth_storage_notify_function(s, other, "s3:ObjectCreated:Put", "a/", NULL) ==
		      SYNTH_EINVALID, "overlapping the on_upload trigger: refused");
	CHECK_HAS(synth_error_last()->message, "overlaps the on_upload trigger of fn",
		  "naming what it overlaps");
	CHECK(synth_storage_notify_function(s, other, "s3:ObjectRemoved:*", "a/", ".png") == 0,
	      "a distinct event: accepted");
	CHECK(synth_storage_notify_function(s, other, "s3:ObjectRemoved:Delete", "a/b/", NULL) ==
		      SYNTH_EINVALID, "a narrower event and prefix of the same: refused");
	CHECK_HAS(synth_error_last()->message, "S3 refuses overlapping notifications", "why");
	CHECK(synth_storage_notify_function(s, other, "s3:ObjectRemoved:Delete", "b/", NULL) == 0,
	      "another prefix: accepted");
	CHECK(synth_storage_notify_function(s, other, "s3:ObjectRemoved:Delete", "a/", ".jpg") == 0,
	      "the same prefix, another suffix: accepted");
	CHECK(synth_storage_notify_queue(s, fq, "s3:ObjectRestore:*", NULL, NULL) == SYNTH_EINVALID,
	      "a FIFO queue: refused");
	CHECK_HAS(synth_error_last()->message, "bkt: cannot notify FIFO queue fq: S3 delivers to "
		  "standard queues only", "naming both");
	CHECK(synth_storage_notify_topic(s, ft, "s3:ObjectRestore:*", NULL, NULL) == SYNTH_EINVALID,
	      "a FIFO topic: refused");
	CHECK_HAS(synth_error_last()->message, "FIFO topic ft", "naming it");
	CHECK(synth_storage_notify_queue(s, kq, "s3:ObjectTagging:*", NULL, NULL) == SYNTH_EINVALID,
	      "a queue with the AWS managed key: refused");
	CHECK_HAS(synth_error_last()->message, "kq: s3.amazonaws.com cannot send", "naming it");
	CHECK(synth_storage_notify_queue(NULL, kq, NULL, NULL, NULL) == SYNTH_EINVALID,
	      "a failed storage: refused");
	CHECK(synth_backend_run(b) < 0, "the run fails");
	synth_backend_free(b);
	rm_tmp(d);
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	test_notifications();
	test_unnamed();
	test_refusals();
	return check_failed ? 1 : 0;
}

/* Template model: tokens, logical IDs, outputs, overrides, cross-stack. */
#include "check.h"
#include "helpers.h"

static void test_logical_ids(void)
{
	char *a = synth__logical_id("sayHello/Resource");
	char *b = synth__logical_id("sayHello/ServiceRole");
	char *c = synth__logical_id("sayHello/Resource");
	char *long_id;
	char path[600];
	memset(path, 'x', sizeof path - 1);
	path[sizeof path - 1] = '\0';
	long_id = synth__logical_id(path);
	CHECK(!strncmp(a, "sayHello", 8) && strlen(a) == 16, "readable prefix + 8 hex (%s)", a);
	CHECK_STR(a, c, "stable for the same path");
	CHECK(!strncmp(b, "sayHelloServiceRole", 19), "components kept (%s)", b);
	CHECK(strlen(long_id) <= 255, "at most 255 characters (%zu)", strlen(long_id));
	char *d1 = synth__logical_id("a-b/c"), *d2 = synth__logical_id("ab/c");
	CHECK(strcmp(d1, d2) != 0, "paths that clean up alike still differ (%s %s)", d1, d2);
	bool alnum = true;
	for (const char *p = d1; *p; p++)
		alnum &= (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
			 (*p >= '0' && *p <= '9');
	CHECK(alnum, "alphanumeric only");
	free(a), free(b), free(c), free(long_id), free(d1), free(d2);
}

static void test_tokens_resolve(void)
{
	char *d = tmp_cwd();
	synth_backend *b = new_backend();
	synth_backend_add_parameter(b, "Stage", "String", "dev", "the stage");
	synth_backend_add_condition(b, "IsProd",
				    json_pack("{s:[o,s]}", "Fn::Equals", synth_param("Stage"), "prod"));
	synth_backend_add_resource(b, "topic", "AWS::SNS::Topic",
				   json_pack("{s:o}", "DisplayName", synth_param("Stage")));
	synth_backend_add_resource(
		b, "queue", "AWS::SQS::Queue",
		json_pack("{s:o,s:o}", "QueueName",
			  synth_sub("${T}-${AWS::Region}", "T", synth_getatt("topic", "TopicName"), NULL),
			  "Tags",
			  json_pack("[{s:s,s:o}]", "Key", "t", "Value",
				    synth_if("IsProd", synth_ref("topic/Resource"),
					     synth_join("-", json_pack("[s,o]", "x",
								       synth_select(0, synth_split(",", json_string("a,b")))))))));
	synth_backend_add_output(b, "custom", "topicArn", synth_ref("topic"), "the topic", "app-topic");
	synth_backend_add_output(b, "storage", "queueUrl", synth_ref("queue"), NULL, NULL);
	synth_backend_add_override(b, "queue/Resource", "Properties.DelaySeconds", json_integer(5));
	synth_backend_add_override(b, "queue/Resource", "Properties.RedrivePolicy.maxReceiveCount",
				   json_integer(3));
	int rc = synth_backend_run(b);
	CHECK(rc == 0, "run (%s)", synth_error_last()->message);
	json_t *t = root_template();
	CHECK(t != NULL, "root template written");
	json_t *topic = by_path(t, "topic/Resource"), *queue = by_path(t, "queue/Resource");
	CHECK(topic && queue, "resources found by path");
	char *qs = json_dumps(json_object_get(queue, "Properties"), JSON_COMPACT | JSON_SORT_KEYS);
	char *tlid = synth__logical_id("topic/Resource");
	char expect[256];
	snprintf(expect, sizeof expect, "{\"Fn::GetAtt\":[\"%s\",\"TopicName\"]}", tlid);
	CHECK_HAS(qs, expect, "GetAtt token resolved inside Fn::Sub variables");
	snprintf(expect, sizeof expect, "{\"Ref\":\"%s\"}", tlid);
	CHECK_HAS(qs, expect, "Ref token resolved inside Fn::If");
	CHECK_HAS(qs, "\"Fn::Select\":[0,{\"Fn::Split\":[\",\",\"a,b\"]}]", "Select/Split emitted");
	CHECK_HAS(qs, "\"DelaySeconds\":5", "override applied");
	CHECK_HAS(qs, "\"RedrivePolicy\":{\"maxReceiveCount\":3}", "override creates intermediate objects");
	CHECK(!strstr(qs, "Synth::"), "no token left unresolved");
	char *ts = json_dumps(json_object_get(topic, "Properties"), JSON_COMPACT);
	CHECK_HAS(ts, "{\"DisplayName\":{\"Ref\":\"Stage\"}}", "parameter token resolved");
	char *cs = json_dumps(json_object_get(t, "Conditions"), JSON_COMPACT);
	CHECK_HAS(cs, "{\"IsProd\":{\"Fn::Equals\":[{\"Ref\":\"Stage\"},\"prod\"]}}", "conditions emitted");
	json_t *outs = json_object_get(t, "Outputs");
	CHECK(json_object_size(outs) == 2, "two outputs");
	CHECK_STR(json_string_value(json_object_get(json_object_get(json_object_get(outs, "topicArn"),
								      "Export"), "Name")),
		  "app-topic", "export name set");
	json_t *md = json_object_get(t, "Metadata");
	CHECK(json_object_get(md, "AWS::Amplify::Custom") && json_object_get(md, "AWS::Amplify::Storage"),
	      "outputs grouped per category in Metadata");
	CHECK_STR(json_string_value(json_array_get(json_object_get(json_object_get(md, "AWS::Amplify::Storage"),
								   "stackOutputs"), 0)),
		  "queueUrl", "category lists its outputs");
	free(qs), free(ts), free(cs), free(tlid);
	json_decref(t);
	synth_backend_free(b);
	rm_tmp(d);
}

static void test_bad_references(void)
{
	char *d = tmp_cwd();
	synth_backend *b = new_backend();
	synth_backend_add_resource(b, "q", "AWS::SQS::Queue",
				   json_pack("{s:{s:o}}", "RedrivePolicy", "deadLetterTargetArn",
					     synth_getatt("nothere", "Arn")));
	CHECK(synth_backend_run(b) == SYNTH_ENOTFOUND, "a reference to nothing fails");
	CHECK_HAS(synth_error_last()->message,
		  "q/Resource: Properties.RedrivePolicy.deadLetterTargetArn: reference to 'nothere'",
		  "message names the resource and property path");
	CHECK(access("out", F_OK) != 0, "nothing written");
	synth_backend_free(b);

	b = new_backend();
	synth_backend_add_resource(b, "q", "AWS::SQS::Queue", NULL);
	synth_backend_add_override(b, "nope/Resource", "Properties.X", json_integer(1));
	CHECK(synth_backend_run(b) == SYNTH_ENOTFOUND, "override of a missing path fails");
	CHECK_HAS(synth_error_last()->message, "'nope/Resource': no resource has that path",
		  "message names the path");
	synth_backend_free(b);

	b = new_backend();
	synth_backend_add_resource(b, "a", "AWS::SNS::Topic",
				   json_pack("{s:o}", "DisplayName", synth_getatt("b", "QueueName")));
	synth_backend_add_resource(b, "b", "AWS::SQS::Queue",
				   json_pack("{s:o}", "QueueName", synth_getatt("c", "TopicName")));
	synth_backend_add_resource(b, "c", "AWS::SNS::Topic",
				   json_pack("{s:o}", "DisplayName", synth_ref("a")));
	CHECK(synth_backend_run(b) == SYNTH_ECYCLE, "a resource cycle fails");
	CHECK_HAS(synth_error_last()->message,
		  "a/Resource -> b/Resource -> c/Resource -> a/Resource", "every step named");
	synth_backend_free(b);

	b = new_backend();
	CHECK(synth_backend_add_resource(b, "x", "NotAType", NULL) == SYNTH_EINVALID,
	      "raw resource type checked");
	synth_backend_free(b);
	rm_tmp(d);
}

static void test_previous_assembly_kept(void)
{
	char *d = tmp_cwd();
	synth_backend *b = new_backend();
	synth_backend_add_resource(b, "t", "AWS::SNS::Topic", NULL);
	CHECK(synth_backend_run(b) == 0, "first run");
	synth_backend_free(b);
	char *before = NULL, *after = NULL;
	synth_file_read("out/manifest.json", &before, NULL);
	b = new_backend();
	synth_backend_add_resource(b, "t", "AWS::SNS::Topic",
				   json_pack("{s:o}", "DisplayName", synth_ref("missing")));
	CHECK(synth_backend_run(b) < 0, "second run fails");
	synth_backend_free(b);
	synth_file_read("out/manifest.json", &after, NULL);
	CHECK(before && after && !strcmp(before, after), "the previous assembly is untouched");
	CHECK(count_files("out.tmp.*") == 0, "no staging directory left");
	free(before), free(after);
	rm_tmp(d);
}

/* 600 topics and queues in a chain force nested stacks; references across
 * them must become outputs + parameters wired through the root. */
static void test_split_cross_stack(void)
{
	char *d = tmp_cwd();
	synth_backend *b = new_backend();
	char name[32], prev[32];
	for (int i = 0; i < 700; i++) {
		snprintf(name, sizeof name, "r%03d", i);
		json_t *props = i == 0 ? NULL
				       : json_pack("{s:o}", "DisplayName", synth_getatt(prev, "TopicName"));
		synth_backend_add_resource(b, name, "AWS::SNS::Topic", props);
		memcpy(prev, name, sizeof prev);
	}
	synth_backend_add_output(b, "custom", "lastTopic", synth_ref("r699"), NULL, NULL);
	synth_backend_add_output(b, "custom", "firstTopic", synth_ref("r000"), NULL, NULL);
	CHECK(synth_backend_run(b) == 0, "700 resources synthesize (%s)", synth_error_last()->message);
	json_t *root = root_template();
	size_t nested = 0, total = 0;
	const char *k;
	json_t *r;
	json_object_foreach(json_object_get(root, "Resources"), k, r) {
		if (!strcmp(json_string_value(json_object_get(r, "Type")), "AWS::CloudFormation::Stack"))
			nested++;
		else
			total++;
	}
	CHECK(nested >= 1, "nested stacks created (%zu)", nested);
	CHECK(json_object_size(json_object_get(root, "Resources")) <= 500, "root within 500");
	glob_t g;
	glob("out/*.nested.template.json", 0, NULL, &g);
	CHECK(g.gl_pathc == nested, "one template file per nested stack");
	size_t params = 0, outputs = 0;
	for (size_t i = 0; i < g.gl_pathc; i++) {
		json_t *t = json_load_file(g.gl_pathv[i], 0, NULL);
		total += json_object_size(json_object_get(t, "Resources"));
		params += json_object_size(json_object_get(t, "Parameters"));
		outputs += json_object_size(json_object_get(t, "Outputs"));
		CHECK(json_object_size(json_object_get(t, "Resources")) <= 500, "%s within 500", g.gl_pathv[i]);
		json_decref(t);
	}
	globfree(&g);
	CHECK(total == 700, "every resource placed exactly once (%zu)", total);
	CHECK(params >= 1 && outputs >= 1, "cross-stack references became parameters (%zu) and outputs (%zu)",
	      params, outputs);
	/* The root passes nested outputs as parameters: GetAtt X.Outputs.Y. */
	char *rs = json_dumps(root, JSON_COMPACT);
	CHECK_HAS(rs, "\"Parameters\":{", "nested stack resources take parameters");
	CHECK_HAS(rs, "\"Outputs.r699", "the root wires outputs into parameters or outputs");
	CHECK_HAS(rs, "\"TemplateURL\":{\"Fn::Sub\":\"https://s3.${AWS::Region}.${AWS::URLSuffix}/cdk-hnb659fds-assets-",
		  "nested templates come from the asset bucket");
	json_t *assets = load_glob("out/*.assets.json");
	CHECK(json_object_size(json_object_get(assets, "files")) == nested + 1,
	      "nested templates and the root are assets");
	free(rs);
	json_decref(assets);
	json_decref(root);
	synth_backend_free(b);
	rm_tmp(d);
}

static void test_stays_single(void)
{
	char *d = tmp_cwd();
	synth_backend *b = new_backend();
	char name[32];
	for (int i = 0; i < 400; i++) {
		snprintf(name, sizeof name, "r%03d", i);
		synth_backend_add_resource(b, name, "AWS::SNS::Topic", NULL);
	}
	CHECK(synth_backend_run(b) == 0, "400 resources");
	CHECK(count_files("out/*.nested.template.json") == 0, "no nested stacks under the limits");
	synth_backend_free(b);
	rm_tmp(d);
}

/* A resource whose attributes are secrets (metadata
 * synth:secret-attributes, as the auth construct's secret fetcher): a
 * split that would pass one to another stack is an error naming it, not
 * an output holding the secret. */
static int secret_generate(synth_construct *self, void *state)
{
	(void)state;
	synth_resource *r;
	int rc = synth_resource_new(&r, self, "Fetcher", "AWS::CloudFormation::CustomResource",
				    json_pack("{s:s}", "ServiceToken", "arn:aws:lambda:x"));
	return rc ? rc : synth_resource_add_metadata(r, "synth:secret-attributes", json_true());
}

static void test_secret_never_crosses(void)
{
	static const synth_construct_class cls = {SYNTH_CONSTRUCT_CLASS_VERSION, "secrets", NULL,
						  secret_generate, NULL};
	char *d = tmp_cwd();
	synth_backend *b = new_backend();
	synth_construct *c;
	CHECK(synth_construct_new(&c, b, "secrets", &cls, NULL) == 0, "a construct with a secret");
	char name[32];
	for (int i = 0; i < 600; i++) {
		snprintf(name, sizeof name, "t%03d", i);
		synth_backend_add_resource(b, name, "AWS::SNS::Topic",
					   json_pack("{s:o}", "DisplayName",
						     synth_getatt("secrets/Fetcher", "value")));
	}
	int rc = synth_backend_run(b);
	CHECK(rc == SYNTH_ELIMIT, "a secret attribute needed in another stack is refused (%d)", rc);
	CHECK_HAS(synth_error_last()->message, "secrets/Fetcher: attribute 'value' holds a secret value",
		  "the message names the resource and attribute");
	CHECK(count_files("out/*.template.json") == 0, "no template written");
	synth_backend_free(b);
	rm_tmp(d);
}

int main(void)
{
	test_secret_never_crosses();
	test_logical_ids();
	test_tokens_resolve();
	test_bad_references();
	test_previous_assembly_kept();
	test_split_cross_stack();
	test_stays_single();
	return check_failed ? 1 : 0;
}

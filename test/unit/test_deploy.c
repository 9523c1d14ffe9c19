/*
 * The deployer's pure functions, without a network: the template diff
 * (synth__deploy_template_diff), the root cause of a failed deploy from
 * DescribeStackEvents as the Query protocol's XML becomes JSON
 * (synth__deploy_root_cause: nested stacks, cancellations, rollback
 * summaries, ordering), the no-change comparison of parameters and tags,
 * and the secret versions digest that makes a rotated secret reach the
 * stack. Every function is also run with allocation N failing, for every
 * N (not in the sanitizer build: ASan owns malloc there): it fails cleanly
 * or gives the same answer, and frees everything.
 */
#define _GNU_SOURCE
#include "check.h"
#include "helpers.h"
#include "aws.h"
#include "deploy.h"

/* --- allocation failure injection --------------------------------------- */

#include "failmalloc.h"

static json_t *J(const char *text)
{
	json_error_t e;
	json_t *j = json_loads(text, 0, &e);
	if (!j) {
		printf("# bad test JSON at %d:%d: %s\n", e.line, e.column, e.text);
		abort();
	}
	return j;
}

/* --- the template diff ------------------------------------------------------- */

static const char *old_tpl_text =
	"{\"Resources\": {"
	" \"Fn\": {\"Type\": \"AWS::Lambda::Function\", \"Properties\": {"
	"   \"Code\": {\"S3Bucket\": \"b\", \"S3Key\": \"old.zip\"}, \"MemorySize\": 128,"
	"   \"Layers\": [\"l1\", \"l2\"], \"Timeout\": 3}},"
	" \"Gone\": {\"Type\": \"AWS::SNS::Topic\"},"
	" \"Same\": {\"Type\": \"AWS::SQS::Queue\", \"Properties\": {\"DelaySeconds\": 1}},"
	" \"Retyped\": {\"Type\": \"AWS::SNS::Topic\"},"
	" \"Meta\": {\"Type\": \"AWS::S3::Bucket\", \"Metadata\": {\"synth:path\": \"a\"}}}}";
static const char *new_tpl_text =
	"{\"Resources\": {"
	" \"Fn\": {\"Type\": \"AWS::Lambda::Function\", \"Properties\": {"
	"   \"Code\": {\"S3Bucket\": \"b\", \"S3Key\": \"new.zip\"}, \"MemorySize\": 128,"
	"   \"Layers\": [\"l1\", \"l3\"], \"Environment\": {\"Variables\": {\"A\": \"1\"}}}},"
	" \"Added\": {\"Type\": \"AWS::DynamoDB::Table\", \"Properties\": {}},"
	" \"Same\": {\"Type\": \"AWS::SQS::Queue\", \"Properties\": {\"DelaySeconds\": 1}},"
	" \"Retyped\": {\"Type\": \"AWS::SQS::Queue\"},"
	" \"Meta\": {\"Type\": \"AWS::S3::Bucket\", \"Metadata\": {\"synth:path\": \"b\"}}}}";

/* The diff as one line per entry: "action id (type): path, path". */
static char *diff_text(json_t *list)
{
	synth_buf b = SYNTH_BUF_INIT;
	size_t i, j;
	json_t *e, *p;
	json_array_foreach(list, i, e) {
		synth_buf_printf(&b, "%s %s (%s):", json_string_value(json_object_get(e, "action")),
				  json_string_value(json_object_get(e, "id")),
				  json_string_value(json_object_get(e, "type")));
		json_array_foreach(json_object_get(e, "paths"), j, p)
			synth_buf_printf(&b, " %s", json_string_value(p));
		synth_buf_putc(&b, '\n');
	}
	return synth_buf_detach(&b);
}

static void test_template_diff(void)
{
	json_t *o = J(old_tpl_text), *n = J(new_tpl_text), *out = NULL;
	CHECK(synth__deploy_template_diff(o, n, &out) == 0 && json_is_array(out), "diff: runs");
	char *t = diff_text(out);
	/* Sorted by logical id; Properties paths with dots; an array as a
	 * whole; a property added or removed; a changed type; metadata. */
	CHECK_STR(t,
		  "add Added (AWS::DynamoDB::Table):\n"
		  "modify Fn (AWS::Lambda::Function): Properties.Code.S3Key Properties.Layers "
		  "Properties.Timeout Properties.Environment\n"
		  "remove Gone (AWS::SNS::Topic):\n"
		  "modify Meta (AWS::S3::Bucket): Metadata.synth:path\n"
		  "modify Retyped (AWS::SQS::Queue): Type\n",
		  "diff: add, modify (with each changed path), remove, sorted by id; unchanged "
		  "resources absent");
	free(t);
	json_decref(out);

	CHECK(synth__deploy_template_diff(o, o, &out) == 0 && json_array_size(out) == 0,
	      "diff: a template against itself is empty");
	json_decref(out);
	CHECK(synth__deploy_template_diff(NULL, NULL, &out) == 0 && json_array_size(out) == 0,
	      "diff: no templates: empty");
	json_decref(out);
	CHECK(synth__deploy_template_diff(NULL, n, &out) == 0 && json_array_size(out) == 5,
	      "diff: no old template (a new stack): every resource added");
	size_t i;
	json_t *e;
	bool all_add = true;
	json_array_foreach(out, i, e)
		all_add &= !strcmp(json_string_value(json_object_get(e, "action")), "add");
	CHECK(all_add, "diff: ... all of them as \"add\"");
	json_decref(out);
	CHECK(synth__deploy_template_diff(o, NULL, &out) == 0 && json_array_size(out) == 5,
	      "diff: no new template: every resource removed");
	json_decref(out);

	/* A resource that is not an object, and one without a type. */
	json_t *w1 = J("{\"Resources\": {\"X\": \"text\", \"Y\": {\"Properties\": {\"A\": 1}}}}");
	json_t *w2 = J("{\"Resources\": {\"X\": {\"Type\": \"AWS::SNS::Topic\"}, "
		       "\"Y\": {\"Properties\": {\"A\": 2}}}}");
	CHECK(synth__deploy_template_diff(w1, w2, &out) == 0, "diff: odd resources: runs");
	t = diff_text(out);
	CHECK_STR(t, "modify X (AWS::SNS::Topic): (whole)\nmodify Y (?): Properties.A\n",
		  "diff: a non-object resource changes as a whole; a missing type is '?'");
	free(t);
	json_decref(out);
	json_decref(w1);
	json_decref(w2);
	json_decref(o);
	json_decref(n);
}

/* --- the root cause ------------------------------------------------------------ */

/* One <member> of DescribeStackEvents, as AWS writes it. */
static void ev_xml(synth_buf *b, const char *stack, const char *lid, const char *type,
		   const char *status, const char *reason, const char *when)
{
	static int n;
	synth_buf_printf(b,
			  "<member><EventId>%s-%s-%d</EventId><StackName>%s</StackName>"
			  "<StackId>arn:aws:cloudformation:us-east-1:123456789012:stack/%s/1</StackId>"
			  "<LogicalResourceId>%s</LogicalResourceId>"
			  "<PhysicalResourceId>phys-%s</PhysicalResourceId>"
			  "<ResourceType>%s</ResourceType><Timestamp>%s</Timestamp>"
			  "<ResourceStatus>%s</ResourceStatus>",
			  lid, status, ++n, stack, stack, lid, lid, type, when, status);
	if (reason)
		synth_buf_printf(b, "<ResourceStatusReason>%s</ResourceStatusReason>", reason);
	synth_buf_puts(b, "</member>");
}

/* A DescribeStackEvents response (newest first, as AWS pages them) parsed
 * as the client parses it, each member given the StackName DISPLAY as the
 * watcher does, appended to INTO. */
static void add_events(json_t *into, const char *members_xml, const char *display)
{
	char *xml = synth_asprintf(
		"<DescribeStackEventsResponse xmlns=\"http://cloudformation.amazonaws.com/doc/"
		"2010-05-15/\"><DescribeStackEventsResult><StackEvents>%s</StackEvents>"
		"</DescribeStackEventsResult><ResponseMetadata><RequestId>r-1</RequestId>"
		"</ResponseMetadata></DescribeStackEventsResponse>",
		members_xml);
	json_t *doc = synth_xml_to_json(xml, strlen(xml));
	json_t *m = json_object_get(
		json_object_get(json_object_get(doc, "DescribeStackEventsResult"), "StackEvents"),
		"member");
	if (!json_is_array(m)) {
		printf("# the events did not parse as a member list\n");
		abort();
	}
	size_t i;
	json_t *ev;
	json_array_foreach(m, i, ev) {
		json_t *c = json_deep_copy(ev);
		json_object_set_new(c, "StackName", json_string(display));
		json_array_append_new(into, c);
	}
	json_decref(doc);
	free(xml);
}

#define STACK "synth-app-main-branch-0123456789"
#define T(s) "2024-05-01T10:00:" s "Z"

/* An update of the root stack where Fn failed: newest first, with the
 * rollback, a cancelled sibling and the stack's summary. */
static json_t *update_failure_events(void)
{
	synth_buf b = SYNTH_BUF_INIT;
	ev_xml(&b, STACK, STACK, "AWS::CloudFormation::Stack", "UPDATE_ROLLBACK_COMPLETE", NULL,
	       T("09.000"));
	ev_xml(&b, STACK, "Fn", "AWS::Lambda::Function", "UPDATE_COMPLETE", NULL, T("08.000"));
	ev_xml(&b, STACK, STACK, "AWS::CloudFormation::Stack", "UPDATE_ROLLBACK_IN_PROGRESS",
	       "The following resource(s) failed to update: [Fn]. ", T("05.000"));
	ev_xml(&b, STACK, "Queue", "AWS::SQS::Queue", "UPDATE_FAILED",
	       "Resource update cancelled", T("04.500"));
	ev_xml(&b, STACK, "Fn", "AWS::Lambda::Function", "UPDATE_FAILED",
	       "Resource handler returned message: \"Memory size 99999 is too large\" "
	       "(RequestToken: abc, HandlerErrorCode: InvalidRequest)",
	       T("04.123"));
	ev_xml(&b, STACK, "Fn", "AWS::Lambda::Function", "UPDATE_IN_PROGRESS", NULL, T("03.000"));
	ev_xml(&b, STACK, STACK, "AWS::CloudFormation::Stack", "UPDATE_IN_PROGRESS",
	       "User Initiated", T("01.000"));
	char *x = synth_buf_detach(&b);
	json_t *evs = json_array();
	add_events(evs, x, STACK);
	free(x);
	return evs;
}

/* A create where a resource in a nested stack failed: the parent sees
 * only "Embedded stack ... was not successfully created". */
static json_t *nested_failure_events(void)
{
	synth_buf b = SYNTH_BUF_INIT;
	/* The root stack (newest first). */
	ev_xml(&b, STACK, STACK, "AWS::CloudFormation::Stack", "ROLLBACK_COMPLETE", NULL,
	       T("30.000"));
	ev_xml(&b, STACK, STACK, "AWS::CloudFormation::Stack", "ROLLBACK_IN_PROGRESS",
	       "The following resource(s) failed to create: [NestedA]. Rollback requested by user.",
	       T("20.000"));
	ev_xml(&b, STACK, "NestedA", "AWS::CloudFormation::Stack", "CREATE_FAILED",
	       "Embedded stack arn:aws:cloudformation:us-east-1:123456789012:stack/"
	       STACK "-NestedA-1ABC/2 was not successfully created: The following "
	       "resource(s) failed to create: [Table].",
	       T("19.000"));
	ev_xml(&b, STACK, "Bucket", "AWS::S3::Bucket", "CREATE_FAILED",
	       "Resource creation cancelled", T("19.500"));
	ev_xml(&b, STACK, STACK, "AWS::CloudFormation::Stack", "CREATE_IN_PROGRESS",
	       "User Initiated", T("00.000"));
	char *x = synth_buf_detach(&b);
	json_t *evs = json_array();
	add_events(evs, x, STACK);
	free(x);
	/* The nested stack's own events. */
	ev_xml(&b, STACK "-NestedA-1ABC", STACK "-NestedA-1ABC", "AWS::CloudFormation::Stack",
	       "ROLLBACK_IN_PROGRESS",
	       "The following resource(s) failed to create: [Table]. Rollback requested by user.",
	       T("18.000"));
	ev_xml(&b, STACK "-NestedA-1ABC", "Fn2", "AWS::Lambda::Function", "CREATE_FAILED",
	       "Resource creation cancelled", T("17.900"));
	ev_xml(&b, STACK "-NestedA-1ABC", "Table", "AWS::DynamoDB::Table", "CREATE_FAILED",
	       "Resource handler returned message: \"One or more parameter values were invalid: "
	       "Missing the key id in the item\"",
	       T("17.500"));
	ev_xml(&b, STACK "-NestedA-1ABC", "Table", "AWS::DynamoDB::Table", "CREATE_IN_PROGRESS",
	       NULL, T("10.000"));
	x = synth_buf_detach(&b);
	add_events(evs, x, STACK "/NestedA");
	free(x);
	return evs;
}

static void test_root_cause(void)
{
	json_t *evs = update_failure_events();
	CHECK(json_array_size(evs) == 7, "root cause: the XML response parses to 7 events (%zu)",
	      json_array_size(evs));
	char *rc = synth__deploy_root_cause(evs);
	CHECK_STR(rc,
		  "Fn (AWS::Lambda::Function) in stack " STACK ": Resource handler returned "
		  "message: \"Memory size 99999 is too large\" (RequestToken: abc, "
		  "HandlerErrorCode: InvalidRequest)",
		  "root cause: the resource that failed, with its reason; not the cancelled "
		  "sibling, not the stack's summary");
	free(rc);

	/* Order does not matter: oldest first gives the same answer. */
	json_t *rev = json_array();
	for (size_t i = json_array_size(evs); i-- > 0;)
		json_array_append(rev, json_array_get(evs, i));
	rc = synth__deploy_root_cause(rev);
	CHECK_HAS(rc, "Fn (AWS::Lambda::Function) in stack " STACK ": Resource handler",
		  "root cause: the same with the events oldest first");
	free(rc);
	json_decref(rev);
	json_decref(evs);

	evs = nested_failure_events();
	rc = synth__deploy_root_cause(evs);
	CHECK_STR(rc,
		  "Table (AWS::DynamoDB::Table) in stack " STACK "/NestedA: Resource handler "
		  "returned message: \"One or more parameter values were invalid: Missing the "
		  "key id in the item\"",
		  "root cause: in the nested stack where it failed, not the parent's \"Embedded "
		  "stack\" event, not a cancellation there");
	free(rc);
	json_decref(evs);

	/* No failure at all. */
	evs = json_array();
	synth_buf b = SYNTH_BUF_INIT;
	ev_xml(&b, STACK, STACK, "AWS::CloudFormation::Stack", "UPDATE_COMPLETE", NULL, T("02.000"));
	ev_xml(&b, STACK, "Fn", "AWS::Lambda::Function", "UPDATE_COMPLETE", NULL, T("01.000"));
	char *x = synth_buf_detach(&b);
	add_events(evs, x, STACK);
	free(x);
	CHECK(synth__deploy_root_cause(evs) == NULL, "root cause: none when nothing failed");
	json_decref(evs);
	json_t *empty = json_array();
	CHECK(synth__deploy_root_cause(empty) == NULL && synth__deploy_root_cause(NULL) == NULL,
	      "root cause: none for no events");
	json_decref(empty);

	/* The earliest genuine failure wins, whatever the order in the list;
	 * fractions of a second count; on the same timestamp, the earlier in
	 * the list. */
	evs = json_array();
	ev_xml(&b, STACK, "Late", "AWS::SNS::Topic", "CREATE_FAILED", "late reason", T("05.250"));
	ev_xml(&b, STACK, "Early", "AWS::SQS::Queue", "CREATE_FAILED", "early reason", T("05.200"));
	x = synth_buf_detach(&b);
	add_events(evs, x, STACK);
	free(x);
	rc = synth__deploy_root_cause(evs);
	CHECK_HAS(rc, "Early (AWS::SQS::Queue)", "root cause: the earliest failure (by 50 ms)");
	free(rc);
	json_decref(evs);
	evs = json_array();
	ev_xml(&b, STACK, "First", "AWS::SNS::Topic", "CREATE_FAILED", "one", T("05.000"));
	ev_xml(&b, STACK, "Second", "AWS::SQS::Queue", "CREATE_FAILED", "two", T("05.000"));
	x = synth_buf_detach(&b);
	add_events(evs, x, STACK);
	free(x);
	rc = synth__deploy_root_cause(evs);
	CHECK_HAS(rc, "First (AWS::SNS::Topic) in stack " STACK ": one",
		  "root cause: a tie goes to the first in the list");
	free(rc);
	json_decref(evs);

	/* Only consequences failed (a cancellation, the stack's rollback):
	 * the earliest of them, rather than nothing. */
	evs = json_array();
	ev_xml(&b, STACK, STACK, "AWS::CloudFormation::Stack", "UPDATE_ROLLBACK_FAILED",
	       "Rollback requested by user.", T("09.000"));
	ev_xml(&b, STACK, "Q", "AWS::SQS::Queue", "UPDATE_FAILED", "Resource update cancelled",
	       T("04.000"));
	x = synth_buf_detach(&b);
	add_events(evs, x, STACK);
	free(x);
	rc = synth__deploy_root_cause(evs);
	CHECK_STR(rc, "Q (AWS::SQS::Queue) in stack " STACK ": Resource update cancelled",
		  "root cause: only consequences failed: the earliest of them");
	free(rc);
	json_decref(evs);

	/* A nested stack resource that failed on its own (a template error):
	 * a stack resource is never preferred, but is found when alone. */
	evs = json_array();
	ev_xml(&b, STACK, "NestedB", "AWS::CloudFormation::Stack", "CREATE_FAILED",
	       "Template format error: Unresolved resource dependencies [X]", T("03.000"));
	x = synth_buf_detach(&b);
	add_events(evs, x, STACK);
	free(x);
	rc = synth__deploy_root_cause(evs);
	CHECK_HAS(rc, "NestedB (AWS::CloudFormation::Stack) in stack " STACK
		  ": Template format error", "root cause: a nested stack resource's own failure, "
		  "when nothing else failed");
	free(rc);
	json_decref(evs);

	/* A failure without a reason (absent or empty) is not preferred but
	 * named by its status; a missing type, a missing stack name and an
	 * unreadable time (read as the earliest) are survived. */
	evs = J("[{\"LogicalResourceId\": \"Fn\", \"ResourceType\": \"AWS::Lambda::Function\","
		" \"ResourceStatus\": \"DELETE_FAILED\", \"Timestamp\": \"yesterday\","
		" \"StackName\": \"s\"},"
		" {\"ResourceStatus\": \"CREATE_FAILED\", \"ResourceStatusReason\": \"\"}]");
	rc = synth__deploy_root_cause(evs);
	CHECK_STR(rc, "Fn (AWS::Lambda::Function) in stack s: DELETE_FAILED",
		  "root cause: no reason: the status");
	free(rc);
	json_array_remove(evs, 0);
	rc = synth__deploy_root_cause(evs);
	CHECK_STR(rc, "? (?) in stack ?: CREATE_FAILED", "root cause: missing fields are '?'");
	free(rc);
	json_decref(evs);
}

/* --- the no-change check: parameters and tags -------------------------------- */

/* A DescribeStacks member as the client parses it. */
static json_t *stack_xml(const char *params_xml, const char *tags_xml)
{
	char *xml = synth_asprintf(
		"<DescribeStacksResponse><DescribeStacksResult><Stacks><member>"
		"<StackName>" STACK "</StackName><StackStatus>UPDATE_COMPLETE</StackStatus>"
		"%s%s</member></Stacks></DescribeStacksResult></DescribeStacksResponse>",
		params_xml, tags_xml);
	json_t *doc = synth_xml_to_json(xml, strlen(xml));
	json_t *m = json_array_get(json_object_get(json_object_get(json_object_get(
					       doc, "DescribeStacksResult"), "Stacks"), "member"),
				   0);
	json_t *s = json_incref(m);
	json_decref(doc);
	free(xml);
	if (!s)
		abort();
	return s;
}

#define PARAM(k, v) "<member><ParameterKey>" k "</ParameterKey><ParameterValue>" v \
		    "</ParameterValue></member>"
#define TAG(k, v) "<member><Key>" k "</Key><Value>" v "</Value></member>"

static void test_params_tags(void)
{
	json_t *tpl = J("{\"Parameters\": {"
			" \"SynthSecretVersions\": {\"Type\": \"String\", \"Default\": \"none\"},"
			" \"Memory\": {\"Type\": \"Number\", \"Default\": 128}},"
			" \"Resources\": {}}");
	json_t *values = J("{\"SynthSecretVersions\": \"d1\"}");
	json_t *s = stack_xml("<Parameters>" PARAM("SynthSecretVersions", "none")
			      PARAM("Memory", "128") "</Parameters>", "");
	CHECK(synth__deploy_params_equal(s, tpl, NULL),
	      "params: the defaults (an integer default compared as text)");
	CHECK(!synth__deploy_params_equal(s, tpl, values),
	      "params: a value this deploy sets differs from the deployed default");
	json_decref(s);
	s = stack_xml("<Parameters>" PARAM("SynthSecretVersions", "d1")
		      PARAM("Memory", "128") "</Parameters>", "");
	CHECK(synth__deploy_params_equal(s, tpl, values),
	      "params: the deployed value is the one this deploy sets");
	json_t *v2 = J("{\"SynthSecretVersions\": \"d2\"}");
	CHECK(!synth__deploy_params_equal(s, tpl, v2),
	      "params: a secret set again (another digest) is a change");
	CHECK(!synth__deploy_params_equal(s, tpl, NULL),
	      "params: a deployed digest against the default (not set by this deploy) is a change");
	json_decref(v2);
	json_decref(s);
	s = stack_xml("<Parameters>" PARAM("SynthSecretVersions", "d1") "</Parameters>", "");
	CHECK(!synth__deploy_params_equal(s, tpl, values),
	      "params: a parameter the stack lacks is a change");
	json_decref(s);
	s = stack_xml("<Parameters>" PARAM("SynthSecretVersions", "d1") PARAM("Memory", "128")
		      PARAM("Old", "x") "</Parameters>", "");
	CHECK(!synth__deploy_params_equal(s, tpl, values),
	      "params: a parameter the template no longer has is a change");
	json_decref(s);
	json_t *bare = J("{\"Resources\": {}}");
	s = stack_xml("", "");
	CHECK(synth__deploy_params_equal(s, bare, NULL), "params: none on either side");
	CHECK(!synth__deploy_params_equal(s, tpl, NULL),
	      "params: a stack without the template's parameters");
	json_decref(s);
	json_decref(bare);

	json_t *want = J("{\"created-by\": \"synth\", \"amplify:branch-name\": \"main\"}");
	s = stack_xml("", "<Tags>" TAG("amplify:branch-name", "main") TAG("created-by", "synth")
			  "</Tags>");
	CHECK(synth__deploy_tags_equal(s, want), "tags: the same set, in another order");
	json_decref(s);
	s = stack_xml("", "<Tags>" TAG("amplify:branch-name", "feat") TAG("created-by", "synth")
			  "</Tags>");
	CHECK(!synth__deploy_tags_equal(s, want), "tags: a changed value");
	json_decref(s);
	s = stack_xml("", "<Tags>" TAG("created-by", "synth") "</Tags>");
	CHECK(!synth__deploy_tags_equal(s, want), "tags: one missing");
	json_decref(s);
	s = stack_xml("", "<Tags>" TAG("amplify:branch-name", "main") TAG("created-by", "synth")
			  TAG("extra", "1") "</Tags>");
	CHECK(!synth__deploy_tags_equal(s, want), "tags: one more");
	json_decref(s);
	json_decref(want);
	json_decref(values);
	json_decref(tpl);
}

/* --- the secret versions digest ------------------------------------------------ */

static void test_versions_digest(void)
{
	json_t *secrets = J("{\"GOOGLE\": [\"/synth/a/branch/main/GOOGLE\", \"/synth/a/shared/GOOGLE\"],"
			    " \"OKTA\": [\"/synth/a/branch/main/OKTA\", \"/synth/a/shared/OKTA\"]}");
	json_t *reordered = J("{\"OKTA\": [\"/synth/a/branch/main/OKTA\", \"/synth/a/shared/OKTA\"],"
			      " \"GOOGLE\": [\"/synth/a/branch/main/GOOGLE\", \"/synth/a/shared/GOOGLE\"]}");
	json_t *v1 = J("{\"/synth/a/branch/main/GOOGLE\": 1, \"/synth/a/shared/GOOGLE\": 4,"
		       " \"/synth/a/shared/OKTA\": 2}");
	json_t *missing = json_array();
	char d1[65], d2[65];
	CHECK(synth__deploy_versions_digest(secrets, v1, d1, missing) == 0 && strlen(d1) == 64 &&
	      strspn(d1, "0123456789abcdef") == 64 && json_array_size(missing) == 0,
	      "digest: 64 hex digits, nothing missing");
	CHECK(synth__deploy_versions_digest(reordered, v1, d2, NULL) == 0 && !strcmp(d1, d2),
	      "digest: the order of the secrets does not matter");
	json_t *v = json_deep_copy(v1);
	json_object_set_new(v, "/synth/a/shared/GOOGLE", json_integer(5));
	CHECK(synth__deploy_versions_digest(secrets, v, d2, NULL) == 0 && !strcmp(d1, d2),
	      "digest: a new version of a shared value that the branch value shadows changes "
	      "nothing (the fetcher reads the branch's)");
	json_object_set_new(v, "/synth/a/branch/main/GOOGLE", json_integer(2));
	CHECK(synth__deploy_versions_digest(secrets, v, d2, NULL) == 0 && strcmp(d1, d2),
	      "digest: a new version of the branch value changes it");
	json_decref(v);
	v = json_deep_copy(v1);
	json_object_set_new(v, "/synth/a/shared/OKTA", json_integer(3));
	CHECK(synth__deploy_versions_digest(secrets, v, d2, NULL) == 0 && strcmp(d1, d2),
	      "digest: a new version of a shared value in use changes it");
	json_decref(v);
	v = json_deep_copy(v1);
	json_object_set_new(v, "/synth/a/branch/main/OKTA", json_integer(2));
	CHECK(synth__deploy_versions_digest(secrets, v, d2, NULL) == 0 && strcmp(d1, d2),
	      "digest: a branch value appearing over the shared one (same version number) "
	      "changes it");
	json_decref(v);
	v = J("{\"/synth/a/branch/main/GOOGLE\": 1}");
	CHECK(synth__deploy_versions_digest(secrets, v, d2, missing) == 0 &&
	      json_array_size(missing) == 1 &&
	      !strcmp(json_string_value(json_array_get(missing, 0)), "OKTA") && strcmp(d1, d2),
	      "digest: a secret at neither path is reported missing (by name)");
	json_decref(v);
	json_t *none = json_object();
	char d3[65];
	CHECK(synth__deploy_versions_digest(none, v1, d2, NULL) == 0 &&
	      synth__deploy_versions_digest(none, NULL, d3, NULL) == 0 && !strcmp(d2, d3) &&
	      strlen(d2) == 64, "digest: no secrets: a fixed digest");
	json_decref(none);
	json_decref(missing);
	json_decref(v1);
	json_decref(reordered);
	json_decref(secrets);
}

/* --- allocation failure at every step --------------------------------------------- */

#if CHAOS
/* Runs FN with allocation N failing, for N = 1 .. until a run allocates
 * fewer than N; every run must either fail cleanly (FN returns < 0) or
 * give the clean answer (FN returns 1), and free everything. */
static void chaos(const char *what, int (*fn)(void))
{
	long leaks = 0, wrong = 0, failed = 0, n;
	for (n = 1; n < 100000; n++) {
		count = 0;
		live = 0;
		fail_at = n;
		tracking = 1;
		int r = fn();
		tracking = 0;
		fail_at = -1;
		if (live != 0)
			leaks++;
		if (r == 0)
			wrong++;
		if (r < 0)
			failed++;
		if (count < n)
			break;
	}
	CHECK(n > 1 && failed > 0, "%s: allocation failure at each of %ld steps (%ld failed cleanly)",
	      what, n - 1, failed);
	CHECK(leaks == 0, "%s: no leak with any allocation failing (%ld leaking runs)", what, leaks);
	CHECK(wrong == 0, "%s: never a wrong answer (%ld wrong runs)", what, wrong);
}

static json_t *c_old, *c_new, *c_want, *c_want_tags, *c_events, *c_stack, *c_tpl, *c_values, *c_secrets,
	*c_versions;
static char *c_cause;
static char c_digest[65];

static int chaos_diff(void)
{
	json_t *out = NULL;
	int rc = synth__deploy_template_diff(c_old, c_new, &out);
	int r = rc < 0 ? (out == NULL ? -1 : 0) : json_equal(out, c_want) ? 1 : 0;
	json_decref(out);
	return r;
}

static int chaos_root_cause(void)
{
	char *rc = synth__deploy_root_cause(c_events);
	int r = !rc ? -1 : !strcmp(rc, c_cause) ? 1 : 0; /* NULL: out of memory */
	free(rc);
	return r;
}

static int chaos_params(void)
{
	/* false on failure is the safe answer (the deploy goes on); true
	 * must be right. */
	return synth__deploy_params_equal(c_stack, c_tpl, c_values) &&
			       synth__deploy_tags_equal(c_stack, c_want_tags)
		       ? 1 : -1;
}

static int chaos_digest(void)
{
	char d[65];
	json_t *missing = json_array();
	if (!missing)
		return -1;
	int rc = synth__deploy_versions_digest(c_secrets, c_versions, d, missing);
	int r = rc < 0 ? (d[0] == '\0' ? -1 : 0) : !strcmp(d, c_digest) && json_array_size(missing) == 1 ? 1 : 0;
	json_decref(missing);
	return r;
}

static void test_chaos(void)
{
	c_old = J(old_tpl_text);
	c_new = J(new_tpl_text);
	synth__deploy_template_diff(c_old, c_new, &c_want);
	chaos("template diff", chaos_diff);

	c_events = nested_failure_events();
	json_t *more = update_failure_events();
	json_array_extend(c_events, more);
	json_decref(more);
	c_cause = synth__deploy_root_cause(c_events);
	CHECK_HAS(c_cause, "Fn (AWS::Lambda::Function) in stack " STACK ": Resource handler",
		  "chaos: the root cause of the mix (the earliest genuine failure)");
	chaos("root cause", chaos_root_cause);

	c_tpl = J("{\"Parameters\": {\"SynthSecretVersions\": {\"Type\": \"String\", \"Default\": \"none\"}}}");
	c_values = J("{\"SynthSecretVersions\": \"d1\"}");
	c_stack = stack_xml("<Parameters>" PARAM("SynthSecretVersions", "d1") "</Parameters>",
			    "<Tags>" TAG("a", "1") TAG("b", "2") "</Tags>");
	c_want_tags = J("{\"b\": \"2\", \"a\": \"1\"}");
	chaos("params and tags", chaos_params);

	c_secrets = J("{\"A\": [\"/p/a\", \"/s/a\"], \"B\": [\"/p/b\", \"/s/b\"], \"C\": [\"/p/c\", \"/s/c\"]}");
	c_versions = J("{\"/p/a\": 3, \"/s/b\": 7}");
	synth__deploy_versions_digest(c_secrets, c_versions, c_digest, NULL);
	chaos("versions digest", chaos_digest);

	json_decref(c_old);
	json_decref(c_new);
	json_decref(c_want);
	json_decref(c_events);
	free(c_cause);
	json_decref(c_tpl);
	json_decref(c_values);
	json_decref(c_stack);
	json_decref(c_want_tags);
	json_decref(c_secrets);
	json_decref(c_versions);
}
#endif

int main(void)
{
	test_template_diff();
	test_root_cause();
	test_params_tags();
	test_versions_digest();
#if CHAOS
	test_chaos();
#endif
	return check_failed ? 1 : 0;
}

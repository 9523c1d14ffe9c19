/*
 * define_bus (constructs/bus.c) with function subscribers: the bus, the
 * rule in the function's construct (pattern, target, input transformer,
 * retry policy), the Lambda permission from exactly that rule, named
 * subscriptions, the default bus, linking ("put"), and every refusal.
 * Queue targets and dead-letter queues: test_bus_queue.c (pending the
 * queue component).
 */
#include "check.h"
#include "helpers.h"
#include "synth/sys/construct.h"
#include "synth/bus.h"

/* The logical ID of the resource at construct PATH in T, or NULL. */
static const char *lid(json_t *t, const char *path)
{
	const char *k;
	json_t *r;
	json_object_foreach(json_object_get(t, "Resources"), k, r) {
		const char *p = json_string_value(
			json_object_get(json_object_get(r, "Metadata"), "synth:path"));
		if (p && !strcmp(p, path))
			return k;
	}
	return NULL;
}

/* Whether V is {"Fn::GetAtt": [LID, ATTR]} / {"Ref": LID}. */
static const char *str(json_t *v)
{
	return json_is_string(v) ? json_string_value(v) : "";
}

static bool is_getatt(json_t *v, const char *l, const char *attr)
{
	json_t *g = json_object_get(v, "Fn::GetAtt");
	return l && json_array_size(g) == 2 &&
	       !strcmp(str(json_array_get(g, 0)), l) &&
	       !strcmp(str(json_array_get(g, 1)), attr);
}
static bool is_ref(json_t *v, const char *l)
{
	return l && json_object_size(v) == 1 && json_is_string(json_object_get(v, "Ref")) &&
	       !strcmp(json_string_value(json_object_get(v, "Ref")), l);
}

static json_t *props_of(json_t *t, const char *path)
{
	return json_object_get(by_path(t, path), "Properties");
}

static size_t count_type(json_t *t, const char *type)
{
	size_t n = 0;
	const char *k;
	json_t *r;
	json_object_foreach(json_object_get(t, "Resources"), k, r)
		n += !strcmp(str(json_object_get(r, "Type")), type);
	return n;
}

static synth_function *fn_in(synth_backend *b, const char *name)
{
	char *p = synth_asprintf("functions/%s/index.mjs", name);
	write_text(p, "export const handler = async () => 1;\n");
	free(p);
	return synth_define_function(b, name, NULL);
}

/* --- a custom bus and a function subscriber ---------------------------- */

static void test_subscribe(void)
{
	char *d = tmp_cwd();
	synth_backend *b = new_backend();
	synth_function *fn = fn_in(b, "f");
	synth_bus *bus = synth_define_bus(b, "orders", NULL);
	CHECK(bus != NULL, "a bus is defined");
	const char *sources[] = {"shop.orders", "shop.refunds", NULL};
	const char *types[] = {"OrderPlaced", NULL};
	const synth_bus_input_path paths[] = {{"id", "$.detail.id"}, {"at", "$.time"}, {0}};
	synth_bus_subscribe_opts o = {
		.sources = sources,
		.detail_types = types,
		.detail = "{\"kind\": [\"big\"], \"total\": {\"currency\": [\"EUR\"]}}",
		.input_paths = paths,
		.input_template = "{\"order\": <id>, \"at\": <at>}",
		.retry_attempts = 3,
		.max_event_age_s = 3600,
	};
	CHECK(synth_bus_subscribe(bus, fn, &o) == 0, "a function subscribes");
	CHECK(synth_backend_run(b) == 0, "the backend runs: %s", synth_error_last()->message);
	json_t *t = root_template();

	json_t *bp = props_of(t, "orders/Bus");
	CHECK(bp && !strcmp(json_string_value(json_object_get(by_path(t, "orders/Bus"), "Type")),
			    "AWS::Events::EventBus"),
	      "orders/Bus is an AWS::Events::EventBus");
	CHECK_STR(json_string_value(json_object_get(json_object_get(bp, "Name"), "Fn::Sub")),
		  "${AWS::StackName}-orders", "its name is the stack's name and the bus's");

	json_t *rule = by_path(t, "f/orders/Rule");
	json_t *rp = json_object_get(rule, "Properties");
	CHECK(rule && !strcmp(json_string_value(json_object_get(rule, "Type")), "AWS::Events::Rule"),
	      "the rule is in the function's construct (f/orders/Rule)");
	CHECK(is_ref(json_object_get(rp, "EventBusName"), lid(t, "orders/Bus")),
	      "on the bus (EventBusName: Ref of the bus)");
	CHECK_STR(json_string_value(json_object_get(rp, "State")), "ENABLED", "enabled");
	json_t *want = json_loads("{\"source\": [\"shop.orders\", \"shop.refunds\"], "
				  "\"detail-type\": [\"OrderPlaced\"], \"detail\": {\"kind\": "
				  "[\"big\"], \"total\": {\"currency\": [\"EUR\"]}}}", 0, NULL);
	CHECK(json_equal(json_object_get(rp, "EventPattern"), want),
	      "the pattern: sources, detail types and the detail object");
	json_decref(want);
	json_t *targets = json_object_get(rp, "Targets");
	json_t *tg = json_array_get(targets, 0);
	CHECK(json_array_size(targets) == 1 && is_getatt(json_object_get(tg, "Arn"),
							 lid(t, "f/Resource"), "Arn"),
	      "one target: the function's ARN");
	CHECK_STR(json_string_value(json_object_get(tg, "Id")), "Target0", "target Id");
	json_t *tr = json_object_get(tg, "InputTransformer");
	CHECK_STR(json_string_value(json_object_get(tr, "InputTemplate")),
		  "{\"order\": <id>, \"at\": <at>}", "the input template");
	json_t *map = json_object_get(tr, "InputPathsMap");
	CHECK(json_object_size(map) == 2 &&
		      !strcmp(json_string_value(json_object_get(map, "id")), "$.detail.id") &&
		      !strcmp(json_string_value(json_object_get(map, "at")), "$.time"),
	      "the input paths map");
	json_t *retry = json_object_get(tg, "RetryPolicy");
	CHECK(json_integer_value(json_object_get(retry, "MaximumRetryAttempts")) == 3 &&
		      json_integer_value(json_object_get(retry, "MaximumEventAgeInSeconds")) == 3600,
	      "the retry policy");
	CHECK(!json_object_get(tg, "DeadLetterConfig"), "no DLQ unless asked");

	json_t *perm = props_of(t, "f/orders/Permission");
	CHECK(count_type(t, "AWS::Lambda::Permission") == 1, "exactly one Lambda permission");
	CHECK_STR(json_string_value(json_object_get(perm, "Action")), "lambda:InvokeFunction",
		  "permission: invoke only");
	CHECK_STR(json_string_value(json_object_get(perm, "Principal")), "events.amazonaws.com",
		  "permission: for EventBridge");
	CHECK(is_getatt(json_object_get(perm, "SourceArn"), lid(t, "f/orders/Rule"), "Arn"),
	      "permission: from exactly that rule's ARN");
	CHECK(is_getatt(json_object_get(perm, "FunctionName"), lid(t, "f/Resource"), "Arn"),
	      "permission: on that function");
	json_decref(t);
	synth_backend_free(b);
	rm_tmp(d);
}

/* --- no pattern, the default bus, named subscriptions ------------------- */

static void test_default_bus_and_names(void)
{
	char *d = tmp_cwd();
	synth_backend *b = new_backend();
	synth_function *fn = fn_in(b, "f");
	synth_function *g = fn_in(b, "g");
	synth_bus *bus = synth_define_bus(b, "main-bus", &(synth_bus_props){.use_default = true});
	CHECK(synth_bus_subscribe(bus, fn, NULL) == 0, "no options: every event");
	const char *src[] = {"a", NULL};
	CHECK(synth_bus_subscribe(bus, fn, &(synth_bus_subscribe_opts){.name = "audit",
							 .sources = src}) == 0,
	      "a second, named subscription of f");
	CHECK(synth_bus_subscribe(bus, g, &(synth_bus_subscribe_opts){
						  .retry_attempts = SYNTH_BUS_NO_RETRIES}) == 0,
	      "g subscribes with no retries");
	CHECK(synth_backend_run(b) == 0, "the backend runs: %s", synth_error_last()->message);
	json_t *t = root_template();
	CHECK(count_type(t, "AWS::Events::EventBus") == 0, "the default bus: none created");
	json_t *rp = props_of(t, "f/main-bus/Rule");
	CHECK(rp && !json_object_get(rp, "EventBusName"), "a rule on the default bus");
	json_t *want = json_loads("{\"source\": [{\"prefix\": \"\"}]}", 0, NULL);
	CHECK(json_equal(json_object_get(rp, "EventPattern"), want),
	      "no pattern given: every event (source prefix \"\")");
	json_decref(want);
	CHECK(props_of(t, "f/main-bus/audit/Rule") && props_of(t, "f/main-bus/audit/Permission"),
	      "the named subscription's rule and permission (f/main-bus/audit/...)");
	CHECK(count_type(t, "AWS::Events::Rule") == 3 &&
		      count_type(t, "AWS::Lambda::Permission") == 3,
	      "one rule and one permission per subscription");
	json_t *perm = props_of(t, "f/main-bus/audit/Permission");
	CHECK(is_getatt(json_object_get(perm, "SourceArn"), lid(t, "f/main-bus/audit/Rule"), "Arn"),
	      "each permission names its own rule");
	json_t *tg = json_array_get(json_object_get(props_of(t, "g/main-bus/Rule"), "Targets"), 0);
	CHECK(json_integer_value(json_object_get(json_object_get(tg, "RetryPolicy"),
						 "MaximumRetryAttempts")) == 0 &&
		      !json_object_get(json_object_get(tg, "RetryPolicy"),
				       "MaximumEventAgeInSeconds"),
	      "SYNTH_BUS_NO_RETRIES: MaximumRetryAttempts 0, nothing else");
	json_decref(t);
	synth_backend_free(b);

	b = new_backend();
	fn = fn_in(b, "f");
	bus = synth_define_bus(b, "main-bus", NULL);
	synth_bus_subscribe(bus, fn, NULL);
	CHECK(synth_bus_subscribe(bus, fn, NULL) == SYNTH_EINVALID,
	      "the same function twice without a name is refused");
	CHECK_HAS(synth_error_last()->message, "main-bus: function f subscribes twice",
		  "naming the bus and the function");
	synth_bus_subscribe(bus, fn, &(synth_bus_subscribe_opts){.name = "x"});
	CHECK(synth_bus_subscribe(bus, fn, &(synth_bus_subscribe_opts){.name = "x"}) ==
		      SYNTH_EINVALID, "and twice with the same name");
	CHECK_HAS(synth_error_last()->message, "subscribes twice as 'x'", "naming the name");
	synth_backend_free(b);
	rm_tmp(d);
}

/* --- linking --------------------------------------------------------- */

static void test_link(void)
{
	char *d = tmp_cwd();
	synth_backend *b = new_backend();
	synth_function *fn = fn_in(b, "pub");
	synth_bus *bus = synth_define_bus(b, "orders", NULL);
	synth_bus *def = synth_define_bus(b, "sys", &(synth_bus_props){.use_default = true});
	CHECK(synth_function_link(fn, synth_bus_construct(bus), "put") == 0, "link: put");
	CHECK(synth_function_link(fn, synth_bus_construct(def), "put") == 0,
	      "link: put on the default bus");
	CHECK(synth_function_link(fn, synth_bus_construct(bus), "publish") == SYNTH_EINVALID,
	      "an unknown access level is refused");
	CHECK_HAS(synth_error_last()->message, "orders: link of pub: access 'publish' is not put",
		  "naming the bus, the function and the level");
	synth_backend_free(b);

	b = new_backend();
	fn = fn_in(b, "pub");
	bus = synth_define_bus(b, "orders", NULL);
	def = synth_define_bus(b, "sys", &(synth_bus_props){.use_default = true});
	synth_function_link(fn, synth_bus_construct(bus), "put");
	synth_function_link(fn, synth_bus_construct(def), "put");
	CHECK(synth_backend_run(b) == 0, "the linked backend runs");
	json_t *t = root_template();
	json_t *vars = json_object_get(
		json_object_get(props_of(t, "pub/Resource"), "Environment"), "Variables");
	CHECK(is_ref(json_object_get(vars, "SYNTH_ORDERS_NAME"), lid(t, "orders/Bus")) &&
		      is_getatt(json_object_get(vars, "SYNTH_ORDERS_ARN"), lid(t, "orders/Bus"),
				"Arn"),
	      "SYNTH_ORDERS_NAME (Ref) and SYNTH_ORDERS_ARN (GetAtt Arn)");
	CHECK_STR(json_string_value(json_object_get(vars, "SYNTH_SYS_NAME")), "default",
		  "the default bus's name");
	CHECK_HAS(json_string_value(json_object_get(json_object_get(vars, "SYNTH_SYS_ARN"),
						    "Fn::Sub")),
		  ":event-bus/default", "the default bus's ARN");
	json_t *sts = json_object_get(
		json_object_get(props_of(t, "pub/ServiceRole/DefaultPolicy"), "PolicyDocument"),
		"Statement");
	json_t *s0 = json_array_get(sts, 0), *s1 = json_array_get(sts, 1);
	json_t *a0 = json_object_get(s0, "Action");
	CHECK(json_array_size(sts) == 2 && json_array_size(a0) == 1 &&
		      !strcmp(json_string_value(json_array_get(a0, 0)), "events:PutEvents") &&
		      is_getatt(json_object_get(s0, "Resource"), lid(t, "orders/Bus"), "Arn"),
	      "events:PutEvents only, on exactly the bus's ARN");
	CHECK(json_object_get(json_object_get(s1, "Resource"), "Fn::Sub") != NULL,
	      "and on exactly the default bus's ARN (never \"*\")");
	json_decref(t);
	synth_backend_free(b);
	rm_tmp(d);
}

/* --- refusals --------------------------------------------------------- */

/* Subscribes with O; checks the refusal names the bus and NEEDLE. */
static void refused(synth_bus *bus, synth_function *fn, const synth_bus_subscribe_opts *o,
		    const char *needle, const char *what)
{
	int rc = synth_bus_subscribe(bus, fn, o);
	CHECK(rc == SYNTH_EINVALID, "refused: %s", what);
	CHECK_HAS(synth_error_last()->message, "orders: ", "  naming the bus");
	CHECK_HAS(synth_error_last()->message, needle, "  and what is wrong");
}

static void test_refusals(void)
{
	char *d = tmp_cwd();
	synth_backend *b = new_backend();
	synth_function *fn = fn_in(b, "f");
	synth_bus *bus = synth_define_bus(b, "orders", NULL);
	typedef synth_bus_subscribe_opts O;
	refused(bus, fn, &(O){.detail = "{\"kind\": [\"a\"]"}, "detail pattern of function f is "
		"not a non-empty JSON object", "invalid JSON");
	refused(bus, fn, &(O){.detail = "[\"a\"]"}, "wrong type", "a detail that is an array");
	refused(bus, fn, &(O){.detail = "{}"}, "it is empty", "an empty detail");
	refused(bus, fn, &(O){.detail = "{\"kind\": \"a\"}"}, "detail.kind must be a non-empty array",
		"a detail leaf that is not an array");
	refused(bus, fn, &(O){.detail = "{\"a\": {\"b\": []}}"}, "detail.a.b must be",
		"an empty array deeper down");
	refused(bus, fn, &(O){.detail = "{\"a\": [1], \"a\": [2]}"}, "not a non-empty JSON object",
		"duplicate keys");
	const char *empty[] = {"ok", "", NULL};
	refused(bus, fn, &(O){.sources = empty}, "source 2 is empty", "an empty source");
	refused(bus, fn, &(O){.detail_types = empty}, "detail-type 2 is empty",
		"an empty detail type");
	const synth_bus_input_path p1[] = {{"id", "$.id"}, {0}};
	refused(bus, fn, &(O){.input_paths = p1}, "input paths but no template",
		"input paths without a template");
	const synth_bus_input_path p2[] = {{"bad name", "$.id"}, {0}};
	refused(bus, fn, &(O){.input_paths = p2, .input_template = "<x>"},
		"'bad name' is not letters", "a bad input path name");
	const synth_bus_input_path p3[] = {{"id", "detail.id"}, {0}};
	refused(bus, fn, &(O){.input_paths = p3, .input_template = "<id>"},
		"'id' has no path starting with '$'", "a path not starting with $");
	const synth_bus_input_path p4[] = {{"id", "$.a"}, {"id", "$.b"}, {0}};
	refused(bus, fn, &(O){.input_paths = p4, .input_template = "<id>"}, "'id' is given twice",
		"a name given twice");
	refused(bus, fn, &(O){.retry_attempts = 186}, "retry attempts 186 is not 1..185",
		"186 retry attempts");
	refused(bus, fn, &(O){.retry_attempts = -2}, "retry attempts -2", "negative retries");
	refused(bus, fn, &(O){.max_event_age_s = 59}, "maximum event age 59 s is not 60..86400",
		"an event age under 60 s");
	refused(bus, fn, &(O){.max_event_age_s = 86401}, "86401", "an event age over a day");
	refused(bus, fn, &(O){.message_group_id = "g"}, "for FIFO queue targets only",
		"a message group for a function");
	refused(bus, fn, &(O){.name = "a b"}, "name 'a b' is not 1 to 64", "a bad name");
	refused(bus, NULL, NULL, "no function", "no function");
	synth_backend *other = new_backend();
	synth_function *ofn = fn_in(other, "x");
	refused(bus, ofn, NULL, "another backend", "another backend's function");
	synth_backend_free(other);
	CHECK(synth_bus_subscribe(NULL, fn, NULL) == SYNTH_EINVALID, "refused: no bus");
	CHECK(synth_backend_run(b) < 0, "a backend with a refused subscription does not run");
	CHECK_HAS(synth_error_last()->message, "orders: ", "the run reports the first refusal");
	synth_backend_free(b);

	b = new_backend();
	CHECK(synth_define_bus(b, "bad name", NULL) == NULL, "refused: a bad bus name");
	CHECK_HAS(synth_error_last()->message, "bad name", "naming it");
	synth_backend_free(b);
	rm_tmp(d);
}

int main(void)
{
	test_subscribe();
	test_default_bus_and_names();
	test_link();
	test_refusals();
	return check_failed ? 1 : 0;
}

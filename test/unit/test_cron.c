/*
 * define_cron (constructs/cron.c): the Scheduler schedule (expression,
 * time zone, flexible window, retry policy, input, state), its role (the
 * scheduler principal for this account only, lambda:InvokeFunction on
 * exactly the function), every refusal, the function's own .schedule left
 * as it was, and a backend using a bus, a cron and a .schedule passing
 * cfn-lint. DLQs on queues: test_bus_queue.c (pending the queue component).
 */
#include "check.h"
#include "helpers.h"
#include "synth/sys/construct.h"
#include "synth/bus.h"
#include "synth/cron.h"

static const char *str(json_t *v) { return json_is_string(v) ? json_string_value(v) : ""; }

static const char *lid(json_t *t, const char *path)
{
	const char *k;
	json_t *r;
	json_object_foreach(json_object_get(t, "Resources"), k, r)
		if (!strcmp(str(json_object_get(json_object_get(r, "Metadata"), "synth:path")), path))
			return k;
	return NULL;
}

static bool is_getatt(json_t *v, const char *l, const char *attr)
{
	json_t *g = json_object_get(v, "Fn::GetAtt");
	return l && json_array_size(g) == 2 && !strcmp(str(json_array_get(g, 0)), l) &&
	       !strcmp(str(json_array_get(g, 1)), attr);
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

static synth_function *fn_in(synth_backend *b, const char *name,
			     const synth_function_props *p)
{
	char *path = synth_asprintf("functions/%s/index.mjs", name);
	write_text(path, "export const handler = async () => 1;\n");
	free(path);
	return synth_define_function(b, name, p);
}

/* --- the schedule and its role ---------------------------------------- */

static void test_cron(void)
{
	char *d = tmp_cwd();
	synth_backend *b = new_backend();
	synth_function *fn = fn_in(b, "report", NULL);
	synth_cron_props p = {
		.function = fn,
		.schedule = "cron(0 9 ? * MON-FRI *)",
		.timezone = "Europe/Paris",
		.flexible_window_min = 15,
		.retry_attempts = 3,
		.max_event_age_s = 3600,
		.input = "{ \"kind\": \"daily\",  \"n\": 1 }",
	};
	CHECK(synth_define_cron(b, "nightly", &p) != NULL, "a cron is defined");
	CHECK(synth_backend_run(b) == 0, "the backend runs: %s", synth_error_last()->message);
	json_t *t = root_template();
	json_t *sched = by_path(t, "nightly/Schedule");
	json_t *sp = json_object_get(sched, "Properties");
	CHECK_STR(str(json_object_get(sched, "Type")), "AWS::Scheduler::Schedule",
		  "nightly/Schedule is an AWS::Scheduler::Schedule");
	CHECK_STR(str(json_object_get(sp, "ScheduleExpression")), "cron(0 9 ? * MON-FRI *)",
		  "the expression");
	CHECK_STR(str(json_object_get(sp, "ScheduleExpressionTimezone")), "Europe/Paris",
		  "the time zone");
	json_t *ftw = json_object_get(sp, "FlexibleTimeWindow");
	CHECK(!strcmp(str(json_object_get(ftw, "Mode")), "FLEXIBLE") &&
		      json_integer_value(json_object_get(ftw, "MaximumWindowInMinutes")) == 15,
	      "a flexible window of 15 minutes");
	CHECK_STR(str(json_object_get(sp, "State")), "ENABLED", "enabled");
	json_t *tg = json_object_get(sp, "Target");
	CHECK(is_getatt(json_object_get(tg, "Arn"), lid(t, "report/Resource"), "Arn"),
	      "target: the function's ARN");
	CHECK(is_getatt(json_object_get(tg, "RoleArn"), lid(t, "nightly/Role"), "Arn"),
	      "target: the cron's role");
	json_t *rp = json_object_get(tg, "RetryPolicy");
	CHECK(json_integer_value(json_object_get(rp, "MaximumRetryAttempts")) == 3 &&
		      json_integer_value(json_object_get(rp, "MaximumEventAgeInSeconds")) == 3600,
	      "the retry policy");
	CHECK_STR(str(json_object_get(tg, "Input")), "{\"kind\":\"daily\",\"n\":1}",
		  "the input, compact JSON text");
	CHECK(!json_object_get(tg, "DeadLetterConfig"), "no DLQ unless asked");

	json_t *role = props_of(t, "nightly/Role");
	json_t *as = json_array_get(json_object_get(json_object_get(role,
		"AssumeRolePolicyDocument"), "Statement"), 0);
	CHECK_STR(str(json_object_get(json_object_get(as, "Principal"), "Service")),
		  "scheduler.amazonaws.com", "the role is for Scheduler");
	json_t *acct = json_object_get(json_object_get(json_object_get(as, "Condition"),
						       "StringEquals"), "aws:SourceAccount");
	CHECK_STR(str(json_object_get(acct, "Ref")), "AWS::AccountId",
		  "on behalf of this account only (aws:SourceAccount)");
	json_t *pols = json_object_get(role, "Policies");
	json_t *sts = json_object_get(json_object_get(json_array_get(pols, 0), "PolicyDocument"),
				      "Statement");
	json_t *st = json_array_get(sts, 0);
	json_t *res = json_object_get(st, "Resource");
	CHECK(json_array_size(pols) == 1 && json_array_size(sts) == 1,
	      "one policy with one statement");
	CHECK_STR(str(json_object_get(st, "Action")), "lambda:InvokeFunction",
		  "its single action: lambda:InvokeFunction");
	CHECK(json_array_size(res) == 2 &&
		      is_getatt(json_array_get(res, 0), lid(t, "report/Resource"), "Arn"),
	      "on exactly the function's ARN");
	json_t *sub = json_object_get(json_array_get(res, 1), "Fn::Sub");
	CHECK(!strcmp(str(json_array_get(sub, 0)), "${Arn}:*") &&
		      is_getatt(json_object_get(json_array_get(sub, 1), "Arn"),
				lid(t, "report/Resource"), "Arn"),
	      "and its versions (ARN:*)");
	CHECK(count_type(t, "AWS::Lambda::Permission") == 0 &&
		      count_type(t, "AWS::Events::Rule") == 0,
	      "no Lambda permission, no EventBridge rule");
	CHECK(!by_path(t, "report/ServiceRole/DefaultPolicy"), "the function is untouched");
	json_decref(t);
	synth_backend_free(b);
	rm_tmp(d);
}

/* Defaults, shortcuts, at(), disabled. */
static void test_forms(void)
{
	char *d = tmp_cwd();
	synth_backend *b = new_backend();
	synth_function *fn = fn_in(b, "f", NULL);
	synth_define_cron(b, "a", &(synth_cron_props){.function = fn, .schedule = "every day"});
	synth_define_cron(b, "once", &(synth_cron_props){.function = fn,
			  .schedule = "at(2032-02-29T23:59:59)", .timezone = "America/New_York",
			  .disabled = true, .retry_attempts = SYNTH_CRON_NO_RETRIES});
	synth_define_cron(b, "unix", &(synth_cron_props){.function = fn, .schedule = "0 9 * * 1",
			  .timezone = "UTC", .input = "\"ping\""});
	CHECK(synth_backend_run(b) == 0, "the backend runs: %s", synth_error_last()->message);
	json_t *t = root_template();
	json_t *a = props_of(t, "a/Schedule");
	CHECK_STR(str(json_object_get(a, "ScheduleExpression")), "rate(1 day)",
		  "a shortcut through synth_schedule_parse");
	CHECK_STR(str(json_object_get(json_object_get(a, "FlexibleTimeWindow"), "Mode")), "OFF",
		  "default: no flexible window (OFF)");
	CHECK(!json_object_get(a, "ScheduleExpressionTimezone") &&
		      !json_object_get(json_object_get(a, "Target"), "RetryPolicy") &&
		      !json_object_get(json_object_get(a, "Target"), "Input"),
	      "default: no time zone, no retry policy, no input");
	json_t *o = props_of(t, "once/Schedule");
	CHECK_STR(str(json_object_get(o, "ScheduleExpression")), "at(2032-02-29T23:59:59)",
		  "a one-time at() on a leap day");
	CHECK_STR(str(json_object_get(o, "State")), "DISABLED", "disabled");
	json_t *rp = json_object_get(json_object_get(o, "Target"), "RetryPolicy");
	CHECK(json_integer_value(json_object_get(rp, "MaximumRetryAttempts")) == 0 &&
		      json_object_size(rp) == 1,
	      "SYNTH_CRON_NO_RETRIES: MaximumRetryAttempts 0");
	json_t *u = props_of(t, "unix/Schedule");
	CHECK_STR(str(json_object_get(u, "ScheduleExpression")), "cron(0 9 ? * 2 *)",
		  "a Unix cron becomes a Scheduler cron");
	CHECK_STR(str(json_object_get(json_object_get(u, "Target"), "Input")), "\"ping\"",
		  "any JSON value as input");
	CHECK(count_type(t, "AWS::IAM::Role") == 4, "one role per cron (+ the function's)");
	json_decref(t);
	synth_backend_free(b);
	rm_tmp(d);
}

/* --- refusals --------------------------------------------------------- */

static void refused(synth_cron_props p, const char *needle, const char *what)
{
	synth_backend *b = new_backend();
	synth_function *fn = fn_in(b, "f", NULL);
	if (p.function)
		p.function = fn;
	CHECK(synth_define_cron(b, "job-1", &p) == NULL, "refused: %s", what);
	CHECK_HAS(synth_error_last()->message, "job-1: ", "  naming the cron");
	CHECK_HAS(synth_error_last()->message, needle, "  and what is wrong");
	CHECK(synth_backend_run(b) < 0, "  the backend does not run");
	synth_backend_free(b);
}

static void test_refusals(void)
{
	char *d = tmp_cwd();
	/* Any non-NULL .function stands for "f" (replaced in refused()). */
	synth_function *f = (synth_function *)1;
	typedef synth_cron_props P;
	refused((P){.schedule = "every day"}, "needs a function", "no function");
	refused((P){.function = f}, "needs a schedule", "no schedule");
	refused((P){.function = f, .schedule = "every fortnight"}, "does not parse",
		"a bad schedule");
	refused((P){.function = f, .schedule = "cron(0 9 * * * *)"}, "exactly one of",
		"a cron with both day fields");
	refused((P){.function = f, .schedule = "at(2030-02-30T09:00:00)"}, "at(yyyy-mm-ddThh:mm:ss)",
		"at() on February 30");
	refused((P){.function = f, .schedule = "at(2031-02-29T09:00:00)"}, "a real date",
		"at() on February 29 of a common year");
	refused((P){.function = f, .schedule = "at(2030-01-01 09:00)"}, "at(yyyy", "at() malformed");
	refused((P){.function = f, .schedule = "every day", .timezone = "Paris"},
		"time zone 'Paris' is not an IANA name", "a time zone without an area");
	refused((P){.function = f, .schedule = "every day", .timezone = "Mars/Olympus"},
		"'Mars/Olympus'", "an unknown area");
	refused((P){.function = f, .schedule = "every day", .timezone = "Europe/Paris; rm"},
		"is not an IANA name", "a time zone with odd characters");
	refused((P){.function = f, .schedule = "every day", .flexible_window_min = 1441},
		"flexible window 1441 min is not 1..1440", "a window over a day");
	refused((P){.function = f, .schedule = "every day", .flexible_window_min = -1},
		"flexible window -1", "a negative window");
	refused((P){.function = f, .schedule = "every day", .retry_attempts = 186},
		"retry attempts 186 is not 1..185", "186 retries");
	refused((P){.function = f, .schedule = "every day", .retry_attempts = -5},
		"retry attempts -5", "negative retries");
	refused((P){.function = f, .schedule = "every day", .max_event_age_s = 59},
		"maximum event age 59 s is not 60..86400", "an event age under a minute");
	refused((P){.function = f, .schedule = "every day", .max_event_age_s = 86401},
		"86401", "an event age over a day");
	refused((P){.function = f, .schedule = "every day", .input = "{\"a\": }"},
		"input is not JSON", "input that is not JSON");

	synth_backend *b = new_backend(), *other = new_backend();
	synth_function *ofn = fn_in(other, "x", NULL);
	CHECK(synth_define_cron(b, "job-1", &(P){.function = ofn, .schedule = "every day"}) ==
		      NULL, "refused: another backend's function");
	CHECK_HAS(synth_error_last()->message, "job-1: function x belongs to another backend",
		  "  saying so");
	synth_backend_free(other);
	synth_backend_free(b);
	rm_tmp(d);
}

/* --- with the function's own schedule and a bus: cfn-lint --------------- */

static void test_together(void)
{
	char *d = tmp_cwd();
	synth_backend *b = new_backend();
	synth_function *tick = fn_in(b, "tick", &(synth_function_props){.schedule = "every 5m"});
	synth_function *fn = fn_in(b, "worker", NULL);
	synth_bus *bus = synth_define_bus(b, "events", NULL);
	const char *src[] = {"app.orders", NULL};
	const synth_bus_input_path paths[] = {{"id", "$.detail.id"}, {0}};
	synth_bus_subscribe(bus, fn, &(synth_bus_subscribe_opts){
		.sources = src, .detail = "{\"total\": [{\"numeric\": [\">\", 100]}]}",
		.input_paths = paths, .input_template = "{\"id\": <id>}", .retry_attempts = 2,
		.max_event_age_s = 120});
	synth_function_link(tick, synth_bus_construct(bus), "put");
	synth_define_cron(b, "nightly", &(synth_cron_props){.function = fn,
			  .schedule = "cron(0 2 * * ? *)", .timezone = "Asia/Tokyo",
			  .flexible_window_min = 10, .retry_attempts = 5, .max_event_age_s = 600,
			  .input = "{\"job\": \"nightly\"}"});
	CHECK(synth_backend_run(b) == 0, "a backend with a bus, a cron and a .schedule runs: %s",
	      synth_error_last()->message);
	json_t *t = root_template();
	json_t *rule = props_of(t, "tick/Schedule");
	CHECK_STR(str(json_object_get(rule, "ScheduleExpression")), "rate(5 minutes)",
		  "the function's own .schedule is still an EventBridge rule");
	CHECK(props_of(t, "tick/SchedulePermission") != NULL, "with its permission");
	CHECK(count_type(t, "AWS::Scheduler::Schedule") == 1, "and the cron is a Scheduler schedule");
	json_decref(t);

	CHECK(count_files("out/*.template.json") == 1, "one template to lint");
	if (system("command -v cfn-lint >/dev/null 2>&1") != 0) {
		printf("ok - cfn-lint: zero errors # SKIP cfn-lint not installed\n");
	} else {
		FILE *f = popen("cfn-lint --format parseable -- out/*.template.json 2>&1", "r");
		char line[1024];
		size_t errors = 0;
		while (f && fgets(line, sizeof line, f)) {
			/* parseable: file:line:col:line:col:RULE:message; E* rules are errors */
			char *rule_id = NULL, *p = line;
			for (int i = 0; i < 5 && p; i++)
				p = strchr(p + 1, ':');
			if (p)
				rule_id = p + 1;
			if (rule_id && rule_id[0] == 'E') {
				errors++;
				printf("#   %s", line);
			}
		}
		CHECK(f && errors == 0, "cfn-lint: zero errors on the template (%zu)", errors);
		if (f)
			pclose(f);
	}
	synth_backend_free(b);
	rm_tmp(d);
}

int main(void)
{
	test_cron();
	test_forms();
	test_refusals();
	test_together();
	return check_failed ? 1 : 0;
}

/*
 * define_cron: a function invoked on a schedule by EventBridge Scheduler
 * (SST's CronV2), with a time zone, a flexible time window, retries and a
 * dead-letter queue. The function's own .schedule (schedule.c, an
 * EventBridge rule) is another, older path and is not touched here.
 *
 * Resources, by construct path (NAME is the cron's name):
 *   NAME/Schedule   AWS::Scheduler::Schedule
 *   NAME/Role       AWS::IAM::Role: assumed by scheduler.amazonaws.com on
 *                   behalf of this account only (aws:SourceAccount); it may
 *                   lambda:InvokeFunction on exactly the function and its
 *                   versions, and sqs:SendMessage on exactly the DLQ.
 * Both live in the cron's construct: Scheduler, not the function, holds
 * the permission (a role, not a Lambda resource policy), so the function
 * is untouched and a cron may be added or removed without changing it.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <synth.h>
#include <synth/sys/construct.h>
#include <synth/queue.h>
#include <synth/cron.h>


#define SCHEDULER_PRINCIPAL "scheduler.amazonaws.com"

struct synth_cron {
	synth_construct *c;
	synth_function *fn; /* borrowed from the backend */
	synth_queue *dlq;   /* borrowed, or NULL */
	char *expr, *timezone, *input;
	int window, retries, max_age;
	bool disabled;
};

static void cron_free(void *state)
{
	synth_cron *cr = state;
	if (!cr)
		return;
	free(cr->expr);
	free(cr->timezone);
	free(cr->input);
	free(cr);
}

synth_construct *synth_cron_construct(synth_cron *cron) { return cron ? cron->c : NULL; }

/* --- generation ---------------------------------------------------------- */

/* The role Scheduler assumes: invoke exactly the function (and its
 * versions and aliases, "ARN:*"), send to exactly the DLQ. */
static json_t *role_props(const synth_cron *cr)
{
	json_t *statements = json_pack(
		"[{s:s,s:s,s:[o,o]}]", "Effect", "Allow", "Action", "lambda:InvokeFunction",
		"Resource", synth_function_arn(cr->fn),
		synth_sub("${Arn}:*", "Arn", synth_function_arn(cr->fn), NULL));
	if (statements && cr->dlq)
		json_array_append_new(statements,
				      json_pack("{s:s,s:s,s:o}", "Effect", "Allow", "Action",
						"sqs:SendMessage", "Resource",
						synth_queue_arn(cr->dlq)));
	if (!statements)
		return NULL;
	return json_pack(
		"{s:{s:s,s:[{s:s,s:{s:s},s:s,s:{s:{s:o}}}]},s:[{s:s,s:{s:s,s:o}}]}",
		"AssumeRolePolicyDocument", "Version", "2012-10-17", "Statement", "Effect",
		"Allow", "Principal", "Service", SCHEDULER_PRINCIPAL, "Action", "sts:AssumeRole",
		"Condition", "StringEquals", "aws:SourceAccount", synth_pseudo("AWS::AccountId"),
		"Policies", "PolicyName", "Invoke", "PolicyDocument", "Version", "2012-10-17",
		"Statement", statements);
}

static json_t *schedule_props(const synth_cron *cr, const synth_resource *role)
{
	json_t *target = json_pack("{s:o,s:o}", "Arn", synth_function_arn(cr->fn), "RoleArn",
				   synth_resource_getatt(role, "Arn"));
	json_t *props = json_pack("{s:s,s:s}", "ScheduleExpression", cr->expr, "State",
				  cr->disabled ? "DISABLED" : "ENABLED");
	if (!target || !props) {
		json_decref(target);
		json_decref(props);
		return NULL;
	}
	if (cr->timezone)
		json_object_set_new(props, "ScheduleExpressionTimezone",
				    json_string(cr->timezone));
	json_object_set_new(props, "FlexibleTimeWindow",
			    cr->window ? json_pack("{s:s,s:i}", "Mode", "FLEXIBLE",
						   "MaximumWindowInMinutes", cr->window)
				       : json_pack("{s:s}", "Mode", "OFF"));
	if (cr->retries || cr->max_age) {
		json_t *rp = json_object();
		if (rp && cr->retries)
			json_object_set_new(rp, "MaximumRetryAttempts",
					    json_integer(cr->retries < 0 ? 0 : cr->retries));
		if (rp && cr->max_age)
			json_object_set_new(rp, "MaximumEventAgeInSeconds",
					    json_integer(cr->max_age));
		json_object_set_new(target, "RetryPolicy", rp);
	}
	if (cr->dlq)
		json_object_set_new(target, "DeadLetterConfig",
				    json_pack("{s:o}", "Arn", synth_queue_arn(cr->dlq)));
	if (cr->input)
		json_object_set_new(target, "Input", json_string(cr->input));
	json_object_set_new(props, "Target", target);
	return props;
}

static int cron_generate(synth_construct *self, void *state)
{
	synth_cron *cr = state;
	synth_resource *role = NULL;
	json_t *rp = role_props(cr);
	int rc = rp ? synth_resource_new(&role, self, "Role", "AWS::IAM::Role", rp)
		    : synth_error_oom();
	json_t *sp = rc == 0 ? schedule_props(cr, role) : NULL;
	if (rc == 0)
		rc = sp ? synth_resource_new(NULL, self, "Schedule", "AWS::Scheduler::Schedule", sp)
			: synth_error_oom();
	if (rc < 0)
		return synth_construct_failf(self, rc, "%s", synth_error_last()->message);
	return 0;
}

static const synth_construct_class cron_class = {
	.version = SYNTH_CONSTRUCT_CLASS_VERSION,
	.kind = "cron",
	.generate = cron_generate,
	.free = cron_free,
};

/* --- checking the props -------------------------------------------------- */

/* "at(yyyy-mm-ddThh:mm:ss)", a one-time schedule: true when well formed
 * (a real date and time; Scheduler reads it in the schedule's time zone). */
static bool at_valid(const char *s)
{
	static const char mask[] = "at(dddd-dd-ddTdd:dd:dd)";
	static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	if (strlen(s) != sizeof mask - 1)
		return false;
	for (size_t i = 0; mask[i]; i++)
		if (mask[i] == 'd' ? !(s[i] >= '0' && s[i] <= '9') : s[i] != mask[i])
			return false;
	int y, mo, d, h, mi, se;
	if (sscanf(s, "at(%4d-%2d-%2dT%2d:%2d:%2d)", &y, &mo, &d, &h, &mi, &se) != 6)
		return false;
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	return mo >= 1 && mo <= 12 && d >= 1 && d <= mdays[mo - 1] &&
	       !(mo == 2 && d == 29 && !leap) && h <= 23 && mi <= 59 && se <= 59;
}

/* An IANA time zone name, checked lightly: "UTC", or Area/Location with an
 * area of the tz database (and its common legacy links, "US/Eastern"). */
static bool timezone_plausible(const char *tz)
{
	static const char *const areas[] = {
		"Africa", "America", "Antarctica", "Arctic", "Asia", "Atlantic", "Australia",
		"Europe", "Indian", "Pacific", "Etc", "US", "Canada", "Brazil", "Mexico",
		"Chile", NULL};
	if (!strcmp(tz, "UTC") || !strcmp(tz, "GMT"))
		return true;
	const char *slash = strchr(tz, '/');
	size_t n = strlen(tz);
	if (!slash || n > 64 || tz[n - 1] == '/' || strstr(tz, "//"))
		return false;
	for (const char *p = tz; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || strchr("/_-+", *p)))
			return false;
	for (size_t i = 0; areas[i]; i++)
		if (strlen(areas[i]) == (size_t)(slash - tz) &&
		    !strncmp(tz, areas[i], (size_t)(slash - tz)))
			return true;
	return false;
}

/* Checks P; fills CR's expression, window, retries. 0, or SYNTH_EINVALID
 * after failing naming NM. */
static int check_props(synth_backend *b, const char *nm, const synth_cron_props *p,
		       synth_cron *cr)
{
	if (!p->function)
		return synth_backend_failf(b, SYNTH_EINVALID,
					   "%s: a cron needs a function (.function; did its "
					   "definition fail?)", nm);
	if (synth_construct_backend(synth_function_construct(p->function)) != b)
		return synth_backend_failf(b, SYNTH_EINVALID,
					   "%s: function %s belongs to another backend", nm,
					   synth_construct_name(synth_function_construct(p->function)));
	if (!p->schedule || !*p->schedule)
		return synth_backend_failf(b, SYNTH_EINVALID, "%s: a cron needs a schedule", nm);
	if (!strncmp(p->schedule, "at(", 3)) {
		if (!at_valid(p->schedule))
			return synth_backend_failf(b, SYNTH_EINVALID,
						   "%s: schedule '%s': a one-time schedule is "
						   "at(yyyy-mm-ddThh:mm:ss), a real date and time",
						   nm, p->schedule);
		cr->expr = strdup(p->schedule);
	} else if (synth_schedule_parse(&cr->expr, p->schedule) < 0)
		return synth_backend_failf(b, SYNTH_EINVALID, "%s: %s", nm,
					   synth_error_last()->message);
	if (!cr->expr)
		return synth_backend_failf(b, SYNTH_ENOMEM, "%s: out of memory", nm);
	if (p->timezone && !timezone_plausible(p->timezone))
		return synth_backend_failf(b, SYNTH_EINVALID,
					   "%s: time zone '%s' is not an IANA name such as "
					   "\"Europe/Paris\", \"America/New_York\" or \"UTC\"",
					   nm, p->timezone);
	if (p->flexible_window_min < 0 || p->flexible_window_min > 1440)
		return synth_backend_failf(b, SYNTH_EINVALID,
					   "%s: flexible window %d min is not 1..1440 (0: off)", nm,
					   p->flexible_window_min);
	if (p->retry_attempts != SYNTH_CRON_NO_RETRIES &&
	    (p->retry_attempts < 0 || p->retry_attempts > 185))
		return synth_backend_failf(b, SYNTH_EINVALID,
					   "%s: retry attempts %d is not 1..185 "
					   "(SYNTH_CRON_NO_RETRIES for none)", nm, p->retry_attempts);
	if (p->max_event_age_s && (p->max_event_age_s < 60 || p->max_event_age_s > 86400))
		return synth_backend_failf(b, SYNTH_EINVALID,
					   "%s: maximum event age %d s is not 60..86400", nm,
					   p->max_event_age_s);
	if (p->dlq && synth_queue_is_fifo(p->dlq))
		return synth_backend_failf(b, SYNTH_EINVALID,
					   "%s: dead-letter queue %s is a FIFO queue; Scheduler "
					   "takes standard queues only", nm,
					   synth_construct_name(synth_queue_construct(p->dlq)));
	cr->window = p->flexible_window_min;
	cr->retries = p->retry_attempts;
	cr->max_age = p->max_event_age_s;
	return 0;
}

/* The input: any JSON text, kept compact. 0, or a code after failing. */
static int check_input(synth_backend *b, const char *nm, const char *input, synth_cron *cr)
{
	if (!input)
		return 0;
	json_error_t err;
	json_t *j = json_loads(input, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &err);
	if (!j)
		return synth_backend_failf(b, SYNTH_EINVALID,
					   "%s: input is not JSON: %s (line %d, column %d)", nm,
					   err.text, err.line, err.column);
	cr->input = synth_json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
	json_decref(j);
	return cr->input ? 0 : synth_backend_failf(b, SYNTH_ENOMEM, "%s: out of memory", nm);
}

synth_cron *synth_define_cron(synth_backend *b, const char *name, const synth_cron_props *props)
{
	SYNTH_CHECK_HANDLE(b);
	static const synth_cron_props none = {0};
	const synth_cron_props *p = props ? props : &none;
	const char *nm = name ? name : "";
	synth_error_clear();
	synth_cron *cr = calloc(1, sizeof *cr);
	if (!cr) {
		synth_backend_failf(b, SYNTH_ENOMEM, "%s: out of memory", nm);
		return NULL;
	}
	int rc = check_props(b, nm, p, cr);
	if (rc == 0)
		rc = check_input(b, nm, p->input, cr);
	if (rc == 0 && p->timezone && !(cr->timezone = strdup(p->timezone)))
		rc = synth_backend_failf(b, SYNTH_ENOMEM, "%s: out of memory", nm);
	if (rc < 0) {
		cron_free(cr);
		return NULL;
	}
	cr->fn = p->function;
	cr->dlq = p->dlq;
	cr->disabled = p->disabled;
	/* On failure CR is freed and the error (naming NAME) is recorded. */
	if (synth_construct_new(&cr->c, b, name, &cron_class, cr) < 0)
		return NULL;
	return cr;
}

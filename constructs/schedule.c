/*
 * Schedules for define_function: EventBridge schedule expressions (rate,
 * cron, Unix cron, shortcuts) and the schedule as an event source of a
 * function. (The Lambda runtimes are the core's: lib/core/lambda.c.)
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <synth.h>
#include <synth/sys/construct.h>

/* --- schedules --------------------------------------------------------- */

static bool all_digits(const char *s, size_t n)
{
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isdigit((unsigned char)s[i]))
			return false;
	return true;
}

static const char *const months[] = {"JAN", "FEB", "MAR", "APR", "MAY", "JUN",
				     "JUL", "AUG", "SEP", "OCT", "NOV", "DEC", NULL};
static const char *const days[] = {"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT",
				   NULL};

/* A single value of a cron field: a number in [lo, hi] or a name. */
static bool cron_value(const char *s, size_t n, int lo, int hi,
		       const char *const *names)
{
	if (all_digits(s, n)) {
		long v = strtol(s, NULL, 10);
		return n <= 4 && v >= lo && v <= hi;
	}
	if (names && n == 3)
		for (size_t i = 0; names[i]; i++)
			if (strncasecmp(s, names[i], 3) == 0)
				return true;
	return false;
}

/* Validates one field of an AWS cron expression. FIELD indexes
 * minutes, hours, day-of-month, month, day-of-week, year. */
static bool cron_field(const char *f, int field)
{
	static const int lo[] = {0, 0, 1, 1, 1, 1970}, hi[] = {59, 23, 31, 12, 7, 2199};
	const char *const *names = field == 3 ? months : field == 4 ? days : NULL;
	if (!strcmp(f, "*"))
		return true;
	if (!strcmp(f, "?"))
		return field == 2 || field == 4;
	if ((field == 2 || field == 4) && !strcmp(f, "L"))
		return true;
	const char *p = f;
	while (*p) {
		const char *end = strchr(p, ',');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		if (n == 0)
			return false;
		char item[64];
		if (n >= sizeof item)
			return false;
		memcpy(item, p, n);
		item[n] = '\0';
		char *slash = strchr(item, '/');
		if (slash) {
			*slash = '\0';
			if (!all_digits(slash + 1, strlen(slash + 1)) || atoi(slash + 1) < 1)
				return false;
		}
		char *hash = field == 4 ? strchr(item, '#') : NULL;
		if (hash) {
			*hash = '\0';
			if (!all_digits(hash + 1, strlen(hash + 1)) || atoi(hash + 1) < 1 ||
			    atoi(hash + 1) > 5)
				return false;
		}
		size_t il = strlen(item);
		if (field == 2 && il >= 2 && item[il - 1] == 'W')
			item[--il] = '\0';
		if (field == 4 && il >= 2 && item[il - 1] == 'L')
			item[--il] = '\0';
		char *dash = strchr(item, '-');
		if (!strcmp(item, "*") && slash) {
			/* every Nth */
		} else if (dash) {
			if (!cron_value(item, (size_t)(dash - item), lo[field], hi[field], names) ||
			    !cron_value(dash + 1, strlen(dash + 1), lo[field], hi[field], names))
				return false;
		} else if (!cron_value(item, il, lo[field], hi[field], names))
			return false;
		p += n;
		if (*p == ',')
			p++;
	}
	return true;
}

static const char *const field_names[] = {"minutes", "hours", "day-of-month",
					  "month", "day-of-week", "year"};

static int parse_cron6(char **out, const char *body, const char *orig)
{
	char copy[256];
	if (strlen(body) >= sizeof copy)
		return synth_error_setf(SYNTH_EINVALID, "schedule '%s' is too long", orig);
	strcpy(copy, body);
	char *f[7] = {0}, *save = NULL;
	int n = 0;
	for (char *t = strtok_r(copy, " \t", &save); t; t = strtok_r(NULL, " \t", &save))
		if (n < 7)
			f[n++] = t;
		else
			n++;
	if (n != 6)
		return synth_error_setf(SYNTH_EINVALID,
					"schedule '%s': a cron expression has 6 fields "
					"(minutes hours day-of-month month day-of-week year), "
					"this one has %d", orig, n);
	for (int i = 0; i < 6; i++)
		if (!cron_field(f[i], i))
			return synth_error_setf(SYNTH_EINVALID,
						"schedule '%s': field %d (%s) '%s' is not valid",
						orig, i + 1, field_names[i], f[i]);
	bool dom_q = !strcmp(f[2], "?"), dow_q = !strcmp(f[4], "?");
	if (dom_q == dow_q)
		return synth_error_setf(SYNTH_EINVALID,
					"schedule '%s': exactly one of day-of-month and "
					"day-of-week must be '?'", orig);
	*out = synth_asprintf("cron(%s %s %s %s %s %s)", f[0], f[1], f[2], f[3], f[4], f[5]);
	return *out ? 0 : synth_error_oom();
}

/* Unix "m h dom mon dow" -> AWS 6 fields (day-of-week 0-6 -> 1-7). */
static int parse_unix_cron(char **out, char **f, const char *orig)
{
	synth_buf dow = SYNTH_BUF_INIT;
	for (const char *p = f[4]; *p; p++) {
		if (isdigit((unsigned char)*p) && !(p > f[4] && (p[-1] == '/' || p[-1] == '#'))) {
			int v = *p - '0';
			if (isdigit((unsigned char)p[1])) {
				synth_buf_free(&dow);
				return synth_error_setf(SYNTH_EINVALID,
							"schedule '%s': day-of-week '%s' is "
							"not 0-7", orig, f[4]);
			}
			synth_buf_putc(&dow, (char)('0' + (v % 7) + 1));
		} else
			synth_buf_putc(&dow, *p);
	}
	char *d = synth_buf_detach(&dow);
	if (!d)
		return synth_error_oom();
	bool dom_star = !strcmp(f[2], "*"), dow_star = !strcmp(d, "*");
	char *body = NULL;
	if (!dom_star && !dow_star) {
		free(d);
		return synth_error_setf(SYNTH_EINVALID,
					"schedule '%s': EventBridge cannot combine a "
					"day-of-month and a day-of-week", orig);
	}
	if (dow_star)
		body = synth_asprintf("%s %s %s %s ? *", f[0], f[1], f[2], f[3]);
	else
		body = synth_asprintf("%s %s ? %s %s *", f[0], f[1], f[3], d);
	free(d);
	if (!body)
		return synth_error_oom();
	int rc = parse_cron6(out, body, orig);
	free(body);
	return rc;
}

static int make_rate(char **out, long n, const char *unit, const char *orig)
{
	if (n < 1 || n > 1000000)
		return synth_error_setf(SYNTH_EINVALID,
					"schedule '%s': the interval must be a positive number",
					orig);
	*out = synth_asprintf("rate(%ld %s%s)", n, unit, n == 1 ? "" : "s");
	return *out ? 0 : synth_error_oom();
}

int synth_schedule_parse(char **out, const char *s)
{
	*out = NULL;
	if (!s || !*s)
		return synth_error_setf(SYNTH_EINVALID, "schedule is empty");
	size_t len = strlen(s);
	if (!strncmp(s, "rate(", 5) && s[len - 1] == ')') {
		char unit[32];
		long n;
		char extra;
		if (sscanf(s + 5, "%ld %31[a-z]%c", &n, unit, &extra) != 3 || extra != ')')
			return synth_error_setf(SYNTH_EINVALID,
						"schedule '%s': expected rate(N unit)", s);
		const char *units[] = {"minute", "hour", "day"};
		for (int i = 0; i < 3; i++) {
			size_t ul = strlen(units[i]);
			bool plural = strlen(unit) == ul + 1 && unit[ul] == 's';
			if (strncmp(unit, units[i], ul) || (strlen(unit) != ul && !plural))
				continue;
			if ((n == 1) == plural)
				return synth_error_setf(SYNTH_EINVALID,
							"schedule '%s': write rate(1 %s) or "
							"rate(N %ss)", s, units[i], units[i]);
			return make_rate(out, n, units[i], s);
		}
		return synth_error_setf(SYNTH_EINVALID,
					"schedule '%s': the unit must be minutes, hours or days",
					s);
	}
	if (!strncmp(s, "cron(", 5) && s[len - 1] == ')') {
		char *body = strndup(s + 5, len - 6);
		if (!body)
			return synth_error_oom();
		int rc = parse_cron6(out, body, s);
		free(body);
		return rc;
	}
	if (!strncmp(s, "every ", 6)) {
		const char *p = s + 6;
		static const struct { const char *word, *expr; } words[] = {
			{"minute", "rate(1 minute)"}, {"hour", "rate(1 hour)"},
			{"day", "rate(1 day)"},       {"week", "rate(7 days)"},
			{"month", "cron(0 0 1 * ? *)"}, {"year", "cron(0 0 1 1 ? *)"},
		};
		for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
			if (!strcmp(p, words[i].word)) {
				*out = strdup(words[i].expr);
				return *out ? 0 : synth_error_oom();
			}
		char *end;
		long n = strtol(p, &end, 10);
		if (end != p) {
			while (*end == ' ')
				end++;
			if (!strcmp(end, "m") || !strcmp(end, "minute") || !strcmp(end, "minutes"))
				return make_rate(out, n, "minute", s);
			if (!strcmp(end, "h") || !strcmp(end, "hour") || !strcmp(end, "hours"))
				return make_rate(out, n, "hour", s);
			if (!strcmp(end, "d") || !strcmp(end, "day") || !strcmp(end, "days"))
				return make_rate(out, n, "day", s);
			if (!strcmp(end, "w") || !strcmp(end, "week") || !strcmp(end, "weeks"))
				return make_rate(out, n * 7, "day", s);
		}
		return synth_error_setf(SYNTH_EINVALID,
					"schedule '%s' does not parse: try 'every day', "
					"'every 5m', 'every 2h', rate(...) or cron(...)", s);
	}
	/* Unix-style 5-field cron. */
	char copy[256];
	if (len < sizeof copy) {
		strcpy(copy, s);
		char *f[6] = {0}, *save = NULL;
		int n = 0;
		for (char *t = strtok_r(copy, " \t", &save); t && n < 6;
		     t = strtok_r(NULL, " \t", &save))
			f[n++] = t;
		if (n == 5)
			return parse_unix_cron(out, f, s);
	}
	return synth_error_setf(SYNTH_EINVALID,
				"schedule '%s' does not parse: use 'every day', 'every 5m', "
				"rate(N unit), cron(m h dom mon dow year) or a 5-field Unix cron",
				s);
}

/* --- the schedule as an event source ----------------------------------- */

/* An EventBridge rule that invokes the function, and the permission that
 * lets EventBridge do so from that rule only. */
static int schedule_bind(synth_function *fn, void *data)
{
	const char *expr = data;
	synth_construct *scope = synth_function_construct(fn);
	char *p_rule = synth_asprintf("%s/Schedule", synth_construct_name(scope));
	if (!p_rule)
		return synth_error_oom();
	int rc = synth_resource_new(
		NULL, scope, "Schedule", "AWS::Events::Rule",
		json_pack("{s:s,s:s,s:[{s:o,s:s}]}", "ScheduleExpression", expr, "State",
			  "ENABLED", "Targets", "Arn", synth_function_arn(fn), "Id", "Target0"));
	if (rc == 0)
		rc = synth_resource_new(
			NULL, scope, "SchedulePermission", "AWS::Lambda::Permission",
			json_pack("{s:s,s:o,s:s,s:o}", "Action", "lambda:InvokeFunction",
				  "FunctionName", synth_function_arn(fn), "Principal",
				  "events.amazonaws.com", "SourceArn", synth_getatt(p_rule, "Arn")));
	free(p_rule);
	return rc;
}

static const synth_event_source schedule_source = {
	SYNTH_EVENT_SOURCE_VERSION, "schedule", schedule_bind, free};

int synth_function_add_schedule(synth_function *fn, const char *schedule)
{
	SYNTH_CHECK_HANDLE(fn);
	synth_construct *c = synth_function_construct(fn);
	char *expr = NULL;
	if (synth_schedule_parse(&expr, schedule) < 0)
		return synth_construct_failf(c, synth_error_last()->code, "%s",
					     synth_error_last()->message);
	return synth_function_add_event_source(fn, &schedule_source, expr);
}

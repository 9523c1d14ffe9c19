/*
 * The deployer's small helpers, the deploy context and the CloudFormation
 * Query calls every step makes (see deploy_internal.h).
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "deploy_internal.h"

const char *synth__deploy_cfn_str(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

/* The array of a Query-protocol list ({"member": [...]}) under KEY of
 * PARENT; borrowed. NULL when the list is empty or absent. */
json_t *synth__deploy_cfn_members(json_t *parent, const char *key)
{
	json_t *m = json_object_get(json_object_get(parent, key), "member");
	return json_is_array(m) ? m : NULL;
}

bool synth__deploy_cfn_ends_with(const char *s, const char *suffix)
{
	size_t n = s ? strlen(s) : 0, k = strlen(suffix);
	return n >= k && !strcmp(s + n - k, suffix);
}

/* A stack status that means an operation is running. REVIEW_IN_PROGRESS
 * (a stack created by a change set never executed) is at rest. */
bool synth__deploy_cfn_in_progress(const char *status)
{
	return synth__deploy_cfn_ends_with(status, "_IN_PROGRESS") &&
	       strcmp(status, "REVIEW_IN_PROGRESS");
}

bool synth__deploy_cfn_failed_state(const char *status)
{
	return synth__deploy_cfn_ends_with(status, "_FAILED") ||
	       synth__deploy_cfn_ends_with(status, "ROLLBACK_COMPLETE");
}

/* ISO 8601 UTC ("2024-05-01T12:00:00.123Z") to seconds; 0 if unreadable. */
double synth__deploy_cfn_iso_time(const char *s)
{
	struct tm tm = {0};
	double sec = 0;
	if (!s || sscanf(s, "%d-%d-%dT%d:%d:%lf", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
			 &tm.tm_hour, &tm.tm_min, &sec) != 6)
		return 0;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	tm.tm_sec = 0;
	return (double)timegm(&tm) + sec;
}

/* The next poll interval: 1.5 times the last, capped. */
int synth__deploy_cfn_backoff(int interval, int cap)
{
	int n = interval + interval / 2 + 1;
	return n > cap ? cap : n;
}

bool synth__deploy_cfn_stopped(const synth_deploy_options *o)
{
	return o->interrupted && *o->interrupted;
}

/* Sleeps MS milliseconds in slices, returning early when interrupted. */
void synth__deploy_cfn_nap(const synth_deploy_options *o, int ms)
{
	while (ms > 0 && !synth__deploy_cfn_stopped(o)) {
		int step = ms < 50 ? ms : 50;
		struct timespec ts = {0, (long)step * 1000000L};
		nanosleep(&ts, NULL);
		ms -= step;
	}
}

void synth__deploy_cfn_add(plist *p, const char *name, const char *value)
{
	if (p->oom)
		return;
	if (synth_array_grow((void **)&p->v, &p->n, &p->cap, sizeof *p->v) < 0) {
		p->oom = true;
		return;
	}
	char *n = strdup(name), *val = strdup(value ? value : "");
	if (!n || !val) {
		free(n);
		free(val);
		p->oom = true;
		return;
	}
	p->v[p->n].name = n;
	p->v[p->n].value = val;
	p->n++;
}

void synth__deploy_cfn_addf(plist *p, const char *value, const char *fmt, ...)
{
	char name[128];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(name, sizeof name, fmt, ap);
	va_end(ap);
	synth__deploy_cfn_add(p, name, value);
}

void synth__deploy_cfn_params_free(plist *p)
{
	for (size_t i = 0; i < p->n; i++) {
		free((char *)p->v[i].name);
		free((char *)p->v[i].value);
	}
	free(p->v);
	memset(p, 0, sizeof *p);
}

/* A CloudFormation Query call with the parameters of P. *out: caller
 * decrefs. */
int synth__deploy_cfn_call(synth_aws *a, const char *action, plist *p, json_t **out)
{
	*out = NULL;
	if (p && p->oom)
		return synth_error_oom();
	return synth_aws_query(a, "cloudformation", action, p ? p->v : NULL, p ? p->n : 0, out);
}

/* A random hex token (for ClientToken / ClientRequestToken). */
void synth__deploy_cfn_token(char out[33])
{
	unsigned char r[16] = {0};
	FILE *f = fopen("/dev/urandom", "rb");
	size_t got = f ? fread(r, 1, sizeof r, f) : 0;
	if (f)
		fclose(f);
	if (got != sizeof r) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		unsigned long long x = (unsigned long long)ts.tv_nsec ^
				       ((unsigned long long)ts.tv_sec << 20) ^
				       (unsigned long long)getpid() << 40;
		for (size_t i = 0; i < sizeof r;
		     i++, x = x * 6364136223846793005ULL + 1442695040888963407ULL)
			r[i] = (unsigned char)(x >> 33);
	}
	synth__hex(r, sizeof r, out);
}

void synth__deploy_cfn_set_str(char **slot, const char *v)
{
	free(*slot);
	*slot = v ? strdup(v) : NULL;
}

void synth__deploy_cfn_init(dctx *d, synth_aws *a, const synth_deploy_options *o,
			    synth_deploy_result *res)
{
	memset(d, 0, sizeof *d);
	d->a = a;
	d->o = o;
	d->res = res;
	d->log = o->log ? o->log : stderr;
	d->poll_ms = o->poll_ms > 0 ? o->poll_ms : 250;
	d->poll_max_ms = o->poll_max_ms > 0 ? o->poll_max_ms : 5000;
	if (d->poll_max_ms < d->poll_ms)
		d->poll_max_ms = d->poll_ms;
}

void synth__deploy_cfn_say(dctx *d, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vfprintf(d->log, fmt, ap);
	va_end(ap);
	fputc('\n', d->log);
	fflush(d->log);
}

/* DescribeStacks of NAME (a name or an id): *stack (caller decrefs) or
 * NULL when it does not exist. */
int synth__deploy_cfn_describe(dctx *d, const char *name, json_t **stack)
{
	*stack = NULL;
	plist p = {0};
	synth__deploy_cfn_add(&p, "StackName", name);
	json_t *r = NULL;
	int rc = synth__deploy_cfn_call(d->a, "DescribeStacks", &p, &r);
	synth__deploy_cfn_params_free(&p);
	if (rc < 0) {
		if (strstr(synth_error_last()->message, "does not exist")) {
			synth_error_clear();
			return 0;
		}
		return rc;
	}
	json_t *s = json_array_get(synth__deploy_cfn_members(r, "Stacks"), 0);
	const char *st = synth__deploy_cfn_str(s, "StackStatus");
	/* By id, a deleted stack is still described. */
	if (s && !(st && !strcmp(st, "DELETE_COMPLETE") && strncmp(name, "arn:", 4)))
		*stack = json_incref(s);
	json_decref(r);
	return 0;
}

int synth__deploy_cfn_template(synth_aws *a, const char *stack, json_t **out)
{
	plist p = {0};
	synth__deploy_cfn_add(&p, "StackName", stack);
	synth__deploy_cfn_add(&p, "TemplateStage", "Original");
	*out = NULL;
	int rc = synth__deploy_cfn_call(a, "GetTemplate", &p, out);
	synth__deploy_cfn_params_free(&p);
	return rc;
}

void synth__deploy_cfn_note(dctx *d, json_t *stack)
{
	if (synth__deploy_cfn_str(stack, "StackId"))
		synth__deploy_cfn_set_str(&d->res->stack_id,
					  synth__deploy_cfn_str(stack, "StackId"));
	if (synth__deploy_cfn_str(stack, "StackStatus"))
		synth__deploy_cfn_set_str(&d->res->stack_status,
					  synth__deploy_cfn_str(stack, "StackStatus"));
}

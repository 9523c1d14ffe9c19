/*
 * The watcher (deploy steps 7 and 8): events of the root and nested
 * stacks, the live line or one line per event, the wait with its
 * backoff, and the root cause of a failure.
 */
#define _GNU_SOURCE
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "deploy_internal.h"

#define EVENT_PAGES_MAX 50

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int watcher_add(watcher *w, const char *id, const char *name, bool nested)
{
	for (size_t i = 0; i < w->n; i++)
		if (!strcmp(w->v[i].id, id))
			return 0;
	if (synth_array_grow((void **)&w->v, &w->n, &w->cap, sizeof *w->v) < 0)
		return SYNTH_ENOMEM;
	followed *f = &w->v[w->n];
	memset(f, 0, sizeof *f);
	f->id = strdup(id);
	f->name = strdup(name);
	f->nested = nested;
	if (!f->id || !f->name) {
		free(f->id);
		free(f->name);
		return synth_error_oom();
	}
	w->n++;
	return 0;
}

void synth__deploy_events_free(watcher *w)
{
	for (size_t i = 0; i < w->n; i++) {
		free(w->v[i].id);
		free(w->v[i].name);
		synth__map_free(&w->v[i].seen);
	}
	free(w->v);
	json_decref(w->events);
	json_decref(w->state);
	memset(w, 0, sizeof *w);
}

int synth__deploy_events_init(watcher *w, dctx *d, const char *root_id, const char *root_name,
			      size_t total)
{
	memset(w, 0, sizeof *w);
	w->d = d;
	w->total = total;
	w->started = now_s();
	w->events = json_array();
	w->state = json_object();
	if (!w->events || !w->state)
		return synth_error_oom();
	return watcher_add(w, root_id, root_name, false);
}

/* Marks the root stack's current events as seen: what follows is new. */
int synth__deploy_events_prime(watcher *w)
{
	plist p = {0};
	synth__deploy_cfn_add(&p, "StackName", w->v[0].id);
	json_t *r = NULL;
	int rc = synth__deploy_cfn_call(w->d->a, "DescribeStackEvents", &p, &r);
	synth__deploy_cfn_params_free(&p);
	json_t *ev;
	size_t i;
	json_array_foreach(synth__deploy_cfn_members(r, "StackEvents"), i, ev) {
		const char *id = synth__deploy_cfn_str(ev, "EventId");
		if (id && synth__map_put(&w->v[0].seen, id, (void *)1) < 0)
			rc = synth_error_oom();
	}
	json_decref(r);
	if (rc < 0 && strstr(synth_error_last()->message, "does not exist")) {
		synth_error_clear();
		rc = 0;
	}
	return rc;
}

static void clear_line(watcher *w)
{
	if (w->line_shown) {
		fputs("\r\033[K", w->d->log);
		w->line_shown = false;
	}
}

static void live_line(watcher *w)
{
	size_t done = 0, total = 0;
	synth_buf prog = SYNTH_BUF_INIT;
	size_t shown = 0, more = 0;
	const char *k;
	json_t *v;
	json_object_foreach(w->state, k, v) {
		const char *s = json_string_value(v);
		total++;
		if (synth__deploy_cfn_in_progress(s)) {
			const char *lid = strchr(k, '\t');
			if (shown < 3)
				synth_buf_printf(&prog, "%s%s", shown ? ", " : "",
						 lid ? lid + 1 : k);
			else
				more++;
			shown++;
		} else if (synth__deploy_cfn_ends_with(s, "_COMPLETE") ||
			   synth__deploy_cfn_ends_with(s, "_SKIPPED")) {
			done++;
		}
	}
	if (!w->deleting && w->total > total)
		total = w->total;
	if (more)
		synth_buf_printf(&prog, " and %zu more", more);
	char *pt = synth_buf_detach(&prog);
	fprintf(w->d->log, "\r\033[K  %zu/%zu resources  %.0fs%s%s", done, total,
		now_s() - w->started, pt && *pt ? "  in progress: " : "", pt ? pt : "");
	fflush(w->d->log);
	free(pt);
	w->line_shown = true;
}

static void print_event(watcher *w, json_t *ev)
{
	const synth_deploy_options *o = w->d->o;
	const char *status = synth__deploy_cfn_str(ev, "ResourceStatus");
	const char *reason = synth__deploy_cfn_str(ev, "ResourceStatusReason");
	bool failed = synth__deploy_cfn_ends_with(status, "_FAILED");
	if (o->quiet && !failed)
		return;
	if (o->tty && !failed)
		return; /* the live line shows it */
	clear_line(w);
	const char *ts = synth__deploy_cfn_str(ev, "Timestamp");
	const char *t = ts && strlen(ts) >= 19 ? ts + 11 : "";
	fprintf(w->d->log, "  %.8s  %-28s %s (%s)%s%s%s%s\n", t, status ? status : "?",
		synth__deploy_cfn_str(ev, "LogicalResourceId")
			? synth__deploy_cfn_str(ev, "LogicalResourceId")
			: "?",
		synth__deploy_cfn_str(ev, "ResourceType")
			? synth__deploy_cfn_str(ev, "ResourceType")
			: "?",
		strchr(synth__deploy_cfn_str(ev, "StackName"), '/') ? " in " : "",
		strchr(synth__deploy_cfn_str(ev, "StackName"), '/')
			? synth__deploy_cfn_str(ev, "StackName")
			: "",
		reason && *reason ? ": " : "", reason && *reason ? reason : "");
	fflush(w->d->log);
}

/* New events of stack F, oldest first, appended to w->events. */
static int poll_stack_events(watcher *w, size_t fi, size_t *nnew)
{
	json_t *fresh = json_array();
	char *token = NULL;
	int rc = fresh ? 0 : synth_error_oom();
	for (int page = 0; rc == 0 && page < EVENT_PAGES_MAX; page++) {
		plist p = {0};
		synth__deploy_cfn_add(&p, "StackName", w->v[fi].id);
		if (token)
			synth__deploy_cfn_add(&p, "NextToken", token);
		json_t *r = NULL;
		rc = synth__deploy_cfn_call(w->d->a, "DescribeStackEvents", &p, &r);
		synth__deploy_cfn_params_free(&p);
		bool stop = false;
		json_t *ev;
		size_t i;
		json_array_foreach(synth__deploy_cfn_members(r, "StackEvents"), i, ev) {
			const char *id = synth__deploy_cfn_str(ev, "EventId");
			if (!id || synth__map_get(&w->v[fi].seen, id) ||
			    (w->t0 > 0 && synth__deploy_cfn_iso_time(synth__deploy_cfn_str(
						  ev, "Timestamp")) < w->t0)) {
				stop = true;
				break;
			}
			json_array_append(fresh, ev);
		}
		free(token);
		token = !stop && synth__deploy_cfn_str(r, "NextToken")
				? strdup(synth__deploy_cfn_str(r, "NextToken"))
				: NULL;
		json_decref(r);
		if (!token)
			break;
	}
	free(token);
	/* Oldest first. */
	for (size_t k = json_array_size(fresh); rc == 0 && k-- > 0;) {
		json_t *ev = json_deep_copy(json_array_get(fresh, k));
		const char *id = synth__deploy_cfn_str(ev, "EventId");
		if (!ev || synth__map_put(&w->v[fi].seen, id, (void *)1) < 0) {
			json_decref(ev);
			rc = synth_error_oom();
			break;
		}
		json_object_set_new(ev, "StackName", json_string(w->v[fi].name));
		double t = synth__deploy_cfn_iso_time(synth__deploy_cfn_str(ev, "Timestamp"));
		if (fi == 0 && (w->t0 == 0 || (t > 0 && t < w->t0)))
			w->t0 = t;
		const char *lid = synth__deploy_cfn_str(ev, "LogicalResourceId");
		const char *phys = synth__deploy_cfn_str(ev, "PhysicalResourceId");
		bool self = phys && !strcmp(phys, w->v[fi].id);
		/* A nested stack to follow. */
		if (!self && synth__deploy_cfn_str(ev, "ResourceType") &&
		    !strcmp(synth__deploy_cfn_str(ev, "ResourceType"),
			    "AWS::CloudFormation::Stack") &&
		    phys && !strncmp(phys, "arn:", 4)) {
			char *nn = synth_asprintf("%s/%s", w->v[fi].name, lid ? lid : "?");
			rc = nn ? watcher_add(w, phys, nn, true) : synth_error_oom();
			free(nn);
		}
		if (!self && lid) {
			char *key = synth_asprintf("%s\t%s", w->v[fi].name, lid);
			if (key)
				json_object_set_new(
					w->state, key,
					json_string(synth__deploy_cfn_str(ev, "ResourceStatus")
							    ? synth__deploy_cfn_str(
								      ev, "ResourceStatus")
							    : ""));
			free(key);
		}
		print_event(w, ev);
		json_array_append_new(w->events, ev);
		(*nnew)++;
	}
	json_decref(fresh);
	return rc;
}

static int poll_events(watcher *w, size_t *nnew)
{
	int rc = 0;
	*nnew = 0;
	/* w->n grows as nested stacks appear: they are polled in the same round. */
	for (size_t i = 0; rc == 0 && i < w->n; i++) {
		rc = poll_stack_events(w, i, nnew);
		if (rc < 0 && i > 0 && strstr(synth_error_last()->message, "does not exist")) {
			synth_error_clear(); /* a nested stack already deleted */
			rc = 0;
		}
	}
	return rc;
}

/* Waits until the root stack is at rest: *final (caller decrefs) is its
 * last DescribeStacks entry, NULL if it is gone (deleted, by name). */
static int watcher_wait(watcher *w, json_t **final, bool *interrupted)
{
	dctx *d = w->d;
	int interval = d->poll_ms;
	*final = NULL;
	*interrupted = false;
	for (;;) {
		json_t *s = NULL;
		int rc = synth__deploy_cfn_describe(d, w->v[0].id, &s);
		size_t nnew = 0;
		if (rc == 0)
			rc = poll_events(w, &nnew);
		if (rc < 0) {
			json_decref(s);
			clear_line(w);
			return rc;
		}
		const char *st = synth__deploy_cfn_str(s, "StackStatus");
		if (!s || !synth__deploy_cfn_in_progress(st)) {
			clear_line(w);
			*final = s;
			return 0;
		}
		json_decref(s);
		if (d->o->tty && !d->o->quiet)
			live_line(w);
		if (synth__deploy_cfn_stopped(d->o)) {
			clear_line(w);
			*interrupted = true;
			return 0;
		}
		synth__deploy_cfn_nap(d->o, interval);
		if (synth__deploy_cfn_stopped(d->o)) {
			clear_line(w);
			*interrupted = true;
			return 0;
		}
		interval = nnew ? d->poll_ms : synth__deploy_cfn_backoff(interval, d->poll_max_ms);
	}
}

static bool consequential(const char *reason)
{
	static const char *const phrases[] = {
		"Resource creation cancelled", "Resource update cancelled",
		"Resource deletion cancelled", "The following resource(s) failed",
		"Embedded stack", "ollback requested", "was not successfully",
		NULL};
	if (!reason || !*reason)
		return true; /* no reason: nothing to show as a cause */
	for (size_t i = 0; phrases[i]; i++)
		if (strstr(reason, phrases[i]))
			return true;
	return false;
}

/* The event that is the root cause (borrowed), or NULL: the first
 * failure with a reason of its own, else the first failure. */
static json_t *root_cause_event(json_t *events)
{
	json_t *best = NULL, *any = NULL;
	double bt = 0, at = 0;
	size_t bi = 0, ai = 0, i;
	json_t *ev;
	json_array_foreach(events, i, ev) {
		const char *st = synth__deploy_cfn_str(ev, "ResourceStatus");
		if (!synth__deploy_cfn_ends_with(st, "_FAILED"))
			continue;
		double t = synth__deploy_cfn_iso_time(synth__deploy_cfn_str(ev, "Timestamp"));
		const char *type = synth__deploy_cfn_str(ev, "ResourceType");
		bool stack_res = type && !strcmp(type, "AWS::CloudFormation::Stack");
		if (!any || t < at || (t == at && i < ai))
			any = ev, at = t, ai = i;
		if (stack_res || consequential(synth__deploy_cfn_str(ev, "ResourceStatusReason")))
			continue;
		if (!best || t < bt || (t == bt && i < bi))
			best = ev, bt = t, bi = i;
	}
	return best ? best : any;
}

/* The construct path (SYNTH_MD_PATH metadata) of logical id LID in any
 * template of the assembly in DIR; caller frees; NULL if not found. */
static char *construct_path(const char *dir, const char *lid)
{
	char *pat = dir && lid ? synth_asprintf("%s/*.template.json", dir) : NULL;
	glob_t g;
	char *found = NULL;
	if (pat && glob(pat, 0, NULL, &g) == 0) {
		for (size_t k = 0; !found && k < g.gl_pathc; k++) {
			json_t *t = json_load_file(g.gl_pathv[k], 0, NULL);
			json_t *r = json_object_get(json_object_get(t, "Resources"), lid);
			const char *p = json_string_value(
				json_object_get(json_object_get(r, "Metadata"), SYNTH_MD_PATH));
			found = p ? synth_strdup(p) : NULL;
			json_decref(t);
		}
		globfree(&g);
	}
	free(pat);
	return found;
}

char *synth__deploy_root_cause_in(json_t *events, const char *assembly_dir)
{
	json_t *e = root_cause_event(events);
	if (!e)
		return NULL;
	const char *reason = synth__deploy_cfn_str(e, "ResourceStatusReason");
	const char *lid = synth__deploy_cfn_str(e, "LogicalResourceId");
	char *path = construct_path(assembly_dir, lid);
	char *out = synth_asprintf(
		"%s (%s%s%s) in stack %s: %s", lid ? lid : "?",
		synth__deploy_cfn_str(e, "ResourceType") ? synth__deploy_cfn_str(e, "ResourceType")
							 : "?",
		path ? ", construct " : "", path ? path : "",
		synth__deploy_cfn_str(e, "StackName") ? synth__deploy_cfn_str(e, "StackName") : "?",
		reason && *reason ? reason : synth__deploy_cfn_str(e, "ResourceStatus"));
	free(path);
	return out;
}

char *synth__deploy_root_cause(json_t *events)
{
	return synth__deploy_root_cause_in(events, NULL);
}

/* Sets res->root_cause from the watcher's events, or the stack's reason. */
static void set_root_cause(dctx *d, watcher *w, json_t *stack)
{
	char *rc = synth__deploy_root_cause_in(w->events, d->o->assembly_dir);
	if (!rc) {
		const char *why = synth__deploy_cfn_str(stack, "StackStatusReason");
		rc = synth_asprintf("stack %s is %s%s%s", d->res->stack_name,
				    synth__deploy_cfn_str(stack, "StackStatus")
					    ? synth__deploy_cfn_str(stack, "StackStatus")
					    : "gone",
				    why && *why ? ": " : "", why && *why ? why : "");
	}
	free(d->res->root_cause);
	d->res->root_cause = rc;
}

/* Follows the root stack ID's current operation to its end and records
 * the outcome in d->res. SETTLED / FAILED / INTERRUPTED / DELETED. Prime
 * tells whether the stack's events so far are old (true) or part of the
 * operation (the wait started after it began, e.g. ExecuteChangeSet). */
int synth__deploy_events_follow(dctx *d, watcher *w, json_t **final_out)
{
	json_t *final = NULL;
	bool intr = false;
	int rc = watcher_wait(w, &final, &intr);
	if (rc < 0)
		return rc;
	if (intr) {
		d->res->status = SYNTH_DEPLOY_INTERRUPTED;
		synth__deploy_cfn_say(
			d, "stopped watching: stack %s goes on in CloudFormation%s%s%s",
			d->res->stack_name, d->o->resume_hint ? "; resume watching with `" : "",
			d->o->resume_hint ? d->o->resume_hint : "", d->o->resume_hint ? "`" : "");
		json_decref(final);
		return 0;
	}
	if (final)
		synth__deploy_cfn_note(d, final);
	const char *st = synth__deploy_cfn_str(final, "StackStatus");
	if (!final || (st && !strcmp(st, "DELETE_COMPLETE"))) {
		synth__deploy_cfn_set_str(&d->res->stack_status, "DELETE_COMPLETE");
		d->res->status = SYNTH_DEPLOY_DELETED;
	} else if (synth__deploy_cfn_failed_state(st)) {
		d->res->status = SYNTH_DEPLOY_FAILED;
		set_root_cause(d, w, final);
	} else {
		d->res->status = SYNTH_DEPLOY_SETTLED;
	}
	if (final_out)
		*final_out = final;
	else
		json_decref(final);
	return 0;
}

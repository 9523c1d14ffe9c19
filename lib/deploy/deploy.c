/*
 * The deployer: a cloud assembly to a CloudFormation stack (see deploy.h
 * for the steps and the reasoning behind the no-change check).
 *
 * Layout of this file: small helpers; the assembly (manifest, templates,
 * asset manifest, limits, secrets); CloudFormation calls; the watcher
 * (events of the root and nested stacks, the live line, the root cause);
 * change sets; deploy; destroy / watch / continue-rollback; outputs; diff.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <glob.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "deploy.h"
#include "../aws/publish.h"
#include "../aws/ssm.h"
#include "clientconfig.h"

#define ASSET_BUCKET_FMT "cdk-hnb659fds-assets-%s-%s"
#define EVENT_PAGES_MAX 50
#define CHANGESET_PAGES_MAX 50

/* --- small helpers -------------------------------------------------------- */

static const char *jstr(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

/* The array of a Query-protocol list ({"member": [...]}) under KEY of
 * PARENT; borrowed. NULL when the list is empty or absent. */
static json_t *members(json_t *parent, const char *key)
{
	json_t *m = json_object_get(json_object_get(parent, key), "member");
	return json_is_array(m) ? m : NULL;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = s ? strlen(s) : 0, k = strlen(suffix);
	return n >= k && !strcmp(s + n - k, suffix);
}

/* A stack status that means an operation is running. REVIEW_IN_PROGRESS
 * (a stack created by a change set never executed) is at rest. */
static bool in_progress(const char *status)
{
	return ends_with(status, "_IN_PROGRESS") && strcmp(status, "REVIEW_IN_PROGRESS");
}

static bool failed_state(const char *status)
{
	return ends_with(status, "_FAILED") || ends_with(status, "ROLLBACK_COMPLETE");
}

/* ISO 8601 UTC ("2024-05-01T12:00:00.123Z") to seconds; 0 if unreadable. */
static double iso_time(const char *s)
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

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The next poll interval: 1.5 times the last, capped. */
static int grow(int interval, int cap)
{
	int n = interval + interval / 2 + 1;
	return n > cap ? cap : n;
}

static bool stopped(const synth_deploy_options *o)
{
	return o->interrupted && *o->interrupted;
}

/* Sleeps MS milliseconds in slices, returning early when interrupted. */
static void nap(const synth_deploy_options *o, int ms)
{
	while (ms > 0 && !stopped(o)) {
		int step = ms < 50 ? ms : 50;
		struct timespec ts = {0, (long)step * 1000000L};
		nanosleep(&ts, NULL);
		ms -= step;
	}
}

/* A growable list of Query parameters whose strings it owns. */
typedef struct plist {
	synth_sigv4_pair *v;
	size_t n, cap;
	bool oom;
} plist;

static void padd(plist *p, const char *name, const char *value)
{
	if (p->oom)
		return;
	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 16;
		synth_sigv4_pair *v = realloc(p->v, cap * sizeof *v);
		if (!v) {
			p->oom = true;
			return;
		}
		p->v = v;
		p->cap = cap;
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

static void paddf(plist *p, const char *value, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void paddf(plist *p, const char *value, const char *fmt, ...)
{
	char name[128];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(name, sizeof name, fmt, ap);
	va_end(ap);
	padd(p, name, value);
}

static void pfree(plist *p)
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
static int cfn(synth_aws *a, const char *action, plist *p, json_t **out)
{
	*out = NULL;
	if (p && p->oom)
		return synth_error_oom();
	return synth_aws_query(a, "cloudformation", action, p ? p->v : NULL, p ? p->n : 0, out);
}

/* A random hex token (for ClientToken / ClientRequestToken). */
static void random_token(char out[33])
{
	unsigned char r[16] = {0};
	FILE *f = fopen("/dev/urandom", "rb");
	size_t got = f ? fread(r, 1, sizeof r, f) : 0;
	if (f)
		fclose(f);
	if (got != sizeof r) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		unsigned long long x = (unsigned long long)ts.tv_nsec ^ ((unsigned long long)ts.tv_sec << 20) ^
				       (unsigned long long)getpid() << 40;
		for (size_t i = 0; i < sizeof r; i++, x = x * 6364136223846793005ULL + 1442695040888963407ULL)
			r[i] = (unsigned char)(x >> 33);
	}
	synth__hex(r, sizeof r, out);
}

void synth_deploy_result_clear(synth_deploy_result *res)
{
	if (!res)
		return;
	free(res->stack_name);
	free(res->stack_id);
	free(res->stack_status);
	free(res->root_cause);
	json_decref(res->missing_secrets);
	memset(res, 0, sizeof *res);
}

static void set_str(char **slot, const char *v)
{
	free(*slot);
	*slot = v ? strdup(v) : NULL;
}

/* --- the assembly ----------------------------------------------------------- */

typedef struct assembly {
	char *dir;
	char *stack_name;
	char *template_path;  /* DIR/templateFile */
	char *template_text;  /* the root template as written */
	size_t template_len;
	json_t *template;     /* parsed */
	json_t *tags;         /* the manifest's stack tags: object */
	json_t *files;        /* the asset manifest's "files" (null when none) */
	char *template_key;   /* the root template's objectKey in the asset bucket, or NULL */
} assembly;

static void assembly_free(assembly *as)
{
	free(as->dir);
	free(as->stack_name);
	free(as->template_path);
	free(as->template_text);
	json_decref(as->template);
	json_decref(as->tags);
	json_decref(as->files);
	free(as->template_key);
	memset(as, 0, sizeof *as);
}

static json_t *load_json(const char *path)
{
	json_error_t e;
	json_t *j = json_load_file(path, 0, &e);
	if (!j)
		synth_error_setf(errno == ENOENT && e.line < 1 ? SYNTH_ENOTFOUND : SYNTH_EINVALID,
				 "%s:%d:%d: %s", path, e.line, e.column, e.text);
	return j;
}

/* The asset in FILES whose destination object key is KEY; borrowed. */
static json_t *asset_by_key(json_t *files, const char *key, const char **bucket)
{
	const char *id;
	json_t *f;
	json_object_foreach(files, id, f) {
		const char *dk;
		json_t *dst;
		json_object_foreach(json_object_get(f, "destinations"), dk, dst) {
			const char *k = jstr(dst, "objectKey");
			if (k && !strcmp(k, key)) {
				if (bucket)
					*bucket = jstr(dst, "bucketName");
				return f;
			}
		}
	}
	return NULL;
}

/* Reads the manifest in DIR: the one stack (or the one named STACK), its
 * template, tags and asset manifest. */
static int assembly_load(assembly *as, const char *dir, const char *stack)
{
	memset(as, 0, sizeof *as);
	char *mpath = synth_asprintf("%s/manifest.json", dir);
	json_t *man = mpath ? load_json(mpath) : NULL;
	int rc = 0;
	if (!mpath)
		rc = synth_error_oom();
	else if (!man)
		rc = synth_error_setf(SYNTH_ENOTFOUND, "%s: no cloud assembly here (%s)", dir,
				      synth_error_last()->message);
	json_t *art = NULL, *assets_art = NULL;
	const char *aid = NULL;
	if (rc == 0) {
		const char *id;
		json_t *v;
		size_t nstacks = 0;
		json_object_foreach(json_object_get(man, "artifacts"), id, v) {
			const char *type = jstr(v, "type");
			if (type && !strcmp(type, "aws:cloudformation:stack")) {
				const char *sn = jstr(json_object_get(v, "properties"), "stackName");
				if (!sn)
					sn = id;
				if (!stack || !strcmp(stack, sn)) {
					art = v;
					aid = id;
					nstacks++;
				}
			}
		}
		if (nstacks != 1)
			rc = synth_error_setf(nstacks ? SYNTH_EINVALID : SYNTH_ENOTFOUND,
					      "%s: %s", mpath,
					      nstacks ? "more than one stack: name the one to deploy"
					      : stack ? "no such stack in the assembly"
						      : "no stack in the assembly");
	}
	json_t *props = json_object_get(art, "properties");
	if (rc == 0) {
		const char *sn = jstr(props, "stackName");
		const char *tf = jstr(props, "templateFile");
		as->dir = strdup(dir);
		as->stack_name = strdup(sn ? sn : aid);
		as->template_path = tf ? synth_asprintf("%s/%s", dir, tf) : NULL;
		as->tags = json_deep_copy(json_object_get(props, "tags"));
		if (!as->tags)
			as->tags = json_object();
		if (!tf)
			rc = synth_error_setf(SYNTH_EINVALID, "%s: stack %s has no templateFile", mpath,
					      as->stack_name);
		else if (!as->dir || !as->stack_name || !as->template_path || !as->tags)
			rc = synth_error_oom();
	}
	if (rc == 0)
		rc = synth_file_read(as->template_path, &as->template_text, &as->template_len);
	if (rc == 0) {
		json_error_t e;
		as->template = json_loadb(as->template_text, as->template_len, 0, &e);
		if (!as->template)
			rc = synth_error_setf(SYNTH_EINVALID, "%s:%d:%d: %s", as->template_path,
					      e.line, e.column, e.text);
	}
	/* The asset manifest: the dependency of type cdk:asset-manifest. */
	json_t *dep;
	size_t i;
	json_array_foreach(rc == 0 ? json_object_get(art, "dependencies") : NULL, i, dep) {
		json_t *d = json_object_get(json_object_get(man, "artifacts"), json_string_value(dep));
		const char *t = jstr(d, "type");
		if (t && !strcmp(t, "cdk:asset-manifest"))
			assets_art = d;
	}
	if (rc == 0 && assets_art) {
		const char *file = jstr(json_object_get(assets_art, "properties"), "file");
		char *apath = file ? synth_asprintf("%s/%s", dir, file) : NULL;
		json_t *am = apath ? load_json(apath) : NULL;
		if (!am)
			rc = file ? (apath ? synth_error_last()->code : synth_error_oom())
				  : synth_error_setf(SYNTH_EINVALID, "%s: the asset manifest has no file",
						     mpath);
		as->files = json_incref(json_object_get(am, "files"));
		json_decref(am);
		free(apath);
	}
	if (rc == 0 && !as->files)
		as->files = json_object();
	/* The root template's own key (stackTemplateAssetObjectUrl, s3://b/k). */
	const char *url = rc == 0 ? jstr(props, "stackTemplateAssetObjectUrl") : NULL;
	if (url && !strncmp(url, "s3://", 5)) {
		const char *slash = strchr(url + 5, '/');
		if (slash && !(as->template_key = strdup(slash + 1)))
			rc = synth_error_oom();
	}
	json_decref(man);
	free(mpath);
	if (rc < 0)
		assembly_free(as);
	return rc;
}

/* The local path of a nested template named by a TemplateURL's key (the
 * URL's last segment), or NULL. Caller frees. */
static char *nested_template_path(const assembly *as, json_t *resource)
{
	json_t *url = json_object_get(json_object_get(resource, "Properties"), "TemplateURL");
	const char *u = json_is_object(url) ? jstr(url, "Fn::Sub") : json_string_value(url);
	const char *key = u ? strrchr(u, '/') : NULL;
	json_t *f = key ? asset_by_key(as->files, key + 1, NULL) : NULL;
	const char *p = jstr(json_object_get(f, "source"), "path");
	return p ? synth_asprintf("%s/%s", as->dir, p) : NULL;
}

static bool is_nested_stack(json_t *resource)
{
	const char *t = jstr(resource, "Type");
	return t && !strcmp(t, "AWS::CloudFormation::Stack");
}

/* Checks one template against CloudFormation's limits: its size as
 * uploaded and its resource count. */
static int check_template_limits(const char *path, const char *stack, size_t bytes, json_t *tpl)
{
	if (bytes > SYNTH_DEPLOY_TEMPLATE_URL_MAX)
		return synth_error_setf(SYNTH_ELIMIT,
					"stack %s: the template %s is %zu bytes; CloudFormation "
					"accepts at most %d bytes (1 MB) from S3",
					stack, path, bytes, SYNTH_DEPLOY_TEMPLATE_URL_MAX);
	size_t n = json_object_size(json_object_get(tpl, "Resources"));
	if (n > SYNTH_DEPLOY_RESOURCES_MAX)
		return synth_error_setf(SYNTH_ELIMIT,
					"stack %s: %zu resources in %s; CloudFormation allows %d "
					"per stack (split the backend: nested stacks)",
					stack, n, path, SYNTH_DEPLOY_RESOURCES_MAX);
	return 0;
}

/* Calls FN on every template: the root (nested = NULL) and each nested
 * one, depth first, with its path and logical id path. */
typedef int (*template_fn)(void *ctx, const char *path, const char *where, size_t bytes,
			   json_t *tpl);

static int each_template_in(const assembly *as, const char *path, const char *where,
			    size_t bytes, json_t *tpl, template_fn fn, void *ctx, int depth)
{
	int rc = fn(ctx, path, where, bytes, tpl);
	const char *lid;
	json_t *r;
	json_object_foreach(json_object_get(tpl, "Resources"), lid, r) {
		if (rc < 0 || !is_nested_stack(r))
			continue;
		if (depth > 8)
			return synth_error_setf(SYNTH_ELIMIT, "%s: nested stacks deeper than 8", path);
		char *np = nested_template_path(as, r);
		if (!np)
			continue; /* not one of the assembly's (a URL of the user's) */
		char *text = NULL;
		size_t len = 0;
		rc = synth_file_read(np, &text, &len);
		json_error_t e;
		json_t *nt = rc == 0 ? json_loadb(text, len, 0, &e) : NULL;
		if (rc == 0 && !nt)
			rc = synth_error_setf(SYNTH_EINVALID, "%s:%d:%d: %s", np, e.line, e.column,
					      e.text);
		char *nw = synth_asprintf("%s/%s", where, lid);
		if (rc == 0)
			rc = nw ? each_template_in(as, np, nw, len, nt, fn, ctx, depth + 1)
				: synth_error_oom();
		free(nw);
		json_decref(nt);
		free(text);
		free(np);
	}
	return rc;
}

static int each_template(const assembly *as, template_fn fn, void *ctx)
{
	return each_template_in(as, as->template_path, as->stack_name, as->template_len,
				as->template, fn, ctx, 0);
}

static int limits_fn(void *ctx, const char *path, const char *where, size_t bytes, json_t *tpl)
{
	(void)ctx;
	return check_template_limits(path, where, bytes, tpl);
}

/* Collects {"VAR": {"path", "sharedPath"}} of every function's
 * SYNTH_SSM_ENV_CONFIG into CTX (an object: secret name -> [path, shared]). */
static int secrets_fn(void *ctx, const char *path, const char *where, size_t bytes, json_t *tpl)
{
	(void)where;
	(void)bytes;
	json_t *acc = ctx;
	const char *lid;
	json_t *r;
	json_object_foreach(json_object_get(tpl, "Resources"), lid, r) {
		json_t *vars = json_object_get(
			json_object_get(json_object_get(r, "Properties"), "Environment"), "Variables");
		const char *text = jstr(vars, "SYNTH_SSM_ENV_CONFIG");
		if (!text)
			continue;
		json_error_t e;
		json_t *cfg = json_loads(text, 0, &e);
		if (!json_is_object(cfg)) {
			json_decref(cfg);
			return synth_error_setf(SYNTH_EINVALID,
						"%s: resource %s: SYNTH_SSM_ENV_CONFIG is not a "
						"JSON object", path, lid);
		}
		const char *var;
		json_t *s;
		json_object_foreach(cfg, var, s) {
			const char *p = jstr(s, "path"), *sp = jstr(s, "sharedPath");
			const char *name = p ? strrchr(p, '/') : NULL;
			if (!p || !name)
				continue;
			json_object_set_new(acc, name + 1, json_pack("[ss]", p, sp ? sp : p));
		}
		json_decref(cfg);
	}
	return 0;
}

/* --- the deploy context ------------------------------------------------------ */

typedef struct dctx {
	synth_aws *a;
	const synth_deploy_options *o;
	FILE *log;
	synth_deploy_result *res;
	int poll_ms, poll_max_ms;
	/* Template parameters this deploy sets ({name: string}, borrowed;
	 * NULL: none): the others take their defaults. */
	json_t *values;
} dctx;

static void dctx_init(dctx *d, synth_aws *a, const synth_deploy_options *o,
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

static void say(dctx *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(dctx *d, const char *fmt, ...)
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
static int describe_stack(dctx *d, const char *name, json_t **stack)
{
	*stack = NULL;
	plist p = {0};
	padd(&p, "StackName", name);
	json_t *r = NULL;
	int rc = cfn(d->a, "DescribeStacks", &p, &r);
	pfree(&p);
	if (rc < 0) {
		if (strstr(synth_error_last()->message, "does not exist")) {
			synth_error_clear();
			return 0;
		}
		return rc;
	}
	json_t *s = json_array_get(members(r, "Stacks"), 0);
	const char *st = jstr(s, "StackStatus");
	/* By id, a deleted stack is still described. */
	if (s && !(st && !strcmp(st, "DELETE_COMPLETE") && strncmp(name, "arn:", 4)))
		*stack = json_incref(s);
	json_decref(r);
	return 0;
}

static void note_stack(dctx *d, json_t *stack)
{
	if (jstr(stack, "StackId"))
		set_str(&d->res->stack_id, jstr(stack, "StackId"));
	if (jstr(stack, "StackStatus"))
		set_str(&d->res->stack_status, jstr(stack, "StackStatus"));
}

/* --- the watcher: events of the root and nested stacks ------------------------ */

typedef struct followed {
	char *id;    /* stack id (ARN) */
	char *name;  /* for messages: the root's name, or root/NestedLogicalId/... */
	synth_map seen;
	bool nested;
} followed;

typedef struct watcher {
	dctx *d;
	followed *v;
	size_t n, cap;
	double t0;          /* server time of the operation's first root event */
	json_t *events;     /* every event seen since the start, with "StackName" */
	json_t *state;      /* "stack\tlogical id" -> last status */
	size_t total;       /* resources expected, for the live line */
	double started;
	bool line_shown;
	bool deleting;
} watcher;

static int watcher_add(watcher *w, const char *id, const char *name, bool nested)
{
	for (size_t i = 0; i < w->n; i++)
		if (!strcmp(w->v[i].id, id))
			return 0;
	if (w->n == w->cap) {
		size_t cap = w->cap ? w->cap * 2 : 8;
		followed *v = realloc(w->v, cap * sizeof *v);
		if (!v)
			return synth_error_oom();
		w->v = v;
		w->cap = cap;
	}
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

static void watcher_free(watcher *w)
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

static int watcher_init(watcher *w, dctx *d, const char *root_id, const char *root_name,
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
static int watcher_prime(watcher *w)
{
	plist p = {0};
	padd(&p, "StackName", w->v[0].id);
	json_t *r = NULL;
	int rc = cfn(w->d->a, "DescribeStackEvents", &p, &r);
	pfree(&p);
	json_t *ev;
	size_t i;
	json_array_foreach(members(r, "StackEvents"), i, ev) {
		const char *id = jstr(ev, "EventId");
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
		if (in_progress(s)) {
			const char *lid = strchr(k, '\t');
			if (shown < 3)
				synth_buf_printf(&prog, "%s%s", shown ? ", " : "", lid ? lid + 1 : k);
			else
				more++;
			shown++;
		} else if (ends_with(s, "_COMPLETE") || ends_with(s, "_SKIPPED")) {
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
	const char *status = jstr(ev, "ResourceStatus");
	const char *reason = jstr(ev, "ResourceStatusReason");
	bool failed = ends_with(status, "_FAILED");
	if (o->quiet && !failed)
		return;
	if (o->tty && !failed)
		return; /* the live line shows it */
	clear_line(w);
	const char *ts = jstr(ev, "Timestamp");
	const char *t = ts && strlen(ts) >= 19 ? ts + 11 : "";
	fprintf(w->d->log, "  %.8s  %-28s %s (%s)%s%s%s%s\n", t, status ? status : "?",
		jstr(ev, "LogicalResourceId") ? jstr(ev, "LogicalResourceId") : "?",
		jstr(ev, "ResourceType") ? jstr(ev, "ResourceType") : "?",
		strchr(jstr(ev, "StackName"), '/') ? " in " : "",
		strchr(jstr(ev, "StackName"), '/') ? jstr(ev, "StackName") : "",
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
		padd(&p, "StackName", w->v[fi].id);
		if (token)
			padd(&p, "NextToken", token);
		json_t *r = NULL;
		rc = cfn(w->d->a, "DescribeStackEvents", &p, &r);
		pfree(&p);
		bool stop = false;
		json_t *ev;
		size_t i;
		json_array_foreach(members(r, "StackEvents"), i, ev) {
			const char *id = jstr(ev, "EventId");
			if (!id || synth__map_get(&w->v[fi].seen, id) ||
			    (w->t0 > 0 && iso_time(jstr(ev, "Timestamp")) < w->t0)) {
				stop = true;
				break;
			}
			json_array_append(fresh, ev);
		}
		free(token);
		token = !stop && jstr(r, "NextToken") ? strdup(jstr(r, "NextToken")) : NULL;
		json_decref(r);
		if (!token)
			break;
	}
	free(token);
	/* Oldest first. */
	for (size_t k = json_array_size(fresh); rc == 0 && k-- > 0;) {
		json_t *ev = json_deep_copy(json_array_get(fresh, k));
		const char *id = jstr(ev, "EventId");
		if (!ev || synth__map_put(&w->v[fi].seen, id, (void *)1) < 0) {
			json_decref(ev);
			rc = synth_error_oom();
			break;
		}
		json_object_set_new(ev, "StackName", json_string(w->v[fi].name));
		double t = iso_time(jstr(ev, "Timestamp"));
		if (fi == 0 && (w->t0 == 0 || (t > 0 && t < w->t0)))
			w->t0 = t;
		const char *lid = jstr(ev, "LogicalResourceId");
		const char *phys = jstr(ev, "PhysicalResourceId");
		bool self = phys && !strcmp(phys, w->v[fi].id);
		/* A nested stack to follow. */
		if (!self && jstr(ev, "ResourceType") &&
		    !strcmp(jstr(ev, "ResourceType"), "AWS::CloudFormation::Stack") && phys &&
		    !strncmp(phys, "arn:", 4)) {
			char *nn = synth_asprintf("%s/%s", w->v[fi].name, lid ? lid : "?");
			rc = nn ? watcher_add(w, phys, nn, true) : synth_error_oom();
			free(nn);
		}
		if (!self && lid) {
			char *key = synth_asprintf("%s\t%s", w->v[fi].name, lid);
			if (key)
				json_object_set_new(w->state, key,
						    json_string(jstr(ev, "ResourceStatus")
								? jstr(ev, "ResourceStatus") : ""));
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
		int rc = describe_stack(d, w->v[0].id, &s);
		size_t nnew = 0;
		if (rc == 0)
			rc = poll_events(w, &nnew);
		if (rc < 0) {
			json_decref(s);
			clear_line(w);
			return rc;
		}
		const char *st = jstr(s, "StackStatus");
		if (!s || !in_progress(st)) {
			clear_line(w);
			*final = s;
			return 0;
		}
		json_decref(s);
		if (d->o->tty && !d->o->quiet)
			live_line(w);
		if (stopped(d->o)) {
			clear_line(w);
			*interrupted = true;
			return 0;
		}
		nap(d->o, interval);
		if (stopped(d->o)) {
			clear_line(w);
			*interrupted = true;
			return 0;
		}
		interval = nnew ? d->poll_ms : grow(interval, d->poll_max_ms);
	}
}

/* --- the root cause ------------------------------------------------------------ */

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
		const char *st = jstr(ev, "ResourceStatus");
		if (!ends_with(st, "_FAILED"))
			continue;
		double t = iso_time(jstr(ev, "Timestamp"));
		const char *type = jstr(ev, "ResourceType");
		bool stack_res = type && !strcmp(type, "AWS::CloudFormation::Stack");
		if (!any || t < at || (t == at && i < ai))
			any = ev, at = t, ai = i;
		if (stack_res || consequential(jstr(ev, "ResourceStatusReason")))
			continue;
		if (!best || t < bt || (t == bt && i < bi))
			best = ev, bt = t, bi = i;
	}
	return best ? best : any;
}

/* The construct path (synth:path metadata) of logical id LID in any
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
				json_object_get(json_object_get(r, "Metadata"), "synth:path"));
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
	const char *reason = jstr(e, "ResourceStatusReason");
	const char *lid = jstr(e, "LogicalResourceId");
	char *path = construct_path(assembly_dir, lid);
	char *out = synth_asprintf("%s (%s%s%s) in stack %s: %s", lid ? lid : "?",
				    jstr(e, "ResourceType") ? jstr(e, "ResourceType") : "?",
				    path ? ", construct " : "", path ? path : "",
				    jstr(e, "StackName") ? jstr(e, "StackName") : "?",
				    reason && *reason ? reason : jstr(e, "ResourceStatus"));
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
		const char *why = jstr(stack, "StackStatusReason");
		rc = synth_asprintf("stack %s is %s%s%s", d->res->stack_name,
				     jstr(stack, "StackStatus") ? jstr(stack, "StackStatus") : "gone",
				     why && *why ? ": " : "", why && *why ? why : "");
	}
	free(d->res->root_cause);
	d->res->root_cause = rc;
}

/* Follows the root stack ID's current operation to its end and records
 * the outcome in d->res. SETTLED / FAILED / INTERRUPTED / DELETED. Prime
 * tells whether the stack's events so far are old (true) or part of the
 * operation (the wait started after it began, e.g. ExecuteChangeSet). */
static int follow_operation(dctx *d, watcher *w, json_t **final_out)
{
	json_t *final = NULL;
	bool intr = false;
	int rc = watcher_wait(w, &final, &intr);
	if (rc < 0)
		return rc;
	if (intr) {
		d->res->status = SYNTH_DEPLOY_INTERRUPTED;
		say(d, "stopped watching: stack %s goes on in CloudFormation%s%s%s",
		    d->res->stack_name, d->o->resume_hint ? "; resume watching with `" : "",
		    d->o->resume_hint ? d->o->resume_hint : "", d->o->resume_hint ? "`" : "");
		json_decref(final);
		return 0;
	}
	if (final)
		note_stack(d, final);
	const char *st = jstr(final, "StackStatus");
	if (!final || (st && !strcmp(st, "DELETE_COMPLETE"))) {
		set_str(&d->res->stack_status, "DELETE_COMPLETE");
		d->res->status = SYNTH_DEPLOY_DELETED;
	} else if (failed_state(st)) {
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

static size_t count_resources(const assembly *as);

/* Waits for a stack that is already being changed by someone else. */
static int wait_for_other(dctx *d, json_t **stack)
{
	say(d, "stack %s is %s (another operation): waiting for it to finish",
	    d->res->stack_name, jstr(*stack, "StackStatus"));
	watcher w;
	int rc = watcher_init(&w, d, jstr(*stack, "StackId"), d->res->stack_name, 0);
	if (rc == 0)
		rc = watcher_prime(&w);
	json_t *final = NULL;
	if (rc == 0)
		rc = follow_operation(d, &w, &final);
	watcher_free(&w);
	json_decref(*stack);
	*stack = final;
	if (rc == 0 && d->res->status == SYNTH_DEPLOY_INTERRUPTED)
		return 0;
	if (rc == 0 && final)
		say(d, "stack %s is now %s", d->res->stack_name, jstr(final, "StackStatus"));
	if (rc == 0 && d->res->status == SYNTH_DEPLOY_DELETED) {
		json_decref(*stack);
		*stack = NULL;
	}
	d->res->status = SYNTH_DEPLOY_UNCHANGED;
	free(d->res->root_cause);
	d->res->root_cause = NULL;
	return rc;
}

/* DeleteStack and wait. */
static int delete_and_wait(dctx *d, const char *stack_id, size_t total)
{
	char token[33];
	random_token(token);
	char *ct = synth_asprintf("synth-delete-%s", token);
	plist p = {0};
	padd(&p, "StackName", stack_id);
	padd(&p, "ClientRequestToken", ct);
	free(ct);
	watcher w;
	int rc = watcher_init(&w, d, stack_id, d->res->stack_name, total);
	w.deleting = true;
	if (rc == 0)
		rc = watcher_prime(&w);
	json_t *r = NULL;
	if (rc == 0)
		rc = cfn(d->a, "DeleteStack", &p, &r);
	json_decref(r);
	pfree(&p);
	if (rc == 0)
		rc = follow_operation(d, &w, NULL);
	watcher_free(&w);
	return rc;
}

/* --- change sets ------------------------------------------------------------------ */

static const char *const capabilities[] = {"CAPABILITY_IAM", "CAPABILITY_NAMED_IAM",
					   "CAPABILITY_AUTO_EXPAND", NULL};

/* The tags a deploy sets: the manifest's, then the caller's (later wins). */
static json_t *wanted_tags(const assembly *as, const synth_deploy_options *o)
{
	json_t *t = json_deep_copy(as->tags);
	for (size_t i = 0; t && o->tags && o->tags[i] && o->tags[i + 1]; i += 2)
		json_object_set_new(t, o->tags[i], json_string(o->tags[i + 1]));
	return t;
}

bool synth__deploy_tags_equal(json_t *stack, json_t *want)
{
	json_t *have = json_object();
	json_t *m;
	size_t i;
	if (!have)
		return false;
	json_array_foreach(members(stack, "Tags"), i, m)
		if (jstr(m, "Key") &&
		    json_object_set_new(have, jstr(m, "Key"),
					json_string(jstr(m, "Value") ? jstr(m, "Value") : "")) < 0) {
			json_decref(have);
			return false;
		}
	bool eq = json_equal(have, want);
	json_decref(have);
	return eq;
}

bool synth__deploy_params_equal(json_t *stack, json_t *tpl, json_t *values)
{
	json_t *decl = json_object_get(tpl, "Parameters");
	json_t *m;
	size_t i, n = 0;
	json_array_foreach(members(stack, "Parameters"), i, m) {
		const char *key = jstr(m, "ParameterKey");
		json_t *d = key ? json_object_get(decl, key) : NULL;
		if (!d)
			return false; /* a parameter the template no longer has */
		json_t *def = json_object_get(values, key);
		if (!def)
			def = json_object_get(d, "Default");
		const char *v = jstr(m, "ParameterValue");
		char num[64];
		const char *dv = json_string_value(def);
		if (json_is_integer(def)) {
			snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT, json_integer_value(def));
			dv = num;
		}
		if (!v || !dv || strcmp(v, dv))
			return false;
		n++;
	}
	return n == json_object_size(decl);
}

static bool termination_protection(json_t *stack)
{
	const char *v = jstr(stack, "EnableTerminationProtection");
	return v && !strcmp(v, "true");
}

/* Termination protection as asked (o->termination_protection: > 0 on,
 * < 0 off, 0 leave it as it is): UpdateTerminationProtection when STACK
 * (a DescribeStacks member) differs, nothing otherwise. */
static int protection(dctx *d, json_t *stack)
{
	int want = d->o->termination_protection;
	if (!want || !stack || termination_protection(stack) == (want > 0))
		return 0;
	plist p = {0};
	padd(&p, "StackName", jstr(stack, "StackId") ? jstr(stack, "StackId") : d->res->stack_name);
	padd(&p, "EnableTerminationProtection", want > 0 ? "true" : "false");
	json_t *r = NULL;
	int rc = cfn(d->a, "UpdateTerminationProtection", &p, &r);
	json_decref(r);
	pfree(&p);
	if (rc == 0)
		say(d, "stack %s: termination protection %s", d->res->stack_name,
		    want > 0 ? "on" : "off");
	return rc;
}

/* Whether the deployed stack already is what AS would make it. Calls
 * GetTemplate only. */
static int unchanged(dctx *d, const assembly *as, json_t *stack, bool *same)
{
	*same = false;
	const char *st = jstr(stack, "StackStatus");
	if (failed_state(st) || in_progress(st) || !strcmp(st, "REVIEW_IN_PROGRESS"))
		return 0;
	json_t *want = wanted_tags(as, d->o);
	if (!want)
		return synth_error_oom();
	/* Termination protection is not part of the template: it is set
	 * apart (protection()), so it does not cost a change set. */
	bool meta = synth__deploy_tags_equal(stack, want) &&
		    synth__deploy_params_equal(stack, as->template, d->values);
	json_decref(want);
	if (!meta)
		return 0;
	plist p = {0};
	padd(&p, "StackName", jstr(stack, "StackId"));
	padd(&p, "TemplateStage", "Original");
	json_t *r = NULL;
	int rc = cfn(d->a, "GetTemplate", &p, &r);
	pfree(&p);
	const char *body = rc == 0 ? jstr(r, "TemplateBody") : NULL;
	json_t *old = body ? json_loads(body, 0, NULL) : NULL; /* YAML: not equal */
	*same = old && json_equal(old, as->template);
	json_decref(old);
	json_decref(r);
	return rc;
}

static void print_changes(dctx *d, json_t *changes)
{
	if (d->o->quiet)
		return;
	say(d, "changes to stack %s:", d->res->stack_name);
	json_t *c;
	size_t i;
	json_array_foreach(changes, i, c) {
		json_t *rc = json_object_get(c, "ResourceChange");
		const char *act = jstr(rc, "Action");
		const char *repl = jstr(rc, "Replacement");
		char sym = !act ? '?' : !strcmp(act, "Add") ? '+' : !strcmp(act, "Remove") ? '-'
			 : '~';
		say(d, "  %c %-8s %s (%s)%s%s", sym, act ? act : "?",
		    jstr(rc, "LogicalResourceId") ? jstr(rc, "LogicalResourceId") : "?",
		    jstr(rc, "ResourceType") ? jstr(rc, "ResourceType") : "?",
		    repl && (!strcmp(repl, "True") || !strcmp(repl, "Conditional"))
			    ? "  replacement: " : "",
		    repl && (!strcmp(repl, "True") || !strcmp(repl, "Conditional")) ? repl : "");
	}
}

static bool empty_change_set_reason(const char *reason)
{
	return reason && (strstr(reason, "didn't contain changes") ||
			  strstr(reason, "No updates are to be performed") ||
			  strstr(reason, "No changes"));
}

/* The template parameter: TemplateBody, or TemplateURL to the uploaded
 * root template when it is too big for a body. */
static int template_param(dctx *d, const assembly *as, const char *account, plist *p)
{
	if (as->template_len <= SYNTH_DEPLOY_TEMPLATE_BODY_MAX) {
		padd(p, "TemplateBody", as->template_text);
		return 0;
	}
	if (!as->template_key)
		return synth_error_setf(SYNTH_EINVALID,
					"stack %s: the template is %zu bytes (over %d: it must "
					"go through S3) and the assembly names no S3 object for it",
					as->stack_name, as->template_len,
					SYNTH_DEPLOY_TEMPLATE_BODY_MAX);
	const char *region = synth_aws_region(d->a);
	char *bucket = synth_asprintf(ASSET_BUCKET_FMT, account, region);
	char *path = bucket ? synth_aws_s3_path(bucket, as->template_key) : NULL;
	const char *ep = synth_aws_endpoint(d->a, "s3");
	char *url = path ? synth_asprintf("%s%s", ep, path) : NULL;
	padd(p, "TemplateURL", url);
	free(bucket);
	free(path);
	free(url);
	return p->oom ? synth_error_oom() : 0;
}

/* CreateChangeSet, then DescribeChangeSet until it settles. *id (caller
 * frees) the change set's id, *changes (caller decrefs) its changes;
 * *empty when it had none (it has been deleted). */
static int change_set(dctx *d, const assembly *as, const char *account, bool create,
		      char **id, json_t **changes, bool *empty)
{
	*id = NULL;
	*changes = json_array();
	*empty = false;
	char token[33], name[64];
	random_token(token);
	snprintf(name, sizeof name, "synth-%lld-%.8s", (long long)time(NULL), token);
	plist p = {0};
	padd(&p, "StackName", as->stack_name);
	padd(&p, "ChangeSetName", name);
	padd(&p, "ChangeSetType", create ? "CREATE" : "UPDATE");
	padd(&p, "ClientToken", token);
	padd(&p, "Description", "synth deploy");
	int rc = template_param(d, as, account, &p);
	for (size_t i = 0; capabilities[i]; i++)
		paddf(&p, capabilities[i], "Capabilities.member.%zu", i + 1);
	json_t *tags = wanted_tags(as, d->o);
	const char *k;
	json_t *v;
	size_t n = 0;
	json_object_foreach(tags, k, v) {
		n++;
		paddf(&p, k, "Tags.member.%zu.Key", n);
		paddf(&p, json_string_value(v), "Tags.member.%zu.Value", n);
	}
	json_decref(tags);
	n = 0;
	json_object_foreach(d->values, k, v) {
		n++;
		paddf(&p, k, "Parameters.member.%zu.ParameterKey", n);
		paddf(&p, json_string_value(v), "Parameters.member.%zu.ParameterValue", n);
	}
	json_t *r = NULL;
	if (rc == 0)
		rc = cfn(d->a, "CreateChangeSet", &p, &r);
	pfree(&p);
	if (rc == 0 && !(*id = jstr(r, "Id") ? strdup(jstr(r, "Id")) : strdup(name)))
		rc = synth_error_oom();
	if (rc == 0 && jstr(r, "StackId"))
		set_str(&d->res->stack_id, jstr(r, "StackId"));
	json_decref(r);
	int interval = d->poll_ms;
	while (rc == 0) {
		char *next = NULL;
		const char *status = NULL;
		json_t *page = NULL;
		json_array_clear(*changes);
		for (int pg = 0; rc == 0 && pg < CHANGESET_PAGES_MAX; pg++) {
			plist q = {0};
			padd(&q, "ChangeSetName", *id);
			padd(&q, "StackName", as->stack_name);
			if (next)
				padd(&q, "NextToken", next);
			json_decref(page);
			page = NULL;
			rc = cfn(d->a, "DescribeChangeSet", &q, &page);
			pfree(&q);
			free(next);
			next = NULL;
			if (members(page, "Changes"))
				json_array_extend(*changes, members(page, "Changes"));
			status = jstr(page, "Status");
			if (rc < 0 || !status || strcmp(status, "CREATE_COMPLETE") ||
			    !jstr(page, "NextToken"))
				break;
			next = strdup(jstr(page, "NextToken"));
		}
		free(next);
		if (rc < 0) {
			json_decref(page);
			break;
		}
		if (status && !strcmp(status, "CREATE_COMPLETE")) {
			json_decref(page);
			break;
		}
		if (status && !strcmp(status, "FAILED")) {
			const char *why = jstr(page, "StatusReason");
			if (empty_change_set_reason(why)) {
				*empty = true;
				plist q = {0};
				padd(&q, "ChangeSetName", *id);
				padd(&q, "StackName", as->stack_name);
				json_t *dr = NULL;
				rc = cfn(d->a, "DeleteChangeSet", &q, &dr);
				json_decref(dr);
				pfree(&q);
			} else {
				rc = synth_error_setf(SYNTH_ERROR, "stack %s: the change set failed: %s",
						      as->stack_name, why ? why : "(no reason given)");
			}
			json_decref(page);
			break;
		}
		json_decref(page);
		if (stopped(d->o)) {
			rc = synth_error_setf(SYNTH_ERROR, "interrupted while the change set was made");
			break;
		}
		nap(d->o, interval);
		interval = grow(interval, d->poll_max_ms);
	}
	return rc;
}

static int execute_change_set(dctx *d, const assembly *as, const char *id)
{
	char token[33];
	random_token(token);
	char *ct = synth_asprintf("synth-exec-%s", token);
	plist p = {0};
	padd(&p, "ChangeSetName", id);
	padd(&p, "StackName", as->stack_name);
	padd(&p, "ClientRequestToken", ct);
	free(ct);
	json_t *r = NULL;
	int rc = cfn(d->a, "ExecuteChangeSet", &p, &r);
	json_decref(r);
	pfree(&p);
	return rc;
}

static int count_fn(void *ctx, const char *path, const char *where, size_t bytes, json_t *tpl)
{
	(void)path;
	(void)where;
	(void)bytes;
	*(size_t *)ctx += json_object_size(json_object_get(tpl, "Resources"));
	return 0;
}

static size_t count_resources(const assembly *as)
{
	size_t n = 0;
	if (each_template((assembly *)as, count_fn, &n) < 0)
		synth_error_clear();
	return n;
}

/* --- outputs ------------------------------------------------------------------------ */

/* The model introspection schema named by s3://BUCKET/KEY: the asset of
 * the assembly with that destination, else GetObject. *out: caller
 * decrefs, NULL when neither has it. */
static int model_schema(dctx *d, const assembly *as, const char *uri, const char *account,
			json_t **out)
{
	*out = NULL;
	if (strncmp(uri, "s3://", 5))
		return 0;
	const char *slash = strchr(uri + 5, '/');
	if (!slash)
		return 0;
	char *bucket = strndup(uri + 5, (size_t)(slash - uri - 5));
	const char *key = slash + 1;
	const char *abucket = NULL;
	json_t *f = as && as->files ? asset_by_key(as->files, key, &abucket) : NULL;
	char *sub = abucket ? synth_aws_placeholders(abucket, account ? account : "",
						     synth_aws_region(d->a))
			    : NULL;
	const char *src = jstr(json_object_get(f, "source"), "path");
	int rc = 0;
	if (f && src && sub && bucket && !strcmp(sub, bucket)) {
		char *p = synth_asprintf("%s/%s", as->dir, src);
		*out = p ? load_json(p) : NULL;
		free(p);
		if (!*out)
			synth_error_clear();
	}
	if (!*out && bucket) {
		char *path = synth_aws_s3_path(bucket, key);
		char *what = synth_asprintf("GetObject %s", uri);
		synth_aws_call call = {.service = "s3", .method = "GET", .path = path, .what = what};
		synth_http_response r = {0};
		rc = path && what ? synth_aws_request(d->a, &call, &r) : synth_error_oom();
		if (rc == 0) {
			json_error_t e;
			*out = json_loadb(r.body.ptr ? r.body.ptr : "", r.body.len, 0, &e);
			if (!*out)
				rc = synth_error_setf(SYNTH_EINVALID, "%s: not JSON (%s)", uri, e.text);
		}
		synth_http_response_free(&r);
		free(path);
		free(what);
	}
	free(sub);
	free(bucket);
	return rc;
}

/* The region of a stack id (arn:aws:cloudformation:REGION:...), copied
 * into BUF; else the client's. */
static const char *stack_region(dctx *d, json_t *stack, char *buf, size_t n)
{
	const char *id = jstr(stack, "StackId");
	const char *p = id && !strncmp(id, "arn:", 4) ? id : NULL;
	for (int k = 0; p && k < 3; k++)
		p = strchr(p, ':') ? strchr(p, ':') + 1 : NULL;
	const char *e = p ? strchr(p, ':') : NULL;
	if (p && e && e > p && (size_t)(e - p) < n) {
		memcpy(buf, p, (size_t)(e - p));
		buf[e - p] = '\0';
		return buf;
	}
	return synth_aws_region(d->a);
}

/* Builds and writes the client configuration from STACK (DescribeStacks)
 * and METADATA (the root template's). */
static int write_outputs(dctx *d, const assembly *as, json_t *stack, json_t *metadata)
{
	const char *path = d->o->outputs_path;
	if (!path)
		return 0;
	char region[64];
	json_t *outs = json_object_get(stack, "Outputs");
	json_t *none_meta = json_object(), *none_outs = json_array();
	json_t *cfg = NULL;
	int rc = none_meta && none_outs
			 ? synth__clientconfig_build(&cfg, metadata ? metadata : none_meta,
						     json_is_object(outs) ? outs : none_outs,
						     stack_region(d, stack, region, sizeof region))
			 : synth_error_oom();
	json_decref(none_meta);
	json_decref(none_outs);
	const char *uri = NULL;
	json_t *m;
	size_t i;
	json_array_foreach(members(stack, "Outputs"), i, m) {
		const char *k = jstr(m, "OutputKey");
		if (k && !strcmp(k, "amplifyApiModelSchemaS3Uri"))
			uri = jstr(m, "OutputValue");
	}
	if (rc == 0 && uri) {
		char *account = NULL;
		const char *id = jstr(stack, "StackId");
		/* The account is in the stack id: arn:aws:cloudformation:R:ACCOUNT:stack/... */
		const char *p = id;
		for (int k = 0; p && k < 4; k++)
			p = strchr(p, ':') ? strchr(p, ':') + 1 : NULL;
		if (p && strchr(p, ':'))
			account = strndup(p, (size_t)(strchr(p, ':') - p));
		json_t *schema = NULL;
		rc = model_schema(d, as, uri, account, &schema);
		if (rc == 0 && schema)
			rc = synth__clientconfig_set_model_introspection(cfg, schema);
		json_decref(schema);
		free(account);
	}
	if (rc == 0)
		rc = synth__clientconfig_write(path, cfg);
	json_decref(cfg);
	if (rc == 0) {
		d->res->outputs_written = true;
		if (!d->o->quiet)
			say(d, "wrote %s", path);
	}
	return rc;
}

/* --- deploy ------------------------------------------------------------------------- */

/* The error for secrets set nowhere: ABSENT their names, PATHS
 * {name: [path, shared path]}. Records them in d->res->missing_secrets. */
static int missing_secrets_error(dctx *d, const assembly *as, json_t *absent, json_t *paths)
{
	synth_buf b = SYNTH_BUF_INIT;
	size_t i;
	json_t *s;
	json_array_foreach(absent, i, s) {
		json_t *pp = json_object_get(paths, json_string_value(s));
		synth_buf_printf(&b, "%s%s (%s or %s)", i ? ", " : "", json_string_value(s),
				  json_string_value(json_array_get(pp, 0)),
				  json_string_value(json_array_get(pp, 1)));
	}
	char *list = synth_buf_detach(&b);
	int rc = synth_error_setf(SYNTH_ENOTFOUND, "stack %s: secret%s not set: %s",
				  as->stack_name, json_array_size(absent) > 1 ? "s" : "",
				  list ? list : "");
	free(list);
	json_decref(d->res->missing_secrets);
	d->res->missing_secrets = json_incref(absent);
	return rc;
}

static int check_secrets(dctx *d, const assembly *as)
{
	json_t *acc = json_object();
	int rc = acc ? each_template(as, secrets_fn, acc) : synth_error_oom();
	if (rc < 0 || json_object_size(acc) == 0) {
		json_decref(acc);
		return rc;
	}
	json_t *names = json_array(), *missing = NULL;
	const char *k;
	json_t *v;
	json_object_foreach(acc, k, v) {
		json_array_append(names, json_array_get(v, 0));
		json_array_append(names, json_array_get(v, 1));
	}
	rc = synth_ssm_missing(d->a, names, &missing);
	json_t *absent = json_array();
	json_object_foreach(rc == 0 ? acc : NULL, k, v) {
		bool has[2] = {true, true};
		for (int j = 0; j < 2; j++) {
			size_t i;
			json_t *mm;
			json_array_foreach(missing, i, mm)
				if (json_equal(mm, json_array_get(v, j)))
					has[j] = false;
		}
		if (!has[0] && !has[1])
			json_array_append_new(absent, json_string(k));
	}
	if (rc == 0 && json_array_size(absent))
		rc = missing_secrets_error(d, as, absent, acc);
	json_decref(absent);
	json_decref(names);
	json_decref(missing);
	json_decref(acc);
	return rc;
}

/* --- secret versions (rotation of the auth secrets) --------------------------------- */

/* Collects the Metadata "synth:secret-versions" = {"param": P, "secrets":
 * {NAME: [path, shared path]}} of every resource into CTX (an object:
 * P -> {NAME: [path, shared]}). */
static int versions_fn(void *ctx, const char *path, const char *where, size_t bytes, json_t *tpl)
{
	(void)where;
	(void)bytes;
	json_t *acc = ctx;
	const char *lid;
	json_t *r;
	json_object_foreach(json_object_get(tpl, "Resources"), lid, r) {
		json_t *md = json_object_get(json_object_get(r, "Metadata"), "synth:secret-versions");
		if (!md)
			continue;
		const char *param = jstr(md, "param");
		json_t *secrets = json_object_get(md, "secrets");
		bool ok = param && *param && json_is_object(secrets);
		const char *name;
		json_t *pp;
		json_object_foreach(ok ? secrets : NULL, name, pp)
			ok &= json_array_size(pp) == 2 && json_is_string(json_array_get(pp, 0)) &&
			      json_is_string(json_array_get(pp, 1));
		if (!ok)
			return synth_error_setf(SYNTH_EINVALID,
						"%s: resource %s: Metadata synth:secret-versions is not "
						"{\"param\": NAME, \"secrets\": {SECRET: [path, shared "
						"path]}}", path, lid);
		json_t *into = json_object_get(acc, param);
		if (!into) {
			if (json_object_set_new(acc, param, json_object()) < 0)
				return synth_error_oom();
			into = json_object_get(acc, param);
		}
		if (json_object_update(into, secrets) < 0)
			return synth_error_oom();
	}
	return 0;
}

int synth__deploy_versions_digest(json_t *secrets, json_t *versions, char out[65],
				  json_t *missing)
{
	out[0] = '\0';
	size_t n = json_object_size(secrets), k = 0;
	const char **lines = n ? calloc(n, sizeof *lines) : NULL;
	char **owned = n ? calloc(n, sizeof *owned) : NULL;
	int rc = n && (!lines || !owned) ? synth_error_oom() : 0;
	const char *name;
	json_t *pp;
	json_object_foreach(rc == 0 ? secrets : NULL, name, pp) {
		const char *at = NULL;
		json_int_t ver = 0;
		for (size_t j = 0; j < 2 && !at; j++) {
			const char *p = json_string_value(json_array_get(pp, j));
			json_t *v = p ? json_object_get(versions, p) : NULL;
			if (json_is_integer(v))
				at = p, ver = json_integer_value(v);
		}
		if (!at && missing && json_array_append_new(missing, json_string(name)) < 0) {
			rc = synth_error_oom();
			break;
		}
		owned[k] = at ? synth_asprintf("%s=%s#%" JSON_INTEGER_FORMAT, name, at, ver)
			      : synth_asprintf("%s=-", name);
		if (!owned[k]) {
			rc = synth_error_oom();
			break;
		}
		lines[k] = owned[k];
		k++;
	}
	if (rc == 0) {
		/* Sorted: the digest does not depend on the order of the metadata. */
		for (size_t i = 1; i < k; i++)
			for (size_t j = i; j > 0 && strcmp(lines[j - 1], lines[j]) > 0; j--) {
				const char *t = lines[j];
				lines[j] = lines[j - 1];
				lines[j - 1] = t;
			}
		synth_buf b = SYNTH_BUF_INIT;
		synth_buf_puts(&b, "synth-secret-versions-1\n");
		for (size_t i = 0; i < k; i++) {
			synth_buf_puts(&b, lines[i]);
			synth_buf_putc(&b, '\n');
		}
		size_t len = b.len;
		char *text = synth_buf_detach(&b);
		if (!text || synth_sha256_hex(text, len, out) < 0)
			rc = synth_error_oom();
		free(text);
	}
	for (size_t i = 0; owned && i < n; i++)
		free(owned[i]);
	free(owned);
	free(lines);
	if (rc < 0)
		out[0] = '\0';
	return rc;
}

/*
 * The template parameters that carry secret versions: *values (caller
 * decrefs) {param: digest} for every parameter some resource's metadata
 * names (see versions_fn), from the secrets' SSM versions (read without
 * decryption). A secret set at neither of its paths is an error (the
 * fetcher would fail in CloudFormation after the uploads) naming it.
 */
static int secret_versions(dctx *d, const assembly *as, bool require, json_t **values)
{
	*values = json_object();
	json_t *acc = json_object(), *names = json_array(), *versions = NULL;
	json_t *absent = json_array(), *paths = json_object();
	int rc = *values && acc && names && absent && paths ? 0 : synth_error_oom();
	if (rc == 0)
		rc = each_template(as, versions_fn, acc);
	const char *param, *name;
	json_t *secrets, *pp;
	json_object_foreach(rc == 0 ? acc : NULL, param, secrets) {
		json_t *decl = json_object_get(json_object_get(as->template, "Parameters"), param);
		if (!json_is_object(decl)) {
			rc = synth_error_setf(SYNTH_EINVALID,
					      "stack %s: %s: the secret versions go to parameter %s, "
					      "which the root template does not declare",
					      as->stack_name, as->template_path, param);
			break;
		}
		json_object_foreach(secrets, name, pp)
			if (json_array_append(names, json_array_get(pp, 0)) < 0 ||
			    json_array_append(names, json_array_get(pp, 1)) < 0 ||
			    json_object_set(paths, name, pp) < 0)
				rc = synth_error_oom();
	}
	if (rc == 0 && json_object_size(acc))
		rc = synth_ssm_versions(d->a, names, &versions);
	json_object_foreach(rc == 0 ? acc : NULL, param, secrets) {
		char digest[65];
		rc = synth__deploy_versions_digest(secrets, versions, digest, absent);
		if (rc == 0 && json_object_set_new(*values, param, json_string(digest)) < 0)
			rc = synth_error_oom();
		if (rc < 0)
			break;
	}
	if (rc == 0 && require && json_array_size(absent))
		rc = missing_secrets_error(d, as, absent, paths);
	json_decref(acc);
	json_decref(names);
	json_decref(versions);
	json_decref(absent);
	json_decref(paths);
	if (rc < 0) {
		json_decref(*values);
		*values = NULL;
	}
	return rc;
}

static int check_bootstrap(dctx *d, const char *account)
{
	char *bucket = synth_asprintf(ASSET_BUCKET_FMT, account, synth_aws_region(d->a));
	char *path = bucket ? synth_aws_s3_path(bucket, NULL) : NULL;
	char *what = synth_asprintf("HeadBucket s3://%s", bucket ? bucket : "");
	synth_aws_call head = {.service = "s3", .method = "HEAD", .path = path, .what = what};
	synth_http_response r = {0};
	int rc = path && what ? synth_aws_request(d->a, &head, &r) : synth_error_oom();
	if (rc < 0 && r.status == 404)
		rc = synth_error_setf(SYNTH_ENOTFOUND,
				      "the asset bucket s3://%s does not exist: this account and "
				      "region are not bootstrapped; run `synth bootstrap` once "
				      "(or `cdk bootstrap`)", bucket);
	synth_http_response_free(&r);
	free(bucket);
	free(path);
	free(what);
	return rc;
}

static int publish(dctx *d, const assembly *as, const char *account)
{
	synth_publish_options po = {.parallel = d->o->parallel, .account_id = account,
				    .log = d->log, .tty = d->o->tty && !d->o->quiet};
	FILE *devnull = NULL;
	if (d->o->quiet)
		po.log = devnull = fopen("/dev/null", "w");
	synth_publish_result pr = {0};
	int rc = synth_publish_assets(d->a, as->dir, &po, &pr);
	if (devnull)
		fclose(devnull);
	d->res->uploaded = pr.uploaded;
	d->res->assets = pr.assets;
	if (rc == 0 && !d->o->quiet)
		say(d, "assets: %zu uploaded, %zu already in the bucket", pr.uploaded, pr.skipped);
	return rc;
}

/* Brings an existing stack to a state a change set can act on. *stack
 * may become NULL (deleted: create it again). */
static int settle_existing(dctx *d, const assembly *as, json_t **stack)
{
	int rc = 0;
	if (*stack && in_progress(jstr(*stack, "StackStatus"))) {
		rc = wait_for_other(d, stack);
		if (rc < 0 || d->res->status == SYNTH_DEPLOY_INTERRUPTED)
			return rc;
	}
	const char *st = *stack ? jstr(*stack, "StackStatus") : NULL;
	if (!st)
		return 0;
	if (!strcmp(st, "ROLLBACK_COMPLETE")) {
		say(d, "stack %s is ROLLBACK_COMPLETE: its creation failed and CloudFormation "
		       "cannot update it; deleting it and creating it again",
		    as->stack_name);
		rc = delete_and_wait(d, jstr(*stack, "StackId"), 0);
		if (rc == 0 && d->res->status == SYNTH_DEPLOY_INTERRUPTED)
			return 0;
		if (rc == 0 && d->res->status != SYNTH_DEPLOY_DELETED)
			return synth_error_setf(SYNTH_ERROR,
						"stack %s: deleting the failed stack did not finish "
						"(%s): %s", as->stack_name,
						d->res->stack_status ? d->res->stack_status : "?",
						d->res->root_cause ? d->res->root_cause : "");
		d->res->recreated = true;
		d->res->status = SYNTH_DEPLOY_UNCHANGED;
		json_decref(*stack);
		*stack = NULL;
		return rc;
	}
	if (!strcmp(st, "UPDATE_ROLLBACK_FAILED"))
		return synth_error_setf(
			SYNTH_EINVALID,
			"stack %s is UPDATE_ROLLBACK_FAILED: an update failed and CloudFormation "
			"could not roll it back either (%s). Fix what blocks the rollback (often a "
			"resource changed or deleted outside CloudFormation), then continue the "
			"rollback (ContinueUpdateRollback) and deploy again",
			as->stack_name,
			jstr(*stack, "StackStatusReason") ? jstr(*stack, "StackStatusReason") : "no reason given");
	if (!strcmp(st, "ROLLBACK_FAILED") || !strcmp(st, "DELETE_FAILED") ||
	    !strcmp(st, "CREATE_FAILED") || !strcmp(st, "IMPORT_ROLLBACK_FAILED"))
		return synth_error_setf(SYNTH_EINVALID,
					"stack %s is %s (%s): CloudFormation cannot update it; "
					"delete it and deploy again",
					as->stack_name, st,
					jstr(*stack, "StackStatusReason")
						? jstr(*stack, "StackStatusReason") : "no reason given");
	return 0;
}

int synth_deploy(synth_aws *a, const synth_deploy_options *o, synth_deploy_result *res)
{
	memset(res, 0, sizeof *res);
	dctx d;
	dctx_init(&d, a, o, res);
	assembly as;
	int rc = assembly_load(&as, o->assembly_dir ? o->assembly_dir : "cdk.out", o->stack_name);
	if (rc < 0)
		return rc;
	if (!(res->stack_name = strdup(as.stack_name))) {
		assembly_free(&as);
		return synth_error_oom();
	}
	rc = each_template(&as, limits_fn, NULL);
	json_t *stack = NULL, *values = NULL;
	if (rc == 0)
		rc = describe_stack(&d, as.stack_name, &stack);
	if (rc == 0 && stack) {
		note_stack(&d, stack);
		rc = settle_existing(&d, &as, &stack);
	}
	if (rc < 0 || res->status == SYNTH_DEPLOY_INTERRUPTED)
		goto done;
	/* The auth secrets' versions: a changed secret is a changed parameter. */
	rc = secret_versions(&d, &as, true, &values);
	d.values = values;
	if (rc < 0)
		goto done;
	/* Nothing changed: no further call. */
	bool same = false;
	if (stack)
		rc = unchanged(&d, &as, stack, &same);
	if (rc == 0 && same) {
		res->status = SYNTH_DEPLOY_UNCHANGED;
		say(&d, "stack %s: no changes", as.stack_name);
		rc = protection(&d, stack);
		if (rc == 0)
			rc = write_outputs(&d, &as, stack, json_object_get(as.template, "Metadata"));
		goto done;
	}
	char *account = NULL;
	if (rc == 0)
		rc = check_secrets(&d, &as);
	if (rc == 0)
		rc = synth_aws_account_id(a, &account);
	if (rc == 0)
		rc = check_bootstrap(&d, account);
	if (rc == 0)
		rc = publish(&d, &as, account);
	bool create = !stack || !strcmp(jstr(stack, "StackStatus"), "REVIEW_IN_PROGRESS");
	char *csid = NULL;
	json_t *changes = NULL;
	bool empty = false;
	if (rc == 0)
		rc = change_set(&d, &as, account, create, &csid, &changes, &empty);
	free(account);
	if (rc == 0 && empty) {
		res->status = SYNTH_DEPLOY_UNCHANGED;
		say(&d, "stack %s: no changes", as.stack_name);
		rc = protection(&d, stack);
		if (rc == 0)
			rc = write_outputs(&d, &as, stack, json_object_get(as.template, "Metadata"));
	} else if (rc == 0) {
		res->changes = json_array_size(changes);
		print_changes(&d, changes);
		watcher w;
		const char *sid = res->stack_id ? res->stack_id : as.stack_name;
		/* The live line's total: every resource for a create; the
		 * change set's (root-level) changes for an update. */
		rc = watcher_init(&w, &d, sid, as.stack_name,
				  create ? count_resources(&as) : res->changes);
		if (rc == 0)
			rc = watcher_prime(&w);
		if (rc == 0)
			rc = execute_change_set(&d, &as, csid);
		if (rc == 0 && !o->quiet)
			say(&d, "%s stack %s...", create ? "creating" : "updating", as.stack_name);
		json_t *final = NULL;
		if (rc == 0)
			rc = follow_operation(&d, &w, &final);
		watcher_free(&w);
		if (rc == 0 && res->status == SYNTH_DEPLOY_SETTLED) {
			const char *st = jstr(final, "StackStatus");
			res->status = create ? SYNTH_DEPLOY_CREATED : SYNTH_DEPLOY_UPDATED;
			if (st && strcmp(st, create ? "CREATE_COMPLETE" : "UPDATE_COMPLETE"))
				say(&d, "stack %s ended %s", as.stack_name, st);
			rc = protection(&d, final);
			if (rc == 0)
				rc = write_outputs(&d, &as, final, json_object_get(as.template, "Metadata"));
		}
		json_decref(final);
	}
	json_decref(changes);
	free(csid);
done:
	json_decref(stack);
	json_decref(values);
	assembly_free(&as);
	return rc;
}

/* --- destroy, watch, continue-rollback, outputs --------------------------------------- */

static int need_stack_name(const synth_deploy_options *o)
{
	return o->stack_name && *o->stack_name
		       ? 0 : synth_error_setf(SYNTH_EINVALID, "no stack name given");
}

/* The start of the commands that act on a deployed stack by name
 * (destroy, watch, continue-rollback): RES reset, D set up, *STACK its
 * DescribeStacks member (new reference), or NULL with RES->status
 * SYNTH_DEPLOY_ABSENT when there is no such stack. */
static int open_stack(dctx *d, synth_aws *a, const synth_deploy_options *o,
		      synth_deploy_result *res, json_t **stack)
{
	memset(res, 0, sizeof *res);
	dctx_init(d, a, o, res);
	*stack = NULL;
	int rc = need_stack_name(o);
	if (rc < 0)
		return rc;
	if (!(res->stack_name = strdup(o->stack_name)))
		return synth_error_oom();
	rc = describe_stack(d, o->stack_name, stack);
	if (rc == 0 && !*stack)
		res->status = SYNTH_DEPLOY_ABSENT;
	return rc;
}

int synth_deploy_destroy(synth_aws *a, const synth_deploy_options *o, synth_deploy_result *res)
{
	dctx d;
	json_t *stack;
	int rc = open_stack(&d, a, o, res, &stack);
	if (rc < 0 || !stack)
		return rc;
	if (rc == 0) {
		note_stack(&d, stack);
		if (in_progress(jstr(stack, "StackStatus")))
			rc = wait_for_other(&d, &stack);
	}
	if (rc == 0 && res->status != SYNTH_DEPLOY_INTERRUPTED && !stack)
		res->status = SYNTH_DEPLOY_DELETED;
	else if (rc == 0 && res->status != SYNTH_DEPLOY_INTERRUPTED) {
		if (termination_protection(stack))
			rc = synth_error_setf(SYNTH_EINVALID,
					      "stack %s has termination protection: turn it off "
					      "first (UpdateTerminationProtection)", o->stack_name);
		else
			rc = delete_and_wait(&d, jstr(stack, "StackId"), 0);
	}
	json_decref(stack);
	return rc;
}

int synth_deploy_watch(synth_aws *a, const synth_deploy_options *o, synth_deploy_result *res)
{
	dctx d;
	json_t *stack;
	int rc = open_stack(&d, a, o, res, &stack);
	if (rc < 0 || !stack)
		return rc;
	note_stack(&d, stack);
	watcher w;
	rc = watcher_init(&w, &d, jstr(stack, "StackId"), o->stack_name, 0);
	/* Show the operation from its start: the root's events back to the
	 * last one that began it (the stack's own *_IN_PROGRESS "User
	 * Initiated" event). Simpler and sufficient: everything before now is
	 * shown only if the stack is still in progress. */
	if (rc == 0 && !in_progress(jstr(stack, "StackStatus")))
		rc = watcher_prime(&w);
	if (rc == 0)
		rc = follow_operation(&d, &w, NULL);
	watcher_free(&w);
	json_decref(stack);
	return rc;
}

int synth_deploy_continue_rollback(synth_aws *a, const synth_deploy_options *o,
				   synth_deploy_result *res)
{
	dctx d;
	json_t *stack;
	int rc = open_stack(&d, a, o, res, &stack);
	if (rc < 0 || !stack)
		return rc;
	const char *st = rc == 0 ? jstr(stack, "StackStatus") : NULL;
	if (rc == 0)
		note_stack(&d, stack);
	if (rc == 0 && (!st || strcmp(st, "UPDATE_ROLLBACK_FAILED")))
		rc = synth_error_setf(SYNTH_EINVALID,
				      "stack %s is %s, not UPDATE_ROLLBACK_FAILED: there is no "
				      "rollback to continue", o->stack_name, st ? st : "?");
	watcher w;
	memset(&w, 0, sizeof w);
	if (rc == 0)
		rc = watcher_init(&w, &d, jstr(stack, "StackId"), o->stack_name, 0);
	if (rc == 0)
		rc = watcher_prime(&w);
	char token[33];
	random_token(token);
	plist p = {0};
	padd(&p, "StackName", jstr(stack, "StackId"));
	padd(&p, "ClientRequestToken", token);
	json_t *r = NULL;
	if (rc == 0)
		rc = cfn(a, "ContinueUpdateRollback", &p, &r);
	json_decref(r);
	pfree(&p);
	if (rc == 0)
		rc = follow_operation(&d, &w, NULL);
	/* Rolled back is what was asked for. */
	if (rc == 0 && res->status == SYNTH_DEPLOY_FAILED && res->stack_status &&
	    !strcmp(res->stack_status, "UPDATE_ROLLBACK_COMPLETE")) {
		res->status = SYNTH_DEPLOY_SETTLED;
		free(res->root_cause);
		res->root_cause = NULL;
	}
	watcher_free(&w);
	json_decref(stack);
	return rc;
}

int synth_deploy_outputs(synth_aws *a, const synth_deploy_options *o, synth_deploy_result *res)
{
	memset(res, 0, sizeof *res);
	dctx d;
	dctx_init(&d, a, o, res);
	assembly as;
	memset(&as, 0, sizeof as);
	bool have_as = false;
	int rc = 0;
	if (o->assembly_dir) {
		rc = assembly_load(&as, o->assembly_dir, o->stack_name);
		have_as = rc == 0;
		if (rc < 0 && o->stack_name) { /* only for the model schema: optional */
			synth_error_clear();
			rc = 0;
		}
	}
	const char *name = o->stack_name ? o->stack_name : have_as ? as.stack_name : NULL;
	if (rc == 0 && !name)
		rc = synth_error_setf(SYNTH_EINVALID, "no stack name given and no assembly");
	if (rc == 0 && !(res->stack_name = strdup(name)))
		rc = synth_error_oom();
	json_t *stack = NULL;
	if (rc == 0)
		rc = describe_stack(&d, name, &stack);
	if (rc == 0 && !stack)
		res->status = SYNTH_DEPLOY_ABSENT;
	if (rc == 0 && stack) {
		note_stack(&d, stack);
		const char *st = jstr(stack, "StackStatus");
		if (in_progress(st) || !strcmp(st, "ROLLBACK_COMPLETE") ||
		    !strcmp(st, "REVIEW_IN_PROGRESS") || ends_with(st, "_FAILED"))
			rc = synth_error_setf(SYNTH_EINVALID,
					      "stack %s is %s: its outputs are not those of a "
					      "completed deploy", name, st);
	}
	/* The deployed template's Metadata: the local one may have moved on. */
	json_t *metadata = NULL;
	if (rc == 0 && stack) {
		plist p = {0};
		padd(&p, "StackName", jstr(stack, "StackId"));
		padd(&p, "TemplateStage", "Original");
		json_t *r = NULL;
		rc = cfn(a, "GetTemplate", &p, &r);
		pfree(&p);
		const char *body = rc == 0 ? jstr(r, "TemplateBody") : NULL;
		json_t *t = body ? json_loads(body, 0, NULL) : NULL;
		if (rc == 0 && !t)
			rc = synth_error_setf(SYNTH_EINVALID,
					      "stack %s: the deployed template is not JSON", name);
		metadata = json_incref(json_object_get(t, "Metadata"));
		json_decref(t);
		json_decref(r);
	}
	if (rc == 0 && stack) {
		rc = write_outputs(&d, have_as ? &as : NULL, stack, metadata);
		if (rc == 0)
			res->status = SYNTH_DEPLOY_SETTLED;
	}
	json_decref(metadata);
	json_decref(stack);
	if (have_as)
		assembly_free(&as);
	return rc;
}

/* --- diff ---------------------------------------------------------------------------- */

/* Appends to OUT the paths under PREFIX where A and B differ. 0 or
 * SYNTH_ENOMEM. */
static int diff_paths(json_t *a, json_t *b, const char *prefix, json_t *out)
{
	if (json_equal(a, b))
		return 0;
	if (json_is_object(a) && json_is_object(b)) {
		const char *k;
		json_t *v;
		json_object_foreach(a, k, v) {
			char *p = synth_asprintf("%s%s%s", prefix, *prefix ? "." : "", k);
			int rc = p ? diff_paths(v, json_object_get(b, k), p, out) : synth_error_oom();
			free(p);
			if (rc < 0)
				return rc;
		}
		json_object_foreach(b, k, v) {
			if (json_object_get(a, k))
				continue;
			char *p = synth_asprintf("%s%s%s", prefix, *prefix ? "." : "", k);
			int rc = p && json_array_append_new(out, json_string(p)) == 0 ? 0 : synth_error_oom();
			free(p);
			if (rc < 0)
				return rc;
		}
		return 0;
	}
	return json_array_append_new(out, json_string(*prefix ? prefix : "(whole)")) == 0
		       ? 0 : synth_error_oom();
}

static int cmp_ids(const void *x, const void *y)
{
	return strcmp(jstr(*(json_t *const *)x, "id"), jstr(*(json_t *const *)y, "id"));
}

/* Appends {"id", "type", "action", "paths"} to LIST (PATHS stolen; NULL
 * is out of memory). */
static int diff_entry(json_t *list, const char *id, json_t *res, const char *action,
		      json_t *paths)
{
	const char *type = jstr(res, "Type") ? jstr(res, "Type") : "?";
	json_t *e = paths ? json_pack("{s:s,s:s,s:s,s:o}", "id", id, "type", type, "action",
				      action, "paths", paths)
			  : NULL;
	return e && json_array_append_new(list, e) == 0 ? 0 : synth_error_oom();
}

int synth__deploy_template_diff(json_t *old_tpl, json_t *new_tpl, json_t **out)
{
	*out = NULL;
	json_t *or = json_object_get(old_tpl, "Resources"), *nr = json_object_get(new_tpl, "Resources");
	json_t *list = json_array();
	if (!list)
		return synth_error_oom();
	int rc = 0;
	const char *k;
	json_t *v;
	json_object_foreach(nr, k, v) {
		json_t *ov = json_object_get(or, k);
		if (!ov) {
			rc = diff_entry(list, k, v, "add", json_array());
		} else if (!json_equal(ov, v)) {
			json_t *paths = json_array();
			if (paths && (rc = diff_paths(ov, v, "", paths)) < 0) {
				json_decref(paths);
				break;
			}
			rc = diff_entry(list, k, v, "modify", paths);
		}
		if (rc < 0)
			break;
	}
	json_object_foreach(rc == 0 ? or : NULL, k, v) {
		if (json_object_get(nr, k))
			continue;
		if ((rc = diff_entry(list, k, v, "remove", json_array())) < 0)
			break;
	}
	size_t n = json_array_size(list);
	json_t **items = rc == 0 && n ? malloc(n * sizeof *items) : NULL;
	if (rc == 0 && n && !items)
		rc = synth_error_oom();
	if (rc < 0) {
		json_decref(list);
		return rc;
	}
	for (size_t i = 0; i < n; i++)
		items[i] = json_incref(json_array_get(list, i));
	if (n > 1)
		qsort(items, n, sizeof *items, cmp_ids);
	json_array_clear(list);
	for (size_t i = 0; i < n; i++)
		json_array_append_new(list, items[i]); /* fits: the array had room for n */
	free(items);
	*out = list;
	return 0;
}

/* The deployed template of stack ID (NULL: none). */
static int deployed_template(dctx *d, const char *id, json_t **out)
{
	*out = NULL;
	plist p = {0};
	padd(&p, "StackName", id);
	padd(&p, "TemplateStage", "Original");
	json_t *r = NULL;
	int rc = cfn(d->a, "GetTemplate", &p, &r);
	pfree(&p);
	if (rc < 0 && strstr(synth_error_last()->message, "does not exist")) {
		synth_error_clear();
		return 0;
	}
	const char *body = rc == 0 ? jstr(r, "TemplateBody") : NULL;
	if (body && !(*out = json_loads(body, 0, NULL)))
		rc = synth_error_setf(SYNTH_EINVALID, "stack %s: the deployed template is not JSON",
				      id);
	json_decref(r);
	return rc;
}

/* Logical id -> physical id of the stack's nested stacks. */
static int nested_ids(dctx *d, const char *id, json_t **out)
{
	*out = json_object();
	plist p = {0};
	padd(&p, "StackName", id);
	json_t *r = NULL;
	int rc = cfn(d->a, "DescribeStackResources", &p, &r);
	pfree(&p);
	json_t *m;
	size_t i;
	json_array_foreach(members(r, "StackResources"), i, m) {
		const char *t = jstr(m, "ResourceType"), *pid = jstr(m, "PhysicalResourceId");
		if (t && !strcmp(t, "AWS::CloudFormation::Stack") && pid && jstr(m, "LogicalResourceId"))
			json_object_set_new(*out, jstr(m, "LogicalResourceId"), json_string(pid));
	}
	json_decref(r);
	return rc;
}

static int diff_stack(dctx *d, const assembly *as, const char *stack_id, json_t *new_tpl,
		      FILE *out, int indent, size_t *n, int depth)
{
	json_t *old = NULL, *list = NULL, *nested = NULL;
	int rc = stack_id ? deployed_template(d, stack_id, &old) : 0;
	if (rc == 0)
		rc = synth__deploy_template_diff(old, new_tpl, &list);
	if (rc == 0 && old && stack_id)
		rc = nested_ids(d, stack_id, &nested);
	json_t *c;
	size_t i;
	json_array_foreach(rc == 0 ? list : NULL, i, c) {
		const char *act = jstr(c, "action"), *id = jstr(c, "id");
		char sym = !strcmp(act, "add") ? '+' : !strcmp(act, "remove") ? '-' : '~';
		fprintf(out, "%*s%c %s (%s)\n", indent, "", sym, id, jstr(c, "type"));
		json_t *res = json_object_get(json_object_get(new_tpl, "Resources"), id);
		if (!strcmp(act, "modify") && is_nested_stack(res) && depth < 8) {
			/* What changed inside the nested stack: its resources are
			 * counted instead of the nested stack resource. */
			char *np = nested_template_path(as, res);
			json_t *nt = np ? load_json(np) : NULL;
			free(np);
			if (!nt)
				synth_error_clear();
			size_t before = *n;
			if (nt)
				rc = diff_stack(d, as, jstr(nested, id), nt, out, indent + 4, n,
						depth + 1);
			if (rc == 0 && *n == before) {
				fprintf(out, "%*s    (its parameters or template URL)\n", indent, "");
				(*n)++;
			}
			json_decref(nt);
			if (rc < 0)
				break;
			continue;
		}
		(*n)++;
		json_t *p;
		size_t j;
		json_array_foreach(json_object_get(c, "paths"), j, p)
			fprintf(out, "%*s    %s\n", indent, "", json_string_value(p));
	}
	json_decref(nested);
	json_decref(list);
	json_decref(old);
	return rc;
}

int synth_deploy_diff(synth_aws *a, const synth_deploy_options *o, FILE *out, size_t *nchanges)
{
	*nchanges = 0;
	synth_deploy_result res = {0};
	dctx d;
	dctx_init(&d, a, o, &res);
	assembly as;
	int rc = assembly_load(&as, o->assembly_dir ? o->assembly_dir : "cdk.out", o->stack_name);
	if (rc < 0)
		return rc;
	json_t *stack = NULL;
	rc = describe_stack(&d, as.stack_name, &stack);
	if (rc == 0) {
		if (!stack)
			fprintf(out, "stack %s does not exist: everything is new\n", as.stack_name);
		else
			fprintf(out, "stack %s (%s):\n", as.stack_name, jstr(stack, "StackStatus"));
		rc = diff_stack(&d, &as, stack ? jstr(stack, "StackId") : NULL, as.template, out, 2,
				nchanges, 0);
	}
	/* Parameters this deploy would set differently: the secret versions
	 * (a secret set again since the last deploy). */
	json_t *values = NULL;
	if (rc == 0 && stack)
		rc = secret_versions(&d, &as, false, &values);
	const char *k;
	json_t *v;
	json_object_foreach(rc == 0 ? values : NULL, k, v) {
		const char *now = NULL;
		json_t *m;
		size_t i;
		json_array_foreach(members(stack, "Parameters"), i, m)
			if (jstr(m, "ParameterKey") && !strcmp(jstr(m, "ParameterKey"), k))
				now = jstr(m, "ParameterValue");
		if (now && !strcmp(now, json_string_value(v)))
			continue;
		fprintf(out, "  ~ parameter %s: %.12s -> %.12s (a secret it digests was set "
			     "again in SSM: the secret fetcher will read the values again)\n",
			k, now ? now : "(none)", json_string_value(v));
		(*nchanges)++;
	}
	json_decref(values);
	json_decref(stack);
	assembly_free(&as);
	synth_deploy_result_clear(&res);
	return rc;
}

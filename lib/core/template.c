/*
 * Stack layout and emission: from the generated model to templates, the
 * asset manifest and manifest.json.
 *
 *  1. collect_deps: every resource's references (tokens in its properties,
 *     explicit DependsOn) become graph edges; unknown references and
 *     dependency cycles are errors naming the place and every step.
 *  2. layout (layout.c, synth__layout): one stack while CloudFormation's
 *     limits allow; otherwise the resources are ordered producers-first
 *     (strongly connected groups of constructs kept together) and packed
 *     into the root stack and nested stacks, remembered resources into
 *     the stacks that held them, so references only flow from higher
 *     ranked stacks to lower ones.
 *  3. resolve: tokens become Ref / Fn::GetAtt inside a stack; across
 *     stacks they become an output of the producer and a parameter of the
 *     consumer, wired through the nested stack resources in the root.
 *  4. write (write_all): every stack's resources, the root outputs, the
 *     nested templates (their hashes name them in S3), the root template,
 *     the asset manifest and manifest.json, one emitter each.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "synth/sys/contract.h"
#include "layout.h"

/* --- 1. dependencies --------------------------------------------------- */

static synth_resource *token_target(synth_backend *b, json_t *node, const char **attr,
				    const char **path, bool *is_param)
{
	*attr = NULL;
	*path = NULL;
	*is_param = false;
	if (!json_is_object(node) || json_object_size(node) != 1)
		return NULL;
	json_t *v;
	if ((v = json_object_get(node, SYNTH_TOKEN_REF)) && json_is_string(v)) {
		*path = json_string_value(v);
	} else if ((v = json_object_get(node, SYNTH_TOKEN_GETATT)) && json_is_array(v) &&
		   json_array_size(v) == 2 && json_is_string(json_array_get(v, 0)) &&
		   json_is_string(json_array_get(v, 1))) {
		*path = json_string_value(json_array_get(v, 0));
		*attr = json_string_value(json_array_get(v, 1));
	} else if ((v = json_object_get(node, SYNTH_TOKEN_PARAM)) && json_is_string(v)) {
		*path = json_string_value(v);
		*is_param = true;
		return NULL;
	} else
		return NULL;
	return synth_backend_resource(b, *path);
}

static bool is_token(json_t *node)
{
	return json_is_object(node) && json_object_size(node) == 1 &&
	       (json_object_get(node, SYNTH_TOKEN_REF) ||
		json_object_get(node, SYNTH_TOKEN_GETATT) ||
		json_object_get(node, SYNTH_TOKEN_PARAM) ||
		json_object_get(node, SYNTH_TOKEN_ASSET));
}

/* {"Synth::Asset": [index, "key"|"file"]} -> the built asset's S3 key or
 * file name; NULL if malformed. */
/* An asset's S3 object key: its file name without the "asset." prefix. */
static const char *asset_key(const synth_asset *a)
{
	return strncmp(a->file, "asset.", 6) ? a->file : a->file + 6;
}

static json_t *asset_value(synth_backend *b, json_t *node)
{
	json_t *v = json_object_get(node, SYNTH_TOKEN_ASSET);
	if (!v)
		return NULL;
	json_int_t i = json_integer_value(json_array_get(v, 0));
	const char *what = json_string_value(json_array_get(v, 1));
	if (i < 0 || (size_t)i >= b->nassets || !what || !b->assets[i].file)
		return NULL;
	synth_asset *a = &b->assets[i];
	if (!strcmp(what, "file"))
		return json_string(a->file);
	/* The object key is the file's name without "asset.": <hash>.zip for
	 * code, <hash>.json etc. for file assets made from bytes. */
	return json_string(asset_key(a));
}

static const synth_parameter *find_param(synth_backend *b, const char *name)
{
	for (size_t i = 0; i < b->nparams; i++)
		if (!strcmp(b->params[i].name, name))
			return &b->params[i];
	return NULL;
}

static int add_dep(emit *e, size_t from, size_t to)
{
	for (size_t i = 0; i < e->ndeps[from]; i++)
		if (e->deps[from][i] == to)
			return 0;
	int rc = synth_array_grow((void **)&e->deps[from], &e->ndeps[from], &e->capdeps[from],
				  sizeof *e->deps[from]);
	if (rc < 0)
		return rc;
	e->deps[from][e->ndeps[from]++] = to;
	return 0;
}

/* Records that someone reads ATTR (NULL: Ref) of resource T: the layout
 * counts the outputs and parameters a cut through T would cost. */
static void note_attr(emit *e, size_t t, const char *attr)
{
	const char *a = attr ? attr : "";
	unsigned char n = e->nattrs[t];
	for (unsigned char k = 0; k < n && k < ATTRS_TRACKED; k++)
		if (!strcmp(e->attrs[t][k], a))
			return;
	if (n < ATTRS_TRACKED)
		e->attrs[t][n] = a;
	if (n < 255)
		e->nattrs[t] = n + 1;
}

/* The location is rendered only when an error needs it. */
static void loc_push(emit *e, const char *key, size_t index)
{
	if (e->depth < sizeof e->seg / sizeof e->seg[0]) {
		e->seg[e->depth] = key;
		e->idx[e->depth] = index;
	}
	e->depth++;
}

static void loc_render(emit *e)
{
	size_t n = e->depth < 128 ? e->depth : 128;
	for (size_t i = 0; i < n; i++) {
		if (e->seg[i])
			synth_buf_printf(&e->loc, ".%s", e->seg[i]);
		else
			synth_buf_printf(&e->loc, "[%zu]", e->idx[i]);
	}
	if (e->depth > n)
		synth_buf_puts(&e->loc, "...");
	e->depth = 0;
}

static int unknown_ref(emit *e, const char *path, bool param)
{
	loc_render(e);
	synth_error_setf(SYNTH_ENOTFOUND, "%s: %s to '%s', which %s",
			 e->loc.ptr ? e->loc.ptr : "?",
			 param ? "parameter reference" : "reference", path,
			 param ? "is not declared" : "no resource has");
	return synth__backend_fail(e->b);
}

/* Walks NODE collecting the resources it references into FROM's deps. */
static int scan(emit *e, size_t from, json_t *node)
{
	const char *attr, *path;
	bool param;
	if (is_token(node)) {
		if (json_object_get(node, SYNTH_TOKEN_ASSET))
			return 0;
		synth_resource *t = token_target(e->b, node, &attr, &path, &param);
		if (param)
			return find_param(e->b, path) ? 0 : unknown_ref(e, path, true);
		if (!t)
			return unknown_ref(e, path, false);
		note_attr(e, t->index, attr);
		return add_dep(e, from, t->index);
	}
	int rc = 0;
	if (json_is_object(node)) {
		const char *k;
		json_t *v;
		json_object_foreach(node, k, v) {
			loc_push(e, k, 0);
			rc = scan(e, from, v);
			if (rc < 0)
				return rc;
			e->depth--;
		}
	} else if (json_is_array(node)) {
		size_t i;
		json_t *v;
		json_array_foreach(node, i, v) {
			loc_push(e, NULL, i);
			rc = scan(e, from, v);
			if (rc < 0)
				return rc;
			e->depth--;
		}
	}
	return 0;
}

/* A cheap upper estimate of a value's minified JSON size. */
static size_t estimate(json_t *v)
{
	size_t n = 0;
	const char *k;
	json_t *c;
	size_t i;
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		n = 2;
		json_object_foreach(v, k, c)
			n += strlen(k) + 4 + estimate(c);
		return n;
	case JSON_ARRAY:
		n = 2;
		json_array_foreach(v, i, c)
			n += 1 + estimate(c);
		return n;
	case JSON_STRING:
		/* Escapes are rare in templates; allow 1/8 for them. */
		n = json_string_length(v);
		return n + n / 8 + 2;
	case JSON_INTEGER:
		return 20;
	case JSON_REAL:
		return 24;
	default:
		return 5;
	}
}

static int collect_deps(emit *e)
{
	synth_backend *b = e->b;
	for (size_t i = 0; i < e->n; i++) {
		synth_resource *r = b->resources[i];
		e->loc.len = 0;
		e->depth = 0;
		synth_buf_printf(&e->loc, "%s: Properties", r->path);
		if (e->loc.oom)
			return synth_error_oom();
		int rc = scan(e, i, r->props);
		/* What the properties read orders the resources already; the
		 * metadata's references are not relied on for that. */
		e->ntok[i] = e->ndeps[i];
		if (rc == 0 && r->metadata) {
			e->loc.len = 0;
			e->depth = 0;
			synth_buf_printf(&e->loc, "%s: Metadata", r->path);
			rc = scan(e, i, r->metadata);
		}
		for (size_t d = 0; rc == 0 && d < r->ndeps; d++)
			rc = add_dep(e, i, r->deps[d]->index);
		if (rc == 0 && r->condition && !json_object_get(b->conditions, r->condition)) {
			synth_error_setf(SYNTH_ENOTFOUND, "%s: condition '%s' is not defined",
					 r->path, r->condition);
			rc = synth__backend_fail(b);
		}
		if (rc < 0)
			return rc;
		/* Estimated emitted size: properties plus the frame around them. */
		e->est[i] = estimate(r->props) + strlen(r->type) + strlen(r->path) +
			    3 * strlen(r->logical_id) + 160;
	}
	return 0;
}

/* Depth-first search for a cycle; on finding one, names every step. */
static int find_cycle(emit *e, size_t v, unsigned char *color, size_t *trail,
		      size_t depth)
{
	color[v] = 1;
	trail[depth] = v;
	for (size_t i = 0; i < e->ndeps[v]; i++) {
		size_t w = e->deps[v][i];
		if (color[w] == 1) {
			synth_buf m = SYNTH_BUF_INIT;
			synth_buf_puts(&m, "dependency cycle between resources: ");
			size_t start = 0;
			while (trail[start] != w)
				start++;
			for (size_t k = start; k <= depth; k++)
				synth_buf_printf(&m, "%s -> ", e->b->resources[trail[k]]->path);
			synth_buf_puts(&m, e->b->resources[w]->path);
			char *s = synth_buf_detach(&m);
			synth_error_setf(SYNTH_ECYCLE, "%s", s ? s : "dependency cycle");
			free(s);
			return synth__backend_fail(e->b);
		}
		if (color[w] == 0) {
			int rc = find_cycle(e, w, color, trail, depth + 1);
			if (rc < 0)
				return rc;
		}
	}
	color[v] = 2;
	return 0;
}

static int check_cycles(emit *e)
{
	unsigned char *color = calloc(e->n ? e->n : 1, 1);
	size_t *stk = calloc(e->n ? e->n : 1, sizeof *stk);
	int rc = color && stk ? 0 : synth_error_oom();
	for (size_t i = 0; rc == 0 && i < e->n; i++)
		if (!color[i])
			rc = find_cycle(e, i, color, stk, 0);
	free(color);
	free(stk);
	return rc;
}

/* --- 3. resolve -------------------------------------------------------- */

static char *export_name(const synth_resource *t, const char *attr)
{
	synth_buf nm = SYNTH_BUF_INIT;
	synth_buf_puts(&nm, t->logical_id);
	const char *a = attr ? attr : "Ref";
	for (; *a; a++)
		if (isalnum((unsigned char)*a) && (unsigned char)*a < 128)
			synth_buf_putc(&nm, *a);
	return synth_buf_detach(&nm);
}

/* {KEY: V} (V taken; NULL if V is NULL or out of memory): one of the
 * commonest nodes of a template, built without json_pack()'s format
 * parsing, which cost more than the node. */
static json_t *obj1(const char *key, json_t *v)
{
	json_t *o = v ? json_object() : NULL;
	if (!o) {
		json_decref(v);
		return NULL;
	}
	if (json_object_set_new_nocheck(o, key, v) < 0) { /* V freed by jansson */
		json_decref(o);
		return NULL;
	}
	return o;
}

/* {K1: V1, K2: V2, ...} from (const char *, json_t *) pairs ended by a NULL
 * key, every V taken; NULL if a V is NULL or out of memory. For nodes made
 * once per resource or asset, like obj1(). */
static json_t *objn(const char *key, ...)
{
	va_list ap;
	va_start(ap, key);
	json_t *o = json_object();
	bool ok = o != NULL;
	for (const char *k = key; k; k = va_arg(ap, const char *)) {
		json_t *v = va_arg(ap, json_t *);
		if (!v)
			ok = false;
		else if (!ok)
			json_decref(v);
		else if (json_object_set_new_nocheck(o, k, v) < 0) /* V freed by jansson */
			ok = false;
	}
	va_end(ap);
	if (!ok) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static json_t *value_in(const synth_resource *t, const char *attr)
{
	if (!attr)
		return obj1("Ref", json_string(t->logical_id));
	json_t *a = json_array();
	if (a && (json_array_append_new(a, json_string(t->logical_id)) < 0 ||
		  json_array_append_new(a, json_string(attr)) < 0)) {
		json_decref(a);
		a = NULL;
	}
	return obj1("Fn::GetAtt", a);
}

static json_t *nested_output(const stack *p, const char *name)
{
	char *o = synth_asprintf("Outputs.%s", name);
	json_t *v = o ? json_pack("{s:[s,s]}", "Fn::GetAtt", p->lid, o) : NULL;
	free(o);
	return v;
}

/* A reference from stack SI to T (in another stack). */
static json_t *import(emit *e, size_t si, const synth_resource *t, const char *attr)
{
	stack *s = &e->stacks[si], *p = &e->stacks[t->stack];
	/* Attributes that carry secret values (the auth construct's secret
	 * fetcher: NoEcho in its own stack) would become plain stack outputs
	 * and parameters here: refuse rather than leak. */
	if (attr && json_is_true(json_object_get(t->metadata, SYNTH_MD_SECRET_ATTRIBUTES))) {
		synth_error_setf(SYNTH_ELIMIT, "%s: attribute '%s' holds a secret value and cannot be "
				 "passed to another stack (it would become a stack output); the "
				 "layout put one of its users in another stack", t->path, attr);
		return NULL;
	}
	char *name = export_name(t, attr);
	if (!name)
		return NULL;
	json_t *res = NULL;
	if (t->stack != 0 && !json_object_get(p->outputs, name))
		json_object_set_new(p->outputs, name, json_pack("{s:o}", "Value",
								value_in(t, attr)));
	if (si == 0) {
		res = nested_output(p, name);
	} else {
		if (!json_object_get(s->params, name)) {
			json_object_set_new(s->params, name, json_pack("{s:s}", "Type", "String"));
			json_object_set_new(s->pass, name, t->stack == 0 ? value_in(t, attr)
									 : nested_output(p, name));
		}
		if (t->stack != 0)
			s->after[t->stack] |= AFTER_IMPLIED;
		res = json_pack("{s:s}", "Ref", name);
	}
	free(name);
	return res;
}

/* A copy of NODE for stack SI with every token resolved. NULL on error. */
/* A new object with NODE's members before the one keyed STOP (shared). */
static json_t *object_prefix(json_t *node, const char *stop)
{
	json_t *o = json_object();
	const char *k;
	json_t *v;
	json_object_foreach(node, k, v) {
		if (!o || k == stop)
			break;
		if (json_object_set(o, k, v) < 0) {
			json_decref(o);
			o = NULL;
		}
	}
	return o;
}

/* A new array with NODE's first N elements (shared). */
static json_t *array_prefix(json_t *node, size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; a && i < n; i++)
		if (json_array_append(a, json_array_get(node, i)) < 0) {
			json_decref(a);
			a = NULL;
		}
	return a;
}

static json_t *resolve(emit *e, size_t si, json_t *node)
{
	const char *attr, *path;
	bool param;
	if (is_token(node)) {
		if (json_object_get(node, SYNTH_TOKEN_ASSET)) {
			json_t *v = asset_value(e->b, node);
			if (!v)
				synth_error_setf(SYNTH_ERROR, "internal error: bad asset token");
			return v;
		}
		synth_resource *t = token_target(e->b, node, &attr, &path, &param);
		if (param) {
			const synth_parameter *p = find_param(e->b, path);
			if (!p) {
				unknown_ref(e, path, true);
				return NULL;
			}
			if (si != 0 && !json_object_get(e->stacks[si].params, path)) {
				json_object_set_new(e->stacks[si].params, path,
						    json_pack("{s:O}", "Type",
							      json_object_get(p->decl, "Type")));
				json_object_set_new(e->stacks[si].pass, path,
						    json_pack("{s:s}", "Ref", path));
			}
			return json_pack("{s:s}", "Ref", path);
		}
		if (!t) {
			unknown_ref(e, path, false);
			return NULL;
		}
		if (t->stack == si)
			return value_in(t, attr);
		return import(e, si, t, attr);
	}
	/* A container is copied only from its first member that resolves to
	 * something else: one without tokens is shared with the resource
	 * (nothing changes a template's members once made), which saves
	 * building and freeing most of a large template's nodes. */
	if (json_is_object(node)) {
		json_t *o = NULL;
		const char *k;
		json_t *v;
		json_object_foreach(node, k, v) {
			if (!strcmp(k, "Fn::If") || !strcmp(k, "Condition"))
				e->stacks[si].uses_conditions = true;
			json_t *c = resolve(e, si, v);
			if (c == v && !o) {
				json_decref(c);
				continue;
			}
			if (c && !o)
				o = object_prefix(node, k);
			if (!c || !o || json_object_set_new(o, k, c) < 0) {
				if (!o)
					json_decref(c);
				json_decref(o);
				return NULL;
			}
		}
		return o ? o : json_incref(node);
	}
	if (json_is_array(node)) {
		json_t *a = NULL;
		size_t i;
		json_t *v;
		json_array_foreach(node, i, v) {
			json_t *c = resolve(e, si, v);
			if (c == v && !a) {
				json_decref(c);
				continue;
			}
			if (c && !a)
				a = array_prefix(node, i);
			if (!c || !a || json_array_append_new(a, c) < 0) {
				if (!a)
					json_decref(c);
				json_decref(a);
				return NULL;
			}
		}
		return a ? a : json_incref(node);
	}
	return json_incref(node);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Whether resource R reads T through a token (a Ref, GetAtt or Sub of
 * it), which orders them already. */
static bool reads(const emit *e, const synth_resource *r, const synth_resource *t)
{
	for (size_t k = 0; k < e->ntok[r->index]; k++)
		if (e->deps[r->index][k] == t->index)
			return true;
	return false;
}

/* Whether root resource R reads anything of nested stack SI. */
static bool reads_stack(const emit *e, const synth_resource *r, size_t si)
{
	for (size_t k = 0; k < e->ntok[r->index]; k++)
		if (e->b->resources[e->deps[r->index][k]]->stack == si)
			return true;
	return false;
}

/* Sets O's DependsOn from R's explicit dependencies in stack SI: within
 * the stack, the logical IDs (sorted, once each); across stacks, the
 * nested stacks' order instead (SI's `after` / `after_root`), or, in the
 * root, the nested stack resource. A dependency that a token of R already
 * implies is left out (cfn-lint W3005: redundant DependsOn). */
static int depends_on(emit *e, size_t si, const synth_resource *r, json_t *o)
{
	const char **lids = malloc((r->ndeps ? r->ndeps : 1) * sizeof *lids);
	size_t nl = 0;
	if (!lids)
		return synth_error_oom();
	for (size_t d = 0; d < r->ndeps; d++) {
		const synth_resource *t = r->deps[d];
		if (reads(e, r, t))
			continue;
		if (t->stack == si)
			lids[nl++] = t->logical_id;
		else if (si != 0 && t->stack != 0)
			e->stacks[si].after[t->stack] |= AFTER_EXPLICIT;
		else if (si != 0) /* a nested resource after a root one */
			json_array_append_new(e->stacks[si].after_root,
					      json_string(t->logical_id));
		else if (!reads_stack(e, r, t->stack)) /* root after a nested one */
			lids[nl++] = e->stacks[t->stack].lid;
	}
	qsort(lids, nl, sizeof *lids, cmp_str);
	bool ok = true;
	if (nl) {
		json_t *a = json_array();
		for (size_t k = 0; k < nl; k++)
			if (k == 0 || strcmp(lids[k], lids[k - 1]))
				ok &= !json_array_append_new(a, json_string(lids[k]));
		ok &= !json_object_set_new(o, "DependsOn", a);
	}
	free(lids);
	return ok ? 0 : synth_error_oom();
}

/* *OUT: R's Metadata in stack SI: its construct path, then its own
 * metadata resolved. */
static int resource_metadata(emit *e, size_t si, const synth_resource *r, json_t **out)
{
	json_t *md = obj1(SYNTH_MD_PATH, json_string(r->path));
	if (!md)
		return synth_error_oom();
	if (r->metadata) {
		e->loc.len = 0;
		e->depth = 0;
		synth_buf_printf(&e->loc, "%s: Metadata", r->path);
		json_t *um = resolve(e, si, r->metadata);
		int rc = !um ? SYNTH_ERROR : json_object_update(md, um) ? synth_error_oom() : 0;
		json_decref(um);
		if (rc < 0) {
			json_decref(md);
			return rc;
		}
	}
	*out = md;
	return 0;
}

/* Resource R's template entry in stack SI; NULL on error (set, except
 * when resolve() ran out of memory). */
static json_t *emit_resource(emit *e, size_t si, synth_resource *r)
{
	json_t *o = json_object();
	if (!o)
		return NULL;
	/* Every insertion is checked: jansson drops a member silently when it
	 * cannot allocate, which would write a template without it. */
	bool ok = !json_object_set_new(o, "Type", json_string(r->type));
	e->loc.len = 0;
	e->depth = 0;
	synth_buf_printf(&e->loc, "%s: Properties", r->path);
	json_t *props = resolve(e, si, r->props);
	if (!props)
		goto fail;
	if (json_object_size(props))
		ok &= !json_object_set_new(o, "Properties", props);
	else
		json_decref(props);
	if (depends_on(e, si, r, o) < 0)
		goto fail;
	if (r->condition) {
		ok &= !json_object_set_new(o, "Condition", json_string(r->condition));
		e->stacks[si].uses_conditions = true;
	}
	if (r->deletion_policy) {
		ok &= !json_object_set_new(o, "UpdateReplacePolicy", json_string(r->deletion_policy));
		ok &= !json_object_set_new(o, "DeletionPolicy", json_string(r->deletion_policy));
	}
	json_t *md = NULL;
	if (resource_metadata(e, si, r, &md) < 0)
		goto fail;
	ok &= !json_object_set_new(o, "Metadata", md);
	if (ok)
		return o;
	synth_error_oom();
fail:
	json_decref(o);
	return NULL;
}

/* --- 4. write ---------------------------------------------------------- */

static int write_template(emit *e, const char *dir, json_t *t, const char *file,
			  char hash[65], const char *what)
{
	char *text = synth_json_dumps(t, JSON_INDENT(1));
	if (!text)
		return synth_error_oom();
	size_t len = strlen(text);
	int rc = 0;
	/* CloudFormation reads the file as uploaded: a template whose indented
	 * form is over the limit is written minified, and one that is over
	 * even minified is an error. */
	if (len + 1 > LIMIT_BYTES) {
		char *min = synth_json_dumps(t, JSON_COMPACT);
		if (!min) {
			rc = synth_error_oom();
		} else if (strlen(min) + 1 > LIMIT_BYTES) {
			synth_error_setf(SYNTH_ELIMIT,
					 "%s: the template is %zu bytes minified; "
					 "CloudFormation allows %d", what, strlen(min) + 1,
					 LIMIT_BYTES);
			rc = synth__backend_fail(e->b);
			free(min);
		} else {
			free(text);
			text = min;
			len = strlen(text);
		}
	}
	/* Templates end with a newline, as text files should. */
	char *body = rc == 0 ? realloc(text, len + 2) : NULL;
	if (body) {
		text = body;
		text[len++] = '\n';
		text[len] = '\0';
	} else if (rc == 0) {
		rc = synth_error_oom();
	}
	char *path = rc == 0 ? synth_asprintf("%s/%s", dir, file) : NULL;
	if (rc == 0 && !path)
		rc = synth_error_oom();
	if (rc == 0)
		rc = synth__write_file(path, text, len);
	if (rc == 0)
		rc = synth_sha256_hex(text, len, hash);
	free(path);
	free(text);
	return rc;
}

static int check_counts(emit *e, const stack *s, json_t *resources)
{
	const char *what = NULL;
	size_t n = 0, lim = 0;
	if (json_object_size(resources) > LIMIT_RESOURCES)
		what = "resources", n = json_object_size(resources), lim = LIMIT_RESOURCES;
	else if (json_object_size(s->outputs) > LIMIT_OUTPUTS)
		what = "outputs", n = json_object_size(s->outputs), lim = LIMIT_OUTPUTS;
	else if (json_object_size(s->params) > LIMIT_PARAMETERS)
		what = "parameters", n = json_object_size(s->params), lim = LIMIT_PARAMETERS;
	if (!what)
		return 0;
	synth_error_setf(SYNTH_ELIMIT, "stack %s: %zu %s; CloudFormation allows %zu per "
			 "stack", s->name, n, what, lim);
	return synth__backend_fail(e->b);
}


/* The CloudFormation template format version every template declares. */
#define TEMPLATE_FORMAT_VERSION "2010-09-09"
/* The cloud assembly schema version of manifest.json and the assets file. */
#define MANIFEST_VERSION "55.0.0"
/* The bootstrap stack versions the deploy role (and the asset manifest)
 * and the lookup role require. */
#define BOOTSTRAP_VERSION_DEPLOY 6
#define BOOTSTRAP_VERSION_LOOKUP 8
/* The asset manifest's one destination: the deploying account and region. */
#define ASSET_DESTINATION "current_account-current_region"
/* A nested stack's TemplateURL (Fn::Sub), followed by its S3 key. */
#define TEMPLATE_URL_PREFIX "https://s3.${AWS::Region}.${AWS::URLSuffix}/" SYNTH_ASSET_BUCKET_SUB "/"
/* The type of manifest.json's metadata entries naming a logical ID. */
#define MD_LOGICAL_ID "aws:cdk:logicalId"

/* What write_all's steps hand each other. */
typedef struct assembly {
	emit *e;
	const char *dir;     /* the staging directory */
	json_t **res;        /* per stack: its Resources object */
	json_t *meta;        /* the root's Metadata: output names by category */
	json_t *files;       /* asset manifest entries of the nested templates */
	char *root_file;     /* the root template's file name */
} assembly;

static const char *type_name(const synth_backend *b)
{
	return b->type == SYNTH_BACKEND_BRANCH ? "branch" : "sandbox";
}

/* An asset manifest entry: FILE of the assembly, published to the asset
 * bucket as KEY with the bootstrap's file publishing role. */
static json_t *file_asset(const char *display, const char *file, const char *key)
{
	return objn("displayName", json_string(display),
		    "source", objn("path", json_string(file), "packaging", json_string("file"),
				   (char *)NULL),
		    "destinations",
		    objn(ASSET_DESTINATION,
			 objn("bucketName", json_string(SYNTH_ASSET_BUCKET_SUB), "objectKey",
			      json_string(key), "assumeRoleArn",
			      json_string(SYNTH_BOOTSTRAP_ROLE_SUB("file-publishing-role")),
			      (char *)NULL),
			 (char *)NULL),
		    (char *)NULL);
}

/* Writes the JSON document DOC (indented, no final newline) as DIR/FILE. */
static int write_json(const char *dir, const char *file, const json_t *doc)
{
	char *text = doc ? synth_json_dumps(doc, JSON_INDENT(1)) : NULL;
	char *path = synth_asprintf("%s/%s", dir, file);
	int rc = text && path ? synth__write_file(path, text, strlen(text)) : synth_error_oom();
	free(text);
	free(path);
	return rc;
}

/* Fills a->res: every stack's resources. Cross-stack references register
 * outputs, parameters and ordering on the stacks involved as they go. */
static int emit_stack_resources(assembly *a)
{
	emit *e = a->e;
	for (size_t si = 0; si < e->nstacks; si++) {
		stack *s = &e->stacks[si];
		if (!(a->res[si] = json_object()))
			return synth_error_oom();
		for (size_t k = 0; k < s->nres; k++) {
			synth_resource *r = e->b->resources[s->res[k]];
			json_t *o = emit_resource(e, si, r);
			if (!o)
				return synth_error_last()->code ? synth__backend_fail(e->b)
								: synth_error_oom();
			json_object_set_new(a->res[si], r->logical_id, o);
		}
	}
	return 0;
}

/* Records output O's name under "AWS::Amplify::<Category>" in META (the
 * root template's Metadata: "custom" -> "AWS::Amplify::Custom"). */
static void add_output_category(json_t *meta, const synth_output *o)
{
	char *key = synth_asprintf("AWS::Amplify::%c%s", toupper((unsigned char)o->category[0]),
				   o->category + 1);
	json_t *cat = key ? json_object_get(meta, key) : NULL;
	if (key && !cat) {
		cat = json_pack("{s:s,s:[]}", "version", "1", "stackOutputs");
		json_object_set_new(meta, key, cat);
	}
	if (cat)
		json_array_append_new(json_object_get(cat, "stackOutputs"), json_string(o->name));
	free(key);
}

/* Adds the backend's outputs to the root's Outputs (their values may
 * import from nested stacks) and their categories to a->meta. */
static int emit_root_outputs(assembly *a)
{
	emit *e = a->e;
	synth_backend *b = e->b;
	for (size_t i = 0; i < b->noutputs; i++) {
		synth_output *o = &b->outputs[i];
		e->loc.len = 0;
		e->depth = 0;
		synth_buf_printf(&e->loc, "output %s", o->name);
		json_t *v = resolve(e, 0, o->value);
		if (!v)
			return synth__backend_fail(b);
		json_t *out = json_object();
		if (o->description)
			json_object_set_new(out, "Description", json_string(o->description));
		json_object_set_new(out, "Value", v);
		if (o->export_name)
			json_object_set_new(out, "Export", json_pack("{s:s}", "Name", o->export_name));
		json_object_set_new(e->stacks[0].outputs, o->name, out);
		add_output_category(a->meta, o);
	}
	return 0;
}

/* *OUT: nested stack SI's template (its Conditions resolved in it). */
static int nested_template(assembly *a, size_t si, json_t **out)
{
	emit *e = a->e;
	stack *s = &e->stacks[si];
	json_t *t = json_pack("{s:s,s:s}", "AWSTemplateFormatVersion", TEMPLATE_FORMAT_VERSION,
			      "Description", "libsynth nested stack");
	if (!t)
		return synth_error_oom();
	if (s->uses_conditions && json_object_size(e->b->conditions)) {
		json_t *c = resolve(e, si, e->b->conditions);
		if (!c) {
			json_decref(t);
			return synth__backend_fail(e->b);
		}
		json_object_set_new(t, "Conditions", c);
	}
	if (json_object_size(s->params))
		json_object_set(t, "Parameters", s->params);
	json_object_set(t, "Resources", a->res[si]);
	if (json_object_size(s->outputs))
		json_object_set(t, "Outputs", s->outputs);
	*out = t;
	return 0;
}

/* Whether nested stack S is given a value of root resource LID. */
static bool passes(const stack *s, const char *lid)
{
	const char *k;
	json_t *v;
	json_object_foreach(s->pass, k, v) {
		json_t *x = json_object_get(v, "Ref");
		if (!x)
			x = json_array_get(json_object_get(v, "Fn::GetAtt"), 0);
		if (json_is_string(x) && !strcmp(json_string_value(x), lid))
			return true;
	}
	return false;
}

static bool in_array(const json_t *a, const json_t *x)
{
	size_t i;
	json_t *v;
	json_array_foreach(a, i, v)
		if (json_equal(v, x))
			return true;
	return false;
}

/* The root's AWS::CloudFormation::Stack resource for nested stack S,
 * whose template is published as KEY. */
static json_t *nested_stack_resource(const emit *e, const stack *s, const char *key)
{
	char *url = synth_asprintf(TEMPLATE_URL_PREFIX "%s", key);
	json_t *props = url ? json_pack("{s:{s:s}}", "TemplateURL", "Fn::Sub", url) : NULL;
	free(url);
	if (props && json_object_size(s->pass))
		json_object_set(props, "Parameters", s->pass);
	json_t *nr = props ? json_pack("{s:s,s:o}", "Type", "AWS::CloudFormation::Stack",
				       "Properties", props) : NULL;
	if (!nr)
		return NULL;
	/* Only what the parameters do not imply already (W3005). */
	json_t *after = json_array();
	for (size_t k = 1; k < e->nstacks; k++)
		if (s->after[k] == AFTER_EXPLICIT)
			json_array_append_new(after, json_string(e->stacks[k].lid));
	size_t i;
	json_t *lid;
	json_array_foreach(s->after_root, i, lid)
		if (!passes(s, json_string_value(lid)) && !in_array(after, lid))
			json_array_append(after, lid);
	if (json_array_size(after))
		json_object_set_new(nr, "DependsOn", after);
	else
		json_decref(after);
	json_object_set_new(nr, "UpdateReplacePolicy", json_string("Delete"));
	json_object_set_new(nr, "DeletionPolicy", json_string("Delete"));
	json_object_set_new(nr, "Metadata",
			    json_pack("{s:s,s:s,s:s}", SYNTH_MD_PATH, s->name, SYNTH_MD_ASSET_PATH,
				      s->file, SYNTH_MD_ASSET_PROPERTY, "TemplateURL"));
	return nr;
}

/* Writes nested stack SI's template ("<stack>.<name>.nested.template.json",
 * hashed into s->hash), adds it to a->files and its stack resource to the
 * root's resources. */
static int write_nested(assembly *a, size_t si)
{
	emit *e = a->e;
	synth_backend *b = e->b;
	stack *s = &e->stacks[si];
	json_t *t = NULL;
	int rc = nested_template(a, si, &t);
	if (rc < 0)
		return rc;
	s->file = synth_asprintf("%s.%s.nested.template.json", b->stack_name, s->name);
	rc = check_counts(e, s, a->res[si]);
	if (rc == 0)
		rc = s->file ? write_template(e, a->dir, t, s->file, s->hash, s->name)
			     : synth_error_oom();
	json_decref(t);
	if (rc < 0)
		return rc;
	char *key = synth_asprintf("%s.json", s->hash);
	char *disp = synth_asprintf("%s/%s template", b->stack_name, s->name);
	json_t *fa = key && disp ? file_asset(disp, s->file, key) : NULL;
	json_t *nr = fa ? nested_stack_resource(e, s, key) : NULL;
	if (nr) {
		json_object_set_new(a->files, s->hash, fa);
		json_object_set_new(a->res[0], s->lid, nr);
	} else {
		json_decref(fa);
		rc = synth_error_oom();
	}
	free(key);
	free(disp);
	return rc;
}

/* The logical IDs of stack S's resources, space-separated (NULL: out of
 * memory). */
static json_t *stack_lids(const emit *e, const stack *s)
{
	synth_buf ids = SYNTH_BUF_INIT;
	for (size_t k = 0; k < s->nres; k++) {
		if (k)
			synth_buf_putc(&ids, ' ');
		synth_buf_puts(&ids, e->b->resources[s->res[k]]->logical_id);
	}
	json_t *v = ids.oom ? NULL : json_stringn(ids.ptr ? ids.ptr : "", ids.len);
	synth_buf_free(&ids);
	return v;
}

/* Adds the placement memory to META: every nested stack, in rank order,
 * with the logical IDs it holds (one string, the smallest form). */
static int add_layout_metadata(const emit *e, json_t *meta)
{
	json_t *a = json_array();
	int rc = a ? 0 : SYNTH_ENOMEM;
	for (size_t si = 1; rc == 0 && si < e->nstacks; si++) {
		json_t *x = json_pack("{s:s,s:o}", "name", e->stacks[si].name, "resources",
				      stack_lids(e, &e->stacks[si]));
		if (!x || json_array_append_new(a, x) < 0)
			rc = SYNTH_ENOMEM;
	}
	json_t *md = rc == 0 ? json_pack("{s:i,s:o}", "version", 1, "stacks", a) : NULL;
	if (rc != 0)
		json_decref(a);
	if (!md || json_object_set_new(meta, SYNTH_MD_LAYOUT, md) < 0)
		return SYNTH_ENOMEM;
	return 0;
}

/* Writes the assembly's copy of the placement memory (SYNTH_LAYOUT_FILE,
 * plain text so the next synth reads it at memchr speed instead of
 * parsing the whole root template): "synth-layout 1 STACK", then one line
 * per stack, the root first, then the nested ones in rank order: its name
 * ("root" for the root) and its logical IDs, space-separated. */
static int write_layout_file(assembly *a)
{
	const emit *e = a->e;
	synth_buf t = SYNTH_BUF_INIT;
	synth_buf_printf(&t, "synth-layout 1 %s\n", e->b->stack_name);
	for (size_t si = 0; si < e->nstacks; si++) {
		const stack *s = &e->stacks[si];
		synth_buf_puts(&t, si ? s->name : "root");
		for (size_t k = 0; k < s->nres; k++) {
			synth_buf_putc(&t, ' ');
			synth_buf_puts(&t, e->b->resources[s->res[k]]->logical_id);
		}
		synth_buf_putc(&t, '\n');
	}
	char *path = synth_asprintf("%s/%s", a->dir, SYNTH_LAYOUT_FILE);
	int rc = t.oom || !path ? synth_error_oom() : synth__write_file(path, t.ptr, t.len);
	free(path);
	synth_buf_free(&t);
	return rc;
}

/* *OUT: the root template: the backend's parameters, conditions and
 * outputs, a->meta, and the resources with the nested stacks'. */
static int root_template(assembly *a, json_t **out)
{
	emit *e = a->e;
	synth_backend *b = e->b;
	char *desc = synth_asprintf("libsynth backend %s/%s (%s)", b->ns, b->name, type_name(b));
	json_t *t = json_pack("{s:s,s:s}", "AWSTemplateFormatVersion", TEMPLATE_FORMAT_VERSION,
			      "Description", desc ? desc : "libsynth backend");
	free(desc);
	json_t *params = json_object();
	if (!t || !params) {
		json_decref(t);
		json_decref(params);
		return synth_error_oom();
	}
	if (e->nstacks > 1 && add_layout_metadata(e, a->meta) < 0) {
		json_decref(t);
		json_decref(params);
		return synth_error_oom();
	}
	if (json_object_size(a->meta))
		json_object_set(t, "Metadata", a->meta);
	for (size_t i = 0; i < b->nparams; i++)
		json_object_set(params, b->params[i].name, b->params[i].decl);
	if (json_object_size(params))
		json_object_set(t, "Parameters", params);
	json_decref(params);
	if (json_object_size(b->conditions)) {
		json_t *c = resolve(e, 0, b->conditions);
		if (!c) {
			json_decref(t);
			return synth__backend_fail(b);
		}
		json_object_set_new(t, "Conditions", c);
	}
	json_object_set(t, "Resources", a->res[0]);
	if (json_object_size(e->stacks[0].outputs))
		json_object_set(t, "Outputs", e->stacks[0].outputs);
	*out = t;
	return 0;
}

/* Writes the root template ("<stack>.template.json", hashed into the
 * root's hash; its name kept in a->root_file). */
static int write_root(assembly *a)
{
	emit *e = a->e;
	stack *root = &e->stacks[0];
	json_t *t = NULL;
	int rc = root_template(a, &t);
	if (rc < 0)
		return rc;
	a->root_file = synth_asprintf("%s.template.json", e->b->stack_name);
	rc = check_counts(e, root, a->res[0]);
	if (rc == 0)
		rc = a->root_file ? write_template(e, a->dir, t, a->root_file, root->hash, root->name)
				  : synth_error_oom();
	json_decref(t);
	return rc;
}

/* Writes "<stack>.assets.json": the code and file assets (once per
 * hash), the nested templates, then the root template. */
static int write_asset_manifest(assembly *a)
{
	synth_backend *b = a->e->b;
	const stack *root = &a->e->stacks[0];
	json_t *files = json_object();
	if (!files)
		return synth_error_oom();
	for (size_t i = 0; i < b->nassets; i++) {
		synth_asset *as = &b->assets[i];
		if (!json_object_get(files, as->hash))
			json_object_set_new(files, as->hash,
					    file_asset(as->source, as->file, asset_key(as)));
	}
	json_object_update(files, a->files);
	char *key = synth_asprintf("%s.json", root->hash);
	char *disp = synth_asprintf("%s template", b->stack_name);
	json_t *fa = key && disp ? file_asset(disp, a->root_file, key) : NULL;
	free(key);
	free(disp);
	if (!fa) {
		json_decref(files);
		return synth_error_oom();
	}
	json_object_set_new(files, root->hash, fa);
	json_t *am = json_pack("{s:s,s:o,s:{}}", "version", MANIFEST_VERSION, "files", files,
			       "dockerImages");
	char *name = synth_asprintf("%s.assets.json", b->stack_name);
	int rc = name ? write_json(a->dir, name, am) : synth_error_oom();
	free(name);
	json_decref(am);
	return rc;
}

/* manifest.json's metadata: "/<stack>[/<nested>]/<path>" -> the logical ID
 * of every resource, as the CDK toolkit reads it. */
static json_t *logical_id_metadata(const emit *e)
{
	const synth_backend *b = e->b;
	json_t *md = json_object();
	for (size_t si = 0; md && si < e->nstacks; si++)
		for (size_t k = 0; k < e->stacks[si].nres; k++) {
			const synth_resource *r = b->resources[e->stacks[si].res[k]];
			char *mp = si == 0 ? synth_asprintf("/%s/%s", b->stack_name, r->path)
					   : synth_asprintf("/%s/%s/%s", b->stack_name,
							    e->stacks[si].name, r->path);
			json_t *entry = mp ? json_array() : NULL;
			if (entry && json_array_append_new(entry, objn("type", json_string(MD_LOGICAL_ID),
									"data", json_string(r->logical_id),
									(char *)NULL)) < 0) {
				json_decref(entry);
				entry = NULL;
			}
			if (mp)
				json_object_set_new(md, mp, entry);
			free(mp);
		}
	return md;
}

/* The asset manifest's artifact (ASSETS_ID, reading FILE). */
static json_t *asset_manifest_artifact(const char *assets_id, const char *file)
{
	return json_pack("{s:s,s:{s:s,s:i,s:s},s:s}", "type", SYNTH_ARTIFACT_ASSET_MANIFEST,
			 "properties", "file", file, "requiresBootstrapStackVersion",
			 BOOTSTRAP_VERSION_DEPLOY, "bootstrapStackVersionSsmParameter",
			 SYNTH_BOOTSTRAP_VERSION_PARAM, "displayName", assets_id);
}

/* The stack artifact's properties: the root template, its name and tags,
 * the bootstrap roles, and the asset manifest it needs first. */
static json_t *stack_properties(const assembly *a, const char *assets_id)
{
	const synth_backend *b = a->e->b;
	char *url = synth_asprintf("s3://" SYNTH_ASSET_BUCKET_SUB "/%s.json", a->e->stacks[0].hash);
	json_t *tags = json_pack("{s:s,s:s,s:s}", SYNTH_CTX_NAMESPACE, b->ns, SYNTH_CTX_NAME,
				 b->name, SYNTH_CTX_TYPE, type_name(b));
	json_t *lookup = json_pack("{s:s,s:i,s:s}", "arn", SYNTH_BOOTSTRAP_ROLE_SUB("lookup-role"),
				   "requiresBootstrapStackVersion", BOOTSTRAP_VERSION_LOOKUP,
				   "bootstrapStackVersionSsmParameter",
				   SYNTH_BOOTSTRAP_VERSION_PARAM);
	json_t *p = NULL;
	if (url && tags && lookup)
		p = json_pack("{s:s,s:s,s:O,s:b,s:s,s:s,s:s,s:i,s:s,s:[s],s:O}", "templateFile",
			      a->root_file, "stackName", b->stack_name, "tags", tags,
			      "validateOnSynth", 0, "assumeRoleArn",
			      SYNTH_BOOTSTRAP_ROLE_SUB("deploy-role"),
			      "cloudFormationExecutionRoleArn",
			      SYNTH_BOOTSTRAP_ROLE_SUB("cfn-exec-role"),
			      "stackTemplateAssetObjectUrl", url, "requiresBootstrapStackVersion",
			      BOOTSTRAP_VERSION_DEPLOY, "bootstrapStackVersionSsmParameter",
			      SYNTH_BOOTSTRAP_VERSION_PARAM, "additionalDependencies", assets_id,
			      "lookupRole", lookup);
	free(url);
	json_decref(tags);
	json_decref(lookup);
	return p;
}

/* The stack artifact: deployed after ASSETS_ID is published. */
static json_t *stack_artifact(const assembly *a, const char *assets_id)
{
	json_t *props = stack_properties(a, assets_id);
	json_t *md = logical_id_metadata(a->e);
	json_t *art = NULL;
	if (props && md)
		art = json_pack("{s:s,s:s,s:O,s:[s],s:O,s:s}", "type", SYNTH_ARTIFACT_STACK,
				"environment", "aws://unknown-account/unknown-region",
				"properties", props, "dependencies", assets_id, "metadata", md,
				"displayName", a->e->b->stack_name);
	json_decref(props);
	json_decref(md);
	return art;
}

/* Writes manifest.json: the asset manifest's artifact, then the stack's. */
static int write_manifest(assembly *a)
{
	const synth_backend *b = a->e->b;
	char *assets_id = synth_asprintf("%s.assets", b->stack_name);
	char *assets_file = synth_asprintf("%s.assets.json", b->stack_name);
	json_t *arts = json_object();
	json_t *am = assets_id && assets_file ? asset_manifest_artifact(assets_id, assets_file)
					      : NULL;
	json_t *st = assets_id ? stack_artifact(a, assets_id) : NULL;
	int rc = arts && am && st ? 0 : synth_error_oom();
	if (rc == 0 && (json_object_set(arts, assets_id, am) < 0 ||
			json_object_set(arts, b->stack_name, st) < 0))
		rc = synth_error_oom();
	json_t *man = rc == 0 ? json_pack("{s:s,s:O}", "version", MANIFEST_VERSION,
					  "artifacts", arts) : NULL;
	if (rc == 0)
		rc = man ? write_json(a->dir, SYNTH_MANIFEST_FILE, man) : synth_error_oom();
	json_decref(man);
	json_decref(arts);
	json_decref(am);
	json_decref(st);
	free(assets_id);
	free(assets_file);
	return rc;
}

/* Writes the assembly into DIR: the per-stack resources first (they wire
 * the cross-stack references), then the root outputs, the nested
 * templates (their hashes name them in S3), the root template, the asset
 * manifest and manifest.json. */
static int write_all(emit *e, const char *dir)
{
	assembly a = {.e = e, .dir = dir};
	a.res = calloc(e->nstacks, sizeof *a.res);
	a.files = json_object();
	a.meta = json_object();
	int rc = a.res && a.files && a.meta ? 0 : synth_error_oom();
	if (rc == 0)
		rc = emit_stack_resources(&a);
	if (rc == 0)
		rc = emit_root_outputs(&a);
	for (size_t si = 1; rc == 0 && si < e->nstacks; si++)
		rc = write_nested(&a, si);
	if (rc == 0)
		rc = write_root(&a);
	if (rc == 0 && e->nstacks > 1)
		rc = write_layout_file(&a);
	if (rc == 0)
		rc = write_asset_manifest(&a);
	if (rc == 0)
		rc = write_manifest(&a);
	for (size_t si = 0; a.res && si < e->nstacks; si++)
		json_decref(a.res[si]);
	free(a.res);
	json_decref(a.files);
	json_decref(a.meta);
	free(a.root_file);
	return rc;
}

int synth__emit_assembly(synth_backend *b, const char *dir)
{
	emit e = {.b = b, .n = b->nresources};
	size_t n = e.n ? e.n : 1;
	e.deps = calloc(n, sizeof *e.deps);
	e.ndeps = calloc(n, sizeof *e.ndeps);
	e.capdeps = calloc(n, sizeof *e.capdeps);
	e.est = calloc(n, sizeof *e.est);
	e.ntok = calloc(n, sizeof *e.ntok);
	e.attrs = calloc(n, sizeof *e.attrs);
	e.nattrs = calloc(n, sizeof *e.nattrs);
	int rc = e.deps && e.ndeps && e.capdeps && e.est && e.ntok && e.attrs && e.nattrs
		 ? 0 : synth_error_oom();
	/* Explicit DependsOn are edges too: they must be inside the model. */
	if (rc == 0)
		rc = collect_deps(&e);
	if (rc == 0)
		rc = check_cycles(&e);
	if (rc == 0)
		rc = synth__layout(&e);
	if (rc == 0)
		rc = write_all(&e, dir);
	for (size_t i = 0; e.deps && i < e.n; i++)
		free(e.deps[i]);
	free(e.deps);
	free(e.ndeps);
	free(e.capdeps);
	free(e.est);
	free(e.ntok);
	free(e.attrs);
	free(e.nattrs);
	synth__layout_free(&e);
	synth_buf_free(&e.loc);
	return rc;
}

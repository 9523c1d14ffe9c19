/*
 * Stack layout and emission: from the generated model to templates, the
 * asset manifest and manifest.json.
 *
 *  1. collect_deps: every resource's references (tokens in its properties,
 *     explicit DependsOn) become graph edges; unknown references and
 *     dependency cycles are errors naming the place and every step.
 *  2. layout: one stack while CloudFormation's limits allow; otherwise the
 *     resources are ordered producers-first (strongly connected groups of
 *     constructs kept together) and packed into the root stack and nested
 *     stacks in that order, so references only flow from later stacks to
 *     earlier ones.
 *  3. resolve: tokens become Ref / Fn::GetAtt inside a stack; across
 *     stacks they become an output of the producer and a parameter of the
 *     consumer, wired through the nested stack resources in the root.
 *  4. write: nested templates first (their hashes name them in S3), then
 *     the root template, the asset manifest and manifest.json.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "internal.h"

#define LIMIT_RESOURCES 500
#define LIMIT_OUTPUTS 200
#define LIMIT_PARAMETERS 200
#define LIMIT_BYTES 1000000
/* Packing budgets leave room for the parameters, outputs and nested stack
 * resources that the split itself adds. */
#define BUDGET_ROOT_RESOURCES 400
#define BUDGET_NESTED_RESOURCES 450
#define BUDGET_ROOT_BYTES 700000
#define BUDGET_NESTED_BYTES 800000
/* Cross-stack references a nested stack may import (each becomes one or
 * two parameters). */
#define IMPORT_BUDGET 150

#define ASSET_BUCKET "cdk-hnb659fds-assets-${AWS::AccountId}-${AWS::Region}"
#define MANIFEST_VERSION "55.0.0"

typedef struct stack {
	char *name;          /* root: the stack name; nested: "Nested<N>" */
	char *lid;           /* nested: logical ID of its AWS::CloudFormation::Stack */
	size_t *res;         /* resource indices, in order */
	size_t nres;
	size_t bytes;        /* estimated */
	json_t *params;      /* Parameters */
	json_t *outputs;     /* Outputs */
	json_t *pass;        /* nested: Parameters values given by the root */
	bool *after;         /* nested: stacks this one must follow */
	json_t *after_root;  /* nested: root resources it must follow (lids) */
	bool uses_conditions;
	char *file;          /* template file name */
	char hash[65];
} stack;

typedef struct emit {
	synth_backend *b;
	size_t n;            /* resources */
	size_t **deps;       /* per resource: indices it depends on */
	size_t *ndeps;
	size_t *est;         /* per resource: estimated bytes */
	stack *stacks;
	size_t nstacks;
	synth_buf loc;       /* where we are, for messages: a prefix ... */
	const char *seg[128];/* ... plus the keys (or NULL for an index) below it */
	size_t idx[128];
	size_t depth;
} emit;

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
	size_t *d = realloc(e->deps[from], (e->ndeps[from] + 1) * sizeof *d);
	if (!d)
		return synth_error_oom();
	e->deps[from] = d;
	d[e->ndeps[from]++] = to;
	return 0;
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

/* --- 2. layout --------------------------------------------------------- */

static stack *new_stack(emit *e, const char *name)
{
	stack *s = realloc(e->stacks, (e->nstacks + 1) * sizeof *s);
	if (!s)
		return NULL;
	e->stacks = s;
	s = &e->stacks[e->nstacks];
	memset(s, 0, sizeof *s);
	s->name = strdup(name);
	s->params = json_object();
	s->outputs = json_object();
	s->pass = json_object();
	s->res = malloc((e->n ? e->n : 1) * sizeof *s->res);
	if (!s->name || !s->params || !s->outputs || !s->pass || !s->res) {
		free(s->name);
		json_decref(s->params);
		json_decref(s->outputs);
		json_decref(s->pass);
		free(s->res);
		return NULL;
	}
	e->nstacks++;
	return s;
}

static void put(emit *e, stack *s, size_t r)
{
	s->res[s->nres++] = r;
	s->bytes += e->est[r];
	e->b->resources[r]->stack = (size_t)(s - e->stacks);
}

/* Tarjan's strongly connected components over the unit (construct) graph.
 * Components come out producers first. Iterative, so deep chains of
 * constructs cannot overflow the stack. */
typedef struct tarjan {
	size_t nunits;
	size_t **adj;
	size_t *nadj;
	size_t *index, *low, *stk, *comp, *callv, *calli;
	bool *on;
	size_t sp, next_index, ncomp;
} tarjan;

static void strong(tarjan *t, size_t root)
{
	size_t depth = 0;
	t->callv[0] = root;
	t->calli[0] = 0;
	t->index[root] = t->low[root] = ++t->next_index;
	t->stk[t->sp++] = root;
	t->on[root] = true;
	while (depth != (size_t)-1) {
		size_t v = t->callv[depth];
		if (t->calli[depth] < t->nadj[v]) {
			size_t w = t->adj[v][t->calli[depth]++];
			if (!t->index[w]) {
				t->index[w] = t->low[w] = ++t->next_index;
				t->stk[t->sp++] = w;
				t->on[w] = true;
				depth++;
				t->callv[depth] = w;
				t->calli[depth] = 0;
			} else if (t->on[w] && t->index[w] < t->low[v])
				t->low[v] = t->index[w];
			continue;
		}
		if (t->low[v] == t->index[v]) {
			size_t w;
			do {
				w = t->stk[--t->sp];
				t->on[w] = false;
				t->comp[w] = t->ncomp;
			} while (w != v);
			t->ncomp++;
		}
		depth--;
		if (depth != (size_t)-1) {
			size_t u = t->callv[depth];
			if (t->low[v] < t->low[u])
				t->low[u] = t->low[v];
		}
	}
}

/* Cross-stack references the resource R would import if placed in stack
 * SI (distinct producers in other stacks that SI does not import yet). */
static size_t new_imports(emit *e, size_t si, size_t r, const unsigned *imported,
			  unsigned stamp)
{
	size_t n = 0;
	for (size_t d = 0; d < e->ndeps[r]; d++) {
		size_t t = e->deps[r][d];
		if (e->b->resources[t]->stack != si && imported[t] != stamp)
			n++;
	}
	return n;
}

static int layout(emit *e)
{
	synth_backend *b = e->b;
	size_t total = 0;
	for (size_t i = 0; i < e->n; i++)
		total += e->est[i];
	stack *root = new_stack(e, b->stack_name);
	if (!root)
		return synth_error_oom();
	if (e->n <= LIMIT_RESOURCES && total <= LIMIT_BYTES - 50000) {
		for (size_t i = 0; i < e->n; i++)
			put(e, &e->stacks[0], i);
		return 0;
	}

	/*
	 * 1. Units (constructs) and their strongly connected components, in
	 *    producer-first order.
	 * 2. Within a component, resources in dependency order (Kahn),
	 *    preferring to finish the construct at hand, so a construct's
	 *    resources stay together and cuts cross few references.
	 * 3. Pack in that order: the root first, then nested stacks, each
	 *    within its resource, byte and import budgets. A resource that
	 *    nothing depends on and that would import many references goes
	 *    to the root, which reads nested outputs without parameters.
	 */
	size_t n = e->n, nunits = b->nconstructs + n;
	tarjan t = {.nunits = nunits};
	t.adj = calloc(nunits, sizeof *t.adj);
	t.nadj = calloc(nunits, sizeof *t.nadj);
	t.index = calloc(nunits, sizeof(size_t));
	t.low = calloc(nunits, sizeof(size_t));
	t.stk = calloc(nunits, sizeof(size_t));
	t.comp = calloc(nunits, sizeof(size_t));
	t.callv = calloc(nunits, sizeof(size_t));
	t.calli = calloc(nunits, sizeof(size_t));
	t.on = calloc(nunits, sizeof(bool));
	size_t *order = malloc(n * sizeof *order);
	size_t *indeg = calloc(n, sizeof *indeg);
	size_t *ndependents = calloc(n, sizeof *ndependents);
	size_t **dependents = calloc(n, sizeof *dependents);
	size_t *cstart = calloc(nunits + 1, sizeof *cstart);
	size_t *members = malloc(n * sizeof *members);
	size_t *ready = malloc(n * sizeof *ready);
	unsigned *imported = calloc(n, sizeof *imported);
	bool *sink = calloc(n, sizeof *sink);
	int rc = 0;
	if (!t.adj || !t.nadj || !t.index || !t.low || !t.stk || !t.comp || !t.callv ||
	    !t.calli || !t.on || !order || !indeg || !ndependents || !dependents ||
	    !cstart || !members || !ready || !imported || !sink)
		rc = synth_error_oom();
	for (size_t i = 0; rc == 0 && i < n; i++) {
		size_t u = b->resources[i]->unit;
		for (size_t d = 0; rc == 0 && d < e->ndeps[i]; d++) {
			size_t dep = e->deps[i][d];
			size_t *dl = realloc(dependents[dep], (ndependents[dep] + 1) * sizeof *dl);
			if (!dl) {
				rc = synth_error_oom();
				break;
			}
			dependents[dep] = dl;
			dl[ndependents[dep]++] = i;
			size_t w = b->resources[dep]->unit;
			if (w == u)
				continue;
			size_t *a = realloc(t.adj[u], (t.nadj[u] + 1) * sizeof *a);
			if (!a) {
				rc = synth_error_oom();
				break;
			}
			t.adj[u] = a;
			a[t.nadj[u]++] = w;
		}
	}
	for (size_t u = 0; rc == 0 && u < nunits; u++)
		if (!t.index[u])
			strong(&t, u);

	/* Members of each component, in resource creation order. */
	if (rc == 0) {
		for (size_t i = 0; i < n; i++)
			cstart[t.comp[b->resources[i]->unit] + 1]++;
		for (size_t c = 0; c < t.ncomp; c++)
			cstart[c + 1] += cstart[c];
		size_t *fill = malloc((t.ncomp + 1) * sizeof *fill);
		if (!fill)
			rc = synth_error_oom();
		else {
			memcpy(fill, cstart, (t.ncomp + 1) * sizeof *fill);
			for (size_t i = 0; i < n; i++)
				members[fill[t.comp[b->resources[i]->unit]]++] = i;
			free(fill);
		}
	}
	/* Kahn within each component. Dependencies outside it are placed. */
	size_t no = 0;
	for (size_t c = 0; rc == 0 && c < t.ncomp; c++) {
		size_t lo = cstart[c], hi = cstart[c + 1], nready = 0;
		for (size_t k = lo; k < hi; k++) {
			size_t r = members[k];
			indeg[r] = 0;
			for (size_t d = 0; d < e->ndeps[r]; d++)
				indeg[r] += t.comp[b->resources[e->deps[r][d]]->unit] == c;
			if (!indeg[r])
				ready[nready++] = r;
		}
		size_t cur_unit = (size_t)-1;
		while (nready) {
			/* The current construct's first ready resource, else the
			 * ready resource of the earliest construct. */
			size_t best = 0;
			for (size_t k = 1; k < nready; k++) {
				synth_resource *x = b->resources[ready[k]];
				synth_resource *y = b->resources[ready[best]];
				bool xc = x->unit == cur_unit, yc = y->unit == cur_unit;
				if ((xc && !yc) || (xc == yc && (x->unit < y->unit ||
				    (x->unit == y->unit && x->index < y->index))))
					best = k;
			}
			size_t r = ready[best];
			ready[best] = ready[--nready];
			order[no++] = r;
			cur_unit = b->resources[r]->unit;
			for (size_t k = 0; k < ndependents[r]; k++) {
				size_t q = dependents[r][k];
				if (t.comp[b->resources[q]->unit] == c && --indeg[q] == 0)
					ready[nready++] = q;
			}
		}
	}
	if (rc == 0 && no != n) {
		synth_error_setf(SYNTH_ERROR, "internal error: layout ordered %zu of %zu "
				 "resources", no, n);
		rc = synth__backend_fail(b);
	}

	/* Pack. */
	stack *cur = &e->stacks[0];
	size_t maxr = BUDGET_ROOT_RESOURCES, maxb = BUDGET_ROOT_BYTES, nimports = 0;
	size_t nsinks = 0;
	unsigned stamp = 1;
	for (size_t k = 0; k < n; k++)
		b->resources[k]->stack = (size_t)-1;
	for (size_t c = 0, k = 0; rc == 0 && c < t.ncomp; c++) {
		size_t lo = k, hi = k + (cstart[c + 1] - cstart[c]), bytes = 0;
		for (size_t j = lo; j < hi; j++)
			bytes += e->est[order[j]];
		bool fits = cur->nres + (hi - lo) <= maxr && cur->bytes + bytes <= maxb;
		bool fits_fresh = hi - lo <= BUDGET_NESTED_RESOURCES && bytes <= BUDGET_NESTED_BYTES;
		if (!fits && fits_fresh && cur->nres > 0)
			maxr = 0; /* start the component in a fresh stack */
		for (; rc == 0 && k < hi; k++) {
			size_t r = order[k];
			size_t si = (size_t)(cur - e->stacks);
			size_t imp = si ? new_imports(e, si, r, imported, stamp) : 0;
			if (si && imp > IMPORT_BUDGET / 2 && ndependents[r] == 0) {
				/* A sink with many inputs: the root reads them for free. */
				sink[r] = true;
				nsinks++;
				continue;
			}
			if (cur->nres + 1 > maxr || cur->bytes + e->est[r] > maxb ||
			    (si && nimports + imp > IMPORT_BUDGET)) {
				char nm[32];
				snprintf(nm, sizeof nm, "Nested%zu", e->nstacks);
				if (!new_stack(e, nm)) {
					rc = synth_error_oom();
					break;
				}
				cur = &e->stacks[e->nstacks - 1];
				maxr = BUDGET_NESTED_RESOURCES;
				maxb = BUDGET_NESTED_BYTES;
				nimports = 0;
				stamp++;
				si = e->nstacks - 1;
				imp = new_imports(e, si, r, imported, stamp);
			}
			if (e->est[r] > maxb) {
				synth_error_setf(SYNTH_ELIMIT,
						 "%s: this resource alone is about %zu bytes, more "
						 "than a template can hold", b->resources[r]->path,
						 e->est[r]);
				rc = synth__backend_fail(b);
				break;
			}
			put(e, cur, r);
			if (si) {
				nimports += imp;
				for (size_t d = 0; d < e->ndeps[r]; d++)
					imported[e->deps[r][d]] = stamp;
			}
		}
	}
	/* Sinks join the root last (nothing depends on them). */
	for (size_t k = 0; rc == 0 && nsinks && k < n; k++)
		if (sink[order[k]])
			put(e, &e->stacks[0], order[k]);
	if (rc == 0 && e->stacks[0].nres + e->nstacks - 1 > LIMIT_RESOURCES) {
		synth_error_setf(SYNTH_ELIMIT,
				 "the root stack would hold %zu resources and %zu nested stacks; "
				 "CloudFormation allows %d", e->stacks[0].nres, e->nstacks - 1,
				 LIMIT_RESOURCES);
		rc = synth__backend_fail(b);
	}
	for (size_t u = 0; u < nunits && t.adj; u++)
		free(t.adj[u]);
	for (size_t i = 0; i < n && dependents; i++)
		free(dependents[i]);
	free(t.adj);
	free(t.nadj);
	free(t.index);
	free(t.low);
	free(t.stk);
	free(t.comp);
	free(t.callv);
	free(t.calli);
	free(t.on);
	free(order);
	free(indeg);
	free(ndependents);
	free(dependents);
	free(cstart);
	free(members);
	free(ready);
	free(imported);
	free(sink);
	for (size_t si = 1; rc == 0 && si < e->nstacks; si++) {
		stack *st = &e->stacks[si];
		st->lid = synth__logical_id(st->name);
		st->after = calloc(e->nstacks, sizeof *st->after);
		st->after_root = json_array();
		if (!st->lid || !st->after || !st->after_root)
			rc = synth_error_oom();
	}
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

static json_t *value_in(const synth_resource *t, const char *attr)
{
	return attr ? json_pack("{s:[s,s]}", "Fn::GetAtt", t->logical_id, attr)
		    : json_pack("{s:s}", "Ref", t->logical_id);
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
	if (attr && json_is_true(json_object_get(t->metadata, "synth:secret-attributes"))) {
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
			s->after[t->stack] = true;
		res = json_pack("{s:s}", "Ref", name);
	}
	free(name);
	return res;
}

/* A copy of NODE for stack SI with every token resolved. NULL on error. */
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
	if (json_is_object(node)) {
		json_t *o = json_object();
		const char *k;
		json_t *v;
		if (!o)
			return NULL;
		json_object_foreach(node, k, v) {
			if (!strcmp(k, "Fn::If") || !strcmp(k, "Condition"))
				e->stacks[si].uses_conditions = true;
			json_t *c = resolve(e, si, v);
			if (!c || json_object_set_new(o, k, c) < 0) {
				json_decref(o);
				return NULL;
			}
		}
		return o;
	}
	if (json_is_array(node)) {
		json_t *a = json_array();
		size_t i;
		json_t *v;
		if (!a)
			return NULL;
		json_array_foreach(node, i, v) {
			json_t *c = resolve(e, si, v);
			if (!c || json_array_append_new(a, c) < 0) {
				json_decref(a);
				return NULL;
			}
		}
		return a;
	}
	return json_incref(node);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

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
	/* DependsOn within the stack; across stacks the nested stacks order. */
	const char **lids = malloc((r->ndeps ? r->ndeps : 1) * sizeof *lids);
	size_t nl = 0;
	if (!lids)
		goto fail;
	for (size_t d = 0; d < r->ndeps; d++) {
		synth_resource *t = r->deps[d];
		if (t->stack == si)
			lids[nl++] = t->logical_id;
		else if (si != 0 && t->stack != 0)
			e->stacks[si].after[t->stack] = true;
		else if (si != 0) /* a nested resource after a root one */
			json_array_append_new(e->stacks[si].after_root,
					      json_string(t->logical_id));
		else /* a root resource after one in a nested stack */
			lids[nl++] = e->stacks[t->stack].lid;
	}
	qsort(lids, nl, sizeof *lids, cmp_str);
	if (nl) {
		json_t *a = json_array();
		for (size_t k = 0; k < nl; k++)
			if (k == 0 || strcmp(lids[k], lids[k - 1]))
				ok &= !json_array_append_new(a, json_string(lids[k]));
		ok &= !json_object_set_new(o, "DependsOn", a);
	}
	free(lids);
	if (r->condition) {
		ok &= !json_object_set_new(o, "Condition", json_string(r->condition));
		e->stacks[si].uses_conditions = true;
	}
	if (r->deletion_policy) {
		ok &= !json_object_set_new(o, "UpdateReplacePolicy", json_string(r->deletion_policy));
		ok &= !json_object_set_new(o, "DeletionPolicy", json_string(r->deletion_policy));
	}
	json_t *md = json_pack("{s:s}", "synth:path", r->path);
	if (!md)
		goto fail;
	if (r->metadata) {
		e->loc.len = 0;
		e->depth = 0;
		synth_buf_printf(&e->loc, "%s: Metadata", r->path);
		json_t *um = resolve(e, si, r->metadata);
		if (!um) {
			json_decref(md);
			goto fail;
		}
		ok &= !json_object_update(md, um);
		json_decref(um);
	}
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

static json_t *file_asset(const char *display, const char *file, const char *key)
{
	return json_pack(
		"{s:s,s:{s:s,s:s},s:{s:{s:s,s:s,s:s}}}", "displayName", display, "source",
		"path", file, "packaging", "file", "destinations",
		"current_account-current_region", "bucketName", ASSET_BUCKET, "objectKey", key,
		"assumeRoleArn",
		"arn:${AWS::Partition}:iam::${AWS::AccountId}:role/"
		"cdk-hnb659fds-file-publishing-role-${AWS::AccountId}-${AWS::Region}");
}

/* Builds the per-stack resources objects, the nested templates and then
 * the root one, and the manifests. */
static int write_all(emit *e, const char *dir)
{
	synth_backend *b = e->b;
	int rc = 0;
	json_t **res = calloc(e->nstacks, sizeof *res);
	json_t *files = json_object();
	if (!res || !files) {
		free(res);
		json_decref(files);
		return synth_error_oom();
	}
	/* Resources of every stack (cross-stack wiring registers outputs and
	 * parameters as it goes). */
	for (size_t si = 0; rc == 0 && si < e->nstacks; si++) {
		stack *s = &e->stacks[si];
		if (!(res[si] = json_object()))
			rc = synth_error_oom();
		for (size_t k = 0; rc == 0 && k < s->nres; k++) {
			synth_resource *r = b->resources[s->res[k]];
			json_t *o = emit_resource(e, si, r);
			if (!o)
				rc = synth_error_last()->code ? synth__backend_fail(b)
							      : synth_error_oom();
			else
				json_object_set_new(res[si], r->logical_id, o);
		}
	}
	/* Root outputs (may import from nested stacks). */
	json_t *outputs = json_object();
	json_t *meta = json_object();
	for (size_t i = 0; rc == 0 && i < b->noutputs; i++) {
		synth_output *o = &b->outputs[i];
		e->loc.len = 0;
		e->depth = 0;
		synth_buf_printf(&e->loc, "output %s", o->name);
		json_t *v = resolve(e, 0, o->value);
		if (!v) {
			rc = synth__backend_fail(b);
			break;
		}
		json_t *out = json_object();
		if (o->description)
			json_object_set_new(out, "Description", json_string(o->description));
		json_object_set_new(out, "Value", v);
		if (o->export_name)
			json_object_set_new(out, "Export", json_pack("{s:s}", "Name",
								      o->export_name));
		json_object_set_new(outputs, o->name, out);
		/* "custom" -> "AWS::Amplify::Custom" */
		char *key = synth_asprintf("AWS::Amplify::%c%s",
					    toupper((unsigned char)o->category[0]),
					    o->category + 1);
		json_t *cat = key ? json_object_get(meta, key) : NULL;
		if (key && !cat) {
			cat = json_pack("{s:s,s:[]}", "version", "1", "stackOutputs");
			json_object_set_new(meta, key, cat);
		}
		if (cat)
			json_array_append_new(json_object_get(cat, "stackOutputs"),
					      json_string(o->name));
		free(key);
	}
	json_object_update(e->stacks[0].outputs, outputs);
	json_decref(outputs);

	/* Nested templates. */
	for (size_t si = 1; rc == 0 && si < e->nstacks; si++) {
		stack *s = &e->stacks[si];
		json_t *t = json_pack("{s:s,s:s}", "AWSTemplateFormatVersion", "2010-09-09",
				      "Description", "libsynth nested stack");
		if (s->uses_conditions && json_object_size(b->conditions)) {
			json_t *c = resolve(e, si, b->conditions);
			if (c)
				json_object_set_new(t, "Conditions", c);
			else
				rc = synth__backend_fail(b);
		}
		if (json_object_size(s->params))
			json_object_set(t, "Parameters", s->params);
		json_object_set(t, "Resources", res[si]);
		if (json_object_size(s->outputs))
			json_object_set(t, "Outputs", s->outputs);
		s->file = synth_asprintf("%s.%s.nested.template.json", b->stack_name, s->name);
		if (rc == 0)
			rc = check_counts(e, s, res[si]);
		if (rc == 0)
			rc = s->file ? write_template(e, dir, t, s->file, s->hash, s->name)
				     : synth_error_oom();
		json_decref(t);
		if (rc < 0)
			break;
		char *key = synth_asprintf("%s.json", s->hash);
		char *disp = synth_asprintf("%s/%s template", b->stack_name, s->name);
		json_object_set_new(files, s->hash, file_asset(disp, s->file, key));
		/* The nested stack resource in the root. */
		char *url = synth_asprintf("https://s3.${AWS::Region}.${AWS::URLSuffix}/"
					    ASSET_BUCKET "/%s", key);
		json_t *props = json_pack("{s:{s:s}}", "TemplateURL", "Fn::Sub", url);
		if (json_object_size(s->pass))
			json_object_set(props, "Parameters", s->pass);
		json_t *nr = json_pack("{s:s,s:o}", "Type", "AWS::CloudFormation::Stack",
				       "Properties", props);
		json_t *after = json_array();
		for (size_t k = 1; k < e->nstacks; k++)
			if (s->after[k])
				json_array_append_new(after, json_string(e->stacks[k].lid));
		json_array_extend(after, s->after_root);
		if (json_array_size(after))
			json_object_set_new(nr, "DependsOn", after);
		else
			json_decref(after);
		json_object_set_new(nr, "UpdateReplacePolicy", json_string("Delete"));
		json_object_set_new(nr, "DeletionPolicy", json_string("Delete"));
		json_object_set_new(nr, "Metadata",
				    json_pack("{s:s,s:s,s:s}", "synth:path", s->name,
					      "aws:asset:path", s->file, "aws:asset:property",
					      "TemplateURL"));
		json_object_set_new(res[0], s->lid, nr);
		free(url);
		free(key);
		free(disp);
	}

	/* The root template. */
	stack *root = &e->stacks[0];
	json_t *t = NULL;
	if (rc == 0) {
		char *desc = synth_asprintf("libsynth backend %s/%s (%s)", b->ns, b->name,
					     b->type == SYNTH_BACKEND_BRANCH ? "branch"
									    : "sandbox");
		t = json_pack("{s:s,s:s}", "AWSTemplateFormatVersion", "2010-09-09",
			      "Description", desc ? desc : "libsynth backend");
		free(desc);
		if (json_object_size(meta))
			json_object_set(t, "Metadata", meta);
		json_t *params = json_object();
		for (size_t i = 0; i < b->nparams; i++)
			json_object_set(params, b->params[i].name, b->params[i].decl);
		if (json_object_size(params))
			json_object_set(t, "Parameters", params);
		json_decref(params);
		if (json_object_size(b->conditions)) {
			json_t *c = resolve(e, 0, b->conditions);
			if (c)
				json_object_set_new(t, "Conditions", c);
			else
				rc = synth__backend_fail(b);
		}
		json_object_set(t, "Resources", res[0]);
		if (json_object_size(root->outputs))
			json_object_set(t, "Outputs", root->outputs);
	}
	char *root_file = synth_asprintf("%s.template.json", b->stack_name);
	if (rc == 0)
		rc = check_counts(e, root, res[0]);
	if (rc == 0)
		rc = root_file ? write_template(e, dir, t, root_file, root->hash, root->name)
			       : synth_error_oom();
	json_decref(t);
	json_decref(meta);

	/* Asset manifest: code zips, nested templates, the root template. */
	if (rc == 0) {
		json_t *ordered = json_object();
		for (size_t i = 0; i < b->nassets; i++) {
			synth_asset *a = &b->assets[i];
			if (json_object_get(ordered, a->hash))
				continue;
			json_object_set_new(ordered, a->hash, file_asset(a->source, a->file, asset_key(a)));
		}
		json_object_update(ordered, files);
		char *key = synth_asprintf("%s.json", root->hash);
		char *disp = synth_asprintf("%s template", b->stack_name);
		json_object_set_new(ordered, root->hash, file_asset(disp, root_file, key));
		free(key);
		free(disp);
		json_t *am = json_pack("{s:s,s:o,s:{}}", "version", MANIFEST_VERSION, "files",
				       ordered, "dockerImages");
		char *af = synth_asprintf("%s.assets.json", b->stack_name);
		char *text = am ? synth_json_dumps(am, JSON_INDENT(1)) : NULL;
		char *p = af ? synth_asprintf("%s/%s", dir, af) : NULL;
		rc = text && p ? synth__write_file(p, text, strlen(text)) : synth_error_oom();
		free(text);
		free(p);
		json_decref(am);

		/* manifest.json */
		char *assets_id = synth_asprintf("%s.assets", b->stack_name);
		char *url = synth_asprintf("s3://" ASSET_BUCKET "/%s.json", root->hash);
		json_t *md = json_object();
		for (size_t si = 0; si < e->nstacks; si++)
			for (size_t k = 0; k < e->stacks[si].nres; k++) {
				synth_resource *r = b->resources[e->stacks[si].res[k]];
				char *mp = si == 0 ? synth_asprintf("/%s/%s", b->stack_name, r->path)
						   : synth_asprintf("/%s/%s/%s", b->stack_name,
								     e->stacks[si].name, r->path);
				if (mp)
					json_object_set_new(md, mp,
							    json_pack("[{s:s,s:s}]", "type",
								      "aws:cdk:logicalId", "data",
								      r->logical_id));
				free(mp);
			}
		const char *role_base = "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/"
					"cdk-hnb659fds-";
		char *deploy_role = synth_asprintf("%sdeploy-role-${AWS::AccountId}-${AWS::Region}", role_base);
		char *exec_role = synth_asprintf("%scfn-exec-role-${AWS::AccountId}-${AWS::Region}", role_base);
		char *lookup_role = synth_asprintf("%slookup-role-${AWS::AccountId}-${AWS::Region}", role_base);
		json_t *stack_art = json_pack(
			"{s:s,s:s,s:{s:s,s:s,s:{s:s,s:s,s:s},s:b,s:s,s:s,s:s,s:i,s:s,s:[s],"
			"s:{s:s,s:i,s:s}},s:[s],s:o,s:s}",
			"type", "aws:cloudformation:stack", "environment",
			"aws://unknown-account/unknown-region", "properties", "templateFile",
			root_file, "stackName", b->stack_name, "tags", "synth:namespace", b->ns,
			"synth:name", b->name, "synth:type",
			b->type == SYNTH_BACKEND_BRANCH ? "branch" : "sandbox", "validateOnSynth",
			0, "assumeRoleArn", deploy_role, "cloudFormationExecutionRoleArn",
			exec_role, "stackTemplateAssetObjectUrl", url,
			"requiresBootstrapStackVersion", 6, "bootstrapStackVersionSsmParameter",
			"/cdk-bootstrap/hnb659fds/version", "additionalDependencies", assets_id,
			"lookupRole", "arn", lookup_role, "requiresBootstrapStackVersion", 8,
			"bootstrapStackVersionSsmParameter", "/cdk-bootstrap/hnb659fds/version",
			"dependencies", assets_id, "metadata", md, "displayName", b->stack_name);
		json_t *man = json_pack(
			"{s:s,s:{s:{s:s,s:{s:s,s:i,s:s},s:s}}}", "version", MANIFEST_VERSION,
			"artifacts", assets_id, "type", "cdk:asset-manifest", "properties", "file",
			af, "requiresBootstrapStackVersion", 6,
			"bootstrapStackVersionSsmParameter", "/cdk-bootstrap/hnb659fds/version",
			"displayName", assets_id);
		if (rc == 0 && (!man || !stack_art))
			rc = synth_error_oom();
		if (rc == 0) {
			json_object_set_new(json_object_get(man, "artifacts"), b->stack_name,
					    stack_art);
			stack_art = NULL;
			char *mt = synth_json_dumps(man, JSON_INDENT(1));
			char *mpth = synth_asprintf("%s/manifest.json", dir);
			rc = mt && mpth ? synth__write_file(mpth, mt, strlen(mt)) : synth_error_oom();
			free(mt);
			free(mpth);
		}
		json_decref(stack_art);
		json_decref(man);
		free(deploy_role);
		free(exec_role);
		free(lookup_role);
		free(assets_id);
		free(url);
		free(af);
	}
	free(root_file);
	for (size_t si = 0; si < e->nstacks; si++)
		json_decref(res[si]);
	free(res);
	json_decref(files);
	return rc;
}

int synth__emit_assembly(synth_backend *b, const char *dir)
{
	emit e = {.b = b, .n = b->nresources};
	size_t n = e.n ? e.n : 1;
	e.deps = calloc(n, sizeof *e.deps);
	e.ndeps = calloc(n, sizeof *e.ndeps);
	e.est = calloc(n, sizeof *e.est);
	int rc = e.deps && e.ndeps && e.est ? 0 : synth_error_oom();
	/* Explicit DependsOn are edges too: they must be inside the model. */
	if (rc == 0)
		rc = collect_deps(&e);
	if (rc == 0)
		rc = check_cycles(&e);
	if (rc == 0)
		rc = layout(&e);
	if (rc == 0)
		rc = write_all(&e, dir);
	for (size_t i = 0; e.deps && i < e.n; i++)
		free(e.deps[i]);
	free(e.deps);
	free(e.ndeps);
	free(e.est);
	for (size_t s = 0; s < e.nstacks; s++) {
		stack *st = &e.stacks[s];
		free(st->name);
		free(st->lid);
		free(st->res);
		json_decref(st->params);
		json_decref(st->outputs);
		json_decref(st->pass);
		free(st->after);
		json_decref(st->after_root);
		free(st->file);
	}
	free(e.stacks);
	synth_buf_free(&e.loc);
	return rc;
}

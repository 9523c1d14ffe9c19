/*
 * Stack layout: which resource goes into which stack.
 *
 * One stack while the estimate stays under CloudFormation's limits.
 * Otherwise two steps, with a layout_order passed from one to the other:
 *
 *  1. ordering (order_resources): the layout units (constructs; a raw
 *     resource is a unit of its own) are grouped into strongly connected
 *     components (Tarjan, iterative) in producer-first order; within a
 *     component, resources are ordered by Kahn's algorithm, preferring to
 *     finish the construct at hand, so a construct's resources stay
 *     together and cuts cross few references.
 *  2. packing (pack): in that order into the root stack, then nested
 *     stacks, each within its resource, byte and import budgets. A
 *     resource that nothing depends on and that would import many
 *     references goes to the root, which reads nested outputs without
 *     parameters.
 *
 * Every reference therefore points to the same or an earlier stack.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "layout.h"

/* Packing budgets leave room for the parameters, outputs and nested stack
 * resources that the split itself adds. */
#define BUDGET_ROOT_RESOURCES 400
#define BUDGET_NESTED_RESOURCES 450
#define BUDGET_ROOT_BYTES 700000
#define BUDGET_NESTED_BYTES 800000
/* Cross-stack references a nested stack may import (each becomes one or
 * two parameters). */
#define IMPORT_BUDGET 150
/* The whole backend stays in one stack below LIMIT_BYTES minus this. */
#define SINGLE_STACK_MARGIN 50000

/* The ordering's result, the packing's input. */
typedef struct layout_order {
	size_t *order;       /* every resource index once, producers first */
	size_t ncomp;        /* strongly connected components of units */
	size_t *cstart;      /* component c is order[cstart[c] .. cstart[c + 1]) */
	size_t *ndependents; /* per resource: how many resources depend on it */
} layout_order;

static void layout_order_free(layout_order *o)
{
	free(o->order);
	free(o->cstart);
	free(o->ndependents);
}

/* --- stacks ------------------------------------------------------------ */

/* Appends an empty stack named NAME; NULL when out of memory. Pointers
 * into e->stacks are invalid afterwards. */
static stack *new_stack(emit *e, const char *name)
{
	if (synth_array_grow((void **)&e->stacks, &e->nstacks, &e->capstacks,
			     sizeof *e->stacks) < 0)
		return NULL;
	stack *s = &e->stacks[e->nstacks];
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

void synth__layout_free(emit *e)
{
	for (size_t s = 0; s < e->nstacks; s++) {
		stack *st = &e->stacks[s];
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
	free(e->stacks);
	e->stacks = NULL;
	e->nstacks = e->capstacks = 0;
}

/* Places resource R last in stack SI. */
static void put(emit *e, size_t si, size_t r)
{
	stack *s = &e->stacks[si];
	s->res[s->nres++] = r;
	s->bytes += e->est[r];
	e->b->resources[r]->stack = si;
}

/* Appends X to the list *V of *N elements (capacity *CAP). */
static int push(size_t **v, size_t *n, size_t *cap, size_t x)
{
	int rc = synth_array_grow((void **)v, n, cap, sizeof **v);
	if (rc < 0)
		return rc;
	(*v)[(*n)++] = x;
	return 0;
}

/* --- 1. ordering: components of units, then Kahn within each ----------- */

/* Tarjan's strongly connected components over the unit (construct) graph.
 * Components come out producers first. Iterative, so deep chains of
 * constructs cannot overflow the stack. */
typedef struct tarjan {
	size_t nunits;
	size_t **adj;        /* per unit: the units it depends on */
	size_t *nadj, *capadj;
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

/* The ordering's working state (OUT is the caller's result). */
typedef struct ordering {
	emit *e;
	tarjan t;
	size_t **dependents;   /* per resource: the resources that depend on it */
	size_t *capdependents;
	size_t *members;       /* resources grouped by component, creation order */
	size_t *indeg, *ready; /* Kahn's scratch */
	layout_order *out;
} ordering;

static int ordering_init(ordering *g, emit *e, layout_order *out)
{
	size_t n = e->n, nunits = e->b->nconstructs + n;
	tarjan *t = &g->t;
	memset(g, 0, sizeof *g);
	g->e = e;
	g->out = out;
	t->nunits = nunits;
	t->adj = calloc(nunits, sizeof *t->adj);
	t->nadj = calloc(nunits, sizeof *t->nadj);
	t->capadj = calloc(nunits, sizeof *t->capadj);
	t->index = calloc(nunits, sizeof(size_t));
	t->low = calloc(nunits, sizeof(size_t));
	t->stk = calloc(nunits, sizeof(size_t));
	t->comp = calloc(nunits, sizeof(size_t));
	t->callv = calloc(nunits, sizeof(size_t));
	t->calli = calloc(nunits, sizeof(size_t));
	t->on = calloc(nunits, sizeof(bool));
	g->dependents = calloc(n, sizeof *g->dependents);
	g->capdependents = calloc(n, sizeof *g->capdependents);
	g->members = malloc(n * sizeof *g->members);
	g->indeg = calloc(n, sizeof *g->indeg);
	g->ready = malloc(n * sizeof *g->ready);
	out->order = malloc(n * sizeof *out->order);
	out->cstart = calloc(nunits + 1, sizeof *out->cstart);
	out->ndependents = calloc(n, sizeof *out->ndependents);
	bool ok = t->adj && t->nadj && t->capadj && t->index && t->low && t->stk &&
		  t->comp && t->callv && t->calli && t->on && g->dependents &&
		  g->capdependents && g->members && g->indeg && g->ready && out->order &&
		  out->cstart && out->ndependents;
	return ok ? 0 : synth_error_oom();
}

static void ordering_free(ordering *g)
{
	tarjan *t = &g->t;
	for (size_t u = 0; u < t->nunits && t->adj; u++)
		free(t->adj[u]);
	for (size_t i = 0; i < g->e->n && g->dependents; i++)
		free(g->dependents[i]);
	free(t->adj);
	free(t->nadj);
	free(t->capadj);
	free(t->index);
	free(t->low);
	free(t->stk);
	free(t->comp);
	free(t->callv);
	free(t->calli);
	free(t->on);
	free(g->dependents);
	free(g->capdependents);
	free(g->members);
	free(g->indeg);
	free(g->ready);
}

/* The component of resource R's unit. */
static size_t comp_of(const ordering *g, size_t r)
{
	return g->t.comp[g->e->b->resources[r]->unit];
}

/* Reverses the resource edges (dependents) and derives the unit graph
 * (Tarjan's adjacency; an edge per cross-unit reference, in resource
 * order, which fixes the components' numbering). */
static int link_graphs(ordering *g)
{
	emit *e = g->e;
	size_t *ndependents = g->out->ndependents;
	for (size_t i = 0; i < e->n; i++) {
		size_t u = e->b->resources[i]->unit;
		for (size_t d = 0; d < e->ndeps[i]; d++) {
			size_t dep = e->deps[i][d];
			int rc = push(&g->dependents[dep], &ndependents[dep],
				      &g->capdependents[dep], i);
			size_t w = e->b->resources[dep]->unit;
			if (rc == 0 && w != u)
				rc = push(&g->t.adj[u], &g->t.nadj[u], &g->t.capadj[u], w);
			if (rc < 0)
				return rc;
		}
	}
	return 0;
}

/* Fills out->cstart and g->members: each component's resources, in
 * creation order (a counting sort by component). */
static int group_components(ordering *g)
{
	emit *e = g->e;
	size_t ncomp = g->t.ncomp, *cstart = g->out->cstart;
	for (size_t i = 0; i < e->n; i++)
		cstart[comp_of(g, i) + 1]++;
	for (size_t c = 0; c < ncomp; c++)
		cstart[c + 1] += cstart[c];
	size_t *fill = malloc((ncomp + 1) * sizeof *fill);
	if (!fill)
		return synth_error_oom();
	memcpy(fill, cstart, (ncomp + 1) * sizeof *fill);
	for (size_t i = 0; i < e->n; i++)
		g->members[fill[comp_of(g, i)]++] = i;
	free(fill);
	return 0;
}

/* Index into READY of the next resource: the current construct's first
 * ready resource, else the ready resource of the earliest construct. */
static size_t pick_ready(const synth_backend *b, const size_t *ready, size_t nready,
			 size_t cur_unit)
{
	size_t best = 0;
	for (size_t k = 1; k < nready; k++) {
		const synth_resource *x = b->resources[ready[k]];
		const synth_resource *y = b->resources[ready[best]];
		bool xc = x->unit == cur_unit, yc = y->unit == cur_unit;
		if ((xc && !yc) || (xc == yc && (x->unit < y->unit ||
		    (x->unit == y->unit && x->index < y->index))))
			best = k;
	}
	return best;
}

/* Appends component C's resources to out->order from *NO on, in
 * dependency order (Kahn); dependencies outside C are placed already. */
static void kahn_component(ordering *g, size_t c, size_t *no)
{
	emit *e = g->e;
	size_t *indeg = g->indeg, *ready = g->ready, nready = 0;
	for (size_t k = g->out->cstart[c]; k < g->out->cstart[c + 1]; k++) {
		size_t r = g->members[k];
		indeg[r] = 0;
		for (size_t d = 0; d < e->ndeps[r]; d++)
			indeg[r] += comp_of(g, e->deps[r][d]) == c;
		if (!indeg[r])
			ready[nready++] = r;
	}
	size_t cur_unit = (size_t)-1;
	while (nready) {
		size_t best = pick_ready(e->b, ready, nready, cur_unit);
		size_t r = ready[best];
		ready[best] = ready[--nready];
		g->out->order[(*no)++] = r;
		cur_unit = e->b->resources[r]->unit;
		for (size_t k = 0; k < g->out->ndependents[r]; k++) {
			size_t q = g->dependents[r][k];
			if (comp_of(g, q) == c && --indeg[q] == 0)
				ready[nready++] = q;
		}
	}
}

/* Fills O (caller frees with layout_order_free, also on error): every
 * resource once, components producer-first, Kahn order within each. */
static int order_resources(emit *e, layout_order *o)
{
	ordering g;
	int rc = ordering_init(&g, e, o);
	if (rc == 0)
		rc = link_graphs(&g);
	for (size_t u = 0; rc == 0 && u < g.t.nunits; u++)
		if (!g.t.index[u])
			strong(&g.t, u);
	if (rc == 0)
		rc = group_components(&g);
	size_t no = 0;
	for (size_t c = 0; rc == 0 && c < g.t.ncomp; c++)
		kahn_component(&g, c, &no);
	o->ncomp = g.t.ncomp;
	if (rc == 0 && no != e->n) {
		synth_error_setf(SYNTH_ERROR, "internal error: layout ordered %zu of %zu "
				 "resources", no, e->n);
		rc = synth__backend_fail(e->b);
	}
	ordering_free(&g);
	return rc;
}

/* --- 2. packing: the order into the root, then nested stacks ----------- */

typedef struct packer {
	emit *e;
	const layout_order *o;
	size_t cur;          /* the stack being filled */
	size_t maxr, maxb;   /* its budgets: resources and bytes */
	size_t nimports;     /* references it imports so far */
	unsigned stamp;      /* imported[r] == stamp: the current stack imports r */
	unsigned *imported;
	bool *sink;          /* resources deferred to the root */
	size_t nsinks;
} packer;

/* Cross-stack references the resource R would import if placed in stack
 * SI (distinct producers in other stacks that SI does not import yet). */
static size_t new_imports(const emit *e, size_t si, size_t r, const unsigned *imported,
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

/* Starts the next nested stack ("Nested<N>") and makes it current. */
static int open_nested(packer *p)
{
	char nm[32];
	snprintf(nm, sizeof nm, "Nested%zu", p->e->nstacks);
	if (!new_stack(p->e, nm))
		return synth_error_oom();
	p->cur = p->e->nstacks - 1;
	p->maxr = BUDGET_NESTED_RESOURCES;
	p->maxb = BUDGET_NESTED_BYTES;
	p->nimports = 0;
	p->stamp++;
	return 0;
}

/* Places resource R: in the current stack if it fits its budgets, else in
 * a new nested stack; a sink with many inputs is set aside for the root. */
static int pack_resource(packer *p, size_t r)
{
	emit *e = p->e;
	size_t si = p->cur;
	size_t imp = si ? new_imports(e, si, r, p->imported, p->stamp) : 0;
	if (si && imp > IMPORT_BUDGET / 2 && p->o->ndependents[r] == 0) {
		/* A sink with many inputs: the root reads them for free. */
		p->sink[r] = true;
		p->nsinks++;
		return 0;
	}
	const stack *cur = &e->stacks[si];
	if (cur->nres + 1 > p->maxr || cur->bytes + e->est[r] > p->maxb ||
	    (si && p->nimports + imp > IMPORT_BUDGET)) {
		int rc = open_nested(p);
		if (rc < 0)
			return rc;
		si = p->cur;
		imp = new_imports(e, si, r, p->imported, p->stamp);
	}
	if (e->est[r] > p->maxb) {
		synth_error_setf(SYNTH_ELIMIT,
				 "%s: this resource alone is about %zu bytes, more "
				 "than a template can hold", e->b->resources[r]->path,
				 e->est[r]);
		return synth__backend_fail(e->b);
	}
	put(e, si, r);
	if (si) {
		p->nimports += imp;
		for (size_t d = 0; d < e->ndeps[r]; d++)
			p->imported[e->deps[r][d]] = p->stamp;
	}
	return 0;
}

/* Places component C; one that does not fit the current stack but would
 * fit a fresh one starts a fresh one, so it is not cut. */
static int pack_component(packer *p, size_t c)
{
	emit *e = p->e;
	const size_t *order = p->o->order;
	size_t lo = p->o->cstart[c], hi = p->o->cstart[c + 1], bytes = 0;
	for (size_t k = lo; k < hi; k++)
		bytes += e->est[order[k]];
	const stack *cur = &e->stacks[p->cur];
	bool fits = cur->nres + (hi - lo) <= p->maxr && cur->bytes + bytes <= p->maxb;
	bool fits_fresh = hi - lo <= BUDGET_NESTED_RESOURCES && bytes <= BUDGET_NESTED_BYTES;
	if (!fits && fits_fresh && cur->nres > 0)
		p->maxr = 0; /* start the component in a fresh stack */
	int rc = 0;
	for (size_t k = lo; rc == 0 && k < hi; k++)
		rc = pack_resource(p, order[k]);
	return rc;
}

/* Packs O's order into the root (stack 0, already made) and new nested
 * stacks; the sinks set aside join the root last. */
static int pack(emit *e, const layout_order *o)
{
	packer p = {.e = e, .o = o, .cur = 0, .maxr = BUDGET_ROOT_RESOURCES,
		    .maxb = BUDGET_ROOT_BYTES, .stamp = 1};
	p.imported = calloc(e->n, sizeof *p.imported);
	p.sink = calloc(e->n, sizeof *p.sink);
	int rc = p.imported && p.sink ? 0 : synth_error_oom();
	for (size_t k = 0; k < e->n; k++)
		e->b->resources[k]->stack = (size_t)-1;
	for (size_t c = 0; rc == 0 && c < o->ncomp; c++)
		rc = pack_component(&p, c);
	/* Sinks join the root last (nothing depends on them). */
	for (size_t k = 0; rc == 0 && p.nsinks && k < e->n; k++)
		if (p.sink[o->order[k]])
			put(e, 0, o->order[k]);
	free(p.imported);
	free(p.sink);
	return rc;
}

/* --- the whole layout -------------------------------------------------- */

/* The root holds its resources plus one resource per nested stack. */
static int check_root(emit *e)
{
	if (e->stacks[0].nres + e->nstacks - 1 <= LIMIT_RESOURCES)
		return 0;
	synth_error_setf(SYNTH_ELIMIT,
			 "the root stack would hold %zu resources and %zu nested stacks; "
			 "CloudFormation allows %d", e->stacks[0].nres, e->nstacks - 1,
			 LIMIT_RESOURCES);
	return synth__backend_fail(e->b);
}

/* Gives every nested stack its logical ID and empty ordering lists. */
static int finish_nested(emit *e)
{
	for (size_t si = 1; si < e->nstacks; si++) {
		stack *st = &e->stacks[si];
		st->lid = synth__logical_id(st->name);
		st->after = calloc(e->nstacks, sizeof *st->after);
		st->after_root = json_array();
		if (!st->lid || !st->after || !st->after_root)
			return synth_error_oom();
	}
	return 0;
}

int synth__layout(emit *e)
{
	size_t total = 0;
	for (size_t i = 0; i < e->n; i++)
		total += e->est[i];
	if (!new_stack(e, e->b->stack_name))
		return synth_error_oom();
	if (e->n <= LIMIT_RESOURCES && total <= LIMIT_BYTES - SINGLE_STACK_MARGIN) {
		for (size_t i = 0; i < e->n; i++)
			put(e, 0, i);
		return 0;
	}
	layout_order o = {0};
	int rc = order_resources(e, &o);
	if (rc == 0)
		rc = pack(e, &o);
	layout_order_free(&o);
	if (rc == 0)
		rc = check_root(e);
	if (rc == 0)
		rc = finish_nested(e);
	return rc;
}

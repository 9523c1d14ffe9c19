/*
 * Stack layout: which resource goes into which stack.
 *
 * One stack while the estimate stays under CloudFormation's limits and no
 * nested stack is remembered. Otherwise:
 *
 *  1. ordering (order_resources): the layout units (constructs; a raw
 *     resource is a unit of its own) are grouped into strongly connected
 *     components (Tarjan, iterative) in producer-first order; within a
 *     component, resources come in creation order, each preceded by what
 *     it reads there (a depth-first post-order), so a construct's
 *     resources stay together and cuts cross few references.
 *  2. memory (memory_load): where the previous layout put each resource,
 *     from the deployed root template or the previous assembly.
 *  3. packing (pack): in that order, a remembered resource stays in its
 *     stack while the ranks and the limits allow; a new one goes to its
 *     construct's stack, the stack being filled, or a new nested stack,
 *     within budgets of resources, bytes, parameters and outputs. A
 *     resource that nothing depends on and that would import many
 *     references goes to the root, which reads nested outputs without
 *     parameters. Forced moves are reported (stateful ones refused).
 *
 * Every stack has a rank and a resource reads only from lower ranks or its
 * own stack, so the nested stacks depend on each other one way only.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "synth/sys/contract.h"
#include "layout.h"

/* The ordering's result, the packing's input. */
typedef struct layout_order {
	size_t *order;       /* every resource index once, producers first */
	size_t ncomp;        /* strongly connected components of units */
	size_t *cstart;      /* component c is order[cstart[c] .. cstart[c + 1]) */
	size_t *ndependents; /* per resource: how many resources depend on it */
	size_t **dependents; /* per resource: those resources */
	size_t n;
} layout_order;

static void layout_order_free(layout_order *o)
{
	for (size_t i = 0; i < o->n && o->dependents; i++)
		free(o->dependents[i]);
	free(o->dependents);
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
	size_t **dependents;   /* per resource: the resources that depend on it
				  (out->dependents, kept for the packing) */
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
	g->dependents = out->dependents = calloc(n ? n : 1, sizeof *g->dependents);
	out->n = n;
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

/* Appends component C's resources to out->order from *NO on, in
 * dependency order: each resource in creation order, preceded by what it
 * reads within C that is not placed yet (an iterative depth-first
 * post-order). A resource thus lands next to its readers and its own
 * construct, so cuts cross few references; dependencies outside C are
 * placed already. Linear in resources and references. */
static void order_component(ordering *g, size_t c, size_t *no)
{
	emit *e = g->e;
	/* indeg[r]: 0 unseen, 1 on the path, 2 placed; ready[]: the path,
	 * with calli-like positions kept in the dependents' scratch below. */
	size_t *state = g->indeg, *path = g->ready;
	size_t *pos = g->t.calli; /* free after Tarjan: the next dep to look at */
	for (size_t k = g->out->cstart[c]; k < g->out->cstart[c + 1]; k++)
		state[g->members[k]] = 0;
	for (size_t k = g->out->cstart[c]; k < g->out->cstart[c + 1]; k++) {
		size_t root = g->members[k], depth = 0;
		if (state[root])
			continue;
		path[depth++] = root;
		state[root] = 1;
		pos[0] = 0;
		while (depth) {
			size_t r = path[depth - 1];
			if (pos[depth - 1] < e->ndeps[r]) {
				size_t d = e->deps[r][pos[depth - 1]++];
				if (comp_of(g, d) == c && !state[d]) {
					state[d] = 1;
					pos[depth] = 0;
					path[depth++] = d;
				}
				continue;
			}
			state[r] = 2;
			g->out->order[(*no)++] = r;
			depth--;
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
		order_component(&g, c, &no);
	o->ncomp = g.t.ncomp;
	if (rc == 0 && no != e->n) {
		synth_error_setf(SYNTH_ERROR, "internal error: layout ordered %zu of %zu "
				 "resources", no, e->n);
		rc = synth__backend_fail(e->b);
	}
	ordering_free(&g);
	return rc;
}

/* --- 2. the placement memory ------------------------------------------ */

/* What the previous layout did: resource -> stack, from the root
 * template of the deployed stack or of the previous assembly. */
typedef struct memory {
	size_t nstacks;      /* remembered nested stacks, in rank order */
	char **names;
	size_t *where;       /* per resource: 0 the root, k nested stack k
				(1-based, in rank order), NONE: not remembered */
	const char *from;    /* where it was read, for messages */
} memory;

#define NONE ((size_t)-1)

static void memory_free(memory *m)
{
	for (size_t k = 0; k < m->nstacks; k++)
		free(m->names[k]);
	free(m->names);
	free(m->where);
}

/* A map from E's logical IDs to their index + 1. */
static int lid_map(const emit *e, synth_map *lids)
{
	for (size_t i = 0; i < e->n; i++)
		if (synth__map_put(lids, e->b->resources[i]->logical_id, (void *)(i + 1)) < 0)
			return synth_error_oom();
	return 0;
}

/* Marks the resources IDS (space-separated logical IDs) as in stack K
 * (0: the root). */
static int remember(memory *m, const synth_map *lids, const char *ids, size_t k)
{
	char *copy = strdup(ids), *save = NULL;
	if (!copy)
		return synth_error_oom();
	for (char *id = strtok_r(copy, " ", &save); id; id = strtok_r(NULL, " ", &save)) {
		size_t i = (size_t)synth__map_get(lids, id);
		if (i)
			m->where[i - 1] = k;
	}
	free(copy);
	return 0;
}

/* The nested stacks of STACKS ([{"name", "resources"}], rank order). */
static int remember_stacks(memory *m, const synth_map *lids, json_t *stacks)
{
	size_t ns = json_array_size(stacks);
	m->names = calloc(ns ? ns : 1, sizeof *m->names);
	if (!m->names)
		return synth_error_oom();
	for (size_t s = 0; s < ns; s++) {
		json_t *x = json_array_get(stacks, s);
		const char *name = json_string_value(json_object_get(x, "name"));
		const char *ids = json_string_value(json_object_get(x, "resources"));
		if (!name || !*name || !ids)
			continue; /* not ours: ignored */
		if (!(m->names[m->nstacks] = strdup(name)))
			return synth_error_oom();
		m->nstacks++;
		int rc = remember(m, lids, ids, m->nstacks);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* Fills M from a root template T (the root's own resources are its
 * Resources, the nested stacks in its Metadata). */
static int memory_fill(emit *e, json_t *doc, memory *m)
{
	synth_map lids = {0};
	int rc = lid_map(e, &lids);
	if (rc == 0) {
		const char *k;
		json_t *v;
		json_object_foreach(json_object_get(doc, "Resources"), k, v) {
			size_t i = (size_t)synth__map_get(&lids, k);
			const char *type = json_string_value(json_object_get(v, "Type"));
			if (i && !(type && !strcmp(type, "AWS::CloudFormation::Stack")))
				m->where[i - 1] = 0;
		}
		json_t *md = json_object_get(json_object_get(doc, "Metadata"), SYNTH_MD_LAYOUT);
		rc = remember_stacks(m, &lids, json_object_get(md, "stacks"));
	}
	synth__map_free(&lids);
	return rc;
}

/* Fills M from the text of SYNTH_LAYOUT_FILE (TEXT, LEN bytes, NUL
 * terminated) if it is this backend's: 1 when it was, else 0. */
static int memory_fill_text(emit *e, char *text, size_t len, memory *m)
{
	char *nl = memchr(text, '\n', len);
	if (!nl)
		return 0;
	*nl = '\0';
	char *head = synth_asprintf("synth-layout 1 %s", e->b->stack_name);
	if (!head)
		return synth_error_oom();
	bool ours = !strcmp(text, head);
	free(head);
	if (!ours)
		return 0; /* another backend's, or another format */
	size_t cap = 0;
	for (char *p = nl + 1; p < text + len; p++)
		cap += *p == '\n';
	synth_map lids = {0};
	m->names = calloc(cap ? cap : 1, sizeof *m->names);
	int rc = m->names ? lid_map(e, &lids) : synth_error_oom();
	for (char *line = nl + 1; rc == 0 && line < text + len;) {
		char *end = memchr(line, '\n', (size_t)(text + len - line));
		if (!end)
			break;
		*end = '\0';
		char *sp = strchr(line, ' ');
		if (sp)
			*sp = '\0';
		size_t k = 0;
		if (strcmp(line, "root")) {
			if (!(m->names[m->nstacks] = strdup(line))) {
				rc = synth_error_oom();
				break;
			}
			k = ++m->nstacks;
		}
		if (sp)
			rc = remember(m, &lids, sp + 1, k);
		line = end + 1;
	}
	synth__map_free(&lids);
	return rc < 0 ? rc : 1;
}

/* The whole of file PATH (NUL terminated), or NULL. */
static char *read_text(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t cap = 0, n = 0;
	while (f) {
		if (cap - n < 65536) {
			char *nb = realloc(buf, cap = cap ? cap * 2 : 262144);
			if (!nb) {
				free(buf);
				buf = NULL;
				break;
			}
			buf = nb;
		}
		size_t got = fread(buf + n, 1, cap - n - 1, f);
		n += got;
		if (got == 0) {
			buf[n] = '\0';
			break;
		}
	}
	if (f)
		fclose(f);
	*len = n;
	return buf;
}

/* Reads the placement memory into M (nothing: a first synth). The
 * deployed stack's root template wins: it is what CloudFormation holds.
 * Else the previous assembly's SYNTH_LAYOUT_FILE, small; else, only when
 * this backend needs a split (SPLIT), the previous root template itself
 * (a single stack: all in the root). */
static int memory_load(emit *e, bool split, memory *m)
{
	const synth_backend *b = e->b;
	const char *dep = getenv(SYNTH_ENV_DEPLOYED_TEMPLATE);
	m->where = malloc((e->n ? e->n : 1) * sizeof *m->where);
	if (!m->where)
		return synth_error_oom();
	for (size_t i = 0; i < e->n; i++)
		m->where[i] = NONE;
	json_t *doc = NULL;
	if (dep && *dep) {
		json_error_t err;
		m->from = "the deployed stack's template";
		if (!(doc = json_load_file(dep, 0, &err))) {
			synth_error_setf(SYNTH_EINVALID, "%s: %s: cannot read the deployed root "
					 "template (the placement memory): %s",
					 SYNTH_ENV_DEPLOYED_TEMPLATE, dep, err.text);
			return synth__backend_fail(e->b);
		}
	} else {
		const char *prev = getenv("SYNTH_PREVIOUS_ASSEMBLY");
		const char *dir = prev && *prev ? prev : b->outdir;
		if (!dir)
			return 0;
		char *lf = synth_asprintf("%s/%s", dir, SYNTH_LAYOUT_FILE);
		char *tf = synth_asprintf("%s/%s.template.json", dir, b->stack_name);
		size_t len = 0;
		char *text = lf ? read_text(lf, &len) : NULL;
		int rc = lf && tf ? 0 : synth_error_oom();
		m->from = "the previous assembly";
		if (rc == 0 && text)
			rc = memory_fill_text(e, text, len, m);
		/* No copy of ours: the root template, when it matters. A
		 * missing or unreadable previous assembly is a first synth. */
		if (rc == 0 && split)
			doc = json_load_file(tf, 0, NULL);
		free(text);
		free(lf);
		free(tf);
		if (rc != 0)
			return rc < 0 ? rc : 0;
	}
	int rc = doc ? memory_fill(e, doc, m) : 0;
	json_decref(doc);
	return rc;
}

/* --- 3. packing: remembered resources stay, new ones go where there is room */

/* Budgets for new resources leave room for what the split itself adds
 * (nested stack resources, parameter and output bytes) and for growth. */
#define BUDGET_ROOT_RESOURCES 400
#define BUDGET_NESTED_RESOURCES 450
#define BUDGET_ROOT_BYTES 700000
#define BUDGET_NESTED_BYTES 800000
#define BUDGET_OUTPUTS 190
#define BUDGET_PARAMS_MARGIN 10
/* What a remembered resource may fill its stack up to before something
 * has to move: CloudFormation's limits (bytes: less the split's own). */
#define HOLD_BYTES 900000
/* The whole backend stays in one stack below LIMIT_BYTES minus this. */
#define SINGLE_STACK_MARGIN 50000
/* Ranks: remembered nested stack k has k * RANK_STEP, so new stacks fit
 * in between; the root's resources that read nested outputs: RANK_LATE. */
#define RANK_STEP 1024
#define RANK_LATE ((size_t)-1)
/* Bytes of the root per parameter passed to a nested stack. */
#define PASS_BYTES 100

enum move_reason { MOVE_NONE, MOVE_ORDER, MOVE_RESOURCES, MOVE_BYTES, MOVE_PARAMS,
		   MOVE_OUTPUTS };

typedef struct packer {
	emit *e;
	const layout_order *o;
	const memory *m;
	size_t *mstack;      /* remembered nested stack k -> its index in e->stacks */
	/* per stack (parallel to e->stacks) */
	size_t *outs;        /* outputs it will have at most (pending counted) */
	size_t *params;      /* parameters it will have at most */
	unsigned char **imp; /* bitmaps: the producers it imports */
	size_t *resv_n, *resv_b; /* remembered resources not placed yet:
				    count and bytes, kept free for them */
	size_t capst;
	/* per resource */
	size_t *where;       /* remembered stack index or NONE */
	size_t *hi;          /* highest rank it may take (its readers') */
	size_t *rank;        /* rank it took */
	size_t *unsettled;   /* readers not known to share its stack */
	bool *counted;       /* counted in its stack's outs */
	bool *sink;          /* set aside for the root */
	unsigned char *moved;/* enum move_reason */
	size_t *unit_stack;  /* per unit: the stack of its last resource */
	size_t cur;          /* the stack new resources fill */
	size_t next_num;     /* the next new stack is Nested<next_num> */
	size_t max_rank;
	size_t param_budget; /* per nested stack, less the backend's parameters */
	size_t root_res_hold, root_bytes_hold, root_bytes_budget;
	size_t root_pass;    /* bytes of the root's Parameters for nested stacks */
} packer;

static size_t weight(const emit *e, size_t r)
{
	return e->nattrs[r] ? e->nattrs[r] : 1;
}

static bool bit(const unsigned char *b, size_t i)
{
	return b[i / 8] & (1u << (i % 8));
}

/* Appends a stack named NAME of rank RANK with its packing counters. */
static int add_stack(packer *p, const char *name, size_t rank)
{
	emit *e = p->e;
	if (!new_stack(e, name))
		return synth_error_oom();
	size_t si = e->nstacks - 1;
	e->stacks[si].rank = rank;
	if (si >= p->capst) {
		size_t cap = p->capst ? p->capst * 2 : 16;
		size_t *o = realloc(p->outs, cap * sizeof *o);
		if (o)
			p->outs = o;
		size_t *pa = realloc(p->params, cap * sizeof *pa);
		if (pa)
			p->params = pa;
		unsigned char **im = realloc(p->imp, cap * sizeof *im);
		if (im)
			p->imp = im;
		size_t *rn = realloc(p->resv_n, cap * sizeof *rn);
		if (rn)
			p->resv_n = rn;
		size_t *rb = realloc(p->resv_b, cap * sizeof *rb);
		if (rb)
			p->resv_b = rb;
		if (!o || !pa || !im || !rn || !rb)
			return synth_error_oom();
		p->capst = cap;
	}
	p->outs[si] = p->params[si] = p->resv_n[si] = p->resv_b[si] = 0;
	p->imp[si] = calloc(e->n / 8 + 1, 1);
	if (!p->imp[si])
		return synth_error_oom();
	if (rank != RANK_LATE && rank > p->max_rank)
		p->max_rank = rank;
	return 0;
}

/* A new nested stack at rank RANK (after the others: 0). */
static int open_nested(packer *p, size_t rank, size_t *si)
{
	char nm[32];
	snprintf(nm, sizeof nm, "Nested%zu", p->next_num++);
	int rc = add_stack(p, nm, rank ? rank : p->max_rank + RANK_STEP);
	*si = p->e->nstacks - 1;
	return rc;
}

/* The lowest rank resource R may take: its producers' highest. */
static size_t low_rank(const packer *p, size_t r)
{
	size_t lo = 0;
	for (size_t d = 0; d < p->e->ndeps[r]; d++)
		if (p->rank[p->e->deps[r][d]] > lo)
			lo = p->rank[p->e->deps[r][d]];
	return lo;
}

/* Parameters R would add to nested stack SI. */
static size_t new_params(const packer *p, size_t si, size_t r)
{
	const emit *e = p->e;
	size_t n = 0;
	for (size_t d = 0; si && d < e->ndeps[r]; d++) {
		size_t t = e->deps[r][d];
		if (e->b->resources[t]->stack != si && !bit(p->imp[si], t))
			n += weight(e, t);
	}
	return n;
}

/* Readers of R not known to share stack SI. */
static size_t unsettled_in(const packer *p, size_t si, size_t r)
{
	size_t n = 0;
	for (size_t k = 0; k < p->o->ndependents[r]; k++)
		n += p->where[p->o->dependents[r][k]] != si;
	return n;
}

/* Whether R may go into SI: its rank keeps every reference pointing to a
 * lower rank (or the same stack), and it fits SI's budgets (HOLD: a
 * remembered resource, up to CloudFormation's limits). On refusal *WHY
 * says which limit. */
static bool fits(const packer *p, size_t si, size_t r, size_t lo, size_t hi, bool hold,
		 enum move_reason *why)
{
	const emit *e = p->e;
	const stack *s = &e->stacks[si];
	/* What remembered resources still to come need stays theirs. */
	size_t nres = s->nres + p->resv_n[si], bytes = s->bytes + p->resv_b[si];
	*why = MOVE_ORDER;
	if (si == 0) {
		if (lo != 0 && hi != RANK_LATE && !hold)
			return false; /* late in the root, yet a nested stack reads it */
		*why = MOVE_RESOURCES;
		if (nres + 1 > (hold ? p->root_res_hold : BUDGET_ROOT_RESOURCES))
			return false;
		*why = MOVE_BYTES;
		return bytes + e->est[r] + p->root_pass <=
		       (hold ? p->root_bytes_hold : p->root_bytes_budget);
	}
	if (s->rank < lo || (!hold && s->rank > hi))
		return false;
	*why = MOVE_RESOURCES;
	if (nres + 1 > (hold ? LIMIT_RESOURCES : BUDGET_NESTED_RESOURCES))
		return false;
	*why = MOVE_BYTES;
	if (bytes + e->est[r] > (hold ? HOLD_BYTES : BUDGET_NESTED_BYTES))
		return false;
	*why = MOVE_PARAMS;
	size_t pb = hold ? p->param_budget + BUDGET_PARAMS_MARGIN : p->param_budget;
	if (p->params[si] + new_params(p, si, r) > pb)
		return false;
	*why = MOVE_OUTPUTS;
	if (unsettled_in(p, si, r) &&
	    p->outs[si] + weight(e, r) > (hold ? LIMIT_OUTPUTS : BUDGET_OUTPUTS))
		return false;
	/* Its producers elsewhere that export nothing yet would start to. */
	for (size_t d = 0; d < e->ndeps[r]; d++) {
		size_t t = e->deps[r][d], ts = e->b->resources[t]->stack;
		if (ts && ts != si && !p->counted[t] && p->outs[ts] + weight(e, t) > LIMIT_OUTPUTS)
			return false;
	}
	*why = MOVE_NONE;
	return true;
}

/* Places R in stack SI (its rank: LO decides early or late in the root)
 * and updates the counters of SI and of R's producers. */
static void place(packer *p, size_t si, size_t r, size_t lo)
{
	emit *e = p->e;
	size_t imports = new_params(p, si, r);
	p->params[si] += imports;
	if (si)
		p->root_pass += imports * PASS_BYTES;
	put(e, si, r);
	p->rank[r] = si ? e->stacks[si].rank : lo ? RANK_LATE : 0;
	p->unit_stack[e->b->resources[r]->unit] = si;
	p->unsettled[r] = unsettled_in(p, si, r);
	if (si && p->unsettled[r]) {
		p->counted[r] = true;
		p->outs[si] += weight(e, r);
	}
	for (size_t d = 0; d < e->ndeps[r]; d++) {
		size_t t = e->deps[r][d], ts = e->b->resources[t]->stack;
		if (si)
			p->imp[si][t / 8] |= 1u << (t % 8);
		if (ts != si) {
			if (ts && !p->counted[t]) {
				p->counted[t] = true;
				p->outs[ts] += weight(e, t);
			}
			continue;
		}
		/* A reader in its own stack: no output once all such are placed. */
		if (p->where[r] != ts && p->unsettled[t] && --p->unsettled[t] == 0 &&
		    p->counted[t]) {
			p->counted[t] = false;
			p->outs[ts] -= weight(e, t);
		}
	}
}

/* A stack for new resource R between ranks LO and HI, or NONE. */
static size_t find_room(packer *p, size_t r, size_t lo, size_t hi)
{
	enum move_reason why;
	size_t us = p->unit_stack[p->e->b->resources[r]->unit];
	if (us != NONE && fits(p, us, r, lo, hi, false, &why))
		return us;
	if (fits(p, p->cur, r, lo, hi, false, &why))
		return p->cur;
	if (hi != RANK_LATE)
		for (size_t si = 0; si < p->e->nstacks; si++)
			if (fits(p, si, r, lo, hi, false, &why))
				return si;
	return NONE;
}

/* A free rank strictly between LO and HI, or 0. */
static size_t free_rank(const packer *p, size_t lo, size_t hi)
{
	for (size_t rk = lo + (hi - lo) / 2; rk > lo && rk < hi; rk++) {
		bool taken = false;
		for (size_t si = 1; si < p->e->nstacks && !taken; si++)
			taken = p->e->stacks[si].rank == rk;
		if (!taken)
			return rk;
	}
	return 0;
}

/* Places a new (or moved) resource R: where its construct is, else in
 * the stack being filled, else a new nested stack; a sink reading many
 * stacks goes to the root, which reads nested outputs for free. */
static int pack_new(packer *p, size_t r, size_t lo)
{
	emit *e = p->e;
	size_t hi = p->hi[r], si;
	if (lo == RANK_LATE) {
		enum move_reason why;
		if (fits(p, 0, r, lo, hi, true, &why)) {
			place(p, 0, r, lo);
			return 0;
		}
		goto full;
	}
	if (hi == RANK_LATE && p->o->ndependents[r] == 0 && p->cur &&
	    new_params(p, p->cur, r) > p->param_budget / 2) {
		p->sink[r] = true;
		return 0;
	}
	if ((si = find_room(p, r, lo, hi)) != NONE) {
		place(p, si, r, lo);
		return 0;
	}
	size_t rk = hi == RANK_LATE ? 0 : free_rank(p, lo, hi);
	if (hi != RANK_LATE && !rk)
		goto full;
	int rc = open_nested(p, rk, &si);
	if (rc < 0)
		return rc;
	if (hi == RANK_LATE)
		p->cur = si;
	if (e->est[r] > BUDGET_NESTED_BYTES) {
		synth_error_setf(SYNTH_ELIMIT,
				 "%s: this resource alone is about %zu bytes, more "
				 "than a template can hold", e->b->resources[r]->path, e->est[r]);
		return synth__backend_fail(e->b);
	}
	enum move_reason why;
	if (fits(p, si, r, lo, hi, true, &why)) {
		place(p, si, r, lo);
		return 0;
	}
full:
	synth_error_setf(SYNTH_ELIMIT, "%s: no stack can take this resource within "
			 "CloudFormation's limits (it reads %zu resources, and %zu resources "
			 "read it)", e->b->resources[r]->path, e->ndeps[r],
			 p->o->ndependents[r]);
	return synth__backend_fail(e->b);
}

/* A resource whose move to another stack loses data or fails: *WHY says
 * which (NULL: it may move; CloudFormation recreates it). */
static bool stateful(const synth_resource *r, const char **why)
{
	static const char *const data[] = {
		"AWS::DynamoDB::Table", "AWS::DynamoDB::GlobalTable", "AWS::S3::Bucket",
		"AWS::Cognito::UserPool", "AWS::Cognito::IdentityPool", "AWS::RDS::DBCluster",
		"AWS::RDS::DBInstance", "AWS::EFS::FileSystem", "AWS::KMS::Key",
		"AWS::SecretsManager::Secret", "AWS::SQS::Queue", NULL};
	for (size_t k = 0; data[k]; k++)
		if (!strcmp(r->type, data[k])) {
			*why = "it holds data";
			return true;
		}
	if (!strcmp(r->type, "AWS::Logs::LogGroup") &&
	    json_object_get(r->props, "RetentionInDays")) {
		*why = "a log group with retention holds logs";
		return true;
	}
	if (r->deletion_policy && strcmp(r->deletion_policy, "Delete")) {
		*why = "its DeletionPolicy keeps it";
		return true;
	}
	/* A physical name (QueueName, TopicName, FunctionName, ...): its
	 * create in the new stack would fail while the old one exists. */
	const char *t = strrchr(r->type, ':');
	char prop[96];
	if (t && snprintf(prop, sizeof prop, "%sName", t + 1) < (int)sizeof prop &&
	    json_object_get(r->props, prop)) {
		*why = "it has a physical name";
		return true;
	}
	return false;
}

static const char *const move_text[] = {
	[MOVE_ORDER] = "it now reads a resource of a later stack",
	[MOVE_RESOURCES] = "its stack would pass 500 resources",
	[MOVE_BYTES] = "its stack would pass the template size limit",
	[MOVE_PARAMS] = "its stack would pass 200 parameters",
	[MOVE_OUTPUTS] = "its stack would pass 200 outputs",
};

/* Remembered stacks over their limits by resources or bytes alone give
 * up stateless resources, the last in the order first (the fewest
 * readers), before the placement starts. */
static void evict(packer *p)
{
	emit *e = p->e;
	size_t ns = e->nstacks;
	size_t *cnt = calloc(ns, sizeof *cnt), *bytes = calloc(ns, sizeof *bytes);
	if (!cnt || !bytes)
		goto out;
	for (size_t i = 0; i < e->n; i++)
		if (p->where[i] != NONE) {
			cnt[p->where[i]]++;
			bytes[p->where[i]] += e->est[i];
		}
	for (size_t k = e->n; k-- > 0;) {
		size_t r = p->o->order[k], si = p->where[r];
		const char *why;
		if (si == NONE || stateful(e->b->resources[r], &why))
			continue;
		size_t mr = si ? LIMIT_RESOURCES : p->root_res_hold;
		size_t mb = si ? HOLD_BYTES : p->root_bytes_hold;
		if (cnt[si] <= mr && bytes[si] <= mb)
			continue;
		p->moved[r] = cnt[si] > mr ? MOVE_RESOURCES : MOVE_BYTES;
		p->where[r] = NONE;
		cnt[si]--;
		bytes[si] -= e->est[r];
	}
out:
	free(cnt);
	free(bytes);
}

/* hi[r]: the highest rank R may take so that its remembered readers stay
 * (reverse order: readers first). */
static void high_ranks(packer *p)
{
	emit *e = p->e;
	for (size_t k = e->n; k-- > 0;) {
		size_t r = p->o->order[k], hi = RANK_LATE;
		for (size_t j = 0; j < p->o->ndependents[r]; j++) {
			size_t d = p->o->dependents[r][j], w = p->where[d], h;
			if (w == NONE)
				h = p->hi[d];
			else if (w == 0)
				h = p->hi[d] == RANK_LATE ? RANK_LATE : 0;
			else
				h = e->stacks[w].rank;
			if (h < hi)
				hi = h;
		}
		p->hi[r] = hi;
	}
}

/* Reports the remembered resources that had to move: stateful ones are
 * an error naming them, stateless ones a warning each. */
static int report_moves(packer *p)
{
	emit *e = p->e;
	synth_buf m = SYNTH_BUF_INIT;
	size_t nbad = 0;
	for (size_t i = 0; i < e->n; i++) {
		const synth_resource *r = e->b->resources[i];
		size_t was = p->m->where[i];
		if (was == NONE || r->stack == (was ? p->mstack[was - 1] : 0))
			continue;
		const char *from = was ? p->m->names[was - 1] : "the root stack";
		const char *to = r->stack ? e->stacks[r->stack].name : "the root stack";
		const char *why = move_text[p->moved[i] ? p->moved[i] : MOVE_ORDER];
		const char *kind;
		if (stateful(r, &kind)) {
			if (nbad++ < 10)
				synth_buf_printf(&m, "%s%s (%s, %s) in %s: %s", nbad > 1 ? "; " : "",
						 r->path, r->type, kind, from, why);
			continue;
		}
		fprintf(stderr, "synth: warning: %s (%s) moves from %s to %s: %s; "
			"CloudFormation replaces it\n", r->path, r->logical_id, from, to, why);
	}
	if (!nbad)
		return 0;
	synth_error_setf(SYNTH_ELIMIT,
			 "%zu resource%s would have to move to another stack, which would "
			 "delete and recreate %s: %s%s. Keep %s stack within its limits instead: "
			 "move other resources out of it (define them in another construct), "
			 "or read fewer of its values from other stacks",
			 nbad, nbad > 1 ? "s" : "", nbad > 1 ? "them" : "it",
			 m.ptr ? m.ptr : "", nbad > 10 ? "; ..." : "", nbad > 1 ? "each" : "its");
	synth_buf_free(&m);
	return synth__backend_fail(e->b);
}

/* Removes nested stacks left empty and sorts the others by rank. */
static void compact(emit *e)
{
	size_t *map = malloc(e->nstacks * sizeof *map);
	size_t *idx = malloc(e->nstacks * sizeof *idx);
	if (!map || !idx)
		goto out;
	size_t n = 0;
	for (size_t si = 1; si < e->nstacks; si++)
		if (e->stacks[si].nres)
			idx[n++] = si;
	/* Insertion sort by rank: few stacks, mostly sorted. */
	for (size_t a = 1; a < n; a++)
		for (size_t b = a; b > 0 && e->stacks[idx[b]].rank < e->stacks[idx[b - 1]].rank; b--) {
			size_t t = idx[b];
			idx[b] = idx[b - 1];
			idx[b - 1] = t;
		}
	stack *ns = malloc((n + 1) * sizeof *ns);
	if (!ns)
		goto out;
	ns[0] = e->stacks[0];
	map[0] = 0;
	for (size_t k = 0; k < n; k++) {
		ns[k + 1] = e->stacks[idx[k]];
		map[idx[k]] = k + 1;
		e->stacks[idx[k]].name = NULL;
	}
	for (size_t si = 1; si < e->nstacks; si++)
		if (e->stacks[si].name) { /* an empty one: freed */
			free(e->stacks[si].name);
			free(e->stacks[si].res);
			json_decref(e->stacks[si].params);
			json_decref(e->stacks[si].outputs);
			json_decref(e->stacks[si].pass);
		}
	for (size_t i = 0; i < e->n; i++)
		e->b->resources[i]->stack = map[e->b->resources[i]->stack];
	free(e->stacks);
	e->stacks = ns;
	e->nstacks = e->capstacks = n + 1;
out:
	free(map);
	free(idx);
}

static int packer_init(packer *p, emit *e, const layout_order *o, const memory *m)
{
	size_t n = e->n ? e->n : 1, nunits = e->b->nconstructs + e->n;
	memset(p, 0, sizeof *p);
	p->e = e;
	p->o = o;
	p->m = m;
	p->mstack = calloc(m->nstacks + 1, sizeof *p->mstack);
	p->where = malloc(n * sizeof *p->where);
	p->hi = malloc(n * sizeof *p->hi);
	p->rank = calloc(n, sizeof *p->rank);
	p->unsettled = calloc(n, sizeof *p->unsettled);
	p->counted = calloc(n, sizeof *p->counted);
	p->sink = calloc(n, sizeof *p->sink);
	p->moved = calloc(n, 1);
	p->unit_stack = malloc((nunits ? nunits : 1) * sizeof *p->unit_stack);
	if (!p->mstack || !p->where || !p->hi || !p->rank || !p->unsettled || !p->counted ||
	    !p->sink || !p->moved || !p->unit_stack)
		return synth_error_oom();
	for (size_t u = 0; u < nunits; u++)
		p->unit_stack[u] = NONE;
	size_t np = e->b->nparams + BUDGET_PARAMS_MARGIN;
	p->param_budget = LIMIT_PARAMETERS > np ? LIMIT_PARAMETERS - np : 0;
	/* The root holds the memory (every nested resource's logical ID) and
	 * the values it passes to nested stacks: its budget shrinks by both. */
	size_t memo = 0, nested = 0;
	for (size_t i = 0; i < e->n; i++)
		memo += strlen(e->b->resources[i]->logical_id) + 1;
	for (size_t i = 0; i < e->n; i++)
		nested += m->where && m->where[i] == NONE;
	size_t reserve = memo + (e->n * 30 < 250000 ? e->n * 30 : 250000);
	p->root_bytes_budget = BUDGET_ROOT_BYTES > reserve ? BUDGET_ROOT_BYTES - reserve : 0;
	p->root_bytes_hold = HOLD_BYTES > memo ? HOLD_BYTES - memo : 0;
	size_t nstacks = m->nstacks + 2 + (m->where ? nested : e->n) / BUDGET_NESTED_RESOURCES;
	p->root_res_hold = LIMIT_RESOURCES > nstacks ? LIMIT_RESOURCES - nstacks : 0;
	p->next_num = 1;
	int rc = add_stack(p, e->b->stack_name, 0);
	for (size_t k = 0; rc == 0 && k < m->nstacks; k++) {
		rc = add_stack(p, m->names[k], (k + 1) * RANK_STEP);
		p->mstack[k] = e->nstacks - 1;
		unsigned long num;
		char tail;
		if (sscanf(m->names[k], "Nested%lu%c", &num, &tail) == 1 && num >= p->next_num)
			p->next_num = num + 1;
	}
	for (size_t i = 0; i < e->n; i++) {
		size_t w = m->where ? m->where[i] : NONE;
		p->where[i] = w == NONE ? NONE : w ? p->mstack[w - 1] : 0;
	}
	/* New resources fill the last remembered stack, else the root. */
	p->cur = m->nstacks ? p->mstack[m->nstacks - 1] : 0;
	return rc;
}

static void packer_free(packer *p)
{
	for (size_t si = 0; si < p->e->nstacks && p->imp; si++)
		free(p->imp[si]);
	free(p->imp);
	free(p->resv_n);
	free(p->resv_b);
	free(p->outs);
	free(p->params);
	free(p->mstack);
	free(p->where);
	free(p->hi);
	free(p->rank);
	free(p->unsettled);
	free(p->counted);
	free(p->sink);
	free(p->moved);
	free(p->unit_stack);
}

/* Component C is new and does not fit the stack being filled but fits a
 * fresh one: it starts one, so it is not cut. */
static int fresh_for_component(packer *p, size_t c)
{
	emit *e = p->e;
	const size_t *order = p->o->order;
	size_t lo = p->o->cstart[c], hi = p->o->cstart[c + 1], bytes = 0;
	for (size_t k = lo; k < hi; k++) {
		if (p->where[order[k]] != NONE || p->hi[order[k]] != RANK_LATE)
			return 0;
		bytes += e->est[order[k]];
	}
	const stack *cur = &e->stacks[p->cur];
	size_t maxr = p->cur ? BUDGET_NESTED_RESOURCES : BUDGET_ROOT_RESOURCES;
	size_t maxb = p->cur ? BUDGET_NESTED_BYTES : p->root_bytes_budget;
	bool fits = cur->nres + (hi - lo) <= maxr && cur->bytes + bytes <= maxb;
	bool fits_fresh = hi - lo <= BUDGET_NESTED_RESOURCES && bytes <= BUDGET_NESTED_BYTES;
	if (fits || !fits_fresh || cur->nres == 0)
		return 0;
	size_t si;
	int rc = open_nested(p, 0, &si);
	p->cur = si;
	return rc;
}

/* Packs O's order: remembered resources into their stacks while the
 * order and the limits allow, new ones where there is room. */
static int pack(emit *e, const layout_order *o, const memory *m)
{
	packer p;
	int rc = packer_init(&p, e, o, m);
	for (size_t k = 0; k < e->n; k++)
		e->b->resources[k]->stack = NONE;
	if (rc == 0) {
		evict(&p);
		high_ranks(&p);
		for (size_t i = 0; i < e->n; i++)
			if (p.where[i] != NONE) {
				p.resv_n[p.where[i]]++;
				p.resv_b[p.where[i]] += e->est[i];
			}
	}
	for (size_t c = 0; rc == 0 && c < o->ncomp; c++) {
		rc = fresh_for_component(&p, c);
		for (size_t k = o->cstart[c]; rc == 0 && k < o->cstart[c + 1]; k++) {
			size_t r = o->order[k], lo = low_rank(&p, r), si = p.where[r];
			enum move_reason why = MOVE_NONE;
			if (si != NONE) {
				p.resv_n[si]--;
				p.resv_b[si] -= e->est[r];
			}
			if (si != NONE && fits(&p, si, r, lo, RANK_LATE, true, &why)) {
				place(&p, si, r, lo);
				continue;
			}
			if (si != NONE) {
				p.moved[r] = why;
				p.where[r] = NONE;
			}
			rc = pack_new(&p, r, lo);
		}
	}
	/* Sinks join the root last (nothing depends on them). */
	for (size_t k = 0; rc == 0 && k < e->n; k++)
		if (p.sink[o->order[k]])
			place(&p, 0, o->order[k], RANK_LATE);
	if (rc == 0 && m->where)
		rc = report_moves(&p);
	packer_free(&p);
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
	bool split = e->n > LIMIT_RESOURCES || total > LIMIT_BYTES - SINGLE_STACK_MARGIN;
	memory m = {0};
	int rc = memory_load(e, split, &m);
	/* One stack while it fits and nothing is remembered in a nested one. */
	if (rc == 0 && m.nstacks == 0 && !split) {
		memory_free(&m);
		if (!new_stack(e, e->b->stack_name))
			return synth_error_oom();
		for (size_t i = 0; i < e->n; i++)
			put(e, 0, i);
		return 0;
	}
	layout_order o = {0};
	if (rc == 0)
		rc = order_resources(e, &o);
	if (rc == 0)
		rc = pack(e, &o, &m);
	layout_order_free(&o);
	memory_free(&m);
	if (rc == 0)
		compact(e);
	if (rc == 0)
		rc = check_root(e);
	if (rc == 0)
		rc = finish_nested(e);
	return rc;
}

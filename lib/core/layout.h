/*
 * The stack layout's shared state, between template.c (dependencies,
 * resolution, emission) and layout.c (ordering and packing). Internal to
 * lib/core.
 *
 * template.c fills an emit's dependency graph and size estimates
 * (collect_deps), synth__layout() adds the stacks and sets every
 * resource's `stack`, and template.c then resolves and writes each stack.
 */
#ifndef SYNTH_LAYOUT_H
#define SYNTH_LAYOUT_H

#include "internal.h"

/* The assembly's copy of the placement memory, written with a split. */
#define SYNTH_LAYOUT_FILE "synth-layout.txt"

/* CloudFormation's limits per template. */
#define LIMIT_RESOURCES 500
#define LIMIT_OUTPUTS 200
#define LIMIT_PARAMETERS 200
#define LIMIT_BYTES 1000000

typedef struct stack {
	char *name;          /* root: the stack name; nested: "Nested<N>" */
	char *lid;           /* nested: logical ID of its AWS::CloudFormation::Stack */
	size_t *res;         /* resource indices, in order */
	size_t nres;
	size_t bytes;        /* estimated */
	json_t *params;      /* Parameters */
	json_t *outputs;     /* Outputs */
	json_t *pass;        /* nested: Parameters values given by the root */
	unsigned char *after;/* nested: stacks this one must follow (AFTER_*) */
	json_t *after_root;  /* nested: root resources it must follow (lids) */
	bool uses_conditions;
	char *file;          /* template file name */
	char hash[65];
	size_t rank;         /* the layout's order: a stack reads only from
				lower ranks (the root's own resources: 0) */
} stack;

/* Why a nested stack follows another: it reads one of its outputs (the
 * parameter already orders them), or a resource's explicit DependsOn. */
#define AFTER_IMPLIED 1
#define AFTER_EXPLICIT 2

/* The distinct attributes read of a resource that are tracked per
 * resource (Ref counts as one); more are counted, not told apart. */
#define ATTRS_TRACKED 4

typedef struct emit {
	synth_backend *b;
	size_t n;            /* resources */
	size_t **deps;       /* per resource: indices it depends on */
	size_t *ndeps;
	size_t *capdeps;     /* per resource: capacity of deps[i] */
	size_t *ntok;        /* per resource: deps[i][0 .. ntok[i]) come from
				tokens in its properties (the rest: metadata
				tokens and explicit DependsOn) */
	const char *(*attrs)[ATTRS_TRACKED]; /* per resource: attributes others
				read of it ("" for Ref) ... */
	unsigned char *nattrs; /* ... and how many distinct (saturates) */
	size_t *est;         /* per resource: estimated bytes */
	stack *stacks;       /* [0] the root, then the nested stacks in order */
	size_t nstacks;
	size_t capstacks;
	synth_buf loc;       /* where we are, for messages: a prefix ... */
	const char *seg[128];/* ... plus the keys (or NULL for an index) below it */
	size_t idx[128];
	size_t depth;
} emit;

/*
 * The placement memory (logical ID -> stack) is read from the root
 * template of the deployed stack (the file SYNTH_DEPLOYED_TEMPLATE names)
 * or else of the previous assembly, and written back into the root
 * template's Metadata under SYNTH_MD_LAYOUT: {"version": 1, "stacks":
 * [{"name": "NestedN", "resources": "LID LID ..."}, ...]} in rank order
 * (the root's own resources are its Resources). The assembly holds the
 * same in SYNTH_LAYOUT_FILE (text: "synth-layout 1 STACK", then a line
 * "NAME LID LID ..." per stack, "root" first), read instead of the root
 * template when present.
 *
 * Assigns every resource of E to a stack: creates e->stacks (the root
 * first, then "Nested1", "Nested2", ...), fills their resource lists and
 * sets each resource's `stack`. Needs e->deps (acyclic) and e->est.
 * Nested stacks get their logical ID and empty `after` / `after_root`
 * for the resolution to fill. An error (a resource too big for any
 * template, a root over CloudFormation's resource limit) is recorded on
 * the backend.
 */
int synth__layout(emit *e);

/* Frees the stacks synth__layout() made. */
void synth__layout_free(emit *e);

#endif

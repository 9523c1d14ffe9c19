/*
 * The names of a model's operations (getX, listXs, createX, updateX,
 * deleteX, onCreateX, ...), as @model's options give them or Amplify's
 * defaults: one definition for the client schema (gqlgen.c) and the
 * resolvers (gqlresolvers.c), which must name the same fields. An
 * @index's query is its "queryField", as the parser gives it.
 */
#ifndef SYNTH_GQL_NAMES_H
#define SYNTH_GQL_NAMES_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>

/* A generated name's capacity: at most 2 names of 255 + affixes. */
#define SYNTH_GQL_NAME_MAX 1024

typedef struct synth_gql_names {
	/* The query and mutation fields; NULL when turned off. */
	const char *get, *list, *create, *update, *del;
	/* Subscriptions at all: not @model(subscriptions: null) nor level off. */
	bool subs;
	/* onCreate, onUpdate, onDelete: how many names each (0: none, when
	 * subscriptions are off, the key is null or its mutation is off). */
	size_t non[3];
	/* The storage of the names (synth__gql_names_on reads on[]). */
	char getb[SYNTH_GQL_NAME_MAX], listb[SYNTH_GQL_NAME_MAX], createb[SYNTH_GQL_NAME_MAX],
		updateb[SYNTH_GQL_NAME_MAX], delb[SYNTH_GQL_NAME_MAX], onb[3][SYNTH_GQL_NAME_MAX];
	const json_t *on[3]; /* custom names (borrowed arrays), or NULL: onb */
} synth_gql_names;

/* The operation names of model M (the parser's object) named MODEL. */
void synth__gql_names_model(synth_gql_names *o, const char *model, const json_t *m);
/* Name K (< o->non[I]) of subscription I (0 onCreate, 1 onUpdate,
 * 2 onDelete). */
const char *synth__gql_names_on(const synth_gql_names *o, int i, size_t k);
/* The plural of S into OUT (capacity CAP), by the parser's rule
 * (synth__graphql_plural). */
void synth__gql_names_plural(char *out, size_t cap, const char *s);
/* S with its first letter upper-cased, appended to OUT (capacity CAP). */
void synth__gql_names_cat_upper(char *out, size_t cap, const char *s);

#endif

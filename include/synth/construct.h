/*
 * libsynth: construct factories, the construct container, and resources.
 *
 * The core of the API for writing a construct factory; the rest of it
 * (failing, optional lookups, iteration, assets, layout groups, event
 * sources) is in <synth/sys/construct.h>, which includes this header. A
 * factory is created at define time with its props and produces its
 * resources later, on demand, exactly once:
 *
 *   1. synth_construct_new() registers a factory with the backend.
 *   2. When the backend runs, a first pass registers every token the
 *      factories provide (class->provides), a second pass asks each factory
 *      for its instance. synth_construct_require() / synth_construct_lookup()
 *      get-or-compute another factory's instance, so a factory is generated
 *      once however many others depend on it; a cycle is reported naming
 *      every step of it.
 *   3. Inside generate(), the factory adds resources with
 *      synth_resource_new(); their construct paths are "<name>/<id>".
 */
#ifndef SYNTH_CONSTRUCT_H
#define SYNTH_CONSTRUCT_H

#include <jansson.h>
#include "common.h"
#include "backend.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct synth_construct synth_construct;
typedef struct synth_resource synth_resource;
struct synth_function;

typedef struct synth_construct_class {
	int version;          /* SYNTH_CONSTRUCT_CLASS_VERSION */
	const char *kind;     /* "function", "auth", ... (for messages, summary) */
	const char *provides; /* a token other factories look up, or NULL */
	/* Produces the resources. Returns 0 or a negative code after setting
	 * an error (synth_construct_failf(), <synth/sys/construct.h>). Called at most once. */
	int (*generate)(synth_construct *self, void *state);
	/* Frees STATE. Called once when the backend is freed. May be NULL. */
	void (*free)(void *state);
	/* Since version 2. Links function FN to this construct's resource
	 * (synth_function_link): grants exactly the actions of ACCESS (an
	 * access level such as "read", "send" or "publish,subscribe") on
	 * exactly its ARN, and passes its properties as environment variables
	 * (synth_function_link_env). 0, or a negative code after
	 * synth_construct_failf() (an access level it does not know, named
	 * with the ones it does). NULL: the construct cannot be linked. */
	int (*link)(synth_construct *self, void *state, struct synth_function *fn,
		    const char *access);
} synth_construct_class;

/* The version this header describes. Version 1 classes (no link) are
 * still accepted. */
#define SYNTH_CONSTRUCT_CLASS_VERSION 2

/*
 * Registers a factory named NAME (letters, digits, '-', '_'; unique in
 * the backend). CLS must outlive the backend (use static storage). STATE
 * is owned by the construct from this call on, even on failure (then it
 * is freed with cls->free at once). *out is borrowed from the backend.
 */
SYNTH_EXPORT int synth_construct_new(synth_construct **out, synth_backend *b,
				     const char *name,
				     const synth_construct_class *cls,
				     void *state);

/* Borrowed accessors. */
SYNTH_EXPORT const char *synth_construct_name(const synth_construct *c);
SYNTH_EXPORT const char *synth_construct_kind(const synth_construct *c);
SYNTH_EXPORT void *synth_construct_state(const synth_construct *c);
SYNTH_EXPORT synth_backend *synth_construct_backend(const synth_construct *c);
/* C's place in definition order (0 for the first construct defined). */
SYNTH_EXPORT size_t synth_construct_index(const synth_construct *c);

/*
 * Looks up the factory that provides TOKEN and makes sure it is generated
 * (get-or-compute). *out is borrowed. SYNTH_ENOTFOUND when no factory
 * provides TOKEN; SYNTH_ECYCLE when it (transitively) needs SELF.
 * Only valid while SELF is generating.
 */
SYNTH_EXPORT int synth_construct_lookup(synth_construct **out,
					synth_construct *self,
					const char *token);

/* Makes sure DEP is generated before SELF goes on (get-or-compute). */
SYNTH_EXPORT int synth_construct_require(synth_construct *self,
					 synth_construct *dep);

/* --- resources --------------------------------------------------------- */

/*
 * Adds a resource of CloudFormation TYPE at path "<construct name>/<ID>".
 * PROPS (an object, or NULL for none) is stolen and may hold tokens. The
 * logical ID is derived from the path: a readable prefix plus an 8-digit
 * hash, stable across runs and unique in the backend. *out (may be NULL)
 * is borrowed from the backend.
 */
SYNTH_EXPORT int synth_resource_new(synth_resource **out, synth_construct *scope,
				    const char *id, const char *type,
				    json_t *props);

/* Tokens (new references) for R: its Ref and one of its attributes. */
SYNTH_EXPORT json_t *synth_resource_ref(const synth_resource *r);
SYNTH_EXPORT json_t *synth_resource_getatt(const synth_resource *r, const char *attr);

/* Borrowed: the resource's construct path, logical ID, type. */
SYNTH_EXPORT const char *synth_resource_path(const synth_resource *r);
SYNTH_EXPORT const char *synth_resource_logical_id(const synth_resource *r);
SYNTH_EXPORT const char *synth_resource_type(const synth_resource *r);

/* Borrowed: the Properties object, to edit in place until the backend
 * emits its templates. */
SYNTH_EXPORT json_t *synth_resource_properties(synth_resource *r);

/* DependsOn: R is created after DEP (both stay in their stacks; across
 * stacks the nested stacks depend on each other instead). */
SYNTH_EXPORT int synth_resource_add_dependency(synth_resource *r,
					       const synth_resource *dep);

/* Condition (a name added with synth_backend_add_condition), copied. */
SYNTH_EXPORT int synth_resource_set_condition(synth_resource *r,
					      const char *condition);

/* DeletionPolicy / UpdateReplacePolicy ("Delete", "Retain", "Snapshot"). */
SYNTH_EXPORT int synth_resource_set_deletion_policy(synth_resource *r,
						    const char *policy);

/* Adds a Metadata entry; steals VALUE. */
SYNTH_EXPORT int synth_resource_add_metadata(synth_resource *r, const char *key,
					     json_t *value);

/* Finds a resource by construct path; NULL if none (borrowed). */
SYNTH_EXPORT synth_resource *synth_backend_resource(synth_backend *b,
						    const char *path);

#ifdef __cplusplus
}
#endif
#endif

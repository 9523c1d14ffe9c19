/*
 * libsynth for extenders: everything a construct factory needs.
 *
 * <synth.h> is the consumer API (what backend.c calls). This header is for
 * those who write constructs: the built-in ones (function, auth, data,
 * storage, schedule) are written against it and nothing else, exactly as
 * yours would be; read constructs/function.c and test/ext/topic.c as
 * examples, and ARCHITECTURE.md "Adding a construct".
 *
 * The life of a construct:
 *   1. define time: synth_construct_new() registers the factory with its
 *      class and state (validate props first; fail with
 *      synth_backend_failf(), naming the construct);
 *   2. run, pass 1: every class's `provides` token is registered;
 *   3. run, pass 2: generate() is called once; it finds other constructs
 *      through tokens (synth_construct_find / _lookup), adds resources
 *      (synth_resource_new), assets, layout groups, grants and event
 *      sources; errors go through synth_construct_failf();
 *   4. emission: tokens are resolved, the layout splits stacks along
 *      layout groups, assets are zipped.
 *
 * ABI: a class and an event source carry a version field
 * (SYNTH_CONSTRUCT_CLASS_VERSION, SYNTH_EVENT_SOURCE_VERSION) that the
 * library checks at registration: one compiled against headers the library
 * does not support is refused with an error naming it, never called.
 */
#ifndef SYNTH_SYS_CONSTRUCT_H
#define SYNTH_SYS_CONSTRUCT_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>
#include "../common.h"
#include "../value.h"
#include "../backend.h"
#include "../construct.h"
#include "../function.h"
#include "util.h"
#include "contract.h"

#ifdef __cplusplus
extern "C" {
#endif

/* --- failing ----------------------------------------------------------- */

/*
 * Sets the last error to the formatted message, records it as the
 * backend's sticky error (the first one wins: synth_backend_run() then
 * fails with it) and returns CODE. Use it where no construct exists yet
 * (props validation at define time): start the message with the
 * construct's name, "queue-a: visibility timeout ...".
 */
SYNTH_EXPORT int synth_backend_failf(synth_backend *b, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* The same, with the message prefixed by C's name ("<name>: ..."). */
SYNTH_EXPORT int synth_construct_failf(synth_construct *c, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* --- other constructs -------------------------------------------------- */

/*
 * Optional lookup: *out is the construct that provides TOKEN, generated
 * first (get-or-compute), or NULL when no construct provides it; 0 either
 * way, and nothing is recorded. Fails only on a cycle (SYNTH_ECYCLE, every
 * step named) or when the provider failed. Only valid in generate().
 * The required form is synth_construct_lookup() (<synth/construct.h>): it
 * fails naming SELF and TOKEN.
 */
SYNTH_EXPORT int synth_construct_find(synth_construct **out, synth_construct *self,
				      const char *token);

/* Whether a construct of B provides TOKEN. Valid at any time, define
 * time included (it reads the classes). */
SYNTH_EXPORT bool synth_backend_provides(const synth_backend *b, const char *token);

/* The construct named NAME, or NULL (borrowed). */
SYNTH_EXPORT synth_construct *synth_backend_construct(const synth_backend *b,
						      const char *name);

/*
 * Iterates the constructs of class CLS in definition order: the first
 * after PREV (NULL: from the start), or NULL at the end. CLS NULL
 * iterates every construct.
 *   for (c = synth_backend_next(b, &my_class, NULL); c;
 *        c = synth_backend_next(b, &my_class, c)) ...
 */
SYNTH_EXPORT synth_construct *synth_backend_next(const synth_backend *b,
						 const synth_construct_class *cls,
						 const synth_construct *prev);

/* C's class (borrowed, static storage). */
SYNTH_EXPORT const synth_construct_class *synth_construct_class_of(const synth_construct *c);

/* C's state when C is of class CLS, else NULL (C NULL included, so it
 * takes a lookup that found none): the checked way to reach a construct's
 * state from outside its file. */
SYNTH_EXPORT void *synth_construct_state_as(const synth_construct *c,
					    const synth_construct_class *cls);

/* --- layout groups ----------------------------------------------------- */

/*
 * The layout keeps a layout group's resources in one stack and may split
 * a backend between groups (never inside one). By default the resources of
 * a construct are one group. A construct made of independent parts (data:
 * one per model) puts each part in its own group, so a large construct can
 * spread over nested stacks: resources SELF creates after this call belong
 * to group GROUP (a name unique within SELF; calling it again with the same
 * name returns to that group). NULL returns to the construct's own group.
 */
SYNTH_EXPORT int synth_construct_set_layout_group(synth_construct *self, const char *group);

/* --- assets ------------------------------------------------------------ */

/*
 * Registers the code directory DIR (relative to the backend's directory)
 * as a zip asset; EXCLUDE (NULL-terminated fnmatch patterns, added to the
 * default ".git" unless it holds "!.git"; NULL: the default) is copied.
 * What the walk zips and skips (links, FIFOs, ...) is described at
 * synth_function_props.exclude. The same directory with the same
 * excludes registers once. *out names the asset in synth_asset_key() and
 * synth_asset_file(). The zip is built after generation, in parallel.
 */
SYNTH_EXPORT int synth_construct_add_dir_asset(size_t *out, synth_construct *self,
					       const char *dir, const char *const *exclude);

/*
 * Registers the directories DIRS (NULL-terminated, 1 to 16, each relative
 * to the backend's directory) as ONE zip asset: their trees merged, as if
 * copied into one directory, sorted, with the same fixed timestamps and
 * modes as synth_construct_add_dir_asset(). EXCLUDE applies to each of
 * them. A relative path present in two of the directories is an error
 * naming the path and both directories (neither copy silently wins). The
 * fingerprint that lets an unchanged zip be reused covers the merged
 * entries of every directory. The same list of directories with the same
 * excludes registers once; a list of one is synth_construct_add_dir_asset().
 * Used for a Python function: its code plus the packages pip installed.
 */
SYNTH_EXPORT int synth_construct_add_dirs_asset(size_t *out, synth_construct *self,
						const char *const *dirs,
						const char *const *exclude);

/*
 * Registers LEN bytes of DATA as a file asset "asset.<sha256>.<EXT>" (a
 * schema, a JSON document, resolver code), written at once. DISPLAY (a
 * construct path, e.g. "data/GraphQLSchema") names it in the asset
 * manifest and messages. The same bytes and EXT register once.
 */
SYNTH_EXPORT int synth_construct_add_file_asset(size_t *out, synth_construct *self,
						const void *data, size_t len,
						const char *ext, const char *display);

/* Tokens (new references) for asset ASSET: its S3 object key in the
 * bootstrap bucket, its file name in the assembly, and its s3:// URI. */
SYNTH_EXPORT json_t *synth_asset_key(size_t asset);
SYNTH_EXPORT json_t *synth_asset_file(size_t asset);
SYNTH_EXPORT json_t *synth_asset_s3_uri(size_t asset);
/* The bootstrap asset bucket's name (Fn::Sub, a new reference). */
SYNTH_EXPORT json_t *synth_asset_bucket(void);

/* --- resource policies ------------------------------------------------- */

/*
 * For a resource policy (a queue's, a topic's): appends to STATEMENTS (an
 * array) one statement that allows the AWS service SERVICE_PRINCIPAL
 * ("sns.amazonaws.com") to do ACTION on RESOURCE (stolen) from exactly
 * SOURCE_ARN (stolen; an ArnEquals aws:SourceArn condition). The letters
 * and digits of ID become its Sid, which must be new in STATEMENTS. Errors
 * (an empty ID, a principal that is not a service, a Sid taken, a NULL
 * token) fail SELF with the message naming it; nothing is appended then.
 */
SYNTH_EXPORT int synth_policy_allow_service(synth_construct *self, json_t *statements,
					    const char *id, const char *service_principal,
					    const char *action, json_t *resource,
					    json_t *source_arn);

/* --- Lambda event filtering --------------------------------------------- */

/*
 * An event source mapping's FilterCriteria ({"Filters": [{"Pattern":
 * TEXT}, ...]}, a new reference) from TEXT, a JSON array of 1 to 5
 * (Lambda's default quota) non-empty JSON objects, each at most 4,096
 * characters compact. NULL when TEXT is not that: *WHY (static text, for
 * the construct's message) says what is wrong, or is NULL when out of
 * memory. Queues, table streams and every later polled source share it.
 */
SYNTH_EXPORT json_t *synth_event_filter_criteria(const char *text, const char **why);

/* --- functions: grants, dependencies, event sources -------------------- */

/* For link callbacks: sets FN's SYNTH_<TARGET>_<PROP> to VALUE (a string
 * or token; stolen). Setting it again replaces the value: the variables
 * are TARGET's, and it may rewrite them (storage does, once its bucket has
 * a fixed name). */
SYNTH_EXPORT int synth_function_link_env(synth_function *fn, const synth_construct *target,
					 const char *prop, json_t *value);

/* FN when C is a function's construct, else NULL (C NULL included;
 * borrowed). */
SYNTH_EXPORT synth_function *synth_function_from_construct(const synth_construct *c);

/*
 * Adds one IAM statement (an object with Effect, Action, Resource and,
 * for example, Condition; stolen) to FN's role policy.
 * synth_function_grant() is the short form for Allow ACTIONS on RESOURCES.
 */
SYNTH_EXPORT int synth_function_add_statement(synth_function *fn, json_t *statement);

/*
 * R is created after FN's role policy (DependsOn), for what fails until
 * the function may act, e.g. an event source mapping that polls a queue:
 * Lambda checks the role's permissions when the mapping is created. The
 * policy is created now if FN has no statement yet.
 */
SYNTH_EXPORT int synth_function_depend_on_policy(synth_function *fn, synth_resource *r);

/*
 * An event source: what connects a source (a topic, a queue, a schedule)
 * to a function, as the CDK's fn.addEventSource(source) / source.bind(fn).
 * The function knows nothing of queues or topics: bind() adds the
 * resources (in the function's construct: use synth_function_construct(fn)
 * as their scope, so they stay in the function's stack), the grants
 * (synth_function_grant / _add_statement) and the dependencies the source
 * needs.
 */
typedef struct synth_event_source {
	int version;       /* SYNTH_EVENT_SOURCE_VERSION */
	const char *kind;  /* "schedule", "topic", ... (messages) */
	/* Called once per function, while FN generates (or at once when FN
	 * has generated already). 0, or a negative code after
	 * synth_construct_failf(). DATA is the pointer given below. */
	int (*bind)(synth_function *fn, void *data);
	/* Frees DATA when the backend is freed. May be NULL. */
	void (*free)(void *data);
} synth_event_source;

#define SYNTH_EVENT_SOURCE_VERSION 1

/*
 * Attaches SRC (static storage) with DATA to FN. DATA is owned by FN from
 * this call on, even on failure (then SRC->free(DATA) runs at once),
 * except when SRC has a version this libsynth does not know: then nothing
 * of SRC is called and DATA stays the caller's.
 */
SYNTH_EXPORT int synth_function_add_event_source(synth_function *fn,
						 const synth_event_source *src, void *data);

#ifdef __cplusplus
}
#endif
#endif

/*
 * libsynth: the backend handle.
 *
 * A backend program creates one backend from its command line and
 * environment, defines constructs on it, and runs it at the end of main:
 *
 *     int main(int argc, char **argv) {
 *         synth_backend *b;
 *         if (synth_backend_new(&b, argc, argv) < 0)
 *             return synth_backend_fail(NULL);
 *         synth_define_function(b, "sayHello", &(synth_function_props){
 *             .schedule = "every day" });
 *         return synth_backend_main(b);   // runs, reports, frees
 *     }
 *
 * Errors are sticky: a define_* call that fails returns NULL, sets
 * synth_error_last() and records the error on the backend, so that
 * synth_backend_run() fails with that first error even when the program
 * did not check every call.
 */
#ifndef SYNTH_BACKEND_H
#define SYNTH_BACKEND_H

#include <jansson.h>
#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct synth_backend synth_backend;

typedef enum synth_backend_type {
	SYNTH_BACKEND_SANDBOX = 0,
	SYNTH_BACKEND_BRANCH = 1
} synth_backend_type;

/*
 * Creates a backend from the program's context. Context keys are read, in
 * increasing priority, from: the environment variable CDK_CONTEXT_JSON (a
 * JSON object, as the CDK toolkit passes it), then `--context KEY=VALUE`
 * (or `-c KEY=VALUE`) arguments. Known keys:
 *   synth:namespace   the app (default: the current directory's name)
 *   synth:name        the branch or sandbox name (default: $USER, else the
 *                     passwd name; an error when neither exists)
 *   synth:type        "branch" or "sandbox" (default "sandbox")
 * (Amplify's amplify-backend-namespace / -name / -type are accepted too.)
 * The assembly goes to CDK_OUTDIR, `--out DIR`, or "cdk.out".
 * ARGV may be NULL when ARGC is 0. On success *out is caller-owned: free it
 * with synth_backend_free() (synth_backend_main() does).
 */
SYNTH_EXPORT int synth_backend_new(synth_backend **out, int argc,
				   char **argv);

/* Frees the backend and everything it owns. NULL is a no-op. */
SYNTH_EXPORT void synth_backend_free(synth_backend *b);

/* Sets a context value (same keys as above) before anything is defined.
 * The string is copied. */
SYNTH_EXPORT int synth_backend_set_context(synth_backend *b, const char *key,
					   const char *value);

/* The context value of KEY (any key: constructs read their own, e.g.
 * `-c mytopic:fifo=true`), or NULL when unset. Borrowed, valid until the
 * key is set again or the backend is freed. */
SYNTH_EXPORT const char *synth_backend_context(const synth_backend *b, const char *key);

/* Sets the output directory (copied). */
SYNTH_EXPORT int synth_backend_set_outdir(synth_backend *b, const char *dir);

/*
 * Generates every construct, lays out the stacks, and writes the cloud
 * assembly (to a temporary directory renamed into place, so a failure
 * leaves any previous assembly untouched). Returns 0 or a negative code;
 * the message names the construct path. Can be called once.
 */
SYNTH_EXPORT int synth_backend_run(synth_backend *b);

/*
 * Convenience for the end of main(): runs B, prints any error to stderr as
 * "synth: error: <message>", frees B and returns a process exit status
 * (0, or 1 on error). B may be NULL (then it only reports the last error).
 */
SYNTH_EXPORT int synth_backend_main(synth_backend *b);

/* Reports B's first error (NULL, or none yet: synth_error_last()) on
 * stderr and returns 1; for early exits. */
SYNTH_EXPORT int synth_backend_fail(synth_backend *b);

/* --- backend identifier ------------------------------------------------ */

/* The resolved identifier. All borrowed, valid for the backend's life. */
SYNTH_EXPORT const char *synth_backend_namespace(const synth_backend *b);
SYNTH_EXPORT const char *synth_backend_name(const synth_backend *b);
SYNTH_EXPORT synth_backend_type synth_backend_type_of(const synth_backend *b);
/* The root stack name: synth-<ns>-<name>-<type>-<hash>, at most 128
 * characters of letters, digits and dashes. */
SYNTH_EXPORT const char *synth_backend_stack_name(const synth_backend *b);

/*
 * Computes a stack name without a backend. NS and NAME are sanitized
 * (every run of characters other than letters and digits becomes one dash);
 * a 10-character hash of the unsanitized triple keeps names that sanitize
 * alike apart. *out is caller-owned (free()). Fails with SYNTH_EINVALID on
 * an empty namespace or name, or one with no letter or digit.
 */
SYNTH_EXPORT int synth_stack_name(char **out, const char *ns, const char *name,
				  synth_backend_type type);

/* --- parameters, conditions, outputs ----------------------------------- */

/* Adds a template parameter to the root stack. TYPE is a CloudFormation
 * parameter type ("String", "Number", ...); DEFAULT_VALUE may be NULL.
 * Reference it with synth_param(NAME). */
SYNTH_EXPORT int synth_backend_add_parameter(synth_backend *b, const char *name,
					     const char *type,
					     const char *default_value,
					     const char *description);

/* Adds a condition (steals EXPR, a condition function tree). */
SYNTH_EXPORT int synth_backend_add_condition(synth_backend *b, const char *name,
					     json_t *expr);

/*
 * Output storage strategy: records an output that the client config needs.
 * CATEGORY groups outputs ("custom", "function", "auth", ...); NAME is the
 * stack output name (letters and digits); VALUE is stolen (usually a
 * token). The output lands in the root stack's Outputs, and the root
 * template's Metadata lists it under "AWS::Amplify::<Category>" as
 * {"version": "1", "stackOutputs": [...]}, which is what Amplify's
 * tooling reads to build amplify_outputs.json. EXPORT_NAME may be NULL.
 */
SYNTH_EXPORT int synth_backend_add_output(synth_backend *b, const char *category,
					  const char *name, json_t *value,
					  const char *description,
					  const char *export_name);

/* --- secrets ----------------------------------------------------------- */

/*
 * The secret resolver. A secret is named, never valued: NAME maps to an SSM
 * SecureString parameter at the backend's path
 *     /synth/<namespace>/<type>/<name>/<NAME>
 * with the app-wide fallback
 *     /synth/<namespace>/shared/<NAME>
 * Both are caller-owned strings (free()). The value never enters a
 * template, the assembly or a log.
 */
SYNTH_EXPORT int synth_secret_path(char **out, const synth_backend *b,
				   const char *name);
SYNTH_EXPORT int synth_secret_shared_path(char **out, const synth_backend *b,
					  const char *name);

/* --- escape hatches ---------------------------------------------------- */

/*
 * Adds a raw CloudFormation resource at construct path ID (letters,
 * digits, '-' and '_'). PROPS is stolen and may hold tokens. Reference it
 * with synth_ref(ID) / synth_getatt(ID, ...).
 */
SYNTH_EXPORT int synth_backend_add_resource(synth_backend *b, const char *id,
					    const char *type, json_t *props);

/*
 * Overrides part of a generated resource, after generation, like the CDK's
 * addOverride: RESOURCE_PATH is the resource's construct path (for example
 * "sayHello/Resource"), PATH a dot-separated path from the resource's
 * top level ("Properties.MemorySize", "DeletionPolicy"). Intermediate
 * objects are created. VALUE is stolen; NULL deletes. A resource path that
 * does not exist is an error when the backend runs.
 */
SYNTH_EXPORT int synth_backend_add_override(synth_backend *b,
					    const char *resource_path,
					    const char *path, json_t *value);

/* --- backend identity --------------------------------------------------- */

/*
 * Which backend a program or a command means: its namespace, its branch or
 * sandbox name, its type and its stack name. The backend program
 * (synth_backend_new) and every synth command resolve it with
 * synth_identity_resolve(), so they agree on the stack and the SSM paths.
 * Every string is owned by the struct: free them with
 * synth_identity_clear().
 */
typedef struct synth_identity {
	char *ns;         /* the namespace */
	char *name;       /* the branch or sandbox name */
	char *stack_name; /* as synth_stack_name() makes it */
	synth_backend_type type;
} synth_identity;

/*
 * Resolves an identity:
 *   namespace  NS, or (NULL) the name of the current directory (the
 *              directory itself when it is "/");
 *   branch     BRANCH when it is not NULL: a branch backend of that name;
 *   sandbox    otherwise a sandbox named SANDBOX, or (NULL) after the OS
 *              user: $USER when set and not empty, else the user's passwd
 *              entry. When neither exists this is an error, never a
 *              made-up name.
 * An empty or unusable namespace or name is an error (synth_stack_name's
 * message). On success *OUT holds caller-owned strings (free with
 * synth_identity_clear); on failure *OUT is cleared and the error is set
 * (synth_error_last). Returns 0 or a negative SYNTH_E* code.
 */
SYNTH_EXPORT int synth_identity_resolve(synth_identity *out, const char *ns,
					const char *branch, const char *sandbox);
/* Frees the strings of ID and zeroes it; ID may be NULL. */
SYNTH_EXPORT void synth_identity_clear(synth_identity *id);

#ifdef __cplusplus
}
#endif
#endif

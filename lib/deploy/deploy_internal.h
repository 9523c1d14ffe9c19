/*
 * libsynth internal: what the files of the deployer share (lib/deploy/
 * deploy*.c). The public side is deploy.h; this header is for those
 * files only. Each file is a module and names what it shares with its
 * own prefix:
 *
 *   deploy_cfn.c        synth__deploy_cfn_*       small helpers, the deploy
 *                       context, CloudFormation Query calls, DescribeStacks
 *   deploy_assembly.c   synth__deploy_assembly_*  the cloud assembly: manifest,
 *                       templates (nested ones too), asset manifest, limits
 *                       (step 1)
 *   deploy_secrets.c    synth__deploy_secrets_*   the secrets the functions
 *                       read (step 4) and the secret-versions digests (2a)
 *   deploy_compare.c    synth__deploy_compare_*   the no-change check (3),
 *                       tags, parameters, termination protection; diff
 *   deploy_changeset.c  synth__deploy_changeset_* create, wait for, list and
 *                       execute a change set (6)
 *   deploy_events.c     synth__deploy_events_*    the watcher: events of the
 *                       root and nested stacks, the live line (7), the root
 *                       cause (8)
 *   deploy_recovery.c   synth__deploy_recovery_*  a stack in progress or in a
 *                       failed state (2): wait, delete and create again,
 *                       continue-rollback; destroy and watch
 *   deploy_outputs.c    synth__deploy_outputs_*   the client configuration
 *                       from the deployed stack (9)
 *   deploy.c            synth_deploy: the steps in order (bootstrap check
 *                       and asset publishing, 5)
 */
#ifndef SYNTH_DEPLOY_INTERNAL_H
#define SYNTH_DEPLOY_INTERNAL_H

#include <stdbool.h>
#include <stdio.h>
#include <jansson.h>
#include <synth/sys/contract.h>
#include "../util/util.h"
#include "deploy.h"

/* --- deploy_cfn.c: helpers, the context, CloudFormation calls ----------- */

/* A growable list of Query parameters whose strings it owns. */
typedef struct plist {
	synth_sigv4_pair *v;
	size_t n, cap;
	bool oom;
} plist;

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

/* The string under K of O; borrowed; NULL when absent or not a string. */
const char *synth__deploy_cfn_str(json_t *o, const char *k);
/* The array of a Query-protocol list ({"member": [...]}) under KEY of
 * PARENT; borrowed. NULL when the list is empty or absent. */
json_t *synth__deploy_cfn_members(json_t *parent, const char *key);
bool synth__deploy_cfn_ends_with(const char *s, const char *suffix);
/* A stack status that means an operation is running. REVIEW_IN_PROGRESS
 * (a stack created by a change set never executed) is at rest. */
bool synth__deploy_cfn_in_progress(const char *status);
/* *_FAILED or *ROLLBACK_COMPLETE. */
bool synth__deploy_cfn_failed_state(const char *status);
/* ISO 8601 UTC ("2024-05-01T12:00:00.123Z") to seconds; 0 if unreadable. */
double synth__deploy_cfn_iso_time(const char *s);
/* The next poll interval: 1.5 times the last, capped. */
int synth__deploy_cfn_backoff(int interval, int cap);
/* Whether *o->interrupted is set. */
bool synth__deploy_cfn_stopped(const synth_deploy_options *o);
/* Sleeps MS milliseconds in slices, returning early when interrupted. */
void synth__deploy_cfn_nap(const synth_deploy_options *o, int ms);
/* Appends a parameter to P (copies; a failure is remembered in p->oom and
 * reported by synth__deploy_cfn_call). */
void synth__deploy_cfn_add(plist *p, const char *name, const char *value);
/* The same, the name a printf format ("Tags.member.%zu.Key"). */
void synth__deploy_cfn_addf(plist *p, const char *value, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void synth__deploy_cfn_params_free(plist *p);
/* A CloudFormation Query call with the parameters of P (may be NULL).
 * *out: caller decrefs. */
int synth__deploy_cfn_call(synth_aws *a, const char *action, plist *p, json_t **out);
/* A random hex token (for ClientToken / ClientRequestToken). */
void synth__deploy_cfn_token(char out[33]);
/* Replaces *SLOT with a copy of V (NULL: none). */
void synth__deploy_cfn_set_str(char **slot, const char *v);
/* D for one command: options, result, log, poll intervals. */
void synth__deploy_cfn_init(dctx *d, synth_aws *a, const synth_deploy_options *o,
			    synth_deploy_result *res);
/* A line to the log. */
void synth__deploy_cfn_say(dctx *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* DescribeStacks of NAME (a name or an id): *stack (caller decrefs) or
 * NULL when it does not exist. */
int synth__deploy_cfn_describe(dctx *d, const char *name, json_t **stack);
/* GetTemplate (Original) of stack STACK (a name or an id): *out (caller
 * decrefs) is the response; its "TemplateBody" the template. */
int synth__deploy_cfn_template(synth_aws *a, const char *stack, json_t **out);
/* Records the stack's id and status in d->res. */
void synth__deploy_cfn_note(dctx *d, json_t *stack);

/* --- deploy_assembly.c: the cloud assembly -------------------------------- */

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

/* Calls FN on every template: the root (nested = NULL) and each nested
 * one, depth first, with its path and logical id path. */
typedef int (*template_fn)(void *ctx, const char *path, const char *where, size_t bytes,
			   json_t *tpl);

/* Reads the manifest in DIR: the one stack (or the one named STACK), its
 * template, tags and asset manifest. */
int synth__deploy_assembly_load(assembly *as, const char *dir, const char *stack);
void synth__deploy_assembly_free(assembly *as);
/* A JSON file; NULL with the error set (SYNTH_ENOTFOUND when absent). */
json_t *synth__deploy_assembly_load_json(const char *path);
/* The asset in FILES whose destination object key is KEY; borrowed.
 * *bucket (if not NULL): that destination's bucketName. */
json_t *synth__deploy_assembly_asset_by_key(json_t *files, const char *key, const char **bucket);
/* The local path of a nested template named by a TemplateURL's key (the
 * URL's last segment), or NULL. Caller frees. */
char *synth__deploy_assembly_nested_path(const assembly *as, json_t *resource);
/* Whether the resource is an AWS::CloudFormation::Stack. */
bool synth__deploy_assembly_is_nested(json_t *resource);
/* Calls FN on the root template and every nested one, depth first. */
int synth__deploy_assembly_each(const assembly *as, template_fn fn, void *ctx);
/* Checks every template against CloudFormation's limits (size as
 * uploaded, resource count): SYNTH_ELIMIT naming the first over. */
int synth__deploy_assembly_check_limits(const assembly *as);
/* Resources in every template (0 when one cannot be read). */
size_t synth__deploy_assembly_count(const assembly *as);

/* --- deploy_secrets.c: the functions' secrets, secret versions ----------- */

/* Every SSM parameter a function reads (SYNTH_ENV_SSM_CONFIG) exists at
 * one of its two paths; else SYNTH_ENOTFOUND, d->res->missing_secrets
 * naming them. */
int synth__deploy_secrets_check(dctx *d, const assembly *as);
/* The template parameters that carry secret versions: *values (caller
 * decrefs) {param: digest}. REQUIRE: a secret set at neither of its
 * paths is an error. */
int synth__deploy_secrets_versions(dctx *d, const assembly *as, bool require, json_t **values);

/* --- deploy_compare.c: the no-change check, termination protection ------- */

/* The tags a deploy sets: the manifest's, then the caller's (later wins).
 * New reference; NULL when out of memory. */
json_t *synth__deploy_compare_tags(const assembly *as, const synth_deploy_options *o);
/* Whether the stack (a DescribeStacks member) has termination protection. */
bool synth__deploy_compare_protected(json_t *stack);
/* Termination protection as asked (o->termination_protection: > 0 on,
 * < 0 off, 0 leave it as it is): UpdateTerminationProtection when STACK
 * (a DescribeStacks member) differs, nothing otherwise. */
int synth__deploy_compare_protection(dctx *d, json_t *stack);
/* Whether the deployed stack already is what AS would make it (with the
 * parameters d->values). Calls GetTemplate only. */
int synth__deploy_compare_unchanged(dctx *d, const assembly *as, json_t *stack, bool *same);

/* --- deploy_changeset.c: change sets ------------------------------------ */

/* Lists a change set's changes (unless quiet). */
void synth__deploy_changeset_print(dctx *d, json_t *changes);
/* CreateChangeSet, then DescribeChangeSet until it settles. *id (caller
 * frees) the change set's id, *changes (caller decrefs) its changes;
 * *empty when it had none (it has been deleted). */
int synth__deploy_changeset_create(dctx *d, const assembly *as, const char *account, bool create,
				   char **id, json_t **changes, bool *empty);
int synth__deploy_changeset_execute(dctx *d, const assembly *as, const char *id);

/* --- deploy_events.c: the watcher, the root cause ------------------------ */

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


/* Follows the stack ROOT_ID (named ROOT_NAME in messages); TOTAL:
 * resources expected, for the live line. */
int synth__deploy_events_init(watcher *w, dctx *d, const char *root_id, const char *root_name,
			      size_t total);
void synth__deploy_events_free(watcher *w);
/* Marks the root stack's current events as seen: what follows is new. */
int synth__deploy_events_prime(watcher *w);
/* Follows the root stack's current operation to its end and records the
 * outcome in d->res: SETTLED / FAILED (with the root cause) /
 * INTERRUPTED / DELETED. *final_out (may be NULL; caller decrefs): the
 * stack's last DescribeStacks member. */
int synth__deploy_events_follow(dctx *d, watcher *w, json_t **final_out);

/* --- deploy_recovery.c: stacks in progress or in a failed state ---------- */

/* Waits for a stack that is already being changed by someone else;
 * *stack becomes its state after (NULL: deleted). */
int synth__deploy_recovery_wait_other(dctx *d, json_t **stack);
/* Brings an existing stack to a state a change set can act on. *stack
 * may become NULL (deleted: create it again). */
int synth__deploy_recovery_settle(dctx *d, const assembly *as, json_t **stack);

/* --- deploy_outputs.c: the client configuration -------------------------- */

/* Builds and writes the client configuration (to o->outputs_path, if
 * any) from STACK (DescribeStacks) and METADATA (the root template's). */
int synth__deploy_outputs_write(dctx *d, const assembly *as, json_t *stack, json_t *metadata);

#endif

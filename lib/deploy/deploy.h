/*
 * libsynth internal: the deployer. Takes a cloud assembly (cdk.out) to a
 * CloudFormation stack, and back: deploy, destroy, diff, continue a
 * failed rollback, watch a stack, and the client configuration from the
 * deployed stack. Internal, CLI only (libsynth-aws.a).
 *
 * A deploy, in order:
 *  1. reads the assembly (manifest.json: the one stack, its template, its
 *     tags, its asset manifest) and checks CloudFormation's limits on
 *     every template (1 MB as uploaded, 500 resources);
 *  2. DescribeStacks: a stack being changed (*_IN_PROGRESS) is waited for;
 *     ROLLBACK_COMPLETE (a failed create) is deleted first and created
 *     again; UPDATE_ROLLBACK_FAILED is an error that names the way out
 *     (synth_deploy_continue_rollback);
 *  2a. secret versions: every resource whose Metadata has
 *     SYNTH_MD_SECRET_VERSIONS ({"param": P, "secrets": {NAME: [path,
 *     shared path]}}: the auth construct's secret fetcher) names a root
 *     template parameter P that this deploy sets to a digest of those
 *     secrets' current SSM versions (GetParameters without decryption:
 *     no value is read). A secret changed with `synth secret set` changes
 *     P, so the fetcher is updated and reads the new value; an unchanged
 *     one leaves P as deployed. A secret set at neither path is an error
 *     here (missing_secrets), before any upload;
 *  3. the no-change check, before anything is uploaded: the stack exists
 *     and is not in a failed state, GetTemplate (Original) parses to the
 *     same JSON as the new root template, and the stack's parameters (the
 *     values of step 2a, the template's defaults for the others), tags
 *     and termination protection are what this deploy would set. Then
 *     nothing else is called. Why the root template is enough: every
 *     nested template and every function zip is a file asset whose S3 key
 *     is the SHA-256 of its content, and the root template names them by
 *     that key (a nested stack's TemplateURL, a function's Code.S3Key,
 *     both through the nested templates that the root names by hash). An
 *     equal root template therefore names the same bytes everywhere below
 *     it, and those bytes were uploaded by the deploy that put that
 *     template there (assets are published before the change set is
 *     created, and never deleted by synth);
 *  4. secrets: every SSM parameter a function reads
 *     (SYNTH_ENV_SSM_CONFIG: a branch path and an app-wide shared path)
 *     must exist in one of its two places;
 *  5. the bootstrap bucket (SYNTH_ASSET_BUCKET_FMT with ACCOUNT, REGION) exists
 *     (HEAD bucket), then every file asset is published (synth_publish:
 *     HEAD-skip, content-hash keys), nested templates included;
 *  6. CreateChangeSet (CREATE or UPDATE; TemplateBody, or TemplateURL to
 *     the uploaded root template when it is over 51,200 bytes;
 *     CAPABILITY_IAM, CAPABILITY_NAMED_IAM, CAPABILITY_AUTO_EXPAND; tags;
 *     a ClientToken), DescribeChangeSet until it settles; a change set
 *     that "didn't contain changes" is deleted and the deploy is
 *     "unchanged"; otherwise its changes are listed and it is executed;
 *  7. the wait: DescribeStacks and DescribeStackEvents of the root stack
 *     and of every nested stack (the PhysicalResourceId of its
 *     AWS::CloudFormation::Stack resource) with a backoff from
 *     poll_ms to poll_max_ms; a live line on a terminal, one line per
 *     event otherwise. *interrupted stops the waiting (the stack goes on);
 *  8. on failure, the root cause: the first resource that failed, in the
 *     stack where it failed, with its reason (not the nested stack's
 *     "Embedded stack ... was not successfully created", not a
 *     cancellation, not "rollback requested");
 *  9. on success, DescribeStacks' outputs + the root template's Metadata
 *     -> the client configuration (synth__clientconfig_build), its model
 *     introspection schema taken from the assembly (the file asset whose
 *     destination is SYNTH_OUT_MODEL_SCHEMA_URI) or else from S3, written
 *     atomically to outputs_path. A failed deploy leaves that file as it
 *     was.
 *
 * Errors: functions return 0 when the operation ran (its outcome is in
 * the result: a stack that failed to deploy is SYNTH_DEPLOY_FAILED with a
 * root cause), or a negative SYNTH_E* code with synth_error_last() saying
 * what could not be done (a call that failed after its retries, a limit,
 * a missing bootstrap bucket, missing secrets).
 */
#ifndef SYNTH_DEPLOY_H
#define SYNTH_DEPLOY_H

#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <jansson.h>
#include "../aws/aws.h"

/* CloudFormation's limits, as documented in its quotas. */
#define SYNTH_DEPLOY_TEMPLATE_BODY_MAX 51200   /* TemplateBody, bytes */
#define SYNTH_DEPLOY_TEMPLATE_URL_MAX 1048576  /* a template in S3, bytes */
#define SYNTH_DEPLOY_RESOURCES_MAX 500

typedef enum synth_deploy_status {
	SYNTH_DEPLOY_UNCHANGED = 0, /* nothing to do: no mutating call was made */
	SYNTH_DEPLOY_CREATED,       /* the stack was created */
	SYNTH_DEPLOY_UPDATED,       /* the stack was updated */
	SYNTH_DEPLOY_DELETED,       /* destroy: the stack is gone */
	SYNTH_DEPLOY_ABSENT,        /* destroy / outputs: there was no such stack */
	SYNTH_DEPLOY_FAILED,        /* CloudFormation reported a failure: see root_cause */
	SYNTH_DEPLOY_INTERRUPTED,   /* *interrupted became true while waiting */
	SYNTH_DEPLOY_SETTLED        /* watch / continue-rollback: the stack settled */
} synth_deploy_status;

typedef struct synth_deploy_options {
	const char *assembly_dir;   /* the cloud assembly; required for deploy and diff */
	const char *stack_name;     /* NULL: the assembly's one stack */
	/* Extra stack tags, added to the manifest's: NULL-terminated list of
	 * key, value, key, value, ... (borrowed). */
	const char *const *tags;
	const char *outputs_path;   /* client config written there; NULL: none */
	FILE *log;                  /* progress and messages; NULL: stderr */
	bool tty;                   /* a live progress line instead of one line per event */
	bool quiet;                 /* no per-change / per-event lines */
	int poll_ms;                /* first poll interval; 0: 250 */
	int poll_max_ms;            /* the backoff's cap; 0: 5000 */
	int parallel;               /* asset uploads in flight; 0: publish's default */
	/* Termination protection: > 0 turn it on, < 0 off, 0 (the default)
	 * leave it as it is. Set apart from the change set, and only when it
	 * differs. */
	int termination_protection;
	/* Set (from a signal handler) to stop waiting; may be NULL. */
	volatile sig_atomic_t *interrupted;
	/* Printed when the wait is interrupted: how to resume watching
	 * (e.g. "synth deploy --branch main --watch"); may be NULL. */
	const char *resume_hint;
} synth_deploy_options;

typedef struct synth_deploy_result {
	synth_deploy_status status;
	char *stack_name;      /* the stack acted on */
	char *stack_id;        /* its ARN, when known */
	char *stack_status;    /* its last status, when known */
	/* For SYNTH_DEPLOY_FAILED: "Resource (Type) in stack S: reason". */
	char *root_cause;
	/* Set with a SYNTH_ENOTFOUND return from synth_deploy when secrets are
	 * not set: an array of their names (as the backend names them). */
	json_t *missing_secrets;
	size_t changes;        /* resources the change set adds, modifies or removes */
	size_t uploaded;       /* assets uploaded */
	size_t assets;         /* assets in the assembly */
	bool outputs_written;  /* the client configuration was written */
	bool recreated;        /* a ROLLBACK_COMPLETE stack was deleted first */
} synth_deploy_result;

#define SYNTH_DEPLOY_OPTIONS_INIT {0}

/* Frees what RES holds (not RES itself) and zeroes it. */
void synth_deploy_result_clear(synth_deploy_result *res);

/* Deploys the assembly O->assembly_dir (see the steps above). RES is
 * filled (caller clears it with synth_deploy_result_clear) whatever the
 * return value. */
int synth_deploy(synth_aws *a, const synth_deploy_options *o, synth_deploy_result *res);

/* DeleteStack of O->stack_name (required) and wait: SYNTH_DEPLOY_DELETED,
 * SYNTH_DEPLOY_ABSENT when there was no such stack (nothing is called but
 * DescribeStacks), SYNTH_DEPLOY_FAILED (DELETE_FAILED, with the root
 * cause) or SYNTH_DEPLOY_INTERRUPTED. Assets stay in the bucket (other
 * stacks may name them). */
int synth_deploy_destroy(synth_aws *a, const synth_deploy_options *o, synth_deploy_result *res);

/* Waits for the stack O->stack_name to settle, showing its events:
 * SYNTH_DEPLOY_SETTLED (stack_status says how), SYNTH_DEPLOY_ABSENT,
 * SYNTH_DEPLOY_FAILED when it settled in a failed state (with the root
 * cause of what happened since the wait began) or _INTERRUPTED. */
int synth_deploy_watch(synth_aws *a, const synth_deploy_options *o, synth_deploy_result *res);

/* ContinueUpdateRollback on a stack in UPDATE_ROLLBACK_FAILED, then waits:
 * SYNTH_DEPLOY_SETTLED (UPDATE_ROLLBACK_COMPLETE) or _FAILED.
 * SYNTH_EINVALID when the stack is in another state. */
int synth_deploy_continue_rollback(synth_aws *a, const synth_deploy_options *o,
				   synth_deploy_result *res);

/* Writes the client configuration of the deployed stack O->stack_name
 * (default: the assembly's) to O->outputs_path: DescribeStacks' outputs
 * and the Metadata of the deployed root template (GetTemplate: the local
 * assembly may have moved on since the deploy). O->assembly_dir (may be
 * NULL, or hold another stack) only supplies the model introspection
 * schema when it has the asset the stack names. SYNTH_DEPLOY_SETTLED, or
 * SYNTH_DEPLOY_ABSENT when the stack does not exist; SYNTH_EINVALID when
 * it is in progress or failed (its outputs are not a deploy's). */
int synth_deploy_outputs(synth_aws *a, const synth_deploy_options *o, synth_deploy_result *res);

/* Writes the root template of the deployed stack STACK_NAME to PATH: the
 * placement memory the synth before a deploy honours (the CLI names the
 * file in SYNTH_DEPLOYED_TEMPLATE). 1 when written; 0 when there is no
 * such stack, or one that holds no resource (ROLLBACK_COMPLETE,
 * REVIEW_IN_PROGRESS); < 0 on error. */
int synth_deploy_root_template(synth_aws *a, const char *stack_name, const char *path);

/*
 * What a deploy would change, resource by resource, against the deployed
 * templates (GetTemplate of the root stack and of each nested stack found
 * through DescribeStackResources). Prints to OUT:
 *   + Logical (Type)                 added
 *   - Logical (Type)                 removed
 *   ~ Logical (Type)                 modified
 *       Properties.Code.S3Key        (each changed path)
 * nested stacks indented under their resource. *nchanges: how many
 * resources differ (in every stack). A stack that does not exist is all
 * additions.
 */
int synth_deploy_diff(synth_aws *a, const synth_deploy_options *o, FILE *out, size_t *nchanges);

/* --- pure helpers, exposed for tests -------------------------------------- */

/*
 * The differences between two templates' Resources (either may be NULL:
 * no resources). *out (caller decrefs) is an array, sorted by logical id,
 * of {"id", "type", "action": "add"|"remove"|"modify", "paths": [...]}
 * where paths are the changed property paths ("Properties.Code.S3Key";
 * an array is compared as a whole: "Properties.Layers"; a resource that
 * is not an object: "(whole)"). 0, or SYNTH_ENOMEM (*out NULL).
 */
int synth__deploy_template_diff(json_t *old_tpl, json_t *new_tpl, json_t **out);

/*
 * The root cause of a failure among EVENTS (an array of DescribeStackEvents
 * members, each with an extra "StackName" of the stack it came from, in
 * any order): the earliest *_FAILED event of a resource that is not a
 * nested stack and whose reason is not a consequence of another failure
 * (cancelled, rollback requested, "The following resource(s) failed",
 * "Embedded stack ...", or no reason at all); else the earliest *_FAILED
 * event of any kind. Earliest by Timestamp (fractions of a second count;
 * an unreadable one counts as the earliest), then by position in EVENTS.
 * Returns a new string (caller frees) or NULL when no event failed (or
 * memory ran out).
 */
char *synth__deploy_root_cause(json_t *events);
/* The same, naming the resource's construct path too ("Resource (Type,
 * construct fn/Resource) in stack S: reason") when a template of the
 * assembly in ASSEMBLY_DIR (may be NULL) has it in its SYNTH_MD_PATH
 * metadata: users know their constructs, not logical ids. */
char *synth__deploy_root_cause_in(json_t *events, const char *assembly_dir);

/*
 * Whether the stack (a DescribeStacks member) has exactly the template's
 * parameters, each with the value VALUES ({name: string}, may be NULL)
 * gives it or else the template's Default.
 */
bool synth__deploy_params_equal(json_t *stack, json_t *tpl, json_t *values);

/* Whether the stack's Tags are exactly WANT ({key: value}). */
bool synth__deploy_tags_equal(json_t *stack, json_t *want);

/*
 * The value of a secret-versions parameter. SECRETS: {NAME: [path, shared
 * path]}; VERSIONS: {ssm name: version} (synth_ssm_versions). Each secret
 * counts at the first of its two paths that exists, as the fetcher reads
 * it ("NAME=path#version"); the lines are sorted, so the order of SECRETS
 * does not matter. OUT: 64 hex digits of their SHA-256. Names of secrets
 * at neither path are appended to MISSING (if not NULL). 0 or SYNTH_ENOMEM
 * (OUT is then "").
 */
int synth__deploy_versions_digest(json_t *secrets, json_t *versions, char out[65],
				  json_t *missing);

#endif

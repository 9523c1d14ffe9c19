/*
 * Stacks that are not at rest (deploy step 2): waiting for another
 * operation, ROLLBACK_COMPLETE deleted and created again,
 * UPDATE_ROLLBACK_FAILED and the continue-rollback command; destroy and
 * watch, which act on a deployed stack by name (open_stack).
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>
#include "deploy_internal.h"

/* Waits for a stack that is already being changed by someone else. */
int synth__deploy_recovery_wait_other(dctx *d, json_t **stack)
{
	synth__deploy_cfn_say(d, "stack %s is %s (another operation): waiting for it to finish",
			      d->res->stack_name, synth__deploy_cfn_str(*stack, "StackStatus"));
	watcher w;
	int rc = synth__deploy_events_init(&w, d, synth__deploy_cfn_str(*stack, "StackId"),
					   d->res->stack_name, 0);
	if (rc == 0)
		rc = synth__deploy_events_prime(&w);
	json_t *final = NULL;
	if (rc == 0)
		rc = synth__deploy_events_follow(d, &w, &final);
	synth__deploy_events_free(&w);
	json_decref(*stack);
	*stack = final;
	if (rc == 0 && d->res->status == SYNTH_DEPLOY_INTERRUPTED)
		return 0;
	if (rc == 0 && final)
		synth__deploy_cfn_say(d, "stack %s is now %s", d->res->stack_name,
				      synth__deploy_cfn_str(final, "StackStatus"));
	if (rc == 0 && d->res->status == SYNTH_DEPLOY_DELETED) {
		json_decref(*stack);
		*stack = NULL;
	}
	d->res->status = SYNTH_DEPLOY_UNCHANGED;
	free(d->res->root_cause);
	d->res->root_cause = NULL;
	return rc;
}

/* DeleteStack and wait. */
static int delete_and_wait(dctx *d, const char *stack_id, size_t total)
{
	char token[33];
	synth__deploy_cfn_token(token);
	char *ct = synth_asprintf("synth-delete-%s", token);
	plist p = {0};
	synth__deploy_cfn_add(&p, "StackName", stack_id);
	synth__deploy_cfn_add(&p, "ClientRequestToken", ct);
	free(ct);
	watcher w;
	int rc = synth__deploy_events_init(&w, d, stack_id, d->res->stack_name, total);
	w.deleting = true;
	if (rc == 0)
		rc = synth__deploy_events_prime(&w);
	json_t *r = NULL;
	if (rc == 0)
		rc = synth__deploy_cfn_call(d->a, "DeleteStack", &p, &r);
	json_decref(r);
	synth__deploy_cfn_params_free(&p);
	if (rc == 0)
		rc = synth__deploy_events_follow(d, &w, NULL);
	synth__deploy_events_free(&w);
	return rc;
}

/* Brings an existing stack to a state a change set can act on. *stack
 * may become NULL (deleted: create it again). */
int synth__deploy_recovery_settle(dctx *d, const assembly *as, json_t **stack)
{
	int rc = 0;
	if (*stack && synth__deploy_cfn_in_progress(synth__deploy_cfn_str(*stack, "StackStatus"))) {
		rc = synth__deploy_recovery_wait_other(d, stack);
		if (rc < 0 || d->res->status == SYNTH_DEPLOY_INTERRUPTED)
			return rc;
	}
	const char *st = *stack ? synth__deploy_cfn_str(*stack, "StackStatus") : NULL;
	if (!st)
		return 0;
	if (!strcmp(st, "ROLLBACK_COMPLETE")) {
		synth__deploy_cfn_say(
			d,
			"stack %s is ROLLBACK_COMPLETE: its creation failed and CloudFormation "
			"cannot update it; deleting it and creating it again",
			as->stack_name);
		rc = delete_and_wait(d, synth__deploy_cfn_str(*stack, "StackId"), 0);
		if (rc == 0 && d->res->status == SYNTH_DEPLOY_INTERRUPTED)
			return 0;
		if (rc == 0 && d->res->status != SYNTH_DEPLOY_DELETED)
			return synth_error_setf(
				SYNTH_ERROR,
				"stack %s: deleting the failed stack did not finish "
				"(%s): %s",
				as->stack_name, d->res->stack_status ? d->res->stack_status : "?",
				d->res->root_cause ? d->res->root_cause : "");
		d->res->recreated = true;
		d->res->status = SYNTH_DEPLOY_UNCHANGED;
		json_decref(*stack);
		*stack = NULL;
		return rc;
	}
	if (!strcmp(st, "UPDATE_ROLLBACK_FAILED"))
		return synth_error_setf(
			SYNTH_EINVALID,
			"stack %s is UPDATE_ROLLBACK_FAILED: an update failed and CloudFormation "
			"could not roll it back either (%s). Fix what blocks the rollback (often a "
			"resource changed or deleted outside CloudFormation), then continue the "
			"rollback (ContinueUpdateRollback) and deploy again",
			as->stack_name,
			synth__deploy_cfn_str(*stack, "StackStatusReason")
				? synth__deploy_cfn_str(*stack, "StackStatusReason")
				: "no reason given");
	if (!strcmp(st, "ROLLBACK_FAILED") || !strcmp(st, "DELETE_FAILED") ||
	    !strcmp(st, "CREATE_FAILED") || !strcmp(st, "IMPORT_ROLLBACK_FAILED"))
		return synth_error_setf(SYNTH_EINVALID,
					"stack %s is %s (%s): CloudFormation cannot update it; "
					"delete it and deploy again",
					as->stack_name, st,
					synth__deploy_cfn_str(*stack, "StackStatusReason")
						? synth__deploy_cfn_str(*stack, "StackStatusReason")
						: "no reason given");
	return 0;
}

static int need_stack_name(const synth_deploy_options *o)
{
	return o->stack_name && *o->stack_name
		       ? 0 : synth_error_setf(SYNTH_EINVALID, "no stack name given");
}

/* The start of the commands that act on a deployed stack by name
 * (destroy, watch, continue-rollback): RES reset, D set up, *STACK its
 * DescribeStacks member (new reference), or NULL with RES->status
 * SYNTH_DEPLOY_ABSENT when there is no such stack. */
static int open_stack(dctx *d, synth_aws *a, const synth_deploy_options *o,
		      synth_deploy_result *res, json_t **stack)
{
	memset(res, 0, sizeof *res);
	synth__deploy_cfn_init(d, a, o, res);
	*stack = NULL;
	int rc = need_stack_name(o);
	if (rc < 0)
		return rc;
	if (!(res->stack_name = strdup(o->stack_name)))
		return synth_error_oom();
	rc = synth__deploy_cfn_describe(d, o->stack_name, stack);
	if (rc == 0 && !*stack)
		res->status = SYNTH_DEPLOY_ABSENT;
	return rc;
}

int synth_deploy_destroy(synth_aws *a, const synth_deploy_options *o, synth_deploy_result *res)
{
	dctx d;
	json_t *stack;
	int rc = open_stack(&d, a, o, res, &stack);
	if (rc < 0 || !stack)
		return rc;
	if (rc == 0) {
		synth__deploy_cfn_note(&d, stack);
		if (synth__deploy_cfn_in_progress(synth__deploy_cfn_str(stack, "StackStatus")))
			rc = synth__deploy_recovery_wait_other(&d, &stack);
	}
	if (rc == 0 && res->status != SYNTH_DEPLOY_INTERRUPTED && !stack)
		res->status = SYNTH_DEPLOY_DELETED;
	else if (rc == 0 && res->status != SYNTH_DEPLOY_INTERRUPTED) {
		if (synth__deploy_compare_protected(stack))
			rc = synth_error_setf(SYNTH_EINVALID,
					      "stack %s has termination protection: turn it off "
					      "first (UpdateTerminationProtection)", o->stack_name);
		else
			rc = delete_and_wait(&d, synth__deploy_cfn_str(stack, "StackId"), 0);
	}
	json_decref(stack);
	return rc;
}

int synth_deploy_watch(synth_aws *a, const synth_deploy_options *o, synth_deploy_result *res)
{
	dctx d;
	json_t *stack;
	int rc = open_stack(&d, a, o, res, &stack);
	if (rc < 0 || !stack)
		return rc;
	synth__deploy_cfn_note(&d, stack);
	watcher w;
	rc = synth__deploy_events_init(&w, &d, synth__deploy_cfn_str(stack, "StackId"),
				       o->stack_name, 0);
	/* Show the operation from its start: the root's events back to the
	 * last one that began it (the stack's own *_IN_PROGRESS "User
	 * Initiated" event). Simpler and sufficient: everything before now is
	 * shown only if the stack is still in progress. */
	if (rc == 0 && !synth__deploy_cfn_in_progress(synth__deploy_cfn_str(stack, "StackStatus")))
		rc = synth__deploy_events_prime(&w);
	if (rc == 0)
		rc = synth__deploy_events_follow(&d, &w, NULL);
	synth__deploy_events_free(&w);
	json_decref(stack);
	return rc;
}

int synth_deploy_continue_rollback(synth_aws *a, const synth_deploy_options *o,
				   synth_deploy_result *res)
{
	dctx d;
	json_t *stack;
	int rc = open_stack(&d, a, o, res, &stack);
	if (rc < 0 || !stack)
		return rc;
	const char *st = rc == 0 ? synth__deploy_cfn_str(stack, "StackStatus") : NULL;
	if (rc == 0)
		synth__deploy_cfn_note(&d, stack);
	if (rc == 0 && (!st || strcmp(st, "UPDATE_ROLLBACK_FAILED")))
		rc = synth_error_setf(SYNTH_EINVALID,
				      "stack %s is %s, not UPDATE_ROLLBACK_FAILED: there is no "
				      "rollback to continue", o->stack_name, st ? st : "?");
	watcher w;
	memset(&w, 0, sizeof w);
	if (rc == 0)
		rc = synth__deploy_events_init(&w, &d, synth__deploy_cfn_str(stack, "StackId"),
					       o->stack_name, 0);
	if (rc == 0)
		rc = synth__deploy_events_prime(&w);
	char token[33];
	synth__deploy_cfn_token(token);
	plist p = {0};
	synth__deploy_cfn_add(&p, "StackName", synth__deploy_cfn_str(stack, "StackId"));
	synth__deploy_cfn_add(&p, "ClientRequestToken", token);
	json_t *r = NULL;
	if (rc == 0)
		rc = synth__deploy_cfn_call(a, "ContinueUpdateRollback", &p, &r);
	json_decref(r);
	synth__deploy_cfn_params_free(&p);
	if (rc == 0)
		rc = synth__deploy_events_follow(&d, &w, NULL);
	/* Rolled back is what was asked for. */
	if (rc == 0 && res->status == SYNTH_DEPLOY_FAILED && res->stack_status &&
	    !strcmp(res->stack_status, "UPDATE_ROLLBACK_COMPLETE")) {
		res->status = SYNTH_DEPLOY_SETTLED;
		free(res->root_cause);
		res->root_cause = NULL;
	}
	synth__deploy_events_free(&w);
	json_decref(stack);
	return rc;
}

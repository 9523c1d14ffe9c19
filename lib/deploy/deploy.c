/*
 * The deployer: a cloud assembly to a CloudFormation stack (see deploy.h
 * for the steps and the reasoning behind the no-change check). This file
 * runs the steps in order; the other deploy_*.c files hold them (their
 * map is in deploy_internal.h).
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "deploy_internal.h"
#include "../aws/publish.h"

void synth_deploy_result_clear(synth_deploy_result *res)
{
	if (!res)
		return;
	free(res->stack_name);
	free(res->stack_id);
	free(res->stack_status);
	free(res->root_cause);
	json_decref(res->missing_secrets);
	memset(res, 0, sizeof *res);
}

static int check_bootstrap(dctx *d, const char *account)
{
	char *bucket = synth_asprintf(SYNTH_ASSET_BUCKET_FMT, account, synth_aws_region(d->a));
	char *path = bucket ? synth_aws_s3_path(bucket, NULL) : NULL;
	char *what = synth_asprintf("HeadBucket s3://%s", bucket ? bucket : "");
	synth_aws_call head = {.service = "s3", .method = "HEAD", .path = path, .what = what};
	synth_http_response r = {0};
	int rc = path && what ? synth_aws_request(d->a, &head, &r) : synth_error_oom();
	if (rc < 0 && r.status == 404)
		rc = synth_error_setf(SYNTH_ENOTFOUND,
				      "the asset bucket s3://%s does not exist: this account and "
				      "region are not bootstrapped; run `synth bootstrap` once "
				      "(or `cdk bootstrap`)", bucket);
	synth_http_response_free(&r);
	free(bucket);
	free(path);
	free(what);
	return rc;
}

static int publish(dctx *d, const assembly *as, const char *account)
{
	synth_publish_options po = {.parallel = d->o->parallel, .account_id = account,
				    .log = d->log, .tty = d->o->tty && !d->o->quiet};
	FILE *devnull = NULL;
	if (d->o->quiet)
		po.log = devnull = fopen("/dev/null", "w");
	synth_publish_result pr = {0};
	int rc = synth_publish_assets(d->a, as->dir, &po, &pr);
	if (devnull)
		fclose(devnull);
	d->res->uploaded = pr.uploaded;
	d->res->assets = pr.assets;
	if (rc == 0 && !d->o->quiet)
		synth__deploy_cfn_say(d, "assets: %zu uploaded, %zu already in the bucket",
				      pr.uploaded, pr.skipped);
	return rc;
}

int synth_deploy(synth_aws *a, const synth_deploy_options *o, synth_deploy_result *res)
{
	memset(res, 0, sizeof *res);
	dctx d;
	synth__deploy_cfn_init(&d, a, o, res);
	assembly as;
	int rc = synth__deploy_assembly_load(&as, o->assembly_dir ? o->assembly_dir : "cdk.out",
					     o->stack_name);
	if (rc < 0)
		return rc;
	if (!(res->stack_name = strdup(as.stack_name))) {
		synth__deploy_assembly_free(&as);
		return synth_error_oom();
	}
	rc = synth__deploy_assembly_check_limits(&as);
	json_t *stack = NULL, *values = NULL;
	if (rc == 0)
		rc = synth__deploy_cfn_describe(&d, as.stack_name, &stack);
	if (rc == 0 && stack) {
		synth__deploy_cfn_note(&d, stack);
		rc = synth__deploy_recovery_settle(&d, &as, &stack);
	}
	if (rc < 0 || res->status == SYNTH_DEPLOY_INTERRUPTED)
		goto done;
	/* The auth secrets' versions: a changed secret is a changed parameter. */
	rc = synth__deploy_secrets_versions(&d, &as, true, &values);
	d.values = values;
	if (rc < 0)
		goto done;
	/* Nothing changed: no further call. */
	bool same = false;
	if (stack)
		rc = synth__deploy_compare_unchanged(&d, &as, stack, &same);
	if (rc == 0 && same) {
		res->status = SYNTH_DEPLOY_UNCHANGED;
		synth__deploy_cfn_say(&d, "stack %s: no changes", as.stack_name);
		rc = synth__deploy_compare_protection(&d, stack);
		if (rc == 0)
			rc = synth__deploy_outputs_write(&d, &as, stack,
							 json_object_get(as.template, "Metadata"));
		goto done;
	}
	char *account = NULL;
	if (rc == 0)
		rc = synth__deploy_secrets_check(&d, &as);
	if (rc == 0)
		rc = synth_aws_account_id(a, &account);
	if (rc == 0)
		rc = check_bootstrap(&d, account);
	if (rc == 0)
		rc = publish(&d, &as, account);
	bool create = !stack ||
		      !strcmp(synth__deploy_cfn_str(stack, "StackStatus"), "REVIEW_IN_PROGRESS");
	char *csid = NULL;
	json_t *changes = NULL;
	bool empty = false;
	if (rc == 0)
		rc = synth__deploy_changeset_create(&d, &as, account, create, &csid, &changes,
						    &empty);
	free(account);
	if (rc == 0 && empty) {
		res->status = SYNTH_DEPLOY_UNCHANGED;
		synth__deploy_cfn_say(&d, "stack %s: no changes", as.stack_name);
		rc = synth__deploy_compare_protection(&d, stack);
		if (rc == 0)
			rc = synth__deploy_outputs_write(&d, &as, stack,
							 json_object_get(as.template, "Metadata"));
	} else if (rc == 0) {
		res->changes = json_array_size(changes);
		synth__deploy_changeset_print(&d, changes);
		watcher w;
		const char *sid = res->stack_id ? res->stack_id : as.stack_name;
		/* The live line's total: every resource for a create; the
		 * change set's (root-level) changes for an update. */
		rc = synth__deploy_events_init(&w, &d, sid, as.stack_name,
					       create ? synth__deploy_assembly_count(&as)
						      : res->changes);
		if (rc == 0)
			rc = synth__deploy_events_prime(&w);
		if (rc == 0)
			rc = synth__deploy_changeset_execute(&d, &as, csid);
		if (rc == 0 && !o->quiet)
			synth__deploy_cfn_say(&d, "%s stack %s...",
					      create ? "creating" : "updating", as.stack_name);
		json_t *final = NULL;
		if (rc == 0)
			rc = synth__deploy_events_follow(&d, &w, &final);
		synth__deploy_events_free(&w);
		if (rc == 0 && res->status == SYNTH_DEPLOY_SETTLED) {
			const char *st = synth__deploy_cfn_str(final, "StackStatus");
			res->status = create ? SYNTH_DEPLOY_CREATED : SYNTH_DEPLOY_UPDATED;
			if (st && strcmp(st, create ? "CREATE_COMPLETE" : "UPDATE_COMPLETE"))
				synth__deploy_cfn_say(&d, "stack %s ended %s", as.stack_name, st);
			rc = synth__deploy_compare_protection(&d, final);
			if (rc == 0)
				rc = synth__deploy_outputs_write(
					&d, &as, final, json_object_get(as.template, "Metadata"));
		}
		json_decref(final);
	}
	json_decref(changes);
	free(csid);
done:
	json_decref(stack);
	json_decref(values);
	synth__deploy_assembly_free(&as);
	return rc;
}

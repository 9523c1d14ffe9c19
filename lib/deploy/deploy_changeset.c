/*
 * Change sets (deploy step 6): CreateChangeSet, DescribeChangeSet until
 * it settles, its changes listed, ExecuteChangeSet.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "deploy_internal.h"

#define CHANGESET_PAGES_MAX 50

static const char *const capabilities[] = {"CAPABILITY_IAM", "CAPABILITY_NAMED_IAM",
					   "CAPABILITY_AUTO_EXPAND", NULL};

void synth__deploy_changeset_print(dctx *d, json_t *changes)
{
	if (d->o->quiet)
		return;
	synth__deploy_cfn_say(d, "changes to stack %s:", d->res->stack_name);
	json_t *c;
	size_t i;
	json_array_foreach(changes, i, c) {
		json_t *rc = json_object_get(c, "ResourceChange");
		const char *act = synth__deploy_cfn_str(rc, "Action");
		const char *repl = synth__deploy_cfn_str(rc, "Replacement");
		char sym = !act ? '?' : !strcmp(act, "Add") ? '+' : !strcmp(act, "Remove") ? '-'
			 : '~';
		synth__deploy_cfn_say(
			d, "  %c %-8s %s (%s)%s%s", sym, act ? act : "?",
			synth__deploy_cfn_str(rc, "LogicalResourceId")
				? synth__deploy_cfn_str(rc, "LogicalResourceId")
				: "?",
			synth__deploy_cfn_str(rc, "ResourceType")
				? synth__deploy_cfn_str(rc, "ResourceType")
				: "?",
			repl && (!strcmp(repl, "True") || !strcmp(repl, "Conditional"))
				? "  replacement: "
				: "",
			repl && (!strcmp(repl, "True") || !strcmp(repl, "Conditional")) ? repl
											: "");
	}
}

static bool empty_change_set_reason(const char *reason)
{
	return reason && (strstr(reason, "didn't contain changes") ||
			  strstr(reason, "No updates are to be performed") ||
			  strstr(reason, "No changes"));
}

/* The template parameter: TemplateBody, or TemplateURL to the uploaded
 * root template when it is too big for a body. */
static int template_param(dctx *d, const assembly *as, const char *account, plist *p)
{
	if (as->template_len <= SYNTH_DEPLOY_TEMPLATE_BODY_MAX) {
		synth__deploy_cfn_add(p, "TemplateBody", as->template_text);
		return 0;
	}
	if (!as->template_key)
		return synth_error_setf(SYNTH_EINVALID,
					"stack %s: the template is %zu bytes (over %d: it must "
					"go through S3) and the assembly names no S3 object for it",
					as->stack_name, as->template_len,
					SYNTH_DEPLOY_TEMPLATE_BODY_MAX);
	const char *region = synth_aws_region(d->a);
	char *bucket = synth_asprintf(SYNTH_ASSET_BUCKET_FMT, account, region);
	char *path = bucket ? synth_aws_s3_path(bucket, as->template_key) : NULL;
	const char *ep = synth_aws_endpoint(d->a, "s3");
	char *url = path ? synth_asprintf("%s%s", ep, path) : NULL;
	synth__deploy_cfn_add(p, "TemplateURL", url);
	free(bucket);
	free(path);
	free(url);
	return p->oom ? synth_error_oom() : 0;
}

/* CreateChangeSet, then DescribeChangeSet until it settles. *id (caller
 * frees) the change set's id, *changes (caller decrefs) its changes;
 * *empty when it had none (it has been deleted). */
int synth__deploy_changeset_create(dctx *d, const assembly *as, const char *account, bool create,
				   char **id, json_t **changes, bool *empty)
{
	*id = NULL;
	*changes = json_array();
	*empty = false;
	char token[33], name[64];
	synth__deploy_cfn_token(token);
	snprintf(name, sizeof name, "synth-%lld-%.8s", (long long)time(NULL), token);
	plist p = {0};
	synth__deploy_cfn_add(&p, "StackName", as->stack_name);
	synth__deploy_cfn_add(&p, "ChangeSetName", name);
	synth__deploy_cfn_add(&p, "ChangeSetType", create ? "CREATE" : "UPDATE");
	synth__deploy_cfn_add(&p, "ClientToken", token);
	synth__deploy_cfn_add(&p, "Description", "synth deploy");
	int rc = template_param(d, as, account, &p);
	for (size_t i = 0; capabilities[i]; i++)
		synth__deploy_cfn_addf(&p, capabilities[i], "Capabilities.member.%zu", i + 1);
	json_t *tags = synth__deploy_compare_tags(as, d->o);
	const char *k;
	json_t *v;
	size_t n = 0;
	json_object_foreach(tags, k, v) {
		n++;
		synth__deploy_cfn_addf(&p, k, "Tags.member.%zu.Key", n);
		synth__deploy_cfn_addf(&p, json_string_value(v), "Tags.member.%zu.Value", n);
	}
	json_decref(tags);
	n = 0;
	json_object_foreach(d->values, k, v) {
		n++;
		synth__deploy_cfn_addf(&p, k, "Parameters.member.%zu.ParameterKey", n);
		synth__deploy_cfn_addf(&p, json_string_value(v),
				       "Parameters.member.%zu.ParameterValue", n);
	}
	json_t *r = NULL;
	if (rc == 0)
		rc = synth__deploy_cfn_call(d->a, "CreateChangeSet", &p, &r);
	synth__deploy_cfn_params_free(&p);
	if (rc == 0 &&
	    !(*id = synth__deploy_cfn_str(r, "Id") ? strdup(synth__deploy_cfn_str(r, "Id"))
						   : strdup(name)))
		rc = synth_error_oom();
	if (rc == 0 && synth__deploy_cfn_str(r, "StackId"))
		synth__deploy_cfn_set_str(&d->res->stack_id, synth__deploy_cfn_str(r, "StackId"));
	json_decref(r);
	int interval = d->poll_ms;
	while (rc == 0) {
		char *next = NULL;
		const char *status = NULL;
		json_t *page = NULL;
		json_array_clear(*changes);
		for (int pg = 0; rc == 0 && pg < CHANGESET_PAGES_MAX; pg++) {
			plist q = {0};
			synth__deploy_cfn_add(&q, "ChangeSetName", *id);
			synth__deploy_cfn_add(&q, "StackName", as->stack_name);
			if (next)
				synth__deploy_cfn_add(&q, "NextToken", next);
			json_decref(page);
			page = NULL;
			rc = synth__deploy_cfn_call(d->a, "DescribeChangeSet", &q, &page);
			synth__deploy_cfn_params_free(&q);
			free(next);
			next = NULL;
			if (synth__deploy_cfn_members(page, "Changes"))
				json_array_extend(*changes,
						  synth__deploy_cfn_members(page, "Changes"));
			status = synth__deploy_cfn_str(page, "Status");
			if (rc < 0 || !status || strcmp(status, "CREATE_COMPLETE") ||
			    !synth__deploy_cfn_str(page, "NextToken"))
				break;
			next = strdup(synth__deploy_cfn_str(page, "NextToken"));
		}
		free(next);
		if (rc < 0) {
			json_decref(page);
			break;
		}
		if (status && !strcmp(status, "CREATE_COMPLETE")) {
			json_decref(page);
			break;
		}
		if (status && !strcmp(status, "FAILED")) {
			const char *why = synth__deploy_cfn_str(page, "StatusReason");
			if (empty_change_set_reason(why)) {
				*empty = true;
				plist q = {0};
				synth__deploy_cfn_add(&q, "ChangeSetName", *id);
				synth__deploy_cfn_add(&q, "StackName", as->stack_name);
				json_t *dr = NULL;
				rc = synth__deploy_cfn_call(d->a, "DeleteChangeSet", &q, &dr);
				json_decref(dr);
				synth__deploy_cfn_params_free(&q);
			} else {
				rc = synth_error_setf(
					SYNTH_ERROR, "stack %s: the change set failed: %s",
					as->stack_name, why ? why : "(no reason given)");
			}
			json_decref(page);
			break;
		}
		json_decref(page);
		if (synth__deploy_cfn_stopped(d->o)) {
			rc = synth_error_setf(SYNTH_ERROR,
					      "interrupted while the change set was made");
			break;
		}
		synth__deploy_cfn_nap(d->o, interval);
		interval = synth__deploy_cfn_backoff(interval, d->poll_max_ms);
	}
	return rc;
}

int synth__deploy_changeset_execute(dctx *d, const assembly *as, const char *id)
{
	char token[33];
	synth__deploy_cfn_token(token);
	char *ct = synth_asprintf("synth-exec-%s", token);
	plist p = {0};
	synth__deploy_cfn_add(&p, "ChangeSetName", id);
	synth__deploy_cfn_add(&p, "StackName", as->stack_name);
	synth__deploy_cfn_add(&p, "ClientRequestToken", ct);
	free(ct);
	json_t *r = NULL;
	int rc = synth__deploy_cfn_call(d->a, "ExecuteChangeSet", &p, &r);
	json_decref(r);
	synth__deploy_cfn_params_free(&p);
	return rc;
}

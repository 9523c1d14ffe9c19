/*
 * The placement memory for the synth that precedes a deploy: the deployed
 * root template, whose Metadata says which nested stack holds which
 * resource (SYNTH_MD_LAYOUT; lib/core/layout.c reads it). The deployed
 * stack is the source of truth: a fresh clone without cdk.out keeps every
 * resource where CloudFormation has it.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "deploy_internal.h"

int synth_deploy_root_template(synth_aws *a, const char *stack_name, const char *path)
{
	synth_deploy_options o = {0};
	synth_deploy_result res = {0};
	dctx d;
	synth__deploy_cfn_init(&d, a, &o, &res);
	json_t *stack = NULL;
	int rc = synth__deploy_cfn_describe(&d, stack_name, &stack);
	const char *st = synth__deploy_cfn_str(stack, "StackStatus");
	/* A create that rolled back or a change set never executed holds no
	 * resource: nothing to keep in place. */
	if (rc < 0 || !stack || !st || !strcmp(st, "ROLLBACK_COMPLETE") ||
	    !strcmp(st, "REVIEW_IN_PROGRESS")) {
		json_decref(stack);
		return rc < 0 ? rc : 0;
	}
	json_t *r = NULL;
	rc = synth__deploy_cfn_template(a, synth__deploy_cfn_str(stack, "StackId"), &r);
	json_decref(stack);
	const char *body = rc == 0 ? synth__deploy_cfn_str(r, "TemplateBody") : NULL;
	if (rc == 0 && !body)
		rc = synth_error_setf(SYNTH_EINVALID, "stack %s: GetTemplate returned no template",
				      stack_name);
	if (rc == 0)
		rc = synth__write_file(path, body, strlen(body));
	json_decref(r);
	return rc < 0 ? rc : 1;
}

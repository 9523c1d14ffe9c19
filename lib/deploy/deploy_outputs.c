/*
 * The client configuration (deploy step 9, and `synth outputs`): the
 * deployed stack's outputs and root template Metadata, the model
 * introspection schema from the assembly or S3.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>
#include "deploy_internal.h"
#include "../aws/publish.h"
#include "clientconfig.h"

/* The model introspection schema named by s3://BUCKET/KEY: the asset of
 * the assembly with that destination, else GetObject. *out: caller
 * decrefs, NULL when neither has it. */
static int model_schema(dctx *d, const assembly *as, const char *uri, const char *account,
			json_t **out)
{
	*out = NULL;
	if (strncmp(uri, "s3://", 5))
		return 0;
	const char *slash = strchr(uri + 5, '/');
	if (!slash)
		return 0;
	char *bucket = strndup(uri + 5, (size_t)(slash - uri - 5));
	const char *key = slash + 1;
	const char *abucket = NULL;
	json_t *f = as && as->files ? synth__deploy_assembly_asset_by_key(as->files, key, &abucket)
				    : NULL;
	char *sub = abucket ? synth_aws_placeholders(abucket, account ? account : "",
						     synth_aws_region(d->a))
			    : NULL;
	const char *src = synth__deploy_cfn_str(json_object_get(f, "source"), "path");
	int rc = 0;
	if (f && src && sub && bucket && !strcmp(sub, bucket)) {
		char *p = synth_asprintf("%s/%s", as->dir, src);
		*out = p ? synth__deploy_assembly_load_json(p) : NULL;
		free(p);
		if (!*out)
			synth_error_clear();
	}
	if (!*out && bucket) {
		char *path = synth_aws_s3_path(bucket, key);
		char *what = synth_asprintf("GetObject %s", uri);
		synth_aws_call call = {
			.service = "s3", .method = "GET", .path = path, .what = what};
		synth_http_response r = {0};
		rc = path && what ? synth_aws_request(d->a, &call, &r) : synth_error_oom();
		if (rc == 0) {
			json_error_t e;
			*out = json_loadb(r.body.ptr ? r.body.ptr : "", r.body.len, 0, &e);
			if (!*out)
				rc = synth_error_setf(SYNTH_EINVALID, "%s: not JSON (%s)", uri,
						      e.text);
		}
		synth_http_response_free(&r);
		free(path);
		free(what);
	}
	free(sub);
	free(bucket);
	return rc;
}

/* The region of a stack id (arn:aws:cloudformation:REGION:...), copied
 * into BUF; else the client's. */
static const char *stack_region(dctx *d, json_t *stack, char *buf, size_t n)
{
	const char *id = synth__deploy_cfn_str(stack, "StackId");
	const char *p = id && !strncmp(id, "arn:", 4) ? id : NULL;
	for (int k = 0; p && k < 3; k++)
		p = strchr(p, ':') ? strchr(p, ':') + 1 : NULL;
	const char *e = p ? strchr(p, ':') : NULL;
	if (p && e && e > p && (size_t)(e - p) < n) {
		memcpy(buf, p, (size_t)(e - p));
		buf[e - p] = '\0';
		return buf;
	}
	return synth_aws_region(d->a);
}

/* Builds and writes the client configuration from STACK (DescribeStacks)
 * and METADATA (the root template's). */
int synth__deploy_outputs_write(dctx *d, const assembly *as, json_t *stack, json_t *metadata)
{
	const char *path = d->o->outputs_path;
	if (!path)
		return 0;
	char region[64];
	json_t *outs = json_object_get(stack, "Outputs");
	json_t *none_meta = json_object(), *none_outs = json_array();
	json_t *cfg = NULL;
	int rc = none_meta && none_outs
			 ? synth__clientconfig_build(&cfg, metadata ? metadata : none_meta,
						     json_is_object(outs) ? outs : none_outs,
						     stack_region(d, stack, region, sizeof region))
			 : synth_error_oom();
	json_decref(none_meta);
	json_decref(none_outs);
	const char *uri = NULL;
	json_t *m;
	size_t i;
	json_array_foreach(synth__deploy_cfn_members(stack, "Outputs"), i, m) {
		const char *k = synth__deploy_cfn_str(m, "OutputKey");
		if (k && !strcmp(k, SYNTH_OUT_MODEL_SCHEMA_URI))
			uri = synth__deploy_cfn_str(m, "OutputValue");
	}
	if (rc == 0 && uri) {
		char *account = NULL;
		const char *id = synth__deploy_cfn_str(stack, "StackId");
		/* The account is in the stack id: arn:aws:cloudformation:R:ACCOUNT:stack/... */
		const char *p = id;
		for (int k = 0; p && k < 4; k++)
			p = strchr(p, ':') ? strchr(p, ':') + 1 : NULL;
		if (p && strchr(p, ':'))
			account = strndup(p, (size_t)(strchr(p, ':') - p));
		json_t *schema = NULL;
		rc = model_schema(d, as, uri, account, &schema);
		if (rc == 0 && schema)
			rc = synth__clientconfig_set_model_introspection(cfg, schema);
		json_decref(schema);
		free(account);
	}
	if (rc == 0)
		rc = synth__clientconfig_write(path, cfg);
	json_decref(cfg);
	if (rc == 0) {
		d->res->outputs_written = true;
		if (!d->o->quiet)
			synth__deploy_cfn_say(d, "wrote %s", path);
	}
	return rc;
}

int synth_deploy_outputs(synth_aws *a, const synth_deploy_options *o, synth_deploy_result *res)
{
	memset(res, 0, sizeof *res);
	dctx d;
	synth__deploy_cfn_init(&d, a, o, res);
	assembly as;
	memset(&as, 0, sizeof as);
	bool have_as = false;
	int rc = 0;
	if (o->assembly_dir) {
		rc = synth__deploy_assembly_load(&as, o->assembly_dir, o->stack_name);
		have_as = rc == 0;
		if (rc < 0 && o->stack_name) { /* only for the model schema: optional */
			synth_error_clear();
			rc = 0;
		}
	}
	const char *name = o->stack_name ? o->stack_name : have_as ? as.stack_name : NULL;
	if (rc == 0 && !name)
		rc = synth_error_setf(SYNTH_EINVALID, "no stack name given and no assembly");
	if (rc == 0 && !(res->stack_name = strdup(name)))
		rc = synth_error_oom();
	json_t *stack = NULL;
	if (rc == 0)
		rc = synth__deploy_cfn_describe(&d, name, &stack);
	if (rc == 0 && !stack)
		res->status = SYNTH_DEPLOY_ABSENT;
	if (rc == 0 && stack) {
		synth__deploy_cfn_note(&d, stack);
		const char *st = synth__deploy_cfn_str(stack, "StackStatus");
		if (synth__deploy_cfn_in_progress(st) || !strcmp(st, "ROLLBACK_COMPLETE") ||
		    !strcmp(st, "REVIEW_IN_PROGRESS") || synth__deploy_cfn_ends_with(st, "_FAILED"))
			rc = synth_error_setf(SYNTH_EINVALID,
					      "stack %s is %s: its outputs are not those of a "
					      "completed deploy", name, st);
	}
	/* The deployed template's Metadata: the local one may have moved on. */
	json_t *metadata = NULL;
	if (rc == 0 && stack) {
		json_t *r = NULL;
		rc = synth__deploy_cfn_template(a, synth__deploy_cfn_str(stack, "StackId"), &r);
		const char *body = rc == 0 ? synth__deploy_cfn_str(r, "TemplateBody") : NULL;
		json_t *t = body ? json_loads(body, 0, NULL) : NULL;
		if (rc == 0 && !t)
			rc = synth_error_setf(SYNTH_EINVALID,
					      "stack %s: the deployed template is not JSON", name);
		metadata = json_incref(json_object_get(t, "Metadata"));
		json_decref(t);
		json_decref(r);
	}
	if (rc == 0 && stack) {
		rc = synth__deploy_outputs_write(&d, have_as ? &as : NULL, stack, metadata);
		if (rc == 0)
			res->status = SYNTH_DEPLOY_SETTLED;
	}
	json_decref(metadata);
	json_decref(stack);
	if (have_as)
		synth__deploy_assembly_free(&as);
	return rc;
}

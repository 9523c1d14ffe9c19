/*
 * The cloud assembly (deploy step 1): manifest.json, its one stack, the
 * root template and the nested ones, the asset manifest, and
 * CloudFormation's limits on every template.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "deploy_internal.h"

void synth__deploy_assembly_free(assembly *as)
{
	free(as->dir);
	free(as->stack_name);
	free(as->template_path);
	free(as->template_text);
	json_decref(as->template);
	json_decref(as->tags);
	json_decref(as->files);
	free(as->template_key);
	memset(as, 0, sizeof *as);
}

json_t *synth__deploy_assembly_load_json(const char *path)
{
	json_error_t e;
	json_t *j = json_load_file(path, 0, &e);
	if (!j)
		synth_error_setf(errno == ENOENT && e.line < 1 ? SYNTH_ENOTFOUND : SYNTH_EINVALID,
				 "%s:%d:%d: %s", path, e.line, e.column, e.text);
	return j;
}

/* The asset in FILES whose destination object key is KEY; borrowed. */
json_t *synth__deploy_assembly_asset_by_key(json_t *files, const char *key, const char **bucket)
{
	const char *id;
	json_t *f;
	json_object_foreach(files, id, f) {
		const char *dk;
		json_t *dst;
		json_object_foreach(json_object_get(f, "destinations"), dk, dst) {
			const char *k = synth__deploy_cfn_str(dst, "objectKey");
			if (k && !strcmp(k, key)) {
				if (bucket)
					*bucket = synth__deploy_cfn_str(dst, "bucketName");
				return f;
			}
		}
	}
	return NULL;
}

/* Reads the manifest in DIR: the one stack (or the one named STACK), its
 * template, tags and asset manifest. */
int synth__deploy_assembly_load(assembly *as, const char *dir, const char *stack)
{
	memset(as, 0, sizeof *as);
	char *mpath = synth_asprintf("%s/manifest.json", dir);
	json_t *man = mpath ? synth__deploy_assembly_load_json(mpath) : NULL;
	int rc = 0;
	if (!mpath)
		rc = synth_error_oom();
	else if (!man)
		rc = synth_error_setf(SYNTH_ENOTFOUND, "%s: no cloud assembly here (%s)", dir,
				      synth_error_last()->message);
	json_t *art = NULL, *assets_art = NULL;
	const char *aid = NULL;
	if (rc == 0) {
		const char *id;
		json_t *v;
		size_t nstacks = 0;
		json_object_foreach(json_object_get(man, "artifacts"), id, v) {
			const char *type = synth__deploy_cfn_str(v, "type");
			if (type && !strcmp(type, "aws:cloudformation:stack")) {
				const char *sn = synth__deploy_cfn_str(
					json_object_get(v, "properties"), "stackName");
				if (!sn)
					sn = id;
				if (!stack || !strcmp(stack, sn)) {
					art = v;
					aid = id;
					nstacks++;
				}
			}
		}
		if (nstacks != 1)
			rc = synth_error_setf(
				nstacks ? SYNTH_EINVALID : SYNTH_ENOTFOUND, "%s: %s", mpath,
				nstacks ? "more than one stack: name the one to deploy"
				: stack ? "no such stack in the assembly"
					: "no stack in the assembly");
	}
	json_t *props = json_object_get(art, "properties");
	if (rc == 0) {
		const char *sn = synth__deploy_cfn_str(props, "stackName");
		const char *tf = synth__deploy_cfn_str(props, "templateFile");
		as->dir = strdup(dir);
		as->stack_name = strdup(sn ? sn : aid);
		as->template_path = tf ? synth_asprintf("%s/%s", dir, tf) : NULL;
		as->tags = json_deep_copy(json_object_get(props, "tags"));
		if (!as->tags)
			as->tags = json_object();
		if (!tf)
			rc = synth_error_setf(SYNTH_EINVALID, "%s: stack %s has no templateFile",
					      mpath, as->stack_name);
		else if (!as->dir || !as->stack_name || !as->template_path || !as->tags)
			rc = synth_error_oom();
	}
	if (rc == 0)
		rc = synth_file_read(as->template_path, &as->template_text, &as->template_len);
	if (rc == 0) {
		json_error_t e;
		as->template = json_loadb(as->template_text, as->template_len, 0, &e);
		if (!as->template)
			rc = synth_error_setf(SYNTH_EINVALID, "%s:%d:%d: %s", as->template_path,
					      e.line, e.column, e.text);
	}
	/* The asset manifest: the dependency of type cdk:asset-manifest. */
	json_t *dep;
	size_t i;
	json_array_foreach(rc == 0 ? json_object_get(art, "dependencies") : NULL, i, dep) {
		json_t *d =
			json_object_get(json_object_get(man, "artifacts"), json_string_value(dep));
		const char *t = synth__deploy_cfn_str(d, "type");
		if (t && !strcmp(t, "cdk:asset-manifest"))
			assets_art = d;
	}
	if (rc == 0 && assets_art) {
		const char *file =
			synth__deploy_cfn_str(json_object_get(assets_art, "properties"), "file");
		char *apath = file ? synth_asprintf("%s/%s", dir, file) : NULL;
		json_t *am = apath ? synth__deploy_assembly_load_json(apath) : NULL;
		if (!am)
			rc = file ? (apath ? synth_error_last()->code : synth_error_oom())
				  : synth_error_setf(SYNTH_EINVALID,
						     "%s: the asset manifest has no file", mpath);
		as->files = json_incref(json_object_get(am, "files"));
		json_decref(am);
		free(apath);
	}
	if (rc == 0 && !as->files)
		as->files = json_object();
	/* The root template's own key (stackTemplateAssetObjectUrl, s3://b/k). */
	const char *url =
		rc == 0 ? synth__deploy_cfn_str(props, "stackTemplateAssetObjectUrl") : NULL;
	if (url && !strncmp(url, "s3://", 5)) {
		const char *slash = strchr(url + 5, '/');
		if (slash && !(as->template_key = strdup(slash + 1)))
			rc = synth_error_oom();
	}
	json_decref(man);
	free(mpath);
	if (rc < 0)
		synth__deploy_assembly_free(as);
	return rc;
}

/* The local path of a nested template named by a TemplateURL's key (the
 * URL's last segment), or NULL. Caller frees. */
char *synth__deploy_assembly_nested_path(const assembly *as, json_t *resource)
{
	json_t *url = json_object_get(json_object_get(resource, "Properties"), "TemplateURL");
	const char *u = json_is_object(url) ? synth__deploy_cfn_str(url, "Fn::Sub")
					    : json_string_value(url);
	const char *key = u ? strrchr(u, '/') : NULL;
	json_t *f = key ? synth__deploy_assembly_asset_by_key(as->files, key + 1, NULL) : NULL;
	const char *p = synth__deploy_cfn_str(json_object_get(f, "source"), "path");
	return p ? synth_asprintf("%s/%s", as->dir, p) : NULL;
}

bool synth__deploy_assembly_is_nested(json_t *resource)
{
	const char *t = synth__deploy_cfn_str(resource, "Type");
	return t && !strcmp(t, "AWS::CloudFormation::Stack");
}

/* Checks one template against CloudFormation's limits: its size as
 * uploaded and its resource count. */
static int check_template_limits(const char *path, const char *stack, size_t bytes, json_t *tpl)
{
	if (bytes > SYNTH_DEPLOY_TEMPLATE_URL_MAX)
		return synth_error_setf(SYNTH_ELIMIT,
					"stack %s: the template %s is %zu bytes; CloudFormation "
					"accepts at most %d bytes (1 MB) from S3",
					stack, path, bytes, SYNTH_DEPLOY_TEMPLATE_URL_MAX);
	size_t n = json_object_size(json_object_get(tpl, "Resources"));
	if (n > SYNTH_DEPLOY_RESOURCES_MAX)
		return synth_error_setf(SYNTH_ELIMIT,
					"stack %s: %zu resources in %s; CloudFormation allows %d "
					"per stack (split the backend: nested stacks)",
					stack, n, path, SYNTH_DEPLOY_RESOURCES_MAX);
	return 0;
}

static int each_template_in(const assembly *as, const char *path, const char *where,
			    size_t bytes, json_t *tpl, template_fn fn, void *ctx, int depth)
{
	int rc = fn(ctx, path, where, bytes, tpl);
	const char *lid;
	json_t *r;
	json_object_foreach(json_object_get(tpl, "Resources"), lid, r) {
		if (rc < 0 || !synth__deploy_assembly_is_nested(r))
			continue;
		if (depth > 8)
			return synth_error_setf(SYNTH_ELIMIT, "%s: nested stacks deeper than 8",
						path);
		char *np = synth__deploy_assembly_nested_path(as, r);
		if (!np)
			continue; /* not one of the assembly's (a URL of the user's) */
		char *text = NULL;
		size_t len = 0;
		rc = synth_file_read(np, &text, &len);
		json_error_t e;
		json_t *nt = rc == 0 ? json_loadb(text, len, 0, &e) : NULL;
		if (rc == 0 && !nt)
			rc = synth_error_setf(SYNTH_EINVALID, "%s:%d:%d: %s", np, e.line, e.column,
					      e.text);
		char *nw = synth_asprintf("%s/%s", where, lid);
		if (rc == 0)
			rc = nw ? each_template_in(as, np, nw, len, nt, fn, ctx, depth + 1)
				: synth_error_oom();
		free(nw);
		json_decref(nt);
		free(text);
		free(np);
	}
	return rc;
}

int synth__deploy_assembly_each(const assembly *as, template_fn fn, void *ctx)
{
	return each_template_in(as, as->template_path, as->stack_name, as->template_len,
				as->template, fn, ctx, 0);
}

static int limits_fn(void *ctx, const char *path, const char *where, size_t bytes, json_t *tpl)
{
	(void)ctx;
	return check_template_limits(path, where, bytes, tpl);
}

int synth__deploy_assembly_check_limits(const assembly *as)
{
	return synth__deploy_assembly_each(as, limits_fn, NULL);
}

static int count_fn(void *ctx, const char *path, const char *where, size_t bytes, json_t *tpl)
{
	(void)path;
	(void)where;
	(void)bytes;
	*(size_t *)ctx += json_object_size(json_object_get(tpl, "Resources"));
	return 0;
}

size_t synth__deploy_assembly_count(const assembly *as)
{
	size_t n = 0;
	if (synth__deploy_assembly_each((assembly *)as, count_fn, &n) < 0)
		synth_error_clear();
	return n;
}

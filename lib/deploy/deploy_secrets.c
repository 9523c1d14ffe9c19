/*
 * Secrets (deploy steps 2a and 4): every SSM parameter a function reads
 * must exist, and the secret-versions parameters get a digest of the
 * auth secrets' current SSM versions (never their values).
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>
#include "deploy_internal.h"
#include "../aws/ssm.h"

/* Collects {"VAR": {"path", "sharedPath"}} of every function's
 * SYNTH_ENV_SSM_CONFIG into CTX (an object: secret name -> [path, shared]). */
static int secrets_fn(void *ctx, const char *path, const char *where, size_t bytes, json_t *tpl)
{
	(void)where;
	(void)bytes;
	json_t *acc = ctx;
	const char *lid;
	json_t *r;
	json_object_foreach(json_object_get(tpl, "Resources"), lid, r) {
		json_t *vars = json_object_get(
			json_object_get(json_object_get(r, "Properties"), "Environment"),
			"Variables");
		const char *text = synth__deploy_cfn_str(vars, SYNTH_ENV_SSM_CONFIG);
		if (!text)
			continue;
		json_error_t e;
		json_t *cfg = json_loads(text, 0, &e);
		if (!json_is_object(cfg)) {
			json_decref(cfg);
			return synth_error_setf(SYNTH_EINVALID,
						"%s: resource %s: " SYNTH_ENV_SSM_CONFIG
						" is not a "
						"JSON object",
						path, lid);
		}
		const char *var;
		json_t *s;
		json_object_foreach(cfg, var, s) {
			const char *p = synth__deploy_cfn_str(s, "path"),
				   *sp = synth__deploy_cfn_str(s, "sharedPath");
			const char *name = p ? strrchr(p, '/') : NULL;
			if (!p || !name)
				continue;
			json_object_set_new(acc, name + 1, json_pack("[ss]", p, sp ? sp : p));
		}
		json_decref(cfg);
	}
	return 0;
}

/* The error for secrets set nowhere: ABSENT their names, PATHS
 * {name: [path, shared path]}. Records them in d->res->missing_secrets. */
static int missing_secrets_error(dctx *d, const assembly *as, json_t *absent, json_t *paths)
{
	synth_buf b = SYNTH_BUF_INIT;
	size_t i;
	json_t *s;
	json_array_foreach(absent, i, s) {
		json_t *pp = json_object_get(paths, json_string_value(s));
		synth_buf_printf(&b, "%s%s (%s or %s)", i ? ", " : "", json_string_value(s),
				  json_string_value(json_array_get(pp, 0)),
				  json_string_value(json_array_get(pp, 1)));
	}
	char *list = synth_buf_detach(&b);
	int rc = synth_error_setf(SYNTH_ENOTFOUND, "stack %s: secret%s not set: %s",
				  as->stack_name, json_array_size(absent) > 1 ? "s" : "",
				  list ? list : "");
	free(list);
	json_decref(d->res->missing_secrets);
	d->res->missing_secrets = json_incref(absent);
	return rc;
}

int synth__deploy_secrets_check(dctx *d, const assembly *as)
{
	json_t *acc = json_object();
	int rc = acc ? synth__deploy_assembly_each(as, secrets_fn, acc) : synth_error_oom();
	if (rc < 0 || json_object_size(acc) == 0) {
		json_decref(acc);
		return rc;
	}
	json_t *names = json_array(), *missing = NULL;
	const char *k;
	json_t *v;
	json_object_foreach(acc, k, v) {
		json_array_append(names, json_array_get(v, 0));
		json_array_append(names, json_array_get(v, 1));
	}
	rc = synth_ssm_missing(d->a, names, &missing);
	json_t *absent = json_array();
	json_object_foreach(rc == 0 ? acc : NULL, k, v) {
		bool has[2] = {true, true};
		for (int j = 0; j < 2; j++) {
			size_t i;
			json_t *mm;
			json_array_foreach(missing, i, mm)
				if (json_equal(mm, json_array_get(v, j)))
					has[j] = false;
		}
		if (!has[0] && !has[1])
			json_array_append_new(absent, json_string(k));
	}
	if (rc == 0 && json_array_size(absent))
		rc = missing_secrets_error(d, as, absent, acc);
	json_decref(absent);
	json_decref(names);
	json_decref(missing);
	json_decref(acc);
	return rc;
}

/* Collects the Metadata SYNTH_MD_SECRET_VERSIONS = {"param": P, "secrets":
 * {NAME: [path, shared path]}} of every resource into CTX (an object:
 * P -> {NAME: [path, shared]}). */
static int versions_fn(void *ctx, const char *path, const char *where, size_t bytes, json_t *tpl)
{
	(void)where;
	(void)bytes;
	json_t *acc = ctx;
	const char *lid;
	json_t *r;
	json_object_foreach(json_object_get(tpl, "Resources"), lid, r) {
		json_t *md =
			json_object_get(json_object_get(r, "Metadata"), SYNTH_MD_SECRET_VERSIONS);
		if (!md)
			continue;
		const char *param = synth__deploy_cfn_str(md, "param");
		json_t *secrets = json_object_get(md, "secrets");
		bool ok = param && *param && json_is_object(secrets);
		const char *name;
		json_t *pp;
		json_object_foreach(ok ? secrets : NULL, name, pp)
			ok &= json_array_size(pp) == 2 && json_is_string(json_array_get(pp, 0)) &&
			      json_is_string(json_array_get(pp, 1));
		if (!ok)
			return synth_error_setf(
				SYNTH_EINVALID,
				"%s: resource %s: Metadata " SYNTH_MD_SECRET_VERSIONS " is not "
				"{\"param\": NAME, \"secrets\": {SECRET: [path, shared "
				"path]}}",
				path, lid);
		json_t *into = json_object_get(acc, param);
		if (!into) {
			if (json_object_set_new(acc, param, json_object()) < 0)
				return synth_error_oom();
			into = json_object_get(acc, param);
		}
		if (json_object_update(into, secrets) < 0)
			return synth_error_oom();
	}
	return 0;
}

int synth__deploy_versions_digest(json_t *secrets, json_t *versions, char out[65], json_t *missing)
{
	out[0] = '\0';
	size_t n = json_object_size(secrets), k = 0;
	const char **lines = n ? calloc(n, sizeof *lines) : NULL;
	char **owned = n ? calloc(n, sizeof *owned) : NULL;
	int rc = n && (!lines || !owned) ? synth_error_oom() : 0;
	const char *name;
	json_t *pp;
	json_object_foreach(rc == 0 ? secrets : NULL, name, pp) {
		const char *at = NULL;
		json_int_t ver = 0;
		for (size_t j = 0; j < 2 && !at; j++) {
			const char *p = json_string_value(json_array_get(pp, j));
			json_t *v = p ? json_object_get(versions, p) : NULL;
			if (json_is_integer(v))
				at = p, ver = json_integer_value(v);
		}
		if (!at && missing && json_array_append_new(missing, json_string(name)) < 0) {
			rc = synth_error_oom();
			break;
		}
		owned[k] = at ? synth_asprintf("%s=%s#%" JSON_INTEGER_FORMAT, name, at, ver)
			      : synth_asprintf("%s=-", name);
		if (!owned[k]) {
			rc = synth_error_oom();
			break;
		}
		lines[k] = owned[k];
		k++;
	}
	if (rc == 0) {
		/* Sorted: the digest does not depend on the order of the metadata. */
		for (size_t i = 1; i < k; i++)
			for (size_t j = i; j > 0 && strcmp(lines[j - 1], lines[j]) > 0; j--) {
				const char *t = lines[j];
				lines[j] = lines[j - 1];
				lines[j - 1] = t;
			}
		synth_buf b = SYNTH_BUF_INIT;
		synth_buf_puts(&b, "synth-secret-versions-1\n");
		for (size_t i = 0; i < k; i++) {
			synth_buf_puts(&b, lines[i]);
			synth_buf_putc(&b, '\n');
		}
		size_t len = b.len;
		char *text = synth_buf_detach(&b);
		if (!text || synth_sha256_hex(text, len, out) < 0)
			rc = synth_error_oom();
		free(text);
	}
	for (size_t i = 0; owned && i < n; i++)
		free(owned[i]);
	free(owned);
	free(lines);
	if (rc < 0)
		out[0] = '\0';
	return rc;
}

/*
 * The template parameters that carry secret versions: *values (caller
 * decrefs) {param: digest} for every parameter some resource's metadata
 * names (see versions_fn), from the secrets' SSM versions (read without
 * decryption). A secret set at neither of its paths is an error (the
 * fetcher would fail in CloudFormation after the uploads) naming it.
 */
int synth__deploy_secrets_versions(dctx *d, const assembly *as, bool require, json_t **values)
{
	*values = json_object();
	json_t *acc = json_object(), *names = json_array(), *versions = NULL;
	json_t *absent = json_array(), *paths = json_object();
	int rc = *values && acc && names && absent && paths ? 0 : synth_error_oom();
	if (rc == 0)
		rc = synth__deploy_assembly_each(as, versions_fn, acc);
	const char *param, *name;
	json_t *secrets, *pp;
	json_object_foreach(rc == 0 ? acc : NULL, param, secrets) {
		json_t *decl = json_object_get(json_object_get(as->template, "Parameters"), param);
		if (!json_is_object(decl)) {
			rc = synth_error_setf(
				SYNTH_EINVALID,
				"stack %s: %s: the secret versions go to parameter %s, "
				"which the root template does not declare",
				as->stack_name, as->template_path, param);
			break;
		}
		json_object_foreach(secrets, name, pp)
			if (json_array_append(names, json_array_get(pp, 0)) < 0 ||
			    json_array_append(names, json_array_get(pp, 1)) < 0 ||
			    json_object_set(paths, name, pp) < 0)
				rc = synth_error_oom();
	}
	if (rc == 0 && json_object_size(acc))
		rc = synth_ssm_versions(d->a, names, &versions);
	json_object_foreach(rc == 0 ? acc : NULL, param, secrets) {
		char digest[65];
		rc = synth__deploy_versions_digest(secrets, versions, digest, absent);
		if (rc == 0 && json_object_set_new(*values, param, json_string(digest)) < 0)
			rc = synth_error_oom();
		if (rc < 0)
			break;
	}
	if (rc == 0 && require && json_array_size(absent))
		rc = missing_secrets_error(d, as, absent, paths);
	json_decref(acc);
	json_decref(names);
	json_decref(versions);
	json_decref(absent);
	json_decref(paths);
	if (rc < 0) {
		json_decref(*values);
		*values = NULL;
	}
	return rc;
}

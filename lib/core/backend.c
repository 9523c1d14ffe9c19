/*
 * The backend handle: context, backend identifier, the model's registries
 * (resources, parameters, conditions, outputs, overrides), and run().
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <string.h>
#include <unistd.h>
#include "internal.h"

/* --- identifier -------------------------------------------------------- */

/* Runs of characters other than letters and digits become one '-';
 * leading and trailing dashes go. At most MAX characters. */
static char *sanitize(const char *s, size_t max)
{
	size_t n = strlen(s);
	char *o = malloc(n + 1);
	if (!o)
		return NULL;
	size_t j = 0;
	bool dash = false;
	for (size_t i = 0; i < n && j < max; i++) {
		unsigned char c = (unsigned char)s[i];
		if (isalnum(c) && c < 128) {
			if (dash && j > 0 && j + 1 < max)
				o[j++] = '-';
			dash = false;
			o[j++] = (char)c;
		} else
			dash = true;
	}
	while (j > 0 && o[j - 1] == '-')
		j--;
	o[j] = '\0';
	return o;
}

static const char *type_name(synth_backend_type t)
{
	return t == SYNTH_BACKEND_BRANCH ? "branch" : "sandbox";
}

int synth_stack_name(char **out, const char *ns, const char *name,
		     synth_backend_type type)
{
	*out = NULL;
	if (!ns || !*ns)
		return synth_error_setf(SYNTH_EINVALID, "backend namespace is empty");
	if (!name || !*name)
		return synth_error_setf(SYNTH_EINVALID, "%s name is empty",
					type_name(type));
	/* "synth-" ns "-" name "-" type "-" hash10: keep it within 128. */
	char *sns = sanitize(ns, 40);
	char *sname = sanitize(name, 128);
	int rc = 0;
	if (!sns || !sname)
		rc = synth_error_oom();
	else if (!*sns)
		rc = synth_error_setf(SYNTH_EINVALID,
				      "backend namespace '%s' has no letter or digit", ns);
	else if (!*sname)
		rc = synth_error_setf(SYNTH_EINVALID, "%s name '%s' has no letter or digit",
				      type_name(type), name);
	if (rc == 0) {
		const char *t = type_name(type);
		size_t room = 128 - (6 + strlen(sns) + 1 + 1 + strlen(t) + 1 + 10);
		if (strlen(sname) > room) {
			sname[room] = '\0';
			size_t l = strlen(sname);
			while (l > 0 && sname[l - 1] == '-')
				sname[--l] = '\0';
		}
		char *raw = synth_asprintf("%s\n%s\n%s", ns, name, t);
		char hex[65];
		if (raw && synth_sha256_hex(raw, strlen(raw), hex) == 0) {
			hex[10] = '\0';
			*out = synth_asprintf("synth-%s-%s-%s-%s", sns, sname, t, hex);
		}
		free(raw);
		if (!*out)
			rc = synth_error_oom();
	}
	free(sns);
	free(sname);
	return rc;
}

const char *synth_backend_namespace(const synth_backend *b)
{
	SYNTH_CHECK_HANDLE(b);
	return b->ns;
}
const char *synth_backend_name(const synth_backend *b)
{
	SYNTH_CHECK_HANDLE(b);
	return b->name;
}
synth_backend_type synth_backend_type_of(const synth_backend *b)
{
	SYNTH_CHECK_HANDLE(b);
	return b->type;
}
const char *synth_backend_stack_name(const synth_backend *b)
{
	SYNTH_CHECK_HANDLE(b);
	return b->stack_name;
}

/* SSM parameter names: letters, digits, '.', '-', '_' and '/'. */
static int secret_path(char **out, const synth_backend *b, const char *name,
		       bool shared)
{
	*out = NULL;
	if (!synth_name_valid(name, 128))
		return synth_error_setf(SYNTH_EINVALID,
					"secret name '%s' is not valid: use 1 to 128 letters, "
					"digits, '-' or '_'", name ? name : "");
	char *sns = sanitize(b->ns, 64), *sname = sanitize(b->name, 128);
	if (sns && sname)
		*out = shared ? synth_asprintf("/synth/%s/shared/%s", sns, name)
			      : synth_asprintf("/synth/%s/%s/%s/%s", sns,
						type_name(b->type), sname, name);
	free(sns);
	free(sname);
	return *out ? 0 : synth_error_oom();
}

int synth_secret_path(char **out, const synth_backend *b, const char *name)
{
	SYNTH_CHECK_HANDLE(b);
	return secret_path(out, b, name, false);
}

int synth_secret_shared_path(char **out, const synth_backend *b, const char *name)
{
	SYNTH_CHECK_HANDLE(b);
	return secret_path(out, b, name, true);
}

/* --- context ----------------------------------------------------------- */

static int set_string(char **slot, const char *v)
{
	char *d = strdup(v);
	if (!d)
		return synth_error_oom();
	free(*slot);
	*slot = d;
	return 0;
}

int synth_backend_set_context(synth_backend *b, const char *key, const char *value)
{
	SYNTH_CHECK_HANDLE(b);
	if (!key || !value)
		return synth_error_setf(SYNTH_EINVALID, "context key and value are required");
	/* Every key is kept, for constructs (synth_backend_context). */
	if ((!b->context && !(b->context = json_object())) ||
	    json_object_set_new(b->context, key, json_string(value)) < 0)
		return synth_error_oom();
	if (!strcmp(key, "synth:namespace") || !strcmp(key, "amplify-backend-namespace"))
		return set_string(&b->ns, value);
	if (!strcmp(key, "synth:name") || !strcmp(key, "amplify-backend-name"))
		return set_string(&b->name, value);
	if (!strcmp(key, "synth:type") || !strcmp(key, "amplify-backend-type")) {
		if (!strcmp(value, "branch"))
			b->type = SYNTH_BACKEND_BRANCH;
		else if (!strcmp(value, "sandbox"))
			b->type = SYNTH_BACKEND_SANDBOX;
		else
			return synth_error_setf(SYNTH_EINVALID,
						"context %s: '%s' is neither 'branch' nor "
						"'sandbox'", key, value);
		return 0;
	}
	return 0; /* other keys are for constructs */
}

const char *synth_backend_context(const synth_backend *b, const char *key)
{
	SYNTH_CHECK_HANDLE(b);
	return key ? json_string_value(json_object_get(b->context, key)) : NULL;
}

int synth_backend_set_outdir(synth_backend *b, const char *dir)
{
	SYNTH_CHECK_HANDLE(b);
	if (!dir || !*dir)
		return synth_error_setf(SYNTH_EINVALID, "output directory is empty");
	int rc = set_string(&b->outdir, dir);
	/* "out/" -> "out": the staging directory goes beside it, not inside. */
	size_t n = rc == 0 ? strlen(b->outdir) : 0;
	while (n > 1 && b->outdir[n - 1] == '/')
		b->outdir[--n] = '\0';
	return rc;
}

static int read_context_json(synth_backend *b, const char *text)
{
	json_error_t err;
	json_t *o = json_loads(text, 0, &err);
	if (!o || !json_is_object(o)) {
		json_decref(o);
		return synth_error_setf(SYNTH_EINVALID,
					"CDK_CONTEXT_JSON is not a JSON object: %s",
					o ? "wrong type" : err.text);
	}
	const char *k;
	json_t *v;
	int rc = 0;
	json_object_foreach(o, k, v) {
		if (json_is_string(v) && (rc = synth_backend_set_context(
						  b, k, json_string_value(v))) < 0)
			break;
	}
	json_decref(o);
	return rc;
}

static int default_identity(synth_backend *b)
{
	if (b->type == SYNTH_BACKEND_BRANCH && !b->name)
		return synth_error_setf(SYNTH_EINVALID,
					"branch backend without a branch name (set "
					"synth:name)");
	synth_identity id;
	int rc = synth_identity_resolve(&id, b->ns, b->type == SYNTH_BACKEND_BRANCH ? b->name : NULL,
					b->type == SYNTH_BACKEND_SANDBOX ? b->name : NULL);
	if (rc < 0)
		return rc;
	free(b->ns), free(b->name), free(b->stack_name);
	b->ns = id.ns, b->name = id.name, b->stack_name = id.stack_name;
	return 0;
}

/* A synth allocates many small JSON nodes between large buffers (template
 * text, file contents): a heap grown 16 MB at a time and never trimmed
 * during the run saves hundreds of brk calls and the page faults of
 * memory given back and taken again (2,000 functions). Only these two
 * settings, safe at any time: the CLI's third one (no fastbins, in the
 * GLIBC_TUNABLES it runs the backend with) is unsafe to change once
 * other threads have their own arenas. Any GLIBC_TUNABLES given wins. */
static void tune_malloc(void)
{
#ifdef __GLIBC__
	if (getenv("GLIBC_TUNABLES"))
		return;
	mallopt(M_TRIM_THRESHOLD, 256 << 20);
	mallopt(M_TOP_PAD, 16 << 20);
#endif
}

int synth_backend_new(synth_backend **out, int argc, char **argv)
{
	*out = NULL;
	tune_malloc();
	synth_error_clear();
	synth_backend *b = calloc(1, sizeof *b);
	if (!b || !(b->conditions = json_object())) {
		free(b);
		return synth_error_oom();
	}
	int rc = 0;
	const char *cj = getenv("CDK_CONTEXT_JSON");
	const char *od = getenv("CDK_OUTDIR");
	if (cj && *cj)
		rc = read_context_json(b, cj);
	if (rc == 0)
		rc = synth_backend_set_outdir(b, od && *od ? od : "cdk.out");
	for (int i = 1; rc == 0 && i < argc; i++) {
		const char *a = argv[i];
		if ((!strcmp(a, "--context") || !strcmp(a, "-c")) && i + 1 < argc) {
			const char *kv = argv[++i];
			const char *eq = strchr(kv, '=');
			if (!eq) {
				rc = synth_error_setf(SYNTH_EINVALID,
						      "--context %s: expected KEY=VALUE", kv);
				break;
			}
			char *key = strndup(kv, (size_t)(eq - kv));
			rc = key ? synth_backend_set_context(b, key, eq + 1) : synth_error_oom();
			free(key);
		} else if (!strcmp(a, "--out") && i + 1 < argc)
			rc = synth_backend_set_outdir(b, argv[++i]);
	}
	if (rc == 0)
		rc = default_identity(b);
	if (rc < 0) {
		synth_backend_free(b);
		return rc;
	}
	*out = b;
	return 0;
}

/* --- parameters, conditions, outputs, overrides ------------------------ */

static bool alnum_name(const char *s)
{
	if (!s || !*s || strlen(s) > 255)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) || (unsigned char)*s >= 128)
			return false;
	return true;
}

int synth_backend_add_parameter(synth_backend *b, const char *name, const char *type,
				const char *default_value, const char *description)
{
	SYNTH_CHECK_HANDLE(b);
	if (!alnum_name(name)) {
		synth_error_setf(SYNTH_EINVALID,
				 "parameter name '%s' must be 1 to 255 letters and digits",
				 name ? name : "");
		return synth__backend_fail(b);
	}
	for (size_t i = 0; i < b->nparams; i++)
		if (!strcmp(b->params[i].name, name)) {
			synth_error_setf(SYNTH_EEXISTS, "parameter '%s' is defined twice", name);
			return synth__backend_fail(b);
		}
	json_t *decl = json_pack("{s:s}", "Type", type ? type : "String");
	if (decl && default_value)
		json_object_set_new(decl, "Default", json_string(default_value));
	if (decl && description)
		json_object_set_new(decl, "Description", json_string(description));
	int grown = synth_array_grow((void **)&b->params, &b->nparams, &b->cap_params,
				     sizeof *b->params);
	char *n = strdup(name);
	if (!decl || grown < 0 || !n) {
		json_decref(decl);
		free(n);
		synth_error_oom();
		return synth__backend_fail(b);
	}
	b->params[b->nparams++] = (synth_parameter){n, decl};
	return 0;
}

int synth_backend_add_condition(synth_backend *b, const char *name, json_t *expr)
{
	SYNTH_CHECK_HANDLE(b);
	if (!alnum_name(name) || !expr) {
		json_decref(expr);
		synth_error_setf(SYNTH_EINVALID,
				 "condition '%s': name must be letters and digits, and the "
				 "expression is required", name ? name : "");
		return synth__backend_fail(b);
	}
	if (json_object_get(b->conditions, name)) {
		json_decref(expr);
		synth_error_setf(SYNTH_EEXISTS, "condition '%s' is defined twice", name);
		return synth__backend_fail(b);
	}
	if (json_object_set_new(b->conditions, name, expr) < 0) {
		synth_error_oom();
		return synth__backend_fail(b);
	}
	return 0;
}

int synth_backend_add_output(synth_backend *b, const char *category, const char *name,
			     json_t *value, const char *description,
			     const char *export_name)
{
	SYNTH_CHECK_HANDLE(b);
	int rc = 0;
	if (!category || !*category || !synth_name_valid(category, 64))
		rc = synth_error_setf(SYNTH_EINVALID, "output '%s': category '%s' is not "
				      "valid", name ? name : "", category ? category : "");
	else if (!alnum_name(name))
		rc = synth_error_setf(SYNTH_EINVALID,
				      "output name '%s' must be 1 to 255 letters and digits",
				      name ? name : "");
	else if (!value)
		rc = synth_error_setf(SYNTH_ENOMEM,
				      "output '%s' has no value (NULL: did a value builder run "
				      "out of memory?)", name);
	for (size_t i = 0; rc == 0 && i < b->noutputs; i++)
		if (!strcmp(b->outputs[i].name, name))
			rc = synth_error_setf(SYNTH_EEXISTS,
					      "output '%s' is recorded twice (categories "
					      "'%s' and '%s')", name, b->outputs[i].category,
					      category);
	if (rc < 0) {
		json_decref(value);
		return synth__backend_fail(b);
	}
	if (synth_array_grow((void **)&b->outputs, &b->noutputs, &b->cap_outputs,
			     sizeof *b->outputs) < 0) {
		json_decref(value);
		return synth__backend_fail(b);
	}
	synth_output n = {strdup(category), strdup(name), value,
			  synth_strdup(description), synth_strdup(export_name)};
	if (!n.category || !n.name || (description && !n.description) ||
	    (export_name && !n.export_name)) {
		free(n.category);
		free(n.name);
		free(n.description);
		free(n.export_name);
		json_decref(value);
		synth_error_oom();
		return synth__backend_fail(b);
	}
	b->outputs[b->noutputs++] = n;
	return 0;
}

int synth_backend_add_override(synth_backend *b, const char *resource_path,
			       const char *path, json_t *value)
{
	SYNTH_CHECK_HANDLE(b);
	if (!resource_path || !*resource_path || !path || !*path) {
		json_decref(value);
		synth_error_setf(SYNTH_EINVALID, "override needs a resource path and a "
				 "property path");
		return synth__backend_fail(b);
	}
	if (synth_array_grow((void **)&b->overrides, &b->noverrides, &b->cap_overrides,
			     sizeof *b->overrides) < 0) {
		json_decref(value);
		return synth__backend_fail(b);
	}
	synth_override n = {strdup(resource_path), strdup(path), value};
	if (!n.resource_path || !n.path) {
		free(n.resource_path);
		free(n.path);
		json_decref(value);
		synth_error_oom();
		return synth__backend_fail(b);
	}
	b->overrides[b->noverrides++] = n;
	return 0;
}

/* Applies one override to the emitted shape of R. */
static int apply_override(synth_backend *b, const synth_override *o)
{
	synth_resource *r = synth_backend_resource(b, o->resource_path);
	if (!r) {
		synth_error_setf(SYNTH_ENOTFOUND,
				 "override of '%s' at '%s': no resource has that path",
				 o->path, o->resource_path);
		return synth__backend_fail(b);
	}
	char *path = strdup(o->path);
	if (!path)
		return synth_error_oom();
	char *save = NULL, *first = strtok_r(path, ".", &save);
	int rc = 0;
	json_t *node = NULL;
	if (!first)
		rc = synth_error_setf(SYNTH_EINVALID, "%s: override path '%s' is empty",
				      r->path, o->path);
	else if (!strcmp(first, "Properties"))
		node = r->props;
	else if (!strcmp(first, "Metadata")) {
		if (!r->metadata)
			r->metadata = json_object();
		node = r->metadata;
	} else if (!strcmp(first, "DeletionPolicy") && !strtok_r(NULL, ".", &save)) {
		if (!json_is_string(o->value))
			rc = synth_error_setf(SYNTH_EINVALID, "%s: DeletionPolicy override "
					      "must be a string", r->path);
		else
			rc = synth_resource_set_deletion_policy(r, json_string_value(o->value));
		free(path);
		return rc < 0 ? synth__backend_fail(b) : 0;
	} else
		rc = synth_error_setf(SYNTH_EINVALID,
				      "%s: override path '%s' must start with Properties, "
				      "Metadata or DeletionPolicy", r->path, o->path);
	char *key = strtok_r(NULL, ".", &save);
	if (rc == 0 && !key && node)
		rc = synth_error_setf(SYNTH_EINVALID, "%s: override path '%s' names no "
				      "property", r->path, o->path);
	while (rc == 0 && key) {
		char *next = strtok_r(NULL, ".", &save);
		if (!json_is_object(node)) {
			rc = synth_error_setf(SYNTH_EINVALID,
					      "%s: override '%s': '%s' is inside a value that "
					      "is not an object", r->path, o->path, key);
			break;
		}
		if (!next) {
			if (o->value)
				json_object_set(node, key, o->value);
			else
				json_object_del(node, key);
			break;
		}
		json_t *child = json_object_get(node, key);
		if (!child) {
			child = json_object();
			json_object_set_new(node, key, child);
		}
		node = child;
		key = next;
	}
	free(path);
	return rc < 0 ? synth__backend_fail(b) : 0;
}

/* Raw resources are constructs of their own, generated with the rest. */
typedef struct raw_state {
	char *type;
	json_t *props;
} raw_state;

static int raw_generate(synth_construct *self, void *state)
{
	raw_state *s = state;
	json_t *p = s->props;
	s->props = NULL;
	return synth_resource_new(NULL, self, "Resource", s->type, p);
}

static void raw_free(void *state)
{
	raw_state *s = state;
	if (!s)
		return;
	free(s->type);
	json_decref(s->props);
	free(s);
}

static const synth_construct_class raw_class = {
	SYNTH_CONSTRUCT_CLASS_VERSION, "resource", NULL, raw_generate, raw_free};

int synth_backend_add_resource(synth_backend *b, const char *id, const char *type,
			       json_t *props)
{
	SYNTH_CHECK_HANDLE(b);
	raw_state *s = calloc(1, sizeof *s);
	if (!s || !(s->type = synth_strdup(type ? type : ""))) {
		free(s);
		json_decref(props);
		synth_error_oom();
		return synth__backend_fail(b);
	}
	s->props = props;
	if (!type || !strstr(type, "::") || (props && !json_is_object(props))) {
		raw_free(s);
		synth_error_setf(SYNTH_EINVALID,
				 "%s: a raw resource needs a type such as AWS::SNS::Topic and "
				 "an object of properties", id ? id : "");
		return synth__backend_fail(b);
	}
	return synth_construct_new(NULL, b, id, &raw_class, s);
}

/* --- run --------------------------------------------------------------- */

int synth_backend_run(synth_backend *b)
{
	SYNTH_CHECK_HANDLE(b);
	if (b->error)
		return synth_error_setf(b->error_code, "%s", b->error);
	if (b->ran)
		return synth_error_setf(SYNTH_EINVALID, "the backend has already run");
	b->ran = true;

	/* Stage the assembly beside its destination, then swap it in. */
	char *parent = strdup(b->outdir);
	if (!parent)
		return synth_error_oom();
	char *slash = strrchr(parent, '/');
	int rc = 0;
	if (slash && slash != parent) {
		*slash = '\0';
		rc = synth__mkdir_p(parent);
	}
	free(parent);
	if (rc < 0)
		return synth__backend_fail(b);
	b->staging = synth_asprintf("%s.tmp.%ld", b->outdir, (long)getpid());
	if (!b->staging)
		return synth_error_oom();
	synth__rm_rf(b->staging);
	if (synth__mkdir_p(b->staging) < 0)
		return synth__backend_fail(b);

	rc = synth__container_run(b);
	if (rc == 0)
		rc = synth__assets_finish(b);
	for (size_t i = 0; rc == 0 && i < b->noverrides; i++)
		rc = apply_override(b, &b->overrides[i]);
	if (rc == 0)
		rc = synth__emit_assembly(b, b->staging);
	if (rc == 0)
		rc = synth__assets_write_index(b, b->staging);
	if (rc == 0)
		rc = synth__replace_dir(b->staging, b->outdir);
	if (rc < 0) {
		int code = synth__backend_fail(b);
		synth_error_setf(code, "%s", b->error);
		synth__rm_rf(b->staging);
		return code;
	}
	return 0;
}

void synth_backend_free(synth_backend *b)
{
	if (!b)
		return;
	for (size_t i = 0; i < b->nconstructs; i++) {
		synth_construct *c = b->constructs[i];
		if (c->cls->free)
			c->cls->free(c->state);
		free(c->name);
		free(c->group);
		synth__map_free(&c->groups);
		free(c);
	}
	free(b->constructs);
	json_decref(b->context);
	for (size_t i = 0; i < b->nresources; i++) {
		synth_resource *r = b->resources[i];
		free(r->path);
		free(r->logical_id);
		free(r->type);
		json_decref(r->props);
		json_decref(r->metadata);
		free(r->condition);
		free(r->deletion_policy);
		free(r->deps);
		free(r);
	}
	free(b->resources);
	for (size_t i = 0; i < b->nparams; i++) {
		free(b->params[i].name);
		json_decref(b->params[i].decl);
	}
	free(b->params);
	for (size_t i = 0; i < b->noutputs; i++) {
		synth_output *o = &b->outputs[i];
		free(o->category);
		free(o->name);
		json_decref(o->value);
		free(o->description);
		free(o->export_name);
	}
	free(b->outputs);
	for (size_t i = 0; i < b->noverrides; i++) {
		free(b->overrides[i].resource_path);
		free(b->overrides[i].path);
		json_decref(b->overrides[i].value);
	}
	free(b->overrides);
	for (size_t i = 0; i < b->nassets; i++) {
		free(b->assets[i].source);
		synth_strv_free(b->assets[i].dirs);
		synth_strv_free(b->assets[i].real);
		free(b->assets[i].key);
		free(b->assets[i].file);
		free(b->assets[i].display);
		free(b->assets[i].error);
		synth_strv_free(b->assets[i].exclude);
	}
	free(b->assets);
	synth__map_free(&b->asset_by_key);
	json_decref(b->conditions);
	synth__map_free(&b->construct_by_name);
	synth__map_free(&b->token_providers);
	synth__map_free(&b->resource_by_path);
	synth__map_free(&b->resource_by_lid);
	if (b->staging && !b->ran)
		synth__rm_rf(b->staging);
	free(b->staging);
	free(b->ns);
	free(b->name);
	free(b->stack_name);
	free(b->outdir);
	free(b->workdir);
	free(b->error);
	free(b);
}

int synth_backend_fail(synth_backend *b)
{
	const synth_error *e = synth_error_last();
	const char *msg = b && b->error ? b->error : e->message;
	fprintf(stderr, "synth: error: %s\n", *msg ? msg : "unknown error");
	return 1;
}

int synth_backend_main(synth_backend *b)
{
	if (!b)
		return synth_backend_fail(NULL);
	int rc = synth_backend_run(b);
	if (rc < 0)
		synth_backend_fail(b);
	synth_backend_free(b);
	return rc < 0 ? 1 : 0;
}

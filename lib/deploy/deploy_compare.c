/*
 * Comparing with the deployed stack: the no-change check (deploy step 3:
 * template, parameters, tags), termination protection, and `diff`
 * (resource by resource, nested stacks included).
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "deploy_internal.h"

/* The tags a deploy sets: the manifest's, then the caller's (later wins). */
json_t *synth__deploy_compare_tags(const assembly *as, const synth_deploy_options *o)
{
	json_t *t = json_deep_copy(as->tags);
	for (size_t i = 0; t && o->tags && o->tags[i] && o->tags[i + 1]; i += 2)
		json_object_set_new(t, o->tags[i], json_string(o->tags[i + 1]));
	return t;
}

bool synth__deploy_tags_equal(json_t *stack, json_t *want)
{
	json_t *have = json_object();
	json_t *m;
	size_t i;
	if (!have)
		return false;
	json_array_foreach(synth__deploy_cfn_members(stack, "Tags"), i, m)
		if (synth__deploy_cfn_str(m, "Key") &&
		    json_object_set_new(have, synth__deploy_cfn_str(m, "Key"),
					json_string(synth__deploy_cfn_str(m, "Value")
							    ? synth__deploy_cfn_str(m, "Value")
							    : "")) < 0) {
			json_decref(have);
			return false;
		}
	bool eq = json_equal(have, want);
	json_decref(have);
	return eq;
}

bool synth__deploy_params_equal(json_t *stack, json_t *tpl, json_t *values)
{
	json_t *decl = json_object_get(tpl, "Parameters");
	json_t *m;
	size_t i, n = 0;
	json_array_foreach(synth__deploy_cfn_members(stack, "Parameters"), i, m) {
		const char *key = synth__deploy_cfn_str(m, "ParameterKey");
		json_t *d = key ? json_object_get(decl, key) : NULL;
		if (!d)
			return false; /* a parameter the template no longer has */
		json_t *def = json_object_get(values, key);
		if (!def)
			def = json_object_get(d, "Default");
		const char *v = synth__deploy_cfn_str(m, "ParameterValue");
		char num[64];
		const char *dv = json_string_value(def);
		if (json_is_integer(def)) {
			snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT, json_integer_value(def));
			dv = num;
		}
		if (!v || !dv || strcmp(v, dv))
			return false;
		n++;
	}
	return n == json_object_size(decl);
}

bool synth__deploy_compare_protected(json_t *stack)
{
	const char *v = synth__deploy_cfn_str(stack, "EnableTerminationProtection");
	return v && !strcmp(v, "true");
}

/* Termination protection as asked (o->termination_protection: > 0 on,
 * < 0 off, 0 leave it as it is): UpdateTerminationProtection when STACK
 * (a DescribeStacks member) differs, nothing otherwise. */
int synth__deploy_compare_protection(dctx *d, json_t *stack)
{
	int want = d->o->termination_protection;
	if (!want || !stack || synth__deploy_compare_protected(stack) == (want > 0))
		return 0;
	plist p = {0};
	synth__deploy_cfn_add(&p, "StackName",
			      synth__deploy_cfn_str(stack, "StackId")
				      ? synth__deploy_cfn_str(stack, "StackId")
				      : d->res->stack_name);
	synth__deploy_cfn_add(&p, "EnableTerminationProtection", want > 0 ? "true" : "false");
	json_t *r = NULL;
	int rc = synth__deploy_cfn_call(d->a, "UpdateTerminationProtection", &p, &r);
	json_decref(r);
	synth__deploy_cfn_params_free(&p);
	if (rc == 0)
		synth__deploy_cfn_say(d, "stack %s: termination protection %s", d->res->stack_name,
				      want > 0 ? "on" : "off");
	return rc;
}

/* Whether the deployed stack already is what AS would make it. Calls
 * GetTemplate only. */
int synth__deploy_compare_unchanged(dctx *d, const assembly *as, json_t *stack, bool *same)
{
	*same = false;
	const char *st = synth__deploy_cfn_str(stack, "StackStatus");
	if (synth__deploy_cfn_failed_state(st) || synth__deploy_cfn_in_progress(st) ||
	    !strcmp(st, "REVIEW_IN_PROGRESS"))
		return 0;
	json_t *want = synth__deploy_compare_tags(as, d->o);
	if (!want)
		return synth_error_oom();
	/* Termination protection is not part of the template: it is set
	 * apart (synth__deploy_compare_protection()), so it does not cost a change set. */
	bool meta = synth__deploy_tags_equal(stack, want) &&
		    synth__deploy_params_equal(stack, as->template, d->values);
	json_decref(want);
	if (!meta)
		return 0;
	json_t *r = NULL;
	int rc = synth__deploy_cfn_template(d->a, synth__deploy_cfn_str(stack, "StackId"), &r);
	const char *body = rc == 0 ? synth__deploy_cfn_str(r, "TemplateBody") : NULL;
	json_t *old = body ? json_loads(body, 0, NULL) : NULL; /* YAML: not equal */
	*same = old && json_equal(old, as->template);
	json_decref(old);
	json_decref(r);
	return rc;
}

/* Appends to OUT the paths under PREFIX where A and B differ. 0 or
 * SYNTH_ENOMEM. */
static int diff_paths(json_t *a, json_t *b, const char *prefix, json_t *out)
{
	if (json_equal(a, b))
		return 0;
	if (json_is_object(a) && json_is_object(b)) {
		const char *k;
		json_t *v;
		json_object_foreach(a, k, v) {
			char *p = synth_asprintf("%s%s%s", prefix, *prefix ? "." : "", k);
			int rc = p ? diff_paths(v, json_object_get(b, k), p, out)
				   : synth_error_oom();
			free(p);
			if (rc < 0)
				return rc;
		}
		json_object_foreach(b, k, v) {
			if (json_object_get(a, k))
				continue;
			char *p = synth_asprintf("%s%s%s", prefix, *prefix ? "." : "", k);
			int rc = p && json_array_append_new(out, json_string(p)) == 0
					 ? 0
					 : synth_error_oom();
			free(p);
			if (rc < 0)
				return rc;
		}
		return 0;
	}
	return json_array_append_new(out, json_string(*prefix ? prefix : "(whole)")) == 0
		       ? 0 : synth_error_oom();
}

static int cmp_ids(const void *x, const void *y)
{
	return strcmp(synth__deploy_cfn_str(*(json_t *const *)x, "id"),
		      synth__deploy_cfn_str(*(json_t *const *)y, "id"));
}

/* Appends {"id", "type", "action", "paths"} to LIST (PATHS stolen; NULL
 * is out of memory). */
static int diff_entry(json_t *list, const char *id, json_t *res, const char *action,
		      json_t *paths)
{
	const char *type =
		synth__deploy_cfn_str(res, "Type") ? synth__deploy_cfn_str(res, "Type") : "?";
	json_t *e = paths ? json_pack("{s:s,s:s,s:s,s:o}", "id", id, "type", type, "action",
				      action, "paths", paths)
			  : NULL;
	return e && json_array_append_new(list, e) == 0 ? 0 : synth_error_oom();
}

int synth__deploy_template_diff(json_t *old_tpl, json_t *new_tpl, json_t **out)
{
	*out = NULL;
	json_t * or = json_object_get(old_tpl, "Resources"),
		 *nr = json_object_get(new_tpl, "Resources");
	json_t *list = json_array();
	if (!list)
		return synth_error_oom();
	int rc = 0;
	const char *k;
	json_t *v;
	json_object_foreach(nr, k, v) {
		json_t *ov = json_object_get(or, k);
		if (!ov) {
			rc = diff_entry(list, k, v, "add", json_array());
		} else if (!json_equal(ov, v)) {
			json_t *paths = json_array();
			if (paths && (rc = diff_paths(ov, v, "", paths)) < 0) {
				json_decref(paths);
				break;
			}
			rc = diff_entry(list, k, v, "modify", paths);
		}
		if (rc < 0)
			break;
	}
	json_object_foreach(rc == 0 ? or : NULL, k, v) {
		if (json_object_get(nr, k))
			continue;
		if ((rc = diff_entry(list, k, v, "remove", json_array())) < 0)
			break;
	}
	size_t n = json_array_size(list);
	json_t **items = rc == 0 && n ? malloc(n * sizeof *items) : NULL;
	if (rc == 0 && n && !items)
		rc = synth_error_oom();
	if (rc < 0) {
		json_decref(list);
		return rc;
	}
	for (size_t i = 0; i < n; i++)
		items[i] = json_incref(json_array_get(list, i));
	if (n > 1)
		qsort(items, n, sizeof *items, cmp_ids);
	json_array_clear(list);
	for (size_t i = 0; i < n; i++)
		json_array_append_new(list, items[i]); /* fits: the array had room for n */
	free(items);
	*out = list;
	return 0;
}

/* The deployed template of stack ID (NULL: none). */
static int deployed_template(dctx *d, const char *id, json_t **out)
{
	*out = NULL;
	json_t *r = NULL;
	int rc = synth__deploy_cfn_template(d->a, id, &r);
	if (rc < 0 && strstr(synth_error_last()->message, "does not exist")) {
		synth_error_clear();
		return 0;
	}
	const char *body = rc == 0 ? synth__deploy_cfn_str(r, "TemplateBody") : NULL;
	if (body && !(*out = json_loads(body, 0, NULL)))
		rc = synth_error_setf(SYNTH_EINVALID, "stack %s: the deployed template is not JSON",
				      id);
	json_decref(r);
	return rc;
}

/* Logical id -> physical id of the stack's nested stacks. */
static int nested_ids(dctx *d, const char *id, json_t **out)
{
	*out = json_object();
	plist p = {0};
	synth__deploy_cfn_add(&p, "StackName", id);
	json_t *r = NULL;
	int rc = synth__deploy_cfn_call(d->a, "DescribeStackResources", &p, &r);
	synth__deploy_cfn_params_free(&p);
	json_t *m;
	size_t i;
	json_array_foreach(synth__deploy_cfn_members(r, "StackResources"), i, m) {
		const char *t = synth__deploy_cfn_str(m, "ResourceType"),
			   *pid = synth__deploy_cfn_str(m, "PhysicalResourceId");
		if (t && !strcmp(t, "AWS::CloudFormation::Stack") && pid &&
		    synth__deploy_cfn_str(m, "LogicalResourceId"))
			json_object_set_new(*out, synth__deploy_cfn_str(m, "LogicalResourceId"),
					    json_string(pid));
	}
	json_decref(r);
	return rc;
}

static int diff_stack(dctx *d, const assembly *as, const char *stack_id, json_t *new_tpl,
		      FILE *out, int indent, size_t *n, int depth)
{
	json_t *old = NULL, *list = NULL, *nested = NULL;
	int rc = stack_id ? deployed_template(d, stack_id, &old) : 0;
	if (rc == 0)
		rc = synth__deploy_template_diff(old, new_tpl, &list);
	if (rc == 0 && old && stack_id)
		rc = nested_ids(d, stack_id, &nested);
	json_t *c;
	size_t i;
	json_array_foreach(rc == 0 ? list : NULL, i, c) {
		const char *act = synth__deploy_cfn_str(c, "action"),
			   *id = synth__deploy_cfn_str(c, "id");
		char sym = !strcmp(act, "add") ? '+' : !strcmp(act, "remove") ? '-' : '~';
		fprintf(out, "%*s%c %s (%s)\n", indent, "", sym, id,
			synth__deploy_cfn_str(c, "type"));
		json_t *res = json_object_get(json_object_get(new_tpl, "Resources"), id);
		if (!strcmp(act, "modify") && synth__deploy_assembly_is_nested(res) && depth < 8) {
			/* What changed inside the nested stack: its resources are
			 * counted instead of the nested stack resource. */
			char *np = synth__deploy_assembly_nested_path(as, res);
			json_t *nt = np ? synth__deploy_assembly_load_json(np) : NULL;
			free(np);
			if (!nt)
				synth_error_clear();
			size_t before = *n;
			if (nt)
				rc = diff_stack(d, as, synth__deploy_cfn_str(nested, id), nt, out,
						indent + 4, n, depth + 1);
			if (rc == 0 && *n == before) {
				fprintf(out, "%*s    (its parameters or template URL)\n", indent,
					"");
				(*n)++;
			}
			json_decref(nt);
			if (rc < 0)
				break;
			continue;
		}
		(*n)++;
		json_t *p;
		size_t j;
		json_array_foreach(json_object_get(c, "paths"), j, p)
			fprintf(out, "%*s    %s\n", indent, "", json_string_value(p));
	}
	json_decref(nested);
	json_decref(list);
	json_decref(old);
	return rc;
}

int synth_deploy_diff(synth_aws *a, const synth_deploy_options *o, FILE *out, size_t *nchanges)
{
	*nchanges = 0;
	synth_deploy_result res = {0};
	dctx d;
	synth__deploy_cfn_init(&d, a, o, &res);
	assembly as;
	int rc = synth__deploy_assembly_load(&as, o->assembly_dir ? o->assembly_dir : "cdk.out",
					     o->stack_name);
	if (rc < 0)
		return rc;
	json_t *stack = NULL;
	rc = synth__deploy_cfn_describe(&d, as.stack_name, &stack);
	if (rc == 0) {
		if (!stack)
			fprintf(out, "stack %s does not exist: everything is new\n", as.stack_name);
		else
			fprintf(out, "stack %s (%s):\n", as.stack_name,
				synth__deploy_cfn_str(stack, "StackStatus"));
		rc = diff_stack(&d, &as, stack ? synth__deploy_cfn_str(stack, "StackId") : NULL,
				as.template, out, 2, nchanges, 0);
	}
	/* Parameters this deploy would set differently: the secret versions
	 * (a secret set again since the last deploy). */
	json_t *values = NULL;
	if (rc == 0 && stack)
		rc = synth__deploy_secrets_versions(&d, &as, false, &values);
	const char *k;
	json_t *v;
	json_object_foreach(rc == 0 ? values : NULL, k, v) {
		const char *now = NULL;
		json_t *m;
		size_t i;
		json_array_foreach(synth__deploy_cfn_members(stack, "Parameters"), i, m)
			if (synth__deploy_cfn_str(m, "ParameterKey") &&
			    !strcmp(synth__deploy_cfn_str(m, "ParameterKey"), k))
				now = synth__deploy_cfn_str(m, "ParameterValue");
		if (now && !strcmp(now, json_string_value(v)))
			continue;
		fprintf(out, "  ~ parameter %s: %.12s -> %.12s (a secret it digests was set "
			     "again in SSM: the secret fetcher will read the values again)\n",
			k, now ? now : "(none)", json_string_value(v));
		(*nchanges)++;
	}
	json_decref(values);
	json_decref(stack);
	synth__deploy_assembly_free(&as);
	synth_deploy_result_clear(&res);
	return rc;
}

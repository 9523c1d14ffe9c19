/*
 * The extender API (<synth/sys/construct.h>): optional and required token
 * lookups, iteration by class, checked state access, failing, layout
 * groups, resource tokens, context, statements, the policy dependency and
 * event sources, and class/source versions.
 */
#include "check.h"
#include "helpers.h"
#include "synth/sys/construct.h"

/* --- lookups, iteration, state ---------------------------------------- */

typedef struct probe {
	const char *token;
	bool required;
	int rc;
	synth_construct *found;
} probe;

static int probe_generate(synth_construct *self, void *state)
{
	probe *p = state;
	if (p->required)
		p->rc = synth_construct_lookup(&p->found, self, p->token);
	else
		p->rc = synth_construct_find(&p->found, self, p->token);
	return p->rc;
}

static int plain_generate(synth_construct *self, void *state)
{
	(void)state;
	return synth_resource_new(NULL, self, "Resource", "AWS::SNS::Topic", NULL);
}

static const synth_construct_class probe_class = {1, "probe", NULL, probe_generate, NULL};
static const synth_construct_class provider_class = {1, "prov", "tok", plain_generate, NULL};
static const synth_construct_class other_class = {1, "other", NULL, plain_generate, NULL};

static void test_find_and_lookup(void)
{
	char *d = tmp_cwd();
	synth_backend *b = new_backend();
	probe p = {.token = "nobody"};
	synth_construct_new(NULL, b, "opt", &probe_class, &p);
	CHECK(!synth_backend_provides(b, "nobody"), "nobody provides 'nobody'");
	CHECK(synth_backend_run(b) == 0, "an optional lookup of a missing token does not fail");
	CHECK(p.rc == 0 && p.found == NULL, "find gives NULL and 0");
	synth_backend_free(b);

	b = new_backend();
	probe q = {.token = "nobody", .required = true};
	synth_construct_new(NULL, b, "req", &probe_class, &q);
	CHECK(synth_backend_run(b) == SYNTH_ENOTFOUND, "a required lookup of it fails the run");
	CHECK_HAS(synth_error_last()->message, "req", "the message names the construct");
	CHECK_HAS(synth_error_last()->message, "'nobody'", "the message names the token");
	synth_backend_free(b);

	b = new_backend();
	probe r = {.token = "tok"};
	synth_construct *prov = NULL;
	synth_construct_new(NULL, b, "asker", &probe_class, &r);
	synth_construct_new(&prov, b, "giver", &provider_class, NULL);
	CHECK(synth_backend_provides(b, "tok"), "provides: true at define time");
	CHECK(synth_backend_run(b) == 0 && r.found == prov, "find gives the provider");
	CHECK(synth_backend_resource(b, "giver/Resource") != NULL,
	      "the provider was generated first (get-or-compute)");
	synth_backend_free(b);
	rm_tmp(d);
}

static void test_iteration_and_state(void)
{
	synth_backend *b = new_backend();
	int s1 = 1, s2 = 2, s3 = 3;
	synth_construct *a = NULL, *x = NULL, *c = NULL;
	synth_construct_new(&a, b, "a", &other_class, &s1);
	synth_construct_new(&x, b, "x", &provider_class, &s2);
	synth_construct_new(&c, b, "c", &other_class, &s3);
	synth_construct *it = synth_backend_next(b, &other_class, NULL);
	CHECK(it == a, "the first of a class");
	it = synth_backend_next(b, &other_class, it);
	CHECK(it == c, "the next skips other classes");
	CHECK(synth_backend_next(b, &other_class, it) == NULL, "then the end");
	size_t n = 0;
	for (it = synth_backend_next(b, NULL, NULL); it; it = synth_backend_next(b, NULL, it))
		n++;
	CHECK(n == 3, "NULL iterates every construct (%zu)", n);
	CHECK(synth_construct_state_as(x, &provider_class) == &s2, "state of the right class");
	CHECK(synth_construct_state_as(x, &other_class) == NULL, "no state through another class");
	CHECK(synth_construct_state_as(NULL, &other_class) == NULL, "NULL construct: NULL");
	CHECK(synth_backend_construct(b, "c") == c && !synth_backend_construct(b, "zz"),
	      "by name");
	CHECK(synth_construct_index(c) == 2 && synth_construct_class_of(c) == &other_class,
	      "index and class");
	CHECK(synth_backend_context(b, "synth:name") &&
		      !strcmp(synth_backend_context(b, "synth:name"), "main"),
	      "context: a known key");
	CHECK(synth_backend_set_context(b, "mine:flag", "on") == 0 &&
		      !strcmp(synth_backend_context(b, "mine:flag"), "on"),
	      "context: a construct's own key is kept");
	CHECK(synth_backend_context(b, "unset") == NULL, "context: unset is NULL");
	synth_backend_free(b);
}

/* --- failing and versions --------------------------------------------- */

static int freed;
static void count_free(void *s)
{
	(void)s;
	freed++;
}
static const synth_construct_class old_class = {0, "old", NULL, plain_generate, count_free};
static const synth_construct_class future_class = {99, "future", NULL, plain_generate,
						    count_free};

static void test_fail_and_versions(void)
{
	synth_backend *b = new_backend();
	CHECK(synth_backend_failf(b, SYNTH_EINVALID, "thing-%d: bad %s", 7, "size") ==
		      SYNTH_EINVALID,
	      "failf returns the code");
	CHECK_STR(synth_error_last()->message, "thing-7: bad size", "failf formats");
	synth_backend_failf(b, SYNTH_EIO, "second");
	CHECK(synth_backend_run(b) == SYNTH_EINVALID, "the first error is the sticky one");
	CHECK_HAS(synth_error_last()->message, "thing-7", "and the run reports it");
	synth_backend_free(b);

	b = new_backend();
	freed = 0;
	CHECK(synth_construct_new(NULL, b, "legacy", &old_class, NULL) == SYNTH_EINVALID,
	      "a class of version 0 is refused");
	CHECK_HAS(synth_error_last()->message, "legacy", "naming the construct");
	CHECK_HAS(synth_error_last()->message, "version 0", "its version");
	CHECK_HAS(synth_error_last()->message, "supports versions 1 to 2", "and the supported ones");
	CHECK(synth_construct_new(NULL, b, "newer", &future_class, NULL) == SYNTH_EINVALID,
	      "a class of a newer version is refused too");
	CHECK(freed == 0, "nothing of an unknown class is called");
	CHECK(synth_backend_run(b) < 0, "the run fails");
	synth_backend_free(b);
}

/* --- layout groups and resource tokens -------------------------------- */

static int grouped_generate(synth_construct *self, void *state)
{
	(void)state;
	synth_resource *r = NULL;
	int rc = synth_resource_new(&r, self, "Own", "AWS::SNS::Topic", NULL);
	rc = rc ? rc : synth_construct_set_layout_group(self, "g1");
	rc = rc ? rc : synth_resource_new(NULL, self, "A1", "AWS::SNS::Topic", NULL);
	rc = rc ? rc : synth_construct_set_layout_group(self, "g2");
	rc = rc ? rc : synth_resource_new(NULL, self, "B1", "AWS::SNS::Topic", NULL);
	rc = rc ? rc : synth_construct_set_layout_group(self, "g1");
	rc = rc ? rc : synth_resource_new(NULL, self, "A2", "AWS::SNS::Topic", NULL);
	rc = rc ? rc : synth_construct_set_layout_group(self, NULL);
	rc = rc ? rc : synth_resource_new(NULL, self, "Own2", "AWS::SNS::Topic",
					  json_pack("{s:o,s:o}", "DisplayName",
						    synth_resource_getatt(r, "TopicName"), "Other",
						    synth_resource_ref(r)));
	CHECK(synth_construct_set_layout_group(self, "") == SYNTH_EINVALID,
	      "a group needs a name");
	return rc;
}
static const synth_construct_class grouped_class = {1, "grouped", NULL, grouped_generate,
						     NULL};

/* The layout unit is internal: read it from the model through the
 * internal header (the test links the static library). */
#include "internal.h"

static void test_layout_groups(void)
{
	char *d = tmp_cwd();
	synth_backend *b = new_backend();
	synth_construct_new(NULL, b, "g", &grouped_class, NULL);
	CHECK(synth_backend_run(b) == 0, "a construct with groups synthesizes");
	size_t own = synth_backend_resource(b, "g/Own")->unit;
	size_t a1 = synth_backend_resource(b, "g/A1")->unit;
	size_t a2 = synth_backend_resource(b, "g/A2")->unit;
	size_t b1 = synth_backend_resource(b, "g/B1")->unit;
	size_t own2 = synth_backend_resource(b, "g/Own2")->unit;
	CHECK(a1 == a2, "returning to a group keeps its unit");
	CHECK(a1 != b1 && a1 != own && b1 != own, "groups are apart from each other and the "
	      "construct's own");
	CHECK(own == own2, "NULL returns to the construct's own group");
	json_t *t = root_template();
	json_t *o2 = json_object_get(by_path(t, "g/Own2"), "Properties");
	CHECK(json_object_get(json_object_get(o2, "DisplayName"), "Fn::GetAtt") &&
		      json_object_get(json_object_get(o2, "Other"), "Ref"),
	      "synth_resource_ref/_getatt resolve to Ref and Fn::GetAtt");
	json_decref(t);
	synth_backend_free(b);
	rm_tmp(d);
}

/* --- functions: statements, policy dependency, event sources ---------- */

static int binds;
static int source_bind(synth_function *fn, void *data)
{
	binds++;
	synth_resource *r = NULL;
	int rc = synth_resource_new(&r, synth_function_construct(fn), data, "AWS::SNS::Topic",
				    NULL);
	rc = rc ? rc : synth_function_depend_on_policy(fn, r);
	return rc ? rc
		  : synth_function_add_statement(
			    fn, json_pack("{s:s,s:s,s:s,s:{s:{s:s}}}", "Effect", "Allow", "Action",
					  "s3:ListBucket", "Resource", "arn:aws:s3:::b", "Condition",
					  "StringLike", "s3:prefix", "p/*"));
}
static int sources_freed;
static void source_free(void *data)
{
	sources_freed++;
	free(data);
}
static const synth_event_source test_source = {SYNTH_EVENT_SOURCE_VERSION, "test", source_bind,
					       source_free};
static const synth_event_source old_source = {0, "old", source_bind, source_free};

static void test_event_sources(void)
{
	char *d = tmp_cwd();
	write_text("functions/f/index.mjs", "export const handler = async () => 1;\n");
	synth_backend *b = new_backend();
	synth_function *fn = synth_define_function(b, "f", NULL);
	binds = sources_freed = 0;
	CHECK(synth_function_add_event_source(fn, &test_source, strdup("Hook")) == 0,
	      "a source attaches");
	char *kept = strdup("x");
	CHECK(synth_function_add_event_source(fn, &old_source, kept) == SYNTH_EINVALID,
	      "a source of an unknown version is refused");
	CHECK_HAS(synth_error_last()->message, "version 0", "naming its version");
	free(kept); /* still the caller's */
	synth_backend_free(b);
	CHECK(binds == 0 && sources_freed == 1, "an unbound source's data is freed with the "
	      "function");

	b = new_backend();
	fn = synth_define_function(b, "f", NULL);
	synth_function_add_event_source(fn, &test_source, strdup("Hook"));
	CHECK(synth_backend_run(b) == 0, "the backend runs");
	CHECK(binds == 1, "bind ran once, while the function generated");
	json_t *t = root_template();
	json_t *hook = by_path(t, "f/Hook");
	json_t *pol = by_path(t, "f/ServiceRole/DefaultPolicy");
	CHECK(hook && pol, "the source's resource is in the function's construct; the policy "
	      "exists");
	const char *plid = NULL;
	const char *k;
	json_t *v;
	json_object_foreach(json_object_get(t, "Resources"), k, v)
		if (v == pol)
			plid = k;
	json_t *dep = json_object_get(hook, "DependsOn");
	bool waits = false;
	size_t i;
	json_t *x;
	json_array_foreach(dep, i, x)
		waits |= plid && !strcmp(json_string_value(x), plid);
	CHECK(waits, "the source's resource waits for the role policy");
	json_t *st = json_object_get(
		json_object_get(json_object_get(pol, "Properties"), "PolicyDocument"), "Statement");
	bool cond = false;
	json_array_foreach(st, i, x)
		cond |= json_object_get(x, "Condition") != NULL;
	CHECK(cond, "a statement keeps its Condition");
	json_decref(t);
	synth_backend_free(b);
	rm_tmp(d);
}

/* --- linking ---------------------------------------------------------- */

static void test_link(void)
{
	char *d = tmp_cwd();
	write_text("functions/f/index.mjs", "export const handler = async () => 1;\n");
	synth_backend *b = new_backend();
	synth_function *fn = synth_define_function(b, "f", NULL);
	synth_function *g = synth_define_function(b, "g", NULL);
	synth_storage *st = synth_define_storage(b, "media-files", NULL);
	CHECK(synth_function_link(fn, synth_storage_construct(st), "read,delete") == 0,
	      "a function links to a bucket");
	CHECK(synth_function_link(fn, synth_storage_construct(st), "own") == SYNTH_EINVALID,
	      "an unknown access level is refused");
	CHECK_HAS(synth_error_last()->message, "'own' is not read", "naming it and the levels");
	CHECK(synth_function_link(fn, synth_function_construct(g), "invoke") == SYNTH_EINVALID,
	      "a construct without link is refused");
	CHECK_HAS(synth_error_last()->message, "cannot be linked", "saying so");
	synth_backend *other = new_backend();
	synth_storage *ost = synth_define_storage(other, "elsewhere", NULL);
	CHECK(synth_function_link(fn, synth_storage_construct(ost), "read") == SYNTH_EINVALID,
	      "a link to another backend's resource is refused");
	CHECK_HAS(synth_error_last()->message, "another backend", "saying so");
	synth_backend_free(other);
	synth_backend_free(b);

	b = new_backend();
	fn = synth_define_function(b, "f", NULL);
	st = synth_define_storage(b, "media-files", NULL);
	synth_function_link(fn, synth_storage_construct(st), "read,delete");
	CHECK(synth_backend_run(b) == 0, "the linked backend runs");
	json_t *t = root_template();
	json_t *fprops = json_object_get(by_path(t, "f/Resource"), "Properties");
	json_t *vars = json_object_get(json_object_get(fprops, "Environment"), "Variables");
	CHECK(json_object_get(json_object_get(vars, "SYNTH_MEDIA_FILES_NAME"), "Ref") &&
		      json_object_get(json_object_get(vars, "SYNTH_MEDIA_FILES_ARN"), "Fn::GetAtt"),
	      "the bucket's name and ARN reach the function as SYNTH_MEDIA_FILES_*");
	json_t *pprops = json_object_get(by_path(t, "f/ServiceRole/DefaultPolicy"), "Properties");
	json_t *sts = json_object_get(json_object_get(pprops, "PolicyDocument"), "Statement");
	char *text = json_dumps(sts, JSON_SORT_KEYS);
	CHECK(text && strstr(text, "s3:GetObject") && strstr(text, "s3:DeleteObject") &&
		      strstr(text, "s3:ListBucket") && !strstr(text, "s3:PutObject") &&
		      !strstr(text, "s3:*"),
	      "exactly the read and delete actions, never s3:*");
	size_t k;
	json_t *one;
	bool star = false;
	json_array_foreach(sts, k, one)
		star |= json_is_string(json_object_get(one, "Resource")) &&
			!strcmp(json_string_value(json_object_get(one, "Resource")), "*");
	CHECK(!star && json_array_size(sts) > 0, "never on Resource \"*\"");
	free(text);
	json_decref(t);
	synth_backend_free(b);
	rm_tmp(d);
}

static void test_secret_link(void)
{
	char *d = tmp_cwd();
	write_text("functions/f/index.mjs", "export const handler = async () => 1;\n");
	synth_backend *b = new_backend();
	synth_function *fn = synth_define_function(b, "f", NULL);
	synth_secret *sec = synth_define_secret(b, "stripe-key");
	CHECK(synth_define_secret(b, "bad name!") == NULL &&
		      strstr(synth_error_last()->message, "letters, digits"),
	      "a bad secret name is refused, saying which characters are allowed");
	synth_backend_free(b);

	b = new_backend();
	fn = synth_define_function(b, "f", NULL);
	sec = synth_define_secret(b, "stripe-key");
	CHECK(synth_function_link(fn, synth_secret_construct(sec), "write") == SYNTH_EINVALID,
	      "a secret has no write level");
	synth_backend_free(b);

	b = new_backend();
	fn = synth_define_function(b, "f", NULL);
	sec = synth_define_secret(b, "stripe-key");
	CHECK(synth_function_link(fn, synth_secret_construct(sec), "read") == 0,
	      "a function links to a secret");
	CHECK(synth_backend_run(b) == 0, "the backend runs");
	json_t *t = root_template();
	json_t *fprops = json_object_get(by_path(t, "f/Resource"), "Properties");
	json_t *vars = json_object_get(json_object_get(fprops, "Environment"), "Variables");
	const char *cfg = json_string_value(json_object_get(vars, "SYNTH_SSM_ENV_CONFIG"));
	CHECK(cfg && strstr(cfg, "\"SYNTH_STRIPE_KEY_VALUE\"") &&
		      strstr(cfg, "/stripe-key\""),
	      "the secret's paths reach the function as SYNTH_STRIPE_KEY_VALUE");
	json_t *pprops = json_object_get(by_path(t, "f/ServiceRole/DefaultPolicy"), "Properties");
	json_t *sts = json_object_get(json_object_get(pprops, "PolicyDocument"), "Statement");
	json_t *st0 = json_array_get(sts, 0);
	CHECK(json_array_size(sts) == 1 &&
		      !strcmp(json_string_value(json_array_get(json_object_get(st0, "Action"), 0)),
			      "ssm:GetParameters") &&
		      json_array_size(json_object_get(st0, "Resource")) == 2,
	      "ssm:GetParameters on exactly the secret's two parameters");
	json_decref(t);
	synth_backend_free(b);
	rm_tmp(d);
}

int main(void)
{
	test_secret_link();
	test_link();
	test_find_and_lookup();
	test_iteration_and_state();
	test_fail_and_versions();
	test_layout_groups();
	test_event_sources();
	return check_failed ? 1 : 0;
}

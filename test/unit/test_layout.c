/* Stack layout: no DependsOn that a token implies (cfn-lint W3005), and
 * the placement memory: a resource stays in the stack that held it. */
#include "check.h"
#include "helpers.h"

/* "deps": topic A, topic C, and a queue that reads A's name and also
 * depends explicitly on A (implied: left out) and on C (kept). */
static int deps_generate(synth_construct *self, void *state)
{
	(void)state;
	synth_resource *a, *c, *q;
	int rc = synth_resource_new(&a, self, "A", "AWS::SNS::Topic", NULL);
	if (rc == 0)
		rc = synth_resource_new(&c, self, "C", "AWS::SNS::Topic", NULL);
	if (rc == 0)
		rc = synth_resource_new(&q, self, "Q", "AWS::SQS::Queue",
					json_pack("{s:o}", "QueueName",
						  synth_getatt("deps/A", "TopicName")));
	if (rc == 0)
		rc = synth_resource_add_dependency(q, a);
	if (rc == 0)
		rc = synth_resource_add_dependency(q, c);
	return rc;
}

static void test_no_redundant_depends_on(void)
{
	static const synth_construct_class cls = {SYNTH_CONSTRUCT_CLASS_VERSION, "deps", NULL,
						  deps_generate, NULL};
	char *d = tmp_cwd();
	synth_backend *b = new_backend();
	synth_construct *c;
	CHECK(synth_construct_new(&c, b, "deps", &cls, NULL) == 0, "a construct");
	CHECK(synth_backend_run(b) == 0, "run (%s)", synth_error_last()->message);
	json_t *t = root_template();
	char *clid = synth__logical_id("deps/C");
	char *dep = json_dumps(json_object_get(by_path(t, "deps/Q"), "DependsOn"), JSON_COMPACT);
	char want[96];
	snprintf(want, sizeof want, "[\"%s\"]", clid);
	CHECK_STR(dep ? dep : "(none)", want, "DependsOn keeps C only: A is read by GetAtt");
	free(dep);
	free(clid);
	json_decref(t);
	synth_backend_free(b);
	rm_tmp(d);
}

/* Runs a backend of topics t0000.. (N of them but those in [SKIP_LO,
 * SKIP_HI), each reading the previous one's name) after FIRST topics
 * "new000.." that nothing reads; returns the stack file of every
 * resource: logical ID -> file name. */
static json_t *run_topics_but(int first, int n, int skip_lo, int skip_hi)
{
	synth_backend *b = new_backend();
	char name[32], prev[32];
	for (int i = 0; i < first; i++) {
		snprintf(name, sizeof name, "new%03d", i);
		synth_backend_add_resource(b, name, "AWS::SNS::Topic", NULL);
	}
	for (int i = 0; i < n; i++) {
		if (i >= skip_lo && i < skip_hi)
			continue;
		snprintf(name, sizeof name, "t%04d", i);
		synth_backend_add_resource(b, name, "AWS::SNS::Topic",
					   i ? json_pack("{s:o}", "DisplayName",
							 synth_getatt(prev, "TopicName"))
					     : NULL);
		memcpy(prev, name, sizeof prev);
	}
	int rc = synth_backend_run(b);
	CHECK(rc == 0, "%d + %d topics synthesize (%s)", first, n, synth_error_last()->message);
	synth_backend_free(b);
	json_t *where = json_object();
	glob_t g;
	glob("out/*.template.json", 0, NULL, &g);
	for (size_t i = 0; i < g.gl_pathc; i++) {
		json_t *t = json_load_file(g.gl_pathv[i], 0, NULL);
		const char *k;
		json_t *r;
		json_object_foreach(json_object_get(t, "Resources"), k, r)
			if (strcmp(json_string_value(json_object_get(r, "Type")),
				   "AWS::CloudFormation::Stack"))
				json_object_set_new(where, k, json_string(g.gl_pathv[i]));
		json_decref(t);
	}
	globfree(&g);
	return where;
}

static json_t *run_topics(int first, int n)
{
	return run_topics_but(first, n, 0, 0);
}

static size_t moves(json_t *before, json_t *after, size_t *common)
{
	size_t n = 0;
	const char *k;
	json_t *v;
	*common = 0;
	json_object_foreach(before, k, v) {
		json_t *w = json_object_get(after, k);
		if (!w)
			continue;
		(*common)++;
		n += !json_equal(v, w);
	}
	return n;
}

static void test_memory(void)
{
	char *d = tmp_cwd();
	json_t *first = run_topics(0, 1200);
	CHECK(count_files("out/*.nested.template.json") >= 2, "1,200 topics: nested stacks");
	CHECK(count_files("out/synth-layout.txt") == 1, "the assembly keeps its layout");
	/* 300 topics before the others: without the memory they would push
	 * every later one towards later stacks. */
	json_t *second = run_topics(300, 1200);
	size_t common, n = moves(first, second, &common);
	CHECK(common == 1200 && n == 0, "300 topics added first: none of the 1,200 moves (%zu of %zu)",
	      n, common);
	CHECK(json_object_size(second) == 1500, "all 1,500 placed (%zu)", json_object_size(second));
	/* Without the memory (another output directory) they do move. */
	rename("out", "out.kept");
	json_t *fresh = run_topics(300, 1200);
	n = moves(first, fresh, &common);
	CHECK(n > 0, "without the memory the same backend is laid out anew (%zu moves)", n);
	json_decref(first);
	json_decref(second);
	json_decref(fresh);
	synth__rm_rf("out.kept");
	rm_tmp(d);
}

/* The stack files of WHERE's values, sorted, one per line. */
static char *stack_files(json_t *where)
{
	json_t *seen = json_object();
	const char *k;
	json_t *v;
	json_object_foreach(where, k, v)
		json_object_set(seen, json_string_value(v), json_true());
	char *s = json_dumps(seen, JSON_SORT_KEYS | JSON_COMPACT);
	json_decref(seen);
	return s;
}

/* A nested stack whose resources are all gone is removed; the others keep
 * their names and their resources. */
static void test_empty_stack_removed(void)
{
	char *d = tmp_cwd();
	json_t *first = run_topics(0, 1800);
	size_t nested = count_files("out/*.nested.template.json");
	CHECK(nested >= 3, "1,800 topics: 3 or more nested stacks (%zu)", nested);
	/* The topics of the stack that holds t0900 (the middle one). */
	char lid[64];
	char *l = synth__logical_id("t0900/Resource");
	snprintf(lid, sizeof lid, "%s", l);
	free(l);
	const char *mid = json_string_value(json_object_get(first, lid));
	int lo = -1, hi = -1;
	for (int i = 0; i < 1800 && mid; i++) {
		char p[32];
		snprintf(p, sizeof p, "t%04d/Resource", i);
		char *x = synth__logical_id(p);
		const char *f = json_string_value(json_object_get(first, x));
		free(x);
		if (f && !strcmp(f, mid)) {
			if (lo < 0)
				lo = i;
			hi = i + 1;
		}
	}
	CHECK(mid && strstr(mid, ".Nested") && lo > 0 && hi > lo, "t0900 is in a nested stack "
	      "(%s: t%04d..t%04d)", mid ? mid : "?", lo, hi - 1);
	char *mid_copy = strdup(mid ? mid : "");
	json_t *second = run_topics_but(0, 1800, lo, hi);
	size_t common, n = moves(first, second, &common);
	CHECK(n == 0 && common == (size_t)(1800 - (hi - lo)), "%d topics removed: the others stay "
	      "(%zu moves of %zu)", hi - lo, n, common);
	CHECK(count_files("out/*.nested.template.json") == nested - 1,
	      "the emptied nested stack is gone (%zu of %zu left)",
	      count_files("out/*.nested.template.json"), nested);
	CHECK(count_files(mid_copy) == 0, "%s is not written", mid_copy);
	char *before = stack_files(first), *after = stack_files(second);
	CHECK(strlen(after) < strlen(before), "the other stacks keep their names (%s)", after);
	free(before);
	free(after);
	free(mid_copy);
	json_decref(first);
	json_decref(second);
	rm_tmp(d);
}

int main(void)
{
	test_no_redundant_depends_on();
	test_memory();
	test_empty_stack_removed();
	return check_failed ? 1 : 0;
}

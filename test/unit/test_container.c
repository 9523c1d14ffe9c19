/* The construct container: registration, traversal, caching, cycles. */
#include "check.h"
#include "helpers.h"

typedef struct node {
	const char *needs[4];  /* tokens looked up while generating */
	int generated;         /* times generate() ran */
	char order[64];        /* shared log of generation order */
	char *log;
} node;

static int node_generate(synth_construct *self, void *state)
{
	node *n = state;
	for (int i = 0; n->needs[i]; i++) {
		synth_construct *dep;
		int rc = synth_construct_lookup(&dep, self, n->needs[i]);
		if (rc < 0)
			return rc;
		CHECK(dep != NULL, "%s: lookup of '%s' returns the provider",
		      synth_construct_name(self), n->needs[i]);
	}
	n->generated++;
	strcat(n->log, synth_construct_name(self));
	strcat(n->log, " ");
	return synth_resource_new(NULL, self, "Resource", "AWS::SNS::Topic", NULL);
}

static const synth_construct_class provides_a = {1, "a", "tok-a", node_generate, NULL};
static const synth_construct_class provides_b = {1, "b", "tok-b", node_generate, NULL};
static const synth_construct_class provides_c = {1, "c", "tok-c", node_generate, NULL};
static const synth_construct_class provides_b2 = {1, "b2", "tok-b", node_generate, NULL};
static const synth_construct_class plain = {1, "plain", NULL, node_generate, NULL};

static char logbuf[256];

static void test_depth_first_and_once(void)
{
	char *d = tmp_cwd();
	synth_backend *b = new_backend();
	/* a needs b and c; c needs b; d needs a. Defined in order a, d, c, b. */
	node a = {{"tok-b", "tok-c"}, 0, "", logbuf}, c = {{"tok-b"}, 0, "", logbuf};
	node bn = {{NULL}, 0, "", logbuf}, dn = {{"tok-a", "tok-b"}, 0, "", logbuf};
	logbuf[0] = '\0';
	CHECK(synth_construct_new(NULL, b, "a", &provides_a, &a) == 0, "register a");
	CHECK(synth_construct_new(NULL, b, "d", &plain, &dn) == 0, "register d");
	CHECK(synth_construct_new(NULL, b, "c", &provides_c, &c) == 0, "register c");
	CHECK(synth_construct_new(NULL, b, "b", &provides_b, &bn) == 0, "register b");
	int rc = synth_backend_run(b);
	CHECK(rc == 0, "run succeeds (%s)", synth_error_last()->message);
	CHECK(a.generated == 1 && bn.generated == 1 && c.generated == 1 && dn.generated == 1,
	      "every factory generated exactly once (a=%d b=%d c=%d d=%d)", a.generated,
	      bn.generated, c.generated, dn.generated);
	CHECK_STR(logbuf, "b c a d ", "dependencies generated first, depth-first");
	synth_backend_free(b);
	rm_tmp(d);
}

static void test_cycle_names_every_step(void)
{
	char *d = tmp_cwd();
	synth_backend *b = new_backend();
	node a = {{"tok-b"}, 0, "", logbuf}, bn = {{"tok-c"}, 0, "", logbuf},
	     c = {{"tok-a"}, 0, "", logbuf};
	synth_construct_new(NULL, b, "a", &provides_a, &a);
	synth_construct_new(NULL, b, "b", &provides_b, &bn);
	synth_construct_new(NULL, b, "c", &provides_c, &c);
	int rc = synth_backend_run(b);
	CHECK(rc == SYNTH_ECYCLE, "a cycle fails with SYNTH_ECYCLE (%d)", rc);
	CHECK_HAS(synth_error_last()->message, "a (a) -> b (b) -> c (c) -> a (a)",
		  "the cycle names every step");
	CHECK(access("out", F_OK) != 0, "no assembly written");
	CHECK(count_files("out.tmp.*") == 0, "no staging left behind");
	synth_backend_free(b);
	rm_tmp(d);
}

static void test_self_cycle(void)
{
	char *d = tmp_cwd();
	synth_backend *b = new_backend();
	node a = {{"tok-a"}, 0, "", logbuf};
	synth_construct_new(NULL, b, "a", &provides_a, &a);
	CHECK(synth_backend_run(b) == SYNTH_ECYCLE, "a factory needing itself is a cycle");
	CHECK_HAS(synth_error_last()->message, "a (a) -> a (a)", "named");
	synth_backend_free(b);
	rm_tmp(d);
}

static void test_tokens(void)
{
	char *d = tmp_cwd();
	synth_backend *b = new_backend();
	node a = {{"tok-b"}, 0, "", logbuf}, b1 = {{NULL}, 0, "", logbuf},
	     b2 = {{NULL}, 0, "", logbuf};
	synth_construct_new(NULL, b, "a", &provides_a, &a);
	synth_construct_new(NULL, b, "first", &provides_b, &b1);
	synth_construct_new(NULL, b, "second", &provides_b2, &b2);
	CHECK(synth_backend_run(b) == SYNTH_EEXISTS, "two providers of one token fail");
	CHECK_HAS(synth_error_last()->message, "second: provides 'tok-b', which 'first'",
		  "the message names both providers");
	CHECK(a.generated == 0, "nothing is generated when registration fails");
	synth_backend_free(b);

	b = new_backend();
	node x = {{"tok-nobody"}, 0, "", logbuf};
	synth_construct_new(NULL, b, "x", &plain, &x);
	CHECK(synth_backend_run(b) == SYNTH_ENOTFOUND, "a missing token fails");
	CHECK_HAS(synth_error_last()->message, "x: needs 'tok-nobody', but no construct provides it",
		  "the message names the construct and the token");
	synth_backend_free(b);
	rm_tmp(d);
}

static void test_names(void)
{
	char *d = tmp_cwd();
	synth_backend *b = new_backend();
	node a = {{NULL}, 0, "", logbuf}, a2 = {{NULL}, 0, "", logbuf};
	CHECK(synth_construct_new(NULL, b, "same", &plain, &a) == 0, "first name ok");
	CHECK(synth_construct_new(NULL, b, "same", &plain, &a2) == SYNTH_EEXISTS,
	      "second construct with the same name fails");
	CHECK_HAS(synth_error_last()->message, "same: two constructs have this name",
		  "message names the duplicate");
	CHECK(synth_backend_run(b) == SYNTH_EEXISTS, "the error is sticky: run fails too");
	CHECK(access("out", F_OK) != 0, "no assembly written");
	synth_backend_free(b);

	b = new_backend();
	CHECK(synth_construct_new(NULL, b, "bad name!", &plain, &a) == SYNTH_EINVALID,
	      "invalid names are refused");
	synth_backend_free(b);
	rm_tmp(d);
}

int main(void)
{
	test_depth_first_and_once();
	test_cycle_names_every_step();
	test_self_cycle();
	test_tokens();
	test_names();
	return check_failed ? 1 : 0;
}

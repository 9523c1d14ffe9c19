/* Lambda's rules (synth/lambda.h): the runtime table generated from
 * cfn-lint's data, runtime states by date, the environment size Lambda
 * measures, and define_function refusing what Lambda would refuse. */
#define _GNU_SOURCE
#include <time.h>
#include "check.h"
#include "helpers.h"

static void test_table(void)
{
	size_t n = 0;
	const synth_lambda_runtime *prev = NULL, *rt;
	bool sorted = true, dated = true;
	for (; (rt = synth_lambda_runtime_at(n)); n++) {
		sorted &= !prev || strcmp(prev->name, rt->name) < 0;
		/* A lifecycle has all three dates or none. */
		dated &= !rt->deprecated == !rt->create_block && !rt->create_block == !rt->update_block;
		CHECK(synth_lambda_runtime_info(rt->name) == rt, "lookup of %s finds its row", rt->name);
		if (rt->successor)
			CHECK(synth_lambda_runtime_info(rt->successor) != NULL,
			      "%s's successor %s is a runtime", rt->name, rt->successor);
		prev = rt;
	}
	CHECK(n > 30, "the table has the runtimes (%zu)", n);
	CHECK(sorted, "sorted by name, no duplicates (binary search)");
	CHECK(dated, "every lifecycle has its three dates");
	CHECK(!synth_lambda_runtime_info("dotnet9"), "dotnet9 is not a Lambda runtime");
	CHECK(!synth_lambda_runtime_info(NULL) && !synth_lambda_runtime_info(""), "NULL, empty");
	CHECK(synth_lambda_runtime_info("dotnet10") != NULL, "dotnet10 is one");
	CHECK(synth_lambda_runtime_info("nodejs24.x") != NULL, "nodejs24.x is one");
}

/* Every transition of every dated runtime, on the day before and the day. */
static void day_before(const char *day, char out[11])
{
	struct tm tm = {0};
	strptime(day, "%Y-%m-%d", &tm);
	tm.tm_mday -= 1;
	tm.tm_hour = 12;
	time_t t = timegm(&tm);
	gmtime_r(&t, &tm);
	strftime(out, 11, "%Y-%m-%d", &tm);
}

static void test_states(void)
{
	const synth_lambda_runtime *rt;
	int bad = 0;
	for (size_t i = 0; (rt = synth_lambda_runtime_at(i)); i++) {
		if (!rt->deprecated) {
			bad += synth_lambda_runtime_state(rt, "2999-01-01") != SYNTH_RUNTIME_SUPPORTED;
			continue;
		}
		char before[11];
		day_before(rt->update_block, before);
		bad += synth_lambda_runtime_state(rt, rt->update_block) != SYNTH_RUNTIME_UPDATE_BLOCKED;
		bad += synth_lambda_runtime_state(rt, before) == SYNTH_RUNTIME_UPDATE_BLOCKED;
		if (strcmp(rt->create_block, rt->update_block) < 0) {
			day_before(rt->create_block, before);
			bad += synth_lambda_runtime_state(rt, rt->create_block) !=
			       SYNTH_RUNTIME_CREATE_BLOCKED;
			bad += synth_lambda_runtime_state(rt, before) >= SYNTH_RUNTIME_CREATE_BLOCKED;
		}
		if (strcmp(rt->deprecated, rt->create_block) < 0) {
			day_before(rt->deprecated, before);
			bad += synth_lambda_runtime_state(rt, rt->deprecated) != SYNTH_RUNTIME_DEPRECATED;
			bad += synth_lambda_runtime_state(rt, before) != SYNTH_RUNTIME_SUPPORTED;
		}
	}
	CHECK(bad == 0, "every runtime changes state on its dates (%d wrong)", bad);
	rt = synth_lambda_runtime_info("dotnet8");
	CHECK(rt && synth_lambda_runtime_state(rt, "2026-11-09") == SYNTH_RUNTIME_SUPPORTED &&
		      synth_lambda_runtime_state(rt, "2026-11-10") == SYNTH_RUNTIME_DEPRECATED &&
		      synth_lambda_runtime_state(rt, "2026-12-10") == SYNTH_RUNTIME_CREATE_BLOCKED &&
		      synth_lambda_runtime_state(rt, "2027-01-11") == SYNTH_RUNTIME_UPDATE_BLOCKED,
	      "dotnet8: supported, deprecated, create-blocked, update-blocked");
	CHECK_STR(rt ? rt->successor : "", "dotnet10",
		  "a successor that is no runtime (cfn-lint's dotnet9) becomes its family's newest");
}

static void test_check(void)
{
	CHECK(synth_runtime_check("dotnet10") == 0, "dotnet10 accepted");
	CHECK(synth_runtime_check("dotnet9") == SYNTH_EINVALID, "dotnet9 refused");
	CHECK_HAS(synth_error_last()->message, "unknown runtime 'dotnet9'", "says unknown");
	CHECK_HAS(synth_error_last()->message, "dotnet10", "lists what can be created");
	CHECK(synth_runtime_check("") == SYNTH_EINVALID, "empty refused");
	/* Whatever today is, the check follows the states. */
	const synth_lambda_runtime *rt;
	int bad = 0;
	for (size_t i = 0; (rt = synth_lambda_runtime_at(i)); i++) {
		bool creatable = synth_lambda_runtime_state(rt, NULL) < SYNTH_RUNTIME_CREATE_BLOCKED;
		int rc = synth_runtime_check(rt->name);
		bad += creatable ? rc != 0 : rc != SYNTH_EINVALID;
		if (!creatable && rt->successor && !strstr(synth_error_last()->message, rt->successor))
			bad++;
	}
	CHECK(bad == 0, "synth_runtime_check agrees with the states today (%d wrong)", bad);
}

static void test_env_size(void)
{
	json_t *v = json_object();
	CHECK(synth_lambda_environment_size(v) == 2, "{} is 2 bytes");
	json_object_set_new(v, "AB", json_string("xyz"));
	CHECK(synth_lambda_environment_size(v) == 12, "{\"AB\":\"xyz\"} is 12 bytes");
	json_object_set_new(v, "CD", json_string("a\"b\\c\n\001"));
	/* ,"CD":"a\"b\\c\n\u0001" = 1 + 5 + 2 + 1+2+1+2+1+2+6 */
	CHECK(synth_lambda_environment_size(v) == 12 + 1 + 5 + 2 + 15, "escapes counted (%zu)",
	      synth_lambda_environment_size(v));
	json_object_set_new(v, "EF", json_string("\xc3\xa9"));
	CHECK(synth_lambda_environment_size(v) == 35 + 1 + 5 + 4, "UTF-8 counted in bytes (%zu)",
	      synth_lambda_environment_size(v));
	json_object_set_new(v, "GH", json_pack("{s:s}", "Ref", "X"));
	CHECK(synth_lambda_environment_size(v) == 45 + 1 + 5 + 2, "a token counts as \"\"");
	json_decref(v);
}

/* A value of N 'x'. */
static char *xs(size_t n)
{
	char *s = malloc(n + 1);
	memset(s, 'x', n);
	s[n] = '\0';
	return s;
}

static void test_define_env(void)
{
	char *d = tmp_cwd();
	write_text("functions/f/index.mjs", "export const handler = async () => 1;\n");
	/* {"BIG":"x..."}: 10 bytes of frame; 4086 x is exactly 4096. */
	char *fits = xs(4086), *over = xs(4087);
	synth_backend *b = new_backend();
	CHECK(synth_define_function(b, "f", &(synth_function_props){
		      .environment = (const synth_env[]){{.name = "BIG", .value = fits}, {0}}}),
	      "an environment of exactly 4096 bytes is accepted");
	CHECK(synth_backend_run(b) == 0, "and synthesized (%s)", synth_error_last()->message);
	synth_backend_free(b);

	b = new_backend();
	CHECK(!synth_define_function(b, "f", &(synth_function_props){
		      .environment = (const synth_env[]){{.name = "BIG", .value = over}, {0}}}),
	      "4097 bytes refused at define time");
	CHECK(synth_error_last()->code == SYNTH_ELIMIT, "SYNTH_ELIMIT");
	CHECK_HAS(synth_error_last()->message, "f: environment is 4097 bytes", "names the function");
	CHECK_HAS(synth_error_last()->message, "over Lambda's 4096", "and the limit");
	synth_backend_free(b);

	/* Added one by one, before and after generation. */
	b = new_backend();
	synth_function *f = synth_define_function(b, "f", NULL);
	CHECK(synth_function_add_environment(f, "BIG", json_string(fits)) == 0, "4096 added");
	CHECK(synth_function_add_environment(f, "MORE", json_string("1")) == SYNTH_ELIMIT,
	      "one more variable refused");
	CHECK_HAS(synth_error_last()->message, "f: environment is", "names the function");
	CHECK_HAS(synth_error_last()->message, "(with MORE)", "and the variable that crossed");
	synth_backend_free(b);

	/* A secret's paths (SYNTH_SSM_ENV_CONFIG) count: refused at generation. */
	b = new_backend();
	char *most = xs(4000);
	f = synth_define_function(b, "f", &(synth_function_props){
		.environment = (const synth_env[]){{.name = "BIG", .value = most},
						   {.name = "PW", .secret = "PW"}, {0}}});
	CHECK(f != NULL, "defined (the secret's paths are added later)");
	CHECK(synth_backend_run(b) == SYNTH_ELIMIT, "the run refuses it");
	CHECK_HAS(synth_error_last()->message, "(with SYNTH_SSM_ENV_CONFIG)",
		  "names the secret configuration");
	synth_backend_free(b);
	free(most);
	free(fits);
	free(over);
	rm_tmp(d);
}

static void test_define_runtime(void)
{
	char *d = tmp_cwd();
	write_text("functions/f/index.mjs", "export const handler = async () => 1;\n");
	synth_backend *b = new_backend();
	CHECK(!synth_define_function(b, "f", &(synth_function_props){.runtime = "dotnet9"}),
	      "dotnet9 refused");
	CHECK_HAS(synth_error_last()->message, "f: unknown runtime 'dotnet9'", "names the function");
	synth_backend_free(b);
	b = new_backend();
	CHECK(synth_define_function(b, "f", &(synth_function_props){.runtime = "dotnet10",
								     .handler = "F::F.F::H"}),
	      "dotnet10 accepted (%s)", synth_error_last()->message);
	CHECK(synth_backend_run(b) == 0, "and synthesized");
	synth_backend_free(b);
	rm_tmp(d);
}

int main(void)
{
	test_table();
	test_states();
	test_check();
	test_env_size();
	test_define_env();
	test_define_runtime();
	return check_failed ? 1 : 0;
}

/* Backend identifier: stack names, sanitizing, secrets paths, context. */
#include <regex.h>
#include "check.h"
#include "helpers.h"

static bool valid_stack_name(const char *s)
{
	regex_t re;
	regcomp(&re, "^[A-Za-z][A-Za-z0-9-]*$", REG_EXTENDED | REG_NOSUB);
	bool ok = s && strlen(s) <= 128 && regexec(&re, s, 0, NULL, 0) == 0;
	regfree(&re);
	return ok;
}

int main(void)
{
	char *a = NULL, *b = NULL, *c = NULL;
	CHECK(synth_stack_name(&a, "myapp", "feature/x", SYNTH_BACKEND_BRANCH) == 0, "branch name");
	CHECK(!strncmp(a, "synth-myapp-feature-x-branch-", 29), "feature/x sanitizes to feature-x (%s)", a);
	CHECK(valid_stack_name(a), "valid stack name (%s)", a);
	CHECK(synth_stack_name(&b, "myapp", "feature-x", SYNTH_BACKEND_BRANCH) == 0, "second");
	CHECK(strcmp(a, b) != 0, "names that sanitize alike still differ (%s vs %s)", a, b);
	CHECK(synth_stack_name(&c, "myapp", "feature/x", SYNTH_BACKEND_BRANCH) == 0 && !strcmp(a, c),
	      "stable: the same input gives the same name");
	free(a), free(b), free(c);

	CHECK(synth_stack_name(&a, "myapp", "alice", SYNTH_BACKEND_SANDBOX) == 0 &&
		      strstr(a, "-alice-sandbox-"), "sandbox type in the name (%s)", a);
	CHECK(synth_stack_name(&b, "myapp", "alice", SYNTH_BACKEND_BRANCH) == 0 && strcmp(a, b),
	      "branch and sandbox of one name differ");
	free(a), free(b);

	char longname[400];
	memset(longname, 'z', sizeof longname - 1);
	longname[sizeof longname - 1] = '\0';
	longname[10] = '/';
	CHECK(synth_stack_name(&a, longname, longname, SYNTH_BACKEND_BRANCH) == 0, "long names");
	CHECK(valid_stack_name(a) && strlen(a) <= 128, "truncated to 128 (%zu)", strlen(a));
	free(a);
	CHECK(synth_stack_name(&a, "app", "--x--", SYNTH_BACKEND_BRANCH) == 0 &&
		      valid_stack_name(a) && strstr(a, "-x-branch-"),
	      "leading/trailing dashes trimmed (%s)", a);
	free(a);
	CHECK(synth_stack_name(&a, "app", "ü/日本", SYNTH_BACKEND_BRANCH) == SYNTH_EINVALID,
	      "a name with no letter or digit is refused");
	CHECK_HAS(synth_error_last()->message, "has no letter or digit", "message says why");
	CHECK(synth_stack_name(&a, "app", "", SYNTH_BACKEND_BRANCH) == SYNTH_EINVALID && !a,
	      "empty branch name is an error");
	CHECK_HAS(synth_error_last()->message, "branch name is empty", "message");
	CHECK(synth_stack_name(&a, "", "main", SYNTH_BACKEND_BRANCH) == SYNTH_EINVALID,
	      "empty namespace is an error");

	/* Context: CDK_CONTEXT_JSON, then --context overrides. */
	setenv("CDK_CONTEXT_JSON", "{\"synth:namespace\":\"shop\",\"synth:type\":\"branch\","
				   "\"synth:name\":\"dev\"}", 1);
	unsetenv("CDK_OUTDIR");
	synth_backend *be = NULL;
	char *argv[] = {"x", "--context", "synth:name=release/2", NULL};
	CHECK(synth_backend_new(&be, 3, argv) == 0, "backend from context");
	CHECK_STR(synth_backend_namespace(be), "shop", "namespace from CDK_CONTEXT_JSON");
	CHECK_STR(synth_backend_name(be), "release/2", "--context overrides the environment");
	CHECK(synth_backend_type_of(be) == SYNTH_BACKEND_BRANCH, "type branch");
	CHECK(!strncmp(synth_backend_stack_name(be), "synth-shop-release-2-branch-", 28),
	      "stack name (%s)", synth_backend_stack_name(be));
	char *p = NULL, *s = NULL;
	CHECK(synth_secret_path(&p, be, "API_KEY") == 0, "secret path");
	CHECK_STR(p, "/synth/shop/branch/release-2/API_KEY", "secret under the backend's path");
	CHECK(synth_secret_shared_path(&s, be, "API_KEY") == 0, "shared path");
	CHECK_STR(s, "/synth/shop/shared/API_KEY", "app-wide fallback path");
	free(p), free(s);
	CHECK(synth_secret_path(&p, be, "bad name") == SYNTH_EINVALID, "bad secret name refused");
	synth_backend_free(be);

	setenv("CDK_CONTEXT_JSON", "{\"synth:type\":\"branch\",\"synth:name\":\"\"}", 1);
	CHECK(synth_backend_new(&be, 0, NULL) == SYNTH_EINVALID && !be,
	      "empty branch name in the context is an error");
	CHECK_HAS(synth_error_last()->message, "branch name is empty", "says so");
	setenv("CDK_CONTEXT_JSON", "{\"synth:type\":\"tree\"}", 1);
	CHECK(synth_backend_new(&be, 0, NULL) == SYNTH_EINVALID, "unknown type refused");
	CHECK_HAS(synth_error_last()->message, "'tree' is neither 'branch' nor 'sandbox'", "says so");
	setenv("CDK_CONTEXT_JSON", "not json", 1);
	CHECK(synth_backend_new(&be, 0, NULL) == SYNTH_EINVALID, "bad CDK_CONTEXT_JSON refused");
	unsetenv("CDK_CONTEXT_JSON");
	setenv("USER", "bob", 1);
	CHECK(synth_backend_new(&be, 0, NULL) == 0 && be, "defaults");
	CHECK(synth_backend_type_of(be) == SYNTH_BACKEND_SANDBOX && !strcmp(synth_backend_name(be), "bob"),
	      "default: a sandbox named after the user");
	synth_backend_free(be);
	return check_failed ? 1 : 0;
}

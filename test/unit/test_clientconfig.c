/*
 * The client configuration (amplify_outputs.json) from stack outputs:
 * each category alone and together, JSON inside output strings, the
 * describe-stacks list shape, errors naming the category and the output,
 * atomic and deterministic writing. Fixtures: test/clientconfig/.
 *
 * Modes for test/cli/clientconfig.sh:
 *   test_clientconfig --write OUT OUTPUTS_FILE [TEMPLATE]
 *       builds from the files and writes OUT (exit 1 and the message on error)
 *   CLIENTCONFIG_DUMP=DIR test_clientconfig
 *       runs the tests and also writes every configuration they build into
 *       DIR, so the schema check covers each of them.
 */
#include <signal.h>
#include <sys/resource.h>
#include <dirent.h>
#include "check.h"
#include "helpers.h"
#include "clientconfig.h"

static char fixtures[4096];
static const char *dump_dir;
static int ndumped;

/* --- helpers ------------------------------------------------------------ */

static json_t *fixture(const char *name)
{
	char path[4200];
	snprintf(path, sizeof path, "%s/%s", fixtures, name);
	json_error_t err;
	json_t *j = json_load_file(path, JSON_REJECT_DUPLICATES, &err);
	if (!j) {
		printf("# cannot load %s: %s\n", path, err.text);
		abort();
	}
	return j;
}

static char *fixture_path(const char *name)
{
	return synth_asprintf("%s/%s", fixtures, name);
}

/* Writes CFG into the dump directory as NAME.json (dump mode only). */
static void dump(const char *name, json_t *cfg)
{
	if (!dump_dir || !cfg)
		return;
	char *p = synth_asprintf("%s/%s.json", dump_dir, name);
	if (synth__clientconfig_write(p, cfg) < 0) {
		printf("not ok - dump %s: %s\n", p, synth_error_last()->message);
		check_failed++;
	} else {
		ndumped++;
	}
	free(p);
}

/* The todo fixture's inputs: metadata and outputs (new references). */
static void todo_inputs(json_t **meta, json_t **outs)
{
	json_t *doc = fixture("todo.outputs.json");
	*meta = json_incref(json_object_get(doc, "metadata"));
	*outs = json_incref(json_object_get(doc, "outputs"));
	json_decref(doc);
}

/* Builds from the todo fixture after EDIT changed its inputs; returns the
 * code, *cfg the result (or NULL). */
typedef void (*edit_fn)(json_t *meta, json_t *outs);
static int build_edited(json_t **cfg, edit_fn edit, const char *region)
{
	json_t *meta, *outs;
	todo_inputs(&meta, &outs);
	if (edit)
		edit(meta, outs);
	int rc = synth__clientconfig_build(cfg, meta, outs, region);
	json_decref(meta);
	json_decref(outs);
	return rc;
}

/* The message of a build whose inputs EDIT broke (NULL if it succeeded). */
static const char *build_error(edit_fn edit, const char *region)
{
	json_t *cfg = NULL;
	int rc = build_edited(&cfg, edit, region);
	json_decref(cfg);
	return rc < 0 ? synth_error_last()->message : NULL;
}

static void set_out(json_t *outs, const char *name, const char *value)
{
	json_object_set_new(outs, name, json_string(value));
}

/* Removes NAME from OUTS and from every stackOutputs list of META. */
static void drop_output(json_t *meta, json_t *outs, const char *name)
{
	const char *k;
	json_t *v;
	json_object_del(outs, name);
	json_object_foreach(meta, k, v) {
		json_t *list = json_object_get(v, "stackOutputs");
		for (size_t i = 0; i < json_array_size(list); i++)
			if (!strcmp(json_string_value(json_array_get(list, i)), name))
				json_array_remove(list, i--);
	}
}

static char *dumps(json_t *j)
{
	return json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
}

static char *read_text(const char *path)
{
	char *s = NULL;
	if (synth_file_read(path, &s, NULL) < 0)
		return NULL;
	return s;
}

/* Entries of directory DIR other than . and .. */
static int count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;
	if (!d)
		return -1;
	while ((e = readdir(d)))
		n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
	closedir(d);
	return n;
}

/* --- the todo app, whole ------------------------------------------------ */

static void test_todo_all(void)
{
	json_t *cfg = NULL, *expect = fixture("todo.expected.json");
	char *outputs = fixture_path("todo.outputs.json");
	int rc = synth__clientconfig_from_files(&cfg, NULL, outputs);
	CHECK(rc == 0, "todo: built from outputs supplied in a file (%s)",
	      rc ? synth_error_last()->message : "ok");
	CHECK(json_equal(cfg, expect), "todo: equals test/clientconfig/todo.expected.json");
	if (!json_equal(cfg, expect)) {
		char *s = dumps(cfg);
		printf("#   got: %.2000s\n", s);
		free(s);
	}
	dump("todo", cfg);

	CHECK_STR(json_string_value(json_object_get(cfg, "version")), "1.5", "version 1.5");
	json_t *auth = json_object_get(cfg, "auth"), *data = json_object_get(cfg, "data");
	json_t *st = json_object_get(cfg, "storage"), *custom = json_object_get(cfg, "custom");
	CHECK_STR(json_string_value(json_object_get(auth, "user_pool_id")), "us-east-1_Ab12Cd34E",
		  "auth.user_pool_id <- userPoolId");
	CHECK_STR(json_string_value(json_object_get(auth, "user_pool_client_id")),
		  "4hd8s7f6g5j3k2l1m0n9b8v7c6", "auth.user_pool_client_id <- webClientId");
	CHECK(json_is_true(json_object_get(auth, "unauthenticated_identities_enabled")),
	      "auth.unauthenticated_identities_enabled <- allowUnauthenticatedIdentities \"true\"");
	json_t *pp = json_object_get(auth, "password_policy");
	CHECK(json_integer_value(json_object_get(pp, "min_length")) == 8 &&
		      json_is_true(json_object_get(pp, "require_symbols")),
	      "auth.password_policy from passwordPolicyMinLength and -Requirements (JSON in a string)");
	CHECK_STR(json_string_value(json_object_get(auth, "mfa_configuration")), "NONE",
		  "mfaConfiguration OFF -> NONE");
	char *s = dumps(json_object_get(auth, "username_attributes"));
	CHECK_STR(s, "[\"email\"]", "auth.username_attributes parsed from '[\"email\"]'");
	free(s);
	CHECK(!json_object_get(auth, "oauth"), "no oauth without redirect URIs");
	s = dumps(json_object_get(data, "authorization_types"));
	CHECK_STR(s, "[\"API_KEY\",\"AWS_IAM\"]",
		  "data.authorization_types <- 'API_KEY,AWS_IAM' (the additional types)");
	free(s);
	CHECK_STR(json_string_value(json_object_get(data, "api_key")),
		  "da2-k3j5h7g9f2d4s6a8q1w3e5r7t9", "data.api_key");
	CHECK(json_is_object(json_object_get(json_object_get(json_object_get(
		      json_object_get(data, "model_introspection"), "models"), "Todo"), "fields")),
	      "data.model_introspection read from the file:// amplifyApiModelSchemaS3Uri");
	json_t *b0 = json_array_get(json_object_get(st, "buckets"), 0);
	CHECK_STR(json_string_value(json_object_get(b0, "name")), "todoFiles",
		  "storage.buckets[0] parsed from a JSON list of JSON strings");
	s = dumps(json_object_get(json_object_get(b0, "paths"), "private/{entity_id}/*"));
	CHECK_STR(s, "{\"entityidentity\":[\"get\",\"list\",\"write\",\"delete\"]}",
		  "storage.buckets[0].paths kept");
	free(s);
	CHECK_STR(json_string_value(json_object_get(custom, "appName")), "todo",
		  "custom merged from customOutputs");
	CHECK(json_object_get(custom, "reminderFunctionName") != NULL,
	      "a named custom output lands in custom.<name>");
	CHECK(!json_object_get(cfg, "function") && json_object_size(cfg) == 5,
	      "only version, auth, data, storage, custom (Function and Platform ignored)");
	json_decref(cfg);
	json_decref(expect);
	free(outputs);
}

/* The deployed shape: describe-stacks output + the template (or the
 * assembly directory) for the metadata. */
static void test_describe_stacks(void)
{
	json_t *cfg = NULL, *expect = fixture("todo.expected.json");
	char *tmpl = fixture_path("todo.template.json");
	char *ds = fixture_path("todo.describe-stacks.json");
	json_object_del(json_object_get(expect, "data"), "model_introspection");
	int rc = synth__clientconfig_from_files(&cfg, tmpl, ds);
	CHECK(rc == 0, "describe-stacks + template (%s)", rc ? synth_error_last()->message : "ok");
	CHECK(json_equal(cfg, expect), "describe-stacks: the same config (without the model "
	      "introspection an s3:// URI names)");
	dump("todo-describe-stacks", cfg);
	json_decref(cfg);
	cfg = NULL;

	/* The template found through a cloud assembly's manifest.json. */
	char *d = tmp_cwd();
	char *t = read_text(tmpl);
	write_text("cdk.out/synth-todo-main-branch-3f1c2a9b7d.template.json", t);
	write_text("cdk.out/manifest.json",
		   "{\"version\":\"55.0.0\",\"artifacts\":{"
		   "\"a.assets\":{\"type\":\"cdk:asset-manifest\",\"properties\":{\"file\":\"a.assets.json\"}},"
		   "\"synth-todo-main-branch-3f1c2a9b7d\":{\"type\":\"aws:cloudformation:stack\","
		   "\"properties\":{\"templateFile\":\"synth-todo-main-branch-3f1c2a9b7d.template.json\"}}}}");
	rc = synth__clientconfig_from_files(&cfg, "cdk.out", ds);
	CHECK(rc == 0 && json_equal(cfg, expect), "the template found through cdk.out/manifest.json (%s)",
	      rc ? synth_error_last()->message : "ok");
	json_decref(cfg);
	cfg = NULL;

	/* The region comes from the stack ARN: drop authRegion and friends. */
	json_t *doc = fixture("todo.describe-stacks.json"), *list, *o;
	list = json_object_get(json_array_get(json_object_get(doc, "Stacks"), 0), "Outputs");
	json_t *kept = json_array();
	size_t i;
	json_array_foreach(list, i, o) {
		const char *k = json_string_value(json_object_get(o, "OutputKey"));
		if (strcmp(k, "authRegion") && strcmp(k, "storageRegion"))
			json_array_append(kept, o);
	}
	json_object_set_new(json_array_get(json_object_get(doc, "Stacks"), 0), "Outputs", kept);
	json_object_set_new(json_array_get(json_object_get(doc, "Stacks"), 0), "StackId",
			    json_string("arn:aws:cloudformation:eu-north-1:123456789012:stack/x/y"));
	json_dump_file(doc, "ds.json", 0);
	json_t *t2 = fixture("todo.template.json"), *no = json_object();
	drop_output(json_object_get(t2, "Metadata"), no, "authRegion");
	drop_output(json_object_get(t2, "Metadata"), no, "storageRegion");
	json_dump_file(t2, "t2.json", 0);
	json_decref(t2);
	json_decref(no);
	rc = synth__clientconfig_from_files(&cfg, "t2.json", "ds.json");
	CHECK(rc == 0, "outputs without authRegion/storageRegion (%s)",
	      rc ? synth_error_last()->message : "ok");
	CHECK_STR(json_string_value(json_object_get(json_object_get(cfg, "auth"), "aws_region")),
		  "eu-north-1", "auth.aws_region from the StackId ARN when authRegion is absent");
	CHECK_STR(json_string_value(json_object_get(json_object_get(cfg, "data"), "aws_region")),
		  "us-east-1", "an output's own region wins over the ARN's");
	dump("todo-region-from-arn", cfg);
	json_decref(cfg);
	cfg = NULL;

	/* The Query protocol's shape: {"Stacks": {"member": [...]}} and
	 * {"Outputs": {"member": [...]}}. */
	json_t *stack = json_array_get(json_object_get(doc, "Stacks"), 0);
	json_object_set_new(stack, "Outputs", json_pack("{s:O}", "member",
							json_object_get(stack, "Outputs")));
	json_object_set_new(doc, "Stacks", json_pack("{s:[O]}", "member", stack));
	json_dump_file(doc, "ds-member.json", 0);
	rc = synth__clientconfig_from_files(&cfg, "t2.json", "ds-member.json");
	CHECK(rc == 0 && json_object_get(cfg, "auth"), "the XML-read {\"member\": [...]} shape (%s)",
	      rc ? synth_error_last()->message : "ok");
	json_decref(cfg);
	json_decref(doc);
	json_decref(expect);
	free(t);
	free(tmpl);
	free(ds);
	rm_tmp(d);
}

/* --- each category alone ------------------------------------------------ */

static void test_each_category(void)
{
	static const char *const keys[] = {"AWS::Amplify::Auth", "AWS::Amplify::GraphQL",
					   "AWS::Amplify::Storage", "AWS::Amplify::Custom"};
	static const char *const fields[] = {"auth", "data", "storage", "custom"};
	json_t *meta, *outs, *expect = fixture("todo.expected.json");
	json_object_del(json_object_get(expect, "data"), "model_introspection");
	todo_inputs(&meta, &outs);
	for (int i = 0; i < 4; i++) {
		json_t *one = json_pack("{s:O}", keys[i], json_object_get(meta, keys[i])), *cfg = NULL;
		int rc = synth__clientconfig_build(&cfg, one, outs, NULL);
		CHECK(rc == 0, "%s alone builds (%s)", fields[i], rc ? synth_error_last()->message : "ok");
		CHECK(json_object_size(cfg) == 2 && json_object_get(cfg, "version"),
		      "%s alone: version and that category only", fields[i]);
		CHECK(json_equal(json_object_get(cfg, fields[i]), json_object_get(expect, fields[i])),
		      "%s alone: the same section as in the whole config", fields[i]);
		char name[64];
		snprintf(name, sizeof name, "todo-%s-only", fields[i]);
		dump(name, cfg);
		json_decref(cfg);
		json_decref(one);
	}
	/* "AWS::Amplify::Data", as synth_backend_add_output(b, "data", ...)
	 * spells it, is the data category too. */
	json_t *one = json_pack("{s:O}", "AWS::Amplify::Data", json_object_get(meta, keys[1])), *cfg = NULL;
	int rc = synth__clientconfig_build(&cfg, one, outs, NULL);
	CHECK(rc == 0 && json_equal(json_object_get(cfg, "data"), json_object_get(expect, "data")),
	      "AWS::Amplify::Data is read as AWS::Amplify::GraphQL");
	json_decref(cfg);
	json_object_set(one, "AWS::Amplify::GraphQL", json_object_get(meta, keys[1]));
	rc = synth__clientconfig_build(&cfg, one, outs, NULL);
	CHECK(rc < 0, "both AWS::Amplify::Data and AWS::Amplify::GraphQL: an error");
	CHECK_HAS(synth_error_last()->message, "both", "the message says both are listed");
	json_decref(one);

	/* No categories: a valid config with the version alone. */
	json_t *empty = json_object();
	rc = synth__clientconfig_build(&cfg, empty, NULL, NULL);
	CHECK(rc == 0 && json_object_size(cfg) == 1, "no Amplify metadata: {\"version\": \"1.5\"}");
	dump("empty", cfg);
	json_decref(cfg);
	rc = synth__clientconfig_build(&cfg, NULL, NULL, "us-east-1");
	CHECK(rc == 0 && json_object_size(cfg) == 1, "no metadata at all (a template without outputs)");
	json_decref(cfg);
	json_decref(empty);
	json_decref(meta);
	json_decref(outs);
	json_decref(expect);
}

/* --- a second app: OAuth, groups, MFA, two buckets ---------------------- */

static void test_social(void)
{
	json_t *cfg = NULL;
	char *p = fixture_path("social.outputs.json");
	int rc = synth__clientconfig_from_files(&cfg, NULL, p);
	CHECK(rc == 0, "social: builds (%s)", rc ? synth_error_last()->message : "ok");
	dump("social", cfg);
	json_t *auth = json_object_get(cfg, "auth"), *oauth = json_object_get(auth, "oauth");
	char *s = dumps(json_object_get(oauth, "identity_providers"));
	CHECK_STR(s, "[\"GOOGLE\",\"SIGN_IN_WITH_APPLE\"]",
		  "oauth.identity_providers: social providers, an OIDC provider left out");
	free(s);
	s = dumps(json_object_get(oauth, "redirect_sign_in_uri"));
	CHECK_STR(s, "[\"http://localhost:3000/\",\"https://main.social.example.com/\"]",
		  "oauth.redirect_sign_in_uri split on commas");
	free(s);
	CHECK_STR(json_string_value(json_object_get(oauth, "domain")),
		  "social-main.auth.eu-west-1.amazoncognito.com", "oauth.domain <- oauthCognitoDomain");
	CHECK_STR(json_string_value(json_object_get(oauth, "response_type")), "code",
		  "oauth.response_type");
	CHECK(json_array_size(json_object_get(oauth, "scopes")) == 4, "oauth.scopes parsed");
	CHECK_STR(json_string_value(json_object_get(auth, "mfa_configuration")), "REQUIRED",
		  "mfaConfiguration ON -> REQUIRED");
	s = dumps(json_object_get(auth, "groups"));
	CHECK_STR(s, "[{\"ADMINS\":{\"precedence\":0}},{\"EDITORS\":{\"precedence\":1}}]",
		  "auth.groups parsed");
	free(s);
	json_t *pp = json_object_get(auth, "password_policy");
	CHECK(json_integer_value(json_object_get(pp, "min_length")) == 12 &&
		      json_is_false(json_object_get(pp, "require_symbols")) &&
		      json_is_true(json_object_get(pp, "require_numbers")),
	      "password policy: 12, numbers and lowercase only");
	CHECK(json_is_false(json_object_get(auth, "unauthenticated_identities_enabled")),
	      "guest access off");
	CHECK(json_array_size(json_object_get(json_object_get(cfg, "storage"), "buckets")) == 2,
	      "two buckets");
	CHECK(!json_object_get(json_object_get(cfg, "data"), "api_key"),
	      "no api_key without API_KEY authorization");
	CHECK_STR(json_string_value(json_object_get(json_object_get(json_object_get(cfg, "analytics"),
			"amazon_pinpoint"), "app_id")), "0123456789abcdef0123456789abcdef",
		  "customOutputs may add other sections (analytics)");
	CHECK_STR(json_string_value(json_object_get(cfg, "version")), "1.5",
		  "customOutputs' version 1.4 does not replace 1.5");
	json_decref(cfg);
	free(p);
}

/* --- JSON inside strings, and trees in hand-written files --------------- */

static void edit_native_lists(json_t *meta, json_t *outs)
{
	(void)meta;
	json_object_set_new(outs, "usernameAttributes", json_pack("[s]", "email"));
	json_object_set_new(outs, "passwordPolicyRequirements",
			    json_pack("[s,s,s,s]", "REQUIRES_NUMBERS", "REQUIRES_LOWERCASE",
				      "REQUIRES_UPPERCASE", "REQUIRES_SYMBOLS"));
	json_object_set_new(outs, "passwordPolicyMinLength", json_integer(8));
	json_object_set_new(outs, "allowUnauthenticatedIdentities", json_true());
	json_object_set_new(outs, "awsAppsyncAdditionalAuthenticationTypes",
			    json_pack("[s,s]", "API_KEY", "AWS_IAM"));
}

static void edit_aliases(json_t *meta, json_t *outs)
{
	(void)meta;
	set_out(outs, "signupAttributes", "[\"email\", \"givenName\", \"PHONE_NUMBER\", \"email\"]");
	set_out(outs, "mfaConfiguration", "OPTIONAL");
	set_out(outs, "mfaTypes", "[\"SOFTWARE_TOKEN_MFA\", \"SMS_MFA\", \"EMAIL_OTP\"]");
	set_out(outs, "usernameAttributes", "[]");
	json_array_append_new(json_object_get(json_object_get(meta, "AWS::Amplify::Auth"),
					      "stackOutputs"), json_string("oauthDomain"));
}

static void test_json_in_strings(void)
{
	json_t *a = NULL, *b = NULL;
	int rc1 = build_edited(&a, NULL, NULL), rc2 = build_edited(&b, edit_native_lists, NULL);
	CHECK(rc1 == 0 && rc2 == 0 && json_equal(a, b),
	      "lists, numbers and booleans as JSON strings or as trees: the same config");
	json_decref(a);
	json_decref(b);

	int rc = build_edited(&a, edit_aliases, NULL);
	CHECK(rc != 0, "a listed output missing from the outputs is an error");
	json_decref(a);
	a = NULL;
	json_t *meta, *outs;
	todo_inputs(&meta, &outs);
	edit_aliases(meta, outs);
	drop_output(meta, outs, "oauthDomain");
	rc = synth__clientconfig_build(&a, meta, outs, NULL);
	json_t *auth = json_object_get(a, "auth");
	char *s = dumps(json_object_get(auth, "standard_required_attributes"));
	CHECK_STR(s, "[\"email\",\"given_name\",\"phone_number\"]",
		  "CDK attribute names and case normalized, duplicates dropped");
	free(s);
	s = dumps(json_object_get(auth, "mfa_methods"));
	CHECK_STR(s, "[\"TOTP\",\"SMS\",\"EMAIL\"]", "Cognito MFA names -> TOTP, SMS, EMAIL");
	free(s);
	CHECK(!json_object_get(auth, "username_attributes"),
	      "an empty usernameAttributes list is left out (the schema wants one or more)");
	dump("todo-aliases", a);
	json_decref(a);
	json_decref(meta);
	json_decref(outs);
}

/* --- the AWS list shape ------------------------------------------------- */

static void test_aws_list(void)
{
	json_t *meta, *outs, *list = json_array(), *a = NULL, *b = NULL, *c = NULL;
	const char *k;
	json_t *v;
	todo_inputs(&meta, &outs);
	json_object_foreach(outs, k, v)
		json_array_append_new(list, json_pack("{s:s,s:O,s:s}", "OutputKey", k, "OutputValue", v,
						      "Description", "from describe-stacks"));
	int rc1 = synth__clientconfig_build(&a, meta, outs, NULL);
	int rc2 = synth__clientconfig_build(&b, meta, list, NULL);
	CHECK(rc1 == 0 && rc2 == 0 && json_equal(a, b),
	      "[{OutputKey, OutputValue}] gives the same config as an object");
	json_t *member = json_pack("{s:O}", "member", list);
	int rc3 = synth__clientconfig_build(&c, meta, member, NULL);
	CHECK(rc3 == 0 && json_equal(a, c), "{\"member\": [...]} too");
	json_decref(c);
	c = NULL;
	json_array_append_new(list, json_pack("{s:s,s:s}", "OutputKey", "userPoolId",
					      "OutputValue", "x"));
	CHECK(synth__clientconfig_build(&c, meta, list, NULL) == SYNTH_EINVALID,
	      "an output listed twice is an error");
	CHECK_HAS(synth_error_last()->message, "'userPoolId' is listed twice", "and says which");
	json_array_append_new(list, json_pack("{s:s}", "OutputKey", "lonely"));
	json_array_remove(list, json_array_size(list) - 2);
	CHECK(synth__clientconfig_build(&c, meta, list, NULL) == SYNTH_EINVALID,
	      "an item without OutputValue is an error");
	CHECK_HAS(synth_error_last()->message, "'lonely' has no \"OutputValue\"", "and says which");
	json_t *bad = json_integer(3);
	CHECK(synth__clientconfig_build(&c, meta, bad, NULL) == SYNTH_EINVALID,
	      "outputs that are neither an object nor a list: an error");
	json_decref(bad);
	json_decref(a);
	json_decref(b);
	json_decref(member);
	json_decref(list);
	json_decref(meta);
	json_decref(outs);
}

/* --- errors ------------------------------------------------------------- */

static void e_no_pool(json_t *m, json_t *o) { drop_output(m, o, "userPoolId"); }
static void e_no_client(json_t *m, json_t *o) { drop_output(m, o, "webClientId"); }
static void e_no_url(json_t *m, json_t *o) { drop_output(m, o, "awsAppsyncApiEndpoint"); }
static void e_no_authtype(json_t *m, json_t *o) { drop_output(m, o, "awsAppsyncAuthenticationType"); }
static void e_no_bucket(json_t *m, json_t *o) { drop_output(m, o, "bucketName"); }
static void e_no_region(json_t *m, json_t *o) { drop_output(m, o, "authRegion"); }
static void e_unlisted(json_t *m, json_t *o) { (void)m; json_object_del(o, "webClientId"); }
static void e_bad_json(json_t *m, json_t *o) { (void)m; set_out(o, "usernameAttributes", "[\"email\""); }
static void e_not_list(json_t *m, json_t *o) { (void)m; set_out(o, "signupAttributes", "{\"email\":true}"); }
static void e_bad_attr(json_t *m, json_t *o) { (void)m; set_out(o, "usernameAttributes", "[\"nickname\"]"); }
static void e_bad_mfa(json_t *m, json_t *o) { (void)m; set_out(o, "mfaConfiguration", "SOMETIMES"); }
static void e_bad_min(json_t *m, json_t *o) { (void)m; set_out(o, "passwordPolicyMinLength", "5"); }
static void e_nan_min(json_t *m, json_t *o) { (void)m; set_out(o, "passwordPolicyMinLength", "8x"); }
static void e_bad_req(json_t *m, json_t *o) { (void)m; set_out(o, "passwordPolicyRequirements", "[\"REQUIRES_EMOJI\"]"); }
static void e_bad_unauth(json_t *m, json_t *o) { (void)m; set_out(o, "allowUnauthenticatedIdentities", "yes"); }
static void e_bad_group(json_t *m, json_t *o) { (void)m; set_out(o, "groups", "[{\"ADMINS\":{\"precedence\":\"first\"}}]"); }
static void e_bad_authtype(json_t *m, json_t *o) { (void)m; set_out(o, "awsAppsyncAuthenticationType", "BASIC"); }
static void e_bad_addtype(json_t *m, json_t *o) { (void)m; set_out(o, "awsAppsyncAdditionalAuthenticationTypes", "API_KEY,COOKIES"); }
static void e_no_key(json_t *m, json_t *o) { drop_output(m, o, "awsAppsyncApiKey"); }
static void e_bad_action(json_t *m, json_t *o)
{
	(void)m;
	set_out(o, "buckets", "[\"{\\\"name\\\":\\\"f\\\",\\\"bucketName\\\":\\\"b\\\",\\\"storageRegion\\\":\\\"r\\\","
		"\\\"paths\\\":{\\\"media/*\\\":{\\\"guest\\\":[\\\"erase\\\"]}}}\"]");
}
static void e_bucket_no_name(json_t *m, json_t *o)
{
	(void)m;
	set_out(o, "buckets", "[{\"name\":\"f\",\"storageRegion\":\"r\"}]");
}
static void e_bucket_twice(json_t *m, json_t *o)
{
	(void)m;
	set_out(o, "buckets", "[{\"name\":\"f\",\"bucketName\":\"b\",\"storageRegion\":\"r\"},"
		"{\"name\":\"f\",\"bucketName\":\"c\",\"storageRegion\":\"r\"}]");
}
static void e_meta_version(json_t *m, json_t *o)
{
	(void)o;
	json_object_set_new(json_object_get(m, "AWS::Amplify::Storage"), "version", json_string("2"));
}
static void e_meta_shape(json_t *m, json_t *o)
{
	(void)o;
	json_object_set_new(m, "AWS::Amplify::Storage", json_string("bucketName"));
}
static void e_custom_section(json_t *m, json_t *o) { (void)m; set_out(o, "customOutputs", "{\"extras\":{}}"); }
static void e_custom_clash(json_t *m, json_t *o)
{
	(void)m;
	set_out(o, "customOutputs", "{\"auth\":{\"user_pool_id\":\"someone-else\"}}");
}
static void e_custom_version(json_t *m, json_t *o) { (void)m; set_out(o, "customOutputs", "{\"version\":\"2\"}"); }
static void e_custom_not_object(json_t *m, json_t *o) { (void)m; set_out(o, "customOutputs", "[1]"); }
static void e_half_oauth(json_t *m, json_t *o)
{
	json_array_append_new(json_object_get(json_object_get(m, "AWS::Amplify::Auth"), "stackOutputs"),
			      json_string("oauthRedirectSignIn"));
	set_out(o, "oauthRedirectSignIn", "https://example.com/");
}
static void e_providers_only(json_t *m, json_t *o)
{
	json_array_append_new(json_object_get(json_object_get(m, "AWS::Amplify::Auth"), "stackOutputs"),
			      json_string("socialProviders"));
	set_out(o, "socialProviders", "[\"GOOGLE\"]");
}
static void e_oauth_no_domain(json_t *m, json_t *o)
{
	json_t *l = json_object_get(json_object_get(m, "AWS::Amplify::Auth"), "stackOutputs");
	json_array_append_new(l, json_string("oauthRedirectSignIn"));
	json_array_append_new(l, json_string("oauthRedirectSignOut"));
	set_out(o, "oauthRedirectSignIn", "https://example.com/");
	set_out(o, "oauthRedirectSignOut", "https://example.com/");
}
static void e_not_string(json_t *m, json_t *o)
{
	(void)m;
	json_object_set_new(o, "bucketName", json_integer(7));
}

static void test_errors(void)
{
	static const struct {
		edit_fn edit;
		const char *what;
		const char *needles[3];
	} cases[] = {
		{e_no_pool, "no userPoolId", {"auth (AWS::Amplify::Auth)", "required stack output 'userPoolId' is missing"}},
		{e_no_client, "no webClientId", {"auth (AWS::Amplify::Auth)", "'webClientId' is missing"}},
		{e_no_url, "no awsAppsyncApiEndpoint", {"data (AWS::Amplify::GraphQL)", "'awsAppsyncApiEndpoint' is missing"}},
		{e_no_authtype, "no awsAppsyncAuthenticationType", {"data (AWS::Amplify::GraphQL)", "'awsAppsyncAuthenticationType' is missing"}},
		{e_no_bucket, "no bucketName", {"storage (AWS::Amplify::Storage)", "'bucketName' is missing"}},
		{e_no_region, "no authRegion and no region", {"auth (AWS::Amplify::Auth)", "'authRegion' is missing", "no region is known"}},
		{e_unlisted, "listed but not in the outputs", {"auth (AWS::Amplify::Auth)", "'webClientId' is listed in the template metadata but missing from the stack outputs"}},
		{e_bad_json, "JSON that does not parse", {"auth (AWS::Amplify::Auth)", "stack output 'usernameAttributes' is not valid JSON", "'[\"email\"'"}},
		{e_not_list, "an object where a list belongs", {"'signupAttributes' is not a JSON list"}},
		{e_bad_attr, "a username attribute outside the schema", {"'usernameAttributes' has 'nickname', which is not one of email, phone_number, username"}},
		{e_bad_mfa, "an unknown MFA configuration", {"'mfaConfiguration' has 'SOMETIMES', which is not one of NONE, OPTIONAL, REQUIRED"}},
		{e_bad_min, "a password length under 6", {"'passwordPolicyMinLength' must be a whole number from 6 to 99, got '5'"}},
		{e_nan_min, "a password length that is not a number", {"'passwordPolicyMinLength'", "got '8x'"}},
		{e_bad_req, "an unknown password requirement", {"'passwordPolicyRequirements' has 'REQUIRES_EMOJI'"}},
		{e_bad_unauth, "allowUnauthenticatedIdentities 'yes'", {"'allowUnauthenticatedIdentities' must be \"true\" or \"false\", got 'yes'"}},
		{e_bad_group, "a group precedence that is not an integer", {"'groups': group 'ADMINS'", "precedence"}},
		{e_bad_authtype, "an unknown AppSync authorization type", {"data (AWS::Amplify::GraphQL)", "'awsAppsyncAuthenticationType' has 'BASIC'", "AMAZON_COGNITO_USER_POOLS, API_KEY, AWS_IAM, AWS_LAMBDA, OPENID_CONNECT"}},
		{e_bad_addtype, "an unknown additional type", {"'awsAppsyncAdditionalAuthenticationTypes' has 'COOKIES'"}},
		{e_no_key, "API_KEY authorization without the key", {"data (AWS::Amplify::GraphQL)", "API_KEY authorization is enabled", "'awsAppsyncApiKey' is missing"}},
		{e_bad_action, "an unknown storage action", {"storage (AWS::Amplify::Storage)", "bucket 'f', path 'media/*', access 'guest'", "has 'erase'"}},
		{e_bucket_no_name, "a bucket without bucketName", {"storage (AWS::Amplify::Storage)", "bucket 'f' (item 1) has no 'bucketName'"}},
		{e_bucket_twice, "a bucket listed twice", {"names bucket 'f' twice"}},
		{e_meta_version, "metadata version 2", {"storage (AWS::Amplify::Storage)", "version '2'"}},
		{e_meta_shape, "metadata that is not {version, stackOutputs}", {"storage (AWS::Amplify::Storage)", "\"stackOutputs\""}},
		{e_custom_section, "customOutputs with an unknown section", {"custom (AWS::Amplify::Custom)", "'extras', which is not a section"}},
		{e_custom_clash, "customOutputs overriding auth.user_pool_id", {"custom (AWS::Amplify::Custom)", "sets 'auth.user_pool_id'"}},
		{e_custom_version, "customOutputs version 2", {"customOutputs' has version '2'"}},
		{e_custom_not_object, "customOutputs that is a list", {"'customOutputs' is not a JSON object"}},
		{e_half_oauth, "OAuth with a sign-in redirect only", {"auth (AWS::Amplify::Auth)", "'oauthRedirectSignOut' is missing"}},
		{e_providers_only, "social providers without redirect URIs", {"'socialProviders' is set", "'oauthRedirectSignIn'"}},
		{e_oauth_no_domain, "OAuth without a domain", {"'oauthCognitoDomain' is missing"}},
		{e_not_string, "a bucket name that is a number", {"storage (AWS::Amplify::Storage)", "'bucketName' is not a string"}},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		json_t *cfg = (json_t *)1;
		int rc = build_edited(&cfg, cases[i].edit, NULL);
		CHECK(rc == SYNTH_EINVALID && cfg == NULL, "%s: SYNTH_EINVALID, no config", cases[i].what);
		printf("#   %s\n", synth_error_last()->message);
		for (int k = 0; k < 3 && cases[i].needles[k]; k++)
			CHECK_HAS(synth_error_last()->message, cases[i].needles[k], "%s: message has %s",
				  cases[i].what, cases[i].needles[k]);
		json_decref(cfg);
	}
	/* The region fallback fills in a missing region output. */
	json_t *cfg = NULL;
	int rc = build_edited(&cfg, e_no_region, "ap-south-1");
	CHECK(rc == 0, "no authRegion but a region given: builds");
	CHECK_STR(json_string_value(json_object_get(json_object_get(cfg, "auth"), "aws_region")),
		  "ap-south-1", "auth.aws_region from the region given");
	dump("todo-region-fallback", cfg);
	json_decref(cfg);
	CHECK(build_error(NULL, NULL) == NULL, "the unedited fixture builds (control)");

	json_t *bad = json_string("x");
	CHECK(synth__clientconfig_build(&cfg, bad, NULL, NULL) == SYNTH_EINVALID,
	      "metadata that is not an object: an error");
	json_decref(bad);
}

/* --- model introspection ------------------------------------------------ */

static void test_model_introspection(void)
{
	json_t *cfg = json_pack("{s:s}", "version", "1.5"), *mis = json_pack("{s:i}", "version", 1);
	CHECK(synth__clientconfig_set_model_introspection(cfg, mis) == SYNTH_EINVALID,
	      "model introspection without a data category: an error");
	CHECK_HAS(synth_error_last()->message, "no data category", "which says so");
	json_object_set_new(cfg, "data", json_object());
	json_t *notobj = json_array();
	CHECK(synth__clientconfig_set_model_introspection(cfg, notobj) == SYNTH_EINVALID,
	      "a model introspection schema that is not an object: an error");
	CHECK(synth__clientconfig_set_model_introspection(cfg, mis) == 0 &&
		      json_equal(json_object_get(json_object_get(cfg, "data"), "model_introspection"), mis),
	      "set as data.model_introspection");
	json_decref(notobj);
	json_decref(mis);
	json_decref(cfg);

	char *d = tmp_cwd();
	json_t *doc = fixture("todo.outputs.json");
	json_object_set_new(json_object_get(doc, "outputs"), "amplifyApiModelSchemaS3Uri",
			    json_string("file://nowhere/mis.json"));
	json_dump_file(doc, "o.json", 0);
	cfg = NULL;
	CHECK(synth__clientconfig_from_files(&cfg, NULL, "o.json") == SYNTH_ENOTFOUND,
	      "a file:// model schema that does not exist: an error");
	CHECK_HAS(synth_error_last()->message, "amplifyApiModelSchemaS3Uri", "naming the output");
	CHECK_HAS(synth_error_last()->message, "nowhere/mis.json", "and the file");
	json_object_set_new(doc, "model_introspection", json_pack("{s:i,s:{}}", "version", 1, "models"));
	json_dump_file(doc, "o.json", 0);
	int rc = synth__clientconfig_from_files(&cfg, NULL, "o.json");
	CHECK(rc == 0 && json_integer_value(json_object_get(json_object_get(json_object_get(cfg, "data"),
				"model_introspection"), "version")) == 1,
	      "\"model_introspection\" in the outputs file is used (%s)",
	      rc ? synth_error_last()->message : "ok");
	json_decref(cfg);
	json_decref(doc);
	rm_tmp(d);
}

/* --- outputs files: bad input ------------------------------------------- */

static void test_file_errors(void)
{
	char *d = tmp_cwd();
	char *tmpl = fixture_path("todo.template.json");
	json_t *cfg = NULL;
	CHECK(synth__clientconfig_from_files(&cfg, tmpl, "missing.json") == SYNTH_ENOTFOUND,
	      "a missing outputs file: SYNTH_ENOTFOUND");
	CHECK_HAS(synth_error_last()->message, "missing.json", "naming it");
	write_text("broken.json", "{\"outputs\": {\n  \"a\": }\n");
	CHECK(synth__clientconfig_from_files(&cfg, tmpl, "broken.json") == SYNTH_EINVALID,
	      "an outputs file that is not JSON: an error");
	CHECK_HAS(synth_error_last()->message, "broken.json:2:", "file:line:column");
	write_text("nometa.json", "{\"outputs\": {}}");
	CHECK(synth__clientconfig_from_files(&cfg, NULL, "nometa.json") == SYNTH_EINVALID,
	      "no metadata and no template: an error");
	CHECK_HAS(synth_error_last()->message, "give the root template", "that says what to do");
	write_text("typo.json", "{\"outputs\": {}, \"metdata\": {}}");
	CHECK(synth__clientconfig_from_files(&cfg, NULL, "typo.json") == SYNTH_EINVALID,
	      "an unknown key in the outputs file: an error");
	CHECK_HAS(synth_error_last()->message, "unknown key 'metdata'", "naming it");
	write_text("what.json", "\"outputs\"");
	CHECK(synth__clientconfig_from_files(&cfg, tmpl, "what.json") == SYNTH_EINVALID,
	      "a file of another shape: an error");
	write_text("busy.json", "{\"Stacks\":[{\"StackName\":\"s\",\"StackStatus\":\"UPDATE_IN_PROGRESS\","
		   "\"Outputs\":[]}]}");
	CHECK(synth__clientconfig_from_files(&cfg, tmpl, "busy.json") == SYNTH_EINVALID,
	      "a stack still deploying: an error");
	CHECK_HAS(synth_error_last()->message, "stack s is UPDATE_IN_PROGRESS", "saying so");
	write_text("two.json", "{\"Stacks\":[{\"StackName\":\"a\"},{\"StackName\":\"b\"}]}");
	CHECK(synth__clientconfig_from_files(&cfg, tmpl, "two.json") == SYNTH_EINVALID,
	      "two root stacks: an error");
	CHECK_HAS(synth_error_last()->message, "2 root stacks", "saying how many");
	write_text("arn.json", "{\"Stacks\":[{\"StackId\":\"stack-1\",\"Outputs\":[]}]}");
	CHECK(synth__clientconfig_from_files(&cfg, tmpl, "arn.json") == SYNTH_EINVALID,
	      "a StackId that is not an ARN: an error");
	CHECK_HAS(synth_error_last()->message, "'stack-1' is not a stack ARN", "naming it");
	write_text("empty.json", "{\"Stacks\":[{\"StackId\":\"arn:aws:cloudformation:us-east-1:1:stack/s/1\"}]}");
	CHECK(synth__clientconfig_from_files(&cfg, tmpl, "empty.json") == SYNTH_EINVALID,
	      "a stack without outputs for a template that lists some: an error");
	CHECK_HAS(synth_error_last()->message, "missing from the stack outputs", "naming the output");
	CHECK(synth__clientconfig_from_files(&cfg, "no-template.json", "empty.json") == SYNTH_ENOTFOUND,
	      "a missing template: SYNTH_ENOTFOUND");
	mkdir("asm", 0755);
	write_text("asm/manifest.json", "{\"artifacts\":{}}");
	CHECK(synth__clientconfig_from_files(&cfg, "asm", "empty.json") == SYNTH_EINVALID,
	      "an assembly without a stack: an error");
	CHECK_HAS(synth_error_last()->message, "names no stack", "saying so");
	CHECK(cfg == NULL, "no config from any of them");
	free(tmpl);
	rm_tmp(d);
}

/* --- writing ------------------------------------------------------------ */

static void test_write(void)
{
	char *d = tmp_cwd();
	json_t *cfg = NULL;
	build_edited(&cfg, NULL, NULL);
	int rc = synth__clientconfig_write("amplify_outputs.json", cfg);
	CHECK(rc == 0, "written (%s)", rc ? synth_error_last()->message : "ok");
	char *text = read_text("amplify_outputs.json");
	size_t n = text ? strlen(text) : 0;
	CHECK(n > 2 && text[n - 1] == '\n' && text[n - 2] == '}', "a trailing newline");
	CHECK_HAS(text, "{\n  \"auth\": {\n    \"aws_region\": \"us-east-1\",",
		  "two-space indent, keys sorted");
	CHECK(text && strstr(text, "\"version\": \"1.5\"\n}\n") != NULL, "version last (sorted)");
	json_t *back = json_loads(text ? text : "", 0, NULL);
	CHECK(json_equal(back, cfg), "reads back equal");
	json_decref(back);
	CHECK(count_entries(".") == 1, "no temporary file left");
	struct stat st;
	mode_t um = umask(022);
	umask(um);
	CHECK(stat("amplify_outputs.json", &st) == 0 && (st.st_mode & 0777) == (0666 & ~um),
	      "mode 0666 & ~umask (%o)", (unsigned)(st.st_mode & 0777));

	/* A parent directory that does not exist. */
	rc = synth__clientconfig_write("nodir/amplify_outputs.json", cfg);
	CHECK(rc == SYNTH_EIO, "a missing parent directory: SYNTH_EIO");
	CHECK_HAS(synth_error_last()->message, "cannot write nodir/amplify_outputs.json",
		  "naming the path");
	CHECK(count_entries(".") == 1, "nothing created");

	/* A directory in the way: left as it was. */
	mkdir("taken", 0755);
	write_text("taken/keep", "x");
	rc = synth__clientconfig_write("taken", cfg);
	CHECK(rc == SYNTH_EIO, "a directory at the path: SYNTH_EIO");
	CHECK(count_entries("taken") == 1 && count_entries(".") == 2,
	      "the directory is untouched and no temporary file is left");

	/* Writing fails half way (a file size limit): the previous file stays. */
	json_t *big = json_deep_copy(cfg);
	json_object_set_new(json_object_get(big, "custom"), "padding",
			    json_string("0123456789012345678901234567890123456789"));
	struct rlimit old, lim;
	getrlimit(RLIMIT_FSIZE, &old);
	lim = old;
	lim.rlim_cur = 200;
	void (*prev)(int) = signal(SIGXFSZ, SIG_IGN);
	setrlimit(RLIMIT_FSIZE, &lim);
	rc = synth__clientconfig_write("amplify_outputs.json", big);
	setrlimit(RLIMIT_FSIZE, &old);
	signal(SIGXFSZ, prev);
	CHECK(rc == SYNTH_EIO, "a write that fails (EFBIG): SYNTH_EIO");
	CHECK_HAS(synth_error_last()->message, "cannot write amplify_outputs.json", "naming the path");
	char *after = read_text("amplify_outputs.json");
	CHECK(text && after && !strcmp(text, after), "the previous file is kept as it was");
	CHECK(count_entries(".") == 2, "no temporary file left");
	free(after);

	/* Read-only directory (not enforced for root, who may write anyway). */
	if (geteuid() != 0) {
		mkdir("ro", 0555);
		rc = synth__clientconfig_write("ro/amplify_outputs.json", cfg);
		CHECK(rc == SYNTH_EIO && count_entries("ro") == 0,
		      "a read-only directory: SYNTH_EIO, nothing left");
		chmod("ro", 0755);
	}

	json_t *arr = json_array();
	CHECK(synth__clientconfig_write("x.json", arr) == SYNTH_EINVALID,
	      "a configuration that is not an object is refused");
	json_decref(arr);
	json_decref(big);
	json_decref(cfg);
	free(text);
	rm_tmp(d);
}

/* --- determinism -------------------------------------------------------- */

static json_t *reversed_object(json_t *o)
{
	json_t *r = json_object();
	const char **keys = calloc(json_object_size(o) + 1, sizeof *keys);
	size_t n = 0;
	const char *k;
	json_t *v;
	json_object_foreach(o, k, v)
		keys[n++] = k;
	while (n--)
		json_object_set(r, keys[n], json_object_get(o, keys[n]));
	free(keys);
	return r;
}

static void test_deterministic(void)
{
	char *d = tmp_cwd();
	json_t *meta, *outs, *a = NULL, *b = NULL;
	todo_inputs(&meta, &outs);
	/* The same backend: outputs and categories in the opposite order. */
	json_t *rmeta = json_object(), *routs = reversed_object(outs);
	const char *k;
	json_t *v;
	json_t *rm = reversed_object(meta);
	json_object_foreach(rm, k, v) {
		json_t *list = json_array(), *src = json_object_get(v, "stackOutputs");
		for (size_t i = json_array_size(src); i-- > 0;)
			json_array_append(list, json_array_get(src, i));
		json_object_set_new(rmeta, k, json_pack("{s:s,s:o}", "version", "1", "stackOutputs", list));
	}
	int rc1 = synth__clientconfig_build(&a, meta, outs, NULL);
	int rc2 = synth__clientconfig_build(&b, rmeta, routs, NULL);
	CHECK(rc1 == 0 && rc2 == 0, "both orders build");
	synth__clientconfig_write("a.json", a);
	synth__clientconfig_write("b.json", b);
	synth__clientconfig_write("a2.json", a);
	char *ta = read_text("a.json"), *tb = read_text("b.json"), *ta2 = read_text("a2.json");
	CHECK(ta && ta2 && !strcmp(ta, ta2), "the same config twice: byte-identical files");
	CHECK(ta && tb && !strcmp(ta, tb),
	      "outputs and metadata in another order: byte-identical files");
	free(ta);
	free(tb);
	free(ta2);
	json_decref(a);
	json_decref(b);
	json_decref(rm);
	json_decref(rmeta);
	json_decref(routs);
	json_decref(meta);
	json_decref(outs);
	rm_tmp(d);
}

/* --- modes for the shell test ------------------------------------------- */

static int write_mode(int argc, char **argv)
{
	json_t *cfg = NULL;
	if (argc < 4 || argc > 5) {
		fprintf(stderr, "usage: %s --write OUT OUTPUTS_FILE [TEMPLATE]\n", argv[0]);
		return 2;
	}
	int rc = synth__clientconfig_from_files(&cfg, argc == 5 ? argv[4] : NULL, argv[3]);
	if (rc == 0)
		rc = synth__clientconfig_write(argv[2], cfg);
	json_decref(cfg);
	if (rc < 0) {
		fprintf(stderr, "error: %s\n", synth_error_last()->message);
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "--write"))
		return write_mode(argc, argv);
	const char *root = getenv("SYNTH_ROOT");
	char *abs = realpath(root ? root : ".", NULL);
	snprintf(fixtures, sizeof fixtures, "%s/test/clientconfig", abs ? abs : ".");
	free(abs);
	char *dd = getenv("CLIENTCONFIG_DUMP") ? realpath(getenv("CLIENTCONFIG_DUMP"), NULL) : NULL;
	dump_dir = dd;

	test_todo_all();
	test_describe_stacks();
	test_each_category();
	test_social();
	test_json_in_strings();
	test_aws_list();
	test_errors();
	test_model_introspection();
	test_file_errors();
	test_write();
	test_deterministic();
	if (dump_dir)
		printf("# %d configurations written to %s\n", ndumped, dump_dir);
	free(dd);
	return check_failed ? 1 : 0;
}

/*
 * define_data: the AppSync API, tables, data sources, roles and resolvers
 * generated from a schema; auth found through the token; bad schemas and
 * props; allocation failure at every step of a data synth (not under
 * ASan, which owns malloc).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <time.h>
#include "check.h"
#include "helpers.h"
#include "graphql.h"
#include "gqlresolvers.h"

#include "failmalloc.h"

static const char *const todo_schema =
	"# todos with owners, a public scoreboard\n"
	"type Todo @model @auth(rules: [{ allow: owner }, { allow: public, provider: iam, operations: [get, list] }]) {\n"
	"  content: String!\n"
	"  status: String @index(name: \"todosByStatus\", sortKeyFields: [\"createdAt\"], queryField: \"todosByStatus\")\n"
	"  comments: [Comment] @hasMany\n"
	"}\n"
	"type Comment @model @auth(rules: [{ allow: owner }]) {\n"
	"  text: String!\n"
	"  todo: Todo @belongsTo\n"
	"}\n"
	"type Score @model @auth(rules: [{ allow: public }]) {\n"
	"  game: String! @primaryKey(sortKeyFields: [\"season\"])\n"
	"  season: Int!\n"
	"  player: String! @index(name: \"scoresByPlayer\", sortKeyFields: [\"points\"], queryField: \"scoresByPlayer\")\n"
	"  points: Int\n"
	"}\n";

static const char *const public_schema =
	"type Note @model @auth(rules: [{ allow: public }]) {\n"
	"  text: String\n"
	"  rank: Int @index(name: \"notesByRank\")\n"
	"}\n";

/* Runs B (freed) and returns its result. */
static int run(synth_backend *b)
{
	int rc = synth_backend_run(b);
	synth_backend_free(b);
	return rc;
}

static const char *lid_of(json_t *t, const char *path)
{
	const char *k;
	json_t *r;
	json_object_foreach(json_object_get(t, "Resources"), k, r) {
		const char *p = json_string_value(json_object_get(json_object_get(r, "Metadata"), "synth:path"));
		if (p && !strcmp(p, path))
			return k;
	}
	return NULL;
}

static json_t *props_of(json_t *t, const char *path)
{
	return json_object_get(by_path(t, path), "Properties");
}

static char *dump(json_t *j)
{
	return j ? json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS) : strdup("(null)");
}

/* Whether JSON J, dumped, contains NEEDLE. */
static bool has(json_t *j, const char *needle)
{
	char *s = dump(j);
	bool r = s && strstr(s, needle);
	free(s);
	return r;
}

static size_t count_type(json_t *t, const char *type)
{
	size_t n = 0;
	const char *k;
	json_t *r;
	json_object_foreach(json_object_get(t, "Resources"), k, r)
		n += !strcmp(json_string_value(json_object_get(r, "Type")), type);
	return n;
}

static json_t *gsi(json_t *table, const char *name)
{
	size_t i;
	json_t *g;
	json_array_foreach(json_object_get(table, "GlobalSecondaryIndexes"), i, g)
		if (!strcmp(json_string_value(json_object_get(g, "IndexName")), name))
			return g;
	return NULL;
}

static void test_todo(void)
{
	write_text("data/schema.graphql", todo_schema);
	synth_backend *b = new_backend();
	synth_define_auth(b, NULL);
	synth_define_data(b, &(synth_data_props){.streams = true, .point_in_time_recovery = true});
	int rc = run(b);
	CHECK(rc == 0, "auth + data synthesize (%s)", synth_error_last()->message);
	json_t *t = root_template();
	CHECK(t != NULL, "the root template is written");
	if (!t)
		return;
	json_t *api = props_of(t, "data/GraphQLApi");
	CHECK_STR(json_string_value(json_object_get(api, "AuthenticationType")),
		  "AMAZON_COGNITO_USER_POOLS", "the user pool is the default mode when auth is defined");
	char ref[128];
	snprintf(ref, sizeof ref, "{\"Ref\":\"%s\"}", lid_of(t, "auth/UserPool"));
	char *upid = dump(json_object_get(json_object_get(api, "UserPoolConfig"), "UserPoolId"));
	CHECK_STR(upid, ref, "the user pool id references the auth construct's pool");
	free(upid);
	json_t *extra = json_object_get(api, "AdditionalAuthenticationProviders");
	CHECK(json_array_size(extra) == 2 &&
	      !strcmp(json_string_value(json_object_get(json_array_get(extra, 0), "AuthenticationType")), "API_KEY") &&
	      !strcmp(json_string_value(json_object_get(json_array_get(extra, 1), "AuthenticationType")), "AWS_IAM"),
	      "the rules' other modes are additional providers: API_KEY, AWS_IAM");
	CHECK(json_is_false(json_object_get(api, "XrayEnabled")), "X-Ray is off");

	json_t *key = props_of(t, "data/ApiKey");
	json_int_t exp = json_integer_value(json_object_get(key, "Expires"));
	long long now = time(NULL);
	CHECK(key && exp % 86400 == 0 && exp >= now + 7 * 86400 && exp <= now + 8 * 86400,
	      "the API key expires at a UTC day boundary 7 to 8 days ahead (%lld)", (long long)exp);

	json_t *schema = props_of(t, "data/GraphQLSchema");
	CHECK(json_string_length(json_object_get(schema, "Definition")) > 0,
	      "the client schema is inline");

	json_t *todo = props_of(t, "data/Todo/Table");
	CHECK(has(json_object_get(todo, "KeySchema"), "{\"AttributeName\":\"id\",\"KeyType\":\"HASH\"}") &&
	      json_array_size(json_object_get(todo, "KeySchema")) == 1, "Todo is keyed by id");
	CHECK_STR(json_string_value(json_object_get(todo, "BillingMode")), "PAY_PER_REQUEST", "on demand");
	CHECK(json_is_true(json_object_get(json_object_get(todo, "SSESpecification"), "SSEEnabled")),
	      "encrypted");
	CHECK(has(todo, "\"StreamViewType\":\"NEW_AND_OLD_IMAGES\"") &&
	      has(todo, "\"PointInTimeRecoveryEnabled\":true"), "streams and PITR on request");
	json_t *g = gsi(todo, "todosByStatus");
	CHECK(g && has(json_object_get(g, "KeySchema"),
		       "[{\"AttributeName\":\"status\",\"KeyType\":\"HASH\"},{\"AttributeName\":\"createdAt\",\"KeyType\":\"RANGE\"}]"),
	      "the @index is a GSI: status + createdAt");
	CHECK(json_array_size(json_object_get(todo, "AttributeDefinitions")) == 3,
	      "key attributes defined once each (id, status, createdAt)");
	json_t *comment = props_of(t, "data/Comment/Table");
	g = gsi(comment, "gsi-Todo.comments");
	CHECK(g && has(json_object_get(g, "KeySchema"), "\"AttributeName\":\"todoCommentsId\""),
	      "the implicit hasMany key is a GSI on the child (gsi-Todo.comments, todoCommentsId)");
	json_t *score = props_of(t, "data/Score/Table");
	CHECK(has(json_object_get(score, "KeySchema"),
		  "[{\"AttributeName\":\"game\",\"KeyType\":\"HASH\"},{\"AttributeName\":\"season\",\"KeyType\":\"RANGE\"}]") &&
	      has(json_object_get(score, "AttributeDefinitions"),
		  "{\"AttributeName\":\"season\",\"AttributeType\":\"N\"}"),
	      "a sort key: game + season (an Int: N)");
	g = gsi(score, "scoresByPlayer");
	CHECK(g && has(json_object_get(g, "KeySchema"),
		       "[{\"AttributeName\":\"player\",\"KeyType\":\"HASH\"},{\"AttributeName\":\"points\",\"KeyType\":\"RANGE\"}]") &&
	      has(json_object_get(score, "AttributeDefinitions"),
		  "{\"AttributeName\":\"points\",\"AttributeType\":\"N\"}") &&
	      json_array_size(json_object_get(score, "AttributeDefinitions")) == 4,
	      "an @index with a sort key: player + points (N); four key attributes");
	CHECK_STR(json_string_value(json_object_get(by_path(t, "data/Todo/Table"), "DeletionPolicy")),
		  "Retain", "a branch keeps its tables");

	/* Resolvers: one per generator entry, on the right data source. */
	json_t *model = NULL, *generated = NULL;
	synth__graphql_parse(&model, "s", todo_schema, strlen(todo_schema));
	synth__gql_resolvers(&generated, model, "AMAZON_COGNITO_USER_POOLS");
	json_t *resolvers = json_object_get(generated, "resolvers"), *modules = json_object_get(generated, "modules");
	CHECK(json_array_size(resolvers) > 0 &&
	      count_type(t, "AWS::AppSync::Resolver") == json_array_size(resolvers),
	      "one resolver per generated entry (%zu)", json_array_size(resolvers));
	size_t i, bad = 0, deps = 0, code_ok = 0;
	json_t *r;
	const char *slid = lid_of(t, "data/GraphQLSchema");
	json_t *acts_todo = json_array();
	json_array_foreach(resolvers, i, r) {
		char p[512];
		snprintf(p, sizeof p, "data/%s/%s/%s", json_string_value(json_object_get(r, "model")),
			 json_string_value(json_object_get(r, "typeName")),
			 json_string_value(json_object_get(r, "fieldName")));
		json_t *res = by_path(t, p);
		json_t *rp = json_object_get(res, "Properties");
		const char *ds = json_string_value(json_object_get(r, "dataSource"));
		char dsp[300];
		snprintf(dsp, sizeof dsp, ds ? "data/%s/DataSource" : "data/NoneDataSource", ds);
		char want[300];
		snprintf(want, sizeof want, "{\"Fn::GetAtt\":[\"%s\",\"Name\"]}", lid_of(t, dsp) ? lid_of(t, dsp) : "?");
		char *got = dump(json_object_get(rp, "DataSourceName"));
		if (!res || strcmp(got, want) ||
		    !has(json_object_get(rp, "Runtime"), "{\"Name\":\"APPSYNC_JS\",\"RuntimeVersion\":\"1.0.0\"}") ||
		    strcmp(json_string_value(json_object_get(rp, "Kind")), "UNIT") || json_object_get(rp, "Code"))
			bad++;
		free(got);
		/* Its code: the file asset of its module, named in CodeS3Location. */
		json_t *mod = json_array_get(modules, (size_t)json_integer_value(json_object_get(r, "module")));
		const char *code = json_string_value(json_object_get(mod, "code"));
		char hex[65] = "", file[128];
		if (code)
			synth_sha256_hex(code, strlen(code), hex);
		snprintf(file, sizeof file, "out/asset.%s.js", hex);
		char *loc = dump(json_object_get(rp, "CodeS3Location")), *text = NULL;
		size_t len = 0;
		char want_key[80];
		snprintf(want_key, sizeof want_key, "\"/\",\"%s.js\"]", hex);
		if (code && strstr(loc, "s3://cdk-hnb659fds-assets-") && strstr(loc, want_key) &&
		    synth_file_read(file, &text, &len) == 0 && len == strlen(code) && !memcmp(text, code, len))
			code_ok++;
		free(text);
		free(loc);
		deps += slid && has(json_object_get(res, "DependsOn"), slid);
		if (ds && !strcmp(ds, "Todo"))
			json_array_extend(acts_todo, json_object_get(r, "actions"));
	}
	CHECK(bad == 0, "every resolver: UNIT, APPSYNC_JS 1.0.0, no inline code, its data source (%zu wrong)", bad);
	CHECK(code_ok == json_array_size(resolvers),
	      "every resolver's CodeS3Location is its module's file asset, which holds the generated code (%zu of %zu)",
	      code_ok, json_array_size(resolvers));
	CHECK(count_files("out/asset.*.js") == json_array_size(modules) && json_array_size(modules) == 3,
	      "one code file per model (%zu modules)", json_array_size(modules));
	json_t *code_am = load_glob("out/*.assets.json");
	size_t published = 0;
	json_array_foreach(modules, i, r) {
		char hex[65];
		const char *code = json_string_value(json_object_get(r, "code"));
		synth_sha256_hex(code, strlen(code), hex);
		char okey[80];
		snprintf(okey, sizeof okey, "%s.js", hex);
		json_t *f = json_object_get(json_object_get(code_am, "files"), hex);
		published += has(json_object_get(f, "destinations"), okey);
	}
	CHECK(published == json_array_size(modules), "the asset manifest publishes each code file (%zu)", published);
	json_decref(code_am);
	CHECK(deps == json_array_size(resolvers), "every resolver waits for the schema");
	/* Least privilege: the Todo role's actions are exactly the union. */
	json_t *role = props_of(t, "data/Todo/DataSourceRole");
	json_t *st = json_array_get(json_object_get(json_object_get(json_array_get(
		json_object_get(role, "Policies"), 0), "PolicyDocument"), "Statement"), 0);
	json_t *acts = json_object_get(st, "Action");
	size_t missing = 0;
	json_array_foreach(acts_todo, i, r)
		missing += !has(acts, json_string_value(r));
	json_array_foreach(acts, i, r)
		missing += !has(acts_todo, json_string_value(r));
	CHECK(json_array_size(acts) > 0 && missing == 0,
	      "the Todo data source role may do exactly what its resolvers do (%s)",
	      json_string_value(json_array_get(acts, 0)));
	CHECK(has(json_object_get(st, "Resource"), "/index/*"), "and query its indexes");
	CHECK(has(role, "appsync.amazonaws.com"), "the role trusts AppSync");
	json_decref(acts_todo);
	json_decref(generated);
	json_decref(model);

	/* IAM rules: the guest role may call the public fields. */
	json_t *gp = props_of(t, "data/UnauthenticatedRolePolicy");
	snprintf(ref, sizeof ref, "{\"Ref\":\"%s\"}", lid_of(t, "auth/UnauthenticatedRole"));
	CHECK(gp && has(json_object_get(gp, "Roles"), ref) && has(gp, "/types/Query/fields/getTodo") &&
	      !has(gp, "createTodo"), "public iam: the guest role may get and list todos, not create");
	CHECK(!by_path(t, "data/AuthenticatedRolePolicy"), "no private iam rule: no policy on users");

	/* Outputs. */
	json_t *outs = json_object_get(t, "Outputs");
	snprintf(ref, sizeof ref, "{\"Fn::GetAtt\":[\"%s\",\"GraphQLUrl\"]}", lid_of(t, "data/GraphQLApi"));
	char *ep = dump(json_object_get(json_object_get(outs, "awsAppsyncApiEndpoint"), "Value"));
	CHECK_STR(ep, ref, "awsAppsyncApiEndpoint is the API's GraphQLUrl");
	free(ep);
	CHECK_STR(json_string_value(json_object_get(json_object_get(outs, "awsAppsyncAdditionalAuthenticationTypes"), "Value")),
		  "API_KEY,AWS_IAM", "awsAppsyncAdditionalAuthenticationTypes");
	CHECK(json_object_get(outs, "awsAppsyncApiKey") && json_object_get(outs, "awsAppsyncRegion") &&
	      json_object_get(outs, "awsAppsyncApiId"), "API key, region and id outputs");
	json_t *md = json_object_get(json_object_get(t, "Metadata"), "AWS::Amplify::GraphQL");
	CHECK(has(json_object_get(md, "stackOutputs"), "amplifyApiModelSchemaS3Uri") &&
	      has(json_object_get(md, "stackOutputs"), "awsAppsyncApiEndpoint"),
	      "the outputs are listed under AWS::Amplify::GraphQL");
	/* The model introspection: an asset of the assembly, its URI an output. */
	char *uri = dump(json_object_get(json_object_get(outs, "amplifyApiModelSchemaS3Uri"), "Value"));
	CHECK(count_files("out/asset.*.json") == 1, "the model introspection is a file of the assembly");
	glob_t gl;
	if (glob("out/asset.*.json", 0, NULL, &gl) == 0) {
		char hash[65] = "";
		snprintf(hash, sizeof hash, "%s", gl.gl_pathv[0] + strlen("out/asset."));
		CHECK_HAS(uri, hash, "amplifyApiModelSchemaS3Uri names it");
		CHECK_HAS(uri, "s3://cdk-hnb659fds-assets-", "in the asset bucket");
		json_t *am = load_glob("out/*.assets.json");
		CHECK(has(json_object_get(am, "files"), hash), "the asset manifest publishes it");
		json_t *mis = json_load_file(gl.gl_pathv[0], 0, NULL);
		CHECK(json_object_get(mis, "models") != NULL, "it is the model introspection schema");
		json_decref(mis);
		json_decref(am);
		char *text = NULL;
		size_t len = 0;
		char hex[65];
		synth_file_read(gl.gl_pathv[0], &text, &len);
		synth_sha256_hex(text, len, hex);
		CHECK(!strncmp(hex, hash, 64), "its name is its SHA-256");
		free(text);
		globfree(&gl);
	}
	free(uri);

	/* Determinism: the same synth writes the same bytes. */
	char *first = json_dumps(t, JSON_COMPACT), *second = NULL;
	b = new_backend();
	synth_define_auth(b, NULL);
	synth_define_data(b, &(synth_data_props){.streams = true, .point_in_time_recovery = true});
	run(b);
	json_t *t2 = root_template();
	second = t2 ? json_dumps(t2, JSON_COMPACT) : NULL;
	CHECK(first && second && !strcmp(first, second), "a second synth writes the same template");
	free(first);
	free(second);
	json_decref(t2);
	json_decref(t);
	synth__rm_rf("out");
}

static void test_api_key_only(void)
{
	write_text("data/schema.graphql", public_schema);
	synth_backend *b = new_backend();
	synth_define_data(b, &(synth_data_props){.api_key_expires_days = 30});
	int rc = run(b);
	CHECK(rc == 0, "a public schema without auth synthesizes (%s)", synth_error_last()->message);
	json_t *t = root_template();
	json_t *api = props_of(t, "data/GraphQLApi");
	CHECK_STR(json_string_value(json_object_get(api, "AuthenticationType")), "API_KEY",
		  "without auth, the API key is the default mode");
	CHECK(!json_object_get(api, "UserPoolConfig") &&
	      !json_object_get(api, "AdditionalAuthenticationProviders"), "and the only one");
	json_int_t exp = json_integer_value(json_object_get(props_of(t, "data/ApiKey"), "Expires"));
	long long now = time(NULL);
	CHECK(exp >= now + 30 * 86400 && exp <= now + 31 * 86400, "api_key_expires_days = 30");
	json_t *outs = json_object_get(t, "Outputs");
	CHECK(!json_object_get(outs, "awsAppsyncAdditionalAuthenticationTypes") &&
	      json_object_get(outs, "awsAppsyncApiKey"), "no additional modes output; the key is");
	CHECK(!by_path(t, "data/UnauthenticatedRolePolicy"), "no auth roles to grant");
	CHECK_STR(json_string_value(json_object_get(by_path(t, "data/Note/Table"), "DeletionPolicy")),
		  "Retain", "tables retained on a branch");
	json_decref(t);
	synth__rm_rf("out");

	/* No API key mode: no key. */
	b = new_backend();
	synth_define_auth(b, NULL);
	synth_define_data(b, &(synth_data_props){
		.schema = "type Secret @model @auth(rules: [{ allow: private }]) { x: String }"});
	rc = run(b);
	t = root_template();
	CHECK(rc == 0 && t && !by_path(t, "data/ApiKey") &&
	      !json_object_get(json_object_get(t, "Outputs"), "awsAppsyncApiKey"),
	      "an inline schema with only user pool rules: no API key (%s)", synth_error_last()->message);
	json_decref(t);
	synth__rm_rf("out");
}

/* Runs a backend that fails; checks the code, the message, and that
 * nothing was written. */
static void expect_fail(synth_backend *b, int code, const char *msg, const char *what)
{
	int rc = run(b);
	CHECK(rc == code, "%s: refused with code %d (got %d)", what, code, rc);
	CHECK_HAS(synth_error_last()->message, msg, "%s: the message", what);
	struct stat st;
	CHECK(stat("out", &st) < 0, "%s: nothing written", what);
	synth__rm_rf("out");
}

static void test_errors(void)
{
	/* Owner rules without auth: the rule's position. */
	write_text("data/schema.graphql", "type Todo @model\n  @auth(rules: [\n    { allow: owner }]) {\n  x: String\n}\n");
	synth_backend *b = new_backend();
	synth_define_data(b, NULL);
	expect_fail(b, SYNTH_ENOTFOUND, "data: data/schema.graphql:3:5: @auth rule 'owner' needs the "
		    "user pool: call synth_define_auth in this backend", "owner rule without auth");
	write_text("data/schema.graphql", "type T @model @auth(rules: [{ allow: private, provider: iam }]) { x: Int }\n");
	b = new_backend();
	synth_define_data(b, NULL);
	expect_fail(b, SYNTH_ENOTFOUND, "data/schema.graphql:1:29: @auth rule 'private' with provider "
		    "'iam' needs the identity pool", "iam rule without auth");
	b = new_backend();
	synth_define_data(b, &(synth_data_props){.schema = public_schema,
						 .default_auth = SYNTH_DATA_AUTH_USER_POOL});
	expect_fail(b, SYNTH_ENOTFOUND, "default_auth is the user pool, but the backend has no auth",
		    "user pool default without auth");

	/* Schema files. */
	synth__rm_rf("data");
	b = new_backend();
	synth_define_data(b, NULL);
	expect_fail(b, SYNTH_ENOTFOUND, "data: schema file 'data/schema.graphql' does not exist",
		    "no schema file");
	write_text("data/schema.graphql", "");
	b = new_backend();
	synth_define_data(b, NULL);
	expect_fail(b, SYNTH_EINVALID, "data: data/schema.graphql:1:1: the schema is empty", "empty schema");
	write_text("data/schema.graphql", "type T @model {\n  name: String # caf\xe9\n}\n");
	b = new_backend();
	synth_define_data(b, NULL);
	expect_fail(b, SYNTH_EINVALID, "data: data/schema.graphql:2:21: invalid UTF-8", "Latin-1 schema");
	write_text("data/schema.graphql", "type T @model {\n  name String\n}\n");
	b = new_backend();
	synth_define_data(b, NULL);
	expect_fail(b, SYNTH_EINVALID, "data: data/schema.graphql:2:8: expected ':'", "syntax error");
	write_text("api.graphql", "type T @model @searchable { x: Int }\n");
	b = new_backend();
	synth_define_data(b, &(synth_data_props){.schema_file = "api.graphql"});
	expect_fail(b, SYNTH_EINVALID, "data: api.graphql:1:15: unknown directive @searchable",
		    "unknown directive, schema_file");
	b = new_backend();
	synth_define_data(b, &(synth_data_props){.schema = "type T @model { x: Missing }"});
	expect_fail(b, SYNTH_EINVALID, "data: (inline schema):1:20: unknown type 'Missing'", "unknown type");
	b = new_backend();
	synth_define_data(b, &(synth_data_props){.schema = "type T { x: Int }\ntype Query { t: T }"});
	expect_fail(b, SYNTH_EINVALID, "the schema has no @model type", "no model");

	/* Props. */
	b = new_backend();
	synth_define_data(b, &(synth_data_props){.schema = public_schema, .schema_file = "x"});
	expect_fail(b, SYNTH_EINVALID, "data: give schema_file or schema, not both", "both schemas");
	b = new_backend();
	synth_define_data(b, &(synth_data_props){.schema = public_schema, .api_key_expires_days = 366});
	expect_fail(b, SYNTH_EINVALID, "api_key_expires_days is 366; AppSync allows 1 to 365", "key days");
	b = new_backend();
	synth_data *d1 = synth_define_data(b, &(synth_data_props){.schema = public_schema});
	synth_data *d2 = synth_define_data(b, &(synth_data_props){.schema_file = "other.graphql"});
	CHECK(d1 && !d2, "a second define_data returns NULL");
	expect_fail(b, SYNTH_EEXISTS, "data: define_data is called twice; a backend has one data (the "
		    "second call's schema: other.graphql)", "two define_data");
}

static void test_grant(void)
{
	write_text("functions/reader/index.mjs", "export const handler = async () => 1;\n");
	synth_backend *b = new_backend();
	synth_function *fn = synth_define_function(b, "reader", &(synth_function_props){.entry = "functions/reader"});
	synth_data *d = synth_define_data(b, &(synth_data_props){.schema = public_schema});
	CHECK(synth_data_grant(d, fn, "query") == 0, "grant query to a function");
	int rc = run(b);
	json_t *t = root_template();
	json_t *pol = props_of(t, "reader/ServiceRole/DefaultPolicy");
	CHECK(rc == 0 && has(pol, "appsync:GraphQL") && has(pol, "/types/Query/*") &&
	      !has(pol, "/types/Mutation/*"), "the function may query, not mutate (%s)",
	      synth_error_last()->message);
	json_t *api = props_of(t, "data/GraphQLApi");
	CHECK(has(json_object_get(api, "AdditionalAuthenticationProviders"), "AWS_IAM"),
	      "a grant turns IAM mode on");
	CHECK(has(props_of(t, "reader/Resource"), "AMPLIFY_DATA_GRAPHQL_ENDPOINT"), "the function knows the endpoint");
	/* The resolvers let the granted role through: the API's environment
	 * names it (a Ref of the function's role: its name) per access. */
	json_t *env = json_object_get(api, "EnvironmentVariables");
	char *e = dump(env);
	const char *role_id = NULL;
	const char *k;
	json_t *v;
	json_object_foreach(json_object_get(t, "Resources"), k, v)
		if (has(json_object_get(v, "Metadata"), "\"reader/ServiceRole\""))
			role_id = k;
	char want[200];
	snprintf(want, sizeof want, "\"SYNTH_IAM_QUERY\":{\"Ref\":\"%s\"}", role_id ? role_id : "?");
	CHECK(e && role_id && strstr(e, want) && strstr(e, "\"SYNTH_IAM_ACCOUNT\":{\"Ref\":\"AWS::AccountId\"}") &&
		      !strstr(e, "SYNTH_IAM_MUTATE"),
	      "the API's environment names the granted role for query only (%s)", e ? e : "null");
	free(e);
	const char *sdl = json_string_value(json_object_get(props_of(t, "data/GraphQLSchema"), "Definition"));
	CHECK(sdl && strstr(sdl, "type Note @aws_api_key @aws_iam {") &&
		      strstr(sdl, "getNote(id: ID!): Note @aws_api_key @aws_iam"),
	      "with a grant, the model type and its operations admit @aws_iam");
	json_decref(t);
	synth__rm_rf("out");
	/* Two functions, one may query and mutate: both roles in
	 * SYNTH_IAM_QUERY (joined by ','), one in SYNTH_IAM_MUTATE. */
	write_text("functions/writer/index.mjs", "export const handler = async () => 1;\n");
	b = new_backend();
	fn = synth_define_function(b, "reader", &(synth_function_props){.entry = "functions/reader"});
	synth_function *fw = synth_define_function(b, "writer", &(synth_function_props){.entry = "functions/writer"});
	d = synth_define_data(b, &(synth_data_props){.schema = public_schema});
	CHECK(synth_data_grant(d, fn, "query") == 0 && synth_data_grant(d, fw, "query, mutate") == 0,
	      "grants to two functions");
	rc = run(b);
	t = root_template();
	env = json_object_get(props_of(t, "data/GraphQLApi"), "EnvironmentVariables");
	json_t *q = json_object_get(env, "SYNTH_IAM_QUERY"), *mu = json_object_get(env, "SYNTH_IAM_MUTATE");
	e = dump(q);
	CHECK(rc == 0 && e && strstr(e, "\"Fn::Join\":[\",\",[{\"Ref\":\"readerServiceRole") && strstr(e, "{\"Ref\":\"writerServiceRole") &&
		      json_object_get(mu, "Ref") && strstr(json_string_value(json_object_get(mu, "Ref")), "writerServiceRole") &&
		      !json_object_get(env, "SYNTH_IAM_SUBSCRIBE"),
	      "query names both roles (Fn::Join ','), mutate the writer's only (%s)", e ? e : "null");
	free(e);
	pol = props_of(t, "writer/ServiceRole/DefaultPolicy");
	CHECK(has(pol, "/types/Query/*") && has(pol, "/types/Mutation/*") && !has(pol, "/types/Subscription/*"),
	      "the writer's policy: Query and Mutation");
	json_decref(t);
	synth__rm_rf("out");
	b = new_backend();
	fn = synth_define_function(b, "reader", &(synth_function_props){.entry = "functions/reader"});
	d = synth_define_data(b, &(synth_data_props){.schema = public_schema});
	CHECK(synth_data_grant(d, fn, "query,drop") == SYNTH_EINVALID, "an unknown access is refused");
	expect_fail(b, SYNTH_EINVALID, "data: grant to reader: 'drop' is not query, mutate or subscribe",
		    "bad grant");
}

#if CHAOS
static int chaos_once(void)
{
	synth_backend *b = new_backend();
	if (!b)
		return SYNTH_ENOMEM;
	synth_define_auth(b, NULL);
	synth_define_data(b, NULL);
	int rc = synth_backend_run(b);
	synth_backend_free(b);
	synth__rm_rf("out");
	return rc;
}

static void test_chaos(void)
{
	write_text("data/schema.graphql", todo_schema);
	CHECK(chaos_once() == 0, "chaos: a clean run succeeds (%s)", synth_error_last()->message);
	tracking = 1;
	count = live = 0;
	int rc = chaos_once();
	long total = count;
	CHECK(rc == 0 && live == 0, "chaos: a tracked run frees everything (live %ld)", live);
	long leaks = 0, failed = 0, wrong = 0, first = -1;
	for (long n = 1; n <= total; n++) {
		count = live = 0;
		fail_at = n;
		rc = chaos_once();
		fail_at = -1;
		failed += rc != 0;
		if (rc != 0 && rc != SYNTH_ENOMEM && rc != SYNTH_EIO && rc != SYNTH_ERROR) {
			wrong++;
			if (getenv("CHAOS_DEBUG"))
				printf("# n=%ld rc=%d %s\n", n, rc, synth_error_last()->message);
		}
		if (live > 0 && first < 0)
			first = n;
		leaks += live > 0;
	}
	tracking = 0;
	CHECK(failed > total / 2, "chaos: %ld of %ld runs failed cleanly", failed, total);
	CHECK(leaks == 0, "chaos: no leak with any allocation failing (%ld runs leak, first at %ld)",
	      leaks, first);
	CHECK(wrong == 0, "chaos: failures report out of memory or I/O (%ld others)", wrong);
}
#endif

int main(void)
{
	char *d = tmp_cwd();
	test_todo();
	test_api_key_only();
	test_errors();
	test_grant();
#if CHAOS
	if (!getenv("DATA_NO_CHAOS"))
		test_chaos();
#endif
	rm_tmp(d);
	return check_failed ? 1 : 0;
}

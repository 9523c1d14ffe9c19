/*
 * define_data's generators, part 1 (constructs/data/gqlgen.c): the AppSync client
 * schema and Amplify's model introspection, from schemas under test/gql/
 * (found through SYNTH_ROOT). Asserts on the operations and inputs present
 * or absent, the authorization directives per mode, field types, the
 * introspection JSON, determinism, name clashes, and an allocation failure
 * at every step (malloc itself outside ASan; jansson's allocations under
 * ASan, whose leak checker then watches).
 * test/cli/gqlschema.sh has the reference GraphQL implementation build
 * every schema written here.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdlib.h>
#include "check.h"
#include <synth/sys/util.h>
#include "graphql.h"
#include "gqlgen.h"

/* --- allocation failure injection ------------------------------------- */

#include "failmalloc.h"

#if !CHAOS
/* Under ASan: only jansson's allocations fail (ASan owns malloc); its leak
 * checker reports anything left at exit. */
static void *j_malloc(size_t n)
{
	return should_fail() ? NULL : malloc(n);
}

static void j_free(void *p)
{
	free(p);
}
#endif

/* --- helpers ---------------------------------------------------------- */

static json_t *parse_fixture(const char *name)
{
	const char *root = getenv("SYNTH_ROOT");
	char *path = synth_asprintf("%s/test/gql/%s", root ? root : ".", name), *text = NULL;
	size_t len = 0;
	json_t *m = NULL;
	if (!path || synth_file_read(path, &text, &len) < 0)
		printf("# cannot read %s: %s\n", path ? path : name, synth_error_last()->message);
	else if (synth__graphql_parse(&m, name, text, len) < 0)
		printf("# %s\n", synth_error_last()->message);
	free(text);
	free(path);
	return m;
}

static json_t *parse_text(const char *text)
{
	json_t *m = NULL;
	if (synth__graphql_parse(&m, "schema.graphql", text, strlen(text)) < 0)
		printf("# %s\n", synth_error_last()->message);
	return m;
}

/* The SDL of fixture NAME with default mode AUTH; NULL on failure. */
static char *sdl_of(const char *name, const char *auth)
{
	json_t *m = parse_fixture(name);
	char *s = NULL;
	if (m && synth__gql_client_schema(&s, m, auth) < 0)
		printf("# %s: %s\n", name, synth_error_last()->message);
	json_decref(m);
	return s;
}

static json_t *intro_of(const char *name)
{
	json_t *m = parse_fixture(name), *o = NULL;
	if (m && synth__gql_model_introspection(&o, m) < 0)
		printf("# %s: %s\n", name, synth_error_last()->message);
	json_decref(m);
	return o;
}

/* The text of definition "KIND NAME" (through its closing brace), or an
 * empty string: a static buffer, valid until the next call. */
static const char *def(const char *sdl, const char *head)
{
	static char buf[16384];
	char needle[512];
	buf[0] = '\0';
	snprintf(needle, sizeof needle, "\n%s ", head);
	const char *p = sdl ? strstr(sdl, needle) : NULL;
	if (!p && sdl && !strncmp(sdl, needle + 1, strlen(needle + 1)))
		p = sdl - 1;
	if (!p)
		return buf;
	p++;
	const char *e = strstr(p, "\n}");
	size_t n = e ? (size_t)(e - p) + 2 : strlen(p);
	if (n >= sizeof buf)
		n = sizeof buf - 1;
	memcpy(buf, p, n);
	buf[n] = '\0';
	return buf;
}

/* The line of SDL declaring root field NAME (e.g. "listTodos("). */
static const char *op(const char *sdl, const char *name)
{
	static char buf[4096];
	char needle[256];
	buf[0] = '\0';
	snprintf(needle, sizeof needle, "\n  %s", name);
	const char *p = sdl ? strstr(sdl, needle) : NULL;
	if (!p)
		return buf;
	p += 3;
	const char *e = strchr(p, '\n');
	size_t n = e ? (size_t)(e - p) : strlen(p);
	if (n >= sizeof buf)
		n = sizeof buf - 1;
	memcpy(buf, p, n);
	buf[n] = '\0';
	return buf;
}

#define HAS(s, needle, ...) CHECK_HAS(s, needle, __VA_ARGS__)
#define LACKS(s, needle, ...) CHECK((s) && !strstr((s), needle), __VA_ARGS__)

static json_t *path(json_t *j, const char *a, const char *b, const char *c, const char *d)
{
	const char *keys[] = {a, b, c, d};
	for (int i = 0; i < 4 && keys[i] && j; i++)
		j = json_object_get(j, keys[i]);
	return j;
}

static const char *jstr_at(json_t *j, const char *a, const char *b, const char *c, const char *d)
{
	return json_string_value(path(j, a, b, c, d));
}

/* --- the schemas ------------------------------------------------------- */

static void test_todo(void)
{
	char *s = sdl_of("todo.graphql", SYNTH_GQL_AUTH_USER_POOLS);
	CHECK(s != NULL, "todo: the schema is generated");
	const char *t = def(s, "type Todo");
	HAS(t, "type Todo {\n  id: ID!\n  content: String\n  done: Boolean!\n  createdAt: AWSDateTime!\n"
	       "  updatedAt: AWSDateTime!\n  owner: String\n}",
	    "todo: id, the declared fields, timestamps and the owner field, in Amplify's order");
	HAS(def(s, "type ModelTodoConnection"), "items: [Todo]!\n  nextToken: String",
	    "todo: the connection type");
	HAS(op(s, "getTodo("), "getTodo(id: ID!): Todo", "todo: getTodo by id");
	CHECK_STR(op(s, "listTodos("),
		  "listTodos(filter: ModelTodoFilterInput, limit: Int, nextToken: String): ModelTodoConnection",
		  "todo: listTodos with filter, limit, nextToken");
	CHECK_STR(op(s, "createTodo("),
		  "createTodo(input: CreateTodoInput!, condition: ModelTodoConditionInput): Todo",
		  "todo: createTodo(input, condition)");
	HAS(op(s, "onCreateTodo("),
	    "onCreateTodo(filter: ModelSubscriptionTodoFilterInput, owner: String): Todo "
	    "@aws_subscribe(mutations: [\"createTodo\"])",
	    "todo: onCreateTodo with the owner argument, subscribed to createTodo");
	HAS(def(s, "input CreateTodoInput"), "id: ID\n  content: String\n  done: Boolean!\n}",
	    "todo: create input: id optional, done required, no timestamps or owner");
	HAS(def(s, "input UpdateTodoInput"), "id: ID!\n  content: String\n  done: Boolean\n}",
	    "todo: update input: only the key required");
	HAS(def(s, "input DeleteTodoInput"), "{\n  id: ID!\n}", "todo: delete input: the key");
	HAS(def(s, "input ModelTodoFilterInput"), "done: ModelBooleanInput", "todo: filter on Boolean");
	HAS(def(s, "input ModelTodoFilterInput"), "not: ModelTodoFilterInput", "todo: filter has not");
	HAS(def(s, "input ModelTodoFilterInput"), "owner: ModelStringInput", "todo: filter on owner");
	LACKS(def(s, "input ModelTodoConditionInput"), "  id:", "todo: the condition leaves out the key");
	LACKS(def(s, "input ModelSubscriptionTodoFilterInput"), "not:", "todo: subscription filters have no not");
	HAS(s, "enum ModelSortDirection {\n  ASC\n  DESC\n}", "todo: ModelSortDirection");
	HAS(s, "enum ModelAttributeTypes {", "todo: ModelAttributeTypes");
	HAS(def(s, "input ModelSizeInput"), "between: [Int]", "todo: ModelSizeInput");
	LACKS(s, "@aws_cognito", "todo: only the default mode (user pools): no auth directive at all");
	LACKS(s, "@aws_api_key", "todo: no API key directive");
	LACKS(s, "KeyConditionInput", "todo: no key condition inputs without sort keys");
	free(s);

	/* the same model under an API whose default is the API key: every
	 * user-pool operation names its mode */
	s = sdl_of("todo.graphql", SYNTH_GQL_AUTH_API_KEY);
	HAS(s, "type Todo @aws_cognito_user_pools {", "todo (API key default): the type names user pools");
	HAS(op(s, "getTodo("), "): Todo @aws_cognito_user_pools", "todo (API key default): getTodo too");
	HAS(op(s, "onDeleteTodo("), "@aws_subscribe(mutations: [\"deleteTodo\"]) @aws_cognito_user_pools",
	    "todo (API key default): subscriptions too");
	LACKS(s, "@aws_api_key", "todo (API key default): the API key reaches nothing");
	free(s);

	json_t *j = intro_of("todo.graphql");
	CHECK(json_integer_value(json_object_get(j, "version")) == 1, "todo introspection: version 1");
	json_t *todo = path(j, "models", "Todo", NULL, NULL);
	CHECK_STR(jstr_at(todo, "pluralName", NULL, NULL, NULL), "Todos", "todo introspection: pluralName");
	CHECK(json_is_true(json_object_get(todo, "syncable")), "todo introspection: syncable");
	json_t *f = json_object_get(todo, "fields");
	const char *order[] = {"id", "content", "done", "createdAt", "updatedAt", "owner"};
	size_t k = 0;
	const char *key;
	json_t *v;
	bool in_order = json_object_size(f) == 6;
	json_object_foreach(f, key, v)
		in_order &= k < 6 && !strcmp(key, order[k++]);
	CHECK(in_order, "todo introspection: fields id, content, done, createdAt, updatedAt, owner");
	CHECK(json_is_true(path(f, "id", "isRequired", NULL, NULL)) &&
		      !strcmp(jstr_at(f, "id", "type", NULL, NULL), "ID"),
	      "todo introspection: id: ID, required");
	CHECK(json_is_true(path(f, "createdAt", "isReadOnly", NULL, NULL)) &&
		      json_is_false(path(f, "createdAt", "isRequired", NULL, NULL)),
	      "todo introspection: createdAt read-only, not required");
	CHECK(json_is_false(path(f, "owner", "isRequired", NULL, NULL)), "todo introspection: owner optional");
	char *attrs = json_dumps(json_object_get(todo, "attributes"), JSON_COMPACT);
	CHECK_STR(attrs,
		  "[{\"type\":\"model\",\"properties\":{}},{\"type\":\"key\",\"properties\":{\"fields\":[\"id\"]}},"
		  "{\"type\":\"auth\",\"properties\":{\"rules\":[{\"allow\":\"owner\",\"provider\":\"userPools\","
		  "\"ownerField\":\"owner\",\"identityClaim\":\"sub::username\",\"operations\":"
		  "[\"create\",\"update\",\"delete\",\"read\"]}]}}]",
		  "todo introspection: model, key and auth attributes as Amplify writes them");
	free(attrs);
	char *pk = json_dumps(json_object_get(todo, "primaryKeyInfo"), JSON_COMPACT);
	CHECK_STR(pk, "{\"isCustomPrimaryKey\":false,\"primaryKeyFieldName\":\"id\",\"sortKeyFieldNames\":[]}",
		  "todo introspection: primaryKeyInfo");
	free(pk);
	CHECK(json_object_size(json_object_get(j, "enums")) == 0 &&
		      json_object_size(json_object_get(j, "nonModels")) == 0,
	      "todo introspection: no enums, no nonModels");
	json_decref(j);
}

static void test_blog(void)
{
	char *s = sdl_of("blog.graphql", SYNTH_GQL_AUTH_USER_POOLS);
	CHECK(s != NULL, "blog: the schema is generated");
	HAS(s, "\"\"\"\nA blog, read by anyone with the API key.\n\"\"\"\ntype Blog",
	    "blog: the model's description is kept");
	const char *b = def(s, "type Blog");
	HAS(b, "type Blog @aws_api_key @aws_cognito_user_pools {", "blog: public + owner: API key and user pools");
	HAS(b, "  posts(filter: ModelPostFilterInput, sortDirection: ModelSortDirection, limit: Int, "
	       "nextToken: String): ModelPostConnection\n",
	    "blog: hasMany is a connection with filter, sortDirection, limit, nextToken");
	HAS(b, "  profile: Profile\n", "blog: hasOne is the related type");
	HAS(def(s, "type Post"), "  blog: Blog\n", "blog: belongsTo is the related type");
	HAS(def(s, "type Post"), "\"\"\"\n  The blog this post belongs to\n  \"\"\"\n  blogId: ID\n",
	    "blog: field descriptions are kept");
	HAS(def(s, "type Editor"), "  blogEditorsId: ID\n}", "blog: Gen1 implicit hasMany key on the related model");
	HAS(def(s, "input CreateEditorInput"), "blogEditorsId: ID", "blog: the implicit key is in the create input");
	HAS(def(s, "input ModelEditorFilterInput"), "blogEditorsId: ModelIDInput", "blog: and in the filter");
	HAS(def(s, "type Site"), "  siteHomeLang: String\n", "blog: implicit hasOne keys take the related key's types");
	LACKS(def(s, "input CreateBlogInput"), "posts", "blog: no relation objects in inputs");
	LACKS(def(s, "input ModelPostFilterInput"), "  blog:", "blog: no relation objects in filters");
	HAS(def(s, "input CreatePostInput"), "  blogId: ID\n", "blog: the reference field is in the create input");
	HAS(op(s, "getPage("), "getPage(path: String!, lang: String!): Page",
	    "blog: a composite key's get takes every key field");
	free(s);

	json_t *j = intro_of("blog.graphql");
	json_t *m = path(j, "models", NULL, NULL, NULL);
	char *a = json_dumps(path(m, "Blog", "fields", "posts", NULL), JSON_COMPACT);
	CHECK_STR(a,
		  "{\"name\":\"posts\",\"isArray\":true,\"type\":{\"model\":\"Post\"},\"isRequired\":false,"
		  "\"attributes\":[],\"isArrayNullable\":true,\"association\":{\"connectionType\":\"HAS_MANY\","
		  "\"associatedWith\":[\"blogId\"]}}",
		  "blog introspection: hasMany field with its association");
	free(a);
	a = json_dumps(path(m, "Post", "fields", "blog", "association"), JSON_COMPACT);
	CHECK_STR(a, "{\"connectionType\":\"BELONGS_TO\",\"targetNames\":[\"blogId\"]}",
		  "blog introspection: belongsTo targets the reference");
	free(a);
	a = json_dumps(path(m, "Blog", "fields", "profile", "association"), JSON_COMPACT);
	CHECK_STR(a, "{\"connectionType\":\"HAS_ONE\",\"associatedWith\":[\"blogId\"],\"targetNames\":[]}",
		  "blog introspection: hasOne by reference");
	free(a);
	a = json_dumps(path(m, "Site", "fields", "home", "association"), JSON_COMPACT);
	CHECK_STR(a,
		  "{\"connectionType\":\"HAS_ONE\",\"associatedWith\":[\"path\",\"lang\"],"
		  "\"targetNames\":[\"siteHomePath\",\"siteHomeLang\"]}",
		  "blog introspection: Gen1 hasOne: the related key and the implicit target fields");
	free(a);
	CHECK_STR(jstr_at(m, "Site", "fields", "siteHomeLang", "type"), "String",
		  "blog introspection: implicit key fields are listed with their type");
	json_t *pk = path(m, "Page", "primaryKeyInfo", NULL, NULL);
	CHECK(json_is_true(json_object_get(pk, "isCustomPrimaryKey")) &&
		      !strcmp(jstr_at(pk, "primaryKeyFieldName", NULL, NULL, NULL), "path") &&
		      !strcmp(json_string_value(json_array_get(json_object_get(pk, "sortKeyFieldNames"), 0)), "lang"),
	      "blog introspection: Page's custom primary key");
	json_decref(j);
}

static void test_keys(void)
{
	char *s = sdl_of("keys.graphql", SYNTH_GQL_AUTH_USER_POOLS);
	CHECK(s != NULL, "keys: the schema is generated");
	CHECK_STR(op(s, "getEmployee("),
		  "getEmployee(employeeId: ID!, department: String!, hired: AWSDate!): Employee",
		  "keys: get takes the partition key and every sort key field");
	CHECK_STR(op(s, "listEmployees("),
		  "listEmployees(employeeId: ID, departmentHired: ModelEmployeePrimaryCompositeKeyConditionInput, "
		  "filter: ModelEmployeeFilterInput, limit: Int, nextToken: String, sortDirection: "
		  "ModelSortDirection): ModelEmployeeConnection",
		  "keys: list takes the partition key, the composite sort key condition and sortDirection");
	HAS(def(s, "input ModelEmployeePrimaryCompositeKeyConditionInput"),
	    "beginsWith: ModelEmployeePrimaryCompositeKeyInput", "keys: the composite condition input");
	HAS(def(s, "input ModelEmployeePrimaryCompositeKeyInput"), "department: String\n  hired: String\n}",
	    "keys: the composite key input, with the fields' types");
	CHECK_STR(op(s, "employeesByManager("),
		  "employeesByManager(manager: ID!, levelName: ModelEmployeeByManagerCompositeKeyConditionInput, "
		  "sortDirection: ModelSortDirection, filter: ModelEmployeeFilterInput, limit: Int, "
		  "nextToken: String): ModelEmployeeConnection",
		  "keys: an index query with a composite sort key");
	HAS(op(s, "employeeByEmail("), "hired: ModelStringKeyConditionInput",
	    "keys: a date sort key takes a string condition");
	HAS(op(s, "employeesByLevel("), "employeesByLevel(level: Int!, sortDirection:",
	    "keys: an index with no sort key");
	LACKS(s, "noQuery", "keys: queryField: null makes no query");
	HAS(op(s, "listReadings("), "at: ModelIntKeyConditionInput", "keys: an AWSTimestamp sort key is an Int condition");
	HAS(def(s, "input ModelIntKeyConditionInput"), "between: [Int]\n}", "keys: Int key condition, no beginsWith");
	HAS(def(s, "input ModelStringKeyConditionInput"), "beginsWith: String", "keys: String key condition");
	CHECK_STR(op(s, "listTags("),
		  "listTags(label: String, filter: ModelTagFilterInput, limit: Int, nextToken: String, "
		  "sortDirection: ModelSortDirection): ModelTagConnection",
		  "keys: a custom key without sort keys: the partition key and sortDirection");
	HAS(def(s, "input CreateEmployeeInput"), "  employeeId: ID!\n  department: String!\n  hired: AWSDate!\n",
	    "keys: create requires the custom key fields");
	HAS(def(s, "input UpdateEmployeeInput"), "  employeeId: ID!\n  department: String!\n  hired: AWSDate!\n  name: String\n",
	    "keys: update requires the key fields only");
	HAS(def(s, "input DeleteEmployeeInput"), "{\n  employeeId: ID!\n  department: String!\n  hired: AWSDate!\n}",
	    "keys: delete takes the whole key");
	LACKS(def(s, "type Employee"), "  id:", "keys: no implicit id with a custom key");
	free(s);

	json_t *j = intro_of("keys.graphql");
	char *a = json_dumps(path(j, "models", "Employee", "attributes", NULL), JSON_COMPACT);
	HAS(a, "{\"type\":\"key\",\"properties\":{\"fields\":[\"employeeId\",\"department\",\"hired\"]}}",
	    "keys introspection: the primary key attribute");
	HAS(a, "{\"type\":\"key\",\"properties\":{\"name\":\"byManager\",\"queryField\":\"employeesByManager\","
	       "\"fields\":[\"manager\",\"level\",\"name\"]}}",
	    "keys introspection: an index with its queryField and fields");
	HAS(a, "{\"type\":\"key\",\"properties\":{\"name\":\"noQuery\",\"fields\":[\"badge\"]}}",
	    "keys introspection: an index without a query");
	free(a);
	json_decref(j);
}

static void test_types(void)
{
	char *s = sdl_of("types.graphql", SYNTH_GQL_AUTH_USER_POOLS);
	CHECK(s != NULL, "types: the schema is generated");
	HAS(def(s, "enum Status"), "OPEN\n  DONE", "types: enums carried over");
	HAS(s, "interface Node {\n  id: ID!\n}", "types: interfaces carried over");
	HAS(s, "type Place implements Node @aws_api_key {", "types: a custom type used by a public model gets its mode");
	HAS(def(s, "type Place"), "name: String @deprecated(reason: \"use label\")", "types: @deprecated kept");
	HAS(def(s, "type Point"), "type Point @aws_api_key {", "types: nested custom types too");
	HAS(s, "type Note implements Node {", "types: a type no model uses: the default mode");
	HAS(s, "union SearchResult = Place | Note", "types: unions carried over");
	HAS(def(s, "input Range"), "size: Fit = M\n  label: String = \"any \\\"quoted\\\" label\"",
	    "types: input defaults: enum values bare, strings escaped");
	HAS(op(s, "search("), "search(text: String!, range: Range = {from: 1, size: L}): [SearchResult]",
	    "types: a declared Query field is merged, with its object default");
	HAS(def(s, "type Query"), "getTask(id: ID!)", "types: the models' queries are in the same Query");
	HAS(def(s, "input ModelTaskFilterInput"), "status: ModelStatusInput", "types: enum filter input");
	HAS(def(s, "input ModelTaskFilterInput"), "statuses: ModelStatusListInput", "types: enum list filter input");
	HAS(def(s, "input ModelTaskFilterInput"), "stamp: ModelIntInput", "types: AWSTimestamp filters as Int");
	HAS(def(s, "input ModelTaskFilterInput"), "meta: ModelStringInput", "types: AWSJSON filters as String");
	LACKS(def(s, "input ModelTaskFilterInput"), "where", "types: custom-type fields are not filtered");
	HAS(def(s, "input ModelStatusInput"), "eq: Status\n  ne: Status", "types: Model<Enum>Input");
	HAS(def(s, "input ModelStatusListInput"), "contains: Status", "types: Model<Enum>ListInput");
	HAS(def(s, "input ModelSubscriptionTaskFilterInput"), "status: ModelSubscriptionStringInput",
	    "types: enums filter as strings in subscriptions");
	HAS(def(s, "input CreateTaskInput"), "  status: Status\n", "types: a @default field is optional on create");
	HAS(def(s, "input CreateTaskInput"), "  title: String!\n", "types: a required field stays required");
	HAS(def(s, "input CreateTaskInput"), "  where: PlaceInput\n", "types: custom types go in as their input twin");
	HAS(def(s, "input PlaceInput"), "  point: PointInput!\n  sizes: [Fit!]\n",
	    "types: the input twin nests, keeping list and non-null");
	LACKS(s, "input NoteInput", "types: no input twin for a type no model uses");
	free(s);

	json_t *j = intro_of("types.graphql");
	char *a = json_dumps(path(path(j, "models", "Task", "fields", NULL), "statuses", NULL, NULL, NULL), JSON_COMPACT);
	CHECK_STR(a,
		  "{\"name\":\"statuses\",\"isArray\":true,\"type\":{\"enum\":\"Status\"},\"isRequired\":false,"
		  "\"attributes\":[],\"isArrayNullable\":true}",
		  "types introspection: an enum list field");
	free(a);
	CHECK_STR(jstr_at(path(j, "models", "Task", "fields", "where"), "type", "nonModel", NULL, NULL), "Place",
		  "types introspection: a custom type field is a nonModel");
	a = json_dumps(path(j, "nonModels", "Place", NULL, NULL), JSON_COMPACT);
	HAS(a, "\"point\":{\"name\":\"point\",\"isArray\":false,\"type\":{\"nonModel\":\"Point\"},\"isRequired\":true,"
	       "\"attributes\":[]}",
	    "types introspection: nonModels carry their fields");
	free(a);
	a = json_dumps(path(j, "enums", "Status", NULL, NULL), JSON_COMPACT);
	CHECK_STR(a, "{\"name\":\"Status\",\"values\":[\"OPEN\",\"DONE\"]}", "types introspection: enums");
	free(a);
	CHECK(!path(j, "nonModels", "Query", NULL, NULL), "types introspection: Query is not a nonModel");
	json_decref(j);
}

static void test_auth(void)
{
	char *s = sdl_of("auth.graphql", SYNTH_GQL_AUTH_USER_POOLS);
	CHECK(s != NULL, "auth: the schema is generated");
	HAS(s, "type Doc @aws_api_key @aws_iam @aws_oidc @aws_cognito_user_pools {",
	    "auth: a type reachable by four modes names them all, the default included");
	HAS(op(s, "getDoc("), "@aws_api_key @aws_iam @aws_oidc @aws_cognito_user_pools", "auth: get by all four");
	CHECK_STR(op(s, "createDoc("),
		  "createDoc(input: CreateDocInput!, condition: ModelDocConditionInput): Doc @aws_iam @aws_cognito_user_pools",
		  "auth: create by IAM and user pools (owner, groups)");
	CHECK_STR(op(s, "deleteDoc("), "deleteDoc(input: DeleteDocInput!, condition: ModelDocConditionInput): Doc",
		  "auth: delete by user pools only: the default mode, no directive");
	HAS(op(s, "onCreateDoc("), "(filter: ModelSubscriptionDocFilterInput, author: String, reviewers: String)",
	    "auth: one owner argument per owner field");
	HAS(def(s, "type Doc"), "  author: String\n", "auth: the undeclared owner field is added");
	HAS(def(s, "type Doc"), "  reviewers: [String]\n", "auth: a declared owner field is kept as declared");
	HAS(s, "type Secret @aws_iam {", "auth: IAM only: the default mode is not named");
	LACKS(op(s, "listSecrets("), "cognito", "auth: user pools cannot list secrets");
	HAS(s, "type Open @aws_iam {", "auth: identityPool is AWS_IAM");
	CHECK_STR(op(s, "createOpen("), "createOpen(input: CreateOpenInput!, condition: ModelOpenConditionInput): Open @aws_iam",
		  "auth: an operation no rule grants keeps the type's modes (IAM), for the resolver to deny");
	HAS(s, "type Plain {", "auth: a model without @auth: the default mode only");
	free(s);

	s = sdl_of("auth.graphql", SYNTH_GQL_AUTH_IAM);
	HAS(s, "type Secret {", "auth (IAM default): IAM only: no directive");
	HAS(s, "type Plain {", "auth (IAM default): no @auth: the default mode");
	HAS(op(s, "deleteDoc("), "@aws_cognito_user_pools", "auth (IAM default): user pools named now");
	free(s);

	json_t *j = intro_of("auth.graphql");
	char *a = json_dumps(path(j, "models", "Doc", "attributes", NULL), JSON_COMPACT);
	HAS(a, "{\"allow\":\"groups\",\"provider\":\"userPools\",\"groupClaim\":\"cognito:groups\",\"groups\":[\"Admin\"],"
	       "\"operations\":[\"create\",\"update\",\"delete\",\"read\"]}",
	    "auth introspection: a groups rule");
	HAS(a, "{\"allow\":\"owner\",\"provider\":\"userPools\",\"ownerField\":\"reviewers\",\"identityClaim\":"
	       "\"sub::username\",\"operations\":[\"update\",\"read\"]}",
	    "auth introspection: an owner rule with its operations");
	HAS(a, "{\"allow\":\"private\",\"provider\":\"oidc\",\"operations\":[\"read\"]}", "auth introspection: oidc");
	free(a);
	a = json_dumps(path(j, "models", "Open", "attributes", NULL), JSON_COMPACT);
	HAS(a, "{\"allow\":\"public\",\"provider\":\"iam\",\"operations\":[\"get\",\"list\"]}",
	    "auth introspection: identityPool is written as iam; a partial read stays spelled out");
	free(a);
	a = json_dumps(path(j, "models", "Plain", "attributes", NULL), JSON_COMPACT);
	LACKS(a, "auth", "auth introspection: no auth attribute without @auth");
	free(a);
	json_decref(j);
}

static void test_options(void)
{
	char *s = sdl_of("options.graphql", SYNTH_GQL_AUTH_API_KEY);
	CHECK(s != NULL, "options: the schema is generated");
	LACKS(s, "getNoQueries", "options: queries: null: no get");
	LACKS(s, "listNoQueries", "options: queries: null: no list");
	HAS(op(s, "createNoQueries("), "createNoQueries(", "options: queries: null keeps mutations");
	HAS(op(s, "fetchRenamed("), "fetchRenamed(id: ID!): Renamed", "options: get renamed");
	LACKS(s, "listRenameds", "options: list: null");
	HAS(op(s, "addRenamed("), "addRenamed(input: CreateRenamedInput!", "options: create renamed");
	LACKS(s, "updateRenamed(", "options: update: null");
	HAS(op(s, "removeRenamed("), "removeRenamed(input: DeleteRenamedInput!", "options: delete renamed");
	HAS(op(s, "renamedAdded("), "@aws_subscribe(mutations: [\"addRenamed\"])",
	    "options: a custom subscription name, subscribed to the renamed mutation");
	LACKS(s, "onCreateRenamed", "options: custom names replace the default");
	LACKS(s, "onUpdateRenamed", "options: no subscription for a disabled mutation");
	LACKS(s, "onDeleteRenamed", "options: onDelete: null");
	LACKS(s, "createSilent", "options: mutations: null");
	LACKS(s, "onCreateSilent", "options: subscriptions: null");
	HAS(def(s, "type Silent"), "  made: AWSDateTime!\n}", "options: createdAt renamed, updatedAt removed");
	LACKS(def(s, "type Bare"), "AWSDateTime", "options: timestamps: null");
	LACKS(s, "onCreateOff", "options: subscriptions level off");
	HAS(s, "type Silent {", "options: API key default, public rules: no directive");
	free(s);

	json_t *j = intro_of("options.graphql");
	char *a = json_dumps(path(j, "models", "Renamed", "attributes", NULL), JSON_COMPACT);
	HAS(a, "{\"type\":\"model\",\"properties\":{\"queries\":{\"get\":\"fetchRenamed\",\"list\":null}",
	    "options introspection: the model attribute carries @model's arguments");
	free(a);
	CHECK(json_is_true(path(j, "models", "Silent", "fields", "made") ? json_object_get(path(j, "models", "Silent", "fields", "made"), "isReadOnly") : NULL) &&
		      !path(j, "models", "Silent", "fields", "updatedAt"),
	      "options introspection: renamed timestamp, read-only; removed one absent");
	json_decref(j);
}

static void test_field_auth(void)
{
	char *s = sdl_of("fieldauth.graphql", SYNTH_GQL_AUTH_USER_POOLS);
	const char *t = def(s, "type Employee");
	HAS(t, "type Employee @aws_api_key @aws_cognito_user_pools {", "field auth: the type's modes");
	HAS(t, "  salary: Int @aws_cognito_user_pools\n",
	    "field auth: a user-pools-only field names user pools (else it would inherit the API key)");
	HAS(t, "  badge: String @aws_api_key @aws_iam\n", "field auth: a field reachable by other modes names them");
	HAS(t, "  name: String!\n", "field auth: other fields inherit the type's modes");
	HAS(t, "  owner: String\n  manager: String\n}", "field auth: field rules' owner fields are added");
	free(s);
	json_t *j = intro_of("fieldauth.graphql");
	char *a = json_dumps(path(path(j, "models", "Employee", "fields", NULL), "salary", NULL, NULL, NULL), JSON_COMPACT);
	HAS(a, "\"attributes\":[{\"type\":\"auth\",\"properties\":{\"rules\":[{\"allow\":\"owner\"",
	    "field auth introspection: the field's rules as an auth attribute");
	free(a);
	json_decref(j);
}

/* --- errors ------------------------------------------------------------ */

static void expect_error(const char *text, const char *auth, const char *message, const char *what)
{
	json_t *m = parse_text(text);
	char *s = (char *)"unset";
	int rc = m ? synth__gql_client_schema(&s, m, auth) : 0;
	CHECK(m && rc == SYNTH_EINVALID && s == NULL, "%s: SYNTH_EINVALID, no output", what);
	CHECK_STR(synth_error_last()->message, message, "%s: the message", what);
	json_decref(m);
}

static void test_errors(void)
{
	expect_error("type Todo @model { a: String }\ninput CreateTodoInput { a: String }\n",
		     SYNTH_GQL_AUTH_API_KEY,
		     "schema.graphql:2:7: type 'CreateTodoInput' clashes with the input Amplify generates "
		     "for model 'Todo'",
		     "a declared create input");
	expect_error("type ModelTodoConnection { a: String }\n\ntype Todo @model { a: String }\n",
		     SYNTH_GQL_AUTH_API_KEY,
		     "schema.graphql:1:6: type 'ModelTodoConnection' clashes with the type Amplify generates "
		     "for model 'Todo'",
		     "a declared connection type");
	expect_error("type Todo @model { a: String }\nenum ModelSortDirection { UP }\n", SYNTH_GQL_AUTH_API_KEY,
		     "schema.graphql:2:6: type 'ModelSortDirection' clashes with the enum Amplify generates "
		     "for the models' filters",
		     "a declared ModelSortDirection");
	expect_error("type Todo @model { size: Size }\nenum Size { S }\n", SYNTH_GQL_AUTH_API_KEY,
		     "schema.graphql:2:6: type 'ModelSizeInput' clashes with the input Amplify generates "
		     "for the models' filters",
		     "an enum whose filter input is a shared input's name");
	expect_error("type Todo @model { a: String @index(queryField: \"listTodos\") }\n", SYNTH_GQL_AUTH_API_KEY,
		     "schema.graphql:1:30: Query field 'listTodos' (the query of index 'todosByA' of model "
		     "'Todo') clashes with the operation Amplify generates for model 'Todo'",
		     "an index query named like list");
	expect_error("type Todo @model { a: String }\ntype Mutation { createTodo: String }\n", SYNTH_GQL_AUTH_API_KEY,
		     "schema.graphql:2:17: Mutation field 'createTodo' (declared) clashes with the operation "
		     "Amplify generates for model 'Todo'",
		     "a declared mutation named like a generated one");
	expect_error("type Todo @model(queries: null) { a: String }\n", SYNTH_GQL_AUTH_API_KEY,
		     "schema.graphql: the schema has no query: AppSync needs at least one (every model's "
		     "queries are disabled and no Query type is declared)",
		     "no query at all");
	expect_error("type Todo @model { a: String }\n", "AWS_LAMBDA",
		     "unknown default authorization type 'AWS_LAMBDA' (expected AMAZON_COGNITO_USER_POOLS, "
		     "API_KEY, AWS_IAM or OPENID_CONNECT)",
		     "an unknown default mode");
}

/* --- determinism ------------------------------------------------------- */

static void test_determinism(void)
{
	static const char *const all[] = {"todo.graphql", "blog.graphql", "keys.graphql", "types.graphql",
					  "auth.graphql", "options.graphql", "fieldauth.graphql"};
	int same = 0, same_intro = 0;
	for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
		char *a = sdl_of(all[i], SYNTH_GQL_AUTH_USER_POOLS), *b = sdl_of(all[i], SYNTH_GQL_AUTH_USER_POOLS);
		same += a && b && !strcmp(a, b);
		free(a);
		free(b);
		json_t *x = intro_of(all[i]), *y = intro_of(all[i]);
		char *sx = json_dumps(x, JSON_COMPACT), *sy = json_dumps(y, JSON_COMPACT);
		same_intro += sx && sy && !strcmp(sx, sy);
		free(sx);
		free(sy);
		json_decref(x);
		json_decref(y);
	}
	CHECK(same == 7, "determinism: two runs write the same SDL bytes (%d of 7)", same);
	CHECK(same_intro == 7, "determinism: and the same introspection (%d of 7)", same_intro);
}

/* --- allocation failures ---------------------------------------------- */

static bool returned; /* a failed call returned something anyway */

/* Generates both documents for M with allocations tracked, and frees them
 * (still tracked); 0 or the first failure. */
static int run_tracked(json_t *m)
{
	char *s = NULL;
	json_t *j = NULL;
	count = 0;
	live = 0;
	tracking = 1;
	int rc = synth__gql_client_schema(&s, m, SYNTH_GQL_AUTH_API_KEY);
	if (rc == 0) {
		rc = synth__gql_model_introspection(&j, m);
		returned = rc != 0 && j;
	} else {
		returned = s != NULL;
	}
	free(s);
	json_decref(j);
	tracking = 0;
	return rc;
}

static void test_alloc_failures(const char *name)
{
	json_t *m = parse_fixture(name);
	if (!m)
		return;
#if !CHAOS
	json_set_alloc_funcs(j_malloc, j_free);
#endif
	int rc = run_tracked(m);
	long total = count;
	if (rc == 0 && total == 0) {
		printf("# allocation failures: allocations are not ours to count here (valgrind?)\n");
		json_decref(m);
		return;
	}
	CHECK(rc == 0 && (!CHAOS || live == 0) && total > 50, "%s: a tracked run frees everything (%ld allocations)",
	      name, total);
	long failed = 0, leaked = 0, wrong = 0;
	for (long n = 1; n <= total; n++) {
		fail_at = n;
		rc = run_tracked(m);
		fail_at = -1;
		failed += rc != 0;
		if (rc != 0 && (rc != SYNTH_ENOMEM || returned))
			wrong++, printf("# allocation %ld: rc %d %s\n", n, rc, synth_error_last()->message);
		if (CHAOS && live)
			leaked++, printf("# allocation %ld failed: %ld blocks leaked\n", n, live);
	}
#if !CHAOS
	json_set_alloc_funcs(malloc, free);
#endif
	CHECK(failed == total, "%s: each of %ld failed allocations fails the generation (%ld did)", name, total,
	      failed);
	CHECK(wrong == 0, "%s: every failure is SYNTH_ENOMEM with nothing returned (%ld not)", name, wrong);
	CHECK(leaked == 0, "%s: no failure leaks (%ld did%s)", name, leaked,
	      CHAOS ? "" : "; under ASan its leak checker watches instead");
	json_decref(m);
}

int main(void)
{
	test_todo();
	test_blog();
	test_keys();
	test_types();
	test_auth();
	test_options();
	test_field_auth();
	test_errors();
	test_determinism();
	test_alloc_failures("blog.graphql");
	test_alloc_failures("types.graphql");
	return check_failed ? 1 : 0;
}

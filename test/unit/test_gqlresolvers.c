/*
 * The APPSYNC_JS resolvers (constructs/data/gqlresolvers.c), from the schemas under
 * test/resolvers/ (found through SYNTH_ROOT): the set of resolvers, their
 * data sources, actions and indexes, the rules each one carries,
 * determinism, AppSync's JS runtime restrictions checked statically on
 * every generated code, refused models, and allocation failure at every
 * step. test/cli/resolvers.sh executes the code itself in node.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdlib.h>
#include <ctype.h>
#include "check.h"
#include <synth/sys/util.h>
#include "graphql.h"
#include "gqlgen.h"
#include "gqlresolvers.h"

/* --- allocation failure injection (not under ASan: it owns malloc) ---- */

#include "failmalloc.h"

/* --- helpers ---------------------------------------------------------- */

static json_t *parse(const char *rel)
{
	const char *root = getenv("SYNTH_ROOT");
	char *path = synth_asprintf("%s/test/%s", root ? root : ".", rel);
	json_t *m = NULL;
	if (!path || synth__graphql_parse_file(&m, path) < 0)
		printf("# %s: %s\n", rel, synth_error_last()->message);
	free(path);
	return m;
}

/* The resolvers of schema REL with default mode AUTH; NULL on failure. */
static json_t *resolvers(const char *rel, const char *auth)
{
	json_t *m = parse(rel), *out = NULL;
	if (m && synth__gql_resolvers(&out, m, auth) < 0)
		printf("# %s: %s\n", rel, synth_error_last()->message);
	json_decref(m);
	return out;
}

/* "Type.field" of every resolver of OUT (the generator's output),
 * space-separated (caller frees). */
static char *names(json_t *out)
{
	synth_buf b = SYNTH_BUF_INIT;
	size_t i;
	json_t *r;
	json_array_foreach(json_object_get(out, "resolvers"), i, r) {
		synth_buf_printf(&b, "%s%s.%s", i ? " " : "",
				  json_string_value(json_object_get(r, "typeName")),
				  json_string_value(json_object_get(r, "fieldName")));
	}
	return synth_buf_detach(&b);
}

static json_t *find(json_t *out, const char *type, const char *field)
{
	size_t i;
	json_t *r;
	json_array_foreach(json_object_get(out, "resolvers"), i, r) {
		if (!strcmp(json_string_value(json_object_get(r, "typeName")), type) &&
		    !strcmp(json_string_value(json_object_get(r, "fieldName")), field))
			return r;
	}
	return NULL;
}

static const char *s_of(json_t *r, const char *k)
{
	return json_string_value(json_object_get(r, k));
}

/* The actions of R joined by ','. Static buffer. */
static const char *actions(json_t *r)
{
	static char buf[256];
	size_t i, n = 0;
	json_t *a;
	buf[0] = '\0';
	json_array_foreach(json_object_get(r, "actions"), i, a) {
		n += (size_t)snprintf(buf + n, sizeof buf - n, "%s%s", i ? "," : "", json_string_value(a));
	}
	return buf;
}

/* The module of resolver R of OUT (borrowed) or NULL. */
static json_t *module_of(json_t *out, json_t *r)
{
	json_t *n = json_object_get(r, "module");
	return json_is_integer(n) ? json_array_get(json_object_get(out, "modules"), (size_t)json_integer_value(n))
				  : NULL;
}

/* The code that resolver R of OUT ships (borrowed) or NULL. */
static const char *code_of(json_t *out, json_t *r)
{
	return s_of(module_of(out, r), "code");
}

/* The JSON data that cfg() picks for R in its module (new reference) or
 * NULL: the line `    "Type.field": {...}` of configs(). */
static json_t *cfg(json_t *out, json_t *r)
{
	const char *code = code_of(out, r);
	char key[300];
	snprintf(key, sizeof key, "\n    \"%s.%s\": ", s_of(r, "typeName"), s_of(r, "fieldName"));
	const char *p = code ? strstr(code, key) : NULL;
	if (!p)
		return NULL;
	p += strlen(key);
	const char *end = strchr(p, '\n');
	if (end && end[-1] == ',')
		end--;
	return end ? json_loadb(p, (size_t)(end - p), 0, NULL) : NULL;
}

/* Whether CODE uses the word W outside strings and comments (a statement
 * or operator AppSync's runtime refuses). */
static bool uses_word(const char *code, const char *w)
{
	size_t n = strlen(w);
	char quote = 0;
	for (const char *p = code; *p; p++) {
		if (quote) {
			if (*p == '\\' && p[1])
				p++;
			else if (*p == quote)
				quote = 0;
			continue;
		}
		if (*p == '\'' || *p == '"' || *p == '`') {
			quote = *p;
			continue;
		}
		if (p[0] == '/' && p[1] == '/') {
			while (*p && *p != '\n')
				p++;
			if (!*p)
				break;
			continue;
		}
		bool start = p == code || !(isalnum((unsigned char)p[-1]) || p[-1] == '_' || p[-1] == '$' || p[-1] == '.');
		if (start && !strncmp(p, w, n) && !(isalnum((unsigned char)p[n]) || p[n] == '_' || p[n] == '$')) {
			const char *q = p + n;
			while (*q == ' ')
				q++;
			if (*q != ':') /* not a property key */
				return true;
		}
	}
	return false;
}

/* AppSync's JS runtime: statements and operators it does not support
 * (docs: "Supported runtime features"), plus what a unit resolver
 * cannot use (async, classes, generators); the code size limit; and
 * that every resolver's module serves it. */
static void check_runtime_subset(const char *what, json_t *out)
{
	static const char *const words[] = {"try", "catch", "finally", "throw", "while", "do", "continue",
					    "class", "async", "await", "yield", "in", "new", "eval",
					    "require", "label", NULL};
	size_t i, bad = 0, n = 0;
	json_t *mod, *r;
	json_array_foreach(json_object_get(out, "modules"), i, mod) {
		const char *code = s_of(mod, "code"), *name = s_of(mod, "name");
		n++;
		for (const char *const *w = words; *w; w++) {
			if (code && uses_word(code, *w)) {
				bad++;
				printf("# %s uses '%s'\n", name, *w);
			}
		}
		if (!code || strstr(code, "++") || strstr(code, "--") || strstr(code, "for (let") ||
		    strstr(code, "for (var") || strstr(code, "for (;") || strchr(code, '~') ||
		    strstr(code, "function*")) {
			bad++;
			printf("# %s: ++, --, ~, a C-style for or a generator\n", name);
		}
		/* imports: only the two AppSync modules */
		for (const char *p = code; p && (p = strstr(p, "import ")); p++) {
			const char *from = strstr(p, " from '");
			if (!from || (strncmp(from, " from '@aws-appsync/utils';", 27) &&
				      strncmp(from, " from '@aws-appsync/utils/dynamodb';", 36))) {
				bad++;
				printf("# %s: an import of another module\n", name);
			}
		}
		if (code && (!strstr(code, "export function request(ctx)") || !strstr(code, "export function response(ctx)")))
			bad++, printf("# %s: no request/response\n", name);
		if (code && strlen(code) > SYNTH_GQL_CODE_MAX)
			bad++, printf("# %s: %zu bytes, over AppSync's code size limit\n", name, strlen(code));
	}
	size_t served = 0, nres = 0;
	json_array_foreach(json_object_get(out, "resolvers"), i, r) {
		json_t *c = cfg(out, r);
		nres++;
		served += c && !strcmp(s_of(c, "op") ? s_of(c, "op") : "", s_of(r, "operation"));
		json_decref(c);
	}
	CHECK(bad == 0 && n > 0, "%s: all %zu modules keep to the APPSYNC_JS subset and the size limit", what, n);
	CHECK(served == nres && nres > 0, "%s: each of the %zu resolvers has its data in its module (%zu do)", what,
	      nres, served);
}

/* --- tests ------------------------------------------------------------- */

static void test_todo(void)
{
	json_t *rs = resolvers("resolvers/todo.graphql", SYNTH_GQL_AUTH_USER_POOLS);
	char *n = names(rs);
	CHECK_STR(n, "Query.getTodo Query.listTodos Mutation.createTodo Mutation.updateTodo Mutation.deleteTodo "
		     "Subscription.onCreateTodo Subscription.onUpdateTodo Subscription.onDeleteTodo",
		  "todo: the resolvers, with Amplify's names, in order");
	free(n);
	static const char *const expect[][4] = {
		{"Query", "getTodo", "get", "dynamodb:GetItem"},
		{"Query", "listTodos", "list", "dynamodb:Scan"},
		{"Mutation", "createTodo", "create", "dynamodb:PutItem"},
		{"Mutation", "updateTodo", "update", "dynamodb:UpdateItem"},
		{"Mutation", "deleteTodo", "delete", "dynamodb:DeleteItem"},
		{"Subscription", "onCreateTodo", "subscribe", ""},
	};
	for (size_t i = 0; i < sizeof expect / sizeof expect[0]; i++) {
		json_t *r = find(rs, expect[i][0], expect[i][1]);
		CHECK(r && !strcmp(s_of(r, "operation"), expect[i][2]), "todo: %s is a %s", expect[i][1], expect[i][2]);
		CHECK_STR(r ? actions(r) : NULL, expect[i][3], "todo: %s's actions", expect[i][1]);
		bool none = !strcmp(expect[i][0], "Subscription");
		CHECK(r && (none ? json_is_null(json_object_get(r, "dataSource"))
				 : !strcmp(s_of(r, "dataSource") ? s_of(r, "dataSource") : "", "Todo")),
		      "todo: %s's data source is %s", expect[i][1], none ? "NONE (null)" : "Todo");
		CHECK(r && !strcmp(s_of(r, "model"), "Todo"), "todo: %s's model", expect[i][1]);
	}
	json_t *c = cfg(rs, find(rs, "Mutation", "createTodo"));
	json_t *rule = json_array_get(json_object_get(c, "rules"), 0);
	CHECK(c && json_array_size(json_object_get(c, "rules")) == 1 &&
		      !strcmp(s_of(rule, "allow"), "owner") && !strcmp(s_of(rule, "ownerField"), "owner") &&
		      !strcmp(s_of(rule, "identityClaim"), "sub::username") && json_is_false(json_object_get(rule, "list")),
	      "todo: create carries the owner rule (owner, sub::username)");
	json_t *id_key = json_pack("[s]", "id");
	CHECK(c && json_is_true(json_object_get(c, "autoId")) && json_equal(json_object_get(c, "key"), id_key),
	      "todo: keyed by an implicit id generated on create");
	json_decref(id_key);
	json_t *ts = json_object_get(c, "timestamps");
	CHECK(json_array_size(ts) == 2 && !strcmp(json_string_value(json_array_get(ts, 0)), "createdAt"),
	      "todo: create sets createdAt and updatedAt");
	json_decref(c);
	const char *code = code_of(rs, find(rs, "Mutation", "createTodo"));
	CHECK_HAS(code, "attribute_not_exists(#synth_k)", "todo: create's condition: the id is new");
	CHECK_HAS(code, "util.autoId()", "todo: create generates ids");
	CHECK_HAS(code, "util.time.nowISO8601()", "todo: create stamps times");
	CHECK_HAS(code_of(rs, find(rs, "Mutation", "updateTodo")), "attribute_exists(#synth_k)",
		  "todo: update's condition: the item exists");
	CHECK_HAS(code_of(rs, find(rs, "Subscription", "onCreateTodo")), "return { payload: null };",
		  "todo: subscriptions return a null payload");
	CHECK_HAS(code_of(rs, find(rs, "Subscription", "onCreateTodo")), "extensions.setSubscriptionFilter",
		  "todo: owner subscriptions are filtered");
	check_runtime_subset("todo", rs);
	json_decref(rs);
}

static void test_public_private(void)
{
	json_t *rs = resolvers("resolvers/public.graphql", SYNTH_GQL_AUTH_API_KEY);
	json_t *c = cfg(rs, find(rs, "Query", "getNote"));
	char *d = c ? json_dumps(json_object_get(c, "rules"), JSON_COMPACT) : NULL;
	CHECK_STR(d, "[{\"allow\":\"public\",\"provider\":\"apiKey\"},{\"allow\":\"private\",\"provider\":\"userPools\"},"
		     "{\"allow\":\"private\",\"provider\":\"identityPool\"}]",
		  "public: get carries public apiKey, private userPools and private identityPool");
	free(d);
	json_decref(c);
	check_runtime_subset("public", rs);
	json_decref(rs);
	/* No @auth: the default mode's callers. */
	json_t *m = NULL;
	const char *text = "type Open @model { x: String }";
	CHECK(synth__graphql_parse(&m, "t.graphql", text, strlen(text)) == 0, "no @auth: parses");
	static const char *const modes[][2] = {
		{SYNTH_GQL_AUTH_API_KEY, "[{\"allow\":\"public\",\"provider\":\"apiKey\"}]"},
		{SYNTH_GQL_AUTH_USER_POOLS, "[{\"allow\":\"private\",\"provider\":\"userPools\"}]"},
		{SYNTH_GQL_AUTH_IAM, "[{\"allow\":\"private\",\"provider\":\"iam\"}]"},
		{SYNTH_GQL_AUTH_OIDC, "[{\"allow\":\"private\",\"provider\":\"oidc\"}]"},
	};
	for (size_t i = 0; i < 4; i++) {
		json_t *out = NULL;
		CHECK(synth__gql_resolvers(&out, m, modes[i][0]) == 0, "no @auth, default %s: generated", modes[i][0]);
		c = cfg(out, find(out, "Query", "getOpen"));
		d = c ? json_dumps(json_object_get(c, "rules"), JSON_COMPACT) : NULL;
		CHECK_STR(d, modes[i][1], "no @auth, default %s: the default mode's callers", modes[i][0]);
		free(d);
		json_decref(c);
		json_decref(out);
	}
	json_t *out = NULL;
	CHECK(synth__gql_resolvers(&out, m, "LAMBDA") == SYNTH_EINVALID && !out, "an unknown default mode is refused");
	CHECK_HAS(synth_error_last()->message, "unknown default authorization mode 'LAMBDA'", "its message");
	json_decref(m);
}

static void test_groups(void)
{
	json_t *rs = resolvers("resolvers/groups.graphql", SYNTH_GQL_AUTH_USER_POOLS);
	json_t *c = cfg(rs, find(rs, "Query", "getReport"));
	char *d = c ? json_dumps(json_object_get(c, "rules"), JSON_COMPACT) : NULL;
	CHECK_STR(d, "[{\"allow\":\"groups\",\"provider\":\"userPools\",\"groups\":[\"Admin\",\"Auditors\"],"
		     "\"groupClaim\":\"cognito:groups\"}]",
		  "groups: static groups and their claim");
	free(d);
	json_decref(c);
	c = cfg(rs, find(rs, "Mutation", "updatePage"));
	d = c ? json_dumps(json_object_get(c, "rules"), JSON_COMPACT) : NULL;
	CHECK_STR(d, "[{\"allow\":\"groups\",\"provider\":\"userPools\",\"groupsField\":\"editors\",\"list\":true,"
		     "\"groupClaim\":\"cognito:groups\"},{\"allow\":\"groups\",\"provider\":\"userPools\","
		     "\"groupsField\":\"owningGroup\",\"list\":false,\"groupClaim\":\"cognito:groups\"}]",
		  "groups: groupsField rules, list and single");
	free(d);
	json_decref(c);
	check_runtime_subset("groups", rs);
	json_decref(rs);
}

static void test_composite(void)
{
	json_t *rs = resolvers("resolvers/composite.graphql", SYNTH_GQL_AUTH_API_KEY);
	char *n = names(rs);
	CHECK_STR(n, "Query.getScore Query.listScores Query.scoresByLeague Query.scoresByRegion "
		     "Mutation.createScore Mutation.updateScore Mutation.deleteScore "
		     "Query.getVisit Query.listVisits Query.visitsByPage "
		     "Mutation.createVisit Mutation.updateVisit Mutation.deleteVisit",
		  "composite: resolvers (index queries, no subscriptions)");
	free(n);
	CHECK_STR(actions(find(rs, "Query", "listScores")), "dynamodb:Scan,dynamodb:Query",
		  "composite: list scans, or queries by partition key");
	json_t *r = find(rs, "Query", "scoresByLeague");
	CHECK(r && !strcmp(s_of(r, "operation"), "index") && !strcmp(s_of(r, "index"), "byLeague") &&
		      !strcmp(actions(r), "dynamodb:Query"),
	      "composite: scoresByLeague queries index byLeague");
	json_t *ik = json_object_get(r, "indexKeys");
	CHECK(ik && !strcmp(s_of(ik, "partitionKey"), "league") && !strcmp(s_of(ik, "sortKey"), "points"),
	      "composite: byLeague's keys: league, points");
	r = find(rs, "Query", "scoresByRegion");
	CHECK(r && !strcmp(s_of(r, "index"), "scoresByRegion") &&
		      json_is_null(json_object_get(json_object_get(r, "indexKeys"), "sortKey")),
	      "composite: the default-named index, without a sort key");
	json_t *c = cfg(rs, find(rs, "Query", "getScore"));
	char *d = c ? json_dumps(json_object_get(c, "key"), JSON_COMPACT) : NULL;
	CHECK_STR(d, "[\"game\",\"player\"]", "composite: the key is game, player");
	CHECK(c && json_is_false(json_object_get(c, "autoId")), "composite: no generated id");
	free(d);
	json_decref(c);
	c = cfg(rs, find(rs, "Mutation", "createScore"));
	CHECK(c && json_integer_value(json_object_get(json_object_get(c, "defaults"), "points")) == 0 &&
		      json_is_integer(json_object_get(json_object_get(c, "defaults"), "points")),
	      "composite: @default values, typed");
	json_decref(c);
	d = NULL;
	c = cfg(rs, find(rs, "Query", "scoresByLeague"));
	CHECK(c && !json_object_get(c, "composites") && !json_object_get(json_object_get(c, "query"), "skFields"),
	      "composite: a model without a composite sort key carries no composite data");
	json_decref(c);

	/* Two sort key fields: the table's sort key is "day#hour". */
	c = cfg(rs, find(rs, "Query", "getVisit"));
	d = c ? json_dumps(json_object_get(c, "key"), JSON_COMPACT) : NULL;
	CHECK_STR(d, "[\"site\",\"day#hour\"]", "composite: Visit's key attributes: site, day#hour");
	free(d);
	d = c ? json_dumps(json_object_get(c, "composites"), JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	CHECK_STR(d, "[{\"attr\":\"day#hour\",\"fields\":[\"day\",\"hour\"],\"index\":null},"
		     "{\"attr\":\"country#city\",\"fields\":[\"country\",\"city\"],\"index\":\"byPage\"}]",
		  "composite: the composites written: the primary key's and byPage's");
	free(d);
	json_decref(c);
	c = cfg(rs, find(rs, "Query", "listVisits"));
	d = c ? json_dumps(json_object_get(c, "query"), JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	CHECK_STR(d, "{\"index\":null,\"pk\":\"site\",\"sk\":\"day#hour\",\"skFields\":[\"day\",\"hour\"],\"skArg\":\"dayHour\"}",
		  "composite: listVisits queries site + day#hour, its condition in argument dayHour");
	free(d);
	json_decref(c);
	r = find(rs, "Query", "visitsByPage");
	ik = json_object_get(r, "indexKeys");
	CHECK(r && !strcmp(s_of(r, "index"), "byPage") && !strcmp(s_of(ik, "partitionKey"), "page") &&
		      !strcmp(s_of(ik, "sortKey"), "country#city"),
	      "composite: visitsByPage queries byPage (page, country#city)");
	c = cfg(rs, r);
	d = c ? json_dumps(json_object_get(c, "query"), JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	CHECK_STR(d, "{\"index\":\"byPage\",\"pk\":\"page\",\"sk\":\"country#city\",\"skFields\":[\"country\",\"city\"],"
		     "\"skArg\":\"countryCity\"}",
		  "composite: visitsByPage's condition in argument countryCity");
	free(d);
	json_decref(c);
	check_runtime_subset("composite", rs);
	json_decref(rs);
}

static void test_blog(void)
{
	json_t *rs = resolvers("graphql/blog.graphql", SYNTH_GQL_AUTH_USER_POOLS);
	json_t *r = find(rs, "Blog", "posts");
	CHECK(r && !strcmp(s_of(r, "operation"), "relation") && !strcmp(s_of(r, "model"), "Post") &&
		      !strcmp(s_of(r, "dataSource"), "Post") && !strcmp(actions(r), "dynamodb:Query") &&
		      !strcmp(s_of(r, "index"), "postsByBlogIdAndCreatedAt"),
	      "blog: Blog.posts (hasMany) queries Post's @index on blogId");
	r = find(rs, "Post", "blog");
	CHECK(r && !strcmp(s_of(r, "model"), "Blog") && !strcmp(actions(r), "dynamodb:GetItem") &&
		      !json_object_get(r, "index"),
	      "blog: Post.blog (belongsTo) gets the Blog by key");
	r = find(rs, "Post", "comments");
	json_t *ik = json_object_get(r, "indexKeys");
	CHECK(r && !strcmp(s_of(r, "index"), "gsi-Post.comments") && !strcmp(s_of(ik, "partitionKey"), "postId"),
	      "blog: Post.comments queries Amplify's gsi-Post.comments on postId");
	r = find(rs, "Comment", "author");
	ik = json_object_get(r, "indexKeys");
	CHECK(r && !strcmp(actions(r), "dynamodb:Query") && !strcmp(s_of(r, "index"), "gsi-Comment.author") &&
		      !strcmp(s_of(ik, "partitionKey"), "commentId") && !strcmp(s_of(ik, "sortKey"), "commentTitle"),
	      "blog: Comment.author (hasOne, references) queries gsi-Comment.author (commentId, commentTitle)");
	json_t *c = cfg(rs, r);
	char *d = c ? json_dumps(json_object_get(c, "relation"), JSON_COMPACT) : NULL;
	CHECK_STR(d, "{\"source\":[\"postId\",\"postTitle\"],\"target\":[\"commentId\",\"commentTitle\"],\"many\":false}",
		  "blog: Comment.author maps Comment's key to the references");
	free(d);
	json_decref(c);
	c = cfg(rs, find(rs, "Author", "comment"));
	d = c ? json_dumps(json_object_get(c, "relation"), JSON_COMPACT) : NULL;
	CHECK_STR(d, "{\"source\":[\"commentId\",\"commentTitle\"],\"target\":[\"postId\",\"postTitle\"],\"many\":false}",
		  "blog: Author.comment gets the Comment by its composite key");
	free(d);
	json_decref(c);
	/* Blog: owner + public read (apiKey) + groups; field-level on Post.views */
	c = cfg(rs, find(rs, "Mutation", "createBlog"));
	CHECK(c && json_array_size(json_object_get(c, "rules")) == 2, "blog: create: owner and groups (not public read)");
	json_decref(c);
	c = cfg(rs, find(rs, "Query", "listBlogs"));
	CHECK(c && json_array_size(json_object_get(c, "rules")) == 3, "blog: list: owner, public and groups");
	json_decref(c);
	c = cfg(rs, find(rs, "Mutation", "updatePost"));
	json_t *fw = json_object_get(json_object_get(c, "fieldWrite"), "views");
	CHECK(json_array_size(fw) == 1 && !strcmp(s_of(json_array_get(fw, 0), "ownerField"), "editor"),
	      "blog: Post.views may be updated by its editor only");
	json_decref(c);
	c = cfg(rs, find(rs, "Mutation", "createPost"));
	fw = json_object_get(json_object_get(c, "fieldWrite"), "views");
	CHECK(fw && json_array_size(fw) == 0, "blog: Post.views may be set on create by no one");
	json_decref(c);
	check_runtime_subset("blog", rs);
	json_t *again = resolvers("graphql/blog.graphql", SYNTH_GQL_AUTH_USER_POOLS);
	CHECK(rs && again && json_equal(rs, again), "blog: the same model gives the same resolvers");
	char *a = json_dumps(rs, JSON_PRESERVE_ORDER), *b = json_dumps(again, JSON_PRESERVE_ORDER);
	CHECK(a && b && !strcmp(a, b), "blog: byte for byte");
	free(a);
	free(b);
	json_decref(again);
	json_decref(rs);
}

static void test_legacy(void)
{
	json_t *rs = resolvers("graphql/legacy.graphql", SYNTH_GQL_AUTH_USER_POOLS);
	CHECK(find(rs, "Query", "task") && !find(rs, "Query", "getTask") && !find(rs, "Query", "listTasks"),
	      "legacy: @model(queries: {get: \"task\", list: null})");
	json_t *r = find(rs, "Tree", "children");
	json_t *c = cfg(rs, r);
	CHECK(r && !strcmp(s_of(r, "index"), "byParent") && json_integer_value(json_object_get(c, "limit")) == 50,
	      "legacy: hasMany(indexName, fields, limit)");
	json_decref(c);
	r = find(rs, "Project", "team");
	c = cfg(rs, r);
	char *d = c ? json_dumps(json_object_get(c, "relation"), JSON_COMPACT) : NULL;
	CHECK_STR(d, "{\"source\":[\"projectTeamId\"],\"target\":[\"id\"],\"many\":false}",
		  "legacy: hasOne with an implicit key gets by projectTeamId");
	free(d);
	json_decref(c);
	r = find(rs, "Project", "tasks");
	CHECK(r && !strcmp(s_of(r, "index"), "gsi-Project.tasks"), "legacy: implicit hasMany: gsi-Project.tasks");
	c = cfg(rs, find(rs, "Query", "getTeam"));
	d = c ? json_dumps(json_object_get(c, "rules"), JSON_COMPACT) : NULL;
	CHECK_HAS(d, "\"provider\":\"oidc\",\"ownerField\":\"owner\",\"identityClaim\":\"sub\"",
		  "legacy: an oidc owner rule with its claim");
	free(d);
	json_decref(c);
	c = cfg(rs, find(rs, "Mutation", "createTask"));
	d = c ? json_dumps(json_object_get(c, "timestamps"), JSON_COMPACT) : NULL;
	CHECK_STR(d, "[\"made\",\"updatedAt\"]", "legacy: renamed timestamps");
	free(d);
	json_decref(c);
	check_runtime_subset("legacy", rs);
	json_decref(rs);
}

static void test_operations(void)
{
	json_t *rs = resolvers("resolvers/operations.graphql", SYNTH_GQL_AUTH_USER_POOLS);
	char *n = names(rs);
	CHECK_STR(n, "Query.event Mutation.createEvent Mutation.updateEvent Subscription.onCreateEvent "
		     "Subscription.onUpdateEvent",
		  "operations: renamed get, no list, no delete (so no onDelete subscription either)");
	free(n);
	json_t *c = cfg(rs, find(rs, "Query", "event"));
	CHECK(c && json_array_size(json_object_get(c, "rules")) == 2, "operations: get: public and owner");
	json_decref(c);
	c = cfg(rs, find(rs, "Mutation", "updateEvent"));
	json_t *rules = json_object_get(c, "rules");
	CHECK(json_array_size(rules) == 1 && !strcmp(s_of(json_array_get(rules, 0), "allow"), "owner"),
	      "operations: update: the owner only");
	json_decref(c);
	check_runtime_subset("operations", rs);
	json_decref(rs);
}

static void test_fieldauth(void)
{
	json_t *rs = resolvers("resolvers/fieldauth.graphql", SYNTH_GQL_AUTH_USER_POOLS);
	json_t *c = cfg(rs, find(rs, "Query", "getProfile"));
	json_t *fr = json_object_get(json_object_get(c, "fieldRead"), "salary");
	CHECK(json_array_size(fr) == 1 && !strcmp(s_of(json_array_get(fr, 0), "allow"), "owner"),
	      "fieldauth: salary is read by its owner only");
	json_decref(c);
	check_runtime_subset("fieldauth", rs);
	json_decref(rs);
}

/* The modules: one per model, serving all of its resolvers (relations
 * included) by ctx.info, importing what its bodies use. */
static void test_modules(void)
{
	json_t *rs = resolvers("resolvers/todo.graphql", SYNTH_GQL_AUTH_USER_POOLS);
	json_t *mods = json_object_get(rs, "modules");
	CHECK(json_array_size(mods) == 1 && !strcmp(s_of(json_array_get(mods, 0), "name"), "Todo"),
	      "todo: one module, named after the model");
	const char *code = s_of(json_array_get(mods, 0), "code");
	size_t i, same = 0;
	json_t *r;
	json_array_foreach(json_object_get(rs, "resolvers"), i, r)
		same += json_integer_value(json_object_get(r, "module")) == 0 && !json_object_get(r, "code");
	CHECK(same == 8, "todo: all 8 resolvers name it, none carries code of its own (%zu)", same);
	CHECK(code && !strncmp(code, "import { util, extensions } from '@aws-appsync/utils';\n", 55),
	      "todo: it imports util and extensions (subscriptions), not runtime");
	CHECK_HAS(code, "const name = `${ctx.info.parentTypeName}.${ctx.info.fieldName}`;",
		  "todo: cfg() picks the data by ctx.info");
	CHECK_HAS(code, "  if (c.op === 'create') {\n    return createRequest(ctx, c);\n  }",
		  "todo: request dispatches on the operation");
	CHECK(code && !strstr(code, "relationGetRequest"), "todo: no body it does not use");
	json_decref(rs);

	rs = resolvers("graphql/blog.graphql", SYNTH_GQL_AUTH_USER_POOLS);
	mods = json_object_get(rs, "modules");
	json_t *model = parse("graphql/blog.graphql");
	CHECK(json_array_size(mods) == json_object_size(json_object_get(model, "models")) && json_array_size(mods) > 1,
	      "blog: one module per model (%zu)", json_array_size(mods));
	json_decref(model);
	r = find(rs, "Blog", "posts");
	json_t *m = module_of(rs, r);
	CHECK(m && !strcmp(s_of(m, "name"), "Blog") && strstr(s_of(m, "code"), "import { util, runtime, extensions }"),
	      "blog: Blog.posts (on Post's table) is served by Blog's module, which imports runtime");
	CHECK(module_of(rs, find(rs, "Query", "getPost")) != m, "blog: Post's operations by Post's module");
	char *names_before = NULL;
	synth_buf b = SYNTH_BUF_INIT;
	json_array_foreach(mods, i, m)
		synth_buf_printf(&b, "%s%s", i ? " " : "", s_of(m, "name"));
	names_before = synth_buf_detach(&b);
	CHECK_STR(names_before, "Blog Post Comment Author", "blog: modules in schema order");
	free(names_before);
	check_runtime_subset("blog modules", rs);
	json_decref(rs);
}

/* Over AppSync's code size limit: split by group, then by resolver;
 * a resolver too large alone is refused. */
static void test_split(void)
{
	json_t *rs = resolvers("resolvers/wide.graphql", SYNTH_GQL_AUTH_USER_POOLS);
	synth_buf b = SYNTH_BUF_INIT;
	size_t i;
	json_t *m;
	json_array_foreach(json_object_get(rs, "modules"), i, m)
		synth_buf_printf(&b, "%s%s", i ? " " : "", s_of(m, "name"));
	char *n = synth_buf_detach(&b);
	CHECK_STR(n, "Wide.queries Wide.Mutation.createWide Wide.Mutation.updateWide Wide.Mutation.deleteWide "
		     "Wide.subscriptions Wide.relations",
		  "wide: split by group; the mutations, too large together, one module each");
	free(n);
	json_t *get = module_of(rs, find(rs, "Query", "getWide"));
	CHECK(get && get == module_of(rs, find(rs, "Query", "listWides")) &&
		      !strstr(s_of(get, "code"), "createRequest") && !strstr(s_of(get, "code"), "extensions"),
	      "wide: get and list share the queries module, which holds only their bodies and imports");
	check_runtime_subset("wide", rs);
	json_decref(rs);

	/* Sixty fields with field-level rules: one resolver alone is over. */
	synth_buf s = SYNTH_BUF_INIT;
	synth_buf_puts(&s, "type Huge @model @auth(rules: [{ allow: owner }]) {\n");
	for (int k = 0; k < 60; k++)
		synth_buf_printf(&s, "  f%02d: String @auth(rules: [{ allow: owner }, { allow: groups, groups: "
				      "[\"Editors\"], operations: [read, update] }])\n", k);
	synth_buf_puts(&s, "}\n");
	char *text = synth_buf_detach(&s);
	json_t *model = NULL, *out = NULL;
	CHECK(text && synth__graphql_parse(&model, "huge.graphql", text, strlen(text)) == 0, "huge: parses");
	CHECK(synth__gql_resolvers(&out, model, SYNTH_GQL_AUTH_USER_POOLS) == SYNTH_EINVALID && !out,
	      "huge: a resolver over the limit by itself is refused");
	CHECK_HAS(synth_error_last()->message,
		  "huge.graphql:1:6: @model 'Huge': the code of resolver Mutation.createHuge exceeds AppSync's limit",
		  "huge: the message names the model, where, and the resolver");
	json_decref(model);
	free(text);
}

static void test_refused(void)
{
	/* A relation keyed by three fields (a hasMany to a model with two
	 * sort key fields) is refused where it is declared. */
	const char *text =
		"type V @model { s: String! @primaryKey(sortKeyFields: [\"d\", \"h\"]) d: String! h: Int!\n"
		"  notes: [N] @hasMany(references: [\"vs\", \"vd\", \"vh\"]) }\n"
		"type N @model { vs: String vd: String vh: Int v: V @belongsTo(references: [\"vs\", \"vd\", \"vh\"]) }\n";
	json_t *m = NULL, *out = NULL;
	CHECK(synth__graphql_parse(&m, "t.graphql", text, strlen(text)) == 0, "three key fields: parses");
	int rc = synth__gql_resolvers(&out, m, SYNTH_GQL_AUTH_USER_POOLS);
	CHECK(rc == SYNTH_EINVALID && !out, "a relation with three key fields: refused");
	CHECK_HAS(synth_error_last()->message, "t.graphql:2:14: relation 'notes': more than two key fields",
		  "a relation with three key fields: file:line:col");
	json_decref(m);
	/* A relation comparing a composite sort key with one field. */
	text = "type P @model { id: ID! x: String cs: [C] @hasMany(fields: [\"id\", \"x\"], indexName: \"byK\") }\n"
	       "type C @model { id: ID! k: ID @index(name: \"byK\", sortKeyFields: [\"a\", \"b\"]) a: String b: String }\n";
	m = NULL;
	if (synth__graphql_parse(&m, "u.graphql", text, strlen(text)) == 0) {
		out = NULL;
		rc = synth__gql_resolvers(&out, m, SYNTH_GQL_AUTH_USER_POOLS);
		CHECK(rc == SYNTH_EINVALID && !out, "a relation comparing a composite sort key: refused");
		CHECK_HAS(synth_error_last()->message, "composite sort key", "... and says why");
	} else {
		printf("# u.graphql: %s (the parser refuses it first)\n", synth_error_last()->message);
	}
	json_decref(m);
}

/* Allocation failure at every step of generating schema REL's resolvers
 * (blog.graphql: relations; composite.graphql: composite sort keys):
 * SYNTH_ENOMEM and nothing returned, never a crash or leak. */
static void test_alloc_failures(const char *rel)
{
#if CHAOS
	printf("# allocation failures: %s\n", rel);
	json_t *m = parse(rel), *out = NULL, *ref = NULL;
	if (!m)
		return;
	tracking = 1;
	count = live = 0;
	int rc = synth__gql_resolvers(&ref, m, SYNTH_GQL_AUTH_USER_POOLS);
	tracking = 0;
	long total = count;
	if (rc == 0 && total == 0) {
		printf("# allocation failures: allocations are not ours to count here (valgrind?)\n");
		json_decref(ref);
		json_decref(m);
		return;
	}
	CHECK(rc == 0 && total > 100, "a tracked generation succeeds (%ld allocations)", total);
	long failed = 0, leaked = 0, wrong = 0, differ = 0;
	for (long n = 1; n <= total; n++) {
		out = NULL;
		count = live = 0;
		fail_at = n;
		tracking = 1;
		rc = synth__gql_resolvers(&out, m, SYNTH_GQL_AUTH_USER_POOLS);
		tracking = 0;
		fail_at = -1;
		/* jansson's dumper survives some failures of its own: then the
		 * result must be exactly the reference */
		if (rc == 0 && !json_equal(out, ref))
			differ++, printf("# allocation %ld failed: a different result\n", n);
		tracking = 1;
		json_decref(out);
		tracking = 0;
		failed += rc != 0;
		if (rc != 0 && (rc != SYNTH_ENOMEM || out))
			wrong++, printf("# allocation %ld: rc %d %s\n", n, rc, synth_error_last()->message);
		if (live)
			leaked++, printf("# allocation %ld failed: %ld blocks leaked\n", n, live);
	}
	CHECK(failed > total * 9 / 10, "failed allocations fail the generation (%ld of %ld)", failed, total);
	CHECK(differ == 0, "a generation that survives a failure gives the same resolvers (%ld not)", differ);
	CHECK(wrong == 0, "every failure is SYNTH_ENOMEM with nothing returned (%ld not)", wrong);
	CHECK(leaked == 0, "no failure leaks (%ld did)", leaked);
	tracking = 1;
	count = live = 0;
	json_decref(ref);
	tracking = 0;
	json_decref(m);
#else
	(void)rel;
	printf("# allocation failures: not under AddressSanitizer\n");
#endif
}

int main(void)
{
	test_todo();
	test_public_private();
	test_groups();
	test_composite();
	test_blog();
	test_legacy();
	test_operations();
	test_fieldauth();
	test_modules();
	test_split();
	test_refused();
	test_alloc_failures("graphql/blog.graphql");
	test_alloc_failures("resolvers/composite.graphql");
	return check_failed ? 1 : 0;
}

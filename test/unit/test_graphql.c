/*
 * The schema parser of define_data (constructs/data/graphql.c): Amplify's GraphQL SDL
 * dialect into a JSON model. Fixtures under test/graphql/ (found through
 * SYNTH_ROOT): good schemas parse into the expected model; bad ones fail
 * with the exact `file:line:col: message`. Inline cases cover every rule;
 * then limits, hostile sizes, and an allocation failure at every step.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdlib.h>
#include <time.h>
#include "check.h"
#include <synth/sys/util.h>
#include "graphql.h"

/* --- allocation failure injection (not under ASan: it owns malloc) ---- */

#include "failmalloc.h"

/* --- helpers ---------------------------------------------------------- */

static char *fixture_path(const char *rel)
{
	const char *root = getenv("SYNTH_ROOT");
	return synth_asprintf("%s/test/graphql/%s", root ? root : ".", rel);
}

static char *read_fixture(const char *rel, size_t *len)
{
	char *path = fixture_path(rel), *text = NULL;
	if (!path || synth_file_read(path, &text, len) < 0) {
		printf("# cannot read %s: %s\n", path ? path : rel, synth_error_last()->message);
		text = NULL;
	}
	free(path);
	return text;
}

/* Parses fixture REL, named REL in messages. NULL (and a diagnostic) if it
 * does not parse. */
static json_t *parse_fixture(const char *rel)
{
	size_t len = 0;
	char *text = read_fixture(rel, &len);
	json_t *m = NULL;
	if (text && synth__graphql_parse(&m, rel, text, len) < 0)
		printf("# %s\n", synth_error_last()->message);
	free(text);
	return m;
}

static json_t *parse_text(const char *text)
{
	json_t *m = NULL;
	if (synth__graphql_parse(&m, "t.graphql", text, strlen(text)) < 0)
		printf("# %s\n", synth_error_last()->message);
	return m;
}

/* TEXT must fail with exactly MESSAGE. */
static void check_bad(const char *what, const char *text, size_t len, const char *message)
{
	json_t *m = NULL;
	int rc = synth__graphql_parse(&m, "t.graphql", text, len);
	CHECK(rc == SYNTH_EINVALID && !m, "%s: refused with SYNTH_EINVALID (rc %d)", what, rc);
	CHECK_STR(synth_error_last()->message, message, "%s: message", what);
	json_decref(m);
}

#define BAD(what, text, message) check_bad(what, text, strlen(text), message)

/* The value at a dotted path (array indexes as numbers); borrowed. */
static json_t *at(json_t *root, const char *path)
{
	char buf[512];
	snprintf(buf, sizeof buf, "%s", path);
	json_t *cur = root;
	for (char *tok = strtok(buf, "."); tok && cur; tok = strtok(NULL, ".")) {
		if (json_is_array(cur))
			cur = json_array_get(cur, (size_t)atoi(tok));
		else
			cur = json_object_get(cur, tok);
	}
	return cur;
}

static bool is_json(json_t *root, const char *path, const char *json)
{
	json_t *want = json_loads(json, JSON_DECODE_ANY, NULL);
	json_t *got = at(root, path);
	bool same = want && got && json_equal(want, got);
	if (!same) {
		char *g = got ? json_dumps(got, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
		printf("#   %s: got %s\n#   expected %s\n", path, g ? g : "(none)", json);
		free(g);
	}
	json_decref(want);
	return same;
}

static const char *str_at(json_t *root, const char *path)
{
	return json_string_value(at(root, path));
}

#define CHECK_JSON(root, path, json) CHECK(is_json(root, path, json), "%s = %s", path, json)

/* --- good schemas ------------------------------------------------------- */

static void test_todo(void)
{
	json_t *m = parse_fixture("todo.graphql");
	CHECK(m != NULL, "todo.graphql parses");
	size_t len;
	char *text = read_fixture("todo.json", &len);
	json_t *want = text ? json_loads(text, 0, NULL) : NULL;
	CHECK(want && m && json_equal(m, want), "todo.graphql gives exactly the model in todo.json");
	if (m && want && !json_equal(m, want)) {
		char *s = json_dumps(m, JSON_INDENT(2));
		printf("# got:\n%s\n", s);
		free(s);
	}
	CHECK_JSON(m, "models.Todo.auth.0", "{\"allow\": \"owner\", \"provider\": \"userPools\", "
		   "\"ownerField\": \"owner\", \"identityClaim\": \"sub::username\", \"operations\": "
		   "[\"create\", \"update\", \"delete\", \"get\", \"list\", \"listen\", \"sync\", \"search\"], "
		   "\"line\": 2, \"column\": 32}");
	CHECK_JSON(m, "models.Todo.fields.done", "{\"type\": \"Boolean\", \"kind\": \"scalar\", "
		   "\"required\": true, \"list\": false, \"listItemRequired\": false, \"directives\": {}, "
		   "\"line\": 4, \"column\": 3}");
	CHECK_JSON(m, "models.Todo.primaryKey", "{\"field\": \"id\", \"sortKeyFields\": [], \"implicit\": true}");
	CHECK_JSON(m, "authProviders", "{\"userPools\": {\"line\": 2, \"column\": 32}}");
	json_decref(want);
	free(text);
	json_decref(m);
}

static void test_blog(void)
{
	json_t *m = parse_fixture("blog.graphql");
	CHECK(m != NULL, "blog.graphql (relations, indexes, composite key, every rule) parses");
	if (!m)
		return;
	CHECK(json_object_size(at(m, "models")) == 4, "four models");
	/* descriptions: block string (dedented) on a type, string on a field */
	CHECK_STR(str_at(m, "models.Blog.description"),
		  "A blog: owned by its author, readable by anyone with the API key.",
		  "block string description of Blog");
	CHECK_STR(str_at(m, "models.Blog.fields.name.description"), "The blog's title, shown in lists.",
		  "string description of Blog.name");
	CHECK_STR(str_at(m, "types.BlogSettings.description"),
		  "Settings embedded in a blog (a custom, non-model type).", "description of a custom type");
	/* auth: three strategies, normalized */
	CHECK_JSON(m, "models.Blog.auth.1.operations", "[\"get\", \"list\", \"listen\", \"sync\", \"search\"]");
	CHECK_JSON(m, "models.Blog.auth.1.provider", "\"apiKey\"");
	CHECK_JSON(m, "models.Blog.auth.2", "{\"allow\": \"groups\", \"provider\": \"userPools\", "
		   "\"groups\": [\"Admin\", \"Editors\"], \"groupClaim\": \"cognito:groups\", \"operations\": "
		   "[\"create\", \"update\", \"delete\", \"get\", \"list\", \"listen\", \"sync\", \"search\"], "
		   "\"line\": 10, \"column\": 3}");
	CHECK_JSON(m, "models.Post.auth.0.allow", "\"private\"");
	CHECK_JSON(m, "models.Post.auth.1", "{\"allow\": \"public\", \"provider\": \"iam\", "
		   "\"operations\": [\"get\", \"list\"], \"line\": 21, \"column\": 71}");
	CHECK_JSON(m, "models.Comment.auth.0.provider", "\"identityPool\"");
	CHECK_JSON(m, "models.Author.auth", "[]");
	CHECK_JSON(m, "models.Author.hasAuth", "false");
	CHECK_JSON(m, "models.Post.fields.views.auth.0", "{\"allow\": \"owner\", \"provider\": \"userPools\", "
		   "\"ownerField\": \"editor\", \"identityClaim\": \"sub::username\", \"operations\": "
		   "[\"update\", \"get\", \"list\", \"listen\", \"sync\", \"search\"], \"line\": 29, \"column\": 49}");
	CHECK_JSON(m, "authProviders", "{\"userPools\": {\"line\": 8, \"column\": 3}, "
		   "\"apiKey\": {\"line\": 9, \"column\": 3}, \"iam\": {\"line\": 21, \"column\": 71}, "
		   "\"identityPool\": {\"line\": 34, \"column\": 35}}");
	/* indexes: named with a queryField; default name and query */
	CHECK_JSON(m, "models.Blog.indexes", "[{\"name\": \"byName\", \"field\": \"name\", \"sortKeyFields\": [], "
		   "\"queryField\": \"blogsByName\", \"line\": 14, \"column\": 17}]");
	CHECK_JSON(m, "models.Post.indexes", "[{\"name\": \"postsByBlogIdAndCreatedAt\", \"field\": \"blogId\", "
		   "\"sortKeyFields\": [\"createdAt\"], \"queryField\": \"postsByBlogIdAndCreatedAt\", "
		   "\"line\": 24, \"column\": 14}]");
	/* composite primary key */
	CHECK_JSON(m, "models.Comment.primaryKey", "{\"field\": \"postId\", \"sortKeyFields\": [\"postTitle\"], "
		   "\"implicit\": false}");
	/* relations with references, both directions */
	CHECK_JSON(m, "models.Blog.relations", "[{\"field\": \"posts\", \"kind\": \"hasMany\", \"related\": \"Post\", "
		   "\"references\": [\"blogId\"], \"keyModel\": \"Post\", \"keyFields\": [\"blogId\"], "
		   "\"counterpart\": \"blog\", \"line\": 16, \"column\": 17}]");
	CHECK_JSON(m, "models.Post.relations.0", "{\"field\": \"blog\", \"kind\": \"belongsTo\", \"related\": \"Blog\", "
		   "\"references\": [\"blogId\"], \"keyModel\": \"Post\", \"keyFields\": [\"blogId\"], "
		   "\"counterpart\": \"posts\", \"line\": 25, \"column\": 14}");
	CHECK_JSON(m, "models.Comment.relations.1", "{\"field\": \"author\", \"kind\": \"hasOne\", \"related\": \"Author\", "
		   "\"references\": [\"commentId\", \"commentTitle\"], \"keyModel\": \"Author\", "
		   "\"keyFields\": [\"commentId\", \"commentTitle\"], \"counterpart\": \"comment\", "
		   "\"line\": 39, \"column\": 18}");
	CHECK_JSON(m, "models.Post.fields.blog.relation", "\"belongsTo\"");
	CHECK_JSON(m, "models.Post.fields.blog.kind", "\"model\"");
	/* @default, typed */
	CHECK_JSON(m, "models.Blog.fields.status.default", "\"DRAFT\"");
	CHECK_JSON(m, "models.Post.fields.rating.default", "4.5");
	CHECK_JSON(m, "models.Post.fields.views.default", "0");
	CHECK_JSON(m, "models.Author.fields.email.default", "\"nobody@example.com\"");
	CHECK_JSON(m, "models.Author.fields.notes.default", "\"{\\\"a\\\": [1, 2]}\"");
	CHECK_JSON(m, "models.Post.fields.views.directives", "{\"default\": {\"value\": \"0\"}, \"auth\": {\"rules\": "
		   "[{\"allow\": \"owner\", \"ownerField\": \"editor\", \"operations\": [\"read\", \"update\"]}]}}");
	/* required and lists; enums; custom types */
	CHECK_JSON(m, "models.Blog.fields.tags", "{\"type\": \"String\", \"kind\": \"scalar\", \"required\": true, "
		   "\"list\": true, \"listItemRequired\": true, \"directives\": {}, \"line\": 18, \"column\": 3}");
	CHECK_JSON(m, "models.Blog.fields.posts.list", "true");
	CHECK_JSON(m, "models.Blog.fields.posts.listItemRequired", "false");
	CHECK_JSON(m, "models.Blog.fields.settings.kind", "\"type\"");
	CHECK_JSON(m, "models.Blog.fields.status.kind", "\"enum\"");
	CHECK_JSON(m, "enums.BlogStatus.values", "[\"DRAFT\", \"PUBLISHED\", \"ARCHIVED\"]");
	CHECK_JSON(m, "enums.Theme", "{\"line\": 74, \"column\": 6, \"values\": [\"LIGHT\", \"DARK\"]}");
	CHECK_JSON(m, "types.BlogSettings.fields.limits.kind", "\"type\"");
	CHECK_JSON(m, "types.Limits.fields.postsPerDay.type", "\"Int\"");
	CHECK(json_object_size(at(m, "types")) == 2, "two custom types");
	json_decref(m);
}

static void test_legacy(void)
{
	json_t *m = parse_fixture("legacy.graphql");
	CHECK(m != NULL, "legacy.graphql (implicit and fields relations) parses");
	if (!m)
		return;
	CHECK_JSON(m, "models.Project.relations.0", "{\"field\": \"team\", \"kind\": \"hasOne\", \"related\": \"Team\", "
		   "\"keyModel\": \"Project\", \"keyFields\": [\"projectTeamId\"], \"counterpart\": \"project\", "
		   "\"line\": 6, \"column\": 14}");
	CHECK_JSON(m, "models.Project.relations.1.fields", "[\"teamId\"]");
	CHECK_JSON(m, "models.Project.relations.2.keyModel", "\"Task\"");
	CHECK_JSON(m, "models.Project.relations.2.keyFields", "[\"projectTasksId\"]");
	CHECK_JSON(m, "models.Task.relations.0.keyFields", "[\"projectTasksId\"]");
	CHECK_JSON(m, "models.Task.relations.0.counterpart", "\"tasks\"");
	CHECK_JSON(m, "models.Team.relations.0.keyFields", "[\"teamProjectId\"]");
	{
		/* The implicit key is named after the referenced key fields
		 * (Amplify's getConnectionAttributeName): not siteHomeId. */
		const char *text = "type Site @model { name: String home: Page @hasOne }\n"
				   "type Page @model { path: String! @primaryKey(sortKeyFields: [\"lang\"]) lang: String!\n"
				   "  pages: [Chapter] @hasMany }\n"
				   "type Chapter @model { title: String }\n";
		json_t *k = NULL;
		CHECK(synth__graphql_parse(&k, "k.graphql", text, strlen(text)) == 0, "implicit keys: parses");
		CHECK_JSON(k, "models.Site.relations.0.keyFields", "[\"siteHomePath\", \"siteHomeLang\"]");
		CHECK_JSON(k, "models.Page.relations.0.keyFields", "[\"pagePagesPath\", \"pagePagesLang\"]");
		json_decref(k);
	}
	{
		/* The one plural rule (graphql.c), which the generators share. */
		static const char *const cases[][2] = {{"Todo", "Todos"}, {"Address", "Addresses"},
			{"Category", "Categories"}, {"Day", "Days"}, {"Box", "Boxes"}, {"Match", "Matches"},
			{"Bath", "Baths"}, {"Y", "Ys"}, {"Quiz", "Quizes"}};
		int bad = 0;
		for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
			size_t keep;
			const char *suf = synth__graphql_plural(cases[i][0], &keep);
			char got[64];
			snprintf(got, sizeof got, "%.*s%s", (int)keep, cases[i][0], suf);
			if (strcmp(got, cases[i][1]))
				bad++, printf("# plural of %s: %s\n", cases[i][0], got);
		}
		CHECK(bad == 0, "synth__graphql_plural: regular English plurals (%d wrong)", bad);
	}
	CHECK_JSON(m, "models.Tree.relations.0", "{\"field\": \"children\", \"kind\": \"hasMany\", \"related\": \"Tree\", "
		   "\"fields\": [\"id\"], \"keyModel\": \"Tree\", \"keyFields\": [\"id\"], \"counterpart\": \"parent\", "
		   "\"indexName\": \"byParent\", \"limit\": 50, \"line\": 26, \"column\": 20}");
	CHECK_JSON(m, "models.Tree.indexes.0.queryField", "\"treesByParentId\"");
	CHECK_JSON(m, "models.Task.indexes.0.queryField", "null");
	CHECK_JSON(m, "models.Task.options", "{\"queries\": {\"get\": \"task\", \"list\": null}, "
		   "\"timestamps\": {\"createdAt\": \"made\"}}");
	CHECK_JSON(m, "models.Project.auth.0", "{\"allow\": \"groups\", \"provider\": \"userPools\", "
		   "\"groupsField\": \"editors\", \"groupClaim\": \"custom:groups\", \"operations\": "
		   "[\"create\", \"update\", \"delete\", \"get\", \"list\", \"listen\", \"sync\", \"search\"], "
		   "\"line\": 2, \"column\": 35}");
	CHECK_JSON(m, "models.Team.auth.1.identityClaim", "\"sub\"");
	CHECK_JSON(m, "models.Team.auth.1.provider", "\"oidc\"");
	CHECK_JSON(m, "authProviders", "{\"userPools\": {\"line\": 2, \"column\": 35}, "
		   "\"oidc\": {\"line\": 12, \"column\": 32}}");
	json_decref(m);
}

static void test_syntax(void)
{
	json_t *m = parse_fixture("syntax.graphql");
	CHECK(m != NULL, "syntax.graphql (BOM, block strings, escapes, interfaces, unions, inputs) parses");
	if (!m)
		return;
	CHECK_STR(str_at(m, "interfaces.Node.description"),
		  "A block string description:\n  indented,  \"quoted\", with \"\"\" inside.",
		  "block string: common indent and blank lines removed, \\\"\"\" unescaped");
	CHECK_JSON(m, "interfaces.Node.line", "7");
	CHECK_JSON(m, "interfaces.Named.interfaces", "[\"Node\"]");
	CHECK_JSON(m, "types.Place.interfaces", "[\"Node\", \"Named\"]");
	CHECK_STR(str_at(m, "types.Place.fields.label.description"),
		  "Escapes: tab\t quote\" slash/ unicode \xc3\xa9 \xf0\x9f\x98\x80 pair \xf0\x9f\x98\x80 \xc3\xa9",
		  "escapes: \\t \\\" \\/ \\u00e9 \\u{1F600} a surrogate pair, raw UTF-8");
	CHECK_JSON(m, "types.Place.fields.name.arguments.locale.defaultValue", "\"en\"");
	CHECK_JSON(m, "types.Place.fields.name.arguments.locale.directives", "{\"deprecated\": {}}");
	CHECK_JSON(m, "types.Place.fields.name.directives", "{\"deprecated\": {\"reason\": \"use label\"}}");
	CHECK_JSON(m, "types.Place.fields.point.arguments.filter.defaultValue",
		   "{\"lat\": 1, \"lng\": -25.0, \"tags\": \"a\", \"kind\": \"NEAR\"}");
	CHECK_JSON(m, "types.Place.fields.point.list", "true");
	CHECK_JSON(m, "inputs.PointFilter.fields.tags.defaultValue", "[\"x\", \"y\"]");
	CHECK_JSON(m, "inputs.PointFilter.fields.nested.kind", "\"input\"");
	CHECK_JSON(m, "unions.Result", "{\"line\": 36, \"column\": 7, \"types\": [\"Place\", \"Other\"]}");
	CHECK_JSON(m, "enums.Kind.values", "[\"NEAR\", \"FAR\"]");
	CHECK_JSON(m, "models", "{}");
	json_decref(m);
}

/* Small schemas that must parse, with what they become. */
static void test_good_inline(void)
{
	json_t *m = parse_text(
		"type A @model @auth(rules: {allow: groups, groups: \"Admin\", operations: read}) {\n"
		"  k: ID! @primaryKey(sortKeyFields: \"s\")\n"
		"  s: String!\n"
		"  n: Int @index(sortKeyFields: \"s\", name: \"a.b-c_d\", queryField: \"q\")\n"
		"  d: AWSDate @default(value: \"2024-02-29\")\n"
		"  t: AWSTime @default(value: \"23:59:59.123+05:30\")\n"
		"  dt: AWSDateTime @default(value: \"2024-01-01T00:00:00Z\")\n"
		"  ts: AWSTimestamp @default(value: \"1700000000\")\n"
		"  f: Float @default(value: \"1e3\")\n"
		"  b: Boolean @default(value: \"TRUE\")\n"
		"  u: AWSURL @default(value: \"https://example.com/x?y=1\")\n"
		"  ph: AWSPhone @default(value: \"+1 (555) 123-4567\")\n"
		"  ip: AWSIPAddress @default(value: \"::1\")\n"
		"  ip4: AWSIPAddress @default(value: \"10.0.0.1/8\")\n"
		"  j: AWSJSON @default(value: \"[1, {}]\")\n"
		"  e: String @default(value: \"\")\n"
		"}\n");
	CHECK(m != NULL, "coercions, every AWS scalar default");
	CHECK_JSON(m, "models.A.auth.0.groups", "[\"Admin\"]");
	CHECK_JSON(m, "models.A.auth.0.operations", "[\"get\", \"list\", \"listen\", \"sync\", \"search\"]");
	CHECK_JSON(m, "models.A.primaryKey", "{\"field\": \"k\", \"sortKeyFields\": [\"s\"], \"implicit\": false}");
	CHECK_JSON(m, "models.A.indexes.0.sortKeyFields", "[\"s\"]");
	CHECK_JSON(m, "models.A.indexes.0.name", "\"a.b-c_d\"");
	CHECK_JSON(m, "models.A.fields.ts.default", "1700000000");
	CHECK_JSON(m, "models.A.fields.f.default", "1000.0");
	CHECK_JSON(m, "models.A.fields.b.default", "true");
	CHECK_JSON(m, "models.A.fields.d.default", "\"2024-02-29\"");
	CHECK_JSON(m, "models.A.fields.e.default", "\"\"");
	json_decref(m);

	m = parse_text("type S @model(subscriptions: {level: off, onCreate: \"onMade\"}, mutations: null) {\n"
		       "  a: Int, b: Int,\n}\n");
	CHECK(m != NULL, "@model options; commas are whitespace");
	CHECK_JSON(m, "models.S.options", "{\"subscriptions\": {\"level\": \"off\", \"onCreate\": [\"onMade\"]}, "
		   "\"mutations\": null}");
	json_decref(m);

	m = parse_text("type A @model { id: ID!, b: Int @index @index(name: \"byB2\", queryField: \"bees\") }\n"
		       "type B @model { id: ID! }\n");
	CHECK(m != NULL, "@index is repeatable");
	CHECK_JSON(m, "models.A.indexes.0.name", "\"asByB\"");
	CHECK_JSON(m, "models.A.fields.b.directives.index", "[{}, {\"name\": \"byB2\", \"queryField\": \"bees\"}]");
	json_decref(m);

	/* plurals of default index names */
	m = parse_text("type Category @model { n: Int @index }\ntype Address @model { n: Int @index }\n"
		       "type Day @model { n: Int @index }\ntype Match @model { n: Int @index }\n");
	CHECK_JSON(m, "models.Category.indexes.0.name", "\"categoriesByN\"");
	CHECK_JSON(m, "models.Address.indexes.0.name", "\"addressesByN\"");
	CHECK_JSON(m, "models.Day.indexes.0.name", "\"daysByN\"");
	CHECK_JSON(m, "models.Match.indexes.0.name", "\"matchesByN\"");
	json_decref(m);

	/* an undeclared id key referenced as ID; String matches ID */
	m = parse_text("type P @model { kids: [K] @hasMany(references: [\"pid\"]) }\n"
		       "type K @model { pid: String, p: P @belongsTo(references: [\"pid\"]) }\n");
	CHECK(m != NULL, "references: String matches the implicit id: ID");
	json_decref(m);

	/* implicit fields: id, createdAt and updatedAt can be keys */
	m = parse_text("type A @model(timestamps: {updatedAt: \"changed\"}) {\n"
		       "  n: Int @index(sortKeyFields: [\"createdAt\"]) @index(sortKeyFields: [\"changed\"])\n"
		       "  j: AWSJSON @default(value: \"[{\\\"k\\\": \\\"\\\\n\\\\u00e9\\\"}, -0.5e+3, true, false, null, {}]\")\n"
		       "}\ninput I { t: AWSTimestamp = 5, i: ID = 7, f: Float = 2 }\n");
	CHECK(m != NULL, "implicit timestamps as sort keys, AWSJSON, integer defaults");
	CHECK_JSON(m, "models.A.timestamps", "{\"createdAt\": \"createdAt\", \"updatedAt\": \"changed\"}");
	CHECK_JSON(m, "models.A.fields.j.default", "\"[{\\\"k\\\": \\\"\\\\n\\\\u00e9\\\"}, -0.5e+3, true, false, null, {}]\"");
	json_decref(m);

	/* a block string value, empty strings, an empty block string */
	m = parse_text("type A @model { a: String @default(value: \"\"\"\n   hello\n   \"\"\") b: String @default(value: \"\"\"\"\"\") }");
	CHECK_JSON(m, "models.A.fields.a.default", "\"hello\"");
	CHECK_JSON(m, "models.A.fields.b.default", "\"\"");
	json_decref(m);
}

/* --- bad schemas -------------------------------------------------------------- */

static void test_bad_fixtures(void)
{
	static const struct { const char *file, *message; } bad[] = {
		{"bad/unterminated_string.graphql", "bad/unterminated_string.graphql:2:33: unterminated string"},
		{"bad/unterminated_description.graphql",
		 "bad/unterminated_description.graphql:3:3: unterminated string"},
		{"bad/unterminated_block_string.graphql",
		 "bad/unterminated_block_string.graphql:3:32: unterminated block string"},
		{"bad/missing_brace.graphql", "bad/missing_brace.graphql:4:1: expected a field name or '}' "
		 "to close type 'Todo' (opened at 1:18), found end of file"},
		{"bad/missing_brace_before_type.graphql", "bad/missing_brace_before_type.graphql:5:6: "
		 "expected ':' after field name 'type' (is a '}' missing before line 5?), found name 'Note'"},
		{"bad/expected_colon.graphql",
		 "bad/expected_colon.graphql:2:9: expected ':' after field name 'title', found '{'"},
		{"bad/unknown_type.graphql",
		 "bad/unknown_type.graphql:3:10: unknown type 'Tag' for field 'tags' of type 'Todo'"},
		{"bad/unknown_directive.graphql", "bad/unknown_directive.graphql:1:18: unknown directive @searchable"},
		{"bad/auth_allow.graphql", "bad/auth_allow.graphql:1:56: invalid @auth allow value 'everyone': "
		 "expected owner, groups, private or public"},
		{"bad/auth_provider.graphql", "bad/auth_provider.graphql:1:58: provider 'userPools' cannot be "
		 "used with allow: public (use apiKey, iam or identityPool)"},
		{"bad/auth_groups.graphql", "bad/auth_groups.graphql:1:32: an allow: groups rule needs "
		 "groups: [\"Admin\", ...] (or groupsField)"},
		{"bad/index_sort_key.graphql", "bad/index_sort_key.graphql:3:72: sortKeyFields of @index on "
		 "'Todo.status' names 'priority', which is not a field of 'Todo'"},
		{"bad/belongs_to_non_model.graphql", "bad/belongs_to_non_model.graphql:4:14: @belongsTo on "
		 "'Comment.post' needs a @model type, but 'Post' is an object type"},
		{"bad/belongs_to_no_counterpart.graphql", "bad/belongs_to_no_counterpart.graphql:4:14: "
		 "@belongsTo on 'Comment.post' needs a @hasOne or @hasMany field in 'Post' that refers back "
		 "to 'Comment' (uni-directional relations are not supported)"},
		{"bad/references_mismatch.graphql", "bad/references_mismatch.graphql:3:17: the references of "
		 "'Blog.posts' must be the same as those of 'Post.blog' (9:14)"},
		{"bad/has_many_not_list.graphql", "bad/has_many_not_list.graphql:3:15: @hasMany field "
		 "'Blog.posts' must be a list, such as [Post]"},
		{"bad/model_field_without_relation.graphql", "bad/model_field_without_relation.graphql:3:11: "
		 "field 'posts' of type 'Blog' refers to the @model 'Post' without a relation: add @hasMany, "
		 "@hasOne or @belongsTo"},
		{"bad/duplicate_field.graphql",
		 "bad/duplicate_field.graphql:5:3: duplicate field 'title' in type 'Todo' (first at 3:3)"},
		{"bad/duplicate_type.graphql",
		 "bad/duplicate_type.graphql:5:6: duplicate type 'Todo' (first defined at 1:6)"},
		{"bad/default_type.graphql",
		 "bad/default_type.graphql:3:33: @default value \"high\" is not a valid Int"},
		{"bad/default_enum.graphql",
		 "bad/default_enum.graphql:3:34: @default value \"CLOSED\" is not a value of enum 'Status'"},
		{"bad/deep_nesting.graphql",
		 "bad/deep_nesting.graphql:1:63: nesting is too deep (more than 32 levels)"},
		{"bad/model_on_enum.graphql",
		 "bad/model_on_enum.graphql:1:13: @model is not allowed on enum 'Status': it belongs on object types"},
		{"bad/custom_scalar.graphql", "bad/custom_scalar.graphql:1:8: custom scalar 'Date' is not "
		 "supported (AppSync has none): use a built-in scalar such as String or AWSJSON"},
		{"bad/not_utf8.graphql",
		 "bad/not_utf8.graphql:3:8: invalid UTF-8 (byte 0xE9): a schema must be UTF-8 text"},
		{"bad/empty.graphql", "bad/empty.graphql:1:1: the schema is empty: no type definitions"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		size_t len = 0;
		char *text = read_fixture(bad[i].file, &len);
		json_t *m = NULL;
		int rc = text ? synth__graphql_parse(&m, bad[i].file, text, len) : -99;
		CHECK(rc == SYNTH_EINVALID && !m, "%s is refused", bad[i].file);
		CHECK_STR(synth_error_last()->message, bad[i].message, "%s: file:line:col and message",
			  bad[i].file);
		json_decref(m);
		free(text);
	}
}

static void test_bad_syntax(void)
{
	static const struct { const char *what, *text, *message; } bad[] = {
		{"stray '$'", "type A { a: String }\n$",
		 "t.graphql:2:1: expected a type definition (type, enum, input, interface, union), found '$'"},
		{"leading zero", "input I { a: Int = 01 }", "t.graphql:1:21: invalid number: unexpected digit after 0"},
		{"no digit after '.'", "input I { a: Float = 1.e5 }",
		 "t.graphql:1:24: invalid number: expected a digit after '.'"},
		{"letters after a number", "input I { a: Int = 12abc }",
		 "t.graphql:1:22: invalid number: unexpected 'a' after a number"},
		{"lone '-'", "input I { a: Int = - }", "t.graphql:1:21: invalid number: expected a digit after '-'"},
		{"bad escape", "\"bad \\q\" type A { a: Int }", "t.graphql:1:6: invalid escape sequence '\\q'"},
		{"lone surrogate", "\"\\uD800\" type A { a: Int }",
		 "t.graphql:1:2: invalid Unicode escape: lone surrogate U+D800"},
		{"low surrogate alone", "\"x\\uDC00\" type A { a: Int }",
		 "t.graphql:1:3: invalid Unicode escape: lone surrogate U+DC00"},
		{"short \\u", "\"\\u12\" type A { a: Int }",
		 "t.graphql:1:2: invalid Unicode escape: expected 4 hex digits after \\u"},
		{"\\u{} too big", "\"\\u{110000}\" type A { a: Int }",
		 "t.graphql:1:2: invalid Unicode escape: U+110000 is beyond U+10FFFF"},
		{"NUL escape", "\"\\u0000\" type A { a: Int }", "t.graphql:1:2: a string may not contain U+0000"},
		{"control in string", "\"a\x01" "b\" type A { a: Int }",
		 "t.graphql:1:3: unexpected character U+0001 in a string"},
		{"'%'", "type A { a: Int } %", "t.graphql:1:19: unexpected character '%'"},
		{"non-ASCII name", "type \xc3\x84 { a: Int }", "t.graphql:1:6: unexpected character '\xc3\x84' (U+00C4)"},
		{"single '.'", "type A { a: Int } .", "t.graphql:1:19: unexpected character '.'"},
		{"variable", "type A @model @auth(rules: $r) { a: Int }",
		 "t.graphql:1:28: variables are not allowed in a schema (found '$' in argument 'rules' of @auth)"},
		{"empty arguments", "type A @model @index() { a: Int }",
		 "t.graphql:1:22: expected an argument name for @index, found ')'"},
		{"missing type", "type A { a: }", "t.graphql:1:13: expected a type for field 'a', found '}'"},
		{"unclosed list type", "type A { a: [Int }",
		 "t.graphql:1:18: expected ']' to close the list type opened at 1:13, found '}'"},
		{"empty body", "type A {}", "t.graphql:1:9: expected a field name in type 'A', found '}'"},
		{"enum value true", "enum E { true }", "t.graphql:1:10: an enum value cannot be named 'true'"},
		{"schema definition", "schema { query: Q }",
		 "t.graphql:1:1: 'schema' definitions are not supported in an Amplify schema"},
		{"extend", "extend type A { b: Int }",
		 "t.graphql:1:1: type extensions ('extend') are not supported in an Amplify schema"},
		{"an operation", "query { a }",
		 "t.graphql:1:1: expected a type definition (type, enum, input, interface, union), found name 'query'"},
		{"duplicate argument", "type A @model @index(name: \"x\", name: \"y\")",
		 "t.graphql:1:33: duplicate argument 'name' for @index (first at 1:22)"},
		{"duplicate object key", "type A @model @auth(rules: [{allow: owner, allow: public}]) { a: Int }",
		 "t.graphql:1:44: duplicate field 'allow' in an object value (first at 1:30)"},
		{"unclosed list value", "type A @model @auth(rules: [{allow: owner}",
		 "t.graphql:1:43: expected a value or ']' to close the list opened at 1:28, found end of file"},
		{"unclosed object value", "type A @model @auth(rules: [{allow: owner",
		 "t.graphql:1:42: expected a field name or '}' in the object value opened at 1:29, found end of file"},
		{"missing value", "type A @model @auth(rules: ) { a: Int }",
		 "t.graphql:1:28: expected a value for argument 'rules' of @auth, found ')'"},
		{"directive without a name", "type A @ { a: Int }",
		 "t.graphql:1:10: expected a directive name after '@', found '{'"},
		{"union without members", "union U = ",
		 "t.graphql:1:11: expected a member type name in the union, found end of file"},
		{"implements without a name", "type A implements { a: Int }",
		 "t.graphql:1:19: expected an interface name after 'implements', found '{'"},
		{"description of nothing", "\"doc\"",
		 "t.graphql:1:6: expected a type definition (type, enum, input, interface, union), found end of file"},
		{"type without a name", "type { a: Int }", "t.graphql:1:6: expected a name after 'type', found '{'"},
		{"string found", "type A { \"doc\" }",
		 "t.graphql:1:16: expected a field name in type 'A', found '}'"},
		{"string as a field name", "type A { a: Int \"x\" : Int }",
		 "t.graphql:1:21: expected a field name in type 'A', found ':'"},
		{"tab is one column", "type A {\n\ta: Int\n\tb: Unknown\n}",
		 "t.graphql:3:5: unknown type 'Unknown' for field 'b' of type 'A'"},
		{"columns count code points", "\"\xc3\xa9\xc3\xa9\xc3\xa9\" type B { x: Foo }",
		 "t.graphql:1:19: unknown type 'Foo' for field 'x' of type 'B'"},
		{"CRLF line ends", "type A {\r\n  a: Int\r\n  b: Nope\r\n}",
		 "t.graphql:3:6: unknown type 'Nope' for field 'b' of type 'A'"},
		{"CR line ends", "type A {\r  a: Int\r  b: Nope\r}",
		 "t.graphql:3:6: unknown type 'Nope' for field 'b' of type 'A'"},
		{"lines inside a block string", "\"\"\"\r\nx\r\ny\n\"\"\"\ntype A { a: Q }",
		 "t.graphql:5:13: unknown type 'Q' for field 'a' of type 'A'"},
		{"comment runs to the line end", "# type X {\ntype A { a: Q } # Q",
		 "t.graphql:2:13: unknown type 'Q' for field 'a' of type 'A'"},
		{"BOM takes no column", "\xef\xbb\xbftype A { a: Q }",
		 "t.graphql:1:13: unknown type 'Q' for field 'a' of type 'A'"},
		{"only whitespace", " \n\t,\n", "t.graphql:1:1: the schema is empty: no type definitions"},
		{"truncated UTF-8", "# \xe2\x82", "t.graphql:1:3: invalid UTF-8 (byte 0xE2): a schema must be UTF-8 text"},
		{"overlong UTF-8", "\"\xc0\xaf\" type A { a: Int }",
		 "t.graphql:1:2: invalid UTF-8 (byte 0xC0): a schema must be UTF-8 text"},
		{"UTF-16 surrogate in UTF-8", "# \xed\xa0\x80",
		 "t.graphql:1:3: invalid UTF-8 (byte 0xED): a schema must be UTF-8 text"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		BAD(bad[i].what, bad[i].text, bad[i].message);
	static const struct { const char *what, *text, *message; } more[] = {
		{"found a string", "type A { a: \"x\" }",
		 "t.graphql:1:13: expected a type for field 'a', found string \"x\""},
		{"found a long string", "type A { a: \"0123456789012345678901234567890123456789\" }",
		 "t.graphql:1:13: expected a type for field 'a', found string \"01234567890123456789012345678901...\""},
		{"found a number", "type A { 5 }", "t.graphql:1:10: expected a field name in type 'A', found number 5"},
		{"found a block string", "type A { a: \"\"\"x\"\"\" }",
		 "t.graphql:1:13: expected a type for field 'a', found a block string"},
		{"found '...'", "type A { ... }", "t.graphql:1:10: expected a field name in type 'A', found '...'"},
		{"4-byte character columns", "\"\xf0\x9f\x98\x80\" type B { x: Foo }",
		 "t.graphql:1:17: unknown type 'Foo' for field 'x' of type 'B'"},
		{"\\u{} too long", "\"\\u{0000041}\" type A { a: Int }",
		 "t.graphql:1:2: invalid Unicode escape: too many digits"},
		{"\\u{} empty", "\"\\u{}\" type A { a: Int }",
		 "t.graphql:1:2: invalid Unicode escape: expected \\u{hex digits}"},
		{"high surrogate then not low", "\"\\uD800\\u0041\" type A { a: Int }",
		 "t.graphql:1:2: invalid Unicode escape: lone surrogate U+D800"},
		{"escape at the end", "\"\\", "t.graphql:1:2: invalid escape sequence"},
		{"exponent without digits", "input I { a: Float = 1e }",
		 "t.graphql:1:24: invalid number: expected a digit in the exponent"},
		{"object key without ':'", "type A @model @auth(rules: [{allow owner}]) { a: Int }",
		 "t.graphql:1:36: expected ':' after 'allow' in an object value, found name 'owner'"},
		{"argument without ':'", "type A @model { a: Int @index(name \"x\") }",
		 "t.graphql:1:36: expected ':' after argument name 'name' of @index, found string \"x\""},
		{"empty field arguments", "type A { f(): Int }",
		 "t.graphql:1:12: expected an argument name of field 'f', found ')'"},
		{"unclosed field arguments", "type A { f(a: Int: Int }",
		 "t.graphql:1:18: expected an argument name or ')' of field 'f', found ':'"},
		{"union without '='", "union U", "t.graphql:1:7: union 'U' has no member types"},
		{"interface implements itself", "interface N implements N { a: Int }",
		 "t.graphql:1:24: interface 'N' cannot implement itself"},
		{"implements twice", "interface N { a: Int }\ntype A implements N & N { a: Int }",
		 "t.graphql:2:23: type 'A' implements 'N' twice"},
		{"non-null list of non-null nested", "type A { a: [[Int!]!] }",
		 "t.graphql:1:13: nested lists such as [[Int!]!] are not supported (field 'a' of type 'A')"},
		{"projection nonKeyAttributes", "type A @model { a: Int @index(projection: {nonKeyAttributes: [1]}) }",
		 "t.graphql:1:63: nonKeyAttributes of @index must be a list of field names"},
		{"AWSTimestamp default not an integer", "input I { t: AWSTimestamp = \"5\" }",
		 "t.graphql:1:29: the default value of input field 't' of input 'I': \"5\" is not a valid AWSTimestamp"},
		{"ID default not a string", "input I { t: ID = 1.5 }",
		 "t.graphql:1:19: the default value of input field 't' of input 'I': number 1.5 is not a valid ID"},
		{"timestamps removed", "type A @model(timestamps: null) { a: Int @index(sortKeyFields: [\"createdAt\"]) }",
		 "t.graphql:1:65: sortKeyFields of @index on 'A.a' names 'createdAt', which is not a field of 'A'"},
	};
	for (size_t i = 0; i < sizeof more / sizeof *more; i++)
		BAD(more[i].what, more[i].text, more[i].message);
	/* a NUL byte in the input */
	check_bad("NUL byte", "type A { a: Int }\0", 18, "t.graphql:1:18: unexpected character U+0000");
}

static void test_bad_types(void)
{
	static const struct { const char *what, *text, *message; } bad[] = {
		{"unknown union member", "union U = A | B\ntype A { a: Int }",
		 "t.graphql:1:15: unknown type 'B' in union 'U'"},
		{"scalar union member", "union U = String",
		 "t.graphql:1:11: member 'String' of union 'U' must be an object type, but it is a scalar"},
		{"duplicate union member", "union U = A | A\ntype A { a: Int }",
		 "t.graphql:1:15: duplicate member 'A' in union 'U' (first at 1:11)"},
		{"input as a field type", "input I { a: Int }\ntype A { b: I }",
		 "t.graphql:2:13: field 'b' of type 'A' cannot have the input type 'I': inputs are for arguments"},
		{"object as an argument type", "type A { b(x: A): Int }",
		 "t.graphql:1:15: argument 'x' of field 'b' of type 'A' must have an input type "
		 "(a scalar, an enum or an input), but 'A' is an object type"},
		{"object in an input", "type A { a: Int }\ninput I { a: A }",
		 "t.graphql:2:14: input field 'a' of input 'I' must have an input type "
		 "(a scalar, an enum or an input), but 'A' is an object type"},
		{"nested list", "type A { b: [[Int]] }",
		 "t.graphql:1:13: nested lists such as [[Int]] are not supported (field 'b' of type 'A')"},
		{"reserved type name", "type __A { a: Int }", "t.graphql:1:6: names starting with '__' are reserved: '__A'"},
		{"reserved field name", "type A { __a: Int }", "t.graphql:1:10: names starting with '__' are reserved: '__a'"},
		{"built-in scalar redefined", "type String { a: Int }",
		 "t.graphql:1:6: 'String' is a built-in scalar and cannot be redefined"},
		{"duplicate enum value", "enum E { A B A }", "t.graphql:1:14: duplicate value 'A' in enum 'E' (first at 1:10)"},
		{"duplicate field argument", "type A { b(x: Int, x: Int): Int }",
		 "t.graphql:1:20: duplicate argument 'x' of field 'b' of type 'A' (first at 1:12)"},
		{"enum without values", "enum E", "t.graphql:1:6: enum 'E' has no values"},
		{"type without fields", "type A @model", "t.graphql:1:6: type 'A' has no fields"},
		{"unknown interface", "type A implements N { a: Int }",
		 "t.graphql:1:19: unknown interface 'N' implemented by type 'A'"},
		{"implements a type", "type B { a: Int }\ntype A implements B { a: Int }",
		 "t.graphql:2:19: 'B' is not an interface, so type 'A' cannot implement it"},
		{"interface field missing", "interface N { id: ID! }\ntype A implements N { a: Int }",
		 "t.graphql:2:19: type 'A' implements 'N' but has no field 'id'"},
		{"default value of the wrong type", "input I { a: Int = \"x\" }",
		 "t.graphql:1:20: the default value of input field 'a' of input 'I': \"x\" is not a valid Int"},
		{"Int default out of range", "input I { a: Int = 2147483648 }",
		 "t.graphql:1:20: the default value of input field 'a' of input 'I': number 2147483648 is not a valid Int"},
		{"enum default not a value", "enum E { A }\ninput I { e: E = B }",
		 "t.graphql:2:18: the default value of input field 'e' of input 'I': enum value B is not a valid E"},
		{"null for a required field", "input I { a: Int! = null }",
		 "t.graphql:1:21: the default value of input field 'a' of input 'I' cannot be null"},
		{"required input field missing", "input I { a: Int!, b: Int }\ntype A { f(x: I = {b: 1}): Int }",
		 "t.graphql:2:19: argument 'x' of field 'f' of type 'A': the required field 'a' of input 'I' is missing"},
		{"unknown input field", "input I { a: Int }\ntype A { f(x: I = {z: 1}): Int }",
		 "t.graphql:2:20: argument 'x' of field 'f' of type 'A': 'z' is not a field of input 'I'"},
		{"list item of the wrong type", "input I { a: [Int] = [1, true] }",
		 "t.graphql:1:26: the default value of input field 'a' of input 'I': boolean true is not a valid Int"},
		{"AWSDateTime default without a zone", "input I { a: AWSDateTime = \"2024-01-01T00:00:00\" }",
		 "t.graphql:1:28: the default value of input field 'a' of input 'I': \"2024-01-01T00:00:00\" "
		 "is not a valid AWSDateTime"},
		{"custom type refers to a model", "type A @model { id: ID! }\ntype T { a: A }",
		 "t.graphql:2:13: field 'a' of type 'T' refers to the @model 'A': only @model types can refer "
		 "to models (with @hasMany, @hasOne or @belongsTo)"},
		{"Query as a model", "type Query @model { a: Int }",
		 "t.graphql:1:6: 'Query' is one of the API's root types and cannot be a @model"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		BAD(bad[i].what, bad[i].text, bad[i].message);
}

static void test_bad_directives(void)
{
	static const struct { const char *what, *text, *message; } bad[] = {
		{"@model on an input", "input I @model { a: Int }",
		 "t.graphql:1:9: @model is not allowed on input 'I': it belongs on object types"},
		{"@model on a field", "type A @model { a: Int @model }",
		 "t.graphql:1:24: @model is not allowed on field 'a' of type 'A': it belongs on object types"},
		{"@deprecated on a type", "type A @deprecated { a: Int }",
		 "t.graphql:1:8: @deprecated is not allowed on type 'A': it belongs on fields, arguments and enum values"},
		{"@index on an interface field", "interface N { a: Int @index }",
		 "t.graphql:1:22: @index is not allowed on field 'a' of interface 'N': it belongs on fields of @model types"},
		{"@index on a non-model", "type A { a: Int @index }",
		 "t.graphql:1:17: @index needs a @model type: 'A' is not a @model"},
		{"@auth on a non-model", "type A @auth(rules: []) { a: Int }",
		 "t.graphql:1:8: @auth needs a @model type: 'A' is not a @model"},
		{"@model twice", "type A @model @model { a: Int }",
		 "t.graphql:1:15: @model appears twice on type 'A' (first at 1:8)"},
		{"unknown directive on an enum value", "enum E { A @foo }", "t.graphql:1:12: unknown directive @foo"},
		{"unknown argument", "type A @model { a: Int @index(sortKey: \"b\") }",
		 "t.graphql:1:31: unknown argument 'sortKey' for @index (expected name, sortKeyFields, queryField or projection)"},
		{"argument of the wrong type", "type A @model { a: Int @index(name: 5) }",
		 "t.graphql:1:37: argument 'name' of @index must be a string, found number 5"},
		{"list item of the wrong type", "type A @model { a: Int @index(sortKeyFields: [\"b\", 1]) }",
		 "t.graphql:1:52: argument 'sortKeyFields' of @index must be a list of strings, found number 1"},
		{"missing required argument", "type A @model { a: Int @default }",
		 "t.graphql:1:24: @default needs the argument 'value'"},
		{"null required argument", "type A @model { a: Int @default(value: null) }",
		 "t.graphql:1:40: argument 'value' of @default cannot be null"},
		{"@default value not a string", "type A @model { a: Int @default(value: 5) }",
		 "t.graphql:1:40: argument 'value' of @default must be a string, found number 5"},
		{"@model option unknown", "type A @model(queries: {find: \"x\"}) { a: Int }",
		 "t.graphql:1:25: unknown field 'find' in @model(queries: ...) (expected get or list)"},
		{"@model option not a name", "type A @model(mutations: {create: \"make it\"}) { a: Int }",
		 "t.graphql:1:35: \"make it\" in mutations.create of @model is not a valid GraphQL name"},
		{"@model subscription level", "type A @model(subscriptions: {level: all}) { a: Int }",
		 "t.graphql:1:38: subscriptions level of @model must be off, public or on"},
		{"@model option of the wrong type", "type A @model(timestamps: {createdAt: 1}) { a: Int }",
		 "t.graphql:1:39: timestamps.createdAt of @model must be a name or null, found number 1"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		BAD(bad[i].what, bad[i].text, bad[i].message);
}

/* @auth(rules: [RULE]) on a model A { n: Int, s: String } */
static void bad_rule(const char *rule, const char *message)
{
	char text[512];
	snprintf(text, sizeof text, "type A @model @auth(rules: [%s]) {\n  n: Int\n  s: String\n}\n", rule);
	BAD(rule, text, message);
}

static void test_bad_auth(void)
{
	/* the rule starts at column 29 */
	bad_rule("owner", "t.graphql:1:29: argument 'rules' of @auth must be a list of objects, found enum value owner");
	bad_rule("{allow: \"owner\"}", "t.graphql:1:37: 'allow' in an @auth rule takes an enum value: "
		 "write allow: owner, without quotes");
	bad_rule("{allow: 3}", "t.graphql:1:37: 'allow' in an @auth rule must be owner, groups, private or "
		 "public, found number 3");
	bad_rule("{provider: apiKey}", "t.graphql:1:29: an @auth rule needs 'allow' (owner, groups, private or public)");
	bad_rule("{allow: custom}", "t.graphql:1:37: allow: custom (a Lambda authorizer) is not supported");
	bad_rule("{allow: owner, owner: \"x\"}", "t.graphql:1:44: unknown field 'owner' in an @auth rule "
		 "(expected allow, provider, ownerField, identityClaim, groups, groupsField, groupClaim or operations)");
	bad_rule("{allow: public, ownerField: \"x\"}",
		 "t.graphql:1:45: 'ownerField' applies only to allow: owner rules");
	bad_rule("{allow: private, identityClaim: \"x\"}",
		 "t.graphql:1:46: 'identityClaim' applies only to allow: owner rules");
	bad_rule("{allow: owner, groups: [\"A\"]}", "t.graphql:1:44: 'groups' applies only to allow: groups rules");
	bad_rule("{allow: owner, groupClaim: \"g\"}", "t.graphql:1:44: 'groupClaim' applies only to allow: groups rules");
	bad_rule("{allow: groups, groups: [\"A\"], groupsField: \"s\"}",
		 "t.graphql:1:60: an allow: groups rule takes groups or groupsField, not both");
	bad_rule("{allow: groups, groups: []}", "t.graphql:1:53: groups of an @auth rule must name at least one group");
	bad_rule("{allow: groups, groups: [\"\"]}", "t.graphql:1:54: groups of an @auth rule must be a list of "
		 "group names, found an empty string");
	bad_rule("{allow: groups, groups: [1]}", "t.graphql:1:54: groups of an @auth rule must be a list of "
		 "group names, found number 1");
	bad_rule("{allow: owner, operations: [create, destroy]}", "t.graphql:1:65: invalid @auth operations "
		 "value 'destroy': expected create, update, delete, read, get, list, listen, sync or search");
	bad_rule("{allow: owner, operations: []}", "t.graphql:1:56: operations of an @auth rule must name at "
		 "least one operation");
	bad_rule("{allow: owner, operations: [\"read\"]}", "t.graphql:1:57: 'operations' in an @auth rule takes "
		 "an enum value: write operations: read, without quotes");
	bad_rule("{allow: owner, ownerField: 5}", "t.graphql:1:56: 'ownerField' in an @auth rule must be a "
		 "string, found number 5");
	bad_rule("{allow: owner, ownerField: \"\"}", "t.graphql:1:56: 'ownerField' in an @auth rule cannot be empty");
	bad_rule("{allow: owner, ownerField: \"n\"}", "t.graphql:1:56: ownerField 'n' of 'A' must be String or "
		 "[String], but it is Int");
	bad_rule("{allow: groups, groupsField: \"n\"}", "t.graphql:1:58: groupsField 'n' of 'A' must be String or "
		 "[String], but it is Int");
	bad_rule("{allow: public, provider: userPools}", "t.graphql:1:55: provider 'userPools' cannot be used "
		 "with allow: public (use apiKey, iam or identityPool)");
	bad_rule("{allow: owner, provider: iam}", "t.graphql:1:54: provider 'iam' cannot be used with "
		 "allow: owner (use userPools or oidc)");
	bad_rule("{allow: groups, groups: [\"A\"], provider: apiKey}", "t.graphql:1:70: provider 'apiKey' "
		 "cannot be used with allow: groups (use userPools or oidc)");
	bad_rule("{allow: private, provider: apiKey}", "t.graphql:1:56: provider 'apiKey' cannot be used "
		 "with allow: private (use userPools, oidc, iam or identityPool)");
	bad_rule("{allow: public, provider: cognito}", "t.graphql:1:55: invalid @auth provider value "
		 "'cognito': expected apiKey, iam, identityPool, oidc or userPools");
	bad_rule("{allow: private, provider: function}",
		 "t.graphql:1:56: provider: function (a Lambda authorizer) is not supported");
	BAD("field-level rule", "type A @model {\n  n: Int @auth(rules: [{allow: everyone}])\n}",
	    "t.graphql:2:32: invalid @auth allow value 'everyone': expected owner, groups, private or public");
	BAD("owner field as a sort key", "type A @model @auth(rules: [{allow: owner}]) {\n"
	    "  id: ID! @primaryKey(sortKeyFields: [\"owner\"])\n  owner: String!\n}",
	    "t.graphql:1:29: 'owner' is a sort key field of the primary key of 'A', so it cannot be the "
	    "ownerField of an owner rule (owner values are 'sub::username')");
}

static void test_bad_keys(void)
{
	static const struct { const char *what, *text, *message; } bad[] = {
		{"two primary keys", "type A @model {\n  a: ID! @primaryKey\n  b: ID! @primaryKey\n}",
		 "t.graphql:3:10: only one @primaryKey is allowed in 'A' (the first is at 2:10)"},
		{"nullable primary key", "type A @model {\n  k: String @primaryKey\n}",
		 "t.graphql:2:13: @primaryKey field 'k' of 'A' must be required (add '!')"},
		{"list primary key", "type A @model {\n  k: [ID]! @primaryKey\n}",
		 "t.graphql:2:12: @primaryKey field 'k' of 'A' must be a scalar or enum, not a list or object"},
		{"nullable sort key", "type A @model {\n  k: ID! @primaryKey(sortKeyFields: [\"s\"])\n  s: String\n}",
		 "t.graphql:2:38: sort key field 's' of the primary key of 'A' must be required (add '!')"},
		{"sort key is the key", "type A @model {\n  k: ID! @primaryKey(sortKeyFields: [\"k\"])\n}",
		 "t.graphql:2:38: @primaryKey field 'k' cannot be its own sort key"},
		{"sort key named twice", "type A @model {\n  k: ID! @primaryKey(sortKeyFields: [\"s\", \"s\"])\n  s: ID!\n}",
		 "t.graphql:2:43: sort key field 's' is named twice"},
		{"unknown sort key", "type A @model {\n  k: ID! @primaryKey(sortKeyFields: \"x\")\n}",
		 "t.graphql:2:37: sortKeyFields of @primaryKey on 'A.k' names 'x', which is not a field of 'A'"},
		{"@index on a list", "type A @model {\n  tags: [String] @index\n}",
		 "t.graphql:2:18: @index on 'A.tags' needs a scalar or enum field, not a list or object"},
		{"@index sort key is a list", "type A @model {\n  a: Int @index(sortKeyFields: [\"t\"])\n  t: [Int]\n}",
		 "t.graphql:2:33: sort key field 't' of 'A' must be a scalar or enum, not a list or object"},
		{"@index on a custom type", "type A @model {\n  c: C @index\n}\ntype C { x: Int }",
		 "t.graphql:2:8: @index on 'A.c' needs a scalar or enum field, not a list or object"},
		{"duplicate index name", "type A @model {\n  a: Int @index(name: \"byX\")\n  b: Int @index(name: \"byX\")\n}",
		 "t.graphql:3:23: duplicate index name 'byX' in 'A' (first at 2:10)"},
		{"invalid index name", "type A @model {\n  a: Int @index(name: \"x y\")\n}",
		 "t.graphql:2:23: index name \"x y\" is not valid in DynamoDB (3-255 letters, digits, '_', '-' or '.')"},
		{"short index name", "type A @model {\n  a: Int @index(name: \"ab\")\n}",
		 "t.graphql:2:23: index name \"ab\" is not valid in DynamoDB (3-255 letters, digits, '_', '-' or '.')"},
		{"queryField used twice", "type A @model {\n  a: Int @index(queryField: \"q\")\n}\n"
		 "type B @model {\n  b: Int @index(queryField: \"q\")\n}",
		 "t.graphql:5:29: queryField 'q' is already used by the @index at 2:10"},
		{"invalid queryField", "type A @model {\n  a: Int @index(queryField: \"1abc\")\n}",
		 "t.graphql:2:29: queryField \"1abc\" is not a valid GraphQL name"},
		{"projection type", "type A @model {\n  a: Int @index(projection: {type: SOME})\n}",
		 "t.graphql:2:36: projection type of @index must be ALL, KEYS_ONLY or INCLUDE"},
		{"@default on a list", "type A @model {\n  a: [Int] @default(value: \"1\")\n}",
		 "t.graphql:2:12: @default is only allowed on scalar and enum fields, and 'A.a' is a list"},
		{"@default on a custom type", "type A @model {\n  c: C @default(value: \"1\")\n}\ntype C { x: Int }",
		 "t.graphql:2:8: @default is only allowed on scalar and enum fields, and 'A.c' is an object type"},
		{"@default on the id", "type A @model {\n  id: ID! @default(value: \"x\")\n}",
		 "t.graphql:2:11: @default cannot be used on 'id', the primary key of 'A'"},
		{"@default on the primary key", "type A @model {\n  k: ID! @primaryKey @default(value: \"x\")\n}",
		 "t.graphql:2:22: @default cannot be used on 'k', the primary key of 'A'"},
		{"@default on a sort key", "type A @model {\n  k: ID! @primaryKey(sortKeyFields: [\"s\"])\n"
		 "  s: String! @default(value: \"x\")\n}",
		 "t.graphql:3:14: @default cannot be used on 's', a sort key field of the primary key of 'A'"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		BAD(bad[i].what, bad[i].text, bad[i].message);

	/* @default values that do not parse as their type */
	static const struct { const char *type, *value; } values[] = {
		{"Int", "1.5"}, {"Int", "12abc"}, {"Int", "99999999999"}, {"Float", "abc"}, {"Float", "1e999"},
		{"Boolean", "yes"}, {"AWSDate", "2023-02-29"}, {"AWSDate", "2024-13-01"}, {"AWSDate", "24-01-01"},
		{"AWSTime", "25:00:00"}, {"AWSTime", "12:00"}, {"AWSTime", "12:00:00+5:00"},
		{"AWSDateTime", "2024-01-01T00:00:00"}, {"AWSDateTime", "2024-01-01 00:00:00Z"},
		{"AWSTimestamp", "1.5"}, {"AWSEmail", "x@"}, {"AWSEmail", "@x.com"}, {"AWSEmail", "a@-x.com"},
		{"AWSURL", "no-scheme"}, {"AWSURL", "http://a b"}, {"AWSPhone", "12"}, {"AWSPhone", "+1 555 CALL"},
		{"AWSIPAddress", "300.1.1.1"}, {"AWSIPAddress", "10.0.0.1/33"}, {"AWSIPAddress", "::g"},
		{"AWSJSON", "{"}, {"AWSJSON", "[1,]"},
	};
	for (size_t i = 0; i < sizeof values / sizeof *values; i++) {
		char text[256], message[256];
		snprintf(text, sizeof text, "type A @model {\n  f: %s @default(value: \"%s\")\n}", values[i].type,
			 values[i].value);
		snprintf(message, sizeof message, "t.graphql:2:%zu: @default value \"%s\" is not a valid %s",
			 strlen(values[i].type) + 23, values[i].value, values[i].type);
		BAD(text, text, message);
	}
}

static void test_bad_relations(void)
{
	static const struct { const char *what, *text, *message; } bad[] = {
		{"@hasOne to a list", "type A @model {\n  b: [B] @hasOne\n}\ntype B @model { a: A @belongsTo }",
		 "t.graphql:2:10: @hasOne field 'A.b' cannot be a list"},
		{"@belongsTo a list", "type A @model {\n  b: [B] @belongsTo\n}\ntype B @model { a: [A] @hasMany }",
		 "t.graphql:2:10: @belongsTo field 'A.b' cannot be a list"},
		{"@hasMany to a non-model", "type A @model {\n  b: [B] @hasMany\n}\ntype B { x: Int }",
		 "t.graphql:2:10: @hasMany on 'A.b' needs a @model type, but 'B' is an object type"},
		{"@hasOne to an enum", "type A @model {\n  b: E @hasOne\n}\nenum E { X }",
		 "t.graphql:2:8: @hasOne on 'A.b' needs a @model type, but 'E' is an enum"},
		{"fields and references", "type A @model {\n  b: B @hasOne(fields: [\"x\"], references: [\"y\"])\n}\n"
		 "type B @model { a: A @belongsTo }",
		 "t.graphql:2:31: @hasOne takes fields or references, not both"},
		{"too many references", "type A @model {\n  bs: [B] @hasMany(references: [\"a\", \"b\"])\n}\n"
		 "type B @model { a: ID, b: ID, x: A @belongsTo(references: [\"a\", \"b\"]) }",
		 "t.graphql:2:32: @hasMany on 'A.bs' has 2 references, but the primary key of 'A' has 1 field"},
		{"reference not a field", "type A @model {\n  bs: [B] @hasMany(references: [\"aId\"])\n}\n"
		 "type B @model { x: A @belongsTo(references: [\"aId\"]) }",
		 "t.graphql:2:33: reference 'aId' of @hasMany on 'A.bs' is not a field of 'B'"},
		{"reference of the wrong type", "type A @model {\n  bs: [B] @hasMany(references: [\"aId\"])\n}\n"
		 "type B @model { aId: Int, x: A @belongsTo(references: [\"aId\"]) }",
		 "t.graphql:2:33: reference 'B.aId' is Int, but the primary key field 'A.id' it refers to is ID"},
		{"reference is a list", "type A @model {\n  bs: [B] @hasMany(references: [\"aId\"])\n}\n"
		 "type B @model { aId: [ID], x: A @belongsTo(references: [\"aId\"]) }",
		 "t.graphql:2:33: reference field 'B.aId' must be a scalar or enum, not a list or object"},
		{"@hasMany references without @belongsTo", "type A @model {\n  bs: [B] @hasMany(references: [\"aId\"])\n}\n"
		 "type B @model { aId: ID }",
		 "t.graphql:2:11: @hasMany on 'A.bs' needs a @belongsTo field in 'B' that refers back to 'A' "
		 "(uni-directional relations are not supported)"},
		{"counterpart without references", "type A @model {\n  bs: [B] @hasMany(references: [\"aId\"])\n}\n"
		 "type B @model { aId: ID, a: A @belongsTo }",
		 "t.graphql:2:11: the references of 'A.bs' must be the same as those of 'B.a' (4:31)"},
		{"fields naming a missing field", "type A @model {\n  b: B @hasOne(fields: [\"bId\"])\n}\n"
		 "type B @model { a: A @belongsTo }",
		 "t.graphql:2:25: 'bId' in fields of @hasOne on 'A.b' is not a field of 'A'"},
		{"fields naming a list", "type A @model {\n  ids: [ID]\n  b: B @hasOne(fields: [\"ids\"])\n}\n"
		 "type B @model { a: A @belongsTo }",
		 "t.graphql:3:25: field 'A.ids' in fields of @hasOne must be a scalar or enum, not a list or object"},
		{"empty fields", "type A @model {\n  b: B @hasOne(fields: [])\n}\ntype B @model { a: A @belongsTo }",
		 "t.graphql:2:24: fields of @hasOne must name at least one field"},
		{"empty references", "type A @model {\n  b: B @hasOne(references: [])\n}\ntype B @model { a: A @belongsTo }",
		 "t.graphql:2:28: references of @hasOne must name at least one field"},
		{"unknown indexName", "type A @model {\n  bs: [B] @hasMany(indexName: \"byA\", fields: [\"id\"])\n}\n"
		 "type B @model { aId: ID @index(name: \"byAId\") }",
		 "t.graphql:2:31: indexName \"byA\" of @hasMany on 'A.bs' is not the name of an @index of 'B'"},
		{"two relation directives", "type A @model {\n  b: B @hasOne @belongsTo\n}\ntype B @model { a: A @hasOne }",
		 "t.graphql:2:16: 'A.b' already has @hasOne: a field takes only one of @hasMany, @hasOne and @belongsTo"},
		{"a bad limit", "type A @model {\n  bs: [B] @hasMany(limit: 0)\n}\ntype B @model { a: A @belongsTo }",
		 "t.graphql:2:27: limit of @hasMany must be a positive Int"},
		{"relation on a non-model", "type A {\n  b: B @hasOne\n}\ntype B @model { id: ID! }",
		 "t.graphql:2:8: @hasOne needs a @model type: 'A' is not a @model"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		BAD(bad[i].what, bad[i].text, bad[i].message);
}

/* --- limits and hostile input ------------------------------------------------ */

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void test_limits(void)
{
	size_t big = SYNTH_GRAPHQL_MAX_INPUT + 1;
	char *text = malloc(big);
	memset(text, ' ', big);
	check_bad("input over the size limit", text, big,
		  "t.graphql:1:1: the schema is too large (4194305 bytes; the limit is 4194304)");
	free(text);

	synth_buf b = SYNTH_BUF_INIT;
	synth_buf_puts(&b, "type ");
	for (int i = 0; i < 256; i++)
		synth_buf_putc(&b, 'A');
	synth_buf_puts(&b, " { a: Int }");
	text = synth_buf_detach(&b);
	BAD("a 256-character name", text, "t.graphql:1:6: name is too long (256 characters; the limit is 255)");
	text[5 + 256 - 1] = ' '; /* 255 characters */
	json_t *m = parse_text(text);
	CHECK(m != NULL, "a 255-character name is fine");
	json_decref(m);
	free(text);

	synth_buf_puts(&b, "input I { a: Int = 1");
	for (int i = 0; i < 256; i++)
		synth_buf_putc(&b, '0');
	synth_buf_puts(&b, " }");
	text = synth_buf_detach(&b);
	BAD("a 257-digit number", text, "t.graphql:1:20: number is too long (257 characters; the limit is 255)");
	free(text);

	/* a generated index name over DynamoDB's 255 characters */
	synth_buf_puts(&b, "type ");
	for (int i = 0; i < 200; i++)
		synth_buf_putc(&b, 'M');
	synth_buf_puts(&b, " @model { ");
	for (int i = 0; i < 60; i++)
		synth_buf_putc(&b, 'f');
	synth_buf_puts(&b, ": Int @index }");
	text = synth_buf_detach(&b);
	m = NULL;
	CHECK(synth__graphql_parse(&m, "t.graphql", text, strlen(text)) == SYNTH_EINVALID,
	      "a generated index name over 255 characters");
	CHECK_HAS(synth_error_last()->message, "t.graphql:1:282: the index name mMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMM... "
		  "would be longer than 255 characters: give @index a name", "its message");
	free(text);

	/* nesting: list types, list values, object values; 32 is fine, 33 is not */
	for (int depth = 32; depth <= 33; depth++) {
		synth_buf_puts(&b, "type A { a: ");
		for (int i = 0; i < depth; i++)
			synth_buf_putc(&b, '[');
		synth_buf_puts(&b, "Int");
		for (int i = 0; i < depth; i++)
			synth_buf_putc(&b, ']');
		synth_buf_puts(&b, " }");
		text = synth_buf_detach(&b);
		if (depth == 33)
			BAD("list type 33 deep", text, "t.graphql:1:45: nesting is too deep (more than 32 levels)");
		else
			BAD("list type 32 deep", text, "t.graphql:1:13: nested lists such as [[[[[[[[[[[[[[[[[[[["
			    "[[[[[[[[[[[[Int]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]] are not supported (field 'a' of type 'A')");
		free(text);

		synth_buf_puts(&b, "type A @model { a: Int @index(projection: ");
		for (int i = 0; i < depth; i++)
			synth_buf_puts(&b, "{a: ");
		synth_buf_puts(&b, "1");
		for (int i = 0; i < depth; i++)
			synth_buf_putc(&b, '}');
		synth_buf_puts(&b, ") }");
		text = synth_buf_detach(&b);
		if (depth == 33)
			BAD("object value 33 deep", text, "t.graphql:1:171: nesting is too deep (more than 32 levels)");
		else
			BAD("object value 32 deep", text, "t.graphql:1:44: unknown field 'a' in the projection of "
			    "@index (expected type or nonKeyAttributes)");
		free(text);
	}

	/* hostile sizes stay linear: 100,000 fields, enum values, rules */
	double t0 = now();
	synth_buf_puts(&b, "type A @model {\n");
	for (int i = 0; i < 100000; i++)
		synth_buf_printf(&b, "  f%d: Int\n", i);
	synth_buf_puts(&b, "  f99999: Int\n}\n");
	text = synth_buf_detach(&b);
	BAD("100,000 fields then a duplicate", text,
	    "t.graphql:100002:3: duplicate field 'f99999' in type 'A' (first at 100001:3)");
	free(text);
	synth_buf_puts(&b, "enum E {");
	for (int i = 0; i < 100000; i++)
		synth_buf_printf(&b, " V%d", i);
	synth_buf_puts(&b, " }\ntype A @model @auth(rules: [");
	for (int i = 0; i < 20000; i++)
		synth_buf_puts(&b, "{allow: public}, ");
	synth_buf_puts(&b, "]) { e: E @default(value: \"V99999\") }\n");
	text = synth_buf_detach(&b);
	m = parse_text(text);
	CHECK(m && json_array_size(at(m, "models.A.auth")) == 20000 &&
	      json_array_size(at(m, "enums.E.values")) == 100000, "100,000 enum values and 20,000 rules");
	json_decref(m);
	free(text);
	double t = now() - t0;
	CHECK(t < 10, "hostile sizes take %.2f s", t);

	/* 200 models with relations and indexes: the benchmark's shape */
	for (int i = 0; i < 200; i++)
		synth_buf_printf(&b, "type M%d @model @auth(rules: [{allow: owner}, {allow: public, operations: [read]}]) {\n"
				  "  id: ID!\n  name: String! @index\n  status: Status @default(value: \"OPEN\")\n"
				  "  items: [I%d] @hasMany(references: [\"parentId\"])\n}\n"
				  "type I%d @model {\n  parentId: ID! @index(sortKeyFields: [\"at\"])\n  at: AWSDateTime!\n"
				  "  parent: M%d @belongsTo(references: [\"parentId\"])\n}\n", i, i, i, i);
	synth_buf_puts(&b, "enum Status { OPEN DONE }\n");
	text = synth_buf_detach(&b);
	t0 = now();
	m = parse_text(text);
	t = now() - t0;
	CHECK(m && json_object_size(at(m, "models")) == 400, "200 models and 200 children parse");
	printf("# 400 models: %.1f ms\n", t * 1000);
	json_decref(m);
	free(text);
}

static void test_file(void)
{
	char *path = fixture_path("todo.graphql");
	json_t *m = NULL;
	CHECK(synth__graphql_parse_file(&m, path) == 0 && m, "synth__graphql_parse_file reads a fixture");
	CHECK_STR(str_at(m, "file"), path, "the model names its file");
	json_decref(m);
	free(path);
	CHECK(synth__graphql_parse_file(&m, "/nonexistent/schema.graphql") < 0 && !m,
	      "a missing file is an error");
	CHECK(synth__graphql_is_scalar("AWSDateTime") && synth__graphql_is_scalar("ID") &&
	      !synth__graphql_is_scalar("Date"), "synth__graphql_is_scalar");
	m = NULL;
	CHECK(synth__graphql_parse(&m, NULL, NULL, 0) == SYNTH_EINVALID && !m, "NULL text is an empty schema");
	CHECK_STR(synth_error_last()->message, "<schema>:1:1: the schema is empty: no type definitions",
		  "NULL file name");
	CHECK(synth__graphql_parse(&m, "\xff.graphql", "type A { a: Int }", 17) == 0 &&
	      !strcmp(str_at(m, "file"), "?.graphql"), "a file name that is not UTF-8 is kept readable");
	json_decref(m);
}

/* Allocation failure at every step of parsing blog.graphql: an error
 * (SYNTH_ENOMEM) or success, never a crash, never a leak. */
static void test_alloc_failures(void)
{
#if CHAOS
	size_t len = 0;
	char *text = read_fixture("blog.graphql", &len);
	if (!text)
		return;
	json_t *m = NULL;
	tracking = 1;
	count = live = 0;
	int rc = synth__graphql_parse(&m, "blog.graphql", text, len);
	json_decref(m);
	tracking = 0;
	long total = count;
	if (rc == 0 && total == 0) {
		/* valgrind replaces malloc even in the executable */
		printf("# allocation failures: allocations are not ours to count here (valgrind?)\n");
		free(text);
		return;
	}
	CHECK(rc == 0 && live == 0 && total > 100, "a tracked parse frees everything (%ld allocations)", total);
	long failed = 0, leaked = 0, wrong = 0;
	for (long n = 1; n <= total; n++) {
		m = NULL;
		count = live = 0;
		fail_at = n;
		tracking = 1;
		rc = synth__graphql_parse(&m, "blog.graphql", text, len);
		json_decref(m);
		tracking = 0;
		fail_at = -1;
		failed += rc != 0;
		if (rc != 0 && (rc != SYNTH_ENOMEM || m))
			wrong++, printf("# allocation %ld: rc %d %s\n", n, rc, synth_error_last()->message);
		if (live)
			leaked++, printf("# allocation %ld failed: %ld blocks leaked\n", n, live);
	}
	CHECK(failed == total, "each of %ld failed allocations fails the parse (%ld did)", total, failed);
	CHECK(wrong == 0, "every failure is SYNTH_ENOMEM with no model (%ld not)", wrong);
	CHECK(leaked == 0, "no failure leaks (%ld did)", leaked);
	free(text);
#else
	printf("# allocation failures: not under AddressSanitizer\n");
#endif
}

int main(void)
{
	test_todo();
	test_blog();
	test_legacy();
	test_syntax();
	test_good_inline();
	test_bad_fixtures();
	test_bad_syntax();
	test_bad_types();
	test_bad_directives();
	test_bad_auth();
	test_bad_keys();
	test_bad_relations();
	test_limits();
	test_file();
	test_alloc_failures();
	return check_failed ? 1 : 0;
}

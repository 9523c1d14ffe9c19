/*
 * define_data's generators, part 2: APPSYNC_JS resolvers (see
 * gqlresolvers.h for the contract).
 *
 * The code of a model's resolvers is one ES module (or a few, when it
 * would exceed AppSync's code size limit: see gqlresolvers.h): `configs()`,
 * a function returning each resolver's data (its model's key, the @auth
 * rules that apply to its operation, field-level rules, defaults, the
 * index it queries) as JSON literals written here, keyed by parent type
 * and field; `cfg(ctx)`, which picks the caller's by ctx.info; a fixed
 * prelude of helpers that evaluate those rules against ctx.identity and
 * build DynamoDB expressions; the request/response pair of each operation
 * the module serves; and the exported request/response, which dispatch on
 * the data's "op". The JavaScript is static text, in constructs/data/js/
 * (embedded at build time by scripts/embed.sh): only the data varies,
 * so what the CLI test executes in node is what every schema gets. It
 * keeps to the APPSYNC_JS subset (no try/catch/throw,
 * while, do-while, C-style for, continue, ++/--, `in`, classes, async):
 * errors are util.error / util.unauthorized, loops are for-of and array
 * functions. test/unit/test_gqlresolvers.c checks that statically.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <synth/common.h>
#include <synth/sys/util.h>
#include "graphql.h"
#include "gqlgen.h"
#include "gqlresolvers.h"
#include "gql_names.h"

/* The JavaScript: constructs/data/js/NAME.mjs, embedded at build time
 * (scripts/embed.sh): the prelude every module holds, then the request and
 * response functions of each kind of operation (enum body). */
extern const char synth__embed_data_js_prelude_mjs[];
extern const char synth__embed_data_js_get_mjs[];
extern const char synth__embed_data_js_list_mjs[];
extern const char synth__embed_data_js_create_mjs[];
extern const char synth__embed_data_js_update_mjs[];
extern const char synth__embed_data_js_delete_mjs[];
extern const char synth__embed_data_js_subscribe_mjs[];
extern const char synth__embed_data_js_relation_get_mjs[];
extern const char synth__embed_data_js_relation_query_mjs[];

/* The bodies, by index (enum body): the functions' name prefix, the
 * condition on cfg() that selects it in the dispatcher, the group a
 * model's module is split by when it is too large, and the names it
 * imports from '@aws-appsync/utils' besides util. */
enum body { B_GET, B_LIST, B_CREATE, B_UPDATE, B_DELETE, B_SUBSCRIBE, B_RELATION_GET, B_RELATION_QUERY,
	    B_COUNT };
enum group { G_QUERIES, G_MUTATIONS, G_SUBSCRIPTIONS, G_RELATIONS, G_COUNT };
static const char *const GROUP_NAMES[G_COUNT] = {"queries", "mutations", "subscriptions", "relations"};
static const struct {
	const char *text, *name, *cond, *import;
	enum group group;
} BODIES[B_COUNT] = {
#define JS(name) synth__embed_data_js_##name##_mjs
	[B_GET] = {JS(get), "get", "c.op === 'get'", NULL, G_QUERIES},
	[B_LIST] = {JS(list), "list", "c.op === 'list' || c.op === 'index'", NULL, G_QUERIES},
	[B_CREATE] = {JS(create), "create", "c.op === 'create'", NULL, G_MUTATIONS},
	[B_UPDATE] = {JS(update), "update", "c.op === 'update'", NULL, G_MUTATIONS},
	[B_DELETE] = {JS(delete), "delete", "c.op === 'delete'", NULL, G_MUTATIONS},
	[B_SUBSCRIBE] = {JS(subscribe), "subscribe", "c.op === 'subscribe'", "extensions", G_SUBSCRIPTIONS},
	[B_RELATION_GET] = {JS(relation_get), "relationGet", "c.op === 'relation' && c.query == null",
			    "runtime", G_RELATIONS},
	[B_RELATION_QUERY] = {JS(relation_query), "relationQuery", "c.op === 'relation' && c.query != null",
			      "runtime", G_RELATIONS},
#undef JS
};

/* --- small JSON helpers (a jansson failure is out of memory) ------------ *
 * Containers are shared (json_incref), never copied: jansson's json_copy
 * and json_deep_copy drop members silently when an allocation fails. */

/* O[K] = V, stealing V; a NULL V (failed allocation) fails. */
static int put(json_t *o, const char *k, json_t *v)
{
	return json_object_set_new(o, k, v) ? -1 : 0;
}

/* Appends V to A, stealing V. */
static int push(json_t *a, json_t *v)
{
	return json_array_append_new(a, v) ? -1 : 0;
}

static const char *str(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

static bool array_has(json_t *a, const char *s)
{
	size_t i;
	json_t *v;
	json_array_foreach(a, i, v) {
		if (json_is_string(v) && !strcmp(json_string_value(v), s))
			return true;
	}
	return false;
}

/* SYNTH_EINVALID with FILE:LINE:COL of AT (an object with "line" and
 * "column"). */
static int invalid_at(const char *file, json_t *at, const char *what, const char *name,
		      const char *why)
{
	return synth_error_setf(SYNTH_EINVALID, "%s:%d:%d: %s '%s': %s", file,
				(int)json_integer_value(json_object_get(at, "line")),
				(int)json_integer_value(json_object_get(at, "column")), what, name, why);
}

/* --- names -------------------------------------------------------------- */

/* The field names of one operation as a new array of strings (*out,
 * caller decrefs): ONE (none when NULL), or when SUB >= 0 the names of
 * subscription SUB of O (gql_names.h, shared with the client schema). */
static int name_list(json_t **out, const synth_gql_names *o, const char *one, int sub)
{
	size_t n = sub >= 0 ? o->non[sub] : one != NULL;
	*out = json_array();
	for (size_t k = 0; *out && k < n; k++) {
		if (push(*out, json_string(sub >= 0 ? synth__gql_names_on(o, sub, k) : one))) {
			json_decref(*out);
			*out = NULL;
		}
	}
	return *out ? 0 : synth_error_oom();
}

/* --- rules -------------------------------------------------------------- */

static bool field_is_list(json_t *m, const char *field)
{
	return json_is_true(json_object_get(json_object_get(json_object_get(m, "fields"), field), "list"));
}

/* RULE of model M as the resolvers' code reads it. New reference. */
static json_t *compact_rule(json_t *m, json_t *rule)
{
	const char *allow = str(rule, "allow");
	json_t *r = json_object();
	if (put(r, "allow", json_string(allow)) || put(r, "provider", json_copy(json_object_get(rule, "provider"))))
		goto fail;
	if (!strcmp(allow, "owner")) {
		const char *f = str(rule, "ownerField");
		if (put(r, "ownerField", json_string(f)) ||
		    put(r, "identityClaim", json_copy(json_object_get(rule, "identityClaim"))) ||
		    put(r, "list", json_boolean(field_is_list(m, f))))
			goto fail;
	} else if (!strcmp(allow, "groups")) {
		json_t *groups = json_object_get(rule, "groups");
		const char *f = str(rule, "groupsField");
		if (groups ? put(r, "groups", json_incref(groups))
			   : put(r, "groupsField", json_string(f)) || put(r, "list", json_boolean(field_is_list(m, f))))
			goto fail;
		if (put(r, "groupClaim", json_copy(json_object_get(rule, "groupClaim"))))
			goto fail;
	}
	return r;
fail:
	json_decref(r);
	return NULL;
}

/* The rule a model without @auth gets: whoever the default mode admits. */
static json_t *default_rule(const char *auth)
{
	if (!strcmp(auth, SYNTH_GQL_AUTH_API_KEY))
		return json_pack("{s:s,s:s}", "allow", "public", "provider", "apiKey");
	const char *provider = !strcmp(auth, SYNTH_GQL_AUTH_IAM)    ? "iam"
			       : !strcmp(auth, SYNTH_GQL_AUTH_OIDC) ? "oidc"
								    : "userPools";
	return json_pack("{s:s,s:s}", "allow", "private", "provider", provider);
}

/* The rules of RULES (an array, of model M) whose operations include OP;
 * DFLT (borrowed, may be NULL) when RULES is NULL. New reference. */
static json_t *rules_for(json_t *m, json_t *rules, const char *op, json_t *dflt)
{
	json_t *out = json_array(), *rule;
	size_t i;
	if (!out)
		return NULL;
	if (!rules)
		return dflt && push(out, json_incref(dflt)) ? (json_decref(out), NULL) : out;
	json_array_foreach(rules, i, rule) {
		if (array_has(json_object_get(rule, "operations"), op) && push(out, compact_rule(m, rule))) {
			json_decref(out);
			return NULL;
		}
	}
	return out;
}

/* {field: [rules for OP]} for every field of M with field-level @auth
 * (an empty object when OP is NULL). New reference. */
static json_t *field_rules(json_t *m, const char *op)
{
	json_t *out = json_object(), *f;
	const char *name;
	if (!out || !op)
		return out;
	json_object_foreach(json_object_get(m, "fields"), name, f) {
		json_t *rules = json_object_get(f, "auth");
		if (rules && put(out, name, rules_for(m, rules, op, NULL))) {
			json_decref(out);
			return NULL;
		}
	}
	return out;
}

/* --- the generator ------------------------------------------------------ */

/* A resolver of the model being generated, until its module is written. */
typedef struct pending {
	json_t *r;                /* the resolver object (owned), "module" not yet set */
	char *cfg;                /* its cfg() data: compact JSON (owned) */
	enum body body;
} pending;

typedef struct gen {
	json_t *models;           /* the parser's "models" (borrowed) */
	const char *file;         /* for messages */
	json_t *dflt;             /* the rule of models without @auth */
	json_t *out;              /* the resolvers */
	json_t *modules;          /* the modules */
	pending *pend;            /* the current model's resolvers */
	size_t npend, cappend;
	synth_gql_names names;    /* the current model's operation names */
} gen;

/* FIELDS (an array of names) joined by '#': Amplify's composite sort key
 * attribute ("a#b"), or the one field. New reference; NULL when out of
 * memory. */
static json_t *sort_attr(json_t *fields)
{
	char *s = synth_json_join(fields, "#");
	json_t *v = s ? json_string(s) : NULL;
	free(s);
	return v;
}

/* The key attributes of model M: [partition] or [partition, sort], the
 * sort key "a#b" when it has several fields. New reference in *out. */
static int model_key(json_t **out, json_t *m)
{
	json_t *pk = json_object_get(m, "primaryKey");
	json_t *sk = json_object_get(pk, "sortKeyFields");
	*out = json_pack("[s]", str(pk, "field"));
	if (*out && json_array_size(sk) && push(*out, sort_attr(sk)))
		json_decref(*out), *out = NULL;
	return *out ? 0 : synth_error_oom();
}

/* The key fields of model M: the partition key's and every sort key
 * field. New reference, NULL when out of memory. */
static json_t *model_key_fields(json_t *m)
{
	json_t *pk = json_object_get(m, "primaryKey");
	json_t *out = json_pack("[s]", str(pk, "field"));
	if (out && json_array_extend(out, json_object_get(pk, "sortKeyFields")))
		json_decref(out), out = NULL;
	return out;
}

/* The composite sort keys of M (its primary key's and its indexes' with
 * more than one sort key field), as the code writes them:
 * [{"attr": "a#b", "fields": ["a", "b"], "index": null | "<name>"}].
 * New reference, NULL when out of memory. */
static json_t *composites(json_t *m)
{
	json_t *out = json_array(), *pk = json_object_get(m, "primaryKey"), *ix;
	size_t i;
	if (!out)
		return NULL;
	json_t *sk = json_object_get(pk, "sortKeyFields");
	if (json_array_size(sk) > 1 &&
	    push(out, json_pack("{s:o,s:O,s:n}", "attr", sort_attr(sk), "fields", sk, "index")))
		goto fail;
	json_array_foreach(json_object_get(m, "indexes"), i, ix) {
		sk = json_object_get(ix, "sortKeyFields");
		if (json_array_size(sk) > 1 && push(out, json_pack("{s:o,s:O,s:s}", "attr", sort_attr(sk), "fields",
								   sk, "index", str(ix, "name"))))
			goto fail;
	}
	return out;
fail:
	json_decref(out);
	return NULL;
}

/*
 * The cfg() data common to every resolver of model M: RULES_OP selects
 * the model's rules, READ_OP and WRITE_OP (may be NULL) the field-level
 * ones. New reference.
 */
static json_t *base_cfg(gen *g, const char *name, json_t *m, json_t *key, const char *rules_op,
			const char *read_op, const char *write_op)
{
	json_t *c = json_object(), *defaults = json_object(), *ts = json_array(), *upd = json_array();
	json_t *f, *auth = json_object_get(m, "auth");
	json_t *timestamps = json_object_get(m, "timestamps");
	const char *fname;
	if (!c || !defaults || !ts || !upd)
		goto fail;
	json_object_foreach(json_object_get(m, "fields"), fname, f) {
		json_t *d = json_object_get(f, "default");
		if (d && put(defaults, fname, json_copy(d)))
			goto fail;
	}
	const char *created = str(timestamps, "createdAt"), *updated = str(timestamps, "updatedAt");
	if ((created && push(ts, json_string(created))) || (updated && push(ts, json_string(updated))) ||
	    (updated && push(upd, json_string(updated))))
		goto fail;
	bool implicit = json_is_true(json_object_get(json_object_get(m, "primaryKey"), "implicit"));
	json_t *rules = rules_for(m, json_is_true(json_object_get(m, "hasAuth")) ? auth : NULL,
				  rules_op, g->dflt);
	int rc = !rules || put(c, "model", json_string(name)) || put(c, "typename", json_string(name)) ||
		 put(c, "key", json_incref(key)) || put(c, "autoId", json_boolean(implicit)) ||
		 put(c, "limit", json_integer(100)) || put(c, "rules", json_incref(rules)) ||
		 put(c, "fieldRead", field_rules(m, read_op)) || put(c, "fieldWrite", field_rules(m, write_op)) ||
		 put(c, "defaults", json_incref(defaults)) || put(c, "timestamps", json_incref(ts)) ||
		 put(c, "updatedAt", json_incref(upd));
	json_decref(rules);
	json_t *comp = rc ? NULL : composites(m);
	if (!rc && (!comp || (json_array_size(comp) && put(c, "composites", json_incref(comp)))))
		rc = -1;
	json_decref(comp);
	if (rc)
		goto fail;
	json_decref(defaults);
	json_decref(ts);
	json_decref(upd);
	return c;
fail:
	json_decref(c);
	json_decref(defaults);
	json_decref(ts);
	json_decref(upd);
	return NULL;
}

static int dump_to_buf(const char *text, size_t n, void *b)
{
	synth_buf_put(b, text, n);
	return ((synth_buf *)b)->oom ? -1 : 0;
}

/*
 * Appends one resolver to the current model's pending list. Steals CFG,
 * ACTIONS and EXTRA (extra fields of the resolver object, e.g. "index";
 * may be NULL), even on failure.
 */
static int emit(gen *g, const char *type, const char *field, const char *model, bool none,
		const char *operation, json_t *actions, json_t *cfg, json_t *extra, enum body body)
{
	synth_buf b = SYNTH_BUF_INIT;
	/* Dumped straight into the buffer: jansson 2.14 ignores a failed
	 * append of an object key in json_dumps (the text would lose it);
	 * the buffer remembers its own failure. */
	bool dumped = cfg && !json_dump_callback(cfg, dump_to_buf, &b,
						 JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII);
	char *text = synth_buf_detach(&b);
	json_t *r = json_object();
	int rc = -1;
	bool room = !synth_array_grow((void **)&g->pend, &g->npend, &g->cappend, sizeof *g->pend);
	if (room && dumped && text && r && !put(r, "typeName", json_string(type)) &&
	    !put(r, "fieldName", json_string(field)) && !put(r, "model", json_string(model)) &&
	    !put(r, "dataSource", none ? json_null() : json_string(model)) &&
	    !put(r, "operation", json_string(operation)) && !put(r, "actions", actions)) {
		actions = NULL;
		const char *k;
		json_t *v;
		rc = 0;
		json_object_foreach(extra, k, v) {
			if (put(r, k, json_incref(v)))
				rc = -1;
		}
		if (!rc) {
			g->pend[g->npend++] = (pending){r, text, body};
			r = NULL;
			text = NULL;
		}
	}
	json_decref(actions);
	json_decref(extra);
	json_decref(cfg);
	json_decref(r);
	free(text);
	return rc ? synth_error_oom() : 0;
}

/*
 * The text of one module serving the pending resolvers IDX[0..N) of model
 * NAME (MODULE: the module's name): the imports its bodies need, cfg()
 * with every resolver's data keyed by "<parent type>.<field>" (one line
 * each, so tools can read one back), the prelude, the bodies it uses and
 * the exported request/response that dispatch on cfg().op. NULL when out
 * of memory (SYNTH_ENOMEM set); caller frees.
 */
static char *module_text(gen *g, const char *module, const size_t *idx, size_t n)
{
	bool used[B_COUNT] = {false};
	for (size_t i = 0; i < n; i++)
		used[g->pend[idx[i]].body] = true;
	synth_buf b = SYNTH_BUF_INIT;
	synth_buf_puts(&b, "import { util");
	/* Each name once, in a fixed order. */
	static const char *const extra_imports[] = {"runtime", "extensions"};
	for (size_t k = 0; k < 2; k++) {
		bool want = false;
		for (int x = 0; x < B_COUNT; x++)
			want |= used[x] && BODIES[x].import && !strcmp(BODIES[x].import, extra_imports[k]);
		if (want)
			synth_buf_printf(&b, ", %s", extra_imports[k]);
	}
	synth_buf_puts(&b, " } from '@aws-appsync/utils';\n\n");
	synth_buf_printf(&b,
			  "// Resolvers %s, generated by libsynth: one module serves every resolver\n"
			  "// listed in configs(), which cfg() picks by the field being resolved.\n",
			  module);
	synth_buf_puts(&b, "function configs() {\n  return {\n");
	for (size_t i = 0; i < n; i++) {
		const pending *p = &g->pend[idx[i]];
		synth_buf_printf(&b, "    \"%s.%s\": ", json_string_value(json_object_get(p->r, "typeName")),
				  json_string_value(json_object_get(p->r, "fieldName")));
		synth_buf_puts(&b, p->cfg);
		synth_buf_puts(&b, i + 1 < n ? ",\n" : "\n");
	}
	synth_buf_puts(&b, "  };\n}\n\n"
			    "function cfg(ctx) {\n"
			    "  const name = `${ctx.info.parentTypeName}.${ctx.info.fieldName}`;\n"
			    "  const c = configs()[name];\n"
			    "  if (c == null) {\n"
			    "    util.error(`this code does not resolve ${name}`, 'InternalFailure');\n"
			    "  }\n"
			    "  return c;\n"
			    "}\n\n");
	synth_buf_puts(&b, synth__embed_data_js_prelude_mjs);
	for (int x = 0; x < B_COUNT; x++) {
		if (used[x]) {
			synth_buf_putc(&b, '\n');
			synth_buf_puts(&b, BODIES[x].text);
		}
	}
	static const char *const fns[2] = {"request", "response"};
	static const char *const suffix[2] = {"Request", "Response"};
	for (int f = 0; f < 2; f++) {
		synth_buf_printf(&b, "\nexport function %s(ctx) {\n  const c = cfg(ctx);\n", fns[f]);
		for (int x = 0; x < B_COUNT; x++) {
			if (used[x])
				synth_buf_printf(&b, "  if (%s) {\n    return %s%s(ctx, c);\n  }\n", BODIES[x].cond,
						  BODIES[x].name, suffix[f]);
		}
		synth_buf_puts(&b, "  util.error(`unknown operation ${c.op}`, 'InternalFailure');\n"
				    "  return null;\n}\n");
	}
	char *text = synth_buf_detach(&b);
	if (!text)
		synth_error_oom();
	return text;
}

/*
 * Adds the module of pending resolvers IDX[0..N) named MODULE, unless its
 * code would exceed SYNTH_GQL_CODE_MAX: then *fits is false and nothing
 * is added. Sets each resolver's "module".
 */
static int add_module(gen *g, const char *module, const size_t *idx, size_t n, bool *fits)
{
	*fits = false;
	char *text = module_text(g, module, idx, n);
	if (!text)
		return SYNTH_ENOMEM;
	size_t len = strlen(text);
	if (len > SYNTH_GQL_CODE_MAX) {
		free(text);
		return 0;
	}
	/* The text is ASCII (the configs are dumped with JSON_ENSURE_ASCII,
	 * the rest is ours): no UTF-8 check of tens of KB per module. */
	json_t *m = json_object();
	int bad = !m || put(m, "name", json_string(module)) || put(m, "code", json_stringn_nocheck(text, len));
	free(text);
	size_t at = json_array_size(g->modules);
	if (bad || push(g->modules, m)) {
		if (bad)
			json_decref(m);
		return synth_error_oom();
	}
	for (size_t i = 0; i < n; i++)
		if (put(g->pend[idx[i]].r, "module", json_integer((json_int_t)at)))
			return synth_error_oom();
	*fits = true;
	return 0;
}

/*
 * Writes the modules of model NAME (M) and moves its pending resolvers to
 * the output, in order. One module for the model when it fits AppSync's
 * code size limit; else one per group (queries, mutations, subscriptions,
 * relations: "<Model>.<group>"); a group that is still too large, one per
 * resolver ("<Model>.<Type>.<field>"); a resolver too large on its own is
 * SYNTH_EINVALID.
 */
static int flush_model(gen *g, const char *name, json_t *m)
{
	size_t n = g->npend, *idx = malloc((n ? n : 1) * sizeof *idx), *sub = malloc((n ? n : 1) * sizeof *sub);
	int rc = idx && sub ? 0 : synth_error_oom();
	bool fits = true;
	char *mname = NULL;
	for (size_t i = 0; i < n && !rc; i++)
		idx[i] = i;
	if (!rc && n)
		rc = add_module(g, name, idx, n, &fits);
	for (int grp = 0; !rc && !fits && grp < G_COUNT; grp++) {
		size_t k = 0;
		for (size_t i = 0; i < n; i++)
			if (BODIES[g->pend[i].body].group == (enum group)grp)
				sub[k++] = i;
		if (!k)
			continue;
		free(mname);
		mname = synth_asprintf("%s.%s", name, GROUP_NAMES[grp]);
		bool gfits = false;
		rc = mname ? add_module(g, mname, sub, k, &gfits) : synth_error_oom();
		for (size_t i = 0; !rc && !gfits && i < k; i++) {
			json_t *r = g->pend[sub[i]].r;
			const char *t = json_string_value(json_object_get(r, "typeName"));
			const char *f = json_string_value(json_object_get(r, "fieldName"));
			free(mname);
			mname = synth_asprintf("%s.%s.%s", name, t, f);
			bool one = false;
			rc = mname ? add_module(g, mname, &sub[i], 1, &one) : synth_error_oom();
			if (!rc && !one) {
				char why[160];
				snprintf(why, sizeof why, "the code of resolver %s.%s exceeds AppSync's limit of %d bytes",
					 t, f, SYNTH_GQL_CODE_MAX);
				rc = invalid_at(g->file, m, "@model", name, why);
			}
		}
	}
	free(mname);
	free(idx);
	free(sub);
	for (size_t i = 0; i < n; i++) {
		if (!rc && push(g->out, g->pend[i].r))
			rc = synth_error_oom();
		else if (rc)
			json_decref(g->pend[i].r);
		free(g->pend[i].cfg);
	}
	g->npend = 0;
	return rc;
}

static json_t *actions1(const char *a)
{
	return json_pack("[s]", a);
}

/* {"index": NAME?, "indexKeys": {"partitionKey": PK, "sortKey": SK|null}}
 * and the cfg()'s "query" for a Query on INDEX (NULL: the table). SORT
 * (may be NULL) is the sort key's fields: with more than one, SK is their
 * composite attribute and the query also names them ("skFields") and the
 * argument holding their condition ("skArg": the fields camel-cased, as
 * Amplify names it). */
static int query_parts(json_t **extra, json_t **query, const char *index, const char *pk, const char *sk,
		       json_t *sort)
{
	*extra = json_object();
	*query = json_pack("{s:s?,s:s,s:s?}", "index", index, "pk", pk, "sk", sk);
	if (!*query || !*extra)
		goto fail;
	if (json_array_size(sort) > 1) {
		synth_buf b = SYNTH_BUF_INIT;
		size_t i;
		json_t *f;
		json_array_foreach(sort, i, f) {
			const char *s = json_string_value(f);
			if (i && *s >= 'a' && *s <= 'z') {
				synth_buf_putc(&b, (char)(*s - 'a' + 'A'));
				s++;
			}
			synth_buf_puts(&b, s);
		}
		char *arg = synth_buf_detach(&b);
		int bad = !arg || put(*query, "skFields", json_incref(sort)) || put(*query, "skArg", json_string(arg));
		free(arg);
		if (bad)
			goto fail;
	}
	if (index && (put(*extra, "index", json_string(index)) ||
		      put(*extra, "indexKeys", json_pack("{s:s,s:s?}", "partitionKey", pk, "sortKey", sk))))
		goto fail;
	return 0;
fail:
	json_decref(*extra);
	json_decref(*query);
	*extra = *query = NULL;
	return synth_error_oom();
}

/* One resolver per name in NAMES (stolen). */
static int emit_names(gen *g, json_t *names, const char *type, const char *model, const char *operation,
		      json_t *(*make_cfg)(gen *, const char *, json_t *, json_t *, void *), json_t *m,
		      json_t *key, void *arg, const char *actions, enum body body)
{
	size_t i;
	json_t *n;
	int rc = 0;
	json_array_foreach(names, i, n) {
		json_t *c = make_cfg(g, model, m, key, arg);
		json_t *acts = actions ? actions1(actions) : json_array();
		if (!c || !acts) {
			json_decref(c);
			json_decref(acts);
			rc = synth_error_oom();
			break;
		}
		if ((rc = emit(g, type, json_string_value(n), model, actions == NULL, operation, acts, c, NULL,
			       body)))
			break;
	}
	json_decref(names);
	return rc;
}

static json_t *cfg_op(gen *g, const char *name, json_t *m, json_t *key, void *op)
{
	const char *o = op;
	const char *write = !strcmp(o, "create") || !strcmp(o, "update") ? o : NULL;
	json_t *c = base_cfg(g, name, m, key, o, "get", write);
	if (c && put(c, "op", json_string(o))) {
		json_decref(c);
		return NULL;
	}
	return c;
}

static json_t *cfg_subscribe(gen *g, const char *name, json_t *m, json_t *key, void *open)
{
	json_t *c = base_cfg(g, name, m, key, "listen", "listen", NULL);
	if (c && (put(c, "op", json_string("subscribe")) || put(c, "open", json_boolean(*(bool *)open)))) {
		json_decref(c);
		return NULL;
	}
	return c;
}

/* The list resolvers: Scan, or Query when the key's partition is given. */
static int gen_list(gen *g, const char *name, json_t *m, json_t *key)
{
	json_t *names;
	int rc = name_list(&names, &g->names, g->names.list, -1);
	if (rc)
		return rc;
	bool implicit = json_is_true(json_object_get(json_object_get(m, "primaryKey"), "implicit"));
	size_t i;
	json_t *n;
	json_array_foreach(names, i, n) {
		json_t *c = base_cfg(g, name, m, key, "list", "list", NULL), *extra = NULL, *query = NULL;
		json_t *acts = json_pack(implicit ? "[s]" : "[s,s]", "dynamodb:Scan", "dynamodb:Query");
		if (!c || !acts || put(c, "op", json_string("list")) ||
		    (!implicit && (query_parts(&extra, &query, NULL, json_string_value(json_array_get(key, 0)),
					       json_string_value(json_array_get(key, 1)),
					       json_object_get(json_object_get(m, "primaryKey"), "sortKeyFields")) ||
				   put(c, "query", query))) ||
		    (implicit && put(c, "query", json_null()))) {
			json_decref(c);
			json_decref(acts);
			json_decref(extra);
			rc = synth_error_oom();
			break;
		}
		if ((rc = emit(g, "Query", json_string_value(n), name, false, "list", acts, c, extra, B_LIST)))
			break;
	}
	json_decref(names);
	return rc;
}

/* The index queries (@index with a queryField). */
static int gen_indexes(gen *g, const char *name, json_t *m, json_t *key)
{
	size_t i;
	json_t *ix;
	json_array_foreach(json_object_get(m, "indexes"), i, ix) {
		const char *qf = str(ix, "queryField"), *iname = str(ix, "name");
		json_t *sks = json_object_get(ix, "sortKeyFields");
		if (!qf)
			continue;
		json_t *c = base_cfg(g, name, m, key, "list", "list", NULL), *extra = NULL, *query = NULL;
		json_t *acts = actions1("dynamodb:Query");
		json_t *sk = json_array_size(sks) ? sort_attr(sks) : json_null();
		if (!c || !acts || !sk || put(c, "op", json_string("index")) ||
		    query_parts(&extra, &query, iname, str(ix, "field"), json_string_value(sk), sks) ||
		    put(c, "query", query)) {
			json_decref(c);
			json_decref(acts);
			json_decref(extra);
			json_decref(sk);
			return synth_error_oom();
		}
		json_decref(sk);
		int rc = emit(g, "Query", qf, name, false, "index", acts, c, extra, B_LIST);
		if (rc)
			return rc;
	}
	return 0;
}

/* The index of model M named NAME, or NULL. */
static json_t *find_index(json_t *m, const char *name)
{
	size_t i;
	json_t *ix;
	json_array_foreach(json_object_get(m, "indexes"), i, ix) {
		if (!strcmp(str(ix, "name"), name))
			return ix;
	}
	return NULL;
}

/* An index of M that serves equality on KEYS (1 or 2 attributes), or NULL. */
static json_t *matching_index(json_t *m, json_t *keys)
{
	size_t i;
	json_t *ix;
	json_array_foreach(json_object_get(m, "indexes"), i, ix) {
		json_t *sks = json_object_get(ix, "sortKeyFields");
		if (strcmp(str(ix, "field"), json_string_value(json_array_get(keys, 0))))
			continue;
		if (json_array_size(keys) == 1 ||
		    (json_array_size(sks) == 1 && json_equal(json_array_get(sks, 0), json_array_get(keys, 1))))
			return ix;
	}
	return NULL;
}

/*
 * A relation field's resolver. GetItem on the related model when this
 * model holds the key (belongsTo, hasOne with `fields` or implicit keys);
 * otherwise Query: hasMany and hasOne with `references` query the related
 * model's index on the key fields (its `indexName`, else an @index of the
 * related model on those fields, else Amplify's `gsi-<Model>.<field>`,
 * reported in "indexKeys" for the table generator); hasMany with `fields`
 * queries its `indexName`, or the related table's own key.
 */
static int gen_relation(gen *g, const char *name, json_t *key, json_t *rel)
{
	const char *field = str(rel, "field"), *kind = str(rel, "kind"), *related = str(rel, "related");
	json_t *rm = json_object_get(g->models, related);
	json_t *rkey = NULL, *source = NULL, *target = NULL, *c = NULL, *extra = NULL, *query = NULL,
	       *acts = NULL, *r = NULL, *skj = NULL;
	bool many = !strcmp(kind, "hasMany");
	bool query_it = many || (!strcmp(kind, "hasOne") && json_object_get(rel, "references"));
	int rc = model_key(&rkey, rm);
	if (rc)
		return rc;
	const char *index = NULL, *pk = NULL, *sk = NULL;
	char *gsi = NULL;
	if (!query_it) {
		/* The related item's key from its key fields (a composite sort
		 * key joined by the code). */
		source = json_incref(json_object_get(rel, "keyFields"));
		target = model_key_fields(rm);
	} else if (many && json_object_get(rel, "fields")) {
		source = json_incref(json_object_get(rel, "fields"));
		json_t *ix = str(rel, "indexName") ? find_index(rm, str(rel, "indexName")) : NULL;
		json_t *sort = ix ? json_object_get(ix, "sortKeyFields")
				  : json_object_get(json_object_get(rm, "primaryKey"), "sortKeyFields");
		index = ix ? str(ix, "name") : NULL;
		pk = ix ? str(ix, "field") : json_string_value(json_array_get(rkey, 0));
		if (json_array_size(sort) && !(skj = sort_attr(sort)))
			goto oom;
		sk = json_string_value(skj);
		if (json_array_size(sort) > 1 && json_array_size(source) > 1) {
			rc = invalid_at(g->file, rel, "relation", field,
					"its second field would compare a composite sort key, which the "
					"resolvers do not support");
			goto done;
		}
		target = json_pack("[s]", pk);
		if (target && json_array_size(source) > 1 && sk && push(target, json_string(sk)))
			goto oom;
	} else {
		source = json_incref(key);
		target = json_incref(json_object_get(rel, "keyFields"));
		if (json_array_size(target) > 2) {
			rc = invalid_at(g->file, rel, "relation", field,
					"more than two key fields are not supported by the resolvers");
			goto done;
		}
		json_t *ix = str(rel, "indexName") ? find_index(rm, str(rel, "indexName")) : matching_index(rm, target);
		if (ix) {
			index = str(ix, "name");
		} else {
			gsi = synth_asprintf("gsi-%s.%s", name, field);
			index = gsi;
		}
		pk = json_string_value(json_array_get(target, 0));
		sk = json_string_value(json_array_get(target, 1));
		json_t *sort = ix ? json_object_get(ix, "sortKeyFields") : NULL;
		if (ix && json_array_size(target) == 1 && json_array_size(sort)) {
			if (!(skj = sort_attr(sort)))
				goto oom;
			sk = json_string_value(skj);
		} else if (json_array_size(target) == 2 && json_array_size(sort) > 1) {
			rc = invalid_at(g->file, rel, "relation", field,
					"its index has a composite sort key, which the resolvers cannot "
					"compare with one key field");
			goto done;
		}
		if (!gsi && !ix)
			goto oom;
	}
	if (!source || !target)
		goto oom;
	if (json_array_size(source) != json_array_size(target) && !query_it) {
		rc = invalid_at(g->file, rel, "relation", field, "its key fields do not match the related key");
		goto done;
	}
	c = base_cfg(g, related, rm, rkey, many ? "list" : "get", many ? "list" : "get", NULL);
	r = json_pack("{s:O,s:O,s:b}", "source", source, "target", target, "many", many);
	acts = actions1(query_it ? "dynamodb:Query" : "dynamodb:GetItem");
	if (!c || !r || !acts || put(c, "op", json_string("relation")) || put(c, "relation", r))
		goto oom;
	r = NULL;
	if (json_object_get(rel, "limit") && put(c, "limit", json_copy(json_object_get(rel, "limit"))))
		goto oom;
	if (query_it && (query_parts(&extra, &query, index, pk, sk, NULL) || put(c, "query", query)))
		goto oom;
	rc = emit(g, name, field, related, false, "relation", acts, c, extra,
		  query_it ? B_RELATION_QUERY : B_RELATION_GET);
	acts = c = extra = NULL;
	goto done;
oom:
	rc = synth_error_oom();
done:
	json_decref(r);
	json_decref(acts);
	json_decref(c);
	json_decref(extra);
	json_decref(source);
	json_decref(target);
	json_decref(rkey);
	json_decref(skj);
	free(gsi);
	return rc;
}

static int gen_model(gen *g, const char *name, json_t *m)
{
	json_t *key = NULL, *names, *rel;
	int rc = model_key(&key, m);
	size_t i;
	if (rc)
		return rc;
	synth__gql_names_model(&g->names, name, m);
	const synth_gql_names *on = &g->names;
	const struct {
		const char *field, *op, *type, *action;
		enum body body;
	} ops[] = {
		{on->get, "get", "Query", "dynamodb:GetItem", B_GET},
		{NULL, "list", NULL, NULL, B_LIST},
		{NULL, "index", NULL, NULL, B_LIST},
		{on->create, "create", "Mutation", "dynamodb:PutItem", B_CREATE},
		{on->update, "update", "Mutation", "dynamodb:UpdateItem", B_UPDATE},
		{on->del, "delete", "Mutation", "dynamodb:DeleteItem", B_DELETE},
	};
	for (size_t k = 0; !rc && k < sizeof ops / sizeof ops[0]; k++) {
		if (!strcmp(ops[k].op, "list")) {
			rc = gen_list(g, name, m, key);
		} else if (!strcmp(ops[k].op, "index")) {
			rc = gen_indexes(g, name, m, key);
		} else if (!(rc = name_list(&names, on, ops[k].field, -1))) {
			rc = emit_names(g, names, ops[k].type, name, ops[k].op, cfg_op, m, key, (void *)ops[k].op,
					ops[k].action, ops[k].body);
		}
	}
	/* Subscriptions (none when @model(subscriptions: null), level off, or
	 * their mutation is off); no checks at level public. */
	const char *level = str(json_object_get(json_object_get(m, "options"), "subscriptions"), "level");
	bool open = level && !strcmp(level, "public");
	for (int k = 0; !rc && k < 3; k++) {
		if (!(rc = name_list(&names, on, NULL, k)))
			rc = emit_names(g, names, "Subscription", name, "subscribe", cfg_subscribe, m, key, &open,
					NULL, B_SUBSCRIBE);
	}
	json_array_foreach(json_object_get(m, "relations"), i, rel) {
		if (rc)
			break;
		rc = gen_relation(g, name, key, rel);
	}
	json_decref(key);
	if (!rc)
		return flush_model(g, name, m);
	for (size_t k = 0; k < g->npend; k++) {
		json_decref(g->pend[k].r);
		free(g->pend[k].cfg);
	}
	g->npend = 0;
	return rc;
}

int synth__gql_resolvers(json_t **out, json_t *model, const char *default_auth)
{
	*out = NULL;
	if (!default_auth || (strcmp(default_auth, SYNTH_GQL_AUTH_USER_POOLS) &&
			      strcmp(default_auth, SYNTH_GQL_AUTH_API_KEY) && strcmp(default_auth, SYNTH_GQL_AUTH_IAM) &&
			      strcmp(default_auth, SYNTH_GQL_AUTH_OIDC)))
		return synth_error_setf(SYNTH_EINVALID, "unknown default authorization mode '%s'",
					default_auth ? default_auth : "(null)");
	gen g = {json_object_get(model, "models"), str(model, "file"), default_rule(default_auth), json_array(),
		 json_array(), NULL, 0, 0};
	if (!g.file)
		g.file = "schema.graphql";
	int rc = g.dflt && g.out && g.modules ? 0 : synth_error_oom();
	const char *name;
	json_t *m;
	json_object_foreach(g.models, name, m) {
		if (rc)
			break;
		rc = gen_model(&g, name, m);
	}
	json_decref(g.dflt);
	free(g.pend);
	json_t *o = rc ? NULL : json_object();
	if (rc || !o) {
		json_decref(g.out);
		json_decref(g.modules);
		return rc ? rc : synth_error_oom();
	}
	/* put() steals its value, even on failure. */
	if (put(o, "resolvers", g.out) | put(o, "modules", g.modules)) {
		json_decref(o);
		return synth_error_oom();
	}
	*out = o;
	return 0;
}

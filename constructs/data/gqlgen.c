/*
 * define_data's generators, part 1 (see gqlgen.h): the client-facing
 * AppSync schema and Amplify's model introspection schema, both from the
 * schema parser's JSON model (graphql.h).
 *
 * Layout of this file:
 *   1. small accessors over the model and the authorization modes;
 *   2. "extra": what Amplify adds to each model beyond its declared fields
 *      (implicit relation key fields, owner fields), computed once;
 *   3. names: every name the generator will write, checked against the
 *      declared ones (a clash is an error at the declaration);
 *   4. the SDL writer (one growable buffer, checked once at the end);
 *   5. the model introspection builder (jansson; a failed allocation is
 *      remembered and reported once).
 * Everything iterates the model in its (schema) order, so the output is
 * deterministic.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <synth/common.h>
#include <synth/sys/util.h>
#include "graphql.h"
#include "gqlgen.h"
#include "gql_names.h"

/* --- 1. accessors ------------------------------------------------------ */

enum { MODE_API_KEY = 1, MODE_IAM = 2, MODE_OIDC = 4, MODE_POOLS = 8 };

static const struct {
	unsigned bit;
	const char *appsync, *directive;
} modes[] = {
	{MODE_API_KEY, SYNTH_GQL_AUTH_API_KEY, "@aws_api_key"},
	{MODE_IAM, SYNTH_GQL_AUTH_IAM, "@aws_iam"},
	{MODE_OIDC, SYNTH_GQL_AUTH_OIDC, "@aws_oidc"},
	{MODE_POOLS, SYNTH_GQL_AUTH_USER_POOLS, "@aws_cognito_user_pools"},
};

#define NAME_MAX_LEN SYNTH_GQL_NAME_MAX

typedef struct gen {
	json_t *root, *models, *types, *interfaces, *inputs, *enums, *unions;
	const char *file;
	unsigned dflt;  /* the default mode's bit */
	unsigned also;  /* modes every model type and operation admits besides its
			 * rules' (MODE_IAM with SYNTH_GQL_IAM_ACCESS) */
	json_t *extra;  /* model -> {"keys": {name: type}, "owners": {name: true}} */
	json_t *names;  /* every type name, declared or generated -> origin */
	unsigned *tmodes; /* modes of the non-model types, by position in "types" */
	size_t ntypes;
	synth_buf b;
} gen;

static const char *jstr(const json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

static bool jtrue(const json_t *o, const char *k)
{
	return json_is_true(json_object_get(o, k));
}

static int jline(const json_t *o)
{
	return (int)json_integer_value(json_object_get(o, "line"));
}

static int jcol(const json_t *o)
{
	return (int)json_integer_value(json_object_get(o, "column"));
}

static unsigned provider_mode(const char *p)
{
	if (!p)
		return 0;
	if (!strcmp(p, "userPools"))
		return MODE_POOLS;
	if (!strcmp(p, "oidc"))
		return MODE_OIDC;
	if (!strcmp(p, "iam") || !strcmp(p, "identityPool"))
		return MODE_IAM;
	if (!strcmp(p, "apiKey"))
		return MODE_API_KEY;
	return 0;
}

static bool has_op(const json_t *rule, const char *op)
{
	size_t i;
	json_t *v;
	json_array_foreach(json_object_get(rule, "operations"), i, v)
		if (json_string_value(v) && !strcmp(json_string_value(v), op))
			return true;
	return false;
}

/* The modes of RULES allowing OP (every op when OP is NULL). */
static unsigned rules_modes(const json_t *rules, const char *op)
{
	unsigned set = 0;
	size_t i;
	json_t *r;
	json_array_foreach(rules, i, r)
		if (!op || has_op(r, op))
			set |= provider_mode(jstr(r, "provider"));
	return set;
}

/* The modes that may reach model M's type: every provider of its rules;
 * the default mode alone when it has no @auth (or no usable rule). */
static unsigned model_modes(const gen *g, const json_t *m)
{
	if (!jtrue(m, "hasAuth"))
		return g->dflt | g->also;
	unsigned set = rules_modes(json_object_get(m, "auth"), NULL);
	return (set ? set : g->dflt) | g->also;
}

/* The modes of operation OP of model M. An operation no rule grants keeps
 * the type's modes: AppSync lets them through and the resolver denies. */
static unsigned op_modes(const gen *g, const json_t *m, const char *op)
{
	if (!jtrue(m, "hasAuth"))
		return g->dflt | g->also;
	unsigned set = rules_modes(json_object_get(m, "auth"), op);
	return set ? set | g->also : model_modes(g, m);
}

static const json_t *model_pk(const json_t *m)
{
	return json_object_get(m, "primaryKey");
}

static bool pk_implicit(const json_t *m)
{
	return jtrue(model_pk(m), "implicit");
}

static size_t pk_nsort(const json_t *m)
{
	return json_array_size(json_object_get(model_pk(m), "sortKeyFields"));
}

/* The I-th field of M's primary key (0: the partition key). */
static const char *pk_field(const json_t *m, size_t i)
{
	if (i == 0)
		return jstr(model_pk(m), "field");
	return json_string_value(json_array_get(json_object_get(model_pk(m), "sortKeyFields"), i - 1));
}

static bool is_pk_field(const json_t *m, const char *name)
{
	for (size_t i = 0; i <= pk_nsort(m); i++)
		if (pk_field(m, i) && !strcmp(pk_field(m, i), name))
			return true;
	return false;
}

static const char *ts_name(const json_t *m, const char *which)
{
	return jstr(json_object_get(m, "timestamps"), which);
}

static bool is_timestamp(const json_t *m, const char *name)
{
	const char *c = ts_name(m, "createdAt"), *u = ts_name(m, "updatedAt");
	return (c && !strcmp(c, name)) || (u && !strcmp(u, name));
}

static json_t *mfields(const json_t *m)
{
	return json_object_get(m, "fields");
}

static json_t *extra_of(const gen *g, const char *model, const char *what)
{
	return json_object_get(json_object_get(g->extra, model), what);
}

/* The type name of field NAME of model MNAME, declared or added by
 * Amplify; NULL if it has none. */
static const char *field_type(const gen *g, const char *mname, const char *name)
{
	const json_t *m = json_object_get(g->models, mname);
	const json_t *f = json_object_get(mfields(m), name);
	if (f)
		return jstr(f, "type");
	if (pk_implicit(m) && pk_field(m, 0) && !strcmp(pk_field(m, 0), name))
		return "ID";
	if (is_timestamp(m, name))
		return "AWSDateTime";
	const char *k = json_string_value(json_object_get(extra_of(g, mname, "keys"), name));
	if (k)
		return k;
	if (json_object_get(extra_of(g, mname, "owners"), name))
		return "String";
	return NULL;
}

/* --- 2. extra fields --------------------------------------------------- */

static bool declared_or_builtin(const json_t *m, const char *name)
{
	if (json_object_get(mfields(m), name) || is_timestamp(m, name))
		return true;
	return pk_implicit(m) && pk_field(m, 0) && !strcmp(pk_field(m, 0), name);
}

static int add_owners(json_t *owners, const json_t *m, const json_t *rules)
{
	size_t i;
	json_t *r;
	json_array_foreach(rules, i, r) {
		const char *of = jstr(r, "ownerField");
		const char *allow = jstr(r, "allow");
		if (!of || !allow || strcmp(allow, "owner") || declared_or_builtin(m, of) ||
		    json_object_get(owners, of))
			continue;
		if (json_object_set_new(owners, of, json_true()))
			return -1;
	}
	return 0;
}

static int build_extra(gen *g)
{
	const char *mname;
	json_t *m;
	if (!(g->extra = json_object()))
		return -1;
	json_object_foreach(g->models, mname, m) {
		json_t *e = json_pack("{s:{},s:{}}", "keys", "owners");
		if (json_object_set_new(g->extra, mname, e))
			return -1;
	}
	/* implicit relation keys, on the model that holds them */
	json_object_foreach(g->models, mname, m) {
		size_t i, k;
		json_t *r, *kf;
		json_array_foreach(json_object_get(m, "relations"), i, r) {
			const char *km = jstr(r, "keyModel"), *rel = jstr(r, "related");
			json_t *kmodel = km ? json_object_get(g->models, km) : NULL;
			if (!kmodel || !rel)
				continue;
			/* the model whose primary key the key fields hold */
			const char *refname = !strcmp(km, mname) ? rel : mname;
			const json_t *ref = json_object_get(g->models, refname);
			json_t *keys = extra_of(g, km, "keys");
			json_array_foreach(json_object_get(r, "keyFields"), k, kf) {
				const char *kn = json_string_value(kf);
				if (!kn || declared_or_builtin(kmodel, kn) || json_object_get(keys, kn))
					continue;
				const char *t = NULL;
				if (ref && k <= pk_nsort(ref) && pk_field(ref, k))
					t = field_type(g, refname, pk_field(ref, k));
				if (json_object_set_new(keys, kn, json_string(t ? t : "ID")))
					return -1;
			}
		}
	}
	/* owner fields of type-level and field-level owner rules */
	json_object_foreach(g->models, mname, m) {
		json_t *owners = extra_of(g, mname, "owners"), *f;
		const char *fname;
		if (add_owners(owners, m, json_object_get(m, "auth")))
			return -1;
		json_object_foreach(mfields(m), fname, f)
			if (add_owners(owners, m, json_object_get(f, "auth")))
				return -1;
	}
	return 0;
}

/* Modes of the non-model types: the union of the modes of the models that
 * reach them, through fields of custom types, unions and interfaces. */
static long type_index(const gen *g, const char *name)
{
	const char *k;
	json_t *v;
	long i = 0;
	json_object_foreach(g->types, k, v) {
		if (!strcmp(k, name))
			return i;
		i++;
	}
	return -1;
}

static bool mark_type(gen *g, const char *name, unsigned set);

/* Marks what a field of type NAME (of KIND) reaches. */
static bool mark_kind(gen *g, const char *kind, const char *name, unsigned set)
{
	bool changed = false;
	if (!kind || !name)
		return false;
	if (!strcmp(kind, "type")) {
		changed = mark_type(g, name, set);
	} else if (!strcmp(kind, "union")) {
		size_t i;
		json_t *t;
		json_array_foreach(json_object_get(json_object_get(g->unions, name), "types"), i, t)
			if (json_string_value(t) && !json_object_get(g->models, json_string_value(t)))
				changed |= mark_type(g, json_string_value(t), set);
	} else if (!strcmp(kind, "interface")) {
		const char *tn;
		json_t *t;
		json_object_foreach(g->types, tn, t) {
			size_t i;
			json_t *in;
			json_array_foreach(json_object_get(t, "interfaces"), i, in)
				if (json_string_value(in) && !strcmp(json_string_value(in), name))
					changed |= mark_type(g, tn, set);
		}
	}
	return changed;
}

static bool mark_type(gen *g, const char *name, unsigned set)
{
	long i = type_index(g, name);
	if (i < 0 || (g->tmodes[i] | set) == g->tmodes[i])
		return false;
	g->tmodes[i] |= set;
	return true;
}

static int build_type_modes(gen *g)
{
	g->ntypes = json_object_size(g->types);
	if (!(g->tmodes = calloc(g->ntypes ? g->ntypes : 1, sizeof *g->tmodes)))
		return -1;
	const char *mname, *fname, *tname;
	json_t *m, *f, *t;
	json_object_foreach(g->models, mname, m) {
		unsigned set = model_modes(g, m);
		json_object_foreach(mfields(m), fname, f)
			mark_kind(g, jstr(f, "kind"), jstr(f, "type"), set);
	}
	for (bool changed = true; changed;) {
		changed = false;
		long i = 0;
		json_object_foreach(g->types, tname, t) {
			unsigned set = g->tmodes[i++];
			if (!set)
				continue;
			json_object_foreach(mfields(t), fname, f)
				changed |= mark_kind(g, jstr(f, "kind"), jstr(f, "type"), set);
		}
	}
	return 0;
}

static bool is_root(const char *name)
{
	return !strcmp(name, "Query") || !strcmp(name, "Mutation") || !strcmp(name, "Subscription");
}

/* A non-model type some model reaches (it gets an input twin). */
static unsigned type_modes(const gen *g, const char *name)
{
	long i = type_index(g, name);
	return i < 0 ? 0 : g->tmodes[i];
}

/* --- 3. names ---------------------------------------------------------- */

/* Registers a generated type NAME (for model MODEL, a WHAT: "input",
 * "type", "enum"); a clash with a declared or another generated type is
 * an error at the declaration (or at the model). */
static int claim(gen *g, const char *name, const char *what, const char *model, const json_t *at)
{
	json_t *prev = json_object_get(g->names, name);
	if (prev) {
		const char *owner = jstr(prev, "model");
		const json_t *pos = json_object_get(prev, "declared") ? prev : at;
		char whose[NAME_MAX_LEN];
		if (model)
			snprintf(whose, sizeof whose, "model '%s'", model);
		else
			snprintf(whose, sizeof whose, "the models' filters");
		if (owner && !json_object_get(prev, "declared"))
			return synth_error_setf(SYNTH_EINVALID,
						"%s:%d:%d: the %s '%s' Amplify generates for %s clashes with "
						"the one it generates for model '%s'",
						g->file, jline(at), jcol(at), what, name, whose, owner);
		return synth_error_setf(SYNTH_EINVALID,
					"%s:%d:%d: type '%s' clashes with the %s Amplify generates for %s",
					g->file, jline(pos), jcol(pos), name, what, whose);
	}
	json_t *v = json_pack("{s:s?,s:i,s:i}", "model", model, "line", jline(at), "column", jcol(at));
	if (json_object_set_new(g->names, name, v))
		return synth_error_oom();
	return 0;
}

static int declare(gen *g, const json_t *defs)
{
	const char *name;
	json_t *d;
	json_object_foreach((json_t *)defs, name, d) {
		json_t *v = json_pack("{s:b,s:i,s:i}", "declared", 1, "line", jline(d), "column", jcol(d));
		if (json_object_set_new(g->names, name, v))
			return synth_error_oom();
	}
	return 0;
}

/* The input a field of TYPE (KIND) filters with (SUB: subscriptions);
 * NULL for fields that cannot be filtered. Writes into BUF. */
static const char *filter_input(char *buf, const char *type, const char *kind, bool list, bool sub)
{
	const char *pre = sub ? "ModelSubscription" : "Model";
	if (!type || !kind)
		return NULL;
	if (!strcmp(kind, "enum")) {
		if (sub)
			snprintf(buf, NAME_MAX_LEN, "ModelSubscriptionStringInput");
		else
			snprintf(buf, NAME_MAX_LEN, "Model%s%sInput", type, list ? "List" : "");
		return buf;
	}
	if (strcmp(kind, "scalar"))
		return NULL;
	const char *base = "String";
	if (!strcmp(type, "ID"))
		base = "ID";
	else if (!strcmp(type, "Int") || !strcmp(type, "AWSTimestamp"))
		base = "Int";
	else if (!strcmp(type, "Float"))
		base = "Float";
	else if (!strcmp(type, "Boolean"))
		base = "Boolean";
	snprintf(buf, NAME_MAX_LEN, "%s%sInput", pre, base);
	return buf;
}

/* The key condition input of a single sort key of TYPE. */
static const char *key_cond(const char *type)
{
	if (!type)
		return "ModelStringKeyConditionInput";
	if (!strcmp(type, "ID"))
		return "ModelIDKeyConditionInput";
	if (!strcmp(type, "Int") || !strcmp(type, "AWSTimestamp"))
		return "ModelIntKeyConditionInput";
	if (!strcmp(type, "Float"))
		return "ModelFloatKeyConditionInput";
	return "ModelStringKeyConditionInput";
}

/* The composite key inputs' stem: Model<T>Primary or Model<T><Index>. */
static void composite_stem(char *buf, const char *mname, const char *index)
{
	snprintf(buf, NAME_MAX_LEN, "Model%s", mname);
	if (index)
		synth__gql_names_cat_upper(buf, NAME_MAX_LEN, index);
	else
		snprintf(buf + strlen(buf), NAME_MAX_LEN - strlen(buf), "Primary");
}

/* The sort key argument's name: the sort key fields, camel-cased. */
static void sort_arg(char *buf, const json_t *sort)
{
	size_t i;
	json_t *s;
	buf[0] = '\0';
	json_array_foreach(sort, i, s) {
		if (i == 0)
			snprintf(buf, NAME_MAX_LEN, "%s", json_string_value(s));
		else
			synth__gql_names_cat_upper(buf, NAME_MAX_LEN, json_string_value(s));
	}
}

static const char *const shared_inputs[] = {
	"ModelStringInput", "ModelIntInput", "ModelFloatInput", "ModelBooleanInput",
	"ModelIDInput", "ModelSubscriptionStringInput", "ModelSubscriptionIntInput",
	"ModelSubscriptionFloatInput", "ModelSubscriptionBooleanInput",
	"ModelSubscriptionIDInput", "ModelSizeInput", "ModelStringKeyConditionInput",
	"ModelIDKeyConditionInput", "ModelIntKeyConditionInput", "ModelFloatKeyConditionInput", NULL};

static int claim_all(gen *g)
{
	char n[NAME_MAX_LEN + 64];
	const char *mname, *fname, *tname;
	int rc;
	json_t *m, *f, *t;
	if (!(g->names = json_object()))
		return synth_error_oom();
	if ((rc = declare(g, g->models)) || (rc = declare(g, g->types)) ||
	    (rc = declare(g, g->interfaces)) || (rc = declare(g, g->inputs)) ||
	    (rc = declare(g, g->enums)) || (rc = declare(g, g->unions)))
		return rc;
	json_object_foreach(g->models, mname, m) {
		static const char *const fmt[][2] = {
			{"Model%sConnection", "type"}, {"Model%sFilterInput", "input"},
			{"Model%sConditionInput", "input"}, {"Create%sInput", "input"},
			{"Update%sInput", "input"}, {"Delete%sInput", "input"},
			{"ModelSubscription%sFilterInput", "input"}};
		for (size_t i = 0; i < sizeof fmt / sizeof fmt[0]; i++) {
			snprintf(n, sizeof n, fmt[i][0], mname);
			if ((rc = claim(g, n, fmt[i][1], mname, m)))
				return rc;
		}
		if (pk_nsort(m) > 1) {
			char stem[NAME_MAX_LEN];
			composite_stem(stem, mname, NULL);
			snprintf(n, sizeof n, "%sCompositeKeyConditionInput", stem);
			if ((rc = claim(g, n, "input", mname, m)))
				return rc;
			snprintf(n, sizeof n, "%sCompositeKeyInput", stem);
			if ((rc = claim(g, n, "input", mname, m)))
				return rc;
		}
		size_t i;
		json_t *ix;
		json_array_foreach(json_object_get(m, "indexes"), i, ix) {
			if (json_array_size(json_object_get(ix, "sortKeyFields")) < 2 ||
			    !jstr(ix, "queryField"))
				continue;
			char stem[NAME_MAX_LEN];
			composite_stem(stem, mname, jstr(ix, "name"));
			snprintf(n, sizeof n, "%sCompositeKeyConditionInput", stem);
			if ((rc = claim(g, n, "input", mname, ix)))
				return rc;
			snprintf(n, sizeof n, "%sCompositeKeyInput", stem);
			if ((rc = claim(g, n, "input", mname, ix)))
				return rc;
		}
	}
	json_object_foreach(g->types, tname, t) {
		if (is_root(tname) || !type_modes(g, tname))
			continue;
		snprintf(n, sizeof n, "%sInput", tname);
		if ((rc = claim(g, n, "input", NULL, t)))
			return rc;
	}
	json_object_foreach(g->enums, tname, t) {
		bool used = false, used_list = false;
		json_object_foreach(g->models, mname, m)
			json_object_foreach(mfields(m), fname, f)
				if (!strcmp(jstr(f, "kind") ? jstr(f, "kind") : "", "enum") &&
				    !strcmp(jstr(f, "type"), tname)) {
					if (jtrue(f, "list"))
						used_list = true;
					else
						used = true;
				}
		snprintf(n, sizeof n, "Model%sInput", tname);
		if (used && (rc = claim(g, n, "input", NULL, t)))
			return rc;
		snprintf(n, sizeof n, "Model%sListInput", tname);
		if (used_list && (rc = claim(g, n, "input", NULL, t)))
			return rc;
	}
	if (!json_object_size(g->models))
		return 0;
	for (int i = 0; shared_inputs[i]; i++)
		if ((rc = claim(g, shared_inputs[i], "input", NULL, json_object_get(g->names, shared_inputs[i]))))
			return rc;
	if ((rc = claim(g, "ModelAttributeTypes", "enum", NULL,
			json_object_get(g->names, "ModelAttributeTypes"))) ||
	    (rc = claim(g, "ModelSortDirection", "enum", NULL,
			json_object_get(g->names, "ModelSortDirection"))))
		return rc;
	return 0;
}

/* --- 4. the SDL -------------------------------------------------------- */

static void put_modes(gen *g, unsigned set, bool force)
{
	if (!set || (!force && set == g->dflt))
		return;
	for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++)
		if (set & modes[i].bit)
			synth_buf_printf(&g->b, " %s", modes[i].directive);
}

static void put_desc(gen *g, const json_t *d, const char *indent)
{
	const char *s = jstr(d, "description");
	if (!s)
		return;
	synth_buf_printf(&g->b, "%s\"\"\"\n%s", indent, indent);
	for (const char *p = s; *p; p++) {
		if (!strncmp(p, "\"\"\"", 3)) {
			synth_buf_puts(&g->b, "\\\"\"\"");
			p += 2;
		} else if (*p == '\n') {
			synth_buf_printf(&g->b, "\n%s", indent);
		} else {
			synth_buf_putc(&g->b, *p);
		}
	}
	synth_buf_printf(&g->b, "\n%s\"\"\"\n", indent);
}

static void put_string(gen *g, const char *s)
{
	synth_buf_putc(&g->b, '"');
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			synth_buf_printf(&g->b, "\\%c", *p);
		else if (*p < 0x20)
			synth_buf_printf(&g->b, "\\u%04x", *p);
		else
			synth_buf_putc(&g->b, (char)*p);
	}
	synth_buf_putc(&g->b, '"');
}

/* A field's type: T, T!, [T], [T!]! ... */
static void put_type(gen *g, const json_t *f, const char *name, bool optional)
{
	bool list = jtrue(f, "list"), req = jtrue(f, "required") && !optional;
	if (list)
		synth_buf_printf(&g->b, "[%s%s]%s", name, jtrue(f, "listItemRequired") ? "!" : "",
				  req ? "!" : "");
	else
		synth_buf_printf(&g->b, "%s%s", name, req ? "!" : "");
}

/* A constant value V of TYPE (KIND) as a GraphQL literal. */
static void put_value(gen *g, const json_t *v, const char *type, const char *kind, int depth)
{
	if (depth > SYNTH_GRAPHQL_MAX_DEPTH + 2) {
		synth_buf_puts(&g->b, "null");
		return;
	}
	switch (json_typeof(v)) {
	case JSON_NULL:
		synth_buf_puts(&g->b, "null");
		break;
	case JSON_TRUE:
		synth_buf_puts(&g->b, "true");
		break;
	case JSON_FALSE:
		synth_buf_puts(&g->b, "false");
		break;
	case JSON_INTEGER:
		synth_buf_printf(&g->b, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		break;
	case JSON_REAL: {
		char num[64];
		double x = json_real_value(v);
		snprintf(num, sizeof num, "%.15g", x);
		if (strtod(num, NULL) != x)
			snprintf(num, sizeof num, "%.17g", x);
		synth_buf_puts(&g->b, num);
		break;
	}
	case JSON_STRING:
		if (kind && !strcmp(kind, "enum"))
			synth_buf_puts(&g->b, json_string_value(v));
		else
			put_string(g, json_string_value(v));
		break;
	case JSON_ARRAY: {
		size_t i;
		json_t *x;
		synth_buf_putc(&g->b, '[');
		json_array_foreach(v, i, x) {
			if (i)
				synth_buf_puts(&g->b, ", ");
			put_value(g, x, type, kind, depth + 1);
		}
		synth_buf_putc(&g->b, ']');
		break;
	}
	case JSON_OBJECT: {
		const char *k;
		json_t *x;
		bool first = true;
		const json_t *fields = mfields(json_object_get(g->inputs, type ? type : ""));
		synth_buf_putc(&g->b, '{');
		json_object_foreach((json_t *)v, k, x) {
			const json_t *f = json_object_get(fields, k);
			synth_buf_printf(&g->b, "%s%s: ", first ? "" : ", ", k);
			put_value(g, x, jstr(f, "type"), jstr(f, "kind"), depth + 1);
			first = false;
		}
		synth_buf_putc(&g->b, '}');
		break;
	}
	}
}

static void put_deprecated(gen *g, const json_t *f)
{
	const json_t *d = json_object_get(json_object_get(f, "directives"), "deprecated");
	if (!d)
		return;
	const char *reason = jstr(d, "reason");
	synth_buf_puts(&g->b, " @deprecated");
	if (reason) {
		synth_buf_puts(&g->b, "(reason: ");
		put_string(g, reason);
		synth_buf_putc(&g->b, ')');
	}
}

static void put_args(gen *g, const json_t *args)
{
	const char *an;
	json_t *a;
	bool first = true;
	if (!json_object_size(args))
		return;
	synth_buf_putc(&g->b, '(');
	json_object_foreach((json_t *)args, an, a) {
		synth_buf_printf(&g->b, "%s%s: ", first ? "" : ", ", an);
		put_type(g, a, jstr(a, "type"), false);
		if (json_object_get(a, "defaultValue")) {
			synth_buf_puts(&g->b, " = ");
			put_value(g, json_object_get(a, "defaultValue"), jstr(a, "type"), jstr(a, "kind"), 0);
		}
		first = false;
	}
	synth_buf_putc(&g->b, ')');
}

/* A declared output field, as written. */
static void put_out_field(gen *g, const char *name, const json_t *f)
{
	put_desc(g, f, "  ");
	synth_buf_printf(&g->b, "  %s", name);
	put_args(g, json_object_get(f, "arguments"));
	synth_buf_puts(&g->b, ": ");
	put_type(g, f, jstr(f, "type"), false);
	put_deprecated(g, f);
}

static void put_implements(gen *g, const json_t *d)
{
	size_t i;
	json_t *in;
	json_array_foreach(json_object_get(d, "interfaces"), i, in)
		synth_buf_printf(&g->b, "%s%s", i ? " & " : " implements ", json_string_value(in));
}

static void put_hasmany_args(gen *g, const json_t *rel, const char *related)
{
	const json_t *rm = json_object_get(g->models, related);
	const char *ixname = jstr(rel, "indexName");
	size_t i;
	json_t *ix;
	if (ixname) {
		json_array_foreach(json_object_get(rm, "indexes"), i, ix) {
			if (!jstr(ix, "name") || strcmp(jstr(ix, "name"), ixname))
				continue;
			const json_t *sort = json_object_get(ix, "sortKeyFields");
			char arg[NAME_MAX_LEN], stem[NAME_MAX_LEN];
			sort_arg(arg, sort);
			if (json_array_size(sort) == 1) {
				synth_buf_printf(&g->b, "%s: %s, ", arg,
						  key_cond(field_type(g, related, json_string_value(json_array_get(sort, 0)))));
			} else if (json_array_size(sort) > 1 && jstr(ix, "queryField")) {
				composite_stem(stem, related, ixname);
				synth_buf_printf(&g->b, "%s: %sCompositeKeyConditionInput, ", arg, stem);
			}
		}
	}
	synth_buf_printf(&g->b, "filter: Model%sFilterInput, sortDirection: ModelSortDirection, "
				 "limit: Int, nextToken: String",
			  related);
}

static void put_model_type(gen *g, const char *mname, const json_t *m)
{
	unsigned set = model_modes(g, m);
	const char *fname;
	json_t *f;
	put_desc(g, m, "");
	synth_buf_printf(&g->b, "type %s", mname);
	put_implements(g, m);
	put_modes(g, set, false);
	synth_buf_puts(&g->b, " {\n");
	if (pk_implicit(m) && !json_object_get(mfields(m), pk_field(m, 0)))
		synth_buf_printf(&g->b, "  %s: ID!\n", pk_field(m, 0));
	json_object_foreach(mfields(m), fname, f) {
		const char *rel = jstr(f, "relation");
		if (rel && !strcmp(rel, "hasMany")) {
			const json_t *r = NULL, *x;
			size_t i;
			json_array_foreach(json_object_get(m, "relations"), i, x)
				if (!strcmp(jstr(x, "field"), fname))
					r = x;
			put_desc(g, f, "  ");
			synth_buf_printf(&g->b, "  %s(", fname);
			put_hasmany_args(g, r, jstr(f, "type"));
			synth_buf_printf(&g->b, "): Model%sConnection", jstr(f, "type"));
			put_deprecated(g, f);
		} else if (pk_implicit(m) && !strcmp(fname, pk_field(m, 0))) {
			/* the implicit key is always ID! */
			put_desc(g, f, "  ");
			synth_buf_printf(&g->b, "  %s: ID!", fname);
		} else {
			put_out_field(g, fname, f);
		}
		json_t *auth = json_object_get(f, "auth");
		if (auth) {
			unsigned fs = rules_modes(auth, NULL);
			fs |= fs ? g->also : 0;
			if (fs && fs != set)
				put_modes(g, fs, true);
		}
		synth_buf_putc(&g->b, '\n');
	}
	static const char *const ts[] = {"createdAt", "updatedAt"};
	for (int i = 0; i < 2; i++) {
		const char *n = ts_name(m, ts[i]);
		if (n && !json_object_get(mfields(m), n))
			synth_buf_printf(&g->b, "  %s: AWSDateTime!\n", n);
	}
	const char *k;
	json_t *v;
	json_object_foreach(extra_of(g, mname, "keys"), k, v)
		synth_buf_printf(&g->b, "  %s: %s\n", k, json_string_value(v));
	json_object_foreach(extra_of(g, mname, "owners"), k, v)
		synth_buf_printf(&g->b, "  %s: String\n", k);
	synth_buf_puts(&g->b, "}\n\n");
}

static void put_object(gen *g, const char *kw, const char *name, const json_t *d, unsigned set)
{
	const char *fname;
	json_t *f;
	put_desc(g, d, "");
	synth_buf_printf(&g->b, "%s %s", kw, name);
	put_implements(g, d);
	put_modes(g, set, false);
	synth_buf_puts(&g->b, " {\n");
	json_object_foreach(mfields(d), fname, f) {
		put_out_field(g, fname, f);
		synth_buf_putc(&g->b, '\n');
	}
	synth_buf_puts(&g->b, "}\n\n");
}

static void put_input(gen *g, const char *name, const json_t *d)
{
	const char *fname;
	json_t *f;
	put_desc(g, d, "");
	synth_buf_printf(&g->b, "input %s {\n", name);
	json_object_foreach(mfields(d), fname, f) {
		put_desc(g, f, "  ");
		synth_buf_printf(&g->b, "  %s: ", fname);
		put_type(g, f, jstr(f, "type"), false);
		if (json_object_get(f, "defaultValue")) {
			synth_buf_puts(&g->b, " = ");
			put_value(g, json_object_get(f, "defaultValue"), jstr(f, "type"), jstr(f, "kind"), 0);
		}
		synth_buf_putc(&g->b, '\n');
	}
	synth_buf_puts(&g->b, "}\n\n");
}

static void put_enum(gen *g, const char *name, const json_t *d)
{
	size_t i;
	json_t *v;
	put_desc(g, d, "");
	synth_buf_printf(&g->b, "enum %s {\n", name);
	json_array_foreach(json_object_get(d, "values"), i, v)
		synth_buf_printf(&g->b, "  %s\n", json_string_value(v));
	synth_buf_puts(&g->b, "}\n\n");
}

static void put_union(gen *g, const char *name, const json_t *d)
{
	size_t i;
	json_t *v;
	put_desc(g, d, "");
	synth_buf_printf(&g->b, "union %s =", name);
	json_array_foreach(json_object_get(d, "types"), i, v)
		synth_buf_printf(&g->b, "%s %s", i ? " |" : "", json_string_value(v));
	synth_buf_puts(&g->b, "\n\n");
}

/* The declarations, in the order of the schema file. */
typedef struct decl {
	int line, col, kind; /* 0 model, 1 type, 2 interface, 3 input, 4 enum, 5 union */
	const char *name;
	const json_t *d;
} decl;

static int decl_cmp(const void *a, const void *b)
{
	const decl *x = a, *y = b;
	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	return x->col < y->col ? -1 : x->col > y->col;
}

static int put_declarations(gen *g)
{
	json_t *const groups[] = {g->models, g->types, g->interfaces, g->inputs, g->enums, g->unions};
	size_t n = 0, k = 0;
	for (int i = 0; i < 6; i++)
		n += json_object_size(groups[i]);
	decl *all = calloc(n ? n : 1, sizeof *all);
	if (!all)
		return synth_error_oom();
	for (int i = 0; i < 6; i++) {
		const char *name;
		json_t *d;
		json_object_foreach(groups[i], name, d)
			all[k++] = (decl){jline(d), jcol(d), i, name, d};
	}
	qsort(all, n, sizeof *all, decl_cmp);
	for (size_t i = 0; i < n; i++) {
		const decl *d = &all[i];
		switch (d->kind) {
		case 0:
			put_model_type(g, d->name, d->d);
			break;
		case 1: {
			if (is_root(d->name))
				break; /* merged into the generated root types */
			unsigned set = type_modes(g, d->name);
			put_object(g, "type", d->name, d->d, set ? set : g->dflt);
			break;
		}
		case 2:
			put_object(g, "interface", d->name, d->d, g->dflt);
			break;
		case 3:
			put_input(g, d->name, d->d);
			break;
		case 4:
			put_enum(g, d->name, d->d);
			break;
		default:
			put_union(g, d->name, d->d);
			break;
		}
	}
	free(all);
	return 0;
}

/* An input field of a generated input: TYPE, forced optional unless REQ. */
static void put_in(gen *g, const char *name, const json_t *f, const char *type, bool req)
{
	synth_buf_printf(&g->b, "  %s: ", name);
	if (f) {
		bool list = jtrue(f, "list");
		if (list)
			synth_buf_printf(&g->b, "[%s%s]%s", type, jtrue(f, "listItemRequired") ? "!" : "",
					  req ? "!" : "");
		else
			synth_buf_printf(&g->b, "%s%s", type, req ? "!" : "");
	} else {
		synth_buf_printf(&g->b, "%s%s", type, req ? "!" : "");
	}
	synth_buf_putc(&g->b, '\n');
}

/* The type a declared field takes in an input: scalars and enums as they
 * are, custom types as their input twin; NULL: not in inputs. */
static const char *input_type(char *buf, const json_t *f)
{
	const char *kind = jstr(f, "kind"), *type = jstr(f, "type");
	if (!kind || !type)
		return NULL;
	if (!strcmp(kind, "scalar") || !strcmp(kind, "enum"))
		return type;
	if (!strcmp(kind, "type")) {
		snprintf(buf, NAME_MAX_LEN, "%sInput", type);
		return buf;
	}
	return NULL;
}

static void put_mutation_inputs(gen *g, const char *mname, const json_t *m)
{
	char buf[NAME_MAX_LEN];
	const char *fname, *k;
	json_t *f, *v;
	bool implicit = pk_implicit(m);
	static const char *const which[] = {"Create", "Update", "Delete"};
	for (int w = 0; w < 3; w++) {
		synth_buf_printf(&g->b, "input %s%sInput {\n", which[w], mname);
		if (implicit)
			synth_buf_printf(&g->b, "  %s: ID%s\n", pk_field(m, 0), w ? "!" : "");
		if (w == 2) {
			for (size_t i = implicit ? 1 : 0; i <= pk_nsort(m); i++)
				put_in(g, pk_field(m, i), NULL, field_type(g, mname, pk_field(m, i)), true);
			synth_buf_puts(&g->b, "}\n\n");
			continue;
		}
		json_object_foreach(mfields(m), fname, f) {
			const char *t = input_type(buf, f);
			if (!t || (implicit && !strcmp(fname, pk_field(m, 0))))
				continue;
			bool req = jtrue(f, "required") && !json_object_get(f, "default") &&
				   !is_timestamp(m, fname);
			if (w == 1)
				req = is_pk_field(m, fname);
			put_in(g, fname, f, t, req);
		}
		json_object_foreach(extra_of(g, mname, "keys"), k, v)
			put_in(g, k, NULL, json_string_value(v), false);
		synth_buf_puts(&g->b, "}\n\n");
	}
}

/* Model<T>FilterInput (what 0), Model<T>ConditionInput (1),
 * ModelSubscription<T>FilterInput (2). */
static void put_filter(gen *g, const char *mname, const json_t *m, int what)
{
	char buf[NAME_MAX_LEN], self[NAME_MAX_LEN];
	const char *fname, *k;
	json_t *f, *v;
	bool sub = what == 2;
	snprintf(self, sizeof self, what == 0 ? "Model%sFilterInput"
				    : what == 1 ? "Model%sConditionInput"
						: "ModelSubscription%sFilterInput",
		 mname);
	synth_buf_printf(&g->b, "input %s {\n", self);
	bool implicit = pk_implicit(m);
	if (implicit && what != 1 && !json_object_get(mfields(m), pk_field(m, 0)))
		synth_buf_printf(&g->b, "  %s: %s\n", pk_field(m, 0),
				  sub ? "ModelSubscriptionIDInput" : "ModelIDInput");
	json_object_foreach(mfields(m), fname, f) {
		if (what == 1 && is_pk_field(m, fname))
			continue;
		const char *t = implicit && !strcmp(fname, pk_field(m, 0))
					? (sub ? "ModelSubscriptionIDInput" : "ModelIDInput")
					: filter_input(buf, jstr(f, "type"), jstr(f, "kind"), jtrue(f, "list"), sub);
		if (t)
			synth_buf_printf(&g->b, "  %s: %s\n", fname, t);
	}
	static const char *const ts[] = {"createdAt", "updatedAt"};
	for (int i = 0; i < 2; i++) {
		const char *n = ts_name(m, ts[i]);
		if (n && !json_object_get(mfields(m), n))
			synth_buf_printf(&g->b, "  %s: %s\n", n,
					  sub ? "ModelSubscriptionStringInput" : "ModelStringInput");
	}
	json_object_foreach(extra_of(g, mname, "keys"), k, v)
		synth_buf_printf(&g->b, "  %s: %s\n", k,
				  filter_input(buf, json_string_value(v), "scalar", false, sub));
	synth_buf_printf(&g->b, "  and: [%s]\n  or: [%s]\n", self, self);
	if (!sub)
		synth_buf_printf(&g->b, "  not: %s\n", self);
	json_object_foreach(extra_of(g, mname, "owners"), k, v)
		synth_buf_printf(&g->b, "  %s: ModelStringInput\n", k);
	synth_buf_puts(&g->b, "}\n\n");
}

static void put_composite(gen *g, const char *mname, const char *index, const json_t *sort)
{
	char stem[NAME_MAX_LEN];
	size_t i;
	json_t *s;
	composite_stem(stem, mname, index);
	synth_buf_printf(&g->b,
			  "input %sCompositeKeyConditionInput {\n"
			  "  eq: %sCompositeKeyInput\n  le: %sCompositeKeyInput\n"
			  "  lt: %sCompositeKeyInput\n  ge: %sCompositeKeyInput\n"
			  "  gt: %sCompositeKeyInput\n  between: [%sCompositeKeyInput]\n"
			  "  beginsWith: %sCompositeKeyInput\n}\n\n",
			  stem, stem, stem, stem, stem, stem, stem, stem);
	synth_buf_printf(&g->b, "input %sCompositeKeyInput {\n", stem);
	json_array_foreach(sort, i, s) {
		const char *t = field_type(g, mname, json_string_value(s));
		/* Amplify writes the last field's AWS scalar as its base
		 * (AWSDate -> String, AWSTimestamp -> Int); enums as they are. */
		if (t && i + 1 == json_array_size(sort) && !strncmp(t, "AWS", 3))
			t = !strcmp(t, "AWSTimestamp") ? "Int" : "String";
		synth_buf_printf(&g->b, "  %s: %s\n", json_string_value(s), t ? t : "String");
	}
	synth_buf_puts(&g->b, "}\n\n");
}

static void put_model_inputs(gen *g, const char *mname, const json_t *m)
{
	unsigned set = model_modes(g, m);
	synth_buf_printf(&g->b, "type Model%sConnection", mname);
	put_modes(g, set, false);
	synth_buf_printf(&g->b, " {\n  items: [%s]!\n  nextToken: String\n}\n\n", mname);
	put_filter(g, mname, m, 0);
	put_filter(g, mname, m, 1);
	put_mutation_inputs(g, mname, m);
	put_filter(g, mname, m, 2);
	if (pk_nsort(m) > 1)
		put_composite(g, mname, NULL, json_object_get(model_pk(m), "sortKeyFields"));
	size_t i;
	json_t *ix;
	json_array_foreach(json_object_get(m, "indexes"), i, ix)
		if (json_array_size(json_object_get(ix, "sortKeyFields")) > 1 && jstr(ix, "queryField"))
			put_composite(g, mname, jstr(ix, "name"), json_object_get(ix, "sortKeyFields"));
}

static void put_type_input(gen *g, const char *tname, const json_t *t)
{
	char buf[NAME_MAX_LEN];
	const char *fname;
	json_t *f;
	synth_buf_printf(&g->b, "input %sInput {\n", tname);
	json_object_foreach(mfields(t), fname, f) {
		const char *it = input_type(buf, f);
		if (it)
			put_in(g, fname, f, it, jtrue(f, "required"));
	}
	synth_buf_puts(&g->b, "}\n\n");
}

static const char shared_sdl[] =
	"input ModelStringInput {\n  ne: String\n  eq: String\n  le: String\n  lt: String\n"
	"  ge: String\n  gt: String\n  contains: String\n  notContains: String\n"
	"  between: [String]\n  beginsWith: String\n  attributeExists: Boolean\n"
	"  attributeType: ModelAttributeTypes\n  size: ModelSizeInput\n}\n\n"
	"input ModelIntInput {\n  ne: Int\n  eq: Int\n  le: Int\n  lt: Int\n  ge: Int\n  gt: Int\n"
	"  between: [Int]\n  attributeExists: Boolean\n  attributeType: ModelAttributeTypes\n}\n\n"
	"input ModelFloatInput {\n  ne: Float\n  eq: Float\n  le: Float\n  lt: Float\n  ge: Float\n"
	"  gt: Float\n  between: [Float]\n  attributeExists: Boolean\n"
	"  attributeType: ModelAttributeTypes\n}\n\n"
	"input ModelBooleanInput {\n  ne: Boolean\n  eq: Boolean\n  attributeExists: Boolean\n"
	"  attributeType: ModelAttributeTypes\n}\n\n"
	"input ModelIDInput {\n  ne: ID\n  eq: ID\n  le: ID\n  lt: ID\n  ge: ID\n  gt: ID\n"
	"  contains: ID\n  notContains: ID\n  between: [ID]\n  beginsWith: ID\n"
	"  attributeExists: Boolean\n  attributeType: ModelAttributeTypes\n  size: ModelSizeInput\n}\n\n"
	"input ModelSubscriptionStringInput {\n  ne: String\n  eq: String\n  le: String\n"
	"  lt: String\n  ge: String\n  gt: String\n  contains: String\n  notContains: String\n"
	"  between: [String]\n  beginsWith: String\n  in: [String]\n  notIn: [String]\n}\n\n"
	"input ModelSubscriptionIntInput {\n  ne: Int\n  eq: Int\n  le: Int\n  lt: Int\n  ge: Int\n"
	"  gt: Int\n  between: [Int]\n  in: [Int]\n  notIn: [Int]\n}\n\n"
	"input ModelSubscriptionFloatInput {\n  ne: Float\n  eq: Float\n  le: Float\n  lt: Float\n"
	"  ge: Float\n  gt: Float\n  between: [Float]\n  in: [Float]\n  notIn: [Float]\n}\n\n"
	"input ModelSubscriptionBooleanInput {\n  ne: Boolean\n  eq: Boolean\n}\n\n"
	"input ModelSubscriptionIDInput {\n  ne: ID\n  eq: ID\n  le: ID\n  lt: ID\n  ge: ID\n"
	"  gt: ID\n  contains: ID\n  notContains: ID\n  between: [ID]\n  beginsWith: ID\n"
	"  in: [ID]\n  notIn: [ID]\n}\n\n"
	"enum ModelAttributeTypes {\n  binary\n  binarySet\n  bool\n  list\n  map\n  number\n"
	"  numberSet\n  string\n  stringSet\n  _null\n}\n\n"
	"input ModelSizeInput {\n  ne: Int\n  eq: Int\n  le: Int\n  lt: Int\n  ge: Int\n  gt: Int\n"
	"  between: [Int]\n}\n\n"
	"enum ModelSortDirection {\n  ASC\n  DESC\n}\n\n";

static void put_key_conditions(gen *g)
{
	static const char *const names[][2] = {{"String", "ModelStringKeyConditionInput"},
					       {"ID", "ModelIDKeyConditionInput"},
					       {"Int", "ModelIntKeyConditionInput"},
					       {"Float", "ModelFloatKeyConditionInput"}};
	for (int i = 0; i < 4; i++) {
		const char *t = names[i][0];
		synth_buf_printf(&g->b,
				  "input %s {\n  eq: %s\n  le: %s\n  lt: %s\n  ge: %s\n  gt: %s\n"
				  "  between: [%s]\n%s%s%s}\n\n",
				  names[i][1], t, t, t, t, t, t, i < 2 ? "  beginsWith: " : "",
				  i < 2 ? t : "", i < 2 ? "\n" : "");
	}
}

static void put_enum_inputs(gen *g)
{
	char n[NAME_MAX_LEN];
	const char *ename;
	json_t *e;
	json_object_foreach(g->enums, ename, e) {
		snprintf(n, sizeof n, "Model%sInput", ename);
		json_t *c = json_object_get(g->names, n);
		if (c && !json_object_get(c, "declared"))
			synth_buf_printf(&g->b, "input %s {\n  eq: %s\n  ne: %s\n}\n\n", n, ename, ename);
		snprintf(n, sizeof n, "Model%sListInput", ename);
		c = json_object_get(g->names, n);
		if (c && !json_object_get(c, "declared"))
			synth_buf_printf(&g->b,
					  "input %s {\n  eq: [%s]\n  ne: [%s]\n  contains: %s\n"
					  "  notContains: %s\n}\n\n",
					  n, ename, ename, ename, ename);
	}
}

/* The primary-key arguments of list (partition key optional, the sort key
 * condition, then filter, limit, nextToken, sortDirection). */
static void put_list_args(gen *g, const char *mname, const json_t *m)
{
	if (!pk_implicit(m)) {
		const char *pk = pk_field(m, 0);
		synth_buf_printf(&g->b, "%s: %s, ", pk, field_type(g, mname, pk));
		const json_t *sort = json_object_get(model_pk(m), "sortKeyFields");
		char arg[NAME_MAX_LEN], stem[NAME_MAX_LEN];
		sort_arg(arg, sort);
		if (json_array_size(sort) == 1) {
			synth_buf_printf(&g->b, "%s: %s, ", arg, key_cond(field_type(g, mname, arg)));
		} else if (json_array_size(sort) > 1) {
			composite_stem(stem, mname, NULL);
			synth_buf_printf(&g->b, "%s: %sCompositeKeyConditionInput, ", arg, stem);
		}
	}
	synth_buf_printf(&g->b, "filter: Model%sFilterInput, limit: Int, nextToken: String", mname);
	if (!pk_implicit(m))
		synth_buf_puts(&g->b, ", sortDirection: ModelSortDirection");
}

static void put_root_extra(gen *g, const char *root)
{
	const json_t *t = json_object_get(g->types, root);
	const char *fname;
	json_t *f;
	json_object_foreach(mfields(t), fname, f) {
		put_out_field(g, fname, f);
		synth_buf_putc(&g->b, '\n');
	}
}

static void put_query(gen *g)
{
	const char *mname;
	json_t *m;
	synth_gql_names o;
	synth_buf_puts(&g->b, "type Query {\n");
	json_object_foreach(g->models, mname, m) {
		synth__gql_names_model(&o, mname, m);
		if (o.get) {
			synth_buf_printf(&g->b, "  %s(", o.get);
			for (size_t i = 0; i <= pk_nsort(m); i++)
				synth_buf_printf(&g->b, "%s%s: %s!", i ? ", " : "", pk_field(m, i),
						  field_type(g, mname, pk_field(m, i)));
			synth_buf_printf(&g->b, "): %s", mname);
			put_modes(g, op_modes(g, m, "get"), false);
			synth_buf_putc(&g->b, '\n');
		}
		if (o.list) {
			synth_buf_printf(&g->b, "  %s(", o.list);
			put_list_args(g, mname, m);
			synth_buf_printf(&g->b, "): Model%sConnection", mname);
			put_modes(g, op_modes(g, m, "list"), false);
			synth_buf_putc(&g->b, '\n');
		}
		size_t i;
		json_t *ix;
		json_array_foreach(json_object_get(m, "indexes"), i, ix) {
			const char *qf = jstr(ix, "queryField"), *hash = jstr(ix, "field");
			if (!qf || !hash)
				continue;
			const json_t *sort = json_object_get(ix, "sortKeyFields");
			char arg[NAME_MAX_LEN], stem[NAME_MAX_LEN];
			synth_buf_printf(&g->b, "  %s(%s: %s!, ", qf, hash, field_type(g, mname, hash));
			sort_arg(arg, sort);
			if (json_array_size(sort) == 1) {
				synth_buf_printf(&g->b, "%s: %s, ", arg, key_cond(field_type(g, mname, arg)));
			} else if (json_array_size(sort) > 1) {
				composite_stem(stem, mname, jstr(ix, "name"));
				synth_buf_printf(&g->b, "%s: %sCompositeKeyConditionInput, ", arg, stem);
			}
			synth_buf_printf(&g->b,
					  "sortDirection: ModelSortDirection, filter: Model%sFilterInput, "
					  "limit: Int, nextToken: String): Model%sConnection",
					  mname, mname);
			put_modes(g, op_modes(g, m, "list"), false);
			synth_buf_putc(&g->b, '\n');
		}
	}
	put_root_extra(g, "Query");
	synth_buf_puts(&g->b, "}\n\n");
}

static bool any_mutation(gen *g)
{
	const char *mname;
	json_t *m;
	synth_gql_names o;
	json_object_foreach(g->models, mname, m) {
		synth__gql_names_model(&o, mname, m);
		if (o.create || o.update || o.del)
			return true;
	}
	return json_object_size(mfields(json_object_get(g->types, "Mutation"))) > 0;
}

static void put_mutation(gen *g)
{
	const char *mname;
	json_t *m;
	synth_gql_names o;
	if (!any_mutation(g))
		return;
	synth_buf_puts(&g->b, "type Mutation {\n");
	json_object_foreach(g->models, mname, m) {
		synth__gql_names_model(&o, mname, m);
		const char *names[] = {o.create, o.update, o.del};
		static const char *const ops[] = {"create", "update", "delete"};
		static const char *const in[] = {"Create", "Update", "Delete"};
		for (int i = 0; i < 3; i++) {
			if (!names[i])
				continue;
			synth_buf_printf(&g->b,
					  "  %s(input: %s%sInput!, condition: Model%sConditionInput): %s",
					  names[i], in[i], mname, mname, mname);
			put_modes(g, op_modes(g, m, ops[i]), false);
			synth_buf_putc(&g->b, '\n');
		}
	}
	put_root_extra(g, "Mutation");
	synth_buf_puts(&g->b, "}\n\n");
}

/* Calls back each subscription of M: its name and its mutation. */
static void put_subs_of(gen *g, const char *mname, const json_t *m, bool write, bool *any)
{
	synth_gql_names o;
	synth__gql_names_model(&o, mname, m);
	const char *muts[] = {o.create, o.update, o.del};
	unsigned set = op_modes(g, m, "listen");
	for (int i = 0; i < 3; i++) {
		for (size_t k = 0; k < o.non[i]; k++) {
			const char *name = synth__gql_names_on(&o, i, k);
			if (!name)
				continue;
			*any = true;
			if (!write)
				continue;
			synth_buf_printf(&g->b, "  %s(filter: ModelSubscription%sFilterInput", name, mname);
			/* owner rules that may listen get their owner argument */
			json_t *seen_rules = json_object_get(m, "auth");
			size_t r;
			json_t *rule;
			json_array_foreach(seen_rules, r, rule) {
				const char *of = jstr(rule, "ownerField");
				if (!of || strcmp(jstr(rule, "allow"), "owner") || !has_op(rule, "listen"))
					continue;
				bool dup = false;
				for (size_t q = 0; q < r; q++) {
					json_t *prev = json_array_get(seen_rules, q);
					if (jstr(prev, "ownerField") && !strcmp(jstr(prev, "ownerField"), of) &&
					    !strcmp(jstr(prev, "allow"), "owner") && has_op(prev, "listen"))
						dup = true;
				}
				if (!dup)
					synth_buf_printf(&g->b, ", %s: String", of);
			}
			synth_buf_printf(&g->b, "): %s @aws_subscribe(mutations: [\"%s\"])", mname, muts[i]);
			put_modes(g, set, false);
			synth_buf_putc(&g->b, '\n');
		}
	}
}

static void put_subscription(gen *g)
{
	const char *mname;
	json_t *m;
	bool any = json_object_size(mfields(json_object_get(g->types, "Subscription"))) > 0;
	json_object_foreach(g->models, mname, m)
		put_subs_of(g, mname, m, false, &any);
	if (!any)
		return;
	synth_buf_puts(&g->b, "type Subscription {\n");
	json_object_foreach(g->models, mname, m)
		put_subs_of(g, mname, m, true, &any);
	put_root_extra(g, "Subscription");
	synth_buf_puts(&g->b, "}\n\n");
}

static bool needs_key_conditions(const gen *g)
{
	const char *mname;
	json_t *m;
	json_object_foreach(g->models, mname, m) {
		if (pk_nsort(m))
			return true;
		size_t i;
		json_t *ix;
		json_array_foreach(json_object_get(m, "indexes"), i, ix)
			if (json_array_size(json_object_get(ix, "sortKeyFields")))
				return true;
	}
	return false;
}

/* Root operation names: unique across models, indexes and declared root
 * fields (a clash is an error at the later one). */
static int claim_op(gen *g, json_t *ops, const char *root, const char *name, const char *what,
		    const json_t *at)
{
	char key[NAME_MAX_LEN + 16];
	snprintf(key, sizeof key, "%s.%s", root, name);
	json_t *prev = json_object_get(ops, key);
	if (prev)
		return synth_error_setf(SYNTH_EINVALID,
					"%s:%d:%d: %s field '%s' (%s) clashes with %s", g->file, jline(at),
					jcol(at), root, name, what, json_string_value(prev));
	char desc[NAME_MAX_LEN + 64];
	snprintf(desc, sizeof desc, "%s", what);
	if (json_object_set_new(ops, key, json_string(desc)))
		return synth_error_oom();
	return 0;
}

static int check_ops(gen *g)
{
	json_t *ops = json_object();
	const char *mname, *fname;
	json_t *m, *f;
	char what[NAME_MAX_LEN + 64];
	int rc = 0;
	if (!ops)
		return synth_error_oom();
	json_object_foreach(g->models, mname, m) {
		synth_gql_names o;
		synth__gql_names_model(&o, mname, m);
		const char *q[] = {o.get, o.list}, *mu[] = {o.create, o.update, o.del};
		snprintf(what, sizeof what, "the operation Amplify generates for model '%s'", mname);
		for (int i = 0; i < 2 && !rc; i++)
			if (q[i])
				rc = claim_op(g, ops, "Query", q[i], what, m);
		for (int i = 0; i < 3 && !rc; i++)
			if (mu[i])
				rc = claim_op(g, ops, "Mutation", mu[i], what, m);
		size_t i;
		json_t *ix;
		json_array_foreach(json_object_get(m, "indexes"), i, ix) {
			if (rc || !jstr(ix, "queryField"))
				continue;
			snprintf(what, sizeof what, "the query of index '%s' of model '%s'", jstr(ix, "name"),
				 mname);
			rc = claim_op(g, ops, "Query", jstr(ix, "queryField"), what, ix);
		}
	}
	static const char *const roots[] = {"Query", "Mutation", "Subscription"};
	for (int r = 0; r < 3 && !rc; r++)
		json_object_foreach(mfields(json_object_get(g->types, roots[r])), fname, f) {
			if (rc)
				break;
			rc = claim_op(g, ops, roots[r], fname, "declared", f);
		}
	json_decref(ops);
	return rc;
}

static int default_mode(gen *g, const char *default_auth)
{
	for (size_t i = 0; default_auth && i < sizeof modes / sizeof modes[0]; i++)
		if (!strcmp(default_auth, modes[i].appsync)) {
			g->dflt = modes[i].bit;
			return 0;
		}
	return synth_error_setf(SYNTH_EINVALID,
				"unknown default authorization type '%s' (expected %s, %s, %s or %s)",
				default_auth ? default_auth : "(null)", SYNTH_GQL_AUTH_USER_POOLS,
				SYNTH_GQL_AUTH_API_KEY, SYNTH_GQL_AUTH_IAM, SYNTH_GQL_AUTH_OIDC);
}

static int gen_init(gen *g, json_t *model)
{
	memset(g, 0, sizeof *g);
	g->root = model;
	g->file = jstr(model, "file") ? jstr(model, "file") : "schema.graphql";
	g->models = json_object_get(model, "models");
	g->types = json_object_get(model, "types");
	g->interfaces = json_object_get(model, "interfaces");
	g->inputs = json_object_get(model, "inputs");
	g->enums = json_object_get(model, "enums");
	g->unions = json_object_get(model, "unions");
	if (!json_is_object(g->models) || !json_is_object(g->types))
		return synth_error_setf(SYNTH_EINVALID, "%s: not a schema model (no \"models\" or \"types\")",
					g->file);
	return 0;
}

static void gen_free(gen *g)
{
	json_decref(g->extra);
	json_decref(g->names);
	free(g->tmodes);
	synth_buf_free(&g->b);
}

static bool has_query(gen *g)
{
	const char *mname;
	json_t *m;
	json_object_foreach(g->models, mname, m) {
		synth_gql_names o;
		synth__gql_names_model(&o, mname, m);
		if (o.get || o.list)
			return true;
		size_t i;
		json_t *ix;
		json_array_foreach(json_object_get(m, "indexes"), i, ix)
			if (jstr(ix, "queryField"))
				return true;
	}
	return json_object_size(mfields(json_object_get(g->types, "Query"))) > 0;
}

int synth__gql_client_schema(char **sdl, json_t *model, const char *default_auth)
{
	return synth__gql_client_schema_ex(sdl, model, default_auth, 0);
}

int synth__gql_client_schema_ex(char **sdl, json_t *model, const char *default_auth, unsigned flags)
{
	gen g;
	int rc;
	*sdl = NULL;
	if ((rc = gen_init(&g, model)) || (rc = default_mode(&g, default_auth)))
		return rc;
	if (flags & SYNTH_GQL_IAM_ACCESS)
		g.also = MODE_IAM;
	if (build_extra(&g) || build_type_modes(&g)) {
		gen_free(&g);
		return synth_error_oom();
	}
	if ((rc = claim_all(&g)) || (rc = check_ops(&g))) {
		gen_free(&g);
		return rc;
	}
	if (!has_query(&g)) {
		gen_free(&g);
		return synth_error_setf(SYNTH_EINVALID,
					"%s: the schema has no query: AppSync needs at least one (every "
					"model's queries are disabled and no Query type is declared)",
					g.file);
	}
	if ((rc = put_declarations(&g))) {
		gen_free(&g);
		return rc;
	}
	const char *name;
	json_t *d;
	json_object_foreach(g.models, name, d)
		put_model_inputs(&g, name, d);
	json_object_foreach(g.types, name, d)
		if (!is_root(name) && type_modes(&g, name))
			put_type_input(&g, name, d);
	if (json_object_size(g.models)) {
		put_enum_inputs(&g);
		synth_buf_puts(&g.b, shared_sdl);
		if (needs_key_conditions(&g))
			put_key_conditions(&g);
	}
	put_query(&g);
	put_mutation(&g);
	put_subscription(&g);
	/* one newline at the end, not two */
	if (!g.b.oom && g.b.len > 1 && g.b.ptr[g.b.len - 1] == '\n' && g.b.ptr[g.b.len - 2] == '\n')
		g.b.ptr[--g.b.len] = '\0';
	char *out = synth_buf_detach(&g.b);
	gen_free(&g);
	if (!out)
		return synth_error_oom();
	*sdl = out;
	return 0;
}

/* --- 5. model introspection ------------------------------------------ */

/* A failed allocation anywhere marks *OK false; the tree is freed whole. */
/* Both return V, borrowed, or NULL when it could not be added (it is
 * freed then), so that nothing is added to a value already freed. */
static json_t *set(bool *ok, json_t *o, const char *k, json_t *v)
{
	if (json_object_set_new(o, k, v)) {
		*ok = false;
		return NULL;
	}
	return v;
}

static json_t *push(bool *ok, json_t *a, json_t *v)
{
	if (json_array_append_new(a, v)) {
		*ok = false;
		return NULL;
	}
	return v;
}

static json_t *strings(bool *ok, const json_t *arr)
{
	json_t *a = json_array();
	size_t i;
	json_t *v;
	if (!a)
		*ok = false;
	json_array_foreach(arr, i, v)
		push(ok, a, json_string(json_string_value(v)));
	return a;
}

/* A rule as Amplify writes it: provider (identityPool is "iam" to the
 * clients), the strategy's fields, and operations with `read` folded. */
static json_t *intro_rule(bool *ok, const json_t *r)
{
	json_t *o = json_object();
	const char *p = jstr(r, "provider");
	if (!o)
		*ok = false;
	set(ok, o, "allow", json_string(jstr(r, "allow")));
	set(ok, o, "provider", json_string(p && !strcmp(p, "identityPool") ? "iam" : p));
	static const char *const keys[] = {"ownerField", "identityClaim", "groupClaim", "groupsField", NULL};
	for (int i = 0; keys[i]; i++)
		if (jstr(r, keys[i]))
			set(ok, o, keys[i], json_string(jstr(r, keys[i])));
	if (json_object_get(r, "groups"))
		set(ok, o, "groups", strings(ok, json_object_get(r, "groups")));
	static const char *const reads[] = {"get", "list", "listen", "sync", "search"};
	bool all_reads = true;
	for (int i = 0; i < 5; i++)
		all_reads &= has_op(r, reads[i]);
	json_t *ops = set(ok, o, "operations", json_array());
	size_t i;
	json_t *v;
	bool read_done = false;
	json_array_foreach(json_object_get(r, "operations"), i, v) {
		const char *op = json_string_value(v);
		bool is_read = false;
		for (int k = 0; k < 5; k++)
			is_read |= op && !strcmp(op, reads[k]);
		if (is_read && all_reads) {
			if (!read_done)
				push(ok, ops, json_string("read"));
			read_done = true;
		} else {
			push(ok, ops, json_string(op));
		}
	}
	return o;
}

/* {"type": TYPE, "properties": PROPS}; steals PROPS. */
static json_t *attribute(bool *ok, const char *type, json_t *props)
{
	json_t *o = json_object();
	set(ok, o, "type", json_string(type));
	set(ok, o, "properties", props);
	return o;
}

static json_t *intro_auth(bool *ok, const json_t *rules)
{
	json_t *a = json_array();
	size_t i;
	json_t *r;
	if (!a)
		*ok = false;
	json_array_foreach(rules, i, r)
		push(ok, a, intro_rule(ok, r));
	json_t *props = json_object();
	set(ok, props, "rules", a);
	return attribute(ok, "auth", props);
}

/* The introspection type of a declared field (NULL: not representable). */
static json_t *intro_type(const char *type, const char *kind)
{
	if (!type || !kind)
		return NULL;
	if (!strcmp(kind, "scalar"))
		return json_string(type);
	if (!strcmp(kind, "enum"))
		return json_pack("{s:s}", "enum", type);
	if (!strcmp(kind, "model"))
		return json_pack("{s:s}", "model", type);
	if (!strcmp(kind, "type") || !strcmp(kind, "interface"))
		return json_pack("{s:s}", "nonModel", type);
	return NULL; /* unions: the format has no way to say it */
}

static json_t *intro_field(bool *ok, const char *name, json_t *type, bool list, bool required,
			   bool item_required)
{
	json_t *f = json_object();
	if (!f)
		*ok = false;
	set(ok, f, "name", json_string(name));
	set(ok, f, "isArray", json_boolean(list));
	set(ok, f, "type", type);
	set(ok, f, "isRequired", json_boolean(list ? item_required : required));
	set(ok, f, "attributes", json_array());
	if (list)
		set(ok, f, "isArrayNullable", json_boolean(!required));
	return f;
}

static json_t *intro_association(bool *ok, gen *g, const char *mname, const json_t *r)
{
	const char *kind = jstr(r, "kind"), *km = jstr(r, "keyModel"), *rel = jstr(r, "related");
	json_t *a = json_object();
	if (!a || !kind || !km || !rel) {
		*ok = a != NULL && *ok;
		return a;
	}
	json_t *keys = json_object_get(r, "keyFields");
	if (!strcmp(kind, "hasMany")) {
		set(ok, a, "connectionType", json_string("HAS_MANY"));
		set(ok, a, "associatedWith", strings(ok, keys));
	} else if (!strcmp(kind, "hasOne")) {
		set(ok, a, "connectionType", json_string("HAS_ONE"));
		if (!strcmp(km, mname)) {
			/* the key is here: associated with the related primary key */
			const json_t *rm = json_object_get(g->models, rel);
			json_t *with = set(ok, a, "associatedWith", json_array());
			for (size_t i = 0; rm && i <= pk_nsort(rm); i++)
				push(ok, with, json_string(pk_field(rm, i)));
			set(ok, a, "targetNames", strings(ok, keys));
		} else {
			set(ok, a, "associatedWith", strings(ok, keys));
			set(ok, a, "targetNames", json_array());
		}
	} else {
		set(ok, a, "connectionType", json_string("BELONGS_TO"));
		set(ok, a, "targetNames", strings(ok, keys));
	}
	return a;
}

static json_t *intro_model(bool *ok, gen *g, const char *mname, const json_t *m)
{
	json_t *o = json_object(), *fields = json_object();
	char pl[NAME_MAX_LEN];
	if (!o || !fields)
		*ok = false;
	set(ok, o, "name", json_string(mname));
	fields = set(ok, o, "fields", fields);
	if (pk_implicit(m) && !json_object_get(mfields(m), pk_field(m, 0)))
		set(ok, fields, pk_field(m, 0),
		    intro_field(ok, pk_field(m, 0), json_string("ID"), false, true, false));
	const char *fname;
	json_t *f;
	json_object_foreach(mfields(m), fname, f) {
		json_t *t = intro_type(jstr(f, "type"), jstr(f, "kind"));
		if (!t) {
			if (strcmp(jstr(f, "kind") ? jstr(f, "kind") : "", "union"))
				*ok = false; /* allocation */
			continue;
		}
		bool req = jtrue(f, "required");
		if (pk_implicit(m) && !strcmp(fname, pk_field(m, 0)))
			req = true;
		json_t *jf = set(ok, fields, fname,
				 intro_field(ok, fname, t, jtrue(f, "list"), req, jtrue(f, "listItemRequired")));
		if (json_object_get(f, "auth"))
			push(ok, json_object_get(jf, "attributes"), intro_auth(ok, json_object_get(f, "auth")));
		if (jstr(f, "relation")) {
			size_t i;
			json_t *r;
			json_array_foreach(json_object_get(m, "relations"), i, r)
				if (!strcmp(jstr(r, "field"), fname))
					set(ok, jf, "association", intro_association(ok, g, mname, r));
		}
	}
	static const char *const ts[] = {"createdAt", "updatedAt"};
	for (int i = 0; i < 2; i++) {
		const char *n = ts_name(m, ts[i]);
		if (!n || json_object_get(mfields(m), n))
			continue;
		json_t *jf = set(ok, fields, n, intro_field(ok, n, json_string("AWSDateTime"), false, false, false));
		set(ok, jf, "isReadOnly", json_true());
	}
	const char *k;
	json_t *v;
	json_object_foreach(extra_of(g, mname, "keys"), k, v)
		set(ok, fields, k, intro_field(ok, k, json_string(json_string_value(v)), false, false, false));
	json_object_foreach(extra_of(g, mname, "owners"), k, v)
		set(ok, fields, k, intro_field(ok, k, json_string("String"), false, false, false));
	set(ok, o, "syncable", json_true());
	synth__gql_names_plural(pl, sizeof pl, mname);
	set(ok, o, "pluralName", json_string(pl));
	json_t *attrs = set(ok, o, "attributes", json_array());
	json_t *opts = json_object_get(m, "options");
	push(ok, attrs, attribute(ok, "model", json_is_object(opts) ? json_deep_copy(opts) : json_object()));
	json_t *pkf = json_array();
	for (size_t i = 0; i <= pk_nsort(m); i++)
		push(ok, pkf, json_string(pk_field(m, i)));
	json_t *pkprops = json_object();
	set(ok, pkprops, "fields", pkf);
	push(ok, attrs, attribute(ok, "key", pkprops));
	size_t i;
	json_t *ix;
	json_array_foreach(json_object_get(m, "indexes"), i, ix) {
		json_t *props = json_object(), *fl = json_array();
		set(ok, props, "name", json_string(jstr(ix, "name")));
		if (jstr(ix, "queryField"))
			set(ok, props, "queryField", json_string(jstr(ix, "queryField")));
		push(ok, fl, json_string(jstr(ix, "field")));
		size_t s;
		json_t *sk;
		json_array_foreach(json_object_get(ix, "sortKeyFields"), s, sk)
			push(ok, fl, json_string(json_string_value(sk)));
		set(ok, props, "fields", fl);
		push(ok, attrs, attribute(ok, "key", props));
	}
	if (jtrue(m, "hasAuth") && json_array_size(json_object_get(m, "auth")))
		push(ok, attrs, intro_auth(ok, json_object_get(m, "auth")));
	json_t *info = set(ok, o, "primaryKeyInfo", json_object());
	set(ok, info, "isCustomPrimaryKey", json_boolean(!pk_implicit(m)));
	set(ok, info, "primaryKeyFieldName", json_string(pk_field(m, 0)));
	set(ok, info, "sortKeyFieldNames", strings(ok, json_object_get(model_pk(m), "sortKeyFields")));
	return o;
}

static json_t *intro_nonmodel(bool *ok, const char *name, const json_t *t)
{
	json_t *o = json_object(), *fields = json_object();
	if (!o || !fields)
		*ok = false;
	set(ok, o, "name", json_string(name));
	fields = set(ok, o, "fields", fields);
	const char *fname;
	json_t *f;
	json_object_foreach(mfields(t), fname, f) {
		json_t *ty = intro_type(jstr(f, "type"), jstr(f, "kind"));
		if (!ty) {
			if (strcmp(jstr(f, "kind") ? jstr(f, "kind") : "", "union"))
				*ok = false;
			continue;
		}
		set(ok, fields, fname,
		    intro_field(ok, fname, ty, jtrue(f, "list"), jtrue(f, "required"),
				jtrue(f, "listItemRequired")));
	}
	return o;
}

int synth__gql_model_introspection(json_t **out, json_t *model)
{
	gen g;
	int rc;
	bool ok = true;
	*out = NULL;
	if ((rc = gen_init(&g, model)))
		return rc;
	g.dflt = MODE_API_KEY; /* unused here */
	if (build_extra(&g)) {
		gen_free(&g);
		return synth_error_oom();
	}
	json_t *o = json_object();
	if (!o)
		ok = false;
	set(&ok, o, "version", json_integer(1));
	json_t *models = set(&ok, o, "models", json_object());
	json_t *enums = set(&ok, o, "enums", json_object());
	json_t *nonmodels = set(&ok, o, "nonModels", json_object());
	const char *name;
	json_t *d;
	json_object_foreach(g.models, name, d)
		set(&ok, models, name, intro_model(&ok, &g, name, d));
	json_object_foreach(g.enums, name, d)
	{
		json_t *e = json_object();
		set(&ok, e, "name", json_string(name));
		set(&ok, e, "values", strings(&ok, json_object_get(d, "values")));
		set(&ok, enums, name, e);
	}
	json_object_foreach(g.types, name, d)
		if (!is_root(name))
			set(&ok, nonmodels, name, intro_nonmodel(&ok, name, d));
	json_object_foreach(g.interfaces, name, d)
		set(&ok, nonmodels, name, intro_nonmodel(&ok, name, d));
	gen_free(&g);
	if (!ok) {
		json_decref(o);
		return synth_error_oom();
	}
	*out = o;
	return 0;
}

/*
 * The GraphQL SDL parser, stage 2: the parser state (errors, the arena,
 * hash tables, JSON helpers) and the recursive descent of the document into
 * an AST held in the arena (freed at once). It recurses only into nested
 * values and list types, at most SYNTH_GRAPHQL_MAX_DEPTH deep.
 */
#ifndef _DEFAULT_SOURCE
#define _DEFAULT_SOURCE
#endif
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <synth/common.h>
#include <synth/sys/util.h>
#include "graphql.h"
#include "gql_internal.h"

static const char *const punct_names[] = {
	"end of file", "'!'", "'$'", "'&'", "'('", "')'", "'...'", "':'",
	"'='", "'@'", "'['", "']'", "'{'", "'|'", "'}'"
};

/* --- errors and memory ----------------------------------------------------- */

int synth__gql_parse_fail(parser *p, loc at, const char *fmt, ...)
{
	if (p->failed)
		return -1;
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	synth_error_setf(SYNTH_EINVALID, "%s:%u:%u: %s", p->file, at.line, at.col, msg);
	p->failed = true;
	p->code = SYNTH_EINVALID;
	return -1;
}

int synth__gql_parse_oom(parser *p)
{
	if (!p->failed) {
		synth_error_oom();
		p->failed = true;
		p->code = SYNTH_ENOMEM;
	}
	return -1;
}

/* Zeroed memory from the arena; NULL (and the parser failed) when out of
 * memory. */
void *synth__gql_parse_alloc(parser *p, size_t n)
{
	if (n > SIZE_MAX / 4) {
		synth__gql_parse_oom(p);
		return NULL;
	}
	n = (n + 15) & ~(size_t)15;
	chunk *c = p->chunks;
	if (!c || c->cap - c->used < n) {
		size_t cap = n > CHUNK_SIZE ? n : CHUNK_SIZE;
		c = malloc(sizeof *c + cap);
		if (!c) {
			synth__gql_parse_oom(p);
			return NULL;
		}
		c->used = 0;
		c->cap = cap;
		c->next = p->chunks;
		p->chunks = c;
	}
	void *r = (char *)c->data + c->used;
	c->used += n;
	memset(r, 0, n);
	return r;
}


char *synth__gql_parse_strndup(parser *p, const char *s, size_t n)
{
	char *r = synth__gql_parse_alloc(p, n + 1);
	if (r) {
		memcpy(r, s, n);
		r[n] = '\0';
	}
	return r;
}

void synth__gql_parse_free(parser *p)
{
	while (p->chunks) {
		chunk *c = p->chunks;
		p->chunks = c->next;
		free(c);
	}
}

/* --- the hash table ------------------------------------------------------- */

static size_t hash_str(const char *s)
{
	size_t h = 14695981039346656037u;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211u;
	return h;
}

void *synth__gql_parse_ht_get(const htab *t, const char *key)
{
	if (!t->cap)
		return NULL;
	for (size_t i = hash_str(key) & (t->cap - 1);; i = (i + 1) & (t->cap - 1)) {
		if (!t->keys[i])
			return NULL;
		if (!strcmp(t->keys[i], key))
			return t->vals[i];
	}
}

/* Inserts KEY (borrowed: arena strings live as long as the table).
 * Returns the value already there (and inserts nothing), or NULL. */
void *synth__gql_parse_ht_put(parser *p, htab *t, const char *key, void *val)
{
	void *old = synth__gql_parse_ht_get(t, key);
	if (old)
		return old;
	if ((t->len + 1) * 2 > t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 16;
		const char **keys = synth__gql_parse_alloc(p, cap * sizeof *keys);
		void **vals = synth__gql_parse_alloc(p, cap * sizeof *vals);
		if (!keys || !vals)
			return NULL;
		for (size_t j = 0; j < t->cap; j++) {
			if (!t->keys[j])
				continue;
			size_t i = hash_str(t->keys[j]) & (cap - 1);
			while (keys[i])
				i = (i + 1) & (cap - 1);
			keys[i] = t->keys[j];
			vals[i] = t->vals[j];
		}
		t->keys = keys;
		t->vals = vals;
		t->cap = cap;
	}
	size_t i = hash_str(key) & (t->cap - 1);
	while (t->keys[i])
		i = (i + 1) & (t->cap - 1);
	t->keys[i] = key;
	t->vals[i] = val;
	t->len++;
	return NULL;
}

/* --- JSON helpers ------------------------------------------------------------ */

/* Sets O[K] = V (stolen); false (parser failed) when out of memory. */
bool synth__gql_parse_put(parser *p, json_t *o, const char *k, json_t *v)
{
	if (!o || !v || json_object_set_new(o, k, v)) {
		json_decref(v);
		synth__gql_parse_oom(p);
		return false;
	}
	return true;
}

bool synth__gql_parse_push(parser *p, json_t *a, json_t *v)
{
	if (!a || !v || json_array_append_new(a, v)) {
		json_decref(v);
		synth__gql_parse_oom(p);
		return false;
	}
	return true;
}

bool synth__gql_parse_put_loc(parser *p, json_t *o, loc at)
{
	return synth__gql_parse_put(p, o, "line", json_integer(at.line)) &&
	       synth__gql_parse_put(p, o, "column", json_integer(at.col));
}

/* --- the parser ------------------------------------------------------------- */

/* Describes the current token for "found ..." (one line, bounded). */
static void describe(const token *t, char *buf, size_t n)
{
	switch (t->kind) {
	case T_NAME:
		snprintf(buf, n, "name '%s'", t->text);
		break;
	case T_INT:
	case T_FLOAT:
		snprintf(buf, n, "number %s", t->text);
		break;
	case T_BLOCK:
		snprintf(buf, n, "a block string");
		break;
	case T_STRING: {
		/* at most 32 bytes, cut at a character boundary, controls as spaces */
		char q[40];
		size_t k = 0;
		const unsigned char *s = (const unsigned char *)t->text;
		while (s[k] && k < 32)
			k++;
		while (k && s[k] && (s[k] & 0xC0) == 0x80)
			k--;
		for (size_t j = 0; j < k; j++)
			q[j] = s[j] < 0x20 ? ' ' : (char)s[j];
		q[k] = '\0';
		snprintf(buf, n, "string \"%s%s\"", q, s[k] ? "..." : "");
		break;
	}
	default:
		snprintf(buf, n, "%s", punct_names[t->kind]);
	}
}

static int fail_expected(parser *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail_expected(parser *p, const char *fmt, ...)
{
	char what[600], found[400];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	describe(&p->tok, found, sizeof found);
	return synth__gql_parse_fail(p, p->tok.at, "expected %s, found %s", what, found);
}

static bool at(const parser *p, enum tok k)
{
	return p->tok.kind == k;
}

static bool at_name(const parser *p, const char *s)
{
	return p->tok.kind == T_NAME && !strcmp(p->tok.text, s);
}

static bool at_string(const parser *p)
{
	return p->tok.kind == T_STRING || p->tok.kind == T_BLOCK;
}

static int enter(parser *p)
{
	if (++p->depth > SYNTH_GRAPHQL_MAX_DEPTH)
		return synth__gql_parse_fail(p, p->tok.at, "nesting is too deep (more than %d levels)",
			    SYNTH_GRAPHQL_MAX_DEPTH);
	return 0;
}

static gval *parse_value(parser *p, const char *ctx);

/* The items of a list ('[' current) or an object ('{' current). */
static int parse_compound(parser *p, gval *v, const char *ctx)
{
	bool list = at(p, T_LBRACKET);
	gval **tail = &v->items;
	htab keys = {0};
	if (enter(p) || synth__gql_lex_next(p))
		return -1;
	while (!at(p, list ? T_RBRACKET : T_RBRACE)) {
		gval *item;
		if (list) {
			if (at(p, T_EOF))
				return fail_expected(p, "a value or ']' to close the list opened at %u:%u",
						     v->at.line, v->at.col);
			if (!(item = parse_value(p, ctx)))
				return -1;
		} else {
			if (!at(p, T_NAME))
				return fail_expected(p, "a field name or '}' in the object value opened at %u:%u",
						     v->at.line, v->at.col);
			const char *key = p->tok.text;
			loc key_at = p->tok.at;
			gval *dup = synth__gql_parse_ht_get(&keys, key);
			if (dup)
				return synth__gql_parse_fail(p, key_at,
						"duplicate field '%s' in an object value (first at %u:%u)",
					    key, dup->name_at.line, dup->name_at.col);
			if (synth__gql_lex_next(p))
				return -1;
			if (!at(p, T_COLON))
				return fail_expected(p, "':' after '%s' in an object value", key);
			if (synth__gql_lex_next(p) || !(item = parse_value(p, ctx)))
				return -1;
			item->name = key;
			item->name_at = key_at;
			synth__gql_parse_ht_put(p, &keys, key, item);
			if (p->failed)
				return -1;
		}
		*tail = item;
		tail = &item->next;
		v->nitems++;
	}
	p->depth--;
	return synth__gql_lex_next(p);
}

/* A constant value; CTX names its place for "expected a value for ...". */
static gval *parse_value(parser *p, const char *ctx)
{
	gval *v = NEW(p, gval);
	if (!v)
		return NULL;
	v->at = p->tok.at;
	v->s = p->tok.text;
	switch (p->tok.kind) {
	case T_INT:
		v->kind = V_INT;
		break;
	case T_FLOAT:
		v->kind = V_FLOAT;
		break;
	case T_STRING:
	case T_BLOCK:
		v->kind = V_STRING;
		break;
	case T_NAME:
		if (!strcmp(v->s, "true") || !strcmp(v->s, "false")) {
			v->kind = V_BOOL;
			v->b = v->s[0] == 't';
		} else if (!strcmp(v->s, "null")) {
			v->kind = V_NULL;
		} else {
			v->kind = V_ENUM;
		}
		break;
	case T_LBRACKET:
	case T_LBRACE:
		v->kind = at(p, T_LBRACKET) ? V_LIST : V_OBJECT;
		return parse_compound(p, v, ctx) ? NULL : v;
	case T_DOLLAR:
		synth__gql_parse_fail(p, p->tok.at,
				"variables are not allowed in a schema (found '$' in %s)", ctx);
		return NULL;
	default:
		fail_expected(p, "a value for %s", ctx);
		return NULL;
	}
	return synth__gql_lex_next(p) ? NULL : v;
}

/* '(' name: value ... ')' of directive D ('(' current). */
static int parse_arguments(parser *p, gdir *d)
{
	htab names = {0};
	gval **tail = &d->args;
	if (synth__gql_lex_next(p))
		return -1;
	if (at(p, T_RPAREN))
		return fail_expected(p, "an argument name for @%s", d->name);
	while (!at(p, T_RPAREN)) {
		if (!at(p, T_NAME))
			return fail_expected(p, "an argument name or ')' for @%s", d->name);
		const char *name = p->tok.text;
		loc name_at = p->tok.at;
		gval *dup = synth__gql_parse_ht_get(&names, name);
		if (dup)
			return synth__gql_parse_fail(p, name_at,
					"duplicate argument '%s' for @%s (first at %u:%u)", name,
				    d->name, dup->name_at.line, dup->name_at.col);
		if (synth__gql_lex_next(p))
			return -1;
		if (!at(p, T_COLON))
			return fail_expected(p, "':' after argument name '%s' of @%s", name, d->name);
		char ctx[300];
		snprintf(ctx, sizeof ctx, "argument '%s' of @%s", name, d->name);
		gval *v;
		if (synth__gql_lex_next(p) || !(v = parse_value(p, ctx)))
			return -1;
		v->name = name;
		v->name_at = name_at;
		synth__gql_parse_ht_put(p, &names, name, v);
		*tail = v;
		tail = &v->next;
	}
	return synth__gql_lex_next(p);
}

static gdir *parse_directives(parser *p)
{
	gdir *head = NULL, **tail = &head;
	while (!p->failed && at(p, T_AT)) {
		gdir *d = NEW(p, gdir);
		if (!d)
			return NULL;
		d->at = p->tok.at;
		if (synth__gql_lex_next(p))
			return NULL;
		if (!at(p, T_NAME)) {
			fail_expected(p, "a directive name after '@'");
			return NULL;
		}
		d->name = p->tok.text;
		if (synth__gql_lex_next(p))
			return NULL;
		if (at(p, T_LPAREN) && parse_arguments(p, d))
			return NULL;
		*tail = d;
		tail = &d->next;
	}
	return head;
}

/* A type reference: Name, [Type] or Type!. CTX names its owner. */
static gtype *parse_type(parser *p, const char *ctx)
{
	gtype *t = NEW(p, gtype);
	if (!t)
		return NULL;
	t->at = p->tok.at;
	if (at(p, T_LBRACKET)) {
		t->kind = TY_LIST;
		if (enter(p) || synth__gql_lex_next(p) || !(t->of = parse_type(p, ctx)))
			return NULL;
		if (!at(p, T_RBRACKET)) {
			fail_expected(p, "']' to close the list type opened at %u:%u", t->at.line, t->at.col);
			return NULL;
		}
		p->depth--;
	} else if (at(p, T_NAME)) {
		t->kind = TY_NAMED;
		t->name = p->tok.text;
	} else {
		fail_expected(p, "a type for %s", ctx);
		return NULL;
	}
	if (synth__gql_lex_next(p))
		return NULL;
	if (at(p, T_BANG)) {
		gtype *nn = NEW(p, gtype);
		if (!nn)
			return NULL;
		nn->kind = TY_NONNULL;
		nn->at = t->at;
		nn->of = t;
		if (synth__gql_lex_next(p))
			return NULL;
		return nn;
	}
	return t;
}

static bool is_keyword(const char *s)
{
	static const char *const kw[] = {"type", "interface", "input", "enum", "union", "scalar",
					 "schema", "directive", "extend", NULL};
	for (int j = 0; kw[j]; j++)
		if (!strcmp(s, kw[j]))
			return true;
	return false;
}

/* After a name: ':' Type. WHAT: "field" / "argument" / "input field". */
static int parse_colon_type(parser *p, gfield *f, const char *what)
{
	if (!at(p, T_COLON)) {
		/* "type Next {" after an unclosed body reads as field "type" */
		if (is_keyword(f->name) && at(p, T_NAME))
			return fail_expected(p, "':' after %s name '%s' (is a '}' missing before line %u?)",
					     what, f->name, f->at.line);
		return fail_expected(p, "':' after %s name '%s'", what, f->name);
	}
	char ctx[300];
	snprintf(ctx, sizeof ctx, "%s '%s'", what, f->name);
	if (synth__gql_lex_next(p) || !(f->type = parse_type(p, ctx)))
		return -1;
	return 0;
}

/* An argument or input field: Description? Name ':' Type ('=' Value)?
 * Directives?  (the name is current; DESC read before it). */
static gfield *parse_input_value(parser *p, const char *desc, const char *what)
{
	gfield *f = NEW(p, gfield);
	if (!f)
		return NULL;
	f->desc = desc;
	f->name = p->tok.text;
	f->at = p->tok.at;
	if (synth__gql_lex_next(p) || parse_colon_type(p, f, what))
		return NULL;
	if (at(p, T_EQUALS)) {
		char ctx[300];
		snprintf(ctx, sizeof ctx, "the default value of %s '%s'", what, f->name);
		if (synth__gql_lex_next(p) || !(f->defval = parse_value(p, ctx)))
			return NULL;
	}
	f->dirs = parse_directives(p);
	return p->failed ? NULL : f;
}

static const char *parse_description(parser *p)
{
	if (!at_string(p))
		return NULL;
	const char *d = p->tok.text;
	return synth__gql_lex_next(p) ? NULL : d;
}

/* '(' arguments ')' of field F ('(' current). */
static int parse_field_args(parser *p, gfield *f)
{
	gfield **tail = &f->args;
	if (synth__gql_lex_next(p))
		return -1;
	for (bool first = true;; first = false) {
		if (at(p, T_RPAREN) && !first)
			return synth__gql_lex_next(p);
		const char *desc = parse_description(p);
		if (p->failed)
			return -1;
		if (!at(p, T_NAME))
			return fail_expected(p, "an argument name%s of field '%s'",
					     first || desc ? "" : " or ')'", f->name);
		gfield *a = parse_input_value(p, desc, "argument");
		if (!a)
			return -1;
		*tail = a;
		tail = &a->next;
	}
}

const char *synth__gql_parse_kind_word(enum dkind k)
{
	static const char *const w[] = {"type", "interface", "input", "enum", "union", "scalar"};
	return w[k];
}

/* '{' ... '}' of definition D ('{' current): fields, input fields or
 * enum values. */
static int parse_body(parser *p, gdef *d)
{
	gfield **tail = &d->fields;
	d->body_at = p->tok.at;
	d->has_body = true;
	const char *what = d->kind == D_ENUM ? "an enum value" : "a field name";
	if (synth__gql_lex_next(p))
		return -1;
	for (bool first = true;; first = false) {
		if (at(p, T_RBRACE) && !first)
			return synth__gql_lex_next(p);
		const char *desc = parse_description(p);
		if (p->failed)
			return -1;
		if (!at(p, T_NAME)) {
			if (first || desc)
				return fail_expected(p, "%s in %s '%s'", what, synth__gql_parse_kind_word(d->kind), d->name);
			return fail_expected(p, "%s or '}' to close %s '%s' (opened at %u:%u)", what,
					     synth__gql_parse_kind_word(d->kind), d->name, d->body_at.line, d->body_at.col);
		}
		gfield *f;
		if (d->kind == D_INPUT) {
			if (!(f = parse_input_value(p, desc, "input field")))
				return -1;
		} else {
			if (!(f = NEW(p, gfield)))
				return -1;
			f->desc = desc;
			f->name = p->tok.text;
			f->at = p->tok.at;
			if (d->kind == D_ENUM && (!strcmp(f->name, "true") || !strcmp(f->name, "false") ||
						  !strcmp(f->name, "null")))
				return synth__gql_parse_fail(p, f->at,
						"an enum value cannot be named '%s'", f->name);
			if (synth__gql_lex_next(p))
				return -1;
			if (d->kind != D_ENUM) {
				if (at(p, T_LPAREN) && parse_field_args(p, f))
					return -1;
				if (parse_colon_type(p, f, "field"))
					return -1;
			}
			f->dirs = parse_directives(p);
			if (p->failed)
				return -1;
		}
		*tail = f;
		tail = &f->next;
	}
}

/* A list of names: implemented interfaces ('&'-separated) or union
 * members ('|'-separated); the first is current. */
static int parse_name_list(parser *p, gfield **tail, enum tok sep, const char *what)
{
	if (at(p, sep) && synth__gql_lex_next(p))
		return -1;
	for (;;) {
		if (!at(p, T_NAME))
			return fail_expected(p, "%s", what);
		gfield *f = NEW(p, gfield);
		if (!f)
			return -1;
		f->name = p->tok.text;
		f->at = p->tok.at;
		*tail = f;
		tail = &f->next;
		if (synth__gql_lex_next(p))
			return -1;
		if (!at(p, sep))
			return 0;
		if (synth__gql_lex_next(p))
			return -1;
	}
}

static int parse_definition(parser *p)
{
	const char *desc = parse_description(p);
	if (p->failed)
		return -1;
	static const struct { const char *kw; enum dkind kind; } kinds[] = {
		{"type", D_OBJECT}, {"interface", D_INTERFACE}, {"input", D_INPUT},
		{"enum", D_ENUM}, {"union", D_UNION}, {"scalar", D_SCALAR},
	};
	const char *expected = "a type definition (type, enum, input, interface, union)";
	if (!at(p, T_NAME))
		return fail_expected(p, "%s", expected);
	const char *kw = p->tok.text;
	if (!strcmp(kw, "schema") || !strcmp(kw, "directive"))
		return synth__gql_parse_fail(p, p->tok.at,
				"'%s' definitions are not supported in an Amplify schema", kw);
	if (!strcmp(kw, "extend"))
		return synth__gql_parse_fail(p, p->tok.at,
				"type extensions ('extend') are not supported in an Amplify schema");
	gdef *d = NULL;
	for (size_t j = 0; j < sizeof kinds / sizeof *kinds; j++) {
		if (!strcmp(kw, kinds[j].kw)) {
			if (!(d = NEW(p, gdef)))
				return -1;
			d->kind = kinds[j].kind;
		}
	}
	if (!d)
		return fail_expected(p, "%s", expected);
	d->desc = desc;
	if (synth__gql_lex_next(p))
		return -1;
	if (!at(p, T_NAME))
		return fail_expected(p, "a name after '%s'", kw);
	d->name = p->tok.text;
	d->at = p->tok.at;
	if (synth__gql_lex_next(p))
		return -1;
	if ((d->kind == D_OBJECT || d->kind == D_INTERFACE) && at_name(p, "implements")) {
		if (synth__gql_lex_next(p) || parse_name_list(p, &d->ifaces, T_AMP,
				"an interface name after 'implements'"))
			return -1;
	}
	d->dirs = parse_directives(p);
	if (p->failed)
		return -1;
	if (d->kind == D_UNION) {
		if (at(p, T_EQUALS)) {
			d->body_at = p->tok.at;
			d->has_body = true;
			if (synth__gql_lex_next(p) ||
			    parse_name_list(p, &d->fields, T_PIPE, "a member type name in the union"))
				return -1;
		}
	} else if (d->kind != D_SCALAR && at(p, T_LBRACE)) {
		if (parse_body(p, d))
			return -1;
	}
	*p->defs_tail = d;
	p->defs_tail = &d->next;
	return 0;
}

int synth__gql_parse_document(parser *p)
{
	if (synth__gql_lex_next(p))
		return -1;
	if (at(p, T_EOF))
		return synth__gql_parse_fail(p, (loc){1, 1}, "the schema is empty: no type definitions");
	while (!at(p, T_EOF))
		if (parse_definition(p))
			return -1;
	return 0;
}

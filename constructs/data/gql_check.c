/*
 * The GraphQL SDL parser, stage 3: the semantic pass. Names and types
 * (pass 1 and 2), directives and the Amplify rules per type (pass 2),
 * relations across models (pass 3), building the JSON model as it goes.
 */
#ifndef _DEFAULT_SOURCE
#define _DEFAULT_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <synth/common.h>
#include <synth/sys/util.h>
#include "graphql.h"
#include "gql_internal.h"

/* --- types ------------------------------------------------------------------ */

static const char *const builtin_scalars[] = {
	"ID", "String", "Int", "Float", "Boolean", "AWSDate", "AWSTime", "AWSDateTime",
	"AWSTimestamp", "AWSEmail", "AWSJSON", "AWSPhone", "AWSURL", "AWSIPAddress", NULL
};

bool synth__graphql_is_scalar(const char *name)
{
	for (int j = 0; builtin_scalars[j]; j++)
		if (!strcmp(name, builtin_scalars[j]))
			return true;
	return false;
}

/* A field's type, unwrapped: T, T!, [T], [T!], [T]!, [T!]!. */
typedef struct tinfo {
	const char *name;
	loc at;               /* the named type */
	bool required, list, item_required, nested;
} tinfo;

static tinfo type_info(const gtype *t)
{
	tinfo r = {0};
	if (t->kind == TY_NONNULL) {
		r.required = true;
		t = t->of;
	}
	if (t->kind == TY_LIST) {
		r.list = true;
		t = t->of;
		if (t->kind == TY_NONNULL) {
			r.item_required = true;
			t = t->of;
		}
	}
	if (t->kind != TY_NAMED)
		r.nested = true;
	while (t->kind != TY_NAMED)
		t = t->of;
	r.name = t->name;
	r.at = t->at;
	return r;
}

static void append(char *buf, size_t n, size_t *o, const char *s)
{
	while (*s && *o + 1 < n)
		buf[(*o)++] = *s++;
	buf[*o] = '\0';
}

/* The type as written, e.g. "[String!]!" (truncated to N - 1 bytes). */
static void type_str(const gtype *t, char *buf, size_t n)
{
	/* lists nest at most SYNTH_GRAPHQL_MAX_DEPTH deep, each maybe non-null */
	const gtype *chain[2 * SYNTH_GRAPHQL_MAX_DEPTH + 4];
	size_t k = 0, o = 0;
	for (; t->kind != TY_NAMED && k < sizeof chain / sizeof *chain; t = t->of)
		chain[k++] = t;
	buf[0] = '\0';
	for (size_t i = 0; i < k; i++)
		if (chain[i]->kind == TY_LIST)
			append(buf, n, &o, "[");
	append(buf, n, &o, t->kind == TY_NAMED ? t->name : "...");
	for (size_t i = k; i-- > 0;)
		append(buf, n, &o, chain[i]->kind == TY_LIST ? "]" : "!");
}

enum tk { TK_UNKNOWN, TK_SCALAR, TK_ENUM, TK_MODEL, TK_TYPE, TK_INTERFACE, TK_UNION, TK_INPUT };
static const char *const tk_names[] = {"unknown", "scalar", "enum", "model", "type",
				       "interface", "union", "input"};
static const char *const tk_articles[] = {"an unknown type", "a scalar", "an enum", "a @model type",
					  "an object type", "an interface", "a union", "an input"};

static enum tk type_kind(const parser *p, const char *name, gdef **def)
{
	gdef *d = synth__gql_parse_ht_get(&p->types, name);
	if (def)
		*def = d;
	if (!d)
		return synth__graphql_is_scalar(name) ? TK_SCALAR : TK_UNKNOWN;
	switch (d->kind) {
	case D_OBJECT:
		return d->is_model ? TK_MODEL : TK_TYPE;
	case D_INTERFACE:
		return TK_INTERFACE;
	case D_INPUT:
		return TK_INPUT;
	case D_ENUM:
		return TK_ENUM;
	case D_UNION:
		return TK_UNION;
	default:
		return TK_UNKNOWN;
	}
}

static gfield *field_of(const gdef *d, const char *name)
{
	return synth__gql_parse_ht_get(&d->ftab, name);
}

/* Scalar or enum, and not a list: what keys and @default accept. */
static bool is_key_type(const parser *p, const gfield *f)
{
	tinfo ti = type_info(f->type);
	enum tk k = type_kind(p, ti.name, NULL);
	return !ti.list && (k == TK_SCALAR || k == TK_ENUM);
}

static void describe_value(const gval *v, char *buf, size_t n)
{
	switch (v->kind) {
	case V_INT:
	case V_FLOAT:
		snprintf(buf, n, "number %s", v->s);
		break;
	case V_STRING:
		snprintf(buf, n, "a string");
		break;
	case V_BOOL:
		snprintf(buf, n, "boolean %s", v->b ? "true" : "false");
		break;
	case V_NULL:
		snprintf(buf, n, "null");
		break;
	case V_ENUM:
		snprintf(buf, n, "enum value %s", v->s);
		break;
	case V_LIST:
		snprintf(buf, n, "a list");
		break;
	case V_OBJECT:
		snprintf(buf, n, "an object");
		break;
	}
}

static bool valid_name(const char *s)
{
	if (!synth__gql_lex_is_name_start((unsigned char)*s))
		return false;
	for (s++; *s; s++)
		if (!synth__gql_lex_is_name_cont((unsigned char)*s))
			return false;
	return true;
}

/* --- scalar literals (@default values, default values) ---------------------- */

static bool all_digits(const char *s, size_t n)
{
	if (!n)
		return false;
	for (size_t j = 0; j < n; j++)
		if (!synth__gql_lex_is_digit((unsigned char)s[j]))
			return false;
	return true;
}

/* An optionally signed decimal integer within [lo, hi]. */
static bool int_text(const char *s, long long lo, long long hi, long long *out)
{
	const char *d = s + (*s == '-' || *s == '+');
	if (!all_digits(d, strlen(d)))
		return false;
	errno = 0;
	long long v = strtoll(s, NULL, 10);
	if (errno || v < lo || v > hi)
		return false;
	if (out)
		*out = v;
	return true;
}

static bool float_text(const char *s, double *out)
{
	if (!*s || strspn(s, "0123456789+-.eE") != strlen(s))
		return false;
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (*end || errno || !isfinite(v))
		return false;
	if (out)
		*out = v;
	return true;
}

static int num2(const char *s)
{
	return synth__gql_lex_is_digit((unsigned char)s[0]) && synth__gql_lex_is_digit((unsigned char)s[1]) ?
		       (s[0] - '0') * 10 + (s[1] - '0') : -1;
}

/* YYYY-MM-DD, a real day (leap years included). */
static bool date_text(const char *s)
{
	if (strlen(s) < 10 || !all_digits(s, 4) || s[4] != '-' || s[7] != '-')
		return false;
	int y = atoi(s), m = num2(s + 5), d = num2(s + 8);
	static const int days[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	if (m < 1 || m > 12 || d < 1 || d > days[m - 1])
		return false;
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	return !(m == 2 && d == 29 && !leap);
}

/* hh:mm:ss(.s+)? then Z or +hh:mm / -hh:mm (required if ZONE). Returns
 * false if anything follows. MAXSEC: 59, or 60 for a leap second. */
static bool time_text(const char *s, bool zone, int maxsec)
{
	int h = num2(s);
	if (h < 0 || h > 23 || s[2] != ':')
		return false;
	int m = num2(s + 3);
	if (m < 0 || m > 59 || s[5] != ':')
		return false;
	int sec = num2(s + 6);
	if (sec < 0 || sec > maxsec)
		return false;
	s += 8;
	if (*s == '.') {
		size_t k = strspn(s + 1, "0123456789");
		if (!k)
			return false;
		s += 1 + k;
	}
	if (!*s)
		return !zone;
	if (*s == 'Z')
		return !s[1];
	if (*s != '+' && *s != '-')
		return false;
	int zh = num2(s + 1), zm = s[1] && s[2] && s[3] == ':' ? num2(s + 4) : -1;
	return zh >= 0 && zh <= 23 && zm >= 0 && zm <= 59 && !s[6];
}

static bool email_text(const char *s)
{
	static const char local_chars[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
					  "0123456789.!#$%&'*+/=?^_`{|}~-";
	const char *at = strchr(s, '@');
	if (!at || at == s || strspn(s, local_chars) != (size_t)(at - s))
		return false;
	/* labels: alphanumeric at both ends, hyphens inside, 1-63 characters */
	const char *l = at + 1;
	for (;;) {
		size_t k = strspn(l, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-");
		if (!k || k > 63 || l[0] == '-' || l[k - 1] == '-')
			return false;
		if (!l[k])
			return true;
		if (l[k] != '.')
			return false;
		l += k + 1;
	}
}

/* scheme ':' something, no whitespace or controls. */
static bool url_text(const char *s)
{
	if (!synth__gql_lex_is_name_start((unsigned char)*s) || *s == '_')
		return false;
	size_t k = 1 + strspn(s + 1, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+.-");
	if (s[k] != ':' || !s[k + 1])
		return false;
	for (const unsigned char *c = (const unsigned char *)s; *c; c++)
		if (*c <= ' ' || *c == 0x7F)
			return false;
	return true;
}

/* E.164-like: an optional '+', digits in groups separated by spaces,
 * hyphens, dots or parentheses; 5 to 15 digits. */
static bool phone_text(const char *s)
{
	size_t digits = 0;
	if (*s == '+')
		s++;
	for (; *s; s++) {
		if (synth__gql_lex_is_digit((unsigned char)*s))
			digits++;
		else if (!strchr(" -.()", *s))
			return false;
	}
	return digits >= 5 && digits <= 15;
}

/* IPv4 or IPv6, with an optional /prefix. */
static bool ip_text(const char *s)
{
	char buf[64];
	size_t n = strlen(s);
	if (n >= sizeof buf)
		return false;
	memcpy(buf, s, n + 1);
	char *slash = strchr(buf, '/');
	long long prefix = -1;
	if (slash) {
		*slash = '\0';
		if (!int_text(slash + 1, 0, 128, &prefix) || slash[1] == '+' || slash[1] == '-')
			return false;
	}
	unsigned char addr[16];
	if (inet_pton(AF_INET, buf, addr) == 1)
		return prefix <= 32;
	return inet_pton(AF_INET6, buf, addr) == 1;
}

/* JSON syntax (RFC 8259), checked without allocating: the end of the
 * string, number or literal at S, or NULL. */
static const char *json_scalar_end(const char *s)
{
	if (*s == '"') {
		for (s++; *s != '"'; s++) {
			if ((unsigned char)*s < 0x20)
				return NULL; /* controls, and the end of S */
			if (*s == '\\') {
				s++;
				if (*s == 'u') {
					for (int j = 1; j <= 4; j++)
						if (synth_hex_value((unsigned char)s[j]) < 0)
							return NULL;
					s += 4;
				} else if (!*s || !strchr("\"\\/bfnrt", *s)) {
					return NULL;
				}
			}
		}
		return s + 1;
	}
	static const char *const literals[] = {"true", "false", "null"};
	for (int j = 0; j < 3; j++)
		if (!strncmp(s, literals[j], strlen(literals[j])))
			return s + strlen(literals[j]);
	if (*s == '-')
		s++;
	if (*s == '0')
		s++;
	else if (synth__gql_lex_is_digit((unsigned char)*s))
		while (synth__gql_lex_is_digit((unsigned char)*s))
			s++;
	else
		return NULL;
	if (*s == '.') {
		if (!synth__gql_lex_is_digit((unsigned char)*++s))
			return NULL;
		while (synth__gql_lex_is_digit((unsigned char)*s))
			s++;
	}
	if (*s == 'e' || *s == 'E') {
		s += s[1] == '+' || s[1] == '-' ? 2 : 1;
		if (!synth__gql_lex_is_digit((unsigned char)*s))
			return NULL;
		while (synth__gql_lex_is_digit((unsigned char)*s))
			s++;
	}
	return s;
}

static const char *json_ws(const char *s)
{
	while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
		s++;
	return s;
}

/* Is S one JSON value? Iterative: arrays and objects up to 256 deep. */
static bool json_text(const char *s)
{
	char stack[256];
	size_t depth = 0;
	enum { VALUE, AFTER, KEY } state = VALUE;
	for (;;) {
		s = json_ws(s);
		if (state == KEY) {
			if (*s != '"' || !(s = json_scalar_end(s)))
				return false;
			s = json_ws(s);
			if (*s++ != ':')
				return false;
			state = VALUE;
		} else if (state == VALUE) {
			if (*s == '[' || *s == '{') {
				if (depth == sizeof stack)
					return false;
				char close = *s == '[' ? ']' : '}';
				stack[depth++] = close;
				s = json_ws(s + 1);
				if (*s == close) {
					s++;
					depth--;
					state = AFTER;
				} else {
					state = close == '}' ? KEY : VALUE;
				}
			} else {
				if (!(s = json_scalar_end(s)))
					return false;
				state = AFTER;
			}
		} else {
			if (!depth)
				return !*s;
			if (*s == ',') {
				s++;
				state = stack[depth - 1] == '}' ? KEY : VALUE;
			} else if (*s == stack[depth - 1]) {
				s++;
				depth--;
			} else {
				return false;
			}
		}
	}
}

/* Is S (a string) a valid value of scalar TYPE? */
static bool scalar_text_ok(const char *type, const char *s)
{
	if (!strcmp(type, "Int"))
		return int_text(s, INT32_MIN, INT32_MAX, NULL);
	if (!strcmp(type, "AWSTimestamp"))
		return int_text(s, LLONG_MIN, LLONG_MAX, NULL);
	if (!strcmp(type, "Float"))
		return float_text(s, NULL);
	if (!strcmp(type, "Boolean"))
		return !strcasecmp(s, "true") || !strcasecmp(s, "false");
	if (!strcmp(type, "AWSDate"))
		return date_text(s) && !s[10];
	if (!strcmp(type, "AWSTime"))
		return time_text(s, false, 59);
	if (!strcmp(type, "AWSDateTime"))
		return date_text(s) && s[10] == 'T' && time_text(s + 11, true, 60);
	if (!strcmp(type, "AWSEmail"))
		return email_text(s);
	if (!strcmp(type, "AWSURL"))
		return url_text(s);
	if (!strcmp(type, "AWSPhone"))
		return phone_text(s);
	if (!strcmp(type, "AWSIPAddress"))
		return ip_text(s);
	if (!strcmp(type, "AWSJSON"))
		return json_text(s);
	return true; /* ID, String */
}

/* --- values to JSON -------------------------------------------------------------- */

static json_t *value_json(parser *p, const gval *v)
{
	json_t *j = NULL;
	switch (v->kind) {
	case V_INT:
	case V_FLOAT: {
		long long x;
		double d;
		if (v->kind == V_INT && int_text(v->s, LLONG_MIN, LLONG_MAX, &x)) {
			j = json_integer(x);
		} else if (float_text(v->s, &d)) { /* a float, or an integer beyond 64 bits */
			j = json_real(d);
		} else {
			synth__gql_parse_fail(p, v->at, "number %s is out of range", v->s);
			return NULL;
		}
		break;
	}
	case V_STRING:
	case V_ENUM:
		j = json_string(v->s);
		break;
	case V_BOOL:
		j = json_boolean(v->b);
		break;
	case V_NULL:
		j = json_null();
		break;
	case V_LIST:
		j = json_array();
		for (const gval *i = v->items; i && j; i = i->next) {
			json_t *e = value_json(p, i);
			if (!e || !synth__gql_parse_push(p, j, e)) {
				json_decref(j);
				return NULL;
			}
		}
		break;
	case V_OBJECT:
		j = json_object();
		for (const gval *i = v->items; i && j; i = i->next) {
			json_t *e = value_json(p, i);
			if (!e || !synth__gql_parse_put(p, j, i->name, e)) {
				json_decref(j);
				return NULL;
			}
		}
		break;
	}
	if (!j)
		synth__gql_parse_oom(p);
	return j;
}

/* Arguments as an object, NULL on failure. */
static json_t *args_json(parser *p, const gval *args)
{
	json_t *o = json_object();
	if (!o) {
		synth__gql_parse_oom(p);
		return NULL;
	}
	for (const gval *a = args; a; a = a->next) {
		json_t *e = value_json(p, a);
		if (!e || !synth__gql_parse_put(p, o, a->name, e)) {
			json_decref(o);
			return NULL;
		}
	}
	return o;
}

/* Directives as written: {name: args} ({"index": [args, ...]}). */
static json_t *dirs_json(parser *p, const gdir *dirs)
{
	json_t *o = json_object();
	if (!o) {
		synth__gql_parse_oom(p);
		return NULL;
	}
	for (const gdir *d = dirs; d; d = d->next) {
		json_t *a = args_json(p, d->args);
		if (!a)
			goto fail;
		if (!strcmp(d->name, "index")) {
			json_t *arr = json_object_get(o, "index");
			if (!arr && !synth__gql_parse_put(p, o, "index", arr = json_array())) {
				json_decref(a);
				goto fail;
			}
			if (!synth__gql_parse_push(p, arr, a))
				goto fail;
		} else if (!synth__gql_parse_put(p, o, d->name, a)) {
			goto fail;
		}
	}
	return o;
fail:
	json_decref(o);
	return NULL;
}

/* --- directives: the table --------------------------------------------------------- */

enum akind { A_STRING, A_STRINGS, A_INT, A_OBJECT, A_OBJECTS };
static const char *const akind_names[] = {"a string", "a list of strings", "an Int", "an object",
					  "a list of objects"};

typedef struct argspec {
	const char *name;
	enum akind kind;
	bool required;
} argspec;

enum {
	W_OBJECT = 1, W_FIELD = 2, W_INTERFACE = 4, W_IFIELD = 8, W_INPUT = 16,
	W_INPUT_FIELD = 32, W_ARG = 64, W_ENUM = 128, W_ENUM_VALUE = 256, W_UNION = 512
};

typedef struct dirspec {
	const char *name;
	unsigned where;
	bool repeatable;
	bool model_only;      /* only on @model types and their fields */
	const char *belongs;  /* where it goes, for messages */
	const argspec *args;
	const char *arg_names;
} dirspec;

static const argspec model_args[] = {{"queries", A_OBJECT, false}, {"mutations", A_OBJECT, false},
				     {"subscriptions", A_OBJECT, false}, {"timestamps", A_OBJECT, false},
				     {NULL, 0, false}};
static const argspec auth_args[] = {{"rules", A_OBJECTS, true}, {NULL, 0, false}};
static const argspec pk_args[] = {{"sortKeyFields", A_STRINGS, false}, {NULL, 0, false}};
static const argspec index_args[] = {{"name", A_STRING, false}, {"sortKeyFields", A_STRINGS, false},
				     {"queryField", A_STRING, false}, {"projection", A_OBJECT, false},
				     {NULL, 0, false}};
static const argspec has_many_args[] = {{"indexName", A_STRING, false}, {"fields", A_STRINGS, false},
					{"references", A_STRINGS, false}, {"limit", A_INT, false},
					{NULL, 0, false}};
static const argspec has_one_args[] = {{"indexName", A_STRING, false}, {"fields", A_STRINGS, false},
				       {"references", A_STRINGS, false}, {NULL, 0, false}};
static const argspec belongs_to_args[] = {{"fields", A_STRINGS, false},
					  {"references", A_STRINGS, false}, {NULL, 0, false}};
static const argspec default_args[] = {{"value", A_STRING, true}, {NULL, 0, false}};
static const argspec deprecated_args[] = {{"reason", A_STRING, false}, {NULL, 0, false}};

static const dirspec dirspecs[] = {
	{"model", W_OBJECT, false, false, "object types", model_args,
	 "queries, mutations, subscriptions or timestamps"},
	{"auth", W_OBJECT | W_FIELD, false, true, "@model types and their fields", auth_args, "rules"},
	{"primaryKey", W_FIELD, false, true, "a field of a @model type", pk_args, "sortKeyFields"},
	{"index", W_FIELD, true, true, "fields of @model types", index_args,
	 "name, sortKeyFields, queryField or projection"},
	{"hasMany", W_FIELD, false, true, "fields of @model types", has_many_args,
	 "indexName, fields, references or limit"},
	{"hasOne", W_FIELD, false, true, "fields of @model types", has_one_args,
	 "indexName, fields or references"},
	{"belongsTo", W_FIELD, false, true, "fields of @model types", belongs_to_args,
	 "fields or references"},
	{"default", W_FIELD, false, true, "scalar and enum fields of @model types", default_args, "value"},
	{"deprecated", W_FIELD | W_IFIELD | W_INPUT_FIELD | W_ARG | W_ENUM_VALUE, false, false,
	 "fields, arguments and enum values", deprecated_args, "reason"},
};
#define NDIRSPECS (sizeof dirspecs / sizeof *dirspecs)

static const dirspec *find_dirspec(const char *name)
{
	for (size_t j = 0; j < NDIRSPECS; j++)
		if (!strcmp(dirspecs[j].name, name))
			return &dirspecs[j];
	return NULL;
}

/* The argument NAME of D, or NULL; arg_nn: NULL for an explicit null too. */
static gval *arg(const gdir *d, const char *name)
{
	for (gval *a = d->args; a; a = a->next)
		if (!strcmp(a->name, name))
			return a;
	return NULL;
}

static gval *arg_nn(const gdir *d, const char *name)
{
	gval *a = arg(d, name);
	return a && a->kind != V_NULL ? a : NULL;
}

static gdir *dir(const gdir *dirs, const char *name)
{
	for (const gdir *d = dirs; d; d = d->next)
		if (!strcmp(d->name, name))
			return (gdir *)d;
	return NULL;
}

/* GraphQL's input coercion of one item to a list: "x" -> ["x"]. */
static int wrap_in_list(parser *p, gval *v)
{
	gval *item = NEW(p, gval);
	if (!item)
		return -1;
	*item = *v;
	item->next = NULL;
	item->name = NULL;
	v->kind = V_LIST;
	v->items = item;
	v->nitems = 1;
	return 0;
}

static int check_arg_type(parser *p, const gdir *d, const argspec *as, gval *v)
{
	char found[300];
	if (v->kind == V_NULL) {
		if (as->required)
			return synth__gql_parse_fail(p, v->at,
					"argument '%s' of @%s cannot be null", as->name, d->name);
		return 0;
	}
	const gval *bad = NULL;
	switch (as->kind) {
	case A_STRING:
		if (v->kind != V_STRING)
			bad = v;
		break;
	case A_INT:
		if (v->kind != V_INT || !int_text(v->s, INT32_MIN, INT32_MAX, NULL))
			bad = v;
		break;
	case A_OBJECT:
		if (v->kind != V_OBJECT)
			bad = v;
		break;
	case A_STRINGS:
	case A_OBJECTS: {
		enum vkind want = as->kind == A_STRINGS ? V_STRING : V_OBJECT;
		if (v->kind == want) {
			if (wrap_in_list(p, v))
				return -1;
		} else if (v->kind != V_LIST) {
			bad = v;
		}
		for (const gval *i = v->items; !bad && v->kind == V_LIST && i; i = i->next)
			if (i->kind != want)
				bad = i;
		break;
	}
	}
	if (bad) {
		describe_value(bad, found, sizeof found);
		return synth__gql_parse_fail(p, bad->at,
				"argument '%s' of @%s must be %s, found %s", as->name, d->name,
			    akind_names[as->kind], found);
	}
	return 0;
}

/* Checks the directives of one element: known, allowed there, not
 * repeated, known arguments of the right types, required ones present.
 * WHERE is one W_ bit; PLACE names the element ("field 'x' of type 'T'"). */
static int check_directives(parser *p, gdir *dirs, unsigned where, const char *place)
{
	const gdir *seen[NDIRSPECS] = {0};
	for (gdir *d = dirs; d; d = d->next) {
		const dirspec *s = find_dirspec(d->name);
		if (!s)
			return synth__gql_parse_fail(p, d->at, "unknown directive @%s", d->name);
		if (!(s->where & where))
			return synth__gql_parse_fail(p, d->at,
					"@%s is not allowed on %s: it belongs on %s", d->name, place,
				    s->belongs);
		size_t k = (size_t)(s - dirspecs);
		if (seen[k] && !s->repeatable)
			return synth__gql_parse_fail(p, d->at,
					"@%s appears twice on %s (first at %u:%u)", d->name, place,
				    seen[k]->at.line, seen[k]->at.col);
		seen[k] = d;
		for (gval *a = d->args; a; a = a->next) {
			const argspec *as = s->args;
			while (as->name && strcmp(as->name, a->name))
				as++;
			if (!as->name)
				return synth__gql_parse_fail(p, a->name_at,
						"unknown argument '%s' for @%s (expected %s)",
					    a->name, d->name, s->arg_names);
			if (check_arg_type(p, d, as, a))
				return -1;
		}
		for (const argspec *as = s->args; as->name; as++)
			if (as->required && !arg(d, as->name))
				return synth__gql_parse_fail(p, d->at,
						"@%s needs the argument '%s'", d->name, as->name);
	}
	return 0;
}

/* --- pass 1: names ------------------------------------------------------------------- */

static int check_reserved(parser *p, const char *name, loc at)
{
	if (name[0] == '_' && name[1] == '_')
		return synth__gql_parse_fail(p, at, "names starting with '__' are reserved: '%s'", name);
	return 0;
}

/* The fields Amplify adds to a model, in its member table (not in its
 * list of fields): `id: ID!` without a @primaryKey, and the timestamps
 * createdAt and updatedAt (AWSDateTime!, renamed or removed by
 * @model(timestamps: ...)), unless declared. */
static int add_implicit_fields(parser *p, gdef *m)
{
	bool has_pk = false;
	for (const gfield *f = m->fields; f && !has_pk; f = f->next)
		has_pk = dir(f->dirs, "primaryKey") != NULL;
	const char *names[3] = {has_pk ? NULL : "id", "createdAt", "updatedAt"};
	const gval *ts = arg(dir(m->dirs, "model"), "timestamps");
	if (ts && ts->kind == V_NULL)
		names[1] = names[2] = NULL;
	for (const gval *i = ts && ts->kind == V_OBJECT ? ts->items : NULL; i; i = i->next) {
		int k = !strcmp(i->name, "createdAt") ? 1 : !strcmp(i->name, "updatedAt") ? 2 : 0;
		if (k)
			names[k] = i->kind == V_STRING && valid_name(i->s) ? i->s : NULL;
	}
	m->timestamps[0] = names[1];
	m->timestamps[1] = names[2];
	for (int k = 0; k < 3; k++) {
		if (!names[k] || field_of(m, names[k]))
			continue;
		gfield *f = NEW(p, gfield);
		gtype *nn = NEW(p, gtype), *t = NEW(p, gtype);
		if (!f || !nn || !t)
			return -1;
		t->kind = TY_NAMED;
		t->name = k ? "AWSDateTime" : "ID";
		t->at = nn->at = f->at = m->at;
		nn->kind = TY_NONNULL;
		nn->of = t;
		f->name = names[k];
		f->type = nn;
		synth__gql_parse_ht_put(p, &m->ftab, f->name, f);
		if (p->failed)
			return -1;
	}
	return 0;
}

/* Registers every type and builds its member table. */
static int collect(parser *p)
{
	for (gdef *d = p->defs; d; d = d->next) {
		if (check_reserved(p, d->name, d->at))
			return -1;
		if (synth__graphql_is_scalar(d->name))
			return synth__gql_parse_fail(p, d->at,
					"'%s' is a built-in scalar and cannot be redefined", d->name);
		gdef *old = synth__gql_parse_ht_put(p, &p->types, d->name, d);
		if (p->failed)
			return -1;
		if (old)
			return synth__gql_parse_fail(p, d->at,
					"duplicate type '%s' (first defined at %u:%u)", d->name,
				    old->at.line, old->at.col);
		if (d->kind == D_SCALAR)
			return synth__gql_parse_fail(p, d->at,
					"custom scalar '%s' is not supported (AppSync has none): "
				    "use a built-in scalar such as String or AWSJSON", d->name);
		d->is_model = d->kind == D_OBJECT && dir(d->dirs, "model");
		const char *what = d->kind == D_ENUM ? "value" : d->kind == D_UNION ? "member" : "field";
		for (gfield *f = d->fields; f; f = f->next) {
			if (check_reserved(p, f->name, f->at))
				return -1;
			gfield *dup = synth__gql_parse_ht_put(p, &d->ftab, f->name, f);
			if (p->failed)
				return -1;
			if (dup)
				return synth__gql_parse_fail(p, f->at,
						"duplicate %s '%s' in %s '%s' (first at %u:%u)", what,
					    f->name, synth__gql_parse_kind_word(d->kind), d->name, dup->at.line, dup->at.col);
		}
		if (d->is_model && add_implicit_fields(p, d))
			return -1;
	}
	return 0;
}

/* --- pass 2: types and fields ------------------------------------------------------------ */

/* S for a message: at most 32 bytes (cut at a character boundary),
 * control characters as spaces, "..." if cut. */
static const char *snip(const char *s, char *buf, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t k = 0;
	while (u[k] && k < 32 && k + 4 < n)
		k++;
	while (k && u[k] && (u[k] & 0xC0) == 0x80)
		k--;
	for (size_t j = 0; j < k; j++)
		buf[j] = u[j] < 0x20 ? ' ' : (char)u[j];
	snprintf(buf + k, n - k, "%s", u[k] ? "..." : "");
	return buf;
}

/* A type reference: known, of the right category, no nested lists. */
static int check_type_ref(parser *p, const gtype *t, bool input, const char *place)
{
	tinfo ti = type_info(t);
	if (ti.nested) {
		char ts[400];
		type_str(t, ts, sizeof ts);
		return synth__gql_parse_fail(p, t->at,
				"nested lists such as %s are not supported (%s)", ts, place);
	}
	enum tk k = type_kind(p, ti.name, NULL);
	if (k == TK_UNKNOWN)
		return synth__gql_parse_fail(p, ti.at, "unknown type '%s' for %s", ti.name, place);
	if (input && k != TK_SCALAR && k != TK_ENUM && k != TK_INPUT)
		return synth__gql_parse_fail(p, ti.at,
				"%s must have an input type (a scalar, an enum or an input), "
			    "but '%s' is %s", place, ti.name, tk_articles[k]);
	if (!input && k == TK_INPUT)
		return synth__gql_parse_fail(p, ti.at,
				"%s cannot have the input type '%s': inputs are for arguments",
			    place, ti.name);
	return 0;
}

static bool put_type(parser *p, json_t *o, const gtype *t)
{
	tinfo ti = type_info(t);
	return synth__gql_parse_put(p, o, "type", json_string(ti.name)) &&
	       synth__gql_parse_put(p, o, "kind", json_string(tk_names[type_kind(p, ti.name, NULL)])) &&
	       synth__gql_parse_put(p, o, "required", json_boolean(ti.required)) &&
	       synth__gql_parse_put(p, o, "list", json_boolean(ti.list)) &&
	       synth__gql_parse_put(p, o, "listItemRequired", json_boolean(ti.item_required));
}

/* GraphQL's input coercion of constant V to type T (default values). */
static int check_const(parser *p, gval *v, const gtype *t, const char *place)
{
	if (v->kind == V_NULL) {
		if (t->kind == TY_NONNULL)
			return synth__gql_parse_fail(p, v->at, "%s cannot be null", place);
		return 0;
	}
	if (t->kind == TY_NONNULL)
		t = t->of;
	if (t->kind == TY_LIST) {
		if (v->kind != V_LIST)
			return check_const(p, v, t->of, place);
		for (gval *i = v->items; i; i = i->next)
			if (check_const(p, i, t->of, place))
				return -1;
		return 0;
	}
	gdef *d;
	enum tk k = type_kind(p, t->name, &d);
	bool ok = true;
	const char *n = t->name;
	if (k == TK_SCALAR) {
		if (!strcmp(n, "Int"))
			ok = v->kind == V_INT && int_text(v->s, INT32_MIN, INT32_MAX, NULL);
		else if (!strcmp(n, "AWSTimestamp"))
			ok = v->kind == V_INT && int_text(v->s, LLONG_MIN, LLONG_MAX, NULL);
		else if (!strcmp(n, "Float"))
			ok = (v->kind == V_INT || v->kind == V_FLOAT) && float_text(v->s, NULL);
		else if (!strcmp(n, "Boolean"))
			ok = v->kind == V_BOOL;
		else if (!strcmp(n, "ID"))
			ok = v->kind == V_STRING || v->kind == V_INT;
		else
			ok = v->kind == V_STRING && scalar_text_ok(n, v->s);
	} else if (k == TK_ENUM) {
		ok = v->kind == V_ENUM && field_of(d, v->s);
	} else if (k == TK_INPUT) {
		ok = v->kind == V_OBJECT;
		htab seen = {0};
		for (gval *i = ok ? v->items : NULL; i; i = i->next) {
			gfield *f = field_of(d, i->name);
			if (!f)
				return synth__gql_parse_fail(p, i->name_at,
						"%s: '%s' is not a field of input '%s'", place,
					    i->name, d->name);
			if (check_const(p, i, f->type, place))
				return -1;
			synth__gql_parse_ht_put(p, &seen, i->name, i);
			if (p->failed)
				return -1;
		}
		for (gfield *f = ok ? d->fields : NULL; f; f = f->next)
			if (f->type->kind == TY_NONNULL && !f->defval && !synth__gql_parse_ht_get(&seen, f->name))
				return synth__gql_parse_fail(p, v->at,
						"%s: the required field '%s' of input '%s' is missing",
					    place, f->name, d->name);
	}
	if (!ok) {
		char found[300], ts[400], q[48];
		if (v->kind == V_STRING)
			snprintf(found, sizeof found, "\"%s\"", snip(v->s, q, sizeof q));
		else
			describe_value(v, found, sizeof found);
		type_str(t, ts, sizeof ts);
		return synth__gql_parse_fail(p, v->at, "%s: %s is not a valid %s", place, found, ts);
	}
	return 0;
}

static json_t *field_json(parser *p, const gfield *f)
{
	json_t *o = json_object(), *dj = NULL;
	if (!o) {
		synth__gql_parse_oom(p);
		return NULL;
	}
	if (!put_type(p, o, f->type) || !(dj = dirs_json(p, f->dirs)) || !synth__gql_parse_put(p, o,
			"directives", dj) ||
	    !synth__gql_parse_put_loc(p, o, f->at) || (f->desc && !synth__gql_parse_put(p, o,
			"description", json_string(f->desc))))
		goto fail;
	if (f->defval) {
		json_t *v = value_json(p, f->defval);
		if (!v || !synth__gql_parse_put(p, o, "defaultValue", v))
			goto fail;
	}
	if (f->args) {
		json_t *args = json_object();
		if (!synth__gql_parse_put(p, o, "arguments", args))
			goto fail;
		for (const gfield *a = f->args; a; a = a->next) {
			json_t *aj = json_object(), *v, *adj = NULL;
			if (!synth__gql_parse_put(p, args, a->name, aj) || !put_type(p, aj, a->type) ||
			    !(adj = dirs_json(p, a->dirs)) || !synth__gql_parse_put(p, aj,
					"directives", adj) ||
			    !synth__gql_parse_put_loc(p, aj, a->at) ||
			    (a->desc && !synth__gql_parse_put(p, aj, "description", json_string(a->desc))))
				goto fail;
			if (a->defval && (!(v = value_json(p, a->defval)) || !synth__gql_parse_put(p, aj,
					"defaultValue", v)))
				goto fail;
		}
	}
	return o;
fail:
	json_decref(o);
	return NULL;
}

static bool is_relation(const char *name)
{
	return !strcmp(name, "hasMany") || !strcmp(name, "hasOne") || !strcmp(name, "belongsTo");
}

static gdir *relation_dir(const gfield *f)
{
	for (gdir *d = f->dirs; d; d = d->next)
		if (is_relation(d->name))
			return d;
	return NULL;
}

static int check_fields(parser *p, gdef *d, json_t *o)
{
	if (!d->fields)
		return synth__gql_parse_fail(p, d->at,
				"%s '%s' has no fields", synth__gql_parse_kind_word(d->kind), d->name);
	bool input = d->kind == D_INPUT;
	unsigned where = input ? W_INPUT_FIELD : d->kind == D_INTERFACE ? W_IFIELD : W_FIELD;
	json_t *fields = json_object();
	if (!synth__gql_parse_put(p, o, "fields", fields))
		return -1;
	for (gfield *f = d->fields; f; f = f->next) {
		char place[600], aplace[900];
		snprintf(place, sizeof place, "%s '%s' of %s '%s'", input ? "input field" : "field",
			 f->name, synth__gql_parse_kind_word(d->kind), d->name);
		if (check_type_ref(p, f->type, input, place))
			return -1;
		if (f->defval) {
			snprintf(aplace, sizeof aplace, "the default value of %s", place);
			if (check_const(p, f->defval, f->type, aplace))
				return -1;
		}
		htab names = {0};
		for (gfield *a = f->args; a; a = a->next) {
			snprintf(aplace, sizeof aplace, "argument '%s' of %s", a->name, place);
			if (check_reserved(p, a->name, a->at))
				return -1;
			gfield *dup = synth__gql_parse_ht_put(p, &names, a->name, a);
			if (p->failed)
				return -1;
			if (dup)
				return synth__gql_parse_fail(p, a->at,
						"duplicate argument '%s' of %s (first at %u:%u)", a->name,
					    place, dup->at.line, dup->at.col);
			if (check_type_ref(p, a->type, true, aplace) ||
			    (a->defval && check_const(p, a->defval, a->type, aplace)) ||
			    check_directives(p, a->dirs, W_ARG, aplace))
				return -1;
		}
		if (check_directives(p, f->dirs, where, place))
			return -1;
		for (gdir *fd = f->dirs; fd && !d->is_model; fd = fd->next)
			if (find_dirspec(fd->name)->model_only)
				return synth__gql_parse_fail(p, fd->at,
						"@%s needs a @model type: '%s' is not a @model", fd->name,
					    d->name);
		tinfo ti = type_info(f->type);
		if (!input && type_kind(p, ti.name, NULL) == TK_MODEL && !relation_dir(f)) {
			if (!d->is_model)
				return synth__gql_parse_fail(p, ti.at,
						"%s refers to the @model '%s': only @model types can "
					    "refer to models (with @hasMany, @hasOne or @belongsTo)", place, ti.name);
			return synth__gql_parse_fail(p, ti.at,
					"%s refers to the @model '%s' without a relation: "
				    "add @hasMany, @hasOne or @belongsTo", place, ti.name);
		}
		json_t *fj = field_json(p, f);
		if (!fj || !synth__gql_parse_put(p, fields, f->name, fj))
			return -1;
	}
	return 0;
}

static int check_implements(parser *p, gdef *d, json_t *o)
{
	json_t *arr = json_array();
	if (!synth__gql_parse_put(p, o, "interfaces", arr))
		return -1;
	htab seen = {0};
	for (gfield *i = d->ifaces; i; i = i->next) {
		gdef *idef = synth__gql_parse_ht_get(&p->types, i->name);
		if (!idef)
			return synth__gql_parse_fail(p, i->at,
					"unknown interface '%s' implemented by %s '%s'", i->name,
				    synth__gql_parse_kind_word(d->kind), d->name);
		if (idef->kind != D_INTERFACE)
			return synth__gql_parse_fail(p, i->at,
					"'%s' is not an interface, so %s '%s' cannot implement it",
				    i->name, synth__gql_parse_kind_word(d->kind), d->name);
		if (idef == d)
			return synth__gql_parse_fail(p, i->at,
					"interface '%s' cannot implement itself", d->name);
		gfield *dup = synth__gql_parse_ht_put(p, &seen, i->name, i);
		if (p->failed)
			return -1;
		if (dup)
			return synth__gql_parse_fail(p, i->at,
					"%s '%s' implements '%s' twice", synth__gql_parse_kind_word(d->kind), d->name,
				    i->name);
		for (gfield *f = idef->fields; f; f = f->next)
			if (!field_of(d, f->name))
				return synth__gql_parse_fail(p, i->at,
						"%s '%s' implements '%s' but has no field '%s'",
					    synth__gql_parse_kind_word(d->kind), d->name, i->name, f->name);
		if (!synth__gql_parse_push(p, arr, json_string(i->name)))
			return -1;
	}
	return 0;
}

static int check_enum(parser *p, gdef *d, json_t *o)
{
	if (!d->fields)
		return synth__gql_parse_fail(p, d->at, "enum '%s' has no values", d->name);
	json_t *values = json_array();
	if (!synth__gql_parse_put(p, o, "values", values))
		return -1;
	for (gfield *v = d->fields; v; v = v->next) {
		char place[600];
		snprintf(place, sizeof place, "value '%s' of enum '%s'", v->name, d->name);
		if (check_directives(p, v->dirs, W_ENUM_VALUE, place) ||
		    !synth__gql_parse_push(p, values, json_string(v->name)))
			return -1;
	}
	return 0;
}

static int check_union(parser *p, gdef *d, json_t *o)
{
	if (!d->fields)
		return synth__gql_parse_fail(p, d->at, "union '%s' has no member types", d->name);
	json_t *types = json_array();
	if (!synth__gql_parse_put(p, o, "types", types))
		return -1;
	for (gfield *m = d->fields; m; m = m->next) {
		gdef *md = synth__gql_parse_ht_get(&p->types, m->name);
		if (!md && !synth__graphql_is_scalar(m->name))
			return synth__gql_parse_fail(p, m->at,
					"unknown type '%s' in union '%s'", m->name, d->name);
		if (!md || md->kind != D_OBJECT)
			return synth__gql_parse_fail(p, m->at,
					"member '%s' of union '%s' must be an object type, but it is %s",
				    m->name, d->name, tk_articles[type_kind(p, m->name, NULL)]);
		if (!synth__gql_parse_push(p, types, json_string(m->name)))
			return -1;
	}
	return 0;
}

/* --- pass 2: @model types ------------------------------------------------------------------ */

/* @model(queries: {get, list}, mutations: {create, update, delete},
 * subscriptions: {onCreate, onUpdate, onDelete, level}, timestamps:
 * {createdAt, updatedAt}): names of operations and fields, or null. */
static int check_model_options(parser *p, const gdir *md)
{
	static const struct { const char *arg, *keys[5], *expected; } shapes[] = {
		{"queries", {"get", "list"}, "get or list"},
		{"mutations", {"create", "update", "delete"}, "create, update or delete"},
		{"subscriptions", {"onCreate", "onUpdate", "onDelete", "level"},
		 "onCreate, onUpdate, onDelete or level"},
		{"timestamps", {"createdAt", "updatedAt"}, "createdAt or updatedAt"},
	};
	for (const gval *a = md->args; a; a = a->next) {
		if (a->kind == V_NULL)
			continue;
		size_t s = 0;
		while (strcmp(shapes[s].arg, a->name))
			s++;
		for (gval *i = a->items; i; i = i->next) {
			size_t k = 0;
			while (k < 5 && shapes[s].keys[k] && strcmp(shapes[s].keys[k], i->name))
				k++;
			if (k == 5 || !shapes[s].keys[k])
				return synth__gql_parse_fail(p, i->name_at,
						"unknown field '%s' in @model(%s: ...) (expected %s)",
					    i->name, a->name, shapes[s].expected);
			if (i->kind == V_NULL)
				continue;
			if (!strcmp(i->name, "level")) {
				if (i->kind != V_ENUM || (strcmp(i->s, "off") && strcmp(i->s, "public") &&
							  strcmp(i->s, "on")))
					return synth__gql_parse_fail(p, i->at,
							"subscriptions level of @model must be off, public or on");
				continue;
			}
			bool list_ok = !strcmp(a->name, "subscriptions");
			if (list_ok && i->kind == V_STRING && wrap_in_list(p, i))
				return -1;
			const gval *bad = NULL;
			if (list_ok ? i->kind != V_LIST : i->kind != V_STRING)
				bad = i;
			for (const gval *e = list_ok && !bad ? i->items : NULL; e && !bad; e = e->next)
				if (e->kind != V_STRING)
					bad = e;
			if (bad) {
				char found[300];
				describe_value(bad, found, sizeof found);
				return synth__gql_parse_fail(p, bad->at,
						"%s.%s of @model must be %s or null, found %s", a->name,
					    i->name, list_ok ? "a list of names" : "a name", found);
			}
			for (const gval *e = list_ok ? i->items : i; e; e = list_ok ? e->next : NULL)
				if (!valid_name(e->s)) {
					char q[48];
					return synth__gql_parse_fail(p, e->at,
							"\"%s\" in %s.%s of @model is not a valid GraphQL name",
						    snip(e->s, q, sizeof q), a->name, i->name);
				}
		}
	}
	return 0;
}

/* sortKeyFields of @primaryKey or @index on field F of model M. */
static int check_key_fields(parser *p, gdef *m, const gfield *f, const gval *sk, const char *what,
			    bool required)
{
	htab seen = {0};
	for (const gval *s = sk ? sk->items : NULL; s; s = s->next) {
		char q[48];
		gfield *g = field_of(m, s->s);
		if (!g)
			return synth__gql_parse_fail(p, s->at,
					"sortKeyFields of %s on '%s.%s' names '%s', which is not a field of '%s'",
				    what, m->name, f->name, snip(s->s, q, sizeof q), m->name);
		if (g == f)
			return synth__gql_parse_fail(p, s->at,
					"%s field '%s' cannot be its own sort key", what, f->name);
		if (synth__gql_parse_ht_put(p, &seen, g->name, g))
			return synth__gql_parse_fail(p, s->at, "sort key field '%s' is named twice", g->name);
		if (p->failed)
			return -1;
		if (!is_key_type(p, g))
			return synth__gql_parse_fail(p, s->at,
					"sort key field '%s' of '%s' must be a scalar or enum, not a list or object",
				    g->name, m->name);
		if (required && g->type->kind != TY_NONNULL)
			return synth__gql_parse_fail(p, s->at,
					"sort key field '%s' of the primary key of '%s' must be required (add '!')",
				    g->name, m->name);
	}
	return 0;
}

static json_t *string_list(parser *p, const gval *list)
{
	json_t *a = json_array();
	if (!a)
		synth__gql_parse_oom(p);
	for (const gval *s = list ? list->items : NULL; s && a; s = s->next)
		if (!synth__gql_parse_push(p, a, json_string(s->s))) {
			json_decref(a);
			return NULL;
		}
	return a;
}

static int check_primary_key(parser *p, gdef *m, json_t *o)
{
	gdir *pkd = NULL;
	gfield *pkf = NULL;
	for (gfield *f = m->fields; f; f = f->next) {
		for (gdir *d = f->dirs; d; d = d->next) {
			if (strcmp(d->name, "primaryKey"))
				continue;
			if (pkd)
				return synth__gql_parse_fail(p, d->at,
						"only one @primaryKey is allowed in '%s' (the first is at %u:%u)",
					    m->name, pkd->at.line, pkd->at.col);
			pkd = d;
			pkf = f;
		}
	}
	json_t *pk = json_object();
	if (!synth__gql_parse_put(p, o, "primaryKey", pk))
		return -1;
	if (!pkd)
		return synth__gql_parse_put(p, pk,
				"field", json_string("id")) && synth__gql_parse_put(p, pk, "sortKeyFields", json_array()) &&
		       synth__gql_parse_put(p, pk, "implicit", json_true()) ? 0 : -1;
	if (!is_key_type(p, pkf))
		return synth__gql_parse_fail(p, pkd->at,
				"@primaryKey field '%s' of '%s' must be a scalar or enum, not a list or object",
			    pkf->name, m->name);
	if (pkf->type->kind != TY_NONNULL)
		return synth__gql_parse_fail(p, pkd->at,
				"@primaryKey field '%s' of '%s' must be required (add '!')", pkf->name,
			    m->name);
	gval *sk = arg_nn(pkd, "sortKeyFields");
	if (check_key_fields(p, m, pkf, sk, "@primaryKey", true))
		return -1;
	m->pk = pkf;
	m->npk_sort = sk ? sk->nitems : 0;
	m->pk_sort = synth__gql_parse_alloc(p, (m->npk_sort + 1) * sizeof *m->pk_sort);
	if (!m->pk_sort)
		return -1;
	size_t i = 0;
	for (const gval *s = sk ? sk->items : NULL; s; s = s->next)
		m->pk_sort[i++] = s->s;
	return synth__gql_parse_put(p, pk, "field", json_string(pkf->name)) &&
	       synth__gql_parse_put(p, pk,
			"sortKeyFields", string_list(p, sk)) && synth__gql_parse_put(p, pk, "implicit", json_false()) ? 0 : -1;
}

/* --- @auth ---------------------------------------------------------------------------------- */

enum { ST_OWNER, ST_GROUPS, ST_PRIVATE, ST_PUBLIC };
static const char *const strategies[] = {"owner", "groups", "private", "public", NULL};
static const char *const providers[] = {"apiKey", "iam", "identityPool", "oidc", "userPools",
					"function", NULL};
/* providers allowed per strategy: bits of providers[] */
static const unsigned provider_ok[] = {1u << 4 | 1u << 3, 1u << 4 | 1u << 3,
				       1u << 4 | 1u << 3 | 1u << 1 | 1u << 2, 1u << 0 | 1u << 1 | 1u << 2};
static const char *const provider_ok_text[] = {"userPools or oidc", "userPools or oidc",
					       "userPools, oidc, iam or identityPool",
					       "apiKey, iam or identityPool"};
static const char *const default_provider[] = {"userPools", "userPools", "userPools", "apiKey"};
static const char *const operations[] = {"create", "update", "delete", "get", "list", "listen",
					 "sync", "search", "read", NULL};
#define OPS_ALL 0xFFu
#define OP_READ 0xF8u /* get list listen sync search */

/* An enum value among NAMES: its index, or -1 (and the parser failed). */
static int rule_enum(parser *p, const gval *v, const char *key, const char *const *names,
		     const char *expected)
{
	char q[48];
	if (v->kind == V_STRING && valid_name(v->s))
		return synth__gql_parse_fail(p, v->at,
				"'%s' in an @auth rule takes an enum value: write %s: %s, without quotes",
			    key, key, v->s);
	if (v->kind != V_ENUM) {
		char found[300];
		if (v->kind == V_STRING)
			snprintf(found, sizeof found, "\"%s\"", snip(v->s, q, sizeof q));
		else
			describe_value(v, found, sizeof found);
		return synth__gql_parse_fail(p, v->at,
				"'%s' in an @auth rule must be %s, found %s", key, expected, found);
	}
	for (int k = 0; names[k]; k++)
		if (!strcmp(names[k], v->s))
			return k;
	return synth__gql_parse_fail(p, v->at,
			"invalid @auth %s value '%s': expected %s", key, v->s, expected);
}

static int rule_string(parser *p, const gval *v, const char *key)
{
	char found[300];
	if (!v)
		return 0;
	if (v->kind != V_STRING) {
		describe_value(v, found, sizeof found);
		return synth__gql_parse_fail(p, v->at,
				"'%s' in an @auth rule must be a string, found %s", key, found);
	}
	if (!*v->s)
		return synth__gql_parse_fail(p, v->at, "'%s' in an @auth rule cannot be empty", key);
	return 0;
}

/* ownerField / groupsField, when M declares it: String or ID, or a list. */
static int check_identity_field(parser *p, gdef *m, const gval *v, const char *name, loc at,
				const char *key)
{
	gfield *f = field_of(m, name);
	if (!f)
		return 0;
	tinfo ti = type_info(f->type);
	if (strcmp(ti.name, "String") && strcmp(ti.name, "ID")) {
		char ts[400];
		type_str(f->type, ts, sizeof ts);
		return synth__gql_parse_fail(p, v ? v->at : at,
				"%s '%s' of '%s' must be String or [String], but it is %s",
			    key, name, m->name, ts);
	}
	return 0;
}

/* operations: OPS (one or a list) as bits of operations[] into *OPBITS
 * ("read" is get, list, listen, sync and search). */
static int rule_operations(parser *p, const gval *ops, unsigned *opbits)
{
	*opbits = 0;
	const gval *one = ops->kind == V_LIST ? ops->items : ops;
	if (ops->kind == V_LIST && !ops->nitems)
		return synth__gql_parse_fail(p, ops->at,
				"operations of an @auth rule must name at least one operation");
	for (const gval *o = one; o; o = ops->kind == V_LIST ? o->next : NULL) {
		int k = rule_enum(p, o, "operations", operations,
				  "create, update, delete, read, get, list, listen, sync or search");
		if (k < 0)
			return -1;
		*opbits |= k == 8 ? OP_READ : 1u << k;
	}
	return 0;
}

/* An allow: groups rule R of M into J: groups (a list of names) or
 * groupsField, and groupClaim. */
static int rule_groups(parser *p, json_t *j, const gval *r, gdef *m, const gval *groups,
		       const gval *groups_field, const gval *group_claim)
{
	if (groups && groups_field)
		return synth__gql_parse_fail(p, groups_field->name_at,
				"an allow: groups rule takes groups or groupsField, not both");
	if (!groups && !groups_field)
		return synth__gql_parse_fail(p, r->at,
				"an allow: groups rule needs groups: [\"Admin\", ...] (or groupsField)");
	if (groups) {
		const gval *bad = groups->kind == V_LIST || groups->kind == V_STRING ? NULL : groups;
		if (groups->kind == V_LIST && !groups->nitems) {
			return synth__gql_parse_fail(p, groups->at,
					"groups of an @auth rule must name at least one group");
		}
		json_t *ga = json_array();
		if (!synth__gql_parse_put(p, j, "groups", ga))
			return -1;
		for (const gval *g = groups->kind == V_LIST ? groups->items : groups; g && !bad;
		     g = groups->kind == V_LIST ? g->next : NULL) {
			if (g->kind != V_STRING || !*g->s)
				bad = g;
			else if (!synth__gql_parse_push(p, ga, json_string(g->s)))
				return -1;
		}
		if (bad) {
			char found[300];
			describe_value(bad, found, sizeof found);
			return synth__gql_parse_fail(p, bad->at,
					"groups of an @auth rule must be a list of group names, found %s",
			     bad->kind == V_STRING ? "an empty string" : found);
		}
	} else {
		if (check_identity_field(p, m, groups_field, groups_field->s, r->at, "groupsField") ||
		    !synth__gql_parse_put(p, j, "groupsField", json_string(groups_field->s)))
			return -1;
	}
	if (!synth__gql_parse_put(p, j,
			"groupClaim", json_string(group_claim ? group_claim->s : "cognito:groups")))
		return -1;
	return 0;
}

static json_t *auth_rule(parser *p, const gval *r, gdef *m)
{
	static const char *const keys[] = {"allow", "provider", "ownerField", "identityClaim",
					   "groupClaim", "groups", "groupsField", "operations", NULL};
	const gval *v[8] = {0};
	for (const gval *i = r->items; i; i = i->next) {
		size_t k = 0;
		while (keys[k] && strcmp(keys[k], i->name))
			k++;
		if (!keys[k]) {
			synth__gql_parse_fail(p, i->name_at,
					"unknown field '%s' in an @auth rule (expected allow, provider, "
			     "ownerField, identityClaim, groups, groupsField, groupClaim or operations)", i->name);
			return NULL;
		}
		v[k] = i->kind == V_NULL ? NULL : i;
	}
	const gval *allow = v[0], *provider = v[1], *owner_field = v[2], *identity_claim = v[3],
		   *group_claim = v[4], *groups = v[5], *groups_field = v[6], *ops = v[7];
	if (!allow) {
		synth__gql_parse_fail(p, r->at,
				"an @auth rule needs 'allow' (owner, groups, private or public)");
		return NULL;
	}
	if (allow->kind == V_ENUM && !strcmp(allow->s, "custom")) {
		synth__gql_parse_fail(p, allow->at, "allow: custom (a Lambda authorizer) is not supported");
		return NULL;
	}
	int st = rule_enum(p, allow, "allow", strategies, "owner, groups, private or public");
	if (st < 0)
		return NULL;
	const char *prov = default_provider[st];
	if (provider) {
		if (provider->kind == V_ENUM && !strcmp(provider->s, "function")) {
			synth__gql_parse_fail(p, provider->at,
					"provider: function (a Lambda authorizer) is not supported");
			return NULL;
		}
		int k = rule_enum(p, provider, "provider", providers,
				  "apiKey, iam, identityPool, oidc or userPools");
		if (k < 0)
			return NULL;
		if (!(provider_ok[st] & 1u << k)) {
			synth__gql_parse_fail(p, provider->at,
					"provider '%s' cannot be used with allow: %s (use %s)",
			     providers[k], strategies[st], provider_ok_text[st]);
			return NULL;
		}
		prov = providers[k];
	}
	for (int k = 2; k <= 6; k++) {
		if (k == 5 || rule_string(p, v[k], keys[k]))
			continue;
		bool owner_key = k == 2 || k == 3;
		if (v[k] && owner_key && st != ST_OWNER) {
			synth__gql_parse_fail(p, v[k]->name_at,
					"'%s' applies only to allow: owner rules", keys[k]);
			return NULL;
		}
		if (v[k] && !owner_key && st != ST_GROUPS) {
			synth__gql_parse_fail(p, v[k]->name_at,
					"'%s' applies only to allow: groups rules", keys[k]);
			return NULL;
		}
	}
	if (groups && st != ST_GROUPS) {
		synth__gql_parse_fail(p, groups->name_at, "'groups' applies only to allow: groups rules");
		return NULL;
	}
	if (p->failed)
		return NULL;

	unsigned opbits = OPS_ALL;
	if (ops && rule_operations(p, ops, &opbits))
		return NULL;

	json_t *j = json_object();
	if (!synth__gql_parse_put(p, j,
			"allow", json_string(strategies[st])) || !synth__gql_parse_put(p, j, "provider", json_string(prov)))
		goto fail;
	if (st == ST_OWNER) {
		const char *of = owner_field ? owner_field->s : "owner";
		const char *claim = identity_claim ? identity_claim->s : "sub::username";
		if (check_identity_field(p, m, owner_field, of, r->at, "ownerField"))
			goto fail;
		for (size_t i = 0; strstr(claim, "::") && i < m->npk_sort; i++)
			if (!strcmp(m->pk_sort[i], of)) {
				synth__gql_parse_fail(p, owner_field ? owner_field->at : r->at,
				     "'%s' is a sort key field of the primary key of '%s', so it cannot be the "
				     "ownerField of an owner rule (owner values are 'sub::username')", of, m->name);
				goto fail;
			}
		if (!synth__gql_parse_put(p, j, "ownerField", json_string(of)) ||
		    !synth__gql_parse_put(p, j, "identityClaim", json_string(claim)))
			goto fail;
	} else if (st == ST_GROUPS && rule_groups(p, j, r, m, groups, groups_field, group_claim)) {
		goto fail;
	}
	json_t *oa = json_array();
	if (!synth__gql_parse_put(p, j, "operations", oa))
		goto fail;
	for (int k = 0; k < 8; k++)
		if (opbits & 1u << k && !synth__gql_parse_push(p, oa, json_string(operations[k])))
			goto fail;
	if (!synth__gql_parse_put_loc(p, j, r->at))
		goto fail;
	if (!json_object_get(p->providers, prov)) {
		json_t *pl = json_object();
		if (!synth__gql_parse_put(p, p->providers, prov, pl) || !synth__gql_parse_put_loc(p, pl, r->at))
			goto fail;
	}
	return j;
fail:
	json_decref(j);
	return NULL;
}

/* The rules of @auth D on model M (or one of its fields). */
static json_t *auth_rules(parser *p, const gdir *d, gdef *m)
{
	const gval *rules = arg(d, "rules");
	json_t *a = json_array();
	if (!a) {
		synth__gql_parse_oom(p);
		return NULL;
	}
	for (const gval *r = rules->items; r; r = r->next) {
		json_t *j = auth_rule(p, r, m);
		if (!j || !synth__gql_parse_push(p, a, j)) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

/* --- @index ----------------------------------------------------------------------------------- */

static void put_ucfirst(synth_buf *b, const char *s)
{
	if (!*s)
		return;
	synth_buf_putc(b, (char)(*s >= 'a' && *s <= 'z' ? *s - 32 : *s));
	synth_buf_puts(b, s + 1);
}

static void put_lcfirst(synth_buf *b, const char *s)
{
	if (!*s)
		return;
	synth_buf_putc(b, (char)(*s >= 'A' && *s <= 'Z' ? *s + 32 : *s));
	synth_buf_puts(b, s + 1);
}

/* English's regular plural: Todo -> Todos, Address -> Addresses,
 * Category -> Categories (graphql.h). The one rule of define_data: the
 * generators use it too. */
const char *synth__graphql_plural(const char *s, size_t *keep)
{
	size_t n = strlen(s);
	*keep = n;
	if (!n)
		return "";
	char last = s[n - 1], before = n > 1 ? s[n - 2] : '\0';
	if (strchr("sxzSXZ", last) || ((last == 'h' || last == 'H') && before && strchr("csCS", before)))
		return "es";
	if ((last == 'y' || last == 'Y') && n > 1 && !strchr("aeiouAEIOU", before)) {
		*keep = n - 1; /* drop the y */
		return "ies";
	}
	return "s";
}

/* Appends the plural's suffix to B, which ends with S (dropping a y). */
static void put_plural(synth_buf *b, const char *s)
{
	size_t keep;
	const char *suffix = synth__graphql_plural(s, &keep);
	if (keep < strlen(s) && !b->oom && b->len)
		b->len--;
	synth_buf_puts(b, suffix);
}

static char *buf_to_arena(parser *p, synth_buf *b)
{
	if (b->oom) {
		synth__gql_parse_oom(p);
		return NULL;
	}
	char *s = synth__gql_parse_strndup(p, b->ptr ? b->ptr : "", b->len);
	synth_buf_free(b);
	return s;
}

/* Amplify's default index and query name: employeesByManagerAndLevel. */
static char *default_index_name(parser *p, const gdef *m, const gfield *f, const gval *sk)
{
	synth_buf b = SYNTH_BUF_INIT;
	put_lcfirst(&b, m->name);
	put_plural(&b, m->name);
	synth_buf_puts(&b, "By");
	put_ucfirst(&b, f->name);
	for (const gval *s = sk ? sk->items : NULL; s; s = s->next) {
		synth_buf_puts(&b, "And");
		put_ucfirst(&b, s->s);
	}
	return buf_to_arena(p, &b);
}

/* DynamoDB: 3-255 characters of [A-Za-z0-9_.-]. */
static bool valid_index_name(const char *s)
{
	size_t n = strlen(s);
	return n >= 3 && n <= 255 &&
	       strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") == n;
}

static int check_index(parser *p, gdef *m, const gfield *f, const gdir *d, json_t *indexes,
		       htab *names)
{
	char q[48];
	if (!is_key_type(p, f))
		return synth__gql_parse_fail(p, d->at,
				"@index on '%s.%s' needs a scalar or enum field, not a list or object",
			    m->name, f->name);
	gval *sk = arg_nn(d, "sortKeyFields");
	if (check_key_fields(p, m, f, sk, "@index", false))
		return -1;
	gval *nv = arg_nn(d, "name");
	char *gen = default_index_name(p, m, f, sk);
	if (!gen)
		return -1;
	const char *name = nv ? nv->s : gen;
	if (!valid_index_name(name)) {
		if (nv)
			return synth__gql_parse_fail(p, nv->at, "index name \"%s\" is not valid in DynamoDB "
				    "(3-255 letters, digits, '_', '-' or '.')", snip(name, q, sizeof q));
		return synth__gql_parse_fail(p, d->at,
				"the index name %s would be longer than 255 characters: "
			    "give @index a name", snip(name, q, sizeof q));
	}
	gdir *old = synth__gql_parse_ht_put(p, names, name, (void *)d);
	if (p->failed)
		return -1;
	if (old)
		return synth__gql_parse_fail(p, nv ? nv->at : d->at,
				"duplicate index name '%s' in '%s' (first at %u:%u)",
			    name, m->name, old->at.line, old->at.col);
	gval *qv = arg(d, "queryField");
	const char *query = qv ? (qv->kind == V_NULL ? NULL : qv->s) : gen;
	if (qv && query && !valid_name(query))
		return synth__gql_parse_fail(p, qv->at,
				"queryField \"%s\" is not a valid GraphQL name", snip(query, q, sizeof q));
	if (query) {
		old = synth__gql_parse_ht_put(p, &p->query_fields, query, (void *)d);
		if (p->failed)
			return -1;
		if (old)
			return synth__gql_parse_fail(p, qv ? qv->at : d->at,
					"queryField '%s' is already used by the @index at %u:%u",
				    query, old->at.line, old->at.col);
	}
	gval *pv = arg_nn(d, "projection");
	for (const gval *i = pv ? pv->items : NULL; i; i = i->next) {
		if (!strcmp(i->name, "type")) {
			if (i->kind != V_ENUM || (strcmp(i->s, "ALL") && strcmp(i->s, "KEYS_ONLY") &&
						  strcmp(i->s, "INCLUDE")))
				return synth__gql_parse_fail(p, i->at,
						"projection type of @index must be ALL, KEYS_ONLY or INCLUDE");
		} else if (!strcmp(i->name, "nonKeyAttributes")) {
			const gval *bad = i->kind == V_LIST ? NULL : i;
			for (const gval *e = bad ? NULL : i->items; e && !bad; e = e->next)
				if (e->kind != V_STRING)
					bad = e;
			if (bad)
				return synth__gql_parse_fail(p, bad->at,
						"nonKeyAttributes of @index must be a list of field names");
		} else {
			return synth__gql_parse_fail(p, i->name_at,
					"unknown field '%s' in the projection of @index "
				    "(expected type or nonKeyAttributes)", i->name);
		}
	}
	json_t *j = json_object(), *pj;
	if (!synth__gql_parse_push(p, indexes, j) || !synth__gql_parse_put(p, j, "name", json_string(name)) ||
	    !synth__gql_parse_put(p, j,
			"field", json_string(f->name)) || !synth__gql_parse_put(p, j, "sortKeyFields", string_list(p, sk)) ||
	    !synth__gql_parse_put(p, j, "queryField", query ? json_string(query) : json_null()))
		return -1;
	if (pv && (!(pj = value_json(p, pv)) || !synth__gql_parse_put(p, j, "projection", pj)))
		return -1;
	return synth__gql_parse_put_loc(p, j, d->at) ? 0 : -1;
}

/* --- @default --------------------------------------------------------------------------------- */

static int check_default(parser *p, gdef *m, const gfield *f, const gdir *d, json_t *fj)
{
	char q[48];
	tinfo ti = type_info(f->type);
	gdef *ed;
	enum tk k = type_kind(p, ti.name, &ed);
	if (ti.list || (k != TK_SCALAR && k != TK_ENUM))
		return synth__gql_parse_fail(p, d->at,
				"@default is only allowed on scalar and enum fields, and '%s.%s' is %s",
			    m->name, f->name, ti.list ? "a list" : tk_articles[k]);
	if (m->pk == f || (!m->pk && !strcmp(f->name, "id")))
		return synth__gql_parse_fail(p, d->at,
				"@default cannot be used on '%s', the primary key of '%s'", f->name,
			    m->name);
	for (size_t i = 0; i < m->npk_sort; i++)
		if (!strcmp(m->pk_sort[i], f->name))
			return synth__gql_parse_fail(p, d->at,
					"@default cannot be used on '%s', a sort key field of the "
				    "primary key of '%s'", f->name, m->name);
	const gval *v = arg(d, "value");
	json_t *j;
	if (k == TK_ENUM) {
		if (!field_of(ed, v->s))
			return synth__gql_parse_fail(p, v->at,
					"@default value \"%s\" is not a value of enum '%s'",
				    snip(v->s, q, sizeof q), ed->name);
		j = json_string(v->s);
	} else if (!scalar_text_ok(ti.name, v->s)) {
		return synth__gql_parse_fail(p, v->at,
				"@default value \"%s\" is not a valid %s", snip(v->s, q, sizeof q),
			    ti.name);
	} else if (!strcmp(ti.name, "Int") || !strcmp(ti.name, "AWSTimestamp")) {
		long long x = 0;
		int_text(v->s, LLONG_MIN, LLONG_MAX, &x);
		j = json_integer(x);
	} else if (!strcmp(ti.name, "Float")) {
		double x = 0;
		float_text(v->s, &x);
		j = json_real(x);
	} else if (!strcmp(ti.name, "Boolean")) {
		j = json_boolean(!strcasecmp(v->s, "true"));
	} else {
		j = json_string(v->s);
	}
	return synth__gql_parse_put(p, fj, "default", j) ? 0 : -1;
}

static int check_model(parser *p, gdef *m, json_t *o)
{
	static const char *const reserved[] = {"Query", "Mutation", "Subscription", NULL};
	for (int k = 0; reserved[k]; k++)
		if (!strcmp(m->name, reserved[k]))
			return synth__gql_parse_fail(p, m->at,
					"'%s' is one of the API's root types and cannot be a @model",
				    m->name);
	gdir *md = dir(m->dirs, "model"), *ad = dir(m->dirs, "auth");
	if (check_model_options(p, md) || check_primary_key(p, m, o))
		return -1;
	json_t *indexes;
	if (!synth__gql_parse_put(p, o, "auth", ad ? auth_rules(p, ad, m) : json_array()) ||
	    !synth__gql_parse_put(p, o, "hasAuth", json_boolean(ad != NULL)) ||
	    !synth__gql_parse_put(p, o,
			"indexes", indexes = json_array()) || !synth__gql_parse_put(p, o, "relations", json_array()))
		return -1;
	json_t *fields = json_object_get(o, "fields");
	htab index_names = {0};
	for (gfield *f = m->fields; f; f = f->next) {
		json_t *fj = json_object_get(fields, f->name);
		const gdir *rel = NULL;
		for (gdir *d = f->dirs; d; d = d->next) {
			if (!strcmp(d->name, "index")) {
				if (check_index(p, m, f, d, indexes, &index_names))
					return -1;
			} else if (!strcmp(d->name, "default")) {
				if (check_default(p, m, f, d, fj))
					return -1;
			} else if (!strcmp(d->name, "auth")) {
				if (!synth__gql_parse_put(p, fj, "auth", auth_rules(p, d, m)))
					return -1;
			} else if (is_relation(d->name)) {
				if (rel)
					return synth__gql_parse_fail(p, d->at,
							"'%s.%s' already has @%s: a field takes only one of "
						    "@hasMany, @hasOne and @belongsTo", m->name, f->name, rel->name);
				rel = d;
				if (!synth__gql_parse_put(p, fj, "relation", json_string(d->name)))
					return -1;
			}
		}
	}
	json_t *ts = json_object();
	if (!synth__gql_parse_put(p, o, "timestamps", ts) ||
	    !synth__gql_parse_put(p, ts,
			"createdAt", m->timestamps[0] ? json_string(m->timestamps[0]) : json_null()) ||
	    !synth__gql_parse_put(p, ts,
			"updatedAt", m->timestamps[1] ? json_string(m->timestamps[1]) : json_null()))
		return -1;
	json_t *opts = args_json(p, md->args), *dj;
	return synth__gql_parse_put(p, o,
			"options", opts) && (dj = dirs_json(p, m->dirs)) && synth__gql_parse_put(p, o, "directives", dj) ? 0 : -1;
}

static int check_def(parser *p, gdef *d)
{
	static const unsigned where[] = {W_OBJECT, W_INTERFACE, W_INPUT, W_ENUM, W_UNION, 0};
	static const char *const bucket[] = {"types", "interfaces", "inputs", "enums", "unions", ""};
	char place[300];
	snprintf(place, sizeof place, "%s '%s'", synth__gql_parse_kind_word(d->kind), d->name);
	if (check_directives(p, d->dirs, where[d->kind], place))
		return -1;
	for (gdir *dd = d->dirs; dd && !d->is_model; dd = dd->next)
		if (find_dirspec(dd->name)->model_only)
			return synth__gql_parse_fail(p, dd->at,
					"@%s needs a @model type: '%s' is not a @model", dd->name, d->name);
	json_t *o = json_object();
	if (!synth__gql_parse_put(p, json_object_get(p->root, d->is_model ? "models" : bucket[d->kind]), d->name, o))
		return -1;
	d->json = o;
	if (!synth__gql_parse_put_loc(p, o, d->at) || (d->desc && !synth__gql_parse_put(p, o,
			"description", json_string(d->desc))))
		return -1;
	switch (d->kind) {
	case D_ENUM:
		return check_enum(p, d, o);
	case D_UNION:
		return check_union(p, d, o);
	case D_INPUT:
		return check_fields(p, d, o);
	default:
		break;
	}
	if (check_fields(p, d, o) || check_implements(p, d, o))
		return -1;
	if (d->is_model)
		return check_model(p, d, o);
	json_t *dj = dirs_json(p, d->dirs);
	return dj && synth__gql_parse_put(p, o, "directives", dj) ? 0 : -1;
}

/* --- pass 3: relations ---------------------------------------------------------------------- */

static size_t pk_count(const gdef *m)
{
	return 1 + m->npk_sort;
}

static const char *pk_name(const gdef *m, size_t i)
{
	return i ? m->pk_sort[i - 1] : m->pk ? m->pk->name : "id";
}

/* The named type of primary key field I of M ("ID" for an undeclared id). */
static const char *pk_type(const gdef *m, size_t i)
{
	const gfield *f = field_of(m, pk_name(m, i));
	return f ? type_info(f->type).name : "ID";
}

static bool key_types_match(const char *a, const char *b)
{
	bool ida = !strcmp(a, "ID") || !strcmp(a, "String"), idb = !strcmp(b, "ID") || !strcmp(b, "String");
	return !strcmp(a, b) || (ida && idb);
}

/* The first field of R whose type is M and that carries @belongsTo (if
 * WANT_BELONGS) or @hasOne / @hasMany (if not); its directive in *D. */
static gfield *counterpart(const gdef *r, const gdef *m, bool want_belongs, gdir **d)
{
	for (gfield *g = r->fields; g; g = g->next) {
		if (strcmp(type_info(g->type).name, m->name))
			continue;
		gdir *gd = relation_dir(g);
		if (gd && !strcmp(gd->name, "belongsTo") == want_belongs) {
			*d = gd;
			return g;
		}
	}
	return NULL;
}

static bool same_strings(const gval *a, const gval *b)
{
	if (!a || !b || a->nitems != b->nitems)
		return false;
	for (a = a->items, b = b->items; a && b; a = a->next, b = b->next)
		if (strcmp(a->s, b->s))
			return false;
	return true;
}

/* Amplify's implicit key attributes: <model><Field><Key> for each field of
 * KEYED's primary key, partition key first (<model><Field>Id for a model
 * keyed by id; siteHomePath, siteHomeLang for Site.home to a Page keyed by
 * path and lang), as its getConnectionAttributeName names them. */
static json_t *implicit_keys(parser *p, const char *model, const char *field, const gdef *keyed)
{
	json_t *a = json_array();
	for (size_t i = 0; a && i < pk_count(keyed); i++) {
		synth_buf b = SYNTH_BUF_INIT;
		put_lcfirst(&b, model);
		put_ucfirst(&b, field);
		put_ucfirst(&b, pk_name(keyed, i));
		char *s = synth_buf_detach(&b);
		json_t *js = s ? json_string(s) : NULL;
		free(s);
		if (!synth__gql_parse_push(p, a, js)) {
			json_decref(a);
			return NULL;
		}
	}
	if (!a)
		synth__gql_parse_oom(p);
	return a;
}

static int check_relation(parser *p, gdef *m, const gfield *f, const gdir *d)
{
	enum { HAS_MANY, HAS_ONE, BELONGS_TO } k = !strcmp(d->name, "hasMany") ? HAS_MANY :
						  !strcmp(d->name, "hasOne") ? HAS_ONE : BELONGS_TO;
	char q[48];
	tinfo ti = type_info(f->type);
	gdef *r = synth__gql_parse_ht_get(&p->types, ti.name);
	if (!r || !r->is_model)
		return synth__gql_parse_fail(p, d->at,
				"@%s on '%s.%s' needs a @model type, but '%s' is %s", d->name, m->name,
			    f->name, ti.name, tk_articles[type_kind(p, ti.name, NULL)]);
	if (k == HAS_MANY && !ti.list)
		return synth__gql_parse_fail(p, d->at,
				"@hasMany field '%s.%s' must be a list, such as [%s]", m->name, f->name,
			    r->name);
	if (k != HAS_MANY && ti.list)
		return synth__gql_parse_fail(p, d->at,
				"@%s field '%s.%s' cannot be a list", d->name, m->name, f->name);
	const gval *fields = arg_nn(d, "fields"), *refs = arg_nn(d, "references");
	if (fields && refs)
		return synth__gql_parse_fail(p, refs->name_at,
				"@%s takes fields or references, not both", d->name);
	gdir *cd = NULL;
	gfield *cf = counterpart(r, m, k != BELONGS_TO, &cd);
	const char *want = k == BELONGS_TO ? "a @hasOne or @hasMany field" : "a @belongsTo field";
	if (refs) {
		/* the model holding the references, and the one whose key they hold */
		gdef *holder = k == BELONGS_TO ? m : r, *keyed = k == BELONGS_TO ? r : m;
		if (!refs->nitems)
			return synth__gql_parse_fail(p, refs->at,
					"references of @%s must name at least one field", d->name);
		if (refs->nitems != pk_count(keyed))
			return synth__gql_parse_fail(p, refs->at,
					"@%s on '%s.%s' has %zu reference%s, but the primary key of "
				    "'%s' has %zu field%s", d->name, m->name, f->name, refs->nitems,
				    refs->nitems == 1 ? "" : "s", keyed->name, pk_count(keyed),
				    pk_count(keyed) == 1 ? "" : "s");
		size_t i = 0;
		for (const gval *s = refs->items; s; s = s->next, i++) {
			gfield *g = field_of(holder, s->s);
			if (!g)
				return synth__gql_parse_fail(p, s->at,
						"reference '%s' of @%s on '%s.%s' is not a field of '%s'",
					    snip(s->s, q, sizeof q), d->name, m->name, f->name, holder->name);
			if (!is_key_type(p, g))
				return synth__gql_parse_fail(p, s->at,
						"reference field '%s.%s' must be a scalar or enum, "
					    "not a list or object", holder->name, g->name);
			const char *gt = type_info(g->type).name, *kt = pk_type(keyed, i);
			if (!key_types_match(gt, kt))
				return synth__gql_parse_fail(p, s->at,
						"reference '%s.%s' is %s, but the primary key field "
					    "'%s.%s' it refers to is %s", holder->name, g->name, gt,
					    keyed->name, pk_name(keyed, i), kt);
		}
		if (!cf)
			return synth__gql_parse_fail(p, d->at,
					"@%s on '%s.%s' needs %s in '%s' that refers back to '%s' "
				    "(uni-directional relations are not supported)", d->name, m->name,
				    f->name, want, r->name, m->name);
		if (!same_strings(refs, arg_nn(cd, "references")))
			return synth__gql_parse_fail(p, d->at,
					"the references of '%s.%s' must be the same as those of "
				    "'%s.%s' (%u:%u)", m->name, f->name, r->name, cf->name, cd->at.line,
				    cd->at.col);
	} else {
		for (const gval *s = fields ? fields->items : NULL; s; s = s->next) {
			gfield *g = field_of(m, s->s);
			if (!g)
				return synth__gql_parse_fail(p, s->at,
						"'%s' in fields of @%s on '%s.%s' is not a field of '%s'",
					    snip(s->s, q, sizeof q), d->name, m->name, f->name, m->name);
			if (!is_key_type(p, g))
				return synth__gql_parse_fail(p, s->at,
						"field '%s.%s' in fields of @%s must be a scalar or enum, "
					    "not a list or object", m->name, g->name, d->name);
		}
		if (fields && !fields->nitems)
			return synth__gql_parse_fail(p, fields->at,
					"fields of @%s must name at least one field", d->name);
		if (k == BELONGS_TO && !cf)
			return synth__gql_parse_fail(p, d->at,
					"@belongsTo on '%s.%s' needs %s in '%s' that refers back to '%s'",
				    m->name, f->name, want, r->name, m->name);
	}
	const gval *iv = arg_nn(d, "indexName");
	if (iv) {
		bool found = false;
		for (const gfield *g = r->fields; g && !found; g = g->next)
			for (const gdir *gd = g->dirs; gd && !found; gd = gd->next) {
				const gval *n = !strcmp(gd->name, "index") ? arg_nn(gd, "name") : NULL;
				found = n && !strcmp(n->s, iv->s);
			}
		if (!found)
			return synth__gql_parse_fail(p, iv->at,
					"indexName \"%s\" of @%s on '%s.%s' is not the name of an "
				    "@index of '%s'", snip(iv->s, q, sizeof q), d->name, m->name, f->name,
				    r->name);
	}

	json_t *j = json_object(), *keys;
	const gdef *key_model;
	if (refs) {
		key_model = k == BELONGS_TO ? m : r;
		keys = string_list(p, refs);
	} else if (fields) {
		key_model = m;
		keys = string_list(p, fields);
	} else if (k == HAS_MANY) {
		key_model = r;
		keys = implicit_keys(p, m->name, f->name, m);
	} else if (k == HAS_ONE) {
		key_model = m;
		keys = implicit_keys(p, m->name, f->name, r);
	} else {
		key_model = m;
		keys = !strcmp(cd->name, "hasMany") ? implicit_keys(p, r->name, cf->name, r)
						    : implicit_keys(p, m->name, f->name, r);
	}
	if (!synth__gql_parse_push(p, json_object_get(m->json,
			"relations"), j) || !synth__gql_parse_put(p, j, "field", json_string(f->name)) ||
	    !synth__gql_parse_put(p, j,
			"kind", json_string(d->name)) || !synth__gql_parse_put(p, j, "related", json_string(r->name)) ||
	    (refs && !synth__gql_parse_put(p, j, "references", string_list(p, refs))) ||
	    (fields && !synth__gql_parse_put(p, j, "fields", string_list(p, fields))) ||
	    !synth__gql_parse_put(p, j, "keyModel", json_string(key_model->name))) {
		json_decref(keys);
		return -1;
	}
	if (!synth__gql_parse_put(p, j, "keyFields", keys) ||
	    !synth__gql_parse_put(p, j, "counterpart", cf ? json_string(cf->name) : json_null()))
		return -1;
	const gval *lv = arg_nn(d, "limit");
	long long limit = 0;
	if (lv && (!int_text(lv->s, 1, INT32_MAX, &limit)))
		return synth__gql_parse_fail(p, lv->at, "limit of @hasMany must be a positive Int");
	if ((iv && !synth__gql_parse_put(p, j, "indexName", json_string(iv->s))) ||
	    (lv && !synth__gql_parse_put(p, j, "limit", json_integer(limit))))
		return -1;
	return synth__gql_parse_put_loc(p, j, d->at) ? 0 : -1;
}

/* --- the entry points ------------------------------------------------------------------------ */

/* S as valid UTF-8: bytes that are not become '?'. Caller frees. */
static char *utf8_lossy(const char *s)
{
	size_t n = strlen(s);
	char *r = malloc(n + 1);
	if (!r)
		return NULL;
	for (size_t i = 0; i < n;) {
		size_t k;
		if (synth__gql_lex_utf8_decode((const unsigned char *)s + i, n - i, &k) < 0) {
			r[i++] = '?';
		} else {
			memcpy(r + i, s + i, k);
			i += k;
		}
	}
	r[n] = '\0';
	return r;
}

int synth__gql_check_schema(parser *p)
{
	static const char *const buckets[] = {"models", "types", "interfaces", "inputs", "enums",
					      "unions", "authProviders"};
	char *file = utf8_lossy(p->file);
	p->root = json_object();
	bool ok = file && synth__gql_parse_put(p, p->root, "file", json_string(file));
	free(file);
	if (!ok)
		return synth__gql_parse_oom(p);
	for (size_t j = 0; j < sizeof buckets / sizeof *buckets; j++)
		if (!synth__gql_parse_put(p, p->root, buckets[j], json_object()))
			return -1;
	p->providers = json_object_get(p->root, "authProviders");
	if (collect(p))
		return -1;
	for (gdef *d = p->defs; d; d = d->next)
		if (check_def(p, d))
			return -1;
	for (gdef *m = p->defs; m; m = m->next) {
		for (const gfield *f = m->is_model ? m->fields : NULL; f; f = f->next) {
			const gdir *d = relation_dir(f);
			if (d && check_relation(p, m, f, d))
				return -1;
		}
	}
	return 0;
}

/*
 * The client configuration (amplify_outputs.json) from stack outputs; see
 * clientconfig.h. Names and conventions follow Amplify Gen2's backend
 * output schemas and its client config contributors: each category's
 * outputs are strings, lists and objects are JSON inside them, the file
 * validates against schema_v1.5.json.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include <synth/sys/contract.h>
#include "../util/util.h"
#include "clientconfig.h"

/* --- small helpers ------------------------------------------------------ */

static int put(json_t *obj, const char *key, json_t *value)
{
	/* json_object_set_new steals VALUE, also on failure. */
	if (!value || json_object_set_new(obj, key, value) < 0)
		return synth_error_oom();
	return 0;
}

static int append(json_t *arr, json_t *value)
{
	if (!value || json_array_append_new(arr, value) < 0)
		return synth_error_oom();
	return 0;
}

/* A failed parse that ran out of memory: jansson says so, or leaves the
 * text empty when an allocation failed before it could say anything. */
static bool parse_oom(const json_error_t *err)
{
	return json_error_code(err) == json_error_out_of_memory || !err->text[0];
}

/* VALUE for a message: a string's text or compact JSON, at most ~60
 * characters. */
static const char *clip(json_t *value, char buf[80])
{
	char *dump = NULL;
	const char *s;
	if (json_is_string(value))
		s = json_string_value(value);
	else
		s = dump = synth_json_dumps(value, JSON_COMPACT | JSON_ENCODE_ANY);
	if (!s)
		s = "?";
	size_t n = strlen(s);
	if (n > 60)
		snprintf(buf, 80, "%.57s...", s);
	else
		snprintf(buf, 80, "%s", s);
	free(dump);
	return buf;
}

/* --- a category's outputs ----------------------------------------------- */

typedef struct category {
	const char *name;   /* the config key ("auth") and the message prefix */
	const char *key;    /* the metadata key as the template spells it */
	json_t *payload;    /* output name -> value, the outputs the key lists */
	const char *region; /* fallback region; may be NULL */
} category;

static int cat_fail(const category *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static int cat_fail(const category *c, const char *fmt, ...)
{
	char msg[1536];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	return synth_error_setf(SYNTH_EINVALID, "%s (%s): %s", c->name, c->key, msg);
}

/* The string output NAME. Absent (or empty, when optional): *out = NULL,
 * an error when REQUIRED. */
static int get_str(const char **out, const category *c, const char *name, bool required)
{
	json_t *v = json_object_get(c->payload, name);
	*out = NULL;
	if (!v) {
		if (required)
			return cat_fail(c, "required stack output '%s' is missing", name);
		return 0;
	}
	if (!json_is_string(v))
		return cat_fail(c, "stack output '%s' is not a string", name);
	if (!json_string_length(v)) {
		if (required)
			return cat_fail(c, "stack output '%s' is empty", name);
		return 0;
	}
	*out = json_string_value(v);
	return 0;
}

/* The category's region: output NAME, else the fallback. */
static int get_region(const char **out, const category *c, const char *name)
{
	int rc = get_str(out, c, name, false);
	if (rc < 0 || *out)
		return rc;
	if (c->region && *c->region) {
		*out = c->region;
		return 0;
	}
	return cat_fail(c, "required stack output '%s' is missing (and no region is known)",
			name);
}

/* Output NAME holding JSON of type WANT: a string to parse (what
 * CloudFormation returns) or, in a hand-written outputs file, the tree
 * itself. *out is a new reference, or NULL when the output is absent. */
static int get_json(json_t **out, const category *c, const char *name, json_type want)
{
	json_t *v = json_object_get(c->payload, name), *j;
	char buf[80];
	*out = NULL;
	if (!v || (json_is_string(v) && !json_string_length(v)))
		return 0;
	if (json_is_string(v)) {
		json_error_t err;
		j = json_loads(json_string_value(v), JSON_DECODE_ANY | JSON_REJECT_DUPLICATES,
			       &err);
		if (!j) {
			if (parse_oom(&err))
				return synth_error_oom();
			return cat_fail(c, "stack output '%s' is not valid JSON (%s at character "
					"%d): '%s'", name, err.text, err.position, clip(v, buf));
		}
	} else {
		j = json_deep_copy(v);
		if (!j)
			return synth_error_oom();
	}
	if (json_typeof(j) != want) {
		json_decref(j);
		return cat_fail(c, "stack output '%s' is not a JSON %s: '%s'", name,
				want == JSON_ARRAY ? "list" : "object", clip(v, buf));
	}
	*out = j;
	return 0;
}

/* A string list output that may be JSON ('["a","b"]') or, as Amplify
 * writes redirect URIs and AppSync's additional authentication types,
 * comma-separated ("a,b"). */
static int get_list(json_t **out, const category *c, const char *name)
{
	json_t *v = json_object_get(c->payload, name);
	*out = NULL;
	if (!v || json_is_array(v) ||
	    (json_is_string(v) && json_string_value(v)[strspn(json_string_value(v), " \t\n")] == '['))
		return get_json(out, c, name, JSON_ARRAY);
	const char *s;
	int rc = get_str(&s, c, name, false);
	if (rc < 0 || !s)
		return rc;
	json_t *list = json_array();
	if (!list)
		return synth_error_oom();
	while (*s) {
		size_t n = strcspn(s, ",");
		const char *a = s, *b = s + n;
		while (a < b && isspace((unsigned char)*a))
			a++;
		while (b > a && isspace((unsigned char)b[-1]))
			b--;
		if (b > a && append(list, json_stringn(a, (size_t)(b - a))) < 0) {
			json_decref(list);
			return SYNTH_ENOMEM;
		}
		s += n + (s[n] == ',');
	}
	*out = list;
	return 0;
}

/* --- enumerations ------------------------------------------------------- */

/* Accepted spellings (matched without regard to case) and the schema's value. */
typedef struct enum_map {
	const char *from, *to;
} enum_map;

static const enum_map username_attrs[] = {
	{"email", "email"}, {"phone_number", "phone_number"}, {"phoneNumber", "phone_number"},
	{"phone", "phone_number"}, {"username", "username"}, {NULL, NULL}};
static const enum_map verification_types[] = {
	{"email", "email"}, {"phone_number", "phone_number"}, {"phoneNumber", "phone_number"},
	{"phone", "phone_number"}, {NULL, NULL}};
/* Cognito's standard attributes; the CDK's camelCase names as aliases. */
static const enum_map standard_attrs[] = {
	{"address", "address"}, {"birthdate", "birthdate"}, {"email", "email"},
	{"family_name", "family_name"}, {"familyName", "family_name"}, {"gender", "gender"},
	{"given_name", "given_name"}, {"givenName", "given_name"}, {"locale", "locale"},
	{"middle_name", "middle_name"}, {"middleName", "middle_name"}, {"name", "name"},
	{"fullname", "name"}, {"nickname", "nickname"}, {"phone_number", "phone_number"},
	{"phoneNumber", "phone_number"}, {"picture", "picture"},
	{"profilePicture", "picture"}, {"preferred_username", "preferred_username"},
	{"preferredUsername", "preferred_username"}, {"profile", "profile"},
	{"profilePage", "profile"}, {"sub", "sub"}, {"updated_at", "updated_at"},
	{"lastUpdateTime", "updated_at"}, {"website", "website"}, {"zoneinfo", "zoneinfo"},
	{"timezone", "zoneinfo"}, {NULL, NULL}};
static const enum_map mfa_methods[] = {
	{"SMS", "SMS"}, {"SMS_MFA", "SMS"}, {"TOTP", "TOTP"}, {"SOFTWARE_TOKEN_MFA", "TOTP"},
	{"EMAIL", "EMAIL"}, {"EMAIL_OTP", "EMAIL"}, {NULL, NULL}};
static const enum_map mfa_configs[] = {
	{"NONE", "NONE"}, {"OFF", "NONE"}, {"OPTIONAL", "OPTIONAL"}, {"REQUIRED", "REQUIRED"},
	{"ON", "REQUIRED"}, {NULL, NULL}};
/* The schema's four social providers; OIDC and SAML providers have no
 * place in it and are left out, as Amplify does. */
static const enum_map identity_providers[] = {
	{"GOOGLE", "GOOGLE"}, {"FACEBOOK", "FACEBOOK"},
	{"LOGIN_WITH_AMAZON", "LOGIN_WITH_AMAZON"}, {"LoginWithAmazon", "LOGIN_WITH_AMAZON"},
	{"AMAZON", "LOGIN_WITH_AMAZON"}, {"SIGN_IN_WITH_APPLE", "SIGN_IN_WITH_APPLE"},
	{"SignInWithApple", "SIGN_IN_WITH_APPLE"}, {"APPLE", "SIGN_IN_WITH_APPLE"},
	{NULL, NULL}};
static const enum_map response_types[] = {{"code", "code"}, {"token", "token"}, {NULL, NULL}};
static const enum_map auth_types[] = {
	{"AMAZON_COGNITO_USER_POOLS", "AMAZON_COGNITO_USER_POOLS"}, {"API_KEY", "API_KEY"},
	{"AWS_IAM", "AWS_IAM"}, {"AWS_LAMBDA", "AWS_LAMBDA"},
	{"OPENID_CONNECT", "OPENID_CONNECT"}, {NULL, NULL}};
static const enum_map storage_actions[] = {
	{"read", "read"}, {"get", "get"}, {"list", "list"}, {"write", "write"},
	{"delete", "delete"}, {NULL, NULL}};

static const char *enum_find(const enum_map *m, const char *s)
{
	for (; m->from; m++)
		if (!strcasecmp(m->from, s))
			return m->to;
	return NULL;
}

/* "a, b, c": the schema's values of M, for messages. */
static void enum_names(const enum_map *m, char *buf, size_t n)
{
	size_t len = 0;
	buf[0] = '\0';
	for (const enum_map *p = m; p->from && len < n; p++) {
		bool seen = false;
		for (const enum_map *q = m; q < p; q++)
			seen |= !strcmp(q->to, p->to);
		if (!seen)
			len += (size_t)snprintf(buf + len, n - len, "%s%s", len ? ", " : "", p->to);
	}
}

/* Canonical value of string V; an error naming WHAT when V is not one. */
static int enum_value(const char **out, const category *c, const char *what,
		      const enum_map *m, json_t *v)
{
	char names[256], buf[80];
	*out = json_is_string(v) ? enum_find(m, json_string_value(v)) : NULL;
	if (*out)
		return 0;
	enum_names(m, names, sizeof names);
	return cat_fail(c, "%s has '%s', which is not one of %s", what, clip(v, buf), names);
}

/* LIST (a JSON list, consumed) mapped through M into a new list without
 * duplicates; unknown values are an error naming WHAT, or dropped when
 * DROP_UNKNOWN. */
static int enum_list(json_t **out, const category *c, const char *what, json_t *list,
		     const enum_map *m, bool drop_unknown)
{
	json_t *res = json_array(), *v;
	size_t i;
	int rc = res ? 0 : synth_error_oom();
	*out = NULL;
	json_array_foreach(list, i, v) {
		const char *canon = json_is_string(v) ? enum_find(m, json_string_value(v)) : NULL;
		if (!canon && drop_unknown && json_is_string(v))
			continue;
		if (rc == 0 && !canon)
			rc = enum_value(&canon, c, what, m, v);
		if (rc < 0)
			break;
		bool dup = false;
		for (size_t k = 0; k < json_array_size(res); k++)
			dup |= !strcmp(json_string_value(json_array_get(res, k)), canon);
		if (!dup && (rc = append(res, json_string(canon))) < 0)
			break;
	}
	json_decref(list);
	if (rc < 0) {
		json_decref(res);
		return rc;
	}
	*out = res;
	return 0;
}

/* Output NAME as a list of schema values (absent: *out NULL). */
static int get_enum_list(json_t **out, const category *c, const char *name,
			 const enum_map *m, bool drop_unknown)
{
	json_t *list;
	char what[128];
	int rc = get_json(&list, c, name, JSON_ARRAY);
	*out = NULL;
	if (rc < 0 || !list)
		return rc;
	snprintf(what, sizeof what, "stack output '%s'", name);
	return enum_list(out, c, what, list, m, drop_unknown);
}

/* Sets KEY of OBJ to a list output; an empty list is left out when the
 * schema wants at least one item (NONEMPTY). */
static int put_enum_list(json_t *obj, const char *key, const category *c, const char *name,
			 const enum_map *m, bool nonempty)
{
	json_t *list;
	int rc = get_enum_list(&list, c, name, m, false);
	if (rc < 0 || !list)
		return rc;
	if (nonempty && json_array_size(list) == 0) {
		json_decref(list);
		return 0;
	}
	return put(obj, key, list);
}

/* --- auth --------------------------------------------------------------- */

static int auth_password_policy(json_t *auth, const category *c)
{
	json_t *minv = json_object_get(c->payload, "passwordPolicyMinLength");
	json_t *reqs = NULL, *v;
	char buf[80];
	size_t i;
	if (minv && json_is_string(minv) && !json_string_length(minv))
		minv = NULL;
	int rc = get_json(&reqs, c, "passwordPolicyRequirements", JSON_ARRAY);
	if (rc < 0 || (!minv && !reqs))
		return rc;
	/* Amplify's defaults: what the construct uses when not told. */
	json_int_t min = 8;
	if (minv) {
		char *end = NULL;
		long long n = -1;
		if (json_is_integer(minv))
			n = json_integer_value(minv);
		else if (json_is_string(minv) && isdigit((unsigned char)json_string_value(minv)[0])) {
			errno = 0;
			n = strtoll(json_string_value(minv), &end, 10);
			if (errno || *end)
				n = -1;
		}
		if (n < 6 || n > 99) {
			json_decref(reqs);
			return cat_fail(c, "stack output 'passwordPolicyMinLength' must be a whole "
					"number from 6 to 99, got '%s'", clip(minv, buf));
		}
		min = (json_int_t)n;
	}
	static const char *const names[] = {"REQUIRES_NUMBERS", "REQUIRES_LOWERCASE",
					    "REQUIRES_UPPERCASE", "REQUIRES_SYMBOLS"};
	static const char *const keys[] = {"require_numbers", "require_lowercase",
					   "require_uppercase", "require_symbols"};
	bool on[4] = {false, false, false, false};
	json_array_foreach(reqs, i, v) {
		int k = 0;
		while (k < 4 && !(json_is_string(v) && !strcasecmp(json_string_value(v), names[k])))
			k++;
		if (k == 4) {
			rc = cat_fail(c, "stack output 'passwordPolicyRequirements' has '%s', which "
				      "is not one of REQUIRES_NUMBERS, REQUIRES_LOWERCASE, "
				      "REQUIRES_UPPERCASE, REQUIRES_SYMBOLS", clip(v, buf));
			json_decref(reqs);
			return rc;
		}
		on[k] = true;
	}
	json_decref(reqs);
	json_t *pp = json_object();
	rc = put(auth, "password_policy", pp);
	if (rc == 0)
		rc = put(pp, "min_length", json_integer(min));
	for (int k = 0; rc == 0 && k < 4; k++)
		rc = put(pp, keys[k], json_boolean(on[k]));
	return rc;
}

/* [{"ADMINS": {"precedence": 0}}, ...] */
static int auth_groups(json_t *auth, const category *c)
{
	json_t *groups, *g, *cfg;
	const char *name;
	char buf[80];
	size_t i;
	int rc = get_json(&groups, c, "groups", JSON_ARRAY);
	if (rc < 0 || !groups)
		return rc;
	json_array_foreach(groups, i, g) {
		if (!json_is_object(g)) {
			rc = cat_fail(c, "stack output 'groups': item %zu is not an object "
				      "{\"<group>\": {\"precedence\": n}}: '%s'", i + 1, clip(g, buf));
			break;
		}
		json_object_foreach(g, name, cfg) {
			const char *k;
			json_t *p;
			if (!json_is_object(cfg)) {
				rc = cat_fail(c, "stack output 'groups': group '%s' is not an "
					      "object {\"precedence\": n}", name);
				break;
			}
			json_object_foreach(cfg, k, p) {
				if (strcmp(k, "precedence") || !json_is_integer(p)) {
					rc = cat_fail(c, "stack output 'groups': group '%s' has "
						      "'%s': '%s' (only an integer \"precedence\")",
						      name, k, clip(p, buf));
					break;
				}
			}
			if (rc < 0)
				break;
		}
		if (rc < 0)
			break;
	}
	if (rc < 0) {
		json_decref(groups);
		return rc;
	}
	return put(auth, "groups", groups);
}

static int auth_oauth(json_t *auth, const category *c)
{
	const char *in = NULL, *outv = NULL, *domain = NULL, *rtype_s = NULL;
	json_t *providers = NULL, *scopes = NULL, *sign_in = NULL, *sign_out = NULL, *v;
	int rc = get_str(&in, c, "oauthRedirectSignIn", false);
	if (rc == 0)
		rc = get_str(&outv, c, "oauthRedirectSignOut", false);
	if (rc == 0)
		rc = get_enum_list(&providers, c, "socialProviders", identity_providers, true);
	if (rc < 0)
		return rc;
	/* OAuth is there when redirect URIs are (Amplify's rule); providers
	 * without them cannot sign anyone in. */
	if (!in && !outv) {
		size_t n = json_array_size(providers);
		json_decref(providers);
		if (n)
			return cat_fail(c, "stack output 'socialProviders' is set but the required "
					"'oauthRedirectSignIn' and 'oauthRedirectSignOut' are missing");
		return 0;
	}
	if (!in || !outv) {
		json_decref(providers);
		return cat_fail(c, "required stack output '%s' is missing (OAuth needs both "
				"redirect URI outputs)", in ? "oauthRedirectSignOut" : "oauthRedirectSignIn");
	}
	rc = get_str(&domain, c, "oauthCognitoDomain", false);
	if (rc == 0 && !domain)
		rc = get_str(&domain, c, "oauthDomain", false);
	if (rc == 0 && !domain)
		rc = cat_fail(c, "required stack output 'oauthCognitoDomain' is missing (OAuth "
			      "redirect URIs are set)");
	if (rc == 0)
		rc = get_list(&scopes, c, "oauthScope");
	if (rc == 0)
		rc = get_list(&sign_in, c, "oauthRedirectSignIn");
	if (rc == 0)
		rc = get_list(&sign_out, c, "oauthRedirectSignOut");
	if (rc == 0)
		rc = get_str(&rtype_s, c, "oauthResponseType", false);
	const char *rtype = "code";
	if (rc == 0 && rtype_s) {
		v = json_object_get(c->payload, "oauthResponseType");
		rc = enum_value(&rtype, c, "stack output 'oauthResponseType'", response_types, v);
	}
	/* Lists of strings, without duplicates (the schema's uniqueItems). */
	json_t **lists[] = {&scopes, &sign_in, &sign_out};
	const char *lnames[] = {"oauthScope", "oauthRedirectSignIn", "oauthRedirectSignOut"};
	for (int k = 0; rc == 0 && k < 3; k++) {
		json_t *src = *lists[k], *dst = json_array();
		size_t i;
		if (!dst) {
			rc = synth_error_oom();
			break;
		}
		json_array_foreach(src, i, v) {
			char buf[80];
			if (!json_is_string(v) || !json_string_length(v)) {
				rc = cat_fail(c, "stack output '%s' has '%s', which is not a "
					      "non-empty string", lnames[k], clip(v, buf));
				break;
			}
			bool dup = false;
			for (size_t j = 0; j < json_array_size(dst); j++)
				dup |= json_equal(json_array_get(dst, j), v);
			if (!dup && (rc = append(dst, json_incref(v))) < 0)
				break;
		}
		if (rc == 0 && k > 0 && json_array_size(dst) == 0)
			rc = cat_fail(c, "stack output '%s' lists no URI", lnames[k]);
		json_decref(src);
		*lists[k] = dst;
	}
	if (rc == 0 && !scopes && !(scopes = json_array()))
		rc = synth_error_oom();
	json_t *o = NULL;
	if (rc == 0) {
		o = json_object();
		rc = put(auth, "oauth", o);
	}
	if (rc == 0) {
		rc = put(o, "identity_providers", providers);
		providers = NULL;
	}
	if (rc == 0)
		rc = put(o, "domain", json_string(domain));
	if (rc == 0) {
		rc = put(o, "scopes", scopes);
		scopes = NULL;
	}
	if (rc == 0) {
		rc = put(o, "redirect_sign_in_uri", sign_in);
		sign_in = NULL;
	}
	if (rc == 0) {
		rc = put(o, "redirect_sign_out_uri", sign_out);
		sign_out = NULL;
	}
	if (rc == 0)
		rc = put(o, "response_type", json_string(rtype));
	json_decref(providers);
	json_decref(scopes);
	json_decref(sign_in);
	json_decref(sign_out);
	return rc;
}

static int build_auth(json_t *cfg, const category *c)
{
	const char *region = NULL, *pool = NULL, *client = NULL, *idpool = NULL, *unauth;
	json_t *auth = json_object();
	int rc = put(cfg, c->name, auth);
	if (rc == 0)
		rc = get_region(&region, c, "authRegion");
	if (rc == 0)
		rc = get_str(&pool, c, "userPoolId", true);
	if (rc == 0)
		rc = get_str(&client, c, "webClientId", true);
	if (rc == 0)
		rc = get_str(&idpool, c, "identityPoolId", false);
	if (rc == 0)
		rc = put(auth, "aws_region", json_string(region));
	if (rc == 0)
		rc = put(auth, "user_pool_id", json_string(pool));
	if (rc == 0)
		rc = put(auth, "user_pool_client_id", json_string(client));
	if (rc == 0 && idpool)
		rc = put(auth, "identity_pool_id", json_string(idpool));
	if (rc == 0)
		rc = auth_password_policy(auth, c);
	if (rc == 0)
		rc = put_enum_list(auth, "username_attributes", c, "usernameAttributes",
				   username_attrs, true);
	if (rc == 0)
		rc = put_enum_list(auth, "standard_required_attributes", c, "signupAttributes",
				   standard_attrs, false);
	if (rc == 0)
		rc = put_enum_list(auth, "user_verification_types", c, "verificationMechanisms",
				   verification_types, false);
	if (rc == 0) {
		json_t *v = json_object_get(c->payload, "allowUnauthenticatedIdentities");
		char buf[80];
		unauth = json_is_string(v) ? json_string_value(v) : NULL;
		if (json_is_boolean(v))
			rc = put(auth, "unauthenticated_identities_enabled", json_incref(v));
		else if (unauth && (!strcmp(unauth, "true") || !strcmp(unauth, "false")))
			rc = put(auth, "unauthenticated_identities_enabled",
				 json_boolean(!strcmp(unauth, "true")));
		else if (v && !(unauth && !*unauth))
			rc = cat_fail(c, "stack output 'allowUnauthenticatedIdentities' must be "
				      "\"true\" or \"false\", got '%s'", clip(v, buf));
	}
	if (rc == 0) {
		const char *mfa;
		rc = get_str(&mfa, c, "mfaConfiguration", false);
		if (rc == 0 && mfa) {
			const char *canon;
			rc = enum_value(&canon, c, "stack output 'mfaConfiguration'", mfa_configs,
					json_object_get(c->payload, "mfaConfiguration"));
			if (rc == 0)
				rc = put(auth, "mfa_configuration", json_string(canon));
		}
	}
	if (rc == 0)
		rc = put_enum_list(auth, "mfa_methods", c, "mfaTypes", mfa_methods, false);
	if (rc == 0)
		rc = auth_groups(auth, c);
	if (rc == 0)
		rc = auth_oauth(auth, c);
	return rc;
}

/* --- data (AppSync) ----------------------------------------------------- */

static int build_data(json_t *cfg, const category *c)
{
	const char *region = NULL, *url = NULL, *key = NULL;
	json_t *types = NULL;
	const char *def = NULL;
	json_t *data = json_object();
	int rc = put(cfg, c->name, data);
	if (rc == 0)
		rc = get_str(&url, c, "awsAppsyncApiEndpoint", true);
	if (rc == 0)
		rc = get_region(&region, c, "awsAppsyncRegion");
	if (rc == 0) {
		const char *s;
		rc = get_str(&s, c, "awsAppsyncAuthenticationType", true);
		if (rc == 0)
			rc = enum_value(&def, c, "stack output 'awsAppsyncAuthenticationType'",
					auth_types,
					json_object_get(c->payload, "awsAppsyncAuthenticationType"));
	}
	if (rc == 0) {
		/* Amplify's awsAppsyncAdditionalAuthenticationTypes: "API_KEY,AWS_IAM". */
		json_t *list;
		rc = get_list(&list, c, "awsAppsyncAdditionalAuthenticationTypes");
		if (rc == 0 && !list && !(list = json_array()))
			rc = synth_error_oom();
		if (rc == 0)
			rc = enum_list(&types, c,
				       "stack output 'awsAppsyncAdditionalAuthenticationTypes'", list,
				       auth_types, false);
	}
	if (rc == 0)
		rc = get_str(&key, c, "awsAppsyncApiKey", false);
	if (rc == 0 && !key) {
		bool api_key = !strcmp(def, "API_KEY");
		for (size_t i = 0; i < json_array_size(types); i++)
			api_key |= !strcmp(json_string_value(json_array_get(types, i)), "API_KEY");
		if (api_key)
			rc = cat_fail(c, "API_KEY authorization is enabled but the required stack "
				      "output 'awsAppsyncApiKey' is missing");
	}
	if (rc == 0)
		rc = put(data, "url", json_string(url));
	if (rc == 0)
		rc = put(data, "aws_region", json_string(region));
	if (rc == 0 && key)
		rc = put(data, "api_key", json_string(key));
	if (rc == 0)
		rc = put(data, "default_authorization_type", json_string(def));
	if (rc == 0) {
		rc = put(data, "authorization_types", types);
		types = NULL;
	}
	json_decref(types);
	return rc;
}

/* --- storage ------------------------------------------------------------ */

/* {"media/<star>": {"guest": ["get", "list"], "entityidentity": [...]}, ...}:
 * path prefix -> who -> actions. */
static int check_paths(const category *c, const char *bucket, json_t *paths)
{
	const char *path, *who;
	json_t *rule, *acts;
	char what[512], buf[80];
	if (!json_is_object(paths))
		return cat_fail(c, "stack output 'buckets': bucket '%s' has paths '%s', which is "
				"not an object", bucket, clip(paths, buf));
	json_object_foreach(paths, path, rule) {
		if (!json_is_object(rule))
			return cat_fail(c, "stack output 'buckets': bucket '%s' path '%s' is not an "
					"object of access rules", bucket, path);
		json_object_foreach(rule, who, acts) {
			json_t *canon;
			snprintf(what, sizeof what,
				 "stack output 'buckets' (bucket '%s', path '%s', access '%s')",
				 bucket, path, who);
			if (!json_is_array(acts))
				return cat_fail(c, "%s is not a list of actions", what);
			/* Keep the spelling of the schema (lowercase), in order. */
			int rc = enum_list(&canon, c, what, json_incref(acts), storage_actions, false);
			if (rc < 0)
				return rc;
			if (json_object_set_new(rule, who, canon) < 0)
				return synth_error_oom();
		}
	}
	return 0;
}

/* One bucket of Amplify's "buckets" output: an object or, as Amplify
 * writes it, a JSON string of one. */
static int storage_bucket(json_t **out, const category *c, size_t index, json_t *item)
{
	json_t *b = NULL, *res = NULL;
	char buf[80];
	int rc = 0;
	*out = NULL;
	if (json_is_string(item)) {
		json_error_t err;
		b = json_loads(json_string_value(item), JSON_REJECT_DUPLICATES, &err);
		if (!b) {
			if (parse_oom(&err))
				return synth_error_oom();
			return cat_fail(c, "stack output 'buckets': item %zu is not valid JSON (%s): "
					"'%s'", index + 1, err.text, clip(item, buf));
		}
	} else {
		b = json_incref(item);
	}
	if (!json_is_object(b)) {
		rc = cat_fail(c, "stack output 'buckets': item %zu is not an object: '%s'",
			      index + 1, clip(item, buf));
		goto done;
	}
	static const char *const from[] = {"name", "bucketName", "storageRegion"};
	static const char *const to[] = {"name", "bucket_name", "aws_region"};
	res = json_object();
	if (!res) {
		rc = synth_error_oom();
		goto done;
	}
	const char *name = json_string_value(json_object_get(b, "name"));
	for (int k = 0; k < 3; k++) {
		json_t *v = json_object_get(b, from[k]);
		if (!json_is_string(v) || !json_string_length(v)) {
			rc = cat_fail(c, "stack output 'buckets': bucket %s%s%s (item %zu) %s '%s'",
				      name ? "'" : "", name ? name : "", name ? "'" : "", index + 1,
				      v ? "has a non-string or empty" : "has no", from[k]);
			goto done;
		}
		if ((rc = put(res, to[k], json_incref(v))) < 0)
			goto done;
	}
	json_t *paths = json_object_get(b, "paths");
	if (paths) {
		json_t *copy = json_deep_copy(paths);
		if (!copy) {
			rc = synth_error_oom();
			goto done;
		}
		if ((rc = put(res, "paths", copy)) < 0 || (rc = check_paths(c, name, copy)) < 0)
			goto done;
	}
	*out = res;
	res = NULL;
done:
	json_decref(res);
	json_decref(b);
	return rc;
}

static int build_storage(json_t *cfg, const category *c)
{
	const char *region = NULL, *bucket = NULL;
	json_t *list = NULL, *item, *buckets = NULL;
	size_t i;
	json_t *st = json_object();
	int rc = put(cfg, c->name, st);
	if (rc == 0)
		rc = get_region(&region, c, "storageRegion");
	if (rc == 0)
		rc = get_str(&bucket, c, "bucketName", true);
	if (rc == 0)
		rc = put(st, "aws_region", json_string(region));
	if (rc == 0)
		rc = put(st, "bucket_name", json_string(bucket));
	if (rc == 0)
		rc = get_json(&list, c, "buckets", JSON_ARRAY);
	if (rc < 0 || !list)
		return rc;
	buckets = json_array();
	rc = put(st, "buckets", buckets);
	json_array_foreach(list, i, item) {
		json_t *b;
		if (rc < 0 || (rc = storage_bucket(&b, c, i, item)) < 0)
			break;
		const char *name = json_string_value(json_object_get(b, "name"));
		for (size_t k = 0; rc == 0 && k < json_array_size(buckets); k++)
			if (!strcmp(json_string_value(json_object_get(json_array_get(buckets, k),
								      "name")), name))
				rc = cat_fail(c, "stack output 'buckets' names bucket '%s' twice",
					      name);
		if (rc < 0) {
			json_decref(b);
			break;
		}
		if ((rc = append(buckets, b)) < 0)
			break;
	}
	json_decref(list);
	return rc;
}

/* --- custom ------------------------------------------------------------- */

/* Deep merge as Amplify's accumulator does: objects merge, lists
 * concatenate, a different scalar at the same place is an error. PATH
 * names the place for messages. */
static int merge(const category *c, json_t *dst, json_t *src, synth_buf *path)
{
	const char *k;
	json_t *s;
	size_t len = path->len;
	int rc = 0;
	json_object_foreach(src, k, s) {
		json_t *d = json_object_get(dst, k);
		path->len = len;
		synth_buf_printf(path, "%s%s", len ? "." : "", k);
		if (path->oom)
			return synth_error_oom();
		if (!d) {
			rc = put(dst, k, json_deep_copy(s));
		} else if (json_is_object(d) && json_is_object(s)) {
			rc = merge(c, d, s, path);
		} else if (json_is_array(d) && json_is_array(s)) {
			size_t i;
			json_t *v;
			json_array_foreach(s, i, v) {
				if ((rc = append(d, json_deep_copy(v))) < 0)
					break;
			}
		} else if (!json_equal(d, s)) {
			rc = cat_fail(c, "stack output 'customOutputs' sets '%s', which is already "
				      "set to a different value", path->ptr);
		}
		if (rc < 0)
			return rc;
	}
	path->len = len;
	if (path->ptr)
		path->ptr[len] = '\0';
	return 0;
}

static int build_custom(json_t *cfg, const category *c)
{
	const char *name;
	json_t *v, *custom = NULL, *extra = NULL;
	int rc = 0;
	/* Outputs a backend adds to the custom category by name become
	 * custom.<name>; Amplify's customOutputs (a serialized part of the
	 * config) is merged in. */
	json_object_foreach(c->payload, name, v) {
		if (!strcmp(name, "customOutputs"))
			continue;
		if (!json_is_string(v))
			return cat_fail(c, "stack output '%s' is not a string", name);
		if (!custom && (rc = put(cfg, "custom", custom = json_object())) < 0)
			return rc;
		if ((rc = put(custom, name, json_incref(v))) < 0)
			return rc;
	}
	if ((rc = get_json(&extra, c, "customOutputs", JSON_OBJECT)) < 0 || !extra)
		return rc;
	static const char *const allowed[] = {"version", "analytics", "auth", "data", "geo",
					      "notifications", "storage", "custom", NULL};
	const char *k;
	json_object_foreach(extra, k, v) {
		int i = 0;
		while (allowed[i] && strcmp(allowed[i], k))
			i++;
		if (!allowed[i]) {
			rc = cat_fail(c, "stack output 'customOutputs' has '%s', which is not a "
				      "section of amplify_outputs.json (analytics, auth, custom, "
				      "data, geo, notifications, storage)", k);
			break;
		}
	}
	json_t *ver = json_object_get(extra, "version");
	if (rc == 0 && ver) {
		const char *s = json_string_value(ver);
		char buf[80];
		if (!s || !(s[0] == '1' && (s[1] == '\0' || s[1] == '.')))
			rc = cat_fail(c, "stack output 'customOutputs' has version '%s'; version "
				      "1 (1.x) is understood", clip(ver, buf));
		else
			json_object_del(extra, "version");
	}
	if (rc == 0) {
		synth_buf path = SYNTH_BUF_INIT;
		rc = merge(c, cfg, extra, &path);
		synth_buf_free(&path);
	}
	json_decref(extra);
	return rc;
}

/* --- metadata and outputs ----------------------------------------------- */

#define AMPLIFY_PREFIX "AWS::Amplify::"

static const struct {
	const char *name;
	const char *keys[2];
	int (*build)(json_t *cfg, const category *c);
} categories[] = {
	{"auth", {"Auth", NULL}, build_auth},
	{"data", {"GraphQL", "Data"}, build_data},
	{"storage", {"Storage", NULL}, build_storage},
	{"custom", {"Custom", NULL}, build_custom},
};
#define NCATEGORIES (sizeof categories / sizeof categories[0])

/* OUTPUTS as an object name -> value (new reference). */
static int outputs_object(json_t **out, json_t *outputs)
{
	json_t *list = outputs, *item;
	size_t i;
	*out = NULL;
	if (!outputs || (json_is_string(outputs) && !json_string_length(outputs))) {
		/* none, or an empty <Outputs/> read from XML */
		*out = json_object();
		return *out ? 0 : synth_error_oom();
	}
	if (json_is_object(outputs)) {
		json_t *m = json_object_get(outputs, "member");
		if (!(json_object_size(outputs) == 1 && json_is_array(m))) {
			*out = json_incref(outputs);
			return 0;
		}
		list = m;
	}
	if (!json_is_array(list))
		return synth_error_setf(SYNTH_EINVALID, "stack outputs: expected an object of "
					"name -> value or a list of {\"OutputKey\", "
					"\"OutputValue\"}");
	json_t *obj = json_object();
	if (!obj)
		return synth_error_oom();
	json_array_foreach(list, i, item) {
		const char *key = json_string_value(json_object_get(item, "OutputKey"));
		json_t *val = json_object_get(item, "OutputValue");
		int rc = 0;
		if (!key || !*key)
			rc = synth_error_setf(SYNTH_EINVALID, "stack outputs: item %zu has no "
					      "\"OutputKey\"", i + 1);
		else if (!val)
			rc = synth_error_setf(SYNTH_EINVALID, "stack outputs: '%s' has no "
					      "\"OutputValue\"", key);
		else if (json_object_get(obj, key))
			rc = synth_error_setf(SYNTH_EINVALID, "stack outputs: '%s' is listed twice",
					      key);
		else
			rc = put(obj, key, json_incref(val));
		if (rc < 0) {
			json_decref(obj);
			return rc;
		}
	}
	*out = obj;
	return 0;
}

/* The metadata entry of category I (borrowed; NULL if absent) and its key. */
static int find_category(json_t **entry, const char **key, json_t *metadata, size_t i)
{
	const char *k;
	json_t *v;
	*entry = NULL;
	*key = NULL;
	json_object_foreach(metadata, k, v) {
		if (strncmp(k, AMPLIFY_PREFIX, strlen(AMPLIFY_PREFIX)))
			continue;
		const char *suffix = k + strlen(AMPLIFY_PREFIX);
		for (int j = 0; j < 2 && categories[i].keys[j]; j++) {
			if (strcasecmp(suffix, categories[i].keys[j]))
				continue;
			if (*entry)
				return synth_error_setf(SYNTH_EINVALID, "the template metadata lists "
							"both %s and %s (one %s category)",
							*key, k, categories[i].name);
			*entry = v;
			*key = k;
		}
	}
	return 0;
}

int synth__clientconfig_build(json_t **out, json_t *metadata, json_t *outputs,
			      const char *region)
{
	json_t *cfg = NULL, *outs = NULL;
	int rc;
	*out = NULL;
	if (metadata && !json_is_object(metadata))
		return synth_error_setf(SYNTH_EINVALID, "the template's Metadata is not an object");
	if ((rc = outputs_object(&outs, outputs)) < 0)
		return rc;
	cfg = json_object();
	rc = put(cfg, "version", json_string(SYNTH_CLIENTCONFIG_VERSION));
	for (size_t i = 0; rc == 0 && i < NCATEGORIES; i++) {
		json_t *entry, *names, *n;
		const char *key;
		size_t j;
		if ((rc = find_category(&entry, &key, metadata, i)) < 0 || !entry)
			continue;
		category c = {categories[i].name, key, NULL, region};
		const char *ver = json_string_value(json_object_get(entry, "version"));
		names = json_object_get(entry, "stackOutputs");
		if (!json_is_object(entry) || !ver || !json_is_array(names)) {
			rc = cat_fail(&c, "the template metadata entry is not "
				      "{\"version\": \"1\", \"stackOutputs\": [...]}");
			break;
		}
		if (strcmp(ver, "1")) {
			rc = cat_fail(&c, "the template metadata has version '%s'; version 1 is "
				      "understood", ver);
			break;
		}
		if (!(c.payload = json_object())) {
			rc = synth_error_oom();
			break;
		}
		json_array_foreach(names, j, n) {
			const char *name = json_string_value(n);
			json_t *v = name ? json_object_get(outs, name) : NULL;
			if (!name)
				rc = cat_fail(&c, "the template metadata's stackOutputs has a "
					      "non-string item");
			else if (!v)
				rc = cat_fail(&c, "stack output '%s' is listed in the template "
					      "metadata but missing from the stack outputs", name);
			else
				rc = put(c.payload, name, json_incref(v));
			if (rc < 0)
				break;
		}
		if (rc == 0)
			rc = categories[i].build(cfg, &c);
		json_decref(c.payload);
	}
	json_decref(outs);
	if (rc < 0) {
		json_decref(cfg);
		return rc;
	}
	*out = cfg;
	return 0;
}

int synth__clientconfig_set_model_introspection(json_t *config, json_t *schema)
{
	json_t *data = json_object_get(config, "data");
	if (!json_is_object(data))
		return synth_error_setf(SYNTH_EINVALID, "model introspection schema given but the "
					"backend has no data category");
	if (!json_is_object(schema))
		return synth_error_setf(SYNTH_EINVALID, "data: the model introspection schema is "
					"not a JSON object");
	return put(data, "model_introspection", json_deep_copy(schema));
}

/* --- writing ------------------------------------------------------------ */

int synth__clientconfig_write(const char *path, json_t *config)
{
	static atomic_uint seq;
	if (!json_is_object(config))
		return synth_error_setf(SYNTH_EINVALID, "cannot write %s: the configuration is "
					"not an object", path);
	char *text = synth_json_dumps(config, JSON_INDENT(2) | JSON_SORT_KEYS);
	if (!text)
		return synth_error_oom();
	size_t len = strlen(text);
	char *tmp = NULL;
	int fd = -1, rc = 0;
	for (int attempt = 0; fd < 0 && attempt < 100; attempt++) {
		free(tmp);
		tmp = synth_asprintf("%s.tmp.%ld.%u", path, (long)getpid(),
				      atomic_fetch_add(&seq, 1));
		if (!tmp) {
			free(text);
			return synth_error_oom();
		}
		fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
		if (fd < 0 && errno != EEXIST)
			break;
	}
	if (fd < 0) {
		rc = synth_error_setf(SYNTH_EIO, "cannot write %s: %s", path, strerror(errno));
		free(tmp);
		free(text);
		return rc;
	}
	/* The text, then the trailing newline. */
	const char *parts[2] = {text, "\n"};
	size_t lens[2] = {len, 1};
	for (int k = 0; rc == 0 && k < 2; k++) {
		const char *p = parts[k];
		size_t left = lens[k];
		while (left > 0) {
			ssize_t n = write(fd, p, left);
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0) {
				rc = synth_error_setf(SYNTH_EIO, "cannot write %s: %s", path,
						      strerror(errno));
				break;
			}
			p += n;
			left -= (size_t)n;
		}
	}
	if (rc == 0 && fsync(fd) < 0)
		rc = synth_error_setf(SYNTH_EIO, "cannot write %s: %s", path, strerror(errno));
	if (close(fd) < 0 && rc == 0)
		rc = synth_error_setf(SYNTH_EIO, "cannot write %s: %s", path, strerror(errno));
	if (rc == 0 && rename(tmp, path) < 0)
		rc = synth_error_setf(SYNTH_EIO, "cannot write %s: %s", path, strerror(errno));
	if (rc < 0)
		unlink(tmp);
	free(tmp);
	free(text);
	return rc;
}

/* --- outputs supplied in files ------------------------------------------ */

static int load_json(json_t **out, const char *path, const char *what)
{
	json_error_t err;
	struct stat st;
	*out = NULL;
	if (stat(path, &st) < 0)
		return synth_error_setf(errno == ENOENT ? SYNTH_ENOTFOUND : SYNTH_EIO,
					"cannot read the %s %s: %s", what, path, strerror(errno));
	*out = json_load_file(path, JSON_REJECT_DUPLICATES, &err);
	if (*out)
		return 0;
	if (parse_oom(&err))
		return synth_error_oom();
	if (json_error_code(&err) == json_error_cannot_open_file)
		return synth_error_setf(SYNTH_EIO, "cannot read the %s %s: %s", what, path,
					err.text);
	return synth_error_setf(SYNTH_EINVALID, "%s:%d:%d: %s", path, err.line, err.column,
				err.text);
}

/* The root template: TEMPLATE_PATH itself, or the one stack template a
 * cloud assembly directory's manifest.json names. */
static int load_template(json_t **out, const char *template_path)
{
	struct stat st;
	*out = NULL;
	if (stat(template_path, &st) < 0 || !S_ISDIR(st.st_mode))
		return load_json(out, template_path, "template");
	char *mpath = synth_asprintf("%s/manifest.json", template_path);
	json_t *m = NULL, *a;
	const char *k, *file = NULL;
	int rc = mpath ? load_json(&m, mpath, "cloud assembly manifest") : synth_error_oom();
	json_object_foreach(json_object_get(m, "artifacts"), k, a) {
		if (rc < 0)
			break;
		const char *type = json_string_value(json_object_get(a, "type"));
		if (!type || strcmp(type, "aws:cloudformation:stack"))
			continue;
		if (file)
			rc = synth_error_setf(SYNTH_EINVALID, "%s names more than one stack; give "
					      "the root template", mpath);
		file = json_string_value(json_object_get(json_object_get(a, "properties"),
							 "templateFile"));
		if (rc == 0 && !file)
			rc = synth_error_setf(SYNTH_EINVALID, "%s: stack '%s' has no templateFile",
					      mpath, k);
	}
	if (rc == 0 && !file)
		rc = synth_error_setf(SYNTH_EINVALID, "%s names no stack", mpath);
	if (rc == 0) {
		char *tpath = synth_asprintf("%s/%s", template_path, file);
		rc = tpath ? load_json(out, tpath, "template") : synth_error_oom();
		free(tpath);
	}
	json_decref(m);
	free(mpath);
	return rc;
}

/* The stack of a describe-stacks document: the only one, or the only root. */
static int pick_stack(json_t **out, json_t *stacks, const char *path)
{
	json_t *s, *found = NULL;
	size_t i, roots = 0;
	*out = NULL;
	if (json_is_object(stacks))
		stacks = json_object_get(stacks, "member");
	if (!json_is_array(stacks) || json_array_size(stacks) == 0)
		return synth_error_setf(SYNTH_EINVALID, "%s: \"Stacks\" lists no stack", path);
	json_array_foreach(stacks, i, s) {
		if (!json_is_object(s))
			return synth_error_setf(SYNTH_EINVALID, "%s: stack %zu is not an object",
						path, i + 1);
		if (json_array_size(stacks) == 1 || !json_object_get(s, "ParentId")) {
			roots++;
			found = s;
		}
	}
	if (roots != 1)
		return synth_error_setf(SYNTH_EINVALID, "%s lists %zu root stacks; describe the "
					"backend's stack only", path, roots);
	const char *status = json_string_value(json_object_get(found, "StackStatus"));
	const char *name = json_string_value(json_object_get(found, "StackName"));
	if (status && (strstr(status, "_IN_PROGRESS") || !strcmp(status, "CREATE_FAILED") ||
		       !strcmp(status, "ROLLBACK_COMPLETE") || !strcmp(status, "ROLLBACK_FAILED") ||
		       !strncmp(status, "DELETE_", 7)))
		return synth_error_setf(SYNTH_EINVALID, "%s: stack %s is %s; its outputs are not "
					"those of a finished deployment", path, name ? name : "?",
					status);
	*out = found;
	return 0;
}

/* The region of a stack id "arn:aws:cloudformation:REGION:ACCOUNT:stack/...". */
static int arn_region(char *buf, size_t n, const char *arn, const char *path)
{
	const char *p = arn;
	buf[0] = '\0';
	for (int field = 0; field < 3 && p; field++) {
		p = strchr(p, ':');
		if (p)
			p++;
	}
	const char *end = p ? strchr(p, ':') : NULL;
	if (strncmp(arn, "arn:", 4) || !end || end == p || (size_t)(end - p) >= n)
		return synth_error_setf(SYNTH_EINVALID, "%s: StackId '%s' is not a stack ARN",
					path, arn);
	memcpy(buf, p, (size_t)(end - p));
	buf[end - p] = '\0';
	return 0;
}

/* data.model_introspection from a file:// SYNTH_OUT_MODEL_SCHEMA_URI output. */
static int model_from_uri(json_t *cfg, json_t *outputs, const char *outputs_path)
{
	json_t *outs = NULL, *mis = NULL;
	int rc = outputs_object(&outs, outputs);
	const char *uri = json_string_value(json_object_get(outs, SYNTH_OUT_MODEL_SCHEMA_URI));
	if (rc < 0 || !json_object_get(cfg, "data") || !uri || strncmp(uri, "file://", 7)) {
		json_decref(outs);
		return rc;
	}
	const char *file = uri + 7;
	char *full = NULL;
	if (file[0] != '/') {
		const char *slash = strrchr(outputs_path, '/');
		full = slash ? synth_asprintf("%.*s/%s", (int)(slash - outputs_path), outputs_path,
					       file)
			     : synth_strdup(file);
		if (!full)
			rc = synth_error_oom();
		file = full;
	}
	if (rc == 0)
		rc = load_json(&mis, file, "model introspection schema (stack output "
			       "'" SYNTH_OUT_MODEL_SCHEMA_URI "')");
	if (rc == 0)
		rc = synth__clientconfig_set_model_introspection(cfg, mis);
	json_decref(mis);
	free(full);
	json_decref(outs);
	return rc;
}

int synth__clientconfig_from_files(json_t **out, const char *template_path,
				   const char *outputs_path)
{
	json_t *doc = NULL, *tmpl = NULL, *cfg = NULL;
	json_t *metadata = NULL, *outputs = NULL, *mis = NULL;
	const char *region = NULL;
	char region_buf[64];
	int rc;
	*out = NULL;
	if ((rc = load_json(&doc, outputs_path, "stack outputs file")) < 0)
		return rc;
	if (json_is_object(doc) && json_object_get(doc, "Stacks")) {
		json_t *stack;
		rc = pick_stack(&stack, json_object_get(doc, "Stacks"), outputs_path);
		if (rc == 0) {
			outputs = json_object_get(stack, "Outputs");
			const char *id = json_string_value(json_object_get(stack, "StackId"));
			if (id && (rc = arn_region(region_buf, sizeof region_buf, id,
						   outputs_path)) == 0)
				region = region_buf;
		}
	} else if (json_is_object(doc) && json_object_get(doc, "outputs")) {
		const char *k;
		json_t *v;
		json_object_foreach(doc, k, v) {
			if (strcmp(k, "outputs") && strcmp(k, "metadata") && strcmp(k, "region") &&
			    strcmp(k, "model_introspection")) {
				rc = synth_error_setf(SYNTH_EINVALID, "%s: unknown key '%s' (expected "
						      "outputs, metadata, region, "
						      "model_introspection)", outputs_path, k);
				break;
			}
		}
		outputs = json_object_get(doc, "outputs");
		metadata = json_object_get(doc, "metadata");
		mis = json_object_get(doc, "model_introspection");
		json_t *r = json_object_get(doc, "region");
		region = json_string_value(r);
		if (rc == 0 && r && (!region || !*region))
			rc = synth_error_setf(SYNTH_EINVALID, "%s: \"region\" is not a region name",
					      outputs_path);
		if (rc == 0 && mis && !json_is_object(mis))
			rc = synth_error_setf(SYNTH_EINVALID, "%s: \"model_introspection\" is not "
					      "an object", outputs_path);
	} else if (json_is_array(doc)) {
		outputs = doc;
	} else {
		rc = synth_error_setf(SYNTH_EINVALID, "%s: expected {\"outputs\": ...}, the output "
				      "of describe-stacks ({\"Stacks\": [...]}) or a list of "
				      "{\"OutputKey\", \"OutputValue\"}", outputs_path);
	}
	/* The template, when given, is the authority on what the outputs are. */
	if (rc == 0 && template_path) {
		rc = load_template(&tmpl, template_path);
		if (rc == 0 && !json_is_object(tmpl))
			rc = synth_error_setf(SYNTH_EINVALID, "%s: the template is not an object",
					      template_path);
		metadata = json_object_get(tmpl, "Metadata");
	} else if (rc == 0 && !metadata) {
		rc = synth_error_setf(SYNTH_EINVALID, "%s has no \"metadata\" listing the outputs; "
				      "give the root template too", outputs_path);
	}
	if (rc == 0)
		rc = synth__clientconfig_build(&cfg, metadata, outputs, region);
	if (rc == 0 && mis)
		rc = synth__clientconfig_set_model_introspection(cfg, mis);
	else if (rc == 0)
		rc = model_from_uri(cfg, outputs, outputs_path);
	json_decref(tmpl);
	json_decref(doc);
	if (rc < 0) {
		json_decref(cfg);
		return rc;
	}
	*out = cfg;
	return 0;
}

/*
 * define_api: an HTTP API (API Gateway v2) whose routes invoke Lambda
 * functions; include/synth/api.h lists its resources, outputs and link.
 *
 * Each route (integration, route, permission) is its own layout group and
 * refers only to the API, its handler and its authorizer, so a large API
 * spreads over nested stacks one way: API -> authorizers -> routes.
 * Written against the public construct API only.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <synth.h>
#include <synth/api.h>
#include <synth/sys/construct.h>

/* An authorization, copied (strings and arrays owned). */
typedef struct auth_spec {
	synth_api_auth_kind kind;
	char **scopes;
	synth_function *fn;  /* borrowed from the backend */
	char **sources;
	int ttl;
} auth_spec;

typedef struct route {
	char *key;    /* "GET /singers/{id}" or "$default" */
	char *id;     /* the route's part of construct paths: GET/singers/_id */
	char *norm;   /* method and path, parameters as {} (duplicates) */
	char *arn;    /* "GET/singers/(star)" or "$default" (execute-api ARNs) */
	synth_function *fn;
	auth_spec auth;  /* kind DEFAULT: the API's default */
	int timeout_ms;
} route;

struct synth_api {
	synth_construct *c;
	json_t *cors;       /* CorsConfiguration, or NULL */
	int burst, retention;
	double rate;
	auth_spec def;
	char *domain, *cert;
	route *routes;
	size_t nroutes, cap_routes;
	synth_function **linked;  /* "invoke" links, granted at generation */
	size_t nlinked, cap_linked;
	bool generated, has_auth;
};

static const synth_construct_class api_class;

static const char *const methods[] = {"GET",  "POST",    "PUT", "PATCH",
				      "DELETE", "HEAD", "OPTIONS", "ANY", NULL};

static const int retention_days[] = {1,   3,   5,   7,    14,   30,   60,   90,
				     120, 150, 180, 365,  400,  545,  731,  1096,
				     1827, 2192, 2557, 2922, 3288, 3653, 0};

static void auth_clear(auth_spec *a)
{
	synth_strv_free(a->scopes);
	synth_strv_free(a->sources);
}

static void api_free(void *state)
{
	synth_api *a = state;
	if (!a)
		return;
	json_decref(a->cors);
	auth_clear(&a->def);
	free(a->domain);
	free(a->cert);
	for (size_t i = 0; i < a->nroutes; i++) {
		route *r = &a->routes[i];
		free(r->key);
		free(r->id);
		free(r->norm);
		free(r->arn);
		auth_clear(&r->auth);
	}
	free(a->routes);
	free(a->linked);
	free(a);
}

static const char *fn_name(synth_function *fn)
{
	return synth_construct_name(synth_function_construct(fn));
}

/* "<api>/<id>" as a Ref or, with ATTR, a GetAtt. */
static json_t *tok(const char *api, const char *id, const char *attr)
{
	char *p = synth_asprintf("%s/%s", api, id);
	json_t *t = !p ? NULL : attr ? synth_getatt(p, attr) : synth_ref(p);
	free(p);
	return t;
}

/* synth_resource_new, with PROPS NULL (a builder out of memory) an error
 * rather than a resource without properties. */
static int res(synth_construct *self, const char *id, const char *type, json_t *props)
{
	if (!props)
		return synth_error_oom();
	return synth_resource_new(NULL, self, id, type, props);
}

/* Sets O[K] = V (stolen); on failure frees O and returns NULL, so that
 * res() reports out of memory rather than a property gone missing. */
static json_t *put(json_t *o, const char *k, json_t *v)
{
	if (!o || !v) {
		json_decref(o);
		json_decref(v);
		return NULL;
	}
	if (json_object_set_new(o, k, v) < 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* --- checking props ----------------------------------------------------- */

static bool in_list(const char *s, const char *const *list)
{
	for (size_t i = 0; list[i]; i++)
		if (!strcmp(s, list[i]))
			return true;
	return false;
}

/* Copies and checks authorization SRC of WHAT ("route 'GET /x'", "the
 * default authorization") into DST. 0, or SYNTH_EINVALID after
 * synth_backend_failf() naming the API NM. */
static int auth_copy(auth_spec *dst, synth_backend *b, const char *nm, const char *what,
		     const synth_api_auth *src)
{
	memset(dst, 0, sizeof *dst);
	if (src->kind < SYNTH_API_AUTH_DEFAULT || src->kind > SYNTH_API_AUTH_LAMBDA)
		return synth_backend_failf(b, SYNTH_EINVALID, "%s: %s: authorization kind %d is not "
					   "one of synth_api_auth_kind", nm, what, (int)src->kind);
	bool lambda = src->kind == SYNTH_API_AUTH_LAMBDA;
	if (src->scopes && src->kind != SYNTH_API_AUTH_JWT)
		return synth_backend_failf(b, SYNTH_EINVALID, "%s: %s: scopes need JWT "
					   "authorization (.kind = SYNTH_API_AUTH_JWT)", nm, what);
	if (!lambda && (src->fn || src->identity_sources || src->result_ttl_s))
		return synth_backend_failf(b, SYNTH_EINVALID, "%s: %s: a function, identity "
					   "sources and a result TTL are for a Lambda authorizer "
					   "(.kind = SYNTH_API_AUTH_LAMBDA)", nm, what);
	if (lambda && !src->fn)
		return synth_backend_failf(b, SYNTH_EINVALID, "%s: %s: a Lambda authorizer needs "
					   "a function (.fn)", nm, what);
	if (lambda && (src->result_ttl_s < 0 || src->result_ttl_s > 3600))
		return synth_backend_failf(b, SYNTH_EINVALID, "%s: %s: the authorizer's result "
					   "TTL %d is not 0..3600 seconds", nm, what,
					   src->result_ttl_s);
	for (size_t i = 0; src->identity_sources && src->identity_sources[i]; i++) {
		const char *s = src->identity_sources[i];
		if (strncmp(s, "$request.", 9) && strncmp(s, "$context.", 9) &&
		    strncmp(s, "$stageVariables.", 16))
			return synth_backend_failf(b, SYNTH_EINVALID, "%s: %s: identity source '%s' "
						   "is not $request.*, $context.* or "
						   "$stageVariables.*", nm, what, s);
	}
	for (size_t i = 0; src->scopes && src->scopes[i]; i++)
		if (!*src->scopes[i] || strchr(src->scopes[i], ' '))
			return synth_backend_failf(b, SYNTH_EINVALID, "%s: %s: scope '%s' is empty "
						   "or has a space", nm, what, src->scopes[i]);
	dst->kind = src->kind;
	dst->fn = src->fn;
	dst->ttl = src->result_ttl_s;
	static const char *const header[] = {"$request.header.Authorization", NULL};
	if (synth_strv_dup(&dst->scopes, src->scopes) < 0 ||
	    synth_strv_dup(&dst->sources, lambda && !src->identity_sources
						  ? header : src->identity_sources) < 0)
		return synth_backend_failf(b, SYNTH_ENOMEM, "%s: out of memory", nm);
	return 0;
}

static json_t *strv_json(const char *const *v)
{
	json_t *a = json_array();
	for (size_t i = 0; a && v && v[i]; i++)
		if (json_array_append_new(a, json_string(v[i])) < 0) {
			json_decref(a);
			return NULL;
		}
	return a;
}

/* The CorsConfiguration of C, checked; NULL after synth_backend_failf(). */
static json_t *cors_config(synth_backend *b, const char *nm, const synth_api_cors *c)
{
	static const char *const star[] = {"*", NULL};
	const char *const *origins = c->allow_origins ? c->allow_origins : star;
	const char *const *meths = c->allow_methods ? c->allow_methods : star;
	for (size_t i = 0; origins[i]; i++) {
		if (!*origins[i] || (strcmp(origins[i], "*") && !strstr(origins[i], "://"))) {
			synth_backend_failf(b, SYNTH_EINVALID, "%s: CORS origin '%s' is not \"*\" "
					    "or scheme://host[:port]", nm, origins[i]);
			return NULL;
		}
		if (c->allow_credentials && strchr(origins[i], '*')) {
			synth_backend_failf(b, SYNTH_EINVALID, "%s: CORS with credentials needs "
					    "explicit origins, not '%s'", nm, origins[i]);
			return NULL;
		}
	}
	for (size_t i = 0; meths[i]; i++)
		if (strcmp(meths[i], "*") && (!strcmp(meths[i], "ANY") || !in_list(meths[i], methods))) {
			synth_backend_failf(b, SYNTH_EINVALID, "%s: CORS method '%s' is not GET, "
					    "POST, PUT, PATCH, DELETE, HEAD, OPTIONS or *", nm, meths[i]);
			return NULL;
		}
	if (c->max_age_s < 0 || c->max_age_s > 86400) {
		synth_backend_failf(b, SYNTH_EINVALID, "%s: CORS max age %d is not 0..86400 "
				    "seconds", nm, c->max_age_s);
		return NULL;
	}
	json_t *j = json_pack("{s:o,s:o,s:o}", "AllowOrigins", strv_json(origins), "AllowMethods",
			      strv_json(meths), "AllowHeaders",
			      strv_json(c->allow_headers ? c->allow_headers : star));
	if (c->expose_headers)
		j = put(j, "ExposeHeaders", strv_json(c->expose_headers));
	if (c->max_age_s)
		j = put(j, "MaxAge", json_integer(c->max_age_s));
	if (c->allow_credentials)
		j = put(j, "AllowCredentials", json_true());
	if (!j)
		synth_backend_failf(b, SYNTH_ENOMEM, "%s: out of memory", nm);
	return j;
}

/* A custom domain: lowercase host name with a dot, and an ACM ARN. */
static int check_domain(synth_backend *b, const char *nm, const synth_api_domain *d)
{
	const char *n = d->name ? d->name : "";
	bool ok = *n && strlen(n) <= 253 && strchr(n, '.') && n[0] != '.' && n[0] != '-';
	for (const char *p = n; ok && *p; p++)
		ok = islower((unsigned char)*p) || isdigit((unsigned char)*p) || *p == '-' ||
		     *p == '.';
	if (!ok)
		return synth_backend_failf(b, SYNTH_EINVALID, "%s: custom domain '%s' is not a "
					   "lowercase host name (\"api.example.com\")", nm, n);
	const char *c = d->certificate_arn ? d->certificate_arn : "";
	if (strncmp(c, "arn:", 4) || !strstr(c, ":acm:") || !strstr(c, ":certificate/"))
		return synth_backend_failf(b, SYNTH_EINVALID, "%s: custom domain %s needs the ARN "
					   "of an ACM certificate (arn:aws:acm:<region>:<account>:"
					   "certificate/<id>), not '%s'", nm, n, c);
	return 0;
}

synth_api *synth_define_api(synth_backend *b, const char *name, const synth_api_props *props)
{
	SYNTH_CHECK_HANDLE(b);
	static const synth_api_props none = {0};
	const synth_api_props *p = props ? props : &none;
	const char *nm = name ? name : "";
	synth_error_clear();
	int ret = p->access_log_retention_days ? p->access_log_retention_days : 30;
	size_t i = 0;
	while (retention_days[i] && retention_days[i] != ret)
		i++;
	if (!retention_days[i]) {
		synth_backend_failf(b, SYNTH_EINVALID, "%s: access log retention %d days is not a "
				    "CloudWatch Logs value (1, 3, 5, 7, 14, 30, 60, 90, ..., 3653)",
				    nm, ret);
		return NULL;
	}
	if (p->throttle_burst < 0 || p->throttle_rate < 0) {
		synth_backend_failf(b, SYNTH_EINVALID, "%s: throttling burst %d and rate %g must "
				    "not be negative", nm, p->throttle_burst, p->throttle_rate);
		return NULL;
	}
	if (p->domain && check_domain(b, nm, p->domain) < 0)
		return NULL;
	synth_api *a = calloc(1, sizeof *a);
	if (!a) {
		synth_backend_failf(b, SYNTH_ENOMEM, "%s: out of memory", nm);
		return NULL;
	}
	a->burst = p->throttle_burst;
	a->rate = p->throttle_rate;
	a->retention = ret;
	if (auth_copy(&a->def, b, nm, "the default authorization", &p->default_auth) < 0 ||
	    (p->cors && !(a->cors = cors_config(b, nm, p->cors)))) {
		api_free(a);
		return NULL;
	}
	if (p->domain && (!(a->domain = strdup(p->domain->name)) ||
			  !(a->cert = strdup(p->domain->certificate_arn)))) {
		api_free(a);
		synth_backend_failf(b, SYNTH_ENOMEM, "%s: out of memory", nm);
		return NULL;
	}
	if (synth_construct_new(&a->c, b, name, &api_class, a) < 0)
		return NULL;
	return a;
}

/* --- route keys ----------------------------------------------------------- */

/* Letters and digits as they are, anything else as -XX. */
static void encode(synth_buf *b, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (isalnum((unsigned char)s[i]))
			synth_buf_putc(b, s[i]);
		else
			synth_buf_printf(b, "-%02X", (unsigned char)s[i]);
}

static bool literal_char(char c)
{
	return isalnum((unsigned char)c) || strchr("-._~:@", c);
}

/* One segment S (N bytes) of PATH: literal, {name} or (LAST only)
 * {name+}. Appends to ID, NORM and ARN. NULL, or what is wrong. */
static const char *segment(const char *s, size_t n, bool last, synth_buf *id, synth_buf *norm,
			   synth_buf *arn)
{
	if (n == 0)
		return "has an empty segment ('//' or a trailing '/')";
	synth_buf_putc(id, '/');
	synth_buf_putc(norm, '/');
	synth_buf_putc(arn, '/');
	if (s[0] != '{') {
		for (size_t i = 0; i < n; i++)
			if (!literal_char(s[i]))
				return "has a segment with a character other than letters, digits, "
				       "- . _ ~ : @ (a parameter is a whole segment, {name})";
		encode(id, s, n);
		synth_buf_put(norm, s, n);
		synth_buf_put(arn, s, n);
		return NULL;
	}
	bool greedy = n >= 3 && s[n - 2] == '+';
	size_t nl = n - 2 - greedy;
	if (s[n - 1] != '}' || nl == 0)
		return "has a parameter that is not a whole segment {name}";
	for (size_t i = 1; i <= nl; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_' && s[i] != '-' && s[i] != '.')
			return "has a parameter name other than letters, digits, _ - .";
	if (greedy && !last)
		return "has a greedy parameter {name+} that is not the last segment";
	synth_buf_putc(id, '_');
	encode(id, s + 1, nl);
	if (greedy)
		synth_buf_putc(id, '_');
	synth_buf_puts(norm, greedy ? "{+}" : "{}");
	synth_buf_putc(arn, '*');
	return NULL;
}

/* Parses KEY into R's id, norm and arn. NULL, or what is wrong. */
static const char *parse_key(route *r, const char *key)
{
	if (!strcmp(key, "$default")) {
		r->id = strdup("Default");
		r->norm = strdup("$default");
		r->arn = strdup("$default");
		return r->id && r->norm && r->arn ? NULL : "(out of memory)";
	}
	const char *sp = strchr(key, ' ');
	if (!sp)
		return "is not \"METHOD /path\" or \"$default\"";
	char method[16];
	size_t ml = (size_t)(sp - key);
	if (ml == 0 || ml >= sizeof method)
		return "does not start with a method (GET, POST, PUT, PATCH, DELETE, HEAD, "
		       "OPTIONS or ANY)";
	memcpy(method, key, ml);
	method[ml] = '\0';
	if (!in_list(method, methods))
		return "has a method other than GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS or ANY";
	const char *path = sp + 1;
	if (path[0] != '/')
		return "has a path that does not start with '/'";
	synth_buf id = SYNTH_BUF_INIT, norm = SYNTH_BUF_INIT, arn = SYNTH_BUF_INIT;
	synth_buf_puts(&id, method);
	synth_buf_puts(&norm, method);
	synth_buf_puts(&norm, " ");
	synth_buf_puts(&arn, strcmp(method, "ANY") ? method : "*");
	const char *why = NULL;
	for (const char *p = path + 1; !why && path[1];) {
		const char *e = strchr(p, '/');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		why = segment(p, n, !e, &id, &norm, &arn);
		if (!e)
			break;
		p = e + 1;
	}
	if (!path[1]) {
		synth_buf_putc(&norm, '/');
		synth_buf_putc(&arn, '/');
	}
	r->id = synth_buf_detach(&id);
	r->norm = synth_buf_detach(&norm);
	r->arn = synth_buf_detach(&arn);
	if (!why && (!r->id || !r->norm || !r->arn))
		why = "(out of memory)";
	/* A parameter named twice. */
	for (const char *p = strchr(path, '{'); !why && p; p = strchr(p + 1, '{')) {
		size_t n = strcspn(p, "+}") + 1;
		for (const char *q = strchr(p + 1, '{'); q; q = strchr(q + 1, '{'))
			if (!strncmp(p, q, n - 1) && (q[n - 1] == '}' || q[n - 1] == '+'))
				why = "names a parameter twice";
	}
	if (!why && strlen(r->id) > 100) {
		char hex[65];
		if (synth_sha256_hex(key, strlen(key), hex) < 0)
			return "(out of memory)";
		sprintf(r->id + 90, "-%.8s", hex);
	}
	return why;
}

/* Two routes naming the same Lambda authorizer must agree on it. */
static bool same_authorizer(const auth_spec *x, const auth_spec *y)
{
	if (x->ttl != y->ttl)
		return false;
	size_t i = 0;
	for (; x->sources[i] && y->sources[i]; i++)
		if (strcmp(x->sources[i], y->sources[i]))
			return false;
	return !x->sources[i] && !y->sources[i];
}

/* The authorization route R uses, the API's default applied (kind DEFAULT
 * left: JWT when the backend has auth, else none). */
static const auth_spec *effective(const synth_api *a, const route *r)
{
	return r->auth.kind == SYNTH_API_AUTH_DEFAULT ? &a->def : &r->auth;
}

static int route_conflicts(synth_api *a, route *r)
{
	const auth_spec *ra = effective(a, r);
	for (size_t i = 0; i < a->nroutes; i++) {
		const route *o = &a->routes[i];
		if (!strcmp(o->norm, r->norm))
			return synth_construct_failf(a->c, SYNTH_EEXISTS, "route '%s': the same "
						     "method and path as route '%s'", r->key, o->key);
		const auth_spec *oa = effective(a, o);
		if (ra->kind == SYNTH_API_AUTH_LAMBDA && oa->kind == SYNTH_API_AUTH_LAMBDA &&
		    ra->fn == oa->fn && !same_authorizer(ra, oa))
			return synth_construct_failf(a->c, SYNTH_EINVALID,
						     "route '%s': Lambda authorizer %s has other "
						     "identity sources or result TTL than for route "
						     "'%s' (one authorizer per function)",
						     r->key, fn_name(ra->fn), o->key);
	}
	return 0;
}

int synth_api_route(synth_api *api, const char *key, synth_function *fn,
		    const synth_api_route_opts *opts)
{
	static const synth_api_route_opts none = {0};
	const synth_api_route_opts *o = opts ? opts : &none;
	if (!api)
		return synth_error_setf(SYNTH_EINVALID, "synth_api_route: no API (its definition "
					"failed)");
	synth_backend *b = synth_construct_backend(api->c);
	const char *nm = synth_construct_name(api->c);
	const char *k = key ? key : "";
	if (!fn)
		return synth_construct_failf(api->c, SYNTH_EINVALID, "route '%s' has no function "
					     "(did its define fail?)", k);
	if (o->timeout_ms && (o->timeout_ms < 50 || o->timeout_ms > 30000))
		return synth_construct_failf(api->c, SYNTH_EINVALID, "route '%s': timeout %d ms is "
					     "not 50..30000", k, o->timeout_ms);
	route r = {.fn = fn, .timeout_ms = o->timeout_ms};
	char *what = synth_asprintf("route '%s'", k);
	const char *why = parse_key(&r, k);
	int rc = 0;
	if (!what)
		rc = synth_backend_failf(b, SYNTH_ENOMEM, "%s: out of memory", nm);
	else if (why)
		rc = synth_construct_failf(api->c, why[0] == '(' ? SYNTH_ENOMEM : SYNTH_EINVALID,
					   "route '%s' %s", k, why);
	else
		rc = auth_copy(&r.auth, b, nm, what, &o->auth);
	free(what);
	if (rc == 0 && !(r.key = strdup(k)))
		rc = synth_backend_failf(b, SYNTH_ENOMEM, "%s: out of memory", nm);
	if (rc == 0)
		rc = route_conflicts(api, &r);
	if (rc == 0 && synth_array_grow((void **)&api->routes, &api->nroutes, &api->cap_routes,
					sizeof *api->routes) < 0)
		rc = synth_backend_failf(b, SYNTH_ENOMEM, "%s: out of memory", nm);
	if (rc < 0) {
		free(r.key);
		free(r.id);
		free(r.norm);
		free(r.arn);
		auth_clear(&r.auth);
		return rc;
	}
	api->routes[api->nroutes++] = r;
	return 0;
}

/* --- generation ----------------------------------------------------------- */

/* "arn:<partition>:execute-api:<region>:<account>:<api id>/TAIL" */
static json_t *execute_arn(const char *api, const char *tail)
{
	char *fmt = synth_asprintf("arn:${AWS::Partition}:execute-api:${AWS::Region}:"
				   "${AWS::AccountId}:${Api}/%s", tail);
	json_t *t = fmt ? synth_sub(fmt, "Api", tok(api, "Api", NULL), NULL) : NULL;
	free(fmt);
	return t;
}

static const char *access_log_format =
	"{\"requestId\":\"$context.requestId\",\"ip\":\"$context.identity.sourceIp\","
	"\"requestTime\":\"$context.requestTime\",\"httpMethod\":\"$context.httpMethod\","
	"\"routeKey\":\"$context.routeKey\",\"status\":\"$context.status\","
	"\"protocol\":\"$context.protocol\",\"responseLength\":\"$context.responseLength\","
	"\"integrationError\":\"$context.integrationErrorMessage\","
	"\"authorizerError\":\"$context.authorizer.error\"}";

/* NAME in lower camel case, letters and digits: the outputs' prefix. */
static char *camel(const char *name)
{
	synth_buf b = SYNTH_BUF_INIT;
	bool up = false;
	for (const char *p = name; *p; p++) {
		if (!isalnum((unsigned char)*p)) {
			up = b.len > 0;
			continue;
		}
		synth_buf_putc(&b, up ? (char)toupper((unsigned char)*p) : *p);
		up = false;
	}
	return synth_buf_detach(&b);
}

static int add_outputs(synth_backend *b, const char *nm, const synth_api *a)
{
	char *cm = camel(nm);
	char *o_url = cm ? synth_asprintf("%sUrl", cm) : NULL;
	char *o_dom = cm ? synth_asprintf("%sDomainUrl", cm) : NULL;
	char *o_tgt = cm ? synth_asprintf("%sDomainTarget", cm) : NULL;
	char *url = a->domain ? synth_asprintf("https://%s", a->domain) : NULL;
	int rc = o_url && o_dom && o_tgt && (url || !a->domain) ? 0 : synth_error_oom();
	if (rc == 0)
		rc = synth_backend_add_output(b, "custom", o_url, tok(nm, "Api", "ApiEndpoint"),
					      NULL, NULL);
	if (rc == 0 && a->domain)
		rc = synth_backend_add_output(b, "custom", o_dom, json_string(url), NULL, NULL);
	if (rc == 0 && a->domain)
		rc = synth_backend_add_output(b, "custom", o_tgt,
					      tok(nm, "Domain", "RegionalDomainName"), NULL, NULL);
	free(cm);
	free(o_url);
	free(o_dom);
	free(o_tgt);
	free(url);
	return rc;
}

/* The API, its log group, its $default stage, its domain, its outputs. */
static int api_core(synth_construct *self, synth_api *a)
{
	synth_backend *b = synth_construct_backend(self);
	const char *nm = synth_construct_name(self);
	char title[129];
	snprintf(title, sizeof title, "%s-%s", synth_backend_stack_name(b), nm);
	json_t *props = json_pack("{s:s,s:s}", "Name", title, "ProtocolType", "HTTP");
	if (a->cors)
		props = put(props, "CorsConfiguration", json_deep_copy(a->cors));
	int rc = res(self, "Api", "AWS::ApiGatewayV2::Api", props);
	synth_resource *log = NULL;
	json_t *lprops = json_pack("{s:i}", "RetentionInDays", a->retention);
	if (rc == 0)
		rc = lprops ? synth_resource_new(&log, self, "AccessLogs", "AWS::Logs::LogGroup",
						 lprops)
			    : synth_error_oom();
	else
		json_decref(lprops);
	if (rc == 0)
		rc = synth_resource_set_deletion_policy(log, "Delete");
	json_t *routeset = json_object();
	if (a->burst)
		routeset = put(routeset, "ThrottlingBurstLimit", json_integer(a->burst));
	if (a->rate > 0)
		routeset = put(routeset, "ThrottlingRateLimit", json_real(a->rate));
	props = json_pack(
		"{s:o,s:s,s:b,s:{s:o,s:s}}", "ApiId", tok(nm, "Api", NULL), "StageName",
		"$default", "AutoDeploy", 1, "AccessLogSettings", "DestinationArn",
		synth_sub("arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:"
			  "log-group:${Log}", "Log", tok(nm, "AccessLogs", NULL), NULL),
		"Format", access_log_format);
	if (!routeset || json_object_size(routeset))
		props = put(props, "DefaultRouteSettings", routeset);
	else
		json_decref(routeset);
	if (rc == 0)
		rc = res(self, "Stage", "AWS::ApiGatewayV2::Stage", props);
	else
		json_decref(props);
	if (rc == 0 && a->domain)
		rc = res(
			self, "Domain", "AWS::ApiGatewayV2::DomainName",
			json_pack("{s:s,s:[{s:s,s:s,s:s}]}", "DomainName", a->domain,
				  "DomainNameConfigurations", "CertificateArn", a->cert,
				  "EndpointType", "REGIONAL", "SecurityPolicy", "TLS_1_2"));
	if (rc == 0 && a->domain)
		rc = res(self, "DomainMapping", "AWS::ApiGatewayV2::ApiMapping",
					json_pack("{s:o,s:o,s:o}", "ApiId", tok(nm, "Api", NULL),
						  "DomainName", tok(nm, "Domain", NULL), "Stage",
						  tok(nm, "Stage", NULL)));
	return rc == 0 ? add_outputs(b, nm, a) : rc;
}

/* The JWT authorizer: tokens of the backend's user pool, for its client. */
static int jwt_authorizer(synth_construct *self)
{
	const char *nm = synth_construct_name(self);
	int rc = synth_construct_set_layout_group(self, "JwtAuthorizer");
	char *title = synth_asprintf("%s-jwt", nm);
	if (rc == 0 && !title)
		rc = synth_error_oom();
	if (rc == 0)
		rc = res(
			self, "JwtAuthorizer", "AWS::ApiGatewayV2::Authorizer",
			json_pack("{s:o,s:s,s:s,s:[s],s:{s:[o],s:o}}", "ApiId",
				  tok(nm, "Api", NULL), "AuthorizerType", "JWT", "Name", title,
				  "IdentitySource", "$request.header.Authorization",
				  "JwtConfiguration", "Audience", synth_auth_client_id(), "Issuer",
				  synth_sub("https://cognito-idp.${AWS::Region}.amazonaws.com/"
					    "${Pool}", "Pool", synth_auth_user_pool_id(), NULL)));
	free(title);
	return rc;
}

/* A Lambda authorizer for FN (REQUEST, payload 2.0, simple responses) and
 * the permission that lets API Gateway invoke FN as this authorizer only. */
static int lambda_authorizer(synth_construct *self, const auth_spec *s)
{
	const char *nm = synth_construct_name(self);
	const char *fname = fn_name(s->fn);
	char *id = synth_asprintf("LambdaAuthorizer/%s", fname);
	char *pid = synth_asprintf("LambdaAuthorizer/%s/Permission", fname);
	int rc = id && pid ? synth_construct_set_layout_group(self, id) : synth_error_oom();
	if (rc == 0)
		rc = res(
			self, id, "AWS::ApiGatewayV2::Authorizer",
			json_pack("{s:o,s:s,s:s,s:o,s:s,s:b,s:i,s:o}", "ApiId",
				  tok(nm, "Api", NULL), "AuthorizerType", "REQUEST", "Name", fname,
				  "AuthorizerUri",
				  synth_sub("arn:${AWS::Partition}:apigateway:${AWS::Region}:lambda:"
					    "path/2015-03-31/functions/${Fn}/invocations", "Fn",
					    synth_function_arn(s->fn), NULL),
				  "AuthorizerPayloadFormatVersion", "2.0", "EnableSimpleResponses", 1,
				  "AuthorizerResultTtlInSeconds", s->ttl, "IdentitySource",
				  strv_json((const char *const *)s->sources)));
	if (rc == 0)
		rc = res(
			self, pid, "AWS::Lambda::Permission",
			json_pack("{s:s,s:o,s:s,s:o}", "Action", "lambda:InvokeFunction",
				  "FunctionName", synth_function_arn(s->fn), "Principal",
				  "apigateway.amazonaws.com", "SourceArn",
				  synth_sub("arn:${AWS::Partition}:execute-api:${AWS::Region}:"
					    "${AWS::AccountId}:${Api}/authorizers/${Auth}", "Api",
					    tok(nm, "Api", NULL), "Auth", tok(nm, id, NULL), NULL)));
	free(id);
	free(pid);
	return rc;
}

/* Route R: its integration, the route, and the permission for it. */
static int route_resources(synth_construct *self, const synth_api *a, const route *r)
{
	const char *nm = synth_construct_name(self);
	const auth_spec *s = effective(a, r);
	synth_api_auth_kind kind = s->kind;
	if (kind == SYNTH_API_AUTH_DEFAULT)
		kind = a->has_auth ? SYNTH_API_AUTH_JWT : SYNTH_API_AUTH_NONE;
	char *p_int = synth_asprintf("%s/Integration", r->id);
	char *p_route = synth_asprintf("%s/Route", r->id);
	char *p_perm = synth_asprintf("%s/Permission", r->id);
	char *arn_tail = synth_asprintf("*/%s", r->arn);
	char *p_auth = kind == SYNTH_API_AUTH_LAMBDA
			       ? synth_asprintf("LambdaAuthorizer/%s", fn_name(s->fn))
			       : synth_strdup("JwtAuthorizer");
	json_t *iprops = json_pack("{s:o,s:s,s:o,s:s}", "ApiId", tok(nm, "Api", NULL),
				   "IntegrationType", "AWS_PROXY", "IntegrationUri",
				   synth_function_arn(r->fn), "PayloadFormatVersion", "2.0");
	if (r->timeout_ms)
		iprops = put(iprops, "TimeoutInMillis", json_integer(r->timeout_ms));
	int rc = p_int && p_route && p_perm && arn_tail && p_auth
			 ? synth_construct_set_layout_group(self, r->id) : synth_error_oom();
	if (rc == 0)
		rc = res(self, p_int, "AWS::ApiGatewayV2::Integration", iprops);
	else
		json_decref(iprops);
	static const char *const types[] = {"NONE", "NONE", "JWT", "AWS_IAM", "CUSTOM"};
	json_t *props = json_pack("{s:o,s:s,s:o,s:s}", "ApiId", tok(nm, "Api", NULL), "RouteKey",
				  r->key, "Target",
				  synth_join("", json_pack("[s,o]", "integrations/",
							   tok(nm, p_int, NULL))),
				  "AuthorizationType", types[kind]);
	if (kind == SYNTH_API_AUTH_JWT || kind == SYNTH_API_AUTH_LAMBDA)
		props = put(props, "AuthorizerId", tok(nm, p_auth, NULL));
	if (kind == SYNTH_API_AUTH_JWT && s->scopes)
		props = put(props, "AuthorizationScopes", strv_json((const char *const *)s->scopes));
	if (rc == 0)
		rc = res(self, p_route, "AWS::ApiGatewayV2::Route", props);
	else
		json_decref(props);
	if (rc == 0)
		rc = res(
			self, p_perm, "AWS::Lambda::Permission",
			json_pack("{s:s,s:o,s:s,s:o}", "Action", "lambda:InvokeFunction",
				  "FunctionName", synth_function_arn(r->fn), "Principal",
				  "apigateway.amazonaws.com", "SourceArn",
				  execute_arn(nm, arn_tail)));
	free(p_int);
	free(p_route);
	free(p_perm);
	free(arn_tail);
	free(p_auth);
	return rc;
}

/* execute-api:Invoke on exactly the IAM routes, for a function linked
 * with "invoke". */
static int grant_invoke(const synth_api *a, synth_function *fn)
{
	const char *nm = synth_construct_name(a->c);
	json_t *arns = json_array();
	for (size_t i = 0; arns && i < a->nroutes; i++) {
		if (effective(a, &a->routes[i])->kind != SYNTH_API_AUTH_IAM)
			continue;
		char *tail = synth_asprintf("$default/%s", a->routes[i].arn);
		if (json_array_append_new(arns, tail ? execute_arn(nm, tail) : NULL) < 0) {
			json_decref(arns);
			arns = NULL;
		}
		free(tail);
	}
	if (!arns)
		return synth_error_oom();
	if (!json_array_size(arns)) {
		json_decref(arns);
		return 0;
	}
	return synth_function_add_statement(
		fn, json_pack("{s:s,s:s,s:o}", "Effect", "Allow", "Action", "execute-api:Invoke",
			      "Resource", arns));
}

/* Whether any route uses an authorization of KIND (DEFAULT resolved with
 * HAS_AUTH). */
static const route *uses(const synth_api *a, synth_api_auth_kind kind)
{
	for (size_t i = 0; i < a->nroutes; i++) {
		synth_api_auth_kind k = effective(a, &a->routes[i])->kind;
		if (k == SYNTH_API_AUTH_DEFAULT)
			k = a->has_auth ? SYNTH_API_AUTH_JWT : SYNTH_API_AUTH_NONE;
		if (k == kind)
			return &a->routes[i];
	}
	return NULL;
}

static int api_generate(synth_construct *self, void *state)
{
	synth_api *a = state;
	synth_construct *auth = NULL;
	int rc = synth_construct_find(&auth, self, "auth");
	if (rc < 0)
		return rc;
	a->has_auth = auth != NULL;
	const route *jwt = uses(a, SYNTH_API_AUTH_JWT);
	if (jwt && !auth)
		return synth_construct_failf(self, SYNTH_ENOTFOUND,
					     "route '%s' uses JWT authorization, which needs the "
					     "backend's auth: call synth_define_auth in this backend "
					     "(or give the route another authorization)", jwt->key);
	rc = api_core(self, a);
	if (rc == 0 && jwt)
		rc = jwt_authorizer(self);
	for (size_t i = 0; rc == 0 && i < a->nroutes; i++) {
		const auth_spec *s = effective(a, &a->routes[i]);
		bool first = s->kind == SYNTH_API_AUTH_LAMBDA;
		for (size_t j = 0; first && j < i; j++) {
			const auth_spec *o = effective(a, &a->routes[j]);
			first = !(o->kind == SYNTH_API_AUTH_LAMBDA && o->fn == s->fn);
		}
		if (first)
			rc = lambda_authorizer(self, s);
	}
	for (size_t i = 0; rc == 0 && i < a->nroutes; i++)
		rc = route_resources(self, a, &a->routes[i]);
	if (rc == 0)
		rc = synth_construct_set_layout_group(self, NULL);
	a->generated = true;
	for (size_t i = 0; rc == 0 && i < a->nlinked; i++)
		rc = grant_invoke(a, a->linked[i]);
	if (rc < 0 && !strstr(synth_error_last()->message, synth_construct_name(self)))
		return synth_construct_failf(self, rc, "%s", synth_error_last()->message);
	return rc;
}

/* synth_function_link(fn, api, "invoke"): execute-api:Invoke on the IAM
 * routes (granted once every route is known), the URL as SYNTH_<NAME>_URL. */
static int api_link(synth_construct *self, void *state, synth_function *fn, const char *access)
{
	synth_api *a = state;
	if (strcmp(access, "invoke"))
		return synth_construct_failf(self, SYNTH_EINVALID,
					     "link of %s: access '%s' is not invoke (the only "
					     "level an API has)", fn_name(fn), access);
	int rc = synth_function_link_env(fn, self, "URL",
					 tok(synth_construct_name(self), "Api", "ApiEndpoint"));
	if (rc == 0 && a->generated)
		return grant_invoke(a, fn);
	if (rc == 0 && synth_array_grow((void **)&a->linked, &a->nlinked, &a->cap_linked,
					sizeof *a->linked) < 0)
		return synth_construct_failf(self, SYNTH_ENOMEM, "out of memory");
	if (rc == 0)
		a->linked[a->nlinked++] = fn;
	return rc;
}

static const synth_construct_class api_class = {
	.version = SYNTH_CONSTRUCT_CLASS_VERSION,
	.kind = "api",
	.generate = api_generate,
	.free = api_free,
	.link = api_link,
};

/* --- accessors ------------------------------------------------------------ */

json_t *synth_api_id(const synth_api *api)
{
	if (!api)
		return NULL; /* a failed define: its error is recorded */
	return tok(synth_construct_name(api->c), "Api", NULL);
}

json_t *synth_api_url(const synth_api *api)
{
	if (!api)
		return NULL; /* a failed define: its error is recorded */
	return tok(synth_construct_name(api->c), "Api", "ApiEndpoint");
}

synth_construct *synth_api_construct(synth_api *api) { return api ? api->c : NULL; }

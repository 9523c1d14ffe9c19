/*
 * libsynth: an HTTP API (API Gateway v2, SST's ApiGatewayV2): routes to
 * Lambda functions, CORS, throttling, access logs, authorizers (JWT from
 * the backend's auth, IAM, Lambda) and an optional custom domain.
 *
 * Resources, by construct path (NAME is the API's name):
 *   NAME/Api                        AWS::ApiGatewayV2::Api (HTTP, CORS)
 *   NAME/Stage                      AWS::ApiGatewayV2::Stage ($default,
 *                                   auto-deployed, access logs, throttling)
 *   NAME/AccessLogs                 AWS::Logs::LogGroup
 *   NAME/JwtAuthorizer              AWS::ApiGatewayV2::Authorizer (JWT; when
 *                                   a route uses JWT: the auth's user pool as
 *                                   issuer, its app client as audience)
 *   NAME/LambdaAuthorizer/<fn>      AWS::ApiGatewayV2::Authorizer (REQUEST,
 *                                   one per authorizer function)
 *   NAME/LambdaAuthorizer/<fn>/Permission
 *                                   AWS::Lambda::Permission (this authorizer only)
 *   NAME/Domain, NAME/DomainMapping AWS::ApiGatewayV2::DomainName and
 *                                   ::ApiMapping (with .domain)
 * and per route, in its own layout group (a large API spreads over nested
 * stacks), under ROUTE = the route key as a path: METHOD, then each
 * segment, letters and digits kept, other characters as -XX (hex), a
 * parameter {id} as _id, a greedy {proxy+} as _proxy_
 * ("GET /singers/{id}" -> GET/singers/_id, "$default" -> Default; a key
 * longer than 100 characters so encoded is cut and ends in -<8 hex digits
 * of its SHA-256>):
 *   NAME/ROUTE/Integration          AWS::ApiGatewayV2::Integration (AWS_PROXY,
 *                                   payload 2.0, the function's ARN)
 *   NAME/ROUTE/Route                AWS::ApiGatewayV2::Route
 *   NAME/ROUTE/Permission           AWS::Lambda::Permission: API Gateway may
 *                                   invoke the function from this route only
 *                                   (execute-api ARN <api-id>/<stage>/METHOD/path,
 *                                   any stage; '*' for ANY and for each path
 *                                   parameter; <api-id>/<stage>/$default)
 * Outputs (category "custom", so amplify_outputs.json has custom.<x>):
 *   <name>Url        the API's endpoint (https://<id>.execute-api.<region>...)
 *   <name>DomainUrl  https://<domain> (with .domain)
 *   <name>DomainTarget  the regional domain name to point a CNAME/alias at
 * where <name> is NAME in lower camel case ("karaoke-api" -> karaokeApi).
 * Linking (synth_function_link(fn, synth_api_construct(api), ACCESS)):
 *   "invoke"  execute-api:Invoke on exactly the API's IAM routes (none: no
 *             statement; the other routes are called without IAM)
 *   environment: SYNTH_<NAME>_URL
 */
#ifndef SYNTH_API_H
#define SYNTH_API_H

#include <stdbool.h>
#include <jansson.h>
#include "common.h"
#include "backend.h"
#include "construct.h"
#include "function.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct synth_api synth_api;

/* How a route is authorized. */
typedef enum synth_api_auth_kind {
	/* On a route: the API's default. On the API: JWT from the backend's
	 * auth when it has one, else none. */
	SYNTH_API_AUTH_DEFAULT = 0,
	SYNTH_API_AUTH_NONE,
	SYNTH_API_AUTH_JWT,    /* a Cognito token of the backend's auth */
	SYNTH_API_AUTH_IAM,    /* SigV4-signed requests (AWS_IAM) */
	SYNTH_API_AUTH_LAMBDA  /* a Lambda authorizer (REQUEST, payload 2.0,
				* simple responses) */
} synth_api_auth_kind;

/* An authorization: zero means the default. */
typedef struct synth_api_auth {
	synth_api_auth_kind kind;
	/* JWT: OAuth scopes the token must have (AuthorizationScopes);
	 * NULL-terminated, NULL: none. */
	const char *const *scopes;
	/* LAMBDA: the authorizer function (required). Routes that name the
	 * same function share one authorizer, so its settings must agree. */
	synth_function *fn;
	/* LAMBDA: identity sources ("$request.header.Authorization",
	 * "$request.querystring.token", ...); NULL-terminated; default the
	 * Authorization header. */
	const char *const *identity_sources;
	/* LAMBDA: seconds API Gateway caches a result, 0..3600; 0 (the
	 * default): no caching. */
	int result_ttl_s;
} synth_api_auth;

/* CORS (API Gateway answers preflight requests). Every list is
 * NULL-terminated; NULL means "*". */
typedef struct synth_api_cors {
	const char *const *allow_origins;   /* "https://app.example.com" or "*" */
	const char *const *allow_methods;   /* GET, POST, ..., or "*" */
	const char *const *allow_headers;
	const char *const *expose_headers;  /* NULL: none */
	int max_age_s;                      /* 0..86400, 0: not sent */
	bool allow_credentials;             /* needs explicit origins */
} synth_api_cors;

/* A custom domain: both fields, or neither. */
typedef struct synth_api_domain {
	const char *name;             /* "api.example.com" */
	const char *certificate_arn;  /* an ACM certificate in the stack's region */
} synth_api_domain;

/* Props: zero (or NULL) means the default for every field. */
typedef struct synth_api_props {
	const synth_api_cors *cors;   /* NULL: no CORS */
	int throttle_burst;           /* requests, >= 0; 0: the account's */
	double throttle_rate;         /* requests per second, >= 0; 0: the account's */
	int access_log_retention_days;  /* a CloudWatch Logs value, default 30 */
	synth_api_auth default_auth;  /* default: JWT with auth, else none */
	const synth_api_domain *domain; /* NULL: none */
} synth_api_props;

/* Defines an API named NAME (unique in the backend). Returns a handle
 * borrowed from the backend, or NULL on error (the message names NAME). */
SYNTH_EXPORT synth_api *synth_define_api(synth_backend *b, const char *name,
					 const synth_api_props *props);

/* Per route: zero (or NULL) means the default. */
typedef struct synth_api_route_opts {
	synth_api_auth auth;          /* default: the API's default_auth */
	int timeout_ms;               /* 50..30000, default 30000 (the integration's) */
} synth_api_route_opts;

/*
 * Routes KEY to FN. KEY is "METHOD /path" (METHOD one of GET, POST, PUT,
 * PATCH, DELETE, HEAD, OPTIONS, ANY; the path starts with '/', its
 * segments are non-empty, a parameter is a whole segment "{name}", and a
 * greedy "{name+}" only the last) or "$default" (every request no other
 * route matches). Two routes with the same method and path (parameters
 * named differently count as the same) are refused, naming both. Checked
 * at once; 0 or SYNTH_EINVALID with a message naming the API and KEY.
 */
SYNTH_EXPORT int synth_api_route(synth_api *api, const char *key, synth_function *fn,
				 const synth_api_route_opts *opts);

/* Tokens (new references): the API's id (Ref) and its endpoint URL. */
SYNTH_EXPORT json_t *synth_api_id(const synth_api *api);
SYNTH_EXPORT json_t *synth_api_url(const synth_api *api);
/* The API's construct (borrowed), for synth_function_link(). */
SYNTH_EXPORT synth_construct *synth_api_construct(synth_api *api);

#ifdef __cplusplus
}
#endif
#endif

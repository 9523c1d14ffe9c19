/*
 * libsynth: define_data, Amplify's data category: an AppSync GraphQL API
 * generated from a schema in Amplify's GraphQL SDL dialect (@model, @auth,
 * @primaryKey, @index, @hasMany / @hasOne / @belongsTo, @default), with
 * one DynamoDB table per model, data sources with least-privilege roles,
 * and APPSYNC_JS resolvers that implement the CRUD operations and enforce
 * the @auth rules. The user pool and the identity pool roles are found
 * through the "auth" token: nothing wires data to auth by hand.
 */
#ifndef SYNTH_DATA_H
#define SYNTH_DATA_H

#include <stdbool.h>
#include "common.h"
#include "backend.h"
#include "function.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct synth_data synth_data;

/* The API's default authorization mode. */
typedef enum synth_data_auth_mode {
	SYNTH_DATA_AUTH_DEFAULT = 0,   /* the user pool when the backend has auth,
					* else an API key */
	SYNTH_DATA_AUTH_USER_POOL = 1, /* Cognito user pool (needs define_auth) */
	SYNTH_DATA_AUTH_API_KEY = 2,   /* API key */
	SYNTH_DATA_AUTH_IAM = 3        /* AWS IAM (SigV4) */
} synth_data_auth_mode;

/* Zero means the default for every field. */
typedef struct synth_data_props {
	/* The schema: a file (relative paths resolve from the working
	 * directory, as function entries do; default "data/schema.graphql",
	 * Amplify's folder convention) or the SDL text itself. Not both. */
	const char *schema_file;
	const char *schema;
	synth_data_auth_mode default_auth;
	/* API key lifetime in days, 1..365 (AppSync's range); default 7.
	 * The expiry is the start of the current UTC day plus this many days,
	 * so two synths on the same day write the same template. */
	int api_key_expires_days;
	bool streams;                /* DynamoDB streams (NEW_AND_OLD_IMAGES) */
	bool point_in_time_recovery; /* PITR on every table */
} synth_data_props;

/*
 * Defines the backend's data (construct name "data"; one per backend). The
 * schema is read and checked here: a schema error is reported as
 * "data: FILE:LINE:COL: message". Returns a handle borrowed from the
 * backend, or NULL on error (see synth_error_last(); the backend keeps the
 * error too, and writes nothing).
 */
SYNTH_EXPORT synth_data *synth_define_data(synth_backend *b, const synth_data_props *props);

/* Tokens (new references) for other constructs and functions: the API's
 * id, its GraphQL endpoint URL and its ARN. */
SYNTH_EXPORT json_t *synth_data_api_id(void);
SYNTH_EXPORT json_t *synth_data_graphql_url(void);
SYNTH_EXPORT json_t *synth_data_api_arn(void);

/*
 * Lets function FN call the API with IAM: ACCESS is a comma-separated list
 * of "query", "mutate" and "subscribe", granting appsync:GraphQL on the
 * fields of Query, Mutation and Subscription. The function's environment
 * gets AMPLIFY_DATA_GRAPHQL_ENDPOINT. A granted function's IAM calls pass
 * the resolvers for the granted operations whatever the @auth rules say
 * (Amplify's resource access): its role name reaches them through the
 * API's environment variables, at most 7 functions per kind of access
 * (AppSync's 512-character limit per value). Returns 0 or a negative code.
 */
SYNTH_EXPORT int synth_data_grant(synth_data *d, synth_function *fn, const char *access);

/* The data's construct (borrowed), to link a function to the API:
 * synth_function_link(fn, synth_data_construct(d), "query,mutate") grants
 * what synth_data_grant() does and sets SYNTH_DATA_URL (the GraphQL URL). */
SYNTH_EXPORT synth_construct *synth_data_construct(synth_data *d);

#ifdef __cplusplus
}
#endif
#endif

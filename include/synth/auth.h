/*
 * libsynth: define_auth, Amplify's auth category: a Cognito user pool, a
 * client for apps, an identity pool with authenticated and guest roles,
 * user groups with their roles, and triggers wired to functions. It
 * provides the "auth" token: data and storage find it without being told.
 */
#ifndef SYNTH_AUTH_H
#define SYNTH_AUTH_H

#include <stdbool.h>
#include "common.h"
#include "backend.h"
#include "function.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct synth_auth synth_auth;

/* How users sign in (a bit set; zero means email). */
enum {
	SYNTH_LOGIN_EMAIL = 1,
	SYNTH_LOGIN_PHONE = 2,
	SYNTH_LOGIN_USERNAME = 4
};

typedef enum synth_mfa_mode {
	SYNTH_MFA_OFF = 0,
	SYNTH_MFA_OPTIONAL = 1,
	SYNTH_MFA_REQUIRED = 2
} synth_mfa_mode;

/* A user attribute: a standard one ("email", "given_name", "phone_number",
 * "birthdate", ...) or, with CUSTOM, "custom:<name>" of TYPE ("String",
 * default, or "Number"). Arrays end with {0}. */
typedef struct synth_auth_attribute {
	const char *name;
	bool required;
	bool immutable;
	bool custom;
	const char *type;
} synth_auth_attribute;

/* A user group; its members get the group's IAM role. */
typedef struct synth_auth_group {
	const char *name;
	int precedence;
} synth_auth_group;

/* A trigger: EVENT is one of preSignUp, postConfirmation,
 * preTokenGeneration, customMessage, preAuthentication, postAuthentication,
 * defineAuthChallenge, createAuthChallenge, verifyAuthChallengeResponse,
 * userMigration. Cognito gets permission to invoke FN. */
typedef struct synth_auth_trigger {
	const char *event;
	synth_function *fn;
} synth_auth_trigger;

/* Zero means the default for every field. */
typedef struct synth_auth_props {
	unsigned login;             /* SYNTH_LOGIN_*, default email */
	int password_min_length;    /* 6..99, default 8 */
	/* Zero: required (the default); set to relax. */
	bool password_no_lowercase, password_no_uppercase, password_no_numbers,
		password_no_symbols;
	synth_mfa_mode mfa;         /* default off */
	bool mfa_totp, mfa_sms;     /* methods (with mfa on: TOTP when none given) */
	bool no_guest_access;       /* default: guests get the unauthenticated role */
	const synth_auth_attribute *attributes;
	const synth_auth_group *groups;
	const synth_auth_trigger *triggers;
} synth_auth_props;

/*
 * Defines the backend's auth (construct name "auth"; one per backend).
 * Returns a handle borrowed from the backend, or NULL on error (see
 * synth_error_last(); the backend keeps the error too).
 */
SYNTH_EXPORT synth_auth *synth_define_auth(synth_backend *b, const synth_auth_props *props);

/* Tokens (new references) for other constructs: the user pool id and ARN,
 * the app client id, the identity pool id, and the role of authenticated
 * users, guests, and a group's members. */
SYNTH_EXPORT json_t *synth_auth_user_pool_id(void);
SYNTH_EXPORT json_t *synth_auth_user_pool_arn(void);
SYNTH_EXPORT json_t *synth_auth_client_id(void);
SYNTH_EXPORT json_t *synth_auth_identity_pool_id(void);
SYNTH_EXPORT json_t *synth_auth_role_arn(bool authenticated);
SYNTH_EXPORT json_t *synth_auth_group_role_arn(const char *group);

#ifdef __cplusplus
}
#endif
#endif

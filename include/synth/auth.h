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

/* --- external identity providers (OAuth, OIDC, SAML) --------------------- */

/* One attribute mapping entry: the user pool attribute USER_POOL (a
 * standard attribute, "email_verified", or "custom:<name>" of a custom
 * attribute defined in props.attributes; it must be mutable) gets the
 * provider's attribute PROVIDER at every sign-in. Arrays end with {0}. */
typedef struct synth_auth_attribute_map {
	const char *user_pool;
	const char *provider;
} synth_auth_attribute_map;

/*
 * Google, Facebook, Login with Amazon or Sign in with Apple. Secrets are
 * NAMES for the secret resolver (synth_secret_path(): an SSM SecureString
 * set with `synth secret set NAME`), never values; they are read at deploy
 * time and never enter the template, the assembly or a log. A field that
 * the provider does not have (team_id on Google, ...) is an error.
 */
typedef struct synth_auth_provider {
	const char *client_id;      /* required (not a secret: browsers see it) */
	const char *client_secret;  /* secret name; Google, Facebook, Amazon */
	const char *team_id;        /* Apple: the developer team id */
	const char *key_id;         /* Apple: the private key's id */
	const char *private_key;    /* Apple: secret name of the .p8 key */
	const char *api_version;    /* Facebook: Graph API version ("v17.0") */
	/* Scopes asked of the provider; NULL-terminated. Default: Google
	 * openid email profile; Facebook public_profile email; Amazon profile;
	 * Apple email name. */
	const char *const *scopes;
	/* Default: email <- the provider's email when users sign in with
	 * email (and not phone), as Amplify does; entries here are added. */
	const synth_auth_attribute_map *attribute_mapping;
} synth_auth_provider;

/* An OpenID Connect provider. Arrays of them end with {0} (name NULL). */
typedef struct synth_auth_oidc_provider {
	const char *name;           /* the provider name: 3..32 letters, digits, '-', '.' */
	const char *client_id;      /* required */
	const char *client_secret;  /* required: a secret name */
	const char *issuer_url;     /* required: https://... */
	const char *const *scopes;  /* default: openid email */
	const char *attribute_request_method; /* "GET" (default) or "POST" */
	const char *const *identifiers;       /* IdP identifiers (email domains) */
	const synth_auth_attribute_map *attribute_mapping; /* default: email */
} synth_auth_oidc_provider;

/* A SAML provider: exactly one of METADATA_URL (https) and METADATA_CONTENT
 * (the XML itself). No default attribute mapping (SAML names differ). */
typedef struct synth_auth_saml_provider {
	const char *name;           /* 3..32 letters, digits, '-', '.' */
	const char *metadata_url;
	const char *metadata_content;
	bool idp_signout;           /* sign out at the IdP too */
	const char *const *identifiers;
	const synth_auth_attribute_map *attribute_mapping;
} synth_auth_saml_provider;

/* OAuth scopes the app client may ask for (a bit set; zero means all five,
 * Amplify's default). phone, email and profile need openid. */
enum {
	SYNTH_OAUTH_PHONE = 1,
	SYNTH_OAUTH_EMAIL = 2,
	SYNTH_OAUTH_OPENID = 4,
	SYNTH_OAUTH_PROFILE = 8,
	SYNTH_OAUTH_COGNITO_ADMIN = 16 /* aws.cognito.signin.user.admin */
};

/*
 * Sign-in through Cognito's hosted pages (OAuth 2.0 code flow), with any
 * of the providers. CALLBACK_URLS and LOGOUT_URLS are required and
 * NULL-terminated: https, or http://localhost for tests, or an app scheme
 * (myapp://...) as Cognito allows; no fragment, no comma.
 * DOMAIN_PREFIX names the hosted domain <prefix>.auth.<region>.amazoncognito.com:
 * 1..63 lowercase letters, digits and hyphens, not starting or ending with
 * a hyphen, without "aws", "amazon" or "cognito". Default: derived from
 * the stack name and its hash (stable per backend; set it if another
 * account already took that name).
 */
typedef struct synth_auth_external {
	const synth_auth_provider *google, *facebook, *amazon, *apple;
	const synth_auth_oidc_provider *oidc;  /* array ended by {0}, or NULL */
	const synth_auth_saml_provider *saml;
	const char *const *callback_urls;
	const char *const *logout_urls;
	unsigned scopes;                       /* SYNTH_OAUTH_*; 0: all */
	const char *domain_prefix;
} synth_auth_external;

/*
 * How Cognito sends email: through your Amazon SES identity
 * (EmailSendingAccount DEVELOPER). SES_IDENTITY is the ARN of a verified
 * SES identity (arn:<partition>:ses:<region>:<account>:identity/<x>) or
 * just the verified domain or address in the stack's account and region.
 * FROM is the sender ("App <no-reply@example.com>"). Required by email MFA.
 */
typedef struct synth_auth_email_sender {
	const char *ses_identity;
	const char *from;
	const char *reply_to;           /* optional address */
	const char *configuration_set;  /* optional SES configuration set */
} synth_auth_email_sender;

/* Zero means the default for every field. */
typedef struct synth_auth_props {
	unsigned login;             /* SYNTH_LOGIN_*, default email */
	int password_min_length;    /* 6..99, default 8 */
	/* Zero: required (the default); set to relax. */
	bool password_no_lowercase, password_no_uppercase, password_no_numbers,
		password_no_symbols;
	synth_mfa_mode mfa;         /* default off */
	bool mfa_totp, mfa_sms;     /* methods (with mfa on: TOTP when none given) */
	/* One-time codes by email (Cognito's EMAIL_OTP): needs .email_sender,
	 * and puts the user pool on the Essentials feature plan (billed per
	 * monthly active user). */
	bool mfa_email;
	const synth_auth_email_sender *email_sender; /* default: Cognito's own */
	bool no_guest_access;       /* default: guests get the unauthenticated role */
	const synth_auth_attribute *attributes;
	const synth_auth_group *groups;
	const synth_auth_trigger *triggers;
	const synth_auth_external *external; /* OAuth sign-in; NULL: none */
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

/*
 * AWS credentials and configuration, resolved as the AWS CLI v2 resolves
 * them (internal, not installed). Reads the environment and the shared
 * `credentials` and `config` files; makes no request itself: assuming a
 * role goes through a callback the caller provides (the STS client).
 *
 * Profile: --profile (opts.profile), else AWS_PROFILE, else "default". A
 * profile named with --profile or AWS_PROFILE must exist in one of the two
 * files; "default" need not. AWS_PROFILE set but empty is an error (as the
 * AWS CLI's "The config profile () could not be found").
 *
 * Files: AWS_SHARED_CREDENTIALS_FILE or ~/.aws/credentials (sections
 * [name]) and AWS_CONFIG_FILE or ~/.aws/config (sections [profile name],
 * and [default] for "default"; [services name] sections hold per-service
 * settings). A leading "~/" is the home directory. A missing file (or a
 * directory) is not an error (nothing is found in it); /dev/null is an
 * empty file and a pipe is read as one (16 MiB at most). A profile's settings are those of the
 * config file's section, overridden key by key by the credentials file's
 * (as botocore merges them).
 *
 * Credentials, the first that applies:
 *  1. the environment: AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY
 *     (+ AWS_SESSION_TOKEN or AWS_SECURITY_TOKEN, AWS_CREDENTIAL_EXPIRATION,
 *     AWS_ACCOUNT_ID); skipped when opts.profile is set (as with the CLI's
 *     --profile; AWS_PROFILE does not skip it);
 *  2. role_arn in the profile: the source credentials come from
 *     source_profile (recursively; a cycle is an error, except a profile
 *     naming itself while holding static keys) or credential_source =
 *     Environment; then opts.assume_role is called;
 *  3. aws_access_key_id / aws_secret_access_key in the credentials file;
 *  4. credential_process: run with /bin/sh -c, its stdout parsed as JSON
 *     {Version: 1, AccessKeyId, SecretAccessKey, SessionToken?,
 *     Expiration?, AccountId?}; its stderr passes through;
 *  5. aws_access_key_id / aws_secret_access_key in the config file.
 *  IAM Identity Center (sso_*), web identity, MFA and the EC2/ECS
 *  credential sources are reported as unsupported rather than skipped.
 *  Nothing found is SYNTH_ENOTFOUND naming every place looked at.
 *
 * Region: opts.region, AWS_REGION, AWS_DEFAULT_REGION, the profile's
 * `region`. Required, and checked (lower-case letters, digits, '-').
 *
 * Attempts per request: AWS_MAX_ATTEMPTS, else the profile's max_attempts;
 * a whole number from 1 to 100 (botocore refuses below 1 and what is not a
 * number; synth also refuses more, which would retry for hours). Unset: 0,
 * the HTTP client's default (3, the AWS standard retry mode's).
 *
 * Endpoints, per service: opts.endpoint_url, AWS_ENDPOINT_URL_<SERVICE>,
 * AWS_ENDPOINT_URL, `endpoint_url` in the profile's `services` section
 * (`services = name` -> [services name], `s3 =` + indented
 * `endpoint_url = ...`), the profile's `endpoint_url`, else
 * https://<service>.<region>.amazonaws.com (.amazonaws.com.cn for cn-*).
 * AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true (or the profile's
 * ignore_configured_endpoint_urls) keeps only opts.endpoint_url. Every URL
 * must be http:// or https:// with a host.
 *
 * INI syntax (Python configparser as botocore uses it): full-line comments
 * starting with '#' or ';' (no inline comments in values), "key = value"
 * or "key: value", keys lowercased, section names kept as written (trimmed),
 * text after a section's closing ']' ignored, a line indented deeper than
 * its key continues the key's value, and a key with an empty value
 * followed by indented "k = v" lines holds a nested block. CRLF, CR and a
 * UTF-8 BOM are accepted. A repeated key or section: the last value wins.
 * Anything else is SYNTH_EINVALID "<file>:<line>: ...".
 *
 * Secrets: no message, source string or description ever contains a
 * secret access key or session token (nor the text of a file line or of a
 * process's output, which may hold one). Buffers that held a secret are
 * wiped (OPENSSL_cleanse) before they are freed.
 *
 * Errors: 0 or a negative SYNTH_E* code with the detail in
 * synth_error_last(): SYNTH_ENOTFOUND (no credentials, an unknown profile
 * or source_profile), SYNTH_EINVALID (malformed files, values or process
 * output; unsupported settings), SYNTH_ECYCLE (source_profile cycle),
 * SYNTH_ELIMIT (a source_profile chain over 32 hops), SYNTH_EIO (an
 * unreadable file), SYNTH_ERROR (credential_process failed, a role without
 * an assume_role callback; or the callback's own code), SYNTH_ENOMEM.
 */
#ifndef SYNTH_AWSCONFIG_H
#define SYNTH_AWSCONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

/* The services the client talks to (endpoints are resolved for each). */
typedef enum synth_aws_service {
	SYNTH_AWS_S3,
	SYNTH_AWS_CLOUDFORMATION,
	SYNTH_AWS_SSM,
	SYNTH_AWS_STS,
	SYNTH_AWS_NSERVICES
} synth_aws_service;

/* "s3", "cloudformation", "ssm", "sts": the key in a [services] section
 * and, uppercased, the suffix of AWS_ENDPOINT_URL_<SERVICE>. */
const char *synth__aws_service_id(synth_aws_service s);

/* A set of credentials. Every string is malloc'd and owned by the struct;
 * release with synth__aws_credentials_clear(). */
typedef struct synth_aws_credentials {
	char *access_key_id;
	char *secret_access_key; /* never printed; wiped when cleared */
	char *session_token;     /* NULL: none; wiped when cleared */
	char *expiration;        /* ISO 8601 as given; NULL: does not expire */
	time_t expires;          /* expiration parsed (UTC); 0 if none */
	char *account_id;        /* NULL unless told (AccountId, aws_account_id) */
	char *source;            /* where they came from, for messages */
} synth_aws_credentials;

/* Wipes the secret and the token, frees every member, zeroes *C. */
void synth__aws_credentials_clear(synth_aws_credentials *c);

typedef struct synth_awsconfig synth_awsconfig;

/*
 * STS AssumeRole, provided by the caller. CFG is the configuration being
 * resolved: profile, files, region and endpoints (endpoint[SYNTH_AWS_STS])
 * are set, credentials are not yet. SOURCE signs the call. On success fill
 * OUT with malloc'd strings (access key, secret, token, expiration; the
 * resolver parses expiration and sets source) and return 0; on failure
 * return a negative SYNTH_E* code after synth_error_setf() (the resolver
 * prefixes the role and profile; anything already put in OUT is freed).
 */
typedef int (*synth_aws_assume_role_fn)(void *ctx, const synth_awsconfig *cfg,
					const synth_aws_credentials *source,
					const char *role_arn, const char *session_name,
					const char *external_id, synth_aws_credentials *out);

/* Every pointer is borrowed for the call; zero / NULL means "not given". */
typedef struct synth_awsconfig_options {
	const char *profile;      /* --profile */
	const char *region;       /* --region */
	const char *endpoint_url; /* --endpoint-url: every service */
	synth_aws_assume_role_fn assume_role; /* NULL: role profiles fail */
	void *assume_role_ctx;
	time_t now;               /* 0: the clock (expiry checks, session names) */
} synth_awsconfig_options;

#define SYNTH_AWSCONFIG_OPTIONS_INIT {0}

/* The resolved configuration. Owned by the caller: synth__awsconfig_free().
 * The *_source strings say where each value came from, e.g. "--region",
 * "AWS_REGION", "/home/u/.aws/config [profile dev]", "default". */
struct synth_awsconfig {
	char *profile;                /* the profile used */
	const char *profile_source;   /* "--profile", "AWS_PROFILE" or "default" */
	char *credentials_file;       /* the paths looked at */
	char *config_file;
	char *region;
	char *region_source;
	int max_attempts;             /* 0: not set (the client's default) */
	char *endpoint[SYNTH_AWS_NSERVICES];
	char *endpoint_source[SYNTH_AWS_NSERVICES];
	synth_aws_credentials creds;
};

/* Resolves profile, region, endpoints, then credentials (in that order,
 * so the assume_role callback sees the first three). OPTS may be NULL.
 * *OUT is set only on success. */
int synth__awsconfig_resolve(synth_awsconfig **out, const synth_awsconfig_options *opts);

/* Frees CFG (NULL is fine), wiping its secrets. */
void synth__awsconfig_free(synth_awsconfig *cfg);

/* The endpoint of SERVICE_ID ("s3", ...); NULL for a service not resolved. */
const char *synth__awsconfig_endpoint(const synth_awsconfig *cfg, const char *service_id);

/* A multi-line summary (profile, access key masked to its last 4
 * characters, token and expiry, region, endpoints, each with its source);
 * never the secret. Caller frees; NULL on allocation failure. */
char *synth__awsconfig_describe(const synth_awsconfig *cfg);

/* --- the INI reader, exposed for tests and fuzzing ------------------------ */

typedef struct synth_aws_ini synth_aws_ini;

/* Parses TEXT (LEN bytes, need not be NUL-terminated). PATH names the file
 * in messages ("<path>:<line>: ..."). *OUT set only on success. */
int synth__aws_ini_parse(synth_aws_ini **out, const char *path, const char *text, size_t len);

/* The value of KEY (lowercase) in SECTION (exact name, trimmed), or of the
 * nested SUBKEY under KEY when SUBKEY is not NULL; the last one in the file
 * wins. NULL if absent. *LINE (may be NULL) gets its line number. Borrowed
 * from INI. */
const char *synth__aws_ini_get(const synth_aws_ini *ini, const char *section, const char *key,
			       const char *subkey, unsigned *line);

/* Frees INI (NULL is fine), wiping every value. */
void synth__aws_ini_free(synth_aws_ini *ini);

#endif

/*
 * define_auth: Cognito user pool, app client, identity pool, roles, groups,
 * triggers, external identity providers (OAuth, OIDC, SAML) with their
 * hosted domain, and email MFA. Provides the "auth" token.
 *
 * Resources, by construct path:
 *   auth/UserPool                AWS::Cognito::UserPool
 *   auth/UserPoolClient          AWS::Cognito::UserPoolClient
 *   auth/IdentityPool            AWS::Cognito::IdentityPool
 *   auth/AuthenticatedRole       AWS::IAM::Role (web identity, authenticated)
 *   auth/UnauthenticatedRole     AWS::IAM::Role (web identity, guests)
 *   auth/RoleAttachment          AWS::Cognito::IdentityPoolRoleAttachment
 *   auth/Group<G>, auth/Group<G>Role   AWS::Cognito::UserPoolGroup, AWS::IAM::Role
 *   auth/SmsRole                 AWS::IAM::Role (SMS MFA only)
 *   auth/Trigger<Event>Permission AWS::Lambda::Permission
 * With external providers (props.external):
 *   auth/GoogleIdP, auth/FacebookIdP, auth/AmazonIdP, auth/AppleIdP,
 *   auth/Oidc<Name>IdP, auth/SamlIdP   AWS::Cognito::UserPoolIdentityProvider
 *   auth/UserPoolDomain          AWS::Cognito::UserPoolDomain
 *   auth/SecretFetcher           AWS::Lambda::Function (inline, python)
 *   auth/SecretFetcherRole       AWS::IAM::Role (logs + ssm:GetParameters on
 *                                exactly the secrets' parameters)
 *   auth/SecretFetcherLogGroup   AWS::Logs::LogGroup
 *   auth/Secrets                 Custom::SecretFetcher (one per backend)
 *   and the template parameter SynthSecretVersions (set by synth deploy:
 *   see "Rotation" below)
 * Outputs (category "auth", Amplify's names): authRegion, userPoolId,
 * webClientId, identityPoolId, usernameAttributes, signupAttributes,
 * passwordPolicyMinLength, passwordPolicyRequirements, mfaConfiguration,
 * mfaTypes, verificationMechanisms, groups, allowUnauthenticatedIdentities;
 * with OAuth: socialProviders, oauthCognitoDomain, oauthScope,
 * oauthRedirectSignIn, oauthRedirectSignOut, oauthClientId,
 * oauthResponseType, and <provider>ClientId for the social providers.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <synth.h>
#include <synth/sys/construct.h>

struct synth_auth {
	synth_construct *c;
	synth_auth_props p;   /* scalars; arrays and strings copied below */
	json_t *attributes;   /* [{name, required, immutable, custom, type}] */
	json_t *groups;       /* [{name, precedence}] */
	json_t *triggers;     /* {event: function construct name} */
	json_t *email;        /* {source_arn | identity, from, reply_to?, configuration_set?} or NULL */
	json_t *ext;          /* see ext_parse(); NULL without external providers */
	json_t *secrets;      /* secret name -> true, in order of first use */
};

static const char *const events[][2] = {
	{"preSignUp", "PreSignUp"},
	{"postConfirmation", "PostConfirmation"},
	{"preTokenGeneration", "PreTokenGeneration"},
	{"customMessage", "CustomMessage"},
	{"preAuthentication", "PreAuthentication"},
	{"postAuthentication", "PostAuthentication"},
	{"defineAuthChallenge", "DefineAuthChallenge"},
	{"createAuthChallenge", "CreateAuthChallenge"},
	{"verifyAuthChallengeResponse", "VerifyAuthChallengeResponse"},
	{"userMigration", "UserMigration"},
};

static const char *const standard_attributes[] = {
	"address", "birthdate", "email", "family_name", "gender", "given_name", "locale",
	"middle_name", "name", "nickname", "phone_number", "picture", "preferred_username",
	"profile", "zoneinfo", "updated_at", "website", NULL};

/* The app client's OAuth scopes, in SYNTH_OAUTH_* bit order. */
static const char *const oauth_scopes[] = {"phone", "email", "openid", "profile",
					   "aws.cognito.signin.user.admin"};

/*
 * The secret fetcher: a custom resource's Lambda function that reads the
 * named SecureString parameters at deploy time and hands the values to
 * CloudFormation, which substitutes them for Fn::GetAtt [Secrets, NAME].
 * Why: Cognito's ProviderDetails cannot take a {{resolve:ssm-secure:...}}
 * dynamic reference (CloudFormation allows those only on a short list of
 * properties: RDS and Redshift master passwords, IAM login profiles,
 * Directory Service passwords, ...), and a plain value would sit in the
 * template and the assembly.
 * Trade-off: the value travels in the custom resource's response and lives
 * in CloudFormation's resource state, marked NoEcho (DescribeStackResource
 * and GetAtt consumers do not show it), and in the Cognito provider's
 * configuration, where Cognito keeps it anyway. It is never in the
 * template, the assembly, a stack output or a log: the function does not
 * use cfnresponse, whose send() prints the whole response body, and prints
 * only counts.
 * Rotation: CloudFormation calls the function only when the resource's
 * properties change. Besides the names and paths (Hash), its properties
 * hold the template parameter SynthSecretVersions (SYNTH_SECRET_VERSIONS_PARAM):
 * `synth deploy` sets it to a digest of the secrets' current SSM versions
 * (read without decryption), found through the resource's Metadata
 * SYNTH_MD_SECRET_VERSIONS ("synth:secret-versions") = {"param": NAME, "secrets": {SECRET: [path,
 * shared path]}}. So `synth secret set` with a new value makes the next
 * deploy update exactly this resource (and the providers that read it),
 * and an unchanged secret keeps the deploy a no-op. Other tools deploying
 * the template get the parameter's default ("none"). (Functions are not
 * part of this: they read their secrets at cold start, so a function
 * sees a new value on its next cold start.)
 * Tried at the backend's path first, then at the app-wide shared path.
 */
/* constructs/auth/secret_fetcher.py, embedded at build time (scripts/embed.sh). */
extern const char synth__embed_auth_secret_fetcher_py[];
static const char *const fetcher_code = synth__embed_auth_secret_fetcher_py;

#define FETCHER_RUNTIME "python3.13"

/* The template parameter that carries the secrets' versions (see above). */

static void auth_free(void *state)
{
	synth_auth *a = state;
	if (!a)
		return;
	json_decref(a->attributes);
	json_decref(a->groups);
	json_decref(a->triggers);
	json_decref(a->email);
	json_decref(a->ext);
	json_decref(a->secrets);
	free(a);
}

/* --- building property trees ------------------------------------------- */

/* Setters that remember an allocation failure instead of losing a
 * property: V is stolen; *OOM is set when anything is missing. */
static void oset(bool *oom, json_t *o, const char *k, json_t *v)
{
	if (!o || !v) {
		json_decref(v);
		*oom = true;
		return;
	}
	if (json_object_set_new(o, k, v) < 0)
		*oom = true;
}

static void aput(bool *oom, json_t *arr, json_t *v)
{
	if (!arr || !v) {
		json_decref(v);
		*oom = true;
		return;
	}
	if (json_array_append_new(arr, v) < 0)
		*oom = true;
}

/* A resource from PROPS (stolen); a NULL tree is out of memory. */
static int res(synth_resource **out, synth_construct *self, const char *id, const char *type,
	       json_t *props)
{
	if (!props)
		return synth_error_oom();
	return synth_resource_new(out, self, id, type, props);
}

/* The web identity trust of an identity pool role. */
static json_t *identity_trust(const char *amr)
{
	return json_pack("{s:s,s:[{s:s,s:{s:s},s:s,s:{s:{s:o},s:{s:s}}}]}", "Version",
			 "2012-10-17", "Statement", "Effect", "Allow", "Principal", "Federated",
			 "cognito-identity.amazonaws.com", "Action",
			 "sts:AssumeRoleWithWebIdentity", "Condition", "StringEquals",
			 "cognito-identity.amazonaws.com:aud", synth_ref("auth/IdentityPool"),
			 "ForAnyValue:StringLike", "cognito-identity.amazonaws.com:amr", amr);
}

static int output(synth_backend *b, const char *name, json_t *v)
{
	return synth_backend_add_output(b, "auth", name, v, NULL, NULL);
}

/* Amplify's convention: lists are JSON inside a string output. */
static int output_json(synth_backend *b, const char *name, json_t *v)
{
	char *s = v ? synth_json_dumps(v, JSON_COMPACT) : NULL;
	json_decref(v);
	int rc = output(b, name, s ? json_string(s) : NULL);
	free(s);
	return rc;
}

/* "a,b,c" from a list of strings (Amplify's redirect URI outputs). */
static json_t *joined(json_t *list)
{
	char *s = synth_json_join(list, ",");
	json_t *r = s ? json_string(s) : NULL;
	free(s);
	return r;
}

/* --- generation: the secret fetcher ------------------------------------ */

static const char *const fetcher_arn_fmt =
	"arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter%s";

/* The fetcher function, its role and log group, and the one custom
 * resource whose attributes are the secrets' values. */
static int gen_fetcher(synth_construct *self, synth_auth *a)
{
	synth_backend *b = synth_construct_backend(self);
	bool oom = false;
	json_t *list = json_array(), *arns = json_array(), *where = json_object();
	const char *name;
	json_t *v;
	int rc = 0;
	json_object_foreach(a->secrets, name, v) {
		char *path = NULL, *shared = NULL;
		if (synth_secret_path(&path, b, name) < 0 ||
		    synth_secret_shared_path(&shared, b, name) < 0) {
			free(path);
			rc = synth_error_last()->code;
			break;
		}
		aput(&oom, list, json_pack("{s:s,s:s,s:s}", "Name", name, "Path", path,
					   "SharedPath", shared));
		oset(&oom, where, name, json_pack("[s,s]", path, shared));
		char *a1 = synth_asprintf(fetcher_arn_fmt, path);
		char *a2 = synth_asprintf(fetcher_arn_fmt, shared);
		aput(&oom, arns, a1 ? synth_sub(a1, NULL) : NULL);
		aput(&oom, arns, a2 ? synth_sub(a2, NULL) : NULL);
		free(a1);
		free(a2);
		free(path);
		free(shared);
	}
	/* A hash of what is asked: the resource is updated (and reads the
	 * values again) whenever a name or path changes. */
	char hash[65] = "";
	char *dump = oom || rc ? NULL : synth_json_dumps(list, JSON_COMPACT);
	if (rc == 0 && (oom || !dump || synth_sha256_hex(dump, strlen(dump), hash) < 0))
		rc = synth_error_oom();
	free(dump);

	if (rc == 0) {
		synth_resource *lg = NULL;
		rc = res(&lg, self, "SecretFetcherLogGroup", "AWS::Logs::LogGroup",
			 json_pack("{s:i}", "RetentionInDays", 14));
		if (rc == 0)
			rc = synth_resource_set_deletion_policy(lg, "Delete");
	}
	/* The deployer sets it to the digest of the secrets' SSM versions. */
	if (rc == 0)
		rc = synth_backend_add_parameter(
			b, SYNTH_SECRET_VERSIONS_PARAM, "String", "none",
			"libsynth: a digest of the SSM versions of the auth secrets, set by "
			"synth deploy, so that a changed secret updates the secret fetcher");
	if (rc == 0)
		rc = res(NULL, self, "SecretFetcherRole", "AWS::IAM::Role",
			 json_pack("{s:{s:s,s:[{s:s,s:s,s:{s:s}}]},s:[{s:s,s:{s:s,s:[{s:s,s:[s,s],s:o}]}},"
				   "{s:s,s:{s:s,s:[{s:s,s:s,s:O}]}}]}",
				   "AssumeRolePolicyDocument", "Version", "2012-10-17", "Statement",
				   "Effect", "Allow", "Action", "sts:AssumeRole", "Principal",
				   "Service", "lambda.amazonaws.com", "Policies", "PolicyName", "logs",
				   "PolicyDocument", "Version", "2012-10-17", "Statement", "Effect",
				   "Allow", "Action", "logs:CreateLogStream", "logs:PutLogEvents",
				   "Resource", synth_getatt("auth/SecretFetcherLogGroup", "Arn"),
				   "PolicyName", "secrets", "PolicyDocument", "Version", "2012-10-17",
				   "Statement", "Effect", "Allow", "Action", "ssm:GetParameters",
				   "Resource", arns));
	if (rc == 0)
		rc = res(NULL, self, "SecretFetcher", "AWS::Lambda::Function",
			 json_pack("{s:{s:s},s:s,s:s,s:o,s:i,s:i,s:s,s:{s:o}}", "Code", "ZipFile",
				   fetcher_code, "Runtime", FETCHER_RUNTIME, "Handler",
				   "index.handler", "Role",
				   synth_getatt("auth/SecretFetcherRole", "Arn"), "Timeout", 60,
				   "MemorySize", 128, "Description",
				   "libsynth: reads the auth secrets from SSM at deploy time",
				   "LoggingConfig", "LogGroup",
				   synth_ref("auth/SecretFetcherLogGroup")));
	synth_resource *cr = NULL;
	if (rc == 0)
		rc = res(&cr, self, "Secrets", "Custom::SecretFetcher",
			 json_pack("{s:o,s:O,s:s,s:o}", "ServiceToken",
				   synth_getatt("auth/SecretFetcher", "Arn"), "Secrets", list,
				   "Hash", hash, "Versions",
				   synth_param(SYNTH_SECRET_VERSIONS_PARAM)));
	/* For the layout: this resource's attributes are secret values, which
	 * must never become a stack output. */
	if (rc == 0)
		rc = synth_resource_add_metadata(cr, SYNTH_MD_SECRET_ATTRIBUTES, json_true());
	/* For the deployer: which parameter to set, from which SSM names. */
	if (rc == 0)
		rc = synth_resource_add_metadata(
			cr, SYNTH_MD_SECRET_VERSIONS,
			json_pack("{s:s,s:O}", "param", SYNTH_SECRET_VERSIONS_PARAM, "secrets", where));
	json_decref(where);
	json_decref(list);
	json_decref(arns);
	return rc;
}

/* --- generation: providers, domain ------------------------------------- */

static int gen_providers(synth_construct *self, synth_auth *a)
{
	json_t *prov;
	size_t i;
	int rc = 0;
	json_array_foreach(json_object_get(a->ext, "providers"), i, prov) {
		bool oom = false;
		json_t *details = json_deep_copy(json_object_get(prov, "details"));
		const char *key;
		json_t *sec;
		json_object_foreach(json_object_get(prov, "secret_details"), key, sec)
			oset(&oom, details, key, synth_getatt("auth/Secrets", json_string_value(sec)));
		json_t *props = json_pack("{s:o,s:O,s:O,s:o}", "UserPoolId",
					  synth_ref("auth/UserPool"), "ProviderName",
					  json_object_get(prov, "name"), "ProviderType",
					  json_object_get(prov, "type"), "ProviderDetails", details);
		json_t *map = json_object_get(prov, "mapping");
		if (props && json_object_size(map))
			oset(&oom, props, "AttributeMapping", json_deep_copy(map));
		json_t *ids = json_object_get(prov, "identifiers");
		if (props && json_array_size(ids))
			oset(&oom, props, "IdpIdentifiers", json_deep_copy(ids));
		if (oom) {
			json_decref(props);
			props = NULL;
		}
		rc = res(NULL, self, json_string_value(json_object_get(prov, "path")),
			 "AWS::Cognito::UserPoolIdentityProvider", props);
		if (rc < 0)
			break;
	}
	if (rc == 0)
		rc = res(NULL, self, "UserPoolDomain", "AWS::Cognito::UserPoolDomain",
			 json_pack("{s:O,s:o}", "Domain", json_object_get(a->ext, "domain"),
				   "UserPoolId", synth_ref("auth/UserPool")));
	return rc;
}

/* The app client: no secret, SRP and refresh; with OAuth, the code flow
 * through the hosted domain with every provider. */
static json_t *client_props(synth_auth *a)
{
	bool oom = false;
	json_t *c = json_pack("{s:o,s:b,s:[s,s,s],s:s,s:[s]}", "UserPoolId",
			      synth_ref("auth/UserPool"), "GenerateSecret", 0, "ExplicitAuthFlows",
			      "ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH", "ALLOW_CUSTOM_AUTH",
			      "PreventUserExistenceErrors", "ENABLED",
			      "SupportedIdentityProviders", "COGNITO");
	if (!c || !a->ext)
		return c;
	json_t *idps = json_object_get(c, "SupportedIdentityProviders"), *prov;
	size_t i;
	json_array_foreach(json_object_get(a->ext, "providers"), i, prov) {
		/* Ref gives the provider name, and makes the client wait for it. */
		char *p = synth_asprintf("auth/%s",
					  json_string_value(json_object_get(prov, "path")));
		aput(&oom, idps, p ? synth_ref(p) : NULL);
		free(p);
	}
	oset(&oom, c, "AllowedOAuthFlows", json_pack("[s]", "code"));
	oset(&oom, c, "AllowedOAuthFlowsUserPoolClient", json_true());
	oset(&oom, c, "AllowedOAuthScopes", json_deep_copy(json_object_get(a->ext, "scopes")));
	oset(&oom, c, "CallbackURLs", json_deep_copy(json_object_get(a->ext, "callbacks")));
	oset(&oom, c, "LogoutURLs", json_deep_copy(json_object_get(a->ext, "logouts")));
	if (oom) {
		json_decref(c);
		return NULL;
	}
	return c;
}

/* --- generation -------------------------------------------------------- */

static json_t *pool_props(synth_auth *a, unsigned login, json_t *uattrs, json_t *verify,
			  json_t *signup, json_t *mfa_types, bool *oom)
{
	const synth_auth_props *p = &a->p;
	json_t *pool = json_object();
	if (!(login & SYNTH_LOGIN_USERNAME)) {
		if (login & SYNTH_LOGIN_EMAIL)
			aput(oom, uattrs, json_string("email"));
		if (login & SYNTH_LOGIN_PHONE)
			aput(oom, uattrs, json_string("phone_number"));
		oset(oom, pool, "UsernameAttributes", json_incref(uattrs));
	} else if (login & (SYNTH_LOGIN_EMAIL | SYNTH_LOGIN_PHONE)) {
		json_t *alias = json_array();
		if (login & SYNTH_LOGIN_EMAIL)
			aput(oom, alias, json_string("email"));
		if (login & SYNTH_LOGIN_PHONE)
			aput(oom, alias, json_string("phone_number"));
		oset(oom, pool, "AliasAttributes", alias);
	}
	if (login & SYNTH_LOGIN_EMAIL)
		aput(oom, verify, json_string("email"));
	if (login & SYNTH_LOGIN_PHONE)
		aput(oom, verify, json_string("phone_number"));
	if (json_array_size(verify))
		oset(oom, pool, "AutoVerifiedAttributes", json_incref(verify));
	int minlen = p->password_min_length ? p->password_min_length : 8;
	oset(oom, pool, "Policies",
	     json_pack("{s:{s:i,s:b,s:b,s:b,s:b}}", "PasswordPolicy", "MinimumLength", minlen,
		       "RequireLowercase", !p->password_no_lowercase, "RequireUppercase",
		       !p->password_no_uppercase, "RequireNumbers", !p->password_no_numbers,
		       "RequireSymbols", !p->password_no_symbols));
	/* Schema: the sign-in attributes are required, plus what was asked. */
	json_t *schema = json_array();
	size_t i;
	json_t *at;
	json_array_foreach(uattrs, i, at) {
		aput(oom, schema, json_pack("{s:O,s:b,s:b}", "Name", at, "Required", 1, "Mutable", 1));
		aput(oom, signup, json_incref(at));
	}
	json_array_foreach(a->attributes, i, at) {
		const char *n = json_string_value(json_object_get(at, "name"));
		bool custom = json_is_true(json_object_get(at, "custom"));
		bool dup = false;
		size_t k;
		json_t *x;
		json_array_foreach(schema, k, x)
			dup |= !strcmp(json_string_value(json_object_get(x, "Name")), n);
		if (dup)
			continue;
		json_t *e = json_pack("{s:s,s:b}", "Name", n, "Mutable",
				      !json_is_true(json_object_get(at, "immutable")));
		if (custom)
			oset(oom, e, "AttributeDataType", json_deep_copy(json_object_get(at, "type")));
		else
			oset(oom, e, "Required",
			     json_boolean(json_is_true(json_object_get(at, "required"))));
		aput(oom, schema, e);
		if (!custom && json_is_true(json_object_get(at, "required")))
			aput(oom, signup, json_string(n));
	}
	oset(oom, pool, "Schema", schema);
	oset(oom, pool, "AccountRecoverySetting",
	     json_pack("{s:[{s:s,s:i}]}", "RecoveryMechanisms", "Name",
		       (login & SYNTH_LOGIN_EMAIL) || !(login & SYNTH_LOGIN_PHONE)
			       ? "verified_email"
			       : "verified_phone_number",
		       "Priority", 1));
	oset(oom, pool, "AdminCreateUserConfig", json_pack("{s:b}", "AllowAdminCreateUserOnly", 0));
	oset(oom, pool, "VerificationMessageTemplate",
	     json_pack("{s:s}", "DefaultEmailOption", "CONFIRM_WITH_CODE"));
	/* MFA. */
	static const char *const mfa_modes[] = {"OFF", "OPTIONAL", "ON"};
	bool totp = p->mfa_totp || (p->mfa && !p->mfa_sms && !p->mfa_email);
	if (p->mfa) {
		json_t *enabled = json_array();
		if (totp) {
			aput(oom, enabled, json_string("SOFTWARE_TOKEN_MFA"));
			aput(oom, mfa_types, json_string("TOTP"));
		}
		if (p->mfa_sms) {
			aput(oom, enabled, json_string("SMS_MFA"));
			aput(oom, mfa_types, json_string("SMS"));
		}
		if (p->mfa_email) {
			aput(oom, enabled, json_string("EMAIL_OTP"));
			aput(oom, mfa_types, json_string("EMAIL"));
		}
		oset(oom, pool, "EnabledMfas", enabled);
	}
	oset(oom, pool, "MfaConfiguration", json_string(mfa_modes[p->mfa]));
	if (p->mfa && p->mfa_sms)
		oset(oom, pool, "SmsConfiguration",
		     json_pack("{s:o,s:o}", "SnsCallerArn", synth_getatt("auth/SmsRole", "Arn"),
			       "ExternalId", synth_pseudo("AWS::StackName")));
	/* Email through the developer's SES identity. */
	if (a->email) {
		json_t *src = json_object_get(a->email, "source_arn");
		json_t *ec = json_pack(
			"{s:s,s:o,s:O}", "EmailSendingAccount", "DEVELOPER", "SourceArn",
			src ? json_incref(src)
			    : synth_sub("arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}"
					":identity/${Identity}",
					"Identity",
					json_incref(json_object_get(a->email, "identity")), NULL),
			"From", json_object_get(a->email, "from"));
		json_t *x;
		if ((x = json_object_get(a->email, "reply_to")))
			oset(oom, ec, "ReplyToEmailAddress", json_incref(x));
		if ((x = json_object_get(a->email, "configuration_set")))
			oset(oom, ec, "ConfigurationSet", json_incref(x));
		oset(oom, pool, "EmailConfiguration", ec);
	}
	/* Email MFA is an Essentials feature (Lite has no EMAIL_OTP). */
	if (p->mfa_email)
		oset(oom, pool, "UserPoolTier", json_string("ESSENTIALS"));
	/* Triggers. */
	json_t *lambda = json_object();
	const char *ev;
	json_t *fnname;
	json_object_foreach(a->triggers, ev, fnname) {
		char *fp = synth_asprintf("%s/Resource", json_string_value(fnname));
		for (size_t k = 0; k < sizeof events / sizeof events[0]; k++)
			if (!strcmp(events[k][0], ev))
				oset(oom, lambda, events[k][1], fp ? synth_getatt(fp, "Arn") : NULL);
		free(fp);
	}
	if (json_object_size(lambda))
		oset(oom, pool, "LambdaConfig", json_incref(lambda));
	json_decref(lambda);
	if (!lambda)
		*oom = true;
	return pool;
}

/* The identity pool: the user pool's client, and the social providers'
 * tokens accepted directly. */
static int identity_pool(synth_construct *self, synth_auth *a)
{
	const synth_auth_props *p = &a->p;
	bool oom = false;
	int rc = 0;
	json_t *logins = json_object();
	json_t *prov;
	size_t i;
	json_array_foreach(a->ext ? json_object_get(a->ext, "providers") : NULL, i, prov) {
		json_t *key = json_object_get(prov, "login_key");
		if (key)
			oset(&oom, logins, json_string_value(key),
			     json_incref(json_object_get(prov, "client_id")));
	}
	if (rc == 0) {
		json_t *ip = json_pack("{s:b,s:[{s:o,s:o}]}", "AllowUnauthenticatedIdentities",
				       !p->no_guest_access, "CognitoIdentityProviders", "ClientId",
				       synth_ref("auth/UserPoolClient"), "ProviderName",
				       synth_getatt("auth/UserPool", "ProviderName"));
		/* Tokens of the social providers are accepted directly too. */
		if (json_object_size(logins))
			oset(&oom, ip, "SupportedLoginProviders", json_incref(logins));
		if (oom || !logins) {
			json_decref(ip);
			ip = NULL;
		}
		rc = res(NULL, self, "IdentityPool", "AWS::Cognito::IdentityPool", ip);
	}
	json_decref(logins);
	return rc;
}

/* What the client needs: the outputs amplify_outputs.json is made of. */
static int client_outputs(synth_backend *b, synth_auth *a, json_t *uattrs, json_t *signup,
			  json_t *mfa_types, json_t *verify, json_t *gout)
{
	const synth_auth_props *p = &a->p;
	static const char *const mfa_modes[] = {"OFF", "OPTIONAL", "ON"};
	bool oom = false;
	int rc = 0;
	size_t i;
	json_t *prov;
	json_t *reqs = json_array();
	if (!p->password_no_lowercase)
		aput(&oom, reqs, json_string("REQUIRES_LOWERCASE"));
	if (!p->password_no_uppercase)
		aput(&oom, reqs, json_string("REQUIRES_UPPERCASE"));
	if (!p->password_no_numbers)
		aput(&oom, reqs, json_string("REQUIRES_NUMBERS"));
	if (!p->password_no_symbols)
		aput(&oom, reqs, json_string("REQUIRES_SYMBOLS"));
	if (rc == 0 && oom)
		rc = synth_error_oom();
	char minbuf[16];
	snprintf(minbuf, sizeof minbuf, "%d", p->password_min_length ? p->password_min_length : 8);
	if (rc == 0)
		rc = output(b, "authRegion", synth_pseudo("AWS::Region"));
	if (rc == 0)
		rc = output(b, "userPoolId", synth_ref("auth/UserPool"));
	if (rc == 0)
		rc = output(b, "webClientId", synth_ref("auth/UserPoolClient"));
	if (rc == 0)
		rc = output(b, "identityPoolId", synth_ref("auth/IdentityPool"));
	if (rc == 0)
		rc = output_json(b, "usernameAttributes", json_incref(uattrs));
	if (rc == 0)
		rc = output_json(b, "signupAttributes", json_incref(signup));
	if (rc == 0)
		rc = output(b, "passwordPolicyMinLength", json_string(minbuf));
	if (rc == 0)
		rc = output_json(b, "passwordPolicyRequirements", json_incref(reqs));
	if (rc == 0)
		rc = output(b, "mfaConfiguration", json_string(mfa_modes[p->mfa]));
	if (rc == 0)
		rc = output_json(b, "mfaTypes", json_incref(mfa_types));
	if (rc == 0)
		rc = output_json(b, "verificationMechanisms", json_incref(verify));
	if (rc == 0 && json_array_size(gout))
		rc = output_json(b, "groups", json_incref(gout));
	if (rc == 0)
		rc = output(b, "allowUnauthenticatedIdentities",
			    json_string(p->no_guest_access ? "false" : "true"));
	if (rc == 0 && a->ext) {
		json_t *social = json_array();
		json_array_foreach(json_object_get(a->ext, "providers"), i, prov)
			aput(&oom, social, json_incref(json_object_get(prov, "social")));
		rc = oom ? synth_error_oom() : output_json(b, "socialProviders", social);
		if (oom)
			json_decref(social);
		if (rc == 0)
			rc = output(b, "oauthCognitoDomain",
				    synth_join("", json_pack("[O,s,o,s]",
							     json_object_get(a->ext, "domain"),
							     ".auth.", synth_pseudo("AWS::Region"),
							     ".amazoncognito.com")));
		if (rc == 0)
			rc = output_json(b, "oauthScope",
					 json_incref(json_object_get(a->ext, "scopes")));
		if (rc == 0)
			rc = output(b, "oauthRedirectSignIn",
				    joined(json_object_get(a->ext, "callbacks")));
		if (rc == 0)
			rc = output(b, "oauthRedirectSignOut",
				    joined(json_object_get(a->ext, "logouts")));
		if (rc == 0)
			rc = output(b, "oauthClientId", synth_ref("auth/UserPoolClient"));
		if (rc == 0)
			rc = output(b, "oauthResponseType", json_string("code"));
		json_array_foreach(json_object_get(a->ext, "providers"), i, prov) {
			json_t *out = json_object_get(prov, "client_output");
			if (rc == 0 && out)
				rc = output(b, json_string_value(out),
					    json_incref(json_object_get(prov, "client_id")));
		}
	}
	json_decref(reqs);
	return rc;
}

static int auth_generate(synth_construct *self, void *state)
{
	synth_auth *a = state;
	synth_backend *b = synth_construct_backend(self);
	const synth_auth_props *p = &a->p;
	unsigned login = p->login ? p->login : SYNTH_LOGIN_EMAIL;
	bool oom = false;
	int rc = 0;

	json_t *uattrs = json_array(), *verify = json_array(), *signup = json_array();
	json_t *mfa_types = json_array();
	json_t *pool = pool_props(a, login, uattrs, verify, signup, mfa_types, &oom);
	if (oom || !uattrs || !verify || !signup || !mfa_types || !pool) {
		json_decref(pool);
		rc = synth_error_oom();
	}
	if (rc == 0 && p->mfa && p->mfa_sms) {
		/* Cognito sends SMS through SNS with a role it assumes. */
		rc = res(NULL, self, "SmsRole", "AWS::IAM::Role",
			 json_pack("{s:{s:s,s:[{s:s,s:{s:s},s:s,s:{s:{s:o}}}]},s:[{s:s,s:{s:s,s:[{s:s,s:s,s:s}]}}]}",
				   "AssumeRolePolicyDocument", "Version", "2012-10-17", "Statement",
				   "Effect", "Allow", "Principal", "Service",
				   "cognito-idp.amazonaws.com", "Action", "sts:AssumeRole",
				   "Condition", "StringEquals", "sts:ExternalId",
				   synth_pseudo("AWS::StackName"), "Policies", "PolicyName", "sns",
				   "PolicyDocument", "Version", "2012-10-17", "Statement", "Effect",
				   "Allow", "Action", "sns:Publish", "Resource", "*"));
		if (rc < 0)
			json_decref(pool);
	}
	if (rc == 0)
		rc = res(NULL, self, "UserPool", "AWS::Cognito::UserPool", pool);
	const char *ev;
	json_t *fnname;
	json_object_foreach(a->triggers, ev, fnname) {
		if (rc < 0)
			break;
		char *fp = synth_asprintf("%s/Resource", json_string_value(fnname));
		char id[96];
		snprintf(id, sizeof id, "Trigger%c%sPermission", toupper((unsigned char)ev[0]), ev + 1);
		rc = fp ? res(NULL, self, id, "AWS::Lambda::Permission",
			      json_pack("{s:s,s:o,s:s,s:o}", "Action", "lambda:InvokeFunction",
					"FunctionName", synth_getatt(fp, "Arn"), "Principal",
					"cognito-idp.amazonaws.com", "SourceArn",
					synth_getatt("auth/UserPool", "Arn")))
			: synth_error_oom();
		free(fp);
	}

	/* External providers: secrets first (the providers read them), then
	 * the providers, the domain, and the client that lists them. */
	if (rc == 0 && json_object_size(a->secrets))
		rc = gen_fetcher(self, a);
	if (rc == 0 && a->ext)
		rc = gen_providers(self, a);
	if (rc == 0)
		rc = res(NULL, self, "UserPoolClient", "AWS::Cognito::UserPoolClient",
			 client_props(a));
	if (rc == 0)
		rc = identity_pool(self, a);
	size_t i;
	if (rc == 0)
		rc = res(NULL, self, "AuthenticatedRole", "AWS::IAM::Role",
			 json_pack("{s:o}", "AssumeRolePolicyDocument", identity_trust("authenticated")));
	if (rc == 0)
		rc = res(NULL, self, "UnauthenticatedRole", "AWS::IAM::Role",
			 json_pack("{s:o}", "AssumeRolePolicyDocument",
				   identity_trust("unauthenticated")));
	json_t *gout = json_array();
	json_t *g;
	if (!gout && rc == 0)
		rc = synth_error_oom();
	json_array_foreach(a->groups, i, g) {
		if (rc < 0)
			break;
		const char *gn = json_string_value(json_object_get(g, "name"));
		char id[96], rid[96], rp[128];
		snprintf(id, sizeof id, "Group%s", gn);
		snprintf(rid, sizeof rid, "Group%sRole", gn);
		snprintf(rp, sizeof rp, "auth/Group%sRole", gn);
		rc = res(NULL, self, rid, "AWS::IAM::Role",
			 json_pack("{s:o}", "AssumeRolePolicyDocument",
				   identity_trust("authenticated")));
		if (rc == 0)
			rc = res(NULL, self, id, "AWS::Cognito::UserPoolGroup",
				 json_pack("{s:s,s:o,s:O,s:o}", "GroupName", gn, "UserPoolId",
					   synth_ref("auth/UserPool"), "Precedence",
					   json_object_get(g, "precedence"), "RoleArn",
					   synth_getatt(rp, "Arn")));
		if (rc == 0) {
			aput(&oom, gout, json_pack("{s:{s:O}}", gn, "precedence",
						   json_object_get(g, "precedence")));
			if (oom)
				rc = synth_error_oom();
		}
	}
	if (rc == 0) {
		json_t *attach = json_pack(
			"{s:o,s:{s:o,s:o}}", "IdentityPoolId", synth_ref("auth/IdentityPool"),
			"Roles", "authenticated", synth_getatt("auth/AuthenticatedRole", "Arn"),
			"unauthenticated", synth_getatt("auth/UnauthenticatedRole", "Arn"));
		if (attach && json_array_size(a->groups)) {
			/* Members of a group get its role, through the ID token. */
			oset(&oom, attach, "RoleMappings",
			     json_pack("{s:{s:s,s:s,s:o}}", "UserPoolWebClientRoleMapping", "Type",
				       "Token", "AmbiguousRoleResolution", "AuthenticatedRole",
				       "IdentityProvider",
				       synth_join("", json_pack("[s,o,s,o,s,o]", "cognito-idp.",
								synth_pseudo("AWS::Region"),
								".amazonaws.com/",
								synth_ref("auth/UserPool"), ":",
								synth_ref("auth/UserPoolClient")))));
			if (oom) {
				json_decref(attach);
				attach = NULL;
			}
		}
		rc = res(NULL, self, "RoleAttachment", "AWS::Cognito::IdentityPoolRoleAttachment",
			 attach);
	}

	if (rc == 0)
		rc = client_outputs(b, a, uattrs, signup, mfa_types, verify, gout);
	json_decref(uattrs);
	json_decref(verify);
	json_decref(signup);
	json_decref(mfa_types);
	json_decref(gout);
	return rc;
}

static const synth_construct_class auth_class = {
	SYNTH_CONSTRUCT_CLASS_VERSION, "auth", "auth", auth_generate, auth_free};

/* --- validation of the external providers ------------------------------ */

/* A validation failure: "auth: <formatted>" (EINVALID), or out of memory. */
static int bad(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int bad(const char *fmt, ...)
{
	char msg[768];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	return synth_error_setf(SYNTH_EINVALID, "auth: %s", msg);
}

/* Why URL U cannot be a Cognito callback or sign-out URL, or NULL. */
static const char *url_problem(const char *u)
{
	if (!*u)
		return "is empty";
	if (strlen(u) > 1024)
		return "is longer than Cognito's 1024 characters";
	for (const char *c = u; *c; c++)
		if ((unsigned char)*c <= ' ' || *c == 0x7f)
			return "has a space or a control character";
	if (strchr(u, '#'))
		return "has a fragment (#...), which Cognito refuses";
	if (strchr(u, ','))
		return "has a comma, which the client configuration cannot carry (write %2C)";
	const char *sep = strstr(u, "://");
	if (!sep || sep == u || !isalpha((unsigned char)u[0]))
		return "is not an absolute URL (scheme://...)";
	for (const char *c = u; c < sep; c++)
		if (!isalnum((unsigned char)*c) && *c != '+' && *c != '-' && *c != '.')
			return "has a scheme that is not letters, digits, '+', '-' or '.'";
	size_t slen = (size_t)(sep - u);
	const char *host = sep + 3;
	size_t hlen = strcspn(host, ":/?");
	if (slen == 5 && !strncasecmp(u, "https", 5))
		return hlen ? NULL : "has no host";
	if (slen == 4 && !strncasecmp(u, "http", 4))
		return hlen == 9 && !strncasecmp(host, "localhost", 9)
			       ? NULL
			       : "uses http, which Cognito allows only for localhost: use https";
	return NULL; /* an app's own scheme (myapp://callback), as Cognito allows */
}

/* A NULL-terminated URL list into a JSON array. */
static int url_list(json_t **out, const char *field, const char *const *v)
{
	*out = NULL;
	if (!v || !v[0])
		return bad("%s is required with external providers (at least one URL)", field);
	json_t *arr = json_array();
	if (!arr)
		return synth_error_oom();
	size_t n = 0;
	for (; v[n]; n++) {
		const char *why = url_problem(v[n]);
		if (why) {
			json_decref(arr);
			return bad("%s[%zu] '%.200s' %s", field, n, v[n], why);
		}
		bool dup = false;
		for (size_t k = 0; k < n; k++)
			dup |= !strcmp(v[k], v[n]);
		if (dup) {
			json_decref(arr);
			return bad("%s[%zu] '%.200s' is listed twice", field, n, v[n]);
		}
		if (json_array_append_new(arr, json_string(v[n])) < 0) {
			json_decref(arr);
			return synth_error_oom();
		}
	}
	if (n > 100) {
		json_decref(arr);
		return bad("%s has %zu URLs; Cognito allows 100", field, n);
	}
	*out = arr;
	return 0;
}

/* Why Cognito would refuse domain prefix D, or NULL. */
static const char *domain_problem(const char *d)
{
	size_t n = strlen(d);
	if (n < 1 || n > 63)
		return "must have 1 to 63 characters";
	for (const char *c = d; *c; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '-'))
			return "may contain only lowercase letters, digits and hyphens";
	if (d[0] == '-' || d[n - 1] == '-')
		return "must not start or end with a hyphen";
	if (strstr(d, "aws") || strstr(d, "amazon") || strstr(d, "cognito"))
		return "must not contain the reserved words aws, amazon or cognito";
	return NULL;
}

/* The default prefix: the stack name made domain-safe, then 8 hex digits
 * of its SHA-256 (the stack name already carries a hash of the backend
 * identifier; this one survives truncation). Caller frees. */
static char *derive_domain(const char *stack)
{
	char hash[65];
	if (synth_sha256_hex(stack, strlen(stack), hash) < 0)
		return NULL;
	char base[64];
	size_t n = 0;
	for (const char *c = stack; *c && n < 54; c++) {
		char ch = (char)tolower((unsigned char)*c);
		if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9')))
			ch = '-';
		if (ch == '-' && (n == 0 || base[n - 1] == '-'))
			continue;
		base[n++] = ch;
	}
	base[n] = '\0';
	/* Break up the reserved words (a letter becomes a digit). */
	static const char *const words[] = {"aws", "amazon", "cognito"};
	for (bool again = true; again;) {
		again = false;
		for (size_t k = 0; k < 3; k++) {
			char *w = strstr(base, words[k]);
			if (w) {
				w[1] = '0';
				again = true;
			}
		}
	}
	while (n && base[n - 1] == '-')
		base[--n] = '\0';
	return synth_asprintf("%s%s%.8s", base, n ? "-" : "", hash);
}

/* Secret name NAME for FIELD: registered in a->secrets. The name is not
 * echoed when it is refused: it may be a value pasted by mistake. */
static int secret_name(synth_auth *a, const char *field, const char *name)
{
	if (!name || !*name)
		return bad("%s: a secret name is required (the value is set with `synth secret "
			   "set NAME` and read at deploy time)", field);
	size_t n = strlen(name);
	bool ok = n <= 128 && isalpha((unsigned char)name[0]);
	for (const char *c = name; ok && *c; c++)
		ok = isalnum((unsigned char)*c) || *c == '_';
	if (!ok)
		return bad("%s is not a secret name (1..128 letters, digits and '_', starting "
			   "with a letter): give the NAME of an SSM secret, never its value",
			   field);
	if (json_object_set_new(a->secrets, name, json_true()) < 0)
		return synth_error_oom();
	return 0;
}

/* Attribute mapping entries into MAP (an object with defaults already). */
static int mapping(synth_auth *a, json_t *map, const char *field,
		   const synth_auth_attribute_map *m)
{
	json_t *given = json_object();
	if (!given)
		return synth_error_oom();
	int rc = 0;
	for (size_t i = 0; rc == 0 && m && m[i].user_pool; i++) {
		const char *up = m[i].user_pool, *pr = m[i].provider;
		bool known = !strcmp(up, "email_verified");
		for (size_t k = 0; standard_attributes[k]; k++)
			known |= !strcmp(standard_attributes[k], up);
		if (!strncmp(up, "custom:", 7)) {
			size_t k;
			json_t *at;
			json_array_foreach(a->attributes, k, at) {
				if (!json_is_true(json_object_get(at, "custom")) ||
				    strcmp(json_string_value(json_object_get(at, "name")), up + 7))
					continue;
				known = true;
				if (json_is_true(json_object_get(at, "immutable")))
					rc = bad("%s.attribute_mapping[%zu]: '%s' is immutable, and "
						 "Cognito writes mapped attributes at every sign-in",
						 field, i, up);
			}
			if (rc == 0 && !known)
				rc = bad("%s.attribute_mapping[%zu]: '%s' is not a custom attribute "
					 "of this user pool (define it in .attributes)", field, i, up);
		} else if (!known) {
			rc = bad("%s.attribute_mapping[%zu]: '%.64s' is not a user pool attribute "
				 "(a standard attribute, email_verified, or custom:<name>)",
				 field, i, up);
		} else {
			size_t k;
			json_t *at;
			json_array_foreach(a->attributes, k, at)
				if (!json_is_true(json_object_get(at, "custom")) &&
				    !strcmp(json_string_value(json_object_get(at, "name")), up) &&
				    json_is_true(json_object_get(at, "immutable")))
					rc = bad("%s.attribute_mapping[%zu]: '%s' is immutable, and "
						 "Cognito writes mapped attributes at every sign-in",
						 field, i, up);
		}
		if (rc == 0 && (!pr || !*pr || strlen(pr) > 256))
			rc = bad("%s.attribute_mapping[%zu]: '%s' needs the provider's attribute "
				 "(1..256 characters)", field, i, up);
		if (rc == 0 && json_object_get(given, up))
			rc = bad("%s.attribute_mapping[%zu]: '%s' is mapped twice", field, i, up);
		if (rc == 0 && (json_object_set_new(given, up, json_true()) < 0 ||
				json_object_set_new(map, up, json_string(pr)) < 0))
			rc = synth_error_oom();
	}
	json_decref(given);
	return rc;
}

/* Scopes (NULL-terminated, or DEF, a space-separated default) joined with
 * SEP, for ProviderDetails.authorize_scopes. */
static int scopes_join(json_t **out, const char *field, const char *const *v, const char *def,
		       const char *sep)
{
	*out = NULL;
	if (!v || !v[0]) {
		*out = json_string(def);
		return *out ? 0 : synth_error_oom();
	}
	synth_buf buf = SYNTH_BUF_INIT;
	for (size_t i = 0; v[i]; i++) {
		bool ok = *v[i] && strlen(v[i]) <= 256;
		for (const char *c = v[i]; ok && *c; c++)
			ok = (unsigned char)*c > ' ' && *c != ',' && *c != 0x7f;
		if (!ok) {
			synth_buf_free(&buf);
			return bad("%s.scopes[%zu] '%.64s' must be 1..256 characters without spaces "
				   "or commas", field, i, v[i]);
		}
		if (i)
			synth_buf_puts(&buf, sep);
		synth_buf_puts(&buf, v[i]);
	}
	char *s = synth_buf_detach(&buf);
	*out = s ? json_string(s) : NULL;
	free(s);
	return *out ? 0 : synth_error_oom();
}

/* Provider names: 3..32 letters, digits, '-' and '.'. */
static bool provider_name_ok(const char *n)
{
	size_t len = strlen(n);
	if (len < 3 || len > 32)
		return false;
	for (const char *c = n; *c; c++)
		if (!isalnum((unsigned char)*c) && *c != '-' && *c != '.')
			return false;
	return true;
}

/* Names Cognito keeps for its own providers. */
static bool provider_name_reserved(const char *n)
{
	static const char *const r[] = {"Google", "Facebook", "LoginWithAmazon",
					"SignInWithApple", "COGNITO"};
	for (size_t k = 0; k < sizeof r / sizeof r[0]; k++)
		if (!strcasecmp(n, r[k]))
			return true;
	return false;
}

/* The letters and digits of NAME (a construct path part), into OUT. */
static void alnum_of(const char *name, char out[40])
{
	size_t n = 0;
	for (const char *c = name; *c && n < 39; c++)
		if (isalnum((unsigned char)*c))
			out[n++] = *c;
	out[n] = '\0';
}

/* Adds provider record PROV (stolen) after checking its name is new. */
static int add_provider(json_t *ext, json_t *prov, const char *field)
{
	if (!prov)
		return synth_error_oom();
	const char *name = json_string_value(json_object_get(prov, "name"));
	const char *path = json_string_value(json_object_get(prov, "path"));
	json_t *list = json_object_get(ext, "providers"), *x;
	size_t i;
	json_array_foreach(list, i, x) {
		const char *xn = json_string_value(json_object_get(x, "name"));
		if (!strcasecmp(xn, name) ||
		    !strcasecmp(json_string_value(json_object_get(x, "path")), path)) {
			int rc = bad("%s.name '%s': another provider is named '%s' (provider "
				     "names must differ in more than case and punctuation)",
				     field, name, xn);
			json_decref(prov);
			return rc;
		}
	}
	return json_array_append_new(list, prov) < 0 ? synth_error_oom() : 0;
}

/* Google, Facebook, Amazon, Apple. */
static int social(synth_auth *a, json_t *ext, const synth_auth_provider *sp, int kind,
		  bool map_email)
{
	static const struct {
		const char *field, *name, *social, *login_key, *output, *scopes, *sep, *path;
	} k[] = {
		{"external.google", "Google", "GOOGLE", "accounts.google.com", "googleClientId",
		 "openid email profile", " ", "GoogleIdP"},
		{"external.facebook", "Facebook", "FACEBOOK", "graph.facebook.com",
		 "facebookClientId", "public_profile,email", ",", "FacebookIdP"},
		{"external.amazon", "LoginWithAmazon", "AMAZON", "www.amazon.com",
		 "amazonClientId", "profile", " ", "AmazonIdP"},
		{"external.apple", "SignInWithApple", "APPLE", "appleid.apple.com",
		 "appleClientId", "email name", " ", "AppleIdP"},
	};
	const char *f = k[kind].field;
	bool apple = kind == 3, facebook = kind == 1;
	char fb[64];
	/* Fields this provider does not have. */
	if (apple && sp->client_secret)
		return bad("%s.client_secret: Sign in with Apple has no client secret (it uses "
			   "team_id, key_id and the private_key secret)", f);
	if (!apple && (sp->team_id || sp->key_id || sp->private_key))
		return bad("%s.%s: %s has no %s (a Sign in with Apple field)", f,
			   sp->team_id ? "team_id" : sp->key_id ? "key_id" : "private_key",
			   k[kind].name, sp->team_id ? "team_id" : sp->key_id ? "key_id" : "private_key");
	if (!facebook && sp->api_version)
		return bad("%s.api_version: %s has no api_version (a Facebook field)", f,
			   k[kind].name);
	if (!sp->client_id || !*sp->client_id || strlen(sp->client_id) > 256)
		return bad("%s.client_id is required (1..256 characters)", f);
	if (facebook && sp->api_version &&
	    (sp->api_version[0] != 'v' || !isdigit((unsigned char)sp->api_version[1]) ||
	     strspn(sp->api_version + 1, "0123456789.") != strlen(sp->api_version + 1)))
		return bad("%s.api_version '%.32s' is not a Graph API version like v17.0", f,
			   sp->api_version);
	json_t *details = json_pack("{s:s}", "client_id", sp->client_id);
	json_t *secrets = json_object();
	json_t *map = json_object();
	json_t *scopes = NULL;
	int rc = details && secrets && map ? 0 : synth_error_oom();
	if (rc == 0 && apple) {
		if (!sp->team_id || !*sp->team_id || strlen(sp->team_id) > 64)
			rc = bad("%s.team_id is required (your Apple developer team id)", f);
		else if (!sp->key_id || !*sp->key_id || strlen(sp->key_id) > 64)
			rc = bad("%s.key_id is required (the id of the Sign in with Apple key)", f);
		else {
			snprintf(fb, sizeof fb, "%s.private_key", f);
			rc = secret_name(a, fb, sp->private_key);
		}
		if (rc == 0 && (json_object_set_new(details, "team_id", json_string(sp->team_id)) < 0 ||
				json_object_set_new(details, "key_id", json_string(sp->key_id)) < 0 ||
				json_object_set_new(secrets, "private_key",
						    json_string(sp->private_key)) < 0))
			rc = synth_error_oom();
	} else if (rc == 0) {
		snprintf(fb, sizeof fb, "%s.client_secret", f);
		rc = secret_name(a, fb, sp->client_secret);
		if (rc == 0 && json_object_set_new(secrets, "client_secret",
						   json_string(sp->client_secret)) < 0)
			rc = synth_error_oom();
	}
	if (rc == 0 && facebook && sp->api_version &&
	    json_object_set_new(details, "api_version", json_string(sp->api_version)) < 0)
		rc = synth_error_oom();
	if (rc == 0)
		rc = scopes_join(&scopes, f, sp->scopes, k[kind].scopes, k[kind].sep);
	if (rc == 0 && json_object_set_new(details, "authorize_scopes", scopes) < 0)
		rc = synth_error_oom();
	if (rc == 0 && map_email && json_object_set_new(map, "email", json_string("email")) < 0)
		rc = synth_error_oom();
	if (rc == 0)
		rc = mapping(a, map, f, sp->attribute_mapping);
	if (rc < 0) {
		json_decref(details);
		json_decref(secrets);
		json_decref(map);
		return rc;
	}
	return add_provider(ext,
			    json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:o,s:o,s:o,s:[]}", "path",
				      k[kind].path, "name", k[kind].name, "type", k[kind].name,
				      "social", k[kind].social, "login_key", k[kind].login_key,
				      "client_output", k[kind].output, "client_id", sp->client_id,
				      "details", details, "secret_details", secrets, "mapping", map,
				      "identifiers"),
			    f);
}

static int identifiers(json_t **out, const char *field, const char *const *v)
{
	json_t *arr = json_array();
	*out = NULL;
	if (!arr)
		return synth_error_oom();
	for (size_t i = 0; v && v[i]; i++) {
		if (i >= 50 || !*v[i] || strlen(v[i]) > 40) {
			json_decref(arr);
			return bad("%s.identifiers: at most 50, of 1..40 characters each", field);
		}
		if (json_array_append_new(arr, json_string(v[i])) < 0) {
			json_decref(arr);
			return synth_error_oom();
		}
	}
	*out = arr;
	return 0;
}

static int oidc(synth_auth *a, json_t *ext, const synth_auth_oidc_provider *o, size_t idx,
		bool map_email)
{
	char f[96], fb[128], path[64], an[40];
	snprintf(f, sizeof f, "external.oidc[%zu]", idx);
	if (!provider_name_ok(o->name))
		return bad("%s.name '%.64s' must be 3..32 letters, digits, '-' or '.'", f, o->name);
	if (provider_name_reserved(o->name))
		return bad("%s.name '%s' is reserved for Cognito's own providers", f, o->name);
	snprintf(f, sizeof f, "external.oidc[%zu] (%s)", idx, o->name);
	if (!o->client_id || !*o->client_id || strlen(o->client_id) > 256)
		return bad("%s.client_id is required (1..256 characters)", f);
	snprintf(fb, sizeof fb, "%s.client_secret", f);
	int rc = secret_name(a, fb, o->client_secret);
	if (rc < 0)
		return rc;
	if (!o->issuer_url || strncmp(o->issuer_url, "https://", 8) || !o->issuer_url[8] ||
	    url_problem(o->issuer_url))
		return bad("%s.issuer_url '%.200s' must be an https URL (the issuer whose "
			   "/.well-known/openid-configuration Cognito reads)",
			   f, o->issuer_url ? o->issuer_url : "");
	const char *method = o->attribute_request_method ? o->attribute_request_method : "GET";
	if (strcmp(method, "GET") && strcmp(method, "POST"))
		return bad("%s.attribute_request_method '%.16s' is neither GET nor POST", f, method);
	json_t *scopes = NULL, *ids = NULL, *map = json_object();
	json_t *details = json_pack("{s:s,s:s,s:s}", "client_id", o->client_id, "oidc_issuer",
				    o->issuer_url, "attributes_request_method", method);
	rc = map && details ? 0 : synth_error_oom();
	if (rc == 0)
		rc = scopes_join(&scopes, f, o->scopes, "openid email", " ");
	if (rc == 0 && json_object_set_new(details, "authorize_scopes", scopes) < 0)
		rc = synth_error_oom();
	if (rc == 0)
		rc = identifiers(&ids, f, o->identifiers);
	if (rc == 0 && map_email && json_object_set_new(map, "email", json_string("email")) < 0)
		rc = synth_error_oom();
	if (rc == 0)
		rc = mapping(a, map, f, o->attribute_mapping);
	alnum_of(o->name, an);
	snprintf(path, sizeof path, "Oidc%sIdP", an);
	if (rc < 0) {
		json_decref(map);
		json_decref(details);
		json_decref(ids);
		return rc;
	}
	return add_provider(ext,
			    json_pack("{s:s,s:s,s:s,s:s,s:s,s:o,s:{s:s},s:o,s:o}", "path", path,
				      "name", o->name, "type", "OIDC", "social", o->name,
				      "client_id", o->client_id, "details", details,
				      "secret_details", "client_secret", o->client_secret,
				      "mapping", map, "identifiers", ids),
			    f);
}

static int saml(synth_auth *a, json_t *ext, const synth_auth_saml_provider *s)
{
	const char *f = "external.saml";
	char fn[96];
	if (!s->name || !provider_name_ok(s->name))
		return bad("%s.name '%.64s' must be 3..32 letters, digits, '-' or '.'", f,
			   s->name ? s->name : "");
	if (provider_name_reserved(s->name))
		return bad("%s.name '%s' is reserved for Cognito's own providers", f, s->name);
	snprintf(fn, sizeof fn, "external.saml (%s)", s->name);
	if (!!s->metadata_url == !!s->metadata_content)
		return bad("%s needs exactly one of metadata_url and metadata_content", fn);
	if (s->metadata_url && (strncmp(s->metadata_url, "https://", 8) ||
				url_problem(s->metadata_url)))
		return bad("%s.metadata_url '%.200s' must be an https URL", fn, s->metadata_url);
	if (s->metadata_content && (strlen(s->metadata_content) > 131072 ||
				    !strstr(s->metadata_content, "EntityDescriptor")))
		return bad("%s.metadata_content is not SAML metadata (an EntityDescriptor, at "
			   "most 128 KB)", fn);
	json_t *ids = NULL, *map = json_object();
	json_t *details = json_pack("{s:s,s:s}", s->metadata_url ? "MetadataURL" : "MetadataFile",
				    s->metadata_url ? s->metadata_url : s->metadata_content,
				    "IDPSignout", s->idp_signout ? "true" : "false");
	int rc = map && details ? 0 : synth_error_oom();
	if (rc == 0)
		rc = identifiers(&ids, fn, s->identifiers);
	if (rc == 0)
		rc = mapping(a, map, fn, s->attribute_mapping);
	if (rc < 0) {
		json_decref(map);
		json_decref(details);
		json_decref(ids);
		return rc;
	}
	return add_provider(ext,
			    json_pack("{s:s,s:s,s:s,s:s,s:o,s:{},s:o,s:o}", "path", "SamlIdP",
				      "name", s->name, "type", "SAML", "social", "SAML", "details",
				      details, "secret_details", "mapping", map, "identifiers", ids),
			    fn);
}

/*
 * props.external into a->ext:
 *   {"providers": [{path, name, type, social, login_key?, client_output?,
 *                   client_id?, details, secret_details, mapping, identifiers}],
 *    "callbacks": [...], "logouts": [...], "scopes": [...], "domain": "..."}
 * secret_details maps a ProviderDetails key to a secret name.
 */
static int ext_parse(synth_auth *a, synth_backend *b, const synth_auth_external *e)
{
	unsigned login = a->p.login ? a->p.login : SYNTH_LOGIN_EMAIL;
	bool map_email = (login & SYNTH_LOGIN_EMAIL) && !(login & SYNTH_LOGIN_PHONE);
	json_t *ext = json_pack("{s:[]}", "providers"), *x = NULL;
	if (!ext)
		return synth_error_oom();
	a->ext = ext;
	int rc = url_list(&x, "external.callback_urls", e->callback_urls);
	if (rc == 0 && json_object_set_new(ext, "callbacks", x) < 0)
		rc = synth_error_oom();
	if (rc == 0)
		rc = url_list(&x, "external.logout_urls", e->logout_urls);
	if (rc == 0 && json_object_set_new(ext, "logouts", x) < 0)
		rc = synth_error_oom();
	unsigned sc = e->scopes ? e->scopes : 31u;
	if (rc == 0 && (sc & ~31u))
		rc = bad("external.scopes has unknown bits (SYNTH_OAUTH_PHONE, _EMAIL, _OPENID, "
			 "_PROFILE, _COGNITO_ADMIN)");
	if (rc == 0 && (sc & (SYNTH_OAUTH_PHONE | SYNTH_OAUTH_EMAIL | SYNTH_OAUTH_PROFILE)) &&
	    !(sc & SYNTH_OAUTH_OPENID))
		rc = bad("external.scopes: phone, email and profile need SYNTH_OAUTH_OPENID "
			 "(Cognito refuses them alone)");
	if (rc == 0) {
		x = json_array();
		for (unsigned k = 0; x && k < 5; k++)
			if ((sc & (1u << k)) && json_array_append_new(x, json_string(oauth_scopes[k])) < 0) {
				json_decref(x);
				x = NULL;
			}
		if (!x || json_object_set_new(ext, "scopes", x) < 0)
			rc = synth_error_oom();
	}
	if (rc == 0) {
		const char *why;
		char *d = e->domain_prefix ? strdup(e->domain_prefix)
					   : derive_domain(synth_backend_stack_name(b));
		if (!d)
			rc = synth_error_oom();
		else if ((why = domain_problem(d)))
			rc = bad("external.domain_prefix '%.80s' %s (Cognito's rule)", d, why);
		else if (json_object_set_new(ext, "domain", json_string(d)) < 0)
			rc = synth_error_oom();
		free(d);
	}
	const synth_auth_provider *sp[4] = {e->google, e->facebook, e->amazon, e->apple};
	for (int k = 0; rc == 0 && k < 4; k++)
		if (sp[k])
			rc = social(a, ext, sp[k], k, map_email);
	for (size_t i = 0; rc == 0 && e->oidc && e->oidc[i].name; i++)
		rc = oidc(a, ext, &e->oidc[i], i, map_email);
	if (rc == 0 && e->saml)
		rc = saml(a, ext, e->saml);
	return rc;
}

/* props.email_sender into a->email. */
static int email_parse(synth_auth *a, const synth_auth_email_sender *s)
{
	const char *id = s->ses_identity;
	if (!id || !*id)
		return bad("email_sender.ses_identity is required (a verified SES identity: its "
			   "ARN, or the domain or address)");
	if (!s->from || !strchr(s->from, '@') || strlen(s->from) > 256)
		return bad("email_sender.from '%.80s' must be the sender's address "
			   "(\"App <no-reply@example.com>\")", s->from ? s->from : "");
	if (s->reply_to && (!strchr(s->reply_to, '@') || strchr(s->reply_to, ' ')))
		return bad("email_sender.reply_to '%.80s' is not an email address", s->reply_to);
	if (s->configuration_set && !synth_name_valid(s->configuration_set, 64))
		return bad("email_sender.configuration_set '%.80s' must be 1..64 letters, digits, "
			   "'-' or '_'", s->configuration_set);
	bool arn = !strncmp(id, "arn:", 4);
	if (arn) {
		/* arn:<partition>:ses:<region>:<12 digits>:identity/<x> */
		const char *p = id + 4, *q = strchr(p, ':');
		bool ok = q && q > p && !strncmp(q, ":ses:", 5);
		const char *r = ok ? q + 5 : NULL, *acct = r ? strchr(r, ':') : NULL;
		ok = ok && acct && acct > r && strspn(acct + 1, "0123456789") == 12 &&
		     !strncmp(acct + 13, ":identity/", 10) && acct[23];
		if (!ok)
			return bad("email_sender.ses_identity '%.120s' is not an SES identity ARN "
				   "(arn:<partition>:ses:<region>:<account>:identity/<domain or "
				   "address>)", id);
	} else {
		for (const char *c = id; *c; c++)
			if ((unsigned char)*c <= ' ' || *c == '/' || *c == ':')
				return bad("email_sender.ses_identity '%.120s' is neither an ARN nor "
					   "a domain or address", id);
	}
	a->email = json_pack("{s:s,s:s}", arn ? "source_arn" : "identity", id, "from", s->from);
	if (a->email && s->reply_to &&
	    json_object_set_new(a->email, "reply_to", json_string(s->reply_to)) < 0)
		return synth_error_oom();
	if (a->email && s->configuration_set &&
	    json_object_set_new(a->email, "configuration_set", json_string(s->configuration_set)) < 0)
		return synth_error_oom();
	return a->email ? 0 : synth_error_oom();
}

/* --- define ------------------------------------------------------------ */

/* Checks P and copies what A keeps of it. 0, or a negative code with the
 * error set ("auth: ..."). */
static int auth_props(synth_backend *b, synth_auth *a, const synth_auth_props *p)
{
	a->p = *p;
	a->p.attributes = NULL;
	a->p.groups = NULL;
	a->p.triggers = NULL;
	a->p.email_sender = NULL;
	a->p.external = NULL;
	a->attributes = json_array();
	a->groups = json_array();
	a->triggers = json_object();
	a->secrets = json_object();
	if (!a->attributes || !a->groups || !a->triggers || !a->secrets) {
		return synth_error_oom();
	}
	if (p->login & ~7u)
		return synth_error_setf(SYNTH_EINVALID, "auth: " "login has unknown bits");
	if (p->password_min_length && (p->password_min_length < 6 || p->password_min_length > 99))
		return synth_error_setf(SYNTH_EINVALID, "auth: " "password_min_length must be 6..99");
	if ((unsigned)p->mfa > SYNTH_MFA_REQUIRED)
		return synth_error_setf(SYNTH_EINVALID, "auth: " "mfa is not a synth_mfa_mode");
	if (!p->mfa && (p->mfa_sms || p->mfa_totp || p->mfa_email))
		return synth_error_setf(SYNTH_EINVALID, "auth: " "MFA methods are given but mfa is off");
	if (p->mfa_email && !p->email_sender)
		return synth_error_setf(SYNTH_EINVALID, "auth: " "mfa_email needs .email_sender: Cognito sends one-time "
				 "codes only through your own verified SES identity");
	for (const synth_auth_attribute *at = p->attributes; at && at->name; at++) {
		bool std = false;
		for (size_t k = 0; standard_attributes[k]; k++)
			std |= !strcmp(standard_attributes[k], at->name);
		if (!at->custom && !std)
			return synth_error_setf(SYNTH_EINVALID, "auth: " "'%s' is not a standard attribute (set .custom for "
					 "a custom one)", at->name);
		if (at->custom && (!synth_name_valid(at->name, 20) || strchr(at->name, '-')))
			return synth_error_setf(SYNTH_EINVALID, "auth: " "custom attribute name '%s' must be 1..20 letters, "
					 "digits or '_'", at->name);
		if (at->custom && at->required)
			return synth_error_setf(SYNTH_EINVALID, "auth: " "custom attribute '%s' cannot be required (Cognito "
					 "does not allow it)", at->name);
		const char *type = at->type ? at->type : "String";
		if (strcmp(type, "String") && strcmp(type, "Number") && strcmp(type, "DateTime") &&
		    strcmp(type, "Boolean"))
			return synth_error_setf(SYNTH_EINVALID, "auth: " "attribute type '%s' is not String, Number, DateTime or "
					 "Boolean", type);
		if (json_array_append_new(a->attributes,
					  json_pack("{s:s,s:b,s:b,s:b,s:s}", "name", at->name,
						    "required", at->required, "immutable",
						    at->immutable, "custom", at->custom, "type",
						    type)) < 0) {
			return synth_error_oom();
		}
	}
	for (const synth_auth_group *g = p->groups; g && g->name; g++) {
		if (!synth_name_valid(g->name, 64) || strchr(g->name, '-') || strchr(g->name, '_'))
			return synth_error_setf(SYNTH_EINVALID, "auth: " "group name '%s' must be 1..64 letters and digits",
					 g->name);
		size_t k;
		json_t *x;
		json_array_foreach(a->groups, k, x)
			if (!strcmp(json_string_value(json_object_get(x, "name")), g->name))
				return synth_error_setf(SYNTH_EINVALID, "auth: " "group '%s' is defined twice", g->name);
		if (g->precedence < 0)
			return synth_error_setf(SYNTH_EINVALID, "auth: " "group '%s' has a negative precedence", g->name);
		if (json_array_append_new(a->groups, json_pack("{s:s,s:i}", "name", g->name,
							       "precedence", g->precedence)) < 0) {
			return synth_error_oom();
		}
	}
	for (const synth_auth_trigger *t = p->triggers; t && t->event; t++) {
		bool known = false;
		for (size_t k = 0; k < sizeof events / sizeof events[0]; k++)
			known |= !strcmp(events[k][0], t->event);
		if (!known)
			return synth_error_setf(SYNTH_EINVALID, "auth: " "unknown trigger '%s' (preSignUp, postConfirmation, "
					 "preTokenGeneration, customMessage, ...)", t->event);
		if (!t->fn)
			return synth_error_setf(SYNTH_EINVALID, "auth: " "trigger '%s' has no function (did its "
					 "define_function fail?)", t->event);
		if (json_object_get(a->triggers, t->event))
			return synth_error_setf(SYNTH_EINVALID, "auth: " "trigger '%s' is set twice", t->event);
		if (json_object_set_new(a->triggers, t->event,
					json_string(synth_construct_name(
						synth_function_construct(t->fn)))) < 0) {
			return synth_error_oom();
		}
	}
	int rc = p->email_sender ? email_parse(a, p->email_sender) : 0;
	if (rc == 0 && p->external)
		rc = ext_parse(a, b, p->external);
	return rc < 0 ? synth_error_last()->code : 0;
}

synth_auth *synth_define_auth(synth_backend *b, const synth_auth_props *props)
{
	SYNTH_CHECK_HANDLE(b);
	static const synth_auth_props none = {0};
	synth_error_clear();
	if (synth_backend_construct(b, "auth")) {
		synth_backend_failf(b, SYNTH_EEXISTS,
				    "auth: define_auth is called twice; a backend has one auth");
		return NULL;
	}
	synth_auth *a = calloc(1, sizeof *a);
	int rc = a ? auth_props(b, a, props ? props : &none) : synth_error_oom();
	if (rc < 0) {
		synth_backend_failf(b, rc, "%s", synth_error_last()->message);
		auth_free(a);
		return NULL;
	}
	if (synth_construct_new(&a->c, b, "auth", &auth_class, a) < 0)
		return NULL; /* a was freed by synth_construct_new */
	return a;
}

json_t *synth_auth_user_pool_id(void) { return synth_ref("auth/UserPool"); }
json_t *synth_auth_user_pool_arn(void) { return synth_getatt("auth/UserPool", "Arn"); }
json_t *synth_auth_client_id(void) { return synth_ref("auth/UserPoolClient"); }
json_t *synth_auth_identity_pool_id(void) { return synth_ref("auth/IdentityPool"); }
json_t *synth_auth_role_arn(bool authenticated)
{
	return synth_getatt(authenticated ? "auth/AuthenticatedRole" : "auth/UnauthenticatedRole",
			    "Arn");
}
json_t *synth_auth_group_role_arn(const char *group)
{
	char *p = synth_asprintf("auth/Group%sRole", group);
	json_t *t = p ? synth_getatt(p, "Arn") : NULL;
	free(p);
	return t;
}

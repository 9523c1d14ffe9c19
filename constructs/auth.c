/*
 * define_auth: Cognito user pool, app client, identity pool, roles, groups
 * and triggers. Provides the "auth" token.
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
 * Outputs (category "auth", Amplify's names): authRegion, userPoolId,
 * webClientId, identityPoolId, usernameAttributes, signupAttributes,
 * passwordPolicyMinLength, passwordPolicyRequirements, mfaConfiguration,
 * mfaTypes, verificationMechanisms, groups, allowUnauthenticatedIdentities.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include "../lib/internal.h"

struct synth_auth {
	synth_construct *c;
	synth_auth_props p;   /* scalars; arrays copied below */
	json_t *attributes;   /* [{name, required, immutable, custom, type}] */
	json_t *groups;       /* [{name, precedence}] */
	json_t *triggers;     /* {event: function construct name} */
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

static void auth_free(void *state)
{
	synth_auth *a = state;
	if (!a)
		return;
	json_decref(a->attributes);
	json_decref(a->groups);
	json_decref(a->triggers);
	free(a);
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

static int output_json(synth_backend *b, const char *name, json_t *v)
{
	char *s = v ? json_dumps(v, JSON_COMPACT) : NULL;
	json_decref(v);
	int rc = output(b, name, s ? json_string(s) : NULL);
	free(s);
	return rc;
}

static int auth_generate(synth_construct *self, void *state)
{
	synth_auth *a = state;
	synth_backend *b = self->b;
	const synth_auth_props *p = &a->p;
	unsigned login = p->login ? p->login : SYNTH_LOGIN_EMAIL;
	int rc = 0;

	/* The user pool. */
	json_t *pool = json_object();
	json_t *uattrs = json_array(), *verify = json_array();
	if (!(login & SYNTH_LOGIN_USERNAME)) {
		if (login & SYNTH_LOGIN_EMAIL)
			json_array_append_new(uattrs, json_string("email"));
		if (login & SYNTH_LOGIN_PHONE)
			json_array_append_new(uattrs, json_string("phone_number"));
		json_object_set(pool, "UsernameAttributes", uattrs);
	} else {
		json_object_set_new(pool, "AliasAttributes", json_array());
		if (login & SYNTH_LOGIN_EMAIL)
			json_array_append_new(json_object_get(pool, "AliasAttributes"), json_string("email"));
		if (login & SYNTH_LOGIN_PHONE)
			json_array_append_new(json_object_get(pool, "AliasAttributes"),
					      json_string("phone_number"));
		if (!json_array_size(json_object_get(pool, "AliasAttributes")))
			json_object_del(pool, "AliasAttributes");
	}
	if (login & SYNTH_LOGIN_EMAIL)
		json_array_append_new(verify, json_string("email"));
	if (login & SYNTH_LOGIN_PHONE)
		json_array_append_new(verify, json_string("phone_number"));
	if (json_array_size(verify))
		json_object_set(pool, "AutoVerifiedAttributes", verify);
	int minlen = p->password_min_length ? p->password_min_length : 8;
	json_object_set_new(pool, "Policies",
			    json_pack("{s:{s:i,s:b,s:b,s:b,s:b}}", "PasswordPolicy", "MinimumLength",
				      minlen, "RequireLowercase", !p->password_no_lowercase,
				      "RequireUppercase", !p->password_no_uppercase,
				      "RequireNumbers", !p->password_no_numbers, "RequireSymbols",
				      !p->password_no_symbols));
	/* Schema: the sign-in attributes are required, plus what was asked. */
	json_t *schema = json_array(), *signup = json_array();
	size_t i;
	json_t *at;
	json_array_foreach(uattrs, i, at) {
		json_array_append_new(schema, json_pack("{s:O,s:b,s:b}", "Name", at, "Required", 1,
							 "Mutable", 1));
		json_array_append(signup, at);
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
			json_object_set_new(e, "AttributeDataType",
					    json_copy(json_object_get(at, "type")));
		else
			json_object_set_new(e, "Required",
					    json_boolean(json_is_true(json_object_get(at, "required"))));
		json_array_append_new(schema, e);
		if (!custom && json_is_true(json_object_get(at, "required")))
			json_array_append_new(signup, json_string(n));
	}
	json_object_set_new(pool, "Schema", schema);
	json_object_set_new(pool, "AccountRecoverySetting",
			    (login & SYNTH_LOGIN_EMAIL) || !(login & SYNTH_LOGIN_PHONE)
				    ? json_pack("{s:[{s:s,s:i}]}", "RecoveryMechanisms", "Name",
						"verified_email", "Priority", 1)
				    : json_pack("{s:[{s:s,s:i}]}", "RecoveryMechanisms", "Name",
						"verified_phone_number", "Priority", 1));
	json_object_set_new(pool, "AdminCreateUserConfig",
			    json_pack("{s:b}", "AllowAdminCreateUserOnly", 0));
	json_object_set_new(pool, "VerificationMessageTemplate",
			    json_pack("{s:s}", "DefaultEmailOption", "CONFIRM_WITH_CODE"));
	/* MFA. */
	static const char *const mfa_modes[] = {"OFF", "OPTIONAL", "ON"};
	json_t *mfa_types = json_array(), *enabled = json_array();
	bool totp = p->mfa_totp || (p->mfa && !p->mfa_sms);
	if (p->mfa) {
		if (totp) {
			json_array_append_new(enabled, json_string("SOFTWARE_TOKEN_MFA"));
			json_array_append_new(mfa_types, json_string("TOTP"));
		}
		if (p->mfa_sms) {
			json_array_append_new(enabled, json_string("SMS_MFA"));
			json_array_append_new(mfa_types, json_string("SMS"));
		}
		json_object_set(pool, "EnabledMfas", enabled);
	}
	json_object_set_new(pool, "MfaConfiguration", json_string(mfa_modes[p->mfa]));
	if (p->mfa && p->mfa_sms) {
		/* Cognito sends SMS through SNS with a role it assumes. */
		rc = synth_resource_new(
			NULL, self, "SmsRole", "AWS::IAM::Role",
			json_pack("{s:{s:s,s:[{s:s,s:{s:s},s:s,s:{s:{s:o}}}]},s:[{s:s,s:{s:s,s:[{s:s,s:s,s:s}]}}]}",
				  "AssumeRolePolicyDocument", "Version", "2012-10-17", "Statement",
				  "Effect", "Allow", "Principal", "Service", "cognito-idp.amazonaws.com",
				  "Action", "sts:AssumeRole", "Condition", "StringEquals",
				  "sts:ExternalId", synth_pseudo("AWS::StackName"), "Policies",
				  "PolicyName", "sns", "PolicyDocument", "Version", "2012-10-17",
				  "Statement", "Effect", "Allow", "Action", "sns:Publish", "Resource",
				  "*"));
		json_object_set_new(pool, "SmsConfiguration",
				    json_pack("{s:o,s:o}", "SnsCallerArn",
					      synth_getatt("auth/SmsRole", "Arn"), "ExternalId",
					      synth_pseudo("AWS::StackName")));
	}
	/* Triggers. */
	json_t *lambda = json_object();
	const char *ev;
	json_t *fnname;
	json_object_foreach(a->triggers, ev, fnname) {
		char *fp = synth__asprintf("%s/Resource", json_string_value(fnname));
		for (size_t k = 0; fp && k < sizeof events / sizeof events[0]; k++)
			if (!strcmp(events[k][0], ev))
				json_object_set_new(lambda, events[k][1], synth_getatt(fp, "Arn"));
		free(fp);
	}
	if (json_object_size(lambda))
		json_object_set(pool, "LambdaConfig", lambda);
	json_decref(lambda);
	if (rc == 0)
		rc = synth_resource_new(NULL, self, "UserPool", "AWS::Cognito::UserPool", pool);
	else
		json_decref(pool);
	json_object_foreach(a->triggers, ev, fnname) {
		if (rc < 0)
			break;
		char *fp = synth__asprintf("%s/Resource", json_string_value(fnname));
		char id[96];
		snprintf(id, sizeof id, "Trigger%c%sPermission", toupper((unsigned char)ev[0]), ev + 1);
		rc = fp ? synth_resource_new(
				  NULL, self, id, "AWS::Lambda::Permission",
				  json_pack("{s:s,s:o,s:s,s:o}", "Action", "lambda:InvokeFunction",
					    "FunctionName", synth_getatt(fp, "Arn"), "Principal",
					    "cognito-idp.amazonaws.com", "SourceArn",
					    synth_getatt("auth/UserPool", "Arn")))
			: synth__oom();
		free(fp);
	}

	/* The app client: no secret, SRP and refresh. */
	if (rc == 0)
		rc = synth_resource_new(
			NULL, self, "UserPoolClient", "AWS::Cognito::UserPoolClient",
			json_pack("{s:o,s:b,s:[s,s,s],s:s,s:[s]}", "UserPoolId",
				  synth_ref("auth/UserPool"), "GenerateSecret", 0,
				  "ExplicitAuthFlows", "ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH",
				  "ALLOW_CUSTOM_AUTH", "PreventUserExistenceErrors", "ENABLED",
				  "SupportedIdentityProviders", "COGNITO"));
	/* The identity pool and its roles. */
	if (rc == 0)
		rc = synth_resource_new(
			NULL, self, "IdentityPool", "AWS::Cognito::IdentityPool",
			json_pack("{s:b,s:[{s:o,s:o}]}", "AllowUnauthenticatedIdentities",
				  !p->no_guest_access, "CognitoIdentityProviders", "ClientId",
				  synth_ref("auth/UserPoolClient"), "ProviderName",
				  synth_getatt("auth/UserPool", "ProviderName")));
	if (rc == 0)
		rc = synth_resource_new(NULL, self, "AuthenticatedRole", "AWS::IAM::Role",
					json_pack("{s:o}", "AssumeRolePolicyDocument",
						  identity_trust("authenticated")));
	if (rc == 0)
		rc = synth_resource_new(NULL, self, "UnauthenticatedRole", "AWS::IAM::Role",
					json_pack("{s:o}", "AssumeRolePolicyDocument",
						  identity_trust("unauthenticated")));
	json_t *gout = json_array();
	json_t *g;
	json_array_foreach(a->groups, i, g) {
		if (rc < 0)
			break;
		const char *gn = json_string_value(json_object_get(g, "name"));
		char id[96], rid[96], rp[128];
		snprintf(id, sizeof id, "Group%s", gn);
		snprintf(rid, sizeof rid, "Group%sRole", gn);
		snprintf(rp, sizeof rp, "auth/Group%sRole", gn);
		rc = synth_resource_new(NULL, self, rid, "AWS::IAM::Role",
					json_pack("{s:o}", "AssumeRolePolicyDocument",
						  identity_trust("authenticated")));
		if (rc == 0)
			rc = synth_resource_new(
				NULL, self, id, "AWS::Cognito::UserPoolGroup",
				json_pack("{s:s,s:o,s:O,s:o}", "GroupName", gn, "UserPoolId",
					  synth_ref("auth/UserPool"), "Precedence",
					  json_object_get(g, "precedence"), "RoleArn",
					  synth_getatt(rp, "Arn")));
		json_array_append_new(gout, json_pack("{s:{s:O}}", gn, "precedence",
						      json_object_get(g, "precedence")));
	}
	json_t *attach = json_pack(
		"{s:o,s:{s:o,s:o}}", "IdentityPoolId", synth_ref("auth/IdentityPool"), "Roles",
		"authenticated", synth_getatt("auth/AuthenticatedRole", "Arn"), "unauthenticated",
		synth_getatt("auth/UnauthenticatedRole", "Arn"));
	if (json_array_size(a->groups)) {
		/* Members of a group get its role, through the ID token. */
		json_object_set_new(
			attach, "RoleMappings",
			json_pack("{s:{s:s,s:s,s:o}}", "UserPoolWebClientRoleMapping", "Type",
				  "Token", "AmbiguousRoleResolution", "AuthenticatedRole",
				  "IdentityProvider",
				  synth_join("", json_pack("[s,o,s,o,s,o]", "cognito-idp.",
							   synth_pseudo("AWS::Region"),
							   ".amazonaws.com/",
							   synth_ref("auth/UserPool"), ":",
							   synth_ref("auth/UserPoolClient")))));
	}
	if (rc == 0)
		rc = synth_resource_new(NULL, self, "RoleAttachment",
					"AWS::Cognito::IdentityPoolRoleAttachment", attach);
	else
		json_decref(attach);

	/* What the client needs. */
	json_t *reqs = json_array();
	if (!p->password_no_lowercase)
		json_array_append_new(reqs, json_string("REQUIRES_LOWERCASE"));
	if (!p->password_no_uppercase)
		json_array_append_new(reqs, json_string("REQUIRES_UPPERCASE"));
	if (!p->password_no_numbers)
		json_array_append_new(reqs, json_string("REQUIRES_NUMBERS"));
	if (!p->password_no_symbols)
		json_array_append_new(reqs, json_string("REQUIRES_SYMBOLS"));
	char minbuf[16];
	snprintf(minbuf, sizeof minbuf, "%d", minlen);
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
	json_decref(uattrs);
	json_decref(verify);
	json_decref(signup);
	json_decref(reqs);
	json_decref(mfa_types);
	json_decref(enabled);
	json_decref(gout);
	return rc < 0 ? synth__backend_fail(b) : 0;
}

static const synth_construct_class auth_class = {
	SYNTH_CONSTRUCT_CLASS_VERSION, "auth", "auth", auth_generate, auth_free};

static synth_auth *auth_fail(synth_backend *b, synth_auth *a, const char *fmt, const char *v)
{
	char msg[512];
	snprintf(msg, sizeof msg, fmt, v ? v : "");
	synth__error_set(SYNTH_EINVALID, "auth: %s", msg);
	synth__backend_fail(b);
	auth_free(a);
	return NULL;
}

synth_auth *synth_define_auth(synth_backend *b, const synth_auth_props *props)
{
	static const synth_auth_props none = {0};
	const synth_auth_props *p = props ? props : &none;
	synth_error_clear();
	if (synth__map_get(&b->construct_by_name, "auth")) {
		synth__error_set(SYNTH_EEXISTS, "auth: define_auth is called twice; a backend has "
				 "one auth");
		synth__backend_fail(b);
		return NULL;
	}
	synth_auth *a = calloc(1, sizeof *a);
	if (!a) {
		synth__oom();
		synth__backend_fail(b);
		return NULL;
	}
	a->p = *p;
	a->p.attributes = NULL;
	a->p.groups = NULL;
	a->p.triggers = NULL;
	a->attributes = json_array();
	a->groups = json_array();
	a->triggers = json_object();
	if (!a->attributes || !a->groups || !a->triggers)
		return auth_fail(b, a, "out of memory%s", "");
	if (p->login & ~7u)
		return auth_fail(b, a, "login has unknown bits%s", "");
	if (p->password_min_length && (p->password_min_length < 6 || p->password_min_length > 99))
		return auth_fail(b, a, "password_min_length must be 6..99%s", "");
	if ((unsigned)p->mfa > SYNTH_MFA_REQUIRED)
		return auth_fail(b, a, "mfa is not a synth_mfa_mode%s", "");
	if (!p->mfa && (p->mfa_sms || p->mfa_totp))
		return auth_fail(b, a, "MFA methods are given but mfa is off%s", "");
	for (const synth_auth_attribute *at = p->attributes; at && at->name; at++) {
		bool std = false;
		for (size_t k = 0; standard_attributes[k]; k++)
			std |= !strcmp(standard_attributes[k], at->name);
		if (!at->custom && !std)
			return auth_fail(b, a, "'%s' is not a standard attribute (set .custom for "
					 "a custom one)", at->name);
		if (at->custom && (!synth__valid_name(at->name, 20) || strchr(at->name, '-')))
			return auth_fail(b, a, "custom attribute name '%s' must be 1..20 letters, "
					 "digits or '_'", at->name);
		if (at->custom && at->required)
			return auth_fail(b, a, "custom attribute '%s' cannot be required (Cognito "
					 "does not allow it)", at->name);
		const char *type = at->type ? at->type : "String";
		if (strcmp(type, "String") && strcmp(type, "Number") && strcmp(type, "DateTime") &&
		    strcmp(type, "Boolean"))
			return auth_fail(b, a, "attribute type '%s' is not String, Number, DateTime or "
					 "Boolean", type);
		json_array_append_new(a->attributes,
				      json_pack("{s:s,s:b,s:b,s:b,s:s}", "name", at->name, "required",
						at->required, "immutable", at->immutable, "custom",
						at->custom, "type", type));
	}
	for (const synth_auth_group *g = p->groups; g && g->name; g++) {
		if (!synth__valid_name(g->name, 64) || strchr(g->name, '-') || strchr(g->name, '_'))
			return auth_fail(b, a, "group name '%s' must be 1..64 letters and digits",
					 g->name);
		size_t k;
		json_t *x;
		json_array_foreach(a->groups, k, x)
			if (!strcmp(json_string_value(json_object_get(x, "name")), g->name))
				return auth_fail(b, a, "group '%s' is defined twice", g->name);
		if (g->precedence < 0)
			return auth_fail(b, a, "group '%s' has a negative precedence", g->name);
		json_array_append_new(a->groups, json_pack("{s:s,s:i}", "name", g->name,
							   "precedence", g->precedence));
	}
	for (const synth_auth_trigger *t = p->triggers; t && t->event; t++) {
		bool known = false;
		for (size_t k = 0; k < sizeof events / sizeof events[0]; k++)
			known |= !strcmp(events[k][0], t->event);
		if (!known)
			return auth_fail(b, a, "unknown trigger '%s' (preSignUp, postConfirmation, "
					 "preTokenGeneration, customMessage, ...)", t->event);
		if (!t->fn)
			return auth_fail(b, a, "trigger '%s' has no function (did its "
					 "define_function fail?)", t->event);
		if (json_object_get(a->triggers, t->event))
			return auth_fail(b, a, "trigger '%s' is set twice", t->event);
		json_object_set_new(a->triggers, t->event,
				    json_string(synth_construct_name(synth_function_construct(t->fn))));
	}
	if (synth_construct_new(&a->c, b, "auth", &auth_class, a) < 0)
		return NULL;
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
	char *p = synth__asprintf("auth/Group%sRole", group);
	json_t *t = p ? synth_getatt(p, "Arn") : NULL;
	free(p);
	return t;
}

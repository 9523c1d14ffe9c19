#!/usr/bin/env bash
# define_auth: a user pool with email sign-in, MFA, attributes, groups and a
# post-confirmation trigger synthesizes into a template that cfn-lint and
# the specification check accept, wired as Amplify wires it; bad props are
# refused naming what is wrong.
set -u
ROOT=${SYNTH_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${SYNTH_BUILD:-$ROOT/build}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
ok() { if eval "$2"; then echo "ok - $1"; else echo "not ok - $1"; [ -z "${3:-}" ] || sed 's/^/#   /' "$3" | tail -6; fi; }
W=$T/authapp
mkdir -p "$W/functions/post-confirmation"
echo 'export const handler = async (e) => e;' >"$W/functions/post-confirmation/index.mjs"
backend() {
	{
		echo '#include <synth.h>'
		echo 'int main(int argc, char **argv) {'
		echo '	synth_backend *b;'
		echo '	if (synth_backend_new(&b, argc, argv) < 0) return synth_backend_fail(NULL);'
		echo '	synth_function *pc = synth_define_function(b, "postConfirmation", &(synth_function_props){.entry = "functions/post-confirmation"});'
		echo '	(void)pc;'
		cat
		echo '	return synth_backend_main(b);'
		echo '}'
	} >"$W/backend.c"
}
run() { (cd "$W" && "$BUILD/synth" --branch main -q) >"$T/out" 2>&1; echo $?; }

backend <<'C'
	synth_define_auth(b, &(synth_auth_props){
		.mfa = SYNTH_MFA_OPTIONAL, .mfa_totp = true, .mfa_sms = true,
		.attributes = (const synth_auth_attribute[]){
			{.name = "given_name", .required = true},
			{.name = "tier", .custom = true}, {0}},
		.groups = (const synth_auth_group[]){{"ADMINS", 0}, {"EDITORS", 1}, {0}},
		.triggers = (const synth_auth_trigger[]){{"postConfirmation", pc}, {0}},
	});
C
ok "an auth backend synthesizes" "[ $(run) -eq 0 ]" "$T/out"
TPL=$(ls "$W"/cdk.out/*.template.json)
cfn-lint --format parseable "$TPL" >"$T/lint" 2>&1; lrc=$?
ok "cfn-lint: no errors" "[ \$(( lrc & 2 )) -eq 0 ]" "$T/lint"
bash "$ROOT/test/spec/setup.sh" >/dev/null 2>&1
ok "cfnspec.py accepts it" "python3 '$ROOT/test/spec/cfnspec.py' '$TPL' >'$T/spec' 2>&1" "$T/spec"
python3 - "$TPL" >"$T/checks" <<'PY'
import json, sys
t = json.load(open(sys.argv[1]))
res = t["Resources"]
by = {r.get("Metadata", {}).get("synth:path"): (lid, r) for lid, r in res.items()}
def P(path): return by[path][1].get("Properties", {})
def lid(path): return by[path][0]
checks = []
def check(name, cond): checks.append((name, bool(cond)))
pool = P("auth/UserPool")
check("the pool signs in with email", pool.get("UsernameAttributes") == ["email"])
check("email is verified automatically", pool.get("AutoVerifiedAttributes") == ["email"])
check("optional MFA with TOTP and SMS", pool.get("MfaConfiguration") == "OPTIONAL" and
      set(pool.get("EnabledMfas", [])) == {"SOFTWARE_TOKEN_MFA", "SMS_MFA"})
check("SMS goes through a role Cognito assumes", pool.get("SmsConfiguration", {}).get("SnsCallerArn") ==
      {"Fn::GetAtt": [lid("auth/SmsRole"), "Arn"]})
check("the password policy requires everything by default",
      pool["Policies"]["PasswordPolicy"] == {"MinimumLength": 8, "RequireLowercase": True,
      "RequireUppercase": True, "RequireNumbers": True, "RequireSymbols": True})
names = {a["Name"]: a for a in pool["Schema"]}
check("the schema has email and given_name required", names["email"]["Required"] and names["given_name"]["Required"])
check("the custom attribute is a String", names["tier"].get("AttributeDataType") == "String")
check("the post-confirmation trigger is the function", pool["LambdaConfig"]["PostConfirmation"] ==
      {"Fn::GetAtt": [lid("postConfirmation/Resource"), "Arn"]})
perm = P("auth/TriggerPostConfirmationPermission")
check("Cognito may invoke the trigger", perm["Principal"] == "cognito-idp.amazonaws.com" and
      perm["SourceArn"] == {"Fn::GetAtt": [lid("auth/UserPool"), "Arn"]})
client = P("auth/UserPoolClient")
check("the app client has no secret, SRP and refresh", client["GenerateSecret"] is False and
      {"ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"} <= set(client["ExplicitAuthFlows"]))
ip = P("auth/IdentityPool")
check("guests are allowed by default", ip["AllowUnauthenticatedIdentities"] is True)
check("the identity pool trusts the user pool client", ip["CognitoIdentityProviders"][0]["ClientId"] ==
      {"Ref": lid("auth/UserPoolClient")})
trust = P("auth/AuthenticatedRole")["AssumeRolePolicyDocument"]["Statement"][0]
check("the authenticated role trusts the identity pool", trust["Condition"]["StringEquals"]
      ["cognito-identity.amazonaws.com:aud"] == {"Ref": lid("auth/IdentityPool")} and
      trust["Condition"]["ForAnyValue:StringLike"]["cognito-identity.amazonaws.com:amr"] == "authenticated")
g = P("auth/GroupADMINS")
check("each group has its role and precedence", g["RoleArn"] == {"Fn::GetAtt": [lid("auth/GroupADMINSRole"), "Arn"]}
      and g["Precedence"] == 0 and P("auth/GroupEDITORS")["Precedence"] == 1)
att = P("auth/RoleAttachment")
check("group roles come from the token", list(att["RoleMappings"].values())[0]["Type"] == "Token")
meta = t["Metadata"]["AWS::Amplify::Auth"]["stackOutputs"]
check("outputs for the client config", {"authRegion", "userPoolId", "webClientId", "identityPoolId",
      "groups", "mfaTypes", "passwordPolicyRequirements"} <= set(meta) and set(meta) <= set(t["Outputs"]))
check("the groups output is JSON", json.loads(t["Outputs"]["groups"]["Value"]) ==
      [{"ADMINS": {"precedence": 0}}, {"EDITORS": {"precedence": 1}}])
for name, good in checks:
    print(("ok - " if good else "not ok - ") + name)
PY
cat "$T/checks"

bad() { # NAME NEEDLE: the backend on stdin must fail with NEEDLE
	backend
	local rc
	rc=$(run)
	ok "$1: refused (exit 1)" "[ $rc -eq 1 ]" "$T/out"
	ok "$1: the message says '$2'" "grep -qF -- \"$2\" '$T/out'" "$T/out"
}
bad "define_auth twice" "auth: define_auth is called twice; a backend has one auth" <<'C'
	synth_define_auth(b, NULL);
	synth_define_auth(b, NULL);
C
bad "an unknown trigger" "auth: unknown trigger 'afterLunch'" <<'C'
	synth_define_auth(b, &(synth_auth_props){.triggers = (const synth_auth_trigger[]){{"afterLunch", pc}, {0}}});
C
bad "a made-up standard attribute" "auth: 'shoe_size' is not a standard attribute" <<'C'
	synth_define_auth(b, &(synth_auth_props){.attributes = (const synth_auth_attribute[]){{.name = "shoe_size"}, {0}}});
C
bad "a required custom attribute" "custom attribute 'tier' cannot be required" <<'C'
	synth_define_auth(b, &(synth_auth_props){.attributes = (const synth_auth_attribute[]){{.name = "tier", .custom = true, .required = true}, {0}}});
C
bad "MFA methods with MFA off" "MFA methods are given but mfa is off" <<'C'
	synth_define_auth(b, &(synth_auth_props){.mfa_totp = true});
C
bad "a group named twice" "group 'ADMINS' is defined twice" <<'C'
	synth_define_auth(b, &(synth_auth_props){.groups = (const synth_auth_group[]){{"ADMINS", 0}, {"ADMINS", 1}, {0}}});
C

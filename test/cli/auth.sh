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

# --- external providers, OAuth, the secret fetcher, email MFA -------------
# test/auth/oauth: email sign-in with Google and an OIDC provider, callback
# and logout URLs, email MFA through an SES identity.
SENTINEL="GOCSPX-s3ntinel-$$-Value"
O=$T/oauthapp
mkdir -p "$O"
cp "$ROOT/test/auth/oauth/backend.c" "$O/"
rc=$( (cd "$O" && GOOGLE_CLIENT_SECRET=$SENTINEL OKTA_CLIENT_SECRET=$SENTINEL \
	"$BUILD/synth" --branch main) >"$T/oout" 2>&1; echo $?)
ok "the OAuth backend synthesizes" "[ $rc -eq 0 ]" "$T/oout"
OTPL=$(ls "$O"/cdk.out/*.template.json)
cfn-lint --format parseable "$OTPL" >"$T/olint" 2>&1; lrc=$?
ok "OAuth: cfn-lint: no errors" "[ \$(( lrc & 2 )) -eq 0 ]" "$T/olint"
ok "OAuth: cfn-lint: no warnings either" "[ $lrc -eq 0 ]" "$T/olint"
ok "OAuth: cfnspec.py accepts it" "python3 '$ROOT/test/spec/cfnspec.py' '$OTPL' >'$T/ospec' 2>&1" "$T/ospec"
ok "OAuth: no secret value in the assembly" "! grep -rqF -- '$SENTINEL' '$O/cdk.out'"
ok "OAuth: no secret value in synth's output" "! grep -qF -- '$SENTINEL' '$T/oout'"
python3 - "$OTPL" "$T/fetcher.py" >"$T/ochecks" <<'PY'
import json, sys
t = json.load(open(sys.argv[1]))
res = t["Resources"]
by = {r.get("Metadata", {}).get("synth:path"): (lid, r) for lid, r in res.items()}
def P(path): return by[path][1].get("Properties", {})
def lid(path): return by[path][0]
checks = []
def check(name, cond): checks.append((name, bool(cond)))
g = P("auth/GoogleIdP")
check("Google: an identity provider of type Google", g["ProviderType"] == "Google" and g["ProviderName"] == "Google")
check("Google: the client secret comes from the fetcher",
      g["ProviderDetails"]["client_secret"] == {"Fn::GetAtt": [lid("auth/Secrets"), "GOOGLE_CLIENT_SECRET"]})
check("Google: email mapped, plus given_name", g["AttributeMapping"] == {"email": "email", "given_name": "given_name"})
o = P("auth/OidcOktaIdP")
check("OIDC: issuer, scopes, secret", o["ProviderType"] == "OIDC" and
      o["ProviderDetails"]["oidc_issuer"] == "https://example.okta.com/oauth2/default" and
      o["ProviderDetails"]["authorize_scopes"] == "openid email profile" and
      o["ProviderDetails"]["client_secret"] == {"Fn::GetAtt": [lid("auth/Secrets"), "OKTA_CLIENT_SECRET"]})
c = P("auth/UserPoolClient")
check("the client: COGNITO and both providers", c["SupportedIdentityProviders"] ==
      ["COGNITO", {"Ref": lid("auth/GoogleIdP")}, {"Ref": lid("auth/OidcOktaIdP")}])
check("the client: code flow, OAuth on, Amplify's scopes", c["AllowedOAuthFlows"] == ["code"] and
      c["AllowedOAuthFlowsUserPoolClient"] is True and
      c["AllowedOAuthScopes"] == ["phone", "email", "openid", "profile", "aws.cognito.signin.user.admin"])
check("the client: callback and logout URLs", c["CallbackURLs"] == ["http://localhost:3000/", "https://app.example.com/callback"]
      and c["LogoutURLs"] == ["http://localhost:3000/", "https://app.example.com/"])
d = P("auth/UserPoolDomain")["Domain"]
check("the hosted domain prefix follows Cognito's rules", 1 <= len(d) <= 63 and
      all(ch.islower() or ch.isdigit() or ch == "-" for ch in d) and
      not any(w in d for w in ("aws", "amazon", "cognito")))
role = P("auth/SecretFetcherRole")
ssm = [p for p in role["Policies"] if p["PolicyName"] == "secrets"][0]["PolicyDocument"]["Statement"]
arns = sorted(a["Fn::Sub"] for a in ssm[0]["Resource"])
want = sorted("arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter" + p for p in
              ["/synth/oauthapp/branch/main/GOOGLE_CLIENT_SECRET", "/synth/oauthapp/shared/GOOGLE_CLIENT_SECRET",
               "/synth/oauthapp/branch/main/OKTA_CLIENT_SECRET", "/synth/oauthapp/shared/OKTA_CLIENT_SECRET"])
check("the fetcher's role reads exactly the four parameters", len(ssm) == 1 and
      ssm[0]["Action"] == "ssm:GetParameters" and arns == want)
cr = by["auth/Secrets"][1]
check("one custom resource, its secrets listed by name and path", cr["Type"] == "Custom::SecretFetcher" and
      [s["Name"] for s in P("auth/Secrets")["Secrets"]] == ["GOOGLE_CLIENT_SECRET", "OKTA_CLIENT_SECRET"])
check("rotation: the fetcher's Versions is the SynthSecretVersions parameter",
      P("auth/Secrets")["Versions"] == {"Ref": "SynthSecretVersions"} and
      t["Parameters"]["SynthSecretVersions"]["Type"] == "String" and
      t["Parameters"]["SynthSecretVersions"]["Default"] == "none")
sv = cr["Metadata"]["synth:secret-versions"]
check("rotation: the metadata tells the deployer the parameter and each secret's SSM names",
      sv["param"] == "SynthSecretVersions" and
      sv["secrets"] == {"GOOGLE_CLIENT_SECRET": ["/synth/oauthapp/branch/main/GOOGLE_CLIENT_SECRET",
                                                 "/synth/oauthapp/shared/GOOGLE_CLIENT_SECRET"],
                        "OKTA_CLIENT_SECRET": ["/synth/oauthapp/branch/main/OKTA_CLIENT_SECRET",
                                               "/synth/oauthapp/shared/OKTA_CLIENT_SECRET"]})
pool = P("auth/UserPool")
check("email MFA: EMAIL_OTP, SES, Essentials", "EMAIL_OTP" in pool["EnabledMfas"] and
      pool["EmailConfiguration"]["EmailSendingAccount"] == "DEVELOPER" and
      pool["UserPoolTier"] == "ESSENTIALS")
fn = P("auth/SecretFetcher")
open(sys.argv[2], "w").write(fn["Code"]["ZipFile"])
check("the fetcher is inline python", fn["Runtime"].startswith("python3") and fn["Handler"] == "index.handler")
for name, good in checks:
    print(("ok - OAuth: " if good else "not ok - OAuth: ") + name)
PY
cat "$T/ochecks"
ok "the fetcher's code compiles (python3 -m py_compile)" "python3 -m py_compile '$T/fetcher.py' 2>'$T/pyc'" "$T/pyc"
# Its source, embedded in the library (scripts/embed.sh), reaches the
# template unchanged.
ok "constructs/auth/secret_fetcher.py compiles (python3 -m py_compile)" \
	"PYTHONPYCACHEPREFIX='$T/pycache' python3 -m py_compile '$ROOT/constructs/auth/secret_fetcher.py' 2>'$T/pyc2'" "$T/pyc2"
ok "the template's fetcher is constructs/auth/secret_fetcher.py byte for byte" \
	"cmp -s '$T/fetcher.py' '$ROOT/constructs/auth/secret_fetcher.py'"

# The fetcher itself, run against a stand-in SSM and a local response URL:
# it answers with NoEcho, takes the shared path when the branch has none,
# fails naming a missing secret, and never prints a value.
mkdir -p "$T/fx"
cp "$T/fetcher.py" "$T/fx/index.py"
cat >"$T/fx/boto3.py" <<'PY'
import json, os
class _Ssm:
    def get_parameters(self, Names, WithDecryption):
        assert WithDecryption and 0 < len(Names) <= 10
        STORE = json.loads(os.environ["FAKE_SSM"])
        return {"Parameters": [{"Name": n, "Value": STORE[n]} for n in Names if n in STORE],
                "InvalidParameters": [n for n in Names if n not in STORE]}
def client(name):
    assert name == "ssm"
    return _Ssm()
PY
python3 - "$T/fx" "$SENTINEL" >"$T/fxout" 2>&1 <<'PY'
import contextlib, http.server, io, json, os, sys, threading
sys.path.insert(0, sys.argv[1])
secret = sys.argv[2]
got = []
class H(http.server.BaseHTTPRequestHandler):
    def do_PUT(self):
        got.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
        self.send_response(200); self.end_headers()
    def log_message(self, *a): pass
srv = http.server.HTTPServer(("127.0.0.1", 0), H)
threading.Thread(target=srv.serve_forever, daemon=True).start()
secrets = [{"Name": "GOOGLE_CLIENT_SECRET", "Path": "/synth/a/branch/main/GOOGLE_CLIENT_SECRET",
            "SharedPath": "/synth/a/shared/GOOGLE_CLIENT_SECRET"},
           {"Name": "OKTA_CLIENT_SECRET", "Path": "/synth/a/branch/main/OKTA_CLIENT_SECRET",
            "SharedPath": "/synth/a/shared/OKTA_CLIENT_SECRET"}]
def run(store, kind="Create"):
    os.environ["FAKE_SSM"] = json.dumps(store)
    import index
    ev = {"RequestType": kind, "ResponseURL": "http://127.0.0.1:%d/r" % srv.server_port,
          "StackId": "s", "RequestId": "r", "LogicalResourceId": "Secrets",
          "ResourceProperties": {"Secrets": secrets}}
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        index.handler(ev, None)
    return got.pop(), out.getvalue()
r, log = run({"/synth/a/branch/main/GOOGLE_CLIENT_SECRET": secret,
              "/synth/a/shared/OKTA_CLIENT_SECRET": secret + "-okta"})
print("ok" if r["Status"] == "SUCCESS" and r["NoEcho"] is True else "not ok", "- fetcher: SUCCESS with NoEcho")
print("ok" if r["Data"] == {"GOOGLE_CLIENT_SECRET": secret, "OKTA_CLIENT_SECRET": secret + "-okta"} else "not ok",
      "- fetcher: the values, the shared path as fallback")
print("ok" if secret not in log else "not ok", "- fetcher: no value in its log")
r, log = run({"/synth/a/branch/main/GOOGLE_CLIENT_SECRET": secret})
print("ok" if r["Status"] == "FAILED" and "OKTA_CLIENT_SECRET" in r["Reason"] and
      secret not in r["Reason"] and r["Data"] == {} else "not ok",
      "- fetcher: a missing secret fails, naming it, without values")
print("ok" if secret not in log else "not ok", "- fetcher: no value in its log on failure")
r, log = run({}, "Delete")
print("ok" if r["Status"] == "SUCCESS" else "not ok", "- fetcher: Delete succeeds without reading")
PY
cat "$T/fxout"
ok "the fetcher ran" "[ \$(grep -c '^ok' '$T/fxout') -eq 6 ]" "$T/fxout"

# amplify_outputs.json with an oauth section, from (simulated) outputs.
python3 - "$OTPL" >"$T/ooutputs.json" <<'PY'
import json, sys
t = json.load(open(sys.argv[1]))
def fake(v):
    if isinstance(v, str):
        return v
    if "Ref" in v:
        return "us-east-1" if v["Ref"] == "AWS::Region" else "fake-" + v["Ref"]
    if "Fn::Join" in v:
        return v["Fn::Join"][0].join(fake(x) for x in v["Fn::Join"][1])
    raise SystemExit("cannot fake %r" % v)
print(json.dumps({"region": "us-east-1",
                  "outputs": {k: fake(o["Value"]) for k, o in t["Outputs"].items()}}))
PY
rc=$( (cd "$O" && "$BUILD/synth" outputs --outputs-file "$T/ooutputs.json") >"$T/oout2" 2>&1; echo $?)
ok "OAuth: synth outputs writes amplify_outputs.json" "[ $rc -eq 0 ] && [ -f '$O/amplify_outputs.json' ]" "$T/oout2"
/usr/bin/python3 - "$ROOT/../shared/testdata/amplify-outputs/schema_v1.5.json" "$O/amplify_outputs.json" >"$T/ovalid" 2>&1 <<'PY'
import json, sys, jsonschema
schema = json.load(open(sys.argv[1])); doc = json.load(open(sys.argv[2]))
jsonschema.Draft202012Validator(schema).validate(doc)
o = doc["auth"]["oauth"]
assert o["identity_providers"] == ["GOOGLE"], o
assert o["domain"].endswith(".auth.us-east-1.amazoncognito.com"), o
assert o["redirect_sign_in_uri"] == ["http://localhost:3000/", "https://app.example.com/callback"], o
assert o["redirect_sign_out_uri"] == ["http://localhost:3000/", "https://app.example.com/"], o
assert "openid" in o["scopes"] and o["response_type"] == "code", o
assert doc["auth"]["mfa_methods"] == ["TOTP", "EMAIL"], doc["auth"]
print("valid")
PY
ok "OAuth: amplify_outputs.json validates against schema 1.5 with its oauth section and EMAIL MFA" "grep -q valid '$T/ovalid'" "$T/ovalid"

# Refused, naming the construct and the field.
G='.google = &(synth_auth_provider){.client_id = "id", .client_secret = "S"}'
U='.callback_urls = (const char *const[]){"https://a.example/", NULL}, .logout_urls = (const char *const[]){"https://a.example/", NULL}'
bad "a provider without its secret name" "auth: external.google.client_secret: a secret name is required" <<C
	synth_define_auth(b, &(synth_auth_props){.external = &(synth_auth_external){.google = &(synth_auth_provider){.client_id = "id"}, $U}});
C
bad "a field the provider does not have" "auth: external.facebook.team_id: Facebook has no team_id" <<C
	synth_define_auth(b, &(synth_auth_props){.external = &(synth_auth_external){.facebook = &(synth_auth_provider){.client_id = "id", .client_secret = "S", .team_id = "T"}, $U}});
C
bad "no logout URLs" "auth: external.logout_urls is required with external providers" <<C
	synth_define_auth(b, &(synth_auth_props){.external = &(synth_auth_external){$G, .callback_urls = (const char *const[]){"https://a.example/", NULL}}});
C
bad "a callback over http" "external.callback_urls[0] 'http://a.example/' uses http, which Cognito allows only for localhost" <<C
	synth_define_auth(b, &(synth_auth_props){.external = &(synth_auth_external){$G, .callback_urls = (const char *const[]){"http://a.example/", NULL}, .logout_urls = (const char *const[]){"https://a.example/", NULL}}});
C
bad "a domain prefix Cognito refuses" "external.domain_prefix 'my-cognito-app' must not contain the reserved words" <<C
	synth_define_auth(b, &(synth_auth_props){.external = &(synth_auth_external){$G, $U, .domain_prefix = "my-cognito-app"}});
C
bad "two providers with the same name" "another provider is named 'Okta'" <<C
	synth_define_auth(b, &(synth_auth_props){.external = &(synth_auth_external){$U, .oidc = (const synth_auth_oidc_provider[]){
		{.name = "Okta", .client_id = "a", .client_secret = "S", .issuer_url = "https://a.example"},
		{.name = "OKTA", .client_id = "b", .client_secret = "S", .issuer_url = "https://b.example"}, {0}}}});
C
bad "email MFA without a sender" "auth: mfa_email needs .email_sender" <<C
	synth_define_auth(b, &(synth_auth_props){.mfa = SYNTH_MFA_OPTIONAL, .mfa_email = true});
C

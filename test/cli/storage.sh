#!/usr/bin/env bash
# define_storage: buckets with access rules by path for guests, users,
# groups, owners and functions, found through the "auth" token, and
# triggers; cfn-lint and the specification check accept the template; bad
# props and a missing auth are refused naming what is wrong.
set -u
ROOT=${SYNTH_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${SYNTH_BUILD:-$ROOT/build}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
ok() { if eval "$2"; then echo "ok - $1"; else echo "not ok - $1"; [ -z "${3:-}" ] || sed 's/^/#   /' "$3" | tail -6; fi; }
W=$T/files
mkdir -p "$W/functions/thumb"
echo 'export const handler = async (e) => e;' >"$W/functions/thumb/index.mjs"
backend() {
	{
		echo '#include <synth.h>'
		echo 'int main(int argc, char **argv) {'
		echo '	synth_backend *b;'
		echo '	if (synth_backend_new(&b, argc, argv) < 0) return synth_backend_fail(NULL);'
		echo '	synth_function *thumb = synth_define_function(b, "thumbnailer", &(synth_function_props){.entry = "functions/thumb"});'
		echo '	(void)thumb;'
		cat
		echo '	return synth_backend_main(b);'
		echo '}'
	} >"$W/backend.c"
}
run() { (cd "$W" && "$BUILD/synth" --branch main -q) >"$T/out" 2>&1; echo $?; }

backend <<'C'
	synth_define_auth(b, &(synth_auth_props){.groups = (const synth_auth_group[]){{"ADMINS", 0}, {0}}});
	synth_define_storage(b, "media", &(synth_storage_props){
		.is_default = true, .versioned = true,
		.access = (const synth_storage_access[]){
			{"public/*", "guest", "read"},
			{"public/*", "authenticated", "read,write"},
			{"private/{entity_id}/*", "owner", "read,write,delete"},
			{"admin/*", "group:ADMINS", "read,write,delete"},
			{"public/*", "function", "get,write", thumb},
			{0}},
		.on_upload = thumb,
	});
	synth_define_storage(b, "logs", NULL);
C
ok "auth + two buckets synthesize" "[ $(run) -eq 0 ]" "$T/out"
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
def R(path): return by[path][1]
def P(path): return R(path).get("Properties", {})
def lid(path): return by[path][0]
checks = []
def check(name, cond): checks.append((name, bool(cond)))
b = P("media/Bucket")
check("public access is blocked", all(b["PublicAccessBlockConfiguration"].values()))
check("objects are encrypted", b["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
      ["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256")
check("versioning on request", b["VersioningConfiguration"]["Status"] == "Enabled" and
      "VersioningConfiguration" not in P("logs/Bucket"))
check("CORS for browser uploads", "PUT" in b["CorsConfiguration"]["CorsRules"][0]["AllowedMethods"])
pol = P("media/BucketPolicy")["PolicyDocument"]["Statement"][0]
check("TLS enforced by the bucket policy", pol["Effect"] == "Deny" and
      pol["Condition"]["Bool"]["aws:SecureTransport"] == "false")
lam = b["NotificationConfiguration"]["LambdaConfigurations"][0]
check("uploads trigger the function", lam["Event"] == "s3:ObjectCreated:*" and
      lam["Function"] == {"Fn::GetAtt": [lid("thumbnailer/Resource"), "Arn"]})
check("the bucket waits for S3's invoke permission", lid("media/OnUploadPermission") in R("media/Bucket").get("DependsOn", []))
guest = P("media/UnauthenticatedRolePolicy")
check("guests: a policy on the auth guest role", guest["Roles"] == [{"Ref": lid("auth/UnauthenticatedRole")}])
acts = [s["Action"] for s in guest["PolicyDocument"]["Statement"]]
check("guests may read public/ (get and list) and nothing else", acts == [["s3:GetObject"], "s3:ListBucket"])
lst = guest["PolicyDocument"]["Statement"][1]
check("listing is limited to the prefix", lst["Condition"]["StringLike"]["s3:prefix"] == ["public/", "public/*"])
auth = json.dumps(P("media/AuthenticatedRolePolicy"))
check("owners: their own prefix through the identity id", "private/${cognito-identity.amazonaws.com:sub}/*" in auth)
check("users may write public/", "s3:PutObject" in auth)
check("the admins group role gets admin/", "admin/*" in json.dumps(P("media/GroupADMINSRolePolicy")) and
      P("media/GroupADMINSRolePolicy")["Roles"] == [{"Ref": lid("auth/GroupADMINSRole")}])
fpol = json.dumps(P("thumbnailer/ServiceRole/DefaultPolicy"))
check("the function's role gets get and write on public/", "s3:GetObject" in fpol and "s3:PutObject" in fpol and "public/*" in fpol)
outs = t["Outputs"]
check("the default bucket's outputs", outs["bucketName"]["Value"] == {"Ref": lid("media/Bucket")})
sub = outs["buckets"]["Value"]["Fn::Sub"]
doc = json.loads(sub[0])
check("buckets lists both with their paths", [d["name"] for d in doc] == ["media", "logs"] and
      doc[0]["paths"]["private/{entity_id}/*"]["entityidentity"] == ["read", "write", "delete"])
check("bucket names resolved by CloudFormation", sorted(json.dumps(v) for v in sub[1].values()) ==
      sorted(json.dumps({"Ref": lid(p)}) for p in ("media/Bucket", "logs/Bucket")))
for name, good in checks:
    print(("ok - " if good else "not ok - ") + name)
PY
cat "$T/checks"

bad() {
	backend
	local rc
	rc=$(run)
	ok "$1: refused (exit 1)" "[ $rc -eq 1 ]" "$T/out"
	ok "$1: the message says '$2'" "grep -qF -- \"$2\" '$T/out'" "$T/out"
}
bad "user access without auth" "media: access rules for guests, users, groups or owners need auth" <<'C'
	synth_define_storage(b, "media", &(synth_storage_props){.access = (const synth_storage_access[]){{"public/*", "authenticated", "read"}, {0}}});
C
bad "a path that is not a prefix" "access path 'public' must be a prefix" <<'C'
	synth_define_storage(b, "media", &(synth_storage_props){.access = (const synth_storage_access[]){{"public", "guest", "read"}, {0}}});
C
bad "an unknown 'who'" "access 'who' 'everyone' is not" <<'C'
	synth_define_storage(b, "media", &(synth_storage_props){.access = (const synth_storage_access[]){{"public/*", "everyone", "read"}, {0}}});
C
bad "an unknown action" "access action 'eat' is not" <<'C'
	synth_define_storage(b, "media", &(synth_storage_props){.access = (const synth_storage_access[]){{"public/*", "guest", "read,eat"}, {0}}});
C
bad "owner access without {entity_id}" "owner access on 'public/*' needs {entity_id}" <<'C'
	synth_define_storage(b, "media", &(synth_storage_props){.access = (const synth_storage_access[]){{"public/*", "owner", "read"}, {0}}});
C
bad "several buckets, no default" "2 buckets and 0 marked is_default" <<'C'
	synth_define_storage(b, "a", NULL);
	synth_define_storage(b, "bb", NULL);
C
bad "a group auth does not have" "access for 'group:EDITORS': auth has no such group" <<'C'
	synth_define_auth(b, NULL);
	synth_define_storage(b, "media", &(synth_storage_props){.access = (const synth_storage_access[]){{"x/*", "group:EDITORS", "read"}, {0}}});
C

# The client config from (simulated) stack outputs: what CloudFormation
# would return for this template, resolved with fake physical ids.
backend <<'C'
	synth_define_auth(b, &(synth_auth_props){.groups = (const synth_auth_group[]){{"ADMINS", 0}, {0}}});
	synth_define_storage(b, "media", &(synth_storage_props){
		.access = (const synth_storage_access[]){
			{"public/*", "guest", "read"},
			{"private/{entity_id}/*", "owner", "read,write,delete"},
			{0}}});
C
ok "synth for the client config" "[ $(run) -eq 0 ]" "$T/out"
python3 - "$W"/cdk.out/*.template.json >"$T/outputs.json" <<'PY'
import json, re, sys
t = json.load(open(sys.argv[1]))
def fake(v):
    if isinstance(v, str):
        return v
    if "Ref" in v:
        return "us-east-1" if v["Ref"] == "AWS::Region" else "fake-" + v["Ref"]
    if "Fn::Sub" in v:
        text, vars_ = v["Fn::Sub"] if isinstance(v["Fn::Sub"], list) else (v["Fn::Sub"], {})
        return re.sub(r"\$\{([^}]+)\}", lambda m: "us-east-1" if m.group(1) == "AWS::Region"
                      else fake(vars_[m.group(1)]), text)
    raise SystemExit("cannot fake %r" % v)
print(json.dumps({"region": "us-east-1",
                  "outputs": {k: fake(o["Value"]) for k, o in t["Outputs"].items()}}))
PY
rc=$( (cd "$W" && "$BUILD/synth" outputs --outputs-file "$T/outputs.json") >"$T/out" 2>&1; echo $?)
ok "synth outputs writes amplify_outputs.json" "[ $rc -eq 0 ] && [ -f '$W/amplify_outputs.json' ]" "$T/out"
SCHEMA=$ROOT/../shared/testdata/amplify-outputs/schema_v1.5.json
ok "the schema is there" "[ -f '$SCHEMA' ]"
/usr/bin/python3 - "$SCHEMA" "$W/amplify_outputs.json" >"$T/valid" 2>&1 <<'PY'
import json, sys, jsonschema
schema = json.load(open(sys.argv[1])); doc = json.load(open(sys.argv[2]))
jsonschema.Draft202012Validator(schema).validate(doc)
assert doc["auth"]["user_pool_id"].startswith("fake-"), doc["auth"]
assert doc["storage"]["bucket_name"].startswith("fake-"), doc["storage"]
assert doc["storage"]["buckets"][0]["paths"]["private/{entity_id}/*"]["entityidentity"] == ["read", "write", "delete"]
assert doc["auth"]["groups"] == [{"ADMINS": {"precedence": 0}}]
print("valid")
PY
ok "amplify_outputs.json validates against schema 1.5 and carries auth, storage and groups" "grep -q valid '$T/valid'" "$T/valid"

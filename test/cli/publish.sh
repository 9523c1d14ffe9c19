#!/usr/bin/env bash
# synth bootstrap and synth publish against the local peers (s3rver behind a
# SigV4-checking proxy, and the STS endpoint): a second publish sends
# nothing, a changed function sends its zip (and the template that names
# it), a 100 MB asset goes multipart, every fault kind is retried to
# success, a persistent fault is reported without losing what was sent, a
# wrong secret is rejected with the AWS error shown, missing credentials
# fail before any request, and the secret never appears in any output.
set -u
ROOT=${SYNTH_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${SYNTH_BUILD:-$ROOT/build}
SYNTH=$BUILD/synth
SYSPY=/usr/bin/python3
T=$(mktemp -d)
export PEERS_DIR=$T/peers
cleanup() { bash "$ROOT/test/peers/peers.sh" stop >/dev/null 2>&1; rm -rf "$T"; }
trap cleanup EXIT
ok() { if eval "$2"; then echo "ok - $1"; else echo "not ok - $1"; [ -z "${3:-}" ] || sed 's/^/#   /' "$3" | tail -8; fi; }

bash "$ROOT/test/peers/setup.sh" >/dev/null 2>&1
env_lines=$(bash "$ROOT/test/peers/peers.sh" start 2>"$T/peers.err")
ok "the peers start" "[ -n \"\$env_lines\" ]" "$T/peers.err"
eval "$env_lines"
export AWS_CONFIG_FILE=$T/none AWS_SHARED_CREDENTIALS_FILE=$T/none
SECRET=$AWS_SECRET_ACCESS_KEY

count() { # OP [STATUS]: S3 calls with that op since the mark
	curl -sS "$PEERS_ADMIN_S3/calls" | "$SYSPY" -c '
import json, sys
op, status = sys.argv[1], (int(sys.argv[2]) if len(sys.argv) > 2 else None)
print(sum(1 for c in json.load(sys.stdin)["calls"]
          if c.get("op") == op and (status is None or c.get("status") == status)))' "$@"
}
mark() { curl -sS -X DELETE "$PEERS_ADMIN_S3/calls" >/dev/null; curl -sS -X DELETE "$PEERS_ADMIN_CFN/calls" >/dev/null; }
fault() { # ADMIN KIND COUNT MATCH [DELAY]
	curl -sS -X POST "$1/fault" -d "{\"kind\":\"$2\",\"count\":$3,\"match\":\"$4\",\"delay_ms\":${5:-0}}" >/dev/null
}
run() { # ARGS...: synth in the app dir; output in $T/out
	(cd "$W" && "$SYNTH" "$@") >"$T/out" 2>&1
	echo $?
}
no_secret() { ok "$1: the secret key is not in the output" "! grep -qF -- '$SECRET' '$T/out'"; }

W=$T/hello
mkdir -p "$W"
cp -r "$ROOT/samples/hello/." "$W/"
rm -rf "$W/.synth" "$W/cdk.out"
ok "synth" "[ $(run --branch main -q) -eq 0 ]" "$T/out"
# libcurl is loaded by the first HTTP client (lib/aws/http.c), not at start-up.
(cd "$W" && LD_DEBUG=files "$SYNTH" --branch main -q) >"$T/ld" 2>&1
ok "synth loads no libcurl (LD_DEBUG=files)" "grep -q 'file=libjansson' '$T/ld' && ! grep -q 'file=libcurl' '$T/ld'" "$T/ld"
mark
ok "no libcurl (SYNTH_LIBCURL names a missing one): publish exits 2, as without credentials" \
	"[ \$(SYNTH_LIBCURL=$T/no/libcurl.so.4 run publish) -eq 2 ]" "$T/out"
ok "no libcurl: the message names the library and the way out" \
	"grep -q 'cannot load libcurl: $T/no/libcurl.so.4' '$T/out' && grep -q 'apt-get install libcurl4' '$T/out'" "$T/out"
ok "no libcurl: nothing was sent" "[ $(count PutObject) -eq 0 ] && [ $(count CreateBucket) -eq 0 ]"

ok "publish before bootstrap: exit 1" "[ $(run publish) -eq 1 ]" "$T/out"
ok "publish before bootstrap: NoSuchBucket and the way out" "grep -q NoSuchBucket '$T/out' && grep -q 'run .synth bootstrap' '$T/out'" "$T/out"
ok "bootstrap creates the asset bucket" "[ $(run bootstrap) -eq 0 ] && grep -q 'created the asset bucket s3://cdk-hnb659fds-assets-123456789012-us-east-1' '$T/out'" "$T/out"
ok "bootstrap again: ready" "[ $(run bootstrap) -eq 0 ] && grep -q 'the asset bucket is ready' '$T/out'" "$T/out"

mark
ok "publish sends every asset" "[ $(run publish) -eq 0 ] && grep -q 'published 3 assets: 3 uploaded' '$T/out'" "$T/out"
no_secret publish
ok "publish: 3 PutObject calls" "[ $(count PutObject 200) -eq 3 ]"
mark
ok "publish again sends nothing" "[ $(run publish) -eq 0 ] && grep -q '0 uploaded' '$T/out' && grep -q '3 already in the bucket' '$T/out'" "$T/out"
ok "publish again: zero PutObject calls" "[ $(count PutObject) -eq 0 ]"

echo '// changed' >>"$W/functions/say-hello/index.mjs"
run --branch main -q >/dev/null
mark
ok "a changed function: its zip and the template that names it are sent" \
	"[ $(run publish) -eq 0 ] && grep -q '2 uploaded' '$T/out' && grep -q 'uploaded functions/say-hello' '$T/out' && ! grep -q 'uploaded functions/greeter' '$T/out'" "$T/out"

# Two asset manifests listing the same assets (stacks that share them, as in
# a CDK assembly of several stacks): each object is uploaded once and
# counted once, not once per manifest (10 assets, 3 uploads before).
echo '// shared' >>"$W/functions/say-hello/index.mjs"
run --branch main -q >/dev/null
"$SYSPY" - "$W/cdk.out" <<'EOF2'
import json, shutil, sys
d = sys.argv[1]
m = json.load(open(d + "/manifest.json"))
am = [a for a in m["artifacts"].values() if a["type"] == "cdk:asset-manifest"][0]
shutil.copy(d + "/" + am["properties"]["file"], d + "/second.assets.json")
m["artifacts"]["second.assets"] = {"type": "cdk:asset-manifest",
                                   "properties": {"file": "second.assets.json"}}
json.dump(m, open(d + "/manifest.json", "w"), indent=1)
EOF2
mark
ok "two manifests with the same assets: each counted once" \
	"[ $(run publish) -eq 0 ] && grep -q 'published 3 assets: 2 uploaded (.*), 1 already in the bucket' '$T/out'" "$T/out"
ok "two manifests with the same assets: each looked at and uploaded once" \
	"[ $(count HeadObject) -eq 3 ] && [ $(count PutObject) -eq 2 ]"
rm -f "$W/cdk.out/second.assets.json"

# Every fault kind once on the next upload: retried to success.
for kind in 500 503 throttle reset slow; do
	echo "// $kind" >>"$W/functions/greeter/index.mjs"
	run --branch main -q >/dev/null
	mark
	fault "$PEERS_ADMIN_S3" "$kind" 1 "PutObject" 1500
	rc=$(run publish)
	ok "fault $kind on PutObject: retried, publish succeeds" "[ $rc -eq 0 ] && grep -q '2 uploaded' '$T/out'" "$T/out"
	case $kind in
	slow) ok "fault slow: the slow answer was waited for" "[ $(count PutObject 200) -eq 2 ]" ;;
	*) ok "fault $kind: the failed attempt is in the log, then the retry" "[ $(count PutObject) -ge 3 ]" ;;
	esac
done
mark
fault "$PEERS_ADMIN_CFN" throttle 1 "GetCallerIdentity"
echo '// sts' >>"$W/functions/greeter/index.mjs"
run --branch main -q >/dev/null
ok "throttling on STS is retried" "[ $(run publish) -eq 0 ]" "$T/out"

# A persistent fault: a clear error, what was sent stays, the next run sends the rest.
echo '// persistent' >>"$W/functions/greeter/index.mjs"
echo '// persistent' >>"$W/functions/say-hello/index.mjs"
run --branch main -q >/dev/null
mark
zip_of() { "$SYSPY" -c 'import json,sys; d=json.load(open(sys.argv[1]))
for h,f in d["files"].items():
    if f.get("displayName")==sys.argv[2]: print(f["destinations"]["current_account-current_region"]["objectKey"])' "$W"/cdk.out/*.assets.json "$1"; }
fault "$PEERS_ADMIN_S3" 500 -1 "PutObject PUT /cdk-hnb659fds-assets-123456789012-us-east-1/$(zip_of functions/say-hello)"
rc=$(run publish)
ok "a persistent 500 fails publish (exit 1)" "[ $rc -eq 1 ]" "$T/out"
ok "the message names the asset, the AWS error and that it was retried" \
	"grep -q 'PutObject s3://cdk-hnb659fds-assets-123456789012-us-east-1/$(zip_of functions/say-hello): InternalError' '$T/out' && grep -q 'after retries' '$T/out'" "$T/out"
ok "the other assets were sent" "grep -q 'uploaded functions/greeter' '$T/out'" "$T/out"
ok "the count: one failed, the other two uploaded" \
	"grep -q 'synth publish: 1 of 3 assets failed (2 uploaded, 0 already in the bucket); run it again' '$T/out'" "$T/out"
curl -sS -X DELETE "$PEERS_ADMIN_S3/faults" >/dev/null
mark
ok "the next publish sends only what is missing" "[ $(run publish) -eq 0 ] && grep -q '1 uploaded' '$T/out'" "$T/out"

# 100 MB goes multipart; the proxy checks every part's digest.
mkdir -p "$W/functions/big"
head -c 104857600 /dev/urandom >"$W/functions/big/blob.bin"
echo 'export const handler = async () => 1;' >"$W/functions/big/index.mjs"
sed -i 's|\treturn synth_backend_main(b);|\tsynth_define_function(b, "big", \&(synth_function_props){.entry = "functions/big"});\n\treturn synth_backend_main(b);|' "$W/backend.c"
ok "synth with a 100 MB function" "[ $(run --branch main -q) -eq 0 ]" "$T/out"
mark
fault "$PEERS_ADMIN_S3" 500 1 "UploadPart"
ok "publish of a 100 MB asset succeeds (a part failed once and was retried)" "[ $(run publish) -eq 0 ]" "$T/out"
ok "multipart: one CreateMultipartUpload, 13 parts, one Complete" \
	"[ $(count CreateMultipartUpload 200) -eq 1 ] && [ $(count UploadPart 200) -eq 13 ] && [ $(count CompleteMultipartUpload 200) -eq 1 ]"
ok "multipart: the failed part was retried on its own" "[ $(count UploadPart) -eq 14 ]"
big=$(zip_of functions/big)
size=$(curl -sS -I "$PEERS_S3RVER_URL/cdk-hnb659fds-assets-123456789012-us-east-1/$big" | tr -d '\r' | awk 'tolower($1)=="content-length:" {print $2}')
ok "the object in the bucket has the zip's size" "[ \"$size\" = \"$(stat -c %s "$W"/cdk.out/asset.${big%.zip}.zip)\" ]"

# A wrong secret: rejected by the peers, the AWS error shown.
rc=$( (cd "$W" && AWS_SECRET_ACCESS_KEY=wrongwrongwrong "$SYNTH" publish) >"$T/out" 2>&1; echo $?)
ok "a wrong secret key: publish fails" "[ $rc -eq 1 ]" "$T/out"
ok "a wrong secret key: SignatureDoesNotMatch shown" "grep -q 'SignatureDoesNotMatch' '$T/out'" "$T/out"
ok "a wrong secret key: it is not printed either" "! grep -q wrongwrongwrong '$T/out'"

# No credentials: an error before any request, naming where it looked.
mark
rc=$( (cd "$W" && env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY HOME=$T/home "$SYNTH" publish) >"$T/out" 2>&1; echo $?)
ok "no credentials: exit 2" "[ $rc -eq 2 ]" "$T/out"
ok "no credentials: the message names where it looked" "grep -q 'AWS_ACCESS_KEY_ID' '$T/out' && grep -q '$T/none' '$T/out'" "$T/out"
ok "no credentials: no request was made" "[ $(count HeadObject) -eq 0 ] && [ $(count PutObject) -eq 0 ]"

# Bad input: each a clear error before any request, exit 2.
mark
bad() { # NAME NEEDLE ENV... : synth publish with that environment
	local name=$1 needle=$2; shift 2
	rc=$( (cd "$W" && env "$@" "$SYNTH" publish) >"$T/out" 2>&1; echo $?)
	ok "$name: exit 2" "[ $rc -eq 2 ]" "$T/out"
	ok "$name: the message says '$needle'" "grep -qF -- \"$needle\" '$T/out'" "$T/out"
}
printf '[default]\naws_access_key_id = AKIDONLY\n' >"$T/creds-nosecret"
bad "a credentials file with a missing key" "aws_secret_access_key" -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY AWS_SHARED_CREDENTIALS_FILE="$T/creds-nosecret"
bad "a profile that does not exist" "nosuchprofile" AWS_PROFILE=nosuchprofile
bad "a region that is not valid" "us_east#1" AWS_REGION='us_east#1'
bad "an endpoint URL that is not a URL" "not-a-url" AWS_ENDPOINT_URL_S3=not-a-url
# Found by trying bad input against the AWS CLI (issue #12, part 6).
bad "AWS_PROFILE set but empty" "AWS_PROFILE is set but empty" AWS_PROFILE=
for v in abc 0 -1 99999999; do
	bad "AWS_MAX_ATTEMPTS=$v" "expected a whole number of attempts from 1 to 100" AWS_MAX_ATTEMPTS=$v
	ok "AWS_MAX_ATTEMPTS=$v: the variable and its value named" "grep -qF 'AWS_MAX_ATTEMPTS is \"$v\"' '$T/out'" "$T/out"
done
bad "a key id without a secret and no region" "partial credentials for profile default: [default] has aws_access_key_id but no aws_secret_access_key" \
	-u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY -u AWS_REGION AWS_SHARED_CREDENTIALS_FILE="$T/creds-nosecret"
ok "a key id without a secret: the key id is not printed" "! grep -q AKIDONLY '$T/out'" "$T/out"
ok "bad input: no request was made" "[ $(count HeadObject) -eq 0 ] && [ $(count PutObject) -eq 0 ]"

# An asset listed in the manifest but missing on disk.
rm -f "$W"/cdk.out/asset.*.zip
rc=$(run publish)
ok "an asset missing on disk: exit 1" "[ $rc -eq 1 ]" "$T/out"
ok "an asset missing on disk: named" "grep -q 'asset file .*asset\..*\.zip is missing' '$T/out'" "$T/out"
ok "an asset missing on disk: nothing uploaded, and said so (not \"0 of N\")" \
	"grep -q 'nothing was uploaded (the assets are read and checked before the first upload)' '$T/out' && ! grep -q ' of .* assets' '$T/out'" "$T/out"

# On a terminal: one live progress line (script(1) gives it a tty).
run --branch main -q >/dev/null
echo '// tty' >>"$W/functions/greeter/index.mjs"
run --branch main -q >/dev/null
(cd "$W" && script -qec "$SYNTH publish" /dev/null) >"$T/tty" 2>&1
ok "on a terminal: a progress line with assets and megabytes" "grep -q 'assets, .* MB\]' '$T/tty'" "$T/tty"
ok "on a terminal: the line is redrawn in place" "grep -q $'\r' '$T/tty'"

#!/usr/bin/env bash
# synth checks every template against the CloudFormation specification
# before it replaces the assembly: a misspelled property, a missing required
# one, a wrong value shape, an unknown type or GetAtt attribute is an error
# naming the construct path and the property, and the previous assembly
# stays; --no-validate skips the check.
set -u
ROOT=${SYNTH_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${SYNTH_BUILD:-$ROOT/build}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
ok() { if eval "$2"; then echo "ok - $1"; else echo "not ok - $1"; [ -z "${3:-}" ] || sed 's/^/#   /' "$3" | head -5; fi; }

W=$T/app
mkdir -p "$W/functions/fn"
echo 'export const handler = async () => 1;' >"$W/functions/fn/index.mjs"
backend() { # the body of main() between the definition of fn and the end
	{
		echo '#include <synth.h>'
		echo 'int main(int argc, char **argv) {'
		echo '	synth_backend *b;'
		echo '	if (synth_backend_new(&b, argc, argv) < 0) return synth_backend_fail(NULL);'
		echo '	synth_define_function(b, "fn", &(synth_function_props){.entry = "functions/fn"});'
		cat
		echo '	return synth_backend_main(b);'
		echo '}'
	} >"$W/backend.c"
}
run() { (cd "$W" && "$BUILD/synth" --branch main -q "$@") >"$T/out" 2>"$T/err"; echo $?; }

backend </dev/null
ok "a good backend passes the check" "[ $(run) -eq 0 ] && ! grep -q 'error' '$T/err'" "$T/err"
cp -r "$W/cdk.out" "$T/good"

expect() { # NAME NEEDLE...: the backend on stdin must fail the check
	local name=$1; shift
	backend
	local rc
	rc=$(run)
	ok "$name: exit 1" "[ $rc -eq 1 ]" "$T/err"
	for needle in "$@"; do
		ok "$name: message has '$needle'" "grep -qF -- \"$needle\" '$T/err'" "$T/err"
	done
	ok "$name: the previous assembly is kept" "diff -r '$T/good' '$W/cdk.out' >/dev/null"
	ok "$name: nothing left beside it" "[ -z \"\$(find '$W' -maxdepth 1 -name 'cdk.out.*')\" ]"
}

expect "misspelled property in an override" "fn/Resource" "Properties.MemorySze" \
	"unknown property 'MemorySze' of AWS::Lambda::Function" <<'C'
	synth_backend_add_override(b, "fn/Resource", "Properties.MemorySze", json_integer(256));
C
expect "misspelled nested property" "Properties.LoggingConfig.LogFormt" \
	"unknown property 'LogFormt' of LoggingConfig" <<'C'
	synth_backend_add_override(b, "fn/Resource", "Properties.LoggingConfig.LogFormt", json_string("JSON"));
C
expect "wrong value shape" "Properties.Timeout" "expected integer, got a list" <<'C'
	synth_backend_add_override(b, "fn/Resource", "Properties.Timeout", json_pack("[i]", 3));
C
expect "missing required property" "perm/Resource" "required property 'Principal' of AWS::Lambda::Permission is missing" <<'C'
	synth_backend_add_resource(b, "perm", "AWS::Lambda::Permission",
		json_pack("{s:s,s:o}", "Action", "lambda:InvokeFunction", "FunctionName", synth_ref("fn")));
C
expect "unknown GetAtt attribute" "topic/Resource" "AWS::Lambda::Function has no attribute 'Nope'" <<'C'
	synth_backend_add_resource(b, "topic", "AWS::SNS::Topic",
		json_pack("{s:o}", "DisplayName", synth_getatt("fn", "Nope")));
C
expect "unknown resource type" "q/Resource" "unknown resource type AWS::SQS::Queu" <<'C'
	synth_backend_add_resource(b, "q", "AWS::SQS::Queu", NULL);
C

# What cfn-lint reports as errors in intrinsic functions (the generated
# set is test/cli/lint_agree.sh): Fn::Sub names, Fn::If conditions.
expect "Fn::Sub of an unknown name" "p/Resource" "Properties.Value" \
	'Fn::Sub: \${Nope} names neither a variable of the Sub, a resource' <<'C'
	synth_backend_add_resource(b, "p", "AWS::SSM::Parameter", json_pack("{s:s,s:o}", "Type", "String",
		"Value", synth_sub("${!Literal}-${AWS::Region}-${Nope}", NULL)));
C
expect "Fn::Sub of an attribute of an unknown resource" "p/Resource" \
	"Fn::Sub: \\\${Nope.Arn} of 'Nope', which is not a resource" <<'C'
	synth_backend_add_resource(b, "p", "AWS::SSM::Parameter", json_pack("{s:s,s:o}", "Type", "String",
		"Value", synth_sub("${Nope.Arn}", NULL)));
C
expect "Fn::If on an undeclared condition" "p/Resource" \
	"Fn::If on condition 'Nope', which the template does not declare" <<'C'
	synth_backend_add_resource(b, "p", "AWS::SSM::Parameter", json_pack("{s:s,s:o}", "Type", "String",
		"Value", synth_if("Nope", json_string("a"), json_string("b"))));
C
expect "a raw function with a runtime Lambda does not know" "raw/Resource" \
	"Properties: Runtime: unknown runtime 'dotnet9'" <<'C'
	synth_backend_add_resource(b, "raw", "AWS::Lambda::Function", json_pack("{s:{s:s,s:s},s:s,s:s,s:s}",
		"Code", "S3Bucket", "code-bucket", "S3Key", "k.zip", "Handler", "index.handler",
		"Role", "arn:aws:iam::123456789012:role/r", "Runtime", "dotnet9"));
C

backend <<'C'
	synth_backend_add_override(b, "fn/Resource", "Properties.MemorySze", json_integer(256));
C
ok "--no-validate skips the check" "[ $(run --no-validate) -eq 0 ]" "$T/err"
ok "--no-validate: the assembly has the override" "grep -q MemorySze '$W/cdk.out/'*.template.json"
backend </dev/null
rc=$(cd "$W" && SYNTH_SPEC=/nonexistent "$BUILD/synth" --branch main -q 2>"$T/err"; echo $?)
ok "no specification: a warning, not a failure" "[ $rc -eq 0 ] && grep -q 'no CloudFormation specification found' '$T/err'" "$T/err"

# The specification is searched, not indexed: types at both ends of the
# sorted file, and the compressed source-tree copy as well as the
# uncompressed one the build ships.
expect "the first type of the specification" "first/Resource" \
	"unknown property 'Nope' of AWS::ACMPCA::Certificate" <<'C'
	synth_backend_add_resource(b, "first", "AWS::ACMPCA::Certificate", json_pack("{s:s,s:s,s:s,s:s,s:{s:s,s:i},s:s}",
		"CertificateAuthorityArn", "arn", "CertificateSigningRequest", "csr", "SigningAlgorithm", "SHA256WITHRSA",
		"Nope", "x", "Validity", "Type", "DAYS", "Value", 1, "TemplateArn", "t"));
C
expect "the last type of the specification" "last/Resource" "unknown property 'Nope' of Alexa::ASK::Skill" <<'C'
	synth_backend_add_resource(b, "last", "Alexa::ASK::Skill", json_pack("{s:s}", "Nope", "x"));
C
expect "an unknown type between two known ones" "mid/Resource" "AWS::Lambda::Functio" <<'C'
	synth_backend_add_resource(b, "mid", "AWS::Lambda::Functio", NULL);
C
# Property types share the file ("~ID" lines after the resource types):
# one is never taken for a resource type.
cat >"$T/ptype.sh" <<'SH'
mkdir -p "$CDK_OUTDIR"
printf '{"version":"36.0.0","artifacts":{"S":{"type":"aws:cloudformation:stack","environment":"aws://unknown-account/unknown-region","properties":{"templateFile":"p.template.json"}}}}' >"$CDK_OUTDIR/manifest.json"
printf '{"Resources":{"P":{"Type":"~3","Properties":{}}}}' >"$CDK_OUTDIR/p.template.json"
SH
rc=$(run --app "sh $T/ptype.sh")
ok "a property type's key (~ID) is no resource type" \
	"[ $rc -eq 1 ] && grep -qF 'p.template.json: P: : unknown resource type ~3' '$T/err'" "$T/err"
backend <<'C'
	synth_backend_add_override(b, "fn/Resource", "Properties.MemorySze", json_integer(256));
C
rc=$(SYNTH_SPEC=$ROOT/spec/cfn-spec.jsonl.gz run)
ok "the compressed specification (SYNTH_SPEC=spec/cfn-spec.jsonl.gz) finds the same error" \
	"[ $rc -eq 1 ] && grep -qF \"unknown property 'MemorySze'\" '$T/err'" "$T/err"

# The verdict cache (.synth/spec-checked): a template that passed passes
# again without being parsed only while its bytes, the specification and
# the checker are the same.
backend </dev/null
rm -f "$W/.synth/spec-checked"
ok "a passing template is remembered by its SHA-256" \
	"[ $(run) -eq 0 ] && grep -qx \"\$(cat '$W'/cdk.out/*.template.json | sha256sum | cut -d' ' -f1)\" '$W/.synth/spec-checked'" "$T/err"
ok "the list names the specification and the checker" \
	"head -1 '$W/.synth/spec-checked' | grep -qF 'checker $BUILD/synth '" "$W/.synth/spec-checked"
ok "the same template again: passes (from the list)" "[ $(run) -eq 0 ] && [ \$(wc -l <'$W/.synth/spec-checked') -eq 2 ]" "$T/err"
# The same template against a specification where it is wrong: found.
/usr/bin/python3 - "$BUILD/cfn-spec.jsonl" "$T/spec-no-runtime.jsonl" <<'PY'
import json, sys
out = []
for line in open(sys.argv[1]):
    key, tab, rest = line.partition("\t")
    if key == "AWS::Lambda::Function":
        e = json.loads(rest)
        del e["p"]["Runtime"]
        line = key + "\t" + json.dumps(e, separators=(",", ":")) + "\n"
    out.append(line)
open(sys.argv[2], "w").write("".join(out))
PY
rc=$(SYNTH_SPEC=$T/spec-no-runtime.jsonl run)
ok "a remembered template against another specification is checked again" \
	"[ $rc -eq 1 ] && grep -qF \"unknown property 'Runtime' of AWS::Lambda::Function\" '$T/err'" "$T/err"
ok "a failing template is not remembered" \
	"! grep -qF 'spec-no-runtime' '$W/.synth/spec-checked'" "$W/.synth/spec-checked"
# Another checker (a copy of synth: another binary) starts a new list.
mkdir -p "$T/bin2"
cp "$BUILD/synth" "$BUILD/libsynth-uninstalled.pc" "$T/bin2/"
rc=$(cd "$W" && SYNTH_SPEC=$BUILD/cfn-spec.jsonl "$T/bin2/synth" --branch main -q 2>"$T/err"; echo $?)
ok "another checker checks again and starts its own list" \
	"[ $rc -eq 0 ] && head -1 '$W/.synth/spec-checked' | grep -qF 'checker $T/bin2/synth ' && [ \$(wc -l <'$W/.synth/spec-checked') -eq 2 ]" "$T/err"
# An --app program's directory has no .synth/: nothing is written there.
mkdir -p "$T/appdir"
cat >"$T/good.sh" <<'SH'
mkdir -p "$CDK_OUTDIR"
printf '{"version":"36.0.0","artifacts":{"S":{"type":"aws:cloudformation:stack","environment":"aws://unknown-account/unknown-region","properties":{"templateFile":"t.template.json"}}}}' >"$CDK_OUTDIR/manifest.json"
printf '{"Resources":{"T":{"Type":"AWS::SNS::Topic","Properties":{}}}}' >"$CDK_OUTDIR/t.template.json"
SH
rc=$(cd "$T/appdir" && "$BUILD/synth" -q --app "sh $T/good.sh" 2>"$T/err"; echo $?)
ok "--app without .synth/: passes, and no .synth/ is made for the list" "[ $rc -eq 0 ] && [ ! -e '$T/appdir/.synth' ]" "$T/err"

#!/usr/bin/env bash
# The AWS CDK toolkit (npm aws-cdk, installed by test/spec/setup.sh) reads the
# assemblies libsynth writes: `cdk ls` lists the stack, `cdk synth STACK`
# prints its template, for a one-stack backend and one split into nested
# stacks.
set -u
ROOT=${SYNTH_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${SYNTH_BUILD:-$ROOT/build}
CDK=$ROOT/test/.deps/node_modules/.bin/cdk
export CDK_DISABLE_VERSION_CHECK=1 CI=true
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
ok() { if eval "$2"; then echo "ok - $1"; else echo "not ok - $1"; fi; }

bash "$ROOT/test/spec/setup.sh" >/dev/null 2>&1
if [ ! -x "$CDK" ]; then
	echo "not ok - the CDK toolkit is installed (test/spec/setup.sh)"
	exit 1
fi

check_app() { # NAME DIR: DIR holds backend.c
	local name=$1 dir=$2
	(cd "$dir" && "$BUILD/synth" --branch main -q) >"$T/$name.synth" 2>&1
	ok "$name: synth succeeds" "[ $? -eq 0 ]"
	local stack
	stack=$(cd "$dir" && "$CDK" --app cdk.out ls --no-notices 2>"$T/$name.ls.err")
	local rc=$?
	ok "$name: cdk ls reads the assembly (exit $rc)" "[ $rc -eq 0 ]"
	[ $rc -eq 0 ] || sed 's/^/#   /' "$T/$name.ls.err" | head -5
	ok "$name: cdk ls lists the stack ($stack)" "printf '%s' \"\$stack\" | grep -qx 'synth-$name-main-branch-[0-9a-f]\{10\}'"
	(cd "$dir" && "$CDK" --app cdk.out synth --no-notices "$stack") >"$T/$name.yaml" 2>"$T/$name.synth.err"
	rc=$?
	ok "$name: cdk synth prints the template (exit $rc)" "[ $rc -eq 0 ] && grep -q 'AWS::Lambda::Function' '$T/$name.yaml'"
	[ $rc -eq 0 ] || sed 's/^/#   /' "$T/$name.synth.err" | head -5
}

mkdir -p "$T/hello"
cp -r "$ROOT/samples/hello/." "$T/hello/"
rm -rf "$T/hello/.synth" "$T/hello/cdk.out"
check_app hello "$T/hello"

bash "$ROOT/test/gen/gen_backend.sh" 150 "$T/big" >/dev/null
check_app big "$T/big"
ok "big: the assembly has nested stacks" "ls '$T/big/cdk.out/'*.nested.template.json >/dev/null 2>&1"
ok "big: cdk synth shows the nested stack resources" "grep -q 'AWS::CloudFormation::Stack' '$T/big.yaml'"

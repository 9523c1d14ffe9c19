#!/usr/bin/env bash
# The synth command line: --json, --out, --app, the build cache, --help,
# --version, usage errors, and the stack names that --branch / --sandbox
# give.
. "$(dirname "$0")/lib/common.bash"

H=$TMP/h/hello
copy_sample "$SYNTH_ROOT/samples/hello" "$H"

# --- --json ---------------------------------------------------------------
synth_in "$H" --branch main --json
check_eq "--json: exit 0" "$RC" 0
check_not_contains "--json: no progress messages on stderr (compiling ...)" "$ERR" "compiling"
printf '%s\n' "$OUT" >"$TMP/sum.json"
res=$(python3 - "$TMP/sum.json" "$H/cdk.out" <<'P' 2>&1
import hashlib, json, os, sys
try:
    s = json.load(open(sys.argv[1]))
except ValueError as e:
    print("not ok - --json: stdout is one JSON document\n#   %s" % e)
    sys.exit(0)
print("ok - --json: stdout is one JSON document")
d = sys.argv[2]
man = json.load(open(os.path.join(d, "manifest.json")))
names = [a["properties"]["stackName"] for a in man["artifacts"].values() if a["type"] == "aws:cloudformation:stack"]
def check(c, m, *diag):
    print(("ok - " if c else "not ok - ") + m)
    for x in diag if not c else ():
        print("#   %s" % (x,))
st = s.get("stacks", [])
check([x.get("name") for x in st] == names, "--json: stacks lists the manifest's stack", st, names)
if st:
    check(st[0].get("resources") == 9, "--json: the hello stack has 9 resources", st[0].get("resources"))
    check(sum(st[0].get("resourceTypes", {}).values()) == 9, "--json: resourceTypes add up to 9")
    check(st[0].get("outputs") == ["greeterFunctionName"], "--json: outputs listed", st[0].get("outputs"))
    check(os.path.isfile(os.path.join(d, st[0].get("templateFile", "-"))), "--json: templateFile exists")
assets = s.get("assets", [])
zips = [a for a in assets if a.get("kind") == "zip"]
check(sorted(a.get("source") for a in zips) == ["functions/greeter", "functions/say-hello"],
      "--json: assets list both code directories as source", [a.get("source") for a in zips])
bad = []
for a in assets:
    f = os.path.join(d, a.get("file", "-"))
    if not os.path.isfile(f):
        bad.append("%s: no file %s" % (a.get("source"), f))
        continue
    data = open(f, "rb").read()
    if a.get("size") != len(data):
        bad.append("%s: size %s, file has %d bytes" % (a.get("source"), a.get("size"), len(data)))
    if a.get("hash") != hashlib.sha256(data).hexdigest():
        bad.append("%s: hash %s is not the file's SHA-256" % (a.get("source"), a.get("hash")))
check(not bad and len(assets) == 3, "--json: every asset (2 zips, 1 template) has the file's size and SHA-256", *bad)
P
)
printf '%s\n' "$res"
T_PASSED=$((T_PASSED + $(printf '%s\n' "$res" | grep -c '^ok - ')))
T_FAILED=$((T_FAILED + $(printf '%s\n' "$res" | grep -c '^not ok - ')))

synth_in "$H" --branch main
check_eq "summary: exit 0" "$RC" 0
check_match "summary: names the program, the assembly and the timings" "$OUT" '^synth: backend\.c -> cdk\.out \(build [0-9]+ ms, synth [0-9]+ ms\)$'
check_match "summary: the stack" "$OUT" '^Stack synth-hello-main-branch-[0-9a-f]{10}$'
check_match "summary: the resources" "$OUT" '^  resources  9$'
check_match "summary: the assets" "$OUT" '^Assets 2 \(\+1 templates\)$'
check_match "summary: each asset's source, size and hash" "$OUT" '^  functions/say-hello +[0-9]+ B  [0-9a-f]{12}  asset\.[0-9a-f]{64}\.zip$'
synth_in "$H" --branch main -q
check_eq "-q: no summary" "$OUT" ""
synth_in "$H" synth --branch main -q
check_eq "'synth synth' (the subcommand) works" "$RC" 0

# --- --out ----------------------------------------------------------------
rm -rf "$H/cdk.out"
synth_in "$H" --branch main --out deep/er/out -q
check_eq "--out deep/er/out: exit 0" "$RC" 0
check "--out deep/er/out: the assembly is there" test -f "$H/deep/er/out/manifest.json"
check "--out: no cdk.out" test ! -e "$H/cdk.out"
check_eq "--out: no staging directories left in deep/er" "$(stray_staging "$H/deep/er")" ""
synth_in "$H" --branch main --out "$TMP/abs-out" -q
check "--out with an absolute path" test -f "$TMP/abs-out/manifest.json"
if d=$(diff -r "$H/deep/er/out" "$TMP/abs-out" 2>&1); then
	pass "--out: the same assembly wherever it is written"
else
	fail "--out: the same assembly wherever it is written"; diag "$d"
fi
assembly_ok "--out: check_assembly.py accepts it" "$TMP/abs-out"
synth_in "$H" --branch main --out "$TMP/abs-out" -q
check_eq "--out: replacing an existing assembly leaves no .old/.stage/.tmp beside it" "$(stray_staging "$TMP")" ""

# A trailing slash names the same directory.
rm -rf "$H/slash"
synth_in "$H" --branch main --out slash/ -q
check_eq "--out slash/ (trailing slash, new directory): exit 0" "$RC" 0
[ "$RC" -eq 0 ] || diag "$ERR"
check "--out slash/: the assembly is in slash/" test -f "$H/slash/manifest.json"
synth_in "$H" --branch main --out slash/ -q
check_eq "--out slash/ (trailing slash, existing assembly): exit 0" "$RC" 0
[ "$RC" -eq 0 ] || diag "$ERR"
check_eq "--out slash/: nothing left inside or beside it" \
	"$(stray_staging "$H"; find "$H/slash" -mindepth 1 -name '.*')" ""
rm -rf "$H/direct"
(cd "$H" && CDK_OUTDIR=direct/ CDK_CONTEXT_JSON='{"synth:type":"branch","synth:name":"main"}' ./.synth/backend) 2>"$TMP/direct.err"
check_eq "the backend run directly with CDK_OUTDIR=direct/ (trailing slash): exit 0" "$?" 0
check "CDK_OUTDIR=direct/: the assembly is in direct/" test -f "$H/direct/manifest.json"

# --- --app ----------------------------------------------------------------
synth_in "$H" --branch main --app ./.synth/backend
check_eq "--app ./.synth/backend: exit 0" "$RC" 0
check_match "--app: the summary names the command" "$OUT" '^synth: \./\.synth/backend -> cdk\.out'
check_match "--app: the summary lists the stack" "$OUT" '^Stack synth-hello-main-branch-'
check_match "--app: the summary lists the assets" "$OUT" '^Assets 2 '

A=$TMP/app
mkdir -p "$A"
cat >"$A/emit.sh" <<'SH'
#!/bin/sh
# A minimal cloud assembly, written where synth says.
set -e
[ -n "$CDK_OUTDIR" ] || exit 9
mkdir -p "$CDK_OUTDIR"
printf '%s\n' "$CDK_CONTEXT_JSON" >"$CDK_OUTDIR/context.json"
cat >"$CDK_OUTDIR/Demo.template.json" <<'J'
{"Resources": {"Topic": {"Type": "AWS::SNS::Topic"}}, "Outputs": {"TopicArn": {"Value": {"Ref": "Topic"}}}}
J
cat >"$CDK_OUTDIR/manifest.json" <<'J'
{"version": "55.0.0", "artifacts": {"Demo": {"type": "aws:cloudformation:stack",
 "environment": "aws://unknown-account/unknown-region",
 "properties": {"templateFile": "Demo.template.json"}}}}
J
SH
chmod +x "$A/emit.sh"
synth_in "$A" --branch feature/x --app "sh ./emit.sh"
check_eq "--app 'sh ./emit.sh' (no backend.c needed): exit 0" "$RC" 0
check_match "--app script: the summary lists its stack" "$OUT" '^Stack Demo$'
check_match "--app script: one resource" "$OUT" '^  resources  1$'
check_match "--app script: its output" "$OUT" '^    TopicArn$'
check "--app script: the assembly is in cdk.out" test -f "$A/cdk.out/Demo.template.json"
ctx=$(cat "$A/cdk.out/context.json" 2>/dev/null)
check_contains "--app: CDK_CONTEXT_JSON has the branch name" "$ctx" '"synth:name":"feature/x"'
check_contains "--app: CDK_CONTEXT_JSON has the type" "$ctx" '"synth:type":"branch"'
synth_in "$A" --branch main --app "exit 3"
check_eq "--app that exits 3: exit 1" "$RC" 1
check_contains "--app that exits 3: the message names the command and its status" "$ERR" "exit 3 exited with status 3"
synth_in "$A" --branch main --app "true"
check_eq "--app that writes nothing: exit 4" "$RC" 4
check "--app failures keep the previous assembly" test -f "$A/cdk.out/Demo.template.json"
check_eq "--app failures leave no staging directories" "$(stray_staging "$A")" ""

# --- the build cache --------------------------------------------------------
# settled DIR: polls (deadline 10 s) until the clock is past the newest
# change time under DIR by more than a clock tick. A file written in the
# tick a compile starts may have changed after the compiler read it, so
# the build cache records it unhashed and the next synth compiles again
# (as ccache does); the tests that expect "not recompiled" write their
# files first and let the tick pass.
settled() {
	python3 - "$1" <<'PY'
import os, sys, time
root = sys.argv[1]
newest = max(os.stat(os.path.join(d, f)).st_ctime_ns
             for d, _, fs in os.walk(root) for f in fs)
deadline = time.monotonic() + 10
while time.time_ns() <= newest + 20_000_000 and time.monotonic() < deadline:
    time.sleep(0.005)
PY
}
C=$TMP/c/cache
mkdir -p "$C/functions/f"
echo 'export const handler = async () => 0;' >"$C/functions/f/index.mjs"
printf '#define MEMORY 256\n' >"$C/config.h"
cat >"$C/backend.c" <<'CEOF'
#include <synth.h>
#include "config.h"
int main(int argc, char **argv)
{
	synth_backend *b;
	if (synth_backend_new(&b, argc, argv) < 0)
		return synth_backend_fail(NULL);
	synth_define_function(b, "f", &(synth_function_props){.memory_mb = MEMORY});
	return synth_backend_main(b);
}
CEOF
memory() { python3 -c '
import glob, json, sys
t = json.load(open(glob.glob(sys.argv[1] + "/cdk.out/*.template.json")[0]))
print([r["Properties"]["MemorySize"] for r in t["Resources"].values() if r["Type"] == "AWS::Lambda::Function"][0])' "$C" 2>&1; }
settled "$C"
synth_in "$C" --branch main
check_contains "first synth: compiles backend.c" "$ERR" "compiling backend.c"
check_eq "first synth: MemorySize from config.h" "$(memory)" 256
synth_in "$C" --branch main
check_contains "second synth of an unchanged backend: not recompiled" "$ERR" "not recompiled"
check_not_contains "second synth: does not compile" "$ERR" "compiling"
touch -d '2035-01-01' "$C/backend.c" "$C/config.h"
synth_in "$C" --branch main
check_contains "touching backend.c and config.h (same content): not recompiled" "$ERR" "not recompiled"
echo '/* edited */' >>"$C/backend.c"
settled "$C"
synth_in "$C" --branch main
check_contains "editing backend.c: recompiled" "$ERR" "compiling backend.c"
synth_in "$C" --branch main
check_contains "then unchanged again: not recompiled" "$ERR" "not recompiled"
printf '#define MEMORY 1024\n' >"$C/config.h"
synth_in "$C" --branch main
check_contains "editing a header backend.c includes: recompiled" "$ERR" "compiling backend.c"
check_eq "the rebuilt backend is the one that ran (MemorySize 1024)" "$(memory)" 1024
synth_in "$C" --branch main --no-cache
check_contains "--no-cache: recompiled" "$ERR" "compiling backend.c"
printf '#define MEMORY 2048\n' >"$C/config.h"
synth_in "$C" --branch main -q
check_eq "-q: no progress messages" "$ERR" ""
check_eq "-q still rebuilds after a header edit (MemorySize 2048)" "$(memory)" 2048

CC="cc -DUNUSED_MACRO=1" synth_in "$C" --branch main
check_contains "a different compile command (CC): recompiled" "$ERR" "compiling backend.c"
synth_in "$C" --branch main
check_contains "back to the default CC: recompiled" "$ERR" "compiling backend.c"

# The folder convention: */resource.c files are compiled in too.
mkdir -p "$C/extra"
cat >"$C/extra/resource.c" <<'CEOF'
#include <synth.h>
void add_extra(synth_backend *b);
void add_extra(synth_backend *b)
{
	synth_backend_add_resource(b, "ExtraTopic", "AWS::SNS::Topic", NULL);
}
CEOF
sed -i 's|^\tsynth_define_function(b, "f"|\tvoid add_extra(synth_backend *);\n\tadd_extra(b);\n&|' "$C/backend.c"
topics() { grep -c '"AWS::SNS::Topic"' "$C"/cdk.out/*.template.json; }
settled "$C"
synth_in "$C" --branch main
check_eq "extra/resource.c is compiled in (exit 0)" "$RC" 0
[ "$RC" -eq 0 ] || diag "$ERR"
check_eq "extra/resource.c's resource is in the template" "$(topics)" 1
synth_in "$C" --branch main
check_contains "unchanged with extra/resource.c: not recompiled" "$ERR" "not recompiled"
sed -i 's/"ExtraTopic"/"ExtraTopic2"/' "$C/extra/resource.c"
synth_in "$C" --branch main
check_contains "editing extra/resource.c: recompiled" "$ERR" "compiling backend.c"
check "the edited resource.c is the one that ran" grep -q 'ExtraTopic2' "$C"/cdk.out/*.template.json
mkdir -p "$C/more"
cat >"$C/more/resource.c" <<'CEOF'
int more_unused(void);
int more_unused(void) { return 1; }
CEOF
synth_in "$C" --branch main
check_contains "a new more/resource.c: recompiled" "$ERR" "compiling backend.c"

# A directory name with a space: the namespace is sanitized.
SP="$TMP/sp/my app"
copy_sample "$SYNTH_ROOT/samples/hello" "$SP"
synth_in "$SP" --branch main -q
check_eq "a backend in 'my app': exit 0" "$RC" 0
check "a backend in 'my app': stack synth-my-app-main-branch-*" \
	test -f "$(echo "$SP"/cdk.out/synth-my-app-main-branch-*.template.json)"

# --- --help, --version, usage errors ---------------------------------------
OUT=$("$SYNTH" --help 2>/dev/null); RC=$?
check_eq "--help: exit 0" "$RC" 0
check_contains "--help: usage on stdout" "$OUT" "usage: synth"
for opt in --out --json --app --branch --sandbox --namespace --context --no-cache --quiet --version; do
	check_contains "--help documents $opt" "$OUT" "$opt"
done
check_match "--help documents the exit statuses" "$OUT" '1 synth error.*2 usage'
OUT=$("$SYNTH" -h 2>/dev/null); RC=$?
check_eq "-h: exit 0" "$RC" 0
want=$(sed -n 's/^#define SYNTH_VERSION "\(.*\)"/\1/p' "$SYNTH_ROOT/include/synth/common.h")
OUT=$("$SYNTH" --version 2>/dev/null); RC=$?
check_eq "--version: exit 0" "$RC" 0
check_eq "--version prints the library version" "$OUT" "synth $want"
synth_in "$H" --frobnicate
check_eq "unknown flag: exit 2" "$RC" 2
check_contains "unknown flag: the message names it" "$ERR" "--frobnicate"
synth_in "$H" --branch main --out
check_eq "--out without a value: exit 2" "$RC" 2
check_contains "--out without a value: the message names --out" "$ERR" "--out"
synth_in "$H" --branch main --sandbox alice
check_eq "--branch with --sandbox: exit 2" "$RC" 2
synth_in "$H" --branch main -c novalue
check_eq "-c without KEY=VALUE: exit 2" "$RC" 2
check_contains "-c without KEY=VALUE: the message names the argument" "$ERR" "novalue"

# --- stack names --------------------------------------------------------------
# stack_name ARGS...: the root stack name synth gives (from manifest.json).
stack_name() {
	rm -rf "$H/names.out"
	(cd "$H" && "$SYNTH" "$@" --out names.out -q) >/dev/null 2>"$TMP/name.err" || { echo "(exit $?)"; return; }
	python3 -c '
import json, sys
m = json.load(open(sys.argv[1]))
print(" ".join(a["properties"]["stackName"] for a in m["artifacts"].values() if a["type"] == "aws:cloudformation:stack"))' "$H/names.out/manifest.json"
}
valid_name() { printf '%s\n' "$1" | grep -Eq '^[A-Za-z][A-Za-z0-9-]*$' && [ "${#1}" -le 128 ]; }

n=$(stack_name --sandbox alice)
check_contains "--sandbox alice: the stack name contains alice-sandbox ($n)" "$n" "alice-sandbox"
check "--sandbox alice: a valid stack name" valid_name "$n"
tags=$(python3 -c 'import json,sys; m=json.load(open(sys.argv[1])); print([a["properties"]["tags"] for a in m["artifacts"].values() if a["type"]=="aws:cloudformation:stack"][0])' "$H/names.out/manifest.json" 2>&1)
check_contains "--sandbox alice: tagged synth:type sandbox" "$tags" "'synth:type': 'sandbox'"
check_contains "--sandbox alice: tagged synth:name alice" "$tags" "'synth:name': 'alice'"
n=$(USER=bob stack_name --sandbox)
check_contains "--sandbox without an ID uses \$USER ($n)" "$n" "bob-sandbox"
n=$(USER=carol stack_name)
check_contains "no --branch nor --sandbox: a sandbox of \$USER ($n)" "$n" "carol-sandbox"
a=$(stack_name --branch feature/x)
b=$(stack_name --branch feature-x)
check_contains "--branch feature/x sanitizes to feature-x ($a)" "$a" "-feature-x-branch-"
check_contains "--branch feature-x ($b)" "$b" "-feature-x-branch-"
check "feature/x and feature-x give different stack names" test "$a" != "$b"
check "feature/x gives a valid stack name" valid_name "$a"
long=$(printf 'release/%.0s2026-q4-hotfix-' {1..20})
n=$(stack_name --branch "$long")
check "a ${#long}-character branch name gives a stack name of at most 128 characters (${#n})" test "${#n}" -le 128
check "... matching ^[A-Za-z][A-Za-z0-9-]*\$ ($n)" valid_name "$n"
n2=$(stack_name --branch "${long}x")
check "two long branch names that differ only past the cut give different stack names" test "$n" != "$n2"
n=$(stack_name --branch 'fé/ñ_ü' )
check "a branch name with non-ASCII letters gives a valid stack name ($n)" valid_name "$n"
lns=$(printf 'n%.0s' {1..90})
n=$(stack_name --branch main --namespace "$lns")
check "a 90-character namespace gives a valid stack name of at most 128 characters (${#n})" valid_name "$n"
n=$(stack_name --branch "$long" --namespace "$lns")
check "a long namespace and a long branch: at most 128 characters (${#n})" valid_name "$n"
n=$(stack_name --branch 'main--' --namespace '--hello--')
check "dashes at the ends are dropped ($n)" valid_name "$n"
check_contains "... synth-hello-main-branch-" "$n" "synth-hello-main-branch-"
finish

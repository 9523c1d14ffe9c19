#!/usr/bin/env bash
# An external construct (issue #9): test/ext/ (an SNS topic whose
# subscriber is a Lambda function, and a backend using it) is compiled
# outside the repository against the installed headers and libsynth.pc
# only, and synthesizes. Asserts the template (topic, subscription,
# permission, their properties and references, construct paths), the
# failure switches (required lookup of a token nobody provides, a class of
# version 0, a filter policy that is not an object, a FIFO topic with a
# Lambda subscriber) and cfn-lint.
. "$(dirname "$0")/lib/common.bash"
is_san && exit 0   # the installed libsynth.pc carries no sanitizer flags

PREFIX=$TMP/prefix
make -s -C "$SYNTH_ROOT" install PREFIX="$PREFIX" DESTDIR= >"$TMP/install.log" 2>&1
rc=$?
check "make install PREFIX=\$tmp succeeds (exit $rc)" [ "$rc" -eq 0 ]
[ "$rc" -eq 0 ] || { diag_file "$TMP/install.log"; finish; }

# The sources are copied out of the repository, so that nothing the
# compiler reads can come from it unless pkg-config points there.
SRC=$TMP/src
mkdir -p "$SRC" "$TMP/app"
cp "$SYNTH_ROOT"/test/ext/*.c "$SYNTH_ROOT"/test/ext/*.h "$SRC/"
cp -r "$SYNTH_ROOT/test/ext/functions" "$TMP/app/"

export PKG_CONFIG_PATH=$PREFIX/lib/pkgconfig
check_eq "pkg-config finds the installed libsynth.pc" \
	"$(pkg-config --variable=prefix libsynth 2>&1)" "$PREFIX"
CFLAGS_PC=$(pkg-config --cflags libsynth)
LIBS_PC=$(pkg-config --libs libsynth)
check_not_contains "pkg-config's flags name nothing in the repository" \
	"$CFLAGS_PC $LIBS_PC" "$SYNTH_ROOT"

CC=${CC:-cc}
# shellcheck disable=SC2086
out=$("$CC" -std=c11 -Wall -Wextra -Wshadow -Wstrict-prototypes -Werror \
	-o "$TMP/backend" "$SRC"/*.c $CFLAGS_PC $LIBS_PC 2>&1)
rc=$?
check "test/ext/*.c compile (-Werror) against the installed headers (exit $rc)" [ "$rc" -eq 0 ]
[ "$rc" -eq 0 ] || { diag "$out"; finish; }

# Every header the compiler read: the installed ones, system ones, and
# the construct's own; none under the repository.
# shellcheck disable=SC2086
deps=$("$CC" -std=c11 -M $CFLAGS_PC "$SRC"/*.c 2>&1 | tr ' \\' '\n\n' | grep -v '^$' | grep -v ':$')
check_contains "the build read the installed <synth.h>" "$deps" "$PREFIX/include/synth.h"
check_contains "the build read the installed <synth/sys/construct.h>" "$deps" \
	"$PREFIX/include/synth/sys/construct.h"
check_not_contains "the build read no file under the repository (gcc -M)" "$deps" "$SYNTH_ROOT"
check_contains "the link line names the installed libsynth.a" "$LIBS_PC" "$PREFIX/lib/libsynth.a"
check "the backend has libsynth linked in (no libsynth.so loaded)" \
	sh -c "nm '$TMP/backend' | grep -q ' T synth_backend_main' && ! ldd '$TMP/backend' | grep -q libsynth"

# --- synthesis ----------------------------------------------------------
run_ext() { # OUTDIR ARGS...: runs the backend in $TMP/app; $OUT, $ERR, $RC
	local o=$1
	shift
	OUT=$(cd "$TMP/app" && "$TMP/backend" --out "$o" -c synth:name=main \
		-c synth:type=branch "$@" 2>"$TMP/.stderr")
	RC=$?
	ERR=$(cat "$TMP/.stderr")
}
run_ext "$TMP/out"
check_eq "the backend synthesizes (exit 0)" "$RC" 0
[ "$RC" -eq 0 ] || diag "$ERR"
check_contains "the probe's optional lookup of a token nobody provides gives NULL" \
	"$OUT" "probe: optional lookup of 'ext:nobody-provides-this' gave NULL"
check_eq "nothing on stderr" "$ERR" ""

templates=("$TMP"/out/*.template.json)
check "one template" test "${#templates[@]}" -eq 1 -a -f "${templates[0]}"
tap=$("$SYSPY" - "$TMP/out" <<'PY'
import glob, json, sys
out = sys.argv[1]
res = {}
for f in glob.glob(out + "/*.template.json"):
    res.update(json.load(open(f)).get("Resources", {}))
by_path = {r.get("Metadata", {}).get("synth:path"): (lid, r) for lid, r in res.items()}
n = 0
def ok(cond, what):
    print(("ok - " if cond else "not ok - ") + what)
def get(path, typ):
    lid, r = by_path.get(path, (None, {}))
    ok(r.get("Type") == typ, f"{path} is an {typ}")
    return lid, r.get("Properties", {})

topic, tp = get("orders/Topic", "AWS::SNS::Topic")
ok(tp.get("DisplayName") == "Orders" and "FifoTopic" not in tp,
   "orders/Topic: DisplayName Orders, not FIFO")
fn, _ = get("sub/Resource", "AWS::Lambda::Function")
_, sp = get("sub/ordersSubscription", "AWS::SNS::Subscription")
ok(sp.get("Protocol") == "lambda", "subscription: Protocol lambda")
ok(sp.get("Endpoint") == {"Fn::GetAtt": [fn, "Arn"]}, "subscription: Endpoint is the function's ARN")
ok(topic and sp.get("TopicArn") == {"Ref": topic}, "subscription: TopicArn is Ref of the topic")
ok(sp.get("FilterPolicy") == {"kind": ["order"], "amount": [{"numeric": [">", 0]}]},
   "subscription: FilterPolicy is the given JSON object")
_, pp = get("sub/ordersPermission", "AWS::Lambda::Permission")
ok(pp.get("Action") == "lambda:InvokeFunction" and pp.get("Principal") == "sns.amazonaws.com",
   "permission: lambda:InvokeFunction for sns.amazonaws.com")
ok(pp.get("FunctionName") == {"Fn::GetAtt": [fn, "Arn"]}, "permission: FunctionName is the function")
ok(topic and pp.get("SourceArn") == {"Ref": topic}, "permission: SourceArn is the topic")
_, ap = get("audit/Topic", "AWS::SNS::Topic")
ok(ap.get("FifoTopic") is True and
   ap.get("TopicName") == {"Fn::Sub": "${AWS::StackName}-audit.fifo"},
   "audit/Topic: FIFO, named <stack>-audit.fifo")
ok(not [p for p in by_path if p and p.startswith("probe/")], "the probe adds no resource")
_, nf = get("notifier/Resource", "AWS::Lambda::Function")
env = nf.get("Environment", {}).get("Variables", {})
ok(topic and env.get("SYNTH_ORDERS_ARN") == {"Ref": topic},
   "link: the topic's ARN reaches the publisher as SYNTH_ORDERS_ARN")
_, npol = get("notifier/ServiceRole/DefaultPolicy", "AWS::IAM::Policy")
sts = npol.get("PolicyDocument", {}).get("Statement", [])
ok(topic and sts == [{"Effect": "Allow", "Action": ["sns:Publish"], "Resource": {"Ref": topic}}],
   "link: the publisher may sns:Publish on exactly that topic, nothing else")
ok(len([r for r in res.values() if r["Type"].startswith("AWS::SNS::")]) == 3,
   "exactly two topics and one subscription")
PY
)
printf '%s\n' "$tap"
T_PASSED=$((T_PASSED + $(printf '%s\n' "$tap" | grep -c '^ok ')))
T_FAILED=$((T_FAILED + $(printf '%s\n' "$tap" | grep -c '^not ok ')))
if command -v cfn-lint >/dev/null; then
	cfn_lint_ok "cfn-lint finds no errors in the template" "${templates[@]}"
else
	pass "cfn-lint not installed: lint skipped"
fi

# --- the failure switches -------------------------------------------------
# fail_case MODE DESCRIPTION NEEDLE...: the backend exits 1, writes no
# assembly, reports one "synth: error:" line containing every NEEDLE, and
# does not crash (no signal exit).
fail_case() {
	local mode=$1 d=$2
	shift 2
	run_ext "$TMP/out-$mode" -c ext:mode="$mode"
	check_eq "$d: exit 1" "$RC" 1
	check "$d: no assembly written" [ ! -e "$TMP/out-$mode" ]
	check_match "$d: a synth: error line" "$ERR" '^synth: error: '
	check_eq "$d: one line on stderr" "$(printf '%s\n' "$ERR" | wc -l)" 1
	local n
	for n in "$@"; do
		check_contains "$d: the message names '$n'" "$ERR" "$n"
	done
}
fail_case require-missing "required lookup of a missing token" \
	"probe: " "'ext:nobody-provides-this'" "no construct provides it"
fail_case old-class "a class of version 0" \
	"legacy: " "version 0" "supports versions 1 to 2"
fail_case bad-filter "a filter policy that is not an object" \
	"orders: " "not a JSON object"
fail_case fifo-lambda "a FIFO topic subscribed by a function" \
	"audit: " "FIFO" "sub"
# The switch through the environment (EXT_MODE) works too.
OUT=$(cd "$TMP/app" && EXT_MODE=require-missing "$TMP/backend" --out "$TMP/out-env" 2>&1)
check_eq "EXT_MODE=require-missing fails too" "$?" 1
check_contains "... naming the probe and the token" "$OUT" \
	"probe: needs 'ext:nobody-provides-this'"

# No leak or invalid access in the construct, on success or failure.
if command -v valgrind >/dev/null; then
	for mode in "" require-missing old-class bad-filter fifo-lambda; do
		rm -rf "$TMP/out-vg"
		(cd "$TMP/app" && EXT_MODE=$mode valgrind -q --leak-check=full \
			--errors-for-leak-kinds=definite,indirect --error-exitcode=99 \
			"$TMP/backend" --out "$TMP/out-vg" >/dev/null 2>"$TMP/vg.err")
		rc=$?
		check "valgrind: no error or leak (mode '${mode:-none}', exit $rc)" \
			sh -c "[ $rc -ne 99 ] && ! grep -q '^==' '$TMP/vg.err'"
	done
fi
finish

#!/usr/bin/env bash
# What CloudFormation would refuse, synth refuses: synth's own checks and
# cfn-lint agree case by case on a generated set (test/cli/lint_agree.py:
# every Lambda runtime cfn-lint knows and bogus ones, environments around
# 4 KB, Fn::If on declared and undeclared conditions, Fn::Sub of known and
# unknown resources, attributes, parameters, pseudo parameters, ${!...}
# escapes), and the runtime table is what scripts/gen-runtimes.py writes
# from the installed cfn-lint.
. "$(dirname "$0")/lib/common.bash"

if ! python3 -c 'import cfnlint.runner' 2>/dev/null; then
	fail "cfn-lint's Python package is importable"
	finish
fi

# The checked-in table is the one the installed cfn-lint's data gives.
if out=$(cd "$SYNTH_ROOT" && python3 scripts/gen-runtimes.py - 2>&1) &&
	diff <(printf '%s\n' "$out") "$SYNTH_ROOT/lib/core/lambda_runtimes.inc" >"$TMP/diff"; then
	pass "lib/core/lambda_runtimes.inc is what scripts/gen-runtimes.py writes from cfn-lint $(cfn-lint --version | awk '{print $2}')"
else
	fail "lib/core/lambda_runtimes.inc is what scripts/gen-runtimes.py writes (run make runtimes)"
	diag_file "$TMP/diff"
fi

# The runtime states by date: synth_lambda_runtime_state against cfn-lint's
# own rules (W2531, E2531, E2533) run at the same dates.
cat >"$TMP/states.c" <<'C'
#include <stdio.h>
#include <synth.h>
int main(int argc, char **argv)
{
	const synth_lambda_runtime *rt;
	for (size_t i = 0; (rt = synth_lambda_runtime_at(i)); i++)
		for (int d = 1; d < argc; d++)
			printf("%s %s %d\n", rt->name, argv[d], synth_lambda_runtime_state(rt, argv[d]));
	return 0;
}
C
if cc -std=c11 -I"$SYNTH_ROOT/include" $(pkg-config --cflags jansson) -o "$TMP/states" "$TMP/states.c" \
	-L"$SYNTH_BUILD" -Wl,-rpath,"$SYNTH_BUILD" -lsynth $(pkg-config --libs jansson) \
	$(is_san && echo -fsanitize=address,undefined) 2>"$TMP/cc.err"; then
	python3 - "$TMP/states" "$SYNTH_ROOT" <<'PY' >"$TMP/states.out" 2>&1
import datetime, json, os, subprocess, sys
import cfnlint
from cfnlint.rules.resources.lmbd import (DeprecatedRuntimeCreate as C,
                                          DeprecatedRuntimeEol as W, DeprecatedRuntimeUpdate as U)
life = json.load(open(os.path.join(os.path.dirname(cfnlint.__file__), "data",
                                   "AdditionalSpecs", "LmbdRuntimeLifecycle.json")))
days = set()
for d in life.values():
    for k in ("deprecated", "create-block", "update-block"):
        day = datetime.date.fromisoformat(d[k])
        days.update({day - datetime.timedelta(days=1), day})
days = sorted(x.isoformat() for x in days)
out = subprocess.run([sys.argv[1]] + days, capture_output=True, text=True, check=True).stdout
class V:  # the validator the rules ask one question of
    def is_type(self, v, t):
        return isinstance(v, str)
# The same runtimes: synth's table is cfn-lint's Runtime enum, no more, no less.
enum = []
for op in json.load(open(os.path.join(os.path.dirname(cfnlint.__file__), "data", "schemas",
                                      "patches", "extensions", "all", "aws_lambda_function",
                                      "smithy.json"))):
    if op.get("path") == "/properties/Runtime/enum":
        enum = op["value"]
mine = {line.split()[0] for line in out.splitlines()}
if mine != set(enum) or not enum:
    print("only synth: %s; only cfn-lint: %s" % (sorted(mine - set(enum)), sorted(set(enum) - mine)))
    sys.exit(1)
bad = n = 0
for line in out.splitlines():
    name, day, state = line.split()
    fixed = datetime.datetime.fromisoformat(day + "T12:00:00")
    class D(datetime.datetime):
        @classmethod
        def today(cls):
            return fixed
    got = []
    for mod, cls, code in ((U, U.DeprecatedRuntimeUpdate, 3), (C, C.DeprecatedRuntimeCreate, 2),
                           (W, W.DeprecatedRuntimeEol, 1)):
        mod.datetime = D
        if list(cls().validate(V(), None, name, {})):
            got.append(code)
    want = max(got) if got else 0
    n += 1
    if want != int(state):
        bad += 1
        print("%s on %s: synth %s, cfn-lint %s" % (name, day, state, want))
print("the same %d runtimes, %d states compared" % (len(enum), n))
sys.exit(1 if bad or n < 100 else 0)
PY
	if [ $? -eq 0 ]; then
		pass "synth knows the runtimes cfn-lint knows, and their states agree with cfn-lint's rules on every transition day ($(tail -1 "$TMP/states.out"))"
	else
		fail "runtime states agree with cfn-lint's rules on every transition day"
		diag_file "$TMP/states.out"
	fi
else
	fail "the states program compiles"
	diag_file "$TMP/cc.err"
fi

# The generated cases, each through synth and cfn-lint.
python3 "$SYNTH_ROOT/test/cli/lint_agree.py" "$SYNTH" "$TMP" "$SYNTH_ROOT" >"$TMP/cases.out" 2>&1
grep -v '^#   \|^# [0-9]* passed' "$TMP/cases.out" | grep -v '^ok - \|^not ok - ' | head -n 20 | sed 's/^/#   /'
while IFS= read -r line; do
	case $line in
	"ok - "*) pass "${line#ok - }" ;;
	"not ok - "*) fail "${line#not ok - }" ;;
	"#   "*) echo "$line" ;;
	esac
done <"$TMP/cases.out"
[ "$(grep -c '^ok - ' "$TMP/cases.out")" -gt 100 ] && pass "more than 100 generated cases ran" ||
	fail "more than 100 generated cases ran"
finish

#!/usr/bin/env bash
# Tests for the spec checkers themselves (cfnspec.py, check_assembly.py), plus cfn-lint
# on the good template.  Runs setup.sh first.  One line per case, then "N passed, N failed";
# exit status 1 if any case failed.  Works from any cwd.
set -u

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
FIX="$HERE/fixtures"
CFNSPEC="$HERE/cfnspec.py"
ASSEMBLY="$HERE/check_assembly.py"
SYSPY=/usr/bin/python3   # Debian's python, which has jsonschema
PY=python3               # whatever python3 is first on PATH (pyenv here)

passed=0
failed=0
pass() { echo "ok - spec: $1"; passed=$((passed + 1)); }
fail() { echo "not ok - spec: $1: $2"; failed=$((failed + 1)); }

if ! setup_out="$("$HERE/setup.sh" 2>&1)"; then
    fail setup "setup.sh failed"
    printf '%s\n' "$setup_out" | tail -n 20 | sed 's/^/    /'
    echo "$passed passed, $failed failed"
    exit 1
fi

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

# check NAME EXPECTED_EXIT EXPECTED_SUBSTRING COMMAND...
# Passes when COMMAND exits with EXPECTED_EXIT and its output (stdout+stderr) contains
# EXPECTED_SUBSTRING.
check() {
    local name="$1" want_rc="$2" want_text="$3"
    shift 3
    local out rc
    out="$("$@" 2>&1)"
    rc=$?
    if [[ "$rc" == "$want_rc" && "$out" == *"$want_text"* ]]; then
        pass "$name"
    else
        fail "$name" "exit $rc (expected $want_rc); expected output to contain: $want_text"
        printf '%s\n' "$out" | head -n 15 | sed 's/^/    /'
    fi
}

# ---- cfnspec.py: templates that must pass ------------------------------------------------
check "cfnspec good.json" 0 "good.json (6 resources)" "$PY" "$CFNSPEC" "$FIX/good.json"
check "cfnspec good.json under /usr/bin/python3, no cache" 0 "good.json (6 resources)" \
    "$SYSPY" "$CFNSPEC" --no-cache "$FIX/good.json"
check "cfnspec good-lenient.json (coercions, Fn::If NoValue, custom, unions)" 0 "good-lenient.json (6 resources)" \
    "$PY" "$CFNSPEC" "$FIX/good-lenient.json"
check "cfnspec assembly-good template" 0 "Demo.template.json (1 resources)" \
    "$PY" "$CFNSPEC" "$FIX/assembly-good/Demo.template.json"

# ---- cfnspec.py: templates that must fail, each with its precise message -------------------
check "cfnspec misspelled property" 1 \
    "Resources.Fn.Properties.Runtim: unknown property 'Runtim' for AWS::Lambda::Function (did you mean 'Runtime'?)" \
    "$PY" "$CFNSPEC" "$FIX/bad-misspelled-property.json"
check "cfnspec missing required property" 1 \
    "Resources.Fn.Properties: missing required property 'Role' for AWS::Lambda::Function" \
    "$PY" "$CFNSPEC" "$FIX/bad-missing-required.json"
check "cfnspec wrong GetAtt attribute" 1 \
    "Outputs.Broken.Value.Fn::GetAtt: AWS::Lambda::Function 'Fn' has no attribute 'Nope'" \
    "$PY" "$CFNSPEC" "$FIX/bad-getatt.json"
check "cfnspec Ref to missing resource" 1 \
    "Resources.Permission.Properties.FunctionName.Ref: unknown target 'MissingFunction'" \
    "$PY" "$CFNSPEC" "$FIX/bad-ref-missing.json"
check "cfnspec cycle of three" 1 "Resources: cycle: A -> B -> C -> A" \
    "$PY" "$CFNSPEC" "$FIX/bad-cycle.json"
check "cfnspec wrong value type (object for integer)" 1 \
    "Resources.Fn.Properties.MemorySize: expected an integer, got object" \
    "$PY" "$CFNSPEC" "$FIX/bad-value-type.json"
check "cfnspec wrong value type (list for integer)" 1 \
    "Resources.Fn.Properties.Timeout: expected an integer, got list" \
    "$PY" "$CFNSPEC" "$FIX/bad-value-type.json"
check "cfnspec nested property type misspelling" 1 \
    "Resources.Fn.Properties.LoggingConfig.LogFormt: unknown property 'LogFormt' for LoggingConfig" \
    "$PY" "$CFNSPEC" "$FIX/bad-nested-property.json"
check "cfnspec Fn::Sub unresolved variable" 1 'unresolved variable ${Sufix}' \
    "$PY" "$CFNSPEC" "$FIX/bad-sub.json"
check "cfnspec DependsOn unknown resource" 1 "Resources.Topic.DependsOn[1]: unknown resource 'Ghost'" \
    "$PY" "$CFNSPEC" "$FIX/bad-references.json"
check "cfnspec unknown Condition" 1 "Resources.Topic.Condition: unknown condition 'NoSuchCondition'" \
    "$PY" "$CFNSPEC" "$FIX/bad-references.json"
check "cfnspec Fn::If unknown condition" 1 "DisplayName.Fn::If[0]: unknown condition 'AlsoMissing'" \
    "$PY" "$CFNSPEC" "$FIX/bad-references.json"
check "cfnspec Fn::Sub bad attribute" 1 "AWS::SNS::Topic 'Topic' has no attribute 'NoSuchAttr'" \
    "$PY" "$CFNSPEC" "$FIX/bad-references.json"
check "cfnspec unknown resource type" 1 "unknown resource type 'AWS::SQS::Queu'" \
    "$PY" "$CFNSPEC" "$FIX/bad-references.json"
check "cfnspec non-alphanumeric logical id" 1 "Resources.Bad_Id: name must be alphanumeric" \
    "$PY" "$CFNSPEC" "$FIX/bad-references.json"
check "cfnspec duplicate JSON key" 1 "Resources.Queue.Properties: duplicate key 'DelaySeconds'" \
    "$PY" "$CFNSPEC" "$FIX/bad-references.json"
check "cfnspec several files: good still reported ok" 1 "ok $FIX/good.json" \
    "$PY" "$CFNSPEC" "$FIX/bad-cycle.json" "$FIX/good.json"

# ---- cfnspec.py: limits, on generated templates ---------------------------------------------
# gen_queues N FILE [PADDING]: a template of N SQS queues; PADDING bytes of metadata make it big.
gen_queues() {
    "$PY" - "$@" <<'PYEOF'
import json, sys
n, path = int(sys.argv[1]), sys.argv[2]
pad = int(sys.argv[3]) if len(sys.argv) > 3 else 0
t = {"Resources": {"Q%d" % i: {"Type": "AWS::SQS::Queue"} for i in range(n)}}
if pad:
    t["Metadata"] = {"Padding": "x" * pad}
with open(path, "w") as f:
    json.dump(t, f)
PYEOF
}
gen_queues 500 "$TMP/500.json" && check "cfnspec 500 resources is fine" 0 "(500 resources)" \
    "$PY" "$CFNSPEC" "$TMP/500.json"
gen_queues 501 "$TMP/501.json" && check "cfnspec 501 resources" 1 "Resources: too many resources: 501 (max 500)" \
    "$PY" "$CFNSPEC" "$TMP/501.json"
gen_queues 1 "$TMP/big.json" 1000000 && check "cfnspec template over 1,000,000 bytes" 1 "bytes minified (max 1000000)" \
    "$PY" "$CFNSPEC" "$TMP/big.json"

# ---- cfn-lint agrees that the good template is good ----------------------------------------
if command -v cfn-lint >/dev/null; then
    out="$(cfn-lint "$FIX/good.json" 2>&1)"
    rc=$?
    # cfn-lint's exit status is a bit mask: 2 = errors, 4 = warnings, 8 = informational, 1 = fatal
    if (( (rc & 3) == 0 )); then
        pass "cfn-lint good.json: no errors (exit $rc)"
    else
        fail "cfn-lint good.json" "exit $rc"
        printf '%s\n' "$out" | head -n 15 | sed 's/^/    /'
    fi
else
    fail "cfn-lint good.json" "cfn-lint is not on PATH"
fi

# ---- check_assembly.py ----------------------------------------------------------------------
check "assembly good" 0 "ok $FIX/assembly-good (schema revision" \
    "$SYSPY" "$ASSEMBLY" "$FIX/assembly-good"
check "assembly wrong version" 1 'manifest.json: version: version "36.0.0" does not match the schema revision' \
    "$SYSPY" "$ASSEMBLY" "$FIX/assembly-bad"
check "assembly missing template file" 1 \
    'manifest.json: artifacts.Demo.properties.templateFile: file "Missing.template.json" does not exist' \
    "$SYSPY" "$ASSEMBLY" "$FIX/assembly-bad"
check "assembly missing asset source" 1 'Demo.assets.json: files.code.source.path: "asset.missing" does not exist' \
    "$SYSPY" "$ASSEMBLY" "$FIX/assembly-bad"
check "assembly asset manifest schema error" 1 "Demo.assets.json: files.code.destinations.current_account-current_region: 'bucketName' is a required property" \
    "$SYSPY" "$ASSEMBLY" "$FIX/assembly-bad"
check "assembly stack properties schema error" 1 "manifest.json: artifacts.Broken.properties: 'templateFile' is a required property" \
    "$SYSPY" "$ASSEMBLY" "$FIX/assembly-bad"
check "assembly unknown dependency" 1 'artifacts.Demo.dependencies[1]: unknown artifact "Ghost"' \
    "$SYSPY" "$ASSEMBLY" "$FIX/assembly-bad"
check "assembly no manifest" 1 "no manifest.json" "$SYSPY" "$ASSEMBLY" "$TMP"

echo "$passed passed, $failed failed"
(( failed == 0 ))

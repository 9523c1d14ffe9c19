#!/usr/bin/env bash
# The client configuration (amplify_outputs.json) validates against Amplify's
# published JSON Schema, version 1.5 (../shared/testdata/amplify-outputs/
# schema_v1.5.json), with Debian's python3-jsonschema (Draft 2020-12): the
# files written from the fixtures in test/clientconfig/ and every
# configuration the unit test builds (its CLIENTCONFIG_DUMP mode). Configs
# broken on purpose must be rejected, so the check can fail. The writer is
# the unit test binary's --write mode (the library's own code).
. "$(dirname "$0")/lib/common.bash"

BIN=$SYNTH_BUILD/test/test_clientconfig
FIX=$SYNTH_ROOT/test/clientconfig
SCHEMA=$SYNTH_ROOT/../shared/testdata/amplify-outputs/schema_v1.5.json

if [ -f "$SCHEMA" ]; then
	pass "the schema is at ../shared/testdata/amplify-outputs/schema_v1.5.json"
else
	fail "the schema is at ../shared/testdata/amplify-outputs/schema_v1.5.json"
	diag "missing: $SCHEMA"
	finish
fi
if ! "$SYSPY" -c 'from jsonschema import Draft202012Validator' 2>/dev/null; then
	export DEBIAN_FRONTEND=noninteractive
	{ apt-get install -y -q python3-jsonschema ||
		{ apt-get update -q && apt-get install -y -q python3-jsonschema; }; } >"$TMP/apt.log" 2>&1
fi
if "$SYSPY" -c 'from jsonschema import Draft202012Validator' 2>"$TMP/py.err"; then
	pass "python3-jsonschema (Draft202012Validator) for $SYSPY"
else
	fail "python3-jsonschema (Draft202012Validator) for $SYSPY"
	diag_file "$TMP/py.err"
	diag_file "$TMP/apt.log"
	finish
fi
if [ -x "$BIN" ]; then
	pass "the writer ($BIN) is built"
else
	fail "the writer ($BIN) is built"
	finish
fi

# validate FILE...: one line per file, "PASS file" or "FAIL file: why".
cat >"$TMP/validate.py" <<'PY'
import json, sys
from jsonschema import Draft202012Validator
schema = json.load(open(sys.argv[1]))
Draft202012Validator.check_schema(schema)
v = Draft202012Validator(schema)
for path in sys.argv[2:]:
    try:
        inst = json.load(open(path))
    except Exception as e:
        print("FAIL %s: not JSON: %s" % (path, e))
        continue
    errs = sorted(v.iter_errors(inst), key=lambda e: list(map(str, e.absolute_path)))
    if errs:
        print("FAIL %s: %s" % (path, "; ".join(
            "%s: %s" % ("/".join(map(str, e.absolute_path)) or "(root)", e.message[:200])
            for e in errs[:3])))
    else:
        print("PASS %s" % path)
PY
validate() {
	"$SYSPY" "$TMP/validate.py" "$SCHEMA" "$@" 2>&1
}

# --- files written from the fixtures --------------------------------------
O=$TMP/out
mkdir -p "$O"
write() { # NAME OUTPUTS [TEMPLATE]
	local name=$1
	shift
	if "$BIN" --write "$O/$name.json" "$@" 2>"$TMP/err"; then
		pass "$name: amplify_outputs.json written"
	else
		fail "$name: amplify_outputs.json written"
		diag_file "$TMP/err"
	fi
}
write todo "$FIX/todo.outputs.json"
write todo-deployed "$FIX/todo.describe-stacks.json" "$FIX/todo.template.json"
write social "$FIX/social.outputs.json"

if cmp -s "$O/todo.json" "$FIX/todo.expected.json"; then
	pass "todo: byte-identical to test/clientconfig/todo.expected.json"
else
	fail "todo: byte-identical to test/clientconfig/todo.expected.json"
	diff -u "$FIX/todo.expected.json" "$O/todo.json" 2>&1 | head -n 20 | sed 's/^/#     /'
fi
cp "$O/todo.json" "$TMP/todo.before"
write todo "$FIX/todo.outputs.json"
check "todo: written again over itself, byte-identical" cmp -s "$O/todo.json" "$TMP/todo.before"

# A failed build leaves the previous file as it was.
if "$BIN" --write "$O/todo.json" "$FIX/todo.describe-stacks.json" 2>"$TMP/err"; then
	fail "describe-stacks without the template: exit 1"
else
	pass "describe-stacks without the template: exit 1"
fi
check_contains "describe-stacks without the template: the message says what is missing" \
	"$(cat "$TMP/err")" 'has no "metadata" listing the outputs; give the root template too'
check "describe-stacks without the template: the previous file is kept" \
	cmp -s "$O/todo.json" "$TMP/todo.before"
check_eq "no temporary file left beside the outputs" \
	"$(find "$O" -name '*.tmp*' | wc -l)" 0

# --- every configuration the unit test builds -----------------------------
D=$TMP/dump
mkdir -p "$D"
if CLIENTCONFIG_DUMP=$D "$BIN" >"$TMP/unit.log" 2>&1; then
	pass "the unit test builds its configurations (CLIENTCONFIG_DUMP)"
else
	fail "the unit test builds its configurations (CLIENTCONFIG_DUMP)"
	grep -v '^ok ' "$TMP/unit.log" | head -n 20 | sed 's/^/#     /'
fi
n=$(find "$D" -name '*.json' | wc -l)
if [ "$n" -ge 10 ]; then
	pass "the unit test wrote $n configurations"
else
	fail "the unit test wrote $n configurations (expected at least 10)"
fi

# --- the schema check -----------------------------------------------------
while IFS= read -r line; do
	f=${line#* }
	f=${f%%: *}
	name=${f#"$TMP"/}
	case $line in
	PASS\ *) pass "schema v1.5 accepts $name" ;;
	*) fail "schema v1.5 accepts $name"; diag "$line" ;;
	esac
done < <(validate "$O"/*.json "$D"/*.json)

# --- configs broken on purpose are rejected -------------------------------
B=$TMP/bad
mkdir -p "$B"
"$SYSPY" - "$O/todo.json" "$B" <<'PY'
import copy, json, sys
good = json.load(open(sys.argv[1]))
def bad(name, edit):
    c = copy.deepcopy(good)
    edit(c)
    json.dump(c, open("%s/%s.json" % (sys.argv[2], name), "w"), indent=2)
bad("min-length-as-string", lambda c: c["auth"]["password_policy"].update(min_length="8"))
bad("min-length-too-small", lambda c: c["auth"]["password_policy"].update(min_length=5))
bad("version-1.4", lambda c: c.update(version="1.4"))
bad("no-user-pool-client", lambda c: c["auth"].pop("user_pool_client_id"))
bad("unknown-auth-type", lambda c: c["data"].update(default_authorization_type="BASIC"))
bad("unknown-section", lambda c: c.update(extras={}))
bad("bucket-without-name", lambda c: c["storage"]["buckets"][0].pop("name"))
bad("username-attributes-empty", lambda c: c["auth"].update(username_attributes=[]))
bad("no-version", lambda c: c.pop("version"))
PY
nbad=0
while IFS= read -r line; do
	f=${line#* }
	f=${f%%: *}
	name=$(basename "$f" .json)
	nbad=$((nbad + 1))
	case $line in
	FAIL\ *) pass "schema v1.5 rejects a config with $name" ;;
	*) fail "schema v1.5 rejects a config with $name"; diag "$line" ;;
	esac
done < <(validate "$B"/*.json)
check_eq "every broken config was checked" "$nbad" 9

# --- memory: the unit test under valgrind (not with the sanitizers) -------
if ! is_san; then
	if command -v valgrind >/dev/null; then
		if (cd "$TMP" && valgrind -q --leak-check=full --errors-for-leak-kinds=definite,indirect \
			--show-leak-kinds=definite,indirect --error-exitcode=9 "$BIN" >"$TMP/vg.out" 2>&1); then
			pass "the client config unit test is valgrind-clean"
		else
			fail "the client config unit test is valgrind-clean"
			grep -v '^ok ' "$TMP/vg.out" | head -n 30 | sed 's/^/#     /'
		fi
	else
		fail "valgrind is installed"
	fi
fi

finish

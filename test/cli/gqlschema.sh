#!/usr/bin/env bash
# The AppSync client schema and model introspection (constructs/data/gqlgen.c), checked
# by independent implementations: every schema under test/gql/ is generated
# (test/gql/gen.c, linked against the library under test) for each default
# authorization mode, then
#   - npm's `graphql` (the reference implementation, 16.x) builds it after
#     AppSync's scalars and directives and validateSchema finds no error;
#     its view of the root fields is checked for a few operations;
#   - each introspection validates, inside an amplify_outputs.json, against
#     the published schema_v1.5.json, and against the stricter shape in
#     test/gql/model_introspection.schema.json (python3-jsonschema).
. "$(dirname "$0")/lib/common.bash"

GQL=$SYNTH_ROOT/test/gql
OUTPUTS_SCHEMA=$SYNTH_ROOT/../shared/testdata/amplify-outputs/schema_v1.5.json
[ -f "$OUTPUTS_SCHEMA" ] || OUTPUTS_SCHEMA=$SYNTH_ROOT/testdata/amplify-outputs/schema_v1.5.json

if [ ! -f "$SYNTH_ROOT/test/.deps/gql/node_modules/graphql/package.json" ] ||
	! /usr/bin/python3 -c 'import jsonschema' 2>/dev/null; then
	bash "$GQL/setup.sh" >"$TMP/setup.log" 2>&1 || { fail "test/gql/setup.sh"; diag_file "$TMP/setup.log"; finish; }
fi

# the driver, built like the library under test (sanitizers included)
SAN=
nm "$SYNTH_BUILD/libsynth.a" 2>/dev/null | grep -q __asan_ && SAN="-fsanitize=address,undefined"
if cc -std=c11 -D_DEFAULT_SOURCE $SAN -I"$SYNTH_ROOT/include" -I"$SYNTH_ROOT/constructs/data" \
	$(pkg-config --cflags jansson) -o "$TMP/gen" "$GQL/gen.c" "$SYNTH_BUILD/libsynth.a" \
	$(pkg-config --libs jansson libzip libcrypto zlib) -lpthread 2>"$TMP/cc.log"; then
	pass "the driver builds against $SYNTH_BUILD/libsynth.a"
else
	fail "the driver builds"; diag_file "$TMP/cc.log"; finish
fi

sdls=() intros=()
# ours, and the schema parser's good fixtures (prefixed: names overlap)
schemas=("$GQL"/*.graphql "$SYNTH_ROOT"/test/graphql/{todo,blog,legacy}.graphql)
for schema in "${schemas[@]}"; do
	name=$(basename "$schema" .graphql)
	case $schema in */test/graphql/*) name=parser-$name ;; esac
	for auth in AMAZON_COGNITO_USER_POOLS API_KEY AWS_IAM OPENID_CONNECT; do
		out=$TMP/$name.$auth
		if "$TMP/gen" "$schema" "$auth" "$out.graphql" "$out.json" 2>"$out.err"; then
			sdls+=("$out.graphql")
		else
			fail "$name ($auth): generated"; diag_file "$out.err"
		fi
	done
	intros+=("$TMP/$name.API_KEY.json")
done
check_eq "every schema generated for every default mode" "${#sdls[@]}" $(( ${#schemas[@]} * 4 ))

# graphql-js builds every SDL and finds no schema error
node "$GQL/validate.mjs" "${sdls[@]}" >"$TMP/validate.out" 2>&1
rc=$?
okcount=$(grep -c ': ok$' "$TMP/validate.out")
check_eq "graphql 16 buildSchema + validateSchema accept all ${#sdls[@]} schemas" "$rc/$okcount" "0/${#sdls[@]}"
[ $rc = 0 ] || diag "$(grep ': error' "$TMP/validate.out" | head -20)"

# the root fields as graphql-js sees them
node "$GQL/validate.mjs" "$TMP/todo.AMAZON_COGNITO_USER_POOLS.graphql" >"$TMP/todo.out" 2>&1
todo=$(cat "$TMP/todo.out")
check_contains "graphql-js: listTodos(filter, limit, nextToken)" "$todo" \
	"Query.listTodos(filter: ModelTodoFilterInput, limit: Int, nextToken: String): ModelTodoConnection"
check_contains "graphql-js: getTodo(id: ID!)" "$todo" "Query.getTodo(id: ID!): Todo"
check_contains "graphql-js: createTodo(input: CreateTodoInput!, condition)" "$todo" \
	"Mutation.createTodo(input: CreateTodoInput!, condition: ModelTodoConditionInput): Todo"
check_contains "graphql-js: onCreateTodo(filter, owner) @aws_subscribe" "$todo" \
	"Subscription.onCreateTodo(filter: ModelSubscriptionTodoFilterInput, owner: String): Todo @aws_subscribe"
node "$GQL/validate.mjs" "$TMP/keys.API_KEY.graphql" >"$TMP/keys.out" 2>&1
check_contains "graphql-js: a composite key's list query" "$(cat "$TMP/keys.out")" \
	"Query.listEmployees(employeeId: ID, departmentHired: ModelEmployeePrimaryCompositeKeyConditionInput, filter: ModelEmployeeFilterInput, limit: Int, nextToken: String, sortDirection: ModelSortDirection): ModelEmployeeConnection @aws_cognito_user_pools"
node "$GQL/validate.mjs" "$TMP/auth.AMAZON_COGNITO_USER_POOLS.graphql" >"$TMP/auth.out" 2>&1
check_contains "graphql-js: per-mode directives on a type" "$(cat "$TMP/auth.out")" \
	"type Doc @aws_api_key @aws_iam @aws_oidc @aws_cognito_user_pools"

# a schema graphql-js must refuse, so the check above can fail
printf 'type Query { a: Missing }\n' >"$TMP/broken.graphql"
node "$GQL/validate.mjs" "$TMP/broken.graphql" >"$TMP/broken.out" 2>&1
check_eq "graphql-js refuses a broken schema (the check can fail)" "$?" 1

# introspection: the published amplify_outputs schema and the stricter shape
/usr/bin/python3 "$GQL/check_introspection.py" "$OUTPUTS_SCHEMA" "${intros[@]}" >"$TMP/intro.out" 2>&1
rc=$?
check_eq "every model introspection validates (${#intros[@]} files)" "$rc/$(grep -c ': ok$' "$TMP/intro.out")" "0/${#intros[@]}"
[ $rc = 0 ] || diag "$(grep ': error' "$TMP/intro.out" | head -20)"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); d["models"]["Todo"]["fields"]["id"]["type"]="Ident"; json.dump(d,open(sys.argv[2],"w"))' \
	"$TMP/todo.API_KEY.json" "$TMP/bad-intro.json"
/usr/bin/python3 "$GQL/check_introspection.py" "$OUTPUTS_SCHEMA" "$TMP/bad-intro.json" >"$TMP/bad.out" 2>&1
check_eq "a wrong field type is refused (the check can fail)" "$?" 1

# a generation error: file:line:col, non-zero exit, nothing written
printf 'type Todo @model { a: String }\ninput CreateTodoInput { a: String }\n' >"$TMP/clash.graphql"
"$TMP/gen" "$TMP/clash.graphql" API_KEY "$TMP/clash.out" "$TMP/clash.json" 2>"$TMP/clash.err"
check_eq "a clash exits 1" "$?" 1
check_contains "a clash names file:line:col and both sides" "$(cat "$TMP/clash.err")" \
	"clash.graphql:2:7: type 'CreateTodoInput' clashes with the input Amplify generates for model 'Todo'"
check "a clash writes nothing" test ! -e "$TMP/clash.out"

# determinism: the same schema twice, the same bytes
"$TMP/gen" "$GQL/blog.graphql" API_KEY "$TMP/d1.graphql" "$TMP/d1.json" &&
	"$TMP/gen" "$GQL/blog.graphql" API_KEY "$TMP/d2.graphql" "$TMP/d2.json"
check "two runs write the same SDL" cmp -s "$TMP/d1.graphql" "$TMP/d2.graphql"
check "and the same introspection" cmp -s "$TMP/d1.json" "$TMP/d2.json"

# valgrind (on the normal build: ASan and valgrind do not mix)
if [ -z "$SAN" ] && command -v valgrind >/dev/null; then
	valgrind -q --leak-check=full --errors-for-leak-kinds=definite,indirect --error-exitcode=9 \
		"$TMP/gen" "$GQL/blog.graphql" AWS_IAM "$TMP/v.graphql" "$TMP/v.json" 2>"$TMP/valgrind.log"
	check_eq "valgrind: no error, no leak generating blog.graphql" "$?" 0
	[ -s "$TMP/valgrind.log" ] && diag_file "$TMP/valgrind.log"
fi

finish

#!/usr/bin/env bash
# The client schema (constructs/data/gqlgen.c) and the resolvers (constructs/data/gqlresolvers.c)
# agree: each resolver names a field of the schema, with the arguments it
# reads (test/gql/agree.mjs, graphql-js). AppSync refuses a resolver on a
# field the schema lacks, so a disagreement would fail a deploy.
. "$(dirname "$0")/lib/common.bash"

GQL=$SYNTH_ROOT/test/gql
SAN=; is_san && SAN="-fsanitize=address,undefined"
if ! bash "$GQL/setup.sh" >"$TMP/setup.log" 2>&1; then
	fail "test/gql/setup.sh installs graphql"; diag_file "$TMP/setup.log"; finish
fi
for t in gen dump; do
	src=$GQL/gen.c; [ $t = dump ] && src=$SYNTH_ROOT/test/resolvers/dump.c
	# shellcheck disable=SC2046
	if ! cc -std=c11 -D_DEFAULT_SOURCE $SAN -I"$SYNTH_ROOT/include" -I"$SYNTH_ROOT/constructs/data" \
		$(pkg-config --cflags jansson) -o "$TMP/$t" "$src" "$SYNTH_BUILD/libsynth.a" \
		$(pkg-config --libs jansson libzip libcrypto zlib) -lpthread 2>"$TMP/cc.log"; then
		fail "build $t"; diag_file "$TMP/cc.log"; finish
	fi
done
n=0
for s in "$GQL"/*.graphql "$SYNTH_ROOT"/test/resolvers/*.graphql "$SYNTH_ROOT"/samples/*/data/schema.graphql; do
	[ -f "$s" ] || continue
	b=$(basename "$(dirname "$s")")-$(basename "$s" .graphql)
	# Schemas one generator refuses (by design) are the unit tests' business.
	"$TMP/gen" "$s" AMAZON_COGNITO_USER_POOLS "$TMP/$b.graphql" "$TMP/$b.json" 2>/dev/null || continue
	"$TMP/dump" "$s" AMAZON_COGNITO_USER_POOLS >"$TMP/$b.res.json" 2>/dev/null || continue
	n=$((n + 1))
	node "$GQL/agree.mjs" "$TMP/$b.graphql" "$TMP/$b.res.json" >"$TMP/$b.out" 2>&1
	rc=$?
	grep -E '^(ok|not ok) - ' "$TMP/$b.out"
	T_PASSED=$((T_PASSED + $(grep -c '^ok - ' "$TMP/$b.out")))
	T_FAILED=$((T_FAILED + $(grep -c '^not ok - ' "$TMP/$b.out")))
	if [ $rc -ne 0 ] && ! grep -q '^not ok' "$TMP/$b.out"; then
		fail "$b: agree.mjs ran"; diag_file "$TMP/$b.out"
	fi
done
check "at least 10 schemas were compared" test "$n" -ge 10
finish

#!/usr/bin/env bash
# The APPSYNC_JS resolvers (constructs/data/gqlresolvers.c, constructs/data/js/):
# each source file passes `node --check`; every module generated
# for the test schemas (one per model, or split: test/resolvers/wide.graphql)
# is written to a .mjs file and checked by `node --check`, and every
# resolver is listed in its module; then the resolvers of test/resolvers/app.graphql are
# executed in node (test/resolvers/harness.mjs: a fake @aws-appsync/utils
# and an in-memory DynamoDB; each call imports the module that ships for
# the resolver and passes ctx.info) and their behaviour asserted: owner, public,
# private, groups and groupsField rules, field-level auth, composite keys,
# index queries, relations, subscriptions.
source "$(dirname "$0")/lib/common.bash"

if ! command -v node >/dev/null 2>&1; then
	fail "node is not installed: the resolvers cannot be checked or executed"
	finish
fi

# The JavaScript the modules are made of (constructs/data/js/*.mjs,
# embedded by scripts/embed.sh) parses on its own.
for f in "$SYNTH_ROOT"/constructs/data/js/*.mjs; do
	if node --check "$f" 2>"$TMP/js.err"; then
		pass "node --check constructs/data/js/$(basename "$f")"
	else
		fail "node --check constructs/data/js/$(basename "$f")"
		diag_file "$TMP/js.err" 5
	fi
done

# The dump tool, built against the library under test (with its sanitizer
# flags when the library was built with them).
SAN=
if nm "$SYNTH_BUILD/libsynth.a" 2>/dev/null | grep -q __asan_; then
	SAN="-fsanitize=address,undefined"
fi
DUMP=$TMP/dump
# shellcheck disable=SC2046
if ! cc -std=c11 -D_DEFAULT_SOURCE $SAN -I"$SYNTH_ROOT/constructs/data" -I"$SYNTH_ROOT/include" \
	$(pkg-config --cflags jansson) -o "$DUMP" "$SYNTH_ROOT/test/resolvers/dump.c" \
	"$SYNTH_BUILD/libsynth.a" $(pkg-config --libs jansson libzip libcrypto zlib) 2>"$TMP/cc.err"; then
	fail "build test/resolvers/dump.c"
	diag_file "$TMP/cc.err"
	finish
fi
pass "build test/resolvers/dump.c"

# write_mjs JSON DIR: each module's code as DIR/<module>.mjs; prints the
# number of resolvers, of modules, and of resolvers whose module does not
# list them in configs().
write_mjs() {
	mkdir -p "$2"
	node -e '
		const fs = require("fs");
		const d = JSON.parse(fs.readFileSync(process.argv[1], "utf8"));
		for (const m of d.modules)
			fs.writeFileSync(`${process.argv[2]}/${m.name}.mjs`, m.code);
		const lost = d.resolvers.filter((r) => !(d.modules[r.module] ?? { code: "" }).code
			.includes(`\n    "${r.typeName}.${r.fieldName}": {`));
		for (const r of lost) console.error(`${r.typeName}.${r.fieldName}: not in its module`);
		console.log(`${d.resolvers.length} ${d.modules.length} ${lost.length}`);
	' "$1" "$2"
}

for schema in "$SYNTH_ROOT"/test/resolvers/*.graphql "$SYNTH_ROOT"/test/graphql/blog.graphql \
	"$SYNTH_ROOT"/test/graphql/legacy.graphql; do
	name=$(basename "$schema" .graphql)
	out=$TMP/check-$name
	mkdir -p "$out"
	if ! "$DUMP" "$schema" >"$out/resolvers.json" 2>"$out/err"; then
		fail "$name: resolvers generated"
		diag_file "$out/err"
		continue
	fi
	read -r n nm lost <<<"$(write_mjs "$out/resolvers.json" "$out/resolvers" 2>"$out/lost")"
	check_eq "$name: each of the $n resolvers is listed in its module" "${lost:-?}" 0
	[ "${lost:-0}" = 0 ] || diag_file "$out/lost"
	bad=0
	for f in "$out"/resolvers/*.mjs; do
		if ! node --check "$f" 2>"$out/check.err"; then
			bad=$((bad + 1))
			diag "$(basename "$f"):"
			diag_file "$out/check.err" 5
		fi
	done
	check_eq "$name: node --check passes on all $nm modules" "$bad" 0
done

# Execute app.graphql's resolvers.
H=$TMP/harness
mkdir -p "$H"
if "$DUMP" "$SYNTH_ROOT/test/resolvers/app.graphql" >"$H/resolvers.json" 2>"$H/err"; then
	write_mjs "$H/resolvers.json" "$H/resolvers" >/dev/null
	node "$SYNTH_ROOT/test/resolvers/harness.mjs" "$H" >"$H/out" 2>&1
	rc=$?
	grep -E '^(ok|not ok) - ' "$H/out" | while IFS= read -r line; do echo "$line"; done
	T_PASSED=$((T_PASSED + $(grep -c '^ok - ' "$H/out")))
	T_FAILED=$((T_FAILED + $(grep -c '^not ok - ' "$H/out")))
	grep '^#' "$H/out" | sed 's/^/#/'
	if [ "$rc" -ne 0 ] && ! grep -q '^not ok - ' "$H/out"; then
		fail "the harness ran to the end (exit $rc)"
		diag_file "$H/out" 30
	fi
else
	fail "app.graphql: resolvers generated"
	diag_file "$H/err"
fi

finish

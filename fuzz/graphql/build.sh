#!/usr/bin/env bash
# Builds the libFuzzer target of the GraphQL schema parser into
# build/fuzz/fuzz_graphql (clang, ASan + UBSan + libFuzzer).
#   fuzz/graphql/build.sh               build only
#   fuzz/graphql/build.sh run [SECONDS] build, then fuzz (default 180 s) from
#                                       the seed corpus; new inputs go to
#                                       build/fuzz/graphql-corpus, crashes to
#                                       build/fuzz/graphql-artifacts/
# If -fsanitize=fuzzer fails to link: apt-get install -y libclang-rt-14-dev
set -eu
cd "$(dirname "$0")/../.."
CC=${CC:-clang}
OUT=build/fuzz
mkdir -p "$OUT"
# shellcheck disable=SC2046
"$CC" -std=c11 -D_DEFAULT_SOURCE -g -O1 -fno-omit-frame-pointer \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	-Iinclude -Ilib/util -Iconstructs/data $(pkg-config --cflags jansson libcrypto) \
	fuzz/graphql/fuzz_graphql.c constructs/data/graphql.c constructs/data/gql_lex.c \
	constructs/data/gql_parse.c constructs/data/gql_check.c lib/util/*.c \
	$(pkg-config --libs jansson libcrypto) -lpthread -o "$OUT/fuzz_graphql"
echo "built $OUT/fuzz_graphql"
if [ "${1:-}" = run ]; then
	secs=${2:-180}
	mkdir -p "$OUT/graphql-corpus" "$OUT/graphql-artifacts"
	exec "$OUT/fuzz_graphql" -max_total_time="$secs" -max_len=4096 -timeout=10 \
		-dict=fuzz/graphql/graphql.dict -print_final_stats=1 \
		-artifact_prefix="$OUT/graphql-artifacts/" \
		"$OUT/graphql-corpus" fuzz/graphql/corpus
fi

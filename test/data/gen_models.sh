#!/usr/bin/env bash
# gen_models.sh N DIR: a backend in DIR (backend.c + data/schema.graphql)
# whose schema has N models: each with an owner rule and a public API key
# read, an @index, and (every other model) a hasMany to the next one.
# Used by test/cli/data.sh and the benchmark.
set -eu
n=$1 dir=$2
mkdir -p "$dir/data"
cat >"$dir/backend.c" <<'C'
#include <synth.h>

int main(int argc, char **argv)
{
	synth_backend *b;
	if (synth_backend_new(&b, argc, argv) < 0)
		return synth_backend_fail(NULL);
	synth_define_auth(b, NULL);
	synth_define_data(b, NULL);
	return synth_backend_main(b);
}
C
{
	for ((i = 0; i < n; i++)); do
		m=$(printf 'Item%03d' "$i")
		next=$(printf 'Item%03d' $((i + 1)))
		echo "type $m @model @auth(rules: [{ allow: owner }, { allow: public, operations: [read] }]) {"
		echo "  name: String!"
		echo "  kind: String @index(name: \"byKind$i\", sortKeyFields: [\"name\"], queryField: \"items${i}ByKind\")"
		echo "  count: Int"
		if ((i % 2 == 0 && i + 1 < n)); then
			echo "  children: [$next] @hasMany"
		fi
		if ((i % 2 == 1)); then
			prev=$(printf 'Item%03d' $((i - 1)))
			echo "  parent: $prev @belongsTo"
		fi
		echo "}"
		echo
	done
} >"$dir/data/schema.graphql"

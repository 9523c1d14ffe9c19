#!/usr/bin/env bash
# bench/data.sh: define_data at scale (`make bench`). Not a timed test: it
# prints medians with min/max over repeated runs and a PASS/MISS against
# each target, in the style of bench/run.sh.
#
#   1. samples/todo (auth, storage, functions, a data schema), compiled once:
#      its .synth/backend run directly, and the whole `synth` command with
#      the build cache warm. Target: the command under 20 ms.
#   2. a generated schema of MODELS models (test/data/gen_models.sh: owner
#      and public rules, an @index and relations on each): the backend alone
#      and the `synth` command, cache warm. Target: the command under 500 ms.
#   Each row also gives the peak RSS, the templates and the resolver code
#   files written, and how large the assembly is.
#
# Environment: BUILD (default build), RUNS (todo runs, default 21),
# GEN_RUNS (200-model runs, default 9), MODELS (default 200), BENCH_TMPDIR
# (where the work goes; default a tmpfs, /dev/shm, when there is one, so the
# figures measure the library rather than the disk).
#
# Wall times come from bench/runbench.c (fork + exec + wait4: monotonic
# clock around the child's whole life, ru_maxrss for the peak RSS).
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
BUILD=${BUILD:-build}
RUNS=${RUNS:-21}
GEN_RUNS=${GEN_RUNS:-9}
MODELS=${MODELS:-200}
CTX='{"synth:type":"branch","synth:name":"main"}'
T_START=$(date +%s)

say() { printf '%s\n' "$*" >&2; }

if [ ! -x "$BUILD/synth" ] || [ ! -f "$BUILD/libsynth.a" ] || ! make -q BUILD="$BUILD" all 2>/dev/null; then
	say "bench/data: building ($BUILD)"
	make -s BUILD="$BUILD" all >&2
fi
SYNTH=$ROOT/$BUILD/synth

pick_tmp() {
	if [ -n "${BENCH_TMPDIR:-}" ]; then echo "$BENCH_TMPDIR"; return; fi
	if [ -d /dev/shm ] && [ -w /dev/shm ] &&
		[ "$(stat -f -c %T /dev/shm 2>/dev/null)" = tmpfs ] &&
		[ "$(df -Pk /dev/shm | awk 'NR==2 {print $4}')" -gt 524288 ]; then
		echo /dev/shm
	else
		echo "${TMPDIR:-/tmp}"
	fi
}
T=$(mktemp -d "$(pick_tmp)/synth-bench-data.XXXXXX")
trap 'rm -rf "$T"' EXIT
trap 'exit 130' INT TERM
TMPFS=$(stat -f -c %T "$T" 2>/dev/null || echo '?')

mkdir -p "$T/bin"
cc -std=c11 -O2 -Wall -Wextra -o "$T/bin/runbench" bench/runbench.c
RB=$T/bin/runbench

declare -A R # "label.key" -> value
parse() {
	local p=$1 kv words
	read -ra words <<<"$2"
	for kv in "${words[@]}"; do R[$p.${kv%%=*}]=${kv#*=}; done
}
bench() { # bench LABEL RUNS WARMUPS DIR CMD... (env set by the caller)
	local p=$1 n=$2 w=$3 d=$4
	shift 4
	parse "$p" "$("$RB" -n "$n" -w "$w" -C "$d" -l "$p" -- "$@")"
}
verdict() { awk "BEGIN { exit !($1) }" && echo PASS || echo MISS; }
recompiled() { # recompiled DIR STAMP: whether the cached backend changed
	[ "$(stat -c %Y.%s "$1/.synth/backend")" != "$2" ]
}
describe() { # describe LABEL DIR: what the assembly holds
	local d=$2/cdk.out
	R[$1.templates]=$(find "$d" -name '*.template.json' | wc -l)
	R[$1.code_files]=$(find "$d" -name 'asset.*.js' | wc -l)
	R[$1.template_kb]=$(cat "$d"/*.template.json | wc -c | awk '{printf "%d", $1 / 1024}')
	R[$1.out_kb]=$(du -sk "$d" | cut -f1)
}

# --- 1. samples/todo --------------------------------------------------------
say "bench/data: 1/2 samples/todo"
cp -r samples/todo "$T/todo"
rm -rf "$T/todo/cdk.out" "$T/todo/.synth"
(cd "$T/todo" && "$SYNTH" --branch main -q)
stamp=$(stat -c %Y.%s "$T/todo/.synth/backend")
CDK_OUTDIR=$T/todo/out CDK_CONTEXT_JSON=$CTX bench todo_backend "$RUNS" 2 "$T/todo" ./.synth/backend
bench todo_synth "$RUNS" 2 "$T/todo" "$SYNTH" --branch main -q
recompiled "$T/todo" "$stamp" && say "bench/data: warning: synth recompiled samples/todo during the warm runs"
describe todo "$T/todo"

# --- 2. MODELS models --------------------------------------------------------
say "bench/data: 2/2 $MODELS models"
G=$T/models
bash test/data/gen_models.sh "$MODELS" "$G"
t0=$(date +%s%N)
(cd "$G" && "$SYNTH" --branch main -q)
R[gen.first_ms]=$(awk "BEGIN { printf \"%.1f\", ($(date +%s%N) - $t0) / 1e6 }")
stamp=$(stat -c %Y.%s "$G/.synth/backend")
CDK_OUTDIR=$G/out CDK_CONTEXT_JSON=$CTX bench gen_backend "$GEN_RUNS" 1 "$G" ./.synth/backend
bench gen_synth "$GEN_RUNS" 1 "$G" "$SYNTH" --branch main -q
recompiled "$G" "$stamp" && say "bench/data: warning: synth recompiled the $MODELS-model backend during the warm runs"
describe gen "$G"

R[todo_synth.verdict]=$(verdict "${R[todo_synth.med_ms]} < 20")
R[gen_synth.verdict]=$(verdict "${R[gen_synth.med_ms]} < 500")

# --- table ---------------------------------------------------------------------
cpu=$(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo 2>/dev/null || echo '?')
row() { printf '%-44s %9s %9s %9s  %-4s %-9s %s\n' "$@"; }
ms() { printf '%.2f' "$1"; }
line() { # line LABEL KEY TARGET VERDICT
	row "$1" "$(ms "${R[$2.med_ms]}")" "$(ms "${R[$2.min_ms]}")" "$(ms "${R[$2.max_ms]}")" ms "$3" "$4"
}
echo
echo "libsynth define_data benchmark: $(date -u +%Y-%m-%dT%H:%M:%SZ), $cpu, $(nproc) cores"
echo "scratch: $T ($TMPFS); todo runs=$RUNS, $MODELS-model runs=$GEN_RUNS"
echo
row measure median min max unit target result
row ------- ------ --- --- ---- ------ ------
line "todo: .synth/backend (compiled)" todo_backend "" info
line "todo: synth -q, cache warm" todo_synth "< 20 ms" "${R[todo_synth.verdict]}"
line "$MODELS models: .synth/backend (compiled)" gen_backend "" info
line "$MODELS models: synth -q, cache warm" gen_synth "< 500 ms" "${R[gen_synth.verdict]}"
row "$MODELS models: first synth (compiles)" "${R[gen.first_ms]}" "" "" ms "" "info (1 run)"
echo
for k in todo gen; do
	label=todo
	[ $k = gen ] && label="$MODELS models"
	b=${k}_backend s=${k}_synth
	printf '%s: peak RSS %s KiB (backend) / %s KiB (synth); %s templates (%s KiB), %s resolver code files, assembly %s KiB\n' \
		"$label" "${R[$b.rss_med_kb]}" "${R[$s.rss_med_kb]}" "${R[$k.templates]}" "${R[$k.template_kb]}" \
		"${R[$k.code_files]}" "${R[$k.out_kb]}"
done
echo "finished in $(($(date +%s) - T_START)) s"

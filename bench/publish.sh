#!/usr/bin/env bash
# bench/publish.sh: `synth publish` against Debian's `aws` CLI, uploading the
# same bytes to the same local S3 (s3rver behind the SigV4-checking proxy of
# test/peers). A benchmark, not a timed test: medians with min/max over
# repeated runs, MB/s, the ratio ours/aws (target: >= 1.00, at least the aws
# CLI's throughput), and each client's CPU time (user+sys). The peers run on
# the same cores as the clients and take most of the CPU, so their CPU time
# during each run is shown too.
#
#   1. 100 assets of 100 KB (random, incompressible), to an empty bucket:
#      `synth publish --out DIR` (HEAD each, then PutObject) against
#      `aws s3 sync DIR/files s3://bucket` (ListObjectsV2, then PutObject)
#      and `aws s3 cp --recursive` (info). Then the second publish, where
#      everything is already there: synth HEADs each asset and skips it, aws
#      sync lists the bucket and skips.
#   2. one asset of 200 MB (random): `synth publish` (multipart, 8 MiB parts)
#      against `aws s3 cp FILE s3://bucket/key` (its defaults: 8 MiB parts,
#      10 requests at once).
#   3. case 1 again with LATENCY_MS (default 30) added to every S3 request
#      (the peers' "slow" fault on every call: the server waits before
#      answering, using no CPU), a model of a real S3 endpoint's per-request
#      latency, which the local peers (~1 ms) hide: it shows what the number
#      of round trips and the concurrency cost.
#   Info rows: synth publish --parallel 10 (the aws CLI's concurrency), and
#   the aws CLI's start-up alone (aws --version).
#
# Each run gets a fresh bucket (created and removed on s3rver directly,
# outside the timing); the assembly is written by bench/publish/mkasm.py with
# a literal bucket name, so synth makes no STS call. Runs alternate which
# client goes first. Every run is checked through the proxy's calls log (the
# right number of uploads, no errors) and, for the big object, its size.
#
# Environment: BUILD (default build), SMALL_RUNS (default 5), BIG_RUNS
# (default 7), SMALL_N (files, default 100), SMALL_KB (default 100), BIG_MB
# (default 200), LATENCY_MS (default 30; 0 skips step 3), LAT_RUNS (default
# 3), EXTRA=0 to skip the info rows, AWS_CLI (default
# /usr/bin/aws), BENCH_TMPDIR (default /dev/shm when it has room, so that the
# disk is not measured), PUBLISH_JSON=FILE to write the figures as JSON.
# Everything (peers, their data, the 200 MB file) lives in one temporary
# directory, removed on exit.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
BUILD=${BUILD:-build}
SMALL_RUNS=${SMALL_RUNS:-5}
BIG_RUNS=${BIG_RUNS:-7}
SMALL_N=${SMALL_N:-100}
SMALL_KB=${SMALL_KB:-100}
BIG_MB=${BIG_MB:-200}
EXTRA=${EXTRA:-1}
LATENCY_MS=${LATENCY_MS:-30}
LAT_RUNS=${LAT_RUNS:-3}
AWS=${AWS_CLI:-/usr/bin/aws}
PY=/usr/bin/python3
T_START=$(date +%s)

say() { printf '%s\n' "$*" >&2; }
die() { say "bench/publish: $*"; exit 1; }

# --- tools ------------------------------------------------------------------
apt_install() { # best effort
	command -v apt-get >/dev/null && [ "$(id -u)" = 0 ] || return 1
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >/dev/null 2>&1 && return 0
	apt-get update -q >/dev/null 2>&1 || true
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >/dev/null 2>&1
}
[ -x /usr/bin/time ] || apt_install time || die "needs GNU time (/usr/bin/time): apt-get install time"
command -v curl >/dev/null || apt_install curl || die "needs curl"
bash test/peers/setup.sh >/dev/null 2>&1 || die "test/peers/setup.sh failed (s3rver, python3-botocore, awscli)"
[ -x "$AWS" ] || die "no aws CLI at $AWS"
if [ ! -x "$BUILD/synth" ] || ! make -q BUILD="$BUILD" all 2>/dev/null; then
	say "bench/publish: building ($BUILD)"
	make -s BUILD="$BUILD" all >&2
fi
SYNTH=$ROOT/$BUILD/synth

# --- scratch and peers ------------------------------------------------------
need_kb=$(((BIG_MB * 4 + SMALL_N * SMALL_KB * 8 / 1024 + 300) * 1024))
pick_tmp() {
	if [ -n "${BENCH_TMPDIR:-}" ]; then echo "$BENCH_TMPDIR"; return; fi
	if [ -d /dev/shm ] && [ -w /dev/shm ] &&
		[ "$(stat -f -c %T /dev/shm 2>/dev/null)" = tmpfs ] &&
		[ "$(df -Pk /dev/shm | awk 'NR==2 {print $4}')" -gt "$need_kb" ]; then
		echo /dev/shm
	else
		echo "${TMPDIR:-/tmp}"
	fi
}
T=$(mktemp -d "$(pick_tmp)/synth-bench-publish.XXXXXX")
export PEERS_DIR=$T/peers
cleanup() {
	[ -f "$PEERS_DIR/env" ] && bash "$ROOT/test/peers/peers.sh" stop >/dev/null 2>&1
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
[ "$(df -Pk "$T" | awk 'NR==2 {print $4}')" -gt "$need_kb" ] ||
	die "$T has less than $((need_kb / 1024)) MB free"

mkdir -p "$PEERS_DIR"
env_lines=$(bash test/peers/peers.sh start 2>"$T/peers.err") || { cat "$T/peers.err" >&2; die "the peers did not start"; }
eval "$env_lines"
S3=$AWS_ENDPOINT_URL_S3
mkdir -p "$T/aws"
: >"$T/aws/config"
: >"$T/aws/credentials"
export AWS_CONFIG_FILE=$T/aws/config AWS_SHARED_CREDENTIALS_FILE=$T/aws/credentials
export AWS_PAGER="" AWS_DEFAULT_REGION=$AWS_REGION AWS_EC2_METADATA_DISABLED=true
unset AWS_CA_BUNDLE AWS_MAX_ATTEMPTS AWS_RETRY_MODE
PIDS=("$(cat "$PEERS_DIR/s3rver.pid")" "$(cat "$PEERS_DIR/s3proxy.pid")")
HZ=$(getconf CLK_TCK)

# --- data -------------------------------------------------------------------
say "bench/publish: writing $SMALL_N x $SMALL_KB KB and $BIG_MB MB of random data in $T"
SMALL=$T/small BIG=$T/big
mkdir -p "$SMALL/files" "$BIG/files" "$T/warm/files"
for ((i = 1; i <= SMALL_N; i++)); do
	printf -v f '%s/files/f%04d.bin' "$SMALL" "$i"
	head -c $((SMALL_KB * 1024)) /dev/urandom >"$f"
done
head -c $((BIG_MB * 1024 * 1024)) /dev/urandom >"$BIG/files/big.bin"
head -c 4096 /dev/urandom >"$T/warm/files/w.bin"
SMALL_BYTES=$((SMALL_N * SMALL_KB * 1024))
BIG_BYTES=$((BIG_MB * 1024 * 1024))
small_list=()
for ((i = 1; i <= SMALL_N; i++)); do printf -v f 'files/f%04d.bin' "$i"; small_list+=("$f"); done
asm() { # asm DIR BUCKET FILE...: (re)write the assembly's manifests
	local d=$1
	shift
	(cd "$d" && "$PY" "$ROOT/bench/publish/mkasm.py" . "$@")
}

# --- helpers ----------------------------------------------------------------
mkbucket() {
	[ "$(curl -sS -o /dev/null -w '%{http_code}' -X PUT "$PEERS_S3RVER_URL/$1")" = 200 ] ||
		die "cannot create the bucket $1"
}
rmobject() { curl -sS -o /dev/null -X DELETE "$PEERS_S3RVER_URL/$1/$2"; }
rmbucket() { curl -sS -o /dev/null -X DELETE "$PEERS_S3RVER_URL/$1"; }
obj_size() {
	curl -sS -I "$PEERS_S3RVER_URL/$1/$2" | tr -d '\r' |
		awk 'tolower($1) == "content-length:" {print $2}'
}
peers_ticks() { # CPU ticks (user+sys) of s3rver + the proxy so far
	local p s=0 f
	for p in "${PIDS[@]}"; do
		f=$(sed 's/.*) //' "/proc/$p/stat") || die "a peer died (pid $p)"
		s=$((s + $(awk '{print $12 + $13}' <<<"$f")))
	done
	echo "$s"
}
declare -A W C U S P N INF LAST
# run KEY CMD...: one timed run; wall (ms, monotonic via date), the client's
# user/sys CPU (GNU time), the peers' CPU over the run, the proxy's calls.
run() {
	local key=$1
	shift
	curl -sS -o /dev/null -X DELETE "$PEERS_ADMIN_S3/calls"
	local p0 p1 t0 t1 u s
	p0=$(peers_ticks)
	t0=$(date +%s%N)
	if ! /usr/bin/time -f '%e %U %S' -o "$T/time.out" "$@" >"$T/cmd.out" 2>&1; then
		say "bench/publish: $key failed: $*"
		tail -n 20 "$T/cmd.out" >&2
		exit 1
	fi
	t1=$(date +%s%N)
	p1=$(peers_ticks)
	read -r _ u s <"$T/time.out"
	LAST=()
	local kv
	for kv in $(curl -sS "$PEERS_ADMIN_S3/calls" | "$PY" "$ROOT/bench/publish/calls.py"); do
		LAST[${kv%%=*}]=${kv#*=}
	done
	[ "${LAST[errors]}" = 0 ] || { say "bench/publish: $key: ${LAST[errors]} error answers"; exit 1; }
	W[$key]+="${W[$key]:+,}$(((t1 - t0) / 1000000))"
	U[$key]+="${U[$key]:+,}$u"
	S[$key]+="${S[$key]:+,}$s"
	C[$key]+="${C[$key]:+,}$(awk "BEGIN {print $u + $s}")"
	P[$key]+="${P[$key]:+,}$(awk "BEGIN {print ($p1 - $p0) / $HZ}")"
	INF[$key]+="${INF[$key]:+,}${LAST[inflight]}"
	N[$key]=${LAST[reqs]}
}
expect() { # expect KEY WHAT CONDITION: a check of the last run
	[ "$(awk "BEGIN { print ($3) ? 1 : 0 }")" = 1 ] ||
		{ say "bench/publish: $1: expected $2 (calls: $(declare -p LAST))"; cat "$T/cmd.out" >&2; exit 1; }
}
stats() { # "a,b,c" -> "median min max"
	tr ',' '\n' <<<"$1" | sort -g | awk '{v[NR] = $1} END {
		m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		print m, v[1], v[NR] }'
}
med() { stats "$1" | cut -d' ' -f1; }
calc() { awk "BEGIN { printf \"%.${2:-2}f\", $1 }"; }

# Commands, not functions: GNU time runs them.
PUB=("$SYNTH" publish -q --out)
AWS_S3=("$AWS" --endpoint-url "$S3" --no-cli-pager --color off s3)
QUIET=--only-show-errors

# --- warm-up (not counted): page cache, Python imports, the peers' JITs ------
say "bench/publish: warm-up"
mkbucket warm-synth
mkbucket warm-aws
asm "$T/warm" warm-synth files/w.bin
"${PUB[@]}" "$T/warm" >/dev/null
"${AWS_S3[@]}" sync "$T/warm/files" s3://warm-aws $QUIET >/dev/null
for i in 1 2 3; do run aws_version "$AWS" --version; done

# --- 1. 100 x 100 KB ----------------------------------------------------------
say "bench/publish: 1/3 $SMALL_N x $SMALL_KB KB, $SMALL_RUNS runs"
small_synth() {
	local b=s-synth-$1
	mkbucket "$b"
	asm "$SMALL" "$b" "${small_list[@]}"
	run small_synth "${PUB[@]}" "$SMALL"
	expect small_synth "$SMALL_N PutObject 2xx" "${LAST[put_ok]} == $SMALL_N && ${LAST[head]} == $SMALL_N"
	run small_synth2 "${PUB[@]}" "$SMALL"
	expect small_synth2 "only HEADs" "${LAST[put]} == 0 && ${LAST[head]} == $SMALL_N"
}
small_aws() {
	local b=s-aws-$1
	mkbucket "$b"
	run small_sync "${AWS_S3[@]}" sync "$SMALL/files" "s3://$b" $QUIET
	expect small_sync "$SMALL_N PutObject 2xx" "${LAST[put_ok]} == $SMALL_N"
	run small_sync2 "${AWS_S3[@]}" sync "$SMALL/files" "s3://$b" $QUIET
	expect small_sync2 "no upload" "${LAST[put]} == 0 && ${LAST[list]} >= 1"
	if [ "$EXTRA" = 1 ]; then
		mkbucket "s-cp-$1"
		run small_cp "${AWS_S3[@]}" cp --recursive "$SMALL/files" "s3://s-cp-$1" $QUIET
		expect small_cp "$SMALL_N PutObject 2xx" "${LAST[put_ok]} == $SMALL_N"
	fi
}
small_p10() {
	local b=s-p10-$1
	mkbucket "$b"
	asm "$SMALL" "$b" "${small_list[@]}"
	run small_p10 "${PUB[@]}" "$SMALL" --parallel 10
	expect small_p10 "$SMALL_N PutObject 2xx" "${LAST[put_ok]} == $SMALL_N"
}
for ((r = 1; r <= SMALL_RUNS; r++)); do
	if ((r % 2)); then small_synth "$r"; small_aws "$r"; else small_aws "$r"; small_synth "$r"; fi
	[ "$EXTRA" != 1 ] || small_p10 "$r"
done

# --- 2. one big asset ------------------------------------------------------
say "bench/publish: 2/3 one $BIG_MB MB asset, $BIG_RUNS runs"
nparts=$(((BIG_BYTES + 8388608 - 1) / 8388608))
big_synth() { # big_synth RUN KEY [ARGS]
	local b=b-$2-$1
	mkbucket "$b"
	asm "$BIG" "$b" files/big.bin
	run "$2" "${PUB[@]}" "$BIG" "${@:3}"
	expect "$2" "a multipart upload of $nparts parts" \
		"${LAST[create]} == 1 && ${LAST[part_ok]} == $nparts && ${LAST[complete_ok]} == 1"
	[ "$(obj_size "$b" big.bin)" = "$BIG_BYTES" ] || die "$2: the object has the wrong size"
	rmobject "$b" big.bin
	rmbucket "$b"
}
big_aws() {
	local b=b-aws-$1
	mkbucket "$b"
	run big_aws "${AWS_S3[@]}" cp "$BIG/files/big.bin" "s3://$b/big.bin" $QUIET
	expect big_aws "a multipart upload" "${LAST[create]} == 1 && ${LAST[part_ok]} >= 2 && ${LAST[complete_ok]} == 1"
	[ "$(obj_size "$b" big.bin)" = "$BIG_BYTES" ] || die "big_aws: the object has the wrong size"
	rmobject "$b" big.bin
	rmbucket "$b"
}
for ((r = 1; r <= BIG_RUNS; r++)); do
	if ((r % 2)); then big_synth "$r" big_synth; big_aws "$r"; else big_aws "$r"; big_synth "$r" big_synth; fi
	[ "$EXTRA" != 1 ] || big_synth "$r" big_p10 --parallel 10
done

# --- 3. case 1 with per-request latency --------------------------------------------
if [ "$LATENCY_MS" -gt 0 ]; then
	say "bench/publish: 3/3 $SMALL_N x $SMALL_KB KB with $LATENCY_MS ms per request, $LAT_RUNS runs"
	curl -sS -o /dev/null -X POST "$PEERS_ADMIN_S3/fault" \
		-d "{\"kind\":\"slow\",\"count\":-1,\"match\":\"\",\"delay_ms\":$LATENCY_MS}"
	for ((r = 1; r <= LAT_RUNS; r++)); do
		b=l-synth-$r
		mkbucket "$b"
		asm "$SMALL" "$b" "${small_list[@]}"
		run lat_synth "${PUB[@]}" "$SMALL"
		expect lat_synth "$SMALL_N PutObject 2xx" "${LAST[put_ok]} == $SMALL_N"
		run lat_synth2 "${PUB[@]}" "$SMALL"
		expect lat_synth2 "only HEADs" "${LAST[put]} == 0"
		b=l-aws-$r
		mkbucket "$b"
		run lat_sync "${AWS_S3[@]}" sync "$SMALL/files" "s3://$b" $QUIET
		expect lat_sync "$SMALL_N PutObject 2xx" "${LAST[put_ok]} == $SMALL_N"
		run lat_sync2 "${AWS_S3[@]}" sync "$SMALL/files" "s3://$b" $QUIET
		expect lat_sync2 "no upload" "${LAST[put]} == 0"
		if [ "$EXTRA" = 1 ]; then
			b=l-p10-$r
			mkbucket "$b"
			asm "$SMALL" "$b" "${small_list[@]}"
			run lat_p10 "${PUB[@]}" "$SMALL" --parallel 10
			expect lat_p10 "$SMALL_N PutObject 2xx" "${LAST[put_ok]} == $SMALL_N"
		fi
	done
	curl -sS -o /dev/null -X DELETE "$PEERS_ADMIN_S3/faults"
fi

# --- table ----------------------------------------------------------------------
ELAPSED=$(($(date +%s) - T_START))
declare -A BYTES=([small_synth]=$SMALL_BYTES [small_sync]=$SMALL_BYTES [small_cp]=$SMALL_BYTES
	[small_p10]=$SMALL_BYTES [small_synth2]=$SMALL_BYTES [small_sync2]=$SMALL_BYTES
	[big_synth]=$BIG_BYTES [big_aws]=$BIG_BYTES [big_p10]=$BIG_BYTES [aws_version]=0
	[lat_synth]=$SMALL_BYTES [lat_sync]=$SMALL_BYTES [lat_p10]=$SMALL_BYTES
	[lat_synth2]=$SMALL_BYTES [lat_sync2]=$SMALL_BYTES)
mbps() { # KEY -> MB/s at the median wall time
	local m
	m=$(med "${W[$1]}")
	[ "${BYTES[$1]}" -gt 0 ] && calc "${BYTES[$1]} / 1e6 / ($m / 1e3)" 1 || echo -
}
maxof() { tr ',' '\n' <<<"$1" | sort -g | tail -1; }
row() { printf '%-34s %8s %8s %8s %8s %8s %8s %6s %6s  %s\n' "$@"; }
line() { # KEY LABEL
	local k=$1 m mn mx ratio=""
	read -r m mn mx <<<"$(stats "${W[$k]}")"
	[ -z "${RATIO[$k]:-}" ] || ratio="$(calc "${RATIO[$k]}" 2) ${VERDICT[$k]}"
	row "$2" "$(calc "$m / 1e3" 3)" "$(calc "$mn / 1e3" 3)" "$(calc "$mx / 1e3" 3)" \
		"$(mbps "$k")" "$(calc "$(med "${C[$k]}")" 2)" "$(calc "$(med "${P[$k]}")" 2)" \
		"${N[$k]}" "$(maxof "${INF[$k]}")" "$ratio"
}
# ratio = ours MB/s / aws MB/s = aws median wall / ours.
declare -A VERDICT RATIO
for pair in small_synth:small_sync small_synth2:small_sync2 big_synth:big_aws \
	lat_synth:lat_sync lat_synth2:lat_sync2; do
	k=${pair%%:*} v=${pair#*:}
	[ -n "${W[$k]:-}" ] || continue
	RATIO[$k]=$(calc "$(med "${W[$v]}") / $(med "${W[$k]}")" 3)
	VERDICT[$k]=$(awk "BEGIN { print (${RATIO[$k]} >= 1) ? \"PASS\" : \"MISS\" }")
done
cpu=$(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo 2>/dev/null || echo '?')
TABLE=$(
	echo
	echo "libsynth publish benchmark: $(date -u +%Y-%m-%dT%H:%M:%SZ), $cpu, $(nproc) cores"
	echo "synth: $SYNTH; aws: $("$AWS" --version 2>&1 | cut -d' ' -f1-2); scratch $T ($(stat -f -c %T "$T"))"
	echo "runs: small $SMALL_RUNS, big $BIG_RUNS; wall in s (median, min, max); MB = 1e6 bytes;"
	echo "cpu = the client's user+sys s, peers = s3rver + proxy user+sys s (medians);"
	echo "reqs = S3 requests of the last run; infl = most requests in flight (from the proxy's log, +-1);"
	echo "MB/s of an 'again' row = bytes found already there per s; ratio = ours MB/s / aws MB/s"
	echo
	row "case / client" median min max MB/s cpu peers reqs infl "ratio (target >= 1.00)"
	row "-------------" ------ --- --- ---- --- ----- ---- ---- ------
	line small_synth "$SMALL_N x ${SMALL_KB}KB: synth publish"
	line small_sync "$SMALL_N x ${SMALL_KB}KB: aws s3 sync"
	[ "$EXTRA" != 1 ] || line small_cp "$SMALL_N x ${SMALL_KB}KB: aws s3 cp --recursive"
	[ "$EXTRA" != 1 ] || line small_p10 "$SMALL_N x ${SMALL_KB}KB: synth --parallel 10"
	line small_synth2 "again: synth publish (HEAD, skip)"
	line small_sync2 "again: aws s3 sync (list, skip)"
	line big_synth "${BIG_MB}MB: synth publish"
	line big_aws "${BIG_MB}MB: aws s3 cp"
	[ "$EXTRA" != 1 ] || line big_p10 "${BIG_MB}MB: synth --parallel 10"
	if [ -n "${W[lat_synth]:-}" ]; then
		line lat_synth "+${LATENCY_MS}ms/req: synth publish"
		line lat_sync "+${LATENCY_MS}ms/req: aws s3 sync"
		[ "$EXTRA" != 1 ] || line lat_p10 "+${LATENCY_MS}ms/req: synth --parallel 10"
		line lat_synth2 "+${LATENCY_MS}ms/req: again, synth"
		line lat_sync2 "+${LATENCY_MS}ms/req: again, aws sync"
	fi
	line aws_version "aws --version (start-up only)"
	echo
	v=MET
	for k in small_synth small_synth2 big_synth; do [ "${VERDICT[$k]}" = PASS ] || v="NOT MET"; done
	echo "target (ours >= the aws CLI on 100 x ${SMALL_KB} KB, the second publish and ${BIG_MB} MB): $v"
	if [ -n "${W[lat_synth]:-}" ]; then
		v=MET
		for k in lat_synth lat_synth2; do [ "${VERDICT[$k]}" = PASS ] || v="NOT MET"; done
		echo "the same with +${LATENCY_MS} ms per request (100 x ${SMALL_KB} KB, second publish): $v"
	fi
	echo "total $ELAPSED s"
)
echo "$TABLE"

if [ -n "${PUBLISH_JSON:-}" ]; then
	{
		printf '{\n "date": "%s", "cpu": "%s", "cores": %s, "seconds": %s,\n' \
			"$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$cpu" "$(nproc)" "$ELAPSED"
		sep=""
		for k in small_synth small_sync small_cp small_p10 small_synth2 small_sync2 big_synth big_aws big_p10 \
			lat_synth lat_sync lat_p10 lat_synth2 lat_sync2 aws_version; do
			[ -n "${W[$k]:-}" ] || continue
			read -r m mn mx <<<"$(stats "${W[$k]}")"
			printf '%s "%s": {"wall_ms": [%s], "med_ms": %s, "min_ms": %s, "max_ms": %s, "mbps": "%s", "cpu_s": [%s], "user_s": [%s], "sys_s": [%s], "peers_cpu_s": [%s], "requests": %s, "inflight": [%s]' \
				"$sep" "$k" "${W[$k]}" "$m" "$mn" "$mx" "$(mbps "$k")" "${C[$k]}" "${U[$k]}" "${S[$k]}" "${P[$k]}" "${N[$k]}" "${INF[$k]}"
			[ -z "${RATIO[$k]:-}" ] || printf ', "ratio_vs_aws": %s, "verdict": "%s"' "${RATIO[$k]}" "${VERDICT[$k]}"
			printf '}'
			sep=$',\n'
		done
		printf '\n}\n'
	} >"$PUBLISH_JSON"
	say "bench/publish: figures in $PUBLISH_JSON"
fi

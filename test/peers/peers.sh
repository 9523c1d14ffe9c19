#!/usr/bin/env bash
# The local AWS test peers: s3rver behind a SigV4-checking S3 proxy, and the
# project's CloudFormation + STS endpoint. All on 127.0.0.1, free ports.
#
#   eval "$(test/peers/peers.sh start)"   start (state in $PEERS_DIR, or a new
#                                         temporary directory); prints the env
#   test/peers/peers.sh env               print the env again (needs PEERS_DIR)
#   test/peers/peers.sh status            which peers run
#   test/peers/peers.sh stop              stop them by their recorded PIDs, and
#                                         remove the state dir if start made it
#
# Install what they need first: test/peers/setup.sh. See test/peers/README.md.
set -u
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
PY=/usr/bin/python3
S3RVER=$ROOT/test/.deps/node_modules/s3rver/bin/s3rver.js
NAMES="s3rver s3proxy endpoint"

die() { echo "peers: $*" >&2; exit 1; }

need_dir() {
	[ -n "${PEERS_DIR:-}" ] || die "PEERS_DIR is not set (it is printed by 'peers.sh start')"
	[ -d "$PEERS_DIR" ] || die "PEERS_DIR $PEERS_DIR does not exist"
	PEERS_DIR=$(cd "$PEERS_DIR" && pwd)
}

# alive NAME: the recorded process runs and is ours (its command line names
# the state dir, so a reused PID is never taken for it).
alive() {
	local f=$PEERS_DIR/$1.pid pid
	[ -f "$f" ] || return 1
	pid=$(cat "$f")
	[ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
	tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$PEERS_DIR"
}

print_env() {
	[ -f "$PEERS_DIR/env" ] || die "no peers were started in $PEERS_DIR"
	cat "$PEERS_DIR/env"
}

write_env() {
	local s3 ep s3r
	s3=$(cat "$PEERS_DIR/s3proxy.port") ep=$(cat "$PEERS_DIR/endpoint.port") s3r=$(cat "$PEERS_DIR/s3rver.port")
	"$PY" -B - "$PEERS_DIR" "$s3" "$ep" "$s3r" >"$PEERS_DIR/env.tmp" <<'PY' || die "cannot write env"
import os, shlex, sys
sys.path.insert(0, os.environ["PEERS_HERE"])
import testcreds
d, s3, ep, s3r = sys.argv[1:5]
c, t = testcreds.STATIC_CREDENTIALS
lines = [
    ("PEERS_DIR", d),
    ("AWS_ACCESS_KEY_ID", c["access_key"]),
    ("AWS_SECRET_ACCESS_KEY", c["secret_key"]),
    ("AWS_REGION", "us-east-1"),
    ("AWS_ENDPOINT_URL_S3", "http://127.0.0.1:%s" % s3),
    ("AWS_ENDPOINT_URL_CLOUDFORMATION", "http://127.0.0.1:%s" % ep),
    ("AWS_ENDPOINT_URL_STS", "http://127.0.0.1:%s" % ep),
    ("AWS_ENDPOINT_URL_SSM", "http://127.0.0.1:%s" % ep),
    ("PEERS_ADMIN_S3", "http://127.0.0.1:%s/__admin" % s3),
    ("PEERS_ADMIN_CFN", "http://127.0.0.1:%s/__admin" % ep),
    ("PEERS_S3RVER_URL", "http://127.0.0.1:%s" % s3r),
    ("PEERS_S3_DATA", d + "/s3data"),
    ("PEERS_ACCOUNT", testcreds.ACCOUNT),
    ("PEERS_SESSION_ACCESS_KEY_ID", t["access_key"]),
    ("PEERS_SESSION_SECRET_ACCESS_KEY", t["secret_key"]),
    ("PEERS_SESSION_TOKEN", t["token"]),
]
for k, v in lines:
    print("export %s=%s" % (k, shlex.quote(v)))
print("unset AWS_SESSION_TOKEN AWS_SECURITY_TOKEN AWS_PROFILE AWS_ENDPOINT_URL")
PY
	mv "$PEERS_DIR/env.tmp" "$PEERS_DIR/env"
}

start() {
	[ -x "$PY" ] || die "$PY not found"
	[ -f "$S3RVER" ] || die "s3rver is not installed: run test/peers/setup.sh"
	"$PY" -c 'import botocore.auth' 2>/dev/null || die "python3-botocore is not installed: run test/peers/setup.sh"
	command -v node >/dev/null || die "node is not installed"
	if [ -z "${PEERS_DIR:-}" ]; then
		PEERS_DIR=$(mktemp -d "${TMPDIR:-/tmp}/synth-peers.XXXXXX") || die "mktemp failed"
		touch "$PEERS_DIR/.made-by-start"
	fi
	mkdir -p "$PEERS_DIR" || die "cannot create $PEERS_DIR"
	PEERS_DIR=$(cd "$PEERS_DIR" && pwd)
	local n all=1
	for n in $NAMES; do alive "$n" || all=0; done
	if [ $all = 1 ] && [ -f "$PEERS_DIR/env" ]; then
		print_env
		return 0
	fi
	stop_all quiet
	mkdir -p "$PEERS_DIR/s3data" "$PEERS_DIR/tmp"
	rm -f "$PEERS_DIR"/*.port "$PEERS_DIR/env"
	local t0=$SECONDS
	# Each peer is exec'd directly, so $! is its PID.
	nohup node "$S3RVER" -d "$PEERS_DIR/s3data" -a 127.0.0.1 -p "${PEERS_S3RVER_PORT:-0}" --silent \
		--no-vhost-buckets </dev/null >"$PEERS_DIR/s3rver.log" 2>&1 &
	echo $! >"$PEERS_DIR/s3rver.pid"
	nohup "$PY" -B "$HERE/s3proxy.py" "$PEERS_DIR" </dev/null >"$PEERS_DIR/s3proxy.log" 2>&1 &
	echo $! >"$PEERS_DIR/s3proxy.pid"
	nohup "$PY" -B "$HERE/endpoint.py" "$PEERS_DIR" </dev/null >"$PEERS_DIR/endpoint.log" 2>&1 &
	echo $! >"$PEERS_DIR/endpoint.pid"
	local i port
	for ((i = 0; i < 400; i++)); do
		if [ ! -f "$PEERS_DIR/s3rver.port" ]; then
			port=$(grep -o 'listening on [0-9.]*:[0-9]*' "$PEERS_DIR/s3rver.log" 2>/dev/null | head -1 | sed 's/.*://')
			[ -n "$port" ] && echo "$port" >"$PEERS_DIR/s3rver.port"
		fi
		[ -f "$PEERS_DIR/s3rver.port" ] && [ -f "$PEERS_DIR/s3proxy.port" ] && [ -f "$PEERS_DIR/endpoint.port" ] && break
		for n in $NAMES; do
			if ! alive "$n"; then
				echo "peers: $n exited during start; its log:" >&2
				tail -n 20 "$PEERS_DIR/$n.log" >&2
				stop_all quiet
				exit 1
			fi
		done
		sleep 0.05
	done
	[ -f "$PEERS_DIR/s3rver.port" ] && [ -f "$PEERS_DIR/s3proxy.port" ] && [ -f "$PEERS_DIR/endpoint.port" ] ||
		{ stop_all quiet; die "peers did not start within 20 s (logs in $PEERS_DIR)"; }
	PEERS_HERE=$HERE write_env
	echo "peers: started in $PEERS_DIR ($((SECONDS - t0)) s)" >&2
	print_env
}

stop_all() {
	local n pid pids=()
	for n in $NAMES; do
		if alive "$n"; then
			pid=$(cat "$PEERS_DIR/$n.pid")
			kill -TERM "$pid" 2>/dev/null && pids+=("$pid")
		fi
	done
	local i p left
	for ((i = 0; i < 100; i++)); do
		left=0
		for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && left=1; done
		[ $left = 0 ] && break
		sleep 0.05
	done
	for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && kill -KILL "$p" 2>/dev/null; done
	for p in "${pids[@]}"; do
		for ((i = 0; i < 40; i++)); do kill -0 "$p" 2>/dev/null || break; sleep 0.05; done
	done
	for n in $NAMES; do rm -f "$PEERS_DIR/$n.pid" "$PEERS_DIR/$n.port"; done
	[ "${1:-}" = quiet ] || echo "peers: stopped (${#pids[@]} processes)" >&2
}

case ${1:-} in
start) start ;;
env) need_dir; print_env ;;
status)
	need_dir
	rc=0
	for n in $NAMES; do
		if alive "$n"; then echo "$n: running, pid $(cat "$PEERS_DIR/$n.pid"), port $(cat "$PEERS_DIR/$n.port" 2>/dev/null)"
		else echo "$n: not running"; rc=1; fi
	done
	exit $rc
	;;
stop)
	need_dir
	stop_all
	if [ -f "$PEERS_DIR/.made-by-start" ] && [ "${PEERS_KEEP:-}" != 1 ]; then
		rm -rf -- "$PEERS_DIR"
	fi
	;;
*) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
esac

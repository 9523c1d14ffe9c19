#!/usr/bin/env bash
# synth secret set|get|list|remove against the local SSM peer (the
# CloudFormation + STS + SSM endpoint): set from stdin and at a terminal
# prompt without echo, get (the value, only on stdout), list (names only,
# every page), remove; a missing secret, a value on the command line, an
# empty or too long value, a bad name, no credentials; branch, sandbox,
# shared and `synth sandbox secret` map to their own parameter names (seen
# in the peer's admin view); throttling and 5xx are retried, a fault past
# the retry budget is reported; values never reach the peer's call log or
# logs, nor any output but `get`'s stdout.
. "$(dirname "$0")/lib/common.bash"

export PEERS_DIR=$TMP/peers
cleanup() { bash "$SYNTH_ROOT/test/peers/peers.sh" stop >/dev/null 2>&1; rm -rf "$TMP"; }
trap cleanup EXIT

bash "$SYNTH_ROOT/test/peers/setup.sh" >"$TMP/setup.log" 2>&1
if env_lines=$(bash "$SYNTH_ROOT/test/peers/peers.sh" start 2>"$TMP/peers.err"); then
	pass "the peers start"
else
	fail "the peers start"; diag_file "$TMP/peers.err"; diag_file "$TMP/setup.log"; finish
fi
eval "$env_lines"
export AWS_ENDPOINT_URL_SSM=${AWS_ENDPOINT_URL_SSM:-$AWS_ENDPOINT_URL_CLOUDFORMATION}
export AWS_CONFIG_FILE=$TMP/none AWS_SHARED_CREDENTIALS_FILE=$TMP/none
export USER=alice
ADMIN=$PEERS_ADMIN_CFN

APP=$TMP/myapp
mkdir -p "$APP"
ALL_OUT=$TMP/all-output   # every output except get's stdout
: >"$ALL_OUT"
V1='s3cr3t-One "quoted" \back\slash  tab	ünïcødé'
V2=branch-value-Two-8f3a
V3=sandbox-value-Three-c71d
V4=shared-value-Four-0b5e
V5=bob-value-Five-e2d9

# sec ARGS... [< input]: synth secret in $APP; $OUT, $ERR, $RC; output
# (except get's stdout) collected in $ALL_OUT.
sec() {
	OUT=$(cd "$APP" && "$SYNTH" secret "$@" 2>"$TMP/.err")
	RC=$?
	ERR=$(cat "$TMP/.err")
	printf '%s\n%s\n' "$ERR" "$([ "${1:-}" = get ] || printf '%s' "$OUT")" >>"$ALL_OUT"
}
admin_names() { curl -s "$ADMIN/ssm" | python3 -c 'import json,sys; print("\n".join(p["Name"] for p in json.load(sys.stdin)["parameters"]))'; }
calls_of() { curl -s "$ADMIN/calls" | python3 -c 'import json,sys; print(sum(1 for c in json.load(sys.stdin)["calls"] if c.get("action")==sys.argv[1]))' "$1"; }

# --- set / get / list / remove ----------------------------------------------
sec set API_KEY < <(printf '%s\n' "$V1")
check_eq "set from stdin: exit 0" "$RC" 0
check_contains "set names the parameter" "$OUT" "/synth/myapp/sandbox/alice/API_KEY"
check_eq "the parameter exists, as a SecureString" \
	"$(curl -s "$ADMIN/ssm" | python3 -c 'import json,sys; print([p["Type"] for p in json.load(sys.stdin)["parameters"] if p["Name"]=="/synth/myapp/sandbox/alice/API_KEY"])')" \
	"['SecureString']"

sec get API_KEY
check_eq "get: exit 0" "$RC" 0
check_eq "get prints the value exactly (one trailing newline dropped at set)" "$OUT" "$V1"
check_eq "get prints nothing else (stderr empty)" "$ERR" ""

sec set OTHER_KEY < <(printf 'x\n')
sec list
check_eq "list: exit 0" "$RC" 0
check_eq "list prints the names, sorted" "$OUT" "API_KEY
OTHER_KEY"
check_not_contains "list prints no value" "$OUT" "s3cr3t"

sec set API_KEY "$V2"
check_eq "a value on the command line is refused: exit 2" "$RC" 2
check_contains "saying why" "$ERR" "shell history"
sec set API_KEY --value "$V2"
check_eq "--value is refused too" "$RC" 2
sec get API_KEY
check_eq "the refused value was not stored" "$OUT" "$V1"

sec get NOPE
check_eq "get a missing secret: exit 1" "$RC" 1
check_contains "the error names it and its parameter" "$ERR" "secret NOPE is not set (no parameter /synth/myapp/sandbox/alice/NOPE)"
check_eq "nothing on stdout" "$OUT" ""

sec remove OTHER_KEY
check_eq "remove: exit 0" "$RC" 0
check_contains "remove says so" "$OUT" "OTHER_KEY removed"
sec get OTHER_KEY
check_eq "removed: get fails" "$RC" 1
sec remove OTHER_KEY
check_eq "remove a missing secret: exit 1" "$RC" 1
check_contains "with a clear error" "$ERR" "secret OTHER_KEY is not set"
check_eq "the parameter is gone" "$(admin_names | grep -c OTHER_KEY)" 0

# One trailing newline only; CRLF counts as one.
sec set NL_KEY < <(printf 'two\n\n')
(cd "$APP" && "$SYNTH" secret get NL_KEY >"$TMP/nl.out" 2>/dev/null)
check_eq "only one trailing newline is dropped" "$(od -An -c "$TMP/nl.out" | tr -s ' ')" " t w o \n \n"
sec set NL_KEY < <(printf 'crlf\r\n')
(cd "$APP" && "$SYNTH" secret get NL_KEY >"$TMP/nl.out" 2>/dev/null)
check_eq "a CRLF ending is dropped" "$(od -An -c "$TMP/nl.out" | tr -s ' ')" " c r l f \n"

# --- bad input ------------------------------------------------------------------
sec set EMPTY </dev/null
check_eq "an empty value: exit 2" "$RC" 2
check_contains "named as such" "$ERR" "the value is empty"
sec set LONG < <(head -c 4097 /dev/zero | tr '\0' a)
check_eq "a 4097-byte value: exit 2" "$RC" 2
check_contains "naming the limit" "$ERR" "4096"
sec set LONG < <(head -c 4096 /dev/zero | tr '\0' a)
check_eq "a 4096-byte value is accepted" "$RC" 0
sec set 'bad/name' </dev/null
check_eq "an invalid name: exit 2" "$RC" 2
check_contains "explained" "$ERR" "is not valid"
sec frobnicate X
check_eq "an unknown action: exit 2" "$RC" 2
sec get
check_eq "no NAME: exit 2" "$RC" 2
sec get K --branch main --sandbox
check_eq "--branch with --sandbox: exit 2" "$RC" 2
OUT=$(cd "$APP" && env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY "$SYNTH" secret get API_KEY 2>&1)
RC=$?
check_eq "no credentials: exit 2" "$RC" 2
check_contains "saying where it looked" "$OUT" "AWS_ACCESS_KEY_ID"

# --- identities: branch, sandbox, shared, namespace, `sandbox secret` --------------
sec set DB_PASS --branch main < <(printf '%s\n' "$V2")
sec set DB_PASS --sandbox < <(printf '%s\n' "$V3")
sec set DB_PASS --shared < <(printf '%s\n' "$V4")
printf '%s\n' "$V5" | (cd "$APP" && "$SYNTH" sandbox secret set DB_PASS --identifier bob >>"$ALL_OUT" 2>&1)
check_eq "synth sandbox secret set: exit 0" "$?" 0
sec set DB_PASS --namespace other-app --branch main < <(printf 'ns\n')
NAMES=$(admin_names)
for n in /synth/myapp/branch/main/DB_PASS /synth/myapp/sandbox/alice/DB_PASS \
	/synth/myapp/shared/DB_PASS /synth/myapp/sandbox/bob/DB_PASS /synth/other-app/branch/main/DB_PASS; do
	check_contains "parameter $n (admin view)" "$NAMES" "$n"
done
sec get DB_PASS --branch main
check_eq "the branch's value" "$OUT" "$V2"
sec get DB_PASS --sandbox alice
check_eq "the sandbox's value (--sandbox ID)" "$OUT" "$V3"
sec get DB_PASS --shared
check_eq "the shared value" "$OUT" "$V4"
OUT=$(cd "$APP" && "$SYNTH" sandbox secret get DB_PASS --identifier bob 2>/dev/null)
check_eq "synth sandbox secret get --identifier bob" "$OUT" "$V5"
sec --sandbox list
check_eq "--sandbox before the action: the action is not taken as an ID" "$OUT" "API_KEY
DB_PASS
LONG
NL_KEY"
sec list --shared
check_eq "list --shared: the shared names only" "$OUT" "DB_PASS"

# --- paging: 23 secrets in one backend ----------------------------------------------
for i in $(seq -w 1 23); do sec set "K$i" --branch paged < <(printf 'v%s\n' "$i"); done
curl -s -X DELETE "$ADMIN/calls" >/dev/null
sec list --branch paged
check_eq "list follows every page (23 names)" "$(printf '%s\n' "$OUT" | wc -l)" 23
check_eq "first and last" "$(printf '%s\n' "$OUT" | sed -n '1p;$p' | tr '\n' ' ')" "K01 K23 "
check "GetParametersByPath was paged (3 calls or more)" [ "$(calls_of GetParametersByPath)" -ge 3 ]

# --- retries ---------------------------------------------------------------------
curl -s -X DELETE "$ADMIN/calls" >/dev/null
curl -s -X POST "$ADMIN/fault" -d '{"kind": "throttle", "count": 2, "match": "ssm:PutParameter "}' >/dev/null
sec set RETRIED < <(printf 'retried-value\n')
check_eq "set through two throttled answers: exit 0" "$RC" 0
check_eq "three PutParameter calls" "$(calls_of PutParameter)" 3
curl -s -X POST "$ADMIN/fault" -d '{"kind": "500", "count": 1, "match": "ssm:GetParameter "}' >/dev/null
sec get RETRIED
check_eq "get through a 500: the value" "$OUT" "retried-value"
curl -s -X POST "$ADMIN/fault" -d '{"kind": "503", "count": -1, "match": "ssm:DeleteParameter "}' >/dev/null
sec remove RETRIED
check_eq "a fault past the retry budget: exit 1" "$RC" 1
check_contains "the AWS error is shown" "$ERR" "ServiceUnavailable"
check_contains "after retries" "$ERR" "after retries"
curl -s -X DELETE "$ADMIN/faults" >/dev/null
sec remove RETRIED
check_eq "and works once the fault is gone" "$RC" 0

# --- a terminal: prompt on stderr, no echo -------------------------------------------
PTY_OUT=$(cd "$APP" && python3 - "$SYNTH" <<'EOF'
import os, pty, sys, time, select
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[1], [sys.argv[1], "secret", "set", "TTY_KEY"])
out = b""
def pump(t):
    global out
    end = time.time() + t
    while time.time() < end:
        r, _, _ = select.select([fd], [], [], 0.05)
        if r:
            try:
                d = os.read(fd, 4096)
            except OSError:
                return
            if not d:
                return
            out += d
pump(1.0)
os.write(fd, b"typed-at-the-prompt-77\n")
pump(3.0)
_, status = os.waitpid(pid, 0)
sys.stdout.write(out.decode(errors="replace") + "\nEXIT=%d\n" % os.waitstatus_to_exitcode(status))
EOF
)
printf '%s\n' "$PTY_OUT" >>"$ALL_OUT.tty"
check_contains "a terminal gets the prompt" "$PTY_OUT" "Enter the value of TTY_KEY: "
check_not_contains "the typed value is not echoed" "$PTY_OUT" "typed-at-the-prompt-77"
check_contains "set at the prompt: exit 0" "$PTY_OUT" "EXIT=0"
sec get TTY_KEY
check_eq "the value typed at the prompt was stored" "$OUT" "typed-at-the-prompt-77"

# --- values never leak ---------------------------------------------------------------
curl -s "$ADMIN/calls" >"$TMP/calls.json"
LEAKS=""
for v in "s3cr3t-One" "$V2" "$V3" "$V4" "$V5" retried-value typed-at-the-prompt-77; do
	grep -qF -- "$v" "$TMP/calls.json" && LEAKS="$LEAKS calls:$v"
	grep -rqF -- "$v" "$PEERS_DIR"/*.log 2>/dev/null && LEAKS="$LEAKS log:$v"
	grep -qF -- "$v" "$ALL_OUT" && LEAKS="$LEAKS output:$v"
done
check_eq "no value in the peer's call log, its logs, or any output but get's" "$LEAKS" ""
check "the call log did record the SSM calls" grep -q PutParameter "$TMP/calls.json"

finish

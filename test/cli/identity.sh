#!/usr/bin/env bash
# One backend identity: for the same flags and environment, synth (the
# stack name the backend program writes in the manifest, and the SSM path of
# its secret in the template), deploy (--watch names the stack), outputs
# (names the stack it reads), secret and sandbox secret (name the SSM path)
# all mean the same backend. With $USER set, with $USER unset (the passwd
# name: never "sandbox"), a named sandbox in another namespace, a branch.
# Against the local peers (CloudFormation + SSM), in a copy of samples/hello.
. "$(dirname "$0")/lib/common.bash"

export PEERS_DIR=$TMP/peers
# Directories above the checkout that nobody could not enter (a CI clone in
# a private mktemp directory), opened for traversal only (o+x, no read)
# while the test runs and closed again after it.
OPENED=()
cleanup() {
	bash "$SYNTH_ROOT/test/peers/peers.sh" stop >/dev/null 2>&1
	local dir
	for dir in "${OPENED[@]}"; do chmod o-x "$dir"; done
	rm -rf "$TMP"
}
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
export SYNTH_POLL_MS=40,400 CI=true

APP=$TMP/idapp
mkdir -p "$APP"
cp -r "$SYNTH_ROOT/samples/hello/." "$APP/"
rm -rf "$APP/cdk.out" "$APP/.synth"

# $USER unset: the passwd name. As root, run as nobody (root is not a
# sandbox name deploy accepts); otherwise as ourselves.
AS=()
PW_NAME=$(id -un)
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null && nobody=$(getent passwd 65534); then
	AS=(setpriv --reuid=65534 --regid=65534 --clear-groups)
	PW_NAME=${nobody%%:*}
	chmod 755 "$TMP"
	chmod -R a+rwX "$APP"
	# nobody runs the synth binary and compiles against the build tree.
	dir=$SYNTH_ROOT
	while [ "$dir" != / ]; do
		if [ -d "$dir" ] && [ "$(( 0$(stat -c %a "$dir") & 1 ))" = 0 ]; then
			chmod o+x "$dir" && OPENED+=("$dir")
		fi
		dir=$(dirname "$dir")
	done
fi

# on MODE ARGS...: synth ARGS in $APP; MODE "user:NAME" sets $USER, "unset"
# unsets it (and runs as $AS). $OUT, $ERR, $RC.
on() {
	local mode=$1
	shift
	if [ "$mode" = unset ]; then
		OUT=$(cd "$APP" && "${AS[@]}" env -u USER "$SYNTH" "$@" 2>"$TMP/.err" </dev/null)
	else
		OUT=$(cd "$APP" && USER=${mode#user:} "$SYNTH" "$@" 2>"$TMP/.err" </dev/null)
	fi
	RC=$?
	ERR=$(cat "$TMP/.err")
}

# synth_ids MODE ARGS...: "STACK SSM-PATH" as the backend program resolved
# them (manifest and template).
synth_ids() {
	on "$@" --out cdk.out -q
	[ "$RC" = 0 ] || { echo "(synth exit $RC: $ERR)"; return; }
	python3 - "$APP/cdk.out" <<'EOF'
import glob, json, re, sys
d = sys.argv[1]
m = json.load(open(d + "/manifest.json"))
stack = [a["properties"]["stackName"] for a in m["artifacts"].values()
         if a["type"] == "aws:cloudformation:stack"][0]
text = "".join(open(f).read() for f in glob.glob(d + "/*.template.json"))
paths = sorted(set(re.findall(r'/synth/[^"\\]*/API_KEY', text)))
paths = [p for p in paths if "/shared/" not in p]
print(stack, paths[0] if paths else "(no path)")
EOF
}

# stack_of CMD: the stack name a command's "does not exist" message names.
stack_of() { printf '%s\n' "$ERR" | sed -n 's/.*stack \([A-Za-z0-9-]*\) does not exist.*/\1/p' | head -n1; }
# path_of: the parameter a `secret set` names.
path_of() { printf '%s\n' "$OUT" | sed -n 's/.*set (\(.*\))$/\1/p'; }

# agree DESC MODE TARGET-ARGS... : every command on the same backend.
agree() {
	local desc=$1 mode=$2
	shift 2
	local ids s_stack s_path
	ids=$(synth_ids "$mode" "$@")
	s_stack=${ids%% *}
	s_path=${ids#* }
	check_contains "$desc: synth names the backend (${s_stack})" "$s_stack" "$EXPECT_IN_STACK"
	check_eq "$desc: the secret's path in the template" "$s_path" "$EXPECT_PATH"

	on "$mode" deploy "$@" --watch
	check_eq "$desc: deploy --watch: the stack does not exist (exit 6)" "$RC" 6
	check_eq "$desc: deploy resolves synth's stack" "$(stack_of)" "$s_stack"

	on "$mode" outputs "$@" --file "$TMP/outputs.json"
	check_eq "$desc: outputs: the stack does not exist (exit 1)" "$RC" 1
	check_eq "$desc: outputs resolves synth's stack" "$(stack_of)" "$s_stack"

	OUT=$(cd "$APP" && printf 'v-%s\n' "$RANDOM" | if [ "$mode" = unset ]; then
		"${AS[@]}" env -u USER "$SYNTH" secret set API_KEY "$@" 2>"$TMP/.err"
	else
		USER=${mode#user:} "$SYNTH" secret set API_KEY "$@" 2>"$TMP/.err"
	fi)
	RC=$?
	ERR=$(cat "$TMP/.err")
	check_eq "$desc: secret set: exit 0" "$RC" 0
	check_eq "$desc: secret resolves synth's SSM path" "$(path_of)" "$s_path"
}

# --- $USER set ---------------------------------------------------------------------
EXPECT_IN_STACK="synth-idapp-dana-sandbox-" EXPECT_PATH=/synth/idapp/sandbox/dana/API_KEY \
	agree '$USER=dana, --sandbox' user:dana --sandbox
# An empty identifier is a mistake (an unset variable, say), not the
# default: every command refuses it alike (exit 2) and names it.
for cmd in "" "deploy --watch" "outputs --file $TMP/outputs.json" "secret set API_KEY" "secret get API_KEY"; do
	# shellcheck disable=SC2086
	on user:dana $cmd --sandbox "" </dev/null
	check_eq "--sandbox \"\": synth ${cmd:-synth} refuses it (exit 2)" "$RC" 2
	check_contains "--sandbox \"\": synth ${cmd:-synth} says the identifier is empty" "$ERR" "identifier is empty"
done

# sandbox secret names the same parameter.
OUT=$(cd "$APP" && printf 'v\n' | USER=dana "$SYNTH" sandbox secret set API_KEY 2>&1)
check_eq "sandbox secret (\$USER=dana): the same SSM path" "$(path_of)" /synth/idapp/sandbox/dana/API_KEY

# --- $USER unset: the passwd name everywhere ----------------------------------------
[ ${#AS[@]} = 0 ] || chmod -R a+rwX "$APP" # what the runs above wrote, for nobody
EXPECT_IN_STACK="synth-idapp-$PW_NAME-sandbox-" EXPECT_PATH=/synth/idapp/sandbox/$PW_NAME/API_KEY \
	agree "\$USER unset: the passwd name ($PW_NAME)" unset --sandbox
OUT=$(cd "$APP" && printf 'v\n' | "${AS[@]}" env -u USER "$SYNTH" sandbox secret set API_KEY 2>&1)
check_eq "sandbox secret (\$USER unset): the passwd name" "$(path_of)" "/synth/idapp/sandbox/$PW_NAME/API_KEY"
on unset secret list
check_not_contains "\$USER unset: never the made-up sandbox \"sandbox\"" "$ERR$OUT" "/sandbox/sandbox"

# --- a named sandbox in another namespace; a branch ---------------------------------
EXPECT_IN_STACK="synth-other-erin-sandbox-" EXPECT_PATH=/synth/other/sandbox/erin/API_KEY \
	agree "--sandbox erin --namespace other" user:dana --sandbox erin --namespace other
EXPECT_IN_STACK="synth-idapp-feat-x-branch-" EXPECT_PATH=/synth/idapp/branch/feat-x/API_KEY \
	agree "--branch feat/x" user:dana --branch feat/x

finish

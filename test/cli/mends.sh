#!/usr/bin/env bash
# Smaller mends of the AWS commands, found by trying bad input against the
# AWS CLI (issue #12, part 6): an empty sandbox identifier is an error, not
# the default one; an upper-case region is refused, naming it; /dev/null as
# a config or credentials file is an empty file, not "no such file"; an HTML
# error page (a proxy's 502) is reported as such, not as an AWS error. The
# AWS_PROFILE / AWS_MAX_ATTEMPTS / partial-credentials cases and the publish
# count are in publish.sh, next to the peers they need.
. "$(dirname "$0")/lib/common.bash"

W=$TMP/hello
copy_sample "$SYNTH_ROOT/samples/hello" "$W"
# No AWS configuration from the machine running the tests.
unset AWS_PROFILE AWS_DEFAULT_PROFILE AWS_SESSION_TOKEN AWS_SECURITY_TOKEN AWS_ENDPOINT_URL \
	AWS_ENDPOINT_URL_S3 AWS_ENDPOINT_URL_CLOUDFORMATION AWS_ENDPOINT_URL_STS \
	AWS_ENDPOINT_URL_SSM AWS_DEFAULT_REGION AWS_MAX_ATTEMPTS
export HOME=$TMP/home AWS_CONFIG_FILE=$TMP/none AWS_SHARED_CREDENTIALS_FILE=$TMP/none
export AWS_ACCESS_KEY_ID=AKIAMENDSTEST0000001 AWS_SECRET_ACCESS_KEY=mends/SeCrEt/key AWS_REGION=us-east-1
mkdir -p "$HOME"

# --- an empty sandbox identifier ---------------------------------------------
for cmd in "deploy --identifier" "sandbox --identifier" "sandbox delete --identifier" \
	"deploy --sandbox" "destroy --sandbox" "outputs --sandbox"; do
	# shellcheck disable=SC2086
	synth_in "$W" $cmd ''
	check_eq "synth $cmd '': exit 2" "$RC" 2
	check_contains "synth $cmd '': says the identifier is empty" "$ERR" \
		"the sandbox identifier is empty; omit it to use the default"
	check_not_contains "synth $cmd '': not the default identifier instead" "$ERR" "$(id -un)"
done
check "an empty identifier: nothing written in the app" test ! -e "$W/cdk.out" -a ! -e "$W/.synth"

# --- the region check ----------------------------------------------------------
synth_in "$W" publish --region US-EAST-1
check_eq "--region US-EAST-1: exit 2" "$RC" 2
check_contains "--region US-EAST-1: named, with the rule" "$ERR" \
	'invalid AWS region "US-EAST-1" (from --region): expected lower-case letters'
OUT=$(cd "$W" && AWS_REGION=Eu-West-1 "$SYNTH" deploy --branch main 2>&1)
check_contains "AWS_REGION=Eu-West-1: named, with its source" "$OUT" \
	'invalid AWS region "Eu-West-1" (from AWS_REGION)'

# --- /dev/null as a config file ------------------------------------------------
OUT=$(cd "$W" && AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null \
	AWS_PROFILE=dev "$SYNTH" publish 2>&1)
check_contains "/dev/null as both files: the profile is not in them" "$OUT" \
	'AWS profile "dev" (from AWS_PROFILE) not found: no [dev] in /dev/null, no [profile dev] in /dev/null'
check_not_contains "/dev/null as both files: not \"no such file\"" "$OUT" "no such file"
OUT=$(cd "$W" && env -u AWS_ACCESS_KEY_ID AWS_CONFIG_FILE=/dev/null \
	AWS_SHARED_CREDENTIALS_FILE=/dev/null "$SYNTH" publish 2>&1)
check_contains "/dev/null as both files: no credentials in them" "$OUT" \
	"not in /dev/null [default], not in /dev/null [default]"

# --- an HTML error page from something between synth and AWS -------------------
# test/unit/fake/http_fake.py answers /html/STATUS with nginx's 502 page.
python3 "$SYNTH_ROOT/test/unit/fake/http_fake.py" >"$TMP/fake.port" 2>"$TMP/fake.err" &
FAKE=$!
trap 'kill $FAKE 2>/dev/null; wait $FAKE 2>/dev/null; rm -rf "$TMP"' EXIT
for _ in $(seq 1 300); do # its port, within 30 s
	[ -s "$TMP/fake.port" ] && break
	sleep 0.1
done
PORT=$(head -n 1 "$TMP/fake.port")
check "the fake HTTP server started" test -n "$PORT"
html() { # STATUS: synth bootstrap against /html/STATUS
	synth_in "$W" bootstrap --endpoint-url "http://127.0.0.1:$PORT/html/$1"
}
AWS_MAX_ATTEMPTS=1 html 502
check_eq "an HTML 502 page: exit 1" "$RC" 1
check_contains "an HTML 502 page: reported as such, with its title and status" "$ERR" \
	'sts GetCallerIdentity: an HTML page ("502 Bad Gateway"), not an AWS error: a proxy, load balancer or captive portal answered (HTTP 502, request id REQ-'
check_not_contains "an HTML 502 page: not an XML complaint" "$ERR" "XML"
check_not_contains "an HTML 502 page: not \"no body\"" "$ERR" "no body"
AWS_MAX_ATTEMPTS=1 html 200
check_eq "an HTML page with 200 (a captive portal): exit 1" "$RC" 1
check_contains "an HTML page with 200: reported as such, not as \"not XML\"" "$ERR" \
	'sts GetCallerIdentity: an HTML page ("502 Bad Gateway"), not an AWS error: a proxy, load balancer or captive portal answered (HTTP 200)'
AWS_MAX_ATTEMPTS=2 html 503
check_match "an HTML 503 page: retried, then reported as such" "$ERR" \
	'an HTML page \("502 Bad Gateway"\), not an AWS error: .* answered \(HTTP 503, .*after retries\)'
check_not_contains "an HTML page: the secret key is not in the output" "$ERR" "$AWS_SECRET_ACCESS_KEY"

finish

#!/usr/bin/env bash
# define_api through the real synth binary: a small API with every feature
# (test/api/small) stays in one stack that cfn-lint and the specification
# accept; an API of 100 routes to 100 functions (test/api/hundred) splits
# into nested stacks with no cycle, within every CloudFormation limit, each
# route's integration, route and permission together, its permissions
# scoped per route; bad routes and a JWT route without auth are refused
# naming the API and the route.
. "$(dirname "$0")/lib/common.bash"

CHECK=$SYNTH_ROOT/test/cli/lib/check_split.py
FIX=$SYNTH_ROOT/test/api

synth_ok() {
	if [ "$RC" -eq 0 ]; then
		pass "$1: synth exits 0"
	else
		fail "$1: synth exits 0"; diag "exit $RC"; printf '%s\n' "$ERR" | head -n 5 | sed 's/^/#     /'
	fi
	[ "$RC" -eq 0 ]
}

# py_checks NAME DIR: runs the Python on stdin over DIR/cdk.out; each line
# it prints is "ok - ..." or "not ok - ..." (prefixed with NAME here).
py_checks() {
	local name=$1 dir=$2 out
	out=$(python3 - "$dir/cdk.out" 2>&1)
	if [ -z "$out" ] || printf '%s\n' "$out" | grep -qv '^\(not \)\?ok - \|^#'; then
		fail "$name: the template checks ran"; printf '%s\n' "$out" | tail -n 8 | sed 's/^/#     /'
	fi
	out=$(printf '%s\n' "$out" | grep '^\(not \)\?ok - \|^#' |
		sed -e "s/^ok - /ok - $name: /" -e "s/^not ok - /not ok - $name: /")
	printf '%s\n' "$out"
	T_PASSED=$((T_PASSED + $(printf '%s\n' "$out" | grep -c '^ok - ')))
	T_FAILED=$((T_FAILED + $(printf '%s\n' "$out" | grep -c '^not ok - ')))
}

# --- small: every feature, one stack ---------------------------------------
copy_sample "$FIX/small" "$TMP/small"
synth_in "$TMP/small" --branch main -q
if synth_ok "small"; then
	templates=("$TMP"/small/cdk.out/*.template.json)
	check_eq "small: one template" "${#templates[@]}" 1
	cfn_lint_ok "small: cfn-lint finds no errors" "${templates[@]}"
	cfnspec_ok "small: cfnspec.py accepts the template" "${templates[@]}"
	py_checks small "$TMP/small" <<'PY'
import glob, json, sys
t = json.load(open(glob.glob(sys.argv[1] + "/*.template.json")[0]))
by = {r["Metadata"]["synth:path"]: (lid, r) for lid, r in t["Resources"].items()}
def P(p): return by[p][1]["Properties"]
def lid(p): return by[p][0]
def check(cond, desc): print(("ok - " if cond else "not ok - ") + desc)
api = lid("karaoke-api/Api")
check(P("karaoke-api/Stage")["StageName"] == "$default" and P("karaoke-api/Stage")["AutoDeploy"] is True,
      "the $default stage, auto-deployed")
check(P("karaoke-api/GET/singers/_id/Route")["AuthorizationType"] == "JWT", "JWT by default (the backend has auth)")
check(P("karaoke-api/GET/public/Route")["AuthorizationType"] == "NONE", "a public route")
check(P("karaoke-api/POST/admin/Route")["AuthorizationType"] == "AWS_IAM", "an IAM route")
check(P("karaoke-api/GET/gated/Route")["AuthorizerId"] == {"Ref": lid("karaoke-api/LambdaAuthorizer/gate")},
      "a Lambda-authorized route")
check(P("karaoke-api/Default/Permission")["SourceArn"]["Fn::Sub"][0].endswith("${Api}/*/$default"),
      "the $default route's permission: <api>/*/$default")
check(P("karaoke-api/DomainMapping")["DomainName"] == {"Ref": lid("karaoke-api/Domain")}, "the custom domain is mapped")
st = P("caller/ServiceRole/DefaultPolicy")["PolicyDocument"]["Statement"]
check(len(st) == 1 and st[0]["Action"] == "execute-api:Invoke" and len(st[0]["Resource"]) == 1
      and st[0]["Resource"][0]["Fn::Sub"][0].endswith("${Api}/$default/POST/admin"),
      "invoke: execute-api:Invoke on the one IAM route only")
env = P("caller/Resource")["Environment"]["Variables"]
check(env.get("SYNTH_KARAOKE_API_URL") == {"Fn::GetAtt": [api, "ApiEndpoint"]}, "SYNTH_KARAOKE_API_URL")
outs = t["Outputs"]
check(outs["karaokeApiUrl"]["Value"] == {"Fn::GetAtt": [api, "ApiEndpoint"]} and
      outs["karaokeApiDomainUrl"]["Value"] == "https://api.example.com",
      "outputs: the endpoint and the domain URL")
custom = t["Metadata"].get("AWS::Amplify::Custom", {}).get("stackOutputs", [])
check({"karaokeApiUrl", "karaokeApiDomainUrl", "karaokeApiDomainTarget"} <= set(custom),
      "the outputs are in the custom category of the client config")
PY
fi

# --- hundred: 100 routes split over nested stacks ---------------------------
copy_sample "$FIX/hundred" "$TMP/hundred"
DIR=$TMP/hundred
synth_in "$DIR" --branch main -q
if synth_ok "hundred (100 routes, 100 functions)"; then
	out=$(python3 "$CHECK" "$DIR/cdk.out" --functions 100 --split 2>&1)
	out=$(printf '%s\n' "$out" | grep -v '^# [0-9]* passed' | sed -e 's/^ok - /ok - hundred: /' -e 's/^not ok - /not ok - hundred: /')
	printf '%s\n' "$out"
	T_PASSED=$((T_PASSED + $(printf '%s\n' "$out" | grep -c '^ok - ')))
	T_FAILED=$((T_FAILED + $(printf '%s\n' "$out" | grep -c '^not ok - ')))
	templates=("$DIR"/cdk.out/*.template.json)
	cfn_lint_ok "hundred: cfn-lint finds no errors in the ${#templates[@]} templates" "${templates[@]}"
	cfnspec_ok "hundred: cfnspec.py accepts every template" "${templates[@]}"
	py_checks hundred "$DIR" <<'PY'
import glob, json, sys
files = glob.glob(sys.argv[1] + "/*.template.json")
where, res = {}, {}
for f in files:
    for lid, r in json.load(open(f))["Resources"].items():
        p = r.get("Metadata", {}).get("synth:path")
        if p:
            where[p] = f
            res[p] = r
def check(cond, desc, *diag):
    print(("ok - " if cond else "not ok - ") + desc)
    for d in diag[:10]:
        print("#   " + str(d))
methods = ["GET", "POST", "PUT", "PATCH", "DELETE", "ANY"]
shapes = ["/r%03d", "/r%03d/{id}", "/r%03d/{id}/items/{item}", "/r%03d/{proxy+}"]
ids = ["/r%03d", "/r%03d/_id", "/r%03d/_id/items/_item", "/r%03d/_proxy_"]
arns = ["/r%03d", "/r%03d/*", "/r%03d/*/items/*", "/r%03d/*"]
kinds = {3: "AWS_IAM", 5: "CUSTOM", 7: "NONE"}
split, bad, badarn, badauth, stacks = [], [], [], [], set()
for i in range(100):
    m = methods[i % 6]
    base = "karaoke-api/" + m + ids[i % 4] % i
    parts = [base + "/Integration", base + "/Route", base + "/Permission"]
    if any(p not in res for p in parts):
        bad.append(base)
        continue
    fs = {where[p] for p in parts}
    stacks |= fs
    if len(fs) != 1:
        split.append(base)
    r = res[base + "/Route"]["Properties"]
    if r["RouteKey"] != m + " " + shapes[i % 4] % i:
        bad.append("%s RouteKey %s" % (base, r["RouteKey"]))
    tail = "${Api}/*/" + ("*" if m == "ANY" else m) + arns[i % 4] % i
    fmt = res[base + "/Permission"]["Properties"]["SourceArn"]["Fn::Sub"][0]
    if not fmt.endswith(tail):
        badarn.append("%s: %s" % (base, fmt))
    if r["AuthorizationType"] != kinds.get(i % 10, "JWT"):
        badauth.append("%s: %s" % (base, r["AuthorizationType"]))
check(not bad, "every route has its integration, route and permission, with its key", *bad)
check(not split, "each route's three resources are in one template (its layout group)", *split)
check(len(stacks) >= 2, "the routes spread over %d templates" % len(stacks))
check(not badarn, "each permission is scoped to its route's ARN (method, path, * per parameter)", *badarn)
check(not badauth, "authorization per route: JWT by default, IAM, CUSTOM (Lambda), NONE", *badauth)
n = lambda t: sum(1 for r in res.values() if r["Type"] == t)
check(n("AWS::ApiGatewayV2::Route") == 100 and n("AWS::ApiGatewayV2::Integration") == 100,
      "100 routes and 100 integrations in all")
check(n("AWS::ApiGatewayV2::Authorizer") == 2, "two authorizers: JWT and the shared Lambda one")
st = res["fn001/ServiceRole/DefaultPolicy"]["Properties"]["PolicyDocument"]["Statement"]
check(len(st) == 1 and len(st[0]["Resource"]) == 10,
      "the invoke link grants execute-api:Invoke on exactly the 10 IAM routes")
PY
	cp -a "$DIR/cdk.out" "$TMP/hundred.first"
	synth_in "$DIR" --branch main -q --no-cache
	if d=$(diff -r "$TMP/hundred.first" "$DIR/cdk.out" 2>&1); then
		pass "hundred: a second synth gives identical templates"
	else
		fail "hundred: a second synth gives identical templates"; diag "$(printf '%s\n' "$d" | head -n 5)"
	fi
fi

# --- refusals through the CLI ------------------------------------------------
# refused NAME ROUTE-LINES NEEDLE...: a backend with ROUTE-LINES fails,
# its message containing every NEEDLE.
refused() {
	local name=$1 lines=$2
	shift 2
	local d=$TMP/refused-$name
	mkdir -p "$d/functions/h"
	cp "$FIX/small/functions/h/index.mjs" "$d/functions/h/"
	cat >"$d/backend.c" <<C
#include <synth.h>
#include <synth/api.h>
int main(int argc, char **argv) {
	synth_backend *b;
	if (synth_backend_new(&b, argc, argv) < 0) return synth_backend_fail(NULL);
	synth_function *h = synth_define_function(b, "h", NULL);
	synth_api *api = synth_define_api(b, "karaoke-api", NULL);
	$lines
	return synth_backend_main(b);
}
C
	synth_in "$d" --branch main -q
	if [ "$RC" -ne 0 ]; then pass "$name: refused (exit $RC)"; else fail "$name: refused"; fi
	local n
	for n in "$@"; do
		check_contains "$name: the message names $n" "$ERR" "$n"
	done
}
refused no-slash 'synth_api_route(api, "GET singers", h, NULL);' "karaoke-api" "'GET singers'" "'/'"
refused method 'synth_api_route(api, "FETCH /x", h, NULL);' "karaoke-api" "'FETCH /x'" "method"
refused duplicate 'synth_api_route(api, "GET /s/{id}", h, NULL); synth_api_route(api, "GET /s/{n}", h, NULL);' \
	"karaoke-api" "'GET /s/{n}'" "'GET /s/{id}'"
refused jwt-no-auth 'synth_api_route(api, "GET /me", h, &(synth_api_route_opts){.auth = {SYNTH_API_AUTH_JWT}});' \
	"karaoke-api" "'GET /me'" "synth_define_auth"
refused lambda-no-fn 'synth_api_route(api, "GET /l", h, &(synth_api_route_opts){.auth = {SYNTH_API_AUTH_LAMBDA}});' \
	"karaoke-api" "'GET /l'" "needs a function"
finish

#!/usr/bin/env python3
"""Generated cases where synth's own checks and cfn-lint must agree.

Driven by test/cli/lint_agree.sh. Writes many small inputs, runs each
through the real `synth` and the same template through cfn-lint (its
Python API: one runner for all), and prints one TAP line per case.

  construct cases: a backend.c (compiled once by synth, cached) defines
    one function from CASE_RUNTIME / CASE_ENV_FILE; cfn-lint reads the
    template the construct emits for that input (the baseline function's
    template with that Runtime / Environment.Variables: the construct
    copies both verbatim).
  template cases: an --app that writes a hand-made template into the
    assembly (raw resources: Fn::Sub, Fn::If, Lambda functions), so the
    CLI's template check (cli/validate.c) sees exactly what cfn-lint sees.

Agreement: synth refuses (exit 1, an error naming the construct path)
exactly when cfn-lint reports an error; synth warns about a runtime
exactly when cfn-lint warns W2531. One documented exception: Lambda
measures an environment as compact JSON in UTF-8 bytes, cfn-lint (E3697)
as names plus values in characters, so between the two synth refuses and
cfn-lint does not ("stricter"); such cases are asserted as that.

Usage: lint_agree.py SYNTH WORKDIR ROOT
"""
import copy
import datetime
import json
import os
import shutil
import subprocess
import sys

import cfnlint
from cfnlint.config import ConfigMixIn
from cfnlint.decode.decode import decode_str
from cfnlint.runner import Runner

SYNTH, WORK, ROOT = sys.argv[1], sys.argv[2], sys.argv[3]
PKG = os.path.dirname(cfnlint.__file__)
results = {"pass": 0, "fail": 0}


def tap(ok, desc, diag=()):
    results["pass" if ok else "fail"] += 1
    print(("ok - " if ok else "not ok - ") + desc, flush=True)
    if not ok:
        for d in diag:
            for line in str(d).splitlines()[:12]:
                print("#   " + line)


def run_synth(cwd, args, env=None):
    e = dict(os.environ)
    e.update(env or {})
    p = subprocess.run([SYNTH, "--branch", "main", "-q"] + args, cwd=cwd, env=e,
                       capture_output=True, text=True)
    return p.returncode, p.stderr


def root_template(out):
    m = json.load(open(os.path.join(out, "manifest.json")))
    for a in m["artifacts"].values():
        f = a.get("properties", {}).get("templateFile")
        if f:
            return os.path.join(out, f)
    raise SystemExit("no template in " + out)


# --- construct cases --------------------------------------------------------

BACKEND = r'''
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <synth.h>
/* One function from the case: CASE_RUNTIME, CASE_ENV_FILE (NAME=VALUE lines). */
int main(int argc, char **argv)
{
	synth_backend *b;
	if (synth_backend_new(&b, argc, argv) < 0)
		return synth_backend_fail(NULL);
	static synth_env env[1024];
	static char line[65536];
	size_t n = 0;
	const char *path = getenv("CASE_ENV_FILE");
	FILE *f = path && *path ? fopen(path, "r") : NULL;
	while (f && n < 1023 && fgets(line, sizeof line, f)) {
		line[strcspn(line, "\n")] = '\0';
		char *eq = strchr(line, '=');
		if (!eq)
			continue;
		*eq = '\0';
		env[n].name = strdup(line);
		env[n].value = strdup(eq + 1);
		n++;
	}
	if (f)
		fclose(f);
	synth_define_function(b, "fn", &(synth_function_props){
		.entry = "functions/fn", .handler = "index.handler",
		.runtime = getenv("CASE_RUNTIME"), .environment = env});
	int rc = synth_backend_main(b);
	for (size_t i = 0; i < n; i++)
		free((char *)env[i].name), free((char *)env[i].value);
	return rc;
}
'''


def construct_dir():
    d = os.path.join(WORK, "construct")
    os.makedirs(os.path.join(d, "functions", "fn"), exist_ok=True)
    open(os.path.join(d, "backend.c"), "w").write(BACKEND)
    open(os.path.join(d, "functions", "fn", "index.mjs"), "w").write(
        "export const handler = async () => 1;\n")
    open(os.path.join(d, "functions", "fn", "index.py"), "w").write(
        "def handler(event, context):\n    return 1\n")
    return d


def baseline(d):
    rc, err = run_synth(d, [], {"CASE_RUNTIME": "nodejs24.x", "CASE_ENV_FILE": ""})
    if rc != 0:
        raise SystemExit("the baseline backend does not synthesize:\n" + err)
    t = json.load(open(root_template(os.path.join(d, "cdk.out"))))
    for lid, r in t["Resources"].items():
        if r["Type"] == "AWS::Lambda::Function":
            return t, lid
    raise SystemExit("no function in the baseline")


def runtime_cases():
    enum = []
    for op in json.load(open(os.path.join(PKG, "data", "schemas", "patches", "extensions",
                                          "all", "aws_lambda_function", "smithy.json"))):
        if op.get("path") == "/properties/Runtime/enum":
            enum = op["value"]
    bogus = ["dotnet9", "dotnet11", "nodejs26.x", "nodejs24", "NODEJS24.X", "python3.15",
             "python3", "java26", "ruby4.1", "provided.al2024", "go1.y", "cobol85",
             " nodejs24.x", "nodejs24.x ", "node.js"]
    return sorted(enum) + bogus


def env_cases():
    """(label, {name: value}, note) around 4 KB by both measures."""
    cases = []
    # One variable "BIG": names+values = 3 + n; JSON = 10 + n.
    for total in (4000, 4086, 4087, 4095, 4096, 4097, 4200, 8192):
        n = total - 3
        cases.append(("one variable, names+values %d" % total, {"BIG": "x" * n}))
    for js in (4095, 4096, 4097):
        n = js - 10
        cases.append(("one variable, JSON %d" % js, {"BIG": "x" * n}))
    # Many variables: names+values exactly at cfn-lint's limit and past it.
    for extra in (-1, 0, 1):
        v = {"V%03d" % i: "y" * 36 for i in range(102)}  # 102 * 40 = 4080
        v["LAST"] = "z" * (12 + extra)                    # + 4 + 12 = 4096
        cases.append(("103 variables, names+values %d" % (4096 + extra), v))
    # Quotes and backslashes: one character each, two bytes in JSON.
    cases.append(("escapes, names+values 3001", {"QQ": '"\\' * 1499 + "x"}))
    # Non-ASCII: two UTF-8 bytes a character.
    cases.append(("2,000 'é', names+values 2004 characters", {"ACCENT": "é" * 1998}))
    cases.append(("small", {"A1": "1", "B2": "two"}))
    return cases


def env_sizes(v):
    chars = sum(len(k) + len(x) for k, x in v.items())
    js = len(json.dumps(v, separators=(",", ":"), ensure_ascii=False).encode())
    return chars, js


# --- template cases ---------------------------------------------------------

def raw_template(value=None, conditions=True, output=None, lambda_props=None):
    t = {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Parameters": {
            "Stage": {"Type": "String", "Default": "dev"},
            "Names": {"Type": "CommaDelimitedList", "Default": "a,b"},
        },
        "Resources": {
            "Topic": {"Type": "AWS::SNS::Topic", "Metadata": {"synth:path": "raw/Topic"}},
            "Queue": {"Type": "AWS::SQS::Queue", "Metadata": {"synth:path": "raw/Queue"}},
        },
    }
    if conditions:
        t["Conditions"] = {"IsProd": {"Fn::Equals": [{"Ref": "Stage"}, "prod"]}}
    if value is not None:
        t["Resources"]["Param"] = {
            "Type": "AWS::SSM::Parameter",
            "Properties": {"Type": "String", "Value": value},
            "Metadata": {"synth:path": "raw/Param"},
        }
    if output is not None:
        t["Outputs"] = {"Out": {"Value": output}}
    if lambda_props is not None:
        p = {"Code": {"S3Bucket": "code-bucket", "S3Key": "k.zip"}, "Handler": "index.handler",
             "Role": "arn:aws:iam::123456789012:role/r", "Runtime": "nodejs24.x"}
        p.update(lambda_props)
        t["Resources"]["Fn"] = {"Type": "AWS::Lambda::Function", "Properties": p,
                                "Metadata": {"synth:path": "raw/Fn"}}
    return t


def sub_cases():
    s = lambda x, v=None: {"Fn::Sub": x if v is None else [x, v]}  # noqa: E731
    return [
        ("Sub of a resource", s("${Topic}")),
        ("Sub of a resource attribute", s("${Topic.TopicName}")),
        ("Sub of another attribute", s("${Queue.Arn}")),
        ("Sub of QueueUrl", s("${Queue.QueueUrl}")),
        ("Sub of an unknown attribute", s("${Topic.Nope}")),
        ("Sub of an attribute of an unknown resource", s("${Nope.Arn}")),
        ("Sub of an unknown name", s("${Nope}")),
        ("Sub of an unknown name with blanks", s("${ Nope }")),
        ("Sub of a resource with blanks", s("${ Topic }")),
        ("Sub of a parameter", s("${Stage}")),
        ("Sub of a list parameter", s("${Names}")),
        ("Sub of pseudo parameters",
         s("arn:${AWS::Partition}:sns:${AWS::Region}:${AWS::AccountId}:${AWS::StackName}"
           "-${AWS::URLSuffix}-${AWS::StackId}")),
        ("Sub of an unknown pseudo parameter", s("${AWS::Nope}")),
        ("Sub escape ${!Literal}", s("${!Literal}")),
        ("Sub escape of an unknown attribute", s("${!Topic.Nope}")),
        ("Sub with no variable", s("plain text")),
        ("Sub with a bare $", s("$Nope and ${Topic}")),
        ("Sub with an unclosed ${", s("${Topic")),
        ("Sub with a variable", s("${X}-${Topic}", {"X": "v"})),
        ("Sub with a token variable", s("${X}", {"X": {"Ref": "Topic"}})),
        ("Sub naming a variable it lacks", s("${X}", {"Y": "v"})),
        ("Sub with a variable that refers to itself", s("${X}", {"X": {"Ref": "X"}})),
        ("Sub with a variable holding an unknown Ref", s("${X}", {"X": {"Ref": "Nope"}})),
        ("Sub with a variable holding a bad If", s("${X}",
                                                     {"X": {"Fn::If": ["Nope", "a", "b"]}})),
        ("Sub with a dotted variable of the Sub", s("${X.Y}", {"X.Y": "v"})),
        ("Sub in a list of many, one bad", {"Fn::Join": ["", [s("${Topic}"), s("${Nope}")]]}),
    ]


def if_cases():
    i = lambda c, a="a", b="b": {"Fn::If": [c, a, b]}  # noqa: E731
    nv = {"Ref": "AWS::NoValue"}
    return [
        ("If on a declared condition", i("IsProd"), True, None),
        ("If on an undeclared condition", i("Nope"), True, None),
        ("If with no Conditions section", i("IsProd"), False, None),
        ("If nested in If, inner undeclared", i("IsProd", i("Nope"), "b"), True, None),
        ("If nested in If, both declared", i("IsProd", i("IsProd"), "b"), True, None),
        ("If in an output, undeclared", None, True, i("Nope")),
        ("If in an output, declared", None, True, i("IsProd")),
        ("If with AWS::NoValue", {"Fn::Join": ["", [i("IsProd", "x", "y")]]}, True, None),
        ("If in a Sub variable, declared", {"Fn::Sub": ["${V}", {"V": i("IsProd")}]}, True,
         None),
        ("If with a condition name in the wrong case", i("isprod"), True, None),
        ("If of a Ref, undeclared", i("Nope", {"Ref": "Topic"}, nv), True, None),
    ]


def write_app(d, template):
    """An assembly dir to copy with --app: the baseline's manifest, asset
    manifest and assets, the case's template under the root template's name."""
    base = os.path.join(WORK, "construct", "cdk.out")
    if os.path.exists(d):
        shutil.rmtree(d)
    # The assets too: synth refuses an --app assembly whose asset manifest
    # names a file it does not hold.
    shutil.copytree(base, d, ignore=shutil.ignore_patterns("synth-assets.json", ".synth*"))
    name = os.path.basename(root_template(base))
    json.dump(template, open(os.path.join(d, name), "w"), indent=1)
    return os.path.join(d, name)


# --- cfn-lint ---------------------------------------------------------------

_runner = []


def lint(template):
    """cfn-lint's findings: one Runner (its rules loaded once) for all."""
    if not _runner:
        _runner.append(Runner(ConfigMixIn(regions=["us-east-1"])))
    decoded, errors = decode_str(json.dumps(template))
    ms = errors or list(_runner[0].validate_template(decoded))
    errs = sorted({m.rule.id for m in ms if m.rule.id.startswith("E")})
    warns = sorted({m.rule.id for m in ms if m.rule.id.startswith("W")})
    msgs = [m.rule.id + " " + m.message for m in ms if m.rule.id.startswith("E")]
    return errs, warns, msgs


def main():
    d = construct_dir()
    base, fn_lid = baseline(d)
    base_errs, _, msgs = lint(base)
    tap(not base_errs, "the baseline function passes cfn-lint", msgs)

    # Runtimes: every one cfn-lint knows, and bogus ones.
    for rt in runtime_cases():
        t = copy.deepcopy(base)
        t["Resources"][fn_lid]["Properties"]["Runtime"] = rt
        errs, warns, msgs = lint(t)
        rc, err = run_synth(d, [], {"CASE_RUNTIME": rt, "CASE_ENV_FILE": ""})
        refused = rc != 0
        warned = "warning: fn: runtime" in err
        tap(refused == bool(errs) and (refused or warned == ("W2531" in warns)),
            "runtime %r: synth %s, cfn-lint %s" % (
                rt, "refuses" if refused else "warns" if warned else "accepts",
                ",".join(errs + warns) or "accepts"),
            ["synth exit %d: %s" % (rc, err)] + msgs)
        if refused:
            tap("error: fn:" in err and (rt.strip() != rt or repr(rt) in err or rt in err),
                "runtime %r: the message names the function and the runtime" % rt, [err])
        if warned:
            info = [ln for ln in open(os.path.join(ROOT, "lib", "core",
                                                   "lambda_runtimes.inc"))
                    if ln.startswith('{"%s",' % rt)]
            dates = info[0].split('"')[3:8:2] if info else []
            tap(dates and all(x in err for x in dates),
                "runtime %r: the warning gives its dates %s" % (rt, dates), [err])

    # Environment sizes.
    for i, (label, v) in enumerate(env_cases()):
        t = copy.deepcopy(base)
        t["Resources"][fn_lid]["Properties"]["Environment"] = {"Variables": v}
        errs, _, msgs = lint(t)
        path = os.path.join(WORK, "env%d" % i)
        with open(path, "w") as f:
            for k, x in v.items():
                f.write("%s=%s\n" % (k, x))
        rc, err = run_synth(d, [], {"CASE_RUNTIME": "nodejs24.x", "CASE_ENV_FILE": path})
        refused = rc != 0
        chars, js = env_sizes(v)
        lint_refuses = "E3697" in errs
        other = [e for e in errs if e != "E3697"]
        if chars <= 4096 < js:
            ok = refused and not lint_refuses
            verdict = "stricter"
        else:
            ok = refused == lint_refuses
            verdict = "agree"
        tap(ok and not other,
            "environment %s (names+values %d, JSON %d bytes): synth %s, cfn-lint %s (%s)" % (
                label, chars, js, "refuses" if refused else "accepts",
                "refuses" if lint_refuses else "accepts", verdict),
            ["synth exit %d: %s" % (rc, err)] + msgs)
        if refused:
            tap("error: fn: environment is %d bytes" % js in err,
                "environment %s: the message names the function and the size" % label, [err])

    # Template cases through --app.
    app = os.path.join(WORK, "app")
    os.makedirs(app, exist_ok=True)
    tcases = [(label, raw_template(value=v), "raw/Param") for label, v in sub_cases()]
    for label, v, conds, out in if_cases():
        tcases.append((label, raw_template(value=v, conditions=conds, output=out),
                       "raw/Param" if v is not None else "Outputs"))
    for rt in ("nodejs24.x", "dotnet10", "dotnet9", "go1.x", "nodejs20.x", "dotnet8"):
        tcases.append(("raw function, runtime %s" % rt,
                       raw_template(lambda_props={"Runtime": rt}), "raw/Fn"))
    for n in (4086, 4087):
        tcases.append(("raw function, environment JSON %d" % (n + 10),
                       raw_template(lambda_props={"Environment": {"Variables": {
                           "BIG": "x" * n}}}), "raw/Fn"))
    tcases.append(("raw function, environment names+values 4097",
                   raw_template(lambda_props={"Environment": {"Variables": {
                       "BIG": "x" * 4094}}}), "raw/Fn"))
    for i, (label, t, where) in enumerate(tcases):
        errs, warns, msgs = lint(t)
        src = os.path.join(WORK, "case%d" % i)
        write_app(src, t)
        rc, err = run_synth(app, ["--app", "cp -r '%s'/. \"$CDK_OUTDIR\"/" % src])
        refused = rc != 0
        vars_ = t["Resources"].get("Fn", {}).get("Properties", {}).get(
            "Environment", {}).get("Variables")
        stricter = False
        if vars_:
            chars, js = env_sizes(vars_)
            stricter = chars <= 4096 < js
        ok = (refused and not errs) if stricter else refused == bool(errs)
        # A raw function's deprecated runtime: a warning, as cfn-lint's W2531.
        warned = "warning:" in err and "is deprecated since" in err
        ok = ok and (refused or warned == ("W2531" in warns))
        tap(ok, "%s: synth %s, cfn-lint %s%s" % (
            label, "refuses" if refused else "warns" if warned else "accepts",
            ",".join(errs + [w for w in warns if w == "W2531"]) or "accepts",
            " (stricter)" if stricter else ""), ["synth exit %d: %s" % (rc, err)] + msgs)
        if warned:
            tap(where in err, "%s: the warning names %s" % (label, where), [err])
        if refused:
            tap(where in err, "%s: the message names %s" % (label, where), [err])

    print("# %d passed, %d failed" % (results["pass"], results["fail"]))
    sys.exit(1 if results["fail"] else 0)


main()

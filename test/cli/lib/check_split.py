#!/usr/bin/env python3
"""Checks the stack layout of a cloud assembly written by synth.

Usage: check_split.py ASSEMBLY_DIR --functions N (--split | --single)
                      [--gen-refs] [--min-stacks K]

Prints one TAP line per assertion ("ok - ..." / "not ok - ..." with "#"
diagnostics) and exits 1 if any failed.

  --functions N  the backend defines N functions fn000..fnN-1: exactly N
                 AWS::Lambda::Function across all templates, each once
  --split        the root has nested stacks (AWS::CloudFormation::Stack);
  --single       everything is in one template
  --gen-refs     the backend comes from test/gen/gen_backend.sh without -p:
                 check that every cross reference it makes resolves, through
                 the nested stack parameters and outputs, to the right
                 resource and attribute

Layout checks: CloudFormation limits per template (500 resources, 200
outputs, 200 parameters, 1,000,000 bytes minified); every nested template
is reached from the root through exactly one AWS::CloudFormation::Stack
whose TemplateURL names the template's SHA-256 and whose Parameters match
the nested template's Parameters one to one; every passed value is a Ref
to the root's resources or parameters or an Fn::GetAtt [Nested, Outputs.X]
of an output that the other nested template declares; every nested
output is used; the graph of nested stacks (DependsOn, GetAtt) is acyclic
and covers every GetAtt; each resource (by its synth:path) appears once.
"""

import argparse
import glob
import hashlib
import json
import os
import re
import sys

LIMIT_RESOURCES, LIMIT_OUTPUTS, LIMIT_PARAMETERS, LIMIT_BYTES = 500, 200, 200, 1000000

passed = failed = 0


def check(cond, desc, *diag):
    global passed, failed
    if cond:
        passed += 1
        print("ok - " + desc)
    else:
        failed += 1
        print("not ok - " + desc)
        for d in diag[:20]:
            print("#   " + str(d))
    return cond


def walk(node, fn, path=""):
    """Calls fn(node, path) on every dict/list/scalar node."""
    fn(node, path)
    if isinstance(node, dict):
        for k, v in node.items():
            walk(v, fn, path + "." + k)
    elif isinstance(node, list):
        for i, v in enumerate(node):
            walk(v, fn, "%s[%d]" % (path, i))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("--functions", type=int, required=True)
    mode = ap.add_mutually_exclusive_group(required=True)
    mode.add_argument("--split", action="store_true")
    mode.add_argument("--single", action="store_true")
    ap.add_argument("--gen-refs", action="store_true")
    ap.add_argument("--min-stacks", type=int, default=0)
    a = ap.parse_args()
    d = a.dir

    try:
        man = json.load(open(os.path.join(d, "manifest.json")))
    except (OSError, ValueError) as e:
        check(False, "the assembly has a readable manifest.json", e)
        return 1
    stacks = [(k, v) for k, v in man["artifacts"].items() if v["type"] == "aws:cloudformation:stack"]
    check(len(stacks) == 1, "manifest.json has one stack artifact (nested stacks are not artifacts)",
          [k for k, _ in stacks])
    root_file = stacks[0][1]["properties"]["templateFile"]
    files = sorted(os.path.basename(p) for p in glob.glob(os.path.join(d, "*.template.json")))
    tpl = {f: json.load(open(os.path.join(d, f))) for f in files}
    raw = {f: open(os.path.join(d, f), "rb").read() for f in files}
    root = tpl[root_file]
    nested_res = {lid: r for lid, r in root["Resources"].items()
                  if r["Type"] == "AWS::CloudFormation::Stack"}

    if a.split:
        check(len(files) > 1, "the assembly has more than one template (%d)" % len(files))
        check(len(nested_res) > 0, "the root template has AWS::CloudFormation::Stack resources (%d)"
              % len(nested_res))
    else:
        check(len(files) == 1, "the assembly has exactly one template (%d)" % len(files), files)
        check(len(nested_res) == 0, "the root template has no nested stacks")
    if a.min_stacks:
        check(len(files) >= a.min_stacks, "at least %d templates (%d)" % (a.min_stacks, len(files)))

    # --- limits -----------------------------------------------------------
    for f in files:
        t = tpl[f]
        nr, no, np_ = len(t.get("Resources", {})), len(t.get("Outputs", {})), len(t.get("Parameters", {}))
        size = len(json.dumps(t, separators=(",", ":")))
        check(nr <= LIMIT_RESOURCES, "%s: %d resources <= %d" % (f, nr, LIMIT_RESOURCES))
        check(no <= LIMIT_OUTPUTS, "%s: %d outputs <= %d" % (f, no, LIMIT_OUTPUTS))
        check(np_ <= LIMIT_PARAMETERS, "%s: %d parameters <= %d" % (f, np_, LIMIT_PARAMETERS))
        check(size <= LIMIT_BYTES, "%s: %d bytes minified <= %d" % (f, size, LIMIT_BYTES))

    # --- nested stack wiring ----------------------------------------------
    lid_file = {}
    problems = []
    for lid, r in nested_res.items():
        md = r.get("Metadata", {})
        f = md.get("aws:asset:path")
        if f not in tpl or f == root_file:
            problems.append("%s: aws:asset:path %r is not a nested template of the assembly" % (lid, f))
            continue
        lid_file[lid] = f
        url = json.dumps(r.get("Properties", {}).get("TemplateURL"))
        h = hashlib.sha256(raw[f]).hexdigest()
        if h + ".json" not in url:
            problems.append("%s: TemplateURL %s does not name sha256(%s) = %s" % (lid, url, f, h))
    check(not problems, "every nested stack resource names its template (aws:asset:path) "
          "and its TemplateURL holds the template's SHA-256", *problems)
    nested_files = [f for f in files if f != root_file]
    used = sorted(lid_file.values())
    check(used == sorted(nested_files), "every nested template is used by exactly one nested stack "
          "resource", "templates: %s" % nested_files, "used: %s" % used)

    # Assets: every nested template is published.
    am_file = [v["properties"]["file"] for v in man["artifacts"].values() if v["type"] == "cdk:asset-manifest"]
    am = json.load(open(os.path.join(d, am_file[0]))) if am_file else {"files": {}}
    published = {v["source"]["path"]: k for k, v in am["files"].items()}
    problems = ["%s is not in the asset manifest" % f for f in files if f not in published]
    problems += ["%s is published as %s, not its SHA-256" % (f, published[f]) for f in files
                 if f in published and published[f] != hashlib.sha256(raw[f]).hexdigest()]
    check(not problems, "the asset manifest publishes every template under its SHA-256", *problems)

    # Parameters of each nested template == Parameters passed by the root.
    root_names = set(root["Resources"]) | set(root.get("Parameters", {}))
    problems = []
    edges = {lid: set() for lid in nested_res}
    for lid, f in lid_file.items():
        t = tpl[f]
        declared = set(t.get("Parameters", {}))
        passed_params = nested_res[lid].get("Properties", {}).get("Parameters", {})
        for p in sorted(declared - set(passed_params)):
            if "Default" not in t["Parameters"][p]:
                problems.append("%s: parameter %s is declared but not passed by the root" % (f, p))
        for p in sorted(set(passed_params) - declared):
            problems.append("%s: the root passes %s, which the template does not declare" % (f, p))
        for p, v in passed_params.items():
            if isinstance(v, dict) and list(v) == ["Ref"]:
                if v["Ref"] not in root_names and not v["Ref"].startswith("AWS::"):
                    problems.append("%s.%s: Ref %s is not in the root" % (lid, p, v["Ref"]))
            elif isinstance(v, dict) and list(v) == ["Fn::GetAtt"]:
                tgt, attr = v["Fn::GetAtt"]
                if tgt in nested_res:
                    m = re.match(r"^Outputs\.(.+)$", attr)
                    if not m:
                        problems.append("%s.%s: GetAtt %s.%s is not an output" % (lid, p, tgt, attr))
                    elif tgt == lid:
                        problems.append("%s.%s: a nested stack reads its own output" % (lid, p))
                    elif tgt in lid_file and m.group(1) not in tpl[lid_file[tgt]].get("Outputs", {}):
                        problems.append("%s.%s: %s declares no output %s" % (lid, p, tgt, m.group(1)))
                    edges[lid].add(tgt)
                elif tgt not in root["Resources"]:
                    problems.append("%s.%s: GetAtt of %s, not in the root" % (lid, p, tgt))
            else:
                problems.append("%s.%s: passed value %s is neither a Ref nor a GetAtt" % (lid, p, json.dumps(v)))
    check(not problems, "each nested template's Parameters are exactly the ones the root passes, "
          "as Ref to the root or Fn::GetAtt [Nested, Outputs.X] of a declared output", *problems)

    # Root-level references to nested stacks go through Outputs only.
    problems = []

    def root_refs(node, path):
        if isinstance(node, dict) and len(node) == 1:
            k, v = next(iter(node.items()))
            if k == "Fn::GetAtt" and isinstance(v, list) and v and v[0] in nested_res:
                m = re.match(r"^Outputs\.(.+)$", str(v[1]))
                if not m:
                    problems.append("%s: GetAtt %s" % (path, v))
                elif v[0] in lid_file and m.group(1) not in tpl[lid_file[v[0]]].get("Outputs", {}):
                    problems.append("%s: %s declares no output %s" % (path, v[0], m.group(1)))
            if k == "Ref" and v in nested_res:
                problems.append("%s: Ref of a nested stack" % path)
    for lid, r in root["Resources"].items():
        if lid not in nested_res:
            walk(r, root_refs, "Resources." + lid)
    walk(root.get("Outputs", {}), root_refs, "Outputs")
    check(not problems, "the root reads nested stacks only through Fn::GetAtt Outputs.X", *problems)

    # No Fn::ImportValue: cross-stack values are parameters, not exports.
    imports = [f for f in files if b"Fn::ImportValue" in raw[f]]
    check(not imports, "no template uses Fn::ImportValue", *imports)

    # Every nested output is read by the root (passed on or used).
    root_text = json.dumps(root)
    problems = []
    for lid, f in lid_file.items():
        for o in tpl[f].get("Outputs", {}):
            if json.dumps([lid, "Outputs." + o]) not in root_text:
                problems.append("%s: output %s is never read" % (f, o))
    check(not problems, "every output of a nested template is read by the root", *problems)

    # Stack graph: DependsOn + GetAtt among nested stacks, acyclic.
    problems = []
    for lid, r in nested_res.items():
        dep = r.get("DependsOn", [])
        dep = [dep] if isinstance(dep, str) else dep
        for x in dep:
            if x not in root["Resources"]:
                problems.append("%s: DependsOn unknown %s" % (lid, x))
            elif x in nested_res:
                edges[lid].add(x)
    color = {}
    cycle = []

    def dfs(v, trail):
        color[v] = 1
        for w in sorted(edges[v]):
            if color.get(w) == 1 and not cycle:
                cycle.extend(trail[trail.index(w):] + [v, w] if w in trail else [v, w])
            elif w not in color:
                dfs(w, trail + [v])
        color[v] = 2
    for v in sorted(edges):
        if v not in color:
            dfs(v, [])
    check(not problems and not cycle, "the nested stack graph (DependsOn, GetAtt Outputs) is acyclic",
          *(problems + (["cycle: " + " -> ".join(cycle)] if cycle else [])))

    # --- every resource once ----------------------------------------------
    paths = {}
    for f in files:
        for lid, r in tpl[f]["Resources"].items():
            if r["Type"] == "AWS::CloudFormation::Stack":
                continue
            p = r.get("Metadata", {}).get("synth:path")
            paths.setdefault(p, []).append((f, lid, r["Type"]))
    dups = ["%s in %s" % (p, v) for p, v in paths.items() if len(v) > 1 or p is None]
    check(not dups, "every resource (by synth:path) appears exactly once across the templates (%d)"
          % len(paths), *dups)
    fns = sorted(p for p, v in paths.items() if v[0][2] == "AWS::Lambda::Function")
    check(len(fns) == a.functions, "AWS::Lambda::Function count across all templates == %d (%d)"
          % (a.functions, len(fns)))
    want = ["fn%03d/Resource" % i for i in range(a.functions)]
    check(fns == want,
          "the functions are exactly fn000..fn%03d" % (a.functions - 1),
          "missing: %s" % sorted(set(want) - set(fns))[:10], "extra: %s" % sorted(set(fns) - set(want))[:10])

    # manifest.json metadata: one logical ID entry per resource.
    md = stacks[0][1].get("metadata", {})
    problems = []
    for p, v in paths.items():
        f, lid, _ = v[0]
        hits = [k for k in md if k.endswith("/" + p) if md[k][0].get("data") == lid]
        if len(hits) != 1:
            problems.append("%s (%s) has %d metadata entries" % (p, lid, len(hits)))
    check(not problems, "manifest.json metadata maps every resource path to its logical ID", *problems[:10])

    # --- semantic resolution of the generator's references -------------------
    if a.gen_refs:
        by_lid = {(f, lid): r for f in files for lid, r in tpl[f]["Resources"].items()}
        file_of_lid = {v: k for k, v in lid_file.items()}

        def resolve(f, v, depth=0):
            """Follows a value to (synth:path, attribute) through parameters and outputs."""
            if depth > 8 or not isinstance(v, dict) or len(v) != 1:
                return ("?", json.dumps(v))
            k, x = next(iter(v.items()))
            t = tpl[f]
            if k == "Ref":
                if x in t["Resources"]:
                    return (t["Resources"][x]["Metadata"]["synth:path"], None)
                if x in t.get("Parameters", {}) and f != root_file:
                    lid = file_of_lid[f]
                    pv = nested_res[lid]["Properties"].get("Parameters", {}).get(x)
                    return resolve(root_file, pv, depth + 1) if pv else ("?", "unpassed " + x)
                return ("?", "Ref " + x)
            if k == "Fn::GetAtt":
                tgt, attr = x
                if f == root_file and tgt in nested_res and attr.startswith("Outputs."):
                    nf = lid_file[tgt]
                    out = tpl[nf].get("Outputs", {}).get(attr[8:])
                    return resolve(nf, out["Value"], depth + 1) if out else ("?", "no output " + attr)
                if tgt in t["Resources"]:
                    return (t["Resources"][tgt]["Metadata"]["synth:path"], attr)
                return ("?", "GetAtt %s" % x)
            return ("?", json.dumps(v))

        where = {}
        for f in files:
            for lid, r in tpl[f]["Resources"].items():
                p = r.get("Metadata", {}).get("synth:path")
                if p:
                    where[p] = (f, r)
        n = a.functions
        problems = []
        checked = 0
        for i in range(n):
            f, r = where.get("fn%03d/Resource" % i, (None, None))
            if not r:
                continue
            env = r["Properties"].get("Environment", {}).get("Variables", {})
            if i > 0:
                got = resolve(f, env.get("PREV_ARN"))
                checked += 1
                if got != ("fn%03d/Resource" % (i - 1), "Arn"):
                    problems.append("fn%03d PREV_ARN -> %s" % (i, got))
            if i % 10 == 0:
                got = resolve(f, env.get("TOPIC_ARN"))
                checked += 1
                if got != ("Topic/Resource", None):
                    problems.append("fn%03d TOPIC_ARN -> %s" % (i, got))
            if i % 40 == 7:
                for rid, prop in (("Sub%03d/Resource" % i, "Endpoint"), ("Perm%03d/Resource" % i, "FunctionName")):
                    sf, sr = where.get(rid, (None, None))
                    got = resolve(sf, sr["Properties"].get(prop)) if sr else ("?", "missing " + rid)
                    checked += 1
                    if got != ("fn%03d/Resource" % i, "Arn"):
                        problems.append("%s.%s -> %s" % (rid, prop, got))
            if i % 50 == 49:
                o = root.get("Outputs", {}).get("fn%03dName" % i)
                got = resolve(root_file, o["Value"]) if o else ("?", "no root output fn%03dName" % i)
                checked += 1
                if got != ("fn%03d/Resource" % i, None):
                    problems.append("output fn%03dName -> %s" % (i, got))
        if n:
            f, r = where.get("LastArn/Resource", (None, None))
            got = resolve(f, r["Properties"].get("Value")) if r else ("?", "missing LastArn")
            checked += 1
            if got != ("fn%03d/Resource" % (n - 1), "Arn"):
                problems.append("LastArn.Value -> %s" % (got,))
        check(not problems, "every cross reference of the generated backend (%d) resolves to the "
              "right resource and attribute through parameters and outputs" % checked, *problems)
        # Policies of granted functions name the topic.
        problems = []
        for i in range(0, n, 25):
            f, r = where.get("fn%03d/ServiceRole/DefaultPolicy" % i, (None, None))
            if not r:
                problems.append("fn%03d has no DefaultPolicy" % i)
                continue
            st = r["Properties"]["PolicyDocument"]["Statement"]
            got = [resolve(f, s.get("Resource")) for s in st]
            if ("Topic/Resource", None) not in got:
                problems.append("fn%03d DefaultPolicy resources: %s" % (i, got))
        check(not problems, "every granted function's DefaultPolicy allows the topic", *problems)

    print("# %d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

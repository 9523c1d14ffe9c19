#!/usr/bin/env python3
"""Regenerates spec/cfn-spec.jsonl.gz, the compact CloudFormation resource
specification that `synth` checks templates against at synth time.

Source: the npm package @aws-cdk/aws-service-spec (db.json.gz, Apache-2.0),
installed by test/spec/setup.sh into test/.deps. The compact form is the one
test/spec/cfnspec.py builds, one resource type per line so that synth parses
only the types a template uses (parsing all of it took ~80 ms):
  line 1:     "#" followed by the source package and version
  other lines: TYPE <TAB> {"p": PROPS, "a": [attributes],
                           "t": {ID: {"n": name, "p": PROPS}}}
  where "t" holds every property type reachable from the resource.
  PROPS = {NAME: [[CTYPE, ...] accepted alternatives, required]}
  CTYPE = "string" | "integer" | "number" | "boolean" | "json" | "tag" |
          "date-time" | ["array", CTYPE] | ["map", CTYPE] | ["ref", ID] |
          ["union", [CTYPE, ...]]
Run: bash test/spec/setup.sh && python3 scripts/gen-spec.py
"""
import gzip
import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "test", "spec"))
import cfnspec  # noqa: E402

pkg = os.path.join(ROOT, "test", ".deps", "node_modules", "@aws-cdk", "aws-service-spec")
db = os.path.join(pkg, "db.json.gz")
version = json.load(open(os.path.join(pkg, "package.json")))["version"]
index = cfnspec.build_index(db)
types = index["types"]


def refs(ctype, out):
    """Collect the property type ids a compact type mentions."""
    if isinstance(ctype, list):
        if ctype[0] == "ref":
            if ctype[1] not in out:
                out.add(ctype[1])
                for alts, _ in types[ctype[1]]["p"].values():
                    for a in alts:
                        refs(a, out)
        elif ctype[0] == "union":
            for a in ctype[1]:
                refs(a, out)
        else:
            refs(ctype[1], out)


lines = ["# @aws-cdk/aws-service-spec " + version]
for name in sorted(index["resources"]):
    r = index["resources"][name]
    ids = set()
    for alts, _ in r["p"].values():
        for a in alts:
            refs(a, ids)
    entry = {"p": r["p"], "a": r["a"], "t": {i: types[i] for i in sorted(ids)}}
    lines.append(name + "\t" + json.dumps(entry, separators=(",", ":"), sort_keys=True))
out = os.path.join(ROOT, "spec", "cfn-spec.jsonl.gz")
tmp = out + ".tmp"
# mtime=0: the same spec gives the same bytes.
with open(tmp, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, filename="") as f:
    f.write(("\n".join(lines) + "\n").encode())
os.replace(tmp, out)
print(f"{out}: {len(index['resources'])} resource types, {os.path.getsize(out)} bytes")

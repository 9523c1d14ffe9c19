#!/usr/bin/env python3
"""Regenerates spec/cfn-spec.jsonl.gz, the compact CloudFormation resource
specification that `synth` checks templates against at synth time.

Source: the npm package @aws-cdk/aws-service-spec (db.json.gz, Apache-2.0),
installed by test/spec/setup.sh into test/.deps. The compact form is the one
test/spec/cfnspec.py builds, one resource type per line and one property
type per line, so that synth parses only the resource types a template uses
and the property types its values use (parsing all of it took ~80 ms; a
resource type with every property type it can reach, two thirds of the
check's time on samples/todo):
  line 1:      "#" followed by the source package and version
  then:        TYPE <TAB> {"p": PROPS, "a": [attributes]}   (resource types)
  then:        "~" ID <TAB> {"n": name, "p": PROPS}          (property types)
  every line after the first sorted by its key (the text before the TAB,
  byte order: "~" sorts after every type name), which synth binary-searches.
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


def dump(x):
    return json.dumps(x, separators=(",", ":"), sort_keys=True)


lines = ["# @aws-cdk/aws-service-spec " + version]
ids = set()  # the property types some resource type can reach
for name in sorted(index["resources"]):
    r = index["resources"][name]
    for alts, _ in r["p"].values():
        for a in alts:
            refs(a, ids)
    lines.append(name + "\t" + dump({"p": r["p"], "a": r["a"]}))
lines += ["~" + i + "\t" + dump(types[i]) for i in sorted(ids)]
assert lines[1:] == sorted(lines[1:]), "keys must sort in byte order"
out = os.path.join(ROOT, "spec", "cfn-spec.jsonl.gz")
tmp = out + ".tmp"
# mtime=0: the same spec gives the same bytes.
with open(tmp, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, filename="") as f:
    f.write(("\n".join(lines) + "\n").encode())
os.replace(tmp, out)
print(f"{out}: {len(index['resources'])} resource types, {os.path.getsize(out)} bytes")

#!/usr/bin/env python3
"""Placement of a cloud assembly's resources, for test/cli/placement.sh.

  placement.py map DIR             prints "LID STACK TYPE STATEFUL" per resource
                                   (STACK: "root" or the nested stack's name)
  placement.py moves OLD NEW       prints "LID OLD NEW TYPE STATEFUL" for every
                                   resource of both maps whose stack differs
  placement.py limits DIR          prints one line per template over a
                                   CloudFormation limit (500 resources, 200
                                   outputs, 200 parameters, 1,000,000 bytes)

STATEFUL is 1 for the resources synth never moves (tables, buckets, user
and identity pools, log groups with retention, DeletionPolicy other than
Delete, SQS queues, a physical name property <Type>Name).
"""
import glob
import json
import os
import sys

DATA = {"AWS::DynamoDB::Table", "AWS::DynamoDB::GlobalTable", "AWS::S3::Bucket",
        "AWS::Cognito::UserPool", "AWS::Cognito::IdentityPool", "AWS::RDS::DBCluster",
        "AWS::RDS::DBInstance", "AWS::EFS::FileSystem", "AWS::KMS::Key",
        "AWS::SecretsManager::Secret", "AWS::SQS::Queue"}


def stateful(r):
    t, p = r["Type"], r.get("Properties", {})
    if t in DATA:
        return 1
    if t == "AWS::Logs::LogGroup" and "RetentionInDays" in p:
        return 1
    if r.get("DeletionPolicy", "Delete") != "Delete":
        return 1
    return int(t.rsplit(":", 1)[-1] + "Name" in p)


def templates(d):
    for f in sorted(glob.glob(os.path.join(d, "*.template.json"))):
        base = os.path.basename(f)
        parts = base.split(".")
        name = parts[-4] if base.endswith(".nested.template.json") else "root"
        yield name, f, json.load(open(f))


def cmd_map(d):
    for name, _, t in templates(d):
        for lid, r in t["Resources"].items():
            if r["Type"] != "AWS::CloudFormation::Stack":
                print(lid, name, r["Type"], stateful(r))


def read_map(f):
    m = {}
    for line in open(f):
        lid, st, ty, sf = line.split()
        m[lid] = (st, ty, sf)
    return m


def cmd_moves(a, b):
    old, new = read_map(a), read_map(b)
    for lid in sorted(set(old) & set(new)):
        if old[lid][0] != new[lid][0]:
            print(lid, old[lid][0], new[lid][0], new[lid][1], new[lid][2])


def cmd_limits(d):
    for name, f, t in templates(d):
        size = len(json.dumps(t, separators=(",", ":")))
        for what, n, lim in (("resources", len(t["Resources"]), 500),
                             ("outputs", len(t.get("Outputs", {})), 200),
                             ("parameters", len(t.get("Parameters", {})), 200),
                             ("bytes", min(size, os.path.getsize(f)), 1000000)):
            if n > lim:
                print("%s: %d %s (limit %d)" % (name, n, what, lim))


if __name__ == "__main__":
    cmd = sys.argv[1]
    {"map": lambda: cmd_map(sys.argv[2]), "moves": lambda: cmd_moves(sys.argv[2], sys.argv[3]),
     "limits": lambda: cmd_limits(sys.argv[2])}[cmd]()

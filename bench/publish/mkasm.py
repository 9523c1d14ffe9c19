#!/usr/bin/env python3
"""Writes a minimal cloud assembly for `synth publish` benchmarks.

    mkasm.py DIR BUCKET FILE...

DIR gets manifest.json and bench.assets.json: one file asset per FILE (a
path relative to DIR, e.g. files/f001.bin; packaging "file"; the object key
is the file's base name, as `aws s3 sync DIR/files` would name it);
the bucket name is literal, so publish needs no STS call). Re-running it
with another BUCKET rewrites only the assets manifest.
"""
import json
import os
import sys


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    d, bucket, files = sys.argv[1], sys.argv[2], sys.argv[3:]
    assets = {}
    for f in files:
        name = os.path.basename(f)
        if not os.path.isfile(os.path.join(d, f)):
            sys.exit("mkasm: %s is not in %s" % (f, d))
        assets[name] = {
            "displayName": f,
            "source": {"path": f, "packaging": "file"},
            "destinations": {
                "current_account-current_region": {"bucketName": bucket, "objectKey": name}
            },
        }
    with open(os.path.join(d, "bench.assets.json"), "w") as f:
        json.dump({"version": "55.0.0", "files": assets, "dockerImages": {}}, f, indent=1)
    manifest = {
        "version": "55.0.0",
        "artifacts": {
            "bench.assets": {
                "type": "cdk:asset-manifest",
                "properties": {"file": "bench.assets.json"},
                "displayName": "bench.assets",
            }
        },
    }
    with open(os.path.join(d, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""Validate a CDK-style cloud assembly directory (cdk.out).

Usage: check_assembly.py [--schema-dir DIR] ASSEMBLY_DIR

Checks, with the draft-07 JSON schemas of @aws-cdk/cloud-assembly-schema
(installed by test/spec/setup.sh; needs the jsonschema module, i.e. run it with
Debian's /usr/bin/python3):

  - ASSEMBLY_DIR/manifest.json is valid against cloud-assembly.schema.json, and each
    artifact's "properties" against the definition for its type (the schema itself only
    says "anyOf" the property kinds, which gives useless messages);
  - the manifest's "version" major equals schema/version.json "revision";
  - every cdk:asset-manifest artifact's file is valid against assets.schema.json and has
    the same version major;
  - every file the manifests reference exists: templateFile, asset manifest and tree
    files, additionalMetadataFile, asset source paths / docker directories, nested
    assembly directories (which are checked recursively);
  - templates and other referenced JSON files parse; artifact "dependencies" name
    artifacts of the manifest; "environment" has the form aws://ACCOUNT/REGION.

Every problem is printed as "PATH: location: message"; exit status 1 if any, else 0.
"""

import argparse
import json
import os
import re
import sys

try:
    import jsonschema
except ImportError:
    sys.exit("check_assembly: the jsonschema module is missing: run it with /usr/bin/python3 "
             "after test/spec/setup.sh (Debian package python3-jsonschema)")

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEFAULT_SCHEMA_DIR = os.path.join(REPO_ROOT, "test", ".deps", "node_modules", "@aws-cdk",
                                  "cloud-assembly-schema", "schema")

# Artifact type -> schema definition of its "properties".
PROPERTIES_DEF = {
    "aws:cloudformation:stack": "AwsCloudFormationStackProperties",
    "cdk:asset-manifest": "AssetManifestProperties",
    "cdk:tree": "TreeArtifactProperties",
    "cdk:cloud-assembly": "NestedCloudAssemblyProperties",
    "cdk:feature-flag-report": "FeatureFlagReportProperties",
}

ENVIRONMENT = re.compile(r"^aws://[^/]+/[^/]+$")


def load_json(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def artifact_type(artifact):
    t = artifact.get("type")
    return t if isinstance(t, str) else None  # a wrong type is reported by the schema check


def location(error, prefix=""):
    """Dotted location of a jsonschema error inside the validated document."""
    loc = prefix
    for p in error.absolute_path:
        loc = "%s[%d]" % (loc, p) if isinstance(p, int) else ("%s.%s" % (loc, p) if loc else str(p))
    return loc or "(root)"


class AssemblyChecker:
    def __init__(self, schema_dir):
        self.assembly_schema = load_json(os.path.join(schema_dir, "cloud-assembly.schema.json"))
        self.assets_schema = load_json(os.path.join(schema_dir, "assets.schema.json"))
        self.revision = int(load_json(os.path.join(schema_dir, "version.json"))["revision"])
        self.problems = []

    def err(self, path, loc, msg):
        self.problems.append("%s: %s: %s" % (path, loc, msg))

    def validate(self, doc, schema, path, prefix="", skip=None):
        """Report schema errors; skip(error) may drop errors that are reported better elsewhere."""
        validator = jsonschema.Draft7Validator(schema)
        for e in sorted(validator.iter_errors(doc), key=lambda e: list(map(str, e.absolute_path))):
            if skip and skip(e):
                continue
            self.err(path, location(e, prefix), e.message)

    def check_version(self, doc, path):
        v = doc.get("version") if isinstance(doc, dict) else None
        if not isinstance(v, str):
            return  # the schema check reports it
        major = v.split(".", 1)[0]
        if not major.isdigit() or int(major) != self.revision:
            self.err(path, "version", "version %s does not match the schema revision %d (expected \"%d.0.0\")"
                     % (json.dumps(v), self.revision, self.revision))

    def check_file(self, base, rel, path, loc, kind="file", parse_json=False):
        """Check that a referenced file (or directory) exists relative to base."""
        if not isinstance(rel, str) or not rel:
            return None  # missing/mistyped: reported by the schema check
        full = os.path.join(base, rel)
        if kind == "dir" and not os.path.isdir(full):
            self.err(path, loc, "directory %s does not exist in %s" % (json.dumps(rel), base))
            return None
        if kind == "file" and not os.path.isfile(full):
            self.err(path, loc, "file %s does not exist in %s" % (json.dumps(rel), base))
            return None
        if kind == "any" and not os.path.exists(full):
            self.err(path, loc, "%s does not exist in %s" % (json.dumps(rel), base))
            return None
        if parse_json:
            try:
                return load_json(full)
            except (OSError, ValueError) as e:
                self.err(full, "(file)", "invalid JSON: %s" % e)
        return full

    def check_assembly(self, directory):
        manifest_path = os.path.join(directory, "manifest.json")
        if not os.path.isfile(manifest_path):
            self.err(directory, "(dir)", "no manifest.json")
            return
        try:
            manifest = load_json(manifest_path)
        except ValueError as e:
            self.err(manifest_path, "(file)", "invalid JSON: %s" % e)
            return

        artifacts = manifest.get("artifacts") if isinstance(manifest, dict) else None
        artifacts = artifacts if isinstance(artifacts, dict) else {}
        definitions = self.assembly_schema.get("definitions", {})

        def typed_properties(artifact):
            return isinstance(artifact, dict) and isinstance(artifact.get("properties"), dict) \
                and artifact_type(artifact) in PROPERTIES_DEF

        def reported_by_type(e):
            # The whole-manifest "anyOf" error on artifacts.X.properties is replaced by the
            # precise per-type validation below.
            p = list(e.absolute_path)
            return (e.validator == "anyOf" and len(p) == 3 and p[0] == "artifacts"
                    and p[2] == "properties" and typed_properties(artifacts.get(p[1])))

        self.validate(manifest, self.assembly_schema, manifest_path, skip=reported_by_type)
        self.check_version(manifest, manifest_path)

        for aid, a in artifacts.items():
            loc = "artifacts.%s" % aid
            if not isinstance(a, dict):
                continue
            atype = artifact_type(a)
            props = a.get("properties") if isinstance(a.get("properties"), dict) else {}
            if typed_properties(a):
                sub = {"$ref": "#/definitions/%s" % PROPERTIES_DEF[atype], "definitions": definitions}
                self.validate(props, sub, manifest_path, prefix=loc + ".properties")

            env = a.get("environment")
            if isinstance(env, str) and not ENVIRONMENT.match(env):
                self.err(manifest_path, loc + ".environment",
                         "%s is not of the form aws://ACCOUNT/REGION" % json.dumps(env))
            deps = a.get("dependencies")
            if isinstance(deps, list):
                for i, d in enumerate(deps):
                    if isinstance(d, str) and d not in artifacts:
                        self.err(manifest_path, "%s.dependencies[%d]" % (loc, i), "unknown artifact %s" % json.dumps(d))
            if "additionalMetadataFile" in a:
                self.check_file(directory, a["additionalMetadataFile"], manifest_path,
                                loc + ".additionalMetadataFile", parse_json=True)

            ploc = loc + ".properties"
            if atype == "aws:cloudformation:stack":
                self.check_file(directory, props.get("templateFile"), manifest_path, ploc + ".templateFile",
                                parse_json=True)
            elif atype == "cdk:tree":
                self.check_file(directory, props.get("file"), manifest_path, ploc + ".file", parse_json=True)
            elif atype == "cdk:asset-manifest":
                full = self.check_file(directory, props.get("file"), manifest_path, ploc + ".file")
                if full:
                    self.check_asset_manifest(full)
            elif atype == "cdk:cloud-assembly":
                full = self.check_file(directory, props.get("directoryName"), manifest_path,
                                       ploc + ".directoryName", kind="dir")
                if full:
                    self.check_assembly(full)

    def check_asset_manifest(self, path):
        try:
            doc = load_json(path)
        except ValueError as e:
            self.err(path, "(file)", "invalid JSON: %s" % e)
            return
        self.validate(doc, self.assets_schema, path)
        self.check_version(doc, path)
        if not isinstance(doc, dict):
            return
        base = os.path.dirname(path)  # asset paths are relative to the asset manifest
        for section, key in (("files", "path"), ("dockerImages", "directory")):
            entries = doc.get(section)
            if not isinstance(entries, dict):
                continue
            for aid, asset in entries.items():
                source = asset.get("source") if isinstance(asset, dict) else None
                if not isinstance(source, dict) or key not in source:
                    continue  # e.g. built by an "executable": nothing on disk to check
                loc = "%s.%s.source.%s" % (section, aid, key)
                if section == "dockerImages":
                    kind = "dir"
                else:
                    # packaging "zip" zips a directory (or ships a ready .zip file)
                    kind = "file" if source.get("packaging", "file") == "file" else "any"
                self.check_file(base, source[key], path, loc, kind=kind)


def main(argv=None):
    ap = argparse.ArgumentParser(description="Validate a cloud assembly directory (cdk.out).")
    ap.add_argument("--schema-dir", default=DEFAULT_SCHEMA_DIR,
                    help="@aws-cdk/cloud-assembly-schema/schema directory (default: %(default)s)")
    ap.add_argument("directory", metavar="ASSEMBLY_DIR")
    args = ap.parse_args(argv)

    if not os.path.isfile(os.path.join(args.schema_dir, "cloud-assembly.schema.json")):
        print("check_assembly: schemas not found in %s (run test/spec/setup.sh)" % args.schema_dir, file=sys.stderr)
        return 2
    checker = AssemblyChecker(args.schema_dir)
    checker.check_assembly(args.directory)
    for p in checker.problems:
        print(p)
    if checker.problems:
        return 1
    print("ok %s (schema revision %d)" % (args.directory, checker.revision))
    return 0


if __name__ == "__main__":
    sys.exit(main())

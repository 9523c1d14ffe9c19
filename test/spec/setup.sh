#!/usr/bin/env bash
# Idempotent setup for the spec checks in test/spec/:
#   - npm packages @aws-cdk/aws-service-spec (db.json.gz, the CloudFormation
#     resource database) and @aws-cdk/cloud-assembly-schema (JSON schemas of
#     manifest.json / *.assets.json) under test/.deps/node_modules;
#   - npm package aws-cdk (the CDK toolkit, test/.deps/node_modules/.bin/cdk),
#     to prove it reads the assemblies libsynth writes;
#   - Debian's python3-jsonschema for /usr/bin/python3 (used by check_assembly.py).
# Works from any cwd: the repo root is found from this script's own path.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
DEPS="$ROOT/test/.deps"
DB="$DEPS/node_modules/@aws-cdk/aws-service-spec/db.json.gz"
SCHEMA="$DEPS/node_modules/@aws-cdk/cloud-assembly-schema/schema/cloud-assembly.schema.json"
CDK="$DEPS/node_modules/.bin/cdk"

if [[ ! -f "$DB" || ! -f "$SCHEMA" || ! -x "$CDK" ]]; then
    command -v npm >/dev/null || { echo "setup.sh: npm not found" >&2; exit 1; }
    echo "setup.sh: installing @aws-cdk/aws-service-spec and @aws-cdk/cloud-assembly-schema into $DEPS" >&2
    mkdir -p "$DEPS"
    npm install --prefix "$DEPS" --no-audit --no-fund \
        @aws-cdk/aws-service-spec@0.1.216 @aws-cdk/cloud-assembly-schema@55.6.0 aws-cdk@2.1148.1 >&2
    [[ -f "$DB" && -f "$SCHEMA" && -x "$CDK" ]] || { echo "setup.sh: npm install did not produce $DB and $SCHEMA" >&2; exit 1; }
fi

if ! /usr/bin/python3 -c 'import jsonschema' 2>/dev/null; then
    echo "setup.sh: installing python3-jsonschema" >&2
    export DEBIAN_FRONTEND=noninteractive
    # The package lists may be missing or stale on a fresh machine: update once and retry.
    apt-get install -y python3-jsonschema >&2 || { apt-get update >&2 && apt-get install -y python3-jsonschema >&2; }
    /usr/bin/python3 -c 'import jsonschema' || { echo "setup.sh: jsonschema still not importable by /usr/bin/python3" >&2; exit 1; }
fi

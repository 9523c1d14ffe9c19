#!/usr/bin/env bash
# Idempotent setup for test/cli/gqlschema.sh: npm's `graphql` (the reference
# GraphQL implementation, pinned to 16.x) under test/.deps/gql, and Debian's
# python3-jsonschema (through test/spec/setup.sh, which installs it).
# Works from any cwd: the repo root is found from this script's own path.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
DEPS="$ROOT/test/.deps/gql"
PKG="$DEPS/node_modules/graphql/package.json"
VERSION=16.9.0

if [[ ! -f "$PKG" ]] || ! grep -q "\"version\": \"$VERSION\"" "$PKG"; then
    command -v npm >/dev/null || { echo "gql/setup.sh: npm not found" >&2; exit 1; }
    echo "gql/setup.sh: installing graphql@$VERSION into $DEPS" >&2
    mkdir -p "$DEPS"
    npm install --prefix "$DEPS" --no-audit --no-fund --no-save "graphql@$VERSION" >&2
    [[ -f "$PKG" ]] || { echo "gql/setup.sh: npm install did not produce $PKG" >&2; exit 1; }
fi

if ! /usr/bin/python3 -c 'import jsonschema' 2>/dev/null; then
    bash "$ROOT/test/spec/setup.sh"
fi

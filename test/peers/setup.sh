#!/usr/bin/env bash
# Installs what the local AWS peers need (idempotent, any cwd):
#   - npm s3rver@3.7.1 into test/.deps (shared with other test packages: never wiped)
#   - Debian python3-botocore (signature checks) and awscli (the peers' own test)
set -eu
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
DEPS=$ROOT/test/.deps
S3RVER_VERSION=3.7.1

have_s3rver() {
	[ -f "$DEPS/node_modules/s3rver/package.json" ] &&
		grep -q "\"version\": \"$S3RVER_VERSION\"" "$DEPS/node_modules/s3rver/package.json"
}
if ! have_s3rver; then
	command -v npm >/dev/null || { echo "setup: npm is not installed (apt-get install npm)" >&2; exit 1; }
	mkdir -p "$DEPS"
	npm install --prefix "$DEPS" --no-audit --no-fund --loglevel=error "s3rver@$S3RVER_VERSION" >&2
	have_s3rver || { echo "setup: s3rver@$S3RVER_VERSION did not install" >&2; exit 1; }
fi

missing=()
/usr/bin/python3 -c 'import botocore.auth' 2>/dev/null || missing+=(python3-botocore)
[ -x /usr/bin/aws ] || missing+=(awscli)
if [ "${#missing[@]}" -gt 0 ]; then
	if [ "$(id -u)" != 0 ]; then
		echo "setup: need root to install: ${missing[*]}" >&2; exit 1
	fi
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >&2 ||
		{ apt-get update -q >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >&2; }
fi
exit 0

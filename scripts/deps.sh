#!/usr/bin/env bash
# Installs what building and testing libsynth needs, when it is missing:
# Debian packages with apt-get (as root, or through sudo). Idempotent and
# quiet when everything is there.
set -euo pipefail
if ! command -v cfn-lint >/dev/null; then
	echo "deps: cfn-lint is not on PATH (it comes with the machine image; the tests need it)" >&2
	exit 1
fi
need=()
have_pkg() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
for p in build-essential pkg-config libjansson-dev libzip-dev libssl-dev zlib1g-dev \
         libcurl4-openssl-dev libexpat1-dev unzip zip valgrind python3-jsonschema python3-botocore time; do
	have_pkg "$p" || need+=("$p")
done
# Node.js may come from elsewhere than Debian: look for the commands.
command -v node >/dev/null || need+=(nodejs)
command -v npm >/dev/null || need+=(npm)
if [ ${#need[@]} -gt 0 ]; then
	SUDO=
	[ "$(id -u)" -eq 0 ] || SUDO=sudo
	echo "deps: installing ${need[*]}" >&2
	export DEBIAN_FRONTEND=noninteractive
	$SUDO apt-get update -qq >&2
	$SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >&2
fi

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
# Python functions install their requirements with `python3 -m pip`
# (test/cli/python.sh); the python3 on PATH may be the system's or another.
python3 -m pip --version >/dev/null 2>&1 || need+=(python3-pip)
# identity.sh runs synth as nobody with setpriv (util-linux).
command -v setpriv >/dev/null || need+=(util-linux)
if [ ${#need[@]} -gt 0 ]; then
	SUDO=
	[ "$(id -u)" -eq 0 ] || SUDO=sudo
	echo "deps: installing ${need[*]}" >&2
	export DEBIAN_FRONTEND=noninteractive
	$SUDO apt-get update -qq >&2
	$SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >&2
fi

#!/usr/bin/env bash
# The main job on the built-in sample: install what is missing, build
# libsynth and the synth CLI, and synthesize samples/hello for branch main.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
make -s
cd samples/hello
../../build/synth --branch main "$@"

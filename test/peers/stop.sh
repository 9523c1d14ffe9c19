#!/usr/bin/env bash
# Stops the local AWS peers of $PEERS_DIR by their recorded PIDs. See peers.sh.
exec "$(dirname "${BASH_SOURCE[0]}")/peers.sh" stop "$@"

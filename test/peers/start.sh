#!/usr/bin/env bash
# Starts the local AWS peers; prints their env (eval it). See peers.sh.
exec "$(dirname "${BASH_SOURCE[0]}")/peers.sh" start "$@"

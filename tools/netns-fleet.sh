#!/usr/bin/env bash
# A fleet of node agents on this machine, each in its own network namespace with its own address
# (docs/fleet-on-one-machine.md). Needs root (ip netns) and a Postgres on 127.0.0.1:5432.
#   sudo tools/netns-fleet.sh up [--hosts 3] [--postgres postgresql://postgres@127.0.0.1:5432/transcripts]
#   sudo tools/netns-fleet.sh down      # remove what a crashed `up` left behind
set -euo pipefail
cd "$(dirname "$0")/.."
exec .venv/bin/python -m tests.support.netns_fleet "$@"

#!/usr/bin/env bash
# Runs one scenario (default kill-master) and prints its report; extra arguments go to `run`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash ci/prepare.sh
scenario="${1:-kill-master}"
shift || true
cargo run --quiet --release -p failover-drill -- run "$scenario" "$@"

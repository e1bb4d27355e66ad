#!/usr/bin/env bash
# Runs one scenario (default kill-master) and prints its report; extra arguments go to `run`.
# It installs only what a drill needs (ci/prepare.sh) and builds the harness in the dev profile,
# which `ci/test.sh` builds too: a drill waits on Sentinel's timers, not on the harness's speed, and
# a release build of it takes three times as long.
set -euo pipefail
cd "$(dirname "$0")/.."
bash ci/prepare.sh
scenario="${1:-kill-master}"
shift || true
cargo run -p failover-drill -- run "$scenario" "$@"

#!/usr/bin/env bash
# The test suite: unit tests, checker properties, and the scenarios against real containers.
set -euo pipefail
cd "$(dirname "$0")/.."
bash ci/prepare.sh
cargo test --workspace "$@"

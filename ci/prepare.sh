#!/usr/bin/env bash
# Installs and starts what failover-drill needs on a Debian machine. Does nothing that is already
# done.
#
#   bash ci/prepare.sh          what a drill needs: redis-server (the process backend runs it, and
#                               the harness builds its Redis image from it when no registry image
#                               can be pulled), iptables for partition, packet-loss, latency and
#                               reset faults, and a Docker engine where one can be started. Without
#                               an engine it says so and the drill runs its nodes as local processes.
#   bash ci/prepare.sh --tests  also what only the test suite needs, and a running engine is
#                               required: chromium for the test that renders the HTML report,
#                               python3 with redis-py for the Python example app, and Node.js with
#                               Debian's express and redis modules for the Express example app.
set -euo pipefail

tests=false
case "${1:-}" in
  "") ;;
  --tests) tests=true ;;
  *)
    echo "usage: bash ci/prepare.sh [--tests]; got '$1'" >&2
    exit 2
    ;;
esac
root=false
[ "$(id -u)" -eq 0 ] && root=true

missing=()
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
# partition, packet-loss and reset faults insert rules inside a node's network namespace; latency
# puts one on the host
command -v iptables >/dev/null 2>&1 || [ -x /usr/sbin/iptables ] || missing+=(iptables)
command -v docker >/dev/null 2>&1 || missing+=(docker.io)
if $tests; then
  # the HTML report test opens the page in headless Chromium
  command -v chromium >/dev/null 2>&1 || missing+=(chromium)
  # the Express example app: Node.js and Debian's express and redis modules (found with
  # NODE_PATH=/usr/share/nodejs)
  command -v node >/dev/null 2>&1 || missing+=(nodejs)
  [ -d /usr/share/nodejs/express ] || missing+=(node-express)
  [ -d /usr/share/nodejs/redis ] || missing+=(node-redis)
fi
if ((${#missing[@]})); then
  if ! $root; then
    echo "missing packages: ${missing[*]}. Install them with:" >&2
    echo "  sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
  echo "installing ${missing[*]}" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# Starts dockerd when it is not running and this user may; prints why not otherwise.
start_engine() {
  docker info >/dev/null 2>&1 && return 0
  if ! $root; then
    echo "the Docker engine is not running; start it with:  sudo dockerd &" >&2
    return 1
  fi
  echo "starting dockerd (log: /var/log/failover-drill-dockerd.log)" >&2
  nohup dockerd >/var/log/failover-drill-dockerd.log 2>&1 &
  for _ in $(seq 1 120); do
    docker info >/dev/null 2>&1 && return 0
    # a daemon that exited will not come up: no need to wait the minute out
    kill -0 $! 2>/dev/null || break
    sleep 0.5
  done
  echo "dockerd did not come up; the end of its log:" >&2
  tail -n 30 /var/log/failover-drill-dockerd.log >&2
  return 1
}

if ! start_engine; then
  if $tests; then
    echo "the test suite drills Docker clusters and needs a running engine" >&2
    exit 1
  fi
  echo "notice: no Docker engine; drills run their nodes as local redis-server processes (the" \
    "process backend), which cannot run partition, reset, packet-loss or latency faults" >&2
fi

if $tests && ! python3 -c 'import redis' >/dev/null 2>&1; then
  echo "installing redis-py for the Python example app" >&2
  # Debian's own python3 refuses a global pip install without --break-system-packages.
  python3 -m pip install -q redis 2>/dev/null ||
    python3 -m pip install -q --break-system-packages redis
fi

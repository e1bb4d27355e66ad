#!/usr/bin/env bash
# Installs and starts what failover-drill needs on a Debian machine: a Docker engine (Debian's
# docker.io), iptables for partition and latency faults, chromium for the test that renders the
# HTML report, redis-server (the harness builds its Redis image from that binary when no registry
# image can be pulled, and the process backend runs it directly), python3 with redis-py for the
# Python example app, and Node.js with Debian's express and redis modules for the Express example
# app. Does nothing that is already done.
set -euo pipefail

missing=()
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
command -v docker >/dev/null 2>&1 || missing+=(docker.io)
# partition faults insert rules inside a node's network namespace
command -v iptables >/dev/null 2>&1 || [ -x /usr/sbin/iptables ] || missing+=(iptables)
# the HTML report test opens the page in headless Chromium
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
# the Express example app: Node.js and Debian's express and redis modules (found with
# NODE_PATH=/usr/share/nodejs)
command -v node >/dev/null 2>&1 || missing+=(nodejs)
[ -d /usr/share/nodejs/express ] || missing+=(node-express)
[ -d /usr/share/nodejs/redis ] || missing+=(node-redis)
if ((${#missing[@]})); then
  if [ "$(id -u)" -ne 0 ]; then
    echo "missing packages: ${missing[*]}. Install them with:" >&2
    echo "  sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
  echo "installing ${missing[*]}" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if ! docker info >/dev/null 2>&1; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "the Docker engine is not running. Start it with:  sudo dockerd &" >&2
    exit 1
  fi
  echo "starting dockerd (log: /var/log/failover-drill-dockerd.log)" >&2
  nohup dockerd >/var/log/failover-drill-dockerd.log 2>&1 &
  for _ in $(seq 1 120); do
    docker info >/dev/null 2>&1 && break
    sleep 0.5
  done
  if ! docker info >/dev/null 2>&1; then
    echo "dockerd did not come up in 60 s; its log:" >&2
    tail -n 30 /var/log/failover-drill-dockerd.log >&2
    exit 1
  fi
fi

if ! python3 -c 'import redis' >/dev/null 2>&1; then
  echo "installing redis-py for the Python example app" >&2
  # Debian's own python3 refuses a global pip install without --break-system-packages.
  python3 -m pip install -q redis 2>/dev/null ||
    python3 -m pip install -q --break-system-packages redis
fi

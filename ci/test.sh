#!/usr/bin/env bash
# The test suite: unit tests, checker properties, and the scenarios against real containers.
#
# The test binaries that start clusters (their source asks for a cluster slot) are built first and
# start at once. They share FAILOVER_DRILL_TEST_JOBS machine-wide slots (five per two cores by
# default; see harness/tests/common), so at most that many drills run at a time whichever binaries
# they belong to. Beside them, at a lower priority so that their CPU work does not slow the drills'
# failovers (which mostly wait on Sentinel's timers), the rest is built and run: the other test
# binaries, the benchmarks (built, not run), the Rust example apps (examples/Cargo.toml, a
# workspace of their own), their unit tests and the doc tests. Each one's output is printed when it
# ends.
# With arguments, this is plain `cargo test --workspace <arguments>`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash ci/prepare.sh --tests
# Every platform's dependency sources, not only this one's: the lock file's rust-version check
# (harness/tests/offline/dependency_pins.rs) reads their manifests through `cargo metadata`.
cargo fetch --locked
if (($#)); then
  exec cargo test --workspace "$@"
fi

# Every cargo command selects the whole workspace, so that each compiles the dependencies with the
# same features and none builds them again. The benchmarks are built too (not run), so that they
# compile, and so that CI's lints (.ci/run) see every target.
tested=(--workspace)

# Reads cargo's JSON messages on stdin; prints one line per test binary built: its package
# directory, its executable, its name, and whether it starts clusters (its source asks for a
# cluster slot) or not ("cpu").
list_binaries() {
  python3 -c '
import json, os, sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") != "compiler-artifact" or not m.get("executable") or not m["profile"]["test"]:
        continue
    if "bench" in m["target"]["kind"]:
        continue
    src = m["target"]["src_path"]
    # a test binary made of modules (tests/<name>/main.rs) is read whole
    sources = [src]
    if os.path.basename(src) == "main.rs":
        folder = os.path.dirname(src)
        sources = [os.path.join(folder, f) for f in os.listdir(folder) if f.endswith(".rs")]
    clusters = any("cluster_slot" in open(s, encoding="utf-8").read() for s in sources)
    package = os.path.basename(os.path.dirname(m["manifest_path"]))
    name = package + "." + m["target"]["name"] + "." + "+".join(m["target"]["kind"])
    print("\t".join([os.path.dirname(m["manifest_path"]), m["executable"], name, "clusters" if clusters else "cpu"]))
'
}

# The test targets that start clusters, as `<package> <target>` lines, found from the sources
# before anything is built: they are built first and start at once, and the rest is built beside
# them.
cluster_targets=$(cargo metadata --format-version 1 --no-deps | python3 -c '
import json, os, sys
for p in json.load(sys.stdin)["packages"]:
    for t in p["targets"]:
        if t["kind"] != ["test"]:
            continue
        src = t["src_path"]
        sources = [src]
        if os.path.basename(src) == "main.rs":
            folder = os.path.dirname(src)
            sources = [os.path.join(folder, f) for f in os.listdir(folder) if f.endswith(".rs")]
        if any("cluster_slot" in open(s, encoding="utf-8").read() for s in sources):
            print(p["name"], t["name"])
')
# Built in one command with the binaries the drills run (the sample app's and the harness's
# command): a test target has the dependencies compiled with the dev-dependencies' features, and
# `--bins` alone would compile them again without.
cluster_selection=()
while read -r package target; do
  [ -n "$package" ] || continue
  cluster_selection+=(--test "$target")
done <<<"$cluster_targets"
cluster_binaries=$(cargo build "${tested[@]}" --bins "${cluster_selection[@]}" \
  --message-format=json-render-diagnostics | list_binaries)

logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT
declare -A names

# Beside the drills, at a lower priority: the rest of the test build, the Rust example apps (the
# test that drills them builds them itself if it starts first, waiting for the target directory's
# lock meanwhile, with no cluster slot held), every test binary that starts no cluster, one after
# another, then the example apps' unit tests and the doc tests.
beside() {
  local failed=() dir exe name kind
  cargo test "${tested[@]}" --all-targets --no-run || return 1
  cargo build --manifest-path examples/Cargo.toml --workspace --all-targets --target-dir target ||
    return 1
  # The builds are done: the drills may have the slot they held.
  exec {build_slot}>&-
  while IFS=$'\t' read -r dir exe name kind; do
    [ "$kind" = cpu ] || continue
    echo "----- $name"
    (cd "$dir" && exec "$exe" --test-threads=16) || failed+=("$name")
  done < <(cargo test "${tested[@]}" --all-targets --no-run --message-format=json 2>/dev/null |
    list_binaries)
  echo "----- examples' unit tests"
  cargo test --manifest-path examples/Cargo.toml --workspace --target-dir target || failed+=(examples)
  echo "----- doc tests"
  cargo test "${tested[@]}" --doc || failed+=(doc-tests)
  if ((${#failed[@]})); then
    echo "failed: ${failed[*]}"
    return 1
  fi
}
# The builds beside the drills hold one of the drills' cluster slots (the files
# harness/tests/common locks) until they are done: on 2 cores the machine then runs as many drills
# beside the builds as it did with four slots, and one more once they are done. With six drills at
# once on 2 cores and the builds beside them, four clusters that started together were ready only
# after 9 to 12 s (3 s is usual), and an Express app's requests queued for 12 s and failed a bound
# of its drill. The slot is taken here, before any drill starts; the drills' processes do not get
# the descriptor, and the lock is let go when the builds close it (or end, however they end).
slots="$(cargo metadata --format-version 1 --no-deps |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')/tmp/cluster-slots"
mkdir -p "$slots"
exec {build_slot}>"$slots/slot-0"
flock -x "$build_slot"
(
  renice -n 15 -p "$BASHPID" >/dev/null
  beside
) >"$logs/beside-the-drills.log" 2>&1 &
names[$!]=beside-the-drills
exec {build_slot}>&-

while IFS=$'\t' read -r dir exe name kind; do
  [ -n "$exe" ] || continue
  (cd "$dir" && exec "$exe" --test-threads=16 >"$logs/$name.log" 2>&1) &
  names[$!]=$name
done <<<"$cluster_binaries"

failed=()
started=$SECONDS
while ((${#names[@]})); do
  status=0
  wait -n -p pid || status=$?
  name=${names[$pid]}
  unset "names[$pid]"
  echo "===== $name (exit $status, $((SECONDS - started)) s since the first binary started)"
  cat "$logs/$name.log"
  if ((status != 0)); then
    failed+=("$name")
  fi
done

if ((${#failed[@]})); then
  echo "failed test binaries: ${failed[*]}" >&2
  exit 1
fi
echo "every test binary passed in $((SECONDS - started)) s"

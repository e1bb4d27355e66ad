#!/usr/bin/env bash
# The test suite: unit tests, checker properties, and the scenarios against real containers.
#
# Every test binary runs at once. The tests that start clusters share FAILOVER_DRILL_TEST_JOBS
# machine-wide slots (4 by default; see harness/tests/common), so at most that many drills run at a
# time whichever binaries they belong to; the binaries that start none run at a lower priority, so
# their CPU work does not slow the drills' failovers. Each binary's output is printed when it ends.
# The Rust example apps (examples/Cargo.toml, a workspace of their own) are built before the test
# binaries start, since the test that drills them needs them and a build beside the drills would
# slow their faults. Their unit tests and the harness's doc tests run beside the binaries, at the
# same lower priority as the ones that start no cluster: they take a minute of CPU the drills,
# which mostly wait on Sentinel's timers, leave free. The test that builds the example apps again
# (a no-op by then) waits for their lock only if it starts before they end, and it holds no
# cluster slot while it waits.
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

# The benches package holds benchmarks and no test: its test build would only compile criterion and
# reqwest for nothing. The lints check its benchmarks compile (`clippy --all-targets`).
tested=(--workspace --exclude failover-drill-benches)
cargo test "${tested[@]}" --no-run
cargo build --manifest-path examples/Cargo.toml --workspace --target-dir target

# One line per test binary: its package directory, its executable, its name, and whether it starts
# clusters (its source asks for a cluster slot).
binaries=$(cargo test "${tested[@]}" --no-run --message-format=json 2>/dev/null | python3 -c '
import json, os, sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") != "compiler-artifact" or not m.get("executable") or not m["profile"]["test"]:
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
')

logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT
declare -A names
while IFS=$'\t' read -r dir exe name kind; do
  if [ "$kind" = cpu ]; then
    prefix=(nice -n 15)
  else
    prefix=()
  fi
  (cd "$dir" && exec "${prefix[@]}" "$exe" --test-threads=16 >"$logs/$name.log" 2>&1) &
  names[$!]=$name
done <<<"$binaries"
# The example apps' unit tests, then the doc tests: one after the other, as both take the target
# directory's lock.
(
  nice -n 15 cargo test --manifest-path examples/Cargo.toml --workspace --target-dir target
  exec nice -n 15 cargo test "${tested[@]}" --doc
) >"$logs/examples.and.doc-tests.log" 2>&1 &
names[$!]=examples.and.doc-tests

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

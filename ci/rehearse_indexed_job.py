#!/usr/bin/env python3
"""Runs the Kubernetes recipe's command lines on this machine, as docs/sharding.md reports: the
Indexed Job's container command from examples/sharding/indexed-job.yaml once per completion index,
all at once, with JOB_COMPLETION_INDEX set, then merge-job.yaml's. /config and /results become
directories under --root, and a 12-drill matrix on the process backend (2 apps x 2 swept
durations x 3 runs of a 2 to 3 s scenario with no fault) stands in for nightly.toml.

    python3 ci/rehearse_indexed_job.py [--root DIR] [--runs N]

It checks what no cluster is needed for: the manifests' shell lines, their exit statuses, the
shard arithmetic and the merge. The scheduling, the volume and the image are not rehearsed.
Needs PyYAML and target/debug/failover-drill (`cargo build -p failover-drill`). Exit status: 0 when
every run's merge exited as the matrix should (1: the fixed-id cells fail), 1 otherwise.
"""
import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
BINARY = REPO / "target" / "debug" / "failover-drill"

SCENARIO = """name = "sessions"
description = "two users log in, write and log in again on local processes; no fault"
[topology]
backend = "process"
[workload]
users = 2
rate = 20.0
duration = "2s"
relogin_after = 3
[expectations]
session_id_cycled = true
"""

MATRIX = """name = "rehearsal"
scenarios = ["sessions.toml"]
repeat = 3
[[apps]]
name = "sample"
[[apps]]
name = "fixed-id"
mutant = "fixed-id"
[sweep]
workload.duration = ["2s", "3s"]
"""


def container(path, document):
    docs = list(yaml.safe_load_all(path.read_text()))
    spec = docs[document]["spec"]
    return spec, spec["template"]["spec"]["containers"][0]


def rehearse(root):
    shutil.rmtree(root, ignore_errors=True)
    for sub in ("config", "results", "drill"):
        (root / sub).mkdir(parents=True)
    (root / "config" / "sessions.toml").write_text(SCENARIO)
    (root / "config" / "matrix.toml").write_text(MATRIX)
    env = dict(os.environ, PATH=f"{BINARY.parent}:{os.environ['PATH']}")

    def local(arg):
        return arg.replace("/config", str(root / "config")).replace("/results", str(root / "results"))

    spec, shard = container(REPO / "examples" / "sharding" / "indexed-job.yaml", 1)
    if spec.get("completionMode") != "Indexed":
        raise SystemExit("indexed-job.yaml: the Job is not Indexed")
    started = time.monotonic()
    pods = [subprocess.Popen(shard["command"] + [local(a) for a in shard["args"]],
                             cwd=root / "drill", env=dict(env, JOB_COMPLETION_INDEX=str(k)),
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            for k in range(spec["completions"])]
    exits = []
    for pod in pods:
        pod.communicate()
        exits.append(pod.returncode)
    took = time.monotonic() - started
    _, merge = container(REPO / "examples" / "sharding" / "merge-job.yaml", 0)
    merged = subprocess.run(merge["command"] + [local(a) for a in merge["args"]], env=env,
                            capture_output=True, text=True)
    return exits, took, merged


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", type=Path, default=REPO / "drill-runs" / "rehearsal")
    parser.add_argument("--runs", type=int, default=1)
    args = parser.parse_args()
    if not BINARY.is_file():
        print(f"{BINARY} is missing: run `cargo build -p failover-drill` first", file=sys.stderr)
        return 1
    ok = True
    print("| run | pods' exit | shards' wall time | merge's exit | merged grid |")
    print("| --- | --- | --- | --- | --- |")
    for run in range(1, args.runs + 1):
        exits, took, merged = rehearse(args.root / f"run-{run}")
        rows = [line for line in merged.stdout.splitlines() if line.startswith("| ") and " × " not in line
                and not line.startswith("| app")]
        grid = "; ".join(row.strip("| ").split(" | ", 1)[1].split(";")[0] for row in rows) or merged.stderr.strip()
        print(f"| {run} | {', '.join(map(str, exits))} | {took:.1f} s | {merged.returncode} | {grid} |")
        ok &= merged.returncode == 1
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

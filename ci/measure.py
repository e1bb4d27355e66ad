#!/usr/bin/env python3
"""Re-measures a measured table of the documentation and prints it in Markdown, with the line
that says where it came from (date, commit, build, machine, runs, the exact commands).

    python3 ci/measure.py at-once      docs/matrices.md, "Drills at once": every named scenario
                                       with --jobs 1, then --jobs 4 (about 20 minutes)
    python3 ci/measure.py durability   docs/matrices.md, "What durability costs in a split brain"
                                       (12 drills, about 2 minutes)
    python3 ci/measure.py stacks       docs/stacks.md, "Which stack survives which failure"
                                       (77 drills, about 15 minutes)
    python3 ci/measure.py detection    docs/mutants.md, "Detection rates" (13 rows of 20 runs,
                                       about 50 minutes); --scenario NAME keeps the rows on
                                       one scenario (session-safety: 4 rows, about 12 minutes)
    python3 ci/measure.py accuracy     docs/mutants.md, "Cause accuracy": ci/cause_accuracy.py

Run from the repository's root after `bash ci/prepare.sh --tests` and `cargo build -p
failover-drill`; `stacks` and `accuracy` also need `pip install django django-redis gunicorn` and
`cargo build --manifest-path examples/Cargo.toml --target-dir target`. The drills use
target/debug/failover-drill, the build the tables name. Run directories go under
drill-runs/measure/. Exit status: 0 when the table was made, 2 when a drill could not run or its
files could not be read.
"""

import argparse
import datetime
import json
import pathlib
import platform
import statistics
import subprocess
import sys
import time

BINARY = pathlib.Path("target/debug/failover-drill")
OUT = pathlib.Path("drill-runs/measure")

# Each store mutant on the scenario that shows its bug, and the correct store where a false alarm
# would show (docs/mutants.md says why each pair).
DETECTION_ROWS = [
    ("stale-reconnect", "kill-master-cycles"),
    ("stale-reconnect", "kill-master"),
    (None, "kill-master-cycles"),
    ("pinned", "kill-master"),
    ("no-retry", "kill-master"),
    ("stale-read", "replicas-cut-off"),
    ("lossy-ack", "reset-master-connections"),
    ("error-as-logout", "kill-master"),
    ("instance-cache", "split-brain-wait"),
    ("fixed-id", "session-safety"),
    ("logout-unacked", "session-safety"),
    ("ttl-dropped", "session-safety"),
    (None, "session-safety"),
]


class Failed(Exception):
    """A drill that could not run, or files that could not be read."""


def git(*args):
    return subprocess.run(["git", *args], capture_output=True, text=True, check=True).stdout.strip()


def checkout():
    """The commit checked out, and whether tracked files differ from it."""
    commit = git("rev-parse", "--short", "HEAD")
    if git("status", "--porcelain", "--untracked-files=no"):
        commit += " with uncommitted changes"
    return commit


# Taken when the script starts: the tree the drills ran from, not one checked out while they ran.
COMMIT = None


def provenance(commands, runs):
    """The line a measured table opens with."""
    commit = COMMIT
    cores = len(__import__("os").sched_getaffinity(0))
    listed = "\n".join(commands)
    return (
        f"Measured on {datetime.date.today().isoformat()} at commit {commit}, debug build "
        f"({BINARY}), on {cores} cores, kernel {platform.release()}, {runs}, with:\n\n"
        f"```\n{listed}\n```\n"
    )


def drill(args, out):
    """Runs the CLI with `args`, its run directories under `out`; returns its matrix.json."""
    out.mkdir(parents=True, exist_ok=True)
    command = [str(BINARY), *args, "--out", str(out), "--quiet"]
    print("running:", " ".join(command), file=sys.stderr)
    started = time.monotonic()
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode not in (0, 1):
        raise Failed(f"{' '.join(command)} exited {done.returncode}:\n{done.stderr[-2000:]}")
    print(f"  took {time.monotonic() - started:.0f} s", file=sys.stderr)
    found = sorted(out.glob("*/matrix.json"), key=lambda p: p.stat().st_mtime)
    if not found:
        raise Failed(f"{' '.join(command)} wrote no matrix.json under {out}")
    return json.loads(found[-1].read_text())


def runs_of(matrix):
    for cell in matrix["cells"]:
        for run in cell["runs"]:
            yield cell, run


def spread(values, unit, digits):
    values = sorted(values)
    if not values:
        return "none"
    med = statistics.median(values)
    return f"{med:.{digits}f} {unit} ({values[0]:.{digits}f}–{values[-1]:.{digits}f})"


def at_once(_args):
    names = [line.split()[0] for line in subprocess.run(
        [str(BINARY), "list"], capture_output=True, text=True, check=True).stdout.splitlines()]
    stamp = time.strftime("%Y%m%d-%H%M%S")
    results = {}
    for jobs in (1, 4):
        matrix = drill(["run", *names, "--jobs", str(jobs)], OUT / f"at-once-{stamp}-jobs{jobs}")
        ready, switches, verdicts, errors = [], [], {}, 0
        for cell, run in runs_of(matrix):
            name = matrix["columns"][cell["column"]]
            if run.get("error"):
                errors += 1
                verdicts[name] = "error"
                continue
            verdicts[name] = "passed" if run["passed"] else "FAILED"
            report = json.loads((pathlib.Path(run["run_dir"]) / "report.json").read_text())
            ready.append(report["cluster_startup_s"])
            if run.get("switch_master_ms") is not None:
                switches.append((name, run["switch_master_ms"]))
        results[jobs] = {
            "wall": matrix["wall_s"],
            "ready": ready,
            "switches": dict(switches),
            "verdicts": verdicts,
            "errors": errors,
        }
    one, four = results[1], results[4]
    both = sorted(set(one["switches"]) & set(four["switches"]))
    median = lambda r: statistics.median(r["switches"][n] for n in both) if both else float("nan")

    def verdicts(r):
        passed = sum(v == "passed" for v in r["verdicts"].values())
        failed = sorted(n for n, v in r["verdicts"].items() if v != "passed")
        return f"{passed} passed" + (f"; not passed: {', '.join(failed)}" if failed else "")

    same = "the same" if one["verdicts"] == four["verdicts"] else "different:"
    print(provenance(
        [f"failover-drill run {' '.join(names)} --jobs {j} --quiet" for j in (1, 4)],
        "one run of each scenario at each --jobs"))
    print("| | `--jobs 1` | `--jobs 4` |")
    print("| --- | --- | --- |")
    print(f"| wall time, all {len(names)} scenarios | {one['wall']:.1f} s | {four['wall']:.1f} s "
          f"({four['wall'] / one['wall']:.2f} of it) |")
    print(f"| verdicts | {verdicts(one)} | {same} {verdicts(four)} |")
    print(f"| first `+switch-master` after the first fault, median of the {len(both)} scenarios "
          f"with one in both | {median(one):.0f} ms | {median(four):.0f} ms "
          f"({median(four) / median(one):.2f} of it) |")
    print(f"| cluster ready, median (least–largest) | {spread(one['ready'], 's', 2)} | "
          f"{spread(four['ready'], 's', 2)} |")


def grid(matrix_file, label):
    stamp = time.strftime("%Y%m%d-%H%M%S")
    matrix = drill(["matrix", matrix_file, "--jobs", "4"], OUT / f"{label}-{stamp}")
    drills = sum(1 for _ in runs_of(matrix))
    print(provenance([f"failover-drill matrix {matrix_file} --jobs 4 --quiet"],
                     f"{drills} drills in {matrix['wall_s']:.0f} s"))
    found = sorted(OUT.glob(f"{label}-{stamp}/*/matrix.md"))
    if not found:
        raise Failed(f"no matrix.md under {OUT / f'{label}-{stamp}'}")
    print(found[-1].read_text())


def detection(args):
    stamp = time.strftime("%Y%m%d-%H%M%S")
    lines, commands = [], []
    for mutant, scenario in DETECTION_ROWS:
        if args.scenario and scenario != args.scenario:
            continue
        extra = ["--mutant", mutant] if mutant else []
        commands.append(" ".join(["failover-drill run", scenario, *extra,
                                  f"--repeat {args.runs} --jobs 4 --quiet"]))
        matrix = drill(["run", scenario, *extra, "--repeat", str(args.runs), "--jobs", "4"],
                       OUT / f"detection-{stamp}" / f"{mutant or 'correct'}-{scenario}")
        runs = [run for _, run in runs_of(matrix)]
        errors = sum(1 for run in runs if run.get("error"))
        failed = sum(1 for run in runs if not run["passed"] and not run.get("error"))
        # Per failed expectation: the runs it failed in, and the findings in all, or for a bound
        # on time (which carries the measure in words) the least and largest measured.
        by_expectation = {}
        for run in runs:
            for f in run.get("failed", []):
                seen = by_expectation.setdefault(f["expectation"], [])
                seen.append((f["actual"], f.get("shown")))
        parts = []
        for expectation, seen in sorted(by_expectation.items()):
            if all(shown for _, shown in seen):
                seen.sort()
                figure = f"{seen[0][1]} to {seen[-1][1]}"
            else:
                figure = str(sum(actual for actual, _ in seen))
            parts.append(f"{expectation}: {len(seen)} of {len(runs)} ({figure})")
        what = "; ".join(parts) or "nothing"
        store = f"`{mutant}`" if mutant else "correct store"
        verdict = f"{failed} of {len(runs)}"
        if errors:
            verdict += f", {errors} could not finish"
        lines.append(f"| {store} | `{scenario}` | {verdict} | {what} |")
    print(provenance(commands, f"{args.runs} runs a row"))
    print("| store | scenario | runs that failed | what failed (runs, and findings in all) |")
    print("| --- | --- | --- | --- |")
    print("\n".join(lines))


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("table", choices=["at-once", "durability", "stacks", "detection", "accuracy"])
    parser.add_argument("--runs", type=int, default=20, help="runs a row for detection (20)")
    parser.add_argument("--scenario", help="for detection: only the rows on this scenario")
    args = parser.parse_args()
    global COMMIT
    COMMIT = checkout()
    if not BINARY.is_file():
        print(f"{BINARY} is missing: run `cargo build -p failover-drill` first", file=sys.stderr)
        return 2
    try:
        if args.table == "at-once":
            at_once(args)
        elif args.table == "durability":
            grid("examples/sweeps/split-brain-durability.toml", "durability")
        elif args.table == "stacks":
            grid("examples/stacks.toml", "stacks")
        elif args.table == "detection":
            detection(args)
        else:
            command = [sys.executable, "ci/cause_accuracy.py", "--runs", "5", "--jobs", "4",
                       "--out", str(OUT / "cause-accuracy")]
            print(provenance(["python3 " + " ".join(command[1:])], "5 runs a row"))
            sys.stdout.flush()
            return subprocess.run(command).returncode
    except (Failed, OSError, KeyError, json.JSONDecodeError) as e:
        print(f"measure: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())

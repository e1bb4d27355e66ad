#!/usr/bin/env python3
"""Cause accuracy: how often a drill's findings carry the cause that produced them.

Each store mutant of the sample app, and each example app, is drilled on the scenario that
shows its bug or its configuration, RUNS times. Every finding's cause is then compared with the
causes that bug or configuration produces (ROWS below, each with why): a finding is counted as
expected, as another cause, or as unknown. Prints the Markdown table and, for every finding with
another cause, its group, so a wrong cause can be looked at.

Run from the repository's root, after `bash ci/prepare.sh --tests`, `pip install django django-redis
gunicorn` and a build of the harness and the Rust example apps:

    cargo build -p failover-drill
    cargo build --manifest-path examples/Cargo.toml --target-dir target
    python3 ci/cause_accuracy.py --runs 5 --jobs 4 --out drill-runs/cause-accuracy

Exit status: 0 when no finding has another cause, 1 when one does, 2 when a drill could not run.
"""

import argparse
import concurrent.futures
import json
import pathlib
import subprocess
import sys
import time

DJANGO = (
    "exec python3 -m gunicorn --chdir examples/django --workers 1 --threads 16 "
    "--bind $FAILOVER_DRILL_LISTEN session_app:application"
)
# The Python app answers routes of its own: it is drilled as a one-cell matrix, whose app table
# carries the contract (as examples/stacks.toml does).
PYTHON_APP = """
[[apps]]
name = "Python, redis-py"
command = "exec python3 examples/python/session_app.py"
contract.login = { method = "POST", path = "/test/login" }
contract.append = { method = "POST", path = "/test/cart" }
contract.read = { method = "GET", path = "/test/cart" }
contract.user_field = "username"
contract.value_field = "sku"
contract.items_field = "cart"
"""

# Errors while a fault held the master, or after the app lost its node: what a failover does to
# requests in flight. A 401 among errors is the lost session it is.
FAILED_IN_THE_FAILOVER = ["fault-on-master", "node-reconfigured", "app-cut-from-store", "session-gone"]

# (label, scenario, extra `run` arguments, {finding class: [causes its bug produces]}, why). A lost
# login is a login lost as the row's writes are, and a resurrected session a logout lost so.
ROWS = [
    (
        "`pinned` (mutant)",
        "kill-master",
        ["--mutant", "pinned"],
        {
            "user-visible-error": ["old-master", "fault-on-master"],
            "retried-error": ["old-master", "fault-on-master"],
        },
        "it keeps the dead master: errors before the switch are the kill's, after it the old master's",
    ),
    (
        "`no-retry` (mutant)",
        "kill-master",
        ["--mutant", "no-retry"],
        {
            "retried-error": ["fault-on-master", "old-master", "node-reconfigured"],
            "user-visible-error": ["fault-on-master", "old-master", "node-reconfigured"],
        },
        "each store error during the kill is a 500 at once; the in-process app may still be on the old master",
    ),
    (
        "`stale-read` (mutant)",
        "replicas-cut-off",
        ["--mutant", "stale-read"],
        {
            "stale-read": ["replica-behind", "replica-read"],
            "lost-session": ["replica-behind", "replica-read"],
            "lost-write": ["replica-behind", "replica-read"],
            "resurrected-session": ["replica-behind", "replica-read"],
            "user-visible-error": ["session-gone"],
        },
        "it reads sessions from a replica, which the fault cuts off from the master: logins and "
        "logouts made since are not there",
    ),
    (
        "`lossy-ack` (mutant)",
        "reset-master-connections",
        ["--mutant", "lossy-ack"],
        {
            "lost-write": ["lost-by-app"],
            "stale-read": ["lost-by-app"],
            "rollback": ["lost-by-app"],
            "user-visible-error": ["fault-on-master"],
            "retried-error": ["fault-on-master"],
        },
        "it drops every tenth save it acknowledged, whatever the cluster does",
    ),
    (
        "`stale-reconnect` (mutant)",
        "kill-master-cycles",
        ["--mutant", "stale-reconnect"],
        {
            "lost-session": ["restarted-empty"],
            "rollback": ["restarted-empty", "old-master"],
            "stale-read": ["restarted-empty", "old-master"],
            "user-visible-error": ["old-master"] + FAILED_IN_THE_FAILOVER,
            "retried-error": ["old-master"] + FAILED_IN_THE_FAILOVER,
        },
        "a request in flight at a kill waits on the dead address and is answered by the node restarted empty there",
    ),
    (
        "`error-as-logout` (mutant)",
        "kill-master",
        ["--mutant", "error-as-logout"],
        {
            "lost-session": ["error-as-logout"],
            "user-visible-error": FAILED_IN_THE_FAILOVER,
            "retried-error": FAILED_IN_THE_FAILOVER,
        },
        "a failed session load answers 'no session' while the session is still in Redis",
    ),
    (
        "`instance-cache` (mutant)",
        "split-brain-wait",
        ["--mutant", "instance-cache"],
        {
            "lost-write": ["instances-disagree"],
            "stale-read": ["instances-disagree"],
            "rollback": ["instances-disagree"],
            "resurrected-session": ["instances-disagree"],
            "retried-error": FAILED_IN_THE_FAILOVER,
        },
        "two instances each serve their own copy of a session, a logged-out one too; WAIT keeps the "
        "split brain from losing writes",
    ),
    (
        "Express, as in the story",
        "kill-master",
        ["--app-cmd", "NODE_PATH=/usr/share/nodejs STORE_ON_SWITCH=error exec node examples/express/session_app.js"],
        {"retried-error": FAILED_IN_THE_FAILOVER, "user-visible-error": FAILED_IN_THE_FAILOVER},
        "a store error during the switch reaches Express's error handler",
    ),
    (
        "fred as tower-sessions-redis-store's README sets it up",
        "kill-master",
        ["--app-cmd", "FRED_CONFIG=readme exec target/debug/axum-fred"],
        {"user-visible-error": FAILED_IN_THE_FAILOVER, "retried-error": FAILED_IN_THE_FAILOVER},
        "with no reconnect policy its pool never connects again after the kill",
    ),
    (
        "fred with fred's reconnect policy",
        "rolling-restart",
        ["--app-cmd", "FRED_CONFIG=reconnect exec target/debug/axum-fred"],
        {
            "lost-session": ["restarted-empty", "two-masters"],
            "lost-login": ["two-masters"],
            "user-visible-error": FAILED_IN_THE_FAILOVER,
            "retried-error": FAILED_IN_THE_FAILOVER,
        },
        "a reconnect begun before the switch reaches the old master when it comes back, empty and still "
        "a master: sessions it answered from are gone (restarted empty), sessions logged in on it are "
        "lost when it is demoted (two masters)",
    ),
    (
        "redis-rs sentinel, first attempt",
        "kill-master",
        ["--app-cmd", "REDIS_RS_ON_ERROR=keep exec target/debug/axum-redis-rs"],
        {"user-visible-error": FAILED_IN_THE_FAILOVER, "retried-error": FAILED_IN_THE_FAILOVER},
        "it keeps the connection it got, to the dead master",
    ),
    (
        "Django, django-redis as its README sets it up",
        "kill-master",
        ["--app-cmd", "DJANGO_REDIS_SETUP=readme " + DJANGO],
        {
            "lost-session": ["error-as-logout", "replica-read", "replica-behind"],
            "stale-read": ["replica-read", "replica-behind"],
            "lost-write": ["replica-read", "replica-behind"],
            "rollback": ["replica-read", "replica-behind"],
            "resurrected-session": ["replica-read", "replica-behind"],
            "user-visible-error": FAILED_IN_THE_FAILOVER,
            "retried-error": FAILED_IN_THE_FAILOVER,
        },
        "sessions read from a replica, written to the primary: a read just after a write can miss it, "
        "and the stale copy is written back whole; a failed load is 'no session'",
    ),
    (
        "Django, django-redis on the primary",
        "kill-master",
        ["--app-cmd", "DJANGO_REDIS_SETUP=primary " + DJANGO],
        {
            "lost-session": ["error-as-logout"],
            "user-visible-error": FAILED_IN_THE_FAILOVER,
            "retried-error": FAILED_IN_THE_FAILOVER,
        },
        "Django's cache sessions take a failed load for 'no session'",
    ),
    (
        "Python, redis-py",
        "split-brain",
        PYTHON_APP,
        {
            "lost-write": ["split-brain", "two-masters"],
            "lost-login": ["split-brain", "two-masters"],
            "rollback": ["split-brain", "two-masters"],
            "stale-read": ["split-brain", "two-masters"],
            "retried-error": FAILED_IN_THE_FAILOVER,
        },
        "it writes to the cut-off master until Sentinel demotes it, after the split has healed",
    ),
    (
        "Express, held",
        "manual-failover",
        ["--app-cmd", "NODE_PATH=/usr/share/nodejs STORE_ON_SWITCH=hold exec node examples/express/session_app.js"],
        {
            "lost-write": ["two-masters"],
            "lost-login": ["two-masters"],
            "rollback": ["two-masters"],
            "stale-read": ["two-masters"],
            "retried-error": FAILED_IN_THE_FAILOVER,
        },
        "it keeps writing to the old master until Sentinel demotes it, logins too",
    ),
]


def drill(binary, scenario, args, out):
    """One drill; returns the path of its report.json, or raises with what it said. `args` are
    `run`'s arguments, or an `[[apps]]` table to drill as a one-cell matrix."""
    out.mkdir(parents=True, exist_ok=True)
    if isinstance(args, str):
        matrix = out / "cell.toml"
        matrix.write_text(f'name = "cell"\nscenarios = ["{scenario}"]\n{args}')
        command = [binary, "matrix", str(matrix), "--jobs", "1"]
    else:
        command = [binary, "run", scenario, *args]
    done = subprocess.run(
        [*command, "--out", str(out), "--quiet"],
        capture_output=True,
        text=True,
    )
    if done.returncode not in (0, 1):
        raise RuntimeError(f"{' '.join(command)} exited {done.returncode}:\n{done.stderr[-2000:]}")
    reports = sorted(out.glob("**/report.json"))
    if not reports:
        raise RuntimeError(f"{' '.join(command)}: no report in {out}:\n{done.stderr[-2000:]}")
    return reports[-1]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="drills of each row (default 5)")
    parser.add_argument("--jobs", type=int, default=4, help="drills at once (default 4)")
    parser.add_argument("--out", default="drill-runs/cause-accuracy", help="where the runs go")
    parser.add_argument("--binary", default="target/debug/failover-drill", help="the harness")
    parser.add_argument("--rows", help="only the rows whose label contains this text")
    options = parser.parse_args()
    out = pathlib.Path(options.out) / time.strftime("%Y%m%d-%H%M%S")
    rows = [r for r in ROWS if not options.rows or options.rows in r[0]]
    started = time.time()
    futures = {}
    with concurrent.futures.ThreadPoolExecutor(max_workers=options.jobs) as pool:
        for index, (label, scenario, args, _, _) in enumerate(rows):
            for run in range(options.runs):
                target = out / f"{index:02}" / f"{run:02}"
                futures[pool.submit(drill, options.binary, scenario, args, target)] = index
        reports = {index: [] for index in range(len(rows))}
        failed = []
        for future in concurrent.futures.as_completed(futures):
            try:
                reports[futures[future]].append(future.result())
            except RuntimeError as e:
                failed.append(str(e))
            done = sum(len(r) for r in reports.values()) + len(failed)
            print(f"{done} of {len(futures)} drills done", file=sys.stderr)
    print(f"{len(futures)} drills in {time.time() - started:.0f} s, {options.jobs} at a time; runs in {out}\n")
    print("| store or app | scenario | runs | findings | expected cause | another cause | unknown |")
    print("|---|---|---|---|---|---|---|")
    others = []
    for index, (label, scenario, _, expected, _) in enumerate(rows):
        tally = {"expected": 0, "other": 0, "unknown": 0}
        for path in reports[index]:
            report = json.loads(path.read_text())
            for group in report["findings"]["groups"]:
                if group["kind"] == "unknown":
                    verdict = "unknown"
                elif group["kind"] in expected.get(group["class"], []):
                    verdict = "expected"
                else:
                    verdict = "other"
                    others.append((label, group["class"], group["count"], group["summary"], str(path.parent)))
                tally[verdict] += group["count"]
        total = sum(tally.values())
        share = lambda n: f"{n} ({100 * n / total:.1f}%)" if total else "0"
        print(
            f"| {label} | `{scenario}` | {len(reports[index])} | {total} | {share(tally['expected'])} "
            f"| {share(tally['other'])} | {share(tally['unknown'])} |"
        )
    if others:
        print("\nFindings with another cause:")
        for label, cls, count, summary, run in others:
            print(f"- {label}, {cls}, {count}: {summary} ({run})")
    for failure in failed:
        print(f"\ncould not run: {failure}", file=sys.stderr)
    sys.exit(2 if failed else 1 if others else 0)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Scale benchmark (not a test): `sei-jira sync` as a user runs it — validation, the sync, the
hygiene index refresh and the day's snapshot — over a fresh store against the simulator at each
size, side by side in one run. Prints, per size: wall time, CPU per phase and per issue, peak
RSS, requests against the lower bound (the simulator's `request_bound`: a search page per 100
issues and the pages truncation forces), and the store's bytes on disk per issue as a user finds them (no compaction run by hand).

    python3 infra/scripts/scale_bench.py                   # 100,000 and 1,000,000 issues
    SCALE_SIZES=10000,100000 python3 infra/scripts/scale_bench.py
    SCALE_ALLOCATORS=mimalloc,glibc python3 infra/scripts/scale_bench.py   # each size with both
    SCALE_DYNAMODB=0 python3 infra/scripts/scale_bench.py    # without the DynamoDB figures
    SCALE_LATENCY_ISSUES=0 python3 infra/scripts/scale_bench.py   # without the latency run

Then the whole command on a 10,000-issue site (`SCALE_LATENCY_ISSUES`) whose every request
takes 100 ms, against its bound: requests x latency / requests in flight.

Then the same phases with the DynamoDB store on moto, at the largest size moto handles (500
issues by default, `SCALE_DYNAMODB`: moto's transactions copy the whole table), from
`cargo bench -p e2e --bench dynamodb_capacity`: write and read units per issue for each phase.

The allocator is the CLI's (`SEI_JIRA_ALLOCATOR`: mimalloc by default, or glibc's, tuned).

Builds the release binaries first. Everything runs on 127.0.0.1; nothing is asserted.
"""

import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RELEASE = os.path.join(ROOT, "target", "release")
MiB = 1024 * 1024
# The command's phases as its `--json` answer names them; `history` (the weeks before the first
# snapshot, from the changelogs) runs only after an integration's first complete sync.
PHASES = ["validation", "setup", "sync", "index_refresh", "snapshot", "history", "compaction"]
# The CLI's requests in flight at once (its default).
IN_FLIGHT = 10


def projects_for(issues):
    """The sites of the issue's measurements: 20 projects at 100,000 issues, 60 at 1,000,000."""
    return max(2, min(60, round(20 * (issues / 100_000) ** 0.477)))


def start_sim(issues, projects, latency_ms=0):
    sim = subprocess.Popen(
        [os.path.join(RELEASE, "jira-sim"), "--issues", str(issues),
         "--projects", str(projects), "--addr", "127.0.0.1:0", "--latency-ms", str(latency_ms)],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    info = json.loads(sim.stdout.readline())
    return sim, info


def sync(info, store, allocator):
    alice = next(u for u in info["users"] if u["email"] == "alice@example.com")
    env = {k: v for k, v in os.environ.items() if not k.startswith("JIRA_")}
    env["SEI_JIRA_ALLOCATOR"] = allocator
    out = subprocess.run(
        [os.path.join(RELEASE, "sei-jira"), "sync", "--url", info["base_url"],
         "--email", alice["email"], "--token", alice["token"], "--allow-private-network",
         "--store", store, "--json"],
        capture_output=True, text=True, env=env, check=True)
    return json.loads(out.stdout)


def measure(issues, allocator):
    projects = projects_for(issues)
    sim, info = start_sim(issues, projects)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            store = os.path.join(tmp, "store.redb")
            answer = sync(info, store, allocator)
            disk = os.path.getsize(store)
    finally:
        sim.kill()
        sim.wait()
    phases = answer["phases"]
    counts = answer["run"]["counts"]
    cpu = sum(p["cpu_s"] for p in phases.values())
    wall = sum(p["wall_s"] for p in phases.values())
    history = phases.get("history", {"cpu_s": 0.0, "wall_s": 0.0})
    return {
        "issues": issues,
        "allocator": allocator,
        "projects": projects,
        "outcome": answer["run"]["outcome"],
        "wall_s": wall,
        "cpu_s": cpu,
        # The command as issue #29 counts it (sync, index refresh, snapshot, with the checks
        # before and the repack after), without the first sync's history build.
        "cpu_without_history_s": cpu - history["cpu_s"],
        "wall_without_history_s": wall - history["wall_s"],
        "phases": phases,
        "peak_rss_mib": answer["peak_rss_bytes"] / MiB,
        "requests": counts["requests"],
        "lower_bound": info["request_bound"]["lower_bound"],
        "disk_bytes": disk,
        "hygiene_index_bytes": answer["disk"]["hygiene_index_bytes"],
        "compacted": answer["disk"]["compacted"],
        "unused_bytes": answer["disk"]["unused_bytes"],
    }


def command_at_latency(issues, latency_ms):
    """The whole command (validation, sync, index refresh, snapshot, compaction) against a
    site whose every request takes `latency_ms`, beside its bound: every request the simulator
    served (validation's included) x the latency / the requests the CLI keeps in flight."""
    sim, info = start_sim(issues, 5, latency_ms)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            started = time.monotonic()
            answer = sync(info, os.path.join(tmp, "store.redb"), "mimalloc")
            wall = time.monotonic() - started
        with urllib.request.urlopen(info["base_url"] + "/_sim/requests") as r:
            served = json.load(r)["total"]
    finally:
        sim.kill()
        sim.wait()
    bound = served * latency_ms / 1000 / IN_FLIGHT
    print(f"  the command on {issues:,} issues at {latency_ms} ms a request: {wall:.2f} s = "
          f"{wall / bound:.2f} x the bound of {bound:.2f} s ({served:,} requests, {IN_FLIGHT} in "
          f"flight)")
    history = answer["phases"].get("history", {}).get("wall_s", 0.0)
    print(f"    without the first sync's history build ({history:.2f} s): {wall - history:.2f} s "
          f"= {(wall - history) / bound:.2f} x the bound")
    print("    " + ", ".join(f"{name} {p['wall_s']:.2f} s" for name, p in answer["phases"].items()))


def report(rows):
    def line(label, cell):
        print(f"  {label:<34}" + "".join(f"{cell(r):>22}" for r in rows))

    line("issues / projects", lambda r: f"{r['issues']:,} / {r['projects']}")
    line("allocator", lambda r: r["allocator"])
    line("outcome", lambda r: r["outcome"])
    line("wall", lambda r: f"{r['wall_s']:.1f} s")
    line("  without the history build", lambda r: f"{r['wall_without_history_s']:.1f} s")
    line("CPU of sei-jira", lambda r: f"{r['cpu_s']:.1f} s")
    line("  per issue", lambda r: f"{1000 * r['cpu_s'] / r['issues']:.3f} ms")
    line("  without the history build", lambda r: f"{r['cpu_without_history_s']:.1f} s")
    line("    per issue",
         lambda r: f"{1000 * r['cpu_without_history_s'] / r['issues']:.3f} ms")
    for phase in PHASES:
        line(f"  {phase} (CPU / wall)",
             lambda r, p=phase: "{:.1f} / {:.1f} s".format(
                 r["phases"].get(p, {}).get("cpu_s", 0.0),
                 r["phases"].get(p, {}).get("wall_s", 0.0)))
    line("peak RSS", lambda r: f"{r['peak_rss_mib']:.0f} MiB")
    line("  reached by (after sync / refresh)",
         lambda r: f"{r['phases']['sync']['peak_rss_bytes'] / MiB:.0f} / "
                   f"{r['phases']['index_refresh']['peak_rss_bytes'] / MiB:.0f} MiB")
    line("requests (x the lower bound)",
         lambda r: f"{r['requests']:,} ({r['requests'] / r['lower_bound']:.3f} x)")
    line("store on disk", lambda r: f"{r['disk_bytes'] / MiB:.0f} MiB")
    line("  per issue", lambda r: f"{r['disk_bytes'] / r['issues']:,.0f} B")
    line("  compacted by the command", lambda r: "yes" if r["compacted"] else "no")
    line("  of which the hygiene index", lambda r: f"{r['hygiene_index_bytes'] / MiB:.0f} MiB")
    line("  of which unused (page slack)", lambda r: f"{r['unused_bytes'] / MiB:.0f} MiB")
    for allocator in sorted({r["allocator"] for r in rows}):
        mine = [r for r in rows if r["allocator"] == allocator]
        if len(mine) > 1:
            first, last = mine[0], mine[-1]
            print(f"  {allocator}: peak RSS at {last['issues']:,} = "
                  f"{last['peak_rss_mib'] / first['peak_rss_mib']:.2f} x that at {first['issues']:,}")


def main():
    sizes = [int(s) for s in os.environ.get("SCALE_SIZES", "100000,1000000").split(",")]
    subprocess.run(["cargo", "build", "--release", "-q", "-p", "sei-jira-cli", "-p", "jira-sim"],
                   cwd=ROOT, check=True)
    allocators = os.environ.get("SCALE_ALLOCATORS", "mimalloc").split(",")
    rows = []
    for n in sizes:
        for allocator in allocators:
            print(f"measuring {n:,} issues ({allocator}) ...", file=sys.stderr, flush=True)
            rows.append(measure(n, allocator))
    report(rows)
    latency_issues = int(os.environ.get("SCALE_LATENCY_ISSUES", "10000"))
    if latency_issues:
        print(f"measuring the command at 100 ms a request, {latency_issues:,} issues ...",
              file=sys.stderr, flush=True)
        command_at_latency(latency_issues, 100)
    dynamodb_issues = int(os.environ.get("SCALE_DYNAMODB", "500"))
    if dynamodb_issues:
        print(f"measuring DynamoDB on moto, {dynamodb_issues:,} issues ...", file=sys.stderr,
              flush=True)
        out = subprocess.run(["cargo", "bench", "-q", "-p", "e2e", "--bench", "dynamodb_capacity"],
                             cwd=ROOT, check=True, capture_output=True, text=True,
                             env={**os.environ, "DYNAMODB_BENCH_ISSUES": str(dynamodb_issues)})
        for line in out.stdout.splitlines():
            print(f"  {line}")


if __name__ == "__main__":
    main()

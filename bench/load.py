#!/usr/bin/env python3
"""Load benchmark for issue 2: signed `/learn help` at 32 connections (wrk -t1 -c32).

Measures, in one session so the numbers compare:
  * the baseline: a bare axum server returning a fixed body (examples/bench_baseline.rs)
  * learnloop `serve`: requests/s, p99 latency, idle RSS, peak RSS under load, and the
    time from process start to `/readyz` answering 200 on an existing database.

With --compare BINARY, an earlier build of learnloop (e.g. the last release, built from
its commit) is loaded in the same rounds, on a database of its own, and the table adds
its figures and the ratio of this build's requests/s to it.

Usage:  python3 bench/load.py [--duration SECONDS] [--runs N] [--compare BINARY]
Needs:  wrk (Debian package `wrk`), a release build (the script runs cargo build).
Writes a Markdown table to stdout; paste it into docs/BENCHMARKS.md.
"""

import argparse
import hashlib
import hmac
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BINARY = os.path.join(ROOT, "target", "release", "learnloop")
BASELINE = os.path.join(ROOT, "target", "release", "examples", "bench_baseline")
SECRET = "bench-signing-secret"
LEARNLOOP_PORT = 3911
BASELINE_PORT = 3901

BODY = urllib.parse.urlencode(
    [
        ("token", "deprecated"),
        ("team_id", "TBENCH"),
        ("team_domain", "bench"),
        ("channel_id", "CBENCH"),
        ("channel_name", "general"),
        ("user_id", "UBENCH"),
        ("user_name", "bench"),
        ("command", "/learn"),
        ("text", "help"),
        ("api_app_id", "ABENCH"),
        ("response_url", "https://hooks.slack.com/commands/TBENCH/1/x"),
        ("trigger_id", "1.2.3"),
    ]
)


def lua_script(path):
    """A wrk script posting the signed command; signed now, valid for five minutes."""
    ts = str(int(time.time()))
    sig = "v0=" + hmac.new(SECRET.encode(), f"v0:{ts}:{BODY}".encode(), hashlib.sha256).hexdigest()
    with open(path, "w") as f:
        f.write('wrk.method = "POST"\n')
        f.write(f'wrk.body = "{BODY}"\n')
        f.write('wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"\n')
        f.write(f'wrk.headers["X-Slack-Request-Timestamp"] = "{ts}"\n')
        f.write(f'wrk.headers["X-Slack-Signature"] = "{sig}"\n')
    return path


def rss_kb(pid, field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def wait_ready(port, path, deadline_s=30):
    start = time.monotonic()
    while time.monotonic() - start < deadline_s:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=1) as r:
                if r.status == 200:
                    return
        except Exception:
            time.sleep(0.002)
    raise SystemExit(f"nothing answered on port {port}{path}")


def post_once(port):
    """One signed command via urllib, so the server has served a request before idle RSS."""
    ts = str(int(time.time()))
    sig = "v0=" + hmac.new(SECRET.encode(), f"v0:{ts}:{BODY}".encode(), hashlib.sha256).hexdigest()
    req = urllib.request.Request(
        f"http://127.0.0.1:{port}/slack/commands",
        data=BODY.encode(),
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Slack-Request-Timestamp": ts,
            "X-Slack-Signature": sig,
        },
    )
    with urllib.request.urlopen(req, timeout=5) as r:
        body = r.read().decode()
        assert r.status == 200 and "/learn goal add" in body, body[:200]


def parse_latency(text):
    value, unit = re.match(r"([\d.]+)(us|ms|s)", text).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def run_wrk(port, duration, script):
    out = subprocess.run(
        ["wrk", "-t1", "-c32", f"-d{duration}s", "--latency", "-s", script,
         f"http://127.0.0.1:{port}/slack/commands"],
        capture_output=True, text=True, check=True,
    ).stdout
    rps_match = re.search(r"Requests/sec:\s+([\d.]+)", out)
    p99_match = re.search(r"99%\s+([\d.]+(?:us|ms|s))", out)
    if not (rps_match and p99_match):
        raise SystemExit(f"could not read wrk's output:\n{out}")
    rps = float(rps_match.group(1))
    p99 = parse_latency(p99_match.group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: (.*)", out)
    if non2xx or errors:
        raise SystemExit(f"wrk saw failures:\n{out}")
    return rps, p99


def start(cmd, env=None):
    return subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def stop(proc):
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--compare", help="an earlier learnloop binary to load in the same rounds")
    args = parser.parse_args()

    subprocess.run(
        ["cargo", "build", "--release", "--bin", "learnloop", "--example", "bench_baseline"],
        cwd=ROOT, check=True,
    )
    work = tempfile.mkdtemp(prefix="learnloop-bench-")
    script = os.path.join(work, "help.lua")
    db = os.path.join(work, "bench.db")
    env = dict(os.environ)
    env.update({
        "LEARNLOOP_LISTEN": f"127.0.0.1:{LEARNLOOP_PORT}",
        "LEARNLOOP_DATABASE_URL": f"sqlite://{db}",
        "LEARNLOOP_SLACK_SIGNING_SECRET": SECRET,
        "LEARNLOOP_SLACK_BOT_TOKEN": "xoxb-bench",
        "LEARNLOOP_SLACK_API_URL": "http://127.0.0.1:9/api",
        # The production default: request spans are live, as they would be for users.
        "LEARNLOOP_LOG": "info",
    })

    # Create and migrate the database once, so the start-up figure is "existing database".
    subprocess.run([BINARY, "migrate"], env=env, check=True, stderr=subprocess.DEVNULL)
    earlier_env = dict(env)
    if args.compare:
        earlier_env["LEARNLOOP_DATABASE_URL"] = f"sqlite://{os.path.join(work, 'earlier.db')}"
        subprocess.run([args.compare, "migrate"], env=earlier_env, check=True,
                       stderr=subprocess.DEVNULL)

    results = {"baseline": [], "learnloop": []}
    if args.compare:
        results["earlier"] = []
    ready_ms, idle_kb, peak_kb = [], [], []
    earlier_idle_kb, earlier_peak_kb = [], []
    for _ in range(args.runs):
        base = start([BASELINE, f"127.0.0.1:{BASELINE_PORT}"])
        try:
            time.sleep(0.3)
            run_wrk(BASELINE_PORT, 2, lua_script(script))  # warm-up
            results["baseline"].append(run_wrk(BASELINE_PORT, args.duration, lua_script(script)))
        finally:
            stop(base)

        t0 = time.monotonic()
        server = start([BINARY, "serve"], env=env)
        try:
            wait_ready(LEARNLOOP_PORT, "/readyz")
            ready_ms.append((time.monotonic() - t0) * 1000)
            post_once(LEARNLOOP_PORT)
            time.sleep(1.0)
            idle_kb.append(rss_kb(server.pid, "VmRSS"))
            run_wrk(LEARNLOOP_PORT, 2, lua_script(script))  # warm-up
            results["learnloop"].append(run_wrk(LEARNLOOP_PORT, args.duration, lua_script(script)))
            peak_kb.append(rss_kb(server.pid, "VmHWM"))
        finally:
            stop(server)

        if args.compare:
            earlier = start([args.compare, "serve"], env=earlier_env)
            try:
                wait_ready(LEARNLOOP_PORT, "/readyz")
                post_once(LEARNLOOP_PORT)
                time.sleep(1.0)
                earlier_idle_kb.append(rss_kb(earlier.pid, "VmRSS"))
                run_wrk(LEARNLOOP_PORT, 2, lua_script(script))  # warm-up
                results["earlier"].append(run_wrk(LEARNLOOP_PORT, args.duration, lua_script(script)))
                earlier_peak_kb.append(rss_kb(earlier.pid, "VmHWM"))
            finally:
                stop(earlier)

    base_rps = statistics.median(r for r, _ in results["baseline"])
    base_p99 = statistics.median(p for _, p in results["baseline"])
    ll_rps = statistics.median(r for r, _ in results["learnloop"])
    ll_p99 = statistics.median(p for _, p in results["learnloop"])
    print(f"runs: {args.runs} x {args.duration}s each, wrk -t1 -c32, medians")
    print()
    print("| measure | baseline (bare axum) | learnloop | ratio / target |")
    print("|---|---|---|---|")
    print(f"| requests/s | {base_rps:,.0f} | {ll_rps:,.0f} | {ll_rps / base_rps:.2f} of baseline; target ≥ 60,000 |")
    print(f"| p99 latency | {base_p99:.2f} ms | {ll_p99:.2f} ms | target ≤ 2 ms |")
    print(f"| peak RSS under load | | {statistics.median(peak_kb) / 1024:.1f} MB | target ≤ 30 MB |")
    print(f"| idle RSS | | {statistics.median(idle_kb) / 1024:.1f} MB | target ≤ 15 MB |")
    print(f"| start → /readyz 200 (existing db) | | {statistics.median(ready_ms):.0f} ms | target ≤ 300 ms |")
    if args.compare:
        old_rps = statistics.median(r for r, _ in results["earlier"])
        old_p99 = statistics.median(p for _, p in results["earlier"])
        print(f"| requests/s, earlier build (same rounds) | | {old_rps:,.0f} | this build: {ll_rps / old_rps:.3f} × the earlier one |")
        print(f"| p99 latency, earlier build | | {old_p99:.2f} ms | |")
        print(f"| idle / peak RSS, earlier build | | {statistics.median(earlier_idle_kb) / 1024:.1f} / {statistics.median(earlier_peak_kb) / 1024:.1f} MB | |")
    print()
    print("all runs (rps, p99 ms):")
    for name, runs in results.items():
        print(f"  {name}: " + ", ".join(f"({r:,.0f}, {p:.2f})" for r, p in runs))


if __name__ == "__main__":
    sys.exit(main())

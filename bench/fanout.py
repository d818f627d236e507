#!/usr/bin/env python3
"""Fan-out benchmark for issue 4: scheduler + outbox against a fake Slack in another process.

Scenarios (one session, so they compare):
  baseline   10,000 posts straight from the HTTP client, 64 at a time, no database
  fan-out    10,000 channels with a schedule due in the same minute, no rate limit
  paced      1,000 channels x 5 messages, the fake enforcing 1 message/s per channel (429 beyond)
  pressured  the same, but our pacing set to 500 ms so the fake answers 429s: retries under load

Usage:  python3 bench/fanout.py
Prints a Markdown table; paste it into docs/BENCHMARKS.md.
"""

import json
import os
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXAMPLES = os.path.join(ROOT, "target", "release", "examples")
URL = "http://127.0.0.1:3921"


def with_fake(limit, args):
    fake_args = [os.path.join(EXAMPLES, "fake_slack"), "127.0.0.1:3921"]
    if limit:
        fake_args.append("--per-channel-limit")
    fake = subprocess.Popen(fake_args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(0.3)
        out = subprocess.run([os.path.join(EXAMPLES, "bench_fanout")] + args, capture_output=True, text=True,
                             check=True, timeout=900).stdout
        return json.loads(out.strip().splitlines()[-1])
    finally:
        fake.terminate()
        fake.wait()


def main():
    subprocess.run(["cargo", "build", "--release", "--example", "bench_fanout", "--example", "fake_slack"],
                   cwd=ROOT, check=True)
    base = with_fake(False, ["--baseline", URL, "10000"])
    fanout = with_fake(False, [URL, "10000", "1"])
    paced = with_fake(True, [URL, "1000", "5"])
    pressured = with_fake(True, [URL, "1000", "5", "500"])

    def row(name, r, target):
        fake = r["fake"]
        lost = r["messages"] - fake["accepted"]
        print(f"| {name} | {r['messages']:,} | {r['queued_s']:.2f} s | {r['delivered_s']:.2f} s | "
              f"{lost} | {fake['duplicates']} | {fake['rate_limited']} | {fake['shortest_gap_ms']} | "
              f"{r['peak_rss_mb']:.1f} MB | {target} |")

    print(f"baseline: {base['baseline_messages']:,} direct posts in {base['baseline_s']:.2f} s "
          f"(64 at a time, no database)")
    print()
    print("| scenario | messages | queued after | all accepted after | lost | duplicated | 429s | "
          "shortest gap in a channel (ms) | peak RSS | target |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    row("fan-out, no limit", fanout, "≤ 10 s, ≤ 60 MB")
    row("paced, fake enforces 1/s per channel", paced, "0 lost, 0 duplicated, gap ≥ 1000")
    row("pressured (our pacing 500 ms)", pressured, "0 lost, 0 duplicated, gap ≥ 1000")
    print()
    print(f"fan-out / baseline time: {fanout['delivered_s'] / base['baseline_s']:.2f}")


if __name__ == "__main__":
    sys.exit(main())

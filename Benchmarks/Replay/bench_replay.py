#!/usr/bin/env python3
"""Replay benchmark (issue 15): online evaluation offline on the lastfm-2k canonical split.

Run by `make bench-replay` (which builds the release `tastegraph` and `tastegraph-server`). Python 3
standard library only; one JSON object on stdout, progress on stderr; everything it writes goes under
--work (default .build-bench/replay/).

1. Imports lastfm-2k and trains, on split/train.tsv only (split/test.tsv is the held-out set the models
   never see): popularity, ALS (default settings) and the GCN (default settings, --seed), reused while the
   inputs and the binary are unchanged (the helpers of Benchmarks/ServeBench/bench_serve.py).
2. Writes an experiment with equal shares over six arms: popularity, als (fold-in), gcn-frozen (live
   "off": the batch list, as a nightly job would serve it), gcn-filter (heard songs removed, no fold-in),
   gcn-fold-in, and policy (the per-segment policy over the GCN with fold-in). The policy's thresholds are
   the lower quartiles, over train users, of mean plays per heard artist (low engagement) and of distinct
   artists heard (low discovery); cold start: fewer than 5 artists. Control: gcn-frozen.
3. Runs `tastegraph replay --json` (its own server on a copy of the store with the test listens withheld;
   --rounds simulated days; --seed) and times it: the target is ≤ 300 s. Then `replay --each-arm`: every
   arm alone over every user, each compared with the control paired by user (also timed).
Output: the settings, the replay's wall time, every arm's listened share with its 95 % interval and the
difference to the control, the daily series, the route breakdown, and the fold-in comparisons.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "Benchmarks", "ServeBench"))
import bench_serve  # noqa: E402  (its store and model caching)

TARGET_SECONDS = 300


def log(message):
    print(message, file=sys.stderr, flush=True)


def quartiles(train):
    """Lower quartiles over train users of mean plays per heard artist and of distinct artists heard."""
    plays, items = {}, {}
    with open(train) as f:
        for number, line in enumerate(f):
            fields = line.rstrip("\n").split("\t")
            if number == 0 and not fields[2].isdigit():
                continue
            plays[fields[0]] = plays.get(fields[0], 0) + int(fields[2])
            items[fields[0]] = items.get(fields[0], 0) + 1
    per_song = sorted(plays[u] / items[u] for u in plays)
    distinct = sorted(items.values())
    q = lambda values: statistics.quantiles(values, n=4)[0]
    return q(per_song), q(distinct)


def experiment(work, gcn, als, popularity, engagement, discovery):
    arms = [
        {"name": "popularity", "model": popularity},
        {"name": "als", "model": als},
        {"name": "gcn-frozen", "model": gcn, "live": "off"},
        {"name": "gcn-filter", "model": gcn, "live": "filter"},
        {"name": "gcn-fold-in", "model": gcn},
        {"name": "policy", "policy": {
            "name": "by-segment", "model": gcn,
            "cold_start": {"min_listens": 5},
            "low_engagement": {"max_plays_per_listen": round(engagement, 2), "popular_weight": 0.3},
            "low_discovery": {"max_distinct_artists": int(discovery), "novelty_weight": 0.3, "max_per_artist": 1}}},
    ]
    share = 1 / len(arms)
    for arm in arms:
        arm["share"] = share
    arms[-1]["share"] = 1 - share * (len(arms) - 1)
    definition = {"name": "lastfm-replay", "salt": "lastfm-replay-1", "control": "gcn-frozen", "arms": arms}
    path = os.path.join(work, "experiment.json")
    with open(path, "w") as f:
        json.dump(definition, f, indent=2)
    return path, definition


def comparison(report, arm, against):
    """arm − against on the pooled share, with a normal interval from the two arms' intervals."""
    rows = {row["arm"]: row for row in report["arms"]}
    a, b = rows[arm]["listened_share"], rows[against]["listened_share"]
    if a.get("low") is None or b.get("low") is None:
        return None
    se = ((a["high"] - a["value"]) ** 2 + (b["high"] - b["value"]) ** 2) ** 0.5 / 1.959963984540054
    diff = a["value"] - b["value"]
    import math
    p = math.erfc(abs(diff) / (se * 2 ** 0.5)) if se > 0 else None
    return {"arm": arm, "against": against, "difference": diff, "low": diff - 1.959963984540054 * se,
            "high": diff + 1.959963984540054 * se, "p_value": p, "relative": diff / b["value"] if b["value"] else None}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--binary", default=os.path.join(ROOT, ".build", "release", "tastegraph"))
    parser.add_argument("--lastfm", default=os.path.join(bench_serve.SHARED, "datasets", "lastfm-2k"))
    parser.add_argument("--work", default=os.path.join(ROOT, ".build-bench", "replay"))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--fresh", action="store_true", help="re-import and retrain even when cached")
    args = parser.parse_args()
    if not os.path.exists(os.path.join(args.lastfm, "user_artists.dat")):
        log(f"bench-replay: skipped: {args.lastfm} is absent")
        print(json.dumps({"skipped": f"{args.lastfm} is absent"}))
        return 0
    os.makedirs(args.work, exist_ok=True)
    train = os.path.join(args.lastfm, "split", "train.tsv")
    test = os.path.join(args.lastfm, "split", "test.tsv")
    version = bench_serve.tastegraph_version(args.binary)
    store, stamp, _ = bench_serve.ensure_store(args, version)
    gcn, gcn_summary, _ = bench_serve.ensure_model(args, "gcn", stamp, train, test)
    als, als_summary, _ = bench_serve.ensure_model(args, "als", stamp, train, test)
    popularity = os.path.join(args.work, "popularity.tgm")
    bench_serve.run_cli([args.binary, "train", "--store", store, "--model", "popularity", "--train", train, "--test", test,
                         "--out", popularity, "--force", "--quiet"])
    engagement, discovery = quartiles(train)
    path, definition = experiment(args.work, gcn, als, popularity, engagement, discovery)
    log(f"bench-replay: replaying {test} ({args.rounds} rounds, seed {args.seed})")
    started = time.monotonic()
    result = subprocess.run([args.binary, "replay", "--store", store, "--experiment", path, "--listens", test, "--rounds", str(args.rounds),
                             "--seed", str(args.seed), "--connections", str(args.connections), "--json"],
                            stdout=subprocess.PIPE, text=True)
    seconds = time.monotonic() - started
    if result.returncode != 0:
        print(json.dumps({"error": f"tastegraph replay exited {result.returncode}"}))
        return 1
    replay = json.loads(result.stdout)
    report = replay["report"]
    log("bench-replay: the same arms, each replayed alone over every user (--each-arm)")
    started = time.monotonic()
    each = subprocess.run([args.binary, "replay", "--store", store, "--experiment", path, "--listens", test, "--rounds", str(args.rounds),
                           "--seed", str(args.seed), "--connections", str(args.connections), "--each-arm", "--json"],
                          stdout=subprocess.PIPE, text=True)
    each_seconds = time.monotonic() - started
    if each.returncode != 0:
        print(json.dumps({"error": f"tastegraph replay --each-arm exited {each.returncode}"}))
        return 1
    paired = json.loads(each.stdout)["result"]
    out = {
        "dataset": "lastfm-2k canonical split (train.tsv → models and store; test.tsv replayed)",
        "settings": replay["settings"], "experiment": definition,
        "policy_thresholds": {"low_engagement_max_plays_per_listen": engagement, "low_discovery_max_distinct_artists": discovery},
        "models": {"gcn": gcn_summary, "als": als_summary},
        "replay_wall_seconds": round(seconds, 1), "totals": replay["totals"],
        "target": {"replay_seconds_max": TARGET_SECONDS, "met": seconds <= TARGET_SECONDS},
        "arms": report["arms"], "daily": report["daily"], "routes": report["routes"],
        "fold_in": [c for c in (comparison(report, "gcn-fold-in", "gcn-frozen"), comparison(report, "gcn-fold-in", "gcn-filter"),
                                comparison(report, "gcn-filter", "gcn-frozen")) if c],
        "method": report["method"],
        "each_arm": {"wall_seconds": round(each_seconds, 1), "target_met": each_seconds <= TARGET_SECONDS, "method": paired["method"],
                     "arms": paired["arms"], "paired": paired["paired"], "other_pairs": paired["other_pairs"], "routes": paired["routes"],
                     "totals": paired["totals"]},
    }
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Seed scale: every step of TasteGraph on a generated graph of the Taste Profile's shape, JSON on stdout.

The graph: `tastegraph generate` at 1,019,318 users, 384,546 songs by 30,000 artists and 47.5 distinct songs
per user on average (≈ 48.4M listens), power-law song popularity, planted genre tastes and song metadata.
Then, each step a process of its own, timed with its peak RSS (`wait4`'s ru_maxrss):

    import → prepare → train --model als → train (GCN) → recommend --batch (every user)
    → related --batch (every artist) → segments (all users) → segments export

Both models are fitted on the same split (--test-fraction 0.1, seed 1) and scored on the same seeded
sample of held-out users (--eval-users): that share is this benchmark's validation, never a test set. The
GCN runs with an epoch budget (--gcn-epochs) and validates for early stopping on a seeded user sample.
Figures of a smaller graph: --users/--songs/--artists. Steps to skip: --skip (comma list).

    make bench-scale                        # the full size (about an hour on a 2-vCPU machine)
    make bench-scale BENCH_SCALE_ARGS="--users 100000 --songs 40000 --artists 3000"
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import time

STEPS = ["generate", "import", "prepare", "als", "gcn", "recommend", "related", "segments", "export"]
GIB = 1024 ** 3


def run_step(name, command, log_dir):
    """Runs one step; returns (seconds, peak RSS in bytes, stdout text). Fails loudly."""
    started = time.monotonic()
    with open(os.path.join(log_dir, f"{name}.stderr"), "w") as err, open(os.path.join(log_dir, f"{name}.stdout"), "w") as out:
        process = subprocess.Popen(command, stdout=out, stderr=err)
        _, status, usage = os.wait4(process.pid, 0)
    seconds = time.monotonic() - started
    code = os.waitstatus_to_exitcode(status)
    with open(os.path.join(log_dir, f"{name}.stdout")) as handle:
        text = handle.read()
    if code != 0:
        with open(os.path.join(log_dir, f"{name}.stderr")) as handle:
            tail = handle.read()[-2000:]
        raise SystemExit(f"step {name} failed with exit {code}: {' '.join(command)}\n{tail}")
    print(f"bench-scale: {name} {seconds:.1f} s, peak RSS {usage.ru_maxrss / 1024 / 1024:.2f} GiB", file=sys.stderr)
    return seconds, usage.ru_maxrss * 1024, text


def last_json(text):
    lines = [l for l in text.splitlines() if l.startswith("{")]
    return json.loads(lines[-1]) if lines else {}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--binary", default=".build/release/tastegraph")
    parser.add_argument("--work", default=".bench/scale", help="working folder (created; the benchmark owns it)")
    parser.add_argument("--users", type=int, default=1_019_318)
    parser.add_argument("--songs", type=int, default=384_546)
    parser.add_argument("--artists", type=int, default=30_000)
    parser.add_argument("--mean-listens", type=float, default=47.5)
    parser.add_argument("--eval-users", type=int, default=20_000, help="held-out users both models are scored on")
    parser.add_argument("--gcn-epochs", type=int, default=3, help="the GCN's epoch budget")
    parser.add_argument("--gcn-args", default="--validate-every 1 --validation-users 20000",
                        help="extra train flags of the GCN")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--skip", default="", help="comma list of steps to skip (from: " + ", ".join(STEPS) + ")")
    args = parser.parse_args()
    skip = set(filter(None, args.skip.split(",")))
    unknown = skip - set(STEPS)
    if unknown:
        parser.error(f"unknown steps {sorted(unknown)}")
    os.makedirs(args.work, exist_ok=True)
    logs = os.path.join(args.work, "logs")
    os.makedirs(logs, exist_ok=True)
    binary = os.path.abspath(args.binary)
    data = os.path.join(args.work, "data")
    store = os.path.join(args.work, "store.sqlite")
    # Each step's figures are kept in the work folder, so a run with --skip reports the skipped steps'
    # figures from the run that measured them (marked "from_earlier_run").
    saved_path = os.path.join(args.work, "results.json")
    saved = {}
    if os.path.exists(saved_path):
        with open(saved_path) as handle:
            saved = json.load(handle)
    results = {}

    def save():
        merged = {**saved, **results}
        with open(saved_path + ".tmp", "w") as handle:
            json.dump(merged, handle, sort_keys=True)
        os.replace(saved_path + ".tmp", saved_path)

    def step(name, command, **extra):
        if name in skip:
            if name not in saved:
                return None
            results[name] = {**saved[name], "from_earlier_run": True}
            # The earlier run's report, so the figures taken from it are read by this version of the bench.
            earlier = os.path.join(logs, f"{name}.stdout")
            if not os.path.exists(earlier):
                return None
            with open(earlier) as handle:
                return handle.read()
        seconds, rss, text = run_step(name, command, logs)
        results[name] = {"seconds": round(seconds, 2), "peak_rss_gib": round(rss / GIB, 3), **extra}
        save()
        return text

    if "generate" not in skip:
        shutil.rmtree(data, ignore_errors=True)
    step("generate", [binary, "generate", "--out", data, "--seed", "1", "--users", str(args.users), "--songs", str(args.songs),
                      "--artists", str(args.artists), "--mean-listens", str(args.mean_listens), "--quiet", "--force"])
    if "import" not in skip:
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(store + suffix):
                os.unlink(store + suffix)
    step("import", [binary, "import", "taste-profile", os.path.join(data, "triplets.tsv"), "--metadata",
                    os.path.join(data, "song_data.csv"), "--store", store, "--quiet"])
    step("prepare", [binary, "prepare", "--store", store, "--quiet"])
    split = ["--test-fraction", "0.1", "--seed", "1", "--eval-users", str(args.eval_users), "--json", "--quiet", "--force"]
    als_model = os.path.join(args.work, "als.tgm")
    text = step("als", [binary, "train", "--store", store, "--model", "als", "--threads", str(args.threads), "--out", als_model] + split)
    if text is not None:
        report = last_json(text)
        results["als"].update(validation_recall20=report.get("recall@20"), fit_seconds=report.get("fit_seconds"),
                              evaluation_seconds=report.get("evaluation_seconds"), evaluated_users=report.get("users"))
        save()
    gcn_model = os.path.join(args.work, "gcn.tgck")
    gcn_log = os.path.join(args.work, "gcn-log.jsonl")
    text = step("gcn", [binary, "train", "--store", store, "--out", gcn_model, "--epochs", str(args.gcn_epochs), "--log", gcn_log]
                + args.gcn_args.split() + split)
    if text is not None:
        report = last_json(text)
        epochs = []
        if os.path.exists(gcn_log):
            with open(gcn_log) as handle:
                epochs = [json.loads(l) for l in handle if l.strip()]
        # The GCN's report names its training time train_seconds (epochs, validations and the cold-item
        # calibration); the test-share scoring is the rest of the step.
        results["gcn"].update(validation_recall20=report.get("recall@20"), fit_seconds=report.get("train_seconds"),
                              evaluated_users=report.get("users"), epochs=epochs[-args.gcn_epochs:])
        save()
    scoring_model = gcn_model if os.path.exists(gcn_model) else als_model
    recs = os.path.join(args.work, "recommendations.csv")
    step("recommend", [binary, "recommend", "--store", store, "--checkpoint", scoring_model, "--batch", "--out", recs, "--threads",
                       str(args.threads), "--quiet", "--force"], model=os.path.basename(scoring_model), users=args.users)
    step("related", [binary, "related", "--store", store, "--batch", "--out", os.path.join(args.work, "related.csv"), "--threads",
                     str(args.threads), "--seed", "1", "--quiet", "--force"], artists=args.artists)
    step("segments", [binary, "segments", "--store", store, "--seed", "1", "--quiet"])
    salt = os.path.join(args.work, "salt")
    with open(salt, "w") as handle:
        handle.write("bench-scale salt\n")
    audiences = os.path.join(args.work, "audiences")
    step("export", [binary, "segments", "export", "--store", store, "--out", audiences, "--hash-ids", "--salt-file", salt, "--quiet"])

    als, gcn = results.get("als", {}), results.get("gcn", {})
    targets = {
        "every_step_at_most_16_gib": all(r["peak_rss_gib"] <= 16 for r in results.values()),
        "largest_peak_rss_gib": max((r["peak_rss_gib"] for r in results.values()), default=None),
    }
    if all(m.get(key) is not None for m in (als, gcn) for key in ("validation_recall20", "fit_seconds")):
        targets.update(
            gcn_over_als_recall=round(gcn["validation_recall20"] / als["validation_recall20"], 4),
            gcn_over_als_fit_time=round(gcn["fit_seconds"] / als["fit_seconds"], 3),
            gcn_reaches_als_within_2x_time=gcn["validation_recall20"] >= als["validation_recall20"] and gcn["fit_seconds"] <= 2 * als["fit_seconds"])
    if "recommend" in results:
        targets["batch_recommendations_within_10_minutes"] = results["recommend"]["seconds"] <= 600
    print(json.dumps({"shape": {"users": args.users, "songs": args.songs, "artists": args.artists, "mean_listens": args.mean_listens},
                      "steps": results, "targets": targets}, sort_keys=True))


if __name__ == "__main__":
    main()

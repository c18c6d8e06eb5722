#!/usr/bin/env python3
"""Warm start vs cold start of `tastegraph train` (issue 14, "continuous learning"); JSON on stdout.

Protocol, per dataset (the GraphData sample always; lastfm-2k when ../shared/datasets/lastfm-2k exists):

1. Import the dataset into a fresh store (the store "now").
2. Make the store "before": a copy without its newest users (the last --new-users share of dense user ids,
   i.e. the listeners who signed up last, as the live server appends them) and without the items only they
   played (the items past the old users' highest item id: they too got the last dense ids). Every table's
   rows of those users and items are deleted, so the old store is dense and exactly a prefix of the new one.
3. Train the old model cold on the old store (`train --seed S`): the served model. Not timed.
4. Cold: `train --seed S` on the new store. Warm: `train --seed S --warm-start OLD` on the new store.
   Both are timed (whole process wall time, and the `train_seconds` they report).

Why this is an honest comparison: the per-user holdout (test and validation shares) draws one seeded
shuffle per user in user order, so removing the *last* users leaves every old user's train, validation and
test listens identical. The old model has therefore never trained on any validation or test listen of the
new split (its own validation listens are a subset of the new validation set), and cold and warm are scored
on the same validation listens (early stopping) and the same test listens.

Usage: python3 Benchmarks/WarmStart/bench_warm_start.py [--tastegraph .build/release/tastegraph]
       [--work .bench/warm] [--seed 1] [--new-users 0.05] [--datasets sample,lastfm]
"""

import argparse
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def run(command, log=None):
    started = time.monotonic()
    result = subprocess.run(command, capture_output=True, text=True)
    seconds = time.monotonic() - started
    if result.returncode != 0:
        sys.stderr.write(" ".join(command) + "\n" + result.stderr)
        raise SystemExit(f"command failed with status {result.returncode}")
    return result.stdout, seconds


def import_store(tastegraph, dataset, store):
    if os.path.exists(store):
        os.remove(store)
    if dataset == "sample":
        root = os.path.join(ROOT, "GraphData")
        run([tastegraph, "import", "taste-profile", root + "/triplets.tsv", "--metadata", root + "/song_data.csv", "--store", store, "--quiet"])
    else:
        run([tastegraph, "import", "lastfm", os.path.join(ROOT, "..", "shared", "datasets", "lastfm-2k"), "--store", store, "--quiet"])


def make_old_store(store, old, new_users_share):
    """Copies `store` to `old` without its newest users and the items only they played."""
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(old + suffix):
            os.remove(old + suffix)
    source = sqlite3.connect(store)
    target = sqlite3.connect(old)
    source.backup(target)
    source.close()
    db = target
    users = db.execute("SELECT COUNT(*), MAX(id) FROM users").fetchone()
    assert users[0] == users[1] + 1, "user ids are not dense"
    user_cut = users[0] - int(round(users[0] * new_users_share))
    item_cut = db.execute("SELECT MAX(item_id) + 1 FROM listens WHERE user_id < ?", (user_cut,)).fetchone()[0]
    # Items past item_cut must be heard by new users only (or by nobody): the old store stays a prefix.
    assert db.execute("SELECT COUNT(*) FROM listens WHERE user_id < ? AND item_id >= ?", (user_cut, item_cut)).fetchone()[0] == 0
    removed = {
        "users": users[0] - user_cut,
        "items": db.execute("SELECT COUNT(*) FROM items WHERE id >= ?", (item_cut,)).fetchone()[0],
        "listens": db.execute("SELECT COUNT(*) FROM listens WHERE user_id >= ?", (user_cut,)).fetchone()[0],
        "listens_total": db.execute("SELECT COUNT(*) FROM listens").fetchone()[0],
    }
    tables = [row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    for table in tables:
        columns = [row[1] for row in db.execute(f"PRAGMA table_info({table})")]
        for column, cut in (("user_id", user_cut), ("friend_id", user_cut), ("item_id", item_cut)):
            if column in columns:
                db.execute(f"DELETE FROM {table} WHERE {column} >= ?", (cut,))
    db.execute("DELETE FROM users WHERE id >= ?", (user_cut,))
    db.execute("DELETE FROM items WHERE id >= ?", (item_cut,))
    db.commit()
    db.close()
    return removed


def train(tastegraph, store, out, log, seed, extra=()):
    for path in (out, log):
        if os.path.exists(path):
            os.remove(path)
    stdout, seconds = run([tastegraph, "train", "--store", store, "--out", out, "--seed", str(seed), "--log", log, "--quiet", "--json", *extra])
    summary = json.loads(stdout.strip().splitlines()[-1])
    with open(log) as handle:
        history = [json.loads(line) for line in handle if line.strip()]
    return summary, seconds, history


def first_reaching(history, target, initial=None):
    """The first epoch whose validation Recall@20 is at least `target` (0 when the start already is), with
    the optimization seconds summed up to it; None when no epoch reaches it."""
    if initial is not None and initial >= target:
        return {"epoch": 0, "optimization_seconds": 0.0}
    elapsed = 0.0
    for entry in history:
        elapsed += entry["seconds"]
        recall = entry.get("validation_recall@20")
        if recall is not None and recall >= target:
            return {"epoch": entry["epoch"], "optimization_seconds": round(elapsed, 3)}
    return None


def row(summary, seconds, history):
    return {
        "wall_seconds": round(seconds, 2),
        "train_seconds": round(summary["train_seconds"], 2),
        "seconds_to_best_epoch": round(summary["seconds_to_best_epoch"], 2),
        "epochs": summary["epochs"],
        "best_epoch": summary["best_epoch"],
        "seconds_per_epoch": round(summary["seconds_per_epoch"], 4),
        "validation_recall@20": round(summary["validation_recall@20"], 4),
        "test_recall@20": round(summary["recall@20"], 4),
        "test_ndcg@20": round(summary["ndcg@20"], 4),
    }


def bench(tastegraph, dataset, work, seed, share):
    store = os.path.join(work, f"{dataset}.sqlite")
    old_store = os.path.join(work, f"{dataset}-before.sqlite")
    import_store(tastegraph, dataset, store)
    removed = make_old_store(store, old_store, share)
    old, old_seconds, _ = train(tastegraph, old_store, os.path.join(work, f"{dataset}-old.tgck"), os.path.join(work, f"{dataset}-old.jsonl"), seed)
    cold, cold_seconds, cold_log = train(tastegraph, store, os.path.join(work, f"{dataset}-cold.tgck"), os.path.join(work, f"{dataset}-cold.jsonl"), seed)
    warm, warm_seconds, warm_log = train(
        tastegraph, store, os.path.join(work, f"{dataset}-warm.tgck"), os.path.join(work, f"{dataset}-warm.jsonl"), seed,
        ["--warm-start", os.path.join(work, f"{dataset}-old.tgck")])
    target = cold["validation_recall@20"]
    initial = warm["warm_start"]["initial_validation_recall@20"]
    warm_row = row(warm, warm_seconds, warm_log)
    warm_row["initial_validation_recall@20"] = round(initial, 4)
    warm_row["reaches_cold_validation_recall"] = first_reaching(warm_log, target, initial)
    warm_row["reaches_99pct_of_cold_validation_recall"] = first_reaching(warm_log, 0.99 * target, initial)
    warm_row["users_kept"] = warm["warm_start"]["users_kept"]
    warm_row["users_new"] = warm["warm_start"]["users_new"]
    warm_row["items_kept"] = warm["warm_start"]["items_kept"]
    warm_row["items_new"] = warm["warm_start"]["items_new"]
    return {
        "dataset": dataset,
        "new_since_old_model": removed,
        "old_model": {"wall_seconds": round(old_seconds, 2), "epochs": old["epochs"], "best_epoch": old["best_epoch"],
                      "validation_recall@20_on_its_store": round(old["validation_recall@20"], 4)},
        "cold": row(cold, cold_seconds, cold_log),
        "warm": warm_row,
        "warm_over_cold_wall_time": round(warm_seconds / cold_seconds, 3),
        "validation_recall_difference": round(warm["validation_recall@20"] - cold["validation_recall@20"], 4),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tastegraph", default=os.path.join(ROOT, ".build", "release", "tastegraph"))
    parser.add_argument("--work", default=os.path.join(ROOT, ".bench", "warm"))
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--new-users", type=float, default=0.05, help="share of the newest users the old model has not seen")
    parser.add_argument("--datasets", default="sample,lastfm")
    args = parser.parse_args()
    os.makedirs(args.work, exist_ok=True)
    results = []
    for dataset in args.datasets.split(","):
        if dataset == "lastfm" and not os.path.exists(os.path.join(ROOT, "..", "shared", "datasets", "lastfm-2k", "user_artists.dat")):
            results.append({"dataset": "lastfm", "skipped": "../shared/datasets/lastfm-2k is absent"})
            continue
        results.append(bench(args.tastegraph, dataset, args.work, args.seed, args.new_users))
    print(json.dumps({"protocol": "old model on the store without its newest users; cold and warm on the full store, same seed",
                      "seed": args.seed, "new_users_share": args.new_users, "results": results}, indent=2))


if __name__ == "__main__":
    main()

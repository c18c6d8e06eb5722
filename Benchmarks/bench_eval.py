#!/usr/bin/env python3
"""Evaluation benchmark: the full `tastegraph evaluate` table on the shared lastfm-2k split, checked against
the reference figures of ../shared/PEERS.md, our ALS fit timed side by side with implicit's, and every model
tuned on validation (`tastegraph tune`) then scored on test (`evaluate --tuned`), with EASE and RP3β run by
../shared/peers/rank/ease_rp3.py at the same settings in the same run.

Tuning (section "tuned"): each model's seeded random search (`--budget` trials; the GCN and gcn-ease
`--gcn-budget`) on a validation share of train.tsv; test.tsv is read by `tune` only to know the split and
never scored there. The figures the README calls results are these.

Run by `make bench-eval`, with the Python of `.venv-bench-eval` (numpy, scipy, implicit 0.7.3: used only
here, never by TasteGraph itself). Prints one JSON object on stdout; progress goes to stderr.

ALS timing: each side fits the same train split with the same settings (64 factors, regularization 0.05,
20 iterations, conjugate gradient, 2 threads), alternating ours and implicit's `--repeats` times; the
median fit time of each is reported. Ours is `tastegraph train --model als` (its `fit_seconds`: the fit
alone, after loading), implicit's is `model.fit()` on a matrix built beforehand. Both sides' Recall@20 and
NDCG@20 are scored by the same protocol (PEERS.md) so the fits can be seen to be the same method.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LASTFM = os.path.join(os.path.dirname(ROOT), "shared", "datasets", "lastfm-2k")
WORK = os.path.join(ROOT, ".bench", "eval")

# ../shared/PEERS.md, "Recommenders": the same method in the reference libraries, on the same split.
PEERS = {
    "als-bm25": {"recall@20": 0.2328, "ndcg@20": 0.2119},
    "als-conf": {"recall@20": 0.2096, "ndcg@20": 0.1878},
    "itemknn": {"recall@20": 0.2031, "ndcg@20": 0.2136},
    "popularity": {"recall@20": 0.1040, "ndcg@20": 0.1005, "mae": 0.6255, "rmse": 0.8378},
}
MODELS = "gcn,popularity,coldstart,itemknn,als-bm25,als-conf,ease,rp3beta"
# Reference settings of the strong simple baselines (PEERS.md, "Strong simple baselines"): our defaults.
PEERS_REFERENCE = {
    "ease": {"recall@20": 0.2718, "ndcg@20": 0.2766},
    "rp3beta": {"recall@20": 0.2545, "ndcg@20": 0.2611},
}
TUNED_MODELS = ["popularity", "itemknn", "userknn", "als", "ease", "rp3beta", "svd", "coclustering", "content", "gcn", "gcn-ease"]
GCN_MODELS = {"gcn", "gcn-ease"}
PEERS_RANK = os.path.join(os.path.dirname(ROOT), "shared", "peers", "rank")


def log(message):
    print(message, file=sys.stderr, flush=True)


def run(cmd):
    log("+ " + " ".join(cmd))
    return subprocess.run(cmd, check=True, stdout=subprocess.PIPE, text=True).stdout


def last_json(text):
    return json.loads(text.strip().splitlines()[-1])


def load_split(path):
    rows = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            parts = line.rstrip("\r\n").split("\t")
            if len(parts) < 3 or not parts[2].replace(".", "", 1).isdigit():
                continue  # header
            rows.append((parts[0], parts[1], float(parts[2])))
    return rows


class ImplicitSide:
    """implicit's ALS on the split, with the matrices built once and the PEERS protocol in numpy."""

    def __init__(self, train_rows, test_rows, threads):
        import numpy as np
        import scipy.sparse as sp
        self.np, self.sp = np, sp
        users = sorted({u for u, _, _ in train_rows} | {u for u, _, _ in test_rows})
        items = sorted({i for _, i, _ in train_rows} | {i for _, i, _ in test_rows})
        self.user_index = {u: k for k, u in enumerate(users)}
        self.item_index = {i: k for k, i in enumerate(items)}
        self.threads = threads
        u = np.array([self.user_index[r[0]] for r in train_rows])
        i = np.array([self.item_index[r[1]] for r in train_rows])
        plays = np.array([r[2] for r in train_rows], dtype=np.float64)
        self.user_items_raw = sp.csr_matrix((plays, (u, i)), shape=(len(users), len(items)))
        self.test = {}
        for user, item, _ in test_rows:
            self.test.setdefault(self.user_index[user], set()).add(self.item_index[item])

    def matrix(self, weighting):
        from implicit.nearest_neighbours import bm25_weight
        if weighting == "bm25":
            # As implicit's lastfm example: BM25 over items × users, then back to users × items.
            return bm25_weight(self.user_items_raw.T.tocoo(), K1=100, B=0.8).T.tocsr().astype(self.np.float32)
        m = self.user_items_raw.copy()
        m.data = 1 + 40 * self.np.log1p(m.data)
        return m.astype(self.np.float32).tocsr()

    def fit(self, weighting, seed):
        from implicit.cpu.als import AlternatingLeastSquares
        matrix = self.matrix(weighting)
        model = AlternatingLeastSquares(factors=64, regularization=0.05, iterations=20, num_threads=self.threads,
                                        random_state=seed, use_cg=True, calculate_training_loss=False)
        started = time.perf_counter()
        model.fit(matrix, show_progress=False)
        return model, time.perf_counter() - started

    def score(self, model, k=20):
        np = self.np
        scores = model.user_factors @ model.item_factors.T
        train = self.user_items_raw
        recall = ndcg = 0.0
        for user, relevant in self.test.items():
            row = scores[user].copy()
            row[train.indices[train.indptr[user]:train.indptr[user + 1]]] = -np.inf
            top = np.argpartition(-row, k)[:k]
            top = top[np.lexsort((top, -row[top]))]
            hits = [rank for rank, item in enumerate(top) if item in relevant]
            recall += len(hits) / len(relevant)
            dcg = sum(1 / np.log2(rank + 2) for rank in hits)
            idcg = sum(1 / np.log2(rank + 2) for rank in range(min(len(relevant), k)))
            ndcg += dcg / idcg
        return {"recall@20": recall / len(self.test), "ndcg@20": ndcg / len(self.test)}


def reference(model_args, split_dir, results):
    """One ../shared/peers/rank/ease_rp3.py run (numpy); its result row."""
    env = dict(os.environ, SPLIT_DIR=split_dir, RESULTS_DIR=results)
    tag = "_" + "_".join(a.lstrip("-") for a in model_args)
    cmd = [sys.executable, os.path.join(PEERS_RANK, "ease_rp3.py")] + model_args + ["--tag", tag]
    log("+ " + " ".join(cmd))
    started = time.perf_counter()
    subprocess.run(cmd, check=True, env=env, stdout=subprocess.DEVNULL)
    name = [a for a in model_args if not a.startswith("-")][0]
    kind = {"ease": "ease", "rp3": "rp3"}[name]
    inp = model_args[model_args.index("--input") + 1] if "--input" in model_args else "binary"
    with open(os.path.join(results, f"{kind}_{inp}{tag}.json")) as f:
        row = json.load(f)
    row["wall_seconds"] = round(time.perf_counter() - started, 1)
    return row


def tuned_section(args, store, train, test):
    """Tune every model on validation, evaluate the tuned settings on test, run the references beside."""
    tuned_dir = os.path.join(WORK, "tuned")
    os.makedirs(tuned_dir, exist_ok=True)
    split = ["--store", store, "--train", train, "--test", test]
    searches = {}
    for model in TUNED_MODELS:
        budget = args.gcn_budget if model in GCN_MODELS else args.budget
        started = time.perf_counter()
        result = last_json(run([args.binary, "tune"] + split + ["--model", model, "--budget", str(budget), "--seed", str(args.seed),
                                "--threads", str(args.threads), "--out", tuned_dir, "--force", "--json", "--quiet"]))
        searches[model] = {
            "settings": result["settings"], "validation": {k: round(v, 4) for k, v in result["validation"].items()},
            "trials": len(result["trials"]), "tune_seconds": round(time.perf_counter() - started, 1),
        }
        log(f"  {model}: validation Recall@20 {result['validation']['recall@20']:.4f} with {result['settings']}")
    evaluation = last_json(run([args.binary, "evaluate"] + split + ["--models", ",".join(TUNED_MODELS), "--tuned", tuned_dir,
                                "--seed", str(args.seed), "--threads", str(args.threads), "--json", "--quiet"]))
    models = {name: {k: (round(v, 4) if isinstance(v, float) else v) for k, v in m.items()} for name, m in evaluation["models"].items()}
    resolved = evaluation["protocol"]["settings"]

    # The references at the same settings, in the same run.
    results = os.path.join(WORK, "peers-results")
    split_dir = os.path.dirname(train)
    ease = resolved["ease"]
    rp3 = resolved["rp3beta"]
    references = {
        "ease": reference(["--model", "ease", "--input", "binary" if ease["binary"] else "log1p", "--lam", str(ease["lambda"])], split_dir, results),
        "rp3beta": reference(["--model", "rp3", "--input", "binary" if rp3["binary"] else "log1p", "--alpha", str(rp3["alpha"]),
                              "--beta", str(rp3["beta"]), "--topk", str(rp3["neighbors"])], split_dir, results),
    }
    side_by_side = {}
    for name, row in references.items():
        side_by_side[name] = {
            metric: {"tastegraph": models[name][metric], "reference": round(row[metric], 4),
                     "deviation": round((models[name][metric] - row[metric]) / row[metric], 4)}
            for metric in ("recall@20", "ndcg@20")
        }
        side_by_side[name]["fit_seconds"] = {"tastegraph": round(models[name]["fit_seconds"], 2), "reference": round(row["fit_s"], 2)}

    # Targets: the GCN (and the GCN ensembled with EASE) against tuned EASE and every other model.
    ease_row = models["ease"]
    targets = {}
    for gcn_name in ("gcn", "gcn-ease"):
        row = models[gcn_name]
        others = [n for n in models if n not in GCN_MODELS]
        targets[gcn_name] = {
            "recall@20_vs_ease": round(row["recall@20"] / ease_row["recall@20"], 4),
            "ndcg@20_vs_ease": round(row["ndcg@20"] / ease_row["ndcg@20"], 4),
            "at_least_1.03x_ease": row["recall@20"] >= 1.03 * ease_row["recall@20"] and row["ndcg@20"] >= 1.03 * ease_row["ndcg@20"],
            "beats_every_other_model": all(row[m] > models[n][m] for n in others for m in ("recall@20", "ndcg@20")),
            "cold_recall@20": row.get("cold_recall@20"),
            "cold_above_popularity_and_content": (row.get("cold_recall@20") or 0) > max(models["popularity"].get("cold_recall@20") or 0,
                                                                                       models["content"].get("cold_recall@20") or 0),
        }
    return {"searches": searches, "models": models, "settings": resolved, "references_side_by_side": side_by_side, "targets": targets}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--binary", default=os.path.join(ROOT, ".build", "release", "tastegraph"))
    parser.add_argument("--lastfm", default=LASTFM)
    parser.add_argument("--repeats", type=int, default=3, help="ALS fits per side for the timing")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--budget", type=int, default=12, help="tune: trials per model (the defaults included)")
    parser.add_argument("--gcn-budget", type=int, default=4, help="tune: trials for gcn and gcn-ease (each a full training)")
    parser.add_argument("--skip", default="", help="comma list of sections to skip: reference, als, tuned")
    args = parser.parse_args()
    skip = set(filter(None, args.skip.split(",")))
    if not os.path.isdir(args.lastfm):
        log(f"skipped: {args.lastfm} is absent")
        print(json.dumps({"skipped": f"{args.lastfm} is absent"}))
        return
    os.makedirs(WORK, exist_ok=True)
    store = os.path.join(WORK, "lastfm.sqlite")
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(store + suffix):
            os.remove(store + suffix)
    train = os.path.join(args.lastfm, "split", "train.tsv")
    test = os.path.join(args.lastfm, "split", "test.tsv")
    run([args.binary, "import", "lastfm", args.lastfm, "--store", store, "--quiet"])

    report = {"dataset": "lastfm-2k canonical split", "machine": {"cpus": os.cpu_count(), "threads": args.threads}}
    if "tuned" not in skip:
        log("tune every model on validation, then evaluate the tuned settings on test…")
        report["tuned"] = tuned_section(args, store, train, test)
    if "reference" in skip:
        print(json.dumps(report, indent=2))
        return

    log("evaluate: every model on the canonical split at its defaults (the reference settings)…")
    evaluation = last_json(run([args.binary, "evaluate", "--store", store, "--train", train, "--test", test,
                                "--models", MODELS, "--seed", str(args.seed), "--threads", str(args.threads), "--json", "--quiet"]))
    models = evaluation["models"]
    checks = {}
    for name, targets in list(PEERS.items()) + list(PEERS_REFERENCE.items()):
        for metric, target in targets.items():
            ours = models[name][metric]
            deviation = (ours - target) / target
            checks[f"{name} {metric}"] = {"ours": round(ours, 4), "peers": target, "deviation": round(deviation, 4),
                                         "within_2pct": abs(deviation) <= 0.02}
    gcn = models["gcn"]
    baselines = [n for n in models if n != "gcn"]
    gcn_beats = {metric: all(gcn[metric] > models[n][metric] for n in baselines) for metric in ("recall@20", "ndcg@20")}

    log("ALS fit time, side by side with implicit…")
    side = ImplicitSide(load_split(train), load_split(test), args.threads) if "als" not in skip else None
    timing = {}
    for weighting in (("bm25", "confidence") if side else ()):
        ours_seconds, theirs_seconds = [], []
        ours_metrics = theirs_metrics = None
        for repeat in range(args.repeats):
            result = last_json(run([args.binary, "train", "--store", store, "--train", train, "--test", test, "--model", "als",
                                    "--als-weighting", weighting, "--threads", str(args.threads), "--seed", str(args.seed),
                                    "--out", os.path.join(WORK, f"als-{weighting}.tgm"), "--force", "--json", "--quiet"]))
            ours_seconds.append(result["fit_seconds"])
            ours_metrics = {"recall@20": result["recall@20"], "ndcg@20": result["ndcg@20"]}
            model, seconds = side.fit(weighting, args.seed + repeat)
            theirs_seconds.append(seconds)
            if repeat == 0:
                theirs_metrics = side.score(model)
            log(f"  {weighting} #{repeat + 1}: tastegraph {ours_seconds[-1]:.3f} s, implicit {seconds:.3f} s")
        ours_median, theirs_median = statistics.median(ours_seconds), statistics.median(theirs_seconds)
        timing[weighting] = {
            "tastegraph_fit_seconds": round(ours_median, 3), "implicit_fit_seconds": round(theirs_median, 3),
            "speedup": round(theirs_median / ours_median, 2), "no_slower": ours_median <= theirs_median,
            "tastegraph_runs": [round(s, 3) for s in ours_seconds], "implicit_runs": [round(s, 3) for s in theirs_seconds],
            "tastegraph_metrics": {k: round(v, 4) for k, v in ours_metrics.items()},
            "implicit_metrics": {k: round(v, 4) for k, v in theirs_metrics.items()},
        }

    table = {name: {k: (round(v, 4) if isinstance(v, float) else v) for k, v in m.items()} for name, m in models.items()}
    print(json.dumps({
        **report,
        "models": table,
        "peers_checks": checks,
        "all_within_2pct": all(c["within_2pct"] for c in checks.values()),
        "gcn_beats_every_baseline": gcn_beats,
        "als_fit_side_by_side": timing,
        "settings": evaluation["protocol"]["settings"],
        "machine": {"cpus": os.cpu_count(), "threads": args.threads},
    }, indent=2))


if __name__ == "__main__":
    main()

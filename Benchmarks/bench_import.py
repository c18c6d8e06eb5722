#!/usr/bin/env python3
"""Import benchmark: rows/s, seconds and peak RSS for lastfm-2k and generated Taste Profile files.

The 1M- and 10M-listen files share one vocabulary (100,000 users, 100,000 songs by 10,000 artists) and
differ only in listens per user, so their peak memory compares what grows with the file's length.
Prints one JSON object on stdout; progress goes to stderr.
"""
import argparse
import json
import os
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LASTFM = os.path.join(os.path.dirname(ROOT), "shared", "datasets", "lastfm-2k")
WORK = os.path.join(ROOT, ".bench", "import")


def run(cmd):
    print("+ " + " ".join(cmd), file=sys.stderr, flush=True)
    started = time.time()
    out = subprocess.run(cmd, check=True, stdout=subprocess.PIPE, text=True).stdout
    return out, time.time() - started


def fresh(path):
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(path + suffix):
            os.remove(path + suffix)
    return path


def summarize(result, wall):
    files = result["report"]["files"]
    listens = [f for f in files if f["kind"] == "listens"]
    row = {
        "rows": result["rows_read"],
        "seconds": round(result["report"]["seconds"], 3),
        "rows_per_second": round(result["rows_per_second"]),
        "peak_rss_mib": round(result["peak_rss_mib"], 1),
        "wall_seconds_including_process_start_and_checkpoint": round(wall, 3),
    }
    if listens:
        row["listens"] = listens[0]["rows_read"]
        row["listens_file_seconds"] = round(listens[0]["seconds"], 3)
        row["listens_rows_per_second"] = round(listens[0]["rows_read"] / listens[0]["seconds"])
    return row


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--binary", default=os.path.join(ROOT, ".build/release/tastegraph"))
    parser.add_argument("--sizes", default="1000000,10000000", help="listens per generated file")
    args = parser.parse_args()
    os.makedirs(WORK, exist_ok=True)
    results = {"machine": {"cpus": os.cpu_count()}}

    if os.path.exists(os.path.join(LASTFM, "user_artists.dat")):
        out, wall = run([args.binary, "import", "lastfm", LASTFM, "--store", fresh(os.path.join(WORK, "lastfm.sqlite")), "--json", "--quiet"])
        results["lastfm_2k"] = summarize(json.loads(out), wall)
    else:
        results["lastfm_2k"] = "skipped: ../shared/datasets/lastfm-2k is absent"

    users = 100_000
    for size in [int(s) for s in args.sizes.split(",")]:
        data = os.path.join(WORK, f"tp-{size}")
        if not os.path.exists(os.path.join(data, "triplets.tsv")):
            run([args.binary, "generate", "--seed", "1", "--users", str(users), "--songs", "100000", "--artists", "10000",
                 "--mean-listens", str(size / users), "--out", data, "--quiet"])
        store = fresh(os.path.join(WORK, f"tp-{size}.sqlite"))
        out, wall = run([args.binary, "import", "taste-profile", os.path.join(data, "triplets.tsv"),
                         "--metadata", os.path.join(data, "song_data.csv"), "--store", store, "--json", "--quiet"])
        results[f"taste_profile_{size // 1_000_000}m"] = summarize(json.loads(out), wall)
        fresh(store)
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()

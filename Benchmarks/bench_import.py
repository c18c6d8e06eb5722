#!/usr/bin/env python3
"""Import benchmark: rows/s, seconds and peak RSS for lastfm-2k and generated Taste Profile files, and for
generated timestamped plays (`import plays` and `import lastfm-1k`).

The 1M- and 10M-listen files share one vocabulary (100,000 users, 100,000 songs by 10,000 artists) and
differ only in listens per user, so their peak memory compares what grows with the file's length.
The timestamped files likewise share one (20,000 listeners, 3,000 songs by 300 artists) and differ in
sessions per listener (--timed-sessions); their rows are shuffled (seeded), because imports take
plays in any order, and each is also written in the Last.fm 1K dump's layout (the song id as the track
id, the artist's name, an empty artist id) to time that parser.
Prints one JSON object on stdout; progress goes to stderr.
"""
import argparse
import json
import os
import random
import shutil
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


def prepare_timed(data):
    """shuffled.tsv (plays.tsv in a seeded random order) and lastfm-1k.tsv (the same in the 1K dump's layout)."""
    import csv
    with open(os.path.join(data, "plays.tsv"), encoding="utf-8") as f:
        lines = f.readlines()
    random.Random(1).shuffle(lines)
    with open(os.path.join(data, "shuffled.tsv"), "w", encoding="utf-8") as out:
        out.writelines(lines)
    artist = {}
    with open(os.path.join(data, "song_data.csv"), encoding="utf-8") as f:
        for row in csv.DictReader(f):
            artist[row["song_id"]] = (row["artist_name"], row["title"].replace("\t", " ").replace("\n", " "))
    with open(os.path.join(data, "lastfm-1k.tsv"), "w", encoding="utf-8") as out:
        for line in lines:
            user, song, at = line.rstrip("\n").split("\t")
            name, title = artist[song]
            out.write(f"{user}\t{at}\t\t{name}\t{song}\t{title}\n")


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--prepare-timed":
        prepare_timed(sys.argv[2])
        return
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--binary", default=os.path.join(ROOT, ".build/release/tastegraph"))
    parser.add_argument("--sizes", default="1000000,10000000", help="listens per generated file")
    parser.add_argument("--timed-sessions", default="10,40", help="mean sessions per listener of each timestamped file (empty: none)")
    args = parser.parse_args()
    os.makedirs(WORK, exist_ok=True)
    results = {"machine": {"cpus": os.cpu_count()}}

    if os.path.exists(os.path.join(LASTFM, "user_artists.dat")):
        out, wall = run([args.binary, "import", "lastfm", LASTFM, "--store", fresh(os.path.join(WORK, "lastfm.sqlite")), "--json", "--quiet"])
        results["lastfm_2k"] = summarize(json.loads(out), wall)
    else:
        results["lastfm_2k"] = "skipped: ../shared/datasets/lastfm-2k is absent"

    users = 100_000
    for size in [int(s) for s in args.sizes.split(",") if s.strip()]:
        data = os.path.join(WORK, f"tp-{size}")
        if not os.path.exists(os.path.join(data, "triplets.tsv")):
            run([args.binary, "generate", "--seed", "1", "--users", str(users), "--songs", "100000", "--artists", "10000",
                 "--mean-listens", str(size / users), "--out", data, "--quiet"])
        store = fresh(os.path.join(WORK, f"tp-{size}.sqlite"))
        out, wall = run([args.binary, "import", "taste-profile", os.path.join(data, "triplets.tsv"),
                         "--metadata", os.path.join(data, "song_data.csv"), "--store", store, "--json", "--quiet"])
        results[f"taste_profile_{size // 1_000_000}m"] = summarize(json.loads(out), wall)
        fresh(store)

    for sessions in [s for s in args.timed_sessions.split(",") if s.strip()]:
        data = os.path.join(WORK, f"timed-{sessions}")
        plays = os.path.join(data, "shuffled.tsv")
        dump = os.path.join(data, "lastfm-1k.tsv")
        if not os.path.exists(dump):
            run([args.binary, "generate", "--timestamped", "--seed", "1", "--users", "20000", "--mean-sessions", sessions,
                 "--out", data, "--quiet", "--force"])
            # In a child process: the shuffle holds every line in memory, and a child forked from a large parent
            # starts with the parent's peak RSS, which the import would then report as its own.
            subprocess.run([sys.executable, os.path.abspath(__file__), "--prepare-timed", data], check=True)
        doubled = os.path.join(data, "doubled.tsv")
        if not os.path.exists(doubled):  # every play twice: twice the rows, the same (user, song) pairs
            with open(doubled, "wb") as out:
                for _ in range(2):
                    with open(plays, "rb") as f:
                        shutil.copyfileobj(f, out)
        for kind, cmd in (("plays", ["import", "plays", plays]), ("lastfm_1k", ["import", "lastfm-1k", dump]),
                          ("plays_doubled", ["import", "plays", doubled])):
            store = fresh(os.path.join(WORK, f"timed-{sessions}-{kind}.sqlite"))
            out, wall = run([args.binary] + cmd + ["--store", store, "--json", "--quiet"])
            row = summarize(json.loads(out), wall)
            row["mean_sessions_per_listener"] = float(sessions)
            row["distinct_pairs"] = json.loads(out)["stats"]["listens"]
            results[f"timed_{kind}_{sessions}_sessions"] = row
            fresh(store)
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()

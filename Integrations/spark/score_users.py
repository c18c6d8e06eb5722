#!/usr/bin/env python3
"""Batch recommendations on Spark: each partition of users scored by the `tastegraph` binary.

The binary, the store and the model file go to the executors through SparkFiles (`addFile`). Each
partition starts one process

    tastegraph recommend --store STORE --checkpoint MODEL --batch --users - --out - --no-header -k K

writes its user ids to its standard input, one per line, and reads CSV records from its standard output
(`user_id,rank,item_id,title,artist,score,predicted_plays,cold_start`, RFC 4180; a quoted title may span
lines) — the contract of `RDD.pipe`, with the paths resolved on the executor. A user's list does not depend
on which users share its partition (the binary pads its sgemm blocks), so the table equals one
`tastegraph recommend --batch` over everyone. The result is a Parquet table (a new folder).

    python score_users.py --binary .build/release/tastegraph --store s.sqlite --model m.tgck --out recs.parquet
"""

import argparse
import csv
import os
import sqlite3
import subprocess
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

COLUMNS = ["user_id", "rank", "item_id", "title", "artist", "score", "predicted_plays", "cold_start"]


def records(lines):
    """CSV records from an iterator of text lines, a quoted field allowed to span lines."""
    pending = ""
    for line in lines:
        pending += line
        if pending.count('"') % 2 == 0:
            yield next(csv.reader([pending.rstrip("\n")]))
            pending = ""
    if pending:
        raise ValueError(f"unterminated CSV record from tastegraph: {pending[:80]!r}")


def typed(record):
    """One CSV record as a table row: rank int, score and predicted plays float (None when empty), cold_start bool."""
    user, rank, item, title, artist, score, predicted, cold = record
    return (user, int(rank), item, title, artist, float(score), float(predicted) if predicted else None, cold == "true")


def score_partition(names, k, extra):
    """The function each partition runs: one tastegraph process over its users."""
    def run(users):
        from pyspark import SparkFiles

        binary, store, model = (SparkFiles.get(n) for n in names)
        os.chmod(binary, 0o755)
        command = [binary, "recommend", "--store", store, "--checkpoint", model, "--batch", "--users", "-", "--out", "-",
                   "--no-header", "--quiet", "-k", str(k)] + extra
        process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

        def feed():
            for user in users:
                process.stdin.write(user + "\n")
            process.stdin.close()

        feeder = threading.Thread(target=feed)
        feeder.start()
        for record in records(process.stdout):
            yield typed(record)
        feeder.join()
        errors = process.stderr.read()
        if process.wait() != 0:
            raise RuntimeError(f"tastegraph exited with {process.returncode}: {errors.strip()}")
    return run


def store_users(store: str):
    with sqlite3.connect(f"file:{store}?mode=ro", uri=True) as db:
        return [row[0] for row in db.execute("SELECT external_id FROM users ORDER BY id")]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--binary", default="tastegraph", help="the tastegraph binary (default: from PATH)")
    parser.add_argument("--store", required=True)
    parser.add_argument("--model", required=True, help="a model file from `tastegraph train`")
    parser.add_argument("--users", help="external user ids, one per line (default: every user of the store)")
    parser.add_argument("-k", type=int, default=20, help="recommendations per user (default 20)")
    parser.add_argument("--partitions", type=int, default=4, help="user partitions, one tastegraph process each (default 4)")
    parser.add_argument("--threads", type=int, default=1, help="each process's --threads (default 1: Spark runs partitions in parallel)")
    parser.add_argument("--out", required=True, help="the Parquet table to write (a new folder)")
    parser.add_argument("--master", default="local[2]", help="Spark master (default local[2])")
    args = parser.parse_args(argv)
    binary = args.binary if os.path.sep in args.binary else next(
        (os.path.join(d, args.binary) for d in os.environ.get("PATH", "").split(os.pathsep) if os.access(os.path.join(d, args.binary), os.X_OK)), None)
    for label, path in (("--binary", binary), ("--store", args.store), ("--model", args.model)):
        if not path or not os.path.isfile(path):
            common.fail(f"{label} {path or args.binary}: no such file", common.EXIT_USAGE)
    if args.k < 1 or args.partitions < 1 or args.threads < 1:
        common.fail("-k, --partitions and --threads must be positive", common.EXIT_USAGE)
    if os.path.exists(args.out):
        common.fail(f"{args.out} exists; the table is written to a new folder", common.EXIT_USAGE)
    if args.users:
        with open(args.users, encoding="utf-8") as handle:
            users = [line.rstrip("\r\n") for line in handle if line.strip()]
    else:
        users = store_users(args.store)

    spark = common.spark_session(args.master, "tastegraph-score")
    sc = spark.sparkContext
    for path in (binary, args.store, args.model):
        sc.addFile(os.path.abspath(path))
    names = [os.path.basename(p) for p in (binary, args.store, args.model)]
    rows = sc.parallelize(users, args.partitions).mapPartitions(score_partition(names, args.k, ["--threads", str(args.threads)]))
    from pyspark.sql.types import BooleanType, DoubleType, IntegerType, StringType, StructField, StructType

    schema = StructType([
        StructField("user_id", StringType(), False), StructField("rank", IntegerType(), False),
        StructField("item_id", StringType(), False), StructField("title", StringType(), False),
        StructField("artist", StringType(), False), StructField("score", DoubleType(), False),
        StructField("predicted_plays", DoubleType(), True), StructField("cold_start", BooleanType(), False),
    ])
    spark.createDataFrame(rows, schema).write.mode("errorifexists").parquet(args.out)
    spark.stop()
    print(f"recommendations for {len(users)} users in {args.partitions} partitions written to {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

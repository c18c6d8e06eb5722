#!/usr/bin/env python3
"""Raw listen logs → TasteGraph's triplet file (user<TAB>song<TAB>play_count), on Spark.

Input: a text log (TSV or CSV without quoting, one row per line, a header line naming the columns) or a
Parquet table, as a file or a folder of files. Columns `user` and `song`, and `plays` when present (else
every row is one play). Every row goes through the importer's rules (listen_rules.py); a rejected row is
reported as FILE:LINE: reason (Parquet: FILE:ROW, counted from 1). More rejected rows than --max-errors
fail the job with exit 3 and write nothing. Rows of the same (user, song) are summed; a sum above 10⁹ plays
is rejected like a row. The output is one TSV file sorted by user then song (byte order), written
atomically: `tastegraph import taste-profile OUT` loads it.

    python listens_to_triplets.py --input logs/ --out triplets.tsv [--format tsv|csv|parquet] [--master local[2]]
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402
import listen_rules  # noqa: E402


def input_files(path: str, extension: str):
    if os.path.isdir(path):
        names = sorted(n for n in os.listdir(path) if not n.startswith((".", "_")) and n.endswith(extension))
        return [os.path.join(path, n) for n in names]
    return [path] if os.path.exists(path) else []


def text_rows(sc, files, separator: bytes):
    """(file, line number, parsed row or RowError text) of every non-header line of every file."""
    rdds = []
    for name in files:
        with open(name, "rb") as handle:
            header = handle.readline().rstrip(b"\r\n").split(separator)
        columns = [h.decode("utf-8", "replace").strip() for h in header]
        if "user" not in columns or "song" not in columns:
            common.fail(f"{name}:1: the header must name the columns user and song (and optionally plays), found {columns}", common.EXIT_INPUT)
        if columns not in (["user", "song"], ["user", "song", "plays"]):
            common.fail(f"{name}:1: columns must be user, song[, plays] in that order, found {columns}", common.EXIT_INPUT)
        with_plays = len(columns) == 3

        def check(pair, name=name, with_plays=with_plays):
            line, index = pair
            if index == 0:
                return []
            try:
                row = listen_rules.parse(line, separator, with_plays)
            except listen_rules.RowError as error:
                return [(name, index + 1, None, str(error))]
            return [] if row is None else [(name, index + 1, row, None)]

        rdds.append(sc.textFile(name, use_unicode=False).zipWithIndex().flatMap(check))
    return sc.union(rdds)


def parquet_rows(spark, files):
    rdds = []
    for name in files:
        frame = spark.read.parquet(name)
        if not {"user", "song"} <= set(frame.columns):
            common.fail(f"{name}: a listen table needs columns user and song (and optionally plays), found {frame.columns}", common.EXIT_INPUT)
        with_plays = "plays" in frame.columns
        frame = frame.select("user", "song", *(["plays"] if with_plays else []))

        def check(pair, name=name, with_plays=with_plays):
            record, index = pair
            def raw(value):
                return b"" if value is None else str(value).encode("utf-8")
            fields = [raw(record[0]), raw(record[1])] + ([raw(record[2])] if with_plays else [])
            try:
                row = listen_rules.parse(b"\t".join(fields), b"\t", with_plays)
            except listen_rules.RowError as error:
                return [(name, index + 1, None, str(error))]
            return [] if row is None else [(name, index + 1, row, None)]

        rdds.append(frame.rdd.zipWithIndex().flatMap(check))
    return spark.sparkContext.union(rdds)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--input", required=True, help="a log file, or a folder of them")
    parser.add_argument("--out", required=True, help="the triplet file to write (new; see --force)")
    parser.add_argument("--format", choices=["tsv", "csv", "parquet"], help="default: from the input's extension")
    parser.add_argument("--max-errors", type=int, default=0, help="skip at most this many bad rows, each reported (default 0)")
    parser.add_argument("--master", default="local[2]", help="Spark master (default local[2])")
    parser.add_argument("--force", action="store_true", help="replace an existing --out file (never a directory)")
    args = parser.parse_args(argv)
    if args.max_errors < 0:
        common.fail("--max-errors must be ≥ 0", common.EXIT_USAGE)
    common.check_new_output(args.out, args.force)
    fmt = args.format or next((f for f in ("parquet", "csv", "tsv") if args.input.rstrip("/").endswith("." + f)), "tsv")
    files = input_files(args.input, "" if os.path.isfile(args.input) else "." + fmt)
    if not files:
        common.fail(f"{args.input}: no {fmt} files", common.EXIT_INPUT)

    spark = common.spark_session(args.master, "tastegraph-listens")
    rows = parquet_rows(spark, files) if fmt == "parquet" else text_rows(spark.sparkContext, files, b"\t" if fmt == "tsv" else b",")
    rows.cache()
    rejected = rows.filter(lambda r: r[3] is not None).map(lambda r: (r[0], r[1], r[3]))
    shown = rejected.takeOrdered(max(10, args.max_errors + 1), key=lambda r: (r[0], r[1]))
    if len(shown) > args.max_errors:
        for name, line, reason in shown[:10]:
            print(f"error: {name}:{line}: {reason}", file=sys.stderr)
        total = rejected.count()
        print(f"error: {total} bad rows (--max-errors {args.max_errors}); nothing was written", file=sys.stderr)
        spark.stop()
        return common.EXIT_INPUT
    for name, line, reason in shown:
        print(f"skipped: {name}:{line}: {reason}", file=sys.stderr)

    totals = rows.filter(lambda r: r[3] is None).map(lambda r: ((r[2][0], r[2][1]), r[2][2])).reduceByKey(lambda a, b: a + b)
    too_large = totals.filter(lambda kv: kv[1] > listen_rules.MAXIMUM_PLAY_COUNT).take(10)
    if too_large:
        for (user, song), plays in too_large:
            print(f"error: ({user}, {song}) sums to {plays} plays: at most {listen_rules.MAXIMUM_TEXT} plays per (user, song)", file=sys.stderr)
        spark.stop()
        return common.EXIT_INPUT
    ordered = totals.map(lambda kv: (kv[0][0].encode("utf-8"), kv[0][1].encode("utf-8"), kv[1])).sortBy(lambda r: (r[0], r[1]))
    count = [0]

    def lines():
        for user, song, plays in ordered.toLocalIterator():
            count[0] += 1
            yield user + b"\t" + song + b"\t" + str(plays).encode() + b"\n"

    common.write_atomically(args.out, lines())
    spark.stop()
    print(f"{count[0]} triplets from {len(files)} file(s) written to {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Segment membership from a stored segmentation, on Spark: the members.csv of `tastegraph segments export`.

Reads a segmentation that `tastegraph segments` stored (the latest, or --segmentation ID) from the store,
keeps the segments with at least --min-audience members, keys each member by its external id or, with
--hash-ids, by SHA-256(salt ‖ external id) in lower-case hex (Spark's sha2), and writes
`segment_id,user_key,user_key_type,score,assigned_at` sorted by segment then user key, the score with six
decimals — byte for byte the members.csv of `tastegraph segments export` with the same options. The file is
written atomically and never replaces an existing one without --force. The salt comes from --salt-file or
TASTEGRAPH_SALT (never from the command line).

    python export_segments.py --store s.sqlite --out members.csv [--hash-ids --salt-file salt] [--min-audience 100]
"""

import argparse
import os
import sqlite3
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402


def read_segmentation(store: str, wanted):
    with sqlite3.connect(f"file:{store}?mode=ro", uri=True) as db:
        row = db.execute(
            "SELECT id, created_at FROM segmentations " + ("WHERE id = ?" if wanted is not None else "ORDER BY id DESC LIMIT 1"),
            (() if wanted is None else (wanted,))).fetchone()
        if row is None:
            common.fail(f"no segmentation {wanted} in {store}" if wanted is not None else f"no segmentation in {store}; run `tastegraph segments` first", common.EXIT_INPUT)
        sid, created = row
        segments = {index: (stable, size) for index, stable, size in
                    db.execute("SELECT segment_index, stable_id, size FROM segments WHERE segmentation_id = ?", (sid,))}
        members = db.execute(
            "SELECT u.external_id, m.segment_index, m.score FROM segment_members m JOIN users u ON u.id = m.user_id "
            "WHERE m.segmentation_id = ? AND m.segment_index IS NOT NULL", (sid,)).fetchall()
    return sid, created, segments, members


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--store", required=True)
    parser.add_argument("--out", required=True, help="the members CSV to write (new; see --force)")
    parser.add_argument("--segmentation", type=int, help="segmentation id (default: the latest)")
    parser.add_argument("--min-audience", type=int, default=100, help="leave out smaller segments (default 100)")
    parser.add_argument("--hash-ids", action="store_true", help="key members by SHA-256(salt ‖ id)")
    parser.add_argument("--salt-file", help="file whose content (trailing newline removed) is the salt")
    parser.add_argument("--master", default="local[2]", help="Spark master (default local[2])")
    parser.add_argument("--force", action="store_true", help="replace an existing --out file (never a directory)")
    args = parser.parse_args(argv)
    if args.min_audience < 0:
        common.fail("--min-audience must be ≥ 0", common.EXIT_USAGE)
    salt = None
    if args.hash_ids:
        if args.salt_file:
            with open(args.salt_file, encoding="utf-8") as handle:
                salt = handle.read()
            salt = salt[:-1] if salt.endswith("\n") else salt
        else:
            salt = os.environ.get("TASTEGRAPH_SALT")
        if not salt:
            common.fail("--hash-ids needs a salt: --salt-file FILE or TASTEGRAPH_SALT", common.EXIT_USAGE)
    common.check_new_output(args.out, args.force)
    if not os.path.isfile(args.store):
        common.fail(f"--store {args.store}: no such file", common.EXIT_USAGE)
    _, created, segments, members = read_segmentation(args.store, args.segmentation)
    kept = {index: stable for index, (stable, size) in segments.items() if size >= args.min_audience}

    spark = common.spark_session(args.master, "tastegraph-segments")
    from pyspark.sql import functions as F

    frame = spark.createDataFrame([(m[0], m[1], float(m[2])) for m in members if m[1] in kept] or [("", -1, 0.0)], "user string, segment int, score double")
    frame = frame.filter(F.col("segment") >= 0)
    stable = spark.createDataFrame(list(kept.items()) or [(-1, "")], "segment int, segment_id string")
    key = F.sha2(F.concat(F.lit(salt), F.col("user")), 256) if salt is not None else F.col("user")
    rows = frame.join(stable, "segment").select("segment_id", key.alias("user_key"), "score").orderBy("segment_id", "user_key")
    key_type = "sha256_salted" if salt is not None else "external_id"
    count = [0]

    def lines():
        yield b"segment_id,user_key,user_key_type,score,assigned_at\n"
        for row in rows.toLocalIterator():
            count[0] += 1
            # Python's %.6f rounds the exact binary value, as Swift's String(format:) does (Java's may not).
            yield (f"{common.csv_field(row.segment_id)},{common.csv_field(row.user_key)},{key_type},"
                   f"{'%.6f' % row.score},{common.csv_field(created)}\n").encode("utf-8")

    common.write_atomically(args.out, lines())
    spark.stop()
    print(f"{count[0]} members of {len(kept)} segments written to {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""The Spark path equals the single-machine path on the bundled sample, in local[2] mode.

1. listens_to_triplets.py on a play log made from GraphData/triplets.tsv (each count split over up to three
   rows, shuffled, over two files) gives back exactly those triplets; a bad row fails with the importer's
   line and reason, and writes nothing.
2. score_users.py over 3 partitions gives exactly `tastegraph recommend --batch`'s rows.
3. export_segments.py gives members.csv of `tastegraph segments export` byte for byte (hashed ids).

Skips, saying so, when Java is absent. TASTEGRAPH_BINARY names the binary (default .build/debug/tastegraph).
"""

import csv
import os
import random
import shutil
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
BINARY = os.environ.get("TASTEGRAPH_BINARY", os.path.join(ROOT, ".build", "debug", "tastegraph"))
sys.path.insert(0, HERE)
import score_users  # noqa: E402


def run(*command, check=True):
    result = subprocess.run(list(command), capture_output=True, text=True)
    if check and result.returncode != 0:
        raise AssertionError(f"{' '.join(command)} exited {result.returncode}:\n{result.stderr[-3000:]}")
    return result


def job(name, *args, check=True):
    return run(sys.executable, os.path.join(HERE, name), *args, check=check)


@unittest.skipIf(shutil.which("java") is None, "Java is absent: Spark's local mode needs a JDK")
class SparkMatchesSingleMachine(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="tastegraph-spark-")
        cls.store = os.path.join(cls.dir, "s.sqlite")
        data = os.path.join(ROOT, "GraphData")
        run(BINARY, "import", "taste-profile", os.path.join(data, "triplets.tsv"), "--metadata", os.path.join(data, "song_data.csv"),
            "--store", cls.store, "--quiet")
        cls.model = os.path.join(cls.dir, "als.tgm")
        run(BINARY, "train", "--store", cls.store, "--model", "als", "--seed", "1", "--out", cls.model, "--quiet")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir, ignore_errors=True)

    def test_listen_logs_aggregate_to_the_triplets(self):
        with open(os.path.join(ROOT, "GraphData", "triplets.tsv"), encoding="utf-8") as handle:
            triplets = [line.rstrip("\n").split("\t") for line in handle if line.strip()]
        rng = random.Random(7)
        events = []
        for user, song, plays in triplets:
            left, parts = int(plays), []
            for _ in range(2):
                if left > 1 and rng.random() < 0.5:
                    take = rng.randint(1, left - 1)
                    parts.append(take)
                    left -= take
            parts.append(left)
            events += [(user, song, p) for p in parts]
        rng.shuffle(events)
        logs = os.path.join(self.dir, "logs")
        os.makedirs(logs)
        half = len(events) // 2
        for name, chunk in (("a.tsv", events[:half]), ("b.tsv", events[half:])):
            with open(os.path.join(logs, name), "w", encoding="utf-8") as out:
                out.write("user\tsong\tplays\n")
                out.writelines(f"{u}\t{s}\t{p}\n" for u, s, p in chunk)
        self.assertGreater(len(events), len(triplets))
        out = os.path.join(self.dir, "triplets.tsv")
        job("listens_to_triplets.py", "--input", logs, "--out", out)
        with open(out, encoding="utf-8") as handle:
            got = [line.rstrip("\n").split("\t") for line in handle]
        self.assertEqual(sorted(map(tuple, got)), sorted(map(tuple, triplets)))
        self.assertEqual(got, sorted(got, key=lambda r: (r[0].encode(), r[1].encode())))

        # A bad row: the importer's line and reason, nothing written, an existing file untouched.
        bad = os.path.join(self.dir, "bad.tsv")
        with open(bad, "w", encoding="utf-8") as handle:
            handle.write("user\tsong\tplays\nu1\ts1\t3\nu2\ts2\tx7\n")
        failed = job("listens_to_triplets.py", "--input", bad, "--out", os.path.join(self.dir, "never.tsv"), check=False)
        self.assertEqual(failed.returncode, 3)
        self.assertIn(f"{bad}:3: play count 'x7' is not an integer", failed.stderr)
        self.assertFalse(os.path.exists(os.path.join(self.dir, "never.tsv")))
        triplet_file = os.path.join(self.dir, "bad-triplets.tsv")
        with open(triplet_file, "w", encoding="utf-8") as handle:
            handle.write("u0\ts0\t1\nu1\ts1\t3\nu2\ts2\tx7\n")
        importer = run(BINARY, "import", "taste-profile", triplet_file, "--store", os.path.join(self.dir, "bad.sqlite"), check=False)
        self.assertIn(f"{triplet_file}:3: play count 'x7' is not an integer", importer.stderr)
        refused = job("listens_to_triplets.py", "--input", logs, "--out", out, check=False)
        self.assertEqual(refused.returncode, 2)

    def test_partitioned_scoring_equals_one_batch(self):
        single = os.path.join(self.dir, "single.csv")
        run(BINARY, "recommend", "--store", self.store, "--checkpoint", self.model, "--batch", "--out", single, "-k", "10", "--quiet")
        with open(single, encoding="utf-8") as handle:
            next(handle)
            expected = [score_users.typed(r) for r in score_users.records(handle)]
        table = os.path.join(self.dir, "recs.parquet")
        job("score_users.py", "--binary", BINARY, "--store", self.store, "--model", self.model, "-k", "10", "--partitions", "3", "--out", table)
        sys.path.insert(0, HERE)
        import common
        spark = common.spark_session("local[2]", "tastegraph-test")
        rows = [tuple(r) for r in spark.read.parquet(table).select(*score_users.COLUMNS).collect()]
        spark.stop()
        order = {user: i for i, user in enumerate(score_users.store_users(self.store))}
        rows.sort(key=lambda r: (order[r[0]], r[1]))
        self.assertEqual(len(rows), len(expected))
        self.assertEqual(rows, expected)

    def test_segment_membership_equals_the_export(self):
        run(BINARY, "segments", "--store", self.store, "--seed", "1", "--quiet")
        salt = os.path.join(self.dir, "salt")
        with open(salt, "w", encoding="utf-8") as handle:
            handle.write("a private salt\n")
        export = os.path.join(self.dir, "audiences")
        run(BINARY, "segments", "export", "--store", self.store, "--out", export, "--hash-ids", "--salt-file", salt, "--min-audience", "50", "--quiet")
        members = os.path.join(self.dir, "members.csv")
        job("export_segments.py", "--store", self.store, "--out", members, "--hash-ids", "--salt-file", salt, "--min-audience", "50")
        with open(os.path.join(export, "members.csv"), "rb") as a, open(members, "rb") as b:
            expected, got = a.read(), b.read()
        self.assertGreater(expected.count(b"\n"), 100)
        self.assertEqual(got, expected)


if __name__ == "__main__":
    unittest.main(verbosity=2)

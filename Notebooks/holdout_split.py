#!/usr/bin/env python3
"""Writes a deterministic train/test split of a store's listens, for a dataset without split files.

A listen (user, item) is held out for test when the first 8 bytes of SHA-256(user id + TAB + item id),
read big-endian, are 0 modulo `--modulus` (5: about a fifth of the listens). The split depends only on the
external ids, never on the order of the listens, a seed or the Python version, so every run, machine and
store built from the same data gives the same files. A user whose every listen falls on the test side has
no train listens: the replay then meets a cold-start listener, as a live service would.

Output (`userID<TAB>itemID<TAB>weight`, with that header line, the format of lastfm-2k's split files and of
`tastegraph train --train/--test`): train.tsv and test.tsv in `--out`, listens in the store's order.
Only the standard library is needed: `python3 Notebooks/holdout_split.py --store S --out DIR`.
"""

from __future__ import annotations

import argparse
import hashlib
import sqlite3
import sys
from pathlib import Path

HEADER = "userID\titemID\tweight\n"


def held_out(user: str, item: str, modulus: int = 5) -> bool:
    """Whether the listen (user, item) goes to the test side."""
    digest = hashlib.sha256(f"{user}\t{item}".encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % modulus == 0


def store_listens(store: Path) -> list[tuple[str, str, int]]:
    """Every listen of the store as (user external id, item external id, plays), read-only."""
    con = sqlite3.connect(f"file:{Path(store).resolve()}?mode=ro", uri=True)
    try:
        return con.execute("""
            SELECT u.external_id, i.external_id, l.play_count
            FROM listens l JOIN users u ON u.id = l.user_id JOIN items i ON i.id = l.item_id
            ORDER BY l.user_id, l.item_id""").fetchall()
    finally:
        con.close()


def write_split(listens: list[tuple[str, str, int]], out: Path, modulus: int = 5) -> tuple[Path, Path, int, int]:
    """Writes train.tsv and test.tsv into `out`; returns their paths and line counts (without header)."""
    out.mkdir(parents=True, exist_ok=True)
    train_path, test_path = out / "train.tsv", out / "test.tsv"
    n_train = n_test = 0
    with open(train_path, "w", encoding="utf-8") as train, open(test_path, "w", encoding="utf-8") as test:
        train.write(HEADER)
        test.write(HEADER)
        for user, item, plays in listens:
            line = f"{user}\t{item}\t{plays}\n"
            if held_out(user, item, modulus):
                test.write(line)
                n_test += 1
            else:
                train.write(line)
                n_train += 1
    return train_path, test_path, n_train, n_test


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--store", type=Path, required=True, help="the SQLite store to split")
    parser.add_argument("--out", type=Path, required=True, help="folder for train.tsv and test.tsv")
    parser.add_argument("--modulus", type=int, default=5, help="hold out when the hash is 0 mod this (default: 5)")
    args = parser.parse_args()
    if args.modulus < 2:
        print("error: --modulus must be at least 2", file=sys.stderr)
        return 1
    if not args.store.exists():
        print(f"error: no store at {args.store}: import the dataset first (tastegraph import)", file=sys.stderr)
        return 1
    _, _, n_train, n_test = write_split(store_listens(args.store), args.out, args.modulus)
    print(f"{n_train} train and {n_test} test listens in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Builds the notebooks' inputs with the tastegraph binary, then runs every notebook headless.

For each dataset (the GraphData sample always; lastfm-2k when ../shared/datasets/lastfm-2k exists) it
writes into out/notebooks/<dataset>/:

    store.sqlite          import, then `prepare` with the filters (report: prepare.json), then `prepare`
                          without filters again, so the models see all data (the split stays canonical)
    stats.json            `stats --json`
    model.tgck            `train --out`, with train.jsonl (`--log`, one line per epoch) and train.json
    eval.json             `evaluate --json` over the models of --models
    diversity.json        `evaluate --json --diversity` (MMR re-ranking at each λ of DIVERSITY_LAMBDAS): with split
                          files the pipeline's GCN checkpoint (≈ 10 s on lastfm-2k), else item-KNN (fits in 0.1 s)
    segments.json         `segments detect --json`, and segments-export/ (`segments export`)
    related.json          `related --json` for the top artist of each of the largest segments
    experiment.json       the replay's experiment: popularity, ALS and the GCN (frozen, filter, fold-in, and a
                          per-segment policy over it), with its models in replay/
    replay-paired.json    `replay --each-arm --json`: every arm replayed alone over every user, paired comparisons
    replay.json           `replay --json` of that experiment over the test listens (replay/test.tsv on the
                          sample, written by holdout_split.py; lastfm-2k's split/test.tsv)
    sessions/             on the sample only: `generate --timestamped` (seed 42), its store (`import plays`),
                          sessions-stats.json (`stats --json`) and next-item.json (`evaluate --task next-item
                          --json`, with the planted hour-dependent listeners as --focus-users)
    01-explore.ipynb …    the executed notebooks (the committed ones in Notebooks/ are never written)

Run it with the notebooks' virtual environment (it needs nbclient): `make notebooks` does. Exit status 0
when every command and every notebook cell succeeded, 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sqlite3
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import holdout_split  # beside this script

NOTEBOOKS_DIR = Path(__file__).resolve().parent
REPO_DIR = NOTEBOOKS_DIR.parent
NOTEBOOKS = ["01-explore.ipynb", "02-models.ipynb", "03-segments.ipynb", "04-experiments.ipynb"]
DEFAULT_MODELS = "gcn,popularity,coldstart,itemknn,als-bm25,als-conf"
# The MMR accuracy–novelty curve of 02-models (section 6): its λ values, and the model scored without a
# checkpoint to reuse (cheap to fit).
DIVERSITY_LAMBDAS = "0,0.1,0.2,0.3,0.5,0.7"
DIVERSITY_MODEL = "itemknn"


@dataclass
class Dataset:
    """One dataset's inputs and the settings the pipeline uses for it."""

    name: str
    import_args: list[str]
    filters: dict[str, str]
    train_split: Path | None = None
    test_split: Path | None = None
    min_audience: int = 100
    truth: Path | None = None

    def split_args(self, test: bool = True) -> list[str]:
        args = []
        if self.train_split:
            args += ["--train", str(self.train_split)]
        if test and self.test_split:
            args += ["--test", str(self.test_split)]
        return args


def datasets(lastfm_dir: Path) -> list[Dataset]:
    graph_data = REPO_DIR / "GraphData"
    found = [Dataset(
        name="graphdata",
        import_args=["import", "taste-profile", str(graph_data / "triplets.tsv"),
                     "--metadata", str(graph_data / "song_data.csv")],
        # Illustrative thresholds for the seed analysis's filters on the sample: the report shows what
        # each removes; 01-explore recomputes them and sweeps other thresholds.
        filters={"--min-user-plays": "10", "--min-user-items": "5", "--min-item-average-plays": "1.5"},
        min_audience=10,  # the sample's segments hold 200–300 listeners; 10 keeps every one
        truth=graph_data,
    )]
    if (lastfm_dir / "user_artists.dat").exists():
        split = lastfm_dir / "split"
        found.append(Dataset(
            name="lastfm-2k",
            import_args=["import", "lastfm", str(lastfm_dir)],
            filters={"--min-user-plays": "1000", "--min-user-items": "20", "--min-item-average-plays": "50"},
            train_split=split / "train.tsv" if (split / "train.tsv").exists() else None,
            test_split=split / "test.tsv" if (split / "test.tsv").exists() else None,
            min_audience=100,
        ))
    return found


class StepFailed(Exception):
    pass


class Runner:
    """Runs tastegraph commands, logging each with its time; stdout can go to a file."""

    def __init__(self, binary: Path, log):
        self.binary = binary
        self.log = log

    def __call__(self, args: list[str], stdout: Path | None = None, check: bool = True) -> subprocess.CompletedProcess:
        shown = " ".join(str(a) for a in [self.binary.name] + args)
        start = time.monotonic()
        result = subprocess.run([str(self.binary)] + [str(a) for a in args], capture_output=True, text=True)
        seconds = time.monotonic() - start
        self.log(f"  {shown}{' > ' + stdout.name if stdout else ''}  ({seconds:.1f} s, exit {result.returncode})")
        if stdout is not None and result.returncode == 0:
            stdout.write_text(result.stdout, encoding="utf-8")
        if check and result.returncode != 0:
            raise StepFailed(f"{shown} failed with exit {result.returncode}:\n{result.stderr.strip()}")
        return result


def fresh_store(path: Path) -> None:
    for suffix in ["", "-wal", "-shm"]:
        Path(str(path) + suffix).unlink(missing_ok=True)


def artist_ids_by_name(store: Path) -> dict[str, str]:
    """Artist name → external id (what `related --artist` accepts); the most-listened artist wins a tie."""
    con = sqlite3.connect(f"file:{store}?mode=ro", uri=True)
    try:
        rows = con.execute("""
            SELECT a.name, a.external_id, COALESCE(reach.listeners, 0) AS listeners
            FROM artists a LEFT JOIN (
                SELECT i.artist_id, COUNT(DISTINCT l.user_id) AS listeners
                FROM listens l JOIN items i ON i.id = l.item_id GROUP BY i.artist_id) reach ON reach.artist_id = a.id
            ORDER BY listeners ASC""").fetchall()
    finally:
        con.close()
    return {name: external for name, external, _ in rows}


def read_split(path: Path) -> list[tuple[str, str, float]]:
    """(user, item, plays) of a split file (userID<TAB>itemID<TAB>weight; a header line is skipped)."""
    rows = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        fields = line.split("\t")
        if len(fields) < 3:
            continue
        try:
            rows.append((fields[0], fields[1], float(fields[2])))
        except ValueError:
            continue  # the header
    return rows


def policy_thresholds(store: Path, train_file: Path) -> dict[str, float]:
    """The policy arm's thresholds, from the train listens' per-user quantiles.

    Low engagement: mean plays per heard song below its lower quartile over users; low discovery: fewer
    distinct artists than their lower quartile (an item without an artist counts as its own). So about a
    quarter of the listeners fall under each rule (the rules are tried in order: cold start, low
    engagement, low discovery, so the later one catches fewer).
    """
    con = sqlite3.connect(f"file:{store}?mode=ro", uri=True)
    try:
        artist_of = dict(con.execute("SELECT external_id, COALESCE(artist_id, -id) FROM items"))
    finally:
        con.close()
    plays: dict[str, list[float]] = {}
    artists: dict[str, set] = {}
    for user, item, count in read_split(train_file):
        plays.setdefault(user, []).append(count)
        artists.setdefault(user, set()).add(artist_of.get(item, item))
    per_song = [sum(values) / len(values) for values in plays.values()]
    distinct = [len(values) for values in artists.values()]
    return {
        "max_plays_per_listen": round(statistics.quantiles(per_song, n=4, method="inclusive")[0], 3),
        "max_distinct_artists": int(round(statistics.quantiles(distinct, n=4, method="inclusive")[0])),
    }


def experiment_definition(name: str, popularity: str, als: str, gcn: str, thresholds: dict[str, float]) -> dict:
    """The replay's experiment: six arms of equal share, the frozen GCN as control (model paths relative to
    the experiment file). gcn-frozen serves the lists the GCN gave at training time (a nightly batch job);
    gcn-filter keeps the trained user vectors but drops songs heard since; gcn-fold-in ranks from the new
    history; gcn-policy routes by listener: cold start below 5 songs heard, then the two quartile rules of
    `policy_thresholds`, with moderate weights (popular 0.5 in the low-engagement blend; novelty 0.3 and at
    most 2 songs per artist for low discovery)."""
    arms = [
        {"name": "popularity", "model": popularity, "live": "fold-in"},
        {"name": "als", "model": als, "live": "fold-in"},
        {"name": "gcn-frozen", "model": gcn, "live": "off"},
        {"name": "gcn-filter", "model": gcn, "live": "filter"},
        {"name": "gcn-fold-in", "model": gcn, "live": "fold-in"},
        {"name": "gcn-policy", "live": "fold-in", "policy": {
            "name": "segments", "model": gcn,
            "cold_start": {"min_listens": 5},
            "low_engagement": {"max_plays_per_listen": thresholds["max_plays_per_listen"], "popular_weight": 0.5},
            "low_discovery": {"max_distinct_artists": thresholds["max_distinct_artists"], "novelty_weight": 0.3,
                              "max_per_artist": 2},
        }},
    ]
    for arm in arms:
        arm["share"] = 1 / len(arms)
    return {"name": name, "salt": f"{name}-salt-1", "control": "gcn-frozen", "arms": arms}


def build_replay(data: Dataset, out: Path, store: Path, run: Runner, args, log, timed) -> None:
    """Trains the replay's models on a train/test split and replays the test listens (`replay.json`)."""
    folder = out / "replay"
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    if data.train_split and data.test_split:
        train_file, test_file = data.train_split, data.test_split
        # The pipeline's checkpoint was trained with --train on this same file: reuse it.
        gcn = out / "model.tgck"
    else:
        # No split files: a deterministic hash split of the store's listens (holdout_split.py).
        train_file, test_file, n_train, n_test = holdout_split.write_split(holdout_split.store_listens(store), folder)
        log(f"  holdout_split: {n_train} train, {n_test} test listens → {folder.name}/")
        gcn = folder / "gcn.tgck"
        # Trained as the pipeline's own checkpoint is, but on the split (model.tgck saw every listen
        # but train's own holdout, so it may have seen the replay's test listens).
        train = ["train", "--store", store, "--out", gcn, "--quiet", "--seed", "0", "--force",
                 "--train", train_file, "--test", test_file]
        if args.epochs:
            train += ["--epochs", str(args.epochs)]
        run(train)
    split = ["--train", train_file, "--test", test_file]
    run(["train", "--store", store, "--model", "popularity", "--out", folder / "popularity.tgmf", "--quiet",
         "--seed", "0", "--force"] + split)
    run(["train", "--store", store, "--model", "als", "--out", folder / "als.tgmf", "--quiet", "--seed", "0",
         "--force"] + split)
    thresholds = policy_thresholds(store, train_file)
    log(f"  policy thresholds (train's lower quartiles): {thresholds}")
    experiment = experiment_definition(
        f"replay-{data.name}", popularity="replay/popularity.tgmf", als="replay/als.tgmf",
        gcn=str(gcn.relative_to(out)), thresholds=thresholds)
    (out / "experiment.json").write_text(json.dumps(experiment, indent=1) + "\n", encoding="utf-8")
    (out / "replay.json").unlink(missing_ok=True)
    with timed("replay_run"):
        run(["replay", "--store", store, "--experiment", out / "experiment.json", "--listens", test_file,
             "--model", gcn, "--seed", "0", "--json", "--quiet"], stdout=out / "replay.json")
    # The same arms, each replayed alone over every user, compared with the control user by user.
    (out / "replay-paired.json").unlink(missing_ok=True)
    with timed("replay_each_arm"):
        run(["replay", "--store", store, "--experiment", out / "experiment.json", "--listens", test_file,
             "--model", gcn, "--seed", "0", "--each-arm", "--json", "--quiet"], stdout=out / "replay-paired.json")


def build_artifacts(data: Dataset, out: Path, run: Runner, args, log) -> dict[str, float]:
    """Writes every input of the notebooks for one dataset; returns seconds per step."""
    out.mkdir(parents=True, exist_ok=True)
    store = out / "store.sqlite"
    times: dict[str, float] = {}

    def timed(step: str):
        class Timer:
            def __enter__(self):
                self.start = time.monotonic()

            def __exit__(self, *exc):
                times[step] = round(time.monotonic() - self.start, 2)
        return Timer()

    with timed("import"):
        fresh_store(store)
        run(data.import_args + ["--store", store, "--quiet"])
        run(["stats", "--store", store, "--json"], stdout=out / "stats.json")
    with timed("prepare"):
        filters = [x for pair in data.filters.items() for x in pair]
        run(["prepare", "--store", store, "--json"] + filters, stdout=out / "prepare.json")
        # Back to all data: the filters are reported (and recomputed in 01-explore), not applied, so the
        # models below are trained and scored on the canonical split.
        run(["prepare", "--store", store, "--quiet"])
    with timed("train"):
        train = ["train", "--store", store, "--out", out / "model.tgck", "--log", out / "train.jsonl",
                 "--json", "--quiet", "--seed", "0", "--force"] + data.split_args()
        if args.epochs:
            train += ["--epochs", str(args.epochs)]
        run(train, stdout=out / "train.json")
    with timed("evaluate"):
        (out / "eval.json").unlink(missing_ok=True)
        evaluate = ["evaluate", "--store", store, "--models", args.models, "--json", "--seed", "0"]
        if args.epochs:
            evaluate += ["--epochs", str(args.epochs)]
        if data.train_split and data.test_split:
            # The checkpoint was trained on the same train file, so evaluate scores it as it is.
            evaluate += data.split_args() + ["--checkpoint", out / "model.tgck"]
        # Without a split file, evaluate makes its own seeded holdout and fits every model on it,
        # the GCN included (a checkpoint trained on train's holdout could have seen its test listens).
        run(evaluate, stdout=out / "eval.json")
    with timed("diversity"):
        # The GCN checkpoint above when it applies (never retrained), else a model that fits in a blink: the
        # curve costs seconds, not a second training run. Its own file, so eval.json stays one row per model.
        (out / "diversity.json").unlink(missing_ok=True)
        diversity = ["evaluate", "--store", store, "--json", "--seed", "0", "--quiet", "--diversity", DIVERSITY_LAMBDAS]
        if data.train_split and data.test_split:
            diversity += ["--models", "gcn"] + data.split_args() + ["--checkpoint", out / "model.tgck"]
        else:
            diversity += ["--models", DIVERSITY_MODEL]
        run(diversity, stdout=out / "diversity.json")
    with timed("segments"):
        run(["segments", "detect", "--store", store, "--json", "--quiet", "--seed", "0"] + data.split_args(test=False),
            stdout=out / "segments.json")
        run(["segments", "export", "--store", store, "--out", out / "segments-export",
             "--min-audience", str(data.min_audience), "--json", "--quiet"], stdout=out / "segments-export.json")
    with timed("related"):
        segmentation = json.loads((out / "segments.json").read_text(encoding="utf-8"))
        ids = artist_ids_by_name(store)
        queries = []
        largest = sorted(segmentation["segments"], key=lambda s: -s["size"])[: args.related_segments]
        for segment in largest:
            if not segment["top_artists"] or segment["top_artists"][0] not in ids:
                continue
            seed = segment["top_artists"][0]
            result = run(["related", "--store", store, "--artist", ids[seed], "-k", "10", "--json", "--quiet",
                          "--seed", "0"] + data.split_args(test=False))
            queries.append({"segment_id": segment["id"], "segment_label": segment["label"], "seed_artist": seed,
                            "seed_artist_id": ids[seed], "result": json.loads(result.stdout)})
        (out / "related.json").write_text(json.dumps({"k": 10, "method": "walk", "queries": queries}, indent=1,
                                                     ensure_ascii=False), encoding="utf-8")
    with timed("replay"):
        build_replay(data, out, store, run, args, log, timed)
    if data.name == "graphdata":
        with timed("sessions"):
            sessions = out / "sessions"
            if sessions.exists():
                shutil.rmtree(sessions)
            run(["generate", "--timestamped", "--out", sessions / "sample", "--seed", "42", "--quiet"])
            run(["import", "plays", sessions / "sample" / "plays.tsv", "--metadata", sessions / "sample" / "song_data.csv",
                 "--store", sessions / "store.sqlite", "--quiet"])
            run(["stats", "--store", sessions / "store.sqlite", "--json"], stdout=sessions / "sessions-stats.json")
            run(["evaluate", "--task", "next-item", "--store", sessions / "store.sqlite", "--json", "--quiet",
                 "--focus-users", sessions / "sample" / "truth_hours.tsv"], stdout=sessions / "next-item.json")
    return times


def execute_notebooks(data: Dataset, out: Path, names: list[str], args, log) -> tuple[bool, dict[str, float]]:
    """Runs each notebook in a fresh kernel of this interpreter; writes the executed copy into `out`."""
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    env = {
        "TG_ARTIFACTS": str(out),
        "TG_DATASET": data.name,
        # Inline backend: figures are rendered by Agg and embedded in the executed notebook as PNG; no
        # display is needed. (Plain "Agg" would render nothing into the notebook.)
        "MPLBACKEND": "module://matplotlib_inline.backend_inline",
        "PYTHONHASHSEED": "0",
    }
    env["TG_TRUTH"] = str(data.truth) if data.truth else ""
    if args.peers:
        env["TG_PEERS"] = str(args.peers)
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)  # the kernel inherits this process's environment
    ok, times = True, {}
    try:
        for name in names:
            notebook = nbformat.read(NOTEBOOKS_DIR / name, as_version=4)
            client = NotebookClient(
                notebook, timeout=args.cell_timeout, kernel_name="python3", allow_errors=False,
                resources={"metadata": {"path": str(NOTEBOOKS_DIR)}},
            )
            # The kernel is this interpreter (the notebooks' virtual environment), whatever kernelspecs
            # the machine has installed elsewhere.
            client.km = client.create_kernel_manager()
            client.km.kernel_spec.argv[0] = sys.executable
            start = time.monotonic()
            try:
                client.execute()
                # An error raised outside the cell's own code (e.g. by the inline backend drawing a figure
                # after the cell ran) is stored as an error output without failing execute().
                errors = [f"{output.get('ename')}: {output.get('evalue')}" for cell in notebook.cells
                          for output in cell.get("outputs", []) if output.get("output_type") == "error"]
                if errors:
                    ok = False
                    log(f"  {name}: FAILED ({time.monotonic() - start:.1f} s): error output(s): {'; '.join(errors)}")
                else:
                    log(f"  {name}: ok ({time.monotonic() - start:.1f} s)")
            except CellExecutionError as error:
                ok = False
                plain = re.sub(r"\x1b\[[0-9;]*m", "", str(error))  # the traceback's terminal colours
                log(f"  {name}: FAILED ({time.monotonic() - start:.1f} s)\n{plain}")
            except Exception as error:  # a kernel that died or timed out
                ok = False
                log(f"  {name}: FAILED ({type(error).__name__}: {error})")
            times[name] = round(time.monotonic() - start, 2)
            nbformat.write(notebook, out / name)
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    return ok, times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--binary", type=Path, default=REPO_DIR / ".build" / "release" / "tastegraph",
                        help="tastegraph binary (default: .build/release/tastegraph)")
    parser.add_argument("--out", type=Path, default=REPO_DIR / "out" / "notebooks",
                        help="output root; each dataset gets a folder (default: out/notebooks)")
    parser.add_argument("--lastfm", type=Path, default=REPO_DIR.parent / "shared" / "datasets" / "lastfm-2k",
                        help="lastfm-2k directory, used when it exists (default: ../shared/datasets/lastfm-2k)")
    parser.add_argument("--peers", type=Path, default=None,
                        help="PEERS.md for 02-models (default: the notebooks' own default, ../shared/PEERS.md)")
    parser.add_argument("--datasets", default=None,
                        help="comma-separated subset of graphdata,lastfm-2k (default: every one available)")
    parser.add_argument("--notebooks", default=",".join(NOTEBOOKS), help="comma-separated notebooks to run")
    parser.add_argument("--models", default=DEFAULT_MODELS, help=f"evaluate --models (default: {DEFAULT_MODELS})")
    parser.add_argument("--epochs", type=int, default=None, help="cap train --epochs (default: train's own)")
    parser.add_argument("--related-segments", type=int, default=6,
                        help="'fans also like' queries: the top artist of this many largest segments (default: 6)")
    parser.add_argument("--cell-timeout", type=int, default=600, help="seconds one cell may run (default: 600)")
    parser.add_argument("--skip-artifacts", action="store_true",
                        help="reuse the artifacts already in --out; only execute the notebooks")
    args = parser.parse_args()

    def log(message: str) -> None:
        print(message, flush=True)

    binary = args.binary.resolve()
    if not args.skip_artifacts and not os.access(binary, os.X_OK):
        log(f"error: no tastegraph binary at {binary}: build it (`make build`) or pass --binary")
        return 1
    selected = datasets(args.lastfm.resolve())
    if args.datasets:
        wanted = set(args.datasets.split(","))
        unknown = wanted - {d.name for d in selected}
        if unknown:
            log(f"error: dataset(s) not available: {', '.join(sorted(unknown))}")
            return 1
        selected = [d for d in selected if d.name in wanted]
    elif len(selected) == 1:
        log(f"note: {args.lastfm} not found; running the GraphData sample only")
    names = args.notebooks.split(",")
    missing = [n for n in names if not (NOTEBOOKS_DIR / n).exists()]
    if missing:
        log(f"error: no notebook {', '.join(missing)} in {NOTEBOOKS_DIR}")
        return 1

    run = Runner(binary, log)
    ok, summary = True, {}
    for data in selected:
        out = (args.out / data.name).resolve()
        log(f"== {data.name} → {out}")
        start = time.monotonic()
        timings: dict = {}
        try:
            if not args.skip_artifacts:
                timings["artifacts"] = build_artifacts(data, out, run, args, log)
            notebooks_ok, timings["notebooks"] = execute_notebooks(data, out, names, args, log)
            ok = ok and notebooks_ok
        except StepFailed as error:
            ok = False
            log(f"  FAILED: {error}")
        timings["total_seconds"] = round(time.monotonic() - start, 2)
        summary[data.name] = timings
        out.mkdir(parents=True, exist_ok=True)
        (out / "timings.json").write_text(json.dumps(timings, indent=1), encoding="utf-8")
        log(f"   {data.name}: {timings['total_seconds']:.1f} s")
    log(json.dumps(summary))
    log("notebooks: all ran without error" if ok else "notebooks: FAILED (see above)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

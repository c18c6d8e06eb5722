"""Readers shared by the TasteGraph notebooks.

Everything here reads files that `tastegraph` writes; nothing computes a model. The notebooks find their
inputs through environment variables, so the same notebook runs on the GraphData sample and on lastfm-2k:

    TG_ARTIFACTS  folder with store.sqlite, eval.json, train.jsonl, train.json, model.tgck, segments.json,
                  segments-export/, related.json, prepare.json, replay.json, experiment.json
                  (default: ../out/notebooks/graphdata)
    TG_PEERS      PEERS.md with the reference tools' figures (default: the
                  repository's ../shared/PEERS.md); absent file → only our figures are shown
    TG_DATASET    a name for titles (default: the artifacts folder's name)
    TG_TRUTH      optional folder with the planted truth of a generated sample (truth_artists.tsv,
                  truth_users.tsv); default: ../GraphData when the dataset is the sample

Every path may also be set one by one (TG_STORE, TG_EVAL, TG_TRAIN_LOG, TG_TRAIN_JSON, TG_CHECKPOINT,
TG_SEGMENTS, TG_SEGMENTS_EXPORT, TG_RELATED, TG_PREPARE, TG_REPLAY, TG_EXPERIMENT, TG_REPLAY_PAIRED).
"""

from __future__ import annotations

import json
import math
import os
import re
import sqlite3
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

NOTEBOOKS_DIR = Path(__file__).resolve().parent
REPO_DIR = NOTEBOOKS_DIR.parent

# The metric keys of `tastegraph evaluate --json` (and of `train --json`), in display order.
RANKING_METRICS = [
    "recall@10", "recall@20", "ndcg@10", "ndcg@20", "precision@20", "map@20", "hitrate@20",
    "coverage@20", "novelty@20",
]
REGRESSION_METRICS = ["mae", "rmse"]
ALL_METRICS = RANKING_METRICS + REGRESSION_METRICS


# --------------------------------------------------------------------------------------------------
# Where the inputs are


@dataclass(frozen=True)
class Artifacts:
    """The files of one pipeline run (`Notebooks/run_notebooks.py`), each overridable by its own variable."""

    root: Path
    dataset: str
    store: Path
    eval_json: Path
    diversity_json: Path
    train_log: Path
    train_json: Path
    checkpoint: Path
    segments_json: Path
    segments_export: Path
    related_json: Path
    prepare_json: Path
    replay_json: Path
    experiment_json: Path
    paired_json: Path
    peers: Path
    truth: Path | None
    sessions_stats: Path
    next_item_json: Path

    def describe(self) -> pd.DataFrame:
        """One row per input: its path and whether it exists (the first cell of each notebook shows it)."""
        rows = []
        for name in ["store", "eval_json", "diversity_json", "train_log", "train_json", "checkpoint", "segments_json",
                     "segments_export", "related_json", "prepare_json", "replay_json", "experiment_json", "paired_json",
                     "peers", "truth", "sessions_stats", "next_item_json"]:
            path = getattr(self, name)
            rows.append({"input": name, "path": str(path) if path else "—",
                         "present": bool(path) and Path(path).exists()})
        return pd.DataFrame(rows).set_index("input")


def artifacts() -> Artifacts:
    root = Path(os.environ.get("TG_ARTIFACTS", REPO_DIR / "out" / "notebooks" / "graphdata")).resolve()

    def pick(variable: str, default: Path) -> Path:
        value = os.environ.get(variable)
        return Path(value).resolve() if value else default

    dataset = os.environ.get("TG_DATASET", root.name)
    truth_value = os.environ.get("TG_TRUTH")
    if truth_value is not None:
        truth = Path(truth_value).resolve() if truth_value else None
    elif dataset == "graphdata":
        truth = REPO_DIR / "GraphData"
    else:
        truth = None
    if truth is not None and not (truth / "truth_users.tsv").exists():
        truth = None
    return Artifacts(
        root=root,
        dataset=dataset,
        store=pick("TG_STORE", root / "store.sqlite"),
        eval_json=pick("TG_EVAL", root / "eval.json"),
        diversity_json=pick("TG_DIVERSITY", root / "diversity.json"),
        train_log=pick("TG_TRAIN_LOG", root / "train.jsonl"),
        train_json=pick("TG_TRAIN_JSON", root / "train.json"),
        checkpoint=pick("TG_CHECKPOINT", root / "model.tgck"),
        segments_json=pick("TG_SEGMENTS", root / "segments.json"),
        segments_export=pick("TG_SEGMENTS_EXPORT", root / "segments-export"),
        related_json=pick("TG_RELATED", root / "related.json"),
        prepare_json=pick("TG_PREPARE", root / "prepare.json"),
        replay_json=pick("TG_REPLAY", root / "replay.json"),
        experiment_json=pick("TG_EXPERIMENT", root / "experiment.json"),
        paired_json=pick("TG_REPLAY_PAIRED", root / "replay-paired.json"),
        peers=pick("TG_PEERS", (REPO_DIR.parent / "shared" / "PEERS.md")),
        truth=truth,
        sessions_stats=pick("TG_SESSIONS_STATS", root / "sessions" / "sessions-stats.json"),
        next_item_json=pick("TG_NEXT_ITEM", root / "sessions" / "next-item.json"),
    )


# --------------------------------------------------------------------------------------------------
# The SQLite store (schema: README.md, "The store")


def connect(store: Path) -> sqlite3.Connection:
    """Opens the store read-only, so a notebook can never change it."""
    if not Path(store).exists():
        raise FileNotFoundError(f"no store at {store}: run `make notebooks` or set TG_ARTIFACTS / TG_STORE")
    return sqlite3.connect(f"file:{Path(store).resolve()}?mode=ro", uri=True)


def query(con: sqlite3.Connection, sql: str, params: tuple = ()) -> pd.DataFrame:
    return pd.read_sql_query(sql, con, params=params)


def listens(con: sqlite3.Connection, active_only: bool = False) -> pd.DataFrame:
    """All listens (user_id, item_id, play_count) with their artist; `active_only` applies `prepare`'s marks."""
    where = "WHERE u.active = 1 AND i.active = 1" if active_only else ""
    return query(con, f"""
        SELECT l.user_id, l.item_id, l.play_count, i.artist_id
        FROM listens l JOIN users u ON u.id = l.user_id JOIN items i ON i.id = l.item_id
        {where}""")


def artist_names(con: sqlite3.Connection) -> pd.Series:
    return query(con, "SELECT id, name FROM artists").set_index("id")["name"]


def artist_top_tags(con: sqlite3.Connection, per_artist: int = 3) -> pd.DataFrame:
    """Each artist's most-assigned tags (Last.fm); empty when the dataset has no tags."""
    tags = query(con, """
        SELECT ta.artist_id, t.name AS tag, COUNT(*) AS assignments
        FROM tag_assignments ta JOIN tags t ON t.id = ta.tag_id
        WHERE ta.artist_id IS NOT NULL
        GROUP BY ta.artist_id, t.name""")
    if tags.empty:
        return tags
    tags = tags.sort_values(["artist_id", "assignments", "tag"], ascending=[True, False, True])
    return tags.groupby("artist_id").head(per_artist)


def preparations(con: sqlite3.Connection) -> pd.DataFrame:
    """Every `prepare` run recorded in the store, oldest first, with its parameters and report parsed."""
    runs = query(con, "SELECT id, parameters, report, created_at FROM preparations ORDER BY id")
    runs["parameters"] = runs["parameters"].map(json.loads)
    runs["report"] = runs["report"].map(json.loads)
    return runs


# --------------------------------------------------------------------------------------------------
# The filters of `tastegraph prepare`, recomputed (Sources/TasteGraphStore/Preparation/Preparation.swift)


def simulate_filters(all_listens: pd.DataFrame, n_users: int, n_items: int, min_user_plays: int | None,
                     min_user_items: int | None, min_item_average_plays: float | None) -> pd.DataFrame:
    """What each filter of `prepare` removes, computed from the listens alone.

    Same rules as the CLI: users need ≥ N plays and ≥ M distinct items (users without listens go too);
    then, on the kept users' listens, items need an average of more than X plays per listener. Returns one
    row per filter with users, items, listens and plays removed, in the CLI's order.
    """
    steps = []
    listens_now = all_listens
    users_kept, items_kept = n_users, n_items
    if min_user_plays is not None or min_user_items is not None:
        per_user = all_listens.groupby("user_id")["play_count"].agg(["sum", "count"])
        keep = per_user.index[(per_user["sum"] >= (min_user_plays or 0)) & (per_user["count"] >= (min_user_items or 0))]
        kept = listens_now[listens_now["user_id"].isin(keep)]
        steps.append({
            "filter": f"users: ≥ {min_user_plays or 0} plays and ≥ {min_user_items or 0} items",
            "users_removed": users_kept - len(keep), "items_removed": 0,
            "listens_removed": len(listens_now) - len(kept),
            "plays_removed": int(listens_now["play_count"].sum() - kept["play_count"].sum()),
        })
        users_kept, listens_now = len(keep), kept
    if min_item_average_plays is not None:
        per_item = listens_now.groupby("item_id")["play_count"].agg(["sum", "count"])
        keep = per_item.index[per_item["sum"] / per_item["count"] > min_item_average_plays]
        kept = listens_now[listens_now["item_id"].isin(keep)]
        steps.append({
            "filter": f"items: > {min_item_average_plays:g} plays per listener",
            "users_removed": 0, "items_removed": items_kept - len(keep),
            "listens_removed": len(listens_now) - len(kept),
            "plays_removed": int(listens_now["play_count"].sum() - kept["play_count"].sum()),
        })
        items_kept, listens_now = len(keep), kept
    return pd.DataFrame(steps)


# --------------------------------------------------------------------------------------------------
# JSON outputs of the CLI


def read_json(path: Path):
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


def read_last_json_line(path: Path):
    """`train --json` prints its result object on the last stdout line."""
    lines = [line for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]
    return json.loads(lines[-1])


def read_train_log(path: Path) -> pd.DataFrame:
    """`train --log` JSON Lines: epoch, loss, validation_recall@20 (null when not validated), seconds."""
    rows = [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]
    log = pd.DataFrame(rows)
    if "validation_recall@20" in log:
        log["validation_recall@20"] = pd.to_numeric(log["validation_recall@20"], errors="coerce")
    return log


def metrics_table(models: dict) -> pd.DataFrame:
    """Models × metrics from `evaluate --json`'s "models" object, generic over whichever models are there.

    Known metrics come first in a fixed order; any other numeric key follows; null becomes NaN.
    """
    frame = pd.DataFrame.from_dict(models, orient="index")
    frame = frame.apply(pd.to_numeric, errors="coerce")
    known = [m for m in ALL_METRICS + ["users", "fit_seconds"] if m in frame.columns]
    extra = sorted(c for c in frame.columns if c not in known)
    frame = frame[known + extra].dropna(axis=1, how="all")
    frame.index.name = "model"
    return frame


def load_evaluation(art: Artifacts) -> tuple[pd.DataFrame, dict, str]:
    """(metrics table, protocol, where it came from).

    Prefers `evaluate --json` (eval.json). Without it, falls back to the GCN's test metrics from
    `train --json`, so the notebook still runs, and says so.
    """
    if art.eval_json.exists():
        report = read_json(art.eval_json)
        return metrics_table(report.get("models", {})), report.get("protocol", {}), f"tastegraph evaluate ({art.eval_json.name})"
    if art.train_json.exists():
        result = read_last_json_line(art.train_json)
        gcn = {k: result.get(k) for k in ALL_METRICS + ["users"] if k in result}
        gcn["fit_seconds"] = result.get("train_seconds")
        return metrics_table({"gcn": gcn}), {}, f"tastegraph train --json only ({art.train_json.name}); no eval.json"
    raise FileNotFoundError(f"neither {art.eval_json} nor {art.train_json} exists: run `make notebooks`")


def load_diversity(art: Artifacts) -> pd.DataFrame:
    """The MMR curve of `evaluate --json --diversity` (diversity.json): one row per (model, λ), with the
    base model's name in `base` and λ in `diversity`; empty when the file is absent."""
    if not art.diversity_json.exists():
        return pd.DataFrame()
    models = read_json(art.diversity_json).get("models", {})
    frame = metrics_table(models)
    frame["base"] = [name.split("+mmr")[0] for name in frame.index]
    frame["diversity"] = [float(models[name].get("diversity", 0)) for name in frame.index]
    return frame.sort_values(["base", "diversity"])


# --------------------------------------------------------------------------------------------------
# `tastegraph replay --json` (report: Sources/TasteGraphServing/Experiments/ExperimentReport.swift)


# z of a two-sided 95 % normal interval, as the report uses.
Z95 = 1.959963984540054


@dataclass
class Replay:
    """A replay's output: settings and totals as printed, and the report's three tables as frames.

    Each frame has one row per arm (per arm and day in `daily`, per arm and policy route in `routes`) with
    exposures, users, recommended, listened, `share` / `share_low` / `share_high` (listened_share, the
    pooled share with its delta-method 95 % interval), `user_share…` (mean_user_share, the mean of each
    user's share) and, for arms other than the control, `diff` / `diff_low` / `diff_high` / `p_value`
    (vs_control). Missing intervals (fewer than two users) are NaN.
    """

    settings: dict
    totals: dict
    report: dict
    arms: pd.DataFrame
    daily: pd.DataFrame
    routes: pd.DataFrame

    @property
    def control(self) -> str:
        return self.report["control"]


def _figures(rows: list[dict]) -> pd.DataFrame:
    columns = ["arm", "day", "route", "exposures", "users", "recommended", "listened", "share", "share_low",
               "share_high", "user_share", "user_share_low", "user_share_high", "diff", "diff_low", "diff_high",
               "p_value"]
    flat = []
    for row in rows:
        share, user_share = row.get("listened_share") or {}, row.get("mean_user_share") or {}
        versus = row.get("vs_control") or {}
        flat.append({
            "arm": row["arm"], "day": row.get("day"), "route": row.get("route"),
            "exposures": row.get("exposures"), "users": row.get("users"),
            "recommended": row.get("recommended"), "listened": row.get("listened"),
            "share": share.get("value"), "share_low": share.get("low"), "share_high": share.get("high"),
            "user_share": user_share.get("value"), "user_share_low": user_share.get("low"),
            "user_share_high": user_share.get("high"),
            "diff": versus.get("difference"), "diff_low": versus.get("low"), "diff_high": versus.get("high"),
            "p_value": versus.get("p_value"),
        })
    frame = pd.DataFrame(flat, columns=columns)
    numeric = columns[3:]
    frame[numeric] = frame[numeric].apply(pd.to_numeric, errors="coerce")
    return frame


def load_replay(art: Artifacts) -> Replay:
    """Reads `replay --json` (replay.json): {settings, totals, report}."""
    if not art.replay_json.exists():
        raise FileNotFoundError(f"no replay at {art.replay_json}: run `make notebooks` or set TG_ARTIFACTS / TG_REPLAY")
    output = read_json(art.replay_json)
    report = output["report"]
    return Replay(
        settings=output.get("settings", {}), totals=output.get("totals", {}), report=report,
        arms=_figures(report.get("arms", [])), daily=_figures(report.get("daily", [])),
        routes=_figures(report.get("routes", [])),
    )


def load_paired(art: Artifacts) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Reads `replay --each-arm --json` (replay-paired.json): every arm replayed alone over every user.

    Returns (arms, paired): each arm's figures over the whole population, and each arm minus the control
    paired by user (columns arm, against, users, diff, diff_low, diff_high, p_value for the pooled share,
    and user_diff, user_diff_low, user_diff_high, user_p_value for the mean share per user).
    """
    if not art.paired_json.exists():
        raise FileNotFoundError(f"no paired replay at {art.paired_json}: run `make notebooks` or set TG_REPLAY_PAIRED")
    result = read_json(art.paired_json)["result"]
    rows = []
    for row in result.get("paired", []):
        pooled, user = row.get("listened_share") or {}, row.get("mean_user_share") or {}
        rows.append({"arm": row["arm"], "against": row["against"], "users": row["users"],
                     "diff": pooled.get("difference"), "diff_low": pooled.get("low"), "diff_high": pooled.get("high"),
                     "p_value": pooled.get("p_value"), "user_diff": user.get("difference"), "user_diff_low": user.get("low"),
                     "user_diff_high": user.get("high"), "user_p_value": user.get("p_value")})
    return _figures(result.get("arms", [])), pd.DataFrame(rows)


def load_experiment(art: Artifacts) -> dict | None:
    """The experiment file the replay ran (experiment.json), or None when it is absent."""
    return read_json(art.experiment_json) if art.experiment_json.exists() else None


def compare_arms(arms: pd.DataFrame, arm: str, baseline: str) -> dict:
    """`arm` − `baseline` on the pooled listened share, from the report's intervals alone.

    The report's interval is ±1.96·se, so se = (high − low) / (2·1.96); arms are independent samples of
    users, so the difference has se = √(se₁² + se₂²) — the report's own comparison with the control, done
    for any pair. p is two-sided (normal approximation). Returns difference, low, high and p_value (NaN
    when either arm has no interval).
    """
    a, b = arms.set_index("arm").loc[arm], arms.set_index("arm").loc[baseline]
    difference = float(a["share"] - b["share"])
    se_a = (a["share_high"] - a["share_low"]) / (2 * Z95)
    se_b = (b["share_high"] - b["share_low"]) / (2 * Z95)
    se = math.sqrt(se_a ** 2 + se_b ** 2) if np.isfinite(se_a) and np.isfinite(se_b) else math.nan
    if not np.isfinite(se):
        return {"difference": difference, "low": math.nan, "high": math.nan, "p_value": math.nan}
    p = math.erfc(abs(difference) / (se * math.sqrt(2))) if se > 0 else (1.0 if difference == 0 else 0.0)
    return {"difference": difference, "low": difference - Z95 * se, "high": difference + Z95 * se, "p_value": p}


# --------------------------------------------------------------------------------------------------
# PEERS.md: the reference tools' figures


_PEERS_COLUMNS = {
    "recall@20": "recall@20", "ndcg@20": "ndcg@20", "p@20": "precision@20", "map@20": "map@20",
    "recall@10": "recall@10", "ndcg@10": "ndcg@10", "coverage@20": "coverage@20", "novelty@20": "novelty@20",
    "mae": "mae", "rmse": "rmse", "fit s": "fit_seconds", "s/epoch": "seconds_per_epoch",
}


def markdown_tables(text: str) -> list[tuple[str, pd.DataFrame]]:
    """Every pipe table of a markdown text, with the heading it sits under."""
    tables, heading, block = [], "", []

    def flush():
        if len(block) >= 2 and set(block[1].replace("|", "").strip()) <= set("-: "):
            header = [c.strip() for c in block[0].strip().strip("|").split("|")]
            rows = [[c.strip() for c in line.strip().strip("|").split("|")] for line in block[2:]]
            rows = [r + [""] * (len(header) - len(r)) for r in rows]
            tables.append((heading, pd.DataFrame([r[: len(header)] for r in rows], columns=header)))
        block.clear()

    for line in text.splitlines():
        if line.lstrip().startswith("|"):
            block.append(line)
            continue
        flush()
        if line.startswith("#"):
            heading = line.lstrip("#").strip()
    flush()
    return tables


def _number(cell: str) -> float:
    cleaned = cell.replace("*", "").replace(",", "").strip()
    try:
        return float(cleaned)
    except ValueError:
        return math.nan


def read_peers(path: Path) -> pd.DataFrame:
    """The recommender table of PEERS.md (the one with a model column and Recall@20), as models × metrics
    with the evaluate JSON's metric names. Empty when the file is absent or has no such table."""
    if not Path(path).exists():
        return pd.DataFrame()
    for _, table in markdown_tables(Path(path).read_text(encoding="utf-8")):
        lowered = {c: c.lower() for c in table.columns}
        if "model" not in lowered.values() or "recall@20" not in lowered.values():
            continue
        table = table.rename(columns=lowered)
        frame = pd.DataFrame(index=[re.sub(r"\*+", "", m).strip() for m in table["model"]])
        for column, key in _PEERS_COLUMNS.items():
            if column in table:
                frame[key] = [_number(v) for v in table[column]]
        frame.index.name = "model"
        return frame
    return pd.DataFrame()


def short_peer_name(name: str) -> str:
    """'implicit ALS, bm25 weighting (64 factors, …)' → 'implicit ALS, bm25 weighting' for axis labels."""
    return re.sub(r"\s*\(.*?\)\s*", " ", name).strip()


# --------------------------------------------------------------------------------------------------
# The checkpoint (Sources/TasteGraphModel/Checkpoint.swift)


@dataclass
class Checkpoint:
    header: dict
    parameters: np.ndarray
    embeddings: np.ndarray  # (users + items, hidden): the final node embeddings Z, users first

    @property
    def user_ids(self) -> list[str]:
        return self.header["userIDs"]

    @property
    def item_ids(self) -> list[str]:
        return self.header["itemIDs"]

    @property
    def user_embeddings(self) -> np.ndarray:
        return self.embeddings[: len(self.user_ids)]

    @property
    def item_embeddings(self) -> np.ndarray:
        return self.embeddings[len(self.user_ids):]

    def parameter(self, name: str) -> np.ndarray:
        for entry in self.header["layout"]["entries"]:
            if entry["name"] == name:
                start = entry["offset"]
                return self.parameters[start: start + entry["rows"] * entry["columns"]].reshape(entry["rows"], entry["columns"])
        raise KeyError(name)


def read_checkpoint(path: Path) -> Checkpoint:
    """Parses a GCN model file (TasteGraph's one container, Sources/TasteGraphCore/ModelFile.swift): "TGMF",
    u32 version (2), u64 frame length, JSON frame {kind, header (the checkpoint header as JSON text), arrays:
    [{name, type, count}]}, the arrays (f32), and a SHA-256 over every byte before it (checked here too)."""
    import hashlib

    data = Path(path).read_bytes()
    if data[:4] != b"TGMF":
        raise ValueError(f"{path}: not a TasteGraph model file (magic {data[:4]!r})")
    body, digest = data[:-32], data[-32:]
    if hashlib.sha256(body).digest() != digest:
        raise ValueError(f"{path}: checksum mismatch")
    (version,) = struct.unpack_from("<I", data, 4)
    if version != 2:
        raise ValueError(f"{path}: model file version {version}; this reader knows version 2")
    (frame_length,) = struct.unpack_from("<Q", data, 8)
    frame = json.loads(data[16: 16 + frame_length])
    if frame["kind"] != "gcn":
        raise ValueError(f"{path}: holds a '{frame['kind']}' model, not a GCN checkpoint")
    header = json.loads(frame["header"])
    arrays, offset = {}, 16 + frame_length
    for entry in frame["arrays"]:
        dtype = {"f32": "<f4", "i32": "<i4"}[entry["type"]]
        arrays[entry["name"]] = np.frombuffer(body, dtype=dtype, count=entry["count"], offset=offset)
        offset += 4 * entry["count"]
    hidden = header["model"]["hidden"]
    n_nodes = len(header["userIDs"]) + len(header["itemIDs"])
    embeddings = arrays["embeddings"]
    if embeddings.size != n_nodes * hidden:
        raise ValueError(f"{path}: {embeddings.size} embedding values; the header promises {n_nodes} × {hidden}")
    return Checkpoint(header, arrays["parameters"].astype(np.float32), embeddings.reshape(n_nodes, hidden).astype(np.float32))


def pca_2d(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Projects rows onto their first two principal components (SVD of the centred matrix).
    Returns (coordinates (n, 2), share of variance explained by each of the two)."""
    centred = matrix - matrix.mean(axis=0, keepdims=True)
    _, singular, vt = np.linalg.svd(centred, full_matrices=False)
    variance = singular ** 2
    return centred @ vt[:2].T, variance[:2] / variance.sum()


# --------------------------------------------------------------------------------------------------
# Small display helpers


def gini(values: np.ndarray) -> float:
    """Gini coefficient of non-negative values (0: all equal, → 1: one holds everything)."""
    v = np.sort(np.asarray(values, dtype=float))
    if v.size == 0 or v.sum() == 0:
        return 0.0
    ranks = np.arange(1, v.size + 1)
    return float((2 * (ranks * v).sum()) / (v.size * v.sum()) - (v.size + 1) / v.size)


def log_bins(values: np.ndarray, per_decade: int = 10) -> np.ndarray:
    """Logarithmic histogram bin edges covering positive values."""
    values = np.asarray(values, dtype=float)
    values = values[values > 0]
    low, high = math.floor(math.log10(values.min())), math.ceil(math.log10(values.max()) + 1e-9)
    return np.logspace(low, high, max(2, (high - low) * per_decade + 1))

#!/usr/bin/env python3
"""Fails when a committed notebook carries outputs; `--fix` strips them in place.

A notebook in Notebooks/ must hold source only: every code cell has no outputs and a null execution
count, and no cell keeps execution metadata (timings that nbclient records). Executed copies belong in
out/notebooks/, which is never committed. Needs only the standard library, so the check runs without the
notebooks' virtual environment.

    python3 Notebooks/check_stripped.py           # check every Notebooks/*.ipynb; exit 1 if any has outputs
    python3 Notebooks/check_stripped.py --fix     # strip them (rewrites only the files that need it)
    python3 Notebooks/check_stripped.py FILE ...  # check (or --fix) the given notebooks
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

NOTEBOOKS_DIR = Path(__file__).resolve().parent
# Cell metadata keys that only an execution writes.
EXECUTION_METADATA = ("execution", "collapsed", "scrolled", "ExecuteTime")


def problems(notebook: dict) -> list[str]:
    found = []
    for number, cell in enumerate(notebook.get("cells", []), start=1):
        if cell.get("cell_type") == "code":
            if cell.get("outputs"):
                found.append(f"cell {number}: {len(cell['outputs'])} output(s)")
            if cell.get("execution_count") is not None:
                found.append(f"cell {number}: execution_count {cell['execution_count']}")
        stale = [key for key in EXECUTION_METADATA if key in cell.get("metadata", {})]
        if stale:
            found.append(f"cell {number}: execution metadata {', '.join(stale)}")
    if "widgets" in notebook.get("metadata", {}):
        found.append("notebook metadata: widget state")
    return found


def strip(notebook: dict) -> dict:
    for cell in notebook.get("cells", []):
        if cell.get("cell_type") == "code":
            cell["outputs"] = []
            cell["execution_count"] = None
        for key in EXECUTION_METADATA:
            cell.get("metadata", {}).pop(key, None)
    notebook.get("metadata", {}).pop("widgets", None)
    return notebook


def write(path: Path, notebook: dict) -> None:
    """Writes as Jupyter does (one-space indent, UTF-8, trailing newline), so diffs stay small."""
    path.write_text(json.dumps(notebook, indent=1, ensure_ascii=False, sort_keys=True) + "\n", encoding="utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(description="Check that notebooks carry no outputs (or strip them).")
    parser.add_argument("notebooks", nargs="*", type=Path, help="notebooks to check (default: Notebooks/*.ipynb)")
    parser.add_argument("--fix", action="store_true", help="strip outputs in place instead of failing")
    args = parser.parse_args()
    paths = args.notebooks or sorted(NOTEBOOKS_DIR.glob("*.ipynb"))
    if not paths:
        print(f"no notebooks in {NOTEBOOKS_DIR}", file=sys.stderr)
        return 1
    failed = False
    for path in paths:
        try:
            notebook = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as error:
            print(f"{path}: cannot read as a notebook: {error}", file=sys.stderr)
            failed = True
            continue
        found = problems(notebook)
        if not found:
            continue
        if args.fix:
            write(path, strip(notebook))
            print(f"{path}: stripped ({len(found)} finding(s))")
        else:
            failed = True
            shown = "; ".join(found[:5]) + (f"; … {len(found) - 5} more" if len(found) > 5 else "")
            print(f"{path}: has outputs: {shown}", file=sys.stderr)
    if failed and not args.fix:
        print("notebooks must be committed without outputs: run `make notebooks-strip` "
              "(python3 Notebooks/check_stripped.py --fix)", file=sys.stderr)
        return 1
    print(f"{len(paths)} notebook(s) stripped of outputs: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())

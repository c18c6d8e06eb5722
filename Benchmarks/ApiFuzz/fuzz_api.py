#!/usr/bin/env python3
"""Fuzz the live server against its OpenAPI document with schemathesis (issue 14, item 5).

`make fuzz-api` runs this. It checks the committed document (valid OpenAPI 3.1, every route of the plan),
makes a small planted sample store with a GCN, a segmentation and stored related-artist lists, writes a
token file, starts `tastegraph-server` on a free loopback port (port 0; the server's `listening on` line says
which), runs schemathesis against the served /openapi.json with the bearer token, then stops the server with
SIGTERM. One JSON object on stdout; schemathesis's and the server's output go to stderr and under --work.

Exit status 1 on any finding: a schemathesis failure (a 5xx, or a response that does not match the
document), a server that died during the run, or one that did not shut down cleanly on SIGTERM.
"""

import argparse
import csv
import json
import os
import re
import secrets
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCUMENT = ROOT / "Sources/TasteGraphServer/Resources/openapi.json"

# The routes of the plan (docs: /work/notes/server-api.md, issue 14): the document must describe each.
PLAN = [
    ("get", "/healthz"),
    ("get", "/readyz"),
    ("get", "/metrics"),
    ("get", "/openapi.json"),
    ("get", "/v1/users/{user}/recommendations"),
    ("get", "/v1/artists/{artist}/related"),
    ("get", "/v1/items/{item}/similar"),
    ("get", "/v1/users/{user}/segment"),
    ("post", "/v1/listens"),
    ("post", "/v1/feedback"),
    ("post", "/v1/items"),
    ("post", "/v1/admin/reload"),
]
WRITE_ROUTES = {path for method, path in PLAN if method == "post"}

# schemathesis's own settings; the token comes from the environment, never the command line. Half of the
# ids it sends are the sample's own (dictionaries), so requests reach past the 404s into the real answers.
CONFIG = """\
# Written by Benchmarks/ApiFuzz/fuzz_api.py for one run.
[auth.openapi.bearer]
bearer = "${{TASTEGRAPH_FUZZ_TOKEN}}"

[dictionaries]
users = {{ values = {users} }}
items = {{ values = {items} }}
artists = {{ values = {artists} }}

[parameters]
"path.user" = {{ dictionary = "users", probability = 0.5 }}
"path.item" = {{ dictionary = "items", probability = 0.5 }}
"path.artist" = {{ dictionary = "artists", probability = 0.5 }}
"body.listens[*].user" = {{ dictionary = "users", probability = 0.5 }}
"body.listens[*].item" = {{ dictionary = "items", probability = 0.5 }}
"body.feedback[*].user" = {{ dictionary = "users", probability = 0.5 }}
"body.feedback[*].item" = {{ dictionary = "items", probability = 0.5 }}
"""


def log(message):
    print(f"fuzz-api: {message}", file=sys.stderr, flush=True)


def check_document(venv):
    """The committed document parses, validates as OpenAPI 3.1 and covers the plan. Returns problems."""
    problems = []
    try:
        document = json.loads(DOCUMENT.read_text())
    except (OSError, ValueError) as error:
        return [f"{DOCUMENT}: {error}"]
    if not str(document.get("openapi", "")).startswith("3.1"):
        problems.append(f"openapi is {document.get('openapi')!r}, expected 3.1.x")
    paths = document.get("paths", {})
    for method, path in PLAN:
        operation = paths.get(path, {}).get(method)
        if operation is None:
            problems.append(f"{method.upper()} {path} is missing")
            continue
        secured = bool(operation.get("security"))
        if secured != (path in WRITE_ROUTES):
            problems.append(f"{method.upper()} {path}: bearer auth is {'set' if secured else 'missing'}")
        for status in operation.get("responses", {}):
            if not re.fullmatch(r"[1-5]\d\d", status):
                problems.append(f"{method.upper()} {path}: response key {status!r} is not a status code")
    validated = subprocess.run(
        [str(venv / "bin/openapi-spec-validator"), str(DOCUMENT)], capture_output=True, text=True)
    if validated.returncode != 0:
        problems.append("openapi-spec-validator: " + (validated.stdout + validated.stderr).strip())
    return problems


def run_cli(cli, *arguments):
    subprocess.run([str(cli), *arguments], check=True, stdout=sys.stderr)


def make_sample(cli, work):
    """A small planted sample (200 listeners, 300 songs) with what every route needs."""
    store = work / "store.sqlite"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{store}{suffix}").unlink(missing_ok=True)
    run_cli(cli, "generate", "--seed", "7", "--out", str(work / "sample"), "--users", "200", "--songs", "300",
            "--artists", "30", "--force", "--quiet")
    run_cli(cli, "import", "taste-profile", str(work / "sample/triplets.tsv"),
            "--metadata", str(work / "sample/song_data.csv"), "--store", str(store), "--quiet")
    run_cli(cli, "train", "--store", str(store), "--out", str(work / "gcn.tgck"), "--seed", "1", "--epochs", "10",
            "--force", "--quiet")
    run_cli(cli, "segments", "--store", str(store), "--seed", "1", "--quiet")
    # Stored lists with the server's default walk settings (seed 0): k ≤ 20 is answered from them, larger k live.
    run_cli(cli, "related", "--store", str(store), "--batch", "-k", "20", "--out", str(work / "related.csv"),
            "--force", "--quiet")
    return store, work / "gcn.tgck"


def sample_ids(work, count=40):
    """Some of the sample's user ids, item ids and artist names, for schemathesis's dictionaries."""
    users = []
    with open(work / "sample/triplets.tsv") as triplets:
        for line in triplets:
            user = line.split("\t", 1)[0]
            if user not in users:
                users.append(user)
            if len(users) == count:
                break
    with open(work / "sample/song_data.csv", newline="") as songs:
        rows = list(csv.DictReader(songs))
    items = [row["song_id"] for row in rows[:count]]
    artists = list(dict.fromkeys(row["artist_name"] for row in rows))[:count]
    return users, items, artists


class Server:
    """tastegraph-server on 127.0.0.1, port 0; stderr copied to a log file while watching for its address."""

    def __init__(self, binary, store, model, token_file, log_path):
        self.log = open(log_path, "w")
        self.process = subprocess.Popen(
            [str(binary), "--store", str(store), "--model", str(model), "--host", "127.0.0.1", "--port", "0",
             "--token-file", str(token_file)],  # explanations are on by default (--no-explanations)
            stdin=subprocess.DEVNULL, stdout=self.log, stderr=subprocess.PIPE, text=True, errors="replace")
        self.address = None
        self.ready = threading.Event()
        threading.Thread(target=self._watch, daemon=True).start()

    def _watch(self):
        for line in self.process.stderr:
            self.log.write(line)
            self.log.flush()
            match = re.search(r"listening on (http://[^\s:/]+:\d+)", line)
            if match and not self.ready.is_set():
                self.address = match.group(1)
                self.ready.set()
        self.ready.set()  # the process ended: stop waiting

    def wait_ready(self, seconds):
        self.ready.wait(seconds)
        return self.address

    def alive(self):
        return self.process.poll() is None

    def stop(self, seconds=30):
        """SIGTERM, then SIGKILL after `seconds`. Returns the exit status and whether it needed the kill."""
        if self.alive():
            self.process.send_signal(signal.SIGTERM)
        try:
            status = self.process.wait(seconds)
            killed = False
        except subprocess.TimeoutExpired:
            self.process.kill()
            status = self.process.wait()
            killed = True
        self.log.close()
        return status, killed


def schemathesis_version(venv):
    result = subprocess.run([str(venv / "bin/schemathesis"), "--version"], capture_output=True, text=True)
    return (result.stdout.strip().split() or ["unknown"])[-1]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cli", required=True, help="the tastegraph binary")
    parser.add_argument("--server", required=True, help="the tastegraph-server binary")
    parser.add_argument("--venv", required=True, help="virtual environment with schemathesis and openapi-spec-validator")
    parser.add_argument("--work", required=True, help="folder for the store, model, token, logs and report (recreated files)")
    parser.add_argument("--checks", default="not_a_server_error,response_schema_conformance")
    parser.add_argument("--max-examples", type=int, default=25, help="test cases per operation and phase")
    parser.add_argument("--max-time", type=int, default=180, help="seconds for the whole schemathesis run")
    parser.add_argument("--seed", type=int, default=1)
    # One worker: the machine has one core, and CPython 3.11's ast module is not thread-safe enough for
    # hypothesis's lambda descriptions under several workers (SystemError "AST constructor recursion depth").
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    venv, work = Path(args.venv).resolve(), Path(args.work).resolve()
    work.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    summary = {"schemathesis": schemathesis_version(venv), "checks": args.checks.split(","),
               "max_examples": args.max_examples, "max_time_s": args.max_time, "seed": args.seed}

    problems = check_document(venv)
    summary["document_problems"] = problems
    if problems:
        for problem in problems:
            log(problem)
        summary["found"] = True
        print(json.dumps(summary))
        return 1
    log(f"{DOCUMENT.relative_to(ROOT)}: valid OpenAPI 3.1 with the {len(PLAN)} routes of the plan")

    store, model = make_sample(Path(args.cli), work)
    token = secrets.token_hex(24)
    token_file = work / "token"
    token_file.write_text(token + "\n")
    token_file.chmod(0o600)
    config = work / "schemathesis.toml"
    users, items, artists = sample_ids(work)
    # TOML basic strings take JSON's escapes, so a JSON array of strings is a TOML array.
    config.write_text(CONFIG.format(users=json.dumps(users), items=json.dumps(items), artists=json.dumps(artists)))

    server = Server(Path(args.server), store, model, token_file, work / "server.log")
    address = server.wait_ready(180)
    if address is None:
        status, _ = server.stop()
        log(f"the server did not say `listening on` (exit status {status}); see {work / 'server.log'}")
        summary.update(found=True, server_started=False, server_exit=status)
        print(json.dumps(summary))
        return 1
    log(f"server at {address}")

    command = [
        str(venv / "bin/schemathesis"), "--config-file", str(config), "--no-color", "run", f"{address}/openapi.json",
        "--url", address, "--checks", args.checks, "--max-examples", str(args.max_examples),
        "--max-time", str(args.max_time), "--seed", str(args.seed), "--workers", str(args.workers),
        "--request-timeout", "10", "--generation-database", "none",
        "--report", "junit", "--report-dir", str(work / "report"),
    ]
    summary["command"] = " ".join(command[1:]).replace(str(ROOT) + "/", "")
    log("running: schemathesis " + summary["command"])
    environment = dict(os.environ, TASTEGRAPH_FUZZ_TOKEN=token)
    try:
        fuzz = subprocess.run(command, cwd=work, env=environment, stdout=sys.stderr, timeout=args.max_time + 300)
        fuzz_status = fuzz.returncode
    except subprocess.TimeoutExpired:
        log("schemathesis overran its time budget by 5 minutes")
        fuzz_status = "timeout"
    alive = server.alive()
    status, killed = server.stop()
    if not alive:
        log(f"the server died during the run (exit status {status}); see {work / 'server.log'}")
    elif killed or status != 0:
        log(f"the server did not stop cleanly on SIGTERM (exit status {status}{', killed' if killed else ''})")
    summary.update(
        schemathesis_exit=fuzz_status, server_alive_after=alive, server_exit=status, server_killed=killed,
        seconds=round(time.monotonic() - started, 1), report=str(work / "report"))
    summary["found"] = fuzz_status != 0 or not alive or killed or status != 0
    print(json.dumps(summary))
    return 1 if summary["found"] else 0


if __name__ == "__main__":
    sys.exit(main())

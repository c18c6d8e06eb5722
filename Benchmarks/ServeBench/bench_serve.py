#!/usr/bin/env python3
"""Serving benchmark: tastegraph-server under wrk on loopback, side by side with the reference Flask + gunicorn
service of ../shared/peers/serve (implicit ALS), on the lastfm-2k store and models trained on the canonical split.

Run by `make bench-serve` (which builds both release binaries, installs wrk from Debian and the reference's
Python packages into .build-bench/peers-venv). Python 3 standard library only. One JSON object on stdout;
progress on stderr. Everything it writes goes under --work (default .build-bench/serve/).

What it does, in order:
1. Imports lastfm-2k into a base store and trains a GCN and an ALS model on split/train.tsv, all reused
   while the dataset files and the tastegraph binary are the same (--fresh: never); each run serves a fresh
   copy of the base store, so the listens this benchmark posts never leak into the next run.
2. Starts the reference (gunicorn -w 2, as its README says) and tastegraph-server (127.0.0.1, a free port,
   a bearer token file) on the GCN, and runs wrk (-t2, --duration seconds, --latency) at each of
   --connections: the reference's recommendations and ours (GCN) one right after the other at each count,
   then (the reference stopped) related artists, similar items (by listens and by text), and ALS
   recommendations after a reload to the ALS model; all over the train users / train artists / train items,
   cycled by cycle.lua (the reference by its own users.lua). Each endpoint gets a --warmup run first.
3. Reload under load: wrk on GCN recommendations while POST /v1/admin/reload swaps the model --reloads
   times (ALS and GCN in turn, ending on the GCN); wrk's errors and non-2xx, and every reload's status.
4. Ack-to-change: for --change-users sampled train users, POST one listen batch of their current top 3
   (heard items must leave the list) and GET the list until it differs; ms from the 2xx ack to the first
   changed response, p50/p99.
5. Ingest: POST /v1/listens in batches of --batch-size from --ingest-clients keep-alive connections
   (bodies encoded beforehand) for at most --duration seconds; listens/s acked, errors; then, through the
   store opened read-only, every acked event id must be stored exactly once.
6. Peak RSS (VmHWM) of our server and of the reference (master + workers summed).
7. Exposure log (issue 15): GCN recommendations at the first connection count on fresh servers with
   --no-exposure-log and without (off, on, off, on); the cost is 1 − mean(on req/s) / mean(off req/s), and
   after each logged run the store must hold a new exposure for every answered request.
Targets are issue 14's and 15's; `targets_met` says which were met in this run.
"""
import argparse
import hashlib
import http.client
import json
import os
import random
import re
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
from datetime import datetime, timezone

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
SHARED = os.path.join(os.path.dirname(ROOT), "shared")
CYCLE_LUA = os.path.join(HERE, "cycle.lua")
POST_LUA = os.path.join(HERE, "post_bodies.lua")

# Issue 14, "Targets".
TARGETS = {
    "gcn_rps_vs_reference_at_16": 10.0,   # ≥ 10× the reference's req/s at 16 connections
    "gcn_p99_ms_at_16": 5.0,              # with p99 ≤ 5 ms
    "ingest_listens_per_s": 20000.0,      # batches of 100, with fold-in, nothing acked lost
    "ack_to_change_ms": 50.0,             # a changed recommendation ≤ 50 ms after the ack (p99 here)
    "reload_failed_requests": 0,          # zero failed requests during a reload under load
    "exposure_log_cost_at_16": 0.10,      # logging every served list costs ≤ 10 % of req/s at 16 connections
    "sessions_next_p99_ms_at_16": 5.0,    # issue 18: POST /v1/sessions/next p99 at 16 connections
}

TARGETS_MET = ("gcn_rps_vs_reference_at_16", "gcn_p99_ms_at_16", "ingest_listens_per_s", "nothing_acked_lost",
               "ack_to_change_ms", "reload_failed_requests", "exposure_log_cost_at_16", "every_answered_list_logged",
               "sessions_next_p99_ms_at_16")


def log(message):
    print(message, file=sys.stderr, flush=True)


class BenchError(Exception):
    pass


# --- files and caches -----------------------------------------------------------------------------------------

def sha256_file(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_stamp(path):
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def write_stamp(path, stamp):
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(stamp, f, indent=1, sort_keys=True)
    os.replace(tmp, path)


def remove_store(path):
    if os.path.isdir(path + "-exposures"):  # the exposure journal the server made beside this bench's store
        shutil.rmtree(path + "-exposures")
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(path + suffix):
            os.remove(path + suffix)


def run_cli(cmd):
    log("+ " + " ".join(cmd))
    result = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if result.returncode != 0:
        raise BenchError(f"{' '.join(cmd)} exited {result.returncode}: {result.stderr.strip()[-2000:]}")
    return result.stdout


def last_json(text):
    lines = [l for l in text.strip().splitlines() if l.strip()]
    return json.loads(lines[-1]) if lines else {}


def tastegraph_version(binary):
    return subprocess.run([binary, "--version"], stdout=subprocess.PIPE, text=True, check=True).stdout.strip()


def ensure_store(args, version):
    """The imported lastfm-2k base store, reused while its inputs are unchanged."""
    store = os.path.join(args.work, "lastfm.sqlite")
    stamp_path = store + ".stamp.json"
    inputs = {name: sha256_file(os.path.join(args.lastfm, name))
              for name in sorted(os.listdir(args.lastfm)) if name.endswith(".dat")}
    # The binary is an input too (its importer and schema): a rebuilt tastegraph re-imports (about 1 s) and
    # so retrains; an unchanged one reuses everything.
    stamp = {"inputs": inputs, "tastegraph": version, "tastegraph_sha256": sha256_file(args.binary)}
    if os.path.exists(store) and read_stamp(stamp_path) == stamp and not args.fresh:
        log(f"store: reusing {store}")
        return store, stamp, False
    remove_store(store)
    if os.path.exists(stamp_path):
        os.remove(stamp_path)
    run_cli([args.binary, "import", "lastfm", args.lastfm, "--store", store, "--quiet"])
    write_stamp(stamp_path, stamp)
    return store, stamp, True


def ensure_model(args, kind, store_stamp, train, test):
    """A model trained on the canonical split, reused while the store, split, flags and version are the same."""
    path = os.path.join(args.work, "gcn.tgck" if kind == "gcn" else "als.tgm")
    stamp_path = path + ".stamp.json"
    cmd = [args.binary, "train", "--store", os.path.join(args.work, "lastfm.sqlite"), "--train", train, "--test", test,
           "--out", path, "--seed", str(args.seed), "--force", "--json", "--quiet"]
    if kind == "als":
        cmd += ["--model", "als"]
    key = {"store": store_stamp, "train": sha256_file(train), "test": sha256_file(test), "flags": cmd[1:]}
    previous = read_stamp(stamp_path)
    if os.path.exists(path) and previous and previous.get("key") == key and not args.fresh:
        log(f"model: reusing {path}")
        return path, previous.get("summary", {}), False
    started = time.monotonic()
    summary = last_json(run_cli(cmd))
    summary = {k: summary[k] for k in ("recall@20", "ndcg@20", "train_seconds", "fit_seconds", "best_epoch")
               if k in summary}
    summary["wall_seconds"] = round(time.monotonic() - started, 2)
    write_stamp(stamp_path, {"key": key, "summary": summary})
    return path, summary, True


def copy_store(source, destination):
    """A consistent copy through SQLite's backup API (the source opened read-only)."""
    remove_store(destination)
    src = sqlite3.connect(f"file:{urllib.parse.quote(source)}?mode=ro", uri=True)
    dst = sqlite3.connect(destination)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()


def id_files(args, store, train):
    """users.txt, artists.txt, items.txt: the external ids with train plays, in first-seen order."""
    users, items = {}, {}
    with open(train, encoding="utf-8") as f:
        for line in f:
            parts = line.rstrip("\r\n").split("\t")
            if len(parts) < 3 or not parts[2].replace(".", "", 1).isdigit():
                continue  # header
            users.setdefault(parts[0], None)
            items.setdefault(parts[1], None)
    db = sqlite3.connect(f"file:{urllib.parse.quote(store)}?mode=ro", uri=True)
    try:
        artist_of = dict(db.execute(
            "SELECT i.external_id, a.external_id FROM items i JOIN artists a ON a.id = i.artist_id"))
    finally:
        db.close()
    artists = {}
    for item in items:
        if item in artist_of:
            artists.setdefault(artist_of[item], None)
    paths = {}
    for name, ids in (("users", users), ("artists", artists), ("items", items)):
        paths[name] = os.path.join(args.work, f"{name}.txt")
        with open(paths[name], "w", encoding="utf-8") as f:
            f.write("".join(i + "\n" for i in ids))
    return paths, list(users), list(items)


# --- processes -------------------------------------------------------------------------------------------------

class Service:
    """A server started in its own process group, stopped (SIGTERM, then SIGKILL) by stop()."""

    live = []

    def __init__(self, name, cmd, log_path, cwd=None, env=None):
        self.name, self.log_path = name, log_path
        self.log_file = open(log_path, "wb")
        log(f"+ {' '.join(cmd)}   (log: {log_path})")
        self.proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=self.log_file,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        Service.live.append(self)
        self.started = time.monotonic()

    def alive(self):
        return self.proc.poll() is None

    def log_tail(self, chars=2000):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")[-chars:]
        except OSError:
            return ""

    def pids(self):
        """The process and its descendants."""
        children = {}
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    with open(f"/proc/{entry}/stat", "rb") as f:
                        stat = f.read().decode("ascii", "replace")
                    ppid = int(stat[stat.rindex(")") + 2:].split()[1])
                    children.setdefault(ppid, []).append(int(entry))
                except (OSError, ValueError):
                    pass
        found, todo = [], [self.proc.pid]
        while todo:
            pid = todo.pop()
            found.append(pid)
            todo.extend(children.get(pid, []))
        return found

    def peak_rss_mib(self):
        """VmHWM summed over the process and its descendants (gunicorn: master + workers)."""
        total, per = 0, {}
        for pid in self.pids():
            try:
                with open(f"/proc/{pid}/status", encoding="ascii") as f:
                    for line in f:
                        if line.startswith("VmHWM:"):
                            kib = int(line.split()[1])
                            per[pid] = round(kib / 1024, 1)
                            total += kib
            except OSError:
                pass
        return {"total_mib": round(total / 1024, 1), "processes": len(per), "per_process_mib": sorted(per.values(), reverse=True)}

    def stop(self, timeout=15):
        if self in Service.live:
            Service.live.remove(self)
        if self.alive():
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                log(f"{self.name}: no exit {timeout} s after SIGTERM, killing its process group")
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)  # stragglers of the group (gunicorn workers)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            pass
        self.log_file.close()
        return self.proc.returncode

    @classmethod
    def stop_all(cls):
        for service in list(cls.live):
            service.stop(timeout=5)


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_ticks(pids):
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat", "rb") as f:
                fields = f.read().decode("ascii", "replace")
            fields = fields[fields.rindex(")") + 2:].split()
            total += int(fields[11]) + int(fields[12])
        except (OSError, ValueError, IndexError):
            pass
    return total


def wait_quiet(service, seconds=1.0, deadline=None):
    """Until the service's processes spent no CPU for `seconds` (every gunicorn worker has fitted its model)."""
    previous = cpu_ticks(service.pids())
    while True:
        time.sleep(seconds)
        now = cpu_ticks(service.pids())
        if now == previous:
            return
        if deadline and time.monotonic() > deadline:
            raise BenchError(f"{service.name} still busy at its startup deadline")
        previous = now


# --- HTTP ------------------------------------------------------------------------------------------------------

class Client:
    """One keep-alive HTTP/1.1 connection; reconnects after an error."""

    def __init__(self, port, token=None, timeout=30):
        self.port, self.token, self.timeout = port, token, timeout
        self.conn = None

    def request(self, method, path, body=None):
        """(status, parsed JSON or None, bytes). Raises OSError / http.client errors after reconnecting once."""
        headers = {"Accept": "application/json"}
        if body is not None:
            if not isinstance(body, (bytes, bytearray)):
                body = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if self.token is not None:
            headers["Authorization"] = f"Bearer {self.token}"
        for attempt in (0, 1):
            try:
                if self.conn is None:
                    self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
                    self.conn.connect()
                    self.conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                self.conn.request(method, path, body=body, headers=headers)
                response = self.conn.getresponse()
                data = response.read()
                break
            except (OSError, http.client.HTTPException):
                if self.conn is not None:
                    self.conn.close()
                self.conn = None
                if attempt or method != "GET":
                    raise
        if response.getheader("Connection", "").lower() == "close":
            self.conn.close()
            self.conn = None
        try:
            parsed = json.loads(data) if data else None
        except ValueError:
            parsed = None
        return response.status, parsed, data

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def wait_http(service, port, path, deadline, ok=lambda status, body: status == 200):
    while time.monotonic() < deadline:
        if not service.alive():
            raise BenchError(f"{service.name} exited {service.proc.returncode} during startup:\n{service.log_tail()}")
        client = Client(port, timeout=5)
        try:
            status, body, _ = client.request("GET", path)
            if ok(status, body):
                return body
        except (OSError, http.client.HTTPException):
            pass
        finally:
            client.close()
        time.sleep(0.2)
    raise BenchError(f"{service.name} not ready at {path} before its startup deadline:\n{service.log_tail()}")


def percentile(values, p):
    """Nearest-rank percentile of a non-empty list."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), int(-(-p * len(ordered) // 100))))
    return ordered[rank - 1]


# --- wrk -------------------------------------------------------------------------------------------------------

UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0, "h": 3600000.0}


def parse_duration_ms(text):
    match = re.fullmatch(r"([0-9.]+)(us|ms|s|m|h)", text.strip())
    if not match:
        raise BenchError(f"wrk printed a latency this harness cannot read: {text!r}")
    return float(match.group(1)) * UNITS[match.group(2)]


def parse_wrk(output):
    """req/s, p50/p75/p90/p99 (ms), requests, non-2xx and socket errors from wrk --latency's text."""
    result = {}
    match = re.search(r"Requests/sec:\s+([0-9.]+)", output)
    if not match:
        raise BenchError(f"wrk printed no Requests/sec line:\n{output[-2000:]}")
    result["requests_per_s"] = round(float(match.group(1)), 1)
    match = re.search(r"(\d+) requests in ([0-9.]+\w+),", output)
    if match:
        result["requests"] = int(match.group(1))
        result["seconds"] = round(parse_duration_ms(match.group(2)) / 1000, 2)
    match = re.search(r"^\s+Latency\s+(\S+)\s+(\S+)\s+(\S+)", output, re.M)
    if match:
        result["mean_ms"] = round(parse_duration_ms(match.group(1)), 3)
        result["max_ms"] = round(parse_duration_ms(match.group(3)), 3)
    for p, value in re.findall(r"^\s+(50|75|90|99)%\s+(\S+)\s*$", output, re.M):
        result[f"p{p}_ms"] = round(parse_duration_ms(value), 3)
    match = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    errors = dict(zip(("connect", "read", "write", "timeout"), map(int, match.groups()))) if match else \
        {"connect": 0, "read": 0, "write": 0, "timeout": 0}
    result["socket_errors"] = errors
    match = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    result["non_2xx"] = int(match.group(1)) if match else 0
    result["errors"] = result["non_2xx"] + sum(errors.values())
    return result


def run_wrk(args, url, script, env_extra, connections, duration, label):
    cmd = [args.wrk, f"-t{args.wrk_threads}", f"-c{connections}", f"-d{duration}s", "--latency", "-s", script, url]
    env = dict(os.environ, **env_extra)
    log(f"  wrk {label}: {connections} connections, {duration} s")
    result = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            timeout=duration + 60)
    if result.returncode != 0:
        raise BenchError(f"wrk exited {result.returncode}: {result.stdout[-2000:]}")
    parsed = parse_wrk(result.stdout)
    log(f"    {parsed['requests_per_s']} req/s, p50 {parsed.get('p50_ms')} ms, p99 {parsed.get('p99_ms')} ms, "
        f"errors {parsed['errors']}")
    return parsed


def wrk_matrix(args, url, script, env_extra, label):
    """A short warm-up, then one measured run at each connection count."""
    if args.warmup > 0:
        run_wrk(args, url, script, env_extra, args.connections[0], args.warmup, label + " (warm-up)")
    return {str(c): run_wrk(args, url, script, env_extra, c, args.duration, label) for c in args.connections}


# --- our server ------------------------------------------------------------------------------------------------

def start_ours(args, store, model, token_file, extra=(), log_name="server.log"):
    cmd = [args.server_binary, "--store", store, "--model", model, "--host", "127.0.0.1",
           "--port", str(args.port), "--token-file", token_file, "--log-level", args.server_log_level, *extra]
    service = Service("tastegraph-server", cmd, os.path.join(args.work, log_name))
    deadline = time.monotonic() + args.startup_timeout
    pattern = re.compile(r"listening on http://([^\s:/]+|\[[^\]]+\]):(\d+)")
    port = None
    while port is None:
        match = pattern.search(service.log_tail(1 << 20))
        if match:
            port = int(match.group(2))
            break
        if not service.alive():
            raise BenchError(f"tastegraph-server exited {service.proc.returncode} before listening:\n{service.log_tail()}")
        if time.monotonic() > deadline:
            raise BenchError(f"tastegraph-server printed no `listening on` line in {args.startup_timeout} s:\n{service.log_tail()}")
        time.sleep(0.05)
    ready = wait_http(service, port, "/readyz", deadline, lambda status, body: status == 200 and (body or {}).get("ready"))
    service.port = port
    service.startup_seconds = round(time.monotonic() - service.started, 2)
    log(f"tastegraph-server ready on port {port} in {service.startup_seconds} s: {json.dumps(ready.get('model'))}")
    return service, ready


def reload_model(port, token, model_path):
    client = Client(port, token, timeout=120)
    try:
        started = time.perf_counter()
        status, body, raw = client.request("POST", "/v1/admin/reload", {"model": model_path} if model_path else {})
        ms = (time.perf_counter() - started) * 1000
    finally:
        client.close()
    return {"status": status, "ms": round(ms, 1), "model": (body or {}).get("model"),
            **({"error": raw.decode("utf-8", "replace")[:500]} if status // 100 != 2 else {})}


def reload_under_load(args, port, token, gcn, als, script_env, reload_ms=None):
    """wrk on GCN recommendations while the model is swapped --reloads times, one after another from 1 s in.

    wrk runs --duration seconds or, when reloads are slow, long enough for all of them (from a reload's
    measured time, at most 120 s); a reload that ends after wrk is reported as outside the load."""
    url = f"http://127.0.0.1:{port}"
    if reload_ms is None:  # nothing measured yet: re-read the served GCN once, unloaded
        first = reload_model(port, token, gcn)
        if first["status"] != 200:
            raise BenchError(f"POST /v1/admin/reload failed before the load: {first}")
        reload_ms = first["ms"]
    gap = 0.5
    duration = int(min(120, max(args.duration, 1 + args.reloads * (1.5 * reload_ms / 1000 + gap) + 2) + 0.999))
    reloads = []
    stop = threading.Event()
    window = {}

    def reloader():
        if stop.wait(1.0):
            return
        for k in range(args.reloads):
            # ALS and GCN in turn, ending on the GCN (even counts), so every reload is a real swap.
            target = als if (args.reloads - k) % 2 == 0 else gcn
            try:
                entry = dict(reload_model(port, token, target), to=os.path.basename(target))
            except (OSError, http.client.HTTPException) as error:
                entry = {"status": None, "to": os.path.basename(target), "error": str(error)}
            entry["ended_s"] = round(time.monotonic() - window["start"], 2)
            reloads.append(entry)
            if stop.wait(gap):
                return

    window["start"] = time.monotonic()
    thread = threading.Thread(target=reloader, daemon=True)
    thread.start()
    try:
        load = run_wrk(args, url, CYCLE_LUA, script_env, args.connections[0], duration, "GCN recommendations during reloads")
    finally:
        wrk_ended = time.monotonic() - window["start"]
        stop.set()
        thread.join()
    failed_reloads = sum(1 for r in reloads if r.get("status") is None or r["status"] // 100 != 2)
    outside = sum(1 for r in reloads if r["ended_s"] > wrk_ended)
    return {"wrk": load, "wrk_seconds": duration, "reloads": reloads, "reloads_requested": args.reloads,
            "reloads_failed": failed_reloads, "reloads_outside_load": outside + (args.reloads - len(reloads)),
            "failed_requests": load["errors"]}


def recommendation_ids(body):
    return [r.get("item") for r in (body or {}).get("recommendations", [])]


def ack_to_change(args, port, token, users, run_id):
    """ms from a listen batch's 2xx ack to the first GET whose list differs, for a sample of train users."""
    rng = random.Random(args.seed + 1)
    sample = rng.sample(users, min(args.change_users, len(users)))
    reader, writer = Client(port), Client(port, token)
    latencies, get_ms, unchanged, failures = [], [], 0, []
    at = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    event_ids = []
    try:
        for n, user in enumerate(sample):
            path = f"/v1/users/{urllib.parse.quote(user, safe='')}/recommendations?k=20"
            status, before, _ = reader.request("GET", path)
            top = recommendation_ids(before)
            if status != 200 or not top:
                failures.append({"user": user, "status": status, "step": "first GET"})
                continue
            listens = [{"event_id": f"chg-{run_id}-{n}-{j}", "user": user, "item": item, "plays": 5, "at": at}
                       for j, item in enumerate(top[:3])]
            status, _, raw = writer.request("POST", "/v1/listens", {"listens": listens})
            acked = time.perf_counter()
            if status // 100 != 2:
                failures.append({"user": user, "status": status, "step": "POST", "body": raw.decode("utf-8", "replace")[:300]})
                continue
            event_ids.extend(l["event_id"] for l in listens)
            while True:
                sent = time.perf_counter()
                status, after, _ = reader.request("GET", path)
                now = time.perf_counter()
                get_ms.append((now - sent) * 1000)
                if status == 200 and recommendation_ids(after) != top:
                    latencies.append((now - acked) * 1000)
                    break
                if now - acked > args.change_timeout:
                    unchanged += 1
                    break
    finally:
        reader.close()
        writer.close()
    result = {"users": len(sample), "changed": len(latencies), "unchanged_after_timeout": unchanged,
              "failures": len(failures), "failure_examples": failures[:3], "timeout_s": args.change_timeout}
    if latencies:
        result.update({"p50_ms": round(percentile(latencies, 50), 3), "p99_ms": round(percentile(latencies, 99), 3),
                       "max_ms": round(max(latencies), 3), "get_p50_ms": round(percentile(get_ms, 50), 3)})
    return result, event_ids


def ingest(args, port, token, users, items, run_id):
    """POST /v1/listens from --ingest-clients keep-alive connections; bodies encoded before the clock starts."""
    rng = random.Random(args.seed + 2)
    batches = []
    at = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    for b in range(max(1, args.ingest_listens // args.batch_size)):
        listens = [{"event_id": f"bench-{run_id}-{b * args.batch_size + j:08d}", "user": rng.choice(users),
                    "item": rng.choice(items), "plays": rng.randint(1, 20), "at": at} for j in range(args.batch_size)]
        batches.append(([l["event_id"] for l in listens], json.dumps({"listens": listens}, separators=(",", ":")).encode()))
    log(f"  ingest: {len(batches)} batches of {args.batch_size} ready, {args.ingest_clients} clients, at most {args.duration} s")
    lock = threading.Lock()
    next_batch = [0]
    acked_ids, latencies, errors, statuses = [], [], [], {}
    totals = {"accepted": 0, "duplicates": 0}
    deadline = time.perf_counter() + args.duration

    def client_loop():
        client = Client(port, token)
        mine_ids, mine_lat, mine_err, mine_status, accepted, duplicates = [], [], [], {}, 0, 0
        try:
            while time.perf_counter() < deadline:
                with lock:
                    k = next_batch[0]
                    next_batch[0] += 1
                if k >= len(batches):
                    break
                ids, body = batches[k]
                sent = time.perf_counter()
                try:
                    status, parsed, raw = client.request("POST", "/v1/listens", body)
                except (OSError, http.client.HTTPException) as error:
                    mine_err.append(f"batch {k}: {type(error).__name__}: {error}")
                    continue
                mine_lat.append((time.perf_counter() - sent) * 1000)
                mine_status[status] = mine_status.get(status, 0) + 1
                if status // 100 == 2:
                    mine_ids.extend(ids)
                    accepted += int((parsed or {}).get("accepted", 0))
                    duplicates += int((parsed or {}).get("duplicates", 0))
                else:
                    mine_err.append(f"batch {k}: HTTP {status} {raw.decode('utf-8', 'replace')[:200]}")
        finally:
            client.close()
            with lock:
                acked_ids.extend(mine_ids)
                latencies.extend(mine_lat)
                errors.extend(mine_err)
                totals["accepted"] += accepted
                totals["duplicates"] += duplicates
                for s, c in mine_status.items():
                    statuses[str(s)] = statuses.get(str(s), 0) + c

    cpu_before = time.process_time()
    started = time.perf_counter()
    threads = [threading.Thread(target=client_loop, daemon=True) for _ in range(args.ingest_clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    client_cpu = time.process_time() - cpu_before
    result = {
        "batches_sent": min(next_batch[0], len(batches)) if next_batch[0] else 0,
        "batches_acked": len(acked_ids) // args.batch_size,
        "listens_acked": len(acked_ids),
        "accepted": totals["accepted"], "duplicates": totals["duplicates"],
        "seconds": round(elapsed, 3),
        "listens_per_s": round(len(acked_ids) / elapsed, 1) if elapsed > 0 else 0.0,
        "statuses": statuses, "errors": len(errors), "error_examples": errors[:3],
        "clients": args.ingest_clients, "batch_size": args.batch_size,
        # This driver's own CPU over the ingest (all its client threads): far below one core means the
        # clients were not what limited the rate.
        "client_cpu_seconds": round(client_cpu, 3),
    }
    if latencies:
        result.update({"batch_p50_ms": round(percentile(latencies, 50), 3), "batch_p99_ms": round(percentile(latencies, 99), 3)})
    log(f"    {result['listens_per_s']} listens/s acked, {result['errors']} errors")
    return result, acked_ids


def check_store(args, store, acked_ids, prefixes):
    """Every acked event id is in the store exactly once (the store opened read-only, while the server runs)."""
    db = sqlite3.connect(f"file:{urllib.parse.quote(store)}?mode=ro", uri=True, timeout=30)
    try:
        tables = [args.events_table] if args.events_table else \
            [name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        candidates = [t for t in tables if any(row[1] == "event_id" for row in db.execute(f'PRAGMA table_info("{t}")'))]
        if "listen_events" in candidates:
            candidates = ["listen_events"]  # the store's live listens (feedback has event ids too)
        if not candidates:
            return {"error": "no table of the store has an event_id column (name it with --events-table)"}
        counts = {}
        for table in candidates:
            for prefix in prefixes:
                # A range scan on the prefix: an index on event_id serves it.
                rows = db.execute(f'SELECT event_id, COUNT(*) FROM "{table}" WHERE event_id >= ? AND event_id < ? GROUP BY event_id',
                                  (prefix, prefix[:-1] + chr(ord(prefix[-1]) + 1)))
                for event_id, count in rows:
                    counts[event_id] = counts.get(event_id, 0) + count
    finally:
        db.close()
    missing = [e for e in acked_ids if e not in counts]
    repeated = [e for e, c in counts.items() if c > 1]
    acked = set(acked_ids)
    return {"tables": candidates, "acked": len(acked_ids), "stored": len(counts),
            "missing": len(missing), "stored_more_than_once": len(repeated),
            "stored_but_not_acked": len([e for e in counts if e not in acked]),
            "examples": {"missing": missing[:3], "repeated": repeated[:3]},
            "every_acked_once": not missing and not repeated}


# --- the reference ---------------------------------------------------------------------------------------------

def start_reference(args):
    gunicorn = os.path.join(args.peers_venv, "bin", "gunicorn")
    if not os.access(gunicorn, os.X_OK):
        raise BenchError(f"{gunicorn} is missing: run `make bench-serve-deps` (the reference's private venv)")
    port = free_port()
    env = dict(os.environ, LASTFM=args.lastfm, PATH=os.path.join(args.peers_venv, "bin") + os.pathsep + os.environ.get("PATH", ""))
    service = Service("reference", [gunicorn, "-w", str(args.reference_workers), "-b", f"127.0.0.1:{port}", "app:app"],
                      os.path.join(args.work, "reference.log"), cwd=args.peers, env=env)
    deadline = time.monotonic() + args.startup_timeout
    with open(os.path.join(args.peers, "users.txt"), encoding="utf-8") as f:
        first = next(line.strip() for line in f if line.strip())
    wait_http(service, port, f"/users/{first}/recommendations?k=1", deadline)
    wait_quiet(service, deadline=deadline)
    service.port = port
    service.startup_seconds = round(time.monotonic() - service.started, 2)
    log(f"reference ready on port {port} in {service.startup_seconds} s ({len(service.pids())} processes)")
    return service


class Reference:
    """The reference service, started once; its wrk runs sit right beside ours at the same connection counts
    (run(c) just before our GCN run at c), and finish() runs any count not yet done, reads its peak RSS and
    stops it."""

    def __init__(self, args, report):
        self.args, self.service, self.warmed = args, None, False
        self.result = report["reference"] = {"framework": "flask + gunicorn (sync workers)", "workers": args.reference_workers,
                                             "recommendations": {}}
        try:
            self.service = start_reference(args)
            self.result["startup_seconds"] = self.service.startup_seconds
        except BenchError as error:
            log(f"error: {error}")
            self.result["error"] = str(error)

    def run(self, connections):
        if self.service is None or str(connections) in self.result["recommendations"]:
            return
        script = os.path.join(self.args.peers, "users.lua")
        env = {"USERS_FILE": os.path.join(self.args.peers, "users.txt")}
        url = f"http://127.0.0.1:{self.service.port}"
        if not self.warmed and self.args.warmup > 0:
            section(lambda: run_wrk(self.args, url, script, env, connections, self.args.warmup, "reference recommendations (warm-up)"))
        self.warmed = True
        self.result["recommendations"][str(connections)] = section(
            lambda: run_wrk(self.args, url, script, env, connections, self.args.duration, "reference recommendations"))

    def finish(self):
        if self.service is None:
            return
        try:
            for connections in self.args.connections:
                self.run(connections)
            self.result["peak_rss"] = self.service.peak_rss_mib()
        finally:
            self.service.stop()
            self.service = None


# --- main ------------------------------------------------------------------------------------------------------

def ours_bench(args, report, run_id, reference):
    version = tastegraph_version(args.binary)
    train = os.path.join(args.lastfm, "split", "train.tsv")
    test = os.path.join(args.lastfm, "split", "test.tsv")
    base, store_stamp, imported = ensure_store(args, version)
    gcn, gcn_summary, gcn_trained = ensure_model(args, "gcn", store_stamp, train, test)
    als, als_summary, als_trained = ensure_model(args, "als", store_stamp, train, test)
    report["models"] = {"gcn": dict(gcn_summary, file=gcn, trained_this_run=gcn_trained),
                        "als": dict(als_summary, file=als, trained_this_run=als_trained)}
    report["store"] = {"base": base, "imported_this_run": imported, "tastegraph": version}
    store = os.path.join(args.work, "run.sqlite")
    copy_store(base, store)
    ids, users, items = id_files(args, store, train)
    token = hashlib.sha256(os.urandom(32)).hexdigest()
    token_file = os.path.join(args.work, "token")
    with open(os.open(token_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
        f.write(token + "\n")

    ours = report["tastegraph"] = {}
    service, ready = start_ours(args, store, gcn, token_file)
    try:
        ours["startup_seconds"] = service.startup_seconds
        ours["model_at_start"] = ready.get("model")
        url = f"http://127.0.0.1:{service.port}"
        recs = {"CYCLE_FILE": ids["users"], "CYCLE_PATH": f"/v1/users/{{id}}/recommendations?k={args.k}"}
        reads = [
            ("recommendations_gcn", recs, "GCN recommendations"),
            ("related", {"CYCLE_FILE": ids["artists"], "CYCLE_PATH": "/v1/artists/{id}/related?k=10"}, "related artists"),
            ("similar_by_listens", {"CYCLE_FILE": ids["items"], "CYCLE_PATH": "/v1/items/{id}/similar?k=10&by=listens"}, "similar by listens"),
            ("similar_by_text", {"CYCLE_FILE": ids["items"], "CYCLE_PATH": "/v1/items/{id}/similar?k=10&by=text"}, "similar by text"),
        ]
        if "reads" not in args.skip:
            # GCN recommendations beside the reference's, connection count by connection count.
            gcn_runs = ours["recommendations_gcn"] = {}
            if args.warmup > 0:
                section(lambda: run_wrk(args, url, CYCLE_LUA, recs, args.connections[0], args.warmup, "GCN recommendations (warm-up)"))
            for connections in args.connections:
                if reference:
                    reference.run(connections)
                gcn_runs[str(connections)] = section(lambda: run_wrk(args, url, CYCLE_LUA, recs, connections, args.duration, "GCN recommendations"))
        if reference:
            reference.finish()
        if "reads" not in args.skip:
            for key, env, label in reads[1:]:
                ours[key] = section(lambda: wrk_matrix(args, url, CYCLE_LUA, env, label))
            swap = section(lambda: reload_model(service.port, token, als))
            ours["reload_to_als"] = swap
            if swap.get("status") == 200:
                ours["recommendations_als"] = section(lambda: wrk_matrix(args, url, CYCLE_LUA, recs, "ALS recommendations"))
            else:
                ours["recommendations_als"] = {"error": f"reload to the ALS model failed: {swap}"}
            ours["reload_to_gcn"] = section(lambda: reload_model(service.port, token, gcn))
        if "reload" not in args.skip:
            measured = [r["ms"] for r in (ours.get("reload_to_als"), ours.get("reload_to_gcn")) if r and r.get("status") == 200]
            ours["reload_under_load"] = section(lambda: reload_under_load(args, service.port, token, gcn, als, recs,
                                                                          max(measured) if measured else None))
        acked_change = []
        if "change" not in args.skip:
            def change():
                result, event_ids = ack_to_change(args, service.port, token, users, run_id)
                acked_change.extend(event_ids)
                return result
            ours["ack_to_change"] = section(change)
        if "ingest" not in args.skip:
            def ingest_and_check():
                result, acked_ids = ingest(args, service.port, token, users, items, run_id)
                result["store_check"] = check_store(args, store, acked_ids + acked_change, [f"bench-{run_id}-", f"chg-{run_id}-"])
                return result
            ours["ingest"] = section(ingest_and_check)
        ours["peak_rss"] = service.peak_rss_mib()
    finally:
        code = service.stop()
        ours["exit_status_after_sigterm"] = code
    if "reads" not in args.skip:
        # The same GCN requests with the answer cache off: every request scores all items and encodes.
        uncached, _ = start_ours(args, store, gcn, token_file, extra=["--answer-cache", "0"], log_name="server-uncached.log")
        try:
            url = f"http://127.0.0.1:{uncached.port}"
            recs = {"CYCLE_FILE": ids["users"], "CYCLE_PATH": f"/v1/users/{{id}}/recommendations?k={args.k}"}
            ours["recommendations_gcn_uncached"] = section(lambda: wrk_matrix(args, url, CYCLE_LUA, recs, "GCN recommendations, answer cache off"))
        finally:
            uncached.stop()
    if "exposure" not in args.skip:
        ours["exposure_log"] = section(lambda: exposure_log_cost(args, base, gcn, token_file, ids))


def exposure_log_cost(args, base_store, gcn, token_file, ids):
    """GCN recommendations at the first connection count with the exposure log off and on, alternating
    (off, on, off, on) on fresh servers over one store copy; the cost is 1 − mean(on) / mean(off). After
    each 'on' run, the store must hold at least as many new exposures as wrk counted answers (every
    answered list was logged before it was sent)."""
    store = os.path.join(args.work, "exposure.sqlite")
    copy_store(base_store, store)
    recs = {"CYCLE_FILE": ids["users"], "CYCLE_PATH": f"/v1/users/{{id}}/recommendations?k={args.k}"}
    connections = args.connections[0]
    runs = {"off": [], "on": []}
    logged_ok = True
    for label in ("off", "on", "off", "on"):
        before = exposures_stored(store)
        extra = ["--no-exposure-log"] if label == "off" else []
        service, _ = start_ours(args, store, gcn, token_file, extra=extra, log_name=f"server-exposure-{label}.log")
        try:
            url = f"http://127.0.0.1:{service.port}"
            if args.warmup > 0:
                run_wrk(args, url, CYCLE_LUA, recs, connections, args.warmup, f"GCN recommendations, exposure log {label} (warm-up)")
            result = run_wrk(args, url, CYCLE_LUA, recs, connections, args.duration, f"GCN recommendations, exposure log {label}")
        finally:
            service.stop()
        new = exposures_stored(store) - before
        result["exposures_stored"] = new
        if label == "on":
            logged_ok = logged_ok and new >= result.get("requests", 0) - result["errors"] and result["errors"] == 0
        else:
            logged_ok = logged_ok and new == 0
        runs[label].append(result)
    mean = {label: sum(r["requests_per_s"] for r in rs) / len(rs) for label, rs in runs.items()}
    return {"connections": connections, "runs": runs, "mean_rps": {k: round(v, 1) for k, v in mean.items()},
            "cost": round(1 - mean["on"] / mean["off"], 4), "every_answered_list_logged": logged_ok}


def exposures_stored(path):
    """Exposures in the store's table (chunks of journal lines, each with its count)."""
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        return db.execute("SELECT coalesce(sum(count), 0) FROM exposure_chunks").fetchone()[0]


def section(work):
    try:
        return work()
    except (BenchError, OSError, http.client.HTTPException, subprocess.SubprocessError, sqlite3.Error) as error:
        log(f"error: {error}")
        return {"error": str(error)}


def sessions_bench(args, report):
    """POST /v1/sessions/next and /v1/playlists/continue under wrk on the generated timestamped sample
    (`tastegraph generate --timestamped`, its defaults: 1,000 listeners, about 165k plays): bodies are the
    first 1-5 plays of 20,000 real sessions with their listener and hour, and playlists of 10 of a session's
    songs, cycled (so after the first pass the answer cache holds them, as it holds the GCN route's users);
    then sessions/next again on a server with --answer-cache 0, every request scored afresh."""
    work = os.path.join(args.work, "sessions")
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    sample, store = os.path.join(work, "sample"), os.path.join(work, "store.sqlite")
    run_cli([args.binary, "generate", "--timestamped", "--out", sample, "--seed", str(args.seed or 42), "--quiet"])
    imported = last_json(run_cli([args.binary, "import", "plays", os.path.join(sample, "plays.tsv"), "--metadata",
                                  os.path.join(sample, "song_data.csv"), "--store", store, "--json", "--quiet"]))
    model = os.path.join(work, "itemknn.tgm")
    run_cli([args.binary, "train", "--model", "itemknn", "--store", store, "--out", model, "--quiet"])
    sessions, current = [], None
    with open(os.path.join(sample, "plays.tsv"), encoding="utf-8") as f:
        for line in f:
            user, item, at = line.rstrip("\n").split("\t")
            t = datetime.strptime(at, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
            if current is None or current["user"] != user or (t - current["last"]).total_seconds() > 1800:
                current = {"user": user, "items": [], "last": t, "hour": t.hour, "weekday": t.weekday()}
                sessions.append(current)
            current["items"].append(item)
            current["last"] = t
    bodies, playlists = os.path.join(work, "next.jsonl"), os.path.join(work, "playlists.jsonl")
    with open(bodies, "w") as f:
        for n, session in enumerate(sessions[:20000]):
            prefix = session["items"][: 1 + n % min(5, len(session["items"]))]
            f.write(json.dumps({"items": prefix, "user": session["user"], "k": args.k,
                                "context": {"hour": session["hour"], "weekday": session["weekday"]}}) + "\n")
    with open(playlists, "w") as f:
        for session in sessions[:20000:2]:
            f.write(json.dumps({"items": session["items"][:10], "k": args.k, "max_per_artist": 2}) + "\n")
    token_file = os.path.join(work, "token")
    with open(os.open(token_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
        f.write(hashlib.sha256(os.urandom(32)).hexdigest() + "\n")
    result = report.setdefault("tastegraph", {})["sessions"] = {"plays": imported.get("rows_read"), "sessions": len(sessions)}
    service, _ = start_ours(args, store, model, token_file, log_name="sessions-server.log")
    try:
        url = f"http://127.0.0.1:{service.port}"
        result["startup_seconds"] = service.startup_seconds
        # One pass over the bodies first (20,000 at about 4,000 req/s uncached), so that the measured runs see
        # the cache as a server that has answered these sessions before; the uncached runs below see none.
        fill = max(args.warmup, 8)
        result["cache_fill"] = run_wrk(args, url, POST_LUA, {"BODY_FILE": bodies, "BODY_PATH": "/v1/sessions/next"},
                                       args.connections[0], fill, "sessions/next (cache fill)")
        run_wrk(args, url, POST_LUA, {"BODY_FILE": playlists, "BODY_PATH": "/v1/playlists/continue"},
                args.connections[0], fill, "playlists/continue (cache fill)")
        result["next"] = wrk_matrix(args, url, POST_LUA, {"BODY_FILE": bodies, "BODY_PATH": "/v1/sessions/next"}, "sessions/next")
        result["playlists"] = wrk_matrix(args, url, POST_LUA, {"BODY_FILE": playlists, "BODY_PATH": "/v1/playlists/continue"}, "playlists/continue")
        result["peak_rss_mib"] = service.peak_rss_mib()
    finally:
        service.stop()
    # The same bodies without the answer cache: every request scored afresh.
    service, _ = start_ours(args, store, model, token_file, extra=("--answer-cache", "0"), log_name="sessions-uncached.log")
    try:
        result["next_uncached"] = wrk_matrix(args, f"http://127.0.0.1:{service.port}", POST_LUA,
                                             {"BODY_FILE": bodies, "BODY_PATH": "/v1/sessions/next"}, "sessions/next, --answer-cache 0")
    finally:
        service.stop()


def verdict(report):
    ours, ref = report.get("tastegraph", {}), report.get("reference", {})
    next16 = (((ours.get("sessions") or {}).get("next")) or {}).get("16") or {}
    gcn16 = (ours.get("recommendations_gcn") or {}).get("16") or {}
    ref16 = ((ref.get("recommendations") or {}).get("16")) or {}
    measured, met = {}, {}
    if gcn16.get("requests_per_s") and ref16.get("requests_per_s"):
        ratio = gcn16["requests_per_s"] / ref16["requests_per_s"]
        measured["gcn_rps_vs_reference_at_16"] = round(ratio, 2)
        met["gcn_rps_vs_reference_at_16"] = ratio >= TARGETS["gcn_rps_vs_reference_at_16"]
    uncached16 = (((ours.get("sessions") or {}).get("next_uncached")) or {}).get("16") or {}
    if "p99_ms" in uncached16:
        measured["sessions_next_uncached_p99_ms_at_16"] = uncached16["p99_ms"]  # reported, not a target
    if "p99_ms" in next16:
        measured["sessions_next_p99_ms_at_16"] = next16["p99_ms"]
        met["sessions_next_p99_ms_at_16"] = next16["p99_ms"] <= TARGETS["sessions_next_p99_ms_at_16"] and next16["errors"] == 0
    if "p99_ms" in gcn16:
        measured["gcn_p99_ms_at_16"] = gcn16["p99_ms"]
        met["gcn_p99_ms_at_16"] = gcn16["p99_ms"] <= TARGETS["gcn_p99_ms_at_16"] and gcn16["errors"] == 0
    ingest_result = ours.get("ingest") or {}
    if "listens_per_s" in ingest_result:
        measured["ingest_listens_per_s"] = ingest_result["listens_per_s"]
        met["ingest_listens_per_s"] = ingest_result["listens_per_s"] >= TARGETS["ingest_listens_per_s"] and ingest_result["errors"] == 0
        check = ingest_result.get("store_check") or {}
        met["nothing_acked_lost"] = bool(check.get("every_acked_once"))
    change = ours.get("ack_to_change") or {}
    if "p99_ms" in change:
        measured["ack_to_change_ms"] = change["p99_ms"]
        met["ack_to_change_ms"] = (change["p99_ms"] <= TARGETS["ack_to_change_ms"] and change["unchanged_after_timeout"] == 0
                                   and change["failures"] == 0)
    reload = ours.get("reload_under_load") or {}
    if "failed_requests" in reload:
        measured["reload_failed_requests"] = reload["failed_requests"]
        met["reload_failed_requests"] = (reload["failed_requests"] == 0 and reload["reloads_failed"] == 0
                                         and reload["reloads_outside_load"] == 0 and reload["reloads_requested"] > 0)
    exposure = ours.get("exposure_log") or {}
    if "cost" in exposure:
        measured["exposure_log_cost_at_16"] = exposure["cost"]
        met["exposure_log_cost_at_16"] = exposure["cost"] <= TARGETS["exposure_log_cost_at_16"]
        met["every_answered_list_logged"] = exposure["every_answered_list_logged"]
    return measured, met


def side_by_side(report):
    """Our recommendations' req/s over the reference's, and both p99s, at each connection count."""
    ours, ref = report.get("tastegraph") or {}, (report.get("reference") or {}).get("recommendations") or {}
    table = {}
    for kind in ("gcn", "als", "gcn_uncached"):  # gcn_uncached: run after the reference, not beside it
        runs = ours.get(f"recommendations_{kind}") or {}
        for connections, theirs in ref.items():
            mine = runs.get(connections) or {}
            if mine.get("requests_per_s") and theirs.get("requests_per_s"):
                table[f"{kind}@{connections}"] = {
                    "rps_ratio": round(mine["requests_per_s"] / theirs["requests_per_s"], 2),
                    "ours_rps": mine["requests_per_s"], "reference_rps": theirs["requests_per_s"],
                    "ours_p99_ms": mine.get("p99_ms"), "reference_p99_ms": theirs.get("p99_ms")}
    return table


def has_error(node, depth=0):
    """Whether a section (or a part of it, two levels down) failed."""
    if not isinstance(node, dict):
        return False
    return "error" in node or (depth < 2 and any(has_error(v, depth + 1) for v in node.values()))


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--binary", default=os.path.join(ROOT, ".build", "release", "tastegraph"), help="the tastegraph CLI")
    parser.add_argument("--server-binary", default=os.path.join(ROOT, ".build", "release", "tastegraph-server"))
    parser.add_argument("--lastfm", default=os.path.join(SHARED, "datasets", "lastfm-2k"), help="hetrec2011 lastfm-2k with split/")
    parser.add_argument("--peers", default=os.path.join(SHARED, "peers", "serve"), help="the reference service's folder")
    parser.add_argument("--peers-venv", default=os.path.join(ROOT, ".build-bench", "peers-venv"))
    parser.add_argument("--work", default=os.path.join(ROOT, ".build-bench", "serve"), help="scratch folder (store, models, logs)")
    parser.add_argument("--wrk", default="wrk")
    parser.add_argument("--duration", type=int, default=15, help="seconds of each measured wrk run and at most of the ingest (1-120)")
    parser.add_argument("--warmup", type=int, default=2, help="seconds of wrk warm-up before each endpoint's runs (0: none)")
    parser.add_argument("--connections", default="16,64", help="comma-separated wrk connection counts; the first is the targets'")
    parser.add_argument("--wrk-threads", type=int, default=2)
    parser.add_argument("-k", type=int, default=20, help="recommendations per request (the reference's users.lua asks 20)")
    parser.add_argument("--port", type=int, default=0, help="our server's port (0: it picks a free one)")
    parser.add_argument("--server-log-level", default="warning",
                        help="tastegraph-server --log-level (warning: no per-request lines, as gunicorn logs no access by default)")
    parser.add_argument("--reference-workers", type=int, default=2, help="gunicorn -w (its README: 2)")
    parser.add_argument("--reloads", type=int, default=4, help="model swaps during the reload-under-load run (even: ends on the GCN)")
    parser.add_argument("--change-users", type=int, default=50, help="users sampled for the ack-to-change latency")
    parser.add_argument("--change-timeout", type=float, default=2.0, help="seconds to wait for a changed list")
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--ingest-clients", type=int, default=4, help="concurrent keep-alive POST connections")
    parser.add_argument("--ingest-listens", type=int, default=300000, help="listens prepared for the ingest (the run stops at --duration)")
    parser.add_argument("--events-table", help="the store's table of listen events (default: listen_events, else every table with an event_id column)")
    parser.add_argument("--startup-timeout", type=int, default=300)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--fresh", action="store_true", help="re-import the store and retrain both models even when cached")
    parser.add_argument("--skip", default="", help="comma-separated: reference, ours, reads, reload, change, ingest, exposure")
    parser.add_argument("--reference-only", action="store_true", help="same as --skip ours")
    args = parser.parse_args(argv)
    try:
        args.connections = [int(c) for c in args.connections.split(",") if c.strip()]
    except ValueError:
        parser.error("--connections takes comma-separated integers, e.g. 16,64")
    args.skip = {s.strip() for s in args.skip.split(",") if s.strip()}
    unknown = args.skip - {"reference", "ours", "reads", "reload", "change", "ingest", "sessions"}
    if unknown:
        parser.error(f"--skip: unknown section(s) {', '.join(sorted(unknown))}")
    if args.reference_only:
        args.skip.add("ours")
    if not args.connections or min(args.connections) < 1 or max(args.connections) > 1024:
        parser.error("--connections: counts from 1 to 1024")
    if not 1 <= args.duration <= 120:
        parser.error("--duration: 1 to 120 seconds (the benchmark's runs are bounded)")
    if not 0 <= args.warmup <= 30:
        parser.error("--warmup: 0 to 30 seconds")
    if args.batch_size < 1 or args.ingest_clients < 1 or args.ingest_listens < args.batch_size:
        parser.error("--batch-size, --ingest-clients: at least 1; --ingest-listens: at least one batch")
    if args.reloads < 0 or args.change_users < 0 or args.wrk_threads < 1 or args.k < 1:
        parser.error("--reloads, --change-users: at least 0; --wrk-threads, -k: at least 1")
    if args.wrk_threads > min(args.connections):
        parser.error("--wrk-threads: at most the smallest --connections (wrk needs a connection per thread)")
    for name in ("binary", "server_binary", "lastfm", "peers", "peers_venv", "work"):
        setattr(args, name, os.path.abspath(getattr(args, name)))
    return args


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    report = {"benchmark": "bench-serve", "dataset": "lastfm-2k canonical split (train users, artists, items)"}
    if not os.path.isfile(os.path.join(args.lastfm, "split", "train.tsv")):
        log(f"skipped: {args.lastfm} (with split/train.tsv) is absent")
        print(json.dumps({"skipped": f"{args.lastfm} (with split/train.tsv) is absent"}))
        return 0
    missing = []
    if shutil.which(args.wrk) is None:
        missing.append(f"{args.wrk} (Debian package wrk: make bench-serve-deps)")
    if "ours" not in args.skip:
        for path in (args.binary, args.server_binary):
            if not os.access(path, os.X_OK):
                missing.append(f"{path} (swift build -c release --product {os.path.basename(path)})")
    if "reference" not in args.skip and not os.path.isfile(os.path.join(args.peers, "app.py")):
        missing.append(f"{args.peers}/app.py (the reference service)")
    if missing:
        log("missing: " + "; ".join(missing))
        print(json.dumps({"error": "missing: " + "; ".join(missing)}))
        return 1
    os.makedirs(args.work, exist_ok=True)
    run_id = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S") + "-" + os.urandom(3).hex()
    report["settings"] = {
        "duration_s": args.duration, "warmup_s": args.warmup, "connections": args.connections,
        "wrk_threads": args.wrk_threads, "k": args.k, "server_log_level": args.server_log_level,
        "reference_workers": args.reference_workers, "reloads": args.reloads, "change_users": args.change_users,
        "batch_size": args.batch_size, "ingest_clients": args.ingest_clients, "seed": args.seed,
        "skipped": sorted(args.skip), "run_id": run_id, "cpus": os.cpu_count(),
    }

    def interrupted(signum, frame):
        raise KeyboardInterrupt(f"signal {signum}")

    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, interrupted)
    started = time.monotonic()
    reference = None
    try:
        if "reference" not in args.skip:
            log("== the reference service ==")
            reference = Reference(args, report)
        if "ours" not in args.skip and not {"reads", "reload", "change", "ingest"} <= args.skip:
            log("== tastegraph-server ==")
            try:
                ours_bench(args, report, run_id, reference)
            except (BenchError, OSError, http.client.HTTPException, subprocess.SubprocessError, sqlite3.Error, ValueError) as error:
                log(f"error: {error}")
                report.setdefault("tastegraph", {})["error"] = str(error)
        if "ours" not in args.skip and "sessions" not in args.skip:
            log("== session routes (generated timestamped sample) ==")
            try:
                sessions_bench(args, report)
            except (BenchError, OSError, http.client.HTTPException, subprocess.SubprocessError, ValueError) as error:
                log(f"error: {error}")
                report.setdefault("tastegraph", {}).setdefault("sessions", {})["error"] = str(error)
        if reference:
            reference.finish()  # its runs, when ours were skipped or failed before them
    except KeyboardInterrupt as stop:
        log(f"interrupted ({stop}): stopping the servers")
        report["interrupted"] = True
    finally:
        Service.stop_all()
    measured, met = verdict(report)
    ref16 = (((report.get("reference") or {}).get("recommendations") or {}).get("16")) or {}
    report["targets"] = {"required": TARGETS, "measured": measured,
                         "reference_at_16": {k: ref16.get(k) for k in ("requests_per_s", "p50_ms", "p90_ms", "p99_ms")} if ref16 else None}
    report["targets_met"] = met
    report["side_by_side"] = side_by_side(report)
    report["all_targets_met"] = all(met.get(name, False) for name in TARGETS_MET)
    report["wall_seconds"] = round(time.monotonic() - started, 1)
    print(json.dumps(report, indent=2))
    errors = bool(report.get("interrupted")) or has_error(report.get("reference")) or has_error(report.get("tastegraph"))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())

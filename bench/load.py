"""Load generators on loopback, bounded in time: wrk when installed (C, light on CPU), else Python threads.

Both send the same requests: each connection walks its own slice of a list of (headers, body) POSTs,
keeping its connection alive, for a fixed number of seconds. Only 2xx responses count as done.
"""
from __future__ import annotations

import http.client
import json
import re
import shutil
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass
class LoadResult:
    """What a load run achieved: successful responses per second and the spread of latencies."""

    ok: int
    failed: int
    seconds: float
    p50_ms: float
    p99_ms: float
    tool: str

    @property
    def per_second(self) -> float:
        """Successful (2xx) responses per second."""
        return self.ok / self.seconds if self.seconds else 0.0


def post_load(host: str, port: int, path: str, requests: list[tuple[dict, bytes]], *, seconds: float,
              connections: int = 8, threads: int = 2) -> LoadResult:
    """POST the requests round-robin over keep-alive connections for a fixed duration."""
    if shutil.which("wrk"):
        return _wrk(host, port, path, requests, seconds=seconds, connections=connections, threads=threads)
    return _python(host, port, path, requests, seconds=seconds, connections=connections)


def _lua_string(value: str) -> str:
    return json.dumps(value)  # a JSON string literal is a valid Lua string literal for ASCII text


def _wrk(host, port, path, requests, *, seconds, connections, threads) -> LoadResult:
    header_sets: list[dict] = []
    index_of: dict[str, int] = {}
    bodies, header_refs = [], []
    for headers, body in requests:
        key = json.dumps(headers, sort_keys=True)
        if key not in index_of:
            index_of[key] = len(header_sets) + 1
            header_sets.append(headers)
        header_refs.append(str(index_of[key]))
        bodies.append(_lua_string(body.decode()))
    lua_headers = ",\n".join("{" + ", ".join(f"[{_lua_string(k)}]={_lua_string(v)}" for k, v in h.items()) + "}"
                             for h in header_sets)
    script = f"""
local headers = {{{lua_headers}}}
local which = {{{",".join(header_refs)}}}
local bodies = {{{",".join(bodies)}}}
local started = 0
function setup(thread)
  thread:set("position", started)
  started = started + 1
end
function request()
  local i = (position % #bodies) + 1
  position = position + {threads}
  return wrk.format("POST", "{path}", headers[which[i]], bodies[i])
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("BENCH %d %d %d %d %d %d %d %d\\n", summary.requests, summary.duration,
    e.connect + e.read + e.write + e.timeout, e.status, latency:percentile(50), latency:percentile(99), 0, 0))
end
"""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as fh:
        fh.write(script)
        script_path = fh.name
    try:
        done = subprocess.run(["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{seconds:g}s",
                               "--timeout", "30s", "-s", script_path, f"http://{host}:{port}"],
                              capture_output=True, text=True, timeout=seconds + 60, check=True)
    finally:
        Path(script_path).unlink(missing_ok=True)
    match = re.search(r"^BENCH (\d+) (\d+) (\d+) (\d+) (\d+) (\d+)", done.stdout, re.M)
    if match is None:
        raise RuntimeError(f"wrk printed no summary:\n{done.stdout}\n{done.stderr}")
    total, micros, socket_errors, status_errors, p50, p99 = map(int, match.groups())
    ok = total - status_errors
    return LoadResult(ok=ok, failed=status_errors + socket_errors, seconds=micros / 1e6, p50_ms=p50 / 1000,
                      p99_ms=p99 / 1000, tool="wrk")


def _python(host, port, path, requests, *, seconds, connections) -> LoadResult:
    deadline = time.monotonic() + seconds
    lock = threading.Lock()
    latencies: list[float] = []
    counts = {"ok": 0, "failed": 0}

    def worker(start: int) -> None:
        conn = http.client.HTTPConnection(host, port, timeout=30)
        position, ok, failed, mine = start, 0, 0, []
        while time.monotonic() < deadline:
            headers, body = requests[position % len(requests)]
            position += connections
            began = time.perf_counter()
            try:
                conn.request("POST", path, body=body, headers={"Content-Type": "application/json", **headers})
                response = conn.getresponse()
                response.read()
                good = 200 <= response.status < 300
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection(host, port, timeout=30)
                good = False
            mine.append(time.perf_counter() - began)
            ok, failed = ok + good, failed + (not good)
        conn.close()
        with lock:
            counts["ok"] += ok
            counts["failed"] += failed
            latencies.extend(mine)

    began = time.monotonic()
    pool = [threading.Thread(target=worker, args=(i,)) for i in range(connections)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    elapsed = time.monotonic() - began
    latencies.sort()
    pick = (lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000) if latencies else (lambda q: 0.0)
    return LoadResult(ok=counts["ok"], failed=counts["failed"], seconds=elapsed, p50_ms=pick(0.50), p99_ms=pick(0.99),
                      tool="python threads")

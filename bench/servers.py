"""The gunicorn server the HTTP figures (1 intake, 2 bulk registration) run ours and the floor under, on loopback."""
from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from bench.common import ROOT


def free_port() -> int:
    """A free TCP port on the loopback interface."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Gunicorn:
    """A gunicorn server on loopback for one WSGI app; knows its workers' peak RSS (VmHWM)."""

    def __init__(self, app: str, env: dict[str, str], *, workers: int = 3, threads: int = 2, timeout: int = 600,
                 log: Path | None = None):
        self.port = free_port()
        self.host = "127.0.0.1"
        self.log = log
        # The production instance's settings file (config/gunicorn.conf.py), for ours and the floor alike.
        self.command = [str(Path(sys.executable).parent / "gunicorn"), app, "-c", str(ROOT / "config/gunicorn.conf.py"),
                        "--bind", f"{self.host}:{self.port}", "--workers", str(workers), "--threads", str(threads),
                        "--timeout", str(timeout), "--log-level", "warning",
                        "--chdir", str(ROOT)]
        self.env = env
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> "Gunicorn":
        out = open(self.log, "ab") if self.log else subprocess.DEVNULL
        self.process = subprocess.Popen(self.command, env=self.env, stdout=out, stderr=out, start_new_session=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.process.returncode}; see {self.log}")
            try:
                conn = http.client.HTTPConnection(self.host, self.port, timeout=2)
                conn.request("GET", "/health")
                if conn.getresponse().status == 200 and len(self.workers()) >= 1:
                    conn.close()
                    # Let every worker finish importing before the clock starts.
                    time.sleep(1.0)
                    return self
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("gunicorn did not answer /health within 60 s")

    def __exit__(self, *_exc) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    @property
    def base(self) -> str:
        """The server's base URL."""
        return f"http://{self.host}:{self.port}"

    def workers(self) -> list[int]:
        """Process ids of the worker processes."""
        master = self.process.pid
        children = []
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/stat") as fh:
                    fields = fh.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == master:
                children.append(int(entry))
        return children

    def peak_worker_rss_mib(self) -> float:
        """The highest peak RSS (VmHWM) among the workers."""
        peaks = []
        for pid in self.workers():
            try:
                with open(f"/proc/{pid}/status") as fh:
                    for line in fh:
                        if line.startswith("VmHWM:"):
                            peaks.append(int(line.split()[1]) / 1024)
            except OSError:
                continue
        return max(peaks, default=0.0)

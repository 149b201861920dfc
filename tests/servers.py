"""Real servers the several-instance tests start: an S3-compatible store (moto), redis-server, gunicorn.

Missing tools skip these tests on a developer's machine, but under CI (CI=true) they fail, as a missing
PostgreSQL does (tests/conftest.py): `make test` installs redis-server and moto, so CI must have them.
"""
from __future__ import annotations

import http.client
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from claims.settings import ROOT

BIN = Path(sys.executable).parent
S3_KEYS = {"s3_access_key": "testing", "s3_secret_key": "testing", "s3_region": "us-east-1"}


def need(what: str, present: bool) -> None:
    """Skip without a server this test starts (fail under CI, where `make test` must have provided it)."""
    if present:
        return
    if os.environ.get("CI"):
        pytest.fail(f"CI requires {what}; it is missing (make os-packages venv installs it)")
    pytest.skip(f"{what} is not installed")


def free_port() -> int:
    """A TCP port on loopback nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, process: subprocess.Popen, what: str, timeout: float = 30) -> None:
    """Wait until something accepts connections on the port; fail if the process died first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with {process.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{what} did not listen on {port} within {timeout} s")


def stop(process: subprocess.Popen, how: int = signal.SIGTERM) -> None:
    """Terminate a process group this module started, then kill it if it lingers."""
    if process.poll() is None:
        os.killpg(process.pid, how)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


class MotoServer:
    """moto's S3 in server mode on a free port: a real HTTP endpoint boto3 talks to like any object store."""

    def __enter__(self) -> "MotoServer":
        need("moto[server] (the moto_server command)", (BIN / "moto_server").exists())
        self.port = free_port()
        self.process = subprocess.Popen([str(BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(self.port)],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        wait_for_port(self.port, self.process, "moto_server")
        return self

    def __exit__(self, *_exc) -> None:
        stop(self.process)

    @property
    def endpoint(self) -> str:
        """The S3 endpoint URL."""
        return f"http://127.0.0.1:{self.port}"

    def bucket(self, name: str) -> dict:
        """Create a bucket and return the settings that point a Store at it."""
        import boto3

        boto3.client("s3", endpoint_url=self.endpoint, aws_access_key_id="testing", aws_secret_access_key="testing",
                     region_name="us-east-1").create_bucket(Bucket=name)
        return {"storage": "s3", "s3_endpoint": self.endpoint, "s3_bucket": name, **S3_KEYS}


class RedisServer:
    """redis-server (the OS package) on a free port, nothing persisted."""

    def __init__(self, workdir: Path):
        self.workdir = workdir

    def __enter__(self) -> "RedisServer":
        tool = shutil.which("redis-server")
        need("redis-server (apt-get install redis-server)", tool is not None)
        self.port = free_port()
        self.process = subprocess.Popen([tool, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                                         "--appendonly", "no", "--dir", str(self.workdir)],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        wait_for_port(self.port, self.process, "redis-server")
        return self

    def __exit__(self, *_exc) -> None:
        stop(self.process)

    @property
    def url(self) -> str:
        """The REDIS_URL of this server."""
        return f"redis://127.0.0.1:{self.port}/0"


class Instance:
    """One API instance: gunicorn serving claims.app:create_app() on its own port with the given environment."""

    def __init__(self, env: dict[str, str], log: Path, *, workers: int = 1, threads: int = 4):
        self.port = free_port()
        self.env, self.log = env, log
        self.command = [str(BIN / "gunicorn"), "claims.app:create_app()", "-c", str(ROOT / "config/gunicorn.conf.py"),
                        "--bind", f"127.0.0.1:{self.port}", "--workers", str(workers), "--threads", str(threads),
                        "--timeout", "60", "--log-level", "warning", "--chdir", str(ROOT)]

    def launch(self) -> "Instance":
        """Start gunicorn without waiting for it (several instances boot side by side)."""
        out = open(self.log, "ab")
        self.process = subprocess.Popen(self.command, env=self.env, stdout=out, stderr=out, start_new_session=True)
        return self

    def wait_ready(self) -> "Instance":
        """Wait until /health answers."""
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.process.returncode}: {self.log.read_text()[-3000:]}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                conn.request("GET", "/health")
                if conn.getresponse().status == 200:
                    conn.close()
                    return self
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"gunicorn did not answer /health within 60 s: {self.log.read_text()[-3000:]}")

    def kill(self) -> None:
        """SIGKILL the whole instance (master and workers): no clean-up, no rollback, no reply."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        """Stop the instance if it still runs (SIGQUIT: gunicorn's quick shutdown, the test is over)."""
        stop(self.process, signal.SIGQUIT)

    @property
    def base(self) -> str:
        """The instance's base URL."""
        return f"http://127.0.0.1:{self.port}"

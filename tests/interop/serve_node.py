"""``sippet serve`` as a subprocess for the tests: free loopback ports, its own state
directory (the embedded SQLite store goes there), its stdout in a log file."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Self

from interop.sip_peers import HOST, REPO, SippetServer, free_udp_port, sippet_command, tail


class ServeNode(SippetServer):
    """``sippet serve --listen udp:HOST:PORT [--listen tcp:HOST:PORT] EXTRA``, ready when it
    answers an OPTIONS over UDP."""

    def __init__(
        self,
        workdir: Path,
        extra: Sequence[str] = (),
        *,
        port: int | None = None,
        tcp: bool = False,
        name: str = "serve",
    ) -> None:
        port = port if port is not None else free_udp_port()
        listen = ["--listen", f"udp:{HOST}:{port}"]
        if tcp:
            listen += ["--listen", f"tcp:{HOST}:{port}"]
        command = sippet_command("serve", *listen, *extra)
        super().__init__(workdir, name, command, port)
        self.state = workdir / f"{name}-state"

    def start(self, ready_timeout: float = 20.0) -> Self:
        os.environ["XDG_STATE_HOME"] = str(self.state)  # inherited by the process
        try:
            return super().start(ready_timeout)
        finally:
            del os.environ["XDG_STATE_HOME"]

    def lines(self) -> list[str]:
        return self.log.read_text(errors="replace").splitlines()

    def transactions(self, method: str) -> list[str]:
        """The per-transaction lines of ``method`` printed so far."""
        return [line for line in self.lines() if f" {method} from=" in line]

    def terminate(self, timeout: float = 20.0) -> int:
        """SIGTERM, and the exit status."""
        assert self.process is not None
        self.process.terminate()
        try:
            return self.process.wait(timeout=timeout)
        finally:
            self.stop()


def run_serve(workdir: Path, *args: str, timeout: float = 20.0) -> subprocess.CompletedProcess[str]:
    """``sippet serve ARGS`` expected to stop by itself (a start-up error)."""
    environment = {**os.environ, "XDG_STATE_HOME": str(workdir / "state")}
    return subprocess.run(
        sippet_command("serve", *args),
        cwd=REPO,
        env=environment,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


__all__ = ["ServeNode", "run_serve", "tail"]

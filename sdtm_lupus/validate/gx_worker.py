"""Great Expectations in a helper process, imported while the main process reads, maps and derives.

Importing GE takes ~2.5 s of CPU, longer than reading and mapping a small study. A command that
will validate starts this worker first (`GxWorker.start()`): a second Python process imports GE and
builds its context on the other core, then runs the gate's wide GE batches (small tables of distinct
values, and the key column of the uniqueness checks) sent to it through a pipe.

If the worker cannot start or dies, the gate runs the same batches in its own process
(gate._GxSession): the results are the same, only later. The worker ends when its input closes,
so it never outlives the command.

    python -m sdtm_lupus.validate.gx_worker      (the worker side; not a user command)
"""

from __future__ import annotations

import contextlib
import os
import pickle
import struct
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any, BinaryIO

_HEADER = struct.Struct("<Q")


def _send(stream: BinaryIO, obj: Any) -> None:
    data = pickle.dumps(obj, protocol=5)
    stream.write(_HEADER.pack(len(data)))
    stream.write(data)
    stream.flush()


def _receive(stream: BinaryIO) -> Any:
    header = stream.read(_HEADER.size)
    if len(header) < _HEADER.size:
        raise EOFError("the GE worker's pipe closed")
    size = _HEADER.unpack(header)[0]
    data = stream.read(size)
    if len(data) < size:
        raise EOFError("the GE worker's pipe closed mid-message")
    return pickle.loads(data)


class GxWorker:
    """The main process's side: start early, then run_batch() as the gate's GE engine."""

    def __init__(self) -> None:
        self._proc: subprocess.Popen | None = None
        self._stderr = None
        self._local = None          # gate._GxSession once the worker failed
        self.failure: str | None = None

    @classmethod
    def start(cls) -> GxWorker:
        worker = cls()
        package_root = str(Path(__file__).resolve().parents[2])
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [package_root, os.environ.get("PYTHONPATH")])),
               "GX_ANALYTICS_ENABLED": "False"}
        try:
            worker._stderr = tempfile.TemporaryFile()
            worker._proc = subprocess.Popen([sys.executable, "-m", "sdtm_lupus.validate.gx_worker"],
                                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=worker._stderr,
                                            env=env, close_fds=True)
        except OSError as exc:
            worker.failure = f"could not start: {exc}"
        return worker

    def run_batch(self, name: str, frame, specs: list, result_format: dict) -> dict:
        if self._proc is not None and self.failure is None:
            try:
                _send(self._proc.stdin, (name, frame, specs, result_format))
                status, payload = _receive(self._proc.stdout)
                if status == "ok":
                    return payload
                self.failure = payload
            except (OSError, EOFError, pickle.PickleError, ValueError) as exc:
                self.failure = f"{type(exc).__name__}: {exc}; {self._stderr_tail()}"
            self.close()
        if self._local is None:
            from sdtm_lupus.validate.gate import _GxSession

            self._local = _GxSession()
        return self._local.run_batch(name, frame, specs, result_format)

    def _stderr_tail(self) -> str:
        if self._stderr is None:
            return ""
        self._stderr.seek(0)
        return self._stderr.read()[-500:].decode("utf-8", "replace").strip()

    def release(self) -> None:
        """No more batches: the worker tears down while this process goes on (close() reaps it)."""
        if self._proc is not None and not self._proc.stdin.closed:
            try:
                self._proc.stdin.close()
            except OSError:
                pass

    def close(self) -> None:
        self.release()
        proc, self._proc = self._proc, None
        if proc is not None:
            try:
                proc.wait(timeout=10)
            except (OSError, subprocess.TimeoutExpired):
                proc.kill()
                proc.wait()
            proc.stdout.close()
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None

    def __enter__(self) -> GxWorker:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


_PRESTARTED: list[GxWorker] = []


@contextlib.contextmanager
def prestarted():
    """A worker started now, for the command run inside (the CLI enters this before importing the
    pipeline); start_ge_worker() takes it; one left unused is closed on exit."""
    if "great_expectations" not in sys.modules and not _PRESTARTED:
        _PRESTARTED.append(GxWorker.start())
    try:
        yield
    finally:
        while _PRESTARTED:
            _PRESTARTED.pop().close()


def take_prestarted() -> GxWorker | None:
    return _PRESTARTED.pop() if _PRESTARTED else None


def main() -> None:
    """Worker loop: build the GE session, then answer batches until the input closes."""
    from sdtm_lupus.validate.gate import _GxSession

    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr         # anything GE prints must not corrupt the pipe
    session = _GxSession()
    while True:
        try:
            name, frame, specs, result_format = _receive(stdin)
        except EOFError:
            return
        try:
            reply = ("ok", session.run_batch(name, frame, specs, result_format))
        except Exception as exc:        # reported to the main process, which reruns the batch itself
            reply = ("error", f"{type(exc).__name__}: {exc}")
        _send(stdout, reply)


if __name__ == "__main__":
    main()

"""The GE worker process gives the gate the same results as GE in this process, and a worker that
cannot start or dies only moves the work back here."""

import subprocess
import sys

import pytest

from sdtm_lupus.validate.gate import run_gate
from sdtm_lupus.validate.gx_worker import GxWorker
from tests.validate.test_gate import DM_ROWS, SPECS, frame
from tests.validate.test_gate_wide import hostile_ex


def datasets():
    d = frame("DM", DM_ROWS, "dm.csv")
    d.loc[1, "SEX"] = "X"
    return {"DM": d, "EX": hostile_ex()}


@pytest.fixture(scope="module")
def reference():
    return run_gate(datasets(), SPECS).to_dict()


def test_the_worker_gives_the_results_of_ge_in_this_process(reference):
    with GxWorker.start() as worker:
        got = run_gate(datasets(), SPECS, gx=worker).to_dict()
        assert worker.failure is None and worker._local is None      # the worker ran every batch
    assert got == reference and got["summary"]["failed"] >= 9


def test_a_worker_that_dies_is_replaced_by_ge_in_this_process(reference):
    worker = GxWorker.start()
    worker._proc.kill()
    worker._proc.wait()
    got = run_gate(datasets(), SPECS, gx=worker).to_dict()
    assert got == reference
    assert worker.failure and worker._proc is None
    worker.close()


def test_a_worker_that_cannot_start_is_replaced(monkeypatch, reference):
    def refuse(*args, **kwargs):
        raise OSError("no processes left")

    monkeypatch.setattr(subprocess, "Popen", refuse)
    worker = GxWorker.start()
    assert worker.failure == "could not start: no processes left"
    assert run_gate(datasets(), SPECS, gx=worker).to_dict() == reference


def test_the_worker_ends_when_its_input_closes():
    worker = GxWorker.start()
    proc = worker._proc
    worker.release()            # the gate is done: the worker exits on its own
    assert proc.wait(timeout=120) == 0
    worker.close()
    assert worker._proc is None


def test_the_cli_starts_a_worker_only_when_ge_is_not_imported_yet():
    code = ("import sys; from sdtm_lupus.api import start_ge_worker; w = start_ge_worker(); "
            "assert w is not None and 'great_expectations' not in sys.modules; w.close(); "
            "import great_expectations; assert start_ge_worker() is None")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


def test_a_prestarted_worker_is_taken_by_the_command_or_closed_when_unused():
    code = ("from sdtm_lupus.api import start_ge_worker\n"
            "from sdtm_lupus.validate import gx_worker as g\n"
            "with g.prestarted():\n"
            "    early = g._PRESTARTED[0]\n"
            "    taken = start_ge_worker()\n"
            "    assert taken is early and not g._PRESTARTED\n"
            "    taken.close()\n"
            "with g.prestarted():\n"
            "    unused = g._PRESTARTED[0]._proc\n"
            "assert not g._PRESTARTED and unused.returncode == 0\n")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)

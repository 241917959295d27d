"""Starts the `jira-sim` binary on 127.0.0.1 for the fidelity tests and stops it afterwards."""

import json
import os
import pathlib
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
ANCHOR = "2026-06-01T00:00:00Z"


def _binary() -> str:
    path = os.environ.get("JIRA_SIM_BIN", str(ROOT / "target" / "debug" / "jira-sim"))
    if not os.path.exists(path):
        pytest.fail(f"jira-sim binary not found at {path}: run `cargo build -p jira-sim` first")
    return path


class Sim:
    def __init__(self, *args: str):
        self.proc = subprocess.Popen(
            [_binary(), "--addr", "127.0.0.1:0", "--anchor", ANCHOR, *args],
            stdout=subprocess.PIPE,
            text=True,
        )
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError("jira-sim exited before printing its startup line")
        self.info = json.loads(line)
        self.base_url = self.info["base_url"]
        assert self.base_url.startswith("http://127.0.0.1:"), self.base_url

    def user(self, email: str) -> dict:
        return next(u for u in self.info["users"] if u["email"] == email)

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)


@pytest.fixture(scope="module")
def cloud():
    sim = Sim("--issues", "600", "--projects", "5")
    yield sim
    sim.stop()


@pytest.fixture(scope="module")
def datacenter():
    sim = Sim("--issues", "300", "--projects", "3", "--mode", "datacenter")
    yield sim
    sim.stop()

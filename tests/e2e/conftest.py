"""Fixtures for the end-to-end suite: one reference service per test session (demo data,
test faults enabled), an isolated environment per test, and the real carhelp binary."""
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "pylib"))
import chtest  # noqa: E402

# The demo customer 王小明 (api.md's dataset).
DEMO_PHONE = "13800138000"
DEMO_CODE = "246810"


def pytest_sessionstart(session):
    """Under CARHELP_VALGRIND (`make check VALGRIND=1`) the logs of an earlier run go first."""
    if chtest.VALGRIND_DIR and not hasattr(session.config, "workerinput"):
        import shutil
        shutil.rmtree(Path(chtest.VALGRIND_DIR) / "logs", ignore_errors=True)
        (Path(chtest.VALGRIND_DIR) / "logs").mkdir(parents=True)
        (Path(chtest.VALGRIND_DIR) / "logs").chmod(0o1777)


def pytest_sessionfinish(session):
    """Under CARHELP_VALGRIND: the run fails when any carhelp it started had a memory error or
    leaked (definitely or indirectly). With pytest-xdist: once, in the controller, after every
    worker is done."""
    if not chtest.VALGRIND_DIR or hasattr(session.config, "workerinput"):
        return
    session.config.valgrind_findings = chtest.valgrind_findings()
    if session.config.valgrind_findings:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter, config):
    found = getattr(config, "valgrind_findings", None)
    if found is None:
        return
    logs = Path(chtest.VALGRIND_DIR) / "logs"
    tr = terminalreporter
    if found:
        tr.section("valgrind: memory errors or leaks in carhelp", red=True)
        for text in found[:20]:
            tr.write_line(text)
    tr.write_line(f"valgrind: {len(list(logs.glob('*.log')))} carhelp processes checked, "
                  f"{len(found)} with errors or leaks (logs in {logs})",
                  red=bool(found), green=not found)


@pytest.fixture(scope="session")
def server():
    """carhelp-server --listen 127.0.0.1:0 --seed demo --faults, for the whole session."""
    srv = chtest.Server("--faults")
    yield srv
    srv.stop()


@pytest.fixture
def env(tmp_path, server):
    """Private HOME and carhelp folders, CARHELP_API_URL pointing at the test service."""
    return chtest.isolated_env(tmp_path, server.url)


@pytest.fixture
def carhelp(env):
    """carhelp(*args, input=None, timeout=60, env=None) -> CompletedProcess (text)."""
    def run(*args, input=None, timeout=60, env=None, **overrides):
        e = dict(env if env is not None else run.env)
        e.update({k: str(v) for k, v in overrides.items()})
        return chtest.run(e, *args, input=input, timeout=timeout)
    run.env = env
    return run


@pytest.fixture
def logged_in(carhelp):
    """王小明 logged in with the one-time code on stdin (the credentials file is written)."""
    r = carhelp("login", "--phone", DEMO_PHONE, input=DEMO_CODE + "\n")
    assert r.returncode == 0, f"login failed: {r.returncode} {r.stderr!r}"
    return carhelp

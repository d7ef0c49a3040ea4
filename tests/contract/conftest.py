"""Fixtures of the contract suite: the real carhelp-server with the demo data and Prism in front
of it as a validating proxy (see contract_lib.py)."""
import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from contract_lib import Prism, chtest  # noqa: E402


@pytest.fixture(scope="session")
def server():
    # --faults only arms the test-only X-Fault request header (test_contract_harness.py uses
    # it for the 429/500/503 answers); without that header the service behaves as deployed.
    srv = chtest.Server("--faults")
    yield srv
    srv.stop()


@pytest.fixture(scope="session")
def prism(server, tmp_path_factory):
    p = Prism(server.url, tmp_path_factory.mktemp("prism") / "prism.log")
    yield p
    p.stop()


@pytest.fixture
def clean_log(prism):
    """Fails the test when Prism logged any violation while it ran."""
    mark = prism.mark()
    yield prism
    problems = prism.problems_since(mark)
    assert not problems, "Prism reported contract problems:\n" + "\n".join(problems)

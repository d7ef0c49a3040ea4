"""The harness itself must be able to fail: Prism really validates requests and responses.
Without these, a proxy that forwarded everything unchecked would make the suite pass. The
last tests use the reference service's test-only fault injection (`--faults`, `X-Fault`) to get
the 5xx and 429 answers the contract documents, and check those against the spec too."""
import pytest

from contract_lib import assert_conforms, assert_error, http


@pytest.fixture
def fault_proxy(prism):
    """The session's proxy: its service runs with --faults (conftest.py)."""
    return prism


def test_proxy_rejects_invalid_request(prism):
    # Neither a customer nor a staff login: the spec's oneOf refuses it before the service.
    resp = http(prism.url, "POST", "/v1/auth/token", {"unexpected": True})
    assert resp.status == 422, resp
    assert "problem+json" in resp.content_type, resp


def test_proxy_requires_bearer_where_the_spec_does(prism):
    resp = http(prism.url, "GET", "/v1/auth/whoami")
    assert resp.status == 401, resp


def test_proxy_flags_an_undocumented_response(fault_proxy):
    """418 is documented nowhere: Prism must flag it (an sl-violations header and a Violation
    in its log)."""
    mark = fault_proxy.mark()
    resp = http(fault_proxy.url, "GET", "/v1/meta", headers={"X-Fault": "status=418"})
    assert resp.status in (418, 500), resp
    assert resp.headers.get("sl-violations"), resp
    assert fault_proxy.problems_since(mark), "Prism logged no violation"


@pytest.mark.parametrize("status,code", [(429, "rate_limited"), (503, "unavailable")])
def test_retry_after_answers_conform(fault_proxy, status, code):
    mark = fault_proxy.mark()
    resp = http(fault_proxy.url, "GET", "/v1/support/status",
                headers={"X-Fault": f"status={status},retry-after=3"})
    assert_error(resp, status, code)
    assert resp.headers.get("Retry-After") == "3"
    assert not fault_proxy.problems_since(mark)


def test_internal_error_conforms(fault_proxy):
    mark = fault_proxy.mark()
    assert_error(http(fault_proxy.url, "GET", "/v1/meta", headers={"X-Fault": "status=500"}),
                 500, "internal")
    assert not fault_proxy.problems_since(mark)


def test_fault_proxy_passes_a_good_answer(fault_proxy):
    assert_conforms(http(fault_proxy.url, "GET", "/v1/meta"), 200)

"""A bounded schemathesis run against /openapi.json: no generated request may cause a 500."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import not_a_server_error

from agentlog.server.testing import start_test_server


@pytest.fixture
def api(tmp_path_factory):
    srv = start_test_server(tmp_path_factory.mktemp("schemathesis"), rate_limit_per_minute=0)
    yield srv
    srv.close()


@pytest.fixture
def api_schema(api):
    # Fuzzing only (the coverage phase alone sends ~80 requests per operation).
    config = schemathesis.Config.from_dict({"phases": {"coverage": {"enabled": False}}})
    return schemathesis.openapi.from_asgi("/openapi.json", api.app, config=config)


# The stream never ends by design; it has its own tests.
schema = schemathesis.pytest.from_fixture("api_schema").exclude(path="/v1/events/stream")


@schema.parametrize()
@settings(
    max_examples=8,
    deadline=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_no_server_errors(case, api):
    case.call_and_validate(
        headers={"Authorization": f"Bearer {api.admin_key.secret}"}, checks=[not_a_server_error]
    )

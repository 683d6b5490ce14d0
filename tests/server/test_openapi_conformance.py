"""Real responses match the app's own /openapi.json: a bounded schemathesis run with every check on (issue 9, item 16)."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from agentlog.server.testing import start_test_server


@pytest.fixture
def api(tmp_path_factory):
    srv = start_test_server(tmp_path_factory.mktemp("conformance"), rate_limit_per_minute=0)
    yield srv
    srv.close()


@pytest.fixture
def api_schema(api):
    config = schemathesis.Config.from_dict(
        {
            "phases": {"coverage": {"enabled": False}},
            # Cursors and change tokens are opaque: a generated one is well-formed but was never
            # issued, which the API answers 400 invalid_cursor (documented). Every other
            # schema-valid request must be accepted.
            "checks": {
                "positive_data_acceptance": {
                    "expected-statuses": ["2XX", 400, 401, 403, 404, 409, 429]
                }
            },
        }
    )
    return schemathesis.openapi.from_asgi("/openapi.json", api.app, config=config)


# The stream never ends by design (it has its own tests); logout would end the test's own
# credentials only for JWTs, and the key used here is unaffected, so it stays in.
schema = schemathesis.pytest.from_fixture("api_schema").exclude(path="/v1/events/stream")


@schema.parametrize()
@settings(
    max_examples=6,
    deadline=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_responses_conform_to_the_openapi_document(case, api):
    # Every default check: status codes, content types, headers and response bodies documented,
    # invalid data rejected and valid data accepted.
    excluded = []
    if case.path == "/v1/analytics/usage":
        # since < until and a range of at most MAX_DAYS cross two parameters, which a schema
        # cannot say; a generated pair that breaks them is answered 422, as documented.
        excluded.append(positive_data_acceptance)
    case.call_and_validate(
        headers={"Authorization": f"Bearer {api.admin_key.secret}"}, excluded_checks=excluded
    )


def _h(api) -> dict[str, str]:
    return {"Authorization": f"Bearer {api.admin_key.secret}"}


def test_405_names_every_allowed_method(api):
    for method in ("OPTIONS", "PATCH"):
        r = api.client.request(method, "/v1/sessions", headers=_h(api))
        assert r.status_code == 405 and r.headers["Allow"] == "GET, POST", r.headers
    r = api.client.request(
        "OPTIONS", "/v1/users/01900000-0000-7000-8000-000000000000", headers=_h(api)
    )
    assert r.headers["Allow"] == "GET, PATCH"


def test_null_arrays_and_numeric_times_are_refused(api):
    for body in ({"events": None}, {"sessions": None}):
        r = api.client.post("/v1/events:batch", json=body, headers=_h(api))
        assert r.status_code == 422, r.text
    r = api.client.post("/v1/sessions:prune", json={"before": 12345}, headers=_h(api))
    assert r.status_code == 422 and "ISO 8601" in r.text


def test_the_document_declares_ids_times_and_session_aggregates(api):
    spec = api.client.get("/openapi.json").json()
    get_session = spec["paths"]["/v1/sessions/{session_id}"]["get"]
    assert get_session["parameters"][0]["schema"]["format"] == "uuid"
    listed = {p["name"]: p["schema"] for p in spec["paths"]["/v1/events"]["get"]["parameters"]}
    assert listed["parent_id"]["format"] == "uuid"
    assert listed["since"]["format"] == "date-time" and listed["since"]["pattern"]
    ref = get_session["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    model = spec["components"]["schemas"][ref.rsplit("/", 1)[1]]
    assert {"event_count", "cost_usd", "agents"} <= set(model["properties"])

"""The served OpenAPI document describes what the live server really answers."""

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from tests.api.conftest import build_tinyproj
from tests.factories import publish

# Per operation; the two operations together stay well under a minute.
MAX_EXAMPLES = 40


def test_openapi_document_lists_both_routes(live_server, transactional_db):
    document = requests.get(f"{live_server.url}/api/openapi.json", timeout=10).json()
    assert document["openapi"].startswith("3.")
    assert set(document["paths"]) == {"/pypi/{name}/json", "/pypi/{name}/{version}/json"}
    file_schema = document["components"]["schemas"]["File"]
    assert "core-metadata" in file_schema["required"]


@pytest.mark.parametrize("operation_id", ["project_json", "release_json"])
def test_live_responses_conform_to_the_openapi_document(
    live_server, transactional_db, settings, operation_id
):
    settings.INDEX_BASE_URL = live_server.url
    build_tinyproj()
    publish("Sample.Project", "1.0", summary="")
    publish("Sample.Project", "2.0b1", yanked=True, yanked_reason="oops")
    known = {"tinyproj": ["1.0.0", "1.1", "v1.1.0"], "sample-project": ["1.0", "2.0b1"]}

    schema = schemathesis.from_uri(f"{live_server.url}/api/openapi.json")
    operation = next(
        result.ok() for result in schema.get_all_operations()
        if result.ok().definition.raw["operationId"] == operation_id
    )

    # Cases come from schemathesis' own generation (Hypothesis is pinned below
    # the release that removed an internal hypothesis-jsonschema calls).
    @given(case=operation.as_strategy(), data=st.data())
    @hypothesis_settings(
        max_examples=MAX_EXAMPLES, deadline=None, database=None, derandomize=True,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def check(case, data):
        # Half the cases name real projects (some spelled to redirect), the
        # others keep schemathesis' generated names (404s).
        if data.draw(st.booleans()):
            name = data.draw(st.sampled_from(sorted(known)))
            spelled = data.draw(st.sampled_from([name, name.upper(), name.replace("-", "_")]))
            case.path_parameters["name"] = spelled
            if "version" in case.path_parameters:
                case.path_parameters["version"] = data.draw(st.sampled_from(known[name]))
        response = case.call_and_validate(base_url=live_server.url)
        seen.update(r.status_code for r in [*response.history, response])

    seen: set[int] = set()
    check()
    # Real documents, redirects and not-found answers were all validated.
    assert {200, 301, 404} <= seen

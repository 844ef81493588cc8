"""Property-based fuzz of the OpenAPI schema (schemathesis): no 5xx, no schema violation."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import positive_data_acceptance

from api.keys import KeyStore
from api.main import create_app
from linkscope.settings import Settings
from testing.api_server import serving
from tests.helpers import analysed_graph, drop

# The schema is the app's own; building the app opens nothing.
schema = schemathesis.openapi.from_dict(create_app(Settings(keys_file="/nonexistent")).openapi())


@pytest.fixture(scope="module")
def live(
    store_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, dict[str, str]]]:
    tmp = tmp_path_factory.mktemp("fuzz")
    store = analysed_graph(store_path, "fuzz", tmp, accounts=1_000, seed=2)
    _, key = KeyStore(tmp / "keys.json").create("admin")
    app_settings = Settings(
        store=f"embedded:{store_path}", graph_name="fuzz", keys_file=str(tmp / "keys.json"),
        query_timeout_ms=2_000, cypher_max_timeout_ms=2_000,
        webhook_poll_s=0,  # fuzzed subscriptions must not make this process call random URLs
    )  # fmt: skip
    with serving(create_app(app_settings)) as url:
        yield url, {"Authorization": f"Bearer {key}"}
    drop(store)
    store.close()


@pytest.mark.slow
@schema.parametrize()
@settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_api_conforms_to_its_schema(
    case: schemathesis.Case, live: tuple[str, dict[str, str]]
) -> None:
    url, auth = live
    # Every response check but positive-data acceptance: a schema-valid Cypher text can still
    # be a syntax error (400), and a schema-valid cursor string can still be garbage.
    case.call_and_validate(base_url=url, headers=auth, excluded_checks=[positive_data_acceptance])

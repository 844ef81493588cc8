"""An analysis run's settings carry through: runs started over HTTP use the settings of the
current results (or the ones given), and the API shows the weights the run decided with."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from analytics.config import AnalysisConfig, LinkageConfig
from analytics.linkage import specificity
from analytics.pipeline import run_analysis
from api.keys import KeyStore
from api.main import create_app
from graph.falkor_embedded import FalkorEmbedded
from ingest.pipeline import ingest_directory
from linkscope.settings import Settings
from synth import GeneratorConfig, generate
from testing.api_server import serving
from tests.helpers import drop

# Hubs from 4 accounts on (default: 12 to 16) and full weight only up to 2 (default: 5): an
# identifier shared by 3 to 11 accounts weighs differently under these settings.
CUSTOM = AnalysisConfig.model_validate(
    {
        "linkage": {
            "hub_min_accounts": {"device": 6, "funding": 6, "ip": 4},
            "specific_max_accounts": 2,
        }
    }
)
CURRENT = "MATCH (r:AnalysisRun {status: 'current'}) RETURN r.run_id, r.config_digest"


class Site:
    def __init__(self, url: str, key: str, store: FalkorEmbedded) -> None:
        self.store = store
        self.http = httpx.Client(
            base_url=url, timeout=60, headers={"Authorization": f"Bearer {key}"}
        )

    def current(self) -> tuple[str, str]:
        run_id, digest = self.store.read(CURRENT).rows[0]
        return str(run_id), str(digest)

    def run(self, body: dict[str, Any] | None = None) -> str:
        """Start a run over HTTP, wait until it is current; its config digest."""
        before, _ = self.current()
        deadline = time.monotonic() + 30
        started = self.http.post("/v1/runs", json=body)
        # The previous run is current a moment before the API has let it go.
        while started.status_code == 409 and time.monotonic() < deadline:
            time.sleep(0.2)
            started = self.http.post("/v1/runs", json=body)
        assert started.status_code == 202, started.text
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            run_id, digest = self.current()
            if run_id != before:
                return digest
            time.sleep(0.5)
        raise AssertionError(f"the run did not finish: {self.http.get('/v1/runs').json()[:2]}")


@pytest.fixture(scope="module")
def site(store_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    tmp = tmp_path_factory.mktemp("runcfg")
    generate(tmp / "data", GeneratorConfig(accounts=2_000, seed=11, order_flow="light"))
    store = FalkorEmbedded(store_path, "runcfg")
    ingest_directory(tmp / "data" / "input", store)
    settings = Settings(
        store=f"embedded:{store_path}", graph_name="runcfg", keys_file=str(tmp / "keys.json")
    )
    run_analysis(settings, CUSTOM)  # as `linkscope analyze --config custom.json` runs it
    _, key = KeyStore(tmp / "keys.json").create("admin")
    with serving(create_app(settings)) as url:
        yield Site(url, key, store)
    drop(store)
    store.close()


def _page_data(html: str) -> dict[str, Any]:
    found = re.search(r'<script type="application/json" id="graph-data">(.*?)</script>', html, re.S)
    assert found, "no graph data in the page"
    return dict(json.loads(found.group(1)))


def test_the_cluster_page_shows_the_weights_the_run_stored(site: Site) -> None:
    rows = site.store.read(
        """MATCH (g:Group {current: true})-[e:EVIDENCE]->(x) WHERE NOT x:Trade
        MATCH (x)<-[:USED_IP|USED_DEVICE|DEPOSIT_FROM|WITHDRAW_TO]-(o:Account)
        RETURN g.group_id, labels(x)[0], coalesce(x.ip, x.device_id, x.key), e.weight,
               count(DISTINCT o)"""
    ).rows
    assert rows, "the run cited no identifiers"
    stored: dict[str, dict[str, float]] = {}
    differs = False
    default = LinkageConfig()
    kind = {"IP": "ip", "Device": "device", "FundingSource": "funding"}
    for gid, label, key, weight, shared in rows:
        stored.setdefault(str(gid), {})[f"{label}:{key}"] = float(weight)
        k, n = kind[str(label)], int(shared)
        differs |= specificity(n, CUSTOM.linkage, k) != specificity(n, default, k)
    assert differs, "no cited identifier that the two settings weigh differently"
    for gid, weights in sorted(stored.items())[:5]:
        page = site.http.get(f"/v1/groups/{gid}/graph")
        assert page.status_code == 200, page.text
        shown = {n["id"]: n for n in _page_data(page.text)["nodes"] if n["id"] in weights}
        assert shown.keys() == weights.keys()
        for node_id, weight in weights.items():
            assert f"evidence weight {weight:.2f}" in shown[node_id]["title"]
            assert shown[node_id]["size"] == pytest.approx(8 + 22 * weight)


def test_a_profile_judges_identifiers_with_the_runs_settings(site: Site) -> None:
    kind = {"IP": "ip", "Device": "device", "FundingSource": "funding"}
    rows = site.store.read(
        """MATCH (x)<-[:USED_IP|USED_DEVICE|DEPOSIT_FROM|WITHDRAW_TO]-(a:Account)
        WITH x, collect(DISTINCT a.account_id) AS users WHERE size(users) >= 3
        RETURN labels(x)[0], coalesce(x.ip, x.device_id, x.key), size(users), users[0]"""
    ).rows
    # An identifier the run's settings weigh differently from the defaults (3 accounts:
    # (2/3)^2 instead of 1; from 4 IP accounts on: a hub instead of evidence).
    label, value, shared, account = next(
        r for r in rows
        if specificity(r[2], CUSTOM.linkage, kind[r[0]]) != specificity(r[2], LinkageConfig(), kind[r[0]])
    )  # fmt: skip
    profile = site.http.get(f"/v1/accounts/{account}")
    assert profile.status_code == 200, profile.text
    shown = {(i["kind"], i["value"]): i for i in profile.json()["identifiers"]}
    expected = specificity(shared, CUSTOM.linkage, kind[label])
    assert shown[(kind[label], value)]["specificity"] == pytest.approx(expected, abs=1e-4)


def test_a_run_started_over_http_uses_the_current_settings_or_the_given_ones(site: Site) -> None:
    assert site.current()[1] == CUSTOM.digest()
    assert site.run() == CUSTOM.digest()  # no settings given: the current results' settings
    given = {"assessment": {"resolution": 0.8}}
    assert site.run({"config": given}) == AnalysisConfig.model_validate(given).digest()
    assert site.run() == AnalysisConfig.model_validate(given).digest()
    for wrong in ({"linkage": {"no_such": 1}}, {"assessment": {"history_runs": False}}):
        refused = site.http.post("/v1/runs", json={"config": wrong})
        assert refused.status_code == 422, refused.text

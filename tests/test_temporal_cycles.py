"""Temporal cycle search on generated data with planted loops, and against a brute force.

The planted case is the issue's: accounts A -> B -> ... -> A move funds once over two to three
weeks, the amount changes at every hop, hops are days apart, and every member trades busily
with outsiders. A control set has the same kind of hops with their times permuted so no
rotation of them is time-ordered: it must not be found.
"""

from __future__ import annotations

import csv
import itertools
import random
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import pyarrow as pa
import pytest

from analytics.config import AnalysisConfig
from analytics.run import analyze
from analytics.temporal_cycles import Flows, Limits, load_flows, search
from analytics.writeback import write_analysis
from events.location import events_for
from events.tables import DAY_MS
from graph.falkor_embedded import FalkorEmbedded
from ingest.pipeline import ingest_directory
from synth.generator import GeneratorConfig, generate

START = 1_790_000_000_000  # the generator's first fill
PLANTED = ["U0000101", "U0000202", "U0000313", "U0000404", "U0000505"]
CONTROL = ["U0000606", "U0000707", "U0000808", "U0000909"]
TRANSFER_HOP = 2  # the planted loop's third hop is an internal transfer, the rest are fills


def _append(path: Path, rows: list[list[Any]]) -> None:
    with path.open("a", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(rows)


def _loop_hops(members: list[str], rng: random.Random, first_day: int) -> list[dict[str, Any]]:
    """One pass round the members: hops 2-4 days apart, 3-12% lost at every hop."""
    hops, t, amount = [], START + first_day * DAY_MS, 48_000.0
    for i, sender in enumerate(members):
        receiver = members[(i + 1) % len(members)]
        hops.append({"s": sender, "b": receiver, "ts": t, "amount": round(amount, 2)})
        t += rng.randint(2 * 24, 4 * 24) * 3_600_000 + rng.randint(0, 3_600_000)
        amount *= rng.uniform(0.88, 0.97)
    return hops


def _plant(data: Path, rng: random.Random) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    loop = _loop_hops(PLANTED, rng, first_day=4)
    control = _loop_hops(CONTROL, rng, first_day=6)
    times = [h["ts"] for h in control][::-1]  # reversed: no rotation of the loop is in order
    control = [dict(h, ts=t) for h, t in zip(control, times, strict=False)]
    trades, funding = [], []
    for n, hop in enumerate(loop + control):
        hop["ref"] = f"PLANT{n:03d}"
        if hop in loop and loop.index(hop) == TRANSFER_HOP:
            funding.append([hop["ref"], hop["s"], hop["ts"], "withdrawal", "internal", hop["b"],
                            "USDT", hop["amount"]])  # fmt: skip
            continue
        price = round(rng.uniform(20, 2000), 4)
        trades.append([hop["ref"], hop["ts"], "S03_USDT", price, round(hop["amount"] / price, 6),
                       hop["b"], hop["s"], "buy", "", "", "spot"])  # fmt: skip
    # Busy with outsiders: every member trades both ways with many other accounts.
    for n, member in enumerate(itertools.chain(PLANTED, CONTROL)):
        for k in range(120):
            other = f"U{rng.randrange(1000, 1500):07d}"
            sold = rng.random() < 0.5
            ts = START + rng.randrange(30 * DAY_MS)
            trades.append([f"BUSY{n:02d}{k:03d}", ts, f"S{rng.randrange(40):02d}_USDT",
                           round(rng.uniform(5, 3000), 4), round(rng.uniform(0.1, 40), 6),
                           other if sold else member, member if sold else other, "sell", "", "",
                           "spot"])  # fmt: skip
    _append(data / "trades.csv", trades)
    _append(data / "funding.csv", funding)
    return loop, control


@pytest.fixture(scope="module")
def planted(store_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Any:
    work = tmp_path_factory.mktemp("cycles")
    generate(work, GeneratorConfig(accounts=1500, seed=11, order_flow="light"))
    loop, control = _plant(work / "input", random.Random(5))
    # An earlier sanction on a planted wash trader, for the console's example investigations.
    with (work / "truth" / "labels.csv").open(encoding="utf-8") as handle:
        washers = [
            r["account_id"] for r in csv.DictReader(handle) if r["typology"] == "wash_trading"
        ]
    _append(work / "input" / "enforcement_history.csv",
            [[washers[0], START - DAY_MS, "warning", "wash_trading", "CASE-1"]])  # fmt: skip
    store = FalkorEmbedded(store_path, "cycles_planted")
    ingest_directory(work / "input", store)
    cfg = AnalysisConfig()
    write_analysis(store, analyze(store, cfg), cfg)
    events = events_for(store)
    flows = load_flows(events, store, START, START + 30 * DAY_MS)
    yield store, flows, loop, control
    from tests.helpers import drop

    drop(store)
    store.close()


def test_finds_the_planted_loop_from_each_member(planted: Any) -> None:
    _, flows, loop, _ = planted
    refs = [h["ref"] for h in loop]
    for k, member in enumerate(PLANTED[:1] + PLANTED[1:2]):
        found = search(flows, [member])
        expected = tuple(PLANTED[k:] + PLANTED[:k])
        matches = [lp for lp in found.loops if lp.accounts == expected]
        if k == 0:
            assert len(matches) == 1, [lp.accounts for lp in found.loops[:10]]
            hit = matches[0]
            assert [h.ref for h in hit.hops] == refs
            assert [h.kind for h in hit.hops][TRANSFER_HOP] == "transfer"
            retained = [h.retained for h in hit.hops[1:]]
            assert all(r is not None and 0.88 <= r <= 0.97 for r in retained)
            assert hit.span_ms >= 14 * DAY_MS - DAY_MS  # two to three weeks
            # The planted loop is the strangest loop through A: members with ~100
            # counterparties, funds moving on nearly whole at every hop.
            assert found.loops[0].accounts == expected, [
                (lp.accounts, lp.score) for lp in found.loops[:5]
            ]
            assert hit.case_hook["trade_ids"] == [r for i, r in enumerate(refs) if i != 2]
            assert hit.case_hook["transfer_ids"] == [refs[TRANSFER_HOP]]
        else:
            # Money leaving B first: the same accounts, but the loop B..A..B would need
            # A's hop to come after E's, which it does not.
            assert not matches


def test_a_group_search_finds_it_once(planted: Any) -> None:
    _, flows, _loop, _ = planted
    found = search(flows, PLANTED)
    assert sum(set(lp.accounts) == set(PLANTED) for lp in found.loops) == 1
    assert found.loops[0].start == PLANTED[0]


def test_the_shuffled_time_control_is_not_found(planted: Any) -> None:
    _, flows, _, control = planted
    refs = {h["ref"] for h in control}
    # Every hop of the control exists as a flow ...
    assert refs <= set(flows.refs())
    # ... but from no member, alone or as a set, is there a loop through all of them in order.
    for seeds in [[m] for m in CONTROL] + [CONTROL]:
        found = search(flows, seeds)
        assert not [lp for lp in found.loops if set(lp.accounts) == set(CONTROL)]
        assert not [lp for lp in found.loops if refs <= {h.ref for h in lp.hops}]


def test_an_account_without_flows_in_the_window_has_no_loops(planted: Any) -> None:
    _, flows, _, _ = planted
    found = search(flows, ["no-such-account"])
    assert found.complete and found.loops == [] and found.sequences == 0


def test_a_window_longer_than_two_years_is_refused(planted: Any) -> None:
    from linkscope.errors import InputError

    store = planted[0]
    with pytest.raises(InputError):
        load_flows(events_for(store), store, START - 800 * DAY_MS, START + 30 * DAY_MS)


def test_it_says_when_it_stopped_at_its_limit(planted: Any) -> None:
    _, flows, _, _ = planted
    found = search(flows, [PLANTED[0]], Limits(max_expansions=3))
    assert not found.complete and found.stopped == "expansion budget"
    assert found.expansions == 3


def test_min_amount_drops_small_flows(planted: Any) -> None:
    store, _, loop, _ = planted
    smallest = min(h["amount"] for h in loop) * 0.999  # fills: price x rounded qty
    flows = load_flows(events_for(store), store, START, START + 30 * DAY_MS, min_amount=smallest)
    assert (flows.amount >= smallest).all()
    hit = search(flows, [PLANTED[0]]).loops
    assert [lp for lp in hit if lp.accounts == tuple(PLANTED)]
    short = search(flows, [PLANTED[0]], Limits(max_length=4)).loops
    assert not [lp for lp in short if lp.accounts == tuple(PLANTED)]


# A reference: every simple account cycle through the seed (networkx) checked by brute force
# over its flows for a time-ordered instance. Seeded random multigraphs.
def _brute_force(flows: Flows, seed: int, max_length: int) -> set[tuple[int, ...]]:
    g = nx.DiGraph()
    g.add_edges_from(zip(flows.src.tolist(), flows.dst.tolist(), strict=False))
    out = set()
    for cycle in nx.simple_cycles(g, length_bound=max_length):
        if seed not in cycle or len(cycle) < 2:
            continue
        k = cycle.index(seed)
        seq = tuple(cycle[k:] + cycle[:k])
        hops = list(zip(seq, seq[1:] + seq[:1], strict=False))
        times = [flows.ts[(flows.src == u) & (flows.dst == v)].tolist() for u, v in hops]
        if any(all(a < b for a, b in itertools.pairwise(c)) for c in itertools.product(*times)):
            out.add(seq)
    return out


# Times in 0..1000 ms, and spread over 90 days (a window longer than 2^32 ms).
@pytest.mark.parametrize(("rng_seed", "span"), [(s, 1000) for s in range(6)] + [(6, 90 * DAY_MS)])
def test_matches_a_brute_force_on_random_graphs(rng_seed: int, span: int) -> None:
    rng = np.random.default_rng(rng_seed)
    n, m = 12, 70
    src = rng.integers(0, n, m)
    dst = (src + rng.integers(1, n, m)) % n
    ts = rng.integers(0, span, m)
    order = np.lexsort((ts, dst, src))
    flows = Flows(
        since=0, until=span, accounts=[f"a{i}" for i in range(n)],
        index={f"a{i}": i for i in range(n)}, src=src[order].astype(np.int64),
        dst=dst[order].astype(np.int64), ts=ts[order].astype(np.int64),
        amount=rng.uniform(1, 100, m)[order], kind=np.zeros(m, np.int8),
        ref=pa.array([f"t{i}" for i in order]), unit=pa.array(["X"] * m), row=np.arange(m),
    )  # fmt: skip
    for seed in range(4):
        found = search(flows, [f"a{seed}"], Limits(max_length=4, max_loops=10**6))
        assert found.complete
        got = {tuple(flows.index[a] for a in lp.accounts) for lp in found.loops}
        assert got == _brute_force(flows, seed, 4)
        for lp in found.loops:  # the instance shown is time-ordered and closes the loop
            assert all(a.ts < b.ts for a, b in zip(lp.hops, lp.hops[1:], strict=False))
            assert [h.sender for h in lp.hops] == list(lp.accounts)
            assert lp.hops[-1].receiver == lp.start


# The API over real HTTP on the same store.
@pytest.fixture(scope="module")
def api(planted: Any, store_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Any:
    import httpx

    from api.keys import KeyStore
    from api.main import create_app
    from linkscope.settings import Settings
    from testing.api_server import serving

    tmp = tmp_path_factory.mktemp("cycles_api")
    settings = Settings(
        store=f"embedded:{store_path}", graph_name="cycles_planted", keys_file=str(tmp / "k.json")
    )
    keystore = KeyStore(tmp / "k.json")
    keys = {r: keystore.create(r)[1] for r in ("investigator", "enforcement")}
    with serving(create_app(settings)) as url:
        client = httpx.Client(base_url=url, timeout=60)
        yield lambda role: client, lambda role: {"Authorization": f"Bearer {keys[role]}"}


def test_api_group_cycles(api: Any, planted: Any) -> None:
    client, auth = api
    store = planted[0]
    group_id, members = store.read(
        "MATCH (a:Account)-[:MEMBER_OF]->(g:Group {current: true}) "
        "RETURN g.group_id, collect(a.account_id) ORDER BY size(collect(a.account_id)) DESC, "
        "g.group_id LIMIT 1"
    ).rows[0]
    r = client("x").get(
        f"/v1/groups/{group_id}/cycles", params={"window": "30d"}, headers=auth("investigator")
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert sorted(body["seeds"]) == sorted(members)
    assert all(lp["start"] in members for lp in body["loops"])


def test_api_account_cycles(api: Any) -> None:
    client, auth = api
    until = str(START + 30 * DAY_MS)
    params = {"window": "30d", "until": until}
    r = client("x").get(
        f"/v1/accounts/{PLANTED[0]}/cycles", params=params, headers=auth("investigator")
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["loops"][0]["accounts"] == PLANTED
    assert body["since"] == START and body["until"] == START + 30 * DAY_MS
    assert [h["kind"] for h in body["loops"][0]["hops"]][TRANSFER_HOP] == "transfer"
    assert body["loops"][0]["hops"][1]["retained"] == pytest.approx(
        body["loops"][0]["hops"][1]["amount"] / body["loops"][0]["hops"][0]["amount"]
    )
    # A set of accounts given as a list (e.g. a Cypher result): the loop is found from its start.
    r = client("x").post(
        "/v1/cycles", json={"accounts": PLANTED[::-1], **params}, headers=auth("investigator")
    )
    assert r.status_code == 200, r.text
    assert PLANTED in [lp["accounts"] for lp in r.json()["loops"]]
    forbidden = client("x").get(f"/v1/accounts/{PLANTED[0]}/cycles", headers=auth("enforcement"))
    assert forbidden.status_code == 403
    unknown = client("x").get("/v1/accounts/NOPE/cycles", headers=auth("investigator"))
    assert unknown.status_code == 404
    bad = client("x").get(
        f"/v1/accounts/{PLANTED[0]}/cycles", params={"window": "soon"}, headers=auth("investigator")
    )
    assert bad.status_code == 422 and bad.json()["error"]["message"]
    assert (
        client("x").get("/v1/groups/NOPE/cycles", headers=auth("investigator")).status_code == 404
    )


def test_cli_cycles(planted: Any, store_path: Path) -> None:
    import json
    import os
    import subprocess

    from tests.test_cli import CLI

    env = {**os.environ, "LINKSCOPE_STORE": f"embedded:{store_path}",
           "LINKSCOPE_GRAPH_NAME": "cycles_planted"}  # fmt: skip
    args = [
        "cycles",
        "--account",
        PLANTED[0],
        "--window",
        "30d",
        "--until",
        str(START + 30 * DAY_MS),
    ]
    done = subprocess.run(
        [*CLI, *args, "--format", "json"], capture_output=True, text=True, env=env, timeout=300
    )
    assert done.returncode == 0, done.stderr
    rows = json.loads(done.stdout)
    assert rows[0]["accounts"] == " > ".join([*PLANTED, PLANTED[0]])
    assert "loop(s) found from 1 account(s)" in done.stderr
    limited = subprocess.run(
        [*CLI, *args, "--max-length", "3"], capture_output=True, text=True, env=env, timeout=300
    )
    assert limited.returncode == 0 and " > ".join(PLANTED) not in limited.stdout
    bad = subprocess.run([*CLI, "cycles"], capture_output=True, text=True, env=env, timeout=60)
    assert bad.returncode != 0 and "--account" in bad.stderr


def test_flow_cache_builds_once_per_window_and_version(planted: Any) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from api.services.cycles import FlowCache

    store = planted[0]
    events = events_for(store)
    cache = FlowCache()
    end = START + 30 * DAY_MS

    def get(version: str) -> Flows:
        return cache.get(version, events, store, START, end, 0.0)

    with ThreadPoolExecutor(4) as pool:
        first = list(pool.map(get, ["v1"] * 4))
    assert all(f is first[0] for f in first)  # one build for four requests at once
    assert get("v1") is first[0]
    fresh = get("v2")  # a new ingest: built again, and only the latest window is kept
    assert fresh is not first[0] and get("v2") is fresh
    assert get("v1") is not first[0]

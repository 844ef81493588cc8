"""Generated data whose ids are hostile: quotes, angle brackets, backslashes, ``</script>``,
``<!--``, Unicode line separators, ``/``, ``%``, ``?``, ``#``, spaces. They replace the ids of
accounts the generator puts in rings, so they appear in groups, trades, the queue and the views.

Every payload that could run sets ``window.__pwned`` or calls ``alert``; a page is clean when
neither happened.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

HOSTILE_IDS = [
    'x" onmouseover="alert(document.domain)" data-x="',
    "</script><script>window.__pwned='script'</script>",
    "<img src=x onerror=\"window.__pwned='img'\">",
    "';window.__pwned='js';'\\",
    "back\\slash\\\" `${window.__pwned='tpl'}` \\u2028",
    "line\u2028sep\u2029para <!-- <script>",
    "a/b",
    "50%?#x y",
    "ünï/cødé ✓ %2F",
    "../..",
    '"><svg onload=alert(1)>',
    "{{7*7}}&amp;&lt;b&gt;",
]
HOSTILE_GROUP_ID = "g/1?#%20 </script><img src=x onerror=alert('group')>"
HOSTILE_DEVICE = "dev'\"</script><!--\u2028"
ACCOUNT_COLUMNS = ("account_id", "buyer_id", "seller_id")
RING_TYPOLOGIES = ("wash_trading", "coordinated_trading", "self_matching", "spoofing")


def _ring_accounts(labels: Path, count: int) -> list[str]:
    with labels.open(newline="", encoding="utf-8") as handle:
        rows = [r for r in csv.DictReader(handle) if r["typology"] in RING_TYPOLOGIES]
    order = {t: i for i, t in enumerate(RING_TYPOLOGIES)}
    rows.sort(key=lambda r: (order[r["typology"]], r["group_id"], r["account_id"]))
    picked = list(dict.fromkeys(r["account_id"] for r in rows))[:count]
    if len(picked) < count:
        raise RuntimeError(f"the generator made only {len(picked)} ring accounts")
    return picked


def _rewrite(path: Path, rename: dict[str, str], devices: dict[str, str]) -> None:
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        fields = list(reader.fieldnames or [])
        rows = list(reader)
    for row in rows:
        for column in ACCOUNT_COLUMNS:
            if row.get(column) in rename:
                row[column] = rename[row[column]]
        if path.name == "funding.csv" and row["counterparty_ref"] in rename:
            row["counterparty_ref"] = rename[row["counterparty_ref"]]
        if path.name == "logins.csv" and row["account_id"] in rename.values() and row["device_id"]:
            device = row["device_id"]
            row["device_id"] = devices.setdefault(device, f"{HOSTILE_DEVICE}{len(devices)}")
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)


def hostile_graph(store_path: Path, name: str, work: Path) -> tuple[Any, dict[str, str]]:
    """Ingested and analysed graph ``name`` with hostile ids; returns it and the renaming.

    One group that holds a hostile account also gets the hostile group id ``HOSTILE_GROUP_ID``.
    """
    from analytics.config import AnalysisConfig
    from analytics.run import analyze
    from analytics.writeback import write_analysis
    from graph.falkor_embedded import FalkorEmbedded
    from ingest.pipeline import ingest_directory
    from synth.generator import GeneratorConfig, generate

    generate(work / "data", GeneratorConfig(accounts=400, seed=2, order_flow="light"))
    rename = dict(zip(_ring_accounts(work / "data" / "truth" / "labels.csv", len(HOSTILE_IDS)),
                      HOSTILE_IDS, strict=True))  # fmt: skip
    devices: dict[str, str] = {}
    for path in sorted((work / "data" / "input").glob("*.csv")):
        _rewrite(path, rename, devices)
    store = FalkorEmbedded(store_path, name)
    ingest_directory(work / "data" / "input", store)
    cfg = AnalysisConfig()
    write_analysis(store, analyze(store, cfg), cfg)
    rows = store.read(
        "MATCH (a:Account)-[:MEMBER_OF]->(g:Group {current: true}) WHERE a.account_id IN $ids "
        "RETURN g.group_id ORDER BY g.score DESC LIMIT 1",
        {"ids": HOSTILE_IDS},
    ).rows
    if not rows:
        raise RuntimeError("no group holds a hostile account")
    store.run(
        "MATCH (g:Group {group_id: $old}) SET g.group_id = $new",
        {"old": rows[0][0], "new": HOSTILE_GROUP_ID},
    )
    return store, rename

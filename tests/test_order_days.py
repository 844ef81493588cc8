"""``order_days`` statistics (numpy over sorted rows) against the same definition in SQL."""

from __future__ import annotations

import duckdb
import numpy as np
import pyarrow as pa
import pytest

from events.tables import DAY_MS, ORDERS
from ingest.order_days import SORT_KEYS, order_day_stats

DAY = 20_000


def order_day_sql(source: str) -> str:
    """The same statistics as one SQL statement (window functions, DuckDB): the reference."""
    return f"""
WITH o AS (
    SELECT *, placed_at // {DAY_MS} AS day, ended_at - placed_at AS life,
        final_status = 'cancelled' AS is_cancel,
        placed_at - lag(placed_at) OVER (
            PARTITION BY account_id, symbol, placed_at // {DAY_MS} ORDER BY placed_at, order_id
        ) AS gap
    FROM {source}
),
med AS (
    SELECT account_id, symbol, day, quantile_disc(gap, 0.5) AS gap_median
    FROM o WHERE gap IS NOT NULL GROUP BY ALL
)
SELECT o.account_id, o.symbol, o.day,
    count(*) AS placed,
    count(*) FILTER (WHERE is_cancel) AS cancelled,
    count(*) FILTER (WHERE final_status = 'filled') AS filled,
    count(*) FILTER (WHERE final_status = 'partially_filled') AS partially_filled,
    count(*) FILTER (WHERE final_status = 'rejected') AS rejected,
    count(*) FILTER (WHERE final_status = 'open') AS open,
    count(*) FILTER (WHERE channel = 'api') AS via_api,
    count(*) FILTER (WHERE side = 'buy') AS buys,
    sum(qty) AS qty_placed,
    coalesce(sum(qty - filled_qty) FILTER (WHERE is_cancel), 0.0) AS qty_cancelled,
    sum(filled_qty) AS qty_filled,
    sum(qty * coalesce(price, 0.0)) AS notional_placed,
    max(qty) AS max_qty,
    count(*) FILTER (WHERE is_cancel AND life <= 1000) AS cancelled_within_1s,
    count(*) FILTER (WHERE is_cancel AND life <= 10000) AS cancelled_within_10s,
    coalesce(sum(life) FILTER (WHERE is_cancel), 0)::BIGINT AS cancel_lifetime_ms_sum,
    CASE WHEN count(gap) >= 2 THEN avg(gap) END AS gap_mean_ms,
    CASE WHEN count(gap) >= 2 AND avg(gap) > 0 THEN stddev_pop(gap) / avg(gap)
         WHEN count(gap) >= 2 THEN 0.0 END AS gap_cv,
    CASE WHEN count(gap) >= 2 THEN any_value(m.gap_median)::DOUBLE END AS gap_median_ms,
    CASE WHEN count(gap) >= 2 THEN quantile_disc(abs(gap - m.gap_median), 0.5)::DOUBLE END
        AS gap_mad_ms,
    min(placed_at) AS first_placed_at,
    max(placed_at) AS last_placed_at
FROM o LEFT JOIN med m USING (account_id, symbol, day)
GROUP BY o.account_id, o.symbol, o.day
ORDER BY o.account_id, o.symbol, o.day"""


def random_orders(seed: int, n: int) -> pa.Table:
    """Orders of one day with ties in time, nulls where the contract allows them, every status."""
    rng = np.random.default_rng(seed)
    placed = DAY * DAY_MS + rng.integers(0, 3_000, n) * rng.choice([1, 7, 1000], n)
    ended = placed + rng.integers(0, 20_000, n)
    price = rng.uniform(1, 100, n).round(2)
    statuses = ["cancelled", "filled", "partially_filled", "rejected", "open", "expired"]
    return pa.table(
        {
            "order_id": [f"o{i:06d}" for i in rng.permutation(n)],
            "account_id": [f"a{i}" for i in rng.integers(0, max(2, n // 15), n)],
            "symbol": rng.choice(["BTC-USDT", "ETH-USDT"], n).tolist(),
            "side": rng.choice(["buy", "sell"], n).tolist(),
            "type": rng.choice(["limit", "market"], n).tolist(),
            "price": pa.array(price, mask=rng.random(n) < 0.1),
            "qty": rng.uniform(0.1, 10, n).round(3),
            "placed_at": placed,
            "ended_at": pa.array(ended, mask=rng.random(n) < 0.15),
            "final_status": rng.choice(statuses, n).tolist(),
            "filled_qty": rng.uniform(0, 0.1, n).round(3),
            "channel": pa.array(
                rng.choice(["api", "web", "app"], n).tolist(), mask=rng.random(n) < 0.2
            ),
        },
        schema=ORDERS.schema,
    )


@pytest.mark.parametrize(("seed", "n"), [(1, 1), (2, 2), (3, 5), (4, 300), (5, 5_000)])
def test_numpy_statistics_equal_the_sql_definition(seed: int, n: int) -> None:
    rows = random_orders(seed, n).sort_by(SORT_KEYS)
    got = order_day_stats(rows, DAY).to_pylist()
    want = duckdb.sql(order_day_sql("rows")).to_arrow_table().to_pylist()
    assert len(got) == len(want)
    for mine, theirs in zip(got, want, strict=True):
        assert mine.keys() == theirs.keys()
        for name, value in theirs.items():
            if isinstance(value, float):
                assert mine[name] == pytest.approx(value, rel=1e-9, abs=1e-9), name
            else:
                assert mine[name] == value, name


def test_empty_day_gives_no_rows() -> None:
    assert order_day_stats(ORDERS.schema.empty_table(), DAY).num_rows == 0


@pytest.mark.parametrize("chunks", [1, 3])
def test_a_day_landed_with_coded_columns_gives_the_same_statistics(chunks: int) -> None:
    """The commit hands ``order_day_stats`` its day with the contract's fixed columns as
    dictionaries (``ORDERS.enums``), each chunk with a dictionary of its own; the statistics
    are those of the same day as strings."""
    rows = random_orders(6, 2_000).sort_by(SORT_KEYS)
    step = -(-rows.num_rows // chunks)
    parts = [rows.slice(i, step) for i in range(0, rows.num_rows, step)]
    coded = pa.concat_tables(
        [pa.table([part.column(f.name).combine_chunks().dictionary_encode()
                   if f.name in ORDERS.enums else part.column(f.name)
                   for f in ORDERS.schema], names=ORDERS.schema.names)
         for part in parts]
    )  # fmt: skip
    assert pa.types.is_dictionary(coded.schema.field("final_status").type)
    assert coded.column("side").num_chunks == chunks
    assert order_day_stats(coded, DAY).equals(order_day_stats(rows, DAY))

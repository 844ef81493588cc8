"""The Spark engine: the stages that grow with fills and orders as Spark DataFrame jobs over the
event store's day partitions (``trades/day=*/part.parquet``, ``order_days/day=*``), read where
they lie; only candidate pairs, per-account and per-symbol aggregates and the fills cited as
evidence come back to this process, as Arrow.

Spark distributes the work (its shuffles, its partitions); nothing here splits work itself.
What the one-machine finishing needs (the exact chance baseline of synchronized pairs, the
cycle search inside candidate sets, the spoofing episode match on candidate days) runs on the
same code as the embedded engine, over the fills Spark selected, so both give the same results.

Floating-point sums whose order would differ are not taken in Spark: the fills they sum come
back and are summed here in fill order, as the embedded engine sums them.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from dataclasses import dataclass, field
from functools import cached_property, reduce
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pyspark import StorageLevel
from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import Window as SparkWindow
from pyspark.sql import functions as F

from analytics import behaviour, cycles, spoofing, trading
from analytics.behaviour import Breach, Flag
from analytics.config import AnalysisConfig, BehaviourConfig, TradingConfig, WashConfig
from analytics.cycles import WashSet
from analytics.engines.base import Pairs, trading_among
from analytics.order_candidates import OrderCandidates
from analytics.projection import (
    _FLOAT_STATS,
    _INT_STATS,
    Accounts,
    FloatArray,
    IntArray,
    OrderDays,
    Trades,
    Window,
    sort_order,
)
from analytics.spoofing import SpoofingResult
from analytics.trading import Activity, Relation, SyncPair
from events.store import EventStore
from events.tables import DAY_MS, ORDER_DAYS, TRADES
from linkscope.settings import Settings

log = logging.getLogger(__name__)

TRADE_COLUMNS = ["trade_id", "ts", "symbol", "market", "qty", "price", "seller_id", "buyer_id"]
CITED = [*TRADE_COLUMNS, "s", "b"]  # with the sides as account positions


def session(
    master: str = "local[*]",
    *,
    driver_memory: str = "2g",
    shuffle_partitions: int = 8,
    event_log_dir: str | None = None,
) -> SparkSession:
    """The analysis's Spark session, UI off. Local mode binds to the loopback interface:
    nothing listens beyond this machine (a cluster's executors must reach the driver, so
    there the cluster's own settings decide). ``sc://`` masters are Spark Connect servers; an
    empty master leaves it to ``spark-submit --master``."""
    if master.startswith("sc://"):
        return SparkSession.builder.remote(master).getOrCreate()
    builder = SparkSession.builder.appName("linkscope-analysis")
    if master:
        builder = builder.master(master)
    if master.startswith("local"):
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        # Python workers (the wash search per symbol) run this interpreter, where linkscope is;
        # on a cluster, ``spark.pyspark.python`` names the executors' own.
        builder = (
            builder.config("spark.driver.bindAddress", "127.0.0.1")
            .config("spark.driver.host", "127.0.0.1")
            .config("spark.pyspark.python", sys.executable)
        )
    builder = (
        builder.config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.driver.memory", driver_memory)
        .config("spark.sql.shuffle.partitions", str(shuffle_partitions))
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.ansi.enabled", "false")
    )
    if event_log_dir:
        builder = (
            builder.config("spark.eventLog.enabled", "true")
            .config("spark.eventLog.dir", event_log_dir)
            # one plain JSON-lines file a session: readable without Spark's codecs
            .config("spark.eventLog.compress", "false")
            .config("spark.eventLog.rolling.enabled", "false")
        )
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    return spark


class SparkEngine:
    name = "spark"
    last: SparkFills | None = None  # the last run's fills: its timings and sizes, for the bench

    def __init__(self, spark: SparkSession) -> None:
        self.spark = spark

    @classmethod
    def from_settings(cls, settings: Settings) -> SparkEngine:
        return cls(
            session(
                settings.spark_master,
                driver_memory=settings.spark_driver_memory,
                shuffle_partitions=settings.spark_shuffle_partitions,
                event_log_dir=settings.spark_event_log_dir,
            )
        )

    def fills(self, events: EventStore, accounts: Accounts, window: Window) -> SparkFills:
        _label_jobs(self.spark, "read fills")
        self.last = SparkFills(self.spark, events, accounts, window)
        return self.last


def _label_jobs(spark: SparkSession, stage: str) -> None:
    """Name the Spark jobs that follow (event log, metrics) after the analysis stage."""
    try:
        spark.sparkContext.setJobGroup(stage, stage)
    except Exception:  # Spark Connect has no SparkContext here: jobs stay unnamed
        log.debug("no job groups on this session", exc_info=True)


def _window_filter(frame: DataFrame, column: str, window: Window) -> DataFrame:
    if window.since is not None:
        frame = frame.where(F.col(column) >= window.since)
    if window.until is not None:
        frame = frame.where(F.col(column) < window.until)
    return frame


def _pair_code(lo: Column, hi: Column, n: int) -> Column:
    return lo.cast("long") * n + hi.cast("long")


@dataclass
class _Prepared:
    trades: Trades
    per_account: IntArray
    last_trade: IntArray
    sync: list[SyncPair]
    wash: list[WashSet]
    breaches: list[Breach]
    own_middle: pa.Table | None


@dataclass
class SparkFills:
    spark: SparkSession
    events: EventStore
    accounts: Accounts
    window: Window
    timings: dict[str, float] = field(default_factory=dict)
    sizes: dict[str, int] = field(default_factory=dict)  # rows that came back, per stage
    _prepared: _Prepared | None = None
    _spoof_pairs: pa.Table | None = None
    _orders: OrderCandidates | None = None

    def __post_init__(self) -> None:
        n = len(self.accounts)
        self.n = n
        ids = pa.table(
            {
                "account_id": pa.array(self.accounts.ids, type=pa.string()),
                "pos": pa.array(np.arange(n, dtype=np.int64)),
                "exempt_type": pa.array(self.accounts.account_type, type=pa.string()),
                "unapproved": pa.array(~self.accounts.api_authorized),
            }
        )
        self.ids = F.broadcast(self.spark.createDataFrame(ids))
        files = [str(f) for f in self.events.files("trades", self.window.since, self.window.until)]
        schema = _spark_schema(TRADES.schema)
        raw = (
            self.spark.read.schema(schema).parquet(*files)
            if files
            else self.spark.createDataFrame(TRADES.schema.empty_table())
        )
        raw = _window_filter(raw.select(*TRADE_COLUMNS), "ts", self.window)
        seller = self.ids.select(F.col("account_id").alias("seller_id"), F.col("pos").alias("s"))
        buyer = self.ids.select(F.col("account_id").alias("buyer_id"), F.col("pos").alias("b"))
        self.fills = (
            raw.join(seller, "seller_id")
            .join(buyer, "buyer_id")
            .withColumn("market", F.coalesce(F.col("market"), F.lit("spot")))
            .withColumn("quote", F.col("qty") * F.col("price"))
            .persist(StorageLevel.MEMORY_AND_DISK)
        )
        self._total = self.fills.count()
        if files and self._total != raw.count():
            from linkscope.errors import InputError

            raise InputError("the event store holds fills of accounts the graph does not know")

    # What the Protocol asks ------------------------------------------------------------

    @property
    def trades(self) -> Trades:
        assert self._prepared is not None, "prepare first"
        return self._prepared.trades

    @property
    def total(self) -> int:
        return self._total

    @property
    def ready(self) -> bool:
        return self._prepared is not None

    def order_days(self, cfg: AnalysisConfig) -> OrderCandidates:
        days: OrderCandidates = self._timed(
            "order statistics", lambda: self._order_days(cfg.behaviour)
        )
        self._orders = days
        return days

    def prepare(self, linked: Pairs, cfg: AnalysisConfig) -> None:
        self._prepared = self._prepare(linked, cfg)

    def relations(self, cfg: TradingConfig) -> list[Relation]:
        p = self._ready()
        return trading.relations(p.trades, self.n, cfg, per_account=p.per_account)

    def synchronized_pairs(self, cfg: TradingConfig) -> list[SyncPair]:
        return self._ready().sync

    def wash_sets(self, linked: Pairs, cfg: WashConfig) -> list[WashSet]:
        return self._ready().wash  # searched per symbol in Spark by ``prepare``

    def self_matching_flags(self, cfg: BehaviourConfig) -> list[Flag]:
        return behaviour.self_matching_flags(self._ready().trades, cfg)

    def limit_flags(self, cfg: BehaviourConfig) -> list[Flag]:
        return behaviour.limit_flags_from(self._ready().breaches)

    def spoofing(self, orders: OrderCandidates, cfg: BehaviourConfig) -> SpoofingResult:
        p = self._ready()
        return spoofing.spoofing_flags(
            self.events,
            self.accounts,
            orders,
            p.trades,
            self.window,
            cfg,
            market_before=self._market_before,
            own_middle=p.own_middle,
        )

    def trading_among(self, groups: list[list[int]]) -> tuple[IntArray, FloatArray]:
        """Spark selects the fills inside groups; their quote is summed here in fill order."""
        if not groups:
            return np.zeros(0, dtype=np.int64), np.zeros(0)
        member = self.spark.createDataFrame(
            pa.table(
                {
                    "m": pa.array([m for g in groups for m in g], type=pa.int64()),
                    "g": pa.array([i for i, g in enumerate(groups) for _ in g], type=pa.int64()),
                }
            )
        )
        gs = F.broadcast(member.select(F.col("m").alias("s"), F.col("g").alias("gs")))
        gb = F.broadcast(member.select(F.col("m").alias("b"), F.col("g").alias("gb")))
        started = time.perf_counter()
        _label_jobs(self.spark, "trading among groups")
        inside = (
            self.fills.join(gs, "s")
            .join(gb, "b")
            .where((F.col("gs") == F.col("gb")) & (F.col("s") != F.col("b")))
            .select(*CITED)
        )
        table = self._collect(inside, "trading among groups")
        self.timings["trading among groups"] = time.perf_counter() - started
        self.fills.unpersist()
        subset = _trades_from(table, self.accounts)
        return trading_among(subset, groups, self.n)

    def last_trade(self) -> IntArray:
        return self._ready().last_trade

    def symbol_quote(self) -> FloatArray:
        symbols = self.trades.symbols
        quote = self._quote_of(symbols, "symbol volumes")
        return np.array([float(quote.get(s, 0.0)) for s in symbols], dtype=np.float64)

    def _quote_of(self, symbols: list[str], stage: str) -> dict[str, float]:
        """Each symbol's quote volume over every fill of the window."""
        table = self._collect(
            self.fills.where(F.col("symbol").isin(symbols))
            .groupBy("symbol")
            .agg(F.sum("quote").alias("quote")),
            stage,
        )
        return dict(zip(table.column("symbol").to_pylist(), table.column("quote").to_pylist(),
                        strict=True))  # fmt: skip

    # Spark stages ----------------------------------------------------------------------

    def _ready(self) -> _Prepared:
        assert self._prepared is not None, "prepare first"
        return self._prepared

    def _timed(self, name: str, fn: Any) -> Any:
        started = time.perf_counter()
        _label_jobs(self.spark, name)
        try:
            return fn()
        finally:
            seconds = time.perf_counter() - started
            self.timings[name] = self.timings.get(name, 0.0) + seconds
            log.info("spark stage %s: %.1f s", name, seconds)

    def _collect(self, frame: DataFrame, stage: str) -> pa.Table:
        table: pa.Table = frame.toArrow()
        self.sizes[stage] = self.sizes.get(stage, 0) + table.num_rows
        self.sizes[stage + " (bytes)"] = self.sizes.get(stage + " (bytes)", 0) + table.nbytes
        return table

    def _prepare(self, linked: Pairs, cfg: AnalysisConfig) -> _Prepared:
        """Spark's stages, then the fills they cite: of qualifying trading relations,
        self-trades, limit breaches' first and last, wash sets, synchronized episodes, and
        those around possible spoofing bait."""
        fills = self.fills
        per_account, last = self._timed("per-account counts", self._per_account)
        relation_pairs = self._timed("trading relations", lambda: self._relations(cfg.trading))
        wash_rows = self._timed("wash candidate sets", lambda: self._wash_search(linked, cfg.wash))
        sync: list[SyncPair] = self._timed(
            "synchronized trading candidates", lambda: self._sync(cfg.trading)
        )
        sync_ids = self._timed(
            "synchronized episodes", lambda: self._sync_fills(sync, cfg.trading)
        )
        breached: pa.Table = self._timed(
            "intraday counts",
            lambda: self._collect(self._breaches(cfg.behaviour), "intraday counts"),
        )
        own_middle, near_ids = self._timed(
            "spoofing: fills around bait", lambda: self._spoof_fills(cfg.behaviour)
        )
        ids = pa.concat_arrays(
            [
                breached.column("first_id").combine_chunks().cast(pa.string()),
                breached.column("last_id").combine_chunks().cast(pa.string()),
                wash_rows.column("trade_id").combine_chunks().cast(pa.string()),
                sync_ids,
                near_ids,
            ]
        )
        by_id = F.broadcast(self.spark.createDataFrame(pa.table({"trade_id": pc.unique(ids)})))
        lohi = fills.withColumn("lo", F.least("s", "b")).withColumn("hi", F.greatest("s", "b"))
        parts = [
            lohi.join(
                F.broadcast(self.spark.createDataFrame(relation_pairs)), ["lo", "hi"], "left_semi"
            ).select(*CITED),
            fills.where(F.col("s") == F.col("b")).select(*CITED),
            fills.join(by_id, "trade_id", "left_semi").select(*CITED),
        ]
        cited = reduce(DataFrame.unionByName, parts).dropDuplicates(["trade_id"])
        table = self._timed("cited fills", lambda: self._collect(cited, "cited fills"))
        subset = _trades_from(table, self.accounts)
        where = {tid: i for i, tid in enumerate(subset.trade_id.to_pylist())}
        wash = self._timed(
            "wash sets described", lambda: self._described(subset, where, wash_rows, cfg.wash)
        )
        breaches = [
            Breach(
                int(r["acc"]),
                str(r["market"]),
                int(r["day"]),
                int(r["n"]),
                int(r["limit"]),
                where[r["first_id"]],
                where[r["last_id"]],
            )
            for r in breached.to_pylist()
        ]
        return _Prepared(subset, per_account, last, sync, wash, breaches, own_middle)

    def _per_account(self) -> tuple[IntArray, IntArray]:
        """Trades per account (a self-trade once) and its last fill's time."""
        fills = self.fills
        sides = fills.select(F.col("s").alias("acc"), "ts").unionByName(
            fills.where(F.col("s") != F.col("b")).select(F.col("b").alias("acc"), "ts")
        )
        table = self._collect(
            sides.groupBy("acc").agg(F.count("*").alias("n"), F.max("ts").alias("last")),
            "per-account counts",
        )
        self._acc_counts = self.spark.createDataFrame(table.select(["acc", "n"]))
        counts = np.zeros(self.n, dtype=np.int64)
        last = np.zeros(self.n, dtype=np.int64)
        acc = table.column("acc").to_numpy()
        counts[acc] = table.column("n").to_numpy()
        last[acc] = table.column("last").to_numpy()
        return counts, last

    def _pair_counts(self, threshold: int) -> DataFrame:
        """Unordered pairs with ``threshold`` or more fills between them (no self-trades)."""
        other = self.fills.where(F.col("s") != F.col("b"))
        return (
            other.groupBy(F.least("s", "b").alias("lo"), F.greatest("s", "b").alias("hi"))
            .count()
            .where(F.col("count") >= threshold)
        )

    def _relations(self, cfg: TradingConfig) -> pa.Table:
        """Pairs that make a trading relation: enough fills, and enough of each side's trades
        (integer counts; the share is one division, as numpy makes it)."""
        n_lo = self._acc_counts.select(F.col("acc").alias("lo"), F.col("n").alias("n_lo"))
        n_hi = self._acc_counts.select(F.col("acc").alias("hi"), F.col("n").alias("n_hi"))
        pairs = (
            self._pair_counts(cfg.relation_min_trades)
            .join(n_lo, "lo")
            .join(n_hi, "hi")
            .where(
                F.least(
                    F.col("count") / F.greatest(F.col("n_lo"), F.lit(1)),
                    F.col("count") / F.greatest(F.col("n_hi"), F.lit(1)),
                )
                >= cfg.relation_min_share
            )
            .select("lo", "hi")
        )
        table: pa.Table = self._collect(pairs, "trading relations")
        return table

    def _wash_search(self, linked: Pairs, cfg: WashConfig) -> pa.Table:
        """The wash search per symbol, in Spark's Python workers (the same code as the embedded
        engine's, on the symbol's fills between repeated or identifier-linked pairs): one row
        (symbol, set_no, trade_id) per fill of each set found."""
        fills = self.fills
        linked_df = self.spark.createDataFrame(
            pa.table(
                {
                    "lo": pa.array([a for a, _ in sorted(linked)], type=pa.int64()),
                    "hi": pa.array([b for _, b in sorted(linked)], type=pa.int64()),
                }
            )
        )
        repeated = self._pair_counts(cfg.repeat_min_trades).select("lo", "hi")
        wanted = F.broadcast(repeated.unionByName(linked_df).distinct())
        lohi = fills.withColumn("lo", F.least("s", "b")).withColumn("hi", F.greatest("s", "b"))
        cand = lohi.where(F.col("s") != F.col("b")).join(wanted, ["lo", "hi"], "left_semi")
        members = (
            cand.select("symbol", F.col("s").alias("acc"))
            .unionByName(cand.select("symbol", F.col("b").alias("acc")))
            .distinct()
        )
        sides = fills.select("symbol", F.col("s").alias("acc")).unionByName(
            fills.select("symbol", F.col("b").alias("acc"))
        )
        # Each member's trades in the symbol with anyone: the base of its internal share.
        counts = sides.join(members, ["symbol", "acc"], "left_semi").groupBy("symbol", "acc").count()
        s_n = counts.select("symbol", F.col("acc").alias("s"), F.col("count").alias("s_n"))
        b_n = counts.select("symbol", F.col("acc").alias("b"), F.col("count").alias("b_n"))

        def sets_of_symbol(fills: pa.Table) -> pa.Table:  # hints: Spark reads the eval type
            return _sets_of_symbol(cfg, fills)

        found = (
            cand.join(s_n, ["symbol", "s"])
            .join(b_n, ["symbol", "b"])
            .select("symbol", "trade_id", "ts", "s", "b", "qty", "s_n", "b_n")
            .groupBy("symbol")
            .applyInArrow(sets_of_symbol, "symbol string, set_no long, trade_id string")
        )
        return self._collect(found, "wash candidate sets")

    def _described(
        self, subset: Trades, where: dict[str, int], rows: pa.Table, cfg: WashConfig
    ) -> list[WashSet]:
        """The sets Spark found, described on the cited fills; the symbols' volume from Spark."""
        if not rows.num_rows:
            return []
        sets: dict[tuple[str, int], list[int]] = {}
        for symbol, set_no, trade_id in zip(
            rows.column("symbol").to_pylist(), rows.column("set_no").to_pylist(),
            rows.column("trade_id").to_pylist(), strict=True,
        ):  # fmt: skip
            sets.setdefault((symbol, set_no), []).append(where[trade_id])
        quote = self._quote_of(sorted({symbol for symbol, _ in sets}), "wash candidate sets")
        positions = [np.asarray(v, dtype=np.int64) for _, v in sorted(sets.items())]
        return cycles.described(subset, positions, quote, cfg)

    @cached_property
    def _symbols(self) -> list[str]:
        """The window's symbols, sorted (one Spark job, shared by the synchronized stages)."""
        return sorted(
            str(r[0]) for r in self.fills.select("symbol").distinct().collect() if r[0] is not None
        )

    def _sync(self, cfg: TradingConfig) -> list[SyncPair]:
        """Side-events, their neighbours within the window (at most ``sync_max_neighbours``
        apart in (symbol, side, time, account) order) and the market around each, in Spark;
        the candidate pairs, per (account, market) counts for the lower bound of chance, and
        the events of the accounts of pairs past it come back for the exact baseline."""
        if not self._total:
            return []
        symbols = self._symbols
        events = self._events.drop("trade_id")
        window = cfg.sync_window_ms
        by_time = SparkWindow.partitionBy("group").orderBy("ts", "account")
        ranked = events.withColumn("rn", F.row_number().over(by_time)).withColumn(
            "bucket", F.expr(f"ts div {max(window, 1)}")
        )
        # A neighbour within the window lies in the event's time bucket or the next one.
        left = ranked.select(
            "group",
            F.explode(F.array(F.col("bucket"), F.col("bucket") + 1)).alias("bucket"),
            F.col("ts").alias("ts_a"),
            F.col("rn").alias("rn_a"),
            F.col("account").alias("a"),
        )
        right = ranked.select(
            "group",
            "bucket",
            F.col("ts").alias("ts_b"),
            F.col("rn").alias("rn_b"),
            F.col("account").alias("b"),
        )
        near = left.join(right, ["group", "bucket"]).where(
            (F.col("rn_b") > F.col("rn_a"))
            & (F.col("rn_b") - F.col("rn_a") <= cfg.sync_max_neighbours)
            & (F.col("ts_b") - F.col("ts_a") <= window)
            & (F.col("a") != F.col("b"))
        )
        candidates = (
            near.groupBy(F.least("a", "b").alias("lo"), F.greatest("a", "b").alias("hi"))
            .count()
            .where(F.col("count") >= cfg.sync_min_episodes)
        )
        cand = self._collect(candidates, "synchronized trading candidates")
        if not cand.num_rows:
            return []
        lo = cand.column("lo").to_numpy().astype(np.int64)
        hi = cand.column("hi").to_numpy().astype(np.int64)
        code = lo * self.n + hi
        order = np.argsort(code)
        code, episodes = code[order], cand.column("count").to_numpy().astype(np.int64)[order]
        involved = np.unique(np.concatenate([lo, hi]))
        who = F.broadcast(
            self.spark.createDataFrame(pa.table({"account": pa.array(involved, pa.int64())}))
        )
        market = SparkWindow.partitionBy("group").orderBy("ts")
        baseline = cfg.sync_baseline_window_ms
        around = (
            events.withColumn("around", F.count("*").over(market.rangeBetween(-window, window)) - 1)
            .withColumn("market_wide", F.count("*").over(market.rangeBetween(-baseline, baseline)))
            .join(who, "account", "left_semi")
            .persist(StorageLevel.MEMORY_AND_DISK)
        )
        per_group = self._collect(
            events.groupBy("group").count(), "synchronized trading candidates"
        )
        group_events = np.zeros(2 * len(symbols), dtype=np.float64)
        group_events[per_group.column("group").to_numpy()] = per_group.column("count").to_numpy()
        # The lower bound from per-(account, market) counts; the events only of what passes.
        sums = self._collect(
            around.groupBy("account", "group").agg(
                F.sum("around").alias("around"), F.count("*").alias("events")
            ),
            "synchronized trading candidates",
        )
        rows = np.searchsorted(involved, sums.column("account").to_numpy())
        groups = sums.column("group").to_numpy()
        around_sum = np.zeros((len(involved), len(group_events)))
        around_sum[rows, groups] = sums.column("around").to_numpy()
        own_events = np.zeros((len(involved), len(group_events)))
        own_events[rows, groups] = sums.column("events").to_numpy()
        keep = trading.beyond_lower_bound(
            code, episodes, involved, around_sum, own_events, group_events, self.n, cfg
        )
        code, episodes = code[keep], episodes[keep]
        kept = np.unique(np.concatenate([code // self.n, code % self.n]))
        if not len(kept):
            around.unpersist()
            return []
        kept_df = F.broadcast(
            self.spark.createDataFrame(pa.table({"account": pa.array(kept, pa.int64())}))
        )
        mine = self._collect(
            around.join(kept_df, "account", "left_semi"), "synchronized trading candidates"
        )
        around.unpersist()
        ts = mine.column("ts").to_numpy().astype(np.int64)
        ts_min, ts_max = (int(x) for x in self.fills.agg(F.min("ts"), F.max("ts")).first())  # type: ignore[union-attr]
        activity = Activity.of_events(
            mine.column("account").to_numpy().astype(np.int64),
            mine.column("group").to_numpy().astype(np.int64),
            ts - ts_min,
            mine.column("around").to_numpy().astype(np.int64),
            mine.column("market_wide").to_numpy().astype(np.int64),
            kept,
            group_events,
            ts_max - ts_min + 1,
            cfg,
        )
        return trading.beyond_chance(code, episodes, activity, self.n, cfg)

    @cached_property
    def _events(self) -> DataFrame:
        """Side-events (a fill's seller and buyer): group = symbol code * 2 + side."""
        symbols = self._symbols
        codes = F.broadcast(
            self.spark.createDataFrame(
                pa.table({"symbol": symbols, "code": np.arange(len(symbols), dtype=np.int64)})
            )
        )
        coded = self.fills.join(codes, "symbol")
        return coded.select(
            (F.col("code") * 2).alias("group"), "ts", F.col("s").alias("account"), "trade_id"
        ).unionByName(
            coded.select(
                (F.col("code") * 2 + 1).alias("group"), "ts", F.col("b").alias("account"),
                "trade_id",
            )
        )  # fmt: skip

    def _sync_fills(self, sync: list[SyncPair], cfg: TradingConfig) -> pa.Array:
        """Trade ids of both accounts' fills that had a fill of the other in the same symbol and
        side within the window (the synchronized episodes the evidence and priority cite)."""
        if not sync:
            return pa.array([], type=pa.string())
        window = cfg.sync_window_ms
        pairs = pa.table(
            {
                "a": pa.array([p.a for p in sync], type=pa.int64()),
                "b": pa.array([p.b for p in sync], type=pa.int64()),
            }
        )
        involved = pa.table({"account": pc.unique(pa.concat_arrays([pairs["a"].combine_chunks(),
                                                                     pairs["b"].combine_chunks()]))})  # fmt: skip
        events = (
            self._events.join(
                F.broadcast(self.spark.createDataFrame(involved)), "account", "left_semi"
            )
            .withColumn("bucket", F.expr(f"ts div {max(window, 1)}"))
        )
        pair_df = F.broadcast(self.spark.createDataFrame(pairs))
        mine = events.join(pair_df, F.col("account") == F.col("a")).select(
            "a", "b", "group", F.col("ts").alias("ts_a"), F.col("trade_id").alias("id_a"),
            F.explode(F.array(F.col("bucket") - 1, F.col("bucket"), F.col("bucket") + 1)).alias(
                "bucket"
            ),
        )  # fmt: skip
        theirs = events.join(pair_df, F.col("account") == F.col("b")).select(
            "a", "b", "group", "bucket", F.col("ts").alias("ts_b"), F.col("trade_id").alias("id_b")
        )
        near = mine.join(theirs, ["a", "b", "group", "bucket"]).where(
            F.abs(F.col("ts_a") - F.col("ts_b")) <= window
        )
        ids = near.select(F.col("id_a").alias("trade_id")).unionByName(
            near.select(F.col("id_b").alias("trade_id"))
        ).distinct()
        return self._collect(ids, "synchronized episodes").column("trade_id").combine_chunks()

    def _spoof_fills(self, cfg: BehaviourConfig) -> tuple[pa.Table | None, pa.Array]:
        """For the spoofing search: each candidate account's middle fill sizes and fill count
        in the symbol (over every fill), and the ids of its fills around its bait orders' ends
        (the bait is chosen on this machine, from the event store's orders)."""
        none = pa.array([], type=pa.string())
        if self._orders is None or self._spoof_pairs is None or not self._spoof_pairs.num_rows:
            return None, none
        spoof = F.broadcast(self.spark.createDataFrame(self._spoof_pairs))
        sides = self.fills.select(F.col("s").alias("acc"), "symbol", "qty", "ts", "trade_id")
        sides = sides.unionByName(
            self.fills.select(F.col("b").alias("acc"), "symbol", "qty", "ts", "trade_id")
        )
        mine = sides.join(
            spoof, (F.col("acc") == F.col("a")) & (F.col("symbol") == F.col("sym")), "left_semi"
        )
        by_size = SparkWindow.partitionBy("acc", "symbol").orderBy("qty")
        ranked = mine.withColumn("rank", F.row_number().over(by_size)).withColumn(
            "n", F.count("*").over(SparkWindow.partitionBy("acc", "symbol"))
        )
        middle = (
            ranked.where(
                (F.col("rank") == F.floor((F.col("n") + 1) / 2))
                | (F.col("rank") == F.floor(F.col("n") / 2) + 1)
            )
            .join(self.ids.select(F.col("pos").alias("acc"), "account_id"), "acc")
            .select("account_id", "symbol", "qty", "n")
        )
        own_middle = self._collect(middle, "spoofing: fills around bait")
        windows = spoofing.bait_windows(
            self.events, self.accounts, self._orders, self.window, cfg, own_middle
        )
        if not windows.num_rows:
            return own_middle, none
        before, after = cfg.spoof_cancel_after_fill_ms, cfg.spoof_fill_after_cancel_ms
        bucket = before + after
        ends = (
            F.broadcast(self.spark.createDataFrame(windows))
            .join(self.ids.select("account_id", F.col("pos").alias("acc")), "account_id")
            .select(
                "acc", "symbol", "ended_at",
                F.explode(F.sequence(F.expr(f"(ended_at - {before}) div {bucket}"),
                                     F.expr(f"(ended_at + {after}) div {bucket}"))).alias("bucket"),
            )
        )  # fmt: skip
        near = (
            mine.withColumn("bucket", F.expr(f"ts div {bucket}"))
            .join(ends, ["acc", "symbol", "bucket"])
            .where(F.col("ts").between(F.col("ended_at") - before, F.col("ended_at") + after))
            .select("trade_id")
            .distinct()
        )
        ids = self._collect(near, "spoofing: fills around bait").column("trade_id")
        return own_middle, ids.combine_chunks()

    def _breaches(self, cfg: BehaviourConfig) -> DataFrame:
        """Fills per (account, market, UTC day) over the market's limit, with the fills cited:
        the first as seller (else as buyer) and the last as buyer (else as seller)."""
        limits = [(m, int(v)) for m, v in sorted(cfg.trade_limits.items())]
        if not limits:
            return self.spark.createDataFrame(
                pa.table(
                    {
                        "acc": pa.array([], pa.int64()),
                        "market": pa.array([], pa.string()),
                        "day": pa.array([], pa.int64()),
                        "n": pa.array([], pa.int64()),
                        "limit": pa.array([], pa.int64()),
                        "first_id": pa.array([], pa.string()),
                        "last_id": pa.array([], pa.string()),
                    }
                )
            )
        limit_df = F.broadcast(
            self.spark.createDataFrame(
                pa.table(
                    {
                        "market": [m for m, _ in limits],
                        "limit": pa.array([v for _, v in limits], pa.int64()),
                    }
                )
            )
        )
        exempt = sorted(cfg.limit_exempt_account_types)
        fills = self.fills
        sides = fills.select(
            F.col("s").alias("acc"), "market", "ts", F.lit(0).alias("role"), "symbol", "trade_id"
        ).unionByName(
            fills.where(F.col("s") != F.col("b")).select(
                F.col("b").alias("acc"),
                "market",
                "ts",
                F.lit(1).alias("role"),
                "symbol",
                "trade_id",
            )
        )
        order = F.struct("role", "symbol", "ts", "trade_id")
        counted = (
            sides.withColumn("day", F.expr(f"ts div {DAY_MS}"))
            .groupBy("acc", "market", "day")
            .agg(
                F.count("*").alias("n"),
                F.min(order).getField("trade_id").alias("first_id"),
                F.max(order).getField("trade_id").alias("last_id"),
            )
            .join(limit_df, "market")
            .where(F.col("n") > F.col("limit"))
            .join(self.ids.select(F.col("pos").alias("acc"), "exempt_type"), "acc")
        )
        if exempt:
            counted = counted.where(~F.col("exempt_type").isin(exempt))
        return counted.select("acc", "market", "day", "n", "limit", "first_id", "last_id").orderBy(
            "acc", "market", "day"
        )

    def _order_days(self, cfg: BehaviourConfig) -> OrderCandidates:
        """The order-days of bots and of possible spoofing bait, with the symbols' typical order
        from every order-day (Spark); the rest stays in Spark."""
        files = [
            str(f) for f in self.events.files("order_days", self.window.since, self.window.until)
        ]
        if not files:
            empty = _order_days_from(ORDER_DAYS.schema.empty_table(), [], self.accounts)
            return OrderCandidates(empty, np.zeros(0), 0)
        days = self.spark.read.schema(_spark_schema(ORDER_DAYS.schema)).parquet(*files)
        ints = {k: F.coalesce(F.col(k), F.lit(0)).alias(k) for k in _INT_STATS}
        floats = {k: F.coalesce(F.col(k), F.lit(-1.0)).alias(k) for k in _FLOAT_STATS}
        days = days.select(
            "account_id",
            "symbol",
            *ints.values(),
            *floats.values(),
        ).join(self.ids.select("account_id", F.col("pos").alias("acc"), "unapproved"), "account_id")
        days = days.persist(StorageLevel.MEMORY_AND_DISK)
        total = days.count()
        symbols = sorted(
            str(r[0]) for r in days.select("symbol").distinct().collect() if r[0] is not None
        )
        # The typical order: median over the symbol's account-days of the mean order size,
        # the two middle values averaged here as numpy averages them.
        sized = days.withColumn("size", F.col("qty_placed") / F.greatest(F.col("placed"), F.lit(1)))
        ranked = sized.withColumn(
            "rank", F.row_number().over(SparkWindow.partitionBy("symbol").orderBy("size"))
        ).withColumn("k", F.count("*").over(SparkWindow.partitionBy("symbol")))
        middle = ranked.where(
            (F.col("rank") == F.floor((F.col("k") + 1) / 2))
            | (F.col("rank") == F.floor(F.col("k") / 2) + 1)
        ).select("symbol", "rank", "size")
        mids = self._collect(middle, "order statistics").to_pylist()
        by_symbol: dict[str, list[tuple[int, float]]] = {}
        for r in mids:
            by_symbol.setdefault(r["symbol"], []).append((int(r["rank"]), float(r["size"])))
        typical = np.zeros(len(symbols))
        for i, name in enumerate(symbols):
            values = [v for _, v in sorted(by_symbol.get(name, []))]
            typical[i] = (values[0] + values[-1]) / 2 if len(values) == 2 else values[0]
        typical_df = F.broadcast(
            self.spark.createDataFrame(pa.table({"symbol": symbols, "typical": typical}))
        )
        mean_fill = F.col("qty_filled") / F.greatest(
            F.col("filled") + F.col("partially_filled"), F.lit(1)
        )
        candidate = (
            (F.col("cancelled") > 0)
            & (F.col("max_qty") >= cfg.spoof_bait_symbol_ratio * F.col("typical"))
            & (F.col("max_qty") >= cfg.spoof_bait_fill_ratio * mean_fill)
        )
        robust_cv = F.col("gap_mad_ms") / F.greatest(F.col("gap_median_ms"), F.lit(1.0))
        regular = (
            (F.col("placed") >= cfg.bot_min_orders)
            & (F.col("gap_median_ms") > 0)
            & (F.col("gap_mad_ms") >= 0)
            & (robust_cv <= cfg.bot_max_gap_cv)
        )
        bot = F.col("unapproved") & ((F.col("via_api") >= cfg.bot_min_api_orders) | regular)
        kept = (
            days.join(typical_df, "symbol")
            .withColumn("candidate", candidate)
            .where(F.col("candidate") | bot)
        )
        table = self._collect(kept, "order statistics")
        days.unpersist()
        chosen = table.filter(table.column("candidate"))
        self._spoof_pairs = (
            pa.table({"a": chosen.column("acc"), "sym": chosen.column("symbol")})
            .group_by(["a", "sym"])
            .aggregate([])
        )
        return OrderCandidates(_order_days_from(table, symbols, self.accounts), typical, total)

    def _market_before(self, symbols: list[str], times: list[int]) -> list[float | None]:
        """The market's last fill price in each symbol before each time (Spark)."""
        if not symbols:
            return []
        _label_jobs(self.spark, "spoofing: market before")
        asked = self.spark.createDataFrame(
            pa.table(
                {"i": pa.array(range(len(symbols)), pa.int64()), "symbol": symbols, "t": times}
            )
        )
        # The asked times in the symbols' fill streams, before the fills of the same
        # millisecond: the last price seen up to each is the market's last before it. One
        # sort per symbol, where a join of every time with every earlier fill grew as their
        # product (186 s at M for 2,614 times).
        fills = self.fills.join(F.broadcast(asked.select("symbol").distinct()), "symbol", "left_semi")
        stream = fills.select(
            "symbol", F.col("ts").alias("t"), F.lit(1).alias("kind"), "trade_id", "price",
            F.lit(None).cast("long").alias("i"),
        ).unionByName(
            asked.select(
                "symbol", "t", F.lit(0).alias("kind"), F.lit(None).cast("string").alias("trade_id"),
                F.lit(None).cast("double").alias("price"), "i",
            )
        )  # fmt: skip
        seen = (
            SparkWindow.partitionBy("symbol")
            .orderBy("t", "kind", "trade_id")
            .rowsBetween(SparkWindow.unboundedPreceding, SparkWindow.currentRow)
        )
        last = (
            stream.withColumn("before", F.last("price", ignorenulls=True).over(seen))
            .where(F.col("kind") == 0)
            .select("i", F.col("before").alias("price"))
        )
        table = self._collect(last, "spoofing: market before")
        found = dict(
            zip(table.column("i").to_pylist(), table.column("price").to_pylist(), strict=True)
        )
        return [None if found.get(i) is None else float(found[i]) for i in range(len(symbols))]


def _spark_schema(schema: pa.Schema) -> Any:
    from pyspark.sql.types import DoubleType, LongType, StringType, StructField, StructType

    kinds = {pa.int64(): LongType(), pa.float64(): DoubleType(), pa.string(): StringType()}
    return StructType([StructField(f.name, kinds[f.type], True) for f in schema])


def _sets_of_symbol(cfg: WashConfig, fills: pa.Table) -> pa.Table:
    """One symbol's wash search, run by Spark's Python worker on the symbol's candidate fills."""
    sets = cycles.sets_in_symbol(fills, cfg)
    symbol = pa.array([fills.column("symbol")[0].as_py()] * sets.num_rows, type=pa.string())
    return pa.table({"symbol": symbol, "set_no": sets.column("set_no"),
                     "trade_id": sets.column("trade_id")})  # fmt: skip


def _trades_from(table: pa.Table, accounts: Accounts) -> Trades:
    """Fills from Spark as ``Trades``, in the embedded engine's order (symbol, ts, trade_id)."""
    order = pc.sort_indices(
        table, sort_keys=[("symbol", "ascending"), ("ts", "ascending"), ("trade_id", "ascending")]
    )
    table = table.take(order)
    symbols = sorted(set(table.column("symbol").to_pylist()))
    markets = sorted(set(table.column("market").to_pylist()))

    def codes(column: str, names: list[str]) -> IntArray:
        found = pc.index_in(table.column(column), value_set=pa.array(names, type=pa.string()))
        return np.asarray(found.to_numpy(zero_copy_only=False), dtype=np.int64)

    return Trades(
        table.column("trade_id").combine_chunks(),
        np.asarray(table.column("ts").to_numpy(), dtype=np.int64),
        np.asarray(table.column("s").to_numpy(), dtype=np.int64),
        np.asarray(table.column("b").to_numpy(), dtype=np.int64),
        codes("symbol", symbols),
        codes("market", markets),
        np.asarray(table.column("qty").to_numpy(), dtype=np.float64),
        np.asarray(table.column("price").to_numpy(), dtype=np.float64),
        symbols,
        markets,
    )


def _order_days_from(table: pa.Table, symbols: list[str], accounts: Accounts) -> OrderDays:
    """Order-day rows from Spark as ``OrderDays`` (symbols coded among every order-day's
    symbols, so the typical orders line up), sorted by (account, symbol, day)."""
    if not table.num_rows:
        empty_i = np.zeros(0, dtype=np.int64)
        empty_f = np.zeros(0, dtype=np.float64)
        return OrderDays(
            empty_i, empty_i, symbols,
            *(empty_i for _ in _INT_STATS),  # type: ignore[arg-type]
            *(empty_f for _ in _FLOAT_STATS),
        )  # fmt: skip
    account = np.asarray(table.column("acc").to_numpy(), dtype=np.int64)
    found = pc.index_in(table.column("symbol"), value_set=pa.array(symbols, type=pa.string()))
    symbol = np.asarray(found.to_numpy(zero_copy_only=False), dtype=np.int64)

    def ints(name: str) -> IntArray:
        return np.asarray(table.column(name).to_numpy(), dtype=np.int64)

    def floats(name: str) -> FloatArray:
        return np.asarray(table.column(name).to_numpy(), dtype=np.float64)

    order = sort_order(account, symbol, ints("day"))
    return OrderDays(
        account[order],
        symbol[order],
        symbols,
        *(ints(k)[order] for k in _INT_STATS),  # type: ignore[arg-type]
        *(floats(k)[order] for k in _FLOAT_STATS),
    )

"""A seeded exchange simulator: a background market plus planted typologies and look-alikes.

Everything is drawn from ``numpy`` generators seeded by ``seed`` (the order flow from one of
its own, so both flows share everything else), so the same config gives byte-identical files.
Ground truth goes to ``OUT/truth``; the contract's files to ``OUT/input``. Fills and orders are
numpy columns streamed to disk in blocks (``orderflow``); see docs/generator.md.
The look-alikes (carrier NAT, offices, VPN exits, colliding device fingerprints, exchange hot
wallets, households, market makers) exist so that "shares anything = same owner" fails.
"""

from __future__ import annotations

import itertools
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from ingest.contract import ACCOUNTS, ENFORCEMENT_HISTORY, FUNDING, LOGINS, FileSpec
from synth import planted_orders
from synth.orderflow import (
    FLOWS,
    ORDER_SCHEMA,
    PLANTED,
    TRADE_SCHEMA,
    Fills,
    Market,
    Orders,
    order_columns,
    orders_for,
    trade_columns,
)
from synth.writer import StreamWriter, write_table

log = logging.getLogger(__name__)

DAY = 86_400_000
START = 1_790_000_000_000  # 2026-09-21, the first day of the simulated month


@dataclass(frozen=True)
class GeneratorConfig:
    accounts: int = 10_000
    seed: int = 7
    trades_per_account: float = 25.0
    days: int = 30
    symbols: int = 40
    parquet: bool = False
    intraday_trade_limit: int = 500
    order_flow: str = "realistic"  # a key of orderflow.FLOWS: "realistic" or "light"
    block_fills: int = 200_000  # fills whose orders are generated and written at once

    def __post_init__(self) -> None:
        if self.order_flow not in FLOWS:
            raise ValueError(f"order_flow must be one of {sorted(FLOWS)}, not {self.order_flow!r}")


def _columns(spec: FileSpec, *, skip: tuple[str, ...] = ()) -> dict[str, list[Any]]:
    return {c.name: [] for c in spec.columns if c.name not in skip}


_FILL_FIELDS = ("ts", "sym", "price", "qty", "buyer", "seller", "taker_buy", "buy_oid", "sell_oid")


@dataclass
class _Tables:
    """Column lists in the contract's column order. Trades and orders are kept as positions
    (accounts, symbols) and numbers here; only the planted ones are lists, the background flow
    is numpy arrays written in blocks."""

    accounts: dict[str, list[Any]] = field(default_factory=lambda: _columns(ACCOUNTS))
    logins: dict[str, list[Any]] = field(default_factory=lambda: _columns(LOGINS))
    funding: dict[str, list[Any]] = field(default_factory=lambda: _columns(FUNDING))
    trades: dict[str, list[Any]] = field(default_factory=lambda: {k: [] for k in _FILL_FIELDS})
    orders: dict[str, list[Any]] = field(
        default_factory=lambda: {k: [] for k in Orders.__dataclass_fields__}
    )
    history: dict[str, list[Any]] = field(default_factory=lambda: _columns(ENFORCEMENT_HISTORY))
    labels: dict[str, list[Any]] = field(
        default_factory=lambda: {
            k: [] for k in ("group_id", "account_id", "typology", "difficulty")
        }
    )


class _Sim:
    def __init__(self, cfg: GeneratorConfig) -> None:
        self.cfg = cfg
        self.rng = np.random.default_rng(cfg.seed)
        self.t = _Tables()
        self.n = cfg.accounts
        self.ids = [f"U{i:07d}" for i in range(self.n)]
        self.free = list(self.rng.permutation(self.n))  # accounts not yet given a role
        self.symbols = [f"S{i:02d}_USDT" for i in range(cfg.symbols)]
        self.prices = np.round(np.exp(self.rng.uniform(-2, 10, cfg.symbols)), 4)
        weights = 1.0 / np.arange(1, cfg.symbols + 1) ** 1.1  # power-law liquidity
        self.sym_p = weights / weights.sum()
        self.counters = {"trade": 0, "order": 0, "event": 0, "group": 0}
        self.end = START + cfg.days * DAY
        self.market_makers: list[int] = []
        self.api = np.zeros(self.n, dtype=bool)
        self.background: Fills | None = None

    # ids -----------------------------------------------------------------
    def next_id(self, kind: str, prefix: str) -> str:
        self.counters[kind] += 1
        return f"{prefix}{self.counters[kind]:09d}"

    def take(self, k: int) -> list[int]:
        out, self.free = self.free[:k], self.free[k:]
        return [int(i) for i in out]

    def ts(self) -> int:
        return int(self.rng.integers(START, self.end))

    def label(self, members: list[int], typology: str, difficulty: str = "standard") -> None:
        self.counters["group"] += 1
        gid = f"G{self.counters['group']:05d}"
        for m in members:
            self.t.labels["group_id"].append(gid)
            self.t.labels["account_id"].append(self.ids[m])
            self.t.labels["typology"].append(typology)
            self.t.labels["difficulty"].append(difficulty)

    # primitive events ------------------------------------------------------
    def login(self, acc: int, ip: str, device: str | None, ts: int, channel: str = "app") -> None:
        t = self.t.logins
        t["account_id"].append(self.ids[acc])
        t["ts"].append(ts)
        t["ip"].append(ip)
        t["device_id"].append(device)
        t["user_agent"].append("Mozilla/5.0" if channel == "web" else "ExApp/4.2")
        t["channel"].append(channel)

    def fund(
        self, acc: int, direction: str, method: str, ref: str, amount: float, ts: int | None = None
    ) -> None:
        t = self.t.funding
        t["event_id"].append(self.next_id("event", "F"))
        t["account_id"].append(self.ids[acc])
        t["ts"].append(ts if ts is not None else self.ts())
        t["direction"].append(direction)
        t["method"].append(method)
        t["counterparty_ref"].append(ref)
        t["asset"].append("USDT")
        t["amount"].append(round(float(amount), 2))

    def trade(
        self,
        seller: int,
        buyer: int,
        sym: int,
        qty: float,
        ts: int,
        price: float | None = None,
        *,
        taker_buy: bool | None = None,
        buy_order: int = -1,
        sell_order: int = -1,
    ) -> None:
        """A planted fill; the orders behind it are written later unless given here."""
        p = (
            price
            if price is not None
            else float(self.prices[sym] * (1 + self.rng.normal(0, 0.002)))
        )
        taker = bool(self.rng.random() < 0.5) if taker_buy is None else taker_buy
        row = (ts, sym, round(p, 6), max(round(float(qty), 6), 1e-6), buyer, seller, taker)
        for k, v in zip(_FILL_FIELDS, (*row, buy_order, sell_order), strict=True):
            self.t.trades[k].append(v)

    def order(
        self,
        acc: int,
        sym: int,
        buy: bool,
        qty: float,
        placed: int,
        ended: int,
        status: int,
        channel: int,
        *,
        price: float | None = None,
        filled: float = 0.0,
    ) -> int:
        """A planted limit order; returns its number (for the fill it is behind)."""
        p = float(self.prices[sym]) if price is None else price
        q = max(round(float(qty), 6), 1e-6)
        done = min(max(round(float(filled), 6), 1e-6), q) if filled > 0 else 0.0
        row = (acc, sym, buy, False, round(p, 6), q, placed, ended, status, done, channel)
        for k, v in zip(Orders.__dataclass_fields__, row, strict=True):
            self.t.orders[k].append(v)
        self.counters["order"] += 1
        return self.counters["order"]


def generate(out: Path, cfg: GeneratorConfig) -> dict[str, int]:
    """Write OUT/input (contract files) and OUT/truth (labels); returns row counts."""
    sim = _Sim(cfg)
    _population(sim)
    _background(sim)
    _plant(sim)
    counts = {}
    inp, truth = out / "input", out / "truth"
    for name, table in (
        ("accounts", sim.t.accounts),
        ("logins", sim.t.logins),
        ("funding", sim.t.funding),
    ):
        counts[name] = write_table(inp / name, table, parquet=cfg.parquet)
    counts["trades"], counts["orders"] = _write_flow(sim, inp)
    counts["enforcement_history"] = write_table(
        inp / "enforcement_history", sim.t.history, parquet=cfg.parquet
    )
    counts["labels"] = write_table(truth / "labels", sim.t.labels)
    return counts


def _write_flow(sim: _Sim, inp: Path) -> tuple[int, int]:
    """Stream trades and orders: the planted orders, then the background fills block by block
    with the order flow around them, then the planted fills with the orders behind them."""
    cfg = sim.cfg
    # A generator of its own: the accounts, logins, funding and fills are the same whichever
    # order flow is chosen.
    rng = np.random.default_rng([cfg.seed, 1])
    market = Market(np.isin(np.arange(sim.n), sim.market_makers), sim.api.copy(), sim.end)
    account_ids = pa.array(sim.ids, type=pa.string())
    symbols = pa.array(sim.symbols, type=pa.string())
    flow = FLOWS[cfg.order_flow]
    trades = StreamWriter(inp / "trades", TRADE_SCHEMA, parquet=cfg.parquet)
    orders = StreamWriter(inp / "orders", ORDER_SCHEMA, parquet=cfg.parquet)
    with trades, orders:
        planted = _as_arrays(sim.t.orders)
        orders.write(order_columns(Orders(**planted), 1, account_ids, symbols))
        next_order = sim.counters["order"] + 1
        background = sim.background
        assert background is not None
        for start in range(0, len(background), cfg.block_fills):
            block = background.block(start, start + cfg.block_fills)
            flow_orders, block.buy_oid, block.sell_oid = orders_for(
                block, next_order, rng, flow, market
            )
            orders.write(order_columns(flow_orders, next_order, account_ids, symbols))
            next_order += len(flow_orders)
            trades.write(trade_columns(block, start + 1, account_ids, symbols))
            log.info("generated %s of %s fills", f"{start + len(block):,}", f"{len(background):,}")
        fills = Fills(**_as_arrays(sim.t.trades))
        flow_orders, fills.buy_oid, fills.sell_oid = orders_for(
            fills, next_order, rng, PLANTED, market
        )
        orders.write(order_columns(flow_orders, next_order, account_ids, symbols))
        trades.write(trade_columns(fills, len(background) + 1, account_ids, symbols))
    return trades.rows, orders.rows


def _as_arrays(columns: dict[str, list[Any]]) -> dict[str, Any]:
    out = {}
    for name, values in columns.items():
        first = values[0] if values else 0
        kind: type = np.int64
        if isinstance(first, bool | np.bool_):
            kind = np.bool_
        elif isinstance(first, float):  # numpy's float64 is a float too
            kind = np.float64
        out[name] = np.asarray(values, dtype=kind)
    return out


def _population(sim: _Sim) -> None:
    rng, n = sim.rng, sim.n
    kinds = np.array(["retail"] * n, dtype=object)
    mm = sim.take(max(3, n // 2_000))
    inst = sim.take(max(2, n // 400))
    kinds[mm] = "market_maker"
    kinds[inst] = "institutional"
    sim.market_makers = mm
    api = rng.random(n) < 0.02
    api[mm] = True
    api[inst] = True
    sim.api = api
    countries = np.array(["DE", "FR", "GB", "SG", "JP", "BR", "TR", "VN", "US", "KR"])
    t = sim.t.accounts
    t["account_id"] = list(sim.ids)
    t["created_at"] = [int(x) for x in rng.integers(START - 700 * DAY, START - DAY, n)]
    t["kyc_level"] = [int(x) for x in rng.integers(1, 4, n)]
    t["country"] = [str(c) for c in rng.choice(countries, n)]
    t["account_type"] = [str(k) for k in kinds]
    t["api_authorized"] = ["true" if a else "false" for a in api]
    t["status"] = ["active"] * n
    sim.label(mm, "market_maker", "benign")


def _background(sim: _Sim) -> None:
    """Ordinary users: own devices and home IPs, some behind shared NAT/office/VPN, own funding."""
    rng, n = sim.rng, sim.n
    nat_ips = [f"100.64.{i // 250}.{i % 250 + 1}" for i in range(max(5, n // 2_000))]
    vpn_ips = [f"185.220.101.{i + 1}" for i in range(12)]
    common_fp = [f"fp-stock-{i}" for i in range(6)]  # factory fingerprints shared by strangers
    hot_wallets = [f"0xHOTWALLET{i:02d}" for i in range(4)]
    offices = [
        (f"203.0.113.{i + 1}", sim.take(int(rng.integers(15, 60))))
        for i in range(max(2, n // 3_000))
    ]
    office_of: dict[int, str] = {}
    for ip, members in offices:
        for m in members:
            office_of[m] = ip
        sim.label(members, "benign_shared_ip", "benign")
    nat_users = rng.random(n) < 0.25
    for acc in range(n):
        home = f"{int(rng.integers(1, 223))}.{int(rng.integers(0, 256))}.{int(rng.integers(0, 256))}.{int(rng.integers(1, 255))}"
        device = (
            f"dev-{acc:07d}-{int(rng.integers(1 << 30)):x}"
            if rng.random() > 0.08
            else str(rng.choice(common_fp))
        )
        for _ in range(int(rng.integers(3, 12))):
            r = rng.random()
            ip = home
            if nat_users[acc] and r < 0.6:
                ip = str(rng.choice(nat_ips))
            elif acc in office_of and r < 0.5:
                ip = office_of[acc]
            elif r > 0.95:
                ip = str(rng.choice(vpn_ips))
            sim.login(acc, ip, device, sim.ts(), "app" if r < 0.7 else "web")
        if rng.random() < 0.3:
            sim.fund(acc, "deposit", "crypto", str(rng.choice(hot_wallets)), rng.lognormal(6, 1))
        sim.fund(
            acc,
            "deposit",
            "bank" if rng.random() < 0.6 else "crypto",
            f"src-{acc:07d}",
            rng.lognormal(7, 1.2),
        )
        if rng.random() < 0.4:
            sim.fund(acc, "withdrawal", "crypto", f"wd-{acc:07d}", rng.lognormal(6, 1))
    # Trades: most retail flow meets a market maker; the rest meets another random user.
    total = int(n * sim.cfg.trades_per_account)
    sellers = rng.integers(0, n, total)
    buyers = rng.integers(0, n, total)
    with_mm = rng.random(total) < 0.6
    mm = np.array(sim.market_makers)
    mm_side = rng.random(total) < 0.5
    sellers = np.where(with_mm & mm_side, rng.choice(mm, total), sellers)
    buyers = np.where(with_mm & ~mm_side, rng.choice(mm, total), buyers)
    same = sellers == buyers
    buyers[same] = (buyers[same] + 1) % n
    syms = rng.choice(len(sim.symbols), total, p=sim.sym_p)
    times = np.sort(rng.integers(START, sim.end, total))
    notional = rng.lognormal(5, 1.3, total)
    price = np.round(sim.prices[syms] * (1 + rng.normal(0, 0.002, total)), 6)
    qty = np.maximum(np.round(notional / sim.prices[syms], 6), 1e-6)
    # Market makers mostly rest on the book: the other side takes their quotes.
    is_mm = np.isin(np.arange(n), mm)
    mm_sells, mm_buys = is_mm[sellers] & ~is_mm[buyers], is_mm[buyers] & ~is_mm[sellers]
    u = rng.random(total)
    taker_buy = np.where(mm_sells, u < 0.85, np.where(mm_buys, u >= 0.85, u < 0.5))
    none = np.full(total, -1, dtype=np.int64)
    sim.background = Fills(
        times, syms.astype(np.int64), price, qty, buyers, sellers, taker_buy, none, none.copy()
    )


def _plant(sim: _Sim) -> None:
    rng, scale = sim.rng, max(1, sim.n // 1_250)
    for k in range(scale):
        _wash_ring(sim, ("shared_device", "transfer_chain", "vpn_separate")[k % 3])
    for _ in range(scale):
        _coordinated(sim)
    for _ in range(scale):
        acc = sim.take(1)
        for _ in range(int(rng.integers(5, 15))):
            sim.trade(acc[0], acc[0], int(rng.integers(0, 5)), float(rng.uniform(0.5, 5)), sim.ts())
        sim.label(acc, "self_matching")
    for k in range(scale):
        planted_orders.spoofer(sim, approved=k % 3 == 2)
    for _ in range(scale):
        planted_orders.bot(sim)
    for k in range(max(2, scale)):
        planted_orders.quoter(sim, ("quoting_bot", "api_market_maker")[k % 2])
    for _ in range(max(1, scale // 2)):
        breacher = sim.take(1)[0]
        day = (START // DAY + 1 + int(rng.integers(0, sim.cfg.days - 1))) * DAY  # a UTC day
        partners = sim.market_makers
        for j in range(sim.cfg.intraday_trade_limit + int(rng.integers(50, 200))):
            mm = partners[j % len(partners)]
            s, b = (breacher, mm) if j % 2 else (mm, breacher)
            sim.trade(s, b, 0, 0.01, day + int(rng.integers(0, DAY)))
        sim.label([breacher], "limit_breach")
    for _ in range(scale * 2):
        _household(sim)


def _wash_ring(sim: _Sim, variant: str) -> None:
    rng = sim.rng
    members = sim.take(int(rng.integers(3, 6)))
    device = f"dev-ring-{members[0]}"
    bank = f"bank-ring-{members[0]}"
    for i, acc in enumerate(members):
        if variant == "shared_device":
            sim.login(acc, f"198.51.{members[0] % 200}.{i + 10}", device, sim.ts())
            sim.fund(acc, "deposit", "bank", bank, rng.lognormal(8, 0.5))
        elif variant == "vpn_separate":
            sim.login(
                acc, f"185.220.101.{int(rng.integers(1, 13))}", f"dev-vpn-{acc}", sim.ts(), "web"
            )
            sim.fund(acc, "deposit", "crypto", f"0xRING{members[0]}", rng.lognormal(8, 0.5))
        else:
            sim.login(
                acc,
                f"{int(rng.integers(1, 223))}.9.{i}.{members[0] % 250}",
                f"dev-own-{acc}",
                sim.ts(),
            )
    if variant == "transfer_chain":
        sim.fund(members[0], "deposit", "bank", f"bank-own-{members[0]}", 50_000)
        for a, b in itertools.pairwise(members):
            ts = sim.ts()
            sim.fund(a, "withdrawal", "internal", sim.ids[b], 9_000, ts)
            sim.fund(b, "deposit", "internal", sim.ids[a], 9_000, ts)
    sym = int(rng.integers(3, len(sim.symbols)))
    for _ in range(int(rng.integers(6, 14))):
        qty = float(rng.uniform(1, 20))
        ts = sim.ts()
        for j, acc in enumerate(members):  # a full cycle: net position returns to zero
            sim.trade(
                acc,
                members[(j + 1) % len(members)],
                sym,
                qty,
                ts + j * int(rng.integers(200, 5_000)),
            )
    if rng.random() < 0.3:  # a repeat offender: sanctioned before for the same clause
        t = sim.t.history
        t["account_id"].append(sim.ids[members[0]])
        t["ts"].append(START - int(rng.integers(30, 300)) * DAY)
        t["action"].append("frozen")
        t["clause"].append("wash_trading")
        t["case_id"].append(f"CASE-{members[0]}")
    sim.label(members, "wash_trading", variant)


def _coordinated(sim: _Sim) -> None:
    rng = sim.rng
    members = sim.take(int(rng.integers(3, 7)))
    source = f"0xCOORD{members[0]}"
    for acc in members:
        sim.fund(acc, "deposit", "crypto", source, rng.lognormal(8, 0.4))
        sim.login(
            acc,
            f"{int(rng.integers(1, 223))}.77.{acc % 250}.{acc % 199 + 1}",
            f"dev-c-{acc}",
            sim.ts(),
        )
    sym = int(rng.integers(0, len(sim.symbols)))
    mm = sim.market_makers
    for _ in range(int(rng.integers(12, 25))):
        ts = sim.ts()
        side = rng.random() < 0.5
        for acc in members:
            m = mm[int(rng.integers(0, len(mm)))]
            s, b = (m, acc) if side else (acc, m)
            sim.trade(
                s,
                b,
                sym,
                float(rng.uniform(1, 5)) * 100 / sim.prices[sym],
                ts + int(rng.integers(0, 3_000)),
            )
    sim.label(members, "coordinated_trading")


def _household(sim: _Sim) -> None:
    rng = sim.rng
    members = sim.take(int(rng.integers(2, 5)))
    device = f"dev-home-{members[0]}"
    bank = f"bank-home-{members[0]}"
    ip = f"192.0.2.{members[0] % 250 + 1}"
    for acc in members:
        for _ in range(3):
            sim.login(acc, ip, device, sim.ts())
        sim.fund(acc, "deposit", "bank", bank, rng.lognormal(6, 1))
    sim.label(members, "benign_household", "benign")

"""Planted accounts whose subject is their orders: spoofers, unauthorized bots and the honest
quoting accounts that look like them at a glance (quick cancels, large orders, API channel).

Spoofers bait and switch: large orders on one side near the touch, the account's own small
fill on the other side while they rest (or just after), then the bait is pulled. Quoting
accounts cancel as quickly and as often, with sizes far above the symbol's typical order, but
quote both sides in the sizes they trade. Unauthorized bots ping equal-sized orders in and out.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from synth.orderflow import API, CANCELLED, FILLED, PARTIAL, WEB

if TYPE_CHECKING:
    from synth.generator import _Sim

DAY = 86_400_000


def approve_api(sim: _Sim, acc: int, approved: bool) -> None:
    sim.api[acc] = approved
    sim.t.accounts["api_authorized"][acc] = "true" if approved else "false"


def spoofer(sim: _Sim, approved: bool) -> None:
    """Episodes of bait and switch: a small genuine order rests on one side; 1-5 price levels
    of orders 10-60x its size go up on the other side 0.3-8 s before it fills; the bait is
    pulled 20-1,500 ms after the fill (in a fifth of episodes up to 800 ms before it: the fill
    follows the pulled wall). An approved account sends everything through the API."""
    rng, mm = sim.rng, sim.market_makers
    acc = sim.take(1)[0]
    approve_api(sim, acc, approved)
    channel = API if approved else WEB
    start = sim.end - sim.cfg.days * DAY
    sym = int(rng.integers(0, 5))
    ref = float(sim.prices[sym])
    days = rng.choice(sim.cfg.days, int(rng.integers(2, 4)), replace=False)
    for day in sorted(days.tolist()):
        for _ in range(int(rng.integers(4, 9))):
            ts = start + day * DAY + int(rng.integers(60_000, DAY - 60_000))
            buy = bool(rng.random() < 0.7)  # mostly a fake wall of sells to buy cheaper
            price = round(ref * (1 + float(rng.normal(0, 0.002))), 6)
            qty = float(rng.uniform(100, 300)) / ref
            placed = ts - int(rng.integers(10_000, 60_000))
            own = sim.order(
                acc, sym, buy, qty, placed, ts, FILLED, channel, price=price, filled=qty
            )
            other = mm[int(rng.integers(0, len(mm)))]
            if buy:  # the resting buy is hit by a market maker selling
                sim.trade(other, acc, sym, qty, ts, price, taker_buy=False, buy_order=own)
            else:
                sim.trade(acc, other, sym, qty, ts, price, taker_buy=True, sell_order=own)
            lead = int(rng.integers(300, 8_000))
            pulled_first = rng.random() < 0.2
            for level in range(int(rng.integers(1, 6))):
                away = 0.0002 + 0.0006 * level + float(rng.uniform(0, 0.0004))
                at_price = price * (1 + away if buy else 1 - away)
                for _ in range(int(rng.integers(1, 4))):
                    at = ts - lead + int(rng.integers(0, max(lead // 3, 1)))
                    end = (
                        ts - int(rng.integers(0, 800))
                        if pulled_first
                        else ts + int(rng.integers(20, 1_500))
                    )
                    sim.order(
                        acc,
                        sym,
                        not buy,
                        qty * float(rng.uniform(10, 60)),
                        at,
                        max(end, at + 100),
                        CANCELLED,
                        channel,
                        price=at_price,
                    )
    sim.label([acc], "spoofing", "api" if approved else "web")


def bot(sim: _Sim) -> None:
    """Orders at a machine-steady rhythm, alternating sides, half of them filled against
    whoever is on the book, the rest cancelled after three seconds; from an account without
    API approval."""
    rng = sim.rng
    acc = sim.take(1)[0]
    approve_api(sim, acc, False)
    sym = int(rng.integers(0, 8))
    base = sim.ts()
    period = int(rng.integers(1_000, 5_000))
    channel = API if rng.random() < 0.5 else WEB
    qty = 50 / float(sim.prices[sym])
    for j in range(int(rng.integers(300, 800))):
        buy = j % 2 == 1
        placed = base + j * period + int(rng.integers(0, 20))
        if j % 4 not in (0, 3):
            sim.order(acc, sym, buy, qty, placed, placed + 3_000, CANCELLED, channel)
            continue
        ts = placed + int(rng.integers(100, 2_500))
        price = round(float(sim.prices[sym] * (1 + rng.normal(0, 0.002))), 6)
        own = sim.order(acc, sym, buy, qty, placed, ts, FILLED, channel, price=price, filled=qty)
        # A different counterparty each time: a few market makers taking every fill of a
        # burst that alternates sides would look like them trading in lockstep with the bot.
        other = int(rng.integers(0, sim.n - 1))
        other += other >= acc
        if buy:
            sim.trade(other, acc, sym, qty, ts, price, taker_buy=False, buy_order=own)
        else:
            sim.trade(acc, other, sym, qty, ts, price, taker_buy=True, sell_order=own)
    sim.label([acc], "unauthorized_bot", "api" if channel == API else "web")


def quoter(sim: _Sim, variant: str) -> None:
    """An honest API-approved liquidity provider: every 1-4 s it quotes both sides (a quoting
    bot one level, an API market maker 2-4 levels), 10-100x the symbol's typical order, and
    pulls the quotes within 0.2-3 s; about one cycle in twelve a quote is hit (sometimes only
    partly) while the other side still rests and is pulled right after: the switch pattern
    by chance, but two-sided and in the sizes it trades."""
    rng = sim.rng
    acc = sim.take(1)[0]
    approve_api(sim, acc, True)
    levels_max = 1 if variant == "quoting_bot" else 4
    start = sim.end - sim.cfg.days * DAY
    for sym in rng.choice(8, int(rng.integers(1, 3)), replace=False).tolist():
        ref = float(sim.prices[sym])
        base_qty = float(rng.uniform(2_000, 20_000)) / ref
        for day in sorted(
            rng.choice(sim.cfg.days, int(rng.integers(3, 7)), replace=False).tolist()
        ):
            t = start + day * DAY + int(rng.integers(0, DAY // 2))
            for _ in range(int(rng.integers(150, 400))):
                t += int(rng.integers(1_000, 4_000))
                mid = ref * (1 + float(rng.normal(0, 0.002)))
                hit_side = int(rng.integers(0, 2)) if rng.random() < 1 / 12 else -1
                for level in range(int(rng.integers(1, levels_max + 1))):
                    for buy in (True, False):
                        away = 0.0002 + 0.0005 * level
                        price = round(mid * (1 - away if buy else 1 + away), 6)
                        qty = base_qty * float(rng.lognormal(0, 0.3))
                        placed = t + int(rng.integers(0, 50))
                        life = int(rng.integers(200, 3_000))
                        if level == 0 and hit_side == int(buy):
                            _quote_fill(sim, acc, sym, buy, qty, price, placed, life)
                        else:
                            sim.order(
                                acc, sym, buy, qty, placed, placed + life, CANCELLED, API,
                                price=price,
                            )  # fmt: skip
    sim.label([acc], "market_maker", variant)


def _quote_fill(
    sim: _Sim, acc: int, sym: int, buy: bool, qty: float, price: float, placed: int, life: int
) -> None:
    """A quote hit by someone taking it, wholly or in part (the rest is pulled with the cycle)."""
    rng = sim.rng
    share = 1.0 if rng.random() < 0.5 else float(rng.uniform(0.2, 0.9))
    ts = placed + int(rng.integers(10, max(life - 10, 11)))
    status = FILLED if share == 1.0 else PARTIAL
    ended = ts if share == 1.0 else placed + life
    own = sim.order(acc, sym, buy, qty, placed, ended, status, API, price=price, filled=qty * share)
    other = int(rng.integers(0, sim.n - 1))
    other += other >= acc
    if buy:
        sim.trade(other, acc, sym, qty * share, ts, price, taker_buy=False, buy_order=own)
    else:
        sim.trade(acc, other, sym, qty * share, ts, price, taker_buy=True, sell_order=own)

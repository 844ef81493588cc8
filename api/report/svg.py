"""A few SVG drawing primitives for the pack's static charts: no plotting library, nothing
fetched, the same bytes for the same data (a pack is evidence; it must render anywhere, also
printed). Every text is escaped for XML."""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Sequence
from xml.sax.saxutils import escape, quoteattr

PALETTE = (
    "#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2",
    "#7f7f7f", "#bcbd22",
)  # fmt: skip
FONT = "font-family='Helvetica, Arial, sans-serif'"


def colour(i: int) -> str:
    return PALETTE[i % len(PALETTE)]


def num(x: float) -> str:
    return f"{x:.1f}".rstrip("0").rstrip(".")


def attrs(**kw: object) -> str:
    return " ".join(f"{k.rstrip('_').replace('_', '-')}={quoteattr(str(v))}" for k, v in kw.items())


class Canvas:
    """An SVG document built from elements; ``data_uri`` for an ``<img>`` in the pack."""

    def __init__(self, width: int, height: int) -> None:
        self.width, self.height = width, height
        self.parts: list[str] = []

    def add(self, tag: str, content: str | None = None, /, **kw: object) -> None:
        a = attrs(**kw)
        self.parts.append(
            f"<{tag} {a}>{escape(content)}</{tag}>" if content is not None else f"<{tag} {a}/>"
        )

    def text(self, x: float, y: float, text: str, size: int = 11, **kw: object) -> None:
        self.add("text", text, x=num(x), y=num(y), font_size=size, **kw)

    def line(self, x1: float, y1: float, x2: float, y2: float, **kw: object) -> None:
        self.add("line", x1=num(x1), y1=num(y1), x2=num(x2), y2=num(y2), **kw)

    def svg(self) -> str:
        return (
            f"<svg xmlns='http://www.w3.org/2000/svg' width='{self.width}' "
            f"height='{self.height}' viewBox='0 0 {self.width} {self.height}' {FONT}>"
            f"<rect width='100%' height='100%' fill='white'/>{''.join(self.parts)}</svg>"
        )

    def data_uri(self) -> str:
        return "data:image/svg+xml;base64," + base64.b64encode(self.svg().encode()).decode()


class Scale:
    """A linear map from data values to pixels."""

    def __init__(self, lo: float, hi: float, p0: float, p1: float) -> None:
        if hi <= lo:
            lo, hi = lo - 1, hi + 1
        self.lo, self.hi, self.p0, self.p1 = lo, hi, p0, p1

    def __call__(self, v: float) -> float:
        return self.p0 + (v - self.lo) / (self.hi - self.lo) * (self.p1 - self.p0)

    def ticks(self, n: int = 5) -> list[float]:
        return [self.lo + (self.hi - self.lo) * i / n for i in range(n + 1)]


def utc(ms: float, with_date: bool = True) -> str:
    t = dt.datetime.fromtimestamp(ms / 1000, dt.UTC)
    return t.strftime("%Y-%m-%d %H:%M" if with_date else "%H:%M:%S")


def time_axis(c: Canvas, x: Scale, y: float, n: int = 4) -> None:
    """Ticks and UTC labels along the bottom at height ``y``."""
    c.line(x.p0, y, x.p1, y, stroke="#555")
    span = x.hi - x.lo
    ticks = x.ticks(n)
    for k, t in enumerate(ticks):
        px = x(t)
        c.line(px, y, px, y + 4, stroke="#555")
        label = utc(t, with_date=span > 86_400_000 or t == x.lo)
        anchor = "start" if k == 0 else "end" if k == len(ticks) - 1 else "middle"
        c.text(px, y + 16, label, size=10, text_anchor=anchor, fill="#333")


def value_axis(c: Canvas, s: Scale, x: float, n: int = 4, fmt: str = "{:,.4g}") -> None:
    c.line(x, s.p0, x, s.p1, stroke="#555")
    for v in s.ticks(n):
        py = s(v)
        c.line(x - 4, py, x, py, stroke="#555")
        c.text(x - 6, py + 3, fmt.format(v), size=10, text_anchor="end", fill="#333")


def legend(c: Canvas, x: float, y: float, items: Sequence[tuple[str, str]]) -> None:
    """Coloured squares with labels, in rows across the width from (x, y)."""
    px, py = x, y
    for label, fill in items:
        width = 16 + 6.5 * len(label)
        if px + width > c.width - 10:
            px, py = x, py + 16
        c.add("rect", x=num(px), y=num(py - 9), width=10, height=10, fill=fill)
        c.text(px + 14, py, label, size=10)
        px += width + 10

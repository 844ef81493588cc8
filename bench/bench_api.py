"""Load benchmark of the HTTP API: N concurrent clients for S seconds on loopback.

    python bench/bench_api.py --store embedded:DIR [--clients 50] [--seconds 60]
        [--analysts 4] [--deciders 4]

The store must hold an analysed graph (e.g. the one `bench_analysis.py --size M` leaves, or
`make demo ACCOUNTS=100000`). The API runs as `linkscope serve` in its own process; the load
comes from a minimal asyncio HTTP/1.1 keep-alive client (so the load generator takes as little
of the two cores as possible). Prints requests/s and p50/p95/p99 per endpoint and the error
count; writes bench/results/api.json. Goal: group reads p95 < 50 ms, zero errors.

With ``--analysts N``, N analysts (one key each) run a long Cypher query (``--analyst-query``,
~10 s) over and over beside the readers, waiting ``Retry-After`` when answered 429; with
``--deciders N``, N investigators record a decision every ``--decision-every`` seconds. Reported: p95 of group
reads and of decisions while the analysts run, and the analysts' 429 rate.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import defaultdict
from pathlib import Path
from typing import Any

from api.keys import KeyStore


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


MIX = (  # (name, weight)
    ("list groups", 25),
    ("list violations page 2", 10),
    ("group detail", 30),
    ("account -> group", 25),
    ("account profile", 10),
)


class Connection:
    """One keep-alive HTTP/1.1 connection; Content-Length bodies."""

    def __init__(self, port: int, auth: str) -> None:
        self.port, self.auth = port, auth
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def get(self, path: str) -> tuple[int, bytes]:
        return (await self.request("GET", path))[:2]

    async def request(
        self, method: str, path: str, body: Any = None
    ) -> tuple[int, bytes, dict[str, str]]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        assert self.reader is not None
        data = json.dumps(body).encode() if body is not None else b""
        extra = f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n" if data else ""
        self.writer.write(
            f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {self.auth}\r\n{extra}\r\n".encode()
            + data
        )
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = {
            k.strip().lower(): v.strip() for k, _, v in (x.partition(":") for x in lines[1:])
        }
        length = int(headers["content-length"])
        return status, await self.reader.readexactly(length), headers


def _get(port: int, auth: str, path: str) -> Any:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}", headers={"Authorization": f"Bearer {auth}"}
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())


async def _client(
    port: int,
    auth: str,
    targets: dict[str, list[str]],
    until: float,
    seed: int,
    out: dict[str, list[float]],
    errors: dict[str, int],
) -> None:
    rng = random.Random(seed)
    conn = Connection(port, auth)
    names = [n for n, _ in MIX]
    weights = [w for _, w in MIX]
    while time.perf_counter() < until:
        name = rng.choices(names, weights)[0]
        path = rng.choice(targets[name])
        started = time.perf_counter()
        try:
            status, _ = await conn.get(path)
        except (OSError, asyncio.IncompleteReadError):
            status, conn = 599, Connection(port, auth)
        out[name].append(time.perf_counter() - started)
        if status != 200:
            errors[name] += 1


ANALYST_QUERY = "UNWIND range(1, 7000) AS x UNWIND range(1, 7000) AS y RETURN count(*)"  # ~9 s idle


async def _analyst(
    port: int, auth: str, query: str, until: float, out: list[float], statuses: list[int]
) -> None:
    while time.perf_counter() < until:
        # A new connection each time: after a Retry-After pause uvicorn has closed an idle one.
        conn = Connection(port, auth)
        started = time.perf_counter()
        try:
            status, _, headers = await conn.request(
                "POST", "/v1/cypher", {"query": query, "timeout_ms": 30_000}
            )
        except (OSError, asyncio.IncompleteReadError):
            status, headers = 599, {}
        finally:
            if conn.writer is not None:
                conn.writer.close()
        statuses.append(status)
        if status == 429:
            await asyncio.sleep(float(headers.get("retry-after", "1")))
        else:
            out.append(time.perf_counter() - started)


async def _decider(
    port: int, auth: str, groups: list[str], until: float, seed: int, out: list[float],
    errors: dict[str, int], every: float,
) -> None:  # fmt: skip
    rng = random.Random(seed)
    while time.perf_counter() < until:
        conn = Connection(port, auth)  # uvicorn closes a connection idle for 5 s
        started = time.perf_counter()
        try:
            status, _, _ = await conn.request(
                "POST",
                f"/v1/groups/{rng.choice(groups)}/decisions",
                {"decision": "escalate", "note": "bench"},
            )
        except (OSError, asyncio.IncompleteReadError):
            status = 599
        finally:
            if conn.writer is not None:
                conn.writer.close()
        out.append(time.perf_counter() - started)
        if status != 201:
            errors["decision"] += 1
        await asyncio.sleep(every)


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000 if ordered else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", required=True)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--warmup", type=float, default=10, help="Seconds of load not measured.")
    parser.add_argument("--analysts", type=int, default=0, help="Analysts running long Cypher.")
    parser.add_argument("--analyst-query", default=ANALYST_QUERY)
    parser.add_argument(
        "--deciders", type=int, default=0, help="Investigators recording decisions."
    )
    parser.add_argument("--decision-every", type=float, default=5.0, help="Seconds between them.")
    parser.add_argument("--out", default="api.json", help="File name under bench/results.")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-api-"))
    keys = KeyStore(tmp / "keys.json")
    _, auth = keys.create("admin", "bench")
    analyst_keys = [keys.create("analyst", f"bench analyst {i}")[1] for i in range(args.analysts)]
    decider_keys = [keys.create("investigator", f"bench {i}")[1] for i in range(args.deciders)]
    port = free_port()
    env = {**os.environ, "LINKSCOPE_KEYS_FILE": str(tmp / "keys.json")}
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "cli.main",
            "serve",
            "--port",
            str(port),
            "--store",
            args.store,
            "--workers",
            str(args.workers),
        ],
        env=env,
    )
    try:
        deadline = time.monotonic() + 300
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/ready", timeout=5)
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise SystemExit("the API did not become ready") from None
                time.sleep(0.5)
        first = _get(port, auth, "/v1/groups?limit=200")
        groups = [g["group_id"] for g in first["items"]]
        violations = _get(port, auth, "/v1/groups?verdict=violation&limit=20")
        members = [
            m["account_id"]
            for gid in groups[:40]
            for m in _get(port, auth, f"/v1/groups/{gid}")["members"]
        ]
        targets = {
            "list groups": [
                "/v1/groups?limit=50",
                "/v1/groups?verdict=violation&limit=50",
                "/v1/groups?min_score=0.5&limit=50",
            ],
            "list violations page 2": [f"/v1/groups?cursor={violations['next_cursor']}&limit=20"]
            if violations["next_cursor"]
            else ["/v1/groups?limit=20"],
            "group detail": [f"/v1/groups/{g}" for g in groups],
            "account -> group": [f"/v1/accounts/{a}/group" for a in members],
            "account profile": [f"/v1/accounts/{a}" for a in members],
        }
        latencies: dict[str, list[float]] = defaultdict(list)
        errors: dict[str, int] = defaultdict(int)
        analyst_times: list[float] = []
        analyst_statuses: list[int] = []

        async def run(seconds: float, others: bool) -> None:
            until = time.perf_counter() + seconds
            await asyncio.gather(
                *(
                    _client(port, auth, targets, until, i, latencies, errors)
                    for i in range(args.clients)
                ),
                *(
                    _analyst(port, key, args.analyst_query, until, analyst_times, analyst_statuses)
                    for key in (analyst_keys if others else [])
                ),
                *(
                    _decider(
                        port,
                        key,
                        groups,
                        until,
                        i,
                        latencies["decision"],
                        errors,
                        args.decision_every,
                    )
                    for i, key in enumerate(decider_keys if others else [])
                ),
            )

        asyncio.run(run(args.warmup, others=False))  # fills the caches, as steady traffic would
        latencies.clear()
        errors.clear()
        started = time.perf_counter()
        asyncio.run(run(args.seconds, others=True))
        elapsed = time.perf_counter() - started
    finally:
        server.terminate()
        server.wait(timeout=30)
    rows = {}
    for name in [n for n, _ in MIX] + (["decision"] if args.deciders else []):
        values = latencies[name]
        rows[name] = {
            "requests": len(values),
            "rps": round(len(values) / elapsed, 1),
            "p50_ms": round(_pct(values, 0.50), 1),
            "p95_ms": round(_pct(values, 0.95), 1),
            "p99_ms": round(_pct(values, 0.99), 1),
            "errors": errors[name],
        }
    total = sum(r["requests"] for r in rows.values())
    result = {
        "clients": args.clients,
        "workers": args.workers,
        "seconds": round(elapsed, 1),
        "requests_per_s": round(total / elapsed, 1),
        "errors": sum(errors.values()),
        "endpoints": rows,
        "group_reads_p95_ms_worst": max(
            rows[n]["p95_ms"] for n in ("group detail", "list groups", "account -> group")
        ),
        "goal_p95_ms": 50,
    }
    if args.deciders:
        result["decisions_p95_ms"] = rows["decision"]["p95_ms"]
    if args.analysts:
        answered = [s for s in analyst_statuses if s != 429]
        result["analysts"] = {
            "analysts": args.analysts,
            "query": args.analyst_query,
            "requests": len(analyst_statuses),
            "rate_429": round(analyst_statuses.count(429) / max(1, len(analyst_statuses)), 3),
            "statuses": {str(s): analyst_statuses.count(s) for s in sorted(set(analyst_statuses))},
            "answered_p50_s": round(_pct(analyst_times, 0.5) / 1000, 2),
            "answered": len(answered),
        }
    print(f"{'endpoint':<26}{'req/s':>8}{'p50':>8}{'p95':>8}{'p99':>8}{'errors':>8}")
    for name, r in rows.items():
        print(
            f"{name:<26}{r['rps']:>8}{r['p50_ms']:>8}{r['p95_ms']:>8}{r['p99_ms']:>8}{r['errors']:>8}"
        )
    print(json.dumps({k: v for k, v in result.items() if k != "endpoints"}))
    out = Path(__file__).parent / "results" / args.out
    out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()

"""One settings class for the whole application, read from ``LINKSCOPE_*`` variables."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Literal, Self

from pydantic import AwareDatetime, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Runtime configuration. Secrets have no defaults."""

    model_config = SettingsConfigDict(env_prefix="LINKSCOPE_", extra="ignore")

    store: str = Field(
        default="embedded:.linkscope/graph",
        description="Graph store URL: embedded:PATH (FalkorDB, default) or bolt://, neo4j:// (Neo4j 5).",
    )
    graph_name: str = Field(
        default="linkscope", description="Graph (FalkorDB) or database (Neo4j) name."
    )
    neo4j_user: str = Field(default="neo4j", description="Neo4j user name.")
    neo4j_password: SecretStr | None = Field(
        default=None, description="Neo4j password; required for bolt:// and neo4j:// stores."
    )
    neo4j_password_file: Path | None = Field(
        default=None,
        description="File holding the Neo4j password (a Docker or Kubernetes secret), instead "
        "of LINKSCOPE_NEO4J_PASSWORD; one trailing newline is ignored.",
    )
    query_timeout_ms: int = Field(
        default=30_000, ge=100, description="Time limit for read-only (user-written) queries."
    )
    socket_timeout_s: float = Field(
        default=600.0, gt=0, description="Client socket timeout for long batch writes."
    )
    batch_size: int = Field(
        default=40_000,
        ge=100,
        le=200_000,
        description="Rows per write batch (40k measured best at 100k accounts).",
    )
    events_dir: str | None = Field(
        default=None,
        description="Event store folder (fills and orders as Parquet); default beside the "
        "embedded graph, <PATH>/events/<graph name>, or .linkscope/events/<database> for Neo4j.",
    )
    pair_min_trades: int = Field(
        default=2,
        ge=1,
        description="Fills a (seller, buyer, symbol) pair needs before it becomes a TRADES_WITH "
        "relationship in the graph; one-off counterparties stay in the event store only.",
    )
    events_memory_limit: str = Field(
        default="2GB",
        description="Memory DuckDB may use for event-store loads and scans (spills beyond it).",
    )
    engine: Literal["embedded", "spark"] = Field(
        default="embedded",
        description="Engine of the analysis stages that grow with fills and orders: embedded "
        "(DuckDB, pyarrow, numpy in the analysis process) or spark (Apache Spark over the event "
        "store's Parquet; needs linkscope[spark] and Java 17).",
    )
    spark_master: str = Field(
        default="local[*]",
        description="Spark master for --engine spark: local[N] in this process, "
        "spark://host:7077 or yarn for a cluster, sc://host:15002 for Spark Connect.",
    )
    spark_driver_memory: str = Field(
        default="2g", description="Spark driver memory (local mode: the whole Spark process)."
    )
    spark_shuffle_partitions: int = Field(
        default=8, ge=1, description="spark.sql.shuffle.partitions of the analysis session."
    )
    spark_event_log_dir: str | None = Field(
        default=None,
        description="Folder for Spark's event log (stage and shuffle metrics); none by default.",
    )
    keys_file: str = Field(
        default=".linkscope/keys.json",
        description="API keys (hashed, with their roles); written by `linkscope keys`.",
    )
    api_store_timeout_s: float = Field(
        default=15.0,
        gt=0,
        description="Socket timeout of the API's store connection: a stuck store answers 503.",
    )
    cypher_max_rows: int = Field(
        default=5_000, ge=1, description="Rows returned by POST /v1/cypher at most."
    )
    cypher_max_timeout_ms: int = Field(
        default=60_000, ge=100, description="Longest time limit a Cypher request may ask for."
    )
    cypher_max_bytes: int = Field(
        default=16_000_000,
        ge=1_000,
        description="Reply bytes POST /v1/cypher reads from the store at most (then truncated).",
    )
    cypher_concurrency: int = Field(
        default=1,
        ge=1,
        description="Cypher requests running at once in the whole API (all worker processes).",
    )
    cypher_per_caller: int = Field(
        default=1, ge=1, description="Cypher requests one key may run at once."
    )
    cypher_queue_ms: int = Field(
        default=2_000,
        ge=0,
        description="How long a Cypher request waits for a free slot before it gets 429.",
    )
    cypher_snapshot_s: int = Field(
        default=300,
        ge=0,
        description="POST /v1/cypher on the embedded store reads a copy of the graph at most "
        "this old, so long queries never hold up writes (0: the live graph).",
    )
    query_memory_mb: int = Field(
        default=2_048,
        ge=0,
        description="Memory one query may use in the embedded store (QUERY_MEM_CAPACITY; 0: no limit).",
    )
    store_threads: int = Field(
        default=0,
        ge=0,
        description="Query threads of an embedded store this process starts "
        "(0: CPU count + cypher_concurrency, room for the analysts' queries beside the hot reads).",
    )
    chromium: str | None = Field(
        default=None,
        description="Chromium (or Chrome) executable that prints evidence packs as PDF; "
        "default: chromium, chromium-browser or google-chrome on PATH.",
    )
    max_body_bytes: int = Field(
        default=1_000_000, ge=1_000, description="Largest request body the API accepts (413)."
    )
    webhook_poll_s: float = Field(
        default=1.0,
        ge=0,
        description="How often the API's webhook dispatcher looks for new changes (0: no "
        "deliveries from this process).",
    )
    webhook_backoff_s: float = Field(
        default=2.0,
        gt=0,
        description="First retry delay of a failed webhook delivery; doubled each attempt.",
    )
    webhook_max_attempts: int = Field(
        default=8,
        ge=1,
        description="Attempts per change before a webhook delivery is given up (logged).",
    )
    webhook_timeout_s: float = Field(
        default=5.0, gt=0, description="Time a webhook receiver has to answer one delivery."
    )
    ingest_max_number: float = Field(
        default=1e15,
        gt=0,
        description="Largest price, quantity or amount an input row may hold; larger is quarantined.",
    )
    ingest_max_notional: float = Field(
        default=1e15,
        gt=0,
        description="Largest price * qty of a trade or order; larger is quarantined.",
    )
    ingest_earliest_ts: AwareDatetime = Field(
        default=datetime(2009, 1, 1, tzinfo=UTC),
        description="Earliest plausible timestamp in input rows; earlier is quarantined.",
    )
    ingest_future_tolerance_s: float = Field(
        default=86_400.0,
        ge=0,
        description="How far past now an input timestamp may lie; later is quarantined.",
    )
    ingest_max_record_bytes: int = Field(
        default=1 << 20,
        ge=1024,
        description="Longest input line (and CSV field) in bytes; a longer row is quarantined.",
    )

    case_sla_hours: dict[str, float] = Field(
        default={"violation": 72.0, "suspected": 168.0, "cleared": 336.0, "manual": 168.0},
        description="Hours a case may stay unclosed before it is overdue, by the verdict of its "
        "group (manual: a case on accounts without a group), as JSON, e.g. "
        '{"violation": 24, "suspected": 72}; a verdict left out falls back to manual.',
    )

    @model_validator(mode="after")
    def _password_from_file(self) -> Self:
        if self.neo4j_password_file is None:
            return self
        if self.neo4j_password is not None:
            raise ValueError("set LINKSCOPE_NEO4J_PASSWORD or LINKSCOPE_NEO4J_PASSWORD_FILE, not both")
        try:
            text = self.neo4j_password_file.read_text(encoding="utf-8")
        except OSError as exc:
            raise ValueError(f"cannot read LINKSCOPE_NEO4J_PASSWORD_FILE: {exc}") from exc
        # Files written by `echo` or an editor end in a newline that is not part of the secret.
        password = text.removesuffix("\n").removesuffix("\r")
        if not password:
            raise ValueError(f"LINKSCOPE_NEO4J_PASSWORD_FILE {self.neo4j_password_file} is empty")
        self.neo4j_password = SecretStr(password)
        return self


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings; tests build their own ``Settings`` instead."""
    return Settings()

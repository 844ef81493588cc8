"""The few places where FalkorDB and Neo4j 5 Cypher differ: schema DDL.

Every other statement linkscope sends is written once, in the subset both engines run.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Dialect(enum.Enum):
    FALKORDB = "falkordb"
    NEO4J = "neo4j"


@dataclass(frozen=True)
class NodeIndex:
    label: str
    prop: str
    unique: bool = True


def index_statement(dialect: Dialect, index: NodeIndex) -> str:
    """DDL that creates an index on ``label.prop`` (a uniqueness constraint on Neo4j)."""
    if dialect is Dialect.NEO4J:
        name = f"{index.label.lower()}_{index.prop}"
        if index.unique:
            return (
                f"CREATE CONSTRAINT {name} IF NOT EXISTS FOR (n:{index.label}) "
                f"REQUIRE n.{index.prop} IS UNIQUE"
            )
        return f"CREATE INDEX {name} IF NOT EXISTS FOR (n:{index.label}) ON (n.{index.prop})"
    # FalkorDB has no IF NOT EXISTS; the backend treats "already indexed" as success.
    return f"CREATE INDEX FOR (n:{index.label}) ON (n.{index.prop})"


def is_already_indexed_error(message: str) -> bool:
    text = message.lower()
    return "already indexed" in text or "already exists" in text

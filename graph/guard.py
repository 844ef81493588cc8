"""What a query written by a person may do: read the graph, nothing outside it.

The check works on the engine's own plan of the query (FalkorDB ``GRAPH.EXPLAIN``, Neo4j
``EXPLAIN``), never on its text: case, comments, whitespace or a URL built from pieces do not
change the operators the engine will run. A plan is refused when it loads a file or URL
(FalkorDB ``Load CSV``, Neo4j ``LoadCSV``) or calls a procedure outside the allow-list below.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from linkscope.errors import QueryRefused

# Operators that read outside the graph, by normalised name (lower case, no spaces or "_").
OUTSIDE_OPERATORS = frozenset({"loadcsv"})
PROCEDURE_OPERATORS = frozenset({"procedurecall", "eagerprocedurecall"})

# Read-only procedures over the graph itself. Anything else (APOC's load.*, file or URL
# readers, procedures a future engine adds) is refused until someone reviews and adds it.
ALLOWED_PROCEDURES = frozenset(
    {
        "db.labels",
        "db.relationshiptypes",
        "db.propertykeys",
        "db.indexes",
        "db.constraints",
        "db.meta.stats",
        "db.schema.visualization",
        "db.schema.nodetypeproperties",
        "db.schema.reltypeproperties",
        "db.idx.fulltext.querynodes",
        "db.idx.fulltext.queryrelationships",
        "db.idx.vector.querynodes",
        "db.idx.vector.queryrelationships",
        "db.idx.cch.query",
        "dbms.procedures",
        "dbms.functions",
    }
)
ALLOWED_PROCEDURE_PREFIXES = ("algo.",)  # FalkorDB's graph algorithms, all read-only


@dataclass(frozen=True)
class PlanStep:
    """One operator of a query plan; ``procedure`` is set when the engine names it."""

    operator: str
    procedure: str | None = None


def normalise(operator: str) -> str:
    return operator.split("@")[0].replace(" ", "").replace("_", "").lower()


def procedure_allowed(name: str) -> bool:
    lowered = name.lower()
    return lowered in ALLOWED_PROCEDURES or lowered.startswith(ALLOWED_PROCEDURE_PREFIXES)


def check_plan(steps: Iterable[PlanStep], *, unnamed_procedures_ok: bool = False) -> None:
    """Raise ``QueryRefused`` unless every step stays inside the graph.

    ``unnamed_procedures_ok``: the engine does not name the procedure in its plan (FalkorDB) and
    the backend has checked that every procedure the engine offers is on the allow-list.
    """
    for step in steps:
        kind = normalise(step.operator)
        if kind in OUTSIDE_OPERATORS:
            raise QueryRefused("queries may not load files or URLs (LOAD CSV)")
        if kind in PROCEDURE_OPERATORS:
            if step.procedure is None:
                if not unnamed_procedures_ok:
                    raise QueryRefused("this procedure call is not allowed in user queries")
            elif not procedure_allowed(step.procedure):
                raise QueryRefused(f"procedure {step.procedure} is not allowed in user queries")

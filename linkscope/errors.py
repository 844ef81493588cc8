"""One exception root; each subclass carries the HTTP status an API would answer with."""

from __future__ import annotations


class LinkscopeError(Exception):
    """Root of every error linkscope raises on purpose."""

    status_code = 500
    code = "internal_error"


class ConfigError(LinkscopeError):
    status_code = 500
    code = "config_error"


class StoreUnavailable(LinkscopeError):
    """The graph store cannot be reached."""

    status_code = 503
    code = "store_unavailable"


class QueryError(LinkscopeError):
    """The store refused a query (syntax, semantics)."""

    status_code = 400
    code = "query_error"


class ReadOnlyViolation(QueryError):
    """A read-only query tried to write; refused by the engine."""

    code = "read_only"


class QueryTimeout(LinkscopeError):
    status_code = 408
    code = "query_timeout"


class InputError(LinkscopeError):
    """Input files unusable as a whole (missing, unreadable, no required file)."""

    status_code = 422
    code = "input_error"


class Busy(LinkscopeError):
    """Another writer holds the store (e.g. a second ingest into the same embedded store)."""

    status_code = 409
    code = "busy"


class Unauthenticated(LinkscopeError):
    """No API key, or one that is unknown or revoked."""

    status_code = 401
    code = "unauthenticated"


class Forbidden(LinkscopeError):
    """The caller's role may not do this."""

    status_code = 403
    code = "forbidden"


class NotFound(LinkscopeError):
    status_code = 404
    code = "not_found"


class Gone(LinkscopeError):
    """A pagination cursor whose analysis run has been pruned."""

    status_code = 410
    code = "cursor_expired"


class QueryRefused(QueryError):
    """A user query whose plan reaches outside the graph (files, URLs, unknown procedures)."""

    code = "query_refused"


class QueryMemoryExceeded(QueryError):
    """The engine stopped a query at its per-query memory limit."""

    code = "query_memory_exceeded"


class TooManyRequests(LinkscopeError):
    """The caller (or everyone together) already runs as many queries as allowed."""

    status_code = 429
    code = "too_many_requests"

    def __init__(self, message: str, retry_after_s: int) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class PayloadTooLarge(LinkscopeError):
    status_code = 413
    code = "payload_too_large"


class Conflict(LinkscopeError):
    """The thing changed under the caller: already claimed, already decided, wrong state."""

    status_code = 409
    code = "conflict"


class ApprovalRequired(Conflict):
    """A sanction recorded without the approved proposal four-eyes requires."""

    code = "approval_required"


class SameApprover(Forbidden):
    """Four eyes: the key that proposed a sanction may not approve or reject it."""

    code = "four_eyes"

"""The engine the settings name (``LINKSCOPE_ENGINE``, ``linkscope analyze --engine``)."""

from __future__ import annotations

from analytics.engines.base import Engine
from analytics.engines.embedded import EmbeddedEngine
from linkscope.errors import InputError
from linkscope.settings import Settings


def engine_for(settings: Settings) -> Engine:
    if settings.engine == "embedded":
        return EmbeddedEngine()
    try:
        from analytics.engines.spark import SparkEngine
    except ImportError as exc:  # pyspark is an optional extra
        raise InputError(
            f"--engine spark needs pyspark: pip install 'linkscope[spark]' ({exc})"
        ) from exc
    return SparkEngine.from_settings(settings)

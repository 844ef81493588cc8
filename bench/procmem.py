"""Memory figures of a process from /proc (Linux): current RSS and its high-water mark."""

from __future__ import annotations

from pathlib import Path


def proc_mb(field: str, pid: int | str | None = "self") -> float:
    """``VmRSS`` (now) or ``VmHWM`` (peak) of a process, in MiB; 0 when unknown."""
    if not pid:
        return 0.0
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError:
        return 0.0
    for line in lines:
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


def reset_peak() -> None:
    """Reset this process' VmHWM to its current RSS, so the next peak is one stage's own."""
    Path("/proc/self/clear_refs").write_text("5")

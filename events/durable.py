"""Files that land whole: written aside, then renamed over the old one, so that a reader (and,
when fsynced, a crash of the machine) finds the old file or the new one, never a mix."""

from __future__ import annotations

import os
from pathlib import Path


def fsync_dir(path: Path) -> None:
    """Make the directory's entries (a rename into it) survive a crash of the machine."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def replace(tmp: Path, target: Path, *, durable: bool = True) -> None:
    """Rename a written file over ``target``; ``durable``: its bytes and the rename fsynced."""
    if durable:
        with tmp.open("rb+") as handle:
            os.fsync(handle.fileno())
    os.replace(tmp, target)
    if durable:
        fsync_dir(target.parent)

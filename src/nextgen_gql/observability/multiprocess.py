"""The folder prometheus-client's multiprocess mode shares between a server's processes.

Kept apart from ``metrics`` because ``serve`` must prepare it before prometheus-client is
first imported (the library picks its mode at import).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

__all__ = ["MULTIPROC_ENV", "clean_multiprocess_dir", "multiprocess_dir", "prepare_multiprocess_dir"]

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


def multiprocess_dir() -> Path | None:
    found = os.environ.get(MULTIPROC_ENV)
    return Path(found) if found else None


def prepare_multiprocess_dir() -> tuple[Path, bool]:
    """The folder the processes share, empty, named in ``PROMETHEUS_MULTIPROC_DIR``.

    The operator's ``PROMETHEUS_MULTIPROC_DIR`` if set (made if missing, emptied of metric
    files), else a new temporary folder. Returns it and whether it was made here."""
    given = multiprocess_dir()
    if given is None:
        made = Path(tempfile.mkdtemp(prefix="nextgen-gql-metrics-"))
        os.environ[MULTIPROC_ENV] = str(made)
        return made, True
    given.mkdir(parents=True, exist_ok=True)
    for stale in given.glob("*.db"):
        stale.unlink(missing_ok=True)
    return given, False


def clean_multiprocess_dir(path: Path, made: bool) -> None:
    """After serving: remove the folder made here (and its name from the environment, so that
    the process, if it goes on, counts in its own registry again), or the metric files of the
    operator's one."""
    if made:
        shutil.rmtree(path, ignore_errors=True)
        if os.environ.get(MULTIPROC_ENV) == str(path):
            del os.environ[MULTIPROC_ENV]
    else:
        for left in path.glob("*.db"):
            left.unlink(missing_ok=True)

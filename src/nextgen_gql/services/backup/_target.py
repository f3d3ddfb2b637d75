"""The backup's output file: checked before anything runs, written beside itself, put in place last."""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
from pathlib import Path
from types import TracebackType

__all__ = ["BackupFailed", "BackupRefused", "Target"]


class BackupRefused(ValueError):
    """The backup cannot start (output, database, tools); nothing was written."""


class BackupFailed(RuntimeError):
    """The backup started and failed; nothing was left at the output."""


#: What SQLite may leave beside a database file it wrote (the temporary copy's, removed with it).
_SIDE_FILES = ("-journal", "-wal", "-shm")


class Target:
    """``output``, written as a temporary file in its folder (``temporary``) and moved into place
    by ``commit``. Leaving the ``with`` block without a commit removes the temporary file.

    Refused at once (``BackupRefused``): an existing ``output`` without ``force``; a folder,
    a file of the database itself (``not_over``, even with ``force``), or a place where no file can be made (no such folder,
    no permission, a read-only file system: tried, not guessed, by making the temporary file).
    """

    def __init__(self, output: Path, *, force: bool, not_over: dict[Path, str] | None = None) -> None:
        self.output = output
        self.force = force
        if output.is_dir():
            raise BackupRefused(f"--output: {output} is a folder; name the file to write")
        for path, what in (not_over or {}).items():
            if output.exists() and path.exists() and os.path.samefile(output, path):
                raise BackupRefused(f"--output: {output} is {what}; name another file")
        if output.exists() and not force:
            raise BackupRefused(f"--output: {output} exists; add --force to replace it")
        folder = output.parent
        self.temporary = folder / f".{output.name}.{os.getpid()}.{secrets.token_hex(4)}.partial"
        try:
            fd = os.open(self.temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except OSError as exc:
            reason = exc.strerror or str(exc)
            if exc.errno == errno.ENOENT:
                reason = f"no such folder: {folder}"
            raise BackupRefused(f"--output: cannot write {output} ({reason})") from None
        os.close(fd)
        self._committed = False

    def __enter__(self) -> Target:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if not self._committed:
            self.discard()

    def discard(self) -> None:
        for path in (self.temporary, *(Path(f"{self.temporary}{side}") for side in _SIDE_FILES)):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()

    def commit(self) -> int:
        """Put the finished file in place (durably); its size in bytes.

        Without ``force`` it is linked in, which fails if a file appeared there meanwhile: that
        file is kept and the backup refused. With ``force`` it replaces the file atomically.
        """
        with open(self.temporary, "rb+") as written:
            os.fsync(written.fileno())
            size = os.fstat(written.fileno()).st_size
        if self.force:
            os.replace(self.temporary, self.output)
        else:
            try:
                os.link(self.temporary, self.output)
            except FileExistsError:
                raise BackupRefused(
                    f"--output: {self.output} appeared while the backup ran; it was kept, and the backup "
                    "discarded (add --force to replace it)"
                ) from None
            except OSError:
                # A file system without hard links: the check above and a rename.
                if self.output.exists():
                    raise BackupRefused(
                        f"--output: {self.output} exists; add --force to replace it"
                    ) from None
                os.rename(self.temporary, self.output)
            else:
                self.temporary.unlink()
        self._committed = True
        self._sync_folder()
        return size

    def _sync_folder(self) -> None:
        with contextlib.suppress(OSError):
            fd = os.open(self.output.parent, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)

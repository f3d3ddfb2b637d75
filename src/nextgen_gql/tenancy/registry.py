"""The courts the service serves, and how a request finds its court in constant time."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Mapping

from nextgen_gql.tenancy.courts import Court

__all__ = ["CourtRegistry", "UnknownCourt"]


class UnknownCourt(LookupError):
    """A request named a court the service does not serve."""

    def __init__(self, code: str) -> None:
        super().__init__(f"Unknown court {code!r}.")
        self.code = code


class CourtRegistry:
    """The courts served, by code and by host (both look-ups are dictionary hits), and the
    retired ones, which are not served but still describe the data kept in them.

    A registry never changes: when the catalog does (``services.court_catalog``), a new one
    replaces it, with the catalog's ``version``.
    """

    def __init__(
        self,
        courts: Iterable[Court],
        *,
        version: int = 0,
        retired: Mapping[str, tuple[Court, dt.datetime]] | None = None,
    ) -> None:
        self.version = version
        self._by_code: dict[str, Court] = {}
        self._by_host: dict[str, Court] = {}
        for court in sorted(courts, key=lambda c: c.code):
            self._by_code[court.code] = court
            for host in court.hosts:
                self._by_host[host] = court
        self.retired: Mapping[str, tuple[Court, dt.datetime]] = dict(retired or {})

    def __iter__(self) -> Iterator[Court]:
        return iter(self._by_code.values())

    def __len__(self) -> int:
        return len(self._by_code)

    def __contains__(self, code: object) -> bool:
        return code in self._by_code

    @property
    def by_code(self) -> Mapping[str, Court]:
        return self._by_code

    def serve(self, code: str) -> Court:
        """The served court with this code (any case); raises :class:`UnknownCourt` (also for
        a retired court). What addresses a request or a command to a court uses."""
        court = self._by_code.get(code.strip().lower())
        if court is None:
            raise UnknownCourt(code)
        return court

    def get(self, code: str) -> Court:
        """The court with this code, served or retired: what describes data kept in a court
        (a privilege's court, an audit event's). Raises :class:`UnknownCourt` for neither."""
        key = code.strip().lower()
        court = self._by_code.get(key)
        if court is None:
            kept = self.retired.get(key)
            if kept is None:
                raise UnknownCourt(code)
            return kept[0]
        return court

    def find(self, code: str) -> Court | None:
        """``get``, or None."""
        try:
            return self.get(code)
        except UnknownCourt:
            return None

    def for_host(self, host: str | None) -> Court | None:
        """The court served at ``host`` (port ignored), or None for the national endpoint."""
        if not host:
            return None
        name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
        return self._by_host.get(name.strip().lower().rstrip("."))

    def resolve(self, *, path_code: str | None, header_code: str | None, host: str | None) -> Court | None:
        """The court a request is addressed to: by path, then ``X-Court``, then ``Host``.

        Raises :class:`UnknownCourt` when a path or header names no court we serve, and
        :class:`ValueError` when the path and the header name different courts.
        """
        path_court = self.serve(path_code) if path_code else None
        header_court = self.serve(header_code) if header_code else None
        if path_court and header_court and path_court is not header_court:
            raise ValueError(
                f"The path addresses {path_court.code!r} but X-Court says {header_court.code!r}."
            )
        return path_court or header_court or self.for_host(host)

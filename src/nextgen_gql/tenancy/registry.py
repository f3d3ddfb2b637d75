"""The courts the service serves, and how a request finds its court in constant time."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping

from nextgen_gql.tenancy.courts import Court

__all__ = ["CourtRegistry", "UnknownCourt"]


class UnknownCourt(LookupError):
    """A request named a court the service does not serve."""

    def __init__(self, code: str) -> None:
        super().__init__(f"Unknown court {code!r}.")
        self.code = code


class CourtRegistry:
    """Courts by code and by host; both look-ups are dictionary hits."""

    def __init__(self, courts: Iterable[Court]) -> None:
        self._by_code: dict[str, Court] = {}
        self._by_host: dict[str, Court] = {}
        for court in sorted(courts, key=lambda c: c.code):
            self._by_code[court.code] = court
            for host in court.hosts:
                self._by_host[host] = court

    def __iter__(self) -> Iterator[Court]:
        return iter(self._by_code.values())

    def __len__(self) -> int:
        return len(self._by_code)

    def __contains__(self, code: object) -> bool:
        return code in self._by_code

    @property
    def by_code(self) -> Mapping[str, Court]:
        return self._by_code

    def get(self, code: str) -> Court:
        """The court with this code (any case); raises :class:`UnknownCourt`."""
        court = self._by_code.get(code.strip().lower())
        if court is None:
            raise UnknownCourt(code)
        return court

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
        path_court = self.get(path_code) if path_code else None
        header_court = self.get(header_code) if header_code else None
        if path_court and header_court and path_court is not header_court:
            raise ValueError(
                f"The path addresses {path_court.code!r} but X-Court says {header_court.code!r}."
            )
        return path_court or header_court or self.for_host(host)

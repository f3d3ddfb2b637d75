"""The orders of a clerk's lists: GitHub's shape, ``orderBy: {field, direction}``."""

from __future__ import annotations

from enum import Enum

import strawberry

__all__ = [
    "CmecfAccountOrder",
    "CmecfAccountOrderField",
    "OrderDirection",
    "RegistrationOrder",
    "RegistrationOrderField",
]


@strawberry.enum(description="Ascending or descending.")
class OrderDirection(Enum):
    ASC = strawberry.enum_value("asc", description="Smallest first: A to Z, oldest first.")
    DESC = strawberry.enum_value("desc", description="Largest first: Z to A, newest first.")


@strawberry.enum(description="What a court's legacy roster can be ordered by (ties by the row's id).")
class CmecfAccountOrderField(Enum):
    LOGIN = strawberry.enum_value("login", description="The legacy login, in any case (the default order).")
    LAST_NAME = strawberry.enum_value(
        "last_name", description="The last name, compared case-insensitively (case-folded)."
    )
    LINKED_AT = strawberry.enum_value(
        "linked_at", description="When it was linked; unlinked accounts come last in either direction."
    )


@strawberry.input(description="An order of the legacy roster.")
class CmecfAccountOrder:
    field: CmecfAccountOrderField = strawberry.field(description="What to order by.")
    direction: OrderDirection = strawberry.field(description="Ascending or descending.")


@strawberry.enum(description="What a court's registrations can be ordered by (ties by the row's id).")
class RegistrationOrderField(Enum):
    SUBMITTED_AT = strawberry.enum_value("submitted_at", description="When it was submitted.")
    LAST_NAME = strawberry.enum_value(
        "last_name", description="The applicant's last name, compared case-insensitively (case-folded)."
    )


@strawberry.input(description="An order of the registrations.")
class RegistrationOrder:
    field: RegistrationOrderField = strawberry.field(description="What to order by.")
    direction: OrderDirection = strawberry.field(description="Ascending or descending.")

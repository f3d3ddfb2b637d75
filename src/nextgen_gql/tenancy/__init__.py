"""Courts as tenants: court files, their validation, and addressing a request to a court."""

from nextgen_gql.tenancy.courts import Court, HelpDesk
from nextgen_gql.tenancy.files import (
    DEFAULT_ROLES,
    CourtFileError,
    TenantFileProblem,
    add_court_file,
    court_to_toml,
    load_courts,
    parse_court_file,
    validate_dir,
)
from nextgen_gql.tenancy.registry import CourtRegistry, UnknownCourt

__all__ = [
    "DEFAULT_ROLES",
    "Court",
    "CourtFileError",
    "CourtRegistry",
    "HelpDesk",
    "TenantFileProblem",
    "UnknownCourt",
    "add_court_file",
    "court_to_toml",
    "load_courts",
    "parse_court_file",
    "validate_dir",
]

"""Tortoise's search for field comments, skipped (see ``nextgen_gql.models``): imported before
any model class is made."""

import tortoise.models as _tortoise_models

#: Tortoise's own reader of ``#:`` field comments, kept for the test that finds none.
TORTOISE_FIELD_COMMENTS = _tortoise_models._get_comments
_tortoise_models._get_comments = lambda cls: {}

"""The models' field descriptions: none, so start-up may skip Tortoise's search for them."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

from tortoise import fields
from tortoise.models import Model

import nextgen_gql.models
from nextgen_gql.models import TORTOISE_FIELD_COMMENTS


def _models() -> list[type[Model]]:
    found: dict[str, type[Model]] = {}
    for info in pkgutil.iter_modules(nextgen_gql.models.__path__, "nextgen_gql.models."):
        module = importlib.import_module(info.name)
        for _, value in inspect.getmembers(module, inspect.isclass):
            if issubclass(value, Model) and value.__module__ == info.name:
                found[f"{value.__module__}.{value.__qualname__}"] = value
    return list(found.values())


def test_tortoise_finds_no_field_comments_in_any_model() -> None:
    # nextgen_gql.models skips Tortoise's reading of each model's source for ``#:`` comments
    # (field descriptions): the skip is only right while that reading finds none.
    models = _models()
    assert len(models) >= 20
    found = {model.__name__: TORTOISE_FIELD_COMMENTS(model) for model in models}
    assert {name: comments for name, comments in found.items() if comments} == {}


class _Probe(Model):
    #: a description
    name = fields.CharField(max_length=10)

    class Meta:
        abstract = True


def test_the_reader_still_finds_a_comment_where_one_is() -> None:
    # The check above can fail: Tortoise's reader sees a ``#:`` comment in a model.
    assert TORTOISE_FIELD_COMMENTS(_Probe) == {"name": "a description"}

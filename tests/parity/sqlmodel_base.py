"""What both SQLModel revisions of the parity suite share."""

from types import ModuleType
from typing import Any

from sqlalchemy import MetaData


class IdentityEquality:
    """An instance equals only itself, as with SQLAlchemy's declarative classes.

    SQLModel table models inherit Pydantic's ``__eq__``, which compares field
    values; two instances whose fields are all unloaded (every object right
    after a commit) compare equal.  Put first among the bases, this mixin
    gives SQLModel classes heroes_sa's equality and nothing else, which is how
    the property tests tell that one difference apart.
    """

    __eq__ = object.__eq__
    __hash__ = object.__hash__


def namespace(name: str, revision: str, metadata: MetaData, **classes: Any) -> ModuleType:
    """A module-like object holding one set of models, as heroes_sa's flows take them."""
    models = ModuleType(name, "SQLModel table models for the parity tests")
    models.REVISION = revision  # type: ignore[attr-defined]
    models.metadata = metadata  # type: ignore[attr-defined]
    for key, cls in classes.items():
        setattr(models, key, cls)
    return models

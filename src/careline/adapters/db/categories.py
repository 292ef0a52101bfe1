"""SQL repository of the user's categories and their training examples (docs/triage.md#categories)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from careline.adapters.db import tables as t
from careline.kernel.errors import NotFound
from careline.triage.model import Category, CategoryExample


def _category(row: Any) -> Category:
    return Category(
        id=row.id,
        name=row.name,
        created_at=row.created_at,
        description=row.description,
        keywords=tuple(row.keywords or ()),
        queue_id=row.queue_id,
        priority_points=row.priority_points,
    )


class CategoryRepository:
    def __init__(self, connection: sa.Connection) -> None:
        self._db = connection

    def all(self) -> list[Category]:
        return [_category(r) for r in self._db.execute(sa.select(t.categories).order_by(t.categories.c.name))]

    def get(self, category_id: str) -> Category:
        row = self._db.execute(sa.select(t.categories).where(t.categories.c.id == category_id)).first()
        if row is None:
            raise NotFound(f"category {category_id} does not exist")
        return _category(row)

    def by_name(self, name: str) -> Category | None:
        c = t.categories.c
        row = self._db.execute(sa.select(t.categories).where(sa.func.lower(c.name) == name.lower())).first()
        return _category(row) if row else None

    def add(self, category: Category, examples: Sequence[str]) -> None:
        self._db.execute(
            sa.insert(t.categories).values(
                id=category.id,
                name=category.name,
                description=category.description,
                keywords=list(category.keywords),
                queue_id=category.queue_id,
                priority_points=category.priority_points,
                created_at=category.created_at,
            )
        )
        if examples:
            self._db.execute(
                sa.insert(t.category_examples),
                [
                    {"category_id": category.id, "text": text, "source": "example", "created_at": category.created_at}
                    for text in examples
                ],
            )

    def delete(self, category_id: str) -> None:
        self._db.execute(sa.delete(t.category_examples).where(t.category_examples.c.category_id == category_id))
        self._db.execute(sa.delete(t.categories).where(t.categories.c.id == category_id))

    def examples(self, after_id: int = 0) -> list[CategoryExample]:
        e, c = t.category_examples.c, t.categories.c
        query = (
            sa.select(e.id, c.name, e.text, e.source)
            .join(t.categories, c.id == e.category_id)
            .where(e.id > after_id)
            .order_by(e.id)
        )
        return [CategoryExample(r.id, r.name, r.text, r.source) for r in self._db.execute(query)]

    def learn(self, category_id: str, text: str, conversation_id: str, at: datetime) -> bool:
        insert = postgresql.insert if self._db.dialect.name == "postgresql" else sqlite.insert
        statement = (
            insert(t.category_examples)
            .values(category_id=category_id, text=text, source="tag", conversation_id=conversation_id, created_at=at)
            .on_conflict_do_nothing(index_elements=["category_id", "conversation_id"])
            .returning(t.category_examples.c.id)
        )
        return self._db.execute(statement).first() is not None

    def version(self) -> tuple[int, str | None, int]:
        c, e = t.categories.c, t.category_examples.c
        count, newest = self._db.execute(sa.select(sa.func.count(), sa.func.max(c.id))).one()
        last_example = self._db.execute(sa.select(sa.func.max(e.id))).scalar()
        return int(count), newest, int(last_example or 0)

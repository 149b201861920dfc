"""Pages of query results: the one way services return lists."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, Sequence, TypeVar

from sqlalchemy import func, select
from sqlmodel import Session

T = TypeVar("T")


@dataclass(frozen=True)
class PageRequest:
    """Which page of a list the caller wants (1-based)."""

    page: int = 1
    page_size: int = 50

    @property
    def offset(self) -> int:
        """Rows to skip."""
        return (self.page - 1) * self.page_size


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of items and the total count across pages."""

    items: Sequence[T]
    total: int


def fetch_page(session: Session, statement, page: PageRequest) -> Page:
    """Run an ordered select for one page, with the total count of the unpaged query."""
    total = session.scalar(select(func.count()).select_from(statement.order_by(None).subquery())) or 0
    if page.offset >= total:
        # A page past the end is empty; its offset may not even fit the database's 64-bit integers.
        return Page(items=[], total=total)
    items = session.exec(statement.offset(page.offset).limit(page.page_size)).all()
    return Page(items=items, total=total)

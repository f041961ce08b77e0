"""Named reads and writes shared by services and the scheduler."""
from __future__ import annotations

import functools
from typing import Any

from sqlalchemy import Insert, Table, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, selectinload

from storage.models import Base, Member, Person, Project, ProjectChannel


def insert_or_ignore(session: Session, model: type[Base], values: dict[str, Any], returning: Any = None) -> Any:
    """INSERT that quietly keeps an existing row: safe when two processes create the same row at once.

    With `returning` (a column of `model`), gives that column of the new row, or None when the row existed (the
    caller lost the race).
    """
    dialect = session.get_bind().dialect.name
    result = session.execute(_ignoring(dialect, model.__table__, None if returning is None else returning.key), values)
    return None if returning is None else result.scalar()


@functools.cache
def _ignoring(dialect: str, table: Table, returning: str | None) -> Insert:
    """The statement, built once per table (the values are bound parameters): many hot paths insert this way."""
    stmt = (pg_insert if dialect == "postgresql" else sqlite_insert)(table).on_conflict_do_nothing()
    return stmt if returning is None else stmt.returning(table.c[returning])


def upsert(session: Session, model: type[Base], values: dict[str, Any], keys: list[str]) -> None:
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    stmt = insert(model).values(**values)
    changes = {k: stmt.excluded[k] for k in values if k not in keys}
    session.execute(stmt.on_conflict_do_update(index_elements=keys, set_=changes))


def project_key_of(session: Session, model: Any, record_id: int | None, team_id: str) -> str | None:
    """The key of the project a record (of any model with `project_id`) belongs to, if that project is of this
    workspace; None for no id, no such record, or another workspace's (a button's value is only a claim)."""
    if record_id is None:
        return None
    return session.scalar(select(Project.key).join(model, model.project_id == Project.id)
                          .where(model.id == record_id, Project.team_id == team_id))


def person(session: Session, team_id: str, user_id: str) -> Person | None:
    return session.scalar(select(Person).where(Person.team_id == team_id, Person.user_id == user_id))


def binding_for_channel(session: Session, team_id: str, channel_id: str) -> ProjectChannel | None:
    return session.scalar(
        select(ProjectChannel).where(ProjectChannel.team_id == team_id, ProjectChannel.channel_id == channel_id)
    )


def project_by_key(session: Session, team_id: str, key: str) -> Project | None:
    return session.scalar(select(Project).where(Project.team_id == team_id, Project.key == key))


def project_with_people(session: Session, project_id: int) -> Project | None:
    return session.scalar(
        select(Project)
        .where(Project.id == project_id)
        .options(selectinload(Project.channels), selectinload(Project.members))
    )


def projects_with_people(session: Session, team_id: str, ids: list[int] | None = None) -> list[Project]:
    stmt = (
        select(Project)
        .where(Project.team_id == team_id)
        .options(selectinload(Project.channels), selectinload(Project.members))
        .order_by(Project.key)
    )
    if ids is not None:
        stmt = stmt.where(Project.id.in_(ids))
    return list(session.scalars(stmt))


def member(session: Session, project_id: int, user_id: str) -> Member | None:
    return session.scalar(select(Member).where(Member.project_id == project_id, Member.user_id == user_id))

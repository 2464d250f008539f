"""The database: engine and session factory, made from configuration by init_app()."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask, current_app
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from .models.base import canonical_json

EXTENSION = "planflow.db"


class Database:
    """The engine that changes data and, on SQLite, a second one whose reads never wait for a
    writer (WAL lets readers see the last commit while a write is under way)."""

    def __init__(self, url: str) -> None:
        self.url = make_url(url)
        self.engine = make_engine(url)
        sqlite = self.url.get_backend_name() == "sqlite"
        self.read_engine = make_engine(url, write_lock=False) if sqlite else self.engine
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._read_sessions = sessionmaker(self.read_engine, expire_on_commit=False)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session inside one transaction: committed on success, rolled back on error."""
        with self.sessions() as session, session.begin():
            yield session

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A session that reads one consistent snapshot; whatever it might write is rolled back."""
        with self._read_sessions() as session:
            session.begin()
            try:
                yield session
            finally:
                session.rollback()

    def dispose(self, close: bool = True) -> None:
        """Drop the pooled connections. In a forked child, `close=False` leaves the parent's
        connections alone and only forgets them (SQLAlchemy's advice for process pools)."""
        self.engine.dispose(close=close)
        self.read_engine.dispose(close=close)


def make_engine(url: str, write_lock: bool = True) -> Engine:
    """Create an engine; SQLite gets WAL, foreign keys and, for writing, locking transactions."""
    parsed = make_url(url)
    # JSON is stored canonically (sorted keys, compact): the audit chain hashes it as stored.
    # No ping before each use of a pooled connection (a round trip per checkout, two a request):
    # a connection found dead fails its request's first statement, the pool drops every
    # connection it holds, and the request runs again on a new one (web/retry.py).
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, json_serializer=canonical_json)
    engine = create_engine(url, connect_args={"timeout": 30}, json_serializer=canonical_json)
    event.listen(engine, "connect", _configure_sqlite)
    # pysqlite's own transaction handling is turned off (isolation_level=None in _configure_sqlite)
    # so that a writing transaction starts with BEGIN IMMEDIATE: a writer takes the lock up front
    # instead of failing half-way when another writer committed after its first read.
    begin = "BEGIN IMMEDIATE" if write_lock else "BEGIN"
    event.listen(engine, "begin", lambda conn: conn.exec_driver_sql(begin))
    return engine


def _configure_sqlite(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


# PostgreSQL's SQLSTATEs for "your transaction lost, run it again": a deadlock's victim and a
# serialization failure. Nothing of the transaction was kept.
RETRYABLE_SQLSTATES = frozenset({"40P01", "40001"})


def retryable(exc: DBAPIError) -> bool:
    """Whether the database rolled back the whole transaction and a second try may succeed."""
    return getattr(exc.orig, "sqlstate", None) in RETRYABLE_SQLSTATES


def init_app(app: Flask) -> None:
    """Make the app's Database from its configuration."""
    app.extensions[EXTENSION] = Database(app.config["DATABASE_URL"])


def get_db() -> Database:
    """The Database of the current Flask app."""
    database: Database = current_app.extensions[EXTENSION]
    return database

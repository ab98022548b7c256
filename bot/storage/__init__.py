"""Durable storage: replies, votes and "did you mean" choices, and what curators read from them.

SQLAlchemy 2 over a SQLite file by default or PostgreSQL (psycopg 3) when ``DATABASE_URL``
names it; the schema is managed by the Alembic migrations shipped in ``migrations/``.
Privacy rules (what may be kept of a reply) live in :mod:`bot.storage.privacy`.
"""

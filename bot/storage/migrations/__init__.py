"""Alembic migrations for the bot's tables (run through :mod:`bot.storage.migrate`)."""

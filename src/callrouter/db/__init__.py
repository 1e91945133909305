"""Database layer: declarative base, engines, sessions and Alembic migrations."""

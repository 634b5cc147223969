"""Alembic migrations of the state store; `StateStore.open` runs `upgrade head` itself."""

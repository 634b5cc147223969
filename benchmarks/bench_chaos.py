"""`./dev bench chaos`: the reliability table of `benchmarks.chaos` (module of the same harness)."""

from __future__ import annotations

from benchmarks.chaos import run

__all__ = ["run"]

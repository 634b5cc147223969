"""The README's configuration reference is the one the config model generates."""

from __future__ import annotations

from pathlib import Path

from models.config import Config
from models.config_reference import BEGIN, END, config_reference

README = Path(__file__).resolve().parents[2] / "README.md"


def test_the_readme_reference_matches_the_model() -> None:
    text = README.read_text(encoding="utf-8")
    copied = text[text.index(BEGIN) : text.index(END) + len(END)]
    assert copied == config_reference(), "run: python -m models.config_reference"


def test_every_key_is_documented() -> None:
    undocumented = [name for name, field in Config.model_fields.items() if not field.description]
    assert undocumented == []
    assert "| `jira.tickets.done_status` |" in config_reference()

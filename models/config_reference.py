"""The configuration reference, generated from the config model (README keeps a copy)."""

from __future__ import annotations

from typing import Any, get_args

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from models.config import Config

BEGIN = "<!-- config-reference:begin -->"
END = "<!-- config-reference:end -->"


def _type_name(annotation: Any) -> str:
    text = str(annotation) if get_args(annotation) else getattr(annotation, "__name__", "")
    for noise in ("typing.", "pydantic.types.", "collections.abc.", "pathlib.", "models.config."):
        text = text.replace(noise, "")
    return text.replace("NoneType", "null").replace("|", "or")


def _default(field: FieldInfo) -> str:
    if field.is_required():
        return "**required**"
    value = field.get_default(call_default_factory=True)
    if isinstance(value, BaseModel):
        return "(section)"
    return f"`{value!r}`" if value not in (None, (), {}) else "—"


def _doc(model: type[BaseModel]) -> str:
    return " ".join((model.__doc__ or "").split())


def _rows(model: type[BaseModel], prefix: str) -> list[str]:
    rows: list[str] = []
    for name, field in model.model_fields.items():
        key = f"{prefix}{name}"
        nested = [
            a
            for a in (field.annotation, *get_args(field.annotation))
            if isinstance(a, type) and issubclass(a, BaseModel)
        ]
        if nested and not get_args(field.annotation):
            rows.append(f"| `{key}` | section | {_doc(nested[0])} |")
            rows.extend(_rows(nested[0], f"{key}."))
            continue
        described = field.description or ""
        rows.append(
            f"| `{key}` | {_type_name(field.annotation)}, default {_default(field)} | {described} |"
        )
    return rows


def config_reference() -> str:
    """A markdown table of every config key with its type and default."""
    lines = [
        BEGIN,
        "| key | type and default | what it is |",
        "|---|---|---|",
        *_rows(Config, ""),
        END,
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    print(config_reference())

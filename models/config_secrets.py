"""Secrets come only from the environment or a Prefect Secret block, never from the file.

A config file gets committed, copied into tickets and shown on screens; a secret written
in it leaks with it. So every `SecretStr` key must be one `${VAR}` reference — without a
`:-default`, which would be the secret written out after all — unless the whole config
text is itself kept in a Prefect Secret block (`block:<name>`). A mail URL
(`alerts.smtp`) may be written out when its password is such a reference.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, get_args
from urllib.parse import parse_qsl, urlsplit

from pydantic import BaseModel, SecretStr

from models.errors import ConfigError

ONE_REFERENCE = re.compile(r"\$\{[A-Za-z_][A-Za-z0-9_]*(?::-)?\}")  # ${VAR}, or ${VAR:-} (empty)
SUGGESTED_NAME = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
URL_SECRETS = frozenset({("alerts", "smtp")})
PASSWORD_QUERY_KEYS = frozenset({"pass", "password"})  # apprise's spellings of a password
BLOCK_FIX = "or keep the whole config in a Prefect Secret block (block:<name>)"


def secret_keys(model: type[BaseModel], at: tuple[str, ...] = ()) -> dict[tuple[str, ...], str]:
    """Key path of every SecretStr field in a (nested) config model -> the ${VAR} to suggest."""
    found: dict[tuple[str, ...], str] = {}
    for name, field in model.model_fields.items():
        kinds = get_args(field.annotation) or (field.annotation,)
        if SecretStr in kinds:
            named = SUGGESTED_NAME.search(field.description or "")
            found[(*at, name)] = named.group(1) if named else "_".join((*at, name)).upper()
        for kind in kinds:
            if isinstance(kind, type) and issubclass(kind, BaseModel):
                found |= secret_keys(kind, (*at, name))
    return found


def refuse_written_secrets(
    raw: Mapping[str, Any], secrets: Mapping[tuple[str, ...], str], source: str
) -> None:
    """Raise a ConfigError naming the first secret key whose value is written in the file."""
    for path, variable in secrets.items():
        value = _lookup(raw, path)
        if value is None or value == "" or not isinstance(value, str | int | float):
            continue  # absent, empty, or a wrong type pydantic names itself
        key = ".".join(path)
        if path in URL_SECRETS and isinstance(value, str):
            if not all(ONE_REFERENCE.fullmatch(p) for p in _url_passwords(value)):
                raise ConfigError(
                    f"{source}: {key}: the password is written in the file; write the URL as "
                    f"${{{variable}}} or its password as ${{SMTP_PASSWORD}}, {BLOCK_FIX}"
                )
        elif not (isinstance(value, str) and ONE_REFERENCE.fullmatch(value)):
            raise ConfigError(
                f"{source}: {key}: a secret is written in the file (a :-default counts); "
                f"write it as ${{{variable}}} and export {variable}, {BLOCK_FIX}"
            )


def _lookup(raw: Mapping[str, Any], path: tuple[str, ...]) -> Any:
    value: Any = raw
    for key in path:
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value


def _url_passwords(url: str) -> list[str]:
    """The password parts of a URL: after `user:` and in `pass=` / `password=`."""
    try:
        parts = urlsplit(url)
        passwords = [parts.password] if parts.password else []
    except ValueError:  # not a URL at all: the whole value must then be the reference
        return [url]
    query = parse_qsl(parts.query)
    return passwords + [v for k, v in query if k.lower() in PASSWORD_QUERY_KEYS]

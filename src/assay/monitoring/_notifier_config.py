"""Notifier configuration: the ``notifiers`` entries of a monitoring file, validated with
pydantic, and :func:`build_notifier`, which turns one into the transport it declares.

Secrets (SMTP password, webhook secret, webhook URLs given by ``url_env``) stay in environment
variables; a config names the variable and the notifier reads it when it is built.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, model_validator

from assay.errors import InputError
from assay.monitoring._delivery import Notifier
from assay.monitoring._notifiers import (
    ConsoleNotifier,
    FileNotifier,
    SlackNotifier,
    SmtpNotifier,
    TeamsNotifier,
    WebhookNotifier,
    _secret,
)

__all__ = [
    "ConsoleConfig", "EmailConfig", "FileConfig", "NotifierConfig", "SlackConfig",
    "TeamsConfig", "WebhookConfig", "build_notifier",
]

_CONFIG = ConfigDict(frozen=True, extra="forbid")


class ConsoleConfig(BaseModel):
    model_config = _CONFIG
    type: Literal["console"]
    name: str = "console"


class FileConfig(BaseModel):
    model_config = _CONFIG
    type: Literal["file"]
    path: Path
    name: str = "file"


class EmailConfig(BaseModel):
    model_config = _CONFIG
    type: Literal["email"]
    host: str = Field(min_length=1)
    port: int = Field(default=25, ge=1, le=65535)
    sender: str
    to: tuple[str, ...] = Field(min_length=1)
    username: str | None = None
    password_env: str | None = None
    starttls: bool = False
    timeout: float = Field(default=10.0, gt=0)
    name: str = "email"


class _UrlConfig(BaseModel):
    model_config = _CONFIG
    url: str | None = None
    url_env: str | None = None
    timeout: float = Field(default=10.0, gt=0)

    @model_validator(mode="after")
    def check_one_url(self) -> _UrlConfig:
        if (self.url is None) == (self.url_env is None):
            raise ValueError("give exactly one of 'url' or 'url_env' (an environment variable "
                             "holding the URL, which is a secret)")
        return self

    def resolved_url(self) -> str:
        return self.url if self.url is not None else _secret(str(self.url_env), "url_env")


class SlackConfig(_UrlConfig):
    type: Literal["slack"]
    name: str = "slack"


class TeamsConfig(_UrlConfig):
    type: Literal["teams"]
    name: str = "teams"


class WebhookConfig(_UrlConfig):
    type: Literal["webhook"]
    secret_env: str
    name: str = "webhook"


NotifierConfig = Annotated[
    ConsoleConfig | FileConfig | EmailConfig | SlackConfig | TeamsConfig | WebhookConfig,
    Field(discriminator="type"),
]
"""One notifier of a monitoring file, told apart by its ``type`` field."""

_NOTIFIER_CONFIG: TypeAdapter[NotifierConfig] = TypeAdapter(NotifierConfig)
_TYPES = ("console", "file", "email", "slack", "teams", "webhook")


def _config_error(exc: ValidationError) -> InputError:
    messages = []
    for error in exc.errors():
        kind, *field = [str(part) for part in error["loc"]] or ["notifier"]
        where = f"{kind} notifier"
        if error["type"] in ("union_tag_invalid", "union_tag_not_found"):
            given = error.get("input")
            got = given.get("type") if isinstance(given, dict) else None
            messages.append(f"notifier 'type' must be one of {', '.join(_TYPES)} "
                            f"(got {got!r})")
        elif error["type"] == "extra_forbidden":
            messages.append(f"{where}: {'.'.join(field)!r} is not a field")
        elif error["type"] == "missing":
            messages.append(f"{where}: field {'.'.join(field)!r} is required")
        elif field:
            messages.append(f"{where}: field {'.'.join(field)!r}: {error['msg']}")
        else:
            messages.append(f"{where}: {error['msg'].removeprefix('Value error, ')}")
    return InputError("; ".join(messages))


def build_notifier(config: NotifierConfig | Mapping[str, Any]) -> Notifier:
    """The notifier a monitoring file declares; a bad config is an :class:`InputError` naming
    the field, and a secret's missing environment variable one naming the variable.

    >>> build_notifier({"type": "console", "name": "ward-screen"})
    ConsoleNotifier(name='ward-screen')
    """
    if isinstance(config, Mapping):
        try:
            config = _NOTIFIER_CONFIG.validate_python(dict(config))
        except ValidationError as exc:
            raise _config_error(exc) from exc
    if isinstance(config, ConsoleConfig):
        return ConsoleNotifier(name=config.name)
    if isinstance(config, FileConfig):
        return FileNotifier(config.path, name=config.name)
    if isinstance(config, EmailConfig):
        return SmtpNotifier(config.host, config.port, config.sender, config.to,
                            username=config.username, password_env=config.password_env,
                            starttls=config.starttls, timeout=config.timeout, name=config.name)
    if isinstance(config, SlackConfig):
        return SlackNotifier(config.resolved_url(), name=config.name, timeout=config.timeout)
    if isinstance(config, TeamsConfig):
        return TeamsNotifier(config.resolved_url(), name=config.name, timeout=config.timeout)
    return WebhookNotifier(config.resolved_url(), secret_env=config.secret_env,
                           name=config.name, timeout=config.timeout)

"""Settings read once from the environment (and a .env file); a bad value names itself and stops start-up."""
from __future__ import annotations

import os
from dataclasses import dataclass
from urllib.parse import urlparse
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dotenv import load_dotenv
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

DEFAULT_DATABASE_URL = "sqlite:///liaison.db"
DEFAULT_SLACK_API_URL = "https://slack.com/api/"


class ConfigError(Exception):
    def __init__(self, name: str, problem: str):
        super().__init__(f"{name}: {problem}")
        self.name = name


@dataclass(frozen=True)
class Settings:
    slack_bot_token: str | None = None
    slack_signing_secret: str | None = None
    slack_app_token: str | None = None
    database_url: str = DEFAULT_DATABASE_URL
    slack_api_url: str = DEFAULT_SLACK_API_URL
    timezone: str = "UTC"
    grace_hours: float = 6.0
    min_digest_minutes: int = 60

    @property
    def has_slack(self) -> bool:
        return bool(self.slack_bot_token)

    def require(self, *names: str) -> None:
        """Raise for the first of these settings that is unset; used by the mode that needs them."""
        for name in names:
            if not getattr(self, name.lower()):
                raise ConfigError(name, "is required for this command but is not set")


def _check_token(name: str, value: str | None, prefix: str) -> str | None:
    if value is not None and not value.startswith(prefix):
        raise ConfigError(name, f"must start with {prefix!r}")
    return value


def load_settings(env: dict[str, str] | None = None, dotenv: bool = True) -> Settings:
    if env is None:
        if dotenv:
            load_dotenv(os.environ.get("LIAISON_ENV_FILE", ".env"), override=False)
        env = dict(os.environ)

    def get(name: str) -> str | None:
        value = env.get(name, "").strip()
        return value or None

    database_url = get("DATABASE_URL") or DEFAULT_DATABASE_URL
    try:
        url = make_url(database_url)
    except ArgumentError:
        raise ConfigError("DATABASE_URL", f"{database_url!r} is not a database URL") from None
    if url.get_backend_name() not in ("sqlite", "postgresql"):
        raise ConfigError("DATABASE_URL", "must be a sqlite:// or postgresql:// URL")
    if url.get_backend_name() == "postgresql" and url.drivername == "postgresql":
        database_url = url.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)

    api_url = get("SLACK_API_URL") or DEFAULT_SLACK_API_URL
    if urlparse(api_url).scheme not in ("http", "https") or not urlparse(api_url).netloc:
        raise ConfigError("SLACK_API_URL", f"{api_url!r} is not an http(s) URL")
    if not api_url.endswith("/"):
        api_url += "/"

    timezone = get("LIAISON_TIMEZONE") or "UTC"
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError("LIAISON_TIMEZONE", f"{timezone!r} is not an IANA timezone such as Europe/Paris") from None

    grace = get("LIAISON_GRACE_HOURS") or "6"
    try:
        grace_hours = float(grace)
        if grace_hours < 0:
            raise ValueError
    except ValueError:
        raise ConfigError("LIAISON_GRACE_HOURS", f"{grace!r} is not a non-negative number of hours") from None

    least = get("LIAISON_MIN_DIGEST_MINUTES") or "60"
    if not least.isascii() or not least.isdigit() or len(least) > 9 or int(least) < 1:
        raise ConfigError("LIAISON_MIN_DIGEST_MINUTES", f"{least!r} is not a positive whole number of minutes")

    return Settings(
        slack_bot_token=_check_token("SLACK_BOT_TOKEN", get("SLACK_BOT_TOKEN"), "xoxb-"),
        slack_signing_secret=get("SLACK_SIGNING_SECRET"),
        slack_app_token=_check_token("SLACK_APP_TOKEN", get("SLACK_APP_TOKEN"), "xapp-"),
        database_url=database_url,
        slack_api_url=api_url,
        timezone=timezone,
        grace_hours=grace_hours,
        min_digest_minutes=int(least),
    )

"""Configuration: defaults, and one clear line (exit 2) for a missing or malformed setting."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from bot.config import ConfigError, load_settings


def run_liaison(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "LIAISON_", "DATABASE_URL"))}
    clean["LIAISON_ENV_FILE"] = "/nonexistent/.env"
    return subprocess.run([sys.executable, "-m", "bot.cli", *args], env={**clean, **env},
                          capture_output=True, text=True, timeout=60)


def test_defaults():
    settings = load_settings({})
    assert settings.database_url.startswith("sqlite:///")
    assert settings.slack_api_url == "https://slack.com/api/"
    assert settings.timezone == "UTC" and not settings.has_slack


def test_postgres_urls_use_psycopg3_and_api_url_gets_its_slash():
    settings = load_settings({"DATABASE_URL": "postgresql://u@db/liaison", "SLACK_API_URL": "http://stub:9/api"})
    assert settings.database_url.startswith("postgresql+psycopg://")
    assert settings.slack_api_url == "http://stub:9/api/"


@pytest.mark.parametrize(
    "env, name",
    [
        ({"LIAISON_TIMEZONE": "Mars/Olympus"}, "LIAISON_TIMEZONE"),
        ({"DATABASE_URL": "not a url"}, "DATABASE_URL"),
        ({"DATABASE_URL": "mysql://x/y"}, "DATABASE_URL"),
        ({"SLACK_API_URL": "ftp://x"}, "SLACK_API_URL"),
        ({"SLACK_BOT_TOKEN": "xoxp-user-token"}, "SLACK_BOT_TOKEN"),
        ({"SLACK_APP_TOKEN": "xoxb-wrong"}, "SLACK_APP_TOKEN"),
        ({"LIAISON_GRACE_HOURS": "soon"}, "LIAISON_GRACE_HOURS"),
    ],
)
def test_malformed_setting_is_named(env, name):
    with pytest.raises(ConfigError) as error:
        load_settings(env)
    assert error.value.name == name


def test_cli_stops_with_one_line_and_exit_2():
    result = run_liaison("manifest", LIAISON_TIMEZONE="Nowhere")
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0 and "LIAISON_TIMEZONE" in result.stderr


def test_serve_without_signing_secret_is_refused(tmp_path):
    result = run_liaison("serve", SLACK_BOT_TOKEN="xoxb-1-2", DATABASE_URL=f"sqlite:///{tmp_path}/x.db")
    assert result.returncode == 2
    assert "SLACK_SIGNING_SECRET" in result.stderr and result.stderr.strip().count("\n") == 0


def test_socket_without_app_token_is_refused(tmp_path):
    result = run_liaison("socket", SLACK_BOT_TOKEN="xoxb-1-2", DATABASE_URL=f"sqlite:///{tmp_path}/x.db")
    assert result.returncode == 2 and "SLACK_APP_TOKEN" in result.stderr


def test_dotenv_file_is_read(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text("LIAISON_TIMEZONE=Broken/Zone\n")
    result = run_liaison("manifest", LIAISON_ENV_FILE=str(env_file))
    assert result.returncode == 2 and "Broken/Zone" in result.stderr

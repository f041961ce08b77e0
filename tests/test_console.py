"""The local console drives the same app as Slack does: scripted transcripts and an interactive session."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

TRANSCRIPTS = Path(__file__).parent / "transcripts"


def liaison(*args: str, stdin: str | None = None, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "LIAISON_", "DATABASE_URL"))}
    clean["LIAISON_ENV_FILE"] = "/nonexistent/.env"
    return subprocess.run([sys.executable, "-m", "bot.cli", *args], input=stdin, capture_output=True, text=True,
                          env={**clean, **env}, timeout=120)


@pytest.mark.parametrize("name", ["projects", "updates", "changes", "satisfaction"])
def test_scripted_session_matches_transcript(name):
    """Regenerate after a deliberate change: liaison console --script tests/transcripts/NAME.script
    --now 2026-11-24T10:00:00+00:00 > tests/transcripts/NAME.txt"""
    result = liaison("console", "--script", str(TRANSCRIPTS / f"{name}.script"), "--now", "2026-11-24T10:00:00+00:00")
    assert result.returncode == 0, result.stderr
    assert result.stdout == (TRANSCRIPTS / f"{name}.txt").read_text()


def test_interactive_console_with_no_slack_credentials_keeps_its_sqlite_data(tmp_path):
    db = f"sqlite:///{tmp_path}/console.db"
    first = liaison(stdin="/project create Acme Website\n:quit\n", DATABASE_URL=db)
    assert first.returncode == 0 and "Created *Acme Website*" in first.stdout
    assert "no Slack needed" in first.stdout
    second = liaison(stdin=":as client\n:in client-channel\n/project create Sneaky\n@Liaison status\n",
                     DATABASE_URL=db)
    # As in Slack, people from another organisation can't use our slash commands; they mention the bot.
    assert "`/project` isn't available to casey" in second.stdout
    # The client sees no project: this shared channel isn't linked yet, and Acme's internal data stays hidden.
    assert "isn't linked to a project yet" in second.stdout and "Acme" not in second.stdout
    third = liaison(stdin="/project list\n", DATABASE_URL=db)
    assert "acme-website" in third.stdout


def test_console_commands_explain_themselves():
    result = liaison(stdin=":help\n:as nobody\n:frob\n:submit name=x\n", DATABASE_URL="sqlite://")
    assert ":as <name>" in result.stdout
    assert "nobody called `nobody`" in result.stdout
    assert "unknown console command `:frob`" in result.stdout
    assert "no form is open" in result.stdout


def test_missing_script_file_is_one_clear_line():
    result = liaison("console", "--script", "/nonexistent/file.txt")
    assert result.returncode == 2 and "cannot read /nonexistent/file.txt" in result.stderr

"""Errors named for what the user did wrong; handlers turn them into an ephemeral reply and nothing is stored."""
from __future__ import annotations


class UserError(Exception):
    """Something the person can fix; the message is shown to them as is."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field  # the option or modal input it is about, so a modal can point at it


class BadInput(UserError):
    pass


class NotAllowed(UserError):
    pass


class NotFound(UserError):
    pass


class SlackTrouble(UserError):
    """Slack refused or failed a call we needed; the text says what the user can do about it."""

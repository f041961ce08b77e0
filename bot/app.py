"""The composition root: one Bolt app, wired to the runtime, used alike by Slack, the console and the tests."""
from __future__ import annotations

from slack_bolt import App

from bot.runtime import Runtime
from handlers import register_all


def build_app(rt: Runtime, signing_secret: str | None = None) -> App:
    app = App(
        token=None,  # the client below carries it (Bolt warns when both are given)
        signing_secret=signing_secret or rt.settings.slack_signing_secret or "",
        client=rt.client,
        # Listeners answer in the ack itself (stored, then replied to); posts go through the outbox afterwards.
        # This also spares every request Bolt's 10 ms ack-polling loop.
        process_before_response=True,
        # Check the token on the first request rather than at import, so a Slack hiccup cannot stop start-up.
        token_verification_enabled=False,
    )
    register_all(app, rt)
    return app

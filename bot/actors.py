"""Who is acting, and what each kind of person may do. Every service checks here first."""
from __future__ import annotations

from dataclasses import dataclass

from bot.errors import NotAllowed

INTERNAL_ROLES = ("lead", "team")
CLIENT_ROLES = ("client_approver", "client")
ROLE_NAMES = {
    "lead": "project lead",
    "team": "team member",
    "client_approver": "client approver",
    "client": "client",
}


@dataclass(frozen=True)
class Actor:
    team_id: str
    user_id: str
    is_external: bool = False  # Slack says this person belongs to another organisation
    role: str | None = None  # role in the project this request is about, if any
    name: str = ""

    @property
    def is_client(self) -> bool:
        return self.is_external or self.role in CLIENT_ROLES

    def with_role(self, role: str | None) -> Actor:
        return Actor(self.team_id, self.user_id, self.is_external, role, self.name)


def require_team_member(actor: Actor, doing: str) -> None:
    if actor.is_client:
        raise NotAllowed(f"Clients can't {doing}; only people on the delivery team can. Ask your project lead.")


def require_role(actor: Actor, roles: tuple[str, ...], doing: str) -> None:
    require_team_member(actor, doing)
    if actor.role not in roles:
        who = " or ".join(ROLE_NAMES[r] + "s" for r in roles)
        raise NotAllowed(f"Only {who} of this project can {doing}.")


def check_role_target(role: str, target_is_external: bool) -> None:
    if target_is_external and role in INTERNAL_ROLES:
        raise NotAllowed(
            f"That person is from another organisation, so they can only be a client or client approver, "
            f"not a {ROLE_NAMES[role]}."
        )

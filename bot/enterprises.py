"""Enterprises and their invite codes."""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlmodel import Session, select

from bot.models import Enterprise

# No 0/O, 1/I/L: codes are read aloud and typed on phones.
INVITE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"


def new_invite_code(length: int = 6) -> str:
    """Return a random invite code that is easy to read and type."""
    return "".join(secrets.choice(INVITE_ALPHABET) for _ in range(length))


def create_enterprise(
    session: Session, name: str, now: datetime, invite_code: str | None = None
) -> Enterprise:
    """Create an enterprise with a unique invite code (given, or drawn until unused)."""
    code = (invite_code or "").strip().upper()
    while not code or session.exec(select(Enterprise.id)
                                   .where(Enterprise.invite_code == code)).first():
        if invite_code:
            raise ValueError(f"invite code {code} is already used")
        code = new_invite_code()
    ent = Enterprise(name=name.strip(), invite_code=code, created_at=now)
    session.add(ent)
    session.flush()
    return ent


def ensure_enterprise(session: Session, name: str, invite_code: str, now: datetime) -> Enterprise:
    """Return the enterprise with this invite code, creating it if missing."""
    found = session.exec(select(Enterprise).where(Enterprise.invite_code == invite_code)).first()
    return found or create_enterprise(session, name, now, invite_code)

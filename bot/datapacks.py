"""The first-come 10 GB data packs: numbered slots claimed one at a time, phones kept encrypted."""

from __future__ import annotations

import base64
import hashlib
import re
from datetime import datetime

from cryptography.fernet import Fernet
from sqlalchemy import func
from sqlmodel import Session, select

from bot.clock import Clock
from bot.domain.masking import mask_phone
from bot.models import DataPack, DataPackCounter

PHONE = re.compile(r"^1[3-9]\d{9}$")


def claim(session: Session, user_id: int, clock: Clock, limit: int) -> int | None:
    """Give the worker the next slot if any is left; return its number (the same one on repeat).

    The counter row is locked (`FOR UPDATE` on PostgreSQL; SQLite's `BEGIN IMMEDIATE` already
    serialises writers), so concurrent finishers queue for it and slot order is commit order.
    The claim time is read once the lock is held, so it rises with the slot number.
    """
    existing = session.exec(select(DataPack.slot).where(DataPack.user_id == user_id)).first()
    if existing is not None:
        return existing
    counter = session.exec(select(DataPackCounter).where(DataPackCounter.id == 1)
                           .with_for_update()).first()
    if counter is None:
        counter = DataPackCounter(id=1, given=0)
        session.add(counter)
        session.flush()  # a concurrent creator fails on the primary key; the core retries
    if counter.given >= limit:
        return None
    counter.given += 1
    session.add(DataPack(slot=counter.given, user_id=user_id, claimed_at=clock.now()))
    session.flush()
    return counter.given


def given_count(session: Session) -> int:
    """Return how many data packs have been given."""
    return int(session.exec(select(func.count()).select_from(DataPack)).one())


def pack_of(session: Session, user_id: int) -> DataPack | None:
    """Return the worker's data pack, if they won one."""
    return session.exec(select(DataPack).where(DataPack.user_id == user_id)).first()


def _fernet(secret: str) -> Fernet:
    key = base64.urlsafe_b64encode(hashlib.sha256(("datapack-phone:" + secret).encode()).digest())
    return Fernet(key)


def normalise_phone(text: str) -> str | None:
    """Return an 11-digit mainland mobile number from what was typed, or None."""
    digits = re.sub(r"[\s\-－()（）]", "", text).removeprefix("+86")
    return digits if PHONE.match(digits) else None


def store_phone(pack: DataPack, phone: str, secret: str, now: datetime) -> None:
    """Keep the top-up number encrypted at rest and masked for display."""
    pack.phone_encrypted = _fernet(secret).encrypt(phone.encode()).decode()
    pack.phone_masked = mask_phone(phone)
    pack.phone_at = now


def reveal_phone(pack: DataPack, secret: str) -> str | None:
    """Decrypt the number, for the operator who sends the top-up."""
    if not pack.phone_encrypted:
        return None
    return _fernet(secret).decrypt(pack.phone_encrypted.encode()).decode()

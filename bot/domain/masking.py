"""Masking of names and phone numbers for anything published."""

from __future__ import annotations


def mask_name(name: str | None) -> str:
    """Keep the first and last character and star the rest: 张三明 → 张*明, 张三 → 张*."""
    name = (name or "").strip()
    if len(name) <= 1:
        return "*"
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def mask_phone(phone: str | None) -> str:
    """Show only the first 3 and last 4 digits: 13812345678 → 138****5678."""
    digits = "".join(ch for ch in (phone or "") if ch.isdigit())
    if len(digits) < 7:
        return "*" * len(digits)
    return digits[:3] + "*" * (len(digits) - 7) + digits[-4:]

"""The Official Account / WeCom app menu, as data: `jixing wechat menu` pushes exactly this.

Each button sends a CLICK event whose EventKey is a menu key of `handlers/routes.py`
(LEARN, ME, RANK, MALL, HELP). WeChat allows three top-level buttons, so 我的 opens a
sub-menu.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot import messages as m


@dataclass(frozen=True)
class MenuButton:
    """A menu button: a CLICK with `key`, or a sub-menu of `children`."""

    label: str
    key: str | None = None
    children: tuple[MenuButton, ...] = ()


L = m.MENU_LABELS
MENU: tuple[MenuButton, ...] = (
    MenuButton(L["learn"], "LEARN"),
    MenuButton(L["rank"], "RANK"),
    MenuButton(L["mine"], children=(
        MenuButton(L["me"], "ME"),
        MenuButton(L["mall"], "MALL"),
        MenuButton(L["help"], "HELP"),
    )),
)


def menu_keys(menu: tuple[MenuButton, ...] = MENU) -> list[str]:
    """Return every EventKey the menu can send, in order."""
    return [k for b in menu for k in ([b.key] if b.key else menu_keys(b.children))]


def menu_json(menu: tuple[MenuButton, ...] = MENU) -> dict[str, Any]:
    """Return the menu as the `menu/create` API wants it (the same for WeChat and WeCom)."""

    def button(b: MenuButton) -> dict[str, Any]:
        if b.children:
            return {"name": b.label, "sub_button": [button(c) for c in b.children]}
        return {"type": "click", "name": b.label, "key": b.key}

    return {"button": [button(b) for b in menu]}

"""The terminal channel behind `jixing demo`: a worker chatting line by line."""

from __future__ import annotations

import sys
import uuid
from collections.abc import Iterable
from typing import TextIO

from bot.chat import Inbound, Reply
from bot.clock import FixedClock
from bot.core import Core
from bot.render import as_text

PROMPT = "你 > "
PACE_SECONDS = 20


class ConsoleChannel:
    """Feed lines to the core as one console worker and print every reply."""

    def __init__(self, core: Core, external_id: str, out: TextIO = sys.stdout,
                 pace: FixedClock | None = None) -> None:
        self.core = core
        # A scripted demo runs on a clock that moves PACE_SECONDS per line, as a person would:
        # otherwise every scripted answer would be "faster than reading" and earn nothing.
        self.pace = pace
        self.external_id = external_id
        self.out = out
        self._labels: dict[str, str] = {}  # a shown button's label → its payload

    def send(self, line: str) -> list[Reply]:
        """Deliver one typed line and print the replies."""
        line = line.strip()
        if self.pace is not None:
            self.pace.advance(seconds=PACE_SECONDS)
        payload = self._labels.get(line)
        inbound = Inbound(
            channel="console",
            external_id=self.external_id,
            dedupe_key=f"console:{uuid.uuid4().hex}",
            received_at=self.core.deps.clock.now(),
            text=None if payload else line,
            choice=payload,
        )
        replies = self.core.handle(inbound)
        self._labels = {o.label: o.payload for r in replies for o in r.options
                        if o.payload.startswith("cmd:")}
        for reply in replies:
            self.out.write("技行 > " + as_text(reply).replace("\n", "\n       ") + "\n")
        self.out.flush()
        return replies

    def run(self, lines: Iterable[str], echo: bool) -> None:
        """Chat over `lines`; echo each line when input is scripted, so the output reads well."""
        for line in lines:
            if not line.strip():
                continue
            if echo:
                self.out.write(PROMPT + line.rstrip("\n") + "\n")
            self.send(line)

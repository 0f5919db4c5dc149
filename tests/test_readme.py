"""The README's set-up commands are the ones CI runs."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_ci_runs_the_readme_test_command() -> None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    match = re.search(r"^TEST_CMD='(.+)'$", ci, re.M)
    assert match is not None
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert match.group(1) in readme.splitlines()


def test_env_example_lists_every_setting() -> None:
    from bot.config import Settings

    example = (ROOT / ".env.example").read_text(encoding="utf-8")
    names = {line.lstrip("# ").split("=", 1)[0] for line in example.splitlines() if "=" in line}
    missing = [f.upper() for f in Settings.model_fields if f.upper() not in names]
    assert missing == []

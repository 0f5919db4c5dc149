"""The command line as a user runs it: real processes, real files."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import MINI_BANK, jixing

DEMO_SCRIPT = """\
开始 DEMO
王小明
2
学习
B
B
学习
B
对
学习
AC
B
我的
"""


def test_scripted_demo_registers_learns_answers_and_earns_a_credit(cli_env: dict[str, str]) -> None:
    cli_env["QUIZ_BANK_PATH"] = str(MINI_BANK)
    out = jixing("demo", env=cli_env, stdin=DEMO_SCRIPT)
    assert out.returncode == 0, out.stderr
    text = out.stdout
    assert "示范企业邀请码：DEMO" in text
    assert "你 > 开始 DEMO" in text  # the script is echoed, so the output reads as a chat
    assert "注册完成" in text
    assert "✅ 回答正确" in text
    assert "❌ 回答错误" in text
    assert "获得 2 学分" in text
    assert "学分：2" in text.split("你 > 我的")[1]
    assert "Traceback" not in out.stderr + text


def test_demo_on_the_bundled_bank_starts_the_first_required_course(cli_env: dict[str, str]) -> None:
    out = jixing("demo", env=cli_env, stdin="开始 DEMO\n李四\n1\n学习\n")
    assert out.returncode == 0, out.stderr
    assert "📘 珠海通 · 第 1/" in out.stdout


def test_quiz_check_passes_on_the_shipped_bank(cli_env: dict[str, str]) -> None:
    out = jixing("quiz", "check", env=cli_env)
    assert out.returncode == 0, out.stdout
    assert out.stdout.startswith("OK:")


def test_quiz_check_fails_clearly_on_a_broken_file(cli_env: dict[str, str], tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[course]\nid = "x"\n[[lessons]]\nid = "x-1"\n', encoding="utf-8")
    out = jixing("quiz", "check", str(bad), env=cli_env)
    assert out.returncode == 1
    assert f"{bad}: x: `title` is missing or empty" in out.stdout
    assert "Traceback" not in out.stdout + out.stderr


def test_quiz_export_lists_every_question_with_its_answer(cli_env: dict[str, str]) -> None:
    out = jixing("quiz", "export", "--format", "json", "--path", str(MINI_BANK), env=cli_env)
    data = json.loads(out.stdout)
    assert [c["id"] for c in data] == ["mini-a", "mini-b", "mini-c"]
    assert data[0]["lessons"][1]["questions"][0]["answer"] == "AC"


def test_enterprise_add_then_user_show_json(cli_env: dict[str, str]) -> None:
    assert jixing("db", "upgrade", env=cli_env).returncode == 0
    code = jixing("enterprise", "add", "珠海精密制造有限公司", env=cli_env).stdout.strip()
    assert len(code) == 6
    cli_env["QUIZ_BANK_PATH"] = str(MINI_BANK)
    jixing("demo", "--user", "u1", env=cli_env, stdin=f"/start {code}\n赵六\n3\n学习\nB\n")
    out = jixing("user", "show", "console:u1", "--json", env=cli_env)
    rec = json.loads(out.stdout)
    assert rec["channel"] == "console"
    assert rec["external_id"] == "u1"
    assert rec["name"] == "赵六"
    assert rec["enterprise"] == "珠海精密制造有限公司"
    assert (rec["points"], rec["answers"], rec["correct"]) == (2, 1, 1)  # +1 sign-in
    assert rec["courses"]["mini-a"] == {"lessons_done": 0, "lessons_total": 2,
                                        "credit_earned": False}
    assert rec["data_pack"] is None
    assert jixing("user", "show", "console:nobody", env=cli_env).returncode == 1
    assert jixing("user", "show", "fax:1", env=cli_env).returncode == 2


def test_enterprise_add_refuses_a_taken_invite_code(cli_env: dict[str, str]) -> None:
    jixing("db", "upgrade", env=cli_env)
    assert jixing("enterprise", "add", "甲", "--invite", "ABC234", env=cli_env).returncode == 0
    again = jixing("enterprise", "add", "乙", "--invite", "ABC234", env=cli_env)
    assert again.returncode == 1
    assert "already used" in again.stdout

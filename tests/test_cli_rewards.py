"""Operator commands for rewards, run as an operator runs them."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from bot.db import make_engine, transaction
from bot.flags import raise_flag
from bot.records import find_user
from tests.conftest import MINI_BANK, jixing

FINISH = "开始 DEMO\n王小明\n2\n学习\nB\nA\n学习\nAC\nB\n学习\nC\n"


def test_stats_json_counts_workers_credits_points_and_data_packs(cli_env: dict[str, str]) -> None:
    cli_env["QUIZ_BANK_PATH"] = str(MINI_BANK)
    cli_env["DATA_PACK_LIMIT"] = "3"
    jixing("demo", "--user", "s1", env=cli_env, stdin=FINISH + "13812345678\n")
    out = jixing("stats", "--json", env=cli_env)
    assert out.returncode == 0, out.stderr
    figures = json.loads(out.stdout)
    assert figures["goal"] == 1_000_000
    assert (figures["workers_registered"], figures["workers_trained"]) == (1, 1)
    assert figures["credits_issued"] == 4
    assert (figures["data_packs_given"], figures["data_packs_left"]) == (1, 2)
    assert figures["courses"]["mini-a"]["workers_completed"] == 1
    assert figures["points_issued"] > 0
    human = jixing("stats", env=cli_env).stdout
    assert "完成两门必修课：1 / 目标 1,000,000" in human
    assert "流量包：已发 1，剩余 2" in human
    packs = jixing("datapacks", env=cli_env).stdout.splitlines()
    assert packs[0] == "slot,name,claimed_at,phone,flagged"
    assert packs[1].startswith("1,王小明,") and packs[1].endswith(",138****5678,no")
    revealed = jixing("datapacks", "--reveal", env=cli_env).stdout
    assert "13812345678" in revealed


def test_mall_add_list_restock_and_take_off_sale(cli_env: dict[str, str]) -> None:
    jixing("db", "upgrade", env=cli_env)
    item = jixing("mall", "add", "10元话费券", "--cost", "100", "--stock", "20", env=cli_env)
    assert item.returncode == 0, item.stderr
    item_id = item.stdout.strip()
    assert jixing("mall", "stock", item_id, "50", env=cli_env).returncode == 0
    listing = jixing("mall", "list", env=cli_env).stdout
    assert f"{item_id}\t10元话费券\t100 积分\t库存 50\t每人 1\t已兑 0\t在售" in listing
    jixing("mall", "off", item_id, env=cli_env)
    assert "下架" in jixing("mall", "list", env=cli_env).stdout
    assert jixing("mall", "add", "坏商品", "--cost", "0", "--stock", "1", env=cli_env).returncode == 2
    assert jixing("mall", "stock", "999", "1", env=cli_env).returncode == 1


def test_flags_list_and_clear(cli_env: dict[str, str]) -> None:
    cli_env["QUIZ_BANK_PATH"] = str(MINI_BANK)
    jixing("db", "upgrade", env=cli_env)
    assert "没有待核查的账号" in jixing("flags", env=cli_env).stdout
    jixing("demo", "--user", "f1", env=cli_env, stdin=FINISH)
    engine = make_engine(cli_env["DATABASE_URL"])
    with transaction(engine) as s:
        user = find_user(s, "console", "f1")
        assert user is not None
        raise_flag(s, user, "2026-10-12：5 次答题快于阅读时间", datetime.now(UTC))
    listing = jixing("flags", env=cli_env).stdout
    assert "console:f1\t王小明\t2026-10-12：5 次答题快于阅读时间" in listing
    assert jixing("flags", "clear", "console:nobody", env=cli_env).returncode == 1
    assert "cleared 1 flag(s)" in jixing("flags", "clear", "console:f1", env=cli_env).stdout
    assert "没有待核查的账号" in jixing("flags", env=cli_env).stdout
    assert json.loads(jixing("user", "show", "console:f1", "--json", env=cli_env).stdout)[
        "flagged"] is False
    engine.dispose()

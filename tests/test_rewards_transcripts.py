"""Rewards through the core: caps, streaks over midnight and month ends, review, boards,
opt-out, data packs, the mall, anti-cheat and the message rate limit."""

from __future__ import annotations

import random
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlmodel import Session, select

from bot.app import App, build_app
from bot.clock import FixedClock
from bot.datapacks import reveal_phone
from bot.db import transaction
from bot.enterprises import ensure_enterprise
from bot.ledger import points_balance
from bot.mall import add_item
from bot.models import DataPack, User
from bot.records import find_user, user_record
from tests.conftest import SHANGHAI, Chat, make_settings

# The mini bank's answers, lesson by lesson (options unshuffled).
ANSWERS = {"mini-a-01": ["B", "A"], "mini-a-02": ["AC", "B"], "mini-b-01": ["C"], "mini-c-01": ["B"]}


def finish_required(chat: Chat) -> list[str]:
    """Learn and pass every lesson of both required courses; return all reply texts."""
    texts = []
    for lesson in ("mini-a-01", "mini-a-02", "mini-b-01"):
        chat.send("学习")
        for letters in ANSWERS[lesson]:
            texts.append(chat.says(letters))
    return texts


def rec(chat: Chat) -> dict:
    with Session(chat.app.engine) as s:
        user = find_user(s, chat.channel, chat.external_id)
        assert user is not None
        return user_record(s, chat.app.deps.bank, user, chat.channel, chat.external_id)


def make_app(engine, db_url: str, clock: FixedClock, **settings: object) -> App:
    application = build_app(make_settings(db_url, **settings), clock=clock,
                            rng=random.Random(3), engine=engine, shuffle=False)
    with transaction(engine) as session:
        ensure_enterprise(session, "测试机械厂", "ACME", clock.now())
        ensure_enterprise(session, "另一家厂", "OTHER", clock.now())
    return application


# --- caps ---------------------------------------------------------------------------------


@pytest.fixture
def capped_app(engine, db_url: str, clock: FixedClock, tmp_path: Path) -> App:
    rules = tmp_path / "points.toml"
    rules.write_text("daily_total_cap = 6\n[rules.first_correct]\ndaily_cap = 2\n", encoding="utf-8")
    return make_app(engine, db_url, clock, points_rules_path=rules)


def test_a_rule_cap_stops_points_for_the_day_and_says_so(capped_app: App) -> None:
    chat = Chat(capped_app)
    chat.join()
    texts = finish_required(chat)
    # first_correct is capped at 2 a day: the third and later say the cap is reached
    assert "+1 积分" in texts[0] and "+1 积分" in texts[1]
    assert "今日该项积分已达上限" in texts[2]
    r = rec(chat)
    with Session(capped_app.engine) as s:
        user = s.exec(select(User)).one()
        assert points_balance(s, user.id) == user.points == r["points"]
    # 1 sign-in + 2 first_correct + lesson passes up to the total cap of 6, courses uncapped
    assert r["points"] == 6 + 10 + 10


def test_caps_reset_the_next_day(capped_app: App, clock: FixedClock) -> None:
    chat = Chat(capped_app)
    chat.join()
    chat.send("学习")
    chat.send("B")
    chat.send("A")
    chat.send("学习")
    assert "今日该项积分已达上限" in chat.says("AC")
    chat.send("B")
    clock.advance(days=1)
    chat.send("学习")  # the elective? no: mini-b-01 comes next
    assert "+1 积分" in chat.says("C")


# --- streaks --------------------------------------------------------------------------------


def study_once(chat: Chat) -> str:
    chat.send("学习")
    return chat.says(chat.question().options[0].label)


def test_streak_counts_calendar_days_in_shanghai_across_midnight(app: App, clock: FixedClock) -> None:
    chat = Chat(app, pace=20)
    chat.join()
    clock.set(datetime(2026, 10, 31, 23, 59, 0, tzinfo=SHANGHAI))
    chat.send("学习")
    chat.send("B")  # 23:59:40 on the 31st
    text = chat.says("A")  # 00:00:00 on the 1st: over midnight and a month end
    assert "今日签到" in text
    assert "连续学习：2 天" in chat.says("我的")


def test_one_missed_day_a_week_is_forgiven_once(app: App, clock: FixedClock) -> None:
    chat = Chat(app)
    chat.join()
    for day in (12, 13, 15):  # Mon, Tue, (Wed missed), Thu: the freeze keeps it
        clock.set(datetime(2026, 10, day, 9, tzinfo=SHANGHAI))
        study_once(chat)
    me = chat.says("我的")
    assert "连续学习：3 天" in me and "自动补签：已使用" in me
    clock.set(datetime(2026, 10, 17, 9, tzinfo=SHANGHAI))  # Fri missed again, same week
    study_once(chat)
    assert "连续学习：1 天" in chat.says("我的")


def test_a_seven_day_streak_earns_its_bonus_once(app: App, clock: FixedClock) -> None:
    chat = Chat(app)
    chat.join()
    texts = []
    for day in range(12, 19):
        clock.set(datetime(2026, 10, day, 9, tzinfo=SHANGHAI))
        texts.append(study_once(chat))
    assert "连续学习 7 天！+5 积分" in texts[-1]
    assert not any("连续学习 7 天" in t for t in texts[:-1])


# --- review ---------------------------------------------------------------------------------


def test_review_serves_wrong_answers_and_pays_once_a_day(app: App, clock: FixedClock) -> None:
    chat = Chat(app)
    chat.join()
    assert "没有需要复习" in chat.says("复习")
    chat.send("学习")
    chat.send("A")  # wrong (answer is B)
    chat.send("A")  # right
    text = chat.says("复习")
    assert "今日复习：1 道题" in text and "一加一等于几" in text
    done = chat.says("B")
    assert "复习完成：答对 1/1 题" in done and "+3 积分" in done
    assert "没有需要复习" in chat.says("/review")
    # Tomorrow both come back: each is in box 1 (one day), the one reviewed first leads
    clock.advance(days=1)
    text = chat.says("复习")
    assert "今日复习：2 道题" in text and "一加一等于几" in text


def test_review_waits_for_an_open_lesson(chat: Chat) -> None:
    chat.join()
    chat.send("学习")
    assert "请先完成当前课程" in chat.says("复习")


# --- boards ---------------------------------------------------------------------------------


def test_relative_board_shows_five_above_and_five_below(app: App, engine) -> None:
    chats = [Chat(app, f"w{i}") for i in range(13)]
    for i, c in enumerate(chats):
        c.join(name=f"工人{chr(0x4e00 + i)}甲")
    # Give worker i exactly i+1 sign-ins' worth of points by granting directly via the ledger.
    from bot.domain.points import PointsRules, Rule
    from bot.ledger import grant

    rules = PointsRules(rules={"x": Rule("x", 1, "测试")}, daily_total_cap=None)
    now = app.deps.clock.now()
    with transaction(engine) as s:
        users = s.exec(select(User).order_by(User.id)).all()
        for i, user in enumerate(users):
            for k in range(i + 1):
                grant(s, user, "x", f"x:{user.id}:{k}", "", now, now.date(), rules)
    text = chats[6].says("排行")  # 7 points: rank 7 of 13
    around = text.split("📍 你的位置（全市第 7 名，7 分）\n")[1].split("\n\n")[0].splitlines()
    assert [line.split(".")[0] for line in around] == [str(n) for n in range(2, 13)]
    assert around[5].endswith("← 你")


def test_opting_out_removes_a_worker_from_public_boards(app: App) -> None:
    a, b = Chat(app, "a"), Chat(app, "b")
    a.join(name="张三明")
    b.join(name="李四")
    for c in (a, b):
        study_once(c)
    assert "张*明" in b.says("排行")
    assert "不在排行榜公开展示" in a.says("隐藏排名")
    assert "张*明" not in b.says("排行")
    own = a.says("排行")
    assert "你已设置不在排行榜公开展示" in own
    study_once(a)  # scores keep counting while hidden
    a.send("公开排名")
    assert "张*明" in b.says("排行 总")


def test_enterprise_participation_board(app: App) -> None:
    a, b, c = Chat(app, "a"), Chat(app, "b"), Chat(app, "c")
    a.join()
    b.join(name="李四")
    c.join(name="王五", invite="OTHER")
    finish_required(a)
    text = c.says("排行 企业")
    assert "1. 测试机械厂　已完成 1 人 / 注册 2 人（50%）" in text
    assert "2. 另一家厂　已完成 0 人 / 注册 1 人（0%）" in text
    assert "你的企业「另一家厂」排第 2 名" in text


# --- data packs ---------------------------------------------------------------------------


def test_data_packs_go_to_the_first_finishers_then_run_out(engine, db_url: str,
                                                          clock: FixedClock) -> None:
    small = make_app(engine, db_url, clock, data_pack_limit=2)
    chats = [Chat(small, f"w{i}") for i in range(3)]
    for i, c in enumerate(chats):
        c.join(name=f"工人{'甲乙丙'[i]}")
    results = ["\n".join(finish_required(c)) for c in chats]
    assert "你是全市第 1 位完成两门必修课的学员" in results[0]
    assert "你是全市第 2 位" in results[1]
    assert "已经全部发放完毕" in results[2]
    assert [rec(c)["data_pack"] for c in chats] == [1, 2, None]
    assert "流量包还剩 0 份" in chats[2].says("我的")


def test_the_winner_gives_a_phone_number_kept_encrypted(chat: Chat, engine) -> None:
    chat.join()
    finish_required(chat)
    assert "11 位数字" in chat.says("1381234")  # too short: asked again
    assert "已登记充值号码 138****5678" in chat.says("138-1234-5678")
    assert "第 1 号，138****5678" in chat.says("我的")
    with Session(engine) as s:
        pack = s.exec(select(DataPack)).one()
        assert "13812345678" not in (pack.phone_encrypted or "")
        assert reveal_phone(pack, chat.app.deps.settings.secret_key.get_secret_value()) == \
            "13812345678"
    # a second number is not taken over the first
    assert "没听懂" in chat.says("13900000000")


# --- mall -----------------------------------------------------------------------------------


def test_mall_redeem_debits_points_and_respects_stock_and_limits(app: App, engine) -> None:
    now = app.deps.clock.now()
    with transaction(engine) as s:
        item = add_item(s, "10元话费券", cost=5, stock=1, per_person=1, now=now)
        item_id = item.id
    a, b = Chat(app, "a"), Chat(app, "b")
    a.join()
    b.join(name="李四")
    assert "10元话费券 — 5 积分（剩 1 件" in a.says("商城")
    assert "积分不足" in a.says(f"兑换 {item_id}")
    for c in (a, b):  # sign-in 1 + two first-correct 2 + lesson pass 2 = 5 points
        c.send("学习")
        c.send("B")
        c.send("A")
    ok = a.says(f"兑换 {item_id}")
    assert "兑换成功" in ok and "剩余 0 积分" in ok and "兑换码：" in ok
    assert "已经兑完了" in b.says(choice=f"cmd:redeem:{item_id}")
    assert "没有编号为 99 的商品" in b.says("兑换 99")
    assert "请回复「兑换 编号」" in b.says("兑换 一")
    assert rec(a)["points"] == 0 and rec(b)["points"] == 5
    with transaction(engine) as s:
        add_item(s, "毛巾", cost=1, stock=5, per_person=1, now=now)
    towel = f"兑换 {item_id + 1}"
    assert "兑换成功" in b.says(towel)
    assert "每人限兑 1 件" in b.says(towel)
    assert rec(b)["points"] == 4


# --- anti-cheat -------------------------------------------------------------------------------


def test_answers_faster_than_reading_earn_nothing_and_flag_the_account(app: App) -> None:
    bot_like = Chat(app, "fast", pace=0.5)
    bot_like.join()
    texts = finish_required(bot_like)
    assert all("答得太快了" in t for t in texts)
    r = rec(bot_like)
    assert r["points"] == 0  # not even the lesson passes
    assert r["credits"] == 4  # progress still counts; the flag is for a person to review
    assert r["flagged"] is True
    assert "正在核查答题记录" in bot_like.says("我的")


def test_a_flood_of_messages_is_slowed_down_and_changes_nothing(app: App) -> None:
    chat = Chat(app, pace=0.1)
    chat.join()
    for _ in range(30):
        chat.send("帮助")
    assert "操作太频繁" in chat.says("学习")
    with Session(app.engine) as s:
        assert s.execute(text("SELECT count(*) FROM lessonattempt")).scalar() == 0

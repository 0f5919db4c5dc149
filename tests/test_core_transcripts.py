"""Core transcripts: a worker talks to the platform-neutral core; replies and the DB are checked."""

from __future__ import annotations

from sqlmodel import Session, func, select

from bot.ledger import points_balance
from bot.models import Answer, InboxEvent, PointsEntry, User
from bot.records import find_user, user_record
from tests.conftest import Chat


def record(chat: Chat) -> dict:
    with Session(chat.app.engine) as session:
        user = find_user(session, chat.channel, chat.external_id)
        assert user is not None
        return user_record(session, chat.app.deps.bank, user, chat.channel, chat.external_id)


def test_first_message_without_invite_asks_for_the_invite_code(chat: Chat) -> None:
    assert "邀请码" in chat.says("你好")
    assert "没有找到邀请码" in chat.says("NOPE99")
    assert "请回复你的真实姓名" in chat.says("acme")  # case-insensitive


def test_joining_asks_name_then_group_and_each_prompt_says_what_to_send(chat: Chat) -> None:
    assert "测试机械厂" in chat.says("/start ACME")
    assert "姓名需要" in chat.says("12")
    reply = chat.says("张三明")
    assert "回复数字 1-4" in reply
    assert [o.payload for o in chat.last[0].options] == ["g:1", "g:2", "g:3", "g:4"]
    assert "请回复 1、2、3 或 4" in chat.says("5")
    assert "注册完成" in chat.says("２")  # full-width digit
    rec = record(chat)
    assert (rec["name"], rec["enterprise"], rec["group"], rec["state"]) == (
        "张三明", "测试机械厂", 2, "ready")


def test_commands_before_joining_lead_back_to_the_joining_step(chat: Chat) -> None:
    chat.send("/start ACME")
    text = chat.says("学习")
    assert "请先完成注册" in text
    assert "姓名" in text


def test_learn_answer_right_and_wrong_then_finish_course_and_see_credit(chat: Chat) -> None:
    chat.join()
    replies = chat.send("/learn")
    assert "迷你必修甲 · 第 1/2 课" in replies[0].text
    assert replies[1].kind == "question"
    assert "第 1/2 题" in replies[1].text
    right = chat.says("b")  # lower-case letter
    assert "✅ 回答正确" in right
    assert "+1 积分" in right
    assert "依据：算术常识" in right
    wrong = chat.says("B")  # true/false question: B = 错误, which is wrong
    assert "❌ 回答错误。正确答案：A" in wrong
    assert "未达到通过线" in wrong  # 1/2 < 60 %
    rec = record(chat)
    assert rec["courses"]["mini-a"] == {"lessons_done": 0, "lessons_total": 2,
                                        "credit_earned": False}
    # Retake lesson 1; the question answered right before earns no second point.
    chat.send("学习")
    again = chat.says("Ｂ")  # full-width
    assert "✅ 回答正确" in again
    assert "积分" not in again.split("\n")[0]
    passed = chat.says("对")
    assert "通过！" in passed
    assert "+2 积分" in passed
    chat.send("学习")
    assert "第 2/2 课" in chat.last[0].text
    assert chat.question().multi
    chat.send("A、C")
    done = chat.says("B.")
    assert "恭喜！你已学完《迷你必修甲》全部课程，获得 2 学分" in done
    me = chat.says("我的")
    assert "学分：2" in me
    assert "✅ 迷你必修甲（必修）：2/2 课 ✓ 已获 2 学分" in me
    rec = record(chat)
    assert rec["credits"] == 2
    assert rec["courses"]["mini-a"]["credit_earned"] is True
    # 4 first-correct answers, 2 lesson passes, 1 course, 1 daily sign-in
    assert rec["points"] == 4 * 1 + 2 * 2 + 10 + 1
    assert rec["answers"] == 6
    assert rec["correct"] == 5


def test_next_lesson_takes_required_courses_in_order_then_electives(chat: Chat) -> None:
    chat.join()
    order = []
    answers = {"mini-a-01": ["B", "A"], "mini-a-02": ["AC", "B"], "mini-b-01": ["C"],
               "mini-c-01": ["B"]}
    for lesson_id in answers:
        chat.send("学习")
        order.append(chat.last[0].text.split("\n")[0].split("：", 1)[1])
        for letters in answers[lesson_id]:
            chat.send(letters)
    assert order == ["第一课", "第二课", "唯一一课", "选修一课"]
    assert "已经学完全部课程" in chat.says("学习")
    assert record(chat)["credits"] == 5


def test_a_redelivered_event_returns_the_same_replies_and_changes_nothing(chat: Chat) -> None:
    chat.join()
    chat.send("学习")
    first = chat.send("B", key="wechat-msg-42")
    with Session(chat.app.engine) as s:
        before = (s.exec(select(func.count()).select_from(Answer)).one(),
                  s.exec(select(func.count()).select_from(PointsEntry)).one(),
                  s.exec(select(func.count()).select_from(InboxEvent)).one())
    for _ in range(3):
        assert chat.send("B", key="wechat-msg-42") == first
    with Session(chat.app.engine) as s:
        after = (s.exec(select(func.count()).select_from(Answer)).one(),
                 s.exec(select(func.count()).select_from(PointsEntry)).one(),
                 s.exec(select(func.count()).select_from(InboxEvent)).one())
    assert after == before
    assert record(chat)["answers"] == 1


def test_a_stale_or_forged_button_changes_nothing_and_says_so(chat: Chat) -> None:
    chat.join()
    chat.send("学习")
    payload = chat.question().options[1].payload
    assert "回答正确" in chat.says(choice=payload)
    assert "已经作答过或已过期" in chat.says(choice=payload)  # tapped again
    assert "已经作答过或已过期" in chat.says(choice="q:999:0:A")  # forged attempt
    assert "已经作答过或已过期" in chat.says(choice="q:x:y")  # malformed
    assert record(chat)["answers"] == 1


def test_buttons_answer_multiple_choice_with_several_letters(chat: Chat) -> None:
    chat.join()
    for letters in ["B", "A"]:
        if not chat.last or chat.last[-1].kind != "question":
            chat.send("学习")
        chat.send(letters)
    chat.send("学习")
    q = chat.question()
    attempt, position = q.extra["attempt"], q.extra["position"]
    assert "回答正确" in chat.says(choice=f"q:{attempt}:{position}:CA")


def test_unknown_text_gets_a_short_help_never_silence(chat: Chat) -> None:
    chat.join()
    assert "没听懂「随便说说」" in chat.says("随便说说")
    assert "没听懂" in chat.says("/nosuchcommand")
    assert "帮助" in chat.says("")
    assert "学习 /learn" in chat.says("/help")


def test_ledger_sum_equals_cached_balance(chat: Chat) -> None:
    chat.join()
    chat.send("学习")
    chat.send("B")
    chat.send("A")
    with Session(chat.app.engine) as s:
        user = s.exec(select(User)).one()
        assert points_balance(s, user.id) == user.points == 1 + 1 + 2 + 1


def test_rank_shows_masked_names_own_rank_and_the_tie_break(app, chat: Chat) -> None:
    other = Chat(app, "w2")
    other.join(name="李四", invite="OTHER")
    other.send("学习")
    other.send("B")  # 1 + 1 sign-in, reached first
    chat.join(name="王小明")
    chat.send("学习")
    chat.send("B")  # the same score, reached later
    text = chat.says("排行")
    assert "全市本月积分榜\n1. 李*　2 分\n2. 王*明　2 分 ← 你" in text
    assert "📍 你的位置（全市第 2 名，2 分）" in text
    assert "测试机械厂 本月积分榜\n1. 王*明　2 分 ← 你" in text
    assert "先达到该积分者在前" in text
    assert "李四" not in text
    assert [o.label for o in chat.last[0].options] == ["周榜", "月榜", "年榜", "总榜", "企业榜"]


def test_start_when_already_joined_welcomes_back(chat: Chat) -> None:
    chat.join()
    assert "欢迎回来，张三明" in chat.says("/start ACME")


def test_menu_events_and_unsubscribe(chat: Chat) -> None:
    chat.join()
    assert "第 1/2 课" in chat.says(event="menu", event_key="LEARN")
    assert chat.send(event="unsubscribe") == []
    with Session(chat.app.engine) as s:
        assert s.exec(select(User)).one().reachable is False
    assert "积分" in chat.says(event="menu", event_key="ME")


def test_subscribe_with_qr_scene_binds_the_enterprise(app) -> None:
    chat = Chat(app, "openid-1", channel="wechat")
    assert "测试机械厂" in chat.says(event="subscribe", event_key="qrscene_ACME")

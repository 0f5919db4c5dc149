"""The Telegram channel end to end: the real PTB Application, over real HTTP, against a fake
Bot API on 127.0.0.1 — through the webhook in our web app and through long polling."""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import os
import random
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlmodel import Session, func, select
from typer.testing import CliRunner

from bot import messages as m
from bot.app import App, build_app
from bot.channels.telegram import TelegramChannel
from bot.channels.telegram_buttons import ButtonSigner
from bot.channels.telegram_sender import FloodLimiter, TelegramSender
from bot.chat import Reply
from bot.cli import app as cli_app
from bot.clock import FixedClock, SystemClock
from bot.db import make_engine, transaction
from bot.enterprises import ensure_enterprise
from bot.migrate import upgrade
from bot.models import Account, Answer, InboxEvent, User
from bot.records import find_user, user_record
from bot.web import MAX_BODY, create_web_app
from handlers.routes import ROUTES
from tests.conftest import MINI_BANK, make_settings
from tests.fake_telegram import (
    TOKEN,
    FakeTelegram,
    Sent,
    ThreadedServer,
    button,
    callback_update,
    message_update,
)

SECRET = "hook-secret-0123456789"
WORKER = 5550001
OTHER = 5550002


@pytest.fixture(scope="module")
def fake_server() -> Iterator[FakeTelegram]:
    server = FakeTelegram()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def fake(fake_server: FakeTelegram) -> FakeTelegram:
    fake_server.reset()
    return fake_server


@pytest.fixture
def tg_app(engine: Any, db_url: str, clock: FixedClock, fake: FakeTelegram) -> App:
    settings = make_settings(db_url, telegram_bot_token=TOKEN,
                             telegram_api_base_url=fake.base_url,
                             telegram_webhook_secret=SECRET)
    application = build_app(settings, clock=clock, rng=random.Random(7), engine=engine,
                            shuffle=False)
    with transaction(engine) as session:
        ensure_enterprise(session, "测试机械厂", "ACME", clock.now())
    return application


def no_errors(channel: TelegramChannel, caplog: pytest.LogCaptureFixture) -> None:
    """PTB swallows handler exceptions: fail the test if its error handler saw any."""
    assert list(channel.errors) == []
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []


class Hook:
    """Deliver updates to POST /telegram the way Telegram does, and tap the bot's buttons."""

    def __init__(self, client: httpx.Client, fake: FakeTelegram, clock: FixedClock,
                 channel: TelegramChannel) -> None:
        self.client = client
        self.fake = fake
        self.clock = clock
        self.channel = channel

    def post(self, update: dict[str, Any] | bytes, secret: str | None = SECRET) -> httpx.Response:
        body = update if isinstance(update, bytes) else json.dumps(update).encode()
        headers = {"Content-Type": "application/json"}
        if secret is not None:
            headers["X-Telegram-Bot-Api-Secret-Token"] = secret
        return self.client.post("/telegram", content=body, headers=headers)

    def deliver(self, update: dict[str, Any]) -> dict[str, Any]:
        self.clock.advance(seconds=20)  # a person reads and types between messages
        response = self.post(update)
        assert response.status_code == 200, response.text
        return update

    def say(self, text: str, user: int = WORKER) -> dict[str, Any]:
        return self.deliver(message_update(self.fake.new_update_id(), user, text))

    def tap(self, label: str, user: int = WORKER, sent: Sent | None = None) -> dict[str, Any]:
        sent = sent or self.fake.last_with_keyboard(user)
        return self.deliver(callback_update(self.fake.new_update_id(), user,
                                            button(sent, label), sent))

    def last_text(self, user: int = WORKER) -> str:
        return self.fake.texts_to(user)[-1]

    def join(self, user: int = WORKER) -> None:
        self.say("/start ACME", user)
        self.say("王小明", user)
        self.tap("2. 产业工人", user)


@pytest.fixture
def hook(tg_app: App, fake: FakeTelegram, clock: FixedClock,
         caplog: pytest.LogCaptureFixture) -> Iterator[Hook]:
    web = create_web_app(tg_app)
    channel: TelegramChannel = web.state.telegram
    channel.limiter.private_interval = 0.0  # type: ignore[attr-defined]  # pacing has its own test
    server = ThreadedServer(web)
    server.start()
    try:
        with httpx.Client(base_url=server.url, timeout=30) as client:
            yield Hook(client, fake, clock, channel)
    finally:
        server.stop()
    no_errors(channel, caplog)


def record(app: App, user: int = WORKER) -> dict[str, Any]:
    with Session(app.engine) as session:
        found = find_user(session, "telegram", str(user))
        assert found is not None
        return user_record(session, app.deps.bank, found, "telegram", str(user))


def count(app: App, table: Any) -> int:
    with Session(app.engine) as session:
        return int(session.exec(select(func.count()).select_from(table)).one())


# --- the worker's journey --------------------------------------------------------------------

def test_deep_link_join_then_lesson_answered_by_buttons_earns_the_credit(
        hook: Hook, fake: FakeTelegram, tg_app: App) -> None:
    hook.say("/start ACME")  # what t.me/<bot>?start=ACME sends
    assert "欢迎加入「测试机械厂」" in hook.last_text()
    hook.say("王小明")
    groups = fake.last_with_keyboard(WORKER)
    assert [b["text"] for row in groups.keyboard for b in row][:2] == ["1. 新到珠产业工人",
                                                                      "2. 产业工人"]
    hook.tap("2. 产业工人")
    assert "注册完成" in hook.last_text()
    hook.tap("开始学习")
    lesson, question = fake.texts_to(WORKER)[-2:]
    assert "迷你必修甲 · 第 1/2 课" in lesson
    assert question.startswith("第 1/2 题（单选）")
    q1 = fake.last_with_keyboard(WORKER)
    assert [b["text"] for b in q1.keyboard[0]] == ["A", "B", "C"]

    hook.tap("B", sent=q1)
    # The question message itself now shows the choice and the outcome, without buttons.
    edited = fake.messages[(WORKER, q1.message_id)]
    assert edited.text.startswith("第 1/2 题（单选）")
    assert "你的选择：B" in edited.text
    assert "✅ 回答正确" in edited.text
    assert edited.keyboard == []
    assert "第 2/2 题（判断）" in hook.last_text()
    hook.tap("A")
    assert "通过" in "\n".join(fake.texts_to(WORKER)[-3:])

    hook.tap("继续学习")
    assert "第 2/2 课" in fake.texts_to(WORKER)[-2]
    hook.tap("A")  # multi-choice: toggles, then submit
    hook.tap("C")
    hook.tap("提交 AC")
    assert "✅ 回答正确" in fake.messages[(WORKER, fake.calls_to("editMessageText")[-1]
                                          .params["message_id"])].text
    hook.tap("B")
    assert any("恭喜！你已学完《迷你必修甲》全部课程，获得 2 学分" in t for t in fake.texts_to(WORKER))

    rec = record(tg_app)
    assert rec["credits"] == 2
    assert rec["courses"]["mini-a"] == {"lessons_done": 2, "lessons_total": 2,
                                        "credit_earned": True}
    assert rec["answers"] == 4 and rec["correct"] == 4
    taps = 9  # group, 开始学习, B, A, 继续学习, A, C, 提交, B
    assert len(fake.calls_to("answerCallbackQuery")) == taps


def test_multi_choice_toggles_redraw_the_keyboard_and_submit_sends_the_selection(
        hook: Hook, fake: FakeTelegram, tg_app: App) -> None:
    hook.join()
    for text in ["学习", "B", "A", "学习"]:  # typed answers work too
        hook.say(text)
    question = fake.last_with_keyboard(WORKER)
    assert "（多选）" in question.text
    labels = [[b["text"] for b in row] for row in question.keyboard]
    assert labels == [["A", "B", "C", "D"], [m.TELEGRAM_SUBMIT]]

    hook.tap(m.TELEGRAM_SUBMIT)  # nothing picked yet: a hint, nothing recorded
    assert fake.calls_to("answerCallbackQuery")[-1].params["text"] == m.TELEGRAM_PICK_FIRST
    hook.tap("A")
    hook.tap("B")
    now = fake.messages[(WORKER, question.message_id)]
    assert [[b["text"] for b in row] for row in now.keyboard] == [
        ["✅ A", "✅ B", "C", "D"], ["提交 AB"]]
    hook.tap("✅ B")  # untoggle
    hook.tap("C")
    assert [[b["text"] for b in row] for row in now.keyboard][-1] == ["提交 AC"]
    answers_before = record(tg_app)["answers"]
    assert len(fake.calls_to("editMessageReplyMarkup")) == 4  # no core call for toggles
    hook.tap("提交 AC")
    assert "你的选择：AC" in now.text and "✅ 回答正确" in now.text
    assert record(tg_app)["answers"] == answers_before + 1


def test_set_my_commands_at_start_up_with_chinese_descriptions(hook: Hook,
                                                               fake: FakeTelegram) -> None:
    calls = fake.calls_to("setMyCommands")
    assert len(calls) == 1
    commands = calls[0].params["commands"]
    expected = [{"command": r.command, "description": m.COMMAND_DESCRIPTIONS[r.name]}
                for r in ROUTES if r.name in m.COMMAND_DESCRIPTIONS]
    assert commands == expected
    assert {"command": "learn", "description": "学习下一课"} in commands


def test_stickers_and_photos_get_a_short_help_not_silence(hook: Hook) -> None:
    hook.deliver(message_update(hook.fake.new_update_id(), WORKER,
                                sticker={"file_id": "s", "file_unique_id": "s", "type": "regular",
                                         "width": 1, "height": 1, "is_animated": False,
                                         "is_video": False}))
    assert hook.last_text() == m.UNKNOWN_EMPTY


# --- exactly once ----------------------------------------------------------------------------

def test_the_same_update_posted_twice_counts_once(hook: Hook, fake: FakeTelegram,
                                                  tg_app: App) -> None:
    hook.join()
    hook.say("学习")
    sent = fake.last_with_keyboard(WORKER)
    update = callback_update(fake.new_update_id(), WORKER, button(sent, "B"), sent)
    hook.deliver(update)
    inbox = count(tg_app, InboxEvent)
    hook.deliver(update)  # Telegram re-delivers: our 200 was lost
    assert count(tg_app, InboxEvent) == inbox
    assert count(tg_app, Answer) == 1
    rec = record(tg_app)
    assert (rec["answers"], rec["points"]) == (1, record(tg_app)["points"])
    assert rec["answers"] == 1


def test_a_forged_or_foreign_button_is_refused_and_the_core_never_sees_it(
        hook: Hook, fake: FakeTelegram, tg_app: App) -> None:
    hook.join()
    hook.join(OTHER)
    hook.say("学习")
    sent = fake.last_with_keyboard(WORKER)
    data = button(sent, "B")
    body, _, tag = data.rpartition("|")
    inbox = count(tg_app, InboxEvent)
    forged = [
        body.replace(":B", ":A") + "|" + tag,  # another answer under the old tag
        body + "|" + ("A" * len(tag)),  # a made-up tag
        "Pq:1:0:B",  # no tag at all
    ]
    for n, data_ in enumerate(forged, 1):
        hook.deliver(callback_update(fake.new_update_id(), WORKER, data_, sent))
        assert hook.last_text() == m.TELEGRAM_BUTTON_INVALID
        assert len(fake.calls_to("answerCallbackQuery")) >= n
    # A real button, but tapped by someone else (tags are bound to the chat).
    hook.deliver(callback_update(fake.new_update_id(), OTHER, data, sent))
    assert hook.last_text(OTHER) == m.TELEGRAM_BUTTON_INVALID
    assert count(tg_app, InboxEvent) == inbox
    assert count(tg_app, Answer) == 0
    hook.tap("B", sent=sent)  # the genuine button still works
    assert count(tg_app, Answer) == 1


# --- flood limits ----------------------------------------------------------------------------

def test_a_429_with_retry_after_waits_then_delivers(hook: Hook, fake: FakeTelegram) -> None:
    fake.fail_next("sendMessage", 429, retry_after=1)
    hook.say("/start ACME")
    attempts = fake.calls_to("sendMessage", ok_only=False)
    assert [c.status for c in attempts] == [429, 200]
    assert attempts[1].at - attempts[0].at >= 1.0
    assert attempts[1].params["text"] == attempts[0].params["text"]
    assert "欢迎加入" in attempts[1].params["text"]


def test_a_worker_who_blocked_the_bot_is_marked_unreachable_not_retried(
        hook: Hook, fake: FakeTelegram, tg_app: App) -> None:
    hook.join()
    fake.block(WORKER)
    before = len(fake.calls_to("sendMessage", ok_only=False))
    hook.say("学习")  # two replies due; the first send is refused
    assert len(fake.calls_to("sendMessage", ok_only=False)) == before + 1
    with Session(tg_app.engine) as session:
        user = find_user(session, "telegram", str(WORKER))
        assert user is not None and user.reachable is False


def test_one_private_chat_gets_at_most_one_message_per_interval(
        tg_app: App, fake: FakeTelegram, caplog: pytest.LogCaptureFixture) -> None:
    interval = 0.3

    async def run() -> None:
        channel = TelegramChannel(tg_app, webhook=True,
                                  limiter=FloodLimiter(private_interval=interval))
        async with channel.application:
            ok = await channel.sender.send(str(WORKER), [Reply("一"), Reply("二"), Reply("三")])
            assert ok
        no_errors(channel, caplog)

    asyncio.run(run())
    times = [c.at for c in fake.calls_to("sendMessage")]
    assert len(times) == 3
    # "At least": arrival times carry a little network jitter either way.
    assert all(b - a >= interval - 0.05 for a, b in itertools.pairwise(times))


# --- the webhook's front door ----------------------------------------------------------------

def nothing_written(app: App) -> bool:
    return count(app, InboxEvent) == 0 and count(app, Account) == 0 and count(app, User) == 0


def test_wrong_or_missing_secret_is_403_and_nothing_is_processed(
        hook: Hook, fake: FakeTelegram, tg_app: App) -> None:
    update = message_update(fake.new_update_id(), WORKER, "/start ACME")
    assert hook.post(update, secret="wrong").status_code == 403
    assert hook.post(update, secret=None).status_code == 403
    assert hook.post(update, secret=SECRET[:-1]).status_code == 403
    assert nothing_written(tg_app)
    assert fake.calls_to("sendMessage") == []


@pytest.mark.parametrize("body", [b"{not json", b"[]", b"42", b'{"message": {}}', b"",
                                  b'{"update_id": "x", "message": 5}'])
def test_malformed_updates_are_400_never_500(hook: Hook, tg_app: App, body: bytes) -> None:
    assert hook.post(body).status_code == 400
    assert nothing_written(tg_app)


def test_an_oversized_body_is_413(hook: Hook, tg_app: App) -> None:
    update = message_update(hook.fake.new_update_id(), WORKER, "学" * MAX_BODY)
    assert hook.post(update).status_code == 413
    assert nothing_written(tg_app)


def test_webhook_is_only_mounted_with_a_bot_token(db_url: str, engine: Any) -> None:
    web = create_web_app(build_app(make_settings(db_url), engine=engine))
    server = ThreadedServer(web)
    server.start()
    try:
        assert httpx.post(server.url + "/telegram", content=b"{}").status_code == 404
        assert httpx.get(server.url + "/healthz").status_code == 200
    finally:
        server.stop()


# --- errors ----------------------------------------------------------------------------------

def test_a_failing_update_is_logged_once_and_the_worker_gets_an_apology(
        hook: Hook, fake: FakeTelegram, caplog: pytest.LogCaptureFixture,
        monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(_inbound: object) -> list[Reply]:
        raise RuntimeError("database on fire")

    monkeypatch.setattr(hook.channel.core, "handle", broken)
    hook.say("学习")
    assert hook.last_text() == m.SORRY
    assert not any("database on fire" in t or "Traceback" in t for t in fake.texts_to(WORKER))
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1
    assert "telegram update" in errors[0].getMessage()
    assert isinstance(next(iter(hook.channel.errors)), RuntimeError)
    # Expected here: clear what the fixture would otherwise report as a failure.
    hook.channel.errors.clear()
    caplog.clear()


# --- long polling ----------------------------------------------------------------------------

def test_long_polling_processes_updates_from_get_updates(
        tg_app: App, fake: FakeTelegram, caplog: pytest.LogCaptureFixture) -> None:
    channel = TelegramChannel(tg_app, limiter=FloodLimiter(private_interval=0))
    thread = threading.Thread(target=channel.run_polling, kwargs={"stop_signals": None})
    thread.start()
    try:
        fake.push_update(message_update(fake.new_update_id(), WORKER, "/start ACME"))
        fake.wait_for(lambda: any("欢迎加入" in t for t in fake.texts_to(WORKER)))
        fake.push_update(message_update(fake.new_update_id(), WORKER, "王小明"))
        fake.wait_for(lambda: bool(fake.messages) and any(
            s.keyboard for s in fake.messages.values()))
        sent = fake.last_with_keyboard(WORKER)
        fake.push_update(callback_update(fake.new_update_id(), WORKER,
                                         button(sent, "3. 骨干专业技术人才"), sent))
        fake.wait_for(lambda: any("注册完成" in t for t in fake.texts_to(WORKER)))
    finally:
        channel.request_stop()
        thread.join(timeout=20)
    assert not thread.is_alive()
    assert fake.calls_to("deleteWebhook")  # polling and a webhook exclude each other
    assert fake.calls_to("setMyCommands")
    assert fake.calls_to("getUpdates")[0].params["allowed_updates"] == ["message",
                                                                       "callback_query"]
    rec = record(tg_app)
    assert (rec["name"], rec["group"], rec["state"]) == ("王小明", 3, "ready")
    no_errors(channel, caplog)


# --- rendering -------------------------------------------------------------------------------

def test_long_texts_are_split_and_images_go_by_send_photo(
        tg_app: App, fake: FakeTelegram, caplog: pytest.LogCaptureFixture) -> None:
    long_text = "\n".join(f"第 {i} 行：" + "安全生产" * 40 for i in range(60))  # ~10 000 chars

    async def run() -> None:
        channel = TelegramChannel(tg_app, webhook=True,
                                  limiter=FloodLimiter(private_interval=0))
        async with channel.application:
            replies = [Reply(long_text, options=channel_options()),
                       Reply("看图学安全", image="https://example.com/helmet.png")]
            assert await channel.sender.send(str(WORKER), replies)
        no_errors(channel, caplog)

    asyncio.run(run())
    texts = [c.params for c in fake.calls_to("sendMessage")]
    assert len(texts) == 3
    assert all(len(p["text"]) <= 4096 for p in texts)
    assert "\n".join(p["text"] for p in texts) == long_text
    assert [("reply_markup" in p) for p in texts] == [False, False, True]  # buttons come last
    photo = fake.calls_to("sendPhoto")[0].params
    assert (photo["photo"], photo["caption"]) == ("https://example.com/helmet.png", "看图学安全")


def channel_options() -> tuple[Any, ...]:
    from bot.chat import Option
    return (Option(m.CONTINUE_LABEL, "cmd:learn"),)


def test_sender_can_notify_any_worker_later(tg_app: App, fake: FakeTelegram) -> None:
    async def run() -> bool:
        async with TelegramChannel(tg_app, webhook=True).application as application:
            signer = ButtonSigner(b"k")
            sender = TelegramSender(application.bot, tg_app.engine, signer)
            return await sender.send(str(OTHER), [Reply("📣 本月抽奖结果已公布")])

    assert asyncio.run(run()) is True
    assert fake.texts_to(OTHER) == ["📣 本月抽奖结果已公布"]


# --- command line ----------------------------------------------------------------------------

def test_webhook_set_command_registers_url_with_the_secret(fake: FakeTelegram,
                                                           monkeypatch: pytest.MonkeyPatch,
                                                           tmp_path: Any) -> None:
    monkeypatch.chdir(tmp_path)  # no stray .env
    env = {"TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_API_BASE_URL": fake.base_url,
           "TELEGRAM_WEBHOOK_SECRET": SECRET}
    result = CliRunner().invoke(cli_app, ["telegram", "webhook", "set",
                                          "https://jixing.example.com/telegram"], env=env)
    assert result.exit_code == 0, result.output
    params = fake.calls_to("setWebhook")[0].params
    assert params["url"] == "https://jixing.example.com/telegram"
    assert params["secret_token"] == SECRET
    assert params["allowed_updates"] == ["message", "callback_query"]
    result = CliRunner().invoke(cli_app, ["telegram", "webhook", "set", "https://x.example"],
                                env={**env, "TELEGRAM_WEBHOOK_SECRET": ""})
    assert result.exit_code != 0


def test_jixing_telegram_command_long_polls_until_interrupted(fake: FakeTelegram,
                                                              tmp_path: Any) -> None:
    db = f"sqlite:///{tmp_path / 'polling.db'}"
    upgrade(db)
    engine = make_engine(db)
    with transaction(engine) as session:
        ensure_enterprise(session, "测试机械厂", "ACME", SystemClock().now())
    engine.dispose()
    env = {**os.environ, "DATABASE_URL": db, "QUIZ_BANK_PATH": str(MINI_BANK),
           "TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_API_BASE_URL": fake.base_url}
    proc = subprocess.Popen([sys.executable, "-m", "bot", "telegram"], cwd=tmp_path, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        fake.push_update(message_update(fake.new_update_id(), WORKER, "/start ACME"))
        fake.wait_for(lambda: any("欢迎加入" in t for t in fake.texts_to(WORKER)), timeout=30)
    finally:
        proc.send_signal(signal.SIGINT)
        output, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0, output
    assert TOKEN not in output  # request URLs carry the token: never logged
    assert "Traceback" not in output

"""The outbound WeChat client against an API stand-in on 127.0.0.1: tokens, windows, menu."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from wechatpy.exceptions import WeChatClientException

from bot.app import App
from bot.channels.wechat_menu import MENU, menu_json, menu_keys
from bot.channels.wechat_outbound import (
    DbTokenStorage,
    WeChatApiClient,
    WeChatSender,
    wechat_client,
    wechat_sender,
)
from bot.clock import FixedClock
from handlers.routes import BY_MENU_KEY
from tests.conftest import Chat, make_settings
from tests.fake_wechat_api import (
    APP_ID,
    APP_SECRET,
    FakeWeChatApi,
    running_fake_api,
    wechat_settings,
)

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def fake_api() -> Iterator[FakeWeChatApi]:
    with running_fake_api() as api:
        yield api


def client(api: FakeWeChatApi, engine: Engine, clock: FixedClock) -> WeChatApiClient:
    """A fresh client, as a separate process would have: nothing shared but the database."""
    return WeChatApiClient(APP_ID, APP_SECRET, api.base_url, DbTokenStorage(engine, clock))


def sender(api: FakeWeChatApi, engine: Engine, clock: FixedClock,
           template: str | None = "TEMPLATE-1") -> WeChatSender:
    settings = make_settings("sqlite://", **wechat_settings(api.base_url,
                                                           wechat_template_id=template))
    built = wechat_sender(settings, engine, clock)
    assert built is not None
    return built


def test_the_token_is_fetched_once_and_shared_by_two_clients_through_the_database(
        fake_api: FakeWeChatApi, engine: Engine, clock: FixedClock) -> None:
    one, two = client(fake_api, engine, clock), client(fake_api, engine, clock)
    one.message.send_text("o-1", "你好")
    two.message.send_text("o-2", "你好")
    one.message.send_text("o-3", "你好")
    assert fake_api.token_fetches == 1
    assert [s["to"] for s in fake_api.sent] == ["o-1", "o-2", "o-3"]
    assert all(c.startswith("/cgi-bin/") for c in fake_api.calls)  # WECHAT_API_BASE_URL honoured


def test_an_expired_token_is_fetched_again(fake_api: FakeWeChatApi, engine: Engine,
                                           clock: FixedClock) -> None:
    client(fake_api, engine, clock).message.send_text("o-1", "一")
    clock.advance(seconds=7200 - 200)  # inside the 5-minute safety margin
    client(fake_api, engine, clock).message.send_text("o-1", "二")
    assert fake_api.token_fetches == 2


def test_a_rejected_token_is_refreshed_once_and_the_call_retried(
        fake_api: FakeWeChatApi, engine: Engine, clock: FixedClock) -> None:
    first, second = client(fake_api, engine, clock), client(fake_api, engine, clock)
    first.message.send_text("o-1", "一")
    fake_api.revoke_tokens()  # e.g. someone fetched a token with the same secret elsewhere
    first.message.send_text("o-1", "二")
    assert fake_api.token_fetches == 2
    second.message.send_text("o-1", "三")  # picks up the refreshed token from the database
    assert fake_api.token_fetches == 2
    assert fake_api.texts() == ["一", "二", "三"]


def test_a_token_that_keeps_failing_is_refreshed_only_once(
        fake_api: FakeWeChatApi, engine: Engine, clock: FixedClock) -> None:
    wx = client(fake_api, engine, clock)
    fake_api.fail_next = [40001, 40001, 40001]
    with pytest.raises(WeChatClientException) as raised:
        wx.message.send_text("o-1", "一")
    assert raised.value.errcode == 40001
    assert fake_api.token_fetches == 2  # the first token, then one refresh — no storm
    assert fake_api.sent == []


def test_many_processes_hit_by_40001_at_once_refresh_the_token_once(
        fake_api: FakeWeChatApi, engine: Engine, clock: FixedClock) -> None:
    clients = [client(fake_api, engine, clock) for _ in range(6)]
    clients[0].message.send_text("o-0", "warm-up")
    fake_api.revoke_tokens()
    fake_api.token_delay = 0.3  # a slow token endpoint widens the race
    errors: list[BaseException] = []

    def send(n: int) -> None:
        try:
            clients[n].message.send_text(f"o-{n}", f"msg {n}")
        except BaseException as exc:  # collected and asserted on below
            errors.append(exc)

    threads = [threading.Thread(target=send, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []
    assert fake_api.token_fetches == 2
    assert sorted(fake_api.texts()) == sorted(["warm-up", *(f"msg {n}" for n in range(6))])


def wrote(app: App, openid: str, text: str = "你好", key: str | None = None) -> None:
    """The worker writes to the Official Account (through the core, as /wechat would)."""
    Chat(app, openid, channel="wechat", pace=0).send(text, key=key or f"wechat:{uuid.uuid4()}")


def test_customer_service_messages_within_48_hours_at_most_five_then_templates(
        fake_api: FakeWeChatApi, app: App, engine: Engine, clock: FixedClock) -> None:
    wx = sender(fake_api, engine, clock)
    assert wx.send_text("o-1", "没有来过消息").status == "template"  # never wrote: no window
    wrote(app, "o-1")
    results = [wx.send_text("o-1", f"第{n}条").status for n in range(6)]
    assert results == ["sent"] * 5 + ["template"]
    clock.advance(hours=1)
    wrote(app, "o-1", "学习")  # a new message: a new window and a new quota
    assert wx.send_text("o-1", "新窗口").status == "sent"
    clock.advance(hours=48)
    assert wx.send_text("o-1", "窗口已过").status == "template"
    kinds = [(s["kind"], s["text"]) for s in fake_api.sent]
    assert kinds[0] == ("template", "没有来过消息")
    assert [k for k, _ in kinds] == ["template", *["custom"] * 5, "template", "custom", "template"]
    assert fake_api.sent[-1]["template_id"] == "TEMPLATE-1"


def test_a_retried_message_does_not_reopen_the_window(
        fake_api: FakeWeChatApi, app: App, engine: Engine, clock: FixedClock) -> None:
    wrote(app, "o-1", key="wechat:1001")
    clock.advance(hours=47)
    wrote(app, "o-1", key="wechat:1001")  # WeChat re-sending the old message: not a new one
    clock.advance(hours=2)
    assert sender(fake_api, engine, clock).send_text("o-1", "迟到").status == "template"


def test_the_window_is_per_channel(fake_api: FakeWeChatApi, app: App, engine: Engine,
                                   clock: FixedClock) -> None:
    Chat(app, "o-1", channel="wecom", pace=0).send("你好", key="wecom:1")  # same id, another platform
    assert sender(fake_api, engine, clock).send_text("o-1", "微信").status == "template"


def test_without_a_template_a_push_outside_the_window_is_dropped(
        fake_api: FakeWeChatApi, engine: Engine, clock: FixedClock) -> None:
    wx = sender(fake_api, engine, clock, template=None)
    assert wx.send_text("o-1", "无窗口").status == "dropped"
    assert fake_api.sent == []


def test_wechat_saying_the_window_closed_falls_back_to_a_template(
        fake_api: FakeWeChatApi, app: App, engine: Engine, clock: FixedClock) -> None:
    wx = sender(fake_api, engine, clock)
    wrote(app, "o-1")
    fake_api.fail_next = [45015]
    assert wx.send_text("o-1", "兜底").status == "template"
    assert [s["kind"] for s in fake_api.sent] == ["template"]


def test_an_idempotency_key_sends_once_and_a_failure_gives_the_slot_back(
        fake_api: FakeWeChatApi, app: App, engine: Engine, clock: FixedClock) -> None:
    wx = sender(fake_api, engine, clock)
    wrote(app, "o-1")
    fake_api.fail_next = [45009]
    assert wx.send_text("o-1", "一", idem_key="reply:1").status == "failed"
    assert wx.send_text("o-1", "一", idem_key="reply:1").status == "sent"  # retried: goes out
    assert wx.send_text("o-1", "一", idem_key="reply:1").status == "duplicate"
    assert fake_api.texts() == ["一"]
    for n in range(4):
        assert wx.send_text("o-1", str(n)).status == "sent"  # the failed try used no quota


def test_the_menu_offers_every_action_and_only_routed_keys() -> None:
    assert menu_keys() == ["LEARN", "RANK", "ME", "MALL", "HELP"]
    assert set(menu_keys()) <= set(BY_MENU_KEY)
    assert len(MENU) <= 3  # WeChat's limit on top-level buttons
    for button in menu_json()["button"]:
        assert len(button["name"].encode()) <= 16
        assert len(button.get("sub_button", [])) <= 5


def cli_env(api: FakeWeChatApi, db_url: str, tmp_path: Path) -> dict[str, str]:
    env = {**os.environ, "HOME": str(tmp_path), "DATABASE_URL": db_url,
           "PYTHONPATH": str(ROOT)}
    env.update({k.upper(): str(v) for k, v in wechat_settings(api.base_url).items()})
    return env


def jixing(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bot", *args], env=env, cwd=env["HOME"],
                          capture_output=True, text=True, timeout=120, check=False)


def test_jixing_wechat_menu_pushes_the_menu(fake_api: FakeWeChatApi, engine: Engine,
                                            db_url: str, tmp_path: Path) -> None:
    env = cli_env(fake_api, db_url, tmp_path)
    done = jixing("wechat", "menu", env=env)
    assert done.returncode == 0, done.stderr
    assert "学习 / 排行 / 我的" in done.stdout
    wecom = jixing("wechat", "menu", "--wecom", env=env)
    assert wecom.returncode == 0, wecom.stderr
    menus = [s for s in fake_api.sent if s["kind"] == "menu"]
    assert [m["menu"] for m in menus] == [menu_json(), menu_json()]
    assert menus[1]["to"] == "1000002"  # WeCom menus belong to one app (agentid)
    dry = jixing("wechat", "menu", "--dry-run", env=env)
    assert json.loads(dry.stdout) == menu_json()


def test_jixing_wechat_menu_explains_missing_credentials(engine: Engine, db_url: str,
                                                         tmp_path: Path) -> None:
    env = {**os.environ, "HOME": str(tmp_path), "DATABASE_URL": db_url, "PYTHONPATH": str(ROOT)}
    for name in ("WECHAT_APP_ID", "WECHAT_APP_SECRET"):
        env.pop(name, None)
    done = jixing("wechat", "menu", env=env)
    assert done.returncode == 2
    assert "WECHAT_APP_ID" in done.stdout


def test_jixing_wechat_qrcode_prints_the_enterprise_follow_code(
        fake_api: FakeWeChatApi, engine: Engine, db_url: str, tmp_path: Path) -> None:
    done = jixing("wechat", "qrcode", "acme", env=cli_env(fake_api, db_url, tmp_path))
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().endswith("ticket=TICKET-ACME")


def test_the_client_factory_needs_app_id_and_secret(engine: Engine, clock: FixedClock) -> None:
    assert wechat_client(make_settings("sqlite://"), engine, clock) is None
    built = wechat_client(make_settings("sqlite://", **wechat_settings(
        "http://127.0.0.1:9/cgi-bin")), engine, clock)
    assert built is not None
    assert built.API_BASE_URL == "http://127.0.0.1:9/cgi-bin/"

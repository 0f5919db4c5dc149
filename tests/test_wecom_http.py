"""/wecom over HTTP: WeCom's encrypted echostr and messages, with wechatpy.enterprise's crypto."""

from __future__ import annotations

import random
import time
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from fastapi import FastAPI
from sqlmodel import Session, select

from bot import messages as m
from bot.app import App, build_app
from bot.clock import FixedClock
from bot.models import InboxEvent
from bot.records import find_user, user_record
from bot.web import create_web_app
from tests.conftest import make_settings
from tests.fake_wechat_api import (
    WECOM_TOKEN,
    FakeWeChatApi,
    WeComPeer,
    running_fake_api,
    table_counts,
    wechat_settings,
)

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def fake_api() -> Iterator[FakeWeChatApi]:
    with running_fake_api() as api:
        yield api


@pytest.fixture
def web(app: App, fake_api: FakeWeChatApi) -> FastAPI:
    settings = make_settings(app.settings.database_url, **wechat_settings(fake_api.base_url))
    return create_web_app(build_app(settings, clock=app.deps.clock, rng=random.Random(7),
                                    engine=app.engine, shuffle=False))


@pytest.fixture
async def peer(web: FastAPI, clock: FixedClock) -> AsyncIterator[WeComPeer]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=web),
                                 base_url="http://testserver") as client:
        yield WeComPeer(client, clock)


async def test_url_verification_decrypts_the_echostr(peer: WeComPeer) -> None:
    query = peer.echostr_query("1616140317555161061")
    ok = await peer.client.get("/wecom", params=query)
    assert (ok.status_code, ok.text) == (200, "1616140317555161061")
    forged = await peer.client.get("/wecom", params={**query, "msg_signature": "0" * 40})
    assert forged.status_code == 403
    stale = peer.echostr_query("x", timestamp=peer.now() - 600)
    assert (await peer.client.get("/wecom", params=stale)).status_code == 403


async def test_a_member_joins_learns_and_answers_through_the_app(
        peer: WeComPeer, app: App, clock: FixedClock) -> None:
    user = "zhangsan"
    hello = peer.reply(await peer.post(peer.event(user, "subscribe")))
    assert hello["Content"] == m.WELCOME_NEED_INVITE
    assert hello["ToUserName"] == user
    clock.advance(seconds=20)
    assert "测试机械厂" in await peer.say(user, "开始 ACME")
    clock.advance(seconds=20)
    await peer.say(user, "张三明")
    clock.advance(seconds=20)
    assert "注册完成" in await peer.say(user, "3")
    clock.advance(seconds=20)
    tapped = peer.reply(await peer.post(peer.event(user, "click", "LEARN")))
    assert "一加一等于几？" in tapped["Content"]
    clock.advance(seconds=20)
    xml = peer.text(user, "ｂ")
    answer = peer.reply(await peer.post(xml))["Content"]
    assert "✅ 回答正确" in answer
    before = table_counts(app.engine)
    clock.advance(seconds=3)
    assert peer.reply(await peer.post(xml))["Content"] == answer  # WeCom's retry
    assert table_counts(app.engine) == before
    with Session(app.engine) as session:
        worker = find_user(session, "wecom", user)
        assert worker is not None
        rec = user_record(session, app.deps.bank, worker, "wecom", user)
        keys = set(session.exec(select(InboxEvent.dedupe_key)).all())
    assert rec["answers"] == 1
    assert rec["group"] == 3
    assert f"wecom:{peer.msg_ids}" in keys
    assert any(k.startswith(f"wecom:{user}:") and k.endswith(":subscribe") for k in keys)


async def test_opening_the_app_is_not_a_message(peer: WeComPeer, app: App) -> None:
    before = table_counts(app.engine)
    response = await peer.post(peer.event("lisi", "enter_agent"))
    assert response.text == "success"
    assert table_counts(app.engine) == before


@pytest.mark.parametrize("case", ["forged", "stale", "broken", "bomb", "plain", "too big"])
async def test_bad_callbacks_are_refused_and_write_nothing(peer: WeComPeer, app: App,
                                                           case: str) -> None:
    from bot.channels.wechat_protocol import parse_xml, signature
    from tests.test_wechat_http import BILLION_LAUGHS

    await peer.say("someone", "开始 ACME")
    before = table_counts(app.engine)
    ts, nonce = str(peer.now()), "12345"
    xml = peer.text("mallory", "学习")
    body = peer.crypto().encrypt_message(BILLION_LAUGHS if case == "bomb" else xml, nonce, ts)
    query = {"msg_signature": parse_xml(body)["MsgSignature"], "timestamp": ts, "nonce": nonce}
    expected = 400
    if case == "forged":
        query["msg_signature"], expected = "f" * 40, 403
    elif case == "stale":
        old = str(peer.now() - 301)
        body = peer.crypto().encrypt_message(xml, nonce, old)
        query = {"msg_signature": parse_xml(body)["MsgSignature"], "timestamp": old,
                 "nonce": nonce}
        expected = 403
    elif case == "broken":
        body = "<xml><Encrypt>unterminated"
        query["msg_signature"] = signature(WECOM_TOKEN, ts, nonce, "unterminated")
    elif case == "plain":  # WeCom never sends plain messages: an unencrypted body is refused
        body = xml
    elif case == "too big":
        body, expected = "x" * (65 * 1024), 413
    started = time.perf_counter()
    response = await peer.client.post("/wecom", params=query, content=body)
    assert response.status_code == expected, response.text
    assert time.perf_counter() - started < 1.0
    assert table_counts(app.engine) == before

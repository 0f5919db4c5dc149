"""/wechat over HTTP: real signed XML, plain and AES, POSTed to the real FastAPI app."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from fastapi import FastAPI
from sqlmodel import Session, col, select

from bot import messages as m
from bot.app import App, build_app
from bot.chat import Reply
from bot.clock import FixedClock
from bot.models import InboxEvent, User, WeChatSend
from bot.records import find_user, user_record
from bot.web import create_web_app
from tests.conftest import make_settings
from tests.fake_wechat_api import (
    FakeWeChatApi,
    WeChatPeer,
    message_xml,
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


def wechat_app(app: App, api: FakeWeChatApi, **overrides: object) -> App:
    """The test app (mini bank, enterprise ACME, fixed clock) with WeChat configured."""
    settings = make_settings(app.settings.database_url, **wechat_settings(api.base_url, **overrides))
    return build_app(settings, clock=app.deps.clock, rng=random.Random(7), engine=app.engine,
                     shuffle=False)


@pytest.fixture
def web(app: App, fake_api: FakeWeChatApi) -> FastAPI:
    return create_web_app(wechat_app(app, fake_api))


@pytest.fixture
async def http(web: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=web),
                                 base_url="http://testserver") as client:
        yield client


@pytest.fixture(params=[False, True], ids=["plain", "aes"])
def peer(request: pytest.FixtureRequest, http: httpx.AsyncClient, clock: FixedClock) -> WeChatPeer:
    return WeChatPeer(http, clock, aes=request.param)


@pytest.fixture
def plain(http: httpx.AsyncClient, clock: FixedClock) -> WeChatPeer:
    return WeChatPeer(http, clock)


def record(app: App, openid: str) -> dict:
    with Session(app.engine) as session:
        user = find_user(session, "wechat", openid)
        assert user is not None
        return user_record(session, app.deps.bank, user, "wechat", openid)


async def join(peer: WeChatPeer, clock: FixedClock, openid: str) -> None:
    """Follow through enterprise ACME's QR code and finish joining."""
    await peer.post(peer.event(openid, "subscribe", "qrscene_ACME"), sender=openid)
    clock.advance(seconds=20)
    await peer.say(openid, "张三明")
    clock.advance(seconds=20)
    await peer.say(openid, "2")
    clock.advance(seconds=20)


async def test_url_verification_echoes_echostr_only_when_signed(plain: WeChatPeer) -> None:
    query = plain.signed_query(echostr="hello-123")
    ok = await plain.client.get("/wechat", params=query)
    assert (ok.status_code, ok.text) == (200, "hello-123")
    forged = await plain.client.get("/wechat", params={**query, "signature": "0" * 40})
    assert forged.status_code == 403
    stale = plain.signed_query(timestamp=plain.now() - 400, echostr="x")
    assert (await plain.client.get("/wechat", params=stale)).status_code == 403


async def test_join_by_qr_then_lesson_then_answer_by_letter_earns_the_credit(
        peer: WeChatPeer, app: App, clock: FixedClock) -> None:
    openid = "o-worker-1"
    first = peer.reply(await peer.post(peer.event(openid, "subscribe", "qrscene_ACME"),
                                       sender=openid))
    assert first["ToUserName"] == openid
    assert first["FromUserName"] == "gh_0123456789ab"
    assert "测试机械厂" in first["Content"]
    assert "姓名" in first["Content"]
    clock.advance(seconds=20)
    assert "回复数字 1-4" in await peer.say(openid, "张三明")
    clock.advance(seconds=20)
    assert "注册完成" in await peer.say(openid, "2")
    clock.advance(seconds=20)
    lesson = await peer.say(openid, "学习")
    assert "迷你必修甲 · 第 1/2 课" in lesson
    assert "一加一等于几？" in lesson
    assert "A. 一" in lesson or "A." in lesson
    assert m.ANSWER_HINT[False] in lesson  # one message: lesson, question and how to answer
    clock.advance(seconds=20)
    assert "✅ 回答正确" in await peer.say(openid, "b")
    clock.advance(seconds=20)
    assert "通过" in await peer.say(openid, "A.")
    clock.advance(seconds=20)
    tapped = peer.reply(await peer.post(peer.event(openid, "CLICK", "LEARN"), sender=openid))
    assert "第 2/2 课" in tapped["Content"]
    clock.advance(seconds=20)
    assert "✅ 回答正确" in await peer.say(openid, "AC")
    clock.advance(seconds=20)
    xml, msg_id = peer.text(openid, "Ｂ")  # full-width letter
    final = peer.reply(await peer.post(xml, sender=openid))["Content"]
    assert "恭喜！你已学完《迷你必修甲》全部课程，获得 2 学分" in final
    rec = record(app, openid)
    assert rec["credits"] == 2
    assert rec["enterprise"] == "测试机械厂"

    # WeChat re-sends the same MsgId when it did not get the answer in time: three retries.
    before = table_counts(app.engine)
    for _ in range(3):
        clock.advance(seconds=2)
        again, _ = peer.text(openid, "Ｂ", msg_id=msg_id)
        assert peer.reply(await peer.post(again, sender=openid))["Content"] == final
    assert table_counts(app.engine) == before
    assert record(app, openid) == rec
    with Session(app.engine) as session:
        keys = session.exec(select(InboxEvent.dedupe_key).where(
            col(InboxEvent.dedupe_key) == f"wechat:{msg_id}")).all()
    assert keys == [f"wechat:{msg_id}"]


async def test_menu_clicks_run_the_same_actions_as_keywords(plain: WeChatPeer,
                                                            clock: FixedClock) -> None:
    openid = "o-menu"
    before_join = plain.reply(await plain.post(plain.event(openid, "CLICK", "ME"), sender=openid))
    assert m.NEED_JOIN_FIRST in before_join["Content"]
    clock.advance(seconds=20)
    await join(plain, clock, openid)
    for key, keyword in (("ME", "我的"), ("RANK", "排行"), ("HELP", "帮助"), ("MALL", "商城")):
        tapped = plain.reply(await plain.post(plain.event(openid, "CLICK", key), sender=openid))
        clock.advance(seconds=20)
        typed = await plain.say(openid, keyword)
        clock.advance(seconds=20)
        assert tapped["Content"] == typed, key


async def test_other_message_types_get_a_friendly_hint(plain: WeChatPeer) -> None:
    for msg_type in ("image", "voice", "location", "video", "link"):
        reply = plain.reply(await plain.post(plain.other("o-media", msg_type), sender="o-media"))
        assert reply["Content"] == m.UNKNOWN_EMPTY, msg_type


async def test_unsubscribe_answers_success_and_marks_the_worker_unreachable(
        plain: WeChatPeer, app: App, clock: FixedClock) -> None:
    openid = "o-leaver"
    await join(plain, clock, openid)
    response = await plain.post(plain.event(openid, "unsubscribe"), sender=openid)
    assert response.text == "success"
    with Session(app.engine) as session:
        user = find_user(session, "wechat", openid)
        assert user is not None
        assert user.reachable is False
    clock.advance(seconds=60)
    back = plain.reply(await plain.post(plain.event(openid, "subscribe"), sender=openid))
    assert "欢迎回来" in back["Content"]


async def test_scan_of_an_enterprise_qr_by_a_follower_binds_the_invite(plain: WeChatPeer) -> None:
    reply = plain.reply(await plain.post(plain.event("o-scanner", "SCAN", "ACME"), sender="o-scanner"))
    assert "测试机械厂" in reply["Content"]
    assert "姓名" in reply["Content"]


async def test_bookkeeping_events_get_success_and_never_reach_the_core(plain: WeChatPeer,
                                                                      app: App) -> None:
    before = table_counts(app.engine)
    for event, key in (("VIEW", "https://example.com"), ("LOCATION", None),
                       ("TEMPLATESENDJOBFINISH", None)):
        response = await plain.post(plain.event("o-quiet", event, key), sender="o-quiet")
        assert response.text == "success"
    assert table_counts(app.engine) == before


async def test_an_event_is_deduplicated_by_sender_time_and_event(plain: WeChatPeer, app: App
                                                                 ) -> None:
    xml = plain.event("o-twice", "subscribe", "qrscene_ACME")
    first = plain.reply(await plain.post(xml, sender="o-twice"))
    counts = table_counts(app.engine)
    second = plain.reply(await plain.post(xml, sender="o-twice"))
    assert first["Content"] == second["Content"]
    assert table_counts(app.engine) == counts
    with Session(app.engine) as session:
        keys = session.exec(select(InboxEvent.dedupe_key)).all()
    assert keys == [f"wechat:o-twice:{plain.now()}:subscribe:qrscene_ACME"]


async def test_user_text_cannot_break_out_of_the_reply_cdata(plain: WeChatPeer,
                                                             clock: FixedClock) -> None:
    await join(plain, clock, "o-cdata")
    reply = await plain.say("o-cdata", "]]><Content>x</Content>")
    assert "]]><Content>x" in reply


BILLION_LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY a "aaaaaaaaaa">'
    '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">'
    '<!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;"><!ENTITY e "&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;">'
    '<!ENTITY f "&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;"><!ENTITY g "&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;">]>'
    "<xml><ToUserName>gh</ToUserName><FromUserName>o-bomb</FromUserName>"
    "<CreateTime>1</CreateTime><MsgType>text</MsgType><Content>&g;</Content>"
    "<MsgId>1</MsgId></xml>"
)
EXTERNAL_ENTITY = (
    '<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
    "<xml><ToUserName>gh</ToUserName><FromUserName>o-xxe</FromUserName>"
    "<CreateTime>1</CreateTime><MsgType>text</MsgType><Content>&x;</Content>"
    "<MsgId>2</MsgId></xml>"
)
UNDECLARED_ENTITY = ("<xml><FromUserName>o-e</FromUserName><MsgType>text</MsgType>"
                     "<Content>&nbsp;</Content><MsgId>3</MsgId></xml>")


async def refused(peer: WeChatPeer, case: str) -> httpx.Response:
    """Send one bad request of the named kind."""
    good, _ = peer.text("o-attacker", "学习")
    if case == "forged signature":
        return await peer.post(good, query={**peer.signed_query(), "signature": "f" * 40})
    if case == "no signature":
        q = peer.signed_query()
        del q["signature"]
        return await peer.post(good, query=q)
    if case == "stale timestamp":
        return await peer.post(good, query=peer.signed_query(timestamp=peer.now() - 301))
    if case == "future timestamp":
        return await peer.post(good, query=peer.signed_query(timestamp=peer.now() + 301))
    if case == "broken XML":
        return await peer.post("<xml><FromUserName>o-x</FromUserName><MsgType>text",
                               sender="o-x")
    if case == "not XML":
        return await peer.post(b"\x00\xff garbage", sender="o-x")
    if case == "billion laughs":
        return await peer.post(BILLION_LAUGHS, sender="o-bomb")
    if case == "external entity":
        return await peer.post(EXTERNAL_ENTITY, sender="o-xxe")
    if case == "undeclared entity":
        return await peer.post(UNDECLARED_ENTITY, sender="o-e")
    if case == "wrong root":
        return await peer.post("<html><FromUserName>o</FromUserName></html>", sender="o")
    if case == "no sender":
        return await peer.post("<xml><MsgType>text</MsgType></xml>", sender="o")
    raise AssertionError(case)


CASES = {
    "forged signature": 403, "no signature": 403, "stale timestamp": 403,
    "future timestamp": 403, "broken XML": 400, "not XML": 400, "billion laughs": 400,
    "external entity": 400, "undeclared entity": 400, "wrong root": 400, "no sender": 400,
}


@pytest.mark.parametrize("case", list(CASES))
async def test_bad_requests_are_refused_and_write_nothing(peer: WeChatPeer, app: App,
                                                          case: str) -> None:
    await peer.say("o-someone", "开始 ACME")  # some rows, so "unchanged" means something
    before = table_counts(app.engine)
    response = await refused(peer, case)
    assert response.status_code == CASES[case], response.text
    assert table_counts(app.engine) == before


@pytest.mark.parametrize("case", ["bad msg_signature", "garbage Encrypt", "bomb inside",
                                  "no Encrypt", "other app id"])
async def test_bad_safe_mode_requests_are_refused_and_write_nothing(
        http: httpx.AsyncClient, clock: FixedClock, app: App, case: str) -> None:
    from wechatpy.crypto import WeChatCrypto

    from bot.channels.wechat_protocol import parse_xml, signature
    from tests.fake_wechat_api import AES_KEY, APP_ID, TOKEN

    peer = WeChatPeer(http, clock, aes=True)
    before = table_counts(app.engine)
    q = peer.signed_query(openid="o-x", encrypt_type="aes")
    xml, _ = peer.text("o-x", "学习")
    inner = BILLION_LAUGHS if case == "bomb inside" else xml
    app_id = "wxffffffffffffffff" if case == "other app id" else APP_ID
    body = WeChatCrypto(TOKEN, AES_KEY, app_id).encrypt_message(inner, q["nonce"], q["timestamp"])
    q["msg_signature"] = parse_xml(body)["MsgSignature"]
    if case == "bad msg_signature":
        q["msg_signature"] = "0" * 40
    elif case == "garbage Encrypt":
        body = "<xml><Encrypt><![CDATA[bm90IGVuY3J5cHRlZA==]]></Encrypt></xml>"
        q["msg_signature"] = signature(TOKEN, q["timestamp"], q["nonce"], "bm90IGVuY3J5cHRlZA==")
    elif case == "no Encrypt":
        body = "<xml><ToUserName>gh</ToUserName></xml>"
    response = await http.post("/wechat", params=q, content=body)
    assert response.status_code == (403 if case == "bad msg_signature" else 400), response.text
    assert table_counts(app.engine) == before


async def test_a_10_mb_body_is_refused_with_413_in_well_under_a_second(
        plain: WeChatPeer, app: App) -> None:
    before = table_counts(app.engine)
    big = b"<xml>" + b"a" * (10 * 1024 * 1024) + b"</xml>"
    started = time.perf_counter()
    response = await plain.post(big, sender="o-big")
    declared = time.perf_counter() - started
    assert response.status_code == 413

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: must stop reading early
        for _ in range(160):
            yield b"a" * 65536

    started = time.perf_counter()
    streamed = await plain.client.post("/wechat", params=plain.signed_query(), content=chunks())
    elapsed = time.perf_counter() - started
    assert streamed.status_code == 413
    assert declared < 1.0
    assert elapsed < 1.0
    assert table_counts(app.engine) == before


async def test_a_reply_over_2048_bytes_goes_partly_passive_and_the_rest_by_customer_service(
        plain: WeChatPeer, app: App, web: FastAPI, fake_api: FakeWeChatApi,
        monkeypatch: pytest.MonkeyPatch) -> None:
    core = web.state.wechat.runner.app.core
    long_replies = [Reply("甲" * 500), Reply("乙" * 500), Reply("丙" * 900)]  # 1500/1500/2700 bytes
    real_handle = core.handle

    def handle(inbound):  # type: ignore[no-untyped-def]
        real_handle(inbound)  # the inbox row, so the retry below is a real retry
        return long_replies

    monkeypatch.setattr(core, "handle", handle)
    xml, msg_id = plain.text("o-long", "学习")
    passive = plain.reply(await plain.post(xml, sender="o-long"))["Content"]
    assert len(passive.encode()) <= 2048
    pushed = fake_api.texts("custom")
    assert all(len(t.encode()) <= 2048 for t in pushed)
    assert (passive + "".join(pushed)).replace("\n", "") == "甲" * 500 + "乙" * 500 + "丙" * 900
    assert len(pushed) == 3
    # A retry of the same message answers passively again but pushes nothing twice.
    again, _ = plain.text("o-long", "学习", msg_id=msg_id)
    await plain.post(again, sender="o-long")
    assert fake_api.texts("custom") == pushed
    with Session(app.engine) as session:
        assert len(session.exec(select(WeChatSend)).all()) == 3


async def test_a_slow_core_gets_success_then_the_reply_by_customer_service_message(
        app: App, fake_api: FakeWeChatApi, clock: FixedClock,
        monkeypatch: pytest.MonkeyPatch) -> None:
    application = wechat_app(app, fake_api, wechat_reply_deadline=0.2)
    web = create_web_app(application)
    real_handle = application.core.handle

    def slow(inbound):  # type: ignore[no-untyped-def]
        time.sleep(0.6)
        return real_handle(inbound)

    monkeypatch.setattr(application.core, "handle", slow)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=web),
                                 base_url="http://testserver") as client:
        peer = WeChatPeer(client, clock, aes=True)
        started = time.perf_counter()
        response = await peer.post(peer.event("o-slow", "subscribe", "qrscene_ACME"),
                                   sender="o-slow")
        assert time.perf_counter() - started < 0.5
        assert response.text == "success"
        assert fake_api.sent == []
        await asyncio.wait_for(web.state.wechat.runner.drain(), 5)
    assert [(s["kind"], s["to"]) for s in fake_api.sent] == [("custom", "o-slow")]
    assert "测试机械厂" in fake_api.sent[0]["text"]
    with Session(app.engine) as session:
        user = find_user(session, "wechat", "o-slow")
        assert user is not None
        assert session.get(User, user.id) is not None


async def test_without_a_token_setting_there_is_no_wechat_route(app: App) -> None:
    web = create_web_app(app)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=web),
                                 base_url="http://testserver") as client:
        response = await client.post("/wechat", content=message_xml("o", "text", 1, Content="x"))
    assert response.status_code in (404, 405)

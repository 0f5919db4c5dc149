"""The callback protocol's pure parts: signatures, safe XML, translation, text limits."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidSignatureException
from wechatpy.utils import check_signature as wechatpy_check_signature

from bot.channels.wechat_protocol import (
    Rejected,
    aes_key,
    cdata,
    check_signature,
    check_timestamp,
    encrypt_reply,
    pack_texts,
    parse_xml,
    signature,
    text_reply_xml,
    to_inbound,
)
from tests.fake_wechat_api import AES_KEY, APP_ID, TOKEN

NOW = datetime(2026, 10, 12, 1, 0, tzinfo=UTC)


def test_signature_agrees_with_wechatpy() -> None:
    sig = signature(TOKEN, "1760230800", "12345")
    wechatpy_check_signature(TOKEN, sig, "1760230800", "12345")  # raises when they disagree
    with pytest.raises(InvalidSignatureException):
        wechatpy_check_signature(TOKEN, sig, "1760230801", "12345")


@pytest.mark.parametrize("given", [None, "", "0" * 40, "签名", "A" * 400])
def test_a_wrong_or_missing_signature_is_403(given: str | None) -> None:
    with pytest.raises(Rejected) as refused:
        check_signature(given, TOKEN, "1", "2")
    assert refused.value.status == 403


@pytest.mark.parametrize(("offset", "ok"), [(0, True), (300, True), (-300, True),
                                            (301, False), (-301, False)])
def test_the_timestamp_must_be_within_five_minutes(offset: int, ok: bool) -> None:
    stamp = str(int(NOW.timestamp()) + offset)
    if ok:
        check_timestamp(stamp, NOW)
    else:
        with pytest.raises(Rejected):
            check_timestamp(stamp, NOW)


@pytest.mark.parametrize("stamp", [None, "", "abc", "-5", "1e9", "9" * 40])
def test_a_malformed_timestamp_is_403(stamp: str | None) -> None:
    with pytest.raises(Rejected) as refused:
        check_timestamp(stamp, NOW)
    assert refused.value.status == 403


@pytest.mark.parametrize("doc", [
    '<!DOCTYPE xml><xml><MsgType>text</MsgType></xml>',  # even a harmless DTD is refused
    '<!DOCTYPE xml [<!ENTITY a "x">]><xml><Content>&a;</Content></xml>',
    '<!DOCTYPE xml SYSTEM "http://127.0.0.1:9/x.dtd"><xml/>',
    "<xml><Content>&lol;</Content></xml>",
    "<xml>",
    "",
])
def test_dtds_entities_and_broken_documents_are_400(doc: str) -> None:
    with pytest.raises(Rejected) as refused:
        parse_xml(doc.encode())
    assert refused.value.status == 400


def test_cdata_survives_a_closing_marker_in_user_text() -> None:
    text = "a]]>b<c>&d"
    assert parse_xml(f"<xml><Content>{cdata(text)}</Content></xml>")["Content"] == text


def test_a_passive_reply_encrypted_by_us_decrypts_with_wechatpy() -> None:
    xml = text_reply_xml("o-1", "gh_1", "你好", 1_760_230_800)
    sealed = encrypt_reply(aes_key(AES_KEY), TOKEN, APP_ID, xml, "nonce-1", "1760230800")
    outer = parse_xml(sealed)
    inner = WeChatCrypto(TOKEN, AES_KEY, APP_ID).decrypt_message(
        sealed, outer["MsgSignature"], outer["TimeStamp"], outer["Nonce"])
    assert parse_xml(inner.encode())["Content"] == "你好"


def msg(**fields: str) -> dict[str, str]:
    return {"ToUserName": "gh", "FromUserName": "o-1", "CreateTime": "1760230800", **fields}


@pytest.mark.parametrize(("fields", "expected"), [
    ({"MsgType": "text", "Content": "学习", "MsgId": "99"},
     {"text": "学习", "dedupe_key": "wechat:99", "event": None}),
    ({"MsgType": "event", "Event": "subscribe", "EventKey": "qrscene_ACME"},
     {"event": "subscribe", "event_key": "ACME",
      "dedupe_key": "wechat:o-1:1760230800:subscribe:qrscene_ACME"}),
    ({"MsgType": "event", "Event": "subscribe"}, {"event": "subscribe", "event_key": None}),
    ({"MsgType": "event", "Event": "SCAN", "EventKey": "ACME"},
     {"event": "subscribe", "event_key": "ACME",
      "dedupe_key": "wechat:o-1:1760230800:SCAN:ACME"}),
    ({"MsgType": "event", "Event": "unsubscribe"}, {"event": "unsubscribe"}),
    ({"MsgType": "event", "Event": "CLICK", "EventKey": "RANK"},
     {"event": "menu", "event_key": "RANK"}),
    ({"MsgType": "image", "PicUrl": "http://x", "MsgId": "7"},
     {"event": "unsupported", "dedupe_key": "wechat:7"}),
    ({"MsgType": "voice", "MsgId": "8"}, {"event": "unsupported"}),
    ({"MsgType": "location", "MsgId": "9"}, {"event": "unsupported"}),
])
def test_messages_and_events_translate_to_inbound(fields: dict[str, str],
                                                  expected: dict[str, object]) -> None:
    inbound = to_inbound("wechat", msg(**fields), NOW)
    assert inbound is not None
    assert inbound.external_id == "o-1"
    for name, value in expected.items():
        assert getattr(inbound, name) == value, name


@pytest.mark.parametrize("event", ["VIEW", "LOCATION", "TEMPLATESENDJOBFINISH", "enter_agent"])
def test_bookkeeping_events_translate_to_nothing(event: str) -> None:
    assert to_inbound("wechat", msg(MsgType="event", Event=event), NOW) is None


def test_pack_texts_joins_with_blank_lines_while_they_fit() -> None:
    assert pack_texts(["一", "", "二"]) == ["一\n\n二"]
    assert pack_texts([]) == []


def test_pack_texts_never_exceeds_2048_bytes_and_keeps_every_character() -> None:
    texts = ["甲" * 600, "乙\n" * 400, "丙" * 3000]
    parts = pack_texts(texts)
    assert all(len(p.encode()) <= 2048 for p in parts)
    assert "".join(parts).replace("\n", "") == "".join(texts).replace("\n", "")
    assert parts[0] == "甲" * 600  # the next text does not fit, so it starts a new message


def test_two_menu_taps_in_one_second_are_two_events_and_a_retry_is_one() -> None:
    learn = to_inbound("wechat", msg(MsgType="event", Event="CLICK", EventKey="LEARN"), NOW)
    me = to_inbound("wechat", msg(MsgType="event", Event="CLICK", EventKey="ME"), NOW)
    again = to_inbound("wechat", msg(MsgType="event", Event="CLICK", EventKey="LEARN"), NOW)
    assert learn is not None and me is not None and again is not None
    assert learn.dedupe_key != me.dedupe_key
    assert learn.dedupe_key == again.dedupe_key

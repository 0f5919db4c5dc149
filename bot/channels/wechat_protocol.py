"""The WeChat / WeCom callback protocol: signatures, safe XML, AES, `Inbound` and reply XML.

Pure functions only (no I/O): the HTTP endpoints in `wechat.py` and `wecom.py` call them in
this order — size cap, signature and timestamp, safe parse, decrypt, translate.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from datetime import datetime
from xml.etree.ElementTree import ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring
from wechatpy.crypto import PrpCrypto
from wechatpy.enterprise.crypto import PrpCrypto as CorpPrpCrypto

from bot.chat import Inbound

# WeChat refuses callbacks whose timestamp is further than this from now (replayed requests).
TIMESTAMP_WINDOW = 300
# A text message (passive reply or pushed) carries at most 2048 bytes of UTF-8.
TEXT_LIMIT = 2048
SUCCESS = "success"  # tells WeChat "received, no passive reply" and stops its retries
REPLY_SEPARATOR = "\n\n"


class Rejected(Exception):
    """A callback refused before any work is done; `status` is the HTTP answer."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


# --- signatures -------------------------------------------------------------------------------


def signature(*parts: str) -> str:
    """Return WeChat's signature: SHA-1 of the parts sorted and concatenated."""
    return hashlib.sha1("".join(sorted(parts)).encode("utf-8")).hexdigest()


def check_signature(given: str | None, *parts: str) -> None:
    """Refuse (403) unless `given` is the signature of `parts`, compared in constant time."""
    expected = signature(*parts)
    if not given or not hmac.compare_digest(expected.encode(), given.encode("utf-8", "replace")):
        raise Rejected(403, "bad signature")


def check_timestamp(timestamp: str | None, now: datetime) -> None:
    """Refuse (403) a timestamp that is missing or more than five minutes from `now`."""
    if not timestamp or not timestamp.isdigit() or len(timestamp) > 12:
        raise Rejected(403, "bad timestamp")
    if abs(now.timestamp() - int(timestamp)) > TIMESTAMP_WINDOW:
        raise Rejected(403, "stale timestamp")


# --- XML ---------------------------------------------------------------------------------------


def parse_xml(body: bytes | str) -> dict[str, str]:
    """Parse a flat `<xml>` document into {tag: text}; a DTD or entity is refused (400).

    `forbid_dtd` refuses any DOCTYPE, so neither internal entity bombs (billion laughs) nor
    external entities (file or network reads) can be declared; an undeclared entity is a
    parse error.
    """
    try:
        root = fromstring(body, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise Rejected(400, f"refused XML: {type(exc).__name__}") from None
    except (ParseError, ValueError, TypeError):
        raise Rejected(400, "XML does not parse") from None
    if root.tag != "xml":
        raise Rejected(400, "not a WeChat message")
    # Nested elements (ScanCodeInfo, SendLocationInfo …) carry nothing a worker needs here.
    return {child.tag: child.text or "" for child in root if len(child) == 0}


def cdata(text: str) -> str:
    """Wrap text in CDATA, splitting any `]]>` so echoed user text cannot close it early."""
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def text_reply_xml(to_user: str, from_user: str, content: str, create_time: int) -> str:
    """Render a passive text reply."""
    return (
        "<xml>"
        f"<ToUserName>{cdata(to_user)}</ToUserName>"
        f"<FromUserName>{cdata(from_user)}</FromUserName>"
        f"<CreateTime>{create_time}</CreateTime>"
        "<MsgType><![CDATA[text]]></MsgType>"
        f"<Content>{cdata(content)}</Content>"
        "</xml>"
    )


# --- AES (安全模式 / WeCom) ----------------------------------------------------------------------


def aes_key(encoding_aes_key: str) -> bytes:
    """Decode the 43-character EncodingAESKey into the 32-byte AES key."""
    try:
        key = base64.b64decode(encoding_aes_key + "=")
    except (binascii.Error, ValueError):
        raise ValueError("EncodingAESKey must be 43 base64 characters") from None
    if len(key) != 32:
        raise ValueError("EncodingAESKey must be 43 base64 characters")
    return key


def decrypt(key: bytes, encrypted: str, receiver_id: str, *, corp: bool = False) -> str:
    """Decrypt an `Encrypt` payload for `receiver_id` (app id or corp id); refuse (400) garbage."""
    crypto = (CorpPrpCrypto if corp else PrpCrypto)(key)
    try:
        return str(crypto.decrypt(encrypted, receiver_id))
    except Exception:  # base64, AES, padding or receiver id: all mean "not for us"
        raise Rejected(400, "cannot decrypt") from None


def encrypt_reply(key: bytes, token: str, receiver_id: str, xml: str, nonce: str, timestamp: str,
                  *, corp: bool = False) -> str:
    """Encrypt and sign a passive reply the way the platform expects it back."""
    crypto = (CorpPrpCrypto if corp else PrpCrypto)(key)
    encrypted = crypto.encrypt(xml, receiver_id).decode("ascii")
    return (
        "<xml>"
        f"<Encrypt>{cdata(encrypted)}</Encrypt>"
        f"<MsgSignature>{cdata(signature(token, timestamp, nonce, encrypted))}</MsgSignature>"
        f"<TimeStamp>{timestamp}</TimeStamp>"
        f"<Nonce>{cdata(nonce)}</Nonce>"
        "</xml>"
    )


def open_envelope(body: bytes, token: str, key: bytes, receiver_id: str,
                  msg_signature: str | None, timestamp: str, nonce: str,
                  *, corp: bool = False) -> dict[str, str]:
    """Verify the encrypted envelope's signature, then decrypt and parse the message inside."""
    envelope = parse_xml(body)
    encrypted = envelope.get("Encrypt", "")
    if not encrypted:
        raise Rejected(400, "no Encrypt element")
    check_signature(msg_signature, token, timestamp, nonce, encrypted)
    return parse_xml(decrypt(key, encrypted, receiver_id, corp=corp).encode("utf-8"))


# --- translation ---------------------------------------------------------------------------------

_QR_PREFIX = "qrscene_"


def to_inbound(channel: str, msg: dict[str, str], received_at: datetime) -> Inbound | None:
    """Translate a WeChat / WeCom message into an `Inbound`; None for events nobody answers."""
    sender = msg.get("FromUserName", "").strip()
    msg_type = msg.get("MsgType", "").strip().lower()
    if not sender or not msg_type:
        raise Rejected(400, "message without FromUserName or MsgType")
    base = {"channel": channel, "external_id": sender, "received_at": received_at}
    if msg_type == "event":
        event = msg.get("Event", "").strip()
        event_key = msg.get("EventKey", "").strip()
        # wechatpy gives events id 0: WeChat's own advice is FromUserName + CreateTime. The
        # EventKey joins them so two different menu taps in one second stay two events (a
        # retry repeats the same key, so it still dedupes).
        key = f"{channel}:{sender}:{msg.get('CreateTime', '')}:{event}"
        if event_key:
            key += f":{event_key}"
        kind = event.lower()
        if kind == "subscribe":
            invite = event_key[len(_QR_PREFIX):] if event_key.startswith(_QR_PREFIX) else ""
            return Inbound(**base, dedupe_key=key, event="subscribe",  # type: ignore[arg-type]
                           event_key=invite or None)
        if kind == "scan":  # a follower scanned an enterprise QR: the key is the bare invite
            return Inbound(**base, dedupe_key=key, event="subscribe",  # type: ignore[arg-type]
                           event_key=event_key or None)
        if kind == "unsubscribe":
            return Inbound(**base, dedupe_key=key, event="unsubscribe")  # type: ignore[arg-type]
        if kind == "click":
            return Inbound(**base, dedupe_key=key, event="menu",  # type: ignore[arg-type]
                           event_key=event_key)
        # Bookkeeping, not something the worker said (VIEW = a menu link opened, LOCATION = a
        # periodic location report, enter_agent = the WeCom app opened, TEMPLATESENDJOBFINISH …):
        # answered `success` without waking the core.
        return None
    msg_id = msg.get("MsgId", "").strip()
    key = (f"{channel}:{msg_id}" if msg_id
           else f"{channel}:{sender}:{msg.get('CreateTime', '')}:{msg_type}")
    if msg_type == "text":
        return Inbound(**base, dedupe_key=key, text=msg.get("Content", ""))  # type: ignore[arg-type]
    # Voice, image, video, location, link, file …: the core answers with a friendly hint.
    return Inbound(**base, dedupe_key=key, event="unsupported")  # type: ignore[arg-type]


# --- text limits ---------------------------------------------------------------------------------


def _fits(text: str, limit: int) -> bool:
    return len(text.encode("utf-8")) <= limit


def _split_long(text: str, limit: int) -> list[str]:
    """Cut one over-long text at line breaks, or between characters for an over-long line."""
    pieces: list[str] = []
    current = ""
    for line in text.split("\n"):
        while not _fits(line, limit):
            # The longest head that fits, cut on a character boundary.
            head = line.encode("utf-8")[:limit].decode("utf-8", "ignore")
            line = line[len(head):]
            if current:
                pieces.append(current)
                current = ""
            pieces.append(head)
        candidate = f"{current}\n{line}" if current else line
        if _fits(candidate, limit):
            current = candidate
        else:
            pieces.append(current)
            current = line
    if current:
        pieces.append(current)
    return pieces


def pack_texts(texts: list[str], limit: int = TEXT_LIMIT) -> list[str]:
    """Join texts with blank lines into as few messages of at most `limit` bytes as keep order."""
    pieces = [p for t in texts if t for p in ([t] if _fits(t, limit) else _split_long(t, limit))]
    out: list[str] = []
    current = ""
    for piece in pieces:
        candidate = f"{current}{REPLY_SEPARATOR}{piece}" if current else piece
        if _fits(candidate, limit):
            current = candidate
        else:
            out.append(current)
            current = piece
    if current:
        out.append(current)
    return out

"""Pushing messages through the WeChat and WeCom APIs: one shared token, windows and rate limits.

wechatpy's clients are blocking and keep the access token per process; here the token lives in
the database (`WeChatToken`), so every web worker and the scheduler share one, and a token
rejected with 40001/42001 is refreshed once — by one process, the others pick up its result.
The send record (`WeChatSend`) enforces WeChat's customer-service window (5 messages within
48 h of the worker's last message, as the inbox knows it) and WeCom's per-member limits.
Call the senders from async code with `asyncio.to_thread` (or their `a…` methods).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import requests
from sqlalchemy import delete, text, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, select
from wechatpy import WeChatClient
from wechatpy.client.base import BaseWeChatClient
from wechatpy.enterprise import WeChatClient as WeComClient
from wechatpy.exceptions import WeChatClientException
from wechatpy.session import SessionStorage

from bot.clock import Clock, as_aware
from bot.config import Settings
from bot.db import transaction
from bot.models import Account, InboxEvent, WeChatSend, WeChatToken

log = logging.getLogger(__name__)

# 40001 invalid credential, 40014 invalid token, 42001 token expired: refresh once and retry.
TOKEN_ERRORS = frozenset({40001, 40014, 42001})
# 45015: more than 48 h since the worker's last message (or unfollowed); 45047: quota used up.
OUT_OF_WINDOW = frozenset({45015, 45047})
# 45009: API call frequency; 45033: a WeCom member received too many messages.
RATE_LIMITED = frozenset({45009, 45033})

API_TIMEOUT = 5.0  # seconds per API call; wechatpy's own default is "wait forever"
TOKEN_MARGIN = timedelta(minutes=5)  # renew early: WeChat keeps an old token for 5 min anyway
TOKEN_LEASE = timedelta(seconds=15)  # how long one process may take to fetch a new token
TOKEN_WAIT = 20.0  # how long (real seconds) another process waits for that fetch
CS_WINDOW = timedelta(hours=48)
CS_QUOTA = 5
WECOM_LIMITS = ((timedelta(minutes=1), 30), (timedelta(hours=1), 1000))
TEMPLATE_CHARS = 200  # template fields are short; the full text stays in the chat history


class TokenUnavailable(RuntimeError):
    """No access token could be had (another process holds the refresh lease too long)."""


def _utc(moment: datetime) -> datetime:
    """Normalise to UTC: SQLite keeps no offset, so every stored time must be UTC."""
    return moment.astimezone(UTC)


# --- the shared access token ----------------------------------------------------------------------


class DbTokenStorage(SessionStorage):  # type: ignore[misc]
    """wechatpy session storage in our database, so several processes share one access token."""

    def __init__(self, engine: Engine, clock: Clock) -> None:
        self.engine = engine
        self.clock = clock

    def _valid(self, row: WeChatToken | None) -> str | None:
        if row is None or not row.value or row.expires_at is None:
            return None
        return row.value if as_aware(row.expires_at) - TOKEN_MARGIN > self.clock.now() else None

    def get(self, key: str, default: Any = None) -> Any:
        """Return the token stored under `key` while it is still good, else `default`."""
        with Session(self.engine) as session:
            return self._valid(session.get(WeChatToken, key)) or default

    def set(self, key: str, value: Any, ttl: int | None = None) -> None:
        """Store a token for `ttl` seconds (WeChat's default 7200) and end any refresh lease."""
        expires = _utc(self.clock.now()) + timedelta(seconds=ttl or 7200)
        for attempt in range(3):
            try:
                with transaction(self.engine) as session:
                    row = session.get(WeChatToken, key) or WeChatToken(key=key)
                    row.value, row.expires_at, row.refreshing_until = value, expires, None
                    session.add(row)
                return
            except IntegrityError:
                if attempt == 2:
                    raise  # the row appeared under us twice: not a race any more

    def delete(self, key: str) -> None:
        """Forget the token stored under `key`."""
        with transaction(self.engine) as session:
            session.execute(update(WeChatToken).where(col(WeChatToken.key) == key)
                            .values(value=None, expires_at=None))

    def refresh(self, key: str, fetch: Callable[[], tuple[str, int]], stale: str | None) -> str:
        """Return a good token other than `stale`, fetching one only if no process just did."""
        deadline = time.monotonic() + TOKEN_WAIT
        while True:
            claimed, token = self._claim(key, stale)
            if token:
                return token
            if claimed:
                try:
                    value, ttl = fetch()
                except BaseException:
                    self._release(key)
                    raise
                self.set(key, value, ttl)
                return value
            if time.monotonic() > deadline:
                raise TokenUnavailable(f"no access token for {key.split('_', 1)[0]}")
            time.sleep(0.05)

    def _claim(self, key: str, stale: str | None) -> tuple[bool, str | None]:
        """In one locked transaction: a fresh token if there is one, else the refresh lease."""
        try:
            with transaction(self.engine) as session:
                row = session.exec(select(WeChatToken).where(col(WeChatToken.key) == key)
                                   .with_for_update()).first()
                current = self._valid(row)
                if current and current != stale:
                    return False, current
                now = _utc(self.clock.now())
                if row is not None and row.refreshing_until is not None \
                        and as_aware(row.refreshing_until) > now:
                    return False, None  # another process is fetching: wait for its token
                row = row or WeChatToken(key=key)
                row.refreshing_until = now + TOKEN_LEASE
                session.add(row)
                return True, None
        except IntegrityError:
            return False, None  # another process created the row first: look again

    def _release(self, key: str) -> None:
        with transaction(self.engine) as session:
            session.execute(update(WeChatToken).where(col(WeChatToken.key) == key)
                            .values(refreshing_until=None))


class _SharedTokenClient(BaseWeChatClient):  # type: ignore[misc]
    """wechatpy client whose token comes from `DbTokenStorage` and the configured base URL."""

    session: DbTokenStorage

    def _token_request(self) -> tuple[str, dict[str, str]]:
        """Return the token endpoint and its query; each subclass (WeChat, WeCom) says which."""
        raise NotImplementedError("a subclass names its token endpoint")

    @property
    def access_token(self) -> str:
        """Return the shared token, fetching one when there is none."""
        return str(self.session.get(self.access_token_key) or self.fetch_access_token())

    def fetch_access_token(self, stale: str | None = None) -> str:
        """Get a new token unless another process has replaced `stale` already."""
        return self.session.refresh(self.access_token_key, self._fetch_token, stale)

    def _fetch_token(self) -> tuple[str, int]:
        # wechatpy 1.8 fetches from a hard-coded api.weixin.qq.com URL, without a timeout.
        endpoint, params = self._token_request()
        log.info("fetching a new access token for %s", self.appid)
        res = self._http.get(self.API_BASE_URL + endpoint, params=params, timeout=self.timeout)
        try:
            res.raise_for_status()
            data = res.json()
        except (requests.RequestException, ValueError):
            raise WeChatClientException(None, f"token endpoint answered HTTP {res.status_code}",
                                        client=self) from None
        if data.get("errcode") or "access_token" not in data:
            raise WeChatClientException(data.get("errcode"), data.get("errmsg"), client=self)
        return str(data["access_token"]), int(data.get("expires_in", 7200))

    def _request(self, method: str, url_or_endpoint: str, **kwargs: Any) -> Any:
        params = dict(kwargs.pop("params", None) or {})
        token = params.get("access_token") or self.access_token
        params["access_token"] = token
        try:
            return super()._request(method, url_or_endpoint, params=params, **kwargs)
        except WeChatClientException as exc:
            if exc.errcode not in TOKEN_ERRORS:
                raise
            # Once only: wechatpy's own auto_retry recurses for as long as the error repeats.
            log.info("access token rejected (%s): refreshing once", exc.errcode)
            params["access_token"] = self.fetch_access_token(stale=token)
            return super()._request(method, url_or_endpoint, params=params, **kwargs)


class WeChatApiClient(_SharedTokenClient, WeChatClient):  # type: ignore[misc]
    """The Official Account API client (`client.message`, `client.menu` …) on a shared token."""

    def __init__(self, app_id: str, secret: str, base_url: str, storage: DbTokenStorage,
                 timeout: float = API_TIMEOUT) -> None:
        super().__init__(app_id, secret, session=storage, timeout=timeout, auto_retry=False)
        self.API_BASE_URL = _with_slash(base_url)

    def _token_request(self) -> tuple[str, dict[str, str]]:
        return "token", {"grant_type": "client_credential", "appid": self.appid,
                         "secret": self.secret}


class WeComApiClient(_SharedTokenClient, WeComClient):  # type: ignore[misc]
    """The WeCom API client (`client.message.send_text` …) on a shared token."""

    def __init__(self, corp_id: str, secret: str, base_url: str, storage: DbTokenStorage,
                 timeout: float = API_TIMEOUT) -> None:
        super().__init__(corp_id, secret, session=storage, timeout=timeout, auto_retry=False)
        self.API_BASE_URL = _with_slash(base_url)

    @property
    def access_token_key(self) -> str:
        """Key the token by corp and app; wechatpy would put 10 characters of the secret here."""
        app = hashlib.sha256(self.secret.encode()).hexdigest()[:12]
        return f"{self.corp_id}_{app}_access_token"

    def _token_request(self) -> tuple[str, dict[str, str]]:
        return "gettoken", {"corpid": self.corp_id, "corpsecret": self.secret}


def _with_slash(url: str) -> str:
    return url if url.endswith("/") else url + "/"


# --- the send record -----------------------------------------------------------------------------


@dataclass(frozen=True)
class SendResult:
    """What became of one pushed message."""

    # "sent" (客服消息 / WeCom app message), "template", "duplicate" (already sent under this
    # idem key), "deferred" (rate limit: try after `retry_after` s), "dropped", "failed".
    status: str
    retry_after: float | None = None
    detail: str = ""

    @property
    def delivered(self) -> bool:
        """Tell whether the message reached (or had already reached) the platform."""
        return self.status in ("sent", "template", "duplicate")


class SendBook:
    """The database record of pushed messages, shared by every process."""

    def __init__(self, engine: Engine, clock: Clock) -> None:
        self.engine = engine
        self.clock = clock

    def reserve(self, channel: str, external_id: str, idem_key: str | None,
                choose: Callable[[Session, datetime], str | SendResult],
                ) -> tuple[int, str] | SendResult:
        """Lock the recipient, let `choose` pick a kind (or refuse), and record the send.

        The row is written before the API call, so two processes cannot both take the last
        slot; `cancel` removes it when the call fails.
        """
        with transaction(self.engine) as session:
            _lock_recipient(session, channel, external_id)
            if idem_key and session.exec(select(WeChatSend.id).where(
                    WeChatSend.idem_key == idem_key)).first() is not None:
                return SendResult("duplicate")
            now = _utc(self.clock.now())
            kind = choose(session, now)
            if isinstance(kind, SendResult):
                return kind
            row = WeChatSend(channel=channel, external_id=external_id, kind=kind,
                             idem_key=idem_key, sent_at=now)
            session.add(row)
            session.flush()
            assert row.id is not None
            return row.id, kind

    def cancel(self, send_id: int) -> None:
        """Forget a reserved send whose API call failed, giving its slot back."""
        with transaction(self.engine) as session:
            session.execute(delete(WeChatSend).where(col(WeChatSend.id) == send_id))

    @staticmethod
    def count(session: Session, channel: str, external_id: str, kinds: tuple[str, ...],
              since: datetime, *, inclusive: bool = True) -> int:
        """Count sends of `kinds` to one recipient since a moment (or strictly after it)."""
        sent_at = col(WeChatSend.sent_at)
        return int(session.exec(select(func.count()).select_from(WeChatSend).where(
            WeChatSend.channel == channel, WeChatSend.external_id == external_id,
            col(WeChatSend.kind).in_(kinds),
            sent_at >= since if inclusive else sent_at > since)).one())

    @staticmethod
    def last_inbound(session: Session, channel: str, external_id: str) -> datetime | None:
        """Return when the user last wrote on `channel` (message, menu tap, follow), if ever.

        The core records every inbound event in the inbox, retries excluded, so the
        customer-service window needs no extra write on the hot path.
        """
        last = session.exec(
            select(func.max(InboxEvent.received_at))
            .join(Account, col(Account.user_id) == col(InboxEvent.user_id))
            .where(Account.channel == channel, Account.external_id == external_id,
                   InboxEvent.channel == channel)).one()
        return as_aware(last) if last is not None else None


def _lock_recipient(session: Session, channel: str, external_id: str) -> None:
    """Serialise sends to one recipient across processes until the transaction ends."""
    if session.get_bind().dialect.name == "postgresql":
        digest = hashlib.blake2b(f"{channel}:{external_id}".encode(), digest_size=8).digest()
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"),
                        {"key": int.from_bytes(digest, "big", signed=True)})
    # SQLite: every transaction starts with BEGIN IMMEDIATE and so already holds the write lock.


# --- senders --------------------------------------------------------------------------------------


def _api_error(exc: Exception) -> int | None:
    return exc.errcode if isinstance(exc, WeChatClientException) else None


class WeChatSender:
    """Push text to an Official Account follower.

    A customer-service message (客服消息) when the worker wrote within 48 h and fewer than five
    have been sent since; otherwise a template message when `template_id` is set.
    """

    channel = "wechat"

    def __init__(self, client: WeChatApiClient, book: SendBook, template_id: str | None) -> None:
        self.client = client
        self.book = book
        self.template_id = template_id

    def _choose(self, openid: str) -> Callable[[Session, datetime], str | SendResult]:
        def choose(session: Session, now: datetime) -> str | SendResult:
            last = SendBook.last_inbound(session, self.channel, openid)
            if last is not None and now - last < CS_WINDOW and SendBook.count(
                    session, self.channel, openid, ("custom",), last) < CS_QUOTA:
                return "custom"
            return self._template_or_drop()

        return choose

    def _template_or_drop(self) -> str | SendResult:
        if self.template_id:
            return "template"
        return SendResult("dropped", detail="outside the customer-service window, no template")

    def send_text(self, openid: str, text: str, idem_key: str | None = None) -> SendResult:
        """Send one text (at most 2048 bytes); blocking — see `asend_text`."""
        reserved = self.book.reserve(self.channel, openid, idem_key, self._choose(openid))
        if isinstance(reserved, SendResult):
            return reserved
        send_id, kind = reserved
        if kind == "custom":
            try:
                self.client.message.send_text(openid, text)
                return SendResult("sent")
            except (WeChatClientException, requests.RequestException, TokenUnavailable) as exc:
                self.book.cancel(send_id)
                if _api_error(exc) not in OUT_OF_WINDOW:
                    log.warning("customer-service message failed: %s", exc)
                    return SendResult("failed", detail=str(exc))
                log.info("customer-service window closed (%s): trying a template", _api_error(exc))
            reserved = self.book.reserve(self.channel, openid, idem_key,
                                         lambda *_: self._template_or_drop())
            if isinstance(reserved, SendResult):
                return reserved
            send_id, kind = reserved
        try:
            self.client.message.send_template(
                openid, self.template_id, {"content": {"value": _short(text)}})
            return SendResult("template")
        except (WeChatClientException, requests.RequestException, TokenUnavailable) as exc:
            self.book.cancel(send_id)
            log.warning("template message failed: %s", exc)
            return SendResult("failed", detail=str(exc))

    async def asend_text(self, openid: str, text: str, idem_key: str | None = None) -> SendResult:
        """Send one text without blocking the event loop."""
        return await asyncio.to_thread(self.send_text, openid, text, idem_key)


class WeComSender:
    """Push app messages (message/send) to WeCom members, at most 30 a minute and 1000 an hour each."""

    channel = "wecom"

    def __init__(self, client: WeComApiClient, book: SendBook, agent_id: str) -> None:
        self.client = client
        self.book = book
        self.agent_id = agent_id

    def _choose(self, user_id: str) -> Callable[[Session, datetime], str | SendResult]:
        def choose(session: Session, now: datetime) -> str | SendResult:
            for span, limit in WECOM_LIMITS:
                # A sliding window: a send exactly `span` ago no longer counts.
                if SendBook.count(session, self.channel, user_id, ("app",), now - span,
                                  inclusive=False) >= limit:
                    oldest = session.exec(select(func.min(WeChatSend.sent_at)).where(
                        WeChatSend.channel == self.channel, WeChatSend.external_id == user_id,
                        col(WeChatSend.kind) == "app", col(WeChatSend.sent_at) > now - span)).one()
                    wait = (as_aware(oldest) + span - now).total_seconds() if oldest else 1.0
                    return SendResult("deferred", retry_after=max(wait, 1.0),
                                      detail=f"{limit} messages per {span}")
            return "app"

        return choose

    def send_text(self, user_id: str, text: str, idem_key: str | None = None) -> SendResult:
        """Send one text app message; blocking — see `asend_text`."""
        reserved = self.book.reserve(self.channel, user_id, idem_key, self._choose(user_id))
        if isinstance(reserved, SendResult):
            return reserved
        send_id, _kind = reserved
        try:
            # The API wants agentid as a number; a non-numeric setting is passed on for it to refuse.
            agent = int(self.agent_id) if self.agent_id.isdigit() else self.agent_id
            result = self.client.message.send_text(agent, user_id, text)
        except (WeChatClientException, requests.RequestException, TokenUnavailable) as exc:
            self.book.cancel(send_id)
            if _api_error(exc) in RATE_LIMITED:
                return SendResult("deferred", retry_after=60.0, detail=str(exc))
            log.warning("WeCom app message failed: %s", exc)
            return SendResult("failed", detail=str(exc))
        if isinstance(result, dict) and result.get("invaliduser"):
            self.book.cancel(send_id)
            return SendResult("dropped", detail="not in the app's visible range")
        return SendResult("sent")

    async def asend_text(self, user_id: str, text: str, idem_key: str | None = None) -> SendResult:
        """Send one text without blocking the event loop."""
        return await asyncio.to_thread(self.send_text, user_id, text, idem_key)


def _short(text: str) -> str:
    return text if len(text) <= TEMPLATE_CHARS else text[: TEMPLATE_CHARS - 1] + "…"


# --- wiring ---------------------------------------------------------------------------------------


def wechat_client(settings: Settings, engine: Engine, clock: Clock) -> WeChatApiClient | None:
    """Return the Official Account client, or None without WECHAT_APP_ID / WECHAT_APP_SECRET."""
    if not (settings.wechat_app_id and settings.wechat_app_secret):
        return None
    return WeChatApiClient(settings.wechat_app_id, settings.wechat_app_secret.get_secret_value(),
                           settings.wechat_api_base_url, DbTokenStorage(engine, clock))


def wecom_client(settings: Settings, engine: Engine, clock: Clock) -> WeComApiClient | None:
    """Return the WeCom client, or None without WECOM_CORP_ID / WECOM_SECRET."""
    if not (settings.wecom_corp_id and settings.wecom_secret):
        return None
    return WeComApiClient(settings.wecom_corp_id, settings.wecom_secret.get_secret_value(),
                          settings.wecom_api_base_url, DbTokenStorage(engine, clock))


def wechat_sender(settings: Settings, engine: Engine, clock: Clock) -> WeChatSender | None:
    """Return the Official Account sender when its credentials are set."""
    client = wechat_client(settings, engine, clock)
    if client is None:
        return None
    return WeChatSender(client, SendBook(engine, clock), settings.wechat_template_id)


def wecom_sender(settings: Settings, engine: Engine, clock: Clock) -> WeComSender | None:
    """Return the WeCom sender when its credentials and agent id are set."""
    client = wecom_client(settings, engine, clock)
    if client is None or not settings.wecom_agent_id:
        return None
    return WeComSender(client, SendBook(engine, clock), settings.wecom_agent_id)

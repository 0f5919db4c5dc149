"""/wechat over a real uvicorn on 127.0.0.1: 40 workers answering at once, a 10 MB upload."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Iterator

import httpx
import pytest
from sqlmodel import Session

from bench.wechat_load import ServerThread, drive
from bot.app import App, build_app
from bot.channels.wechat_protocol import signature
from bot.clock import FixedClock
from bot.records import find_user, user_record
from bot.web import create_web_app
from tests.conftest import make_settings
from tests.fake_wechat_api import APP_ID, TOKEN, table_counts, wechat_settings


def served(app: App, clock: FixedClock) -> ServerThread:
    settings = make_settings(app.settings.database_url, **wechat_settings())
    return ServerThread(create_web_app(build_app(settings, clock=clock, rng=random.Random(7),
                                                 engine=app.engine, shuffle=False)))


@pytest.mark.parametrize("aes", [False, True], ids=["plain", "aes"])
def test_40_concurrent_workers_join_and_answer_without_an_error(app: App, clock: FixedClock,
                                                                aes: bool) -> None:
    with served(app, clock) as base_url:
        result = asyncio.run(drive(base_url, 40, aes=aes, clock=clock, token=TOKEN, app_id=APP_ID))
    # The figure for the record; the timing goal itself is checked in bench/, not here.
    print(f"\n/wechat 40 concurrent workers ({'aes' if aes else 'plain'}): "  # noqa: T201
          f"{result.summary()}")
    assert result.errors == []
    assert len(result.latencies) == 40 * 6
    with Session(app.engine) as session:
        for openid in result.openids:
            user = find_user(session, "wechat", openid)
            assert user is not None, openid
            rec = user_record(session, app.deps.bank, user, "wechat", openid)
            assert (rec["enterprise"], rec["answers"]) == ("测试机械厂", 2), openid


def test_a_10_mb_upload_over_real_http_gets_413_in_well_under_a_second(
        app: App, clock: FixedClock) -> None:
    stamp, nonce = str(int(clock.now().timestamp())), "12345"
    query = {"signature": signature(TOKEN, stamp, nonce), "timestamp": stamp, "nonce": nonce}
    before = table_counts(app.engine)

    def chunks() -> Iterator[bytes]:  # no Content-Length: the server must stop reading
        for _ in range(160):
            yield b"a" * 65536

    with served(app, clock) as base_url, httpx.Client(base_url=base_url, timeout=10) as client:
        for body in (b"a" * (10 * 1024 * 1024), chunks()):
            started = time.perf_counter()
            response = client.post("/wechat", params=query, content=body)
            assert response.status_code == 413
            assert time.perf_counter() - started < 1.0
    assert table_counts(app.engine) == before

"""40 workers answering through /wechat at once, over a real uvicorn on 127.0.0.1."""

from __future__ import annotations

import asyncio
import random

import pytest
from sqlmodel import Session

from bench.wechat_load import ServerThread, drive
from bot.app import App, build_app
from bot.clock import FixedClock
from bot.records import find_user, user_record
from bot.web import create_web_app
from tests.conftest import make_settings
from tests.fake_wechat_api import APP_ID, TOKEN, wechat_settings


@pytest.mark.parametrize("aes", [False, True], ids=["plain", "aes"])
def test_40_concurrent_workers_join_and_answer_without_an_error(app: App, clock: FixedClock,
                                                                aes: bool) -> None:
    settings = make_settings(app.settings.database_url, **wechat_settings())
    application = build_app(settings, clock=clock, rng=random.Random(7), engine=app.engine,
                            shuffle=False)
    with ServerThread(create_web_app(application)) as base_url:
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

"""WeCom app messages (message/send) against an API stand-in: shared token and member limits."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, timedelta

import pytest
from sqlalchemy.engine import Engine

from bot.channels.wechat_outbound import WeComSender, wecom_sender
from bot.clock import FixedClock
from bot.db import transaction
from bot.models import WeChatSend
from tests.conftest import make_settings
from tests.fake_wechat_api import FakeWeChatApi, running_fake_api, wechat_settings


@pytest.fixture
def fake_api() -> Iterator[FakeWeChatApi]:
    with running_fake_api() as api:
        yield api


def sender(api: FakeWeChatApi, engine: Engine, clock: FixedClock) -> WeComSender:
    built = wecom_sender(make_settings("sqlite://", **wechat_settings(api.base_url)), engine, clock)
    assert built is not None
    return built


def test_app_messages_go_to_message_send_with_the_agent_id_on_one_shared_token(
        fake_api: FakeWeChatApi, engine: Engine, clock: FixedClock) -> None:
    one, two = sender(fake_api, engine, clock), sender(fake_api, engine, clock)
    assert one.send_text("zhangsan", "通知一").status == "sent"
    assert two.send_text("lisi", "通知二").status == "sent"
    assert fake_api.token_fetches == 1
    assert [(s["kind"], s["to"], s["agentid"]) for s in fake_api.sent] == [
        ("app", "zhangsan", 1000002), ("app", "lisi", 1000002)]
    assert "/cgi-bin/gettoken" in fake_api.calls


def test_at_most_30_messages_a_minute_reach_one_member(
        fake_api: FakeWeChatApi, engine: Engine, clock: FixedClock) -> None:
    wecom = sender(fake_api, engine, clock)
    for n in range(30):
        assert wecom.send_text("zhangsan", f"第{n}条").status == "sent"
        clock.advance(seconds=1)
    held = wecom.send_text("zhangsan", "第31条")
    assert held.status == "deferred"
    assert held.retry_after is not None
    assert 1 <= held.retry_after <= 60
    assert wecom.send_text("lisi", "别人不受影响").status == "sent"
    clock.advance(seconds=held.retry_after)
    assert wecom.send_text("zhangsan", "第31条").status == "sent"
    assert len(fake_api.texts("app")) == 32


def test_at_most_1000_messages_an_hour_reach_one_member(
        fake_api: FakeWeChatApi, engine: Engine, clock: FixedClock) -> None:
    now = clock.now().astimezone(UTC)
    with transaction(engine) as session:  # 1000 sends spread over the last 50 minutes
        session.add_all(WeChatSend(channel="wecom", external_id="zhangsan", kind="app",
                                   sent_at=now - timedelta(minutes=50) + timedelta(seconds=3 * n))
                        for n in range(1000))
    wecom = sender(fake_api, engine, clock)
    held = wecom.send_text("zhangsan", "超过每小时上限")
    assert held.status == "deferred"
    assert held.retry_after == pytest.approx(10 * 60, abs=1)
    assert fake_api.sent == []
    clock.advance(minutes=11)
    assert wecom.send_text("zhangsan", "又可以了").status == "sent"


def test_wecoms_own_rate_limit_answer_defers_and_frees_the_slot(
        fake_api: FakeWeChatApi, engine: Engine, clock: FixedClock) -> None:
    wecom = sender(fake_api, engine, clock)
    fake_api.fail_next = [45033]
    assert wecom.send_text("zhangsan", "一", idem_key="announce:1").status == "deferred"
    assert wecom.send_text("zhangsan", "一", idem_key="announce:1").status == "sent"
    assert wecom.send_text("zhangsan", "一", idem_key="announce:1").status == "duplicate"
    assert fake_api.texts() == ["一"]


def test_a_rejected_wecom_token_is_refreshed_once(
        fake_api: FakeWeChatApi, engine: Engine, clock: FixedClock) -> None:
    wecom = sender(fake_api, engine, clock)
    wecom.send_text("zhangsan", "一")
    fake_api.revoke_tokens()
    assert wecom.send_text("zhangsan", "二").status == "sent"
    assert fake_api.token_fetches == 2

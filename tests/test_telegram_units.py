"""Telegram channel pieces without a network: button signing, keyboards, text splitting."""

from __future__ import annotations

import pytest

from bot import messages as m
from bot.channels.telegram import file_base_url
from bot.channels.telegram_buttons import (
    EMPTY,
    MAX_CALLBACK_BYTES,
    PAYLOAD,
    TOGGLE,
    ButtonSigner,
    keyboard,
    toggle_keyboard,
)
from bot.channels.telegram_sender import MAX_TEXT, split_text, utf16_len
from bot.chat import Option, Reply

signer = ButtonSigner(b"test-secret")


def data_of(markup: object) -> list[list[tuple[str, str]]]:
    return [[(b.text, str(b.callback_data)) for b in row]
            for row in markup.inline_keyboard]  # type: ignore[attr-defined]


@pytest.mark.parametrize("payload", ["cmd:learn", "g:4", "q:1:0:A", "q:9999999999:99:ABCDEF",
                                     "cmd:rank:month"])
def test_signed_payloads_fit_in_64_bytes_and_verify_for_their_chat_only(payload: str) -> None:
    data = signer.sign("5550001", PAYLOAD + payload)
    assert len(data.encode()) <= MAX_CALLBACK_BYTES
    tap = signer.verify("5550001", data)
    assert tap is not None and (tap.kind, tap.payload) == (PAYLOAD, payload)
    assert signer.verify("5550002", data) is None  # another worker's chat
    assert ButtonSigner(b"other-secret").verify("5550001", data) is None


@pytest.mark.parametrize("data", [None, "", "Pcmd:learn", "Pcmd:learn|", "Pcmd:me|AAAAAAAAAAAA",
                                  "|" * 70])
def test_forged_or_malformed_data_does_not_verify(data: str | None) -> None:
    assert signer.verify("1", data) is None


def test_a_payload_too_long_for_telegram_is_refused_when_signing() -> None:
    with pytest.raises(ValueError, match="too long"):
        signer.sign("1", PAYLOAD + "cmd:" + "x" * 60)


def test_single_choice_question_shows_one_button_per_letter() -> None:
    reply = Reply("第 1/2 题", kind="question", options=tuple(
        Option(x, f"q:7:0:{x}") for x in "ABC"))
    rows = data_of(keyboard(signer, "1", reply))
    assert [[label for label, _ in row] for row in rows] == [["A", "B", "C"]]
    tap = signer.verify("1", rows[0][1][1])
    assert tap is not None and tap.payload == "q:7:0:B"


def test_multi_choice_toggles_carry_the_selection_they_would_make() -> None:
    reply = Reply("多选", kind="question", multi=True,
                  options=tuple(Option(x, f"q:7:1:{x}") for x in "ABCD"))
    rows = data_of(keyboard(signer, "1", reply))
    assert rows[-1][0][0] == m.TELEGRAM_SUBMIT
    submit = signer.verify("1", rows[-1][0][1])
    assert submit is not None and submit.kind == EMPTY
    tap_c = signer.verify("1", rows[0][2][1])
    assert tap_c is not None
    assert (tap_c.kind, tap_c.letters, tap_c.selected, tap_c.prefix) == (TOGGLE, "ABCD", "C", "q:7:1")
    rows = data_of(toggle_keyboard(signer, "1", "ABCD", "AC", "q:7:1"))
    assert [label for label, _ in rows[0]] == ["✅ A", "B", "✅ C", "D"]
    untoggle_a = signer.verify("1", rows[0][0][1])
    assert untoggle_a is not None and untoggle_a.selected == "C"
    done = signer.verify("1", rows[-1][0][1])
    assert done is not None and (done.kind, done.payload) == (PAYLOAD, "q:7:1:AC")


def test_other_options_become_labelled_buttons_long_ones_one_per_row() -> None:
    short = Reply("x", options=(Option("继续学习", "cmd:learn"), Option("我的", "cmd:me")))
    assert [[label for label, _ in row] for row in data_of(keyboard(signer, "1", short))] == [
        ["继续学习", "我的"]]
    groups = Reply("x", options=tuple(Option(f"{n}. {g}", f"g:{n}") for n, g in m.GROUPS.items()))
    assert len(data_of(keyboard(signer, "1", groups))) == 4
    assert keyboard(signer, "1", Reply("no buttons")) is None


def test_split_text_keeps_every_line_and_respects_the_limit() -> None:
    text = "\n".join(f"第 {i} 行" + "安" * 50 for i in range(300))
    chunks = split_text(text)
    assert len(chunks) > 1
    assert all(utf16_len(c) <= MAX_TEXT for c in chunks)
    assert "\n".join(chunks) == text


def test_split_text_cuts_a_single_huge_line_and_counts_emoji_as_two() -> None:
    text = "😀" * 3000  # 6000 UTF-16 units
    chunks = split_text(text)
    assert [utf16_len(c) for c in chunks] == [4096, 6000 - 4096]
    assert "".join(chunks) == text
    assert split_text("短消息") == ["短消息"]


def test_file_url_follows_the_api_base_url() -> None:
    assert file_base_url("https://api.telegram.org/bot") == "https://api.telegram.org/file/bot"
    assert file_base_url("http://127.0.0.1:8081/bot") == "http://127.0.0.1:8081/file/bot"

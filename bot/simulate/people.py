"""Synthetic people and companies: Chinese names, 珠海 company names, chat identities."""

from __future__ import annotations

import base64
import hashlib
import random
from itertools import accumulate

from bot.enterprises import INVITE_ALPHABET

# The commonest surnames, with rough weights (per cent of the population) so 王 and 李 dominate
# and rare ones still appear.
_SURNAMES = (
    ("王", 7.1), ("李", 7.0), ("张", 6.7), ("刘", 5.4), ("陈", 4.5), ("杨", 3.1), ("黄", 2.2),
    ("赵", 2.0), ("吴", 2.0), ("周", 1.9), ("徐", 1.5), ("孙", 1.5), ("马", 1.4), ("朱", 1.3),
    ("胡", 1.3), ("郭", 1.1), ("何", 1.1), ("林", 1.0), ("高", 1.0), ("罗", 0.9), ("郑", 0.9),
    ("梁", 0.9), ("谢", 0.8), ("宋", 0.7), ("唐", 0.7), ("许", 0.7), ("韩", 0.7), ("冯", 0.7),
    ("邓", 0.7), ("曹", 0.6), ("彭", 0.6), ("曾", 0.6), ("肖", 0.6), ("田", 0.5), ("董", 0.5),
    ("潘", 0.5), ("袁", 0.5), ("蔡", 0.5), ("蒋", 0.5), ("余", 0.5), ("于", 0.5), ("杜", 0.4),
    ("叶", 0.4), ("程", 0.4), ("魏", 0.4), ("苏", 0.4), ("吕", 0.4), ("丁", 0.4), ("任", 0.4),
    ("卢", 0.4), ("姚", 0.4), ("沈", 0.4), ("钟", 0.4), ("姜", 0.4), ("崔", 0.3), ("谭", 0.3),
    ("陆", 0.3), ("范", 0.3), ("汪", 0.3), ("廖", 0.3), ("石", 0.3), ("金", 0.3), ("韦", 0.3),
    ("贾", 0.3), ("夏", 0.3), ("付", 0.3), ("方", 0.3), ("邹", 0.2), ("熊", 0.2), ("白", 0.2),
    ("孟", 0.2), ("秦", 0.2), ("邱", 0.2), ("侯", 0.2), ("江", 0.2), ("尹", 0.2), ("薛", 0.2),
    ("黎", 0.2), ("莫", 0.2), ("欧阳", 0.1), ("司马", 0.02), ("上官", 0.02),
)
_GIVEN = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉萍红玲芬燕彬辉鹏波斌宇浩凯健俊帆"
    "旭宁龙林欣晨瑞婷雪琳晶颖倩慧梅莉兰凤文博鑫峰建国志海东亮成新春金德永荣福生云飞阳思"
    "佳雨子嘉梓涵宏振家泽天睿诗怡可心婉晓少顺锦坤昊航毅翔凡雯璐丹蓉琴琪悦源达耀"
)
_BRAND = (
    "格华金恒通德信宏达丰泰瑞康科创新源隆盛鑫远航"
    "润联邦精诚优泽博安众星光明峰宇成嘉怡永兴富辰湾粤港澳珠汇利"
)
_INDUSTRY = (
    "精密制造", "电子科技", "电气", "塑胶制品", "模具", "五金制品", "机械设备", "新材料",
    "光电", "汽车零部件", "船舶工程", "生物医药", "食品", "包装印刷", "建筑工程", "物流",
    "电力工程", "化工", "智能装备", "半导体", "家电", "纺织", "医疗器械", "游艇制造",
    "通信设备", "钢结构", "环保科技", "空调设备", "电路板", "精工",
)
_DISTRICT = ("香洲", "斗门", "金湾", "横琴", "高新")

_SURNAME_NAMES = tuple(s for s, _ in _SURNAMES)
_SURNAME_CUM = tuple(accumulate(w for _, w in _SURNAMES))


def person_name(rng: random.Random) -> str:
    """Return a plausible Chinese full name: a weighted surname and one or two given characters."""
    surname = rng.choices(_SURNAME_NAMES, cum_weights=_SURNAME_CUM)[0]
    given = _GIVEN[int(rng.random() * len(_GIVEN))]
    if rng.random() < 0.7:  # two-character given names are the commoner kind
        given += _GIVEN[int(rng.random() * len(_GIVEN))]
    return surname + given


def company_name(rng: random.Random) -> str:
    """Return a plausible 珠海 company name, e.g. 珠海恒瑞精密制造有限公司."""
    brand = rng.choice(_BRAND) + rng.choice(_BRAND)
    industry = rng.choice(_INDUSTRY)
    form = rng.random()
    if form < 0.45:
        return f"珠海{brand}{industry}有限公司"
    if form < 0.7:
        return f"珠海市{brand}{industry}有限公司"
    if form < 0.82:
        return f"珠海市{rng.choice(_DISTRICT)}区{brand}{industry}有限公司"
    if form < 0.92:
        return f"珠海{brand}{industry}股份有限公司"
    return f"{brand}{industry}（珠海）有限公司"


def invite_code(rng: random.Random, length: int = 6) -> str:
    """Return an invite code in the real alphabet, drawn from the seeded rng (not `secrets`)."""
    return "".join(rng.choice(INVITE_ALPHABET) for _ in range(length))


def external_id(channel: str, seed: int, index: int) -> str:
    """Return the chat identity of simulated worker `index`: unique per (seed, index) by construction.

    WeChat openids look like the real 28-character ones; Telegram ids are numbers; console ids
    say what they are.
    """
    if channel == "wechat":
        digest = hashlib.blake2b(f"{seed}:{index}".encode(), digest_size=21).digest()
        return "o" + base64.urlsafe_b64encode(digest).decode()[:27]
    if channel == "telegram":
        # Ten million workers per seed leaves the seeds' ranges disjoint.
        return str(6_000_000_000 + seed * 10_000_000 + index)
    return f"sim-{seed}-{index}"

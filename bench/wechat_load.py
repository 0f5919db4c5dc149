"""Load on /wechat: N workers at once follow, join, open a lesson and answer — over real HTTP.

    python3 -m uv run python bench/wechat_load.py [--workers 40] [--aes] [--database-url URL]
                                                  [--in-process]

Each worker sends six signed callbacks in turn (QR follow, name, group, 学习, two answers);
all workers run at the same time against a real uvicorn on 127.0.0.1 serving the real app
(bundled quiz bank) in its own process, as `jixing serve` would. Prints latency percentiles
per request; WeChat's deadline is 5 s and the app answers `success` after
WECHAT_REPLY_DEADLINE (4 s), so p99 must stay far below.
Without --database-url a fresh SQLite file in a temporary directory is used.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import random
import string
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from wechatpy.crypto import WeChatCrypto

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.channels.wechat_protocol import parse_xml, signature  # noqa: E402
from bot.clock import Clock, SystemClock  # noqa: E402

TOKEN = "bench-token"
APP_ID = "wxbench0000000000"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
INVITE = "ACME"


@dataclass
class LoadResult:
    """Latencies of every request and what went wrong."""

    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    openids: list[str] = field(default_factory=list)

    def percentile(self, p: float) -> float:
        """Return the p-th percentile latency in seconds (nearest rank)."""
        ordered = sorted(self.latencies)
        if not ordered:
            return 0.0
        rank = max(1, math.ceil(p / 100 * len(ordered)))
        return ordered[min(rank, len(ordered)) - 1]

    def summary(self) -> str:
        """Return one line of figures."""
        ms = [f"{name} {self.percentile(p) * 1000:.0f} ms"
              for name, p in (("p50", 50), ("p95", 95), ("p99", 99), ("max", 100))]
        return f"{len(self.latencies)} requests, {len(self.errors)} errors: " + ", ".join(ms)


def _xml(sender: str, msg_type: str, when: int, **fields: str) -> str:
    items = "".join(f"<{k}><![CDATA[{v}]]></{k}>" for k, v in fields.items())
    return (f"<xml><ToUserName><![CDATA[gh_bench]]></ToUserName>"
            f"<FromUserName><![CDATA[{sender}]]></FromUserName><CreateTime>{when}</CreateTime>"
            f"<MsgType><![CDATA[{msg_type}]]></MsgType>{items}</xml>")


async def _worker(client: httpx.AsyncClient, clock: Clock, run: int, n: int, aes: bool,
                  result: LoadResult, token: str, app_id: str) -> None:
    # A fresh identity and MsgIds per run, so a reused database does not replay old replies.
    openid = f"o-load-{run}-{n:04d}"
    result.openids.append(openid)
    steps = [("event", {"Event": "subscribe", "EventKey": f"qrscene_{INVITE}"}),
             ("text", {"Content": "张三明"}), ("text", {"Content": "2"}),
             ("text", {"Content": "学习"}), ("text", {"Content": "A"}),
             ("text", {"Content": "B"})]
    crypto = WeChatCrypto(token, AES_KEY, app_id)
    for step, (msg_type, fields) in enumerate(steps):
        when = int(clock.now().timestamp())
        if msg_type == "text":
            fields = {**fields, "MsgId": str(run * 100_000 + n * 10 + step)}
        xml = _xml(openid, msg_type, when, **fields)
        nonce = "".join(random.choices(string.digits, k=9))
        query = {"signature": signature(token, str(when), nonce), "timestamp": str(when),
                 "nonce": nonce, "openid": openid}
        body: str = xml
        if aes:
            body = crypto.encrypt_message(xml, nonce, str(when))
            query.update(encrypt_type="aes", msg_signature=parse_xml(body)["MsgSignature"])
        started = time.perf_counter()
        try:
            response = await client.post("/wechat", params=query, content=body)
        except httpx.HTTPError as exc:
            result.errors.append(f"{openid} step {step}: {type(exc).__name__}")
            continue
        result.latencies.append(time.perf_counter() - started)
        if response.status_code != 200 or response.text in ("", "success"):
            result.errors.append(f"{openid} step {step}: {response.status_code} {response.text[:80]}")


async def drive(base_url: str, workers: int, *, aes: bool = False, clock: Clock | None = None,
                token: str = TOKEN, app_id: str = APP_ID) -> LoadResult:
    """Run `workers` concurrent workers against `base_url`; return their latencies."""
    result = LoadResult()
    run = random.randrange(10_000, 99_999)
    limits = httpx.Limits(max_connections=workers, max_keepalive_connections=workers)
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=30) as client:
        await asyncio.gather(*(_worker(client, clock or SystemClock(), run, n, aes, result,
                                       token, app_id) for n in range(workers)))
    return result


class ServerThread:
    """A real uvicorn serving an ASGI app on 127.0.0.1 in a background thread."""

    def __init__(self, asgi_app: Any) -> None:
        config = uvicorn.Config(asgi_app, host="127.0.0.1", port=0, log_level="warning",
                                lifespan="off")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> str:
        self.thread.start()
        while not self.server.started:
            if not self.thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.01)
        port = self.server.servers[0].sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

    def __exit__(self, *_exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)


def build_web(url: str) -> Any:
    """Return the web app on `url` (schema created, enterprise ACME present), real clock."""
    from bot.app import build_app
    from bot.config import Settings
    from bot.db import create_schema, make_engine, transaction
    from bot.enterprises import ensure_enterprise
    from bot.web import create_web_app

    engine = make_engine(url)
    create_schema(engine)
    clock = SystemClock()
    with transaction(engine) as session:
        ensure_enterprise(session, "压测企业", INVITE, clock.now())
    settings = Settings(_env_file=None, database_url=url,  # type: ignore[call-arg]
                        wechat_token=TOKEN, wechat_app_id=APP_ID, wechat_encoding_aes_key=AES_KEY)
    return create_web_app(build_app(settings, engine=engine, clock=clock, shuffle=False))


def serve(url: str, port: int) -> None:
    """Run the app under uvicorn in this process (the server side of a two-process run)."""
    uvicorn.run(build_web(url), host="127.0.0.1", port=port, log_level="warning")


def wait_for_port(port: int, timeout: float = 30) -> None:
    """Wait until something listens on 127.0.0.1:`port`."""
    import socket

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listening on port {port}")


def main() -> None:
    """Serve the app, drive the load from this process, print the figures."""
    import socket
    import subprocess

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=40)
    parser.add_argument("--aes", action="store_true", help="safe mode (encrypted callbacks)")
    parser.add_argument("--database-url", default=None, help="default: a temporary SQLite file")
    parser.add_argument("--in-process", action="store_true",
                        help="serve from a thread of this process (client and server share a GIL)")
    parser.add_argument("--serve-port", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{tmp}/load.db"
        if args.serve_port:
            serve(url, args.serve_port)
            return
        started = time.perf_counter()
        if args.in_process:
            with ServerThread(build_web(url)) as base_url:
                started = time.perf_counter()
                result = asyncio.run(drive(base_url, args.workers, aes=args.aes))
        else:
            # WeChat's servers are not in our process: drive the load from another one.
            with socket.socket() as free:
                free.bind(("127.0.0.1", 0))
                port = free.getsockname()[1]
            server = subprocess.Popen([sys.executable, __file__, "--serve-port", str(port),
                                       "--database-url", url])
            try:
                wait_for_port(port)
                started = time.perf_counter()
                result = asyncio.run(drive(f"http://127.0.0.1:{port}", args.workers, aes=args.aes))
            finally:
                server.terminate()
                server.wait(10)
        wall = time.perf_counter() - started
    where = "in-process" if args.in_process else "separate server process"
    print(f"/wechat, {args.workers} concurrent workers, {'AES' if args.aes else 'plain'}, "  # noqa: T201
          f"{url.split(':', 1)[0]}, {where}: {result.summary()} ({wall:.1f} s wall)")
    for line in result.errors[:10]:
        print("  " + line)  # noqa: T201
    sys.exit(1 if result.errors else 0)


if __name__ == "__main__":
    main()

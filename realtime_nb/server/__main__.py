"""Run the stand-in: ``python -m realtime_nb.server --port 8765``; prints its URL, Ctrl-C stops."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import sys

from ..models import DEFAULT_MODEL
from .app import LocalServer

log = logging.getLogger("realtime_nb.server")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m realtime_nb.server",
        description="A local stand-in for the OpenAI Realtime API (WebSocket, GA protocol).",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765, help="0 picks a free port")
    parser.add_argument(
        "--responder",
        default=None,
        help=(
            "'brain' (listens and speaks offline; the default when the speech packages import),"
            " 'echo' (the default without them), or a JSON file with a list of scripted replies"
        ),
    )
    parser.add_argument("--api-key", default=None, help="require this key (default: any)")
    parser.add_argument("--protocol", choices=("ga", "beta"), default="ga")
    parser.add_argument(
        "--audio-speed", type=float, default=8.0, help="pace audio at X × real time ('inf': none)"
    )
    parser.add_argument("--max-session-s", type=float, default=3600.0)
    parser.add_argument(
        "--think-ms",
        type=float,
        default=0.0,
        help="a model's time to first output: wait this long after response.created",
    )
    parser.add_argument("--seed", type=int, default=None, help="deterministic ids")
    parser.add_argument(
        "--tls",
        action="store_true",
        help="serve wss:// with a throwaway certificate (prints the CA file to trust)",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log every connection")
    return parser.parse_args(argv)


def describe_responder(responder: object) -> str:
    """A short name for the log: 'brain', 'echo' or the callable's name."""
    name = getattr(responder, "__name__", None) or type(responder).__name__
    return "brain" if name == "Brain" else str(name)


async def serve_forever(args: argparse.Namespace) -> None:
    server = LocalServer(
        args.host,
        args.port,
        responder=args.responder,
        api_key=args.api_key,
        protocol=args.protocol,
        audio_speed=args.audio_speed,
        max_session_s=args.max_session_s,
        seed=args.seed,
        tls=args.tls,
        think_s=args.think_ms / 1000,
    )
    async with server:
        print(f"{server.url}?model={DEFAULT_MODEL}", flush=True)
        print(f"responder: {describe_responder(server.responder)}", flush=True)
        log.info("openai-python: AsyncOpenAI(websocket_base_url=%r)", server.base_url)
        if server.ca_path is not None:
            log.info(
                "TLS with a throwaway CA: trust %s (node: NODE_EXTRA_CA_CERTS=%s)",
                server.ca_path,
                server.ca_path,
            )
        await asyncio.Event().wait()


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve_forever(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The stand-in over TLS (wss://), for clients that cannot be pointed at ws:// at all."""

from __future__ import annotations

import json
import math
import os
import shutil
import ssl
import subprocess
from pathlib import Path

import pytest

from realtime_nb import Session
from realtime_nb.errors import ConnectionClosed
from realtime_nb.server import LocalServer
from realtime_nb.session import RealtimeSession

JS = Path(__file__).resolve().parent.parent / "js"


async def test_wss_with_the_stand_ins_ca_and_not_without_it() -> None:
    async with LocalServer(audio_speed=math.inf, tls=True, responder="echo") as srv:
        assert srv.url.startswith("wss://127.0.0.1:") and srv.base_url.startswith("wss://")
        ca_path = srv.ca_path
        assert ca_path is not None and ca_path.read_text().startswith("-----BEGIN")
        async with RealtimeSession(srv.url, ssl=srv.client_ssl_context()) as s:
            r = await s.ask("over TLS", output_modalities=["text"])
            assert r.text == "You said: over TLS"
        with pytest.raises(ConnectionClosed, match=r"CERTIFICATE_VERIFY_FAILED|certificate"):
            await RealtimeSession(srv.url, ssl=ssl.create_default_context()).connect()
    assert srv.ca_path is None and not ca_path.exists()  # the throwaway CA is gone


def test_the_offline_session_trusts_its_own_tls_stand_in() -> None:
    with Session(server_options={"tls": True, "audio_speed": math.inf}) as s:
        assert s.async_session.endpoint.url.startswith("wss://")
        assert s.ask("hi", output_modalities=["text"]).ok


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_the_official_node_openai_package_completes_a_text_and_an_audio_turn() -> None:
    if not (JS / "node_modules" / "openai").exists():
        pytest.fail("js/node_modules/openai is missing: run `cd js && npm ci` (scripts/test does)")
    with LocalServer(audio_speed=math.inf, tls=True, responder="echo") as srv:
        env = {**os.environ, "NODE_EXTRA_CA_CERTS": str(srv.ca_path)}
        base = srv.base_url.replace("wss://", "https://")
        out = subprocess.run(
            ["node", str(JS / "interop" / "openai-node-realtime.mjs"), base],
            capture_output=True, text=True, timeout=60, env=env, cwd=JS,
        )  # fmt: skip
        assert out.returncode == 0, out.stderr
        result = json.loads(out.stdout.strip().splitlines()[-1])
        received = [e for _, e in srv.received]
    assert result["url"].startswith("wss://127.0.0.1:")
    assert result["text"] == "You said: hello from node"
    assert result["status"] == "completed" and result["transcript"]
    assert result["audio_deltas"] > 0 and result["audio_bytes"] > 24000  # > 0.5 s of answer
    types = [e.get("type") for e in received if isinstance(e, dict)]
    assert "input_audio_buffer.append" in types and "input_audio_buffer.commit" in types

"""Test helpers: the client protocol and the stand-in's state machine joined in memory.

:class:`MemoryPair` is h11's trick applied to the Realtime protocol: a
:class:`~realtime_nb.client_protocol.ClientProtocol` and a stand-in
:class:`~realtime_nb.server.state.RealtimeServerProtocol` exchange the exact text frames a socket
would carry, on a virtual clock. Tests of client behaviour (correlation, state, the log, replay)
run with no socket, no loop and no sleep, and still see the server's real event sequences.
"""

from __future__ import annotations

import json
import math
from typing import Any

from .client_protocol import ClientProtocol, Outgoing, Received
from .models import DEFAULT_MODEL


class MemoryPair:
    """A client protocol connected to the stand-in's state machine, frame by frame.

    Args:
        client: the client protocol to connect (a new one by default).
        path, headers: the upgrade request the server sees.
        audio_speed: the stand-in's pacing (inf: a response is emitted at once).
        responder: the stand-in's responder (echo by default).
        seed: the stand-in's id seed (reproducible ids).
        **config: more :class:`~realtime_nb.server.state.ServerConfig` fields.
    """

    def __init__(
        self,
        client: ClientProtocol | None = None,
        *,
        path: str = f"/v1/realtime?model={DEFAULT_MODEL}",
        headers: dict[str, str] | None = None,
        audio_speed: float = math.inf,
        responder: Any = None,
        seed: int | None = 7,
        **config: Any,
    ) -> None:
        from .server.state import ConnectRequest, RealtimeServerProtocol, ServerConfig

        self.client = client or ClientProtocol()
        self.server = RealtimeServerProtocol(
            ConnectRequest(path, headers or {}),
            ServerConfig(audio_speed=audio_speed, seed=seed, **config),
            responder=responder,
        )
        self.now = 0.0
        #: every text frame that crossed, as ("in" to the server | "out" of it, frame)
        self.wire: list[tuple[str, str]] = []
        self.opened = self._deliver(self.server.open(0.0, 0.0))

    @property
    def closed(self) -> Any:
        """The server's close request (code, reason) after it decided to close, else None."""
        return self.server.close

    def _deliver(self, events: list[dict[str, Any]]) -> list[Received]:
        out: list[Received] = []
        for event in events:
            frame = json.dumps(event, separators=(",", ":"))
            self.wire.append(("out", frame))
            received = self.client.receive(frame, self.now, self.now)
            if received is not None:
                out.append(received)
        return out

    def send(self, out: Outgoing) -> list[Received]:
        """Carry one prepared client frame to the server; return what came back."""
        self.wire.append(("in", out.text))
        self.client.sent(out, self.now, self.now)
        return self._deliver(self.server.receive_text(out.text, self.now))

    def request(self, event: dict[str, Any], **kwargs: Any) -> tuple[Outgoing, list[Received]]:
        """Prepare ``event`` as a request (correlated) and send it."""
        out = self.client.request(event, **kwargs)
        return out, self.send(out)

    def advance(self, seconds: float) -> list[Received]:
        """Let ``seconds`` of virtual time pass on the server (paced events, VAD, expiry)."""
        self.now += seconds
        return self._deliver(self.server.poll(self.now))

    def run(self, limit_s: float = 600.0) -> list[Received]:
        """Advance from deadline to deadline until the server has nothing scheduled."""
        out: list[Received] = []
        end = self.now + limit_s
        while (deadline := self.server.next_deadline()) is not None and deadline <= end:
            out += self.advance(max(deadline - self.now, 0.0))
        return out


__all__ = ["MemoryPair"]

"""What the state machine hands the I/O edge: events in send order, jobs to await, a close.

Every part of the stand-in emits through one :class:`Outbox`, so event ids are issued in send
order and the beta shape (when the connection asked for it) is applied in one place. Sans-I/O.
"""

from __future__ import annotations

from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Any, Literal

from .. import beta, protocol


@dataclass(frozen=True, slots=True)
class CloseRequest:
    """Close the socket with ``code`` and ``reason``."""

    code: int
    reason: str


@dataclass(slots=True)
class Job:
    """An awaitable the edge must run, then hand back with ``resolve_job``."""

    kind: Literal["reply", "transcript"]
    key: str  # response id / item id
    awaitable: Awaitable[Any]
    seconds: float = 0.0


class Outbox:
    """Server events waiting to be sent, and async jobs waiting to be run."""

    def __init__(self, ids: protocol.IdFactory) -> None:
        self.ids = ids
        #: Speak the beta shape (set when the connection is admitted with the beta header).
        self.beta = False
        self.events_emitted = 0
        self._events: list[dict[str, Any]] = []
        self._jobs: list[Job] = []

    def emit(self, type_: str, **fields: Any) -> None:
        """Queue a GA server event (converted to the beta shape in beta mode)."""
        if self.beta:
            if type_ == "conversation.item.done":
                return
            if type_ == "conversation.item.added":
                type_ = "conversation.item.created"
        event: dict[str, Any] = {"type": type_, "event_id": self.ids.event(), **fields}
        if self.beta:
            event = beta.to_beta_server_event(event)
        self._events.append(event)
        self.events_emitted += 1

    def error(
        self,
        code: str | None,
        message: str,
        param: str | None = None,
        client_event_id: str | None = None,
        error_type: str = "invalid_request_error",
    ) -> None:
        """Queue an ``error`` event (the same shape in GA and beta)."""
        event = protocol.error_event(
            self.ids.event(), message, code, param, client_event_id, error_type
        )
        self._events.append(event)
        self.events_emitted += 1

    def add_job(self, job: Job) -> None:
        self._jobs.append(job)

    def drain(self) -> list[dict[str, Any]]:
        """The queued events, in send order; the queue is left empty."""
        out, self._events = self._events, []
        return out

    def take_jobs(self) -> list[Job]:
        jobs, self._jobs = self._jobs, []
        return jobs


__all__ = ["CloseRequest", "Job", "Outbox"]

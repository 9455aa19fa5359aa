"""Which server event answers which client request: the correlation rules, as a table.

Theory of operation. The Realtime server answers most client events in the order it received
them, but the answers carry no reference to the request (``event_id`` is echoed only inside
``error.event_id``, §2). So a reply is matched by what it *names*:

- by a key the client chose: ``conversation.item.create`` → the ``item.id`` we put in the item;
  ``retrieve``/``truncate``/``delete`` → the ``item_id`` we named;
- by ``response.metadata``: every ``response.create`` carries ``{CORRELATION_KEY: event_id}`` in
  its metadata, which the service echoes in ``response.created`` — so two concurrent
  ``ask(conversation="none")`` each get their own response, and a response the server VAD
  started is never taken for ours;
- by order (FIFO among pending requests of the same type) where nothing is named:
  ``session.update`` → ``session.updated``, ``commit`` → ``committed``, ``clear`` → ``cleared``;
- failures by ``error.event_id``, which names the request.

A request is matched only once it was written to the socket (a reply cannot come earlier, but a
response the server VAD starts can). When a ``response.created`` carries no correlation key,
it is taken for the oldest pending ``response.create`` only while the session cannot create
responses by itself (turn detection off, or ``create_response: false``): then it can only be
ours, and the server evidently does not echo metadata (:attr:`RequestTable.metadata_echoed`
becomes False). With server VAD creating responses, a key-less ``response.created`` is the
VAD's: a server that drops ``metadata`` *and* runs VAD responses cannot be correlated, and
``ask`` then times out rather than return someone else's answer. Likewise, with server VAD on,
a manual ``commit`` may be answered by the VAD's own commit.

Pure: no asyncio, no clock. The I/O edge turns settled requests into resolved futures.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

#: The metadata key that carries a ``response.create``'s ``event_id`` to its ``response.created``.
CORRELATION_KEY = "rtnb_request"
#: The API's bounds on ``response.metadata`` (§2.1).
METADATA_MAX_PAIRS = 16


def _dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _item_id_of_item(event: dict[str, Any]) -> object:
    return _dict(event.get("item")).get("id")


def _item_id(event: dict[str, Any]) -> object:
    return event.get("item_id")


@dataclass(frozen=True, slots=True)
class Rule:
    """How one client event type is answered: reply types and the key both sides name."""

    replies: frozenset[str]
    #: the key the request names (from the client event); None: answered in order
    request_key: Callable[[dict[str, Any]], object] | None = None
    #: the same key read from a reply
    reply_key: Callable[[dict[str, Any]], object] | None = None


#: Client event type → how its reply is recognised. Types not listed have no reply (append).
RULES: dict[str, Rule] = {
    "session.update": Rule(frozenset({"session.updated"})),
    "input_audio_buffer.commit": Rule(frozenset({"input_audio_buffer.committed"})),
    "input_audio_buffer.clear": Rule(frozenset({"input_audio_buffer.cleared"})),
    "conversation.item.create": Rule(
        frozenset({"conversation.item.added", "conversation.item.created"}),
        _item_id_of_item,
        _item_id_of_item,
    ),
    "conversation.item.retrieve": Rule(
        frozenset({"conversation.item.retrieved"}), _item_id, _item_id_of_item
    ),
    "conversation.item.truncate": Rule(
        frozenset({"conversation.item.truncated"}), _item_id, _item_id
    ),
    "conversation.item.delete": Rule(frozenset({"conversation.item.deleted"}), _item_id, _item_id),
    "response.create": Rule(frozenset({"response.created"})),  # by metadata, see below
    "response.cancel": Rule(frozenset({"response.done"})),  # by response id, see below
}


@dataclass(slots=True, eq=False)
class Request:
    """A client event waiting for its answer; settled once with ``reply`` or ``error``."""

    event_id: str
    type: str
    key: object = None
    #: response.create: True when its metadata carries the correlation key
    correlated: bool = False
    reply: dict[str, Any] | None = None
    error: dict[str, Any] | None = None  #: the server's ``error`` event blaming it
    settled: bool = False
    sent: bool = False  #: written to the socket: only then can a reply be its


@dataclass(slots=True, eq=False)
class Watch:
    """A wait for any server event matching ``predicate`` (``wait_for``, ``response.done``)."""

    predicate: Callable[[dict[str, Any]], bool]
    blame_id: str | None = None  #: an ``error`` naming this client event fails the watch
    reply: dict[str, Any] | None = None
    error: dict[str, Any] | None = None
    settled: bool = False


def with_correlation(response: dict[str, Any] | None, event_id: str) -> tuple[dict[str, Any], bool]:
    """The ``response`` params with the correlation key added to ``metadata`` when there is room.

    Returns the (new) params and whether the key was added. The caller's dicts are not changed.
    """
    body = dict(response or {})
    metadata = body.get("metadata")
    if metadata is None:
        body["metadata"] = {CORRELATION_KEY: event_id}
        return body, True
    if (
        isinstance(metadata, dict)
        and CORRELATION_KEY not in metadata
        and len(metadata) < METADATA_MAX_PAIRS
    ):
        body["metadata"] = {**metadata, CORRELATION_KEY: event_id}
        return body, True
    return body, False


class RequestTable:
    """Pending requests and watches; :meth:`feed` settles the ones a server event answers."""

    def __init__(self) -> None:
        self._pending: dict[str, Request] = {}
        self._fifo: dict[str, deque[Request]] = {}
        self._watches: list[Watch] = []
        #: None until a ``response.created`` shows whether the server echoes ``metadata``.
        self.metadata_echoed: bool | None = None
        #: response id → the cancel request waiting for its ``response.done``
        self._cancels: deque[Request] = deque()

    def __len__(self) -> int:
        return len(self._pending) + len(self._watches)

    def add(
        self, event: dict[str, Any], *, correlated: bool = False, key: object = None
    ) -> Request | None:
        """Register a sent client event that expects an answer (None: it expects none).

        ``key`` overrides the key read from the event (a ``response.cancel`` without
        ``response_id`` is answered by the ``response.done`` of the response active then).
        """
        type_ = event.get("type")
        rule = RULES.get(type_) if isinstance(type_, str) else None
        event_id = event.get("event_id")
        if rule is None or not isinstance(event_id, str) or not isinstance(type_, str):
            return None
        explicit = key
        key = rule.request_key(event) if rule.request_key else None
        if type_ == "response.cancel":
            key = event.get("response_id")
        if explicit is not None:
            key = explicit
        request = Request(event_id, type_, key, correlated)
        self._pending[event_id] = request
        if type_ == "response.cancel":
            self._cancels.append(request)
        else:
            self._fifo.setdefault(type_, deque()).append(request)
        return request

    def watch(
        self, predicate: Callable[[dict[str, Any]], bool], blame_id: str | None = None
    ) -> Watch:
        """Wait for the next server event matching ``predicate``."""
        watch = Watch(predicate, blame_id)
        self._watches.append(watch)
        return watch

    def forget(self, item: Request | Watch) -> None:
        """Drop a request or watch nobody waits for any more (a timeout or a cancel)."""
        if isinstance(item, Watch):
            if item in self._watches:
                self._watches.remove(item)
            return
        self._remove(item)

    def mark_sent(self, event_id: str) -> None:
        """The request ``event_id`` was written to the socket: replies may now match it."""
        request = self._pending.get(event_id)
        if request is not None:
            request.sent = True

    def feed(self, event: dict[str, Any], *, auto_responses: bool = False) -> list[Request | Watch]:
        """Settle what ``event`` answers; returns the requests and watches it settled.

        ``auto_responses``: the session may create responses by itself (server VAD).
        """
        type_ = event.get("type")
        settled: list[Request | Watch] = []
        if type_ == "error":
            blamed = _dict(event.get("error")).get("event_id")
            if isinstance(blamed, str):
                request = self._pending.get(blamed)
                if request is not None:
                    request.error = event
                    self._settle(request, settled)
                for watch in self._watches:
                    if watch.blame_id == blamed:
                        watch.error = event
                        watch.settled = True
                        settled.append(watch)
        elif type_ == "response.created":
            self._match_response(event, settled, auto_responses)
        elif type_ == "response.done" and self._cancels:
            self._match_cancel(event, settled)
        elif isinstance(type_, str):
            self._match_reply(type_, event, settled)
        if self._watches:
            for watch in self._watches:
                if not watch.settled and watch.predicate(event):
                    watch.reply = event
                    watch.settled = True
                    settled.append(watch)
            self._watches = [w for w in self._watches if not w.settled]
        return settled

    def fail_all(self) -> list[Request | Watch]:
        """Everything still pending (the socket closed): the caller fails them all."""
        out: list[Request | Watch] = [*self._pending.values(), *self._watches]
        self._pending.clear()
        self._fifo.clear()
        self._cancels.clear()
        self._watches = []
        for item in out:
            item.settled = True
        return out

    # --- matching ---------------------------------------------------------------------------
    def _match_reply(
        self, type_: str, event: dict[str, Any], settled: list[Request | Watch]
    ) -> None:
        for request_type, rule in _BY_REPLY.get(type_, ()):
            queue = self._fifo.get(request_type)
            if not queue:
                continue
            if rule.reply_key is None:
                first = queue[0]
                if first.sent:
                    self._settle_with(first, event, settled)
                return
            key = rule.reply_key(event)
            for request in queue:
                if request.sent and request.key == key:
                    self._settle_with(request, event, settled)
                    return

    def _match_response(
        self, event: dict[str, Any], settled: list[Request | Watch], auto_responses: bool
    ) -> None:
        metadata = _dict(_dict(event.get("response")).get("metadata"))
        tag = metadata.get(CORRELATION_KEY)
        if isinstance(tag, str):
            self.metadata_echoed = True
            request = self._pending.get(tag)
            if request is not None and request.type == "response.create":
                self._settle_with(request, event, settled)
            return
        # No key: ours from a server that drops metadata, or one the server VAD started.
        for request in self._fifo.get("response.create", ()):
            if not request.sent:
                break
            if not request.correlated or not auto_responses:
                if request.correlated:
                    self.metadata_echoed = False
                self._settle_with(request, event, settled)
            return

    def _match_cancel(self, event: dict[str, Any], settled: list[Request | Watch]) -> None:
        response = _dict(event.get("response"))
        for request in self._cancels:
            if request.sent and (request.key is None or request.key == response.get("id")):
                self._settle_with(request, event, settled)
                return

    def _settle_with(
        self, request: Request, event: dict[str, Any], settled: list[Request | Watch]
    ) -> None:
        request.reply = event
        self._settle(request, settled)

    def _settle(self, request: Request, settled: list[Request | Watch]) -> None:
        request.settled = True
        self._remove(request)
        settled.append(request)

    def _remove(self, request: Request) -> None:
        self._pending.pop(request.event_id, None)
        queue = self._fifo.get(request.type)
        if queue is not None and request in queue:
            queue.remove(request)
        if request in self._cancels:
            self._cancels.remove(request)


_BY_REPLY: dict[str, list[tuple[str, Rule]]] = {}
for _type, _rule in RULES.items():
    if _type in ("response.create", "response.cancel"):
        continue
    for _reply in _rule.replies:
        _BY_REPLY.setdefault(_reply, []).append((_type, _rule))


__all__ = [
    "CORRELATION_KEY",
    "RULES",
    "Request",
    "RequestTable",
    "Rule",
    "Watch",
    "with_correlation",
]

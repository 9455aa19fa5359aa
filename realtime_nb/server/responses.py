"""The response runner: a response as a queue of paced steps, cancellable at any point.

A response is laid out as *steps* ``(due, action)`` once its reply is known: the audio deltas of
:data:`CHUNK_MS` each are due at ``start + offset / audio_speed``; transcript deltas run just
ahead of the audio they describe; text deltas every :data:`TEXT_STEP_MS`. Running a step emits
its events and records progress (what audio and text were sent, mirrored into the stored item),
so a cancel — by the client or by a barge-in — closes whatever is open with the real closing
events and a ``cancelled`` ``response.done``. Sans-I/O: the caller says what time it is.
"""

from __future__ import annotations

import copy
import functools
import inspect
import json
import math
import re
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from .. import audio, protocol
from ..models import supports_reasoning
from ..synth import speech_like
from .input_buffer import SAMPLES_PER_MS
from .items import ItemStore, StoredItem
from .mcp import call_output, planned_calls
from .outbox import Job, Outbox
from .responders import Reply, ResponderContext, as_reply
from .session_config import normalize_audio_field
from .usage import (
    DEFAULT_REASONING_EFFORT,
    RateLimiter,
    context_tokens,
    output_audio_tokens,
    reasoning_tokens,
    response_usage,
    text_tokens,
)

CHUNK_MS = 100  # audio per response.output_audio.delta
TEXT_STEP_MS = 50  # pacing of text deltas (audio-time equivalent) in text responses
SYNTH_MS_PER_CHAR = 60

#: What a reasoning model says before its answer (picked by response index). Real gpt-realtime-2
#: preambles vary ("One moment.", "Let me check that."); these are the stand-in's fixed set.
PREAMBLES: tuple[str, ...] = ("One moment.", "Let me check.", "Let me think about that.")


@dataclass(slots=True)
class Output:
    """One output item of a response while it is produced."""

    index: int
    kind: Literal["message", "function_call", "mcp_call"]
    item_id: str
    mode: Literal["audio", "text"] = "audio"
    name: str = ""
    call_id: str = ""
    server_label: str = ""  # mcp_call
    error: dict[str, Any] | None = None  # mcp_call that failed: its tool_execution_error
    arguments: str = ""
    part_open: bool = False
    part_started: bool = False
    done: bool = False
    status: str = "in_progress"
    text: str = ""  # transcript (audio) or text sent so far
    audio: bytearray = field(default_factory=bytearray)  # output-format bytes sent so far
    stored: StoredItem | None = None


@dataclass(slots=True)
class Run:
    """One response while it runs: its steps, outputs and what it will bill."""

    id: str
    default: bool  # writes to the default conversation
    response: dict[str, Any]
    params: dict[str, Any]
    fmt: audio.AudioFormatName
    mode: Literal["audio", "text"]
    context: list[StoredItem]
    usage_in: tuple[int, int, int]
    instructions_tokens: int
    steps: deque[tuple[float, Callable[[], None]]] = field(default_factory=deque)
    outputs: list[Output] = field(default_factory=list)
    waiting: bool = True  # reply not known yet
    finished: bool = False
    incomplete: bool = False
    audio_ms: float = 0.0
    #: ``reasoning.effort`` in force (None: the model does not reason).
    effort: str | None = None
    #: Hidden reasoning tokens billed (inside output text tokens, §10).
    reasoning_tokens: int = 0
    #: The tools in force (response over session): MCP servers among them are scripted.
    tools: list[Any] = field(default_factory=list)
    last_user_text: str | None = None


def split_words(text: str) -> list[str]:
    """Split into word deltas that join back to ``text`` exactly (" highest", "!")."""
    words = re.findall(r"\s*\S+", text)
    tail = text[sum(map(len, words)) :]
    if tail:
        if words:
            words[-1] += tail
        else:
            words = [tail]
    return words


class ResponseRunner:
    """The responses of one connection: started, paced, finished or cancelled.

    Args:
        out: where events and async jobs go.
        ids: the connection's id source.
        store: the default conversation (output items of default responses join it).
        audio_speed: how much faster than real time audio is paced (``inf``: all at once).
        on_default_done: called with ``(run, now)`` when a default-conversation response ends
            (the state machine arms the idle timeout there).
    """

    def __init__(
        self,
        out: Outbox,
        ids: protocol.IdFactory,
        store: ItemStore,
        audio_speed: float,
        on_default_done: Callable[[Run, float], None],
        *,
        think_s: float = 0.0,
        rate_limiter: RateLimiter | None = None,
    ) -> None:
        self.out = out
        self.think_s = think_s
        self.ids = ids
        self.store = store
        self.audio_speed = audio_speed
        self.on_default_done = on_default_done
        self.runs: dict[str, Run] = {}
        #: The response writing to the default conversation, if one is in progress.
        self.default_run: str | None = None
        self.responses_created = 0
        #: Assistant audio exists (the session's voice can no longer change).
        self.audio_produced = False
        #: (text, audio) tokens the last default response saw: the next one's cached prefix.
        self.cache_prefix = (0, 0)
        self.rate_limits = rate_limiter or RateLimiter()
        self.now = 0.0  # the time of the call being handled (steps read it)
        # planning scratch (set by _plan): remaining output-token budget, start time
        self._budget: int | None = None
        self._start_at = 0.0

    # ------------------------------------------------------------------ time
    def next_due(self) -> float | None:
        """When the earliest pending step is due, or None."""
        times = [run.steps[0][0] for run in self.runs.values() if run.steps]
        return min(times) if times else None

    def run_due(self, now: float) -> None:
        """Run every step due at ``now``, earliest first across responses."""
        self.now = now
        while True:
            best: Run | None = None
            for run in self.runs.values():
                due = run.steps[0][0] if run.steps else math.inf
                if due <= now and (best is None or due < best.steps[0][0]):
                    best = run
            if best is None:
                break
            _, action = best.steps.popleft()
            action()

    def resolve_reply(self, job: Job, result: Any, error: BaseException | None, now: float) -> None:
        """An async responder finished (``result``) or raised (``error``)."""
        run = self.runs.get(job.key)
        if run is not None and run.waiting and not run.finished:
            if error is not None:
                self._fail(run, error, now)
            else:
                try:
                    reply = as_reply(result)
                except Exception as exc:
                    self._fail(run, exc, now)
                else:
                    self._plan(run, reply, now, self.responses_created)

    def cut_output(self, stored: StoredItem) -> None:
        """A truncate hit an item that is still being produced: stop producing it (§5d).

        The item was already cut (:func:`~.items.truncate`); the output adopts the cut audio
        and transcript, its remaining deltas are dropped and it closes now as ``incomplete``, so
        ``response.done``, ``conversation.item.retrieved`` and the transcript all show the cut.
        The response itself goes on with its other outputs, if any.
        """
        for run in list(self.runs.values()):
            for out in run.outputs:
                if out.stored is not stored or out.done:
                    continue
                data, _ = stored.audio.get(0, (b"", run.fmt))
                out.audio = bytearray(data)
                parts = stored.item.get("content") or []
                if parts and isinstance(parts[0], dict):
                    out.text = parts[0].get("transcript") or ""
                run.steps = deque(step for step in run.steps if not _acts_on(step[1], out))
                self._close_output(run, out, "incomplete")
                return

    def cancel(self, run: Run, reason: str, now: float) -> None:
        """Stop ``run`` now: close its open outputs, ``response.done`` with ``cancelled``."""
        self._cancel(run, reason, now)

    def start(
        self,
        params: dict[str, Any],
        context: list[StoredItem] | None,
        now: float,
        *,
        session: dict[str, Any],
        session_view: dict[str, Any],
        conversation_id: str,
        responder: Callable[[ResponderContext], Any],
    ) -> None:
        """Create a response (``response.create`` params) and ask ``responder`` for its reply.

        ``context`` is the items it sees (None: the default conversation); ``session_view`` is
        the session as the responder is shown it. A sync reply is laid out at once; an async one
        becomes a :class:`Job` in the outbox.
        """
        rid = self.ids.response()
        default = params.get("conversation", "auto") != "none"
        modalities = list(params.get("output_modalities") or session["output_modalities"])
        out_cfg = (params.get("audio") or {}).get("output") or {}
        fmt = (
            normalize_audio_field("format", out_cfg["format"], "realtime")
            if "format" in out_cfg
            else copy.deepcopy(session["audio"]["output"]["format"])
        )
        voice = out_cfg.get("voice", session["audio"]["output"]["voice"])
        max_tokens = params.get("max_output_tokens", session["max_output_tokens"])
        response = {
            "object": "realtime.response",
            "id": rid,
            "status": "in_progress",
            "status_details": None,
            "output": [],
            "conversation_id": conversation_id if default else None,
            "output_modalities": modalities,
            "max_output_tokens": max_tokens,
            "audio": {"output": {"format": fmt, "voice": voice}},
            "usage": None,
            "metadata": params.get("metadata"),
        }
        if context is None:
            context = self.store.in_order()
        instructions = params.get("instructions", session["instructions"])
        tools = params.get("tools", session["tools"])
        instr_tokens = text_tokens(instructions) + (text_tokens(json.dumps(tools)) if tools else 0)
        run = Run(
            id=rid,
            default=default,
            response=response,
            params=params,
            fmt=audio.format_name(fmt),
            mode="audio" if "audio" in modalities else "text",
            context=list(context),
            usage_in=context_tokens(context, instr_tokens),
            instructions_tokens=instr_tokens,
            effort=effort_in_force(session, params),
            tools=list(tools or []),
        )
        self.runs[rid] = run
        if default:
            self.default_run = rid
        index = self.responses_created
        self.responses_created += 1
        self.out.emit("response.created", response=copy.deepcopy(response))
        ctx = self._context(run, session_view, instructions, modalities, tools, index)
        run.last_user_text = ctx.last_user_text
        try:
            result = responder(ctx)
            if inspect.isawaitable(result):
                self.out.add_job(Job("reply", rid, result))
                return
            reply = as_reply(result)
        except Exception as exc:
            self._fail(run, exc, now)
            return
        self._plan(run, reply, now, index)

    def _context(
        self,
        run: Run,
        session_view: dict[str, Any],
        instructions: str,
        modalities: list[str],
        tools: list[Any],
        index: int,
    ) -> ResponderContext:
        items = [copy.deepcopy(s.item) for s in run.context]
        last_text = last_audio = None
        for stored in reversed(run.context):
            it = stored.item
            if it.get("type") == "message" and it.get("role") == "user":
                texts = [p.get("text", "") for p in it["content"] if p.get("type") == "input_text"]
                last_text = " ".join(texts) if texts else None
                for i, part in enumerate(it["content"]):
                    if part.get("type") == "input_audio" and i in stored.audio:
                        last_audio = stored.pcm(i)
                break
        return ResponderContext(
            response_id=run.id,
            items=items,
            session=session_view,
            params=copy.deepcopy(run.params),
            instructions=instructions,
            output_modalities=modalities,
            tools=copy.deepcopy(tools),
            last_user_text=last_text,
            last_user_audio=last_audio,
            index=index,
        )

    def _fail(self, run: Run, exc: BaseException, now: float) -> None:
        run.steps.clear()
        run.waiting = False
        details = {
            "type": "failed",
            "error": {
                "type": "server_error",
                "code": "server_error",
                "message": f"The stand-in responder failed: {exc!r}",
            },
        }
        self._finish(run, "failed", details, now)

    def _plan(self, run: Run, reply: Reply, now: float, seed: int) -> None:
        """Lay out the response's steps from its reply.

        A reasoning model (``run.effort`` set, not ``"minimal"``) first says a short preamble
        (:data:`PREAMBLES`) as its own message item, then the answer as a second one; its hidden
        reasoning tokens (:func:`~.usage.reasoning_tokens`) are billed as output text.
        """
        run.waiting = False
        raw_max = run.response["max_output_tokens"]
        self._budget = None if raw_max == "inf" else int(raw_max)
        self._start_at = now + self.think_s  # the model's time to its first output
        mcp_calls = planned_calls(run.tools, reply.mcp_calls, run.last_user_text)
        has_output = (
            reply.text is not None or reply.audio is not None or reply.function_calls or mcp_calls
        )
        if run.effort is not None:
            run.reasoning_tokens = reasoning_tokens(run.effort)
            if self._budget is not None:
                self._budget = max(self._budget - run.reasoning_tokens, 0)
        offset = 0.0
        out_index = 0
        if run.effort not in (None, "minimal") and has_output:
            preamble = PREAMBLES[seed % len(PREAMBLES)]
            offset = self._plan_message(run, out_index, preamble, None, offset, seed + 7919)
            offset += CHUNK_MS if run.mode == "audio" else TEXT_STEP_MS
            out_index += 1
        for label, name, arguments in mcp_calls:
            out = Output(out_index, "mcp_call", self.ids.item(), name=name, server_label=label)
            out_index += 1
            run.steps.append((self._at(offset), functools.partial(self._step_item_added, run, out)))
            run.steps.append((self._at(offset), functools.partial(self._step_mcp, run, out)))
            for piece in [arguments[i : i + 16] for i in range(0, len(arguments), 16)]:
                action = functools.partial(self._step_args, run, out, piece)
                run.steps.append((self._at(offset), action))
            output, out.error = call_output(name, arguments)  # the scripted answer, when done
            out.text = output or ""
            run.steps.append(
                (self._at(offset), functools.partial(self._close_output, run, out, "completed"))
            )
        if reply.text is not None or reply.audio is not None:
            offset = self._plan_message(run, out_index, reply.text or "", reply.audio, offset, seed)
            out_index += 1
        for name, arguments in reply.function_calls:
            if self._budget is not None:
                cost = text_tokens(name + arguments)
                if cost > self._budget:
                    run.incomplete = True
                    break
                self._budget -= cost
            out = Output(
                out_index, "function_call", self.ids.item(), name=name, call_id=self.ids.call()
            )
            out_index += 1
            pieces = [arguments[i : i + 16] for i in range(0, len(arguments), 16)]
            run.steps.append((self._at(offset), functools.partial(self._step_item_added, run, out)))
            for piece in pieces:
                action = functools.partial(self._step_args, run, out, piece)
                run.steps.append((self._at(offset), action))
            run.steps.append(
                (self._at(offset), functools.partial(self._close_output, run, out, "completed"))
            )
        if run.incomplete:
            status, details = "incomplete", {"type": "incomplete", "reason": "max_output_tokens"}
        else:
            status, details = "completed", None
        run.steps.append((self._at(offset), lambda: self._finish(run, status, details, self.now)))

    def _at(self, offset_ms: float) -> float:
        """When a step ``offset_ms`` (audio time) into the response being planned is due."""
        speed = self.audio_speed
        start = self._start_at
        return start if math.isinf(speed) else start + offset_ms / 1000.0 / speed

    def _plan_message(
        self,
        run: Run,
        index: int,
        text: str,
        pcm: np.ndarray | None,
        base: float,
        seed: int,
    ) -> float:
        """Lay out one assistant message item starting ``base`` ms in; return where it ends."""
        at = self._at
        out = Output(index, "message", self.ids.item(), mode=run.mode)
        budget = self._budget
        if run.mode == "audio":
            if pcm is None:
                pcm = self._synth(text, seed)
            if budget is not None:
                cost = text_tokens(text) + output_audio_tokens(len(pcm) / SAMPLES_PER_MS)
                if cost > budget:
                    keep = budget / cost
                    text = text[: int(len(text) * keep)]
                    pcm = pcm[: int(len(pcm) * keep)]
                    run.incomplete = True
                budget -= text_tokens(text) + output_audio_tokens(len(pcm) / SAMPLES_PER_MS)
            wire = audio.encode_for_format(pcm, run.fmt)
            step = audio.ms_to_bytes(CHUNK_MS, run.fmt)
            chunks = [wire[i : i + step] for i in range(0, len(wire), step)]
            words = split_words(text)
            per_chunk: list[list[str]] = [[] for _ in chunks] or [[]]
            for i, w in enumerate(words):
                per_chunk[min(len(per_chunk) - 1, i * len(per_chunk) // len(words))].append(w)
            run.steps.append((at(base), functools.partial(self._step_item_added, run, out)))
            run.steps.append((at(base), functools.partial(self._step_part_added, run, out)))
            for j, words_j in enumerate(per_chunk):
                chunk = chunks[j] if j < len(chunks) else b""
                action = functools.partial(self._step_audio, run, out, words_j, chunk)
                run.steps.append((at(base + j * CHUNK_MS), action))
            end = base + max(len(chunks) - 1, 0) * CHUNK_MS
            run.audio_ms += audio.bytes_to_ms(len(wire), run.fmt)
        else:
            if budget is not None:
                if text_tokens(text) > budget:
                    text = text[: budget * 4]
                    run.incomplete = True
                budget -= text_tokens(text)
            words = split_words(text)
            run.steps.append((at(base), functools.partial(self._step_item_added, run, out)))
            run.steps.append((at(base), functools.partial(self._step_part_added, run, out)))
            for i, w in enumerate(words):
                action = functools.partial(self._step_text, run, out, w)
                run.steps.append((at(base + i * TEXT_STEP_MS), action))
            end = base + max(len(words) - 1, 0) * TEXT_STEP_MS
        self._budget = budget
        run.steps.append((at(end), functools.partial(self._close_output, run, out, "completed")))
        return end

    def _synth(self, text: str, seed: int) -> np.ndarray:
        seconds = max(0.2, len(text) * SYNTH_MS_PER_CHAR / 1000)
        return np.asarray(speech_like(seconds, sample_rate=audio.SAMPLE_RATE, seed=seed), np.int16)

    # steps (each emits events and records progress)
    def _shown(self, out: Output, status: str) -> dict[str, Any]:
        """The item as events show it (no audio bytes)."""
        if out.kind == "function_call":
            return {
                "id": out.item_id,
                "type": "function_call",
                "status": status,
                "name": out.name,
                "call_id": out.call_id,
                "arguments": out.arguments,
            }
        if out.kind == "mcp_call":
            return {
                "id": out.item_id,
                "type": "mcp_call",
                "server_label": out.server_label,
                "name": out.name,
                "arguments": out.arguments,
                "output": out.text if status == "completed" and out.error is None else None,
                "approval_request_id": None,
                "error": out.error if status == "completed" else None,
            }
        content: list[dict[str, Any]] = []
        if out.part_started:
            if out.mode == "audio":
                content = [{"type": "output_audio", "transcript": out.text}]
            else:
                content = [{"type": "output_text", "text": out.text}]
        return {
            "id": out.item_id,
            "type": "message",
            "status": status,
            "role": "assistant",
            "content": content,
        }

    def _step_item_added(self, run: Run, out: Output) -> None:
        run.outputs.append(out)
        shown = self._shown(out, "in_progress")
        self.out.emit(
            "response.output_item.added",
            response_id=run.id,
            output_index=out.index,
            item=copy.deepcopy(shown),
        )
        if run.default:
            out.stored = StoredItem(copy.deepcopy(shown))
            previous = self.store.append(out.stored)
            self.out.emit(
                "conversation.item.added", previous_item_id=previous, item=copy.deepcopy(shown)
            )

    def _ids(self, run: Run, out: Output) -> dict[str, Any]:
        return {
            "response_id": run.id,
            "item_id": out.item_id,
            "output_index": out.index,
            "content_index": 0,
        }

    def _step_part_added(self, run: Run, out: Output) -> None:
        out.part_open = out.part_started = True
        if out.mode == "audio":
            part = {"type": "audio", "transcript": ""}
        else:
            part = {"type": "text", "text": ""}
        self._store_progress(run, out)
        self.out.emit("response.content_part.added", **self._ids(run, out), part=part)

    def _store_progress(self, run: Run, out: Output) -> None:
        """Keep the conversation's copy of an output item in step with what was sent."""
        if out.stored is None:
            return
        if out.kind == "function_call":
            out.stored.item["arguments"] = out.arguments
            return
        if out.kind == "mcp_call":
            out.stored.item.update(self._shown(out, out.status))
            return
        out.stored.item["content"] = self._shown(out, "in_progress")["content"]
        if out.mode == "audio":
            out.stored.audio[0] = (bytes(out.audio), run.fmt)

    def _step_audio(self, run: Run, out: Output, words: list[str], chunk: bytes) -> None:
        ids = self._ids(run, out)
        for w in words:
            out.text += w
            self.out.emit("response.output_audio_transcript.delta", **ids, delta=w)
        if chunk:
            out.audio += chunk
            self.audio_produced = True
            self.out.emit("response.output_audio.delta", **ids, delta=audio.b64encode_audio(chunk))
        self._store_progress(run, out)

    def _step_text(self, run: Run, out: Output, word: str) -> None:
        out.text += word
        self.out.emit("response.output_text.delta", **self._ids(run, out), delta=word)
        self._store_progress(run, out)

    def _step_mcp(self, run: Run, out: Output) -> None:
        self.out.emit("response.mcp_call.in_progress", item_id=out.item_id, output_index=out.index)

    def _step_args(self, run: Run, out: Output, piece: str) -> None:
        out.arguments += piece
        if out.kind == "mcp_call":
            self.out.emit(
                "response.mcp_call_arguments.delta",
                response_id=run.id,
                item_id=out.item_id,
                output_index=out.index,
                delta=piece,
            )
            self._store_progress(run, out)
            return
        self.out.emit(
            "response.function_call_arguments.delta",
            response_id=run.id,
            item_id=out.item_id,
            output_index=out.index,
            call_id=out.call_id,
            delta=piece,
        )
        self._store_progress(run, out)

    def _close_output(self, run: Run, out: Output, status: str) -> None:
        """Close an output item: its part, then the item (also on interruption, §5d)."""
        if out.done:
            return
        if status == "completed" and run.incomplete and out is run.outputs[-1]:
            status = "incomplete"
        ids = self._ids(run, out)
        if out.kind == "message" and out.part_open:
            if out.mode == "audio":
                self.out.emit("response.output_audio.done", **ids)
                self.out.emit("response.output_audio_transcript.done", **ids, transcript=out.text)
                part = {"type": "audio", "transcript": out.text}
            else:
                self.out.emit("response.output_text.done", **ids, text=out.text)
                part = {"type": "text", "text": out.text}
            self.out.emit("response.content_part.done", **ids, part=part)
        if out.kind == "function_call" and status == "completed":
            self.out.emit(
                "response.function_call_arguments.done",
                response_id=run.id,
                item_id=out.item_id,
                output_index=out.index,
                call_id=out.call_id,
                name=out.name,
                arguments=out.arguments,
            )
        if out.kind == "mcp_call" and status == "completed":
            self.out.emit(
                "response.mcp_call_arguments.done",
                response_id=run.id,
                item_id=out.item_id,
                output_index=out.index,
                arguments=out.arguments,
            )
            outcome = "failed" if out.error is not None else "completed"
            self.out.emit(
                f"response.mcp_call.{outcome}", item_id=out.item_id, output_index=out.index
            )
        out.done = True
        out.part_open = False
        out.status = status
        shown = self._shown(out, status)
        if out.stored is not None:
            self._store_progress(run, out)
            if out.kind != "mcp_call":  # the SDK's mcp_call item has no status
                out.stored.item["status"] = status
            previous = self.store.previous_of(out.item_id)
            self.out.emit(
                "conversation.item.done", previous_item_id=previous, item=copy.deepcopy(shown)
            )
        self.out.emit(
            "response.output_item.done",
            response_id=run.id,
            output_index=out.index,
            item=copy.deepcopy(shown),
        )

    def _cancel(self, run: Run, reason: str, now: float) -> None:
        run.steps.clear()
        run.waiting = False
        for out in run.outputs:
            if not out.done:
                self._close_output(run, out, "incomplete")
        self._finish(run, "cancelled", {"type": "cancelled", "reason": reason}, now)

    def _finish(self, run: Run, status: str, details: dict[str, Any] | None, now: float) -> None:
        if run.finished:
            return
        run.finished = True
        usage = self._usage(run)
        output = [self._shown(out, out.status) for out in run.outputs]
        run.response.update(status=status, status_details=details, output=output, usage=usage)
        self.out.emit("response.done", response=copy.deepcopy(run.response))
        self.runs.pop(run.id, None)
        if self.default_run == run.id:
            self.default_run = None
            in_text, in_audio, _ = run.usage_in
            out_t = usage["output_token_details"]
            self.cache_prefix = (in_text + out_t["text_tokens"], in_audio + out_t["audio_tokens"])
            self.on_default_done(run, now)
        self.out.emit(
            "rate_limits.updated", rate_limits=[self.rate_limits.spend(now, usage["total_tokens"])]
        )

    def _usage(self, run: Run) -> dict[str, Any]:
        """§6: the context re-billed as input (cached prefix in blocks of 64), output produced."""
        out_text = out_audio = 0
        for out in run.outputs:
            if out.kind in ("function_call", "mcp_call"):
                out_text += text_tokens(out.name + out.arguments)
            else:
                out_text += text_tokens(out.text)
                out_audio += output_audio_tokens(audio.bytes_to_ms(len(out.audio), run.fmt))
        out_text += run.reasoning_tokens  # §10: reasoning is billed inside output text tokens
        if self.cache_prefix == (0, 0) and run.default:
            prefix = (run.instructions_tokens, 0)
        else:
            prefix = self.cache_prefix
        return response_usage(run.usage_in, (out_text, out_audio), prefix)


def effort_in_force(session: dict[str, Any], params: dict[str, Any]) -> str | None:
    """The response's ``reasoning.effort`` (response over session over the default), or None
    when the session's model does not reason (unknown models: treated as not reasoning)."""
    if not supports_reasoning(session.get("model")):
        return None
    for source in (params, session):
        effort = (source.get("reasoning") or {}).get("effort")
        if effort:
            return str(effort)
    return DEFAULT_REASONING_EFFORT


__all__ = [
    "CHUNK_MS",
    "PREAMBLES",
    "Output",
    "ResponseRunner",
    "Run",
    "effort_in_force",
    "split_words",
]


def _acts_on(action: Callable[[], None], out: Output) -> bool:
    """Whether a planned step is about ``out`` (its deltas and its close)."""
    return isinstance(action, functools.partial) and any(arg is out for arg in action.args)

"""A local stand-in for the OpenAI Realtime API, for offline use, tests and benchmarks.

``LocalServer`` speaks the GA protocol on loopback (``/v1/realtime?model=...``): the real event
sequences, ids, errors and close codes, an energy VAD, paced audio, pluggable responders
(:func:`echo`, :func:`scripted`, or any callable returning a :class:`Reply`) and fault
injection (:class:`Faults`). Run ``python -m realtime_nb.server`` for a standalone one.
"""

from .app import Faults, LocalServer
from .responders import Reply, ResponderContext, echo, scripted

__all__ = ["Faults", "LocalServer", "Reply", "ResponderContext", "echo", "scripted"]

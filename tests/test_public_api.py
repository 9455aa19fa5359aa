"""The top-level names are exactly what a user needs, each importable and documented."""

from __future__ import annotations

import importlib
import subprocess
import sys

import realtime_nb

EXPECTED = {
    # what a notebook or script reaches for
    "RealtimeWidget", "Session", "RealtimeSession", "connect", "LocalServer", "Response",
    "__version__", "load",
    # evaluation: cases in fresh sessions, graded; two runs compared; a recording re-driven
    "evaluate", "compare", "redrive", "Case",
    # the exception tree
    "RealtimeError", "UsageError", "AudioFormatError", "SendQueueFull", "ProtocolError",
    "ConnectionClosed", "SessionExpired", "ServerError", "AuthenticationError",
    "ModelNotFoundError", "ActiveResponseError", "ResponseFailed", "RealtimeTimeout",
}  # fmt: skip


def test_all_is_exactly_the_user_facing_names() -> None:
    assert set(realtime_nb.__all__) == EXPECTED
    assert len(realtime_nb.__all__) == len(EXPECTED)  # no duplicates


def test_every_public_name_resolves_and_is_documented() -> None:
    for name in realtime_nb.__all__:
        value = getattr(realtime_nb, name)
        if name != "__version__":
            assert value.__doc__, f"{name} has no docstring"
    assert set(dir(realtime_nb)) >= EXPECTED


def test_internal_names_stay_in_their_modules() -> None:
    for name in ("EventLog", "Conversation", "resolve_endpoint", "ClientProtocol"):
        assert name not in realtime_nb.__all__
    assert importlib.import_module("realtime_nb.events").EventLog
    assert importlib.import_module("realtime_nb.endpoint").resolve_endpoint
    assert importlib.import_module("realtime_nb.client_protocol").ClientProtocol


def test_evaluate_is_the_function_even_after_its_package_is_imported() -> None:
    # the package is named ``evaluation`` so importing it cannot shadow ``realtime_nb.evaluate``
    importlib.import_module("realtime_nb.evaluation")
    assert callable(realtime_nb.evaluate)
    assert realtime_nb.evaluate is importlib.import_module("realtime_nb.evaluation").evaluate


def test_import_stays_lazy() -> None:
    code = (
        "import sys, realtime_nb; "
        "heavy = {'numpy', 'websockets', 'pandas', 'anywidget', 'realtime_nb.server'}; "
        "print(sorted(heavy & set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"

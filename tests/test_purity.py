"""The pure core imports no asyncio, network, widget or clock (DESIGN.md §1, STYLE.md "How that
lands here" 1): parse each core module and reject banned imports."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "realtime_nb"
#: The pure core: fed data, returns state; no I/O, loop, thread or clock. Keep in step with the
#: strict mypy list in pyproject.toml.
CORE = (
    "audio/",  # a package: every module in it
    "beta.py",
    "client_protocol.py",
    "conversation/",
    "correlation.py",
    "errors.py",
    "events/",
    "heard.py",
    "models.py",
    "playback.py",
    "protocol.py",
    "recording/",  # session files: the zip itself is its only I/O (no clock, loop or network)
    "response.py",
    "synth.py",
    "timeline/",
    "wire_original.py",
)
#: The edges: I/O, loops, threads, the comm, the stand-in, and helpers that join layers.
EDGE = (
    "__init__.py",
    "__main__.py",
    "_loop.py",
    "bridge.py",
    "endpoint.py",
    "evaluation/",  # runs sessions (runner, redriving); its pure modules are strictly typed
    "send_queue.py",
    "session.py",
    "sync.py",
    "testing.py",
    "tools/",  # runs the user's functions on the session's loop, with timeouts
    "verbs.py",
    "widget.py",
    "widget_rows.py",
)

#: Never imported by the core, at any depth.
BANNED = frozenset(
    {"asyncio", "websockets", "socket", "threading", "time", "ipywidgets", "anywidget",
     "traitlets", "IPython"}
)  # fmt: skip
#: Allowed only inside a function (or under ``if TYPE_CHECKING:``), so importing stays fast.
FUNCTION_ONLY = frozenset({"pandas"})
#: Layers above the core (relative imports): the core depends on none of them.
UPPER_LAYERS = frozenset(
    {"session", "sync", "widget", "widget_rows", "bridge", "server", "_loop", "endpoint",
     "send_queue", "verbs", "testing"}
)  # fmt: skip


def _is_type_checking(node: ast.AST) -> bool:
    test = getattr(node, "test", None)
    return isinstance(node, ast.If) and (
        (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING")
        or (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")
    )


def violations(source: str) -> list[str]:
    """Banned imports in ``source``, as ``"line: module (why)"``."""
    found: list[str] = []

    def visit(node: ast.AST, in_function: bool, in_type_checking: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.Import | ast.ImportFrom):
                if isinstance(child, ast.Import):
                    names = [alias.name for alias in child.names]
                elif child.level:  # relative: from .session import X / from . import session
                    base = child.module or ""
                    names = [f".{base}"] if base else [f".{a.name}" for a in child.names]
                elif child.module == "realtime_nb":  # from realtime_nb import session
                    names = [f".{a.name}" for a in child.names]
                else:
                    names = [child.module or ""]
                for name in names:
                    if name.startswith("realtime_nb."):  # absolute spelling of a relative import
                        name = name.removeprefix("realtime_nb")
                    root = name.lstrip(".").split(".")[0]
                    if name.startswith("."):
                        if root in UPPER_LAYERS:
                            found.append(f"{child.lineno}: {name} (upper layer)")
                    elif root in BANNED:
                        found.append(f"{child.lineno}: {name} (banned in the core)")
                    elif root in FUNCTION_ONLY and not (in_function or in_type_checking):
                        found.append(f"{child.lineno}: {name} (only inside a function)")
            visit(
                child,
                in_function or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef),
                in_type_checking or _is_type_checking(child),
            )

    visit(ast.parse(source), False, False)
    return found


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("import asyncio", ["1: asyncio (banned in the core)"]),
        ("from time import monotonic", ["1: time (banned in the core)"]),
        ("import websockets.asyncio.client", ["1: websockets.asyncio.client (banned in the core)"]),
        ("def f():\n    import threading", ["2: threading (banned in the core)"]),
        ("import IPython.display", ["1: IPython.display (banned in the core)"]),
        ("import pandas", ["1: pandas (only inside a function)"]),
        ("try:\n    import pandas as pd\nexcept ImportError:\n    pd = None",
         ["2: pandas (only inside a function)"]),
        ("def f():\n    import pandas\n    return pandas", []),
        ("if TYPE_CHECKING:\n    import pandas", []),
        ("from .session import RealtimeSession", ["1: .session (upper layer)"]),
        ("from . import widget", ["1: .widget (upper layer)"]),
        ("from realtime_nb.session import RealtimeSession", ["1: .session (upper layer)"]),
        ("import realtime_nb.server.state", ["1: .server.state (upper layer)"]),
        ("from realtime_nb import sync, heard", ["1: .sync (upper layer)"]),
        ("from realtime_nb.events import EventLog", []),
        ("from .errors import ProtocolError\nimport numpy as np\nimport json", []),
        ("import timeit", []),  # a prefix of a banned name is not the banned module
    ],
)  # fmt: skip
def test_the_checker_finds_banned_imports(source: str, expected: list[str]) -> None:
    assert violations(source) == expected


def _files(name: str) -> list[Path]:
    path = PACKAGE / name
    return sorted(path.glob("*.py")) if name.endswith("/") else [path]


@pytest.mark.parametrize("name", CORE)
def test_core_module_is_pure(name: str) -> None:
    files = _files(name)
    assert files and all(f.exists() for f in files), f"{name} is listed as pure but is missing"
    for file in files:
        source = file.read_text(encoding="utf-8")
        assert violations(source) == [], file.name
        assert "print(" not in source, f"{file.name}: the library logs, it never prints"


def test_every_module_is_classified_as_core_or_edge() -> None:
    """A new module must say which layer it is in (so the purity check cannot miss it)."""
    modules = {p.name for p in PACKAGE.glob("*.py")} | {
        f"{p.name}/"
        for p in PACKAGE.iterdir()
        if (p / "__init__.py").exists() and p.name != "server"
    }
    assert modules == set(CORE) | set(EDGE), (
        f"unclassified: {sorted(modules - set(CORE) - set(EDGE))}; "
        f"listed but missing: {sorted((set(CORE) | set(EDGE)) - modules)}"
    )
    assert not set(CORE) & set(EDGE)


def test_the_strict_type_check_covers_the_core() -> None:
    import tomllib

    config = tomllib.loads((PACKAGE.parent / "pyproject.toml").read_text(encoding="utf-8"))
    strict = {
        m
        for o in config["tool"]["mypy"]["overrides"]
        if o.get("disallow_untyped_defs")
        for m in o["module"]
    }
    typed_core = {f"realtime_nb.{n.removesuffix('.py').removesuffix('/')}" for n in CORE}
    packages = {f"realtime_nb.{n.removesuffix('/')}.*" for n in CORE if n.endswith("/")}
    assert typed_core | packages <= strict

"""bridge.py and js/src/bridge.js define the same messages, and the widget handles all of them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from realtime_nb import bridge
from realtime_nb.widget import RealtimeWidget

BRIDGE_JS = Path(__file__).resolve().parent.parent / "js" / "src" / "bridge.js"

_CONST = re.compile(r'^export const ([A-Z_]+) = (?:"([^"]*)"|(\d+));', re.M)
_ARRAY = re.compile(r"^export const ([A-Z_]+) = \[(.*?)\];", re.M | re.S)


@pytest.fixture(scope="module")
def js() -> tuple[dict[str, str | int], dict[str, list[str]]]:
    if not BRIDGE_JS.exists():
        pytest.fail(f"{BRIDGE_JS} is missing")
    text = BRIDGE_JS.read_text(encoding="utf-8")
    consts: dict[str, str | int] = {
        name: (s if num == "" else int(num)) for name, s, num in _CONST.findall(text)
    }
    arrays: dict[str, list[str]] = {}
    for name, body in _ARRAY.findall(text):
        body = re.sub(r"//[^\n]*", "", body)  # comments after entries
        items = [x.strip() for x in body.split(",") if x.strip()]
        # entries are string literals or names of constants
        arrays[name] = [x[1:-1] if x.startswith('"') else str(consts[x]) for x in items]
    return consts, arrays


def _py_constants() -> dict[str, str | int]:
    return {
        name: value
        for name, value in vars(bridge).items()
        if name.isupper() and isinstance(value, str | int) and not isinstance(value, bool)
    }


def test_every_constant_has_the_same_name_and_value(js: tuple[dict, dict]) -> None:
    consts, _ = js
    assert consts == _py_constants()


SETS = ["BROWSER_TO_KERNEL", "KERNEL_TO_BROWSER", "COMMANDS", "MIC_ERRORS"]


@pytest.mark.parametrize("name", SETS)
def test_the_sets_agree(js: tuple[dict, dict], name: str) -> None:
    _, arrays = js
    assert name in arrays, f"bridge.js has no array {name}"
    values = arrays[name]
    assert len(values) == len(set(values)), f"duplicates in bridge.js {name}"
    assert set(values) == set(getattr(bridge, name))


def test_message_directions_do_not_overlap() -> None:
    assert not bridge.BROWSER_TO_KERNEL & bridge.KERNEL_TO_BROWSER


def test_the_widget_handles_every_browser_message_and_command() -> None:
    assert set(RealtimeWidget._HANDLERS) == set(bridge.BROWSER_TO_KERNEL)
    assert set(RealtimeWidget._COMMANDS) == set(bridge.COMMANDS)
    for method in [*RealtimeWidget._HANDLERS.values(), *RealtimeWidget._COMMANDS.values()]:
        assert callable(getattr(RealtimeWidget, method)), method


def test_the_widget_sends_every_kernel_to_browser_type() -> None:
    package = Path(bridge.__file__).parent
    source = "".join(
        (package / name).read_text(encoding="utf-8") for name in ("widget.py", "widget_rows.py")
    )
    used = set(re.findall(r"bridge\.([A-Z_]+)\b", source))
    sent = {getattr(bridge, name) for name in used} & (
        bridge.BROWSER_TO_KERNEL | bridge.KERNEL_TO_BROWSER
    )
    assert sent - bridge.BROWSER_TO_KERNEL == set(bridge.KERNEL_TO_BROWSER)

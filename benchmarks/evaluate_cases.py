"""The 24 mixed cases the evaluation benchmark and the docs figure run (typed and spoken).

Shared by ``bench_evaluate.py`` and ``render_evaluate_figure.py`` so the figure in docs/ shows
the same run the benchmark times.
"""

from __future__ import annotations

from realtime_nb.evaluation import Case, regex, tool_called


def get_weather(city: str) -> str:
    """Get the current weather in a city.

    Args:
        city: The city's name.
    """
    return f"It is sunny and 21 degrees in {city}"


QUESTIONS = [
    ("what is two plus two", r"\b4\b"),
    ("what is three plus five", r"\b8\b"),
    ("what is ten minus four", r"\b6\b"),
    ("what is six times seven", r"\b42\b"),
    ("what is nine plus one", r"\b10\b"),
    ("what is eight minus three", r"\b5\b"),
]
CITIES = ["Paris", "London", "Tokyo"]


def mixed_cases() -> list[Case]:
    """12 typed and 12 spoken cases: arithmetic, weather (a tool call), greetings."""
    cases: list[Case] = []
    for kind in ("text", "audio"):
        for n, (question, answer) in enumerate(QUESTIONS):
            expect = [regex(answer)]
            cid = f"{kind}-sum-{n + 1}"
            if kind == "text":
                cases.append(Case(text=question, id=cid, expect=expect))
            else:
                cases.append(Case.spoken(question, id=cid, expect=expect))
        for city in CITIES:
            question = f"what is the weather in {city}"
            expect = [tool_called("get_weather", city=city)]
            cid = f"{kind}-weather-{city.lower()}"
            if kind == "text":
                cases.append(Case(text=question, id=cid, expect=expect))
            else:
                cases.append(Case.spoken(question.lower(), id=cid, expect=expect))
        for n, greeting in enumerate(["hello", "good morning", "what time is it"]):
            cid = f"{kind}-chat-{n + 1}"
            if kind == "text":
                cases.append(Case(text=greeting, id=cid))
            else:
                cases.append(Case.spoken(greeting, id=cid))
    return cases

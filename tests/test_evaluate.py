"""The evaluation runner: graders, cases, and whole runs against the offline stand-in.

Runs use real sessions on loopback against :class:`LocalServer` (its brain transcribes spoken
cases with pocketsphinx and answers from its rule table), so a wrong answer, a slow case or a
rate limit is a real one. Speech comes from espeak-ng in a fresh process (``Case.spoken``),
which is byte-for-byte repeatable, so what pocketsphinx hears is the same on every run.
"""

from __future__ import annotations

import asyncio
import math
import re
import threading

import matplotlib
import numpy as np
import pytest

import realtime_nb
from realtime_nb.errors import UsageError
from realtime_nb.evaluation import (
    Case,
    CaseOutcome,
    Grade,
    RateGate,
    ToolCall,
    aevaluate,
    as_cases,
    compare,
    contains,
    cost,
    evaluate,
    latency,
    regex,
    tool_called,
    wer,
    word_error_rate,
)
from realtime_nb.evaluation.graders import as_grader, grade

matplotlib.use("Agg")

FAST = {"audio_speed": math.inf}  # the stand-in streams its answers without pacing


def get_weather(city: str) -> str:
    """Get the current weather in a city.

    Args:
        city: The city's name.
    """
    return f"It is sunny and 21 degrees in {city}"


def _outcome(**fields: object) -> CaseOutcome:
    case = fields.pop("case", Case(text="hi"))
    return CaseOutcome(case=case, **fields)  # type: ignore[arg-type]


def _server_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "realtime-nb-server" and t.is_alive()]


# --- graders (pure) -------------------------------------------------------------------------
def test_contains_ignores_case_and_punctuation_and_says_what_is_missing() -> None:
    o = _outcome(answer="It is sunny in Paris!", heard="hi, weather?")
    assert contains("paris")(o).passed is True
    assert contains("paris", "sunny")(o).passed is True
    failed = contains("paris", "rain")(o)
    assert failed.passed is False and "'rain'" in failed.detail
    assert contains("rain", "paris", any_of=True)(o).passed is True
    assert contains("par")(o).passed is False  # whole words, not substrings
    assert contains("hi", where="heard")(o).passed is True
    with pytest.raises(UsageError):
        contains()


def test_regex_searches_the_answer() -> None:
    o = _outcome(answer="two plus two is 4.")
    assert regex(r"\b(4|four)\b")(o).passed is True
    miss = regex(r"\bfive\b")(o)
    assert miss.passed is False and "two plus two" in miss.detail


def test_tool_called_matches_a_subset_of_arguments() -> None:
    o = _outcome(tool_calls=[ToolCall("get_weather", {"city": "Paris", "unit": "c"}, "sunny")])
    assert tool_called("get_weather")(o).passed is True
    assert tool_called("get_weather", city="paris")(o).passed is True
    assert tool_called("get_weather", city=lambda c: c.startswith("Par"))(o).passed is True
    wrong = tool_called("get_weather", city="London")(o)
    assert wrong.passed is False and "get_weather(city='Paris', unit='c')" in wrong.detail
    assert tool_called("get_time")(_outcome()).detail == "got no tool call"


def test_wer_compares_heard_words_with_the_reference() -> None:
    ref = "what is two plus two"
    spoken = Case(audio=np.zeros(4800, np.int16), sample_rate=24_000, reference=ref)
    exact = _outcome(case=spoken, heard="What is two plus two?")
    assert wer(0.1)(exact).passed is True and wer(0.1)(exact).score == 0
    off = _outcome(case=spoken, heard="what is the plus two")
    assert wer(0.1)(off).passed is False and wer(0.1)(off).score == pytest.approx(0.2)
    assert wer(0.25)(off).passed is True
    assert wer(0.5)(_outcome(case=spoken, heard="")).score == 1.0
    assert wer(0.5)(_outcome(heard="hi")).passed is None  # a typed case: nothing was heard
    no_ref = Case(audio=np.zeros(4800, np.int16), sample_rate=24_000)
    assert wer(0.5)(_outcome(case=no_ref, heard="x")).passed is None
    assert wer(0.5, reference="the answer is four", where="answer")(
        _outcome(answer="The answer is four.")
    ).passed
    assert word_error_rate("a b c d", "a x c d") == 0.25


def test_latency_and_cost_thresholds() -> None:
    quick = _outcome(first_audio_ms=300.0, done_ms=900.0, cost_usd=0.004)
    slow = _outcome(first_audio_ms=2500.0, done_ms=4000.0, cost_usd=0.02)
    assert latency(max_first_audio_ms=1000)(quick).passed is True
    verdict = latency(max_first_audio_ms=1000, max_done_ms=3000)(slow)
    assert verdict.passed is False and "first audio 2500 ms" in verdict.detail
    assert "done 4000 ms" in verdict.detail
    assert latency(max_first_audio_ms=1000)(_outcome()).passed is None  # no audio answer
    assert cost(max_usd=0.01)(quick).passed is True
    assert cost(max_usd=0.01)(slow).passed is False
    assert cost(max_usd=0.01)(_outcome()).passed is None
    with pytest.raises(UsageError):
        latency()


def test_any_callable_is_a_grader_and_a_raising_one_fails_only_itself() -> None:
    def short(o: CaseOutcome) -> bool:
        return len(o.answer) < 20

    def polite(o: CaseOutcome) -> tuple[bool, str]:
        return "please" in o.answer, "looked for 'please'"

    def broken(o: CaseOutcome) -> bool:
        raise KeyError("oops")

    o = _outcome(answer="yes please")
    grades = grade(o, [as_grader(short), as_grader(polite), as_grader(broken), as_grader("yes")])
    assert [(g.grader, g.passed) for g in grades] == [
        ("short", True), ("polite", True), ("broken", False), ("contains 'yes'", True)
    ]  # fmt: skip
    assert "KeyError" in grades[2].detail
    assert as_grader(lambda o: Grade("custom", None, "n/a"))(o).passed is None
    with pytest.raises(UsageError):
        as_grader(42)  # type: ignore[arg-type]


def test_cases_need_one_input_and_unique_ids() -> None:
    with pytest.raises(UsageError, match="exactly one of text"):
        Case()
    with pytest.raises(UsageError, match="exactly one of text"):
        Case(text="hi", audio=b"RIFF")
    cases = as_cases(["hello", {"text": "bye", "id": "bye"}, Case(text="x", expect="x")])
    assert [c.id for c in cases] == ["case-01", "bye", "case-03"]
    assert [c.kind for c in cases] == ["text", "text", "text"]
    assert len(cases[2].expect) == 1
    with pytest.raises(UsageError, match="repeated: a"):
        as_cases([Case(text="1", id="a"), Case(text="2", id="a")])
    with pytest.raises(UsageError, match="at least one case"):
        as_cases([])
    spoken = Case.spoken("hello there", expect="hello")
    assert spoken.kind == "audio" and spoken.reference == "hello there"
    assert spoken.samples().dtype == np.int16 and 500 < spoken.duration_ms() < 3000


def test_the_rate_gate_closes_until_reset_and_every_wait_is_capped() -> None:
    gate = RateGate(reserve_tokens=1000, max_wait_s=5.0)
    plenty = [{"name": "tokens", "limit": 40000, "remaining": 39000, "reset_seconds": 1.5}]
    assert gate.note(plenty, now=100.0) == 0.0 and gate.closed_until == 0.0
    low = [{"name": "tokens", "limit": 40000, "remaining": 200, "reset_seconds": 2.5}]
    assert gate.note(low, now=100.0) == 2.5 and gate.closed_until == 102.5
    forever = [{"name": "requests", "limit": 100, "remaining": 0, "reset_seconds": 600}]
    assert gate.note(forever, now=100.0) == 5.0  # capped at max_wait_s
    assert gate.note(["junk", {"name": "tokens"}], now=100.0) == 0.0  # malformed entries ignored


# --- whole runs against the stand-in ---------------------------------------------------------
ARITHMETIC = [
    ("two plus two", "4"), ("three plus five", "8"), ("ten minus four", "6"),
    ("six times seven", "42"), ("nine plus one", "10"), ("eight minus three", "5"),
]  # fmt: skip


def _mixed_cases() -> list[Case]:
    cases = [
        Case(text=f"what is {q}", id=f"text-{n}", expect=[regex(rf"\b{a}\b")])
        for n, (q, a) in enumerate(ARITHMETIC)
    ]
    cases += [
        Case(text="hello", id="text-hello", expect=["hello"]),
        Case(text="what is the weather in Paris", id="text-paris",
             expect=[tool_called("get_weather", city="Paris"), "sunny"]),
        Case(text="what is the weather in Tokyo", id="text-tokyo",
             expect=[tool_called("get_weather", city="Tokyo")]),
        Case(text="repeat after me: the quick brown fox", id="text-repeat",
             expect=["quick brown fox"]),
        Case(text="hello", id="text-wrong", expect=["goodbye"]),  # fails on purpose
        Case(text="what time is it", id="text-time", expect=[regex(r"\d")]),
    ]  # fmt: skip
    spoken = [
        ("what is two plus two", [regex(r"\b4\b")]),
        ("what is the weather in paris", [tool_called("get_weather", city="Paris")]),
        ("good morning", []),
        ("what is ten minus three", []),
        ("hello", []),
        ("what time is it", []),
    ]
    for n, (text, expect) in enumerate(spoken):
        cases.append(Case.spoken(text, id=f"audio-{n}", expect=expect))
        cases.append(Case.spoken(text, id=f"audio-slow-{n}", words_per_minute=110))
    return cases


def test_an_evaluation_of_24_text_and_audio_cases_offline(
    capsys: pytest.CaptureFixture[str],
) -> None:
    cases = _mixed_cases()
    assert len(cases) == 24 and sum(c.kind == "audio" for c in cases) == 12
    results = realtime_nb.evaluate(
        cases,
        graders=[wer(0.34), latency(max_first_audio_ms=20_000)],
        tools=[get_weather],
        concurrency=4,
        server_options=FAST,
        label="stand-in",
    )
    err = capsys.readouterr().err
    assert "24/24" in err and re.search(r"passed=\d+, failed=\d+, errors=0", err)  # the bar

    assert len(results) == 24 and results.errors == 0
    for n, (_, answer) in enumerate(ARITHMETIC):
        assert results[f"text-{n}"].passed, results[f"text-{n}"].grades
        assert answer in results[f"text-{n}"].answer
    paris = results["text-paris"]
    assert paris.passed and str(paris.tool_calls[0]) == "get_weather(city='Paris')"
    assert paris.tool_calls[0].output == "It is sunny and 21 degrees in Paris"
    assert not results["text-wrong"].passed and results.failed >= 1
    # spoken cases: the server's transcription of the synthetic voice, graded by WER
    two = results["audio-0"]
    assert two.heard == "what is two plus two" and two.passed
    assert [g.score for g in two.grades if g.grader.startswith("WER")] == [0.0]
    assert results["audio-1"].tool_calls and results["audio-1"].tool_calls[0].name == "get_weather"
    for o in results:
        wer_grade = next(g for g in o.grades if g.grader.startswith("WER"))
        if o.case.kind == "audio":
            assert wer_grade.score is not None and 0 <= wer_grade.score <= 2
            assert o.heard  # every spoken case was transcribed
        else:
            assert wer_grade.passed is None
        assert o.first_audio_ms is not None and o.done_ms is not None
        assert o.created_ms is not None and o.created_ms <= o.first_audio_ms <= o.done_ms
        assert o.input_tokens + o.output_tokens == o.total_tokens
        assert o.total_tokens > 0 and o.cost_usd is not None and o.cost_usd > 0
    # the table, the recordings, the picture, the run
    df = results.dataframe
    assert list(df["case"]) == [c.id for c in cases]
    columns = {"kind", "heard", "answer", "tool_calls", "created_ms", "first_audio_ms", "done_ms",
               "input_tokens", "output_tokens", "passed",
               "total_tokens", "cost_usd", "error", "WER ≤ 0.34", "expectations"}  # fmt: skip
    assert columns <= set(df.columns)
    assert results.graders == ["WER ≤ 0.34", "first audio ≤ 20000 ms", "expectations"]
    assert not df.set_index("case").loc["text-wrong", "expectations"]
    assert df.set_index("case").loc["audio-slow-2", "expectations"] is None  # it has none
    grades = results.grades_dataframe()
    own = grades[(grades["case"] == "text-paris") & grades["expected"]]
    assert list(own["grader"]) == ["called get_weather(city='Paris')", "contains 'sunny'"]
    assert df["passed"].sum() == results.passed
    assert set(results.recordings) == {c.id for c in cases}
    rec = results.recordings["audio-0"]
    assert rec.transcript[0] == ("user", "what is two plus two")
    assert any(r.type == "response.done" for r in rec.events.rows)
    fig = results.plot()
    assert len(fig.axes) == 2 and "passed" in fig._suptitle.get_text()
    summary = results.summary()
    assert summary["passed"] + summary["failed"] + summary["errors"] == 24
    assert 2 <= summary["peak_concurrency"] <= 4 and summary["cases_per_minute"] > 0
    assert "stand-in" in results._repr_html_()
    assert not _server_threads()  # the run's stand-in is stopped


def test_a_failing_case_is_a_row_with_its_error_and_the_others_still_pass() -> None:
    too_short = Case(audio=np.zeros(1200, np.int16), sample_rate=24_000, id="50ms")  # < 100 ms
    results = evaluate(
        [Case(text="hello", id="ok", expect="hello"), too_short, Case(text="what is 1 plus 1")],
        concurrency=3,
        progress=False,
        server_options=FAST,
    )
    assert results["ok"].passed and results["case-03"].passed
    bad = results["50ms"]
    assert not bad.passed and "input_audio_buffer_commit_empty" in (bad.error or "")
    assert results.errors == 1 and results.dataframe.set_index("case").loc["50ms", "error"]
    assert bad.recording is not None  # what happened up to the error is kept
    assert any(r.type == "error" for r in bad.recording.events.rows)


def test_each_case_has_a_deadline_and_nothing_is_left_running() -> None:
    before = {t.ident for t in threading.enumerate()}
    results = evaluate(
        ["hello", "what is two plus two", "good morning"],
        concurrency=3,
        timeout=0.5,
        progress=False,
        server_options={"think_s": 5.0},  # the model "thinks" far longer than the deadline
    )
    assert results.errors == 3
    assert all("no complete answer within 0.5 s" in (o.error or "") for o in results)
    assert all(o.wall_s < 4 for o in results)
    left = [t for t in threading.enumerate() if t.ident not in before and t.is_alive()]
    assert not left, left


def test_new_cases_wait_while_the_rate_limit_is_nearly_spent() -> None:
    results = evaluate(
        ["hello", "what is two plus two", "good morning"],
        concurrency=1,
        progress=False,
        reserve_tokens=250,
        server_options={**FAST, "rate_limit_tokens": 300, "rate_limit_window_s": 1.0},
    )
    assert results.errors == 0
    limits = [
        r.payload["rate_limits"][0]
        for rec in results.recordings.values()
        for r in rec.events.rows
        if r.type == "rate_limits.updated"
    ]
    assert limits and all(e["limit"] == 300 and e["remaining"] < 250 for e in limits)
    assert all(0 < e["reset_seconds"] <= 1.0 for e in limits)
    assert results.run["rate_limit_pauses"] == 2  # before the 2nd and the 3rd case
    assert 0 < results.run["rate_limit_wait_s"] <= 2.0


async def test_cancelling_a_run_closes_every_session_and_the_stand_in() -> None:
    before = {t.ident for t in threading.enumerate()}
    run = asyncio.create_task(
        aevaluate(["hello"] * 4, concurrency=4, server_options={"think_s": 10.0})
    )
    await asyncio.sleep(1.0)
    assert _server_threads()  # the run is under way
    run.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(run, 10)
    others = [t for t in asyncio.all_tasks() if t is not asyncio.current_task() and not t.done()]
    assert not others
    left = [t for t in threading.enumerate() if t.ident not in before and t.is_alive()]
    assert not left, left


def test_compare_two_configurations_side_by_side() -> None:
    cases = [
        Case(text="what is the weather in Paris", id="weather",
             expect=[tool_called("get_weather", city="Paris")]),
        Case(text="what is two plus two", id="sum", expect=["4"]),
    ]  # fmt: skip
    without = evaluate(cases, progress=False, server_options=FAST, label="no tools")
    with_tools = evaluate(
        cases, tools=[get_weather], progress=False, server_options=FAST, label="get_weather"
    )
    c = compare(without, with_tools)
    assert c.labels == ("no tools", "get_weather") and c.changed == ["weather"]
    by = c.by_grader.set_index("check")
    assert by.loc["expectations", "change"] == 0.5  # one of two cases' expectations flipped
    assert by.loc["all checks", "no tools"] == 0.5 and by.loc["all checks", "get_weather"] == 1.0
    df = c.dataframe.set_index("case")
    assert df.loc["weather", "changed"] and not df.loc["sum", "changed"]
    assert len(c.plot().axes) == 2
    assert "changed: weather" in repr(c)
    with pytest.raises(UsageError, match="same cases"):
        compare(without, evaluate(["hello"], progress=False, server_options=FAST))

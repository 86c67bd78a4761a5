"""Progress you can trust (time-based, with elapsed and remaining, alive inside long steps) and no forward pass
done twice: the trace makes the validation reference, and validation runs the network once."""
import io
import json
import time

import pytest
import torch

import exporter.reporting as progress_module
from exporter.checkpoint import load_into, read_state_dict
from exporter.export import trace_with_reference
from exporter.reporting import Reporter
from exporter.scripted.network import GreenFormer
from exporter.scripted.nuke_module import CorridorKeyNuke
from exporter.validate import VALIDATION_PASSES, reference_probe, validate
from nuke_plugin.contract import progress
from nuke_plugin.contract.knob_spec import KNOBS
from tests.conftest import SMALL_RESOLUTION


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


@pytest.fixture
def clock(monkeypatch):
    fake = Clock()
    monkeypatch.setattr(progress_module.time, "monotonic", fake)
    return fake


def _events(stream):
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_the_trace_times_the_forward_pass_that_later_stages_are_estimated_by(clock):
    stream = io.StringIO()
    reporter = Reporter("json", stream, heartbeat_s=0)
    reporter.plan(2048, validate_passes=8)
    reporter.stage("check", "reading")
    clock.now += 1
    reporter.stage("trace", "tracing")
    clock.now += 100  # this machine's forward pass at 2048, whatever the table guessed
    reporter.stage("script", "scripting")
    event = _events(stream)[-1]
    forward = 100 - progress_module.FIXED_S["trace"]
    later = sum(progress_module.FIXED_S[name] for name in ("script", "save", "validate", "manifest"))
    assert event["elapsed"] == 101.0
    assert event["remaining"] == pytest.approx(later + 8 * forward, abs=0.1)
    assert event["progress"] == pytest.approx(101.0 / (101.0 + event["remaining"]), abs=1e-3)


def test_a_stage_of_equal_steps_is_timed_by_the_steps_already_done(clock):
    stream = io.StringIO()
    reporter = Reporter("json", stream, heartbeat_s=0)
    reporter.plan(512, validate_passes=8)
    reporter.stage("validate", "pass 1", 0.0)
    clock.now += 30
    reporter.stage("validate", "pass 3", 0.25)  # a quarter done in 30 s: 90 s to go in this stage
    assert _events(stream)[-1]["remaining"] == pytest.approx(90 + progress_module.FIXED_S["manifest"], abs=0.1)


def test_progress_never_goes_back_and_reaches_one_only_when_done(clock):
    stream = io.StringIO()
    reporter = Reporter("json", stream, heartbeat_s=0)
    reporter.plan(2048, validate_passes=8)
    reporter.stage("trace", "tracing")
    clock.now += 1  # a very fast trace: every later estimate shrinks, the bar must not jump back
    reporter.stage("script", "scripting")
    clock.now += 600
    reporter.stage("manifest", "writing")
    reporter.done("a.pt", "a.json")
    values = [e["progress"] for e in _events(stream)]
    assert values == sorted(values) and max(values[:-1]) <= 0.99 and values[-1] == 1.0


def test_the_heartbeat_repeats_a_long_step_with_fresh_times_and_stops_at_the_end():
    stream = io.StringIO()
    reporter = Reporter("json", stream, heartbeat_s=0.05)
    reporter.plan(2048, validate_passes=8)
    reporter.stage("validate", "Running the saved model on a 3x5 frame")
    time.sleep(0.4)
    reporter.done("a.pt", "a.json")
    count = len(stream.getvalue().splitlines())
    time.sleep(0.2)
    events = _events(stream)
    beats = [e for e in events if e.get("message") == "Running the saved model on a 3x5 frame"]
    assert len(beats) >= 3
    assert [e["elapsed"] for e in beats] == sorted(e["elapsed"] for e in beats) and beats[-1]["elapsed"] > 0
    assert beats[-1]["remaining"] < beats[0]["remaining"]
    assert len(events) == count and events[-1]["event"] == "done"  # nothing after the end
    assert set(events[-1]["stages"]) == {"validate"}


def test_the_heartbeat_leaves_a_step_alone_while_it_reports_itself():
    stream = io.StringIO()
    reporter = Reporter("json", stream, heartbeat_s=0.3)
    for block in range(10):  # a step that reports every 0.05 s needs no repeats
        reporter.stage("trace", "Tracing: encoder block %d" % block, block / 10.0)
        time.sleep(0.05)
    reporter.done("a.pt", "a.json")
    messages = [e["message"] for e in _events(stream) if e["event"] == "stage"]
    assert messages == ["Tracing: encoder block %d" % block for block in range(10)]


def test_human_lines_show_elapsed_and_remaining_and_the_stage_times(clock):
    stream = io.StringIO()
    reporter = Reporter("human", stream, heartbeat_s=0)
    reporter.stage("trace", "Tracing")
    clock.now += 185
    reporter.stage("script", "Scripting")
    reporter.done("/x/CorridorKey.pt", "/x/CorridorKey.json")
    lines = stream.getvalue().splitlines()
    assert lines[1].startswith("[") and "Scripting (3 min 05 s elapsed, about " in lines[1]
    assert lines[2] == "[100%] Done in 3 min 05 s. Stage times: trace 185.0 s, script 0.0 s"
    assert lines[3] == "       Wrote /x/CorridorKey.pt and its manifest /x/CorridorKey.json"  # the log's last line
    assert len(lines) == 4


class Terminal(io.StringIO):
    def isatty(self):
        return True


@pytest.mark.parametrize("stream, most", [(io.StringIO(), 20 + 3 + 2), (Terminal(), 1000)])
def test_human_lines_into_a_log_are_one_per_stage_or_per_five_percent(clock, stream, most):
    """A farm's log (no terminal) gets the first line of each stage and one per 5 %, not every step and beat: here
    a thousand steps through three stages. A terminal shows them all."""
    reporter = Reporter("human", stream, heartbeat_s=0)
    reporter.plan(64, 8)
    stages = [("trace", "script", "validate")[index * 3 // 1000] for index in range(1000)]
    for index, stage in enumerate(stages):
        reporter.stage(stage, "Step %d" % index, (index % 333) / 333.0)
        clock.now += 2.0
    reporter.done("/x/CorridorKey.pt", "/x/CorridorKey.json")
    lines = stream.getvalue().splitlines()
    steps = [line for line in lines if "Step " in line]
    percents = [int(line[1:4]) for line in steps]
    assert percents == sorted(percents) and len(steps) <= most
    if most < 1000:
        firsts = [stages.index(stage) for stage in ("trace", "script", "validate")]
        assert all(any("Step %d (" % first in line for line in steps) for first in firsts)  # each stage shows
    else:
        assert len(steps) == 1000
    assert lines[-1].endswith("/x/CorridorKey.pt and its manifest /x/CorridorKey.json")


def test_the_line_throttle_passes_log_done_and_error_events_and_each_new_stage():
    lines = progress.LineThrottle()
    stage = {"event": "stage", "stage": "validate", "message": "x", "progress": 0.50}
    assert lines.admit(stage) and not lines.admit(dict(stage, progress=0.54))
    assert lines.admit(dict(stage, progress=0.55)) and lines.admit(dict(stage, stage="manifest", progress=0.55))
    assert all(lines.admit(event) for event in (progress.log_event("hi"), progress.error_event("no"),
                                                progress.done_event("a.pt", "a.json", 1.0)))
    assert lines.admit(dict(stage, progress="junk"))  # a malformed event reads as 0 % of a new stage


@pytest.mark.parametrize("seconds, text", [(0.4, "0 s"), (59.6, "1 min 00 s"), (185, "3 min 05 s"),
                                           (3725, "1 h 02 min")])
def test_durations_read_as_a_person_says_them(seconds, text):
    assert progress.duration(seconds) == text


def test_an_older_exporters_stage_event_still_reads():
    old = {"event": "stage", "stage": "trace", "message": "Tracing", "progress": 0.5}
    assert progress.describe(old) == "[ 50%] Tracing" and progress.stage_text(old) == "Tracing"


@pytest.fixture(scope="module")
def network(small_checkpoint):
    model = GreenFormer(SMALL_RESOLUTION).eval()
    load_into(model, read_state_dict(str(small_checkpoint)))
    return model


def test_one_forward_pass_makes_both_the_trace_and_the_eager_reference(network):
    calls = []
    handle = network.register_forward_pre_hook(lambda module, args: calls.append(1))
    try:
        traced, reference = trace_with_reference(network, SMALL_RESOLUTION)
    finally:
        handle.remove()
    assert len(calls) == 1
    with torch.no_grad():
        eager = CorridorKeyNuke(network, SMALL_RESOLUTION).eval()(reference_probe())
        replayed = CorridorKeyNuke(traced, SMALL_RESOLUTION).eval()(reference_probe())
    assert torch.equal(reference, eager)  # the reference is the eager pipeline's own output
    assert float((replayed - reference).abs().max()) < 1e-5  # and the trace is of that same network


def test_trace_reports_each_encoder_block(network):
    seen = []
    trace_with_reference(network, SMALL_RESOLUTION, lambda done, total: seen.append((done, total)))
    total = len(network.encoder.model.blocks)
    assert seen == [(done, total) for done in range(1, total + 1)]


class CountingModule:
    """The loaded model with its forward calls counted: `calls` those that run the network (Clean-up Only off: the
    only way it runs), `clean_ups` the others. Its stages and knob attributes pass through to it."""

    def __init__(self, module):
        object.__setattr__(self, "module", module)
        object.__setattr__(self, "calls", 0)
        object.__setattr__(self, "clean_ups", 0)

    def __call__(self, x):
        counter = "clean_ups" if self.module.clean_up_only else "calls"
        object.__setattr__(self, counter, getattr(self, counter) + 1)
        return self.module(x)

    def to(self, device):
        return self

    def eval(self):
        return self

    def __getattr__(self, name):
        return getattr(self.module, name)

    def __setattr__(self, name, value):
        setattr(self.module, name, value)


def test_validation_runs_the_network_once_and_its_pass_count_is_the_plans(exported_model):
    loaded = CountingModule(torch.jit.load(str(exported_model.pt)).eval())
    with torch.no_grad():
        reference = loaded.module(reference_probe())
    fractions = []
    figures = validate(loaded, reference, torch.device("cpu"), lambda message, fraction: fractions.append(fraction),
                       exported_model.resolution)
    assert loaded.calls == VALIDATION_PASSES == 1
    assert loaded.clean_ups == 1  # the two-node check: forward with Clean-up Only on, no network
    assert fractions == sorted(fractions) and fractions[0] == 0.0 and fractions[-1] == 1.0
    assert figures["max_abs_error_vs_eager"] == 0.0 and figures["max_abs_error_of_stages_vs_eager"] <= 1e-6
    assert sorted(figures["knob_effect"]) == sorted(k.name for k in KNOBS)
    assert all(v > 0 for v in figures["knob_effect"].values())


@pytest.mark.parametrize("resolution, seconds", progress_module.TRACE_PASS_S)
def test_the_first_guess_goes_through_every_measured_point(resolution, seconds):
    assert progress_module.guess_forward_seconds(resolution) == pytest.approx(seconds)


def test_the_first_guess_grows_with_the_resolution_beyond_the_table():
    sizes = (64, 128, 384, 768, 1536, 3072, 4096)
    guesses = [progress_module.guess_forward_seconds(size) for size in sizes]
    assert guesses == sorted(guesses) and guesses[0] > 0
    assert guesses[sizes.index(1536)] < progress_module.guess_forward_seconds(2048)

"""The progress protocol and torch version parsing, shared by the exporter and the Nuke side."""
import pytest

from nuke_plugin.contract import exits, progress
from nuke_plugin.contract.torch_targets import TORCH_TARGETS, version_tuple


def test_events_round_trip_through_one_line():
    for event in (progress.stage_event("trace", "Tracing", 0.123456), progress.log_event("hello"),
                  progress.done_event("/a.pt", "/a.json", 12.345), progress.error_event("no", progress.CANCELLED)):
        line = progress.encode(event)
        assert "\n" not in line and progress.parse_event(line) == event
    assert progress.stage_event("x", "m", 0.123456)["progress"] == 0.1235


def test_anything_else_is_a_log_line():
    for line in ("plain text", "{not json", '{"no": "event"}', "[1, 2]"):
        assert progress.parse_event(line) == {"event": progress.LOG, "message": line}


def test_error_kinds_are_checked():
    with pytest.raises(ValueError):
        progress.error_event("x", "oops")


def test_exit_codes():
    assert (exits.EXIT_OK, exits.EXIT_INTERNAL, exits.EXIT_USER, exits.EXIT_CANCELLED) == (0, 1, 2, 130)


@pytest.mark.parametrize("text, expected", [("2.7.1", (2, 7, 1)), ("2.7.1+cu118", (2, 7, 1)), ("2.1.0a0", (2, 1, 0)),
                                            ("1.12", (1, 12)), ("2.10.0rc1", (2, 10, 0)), ("", ()), ("x", ())])
def test_version_tuple(text, expected):
    assert version_tuple(text) == expected


def test_torch_comparisons_are_numeric_not_textual():
    assert version_tuple("2.10.0")[:2] > next(t for t in TORCH_TARGETS if t.key == "nuke16").torch_tuple

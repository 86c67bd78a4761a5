"""Per-user settings: where they live, round trip, studio overrides, atomic save, tolerant load."""
import json
import os
import re
import subprocess
import sys

import pytest

from nuke_plugin import contract
from nuke_plugin.contract import costs, files, torch_targets
from nuke_plugin.core import settings


def env_for(tmp_path, **extra):
    env = {"HOME": str(tmp_path / "home")}
    env.update(extra)
    return env


def test_file_lives_under_nukes_user_folder(tmp_path):
    env = env_for(tmp_path)
    assert settings.settings_path(env) == os.path.join(str(tmp_path / "home"), ".nuke", contract.MODEL_ID,
                                                 "settings.json")
    assert settings.settings_path(env_for(tmp_path, CORRIDORKEY_HOME=str(tmp_path / "ck"))) == str(
        tmp_path / "ck" / "settings.json")
    assert settings.settings_path(env_for(tmp_path, CORRIDORKEY_SETTINGS=str(tmp_path / "s.json"))) == str(
        tmp_path / "s.json")


def test_defaults_when_there_is_no_file(tmp_path):
    s = settings.load_settings(environ=env_for(tmp_path))
    assert s.resolution == contract.NATIVE_RESOLUTION == 2048
    assert s.torch_target == torch_targets.DEFAULT_TORCH_TARGET and s.python == "" and not s.overrides
    assert s.resolved_build_dir(env_for(tmp_path)).endswith(os.path.join(".nuke", "CorridorKey", "build"))


def test_round_trip(tmp_path):
    env = env_for(tmp_path)
    s = settings.load_settings(environ=env)
    s.checkpoint, s.resolution, s.torch_target, s.python = "/x/CorridorKey.pth", 1024, "nuke14", "/env/bin/python"
    path = settings.save_settings(s, environ=env)
    assert json.loads(open(path).read())["resolution"] == 1024
    again = settings.load_settings(environ=env)
    assert again == s


def test_env_overrides_win_are_locked_and_never_saved(tmp_path):
    env = env_for(tmp_path)
    mine = settings.load_settings(environ=env)
    mine.python, mine.resolution = "/home/me/venv/bin/python", 1536
    settings.save_settings(mine, environ=env)

    studio = dict(env, CORRIDORKEY_PYTHON="/studio/ck/bin/python", CORRIDORKEY_RESOLUTION="1024",
                  CORRIDORKEY_TORCH="15.1", CORRIDORKEY_INSTALL_DIR="/studio/nuke/CorridorKey")
    s = settings.load_settings(environ=studio)
    assert s.python == "/studio/ck/bin/python" and s.resolution == 1024
    assert s.torch_target == "nuke15.1" and s.install_dir == "/studio/nuke/CorridorKey"
    assert s.is_locked("python") and s.overrides["resolution"] == "CORRIDORKEY_RESOLUTION"
    s.checkpoint = "/shots/CorridorKey.pth"
    settings.save_settings(s, environ=studio)
    on_disk = json.loads(open(settings.settings_path(env)).read())
    assert on_disk["python"] == "/home/me/venv/bin/python" and on_disk["resolution"] == 1536
    assert on_disk["checkpoint"] == "/shots/CorridorKey.pth"


def test_bad_env_values_are_ignored_with_a_warning(tmp_path):
    with pytest.warns(RuntimeWarning, match="CORRIDORKEY_RESOLUTION"):
        s = settings.load_settings(environ=env_for(tmp_path, CORRIDORKEY_RESOLUTION="2000"))
    assert s.resolution == 2048 and not s.overrides
    with pytest.warns(RuntimeWarning, match="CORRIDORKEY_TORCH"):
        settings.load_settings(environ=env_for(tmp_path, CORRIDORKEY_TORCH="banana"))


@pytest.mark.parametrize("content", ["{not json", "[1, 2]", "", "\x00\x01"])
def test_corrupt_file_gives_defaults_and_a_warning(tmp_path, content):
    env = env_for(tmp_path)
    path = settings.settings_path(env)
    os.makedirs(os.path.dirname(path))
    with open(path, "w") as handle:
        handle.write(content)
    with pytest.warns(RuntimeWarning, match="unreadable settings"):
        s = settings.load_settings(environ=env)
    assert s == settings.Settings()
    settings.save_settings(s, environ=env)  # the next save repairs it
    assert json.loads(open(path).read())["resolution"] == 2048


def test_deeply_nested_file_gives_defaults_and_a_warning(tmp_path):
    """json recurses once per level: a deep file raised RecursionError out of a loader that promises never to."""
    env = env_for(tmp_path)
    path = settings.settings_path(env)
    os.makedirs(os.path.dirname(path))
    with open(path, "w") as handle:
        handle.write("[" * 100000 + "]" * 100000)
    with pytest.warns(RuntimeWarning, match="unreadable settings"):
        assert settings.load_settings(environ=env) == settings.Settings()
    with open(path, "w") as handle:  # deep, but parseable: the field itself is then refused
        handle.write('{"resolution": ' + "[" * 900 + "]" * 900 + ', "checkpoint": "/a.pth"}')
    with pytest.warns(RuntimeWarning, match="resolution"):
        s = settings.load_settings(environ=env)
    assert s.resolution == 2048 and s.checkpoint == "/a.pth"


def test_wrong_typed_field_is_dropped_the_rest_kept(tmp_path):
    env = env_for(tmp_path)
    path = settings.settings_path(env)
    os.makedirs(os.path.dirname(path))
    with open(path, "w") as handle:
        json.dump({"resolution": "huge", "checkpoint": "/a.pth", "python": 3}, handle)
    with pytest.warns(RuntimeWarning):
        s = settings.load_settings(environ=env)
    assert s.checkpoint == "/a.pth" and s.resolution == 2048 and s.python == ""


def test_save_is_atomic(tmp_path, monkeypatch):
    env = env_for(tmp_path)
    s = settings.load_settings(environ=env)
    s.checkpoint = "/first.pth"
    path = settings.save_settings(s, environ=env)
    before = open(path).read()

    def explode(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(files.os, "replace", explode)  # the new text is written, then the move fails
    s.checkpoint = "/second.pth"
    with pytest.raises(OSError):
        settings.save_settings(s, environ=env)
    assert open(path).read() == before
    assert os.listdir(os.path.dirname(path)) == ["settings.json"], "a temporary file was left behind"


def _figures(text):
    """(seconds per HD frame, peak GB) quoted in a cost text."""
    seconds = re.search(r"(\d+(?:\.\d+)?) s per HD frame", text)
    gigabytes = re.search(r"(\d+(?:\.\d+)?) GB peak RAM", text)
    assert seconds and gigabytes, text
    return float(seconds.group(1)), float(gigabytes.group(1))


@pytest.mark.parametrize("target", sorted(torch_targets.TORCH_TARGETS_BY_KEY) + [""])
def test_resolution_choices_quote_the_measured_table_for_the_targets_build(target):
    """The dialog's cost notes are the measured table's row of the build the target gets, with its date and load,
    and say what is not measured."""
    assert [r.value for r in settings.RESOLUTIONS] == [2048, 1536, 1024]
    operators = torch_targets.operators_for(target)
    quoted = {}
    for r in settings.RESOLUTIONS:
        assert contract.resolution_problem(r.value) is None
        text = settings.cost_text(r.value, target)
        row = costs.frame_cost(operators, r.value)
        assert text.startswith("Measured on CPU (2 cores, %s, load %.1f)" % (row.measured, row.load))
        assert _figures(text) == (round(row.seconds), round(row.peak_rss_gb, 1))
        assert costs.OPERATOR_SET_NAMES[operators] in text and "GPU memory not measured" in text
        quoted[r.value] = _figures(text)
    assert quoted[2048] > quoted[1536] > quoted[1024]  # a larger model costs more, in time and in memory
    for value in (1536, 1024):  # anything said about VRAM without a GPU is an estimate and says so
        assert "estimate:" in settings.cost_text(value, target)
    assert settings.cost_text(1056, target) == "Custom size: not measured."


def test_the_measured_table_has_every_operator_set_at_every_offered_resolution():
    for operators in torch_targets.OPERATOR_SETS:
        for r in settings.RESOLUTIONS:
            row = costs.frame_cost(operators, r.value)
            assert row is not None and row.seconds > 0 and row.peak_rss_gb > 0 and row.load >= 0
            assert re.match(r"^\d{4}-\d\d-\d\d$", row.measured)
    assert contract.resolution_problem(1000) and contract.resolution_problem(32)
    assert contract.resolution_problem(8192) and contract.resolution_problem(128) is None


@pytest.mark.parametrize("text,key", [("16", "nuke16"), ("17.0v2", "nuke16"), ("15.1", "nuke15.1"),
                                      ("Nuke15.2", "nuke15.1"), ("15.0", "nuke14"), ("14", "nuke14"),
                                      ("13.2", "nuke13"), ("nuke16", "nuke16")])
def test_torch_target_for_each_nuke(text, key):
    assert torch_targets.parse_torch_target(text).key == key


def test_torch_targets_pin_the_embedded_torch():
    for target in torch_targets.TORCH_TARGETS:
        assert [r for r in target.requirements if r.startswith("torch==")] == ["torch==" + target.torch]
        assert target.nuke in target.label and target.torch in target.label and target.python_text in target.label
        if target.torch_tuple < (2, 3):  # numpy 2 breaks torch.from_numpy below torch 2.3
            assert "numpy<2" in target.requirements
    assert not torch_targets.TORCH_TARGETS_BY_KEY["nuke13"].supported
    assert [t.python for t in torch_targets.SUPPORTED_TARGETS] == [(3, 11), (3, 10), (3, 9)]


def test_torch_targets_command_prints_lanes_and_requirements(capsys):
    assert torch_targets.main(["lanes"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "torch-2.7.1 3.11 2.7.1 nuke16 fused", "torch-2.1.1 3.10 2.1.1 nuke15.1 fused",
        "torch-1.12.1 3.9 1.12.1 nuke14 portable"]
    assert torch_targets.main(["loads-in", "16"]) == 0
    assert capsys.readouterr().out.split() == ["nuke15.1", "nuke16"]
    assert torch_targets.main(["loads-in", "nuke14"]) == 0
    assert capsys.readouterr().out.split() == ["nuke14", "nuke15.1", "nuke16"]
    assert torch_targets.main(["requirements", "14"]) == 0
    assert capsys.readouterr().out.split() == list(torch_targets.TORCH_TARGETS_BY_KEY["nuke14"].requirements)
    assert torch_targets.main(["requirements", "project"]) == 0
    assert capsys.readouterr().out.split()[0] == "torch==2.14.1"
    assert torch_targets.main(["requirements", "nuke-x"]) == 2
    assert torch_targets.main(["cpu-index-options"]) == 0
    assert tuple(capsys.readouterr().out.split()) == torch_targets.cpu_index_options("pip")


def test_artist_guide_matches_the_specs():
    """The guide's knob table is the generated one, and every studio variable is documented."""
    from nuke_plugin.cli.knob_docs import knob_table

    guide = open(os.path.join(os.path.dirname(__file__), os.pardir, os.pardir, "docs", "artist_guide.md"),
                 encoding="utf-8").read()
    assert knob_table() in guide
    for variable, _field in settings.ENV_OVERRIDES:
        assert "`%s`" % variable in guide
    for target in torch_targets.TORCH_TARGETS:
        assert target.nuke in guide


def test_cpu_only_torch_is_remembered_and_a_studio_can_fix_it(tmp_path):
    env = env_for(tmp_path)
    mine = settings.load_settings(environ=env)
    assert mine.cpu_only_torch is False
    mine.cpu_only_torch = True
    settings.save_settings(mine, environ=env)
    assert settings.load_settings(environ=env).cpu_only_torch is True
    studio = settings.load_settings(environ=dict(env, CORRIDORKEY_CPU_ONLY_TORCH="0"))
    assert studio.cpu_only_torch is False and studio.is_locked("cpu_only_torch")
    with pytest.warns(RuntimeWarning, match="CORRIDORKEY_CPU_ONLY_TORCH"):
        assert settings.load_settings(environ=dict(env, CORRIDORKEY_CPU_ONLY_TORCH="maybe")).cpu_only_torch is True


# ---- a settings file that is not one: never block, never raise ------------------------------------------------

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# Nuke's start-up as a separate process (so that a hang is a timeout, not a stuck test run): the strict fake
# `nuke`, then init.py, which reads the settings through the install-dir hook.
STARTUP = """
import runpy, sys
sys.path.insert(0, {root!r})
from tests.fake_nuke import FakeNuke
sys.modules["nuke"] = FakeNuke(home={home!r}, edition="nukex", gui=False, version=(16, 0, 2))
runpy.run_path({init!r})
print("started", flush=True)
"""


def _settings_in_place_of(tmp_path, make):
    home = tmp_path / "home"
    path = home / ".nuke" / contract.MODEL_ID / "settings.json"
    path.parent.mkdir(parents=True)
    make(str(path))
    return home, path


def _run(argv, home, timeout=60):
    env = dict(os.environ, HOME=str(home), PYTHONPATH=ROOT, PYTHONWARNINGS="always")
    env.pop("CORRIDORKEY_SETTINGS", None)
    env.pop("CORRIDORKEY_HOME", None)
    return subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)


SPECIAL_FILES = [pytest.param(os.mkfifo, id="named-pipe") if hasattr(os, "mkfifo") else None,
                 pytest.param(lambda p: os.symlink("/dev/zero", p), id="endless-device")
                 if os.path.exists("/dev/zero") else None,
                 pytest.param(os.mkdir, id="folder")]
SPECIAL_FILES = [p for p in SPECIAL_FILES if p is not None]


@pytest.mark.parametrize("make", SPECIAL_FILES)
def test_nukes_start_up_never_hangs_on_a_settings_file_that_is_not_a_file(tmp_path, make):
    """A named pipe blocked init.py (and `headless --help`) forever; a link to /dev/zero read until memory ran out."""
    home, path = _settings_in_place_of(tmp_path, make)
    script = STARTUP.format(root=ROOT, home=str(home), init=os.path.join(ROOT, "init.py"))
    started = _run([sys.executable, "-c", script], home)
    assert started.returncode == 0 and "started" in started.stdout, started.stderr
    assert "ignoring unreadable settings file %s" % path in started.stderr
    assert "not a file" in started.stderr and "skipped" not in started.stderr
    helped = _run([sys.executable, "-m", "nuke_plugin.headless", "--help"], home)
    assert helped.returncode == 0 and "--checkpoint" in helped.stdout, helped.stderr


def test_a_settings_file_past_the_size_limit_is_not_read(tmp_path):
    env = env_for(tmp_path)
    path = settings.settings_path(env)
    os.makedirs(os.path.dirname(path))
    with open(path, "w") as handle:
        handle.write('{"checkpoint": "/a.pth"}' + " " * settings.SETTINGS_SIZE_LIMIT)
    with pytest.warns(RuntimeWarning, match="larger than %d bytes" % settings.SETTINGS_SIZE_LIMIT):
        assert settings.load_settings(environ=env) == settings.Settings()


@pytest.mark.parametrize("value, why", [("/tmp/a\x00b", "NUL character"),
                                        ("/tmp/\ud800.pth", "characters this system's file names cannot hold")])
@pytest.mark.parametrize("field", settings.PATH_FIELDS)
def test_a_path_the_os_cannot_take_is_refused_with_a_clear_message(tmp_path, field, value, why):
    """A NUL in a path reached subprocess and came back as a traceback; now the field is refused on reading."""
    env = env_for(tmp_path)
    path = settings.settings_path(env)
    os.makedirs(os.path.dirname(path))
    with open(path, "w") as handle:
        json.dump({field: value, "resolution": 1024}, handle)
    with pytest.warns(RuntimeWarning) as caught:
        s = settings.load_settings(environ=env)
    text = " ".join(str(w.message) for w in caught)
    assert "ignoring %s" % field in text and "is not a usable path: it contains" in text and why in text
    assert getattr(s, field) == "" and s.resolution == 1024


def test_huge_numbers_in_text_are_refused_quickly(tmp_path):
    env = env_for(tmp_path)
    path = settings.settings_path(env)
    os.makedirs(os.path.dirname(path))
    with open(path, "w") as handle:
        json.dump({"resolution": "1" * 500000, "torch_target": "1" * 500000, "checkpoint": "/a.pth"}, handle)
    with pytest.warns(RuntimeWarning) as caught:
        s = settings.load_settings(environ=env)
    assert s.resolution == 2048 and s.torch_target == torch_targets.DEFAULT_TORCH_TARGET and s.checkpoint == "/a.pth"
    # refused by length, before int() (Python 3.9, Nuke 14's, has no digit limit and takes seconds per million)
    assert "got 500000 characters" in " ".join(str(w.message) for w in caught)


def _fuzzed_settings(rng):
    """A valid settings file's text, then mutated the way a damaged or hostile one is."""
    values = [None, True, 0, -1, 2048, 10 ** 30, 1e308, -1e308, 0.5, "", "2048", "nuke16", "/a.pth", "\x00", "\ud800",
              [], [2048], {}, {"a": 1}, "x" * 3000, [[[[[]]]]], "15.1", "true", float("nan")]
    data = {name: rng.choice(values) for name in settings._persisted_fields() if rng.random() < 0.8}
    text = json.dumps(data)
    for _ in range(rng.randint(0, 3)):
        where = rng.randrange(len(text) + 1)
        text = text[:where] + rng.choice(['"', "{", "[", "]", "}", ",", ":", "\\", "1e999", "\x00", "\u00e9", ""]) \
            + text[where + rng.randint(0, 3):]
    return text


def test_fuzzed_settings_files_give_settings_never_an_exception(tmp_path):
    """Like the checkpoint reader's fuzz: every mutated file gives a Settings whose every value is usable."""
    import random

    env = env_for(tmp_path)
    path = settings.settings_path(env)
    os.makedirs(os.path.dirname(path))
    rng = random.Random(19)
    for case in range(400):
        text = _fuzzed_settings(rng)
        with open(path, "w", encoding="utf-8", errors="surrogatepass") as handle:
            handle.write(text)
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            s = settings.load_settings(environ=env)
        assert contract.resolution_problem(s.resolution) is None, (case, text)
        assert s.torch_target in torch_targets.TORCH_TARGETS_BY_KEY and isinstance(s.cpu_only_torch, bool), (case, text)
        for name in settings.PATH_FIELDS:
            value = getattr(s, name)
            assert isinstance(value, str) and settings.path_problem(value) is None, (case, name, text)

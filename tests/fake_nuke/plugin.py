"""pytest fixtures for the Nuke side: a fresh strict fake `nuke` per test, and tiny TorchScript models.

`fake_nuke` installs a new FakeNuke as sys.modules['nuke'] (removed after the test), with HOME pointed at a
temporary folder so nothing reads or writes the real ~/.nuke, and CORRIDORKEY_INSTALL_DIR / NUKE_PATH unset.
It starts as NukeX 15.1 with a GUI; change that with `fake_nuke.fake_set_edition('nuke')` (plain Nuke),
`fake_nuke.fake_set_gui(False)`, `fake_nuke.fake_set_version(14, 0, 5)`. Script the user's answers with
`fake_nuke.fake_answer('ask', True)`; a dialog with no scripted answer fails the test.
"""
import sys

import pytest

from .core import FakeNuke


@pytest.fixture
def fake_nuke(tmp_path, monkeypatch):
    home = tmp_path / "home"
    (home / ".nuke").mkdir(parents=True)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("USERPROFILE", str(home))
    monkeypatch.delenv("CORRIDORKEY_INSTALL_DIR", raising=False)
    monkeypatch.delenv("NUKE_PATH", raising=False)
    fake = FakeNuke(home=str(home))
    monkeypatch.setitem(sys.modules, "nuke", fake)
    yield fake


@pytest.fixture
def plain_nuke(fake_nuke):
    """The fake as plain Nuke (no NukeX licence): CatFileCreator is refused."""
    fake_nuke.fake_set_edition("nuke")
    return fake_nuke


@pytest.fixture
def tiny_model(tmp_path):
    """Factory: tiny_model('GoodModel') -> path of a scripted module from tests.fake_nuke.models."""
    from . import models

    def make(name="GoodModel", filename=None):
        return models.save(getattr(models, name), tmp_path / (filename or (name + ".pt")))

    return make

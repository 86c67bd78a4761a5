"""Fixtures of the tools' tests."""
import sys

import pytest

from nuke_plugin.contract.torch_targets import PROJECT_ENVIRONMENT
from tests.test_env_sh import stamp_name


@pytest.fixture
def torch_venv(tmp_path):
    """The export environment as env.sh leaves it, standing in for .venv: its python is the one running the tests
    (which has torch), and its stamp says the project's pins are installed, so nothing is downloaded."""
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    python = venv / "bin" / "python"
    python.write_text('#!/bin/sh\nexec "%s" "$@"\n' % sys.executable)
    python.chmod(0o755)
    (venv / stamp_name("export", " ".join(PROJECT_ENVIRONMENT.requirements))).touch()
    return venv

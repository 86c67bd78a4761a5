"""Fixtures of the tools' tests."""
import re
import subprocess
import sys

import pytest

from nuke_plugin.contract.torch_targets import PROJECT_ENVIRONMENT
from tests.no_torch import ROOT


@pytest.fixture
def export_venv(tmp_path):
    """The export environment as env.sh leaves it, standing in for .venv: its python is the one running the tests
    (which has torch), and its stamp says the project's pins are installed, so nothing is downloaded."""
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    python = venv / "bin" / "python"
    python.write_text('#!/bin/sh\nexec "%s" "$@"\n' % sys.executable)
    python.chmod(0o755)
    with open(ROOT / "pyproject.toml", "rb") as handle:
        checksum = subprocess.run(["cksum"], stdin=handle, capture_output=True, text=True, check=True).stdout
    stamp = "export %s %s" % (" ".join(PROJECT_ENVIRONMENT.requirements), checksum)
    (venv / (".ck-installed-" + re.sub(r"[^A-Za-z0-9._=-]", "_", stamp))).touch()
    return venv

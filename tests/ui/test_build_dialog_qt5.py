"""The dialog tests again under PySide2 (Nuke 13-15's binding), in its own interpreter.

PySide2 and PySide6 must not share one Python, and PySide2 5.15 has no wheels past Python 3.10, so tools/test.sh
builds a separate environment and passes its interpreter as CK_QT5_PYTHON.
"""
import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.ui  # a Qt binding's tier, though the binding is another interpreter's
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


@pytest.mark.timeout(900)  # the whole dialog suite, in one test
@pytest.mark.skipif(not os.environ.get("CK_QT5_PYTHON"),
                    reason="CK_QT5_PYTHON is unset: no PySide2 interpreter to run the dialogs under "
                           "(tools/test.sh sets it up)")
def test_dialogs_under_pyside2():
    python = os.environ["CK_QT5_PYTHON"]
    assert os.path.isfile(python), "CK_QT5_PYTHON=%s does not exist" % python
    env = dict(os.environ, CORRIDORKEY_QT_API="pyside2", QT_QPA_PLATFORM="offscreen")
    env.pop("PYTHONPATH", None)
    check = subprocess.run([python, "-c", "import PySide2.QtCore as c; print(c.__version__)"],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True, env=env)
    assert check.returncode == 0, "PySide2 does not import in %s:\n%s" % (python, check.stdout)
    run = subprocess.run([python, "-m", "pytest", os.path.join(HERE, "test_build_dialog.py"), "-q", "-p",
                          "no:cacheprovider"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, universal_newlines=True, timeout=600)
    assert run.returncode == 0, run.stdout[-6000:]
    assert " passed" in run.stdout, run.stdout[-3000:]
    assert sys.executable != python

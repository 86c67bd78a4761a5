"""The test tiers, assigned in one place so that a new test lands in the right one without a marker of its own.

  fast    no torch, no Qt: the Nuke side (contract, core, runner, host and ui against the strict fake), the docs,
          the tools' scripts; real exports are replaced by the stand-in exporter and the shipped self-test model.
          Runs on Nuke 14's Python 3.9 too (tools/test.sh).
  export  the export environment (torch, timm, numpy): the exporter's own tests and the few real exports, each
          proving what the stand-in cannot.
  ui      a Qt binding: the dialogs (PySide6 here, PySide2 in its own interpreter).
The compatibility lanes (every Nuke's torch) are tools/compat.sh, outside pytest.

A test's tier, first match wins: its own tier marker (for needs nothing below can see, such as an import inside
the test); a file under tests/exporter/; a fixture that needs the export environment (EXPORT_FIXTURES); what its
module imports at the top (torch & co. or the exporter: export; Qt or nuke_plugin.ui.qt_compat: ui); else fast.
A tier whose packages are missing is skipped with the reason, and a module that cannot even be imported without
them is skipped at collection instead of failing it.
"""
from __future__ import annotations

import importlib
import inspect
import os
from typing import Any, Dict, Optional, Tuple

import pytest

TIERS = {
    "fast": "no torch and no Qt: the Nuke side against the strict fake, the stand-in exporter, the docs",
    "export": "needs the export environment (torch, timm, numpy): the exporter and its real exports",
    "ui": "needs a Qt binding (PySide6, or PySide2 through CK_QT5_PYTHON): the dialogs",
}
EXPORT_PACKAGES = ("torch", "timm", "torchvision", "numpy", "cv2", "PIL")
QT_PACKAGES = ("PySide2", "PySide6", "shiboken2", "shiboken6")
# Fixtures that run the exporter's code (a random checkpoint, a real export, a scripted model).
EXPORT_FIXTURES = frozenset({"small_checkpoint", "exported_model", "tiny_model"})
EXPORT_FOLDERS = (("tests", "exporter"),)


def _tier_of_package(name: str) -> Optional[str]:
    root = name.split(".")[0]
    if root in EXPORT_PACKAGES or root == "exporter":
        return "export"
    if root in QT_PACKAGES or name == "nuke_plugin.ui.qt_compat":
        return "ui"
    return None


def _module_tier(module: Any) -> Optional[str]:
    """The tier a test module's top-level imports put it in (None: they need nothing beyond the fast tier's)."""
    found = set()
    for value in vars(module).values():
        name = value.__name__ if inspect.ismodule(value) else getattr(value, "__module__", None)
        if isinstance(name, str):
            tier = _tier_of_package(name)
            if tier:
                found.add(tier)
    return "export" if "export" in found else ("ui" if "ui" in found else None)


def tier_of(item: pytest.Item, cache: Dict[Any, Optional[str]]) -> str:
    for marker in item.iter_markers():
        if marker.name in TIERS:
            return marker.name
    try:
        parts = item.path.relative_to(item.config.rootpath).parts
    except ValueError:
        parts = ()
    if any(parts[:len(folder)] == folder for folder in EXPORT_FOLDERS):
        return "export"
    if EXPORT_FIXTURES.intersection(getattr(item, "fixturenames", ())):
        return "export"
    module = getattr(item, "module", None)
    if module is not None:
        if module not in cache:
            cache[module] = _module_tier(module)
        if cache[module]:
            return str(cache[module])
    return "fast"


def _missing(tier: str, found: Dict[str, Optional[str]]) -> Optional[str]:
    """Why `tier` cannot run in this Python, or None."""
    if tier not in found:
        found[tier] = None
        needed: Tuple[str, ...] = ("torch", "timm", "numpy") if tier == "export" else ()
        for package in needed:
            try:
                importlib.import_module(package)
            except ImportError:
                found[tier] = "%s tier: %s is not installed in this Python (bash tools/test.sh sets it up)" % (
                    tier, package)
                break
        if tier == "ui":
            try:
                importlib.import_module("nuke_plugin.ui.qt_compat")
            except ImportError as exc:
                found[tier] = "ui tier: no Qt binding in this Python (%s)" % exc
    return found[tier]


def _what_is_missing(error: BaseException) -> Optional[Tuple[str, str]]:
    """(tier, package) when `error` is an import that failed for want of a tier's package, else None."""
    if isinstance(error, ModuleNotFoundError) and error.name:
        tier = _tier_of_package(error.name)
        return (tier, error.name) if tier else None
    if isinstance(error, ImportError):  # qt_compat's own sentence when neither binding imports
        trace = error.__traceback__
        while trace is not None:
            if trace.tb_frame.f_code.co_filename.endswith(os.path.join("ui", "qt_compat.py")):
                return "ui", "a Qt binding (PySide6 or PySide2)"
            trace = trace.tb_next
    return None


class TierModule(pytest.Module):
    """A test module that, when it cannot be imported for want of a tier's package, is skipped with the reason."""

    def _getobj(self) -> Any:
        try:
            return super()._getobj()
        except self.CollectError as error:
            missing = _what_is_missing(error.__cause__) if error.__cause__ else None
            if missing is None:
                raise
            raise pytest.skip.Exception("%s tier: %s is not installed in this Python, and %s imports it"
                                        % (missing[0], missing[1], self.path.name), allow_module_level=True)


def pytest_configure(config: pytest.Config) -> None:
    for name, text in TIERS.items():
        config.addinivalue_line("markers", "%s: the %s tier, %s" % (name, name, text))


def pytest_pycollect_makemodule(module_path: Any, parent: Any) -> Any:
    return TierModule.from_parent(parent, path=module_path)


@pytest.hookimpl(tryfirst=True)  # before -m selects by these markers
def pytest_collection_modifyitems(config: pytest.Config, items: Any) -> None:
    modules: Dict[Any, Optional[str]] = {}
    found: Dict[str, Optional[str]] = {}
    for item in items:
        tier = tier_of(item, modules)
        item.add_marker(getattr(pytest.mark, tier))
        reason = _missing(tier, found)
        if reason:
            item.add_marker(pytest.mark.skip(reason=reason))

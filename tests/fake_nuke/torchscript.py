"""What the fake CatFileCreator learns from a TorchScript file without torch: the top-level module's attributes.

A TorchScript file is a zip archive. `<folder>/data.pkl` pickles the module objects, the top-level one first,
each of class `__torch__.<module path>.<Class>`; `<folder>/code/__torch__/<module path>.py` holds every class's
serialised source, where each attribute is declared with its TorchScript type (`gamma_input : int`) and each
constant with its value (`resolution : Final[int] = 64`). Reading those declarations needs no torch, so the
Nuke side's tests run where torch is not installed (the fast tier); where torch is, the fake loads the file with
it as well, and tests/test_fake_nuke.py checks that this reader and torch.jit.load see the same attributes.
"""
from __future__ import annotations

import pickletools
import re
import zipfile
from dataclasses import dataclass
from typing import Dict, List, Tuple

_ATTRIBUTE = re.compile(r"^  ([A-Za-z_]\w*) : (.+?)(?: = .*)?$")
_METHOD = re.compile(r"^  def ([A-Za-z_]\w*)\(")
_FINAL = re.compile(r"^Final\[(.+)\]$")


class NotTorchScript(ValueError):
    """The file is not a TorchScript archive this reader understands."""


@dataclass(frozen=True)
class ScriptedModule:
    class_name: str                # e.g. __torch__.exporter.scripted.nuke_module.CorridorKeyNuke
    attributes: Dict[str, str]     # settable attributes: name -> TorchScript type ("float", "int", "Tensor", ...)
    constants: Dict[str, str]      # Final attributes (fixed when scripted): name -> type
    methods: Tuple[str, ...]


def _folder(names: List[str]) -> str:
    for name in names:
        if name.count("/") == 1 and name.endswith("/data.pkl"):
            return name[: -len("data.pkl")]
    raise NotTorchScript("no data.pkl in the archive")


def _root_class(pickled: bytes) -> str:
    """The class of the first object in data.pkl (the top-level module), as `__torch__.<path>.<Class>`."""
    strings: List[str] = []
    try:
        for opcode, argument, _ in pickletools.genops(pickled):
            if opcode.name == "GLOBAL":
                module, _, name = str(argument).partition(" ")
                return "%s.%s" % (module, name)
            if opcode.name == "STACK_GLOBAL" and len(strings) >= 2:
                return "%s.%s" % (strings[-2], strings[-1])
            if isinstance(argument, str):
                strings.append(argument)
    except ValueError as exc:  # pickletools' word for a damaged stream
        raise NotTorchScript("data.pkl is damaged: %s" % exc)
    raise NotTorchScript("data.pkl names no class")


def _class_lines(source: str, name: str) -> List[str]:
    lines = source.splitlines()
    for index, line in enumerate(lines):
        if re.match(r"^class %s\(" % re.escape(name), line):
            body = []
            for member in lines[index + 1:]:
                if member and not member.startswith(" "):
                    break
                body.append(member)
            return body
    raise NotTorchScript("the archive's code has no class %s" % name)


def read_module(path: str) -> ScriptedModule:
    """The top-level module's attributes, constants and methods; raises NotTorchScript for anything else."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
            folder = _folder(names)
            class_name = _root_class(archive.read(folder + "data.pkl"))
            module, _, short = class_name.rpartition(".")
            if not module.startswith("__torch__"):
                raise NotTorchScript("the top-level object is a %s, not a scripted module" % class_name)
            code = folder + "code/" + module.replace(".", "/") + ".py"
            if code not in names:
                raise NotTorchScript("the archive has no %s" % code[len(folder):])
            source = archive.read(code).decode("utf-8")
    except (OSError, zipfile.BadZipFile, UnicodeDecodeError) as exc:
        raise NotTorchScript(str(exc) or type(exc).__name__)
    attributes: Dict[str, str] = {}
    constants: Dict[str, str] = {}
    methods: List[str] = []
    for line in _class_lines(source, short):
        method = _METHOD.match(line)
        if method:
            methods.append(method.group(1))
            continue
        declared = _ATTRIBUTE.match(line)
        if declared:
            name, kind = declared.groups()
            final = _FINAL.match(kind)
            if final:
                constants[name] = final.group(1)
            else:
                attributes[name] = kind
    return ScriptedModule(class_name, attributes, constants, tuple(methods))

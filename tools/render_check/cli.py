"""`python -m tools.render_check`: the render check command (see the package docstring)."""
from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any, Dict, List, Optional

import numpy as np

from nuke_plugin.contract import NATIVE_RESOLUTION, PT_NAME, manifest_schema
from nuke_plugin.contract.files import read_json
from nuke_plugin.contract.knob_spec import BOOL, DESPILL_STRENGTH, ENUM, GAMMA_INPUT, KNOBS, KNOBS_BY_NAME
from nuke_plugin.core.gizmo import OUTPUT_OVER_CHECKERBOARD, node_knob
from nuke_plugin.core.manifest import MANIFEST_SIZE_LIMIT

from ..inference_host import HostBuildError, HostError, HostUnavailable, build_host, run_host
from .gizmo_maths import (
    clean_up_knobs,
    despill,
    gizmo_output,
    linear_to_srgb,
    model_hint,
    network_knobs,
    preview,
    srgb_to_linear,
)
from .hint_figures import figures
from .plate import synthetic_plate
from .sheet import contact_sheet, save_png, to_display

REPO_ROOT = Path(__file__).resolve().parents[2]
RANDOM_RESOLUTION = 256


class CheckError(Exception):
    """A failure the user can fix; the message says how."""


def _parse_size(text: str):
    try:
        width, height = (int(part) for part in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError("size must be WIDTHxHEIGHT, e.g. 480x270")
    if width < 1 or height < 1:
        raise argparse.ArgumentTypeError("size must be positive")
    return width, height


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m tools.render_check",
        description="Synthetic green-screen plate -> exported model in the C++ Inference-node stand-in -> the "
                    "gizmo's Colorspace (sRGB -> linear) and Premult -> PNG contact sheet.")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--pt", type=Path, help="an exported .pt (its manifest, the same name with .json, is read "
                                                "for the notes if present)")
    source.add_argument("--checkpoint", type=Path, help="export this checkpoint first (python -m exporter)")
    source.add_argument("--random-weights", action="store_true",
                        help="export a random-weight model first: no checkpoint needed, the matte is meaningless "
                             "but every size and colour step is real")
    parser.add_argument("--resolution", type=int, default=None,
                        help="model resolution for --checkpoint (default %d) or --random-weights (default %d)"
                             % (NATIVE_RESOLUTION, RANDOM_RESOLUTION))
    parser.add_argument("--keep-export", type=Path, default=None,
                        help="folder to keep the export made by --checkpoint/--random-weights (default: discarded)")
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "build" / "render_check.png", help="PNG to write")
    parser.add_argument("--size", type=_parse_size, default=(480, 270), help="plate size WIDTHxHEIGHT (480x270)")
    parser.add_argument("--set", action="append", default=[], metavar="KNOB=VALUE",
                        help="override a knob's default: the gizmo's own defaults (Input Gamma Linear, so the plate "
                             "enters linear; gamma_input=0 feeds it sRGB-encoded)")
    parser.add_argument("--hint", choices=("builtin", "plate"), default="builtin",
                        help="builtin: the gizmo with only its Plate connected makes its own hint (default); plate: "
                             "the plate's eroded true matte on the Hint input")
    parser.add_argument("--device", default="cpu", help="cpu or cuda")
    parser.add_argument("--half", action="store_true", help="half precision, like 'Optimize for Speed and Memory'")
    parser.add_argument("--seed", type=int, default=0, help="noise seed of the plate")
    return parser


def gizmo_defaults() -> Dict[str, object]:
    """The model knobs as a freshly created gizmo sets them (its own defaults where they differ from the .cat's)."""
    return {knob.name: node_knob(knob).default for knob in KNOBS}


def _knobs(overrides: List[str]) -> Dict[str, object]:
    knobs = gizmo_defaults()
    for item in overrides:
        name, _, value = item.partition("=")
        spec = KNOBS_BY_NAME.get(name)
        if spec is None or not value:
            raise CheckError("--set %s: expected KNOB=VALUE with KNOB one of %s" % (item, ", ".join(KNOBS_BY_NAME)))
        try:
            knobs[name] = float(value) if spec.torch_type == "float" else int(value)
        except ValueError:
            raise CheckError("--set %s: %s is a %s knob" % (item, name, spec.torch_type))
    return knobs


def _export(checkpoint: Optional[Path], resolution: int, folder: Path) -> Path:
    """Runs the exporter CLI into `folder` (with a random checkpoint when none is given); returns the .pt."""
    folder.mkdir(parents=True, exist_ok=True)
    if checkpoint is None:
        sys.path.insert(0, str(REPO_ROOT))
        from exporter.demo_checkpoint import make_random_checkpoint

        checkpoint = make_random_checkpoint(folder / "random-weights.pth", resolution)
    elif not checkpoint.is_file():
        raise CheckError("checkpoint not found: %s" % checkpoint)
    pt = folder / PT_NAME
    print("[render_check] exporting %s at resolution %d ..." % (checkpoint, resolution), flush=True)
    result = subprocess.run([sys.executable, "-m", "exporter", "--checkpoint", str(checkpoint), "--output", str(pt),
                             "--resolution", str(resolution), "--progress", "quiet"], cwd=str(REPO_ROOT))
    if result.returncode != 0:
        raise CheckError("the export failed (exit %d); see its message above" % result.returncode)
    return pt


def model_notes(pt: Path) -> List[str]:
    """The sheet's lines about the model, from the manifest that belongs to this .pt (CorridorKey512.pt ->
    CorridorKey512.json), never from another build's manifest that happens to lie in the same folder."""
    path = Path(manifest_schema.path_for(str(pt)))
    try:
        manifest = read_json(str(path), MANIFEST_SIZE_LIMIT)
        if not isinstance(manifest, dict):
            raise ValueError("not a manifest")
    except FileNotFoundError:
        return ["model: %s" % pt.name, "no manifest (%s not found)" % path.name]
    except (OSError, ValueError) as error:
        return ["model: %s" % pt.name, "no manifest (%s unreadable: %s)" % (path.name, error)]
    return ["model: %s (manifest %s)" % (pt.name, path.name),
            "resolution %s, checkpoint %s" % (manifest.get("resolution", "?"), manifest.get("checkpoint_name", "?")),
            "exported with torch %s" % manifest.get("torch_version", "?")]


def knob_notes(knobs: Dict[str, Any]) -> List[str]:
    """One line per knob as the artist sees it: its label and value text (Input Gamma = sRGB, not 0)."""
    lines = []
    for name, value in knobs.items():
        spec = KNOBS_BY_NAME[name]
        if spec.kind == ENUM:
            text = spec.items[int(value)]
        elif spec.kind == BOOL:
            text = "on" if value else "off"
        else:
            text = "%g" % value
        lines.append("%s = %s" % (spec.label, text))
    return lines


def render(pt: Path, out: Path, size, knobs: Dict[str, object], device: str, half: bool, seed: int,
           hint_source: str = "builtin") -> dict:
    """Runs the whole check and writes the sheet; returns figures for the summary."""
    width, height = size
    plate = synthetic_plate(height, width, seed)
    linear = knobs[GAMMA_INPUT.name] == GAMMA_INPUT.items.index("Linear")
    plate_in = plate.linear if linear else plate.rgb  # the plate as it enters the node
    hint = model_hint(plate_in, None if hint_source == "builtin" else plate.hint)
    host = build_host()
    # As the gizmo runs it: the network's Inference node with the model's despill and despeckle off, the CleanUp
    # node (the same file, Clean-up Only) on its result, then the Despill node.
    result = run_host(host, pt, plate.model_input(linear, hint), network_knobs(knobs), device=device, half=half)
    output = result.output
    if output.shape != (1, 4, height, width):
        raise CheckError("the model returned shape %s for a %dx%d plate" % (output.shape, width, height))
    if not np.isfinite(output).all():
        raise CheckError("the model returned non-finite pixels")
    output = run_host(host, pt, output, clean_up_knobs(knobs), device=device, half=half).output
    output = despill(output, float(knobs[DESPILL_STRENGTH.name]))

    _, alpha = gizmo_output(output)
    # The gizmo's Output "Over checkerboard (preview)", shown as a viewer would (sRGB).
    comp = linear_to_srgb(preview_over_checkerboard(output)[..., :3])
    # The same gizmo maths on the plate's true foreground and matte: what a trained model should approach,
    # and a check of the colour handling on its own (the subject must look as it does in the plate).
    ideal = linear_to_srgb(preview_over_checkerboard(plate.ideal_output())[..., :3])
    fg_straight = np.transpose(output[0, 0:3], (1, 2, 0))
    hint_figures = figures(hint, plate.alpha, 0)

    notes = model_notes(pt) + [
        "host: libtorch %s, %s%s" % (result.report["libtorch"], result.report["device"], " half" if half else ""),
        "forward %.2f s, peak RSS %.0f MB" % (result.report["forward_s_median"], result.report["peak_rss_mb"]),
        "plate %dx%d, output %s" % (width, height, "x".join(str(s) for s in output.shape)),
    ] + knob_notes(knobs) + [
        "hint: %s, precision %.3f, covers %.3f of the solid matte"
        % ("built-in (no Hint input)" if hint_source == "builtin" else "the plate's eroded matte",
           hint_figures["precision"], hint_figures["coverage"]),
        "alpha min %.3f max %.3f mean %.3f" % (alpha.min(), alpha.max(), alpha.mean()),
        "gizmo: CleanUp (Clean-up Only), Despill (Expression), Colorspace sRGB->linear, Premult; comp: Output "
        "Over checkerboard",
    ]
    panels = [
        ("plate (sRGB, synthetic)", to_display(plate.rgb)),
        ("hint (%s, alpha in)" % ("built-in" if hint_source == "builtin" else "eroded matte"), to_display(hint)),
        ("alpha (model)", to_display(alpha)),
        ("foreground (straight sRGB)", to_display(fg_straight)),
        ("comp over checkerboard", to_display(comp)),
        ("reference: true matte, same maths", to_display(ideal)),
    ]
    sheet = contact_sheet(panels, columns=4, notes=notes)
    save_png(sheet, out)
    return {"png": str(out), "sheet_size": list(sheet.size), "forward_s": result.report["forward_s_median"],
            "alpha_mean": float(alpha.mean()), "alpha_error_vs_true_matte": float(np.abs(alpha - plate.alpha).mean()),
            "hint": hint_source, "hint_precision": hint_figures["precision"]}


def preview_over_checkerboard(model_output: np.ndarray) -> np.ndarray:
    """The gizmo's Output "Over checkerboard (preview)" for a model output [1, 4, H, W]: linear [H, W, 4]."""
    fg_srgb = np.transpose(model_output[0, 0:3], (1, 2, 0))
    return preview(srgb_to_linear(fg_srgb), model_output[0, 3], OUTPUT_OVER_CHECKERBOARD)


def main(argv=None) -> int:
    args = _parser().parse_args(argv)
    temp = None
    try:
        knobs = _knobs(args.set)
        if args.pt is not None:
            if not args.pt.is_file():
                raise CheckError("model not found: %s (export one with bash tools/export.sh, or use "
                                 "--random-weights)" % args.pt)
            pt = args.pt
        else:
            folder = args.keep_export
            if folder is None:
                temp = Path(tempfile.mkdtemp(prefix="ck-render-check-"))
                folder = temp
            default_resolution = RANDOM_RESOLUTION if args.random_weights else NATIVE_RESOLUTION
            pt = _export(None if args.random_weights else args.checkpoint, args.resolution or default_resolution,
                         folder)
        summary = render(pt, args.out, args.size, knobs, args.device, args.half, args.seed, args.hint)
    except (CheckError, HostUnavailable) as error:
        sys.stderr.write("error: %s\n" % error)
        return 2
    except (HostError, HostBuildError) as error:
        sys.stderr.write("error: %s\n" % error)
        return 1
    finally:
        if temp is not None:
            shutil.rmtree(str(temp), ignore_errors=True)
    print("[render_check] wrote %s (%dx%d)" % (summary["png"], summary["sheet_size"][0], summary["sheet_size"][1]))
    print(json.dumps(summary))
    return 0

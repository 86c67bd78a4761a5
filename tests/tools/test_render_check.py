"""The render check: its plate, the gizmo's colour maths in numpy, and the command end to end."""
from __future__ import annotations

import json
import os
import stat

import numpy as np
import pytest
import torch
from PIL import Image

from exporter.scripted.colour import linear_to_srgb as torch_linear_to_srgb
from exporter.scripted.colour import srgb_to_linear as torch_srgb_to_linear
from nuke_plugin.contract.knob_spec import defaults
from tests.cpp_host import host_binary
from tools.render_check import cli
from tools.render_check.gizmo_maths import gizmo_output, linear_to_srgb, over, premultiply, srgb_to_linear
from tools.render_check.plate import box_blur, erode, synthetic_plate
from tools.render_check.sheet import GAP, LABEL_HEIGHT, save_png, to_display


def test_srgb_curves_are_the_exact_piecewise_ones():
    # IEC 61966-2-1 reference points: the linear toe, the knee, mid grey and white.
    assert srgb_to_linear(np.float32(0.04045)) == pytest.approx(0.04045 / 12.92, rel=1e-6)
    assert srgb_to_linear(np.float32(0.5)) == pytest.approx(0.21404114, rel=1e-5)
    assert srgb_to_linear(np.float32(1.0)) == pytest.approx(1.0, rel=1e-6)
    assert linear_to_srgb(np.float32(0.18)) == pytest.approx(0.46135613, rel=1e-5)
    assert srgb_to_linear(np.float32(-0.2)) == 0.0
    values = np.linspace(0.0, 1.0, 1001, dtype=np.float32)
    assert np.abs(linear_to_srgb(srgb_to_linear(values)) - values).max() < 1e-5


def test_numpy_curves_match_the_exporters_torch_curves():
    values = np.linspace(-0.5, 2.0, 2001, dtype=np.float32)
    assert np.abs(srgb_to_linear(values) - torch_srgb_to_linear(torch.from_numpy(values)).numpy()).max() < 1e-6
    assert np.abs(linear_to_srgb(values) - torch_linear_to_srgb(torch.from_numpy(values)).numpy()).max() < 1e-6


def test_premultiply_and_over():
    rgb = np.array([[[0.5, 0.2, 1.0]]], np.float32)
    alpha = np.array([[0.25]], np.float32)
    assert np.allclose(premultiply(rgb, alpha), [[[0.125, 0.05, 0.25]]])
    background = np.ones((1, 1, 3), np.float32)
    assert np.allclose(over(premultiply(rgb, alpha), alpha, background), [[[0.875, 0.8, 1.0]]])


def test_gizmo_maths_on_the_true_matte_rebuild_the_plate():
    """Colorspace sRGB->linear then Premult of a perfect key, merged over the screen, is the plate itself."""
    plate = synthetic_plate(90, 160, seed=3)
    premultiplied, alpha = gizmo_output(plate.ideal_output())
    rebuilt = linear_to_srgb(over(premultiplied, alpha, plate.screen))
    assert np.abs(rebuilt - plate.rgb).max() < 1e-3
    # A 2.2 gamma instead of the piecewise curve would not rebuild it.
    wrong = linear_to_srgb(over(np.transpose(plate.ideal_output()[0, :3], (1, 2, 0)) ** 2.2 * alpha[..., None],
                                alpha, plate.screen))
    assert np.abs(wrong - plate.rgb).max() > 1e-2


def test_plate_has_soft_motion_blurred_edges_and_an_eroded_hint():
    plate = synthetic_plate(135, 240)
    assert plate.rgb.shape == (135, 240, 3) and plate.hint.shape == (135, 240)
    assert plate.rgb.min() >= 0.0 and plate.rgb.max() <= 1.0
    soft = (plate.alpha > 0.05) & (plate.alpha < 0.95)
    assert soft.mean() > 0.02  # soft edges, strands and the veil
    # Motion blur is horizontal: the matte changes more slowly along x than along y.
    assert np.abs(np.diff(plate.alpha, axis=1)).max() < np.abs(np.diff(plate.alpha, axis=0)).max()
    # The hint sits inside the subject and covers less of it: eroded, as upstream asks of a hint.
    assert (plate.alpha[plate.hint > 0.5] > 0.5).all()
    assert (plate.hint > 0.5).sum() < 0.9 * (plate.alpha > 0.5).sum()
    # The screen is green.
    corner = plate.rgb[:10, -10:].reshape(-1, 3).mean(axis=0)
    assert corner[1] > 2 * corner[0] and corner[1] > 2 * corner[2]


def test_box_blur_and_erode():
    row = np.zeros((1, 9), np.float32)
    row[0, 4] = 9.0
    assert np.allclose(box_blur(row, 1, axis=1), [[0, 0, 0, 3, 3, 3, 0, 0, 0]])
    mask = np.zeros((9, 9), np.float32)
    mask[2:7, 2:7] = 1.0
    eroded = erode(mask, 1)
    assert eroded.sum() == 9 and eroded[3:6, 3:6].all()


def test_command_writes_the_contact_sheet(exported_model, tmp_path, capsys):
    host_binary()  # skips with the reason when the host cannot be built here
    out = tmp_path / "sheets" / "sheet.png"
    assert cli.main(["--pt", str(exported_model.pt), "--out", str(out), "--size", "96x54"]) == 0
    image = np.asarray(Image.open(out).convert("RGB"))
    columns, rows = 4, 2
    assert image.shape == (rows * (LABEL_HEIGHT + 54) + (rows + 1) * GAP, columns * 96 + (columns + 1) * GAP, 3)
    # The first panel is the plate, pixel for pixel.
    top, left = GAP + LABEL_HEIGHT, GAP
    assert np.array_equal(image[top:top + 54, left:left + 96], to_display(synthetic_plate(54, 96).rgb))
    # The comp panel (second row, first column) shows the checkerboard or the key, not a flat colour.
    comp = image[2 * GAP + 2 * LABEL_HEIGHT + 54:2 * GAP + 2 * LABEL_HEIGHT + 108, GAP:GAP + 96]
    assert comp.std() > 5
    assert "wrote" in capsys.readouterr().out
    assert [p.name for p in out.parent.iterdir()] == ["sheet.png"]  # no temporary left behind


def test_command_refuses_a_missing_model_and_bad_knobs(exported_model, tmp_path, capsys):
    out = tmp_path / "sheet.png"
    assert cli.main(["--pt", str(tmp_path / "none.pt"), "--out", str(out)]) == 2
    assert "model not found" in capsys.readouterr().err
    assert cli.main(["--pt", str(exported_model.pt), "--out", str(out), "--set", "despil=1"]) == 2
    assert "despill_strength" in capsys.readouterr().err
    assert cli.main(["--pt", str(exported_model.pt), "--out", str(out), "--set", "gamma_input=Linear"]) == 2
    assert cli.main(["--checkpoint", str(tmp_path / "none.pth"), "--out", str(out)]) == 2
    assert "checkpoint not found" in capsys.readouterr().err
    assert not out.exists()


def test_notes_read_the_manifest_of_this_pt_and_never_another_builds(tmp_path):
    (tmp_path / "CorridorKey.json").write_text(json.dumps({"resolution": 2048, "torch_version": "2.14.1"}))
    small = tmp_path / "CorridorKey512.pt"
    small.write_bytes(b"pt")
    notes = cli.model_notes(small)
    assert "no manifest (CorridorKey512.json not found)" in notes and not any("2048" in n for n in notes)
    (tmp_path / "CorridorKey512.json").write_text(json.dumps({"resolution": 512, "checkpoint_name": "ck.pth",
                                                              "torch_version": "2.7.1"}))
    notes = cli.model_notes(small)
    assert "resolution 512, checkpoint ck.pth" in notes and "exported with torch 2.7.1" in notes


def test_notes_show_knobs_by_label_and_value_text():
    notes = cli.knob_notes(defaults())
    assert "Input Gamma = sRGB" in notes and "Auto Despeckle = on" in notes and "Despill Strength = 0" in notes
    assert not any("gamma_input" in n for n in notes)


def test_the_sheet_is_written_with_the_users_normal_file_mode(tmp_path):
    out = tmp_path / "sheet.png"
    save_png(Image.new("RGB", (4, 4)), out)
    (tmp_path / "plain").write_bytes(b"")  # what open() gives a new file under this umask
    assert stat.S_IMODE(os.stat(out).st_mode) == stat.S_IMODE(os.stat(tmp_path / "plain").st_mode)
    os.remove(tmp_path / "plain")
    assert [p.name for p in tmp_path.iterdir()] == ["sheet.png"]

"""The generated CorridorKey.gizmo: valid, wired as the issue describes, and driven by the knob spec alone."""
import json
import os

import pytest

from nuke_plugin import contract
from nuke_plugin.contract import node_graph
from nuke_plugin.contract.knob_spec import (
    AUTO_DESPECKLE,
    BOOL,
    CLEAN_UP_ONLY,
    DESPECKLE_SIZE,
    DESPILL_STRENGTH,
    ENUM,
    FLOAT,
    INT,
    KNOBS,
    STAGE_KNOBS,
    KnobSpec,
)
from nuke_plugin.contract.node_graph import HINT_BACKING, HINT_ERODE, HINT_SOURCE, PREVIEW_COLOUR
from nuke_plugin.core.build_set import BuildSet, Slot
from nuke_plugin.core.cattery import cat_json_text
from nuke_plugin.core.gizmo import (
    HALF_PRECISION,
    HINT_CHANNEL,
    HINT_EXPRESSIONS,
    OUTPUT_HINT,
    OUTPUT_MODE,
    OUTPUT_OVER_CHECKERBOARD,
    OUTPUT_OVER_COLOUR,
    TOGGLES,
    USE_GPU,
    gizmo_knob_names,
    gizmo_text,
    hint_erode_expression,
    hint_key_knobs,
    hint_select_expression,
    node_knob,
    preview_background_expressions,
    quote,
)
from tests.gizmo_validator import parse_serialise_knob, tokenize, validate_gizmo

FIXTURES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "data", "gizmos")
# A studio folder's builds: one build ID, .cat files made in Nuke 14.0 and 16.0.
BUILDS = BuildSet(contract.MODEL_ID, 12345678, (Slot(14, "14.0v5", "2048 px, torch 1.12.1"),
                                                Slot(16, "16.0v2", "2048 px, torch 2.7.1")))


@pytest.fixture(scope="module")
def doc():
    return validate_gizmo(gizmo_text(BUILDS, info="CorridorKey at 2048 px"))


def _user(doc, name):
    return doc.knob(name)


def test_inputs_are_plate_and_hint(doc):
    assert doc.header_values["inputs"].text == "2"
    assert doc.input_named("Plate").knobs["number"].text == "0"
    assert doc.input_named("Hint").knobs["number"].text == "1"


PANEL_MODEL_KNOBS = tuple(k for k in KNOBS if k.name not in STAGE_KNOBS)


def test_clean_up_only_is_held_by_each_node_and_never_on_the_panel(doc):
    assert STAGE_KNOBS == (CLEAN_UP_ONLY.name,)
    assert CLEAN_UP_ONLY.name not in {k.name for k in doc.user_knobs}


@pytest.mark.parametrize("spec", PANEL_MODEL_KNOBS + (HINT_CHANNEL, OUTPUT_MODE, HINT_SOURCE, HINT_ERODE),
                         ids=lambda s: s.name)
def test_every_knob_carries_its_spec(doc, spec):
    spec = node_knob(spec)
    knob = _user(doc, spec.name)
    assert (knob.label, knob.tooltip) == (spec.label, spec.tooltip)
    value = doc.header_values[spec.name].text
    if spec.kind == FLOAT:
        assert knob.type == 7
        assert knob.range == (spec.low, spec.high)
        assert float(value) == spec.default
    elif spec.kind == INT:
        assert knob.type == 3
        assert knob.range is None  # no public gizmo writes `R lo hi` on an Int knob; the model clamps instead
        assert int(value) == spec.default
    elif spec.kind == BOOL:
        assert knob.type == 6
        assert value == ("true" if spec.default else "false")
    else:
        assert knob.type == 4
        assert knob.items == spec.items
        assert value == spec.items[spec.default]


def test_panel_order_and_toggles(doc):
    names = [k.name for k in doc.user_knobs if k.type not in (20, 26)]
    assert names == gizmo_knob_names()
    for toggle in TOGGLES:
        assert _user(doc, toggle.name).type == 6
        assert doc.header_values[toggle.name].text == ("true" if toggle.default else "false")
    assert doc.knob("model_info").text == "CorridorKey at 2048 px"


def test_an_info_tab_names_the_plugin_version_the_build_date_and_the_models_credit():
    doc = validate_gizmo(gizmo_text(BUILDS, info="CorridorKey at 2048 px", built="2025-03-04"))
    tabs = [k.name for k in doc.user_knobs if k.type == 20]
    assert tabs == [contract.MODEL_ID, "info_tab"]
    after = [k.name for k in doc.user_knobs[[k.name for k in doc.user_knobs].index("info_tab"):]]
    assert {"plugin_version", "build_date", "model_info", "credit"} <= set(after)
    assert doc.knob("plugin_version").text == "CorridorKey for Nuke %s" % contract.VERSION
    assert doc.knob("build_date").text == "2025-03-04"
    credit = doc.knob("credit").text
    assert "Corridor Digital" in credit and "Niko Pueringer" in credit and "CC BY-NC-SA 4.0" in credit


def test_hint_is_copied_into_the_fourth_channel_of_the_plate(doc):
    copy = doc.node("CopyHint")
    assert (copy.knobs["from0"].text, copy.knobs["to0"].text) == ("rgba.alpha", "rgba.alpha")
    plate, select = copy.inputs
    assert plate.name == "Plate" and select.name == node_graph.HINT_SELECT_NODE
    hint = select.inputs[node_graph.SELECT_INPUT]
    assert hint.name == "HintToAlpha" and hint.inputs[0].name == "Hint"
    expression = hint.knobs["expr3"].text
    for index, item in enumerate(HINT_CHANNEL.items):
        assert "parent.hint_channel == %d ? %s" % (index, HINT_EXPRESSIONS[item]) in expression or \
            index == len(HINT_CHANNEL.items) - 1 and HINT_EXPRESSIONS[item] in expression


def test_without_a_hint_input_a_built_in_hint_is_keyed_from_the_plate_and_eroded(doc):
    """Plate -> HintCrop -> HintKey (Expression) -> HintErode (Dilate) -> HintSelect, whose `which` tests the Hint
    input as public gizmos do (`[exists parent.input1]`); the knob text is the writer's, which the numpy replica
    (tools/render_check/gizmo_maths.py) evaluates."""
    select = doc.node(node_graph.HINT_SELECT_NODE)
    assert select.cls == "Switch" and select.knobs["which"].expression == hint_select_expression()
    assert "[exists parent.input1]" in hint_select_expression()
    assert '  which {{"parent.hint_source == 0 ? \\[exists parent.input1] :' in gizmo_text(BUILDS)  # `[` escaped
    erode = select.inputs[node_graph.SELECT_BUILTIN]
    assert (erode.cls, erode.name) == ("Dilate", node_graph.HINT_ERODE_NODE)
    assert erode.knobs["size"].expression == hint_erode_expression() == "-parent.%s" % HINT_ERODE.name
    assert erode.knobs["channels"].text == "alpha"
    key = erode.inputs[0]
    assert (key.cls, key.name) == ("Expression", node_graph.HINT_KEY_NODE)
    assert {k: v.text for k, v in key.knobs.items() if k not in ("name", "xpos", "ypos")} == hint_key_knobs()
    crop = key.inputs[0]
    assert crop.name == node_graph.HINT_CROP_NODE and crop.inputs[0].name == "Plate"
    assert crop.knobs["box"].text == doc.node("CropToFormat").knobs["box"].text
    # the knobs: a source, the backing colour (a Color_Knob with its default) and the erode (an Int, no range)
    assert doc.knob(HINT_SOURCE.name).items == HINT_SOURCE.items
    assert doc.knob(HINT_BACKING.name).type == 18
    assert tuple(float(v) for v in doc.header_values[HINT_BACKING.name].text.split()) == HINT_BACKING.default
    assert doc.knob(HINT_ERODE.name).type == 3 and doc.knob(HINT_ERODE.name).range is None


def test_the_output_shows_the_hint_and_previews_over_a_checkerboard_or_a_colour(doc):
    switch = doc.node("OutputSelect")
    hint_view = switch.inputs[OUTPUT_HINT]
    assert hint_view.inputs[0].name == "CropToFormat"  # the model's input: the model does not run for this view
    assert all(hint_view.knobs["expr%d" % i].text == "a" for i in range(4))
    over = switch.inputs[OUTPUT_OVER_CHECKERBOARD]
    assert switch.inputs[OUTPUT_OVER_COLOUR] is over
    assert (over.cls, over.name, over.knobs["operation"].text) == ("Merge2", node_graph.PREVIEW_OVER_NODE, "over")
    background, premult = over.inputs  # Merge2: input 0 is B, input 1 is A
    assert background.name == node_graph.PREVIEW_BACKGROUND_NODE and premult.cls == "Premult"
    assert background.inputs[0].name == premult.inputs[0].name == "ToLinear"
    assert [background.knobs["expr%d" % i].text for i in range(3)] == preview_background_expressions()
    assert background.knobs["expr3"].text == "1"
    assert doc.knob(PREVIEW_COLOUR.name).type == 18


def test_the_plate_is_cropped_to_its_format_before_inference(doc):
    """As the public RIFE port does (tests/data/gizmos/RIFE.gizmo): overscan never reaches the model."""
    crop = doc.node("CropToFormat")
    assert crop.cls == "Crop" and crop.inputs[0].name == "CopyHint"
    assert [(w.kind, w.text) for w in crop.knobs["box"].words()] == [
        ("bare", "0"), ("bare", "0"), ("braced", "width"), ("braced", "height")]
    assert crop.knobs["crop"].text == "false"  # no black edge: the bounding box just ends at the format
    # only the pass-through Asserts stand between the crop and the model
    assert doc.node("BuildForThisNuke").inputs[0] is crop
    assert doc.node("Inference1").inputs[0].inputs[0].inputs[0] is crop
    rife = validate_gizmo(open(os.path.join(FIXTURES, "RIFE.gizmo"), encoding="utf-8").read()).node("Crop1")
    assert {k: v.text for k, v in crop.knobs.items() if k not in ("name", "xpos", "ypos")} == {
        k: v.text for k, v in rife.knobs.items() if k in ("box", "crop")}


def test_user_knob_names_are_unique():
    """Nuke renames a repeated name (`_1`), so a second knob of the same name would not be the one expressions
    read: the writer must never produce one (the validator accepts it, as Nuke loads it)."""
    doc = validate_gizmo(gizmo_text(BUILDS, info="x", built="y"))
    names = [k.name for k in doc.user_knobs if k.name]
    assert len(names) == len(set(names))


def test_inference_finds_the_cat_through_the_plugin_path_and_follows_the_gizmo_knobs(doc):
    inference = doc.node("Inference1")
    assert inference.inputs[0].name == "SameBuild"
    model_file = inference.knobs["modelFile"].text
    # this build's .cat for the running Nuke's major version, as RIFE picks RIFE_n$nuke_version_major.cat
    assert model_file == "[lsearch -inline [plugins -all CorridorKey_12345678_n$nuke_version_major.cat] *.cat]"
    assert "/" not in model_file and "\\" not in model_file
    # written as every public Cattery gizmo writes it: only the opening brackets escaped, the variable as it is
    line = '  modelFile "\\[lsearch -inline \\[plugins -all CorridorKey_12345678_n$nuke_version_major.cat] *.cat]"\n'
    assert line in gizmo_text(BUILDS)
    rife = open(os.path.join(FIXTURES, "RIFE.gizmo"), encoding="utf-8").read()
    assert '  modelFile "\\[lsearch -inline \\[plugins -all RIFE_n$nuke_version_major.cat] *.cat]"\n' in rife
    entries = parse_serialise_knob(inference.knobs["serialiseKnob"].text)
    # Despill (a native node) and despeckle (the CleanUp node) are applied after the network: the network holds
    # them off, so moving them never re-runs it. Every other model knob follows the gizmo's.
    held = {DESPILL_STRENGTH.name: "0", AUTO_DESPECKLE.name: "false", DESPECKLE_SIZE.name: "400",
            CLEAN_UP_ONLY.name: "false"}
    assert entries == {k.name: held.get(k.name, '{"parent.%s"}' % k.name) for k in KNOBS}
    assert inference.knobs["useGPUIfAvailable"].expression == "parent.%s" % USE_GPU.name
    assert inference.knobs["halfPrecision"].expression == "parent.%s" % HALF_PRECISION.name


def test_colour_chain_and_output_choice(doc):
    to_linear = doc.node("ToLinear")
    assert (to_linear.knobs["colorspace_in"].text, to_linear.knobs["colorspace_out"].text) == ("sRGB", "linear")
    despill = to_linear.inputs[0]
    assert despill.name == node_graph.DESPILL_NODE and despill.cls == "Expression"
    clean_up = despill.inputs[0]
    assert clean_up.name == node_graph.CLEAN_UP_NODE and clean_up.cls == "Inference"
    assert clean_up.inputs[0].name == node_graph.NETWORK_NODE
    assert clean_up.knobs["modelFile"].text == doc.node(node_graph.NETWORK_NODE).knobs["modelFile"].text
    entries = parse_serialise_knob(clean_up.knobs["serialiseKnob"].text)
    # The CleanUp node follows despeckle alone; it holds the knobs it does not read at the .cat's defaults.
    assert entries == {DESPILL_STRENGTH.name: "0", "gamma_input": "sRGB", "refiner_strength": "1",
                       "resample": "Lanczos", AUTO_DESPECKLE.name: '{"parent.auto_despeckle"}',
                       DESPECKLE_SIZE.name: '{"parent.despeckle_size"}', CLEAN_UP_ONLY.name: "true"}
    switch = doc.node("OutputSelect")
    assert switch.knobs["which"].expression == "parent.output_mode"
    assert len(switch.inputs) == len(OUTPUT_MODE.items)
    premult, straight, matte = switch.inputs[:3]
    assert OUTPUT_MODE.items[0].startswith("Premultiplied") and premult.cls == "Premult"
    assert premult.inputs[0] is to_linear
    assert OUTPUT_MODE.items[1].startswith("Straight") and straight is to_linear
    assert OUTPUT_MODE.items[2] == "Matte only" and matte.name == "MatteOnly" and matte.inputs[0] is to_linear
    assert all(matte.knobs["expr%d" % i].text == "a" for i in range(4))
    assert doc.output.inputs[0] is switch


def test_a_different_knob_spec_changes_the_gizmo_accordingly():
    knobs = (
        KnobSpec("strength", FLOAT, "Strength", "How strong", 0.5, -1.0, 2.0),
        KnobSpec("flavour", ENUM, "Flavour", "Which one", 2, items=("a b", "c", "d{e}")),
    )
    doc = validate_gizmo(gizmo_text(BuildSet("Other", 23456789, (Slot(15),)), knobs))
    assert doc.knob("strength").range == (-1.0, 2.0)
    assert doc.header_values["strength"].text == "0.5"
    assert doc.knob("flavour").items == ("a b", "c", "d{e}")
    assert doc.header_values["flavour"].text == "d{e}"
    inference = doc.node("Inference1")
    assert set(parse_serialise_knob(inference.knobs["serialiseKnob"].text)) == {"strength", "flavour"}
    assert "Other_23456789_n$nuke_version_major.cat" in inference.knobs["modelFile"].text
    assert "despill_strength" not in gizmo_text(BUILDS, knobs)
    with pytest.raises(KeyError):  # no Clean-up Only knob: no CleanUp node
        doc.node(node_graph.CLEAN_UP_NODE)


def test_a_build_from_before_clean_up_only_keeps_despeckle_on_its_network_node():
    """An installed build's manifest lists the knobs its model has: one made before Clean-up Only existed gets the
    one-node layout, where its network node applies Auto Despeckle itself."""
    older = tuple(k for k in KNOBS if k.name != CLEAN_UP_ONLY.name)
    doc = validate_gizmo(gizmo_text(BUILDS, older))
    with pytest.raises(KeyError):
        doc.node(node_graph.CLEAN_UP_NODE)
    assert doc.node(node_graph.DESPILL_NODE).inputs[0].name == node_graph.NETWORK_NODE
    entries = parse_serialise_knob(doc.node(node_graph.NETWORK_NODE).knobs["serialiseKnob"].text)
    assert entries == {k.name: "0" if k.name == DESPILL_STRENGTH.name else '{"parent.%s"}' % k.name for k in older}


@pytest.mark.parametrize("text", ['plain', 'with "quotes"', "brackets [x] and {y}", "dollar $HOME", "back\\slash",
                                  "two\nlines", "tab\tafter"])
def test_quote_reads_back_exactly(text):
    (command,) = tokenize("knob %s\n" % quote(text))
    assert command[1].text == text


# The categories with an icon of their own in Foundry's Cattery menu (nukescripts/cattery.py, Nuke 15: its ICONS
# map and aliases); `ICONS.get(category.lower(), ICONS['other'])` gives any other the generic one.
CATTERY_ICON_CATEGORIES = {"depth estimation", "optical flow", "upscaling", "denoising", "segmentation",
                           "stylisation", "stylization", "restoration", "motion estimation", "super resolution",
                           "other"}


def test_cat_json_is_cattery_metadata():
    data = json.loads(cat_json_text(15.1))
    assert data["minimum_nuke_version_required"] == 15.1
    assert data["cats"] == [{"filepath": contract.GIZMO_NAME, "name": contract.MODEL_ID, "icon": "CorridorKey.png"}]
    assert data["category"].lower() in CATTERY_ICON_CATEGORIES - {"other"}


def test_the_gizmo_loads_in_the_fake_with_spec_defaults(fake_nuke, tmp_path):
    folder = tmp_path / "plugins"
    folder.mkdir()
    (folder / contract.GIZMO_NAME).write_text(gizmo_text(BUILDS))
    fake_nuke.pluginAddPath(str(folder))
    node = fake_nuke.createNode(contract.MODEL_ID)
    for spec in map(node_knob, PANEL_MODEL_KNOBS):
        if spec.kind == ENUM:
            expected = spec.items[spec.default]
        else:
            expected = bool(spec.default) if spec.kind == BOOL else spec.default
        assert node[spec.name].value() == expected
        assert node[spec.name].label() == spec.label
    assert node.maxInputs() == 2
    # No .cat installed yet: the node loads but shows an error, as in Nuke (15.1 has no build here at all).
    assert node.hasError() and "no build for this Nuke's major version" in node.error_message()
    fake_nuke.fake_set_version(16, 0, 2)
    node.forceValidate()
    assert node.hasError() and "cannot find model file" in node.error_message()
    node["output_mode"].setValue("Matte only")
    assert node.node("OutputSelect")["which"].value() == 2.0
    assert node[HINT_BACKING.name].value() == HINT_BACKING.default
    assert node[HINT_SOURCE.name].value() == "Automatic" and node[HINT_ERODE.name].value() == HINT_ERODE.default
    assert node.node(node_graph.HINT_ERODE_NODE).Class() == "Dilate"
    node["useGPUIfAvailable"].setValue(False)
    assert node.node("Inference1")["useGPUIfAvailable"].value() is False


def test_generated_gizmo_matches_the_golden_file_byte_for_byte():
    from tests.golden.regenerate import GIZMO, golden_gizmo

    assert golden_gizmo() == GIZMO.read_bytes(), (
        "The generated CorridorKey.gizmo changed. If that was meant, run `python -m tests.golden.regenerate` and "
        "review `git diff tests/golden`.")


def test_the_asserts_check_the_nuke_major_the_release_and_the_keyed_build():
    """Each Assert is a number expression (public ports: `{{"\\$nuke_version > 14.1"}}`) with a message."""
    late = BuildSet(contract.MODEL_ID, 12345678, (Slot(14, "14.0v5"), Slot(15, "15.1v3")))
    text = gizmo_text(late)
    doc = validate_gizmo(text)
    chain = [doc.node(n) for n in ("CropToFormat", "BuildForThisNuke", "NukeNewEnough", "SameBuild", "Inference1")]
    assert all(node.inputs[0] is before for before, node in zip(chain, chain[1:]))
    expressions = {n: doc.node(n).knobs["expression"].expression for n in ("BuildForThisNuke", "NukeNewEnough",
                                                                           "SameBuild")}
    assert expressions == {
        "BuildForThisNuke": "$nuke_version_major == 14 || $nuke_version_major == 15",
        "NukeNewEnough": "($nuke_version_major != 15 || $nuke_version >= 15.1)",
        "SameBuild": "parent.keyed_build == 0 || parent.keyed_build == 12345678"}
    assert '  expression {{"\\$nuke_version_major == 14 || \\$nuke_version_major == 15"}}\n' in text
    assert "made in Nuke 15.1" in doc.node("NukeNewEnough").knobs["message"].text
    # a folder whose .cat files all load in their whole major version needs no release check
    assert "NukeNewEnough" not in gizmo_text(BUILDS)
    assert doc.header_values["installed_build"].text == "12345678" and doc.header_values["keyed_build"].text == "0"


@pytest.mark.parametrize("version, error", [
    ((14, 0, 5), None), ((16, 0, 2), None), ((15, 1, 3), "no build for this Nuke's major version"),
    ((17, 0, 1), "no build for this Nuke's major version"), ((13, 2, 8), "no build")])
def test_each_nuke_gets_its_own_majors_build_or_a_clear_error(fake_nuke, tmp_path, version, error):
    from tests.fake_nuke.catfile import write_fake_cat

    folder = tmp_path / "CorridorKey"
    folder.mkdir()
    (folder / contract.GIZMO_NAME).write_text(gizmo_text(BUILDS))
    for major in (14, 16):
        write_fake_cat(str(folder / ("CorridorKey_12345678_n%d.cat" % major)), "/models/n%d.pt" % major, KNOBS)
    fake_nuke.pluginAddPath(str(folder))
    fake_nuke.fake_set_version(*version)
    node = fake_nuke.createNode(contract.MODEL_ID)
    node.forceValidate()
    if error is None:
        assert not node.hasError(), node.error_message()
        assert node.node("Inference1").fake_cat["torchScriptFile"] == "/models/n%d.pt" % version[0]
    else:
        assert node.hasError() and node.error_message().startswith("BuildForThisNuke: ") and error in (
            node.error_message())
    node["keyed_build"].setValue(87654321)
    node.forceValidate()
    assert node.hasError()
    if error is None:
        assert node.error_message().startswith("SameBuild: CorridorKey: this node was keyed with another build")

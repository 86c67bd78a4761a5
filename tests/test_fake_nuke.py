"""The strict fake `nuke` rejects what a real Nuke rejects (otherwise the Nuke-side tests would prove nothing)."""
import os
import shutil
import sys
import threading

import pytest

from nuke_plugin.contract import selftest
from nuke_plugin.core.paths import plugin_root
from tests.fake_nuke import (
    NUKE_CHANNELS,
    CatFileError,
    FakeDialogUnanswered,
    FakeLimitation,
    read_fake_cat,
    torchscript,
)


def _creator(nuke, pt, cat, channels="rgba.red,rgba.green,rgba.blue,rgba.alpha"):
    node = nuke.nodes.CatFileCreator()
    node["torchScriptFile"].setValue(str(pt).replace(os.sep, "/"))
    node["catFile"].setValue(str(cat).replace(os.sep, "/"))
    node["channelsIn"].setValue(channels)
    node["channelsOut"].setValue(channels)
    node["modelId"].setValue("Test")
    return node


def _add_model_knobs(nuke, node, gamma_class="Enumeration_Knob"):
    despill = nuke.Double_Knob("despill_strength", "Despill")
    despill.setRange(0, 10)
    node.addKnob(despill)
    if gamma_class == "Enumeration_Knob":
        node.addKnob(nuke.Enumeration_Knob("gamma_input", "Gamma", ["sRGB", "Linear"]))
    else:
        node.addKnob(getattr(nuke, gamma_class)("gamma_input", "Gamma"))
    node.addKnob(nuke.Double_Knob("refiner_strength", "Refiner"))


def test_the_fixture_installs_a_fresh_fake_and_hides_the_real_home(fake_nuke, tmp_path):
    import nuke

    assert nuke is fake_nuke
    assert os.path.expanduser("~").startswith(str(tmp_path))
    assert nuke.allNodes() == []
    assert nuke.env["nukex"] and nuke.env["gui"]


def test_unknown_node_class_and_unknown_knob_raise(fake_nuke):
    with pytest.raises(RuntimeError, match="unknown command"):
        fake_nuke.createNode("NoSuchNode")
    with pytest.raises(RuntimeError, match="unknown command"):
        fake_nuke.nodes.Blurr()
    node = fake_nuke.nodes.Inference()
    with pytest.raises(NameError, match="modelfile"):
        node["modelfile"]
    assert node.knob("modelfile") is None
    with pytest.raises(NameError):
        fake_nuke.nodes.Inference(useGPU=True)


@pytest.mark.parametrize("knob_class, bad_value", [
    ("Double_Knob", "1.0"), ("Double_Knob", True), ("Int_Knob", 1.5), ("Int_Knob", "3"),
    ("Boolean_Knob", "true"), ("Boolean_Knob", 2), ("String_Knob", 3), ("File_Knob", None),
])
def test_wrong_value_types_raise(fake_nuke, knob_class, bad_value):
    knob = getattr(fake_nuke, knob_class)("k", "K")
    with pytest.raises(TypeError):
        knob.setValue(bad_value)


def test_enumeration_knob_takes_an_item_or_an_index_in_range(fake_nuke):
    knob = fake_nuke.Enumeration_Knob("gamma_input", "Gamma", ["sRGB", "Linear"])
    knob.setValue("Linear")
    assert (knob.value(), knob.getValue()) == ("Linear", 1.0)
    knob.setValue(0)
    assert knob.value() == "sRGB"
    for bad in (2, -1, "linear", 0.5):
        with pytest.raises(ValueError):
            knob.setValue(bad)
    with pytest.raises(TypeError):
        fake_nuke.Enumeration_Knob("e", "E", "sRGB Linear")


def test_double_knob_keeps_its_range_and_float_value(fake_nuke):
    knob = fake_nuke.Double_Knob("despill_strength", "Despill")
    knob.setRange(0, 10)
    knob.setValue(3)
    assert (knob.min(), knob.max(), knob.value()) == (0.0, 10.0, 3.0)
    assert isinstance(knob.value(), float)


def test_first_user_knob_opens_a_user_tab_and_names_are_unique(fake_nuke):
    node = fake_nuke.nodes.NoOp()
    node.addKnob(fake_nuke.Double_Knob("amount"))
    assert [k.Class() for k in node.user_knobs()] == ["Tab_Knob", "Double_Knob"]
    with pytest.raises(ValueError):
        node.addKnob(fake_nuke.Double_Knob("amount"))


def test_deleted_nodes_cannot_be_used(fake_nuke):
    node = fake_nuke.nodes.NoOp()
    downstream = fake_nuke.nodes.NoOp(inputs=[node])
    fake_nuke.delete(node)
    assert downstream.input(0) is None
    with pytest.raises(ValueError, match="valid node"):
        node.name()
    with pytest.raises(ValueError):
        node["label"].setValue("x")


def test_create_node_connects_to_the_selection_and_selects_only_the_new_node(fake_nuke):
    read = fake_nuke.nodes.Read()
    read.setSelected(True)
    blur = fake_nuke.createNode("NoOp")
    assert blur.input(0) is read
    assert fake_nuke.selectedNodes() == [blur]
    assert fake_nuke.selectedNode() is blur
    fake_nuke.delete(blur)
    with pytest.raises(ValueError, match="No node selected"):
        fake_nuke.selectedNode()


def test_groups_are_contexts_and_to_node_resolves_full_names(fake_nuke):
    group = fake_nuke.nodes.Group()
    with group:
        inner = fake_nuke.nodes.NoOp()
        assert fake_nuke.thisGroup() is group
    assert fake_nuke.thisGroup() is fake_nuke.root()
    assert fake_nuke.toNode("%s.%s" % (group.name(), inner.name())) is inner
    assert fake_nuke.allNodes() == [group]
    assert fake_nuke.allNodes(recurseGroups=True) == [group, inner]
    with pytest.raises(ValueError, match="different groups"):
        inner.setInput(0, fake_nuke.nodes.NoOp())


def test_plain_nuke_refuses_catfilecreator(plain_nuke):
    with pytest.raises(RuntimeError, match="NukeX"):
        plain_nuke.nodes.CatFileCreator()


def test_menus_need_a_gui(fake_nuke):
    fake_nuke.fake_set_gui(False)
    with pytest.raises(RuntimeError, match="GUI"):
        fake_nuke.menu("Nuke")
    with pytest.raises(RuntimeError, match="GUI"):
        fake_nuke.toolbar("Nodes")


def test_menu_add_menu_reuses_and_add_command_duplicates(fake_nuke):
    bar = fake_nuke.menu("Nuke")
    assert bar.addMenu("Tools") is bar.addMenu("Tools")
    bar.addCommand("Tools/Go", "nuke.tprint('go')")
    bar.addCommand("Tools/Go", "nuke.tprint('go')")
    assert bar.findItem("Tools").count("Go") == 2
    bar.findItem("Tools/Go").invoke()
    assert fake_nuke.log == [("tprint", "go")]
    bar.removeItem("Tools/Go")
    assert bar.findItem("Tools").count("Go") == 1
    assert fake_nuke.toolbar("Nodes") is fake_nuke.menu("Nodes")


def test_dialogs_need_scripted_answers_and_are_recorded(fake_nuke):
    fake_nuke.message("hello")
    with pytest.raises(FakeDialogUnanswered):
        fake_nuke.ask("Sure?")
    fake_nuke.fake_answer("ask", False)
    fake_nuke.fake_answer("getFilename", None)
    assert fake_nuke.ask("Sure?") is False
    assert fake_nuke.getFilename("Checkpoint", "*.pth") is None
    assert fake_nuke.fake_dialogs_of("message") == ["hello"]


def test_execute_in_main_thread_from_the_main_thread_raises(fake_nuke):
    with pytest.raises(RuntimeError, match="hang"):
        fake_nuke.executeInMainThread(lambda: None)
    with pytest.raises(RuntimeError, match="hang"):
        fake_nuke.executeInMainThreadWithResult(lambda: None)


def test_worker_threads_must_go_through_the_main_thread(fake_nuke):
    outcome = {}

    def worker():
        try:
            fake_nuke.nodes.NoOp()
        except RuntimeError as exc:
            outcome["direct"] = str(exc)
        try:
            fake_nuke.message("from a worker")
        except RuntimeError as exc:
            outcome["dialog"] = str(exc)
        outcome["node"] = fake_nuke.executeInMainThreadWithResult(lambda label: fake_nuke.nodes.NoOp(label=label),
                                                                  args=("made on main",))
        fake_nuke.executeInMainThread(fake_nuke.message, args=("done",))

    thread = threading.Thread(target=worker)
    thread.start()
    fake_nuke.fake_run_event_loop(thread, timeout=30)
    assert "main thread" in outcome["direct"] and "main thread" in outcome["dialog"]
    assert outcome["node"]["label"].value() == "made on main"
    assert fake_nuke.fake_dialogs_of("message") == ["done"]


def test_execute_in_main_thread_with_result_prints_the_error_and_returns_none(fake_nuke, capsys):
    """Foundry's nuke/executeInMain.py: `except: traceback.print_exc(); r = None`; and `if type(args) != tuple:
    args = (args,)`, so a list is one argument."""
    outcome = {}

    def fail(reason):
        raise ValueError("no luck: %s" % reason)

    def worker():
        outcome["failed"] = fake_nuke.executeInMainThreadWithResult(fail, args=("first",))
        outcome["list"] = fake_nuke.executeInMainThreadWithResult(lambda *a: a, args=["a", "b"])
        outcome["word"] = fake_nuke.executeInMainThreadWithResult(lambda *a: a, args="ab")
        outcome["kwargs"] = fake_nuke.executeInMainThreadWithResult(lambda x=0: x, kwargs={"x": 3})

    thread = threading.Thread(target=worker)
    thread.start()
    fake_nuke.fake_run_event_loop(thread, timeout=30)
    assert outcome == {"failed": None, "list": (["a", "b"],), "word": ("ab",), "kwargs": 3}
    assert "ValueError: no luck: first" in capsys.readouterr().err
    assert [str(e) for e in fake_nuke.fake_main_thread_errors] == ["no luck: first"]


def test_execute_in_main_thread_wraps_a_list_as_one_argument(fake_nuke):
    seen = []
    thread = threading.Thread(target=lambda: fake_nuke.executeInMainThread(lambda *a: seen.append(a), args=[1, 2]))
    thread.start()
    fake_nuke.fake_run_event_loop(thread, timeout=30)
    assert seen == [([1, 2],)]


def test_progress_task_takes_int_percent_and_can_be_cancelled(fake_nuke):
    task = fake_nuke.ProgressTask("Exporting")
    task.setProgress(10)
    with pytest.raises(TypeError):
        task.setProgress(0.5)
    assert not task.isCancelled()
    task.fake_cancel()
    assert task.isCancelled()
    fake_nuke.cancel_progress_tasks = True
    assert fake_nuke.ProgressTask("Next").isCancelled()


def test_env_rejects_unknown_keys_and_models_editions(fake_nuke):
    with pytest.raises(KeyError):
        fake_nuke.env["nuke_x"]
    fake_nuke.fake_set_edition("nuke")
    assert not fake_nuke.env["nukex"] and not fake_nuke.env["studio"]
    fake_nuke.fake_set_edition("studio")
    assert fake_nuke.env["nukex"] and fake_nuke.env["studio"]


# ------------------------------------------------------------------------------------------ CatFileCreator
def test_catfilecreator_builds_a_cat_and_an_inference_node(fake_nuke, tiny_model, tmp_path):
    pt = tiny_model("GoodModel")
    node = _creator(fake_nuke, pt, tmp_path / "good.cat")
    _add_model_knobs(fake_nuke, node)
    node["createCatFile"].execute()
    cat = read_fake_cat(str(tmp_path / "good.cat"))
    assert [k["name"] for k in cat["knobs"]] == ["despill_strength", "gamma_input", "refiner_strength"]
    assert cat["knobs"][0]["range"] == [0.0, 10.0]
    assert cat["channelsIn"] == ["rgba.red", "rgba.green", "rgba.blue", "rgba.alpha"]
    inference = fake_nuke.allNodes("Inference")
    assert len(inference) == 1 and not inference[0].hasError()
    assert inference[0]["gamma_input"].value() == "sRGB"


@pytest.mark.parametrize("model, gamma_class, message", [
    ("MissingAttributeModel", "Enumeration_Knob", "parameter refiner_strength not found"),
    ("WrongTypeModel", "Enumeration_Knob", "needs a int attribute"),
    ("GoodModel", "Double_Knob", "needs a float attribute"),
])
def test_catfilecreator_rejects_knobs_the_module_cannot_take(fake_nuke, tiny_model, tmp_path, model, gamma_class,
                                                             message):
    node = _creator(fake_nuke, tiny_model(model), tmp_path / "x.cat")
    _add_model_knobs(fake_nuke, node, gamma_class)
    with pytest.raises(CatFileError, match=message):
        node["createCatFile"].execute()
    assert not (tmp_path / "x.cat").exists()
    assert fake_nuke.allNodes("Inference") == []


def test_catfilecreator_rejects_a_bool_attribute_and_a_constant(fake_nuke, tiny_model, tmp_path):
    node = _creator(fake_nuke, tiny_model("BoolAttributeModel"), tmp_path / "b.cat")
    node.addKnob(fake_nuke.Boolean_Knob("flag"))
    with pytest.raises(CatFileError, match="needs a int attribute.*bool"):
        node["createCatFile"].execute()
    node = _creator(fake_nuke, tiny_model("ConstantAttributeModel"), tmp_path / "c.cat")
    node.addKnob(fake_nuke.Double_Knob("despill_strength"))
    with pytest.raises(CatFileError, match="cannot be set"):
        node["createCatFile"].execute()


def test_catfilecreator_rejects_unsupported_knob_kinds(fake_nuke, tiny_model, tmp_path):
    node = _creator(fake_nuke, tiny_model("GoodModel"), tmp_path / "s.cat")
    node.addKnob(fake_nuke.String_Knob("despill_strength"))
    with pytest.raises(CatFileError, match="String_Knob"):
        node["createCatFile"].execute()


@pytest.mark.parametrize("channels", ["rgba.red,rgba.green,rgba.blue,rgba.a", "rgb", "", "rgba.red,rgba.red"])
def test_catfilecreator_rejects_channels_nuke_does_not_know(fake_nuke, tiny_model, tmp_path, channels):
    node = _creator(fake_nuke, tiny_model("GoodModel"), tmp_path / "ch.cat", channels)
    with pytest.raises(CatFileError, match="channels"):
        node["createCatFile"].execute()


def test_the_fake_knows_exactly_nineteen_channel_names():
    assert len(NUKE_CHANNELS) == len(set(NUKE_CHANNELS)) == 19


def test_catfilecreator_rejects_missing_or_non_torchscript_files(fake_nuke, tmp_path):
    node = _creator(fake_nuke, tmp_path / "missing.pt", tmp_path / "m.cat")
    with pytest.raises(CatFileError, match="does not exist"):
        node["createCatFile"].execute()
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"version https://git-lfs.github.com/spec/v1\n")
    node = _creator(fake_nuke, junk, tmp_path / "j.cat")
    with pytest.raises(CatFileError, match="not a TorchScript model"):
        node["createCatFile"].execute()


def _reader_agrees_with_torch(path):
    """What the fake reads from the archive (no torch) is what torch.jit.load finds in the file."""
    import torch

    def kind(value):
        return "Tensor" if isinstance(value, torch.Tensor) else type(value).__name__

    read = torchscript.read_module(str(path))
    module = torch.jit.load(str(path), map_location="cpu")
    assert read.class_name == module._c.qualified_name
    assert set(read.methods) == set(module._c._method_names())
    for name, declared in read.attributes.items():
        assert module._c.hasattr(name), name
        if declared in ("bool", "int", "float", "Tensor"):
            assert kind(getattr(module, name)) == declared, name
    for name, declared in read.constants.items():
        value = getattr(module, name)
        assert kind(value) == declared, name
        with pytest.raises(RuntimeError):
            module._c.setattr(name, value)  # a constant cannot be set: the fake refuses such a knob


@pytest.mark.parametrize("model", ["GoodModel", "MissingAttributeModel", "WrongTypeModel", "BoolAttributeModel",
                                   "ConstantAttributeModel", "PointModel"])
def test_the_torch_free_reader_agrees_with_torch_on_the_tiny_models(tiny_model, model):
    _reader_agrees_with_torch(tiny_model(model))


def test_the_torch_free_reader_agrees_with_torch_on_the_exported_and_shipped_models(exported_model):
    _reader_agrees_with_torch(exported_model.pt)
    _reader_agrees_with_torch(os.path.join(selftest.data_dir(plugin_root()), selftest.PT_NAME))


def test_the_torch_free_reader_refuses_what_is_not_a_scripted_module(tmp_path):
    damaged = tmp_path / "damaged.pt"
    damaged.write_bytes(open(os.path.join(selftest.data_dir(plugin_root()), selftest.PT_NAME), "rb")
                        .read()[:4000])
    for path in (damaged, tmp_path / "missing.pt"):
        with pytest.raises(torchscript.NotTorchScript):
            torchscript.read_module(str(path))


def test_catfilecreator_asks_before_overwriting_and_keeps_the_file_when_declined(fake_nuke, tiny_model, tmp_path):
    cat = tmp_path / "old.cat"
    cat.write_text("previous build")
    node = _creator(fake_nuke, tiny_model("GoodModel"), cat)
    fake_nuke.fake_answer("ask", False)
    assert node["createCatFile"].execute() is None
    assert cat.read_text() == "previous build"
    assert fake_nuke.allNodes("Inference") == []
    fake_nuke.fake_answer("ask", True)
    node["createCatFile"].execute()
    assert read_fake_cat(str(cat))["modelId"] == "Test"
    assert len(fake_nuke.fake_dialogs_of("ask")) == 2


def test_catfilecreator_button_only_on_the_main_thread(fake_nuke, tiny_model, tmp_path):
    node = _creator(fake_nuke, tiny_model("GoodModel"), tmp_path / "t.cat")
    errors = []

    def press():
        try:
            node["createCatFile"].execute()
        except RuntimeError as exc:
            errors.append(str(exc))

    thread = threading.Thread(target=press)
    thread.start()
    thread.join()
    assert errors and "main thread" in errors[0]
    assert not (tmp_path / "t.cat").exists()


# ------------------------------------------------------------------------------------------------ gizmos
GOOD_GIZMO = """Gizmo {
 inputs 1
 addUserKnob {20 Main}
 addUserKnob {7 amount l Amount R 0 4}
 amount 2
}
 Input {
  inputs 0
  name Input1
 }
 NoOp {
  label {{parent.amount}}
  name Inner
 }
 Output {
  name Output1
 }
end_group
"""


def test_gizmos_on_the_plugin_path_become_node_classes(fake_nuke, tmp_path):
    folder = tmp_path / "plugins"
    folder.mkdir()
    (folder / "Thing.gizmo").write_text(GOOD_GIZMO)
    with pytest.raises(RuntimeError, match="unknown command"):
        fake_nuke.createNode("Thing")
    fake_nuke.pluginAddPath(str(folder))
    node = fake_nuke.createNode("Thing")
    assert node.Class() == "Thing" and node.maxInputs() == 1
    assert node["amount"].value() == 2.0 and node["amount"].max() == 4.0
    assert [n.name() for n in node.nodes()] == ["Input1", "Inner", "Output1"]
    assert node.node("Output1").input(0) is node.node("Inner")


@pytest.mark.parametrize("broken, message", [
    (GOOD_GIZMO.replace("label {{parent.amount}}", "lable x"), "has no knob 'lable'"),
    (GOOD_GIZMO.replace("NoOp {", "NoOperation {"), "unknown command"),
    (GOOD_GIZMO.replace("amount 2", "amount two"), "not a number"),
    (GOOD_GIZMO.replace("{7 amount", "{99 amount"), "not in nuke.KnobType"),
    (GOOD_GIZMO.replace("end_group\n", ""), "does not end with end_group"),
])
def test_the_fake_refuses_gizmos_nuke_would_not_load(fake_nuke, tmp_path, broken, message):
    folder = tmp_path / "plugins"
    folder.mkdir()
    (folder / "Thing.gizmo").write_text(broken)
    fake_nuke.pluginAddPath(str(folder))
    with pytest.raises(RuntimeError, match=message):
        fake_nuke.createNode("Thing")


def test_tcl_plugins_lookup_and_its_limits(fake_nuke, tmp_path):
    first, second = tmp_path / "a", tmp_path / "b"
    first.mkdir()
    second.mkdir()
    (second / "M.cat").write_text("x")
    fake_nuke.pluginAddPath(str(first))
    fake_nuke.pluginAddPath(str(second))
    node = fake_nuke.nodes.Inference(modelFile="[lsearch -inline [plugins -all M.cat] *.cat]")
    assert node["modelFile"].evaluate() == str(second / "M.cat").replace(os.sep, "/")
    node["modelFile"].setValue("\\[plugins -all M.cat]")  # an escaped bracket is text, as in Tcl
    assert node["modelFile"].evaluate() == "[plugins -all M.cat]"
    node["modelFile"].setValue("[file join a b]")
    with pytest.raises(FakeLimitation):
        node["modelFile"].evaluate()


def test_inference_reports_a_missing_model_as_a_node_error(fake_nuke):
    node = fake_nuke.nodes.Inference(modelFile="[lsearch -inline [plugins -all Nope.cat] *.cat]")
    node.forceValidate()
    assert node.hasError() and "cannot find model file" in node.error_message()


def test_the_fake_is_not_importable_as_nuke_outside_the_fixture():
    assert "nuke" not in sys.modules or not hasattr(sys.modules["nuke"], "fake_home")


def test_execute_checks_the_write_and_its_inputs_then_says_it_cannot_render(fake_nuke, tmp_path):
    write = fake_nuke.nodes.Write()
    with pytest.raises(RuntimeError, match="no file name"):
        fake_nuke.execute(write, 1, 1)
    write["file"].setValue(str(tmp_path / "missing" / "out.exr"))
    with pytest.raises(RuntimeError, match="does not exist"):
        fake_nuke.execute(write, 1, 1)
    write["file"].setValue(str(tmp_path / "out.exr"))
    with pytest.raises(RuntimeError, match="not connected"):
        fake_nuke.execute(write, 1, 1)
    broken = fake_nuke.nodes.Inference(modelFile=str(tmp_path / "nothing.cat"))
    write.setInput(0, broken)
    with pytest.raises(RuntimeError, match="cannot find model file"):
        fake_nuke.execute(write, 1, 1)
    write.setInput(0, fake_nuke.nodes.Constant())
    with pytest.raises(TypeError):
        fake_nuke.execute(write, 2, 1)
    with pytest.raises(FakeLimitation, match="no pixels"):
        fake_nuke.execute(write, 1, 1)
    with pytest.raises(FakeLimitation):
        fake_nuke.sample(write, "rgba.red", 0.5, 0.5)
    with pytest.raises(ValueError):
        fake_nuke.addFormat("CorridorKeySelfTest")
    assert fake_nuke.addFormat("36 20 1 CorridorKeySelfTest") == "CorridorKeySelfTest"


def test_catfilecreator_takes_xy_and_xyz_knobs_for_tensor_attributes(fake_nuke, tiny_model, tmp_path):
    """Foundry's guide lists XY and XYZ custom knobs: each sets a tensor attribute of the model."""
    node = _creator(fake_nuke, tiny_model("PointModel"), tmp_path / "p.cat")
    offset = fake_nuke.XY_Knob("offset", "Offset")
    offset.setValue((10, 20))
    node.addKnob(offset)
    node.addKnob(fake_nuke.XYZ_Knob("position", "Position"))
    node["createCatFile"].execute()
    records = {k["name"]: k for k in read_fake_cat(str(tmp_path / "p.cat"))["knobs"]}
    assert records["offset"]["class"] == "XY_Knob" and records["offset"]["value"] == [10.0, 20.0]
    assert records["position"]["value"] == [0.0, 0.0, 0.0]
    node = _creator(fake_nuke, tiny_model("GoodModel"), tmp_path / "g.cat")
    node.addKnob(fake_nuke.XY_Knob("despill_strength"))
    with pytest.raises(CatFileError, match="needs a Tensor attribute.*float"):
        node["createCatFile"].execute()


def test_a_gizmo_with_real_constructs_loads_and_finds_its_cat(fake_nuke, tiny_model, tmp_path):
    """tests/data/gizmos/Constructs.gizmo: clone, a knob set twice, XY/XYZ knobs, per-dimension serialiseKnob values
    and the modelFile form real files use, `"\\[lsearch -inline \\[plugins -all X.cat] *.cat]"`."""
    folder = tmp_path / "plugins"
    folder.mkdir()
    node = _creator(fake_nuke, tiny_model("PointModel"), folder / "Constructs.cat")
    node.addKnob(fake_nuke.XY_Knob("offset"))
    node.addKnob(fake_nuke.XYZ_Knob("position"))
    node["createCatFile"].execute()
    source = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "gizmos", "Constructs.gizmo")
    with open(source, encoding="utf-8") as handle:
        (folder / "Constructs.gizmo").write_text(handle.read())
    fake_nuke.pluginAddPath(str(folder))
    gizmo = fake_nuke.createNode("Constructs")
    assert not gizmo.hasError(), gizmo.error_message()
    assert gizmo["useGPU"].value() is False  # set twice: the last value wins
    assert gizmo["offset"].value() == (10.0, 20.0) and gizmo["token"].Class() == "Password_Knob"
    inference = gizmo.node("Inference1")
    assert inference.fake_cat_path == str(folder / "Constructs.cat")
    assert inference["offset"].value() == (10.0, 100.0)  # {parent.offset.x} 100: only the first is an expression
    assert inference["offset"].hasExpression() and inference["position"].value()[2] == 7.0
    clones = [n for n in gizmo.nodes() if n.Class() == "NoOp"]
    assert len(clones) == 2 and clones[1].input(0) is inference


# --------------------------------------------------------------------------------------- public fixtures
FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "gizmos")
FIXTURE_NAMES = sorted(n for n in os.listdir(FIXTURES) if n.endswith(".gizmo"))


def _install_fixture(fake_nuke, folder, name):
    folder.mkdir(exist_ok=True)
    shutil.copy(os.path.join(FIXTURES, name), str(folder / name))
    fake_nuke.pluginAddPath(str(folder))
    return name[:-len(".gizmo")]


@pytest.mark.parametrize("name", FIXTURE_NAMES)
def test_the_fake_builds_every_public_fixture(fake_nuke, tmp_path, name):
    """Nuke loads these files, so the fake must build each one: every node class, knob and value in them."""
    from tests.gizmo_validator import parse_gizmo

    with open(os.path.join(FIXTURES, name), encoding="utf-8") as handle:
        doc = parse_gizmo(handle.read())
    node = fake_nuke.createNode(_install_fixture(fake_nuke, tmp_path / "plugins", name))
    built = node.nodes()
    assert [n.Class() for n in built] == [c.cls for c in doc.nodes]
    assert all(n.name() == c.name for n, c in zip(built, doc.nodes) if c.name)  # a clone copy gets a new name
    assert node.maxInputs() == len(doc.nodes_of_class("Input"))
    for spec in doc.user_knobs:
        if spec.name:
            assert node.knob(spec.name) is not None


def test_nested_groups_are_built_inside_their_group_and_wired_there(fake_nuke, tmp_path):
    node = fake_nuke.createNode(_install_fixture(fake_nuke, tmp_path / "plugins", "NST_TransformCutOut.gizmo"))
    inner = node.node("BBoxToFormat")
    assert inner.Class() == "Group" and inner.input(0) is node.node("Dot6") and inner.maxInputs() == 1
    crop = inner.node("Crop6")
    assert crop.parent_group() is inner and crop.input(0) is inner.node("Dot2")
    assert crop["box"].hasExpression() and crop["crop"].hasExpression()
    assert inner["inputBbox"].value() == 1 and inner["inputBbox"].group == 1  # a tab group, open
    # `cropToBbox` declared twice on one node: the second is renamed, as the `_1` names in public files suggest
    buttons = [k.name() for k in crop.user_knobs() if k.name().startswith("cropToBbox")]
    assert buttons[0] == "cropToBbox" and buttons[-1] == "cropToBbox_1_1" and len(buttons) == len(set(buttons))
    assert inner["overscan"].Class() == "WH_Knob" and inner["inputFormat"].Class() == "BBox_Knob"


def test_tab_group_states_colour_knobs_and_their_panel_dropped_companions(fake_nuke, tmp_path):
    node = fake_nuke.createNode(_install_fixture(fake_nuke, tmp_path / "plugins", "NST_ConstantPro.gizmo"))
    assert node["moreSettings"].value() == 0  # saved closed
    node["moreSettings"].setValue(1)
    with pytest.raises(ValueError):
        node["moreSettings"].setValue(2)
    with pytest.raises(TypeError):
        node["ConstantPro"].setValue(1)  # a plain tab holds no value
    assert node["color"].Class() == "AColor_Knob" and node["color"].value() == (0.0, 0.0, 0.0, 0.0)
    assert node["color_panelDropped"].Class() == "Boolean_Knob"
    constant = fake_nuke.nodes.Constant()
    assert constant["color_panelDropped"].visible() is False  # a built-in colour knob's hidden companion
    swatch = fake_nuke.createNode(_install_fixture(fake_nuke, tmp_path / "plugins", "Constructs.gizmo")).node("Swatch")
    assert swatch["color_panelDropped"].value() is True and swatch["color"].value() == (1.0, 0.0, 0.0, 1.0)
    radio = fake_nuke.createNode(_install_fixture(fake_nuke, tmp_path / "plugins", "NST_InjectMatteChannel.gizmo"))
    assert radio["channel_select"].Class() == "Radio_Knob" and radio["channel_select"].value() == "alpha"


def test_a_public_port_finds_the_cat_built_for_this_nuke_major_version(fake_nuke, tiny_model, tmp_path):
    """RIFE's modelFile is `[lsearch -inline [plugins -all RIFE_n$nuke_version_major.cat] *.cat]`: one folder holds
    a build per Nuke major version and each Nuke takes its own; a Nuke with none gets the node error."""
    folder = tmp_path / "plugins"
    folder.mkdir()
    for major in (14, 15):
        creator = _creator(fake_nuke, tiny_model("RetimeModel", "r%d.pt" % major), folder / ("RIFE_n%d.cat" % major))
        creator.addKnob(fake_nuke.Double_Knob("timestep"))
        creator.addKnob(fake_nuke.Double_Knob("scale"))
        creator.addKnob(fake_nuke.Boolean_Knob("optical_flow"))
        creator["createCatFile"].execute()
    name = _install_fixture(fake_nuke, folder, "RIFE.gizmo")
    for major in (14, 15):
        fake_nuke.fake_set_version(major, 0, 1)
        inference = fake_nuke.createNode(name).node("Inference1")
        assert not inference.hasError(), inference.error_message()
        assert inference.fake_cat_path == str(folder / ("RIFE_n%d.cat" % major))
        assert inference["timestep"].expression() == "parent.outputFrame - int(parent.outputFrame)"
    fake_nuke.fake_set_version(16, 0, 1)
    node = fake_nuke.createNode(name)
    assert node.hasError() and "cannot find model file" in node.error_message()
    # its Assert, `{{"\\$nuke_version > 14.1"}}`, stops Nuke 14.0 with its own message (its .cat loads there)
    fake_nuke.fake_set_version(14, 0, 1)
    node = fake_nuke.createNode(name)
    assert node.hasError() and node.error_message() == "Assert1: Nuke14.1 or higher required."
    fake_nuke.fake_set_version(14, 1, 1)
    node.forceValidate()
    assert not node.hasError(), node.error_message()


def test_segment_anything_finds_its_four_cats_and_vitmatte_is_beyond_the_fakes_tcl(fake_nuke, tiny_model, tmp_path):
    folder = tmp_path / "plugins"
    folder.mkdir()
    for part in ("encoder", "decoder"):
        for size in ("small", "large"):
            _creator(fake_nuke, tiny_model(), folder / ("sam_%s_%s.cat" % (part, size)))["createCatFile"].execute()
    sam = fake_nuke.createNode(_install_fixture(fake_nuke, folder, "SegmentAnything.gizmo"))
    loaded = [n for n in sam.nodes() if n.Class() == "Inference"]
    assert len(loaded) == 4 and not any(n.hasError() for n in loaded)
    # Its Asserts: `\$nuke_version > 13.2` holds in this Nuke (15.1); the one disabled by `[exists parent.input1]`
    # checks the input's `width`, which the fake cannot know, so whether the node shows an error is unknowable.
    (version_check,) = [n for n in sam.nodes() if n.Class() == "Assert" and n.name() == "Assert1"]
    assert not version_check.hasError()
    with pytest.raises(FakeLimitation, match="exists"):
        sam.hasError()
    assert sorted(os.path.basename(n.fake_cat_path) for n in loaded) == sorted(
        "sam_%s_%s.cat" % (p, s) for p in ("encoder", "decoder") for s in ("small", "large"))
    vitmatte = fake_nuke.createNode(_install_fixture(fake_nuke, folder, "ViTMatte.gizmo"))
    with pytest.raises(FakeLimitation, match="plugins -all"):  # `[expr {[value parent.detail] ? ...}]`
        vitmatte.hasError()


# ---- expressions, Asserts, start-up, scripts, callbacks ---------------------------------------------------------


def _group_with(fake_nuke, tmp_path, child_lines, user_lines=""):
    """A one-class gizmo whose children are `child_lines`, created in the root."""
    folder = tmp_path / "plugins"
    folder.mkdir(exist_ok=True)
    (folder / "Probe.gizmo").write_text("Gizmo {\n inputs 1\n%s}\nInput {\n inputs 0\n name Input1\n}\n%s\n"
                                        "Output {}\nend_group\n" % (user_lines, child_lines))
    fake_nuke.pluginAddPath(str(folder))
    return fake_nuke.createNode("Probe")


@pytest.mark.parametrize("expression, value", [
    ("1 + 2 * 3", 7.0), ("(1 + 2) * 3", 9.0), ("!0 && 2 > 1", 1.0), ("3 == 4 || 5 != 5", 0.0),
    ("parent.a > 1 ? 10 : 20", 10.0), ("-parent.a + 1", -1.0), ("$nuke_version_major == 15", 1.0),
    ("$nuke_version >= 15.1 && $nuke_version < 15.2", 1.0), ("$nuke_version", 15.103), ("parent.Inner.b * 2", 8.0),
    ("parent.flag + 1", 2.0)])
def test_knob_expressions_in_the_forms_public_gizmos_use(fake_nuke, tmp_path, expression, value):
    node = _group_with(fake_nuke, tmp_path, "NoOp {\n name Inner\n addUserKnob {7 b}\n b 4\n}\nNoOp {\n name Probe1\n"
                       " addUserKnob {7 v}\n v {{\"%s\"}}\n}" % expression.replace("$", "\\$"),
                       " addUserKnob {7 a}\n a 2\n addUserKnob {6 flag}\n flag true\n")
    assert node.node("Probe1")["v"].value() == value


@pytest.mark.parametrize("expression, words", [("width == 1024", "width"), ("clamp(1)", "clamp"),
                                               ("$frame > 1", "$frame"), ("[exists parent.input1]", "exists"),
                                               ("parent.a +", "cannot read")])
def test_expressions_beyond_the_fake_raise_fake_limitation(fake_nuke, tmp_path, expression, words):
    node = _group_with(fake_nuke, tmp_path, "NoOp {\n name Probe1\n addUserKnob {7 v}\n v {{\"%s\"}}\n}"
                       % expression.replace("$", "\\$").replace("[", "\\["), " addUserKnob {7 a}\n a 2\n")
    with pytest.raises(FakeLimitation, match=words.replace("$", "\\$")):
        node.node("Probe1")["v"].value()


def test_an_assert_whose_expression_is_zero_stops_the_render_with_its_message(fake_nuke, tmp_path):
    node = _group_with(fake_nuke, tmp_path, "Assert {\n expression {{\"parent.ok\"}}\n"
                       " message \"not today\"\n name Check\n}", " addUserKnob {6 ok}\n ok true\n")
    node.forceValidate()
    assert not node.hasError()
    node["ok"].setValue(False)
    node.forceValidate()
    assert node.hasError() and node.error_message() == "Check: not today"
    node.setInput(0, fake_nuke.nodes.Constant())
    write = fake_nuke.nodes.Write(file=str(tmp_path / "out.exr").replace(os.sep, "/"))
    write.setInput(0, node)
    with pytest.raises(RuntimeError, match="Probe1: Check: not today"):
        fake_nuke.execute(write, 1, 1)
    node.node("Check")["disable"].setValue(True)  # a disabled Assert checks nothing
    node.forceValidate()
    assert not node.hasError()


def test_startup_runs_every_init_py_on_nuke_path_in_reverse_order(fake_nuke, tmp_path, monkeypatch):
    order = tmp_path / "order.txt"
    folders = []
    for name in ("project", "studio"):
        folder = tmp_path / name
        folder.mkdir()
        for script in ("init.py", "menu.py"):
            (folder / script).write_text("open(%r, 'a').write('%s/%s\\n')\n" % (str(order), name, script))
        folders.append(str(folder))
    home_nuke = os.path.join(fake_nuke.fake_home, ".nuke")
    with open(os.path.join(home_nuke, "init.py"), "w") as handle:
        handle.write("open(%r, 'a').write('home/init.py\\n')\n" % str(order))
    monkeypatch.setattr(sys, "path", list(sys.path))
    ran = fake_nuke.fake_startup({"NUKE_PATH": os.pathsep.join(folders)})
    assert fake_nuke.pluginPath() == [home_nuke] + folders
    assert order.read_text().split() == ["studio/init.py", "project/init.py", "home/init.py", "studio/menu.py",
                                         "project/menu.py"]
    assert len(ran) == 5 and all(f in sys.path for f in folders)
    order.unlink()
    fake_nuke.fake_set_gui(False)  # a render: no menu.py
    fake_nuke.fake_startup({"NUKE_PATH": folders[1]})
    assert order.read_text().split() == ["studio/init.py", "home/init.py"]


def test_a_saved_script_is_opened_with_its_nodes_and_values(fake_nuke, tmp_path):
    folder = tmp_path / "plugins"
    folder.mkdir()
    (folder / "Boost.gizmo").write_text("Gizmo {\n addUserKnob {7 gain}\n gain 1\n}\nInput {\n inputs 0\n"
                                        " name Input1\n}\nOutput {}\nend_group\n")
    fake_nuke.pluginAddPath(str(folder))
    script = tmp_path / "shot.nk"
    script.write_text("#! /usr/local/Nuke16.0v2/libnuke-16.0.2.so -nx\nversion 16.0 v2\nRoot {\n inputs 0\n"
                      " name /shots/shot.nk\n first_frame 1\n last_frame 10\n format \"64 32 0 0 64 32 1 tiny\"\n}\n"
                      "Constant {\n inputs 0\n color {0.1 0.2 0.3 1}\n format \"64 32 0 0 64 32 1 tiny\"\n"
                      " name Plate\n}\nBoost {\n gain 3\n name Boost1\n}\nWrite {\n file /renders/out.####.exr\n"
                      " file_type exr\n name Write1\n}\n")
    fake_nuke.scriptOpen(str(script))
    plate, boost, write = fake_nuke.allNodes()
    assert (plate.Class(), boost.Class(), write.Class()) == ("Constant", "Boost", "Write")
    assert boost["gain"].value() == 3 and boost.input(0) is plate and write.input(0) is boost
    assert fake_nuke.root()["last_frame"].value() == 10
    script.write_text(script.read_text().replace("Boost {", "Missing {"))
    for node in fake_nuke.allNodes():
        fake_nuke.delete(node)
    with pytest.raises(RuntimeError, match="Missing: unknown command"):
        fake_nuke.scriptOpen(str(script))


def test_create_node_takes_a_gizmo_file_name_as_foundrys_cattery_menu_calls_it(fake_nuke, tmp_path):
    folder = tmp_path / "plugins"
    folder.mkdir()
    (folder / "Boost.gizmo").write_text("Gizmo {\n}\nInput {\n inputs 0\n name Input1\n}\nOutput {}\nend_group\n")
    fake_nuke.pluginAddPath(str(folder))
    assert fake_nuke.createNode("Boost.gizmo").Class() == "Boost"
    with pytest.raises(RuntimeError, match="unknown command"):
        fake_nuke.createNode("Nope.gizmo")


def test_on_create_callbacks_run_once_per_class_with_this_node(fake_nuke, tmp_path):
    seen = []

    def record():
        seen.append(fake_nuke.thisNode().name())

    fake_nuke.addOnCreate(record, nodeClass="NoOp")
    fake_nuke.addOnCreate(record, nodeClass="NoOp")  # Foundry's callbacks add the same call once
    fake_nuke.createNode("NoOp")
    fake_nuke.nodes.Dot()
    fake_nuke.nodes.NoOp()
    assert seen == ["NoOp1", "NoOp2"]
    fake_nuke.removeOnCreate(record, nodeClass="NoOp")
    fake_nuke.nodes.NoOp()
    assert seen == ["NoOp1", "NoOp2"]
    with pytest.raises(FakeLimitation, match="thisNode"):
        fake_nuke.thisNode()

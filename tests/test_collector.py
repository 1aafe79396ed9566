"""The model build and every backend pause the cyclic garbage collector
(kstate.collector); a compile leaves it as it found it, after a set that
compiles and after one the model refuses."""

import gc

import kstate
from kstate.backends import available
from kstate.cli import run


def _write(folder, text):
    folder.mkdir()
    (folder / "a.kstate").write_text(text, encoding="utf-8")
    return folder


def test_a_compile_leaves_the_collector_on(tmp_path, capsys):
    good = _write(tmp_path / "good", "state a { id = 1; version = 1; x: u8; }\n")
    bad = _write(tmp_path / "bad", "state a { id = 1; version = 1; x: u8; }\nstate b { id = 1; version = 1; }\n")
    assert gc.isenabled()
    assert run(["compile", str(good), "-o", str(tmp_path / "out")]) == 0
    assert gc.isenabled()
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [".kstate-outputs", "c", "docs",
                                                                     "kstate-snapshot.json", "python"]
    assert run(["compile", str(bad), "-o", str(tmp_path / "out2")]) == 2  # schema errors: exit 2
    assert "error[DUPLICATE_ID]" in capsys.readouterr().err
    assert gc.isenabled()
    assert not (tmp_path / "out2").exists()


def test_the_collector_stays_off_if_it_was_off(tmp_path):
    good = _write(tmp_path / "good", "state a { id = 1; version = 1; x: u8; }\n")
    gc.disable()
    try:
        ss = kstate.load(good)
        assert not gc.isenabled()
        for lang, mod in available().items():
            assert mod.render(ss), lang
            assert not gc.isenabled(), lang
    finally:
        gc.enable()

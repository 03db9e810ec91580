"""``pip install quirktape`` ships the fixture library: the wheel is built here, offline, and installed.

The wheel is built with ``--no-build-isolation --no-index`` from a snapshot of the repository (the
setuptools of the test extra; nothing is fetched), so what is asserted is what a user's
``pip install quirktape`` gets: every cassette, the ``py.typed`` markers, ``python -m quirktape``, and a
``quirktape check --library`` that finds the installed cassettes rather than a checkout's.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from importlib import metadata
from pathlib import Path

import pytest
import yaml
from helpers import ROOT, run_cli

import quirktape
import recorder
import translator
from recorder.library import library_root

SNAPSHOT_SKIP = {".venv", ".git", "build", "dist", ".hypothesis", ".pytest_cache", ".ruff_cache", "__pycache__"}
PACKAGES = ("quirktape", "recorder", "translator")


def _cassettes(root: Path) -> set[str]:
    """Every cassette file under ``root``, relative to it (the names the wheel must carry)."""
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file()}


def _run(*args: str, cwd: Path, pythonpath: Path | None = None) -> subprocess.CompletedProcess[str]:
    """A subprocess with no index to reach: pip's self-check off, and only ``pythonpath`` added to the path."""
    env = {**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1", "PIP_NO_INDEX": "1"}
    env.pop("PYTHONPATH", None)
    if pythonpath is not None:
        env["PYTHONPATH"] = str(pythonpath)
    return subprocess.run(list(args), cwd=cwd, env=env, capture_output=True, text=True, timeout=120, check=False)


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> dict[str, Path]:
    """The repository copied as it is now, its wheel, and the wheel installed with ``pip --target``.

    A copy, because an in-tree build writes build/ and an egg-info into the tree that other runs share.
    """
    setuptools = metadata.version("setuptools")
    if tuple(int(p) for p in setuptools.split(".")[:2]) < (70, 1):
        pytest.fail(f"setuptools {setuptools} cannot build the wheel offline: pip install -e '.[test]'")
    base = tmp_path_factory.mktemp("packaging")
    source = base / "source"
    shutil.copytree(ROOT, source, ignore=lambda _, names: [n for n in names if n in SNAPSHOT_SKIP or ".egg-info" in n])
    wheels = base / "wheels"
    pip = (sys.executable, "-m", "pip")
    offline = ("--no-deps", "--no-index")
    done = _run(*pip, "wheel", "-q", *offline, "--no-build-isolation", "-w", str(wheels), ".", cwd=source)
    assert done.returncode == 0, done.stderr[-3000:]
    (wheel,) = wheels.glob("quirktape-*.whl")
    site = base / "site"
    done = _run(*pip, "install", "-q", *offline, "--target", str(site), str(wheel), cwd=base)
    assert done.returncode == 0, done.stderr[-3000:]
    run = base / "run"  # the current directory of the installed runs: no checkout on sys.path
    run.mkdir()
    return {"source": source, "wheel": wheel, "site": site, "run": run}


def test_the_wheel_carries_every_cassette_and_the_type_markers(built):
    names = set(zipfile.ZipFile(built["wheel"]).namelist())
    shipped = {n.removeprefix("quirktape/cassettes/") for n in names if n.startswith("quirktape/cassettes/")}
    in_repo = _cassettes(built["source"] / "cassettes")
    assert len(in_repo) > 100  # the snapshot holds the library (196 cassettes when this was written)
    assert {n for n in shipped if n.endswith((".yaml", ".yml"))} == in_repo
    assert "README.md" in shipped  # the format and the translation policy travel with the cassettes
    assert {f"{package}/py.typed" for package in PACKAGES} <= names
    assert "quirktape/__main__.py" in names
    assert not {n for n in names if n.startswith(("cassettes/", "tests/", "bench/"))}  # nothing at the top level


def test_the_installed_wheel_finds_its_own_library(built):
    site, run = built["site"], built["run"]
    probe = (
        "import json, quirktape; from recorder.library import library_root; root = library_root(); "
        "print(json.dumps([quirktape.__file__, str(root), sorted(p.relative_to(root).as_posix() "
        "for p in root.rglob('*.yaml'))]))"
    )
    done = _run(sys.executable, "-c", probe, cwd=run, pythonpath=site)
    assert done.returncode == 0, done.stderr
    package_file, root, found = json.loads(done.stdout)
    assert Path(package_file).parent == site / "quirktape"  # the installed package, not the editable checkout
    assert Path(root) == site / "quirktape" / "cassettes"
    assert set(found) == _cassettes(built["source"] / "cassettes")


def test_check_library_from_the_wheel_judges_what_the_repository_holds(built, monkeypatch, capsysbinary):
    command = (sys.executable, "-m", "quirktape", "check", "--library", "--json")
    done = _run(*command, cwd=built["run"], pythonpath=built["site"])
    assert done.stdout, done.stderr
    installed = json.loads(done.stdout)
    root = built["site"] / "quirktape" / "cassettes"
    assert all(Path(c["path"]).is_relative_to(root) for c in installed["cassettes"])
    # the same verdicts as the snapshot the wheel was built from, cassette by cassette
    code, out, _ = run_cli(monkeypatch, capsysbinary, "check", built["source"] / "cassettes", "--json")
    snapshot = json.loads(out)
    assert done.returncode == code

    def verdicts(doc: dict, base: Path) -> dict:
        return {
            Path(c["path"]).relative_to(base).as_posix(): [(k["invariant"], k["status"]) for k in c.get("checks", [])]
            for c in doc["cassettes"]
        }

    assert verdicts(installed, root) == verdicts(snapshot, built["source"] / "cassettes")
    assert len(installed["cassettes"]) == len(_cassettes(built["source"] / "cassettes"))


def test_a_wheel_without_its_cassettes_is_a_one_line_error(built, tmp_path):
    broken = tmp_path / "site"
    shutil.copytree(built["site"], broken, ignore=lambda d, names: ["cassettes"] if Path(d).name == "quirktape" else [])
    assert (broken / "quirktape" / "__init__.py").exists() and not (broken / "quirktape" / "cassettes").exists()
    for command in ("check", "gauntlet"):
        done = _run(sys.executable, "-m", "quirktape", command, "--library", cwd=tmp_path, pythonpath=broken)
        assert done.returncode == 2, (command, done.stdout, done.stderr)
        assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
        assert "the shipped cassette library is missing" in done.stderr and "reinstall quirktape" in done.stderr


def test_check_library_in_the_editable_install_counts_the_repository(monkeypatch, capsysbinary):
    assert library_root() == ROOT / "cassettes"  # an editable install finds the checkout's library in place
    code, out, err = run_cli(monkeypatch, capsysbinary, "check", "--library", "--json")
    assert out, err
    library = json.loads(out)
    code, out, err = run_cli(monkeypatch, capsysbinary, "check", ROOT / "cassettes", "--json")
    repository = json.loads(out)
    assert len(library["cassettes"]) == len(repository["cassettes"]) == len(_cassettes(ROOT / "cassettes"))
    assert [c["path"] for c in library["cassettes"]] == [c["path"] for c in repository["cassettes"]]


def test_gauntlet_library_routes_every_cassette(tmp_path, monkeypatch, capsysbinary):
    config = tmp_path / "litellm.yaml"
    code, _, err = run_cli(monkeypatch, capsysbinary, "gauntlet", "--library", "--litellm-config", config)
    assert code == 0, err
    models = {m["model_name"] for m in yaml.safe_load(config.read_text())["model_list"]}
    expected = {name.rsplit(".", 1)[0].replace("/", ".") for name in _cassettes(ROOT / "cassettes")}
    assert models == expected


@pytest.mark.parametrize("command", ["check", "gauntlet"])
def test_library_with_paths_is_refused_naming_the_library(command, monkeypatch, capsysbinary):
    cassette = ROOT / "cassettes" / "openai" / "mix-01-text-then-tool.yaml"
    code, out, err = run_cli(monkeypatch, capsysbinary, command, "--library", cassette)
    assert code == 2 and not out and err.count("\n") == 1
    assert "--library takes no CASSETTE|DIR" in err and str(ROOT / "cassettes") in err


def test_gauntlet_needs_cassettes_or_the_library(monkeypatch, capsysbinary):
    code, _, err = run_cli(monkeypatch, capsysbinary, "gauntlet", "--gateway", "http://127.0.0.1:9")
    assert code == 2 and err.count("\n") == 1 and "CASSETTE|DIR... or --library" in err


def test_version_from_the_script_and_from_python_m(built):
    version = metadata.version("quirktape")
    script = Path(sys.executable).parent / "quirktape"
    runs = [
        _run(str(script), "--version", cwd=built["run"]),
        _run(sys.executable, "-m", "quirktape", "--version", cwd=built["run"]),
        _run(sys.executable, "-m", "quirktape", "--version", cwd=built["run"], pythonpath=built["site"]),
    ]
    for done in runs:
        assert done.returncode == 0 and done.stdout.strip().endswith(f"version {version}"), done
    assert runs[1].stdout.startswith("python -m quirktape")
    assert quirktape.__version__ == version


def test_quirktape_names_the_public_api_of_recorder_and_translator():
    for package in (recorder, translator):
        for name in package.__all__:
            assert name in quirktape.__all__ and getattr(quirktape, name) is getattr(package, name), name
    assert quirktape.library_root is library_root

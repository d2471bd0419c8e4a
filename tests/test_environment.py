"""environment.yml (conda / Binder) pins the same packages to the same minor versions as pyproject.toml."""

from __future__ import annotations

import re
import tomllib

import yaml
from repo import ROOT

_PIP_PIN = re.compile(r"^([A-Za-z0-9_.\-]+)==(\d+\.\d+)\.\*$")
_CONDA_PIN = re.compile(r"^([A-Za-z0-9_.\-]+)=(\d+\.\d+)$")


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pyproject_pins(extras: tuple[str, ...] = ("dev",)) -> dict[str, str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    specs = list(project["dependencies"])
    for extra in extras:
        specs += project.get("optional-dependencies", {}).get(extra, [])
    pins = {}
    for spec in specs:
        m = _PIP_PIN.match(spec.replace(" ", ""))
        assert m, f"pyproject.toml: {spec!r} is not pinned to a minor version as 'name==X.Y.*'"
        pins[_norm(m.group(1))] = m.group(2)
    return pins


def environment_pins() -> tuple[dict[str, str], str | None, list[str]]:
    env = yaml.safe_load((ROOT / "environment.yml").read_text(encoding="utf-8"))
    pins, python = {}, None
    for dep in env["dependencies"]:
        assert isinstance(dep, str), f"environment.yml: unexpected entry {dep!r} (a pip: section?)"
        m = _CONDA_PIN.match(dep.replace(" ", ""))
        assert m, f"environment.yml: {dep!r} is not pinned to a minor version as 'name=X.Y'"
        if m.group(1) == "python":
            python = m.group(2)
        else:
            pins[_norm(m.group(1))] = m.group(2)
    return pins, python, env.get("channels", [])


def test_same_packages_same_minor_versions():
    env, _, _ = environment_pins()
    py = pyproject_pins()
    assert sorted(env) == sorted(py), (
        f"only in environment.yml: {sorted(set(env) - set(py))}; only in pyproject.toml: {sorted(set(py) - set(env))}")
    assert {k: env[k] for k in py} == py


def test_conda_forge_and_python_311():
    _, python, channels = environment_pins()
    assert channels == ["conda-forge"]
    assert python == "3.11"
    requires = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["requires-python"]
    assert ">=3.11" in requires


def test_every_package_says_what_uses_it():
    for line in (ROOT / "environment.yml").read_text(encoding="utf-8").splitlines():
        if re.match(r"^\s*-\s+[A-Za-z].*=", line) and "python=" not in line:
            assert "#" in line and line.split("#", 1)[1].strip(), f"environment.yml: no comment on {line.strip()!r}"


def test_postbuild_installs_the_kit_without_dependencies():
    post = (ROOT / "postBuild").read_text(encoding="utf-8")
    assert "pip install --no-deps -e ." in post
    assert (ROOT / "postBuild").stat().st_mode & 0o111

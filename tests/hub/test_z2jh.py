"""The school's deployment (z2jh on Kubernetes), tested as far as a machine without Kubernetes, helm
or a container engine allows:

- deploy/z2jh/config.yaml validates against the chart's own JSON schema (vendored in
  deploy/z2jh/schema/), after helm's merge over the chart's defaults and with the values that the
  documented ``helm upgrade`` command adds (--set-file, --set);
- the Python in ``hub.extraConfig`` compiles, runs against a traitlets Config with the mounted
  crmkit_hub.py, and configures the same roles, spawn hook, start page and kernel culling as the
  one-server hub's jupyterhub_config.py (which tests/hub/test_hub_flow.py runs for real);
- the settings reject bad input with a message naming the variable;
- the single-user image definition copies nothing a student must not read, and builds its
  environment from environment.yml.

None of these need root; the hub tests' skip does not apply to this module.
"""

from __future__ import annotations

import copy
import os
import re
import sys
from pathlib import Path

import pytest
import yaml
from jsonschema import Draft7Validator
from traitlets.config import Config
from traitlets.config.loader import LazyConfigValue

from repo import ROOT

DEPLOY = ROOT / "deploy"
Z2JH = DEPLOY / "z2jh"
sys.path.insert(0, str(DEPLOY / "hub"))

import crmkit_hub  # noqa: E402

MOUNT = "/usr/local/etc/jupyterhub/crmkit"


def _merge(base: dict, over: dict) -> dict:
    """helm's merge of values: maps are merged key by key, everything else (lists too) replaced."""
    out = copy.deepcopy(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _values() -> dict:
    """The values helm validates: chart defaults + config.yaml + the documented --set-file/--set."""
    defaults = yaml.safe_load((Z2JH / "schema" / "values.yaml").read_text(encoding="utf-8"))
    config = yaml.safe_load((Z2JH / "config.yaml").read_text(encoding="utf-8"))
    merged = _merge(defaults, config)
    merged = _merge(merged, {"hub": {
        "extraFiles": {"crmkit-hub": {"stringData": (DEPLOY / "hub" / "crmkit_hub.py").read_text(encoding="utf-8")}},
        "config": {"GenericOAuthenticator": {"client_secret": "from --set"}}}})
    return merged


def _schema_errors(values: dict) -> list[str]:
    schema = yaml.safe_load((Z2JH / "schema" / "values.schema.yaml").read_text(encoding="utf-8"))
    validator = Draft7Validator(schema)
    return [f"{'.'.join(map(str, e.absolute_path)) or '(top)'}: {e.message}"
            for e in sorted(validator.iter_errors(values), key=lambda e: list(map(str, e.absolute_path)))]


def test_the_vendored_schema_is_the_charts_with_its_licence():
    for name in ("values.schema.yaml", "values.yaml", "LICENSE", "README.md"):
        assert (Z2JH / "schema" / name).is_file(), name
    assert "BSD 3-Clause" in (Z2JH / "schema" / "LICENSE").read_text(encoding="utf-8")
    assert "48ea50e34daddde55d76e30df6ecd47e4abd4d8e" in (Z2JH / "schema" / "README.md").read_text(encoding="utf-8")
    # the schema itself is a valid draft-07 schema
    Draft7Validator.check_schema(yaml.safe_load((Z2JH / "schema" / "values.schema.yaml").read_text(encoding="utf-8")))


def test_config_yaml_validates_against_the_charts_schema():
    errors = _schema_errors(_values())
    assert not errors, "deploy/z2jh/config.yaml against the chart's schema:\n" + "\n".join(errors)


def test_the_schema_check_catches_a_wrong_value():
    """The check is not vacuous: a misspelt key and a wrong type are both rejected."""
    bad = _merge(_values(), {"singleuser": {"memroy": {"limit": "2G"}, "cpu": {"limit": "one"}}})
    errors = "\n".join(_schema_errors(bad))
    assert "memroy" in errors and "singleuser.cpu.limit" in errors, errors


def test_what_the_school_deployment_asks_of_the_chart():
    values = yaml.safe_load((Z2JH / "config.yaml").read_text(encoding="utf-8"))
    single = values["singleuser"]
    assert single["image"]["name"] and single["image"]["tag"]
    mounts = {m["mountPath"]: m["name"] for m in single["storage"]["extraVolumeMounts"]}
    claims = {v["name"]: v["persistentVolumeClaim"]["claimName"] for v in single["storage"]["extraVolumes"]}
    env = values["hub"]["extraEnv"]
    assert claims[mounts[env["CRMKIT_EXCHANGE_ROOT"]]] == "crmkit-exchange"
    volumes = list(yaml.safe_load_all((Z2JH / "volumes.yaml").read_text(encoding="utf-8")))
    rwx = {d["metadata"]["name"] for d in volumes
           if d["kind"] == "PersistentVolumeClaim" and d["spec"]["accessModes"] == ["ReadWriteMany"]}
    assert {"crmkit-exchange", env["CRMKIT_K8S_COURSE_CLAIM"]} <= rwx
    assert values["cull"]["enabled"] and values["cull"]["timeout"] == int(env["CRMKIT_IDLE_TIMEOUT"])
    assert single["memory"]["guarantee"] and single["memory"]["limit"] and single["cpu"]["limit"]
    assert values["hub"]["extraFiles"]["crmkit-hub"]["mountPath"] == f"{MOUNT}/crmkit_hub.py"


def _value(v):
    """A list setting as the trait will hold it (a LazyConfigValue's extensions applied to [])."""
    return v.get_value([]) if isinstance(v, LazyConfigValue) else v


def _run_extra_config(code: str, env: dict) -> Config:
    """Run hub.extraConfig as z2jh's jupyterhub_config.py does (exec with ``c`` in scope) with the
    environment of ``hub.extraEnv``; crmkit_hub is imported afresh from the path the code names."""
    compiled = compile(code, "10-crmkit.py", "exec")
    c = Config()
    # z2jh sets the culler's role before extraConfig runs: it must survive
    c.JupyterHub.load_roles = [{"name": "jupyterhub-idle-culler", "services": ["jupyterhub-idle-culler"]}]
    saved_env, saved_path, saved_module = dict(os.environ), list(sys.path), sys.modules.pop("crmkit_hub")
    try:
        os.environ.update(env)
        exec(compiled, {"c": c, "__name__": "z2jh_jupyterhub_config"})
    finally:
        os.environ.clear()
        os.environ.update(saved_env)
        sys.path[:] = saved_path
        sys.modules["crmkit_hub"] = saved_module
    return c


def test_extra_config_compiles_and_configures_what_the_one_server_hub_does(tmp_path):
    values = yaml.safe_load((Z2JH / "config.yaml").read_text(encoding="utf-8"))
    env = {k: str(v) for k, v in values["hub"]["extraEnv"].items()}
    code = values["hub"]["extraConfig"]["10-crmkit.py"]
    assert MOUNT in code
    # without the mounted module the hub stops with the command that fixes it
    with pytest.raises(SystemExit, match="--set-file hub.extraFiles.crmkit-hub.stringData"):
        _run_extra_config(code.replace(MOUNT, str(tmp_path / "missing")), env)
    # the chart mounts crmkit_hub.py at MOUNT; a temporary folder stands in for it
    mount = tmp_path / "crmkit"
    mount.mkdir()
    (mount / "crmkit_hub.py").write_text((DEPLOY / "hub" / "crmkit_hub.py").read_text(encoding="utf-8"))
    k8s = _run_extra_config(code.replace(MOUNT, str(mount)), env)
    roles = k8s.JupyterHub.load_roles
    assert [r["name"] for r in roles] == ["jupyterhub-idle-culler", crmkit_hub.TEACHER_HUB_ROLE], roles

    # the one-server hub's shared part, with the same course settings
    local = Config()
    crmkit_hub.configure(local, crmkit_hub.Settings.from_env(env))
    assert [r for r in roles if r["name"] == crmkit_hub.TEACHER_HUB_ROLE] == _value(local.JupyterHub.load_roles)
    assert k8s.Spawner.default_url == local.Spawner.default_url == "/lab"
    assert _value(k8s.Spawner.args) == _value(local.Spawner.args) != []
    assert k8s.Spawner.pre_spawn_hook.__name__ == local.Spawner.pre_spawn_hook.__name__ == "crmkit_pre_spawn_hook"
    assert k8s.Spawner.start_timeout == local.Spawner.start_timeout
    # the Kubernetes part: a uid per user, the users' group
    assert callable(k8s.KubeSpawner.uid) and k8s.KubeSpawner.gid == 100 and k8s.KubeSpawner.fs_gid == 100


def test_one_server_config_loads_with_the_same_shared_part(tmp_path):
    """deploy/hub/jupyterhub_config.py, loaded as JupyterHub loads it (traitlets' PyFileConfigLoader),
    refuses to start on a server that is not prepared, naming what is missing."""
    from traitlets.config.loader import PyFileConfigLoader

    env = {"CRMKIT_COURSE_DIR": str(tmp_path / "nocourse"), "CRMKIT_EXCHANGE_ROOT": str(tmp_path / "ex"),
           "CRMKIT_DATA_DIR": str(tmp_path / "data"), "CRMKIT_TEACHERS_GROUP": "no-such-group-t",
           "CRMKIT_STUDENTS_GROUP": "no-such-group-s", "CRMKIT_HUB_STATE_DIR": str(tmp_path / "state")}
    saved = dict(os.environ)
    try:
        os.environ.update(env)
        loader = PyFileConfigLoader("jupyterhub_config.py", path=str(DEPLOY / "hub"))
        with pytest.raises(SystemExit) as e:
            loader.load_config()
    finally:
        os.environ.clear()
        os.environ.update(saved)
    msg = str(e.value)
    assert "no Linux group 'no-such-group-t'" in msg and "CRMKIT_COURSE_DIR: no folder" in msg, msg


def test_the_role_environment_is_the_same_on_both_hubs():
    values = yaml.safe_load((Z2JH / "config.yaml").read_text(encoding="utf-8"))
    env = {k: str(v) for k, v in values["hub"]["extraEnv"].items()}
    s = crmkit_hub.Settings.from_env(env)
    teacher, student = crmkit_hub.role_environment("teacher", s), crmkit_hub.role_environment("student", s)
    assert teacher["JUPYTER_CONFIG_PATH"] == "/etc/crmkit/jupyter/teacher"
    assert student["JUPYTER_CONFIG_PATH"] == "/etc/crmkit/jupyter/student"
    assert teacher["CRMKIT_COURSE_DIR"] == "/srv/crmkit/course" and "CRMKIT_COURSE_DIR" not in student
    assert student["CRMKIT_DATA_DIR"] == "/opt/crmkit/data"
    assert "CRMKIT_DB_URL" not in student
    assert crmkit_hub.role_of(["crmkit-teachers", "x"], s) == "teacher"
    assert crmkit_hub.role_of([], s) == "student"
    # the folders the environment names exist in the image definition / the repository
    for role in crmkit_hub.ROLES:
        assert (DEPLOY / "jupyter" / role / "nbgrader_config.py").is_file()


@pytest.mark.parametrize("env, message", [
    ({"CRMKIT_COURSE_DIR": "srv/course"}, "CRMKIT_COURSE_DIR"),
    ({"CRMKIT_IDLE_TIMEOUT": "an hour"}, "CRMKIT_IDLE_TIMEOUT"),
    ({"CRMKIT_IDLE_TIMEOUT": "10"}, "at least 60"),
    ({"CRMKIT_TEACHERS_GROUP": "same", "CRMKIT_STUDENTS_GROUP": "same"}, "must differ"),
    ({"CRMKIT_COURSE_ID": "cus 4lh"}, "CRMKIT_COURSE_ID"),
    ({"CRMKIT_DB_URL": "postgresql://u:p@db/gb"}, "postgresql+psycopg2://"),
    ({"CRMKIT_DB_URL": "db.example.fi"}, "SQLAlchemy URL"),
])
def test_bad_settings_get_a_clear_error(env, message):
    with pytest.raises(crmkit_hub.SettingsError, match=re.escape(message)):
        crmkit_hub.Settings.from_env(env)


def test_bad_kubernetes_settings_get_a_clear_error():
    with pytest.raises(crmkit_hub.SettingsError, match="CRMKIT_K8S_UID_BASE"):
        crmkit_hub.KubeSettings.from_env({"CRMKIT_K8S_UID_BASE": "lots"})


def test_the_image_copies_nothing_a_student_must_not_read():
    """deploy/z2jh/Dockerfile: the environment from environment.yml (without the test tools), the
    package, the data world and the role configuration; never solutions/, grading/ or course/."""
    text = (Z2JH / "Dockerfile").read_text(encoding="utf-8")
    lines = [ln.strip() for ln in re.sub(r"\\\n", " ", text).splitlines() if ln.strip() and not ln.strip().startswith("#")]
    copies = [ln.split()[1:-1] for ln in lines if ln.startswith("COPY ")]
    sources = {src for srcs in copies for src in srcs if not src.startswith("--")}
    assert sources == {"environment.yml", "pyproject.toml", "README.md", "crmkit", "data", "deploy/jupyter"}, sources
    assert not any(ln.startswith("ADD ") for ln in lines)
    assert "micromamba install" in text and "environment.yml" in text
    assert "--no-deps" in text and "pip install -e" not in text  # installed, not a link to a source tree
    ignore = (Z2JH / "Dockerfile.dockerignore").read_text(encoding="utf-8").split()
    assert {"solutions", "grading", ".venv"} <= set(ignore)
    # the packages the servers need stay in the image's environment after the test tools are dropped
    env = [ln for ln in (ROOT / "environment.yml").read_text(encoding="utf-8").splitlines()
           if ln.strip().startswith("- ") and "pyproject's [dev] extra" not in ln]
    names = {ln.split("-", 1)[1].split("=")[0].strip() for ln in env}
    assert {"jupyterhub", "nbgrader", "jupyterlab", "psycopg2-binary", "ipykernel"} <= names
    assert not {"pytest", "playwright"} & names

"""Keep Jupyter, IPython, matplotlib and nbgrader state inside the course directory.

Tests and the demo must never write to the user's home: every config, data and runtime path is
pointed into ``<course>/.jupyter`` (git-ignored) unless the caller already set it, e.g. a test that
points it into a temporary folder. Outside a course the state goes to a folder in the system's
temporary directory.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from crmkit.engine.coursedir import find_root


def default_base() -> Path:
    """``<course>/.jupyter`` for the course found from the working folder, else a temporary folder."""
    root = find_root()
    if root is not None:
        return root / ".jupyter"
    return Path(tempfile.gettempdir()) / f"crmkit-jupyter-{os.getuid()}"


def jupyter_state_env(base: Path | None = None) -> dict[str, str]:
    """Return the environment variables that keep Jupyter state under `base` (:func:`default_base`)."""
    base = Path(base) if base else default_base()
    return {
        "JUPYTER_CONFIG_DIR": str(base / "config"),
        "JUPYTER_DATA_DIR": str(base / "data"),
        "JUPYTER_RUNTIME_DIR": str(base / "runtime"),
        "JUPYTER_PLATFORM_DIRS": "1",
        "JUPYTERLAB_SETTINGS_DIR": str(base / "lab" / "user-settings"),
        "JUPYTERLAB_WORKSPACES_DIR": str(base / "lab" / "workspaces"),
        "IPYTHONDIR": str(base / "ipython"),
        "MPLCONFIGDIR": str(base / "matplotlib"),
    }


def isolate_jupyter_state(base: Path | None = None, override: bool = False) -> dict[str, str]:
    """Set the variables of :func:`jupyter_state_env` in ``os.environ`` and create the folders.

    Variables the caller already set are kept unless ``override`` is true. MPLBACKEND is
    deliberately not set: ipykernel only selects the inline backend when MPLBACKEND is unset, so
    setting it (e.g. to Agg) would hide every plot in JupyterLab, and plt.show() would then warn on
    stderr, which nbgrader counts as a failed test cell. Headless scripts fall back to Agg anyway.
    """
    env = jupyter_state_env(base)
    for key, value in env.items():
        if override or key not in os.environ:
            os.environ[key] = value
        if key.endswith("DIR"):
            Path(os.environ[key]).mkdir(parents=True, exist_ok=True)
    return {k: os.environ[k] for k in env}

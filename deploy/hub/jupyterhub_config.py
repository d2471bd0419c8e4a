"""JupyterHub for one class on one Linux server (``make hub``, or the systemd unit crmkit-hub.service).

Run as root from the course environment: ``<venv>/bin/jupyterhub -f deploy/hub/jupyterhub_config.py``.
The course's settings are the ``CRMKIT_*`` variables of :class:`crmkit_hub.Settings`
(deploy/hub/hub.env.example lists them); these are read here as well:

- ``CRMKIT_HUB_BIND_URL``: where students connect (default ``http://:8000``; put TLS in front,
  see deploy/README.md);
- ``CRMKIT_HUB_STATE_DIR``: the hub's database, cookie secret and pid files (default
  ``/srv/crmkit/hub``, root only);
- ``CRMKIT_HUB_PORT`` / ``CRMKIT_HUB_PROXY_API_PORT``: the hub's and the proxy's internal loopback
  ports (defaults 8081 / 8001);
- ``CRMKIT_HUB_API_TOKEN``: optional admin token for scripts (bench/bench_hub.py, user management).

The configuration itself is in crmkit_hub.py, shared with the z2jh chart's ``hub.extraConfig``.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import crmkit_hub  # noqa: E402

c = get_config()  # noqa: F821 - injected by traitlets when it loads this file

settings = crmkit_hub.Settings.from_env()
python_bin = os.path.dirname(sys.executable)
problems = crmkit_hub.local_problems(settings, python_bin)
if problems:
    raise SystemExit("crmkit hub: not ready:\n  - " + "\n  - ".join(problems))


def _port(name: str, default: int) -> int:
    raw = os.environ.get(name, "")
    if not raw:
        return default
    if not raw.isdigit() or not 0 < int(raw) < 65536:
        raise SystemExit(f"crmkit hub: {name}={raw!r} is not a port number")
    return int(raw)


crmkit_hub.configure(c, settings)
crmkit_hub.configure_local(
    c, settings,
    python_bin=python_bin,
    state_dir=os.environ.get("CRMKIT_HUB_STATE_DIR") or "/srv/crmkit/hub",
    bind_url=os.environ.get("CRMKIT_HUB_BIND_URL") or "http://:8000",
    hub_port=_port("CRMKIT_HUB_PORT", 8081),
    proxy_api_port=_port("CRMKIT_HUB_PROXY_API_PORT", 8001),
    api_token=os.environ.get("CRMKIT_HUB_API_TOKEN", ""),
)

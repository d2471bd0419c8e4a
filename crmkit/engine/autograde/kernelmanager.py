"""The kernel manager nbgrader's Execute uses while autograding: the kernel in the sandbox.

:class:`SandboxKernelManager` is jupyter_client's AsyncKernelManager with the kernel started
inside bubblewrap with resource limits (:mod:`.sandbox`), or, with ``zygote_address``, forked
from the worker's warm zygote already running in the sandbox (:mod:`.kernelpool`). It talks to the
kernel over ``ipc`` sockets in a short runtime folder and interrupts by message.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from uuid import uuid4

from jupyter_client.manager import AsyncKernelManager
from traitlets import Bool, Dict, Integer, List, Unicode

from crmkit.engine.autograde.kernelpool import ZygoteProvisioner
from crmkit.engine.autograde.sandbox import (
    Limits,
    kernel_environment,
    sandboxed_command,
)


class SandboxKernelManager(AsyncKernelManager):
    """An AsyncKernelManager that starts the kernel inside bubblewrap with resource limits.

    Configured through traitlets (nbgrader passes its config on to the kernel manager), e.g.
    ``c.SandboxKernelManager.scratch_dir = "/…/scratch"``. Transport is ``ipc`` with the connection
    file and sockets in ``runtime_dir``. With ``zygote_address`` the kernel is not started but
    forked from a warm zygote already running in the sandbox (:mod:`crmkit.engine.autograde.kernelpool`).
    """

    scratch_dir = Unicode("", help="the kernel's only writable folder (and its working folder)").tag(config=True)
    runtime_dir = Unicode("", help="connection file and ipc sockets (short path: Unix socket limit)").tag(config=True)
    hide = List(Unicode(), help="folders replaced by empty ones inside the sandbox").tag(config=True)
    expose = List(Unicode(), help="folders bound back read-only (data world, packages)").tag(config=True)
    memory_mb = Integer(2048).tag(config=True)
    nproc = Integer(512).tag(config=True)
    fsize_mb = Integer(1024).tag(config=True)
    use_bwrap = Bool(True, help="False: resource limits only (no sandbox could be made)").tag(config=True)
    zygote_address = Unicode("", help="socket of a warm zygote to fork the kernel from ('' = start one)").tag(
        config=True)
    extra_env = Dict(Unicode(), help="more environment for the kernel (e.g. CRMKIT_DATA_DIR)").tag(config=True)

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.forked = None  # the forked kernel (set by ZygoteProvisioner): its exit code and memory
        if not self.scratch_dir:
            self.scratch_dir = tempfile.mkdtemp(prefix="crmkit-scratch-")
        if not self.runtime_dir:
            self.runtime_dir = tempfile.mkdtemp(prefix="crmkit-rt-")
        Path(self.scratch_dir).mkdir(parents=True, exist_ok=True)
        Path(self.runtime_dir).mkdir(parents=True, exist_ok=True)
        self.transport = "ipc"
        self.client_class = "crmkit.engine.autograde.kernelclient.GraderClient"
        name = os.urandom(4).hex()
        self.connection_file = os.path.join(self.runtime_dir, f"kernel-{name}.json")
        self.ip = os.path.join(self.runtime_dir, f"k{name}")
        # the kernel runs as nobody: it must be able to use its folders
        for d in (self.scratch_dir, self.runtime_dir):
            os.chmod(d, 0o777)

    @property
    def limits(self) -> Limits:
        """The resource limits as configured."""
        return Limits(memory_mb=self.memory_mb, nproc=self.nproc, fsize_mb=self.fsize_mb)

    def kernel_env(self) -> dict[str, str]:
        """The kernel's whole environment (the grader's is not passed on)."""
        return {**kernel_environment(self.scratch_dir, self.runtime_dir), **self.extra_env}

    def format_kernel_cmd(self, extra_arguments=None):
        cmd = super().format_kernel_cmd(extra_arguments)
        return sandboxed_command(cmd, self.scratch_dir, self.runtime_dir, list(self.hide), list(self.expose),
                                 self.limits, self.use_bwrap)

    async def _async_pre_start_kernel(self, **kw):
        kw["env"] = {**self.kernel_env(), **{k: v for k, v in (kw.get("env") or {}).items()
                                             if k.startswith("NBGRADER")}}
        kw["cwd"] = self.scratch_dir
        if self.zygote_address and self.provisioner is None:
            self.kernel_id = self.kernel_id or str(uuid4())
            self.provisioner = ZygoteProvisioner(kernel_id=self.kernel_id, kernel_spec=self.kernel_spec, parent=self)
        cmd, kw = await super()._async_pre_start_kernel(**kw)
        # signals to the sandbox would hit the shell too: interrupt by message (ipykernel supports it)
        self.kernel_spec.interrupt_mode = "message"
        os.chmod(self.connection_file, 0o644)
        return cmd, kw

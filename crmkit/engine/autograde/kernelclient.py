"""The kernel client the grader talks to its kernels with (``SandboxKernelManager.client_class``),
and :func:`ipc_kernel_manager` for the kit's other local kernels.

jupyter_client's AsyncKernelClient with two changes that cost nothing in correctness:

* **no lost wake-ups**: waiting for a message on a channel is done in slices of half a second.
  With ipywidget cells, a reply that has already arrived is sometimes not noticed until the
  whole wait times out (nbclient issue #312, still open): the cell then takes its full time limit
  (120 s) to "finish", with its outputs intact. We saw it in about one grading of 40 of
  00_aloitus. A fresh poll notices the waiting message at once, so a missed wake-up now costs at
  most 0.5 s;
* **ready without a fixed wait**: ``wait_for_ready`` proves that the kernel answers (kernel_info)
  and that IOPub is subscribed (a message arrives on it), as jupyter_client's does, and then
  drops the queued startup messages without waiting 0.2 s for silence (nbclient ignores
  messages that do not answer its own requests anyway). A forked kernel (:mod:`crmkit.engine.autograde.kernelpool`)
  is ready in ~0.1 s, so the fixed wait was most of its start.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from contextlib import contextmanager
from queue import Empty

from jupyter_client.asynchronous import AsyncKernelClient
from jupyter_client.channels import AsyncZMQSocketChannel
from traitlets import Type

SLICE = 0.5  # seconds


class SlicedChannel(AsyncZMQSocketChannel):
    """A channel whose ``get_msg`` waits in slices of :data:`SLICE` seconds (see the module docstring)."""

    async def get_msg(self, timeout: float | None = None):
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            step = SLICE if deadline is None else max(0.0, min(SLICE, deadline - time.monotonic()))
            try:
                return await super().get_msg(timeout=step)
            except Empty:
                if deadline is not None and time.monotonic() >= deadline:
                    raise


class GraderClient(AsyncKernelClient):
    """AsyncKernelClient with sliced waits and a quick ``wait_for_ready`` (see the module docstring)."""

    shell_channel_class = Type(SlicedChannel)
    iopub_channel_class = Type(SlicedChannel)
    stdin_channel_class = Type(SlicedChannel)
    control_channel_class = Type(SlicedChannel)

    async def _async_wait_for_ready(self, timeout: float | None = None) -> None:
        deadline = time.monotonic() + (timeout if timeout is not None else 60)
        while True:
            self.kernel_info()
            try:
                reply = await self.shell_channel.get_msg(timeout=1)
            except Empty:
                reply = None
            if reply is not None and reply["msg_type"] == "kernel_info_reply":
                try:
                    await self.iopub_channel.get_msg(timeout=0.2)
                except Empty:
                    pass  # IOPub not subscribed yet: ask again
                else:
                    self._handle_kernel_info_reply(reply)
                    break
            if not await self._async_is_alive():
                raise RuntimeError("Kernel died before replying to kernel_info")
            if time.monotonic() > deadline:
                raise RuntimeError(f"Kernel didn't respond in {timeout} seconds")
        while True:
            try:
                await self.iopub_channel.get_msg(timeout=0)
            except Empty:
                return

    wait_for_ready = _async_wait_for_ready


@contextmanager
def ipc_kernel_manager(kernel_name: str = "python3"):
    """An AsyncKernelManager for a local kernel that talks over ipc sockets in a temporary folder
    (no TCP ports; ipykernel 7 warns on stderr about unencrypted TCP), for nbclient's ``km=``."""
    from jupyter_client.manager import AsyncKernelManager
    from jupyter_core.utils import run_sync

    sockets = tempfile.mkdtemp(prefix="crmkit-k-")  # short: Unix socket paths are limited to ~107 bytes
    km = AsyncKernelManager(kernel_name=kernel_name, transport="ipc", ip=os.path.join(sockets, "k"))
    try:
        yield km
    finally:  # nbclient leaves a kernel it did not start itself running
        if km.has_kernel:
            run_sync(km.shutdown_kernel)(now=True)
        shutil.rmtree(sockets, ignore_errors=True)

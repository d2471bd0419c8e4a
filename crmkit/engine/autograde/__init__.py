"""Parallel, sandboxed autograding that loses nothing (``crmkit autograde``).

* :mod:`.batch` – plan a batch, run it in a pool of workers, record every outcome;
* :mod:`.worker` – grade one submission with nbgrader's own Autograde converter;
* :mod:`.submission` – check a submitted notebook before it runs; hash it;
* :mod:`.sandbox` – the bubblewrap sandbox and resource limits of a student's kernel;
* :mod:`.kernelpool` – warm kernels: a zygote per worker forks each student's kernel;
* :mod:`.kernelmanager` – the kernel manager nbgrader's Execute uses: sandboxed, maybe forked;
* :mod:`.kernelclient` – a kernel client that never misses a reply.
"""

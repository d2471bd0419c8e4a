"""The course layer: this course's notebooks and data world, on top of the engine and runtime.

* :mod:`.authoring` – build nbgrader source notebooks with the kit's metadata; outcome ids, levels;
* :mod:`.gates` – the quality gates over ``solutions/`` and ``notebooks/``;
* :mod:`.matrix` – the learning-outcome matrix in ``course/osaamistavoitteet.md``;
* :mod:`.bundle` – the student kit, provably without solutions or answer keys;
* :mod:`.demo_class` – the simulated class of ``crmkit demo``;
* :mod:`.world` – the data world's generator.
"""

"""The sample data world's generator (``crmkit data``): one fictional Finnish coffee roastery.

``generate.generate_world(seed, scale)`` makes every table deterministically and vectorised;
``generate.write_world(folder)`` writes them as CSV, the SQLite CRM (:mod:`.crmdb`) and the messy
Excel export (:mod:`.messy`). Reading the world is the student runtime's job
(:mod:`crmkit.runtime.data`). The planted structure is documented for teachers only, in
``course/opettaja-aineiston-avain.md``.
"""

"""crmkit: the course kit of CUS4LH102 Asiakkuuksien johtaminen.

The sample data world, the mini-CRM, and the grading tools that sit on top of nbgrader.
"""

__version__ = "0.1.0"

"""Small nbgrader course notebooks built with crmkit.course.authoring, for proving the quality gates.

``good_cells()`` is a tiny lesson that passes every gate; the ``bad_*`` variants each break one
gate on purpose, so the tests can show that every gate can fail.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from repo import ROOT, course_at

from crmkit.course import authoring as a

SLUG = "99_kokeilu"

SETUP = "from crmkit.runtime import lesson\nlesson.setup(min_version=\"0.1.0\")\nimport pandas as pd"

ANSWER_1 = '''def mediaani(arvot):
    """Palauta arvojen mediaani."""
    ### BEGIN SOLUTION
    return float(pd.Series(arvot).median())
    ### END SOLUTION'''

TESTS_1 = '''"""Tarkistaa, että mediaani lasketaan oikein."""
tulos = mediaani([1, 2, 3, 100])
assert tulos != 26.5, "Laskit keskiarvon, et mediaania."
assert tulos == 2.5, f"Odotettiin 2.5, saatiin {tulos}."
### BEGIN HIDDEN TESTS
assert mediaani([5]) == 5.0
### END HIDDEN TESTS'''

ANSWER_2 = '''### BEGIN SOLUTION
osuus = 3 / 12
### END SOLUTION'''

TESTS_2 = '''"""Tarkistaa osuuden."""
assert osuus != 25, "Anna osuus desimaalilukuna (0.25), ei prosentteina."
assert 0 <= osuus <= 1, "Osuus on luku väliltä 0–1; jaoitko väärin päin?"
### BEGIN HIDDEN TESTS
assert abs(osuus - 0.25) < 1e-9
### END HIDDEN TESTS'''

RUBRIC = """**Tehtävä 1.3** (2 p) Miksi mediaani kertoo tyypillisestä asiakkaasta paremmin kuin keskiarvo?

| arvosana | kuvaus |
| --- | --- |
| 1 | mainitsee poikkeavat arvot |
| 3 | selittää, miten poikkeava arvo vetää keskiarvoa |
| 5 | liittää perustelun asiakastietoon omin luvuin |"""


def good_cells(total: int = 5) -> list:
    return [
        a.markdown(f"# 99 Kokeilu\n\nTesti-muistikirja.\n\n{a.TOTAL_PHRASE} {total}\n\n"
                   "Taulu `customers` ja sarake `customers.customer_id`."),
        a.code(SETUP, locked=True, cell_id="setup"),
        a.parameters("DATA_DIR = None"),
        a.markdown("**Tehtävä 1.1** (2 p) Kirjoita funktio `mediaani`."),
        a.answer("t1_mediaani", ANSWER_1, outcomes=["A1"], level="1-2", wrong=[
            a.wrong("mean instead of median",
                    "return float(pd.Series(arvot).mean())", expect="keskiarvo"),
        ]),
        a.tests("t1_mediaani_testit", TESTS_1, points=2, outcomes=["A1"], level="1-2"),
        a.markdown("**Tehtävä 1.2** (1 p) Laske osuus."),
        a.answer("t2_osuus", ANSWER_2, outcomes=["A2"], level="1-2", wrong=[
            a.wrong("percent instead of share", "osuus = 3 / 12 * 100", expect="desimaalilukuna"),
            a.wrong("upside down", "osuus = 12 / 3", expect="väärin päin"),
        ]),
        a.tests("t2_osuus_testit", TESTS_2, points=1, outcomes=["A2"], level="1-2"),
        a.manual("t3_perustelu", RUBRIC, "Mediaani ei reagoi yksittäisiin suuriin ostoihin.",
                 points=2, outcomes=["A2"], level="3-4"),
        a.markdown("## Yhteenveto\n\n- mediaani"),
    ]


def make_course(tmp: Path, cells: list | None = None, slug: str = SLUG, release: bool = True) -> Path:
    """A course directory in ``tmp`` with the kit's nbgrader_config.py and one assignment.

    With ``release`` the release is generated into notebooks/ (as `make release` would).
    """
    from crmkit.engine import nbg

    course = tmp / "course"
    course.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(ROOT / "nbgrader_config.py", course / "nbgrader_config.py")
    a.write(cells if cells is not None else good_cells(), course / "solutions" / slug / f"{slug}.ipynb")
    if release:
        nbg.generate(course_at(course), slug)
    return course



def policy(settings: str = "", sections: str = "", slug: str = SLUG) -> str:
    """A grading policy (grading/policy.toml) with one category holding the fixture assignment;
    ``settings`` are top-level lines, ``sections`` TOML sections after the scale."""
    return (f'course = "TEST"\nassignments_from = "solutions"\n{settings}'
            f'[[categories]]\nname = "harjoitukset"\ntitle = "Harjoitukset"\nweight = 1.0\nassignments = ["{slug}"]\n'
            '[scale]\nfail = "H"\nthresholds = { "1" = 50, "2" = 60, "3" = 70, "4" = 80, "5" = 90 }\n'
            f"{sections}")

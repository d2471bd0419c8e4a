"""Feedback that keeps the hidden tests hidden (``crmkit feedback ASSIGNMENT``).

nbgrader's ``generate_feedback`` renders the autograded notebook, in which OverwriteCells has put
the hidden tests back: the feedback would show their source, and a failing test's traceback quotes
the failing line and the lines around it. The kit runs nbgrader's own GenerateFeedback converter
with one more preprocessor in front, :class:`HideHiddenTests`, which works on the in-memory copy
(the autograded notebook is never changed):

* every ``### BEGIN HIDDEN TESTS`` … ``### END HIDDEN TESTS`` region is removed from the source;
* an error in a test cell keeps only ``ename: message`` (no traceback); if the failing line is a
  hidden test, the message is replaced by *Piilotettu testi ei mennyt läpi* (the assert message
  could quote the hidden check);
* any other output of a test cell that quotes a hidden line is dropped.

Afterwards every page is checked: no non-trivial hidden-test line of ``solutions/<slug>`` may
appear in its text (:func:`leaks`); a page that fails the check is removed and reported.

A failed submission (status file) gets a page that says why, in Finnish, above nbgrader's feedback
when there is an autograded notebook, or on its own when the notebook could not be graded at all.
"""

from __future__ import annotations

import html
import re

from nbconvert import HTMLExporter
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import List as TList
from traitlets import Unicode

from crmkit.engine import cells, status
from crmkit.engine.coursedir import CourseDir
from crmkit.engine.jupyter_env import isolate_jupyter_state
from crmkit.runtime.lesson import SKIPPED_CHECK

_TAG = re.compile(r"<[^>]+>")
HIDDEN_FAILED = "Piilotettu testi ei mennyt läpi (piilotettujen testien koodia ei näytetä palautteessa)."


def page_text(text: str) -> str:
    """What a reader sees in an HTML page: tags removed, entities decoded."""
    return html.unescape(_TAG.sub("", text))


def leaks(html_text: str, lines: set[str], public: set[str] = frozenset()) -> list[str]:
    """The hidden-test lines that appear in the page's text.

    A whole line of the page counts; so does a hidden line inside a longer line of the page, unless
    a visible line of the notebook contains it (``_x = f(a)`` hidden, ``_x = f(a).g()`` visible).
    """
    text = page_text(html_text)
    seen = {l.strip() for l in text.splitlines()}
    return sorted(l for l in lines
                  if l in seen or (l in text and not any(l in p for p in public)))


_FAILING_LINE = re.compile(r"^-*>\s*\d+\s(.*)$", re.M)


def student_error(out: dict, hidden: set[str]) -> tuple[str, str]:
    """(error name, message) of a test cell's error output as the student may see it: the message
    of a failing hidden test, or one that quotes a hidden line, is :data:`HIDDEN_FAILED`."""
    tb = [cells.strip_ansi(t) for t in out.get("traceback", [])]
    failing = next((m.group(1).strip() for t in tb for m in [_FAILING_LINE.search(t)] if m), "")
    ename, evalue = out.get("ename", "Error"), str(out.get("evalue", ""))
    if failing in hidden or any(h in evalue for h in hidden):
        evalue = HIDDEN_FAILED
    return ename, evalue


#: the message recorded for a failed test whose exercise was left unanswered (the stub ran)
UNANSWERED = "(ei vastattu)"


def failure_messages(nb, hidden: set[str]) -> dict[str, str]:
    """Test cell grade_id -> the first line of the message its failure showed the student (never a
    hidden test's text), for every test cell of an executed notebook that failed; :data:`UNANSWERED`
    when the answer cell before it still raised the stub's NotImplementedError."""
    found, unanswered = {}, False
    for cell in nb.cells:
        if cells.is_answer(cell):
            unanswered = any(e.get("ename") == "NotImplementedError" for e in cells.errors(cell))
        if not cells.is_test(cell):
            continue
        errs = cells.errors(cell)
        if errs and (unanswered or errs[0].get("ename") == "NotImplementedError"):  # a skeleton's stub raises here
            found[cells.grade_id(cell)] = UNANSWERED
            continue
        for out in cells.errors(cell):
            ename, evalue = student_error(out, hidden | {l.strip() for r in cells.hidden_regions(cell.source)
                                                         for l in r if l.strip()})
            first = next((l.strip() for l in evalue.splitlines() if l.strip()), "")
            found[cells.grade_id(cell)] = first if ename == "AssertionError" and first else \
                (f"{ename}: {first}" if first else ename)
            break
    return found


def skipped_checks(nb) -> list[str]:
    """Grade ids of the test cells of an executed notebook that said their check cannot be computed
    from this data (:func:`crmkit.runtime.lesson.skip_check`): the teacher grades them by hand."""
    return [cells.grade_id(cell) for cell in nb.cells
            if cells.is_test(cell) and any(SKIPPED_CHECK in "".join(o.get("text", "")) for o in cell.get("outputs", [])
                                           if o.get("output_type") == "stream")]


class HideHiddenTests(NbGraderPreprocessor):
    """Remove hidden tests, and any output quoting them, from the notebook being rendered."""

    extra_hidden = TList(Unicode(), help="hidden lines from the source notebook").tag(config=True)

    def preprocess_cell(self, cell, resources, index):
        """Strip the cell's hidden tests, and outputs that quote one."""
        if cell.cell_type != "code":
            return cell, resources
        regions = cells.hidden_regions(cell.source)
        own = {l.strip() for r in regions for l in r if l.strip()}
        if not (cells.is_test(cell) or regions):
            return cell, resources
        hidden = own | set(self.extra_hidden)
        cell.source = cells.strip_hidden(cell.source)
        outputs = []
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                ename, evalue = student_error(out, hidden)
                out["evalue"] = evalue
                out["traceback"] = [f"{ename}: {evalue}" if evalue else ename]
                outputs.append(out)
                continue
            text = str(out)
            if any(h in text for h in hidden):
                continue
            outputs.append(out)
        cell.outputs = outputs
        return cell, resources


_FOCUSABLE = {"jp-Cell-inputWrapper", "jp-OutputArea-output"}
_DIV_TAG = re.compile(r'<div(?P<attrs>\s[^<>]*?\bclass="(?P<cls>[^"]*)"[^<>]*?)(?P<end>/?)>')
_IMG_NO_ALT = re.compile(r"<img(?![^<>]*\balt=)(?=[\s/>])")
NO_ALT = "No description has been provided for this image"


class FeedbackHTMLExporter(HTMLExporter):
    """nbconvert's HTMLExporter without its BeautifulSoup pass, which took half the time of a
    feedback page (pure-Python parsing of ~10,000 tags). The pass only adds accessibility
    attributes; they are added here by pattern on the template's own markup (code and outputs
    in the page are escaped, so only real tags match): ``alt`` on images that have none and
    ``tabindex="0"`` on input and output areas. ``tests/engine/test_autograde.py`` compares the result
    with nbconvert's: the same text, images with alt text and focusable areas.

    The first lines repeat what ``HTMLExporter.from_notebook_node`` does before rendering
    (nbconvert 7.17).
    """

    def from_notebook_node(self, nb, resources=None, **kw):
        from nbconvert.exporters.templateexporter import TemplateExporter
        from nbconvert.filters.highlight import Highlight2HTML
        from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter

        langinfo = nb.metadata.get("language_info", {})
        lexer = langinfo.get("pygments_lexer", langinfo.get("name", None))
        self.register_filter("highlight_code", self.filters.get(
            "highlight_code", Highlight2HTML(pygments_lexer=lexer, parent=self)))
        resources = self._init_resources(resources)
        self.register_filter("filter_data_type", WidgetsDataTypeFilter(
            notebook_metadata=self._nb_metadata, parent=self, resources=resources))
        page, resources = TemplateExporter.from_notebook_node(self, nb, resources, **kw)
        return accessible(page), resources


def accessible(page: str) -> str:
    """Alt text on images without one, ``tabindex="0"`` on input and output areas (see above)."""

    def focusable(m: re.Match) -> str:
        if _FOCUSABLE.isdisjoint(m["cls"].split()) or "tabindex=" in m["attrs"]:
            return m[0]
        return f'<div{m["attrs"]} tabindex="0"{m["end"]}>'

    page = _DIV_TAG.sub(focusable, page)
    return _IMG_NO_ALT.sub(f'<img alt="{NO_ALT}"', page)


def _banner(reason: str) -> str:
    return ('<div style="background:#fff3f0;border-left:6px solid #c0392b;padding:1em 1.2em;margin:1em;'
            'font-family:sans-serif;font-size:1.05em">'
            "<strong>Palautustasi ei voitu arvioida kokonaan.</strong><br>"
            f"Syy: {html.escape(reason)}<br>"
            "Korjaa muistikirja (aja se alusta loppuun: <em>Kernel → Restart Kernel and Run All Cells</em>) "
            "ja palauta se uudelleen, tai kysy opettajalta.</div>")


def _standalone(slug: str, student: str, reason: str) -> str:
    return (f'<!DOCTYPE html>\n<html lang="fi">\n<head><meta charset="utf-8"><title>{html.escape(slug)} – '
            f"palaute</title></head>\n<body>\n<h1>{html.escape(slug)}: palaute ({html.escape(student)})</h1>\n"
            f"{_banner(reason)}\n<p>Muistikirjaa ei voitu ajaa, joten pisteitä ei ole. Palautteessa ei ole "
            "muuta sisältöä.</p>\n</body>\n</html>\n")


def generate(course: CourseDir, slug: str, students: list[str] | None = None, say=print) -> dict:
    """Write feedback pages for ``slug``; return {"written": [...], "failed": [...], "leaks": [...]}."""
    import logging

    from nbgrader.converters import GenerateFeedback
    from nbgrader.coursedir import CourseDirectory

    isolate_jupyter_state(course.root / ".jupyter")
    source = cells.read(course.source_notebook(slug))
    lines = cells.hidden_lines(source)
    public = cells.public_lines(source)
    entries = status.read(course.status_file(slug))
    graded = sorted(p.parent.parent.name for p in course.step_dir("autograded").glob(f"*/{slug}/{slug}.ipynb"))
    if students:
        graded = [s for s in graded if s in students]
    result = {"written": [], "failed": [], "leaks": []}
    log = logging.getLogger("crmkit.feedback")
    log.propagate = False
    if not log.handlers:
        log.addHandler(logging.NullHandler())
    defaults = list(GenerateFeedback.class_traits()["preprocessors"].default())
    for student in graded:
        cfg = course.nbgrader_config(
            CourseDirectory={"assignment_id": slug, "student_id": student},
            BaseConverter={"force": True},
            HideHiddenTests={"extra_hidden": sorted(lines)},
            GenerateFeedback={"preprocessors": [HideHiddenTests] + defaults, "exporter_class": FeedbackHTMLExporter})
        try:
            GenerateFeedback(coursedir=CourseDirectory(config=cfg, log=log), config=cfg, log=log).start()
        except BaseException as e:  # noqa: BLE001 - one student's feedback failing must not stop the rest
            say(f"feedback {slug} / {student}: nbgrader could not render it ({type(e).__name__}: {e})")
    students_all = set(graded) | {s for s, e in entries.items() if e.get("status") == status.FAILED}
    if students:
        students_all &= set(students)
    for student in sorted(students_all):
        page = course.feedback_page(slug, student)
        entry = entries.get(student, {})
        if entry.get("status") == status.FAILED:
            reason = entry.get("reason") or "syy ei tiedossa"
            if page.exists():
                text = page.read_text(encoding="utf-8")
                text = re.sub(r"(<body[^>]*>)", lambda m: m.group(1) + _banner(reason), text, count=1)
            else:
                text = _standalone(slug, student, reason)
            page.parent.mkdir(parents=True, exist_ok=True)
            page.write_text(text, encoding="utf-8")
            result["failed"].append(student)
        if not page.exists():
            continue
        found = leaks(page.read_text(encoding="utf-8"), lines, public)
        if found:
            page.unlink()
            result["leaks"].append((student, found))
            say(f"feedback {slug} / {student}: REMOVED, it showed hidden-test lines: {found[:3]}")
            continue
        result["written"].append(page)
    return result

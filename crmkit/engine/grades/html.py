"""Self-contained HTML pages for the profile and the class report: plots embedded as PNG (base64).

Plots are drawn on :class:`matplotlib.figure.Figure` directly (no pyplot, no GUI backend, no
global state), and saved without a timestamp so the same data gives the same page.
"""

from __future__ import annotations

import base64
import html
import io

STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; max-width: 1100px; margin: 2em auto;
       padding: 0 1em; color: #222; line-height: 1.45; }
h1 { font-size: 1.6em; } h2 { font-size: 1.25em; margin-top: 2em; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; margin: 1em 0; font-size: 0.92em; }
th, td { border: 1px solid #ccc; padding: 0.3em 0.6em; text-align: left; vertical-align: top; }
th { background: #f3f3f3; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
.rule { background: #f7f7ee; border-left: 4px solid #b5a642; padding: 0.6em 1em; }
.warn { background: #fff3f0; border-left: 4px solid #c0392b; padding: 0.6em 1em; }
.muted { color: #666; font-size: 0.9em; }
img { max-width: 100%; height: auto; }
"""


def esc(value) -> str:
    """Text made safe for HTML."""
    return html.escape("" if value is None else str(value))


def figure_png(fig) -> str:
    """An ``<img>`` tag with the figure as an embedded PNG."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight", metadata={"Software": None})
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    return f'<img alt="" src="data:image/png;base64,{data}">'


def table(header: list[str], rows: list[list], numeric: set[int] = frozenset(), raw: set[int] = frozenset()) -> str:
    """An HTML table; ``numeric`` columns right-aligned, ``raw`` columns already HTML (escaped by the caller)."""
    head = "".join(f"<th>{esc(h)}</th>" for h in header)
    body = []
    for row in rows:
        cells = "".join(f'<td class="num">{esc(v)}</td>' if i in numeric else
                        (f"<td>{v}</td>" if i in raw else f"<td>{esc(v)}</td>") for i, v in enumerate(row))
        body.append(f"<tr>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def page(title: str, body: str, lang: str = "fi") -> str:
    """A whole self-contained page."""
    return (f'<!DOCTYPE html>\n<html lang="{lang}">\n<head>\n<meta charset="utf-8">\n'
            f"<title>{esc(title)}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n{body}\n</body>\n</html>\n")

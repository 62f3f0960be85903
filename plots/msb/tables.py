# SPDX-License-Identifier: GPL-2.0-only
"""The one output-format mechanism of the Python tools: a Report (headings, lines, tables and
lists, plus the data behind them) that one renderer per format turns into text.

Adding an output format is one renderer, a function Report -> str entered in RENDERERS; every
tool's --format offers it. Text from results files and paths is data: it enters a report as
Literal (table cells always are), and each renderer writes it so that nothing reading the
output acts on it (text: control characters escaped; markdown: a code span; html: escaped).
"""
import dataclasses
import html
import json
import math
import re

from . import cli


class Literal(str):
    """Text from a results file or a path, as opposed to the tool's own words."""


class Link(str):
    """A web address to show as a link (the tool's own references, never one from a results
    file); one that is not a plain https address is shown as a Literal instead."""

    def safe(self):
        return re.fullmatch(r"https://[A-Za-z0-9._~:/?#@!$&'()*+,;=%-]+", self) is not None


@dataclasses.dataclass
class Heading:
    level: int                  # 1 for the report's title, 2 for a section, 3 below it
    parts: tuple
    anchor: str = ""            # html: the heading's id (the tool's own word, e.g. "verdict")


@dataclasses.dataclass
class Line:
    parts: tuple                # () is an empty line


@dataclasses.dataclass
class Table:
    header: list
    rows: list                  # every cell is data: rendered as a Literal


@dataclasses.dataclass
class Items:
    lines: list                 # a list, each item a tuple of parts


@dataclasses.dataclass
class Picture:
    path: str                   # markdown: the image file, relative to the report (a slug path)
    svg: str                    # html: the SVG document drawn inline ("" when not drawn)
    caption: tuple              # parts, as a line's


@dataclasses.dataclass
class Report:
    blocks: list
    data: object = None         # what the json renderer writes: the document behind the blocks
    model: object = None        # what the blocks were made from (a comparison.Analysis, a results.Run):
                                # what the formats of msb/ci_formats.py render


def line(*parts):
    return Line(parts)


def blank():
    return Line(())


# ------------------------------------------------------------------ text

def _joined(parts, literal, link=None):
    """parts as one string: Literals through literal(), Links through link() (default: as
    Literals), the tool's own words as they are."""
    link = link or literal
    return "".join(literal(p) if isinstance(p, Literal) else link(p) if isinstance(p, Link) else p
                   for p in parts)


def text_table(header, rows):
    header, rows = [cli.terminal_text(h) for h in header], [[cli.terminal_text(c) for c in r] for r in rows]
    widths = [max(len(str(r[i])) for r in [header] + rows) for i in range(len(header))]
    return "\n".join("  ".join(str(cell).ljust(widths[i]) for i, cell in enumerate(row)).rstrip()
                     for row in [header] + rows)


def render_text(report):
    out = []
    for block in report.blocks:
        if isinstance(block, Table):
            out.append(text_table(block.header, block.rows))
        elif isinstance(block, Items):
            out += ["  " + _joined(parts, cli.terminal_text) for parts in block.lines]
        elif isinstance(block, Picture):
            out.append(f"[figure {block.path}] " + _joined(block.caption, cli.terminal_text))
        else:
            out.append(_joined(block.parts, cli.terminal_text))
    return "\n".join(out)


# ------------------------------------------------------------------ markdown

def markdown_code(text):
    """text as a markdown code span: GitHub renders no HTML, link, image, emphasis,
    autolink or @mention inside one; control characters are shown as escapes."""
    text = cli.terminal_text(text)
    if not text.strip():
        return ""
    fence = "`" * (max(map(len, re.findall("`+", text)), default=0) + 1)
    if text[0] == "`" or text[-1] == "`" or (text[0] == " " and text[-1] == " "):
        text = f" {text} "  # CommonMark strips one space from each end of such a span
    return fence + text + fence


def markdown_cell(text):
    """A table cell: a code span whose '|' the table does not split on (GFM reads '\\|' as
    '|' even inside code, and a backslash before it as escaping the next backslash)."""
    return re.sub(r"(\\*)\|", lambda m: m.group(1) * 2 + "\\|", markdown_code(text))


def markdown_link(url):
    """An autolink for a safe Link, a code span for anything else."""
    return f"<{url}>" if isinstance(url, Link) and url.safe() else markdown_code(url)


def render_markdown(report):
    out = []
    for block in report.blocks:
        if isinstance(block, Table):
            out += ["| " + " | ".join(markdown_cell(h) for h in block.header) + " |",
                    "|" + "---|" * len(block.header)]
            out += ["| " + " | ".join(markdown_link(cell) if isinstance(cell, Link) else markdown_cell(cell)
                                      for cell in row) + " |" for row in block.rows]
        elif isinstance(block, Items):
            out += ["- " + _joined(parts, markdown_code, markdown_link) for parts in block.lines]
        elif isinstance(block, Heading):
            out.append("#" * (block.level + 1) + " " + _joined(block.parts, markdown_code, markdown_link))
        elif isinstance(block, Picture):
            out += [_joined(block.caption, markdown_code, markdown_link), "", f"![figure]({block.path})"]
        else:
            out.append(_joined(block.parts, markdown_code, markdown_link))
    return "\n".join(out)


# ------------------------------------------------------------------ html

HTML_STYLE = """
body { font: 15px/1.45 system-ui, sans-serif; color: #1b1b1b; max-width: 70em; margin: 1.5em auto; padding: 0 1em; }
h1 { font-size: 1.6em; border-bottom: 2px solid #444; padding-bottom: .2em; }
h2 { font-size: 1.3em; margin-top: 1.6em; border-bottom: 1px solid #bbb; }
h3 { font-size: 1.05em; margin-top: 1.2em; }
code { font: .92em ui-monospace, monospace; background: #f2f2f2; padding: 0 .2em; border-radius: 3px;
       overflow-wrap: break-word; word-break: break-word; }
table { border-collapse: collapse; margin: .5em 0 1em; font-size: .9em; }
th, td { border: 1px solid #ccc; padding: .25em .5em; text-align: left; vertical-align: top; }
th { background: #eee; }
td { overflow-wrap: break-word; word-break: break-word; }
p { margin: .35em 0; }
figure { margin: 1em 0; page-break-inside: avoid; }
figure svg { max-width: 100%; height: auto; }
section#verdict { border: 2px solid #4a5a78; background: #f6f8fc; padding: .1em 1em .6em; border-radius: 6px; }
section#verdict td:nth-child(5) { font-weight: 600; }
figcaption { font-size: .95em; color: #333; font-weight: 600; margin-bottom: .3em; }
a { color: #0645ad; word-break: break-all; }
@media print { body { max-width: none; margin: 0; font-size: 11pt; } a { color: inherit; }
               h2 { page-break-after: avoid; } table, figure { page-break-inside: avoid; } }
"""


def html_text(text):
    """Text from a file as HTML character data: escaped, control characters shown as escapes."""
    return html.escape(cli.terminal_text(text), quote=True)


def html_literal(text):
    return f"<code>{html_text(text)}</code>" if str(text).strip() else ""


def html_link(url):
    if isinstance(url, Link) and url.safe():
        return f'<a href="{html.escape(url, quote=True)}">{html.escape(url)}</a>'
    return html_literal(url)


def _html_parts(parts):
    """The tool's own words escaped too: none of them is meant as markup."""
    return "".join(html_literal(p) if isinstance(p, Literal) else html_link(p) if isinstance(p, Link)
                   else html.escape(p) for p in parts)


def html_svg(svg):
    """An SVG document as an inline <svg> element: its XML prolog and doctype dropped. None
    when it holds anything active (a script, an event handler, a javascript: address)."""
    start = svg.find("<svg")
    if start < 0 or re.search(r"<\s*script|javascript:|\son[a-z]+\s*=|<\s*foreignObject", svg, re.I):
        return None
    return svg[start:]


def render_html(report):
    """One self-contained page: inline CSS and SVG, no script, nothing fetched."""
    title = next((b for b in report.blocks if isinstance(b, Heading)), None)
    out = ["<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
           '<meta name="viewport" content="width=device-width, initial-scale=1">',
           "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; "
           "img-src data:\">",
           f"<title>{html_text(_joined(title.parts, str)) if title else 'msealbench'}</title>",
           f"<style>{HTML_STYLE}</style>", "</head>", "<body>"]
    sections = 0
    for block in report.blocks:
        if isinstance(block, Table):
            out.append("<table><thead><tr>" + "".join(f"<th>{html_text(h)}</th>" for h in block.header)
                       + "</tr></thead><tbody>")
            out += ["<tr>" + "".join(f"<td>{html_link(c) if isinstance(c, Link) else html_text(c)}</td>"
                                     for c in row) + "</tr>" for row in block.rows]
            out.append("</tbody></table>")
        elif isinstance(block, Items):
            out.append("<ul>" + "".join(f"<li>{_html_parts(parts)}</li>" for parts in block.lines) + "</ul>")
        elif isinstance(block, Heading):
            level = min(block.level, 5)
            anchor = f' id="{html.escape(block.anchor, quote=True)}"' if block.anchor else ""
            if level == 2:   # a section per level-2 heading, named by its anchor
                out.append(("</section>" if sections else "") + f"<section{anchor}>")
                sections, anchor = sections + 1, ""
            out.append(f"<h{level}{anchor}>{_html_parts(block.parts)}</h{level}>")
        elif isinstance(block, Picture):
            svg = html_svg(block.svg) if block.svg else None
            drawing = svg if svg else f"<p>(figure not inlined: {html_text(block.path)})</p>"
            out.append(f"<figure><figcaption>{_html_parts(block.caption)}</figcaption>{drawing}</figure>")
        elif block.parts:
            out.append(f"<p>{_html_parts(block.parts)}</p>")
    out += ["</section>"] * bool(sections) + ["</body>", "</html>"]
    return "\n".join(out) + "\n"


# ------------------------------------------------------------------ json

def clean_floats(value):
    """NaN and infinities become null so the JSON stays standard."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: clean_floats(v) for k, v in value.items()}
    if isinstance(value, list):
        return [clean_floats(v) for v in value]
    return value


def render_json(report):
    return json.dumps(clean_floats(report.data), indent=1, allow_nan=False, default=str)


RENDERERS = {"text": render_text, "markdown": render_markdown, "json": render_json, "html": render_html}


def render(report, output_format, renderers=None):
    """report in output_format, one of renderers (default RENDERERS: those every report has;
    msb/ci_formats.py adds the formats of comparisons and of runs)."""
    return (renderers or RENDERERS)[output_format](report)

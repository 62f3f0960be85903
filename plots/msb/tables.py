"""The one output-format mechanism of the Python tools: a Report (headings, lines, tables and
lists, plus the data behind them) that one renderer per format turns into text.

Adding an output format is one renderer, a function Report -> str entered in RENDERERS; every
tool's --format offers it. Text from results files and paths is data: it enters a report as
Literal (table cells always are), and each renderer writes it so that nothing reading the
output acts on it (text: control characters escaped; markdown: a code span).
"""
import dataclasses
import json
import math
import re

from . import cli


class Literal(str):
    """Text from a results file or a path, as opposed to the tool's own words."""


@dataclasses.dataclass
class Heading:
    level: int                  # 1 for the report's title, 2 for a section
    parts: tuple


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

def _joined(parts, literal):
    return "".join(literal(p) if isinstance(p, Literal) else p for p in parts)


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


def render_markdown(report):
    out = []
    for block in report.blocks:
        if isinstance(block, Table):
            out += ["| " + " | ".join(markdown_cell(h) for h in block.header) + " |",
                    "|" + "---|" * len(block.header)]
            out += ["| " + " | ".join(markdown_cell(cell) for cell in row) + " |" for row in block.rows]
        elif isinstance(block, Items):
            out += ["- " + _joined(parts, markdown_code) for parts in block.lines]
        elif isinstance(block, Heading):
            out.append("#" * (block.level + 1) + " " + _joined(block.parts, markdown_code))
        else:
            out.append(_joined(block.parts, markdown_code))
    return "\n".join(out)


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


RENDERERS = {"text": render_text, "markdown": render_markdown, "json": render_json}


def render(report, output_format, renderers=None):
    """report in output_format, one of renderers (default RENDERERS: those every report has;
    msb/ci_formats.py adds the formats of comparisons and of runs)."""
    return (renderers or RENDERERS)[output_format](report)

"""English prose left in a Chinese report (a test helper, not shipped).

A report in Chinese may still contain Latin letters that are not prose: item and construct ids, estimator and
index names (ML, CFI, RMSEA), formulae (χ²(753) = …, max|dF/dtheta| < 1e-9), command-line options, file
names, lavaan terms (group.equal, lavTestLRT), citations (Hu & Bentler, 1999; Podsakoff et al. 2003) and the
user's own labels.  What must not be there is an English sentence.  The detector therefore:

* reads only what a reader sees as text: HTML text nodes outside <style>, <svg>, <pre>, <code>, elements of
  class "code" and the reference list (Markdown: everything before the references heading);
* removes the user's strings (every string of the document's ``spec``, titles, labels), the command line
  and the data file name, and citations;
* cuts the rest at every CJK character or CJK punctuation mark, so a Latin term inside a Chinese sentence
  stands alone;
* and reports each remaining run of three or more consecutive English words, a word being a lowercase or
  capitalised Latin word of two or more letters (acronyms, ids with digits, options starting with "--",
  dotted or slashed identifiers and formula tokens are not words and break a run).
"""
from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Iterable

SKIPPED_TAGS = {"style", "script", "svg", "pre", "code", "title"}
BLOCK_TAGS = {"p", "li", "td", "th", "h1", "h2", "h3", "h4", "caption", "div", "tr", "figcaption", "section",
              "header", "footer", "summary", "br", "table", "ul", "ol", "nav", "figure"}
CJK = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef“”‘’]+")
WORD = re.compile(r"[A-Za-z][a-z]+(?:[-–'][A-Za-z][a-z]*)*")
CITATION = re.compile(r"\bet al\.|[A-Z][A-Za-z\-]+(?:,? [A-Z][A-Za-z\-]+)*,? (?:&|and) [A-Z][A-Za-z\-]+")
MIN_RUN = 3


class _Text(HTMLParser):
    """Visible text of an HTML report, one block per line, skipping code, styles, figures and references."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, bool]] = []
        self.skip = 0
        self.chunks: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        skipped = (tag in SKIPPED_TAGS or "code" in (attrs.get("class") or "").split()
                   or attrs.get("id") == "references")
        if tag in ("br", "meta", "link", "img", "input", "hr"):   # void elements never close
            self.chunks.append("\n")
            return
        self.stack.append((tag, skipped))
        self.skip += skipped
        if tag in BLOCK_TAGS:
            self.chunks.append("\n")

    def handle_endtag(self, tag):
        while self.stack:
            name, skipped = self.stack.pop()
            self.skip -= skipped
            if name == tag:
                break
        if tag in BLOCK_TAGS:
            self.chunks.append("\n")

    def handle_data(self, data):
        if not self.skip:
            self.chunks.append(data)


def html_text(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    return "".join(parser.chunks)


def markdown_text(md: str, references_heading: str = "## 参考文献") -> str:
    body = md.split(references_heading)[0]
    body = re.sub(r"```.*?```", " ", body, flags=re.DOTALL)
    return body.replace("\\", "").replace("**", " ").replace("*", " ").replace("|", "\n")


def user_strings(doc: dict) -> list[str]:
    """Every string the user wrote into the spec (labels, wording, hypotheses, titles, in any language), the
    command line and the data file: shown as written, so not the report's to translate."""
    found: list[str] = []

    def walk(node) -> None:
        if isinstance(node, str):
            found.append(node)
        elif isinstance(node, dict):
            for value in node.values():
                walk(value)
        elif isinstance(node, (list, tuple)):
            for value in node:
                walk(value)

    walk(doc.get("spec"))
    walk(doc.get("labels"))
    meta, data = doc.get("meta") or {}, doc.get("data") or {}
    walk([meta.get("title"), meta.get("command"), data.get("source")])
    return sorted({s for s in found if s and s.strip()}, key=len, reverse=True)


def english_runs(text: str, allowed: Iterable[str] = ()) -> list[str]:
    """Runs of ≥ 3 consecutive English words left after removing ``allowed`` strings and citations."""
    for s in allowed:
        text = text.replace(s, "\n")
    text = CITATION.sub(" ", text)
    runs: list[str] = []
    for line in text.splitlines():
        for segment in CJK.split(line):
            run: list[str] = []
            for token in segment.split() + [""]:
                if WORD.fullmatch(token.rstrip(",.;:!?)").lstrip("(")):
                    run.append(token)
                    continue
                if len(run) >= MIN_RUN:
                    runs.append(" ".join(run))
                run = []
    return runs


def english_in_report(report: str, doc: dict, *, html: bool) -> list[str]:
    """The English runs of a Chinese report (HTML or Markdown)."""
    text = html_text(report) if html else markdown_text(report)
    return english_runs(text, user_strings(doc))

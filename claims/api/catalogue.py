"""The error catalogue: every problem code with its meaning and what to do, in Chinese and English, served at /errors.

A problem's `type` is `/errors/<code>`: opened in a browser it shows that code's entry atop the catalogue page;
asked for JSON it answers the entry. Chinese is the default language (the bureau and its banks); a request
whose Accept-Language prefers English gets English. Codes never change with the language.
"""
from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from flask import Blueprint, abort, jsonify, render_template_string, request

CATALOGUE_FILE = Path(__file__).with_name("error_catalogue.toml")
LANGUAGES = ("zh", "en")
SECTIONS = {"http": "请求与认证 Requests and credentials", "fields": "字段 Fields",
            "workflow": "业务规则与审核 Business rules and review", "eligibility": "资格条件 Eligibility reasons"}


@dataclass(frozen=True)
class Entry:
    """One code: its section and, per language, what it means and what the client should do."""

    code: str
    section: str
    meaning: dict[str, str]
    action: dict[str, str]


@cache
def catalogue() -> dict[str, Entry]:
    """Every documented code, in file order."""
    data = tomllib.loads(CATALOGUE_FILE.read_text(encoding="utf-8"))
    return {code: Entry(code, section, {"zh": zh, "en": en}, {"zh": do_zh, "en": do_en})
            for section, codes in data.items() for code, (zh, en, do_zh, do_en) in codes.items()}


def language() -> str:
    """zh unless the request's Accept-Language prefers English."""
    if not request:
        return "zh"
    return request.accept_languages.best_match(LANGUAGES, default="zh") or "zh"


def meaning(code: str, fallback: str, lang: str | None = None) -> str:
    """The code's meaning in the request's language (the fallback text for a code not in the catalogue)."""
    entry = catalogue().get(code)
    return entry.meaning[lang or language()] if entry else fallback


def action(code: str, lang: str | None = None) -> str | None:
    """What to do about the code, in the request's language."""
    entry = catalogue().get(code)
    return entry.action[lang or language()] if entry else None


blp = Blueprint("errors", __name__)

_PAGE = """<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>错误代码目录 Error codes</title>
<style>body{font-family:sans-serif;margin:2em;max-width:70em}td,th{border-bottom:1px solid #ddd;padding:.4em;
text-align:left;vertical-align:top}code{font-weight:bold}tr:target{background:#fff3b0}
.selected{background:#fff3b0;border:1px solid #e0c200;padding:.5em 1.5em;margin:1em 0}</style></head><body>
<h1>错误代码目录 <small>Error codes</small></h1>
{% if selected %}{% set e = entries_by_code[selected] %}<div class="selected" role="note">
<h2>错误代码 <code>{{ e.code }}</code></h2><p><b>含义：</b>{{ e.meaning.zh }}<br><small>{{ e.meaning.en }}</small></p>
<p><b>怎么办：</b>{{ e.action.zh }}<br><small>{{ e.action.en }}</small></p>
<p><a href="#{{ e.code }}">在目录中查看 / in the list below</a></p></div>{% endif %}
<p>每个错误响应（application/problem+json）都带有稳定的 <code>code</code>，其 <code>type</code> 指向本页对应条目。
Every problem response carries a stable <code>code</code>; its <code>type</code> links to its entry here.</p>
{% for section, label in sections.items() %}<h2>{{ label }}</h2>
<table><tr><th>code</th><th>含义 Meaning</th><th>怎么办 What to do</th></tr>
{% for e in entries if e.section == section %}<tr id="{{ e.code }}"><td><code>{{ e.code }}</code></td>
<td>{{ e.meaning.zh }}<br><small>{{ e.meaning.en }}</small></td><td>{{ e.action.zh }}<br><small>{{ e.action.en }}</small></td>
</tr>{% endfor %}</table>{% endfor %}
</body></html>"""


def _wants_html() -> bool:
    return request.accept_mimetypes.best_match(["application/json", "text/html"]) == "text/html"


@blp.get("/errors")
def error_catalogue():
    """The catalogue page (HTML), or every entry as JSON."""
    if not _wants_html():
        return jsonify([_as_json(e) for e in catalogue().values()])
    return render_template_string(_PAGE, sections=SECTIONS, entries=catalogue().values(), selected=None,
                                  entries_by_code=catalogue())


@blp.get("/errors/<code>")
def error_entry(code: str):
    """One code: its entry at the top of the catalogue page (the rest below), or the entry as JSON."""
    entry = catalogue().get(code)
    if entry is None:
        abort(404)
    if not _wants_html():
        return jsonify(_as_json(entry))
    return render_template_string(_PAGE, sections=SECTIONS, entries=catalogue().values(), selected=code,
                                  entries_by_code=catalogue())


def _as_json(entry: Entry) -> dict:
    return {"code": entry.code, "section": entry.section, "meaning": entry.meaning, "action": entry.action}

#!/usr/bin/env python
"""Refresh QLoop's translation catalogues in one command.

Run it from anywhere with the project's virtual environment::

    .venv/bin/python scripts/i18n.py             # makemessages, fill English, tidy headers
    .venv/bin/python scripts/i18n.py --compile   # … and compile the .mo files
    .venv/bin/python scripts/i18n.py --check     # … and fail if a Chinese string is missing

What it does:

1. Runs Django's ``makemessages`` in ``src/qloop`` for the three interface languages
   (``zh_Hans`` — the default —, ``zh_Hant`` and ``en``), skipping ``static/``, keeping only
   the file name in location comments (so a template edit does not churn every line number)
   and dropping obsolete strings.
2. English is the source language: every ``en`` entry gets ``msgstr = msgid`` (plural forms
   ``msgstr[0] = msgid``, ``msgstr[1] = msgid_plural``) and loses any fuzzy mark.
3. Gives each catalogue a proper header (language, plural forms, not fuzzy).
4. Lists the Chinese strings that still need a translator: new ones (empty) and ones
   ``msgmerge`` guessed from a similar string (fuzzy). Translate those in
   ``src/qloop/locale/zh_Hans/LC_MESSAGES/django.po`` and ``zh_Hant/…``; with
   ``--hant-from-hans`` the empty Traditional entries are pre-filled from the Simplified ones
   with OpenCC and marked fuzzy, for a person to review and un-fuzzy.
5. With ``--compile``, runs ``compilemessages``. Commit the ``.po`` *and* ``.mo`` files.

Needs GNU gettext (``apt-get install gettext``) for steps 1 and 5.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "src" / "qloop"
LOCALE_DIR = PACKAGE / "locale"
LOCALES = ("zh_Hans", "zh_Hant", "en")
SOURCE_LOCALE = "en"
PLURAL_FORMS = {
    "zh_Hans": "nplurals=1; plural=0;",
    "zh_Hant": "nplurals=1; plural=0;",
    "en": "nplurals=2; plural=(n != 1);",
}
LANGUAGE_NAMES = {"zh_Hans": "简体中文", "zh_Hant": "繁體中文", "en": "English"}
WIDTH = 79
# OpenCC's s2t writes the OpenCC standard forms; Taiwan and Hong Kong readers expect these.
HANT_VARIANTS = str.maketrans(
    {"爲": "為", "啓": "啟", "覈": "核", "僞": "偽", "衆": "眾", "綫": "線"}
)

_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\", "a": "\a", "b": "\b"}
_KEYWORD = re.compile(r'^(msgctxt|msgid_plural|msgid|msgstr(?:\[(\d+)\])?)\s+(".*")\s*$')


def po_path(locale: str) -> Path:
    """The catalogue file of one locale."""
    return LOCALE_DIR / locale / "LC_MESSAGES" / "django.po"


def unquote(literal: str) -> str:
    """The text of one PO string literal such as ``"a \\"b\\"\\n"``."""
    body = literal.strip()[1:-1]
    return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), m.group(1)), body)


def quote(text: str) -> str:
    """``text`` as the inside of a PO string literal (without the surrounding quotes)."""
    return (
        text.replace("\\", "\\\\")
        .replace('"', '\\"')
        .replace("\n", "\\n")
        .replace("\t", "\\t")
        .replace("\r", "\\r")
    )


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _pieces(escaped: str) -> list[str]:
    """Split an escaped string where gettext may wrap: after spaces, CJK and ``\\n``."""
    pieces: list[str] = []
    current = ""
    i = 0
    while i < len(escaped):
        ch = escaped[i]
        if ch == "\\" and i + 1 < len(escaped):
            current += escaped[i : i + 2]
            i += 2
            if current.endswith("\\n"):
                pieces.append(current + "\0")  # a forced break
                current = ""
            continue
        current += ch
        i += 1
        if ch == " " or _width(ch) == 2:
            pieces.append(current)
            current = ""
    if current:
        pieces.append(current)
    return pieces


def format_string(keyword: str, text: str, prefix: str = "") -> list[str]:
    """One keyword with its string, wrapped the way ``msgmerge`` wraps (near enough)."""
    escaped = quote(text)
    single = f'{prefix}{keyword} "{escaped}"'
    inner_newline = "\\n" in escaped[:-2]
    if _width(single) <= WIDTH and not inner_newline:
        return [single]
    lines = [f'{prefix}{keyword} ""']
    line = ""
    for piece in _pieces(escaped):
        forced = piece.endswith("\0")
        piece = piece.rstrip("\0")
        if line and _width(prefix) + _width(line + piece) + 2 > WIDTH:
            lines.append(f'{prefix}"{line}"')
            line = ""
        line += piece
        if forced:
            lines.append(f'{prefix}"{line}"')
            line = ""
    if line:
        lines.append(f'{prefix}"{line}"')
    return lines


@dataclass
class Entry:
    """One block of a PO file: comments, flags, msgctxt, msgid(_plural) and msgstr(s)."""

    raw: list[str]
    comments: list[str] = field(default_factory=list)
    previous: list[str] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)
    msgctxt: str | None = None
    msgid: str = ""
    msgid_plural: str | None = None
    msgstr: list[str] = field(default_factory=list)
    obsolete: bool = False
    dirty: bool = False

    @property
    def is_header(self) -> bool:
        return self.msgid == "" and self.msgctxt is None and not self.obsolete

    @property
    def fuzzy(self) -> bool:
        return "fuzzy" in self.flags

    @property
    def translated(self) -> bool:
        return bool(self.msgstr) and all(self.msgstr) and not self.fuzzy

    def set_translation(self, msgstr: list[str], *, fuzzy: bool = False) -> None:
        """Replace the translation; a reviewed translation drops the fuzzy mark and the
        previous msgid that ``msgmerge`` left for the translator."""
        self.msgstr = list(msgstr)
        self.flags = [f for f in self.flags if f != "fuzzy"]
        if fuzzy:
            self.flags.insert(0, "fuzzy")
        else:
            self.previous = []
        self.dirty = True

    def render(self) -> list[str]:
        if not self.dirty:
            return self.raw
        lines = list(self.comments)
        if self.flags:
            lines.append("#, " + ", ".join(self.flags))
        lines += self.previous
        if self.msgctxt is not None:
            lines += format_string("msgctxt", self.msgctxt)
        lines += format_string("msgid", self.msgid)
        if self.msgid_plural is None:
            lines += format_string("msgstr", self.msgstr[0] if self.msgstr else "")
        else:
            lines += format_string("msgid_plural", self.msgid_plural)
            for i, text in enumerate(self.msgstr):
                lines += format_string(f"msgstr[{i}]", text)
        return lines


def parse_entry(block: list[str]) -> Entry:
    """Parse one blank-line-separated block of a PO file."""
    entry = Entry(raw=block)
    if all(line.startswith("#") for line in block) and any(line.startswith("#~") for line in block):
        entry.obsolete = True
        return entry
    target: str | None = None
    index = 0
    for line in block:
        if line.startswith("#,"):
            entry.flags += [f.strip() for f in line[2:].split(",") if f.strip()]
        elif line.startswith("#|"):
            entry.previous.append(line)
        elif line.startswith("#"):
            entry.comments.append(line)
        elif line.startswith('"'):
            value = unquote(line)
            if target == "msgctxt":
                entry.msgctxt = (entry.msgctxt or "") + value
            elif target == "msgid":
                entry.msgid += value
            elif target == "msgid_plural":
                entry.msgid_plural = (entry.msgid_plural or "") + value
            elif target == "msgstr":
                entry.msgstr[index] += value
        else:
            match = _KEYWORD.match(line)
            if match is None:
                raise ValueError(f"cannot read PO line: {line!r}")
            keyword, number, literal = match.groups()
            value = unquote(literal)
            if keyword.startswith("msgstr"):
                target, index = "msgstr", int(number or 0)
                while len(entry.msgstr) <= index:
                    entry.msgstr.append("")
                entry.msgstr[index] = value
            else:
                target = keyword
                setattr(entry, keyword, value)
    return entry


def read_po(path: Path) -> list[Entry]:
    """All entries of a PO file, in order, obsolete ones included."""
    blocks: list[list[str]] = [[]]
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            blocks[-1].append(line)
        elif blocks[-1]:
            blocks.append([])
    return [parse_entry(block) for block in blocks if block]


def write_po(path: Path, entries: list[Entry]) -> None:
    """Write the entries back; untouched entries keep their exact original lines."""
    text = "\n\n".join("\n".join(entry.render()) for entry in entries) + "\n"
    path.write_text(text, encoding="utf-8")


def fix_header(entry: Entry, locale: str) -> None:
    """A real header: language, plural forms, no fuzzy mark, no template placeholders."""
    fields: dict[str, str] = {}
    order: list[str] = []
    for line in (entry.msgstr[0] if entry.msgstr else "").splitlines():
        name, _sep, value = line.partition(":")
        fields[name.strip()] = value.strip()
        order.append(name.strip())
    wanted = {
        "Project-Id-Version": "QLoop",
        "Language-Team": LANGUAGE_NAMES[locale],
        "Language": locale,
        "Content-Type": "text/plain; charset=UTF-8",
        "Plural-Forms": PLURAL_FORMS[locale],
    }
    for name, value in wanted.items():
        if name not in fields:
            order.append(name)
        fields[name] = value
    header = "".join(f"{name}: {fields[name]}\n" for name in order)
    comments = [f"# QLoop — {LANGUAGE_NAMES[locale]} ({locale}) translation.", "#"]
    if (
        header != (entry.msgstr[0] if entry.msgstr else "")
        or entry.fuzzy
        or (entry.comments != comments)
    ):
        entry.comments = comments
        entry.set_translation([header])


def fill_source_language(entries: list[Entry]) -> int:
    """English catalogue: msgstr = msgid everywhere. Returns how many entries changed."""
    changed = 0
    for entry in entries:
        if entry.obsolete or entry.is_header:
            continue
        wanted = [entry.msgid] if entry.msgid_plural is None else [entry.msgid, entry.msgid_plural]
        if entry.msgstr != wanted or entry.fuzzy:
            entry.set_translation(wanted)
            changed += 1
    return changed


def to_traditional(text: str) -> str:
    """Simplified to Traditional Chinese with OpenCC, in the usual Traditional variants."""
    import opencc

    return opencc.OpenCC("s2t").convert(text).translate(HANT_VARIANTS)


def fill_hant_from_hans(hant: list[Entry], hans: list[Entry]) -> int:
    """Pre-fill empty Traditional entries from the Simplified ones with OpenCC, marked fuzzy."""
    simplified = {(e.msgctxt, e.msgid): e for e in hans if not e.obsolete and e.translated}
    filled = 0
    for entry in hant:
        source = simplified.get((entry.msgctxt, entry.msgid))
        if entry.obsolete or entry.is_header or source is None or any(entry.msgstr):
            continue
        entry.set_translation([to_traditional(s) for s in source.msgstr], fuzzy=True)
        filled += 1
    return filled


def makemessages() -> None:
    """Run Django's makemessages for the three locales in ``src/qloop``."""
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="qloop.settings")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT / "src"), env.get("PYTHONPATH")]))
    command = [sys.executable, "-m", "django", "makemessages", "--ignore=static/*"]
    command += ["--add-location=file", "--no-obsolete", "--verbosity=0"]
    command += [f"--locale={locale}" for locale in LOCALES]
    subprocess.run(command, cwd=PACKAGE, env=env, check=True)  # noqa: S603


def compilemessages() -> None:
    """Compile every catalogue to its .mo file."""
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="qloop.settings")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT / "src"), env.get("PYTHONPATH")]))
    command = [sys.executable, "-m", "django", "compilemessages", "--verbosity=0"]
    subprocess.run(command, cwd=PACKAGE, env=env, check=True)  # noqa: S603


def missing(entries: list[Entry]) -> list[Entry]:
    """Entries a translator still has to look at: empty or fuzzy."""
    return [e for e in entries if not e.obsolete and not e.is_header and not e.translated]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--no-makemessages", action="store_true", help="only tidy the files")
    parser.add_argument(
        "--hant-from-hans",
        action="store_true",
        help="pre-fill empty zh_Hant strings from zh_Hans with OpenCC (fuzzy)",
    )
    parser.add_argument("--compile", action="store_true", help="run compilemessages at the end")
    parser.add_argument(
        "--check",
        action="store_true",
        help="exit with status 1 if a Chinese string is untranslated or fuzzy",
    )
    args = parser.parse_args(argv)

    if not args.no_makemessages:
        makemessages()
    catalogues = {locale: read_po(po_path(locale)) for locale in LOCALES}
    for locale, entries in catalogues.items():
        for entry in entries:
            if entry.is_header:
                fix_header(entry, locale)
    filled = fill_source_language(catalogues[SOURCE_LOCALE])
    print(f"en: {filled} entries set to their msgid")
    if args.hant_from_hans:
        count = fill_hant_from_hans(catalogues["zh_Hant"], catalogues["zh_Hans"])
        print(f"zh_Hant: {count} entries pre-filled from zh_Hans, marked fuzzy for review")
    for locale, entries in catalogues.items():
        write_po(po_path(locale), entries)

    todo = 0
    for locale, entries in catalogues.items():
        total = sum(1 for e in entries if not e.obsolete and not e.is_header)
        left = missing(entries)
        todo += len(left)
        print(f"{locale}: {total} strings, {len(left)} to translate or review")
        for entry in left:
            state = "fuzzy" if entry.fuzzy else "untranslated"
            print(f"    [{state}] {entry.msgid!r}")
    if args.compile:
        compilemessages()
    return 1 if args.check and todo else 0


if __name__ == "__main__":
    raise SystemExit(main())

"""The interface speaks Simplified Chinese by default, Traditional Chinese and English in full.

Every string in the catalogues is translated, every string in the source is in the catalogues,
the committed ``.mo`` files match the ``.po`` files, and a page really comes out in the
language chosen. Refresh the catalogues with ``.venv/bin/python scripts/i18n.py --compile``.
"""

from __future__ import annotations

import gettext
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client

PACKAGE = Path(__file__).resolve().parent.parent / "src" / "qloop"
LOCALE_DIR = PACKAGE / "locale"
LOCALES = ["zh_Hans", "zh_Hant", "en"]
NO_GETTEXT = "install gettext (apt-get install gettext) to check that every string is translated"

_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\", "a": "\a", "b": "\b"}
_KEYWORD = re.compile(r'^(msgctxt|msgid_plural|msgid|msgstr(?:\[(\d+)\])?)\s+"(.*)"\s*$')
# printf-style (%(name)s, %s, %.1f), Django template ({{ n }}) and str.format ({name}) holes.
_PLACEHOLDER = re.compile(
    r"%(?:\([^)]+\))?[-+ #0]*\d*(?:\.\d+)?[sdifFeEgGxXocr%]|\{\{.*?\}\}|\{\w*\}"
)


@dataclass
class PoEntry:
    """One message of a PO file."""

    msgid: str = ""
    msgctxt: str | None = None
    msgid_plural: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)
    line: int = 0

    @property
    def key(self) -> tuple[str | None, str]:
        return (self.msgctxt, self.msgid)

    @property
    def translated(self) -> bool:
        return bool(self.msgstr) and all(self.msgstr.values()) and "fuzzy" not in self.flags

    def __str__(self) -> str:
        context = f" (context {self.msgctxt!r})" if self.msgctxt is not None else ""
        return f"line {self.line}: {self.msgid!r}{context}"


def _unquote(body: str) -> str:
    return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), m.group(1)), body)


def parse_po(path: Path) -> list[PoEntry]:
    """The messages of a PO or POT file, header included, obsolete (``#~``) ones left out."""
    entries: list[PoEntry] = []
    entry: PoEntry | None = None
    target = ""
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#~"):
            entry, target = None, ""
            continue
        if line.startswith("#"):
            if entry is None or target:
                entry, target = PoEntry(line=number), ""
                entries.append(entry)
            if line.startswith("#,"):
                entry.flags |= {flag.strip() for flag in line[2:].split(",")}
            continue
        if line.startswith('"'):
            assert entry is not None and target, f"{path}:{number}: string without keyword"
            text = _unquote(line[1:-1])
            if target.startswith("msgstr"):
                entry.msgstr[int(target[7:-1]) if "[" in target else 0] += text
            else:
                setattr(entry, target, (getattr(entry, target) or "") + text)
            continue
        match = _KEYWORD.match(line)
        assert match is not None, f"{path}:{number}: cannot read {raw!r}"
        keyword, plural_index, body = match.groups()
        if entry is None or (keyword in ("msgctxt", "msgid") and target.startswith("msgstr")):
            entry = PoEntry(line=number)
            entries.append(entry)
        target = keyword
        if keyword.startswith("msgstr"):
            entry.msgstr[int(plural_index or 0)] = _unquote(body)
        else:
            setattr(entry, keyword, _unquote(body))
    return entries


def messages(entries: list[PoEntry]) -> dict[tuple[str | None, str], PoEntry]:
    """The messages by (context, msgid), without the header."""
    return {e.key: e for e in entries if e.msgid or e.msgctxt is not None}


def catalogue(locale: str) -> list[PoEntry]:
    return parse_po(LOCALE_DIR / locale / "LC_MESSAGES" / "django.po")


def expected_mo_catalog(entries: list[PoEntry]) -> dict[Any, str]:
    """What ``msgfmt`` puts in the .mo for these entries, keyed as ``GNUTranslations`` keys it."""
    result: dict[Any, str] = {}
    for e in entries:
        if "fuzzy" in e.flags and e.msgid:
            continue
        msgid = e.msgid if e.msgctxt is None else f"{e.msgctxt}\x04{e.msgid}"
        if not msgid:  # msgfmt leaves the POT creation date out of the header
            header = e.msgstr.get(0, "").splitlines(keepends=True)
            result[""] = "".join(h for h in header if not h.startswith("POT-Creation-Date:"))
        elif e.msgid_plural is None:
            if e.msgstr.get(0):
                result[msgid] = e.msgstr[0]
        elif all(e.msgstr.values()):
            result.update({(msgid, i): text for i, text in e.msgstr.items()})
    return result


def mo_catalog(path: Path) -> dict[Any, str]:
    with path.open("rb") as fp:
        return dict(gettext.GNUTranslations(fp)._catalog)  # type: ignore[attr-defined]


# (a) The catalogues are complete ---------------------------------------------------------


@pytest.mark.parametrize("locale", LOCALES)
def test_every_message_is_translated_and_none_is_fuzzy(locale: str) -> None:
    entries = catalogue(locale)
    header = [e for e in entries if not e.msgid and e.msgctxt is None]
    assert header, f"{locale}: the catalogue has no header"
    assert "fuzzy" not in header[0].flags, f"{locale}: the header is marked fuzzy"
    nplurals = 1 if locale.startswith("zh") else 2
    assert f"nplurals={nplurals};" in header[0].msgstr[0], f"{locale}: wrong Plural-Forms"

    found = messages(entries)
    assert len(found) > 100, f"{locale}: the catalogue looks empty"
    untranslated = [str(e) for e in found.values() if not e.translated]
    assert not untranslated, f"{locale}: untranslated or fuzzy:\n" + "\n".join(untranslated)
    wrong_forms = [str(e) for e in found.values() if e.msgid_plural and len(e.msgstr) != nplurals]
    assert not wrong_forms, f"{locale}: plural forms other than {nplurals}:\n" + "\n".join(
        wrong_forms
    )


@pytest.mark.parametrize("locale", LOCALES)
def test_translations_keep_every_placeholder(locale: str) -> None:
    broken = []
    for e in messages(catalogue(locale)).values():
        for index, text in e.msgstr.items():
            source = e.msgid if index == 0 or e.msgid_plural is None else e.msgid_plural
            if sorted(_PLACEHOLDER.findall(source)) != sorted(_PLACEHOLDER.findall(text)):
                broken.append(f"{e}: {text!r}")
    assert not broken, f"{locale}: placeholders changed:\n" + "\n".join(broken)


def test_english_repeats_the_source_text() -> None:
    wrong = []
    for e in messages(catalogue("en")).values():
        wanted = [e.msgid] if e.msgid_plural is None else [e.msgid, e.msgid_plural]
        if [e.msgstr[i] for i in sorted(e.msgstr)] != wanted:
            wrong.append(str(e))
    assert not wrong, "en: msgstr differs from msgid:\n" + "\n".join(wrong)


# (b) Every string of the current source is in the catalogues ------------------------------


def test_every_string_in_the_source_is_translated(
    tmp_path: Path, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    if shutil.which("xgettext") is None or shutil.which("msguniq") is None:
        pytest.skip(NO_GETTEXT)
    copy = tmp_path / "qloop"
    shutil.copytree(
        PACKAGE, copy, ignore=shutil.ignore_patterns("locale", "static", "var", "__pycache__")
    )
    (copy / "locale").mkdir()
    # makemessages writes to LOCALE_PATHS[0]; point it at the copy, never at the real catalogues.
    settings.LOCALE_PATHS = [str(copy / "locale")]
    monkeypatch.chdir(copy)
    call_command(
        "makemessages",
        locale=["en"],
        keep_pot=True,
        ignore_patterns=["static/*"],
        verbosity=0,
    )
    in_source = messages(parse_po(copy / "locale" / "django.pot"))
    assert len(in_source) > 100, "makemessages found almost nothing; is the copy complete?"

    problems = []
    for locale in LOCALES:
        committed = messages(catalogue(locale))
        for key, e in sorted(in_source.items(), key=lambda item: (item[0][1], item[0][0] or "")):
            known = committed.get(key)
            if known is None:
                problems.append(f"{locale}: missing {e.msgid!r}")
            elif not known.translated:
                problems.append(f"{locale}: untranslated or fuzzy {e.msgid!r}")
            elif known.msgid_plural != e.msgid_plural:
                problems.append(f"{locale}: plural changed for {e.msgid!r}")
    assert not problems, (
        "Strings in the source are not translated; run `.venv/bin/python scripts/i18n.py`, "
        "translate the Chinese ones, then `qloop manage compilemessages`:\n" + "\n".join(problems)
    )


# (c) The committed .mo files are up to date -----------------------------------------------


@pytest.mark.parametrize("locale", LOCALES)
def test_compiled_catalogue_matches_the_po_file(locale: str, tmp_path: Path) -> None:
    folder = LOCALE_DIR / locale / "LC_MESSAGES"
    committed_mo = folder / "django.mo"
    assert committed_mo.exists(), f"{locale}: django.mo is missing; run compilemessages"
    committed = mo_catalog(committed_mo)
    # Without gettext: compare with what msgfmt would write, read straight from the .po.
    expected = expected_mo_catalog(catalogue(locale))
    stale = sorted(str(k) for k in expected.keys() ^ committed.keys())[:20]
    stale += sorted(
        str(k) for k in expected.keys() & committed.keys() if expected[k] != committed[k]
    )
    assert not stale, f"{locale}: django.mo is older than django.po; compile it:\n" + "\n".join(
        stale[:20]
    )
    if shutil.which("msgfmt") is None:
        return
    fresh_mo = tmp_path / "django.mo"
    subprocess.run(
        ["msgfmt", "--check-format", "-o", str(fresh_mo), str(folder / "django.po")], check=True
    )
    assert mo_catalog(fresh_mo) == committed, f"{locale}: django.mo differs from msgfmt's output"


# (d) Pages come out in the chosen language ------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("cookie", "lang", "present", "absent"),
    [
        (None, "zh-hans", ["登录", "用户名", "密码", "质量信息反馈系统"], ["Log in", "登錄"]),
        ("zh-hant", "zh-hant", ["登錄", "用戶名", "密碼", "質量信息反饋系統"], ["Log in", "登录"]),
        ("en", "en", ["Log in", "User name", "Password"], ["登录", "登錄"]),
    ],
)
def test_login_page_speaks_the_chosen_language(
    cookie: str | None, lang: str, present: list[str], absent: list[str]
) -> None:
    client = Client()
    if cookie is not None:
        client.cookies["django_language"] = cookie
    response = client.get("/login/")
    assert response.status_code == 200
    html = response.content.decode()
    assert f'<html lang="{lang}">' in html
    for text in present:
        assert text in html, f"{text!r} not on the {lang} login page"
    for text in absent:
        assert text not in html, f"{text!r} on the {lang} login page"


@pytest.mark.django_db
def test_browser_language_does_not_override_the_chinese_default() -> None:
    response = Client().get("/login/", headers={"accept-language": "en-US,en;q=0.9"})
    assert "登录" in response.content.decode()


@pytest.mark.parametrize(
    ("language", "report_form", "questionnaire"),
    [("zh-hans", "纸质报告表", "纸质问卷"), ("zh-hant", "紙本報告表", "紙質問卷")],
)
def test_a_paper_adr_report_is_not_called_a_questionnaire(
    language: str, report_form: str, questionnaire: str
) -> None:
    """'Paper form' is two things: how an ADR report went to the regulator, and how a survey
    answer came in. Each reads right in Chinese."""
    from django.utils import translation

    from qloop.pharmacy.models import SendingChannel
    from qloop.surveys.models import Source

    with translation.override(language):
        assert str(SendingChannel.PAPER.label) == report_form
        assert str(Source.PAPER.label) == questionnaire

"""The register's and My work's rows, rendered in one pass by ``{% case_rows %}`` (issue 14):
each shows what a clerk reads and escapes what people typed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.urls import reverse

from qloop.cases.actions import ContactData

pytestmark = pytest.mark.django_db


def test_a_row_links_the_case_and_escapes_what_was_typed(
    make_case: Callable[..., Any], client_for: Callable[[str], Any]
) -> None:
    case = make_case(
        severity="critical",
        contact=ContactData(name="<b>王</b> & 李", phone="13800138000"),
    )
    case.title = '<script>alert("x")</script> 漏水'
    case.save(update_fields=["title"])
    html = client_for("cs").get(reverse("case-list")).content.decode()
    row = html[html.index(f'href="{reverse("case-detail", args=[case.number])}"') :]
    row = row[: row.index("</tr>")]
    assert f">{case.number}</a>" in row
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; 漏水" in row
    assert "<script>" not in row
    assert '<span class="badge text-bg-danger">' in row
    assert "&lt;b&gt;王&lt;/b&gt; &amp; 李" in row
    assert "QL-CP50" in row  # the product's model
    assert case.state_label in row


def test_an_empty_register_says_so(client_for: Callable[[str], Any]) -> None:
    html = client_for("cs").get(reverse("case-list")).content.decode()
    assert 'class="empty"' in html
    assert html.count("<tr") == 2  # the header and the message

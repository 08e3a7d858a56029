"""CS registers a complaint with a photo in a real browser, finds it in the queue and the
register, and opens it (R1.1, R1.2, X2). Screenshots of each step are kept as test output."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse
from django.utils import timezone, translation
from PIL import Image, ImageDraw

from tests.browser.conftest import PHONE, PageWatch, log_in
from tests.conftest import registration

pytestmark = pytest.mark.browser

Shot = Callable[[Any, str], Path]

# A word from the symptom that appears in no other case of these tests.
SEARCH_WORD = "叶轮"
SYMPTOM = "泵运行时叶轮处有异响，出口压力从0.6MPa降到0.4MPa。"


def make_photo(folder: Path, name: str = "现场照片.jpg") -> Path:
    """A JPEG that looks like something: a grey pump body with a red leak mark."""
    image = Image.new("RGB", (800, 600), "#dfe6ee")
    draw = ImageDraw.Draw(image)
    draw.rectangle((150, 200, 650, 450), fill="#7a8794", outline="#2f3b48", width=6)
    draw.ellipse((420, 380, 500, 460), fill="#c0392b")
    path = folder / name
    image.save(path, "JPEG", quality=85)
    return path


def registered_label() -> str:
    """How the timeline names a registration, in the language the site speaks by default."""
    from django.conf import settings

    from qloop.web.templatetags.qloop_tags import verb_label

    with translation.override(settings.LANGUAGE_CODE):
        return str(verb_label("registered"))


def open_nav_link(page: Any, url_name: str) -> None:
    """Follow a link of the navigation bar, opening the collapsed menu first on a phone."""
    link = page.locator(f'nav a.nav-link[href="{reverse(url_name)}"]')
    toggler = page.locator("nav .navbar-toggler")
    if not link.is_visible() and toggler.is_visible():
        toggler.click()
    with page.expect_navigation():
        link.click()


def fill_registration(page: Any, photo: Path) -> None:
    """Fill in every field of the registration form, extra fields included, and attach a photo."""
    page.select_option("#id_channel", "email")
    page.select_option("#id_severity", "major")
    page.fill("#id_contact_phone", "13912345678")
    page.fill("#id_contact_email", "liming@example.cn")
    page.fill("#id_contact_name", "李明")
    page.select_option("#id_contact_gender", "male")
    page.fill("#id_contact_qq", "123456789")
    page.fill("#id_contact_organisation", "无锡清源环保工程有限公司")
    page.fill("#id_product_model", "QL-CP65")
    page.fill("#id_product_specification", "65-200, 15kW")
    page.fill("#id_product_quantity", "3")
    page.fill("#id_product_serial_number", "CP65-2603-00042")
    page.fill("#id_symptom", SYMPTOM)
    page.fill("#id_current_status", "已停机等待检修。")
    page.select_option("#id_category", "1A")
    page.select_option("#id_extra__purchase_channel", "经销商")
    page.fill("#id_extra__delivery_date", "2026-01-15")
    page.set_input_files("#id_photos", str(photo))


def submit_registration(page: Any) -> str:
    """Press Register; returns the new case's number from the case page."""
    with page.expect_navigation():
        page.locator("#registration-form button[type=submit]").click()
    number = page.locator("#case-number").inner_text().strip()
    assert re.fullmatch(r"QC-\d{4}-\d{6}", number), f"unexpected case number {number!r}"
    return number


def assert_thumbnail_loads(page: Any) -> None:
    thumb = page.locator("#photos img.photo-thumb")
    assert thumb.count() == 1
    thumb.scroll_into_view_if_needed()
    page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=thumb.element_handle()
    )
    assert thumb.evaluate("img => img.naturalWidth") > 0


def test_cs_registers_a_complaint_with_a_photo_and_finds_it(
    page: Any, screenshot: Shot, tmp_path: Path, make_case: Any, watch: PageWatch
) -> None:
    from qloop.cases.models import Case

    # Another open case in CS's queue, so that finding ours takes a real search.
    other = make_case(symptom="电机轴承温度过高，外壳烫手。")
    photo = make_photo(tmp_path)

    log_in(page, "cs")
    # CS's first page is its board, which says what waits in My work (issue 13).
    assert page.url.endswith(reverse("home"))
    assert page.locator("#my-work-waiting").is_visible()
    screenshot(page, "logged-in")

    open_nav_link(page, "case-create")
    assert page.url.endswith(reverse("case-create"))
    fill_registration(page, photo)
    screenshot(page, "form-filled")

    number = submit_registration(page)
    screenshot(page, "case-page")
    case = Case.objects.select_related("product", "contact", "category").get(number=number)
    assert number.startswith(f"QC-{timezone.localtime(case.received_at).year}-")
    assert case.registered_by.username == "cs"
    assert (case.channel, case.severity, case.category.code) == ("email", "major", "1A")
    assert (case.contact.name, case.contact.phone, case.contact.qq) == (
        "李明",
        "13912345678",
        "123456789",
    )
    assert case.contact.organisation == "无锡清源环保工程有限公司"
    assert (case.product.model, case.product.specification) == ("QL-CP65", "65-200, 15kW")
    assert (case.product.quantity, case.product.serial_number) == (3, "CP65-2603-00042")
    assert case.product.symptom == SYMPTOM
    assert case.product.current_status == "已停机等待检修。"
    assert case.extra == {"purchase_channel": "经销商", "delivery_date": "2026-01-15"}
    assert case.attachments.get().original_name == "现场照片.jpg"

    assert number in page.locator(".alert-success").inner_text()
    assert SYMPTOM in page.locator("body").inner_text()
    assert_thumbnail_loads(page)
    timeline = page.locator("#timeline > li")
    assert timeline.count() == 1
    assert registered_label() in timeline.first.inner_text()
    assert case.registered_by.printed_name in timeline.first.inner_text()

    # CS's queue: both open cases are waiting there.
    open_nav_link(page, "my-work")
    screenshot(page, "my-work")
    queue = page.locator("#case-table")
    assert queue.get_by_role("link", name=number, exact=True).is_visible()
    assert queue.get_by_role("link", name=other.number, exact=True).is_visible()

    # The register: a word from the symptom narrows the list without reloading the page.
    open_nav_link(page, "case-list")
    rows = page.locator("#case-table tbody tr")
    assert rows.count() == 2
    screenshot(page, "register")
    with page.expect_response(
        lambda r: (
            urlsplit(r.url).path == reverse("case-list")
            and r.request.headers.get("hx-request") == "true"
        )
    ) as answer:
        page.locator("#id_q").press_sequentially(SEARCH_WORD)
    assert answer.value.ok
    page.wait_for_function("() => document.querySelectorAll('#case-table tbody tr').length === 1")
    assert parse_qs(urlsplit(page.url).query).get("q") == [SEARCH_WORD]  # kept in the address
    screenshot(page, "register-searched")
    link = rows.get_by_role("link", name=number, exact=True)
    assert link.is_visible()

    # htmx may still push the search address into the history after the click; wait for
    # the case's own address rather than for "a navigation".
    link.click()
    page.wait_for_url(f"**{reverse('case-detail', args=[number])}")
    assert page.locator("#case-number").inner_text().strip() == number
    assert_thumbnail_loads(page)
    screenshot(page, "case-opened")
    assert not watch.errors, watch.errors
    assert not watch.failed, watch.failed


def test_registration_works_on_a_phone(
    phone_page: Any, screenshot: Shot, tmp_path: Path, watch: PageWatch
) -> None:
    page = phone_page
    log_in(page, "cs")
    screenshot(page, "logged-in")
    open_nav_link(page, "case-create")

    def assert_fits() -> None:
        width = page.evaluate("() => document.documentElement.scrollWidth")
        assert width <= PHONE["width"], f"the page is {width}px wide on a {PHONE['width']}px phone"

    assert_fits()
    # Fields sit one above the other, each as wide as the screen allows.
    for selector in ("#id_contact_name", "#id_symptom", "#id_photos"):
        box = page.locator(selector).bounding_box()
        assert box is not None and box["width"] >= PHONE["width"] * 0.75, selector
    screenshot(page, "form-empty")
    page.fill("#id_contact_phone", "13700001111")
    page.fill("#id_contact_name", "孙丽")
    page.fill("#id_symptom", "扬程不足，流量只有额定值的一半。")
    page.set_input_files("#id_photos", str(make_photo(tmp_path, "phone.jpg")))
    submit = page.locator("#registration-form button[type=submit]")
    submit.scroll_into_view_if_needed()
    screenshot(page, "form-filled")
    with page.expect_navigation():
        submit.tap()
    number = page.locator("#case-number").inner_text().strip()
    assert re.fullmatch(r"QC-\d{4}-\d{6}", number)
    assert_thumbnail_loads(page)
    assert_fits()
    screenshot(page, "case-page")

    # The register on a phone: the table scrolls inside its box, the page itself does not.
    open_nav_link(page, "case-list")
    assert page.get_by_role("link", name=number, exact=True).is_visible()
    assert_fits()
    screenshot(page, "register")
    assert not watch.errors, watch.errors
    assert not watch.failed, watch.failed


def test_returning_contact_is_suggested_and_fills_the_form(
    page: Any, screenshot: Shot, make_case: Any, watch: PageWatch
) -> None:
    from qloop.cases.models import Case

    earlier = make_case()  # 王芳, 13800138000, from the shared registration()
    known = registration().contact
    log_in(page, "cs")
    open_nav_link(page, "case-create")
    page.locator("#id_contact_phone").press_sequentially(known.phone[:7])
    suggestion = page.locator("#contact-matches .contact-match")
    suggestion.first.wait_for()
    assert suggestion.count() == 1
    assert known.name in suggestion.inner_text()
    screenshot(page, "suggestion")

    suggestion.click()
    assert page.input_value("#id_contact_name") == known.name
    assert page.input_value("#id_contact_phone") == known.phone
    assert page.input_value("#id_contact_email") == known.email
    assert page.input_value("#id_contact_organisation") == known.organisation
    assert page.input_value("#id_contact_gender") == known.gender
    assert page.locator("#contact-matches .contact-match").count() == 0
    screenshot(page, "filled-from-suggestion")

    page.fill("#id_symptom", "同一客户再次反映密封漏水。")
    number = submit_registration(page)
    assert Case.objects.get(number=number).contact_id == earlier.contact_id
    screenshot(page, "case-page")
    assert not watch.errors, watch.errors


def test_pages_load_nothing_from_outside_the_server(
    page: Any, live_server: Any, screenshot: Shot, tmp_path: Path, watch: PageWatch
) -> None:
    """An intranet install works without the internet: no CDN, web font or tracker."""
    log_in(page, "cs")
    open_nav_link(page, "case-create")
    page.locator("#id_contact_phone").press_sequentially("1391234")
    fill_registration(page, make_photo(tmp_path))
    number = submit_registration(page)
    assert_thumbnail_loads(page)
    open_nav_link(page, "my-work")
    open_nav_link(page, "case-list")
    with page.expect_response(lambda r: r.request.headers.get("hx-request") == "true"):
        page.locator("#id_q").press_sequentially(SEARCH_WORD)
    with page.expect_navigation():
        page.get_by_role("link", name=number, exact=True).click()
    page.wait_for_load_state("networkidle")
    screenshot(page, "case-opened")

    server = urlsplit(live_server.url)
    fetched = [urlsplit(url) for url in watch.requests]
    assert any(u.path.startswith("/static/") for u in fetched), "no stylesheet or script seen"
    outside = sorted(
        {
            u.geturl()
            for u in fetched
            if u.scheme not in {"data", "blob", "about"} and u.netloc != server.netloc
        }
    )
    assert outside == [], f"requests to other hosts: {outside}"
    assert not watch.failed, watch.failed

"""HL7 v2 from the hospital's systems (R5.8): NIST's samples fill the register and open
findings; MLLP over loopback with several messages per connection, UTF-8 and GB18030; ACK
semantics (AA after storing, AE/AR with the reason, kept and replayable); applied once."""

from __future__ import annotations

import io
import socket
import threading
from collections.abc import Iterator
from typing import Any

import hl7
import pytest
from django.core.management import call_command
from django.test import Client

from qloop.clinical import hl7v2
from qloop.clinical.management.commands.hl7_listen import serve
from qloop.clinical.models import ClinicalRegister, Finding, HL7Message, ResultEntry
from tests.clinical.hl7samples import nist, variant
from tests.standards import skip_without_standards

skip_without_standards()


def _ack(raw: bytes, codec: str = "utf-8") -> hl7.Message:
    return hl7.parse(raw.decode(codec))


def _msa(ack: hl7.Message) -> tuple[str, str, str]:
    msa = ack.segment("MSA")
    return (
        str(msa.extract_field(1, 1)),
        str(msa.extract_field(1, 2)),
        str(msa.extract_field(1, 3)) if len(msa) > 3 else "",
    )


@pytest.mark.django_db
def test_nist_blood_lead_sample_fills_the_register_and_the_childs_limit_makes_it_critical(
    hospital: dict[str, Any],
) -> None:
    ack = _ack(hl7v2.receive(nist(1), transport="http"))
    assert _msa(ack)[:2] == ("AA", "NIST-100929110701660")
    entry = ResultEntry.objects.get()
    assert (entry.patient_name, entry.patient_id, entry.sex) == (
        "Philip Johnson",
        "9817566735",
        "M",
    )
    assert (entry.test_code, entry.result_value, entry.unit) == ("10368-9", "50", "ug/dL")
    assert entry.accession == "9700123"
    assert entry.specimen == "Capillary blood specimen"
    assert entry.abnormal_flag == "H"  # only high, not critical: the rule decides
    finding = Finding.objects.get(entry=entry)
    assert finding.kind == "critical" and "血铅" in finding.reason  # a one-year-old over 45
    assert HL7Message.objects.get().entries == 1


@pytest.mark.django_db
def test_nist_stool_culture_sample_opens_infectious_findings_without_any_flag(
    hospital: dict[str, Any],
) -> None:
    ack = _ack(hl7v2.receive(nist(6), transport="http"))
    assert _msa(ack)[0] == "AA"
    assert ResultEntry.objects.count() == 3
    kinds = dict(Finding.objects.values_list("test_code", "kind"))
    # Campylobacter and Salmonella isolated; Shigella "Not Isolated" is not a finding.
    assert kinds == {"6331-3": "infectious", "20995-1": "infectious"}
    salmonella = Finding.objects.get(test_code="20995-1")
    assert salmonella.disease_report is not None  # notifiable: a report card for IC


@pytest.mark.django_db
def test_the_same_message_twice_is_applied_once(hospital: dict[str, Any]) -> None:
    first = hl7v2.receive(nist(1), transport="mllp")
    again = hl7v2.receive(nist(1), transport="http")
    assert _msa(_ack(first))[:2] == _msa(_ack(again))[:2] == ("AA", "NIST-100929110701660")
    assert ResultEntry.objects.count() == 1
    assert Finding.objects.count() == 1


@pytest.mark.django_db
def test_a_corrected_result_is_a_new_version_of_the_same_entry(hospital: dict[str, Any]) -> None:
    hl7v2.receive(nist(1).replace(b"|50|", b"|30|"), transport="http")
    entry = ResultEntry.objects.get()
    assert entry.result_value == "30" and not entry.findings.exists()
    corrected = variant(1, control_id="NIST-CORR-1", obx={5: "52", 11: "C"})
    assert _msa(_ack(hl7v2.receive(corrected.encode(), transport="http")))[0] == "AA"
    entry.refresh_from_db()
    assert (entry.version, entry.result_value) == (2, "52")
    assert "NIST-CORR-1" in entry.versions.get(version=2).reason
    assert entry.findings.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("message", "code", "words"),
    [
        (b"this is not HL7", "AR", "MSH"),
        (variant(1, message_type="ADT^A01^ADT_A01").encode(), "AR", "ADT^A01"),
        (variant(1, control_id="").encode(), "AR", "MSH-10"),
        (variant(1, charset="EBCDIC").encode(), "AR", "EBCDIC"),
        (variant(1, control_id="X-1", obx={5: ""}).encode(), "AE", "OBX-5"),
        (
            variant(1, control_id="X-2", charset="UNICODE UTF-8").encode()[:-1] + b"\xff\xfe\r",
            "AR",
            "utf-8",
        ),
    ],
)
def test_a_bad_message_is_answered_with_the_reason_kept_and_changes_nothing(
    hospital: dict[str, Any], message: bytes, code: str, words: str
) -> None:
    ack = hl7v2.receive(message, transport="http")
    got, _control, reason = _msa(_ack(ack, "latin-1"))
    assert got == code
    assert words in reason
    assert ResultEntry.objects.count() == 0 and Finding.objects.count() == 0
    kept = HL7Message.objects.get()
    assert kept.ack_code == code and words in kept.error and bytes(kept.raw) == message


@pytest.mark.django_db
def test_an_administrator_replays_a_kept_message_once_the_cause_is_fixed(
    hospital: dict[str, Any],
) -> None:
    def switch(on: bool) -> None:  # as an administrator does, one register at a time
        for register in ClinicalRegister.objects.all():
            register.is_active = on
            register.save()

    switch(False)
    assert _msa(_ack(hl7v2.receive(nist(1), transport="http")))[0] == "AE"
    kept = HL7Message.objects.get()
    switch(True)
    with pytest.raises(Exception):  # noqa: B017 - PermissionDenied for a technologist
        hl7v2.replay(kept, actor=hospital["lab"])
    outcome = hl7v2.replay(kept, actor=hospital["admin"])
    assert outcome.code == "AA"
    assert ResultEntry.objects.count() == 1
    kept.refresh_from_db()
    assert kept.replayed_at is not None and kept.replayed_by == hospital["admin"]


CN_PV1 = "PV1|1|I|IM1^^12||||||||IM"


def _chinese(control: str, charset: str, value: str = "2.3", flag: str = "LL") -> str:
    return variant(
        1,
        control_id=control,
        charset=charset,
        name=("王", "建华"),
        patient_id="880123",
        pv1=CN_PV1,
        orc_doctor="doctor^郑^国华",
        accession=f"A{control}",
        obx={3: "K^血钾^L", 5: value, 6: "mmol/L", 7: "3.5-5.3", 8: flag},
    )


@pytest.fixture
def listener(transactional_db: Any, hospital: dict[str, Any]) -> Iterator[tuple[str, int]]:
    """``qloop hl7-listen`` on a free loopback port, in a thread of this process."""
    server = serve("127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[:2]
    server.shutdown()
    server.server_close()


def _read_acks(sock: socket.socket, n: int) -> list[bytes]:
    buffer = bytearray()
    acks: list[bytes] = []
    sock.settimeout(30)
    while len(acks) < n:
        chunk = sock.recv(65536)
        assert chunk, "the listener closed the connection"
        buffer.extend(chunk)
        acks += hl7v2.frames(buffer)
    return acks


def test_mllp_takes_several_messages_on_one_connection_in_utf8_and_gb18030(
    listener: tuple[str, int], hospital: dict[str, Any]
) -> None:
    messages = [
        (_chinese("CN-UTF8-1", "UNICODE UTF-8").encode("utf-8"), "utf-8"),
        (_chinese("CN-GB-1", "GB 18030-2000", "7.1", "HH").encode("gb18030"), "gb18030"),
        (nist(6), "ascii"),
        (_chinese("CN-GBK-1", "GBK", "4.2", "N").encode("gbk"), "gbk"),
    ]
    with socket.create_connection(listener) as sock:
        # All four in one write, split mid-frame, as a busy LIS may send them.
        stream = b"".join(hl7v2.frame(m) for m, _c in messages)
        sock.sendall(stream[:100])
        sock.sendall(stream[100:])
        acks = _read_acks(sock, len(messages))
    controls = ["CN-UTF8-1", "CN-GB-1", "NIST-100929111015653", "CN-GBK-1"]
    for ack, (_m, codec), control in zip(acks, messages, controls, strict=True):
        assert _msa(_ack(ack, codec if codec != "ascii" else "utf-8"))[:2] == ("AA", control)
    gb_ack = _ack(acks[1], "gb18030")
    assert str(gb_ack.segment("MSH").extract_field(1, 18)) == "GB 18030-2000"
    names = set(
        ResultEntry.objects.filter(patient_id="880123").values_list("patient_name", flat=True)
    )
    assert names == {"王建华"}  # both encodings read back as the same name
    critical = Finding.objects.filter(entry__patient_id="880123").select_related("entry")
    assert sorted(f.entry.result_value for f in critical) == ["2.3", "7.1"]
    first = critical.get(entry__result_value="2.3")
    assert first.recipient_user == hospital["doctor"]
    assert first.entry.ward.code == "IM1" and first.entry.bed == "12"
    assert first.ordering_department.code == "IM"


def test_mllp_answers_a_bad_message_and_goes_on_with_the_next(
    listener: tuple[str, int],
) -> None:
    with socket.create_connection(listener) as sock:
        sock.sendall(hl7v2.frame(b"garbage") + hl7v2.frame(nist(1)))
        bad, good = _read_acks(sock, 2)
    assert _msa(_ack(bad))[0] == "AR"
    assert _msa(_ack(good))[:2] == ("AA", "NIST-100929110701660")


def _token(username: str) -> dict[str, str]:
    out = io.StringIO()
    call_command("token", "create", username, stdout=out)
    return {"Authorization": f"Bearer {out.getvalue().strip()}"}


@pytest.mark.django_db
def test_post_api_v1_hl7_answers_with_the_ack(hospital: dict[str, Any]) -> None:
    client = Client()
    body = _chinese("HTTP-1", "GB 18030-2000").encode("gb18030")
    answer = client.post(
        "/api/v1/hl7", body, content_type="x-application/hl7-v2+er7", headers=_token("lab")
    )
    assert answer.status_code == 200
    assert "gb18030" in answer["Content-Type"]
    assert _msa(_ack(answer.content, "gb18030"))[:2] == ("AA", "HTTP-1")
    assert ResultEntry.objects.get().patient_name == "王建华"
    # text/plain is taken too; a JSON body is refused with a clear message.
    plain = client.post("/api/v1/hl7", nist(1), content_type="text/plain", headers=_token("lab"))
    assert _msa(_ack(plain.content))[0] == "AA"
    wrong = client.post(
        "/api/v1/hl7", b"{}", content_type="application/json", headers=_token("lab")
    )
    assert wrong.status_code == 415
    # A physician, the general manager and nobody at all may not send results.
    for who in ("doctor", "gm"):
        refused = client.post(
            "/api/v1/hl7", nist(6), content_type="text/plain", headers=_token(who)
        )
        assert refused.status_code == 403
    assert client.post("/api/v1/hl7", nist(6), content_type="text/plain").status_code == 401
    assert ResultEntry.objects.count() == 2


def test_qloop_hl7_listen_is_a_command(capsys: pytest.CaptureFixture[str]) -> None:
    from qloop.cli import main

    with pytest.raises(SystemExit) as done:
        main(["hl7-listen", "--help"])
    assert done.value.code == 0
    assert "--port" in capsys.readouterr().out

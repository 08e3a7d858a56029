"""The pharmacy's periodic summaries join the one period-summary mechanism (issues 10 R3.2 and
13 X5): the summaries may go to both recipients, and each summary made by the old mechanism
is copied into a period summary of the matching recipient set — figures, signature and the
sending as they were, with an event saying where it came from. The old rows stay as they are
(nothing a user made is deleted); running this again copies nothing twice."""

import datetime as dt
from typing import Any

from django.db import migrations, models
from django.utils import timezone

from qloop.org.trail import content_fields, entry_hash, row_values

SENT_TO = {"regulator": "药品监督管理部门", "committee": "院药事委员会"}


def _append_event(apps: Any, event: Any) -> None:
    """Give the new event its place in the period summaries' hash-chained trail."""
    head_model = apps.get_model("org", "TrailHead")
    model = type(event)
    chain = "reports.periodsummaryevent"
    head, _created = head_model.objects.get_or_create(chain=chain)
    head = head_model.objects.select_for_update().get(pk=head.pk)
    fields = content_fields(model)
    event.seq = head.seq + 1
    event.prev_hash = head.hash
    event.hash = entry_hash(
        chain, head.hash, row_values(fields, (f.pre_save(event, True) for f in fields))
    )
    event.save()
    head_model.objects.filter(pk=head.pk).update(seq=event.seq, hash=event.hash)


def copy_summaries(apps: Any, schema_editor: Any) -> None:
    old_model = apps.get_model("pharmacy", "Summary")
    summary_model = apps.get_model("reports", "PeriodSummary")
    sending_model = apps.get_model("reports", "SummarySending")
    event_model = apps.get_model("reports", "PeriodSummaryEvent")
    for old in old_model.objects.order_by("pk"):
        code = f"pharmacy_{old.recipient}"
        if summary_model.objects.filter(recipients=code, period=old.period, start=old.start):
            continue
        data = old.figures or {}
        before_start = data.get("previous_start") or ""
        before_end = (old.start - dt.timedelta(days=1)).isoformat()
        figures = {
            "periods": {
                "current": [old.start.isoformat(), old.end.isoformat()],
                "previous": [before_start, before_end],
                "last_year": None,  # the old mechanism did not count it
            },
            "current": data.get("current", {}),
            "previous": data.get("previous", {}),
            "last_year": None,
            "copied_from": {"model": "pharmacy.summary", "id": old.pk},
        }
        signed = old.state in ("signed", "sent") and old.signed_at is not None
        summary = summary_model.objects.create(
            recipients=code,
            period=old.period,
            start=old.start,
            end=old.end,
            figures=figures,
            produced_at=old.produced_at,
            counted_at=old.produced_at,
            state="signed" if signed else "draft",
            signature={**old.signature, "copied_from_summary": old.pk} if signed else {},
            signed_by_id=old.signed_by_id if signed else None,
            signed_at=old.signed_at if signed else None,
        )
        _append_event(
            apps,
            event_model(
                summary=summary,
                at=timezone.now(),
                verb="copied",
                data={"from": "pharmacy.summary", "id": old.pk, "state": old.state},
            ),
        )
        if old.state == "sent" and old.sent_at and old.sent_by_id:
            sending = sending_model.objects.create(
                summary=summary,
                sent_at=old.sent_at,
                sent_to=SENT_TO.get(old.recipient, old.recipient),
                channel=old.sent_channel,
                reference=old.sent_reference,
                recorded_by_id=old.sent_by_id,
            )
            _append_event(
                apps,
                event_model(
                    summary=summary,
                    at=old.sent_at,
                    actor_id=old.sent_by_id,
                    verb="sent",
                    data={
                        "sending": sending.pk,
                        "sent_to": sending.sent_to,
                        "channel": sending.channel,
                        "reference": sending.reference,
                        "sent_at": old.sent_at.isoformat(),
                    },
                ),
            )


class Migration(migrations.Migration):
    dependencies = [
        ("org", "0004_trail_heads"),
        ("pharmacy", "0005_pharmacy_adr_aware_index"),
        ("reports", "0006_period_summary_kept_files"),
    ]

    operations = [
        migrations.AlterField(
            model_name="pharmacysettings",
            name="summary_recipient",
            field=models.CharField(
                choices=[
                    ("regulator", "Drug regulatory authority (national system)"),
                    ("committee", "Pharmacy and Therapeutics Committee"),
                    ("both", "Both"),
                ],
                default="committee",
                max_length=20,
                verbose_name="summaries go to",
            ),
        ),
        migrations.RunPython(copy_summaries, migrations.RunPython.noop),
    ]

"""Survey results benchmark: one campaign of the default 《顾客满意度调查表》 with 100,000
responses (every question answered, comments on a third), then ``campaign_results`` timed.

    .venv/bin/python bench/surveys_bench.py --responses 100000 --data-dir /tmp/qloop-bench/surveys
    .venv/bin/python bench/surveys_bench.py --responses 100000 \\
        --database-url postgres://postgres@127.0.0.1:5432/qloop_bench_surveys

Rows go in with ``bulk_create`` in batches; the campaign, its invitations and responses are
new on every run (earlier runs' campaigns stay, as they would in a real database). The target
(issue #5): the results of 100,000 answers in under 2 s.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import add_common_arguments, database_label, setup_django

COMMENTS = [
    "交货及时，服务很好。",
    "包装有破损。",
    "价格偏高。",
    "售后响应慢了一些。",
    "产品质量稳定。",
]


def generate(responses: int, invited_share: float, batch: int, rng: random.Random) -> Any:
    from django.core.management import call_command
    from django.utils import timezone

    call_command("migrate", interactive=False, verbosity=0)
    from qloop.cases.models import Contact
    from qloop.demo.loader import load_organisation
    from qloop.surveys import actions
    from qloop.surveys.models import Answer, Campaign, Invitation, Question, Response

    users = load_organisation()
    questionnaire = actions.create_from_template("csat", actor=users["sales"])
    now = timezone.now()
    campaign = Campaign.objects.create(
        questionnaire=questionnaire,
        title=f"Bench {now:%Y-%m-%d %H:%M:%S}",
        opens_at=now - timezone.timedelta(days=30),
        created_by=users["sales"],
    )
    questions = list(Question.objects.filter(questionnaire=questionnaire))
    invited = int(responses * invited_share)
    # Every invited contact is invited and answers by link; a fifth more are invited and do not.
    contact_rows = [
        Contact(name=f"客户{i}", email=f"bench{campaign.pk}-{i}@example.cn")
        for i in range(invited + invited // 5)
    ]
    Contact.objects.bulk_create(contact_rows, batch_size=batch)
    contacts = list(
        Contact.objects.filter(email__startswith=f"bench{campaign.pk}-").values_list(
            "pk", flat=True
        )
    )
    Invitation.objects.bulk_create(
        [Invitation(campaign=campaign, contact_id=pk, email="x@example.cn") for pk in contacts],
        batch_size=batch,
    )
    invitations = list(
        Invitation.objects.filter(campaign=campaign).order_by("pk").values_list("pk", flat=True)
    )
    answers = 0
    for start in range(0, responses, batch):
        size = min(batch, responses - start)
        rows = []
        for i in range(start, start + size):
            linked = invitations[i] if i < invited else None
            rows.append(
                Response(
                    campaign=campaign,
                    invitation_id=linked,
                    source="link" if linked else "public",
                    submitted_at=now,
                )
            )
        created = Response.objects.bulk_create(rows, batch_size=batch)
        if not created or created[0].pk is None:  # SQLite before 3.35 returns no ids
            raise SystemExit("bulk_create returned no primary keys")
        answer_rows = []
        for response in created:
            satisfied = rng.random() < 0.7
            for q in questions:
                if q.type == "rating":
                    value = rng.choice([4, 5, 5] if satisfied else [1, 2, 3, 3, 4])
                    answer_rows.append(
                        Answer(response=response, campaign=campaign, question=q, value=value)
                    )
                elif q.type == "recommendation":
                    value = rng.choice([8, 9, 10, 10] if satisfied else list(range(0, 9)))
                    answer_rows.append(
                        Answer(response=response, campaign=campaign, question=q, value=value)
                    )
                elif q.type == "single":
                    answer_rows.append(
                        Answer(
                            response=response,
                            campaign=campaign,
                            question=q,
                            value=rng.randrange(len(q.choices)),
                        )
                    )
                elif q.type == "multiple":
                    for value in rng.sample(range(len(q.choices)), rng.randint(1, 2)):
                        answer_rows.append(
                            Answer(response=response, campaign=campaign, question=q, value=value)
                        )
                elif rng.random() < 0.33:
                    answer_rows.append(
                        Answer(
                            response=response,
                            campaign=campaign,
                            question=q,
                            text=rng.choice(COMMENTS),
                        )
                    )
        Answer.objects.bulk_create(answer_rows, batch_size=batch)
        answers += len(answer_rows)
        print(f"  {start + size:,} responses, {answers:,} answer rows", file=sys.stderr, flush=True)
    return campaign, answers


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_common_arguments(parser)
    parser.add_argument("--responses", type=int, default=100_000)
    parser.add_argument("--invited-share", type=float, default=0.3)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--batch", type=int, default=5_000)
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args(argv)
    setup_django(args.database_url, args.data_dir)
    from django.db import connection

    from qloop.surveys.results import campaign_results

    started = time.perf_counter()
    campaign, answers = generate(
        args.responses, args.invited_share, args.batch, random.Random(args.seed)
    )
    generated = time.perf_counter() - started
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute(
                "ANALYZE surveys_answer; ANALYZE surveys_response; ANALYZE surveys_invitation"
            )
    else:
        with connection.cursor() as cur:
            cur.execute("ANALYZE")
    timings = []
    for _ in range(args.runs):
        t0 = time.perf_counter()
        results = campaign_results(campaign.pk)
        timings.append(time.perf_counter() - t0)
    print(f"database        {database_label()}")
    print(
        f"responses       {args.responses:,} ({answers:,} answer rows), generated in {generated:.0f} s"
    )
    print(
        f"results         response rate {results.response_rate}, CSAT {results.csat}, NPS {results.nps}, "
        f"public {results.public_answers:,}"
    )
    print(
        f"campaign_results median {statistics.median(timings) * 1000:.0f} ms, "
        f"min {min(timings) * 1000:.0f} ms, max {max(timings) * 1000:.0f} ms over {args.runs} runs "
        f"(first {timings[0] * 1000:.0f} ms)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

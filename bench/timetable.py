"""Benchmark: solve a generated 20-person week (5 days, 4 turns, 7 lines).

Runs against the database in SOFNO_DATABASE_URL (migrating it first): it creates a
throw-away organization with 20 people and realistic busy entries (weekly
meetings, one-off appointments, a few holidays, "prefers not" wishes, four desks),
builds the week's problem from the database and solves it with CP-SAT on 2 workers
with a 1% relative gap limit. Prints the figures, then one line of JSON:
{"seconds": ..., "optimal": ..., "gap": ..., "unfilled": ...}.

    python bench/timetable.py [--seed N] [--time-limit S]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import sys
import time
import uuid

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sofno.settings")
# Python puts this script's folder first on the path, where bench/email.py would
# shadow the standard library's email package that Django imports.
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != _HERE]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--time-limit", type=float, default=60.0)
    parser.add_argument("--gap", type=float, default=0.01, help="relative gap limit")
    args = parser.parse_args()

    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)

    from sofno.core.models import Organization
    from sofno.oncall.models import BusyEntry, Holiday, OncallSettings, Person
    from sofno.oncall.planning import build_problem
    from sofno.oncall.solver import solve

    rng = random.Random(args.seed)
    tag = uuid.uuid4().hex[:8]
    org = Organization.objects.create(slug=f"bench-{tag}", name="Bench", timezone="Europe/Rome")
    users = []
    try:
        OncallSettings.objects.create(
            organization=org, lines=7, lunch_pairs=[[2, 3]], days=[0, 1, 2, 3, 4]
        )
        week = dt.date(2030, 1, 7)  # a Monday, safely in the future
        desks = ["help desk", "field", "network", "accounts"]
        for i in range(20):
            user = get_user_model().objects.create(username=f"bench-{tag}-{i}")
            users.append(user)
            person = Person.objects.create(
                organization=org,
                user=user,
                extension=str(200 + i),
                ideal_load=7,
                max_per_day=2,
                desk=desks[i % len(desks)],
            )
            # A weekly meeting of the person's desk, a one-off appointment or two,
            # occasionally a holiday, and a "prefers not" wish.
            BusyEntry.objects.create(
                person=person, weekday=i % 4, turns=[rng.randrange(4)], reason="team meeting"
            )
            for _ in range(rng.randint(0, 2)):
                BusyEntry.objects.create(
                    person=person,
                    date=week + dt.timedelta(days=rng.randrange(5)),
                    turns=sorted(rng.sample(range(4), rng.randint(1, 2))),
                    reason="customer visit",
                )
            if rng.random() < 0.15:
                start = week + dt.timedelta(days=rng.randrange(5))
                Holiday.objects.create(
                    person=person, start=start, end=start + dt.timedelta(days=rng.randint(0, 2))
                )
            if rng.random() < 0.5:
                BusyEntry.objects.create(
                    person=person,
                    weekday=rng.randrange(5),
                    turns=[rng.choice([0, 3])],
                    hard=False,
                    reason="prefers not",
                )
        built = time.monotonic()
        problem, _meta = build_problem(org, week)
        build_seconds = time.monotonic() - built

        def progress(objective: int, bound: float, seconds: float) -> None:
            print(f"  {seconds:7.2f}s  objective {objective:>7}  bound {bound:>9.1f}")

        print(
            f"instance: {len(problem.people)} people, {len(problem.days)} days, "
            f"{len(problem.turns)} turns, {problem.lines[0][0]} lines; "
            f"targets sum {sum(p.target for p in problem.people)}, "
            f"lines {sum(map(sum, problem.lines))}; built from the database in "
            f"{build_seconds:.3f}s"
        )
        solution = solve(
            problem, time_limit=args.time_limit, workers=2, relative_gap=args.gap, progress=progress
        )
        print(
            f"status {solution.status}, objective {solution.objective}, bound "
            f"{solution.bound:.1f}, gap {solution.gap:.4f}, {solution.seconds:.2f}s, "
            f"{solution.empty_lines} empty lines"
        )
        for gap in solution.unfilled:
            print("  " + gap["text"])
        within = solution.gap <= max(args.gap, 0.01) + 1e-9 and solution.status in (
            "optimal",
            "within_gap",
        )
        print(
            json.dumps(
                {
                    "seconds": solution.seconds,
                    "optimal": within,
                    "gap": solution.gap,
                    "unfilled": solution.empty_lines,
                }
            )
        )
    finally:
        org.delete()
        for user in users:
            user.delete()
    sys.stdout.flush()


if __name__ == "__main__":
    main()

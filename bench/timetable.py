"""Benchmark: solve generated weeks of 20, 40 and 80 people, built from the database.

Sizes (people x days x turns x lines):
- 20 x 5 x 4 x 7: Tomatic's shape; 140 lines, every one fillable (2 turns of overload);
- 40 x 5 x 6 x 12: to be proven optimal in under 10 s;
- 80 x 6 x 8 x 20: 960 lines, every fillable one to be filled within 30 s.

For each size it creates a throw-away organization whose people have realistic
busy entries (weekly meetings, one-off appointments, a few holidays, "prefers not"
wishes, four desks), builds the week's problem from the database (migrating it
first; SOFNO_DATABASE_URL chooses it) and solves it with CP-SAT on 2 workers. It
prints the figures and the load average (the machine may be shared), then one line
of JSON: {"load_average": [...], "cpus": N, "runs": [{"size": ..., "seconds": ...,
"optimal": ..., "gap": ..., "unfilled": ..., "fillable": ...}, ...]}.

``fillable`` is how many lines any week keeping the hard rules can fill at best
(all of them when the solution fills all; else from a fill-only search).

    python bench/timetable.py [--size 20|40|80|all] [--seed N] [--time-limit S]
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


# people, days, turns, lines, ideal load, max per day, lunch pair, turns above ideal
SIZES = {
    20: (20, 5, 4, 7, 7, 2, [[2, 3]], 2),
    40: (40, 5, 6, 12, 9, 2, [[2, 3]], 2),
    80: (80, 6, 8, 20, 12, 3, [[3, 4]], 2),
}
# What each size must show: proven optimal (20 and 40), or all fillable lines filled.
LIMITS = {20: 60.0, 40: 10.0, 80: 30.0}


def hour_turns(count: int) -> list[str]:
    """``count`` turns: the four of Tomatic's morning, then hour-long ones."""
    base = ["09:00-10:15", "10:15-11:30", "11:30-12:45", "12:45-14:00"]
    hours = [f"{h:02d}:00-{h + 1:02d}:00" for h in range(15, 15 + max(0, count - 4))]
    return (base + hours)[:count]


def populate(org, size: int, rng, tag: str, week: dt.date) -> list:
    """The organization's settings and people for ``size``; returns the users made."""
    from django.contrib.auth import get_user_model

    from sofno.oncall.models import BusyEntry, Holiday, OncallSettings, Person

    n, n_days, n_turns, lines, ideal, max_per_day, lunch, overload = SIZES[size]
    OncallSettings.objects.create(
        organization=org,
        lines=lines,
        turns=hour_turns(n_turns),
        lunch_pairs=lunch,
        days=list(range(n_days)),
        max_overload=overload,
    )
    desks = ["help desk", "field", "network", "accounts"]
    users = []
    for i in range(n):
        user = get_user_model().objects.create(username=f"bench-{tag}-{i}")
        users.append(user)
        person = Person.objects.create(
            organization=org,
            user=user,
            extension=str(200 + i),
            ideal_load=ideal,
            max_per_day=max_per_day,
            desk=desks[i % len(desks)],
        )
        # A weekly meeting of the person's desk, a one-off appointment or two,
        # occasionally a holiday, and a "prefers not" wish.
        BusyEntry.objects.create(
            person=person, weekday=i % 4, turns=[rng.randrange(n_turns)], reason="team meeting"
        )
        for _ in range(rng.randint(0, 2)):
            BusyEntry.objects.create(
                person=person,
                date=week + dt.timedelta(days=rng.randrange(n_days)),
                turns=sorted(rng.sample(range(n_turns), rng.randint(1, 2))),
                reason="customer visit",
            )
        if rng.random() < 0.15:
            start = week + dt.timedelta(days=rng.randrange(n_days))
            Holiday.objects.create(
                person=person, start=start, end=start + dt.timedelta(days=rng.randint(0, 2))
            )
        if rng.random() < 0.5:
            BusyEntry.objects.create(
                person=person,
                weekday=rng.randrange(n_days),
                turns=[rng.choice([0, n_turns - 1])],
                hard=False,
                reason="prefers not",
            )
    return users


def run(size: int, seed: int, time_limit: float | None) -> dict:
    """Build and solve one size; print its figures; return them."""
    from sofno.core.models import Organization
    from sofno.oncall.explain import describe_gap, describe_summary
    from sofno.oncall.planning import build_problem
    from sofno.oncall.solver import fewest_empty, solve, violations

    rng = random.Random(seed)
    tag = uuid.uuid4().hex[:8]
    week = dt.date(2030, 1, 7)  # a Monday, safely in the future
    org = Organization.objects.create(slug=f"bench-{tag}", name="Bench", timezone="Europe/Rome")
    users = []
    try:
        users = populate(org, size, rng, tag, week)
        built = time.monotonic()
        problem, _meta = build_problem(org, week)
        build_seconds = time.monotonic() - built
        first: list[float] = []

        def progress(objective: int, bound: float, seconds: float) -> None:
            if not first:
                first.append(seconds)
            print(f"  {seconds:7.2f}s  cost {objective:>8}  bound {bound:>9.1f}")

        total = problem.total_lines()
        print(
            f"== {size} people, {len(problem.days)} days, {len(problem.turns)} turns, "
            f"{problem.lines[0][0]} lines: {total} lines; targets sum "
            f"{sum(p.target for p in problem.people)}, maxima sum "
            f"{sum(p.maximum for p in problem.people)}; built from the database in "
            f"{build_seconds:.3f}s; load average {os.getloadavg()[0]:.2f}"
        )
        limit = time_limit if time_limit is not None else LIMITS[size]
        solution = solve(problem, time_limit=limit, workers=2, progress=progress)
        print(
            f"  status {solution.status}, cost {solution.objective}, bound "
            f"{solution.bound:.1f}, gap {solution.gap:.4f}, {solution.seconds:.2f}s, "
            f"{solution.empty_lines} empty lines, {solution.solutions_seen} timetables seen"
        )
        if solution.empty_lines == 0:
            fewest, proven = 0, True
        elif solution.fewest_proven:
            fewest, proven = solution.fewest_empty, True
        else:
            fewest, proven, _grid = fewest_empty(problem, time_limit=60, workers=2)
        for item in solution.summary:
            print("  " + describe_summary(item))
        for gap in solution.unfilled[:10]:
            print("  " + describe_gap(gap))
        broken = violations(problem, solution.grid)
        print(f"  hard rules broken: {len(broken)}")
        return {
            "size": f"{size}x{len(problem.days)}x{len(problem.turns)}x{problem.lines[0][0]}",
            "people": size,
            "lines": total,
            "seconds": solution.seconds,
            "first_solution_seconds": round(first[0], 3) if first else None,
            "optimal": solution.optimal,
            "status": solution.status,
            "gap": solution.gap,
            "unfilled": solution.empty_lines,
            "fillable": None if fewest is None else total - fewest,
            "fillable_proven": proven,
            "broken": len(broken),
        }
    finally:
        org.delete()
        for user in users:
            user.delete()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="all", choices=["20", "40", "80", "all"])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--time-limit", type=float, default=None, help="per size; default 60/10/30")
    args = parser.parse_args()

    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    sizes = list(SIZES) if args.size == "all" else [int(args.size)]
    before = os.getloadavg()
    print(f"load average before: {before[0]:.2f} {before[1]:.2f} {before[2]:.2f}")
    runs = [run(size, args.seed, args.time_limit) for size in sizes]
    after = os.getloadavg()
    print(f"load average after: {after[0]:.2f} {after[1]:.2f} {after[2]:.2f}")
    print(
        json.dumps(
            {
                "load_average": [round(v, 2) for v in (*before, *after)],
                "cpus": os.cpu_count(),
                "runs": runs,
            }
        )
    )
    sys.stdout.flush()


if __name__ == "__main__":
    main()

"""The timetable solver: people to phone turns with OR-Tools CP-SAT.

Pure Python over plain data (no database), so tests, the benchmark and the web all
solve the same :class:`Problem`.

Hard rules (never broken by a solution):
- a person takes no turn they are unavailable for (holiday, hard busy entry);
- at most one line per person per turn, and no more people than lines in a turn;
- at most ``max_per_day`` turns per person per day;
- at most ``target`` turns per person per week (the weekly load is an upper bound);
- no person takes both turns of a lunch pair on one day.

Penalties (weights in :class:`Weights`, all integers):
- ``unfilled``: k empty lines in one turn cost k² units, so gaps spread out;
- ``load``: each turn a person is below their weekly target;
- ``split``: each extra block of turns in a person's day (turns apart, not together);
- ``soft_busy``: each turn taken against a "prefers not" entry;
- ``desk``: each extra person of the same desk or team on the phone in one turn.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields

Slot = tuple[int, int]  # (day index, turn index)


@dataclass
class Weights:
    """How much each kind of imperfection costs."""

    unfilled: int = 1000
    load: int = 40
    split: int = 20
    soft_busy: int = 30
    desk: int = 5

    def as_dict(self) -> dict[str, int]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict | None) -> Weights:
        """Weights from JSON; unknown names or negative values raise ``ValueError``."""
        data = dict(data or {})
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown weight {unknown[0]!r} (known: {', '.join(sorted(known))})")
        for name, value in data.items():
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ValueError(f"weight {name!r} must be a whole number >= 0")
        return cls(**data)


@dataclass
class PersonSpec:
    """One person as the solver sees them for one week."""

    key: str
    name: str
    target: int
    max_per_day: int
    desk: str = ""
    holidays: set[int] = field(default_factory=set)  # day indexes off
    busy: dict[Slot, str] = field(default_factory=dict)  # hard: slot -> reason
    soft: dict[Slot, str] = field(default_factory=dict)  # prefers not: slot -> reason

    def available(self, slot: Slot) -> bool:
        return slot[0] not in self.holidays and slot not in self.busy


@dataclass
class Problem:
    """A week to staff: day and turn labels, lines per slot, people, rules, weights."""

    days: list[str]
    turns: list[str]
    lines: list[list[int]]  # lines[day][turn]
    people: list[PersonSpec]
    lunch_pairs: list[tuple[int, int]] = field(default_factory=list)
    weights: Weights = field(default_factory=Weights)

    def slots(self) -> list[Slot]:
        return [(d, t) for d in range(len(self.days)) for t in range(len(self.turns))]

    def label(self, slot: Slot) -> str:
        return f"{self.days[slot[0]]} {self.turns[slot[1]]}"


Grid = list[list[list[str]]]  # grid[day][turn] -> person keys


@dataclass
class Solution:
    """The best timetable found, how good it is, and why any line stayed empty."""

    grid: Grid
    status: str  # "optimal", "feasible" (time budget ran out) or "unknown"
    optimal: bool
    objective: int
    bound: float
    gap: float
    seconds: float
    parts: dict[str, dict[str, int]]  # person key -> penalty part -> cost
    unfilled: list[dict]  # one per turn with empty lines, with reasons
    solutions_seen: int = 0

    @property
    def empty_lines(self) -> int:
        return sum(item["empty"] for item in self.unfilled)


MAX_PATTERNS = 300


def _blocks(turns: tuple[int, ...]) -> int:
    """How many separate runs of consecutive turns ``turns`` (sorted) makes."""
    return sum(1 for i, t in enumerate(turns) if i == 0 or turns[i - 1] != t - 1)


def day_patterns(available: list[int], max_per_day: int, lunch: list) -> list[tuple[int, ...]]:
    """Every non-empty set of ``available`` turns one person may take in one day."""
    pairs = [tuple(p) for p in lunch]
    found = []
    for size in range(1, min(max_per_day, len(available)) + 1):
        for combo in itertools.combinations(sorted(available), size):
            if not any(a in combo and b in combo for a, b in pairs):
                found.append(combo)
            if len(found) > MAX_PATTERNS:
                return found
    return found


def day_capacity(available_turns: list[int], max_per_day: int, lunch: list[Slot]) -> int:
    """The most turns one person can take in one day under the hard rules."""
    best = 0
    pairs = [tuple(p) for p in lunch]
    for size in range(min(max_per_day, len(available_turns)), 0, -1):
        for combo in itertools.combinations(available_turns, size):
            chosen = set(combo)
            if not any(a in chosen and b in chosen for a, b in pairs):
                return size
    return best


def weekly_target(
    ideal: int, days_worked: int, days_in_week: int, carry: float, capacity: int
) -> tuple[float, int]:
    """The week's due load (float) and its whole-turn upper bound.

    - Due: the ideal load scaled by the days worked (holidays and days off removed)
      out of the week's working days; it is what a fair week asks of the person.
    - Target: due plus the balance carried from past weeks, rounded, never below 0
      and never above what the person can really take this week (``capacity``).
    """
    due = ideal * days_worked / days_in_week if days_in_week else 0.0
    target = max(0, round(due + carry))
    return due, min(target, capacity)


def _progress_callback(cp_model, report: Callable[[int, float, float], None] | None):
    """A CP-SAT solution callback reporting each better timetable to ``report``."""

    class Progress(cp_model.CpSolverSolutionCallback):
        def __init__(self) -> None:
            super().__init__()
            self.started = time.monotonic()
            self.count = 0

        def on_solution_callback(self) -> None:
            self.count += 1
            if report is not None:
                report(
                    int(self.ObjectiveValue()),
                    float(self.BestObjectiveBound()),
                    time.monotonic() - self.started,
                )

    return Progress()


def solve(
    problem: Problem,
    *,
    time_limit: float = 30.0,
    workers: int = 2,
    relative_gap: float = 0.0,
    progress: Callable[[int, float, float], None] | None = None,
    seed: int = 0,
) -> Solution:
    """Staff ``problem`` within ``time_limit`` seconds; keep the best found.

    ``progress(objective, bound, seconds)`` is called at each better timetable.
    ``relative_gap`` lets the search stop once within that fraction of the bound.
    """
    # Imported here, not at the top: ortools (and pandas with it) adds about 1.5 s
    # to the start of every process that loads the app, and only solving needs it.
    from ortools.sat.python import cp_model

    model = cp_model.CpModel()
    weights = problem.weights
    n_days, n_turns = len(problem.days), len(problem.turns)
    x: dict[tuple[int, Slot], cp_model.IntVar] = {}
    for p, person in enumerate(problem.people):
        for slot in problem.slots():
            if person.available(slot) and person.target > 0 and person.max_per_day > 0:
                x[p, slot] = model.new_bool_var(f"x_{p}_{slot[0]}_{slot[1]}")

    terms: list = []
    # Unfilled lines: k empty lines cost 1 + 3 + ... + (2k-1) = k².
    for slot in problem.slots():
        lines = problem.lines[slot[0]][slot[1]]
        staffed = [x[p, slot] for p in range(len(problem.people)) if (p, slot) in x]
        model.add(sum(staffed) <= lines)
        if lines:
            steps = [model.new_bool_var(f"e_{slot[0]}_{slot[1]}_{k}") for k in range(lines)]
            model.add(sum(steps) + sum(staffed) == lines)
            for k in range(1, lines):
                model.add_implication(steps[k], steps[k - 1])  # symmetry: fill steps in order
            terms += [weights.unfilled * (2 * k + 1) * step for k, step in enumerate(steps)]

    for p, person in enumerate(problem.people):
        mine = {slot: var for (q, slot), var in x.items() if q == p}
        if not mine:
            terms.append(weights.load * person.target)  # a target nobody can meet still counts
            continue
        for d in range(n_days):
            available = [t for t in range(n_turns) if (d, t) in mine]
            patterns = day_patterns(available, person.max_per_day, problem.lunch_pairs)
            if len(patterns) <= MAX_PATTERNS:
                # One choice per person-day among the whole days they could work: the
                # split penalty is then exact in the relaxation, which is what lets
                # CP-SAT prove optimality quickly instead of branching on splits.
                picks = [model.new_bool_var(f"z_{p}_{d}_{i}") for i in range(len(patterns))]
                model.add(sum(picks) <= 1)
                for t in available:
                    model.add(
                        mine[(d, t)]
                        == sum(z for z, s in zip(picks, patterns, strict=True) if t in s)
                    )
                if weights.split:
                    terms += [
                        weights.split * (_blocks(s) - 1) * z
                        for z, s in zip(picks, patterns, strict=True)
                        if _blocks(s) > 1
                    ]
                continue
            todays = [mine[(d, t)] for t in available]
            if len(todays) > person.max_per_day:
                model.add(sum(todays) <= person.max_per_day)
            for a, b in problem.lunch_pairs:
                if (d, a) in mine and (d, b) in mine:
                    model.add(mine[(d, a)] + mine[(d, b)] <= 1)
            if person.max_per_day >= 2 and len(todays) >= 2 and weights.split:
                starts = []
                for t in available:
                    start = model.new_bool_var(f"s_{p}_{d}_{t}")
                    if (d, t - 1) in mine:
                        model.add(start >= mine[(d, t)] - mine[(d, t - 1)])
                    else:
                        model.add(start >= mine[(d, t)])
                    starts.append(start)
                split = model.new_int_var(0, n_turns, f"split_{p}_{d}")
                model.add(split >= sum(starts) - 1)
                terms.append(weights.split * split)
        total = sum(mine.values())
        model.add(total <= person.target)
        terms.append(weights.load * (person.target - total))
        soft = [mine[slot] for slot in person.soft if slot in mine]
        if soft and weights.soft_busy:
            terms.append(weights.soft_busy * sum(soft))

    if weights.desk:
        desks: dict[str, list[int]] = {}
        for p, person in enumerate(problem.people):
            if person.desk:
                desks.setdefault(person.desk, []).append(p)
        for desk, members in desks.items():
            if len(members) < 2:
                continue
            for slot in problem.slots():
                on = [x[p, slot] for p in members if (p, slot) in x]
                if len(on) >= 2:
                    crowd = model.new_int_var(0, len(on), f"desk_{desk}_{slot[0]}_{slot[1]}")
                    model.add(crowd >= sum(on) - 1)
                    terms.append(weights.desk * crowd)

    model.minimize(sum(terms) if terms else 0)
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = float(time_limit)
    solver.parameters.num_workers = max(1, workers)
    solver.parameters.random_seed = seed
    # Presolve rewrites the pattern links into Boolean constraints the LP does not
    # see, which leaves the bound stuck at the unfilled cost (a 20-person week never
    # proves in a minute); without it the same week proves optimal in under a second.
    solver.parameters.cp_model_presolve = False
    if relative_gap:
        solver.parameters.relative_gap_limit = relative_gap
    callback = _progress_callback(cp_model, progress)
    started = time.monotonic()
    status = solver.solve(model, callback)
    seconds = time.monotonic() - started

    grid: Grid = [[[] for _ in range(n_turns)] for _ in range(n_days)]
    if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        for (p, (d, t)), var in x.items():
            if solver.value(var):
                grid[d][t].append(problem.people[p].key)
        objective = round(solver.objective_value)
        bound = float(solver.best_objective_bound)
    else:  # no timetable at all within the budget: an empty week is still valid
        objective, bound = evaluate(problem, grid)["total"], 0.0
    gap = 0.0 if objective == 0 else max(0.0, (objective - bound) / abs(objective))
    optimal = status == cp_model.OPTIMAL and gap <= max(relative_gap, 1e-9)
    name = {cp_model.OPTIMAL: "optimal", cp_model.FEASIBLE: "feasible"}.get(status, "unknown")
    # With a gap limit CP-SAT reports OPTIMAL once within the gap; say so honestly.
    if status == cp_model.OPTIMAL and gap > 1e-9:
        name = "within_gap"
    scores = evaluate(problem, grid)
    return Solution(
        grid=grid,
        status=name,
        optimal=optimal,
        objective=objective,
        bound=bound,
        gap=round(gap, 6),
        seconds=round(seconds, 3),
        parts=scores["people"],
        unfilled=explain_unfilled(problem, grid),
        solutions_seen=callback.count,
    )


def evaluate(problem: Problem, grid: Grid) -> dict:
    """The cost of ``grid``: total, the unfilled part, and each person's parts."""
    weights = problem.weights
    index = {person.key: person for person in problem.people}
    people: dict[str, dict[str, int]] = {
        key: {"load": 0, "split": 0, "soft_busy": 0, "desk": 0, "assigned": 0, "target": 0}
        for key in index
    }
    unfilled = 0
    for d, t in problem.slots():
        staffed = grid[d][t]
        empty = max(0, problem.lines[d][t] - len(staffed))
        unfilled += weights.unfilled * empty * empty
        seen_desks: set[str] = set()
        for key in staffed:
            person = index[key]
            if (d, t) in person.soft:
                people[key]["soft_busy"] += weights.soft_busy
            if person.desk:
                # The second and later people of a desk in a turn carry the cost.
                if person.desk in seen_desks:
                    people[key]["desk"] += weights.desk
                seen_desks.add(person.desk)
    for key, person in index.items():
        assigned = sum(key in grid[d][t] for d, t in problem.slots())
        people[key]["assigned"] = assigned
        people[key]["target"] = person.target
        people[key]["load"] = weights.load * max(0, person.target - assigned)
        for d in range(len(problem.days)):
            taken = [key in grid[d][t] for t in range(len(problem.turns))]
            blocks = sum(1 for t, on in enumerate(taken) if on and (t == 0 or not taken[t - 1]))
            people[key]["split"] += weights.split * max(0, blocks - 1)
    total = unfilled + sum(
        part["load"] + part["split"] + part["soft_busy"] + part["desk"] for part in people.values()
    )
    return {"total": total, "unfilled": unfilled, "people": people}


def explain_unfilled(problem: Problem, grid: Grid) -> list[dict]:
    """For each turn with empty lines, why nobody else could take them.

    Each person not on the turn is counted once, under the first reason that holds:
    on holiday, busy (hard), at their maximum turns that day, the lunch rule, their
    weekly load reached, or available (the solver preferred otherwise).
    """
    result = []
    for d, t in problem.slots():
        lines = problem.lines[d][t]
        staffed = grid[d][t]
        empty = lines - len(staffed)
        if empty <= 0:
            continue
        reasons = {"holiday": 0, "busy": 0, "max_per_day": 0, "lunch": 0, "load": 0, "free": 0}
        for person in problem.people:
            if person.key in staffed:
                continue
            today = sum(person.key in grid[d][u] for u in range(len(problem.turns)))
            week = sum(person.key in grid[e][u] for e, u in problem.slots())
            partners = [b for a, b in problem.lunch_pairs if a == t] + [
                a for a, b in problem.lunch_pairs if b == t
            ]
            if d in person.holidays:
                reasons["holiday"] += 1
            elif (d, t) in person.busy:
                reasons["busy"] += 1
            elif today >= person.max_per_day:
                reasons["max_per_day"] += 1
            elif any(person.key in grid[d][u] for u in partners):
                reasons["lunch"] += 1
            elif week >= person.target:
                reasons["load"] += 1
            else:
                reasons["free"] += 1
        result.append(
            {
                "day": d,
                "turn": t,
                "label": problem.label((d, t)),
                "lines": lines,
                "empty": empty,
                "reasons": reasons,
                "text": describe_gap(problem.label((d, t)), empty, lines, reasons),
            }
        )
    return result


REASON_WORDS = {
    "holiday": "on holiday",
    "busy": "busy",
    "max_per_day": "at max turns that day",
    "lunch": "kept off by the lunch rule",
    "load": "at their weekly load",
    "free": "free but not chosen",
}


def describe_gap(label: str, empty: int, lines: int, reasons: dict[str, int]) -> str:
    """``Tue 12:45-14:00: 2 of 7 lines empty: 5 people on holiday, 3 busy, ...``."""
    parts = [
        f"{count} {'person' if count == 1 else 'people'} {REASON_WORDS[name]}"
        if name in ("holiday", "load", "free", "lunch", "max_per_day")
        else f"{count} {REASON_WORDS[name]}"
        for name, count in reasons.items()
        if count
    ]
    because = ", ".join(parts) if parts else "nobody else is on the team"
    return f"{label}: {empty} of {lines} lines empty: {because}"


def violations(problem: Problem, grid: Grid) -> list[str]:
    """Every hard rule ``grid`` breaks, as sentences (empty when it breaks none)."""
    found: list[str] = []
    index = {person.key: person for person in problem.people}
    for d, t in problem.slots():
        staffed = grid[d][t]
        label = problem.label((d, t))
        if len(staffed) > problem.lines[d][t]:
            found.append(f"{label}: {len(staffed)} people on {problem.lines[d][t]} lines")
        for key in set(staffed):
            if staffed.count(key) > 1:
                found.append(f"{label}: {index[key].name} holds two lines")
        for key in staffed:
            person = index.get(key)
            if person is None:
                found.append(f"{label}: {key} is not on the team")
                continue
            if d in person.holidays:
                found.append(f"{label}: {person.name} is on holiday")
            elif (d, t) in person.busy:
                found.append(f"{label}: {person.name} is busy ({person.busy[(d, t)]})")
    for key, person in index.items():
        week = 0
        for d in range(len(problem.days)):
            today = [t for t in range(len(problem.turns)) if key in grid[d][t]]
            week += len(today)
            if len(today) > person.max_per_day:
                found.append(
                    f"{problem.days[d]}: {person.name} has {len(today)} turns, "
                    f"more than {person.max_per_day} a day"
                )
            for a, b in problem.lunch_pairs:
                if a in today and b in today:
                    found.append(
                        f"{problem.days[d]}: {person.name} takes {problem.turns[a]} and "
                        f"{problem.turns[b]} back to back (lunch rule)"
                    )
        if week > person.target:
            found.append(f"{person.name} has {week} turns, over the weekly load of {person.target}")
    return found

"""The timetable solver: people to phone turns with OR-Tools CP-SAT.

Pure Python over plain data (no database), so tests, the benchmark and the web all
solve the same :class:`Problem`. Explanations come out as codes with numbers;
:mod:`sofno.oncall.explain` turns them into sentences in the reader's language.

Hard rules (never broken by a solution):
- a person takes no turn they are unavailable for (holiday, hard busy entry);
- at most one line per person per turn, and no more people than lines in a turn;
- at most ``max_per_day`` turns per person per day;
- at most ``maximum`` turns per person per week: the ideal load (plus any allowed
  overload), never the scaled target, which is only what a fair week asks;
- no person takes both turns of a lunch pair on one day;
- options (Tomatic's rules): at most ``max_per_desk`` people of one desk in a turn;
  ``no_split``: a person's turns of one day are consecutive; at most ``max_empty``
  empty lines in a turn.

Penalties (weights in :class:`Weights`, all integers):
- ``unfilled``: k empty lines in one turn cost k² units, so gaps spread out;
- ``load``: each turn a person is below their weekly target;
- ``overload``: each turn a person is above their weekly target (within their maximum);
- ``split``: each extra block of turns in a person's day (turns apart, not together);
- ``soft_busy``: each turn taken against a "prefers not" entry;
- ``desk``: each extra person of the same desk or team on the phone in one turn.

With the default weights one empty line (1000) costs more than the most that adding
one person to it can cost (overload + split + soft_busy + desk = 115), so an optimal
timetable leaves no line empty that someone could take without breaking a hard rule.
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
    overload: int = 60
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
    """One person as the solver sees them for one week.

    ``target`` is the fair share (a soft goal); ``limit`` the most they may take
    (hard), the target itself when not given.
    """

    key: str
    name: str
    target: int
    max_per_day: int
    desk: str = ""
    holidays: set[int] = field(default_factory=set)  # day indexes off
    busy: dict[Slot, str] = field(default_factory=dict)  # hard: slot -> reason
    soft: dict[Slot, str] = field(default_factory=dict)  # prefers not: slot -> reason
    limit: int | None = None

    @property
    def maximum(self) -> int:
        return self.target if self.limit is None else max(self.limit, 0)

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
    max_per_desk: int | None = None  # hard cap on one desk's people in a turn
    no_split: bool = False  # hard: a person's turns of a day are consecutive
    max_empty: int | None = None  # hard cap on empty lines in a turn

    def slots(self) -> list[Slot]:
        return [(d, t) for d in range(len(self.days)) for t in range(len(self.turns))]

    def label(self, slot: Slot) -> str:
        return f"{self.days[slot[0]]} {self.turns[slot[1]]}"

    def rules(self) -> dict:
        """The optional hard rules, as stored with a timetable."""
        return {
            "max_per_desk": self.max_per_desk,
            "no_split": self.no_split,
            "max_empty": self.max_empty,
        }

    def total_lines(self) -> int:
        return sum(map(sum, self.lines))


Grid = list[list[list[str]]]  # grid[day][turn] -> person keys


@dataclass
class Solution:
    """The best timetable found, how good it is, and why any line stayed empty."""

    grid: Grid
    status: str  # "optimal", "within_gap", "feasible", "infeasible" or "unknown"
    optimal: bool
    objective: int
    bound: float
    gap: float
    seconds: float
    parts: dict[str, dict[str, int]]  # person key -> penalty part -> cost
    unfilled: list[dict]  # one per turn with empty lines, with reasons
    solutions_seen: int = 0
    summary: list[dict] = field(default_factory=list)  # the week's picture, as codes
    fewest_empty: int | None = None  # the fewest empty lines any valid week has
    fewest_proven: bool = False

    @property
    def empty_lines(self) -> int:
        return sum(item["empty"] for item in self.unfilled)


MAX_PATTERNS = 300
# Past this many pattern choices in a week the model is too big for the LP to
# help within a budget (80 people x 6 days x 92 patterns took 8 s for a first
# bound on 2 cores); the plain rules then find better weeks sooner.
PATTERN_BUDGET = 15_000
# Workers for a week (or a day) the exact model can prove (see ``solve``).
PROVING_WORKERS = 1
# The share of a big week's budget spent repairing the greedy week day by day.
REPAIR_SHARE = 0.6


def _blocks(turns: tuple[int, ...]) -> int:
    """How many separate runs of consecutive turns ``turns`` (sorted) makes."""
    return sum(1 for i, t in enumerate(turns) if i == 0 or turns[i - 1] != t - 1)


def day_patterns(
    available: list[int], max_per_day: int, lunch: list, *, no_split: bool = False
) -> list[tuple[int, ...]]:
    """Every non-empty set of ``available`` turns one person may take in one day."""
    pairs = [tuple(p) for p in lunch]
    found = []
    for size in range(1, min(max_per_day, len(available)) + 1):
        for combo in itertools.combinations(sorted(available), size):
            if any(a in combo and b in combo for a, b in pairs):
                continue
            if no_split and _blocks(combo) > 1:
                continue
            found.append(combo)
            if len(found) > MAX_PATTERNS:
                return found
    return found


def day_capacity(
    available_turns: list[int], max_per_day: int, lunch: list[Slot], *, no_split: bool = False
) -> int:
    """The most turns one person can take in one day under the hard rules."""
    pairs = [tuple(p) for p in lunch]
    for size in range(min(max_per_day, len(available_turns)), 0, -1):
        for combo in itertools.combinations(sorted(available_turns), size):
            chosen = set(combo)
            if any(a in chosen and b in chosen for a, b in pairs):
                continue
            if no_split and _blocks(combo) > 1:
                continue
            return size
    return 0


def weekly_target(
    ideal: int, days_worked: int, days_in_week: int, carry: float, capacity: int
) -> tuple[float, int]:
    """The week's due load (float) and its whole-turn target.

    - Due: the ideal load scaled by the days worked (holidays and days off removed)
      out of the week's working days; it is what a fair week asks of the person.
    - Target: due plus the balance carried from past weeks, rounded, never below 0
      and never above what the person can really take this week (``capacity``).
    """
    due = ideal * days_worked / days_in_week if days_in_week else 0.0
    target = max(0, round(due + carry))
    return due, min(target, capacity)


def weekly_maximum(ideal: int, overload: int, target: int, capacity: int) -> int:
    """The most turns a person may take this week (a hard limit).

    The ideal load plus the allowed overload (Tomatic's ``maxOverload``), never
    below the target (a carried debt may ask more) nor above real capacity.
    """
    return min(max(ideal + overload, target), capacity)


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


class _Model:
    """The CP-SAT model of a problem: variables, hard rules and the cost.

    With ``fill_only`` the cost is just the number of empty lines: the model that
    says how many lines any valid timetable can fill at best.
    """

    def __init__(self, problem: Problem, cp_model, *, fill_only: bool = False) -> None:
        self.problem = problem
        self.fill_only = fill_only
        self.model = cp_model.CpModel()
        self.x: dict[tuple[int, Slot], object] = {}
        self.empty: dict[Slot, list] = {}
        self.picks: dict[tuple[int, int], list[tuple[object, tuple[int, ...]]]] = {}
        self.terms: list = []
        self.loads: dict[int, tuple[object, object]] = {}  # person -> (over, under)
        self.crowds: dict[tuple[str, Slot], tuple[object, list[int]]] = {}
        self.starts: dict[tuple[int, int, int], object] = {}
        self.splits: dict[tuple[int, int], object] = {}
        self._variables()
        self.use_patterns = self._pattern_count() <= PATTERN_BUDGET
        self._turns()
        for p in range(len(problem.people)):
            self._person(p)
        self._desks()
        self.model.minimize(sum(self.terms) if self.terms else 0)

    def _variables(self) -> None:
        problem = self.problem
        for p, person in enumerate(problem.people):
            if person.maximum <= 0 or person.max_per_day <= 0:
                continue
            for d, t in problem.slots():
                if problem.lines[d][t] > 0 and person.available((d, t)):
                    self.x[p, (d, t)] = self.model.new_bool_var(f"x_{p}_{d}_{t}")

    def _pattern_count(self) -> int:
        problem, total = self.problem, 0
        for p, person in enumerate(problem.people):
            for d in range(len(problem.days)):
                available = [t for t in range(len(problem.turns)) if (p, (d, t)) in self.x]
                if available:
                    total += len(
                        day_patterns(
                            available,
                            person.max_per_day,
                            problem.lunch_pairs,
                            no_split=problem.no_split,
                        )
                    )
        return total

    def _turns(self) -> None:
        problem, model, weights = self.problem, self.model, self.problem.weights
        for slot in problem.slots():
            lines = problem.lines[slot[0]][slot[1]]
            staffed = [self.x[p, slot] for p in range(len(problem.people)) if (p, slot) in self.x]
            if not lines:
                continue
            # Unfilled lines: k empty lines cost 1 + 3 + ... + (2k-1) = k².
            cap = lines if problem.max_empty is None else min(lines, problem.max_empty)
            steps = [model.new_bool_var(f"e_{slot[0]}_{slot[1]}_{k}") for k in range(cap)]
            model.add(sum(steps) + sum(staffed) == lines)
            model.add(sum(staffed) <= lines)
            for k in range(1, cap):
                model.add_implication(steps[k], steps[k - 1])  # symmetry: fill steps in order
            self.empty[slot] = steps
            if self.fill_only:
                self.terms += steps
            else:
                self.terms += [weights.unfilled * (2 * k + 1) * s for k, s in enumerate(steps)]

    def _person(self, p: int) -> None:
        problem, model, weights = self.problem, self.model, self.problem.weights
        person = problem.people[p]
        mine = {slot: var for (q, slot), var in self.x.items() if q == p}
        if not mine:
            if not self.fill_only:
                self.terms.append(weights.load * person.target)  # an unmet target still counts
            return
        n_turns = len(problem.turns)
        for d in range(len(problem.days)):
            available = [t for t in range(n_turns) if (d, t) in mine]
            if not available:
                continue
            patterns = day_patterns(
                available, person.max_per_day, problem.lunch_pairs, no_split=problem.no_split
            )
            if self.use_patterns and len(patterns) <= MAX_PATTERNS:
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
                self.picks[p, d] = list(zip(picks, patterns, strict=True))
                if weights.split and not self.fill_only:
                    self.terms += [
                        weights.split * (_blocks(s) - 1) * z
                        for z, s in zip(picks, patterns, strict=True)
                        if _blocks(s) > 1
                    ]
                continue
            self._day_by_rules(p, d, mine, available)
        total = sum(mine.values())
        model.add(total <= person.maximum)
        if self.fill_only:
            return
        if person.maximum > person.target:
            # Below the target costs ``load`` a turn, above it ``overload`` a turn.
            over = model.new_int_var(0, person.maximum - person.target, f"over_{p}")
            under = model.new_int_var(0, max(person.target, 0), f"under_{p}")
            model.add(total - person.target == over - under)
            self.loads[p] = (over, under)
            self.terms += [weights.load * under, weights.overload * over]
        else:
            self.terms.append(weights.load * (person.target - total))
        soft = [mine[slot] for slot in person.soft if slot in mine]
        if soft and weights.soft_busy:
            self.terms.append(weights.soft_busy * sum(soft))

    def _day_by_rules(self, p: int, d: int, mine: dict, available: list[int]) -> None:
        """A person-day with too many patterns: the rules as plain constraints."""
        problem, model, weights = self.problem, self.model, self.problem.weights
        person = problem.people[p]
        todays = [mine[(d, t)] for t in available]
        if len(todays) > person.max_per_day:
            model.add(sum(todays) <= person.max_per_day)
        for a, b in problem.lunch_pairs:
            if (d, a) in mine and (d, b) in mine:
                model.add(mine[(d, a)] + mine[(d, b)] <= 1)
        if person.max_per_day < 2 or len(todays) < 2:
            return
        starts = []
        for t in available:
            start = model.new_bool_var(f"s_{p}_{d}_{t}")
            if (d, t - 1) in mine:
                model.add(start >= mine[(d, t)] - mine[(d, t - 1)])
            else:
                model.add(start >= mine[(d, t)])
            starts.append(start)
            self.starts[p, d, t] = start
        if problem.no_split:
            model.add(sum(starts) <= 1)
        elif weights.split and not self.fill_only:
            split = model.new_int_var(0, len(problem.turns), f"split_{p}_{d}")
            model.add(split >= sum(starts) - 1)
            self.splits[p, d] = split
            self.terms.append(weights.split * split)

    def _desks(self) -> None:
        problem, model, weights = self.problem, self.model, self.problem.weights
        desks: dict[str, list[int]] = {}
        for p, person in enumerate(problem.people):
            if person.desk:
                desks.setdefault(person.desk, []).append(p)
        cap = problem.max_per_desk
        for desk, members in desks.items():
            for slot in problem.slots():
                on = [self.x[p, slot] for p in members if (p, slot) in self.x]
                if cap is not None and len(on) > cap:
                    model.add(sum(on) <= cap)
                if weights.desk and len(on) >= 2 and (cap is None or cap >= 2):
                    if self.fill_only:
                        continue
                    crowd = model.new_int_var(0, len(on), f"desk_{desk}_{slot[0]}_{slot[1]}")
                    model.add(crowd >= sum(on) - 1)
                    self.crowds[desk, slot] = (crowd, members)
                    self.terms.append(weights.desk * crowd)

    def hint(self, grid: Grid) -> None:
        """Start the search from ``grid`` (a valid timetable, however incomplete)."""
        index = {person.key: p for p, person in enumerate(self.problem.people)}
        taken = {
            (index[k], (d, t)) for d, row in enumerate(grid) for t, c in enumerate(row) for k in c
        }
        for key, var in self.x.items():
            self.model.add_hint(var, key in taken)
        for (p, d), picks in self.picks.items():
            today = tuple(t for t in range(len(self.problem.turns)) if (p, (d, t)) in taken)
            for z, pattern in picks:
                self.model.add_hint(z, pattern == today)
        for (d, t), steps in self.empty.items():
            missing = self.problem.lines[d][t] - len(grid[d][t])
            for k, step in enumerate(steps):
                self.model.add_hint(step, k < missing)
        # A complete hint (every helper variable too) is what CP-SAT takes as its
        # first solution; a partial one it often drops at this size.
        week = {p: 0 for p in range(len(self.problem.people))}
        for p, _slot in taken:
            week[p] += 1
        for p, (over, under) in self.loads.items():
            target = self.problem.people[p].target
            self.model.add_hint(over, max(0, week[p] - target))
            self.model.add_hint(under, max(0, target - week[p]))
        for (_desk, slot), (crowd, members) in self.crowds.items():
            on = sum(1 for p in members if (p, slot) in taken)
            self.model.add_hint(crowd, max(0, on - 1))
        for (p, d, t), start in self.starts.items():
            self.model.add_hint(start, (p, (d, t)) in taken and (p, (d, t - 1)) not in taken)
        for (p, d), split in self.splits.items():
            on = [t for t in range(len(self.problem.turns)) if (p, (d, t)) in taken]
            self.model.add_hint(split, max(0, _blocks(tuple(on)) - 1))

    def grid(self, solver) -> Grid:
        problem = self.problem
        grid: Grid = [[[] for _ in problem.turns] for _ in problem.days]
        for (p, (d, t)), var in self.x.items():
            if solver.value(var):
                grid[d][t].append(problem.people[p].key)
        return grid


def _solver(cp_model, time_limit: float, workers: int, seed: int):
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = max(0.05, float(time_limit))
    solver.parameters.num_workers = max(1, workers)
    solver.parameters.random_seed = seed
    # Presolve rewrites the pattern links into Boolean constraints the LP does not
    # see, which leaves the bound stuck at the unfilled cost (a 20-person week never
    # proves in a minute); without it the same week proves optimal in under a second.
    solver.parameters.cp_model_presolve = False
    return solver


def greedy(problem: Problem) -> Grid:
    """A quick valid timetable to start the search from.

    Turns with the fewest candidates for their lines go first; each line goes to
    the person it costs least (below target before above it, extending their day
    before splitting it, no "prefers not", no desk mate), then to whoever is
    furthest below their target. It keeps every hard rule but ``max_empty``.
    """
    weights = problem.weights
    n_turns = len(problem.turns)
    grid: Grid = [[[] for _ in problem.turns] for _ in problem.days]
    week = {person.key: 0 for person in problem.people}
    taken: dict[tuple[str, int], set[int]] = {}
    desk_count: dict[tuple[Slot, str], int] = {}
    partners = {t: {b for a, b in problem.lunch_pairs if a == t} for t in range(n_turns)}
    for a, b in problem.lunch_pairs:
        partners.setdefault(b, set()).add(a)

    def fits(person: PersonSpec, slot: Slot) -> bool:
        d, t = slot
        today = taken.get((person.key, d), set())
        if not person.available(slot) or t in today or week[person.key] >= person.maximum:
            return False
        if len(today) >= person.max_per_day or today & partners[t]:
            return False
        if problem.no_split and today and _blocks(tuple(sorted(today | {t}))) > 1:
            return False
        cap = problem.max_per_desk
        return not (
            person.desk and cap is not None and desk_count.get((slot, person.desk), 0) >= cap
        )

    def cost(person: PersonSpec, slot: Slot) -> tuple:
        d, t = slot
        today = taken.get((person.key, d), set())
        extra = -weights.load if week[person.key] < person.target else weights.overload
        if today:
            extra += weights.split * (
                _blocks(tuple(sorted(today | {t}))) - _blocks(tuple(sorted(today)))
            )
        if slot in person.soft:
            extra += weights.soft_busy
        if person.desk and desk_count.get((slot, person.desk)):
            extra += weights.desk
        return (extra, week[person.key] - person.target, person.key)

    def scarcity(slot: Slot) -> int:
        return sum(1 for p in problem.people if fits(p, slot)) - problem.lines[slot[0]][slot[1]]

    for slot in sorted(problem.slots(), key=scarcity):
        d, t = slot
        free = [person for person in problem.people if fits(person, slot)]
        for _ in range(problem.lines[d][t]):
            free = [person for person in free if fits(person, slot)]
            if not free:
                break
            best = min(free, key=lambda person: cost(person, slot))
            grid[d][t].append(best.key)
            week[best.key] += 1
            taken.setdefault((best.key, d), set()).add(t)
            if best.desk:
                desk_count[slot, best.desk] = desk_count.get((slot, best.desk), 0) + 1
    return grid


def _blocked(
    problem: Problem,
    grid: Grid,
    person: PersonSpec,
    slot: Slot,
    week: int,
    desk_count: dict | None = None,
) -> str | None:
    """The first hard rule that keeps ``person`` off ``slot`` in ``grid``, or None."""
    d, t = slot
    if person.key in grid[d][t]:
        return "staffed"
    if d in person.holidays:
        return "holiday"
    if slot in person.busy:
        return "busy"
    today = [u for u in range(len(problem.turns)) if person.key in grid[d][u]]
    if len(today) >= person.max_per_day:
        return "max_per_day"
    partners = [b for a, b in problem.lunch_pairs if a == t] + [
        a for a, b in problem.lunch_pairs if b == t
    ]
    if any(u in today for u in partners):
        return "lunch"
    if problem.no_split and today and _blocks(tuple(sorted([*today, t]))) > 1:
        return "no_split"
    if person.desk and problem.max_per_desk is not None:
        if desk_count is not None:
            crowd = desk_count.get((slot, person.desk), 0)
        else:
            desks = {p.key: p.desk for p in problem.people}
            crowd = sum(1 for k in grid[d][t] if desks.get(k) == person.desk)
        if crowd >= problem.max_per_desk:
            return "desk_cap"
    if week >= person.maximum:
        return "maximum"
    return None


def repair_days(
    problem: Problem, grid: Grid, *, time_limit: float, workers: int = 2, seed: int = 0
) -> Grid:
    """``grid`` improved one day at a time: each person keeps their number of turns
    that day (so weekly loads stay), and the day is re-solved exactly for splits,
    "prefers not" entries, desks and empty lines. A day is replaced only if the
    week's cost goes down; the result keeps every hard rule ``grid`` keeps.
    """
    from ortools.sat.python import cp_model

    best = [[list(cell) for cell in row] for row in grid]
    cost = evaluate(problem, best)["total"]
    deadline = time.monotonic() + time_limit
    n_turns = len(problem.turns)
    for d in range(len(problem.days)):
        left = deadline - time.monotonic()
        if left <= 0.05:
            break
        people = []
        for person in problem.people:
            count = sum(person.key in best[d][t] for t in range(n_turns))
            if count:
                people.append(
                    PersonSpec(
                        key=person.key,
                        name=person.name,
                        target=count,
                        limit=count,
                        max_per_day=min(person.max_per_day, count),
                        desk=person.desk,
                        busy={(0, t): why for (e, t), why in person.busy.items() if e == d},
                        soft={(0, t): why for (e, t), why in person.soft.items() if e == d},
                    )
                )
        day = Problem(
            [problem.days[d]],
            problem.turns,
            [problem.lines[d]],
            people,
            lunch_pairs=problem.lunch_pairs,
            weights=problem.weights,
            max_per_desk=problem.max_per_desk,
            no_split=problem.no_split,
            max_empty=problem.max_empty,
        )
        built = _Model(day, cp_model)
        built.hint([best[d]])
        solver = _solver(cp_model, left / (len(problem.days) - d), workers, seed)
        if solver.solve(built.model) not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            continue
        trial = [row if e != d else built.grid(solver)[0] for e, row in enumerate(best)]
        trial_cost = evaluate(problem, trial)["total"]
        if trial_cost < cost:
            best, cost = trial, trial_cost
    return best


def fewest_empty(
    problem: Problem, *, time_limit: float = 5.0, workers: int = 2, seed: int = 0
) -> tuple[int | None, bool, Grid | None]:
    """The fewest empty lines any timetable keeping the hard rules can have.

    Returns (count or None when no valid timetable was found, proven?, that timetable).
    """
    from ortools.sat.python import cp_model

    built = _Model(problem, cp_model, fill_only=True)
    solver = _solver(cp_model, time_limit, workers, seed)
    # The fill count is a flow-like problem whose LP bound is tight: presolve helps here.
    solver.parameters.cp_model_presolve = True
    status = solver.solve(built.model)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None, status == cp_model.INFEASIBLE, None
    return round(solver.objective_value), status == cp_model.OPTIMAL, built.grid(solver)


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

    - A greedy timetable is made first: the answer if the search finds nothing
      better in time.
    - A week small enough for the exact day-pattern model is proven optimal by one
      LP-guided worker (measured on a loaded 2-core machine: the 40-person week in
      5 s on one worker against 13 s on two, where the second worker only competes).
    - A bigger week starts from the greedy week repaired day by day (each day
      re-solved with everyone's turns that day kept), given to the search as a
      hint, with ``workers`` workers improving it by large-neighbourhood search.
    - ``progress(objective, bound, seconds)`` is called at each better timetable.
    - ``relative_gap`` lets the search stop once within that fraction of the bound.
    - When lines stay empty, a second short search finds the fewest empty lines any
      valid week could have, so the report can tell what only a reshuffle could fill.
    """
    # Imported here, not at the top: ortools (and pandas with it) adds about 1.5 s
    # to the start of every process that loads the app, and only solving needs it.
    from ortools.sat.python import cp_model

    started = time.monotonic()
    # Made first so that progress times count from the start, greedy week included.
    callback = _progress_callback(cp_model, progress)
    built = _Model(problem, cp_model)
    start = greedy(problem)
    start_valid = not violations(problem, start)  # only the empty-line cap can fail

    def report(grid: Grid) -> None:
        """Tell ``progress`` about a week found before the search (no bound yet)."""
        if progress is not None:
            progress(evaluate(problem, grid)["total"], 0.0, time.monotonic() - started)

    if not built.use_patterns:
        if start_valid:
            report(start)
            # Most of the budget goes here: each day is a small exact model that
            # one worker solves to optimality in about 2 s (80 people, 8 turns),
            # while the whole week's search rarely improves a good start in time.
            start = repair_days(
                problem,
                start,
                time_limit=REPAIR_SHARE * time_limit,
                workers=PROVING_WORKERS,
                seed=seed,
            )
            report(start)
            built.hint(start)
    else:
        workers = min(workers, PROVING_WORKERS)
    budget = max(0.1, time_limit - (time.monotonic() - started))
    solver = _solver(cp_model, budget, workers, seed)
    if relative_gap:
        solver.parameters.relative_gap_limit = relative_gap
    status = solver.solve(built.model, callback)

    grid: Grid = [[[] for _ in problem.turns] for _ in problem.days]
    if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        grid = built.grid(solver)
        objective = round(solver.objective_value)
        bound = float(solver.best_objective_bound)
        if status == cp_model.FEASIBLE and start_valid:
            greedy_cost = evaluate(problem, start)["total"]
            if greedy_cost < objective:  # the search ran out of time behind the greedy week
                grid, objective = start, greedy_cost
    elif status != cp_model.INFEASIBLE and start_valid:  # no timetable in time: the greedy one
        grid, objective, bound = start, evaluate(problem, start)["total"], 0.0
        status = cp_model.FEASIBLE
    else:  # none at all: an empty week
        objective, bound = evaluate(problem, grid)["total"], 0.0
    if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        # A search stopped by its budget may leave a line someone could still take.
        grid, objective = fill_what_can_be_filled(problem, grid, objective)
    gap = 0.0 if objective == 0 else max(0.0, (objective - bound) / abs(objective))
    optimal = status == cp_model.OPTIMAL and gap <= max(relative_gap, 1e-9)
    name = {
        cp_model.OPTIMAL: "optimal",
        cp_model.FEASIBLE: "feasible",
        cp_model.INFEASIBLE: "infeasible",
    }.get(status, "unknown")
    # With a gap limit CP-SAT reports OPTIMAL once within the gap; say so honestly.
    if status == cp_model.OPTIMAL and gap > 1e-9:
        name = "within_gap"
    seconds = time.monotonic() - started
    scores = evaluate(problem, grid)
    unfilled = explain_unfilled(problem, grid)
    fewest, proven = None, False
    if any(item["empty"] for item in unfilled) and name != "infeasible":
        fewest, proven, _grid = fewest_empty(
            problem, time_limit=min(10.0, max(1.0, time_limit / 4)), workers=workers, seed=seed
        )
    return Solution(
        grid=grid,
        status=name,
        optimal=optimal,
        objective=objective,
        bound=bound,
        gap=round(gap, 6),
        seconds=round(seconds, 3),
        parts=scores["people"],
        unfilled=unfilled,
        solutions_seen=callback.count,
        summary=summarize(problem, grid, unfilled, fewest, proven, infeasible=name == "infeasible"),
        fewest_empty=fewest,
        fewest_proven=proven,
    )


def evaluate(problem: Problem, grid: Grid) -> dict:
    """The cost of ``grid``: total, the unfilled part, and each person's parts."""
    weights = problem.weights
    index = {person.key: person for person in problem.people}
    people: dict[str, dict[str, int]] = {
        key: {
            "load": 0,
            "overload": 0,
            "split": 0,
            "soft_busy": 0,
            "desk": 0,
            "assigned": 0,
            "target": 0,
            "maximum": 0,
        }
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
        people[key]["maximum"] = person.maximum
        people[key]["load"] = weights.load * max(0, person.target - assigned)
        people[key]["overload"] = weights.overload * max(0, assigned - person.target)
        for d in range(len(problem.days)):
            taken = [key in grid[d][t] for t in range(len(problem.turns))]
            blocks = sum(1 for t, on in enumerate(taken) if on and (t == 0 or not taken[t - 1]))
            people[key]["split"] += weights.split * max(0, blocks - 1)
    total = unfilled + sum(
        part["load"] + part["overload"] + part["split"] + part["soft_busy"] + part["desk"]
        for part in people.values()
    )
    return {"total": total, "unfilled": unfilled, "people": people}


REASONS = ("holiday", "busy", "max_per_day", "lunch", "no_split", "desk_cap", "maximum", "free")


def explain_unfilled(problem: Problem, grid: Grid) -> list[dict]:
    """For each turn with empty lines, why nobody else could take them.

    Each person not on the turn is counted once, under the first hard rule that
    keeps them off (:data:`REASONS` order): on holiday, busy, at their maximum turns
    that day, the lunch rule, no split days, their desk's cap, their weekly maximum;
    or "free": they could take it (only when the search stopped before optimal).
    """
    result = []
    week = {
        person.key: sum(person.key in grid[d][t] for d, t in problem.slots())
        for person in problem.people
    }
    for d, t in problem.slots():
        lines = problem.lines[d][t]
        empty = lines - len(grid[d][t])
        if empty <= 0:
            continue
        reasons = dict.fromkeys(REASONS, 0)
        for person in problem.people:
            why = _blocked(problem, grid, person, (d, t), week[person.key])
            if why == "staffed":
                continue
            reasons[why or "free"] += 1
        result.append(
            {
                "day": d,
                "turn": t,
                "label": problem.label((d, t)),
                "day_label": problem.days[d],
                "turn_label": problem.turns[t],
                "lines": lines,
                "empty": empty,
                "reasons": reasons,
            }
        )
    return result


def summarize(
    problem: Problem,
    grid: Grid,
    unfilled: list[dict],
    fewest: int | None,
    proven: bool,
    *,
    infeasible: bool = False,
) -> list[dict]:
    """The week's picture as codes with numbers (rendered by :mod:`.explain`).

    - ``targets_vs_lines``: the targets and maxima summed against the lines;
    - ``over_target``: people above their target to fill lines (the overload paid);
    - ``at_maximum``: people free in some empty turn but already at their maximum;
    - ``reshuffle``: empty lines no one can take as the week stands but a
      different week would fill; ``unfillable``: lines no valid week fills;
    - ``infeasible``: the hard rules contradict each other (e.g. ``max_empty``).
    """
    if infeasible:
        return [{"code": "infeasible", "max_empty": problem.max_empty}]
    lines = problem.total_lines()
    week = {p.key: sum(p.key in grid[d][t] for d, t in problem.slots()) for p in problem.people}
    picture: list[dict] = [
        {
            "code": "targets_vs_lines",
            "targets": sum(p.target for p in problem.people),
            "maxima": sum(p.maximum for p in problem.people),
            "lines": lines,
            "filled": sum(week.values()),
        }
    ]
    over = [(p, week[p.key] - p.target) for p in problem.people if week[p.key] > p.target]
    if over:
        picture.append(
            {
                "code": "over_target",
                "people": len(over),
                "turns": sum(n for _, n in over),
                "cost": problem.weights.overload * sum(n for _, n in over),
            }
        )
    empty = sum(item["empty"] for item in unfilled)
    if not empty:
        return picture
    at_max = set()
    for item in unfilled:
        slot = (item["day"], item["turn"])
        for person in problem.people:
            if _blocked(problem, grid, person, slot, week[person.key]) == "maximum":
                at_max.add(person.key)
    if at_max:
        picture.append({"code": "at_maximum", "people": len(at_max)})
    if fewest is not None and fewest < empty:
        picture.append({"code": "reshuffle", "lines": empty - fewest, "proven": proven})
    if fewest is not None and fewest > 0 and proven:
        picture.append({"code": "unfillable", "lines": fewest})
    return picture


def fill_what_can_be_filled(problem: Problem, grid: Grid, cost: int) -> tuple[Grid, int]:
    """``grid`` with each empty line someone can take without breaking a hard rule
    given to them, one at a time, while that lowers the week's cost."""
    grid = [[list(cell) for cell in row] for row in grid]
    tried: set[tuple[Slot, str]] = set()
    while True:
        options = [option for option in fillable_now(problem, grid) if option not in tried]
        if not options:
            return grid, cost
        (d, t), key = options[0]
        tried.add(((d, t), key))
        grid[d][t].append(key)
        new_cost = evaluate(problem, grid)["total"]
        if new_cost < cost:
            cost = new_cost
        else:
            grid[d][t].remove(key)


def fillable_now(problem: Problem, grid: Grid) -> list[tuple[Slot, str]]:
    """Empty lines someone could take as the week stands, with who (for tests)."""
    week = {p.key: sum(p.key in grid[d][t] for d, t in problem.slots()) for p in problem.people}
    found = []
    for d, t in problem.slots():
        if len(grid[d][t]) >= problem.lines[d][t]:
            continue
        for person in problem.people:
            if _blocked(problem, grid, person, (d, t), week[person.key]) is None:
                found.append(((d, t), person.key))
    return found


def violations(problem: Problem, grid: Grid) -> list[dict]:
    """Every hard rule ``grid`` breaks (empty when it breaks none).

    Each break is a code with its numbers and names (rendered in the reader's
    language by :func:`sofno.oncall.explain.describe_break`).
    """
    found: list[dict] = []
    index = {person.key: person for person in problem.people}
    for d, t in problem.slots():
        staffed = grid[d][t]
        when = {"day_label": problem.days[d], "turn_label": problem.turns[t]}
        lines = problem.lines[d][t]
        if len(staffed) > lines:
            found.append({"code": "over_lines", **when, "staffed": len(staffed), "lines": lines})
        empty = lines - len(staffed)
        if problem.max_empty is not None and empty > problem.max_empty:
            found.append({"code": "too_empty", **when, "empty": empty, "cap": problem.max_empty})
        for key in sorted(set(staffed)):
            if staffed.count(key) > 1 and key in index:
                found.append({"code": "two_lines", **when, "name": index[key].name})
        desks: dict[str, int] = {}
        for key in staffed:
            person = index.get(key)
            if person is None:
                found.append({"code": "not_on_team", **when, "name": key})
                continue
            if person.desk:
                desks[person.desk] = desks.get(person.desk, 0) + 1
            if d in person.holidays:
                found.append({"code": "on_holiday", **when, "name": person.name})
            elif (d, t) in person.busy:
                found.append(
                    {"code": "busy", **when, "name": person.name, "reason": person.busy[(d, t)]}
                )
        if problem.max_per_desk is not None:
            for desk, count in desks.items():
                if count > problem.max_per_desk:
                    found.append(
                        {
                            "code": "desk_cap",
                            **when,
                            "desk": desk,
                            "count": count,
                            "cap": problem.max_per_desk,
                        }
                    )
    for key, person in index.items():
        week = 0
        for d in range(len(problem.days)):
            today = [t for t in range(len(problem.turns)) if key in grid[d][t]]
            week += len(today)
            day = {"day_label": problem.days[d], "name": person.name}
            if len(today) > person.max_per_day:
                found.append(
                    {"code": "max_per_day", **day, "count": len(today), "cap": person.max_per_day}
                )
            for a, b in problem.lunch_pairs:
                if a in today and b in today:
                    found.append(
                        {
                            "code": "lunch",
                            **day,
                            "first": problem.turns[a],
                            "second": problem.turns[b],
                        }
                    )
            if problem.no_split and _blocks(tuple(today)) > 1:
                found.append({"code": "split_day", **day})
        if week > person.maximum:
            found.append(
                {"code": "over_maximum", "name": person.name, "count": week, "cap": person.maximum}
            )
    return found

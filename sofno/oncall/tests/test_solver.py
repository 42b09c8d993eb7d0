from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sofno.oncall.solver import (
    PersonSpec,
    Problem,
    Weights,
    evaluate,
    explain_unfilled,
    solve,
    violations,
    weekly_target,
)

TURNS = ["09:00-10:15", "10:15-11:30", "11:30-12:45", "12:45-14:00"]


def person(key, target=5, max_per_day=2, **extra):
    return PersonSpec(key=key, name=key.title(), target=target, max_per_day=max_per_day, **extra)


def test_it_finds_the_known_optimum_of_a_tiny_week():
    problem = Problem(["Mon"], TURNS[:2], [[1, 1]], [person("ann", 1), person("bob", 1)])
    solution = solve(problem, time_limit=5)
    assert solution.optimal and solution.objective == 0
    assert sorted(solution.grid[0][0] + solution.grid[0][1]) == ["ann", "bob"]


def test_it_spreads_empty_lines_because_they_cost_their_square():
    # Two people who may take one turn each, two turns of two lines: one each
    # (1 + 1 = 2 units) beats both in one turn (0 + 4 units).
    people = [person("ann", 1, 1), person("bob", 1, 1)]
    problem = Problem(["Mon"], TURNS[:2], [[2, 2]], people)
    solution = solve(problem, time_limit=5)
    assert solution.optimal
    assert [len(solution.grid[0][0]), len(solution.grid[0][1])] == [1, 1]
    assert solution.objective == 2 * Weights().unfilled


def test_it_keeps_one_desk_apart_when_it_can():
    people = [person("ann", 1, desk="a"), person("amy", 1, desk="a"), person("cal", 1, desk="c")]
    problem = Problem(["Mon"], TURNS[:1], [[2]], people)
    solution = solve(problem, time_limit=5)
    assert solution.optimal
    assert "cal" in solution.grid[0][0]
    # One of the two desk mates stays off: one turn below their load.
    assert solution.objective == Weights().load


def test_it_keeps_the_lunch_rule_and_turns_together():
    problem = Problem(["Mon"], TURNS, [[1, 1, 1, 1]], [person("ann", 2)], lunch_pairs=[(2, 3)])
    solution = solve(problem, time_limit=5)
    taken = [t for t in range(4) if "ann" in solution.grid[0][t]]
    assert solution.optimal
    assert taken in ([0, 1], [1, 2])  # together, and never 11:30 with 12:45
    assert solution.objective == 2 * Weights().unfilled


def test_it_pays_a_soft_busy_entry_only_when_it_must():
    ann = person("ann", 1, soft={(0, 0): "prefers not"})
    problem = Problem(["Mon"], TURNS[:2], [[1, 0]], [ann])
    solution = solve(problem, time_limit=5)
    # Leaving the line empty costs 1000; taking it against her wish costs 30.
    assert solution.grid[0][0] == ["ann"]
    assert solution.parts["ann"]["soft_busy"] == Weights().soft_busy


def test_it_explains_an_under_staffed_week():
    people = [person(f"h{i}", holidays={0}) for i in range(5)]
    people += [person(f"b{i}", busy={(0, 3): "dentist"}) for i in range(3)]
    people += [person(f"m{i}", max_per_day=1) for i in range(2)]
    problem = Problem(["Tue"], TURNS, [[0, 0, 2, 7]], people)
    grid = [[[], [], ["m0", "m1"], []]]
    (gap,) = [g for g in explain_unfilled(problem, grid) if g["turn"] == 3]
    assert gap["text"] == (
        "Tue 12:45-14:00: 7 of 7 lines empty: 5 people on holiday, 3 busy, "
        "2 people at max turns that day"
    )


def test_it_reports_which_turns_stay_empty_and_why():
    people = [person(f"h{i}", holidays={1}) for i in range(4)]
    people += [person("bea", busy={(1, 0): "training"}), person("sam", 5)]
    problem = Problem(["Mon", "Tue"], TURNS[:1], [[2], [3]], people)
    solution = solve(problem, time_limit=5)
    assert solution.optimal
    assert solution.grid[1][0] == ["sam"]
    (gap,) = [g for g in solution.unfilled if g["day"] == 1]
    assert gap["empty"] == 2
    assert gap["reasons"]["holiday"] == 4 and gap["reasons"]["busy"] == 1
    assert gap["text"].startswith(
        "Tue 09:00-10:15: 2 of 3 lines empty: 4 people on holiday, 1 busy"
    )


def test_it_scales_the_weekly_load_by_days_worked_and_caps_it():
    assert weekly_target(8, 5, 5, 0.0, 20) == (8.0, 8)
    assert weekly_target(8, 4, 5, 0.0, 20) == (6.4, 6)
    assert weekly_target(8, 4, 5, 1.0, 20) == (6.4, 7)  # a deficit carried over
    assert weekly_target(8, 4, 5, -3.0, 20) == (6.4, 3)  # an excess carried over
    assert weekly_target(8, 5, 5, 0.0, 3) == (8.0, 3)  # capped by real capacity


@st.composite
def problems(draw):
    n_days = draw(st.integers(1, 3))
    n_turns = draw(st.integers(1, 4))
    slots = [(d, t) for d in range(n_days) for t in range(n_turns)]
    people = []
    for i in range(draw(st.integers(1, 5))):
        people.append(
            PersonSpec(
                key=f"p{i}",
                name=f"P{i}",
                target=draw(st.integers(0, 6)),
                max_per_day=draw(st.integers(0, 3)),
                desk=draw(st.sampled_from(["", "a", "b"])),
                holidays=set(draw(st.lists(st.integers(0, n_days - 1), max_size=2))),
                busy={s: "busy" for s in draw(st.lists(st.sampled_from(slots), max_size=4))},
                soft={s: "soft" for s in draw(st.lists(st.sampled_from(slots), max_size=3))},
            )
        )
    lines = [[draw(st.integers(0, 3)) for _ in range(n_turns)] for _ in range(n_days)]
    lunch = [(n_turns - 2, n_turns - 1)] if n_turns >= 2 and draw(st.booleans()) else []
    return Problem(
        [f"D{d}" for d in range(n_days)], TURNS[:n_turns], lines, people, lunch_pairs=lunch
    )


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems())
def test_it_never_breaks_a_hard_rule(problem):
    solution = solve(problem, time_limit=5, workers=1)
    assert violations(problem, solution.grid) == []
    # The objective the solver reports is the cost we can recompute from the grid.
    assert evaluate(problem, solution.grid)["total"] == solution.objective
    assert solution.optimal


def test_it_sees_every_broken_rule_in_a_hand_made_grid():
    ann = person("ann", 1, 1, holidays={1}, busy={(0, 1): "dentist"})
    problem = Problem(["Mon", "Tue"], TURNS, [[1, 1, 1, 1], [1, 1, 1, 1]], [ann], [(2, 3)])
    grid = [[["ann"], ["ann"], ["ann"], ["ann", "ann"]], [["ann"], [], [], []]]
    found = violations(problem, grid)
    assert any("busy (dentist)" in v for v in found)
    assert any("on holiday" in v for v in found)
    assert any("lunch rule" in v for v in found)
    assert any("more than 1 a day" in v for v in found)
    assert any("over the weekly load" in v for v in found)
    assert any("2 people on 1 lines" in v for v in found)

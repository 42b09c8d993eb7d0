from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sofno.oncall.explain import describe_break, describe_gap, describe_summary
from sofno.oncall.solver import (
    PATTERN_BUDGET,
    PersonSpec,
    Problem,
    Weights,
    evaluate,
    explain_unfilled,
    fewest_empty,
    fill_what_can_be_filled,
    fillable_now,
    greedy,
    repair_days,
    solve,
    summarize,
    violations,
    weekly_maximum,
    weekly_target,
)

TURNS = ["09:00-10:15", "10:15-11:30", "11:30-12:45", "12:45-14:00"]


def person(key, target=5, max_per_day=2, **extra):
    return PersonSpec(key=key, name=key.title(), target=target, max_per_day=max_per_day, **extra)


def summary_of(solution, code):
    return next((item for item in solution.summary if item["code"] == code), None)


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
    assert "text" not in gap  # stored as codes and numbers, rendered for each reader
    assert describe_gap(gap) == (
        "Tue 12:45-14:00: 7 of 7 lines empty: 5 people on holiday, 3 busy, "
        "2 people at their maximum turns that day"
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
    assert describe_gap(gap).startswith(
        "Tue 09:00-10:15: 2 of 3 lines empty: 4 people on holiday, 1 busy"
    )


def test_it_scales_the_weekly_load_by_days_worked_and_caps_it():
    assert weekly_target(8, 5, 5, 0.0, 20) == (8.0, 8)
    assert weekly_target(8, 4, 5, 0.0, 20) == (6.4, 6)
    assert weekly_target(8, 4, 5, 1.0, 20) == (6.4, 7)  # a deficit carried over
    assert weekly_target(8, 4, 5, -3.0, 20) == (6.4, 3)  # an excess carried over
    assert weekly_target(8, 5, 5, 0.0, 3) == (8.0, 3)  # capped by real capacity


def test_it_fills_a_line_only_overload_can_fill():
    # Ann's fair share is 2 turns, her maximum 3; three turns of one line each
    # (one a day, max one a day) and nobody else: only going over her target fills
    # the third line, and that is what the week gets, with its cost reported.
    ann = person("ann", target=2, max_per_day=1, limit=3)
    problem = Problem(["Mon", "Tue", "Wed"], TURNS[:1], [[1], [1], [1]], [ann])
    solution = solve(problem, time_limit=5)
    assert solution.optimal and solution.empty_lines == 0
    assert solution.parts["ann"]["overload"] == Weights().overload
    assert solution.objective == Weights().overload
    assert summary_of(solution, "over_target") == {
        "code": "over_target",
        "people": 1,
        "turns": 1,
        "cost": Weights().overload,
    }
    # With no overload allowed (her maximum is her target) the line stays empty,
    # and the explanation says she is at her weekly maximum.
    capped = solve(
        Problem(
            ["Mon", "Tue", "Wed"],
            TURNS[:1],
            [[1], [1], [1]],
            [person("ann", target=2, max_per_day=1)],
        ),
        time_limit=5,
    )
    assert capped.empty_lines == 1 and capped.unfilled[0]["reasons"]["maximum"] == 1


def test_it_says_the_targets_add_up_to_fewer_than_the_lines():
    # Targets 3 + 3 for 7 lines; maxima 4 + 4: all 7 lines are filled.
    people = [person("ann", 3, 1, limit=4), person("bob", 3, 1, limit=4)]
    problem = Problem(["Mon", "Tue", "Wed", "Thu"], TURNS[:1], [[2], [2], [2], [1]], people)
    solution = solve(problem, time_limit=5)
    assert solution.empty_lines == 0
    picture = summary_of(solution, "targets_vs_lines")
    assert picture == {
        "code": "targets_vs_lines",
        "targets": 6,
        "maxima": 8,
        "lines": 7,
        "filled": 7,
    }
    assert describe_summary(picture).startswith(
        "The week's targets add up to 6 turns for 7 lines; the weekly maxima add up to 8"
    )


def test_it_names_people_at_their_maximum_and_lines_only_a_reshuffle_fills():
    # Ann and Bob may take one turn a week each (Bob is busy Mon); three days of one
    # line: one line stays empty, its free people are at their maximum, and no
    # valid week fills all three, so that line is unfillable.
    ann, bob = person("ann", 1, 1), person("bob", 1, 1, busy={(0, 0): "x"})
    problem = Problem(["Mon", "Tue", "Wed"], TURNS[:1], [[1], [1], [1]], [ann, bob])
    solution = solve(problem, time_limit=5)
    assert solution.empty_lines == 1
    # Whichever day stays empty, everyone not busy then is at their weekly maximum.
    (gap,) = solution.unfilled
    free_then = sum(1 for p in problem.people if (gap["day"], 0) not in p.busy)
    assert gap["reasons"]["maximum"] == free_then
    assert summary_of(solution, "at_maximum") == {"code": "at_maximum", "people": free_then}
    assert summary_of(solution, "unfillable") == {"code": "unfillable", "lines": 1}
    assert summary_of(solution, "reshuffle") is None
    # A hand-made week that blocks itself: Ann on Mon and Wed, Bob busy on Tue.
    # Nobody can take Tue as the week stands; Ann on Tue and Bob on Wed fills it.
    busy_bob = Problem(
        ["Mon", "Tue", "Wed"],
        TURNS[:1],
        [[1], [1], [1]],
        [person("ann", 2, 1), person("bob", 1, 1, busy={(1, 0): "x"})],
    )
    grid = [[["ann"]], [[]], [["ann"]]]
    assert fillable_now(busy_bob, grid) == []
    fewest, proven, better = fewest_empty(busy_bob, time_limit=5)
    assert (fewest, proven) == (0, True) and violations(busy_bob, better) == []
    picture = summarize(busy_bob, grid, explain_unfilled(busy_bob, grid), fewest, proven)
    assert {"code": "reshuffle", "lines": 1, "proven": True} in picture
    assert describe_summary(picture[-1]).startswith(
        "1 empty line could be filled only by a reshuffle"
    )


def test_it_caps_the_people_of_one_desk_in_a_turn():
    people = [person(f"a{i}", 1, desk="a") for i in range(3)] + [person("b0", 1, desk="b")]
    problem = Problem(["Mon"], TURNS[:1], [[3]], people, max_per_desk=1)
    solution = solve(problem, time_limit=5)
    staffed = solution.grid[0][0]
    assert solution.optimal and len(staffed) == 2 and "b0" in staffed
    assert sum(key.startswith("a") for key in staffed) == 1
    assert solution.unfilled[0]["reasons"]["desk_cap"] == 2
    (broken,) = violations(problem, [[["a0", "a1", "b0"]]])
    assert describe_break(broken) == "Mon 09:00-10:15: 2 people of a, more than 1"
    uncapped = solve(Problem(["Mon"], TURNS[:1], [[3]], people), time_limit=5)
    assert uncapped.empty_lines == 0


def test_it_keeps_a_day_together_when_split_days_are_refused():
    # Lines only at 09:00 and 11:30: two turns for Ann would split her day.
    ann = person("ann", 2)
    split = Problem(["Mon"], TURNS[:3], [[1, 0, 1]], [ann])
    assert solve(split, time_limit=5).grid == [[["ann"], [], ["ann"]]]  # paying 20, not 1000
    together = Problem(["Mon"], TURNS[:3], [[1, 0, 1]], [ann], no_split=True)
    solution = solve(together, time_limit=5)
    assert solution.optimal and solution.empty_lines == 1
    assert solution.unfilled[0]["reasons"]["no_split"] == 1
    (broken,) = violations(together, [[["ann"], [], ["ann"]]])
    assert describe_break(broken) == "Mon: Ann has a split day"


def test_it_keeps_at_most_n_empty_lines_in_a_turn():
    # Costs set so that leaving the line empty (1) is cheaper than Ann's overload
    # (60): only the rule makes her take it.
    ann = person("ann", 0, limit=1)
    cheap = Weights(unfilled=1)
    free = Problem(["Mon"], TURNS[:1], [[1]], [ann], weights=cheap)
    assert solve(free, time_limit=5).grid == [[[]]]
    capped = Problem(["Mon"], TURNS[:1], [[1]], [ann], weights=cheap, max_empty=0)
    solution = solve(capped, time_limit=5)
    assert solution.grid == [[["ann"]]] and solution.objective == Weights().overload
    # Two lines and one person: no week keeps the rule; the report says so.
    impossible = Problem(["Mon"], TURNS[:1], [[2]], [ann], max_empty=0)
    solution = solve(impossible, time_limit=5)
    assert solution.status == "infeasible" and not solution.optimal
    assert describe_summary(solution.summary[0]) == (
        "No timetable keeps every hard rule: at most 0 empty lines per turn cannot be met "
        "with the people available."
    )


def test_it_sets_the_weekly_maximum_from_the_ideal_load():
    assert weekly_maximum(7, 0, 6, 10) == 7  # the scaled target is 6, the maximum 7
    assert weekly_maximum(7, 2, 6, 10) == 9  # Tomatic's maxOverload
    assert weekly_maximum(7, 2, 6, 8) == 8  # never above real capacity
    assert weekly_maximum(4, 0, 6, 10) == 6  # a carried debt may ask more than ideal


def test_it_repairs_a_split_day_and_keeps_each_persons_turns():
    people = [person("ann", 2), person("bob", 1)]
    problem = Problem(["Mon"], TURNS[:3], [[1, 1, 1]], people)
    split = [[["ann"], ["bob"], ["ann"]]]
    repaired = repair_days(problem, split, time_limit=5)
    assert violations(problem, repaired) == []
    assert evaluate(problem, repaired)["total"] == 0 < evaluate(problem, split)["total"]
    assert sum("ann" in cell for cell in repaired[0]) == 2


def test_it_fills_a_week_too_big_to_prove_within_its_budget():
    # 60 people x 6 days of 8 turns, up to 3 a day: more day patterns than the exact
    # model takes, so the greedy week repaired day by day is the search's start.
    people = [
        person(f"p{i:02d}", 12, 3, limit=14, desk=f"d{i % 4}", busy={(i % 6, i % 8): "x"})
        for i in range(60)
    ]
    days = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
    turns = [f"{h:02d}:00-{h + 1:02d}:00" for h in range(8, 16)]
    problem = Problem(days, turns, [[15] * 8 for _ in days], people, lunch_pairs=[(3, 4)])
    assert sum(len(p.busy) for p in problem.people) and PATTERN_BUDGET < 60 * 6 * 92
    solution = solve(problem, time_limit=6)
    assert violations(problem, solution.grid) == []
    assert solution.empty_lines == 0 and solution.status in ("feasible", "optimal")
    assert solution.objective <= evaluate(problem, greedy(problem))["total"]


def test_it_gives_an_empty_line_to_whoever_can_take_it_when_that_costs_less():
    ann = person("ann", 1, limit=2)
    problem = Problem(["Mon"], TURNS[:2], [[1, 1]], [ann])
    stopped_early = [[["ann"], []]]  # as a search cut short by its budget might leave it
    cost = evaluate(problem, stopped_early)["total"]
    grid, new_cost = fill_what_can_be_filled(problem, stopped_early, cost)
    assert grid == [[["ann"], ["ann"]]] and new_cost == Weights().overload < cost
    cheap = Problem(["Mon"], TURNS[:2], [[1, 1]], [ann], weights=Weights(unfilled=1))
    cost = evaluate(cheap, stopped_early)["total"]
    assert fill_what_can_be_filled(cheap, stopped_early, cost) == (stopped_early, cost)


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
                target=(target := draw(st.integers(0, 6))),
                limit=target + draw(st.integers(0, 2)),
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
        [f"D{d}" for d in range(n_days)],
        TURNS[:n_turns],
        lines,
        people,
        lunch_pairs=lunch,
        max_per_desk=draw(st.sampled_from([None, 1, 2])),
        no_split=draw(st.booleans()),
        max_empty=draw(st.sampled_from([None, None, 1, 2])),
    )


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems())
def test_it_never_breaks_a_hard_rule(problem):
    solution = solve(problem, time_limit=5, workers=1)
    if solution.status == "infeasible":
        # Only the empty-line cap can make a week impossible; no grid is offered.
        assert problem.max_empty is not None and solution.summary[0]["code"] == "infeasible"
        return
    assert violations(problem, solution.grid) == []
    # No line stays empty while someone could take it without breaking a hard rule.
    assert fillable_now(problem, solution.grid) == []
    # The objective the solver reports is the cost we can recompute from the grid.
    assert evaluate(problem, solution.grid)["total"] == solution.objective
    assert solution.optimal


def test_it_sees_every_broken_rule_in_a_hand_made_grid():
    ann = person("ann", 1, 1, holidays={1}, busy={(0, 1): "dentist"})
    problem = Problem(["Mon", "Tue"], TURNS, [[1, 1, 1, 1], [1, 1, 1, 1]], [ann], [(2, 3)])
    grid = [[["ann"], ["ann"], ["ann"], ["ann", "ann"]], [["ann"], [], [], []]]
    found = [describe_break(v) for v in violations(problem, grid)]
    assert "Mon 10:15-11:30: Ann is busy (dentist)" in found
    assert "Tue 09:00-10:15: Ann is on holiday" in found
    assert "Mon: Ann takes 11:30-12:45 and 12:45-14:00 back to back (lunch rule)" in found
    assert "Mon: Ann has 4 turns, more than 1 a day" in found
    assert "Ann has 5 turns, over the weekly maximum of 1" in found
    assert "Mon 12:45-14:00: 2 people on 1 lines" in found
    assert "Mon 12:45-14:00: Ann holds two lines" in found
    assert describe_break("an old warning") == "an old warning"

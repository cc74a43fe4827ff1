"""`make bench` prints each DESIGN.md target as met or missed (issue 24.5): its verdicts, from a
made-up report, so no benchmark has to run."""
from bench.run import LISTS, MISS_ENDPOINTS, NOT_MEASURED, verdicts


def _figures(rps: float, alone_p50_ms: float = 2.0) -> dict:
    return {"rps": rps, "alone_p50_ms": alone_p50_ms}


def _report() -> dict:
    """A run at two sizes against a bare rate of 1,000 req/s: the thread list above half of it,
    the thread posts below, the top ideas not measured at the largest size."""
    small = {name: _figures(800) for name in LISTS}
    large = {name: _figures(700) for name in LISTS if name != "idea list top"}
    large["thread posts"] = _figures(400, alone_p50_ms=3.0)
    large.update({f"{name} (cache miss)": _figures(200) for name in MISS_ENDPOINTS})
    large["vote"] = _figures(50)
    large["attendees near me"] = _figures(900, alone_p50_ms=4.5)
    return {"bare": {"rps": 1000}, "sizes": [{"size": "1k", "endpoints": small}, {"size": "100k", "endpoints": large}],
            "fanout": [{"clients": 1000, "processes": 2, "p99_ms": 70, "delivered": 1000, "expected": 1000}]}


def test_each_target_is_met_missed_or_not_measured():
    found = {target: (measured, met) for target, measured, met in verdicts(_report())}
    assert len(found) == len(LISTS) * 2 + len(MISS_ENDPOINTS) + 3  # every target once, none skipped
    assert found["thread list >= 0.5x bare"] == ("0.70x (700 req/s)", True)
    assert found["thread posts >= 0.5x bare"] == ("0.40x (400 req/s)", False)
    assert found["idea list top >= 0.5x bare"] == (NOT_MEASURED, False)
    assert found["thread list (cache miss) >= 0.15x bare"] == ("0.20x (200 req/s)", True)
    assert found["vote >= 0.1x bare"] == ("0.05x (50 req/s)", False)
    assert found["attendees near me p50 < 10 ms in the server"] == ("4.5 ms alone", True)
    assert found["thread list p50 at 100k within 1.3x of 1k"] == ("1.00x alone", True)
    assert found["thread posts p50 at 100k within 1.3x of 1k"] == ("1.50x alone", False)
    assert found["idea list top p50 at 100k within 1.3x of 1k"] == (NOT_MEASURED, False)
    assert found["fan-out p99 to 1000 sockets on 2 process(es) < 60 ms"] == ("70 ms", False)


def test_a_report_without_the_nearby_search_says_so():
    report = _report()
    del report["sizes"][-1]["endpoints"]["attendees near me"]
    assert ("attendees near me p50 < 10 ms in the server", NOT_MEASURED, False) in verdicts(report)

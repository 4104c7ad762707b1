"""Certificate ledger: balances, splits, FIFO, misuse, REC weights, double counting, invariants.

Every expected value is worked by hand in the comment beside it. Months are ``month_key`` =
``year * 12 + month - 1`` (re100sim.simulator.inputs.calendar). Rules: docs/domain.md#procurement-routes (one owner, retired once,
green certificates not resellable, self-use RECs retired to claim own use); docs/domain.md#rec-prices, #rec-weights
(1 REC = 1 MWh x weight; rooftop solar <= 3 MW weight 1.5).
"""
from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from re100sim.simulator.rules.certificates import (
    CertificateError,
    CertificateLedger,
    CertKind,
    Finding,
)


def mk(year: int, month: int) -> int:
    return year * 12 + month - 1


AUG, SEP, OCT = mk(2025, 8), mk(2025, 9), mk(2025, 10)


def assert_consistent(led: CertificateLedger) -> None:
    residuals = led.check()
    assert residuals == {key: 0.0 for key in residuals}, residuals


# --------------------------------------------------------------------- balances


def test_issue_transfer_retire_balances():
    led = CertificateLedger()
    led.issue("rec", "pv1", AUG, 100.0, owner="pv1")
    led.transfer("rec", "pv1", "T1", 60.0)
    led.retire("T1", "rec", 25.0, claimant="T1", year=2025)
    assert led.issued("rec") == 100.0  # issued once
    assert led.held("pv1", "rec") == 40.0  # 100 - 60
    assert led.held("T1", "rec") == 35.0  # 60 - 25
    assert led.retired("T1") == 25.0
    assert led.retired("T1", year=2025, kind="rec") == 25.0
    assert led.retired("T1", year=2026) == 0.0  # nothing claimed in 2026
    # issued = held + retired: 100 = 40 + 35 + 25
    assert led.held("pv1") + led.held("T1") + led.retired("T1") == led.issued()
    assert_consistent(led)


def test_partial_transfer_splits_batch():
    led = CertificateLedger()
    b = led.issue(CertKind.REC, "pv1", AUG, 100.0, owner="pv1", weight=1.0)
    (child,) = led.transfer(b, "pv1", "T1", 30.0)
    assert child != b  # a new batch for the moved part
    assert led.batch(b).mwh == 70.0  # 100 - 30 stays with the plant
    assert led.batch(child).mwh == 30.0
    assert led.batch(child).owner == "T1" and led.batch(child).parent == b
    assert led.batch(child).issuer == "pv1"
    # whole-batch transfer keeps the id
    assert led.transfer(child, "T1", "T2") == [child]
    assert led.batch(child).owner == "T2"
    assert len(led) == 2  # original + one split
    assert_consistent(led)


def test_fifo_oldest_month_first_across_sources():
    led = CertificateLedger()
    oct_ = led.issue("rec", "pvA", OCT, 10.0, owner="T1")
    aug = led.issue("rec", "pvB", AUG, 10.0, owner="T1")
    sep = led.issue("rec", "pvA", SEP, 10.0, owner="T1")
    moved = led.transfer("rec", "T1", "T2", 15.0)
    # Aug (10, whole) then Sep (5 of 10): Oct untouched
    assert moved[0] == aug
    assert led.batch(moved[1]).month_key == SEP and led.batch(moved[1]).mwh == 5.0
    assert led.batch(sep).mwh == 5.0  # 10 - 5
    assert led.batch(oct_).owner == "T1" and led.batch(oct_).mwh == 10.0
    claims = led.retire("T1", "rec", 8.0, claimant="T1", year=2025)
    # T1 holds Sep 5 + Oct 10: retire Sep 5 then Oct 3
    assert [(c.source, c.month_key, c.mwh) for c in claims] == [("pvA", SEP, 5.0), ("pvA", OCT, 3.0)]
    assert led.held("T1", "rec") == 7.0  # 15 - 8
    assert_consistent(led)


def test_fifo_by_source():
    led = CertificateLedger()
    led.issue("rec", "pvA", AUG, 10.0, owner="T1")
    led.issue("rec", "pvB", AUG, 10.0, owner="T1")
    led.issue("rec", "pvB", SEP, 10.0, owner="T1")
    moved = led.transfer(("rec", "pvB"), "T1", "T2", 12.0)
    # only pvB: Aug 10 + Sep 2
    assert [(led.batch(i).source, led.batch(i).month_key, led.batch(i).mwh) for i in moved] == [
        ("pvB", AUG, 10.0), ("pvB", SEP, 2.0)]
    assert led.held("T1", "rec", source="pvA") == 10.0  # untouched
    assert led.held("T1", "rec", source="pvB") == 8.0  # 20 - 12
    claims = led.retire("T1", "rec", 8.0, "T1", 2025, source="pvB")
    assert [(c.source, c.month_key, c.mwh) for c in claims] == [("pvB", SEP, 8.0)]
    assert_consistent(led)


def test_transfer_back_and_forth_keeps_fifo_index_right():
    # A batch returning to an earlier owner must not be picked twice from a stale index entry.
    led = CertificateLedger()
    b = led.issue("rec", "pv", AUG, 10.0, owner="A")
    led.transfer(b, "A", "B")
    led.transfer(b, "B", "A")
    led.issue("rec", "pv", SEP, 10.0, owner="A")
    moved = led.transfer("rec", "A", "C", 20.0)  # Aug 10 + Sep 10, each once
    assert sorted(led.batch(i).month_key for i in moved) == [AUG, SEP]
    assert led.held("A") == 0.0 and led.held("C") == 20.0
    assert_consistent(led)


def test_a_batch_moved_away_and_back_is_not_taken_by_its_former_owner():
    # X (Aug, 10 MWh) goes A -> B -> A; B then gets Y (Sep, 10 MWh). B's index still holds the entry X got
    # when it reached B: B's next 10 MWh must be Y, its only batch, and A keeps X.
    led = CertificateLedger()
    x = led.issue("rec", "pv", AUG, 10.0, owner="A")
    led.transfer(x, "A", "B")
    led.transfer(x, "B", "A")
    y = led.issue("rec", "pv", SEP, 10.0, owner="B")
    assert led.transfer("rec", "B", "C", 10.0) == [y]
    assert (led.batch(x).owner, led.batch(y).owner) == ("A", "C")
    assert (led.held("A"), led.held("B"), led.held("C")) == (10.0, 0.0, 10.0)
    assert_consistent(led)


# --------------------------------------------------------------------- misuse


def test_retire_more_than_held_raises_and_changes_nothing():
    led = CertificateLedger()
    led.issue("rec", "pv", AUG, 10.0, owner="T1")
    with pytest.raises(CertificateError, match="holds 10 MWh"):
        led.retire("T1", "rec", 10.5, "T1", 2025)
    with pytest.raises(CertificateError, match="holds 0 MWh"):
        led.retire("T2", "rec", 1.0, "T2", 2025)  # holds nothing
    with pytest.raises(CertificateError, match="holds 10 MWh"):
        led.transfer("rec", "T1", "T2", 11.0)
    assert led.held("T1", "rec") == 10.0 and led.retired("T1") == 0.0  # unchanged
    assert_consistent(led)


def test_retire_twice_raises():
    led = CertificateLedger()
    b = led.issue("rec", "pv", AUG, 10.0, owner="T1")
    led.retire_batch(b, "T1", "T1", 2025)
    with pytest.raises(CertificateError, match="already retired"):
        led.retire_batch(b, "T1", "T1", 2025)
    with pytest.raises(CertificateError, match="already retired"):
        led.transfer(b, "T1", "T2")
    with pytest.raises(CertificateError, match="holds 0 MWh"):
        led.retire("T1", "rec", 10.0, "T1", 2026)  # nothing live left
    assert led.retired("T1") == 10.0  # counted once
    assert_consistent(led)


def test_only_the_owner_moves_a_batch():
    led = CertificateLedger()
    b = led.issue("rec", "pv", AUG, 10.0, owner="T1")
    with pytest.raises(CertificateError, match="owned by 'T1'"):
        led.transfer(b, "T2", "T3")
    with pytest.raises(CertificateError, match="owned by 'T1'"):
        led.retire_batch(b, "T2", "T2", 2025)


def test_green_resale_raises():
    led = CertificateLedger()
    led.issue("green", "pool_pv", AUG, 100.0, owner="KEPCO")
    led.transfer("green", "KEPCO", "T1", 40.0)  # the utility delivers on bill payment: allowed
    with pytest.raises(CertificateError, match="may not be resold"):
        led.transfer("green", "T1", "T2", 10.0)  # subscriber resells: forbidden (step 5)
    assert led.held("T1", "green") == 40.0  # unchanged by the failed resale
    led.retire("T1", "green", 40.0, "T1", 2025)  # step 6: the subscriber retires and claims
    assert led.retired("T1", kind="green") == 40.0
    assert_consistent(led)


def test_bad_inputs_raise():
    led = CertificateLedger()
    with pytest.raises(CertificateError, match="unknown certificate kind"):
        led.issue("carbon", "pv", AUG, 1.0, owner="pv")
    with pytest.raises(CertificateError, match="> 0 MWh"):
        led.issue("rec", "pv", AUG, 0.0, owner="pv")
    with pytest.raises(CertificateError, match="> 0 MWh"):
        led.issue("rec", "pv", AUG, float("nan"), owner="pv")
    with pytest.raises(CertificateError, match="no multiplier"):
        led.issue("green", "pv", AUG, 1.0, owner="KEPCO", weight=1.5)
    with pytest.raises(CertificateError, match="REC weight"):
        led.issue("rec", "pv", AUG, 1.0, owner="pv", weight=0.0)
    b = led.issue("rec", "pv", AUG, 1.0, owner="pv")
    with pytest.raises(CertificateError, match="itself"):
        led.transfer(b, "pv", "pv")
    with pytest.raises(CertificateError, match="needs an amount"):
        led.transfer("rec", "pv", "T1")
    with pytest.raises(CertificateError, match="year"):
        led.retire("pv", "rec", 1.0, "pv", year="2025")
    with pytest.raises(CertificateError, match="no certificate batch"):
        led.batch(99)
    assert isinstance(CertificateError("x"), ValueError)
    assert_consistent(led)


# --------------------------------------------------------------------- REC weight


def test_rec_weight_counts_certificates_not_claim():
    # Rooftop solar <= 3 MW: weight 1.5 (docs/domain.md#rec-weights); 1 REC = 1 MWh x weight (domain.md#rec-prices).
    led = CertificateLedger()
    b = led.issue("rec", "roof_pv", AUG, 100.0, owner="roof_pv", weight=1.5)
    assert led.batch(b).certificates == 150.0  # 100 MWh x 1.5
    (c,) = led.transfer(b, "roof_pv", "T1", 40.0)
    assert led.batch(c).certificates == 60.0  # 40 x 1.5
    (claim,) = led.retire("T1", "rec", 40.0, "T1", 2025)
    assert claim.mwh == 40.0 and claim.certificates == 60.0  # claims 40 MWh, not 60
    assert led.retired("T1") == 40.0
    df = led.batches_frame()
    assert df["certificates"].sum() == 150.0  # 90 held by the plant + 60 retired
    assert df["mwh"].sum() == 100.0
    led.register_generation("roof_pv", AUG, 100.0)
    assert led.findings() == []  # 40 MWh claimed <= 100 generated, though 60 RECs retired
    assert_consistent(led)


def test_green_certificates_are_one_per_kwh():
    led = CertificateLedger()
    b = led.issue("green", "pool_pv", AUG, 2.5, owner="KEPCO")
    assert led.batch(b).certificates == 2500.0  # 2.5 MWh = 2,500 kWh, one certificate per kWh


# --------------------------------------------------------------------- double counting


def seed003_ledger() -> CertificateLedger:
    """Green tariff (the KIEE 2020 green-tariff paper): pool plant 100 MWh in Aug 2025; green certificates to subscriber T1;
    the plant keeps its RECs (step 2) and sells them to tenant T2."""
    led = CertificateLedger()
    led.register_generation("pool_pv", AUG, 100.0)
    led.issue("green", "pool_pv", AUG, 100.0, owner="KEPCO")
    led.issue("rec", "pool_pv", AUG, 100.0, owner="pool_pv", weight=1.0)
    led.transfer("green", "KEPCO", "T1", 100.0)
    led.transfer("rec", "pool_pv", "T2", 100.0)
    return led


def test_seed003_double_counting_found():
    led = seed003_ledger()
    led.retire("T1", "green", 100.0, "T1", 2025)
    # only the green claim so far (100 <= 100 generated), but T2 holds live RECs on the same MWh: issued twice
    (t,) = led.findings()
    assert t.problem == "issued_twice" and t.excess_mwh == 100.0  # 100 green + 100 REC - 100 generated
    assert t.claimants == ("T1",) and "issued twice" in t.message
    assert t.kinds == ("green", "rec")  # the green claim and the RECs on the same MWh
    led.retire("T2", "rec", 100.0, "T2", 2025)
    (f,) = led.findings()  # now a double claim; the same MWh are not reported as issued twice as well
    assert isinstance(f, Finding) and f.problem == "double_claim"
    assert (f.source, f.month_key) == ("pool_pv", AUG)
    assert f.claimed_mwh == 200.0  # 100 green (T1) + 100 REC (T2)
    assert f.generated_mwh == 100.0
    assert f.excess_mwh == 100.0  # 200 - 100
    assert f.kinds == ("green", "rec") and f.claimants == ("T1", "T2")
    assert "2025-08" in f.message and "double counting" in f.message
    df = led.findings_frame()
    assert len(df) == 1 and df.loc[0, "claimed_mwh"] == 200.0
    assert_consistent(led)  # the books balance; the problem is in the claims, not the ledger


def test_no_finding_when_claims_within_generation():
    led = seed003_ledger()
    led.retire("T1", "green", 60.0, "T1", 2025)
    led.retire("T2", "rec", 40.0, "T2", 2025)
    # 60 + 40 = 100 <= 100 generated: no double claim; but the 60 green MWh carry RECs T2 still holds
    assert [(f.problem, f.excess_mwh) for f in led.findings()] == [("issued_twice", pytest.approx(60.0))]
    led.retire("T2", "rec", 0.001, "T2", 2025)
    f, t = led.findings()  # 100.001 > 100: one kWh too many
    assert f.problem == "double_claim" and f.claimed_mwh == pytest.approx(100.001)
    assert t.problem == "issued_twice" and t.excess_mwh == pytest.approx(59.999)  # 60 + 100 - 100 - 0.001


def test_over_issuance_finding():
    led = CertificateLedger()
    led.register_generation("pv", AUG, 80.0)
    led.issue("rec", "pv", AUG, 50.0, owner="pv")
    led.issue("rec", "pv", AUG, 50.0, owner="pv")  # 100 MWh of RECs on 80 MWh generated
    led.issue("green", "pv", AUG, 80.0, owner="KEPCO")  # green on exactly 80: not over-issued
    (f,) = led.findings()
    assert f.problem == "over_issuance" and f.kinds == ("rec",)
    assert f.issued_mwh == 100.0 and f.generated_mwh == 80.0  # 50 + 50 vs 80
    assert f.excess_mwh == 20.0  # 100 - 80
    assert f.claimed_mwh == 0.0  # nothing retired yet


def test_claim_without_registered_generation_is_a_finding_unless_premium():
    led = CertificateLedger()
    led.issue("premium", "green_premium_2025", AUG, 30.0, owner="T1")
    led.retire("T1", "premium", 30.0, "T1", 2025)
    assert led.findings() == []  # a programme claim, not linked to a plant
    led.issue("rec", "ghost_pv", AUG, 5.0, owner="T1")
    led.retire("T1", "rec", 5.0, "T1", 2025)
    problems = [(f.problem, f.source, f.generated_mwh) for f in led.findings()]
    # over-issued (5 > 0 registered) and over-claimed (5 > 0): both visible
    assert problems == [("double_claim", "ghost_pv", 0.0), ("over_issuance", "ghost_pv", 0.0)]


def test_register_generation_adds_parts_of_a_month():
    led = CertificateLedger()
    led.register_generation("pv", AUG, 40.0)  # first block ends mid-August
    led.register_generation("pv", AUG, 60.0)  # second block
    assert led.generated("pv", AUG) == 100.0  # 40 + 60
    led.issue("rec", "pv", AUG, 100.0, owner="pv")
    assert led.findings() == []


def test_self_use_plant_claim_only_by_retiring_own_recs():
    # docs/domain.md#procurement-routes table: RECs of own plant must be retired, not sold, to claim RE use.
    led = CertificateLedger()
    led.register_generation("T1_roof", AUG, 50.0)
    led.issue("rec", "T1_roof", AUG, 50.0, owner="T1", weight=1.5)
    led.transfer("rec", "T1", "T9", 20.0)  # sells 20 MWh of RECs (30 REC)
    led.retire("T1", "rec", 30.0, "T1", 2025)  # claims the rest
    assert led.retired("T1") == 30.0  # not 50: sold RECs carry the claim away
    led.retire("T9", "rec", 20.0, "T9", 2025)
    assert led.retired("T9") == 20.0
    assert led.findings() == []  # 30 + 20 = 50 generated
    assert_consistent(led)


# --------------------------------------------------------------------- export


def test_batches_frame_columns_and_status():
    led = CertificateLedger()
    led.register_generation("pv", AUG, 10.0)
    b = led.issue("rec", "pv", AUG, 10.0, owner="pv", weight=1.2)
    led.retire_batch(b, "pv", "T1", 2025, mwh=4.0)
    df = led.batches_frame()
    assert list(df.columns[:4]) == ["id", "kind", "source", "month"]
    assert df["status"].tolist() == ["issued", "retired"]
    assert df["mwh"].tolist() == [6.0, 4.0]  # 10 - 4 stays live
    assert df["certificates"].tolist() == pytest.approx([7.2, 4.8])  # x 1.2
    assert df["month"].tolist() == ["2025-08", "2025-08"]
    assert df["claimant"].isna().tolist() == [True, False] and df.loc[1, "claimant"] == "T1"
    assert df["retired_year"].tolist()[1] == 2025 and df["parent"].tolist()[1] == b
    assert led.findings_frame().empty  # 4 MWh claimed, 10 issued, 10 generated
    assert "claimed_mwh" in led.findings_frame().columns


# --------------------------------------------------------------------- invariants (property)

OWNERS = ["KEPCO", "pvA", "pvB", "T1", "T2"]
SOURCES = ["pvA", "pvB", "premium_prog"]

ops = st.lists(
    st.one_of(
        st.tuples(st.just("issue"), st.sampled_from(list(CertKind)), st.sampled_from(SOURCES),
                  st.integers(0, 5), st.floats(0.001, 100.0), st.sampled_from(OWNERS),
                  st.sampled_from([1.0, 1.2, 1.5, 1.9])),
        st.tuples(st.just("transfer"), st.sampled_from(list(CertKind)), st.sampled_from(OWNERS),
                  st.sampled_from(OWNERS), st.floats(0.0, 1.0), st.booleans()),
        st.tuples(st.just("retire"), st.sampled_from(list(CertKind)), st.sampled_from(OWNERS),
                  st.floats(0.0, 1.0), st.integers(2025, 2027)),
        st.tuples(st.just("gen"), st.sampled_from(SOURCES), st.integers(0, 5), st.floats(0.0, 100.0)),
    ),
    max_size=60,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops)
def test_random_valid_operations_keep_invariants(seq):
    led = CertificateLedger()
    retired_total = 0.0
    for op in seq:
        if op[0] == "issue":
            _, kind, src, m, mwh, owner, w = op
            led.issue(kind, src, m, mwh, owner, weight=w if kind == "rec" else 1.0)
        elif op[0] == "transfer":
            _, kind, a, b, frac, by_source = op
            if a == b:
                continue
            if kind == "green":
                # only the issuer may move green: restrict to batches it issued
                ids = [i for i in range(len(led)) if led.batch(i).status == "issued"
                       and led.batch(i).owner == a and led.batch(i).kind == kind and led.batch(i).issuer == a]
                if ids:
                    amount = round(led.batch(ids[0]).mwh * frac, 6)  # whole batch if it rounds to 0
                    led.transfer(ids[0], a, b, amount if amount > 0 else None)
                continue
            have = led.held(a, kind)
            amount = round(have * frac, 6)
            if amount <= 0:
                continue
            if by_source:
                src = next(s for s in SOURCES if led.held(a, kind, source=s) > 0)
                amount = min(amount, led.held(a, kind, source=src))
                led.transfer((kind, src), a, b, amount)
            else:
                led.transfer(kind, a, b, amount)
        elif op[0] == "retire":
            _, kind, owner, frac, year = op
            amount = round(led.held(owner, kind) * frac, 6)
            if amount > 0:
                claims = led.retire(owner, kind, amount, owner, year)
                assert sum(c.mwh for c in claims) == pytest.approx(amount)
                retired_total += amount
        else:
            _, src, m, mwh = op
            led.register_generation(src, m, mwh)
        assert_consistent(led)
    held = sum(led.held(o) for o in OWNERS)
    retired = sum(led.retired(o) for o in OWNERS)
    assert held + retired == pytest.approx(led.issued(), abs=1e-6)
    assert retired == pytest.approx(retired_total, abs=1e-6)
    led.findings()  # never raises


# --------------------------------------------------------------------- many operations


def test_many_operations_balance():
    # 200 plants x 24 months of REC issuance, each month sold on to a tenant and retired:
    # 4,800 issues + 4,800 transfers + 4,800 retirements + FIFO over growing holdings.
    # (Speed is measured in benchmarks, never asserted in tests.)
    led = CertificateLedger()
    for m in range(24):
        for p in range(200):
            led.register_generation(f"pv{p}", m, 10.0)
            led.issue("rec", f"pv{p}", m, 10.0, owner=f"pv{p}", weight=1.5)
            led.transfer("rec", f"pv{p}", f"T{p % 500}", 7.0)
        for t in range(200):
            led.retire(f"T{t}", "rec", 5.0, f"T{t}", 2025 + m // 12)
    assert led.issued() == 48_000.0  # 200 x 24 x 10
    assert sum(led.retired(f"T{t}") for t in range(200)) == 24_000.0  # 200 x 24 x 5
    assert led.findings() == []
    assert_consistent(led)


# --------------------------------------------------------------------- messages and filters (mutation score)


def test_findings_messages_in_full():
    # The messages an analyst reads, written out by hand (MWh in the ledger's ",.6g" format).
    led = seed003_ledger()
    led.retire("T1", "green", 100.0, "T1", 2025)
    (t,) = led.findings()
    assert t.message == ("issued twice: pool_pv 2025-08: 100 MWh claimed with green certificates by T1 "
                         "also carry RECs (100 MWh issued)")  # 100 green + 100 REC - 100 generated
    led.retire("T2", "rec", 100.0, "T2", 2025)
    (f,) = led.findings()
    assert f.message == ("double counting: pool_pv 2025-08: 200 MWh claimed (green 100 MWh by T1; "
                         "rec 100 MWh by T2) against 100 MWh generated")  # registered: no note
    over = CertificateLedger()
    over.register_generation("pv", AUG, 80.0)
    over.issue("rec", "pv", AUG, 100.0, owner="pv")
    (o,) = over.findings()
    assert o.message == "over-issuance: pv 2025-08: rec certificates issued on 100 MWh against 80 MWh generated"


def test_misuse_messages_name_the_rule_and_the_amounts():
    led = CertificateLedger()
    led.issue("green", "pool_pv", AUG, 100.0, owner="KEPCO")
    led.transfer("green", "KEPCO", "T1", 40.0)
    with pytest.raises(CertificateError, match=r" \(docs/domain.md#procurement-routes green tariff step 5\)$"):
        led.transfer("green", "T1", "T2", 10.0)
    with pytest.raises(CertificateError, match="from_owner is ''"):
        led.transfer("green", "", "T2", 10.0)
    with pytest.raises(CertificateError, match="^to_owner is ''"):
        led.transfer("green", "KEPCO", "", 1.0)
    with pytest.raises(CertificateError, match="^owner is ''"):
        led.issue("rec", "pv", AUG, 1.0, owner="")
    with pytest.raises(CertificateError, match="^source is ''"):
        led.transfer("green", "KEPCO", "T1", 1.0, source="")
    with pytest.raises(CertificateError, match="^source is ''"):
        led.transfer(("green", ""), "KEPCO", "T1", 1.0)
    with pytest.raises(CertificateError, match=r"mwh is 'ten' \(expected a number of MWh\)"):
        led.retire("T1", "green", "ten", "T1", 2025)
    with pytest.raises(CertificateError, match="claimant is ''"):
        led.retire("T1", "green", 10.0, "", 2025)
    with pytest.raises(CertificateError, match="cannot retire 50 MWh of green certificates: 'T1' holds 40 MWh"):
        led.retire("T1", "green", 50.0, "T1", 2025)
    b = led.issue("rec", "pv", AUG, 10.0, owner="T1")
    led.retire_batch(b, "T1", "T1", 2025)
    with pytest.raises(CertificateError, match=r"\(a certificate is retired once, docs/domain.md#procurement-routes\)"):
        led.transfer(b, "T1", "T2")


def test_retired_by_kind():
    # T1 retires 30 MWh of green and 10 MWh of RECs in 2025: by kind 30 and 10, together 40.
    led = CertificateLedger()
    led.issue("green", "pool_pv", AUG, 30.0, owner="KEPCO")
    led.transfer("green", "KEPCO", "T1", 30.0)
    led.issue("rec", "pv", AUG, 10.0, owner="T1")
    led.retire("T1", "green", 30.0, "T1", 2025)
    led.retire("T1", "rec", 10.0, "T1", 2025)
    assert led.retired("T1", kind="green") == 30.0
    assert led.retired("T1", kind=CertKind.REC) == 10.0
    assert led.retired("T1", 2025) == 40.0 and led.retired("T1", 2026) == 0.0


def test_check_reports_a_corrupted_holdings_index():
    # check() recounts the batches against the running index; an index that lost T1's 10 MWh of RECs
    # must show as a 10 MWh residual, not crash.
    led = CertificateLedger()
    led.issue("rec", "pv", AUG, 10.0, owner="T1")
    led._held.clear()  # simulate a bug in the index bookkeeping
    assert led.check()["held_index_mwh"] == 10.0


def test_check_counts_lost_certificates_by_weight_and_a_retirement_outside_the_log():
    # A 10 MWh batch of weight-2 RECs is 20 certificates. A bug that shrinks it to 4 MWh (8 certificates)
    # leaves 6 MWh and 20 - 8 = 12 certificates unaccounted for: the certificate residual is counted at the
    # batch's weight (6 MWh x 2), not divided by it.
    led = CertificateLedger()
    b = led.issue("rec", "pv", AUG, 10.0, owner="T1", weight=2.0)
    led._batches[b].wh = 4_000_000  # simulate a bookkeeping bug (Wh are the batch's integer energy)
    out = led.check()
    assert out["rec.mwh"] == 6.0 and out["rec.certificates"] == pytest.approx(12.0)
    # a batch marked retired without a retirement in the log is one retirement too many (1, not -1)
    led2 = CertificateLedger()
    b2 = led2.issue("rec", "pv", AUG, 1.0, owner="T1")
    led2._batches[b2].status = "retired"
    assert led2.check()["retired_twice"] == 1.0


def test_bulk_issue_and_registration_messages_and_an_empty_kind():
    led = CertificateLedger()
    with pytest.raises(CertificateError, match=r"^source is '' \(expected a non-empty string\)$"):
        led.register_generation("", AUG, 1.0)
    with pytest.raises(CertificateError, match=r"^owner is '' \(expected a non-empty string\)$"):
        led.issue_many("rec", ["pv"], AUG, [1.0], [""])
    # the first offending weight is named, also when it is not the first row
    with pytest.raises(CertificateError, match=r"^REC weight is .*-1\.0.* \(expected > 0 certificates per MWh\)$"):
        led.issue_many("rec", ["pv", "pv"], AUG, [1.0, 1.0], ["T1", "T1"], weights=[1.0, -1.0])
    with pytest.raises(CertificateError, match=r"^green certificates have no multiplier: weight is .*2\.0.* \(expected 1\.0\)$"):
        led.issue_many("green", ["pv", "pv"], AUG, [1.0, 1.0], ["T1", "T1"], weights=[1.0, 2.0])
    assert len(led) == 0 and led.issued("green") == 0.0 and led.issued() == 0.0  # refused calls issue nothing


def test_issued_twice_only_where_recs_were_issued_and_on_every_source_month():
    # "A" 2025-08: 1 MWh generated, 1 MWh of green certificates claimed, no RECs: nothing issued twice
    # (0 RECs + 1 green = 1 MWh generated). "B": 1 MWh generated, 1 MWh green claimed by T2 and 1 MWh of
    # RECs issued on it: 1 MWh issued twice, reported with B's generation; "A" comes first in the ledger.
    led = CertificateLedger()
    for src in ("A", "B"):
        led.register_generation(src, AUG, 1.0)
    led.issue("green", "A", AUG, 1.0, owner="T1")
    led.retire("T1", "green", 1.0, "T1", 2025)
    led.issue("green", "B", AUG, 1.0, owner="T2")
    led.retire("T2", "green", 1.0, "T2", 2025)
    led.issue("rec", "B", AUG, 1.0, owner="B")
    (f,) = led.findings()
    assert (f.problem, f.source, f.claimed_mwh, f.generated_mwh, f.kinds) == ("issued_twice", "B", 1.0, 1.0, ("green", "rec"))
    assert led.findings_frame()["kinds"].tolist() == ["green,rec"]


def test_retiring_from_a_source_not_held_is_refused_by_name():
    led = CertificateLedger()
    led.issue("rec", "pv", AUG, 1.0, owner="T1")
    with pytest.raises(CertificateError, match="from 'wind'"):
        led.retire("T1", "rec", 0.5, "T1", 2025, source="wind")


def test_a_partial_retirement_takes_the_next_id():
    # issue -> id 0; retiring 0.4 of its 1 MWh splits off id 1 (retired); the next batch issued is id 2
    led = CertificateLedger()
    first = led.issue("rec", "pv", AUG, 1.0, owner="T1")
    (claim,) = led.retire("T1", "rec", 0.4, "T1", 2025)
    assert (first, led.issue("rec", "pv", AUG, 1.0, owner="T1")) == (0, 2)
    assert led.batch(1).status == "retired" and led.batch(1).mwh == pytest.approx(0.4)


def test_bulk_issue_retiring_one_wh_splits_the_batch():
    # the ledger's resolution is 1 Wh: retiring 1e-6 MWh of a new 1 MWh batch splits it into 999,999 Wh
    # held (the batch, id 0) and 1 Wh retired (id 1); the next batch issued is id 2
    led = CertificateLedger()
    (b,) = led.issue_many("rec", ["pv"], AUG, [1.0], ["T1"], retire_mwh=[1e-6], year=2025)
    assert (b, led.batch(0).status, led.batch(0).mwh) == (0, "issued", 0.999999)
    assert led.issue("rec", "pv", AUG, 1.0, owner="T2") == 2
    assert (led.batch(1).status, led.batch(1).mwh, led.batch(1).claimant) == ("retired", 1e-6, "T1")


def test_findings_without_registered_generation_say_so():
    led = CertificateLedger()
    led.issue("rec", "ghost_pv", AUG, 5.0, owner="T1")
    led.retire("T1", "rec", 5.0, "T1", 2025)
    claim, over = led.findings()
    assert claim.message == ("double counting: ghost_pv 2025-08: 5 MWh claimed (rec 5 MWh by T1) against 0 MWh "
                             "generated (no generation registered)")
    assert over.message == ("over-issuance: ghost_pv 2025-08: rec certificates issued on 5 MWh against 0 MWh "
                            "generated (no generation registered)")
    assert over.claimants == ("T1",) and led.generated("ghost_pv", AUG) == 0.0
    assert list(led.findings_frame().columns) == ["problem", "source", "month", "month_key", "claimed_mwh",
                                                  "generated_mwh", "issued_mwh", "excess_mwh", "kinds", "claimants",
                                                  "message"]


def test_check_counts_an_empty_batch_as_nonpositive():
    # A batch of 0 Wh (a bookkeeping bug: every issued batch holds >= 1 Wh) is reported, as one of < 0 Wh is.
    led = CertificateLedger()
    b = led.issue("rec", "pv", AUG, 10.0, owner="T1")
    led.issue("rec", "pv", SEP, 5.0, owner="T1")
    led.batch(b).wh = 0
    assert led.check()["nonpositive"] == 1.0
    led.batch(b).wh = -1
    assert led.check()["nonpositive"] == 1.0


def test_check_reports_holdings_with_no_batch():
    # The opposite corruption: the index says 'ghost' holds 5 MWh of RECs that no batch backs.
    led = CertificateLedger()
    led.issue("rec", "pv", AUG, 10.0, owner="T1")
    led._held["ghost", "rec"] = 5_000_000  # Wh
    assert led.check()["held_index_mwh"] == 5.0


# --------------------------------------------------------------------- a month's batches at once


def _state(led: CertificateLedger):
    """Everything the ledger shows: batches, findings, residuals, balances and counters."""
    frame = led.batches_frame()
    owners = sorted(set(frame["owner"]) | set(frame["claimant"].dropna()))
    return (
        frame.to_dict("list"), led.findings_frame().to_dict("list"), led.check(), led.issued(),
        [(o, k, led.held(o, k), led.retired(o, kind=k)) for o in owners for k in ("rec", "premium")],
        led._next_id, led._retirement_log,
        {k: v for k, v in led._held.items() if v}, {k: v for k, v in led._held_src.items() if v},
        dict(led._issued), dict(led._issued_kw), {k: dict(v) for k, v in led._issued_sm.items()},
        dict(led._retired_kind), {k: dict(v) for k, v in led._retired_by.items()},
        {k: dict(v) for k, v in led._claims_sm.items()}, dict(led._generated),
    )


month_rows = st.lists(
    st.tuples(st.sampled_from(["pv0", "pv1", "pv2", "fc"]),  # source (repeats allowed)
              st.sampled_from(["pv0", "T1", "T2"]),  # owner
              st.floats(1e-6, 50.0),  # MWh issued
              st.sampled_from([1.0, 1.2, 1.5, 1.9]),  # REC weight
              st.one_of(st.just(0.0), st.floats(-1.0, 60.0), st.just(5e-7))),  # MWh to retire at once
    max_size=12,
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(month_rows, st.lists(st.floats(0.0, 40.0), min_size=4, max_size=4), st.booleans())
def test_issue_many_is_issue_then_retire_batch_row_by_row(rows, gen_mwh, with_history):
    # The bulk path must leave the ledger exactly as the per-batch calls it replaces
    # (rules/certification.py before the bulk path): issue, then the owner retires
    # min(claim, batch) of that batch when >= 1 Wh; register_generation_many = register_generation.
    month = SEP

    def history(led):  # an earlier month, partly sold: older live holdings, ids already used
        led.issue("rec", "pv0", AUG, 3.0, owner="T1", weight=1.5)
        led.transfer("rec", "T1", "T2", 1.0)

    one, bulk = CertificateLedger(), CertificateLedger()
    if with_history:
        history(one), history(bulk)
    sources = ["pv0", "pv1", "pv2", "fc"]
    for s, g in zip(sources, gen_mwh):
        one.register_generation(s, month, g)
    bulk.register_generation_many(sources, month, gen_mwh)
    ids_one = []
    for src, owner, mwh, weight, claim in rows:
        b = one.issue("rec", src, month, mwh, owner=owner, weight=weight)
        ids_one.append(b)
        take = min(claim, one.batch(b).mwh)
        if take >= 1e-6:
            one.retire_batch(b, owner, owner, 2025, mwh=take)
    ids = bulk.issue_many("rec", [r[0] for r in rows], month, [r[2] for r in rows], [r[1] for r in rows],
                          [r[3] for r in rows], retire_mwh=[r[4] for r in rows], year=2025)
    assert ids == ids_one
    assert _state(bulk) == _state(one)
    # later operations see the same holdings (FIFO, heaps): sell what T1 holds, retire some of T2's
    for led in (one, bulk):
        if led.held("T1", "rec") >= 1e-6:
            led.transfer("rec", "T1", "T2", led.held("T1", "rec"))
        if led.held("T2", "rec") >= 2e-6:
            led.retire("T2", "rec", round(led.held("T2", "rec") / 2, 6), "T2", 2026)
    assert _state(bulk) == _state(one)
    assert_consistent(bulk)


def test_issue_many_hand_worked():
    led = CertificateLedger()
    ids = led.issue_many("rec", ["pv1", "pv2", "pv3"], SEP, [10.0, 4.0, 2.0], ["T1", "T2", "pv3"],
                         [1.5, 1.0, 1.2], retire_mwh=[6.0, 9.0, 0.0], year=2025)
    # pv1: 10 MWh, 6 retired by T1 -> batch 0 keeps 4 MWh, the retired 6 MWh is batch 1 (parent 0);
    # pv2: 4 MWh, claim 9 > 4 -> batch 2 retired whole; pv3: nothing retired -> batch 3 held
    assert ids == [0, 2, 3]
    f = led.batches_frame().set_index("id")
    assert f.loc[0, "mwh"] == 4.0 and f.loc[0, "status"] == "issued" and f.loc[0, "owner"] == "T1"
    assert f.loc[1, "mwh"] == 6.0 and f.loc[1, "status"] == "retired" and f.loc[1, "parent"] == 0
    assert f.loc[1, "certificates"] == 9.0  # 6 MWh x weight 1.5
    assert f.loc[2, "status"] == "retired" and f.loc[2, "claimant"] == "T2"
    assert led.retired("T1", 2025) == 6.0 and led.retired("T2", 2025) == 4.0
    assert led.held("T1", "rec") == 4.0 and led.held("pv3", "rec") == 2.0
    assert led.issued("rec") == 16.0  # 10 + 4 + 2
    assert_consistent(led)
    with pytest.raises(CertificateError):
        led.issue_many("premium", ["gp"], SEP, [1.0], ["T1"], [1.5])  # premium has no multiplier
    with pytest.raises(CertificateError):
        led.issue_many("rec", ["pv1"], SEP, [-1.0], ["T1"])  # negative MWh
    with pytest.raises(CertificateError):
        led.issue_many("rec", ["pv1"], SEP, [1.0], ["T1"], retire_mwh=[float("nan")], year=2025)
    assert len(led) == 4  # the rejected calls changed nothing


# --------------------------------------------------------------------- RECs of a plant's month


@pytest.mark.parametrize("metered, exported, net_metered, expected", [
    (100.0, 30.0, True, 70.0),    # net metered: 100 - 30 credited against the host's grid kWh = 70 MWh earn RECs
    (100.0, 30.0, False, 100.0),  # surplus sold at SMP keeps its RECs: all 100 metered MWh earn them
    (20.0, 20.0, True, 0.0),      # all exported and credited: max(0, 20 - 20) = 0
    (0.0, 0.0, False, 0.0),
])
def test_rec_eligible_mwh_by_hand_and_as_arrays(metered, exported, net_metered, expected):
    """docs/domain.md#self-generation: a net-metered kWh is paid by offsetting the host's grid kWh, so it earns
    no REC; the scalar rule and the array form the engine uses give the same MWh."""
    from re100sim.simulator.rules.certification import rec_eligible_mwh, rec_eligible_mwh_array

    assert rec_eligible_mwh(metered, exported, net_metered) == expected
    got = rec_eligible_mwh_array(np.array([metered]), np.array([exported]), np.array([net_metered]))
    assert got.tolist() == [expected]


# --------------------------------------------------------------------- a month's certification, rule by rule


def certify(plants, contracts=(), tenants=("A", "B"), gen_host=None, r=None, battery_owner=None,
            month_key=mk(2026, 2), gen_pool=None, green_kwh=None, premiums=()):
    """certification.certify_month on one month given directly: ``plants`` and ``contracts`` are scenario
    models, ``r`` the month's per-plant (``gen_*``) and per-contract (``contract_*``) kWh as lists (missing
    ones 0), ``battery_owner`` the tenant index of each battery (``r['delivered_own_kwh']`` its own-plant kWh
    delivered), ``gen_pool`` 1 for a green-pool plant, ``green_kwh`` each tenant's green-tariff kWh,
    ``premiums`` (tenant, MWh a year) green-premium subscriptions. Returns the ledger's batches."""
    from types import SimpleNamespace as NS

    from re100sim.simulator.rules.certification import certify_month

    n, nc = len(plants), len(contracts)
    names = [p.name for p in plants]
    r = dict(r or {})
    arrays = {f: np.array([r.pop(f, [0.0] * n)], dtype=float)
              for f in ("gen_kwh", "gen_curtailed_kwh", "gen_stored_kwh", "gen_self_kwh", "gen_export_kwh")}
    arrays |= {f: np.array([r.pop(f, [0.0] * nc)], dtype=float).reshape(1, nc) for f in (
        "contract_contracted_kwh", "contract_applied_kwh", "contract_stored_kwh", "contract_surplus_export_kwh")}
    owners = list(battery_owner or [])
    by_source = np.zeros((1, len(owners), 3))
    by_source[0, :, 1] = r.pop("delivered_own_kwh", [0.0] * len(owners))
    assert not r, r
    model = NS(
        certs=CertificateLedger(), generators=[NS(name=p.name, spec=p) for p in plants],
        tenants=[NS(name=t) for t in tenants], utility=NS(name="KEPCO"),
        premiums=[NS(tenant=t, volume_mwh_per_year=v) for t, v in premiums],
        batteries=NS(n=len(owners), owner=np.array(owners, dtype=int)),
        plan=NS(gen_host=np.array([-1] * n if gen_host is None else gen_host),
                gen_pool=np.array([0] * n if gen_pool is None else gen_pool, dtype=np.int8),
                contracts=list(contracts), c_gen=np.array([names.index(c.generator) for c in contracts], dtype=int),
                c_tenant=np.array([list(tenants).index(c.tenant) for c in contracts], dtype=int)),
    )
    certify_month(model, NS(**arrays, battery_discharged_kwh_by_source=by_source), np.arange(nc), month_key,
                  np.array(green_kwh or [0.0] * len(tenants), dtype=float))
    assert_consistent(model.certs)
    return model.certs.batches_frame()


def plant(name: str, **more):
    from re100sim.simulator.scenario.config import GeneratorSpec

    return GeneratorSpec(name=name, technology="fuel_cell", capacity_kw=100.0, availability=1.0, **more)


def ppa(generator: str, tenant: str, **more):
    from re100sim.simulator.scenario.config import PpaContract

    return PpaContract(name=f"{generator}-{tenant}", generator=generator, tenant=tenant,
                       volume={"kind": "share", "share": 1.0}, price={"kind": "fixed", "price_krw_per_kwh": 100.0},
                       **more)


def test_rec_owner_is_the_host_only_for_a_tenant_owned_self_use_plant():
    # docs/domain.md#procurement-routes: a tenant's own plant's RECs are its own to retire; a plant of a public or
    # private owner keeps its RECs even behind a tenant's meter, and so does a tenant-owned plant elsewhere
    from types import SimpleNamespace as NS

    from re100sim.simulator.rules.certification import rec_owner

    assert rec_owner(NS(spec=plant("own", owner="tenant", host_tenant="A"))) == "A"
    assert rec_owner(NS(spec=plant("lease", owner="private", host_tenant="A"))) == "lease"
    assert rec_owner(NS(spec=plant("away", owner="tenant"))) == "away"
    assert rec_owner(NS(spec=plant("pub"))) == "pub"


def test_one_wh_is_issued_moved_and_retired():
    # The ledger's resolution is 1 Wh (certification.MIN_MWH = 1e-6 MWh): a month in which the plant metered
    # 0.001 kWh = 1 Wh, all applied to B's load under a bundled PPA, issues 1 Wh of RECs (x 1.9 = 1.9e-6 RECs),
    # moves it to B and retires it for B's claim.
    f = certify([plant("fc")], [ppa("fc", "B")], r={"gen_kwh": [0.001], "contract_contracted_kwh": [0.001],
                                                  "contract_applied_kwh": [0.001]})
    assert f[["source", "owner", "status", "claimant"]].values.tolist() == [["fc", "B", "retired", "B"]]
    assert f.mwh.tolist() == [1e-6] and f.certificates.tolist() == pytest.approx([1.9e-6])


def test_a_leased_roof_plant_keeps_its_recs_on_what_the_host_uses():
    # A private plant on A's leased roof (behind A's meter): A used 60 of its 100 kWh. The RECs stay the
    # plant's, unretired (A buys the kWh, not the certificates; docs/domain.md#procurement-routes): one
    # 0.1 MWh batch held by "lease". Only a tenant-owned plant behind its owner's meter retires at once.
    f = certify([plant("lease", owner="private", host_tenant="A")], gen_host=[0],
                r={"gen_kwh": [100.0], "gen_self_kwh": [60.0]})
    assert f[["owner", "status"]].values.tolist() == [["lease", "issued"]] and f.mwh.tolist() == [0.1]


def test_a_bundled_buyers_share_comes_before_the_hosts_battery_claim():
    # A's own 100 kW plant (behind A's meter) also sells by bundled PPA to B. This month it metered 100 kWh:
    # 60 used by A, 40 applied to B; A's battery delivered 50 kWh of the plant's energy stored last month. A's
    # claim, 60 + 50 = 110 kWh, is taken from this month's batch (a simplification of vintages,
    # battery_re_claim_kwh), but only from what B's 40 kWh leave: A retires 100 - 40 = 60 kWh, the 50 kWh its
    # battery carried find no certificate of this month, and B gets the RECs of the 40 kWh it took and paid
    # for, retired for its claim. (Before, A's claim retired the whole 0.1 MWh batch and B got nothing.)
    f = certify([plant("own", owner="tenant", host_tenant="A")], [ppa("own", "B")], gen_host=[0],
                r={"gen_kwh": [100.0], "gen_self_kwh": [60.0], "contract_contracted_kwh": [40.0],
                   "contract_applied_kwh": [40.0], "delivered_own_kwh": [50.0]}, battery_owner=[0])
    got = sorted(zip(f.owner, f.status, f.claimant, f.mwh.round(9)))
    assert got == [("A", "retired", "A", 0.06), ("B", "retired", "B", 0.04)]
    # without the battery A's claim is its 60 kWh either way: the cap binds only on carried energy
    f = certify([plant("own", owner="tenant", host_tenant="A")], [ppa("own", "B")], gen_host=[0],
                r={"gen_kwh": [100.0], "gen_self_kwh": [60.0], "contract_contracted_kwh": [40.0],
                   "contract_applied_kwh": [40.0]})
    assert sorted(zip(f.owner, f.status, f.claimant, f.mwh.round(9))) == got


def test_two_bundled_buyers_shares_both_come_before_the_hosts_battery_claim():
    # As above with two buyers: the plant meters 100 kWh, A uses 40, B and C are applied 30 each, and A's
    # battery delivers 50 kWh carried over. Both buyers' 60 kWh are reserved: A retires 100 - 60 = 40 kWh,
    # B and C 30 each.
    f = certify([plant("own", owner="tenant", host_tenant="A")], [ppa("own", "B"), ppa("own", "C")],
                tenants=("A", "B", "C"), gen_host=[0],
                r={"gen_kwh": [100.0], "gen_self_kwh": [40.0], "contract_contracted_kwh": [30.0, 30.0],
                   "contract_applied_kwh": [30.0, 30.0], "delivered_own_kwh": [50.0]}, battery_owner=[0])
    assert sorted(zip(f.owner, f.status, f.claimant, f.mwh.round(9))) == [
        ("A", "retired", "A", 0.04), ("B", "retired", "B", 0.03), ("C", "retired", "C", 0.03)]


def test_a_buyers_watt_hour_that_rounding_gave_the_host_is_not_moved():
    # The ledger counts whole Wh, rounding half to even. The plant meters 2.5 Wh (a 2 Wh batch) and B is applied
    # 1 Wh; A's claim, capped at 2.5 - 1 = 1.5 Wh, rounds to 2 Wh and retires the whole batch. B's 1 Wh is then
    # not there to move: it is skipped (a retired certificate is never moved), not an error.
    f = certify([plant("own", owner="tenant", host_tenant="A")], [ppa("own", "B")], gen_host=[0],
                r={"gen_kwh": [0.0025], "gen_self_kwh": [0.0015], "contract_contracted_kwh": [0.001],
                   "contract_applied_kwh": [0.001], "delivered_own_kwh": [1.0]}, battery_owner=[0])
    assert f[["owner", "status", "claimant"]].values.tolist() == [["A", "retired", "A"]]
    assert (f.mwh * 1e6).round().tolist() == [2]


def test_green_certificates_per_pool_plant_pro_rata_to_delivery():
    # Plant "rec" sells outside the pool; pool plants P1 (350 kWh made, 50 curtailed: 300 delivered) and P2
    # (100 kWh). The utility allocated A 199 kWh, B 1 kWh and C nothing (the KIEE 2020 green-tariff paper steps
    # 2-6): one batch per pool plant, pro rata to delivery, 0.2 MWh x 300/400 = 0.15 MWh from P1 and x 100/400
    # = 0.05 from P2, issued to KEPCO and passed on pro rata to each subscriber's kWh: A 0.199 x 0.75 = 0.14925
    # MWh of P1's and 0.199 x 0.25 = 0.04975 of P2's; B, the last with an allocation, what is left: 0.00075
    # and 0.00025; C none.
    f = certify([plant("rec"), plant("P1"), plant("P2")], tenants=("A", "B", "C"), gen_pool=[0, 1, 1],
                green_kwh=[199.0, 1.0, 0.0],
                r={"gen_kwh": [80.0, 350.0, 100.0], "gen_curtailed_kwh": [0.0, 50.0, 0.0]})
    green = f[f.kind == "green"]
    assert set(green.status) == {"retired"} and set(green.issuer) == {"KEPCO"}
    assert set(green.retired_year) == {2026} and set(green.month) == {"2026-02"}  # claimed for the bill's year
    got = green.groupby(["claimant", "source"]).mwh.sum().round(9).to_dict()
    assert got == {("A", "P1"): 0.14925, ("A", "P2"): 0.04975, ("B", "P1"): 0.00075, ("B", "P2"): 0.00025}
    assert green.certificates.sum() == pytest.approx(200.0)  # one per kWh allocated
    rec = f[f.kind == "rec"]  # every plant's metered MWh earns RECs (x 1.9) for its owner
    assert dict(zip(rec.source, rec.mwh)) == {"rec": 0.08, "P1": 0.3, "P2": 0.1}


def test_the_last_green_subscriber_takes_what_rounding_left():
    # One pool plant delivered 100 kWh, allocated a third to each of A, B, C (33.33 kWh), none to D: the pro-rata
    # parts are 33,333 Wh each in the ledger's whole Wh, so the last subscriber with an allocation, C, takes the
    # 33,334 Wh left, D none, and the utility keeps no green certificate (it may not resell them:
    # docs/domain.md#procurement-routes green tariff step 5).
    third = 100.0 / 3
    f = certify([plant("P")], tenants=("A", "B", "C", "D"), gen_pool=[1], green_kwh=[third, third, third, 0.0],
                r={"gen_kwh": [100.0]})
    green = f[f.kind == "green"]
    assert dict(zip(green.claimant, (green.mwh * 1e6).round().astype(int))) == {"A": 33_333, "B": 33_333,
                                                                                "C": 33_334}
    assert set(green.status) == {"retired"}


def test_green_premiums_claimed_in_monthly_parts():
    # docs/domain.md#procurement-routes "Green premium": a month of each declared volume, issued to the
    # subscriber and retired for its claim at once: A 1.2 MWh/yr -> 0.1 MWh, B 0.24 -> 0.02 (one bulk call);
    # with A subscribed twice (1.2 and 0.6 MWh/yr), A claims 0.1 + 0.05 = 0.15 MWh in two batches.
    f = certify([plant("fc")], premiums=[("A", 1.2), ("B", 0.24)])
    prem = f[f.kind == "premium"]
    assert sorted(zip(prem.owner, prem.claimant, prem.status, prem.mwh.round(9))) == [
        ("A", "A", "retired", 0.1), ("B", "B", "retired", 0.02)]
    assert set(prem.source) == {"green_premium"}
    f = certify([plant("fc")], premiums=[("A", 1.2), ("A", 0.6), ("B", 0.24)])
    prem = f[f.kind == "premium"]
    assert sorted(zip(prem.owner, prem.claimant, prem.status, prem.mwh.round(9))) == [
        ("A", "A", "retired", 0.05), ("A", "A", "retired", 0.1), ("B", "B", "retired", 0.02)]
    assert set(prem.retired_year) == {2026} and set(prem.month) == {"2026-02"}
    assert set(prem.source) == {"green_premium"}  # the programme, not a plant (no generation to register)


@pytest.mark.parametrize("stored_kwh, export_kwh", [
    ([0.0, 20.0, 10.0], [40.0, 20.0, 30.0]),
    ([0.0, 0.6, 0.3], [40.0, 39.4, 39.7]),  # under 1 kWh stored: still shared 0.6 : 0.3 = 20 : 10
])
def test_own_battery_claims_go_to_the_battery_owner_by_what_each_plant_stored(stored_kwh, export_kwh):
    # A hosts its own 100 kW plant pa, B two, pb and pc; each metered 100 kWh and used 60 on site; pb stored 20
    # kWh in B's battery (20 sold at SMP), pc 10 (30 sold), pa 0 (40 sold). Only B has a battery: it delivered
    # 30 kWh of own-plant energy this month, shared over B's plants by what each stored, 20 : 10
    # (battery_re_claim_kwh). A retires 60 kWh = 0.06 MWh of pa's and keeps 0.04; B retires 60 + 20 = 80 kWh
    # of pb's (keeps 0.02 MWh) and 60 + 10 = 70 of pc's (keeps 0.03).
    f = certify([plant("pa", owner="tenant", host_tenant="A"), plant("pb", owner="tenant", host_tenant="B"),
                 plant("pc", owner="tenant", host_tenant="B")], gen_host=[0, 1, 1], battery_owner=[1],
                r={"gen_kwh": [100.0] * 3, "gen_self_kwh": [60.0] * 3, "gen_stored_kwh": stored_kwh,
                   "gen_export_kwh": export_kwh, "delivered_own_kwh": [30.0]})
    got = f[f.status == "retired"].groupby(["source", "owner"]).mwh.sum().round(9).to_dict()
    assert got == {("pa", "A"): 0.06, ("pb", "B"): 0.08, ("pc", "B"): 0.07}
    assert f.mwh.sum() == pytest.approx(0.3)  # and each keeps the rest of its 0.1 MWh batch


def _raises_exactly(message: str, fn, *args, **kwargs) -> None:
    """``fn(*args, **kwargs)`` raises a CertificateError with exactly ``message`` (a numpy scalar may show as
    ``np.float64(x)``: the message names the value either way)."""
    with pytest.raises(CertificateError) as e:
        fn(*args, **kwargs)
    assert re.sub(r"np\.float64\(([^)]*)\)", r"\1", str(e.value)) == message


def test_misuse_messages_in_full():
    # Every refusal names the operation, the batch or holdings and the amounts, written out by hand.
    led = CertificateLedger()
    b = led.issue("rec", "pv", AUG, 10.0, owner="T1")
    led.retire_batch(b, "T1", "T1", 2025)
    c = led.issue("rec", "pv", AUG, 10.0, owner="T1")
    once = "(a certificate is retired once, docs/domain.md#procurement-routes)"
    _raises_exactly(f"cannot transfer batch 0: already retired for 'T1' in 2025 {once}", led.transfer, b, "T1", "T2")
    _raises_exactly(f"cannot retire batch 0: already retired for 'T1' in 2025 {once}",
                    led.retire_batch, b, "T1", "T1", 2025)
    _raises_exactly("cannot transfer batch 1: it is owned by 'T1', not 'T2'", led.transfer, c, "T2", "T3")
    _raises_exactly("cannot retire batch 1: it is owned by 'T1', not 'T2'", led.retire_batch, c, "T2", "T2", 2025)
    _raises_exactly("cannot transfer 20 MWh of batch 1: it holds 10 MWh", led.transfer, c, "T1", "T2", 20.0)
    _raises_exactly("batch 1 is from 'pv', not 'wind'", led.transfer, c, "T1", "T2", source="wind")
    _raises_exactly("transfer of 'T1''s rec holdings needs an amount in mwh", led.transfer, "rec", "T1", "T2")
    _raises_exactly("cannot retire 20 MWh of rec certificates: 'T1' holds 10 MWh", led.retire, "T1", "rec", 20.0, "T1",
                    2025)
    _raises_exactly("cannot transfer 20 MWh of rec certificates from 'pv': 'T1' holds 10 MWh",
                    led.transfer, ("rec", "pv"), "T1", "T2", 20.0)
    _raises_exactly("selector ('rec',) (expected a batch id, a kind or (kind, source))",
                    led.transfer, ("rec",), "T1", "T2", 1.0)
    _raises_exactly("selector source 'pv' conflicts with source='wind'",
                    led.transfer, ("rec", "pv"), "T1", "T2", 1.0, source="wind")
    _raises_exactly("transfer from 'T1' to itself", led.transfer, c, "T1", "T1")
    _raises_exactly("year is True (expected an int calendar year)", led.retire, "T1", "rec", 1.0, "T1", True)
    _raises_exactly("unknown certificate kind 'carbon' (expected one of ['rec', 'green', 'premium'])",
                    led.issue, "carbon", "pv", AUG, 1.0, owner="pv")
    _raises_exactly("no certificate batch with id 99", led.batch, 99)
    _raises_exactly("weight is 'heavy' (expected a number)", led.issue, "rec", "pv", AUG, 1.0, owner="T1",
                    weight="heavy")
    _raises_exactly("mwh is -1.0 (expected a finite number > 0 MWh)", led.issue, "rec", "pv", AUG, -1.0, owner="T1")
    _raises_exactly("mwh is 1e-07 MWh, below the ledger's resolution of 1 Wh (1e-6 MWh)",
                    led.issue, "rec", "pv", AUG, 1e-7, owner="T1")
    _raises_exactly("mwh is -1.0 (expected a finite number >= 0 MWh)", led.register_generation, "pv", AUG, -1.0)
    # a month's batches at once (issue_many) checks its arrays the same way
    many = led.issue_many
    _raises_exactly("REC weight is 0.0 (expected > 0 certificates per MWh)", many, "rec", ["pv"], AUG, [1.0], ["T1"],
                    [0.0])
    _raises_exactly("green certificates have no multiplier: weight is 2.0 (expected 1.0)",
                    many, "green", ["pv"], AUG, [1.0], ["T1"], [2.0])
    _raises_exactly("2 owners for 1 sources (expected one per batch)", many, "rec", ["pv"], AUG, [1.0], ["T1", "T2"])
    _raises_exactly("weights have shape (2,) (expected (1,))", many, "rec", ["pv"], AUG, [1.0], ["T1"], [1.0, 2.0])
    _raises_exactly("year is 2025.0 (expected an int calendar year)",
                    many, "rec", ["pv"], AUG, [1.0], ["T1"], retire_mwh=[1.0], year=2025.0)
    _raises_exactly("retire_mwh is [1.0, 2.0] (expected 1 finite numbers of MWh)",
                    many, "rec", ["pv"], AUG, [1.0], ["T1"], retire_mwh=[1.0, 2.0], year=2025)
    _raises_exactly("mwh is 1e-07 MWh, below the ledger's resolution of 1 Wh (1e-6 MWh)",
                    many, "rec", ["pv"], AUG, [1e-7], ["T1"])
    _raises_exactly("mwh has shape (2,) (expected (1,))", many, "rec", ["pv"], AUG, [1.0, 2.0], ["T1"])
    _raises_exactly("mwh is -1.0 (expected a finite number >= 0 MWh)", many, "rec", ["pv"], AUG, [-1.0], ["T1"])
    _raises_exactly("mwh is ['x'] (expected numbers of MWh)", many, "rec", ["pv"], AUG, ["x"], ["T1"])
    _raises_exactly("mwh is -1.0 (expected a finite number >= 0 MWh)", led.register_generation_many, ["pv"], AUG,
                    [-1.0])
    assert len(led) == 2 and led.held("T1") == 10.0  # the refused calls changed nothing
    assert_consistent(led)


@pytest.mark.parametrize("delivered_kwh, pb_kwh, pc_kwh", [
    (30.0, 60.0 + 20.0, 30.0 + 10.0),  # 30 kWh shared 60 : 30 -> 20 and 10
    (0.6, 60.0 + 0.4, 30.0 + 0.2),     # under 1 kWh is shared all the same: 0.4 and 0.2
])
def test_carried_battery_energy_is_shared_by_what_each_plant_supplied(delivered_kwh, pb_kwh, pc_kwh):
    # As above, but B's battery stored nothing this month (it delivers what it stored last month): the
    # delivered own-plant kWh are shared over B's plants by what each supplied to B's load directly, pb 60 and
    # pc 30 kWh (battery_re_claim_kwh); A's plant pa gets none of it.
    f = certify([plant("pa", owner="tenant", host_tenant="A"), plant("pb", owner="tenant", host_tenant="B"),
                 plant("pc", owner="tenant", host_tenant="B")], gen_host=[0, 1, 1], battery_owner=[1],
                r={"gen_kwh": [100.0] * 3, "gen_self_kwh": [60.0, 60.0, 30.0], "gen_export_kwh": [40.0, 40.0, 70.0],
                   "delivered_own_kwh": [delivered_kwh]})
    retired = f[f.status == "retired"].groupby("source").mwh.sum().round(9).to_dict()
    assert retired == pytest.approx({"pa": 0.06, "pb": pb_kwh / 1000, "pc": pc_kwh / 1000}, abs=1e-9)


def test_carried_battery_energy_of_a_host_whose_plant_supplied_nothing_is_not_claimed():
    # B's plant pb sold all its 100 kWh at SMP this month (made in hours B used nothing, its battery full) and
    # B's battery delivered 30 kWh stored from pb last month: pb supplied B nothing directly nor stored
    # anything, so there is no share to claim the delivered kWh by (battery_re_claim_kwh; a simplification of
    # vintages): pb's 0.1 MWh stay held to sell. A's plant pa is untouched (60 kWh retired of its 100).
    f = certify([plant("pa", owner="tenant", host_tenant="A"), plant("pb", owner="tenant", host_tenant="B")],
                gen_host=[0, 1], battery_owner=[1],
                r={"gen_kwh": [100.0, 100.0], "gen_self_kwh": [60.0, 0.0], "gen_export_kwh": [40.0, 100.0],
                   "delivered_own_kwh": [30.0]})
    assert f.groupby(["source", "status"]).mwh.sum().round(9).to_dict() == {
        ("pa", "issued"): 0.04, ("pa", "retired"): 0.06, ("pb", "issued"): 0.1}


class _Invoices:
    """The one method of the run's invoice ledger the REC market uses (re100sim.simulator.outputs.ledger)."""

    def __init__(self):
        self.lines = []

    def add(self, month_key, payer, payee, item, quantity, unit, krw):
        self.lines.append((month_key, payer, payee, item, quantity, unit, krw))


def rec_market(led, plants=(), tenants=("A", "B", "C"), targets=()):
    from types import SimpleNamespace as NS

    return NS(certs=led, ledger=_Invoices(), generators=[NS(name=p.name, spec=p) for p in plants],
              tenants=[NS(name=t) for t in tenants], rec_targets=[NS(tenant=t, target_pct=p) for t, p in targets])


def test_quarterly_rec_sale_per_rec_by_holder():
    # docs/domain.md#time-and-settlement: at the quarter's end every plant and tenant sells the RECs it still
    # holds to the RPS market, paid per REC (1 REC = 1 MWh x weight, docs/domain.md#rec-prices) at 50,000 KRW:
    # plant fc 10 MWh x 1.9 = 19 RECs = 950,000 KRW; A 2 MWh x 1.5 = 3 RECs = 150,000 KRW; B its 1 Wh
    # (the ledger's least amount), 1e-6 REC = 0.05 KRW -> 0; C nothing; the tenant-owned plant "own" hosted by
    # C sells through C (rec_owner), which holds nothing. Retired RECs stay with their claimant.
    from re100sim.simulator.rules.certification import RPS_MARKET, sell_recs_quarterly

    led = CertificateLedger()
    led.issue("rec", "fc", SEP, 10.0, owner="fc", weight=1.9)
    led.issue("rec", "roof", SEP, 2.0, owner="A", weight=1.5)
    led.issue("rec", "roof", SEP, 1e-6, owner="B", weight=1.0)
    kept = led.issue("rec", "roof", SEP, 5.0, owner="A", weight=1.5)
    led.retire_batch(kept, "A", "A", 2025)
    model = rec_market(led, [plant("fc"), plant("own", owner="tenant", host_tenant="C")])
    sell_recs_quarterly(model, SEP, 50_000.0)
    assert [line[:4] + (round(line[4], 9),) + line[5:] for line in model.ledger.lines] == [
        (SEP, RPS_MARKET, "A", "rec_sale", 3.0, "REC", 150_000),
        (SEP, RPS_MARKET, "B", "rec_sale", 1e-6, "REC", 0),
        (SEP, RPS_MARKET, "fc", "rec_sale", 19.0, "REC", 950_000)]
    assert led.held(RPS_MARKET, "rec") == pytest.approx(12.000001)  # 10 + 2 + 1e-6 MWh
    assert led.held("A") == led.held("B") == led.held("fc") == 0.0 and led.batch(kept).status == "retired"


def test_year_end_rec_purchase_closes_the_gap_from_the_market_then_outside():
    # docs/domain.md#certificates: a target tenant buys unbundled RECs for target x use - what it claimed that
    # year, in the order of the targets, from the market (oldest first) and then from plants outside the
    # complex at weight 1. The market holds 12 MWh of fc's RECs (weight 1.9).
    # D: 10 % of 50 MWh = 5, claimed none: 5 MWh from the market, 9.5 RECs x 50,000 = 475,000 KRW.
    # A: 50 % of 100 MWh = 50, claimed 20 in 2026 (its 7 MWh of 2025 do not count) -> needs 30; the market has
    # 7 MWh left, so 23 come from outside: 7 x 1.9 + 23 = 36.3 RECs = 1,815,000 KRW, all retired for 2026.
    # B: 10 % of 50 MWh = 5 <= its 6 claimed: buys nothing. C: 100 % of 1 Wh, claimed none: 1 Wh (the ledger's
    # least amount) from outside, 1e-6 REC = 0.05 KRW -> 0.
    from re100sim.simulator.rules.certification import EXTERNAL_REC_SOURCE, RPS_MARKET, buy_recs_for_targets

    led = CertificateLedger()
    dec = mk(2026, 12)
    led.register_generation("fc", mk(2026, 3), 12.0)
    led.issue("rec", "fc", mk(2026, 3), 12.0, owner=RPS_MARKET, weight=1.9)
    for tenant, mwh, year in (("A", 20.0, 2026), ("A", 7.0, 2025), ("B", 6.0, 2026)):
        b = led.issue("premium", "green_premium", mk(year, 5), mwh, owner=tenant)
        led.retire_batch(b, tenant, tenant, year)
    model = rec_market(led, tenants=("A", "B", "C", "D"), targets=[("D", 10.0), ("A", 50.0), ("B", 10.0),
                                                                 ("C", 100.0)])
    buy_recs_for_targets(model, dec, np.array([100.0, 50.0, 1e-6, 50.0]), 50_000.0)
    assert [line[:4] + (round(line[4], 9),) + line[5:] for line in model.ledger.lines] == [
        (dec, "D", RPS_MARKET, "rec_purchase", 9.5, "REC", 475_000),
        (dec, "A", RPS_MARKET, "rec_purchase", 36.3, "REC", 1_815_000),
        (dec, "C", RPS_MARKET, "rec_purchase", 1e-6, "REC", 0)]
    assert [led.retired(t, 2026) for t in "ABCD"] == [50.0, 6.0, 1e-6, 5.0]
    assert led.retired("A", 2025) == 7.0 and led.held(RPS_MARKET) == 0.0
    ext = led.batches_frame().query("source == @EXTERNAL_REC_SOURCE")
    assert sorted(ext.mwh.round(9)) == [1e-6, 23.0] and set(ext.weight) == {1.0} and set(ext.month) == {"2026-12"}
    assert led.generated(EXTERNAL_REC_SOURCE, dec) == pytest.approx(23.000001)  # registered: no finding
    assert led.findings() == []
    assert_consistent(led)


def test_one_wh_of_green_tariff_energy_is_certified():
    # The ledger's least amount: a pool plant delivered 100 kWh and A was allocated 0.001 kWh = 1 Wh of it: one
    # green certificate batch of 1 Wh (1e-6 MWh, 0.001 certificate: one per kWh), issued to KEPCO, passed to A
    # and retired by A.
    f = certify([plant("P")], gen_pool=[1], green_kwh=[0.001, 0.0], r={"gen_kwh": [100.0]})
    green = f[f.kind == "green"]
    assert green[["owner", "status", "claimant"]].values.tolist() == [["A", "retired", "A"]]
    assert green.mwh.tolist() == [1e-6] and green.certificates.tolist() == pytest.approx([0.001])

"""Tests for re100sim.simulator.inputs.load: annual scaling, peaks, shapes (docs/domain.md#load-shapes), metering files."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from re100sim.simulator.inputs.calendar import (
    DAY_SATURDAY,
    DAY_SUNDAY_HOLIDAY,
    DAY_WEEKDAY,
    build_calendar,
)
from re100sim.simulator.inputs.load import (
    ARCHETYPES,
    LoadParams,
    ProfileFileError,
    archetype_load_factor,
    example_profile,
    load_factor_range,
    natural_load_factor,
    profile_for_block,
    read_profile_file,
    tenant_load_kw,
    tenants_load_kw,
)
from re100sim.simulator.scenario.year_inputs_reference import reference_block_loads_kw

REPO = Path(__file__).resolve().parent.parent
EXAMPLE_CSV = REPO / "scenarios" / "profiles" / "example_two_shift_8760.csv"


@pytest.fixture(scope="module")
def cal2025():
    return build_calendar(dt.date(2025, 1, 1), dt.date(2026, 1, 1))


def rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


# ---------------------------------------------------------------- scaling


@pytest.mark.parametrize("archetype", ARCHETYPES)
@pytest.mark.parametrize("peak_factor", [None, 1.0])
def test_non_leap_year_sums_to_annual_use(cal2025, archetype, peak_factor):
    use = 1234.5
    peak = None
    if peak_factor is not None:  # a reachable peak: midway in the archetype's range
        lo, hi = load_factor_range(archetype)
        peak = use * 1000 / 8760 / (0.5 * (lo + hi)) * 1.1
    load = tenant_load_kw(cal2025, archetype, use, peak, LoadParams(), rng(3))
    assert load.shape == (8760,)
    assert np.all(load > 0)
    assert abs(load.sum() / (use * 1000) - 1.0) < 1e-6


def test_partial_blocks_add_up(cal2025):
    # Two half-year blocks with independent noise still carry exactly the annual total.
    a = build_calendar(dt.date(2025, 1, 1), dt.date(2025, 7, 1))
    b = build_calendar(dt.date(2025, 7, 1), dt.date(2026, 1, 1))
    la = tenant_load_kw(a, "one_shift", 800.0, None, LoadParams(), rng(1))
    lb = tenant_load_kw(b, "one_shift", 800.0, None, LoadParams(), rng(2))
    assert abs((la.sum() + lb.sum()) / 800e3 - 1.0) < 1e-9
    # the first half's share equals the deterministic share (noise-free run)
    quiet = LoadParams(noise_cv=0.0, daily_cv=0.0)
    full = tenant_load_kw(cal2025, "one_shift", 800.0, None, quiet, rng(0))
    np.testing.assert_allclose(la.sum(), full[: a.n_hours].sum(), rtol=1e-9)


def test_block_across_year_boundary_and_leap_year():
    # July-to-July block: each calendar year's hours are scaled by that year's own total.
    cal = build_calendar(dt.date(2027, 7, 1), dt.date(2028, 7, 1))
    load = tenant_load_kw(cal, "continuous", 1000.0, None, LoadParams(), rng(0))
    assert 0.99 < load.sum() / 1e6 < 1.01
    # a leap year carries one extra day on top of the annual use
    leap = build_calendar(dt.date(2028, 1, 1), dt.date(2029, 1, 1))
    total = tenant_load_kw(leap, "continuous", 1000.0, None, LoadParams(), rng(0)).sum() / 1e6
    assert 1.0 + 0.5 / 365 < total < 1.0 + 1.5 / 365


# ---------------------------------------------------------------- peaks


@pytest.mark.parametrize(
    "archetype, use_mwh, peak_kw",
    [("one_shift", 1000.0, 400.0), ("two_shift", 2000.0, 420.0), ("continuous", 5000.0, 760.0)],
)
def test_peak_close_to_requested(cal2025, archetype, use_mwh, peak_kw):
    peaks = [tenant_load_kw(cal2025, archetype, use_mwh, peak_kw, LoadParams(), rng(s)).max() for s in range(8)]
    assert abs(np.mean(peaks) / peak_kw - 1.0) < 0.05
    assert all(abs(p / peak_kw - 1.0) < 0.10 for p in peaks)


def test_impossible_load_factor_raises(cal2025):
    # 1,000 MWh at 130 kW peak -> LF 0.88: impossible for a one-shift plant
    with pytest.raises(ValueError, match="load factor") as exc:
        tenant_load_kw(cal2025, "one_shift", 1000.0, 130.0, LoadParams(), rng())
    assert "one_shift" in str(exc.value) and "expected peak_kw between" in str(exc.value)
    # peak below the mean load (LF > 1) is impossible for any archetype
    with pytest.raises(ValueError, match="load factor"):
        tenant_load_kw(cal2025, "continuous", 8760.0, 900.0, LoadParams(), rng())
    with pytest.raises(ValueError, match="peak_kw"):
        tenant_load_kw(cal2025, "continuous", 100.0, -5.0, LoadParams(), rng())
    with pytest.raises(ValueError, match="annual_use_mwh"):
        tenant_load_kw(cal2025, "continuous", 0.0, None, LoadParams(), rng())
    with pytest.raises(ValueError, match="archetype"):
        tenant_load_kw(cal2025, "three_shift", 100.0, None, LoadParams(), rng())


def test_natural_load_factors_ordered(cal2025):
    lf = {}
    for a in ARCHETYPES:
        load = tenant_load_kw(cal2025, a, 1000.0, None, LoadParams(), rng(4))
        lf[a] = load.mean() / load.max()
    # docs/domain.md#load-shapes: continuous processes have a high load factor
    assert lf["continuous"] > 0.65
    assert lf["continuous"] > lf["two_shift"] > lf["one_shift"]
    assert 0.25 < lf["one_shift"] < 0.5
    for a in ARCHETYPES:
        lo, hi = load_factor_range(a)
        assert lo < natural_load_factor(a) < hi
        assert natural_load_factor(a) < archetype_load_factor(a)  # noise lifts the peak
        assert abs(lf[a] / natural_load_factor(a) - 1.0) < 0.06


@pytest.mark.parametrize("archetype", ARCHETYPES)
def test_natural_load_factor_predicts_realised_peak(cal2025, archetype):
    expected_peak = 1000.0 * 1000 / (8760 * natural_load_factor(archetype))
    peaks = [tenant_load_kw(cal2025, archetype, 1000.0, None, LoadParams(), rng(s)).max() for s in range(6)]
    assert abs(np.mean(peaks) / expected_peak - 1.0) < 0.05


# ---------------------------------------------------------------- shapes


def test_day_types_and_lunch_dip(cal2025):
    load = tenant_load_kw(cal2025, "one_shift", 1000.0, None, LoadParams(), rng(5))
    dtp, h = cal2025.day_type, cal2025.hour
    wk, sat, sun = (load[dtp == d].mean() for d in (DAY_WEEKDAY, DAY_SATURDAY, DAY_SUNDAY_HOLIDAY))
    assert wk > sat > sun
    assert wk > 1.8 * sun
    # lunch dip 11:30-12:30 (docs/domain.md#load-shapes): hour 12 below hours 11 and 13 on weekdays
    hourly = np.array([load[(dtp == DAY_WEEKDAY) & (h == k)].mean() for k in range(24)])
    assert hourly[12] < hourly[11] and hourly[12] < hourly[13]
    # afternoon peak 13-15 h (docs/domain.md#load-shapes case study)
    assert int(np.argmax(hourly)) in (13, 14, 15)
    assert hourly[3] < 0.35 * hourly.max()


def test_seasonal_cooling_and_heating(cal2025):
    load = tenant_load_kw(cal2025, "two_shift", 1000.0, None, LoadParams(), rng(6))
    # weekday means, so that holidays (e.g. Seollal in January) do not mask the season
    wk = cal2025.day_type == DAY_WEEKDAY
    m = np.array([load[wk & (cal2025.month == k)].mean() for k in range(1, 13)])
    assert m[7] > m[3] and m[6] > m[9]  # cooling: Aug > Apr, Jul > Oct
    assert m[0] > m[3]  # heating: Jan > Apr


def test_determinism_and_noise(cal2025):
    a = tenant_load_kw(cal2025, "two_shift", 500.0, None, LoadParams(), rng(9))
    b = tenant_load_kw(cal2025, "two_shift", 500.0, None, LoadParams(), rng(9))
    c = tenant_load_kw(cal2025, "two_shift", 500.0, None, LoadParams(), rng(10))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    quiet = tenant_load_kw(cal2025, "two_shift", 500.0, None, LoadParams(noise_cv=0, daily_cv=0), rng(9))
    cv = np.std(a / quiet)
    assert 0.02 < cv < 0.09  # noise_cv 0.04 hourly + daily_cv 0.03


@pytest.mark.parametrize("archetype", ARCHETYPES)
def test_tenants_generated_together_equal_each_alone(archetype):
    # A block across a year boundary and a leap day (per-year scaling in two parts), one tenant
    # reshaped to a peak: each row of the batch is bit-for-bit the tenant generated on its own, in
    # any order and batch size, so vectorising over tenants changes no number (issue 12).
    cal = build_calendar(dt.date(2027, 7, 1), dt.date(2028, 7, 1))
    lo, hi = load_factor_range(archetype)
    uses = [100.0, 2500.0, 7.3]
    peaks = [None, 2500.0 * 1000.0 / (8760.0 * (lo + hi) / 2), None]
    together = tenants_load_kw(cal, archetype, uses, peaks, LoadParams(), [rng(s) for s in (5, 6, 7)])
    assert together.shape == (3, cal.n_hours)
    for i, s in enumerate((5, 6, 7)):
        alone = tenant_load_kw(cal, archetype, uses[i], peaks[i], LoadParams(), rng(s))
        np.testing.assert_array_equal(together[i], alone)
    reversed_ = tenants_load_kw(cal, archetype, uses[::-1], peaks[::-1], LoadParams(), [rng(s) for s in (7, 6, 5)])
    np.testing.assert_array_equal(reversed_[::-1], together)


def test_params_validation():
    with pytest.raises(ValidationError, match="expected 12"):
        LoadParams(monthly_factor=(1.0,) * 10)
    with pytest.raises(ValidationError):
        LoadParams(noise_cv=-0.1)
    with pytest.raises(ValidationError):
        LoadParams(extra_thing=1)


# ---------------------------------------------------------------- metering files


def _write(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n")
    return path


def test_example_profile_file_reads_and_matches_generator():
    x = read_profile_file(EXAMPLE_CSV)
    assert x.shape == (8760,)
    assert EXAMPLE_CSV.read_text().splitlines()[0] == "kw"
    np.testing.assert_allclose(x, example_profile(), atol=6e-4)
    assert abs(x.sum() / 2.0e6 - 1.0) < 1e-5


def test_csv_variants(tmp_path):
    vals = [f"{v:.1f}" for v in np.linspace(10, 20, 8760)]
    no_header = read_profile_file(_write(tmp_path / "a.csv", vals))
    with_header = read_profile_file(_write(tmp_path / "b.csv", ["load_kw"] + vals))
    multi = read_profile_file(_write(tmp_path / "c.csv", ["time,KW"] + [f"t{i},{v}" for i, v in enumerate(vals)]))
    np.testing.assert_array_equal(no_header, with_header)
    np.testing.assert_array_equal(no_header, multi)
    assert read_profile_file(_write(tmp_path / "d.csv", vals + vals[:24])).shape == (8784,)
    assert read_profile_file(_write(tmp_path / "e.csv", vals[:48]), horizon_hours=48).shape == (48,)


def test_missing_file(tmp_path):
    with pytest.raises(ProfileFileError, match="missing") as exc:
        read_profile_file(tmp_path / "nope.csv")
    assert isinstance(exc.value, ValueError)
    assert "(expected" in str(exc.value)


def test_wrong_length(tmp_path):
    p = _write(tmp_path / "short.csv", ["kw"] + ["1.0"] * 100)
    with pytest.raises(ProfileFileError, match=r"wrong length, 100 rows \(expected 8760 or 8784"):
        read_profile_file(p)
    with pytest.raises(ProfileFileError, match="or 240 rows for the horizon"):
        read_profile_file(p, horizon_hours=240)


def test_nan_with_row_number(tmp_path):
    lines = ["kw"] + ["5.0"] * 8760
    lines[17] = ""  # data row 17 (file line 18)
    with pytest.raises(ProfileFileError, match=r"NaN .*row 17, file line 18 \(expected"):
        read_profile_file(_write(tmp_path / "nan.csv", lines))
    lines[17] = "NaN"
    with pytest.raises(ProfileFileError, match="row 17"):
        read_profile_file(_write(tmp_path / "nan2.csv", lines))


def test_negative_with_row_number(tmp_path):
    lines = ["5.0"] * 8760  # no header: row N is line N
    lines[41] = "-3.5"
    with pytest.raises(ProfileFileError, match=r"negative value -3.5 at row 42, file line 42 \(expected kW >= 0\)"):
        read_profile_file(_write(tmp_path / "neg.csv", lines))


def test_non_numeric_and_unreadable(tmp_path):
    lines = ["kw"] + ["5.0"] * 8760
    lines[5] = "abc"
    with pytest.raises(ProfileFileError, match="non-numeric value 'abc' at row 5"):
        read_profile_file(_write(tmp_path / "txt.csv", lines))
    bad = tmp_path / "bin.csv"
    bad.write_bytes(b"\xff\xfe\xfa\x00\x81" * 100)
    with pytest.raises(ProfileFileError, match="unreadable|non-numeric"):
        read_profile_file(bad)
    with pytest.raises(ProfileFileError, match="no header column named 'kw'"):
        read_profile_file(_write(tmp_path / "two.csv", ["a,b"] + ["1,2"] * 8760))
    with pytest.raises(ProfileFileError, match="empty"):
        read_profile_file(_write(tmp_path / "empty.csv", []))


def test_parquet(tmp_path):
    pytest.importorskip("pyarrow")
    v = np.full(8760, 7.0)
    p = tmp_path / "p.parquet"
    pd.DataFrame({"ts": np.arange(8760), "kw": v}).to_parquet(p)
    np.testing.assert_array_equal(read_profile_file(p), v)
    v[99] = np.nan
    pd.DataFrame({"kw": v}).to_parquet(p)
    with pytest.raises(ProfileFileError, match="NaN at row 100"):
        read_profile_file(p)
    v[99] = -1.0
    pd.DataFrame({"power": v}).to_parquet(p)
    with pytest.raises(ProfileFileError, match="negative value -1 at row 100"):
        read_profile_file(p)


# ---------------------------------------------------------------- profile_for_block


def test_typical_year_onto_non_leap_and_leap_blocks(cal2025):
    prof = np.arange(8760, dtype=float)
    np.testing.assert_array_equal(profile_for_block(prof, cal2025, 0), prof)
    leap = build_calendar(dt.date(2028, 2, 27), dt.date(2028, 3, 3))
    out = profile_for_block(prof, leap, 12345)
    feb28 = (leap.month == 2) & (leap.day == 28)
    feb29 = (leap.month == 2) & (leap.day == 29)
    mar1 = (leap.month == 3) & (leap.day == 1)
    np.testing.assert_array_equal(out[feb29], out[feb28])  # 29 Feb repeats 28 Feb
    np.testing.assert_array_equal(out[mar1], prof[59 * 24 : 60 * 24])  # 1 March = day 60 of 365
    # an 8784 profile skips its 29 Feb slot in a non-leap year
    p8784 = np.arange(8784, dtype=float)
    mar = build_calendar(dt.date(2025, 3, 1), dt.date(2025, 3, 2))
    np.testing.assert_array_equal(profile_for_block(p8784, mar, 0), p8784[60 * 24 : 61 * 24])


def test_horizon_profile_slicing():
    cal = build_calendar(dt.date(2026, 1, 1), dt.date(2026, 1, 3))
    horizon = np.arange(100.0)
    np.testing.assert_array_equal(profile_for_block(horizon, cal, 24), horizon[24:72])
    with pytest.raises(ValueError, match="expected at least"):
        profile_for_block(horizon, cal, 60)
    # an 8760-long array can be forced to be read as a horizon
    np.testing.assert_array_equal(
        profile_for_block(np.arange(8760.0), cal, 100, kind="horizon"), np.arange(100.0, 148.0)
    )


def _one_tenant_reference(cal, archetype, use_mwh, peak_kw, params, rng):
    """The load model one tenant at a time, as first written (before batching): shape x monthly
    factor x per-year scale, times exp(daily AR(1) + hourly AR(1)) drawn with ar1_stationary from
    the tenant's own generator, renormalised to the block's deterministic total."""
    from re100sim.simulator.inputs.load import _gamma, _monthly, _shape, _year_counts
    from re100sim.simulator.rng import ar1_stationary

    monthly = _monthly(archetype, params.monthly_factor)
    shape = _shape(archetype, _gamma(archetype, use_mwh, peak_kw, params))
    base = monthly[cal.month.astype(np.int64) - 1] * shape[cal.day_type.astype(np.int64), cal.hour.astype(np.int64)]
    for y in np.unique(cal.year):
        base[cal.year == y] *= use_mwh * 1000.0 / float((_year_counts(int(y)) * (monthly[:, None, None] * shape)).sum())
    n = cal.n_hours
    x = ar1_stationary(-(-n // 24), params.daily_autocorr, float(np.sqrt(np.log1p(params.daily_cv**2))), rng)[np.arange(n) // 24]
    x += ar1_stationary(n, params.noise_autocorr, float(np.sqrt(np.log1p(params.noise_cv**2))), rng)
    load = base * np.exp(x)
    return load * (base.sum() / load.sum())


@pytest.mark.parametrize("start", [dt.date(2025, 1, 1), dt.date(2027, 7, 1)])  # one calendar year; two, with 29 Feb
@pytest.mark.parametrize("peaks", ["natural", "mixed"])
def test_batched_loads_equal_the_one_tenant_reference_bit_for_bit(start, peaks):
    # Batching shares work between tenants (one shape row for all tenants on the natural load
    # factor, AR(1) filters over rows); no number may change: byte-identical outputs (issue 12).
    cal = build_calendar(start, dt.date(start.year + 1, start.month, 1))
    lo, hi = load_factor_range("two_shift")
    uses = [100.0, 2500.0, 7.3, 900.0]
    peak = [None] * 4 if peaks == "natural" else [None, 2500.0 * 1000.0 / (8760.0 * (lo + hi) / 2), None, None]
    got = tenants_load_kw(cal, "two_shift", uses, peak, LoadParams(), [rng(s) for s in range(4)])
    for i in range(4):
        want = _one_tenant_reference(cal, "two_shift", uses[i], peak[i], LoadParams(), rng(i))
        assert got[i].tobytes() == want.tobytes(), i


def test_block_totals_are_the_column_sums_number_for_number():
    # The forecast keeps each tenant's block total from generation (a contiguous row) instead of
    # gathering the (H, T) array's columns later: it must be the same float as the column sum.
    from re100sim.scenarios import bundled_scenarios
    from re100sim.simulator.rng import StreamFamily, stream
    from re100sim.simulator.scenario.config import load_scenario
    from re100sim.simulator.scenario.population import expand_tenants
    from re100sim.simulator.scenario.year_inputs import block_loads_kw

    sc = load_scenario(bundled_scenarios()["smart-green-complex"])
    tenants = expand_tenants(sc)
    cal = build_calendar(dt.date(2027, 7, 1), dt.date(2028, 7, 1))
    totals = np.full(len(tenants), np.nan)
    load = block_loads_kw(sc, tenants, 2, cal, StreamFamily(sc.seed, "forecast_load"), totals_kwh=totals)
    assert totals.tobytes() == load[:, np.arange(len(tenants))].sum(0).tobytes()
    # the same loads with or without bulk seeding
    assert load.tobytes() == block_loads_kw(sc, tenants, 2, cal, lambda i: stream(sc.seed, "forecast_load", i)).tobytes()


def test_forecast_totals_follow_its_loads():
    # Options read each tenant's expected kWh from the forecast's totals; a forecast whose loads are
    # replaced (adopted demand-side measures, market/round.py) must carry the totals of the new loads,
    # number for number what summing the new load's columns gives.
    from re100sim.scenarios import bundled_scenarios
    from re100sim.simulator.engine import ComplexModel
    from re100sim.simulator.market.forecast import build_forecast
    from re100sim.simulator.scenario.config import load_scenario
    from re100sim.simulator.scenario.population import expand_tenants

    sc = load_scenario(bundled_scenarios()["smart-green-complex"])
    model = ComplexModel(sc.model_copy(update={"years": 1}), expand_tenants(sc))
    a, b = model.blocks[0]
    fc = build_forecast(model, 0, build_calendar(a, b))
    T = fc.load_kw.shape[1]
    assert fc.load_kwh_total.tobytes() == fc.load_kw[:, np.arange(T)].sum(0).tobytes()
    lower = fc.with_load(fc.load_kw * 0.9)  # e.g. 10 % saved
    assert lower.load_kwh_total.tobytes() == (fc.load_kw * 0.9)[:, np.arange(T)].sum(0).tobytes()
    assert lower.load_kwh_total.sum() == pytest.approx(0.9 * fc.load_kwh_total.sum())  # 10 % less use


# ---------------------------------------------------------------- the fast layout against the plain version

from re100sim.simulator.inputs.load_reference import reference_tenants_load_kw  # noqa: E402


def _mixed_peaks(archetype: str, uses: list[float]) -> list[float | None]:
    """Every third tenant on its natural load factor, the others at load factors across the reachable range."""
    lo, hi = load_factor_range(archetype)
    return [None if i % 3 == 0 else u * 1000.0 / (8760.0 * (lo + (hi - lo) * (0.05 + 0.9 * (i % 7) / 7)))
            for i, u in enumerate(uses)]


@pytest.mark.parametrize("start, end", [
    (dt.date(2025, 1, 1), dt.date(2026, 1, 1)),   # one non-leap calendar year
    (dt.date(2028, 1, 1), dt.date(2029, 1, 1)),   # a leap year (8,784 h)
    (dt.date(2027, 7, 1), dt.date(2028, 7, 1)),   # two calendar years, with 29 Feb
    (dt.date(2027, 12, 20), dt.date(2028, 1, 9)),  # 20 days over new year: shorter than one AR(1) block of days
    (dt.date(2026, 3, 1), dt.date(2026, 3, 2)),   # one day: a one-step daily series
])
@pytest.mark.parametrize("archetype", ARCHETYPES)
def test_loads_equal_the_plain_batched_version_bit_for_bit(start, end, archetype):
    # tenants_load_kw works in sub-blocks of tenants with reused padded buffers and a gathered profile
    # table; every number must be what the plain version (main before issue 12's speed work) gives.
    cal = build_calendar(start, end)
    uses = [float(u) for u in np.random.default_rng(3).lognormal(np.log(900.0), 1.0, 13)]
    peaks = _mixed_peaks(archetype, uses)
    want = reference_tenants_load_kw(cal, archetype, uses, peaks, LoadParams(), [rng(s) for s in range(13)])
    for sub in (1, 3, 8, 64):  # 13 tenants: a partial last sub-block, or all in one
        got = tenants_load_kw(cal, archetype, uses, peaks, LoadParams(), [rng(s) for s in range(13)], sub=sub)
        assert got.tobytes() == want.tobytes(), sub


@pytest.mark.parametrize("params", [
    LoadParams(noise_autocorr=0.0, daily_autocorr=0.0),  # white noise: no AR(1) filter
    LoadParams(noise_cv=0.0),  # no hourly noise
    LoadParams(daily_cv=0.0, noise_cv=0.0),  # no noise at all: the deterministic profile
    LoadParams(noise_cv=0.3, noise_autocorr=0.95, daily_cv=0.2, daily_autocorr=0.9,
               monthly_factor=(1.3, 1.2, 1.0, 0.8, 0.7, 0.9, 1.4, 1.5, 1.1, 0.8, 0.9, 1.2)),
])
def test_loads_equal_the_plain_version_for_edge_parameters(params):
    cal = build_calendar(dt.date(2027, 7, 1), dt.date(2028, 7, 1))
    uses = [120.0, 5000.0, 33.3, 900.0, 2500.0]
    want = reference_tenants_load_kw(cal, "one_shift", uses, [None] * 5, params, [rng(s) for s in range(5)])
    got = tenants_load_kw(cal, "one_shift", uses, [None] * 5, params, [rng(s) for s in range(5)], sub=2)
    assert got.tobytes() == want.tobytes()
    assert tenants_load_kw(cal, "one_shift", [], [], params, []).shape == (0, 8784)  # no tenant: no rows


def test_block_loads_equal_the_plain_version_with_metering_files_and_chunk_boundaries():
    # Archetype groups interleaved (non-adjacent columns), metering-file tenants between them, chunks
    # of 5 that split groups, the forecast's totals: the (H, T) array and the totals are the plain
    # version's bytes.
    import dataclasses

    from re100sim.scenarios import bundled_scenarios
    from re100sim.simulator.rng import StreamFamily
    from re100sim.simulator.scenario.config import load_scenario
    from re100sim.simulator.scenario.population import expand_tenants
    from re100sim.simulator.scenario.year_inputs import block_loads_kw

    sc = load_scenario(bundled_scenarios()["smart-green-complex"])
    specs = expand_tenants(sc)[::7]  # 43 of 300: the three archetypes
    profile = example_profile()
    tenants = [dataclasses.replace(s, profile_kw=profile) if t % 7 == 3 else s
               for t, s in enumerate(specs[::3] + specs[1::3] + specs[2::3])]
    assert len({s.archetype for s in tenants}) == 3 and sum(s.profile_kw is not None for s in tenants) > 2
    cal = build_calendar(dt.date(2027, 7, 1), dt.date(2028, 7, 1))
    for family in (StreamFamily(sc.seed, "load", (2,)), StreamFamily(sc.seed, "forecast_load")):
        want_totals, got_totals = np.full(len(tenants), np.nan), np.full(len(tenants), np.nan)
        want = reference_block_loads_kw(sc, tenants, 2, cal, family, chunk=5, totals_kwh=want_totals)
        for chunk in (5, 64):
            got = block_loads_kw(sc, tenants, 2, cal, family, chunk=chunk, totals_kwh=got_totals)
            assert got.tobytes() == want.tobytes(), chunk
            assert got_totals.tobytes() == want_totals.tobytes(), chunk


@settings(max_examples=30, deadline=None)
@given(
    start=st.dates(dt.date(2024, 1, 1), dt.date(2031, 12, 31)),
    days=st.integers(1, 420),
    archetype=st.sampled_from(ARCHETYPES),
    uses=st.lists(st.floats(1.0, 50000.0), min_size=1, max_size=11),
    phis=st.tuples(st.sampled_from([0.0, 0.3, 0.6, 0.95]), st.sampled_from([0.0, 0.5, 0.9])),
    sub=st.integers(1, 9),
    seed=st.integers(0, 2**32 - 1),
)
def test_random_blocks_equal_the_plain_version_bit_for_bit(start, days, archetype, uses, phis, sub, seed):
    # Any block length (AR(1) blocks cut anywhere, daily series shorter or longer than one block),
    # calendar years, tenant counts against the sub-block size, autocorrelations with and without
    # the filter: the bytes of the plain version.
    cal = build_calendar(start, start + dt.timedelta(days=days))
    params = LoadParams(noise_autocorr=phis[0], daily_autocorr=phis[1])
    peaks = _mixed_peaks(archetype, uses)
    want = reference_tenants_load_kw(cal, archetype, uses, peaks, params,
                                                 [rng(seed + i) for i in range(len(uses))])
    got = tenants_load_kw(cal, archetype, uses, peaks, params, [rng(seed + i) for i in range(len(uses))], sub=sub)
    assert got.tobytes() == want.tobytes()


# ---------------------------------------------------------------- the (hours, tenants) block's memory
def test_rows_into_columns_is_the_transposed_assignment():
    from re100sim.ext._loads import rows_into_columns

    rows = np.random.default_rng(1).random((3, 50))
    out, want = np.zeros((50, 7)), np.zeros((50, 7))
    for cols in ([2, 3, 4], [6, 0, 3]):  # adjacent, and scattered in any order
        rows_into_columns(rows, out, np.array(cols, dtype=np.intp))
        want[:, cols] = rows.T
        assert out.tobytes() == want.tobytes()
    with pytest.raises(ValueError, match="do not match"):
        rows_into_columns(rows, out, np.array([0, 1], dtype=np.intp))
    with pytest.raises(IndexError, match="column 7 outside"):
        rows_into_columns(rows, out, np.array([0, 1, 7], dtype=np.intp))


def test_a_load_block_reuses_memory_only_when_nothing_holds_it():
    from re100sim.simulator.scenario.year_inputs import _load_block

    a = _load_block(48, 5)
    where = a.ctypes.data
    del a
    b = _load_block(48, 5)  # the last block, nothing refers to it: the same memory
    assert b.ctypes.data == where and b.shape == (48, 5) and b.flags.c_contiguous
    b[:] = 1.0
    kept = b[:, 2]  # a view of it is still alive (e.g. the forecast a decision kept)
    del b
    c = _load_block(48, 5)
    c[:] = 2.0
    assert c.ctypes.data != where and (kept == 1.0).all()  # new memory: the kept view is untouched
    del kept, c
    assert _load_block(24, 5).ctypes.data != where  # a block under half its size lets the large one go


def test_a_forecast_kept_past_the_next_blocks_loads_is_unchanged():
    from re100sim.scenarios import bundled_scenarios
    from re100sim.simulator.rng import StreamFamily
    from re100sim.simulator.scenario.config import load_scenario
    from re100sim.simulator.scenario.population import expand_tenants
    from re100sim.simulator.scenario.year_inputs import block_loads_kw

    sc = load_scenario(bundled_scenarios()["smart-green-complex"])
    tenants = expand_tenants(sc)[:20]
    cal = build_calendar(dt.date(2027, 1, 1), dt.date(2028, 1, 1))
    first = block_loads_kw(sc, tenants, 1, cal, StreamFamily(sc.seed, "load", (1,)))
    before = first.tobytes()
    second = block_loads_kw(sc, tenants, 2, cal, StreamFamily(sc.seed, "load", (2,)))
    assert first.tobytes() == before and second.tobytes() != before


@pytest.mark.parametrize("interleaved", [False, True])  # each archetype's tenants adjacent (views), or not (copies)
def test_forecast_noise_is_drawn_once_per_block_length_and_reused_bit_for_bit(interleaved):
    # The forecast's generators have no year in their seeds, so each 365-day forecast draws the same noise:
    # the first is kept (NoiseCache) and the later ones of that length read it instead of drawing; a leap
    # year draws its own. Every load and total is the one drawn afresh, bit for bit.
    from re100sim.scenarios import bundled_scenarios
    from re100sim.simulator.rng import StreamFamily
    from re100sim.simulator.scenario.config import load_scenario
    from re100sim.simulator.scenario.population import expand_tenants
    from re100sim.simulator.scenario.year_inputs import NoiseCache, block_loads_kw

    sc = load_scenario(bundled_scenarios()["smart-green-complex"])
    tenants = expand_tenants(sc)[::10]  # 30 tenants, three archetypes
    if interleaved:
        tenants = tenants[::3] + tenants[1::3] + tenants[2::3]
    assert len({s.archetype for s in tenants}) == 3
    family = StreamFamily(sc.seed, "forecast_load")
    cache = NoiseCache()

    def no_draws(t):
        raise AssertionError(f"tenant {t}'s noise was drawn again")

    for k, year in enumerate((2026, 2027, 2028, 2029)):
        cal = build_calendar(dt.date(year, 1, 1), dt.date(year + 1, 1, 1))
        want_totals, got_totals = np.full(len(tenants), np.nan), np.full(len(tenants), np.nan)
        want = block_loads_kw(sc, tenants, k, cal, family, totals_kwh=want_totals).copy()
        rng_of = no_draws if year in (2027, 2029) else family  # 2027 and 2029: read from the cache only
        got = block_loads_kw(sc, tenants, k, cal, rng_of, totals_kwh=got_totals, noise_cache=cache)
        assert got.tobytes() == want.tobytes() and got_totals.tobytes() == want_totals.tobytes(), year
        assert cache.n_hours == 8760  # the first length seen, not the leap year's
    with pytest.raises(AssertionError, match="drawn again"):  # a 366-day block is not in the cache
        block_loads_kw(sc, tenants, 2, build_calendar(dt.date(2028, 1, 1), dt.date(2029, 1, 1)), no_draws,
                       noise_cache=cache)


def test_a_forecast_block_stopped_part_way_leaves_the_noise_cache_empty():
    # A later block must never read rows the failed block did not write.
    import dataclasses

    from re100sim.scenarios import bundled_scenarios
    from re100sim.simulator.rng import StreamFamily
    from re100sim.simulator.scenario.config import load_scenario
    from re100sim.simulator.scenario.population import expand_tenants
    from re100sim.simulator.scenario.year_inputs import NoiseCache, block_loads_kw

    sc = load_scenario(bundled_scenarios()["smart-green-complex"])
    tenants = expand_tenants(sc)[::10]
    tenants[-1] = dataclasses.replace(tenants[-1], peak_kw=1.0)  # a load factor far above 1: unreachable
    cache = NoiseCache()
    cal = build_calendar(dt.date(2026, 1, 1), dt.date(2027, 1, 1))
    with pytest.raises(ValueError, match="load factor"):
        block_loads_kw(sc, tenants, 0, cal, StreamFamily(sc.seed, "forecast_load"), noise_cache=cache)
    assert cache.n_hours is None and cache.noise is None

"""The information set of a decision: what agents know at a decision time (docs/decisions.md#information-set).

A :class:`Forecast` is built at each decision time from the scenario (the models, not their
realised draws) and the history observed so far (:class:`MarketHistory`). The decision round
reads only the Forecast: the year's realised inputs are built after the round, so no decision
can reach a realised future array. The expectation rules:

- PV: the solar model's mean output over ``SOLAR_FORECAST_DRAWS`` fixed forecast draws (its
  long-run expected yield and shape), never the realised draw of the coming year;
- SMP and REC: the trailing 12-month means of the observed history (before the run: the
  scenario's price path for those months, its stand-in for the observed market);
- loads: a typical year of the tenant's own load model drawn from a fixed forecast stream (not
  the coming year's noise); a metering file: the year before (the file's first year for the
  first decision, the metering the tenant brought);
- tariffs: the bundled versions and path steps announced by the decision day
  (``announced``, default: the effective day), surcharges in force by then;
- tariff growth: the observed annualised change of the tariff's average price over up to
  ``decisions.tariff_lookback_years``, floored at 0 and capped at ``expected_growth_cap_pct``.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from functools import lru_cache

import numpy as np

from re100sim.simulator.inputs.calendar import HourlyCalendar, build_calendar
from re100sim.simulator.inputs.markets import rec_level_krw_per_rec, smp_krw_per_kwh, smp_level_krw_per_kwh
from re100sim.simulator.inputs.solar import SolarParams, solar_ac_kw
from re100sim.simulator.inputs.tariffs import (
    HourlyRates,
    default_yearly_from,
    hourly_rates,
    known_path,
    known_table,
)
from re100sim.simulator.rng import StreamFamily, stream
from re100sim.simulator.scenario.config import GeneratorSpec, Scenario
from re100sim.simulator.scenario.year_inputs import YearInputs, block_loads_kw, hours_before

# Ten draws put the mean yield within about 1.5 % of the model's long-run mean (year-to-year
# s.d. of the model's annual yield is about 4-5 %, docs/domain.md#solar-yield).
SOLAR_FORECAST_DRAWS = 10
TRAILING_MONTHS = 12


@dataclass
class MarketHistory:
    """What the complex has observed so far, appended after each settled year."""

    month_keys: list[int] = field(default_factory=list)
    smp_krw_per_kwh: list[float] = field(default_factory=list)  # monthly mean SMP
    rec_krw_per_rec: list[float] = field(default_factory=list)  # monthly REC price
    tariff_krw_per_kwh: list[np.ndarray] = field(default_factory=list)  # per settled year, by tariff option

    def observe(self, year: YearInputs) -> None:
        """Record a settled year's monthly SMP means, REC prices and average tariff prices."""
        for m, (month_key, h0, h1) in enumerate(year.calendar.month_bounds()):
            self.month_keys.append(int(month_key))
            self.smp_krw_per_kwh.append(float(year.smp_krw_per_kwh[h0:h1].mean()))
            self.rec_krw_per_rec.append(float(year.rec_price_krw_per_rec[m]))
        self.tariff_krw_per_kwh.append(average_price_krw_per_kwh(year.rates))


@dataclass(frozen=True, eq=False)
class Forecast:
    """Everything a decision at ``as_of`` may use about the coming year (arrays read-only).

    Same field names as :class:`YearInputs` where the meaning is the same, so the bill and
    kernel helpers price a forecast like a realised year."""

    index: int  # year block
    as_of: dt.date
    calendar: HourlyCalendar
    rates: list[HourlyRates]  # by tariff index k: the tariff as announced on ``as_of``
    tariff_price: np.ndarray  # (H, K)
    tariff_tou: np.ndarray  # (H, K) int8
    load_kw: np.ndarray  # (H, T) expected loads
    load_kwh_total: np.ndarray  # (T,) each tenant's expected kWh over the block: load_kw[:, t].sum()
    smp_krw_per_kwh: np.ndarray  # (H,) trailing mean level on the model's hourly shape
    rec_price_krw_per_rec: np.ndarray  # per month of the block: the trailing mean
    pv_kw_per_kw: np.ndarray  # (H,) expected output per kWp, the site's default solar parameters
    plant_kw: np.ndarray  # (H, G) expected output of the plants in place
    tariff_change: np.ndarray  # (K,) announced average price vs last observed year, share (0.1 = +10 %)
    tariff_growth: np.ndarray  # (K,) expected growth per year, share

    def __post_init__(self):
        for name in ("tariff_price", "tariff_tou", "load_kw", "load_kwh_total", "smp_krw_per_kwh", "rec_price_krw_per_rec",
                     "pv_kw_per_kw", "plant_kw", "tariff_change", "tariff_growth"):
            getattr(self, name).flags.writeable = False

    def with_load(self, load_kw: np.ndarray) -> "Forecast":
        """This forecast with other expected loads (e.g. after adopted demand-side measures), the
        per-tenant totals summed again from them (each column as one contiguous run, as before)."""
        totals = load_kw[:, np.arange(load_kw.shape[1])].sum(axis=0)  # F-ordered gather: per-column sums
        return replace(self, load_kw=load_kw, load_kwh_total=totals)

    @property
    def smp_mean_krw_per_kwh(self) -> float:
        return float(self.smp_krw_per_kwh.mean())

    @property
    def rec_mean_krw_per_rec(self) -> float:
        return float(self.rec_price_krw_per_rec.mean())


def build_forecast(model, k: int, cal: HourlyCalendar) -> Forecast:
    """The information set of the decision at the start of year block ``k`` (calendar ``cal``)."""
    sc: Scenario = model.scenario
    as_of: dt.date = model.blocks[k][0]
    hist: MarketHistory = model.history
    table = known_table(model.table, as_of)
    path = known_path(sc.tariff_path, as_of, default_yearly_from(model.table))
    rates = [hourly_rates(cal, table, opt, path) for opt in model.options]
    mk = int(as_of.year * 12 + as_of.month - 1)
    smp_level = trailing_mean(hist.month_keys, hist.smp_krw_per_kwh, mk,
                              lambda keys: smp_level_krw_per_kwh(keys, sc.markets.smp))
    rec_level = trailing_mean(hist.month_keys, hist.rec_krw_per_rec, mk,
                              lambda keys: rec_level_krw_per_rec(keys, sc.markets.rec))
    flat_smp = sc.markets.smp.model_copy(update={"level_override_krw_per_kwh": smp_level, "yearly_drift_pct": 0.0,
                                                 "noise_sd": 0.0, "midday_dip_sd": 0.0})
    offset = hours_before(sc, cal)
    load_total = np.empty(len(model.tenants))
    load = block_loads_kw(sc, [t.spec for t in model.tenants], k, cal, StreamFamily(sc.seed, "forecast_load"),
                          totals_kwh=load_total, offset_hours=max(0, offset - cal.n_hours),
                          noise_cache=model.forecast_noise)  # the same draws every year: kept, not drawn again
    pv = expected_solar_kw_per_kw(sc.seed, sc.site.latitude_deg, sc.site.longitude_deg, SolarParams(), cal)
    plants = np.column_stack([expected_plant_kw(sc, g.spec, cal) for g in model.generators]) \
        if model.generators else np.zeros((cal.n_hours, 0))
    price_now = average_price_krw_per_kwh(rates)
    past = _observed_prices(model)
    change = price_now / past[-1] - 1.0 if past else np.zeros(len(rates))
    dec = sc.decisions
    growth = np.zeros(len(rates))
    if past and dec.tariff_expectation == "adaptive":
        years = min(dec.tariff_lookback_years, len(past))
        growth = np.clip((price_now / past[-years]) ** (1.0 / years) - 1.0, 0.0, dec.expected_growth_cap_pct / 100.0)
    return Forecast(
        index=k, as_of=as_of, calendar=cal, rates=rates,
        tariff_price=np.ascontiguousarray(np.column_stack([r.energy_krw_per_kwh for r in rates])),
        tariff_tou=np.ascontiguousarray(np.column_stack([r.tou_period for r in rates]).astype(np.int8)),
        load_kw=load, load_kwh_total=load_total,
        smp_krw_per_kwh=smp_krw_per_kwh(cal, flat_smp, np.random.default_rng(0)),  # no noise: any generator
        rec_price_krw_per_rec=np.full(len(cal.month_keys()), rec_level),
        pv_kw_per_kw=pv, plant_kw=plants, tariff_change=np.asarray(change, float), tariff_growth=growth,
    )


def trailing_mean(keys: list[int], values: list[float], before_key: int, prior) -> float:
    """Mean over the ``TRAILING_MONTHS`` months before ``before_key``: observed values where the
    history has them, else ``prior(month_keys)`` (the scenario's path for months before the run)."""
    want = np.arange(before_key - TRAILING_MONTHS, before_key)
    seen = dict(zip(keys, values))
    missing = np.array([m for m in want if m not in seen], dtype=np.int64)
    fill = dict(zip(missing.tolist(), np.asarray(prior(missing), float).tolist())) if len(missing) else {}
    return float(np.mean([seen.get(int(m), fill.get(int(m))) for m in want]))


def average_price_krw_per_kwh(rates: list[HourlyRates]) -> np.ndarray:
    """Per tariff option: the hour-weighted mean of energy price + climate + fuel-adjustment charges."""
    return np.array([float((r.energy_krw_per_kwh + r.climate_krw_per_kwh + r.fuel_adj_krw_per_kwh).mean())
                     for r in rates])


def _observed_prices(model) -> list[np.ndarray]:
    """Average tariff prices of the observed years, oldest first: the year before the run (when the
    bundled table covers it) and every settled year."""
    start = model.scenario.start_date
    before = dt.date(start.year - 1, start.month, min(start.day, 28))
    first = []
    if before >= model.table.first_effective_date:
        path = known_path(model.scenario.tariff_path, start, default_yearly_from(model.table))
        cal = build_calendar(before, start)
        first = [average_price_krw_per_kwh([hourly_rates(cal, model.table, opt, path) for opt in model.options])]
    return first + list(model.history.tariff_krw_per_kwh)


@lru_cache(maxsize=32)
def _expected_solar(seed: int, lat: float, lon: float, params: SolarParams, start: dt.date, end: dt.date) -> np.ndarray:
    cal = build_calendar(start, end)
    draws = [solar_ac_kw(cal, 1.0, lat, lon, params, stream(seed, "forecast_solar", i))
             for i in range(SOLAR_FORECAST_DRAWS)]
    out = np.mean(draws, axis=0)
    out.flags.writeable = False
    return out


def expected_solar_kw_per_kw(seed: int, lat: float, lon: float, params: SolarParams, cal: HourlyCalendar) -> np.ndarray:
    """Expected AC output per kWp over ``cal``: the mean of ``SOLAR_FORECAST_DRAWS`` draws of the
    solar model from fixed forecast streams (independent of the realised weather streams)."""
    start = cal.timestamps[0].date()
    end = (cal.timestamps[-1] + np.timedelta64(1, "h")).date()
    return _expected_solar(seed, lat, lon, params, start, end)


def expected_plant_kw(sc: Scenario, spec: GeneratorSpec, cal: HourlyCalendar) -> np.ndarray:
    """Expected hourly output of a plant: solar from the expected yield; a fuel cell at its
    long-run availability; both scaled by forced-outage availability mtbf / (mtbf + mttr)."""
    if spec.technology == "solar_pv":
        kw = spec.capacity_kw * expected_solar_kw_per_kw(sc.seed, sc.site.latitude_deg, sc.site.longitude_deg,
                                                         spec.solar, cal)
    else:
        kw = np.full(cal.n_hours, spec.capacity_kw * spec.availability)
    if spec.outages is not None:
        kw = kw * spec.outages.mtbf_hours / (spec.outages.mtbf_hours + spec.outages.mttr_hours)
    return kw

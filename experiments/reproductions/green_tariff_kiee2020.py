"""`green-tariff-kiee2020`: the green tariff's standard contract price over the SMP history.

The KIEE 2020 green-tariff paper builds the standard contract price from the utility's purchase
price (the monthly weighted SMP paid to <= 1 MW plants), the network cost, a margin and the
certificate costs, fixed or indexed to the monthly SMP, and bills it for the allocated green kWh
instead of the ordinary tariff's energy charges (the basic charge stays). This experiment builds
that price month by month from the simulator's SMP history (``smp_level_krw_per_kwh``) and compares
it with the bundled tariff table's energy, climate and fuel-adjustment charges weighted by a solar
profile (``hourly_rates``, ``solar_ac_kw``). The fixed variant is set each January from the 12
months before (what the utility knows when it signs the one-year contracts).
Sources: the KIEE 2020 green-tariff paper; docs/domain.md#green-tariff.
"""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import yaml

from re100sim.scenarios import bundled_scenarios
from re100sim.simulator.inputs.calendar import build_calendar
from re100sim.simulator.inputs.markets import SMP_HISTORY_CSV, SmpParams, smp_level_krw_per_kwh
from re100sim.simulator.inputs.solar import SolarParams, solar_ac_kw
from re100sim.simulator.inputs.tariffs import hourly_rates, load_table
from re100sim.simulator.reproduce import Outcome, scenario_run


def _month_key(text: str) -> int:
    y, m = text.split("-")
    return int(y) * 12 + int(m) - 1


def standard_price_krw_per_kwh(purchase_krw_per_kwh, network_krw_per_kwh: float, margin_share: float,
                               certificate_krw_per_kwh: float):
    """The paper's standard contract price: purchase x (1 + margin) + network cost + certificate cost."""
    return np.asarray(purchase_krw_per_kwh) * (1.0 + margin_share) + network_krw_per_kwh + certificate_krw_per_kwh


def fixed_yearly_price(month_keys: np.ndarray, indexed: np.ndarray, indexed_before: np.ndarray) -> np.ndarray:
    """One-year fixed price: each January the mean of the indexed price over the 12 months before.

    ``indexed_before`` is the indexed price of the 12 months before ``month_keys[0]``; the price of a
    year uses only months before its January (the utility's information when it signs).
    """
    series = np.concatenate([indexed_before, indexed])
    out = np.empty(len(month_keys))
    price = float(np.mean(indexed_before))
    for i, mk in enumerate(month_keys):
        if mk % 12 == 0:  # January: re-sign on the 12 months just ended
            j = i + len(indexed_before)
            price = float(np.mean(series[j - 12:j]))
        out[i] = price
    return out


def solar_weighted_tariff(inp: dict, first: int, last: int) -> pd.Series:
    """Ordinary tariff energy + climate + fuel-adjustment charge, KRW/kWh, weighted by 1 kWp of solar, by month."""
    table = load_table(inp["tariff_table"])
    site = inp["solar_site"]
    out = {}
    for year in range(first // 12, last // 12 + 1):
        cal = build_calendar(dt.date(year, 1, 1), dt.date(year + 1, 1, 1))
        rates = hourly_rates(cal, table, inp["tariff_option"])
        price = rates.energy_krw_per_kwh + rates.climate_krw_per_kwh + rates.fuel_adj_krw_per_kwh
        kw = solar_ac_kw(cal, 1.0, site["latitude_deg"], site["longitude_deg"], SolarParams(),
                         np.random.default_rng(inp["solar_seed"] + year))
        for mk, a, b in cal.month_bounds():
            if first <= mk <= last:
                out[mk] = float(np.sum(price[a:b] * kw[a:b]) / np.sum(kw[a:b]))
    return pd.Series(out).sort_index()


def uptake(inp: dict, build: dict, seeds: list[int], years: int) -> pd.DataFrame:
    """Green-tariff subscribers at the end of each year when tenants choose between grid and green tariff.

    The bundled scenario ``inp["uptake_scenario"]`` with its fixed subscribers removed and decisions on
    (options grid and green_tariff), once with the SMP-indexed price and once with a fixed one, both set
    from the 12 months of SMP before the start (what the utility knows when it offers the one-year
    contracts): fixed = the mean standard price then; indexed = hourly SMP + network + certificates +
    the margin on that mean SMP (the simulator's indexed price is SMP + an adder).
    """
    data = yaml.safe_load(bundled_scenarios()[inp["uptake_scenario"]].read_text(encoding="utf-8"))
    start = pd.Timestamp(str(data["start_date"]))
    key = start.year * 12 + start.month - 1
    smp_before = smp_level_krw_per_kwh(np.arange(key - 12, key), SmpParams())
    fixed = float(np.mean(standard_price_krw_per_kwh(smp_before, **build)))
    adder = build["network_krw_per_kwh"] + build["certificate_krw_per_kwh"] + build["margin_share"] * float(
        np.mean(smp_before))
    prices = {"smp_indexed": {"kind": "smp_indexed", "adder_krw_per_kwh": adder},
              "fixed": {"kind": "fixed", "price_krw_per_kwh": fixed}}
    rows = []
    for form, price in prices.items():
        for seed in seeds:
            overrides = {"years": years, "decisions": {"enabled": True, "options": ["grid", "green_tariff"]},
                         "green_tariff": {**data["green_tariff"], "subscribers": [], "price": price}}
            with scenario_run(inp["uptake_scenario"], seed, overrides) as folder:
                ts = pd.read_parquet(folder / "timeseries_yearly.parquet")
            rows += [{"price_form": form, "seed": seed, "year": int(y), "subscribers": int(n)}
                     for y, n in zip(ts["year"], ts["adopters_green_tariff"])]
    return pd.DataFrame(rows)


def run(spec: dict, *, fast: bool = False) -> Outcome:
    inp = spec["inputs"]
    first, last = _month_key(inp["first_month"]), _month_key(inp["last_month"])
    recent = _month_key(inp["recent_first_month"])
    months = np.arange(first, last + 1)
    params = SmpParams()
    smp = smp_level_krw_per_kwh(months, params)
    smp_before = smp_level_krw_per_kwh(np.arange(first - 12, first), params)
    build = dict(network_krw_per_kwh=inp["network_krw_per_kwh"], margin_share=inp["margin_share"],
                 certificate_krw_per_kwh=inp["certificate_krw_per_kwh"])
    indexed = standard_price_krw_per_kwh(smp, **build)
    fixed = fixed_yearly_price(months, indexed, standard_price_krw_per_kwh(smp_before, **build))
    tariff = solar_weighted_tariff(inp, first, last).to_numpy()
    premium = indexed / tariff - 1.0
    is_recent = months >= recent
    adv = inp["advantage_share"]
    # Purchase price p at which p (1 + margin) + network + certificates = (1 - adv) x tariff, vs the SMP:
    target = (1.0 - adv) * tariff[is_recent].mean()
    p_needed = (target - inp["network_krw_per_kwh"] - inp["certificate_krw_per_kwh"]) / (1.0 + inp["margin_share"])
    in_2022 = (months // 12) == 2022

    values = {
        "smp_mean": float(smp.mean()),
        "standard_price_mean": float(indexed.mean()),
        "tariff_price_mean": float(tariff.mean()),
        "premium_share_all": float(premium.mean()),
        "premium_share_recent": float(premium[is_recent].mean()),
        "months_with_advantage_share": float(np.mean(indexed <= (1.0 - adv) * tariff)),
        "purchase_discount_needed_recent": float(1.0 - p_needed / smp[is_recent].mean()),
        "indexed_mom_sd": float(np.std(np.diff(indexed))),
        "fixed_mom_sd": float(np.std(np.diff(fixed))),
        "tariff_mom_sd": float(np.std(np.diff(tariff))),
        "indexed_yoy_sd": float(np.std(indexed[12:] - indexed[:-12])),
        "tariff_yoy_sd": float(np.std(tariff[12:] - tariff[:-12])),
        "volatility_ratio_indexed_to_tariff": float(np.std(indexed[12:] - indexed[:-12])
                                                    / np.std(tariff[12:] - tariff[:-12])),
        "utility_loss_fixed_2022": float(np.mean(indexed[in_2022] - fixed[in_2022])),
    }
    subs = uptake(inp, build, list(inp["fast_uptake_seeds"] if fast else inp["uptake_seeds"]),
                  int(inp["fast_uptake_years"] if fast else inp["uptake_years"]))
    end = subs[subs["year"] == subs["year"].max()].groupby("price_form")["subscribers"].mean()
    values["uptake_indexed"] = float(end["smp_indexed"])
    values["uptake_fixed"] = float(end["fixed"])
    labels = [f"{m // 12}-{m % 12 + 1:02d}" for m in months]
    data = pd.DataFrame({"month": labels, "smp_krw_per_kwh": smp, "standard_indexed_krw_per_kwh": indexed,
                         "standard_fixed_krw_per_kwh": fixed, "tariff_solar_hours_krw_per_kwh": tariff})

    def figure(fig) -> None:
        ax = fig.subplots()
        x = np.arange(len(months))
        ax.plot(x, smp, color="grey", linewidth=1, label="monthly SMP (purchase price)")
        ax.plot(x, indexed, label="standard price, SMP-indexed")
        ax.step(x, fixed, where="post", label="standard price, fixed each January")
        ax.step(x, tariff, where="post", color="black", label="ordinary tariff, energy charges in solar hours")
        ticks = [i for i, m in enumerate(months) if m % 12 == 0]
        ax.set_xticks(ticks, [labels[i][:4] for i in ticks])
        ax.set_ylabel("KRW/kWh (ex VAT)")
        ax.set_title("Green tariff standard contract price vs the ordinary tariff")
        ax.legend(fontsize=7)
        fig.tight_layout()

    return Outcome(values=values, figure=figure, seeds=tuple(sorted(set(subs["seed"]))),
                   inputs=(SMP_HISTORY_CSV, bundled_scenarios()[inp["uptake_scenario"]]),
                   extra_tables={"monthly": data, "uptake": subs})

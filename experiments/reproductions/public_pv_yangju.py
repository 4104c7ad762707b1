"""`public-pv-yangju`: simulated yields of the Yangju Eunnam public plants and Icheon Daewol 2's solar share.

Each seed draws one weather year (the simulator's clear-sky-index model) shared by every plant of a
site; each plant runs through the simulator's PV chain (``solar_ac_kw``) with the defaults of its
mount (``GeneratorSpec.solar``, the same parameters a scenario's generator gets). The band is the
P5-P95 of the simulated years. Until the Monte Carlo command is on main the seeds run in process.
Sources: the Gyeonggi new-complex study (Yangju Eunnam roadmap, Icheon Daewol 2); docs/domain.md#cases.
"""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from re100sim.simulator.inputs.calendar import build_calendar
from re100sim.simulator.inputs.solar import SolarParams, clear_sky_index, solar_ac_kw
from re100sim.simulator.reproduce import Outcome
from re100sim.simulator.scenario.config import GeneratorSpec


def annual_yields_mwh(plants: list[dict], site: dict, year: int, seeds: list[int]) -> pd.DataFrame:
    """Annual AC yield, MWh, of each plant (columns) in each seed's weather year (rows)."""
    cal = build_calendar(dt.date(year, 1, 1), dt.date(year + 1, 1, 1))
    lat, lon = site["latitude_deg"], site["longitude_deg"]
    specs = [GeneratorSpec(name=p["name"], capacity_kw=p["capacity_kw"], mount=p["mount"]) for p in plants]
    out = {s.name: [] for s in specs}
    for seed in seeds:
        kc = clear_sky_index(cal, SolarParams(), np.random.default_rng(seed))  # one weather year per seed
        for s in specs:
            kw = solar_ac_kw(cal, s.capacity_kw, lat, lon, s.solar, np.random.default_rng(seed), kc=kc)
            out[s.name].append(kw.sum() / 1000.0)
    return pd.DataFrame(out, index=pd.Index(seeds, name="seed"))


def _seeds(block: dict) -> list[int]:
    return list(range(int(block["first"]), int(block["first"]) + int(block["count"])))


def run(spec: dict, *, fast: bool = False) -> Outcome:
    inp = spec["inputs"]
    seeds = _seeds(inp["fast_seeds"] if fast else inp["seeds"])
    yj, dw = inp["yangju"], inp["daewol"]
    yields = annual_yields_mwh(yj["plants"], yj["site"], inp["year"], seeds)
    daewol = annual_yields_mwh([{"name": "daewol", "capacity_kw": dw["solar_kw"], "mount": dw["mount"]}],
                               dw["site"], inp["year"], seeds)["daewol"]
    published = {r["id"].removesuffix("_mwh"): r["published"] for r in spec["rows"]
                 if r["id"] in ("reservoir_mwh", "parks_mwh", "parking_mwh")}
    values: dict[str, float] = {}
    for name, col in yields.items():
        values[f"{name}_mwh"] = float(col.mean())
        values[f"{name}_p05_mwh"] = float(np.percentile(col, 5))
        values[f"{name}_p95_mwh"] = float(np.percentile(col, 95))
        values[f"{name}_published_quantile"] = float(np.mean(col < published[name]))
    total = yields.sum(axis=1)
    values["public_total_mwh"] = float(total.mean())
    values["public_share_pct"] = 100.0 * float(total.mean()) / yj["annual_use_mwh"]
    solar_mwh = float(daewol.mean())
    ef = dw["emission_factor_t_per_mwh"]
    values["daewol_solar_mwh"] = solar_mwh
    values["daewol_co2_total_t"] = dw["co2_electricity_t"] + dw["co2_gas_t"]
    values["daewol_solar_share_pct"] = 100.0 * solar_mwh / (dw["co2_electricity_t"] / ef)
    values["daewol_implied_ef"] = dw["co2_electricity_t"] / (solar_mwh / 0.12)  # complex power = yield / 12 %
    values["daewol_co2_cut_t"] = solar_mwh * ef

    data = yields.assign(daewol=daewol.to_numpy()).reset_index()

    def figure(fig) -> None:
        ax = fig.subplots()
        names = list(yields.columns) + ["daewol"]
        caps = [p["capacity_kw"] for p in yj["plants"]] + [dw["solar_kw"]]
        specific = [data[n].to_numpy() * 1000.0 / c for n, c in zip(names, caps)]  # kWh/kWp
        ax.boxplot(specific, whis=(5, 95), showfliers=False)
        ax.set_xticks(range(1, len(names) + 1), [f"{n}\n{c:g} kW" for n, c in zip(names, caps)])
        for i, n in enumerate(yields.columns, start=1):
            cap = caps[i - 1]
            ax.plot(i, published[n] * 1000.0 / cap, "D", color="crimson",
                    label="published (the Gyeonggi new-complex study)" if i == 1 else None)
        ax.axhline(0.15 * 8760, color="grey", linestyle=":", label="design CF 15 % (1,314 kWh/kWp)")
        ax.set_ylabel("annual yield, kWh/kWp")
        ax.set_title(f"Simulated weather years ({len(seeds)} seeds, whiskers P5-P95) vs published yields")
        ax.legend(fontsize=7)
        fig.tight_layout()

    return Outcome(values=values, figure=figure, seeds=tuple(seeds), extra_tables={"yields": data})

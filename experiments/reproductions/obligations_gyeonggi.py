"""`obligations-gyeonggi`: the Distributed Energy Act obligation and the Gyeonggi options 1-3 re-derived.

Every number comes from the policy rules in ``re100sim.simulator.rules.policy`` (the functions the
simulator's compliance rows use), applied to the inputs of the experiment file; nothing is
simulated, so there are no seeds. The grid of complexes x filing years goes to ``data_grid.csv``.
Sources: the Gyeonggi new-complex study ([별표 1], [별표 2], options 1-3); docs/domain.md#policy-rules.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.ticker import MaxNLocator

from re100sim.simulator.reproduce import Outcome
from re100sim.simulator.rules.policy import (
    HOURS_PER_YEAR,
    SOLAR_M2_PER_KW_BUILDING,
    SOLAR_M2_PER_MW,
    dea_applies,
    dea_yearly_ratio,
    gyeonggi_option1_yearly_ratio,
    obligation_mw,
    obligation_ratio,
    offsite_correction_factor,
    option1_credited_mwh,
    option1_required_mwh,
    option2_required_mw,
    option3_required_mw,
    solar_mw_for_area,
)


def obligation_grid(complexes: list[dict], years: list[int], capacity_factor: float) -> pd.DataFrame:
    """Required MW per complex and filing year: DEA ([별표 1]), option 1 (MW at ``capacity_factor``), 2 and 3."""
    rows = []
    for c in complexes:
        use = float(c["annual_use_mwh"])
        applies = dea_applies(use, c.get("project_area_m2"))
        opt2 = option2_required_mw(c["sold_lot_area_m2"]) if "sold_lot_area_m2" in c else np.nan
        opt3 = (option3_required_mw(c["industrial_area_m2"], c["building_coverage"])
                if "industrial_area_m2" in c else np.nan)
        for y in years:
            ratio = obligation_ratio(c["capital_region"], y) if applies else 0.0
            rows.append({
                "complex": c["name"],
                "filing_year": int(y),
                "dea_applies": int(applies),
                "dea_ratio": ratio,
                "dea_mw": obligation_mw(use, ratio, 0.0, capacity_factor),
                "option1_mw": option1_required_mwh(use, y) / (capacity_factor * HOURS_PER_YEAR),
                "option2_mw": opt2,
                "option3_mw": opt3,
            })
    return pd.DataFrame(rows)


def _hwaseong(h: dict) -> dict[str, float]:
    solar_mwh = h["rooftop_mw"] * h["solar_capacity_factor"] * HOURS_PER_YEAR
    fuel_cell_mwh = h["fuel_cell_mw"] * h["fuel_cell_availability"] * HOURS_PER_YEAR
    demand_mwh = h["demand_mw"] * HOURS_PER_YEAR  # 30 MW taken as the mean load
    return {
        "hw_rooftop_share_pct": 100.0 * h["rooftop_area_m2"] / h["industrial_land_m2"],
        "hw_rooftop_m2_per_mw": h["rooftop_area_m2"] / h["rooftop_mw"],
        "hw_rooftop_mw_at_rule": solar_mw_for_area(h["rooftop_area_m2"], SOLAR_M2_PER_MW),
        "hw_fuel_cell_m2_per_mw": h["fuel_cell_area_m2"] / h["fuel_cell_mw"],
        "hw_capacity_to_demand": (h["rooftop_mw"] + h["fuel_cell_mw"]) / h["demand_mw"],
        "hw_energy_to_demand": (solar_mwh + fuel_cell_mwh) / demand_mwh,
    }


def run(spec: dict, *, fast: bool = False) -> Outcome:  # noqa: ARG001 - no seeds: fast and full are the same
    inp = spec["inputs"]
    cf = float(inp["capacity_factor"])
    grid = obligation_grid(inp["complexes"], inp["filing_years"], cf)

    def cell(complex_name: str, year: int, column: str) -> float:
        sel = grid[(grid["complex"] == complex_name) & (grid["filing_year"] == year)]
        return float(sel[column].iloc[0])

    ex = inp["option3_example"]
    area_m2 = inp["gyeonggi_solar_mw"] * 1000.0 * SOLAR_M2_PER_KW_BUILDING
    daewol = next(c for c in inp["complexes"] if c["name"] == "icheon-daewol-2")
    hw = inp["hwaseong"]
    hw_vals = _hwaseong(hw)
    hwaseong = next(c for c in inp["complexes"] if c["name"] == "hwaseong-h-technovalley")
    values: dict[str, float] = {
        **{f"dea_ratio_{y}": dea_yearly_ratio(y) for y in (2026, 2027, 2030, 2035, 2040)},
        **{f"gg1_ratio_{y}": gyeonggi_option1_yearly_ratio(y) for y in (2026, 2027, 2030, 2035, 2040)},
        "yangju_dea_2026_mw": cell("yangju-eunnam", 2026, "dea_mw"),
        "yangju_dea_2040_mw": cell("yangju-eunnam", 2040, "dea_mw"),
        "yangju_gg1_2026_mw": cell("yangju-eunnam", 2026, "option1_mw"),
        "yangju_outside_capital_dea_2040_mw": cell("yangju-eunnam-outside-capital-region", 2040, "dea_mw"),
        "daewol_dea_applies": float(dea_applies(daewol["annual_use_mwh"], daewol["project_area_m2"])),
        "option3_30pct_mw": option3_required_mw(ex["industrial_area_m2"], ex["building_coverage"], 0.30),
        "option3_70pct_mw": option3_required_mw(ex["industrial_area_m2"], ex["building_coverage"], 0.70),
        "option3_50pct_mw": option3_required_mw(ex["industrial_area_m2"], ex["building_coverage"], 0.50),
        "gyeonggi_solar_area_m2": area_m2,
        "gyeonggi_roof_share_pct": 100.0 * area_m2 / inp["gyeonggi_building_area_m2"],
        "cf_rate_5pct": offsite_correction_factor(0.05),
        "cf_rate_10pct": offsite_correction_factor(0.10),
        "cf_rate_14_9pct": offsite_correction_factor(0.149),
        "cf_rate_15pct": offsite_correction_factor(0.15),
        "cf_rate_20pct": offsite_correction_factor(0.20),
        "cf_rate_35pct": offsite_correction_factor(0.35),
        "option1_credit_example_mwh": option1_credited_mwh(8000.0, 4000.0, 8000.0 / 100000.0),
        **hw_vals,
        "hw_option3_compliant": float(hw["rooftop_mw"] >= cell("hwaseong-h-technovalley", 2026, "option3_mw")),
        "hw_option2_mw": option2_required_mw(hwaseong["sold_lot_area_m2"]),
    }

    def figure(fig) -> None:
        ax1, ax2 = fig.subplots(1, 2, gridspec_kw={"width_ratios": [3, 2]})
        for name, g in grid.groupby("complex", sort=True):
            line = ax1.step(g["filing_year"], g["dea_mw"], where="post", label=f"{name}: DEA")
            ax1.step(g["filing_year"], g["option1_mw"], where="post", linestyle="--",
                     color=line[0].get_color(), label=f"{name}: Gyeonggi option 1")
        ax1.axhline(values["option3_30pct_mw"], color="grey", linestyle=":", label="option 3 worked example (6.21 MW)")
        ax1.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax1.set_xlabel("year the installation plan is filed")
        ax1.set_ylabel(f"required capacity, MW (CF {cf:.0%})")
        ax1.set_title("Obligation by filing year")
        ax1.legend(fontsize=6, loc="upper left")
        rates = np.linspace(0.0, 0.3, 301)
        ax2.step(rates * 100, [offsite_correction_factor(r) for r in rates], where="post")
        for r in (0.05, 0.10, 0.149, 0.15, 0.20):
            ax2.plot(r * 100, offsite_correction_factor(r), "o", color="black", markersize=3)
        ax2.set_xlabel("in-complex installation rate, %")
        ax2.set_ylabel("correction factor on off-complex output")
        ax2.set_title("Option 1 off-complex correction")
        ax2.set_ylim(0.6, 1.05)
        fig.tight_layout()

    return Outcome(values=values, figure=figure, extra_tables={"grid": grid})


__all__ = ["run", "obligation_grid"]

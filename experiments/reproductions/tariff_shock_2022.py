"""`tariff-shock-2022`: adoption under the 2022-2024 tariff increases vs the same complex on a flat tariff.

Runs the bundled ``tariff-shock-2022`` and ``tariff-flat`` scenarios (the whole simulator: decisions,
signing, settlement) for the same seeds, in process, one after the other, and reads each run's yearly
time series. The bands are over the seeds; the Monte Carlo command (``re100sim mc``, not on main yet)
will run the same pairs in parallel with more seeds. Sources: the Gyeonggi new-complex study;
docs/domain.md#tariff-increases; docs/domain.md#direct-ppa.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from re100sim.scenarios import bundled_scenarios
from re100sim.simulator.reproduce import Outcome, scenario_run

_ADOPTER_COLUMNS = ("adopters_direct_ppa", "adopters_self_generation")


def yearly_series(scenario: str, seed: int, years: int) -> pd.DataFrame:
    """One run of a bundled scenario for ``years`` years with ``seed``: its yearly time series."""
    with scenario_run(scenario, seed, {"years": int(years)}) as folder:
        ts = pd.read_parquet(folder / "timeseries_yearly.parquet")
    ts["adopters"] = ts[list(_ADOPTER_COLUMNS)].sum(axis=1)
    ts["re_mw"] = ts["contracted_mw"] + ts["rooftop_mw"]
    return ts[["year", "adopters", "contracted_mw", "re_mw"]].assign(scenario=scenario, seed=seed)


def run(spec: dict, *, fast: bool = False) -> Outcome:
    inp = spec["inputs"]
    seeds = list(inp["fast_seeds"] if fast else inp["seeds"])
    years = int(inp["fast_years"] if fast else inp["years"])
    runs = pd.concat([yearly_series(inp[k], s, years) for k in ("shock_scenario", "flat_scenario") for s in seeds],
                     ignore_index=True)
    shock = runs[runs["scenario"] == inp["shock_scenario"]]
    flat = runs[runs["scenario"] == inp["flat_scenario"]]
    first, last = int(runs["year"].min()), int(runs["year"].max())

    def at(df: pd.DataFrame, year: int, col: str) -> np.ndarray:
        return df[df["year"] == year].sort_values("seed")[col].to_numpy(float)

    s_first, s_last = at(shock, first, "adopters"), at(shock, last, "adopters")
    f_last = at(flat, last, "adopters")
    ppa_2023, ppa_2024 = at(shock, 2023, "contracted_mw"), at(shock, 2024, "contracted_mw")
    values = {
        "shock_adopters_first_year": float(s_first.mean()),
        "shock_adopters_last_year": float(s_last.mean()),
        "shock_adopters_last_p10": float(np.percentile(s_last, 10)),
        "shock_adopters_last_p90": float(np.percentile(s_last, 90)),
        "flat_adopters_last_year": float(f_last.mean()),
        "reluctance_first_share": float(s_first.mean() / s_last.mean()) if s_last.mean() > 0 else 1.0,
        "growth_with_increases": float(s_last.mean() / s_first.mean()) if s_first.mean() > 0 else float("inf"),
        "shock_minus_flat_adopters": float((s_last - f_last).mean()),
        "shock_mw_last_year": float(at(shock, last, "re_mw").mean()),
        "flat_mw_last_year": float(at(flat, last, "re_mw").mean()),
        "simulated_ppa_growth_2024": float(ppa_2024.mean() / ppa_2023.mean()) if ppa_2023.mean() > 0 else float("inf"),
    }

    def figure(fig) -> None:
        ax1, ax2 = fig.subplots(1, 2)
        for name, df, color in (("tariff history", shock, "crimson"), ("flat tariff", flat, "steelblue")):
            g = df.groupby("year")["adopters"]
            ax1.fill_between(g.min().index, g.min(), g.max(), color=color, alpha=0.2)
            ax1.plot(g.mean().index, g.mean(), color=color, marker="o", label=f"{name} (mean, min-max band)")
            m = df.groupby("year")["re_mw"].mean()
            ax2.plot(m.index, m, color=color, marker="o", label=name)
        ax1.set_ylabel("tenants with a PPA or own plant (of 60)")
        ax1.set_title(f"Adoption, {len(seeds)} seed(s)")
        ax1.legend(fontsize=7)
        ax2.set_ylabel("PPA contracted + rooftop MW")
        ax2.set_title("Renewable capacity procured")
        ax2.legend(fontsize=7)
        for ax in (ax1, ax2):
            ax.set_xticks(sorted(runs["year"].unique()))
            ax.set_xlabel("year")
        fig.tight_layout()

    return Outcome(values=values, figure=figure, seeds=tuple(seeds),
                   inputs=tuple(bundled_scenarios()[inp[k]] for k in ("shock_scenario", "flat_scenario")),
                   extra_tables={"runs": runs})

"""PPA prices a buyer would sign (docs/decisions.md#prices): bids, asks, clearing and the signing log."""
from __future__ import annotations

import json
from importlib.resources import files
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import re100sim.agents.broker as broker_module
from re100sim.agents.generator import CERTAINTY_DISCOUNT, Generator
from re100sim.agents.tenant import Tenant
from re100sim.simulator.cli import app
from re100sim.simulator.engine import ComplexModel
from re100sim.simulator.market.round import expected_ppa_price, signed_price_summary
from re100sim.simulator.rules.finance import crf
from re100sim.simulator.run import prepare
from re100sim.simulator.scenario.config import GeneratorSpec

# Bundled scenarios with decisions on, and the years run (enough for the first signature where there is one).
DECIDING_SCENARIOS = {"tariff-shock-2022": 2, "tariff-flat": 2, "smart-green-complex": 5,
                      "gyeonggi-option-1": 2, "gyeonggi-option-2": 2, "gyeonggi-option-3": 2}
SIGNING = {"tariff-shock-2022", "gyeonggi-option-1"}  # sign within those years (smart-green-complex first signs in 2031)


def bundled(name: str) -> Path:
    return Path(str(files("re100sim.scenarios").joinpath(f"{name}.yaml")))


def run_bundled(name: str, years: int) -> ComplexModel:
    sc, tenants = prepare(bundled(name))
    model = ComplexModel(sc.model_copy(update={"years": min(years, sc.years)}), tenants)
    model.run()
    return model


# --- hand-worked bid and ask ------------------------------------------------------------------


def test_bid_is_the_highest_price_at_which_the_ppa_still_beats_the_next_best_option():
    # Utilities (KRW) of grid, premium, green tariff (n/a), PPA at price 0, RECs, rooftop:
    u0 = np.array([-100e6, -98e6, -np.inf, -80e6, -101e6, -99e6])
    # The PPA bills 150,000 kWh a year: U_PPA(p) = -80e6 - 150,000 p. Next best: the premium at -98e6.
    # -80e6 - 150,000 p >= -98e6  <=>  p <= 18e6 / 150,000 = 120 KRW/kWh.
    bid = Tenant.reservation_price(u0, 3, 150_000.0)
    assert bid == pytest.approx(120.0)
    at_bid = u0.copy()
    at_bid[3] -= 150_000.0 * bid
    assert at_bid[3] == pytest.approx(at_bid[1])  # indifferent at the bid
    at_bid[3] -= 150_000.0 * 1.0
    assert np.argmax(at_bid) == 1  # one won above the bid, the premium wins
    # Unavailable PPA (or nothing billed): no bid.
    assert np.isnan(Tenant.reservation_price(np.where(np.arange(6) == 3, -np.inf, u0), 3, 150_000.0))
    assert np.isnan(Tenant.reservation_price(u0, 3, 0.0))
    # A PPA worse than the grid even at price 0 gives a negative bid (never matched by a positive ask).
    assert Tenant.reservation_price(np.array([-100e6, -np.inf, -np.inf, -103e6, -np.inf, -np.inf]), 3, 1e5) == \
        pytest.approx(-30.0)  # (-103e6 + 100e6) / 1e5


def generator(owner: str, **kw) -> Generator:
    g = Generator.__new__(Generator)  # the decision methods need no model
    g.spec = GeneratorSpec(name="pv", capacity_kw=1000, owner=owner, **kw)
    return g


def test_ask_is_the_reservation_price_on_the_contract_terms():
    # LCOE at the owner's 6 % hurdle over 20 years, 1,400 kWh/kW:
    # (1,200,000 x CRF(6 %, 20) = 104,621.5 + O&M 18,000) / 1,400 = 87.59 KRW/kWh.
    lcoe = (1_200_000 * float(crf(6.0, 20)) + 18_000) / 1400
    assert lcoe == pytest.approx(87.59, abs=0.01)
    public = generator("public")
    assert public.ask_krw_per_kwh(1400, 110.0, 72_800.0, 0.0, 20) == pytest.approx(lcoe)
    # Escalating 2 %/yr: the first-year price whose PV at 6 % over 20 years equals the flat LCOE's.
    # Levelisation factor sum(1.02^t / 1.06^t) / sum(1 / 1.06^t), t = 1..20:
    r, g = 1.06, 1.02
    lev = sum((g / r) ** t for t in range(1, 21)) / sum(r ** -t for t in range(1, 21))
    assert lev == pytest.approx(1.1931, abs=1e-4)
    assert public.ask_krw_per_kwh(1400, 110.0, 72_800.0, 2.0, 20) == pytest.approx(lcoe / lev)
    # Private: it gives up SMP 110 + REC 72,800 x weight 1.5 / 1,000 = 219.2 KRW/kWh of market
    # revenue; a fixed price is worth 30 % less: 153.44 > LCOE, so the ask is 153.44.
    private = generator("private")
    assert private.ask_krw_per_kwh(1400, 110.0, 72_800.0, 0.0, 20) == pytest.approx(219.2 * (1 - CERTAINTY_DISCOUNT))
    # With SMP 40 and REC 20,000: (40 + 30) x 0.7 = 49 < LCOE, so the LCOE floor applies.
    assert private.ask_krw_per_kwh(1400, 40.0, 20_000.0, 0.0, 20) == pytest.approx(lcoe)


def test_expected_price_weighs_the_ppa_at_what_the_tenant_would_pay():
    # Bid 160, lowest ask 100: uniform price as the marginal pair -> (160 + 100) / 2 = 130; pay as bid -> 100.
    assert expected_ppa_price(160.0, 100.0, "uniform_price") == 130.0
    assert expected_ppa_price(160.0, 100.0, "pay_as_bid") == 100.0
    assert np.isnan(expected_ppa_price(90.0, 100.0, "uniform_price"))  # no seller at its price
    assert np.isnan(expected_ppa_price(np.nan, 100.0, "uniform_price"))
    assert np.isnan(expected_ppa_price(160.0, np.nan, "uniform_price"))


def test_signed_price_summary():
    rows = [{"price_krw_per_kwh": 100.0, "mwh_per_year": 1000.0}, {"price_krw_per_kwh": 130.0, "mwh_per_year": 3000.0},
            {"price_krw_per_kwh": 120.0, "mwh_per_year": 1000.0}]
    # weighted mean (100 x 1,000 + 130 x 3,000 + 120 x 1,000) / 5,000 = 122
    assert signed_price_summary(rows) == {"count": 3, "min": 100.0, "median": 120.0, "max": 130.0,
                                          "mwh_weighted_mean": 122.0, "prices": [100.0, 130.0, 120.0]}
    assert signed_price_summary([]) == {"count": 0}


# --- the signing log of the bundled scenarios --------------------------------------------------


@pytest.mark.parametrize("name", DECIDING_SCENARIOS)
def test_every_signed_ppa_was_the_tenants_best_option_at_its_price(name):
    model = run_bundled(name, years=DECIDING_SCENARIOS[name])
    log = pd.DataFrame(model.signings)
    for row in log.itertuples():
        assert row.utility_ppa_krw >= row.utility_best_alternative_krw, row
        assert row.ask_krw_per_kwh <= row.price_krw_per_kwh <= row.bid_krw_per_kwh + 0.005, row  # 2-decimal rounding
        assert row.best_alternative != "direct_ppa"
    # Every signed contract is in force with the logged price, ex VAT, on the template's terms.
    by_name = {c.name: c for c in model.contracts}
    for row in log.itertuples():
        c = by_name[row.contract]
        assert c.price.price_krw_per_kwh == row.price_krw_per_kwh and c.term_years == row.term_years
        assert model.tenants[[t.name for t in model.tenants].index(row.tenant)].option == "direct_ppa"
    if name in SIGNING:
        assert len(log) > 0  # the test would prove nothing without a signature


def test_no_signature_above_the_tenants_bid(monkeypatch):
    """A broker that clears 50 KRW/kWh above every bid: re-evaluated at that price, no PPA is the
    tenant's best option, so nothing is signed and those tenants fall back to another option."""
    clear = broker_module.double_auction
    cleared = []

    def greedy(bids, offers, mechanism="uniform_price"):
        top = max((b.price_krw_per_kwh for b in bids), default=0.0)
        matches = [broker_module.Match(m.bid, m.offer, m.mwh, top + 50.0) for m in clear(bids, offers, mechanism)]
        cleared.extend(matches)
        return matches

    monkeypatch.setattr(broker_module, "double_auction", greedy)
    model = run_bundled("tariff-shock-2022", years=2)
    assert cleared and model.signings == []  # matches were proposed and all refused
    assert all(t.option != "direct_ppa" for t in model.tenants)


def test_signings_are_written_and_reported(tmp_path):
    src = bundled("tariff-shock-2022").read_text(encoding="utf-8").replace("years: 5", "years: 2")
    path = tmp_path / "shock.yaml"
    path.write_text(src, encoding="utf-8")
    res = CliRunner().invoke(app, ["run", str(path), "--out", str(tmp_path / "out")])
    assert res.exit_code == 0, res.output
    log = pd.read_parquet(tmp_path / "out" / "signings.parquet")
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    prices = summary["ppa_prices_signed_krw_per_kwh"]
    assert prices["count"] == len(log) > 0 and prices["prices"] == log["price_krw_per_kwh"].tolist()
    assert {"year", "tenant", "plant", "price_krw_per_kwh", "term_years", "utility_ppa_krw",
            "utility_best_alternative_krw"} <= set(log.columns)

"""Agents' decision rules on hand-made cases, the broker's book, outages, determinism, tariff shock."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from re100sim.agents.broker import Order, double_auction
from re100sim.agents.generator import Generator
from re100sim.agents.tenant import Tenant
from re100sim.simulator.cli import app
from re100sim.simulator.rules.finance import crf, levelisation_factor
from re100sim.simulator.scenario.config import GeneratorSpec


def tenant(aware=True) -> Tenant:
    t = Tenant.__new__(Tenant)  # the decision methods need no model
    t.aware, t.option = aware, "grid"
    return t


def test_cheaper_and_greener_option_is_chosen():
    # grid 100 M KRW and no RE; option 1 costs 95 M and brings 500 MWh towards a 1,000 MWh target.
    cost = np.array([100e6, 95e6, np.nan])
    u = Tenant.utilities(cost, np.array([0.0, 500.0, 0.0]), np.zeros(3), 1000.0, 30_000.0, 1.0, 1e6, current=0)
    # U0 = -100e6; U1 = -95e6 + 30,000 x 500 - 1e6 (switching) = -81e6; U2 unavailable.
    assert u[0] == -100e6 and u[1] == -81e6 and u[2] == -np.inf
    rng = np.random.default_rng(0)
    # logit scale 3 % of a 100 M bill = 3 M: P(1) = 1 / (1 + e^(-19/3)) = 0.998
    picks = [tenant().choose(u, 3e6, rng) for _ in range(1000)]
    assert picks.count(1) > 990 and 2 not in picks


def test_unaware_tenant_never_leaves_the_grid():
    u = np.array([-100e6, -50e6, -10e6])  # far better options exist
    rng = np.random.default_rng(1)
    assert {tenant(aware=False).choose(u, 1e6, rng) for _ in range(200)} == {0}


def test_bass_awareness_probability():
    # p 0.03 + q 0.38 x 0.5 adopters + 0.02 x 10 % increase = 0.42
    rng = np.random.default_rng(2)
    hits = 0
    for _ in range(20_000):
        t = tenant(aware=False)
        t.learn(0.5, 0.03, 0.38, rng, tariff_increase_pct=10.0, attention_per_pct=0.02)
        hits += t.aware
    assert hits / 20_000 == pytest.approx(0.42, abs=0.01)


def test_broker_uniform_price_double_auction():
    # Bids (max KRW/kWh): A 200 x 100 MWh, B 160 x 50, C 120 x 80. Offers (min): X 110 x 70, Y 150 x 100.
    # A (200) buys 70 from X (110), then 30 from Y (150); B (160) buys 50 from Y (150);
    # C (120) < Y (150): stop. Marginal pair B/Y -> uniform price (160 + 150) / 2 = 155.
    bids = [Order(0, 100, 200), Order(1, 50, 160), Order(2, 80, 120)]
    offers = [Order(10, 70, 110), Order(11, 100, 150)]
    got = [(m.bid, m.offer, m.mwh, m.price_krw_per_kwh) for m in double_auction(bids, offers)]
    assert got == [(0, 10, 70, 155.0), (0, 11, 30, 155.0), (1, 11, 50, 155.0)]
    # Pay-as-bid: each trade at its seller's ask.
    got = [(m.bid, m.offer, m.mwh, m.price_krw_per_kwh) for m in double_auction(bids, offers, "pay_as_bid")]
    assert got == [(0, 10, 70, 110), (0, 11, 30, 150), (1, 11, 50, 150)]
    assert double_auction([Order(0, 10, 100)], [Order(1, 10, 120)]) == []


def test_generator_offer_price():
    # LCOE: 1,200,000 KRW/kW x CRF(6 %, 20 y) + 18,000 = 104,621.5 + 18,000 over 1,400 kWh/kW.
    spec = GeneratorSpec(name="pv", capacity_kw=1000, owner="private")
    g = Generator.__new__(Generator)
    g.spec = spec
    lcoe = (1_200_000 * float(crf(6.0, 20)) + 18_000) / 1400
    assert lcoe == pytest.approx(87.59, abs=0.01)
    # Private: max(LCOE 87.59, (SMP 110 + REC 72,800 x 1.5 / 1,000) x (1 - 0.3))
    # = max(87.59, (110 + 109.2) x 0.7 = 153.44) = 153.44
    mwh, price = g.offer(1400.0, 1.0, 110.0, 72_800.0)
    assert mwh == 1400.0 and price == pytest.approx(153.44)
    g.spec = spec.model_copy(update={"owner": "public"})  # public owner: its LCOE at its hurdle rate, 87.587
    assert g.offer(1400.0, 0.5, 110.0, 72_800.0) == (700.0, pytest.approx(87.587, abs=1e-3))


def test_generator_offers_nothing_it_cannot_sell():
    """No offer (0 MWh, no price) from a plant that does not offer PPAs, sells into the green pool,
    sits behind a tenant's meter, has nothing uncontracted left or expects no output; a small
    plant with something to sell does offer."""
    g = Generator.__new__(Generator)
    base = GeneratorSpec(name="pv", capacity_kw=1000, owner="public")
    for update, free, mwh in [({"offers_ppa": False}, 1.0, 1400.0), ({"green_pool": True}, 1.0, 1400.0),
                              ({"host_tenant": "t"}, 1.0, 1400.0), ({}, 0.0, 1400.0), ({}, 1.0, 0.0)]:
        g.spec = base.model_copy(update=update)
        q, price = g.offer(mwh, free, 110.0, 72_800.0)
        assert q == 0.0 and np.isnan(price), update
    g.spec = base.model_copy(update={"capacity_kw": 1.0})  # 1 kW, 0.5 MWh/yr: 500 kWh/kW
    q, price = g.offer(0.5, 0.2, 110.0, 72_800.0)
    assert q == pytest.approx(0.1)  # 0.5 x 0.2
    # a public seller asks its LCOE: (1,200,000 x 0.087185 + 18,000) / 500 = 245.24
    assert price == pytest.approx(245.24, abs=0.01)
    g.spec = base.model_copy(update={"owner": "private"})  # a private seller offers its free share too
    assert g.offer(1400.0, 0.5, 110.0, 72_800.0) == (700.0, pytest.approx(153.44))  # 1,400 x 0.5


def test_levelisation_factor():
    # No growth: 1. With 5 %/yr growth over 2 years at 0 % discount: (1.05 + 1.1025) / 2 = 1.07625.
    assert levelisation_factor(0.0, 8.0, 20) == pytest.approx(1.0)
    assert levelisation_factor(0.05, 0.0, 2) == pytest.approx(1.07625)


def run_scenario(tmp_path, data, name="s"):
    """Run a scenario given as data, or a bundled scenario given by name."""
    if isinstance(data, str):
        name, target = data, data
    else:
        target = tmp_path / f"{name}.yaml"
        target.write_text(yaml.safe_dump(data), encoding="utf-8")
    res = CliRunner().invoke(app, ["run", str(target), "--out", str(tmp_path / name)])
    assert res.exit_code == 0, res.output
    return json.loads((tmp_path / name / "summary.json").read_text()), tmp_path / name


DECIDING = {
    "start_date": "2026-01-01", "years": 2, "seed": 4,
    "tenants": [{"name": "f", "count": 12, "archetype": "two_shift",
                 "annual_use_mwh": {"distribution": "uniform", "low": 2000, "high": 6000},
                 "contract_kw": {"distribution": "uniform", "low": 400, "high": 1500},
                 "behaviour": {"roof_area_m2": 4000, "awareness": 0.6}}],
    "generators": [{"name": "pv", "capacity_kw": 6000, "owner": "public"}],
    "decisions": {"enabled": True},
}


def test_unaware_complex_signs_no_ppa(tmp_path):
    data = json.loads(json.dumps(DECIDING))
    data["name"] = "unaware"
    data["tenants"][0]["behaviour"]["awareness"] = 0.0
    data["decisions"].update(bass_p=0.0, bass_q=0.0, attention_per_pct=0.0)
    s, _ = run_scenario(tmp_path, data)
    assert s["adoption"]["grid"] == 12 and s["adoption"]["contracted_mw"] == 0
    assert s["energy"]["re_delivered_mwh"] == 0


def test_decisions_are_deterministic_with_a_seed(tmp_path):
    data = dict(DECIDING, name="det")
    s1, o1 = run_scenario(tmp_path, data, "a")
    s2, o2 = run_scenario(tmp_path, data, "b")
    assert s1 == s2 and s1["adoption"]["grid"] < 12  # some tenants adopted
    pd.testing.assert_frame_equal(pd.read_parquet(o1 / "invoices.parquet"), pd.read_parquet(o2 / "invoices.parquet"))


def test_outages_reduce_output_by_expected_availability(tmp_path):
    # A flat 1,000 kW fuel cell (availability 1) with forced outages: MTBF 300 h, MTTR 100 h ->
    # expected availability 300 / 400 = 0.75 over 3 years (about 66 outage cycles).
    data = {"name": "outage", "start_date": "2026-01-01", "years": 3, "seed": 9,
            "tenants": [{"name": "t", "annual_use_mwh": 5000, "peak_kw": 900}],
            "generators": [{"name": "fc", "technology": "fuel_cell", "capacity_kw": 1000, "availability": 1.0,
                            "outages": {"mtbf_hours": 300, "mttr_hours": 100}}]}
    s, out = run_scenario(tmp_path, data)
    k = pd.read_parquet(out / "kpis_generators.parquet")
    gen = k[k.agent == "fc"]["gen_mwh"].sum()
    assert gen / (1000 * s["hours"] / 1000) == pytest.approx(0.75, abs=0.06)


@pytest.mark.slow
def test_tariff_shock_raises_ppa_and_self_generation_adoption(tmp_path):
    """The bundled tariff-shock-2022 vs tariff-flat (same tenants, plants, seed): the 2022-24
    increases lead the agents themselves to more PPAs and more rooftop PV (the Gyeonggi new-complex study's direction)."""
    s_shock, _ = run_scenario(tmp_path, "tariff-shock-2022")
    s_flat, _ = run_scenario(tmp_path, "tariff-flat")
    a, b = s_shock["adoption"], s_flat["adoption"]
    assert a["direct_ppa"] > b["direct_ppa"] and a["contracted_mw"] > b["contracted_mw"]
    assert a["self_generation"] > b["self_generation"] and a["rooftop_mw"] > b["rooftop_mw"]


def test_counterparty_exposure_hand_worked():
    """One live fixed-price PPA at 200 KRW/kWh, share 0.5 of a plant that made 1,000 MWh last year;
    market value 100 (SMP) + 40,000 x 1.5 / 1,000 (REC) = 160 KRW/kWh; 24 months left:
    (200 - 160) x 500,000 kWh x 2 years = 40,000,000 KRW."""
    from types import SimpleNamespace

    from re100sim.simulator.outputs.reporting import counterparty_risk
    from re100sim.simulator.scenario.config import FixedPrice, PpaContract, ShareVolume

    spec = GeneratorSpec(name="pv", capacity_kw=1000)  # rooftop solar <= 3 MW: weight 1.5 (docs/domain.md#rec-weights)
    c = PpaContract(name="c", generator="pv", tenant="t", volume=ShareVolume(kind="share", share=0.5),
                    price=FixedPrice(kind="fixed", price_krw_per_kwh=200.0), start_date="2026-01-01", term_years=3)
    now = 2026 * 12 + 11  # December 2026: 2027-01 .. 2028-12 remain
    model = SimpleNamespace(
        year=SimpleNamespace(smp_krw_per_kwh=np.full(10, 100.0), rec_price_krw_per_rec=np.full(12, 40_000.0)),
        current_month_key=now, contracts=[c], generators=[SimpleNamespace(name="pv", spec=spec)],
    )
    energy = pd.DataFrame({"month": [now], "agent": ["pv"], "gen_kwh": [1_000_000.0]})
    assert counterparty_risk(model, energy) == {"live_contracts": 1, "exposure_krw": 40_000_000.0}


def test_utility_keeps_its_tariff_table_and_path():
    # KEPCO's state (agents/utility.py): the table it applies and the scenario's tariff path.
    import mesa

    from re100sim.agents.utility import Utility
    from re100sim.simulator.inputs.tariffs import TariffPath

    path = TariffPath(increases=[])
    kepco = Utility(mesa.Model(), "kepco_industrial", path)
    assert (kepco.name, kepco.table, kepco.path) == ("KEPCO", "kepco_industrial", path)


class _Draw:
    """A random source that always draws ``x`` (to put a draw exactly where a rule has its edge)."""

    def __init__(self, x: float):
        self.x = x

    def random(self) -> float:
        return self.x


def test_tenant_awareness_starts_off_and_grows_only_with_a_tariff_increase():
    import mesa

    t = Tenant(mesa.Model(), spec=None)
    assert not t.aware and t.option == "grid"
    # p = q = 0 and no tariff increase: chance 0 + 0 + 1.0 x max(0, 0) = 0, so even a draw of 0.0 does not teach it.
    t.learn(0.5, 0.0, 0.0, _Draw(0.0), tariff_increase_pct=0.0, attention_per_pct=1.0)
    assert not t.aware
    # By default there is no tariff increase and no attention to it: still chance 0.
    t.learn(0.5, 0.0, 0.0, _Draw(0.0), attention_per_pct=1.0)
    t.learn(0.5, 0.0, 0.0, _Draw(0.0), tariff_increase_pct=5.0)
    assert not t.aware
    t.learn(0.5, 0.0, 0.0, _Draw(0.5), tariff_increase_pct=1.0, attention_per_pct=0.6)  # 0.6 x 1 > 0.5
    assert t.aware


def test_reservation_price_by_hand():
    # U = (-100, -40, -70) KRW at price 0; the option 1 bills 10 kWh per KRW/kWh: it still beats the best
    # other (-70) up to (-40 - (-70)) / 10 = 3.0 KRW/kWh.
    assert Tenant.reservation_price(np.array([-100.0, -40.0, -70.0]), 1, 10.0) == 3.0
    assert np.isnan(Tenant.reservation_price(np.array([-100.0, -40.0, -70.0]), 1, 0.0))  # bills nothing: no bid


def test_logit_choice_at_the_edges_of_the_draw():
    # U = (0, -1,000) KRW at scale 1,000: P = (1, e^-1) / (1 + e^-1) = (0.731, 0.269); a draw of 0.9 falls in the
    # second option's slice.
    assert tenant().choose(np.array([0.0, -1000.0]), 1000.0, _Draw(0.9)) == 1
    # An unavailable option (utility -inf, probability 0) is never chosen, even at a draw of exactly 0.
    assert tenant().choose(np.array([-np.inf, 0.0, -np.inf]), 1.0, _Draw(0.0)) == 1
    # Three equal options and the largest draw below 1: the last option, never one past the end.
    assert tenant().choose(np.array([0.0, 0.0, 0.0]), 1.0, _Draw(1.0 - 1e-13)) == 2


def test_double_auction_edges_by_hand():
    def book(bids, offers, mechanism="uniform_price"):
        return [(m.bid, m.offer, m.mwh, m.price_krw_per_kwh) for m in double_auction(bids, offers, mechanism)]

    # A buys 90 MWh at up to 200 from X (30 at 110), Y (30 at 120), Z (30 at 130): the marginal pair is A/Z,
    # uniform price (200 + 130) / 2 = 165.
    assert book([Order(0, 90, 200)], [Order(10, 30, 110), Order(11, 30, 120), Order(12, 30, 130)]) == [
        (0, 10, 30, 165.0), (0, 11, 30, 165.0), (0, 12, 30, 165.0)]
    # A 3 MWh bid at 120 against X (2 at 100) and Y (2 at 110): 2 from X, then its last 1 MWh from Y;
    # price (120 + 110) / 2 = 115.
    assert book([Order(0, 3, 120)], [Order(10, 2, 100), Order(11, 2, 110)]) == [(0, 10, 2, 115.0), (0, 11, 1, 115.0)]
    # The same on the offer side: X offers 3 MWh at 100 to A (2 at 120) and B (2 at 110): B gets the last
    # 1 MWh; price (110 + 100) / 2 = 105.
    assert book([Order(0, 2, 120), Order(1, 2, 110)], [Order(10, 3, 100)]) == [(0, 10, 2, 105.0), (1, 10, 1, 105.0)]
    # A zero-volume bid trades nothing (no empty match); B then buys 10 at (150 + 100) / 2 = 125.
    assert book([Order(0, 0.0, 200), Order(1, 10, 150)], [Order(10, 10, 100)]) == [(1, 10, 10, 125.0)]


def test_broker_clears_with_its_own_mechanism():
    import mesa

    from re100sim.agents.broker import Broker
    from re100sim.simulator.scenario.config import Broker as BrokerTerms

    kt = Broker(mesa.Model(), BrokerTerms(name="KT", matching="pay_as_bid"))
    got = kt.clear([Order(0, 10, 200)], [Order(10, 10, 110)])
    assert [(m.mwh, m.price_krw_per_kwh) for m in got] == [(10, 110)]  # at the ask, not (200 + 110) / 2


def test_generator_ask_for_an_escalating_contract():
    # Public owner, LCOE 87.587 KRW/kWh (test_generator_offer_price). A 20-year contract escalating 3 %/yr
    # at its 6 % hurdle: levelisation factor sum_{t=1..20} (1.03/1.06)^t / sum_{t=1..20} 1.06^-t
    # = 14.9984 / 11.4699 = 1.30763, so the first-year ask is 87.587 / 1.30763 = 66.98 KRW/kWh.
    g = Generator.__new__(Generator)
    g.spec = GeneratorSpec(name="pv", capacity_kw=1000, owner="public")
    _, ask = g.offer(1400.0, 1.0, 110.0, 72_800.0, escalation_pct_per_year=3.0, term_years=20)
    assert ask == pytest.approx(66.98, abs=0.01)


def test_utilities_weigh_risk_and_cap_the_re_claim_by_hand():
    # value of RE 20,000 KRW/MWh, risk aversion 0.5 per KRW of cost s.d., switching 1 M KRW, now on option 0;
    # claims count up to the 1,000 MWh target.
    cost = np.array([100e6, 90e6, 120e6])
    re_mwh = np.array([0.0, 400.0, 1500.0])
    spread = np.array([5e6, 2e6, 0.0])
    u = Tenant.utilities(cost, re_mwh, spread, 1000.0, 20_000.0, 0.5, 1e6, current=0)
    # U0 = -100e6 + 0 - 0.5 x 5e6 = -102.5e6 (no switching: the current option)
    # U1 = -90e6 + 20,000 x 400 (8e6) - 0.5 x 2e6 (1e6) - 1e6 = -84e6
    # U2 = -120e6 + 20,000 x min(1,500, 1,000) (20e6) - 0 - 1e6 = -101e6
    assert u.tolist() == [-102.5e6, -84e6, -101e6]


def test_reservation_price_with_less_than_one_kwh_paid_per_krw():
    # U = (-100, -40, -70) KRW at price 0 and 0.5 kWh billed per KRW/kWh: (-40 - (-70)) / 0.5 = 60 KRW/kWh.
    assert Tenant.reservation_price(np.array([-100.0, -40.0, -70.0]), 1, 0.5) == 60.0


def test_logit_choice_does_not_depend_on_the_level_of_the_utilities():
    """Only differences of utilities matter: the same choices for utilities 5 bn KRW below or above zero, at a
    scale (1 M KRW, 0.02 % of a 5 bn KRW bill) far below their level, where exp(U / scale) alone would
    underflow to 0 or overflow to inf."""
    for level in (0.0, -5e9, 5e9):
        u = np.array([0.0, -1e6]) + level
        # z = (U - max U) / 1e6 = (0, -1): P = (1, e^-1) / (1 + e^-1) = (0.7311, 0.2689), cumulative 0.7311
        assert tenant().choose(u, 1e6, _Draw(0.5)) == 0, level
        assert tenant().choose(u, 1e6, _Draw(0.75)) == 1, level  # 0.75 > 0.7311


def test_generator_lcoe_below_one_kwh_per_kw():
    g = Generator.__new__(Generator)
    g.spec = GeneratorSpec(name="pv", capacity_kw=1000, owner="public")
    # annual cost 1,200,000 x CRF(6 %, 20) 0.0871846 + 18,000 = 122,621.47 KRW/kW: over 0.5 kWh/kW 245,242.94
    assert g.lcoe_krw_per_kwh(0.5) == pytest.approx(245_242.94, abs=0.01)
    # no output: the yield is floored at 1e-9 kWh/kW, a prohibitive 122,621.47 / 1e-9 = 1.2262147e14 KRW/kWh
    assert g.lcoe_krw_per_kwh(0.0) == pytest.approx(1.2262147e14, rel=1e-7)


def test_generator_ask_defaults_to_a_20_year_contract():
    # escalating 3 %/yr with no term given: the 20-year factor 1.30763, ask 87.587 / 1.30763 = 66.98
    # (a 21-year factor, 1.32145, would give 66.28)
    g = Generator.__new__(Generator)
    g.spec = GeneratorSpec(name="pv", capacity_kw=1000, owner="public")
    _, ask = g.offer(1400.0, 1.0, 110.0, 72_800.0, escalation_pct_per_year=3.0)
    assert ask == pytest.approx(66.98, abs=0.01)


def test_double_auction_one_sided_book_equal_prices_and_dust():
    def book(bids, offers):
        return [(m.bid, m.offer, m.mwh, m.price_krw_per_kwh) for m in double_auction(bids, offers)]

    # A book with bids and no offers, or offers and no bids, clears nothing.
    assert book([Order(0, 10, 200)], []) == [] and book([], [Order(10, 10, 100)]) == []
    # A bid at exactly the ask trades ("at least the offer price"): 10 MWh at (150 + 150) / 2 = 150.
    assert book([Order(0, 10, 150)], [Order(10, 10, 150)]) == [(0, 10, 10, 150.0)]
    # A remaining volume of at most 1e-12 MWh (a millionth of a Wh) is dust: that side is done. A 1e-12 MWh bid
    # that met a zero-volume offer goes no further (it does not trade with Y at 120) ...
    assert book([Order(0, 1e-12, 200)], [Order(10, 0.0, 100), Order(11, 5, 120)]) == []
    # ... nor does a 1e-12 MWh offer that met a zero-volume bid (B at 150 buys nothing).
    assert book([Order(0, 0.0, 200), Order(1, 5, 150)], [Order(10, 1e-12, 100)]) == []


def test_broker_clears_at_the_uniform_price_when_its_terms_say_so():
    import mesa

    from re100sim.agents.broker import Broker
    from re100sim.simulator.scenario.config import Broker as BrokerTerms

    kt = Broker(mesa.Model(), BrokerTerms(name="KT", matching="uniform_price"))
    got = kt.clear([Order(0, 10, 200)], [Order(10, 10, 110)])
    assert [(m.mwh, m.price_krw_per_kwh) for m in got] == [(10, 155.0)]  # (200 + 110) / 2, not the ask 110

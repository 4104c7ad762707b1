"""Energy, money and certificates balance on random small complexes, run through the whole engine."""
from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from re100sim.simulator.engine import ComplexModel
from re100sim.simulator.outputs.results import energy_residual_mwh, money_residual_krw
from re100sim.simulator.scenario.config import Scenario
from re100sim.simulator.scenario.population import expand_tenants

ARCHETYPES = ["continuous", "one_shift", "two_shift"]


@st.composite
def scenarios(draw):
    n_t = draw(st.integers(1, 4))
    tenants = [
        {"name": f"t{i}", "archetype": draw(st.sampled_from(ARCHETYPES)),
         "annual_use_mwh": draw(st.floats(800, 8000)), "contract_kw": draw(st.floats(300, 3000))}
        for i in range(n_t)
    ]
    n_g = draw(st.integers(0, 3))
    gens = []
    for g in range(n_g):
        spec = {"name": f"g{g}", "technology": draw(st.sampled_from(["solar_pv", "fuel_cell"])),
                "capacity_kw": draw(st.floats(100, 2500)), "availability": 1.0}
        role = draw(st.sampled_from(["plain", "host", "pool", "limited"]))
        if role == "host":
            spec["host_tenant"] = f"t{draw(st.integers(0, n_t - 1))}"
        elif role == "pool":
            spec["green_pool"] = True
        elif role == "limited":
            spec["export_limit_kw"] = draw(st.floats(0, 500))
        gens.append(spec)
    contracts, shares = [], {}
    for c in range(draw(st.integers(0, 4))):
        sellers = [g for g in gens if not g.get("green_pool")]
        if not sellers:
            break
        g = draw(st.sampled_from(sellers))
        kind = draw(st.sampled_from(["share", "baseload"]))
        if kind == "share":
            room = 1.0 - shares.get(g["name"], 0.0)
            if room < 0.05:
                continue
            volume = {"kind": "share", "share": draw(st.floats(0.05, room))}
            shares[g["name"]] = shares.get(g["name"], 0.0) + volume["share"]
        else:
            volume = {"kind": "baseload", "block_kw": draw(st.floats(10, 800))}
        price = draw(st.sampled_from([
            {"kind": "fixed", "price_krw_per_kwh": 110.0, "escalation_pct_per_year": 2.0},
            {"kind": "smp_indexed", "adder_krw_per_kwh": 20.0, "floor_krw_per_kwh": 90.0, "cap_krw_per_kwh": 170.0},
            {"kind": "tariff_indexed", "discount_pct": 15.0},
        ]))
        settlement = draw(st.sampled_from(["pay_as_produced", "pay_as_consumed"]))
        min_take = draw(st.sampled_from([0.0, 80.0]))
        # the plant keeps surplus revenue only where the tenant does not pay for the surplus (config validation)
        pays_surplus = settlement == "pay_as_produced" or min_take > 0
        contracts.append({
            "name": f"c{c}", "generator": g["name"], "tenant": f"t{draw(st.integers(0, n_t - 1))}",
            "volume": volume, "price": price, "settlement": settlement, "min_take_pct": min_take,
            "curtailment_compensation_pct": draw(st.sampled_from([0.0, 50.0])),
            "surplus_revenue_to": draw(st.sampled_from([None, "tenant"] + ([] if pays_surplus else ["generator"]))),
            "start_date": "2026-0%d-01" % draw(st.integers(1, 6)), "term_years": 1,
        })
    data = {"name": "random", "start_date": "2026-01-01", "years": 1, "seed": draw(st.integers(0, 10**6)),
            "tenants": tenants, "generators": gens, "contracts": contracts,
            "green_premium": [{"tenant": "t0", "volume_mwh_per_year": 100}] if draw(st.booleans()) else [],
            "rec_purchases": [{"tenant": f"t{n_t - 1}", "target_pct": 20}] if draw(st.booleans()) else []}
    if any(g.get("green_pool") for g in gens):
        data["green_tariff"] = {"allocation": draw(st.sampled_from(["monthly", "hourly"])),
                                "subscribers": [{"tenant": "t0", "subscribed_mwh_per_year": 500}]}
    return data


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_random_complexes_balance(data):
    sc = Scenario.model_validate(data)
    model = ComplexModel(sc, expand_tenants(sc))
    ledger = model.run()
    inv = ledger.invoices()
    assert energy_residual_mwh(ledger.tenant_energy(), ledger.generator_energy()) < 1e-6
    assert money_residual_krw(inv, {"market": (), model.broker.name: ("broker_fee",)}) == 0
    assert max(abs(v) for v in model.certs.check().values()) == 0
    assert (inv["krw"] >= 0).all()
    # Every tenant gets a KEPCO bill every month (backup supply and basic charge).
    bills = inv[(inv.payee == "KEPCO") & (inv.item == "basic_charge")].groupby("payer")["month"].nunique()
    assert bills.reindex([t.name for t in model.tenants]).tolist() == [12] * len(model.tenants)

"""Certificate flows of a month, a quarter and a year (docs/domain.md#certificates, #time-and-settlement).

The :class:`~re100sim.simulator.rules.certificates.CertificateLedger` keeps every certificate with
one owner and at most one retirement; this module decides what is issued, moved
and retired when, and books the KRW of REC trades as invoice lines.

- Monthly: every plant's metered output (generation - curtailment) is registered and
  earns RECs (x source weight) for its owner; bundled PPA RECs follow the energy
  applied to the off-taker's load and are retired for its claim; a tenant-owned
  self-use plant's RECs on self-consumed energy are retired by the host (docs/domain.md#procurement-routes
  table: "RECs of own plant must be retired, not sold, to claim RE use"); the green
  tariff issues one green certificate per kWh allocated, to the utility, which passes
  it to the subscriber with the bill, who retires it (the KIEE 2020 green-tariff paper steps 2-6); green-premium
  volumes are claimed as premium certificates.
- Quarterly (docs/domain.md#time-and-settlement, the broker trades RECs quarterly): RECs still held by plants
  and tenants are sold to the RPS market at the month's REC price.
- Yearly: tenants with an RE target buy unbundled RECs from the market to close the
  gap between target x use and what they claimed, and retire them.
"""
from __future__ import annotations

import numpy as np

from re100sim.simulator.rules.billing import round_won
from re100sim.simulator.rules.certificates import CertificateLedger
from re100sim.simulator.rules.settlement import ppa_billed_kwh, surplus_paid_fraction

RPS_MARKET = "rec_market"  # REC spot market (RPS-obligated buyers, KEA platform): an external party
EXTERNAL_REC_SOURCE = "rec-market-external"  # RECs bought from plants outside the model
MIN_MWH = 1e-6  # the ledger counts whole Wh; smaller amounts are not issued


def rec_owner(plant) -> str:
    """Who receives a plant's RECs: the host tenant for a tenant-owned self-use plant, else the plant."""
    spec = plant.spec
    return spec.host_tenant if (spec.owner == "tenant" and spec.host_tenant) else spec.name


def certify_month(model, r, active, month_key: int, green_kwh: np.ndarray) -> None:
    certs: CertificateLedger = model.certs
    year = month_key // 12
    gen_mwh = (r.gen_kwh[0] - r.gen_curtailed_kwh[0]) / 1000.0
    # own plants' energy the hosts' batteries delivered (it stayed the host's: claimed net of losses)
    from_own_battery = battery_re_claim_kwh(model, r, 1, model.plan.gen_host, r.gen_stored_kwh[0], r.gen_self_kwh[0])
    plants = model.generators
    names = [p.name for p in plants]
    certs.register_generation_many(names, month_key, gen_mwh)
    owners = [rec_owner(p) for p in plants]
    weight = np.array([p.spec.effective_rec_weight() for p in plants], dtype=float)
    net_metered = np.array([p.spec.uses_net_metering() for p in plants], dtype=bool)
    mwh = rec_eligible_mwh_array(gen_mwh, r.gen_export_kwh[0] / 1000.0, net_metered)
    # a tenant-owned self-use plant's RECs on what its host used are retired by the host at once
    self_use = (np.asarray(model.plan.gen_host) >= 0) & np.array([o != n for o, n in zip(owners, names)], dtype=bool)
    claim_mwh = np.where(self_use, (r.gen_self_kwh[0] + from_own_battery) / 1000.0, 0.0)
    issued = np.flatnonzero((mwh >= MIN_MWH) & (weight > 0))
    from_battery = battery_re_claim_kwh(model, r, 2, model.plan.c_tenant[active], r.contract_stored_kwh[0],
                                        r.contract_applied_kwh[0])
    bundled, reserved, has_batch = [], np.zeros(len(plants)), set(issued.tolist())
    for j, c in enumerate(active):
        spec = model.plan.contracts[c]
        g = int(model.plan.c_gen[c])
        if spec.recs != "bundled" or g not in has_batch:
            continue
        e, ap = float(r.contract_contracted_kwh[0, j]), float(r.contract_applied_kwh[0, j])
        stored_mwh = float(r.contract_stored_kwh[0, j]) / 1000.0
        taken = ap + stored_mwh * 1000.0  # applied or stored in the tenant's battery (market.monthly)
        paid = surplus_paid_fraction(e, taken, ppa_billed_kwh(e, taken, spec.settlement, spec.min_take_pct),
                                     spec.surplus_revenue_to)
        applied_mwh = ap / 1000.0
        # bundled: the kWh applied to the tenant's load, retired for its claim, and the surplus it paid
        # for, exported, whose RECs the tenant holds (and sells) instead of the plant; surplus stored in
        # its batteries is its energy too: it claims what they deliver of it (net of losses)
        share = applied_mwh + paid * float(r.contract_surplus_export_kwh[0, j]) / 1000.0 + stored_mwh
        bundled.append((g, model.tenants[model.plan.c_tenant[c]].name, share, applied_mwh + from_battery[j] / 1000.0))
        reserved[g] += share
    # The buyers' shares come first: a host's battery can deliver its plant's energy stored in an earlier
    # month, claimed from this month's batch (battery_re_claim_kwh), and that claim may not take the RECs
    # of kWh a buyer took and paid for; what the batch cannot back is not claimed.
    claim_mwh = np.minimum(claim_mwh, np.maximum(0.0, mwh - reserved))
    ids = certs.issue_many("rec", [names[g] for g in issued], month_key, mwh[issued], [owners[g] for g in issued],
                           weight[issued], retire_mwh=claim_mwh[issued], year=year)
    batch = dict(zip(issued.tolist(), ids))
    for g, tenant, share, claim in bundled:
        share = min(share, certs.batch(batch[g]).mwh)
        if share >= MIN_MWH and certs.batch(batch[g]).status != "retired":
            moved = certs.transfer(batch[g], rec_owner(plants[g]), tenant, share)[0]
            _retire_from(certs, moved, tenant, claim, year)
    _certify_green(model, r, month_key, green_kwh)
    _certify_premiums(certs, model.premiums, month_key)


def _certify_premiums(certs: CertificateLedger, premiums, month_key: int) -> None:
    """Each green-premium subscriber's month of its declared volume, issued to it and retired for its
    claim at once (docs/domain.md#procurement-routes "Green premium")."""
    if not premiums:
        return
    year = month_key // 12
    tenants = [gp.tenant for gp in premiums]
    mwh = np.array([gp.volume_mwh_per_year / 12.0 for gp in premiums])
    if len(set(tenants)) == len(tenants) and not any(certs.held(t, "premium") for t in tenants):
        # each retires exactly its new batch (nothing older is held to go first): one bulk call
        certs.issue_many("premium", ["green_premium"] * len(tenants), month_key, mwh, tenants,
                         retire_mwh=mwh, year=year)
        return
    for t, m in zip(tenants, mwh.tolist()):
        certs.issue("premium", "green_premium", month_key, m, owner=t)
        certs.retire(t, "premium", m, t, year)


def battery_re_claim_kwh(model, r, source: int, tenant: np.ndarray, stored_kwh: np.ndarray,
                         applied_kwh: np.ndarray) -> np.ndarray:
    """kWh of RE from ``source`` (1 own plants, 2 PPA; docs/settlement-kernel.md step 4b) that the tenants'
    batteries delivered this month, per supplier (hosted plant or contract, whose tenant is ``tenant``): each
    tenant's delivered energy of that source shared over its suppliers in proportion to what each stored this
    month (by applied energy in a month it stored nothing). Certificates are retired from the month's batch:
    a simplification of vintages for energy carried over a month end."""
    out = np.zeros(len(tenant))
    if not model.batteries.n or not len(tenant):
        return out
    delivered = np.zeros(len(model.tenants))
    np.add.at(delivered, model.batteries.owner, r.battery_discharged_kwh_by_source[0, :, source])
    for t in np.flatnonzero(delivered > 0):
        mine = tenant == t
        weight = stored_kwh[mine] if stored_kwh[mine].sum() > 0 else applied_kwh[mine]
        if weight.sum() > 0:
            out[mine] = delivered[t] * weight / weight.sum()
    return out


def rec_eligible_mwh(metered_mwh: float, exported_mwh: float, net_metered: bool) -> float:
    """MWh of a plant's month that earn RECs: its metered output, less what net metering credited.

    One payment per kWh: a net-metered kWh is paid by offsetting the host's grid kWh at the tariff
    (docs/domain.md#self-generation), so it earns no REC to sell on top; the self-consumed kWh keep
    theirs, for the owner to retire (docs/domain.md#certificates)."""
    return max(0.0, metered_mwh - exported_mwh) if net_metered else metered_mwh


def rec_eligible_mwh_array(metered_mwh: np.ndarray, exported_mwh: np.ndarray, net_metered: np.ndarray) -> np.ndarray:
    """:func:`rec_eligible_mwh` of each plant (arrays)."""
    return np.where(net_metered, np.maximum(0.0, metered_mwh - exported_mwh), metered_mwh)


def _certify_green(model, r, month_key: int, green_kwh: np.ndarray) -> None:
    """Green certificates on the allocated pool kWh (the KIEE 2020 green-tariff paper steps 2-6): one batch per pool
    plant, pro rata to the energy it delivered, issued to the utility, passed to each
    subscriber with its bill and retired for its claim."""
    certs, kepco = model.certs, model.utility.name
    delivered = np.where(model.plan.gen_pool == 1, r.gen_kwh[0] - r.gen_curtailed_kwh[0], 0.0) / 1000.0
    total_mwh = float(green_kwh.sum()) / 1000.0
    if total_mwh < MIN_MWH or delivered.sum() <= 0:
        return
    share = delivered / delivered.sum()
    takers = [t for t in range(len(green_kwh)) if green_kwh[t] > 0]
    for g, plant in enumerate(model.generators):
        mwh_g = min(total_mwh * float(share[g]), float(delivered[g]))
        if mwh_g < MIN_MWH:
            continue
        certs.issue("green", plant.name, month_key, mwh_g, owner=kepco)
        for i, t in enumerate(takers):
            name = model.tenants[t].name
            held = certs.held(kepco, "green", plant.name)
            mwh = held if i == len(takers) - 1 else min(held, float(green_kwh[t]) / 1000.0 * float(share[g]))
            if mwh >= MIN_MWH:
                certs.transfer(("green", plant.name), kepco, name, mwh)
                certs.retire(name, "green", mwh, name, month_key // 12, source=plant.name)


def _retire_from(certs: CertificateLedger, batch_id: int, owner: str, mwh: float, year: int) -> None:
    """Retire up to ``mwh`` of one batch (this month's) for its owner's claim."""
    mwh = min(float(mwh), certs.batch(batch_id).mwh)
    if mwh >= MIN_MWH and certs.batch(batch_id).status != "retired":
        certs.retire_batch(batch_id, owner, owner, year, mwh=mwh)


def sell_recs_quarterly(model, month_key: int, rec_price_krw_per_rec: float) -> None:
    """Quarter end: plants and tenants sell the RECs they still hold to the RPS market (docs/domain.md#time-and-settlement)."""
    certs, led = model.certs, model.ledger
    holders = sorted({rec_owner(p) for p in model.generators} | {t.name for t in model.tenants})
    for holder in holders:
        held = certs.held(holder, "rec")
        if held < MIN_MWH:
            continue
        moved = certs.transfer("rec", holder, RPS_MARKET, held)
        n = sum(certs.batch(b).certificates for b in moved)
        led.add(month_key, RPS_MARKET, holder, "rec_sale", n, "REC", round_won(n * rec_price_krw_per_rec))


def buy_recs_for_targets(model, month_key: int, year_load_mwh: np.ndarray, rec_price_krw_per_rec: float) -> None:
    """Year end: close each target tenant's gap (target x use - claimed) with unbundled RECs."""
    certs, led = model.certs, model.ledger
    year = month_key // 12
    index = {t.name: i for i, t in enumerate(model.tenants)}
    for rp in model.rec_targets:
        need = rp.target_pct / 100.0 * float(year_load_mwh[index[rp.tenant]]) - certs.retired(rp.tenant, year)
        if need < MIN_MWH:
            continue
        from_market = min(need, certs.held(RPS_MARKET, "rec"))
        if need - from_market >= MIN_MWH:  # the rest from plants outside the complex, weight 1
            extra = need - from_market
            certs.register_generation(EXTERNAL_REC_SOURCE, month_key, extra)
            certs.issue("rec", EXTERNAL_REC_SOURCE, month_key, extra, owner=RPS_MARKET, weight=1.0)
        moved = certs.transfer("rec", RPS_MARKET, rp.tenant, min(need, certs.held(RPS_MARKET, "rec")))
        n = sum(certs.batch(b).certificates for b in moved)
        led.add(month_key, rp.tenant, RPS_MARKET, "rec_purchase", n, "REC", round_won(n * rec_price_krw_per_rec))
        for b in moved:
            certs.retire_batch(b, rp.tenant, rp.tenant, year)

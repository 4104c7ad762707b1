"""Broker: the direct-PPA platform operator (docs/domain.md#agents; the Namdong direct-PPA proposal: KT)."""
from __future__ import annotations

from dataclasses import dataclass

import mesa

from re100sim.simulator.scenario.config import Broker as BrokerTerms


@dataclass(frozen=True)
class Order:
    """A bid (buyer's maximum price) or an offer (seller's minimum price) for yearly MWh."""

    who: int
    mwh: float
    price_krw_per_kwh: float


@dataclass(frozen=True)
class Match:
    bid: int
    offer: int
    mwh: float
    price_krw_per_kwh: float


def double_auction(bids: list[Order], offers: list[Order], mechanism: str = "uniform_price") -> list[Match]:
    """Clear a book of PPA bids and offers.

    Bids are served from the highest price down, offers from the lowest up (ties by id), and
    volume trades while the bid price is at least the offer price. ``uniform_price``: every
    match at the midpoint of the last (marginal) matched bid and offer; ``pay_as_bid``: each
    match at its own offer's price (the seller's ask).
    """
    b = sorted(bids, key=lambda o: (-o.price_krw_per_kwh, o.who))
    s = sorted(offers, key=lambda o: (o.price_krw_per_kwh, o.who))
    i = j = 0
    rb = b[0].mwh if b else 0.0
    rs = s[0].mwh if s else 0.0
    trades: list[tuple[int, int, float]] = []
    while i < len(b) and j < len(s) and b[i].price_krw_per_kwh >= s[j].price_krw_per_kwh:
        q = min(rb, rs)
        if q > 0:
            trades.append((i, j, q))
        rb, rs = rb - q, rs - q
        if rb <= 1e-12:
            i += 1
            rb = b[i].mwh if i < len(b) else 0.0
        if rs <= 1e-12:
            j += 1
            rs = s[j].mwh if j < len(s) else 0.0
    if not trades:
        return []
    if mechanism == "uniform_price":
        last_b, last_s = b[trades[-1][0]], s[trades[-1][1]]
        price = (last_b.price_krw_per_kwh + last_s.price_krw_per_kwh) / 2
        return [Match(b[x].who, s[y].who, q, price) for x, y, q in trades]
    return [Match(b[x].who, s[y].who, q, s[y].price_krw_per_kwh) for x, y, q in trades]


class Broker(mesa.Agent):
    """Meters, settles and bills PPAs, passing network fees through (the Namdong direct-PPA proposal).
    State: its fee terms. Decision: :meth:`clear`."""

    def __init__(self, model: mesa.Model, terms: BrokerTerms):
        super().__init__(model)
        self.terms = terms

    @property
    def name(self) -> str:
        return self.terms.name

    def clear(self, bids: list[Order], offers: list[Order]) -> list[Match]:
        return double_auction(bids, offers, self.terms.matching)

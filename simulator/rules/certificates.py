"""The certificate ledger: who holds, and who claimed, which renewable MWh.

Certificates are energy-attribute claims. The simulator issues them monthly, moves them between
agents and retires them for RE claims; this ledger is the single source of truth for all three and
makes double counting *visible* (:meth:`CertificateLedger.findings`), never silent.

Kinds (docs/domain.md#procurement-routes "Procurement mechanisms"; docs/domain.md#procurement-routes):

- ``rec`` (공급인증서): issued to an eligible generator per MWh x the source weight (docs/domain.md#rec-weights),
  tradeable. One batch of ``mwh`` underlying MWh carries ``mwh * weight`` RECs
  (docs/domain.md#rec-prices: 1 REC = 1 MWh x weight), but it backs an RE claim of ``mwh`` only.
- ``green`` (녹색전력 인증서, green tariff): 1 certificate per kWh of pooled energy, no multiplier
  (docs/domain.md#procurement-routes green tariff step 2), issued to the utility and transferred to the subscriber when
  the bill is paid; resale to third parties is forbidden (step 5); the subscriber retires them to
  claim RE use (step 6). The generator keeps its RECs (step 2), so a REC and a green certificate
  can exist on the same MWh: claiming both is double counting, which :meth:`findings` reports.
- ``premium`` (녹색프리미엄): an RE claim bought as a KRW premium on a declared volume, issued by the
  programme, not linked to a specific plant (docs/domain.md#procurement-routes "Green premium"). Its ``source`` is the
  programme name. Certificate count: 1 per kWh of declared volume, like ``green`` [assumption: the
  unit of the 재생에너지 사용확인서 is not in the spec].

Units. Every batch stores its underlying energy in integer **Wh** (``mwh`` is rounded to the
nearest Wh on the way in), so issued = held + retired holds *exactly* however batches are split.
The certificate count is derived: ``mwh * weight`` RECs, ``mwh * 1000`` green/premium certificates
(one per kWh). All public quantities are MWh of underlying energy unless named ``certificates``.

Rules enforced (each violation raises :class:`CertificateError`, a ``ValueError``):

- a certificate has exactly one owner at any time, and only its owner can transfer or retire it
  (docs/domain.md#procurement-routes "REC": "a certificate must have one owner and be retired once for a claim");
- a certificate is retired once; a retired certificate can be neither transferred nor retired again
  (same rule);
- nobody transfers or retires more than they hold;
- green-tariff certificates are transferred only by their issuing utility (docs/domain.md#procurement-routes green tariff
  step 5: resale forbidden);
- RE claims come only from retirements: a self-use plant's RECs must be retired by its owner to
  claim its own use; if they are sold, the buyer (not the plant owner) holds the claim
  (docs/domain.md#procurement-routes table, "self-generation": "RECs of own plant must be retired, not sold, to claim RE
  use"). The simulator must therefore compute RE shares from :meth:`CertificateLedger.retired`.

Performance: every operation is O(log n) amortised in the number of batches held by the one
owner involved (per-(owner, kind) and per-(owner, kind, source) heaps ordered by month, with lazy
deletion); no operation scans all batches except :meth:`check`, :meth:`findings` and the exports.
"""
from __future__ import annotations

import heapq
import math
from collections import defaultdict
from dataclasses import dataclass
from enum import Enum

import numpy as np

WH_PER_MWH = 1_000_000
CERTIFICATES_PER_MWH = {"green": 1000.0, "premium": 1000.0}  # one per kWh; rec: the weight


class CertificateError(ValueError):
    """Misuse of the certificate ledger (overdraw, resale, double retirement, bad input)."""


class CertKind(str, Enum):
    REC = "rec"
    GREEN = "green"
    PREMIUM = "premium"

    def __str__(self) -> str:  # "rec", not "CertKind.REC", in messages and frames
        return self.value


# Kinds whose source is a physical plant: a claim on them without registered generation is a
# finding. ``premium`` is a programme, not a plant (docs/domain.md#procurement-routes "Green premium").
PLANT_LINKED = frozenset({"rec", "green"})
KINDS = tuple(k.value for k in CertKind)
_KIND_VALUE = {k.value: k.value for k in CertKind} | {k: k.value for k in CertKind}

HELD, RETIRED = "issued", "retired"  # batch status values (``issued`` = live, held by its owner)


def _month_label(month_key: int) -> str:
    """``year*12 + month-1`` -> ``"YYYY-MM"`` (same as :func:`re100sim.simulator.outputs.ledger.month_label`)."""
    return f"{month_key // 12:04d}-{month_key % 12 + 1:02d}"


def _kind(kind) -> str:
    """A kind as its plain string (``"rec"``, ``"green"``, ``"premium"``): cheap to hash in the indexes."""
    try:
        return _KIND_VALUE[kind]
    except (KeyError, TypeError):
        raise CertificateError(
            f"unknown certificate kind {kind!r} (expected one of {[k.value for k in CertKind]})"
        ) from None


def _name(value, what: str) -> str:
    if not isinstance(value, str) or not value:
        raise CertificateError(f"{what} is {value!r} (expected a non-empty string)")
    return value


def _wh(mwh, what: str = "mwh", allow_zero: bool = False) -> int:
    """MWh (float) -> integer Wh, rejecting non-finite, negative and (unless allowed) zero values."""
    try:
        x = float(mwh)
    except (TypeError, ValueError):
        raise CertificateError(f"{what} is {mwh!r} (expected a number of MWh)") from None
    if not math.isfinite(x) or x < 0 or (x == 0 and not allow_zero):
        raise CertificateError(f"{what} is {mwh!r} (expected a finite number {'>=' if allow_zero else '>'} 0 MWh)")
    wh = round(x * WH_PER_MWH)
    if wh == 0 and not allow_zero:
        raise CertificateError(f"{what} is {mwh!r} MWh, below the ledger's resolution of 1 Wh (1e-6 MWh)")
    return wh


def _finite_array(mwh, n: int, what: str) -> np.ndarray:
    try:
        x = np.asarray(mwh, dtype=float)
    except (TypeError, ValueError):
        raise CertificateError(f"{what} is {mwh!r} (expected numbers of MWh)") from None
    if x.shape != (n,):
        raise CertificateError(f"{what} has shape {x.shape} (expected ({n},))")
    bad = ~np.isfinite(x) | (x < 0)
    if bad.any():
        raise CertificateError(f"{what} is {x[bad][0]!r} (expected a finite number >= 0 MWh)")
    return x


def _wh_array(mwh, n: int, allow_zero: bool = False) -> np.ndarray:
    """:func:`_wh` of each element (int64 Wh; ``np.rint`` rounds half to even, as ``round`` does)."""
    x = _finite_array(mwh, n, "mwh")
    wh = np.rint(x * WH_PER_MWH).astype(np.int64)
    if not allow_zero and (wh == 0).any():
        raise CertificateError(f"mwh is {x[wh == 0][0]!r} MWh, below the ledger's resolution of 1 Wh (1e-6 MWh)")
    return wh


def _certs_per_mwh(kind: str, weight: float) -> float:
    return weight if kind == "rec" else CERTIFICATES_PER_MWH[kind]


@dataclass(slots=True)
class Batch:
    """A lot of certificates of one kind on one source-month, with one owner.

    Read-only for callers (mutate only through the ledger). ``wh`` is the underlying energy in
    Wh; ``parent`` is the batch it was split from (``None`` for an issuance).
    """

    id: int
    kind: str  # a CertKind value
    source: str
    month_key: int
    wh: int
    weight: float
    issuer: str
    owner: str
    parent: int | None = None
    status: str = HELD
    claimant: str | None = None
    retired_year: int | None = None
    _ver: int = 0  # bumped when owner or status changes: invalidates heap entries

    @property
    def mwh(self) -> float:
        return self.wh / WH_PER_MWH

    @property
    def certificates(self) -> float:
        return self.wh * _certs_per_mwh(self.kind, self.weight) / WH_PER_MWH


@dataclass(frozen=True, slots=True)
class Claim:
    """Underlying MWh retired for an RE claim, as returned by the retire methods."""

    batch_id: int
    kind: str  # a CertKind value
    source: str
    month_key: int
    mwh: float
    certificates: float


@dataclass(frozen=True)
class Finding:
    """A double-counting or over-issuance problem on one source-month.

    ``problem`` is ``"double_claim"`` (MWh retired against the source-month, all kinds together,
    exceed its registered generation) or ``"over_issuance"`` (certificates of one kind issued on
    more MWh than the source-month generated; ``kinds`` then holds that one kind).
    """

    source: str
    month_key: int
    claimed_mwh: float
    generated_mwh: float
    kinds: tuple[str, ...]
    claimants: tuple[str, ...]
    message: str
    problem: str = "double_claim"
    issued_mwh: float = 0.0
    twice_mwh: float = 0.0  # issued_twice: green-claimed MWh whose REC was issued too (and not already a double claim)

    @property
    def excess_mwh(self) -> float:
        if self.problem == "issued_twice":
            return self.twice_mwh
        base = self.claimed_mwh if self.problem == "double_claim" else self.issued_mwh
        return base - self.generated_mwh


def _pairs_total(pairs) -> dict:
    out: dict = defaultdict(int)
    for (kind, weight), wh in pairs:
        out[kind, weight] += wh
    return out


def _certs(by_kind_weight: dict, kind: str) -> float:
    """Certificates of ``kind`` from integer Wh totals per (kind, weight): exact sums, one rounding."""
    return sum(
        wh * _certs_per_mwh(k, w) / WH_PER_MWH for (k, w), wh in sorted(by_kind_weight.items()) if k == kind
    )


class CertificateLedger:
    """Issue, transfer and retire certificates; report balances, invariants and double counting.

    ``non_resellable``: kinds that only their issuer may transfer (default: ``green``, docs/domain.md#procurement-routes
    green tariff step 5). A subscriber may still retire them.
    """

    def __init__(self, non_resellable=(CertKind.GREEN,)):
        self.non_resellable = frozenset(_kind(k) for k in non_resellable)  # plain strings
        self._batches: dict[int, Batch] = {}
        self._next_id = 0
        # FIFO indexes: heaps of (month_key, batch_id, version); stale entries skipped lazily.
        self._heap: dict[tuple, list] = defaultdict(list)  # (owner, kind)
        self._heap_src: dict[tuple, list] = defaultdict(list)  # (owner, kind, source)
        # Counters (integer Wh).
        self._held: dict[tuple, int] = defaultdict(int)  # (owner, kind)
        self._held_src: dict[tuple, int] = defaultdict(int)  # (owner, kind, source)
        self._issued: dict[str, int] = defaultdict(int)
        self._issued_kw: dict[tuple, int] = defaultdict(int)  # (kind, weight)
        self._issued_sm: dict[tuple, dict] = defaultdict(lambda: defaultdict(int))  # (source, month) -> kind
        self._retired_kind: dict[str, int] = defaultdict(int)
        self._retired_by: dict[str, dict] = defaultdict(lambda: defaultdict(int))  # claimant -> (year, kind)
        self._claims_sm: dict[tuple, dict] = defaultdict(lambda: defaultdict(int))  # (src, mo) -> (kind, claimant)
        self._generated: dict[tuple, int] = defaultdict(int)  # (source, month)
        self._retirement_log: list[int] = []  # batch ids, in order of retirement

    # ------------------------------------------------------------------ generation

    def register_generation(self, source: str, month_key: int, mwh: float) -> None:
        """Record a source-month's generated MWh (from the energy ledger; zero is allowed).

        Calls add up, so a month split across two settled blocks can be registered in parts.
        Claims and issuance are compared with this total by :meth:`findings`.
        """
        self._generated[_name(source, "source"), int(month_key)] += _wh(mwh, allow_zero=True)

    def generated(self, source: str, month_key: int) -> float:
        """Registered generation of one source-month, MWh (0 if none registered)."""
        return self._generated.get((source, int(month_key)), 0) / WH_PER_MWH

    # ------------------------------------------------------------------ operations

    def issue(self, kind, source: str, month_key: int, mwh: float, owner: str, weight: float = 1.0) -> int:
        """Issue certificates on ``mwh`` of ``source``'s energy in ``month_key`` to ``owner``.

        RECs carry ``mwh * weight`` certificates (docs/domain.md#rec-prices, #rec-weights; docs/domain.md#unbundled-recs); green and
        premium certificates have no multiplier (docs/domain.md#procurement-routes green tariff step 2) and ``weight``
        must be 1. For green certificates the owner is the utility (step 2: issued to the utility),
        which becomes the batch's issuer: the only agent allowed to transfer them (step 5).
        Returns the new batch id.
        """
        kind = _kind(kind)
        source, owner = _name(source, "source"), _name(owner, "owner")
        wh = _wh(mwh)
        try:
            weight = float(weight)
        except (TypeError, ValueError):
            raise CertificateError(f"weight is {weight!r} (expected a number)") from None
        if kind == "rec":
            if not (math.isfinite(weight) and weight > 0):
                raise CertificateError(f"REC weight is {weight!r} (expected > 0 certificates per MWh)")
        elif weight != 1.0:
            raise CertificateError(f"{kind} certificates have no multiplier: weight is {weight!r} (expected 1.0)")
        month_key = int(month_key)
        b = Batch(self._next_id, kind, source, month_key, wh, weight, issuer=owner, owner=owner)
        self._next_id += 1
        self._batches[b.id] = b
        self._add_held(b)
        self._issued[kind] += wh
        self._issued_kw[kind, weight] += wh
        self._issued_sm[source, month_key][kind] += wh
        return b.id

    def register_generation_many(self, sources, month_key: int, mwh) -> None:
        """:meth:`register_generation` of each (``sources[i]``, ``mwh[i]``) in one month."""
        wh = _wh_array(mwh, len(sources), allow_zero=True)
        month_key = int(month_key)
        gen = self._generated
        for source, w in zip(sources, wh.tolist()):
            gen[_name(source, "source"), month_key] += w

    def issue_many(self, kind, sources, month_key: int, mwh, owners, weights=None, *,
                   retire_mwh=None, year: int | None = None) -> list[int]:
        """A month's batches at once: row ``i`` is ``issue(kind, sources[i], month_key, mwh[i],
        owners[i], weights[i])`` followed, where ``retire_mwh`` is given, by its owner retiring up to
        ``retire_mwh[i]`` of that new batch for its own claim in ``year`` (``retire_batch(id, owner,
        owner, year, mwh=min(retire_mwh[i], batch mwh))``, skipped below the ledger's 1 Wh), in row
        order: the same batches, ids, splits, counters and findings as those calls one by one
        (tests/test_certificates.py checks it), with the amounts checked and rounded as arrays.
        Returns the issued batch ids (a partly retired batch keeps its id; the retired part is the
        next id, ``parent`` = that batch)."""
        kind = _kind(kind)
        n = len(sources)
        if len(owners) != n:
            raise CertificateError(f"{len(owners)} owners for {n} sources (expected one per batch)")
        wh = _wh_array(mwh, n)
        w = np.ones(n) if weights is None else np.asarray(weights, dtype=float)
        if w.shape != (n,):
            raise CertificateError(f"weights have shape {w.shape} (expected ({n},))")
        if kind == "rec":
            if not (np.isfinite(w) & (w > 0)).all():
                raise CertificateError(f"REC weight is {w[~(np.isfinite(w) & (w > 0))][0]!r} "
                                       "(expected > 0 certificates per MWh)")
        elif (w != 1.0).any():
            raise CertificateError(f"{kind} certificates have no multiplier: weight is {w[w != 1.0][0]!r} (expected 1.0)")
        take = np.zeros(n, dtype=np.int64)
        if retire_mwh is not None:
            if isinstance(year, bool) or not isinstance(year, int):
                raise CertificateError(f"year is {year!r} (expected an int calendar year)")
            r = np.asarray(retire_mwh, dtype=float)
            if r.shape != (n,) or not np.isfinite(r).all():
                raise CertificateError(f"retire_mwh is {retire_mwh!r} (expected {n} finite numbers of MWh)")
            r = np.minimum(r, wh / WH_PER_MWH)  # nothing below 1 Wh (or negative) is retired
            take = np.where(r >= 1.0 / WH_PER_MWH, np.rint(r * WH_PER_MWH), 0).astype(np.int64)
        split = (take > 0) & (take < wh)
        ids = self._next_id + np.arange(n) + np.cumsum(split) - split  # a split takes the id after its batch
        self._next_id += n + int(split.sum())
        month_key = int(month_key)
        batches, issued_kw, issued_sm = self._batches, self._issued_kw, self._issued_sm
        for i, (source, owner, b_id, b_wh, weight, t) in enumerate(
                zip(sources, owners, ids.tolist(), wh.tolist(), w.tolist(), take.tolist())):
            source, owner = _name(source, "source"), _name(owner, "owner")
            b = Batch(b_id, kind, source, month_key, b_wh, weight, issuer=owner, owner=owner)
            batches[b_id] = b
            issued_kw[kind, weight] += b_wh
            issued_sm[source, month_key][kind] += b_wh
            if t == 0:
                self._add_held(b)
                continue
            if t < b_wh:  # the rest stays held; the retired part is a batch of its own
                b.wh -= t
                self._add_held(b)
                b = Batch(b_id + 1, kind, source, month_key, t, weight, owner, owner, b_id)
                batches[b.id] = b
            b.status, b.claimant, b.retired_year, b._ver = RETIRED, owner, year, 1
            self._retirement_log.append(b.id)
            self._retired_by[owner][year, kind] += t
            self._claims_sm[source, month_key][kind, owner] += t
        if n:
            self._issued[kind] += int(wh.sum())
        if take.any():
            self._retired_kind[kind] += int(take.sum())
        return ids.tolist()

    def transfer(self, selector, from_owner: str, to_owner: str, mwh: float | None = None, *,
                 source: str | None = None) -> list[int]:
        """Move ``mwh`` of certificates from ``from_owner`` to ``to_owner``; return the moved batch ids.

        ``selector`` is a batch id (``int``; ``mwh=None`` moves the whole batch), a kind (moves
        the owner's holdings of that kind, oldest month first), or a ``(kind, source)`` pair (only
        that source, oldest first; the keyword ``source`` does the same). A partial move splits a
        batch: the moved part becomes a new batch (``parent`` = the original), the rest stays.
        Raises if ``from_owner`` holds less than ``mwh`` of the selection, if any selected batch
        is retired or owned by someone else (docs/domain.md#procurement-routes "REC": one owner), or if a non-resellable
        kind (green, docs/domain.md#procurement-routes green tariff step 5) would be moved by anyone but its issuer.
        """
        from_owner, to_owner = _name(from_owner, "from_owner"), _name(to_owner, "to_owner")
        if from_owner == to_owner:
            raise CertificateError(f"transfer from {from_owner!r} to itself")
        plan = self._select(selector, from_owner, mwh, source, "transfer")
        for b, _ in plan:
            if b.kind in self.non_resellable and b.issuer != from_owner:
                raise CertificateError(
                    f"{b.kind} certificates of batch {b.id} ({b.source} {_month_label(b.month_key)}) may not be "
                    f"resold: only the issuer {b.issuer!r} may transfer them, not {from_owner!r} "
                    "(docs/domain.md#procurement-routes green tariff step 5)"
                )
        return [self._move(b, take, to_owner) for b, take in plan]

    def retire(self, owner: str, kind, mwh: float, claimant: str, year: int, *,
               source: str | None = None) -> list[Claim]:
        """Retire ``mwh`` of ``owner``'s certificates of ``kind`` for ``claimant``'s RE claim in ``year``.

        Oldest month first (optionally only one ``source``). The retired MWh count against their
        underlying (source, month) in :meth:`findings`. A certificate is retired once
        (docs/domain.md#procurement-routes "REC"); the claimant may differ from the owner (e.g. a broker retiring for a
        tenant). A self-use plant's owner claims its own use only by retiring its own RECs
        (docs/domain.md#procurement-routes table, self-generation). Returns what was claimed, per batch.
        """
        owner = _name(owner, "owner")
        plan = self._select((_kind(kind), source) if source is not None else _kind(kind), owner, mwh, None, "retire")
        return self._retire_plan(plan, claimant, year)

    def retire_batch(self, batch_id: int, owner: str, claimant: str, year: int,
                     mwh: float | None = None) -> list[Claim]:
        """Retire one batch (or ``mwh`` of it). Raises if it is already retired (docs/domain.md#procurement-routes "REC")."""
        plan = self._select(batch_id, _name(owner, "owner"), mwh, None, "retire")
        return self._retire_plan(plan, claimant, year)

    # ------------------------------------------------------------------ queries

    def batch(self, batch_id: int) -> Batch:
        """The batch with this id (read-only)."""
        try:
            return self._batches[batch_id]
        except (KeyError, TypeError):
            raise CertificateError(f"no certificate batch with id {batch_id!r}") from None

    def held(self, owner: str, kind=None, source: str | None = None) -> float:
        """MWh of live (unretired) certificates held by ``owner`` (of ``kind``, from ``source``)."""
        kinds = KINDS if kind is None else (_kind(kind),)
        if source is None:
            return sum(self._held.get((owner, k), 0) for k in kinds) / WH_PER_MWH
        return sum(self._held_src.get((owner, k, source), 0) for k in kinds) / WH_PER_MWH

    def retired(self, claimant: str, year: int | None = None, kind=None) -> float:
        """MWh retired for ``claimant``'s RE claims (in ``year``, of ``kind``)."""
        kind = None if kind is None else _kind(kind)
        return sum(
            wh for (y, k), wh in self._retired_by.get(claimant, {}).items()
            if (year is None or y == year) and (kind is None or k == kind)
        ) / WH_PER_MWH

    def issued(self, kind=None) -> float:
        """MWh of underlying energy on which certificates (of ``kind``) were ever issued."""
        if kind is None:
            return sum(self._issued.values()) / WH_PER_MWH
        return self._issued.get(_kind(kind), 0) / WH_PER_MWH

    def __len__(self) -> int:
        return len(self._batches)

    # ------------------------------------------------------------------ invariants

    def check(self) -> dict[str, float]:
        """Recount every batch and return residuals; all are 0 in a consistent ledger.

        - ``<kind>.mwh``, ``<kind>.certificates``: issued - held - retired, per kind;
        - ``held_index_mwh``: total |held counter - recount| over (owner, kind) (the O(1) balances);
        - ``retired_index_mwh``: |retired counters - recount of retired batches|;
        - ``retired_twice``: batch ids retired more than once, or retired batches still indexed as held;
        - ``ownerless``: batches without exactly one owner (an empty owner);
        - ``nonpositive``: batches with <= 0 Wh.
        """
        held_kw: dict = defaultdict(int)
        ret_kw: dict = defaultdict(int)
        held_idx: dict = defaultdict(int)
        ret_total = 0
        out: dict[str, float] = {}
        ownerless = nonpositive = 0
        for b in self._batches.values():
            ownerless += not (isinstance(b.owner, str) and b.owner)
            nonpositive += b.wh <= 0
            if b.status == RETIRED:
                ret_kw[b.kind, b.weight] += b.wh
                ret_total += b.wh
            else:
                held_kw[b.kind, b.weight] += b.wh
                held_idx[b.owner, b.kind] += b.wh
        for k in KINDS:
            iss = self._issued.get(k, 0)
            held = sum(wh for (kk, _), wh in held_kw.items() if kk == k)
            ret = sum(wh for (kk, _), wh in ret_kw.items() if kk == k)
            out[f"{k}.mwh"] = (iss - held - ret) / WH_PER_MWH
            out[f"{k}.certificates"] = _certs(self._issued_kw, k) - _certs(
                _pairs_total(list(held_kw.items()) + list(ret_kw.items())), k
            )
        keys = set(held_idx) | {key for key, wh in self._held.items() if wh}
        out["held_index_mwh"] = sum(abs(self._held.get(key, 0) - held_idx.get(key, 0)) for key in keys) / WH_PER_MWH
        out["retired_index_mwh"] = abs(sum(self._retired_kind.values()) - ret_total) / WH_PER_MWH
        log = self._retirement_log
        twice = len(log) - len(set(log))
        twice += sum(self._batches[i].status != RETIRED for i in set(log))
        twice += sum(b.status == RETIRED for b in self._batches.values()) - len(set(log))
        out["retired_twice"] = float(twice)
        out["ownerless"] = float(ownerless)
        out["nonpositive"] = float(nonpositive)
        return out

    # ------------------------------------------------------------------ double counting

    def findings(self) -> list[Finding]:
        """Double claims and over-issuance, by (month, source).

        - ``double_claim``: the MWh retired against one (source, month), all kinds and claimants
          together, exceed its registered generation (e.g. the KIEE 2020 green-tariff paper's green tariff: the plant keeps
          its RECs while the subscriber gets green certificates on the same MWh; both retired is
          double counting). A claim on a plant-linked kind (rec, green) with no generation
          registered is reported too (generated 0). Premium-only claims on a programme with no
          registered generation are not plant-linked and are not reported.
        - ``issued_twice``: MWh whose green certificate is claimed while a REC on the same MWh was
          issued and sold or kept (the KIEE 2020 green-tariff paper: the plant keeps its RECs and sells them
          to RPS buyers, who count the same MWh): ``max(0, green claimed + REC issued - generated)``, less
          what is already a ``double_claim`` (a REC retired for a claim), so no MWh is reported twice.
        - ``over_issuance``: certificates of one kind issued on more MWh than the source-month
          generated (checked where generation is registered or the kind is plant-linked).
        """
        out: list[Finding] = []
        for (source, month), claims in self._claims_sm.items():
            registered = (source, month) in self._generated
            kinds = {k for k, _ in claims}
            if not registered and not kinds & PLANT_LINKED:
                continue
            gen = self._generated.get((source, month), 0)
            claimed = sum(claims.values())
            if claimed <= gen:
                continue
            parts = "; ".join(
                f"{k} {wh / WH_PER_MWH:,.6g} MWh by {c}" for (k, c), wh in sorted(claims.items())
            )
            note = "" if registered else " (no generation registered)"
            out.append(Finding(
                source, month, claimed / WH_PER_MWH, gen / WH_PER_MWH,
                tuple(sorted(kinds)), tuple(sorted({c for _, c in claims})),
                f"double counting: {source} {_month_label(month)}: {claimed / WH_PER_MWH:,.6g} MWh claimed "
                f"({parts}) against {gen / WH_PER_MWH:,.6g} MWh generated{note}",
                problem="double_claim",
            ))
        for (source, month), claims in self._claims_sm.items():
            green = sum(wh for (k, _), wh in claims.items() if k == "green")
            rec_issued = self._issued_sm.get((source, month), {}).get("rec", 0)
            if not green or not rec_issued:
                continue
            gen = self._generated.get((source, month), 0)
            double = max(0, sum(claims.values()) - gen)
            twice = max(0, green + rec_issued - gen) - double
            if twice > 0:
                claimants = tuple(sorted({c for (k, c) in claims if k == "green"}))
                out.append(Finding(
                    source, month, green / WH_PER_MWH, gen / WH_PER_MWH, ("green", "rec"), claimants,
                    f"issued twice: {source} {_month_label(month)}: {twice / WH_PER_MWH:,.6g} MWh claimed with green "
                    f"certificates by {', '.join(claimants)} also carry RECs ({rec_issued / WH_PER_MWH:,.6g} MWh issued)",
                    problem="issued_twice", issued_mwh=rec_issued / WH_PER_MWH, twice_mwh=twice / WH_PER_MWH,
                ))
        for (source, month), by_kind in self._issued_sm.items():
            registered = (source, month) in self._generated
            gen = self._generated.get((source, month), 0)
            for k, wh in sorted(by_kind.items()):
                if wh <= gen or not (registered or k in PLANT_LINKED):
                    continue
                claims = self._claims_sm.get((source, month), {})
                claimed = sum(v for (kk, _), v in claims.items() if kk == k)
                note = "" if registered else " (no generation registered)"
                out.append(Finding(
                    source, month, claimed / WH_PER_MWH, gen / WH_PER_MWH, (str(k),),
                    tuple(sorted({c for (kk, c) in claims if kk == k})),
                    f"over-issuance: {source} {_month_label(month)}: {k} certificates issued on "
                    f"{wh / WH_PER_MWH:,.6g} MWh against {gen / WH_PER_MWH:,.6g} MWh generated{note}",
                    problem="over_issuance", issued_mwh=wh / WH_PER_MWH,
                ))
        out.sort(key=lambda f: (f.month_key, f.source, f.problem, f.kinds))
        return out

    # ------------------------------------------------------------------ export

    def batches_frame(self):
        """One row per batch (pandas.DataFrame), in id order."""
        import pandas as pd

        rows = [
            (b.id, b.kind, b.source, _month_label(b.month_key), b.month_key, b.owner, b.issuer,
             b.mwh, b.weight, b.certificates, b.status, b.claimant, b.retired_year, b.parent)
            for b in self._batches.values()
        ]
        cols = ["id", "kind", "source", "month", "month_key", "owner", "issuer", "mwh", "weight",
                "certificates", "status", "claimant", "retired_year", "parent"]
        df = pd.DataFrame(rows, columns=cols)
        return df.astype({"id": "int64", "month_key": "int64", "mwh": "float64", "weight": "float64",
                          "certificates": "float64", "retired_year": "Int64", "parent": "Int64"})

    def findings_frame(self):
        """:meth:`findings` as a pandas.DataFrame (one row per finding)."""
        import pandas as pd

        cols = ["problem", "source", "month", "month_key", "claimed_mwh", "generated_mwh", "issued_mwh",
                "excess_mwh", "kinds", "claimants", "message"]
        rows = [
            (f.problem, f.source, _month_label(f.month_key), f.month_key, f.claimed_mwh, f.generated_mwh,
             f.issued_mwh, f.excess_mwh, ",".join(f.kinds), ",".join(f.claimants), f.message)
            for f in self.findings()
        ]
        return pd.DataFrame(rows, columns=cols)

    # ------------------------------------------------------------------ internals

    def _push(self, b: Batch) -> None:
        entry = (b.month_key, b.id, b._ver)
        heapq.heappush(self._heap[b.owner, b.kind], entry)
        heapq.heappush(self._heap_src[b.owner, b.kind, b.source], entry)

    def _add_held(self, b: Batch) -> None:
        self._held[b.owner, b.kind] += b.wh
        self._held_src[b.owner, b.kind, b.source] += b.wh
        self._push(b)

    def _sub_held(self, owner: str, b: Batch, wh: int) -> None:
        self._held[owner, b.kind] -= wh
        self._held_src[owner, b.kind, b.source] -= wh

    def _select(self, selector, owner: str, mwh, source, verb: str) -> list[tuple[Batch, int]]:
        """Plan which (batch, Wh) to take from ``owner`` without changing anything; raise on misuse."""
        if isinstance(selector, int) and not isinstance(selector, bool):
            b = self.batch(selector)
            if b.status == RETIRED:
                raise CertificateError(
                    f"cannot {verb} batch {b.id}: already retired for {b.claimant!r} in {b.retired_year} "
                    "(a certificate is retired once, docs/domain.md#procurement-routes)"
                )
            if b.owner != owner:
                raise CertificateError(f"cannot {verb} batch {b.id}: it is owned by {b.owner!r}, not {owner!r}")
            if source is not None and source != b.source:
                raise CertificateError(f"batch {b.id} is from {b.source!r}, not {source!r}")
            wh = b.wh if mwh is None else _wh(mwh)
            if wh > b.wh:
                raise CertificateError(
                    f"cannot {verb} {wh / WH_PER_MWH:,.6g} MWh of batch {b.id}: it holds {b.mwh:,.6g} MWh"
                )
            return [(b, wh)]
        if isinstance(selector, tuple):
            if len(selector) != 2:
                raise CertificateError(f"selector {selector!r} (expected a batch id, a kind or (kind, source))")
            kind, sel_source = _kind(selector[0]), _name(selector[1], "source")
            if source is not None and source != sel_source:
                raise CertificateError(f"selector source {sel_source!r} conflicts with source={source!r}")
            source = sel_source
        else:
            kind = _kind(selector)
        if mwh is None:
            raise CertificateError(f"{verb} of {owner!r}'s {kind} holdings needs an amount in mwh")
        wh = _wh(mwh)
        if source is None:
            have, heap = self._held.get((owner, kind), 0), self._heap.get((owner, kind))
            what = f"{kind} certificates"
        else:
            source = _name(source, "source")
            have, heap = self._held_src.get((owner, kind, source), 0), self._heap_src.get((owner, kind, source))
            what = f"{kind} certificates from {source!r}"
        if wh > have:
            raise CertificateError(
                f"cannot {verb} {wh / WH_PER_MWH:,.6g} MWh of {what}: {owner!r} holds {have / WH_PER_MWH:,.6g} MWh"
            )
        plan, kept, need = [], [], wh
        while need > 0:  # the counter guarantees the heap holds enough live entries
            entry = heapq.heappop(heap)
            b = self._batches[entry[1]]
            if b._ver != entry[2]:
                continue  # stale: the batch changed owner or was retired since this entry
            kept.append(entry)
            take = min(need, b.wh)
            plan.append((b, take))
            need -= take
        for entry in kept:
            heapq.heappush(heap, entry)
        return plan

    def _move(self, b: Batch, wh: int, to_owner: str) -> int:
        self._sub_held(b.owner, b, wh)
        if wh == b.wh:
            b.owner = to_owner
            b._ver += 1
            moved = b
        else:
            b.wh -= wh
            moved = Batch(self._next_id, b.kind, b.source, b.month_key, wh, b.weight, b.issuer, to_owner, b.id)
            self._next_id += 1
            self._batches[moved.id] = moved
        self._add_held(moved)
        return moved.id

    def _retire_plan(self, plan: list[tuple[Batch, int]], claimant: str, year: int) -> list[Claim]:
        claimant = _name(claimant, "claimant")
        if isinstance(year, bool) or not isinstance(year, int):
            raise CertificateError(f"year is {year!r} (expected an int calendar year)")
        out = []
        for b, wh in plan:
            self._sub_held(b.owner, b, wh)
            if wh == b.wh:
                r = b
            else:
                b.wh -= wh
                r = Batch(self._next_id, b.kind, b.source, b.month_key, wh, b.weight, b.issuer, b.owner, b.id)
                self._next_id += 1
                self._batches[r.id] = r
            r.status, r.claimant, r.retired_year = RETIRED, claimant, year
            r._ver += 1
            self._retirement_log.append(r.id)
            self._retired_kind[r.kind] += wh
            self._retired_by[claimant][year, r.kind] += wh
            self._claims_sm[r.source, r.month_key][r.kind, claimant] += wh
            out.append(Claim(r.id, r.kind, r.source, r.month_key, r.mwh, r.certificates))
        return out

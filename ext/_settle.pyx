# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Hourly settlement kernel (spec: ``docs/settlement-kernel.md``).

One fused pass over the hours of a block, with no Python object inside the loop (it runs
under ``nogil``). The spec's rules but the batteries carry no state from one hour to the next
(only the monthly sums do), so the pass walks the hours in **tiles** of ``HB`` consecutive hours
of one month and runs steps 1-4 and 5-6 on all the tile's hours at once; step 4b (batteries, the
one sequential state: state of charge and cycles) walks the tile's hours one by one for each
battery, between them. Otherwise: each per-tenant / per-plant / per-contract
quantity is a lane vector over the tile's hours (``R[t, 0:HB]`` residual load, ``A[g, 0:HB]``
available output, ...). Tenants, plants and contracts are still visited in the spec's order
(contracts in priority order); the fixed-length inner loops over the lanes are what the C
compiler turns into SIMD code. Each tile is added into small lane-wise (``VL`` lanes)
accumulators of the current month per tenant / plant / contract, which are summed across
lanes and flushed into the (M, .) outputs at each month boundary. Memory: the outputs plus
O((T + G + C) * HB) scratch.

Floating-point sums are grouped differently from the NumPy reference, so results agree with
it to rounding (~1e-15 relative), not bit for bit: sums run per lane, then across lanes; a
contract's surplus is derived at the flush as contracted - applied and its exported surplus
as surplus - curtailed; a tenant's ``ppa_kwh`` / ``self_kwh`` and a plant's PPA totals are
summed from the contracts' and plants' monthly totals; ``load_kwh`` / ``grid_kwh`` are the
sums of the three TOU sums; a "passive" tenant (no contract, no hosted plant, no hourly pool
share) has grid = load, so its grid sums are copied from its load sums.

Use :func:`re100sim.simulator.rules.kernel.settle_block`, which validates the inputs first: this module
trusts its indices (no bounds checks). It checks ``load_kwh`` (per month: lane minimum >= 0,
and the month's sums finite, which NaN / inf would break) and ``gen_kwh`` (per value) itself,
in its pass, and raises ``ValueError``.
"""
from libc.stdlib cimport malloc, free
from libc.string cimport memset, memcpy
from libc.float cimport DBL_MAX

import numpy as np
cimport numpy as cnp

cnp.import_array()

cdef extern from "stdlib.h" nogil:
    int posix_memalign(void** memptr, size_t alignment, size_t size)

cdef extern from *:
    """
    #if defined(__GNUC__) || defined(__clang__)
    #define RE100SIM_PREFETCH(p) __builtin_prefetch((p), 0, 2)
    #else
    #define RE100SIM_PREFETCH(p) ((void)(p))
    #endif
    """
    void _prefetch "RE100SIM_PREFETCH"(const void* p) noexcept nogil

cdef enum:
    HB = 16        # hours per tile (lane vector length)
    VL = 8         # lanes of the monthly accumulators (summed across lanes at the flush)

# Per-tenant accumulators (array of structs: N_TA doubles per tenant).
cdef enum:
    TA_GRID = 0    # 7 fields: kWh at TOU 0, 1, 2; kWh x tariff price at TOU 0, 1, 2; peak (TOU != 0)
    TA_LOAD = 7    # the same 7 fields for the load (grid-only baseline)
    TA_LMIN = 14   # minimum load (input check: must stay >= 0)
    TA_POOL = 15   # pool energy applied (hourly mode)
    TA_NPK = 16    # peak of the import before batteries (battery owners; TOU != 0)
    TA_SPK = 17    # peak of the site's inflow, load + battery charging from outside - delivery (owners)
    N_TA = 18
    TA_FIELDS = 7  # fields per TA_GRID / TA_LOAD group
    TA_PEAK = 6    # offset of the peak within a group

# Per-plant accumulators (N_GA doubles per plant).
cdef enum:
    GA_GEN = 0
    GA_SELF = 1
    GA_POOL = 2
    GA_POOLAP = 3
    GA_EXP = 4
    GA_CURT = 5
    GA_EXPSMP = 6
    GA_GSMP = 7
    GA_STORED = 8  # the host's remainder stored in its batteries
    N_GA = 9

# Per-tariff lane rows in the mask block: TOU 0, 1, 2 indicators, TOU != 0 indicator.
cdef enum:
    N_MK = 4

cdef enum:
    ERR_NONE = 0
    ERR_LOAD = 1
    ERR_GEN = 2


ctypedef struct CParam:
    # Static parameters of one contract, branch-free form:
    #   target = share * base[g] + block * valid + profile[p]   (only one term is non-zero)
    #   price  = clip(a0 + a1 * smp + a2 * tariff_price[k], lo, hi)
    int g          # plant
    int t          # off-taker
    int p          # profile column, or P (an all-zero row) for kinds 0 and 1
    int k          # off-taker's tariff
    int slot       # row of the surplus buffer if the plant has an export limit, else the dummy row
    int pad
    double share   # kind 0 share, else 0
    double block   # kind 1 block kW, else 0
    double a0
    double a1
    double a2
    double lo
    double hi


# Per-contract accumulators (N_CA x VL doubles per contract); surplus = e - ap at the flush.
cdef enum:
    CA_E = 0        # contracted
    CA_AP = 1       # applied
    CA_UND = 2      # undelivered
    CA_EKRW = 3     # e x price
    CA_AKRW = 4     # applied x price
    CA_AVOID = 5    # applied x tenant tariff price
    CA_SURSMP = 6   # surplus x smp
    CA_CURT = 7     # surplus curtailed
    CA_CURTSMP = 8  # surplus curtailed x smp
    CA_STORED = 9   # surplus stored in the off-taker's batteries
    CA_STSMP = 10   # surplus stored x smp
    N_CA = 11

# Battery strategies (STRATEGY in settlement_reference) and monthly accumulators (scalars).
cdef enum:
    S_SELF = 0
    S_PEAK = 1
    S_TOU = 2
    S_RE = 3
    BA_CH = 0      # charged kWh by source (grid, own, PPA)
    BA_DIS = 3     # discharged kWh by source
    BA_LOSS = 6    # losses by source
    BA_LPK = 9     # the owner's billed-hours load peak of the month so far (re_matching's site-draw cap)
    N_BA = 10
    N_SRC = 3


ctypedef struct BParam:
    int t          # owner tenant
    int strat
    int k          # owner's tariff
    int pad
    double e0      # nameplate kWh
    double p       # kW
    double etac
    double etad
    double smin
    double smax
    double fade
    double target


# Pool accumulators (N_PA x VL).
cdef enum:
    PA_POOL = 0
    PA_AP = 1
    PA_SMP = 2
    N_PA = 3


ctypedef struct Kern:
    Py_ssize_t H, T, G, C, K, P, M
    int pool_hourly
    double W
    # inputs
    const double* load
    const double* gen
    const int* month
    const double* tprice
    const signed char* ttou
    const double* smp
    const double* prof
    const double* lim
    const int* tar           # tenant_tariff
    const int* gen_host
    const int* c_gen
    const int* c_tenant
    # derived (built before the loop)
    const int* host_g        # hosted plants, in plant order, and their hosts
    const int* host_t
    Py_ssize_t n_host
    const int* pool_g        # pool plants
    Py_ssize_t n_pool
    const int* sub_t         # subscribers (sub_weight > 0), in tenant order, and weights
    const double* sub_w
    Py_ssize_t n_sub
    const int* cstart        # G+1: contracts of plant g are clist[cstart[g]:cstart[g+1]]
    const int* clist
    const char* limited      # plant has a finite export limit
    const char* passive      # tenant without contract, hosted plant or pool share: grid = load
    CParam* cpar
    # batteries (step 4b)
    Py_ssize_t NB            # number of batteries
    BParam* bpar
    double* bsoc             # B x 3 state of charge by source
    double* bstart           # B x 3 at the start of the current month
    double* bcyc             # B equivalent full cycles
    double* bcap             # B capacity
    double* bacc             # B x N_BA this month
    const int* own_start     # T+1: plants hosted by t are own_list[own_start[t]:own_start[t+1]]
    const int* own_list
    const int* ppa_start     # T+1: contracts of t are ppa_list[ppa_start[t]:ppa_start[t+1]]
    const int* ppa_list
    const char* has_bat      # tenant owns a battery
    const int* bat_t         # the owners, each once, in tenant order
    Py_ssize_t n_bat_t
    double* GC               # T x HB grid energy bought to charge batteries
    double* BN               # T x HB battery charging from outside the meter (grid, PPA) - delivery
    # accumulators of the current month
    double* cacc             # C x N_CA x VL
    double* tacc             # T x N_TA x VL
    double* gacc             # G x N_GA x VL
    double* pacc             # N_PA x VL
    # tile scratch (lane vectors of HB doubles)
    double* smp_v            # HB
    double* valid            # HB: 1 for hours of the tile, 0 for padding
    double* TP               # K x HB tariff price
    double* MK               # K x N_MK x HB TOU indicators
    double* PR               # (P + 1) x HB profile volumes (last row 0)
    double* R                # T x HB residual load
    double* A                # G x HB available output
    double* B                # G x HB base (after self-generation)
    double* XS               # G x HB contract surplus of the plant
    double* S                # (n_slots + 1) x HB contract surplus (plants with a limit)
    double* PV               # HB pool
    # outputs, (M, .) C-contiguous
    double* o_tload
    double* o_tgrid
    double* o_tself
    double* o_tppa
    double* o_tpool
    double* o_tgtou
    double* o_tltou
    double* o_tgkrw
    double* o_tlkrw
    double* o_tgpk
    double* o_tlpk
    double* o_tnpk
    double* o_tbdis
    double* o_tbgc
    double* o_tbre
    double* o_tspk
    double* o_gstored
    double* o_cstored
    double* o_bch
    double* o_bdis
    double* o_bloss
    double* o_bsoc0
    double* o_bsoc1
    double* o_bcyc
    double* o_bcap
    double* o_gen
    double* o_gself
    double* o_gppa
    double* o_gsx
    double* o_gpool
    double* o_gpoolap
    double* o_gexp
    double* o_gcurt
    double* o_gexpsmp
    double* o_gsmp
    double* o_ce
    double* o_cap
    double* o_csx
    double* o_csc
    double* o_cund
    double* o_cekrw
    double* o_cakrw
    double* o_csmp
    double* o_cavoid
    double* o_pool
    double* o_poolap
    double* o_poolsmp
    # optional hourly outputs (NULL when not wanted)
    double* hgrid            # (H, T)
    double* hcap             # (H, C)
    double* hbsoc            # (H, B)
    # error location
    Py_ssize_t err_h
    Py_ssize_t err_j


cdef inline double dmin(double a, double b) noexcept nogil:
    return a if a < b else b


cdef inline double dmax(double a, double b) noexcept nogil:
    return a if a > b else b


cdef inline void _vadd(double* acc, const double* v) noexcept nogil:
    """acc[0:VL] += v[0:HB] folded onto VL lanes."""
    cdef int j, q
    for q in range(HB // VL):
        for j in range(VL):
            acc[j] += v[q * VL + j]


cdef inline void _vmax(double* acc, const double* v) noexcept nogil:
    """acc[0:VL] = max(acc, v[0:HB] folded onto VL lanes)."""
    cdef int j, q
    for q in range(HB // VL):
        for j in range(VL):
            acc[j] = dmax(acc[j], v[q * VL + j])


cdef inline void _vmin(double* acc, const double* v) noexcept nogil:
    """acc[0:VL] = min(acc, v[0:HB] folded onto VL lanes)."""
    cdef int j, q
    for q in range(HB // VL):
        for j in range(VL):
            acc[j] = dmin(acc[j], v[q * VL + j])


cdef inline double _lsum(const double* acc) noexcept nogil:
    """Sum of VL lanes (at the flush)."""
    cdef double x = 0.0
    cdef int j
    for j in range(VL):
        x += acc[j]
    return x


cdef inline double _lmin(const double* acc) noexcept nogil:
    cdef double x = 0.0
    cdef int j
    for j in range(VL):
        x = dmin(x, acc[j])
    return x


cdef inline double _lmax(const double* acc) noexcept nogil:
    cdef double x = 0.0
    cdef int j
    for j in range(VL):
        x = dmax(x, acc[j])
    return x


cdef inline double _hmax(const double* v) noexcept nogil:
    cdef double x = v[0]
    cdef int j
    for j in range(1, HB):
        x = dmax(x, v[j])
    return x


cdef inline void _tenant_sums(double* acc, const double* r, const double* mk, const double* pr) noexcept nogil:
    """Fields 0-2 += kWh by TOU, 3-5 += kWh x price by TOU, 6 = max(6, kWh at TOU != 0) (VL lanes each)."""
    cdef double v0[HB]
    cdef double v1[HB]
    cdef double v2[HB]
    cdef double k0[HB]
    cdef double k1[HB]
    cdef double k2[HB]
    cdef double vp[HB]
    cdef double x, xp
    cdef int j
    for j in range(HB):
        x = r[j]
        xp = x * pr[j]
        v0[j] = x * mk[j]
        v1[j] = x * mk[HB + j]
        v2[j] = x * mk[2 * HB + j]
        k0[j] = xp * mk[j]
        k1[j] = xp * mk[HB + j]
        k2[j] = xp * mk[2 * HB + j]
        vp[j] = x * mk[3 * HB + j]
    _vadd(acc, v0)
    _vadd(acc + VL, v1)
    _vadd(acc + 2 * VL, v2)
    _vadd(acc + 3 * VL, k0)
    _vadd(acc + 4 * VL, k1)
    _vadd(acc + 5 * VL, k2)
    _vmax(acc + TA_PEAK * VL, vp)


cdef inline void _contract_tile(CParam* cp, double* ca, double* ag, const double* bg, double* rr,
                                const double* pp, const double* tp, const double* smp,
                                const double* valid, double* xs, double* ss, double* hcap_row,
                                Py_ssize_t n, Py_ssize_t C) noexcept nogil:
    """Step 3 for one contract over the tile's hours."""
    cdef double ve[HB]
    cdef double vap[HB]
    cdef double vund[HB]
    cdef double vek[HB]
    cdef double vak[HB]
    cdef double vav[HB]
    cdef double vss[HB]
    cdef double la[HB]
    cdef double lr[HB]
    cdef double lx[HB]
    cdef double ls[HB]
    cdef double share = cp.share, block = cp.block
    cdef double a0 = cp.a0, a1 = cp.a1, a2 = cp.a2, lo = cp.lo, hi = cp.hi
    cdef double target, e, r, ap, s, t, price
    cdef int j
    for j in range(HB):
        target = share * bg[j] + block * valid[j] + pp[j]
        e = dmin(target, ag[j])
        la[j] = ag[j] - e
        r = rr[j]
        ap = dmin(e, r)
        lr[j] = r - ap
        s = e - ap
        t = tp[j]
        price = dmin(dmax(a0 + a1 * smp[j] + a2 * t, lo), hi)
        ve[j] = e
        vap[j] = ap
        vund[j] = target - e
        vek[j] = e * price
        vak[j] = ap * price
        vav[j] = ap * t
        vss[j] = s * smp[j]
        lx[j] = xs[j] + s
        ls[j] = s
    for j in range(HB):
        ag[j] = la[j]
    for j in range(HB):
        rr[j] = lr[j]
    for j in range(HB):
        xs[j] = lx[j]
    for j in range(HB):
        ss[j] = ls[j]
    _vadd(ca + CA_E * VL, ve)
    _vadd(ca + CA_AP * VL, vap)
    _vadd(ca + CA_UND * VL, vund)
    _vadd(ca + CA_EKRW * VL, vek)
    _vadd(ca + CA_AKRW * VL, vak)
    _vadd(ca + CA_AVOID * VL, vav)
    _vadd(ca + CA_SURSMP * VL, vss)
    if hcap_row != NULL:
        for j in range(n):
            hcap_row[j * C] = vap[j]


cdef void _battery_tile(Kern* k, Py_ssize_t b, Py_ssize_t h0, Py_ssize_t n) noexcept nogil:
    """Step 4b for battery b over the tile's hours, one hour after the other (SOC is carried).

    The state and the tile's sums live in locals (registers) and are written back at the end.
    """
    cdef BParam* bp = &k.bpar[b]
    cdef Py_ssize_t t = bp.t, j, jj, g, c, lane
    cdef double* acc = k.bacc + b * N_BA
    cdef double* rr = k.R + t * HB
    cdef double* gc = k.GC + t * HB
    cdef double* bn = k.BN + t * HB
    cdef const signed char* tou_col = k.ttou + h0 * k.K + bp.k
    cdef double* x
    cdef double s0 = k.bsoc[N_SRC * b], s1 = k.bsoc[N_SRC * b + 1], s2 = k.bsoc[N_SRC * b + 2]
    cdef double cyc = k.bcyc[b], cap = k.bcap[b]
    cdef double p = bp.p, etac = bp.etac, etad = bp.etad, smin = bp.smin, smax = bp.smax
    cdef double c0 = 0.0, c1 = 0.0, c2 = 0.0, u0 = 0.0, u1 = 0.0, u2 = 0.0, l0 = 0.0, l1 = 0.0, l2 = 0.0
    cdef double s, cmax, dmx, q, cc, ch1, ch2, d, d_dc, w0, w1, w2, r, lj, room
    cdef double lpk = acc[BA_LPK]
    cdef const double* lcol = k.load + h0 * k.T + t
    cdef int tou, strat = bp.strat
    for j in range(n):
        s = s0 + s1 + s2
        cmax = dmin(p, dmax(0.0, smax * cap - s) / etac)
        dmx = dmin(p, dmax(0.0, s - smin * cap) * etad)
        tou = tou_col[j * k.K]
        lj = lcol[j * k.T]
        if tou != 0:
            lpk = dmax(lpk, lj)
        d = 0.0
        r = rr[j]
        if strat == S_SELF or strat == S_RE:
            lane = j % VL
            cc = 0.0
            ch1 = 0.0
            ch2 = 0.0
            for jj in range(k.own_start[t], k.own_start[t + 1]):
                g = k.own_list[jj]
                x = k.A + g * HB + j
                q = dmin(x[0], cmax - cc)
                x[0] -= q
                ch1 += q
                cc += q
                k.gacc[(g * N_GA + GA_STORED) * VL + lane] += q
            if strat == S_RE:
                # billed hours: PPA surplus comes through the meter, so the site draw (load + bn) stays
                # under the billing-demand floor (target) or the month's load peak so far
                room = DBL_MAX if tou == 0 else dmax(0.0, dmax(bp.target, lpk) - (lj + bn[j]))
                for jj in range(k.ppa_start[t], k.ppa_start[t + 1]):
                    c = k.ppa_list[jj]
                    x = k.S + k.cpar[c].slot * HB + j
                    q = dmin(dmin(x[0], cmax - cc), room - ch2)
                    x[0] -= q
                    k.XS[k.cpar[c].g * HB + j] -= q
                    ch2 += q
                    cc += q
                    k.cacc[(c * N_CA + CA_STORED) * VL + lane] += q
                    k.cacc[(c * N_CA + CA_STSMP) * VL + lane] += q * k.smp_v[j]
            if cc == 0.0:
                d = dmin(dmx, r)
            else:
                if ch1 > 0.0:
                    s1 += ch1 * etac
                    c1 += ch1
                    l1 += ch1 - ch1 * etac
                if ch2 > 0.0:
                    s2 += ch2 * etac
                    c2 += ch2
                    l2 += ch2 - ch2 * etac
                    bn[j] += ch2
        elif tou == 0:      # peak_shaving and tou_arbitrage charge from the grid in light-load hours
            if cmax > 0.0:
                gc[j] += cmax
                bn[j] += cmax
                s0 += cmax * etac
                c0 += cmax
                l0 += cmax - cmax * etac
        elif strat == S_PEAK:
            d = dmin(dmx, dmax(0.0, r - bp.target))
        elif tou == 2:      # tou_arbitrage discharges in peak-load hours
            d = dmin(dmx, r)
        if d > 0.0:
            d_dc = d / etad
            w0 = s0 / s
            w1 = s1 / s
            w2 = s2 / s
            u0 += d * w0
            u1 += d * w1
            u2 += d * w2
            l0 += (d_dc - d) * w0
            l1 += (d_dc - d) * w1
            l2 += (d_dc - d) * w2
            s0 -= d_dc * w0
            s1 -= d_dc * w1
            s2 -= d_dc * w2
            rr[j] = r - d
            bn[j] -= d
            cyc += d_dc / bp.e0
            cap = bp.e0 * dmax(0.0, 1.0 - bp.fade * cyc)
        if k.hbsoc != NULL:
            k.hbsoc[(h0 + j) * k.NB + b] = (s0 + s1) + s2
    k.bsoc[N_SRC * b] = s0
    k.bsoc[N_SRC * b + 1] = s1
    k.bsoc[N_SRC * b + 2] = s2
    k.bcyc[b] = cyc
    k.bcap[b] = cap
    acc[BA_LPK] = lpk
    acc[BA_CH] += c0
    acc[BA_CH + 1] += c1
    acc[BA_CH + 2] += c2
    acc[BA_DIS] += u0
    acc[BA_DIS + 1] += u1
    acc[BA_DIS + 2] += u2
    acc[BA_LOSS] += l0
    acc[BA_LOSS + 1] += l1
    acc[BA_LOSS + 2] += l2


cdef void _batteries(Kern* k, Py_ssize_t h0, Py_ssize_t n) noexcept nogil:
    """Step 4b for the tile: the owners' import peak before the batteries, the batteries in battery
    order, then the owners' site peak (what they draw through the meter from grid and plants)."""
    cdef Py_ssize_t T = k.T, i, j, jj
    cdef double* rr
    cdef const double* mk
    cdef double v[HB]
    for jj in range(k.n_bat_t):
        i = k.bat_t[jj]
        rr = k.R + i * HB
        mk = k.MK + k.tar[i] * N_MK * HB + 3 * HB
        for j in range(HB):
            v[j] = rr[j] * mk[j]
            k.GC[i * HB + j] = 0.0
            k.BN[i * HB + j] = 0.0
        _vmax(k.tacc + (i * N_TA + TA_NPK) * VL, v)
    for jj in range(k.NB):
        _battery_tile(k, jj, h0, n)
    for jj in range(k.n_bat_t):
        i = k.bat_t[jj]
        mk = k.MK + k.tar[i] * N_MK * HB + 3 * HB
        for j in range(HB):
            v[j] = ((k.load[(h0 + j) * T + i] if j < n else 0.0) + k.BN[i * HB + j]) * mk[j]
        _vmax(k.tacc + (i * N_TA + TA_SPK) * VL, v)


cdef int _tile(Kern* k, Py_ssize_t h0, Py_ssize_t n) noexcept nogil:
    """Steps 1-6 for hours h0 .. h0+n-1 (n <= HB, all in one month)."""
    cdef Py_ssize_t T = k.T, G = k.G, C = k.C, K = k.K, P = k.P
    cdef Py_ssize_t i, j, g, c, kk, jj, p
    cdef double* R = k.R
    cdef double* A = k.A
    cdef double* smp = k.smp_v
    cdef double* valid = k.valid
    cdef double* rr
    cdef double* ag
    cdef double* xs
    cdef double* mk
    cdef double v, s, x, cu, f, w, pool_nz
    cdef int q
    cdef CParam* cp
    cdef double* hcap_row
    cdef Py_ssize_t i0, l
    cdef const double* src
    cdef bint nxt
    cdef double t0[HB]
    cdef double t1[HB]
    cdef double t2[HB]
    cdef double t3[HB]
    cdef double fr[HB]

    # lane vectors of the hour-level inputs (padding: zeros)
    for j in range(HB):
        if j < n:
            smp[j] = k.smp[h0 + j]
            valid[j] = 1.0
        else:
            smp[j] = 0.0
            valid[j] = 0.0
    for kk in range(K):
        mk = k.MK + kk * N_MK * HB
        for j in range(HB):
            if j < n:
                k.TP[kk * HB + j] = k.tprice[(h0 + j) * K + kk]
                q = k.ttou[(h0 + j) * K + kk]
                mk[j] = 1.0 if q == 0 else 0.0
                mk[HB + j] = 1.0 if q == 1 else 0.0
                mk[2 * HB + j] = 1.0 if q == 2 else 0.0
                mk[3 * HB + j] = 0.0 if q == 0 else 1.0
            else:
                k.TP[kk * HB + j] = 0.0
                mk[j] = 0.0
                mk[HB + j] = 0.0
                mk[2 * HB + j] = 0.0
                mk[3 * HB + j] = 0.0
    for p in range(P):
        for j in range(HB):
            k.PR[p * HB + j] = k.prof[(h0 + j) * P + p] if j < n else 0.0

    # 1. available output and residual load (the tile transposed to lane vectors)
    for g in range(G):
        ag = A + g * HB
        for j in range(n):
            v = k.gen[(h0 + j) * G + g]
            if not (v >= 0.0 and v <= DBL_MAX):
                k.err_h = h0 + j
                k.err_j = g
                return ERR_GEN
            ag[j] = v
        for j in range(n, HB):
            ag[j] = 0.0
        for j in range(HB):
            t0[j] = ag[j] * smp[j]
        _vadd(k.gacc + (g * N_GA + GA_GEN) * VL, ag)
        _vadd(k.gacc + (g * N_GA + GA_GSMP) * VL, t0)
    memset(k.XS, 0, G * HB * sizeof(double))
    # transpose to lane vectors, 8 tenants (one cache line of each row) at a time, while the next
    # tile's lines are prefetched (the HB interleaved row streams outrun the hardware prefetchers:
    # measured, docs/settlement-kernel.md#performance); then the load sums, in a second loop
    # (reading R right after its scalar stores stalls on them)
    nxt = h0 + n + HB <= k.H
    i0 = 0
    if n == HB:
        while i0 + 8 <= T:
            src = k.load + h0 * T + i0
            rr = R + i0 * HB
            for j in range(HB):
                if nxt:
                    _prefetch(src + (HB + j) * T)
                for l in range(8):
                    rr[l * HB + j] = src[j * T + l]
            i0 += 8
    for i in range(i0, T):
        rr = R + i * HB
        src = k.load + h0 * T + i
        if n == HB:
            for j in range(HB):
                rr[j] = src[j * T]
        else:
            for j in range(n):
                rr[j] = src[j * T]
            for j in range(n, HB):
                rr[j] = 0.0
    for i in range(T):
        rr = R + i * HB
        kk = k.tar[i]
        _tenant_sums(k.tacc + (i * N_TA + TA_LOAD) * VL, rr, k.MK + kk * N_MK * HB, k.TP + kk * HB)
        _vmin(k.tacc + (i * N_TA + TA_LMIN) * VL, rr)

    # 2. self-generation, in plant order
    for jj in range(k.n_host):
        g = k.host_g[jj]
        ag = A + g * HB
        rr = R + k.host_t[jj] * HB
        for j in range(HB):
            s = dmin(ag[j], rr[j])
            t0[j] = s
            t1[j] = rr[j] - s
            t2[j] = ag[j] - s
        for j in range(HB):
            rr[j] = t1[j]
        for j in range(HB):
            ag[j] = t2[j]
        _vadd(k.gacc + (g * N_GA + GA_SELF) * VL, t0)
    if G:
        memcpy(k.B, A, G * HB * sizeof(double))

    # 3. direct-PPA contracts, in priority order
    for c in range(C):
        cp = &k.cpar[c]
        hcap_row = (k.hcap + h0 * C + c) if k.hcap != NULL else NULL
        _contract_tile(cp, k.cacc + c * N_CA * VL, A + cp.g * HB, k.B + cp.g * HB, R + cp.t * HB,
                       k.PR + cp.p * HB, k.TP + cp.k * HB, smp, valid, k.XS + cp.g * HB,
                       k.S + cp.slot * HB, hcap_row, n, C)

    # 4. green-tariff pool
    if k.n_pool:
        for j in range(HB):
            k.PV[j] = 0.0
        for jj in range(k.n_pool):
            ag = A + k.pool_g[jj] * HB
            for j in range(HB):
                k.PV[j] += ag[j]
            _vadd(k.gacc + (k.pool_g[jj] * N_GA + GA_POOL) * VL, ag)
        for j in range(HB):
            t0[j] = k.PV[j] * smp[j]
        _vadd(k.pacc + PA_POOL * VL, k.PV)
        _vadd(k.pacc + PA_SMP * VL, t0)
        if k.pool_hourly and k.W > 0.0:
            for j in range(HB):
                t1[j] = 0.0          # applied pool energy, summed over subscribers
            for jj in range(k.n_sub):
                i = k.sub_t[jj]
                w = k.sub_w[jj]
                rr = R + i * HB
                for j in range(HB):
                    s = dmin(k.PV[j] * w / k.W, rr[j])   # zero when the pool is empty
                    t2[j] = s
                    t3[j] = rr[j] - s
                for j in range(HB):
                    rr[j] = t3[j]
                    t1[j] += t2[j]
                _vadd(k.tacc + (i * N_TA + TA_POOL) * VL, t2)
            for j in range(HB):
                fr[j] = t1[j] / (k.PV[j] if k.PV[j] > 0.0 else 1.0)
            _vadd(k.pacc + PA_AP * VL, t1)
            for jj in range(k.n_pool):
                g = k.pool_g[jj]
                ag = A + g * HB
                for j in range(HB):
                    t0[j] = ag[j] * fr[j]
                    ag[j] = ag[j] * (1.0 - fr[j])
                _vadd(k.gacc + (g * N_GA + GA_POOLAP) * VL, t0)

    # 4b. batteries
    if k.NB:
        _batteries(k, h0, n)

    # 5. export and curtailment, per plant
    for g in range(G):
        ag = A + g * HB
        xs = k.XS + g * HB
        for j in range(HB):
            x = ag[j] + xs[j]
            cu = dmax(0.0, x - k.lim[g])
            f = cu / (x if x > 0.0 else 1.0)    # x <= 0 implies cu = 0
            fr[j] = f
            t0[j] = ag[j] * (1.0 - f)
            t1[j] = t0[j] * smp[j]
            t2[j] = cu
        _vadd(k.gacc + (g * N_GA + GA_EXP) * VL, t0)
        _vadd(k.gacc + (g * N_GA + GA_EXPSMP) * VL, t1)
        _vadd(k.gacc + (g * N_GA + GA_CURT) * VL, t2)
        if k.limited[g] and _hmax(fr) > 0.0:
            for jj in range(k.cstart[g], k.cstart[g + 1]):
                c = k.clist[jj]
                rr = k.S + k.cpar[c].slot * HB
                for j in range(HB):
                    t0[j] = rr[j] * fr[j]
                    t1[j] = t0[j] * smp[j]
                _vadd(k.cacc + (c * N_CA + CA_CURT) * VL, t0)
                _vadd(k.cacc + (c * N_CA + CA_CURTSMP) * VL, t1)

    # 6. grid = residual load (+ grid charging of batteries); tenant sums (a passive tenant's
    # grid sums are its load sums)
    if k.NB:
        for jj in range(k.n_bat_t):
            i = k.bat_t[jj]
            rr = R + i * HB
            for j in range(HB):
                rr[j] = rr[j] + k.GC[i * HB + j]
    for i in range(T):
        if k.passive[i]:
            continue
        kk = k.tar[i]
        _tenant_sums(k.tacc + (i * N_TA + TA_GRID) * VL, R + i * HB, k.MK + kk * N_MK * HB, k.TP + kk * HB)
    if k.hgrid != NULL:
        for i in range(T):
            for j in range(n):
                k.hgrid[(h0 + j) * T + i] = R[i * HB + j]
    return ERR_NONE


cdef int _flush(Kern* k, Py_ssize_t m) noexcept nogil:
    """Write the current month's accumulators into output row m, then zero them.

    Returns ERR_LOAD if a load of the month was negative (lane minimum < 0) or not finite
    (NaN / inf propagate into the month's load sums).
    """
    cdef Py_ssize_t T = k.T, G = k.G, C = k.C
    cdef Py_ssize_t t, g, c, o, q
    cdef double* a
    cdef double v[N_TA]
    cdef double e, ap, curt, sur, stored
    cdef Py_ssize_t b, i
    for t in range(T):
        a = k.tacc + t * N_TA * VL
        if k.passive[t]:
            memcpy(a + TA_GRID * VL, a + TA_LOAD * VL, TA_FIELDS * VL * sizeof(double))
        for q in range(N_TA):
            v[q] = _lmax(a + q * VL) if (q == TA_GRID + TA_PEAK or q == TA_LOAD + TA_PEAK or q == TA_NPK
                                         or q == TA_SPK) else _lsum(a + q * VL)
        if not (_lmin(a + TA_LMIN * VL) >= 0.0 and (v[TA_LOAD] + v[TA_LOAD + 1] + v[TA_LOAD + 2]) <= DBL_MAX):
            return ERR_LOAD
        o = m * T + t
        k.o_tgrid[o] = (v[TA_GRID] + v[TA_GRID + 1]) + v[TA_GRID + 2]
        k.o_tload[o] = (v[TA_LOAD] + v[TA_LOAD + 1]) + v[TA_LOAD + 2]
        k.o_tgtou[3 * o] = v[TA_GRID]
        k.o_tgtou[3 * o + 1] = v[TA_GRID + 1]
        k.o_tgtou[3 * o + 2] = v[TA_GRID + 2]
        k.o_tltou[3 * o] = v[TA_LOAD]
        k.o_tltou[3 * o + 1] = v[TA_LOAD + 1]
        k.o_tltou[3 * o + 2] = v[TA_LOAD + 2]
        k.o_tgkrw[3 * o] = v[TA_GRID + 3]
        k.o_tgkrw[3 * o + 1] = v[TA_GRID + 4]
        k.o_tgkrw[3 * o + 2] = v[TA_GRID + 5]
        k.o_tlkrw[3 * o] = v[TA_LOAD + 3]
        k.o_tlkrw[3 * o + 1] = v[TA_LOAD + 4]
        k.o_tlkrw[3 * o + 2] = v[TA_LOAD + 5]
        k.o_tgpk[o] = v[TA_GRID + TA_PEAK]
        k.o_tlpk[o] = v[TA_LOAD + TA_PEAK]
        k.o_tnpk[o] = v[TA_NPK] if (k.NB and k.has_bat[t]) else v[TA_GRID + TA_PEAK]
        k.o_tspk[o] = v[TA_SPK] if (k.NB and k.has_bat[t]) else v[TA_LOAD + TA_PEAK]
        k.o_tpool[o] = v[TA_POOL]
    for g in range(G):
        a = k.gacc + g * N_GA * VL
        o = m * G + g
        k.o_gen[o] = _lsum(a + GA_GEN * VL)
        k.o_gself[o] = _lsum(a + GA_SELF * VL)
        k.o_gpool[o] = _lsum(a + GA_POOL * VL)
        k.o_gpoolap[o] = _lsum(a + GA_POOLAP * VL)
        k.o_gexp[o] = _lsum(a + GA_EXP * VL)
        k.o_gcurt[o] = _lsum(a + GA_CURT * VL)
        k.o_gexpsmp[o] = _lsum(a + GA_EXPSMP * VL)
        k.o_gsmp[o] = _lsum(a + GA_GSMP * VL)
        k.o_gstored[o] = _lsum(a + GA_STORED * VL)
        if k.gen_host[g] >= 0:
            k.o_tself[m * T + k.gen_host[g]] += k.o_gself[o]
    for c in range(C):
        a = k.cacc + c * N_CA * VL
        o = m * C + c
        e = _lsum(a + CA_E * VL)
        ap = _lsum(a + CA_AP * VL)
        curt = _lsum(a + CA_CURT * VL)
        stored = _lsum(a + CA_STORED * VL)
        sur = e - ap - stored
        k.o_ce[o] = e
        k.o_cap[o] = ap
        k.o_csx[o] = sur - curt
        k.o_csc[o] = curt
        k.o_cstored[o] = stored
        k.o_cund[o] = _lsum(a + CA_UND * VL)
        k.o_cekrw[o] = _lsum(a + CA_EKRW * VL)
        k.o_cakrw[o] = _lsum(a + CA_AKRW * VL)
        k.o_csmp[o] = _lsum(a + CA_SURSMP * VL) - _lsum(a + CA_CURTSMP * VL) - _lsum(a + CA_STSMP * VL)
        k.o_cavoid[o] = _lsum(a + CA_AVOID * VL)
        g = k.c_gen[c]
        k.o_gppa[m * G + g] += ap
        k.o_gsx[m * G + g] += sur - curt
        k.o_gstored[m * G + g] += stored
        k.o_tppa[m * T + k.c_tenant[c]] += ap
    k.o_pool[m] = _lsum(k.pacc + PA_POOL * VL)
    k.o_poolap[m] = _lsum(k.pacc + PA_AP * VL)
    k.o_poolsmp[m] = _lsum(k.pacc + PA_SMP * VL)
    for b in range(k.NB):
        a = k.bacc + b * N_BA
        o = m * k.NB + b
        t = k.bpar[b].t
        for i in range(N_SRC):
            k.o_bch[N_SRC * o + i] = a[BA_CH + i]
            k.o_bdis[N_SRC * o + i] = a[BA_DIS + i]
            k.o_bloss[N_SRC * o + i] = a[BA_LOSS + i]
            k.o_bsoc0[N_SRC * o + i] = k.bstart[N_SRC * b + i]
            k.o_bsoc1[N_SRC * o + i] = k.bsoc[N_SRC * b + i]
            k.bstart[N_SRC * b + i] = k.bsoc[N_SRC * b + i]
        k.o_bcyc[o] = k.bcyc[b]
        k.o_bcap[o] = k.bcap[b]
        k.o_tbdis[m * T + t] += (a[BA_DIS] + a[BA_DIS + 1]) + a[BA_DIS + 2]
        k.o_tbgc[m * T + t] += a[BA_CH]
        k.o_tbre[m * T + t] += a[BA_DIS + 1] + a[BA_DIS + 2]
    if k.NB:
        memset(k.bacc, 0, k.NB * N_BA * sizeof(double))
    memset(k.tacc, 0, T * N_TA * VL * sizeof(double))
    memset(k.gacc, 0, G * N_GA * VL * sizeof(double))
    memset(k.cacc, 0, C * N_CA * VL * sizeof(double))
    memset(k.pacc, 0, N_PA * VL * sizeof(double))
    return ERR_NONE


cdef int _run(Kern* k) noexcept nogil:
    """The pass over the hours: month by month, tile by tile. Returns an ERR_* code."""
    cdef Py_ssize_t H = k.H, h = 0, me, h0, n
    cdef int m, rc
    while h < H:
        m = k.month[h]
        me = h
        while me < H and k.month[me] == m:
            me += 1
        h0 = h
        while h0 < me:
            n = me - h0 if me - h0 < HB else HB
            rc = _tile(k, h0, n)
            if rc != ERR_NONE:
                return rc
            h0 += n
        rc = _flush(k, m)
        if rc != ERR_NONE:
            return rc
        h = me
    return ERR_NONE


cdef inline double* _dp(cnp.ndarray a):
    return <double*> cnp.PyArray_DATA(a)


cdef inline const int* _ip(cnp.ndarray a):
    return <const int*> cnp.PyArray_DATA(a)


cdef double* _scratch(Py_ssize_t n_doubles):
    """Zeroed scratch of n doubles, 64-byte aligned (freed with free())."""
    cdef size_t size = (<size_t> n_doubles * sizeof(double) + 64 + 63) // 64 * 64
    cdef void* ptr = NULL
    if posix_memalign(&ptr, 64, size) != 0:
        return NULL
    memset(ptr, 0, size)
    return <double*> ptr


def settle_block(
    const double[:, ::1] load_kwh,
    const double[:, ::1] gen_kwh,
    const int[::1] month_of_hour,
    const double[:, ::1] tariff_price,
    const signed char[:, ::1] tariff_tou,
    const double[::1] smp,
    const int[::1] tenant_tariff,
    const int[::1] gen_host,
    const signed char[::1] gen_pool,
    const double[::1] gen_export_limit_kw,
    const int[::1] c_gen,
    const int[::1] c_tenant,
    const signed char[::1] c_kind,
    const double[::1] c_share,
    const double[::1] c_block_kw,
    const int[::1] c_profile,
    const double[:, ::1] profile_kwh,
    const signed char[::1] c_price_kind,
    const double[::1] c_price,
    const double[::1] c_price_floor,
    const double[::1] c_price_cap,
    const double[::1] sub_weight,
    int pool_hourly,
    const int[::1] b_tenant,
    const signed char[::1] b_strategy,
    const double[::1] b_energy_kwh,
    const double[::1] b_power_kw,
    const double[::1] b_eta_charge,
    const double[::1] b_eta_discharge,
    const double[::1] b_soc_min_frac,
    const double[::1] b_soc_max_frac,
    const double[:, ::1] b_soc0_kwh,
    const double[::1] b_cycles0,
    const double[::1] b_fade_per_cycle,
    const double[::1] b_target_kw,
    bint hourly=False,
):
    """Settle one block of hours; returns a dict of output arrays named as ``BlockResult``.

    Inputs are the spec's, with its dtypes, C-contiguous. They must have been validated
    (``BlockInputs.validate(full=False)``): indices are trusted. Raises ``ValueError`` if
    ``load_kwh`` or ``gen_kwh`` holds a negative or non-finite value.
    """
    cdef Py_ssize_t H = load_kwh.shape[0], T = load_kwh.shape[1]
    cdef Py_ssize_t G = gen_kwh.shape[1], C = c_gen.shape[0]
    cdef Py_ssize_t K = tariff_price.shape[1], P = profile_kwh.shape[1]
    cdef Py_ssize_t B = b_tenant.shape[0]
    cdef Py_ssize_t M, c, kind, pk, n_slots, b, i
    cdef Kern k
    cdef int rc
    cdef CParam* cp
    cdef BParam* bp

    # cheap shape consistency (the full validation is BlockInputs.validate)
    if (gen_kwh.shape[0] != H or month_of_hour.shape[0] != H or tariff_price.shape[0] != H
            or tariff_tou.shape[0] != H or tariff_tou.shape[1] != K or smp.shape[0] != H
            or profile_kwh.shape[0] != H or tenant_tariff.shape[0] != T or sub_weight.shape[0] != T
            or gen_host.shape[0] != G or gen_pool.shape[0] != G or gen_export_limit_kw.shape[0] != G
            or c_tenant.shape[0] != C or c_kind.shape[0] != C or c_share.shape[0] != C
            or c_block_kw.shape[0] != C or c_profile.shape[0] != C or c_price_kind.shape[0] != C
            or c_price.shape[0] != C or c_price_floor.shape[0] != C or c_price_cap.shape[0] != C
            or b_strategy.shape[0] != B or b_energy_kwh.shape[0] != B or b_power_kw.shape[0] != B
            or b_eta_charge.shape[0] != B or b_eta_discharge.shape[0] != B or b_soc_min_frac.shape[0] != B
            or b_soc_max_frac.shape[0] != B or b_soc0_kwh.shape[0] != B or b_soc0_kwh.shape[1] != N_SRC
            or b_cycles0.shape[0] != B or b_fade_per_cycle.shape[0] != B or b_target_kw.shape[0] != B):
        raise ValueError("settle_block: inconsistent input shapes (validate with BlockInputs.validate)")
    M = month_of_hour[H - 1] + 1 if H > 0 else 0

    # ---- derived index arrays (NumPy, O(T + G + C))
    gh = np.asarray(gen_host)
    host_g = np.ascontiguousarray(np.flatnonzero(gh >= 0), dtype=np.int32)
    host_t = np.ascontiguousarray(gh[host_g], dtype=np.int32)
    pool_g = np.ascontiguousarray(np.flatnonzero(np.asarray(gen_pool) == 1), dtype=np.int32)
    sw = np.asarray(sub_weight)
    sub_t = np.ascontiguousarray(np.flatnonzero(sw > 0), dtype=np.int32)
    sub_w = np.ascontiguousarray(sw[sub_t], dtype=np.float64)
    cg = np.asarray(c_gen)
    clist = np.ascontiguousarray(np.argsort(cg, kind="stable"), dtype=np.int32)
    cstart = np.zeros(G + 1, dtype=np.int32)
    if C:
        cstart[1:] = np.cumsum(np.bincount(cg, minlength=G))
    limited = np.ascontiguousarray(np.isfinite(np.asarray(gen_export_limit_kw)), dtype=np.int8)
    c_limited = limited[cg] if C else np.zeros(0, dtype=np.int8)
    bt = np.asarray(b_tenant)
    has_bat = np.zeros(T, dtype=np.int8)
    has_bat[bt] = 1
    bat_t = np.ascontiguousarray(np.flatnonzero(has_bat), dtype=np.int32)
    re_matching = np.zeros(T, dtype=bool)  # owners that charge from PPA surplus need its contracts' slots
    re_matching[bt[np.asarray(b_strategy) == S_RE]] = True
    if C:
        c_limited = (c_limited.astype(bool) | re_matching[np.asarray(c_tenant)]).astype(np.int8)
    own_list = np.ascontiguousarray(host_g[np.argsort(host_t, kind="stable")], dtype=np.int32)
    own_start = np.zeros(T + 1, dtype=np.int32)
    own_start[1:] = np.cumsum(np.bincount(host_t, minlength=T))
    ct = np.asarray(c_tenant)
    ppa_list = np.ascontiguousarray(np.argsort(ct, kind="stable"), dtype=np.int32)
    ppa_start = np.zeros(T + 1, dtype=np.int32)
    if C:
        ppa_start[1:] = np.cumsum(np.bincount(ct, minlength=T))
    n_slots = int(c_limited.sum())
    slot = np.full(C, n_slots, dtype=np.int32)
    slot[c_limited == 1] = np.arange(n_slots, dtype=np.int32)
    cdef const int[::1] slot_v = slot
    active = np.zeros(T, dtype=bool)
    if C:
        active[np.asarray(c_tenant)] = True
    active[host_t] = True
    active[bt] = True
    if pool_hourly and pool_g.shape[0]:
        active[sub_t] = True
    passive = np.ascontiguousarray(~active, dtype=np.int8)

    # ---- outputs
    f8 = np.float64
    out = {
        "tenant_load_kwh": np.zeros((M, T), f8),
        "tenant_grid_kwh": np.zeros((M, T), f8),
        "tenant_self_kwh": np.zeros((M, T), f8),
        "tenant_ppa_kwh": np.zeros((M, T), f8),
        "tenant_pool_kwh": np.zeros((M, T), f8),
        "tenant_grid_kwh_by_tou": np.zeros((M, T, 3), f8),
        "tenant_load_kwh_by_tou": np.zeros((M, T, 3), f8),
        "tenant_grid_energy_krw_by_tou": np.zeros((M, T, 3), f8),
        "tenant_load_energy_krw_by_tou": np.zeros((M, T, 3), f8),
        "tenant_grid_peak_kw": np.zeros((M, T), f8),
        "tenant_load_peak_kw": np.zeros((M, T), f8),
        "tenant_prebattery_peak_kw": np.zeros((M, T), f8),
        "tenant_battery_discharged_kwh": np.zeros((M, T), f8),
        "tenant_battery_grid_charge_kwh": np.zeros((M, T), f8),
        "tenant_battery_re_kwh": np.zeros((M, T), f8),
        "tenant_site_peak_kw": np.zeros((M, T), f8),
        "gen_kwh": np.zeros((M, G), f8),
        "gen_self_kwh": np.zeros((M, G), f8),
        "gen_ppa_kwh": np.zeros((M, G), f8),
        "gen_ppa_surplus_export_kwh": np.zeros((M, G), f8),
        "gen_pool_kwh": np.zeros((M, G), f8),
        "gen_pool_applied_kwh": np.zeros((M, G), f8),
        "gen_export_kwh": np.zeros((M, G), f8),
        "gen_curtailed_kwh": np.zeros((M, G), f8),
        "gen_stored_kwh": np.zeros((M, G), f8),
        "gen_export_smp_krw": np.zeros((M, G), f8),
        "gen_smp_krw": np.zeros((M, G), f8),
        "contract_contracted_kwh": np.zeros((M, C), f8),
        "contract_applied_kwh": np.zeros((M, C), f8),
        "contract_surplus_export_kwh": np.zeros((M, C), f8),
        "contract_surplus_curtailed_kwh": np.zeros((M, C), f8),
        "contract_stored_kwh": np.zeros((M, C), f8),
        "contract_undelivered_kwh": np.zeros((M, C), f8),
        "contract_contracted_krw": np.zeros((M, C), f8),
        "contract_applied_krw": np.zeros((M, C), f8),
        "contract_surplus_smp_krw": np.zeros((M, C), f8),
        "contract_avoided_tariff_krw": np.zeros((M, C), f8),
        "pool_kwh": np.zeros(M, f8),
        "pool_applied_kwh": np.zeros(M, f8),
        "pool_smp_krw": np.zeros(M, f8),
        "battery_charged_kwh_by_source": np.zeros((M, B, N_SRC), f8),
        "battery_discharged_kwh_by_source": np.zeros((M, B, N_SRC), f8),
        "battery_loss_kwh_by_source": np.zeros((M, B, N_SRC), f8),
        "battery_soc_start_kwh_by_source": np.zeros((M, B, N_SRC), f8),
        "battery_soc_end_kwh_by_source": np.zeros((M, B, N_SRC), f8),
        "battery_cycles_end": np.zeros((M, B), f8),
        "battery_capacity_end_kwh": np.zeros((M, B), f8),
        "hourly_grid_kwh": np.zeros((H, T), f8) if hourly else None,
        "hourly_contract_applied_kwh": np.zeros((H, C), f8) if hourly else None,
        "hourly_battery_soc_kwh": np.zeros((H, B), f8) if hourly else None,
    }

    memset(&k, 0, sizeof(Kern))
    k.H, k.T, k.G, k.C, k.K, k.P, k.M = H, T, G, C, K, P, M
    k.pool_hourly = pool_hourly
    k.W = float(sw.sum())
    k.load = &load_kwh[0, 0]
    k.gen = &gen_kwh[0, 0]
    k.month = &month_of_hour[0]
    k.tprice = &tariff_price[0, 0]
    k.ttou = &tariff_tou[0, 0]
    k.smp = &smp[0]
    k.prof = &profile_kwh[0, 0]
    k.lim = &gen_export_limit_kw[0]
    k.tar = &tenant_tariff[0]
    k.gen_host = &gen_host[0]
    k.c_gen = &c_gen[0]
    k.c_tenant = &c_tenant[0]
    k.host_g = _ip(host_g)
    k.host_t = _ip(host_t)
    k.n_host = host_g.shape[0]
    k.pool_g = _ip(pool_g)
    k.n_pool = pool_g.shape[0]
    k.sub_t = _ip(sub_t)
    k.sub_w = _dp(sub_w)
    k.n_sub = sub_t.shape[0]
    k.cstart = _ip(cstart)
    k.clist = _ip(clist)
    k.limited = <const char*> cnp.PyArray_DATA(limited)
    k.passive = <const char*> cnp.PyArray_DATA(passive)
    k.NB = B
    k.has_bat = <const char*> cnp.PyArray_DATA(has_bat)
    k.bat_t = _ip(bat_t)
    k.n_bat_t = bat_t.shape[0]
    k.own_start = _ip(own_start)
    k.own_list = _ip(own_list)
    k.ppa_start = _ip(ppa_start)
    k.ppa_list = _ip(ppa_list)
    k.o_tnpk = _dp(out["tenant_prebattery_peak_kw"])
    k.o_tbdis = _dp(out["tenant_battery_discharged_kwh"])
    k.o_tbgc = _dp(out["tenant_battery_grid_charge_kwh"])
    k.o_tbre = _dp(out["tenant_battery_re_kwh"])
    k.o_tspk = _dp(out["tenant_site_peak_kw"])
    k.o_gstored = _dp(out["gen_stored_kwh"])
    k.o_cstored = _dp(out["contract_stored_kwh"])
    k.o_bch = _dp(out["battery_charged_kwh_by_source"])
    k.o_bdis = _dp(out["battery_discharged_kwh_by_source"])
    k.o_bloss = _dp(out["battery_loss_kwh_by_source"])
    k.o_bsoc0 = _dp(out["battery_soc_start_kwh_by_source"])
    k.o_bsoc1 = _dp(out["battery_soc_end_kwh_by_source"])
    k.o_bcyc = _dp(out["battery_cycles_end"])
    k.o_bcap = _dp(out["battery_capacity_end_kwh"])
    k.hbsoc = _dp(out["hourly_battery_soc_kwh"]) if hourly else NULL
    k.o_tload = _dp(out["tenant_load_kwh"])
    k.o_tgrid = _dp(out["tenant_grid_kwh"])
    k.o_tself = _dp(out["tenant_self_kwh"])
    k.o_tppa = _dp(out["tenant_ppa_kwh"])
    k.o_tpool = _dp(out["tenant_pool_kwh"])
    k.o_tgtou = _dp(out["tenant_grid_kwh_by_tou"])
    k.o_tltou = _dp(out["tenant_load_kwh_by_tou"])
    k.o_tgkrw = _dp(out["tenant_grid_energy_krw_by_tou"])
    k.o_tlkrw = _dp(out["tenant_load_energy_krw_by_tou"])
    k.o_tgpk = _dp(out["tenant_grid_peak_kw"])
    k.o_tlpk = _dp(out["tenant_load_peak_kw"])
    k.o_gen = _dp(out["gen_kwh"])
    k.o_gself = _dp(out["gen_self_kwh"])
    k.o_gppa = _dp(out["gen_ppa_kwh"])
    k.o_gsx = _dp(out["gen_ppa_surplus_export_kwh"])
    k.o_gpool = _dp(out["gen_pool_kwh"])
    k.o_gpoolap = _dp(out["gen_pool_applied_kwh"])
    k.o_gexp = _dp(out["gen_export_kwh"])
    k.o_gcurt = _dp(out["gen_curtailed_kwh"])
    k.o_gexpsmp = _dp(out["gen_export_smp_krw"])
    k.o_gsmp = _dp(out["gen_smp_krw"])
    k.o_ce = _dp(out["contract_contracted_kwh"])
    k.o_cap = _dp(out["contract_applied_kwh"])
    k.o_csx = _dp(out["contract_surplus_export_kwh"])
    k.o_csc = _dp(out["contract_surplus_curtailed_kwh"])
    k.o_cund = _dp(out["contract_undelivered_kwh"])
    k.o_cekrw = _dp(out["contract_contracted_krw"])
    k.o_cakrw = _dp(out["contract_applied_krw"])
    k.o_csmp = _dp(out["contract_surplus_smp_krw"])
    k.o_cavoid = _dp(out["contract_avoided_tariff_krw"])
    k.o_pool = _dp(out["pool_kwh"])
    k.o_poolap = _dp(out["pool_applied_kwh"])
    k.o_poolsmp = _dp(out["pool_smp_krw"])
    k.hgrid = _dp(out["hourly_grid_kwh"]) if hourly else NULL
    k.hcap = _dp(out["hourly_contract_applied_kwh"]) if hourly else NULL

    # ---- scratch (zeroed, aligned; never zero-sized)
    k.cpar = <CParam*> malloc((C + 1) * sizeof(CParam))
    k.cacc = _scratch(C * N_CA * VL)
    k.tacc = _scratch(T * N_TA * VL)
    k.gacc = _scratch(G * N_GA * VL)
    k.pacc = _scratch(N_PA * VL)
    k.smp_v = _scratch(HB)
    k.valid = _scratch(HB)
    k.TP = _scratch(K * HB)
    k.MK = _scratch(K * N_MK * HB)
    k.PR = _scratch((P + 1) * HB)
    k.R = _scratch(T * HB)
    k.A = _scratch(G * HB)
    k.B = _scratch(G * HB)
    k.XS = _scratch(G * HB)
    k.S = _scratch((n_slots + 1) * HB)
    k.PV = _scratch(HB)
    k.bpar = <BParam*> malloc((B + 1) * sizeof(BParam))
    k.bsoc = _scratch(B * N_SRC)
    k.bstart = _scratch(B * N_SRC)
    k.bcyc = _scratch(B)
    k.bcap = _scratch(B)
    k.bacc = _scratch(B * N_BA)
    k.GC = _scratch(T * HB)
    k.BN = _scratch(T * HB)
    try:
        if (k.cpar == NULL or k.cacc == NULL or k.tacc == NULL or k.gacc == NULL or k.pacc == NULL
                or k.smp_v == NULL or k.valid == NULL or k.TP == NULL or k.MK == NULL
                or k.PR == NULL or k.R == NULL or k.A == NULL or k.B == NULL or k.XS == NULL
                or k.S == NULL or k.PV == NULL or k.bpar == NULL or k.bsoc == NULL or k.bstart == NULL
                or k.bcyc == NULL or k.bcap == NULL or k.bacc == NULL or k.GC == NULL or k.BN == NULL):
            raise MemoryError("settle_block: cannot allocate scratch arrays")
        # contract parameters in branch-free form
        for c in range(C):
            cp = &k.cpar[c]
            kind = c_kind[c]
            pk = c_price_kind[c]
            cp.g = c_gen[c]
            cp.t = c_tenant[c]
            cp.k = tenant_tariff[c_tenant[c]]
            cp.slot = slot_v[c]
            cp.pad = 0
            cp.share = c_share[c] if kind == 0 else 0.0
            cp.block = c_block_kw[c] if kind == 1 else 0.0
            cp.p = c_profile[c] if kind == 2 else <int> P
            cp.a0 = c_price[c] if pk != 2 else 0.0
            cp.a1 = 1.0 if pk == 1 else 0.0
            cp.a2 = (1.0 - c_price[c]) if pk == 2 else 0.0
            cp.lo = c_price_floor[c]
            cp.hi = c_price_cap[c]
        # battery parameters and initial state
        for b in range(B):
            bp = &k.bpar[b]
            bp.t = b_tenant[b]
            bp.strat = b_strategy[b]
            bp.k = tenant_tariff[b_tenant[b]]
            bp.pad = 0
            bp.e0 = b_energy_kwh[b]
            bp.p = b_power_kw[b]
            bp.etac = b_eta_charge[b]
            bp.etad = b_eta_discharge[b]
            bp.smin = b_soc_min_frac[b]
            bp.smax = b_soc_max_frac[b]
            bp.fade = b_fade_per_cycle[b]
            bp.target = b_target_kw[b]
            for i in range(N_SRC):
                k.bsoc[N_SRC * b + i] = b_soc0_kwh[b, i]
                k.bstart[N_SRC * b + i] = b_soc0_kwh[b, i]
            k.bcyc[b] = b_cycles0[b]
            k.bcap[b] = bp.e0 * dmax(0.0, 1.0 - bp.fade * b_cycles0[b])
        with nogil:
            rc = _run(&k)
        if rc == ERR_LOAD:
            la = np.asarray(load_kwh)
            bad = ~(la >= 0) | ~np.isfinite(la)
            if bad.any():
                hh, tt = np.unravel_index(int(np.argmax(bad)), la.shape)
                raise ValueError(
                    f"load_kwh contains a negative or non-finite value (hour {hh}, tenant {tt}: {la[hh, tt]})"
                )
            raise ValueError("load_kwh: a tenant's monthly load sum overflows float64")
        if rc == ERR_GEN:
            raise ValueError(
                f"gen_kwh contains a negative or non-finite value (hour {k.err_h}, generator {k.err_j}: "
                f"{gen_kwh[k.err_h, k.err_j]})"
            )
    finally:
        free(k.cpar)
        free(k.cacc)
        free(k.tacc)
        free(k.gacc)
        free(k.pacc)
        free(k.smp_v)
        free(k.valid)
        free(k.TP)
        free(k.MK)
        free(k.PR)
        free(k.R)
        free(k.A)
        free(k.B)
        free(k.XS)
        free(k.S)
        free(k.PV)
        free(k.bpar)
        free(k.bsoc)
        free(k.bstart)
        free(k.bcyc)
        free(k.bcap)
        free(k.bacc)
        free(k.GC)
        free(k.BN)
    return out

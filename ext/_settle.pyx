# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Hourly settlement kernel (spec: ``docs/settlement-kernel.md``).

One fused pass over the hours of a block, with no Python object inside the loop (it runs
under ``nogil``). The spec's rules never carry state from one hour to the next (only the
monthly sums do), so the pass walks the hours in **tiles** of ``HB`` consecutive hours of one
month and runs steps 1-6 on all the tile's hours at once: every per-tenant / per-plant /
per-contract quantity is a small lane vector over the tile's hours (``R[t, 0:HB]`` residual
load, ``A[g, 0:HB]`` available output, ...), so the inner loops are fixed-length loops the C
compiler turns into SIMD code, while tenants, plants and contracts are still visited in the
spec's order (contracts in priority order). Each tile's sums are added into small per-tenant,
per-plant and per-contract accumulators of the current month, which are flushed into the
(M, .) outputs at each month boundary. Memory: the outputs plus O((T + G + C) * HB) scratch.

Floating-point sums are grouped differently from the NumPy reference (per tile, then per
month; a contract's surplus is derived at the flush as contracted - applied, its exported
surplus as surplus - curtailed; a tenant's PPA/self totals and a plant's PPA totals from the
contracts' and plants' monthly totals), so results agree with the reference to rounding
(~1e-15 relative), not bit for bit.

Use :func:`simulator.kernel.settle_block`, which validates the inputs first: this module
trusts its indices (no bounds checks). It checks, in its pass, that ``load_kwh`` and
``gen_kwh`` are non-negative and finite.
"""
from libc.stdlib cimport malloc, calloc, free
from libc.string cimport memset, memcpy
from libc.float cimport DBL_MAX

import numpy as np
cimport numpy as cnp

cnp.import_array()

cdef extern from "stdlib.h" nogil:
    int posix_memalign(void** memptr, size_t alignment, size_t size)

cdef enum:
    HB = 16        # hours per tile (lane vector length)
    VL = 8         # partial-sum lanes of a horizontal sum (one AVX-512 register of doubles)

# Per-tenant accumulators (array of structs: N_TA doubles per tenant).
cdef enum:
    TA_GRID = 0    # 5 fields: kWh at TOU 0, 1, 2; x tariff price; peak (TOU != 0)
    TA_LOAD = 5    # the same 5 fields for the load (grid-only baseline)
    TA_POOL = 10   # pool energy applied (hourly mode)
    N_TA = 11

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
    N_GA = 8

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


ctypedef struct CAcc:
    # Current month's sums of one contract (surplus = e - ap, derived at the flush).
    double e        # contracted
    double ap       # applied
    double und      # undelivered
    double ekrw     # e x price
    double akrw     # applied x price
    double avoid    # applied x tenant tariff price
    double sursmp   # surplus x smp
    double curt     # surplus curtailed
    double curtsmp  # surplus curtailed x smp


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
    CParam* cpar
    # accumulators of the current month
    CAcc* cacc
    double* tacc
    double* gacc
    double pool_acc
    double pool_ap_acc
    double pool_smp_acc
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
    # error location
    Py_ssize_t err_h
    Py_ssize_t err_j


cdef inline double dmin(double a, double b) noexcept nogil:
    return a if a < b else b


cdef inline double dmax(double a, double b) noexcept nogil:
    return a if a > b else b


cdef inline double _hsum(const double* v) noexcept nogil:
    """Sum of a lane vector of HB doubles (VL partial sums, then a pairwise tree)."""
    cdef double t[VL]
    cdef int j, q
    for j in range(VL):
        t[j] = v[j]
    for q in range(1, HB // VL):
        for j in range(VL):
            t[j] += v[q * VL + j]
    return ((t[0] + t[1]) + (t[2] + t[3])) + ((t[4] + t[5]) + (t[6] + t[7]))


cdef inline double _hmax(const double* v) noexcept nogil:
    cdef double t[VL]
    cdef int j, q
    for j in range(VL):
        t[j] = v[j]
    for q in range(1, HB // VL):
        for j in range(VL):
            t[j] = dmax(t[j], v[q * VL + j])
    return dmax(dmax(dmax(t[0], t[1]), dmax(t[2], t[3])), dmax(dmax(t[4], t[5]), dmax(t[6], t[7])))


cdef inline void _tenant_sums(double* acc, const double* r, const double* mk, const double* pr) noexcept nogil:
    """acc[0:3] += kWh by TOU, acc[3] += kWh x price, acc[4] = max(acc[4], peak over TOU != 0)."""
    cdef double v0[HB]
    cdef double v1[HB]
    cdef double v2[HB]
    cdef double vk[HB]
    cdef double vp[HB]
    cdef double x
    cdef int j
    for j in range(HB):
        x = r[j]
        v0[j] = x * mk[j]
        v1[j] = x * mk[HB + j]
        v2[j] = x * mk[2 * HB + j]
        vp[j] = x * mk[3 * HB + j]
        vk[j] = x * pr[j]
    acc[0] += _hsum(v0)
    acc[1] += _hsum(v1)
    acc[2] += _hsum(v2)
    acc[3] += _hsum(vk)
    acc[4] = dmax(acc[4], _hmax(vp))


cdef inline void _contract_tile(CParam* cp, CAcc* ca, double* ag, const double* bg, double* rr,
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
    ca.e += _hsum(ve)
    ca.ap += _hsum(vap)
    ca.und += _hsum(vund)
    ca.ekrw += _hsum(vek)
    ca.akrw += _hsum(vak)
    ca.avoid += _hsum(vav)
    ca.sursmp += _hsum(vss)
    if hcap_row != NULL:
        for j in range(n):
            hcap_row[j * C] = vap[j]


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
        k.gacc[g * N_GA + GA_GEN] += _hsum(ag)
        k.gacc[g * N_GA + GA_GSMP] += _hsum(t0)
    memset(k.XS, 0, G * HB * sizeof(double))
    for i in range(T):
        rr = R + i * HB
        for j in range(n):
            v = k.load[(h0 + j) * T + i]
            if not (v >= 0.0 and v <= DBL_MAX):
                k.err_h = h0 + j
                k.err_j = i
                return ERR_LOAD
            rr[j] = v
        for j in range(n, HB):
            rr[j] = 0.0
        kk = k.tar[i]
        _tenant_sums(k.tacc + i * N_TA + TA_LOAD, rr, k.MK + kk * N_MK * HB, k.TP + kk * HB)

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
        k.gacc[g * N_GA + GA_SELF] += _hsum(t0)
    if G:
        memcpy(k.B, A, G * HB * sizeof(double))

    # 3. direct-PPA contracts, in priority order
    for c in range(C):
        cp = &k.cpar[c]
        hcap_row = (k.hcap + h0 * C + c) if k.hcap != NULL else NULL
        _contract_tile(cp, &k.cacc[c], A + cp.g * HB, k.B + cp.g * HB, R + cp.t * HB,
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
            k.gacc[k.pool_g[jj] * N_GA + GA_POOL] += _hsum(ag)
        for j in range(HB):
            t0[j] = k.PV[j] * smp[j]
        k.pool_acc += _hsum(k.PV)
        k.pool_smp_acc += _hsum(t0)
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
                k.tacc[i * N_TA + TA_POOL] += _hsum(t2)
            for j in range(HB):
                fr[j] = t1[j] / (k.PV[j] if k.PV[j] > 0.0 else 1.0)
            k.pool_ap_acc += _hsum(t1)
            for jj in range(k.n_pool):
                g = k.pool_g[jj]
                ag = A + g * HB
                for j in range(HB):
                    t0[j] = ag[j] * fr[j]
                    ag[j] = ag[j] * (1.0 - fr[j])
                k.gacc[g * N_GA + GA_POOLAP] += _hsum(t0)

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
        k.gacc[g * N_GA + GA_EXP] += _hsum(t0)
        k.gacc[g * N_GA + GA_EXPSMP] += _hsum(t1)
        k.gacc[g * N_GA + GA_CURT] += _hsum(t2)
        if k.limited[g] and _hmax(fr) > 0.0:
            for jj in range(k.cstart[g], k.cstart[g + 1]):
                c = k.clist[jj]
                rr = k.S + k.cpar[c].slot * HB
                for j in range(HB):
                    t0[j] = rr[j] * fr[j]
                    t1[j] = t0[j] * smp[j]
                k.cacc[c].curt += _hsum(t0)
                k.cacc[c].curtsmp += _hsum(t1)

    # 6. grid = residual load; tenant sums
    for i in range(T):
        kk = k.tar[i]
        _tenant_sums(k.tacc + i * N_TA + TA_GRID, R + i * HB, k.MK + kk * N_MK * HB, k.TP + kk * HB)
    if k.hgrid != NULL:
        for i in range(T):
            for j in range(n):
                k.hgrid[(h0 + j) * T + i] = R[i * HB + j]
    return ERR_NONE


cdef void _flush(Kern* k, Py_ssize_t m) noexcept nogil:
    """Write the current month's accumulators into output row m, then zero them."""
    cdef Py_ssize_t T = k.T, G = k.G, C = k.C
    cdef Py_ssize_t t, g, c, o
    cdef double* a
    cdef CAcc* ca
    cdef double sur
    for t in range(T):
        a = k.tacc + t * N_TA
        o = m * T + t
        k.o_tgrid[o] = (a[TA_GRID] + a[TA_GRID + 1]) + a[TA_GRID + 2]
        k.o_tload[o] = (a[TA_LOAD] + a[TA_LOAD + 1]) + a[TA_LOAD + 2]
        k.o_tgtou[3 * o] = a[TA_GRID]
        k.o_tgtou[3 * o + 1] = a[TA_GRID + 1]
        k.o_tgtou[3 * o + 2] = a[TA_GRID + 2]
        k.o_tltou[3 * o] = a[TA_LOAD]
        k.o_tltou[3 * o + 1] = a[TA_LOAD + 1]
        k.o_tltou[3 * o + 2] = a[TA_LOAD + 2]
        k.o_tgkrw[o] = a[TA_GRID + 3]
        k.o_tlkrw[o] = a[TA_LOAD + 3]
        k.o_tgpk[o] = a[TA_GRID + 4]
        k.o_tlpk[o] = a[TA_LOAD + 4]
        k.o_tpool[o] = a[TA_POOL]
    for g in range(G):
        a = k.gacc + g * N_GA
        o = m * G + g
        k.o_gen[o] = a[GA_GEN]
        k.o_gself[o] = a[GA_SELF]
        k.o_gpool[o] = a[GA_POOL]
        k.o_gpoolap[o] = a[GA_POOLAP]
        k.o_gexp[o] = a[GA_EXP]
        k.o_gcurt[o] = a[GA_CURT]
        k.o_gexpsmp[o] = a[GA_EXPSMP]
        k.o_gsmp[o] = a[GA_GSMP]
        if k.gen_host[g] >= 0:
            k.o_tself[m * T + k.gen_host[g]] += a[GA_SELF]
    for c in range(C):
        ca = &k.cacc[c]
        o = m * C + c
        sur = ca.e - ca.ap
        k.o_ce[o] = ca.e
        k.o_cap[o] = ca.ap
        k.o_csx[o] = sur - ca.curt
        k.o_csc[o] = ca.curt
        k.o_cund[o] = ca.und
        k.o_cekrw[o] = ca.ekrw
        k.o_cakrw[o] = ca.akrw
        k.o_csmp[o] = ca.sursmp - ca.curtsmp
        k.o_cavoid[o] = ca.avoid
        g = k.c_gen[c]
        k.o_gppa[m * G + g] += ca.ap
        k.o_gsx[m * G + g] += sur - ca.curt
        k.o_tppa[m * T + k.c_tenant[c]] += ca.ap
    k.o_pool[m] = k.pool_acc
    k.o_poolap[m] = k.pool_ap_acc
    k.o_poolsmp[m] = k.pool_smp_acc
    memset(k.tacc, 0, N_TA * T * sizeof(double))
    memset(k.gacc, 0, N_GA * G * sizeof(double))
    memset(k.cacc, 0, C * sizeof(CAcc))
    k.pool_acc = 0.0
    k.pool_ap_acc = 0.0
    k.pool_smp_acc = 0.0


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
        _flush(k, m)
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
    cdef Py_ssize_t M, c, kind, pk, n_slots
    cdef Kern k
    cdef int rc
    cdef CParam* cp

    # cheap shape consistency (the full validation is BlockInputs.validate)
    if (gen_kwh.shape[0] != H or month_of_hour.shape[0] != H or tariff_price.shape[0] != H
            or tariff_tou.shape[0] != H or tariff_tou.shape[1] != K or smp.shape[0] != H
            or profile_kwh.shape[0] != H or tenant_tariff.shape[0] != T or sub_weight.shape[0] != T
            or gen_host.shape[0] != G or gen_pool.shape[0] != G or gen_export_limit_kw.shape[0] != G
            or c_tenant.shape[0] != C or c_kind.shape[0] != C or c_share.shape[0] != C
            or c_block_kw.shape[0] != C or c_profile.shape[0] != C or c_price_kind.shape[0] != C
            or c_price.shape[0] != C or c_price_floor.shape[0] != C or c_price_cap.shape[0] != C):
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
    n_slots = int(c_limited.sum())
    slot = np.full(C, n_slots, dtype=np.int32)
    slot[c_limited == 1] = np.arange(n_slots, dtype=np.int32)
    cdef const int[::1] slot_v = slot

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
        "tenant_grid_energy_krw": np.zeros((M, T), f8),
        "tenant_load_energy_krw": np.zeros((M, T), f8),
        "tenant_grid_peak_kw": np.zeros((M, T), f8),
        "tenant_load_peak_kw": np.zeros((M, T), f8),
        "gen_kwh": np.zeros((M, G), f8),
        "gen_self_kwh": np.zeros((M, G), f8),
        "gen_ppa_kwh": np.zeros((M, G), f8),
        "gen_ppa_surplus_export_kwh": np.zeros((M, G), f8),
        "gen_pool_kwh": np.zeros((M, G), f8),
        "gen_pool_applied_kwh": np.zeros((M, G), f8),
        "gen_export_kwh": np.zeros((M, G), f8),
        "gen_curtailed_kwh": np.zeros((M, G), f8),
        "gen_export_smp_krw": np.zeros((M, G), f8),
        "gen_smp_krw": np.zeros((M, G), f8),
        "contract_contracted_kwh": np.zeros((M, C), f8),
        "contract_applied_kwh": np.zeros((M, C), f8),
        "contract_surplus_export_kwh": np.zeros((M, C), f8),
        "contract_surplus_curtailed_kwh": np.zeros((M, C), f8),
        "contract_undelivered_kwh": np.zeros((M, C), f8),
        "contract_contracted_krw": np.zeros((M, C), f8),
        "contract_applied_krw": np.zeros((M, C), f8),
        "contract_surplus_smp_krw": np.zeros((M, C), f8),
        "contract_avoided_tariff_krw": np.zeros((M, C), f8),
        "pool_kwh": np.zeros(M, f8),
        "pool_applied_kwh": np.zeros(M, f8),
        "pool_smp_krw": np.zeros(M, f8),
        "hourly_grid_kwh": np.zeros((H, T), f8) if hourly else None,
        "hourly_contract_applied_kwh": np.zeros((H, C), f8) if hourly else None,
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
    k.o_tload = _dp(out["tenant_load_kwh"])
    k.o_tgrid = _dp(out["tenant_grid_kwh"])
    k.o_tself = _dp(out["tenant_self_kwh"])
    k.o_tppa = _dp(out["tenant_ppa_kwh"])
    k.o_tpool = _dp(out["tenant_pool_kwh"])
    k.o_tgtou = _dp(out["tenant_grid_kwh_by_tou"])
    k.o_tltou = _dp(out["tenant_load_kwh_by_tou"])
    k.o_tgkrw = _dp(out["tenant_grid_energy_krw"])
    k.o_tlkrw = _dp(out["tenant_load_energy_krw"])
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
    k.cacc = <CAcc*> calloc(C + 1, sizeof(CAcc))
    k.tacc = _scratch(N_TA * T)
    k.gacc = _scratch(N_GA * G)
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
    try:
        if (k.cpar == NULL or k.cacc == NULL or k.tacc == NULL or k.gacc == NULL
                or k.smp_v == NULL or k.valid == NULL or k.TP == NULL or k.MK == NULL
                or k.PR == NULL or k.R == NULL or k.A == NULL or k.B == NULL or k.XS == NULL
                or k.S == NULL or k.PV == NULL):
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
        with nogil:
            rc = _run(&k)
        if rc == ERR_LOAD:
            raise ValueError(
                f"load_kwh contains a negative or non-finite value (hour {k.err_h}, tenant {k.err_j}: "
                f"{load_kwh[k.err_h, k.err_j]})"
            )
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
    return out

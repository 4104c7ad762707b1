# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Fused elementwise passes of the tenant load model (``simulator/inputs/load.py:tenant_load_rows``), and
the write of its rows into a year's (hours, tenants) block (``simulator/scenario/year_inputs.py``).

NumPy runs the load model's broadcast steps (an AR(1) block's carried state times ``phi**k``,
a day's noise added to its 24 hours, a profile gathered from a table then multiplied by the
noise) as separate passes with short inner loops; here each is one pass over a tenant's hours.
Every number is the same IEEE operation on the same operands as NumPy's, in the same order: one
multiplication or addition per rounding, since ``-ffp-contract=off`` (setup.py) keeps the compiler
from fusing a multiplication and an addition into one FMA, and an addition's operands may be in
either order (IEEE addition is commutative). The transcendental and reduction steps (``exp``, sums,
the AR(1) block products) stay in NumPy: their results depend on NumPy's own SIMD code and
summation order. tests/test_load.py checks the results bit for bit against the plain NumPy version.
"""
import numpy as np


def noise_sum(double[:, ::1] y_h, const double[:, :] carried_h, const double[::1] powers_h,
              const double[:, ::1] y_d, const double[:, :] carried_d, const double[::1] powers_d,
              Py_ssize_t n, Py_ssize_t n_days):
    """The log-noise of each row's first ``n`` hours, into ``y_h``: the hourly AR(1) path (block
    products ``y_h`` plus the carried state ``carried_h[b - 1] * powers_h[i]`` for block ``b`` >= 1,
    step ``i``) plus the daily path of the hour's day (``y_d`` plus ``carried_d * powers_d`` likewise).
    An empty ``carried_*`` (one block) adds no carried state. Blocks have ``len(powers_*)`` steps."""
    cdef Py_ssize_t rows = y_h.shape[0], r, h, d, b, i, sh = powers_h.shape[0], sd = powers_d.shape[0]
    cdef double c
    cdef double[::1] day = np.empty(n_days)
    with nogil:
        for r in range(rows):
            for d in range(n_days):
                day[d] = y_d[r, d]
            for b in range(1, carried_d.shape[1]):
                c = carried_d[r, b - 1]
                for i in range(min(sd, n_days - b * sd)):
                    day[b * sd + i] = day[b * sd + i] + c * powers_d[i]
            for b in range(1, carried_h.shape[1]):
                c = carried_h[r, b - 1]
                for i in range(min(sh, n - b * sh)):
                    y_h[r, b * sh + i] = y_h[r, b * sh + i] + c * powers_h[i]
            for h in range(n):
                y_h[r, h] = day[h // 24] + y_h[r, h]


def profile_times(const double[:, ::1] table, const Py_ssize_t[::1] cell, const double[:, ::1] noise,
                  double[:, ::1] base, double[:, ::1] load):
    """``base[r, h] = table[r, cell[h]]`` and ``load[r, h] = base[r, h] * noise[r, h]`` for each row
    ``r`` and each of the ``len(cell)`` hours."""
    cdef Py_ssize_t rows = base.shape[0], n = cell.shape[0], r, h
    cdef double v
    with nogil:
        for r in range(rows):
            for h in range(n):
                v = table[r, cell[h]]
                base[r, h] = v
                load[r, h] = v * noise[r, h]


def rows_into_columns(const double[:, ::1] rows, double[:, ::1] out, const Py_ssize_t[::1] cols):
    """``out[:, cols] = rows.T``: tenant-major rows (tenants, hours) into the hour-major (hours, all
    tenants) block's columns ``cols``. Hour by hour, so each write is a short contiguous run of one
    hour's row; NumPy's strided copy of ``rows.T`` wrote one value per 80 KB row of a 10,000-tenant
    block in turn, a page apart, and took longer than generating the loads."""
    cdef Py_ssize_t n = rows.shape[0], hours = rows.shape[1], h, r
    if cols.shape[0] != n or out.shape[0] != hours:
        raise ValueError(f"rows {rows.shape[0], rows.shape[1]}, columns {cols.shape[0]} and block "
                         f"{out.shape[0], out.shape[1]} do not match")
    for r in range(n):
        if not 0 <= cols[r] < out.shape[1]:
            raise IndexError(f"column {cols[r]} outside the block's {out.shape[1]}")
    with nogil:
        for h in range(hours):
            for r in range(n):
                out[h, cols[r]] = rows[r, h]

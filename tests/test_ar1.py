"""The numpy AR(1) filter equals scipy's lfilter (the independent reference it replaced)."""
import numpy as np
import pytest
from scipy.signal import lfilter

from re100sim.simulator.rng import ar1_filter


@pytest.mark.parametrize("n", [0, 1, 2, 31, 32, 33, 365, 8760, 8784, 100_000])
@pytest.mark.parametrize("phi", [0.0, 1e-3, 0.4, 0.85, 0.9715, 0.999, 0.99999, -0.6])
def test_ar1_filter_matches_lfilter(n, phi):
    e = np.random.default_rng(n).standard_normal(n)
    expected = lfilter([1.0], [1.0, -phi], e) if n else e
    got = ar1_filter(e, phi)
    assert got.shape == (n,)
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-11 * max(1.0, float(np.abs(expected).max(initial=0))))


def test_ar1_filter_hand_worked():
    # y0 = 1; y1 = 0.5*1 + 2 = 2.5; y2 = 0.5*2.5 - 1 = 0.25
    np.testing.assert_allclose(ar1_filter(np.array([1.0, 2.0, -1.0]), 0.5), [1.0, 2.5, 0.25])


@pytest.mark.parametrize("n", [1, 2, 5, 31, 32, 33, 365, 744, 8760, 8784])
@pytest.mark.parametrize("phi", [0.0, 0.3, 0.95, 0.99])
def test_ar1_filter_rows_equal_one_series_at_a_time_bit_for_bit(n, phi):
    # the loads of a batch of tenants are filtered as rows of one array; each row must be exactly
    # (not only closely) what the 1-d filter gives, so outputs do not depend on batching
    e = np.random.default_rng(n).standard_normal((37, n))
    rows = ar1_filter(e, phi)
    assert rows.shape == (37, n)
    for i in range(37):
        assert rows[i].tobytes() == ar1_filter(e[i], phi).tobytes()

"""The on-disk clear-sky cache returns exactly what pvlib computes, and survives a damaged file."""
import numpy as np
import pytest

from re100sim.simulator.inputs import solar

SITE = (37.4, 126.7, 100.0, 2026)


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("RE100SIM_CACHE_DIR", str(tmp_path))
    solar._clearsky_year.cache_clear()
    yield tmp_path
    solar._clearsky_year.cache_clear()


def _same(a: dict, b: dict) -> bool:
    return sorted(a) == sorted(b) and all(np.array_equal(a[k], b[k]) and a[k].dtype == b[k].dtype for k in a)


def test_cached_arrays_equal_the_computed_ones(cache):
    first = solar._clearsky_year(*SITE)
    files = list(cache.glob("clearsky_*.npz"))
    assert len(files) == 1 and "pvlib-" in files[0].name
    solar._clearsky_year.cache_clear()
    again = solar._clearsky_year(*SITE)  # read from disk
    assert _same(again, solar._clearsky_arrays(*SITE)) and _same(first, again)
    assert not again["zenith"].flags.writeable
    assert len(again["zenith"]) == 8760  # hours of 2026


def test_a_damaged_file_is_recomputed(cache):
    solar._clearsky_year(*SITE)
    (path,) = cache.glob("clearsky_*.npz")
    path.write_bytes(b"not a zip file")
    solar._clearsky_year.cache_clear()
    assert _same(solar._clearsky_year(*SITE), solar._clearsky_arrays(*SITE))
    with np.load(path) as f:  # rewritten whole
        assert set(f.files) == set(solar._CLEARSKY_KEYS)


def test_empty_setting_disables_the_disk_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("RE100SIM_CACHE_DIR", "")
    monkeypatch.chdir(tmp_path)
    solar._clearsky_year.cache_clear()
    try:
        solar._clearsky_year(*SITE)
        assert solar.clearsky_cache_dir() is None and not list(tmp_path.rglob("*.npz"))
    finally:
        solar._clearsky_year.cache_clear()

"""Bulk-seeded streams (rng.StreamFamily.batch) are numpy's own SeedSequence + PCG64, state for state."""
import numpy as np
import pytest

from re100sim.simulator.rng import StreamFamily, pcg64_states, stream


@pytest.mark.parametrize("seed", [0, 1, 2025, 2**32 - 1, 2**32, 2**40 + 7, 2**63 + 5, 123456789012345678901234567890])
@pytest.mark.parametrize("width", [1, 2, 3, 5])
def test_pcg64_states_equal_numpy_seeding(seed, width):
    # the independent reference is numpy itself: PCG64(SeedSequence(seed, spawn_key=key)).state
    rng = np.random.default_rng(seed % 2**32 + width)
    keys = rng.integers(0, 2**32, size=(60, width))
    keys[:3] = 0  # zero words are still words of the key
    keys[3:6] = 2**32 - 1
    for key, (state, inc) in zip(keys.tolist(), pcg64_states(seed, keys)):
        want = np.random.PCG64(np.random.SeedSequence(seed, spawn_key=tuple(key))).state["state"]
        assert (state, inc) == (want["state"], want["inc"]), key


def test_stream_batch_draws_what_stream_draws():
    family = StreamFamily(2025, "load", (3,))
    ids = [0, 1, 7, 299, 10_000]
    for i, g in zip(ids, family.batch(ids)):  # one shared generator, set to each stream in turn
        want = stream(2025, "load", i, 3)
        assert g.standard_normal(365).tobytes() == want.standard_normal(365).tobytes()
        assert g.standard_normal(8760).tobytes() == want.standard_normal(8760).tobytes()
    assert family(7).random() == stream(2025, "load", 7, 3).random()
    assert len(StreamFamily(1, "forecast_load").batch(range(4))) == 4


def test_pcg64_states_rejects_keys_out_of_range():
    with pytest.raises(ValueError, match="2\\*\\*32"):
        pcg64_states(1, np.array([[2**32]]))
    with pytest.raises(ValueError):
        pcg64_states(1, np.array([[-1]]))


def test_empty_batch():
    assert len(StreamFamily(3, "decision", (1,)).batch([])) == 0
    assert list(StreamFamily(3, "decision", (1,)).batch(np.array([], dtype=np.int64))) == []

"""corten.random: counter-based streams, determinism, distributions, errors."""

import corten as ct
import numpy as np
import pytest
from corten.random import Generator, bernoulli_mask, normal_, uniform_


@pytest.fixture
def two_threads():
    prev = ct.get_num_threads()
    yield
    ct.set_num_threads(prev)


def test_same_seed_same_numbers_any_thread_count(two_threads):
    draws = []
    for threads in (1, 2):
        ct.set_num_threads(threads)
        g = Generator(123)
        draws.append((ct.rand(300, 700, generator=g).numpy(), ct.randn(200_001, generator=g).numpy(),
                      ct.randint(-5, 5, (100_000,), generator=g).numpy()))
    for a, b in zip(*draws, strict=False):
        assert np.array_equal(a, b)


def test_successive_draws_differ_and_split_draws_continue_the_stream():
    g = Generator(7)
    a, b = ct.rand(1000, generator=g), ct.rand(1000, generator=g)
    assert not np.array_equal(a.numpy(), b.numpy())
    whole = ct.rand(2000, generator=Generator(7)).numpy()
    assert np.array_equal(np.concatenate([a.numpy(), b.numpy()]), whole)


def test_manual_seed_resets_default_generator():
    ct.manual_seed(5)
    a = ct.randn(10).numpy()
    ct.manual_seed(5)
    assert np.array_equal(a, ct.randn(10).numpy())


@pytest.mark.parametrize("dtype", [ct.float32, ct.float64])
def test_uniform_and_normal_moments(dtype):
    g = Generator(0)
    u = ct.rand(1_000_000, dtype=dtype, generator=g).numpy()
    assert u.dtype == dtype.np and u.min() >= 0 and u.max() < 1
    assert abs(u.mean() - 0.5) < 2e-3 and abs(u.var() - 1 / 12) < 2e-3
    n = ct.randn(1_000_000, dtype=dtype, generator=g).numpy()
    assert abs(n.mean()) < 5e-3 and abs(n.std() - 1) < 5e-3


def test_randint_range_dtype_and_coverage():
    r = ct.randint(3, 9, (50_000,), generator=Generator(1))
    assert r.dtype == ct.int64
    assert set(np.unique(r.numpy())) == set(range(3, 9))
    assert ct.randint(10, size=(4,), dtype="int32").dtype == ct.int32


def test_in_place_fills_on_views_and_bernoulli():
    t = ct.zeros(6, 4)
    uniform_(t.T, -2.0, -1.0)
    assert (t.numpy() >= -2).all() and (t.numpy() < -1).all()
    normal_(t, 3.0, 0.0)
    assert np.all(t.numpy() == 3.0)
    m = bernoulli_mask((100_000,), 0.25, Generator(2))
    assert m.dtype == ct.bool and abs(m.numpy().mean() - 0.25) < 0.01


def test_randperm_is_a_permutation():
    p = ct.randperm(1000, generator=Generator(3)).numpy()
    assert sorted(p.tolist()) == list(range(1000))


def test_bad_arguments_raise():
    with pytest.raises(ValueError, match="low >= high"):
        ct.randint(5, 5)
    with pytest.raises(TypeError, match="floating dtype"):
        ct.rand(3, dtype=ct.int32)
    with pytest.raises(ValueError, match="negative dimensions"):
        ct.randn(-1)
    with pytest.raises(ValueError, match="low < high"):
        uniform_(ct.zeros(3), 1.0, 1.0)
    with pytest.raises(ValueError, match="64 bits"):
        Generator(2**70)
    with pytest.raises(ValueError, match="probability"):
        bernoulli_mask((3,), 1.5)

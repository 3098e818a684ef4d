"""The mathematical building blocks of neural networks, with corten.

Run it with `python examples/chapter2.py` (about ten seconds). Each section
prints what it shows and checks it with an `assert`, so the tutorial cannot
silently go wrong. `docs/tutorial.md` is this file turned into a page by
`tools/gen_tutorial.py`.
"""

import time

import corten as ct
import numpy as np

ct.manual_seed(0)


def seconds(fn, repeat=3):
    """The best of `repeat` timings of fn(), in seconds (the minimum is the
    least disturbed by other programs running on the machine)."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def title(text):
    print(f"\n== {text} ==")


# %% Tensors: scalars to 5-D
# A tensor is a container of numbers laid out on a grid. The number of axes is
# its rank, `ndim`; how many numbers lie along each axis is its `shape`; the
# kind of number stored is its `dtype`. A scalar has no axes at all, a vector
# one, a matrix two, and nothing stops at two: a batch of colour video clips
# is naturally a 5-D tensor (clips, frames, height, width, channels).
title("tensors")
scalar = ct.tensor(12.0)
vector = ct.tensor([12.0, 3.0, 6.0, 14.0, 7.0])
matrix = ct.tensor([[5, 78, 2, 34, 0], [6, 79, 3, 35, 1], [7, 80, 4, 36, 2]])
cube = ct.zeros(2, 3, 5)
clips = ct.zeros(4, 8, 16, 16, 3)
for name, t in [("scalar", scalar), ("vector", vector), ("matrix", matrix), ("3-D", cube), ("5-D", clips)]:
    print(f"{name:>6}: ndim {t.ndim}  shape {t.shape}  dtype {t.dtype}")
assert scalar.ndim == 0 and vector.ndim == 1 and matrix.ndim == 2 and clips.ndim == 5
assert clips.shape == (4, 8, 16, 16, 3)
# Python floats become float32 by default, Python ints become int64.
assert vector.dtype == ct.float32 and matrix.dtype == ct.int64

# Slicing picks part of a tensor along each axis, as in NumPy.
print("matrix[1:, 2:4] =", matrix[1:, 2:4].tolist())
assert matrix[1:, 2:4].shape == (2, 2)


# %% Element-wise operations, naive and fast
# `relu(x)` is max(x, 0) applied to every element, and `x + y` adds matching
# elements. Written with Python loops over the tensor, every element costs a
# round trip through the interpreter. The same operation as one corten call
# runs a compiled loop over all the elements at once.
title("element-wise operations")


def naive_relu(x):
    assert x.ndim == 2
    out = ct.zeros(*x.shape)
    for i in range(x.shape[0]):
        for j in range(x.shape[1]):
            out[i, j] = max(x[i, j].item(), 0.0)
    return out


def naive_add(x, y):
    assert x.ndim == 2 and x.shape == y.shape
    out = ct.zeros(*x.shape)
    for i in range(x.shape[0]):
        for j in range(x.shape[1]):
            out[i, j] = x[i, j].item() + y[i, j].item()
    return out


# Small tensors keep the loops quick; the fast calls are timed on the same data.
x = ct.randn(20, 100)
y = ct.randn(20, 100)
assert np.array_equal(naive_relu(x).numpy(), ct.relu(x).numpy())
assert np.array_equal(naive_add(x, y).numpy(), (x + y).numpy())
for name, slow, fast in [
    ("relu", lambda: naive_relu(x), lambda: ct.relu(x)),
    ("add", lambda: naive_add(x, y), lambda: x + y),
]:
    t_slow, t_fast = seconds(slow, repeat=1), seconds(fast, repeat=20)
    print(f"{name} of {x.shape}: loops {t_slow * 1e3:.1f} ms, one call {t_fast * 1e6:.1f} us, "
          f"speed-up {t_slow / t_fast:.0f}x")


# %% Broadcasting
# When two tensors of different ranks meet, the smaller one is broadcast: axes
# are matched from the right, missing axes are added on the left, and axes of
# length 1 are repeated, without copying any data. Adding a (10,) vector to a
# (32, 10) matrix adds the vector to each of the 32 rows.
title("broadcasting")
X = ct.randn(32, 10)
b = ct.randn(10)
Z = X + b
print("(32, 10) + (10,) ->", Z.shape)
for i in range(32):
    assert np.allclose(Z[i].numpy(), X[i].numpy() + b.numpy())

# The same rule works for any ranks: the (32, 10) tensor is used for each of
# the 64 x 3 leading positions of the 4-D one.
big = ct.randn(64, 3, 32, 10)
small = ct.randn(32, 10)
M = ct.maximum(big, small)
print("maximum((64, 3, 32, 10), (32, 10)) ->", M.shape)
assert M.shape == (64, 3, 32, 10)
assert np.array_equal(M[5, 2].numpy(), np.maximum(big[5, 2].numpy(), small.numpy()))


# %% Tensor product (dot)
# The dot product of two vectors multiplies matching elements and sums them.
# A matrix times a vector is one dot product per row of the matrix, and a
# matrix times a matrix is one dot product per (row, column) pair. In corten
# (as in NumPy) all three are `ct.matmul` or the `@` operator.
title("tensor product")


def naive_vector_dot(x, y):
    assert x.ndim == 1 and y.ndim == 1 and x.shape[0] == y.shape[0]
    z = 0.0
    for i in range(x.shape[0]):
        z += x[i].item() * y[i].item()
    return z


def naive_matrix_vector_dot(x, y):
    assert x.ndim == 2 and y.ndim == 1 and x.shape[1] == y.shape[0]
    return ct.tensor([naive_vector_dot(x[i], y) for i in range(x.shape[0])])


def naive_matrix_dot(x, y):
    assert x.ndim == 2 and y.ndim == 2 and x.shape[1] == y.shape[0]
    rows = []
    for i in range(x.shape[0]):
        rows.append([naive_vector_dot(x[i], y[:, j]) for j in range(y.shape[1])])
    return ct.tensor(rows)


v, w = ct.randn(300), ct.randn(300)
A, B = ct.randn(12, 30), ct.randn(30, 8)
u = ct.randn(30)
assert np.isclose(naive_vector_dot(v, w), (v @ w).item(), rtol=1e-4, atol=1e-4)
assert np.allclose(naive_matrix_vector_dot(A, u).numpy(), (A @ u).numpy(), rtol=1e-4, atol=1e-4)
assert np.allclose(naive_matrix_dot(A, B).numpy(), (A @ B).numpy(), rtol=1e-4, atol=1e-4)
print("shapes: (300,) @ (300,) ->", (v @ w).shape, "| (12, 30) @ (30,) ->", (A @ u).shape,
      "| (12, 30) @ (30, 8) ->", (A @ B).shape)
for name, slow, fast in [
    ("vector . vector", lambda: naive_vector_dot(v, w), lambda: v @ w),
    ("matrix . vector", lambda: naive_matrix_vector_dot(A, u), lambda: A @ u),
    ("matrix . matrix", lambda: naive_matrix_dot(A, B), lambda: A @ B),
]:
    t_slow, t_fast = seconds(slow, repeat=1), seconds(fast, repeat=20)
    print(f"{name}: loops {t_slow * 1e3:.1f} ms, one call {t_fast * 1e6:.1f} us, "
          f"speed-up {t_slow / t_fast:.0f}x")


# %% Reshaping and transposing
# Reshaping rearranges the same elements into another shape (the count must
# not change). Transposing swaps rows and columns: x.T[i, j] is x[j, i].
# Both give views of the same memory when they can, so they cost nothing.
title("reshape and transpose")
x = ct.tensor([[0.0, 1.0], [2.0, 3.0], [4.0, 5.0]])
print("x.shape", x.shape, "-> reshape(6, 1)", x.reshape(6, 1).shape, "-> reshape(2, 3)",
      x.reshape(2, 3).tolist())
print("x.T =", x.T.tolist())
assert x.reshape(2, 3).tolist() == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]
assert x.T.shape == (2, 3) and x.T[1, 2].item() == x[2, 1].item()


# %% Gradients three ways
# The gradient of a function tells how much its output changes when each
# input moves a little. Take a linear model y_pred = w * x with the mean
# squared error loss L(w) = mean((w * x - y)^2). By hand, the derivative is
# dL/dw = mean(2 * (w * x - y) * x). Finite differences estimate it without
# any calculus: (L(w + h) - L(w - h)) / (2h) for a small h. Autograd records
# the operations while L is computed and `backward()` runs them in reverse.
# float64 keeps the finite differences accurate.
title("gradients")
xs = ct.randn(50, dtype=ct.float64)
ys = 3.0 * xs + 0.1 * ct.randn(50, dtype=ct.float64)


def loss_of(w):
    return ((w * xs - ys) ** 2).mean()


w0 = 0.5
by_hand = (2 * (w0 * xs - ys) * xs).mean().item()
h = 1e-6
by_differences = (loss_of(w0 + h).item() - loss_of(w0 - h).item()) / (2 * h)
w = ct.tensor(w0, dtype=ct.float64, requires_grad=True)
loss_of(w).backward()
by_autograd = w.grad.item()
print(f"dL/dw at w = {w0}: by hand {by_hand:.6f}, finite differences {by_differences:.6f}, "
      f"backward() {by_autograd:.6f}")
assert abs(by_hand - by_autograd) < 1e-12
assert abs(by_differences - by_autograd) < 1e-6


# %% Mini-batch stochastic gradient descent
# Training repeats five steps:
#   1. draw a batch of training samples x and their targets y_true;
#   2. run the model on x to get predictions y_pred (the forward pass);
#   3. compute the loss, a measure of the mismatch between y_pred and y_true;
#   4. compute the gradient of the loss with respect to the parameters
#      (the backward pass);
#   5. move the parameters a little against the gradient, W -= lr * gradient,
#      which lowers the loss on this batch.
# The problem here is synthetic: the targets come from a hidden linear map
# plus noise, and the model W, b has to find that map.
title("mini-batch SGD")
n_samples, n_in, n_out = 1000, 8, 3
true_W = ct.randn(n_in, n_out)
inputs = ct.randn(n_samples, n_in)
targets = inputs @ true_W + 0.5 + 0.05 * ct.randn(n_samples, n_out)

W = ct.zeros(n_in, n_out, requires_grad=True)
b = ct.zeros(n_out, requires_grad=True)
learning_rate, batch_size = 0.1, 32
losses = []
for step in range(200):
    # 1. a random batch
    idx = ct.randint(0, n_samples, (batch_size,))
    x_batch, y_true = inputs[idx], targets[idx]
    # 2. forward pass
    y_pred = x_batch @ W + b
    # 3. loss
    loss = ((y_pred - y_true) ** 2).mean()
    # 4. backward pass: fills W.grad and b.grad
    loss.backward()
    # 5. update; no_grad() because the update itself is not part of the model
    with ct.no_grad():
        W -= learning_rate * W.grad
        b -= learning_rate * b.grad
    W.grad = None  # gradients add up across backward() calls unless cleared
    b.grad = None
    losses.append(loss.item())
    if step % 40 == 0 or step == 199:
        print(f"step {step:3d}: batch loss {loss.item():.4f}")
assert losses[-1] < losses[0] / 20
assert np.allclose(W.detach().numpy(), true_W.numpy(), atol=0.05)


# %% The chain rule
# A network is a chain of functions, for example
#   f(W1, W2, W3) = a(W1, b(W2, c(W3)))
# with c(W3) = tanh(W3 @ x), b(W2, h) = tanh(W2 @ h) and a(W1, h) = sum(W1 @ h).
# The chain rule says the derivative of a composition is the product of the
# derivatives of its links, taken from the output backwards. Each step below
# turns "how the output changes with this layer's output" into "how it
# changes with this layer's input and weights". This is exactly what
# backward() does for us.
title("chain rule")
x = ct.randn(4, dtype=ct.float64)
W1 = ct.randn(2, 5, dtype=ct.float64, requires_grad=True)
W2 = ct.randn(5, 6, dtype=ct.float64, requires_grad=True)
W3 = ct.randn(6, 4, dtype=ct.float64, requires_grad=True)

# Forward, keeping what the backward steps need.
h3 = ct.tanh(W3 @ x)  # c(W3)
h2 = ct.tanh(W2 @ h3)  # b(W2, c(W3))
f = (W1 @ h2).sum()  # a(W1, b(W2, c(W3)))
f.backward()

# Backward by hand, from the output to W3. tanh'(z) = 1 - tanh(z)^2.
with ct.no_grad():
    g_out = ct.ones(2, dtype=ct.float64)  # df / d(W1 @ h2): the sum's derivative
    dW1 = ct.outer(g_out, h2)
    g_h2 = W1.T @ g_out
    g_z2 = g_h2 * (1 - h2**2)
    dW2 = ct.outer(g_z2, h3)
    g_h3 = W2.T @ g_z2
    g_z3 = g_h3 * (1 - h3**2)
    dW3 = ct.outer(g_z3, x)
for name, by_hand, param in [("W1", dW1, W1), ("W2", dW2, W2), ("W3", dW3, W3)]:
    err = np.abs(by_hand.numpy() - param.grad.numpy()).max()
    print(f"d f / d {name}: shape {param.grad.shape}, chain rule by hand vs backward() max diff {err:.1e}")
    assert err < 1e-12
# corten's own finite-difference check agrees too.
assert ct.autograd.gradcheck(lambda a, b_, c: (a @ ct.tanh(b_ @ ct.tanh(c @ x))).sum(), [W1, W2, W3])


# %% Next: a real training job
# Everything above, put together with layers (`corten.nn`), optimizers
# (`corten.optim`) and a data loader, trains a classifier on Fashion-MNIST:
#   python -m corten train
# (`make demo` fetches the data and runs it; README.md lists the options.)
title("next")
print("train a real model: python -m corten train")
print("\nall checks passed")

"""A short tour of corten's tensor core: run with `make demo` or `python examples/tour.py`."""

import corten as ct
import numpy as np

print(f"corten {ct.__version__}: kernels use {ct.simd_level()} on {ct.get_num_threads()} threads\n")

# Tensors of any rank, NumPy-style dtypes and promotion.
x = ct.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
print("x =", x)
print("shape", x.shape, "ndim", x.ndim, "dtype", x.dtype, "strides (elements)", x.strides)
print("x.T is a view with strides", x.T.strides)
print("x + 1.5 stays float32:", (x + 1.5).dtype, "| int tensor / 2 ->", (ct.tensor([1, 2]) / 2).dtype)

# Broadcasting element-wise kernels, in C++.
row = ct.tensor([10.0, 20.0, 30.0])
print("\nx + row =", x + row)
print("relu(x - 3) =", ct.relu(x - 3))
print("where(x > 2, x, 0) =", ct.where(x > 2, x, 0.0))

# Zero-copy interop with NumPy.
a = np.arange(6, dtype=np.float32).reshape(2, 3)
t = ct.from_numpy(a)
t += 100
print("\nfrom_numpy shares memory: numpy sees", a[0])
print("np.asarray(t) is zero-copy:", np.shares_memory(np.asarray(t), a))

# Reverse-mode autograd.
w = ct.tensor([0.5, -1.0, 2.0], dtype=ct.float64, requires_grad=True)
loss = (ct.tanh(w) * w.exp()).sum()
loss.backward()
print("\nloss =", loss.item())
print("d loss / d w =", w.grad)

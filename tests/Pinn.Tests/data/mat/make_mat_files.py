#!/usr/bin/python3
"""Writes the small MAT-files the MatFile tests read (committed, so the tests need no SciPy).

Run from anywhere with Debian's python3-scipy (apt-get install python3-scipy):
    /usr/bin/python3 tests/Pinn.Tests/data/mat/make_mat_files.py

numeric.mat / numeric_compressed.mat: the same variables, uncompressed and zlib-compressed (miCOMPRESSED):
every numeric class, complex, logical, a 3-D array, an empty array, and char / struct / cell / sparse
variables the reader must list but refuse. SciPy writes data of 4 bytes or less as small data elements
(i8, i16, u16, flag and every name of up to 4 characters).
grid.mat / grid.npz: one small space-time grid u[x, t] (x 5x1, t 1x4), the same field transposed (ut, 4x5),
and scattered points (xs, ts, us: 7x1 each); the .npz holds the same numpy arrays, so a reference read from
either must be identical.
"""
import os

import numpy as np
import scipy.io
import scipy.sparse

here = os.path.dirname(os.path.abspath(__file__))

numeric = {
    "d": np.array([[1.5, 2.0, 3.0], [4.0, 5.0, -6.25]]),  # 2x3: row-major order 1.5 2 3 4 5 -6.25
    "a3": np.arange(24.0).reshape(2, 3, 4),  # 3-D: a3[i, j, k] = 12 i + 4 j + k
    "k": 7.0,  # a scalar is 1x1
    "s": np.array([0.5, -1.25, 0.1], dtype=np.float32),
    "i8": np.array([-128, -1, 127], dtype=np.int8),
    "i16": np.array([[-32768], [32767]], dtype=np.int16),
    "i32": np.array([-2147483648, 2147483647, 7], dtype=np.int32),
    "i64": np.array([-(2**53), 2**53], dtype=np.int64),
    "u8": np.array([0, 200, 255], dtype=np.uint8),
    "u16": np.array([65535], dtype=np.uint16),
    "u32": np.array([4294967295, 1], dtype=np.uint32),
    "u64": np.array([2**64 - 2048], dtype=np.uint64),  # exactly representable as a double
    "z": np.array([[1 + 2j, -3.5j], [4, 0.25 - 1j]]),
    "flag": np.array([True, False, True]),
    "empty": np.zeros((0, 3)),
    "label": "hello",
    "st": {"a": 1.0, "b": "text"},
    "cel": np.array([1.0, "two"], dtype=object),
    "sp": scipy.sparse.csc_matrix(np.eye(3)),
}

scipy.io.savemat(os.path.join(here, "numeric.mat"), numeric, do_compression=False)
scipy.io.savemat(os.path.join(here, "numeric_compressed.mat"), numeric, do_compression=True)

x = np.linspace(0.0, 1.0, 5).reshape(5, 1)
t = np.linspace(0.0, 0.5, 4).reshape(1, 4)
u = np.sin(np.pi * x) * np.exp(-t)  # 5x4 = u[x, t]
rng = np.random.default_rng(7)
xs = rng.uniform(0.0, 1.0, (7, 1))
ts = rng.uniform(0.0, 0.5, (7, 1))
grid = {"x": x, "t": t, "u": u, "ut": u.T.copy(), "xs": xs, "ts": ts, "us": np.sin(np.pi * xs) * np.exp(-ts)}
scipy.io.savemat(os.path.join(here, "grid.mat"), grid)
np.savez(os.path.join(here, "grid.npz"), **grid)

# Cross-check with SciPy's own reader, so a wrong generator does not go unnoticed.
back = scipy.io.loadmat(os.path.join(here, "numeric_compressed.mat"))
assert np.array_equal(back["a3"], numeric["a3"]) and back["z"].dtype == np.complex128
print("wrote numeric.mat, numeric_compressed.mat, grid.mat, grid.npz in", here)

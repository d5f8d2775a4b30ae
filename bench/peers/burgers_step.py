#!/usr/bin/env python3
"""The Burgers PINN step of src/Pinn.Bench in PyTorch: the peer baseline of the `peers` suite.

Reads the .npz the C# side wrote (FixedBatchPinnStep.Export): the initial parameters p000, p001, ...
(weight then bias per layer, in module order), the points of each loss term (points_pde, points_ic,
points_bc; columns x, t) and NeuralField's affine input map (center, half_width). Builds the same MLP,
computes the same loss -- mean squares of u_t + u u_x - (0.01/pi) u_xx, u + sin(pi x) at t = 0 and u
at x = +-1, weights 1 -- and times the same Adam step. Prints one JSON object on stdout, with the BLAS
libraries the process mapped and, for OpenBLAS, the core (kernel set) it runs.

Usage: burgers_step.py FILE.npz --dtype float32|float64 --threads N [--warmup 2] [--repeats 7]
       burgers_step.py --blas-info      (the BLAS part only: {"blas_libs", "blas_core", "blas_config"})
"""
import argparse
import ctypes
import os
import json
import math
import resource
import time

import numpy as np
import torch

NU = 0.01 / math.pi


def blas_info():
    """The BLAS this process has mapped (paths resolved through Debian's alternatives symlinks, libblas.so.3 ->
    .../openblas-openmp/...) and, when it is OpenBLAS, openblas_get_corename() / openblas_get_config() of it: the
    core DYNAMIC_ARCH picked from CPUID, or the one OPENBLAS_CORETYPE forced. torch.__config__.show() cannot tell
    (Debian's build says BLAS_INFO=generic), so ask the library itself through ctypes."""
    torch.ones(2, 2) @ torch.ones(2, 2)  # make sure the BLAS is loaded
    with open("/proc/self/maps") as maps:
        libs = sorted({os.path.realpath(l.split()[-1]) for l in maps if "blas" in l or "mkl" in l})
    core = config = None
    for path in libs:
        try:
            lib = ctypes.CDLL(path)
            get_core, get_config = lib.openblas_get_corename, lib.openblas_get_config
        except (OSError, AttributeError):
            continue
        get_core.restype = get_config.restype = ctypes.c_char_p
        core, config = get_core().decode(), get_config().decode()
        break
    return {"blas_libs": libs, "blas_core": core, "blas_config": config}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("npz", nargs="?")
    ap.add_argument("--blas-info", action="store_true", help="print the BLAS libraries and OpenBLAS core, then exit")
    ap.add_argument("--dtype", choices=["float32", "float64"])
    ap.add_argument("--threads", type=int)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--lr", type=float, default=1e-3)
    a = ap.parse_args()
    if a.blas_info:
        print(json.dumps(blas_info()))
        return
    if a.npz is None or a.dtype is None or a.threads is None:
        ap.error("FILE.npz, --dtype and --threads are required (or --blas-info)")

    torch.set_num_threads(a.threads)
    dtype = getattr(torch, a.dtype)
    data = np.load(a.npz)
    as_tensor = lambda key: torch.tensor(data[key], dtype=dtype)
    params = [torch.nn.Parameter(as_tensor(k)) for k in sorted(k for k in data.files if k.startswith("p") and k[1:].isdigit())]
    if len(params) % 2 or any(w.dim() != 2 or b.dim() != 1 for w, b in zip(params[::2], params[1::2])):
        raise SystemExit("expected weight/bias pairs of a plain MLP in p000, p001, ...")
    layers = list(zip(params[::2], params[1::2]))
    center, half_width = as_tensor("center"), as_tensor("half_width")
    # The C# points require grad for every term (PointSet makes them autograd leaves): same here,
    # so both sides build the same graph.
    pts = {k[len("points_"):]: as_tensor(k).requires_grad_(True) for k in data.files if k.startswith("points_")}

    def net(x):
        h = (x - center) / half_width  # NeuralField's embedding: each coordinate onto [-1, 1]
        for w, b in layers[:-1]:
            h = torch.tanh(torch.nn.functional.linear(h, w, b))
        w, b = layers[-1]
        return torch.nn.functional.linear(h, w, b)[:, 0]

    def loss():
        x = pts["pde"]
        u = net(x)
        g = torch.autograd.grad(u.sum(), x, create_graph=True)[0]
        u_x, u_t = g[:, 0], g[:, 1]
        u_xx = torch.autograd.grad(u_x.sum(), x, create_graph=True)[0][:, 0]
        pde = (u_t + u * u_x - NU * u_xx).square().mean()
        xi = pts["ic"]
        ic = (net(xi) + torch.sin(math.pi * xi[:, 0])).square().mean()
        bc = net(pts["bc"]).square().mean()
        return pde + ic + bc

    adam = torch.optim.Adam(params, lr=a.lr)

    def step():
        adam.zero_grad()
        total = loss()
        value = total.item()  # as the C# step reads its loss every step
        total.backward()
        adam.step()
        return value

    def once():
        start = time.perf_counter()
        step()
        return (time.perf_counter() - start) * 1e3

    loss0 = loss().item()
    first_ms = once()
    for _ in range(a.warmup - 1):
        step()
    samples = [once() for _ in range(a.repeats)]
    print(json.dumps({
        "loss0": loss0,
        "ms_per_step": float(np.median(samples)),
        "min_ms": min(samples),
        "samples_ms": samples,
        "first_ms": first_ms,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "dtype": a.dtype,
        **blas_info(),
    }))


if __name__ == "__main__":
    main()

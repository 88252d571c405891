"""Speed of the numpy engine on the work the explorables and the lab do.

    python benchmarks/core_speed.py [--repeats 30]

Prints medians (ms) side by side in one run:
1. forward + per-layer histograms, default explainer net (10 x 256, batch 512,
   float32, dropout p=0.5): deeptricks vs a naive version (float64 masks,
   np.histogram) vs PyTorch (if installed) with torch.histc;
2. forward + backward of a 50-layer, 256-wide net (batch 512, float32,
   BatchNorm): deeptricks vs PyTorch;
3. training steps per second, 10 layers x 64 units, batch 64 from 512 points
   (Adam, BatchNorm), without and with a full train/test evaluation per step:
   deeptricks vs PyTorch.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from deeptricks.core import Trainer, build_net, histogram, make_dataset, make_optimizer

try:
    import torch
except ImportError:  # PyTorch is optional: only for the comparison columns
    torch = None


def median_ms(fn, repeats, warmup=3):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return 1e3 * float(np.median(times))


def bench_forward_hist(repeats):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((512, 256)).astype(np.float32)
    net = build_net(depth=10, width=256, dropout=0.5, seed=0, dtype=np.float32)

    def ours():
        net.forward(x)
        for out in net.block_outputs():
            lo, hi = float(out.min()), float(out.max())
            histogram(out, lo, hi if hi > lo else lo + 1, 50)

    weights = [lin.params["W"] for lin in net.linears]

    def naive():
        h = x.astype(np.float64)
        for W in weights:
            h = np.maximum(h @ W, 0)
            h = h * (rng.random(h.shape) >= 0.5) / 0.5
            np.histogram(h, bins=50)

    rows = {"deeptricks": median_ms(ours, repeats), "naive numpy": median_ms(naive, repeats)}
    if torch is not None:
        tx = torch.from_numpy(x)
        tnet = torch.nn.Sequential(*[m for W in weights for m in (
            _tlinear(W), torch.nn.ReLU(), torch.nn.Dropout(0.5))])

        def tfwd():
            with torch.no_grad():
                h = tx
                for i, m in enumerate(tnet):
                    h = m(h)
                    if i % 3 == 2:
                        torch.histc(h, bins=50)
        rows["torch"] = median_ms(tfwd, repeats)
    return rows


def _tlinear(W):
    lin = torch.nn.Linear(W.shape[0], W.shape[1])
    with torch.no_grad():
        lin.weight.copy_(torch.from_numpy(np.ascontiguousarray(W.T)))
        lin.bias.zero_()
    return lin


def bench_fwd_bwd(repeats):
    x = np.random.default_rng(0).standard_normal((512, 256)).astype(np.float32)
    net = build_net(depth=50, width=256, norm="batch", seed=0, dtype=np.float32)
    dy = np.ones((512, 256), np.float32)

    def ours():
        net.forward(x)
        net.backward(dy)

    rows = {"deeptricks": median_ms(ours, repeats)}
    if torch is not None:
        layers = []
        for lin in net.linears:
            layers += [torch.nn.BatchNorm1d(256), _tlinear(lin.params["W"]), torch.nn.ReLU()]
        tnet = torch.nn.Sequential(*layers)
        tx = torch.from_numpy(x).requires_grad_(True)
        tdy = torch.from_numpy(dy)

        def tfb():
            tnet.zero_grad()
            tnet(tx).backward(tdy)
        rows["torch"] = median_ms(tfb, repeats)
    return rows


def bench_training(steps=300):
    data = make_dataset("moons", n_train=512, n_test=512)
    rows = {}
    for label, every in (("steps/s (train only)", steps + 1), ("steps/s (+ eval each step)", 1)):
        net = build_net(depth=10, width=64, in_features=2, out_features=2, norm="batch", seed=0,
                        dtype=np.float32)
        tr = Trainer(net, data, make_optimizer("adam", net, 1e-3), batch_size=64, eval_every=every,
                     record_stats=False)
        tr.run(10)
        t0 = time.perf_counter()
        tr.run(steps)
        rows[f"deeptricks {label}"] = steps / (time.perf_counter() - t0)
    if torch is not None:
        layers = [torch.nn.Linear(2, 64)]
        for _ in range(10):
            layers += [torch.nn.BatchNorm1d(64), torch.nn.Linear(64, 64), torch.nn.ReLU()]
        layers.append(torch.nn.Linear(64, 2))
        tnet = torch.nn.Sequential(*layers)
        opt = torch.optim.Adam(tnet.parameters(), 1e-3)
        X = torch.from_numpy(data.X_train.astype(np.float32))
        y = torch.from_numpy(data.y_train)
        g = torch.Generator().manual_seed(0)
        lossf = torch.nn.CrossEntropyLoss()

        def tstep():
            idx = torch.randint(0, 512, (64,), generator=g)
            opt.zero_grad()
            lossf(tnet(X[idx]), y[idx]).backward()
            opt.step()
        for _ in range(10):
            tstep()
        t0 = time.perf_counter()
        for _ in range(steps):
            tstep()
        rows["torch steps/s (train only)"] = steps / (time.perf_counter() - t0)
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=30)
    args = ap.parse_args()
    if torch is not None:
        torch.set_num_threads(2)
    print(f"numpy {np.__version__}" + (f", torch {torch.__version__}" if torch else ", torch not installed"))
    print("\n1. forward + 10 histograms, 10 x 256, batch 512, dropout 0.5 (median ms)")
    for k, v in bench_forward_hist(args.repeats).items():
        print(f"   {k:<24}{v:8.2f}")
    print("\n2. forward + backward, 50 x 256, batch 512, BatchNorm (median ms)")
    for k, v in bench_fwd_bwd(args.repeats).items():
        print(f"   {k:<24}{v:8.2f}")
    print("\n3. training, 10 x 64, batch 64 of 512 points, Adam, BatchNorm")
    for k, v in bench_training().items():
        print(f"   {k:<40}{v:8.0f}")


if __name__ == "__main__":
    main()

"""PyTorch on the seed CNN, for side-by-side figures with `cargo bench --bench seed_cnn`.

Same model, batch sizes, optimizer (Adam) and random inputs as benches/seed_cnn.rs; two
threads, as the Rust side uses the machine's two cores. Prints medians of repeated timings.

    python3 benches/pytorch_seed_cnn.py
"""
import statistics
import time

import torch
from torch import nn

torch.set_num_threads(2)
torch.manual_seed(0)

model = nn.Sequential(
    nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
    nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
    nn.Conv2d(64, 64, 3), nn.ReLU(),
    nn.Flatten(),
    nn.Linear(576, 64), nn.ReLU(),
    nn.Linear(64, 10),
)
print("parameters:", sum(p.numel() for p in model.parameters()))


def median_seconds(fn, repeats, warmup=5):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


one = torch.rand(1, 1, 28, 28)
batch = torch.rand(64, 1, 28, 28)
labels = torch.arange(64) % 10
opt = torch.optim.Adam(model.parameters(), lr=1e-3)
loss_fn = nn.CrossEntropyLoss()

with torch.no_grad():
    t1 = median_seconds(lambda: model(one), 2000)
    t64 = median_seconds(lambda: model(batch), 200)


def train_step():
    opt.zero_grad()
    loss = loss_fn(model(batch), labels)
    loss.backward()
    opt.step()


tt = median_seconds(train_step, 200)
print(f"inference batch 1:  {t1 * 1e3:.3f} ms")
print(f"inference batch 64: {t64 * 1e3:.2f} ms = {64 / t64:,.0f} samples/s")
print(f"train step batch 64: {tt * 1e3:.2f} ms = {64 / tt:,.0f} samples/s")

"""PyTorch on the seed models, for side-by-side figures with `cargo bench --bench seed_cnn`.

Same models, batch sizes, optimizer (Adam) and random inputs as benches/seed_cnn.rs; two
threads, as the Rust side uses the machine's two cores. Prints medians of repeated timings.

On the CPU it also prints each model's peak resident set over 5 warm-up and 20 training
steps, beside `cargo bench --bench peak_memory`: the script runs itself once more per model
(`... cpu --peak-rss NAME`), so each peak is a fresh process's and no model's includes
another's, and reads it from `getrusage`.

    python3 benches/pytorch_seed_cnn.py          # CPU, beside `cargo bench --bench seed_cnn`
    python3 benches/pytorch_seed_cnn.py cuda     # GPU, beside benches/cuda_step.rs
"""
import resource
import statistics
import subprocess
import sys
import time

import torch
from torch import nn

device = sys.argv[1] if len(sys.argv) > 1 else "cpu"
# Set when the script runs itself to measure one model's peak memory.
peak_rss_of = sys.argv[3] if len(sys.argv) > 3 and sys.argv[2] == "--peak-rss" else None
if device == "cpu":
    torch.set_num_threads(2)
torch.manual_seed(0)


def synchronize():
    """GPU work is queued: a timing ends when the queue is done."""
    if device == "cuda":
        torch.cuda.synchronize()


class LastStep(nn.Module):
    """An LSTM's output at the last step, as Keras's LSTM without return_sequences."""

    def __init__(self, lstm):
        super().__init__()
        self.lstm = lstm

    def forward(self, x):
        return self.lstm(x)[0][:, -1]


class ImageToSequence(nn.Module):
    """(B, C, H, W) -> (B, W, C*H): width is time, as typenet's CRNN rule."""

    def forward(self, x):
        b, c, h, w = x.shape
        return x.permute(0, 3, 1, 2).reshape(b, w, c * h)


class Sequences(nn.Module):
    def __init__(self, lstm):
        super().__init__()
        self.lstm = lstm

    def forward(self, x):
        return self.lstm(x)[0]


models = {
    "seed_cnn": (
        nn.Sequential(
            nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(64, 64, 3), nn.ReLU(),
            nn.Flatten(),
            nn.Linear(576, 64), nn.ReLU(),
            nn.Linear(64, 10),
        ),
        (1, 28, 28),
    ),
    "seed_lstm": (
        nn.Sequential(
            Sequences(nn.LSTM(28, 64, batch_first=True)),
            LastStep(nn.LSTM(64, 64, batch_first=True)),
            nn.Linear(64, 10),
        ),
        (28, 28),
    ),
    "crnn": (
        nn.Sequential(
            nn.Conv2d(1, 32, 3), nn.MaxPool2d(2), ImageToSequence(),
            LastStep(nn.LSTM(32 * 13, 64, batch_first=True)),
            nn.Linear(64, 10),
        ),
        (1, 28, 28),
    ),
}


def median_seconds(fn, repeats, warmup=5):
    for _ in range(warmup):
        fn()
    synchronize()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        synchronize()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def training(model, shape):
    """One training step (batch 64, cross-entropy, Adam) of `model` on random samples."""
    batch = torch.rand(64, *shape, device=device)
    labels = torch.arange(64, device=device) % 10
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()

    def train_step():
        opt.zero_grad()
        loss = loss_fn(model(batch), labels)
        loss.backward()
        opt.step()

    return train_step


if peak_rss_of is not None:
    def peak_mib():
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux

    before = peak_mib()
    model, shape = models[peak_rss_of]
    train_step = training(model.to(device), shape)
    for _ in range(5 + 20):
        train_step()
    print(f"  peak resident set:   {peak_mib():.1f} MiB over 5 + 20 training steps "
          f"({before:.1f} MiB before them: Python, torch and the models)")
    sys.exit()

for name, (model, shape) in models.items():
    params = sum(p.numel() for p in model.parameters())
    model = model.to(device)
    one = torch.rand(1, *shape, device=device)
    batch = torch.rand(64, *shape, device=device)

    with torch.no_grad():
        t1 = median_seconds(lambda: model(one), 1000)
        t64 = median_seconds(lambda: model(batch), 100)

    tt = median_seconds(training(model, shape), 100)
    print(f"{name} ({params:,} parameters, {device})")
    print(f"  inference batch 1:   {t1 * 1e3:.3f} ms")
    print(f"  inference batch 64:  {t64 * 1e3:.2f} ms = {64 / t64:,.0f} samples/s")
    print(f"  train step batch 64: {tt * 1e3:.2f} ms = {64 / tt:,.0f} samples/s", flush=True)
    if device == "cpu":
        subprocess.run([sys.executable, __file__, device, "--peak-rss", name], check=True)

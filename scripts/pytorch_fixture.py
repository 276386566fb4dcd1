"""Writes tests/fixtures/pytorch_*.safetensors: state_dicts saved by PyTorch itself, with an
input and PyTorch's output for it, for tests/pytorch_interop.rs to load into typenet
(`import_pytorch`) and compare. The networks are that test's `Image` and `Sequence`, with
PyTorch's random initialisation (both recurrent biases non-zero) and random batch-norm
statistics.

    python scripts/pytorch_fixture.py
"""
from pathlib import Path

import torch
from safetensors.torch import save_file
from torch import nn

from typenet_torch import GRU, LSTM

torch.manual_seed(0)
fixtures = Path(__file__).resolve().parent.parent / "tests" / "fixtures"

image = nn.Sequential(
    nn.Conv2d(1, 2, (3, 2)), nn.ReLU(), nn.BatchNorm2d(2), nn.MaxPool2d((2, 3), stride=2),
    nn.Flatten(),
    nn.Linear(8, 4), nn.ReLU(), nn.Linear(4, 3),
)
with torch.no_grad():
    image[2].weight.uniform_(0.5, 1.5)
    image[2].bias.normal_()
    image[2].running_mean.normal_()
    image[2].running_var.uniform_(0.5, 2.0)
sequence = nn.Sequential(LSTM(3, 2, return_sequences=True), GRU(2, 2, bidirectional=True), nn.Linear(4, 1))

for name, net, x in [
    ("image", image, torch.randn(3, 1, 6, 6)),
    ("sequence", sequence, torch.randn(2, 5, 3)),
]:
    net.eval()
    with torch.no_grad():
        y = net(x)
    save_file(net.state_dict(), fixtures / f"pytorch_{name}.safetensors")
    save_file({"input": x, "output": y}, fixtures / f"pytorch_{name}_io.safetensors")
    print(name, tuple(y.shape), sorted(net.state_dict()))

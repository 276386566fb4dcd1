"""Loads the seed CNN that `examples/export_pytorch.rs` trained and exported into the
equivalent PyTorch `nn.Sequential`, runs it on the test digits the example wrote, and
compares PyTorch's logits with typenet's. Then saves PyTorch's own state_dict, which
`typenet::train::import_pytorch` loads back.

    cargo run --release --example export_pytorch
    python scripts/pytorch_parity.py target/pytorch

Needs `torch` and `safetensors` (`pip install torch safetensors numpy`); not run by CI.
"""
import sys
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file
from torch import nn

# The seed CNN, one module per typenet layer (typenet layer n is module n - 1 here).
seed_cnn = nn.Sequential(
    nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
    nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
    nn.Conv2d(64, 64, 3), nn.ReLU(),
    nn.Flatten(),
    nn.Linear(64 * 3 * 3, 64), nn.ReLU(),
    nn.Linear(64, 10),
)


def main(out):
    out = Path(out)
    # strict: every name and shape must match, both ways.
    seed_cnn.load_state_dict(load_file(out / "seed_cnn.safetensors"), strict=True)
    seed_cnn.eval()
    probes = load_file(out / "seed_cnn_probes.safetensors")
    with torch.no_grad():
        logits = seed_cnn(probes["inputs"])
    ours = probes["logits"]
    diff = (logits - ours).abs().max().item()
    scale = ours.abs().max().item()
    same = (logits.argmax(1) == ours.argmax(1)).sum().item()
    right = (logits.argmax(1) == probes["labels"].long()).sum().item()
    n = len(ours)
    print(f"torch {torch.__version__}: {n} test digits through the exported seed CNN")
    print(f"max |PyTorch logit - typenet logit| = {diff:.3g} (logits up to {scale:.3g})")
    print(f"same predicted class: {same}/{n}; correct: {right}/{n}")
    back = out / "seed_cnn_from_torch.safetensors"
    save_file(seed_cnn.state_dict(), back)
    print(f"PyTorch's own state_dict: {back}")
    if diff > 1e-4:
        sys.exit("the logits differ by more than 1e-4")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "target/pytorch")

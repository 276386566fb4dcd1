"""PyTorch modules for the typenet layers that have no plain `torch.nn` counterpart in an
`nn.Sequential`, named so that `typenet::train::export_pytorch`'s state_dict loads into them.

- `LSTM`, `GRU`, `RNN`: `nn.LSTM`, `nn.GRU`, `nn.RNN` (subclasses, so their tensors keep
  PyTorch's names: `weight_ih_l0`, ..., `_reverse`) with `batch_first=True` whose `forward`
  returns only the output, as typenet's layers do: every step with `return_sequences=True`,
  else the last one (for the backward direction of a bidirectional layer, its state after
  reading the whole sequence, i.e. its output at step 0, as Keras and typenet take it).
- `ImageToSequence`: typenet's `ToSequence`, `(B, C, H, W)` -> `(B, W, C*H)` (width as time)
  or `(B, H, C*W)` (`time = height`).
- `GlobalPool`: typenet's `GlobalAvgPool` / `GlobalMaxPool`, `(B, C, H, W)` -> `(B, C)`.
"""
import torch
from torch import nn


def _recurrent(base):
    class Recurrent(base):
        def __init__(self, input_size, hidden_size, return_sequences=False, bidirectional=False):
            super().__init__(input_size, hidden_size, batch_first=True, bidirectional=bidirectional)
            self.return_sequences = return_sequences

        def forward(self, x):
            out, _ = super().forward(x)
            if self.return_sequences:
                return out
            if not self.bidirectional:
                return out[:, -1]
            units = self.hidden_size
            return torch.cat([out[:, -1, :units], out[:, 0, units:]], dim=-1)

    Recurrent.__name__ = base.__name__
    Recurrent.__qualname__ = base.__name__
    return Recurrent


LSTM = _recurrent(nn.LSTM)
GRU = _recurrent(nn.GRU)
RNN = _recurrent(nn.RNN)  # typenet's SimpleRNN: tanh


class ImageToSequence(nn.Module):
    def __init__(self, height_as_time=False):
        super().__init__()
        self.height_as_time = height_as_time

    def forward(self, x):
        order = (0, 2, 1, 3) if self.height_as_time else (0, 3, 1, 2)
        return x.permute(*order).flatten(2)


class GlobalPool(nn.Module):
    def __init__(self, mode="avg"):
        super().__init__()
        self.mode = mode

    def forward(self, x):
        return x.mean(dim=(2, 3)) if self.mode == "avg" else x.amax(dim=(2, 3))

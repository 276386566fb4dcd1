#!/usr/bin/env bash
# Runs the GPU tests and the GPU benchmark on a machine with an NVIDIA GPU and no Rust
# toolchain, from the repository root, with the .cuda-bundle/ folder that
# scripts/cuda-build.sh made on another machine. Also times PyTorch on the same models
# (benches/pytorch_seed_cnn.py cuda). Logs go to $OUT (or ./cuda-results).
#
# The machine needs the NVIDIA driver for CUDA 13.0 or later, and cuBLAS and NVRTC 13 as
# shared libraries: PyTorch's nvidia-* wheels or a CUDA toolkit provide them.
set -uo pipefail
cd "$(dirname "$0")/.."
bundle=$PWD/.cuda-bundle
out=${OUT:-$PWD/cuda-results}
mkdir -p "$out"
[[ -x $bundle/cuda-tests ]] || { echo "no $bundle/cuda-tests: run scripts/cuda-build.sh first" >&2; exit 1; }

{
    date -u
    nvidia-smi --query-gpu=name,driver_version,compute_cap,memory.total --format=csv
    if command -v cargo >/dev/null; then echo "rust toolchain: $(cargo --version)"; else echo "rust toolchain: none"; fi
} 2>&1 | tee "$out/machine.txt"

# The folders compiled into the programs, put back where they expect them.
include_path=$(cat "$bundle/include-path")
mkdir -p "$(dirname "$include_path")"
ln -sfn "$bundle/include" "$include_path"
while read -r dfdx_out; do
    mkdir -p "$dfdx_out" && cp "$bundle"/dfdx-out/*.cuh "$dfdx_out/"
done <"$bundle/dfdx-out/paths"

# cuBLAS and NVRTC: PyTorch's wheels if there, else a toolkit's.
wheel_libs=$(python3 -c 'import nvidia, os; print(os.path.join(list(nvidia.__path__)[0], "cu13", "lib"))' 2>/dev/null)
export LD_LIBRARY_PATH=${wheel_libs:+$wheel_libs:}/usr/local/cuda/lib64${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}

status=0
echo "== GPU tests (Cuda against Cpu)" | tee "$out/cuda-tests.log"
"$bundle/cuda-tests" --nocapture --test-threads 1 2>&1 | tee -a "$out/cuda-tests.log" || status=1
echo "== typenet on the GPU" | tee "$out/cuda-step.log"
"$bundle/cuda-step" 2>&1 | tee -a "$out/cuda-step.log" || status=1
echo "== PyTorch on the GPU" | tee "$out/pytorch-cuda.log"
python3 benches/pytorch_seed_cnn.py cuda 2>&1 | tee -a "$out/pytorch-cuda.log" || status=1
exit $status

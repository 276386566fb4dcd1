#!/usr/bin/env bash
# `cargo check` time and rustc's peak memory of a user's crate, by the depth of its network.
#
#   benches/compile_time.sh                  the table: three kinds of network, depths 4..200
#   benches/compile_time.sh --depths "4 300" other depths
#   benches/compile_time.sh --ci             a 100-layer conv network and a 200-layer text
#                                            network, with training code, each failing past a
#                                            generous limit (CI runs this)
#
# Each case is a small binary crate that depends on typenet by path, declares the network
# and uses it. Dependencies are checked once, first; each case is then timed alone with
# CARGO_INCREMENTAL=0, so the figure is the user's crate only. Peak memory is the largest
# resident set of any process cargo ran (rustc's), from GNU time.
#
# Kinds:
#   dense  Input<32>, (Dense<32>, ReLU) repeated, Dense<10>; forward only
#   conv   Input<4, 8, 8>, (Conv2D<4, 3, padding = same>, ReLU) repeated, Flatten, Dense<10>;
#          forward, forward_mut, backward and an Adam step
#   ten    ten different networks of the `conv` kind in one crate, forward, forward_mut and
#          backward each; the depth is that of each network (the issue's case is 15)
#   pool   Input<4, 8, 8>, (Conv2D<4, 3, padding = same>, ReLU, MaxPool<3, stride = 1,
#          padding = same>) repeated (the ReLU and the pool run inside each convolution),
#          Flatten, Dense<10>; with training code
#   branch Input<4, 8, 8>, then Inception-style blocks
#          Concat<[Conv2D<2, 1>], [Conv2D<2, 3, padding = same>, ReLU]> (4 layers each: the
#          three in the branches and the merge), Flatten, Dense<10>; with training code
#   text   Tokens<16>, Embedding<100, 8>, (Dense<8>, ReLU) repeated, LSTM<8>, Dense<1>;
#          forward on padded ids with their mask and on bare ids, forward_mut of the masked
#          batch, backward and an Adam step
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

depths="4 16 32 64 100 200"
kinds="dense conv ten pool branch text"
ci=false
# Seconds per case. Measured 2026-12-04: conv 100 0.21 s, text 200 0.36 s; before the chains
# asked their question of the input, text 200 took 158 s. So this catches a blow-up, not noise.
ci_limit=60
while [ $# -gt 0 ]; do
  case "$1" in
    --depths) depths="$2"; shift 2 ;;
    --kinds) kinds="$2"; shift 2 ;;
    --ci) ci=true; shift ;;
    *) echo "usage: $0 [--depths \"4 16 ..\"] [--kinds \"dense conv ten pool branch text\"] [--ci]" >&2; exit 2 ;;
  esac
done

work=${COMPILE_TIME_DIR:-$root/target/compile-time}
mkdir -p "$work/src"
export CARGO_TARGET_DIR="$work/target" CARGO_INCREMENTAL=0
cat > "$work/Cargo.toml" <<EOF
[package]
name = "compile-time"
version = "0.0.0"
edition = "2021"
publish = false

[dependencies]
typenet = { path = "$root" }

[workspace]
EOF

# The layers of a network `depth` layers deep, one per line.
layers() {
  local kind=$1 depth=$2 i
  case "$kind" in
    dense)
      echo "Input<32>,"
      for ((i = 0; i < (depth - 1) / 2; i++)); do echo "Dense<32>, ReLU,"; done
      ((depth % 2 == 0)) && echo "Dense<32>,"
      echo "Dense<10>,"
      ;;
    branch)
      echo "Input<4, 8, 8>,"
      for ((i = 0; i < (depth - 2) / 4; i++)); do
        echo "Concat<[Conv2D<2, 1>], [Conv2D<2, 3, padding = same>, ReLU]>,"
      done
      echo "Flatten, Dense<10>,"
      ;;
    pool)
      echo "Input<4, 8, 8>,"
      for ((i = 0; i < (depth - 2) / 3; i++)); do
        echo "Conv2D<4, 3, padding = same>, ReLU, MaxPool<3, stride = 1, padding = same>,"
      done
      for ((i = 0; i < (depth - 2) % 3; i++)); do echo "Conv2D<4, 3, padding = same>,"; done
      echo "Flatten, Dense<10>,"
      ;;
    text)
      echo "Tokens<16>, Embedding<100, 8>,"
      for ((i = 0; i < (depth - 3) / 2; i++)); do echo "Dense<8>, ReLU,"; done
      ((depth % 2 == 0)) && echo "Dense<8>,"
      echo "LSTM<8>, Dense<1>,"
      ;;
    conv | ten)
      echo "Input<4, 8, 8>,"
      for ((i = 0; i < (depth - 2) / 2; i++)); do echo "Conv2D<4, 3, padding = same>, ReLU,"; done
      ((depth % 2 == 1)) && echo "Conv2D<4, 3, padding = same>,"
      echo "Flatten, Dense<10>,"
      ;;
  esac
}

# A function that runs forward, forward_mut, backward and an optimizer step on `Net`.
train_fn() {
  local net=$1 with_adam=$2
  cat <<EOF
fn train_${net,,}(dev: &Cpu) -> f32 {
    let mut model = dev.build_module::<$net, f32>();
    let x: Tensor<Rank4<2, 4, 8, 8>, f32, _> = dev.sample_normal();
    let _ = model.forward(x.clone());
    let grads = model.alloc_grads();
    let loss = model.forward_mut(x.traced(grads)).square().mean();
    let value = loss.array();
    let grads = loss.backward();
EOF
  if [ "$with_adam" = true ]; then
    cat <<EOF
    let mut adam = Adam::new(&model, Default::default());
    adam.update(&mut model, &grads).unwrap();
EOF
  else
    echo "    let _ = grads;"
  fi
  echo "    value"
  echo "}"
}

# Writes src/main.rs for one case.
program() {
  local kind=$1 depth=$2 n
  echo "use typenet::prelude::*;"
  case "$kind" in
    dense)
      echo "type Net = network!["; layers dense "$depth"; echo "];"
      echo "fn main() {"
      echo "    let dev: Cpu = Default::default();"
      echo "    let model = dev.build_module::<Net, f32>();"
      echo "    let _: Tensor<Rank2<2, 10>, f32, _> = model.forward(dev.zeros::<Rank2<2, 32>>());"
      echo "}"
      ;;
    text)
      echo "use typenet::layers::{lengths_mask, Masked, SequencePadding};"
      echo "type Net = network!["; layers text "$depth"; echo "];"
      cat <<EOF
fn main() {
    let dev: Cpu = Default::default();
    let mut model = dev.build_module::<Net, f32>();
    let ids: Tensor<(usize, usize), usize, _> = dev.zeros_like(&(2, 16));
    let mask = lengths_mask::<f32, _>(&dev, &[3, 16], 16, SequencePadding::Post).unwrap();
    let mask = mask.reshape_like(&(2usize, 16usize));
    let masked = || Masked::new(ids.clone(), mask.clone()).unwrap();
    let _: Tensor<(usize, Const<1>), f32, _> = model.forward(masked());
    let _: Tensor<(usize, Const<1>), f32, _> = model.forward(ids.clone());
    let grads = model.alloc_grads();
    let traced = Masked::new(ids.clone().traced(grads), mask.clone()).unwrap();
    let grads = model.forward_mut(traced).square().mean().backward();
    let mut adam = Adam::new(&model, Default::default());
    adam.update(&mut model, &grads).unwrap();
}
EOF
      ;;
    conv | pool | branch)
      echo "type Net = network!["; layers "$kind" "$depth"; echo "];"
      train_fn Net true
      echo "fn main() { train_net(&Cpu::default()); }"
      ;;
    ten)
      # Ten distinct types: the filters of the first conv differ.
      for n in 1 2 3 4 5 6 7 8 9 10; do
        echo "type Net$n = network![Input<4, 8, 8>, Conv2D<$((n + 3)), 3, padding = same>,"
        layers conv $((depth - 1)) | tail -n +2
        echo "];"
        train_fn "Net$n" false
      done
      echo "fn main() {"
      echo "    let dev = Cpu::default();"
      for n in 1 2 3 4 5 6 7 8 9 10; do echo "    train_net$n(&dev);"; done
      echo "}"
      ;;
  esac
}

# Prints "seconds peak_MB" for `cargo check` of the case, or "timeout -" past `limit`.
measure() {
  local limit=$1 out
  touch "$work/src/main.rs"
  out=$(cd "$work" && /usr/bin/time -f "%e %M" timeout "$limit" cargo check --quiet 2>&1 >/dev/null) || {
    echo "timeout -"
    echo "$out" | grep -E "^error" | head -5 >&2
    return 1
  }
  echo "$out" | tail -n 1 | awk '{ printf "%s %d\n", $1, $2 / 1024 }'
}

echo "warming dependencies (cargo check of a 4-layer network)..." >&2
program conv 4 > "$work/src/main.rs"
(cd "$work" && cargo check --quiet)

if $ci; then
  for case in "conv 100" "text 200"; do
    read -r kind depth <<< "$case"
    program "$kind" "$depth" > "$work/src/main.rs"
    if ! result=$(measure "$ci_limit"); then
      echo "FAIL: cargo check of a $depth-layer $kind network with training code took over ${ci_limit}s" >&2
      exit 1
    fi
    read -r secs mb <<< "$result"
    echo "cargo check, $depth-layer $kind network with forward, forward_mut, backward and Adam: ${secs} s, ${mb} MB (limit ${ci_limit} s)"
  done
  exit 0
fi

printf "%-6s %6s %12s %10s\n" kind layers "check (s)" "peak (MB)"
for kind in $kinds; do
  for depth in $depths; do
    program "$kind" "$depth" > "$work/src/main.rs"
    read -r secs mb <<< "$(measure 600)" || true
    printf "%-6s %6s %12s %10s\n" "$kind" "$depth" "$secs" "$mb"
  done
done

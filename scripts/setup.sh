#!/usr/bin/env bash
# Installs what kernelkit's commands need, and only what is missing:
#   - the Debian/Ubuntu packages (the native libraries kernelkit binds, and the
#     C toolchain and headers the layout test compiles against);
#   - the node modules that hold bun and deno (npm ci), when node_modules/.bin/bun
#     or node_modules/.bin/deno is absent.
# Safe to run again: a machine that has everything is left untouched.
#
#   scripts/setup.sh          install what is missing
#   scripts/setup.sh --list   print the Debian package list, one per line
#   scripts/setup.sh --help   this text
set -euo pipefail

# Keep in step with README.md ("Set-up") and .ci/run, which reads this list.
PACKAGES=(
  liburing2        # liburing.so.2: io_uring_setup/enter/register
  liburing-dev     # liburing.h, for the layout test
  libbpf1          # libbpf.so.1: BPF objects, maps, links
  libbpf-dev       # bpf/libbpf headers, for the layout test and bpf/ sources
  gcc              # the layout test compiles a C probe against the real headers
  libc6-dev        # libc headers
  linux-libc-dev   # linux/io_uring.h, linux/bpf.h, linux/if_link.h
  iproute2         # ip: network namespaces and veth pairs for the XDP tests
  clang            # builds bpf/*.bpf.c (scripts/build-bpf.ts); CI tests a fresh build
  llvm             # llvm-objdump/llvm-strip for BPF objects
  bpftool          # inspecting loaded programs, maps and links
  strace           # bench/uring-enters.ts counts io_uring_enter calls with strace -c -f
  ethtool          # kernelkit tour (XDP row): GRO on the veth, its per-queue counters
  iptables         # kernelkit tour (XDP row): the classic drop path it compares with
  btrfs-progs      # tests/zerocopy.test.ts: copyFile's reflink, on a loop-mounted btrfs image
  ca-certificates  # npm ci over https
)

if [[ "${1:-}" == "--help" || "${1:-}" == "-h" ]]; then
  sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '$d' -e 's/^# \{0,1\}//'
  exit 0
fi

if [[ "${1:-}" == "--list" ]]; then
  printf '%s\n' "${PACKAGES[@]}"
  exit 0
fi

cd "$(dirname "${BASH_SOURCE[0]}")/.."

say() { printf 'setup: %s\n' "$*" >&2; }

missing=()
if command -v dpkg-query >/dev/null 2>&1; then
  for p in "${PACKAGES[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
      missing+=("$p")
    fi
  done
else
  say "no dpkg here (not Debian/Ubuntu): install the equivalents of ${PACKAGES[*]} yourself"
fi

if ((${#missing[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    say "missing Debian packages: ${missing[*]}"
    say "run as root: apt-get install -y --no-install-recommends ${missing[*]}"
    exit 1
  fi
  say "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # A fresh image has no package lists; an old list may point at removed files.
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends --no-upgrade "${missing[@]}"
fi

if [[ ! -x node_modules/.bin/bun || ! -x node_modules/.bin/deno ]]; then
  if ! command -v npm >/dev/null 2>&1; then
    say "npm is needed to install bun and deno from package-lock.json (apt-get install npm)"
    exit 1
  fi
  say "installing bun and deno into node_modules (npm ci)"
  npm ci --no-audit --no-fund
fi

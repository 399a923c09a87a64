#!/usr/bin/env bash
# Builds whyfail. With --deps, first installs what the build and the tests need (Debian 12, as root).
set -euo pipefail
cd "$(dirname "$0")"

if [[ "${1:-}" == "--deps" ]]; then
  shift
  pkgs=(clang llvm libbpf-dev libbpf1 bpftool gcc libc6-dev strace busybox-static qemu-system-x86 kmod xz-utils zstd cpio)
  missing=()
  for p in "${pkgs[@]}"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p"); done
  if ((${#missing[@]})); then
    echo "build: installing ${missing[*]}" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
fi

dotnet build whyfail.slnx -c "${CONFIGURATION:-Release}" -nologo -v q "$@"

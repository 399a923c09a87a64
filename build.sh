#!/usr/bin/env bash
# Builds whyfail: out/whyfail (NativeAOT, self-contained) plus the test assemblies.
# With --deps, first installs what the build and the tests need (Debian 12, as root).
# INSTALL=1 ./build.sh also copies the binary to /usr/local/bin.
set -euo pipefail
cd "$(dirname "$0")"

if [[ "${1:-}" == "--deps" ]]; then
  shift
  # llvm: clang's tools and llvm-symbolizer (source lines); binutils: addr2line, the fallback.
  # prometheus: the server that scrapes --metrics in the tests; lintian: checks the .deb (made with dpkg-deb).
  # btrfs-progs: the EDQUOT test (a btrfs image with a qgroup limit; the host kernel has no ext4 or XFS quotas).
  pkgs=(clang llvm binutils libbpf-dev libbpf1 bpftool gcc libc6-dev strace busybox-static qemu-system-x86 kmod xz-utils zstd cpio apparmor chromium debuginfod python3 prometheus lintian btrfs-progs)
  missing=()
  for p in "${pkgs[@]}"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p"); done
  if ((${#missing[@]})); then
    echo "build: installing ${missing[*]}" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
fi

config=${CONFIGURATION:-Release}
dotnet build whyfail.slnx -c "$config" -nologo -v q "$@"
# The product: one self-contained native binary (NativeAOT, BPF object embedded) at out/whyfail.
dotnet publish src/Whyfail/Whyfail.csproj -c "$config" -r linux-x64 -p:PublishAot=true -nologo -v q -o out >/dev/null
# The small launcher beside it, out/whyfail-launch: the traced command's parent, started by whyfail (launcher/whyfail-launch.c;
# C, not .NET: it runs before the command's first instruction, README "Notes on choices"). Static (static-pie) where glibc's
# libc.a is installed (libc6-dev), so it has no loader or relocations to do; dynamic otherwise.
launch_link=-static-pie
[[ "$(clang -print-file-name=libc.a)" == /* ]] || launch_link=-pie
clang -O2 -Wall -Wextra -Werror -std=gnu11 -fPIE "$launch_link" -D_FORTIFY_SOURCE=2 -fstack-protector-strong -Wl,-z,relro,-z,now \
  -o out/whyfail-launch launcher/whyfail-launch.c
echo "build: out/whyfail ($(du -h out/whyfail | cut -f1))" >&2
# The Debian package: out/whyfail_VERSION_amd64.deb (packaging/).
version=$(sed -n 's:.*<Version>\(.*\)</Version>.*:\1:p' src/Whyfail/Whyfail.csproj)
echo "build: $(packaging/make-deb "$version")" >&2

if [[ "${INSTALL:-0}" == 1 ]]; then
  install -m 0755 out/whyfail /usr/local/bin/whyfail
  install -D -m 0755 out/whyfail-launch /usr/local/lib/whyfail/whyfail-launch
  echo "build: installed /usr/local/bin/whyfail (and /usr/local/lib/whyfail/whyfail-launch)" >&2
fi

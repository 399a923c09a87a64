#!/bin/busybox sh
# whyfail kernel lab: /init inside the guest's initramfs (busybox sh, PID 1).
#
# Built into the initramfs by tests/vm/run; the initramfs cache key includes a
# hash of this file, so editing it rebuilds the initramfs automatically.
#
# Contract with the host (tests/vm/run):
#   9p tag "hostroot": the host's / (read-only)
#   9p tag "out":      the per-run results directory (writable), containing
#                        lab.conf   sourced here (LAB_KVER, LAB_MODDIR, LAB_CWD,
#                                   LAB_KCONFIG)
#                        cmd.sh     POSIX sh script: cd, export, exec the command
#   Written back into "out":
#                        stdout, stderr, timing, then status (written last)
#                        lab-error  (only when the lab itself failed)
# /lib/modules/lab/order lists the modules to insmod, in dependency order.

/bin/busybox mkdir -p /bin /sbin /proc /sys /dev /out /lower /upper /newroot /capture
/bin/busybox --install -s /bin
export PATH=/bin

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null || true
exec </dev/null >/dev/console 2>&1

OUT_OK=0

log() { echo "lab-init: $(cut -d' ' -f1 /proc/uptime)s: $*"; }

poweroff_now() {
    sync
    [ "$OUT_OK" = 1 ] && umount /out 2>/dev/null
    echo o >/proc/sysrq-trigger
    sleep 5
    poweroff -f
}

fail() {
    log "FAILED: $*"
    if [ "$OUT_OK" = 1 ]; then
        echo "$*" >/out/lab-error
        dmesg | tail -n 40 >>/out/lab-error 2>/dev/null
    fi
    dmesg | tail -n 20
    poweroff_now
}

log "kernel $(uname -r) up"

# Kernel modules needed for virtio/9p/overlay. A module that is already
# present (built in) makes insmod fail with EEXIST, which is harmless.
if [ -f /lib/modules/lab/order ]; then
    while read -r m; do
        [ -n "$m" ] || continue
        insmod "/lib/modules/lab/$m.ko" 2>/tmp-insmod.err ||
            log "insmod $m: $(cat /tmp-insmod.err)"
    done </lib/modules/lab/order
fi

NINEP="trans=virtio,version=9p2000.L,msize=512000"

# Results share first, so that later failures can be reported to the host.
mount -t 9p -o "$NINEP" out /out || fail "cannot mount 9p tag 'out'"
OUT_OK=1
[ -f /out/lab.conf ] || fail "no lab.conf in the results share"
# shellcheck disable=SC1091  # written by tests/vm/run
. /out/lab.conf

# Host root, read-only. cache=loose: the guest never writes to it, and host
# changes during a run need not be seen; `dotnet --version` takes ~5-11 s with
# loose caching against ~20 s with cache=none (6.12, TCG).
mount -t 9p -o "ro,$NINEP,cache=loose" hostroot /lower ||
    fail "cannot mount 9p tag 'hostroot'"

# Writable root: overlayfs with a tmpfs upper layer over the read-only 9p
# root. Everything written in the guest lives in guest RAM and is discarded.
ROOTMODE=overlay
mount -t tmpfs -o mode=0755 tmpfs /upper
mkdir -p /upper/u /upper/w
if ! mount -t overlay overlay -o lowerdir=/lower,upperdir=/upper/u,workdir=/upper/w /newroot; then
    # Fallback: the read-only 9p root itself plus tmpfs on the usual
    # writable places (see below).
    log "overlayfs unavailable, falling back to read-only root + tmpfs dirs"
    ROOTMODE=ro
    mount --bind /lower /newroot || fail "cannot bind the 9p root"
fi
log "root mounted ($ROOTMODE)"

# Is DIR (or something under it) the directory the command runs in?
under_cwd() { case "$LAB_CWD/" in "$1"/*) return 0 ;; esac; return 1; }

mount --move /proc /newroot/proc || fail "cannot move /proc"
mount --move /sys /newroot/sys || fail "cannot move /sys"
mount --move /dev /newroot/dev || mount -t devtmpfs devtmpfs /newroot/dev ||
    fail "cannot set up /dev"
# A second procfs for this script (uptime, sysrq-trigger).
mount -t proc proc /proc
mkdir -p /newroot/dev/pts /newroot/dev/shm 2>/dev/null
# What udev would add: bash process substitution needs /dev/fd.
ln -sfn /proc/self/fd /newroot/dev/fd
ln -sfn /proc/self/fd/0 /newroot/dev/stdin
ln -sfn /proc/self/fd/1 /newroot/dev/stdout
ln -sfn /proc/self/fd/2 /newroot/dev/stderr
mount -t devpts -o newinstance,ptmxmode=0666 devpts /newroot/dev/pts 2>/dev/null
mount -t tmpfs -o mode=1777 tmpfs /newroot/dev/shm
mount -t tmpfs -o mode=0755 tmpfs /newroot/run
if [ "$ROOTMODE" = ro ]; then
    # No overlay: RAM-backed writable places, unless the command's working
    # directory lives there.
    for d in /tmp:1777 /var/tmp:1777 /root:0700; do
        if under_cwd "${d%:*}"; then
            log "warning: ${d%:*} stays read-only (the working directory is under it)"
        else
            mount -t tmpfs -o "mode=${d#*:}" tmpfs "/newroot${d%:*}"
        fi
    done
fi
# (With the overlay, /tmp, /root, ... show the host's files and are writable;
# the writes stay in guest RAM.)

mount -t tracefs nodev /newroot/sys/kernel/tracing 2>/dev/null || log "no tracefs"
mount -t debugfs nodev /newroot/sys/kernel/debug 2>/dev/null || log "no debugfs"
mount -t securityfs nodev /newroot/sys/kernel/security 2>/dev/null || true
mount -t bpf bpf /newroot/sys/fs/bpf 2>/dev/null || log "no bpffs"
mount -t cgroup2 nodev /newroot/sys/fs/cgroup 2>/dev/null || true

# The guest kernel's config where tools look for it (bpftool, probe).
if [ "$ROOTMODE" = overlay ] && [ -n "${LAB_KCONFIG:-}" ] && [ -f "/newroot$LAB_KCONFIG" ]; then
    mkdir -p /newroot/boot 2>/dev/null && ln -sfn "$LAB_KCONFIG" "/newroot/boot/config-$LAB_KVER"
fi
# Make the kernel's own modules reachable by modprobe inside the guest (the
# host has none for this kernel): /lib/modules/$LAB_KVER -> the host cache.
if [ "$ROOTMODE" = overlay ] && [ -n "${LAB_MODDIR:-}" ] && [ -d "/newroot$LAB_MODDIR" ]; then
    mkdir -p /newroot/lib/modules 2>/dev/null &&
        ln -sfn "$LAB_MODDIR" "/newroot/lib/modules/$LAB_KVER"
fi

hostname whyfail-lab 2>/dev/null
ip link set lo up 2>/dev/null
# shellcheck disable=SC3045  # busybox ash has ulimit -l/-n
ulimit -l unlimited
# shellcheck disable=SC3045
ulimit -n 65536 2>/dev/null

mkdir -p /newroot/run/whyfail-lab
cp /out/cmd.sh /newroot/run/whyfail-lab/cmd.sh || fail "cannot copy cmd.sh"

# Output goes to RAM (/capture is in the initramfs, outside the chroot):
# many small writes straight into 9p are very slow under TCG.
T0=$(cut -d' ' -f1 /proc/uptime)
log "running command"
env -i \
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:/root/.dotnet/tools \
    HOME=/root USER=root LOGNAME=root SHELL=/bin/sh TERM=dumb LANG=C.UTF-8 \
    DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1 \
    DOTNET_GENERATE_ASPNET_CERTIFICATE=false DOTNET_CLI_WORKLOAD_UPDATE_NOTIFY_DISABLE=1 \
    MSBUILDDISABLENODEREUSE=1 DOTNET_CLI_USE_MSBUILD_SERVER=0 \
    WHYFAIL_LAB=1 WHYFAIL_LAB_KERNEL="$LAB_KVER" \
    /bin/chroot /newroot /bin/sh /run/whyfail-lab/cmd.sh \
    </dev/null >/capture/stdout 2>/capture/stderr
STATUS=$?
T1=$(cut -d' ' -f1 /proc/uptime)
log "command exited with status $STATUS"

cp /capture/stdout /out/stdout || fail "cannot copy stdout to the results share"
cp /capture/stderr /out/stderr || fail "cannot copy stderr to the results share"
echo "$T0 $T1" >/out/timing
if ! { echo "$STATUS" >/out/status.tmp && mv /out/status.tmp /out/status; }; then
    fail "cannot write the exit status"
fi
poweroff_now

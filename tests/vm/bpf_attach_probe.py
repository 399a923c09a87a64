#!/usr/bin/env python3
"""Real BPF attach tests for tests/vm/probe, using the bpf(2) syscall directly.

Each test loads a two-instruction program ("r0 = 0; exit") of the relevant
type and attaches it to a real kernel function or tracepoint, then closes
everything again (nothing stays attached). Prints one line per test:

    NAME<TAB>yes|no|unknown<TAB>detail

Needs root (CAP_BPF + CAP_PERFMON or CAP_SYS_ADMIN). No third-party modules.
"""
import ctypes
import errno
import os
import struct
import sys

SYS_BPF = 321              # x86_64
SYS_PERF_EVENT_OPEN = 298  # x86_64

BPF_PROG_LOAD = 5
BPF_RAW_TRACEPOINT_OPEN = 17
BPF_LINK_CREATE = 28

PROG_KPROBE = 2
PROG_RAW_TRACEPOINT = 17
PROG_TRACING = 26
PROG_LSM = 29

ATTACH_TRACE_RAW_TP = 23
ATTACH_TRACE_FENTRY = 24
ATTACH_TRACE_FEXIT = 25
ATTACH_MODIFY_RETURN = 26
ATTACH_LSM_MAC = 27
ATTACH_TRACE_KPROBE_MULTI = 42

PERF_EVENT_IOC_SET_BPF = 0x40042408
PERF_FLAG_FD_CLOEXEC = 8

libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long

# r0 = 0; exit
INSNS = bytes.fromhex("b700000000000000" "9500000000000000")
LICENSE = ctypes.create_string_buffer(b"GPL")
INSNS_BUF = ctypes.create_string_buffer(INSNS, len(INSNS))


class Fail(Exception):
    def __init__(self, stage, err, extra=""):
        super().__init__(stage)
        self.stage, self.err, self.extra = stage, err, extra

    def __str__(self):
        names = {errno.EOPNOTSUPP: "EOPNOTSUPP", 524: "ENOTSUPP(524)"}
        name = names.get(self.err) or errno.errorcode.get(self.err, str(self.err))
        text = f"{self.stage}: {name}"
        return text + (f" ({self.extra})" if self.extra else "")


def bpf(cmd, attr):
    buf = ctypes.create_string_buffer(bytes(attr), len(attr))
    ret = libc.syscall(SYS_BPF, cmd, buf, len(attr))
    if ret < 0:
        return -ctypes.get_errno()
    return ret


def prog_load(prog_type, attach_type=0, btf_id=0):
    log = ctypes.create_string_buffer(4096)
    attr = bytearray(128)
    struct.pack_into("IIQQ", attr, 0, prog_type, len(INSNS) // 8,
                     ctypes.addressof(INSNS_BUF), ctypes.addressof(LICENSE))
    struct.pack_into("IIQ", attr, 24, 1, len(log), ctypes.addressof(log))
    attr[48:48 + 14] = b"whyfail_probe\0"
    struct.pack_into("I", attr, 68, attach_type)
    struct.pack_into("I", attr, 108, btf_id)
    fd = bpf(BPF_PROG_LOAD, attr)
    if fd < 0:
        vlog = log.value.decode(errors="replace").strip().splitlines()
        raise Fail("load", -fd, vlog[-1][:80] if vlog else "")
    return fd


def raw_tp_open(prog_fd, name=None):
    attr = bytearray(16)
    nbuf = ctypes.create_string_buffer(name.encode()) if name else None
    struct.pack_into("QI", attr, 0, ctypes.addressof(nbuf) if nbuf else 0, prog_fd)
    fd = bpf(BPF_RAW_TRACEPOINT_OPEN, attr)
    if fd < 0:
        raise Fail("attach", -fd)
    return fd


class BTF:
    """Just enough of a .BTF parser to find type ids by kind and name."""
    KIND_FUNC, KIND_TYPEDEF = 12, 8

    def __init__(self, path="/sys/kernel/btf/vmlinux"):
        data = open(path, "rb").read()
        magic, _ver, _flags, hdr_len, type_off, type_len, str_off, _str_len = \
            struct.unpack_from("<HBBIIIII", data, 0)
        if magic != 0xEB9F:
            raise ValueError("bad BTF magic")
        self.types = data[hdr_len + type_off: hdr_len + type_off + type_len]
        self.strs = data[hdr_len + str_off:]

    def find(self, wanted):
        """wanted: {(kind, name)}; returns {(kind, name): id}."""
        by_off = {}
        for kind, name in wanted:
            key = b"\0" + name.encode() + b"\0"
            pos = self.strs.find(key)
            while pos >= 0:
                by_off.setdefault(pos + 1, []).append((kind, name))
                pos = self.strs.find(key, pos + 1)
        found, t, tid, n = {}, self.types, 0, len(self.types)
        extra_fixed = {1: 4, 3: 12, 14: 4, 17: 4}
        extra_vlen = {4: 12, 5: 12, 6: 8, 13: 8, 15: 12, 19: 12}
        off = 0
        while off < n:
            tid += 1
            name_off, info = struct.unpack_from("<II", t, off)
            kind, vlen = (info >> 24) & 0x1F, info & 0xFFFF
            if name_off in by_off:
                for k, name in by_off[name_off]:
                    if k == kind:
                        found[(k, name)] = tid
            off += 12 + extra_fixed.get(kind, 0) + extra_vlen.get(kind, 0) * vlen
        return found


def closing(*fds):
    for fd in fds:
        if fd is not None and fd >= 0:
            os.close(fd)


def test_tracing(attach_type, btf_id, prog_type=PROG_TRACING):
    prog = link = None
    try:
        prog = prog_load(prog_type, attach_type, btf_id)
        link = raw_tp_open(prog)
    finally:
        closing(link, prog)


def test_raw_tp():
    prog = link = None
    try:
        prog = prog_load(PROG_RAW_TRACEPOINT)
        link = raw_tp_open(prog, "sys_enter")
    finally:
        closing(link, prog)


def pmu_type(name):
    try:
        return int(open(f"/sys/bus/event_source/devices/{name}/type").read())
    except OSError:
        return None


def test_kprobe_pmu(func, retprobe):
    ktype = pmu_type("kprobe")
    if ktype is None:
        raise Fail("perf_event_open", errno.ENOENT, "no kprobe PMU in /sys/bus/event_source")
    prog = pfd = None
    try:
        prog = prog_load(PROG_KPROBE)
        fname = ctypes.create_string_buffer(func.encode())
        attr = bytearray(128)
        # type, size, config (bit 0 = retprobe), ..., config1 = function name
        struct.pack_into("IIQ", attr, 0, ktype, 128, 1 if retprobe else 0)
        struct.pack_into("Q", attr, 56, ctypes.addressof(fname))
        abuf = ctypes.create_string_buffer(bytes(attr), 128)
        pfd = libc.syscall(SYS_PERF_EVENT_OPEN, abuf, -1, 0, -1, PERF_FLAG_FD_CLOEXEC)
        if pfd < 0:
            pfd = None
            raise Fail("perf_event_open", ctypes.get_errno())
        if libc.ioctl(ctypes.c_int(pfd), ctypes.c_ulong(PERF_EVENT_IOC_SET_BPF),
                      ctypes.c_int(prog)) < 0:
            raise Fail("attach", ctypes.get_errno())
    finally:
        closing(pfd, prog)


def test_kprobe_multi(funcs):
    prog = link = None
    try:
        prog = prog_load(PROG_KPROBE, ATTACH_TRACE_KPROBE_MULTI)
        names = [ctypes.create_string_buffer(f.encode()) for f in funcs]
        arr = (ctypes.c_uint64 * len(names))(*[ctypes.addressof(b) for b in names])
        attr = bytearray(64)
        struct.pack_into("IIII", attr, 0, prog, 0, ATTACH_TRACE_KPROBE_MULTI, 0)
        struct.pack_into("IIQ", attr, 16, 0, len(names), ctypes.addressof(arr))
        link = bpf(BPF_LINK_CREATE, attr)
        if link < 0:
            err, link = -link, None
            raise Fail("attach", err)
    finally:
        closing(link, prog)


def main():
    results = []

    def run(name, fn, *args):
        try:
            fn(*args)
            results.append((name, "yes", "loaded and attached"))
        except Fail as e:
            results.append((name, "no", str(e)))
        except Exception as e:  # noqa: BLE001 - report, never crash the probe
            results.append((name, "unknown", f"{type(e).__name__}: {e}"))

    func = "do_sys_openat2"
    try:
        btf = BTF()
        ids = btf.find({(BTF.KIND_FUNC, func), (BTF.KIND_FUNC, "security_file_open"),
                        (BTF.KIND_FUNC, "bpf_lsm_file_open"),
                        (BTF.KIND_TYPEDEF, "btf_trace_sys_enter")})
    except (OSError, ValueError) as e:
        btf, ids = None, {}
        btf_err = f"no vmlinux BTF ({e})"

    def btf_test(name, kind, sym, attach_type, prog_type=PROG_TRACING):
        if btf is None:
            results.append((name, "unknown", btf_err))
        elif (kind, sym) not in ids:
            results.append((name, "unknown", f"{sym} not in vmlinux BTF"))
        else:
            run(name, test_tracing, attach_type, ids[(kind, sym)], prog_type)
            n, a, d = results[-1]
            results[-1] = (n, a, f"{d} [{sym}]")

    btf_test("fentry", BTF.KIND_FUNC, func, ATTACH_TRACE_FENTRY)
    btf_test("fexit", BTF.KIND_FUNC, func, ATTACH_TRACE_FEXIT)
    btf_test("fmod_ret", BTF.KIND_FUNC, "security_file_open", ATTACH_MODIFY_RETURN)
    btf_test("tp_btf", BTF.KIND_TYPEDEF, "btf_trace_sys_enter", ATTACH_TRACE_RAW_TP)
    btf_test("lsm", BTF.KIND_FUNC, "bpf_lsm_file_open", ATTACH_LSM_MAC, PROG_LSM)
    run("raw_tp", test_raw_tp)
    results[-1] = (*results[-1][:2], results[-1][2] + " [sys_enter]")
    def tag(suffix):
        n, a, d = results[-1]
        results[-1] = (n, a, f"{d} [{suffix}]")

    run("kprobe", test_kprobe_pmu, func, False)
    tag(func)
    run("kretprobe", test_kprobe_pmu, func, True)
    tag(func)
    run("kprobe.multi", test_kprobe_multi, [func, "vfs_read"])
    tag(f"{func}, vfs_read")
    for name, answer, detail in results:
        print(f"{name}\t{answer}\t{detail}")


if __name__ == "__main__":
    if os.geteuid() != 0:
        print("all\tunknown\tnot root", file=sys.stdout)
        sys.exit(0)
    main()

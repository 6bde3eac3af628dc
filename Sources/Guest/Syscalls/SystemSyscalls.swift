#if canImport(Glibc)
import Glibc
#endif
import CHostSyscall

/// The machine as the guest sees it: a RISC-V one (uname, hwprobe), with the host's time,
/// memory, processors, scheduler and randomness.
extension LinuxProcess {
    static func defineSystemCalls(_ t: inout Table) {
        t.define(.uname, 1) { p, c in
            guard let buffer = p.buffer(c[0], 390, writable: true) else { return efault }
            var name = utsname()
            uname(&name)
            withUnsafeBytes(of: &name) { buffer.copyMemory(from: $0.baseAddress!, byteCount: 390) }
            let machine = Array("riscv64".utf8) + [UInt8](repeating: 0, count: 58)
            p.memory.write(machine, at: c[0] + 4 * 65)
            return 0
        }
        t.passthrough(.getrandom, SYS_getrandom, [.buffer(length: 1), .value, .value])
        // struct sysinfo has one layout on both.
        t.passthrough(.sysinfo, SYS_sysinfo, [.pointer])
        t.passthrough(.getcpu, SYS_getcpu, [.pointer, .pointer, .pointer])
        t.passthrough(.sched_getaffinity, SYS_sched_getaffinity, [.value, .value, .buffer(length: 1)])
        t.passthrough(.sched_setaffinity, SYS_sched_setaffinity, [.value, .value, .buffer(length: 1)])
        t.passthrough(.sched_yield, SYS_sched_yield, [])
        t.passthrough(.sched_getparam, SYS_sched_getparam, [.value, .pointer])
        t.passthrough(.sched_setparam, SYS_sched_setparam, [.value, .pointer])
        t.passthrough(.sched_getscheduler, SYS_sched_getscheduler, [.value])
        t.passthrough(.sched_setscheduler, SYS_sched_setscheduler, [.value, .value, .pointer])
        t.passthrough(.sched_get_priority_max, SYS_sched_get_priority_max, [.value])
        t.passthrough(.sched_get_priority_min, SYS_sched_get_priority_min, [.value])
        t.passthrough(.sched_rr_get_interval, SYS_sched_rr_get_interval, [.value, .pointer])
        t.passthrough(.ioprio_get, SYS_ioprio_get, [.value, .value])
        t.passthrough(.ioprio_set, SYS_ioprio_set, [.value, .value, .value])
        t.define(.riscv_hwprobe, 5) { p, c in p.hardwareProbe(c) }
        // Administration, as the host allows it to this user (struct timex and sched_attr have one layout on both).
        t.passthrough(.mount, SYS_mount, [.string, .path, .string, .value, .pointer])
        t.passthrough(.umount2, SYS_umount2, [.path, .value])
        t.passthrough(.swapon, SYS_swapon, [.path, .value])
        t.passthrough(.swapoff, SYS_swapoff, [.path])
        t.passthrough(.acct, SYS_acct, [.path])
        t.passthrough(.vhangup, SYS_vhangup, [])
        t.passthrough(.unshare, SYS_unshare, [.value])
        t.passthrough(.setns, SYS_setns, [.value, .value])
        t.passthrough(.syslog, SYS_syslog, [.value, .buffer(length: 2), .value])
        t.passthrough(.sethostname, SYS_sethostname, [.buffer(length: 1), .value])
        t.passthrough(.setdomainname, SYS_setdomainname, [.buffer(length: 1), .value])
        t.passthrough(.settimeofday, SYS_settimeofday, [.pointer, .pointer])
        t.passthrough(.clock_settime, SYS_clock_settime, [.value, .pointer])
        t.passthrough(.adjtimex, SYS_adjtimex, [.pointer])
        t.passthrough(.clock_adjtime, SYS_clock_adjtime, [.value, .pointer])
        t.passthrough(.sched_setattr, SYS_sched_setattr, [.value, .pointer, .value])
        t.passthrough(.sched_getattr, SYS_sched_getattr, [.value, .pointer, .value, .value])
        t.passthrough(.kcmp, SYS_kcmp, [.value, .value, .value, .value, .value])
        t.passthrough(.name_to_handle_at, SYS_name_to_handle_at, [.value, .path, .pointer, .pointer, .value])
        t.passthrough(.open_by_handle_at, SYS_open_by_handle_at, [.value, .pointer, .value])
        t.passthrough(.pidfd_open, SYS_pidfd_open, [.value, .value])
        t.passthrough(.pidfd_getfd, SYS_pidfd_getfd, [.value, .value, .value])
        t.passthrough(.pidfd_send_signal, SYS_pidfd_send_signal, [.value, .value, .pointer, .value])
        t.passthrough(.fanotify_init, SYS_fanotify_init, [.value, .value])
        t.passthrough(.fanotify_mark, SYS_fanotify_mark, [.value, .value, .value, .value, .path])
    }

    /// riscv_hwprobe: `struct riscv_hwprobe { s64 key; u64 value; }` pairs, answered for the
    /// extensions this translator implements; unknown keys get key -1, as the kernel does.
    private func hardwareProbe(_ c: Call) -> Int64 {
        guard c[4] == 0 else { return Self.einval }
        let count = Int(clamping: c[1])
        guard count <= 1 << 16, buffer(c[0], UInt64(count * 16), writable: true) != nil else { return Self.efault }
        let imaFD: UInt64 = 1 << 0, compressed: UInt64 = 1 << 1, zba: UInt64 = 1 << 3, zbb: UInt64 = 1 << 4, zbs: UInt64 = 1 << 5
        for index in 0..<count {
            let pair = c[0] + UInt64(index * 16)
            let value: UInt64?
            switch memory.load(pair, as: Int64.self) {
            case 0, 1, 2: value = 0                       // vendor, architecture and implementation ids
            case 3: value = 1                             // base behaviour: RV64IMA
            case 4: value = imaFD | compressed | zba | zbb | zbs
            case 5: value = 0                             // misaligned access speed unknown
            default: value = nil
            }
            if let value { memory.store(value, at: pair + 8) } else { memory.store(Int64(-1), at: pair); memory.store(UInt64(0), at: pair + 8) }
        }
        return 0
    }
}

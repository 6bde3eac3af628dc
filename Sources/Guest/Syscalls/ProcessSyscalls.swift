#if canImport(Glibc)
import Glibc
#endif
import CHostSyscall
import ELF

/// Processes: fork (as clone and clone3 without a shared address space), execve, wait, exit,
/// identities, groups and sessions, limits.
extension LinuxProcess {
    enum CloneFlags {
        static let vm: UInt64 = 0x100, vfork: UInt64 = 0x4000, thread: UInt64 = 0x10000
        static let setTLS: UInt64 = 0x80000, parentSetTID: UInt64 = 0x100000, childSetTID: UInt64 = 0x100_0000
        static let pidfd: UInt64 = 0x1000
    }

    static func defineProcessCalls(_ t: inout Table) {
        t.define(.exit, 1) { p, c in p.outcome = .exit(c.int32(0)); return 0 }
        t.define(.exit_group, 1) { p, c in p.outcome = .exit(c.int32(0)); return 0 }
        t.define(.set_tid_address, 1) { _, _ in Int64(hostThreadID()) }
        t.define(.set_robust_list, 2) { _, _ in 0 }
        t.define(.futex, 6) { p, c in
            // One guest thread: a wake finds no waiter, and a wait whose value changed returns at once.
            switch c.int32(1) & 0x7f {
            case 1, 10: return 0
            case 0, 9:
                guard p.buffer(c[0], 4) != nil else { return efault }
                return -Int64(EAGAIN)
            default: return p.unsupported(c, "this futex operation needs guest threads")
            }
        }
        t.define(.clone, 5) { p, c in
            // RISC-V's order: flags, stack, parent_tid, tls, child_tid.
            p.clone(flags: c[0], stack: c[1], parentTID: c[2], tls: c[3], childTID: c[4], call: c, fallback: false)
        }
        t.define(.clone3, 2) { p, c in
            // struct clone_args { flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls, ... }
            guard c[1] >= 64, let arguments = p.buffer(c[0], 64) else { return c[1] < 64 ? einval : efault }
            func field(_ index: Int) -> UInt64 { arguments.load(fromByteOffset: index * 8, as: UInt64.self) }
            let stack = field(5) == 0 ? 0 : field(5) &+ field(6)
            return p.clone(flags: field(0) | (field(4) & 0xff), stack: stack, parentTID: field(3), tls: field(7), childTID: field(2),
                           call: c, fallback: true)
        }
        t.define(.execve, 3) { p, c in p.execve(c[0], argv: c[1], envp: c[2], directory: nil, flags: 0) }
        t.define(.execveat, 5) { p, c in p.execve(c[1], argv: c[2], envp: c[3], directory: c.int32(0), flags: c.int32(4)) }
        // The wait status, struct rusage and siginfo_t have one layout on both.
        t.passthrough(.wait4, SYS_wait4, [.value, .pointer, .value, .pointer])
        t.passthrough(.waitid, SYS_waitid, [.value, .value, .pointer, .value, .pointer])
        t.define(.getpid, 0) { _, _ in Int64(getpid()) }
        t.define(.getppid, 0) { _, _ in Int64(getppid()) }
        t.define(.gettid, 0) { _, _ in Int64(hostThreadID()) }
        t.passthrough(.getuid, SYS_getuid, [])
        t.passthrough(.geteuid, SYS_geteuid, [])
        t.passthrough(.getgid, SYS_getgid, [])
        t.passthrough(.getegid, SYS_getegid, [])
        t.passthrough(.getresuid, SYS_getresuid, [.pointer, .pointer, .pointer])
        t.passthrough(.getresgid, SYS_getresgid, [.pointer, .pointer, .pointer])
        t.passthrough(.setuid, SYS_setuid, [.value])
        t.passthrough(.setgid, SYS_setgid, [.value])
        t.passthrough(.setreuid, SYS_setreuid, [.value, .value])
        t.passthrough(.setregid, SYS_setregid, [.value, .value])
        t.passthrough(.setresuid, SYS_setresuid, [.value, .value, .value])
        t.passthrough(.setresgid, SYS_setresgid, [.value, .value, .value])
        t.passthrough(.setfsuid, SYS_setfsuid, [.value])
        t.passthrough(.setfsgid, SYS_setfsgid, [.value])
        t.passthrough(.getgroups, SYS_getgroups, [.value, .pointer])
        t.passthrough(.setgroups, SYS_setgroups, [.value, .pointer])
        t.passthrough(.setpgid, SYS_setpgid, [.value, .value])
        t.passthrough(.getpgid, SYS_getpgid, [.value])
        t.passthrough(.getsid, SYS_getsid, [.value])
        t.passthrough(.setsid, SYS_setsid, [])
        t.passthrough(.getpriority, SYS_getpriority, [.value, .value])
        t.passthrough(.setpriority, SYS_setpriority, [.value, .value, .value])
        // struct rlimit, struct rusage and __user_cap_data_struct have one layout on both.
        t.passthrough(.prlimit64, SYS_prlimit64, [.value, .value, .pointer, .pointer])
        t.passthrough(.getrlimit, SYS_getrlimit, [.value, .pointer])
        t.passthrough(.setrlimit, SYS_setrlimit, [.value, .pointer])
        t.passthrough(.getrusage, SYS_getrusage, [.value, .pointer])
        t.passthrough(.capget, SYS_capget, [.pointer, .pointer])
        t.passthrough(.capset, SYS_capset, [.pointer, .pointer])
        t.define(.personality, 1) { _, c in
            // PER_LINUX, and nothing else can be asked for.
            c[0] == 0xffff_ffff || c[0] == 0 ? 0 : einval
        }
        t.define(.prctl, 5) { p, c in p.prctl(c) }
    }

    private func prctl(_ c: Call) -> Int64 {
        switch c.int32(0) {
        case 15, 16:                 // PR_SET_NAME, PR_GET_NAME: 16 bytes
            guard buffer(c[1], 16, writable: c.int32(0) == 16) != nil else { return Self.efault }
            return forward(SYS_prctl, [.value, .pointer], c)
        case 2:                      // PR_GET_PDEATHSIG: an int
            return forward(SYS_prctl, [.value, .pointer], c)
        case 1, 3, 4, 36, 37, 38, 39, 23, 24, 47:
            // PDEATHSIG, DUMPABLE, CHILD_SUBREAPER, NO_NEW_PRIVS, CAPBSET_READ/DROP, CAP_AMBIENT: values.
            return forward(SYS_prctl, [.value, .value, .value, .value, .value], c)
        default:
            return Self.einval
        }
    }

    /// fork, vfork and posix_spawn: a new process without a shared address space is a fork of
    /// the translator, translations included (as under qemu-user, `CLONE_VM|CLONE_VFORK` is a
    /// fork too: the parent does not wait, and sees nothing the child writes). A new thread
    /// needs guest threads, which are not implemented yet.
    private func clone(flags: UInt64, stack: UInt64, parentTID: UInt64, tls: UInt64, childTID: UInt64, call: Call, fallback: Bool) -> Int64 {
        let sharesMemory = flags & CloneFlags.vm != 0 && flags & CloneFlags.vfork == 0
        if flags & CloneFlags.thread != 0 || sharesMemory {
            // glibc tries clone3 first and falls back to clone, which is where the message belongs.
            return fallback ? -Int64(ENOSYS) : unsupported(call, "new threads are not implemented yet")
        }
        if flags & CloneFlags.pidfd != 0 { return fallback ? -Int64(ENOSYS) : unsupported(call, "CLONE_PIDFD") }
        hooks.prepareFork()
        let pid = fork()
        if pid < 0 {
            let code = errno
            hooks.afterFork(false)
            return -Int64(code)
        }
        if pid == 0 {
            memory.reinitializeAfterFork()
            images.reinitializeAfterFork()
            hooks.afterFork(true)
            let cpu = call.cpu
            if stack != 0 { cpu[x: 2] = stack }
            if flags & CloneFlags.setTLS != 0 { cpu[x: 4] = tls }
            if flags & CloneFlags.childSetTID != 0, buffer(childTID, 4, writable: true) != nil { memory.store(UInt32(hostThreadID()), at: childTID) }
            return 0
        }
        hooks.afterFork(false)
        if flags & CloneFlags.parentSetTID != 0, buffer(parentTID, 4, writable: true) != nil { memory.store(UInt32(pid), at: parentTID) }
        return Int64(pid)
    }
}

/// The host thread's id (the guest thread's, one for one).
func hostThreadID() -> Int32 { Int32(truncatingIfNeeded: LinuxProcess.hostSyscall(SYS_gettid)) }

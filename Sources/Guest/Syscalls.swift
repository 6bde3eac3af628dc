#if canImport(Glibc)
import Glibc
#endif
import CHostSyscall
import ELF

/// What the dispatcher must do after a syscall.
public enum SyscallOutcome: Equatable, Sendable {
    case resume
    case exit(Int32)
    case signal(Int32)     // the guest raised a signal whose default action ends it
}

/// Linux user-mode emulation for one guest process: the RISC-V (asm-generic)
/// syscall ABI mapped onto the host's. Arguments in a0..a5, number in a7, result in a0.
public final class LinuxProcess: @unchecked Sendable {
    public let memory: GuestMemory
    public let executablePath: String
    public var strace = false
    public private(set) var programBreak: UInt64
    private let initialBreak: UInt64
    /// Recorded for later signal delivery: guest sigaction structs by signal number, and the mask.
    private var signalActions: [Int: (handler: UInt64, flags: UInt64, mask: UInt64)] = [:]
    private var signalMask: UInt64 = 0

    public init(memory: GuestMemory, program: LoadedProgram) {
        self.memory = memory
        self.executablePath = program.executablePath
        self.programBreak = program.programBreak
        self.initialBreak = program.programBreak
    }

    struct Call: Sendable {
        let cpu: CPUState
        var arguments: [UInt64]
        func int(_ index: Int) -> Int64 { Int64(bitPattern: arguments[index]) }
        func int32(_ index: Int) -> Int32 { Int32(truncatingIfNeeded: arguments[index]) }
    }

    typealias Handler = @Sendable (LinuxProcess, Call) -> Int64
    /// Handlers that decide the process's fate instead of returning a value.
    private var outcome: SyscallOutcome = .resume

    public func handle(_ cpu: CPUState) -> SyscallOutcome {
        let number = Int(cpu[x: 17])
        let call = Call(cpu: cpu, arguments: (10...15).map { cpu[x: $0] })
        outcome = .resume
        let result: Int64
        let name: String
        if let entry = Self.table[number] {
            name = entry.name
            result = entry.handler(self, call)
        } else {
            name = "syscall_\(number)"
            result = -Int64(ENOSYS)
        }
        if strace { traceLine(name: name, call: call, result: result, known: Self.table[number] != nil) }
        if outcome == .resume { cpu[x: 10] = UInt64(bitPattern: result) }
        return outcome
    }

    private func traceLine(name: String, call: Call, result: Int64, known: Bool) {
        let arguments = call.arguments.prefix(known ? Self.table[Int(call.cpu[x: 17])]!.arity : 6)
            .map { "0x" + String($0, radix: 16) }.joined(separator: ",")
        var line = "\(getpid()) \(name)(\(arguments))"
        switch outcome {
        case .resume:
            line += result < 0 && result > -4096 ? " = -1 errno=\(-result) (\(String(cString: strerror(Int32(-result)))))" : " = \(result)"
        case .exit(let status): line += " = ? (exit \(status))"
        case .signal(let signal): line += " = ? (signal \(signal))"
        }
        if !known { line += " (unsupported: returned ENOSYS)" }
        FaultHandler.writeError(line + "\n")
    }

    /// A host pointer for a guest buffer, or nil (EFAULT) if any of it is outside mapped memory.
    func buffer(_ address: UInt64, _ length: UInt64, writable: Bool = false) -> UnsafeMutableRawPointer? {
        if length == 0 { return memory.host(address) }
        guard memory.isMapped(address, length, needs: writable ? PROT_WRITE : PROT_READ) else { return nil }
        return memory.host(address)
    }

    func path(_ address: UInt64) -> String? { memory.string(at: address) }

    /// -errno for a failed host call, the result otherwise.
    static func host(_ result: Int) -> Int64 { result < 0 ? -Int64(errno) : Int64(result) }
    static func host(_ result: Int32) -> Int64 { host(Int(result)) }

    static let efault = -Int64(EFAULT)

    /// The host's raw syscall: -1 and errno on failure, like the libc wrappers `host(_:)` expects.
    static func hostSyscall(_ number: Int32, _ a0: Int = 0, _ a1: Int = 0, _ a2: Int = 0, _ a3: Int = 0, _ a4: Int = 0) -> Int {
        pagelift_host_syscall(Int(number), a0, a1, a2, a3, a4, 0)
    }

    static let table: [Int: (name: String, arity: Int, handler: Handler)] = {
        var table: [Int: (String, Int, Handler)] = [:]
        func define(_ number: Int, _ name: String, _ arity: Int, _ handler: @escaping Handler) { table[number] = (name, arity, handler) }

        // Files and descriptors.
        define(63, "read", 3) { p, c in
            guard let buffer = p.buffer(c.arguments[1], c.arguments[2], writable: true) else { return efault }
            return host(Glibc.read(c.int32(0), buffer, Int(c.arguments[2])))
        }
        define(64, "write", 3) { p, c in
            guard let buffer = p.buffer(c.arguments[1], c.arguments[2]) else { return efault }
            return host(Glibc.write(c.int32(0), buffer, Int(c.arguments[2])))
        }
        define(67, "pread64", 4) { p, c in
            guard let buffer = p.buffer(c.arguments[1], c.arguments[2], writable: true) else { return efault }
            return host(pread(c.int32(0), buffer, Int(c.arguments[2]), Int(c.int(3))))
        }
        define(68, "pwrite64", 4) { p, c in
            guard let buffer = p.buffer(c.arguments[1], c.arguments[2]) else { return efault }
            return host(pwrite(c.int32(0), buffer, Int(c.arguments[2]), Int(c.int(3))))
        }
        define(65, "readv", 3) { p, c in p.vectored(c, write: false) }
        define(66, "writev", 3) { p, c in p.vectored(c, write: true) }
        define(56, "openat", 4) { p, c in
            guard let path = p.path(c.arguments[1]) else { return efault }
            return host(openat(c.int32(0), p.hostPath(path), c.int32(2), mode_t(c.arguments[3])))
        }
        define(57, "close", 1) { _, c in host(Glibc.close(c.int32(0))) }
        define(62, "lseek", 3) { _, c in host(Int(lseek(c.int32(0), Int(c.int(1)), c.int32(2)))) }
        define(80, "fstat", 2) { p, c in
            var status = stat()
            let result = fstat(c.int32(0), &status)
            return result < 0 ? host(result) : p.storeStat(status, at: c.arguments[1])
        }
        define(79, "newfstatat", 4) { p, c in
            guard let path = p.path(c.arguments[1]) else { return efault }
            var status = stat()
            let result = fstatat(c.int32(0), p.hostPath(path), &status, c.int32(3))
            return result < 0 ? host(result) : p.storeStat(status, at: c.arguments[2])
        }
        define(291, "statx", 5) { p, c in
            // struct statx has one layout on every architecture, so the host fills the guest's buffer.
            guard let path = p.path(c.arguments[1]), let buffer = p.buffer(c.arguments[4], 256, writable: true) else { return efault }
            return p.hostPath(path).withCString { host(hostSyscall(SYS_statx, Int(c.int32(0)), Int(bitPattern: $0), Int(c.int32(2)), Int(c.int32(3)), Int(bitPattern: buffer))) }
        }
        define(61, "getdents64", 3) { p, c in
            guard let buffer = p.buffer(c.arguments[1], c.arguments[2], writable: true) else { return efault }
            return host(hostSyscall(SYS_getdents64, Int(c.int32(0)), Int(bitPattern: buffer), Int(c.arguments[2])))
        }
        define(59, "pipe2", 2) { p, c in
            guard let buffer = p.buffer(c.arguments[0], 8, writable: true) else { return efault }
            return host(hostSyscall(SYS_pipe2, Int(bitPattern: buffer), Int(c.int32(1))))
        }
        define(23, "dup", 1) { _, c in host(dup(c.int32(0))) }
        define(24, "dup3", 3) { _, c in host(hostSyscall(SYS_dup3, Int(c.int32(0)), Int(c.int32(1)), Int(c.int32(2)))) }
        define(25, "fcntl", 3) { _, c in
            let command = c.int32(1)
            switch command {
            case F_DUPFD, F_DUPFD_CLOEXEC, F_GETFD, F_SETFD, F_GETFL, F_SETFL:
                return host(hostSyscall(SYS_fcntl, Int(c.int32(0)), Int(command), Int(bitPattern: UInt(c.arguments[2]))))
            default: return -Int64(EINVAL)
            }
        }
        define(29, "ioctl", 3) { p, c in
            // Terminal requests have the same numbers and structures on RISC-V and x86-64.
            let request = UInt(c.arguments[1] & 0xffff_ffff)
            let sizes: [UInt: UInt64] = [0x5401: 36, 0x5402: 36, 0x5403: 36, 0x5404: 36, 0x5413: 8, 0x5414: 8, 0x541b: 4, 0x540f: 4]
            guard let size = sizes[request] else { return -Int64(ENOTTY) }
            guard let buffer = p.buffer(c.arguments[2], size, writable: true) else { return efault }
            return host(hostSyscall(SYS_ioctl, Int(c.int32(0)), Int(request), Int(bitPattern: buffer)))
        }
        define(78, "readlinkat", 4) { p, c in
            guard let path = p.path(c.arguments[1]),
                  let buffer = p.buffer(c.arguments[2], c.arguments[3], writable: true) else { return efault }
            if path == "/proc/self/exe" || path == "/proc/\(getpid())/exe" {
                let bytes = Array(p.executablePath.utf8.prefix(Int(c.arguments[3])))
                p.memory.write(bytes, at: c.arguments[2])
                return Int64(bytes.count)
            }
            return host(readlinkat(c.int32(0), path, buffer.assumingMemoryBound(to: CChar.self), Int(c.arguments[3])))
        }
        define(48, "faccessat", 3) { p, c in
            guard let path = p.path(c.arguments[1]) else { return efault }
            return host(faccessat(c.int32(0), p.hostPath(path), c.int32(2), 0))
        }
        define(17, "getcwd", 2) { p, c in
            guard let buffer = p.buffer(c.arguments[0], c.arguments[1], writable: true) else { return efault }
            guard getcwd(buffer.assumingMemoryBound(to: CChar.self), Int(c.arguments[1])) != nil else { return -Int64(errno) }
            return Int64(strlen(buffer.assumingMemoryBound(to: CChar.self)) + 1)
        }
        define(49, "chdir", 1) { p, c in
            guard let path = p.path(c.arguments[0]) else { return efault }
            return host(chdir(path))
        }
        define(34, "mkdirat", 3) { p, c in
            guard let path = p.path(c.arguments[1]) else { return efault }
            return host(mkdirat(c.int32(0), path, mode_t(c.arguments[2])))
        }
        define(35, "unlinkat", 3) { p, c in
            guard let path = p.path(c.arguments[1]) else { return efault }
            return host(unlinkat(c.int32(0), path, c.int32(2)))
        }
        define(276, "renameat2", 5) { p, c in
            guard let from = p.path(c.arguments[1]), let to = p.path(c.arguments[3]) else { return efault }
            return from.withCString { f in to.withCString { t in host(hostSyscall(SYS_renameat2, Int(c.int32(0)), Int(bitPattern: f), Int(c.int32(2)), Int(bitPattern: t), Int(c.int32(4)))) } }
        }
        define(46, "ftruncate", 2) { _, c in host(ftruncate(c.int32(0), Int(c.int(1)))) }
        define(82, "fsync", 1) { _, c in host(fsync(c.int32(0))) }
        define(166, "umask", 1) { _, c in Int64(umask(mode_t(c.arguments[0]))) }

        // Memory.
        define(214, "brk", 1) { p, c in p.brk(c.arguments[0]) }
        define(222, "mmap", 6) { p, c in p.mmap(c) }
        define(215, "munmap", 2) { p, c in
            let start = c.arguments[0], length = GuestMemory.pageUp(c.arguments[1])
            guard start % GuestMemory.pageSize == 0, length > 0, p.memory.inBounds(start, length) else { return -Int64(EINVAL) }
            p.memory.unmap(start, length)
            return 0
        }
        define(226, "mprotect", 3) { p, c in
            let start = c.arguments[0], length = GuestMemory.pageUp(c.arguments[1])
            guard start % GuestMemory.pageSize == 0 else { return -Int64(EINVAL) }
            do { try p.memory.protect(start, length, protection: c.int32(2)) } catch { return -Int64((error as? GuestError)?.errno ?? ENOMEM) }
            return 0
        }
        define(233, "madvise", 3) { _, _ in 0 }

        // Process and thread.
        define(93, "exit", 1) { p, c in p.outcome = .exit(c.int32(0)); return 0 }
        define(94, "exit_group", 1) { p, c in p.outcome = .exit(c.int32(0)); return 0 }
        define(96, "set_tid_address", 1) { _, _ in Int64(getpid()) }
        define(99, "set_robust_list", 2) { _, _ in 0 }
        define(98, "futex", 6) { p, c in
            // One guest thread: a wake finds no waiter, and a wait whose value changed returns at once.
            switch c.int32(1) & 0x7f {
            case 1: return 0
            case 0, 9:
                guard p.buffer(c.arguments[0], 4) != nil else { return efault }
                return -Int64(EAGAIN)
            default: return -Int64(ENOSYS)
            }
        }
        define(261, "prlimit64", 4) { p, c in
            let new = c.arguments[2] == 0 ? nil : p.buffer(c.arguments[2], 16)
            let old = c.arguments[3] == 0 ? nil : p.buffer(c.arguments[3], 16, writable: true)
            if (c.arguments[2] != 0 && new == nil) || (c.arguments[3] != 0 && old == nil) { return efault }
            return host(hostSyscall(SYS_prlimit64, Int(c.int32(0)), Int(c.int32(1)), Int(bitPattern: new), Int(bitPattern: old)))
        }
        define(172, "getpid", 0) { _, _ in Int64(getpid()) }
        define(173, "getppid", 0) { _, _ in Int64(getppid()) }
        define(178, "gettid", 0) { _, _ in Int64(getpid()) }
        define(174, "getuid", 0) { _, _ in Int64(getuid()) }
        define(175, "geteuid", 0) { _, _ in Int64(geteuid()) }
        define(176, "getgid", 0) { _, _ in Int64(getgid()) }
        define(177, "getegid", 0) { _, _ in Int64(getegid()) }
        define(160, "uname", 1) { p, c in
            guard let buffer = p.buffer(c.arguments[0], 390, writable: true) else { return efault }
            var name = utsname()
            uname(&name)
            withUnsafeBytes(of: &name) { buffer.copyMemory(from: $0.baseAddress!, byteCount: 390) }
            let machine = Array("riscv64".utf8) + [UInt8](repeating: 0, count: 58)
            p.memory.write(machine, at: c.arguments[0] + 4 * 65)
            return 0
        }
        define(278, "getrandom", 3) { p, c in
            guard let buffer = p.buffer(c.arguments[0], c.arguments[1], writable: true) else { return efault }
            return host(hostSyscall(SYS_getrandom, Int(bitPattern: buffer), Int(c.arguments[1]), Int(c.int32(2))))
        }
        define(179, "sysinfo", 1) { p, c in
            guard let buffer = p.buffer(c.arguments[0], 112, writable: true) else { return efault }
            return host(hostSyscall(SYS_sysinfo, Int(bitPattern: buffer)))
        }
        define(165, "getrusage", 2) { p, c in
            guard let buffer = p.buffer(c.arguments[1], 144, writable: true) else { return efault }
            return host(hostSyscall(SYS_getrusage, Int(c.int32(0)), Int(bitPattern: buffer)))
        }
        define(123, "sched_getaffinity", 3) { p, c in
            guard let buffer = p.buffer(c.arguments[2], c.arguments[1], writable: true) else { return efault }
            return host(hostSyscall(SYS_sched_getaffinity, Int(c.int32(0)), Int(c.arguments[1]), Int(bitPattern: buffer)))
        }
        define(124, "sched_yield", 0) { _, _ in host(sched_yield()) }

        // Time.
        define(113, "clock_gettime", 2) { p, c in
            guard let buffer = p.buffer(c.arguments[1], 16, writable: true) else { return efault }
            return host(clock_gettime(clockid_t(c.int32(0)), buffer.assumingMemoryBound(to: timespec.self)))
        }
        define(114, "clock_getres", 2) { p, c in
            guard c.arguments[1] != 0 else { return 0 }
            guard let buffer = p.buffer(c.arguments[1], 16, writable: true) else { return efault }
            return host(clock_getres(clockid_t(c.int32(0)), buffer.assumingMemoryBound(to: timespec.self)))
        }
        define(169, "gettimeofday", 2) { p, c in
            guard let buffer = p.buffer(c.arguments[0], 16, writable: true) else { return efault }
            return host(gettimeofday(buffer.assumingMemoryBound(to: timeval.self), nil))
        }
        define(153, "times", 1) { p, c in
            guard let buffer = p.buffer(c.arguments[0], 32, writable: true) else { return efault }
            return host(hostSyscall(SYS_times, Int(bitPattern: buffer)))
        }
        define(101, "nanosleep", 2) { p, c in
            guard let request = p.buffer(c.arguments[0], 16) else { return efault }
            let remaining = c.arguments[1] == 0 ? nil : p.buffer(c.arguments[1], 16, writable: true)
            return host(nanosleep(request.assumingMemoryBound(to: timespec.self), remaining?.assumingMemoryBound(to: timespec.self)))
        }
        define(115, "clock_nanosleep", 4) { p, c in
            guard let request = p.buffer(c.arguments[2], 16) else { return efault }
            let remaining = c.arguments[3] == 0 ? nil : p.buffer(c.arguments[3], 16, writable: true)
            return -Int64(clock_nanosleep(clockid_t(c.int32(0)), c.int32(1), request.assumingMemoryBound(to: timespec.self),
                                          remaining?.assumingMemoryBound(to: timespec.self)))
        }

        // Signals: recorded now, delivered in a later version; raising one with a fatal default ends the guest.
        define(134, "rt_sigaction", 4) { p, c in p.sigaction(c) }
        define(135, "rt_sigprocmask", 4) { p, c in p.sigprocmask(c) }
        define(132, "sigaltstack", 2) { _, _ in 0 }
        define(129, "kill", 2) { p, c in p.raise(to: c.int32(0), signal: c.int32(1)) }
        define(131, "tgkill", 3) { p, c in p.raise(to: c.int32(0), signal: c.int32(2)) }
        define(130, "tkill", 2) { p, c in p.raise(to: getpid(), signal: c.int32(1)) }
        return table.mapValues { (name: $0.0, arity: $0.1, handler: $0.2) }
    }()

    /// Guest paths are host paths, except the ones that name the translator itself.
    func hostPath(_ path: String) -> String {
        path == "/proc/self/exe" ? executablePath : path
    }

    private func vectored(_ c: Call, write: Bool) -> Int64 {
        let count = Int(c.arguments[2])
        guard count >= 0, count <= 1024 else { return -Int64(EINVAL) }
        guard buffer(c.arguments[1], UInt64(count * 16)) != nil else { return Self.efault }
        var vectors: [iovec] = []
        for index in 0..<count {
            let base = memory.load(c.arguments[1] + UInt64(index * 16), as: UInt64.self)
            let length = memory.load(c.arguments[1] + UInt64(index * 16 + 8), as: UInt64.self)
            guard let pointer = buffer(base, length, writable: !write) else { return Self.efault }
            vectors.append(iovec(iov_base: pointer, iov_len: Int(length)))
        }
        return Self.host(write ? writev(c.int32(0), vectors, Int32(count)) : readv(c.int32(0), vectors, Int32(count)))
    }

    /// Writes the asm-generic `struct stat` (128 bytes), whose layout differs from x86-64's.
    private func storeStat(_ status: stat, at address: UInt64) -> Int64 {
        guard buffer(address, 128, writable: true) != nil else { return Self.efault }
        var bytes = [UInt8](repeating: 0, count: 128)
        func put<T: FixedWidthInteger>(_ value: T, _ offset: Int) {
            withUnsafeBytes(of: value.littleEndian) { for (i, byte) in $0.enumerated() { bytes[offset + i] = byte } }
        }
        put(UInt64(status.st_dev), 0); put(UInt64(status.st_ino), 8)
        put(UInt32(status.st_mode), 16); put(UInt32(status.st_nlink), 20)
        put(UInt32(status.st_uid), 24); put(UInt32(status.st_gid), 28)
        put(UInt64(status.st_rdev), 32); put(Int64(status.st_size), 48)
        put(Int32(status.st_blksize), 56); put(Int64(status.st_blocks), 64)
        put(Int64(status.st_atim.tv_sec), 72); put(Int64(status.st_atim.tv_nsec), 80)
        put(Int64(status.st_mtim.tv_sec), 88); put(Int64(status.st_mtim.tv_nsec), 96)
        put(Int64(status.st_ctim.tv_sec), 104); put(Int64(status.st_ctim.tv_nsec), 112)
        memory.write(bytes, at: address)
        return 0
    }

    private func brk(_ requested: UInt64) -> Int64 {
        let current = programBreak
        guard requested >= initialBreak, requested < Loader.mmapBase else { return Int64(current) }
        let oldTop = GuestMemory.pageUp(current), newTop = GuestMemory.pageUp(requested)
        if newTop > oldTop {
            if memory.regions.contains(where: { $0.start < newTop && $0.end > oldTop }) { return Int64(current) }
            do { try memory.map(oldTop, newTop - oldTop, protection: PROT_READ | PROT_WRITE) } catch { return Int64(current) }
        } else if newTop < oldTop {
            memory.unmap(newTop, oldTop - newTop)
        }
        programBreak = requested
        return Int64(requested)
    }

    private func mmap(_ c: Call) -> Int64 {
        let hint = c.arguments[0], length = GuestMemory.pageUp(c.arguments[1])
        let protection = c.int32(2), flags = c.int32(3), fd = c.int32(4), offset = c.int(5)
        guard length > 0, c.arguments[1] <= GuestLimits.addressSpaceSize, offset % Int64(GuestMemory.pageSize) == 0 else {
            return -Int64(EINVAL)
        }
        let fixed = flags & (MAP_FIXED | MAP_FIXED_NOREPLACE) != 0
        let start: UInt64
        if fixed {
            guard hint % GuestMemory.pageSize == 0, memory.inBounds(hint, length) else { return -Int64(EINVAL) }
            if flags & MAP_FIXED_NOREPLACE != 0, memory.regions.contains(where: { $0.start < hint + length && $0.end > hint }) {
                return -Int64(EEXIST)
            }
            start = hint
        } else {
            let preferred = hint >= Loader.mmapBase && memory.inBounds(hint, length) ? hint : Loader.mmapBase
            guard let found = memory.findFree(length, from: preferred) ?? memory.findFree(length, from: Loader.mmapBase),
                  found + length <= Loader.stackTop - Loader.stackSize else { return -Int64(ENOMEM) }
            start = found
        }
        let anonymous = flags & MAP_ANONYMOUS != 0
        do {
            try memory.map(start, length, protection: protection,
                           file: anonymous ? nil : (fd, offset, flags & MAP_SHARED != 0))
        } catch { return -Int64(error.errno ?? ENOMEM) }
        return Int64(start)
    }

    private func sigaction(_ c: Call) -> Int64 {
        let signal = Int(c.arguments[0])
        guard signal >= 1, signal <= 64, signal != Int(SIGKILL), signal != Int(SIGSTOP) || c.arguments[1] == 0 else {
            return -Int64(EINVAL)
        }
        if c.arguments[2] != 0 {
            guard buffer(c.arguments[2], 24, writable: true) != nil else { return Self.efault }
            let old = signalActions[signal] ?? (0, 0, 0)
            memory.store(old.handler, at: c.arguments[2]); memory.store(old.flags, at: c.arguments[2] + 8)
            memory.store(old.mask, at: c.arguments[2] + 16)
        }
        if c.arguments[1] != 0 {
            guard buffer(c.arguments[1], 24) != nil else { return Self.efault }
            signalActions[signal] = (memory.load(c.arguments[1], as: UInt64.self), memory.load(c.arguments[1] + 8, as: UInt64.self),
                                     memory.load(c.arguments[1] + 16, as: UInt64.self))
        }
        return 0
    }

    private func sigprocmask(_ c: Call) -> Int64 {
        if c.arguments[2] != 0 {
            guard buffer(c.arguments[2], 8, writable: true) != nil else { return Self.efault }
            memory.store(signalMask, at: c.arguments[2])
        }
        if c.arguments[1] != 0 {
            guard buffer(c.arguments[1], 8) != nil else { return Self.efault }
            let set = memory.load(c.arguments[1], as: UInt64.self)
            switch c.arguments[0] {
            case 0: signalMask |= set
            case 1: signalMask &= ~set
            case 2: signalMask = set
            default: return -Int64(EINVAL)
            }
        }
        return 0
    }

    /// Signals the guest sends itself (abort's SIGABRT): without a guest handler, the default action applies.
    private func raise(to target: Int32, signal: Int32) -> Int64 {
        guard target == getpid() || target == 0 else { return Self.host(Glibc.kill(target, signal)) }
        guard signal != 0 else { return 0 }
        let ignoredByDefault: Set<Int32> = [SIGCHLD, SIGURG, SIGWINCH, SIGCONT]
        let action = signalActions[Int(signal)]?.handler ?? 0
        if action == 1 || (action == 0 && ignoredByDefault.contains(signal)) { return 0 }
        if action > 1 {
            FaultHandler.writeError("pagelift: guest signal handlers are not delivered yet; \(FaultHandler.signalName(signal)) takes its default action\n")
        }
        outcome = .signal(signal)
        return 0
    }
}

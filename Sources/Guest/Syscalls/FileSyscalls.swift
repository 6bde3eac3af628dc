#if canImport(Glibc)
import Glibc
#endif
import CHostSyscall

extension LinuxProcess {
    static func defineFileCalls(_ t: inout Table) {
        t.passthrough(.read, SYS_read, [.value, .buffer(length: 2), .value])
        t.passthrough(.write, SYS_write, [.value, .buffer(length: 2), .value])
        t.passthrough(.pread64, SYS_pread64, [.value, .buffer(length: 2), .value, .value])
        t.passthrough(.pwrite64, SYS_pwrite64, [.value, .buffer(length: 2), .value, .value])
        t.define(.readv, 3) { p, c in p.vectored(SYS_readv, c) }
        t.define(.writev, 3) { p, c in p.vectored(SYS_writev, c) }
        t.define(.preadv, 4) { p, c in p.vectored(SYS_preadv, c) }
        t.define(.pwritev, 4) { p, c in p.vectored(SYS_pwritev, c) }
        t.define(.preadv2, 5) { p, c in p.vectored(SYS_preadv2, c) }
        t.define(.pwritev2, 5) { p, c in p.vectored(SYS_pwritev2, c) }
        t.define(.openat, 4) { p, c in p.open(directory: c.int32(0), c[1], flags: c.int32(2), mode: c[3]) }
        t.define(.openat2, 4) { p, c in
            // struct open_how { u64 flags, mode, resolve }: only the flags need translating.
            guard c[3] >= 24, let how = p.buffer(c[2], 24) else { return efault }
            let flags = how.load(as: UInt64.self), resolve = how.load(fromByteOffset: 16, as: UInt64.self)
            guard resolve == 0 else { return p.unsupported(c, "RESOLVE_* flags") }
            return p.open(directory: c.int32(0), c[1], flags: Int32(truncatingIfNeeded: flags), mode: how.load(fromByteOffset: 8, as: UInt64.self))
        }
        t.passthrough(.close, SYS_close, [.value])
        t.passthrough(.close_range, SYS_close_range, [.value, .value, .value])
        t.passthrough(.lseek, SYS_lseek, [.value, .value, .value])
        t.define(.fstat, 2) { p, c in
            var status = stat()
            let result = fstat(c.int32(0), &status)
            return result < 0 ? host(result) : p.storeStat(status, at: c[1])
        }
        t.define(.newfstatat, 4) { p, c in
            guard let path = p.path(c[1]) else { return efault }
            var status = stat()
            let result = fstatat(c.int32(0), path, &status, c.int32(3))
            return result < 0 ? host(result) : p.storeStat(status, at: c[2])
        }
        // struct statx, struct statfs and struct dirent64 have the same layout on both.
        t.passthrough(.statx, SYS_statx, [.value, .path, .value, .value, .pointer])
        t.passthrough(.statfs, SYS_statfs, [.path, .pointer])
        t.passthrough(.fstatfs, SYS_fstatfs, [.value, .pointer])
        t.passthrough(.getdents64, SYS_getdents64, [.value, .buffer(length: 2), .value])
        // Open flags are asm-generic's on both (ARM is where they differ).
        t.passthrough(.pipe2, SYS_pipe2, [.pointer, .value])
        t.passthrough(.dup, SYS_dup, [.value])
        t.passthrough(.dup3, SYS_dup3, [.value, .value, .value])
        t.define(.fcntl, 3) { p, c in p.fcntl(c) }
        t.define(.ioctl, 3) { p, c in p.ioctl(c) }
        t.passthrough(.flock, SYS_flock, [.value, .value])
        t.define(.readlinkat, 4) { p, c in
            guard let path = p.string(c[1]), let buffer = p.buffer(c[2], c[3], writable: true) else { return efault }
            if p.paths.isOwnExecutable(path) {
                let bytes = Array(p.executablePath.utf8.prefix(Int(c[3])))
                p.memory.write(bytes, at: c[2])
                return Int64(bytes.count)
            }
            return host(readlinkat(c.int32(0), p.paths.host(path), buffer.assumingMemoryBound(to: CChar.self), Int(c[3])))
        }
        t.passthrough(.faccessat, SYS_faccessat, [.value, .path, .value])
        t.passthrough(.faccessat2, SYS_faccessat2, [.value, .path, .value, .value])
        t.define(.getcwd, 2) { p, c in
            guard let buffer = p.buffer(c[0], c[1], writable: true) else { return efault }
            guard getcwd(buffer.assumingMemoryBound(to: CChar.self), Int(c[1])) != nil else { return -Int64(errno) }
            return Int64(strlen(buffer.assumingMemoryBound(to: CChar.self)) + 1)
        }
        t.passthrough(.chdir, SYS_chdir, [.path])
        t.passthrough(.fchdir, SYS_fchdir, [.value])
        t.passthrough(.chroot, SYS_chroot, [.path])
        t.passthrough(.mkdirat, SYS_mkdirat, [.value, .path, .value])
        t.passthrough(.mknodat, SYS_mknodat, [.value, .path, .value, .value])
        t.passthrough(.unlinkat, SYS_unlinkat, [.value, .path, .value])
        t.passthrough(.symlinkat, SYS_symlinkat, [.string, .value, .path])
        t.passthrough(.linkat, SYS_linkat, [.value, .path, .value, .path, .value])
        t.passthrough(.renameat, SYS_renameat, [.value, .path, .value, .path])
        t.passthrough(.renameat2, SYS_renameat2, [.value, .path, .value, .path, .value])
        t.passthrough(.truncate, SYS_truncate, [.path, .value])
        t.passthrough(.ftruncate, SYS_ftruncate, [.value, .value])
        t.passthrough(.fallocate, SYS_fallocate, [.value, .value, .value, .value])
        t.passthrough(.fadvise64, SYS_fadvise64, [.value, .value, .value, .value])
        t.passthrough(.readahead, SYS_readahead, [.value, .value, .value])
        t.passthrough(.sync, SYS_sync, [])
        t.passthrough(.syncfs, SYS_syncfs, [.value])
        t.passthrough(.fsync, SYS_fsync, [.value])
        t.passthrough(.fdatasync, SYS_fdatasync, [.value])
        t.passthrough(.sync_file_range, SYS_sync_file_range, [.value, .value, .value, .value])
        t.passthrough(.fchmod, SYS_fchmod, [.value, .value])
        t.passthrough(.fchmodat, SYS_fchmodat, [.value, .path, .value])
        t.passthrough(.fchown, SYS_fchown, [.value, .value, .value])
        t.passthrough(.fchownat, SYS_fchownat, [.value, .path, .value, .value, .value])
        t.passthrough(.utimensat, SYS_utimensat, [.value, .path, .pointer, .value])
        t.define(.umask, 1) { _, c in Int64(umask(mode_t(c[0] & 0o777))) }
        t.passthrough(.sendfile, SYS_sendfile, [.value, .value, .pointer, .value])
        t.passthrough(.splice, SYS_splice, [.value, .pointer, .value, .pointer, .value, .value])
        t.passthrough(.tee, SYS_tee, [.value, .value, .value, .value])
        t.define(.vmsplice, 4) { p, c in
            guard let vectors = p.iovecs(c[1], count: Int(c.int(2))) else { return efault }
            return vectors.withUnsafeBufferPointer {
                host(hostSyscall(SYS_vmsplice, Int(c.int32(0)), Int(bitPattern: $0.baseAddress), vectors.count, Int(c.int32(3))))
            }
        }
        t.passthrough(.copy_file_range, SYS_copy_file_range, [.value, .pointer, .value, .pointer, .value, .value])
        t.passthrough(.memfd_create, SYS_memfd_create, [.string, .value])
        t.passthrough(.getxattr, SYS_getxattr, [.path, .string, .buffer(length: 3), .value])
        t.passthrough(.lgetxattr, SYS_lgetxattr, [.path, .string, .buffer(length: 3), .value])
        t.passthrough(.fgetxattr, SYS_fgetxattr, [.value, .string, .buffer(length: 3), .value])
        t.passthrough(.setxattr, SYS_setxattr, [.path, .string, .buffer(length: 3), .value, .value])
        t.passthrough(.lsetxattr, SYS_lsetxattr, [.path, .string, .buffer(length: 3), .value, .value])
        t.passthrough(.fsetxattr, SYS_fsetxattr, [.value, .string, .buffer(length: 3), .value, .value])
        t.passthrough(.listxattr, SYS_listxattr, [.path, .buffer(length: 2), .value])
        t.passthrough(.llistxattr, SYS_llistxattr, [.path, .buffer(length: 2), .value])
        t.passthrough(.flistxattr, SYS_flistxattr, [.value, .buffer(length: 2), .value])
        t.passthrough(.removexattr, SYS_removexattr, [.path, .string])
        t.passthrough(.lremovexattr, SYS_lremovexattr, [.path, .string])
        t.passthrough(.fremovexattr, SYS_fremovexattr, [.value, .string])
    }

    /// openat and openat2: flags translated, the guest root consulted, and this process's
    /// `/proc` files that must show the guest rather than the translator made up.
    func open(directory: Int32, _ pathAddress: UInt64, flags: Int32, mode: UInt64) -> Int64 {
        guard let guestPath = string(pathAddress) else { return Self.efault }
        if let name = paths.ownProcFile(guestPath) ?? (guestPath == "/proc/cpuinfo" ? "cpuinfo" : nil),
           let contents = procFile(name) {
            return Self.memoryFile(contents, closeOnExec: flags & O_CLOEXEC != 0)
        }
        return Self.host(openat(directory, paths.host(guestPath), flags, mode_t(mode)))
    }

    private func vectored(_ number: Int32, _ c: Call) -> Int64 {
        guard let vectors = iovecs(c[1], count: Int(c.int(2))) else { return c.int(2) < 0 || c.int(2) > 1024 ? Self.einval : Self.efault }
        return vectors.withUnsafeBufferPointer {
            Self.host(Self.hostSyscall(number, Int(c.int32(0)), Int(bitPattern: $0.baseAddress), vectors.count,
                                       Int(bitPattern: UInt(c[3])), Int(bitPattern: UInt(c[4])), Int(bitPattern: UInt(c[5]))))
        }
    }

    private func fcntl(_ c: Call) -> Int64 {
        let command = c.int32(1)
        switch command {
        case F_GETLK, F_SETLK, F_SETLKW, 36, 37, 38, 15, 16:
            // struct flock (and F_OFD_*'s, and f_owner_ex) has one layout on both.
            return forward(SYS_fcntl, [.value, .value, .pointer], c)
        default:
            // F_DUPFD, F_GETFD/F_SETFD, F_GETFL/F_SETFL, F_GETOWN/F_SETOWN, F_SETSIG, pipe sizes, leases, seals: plain values.
            return forward(SYS_fcntl, [.value, .value, .value], c)
        }
    }

    /// Terminal and descriptor requests have the same numbers and structures on RISC-V and
    /// x86-64; others are refused, since their argument's size is unknown here.
    private func ioctl(_ c: Call) -> Int64 {
        let request = UInt32(truncatingIfNeeded: c[1])
        let withPointer: Set<UInt32> = [
            0x5401, 0x5402, 0x5403, 0x5404,          // TCGETS, TCSETS, TCSETSW, TCSETSF
            0x5405, 0x5406, 0x5407, 0x5408,          // TCGETA.. (struct termio)
            0x540e, 0x540f, 0x5410, 0x5411, 0x5413, 0x5414, 0x541b, 0x5421, 0x5429,  // TIOCSCTTY.., FIONREAD, FIONBIO, TIOCGSID
            0x5452, 0x5460,                          // FIOASYNC, FIOQSIZE
            0x8004_5430, 0x4004_5431, 0x8004_5432,   // TIOCGPTN, TIOCSPTLCK, TIOCGDEV
        ]
        let withValue: Set<UInt32> = [0x5409, 0x540a, 0x540b, 0x5422, 0x5450, 0x5451, 0x5425, 0x5427, 0x5428]  // TCSBRK, TCXONC, TCFLSH, TIOCNOTTY, FIONCLEX, FIOCLEX, TCSBRKP, TIOCSBRK, TIOCCBRK
        if withPointer.contains(request) { return forward(SYS_ioctl, [.value, .value, .pointer], c) }
        if withValue.contains(request) { return forward(SYS_ioctl, [.value, .value, .value], c) }
        return -Int64(ENOTTY)
    }

    /// Writes the asm-generic `struct stat` (128 bytes), whose layout differs from x86-64's.
    func storeStat(_ status: stat, at address: UInt64) -> Int64 {
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
}

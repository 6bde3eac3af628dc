#if canImport(Glibc)
import Glibc
#endif
import CHostSyscall

/// Sockets: addresses, options and control messages have one layout on RISC-V and x86-64
/// (LP64 both), so only the pointers inside `struct msghdr` need translating.
extension LinuxProcess {
    static func defineSocketCalls(_ t: inout Table) {
        t.passthrough(.socket, SYS_socket, [.value, .value, .value])
        t.passthrough(.socketpair, SYS_socketpair, [.value, .value, .value, .pointer])
        t.passthrough(.bind, SYS_bind, [.value, .buffer(length: 2), .value])
        t.passthrough(.listen, SYS_listen, [.value, .value])
        t.passthrough(.accept, SYS_accept, [.value, .pointer, .pointer])
        t.passthrough(.accept4, SYS_accept4, [.value, .pointer, .pointer, .value])
        t.passthrough(.connect, SYS_connect, [.value, .buffer(length: 2), .value])
        t.passthrough(.getsockname, SYS_getsockname, [.value, .pointer, .pointer])
        t.passthrough(.getpeername, SYS_getpeername, [.value, .pointer, .pointer])
        t.passthrough(.sendto, SYS_sendto, [.value, .buffer(length: 2), .value, .value, .buffer(length: 5), .value])
        t.passthrough(.recvfrom, SYS_recvfrom, [.value, .buffer(length: 2), .value, .value, .pointer, .pointer])
        t.passthrough(.setsockopt, SYS_setsockopt, [.value, .value, .value, .buffer(length: 4), .value])
        t.passthrough(.getsockopt, SYS_getsockopt, [.value, .value, .value, .pointer, .pointer])
        t.passthrough(.shutdown, SYS_shutdown, [.value, .value])
        t.define(.sendmsg, 3) { p, c in p.message(SYS_sendmsg, c) }
        t.define(.recvmsg, 3) { p, c in p.message(SYS_recvmsg, c) }
        t.define(.sendmmsg, 4) { p, c in p.messages(SYS_sendmsg, c) }
        t.define(.recvmmsg, 5) { p, c in
            guard c[4] == 0 else { return p.unsupported(c, "a timeout") }
            return p.messages(SYS_recvmsg, c)
        }
    }

    /// sendmmsg and recvmmsg as one sendmsg or recvmsg per `struct mmsghdr` (a msghdr and the
    /// byte count), stopping at the first that fails, as the kernel's do.
    private func messages(_ number: Int32, _ c: Call) -> Int64 {
        let count = min(Int(clamping: c[2]), 1024)
        var done = 0
        while done < count {
            let header = c[1] + UInt64(done * 64)
            guard buffer(header, 64, writable: true) != nil else { return done > 0 ? Int64(done) : Self.efault }
            var single = c
            single.arguments[1] = header
            single.arguments[2] = c[3] & ~UInt64(0x10000)  // MSG_WAITFORONE applies to the batch
            let result = message(number, single)
            if result < 0 { return done > 0 ? Int64(done) : result }
            memory.store(UInt32(truncatingIfNeeded: result), at: header + 56)
            done += 1
            // After the first message, MSG_WAITFORONE waits no more (MSG_DONTWAIT).
            if number == SYS_recvmsg, c[3] & 0x10000 != 0 { single.arguments[2] |= 0x40 }
        }
        return Int64(done)
    }

    /// sendmsg and recvmsg through a host `struct msghdr` whose pointers are translated; what
    /// the host writes back (lengths, flags) is copied to the guest's.
    private func message(_ number: Int32, _ c: Call) -> Int64 {
        let header = c[1]
        guard buffer(header, 56, writable: number == SYS_recvmsg) != nil else { return Self.efault }
        func field(_ offset: UInt64) -> UInt64 { memory.load(header + offset, as: UInt64.self) }
        guard let name = hostAddress(field(0)), let control = hostAddress(field(32)),
              let vectors = iovecs(field(16), count: Int(truncatingIfNeeded: field(24))) else { return Self.efault }
        return vectors.withUnsafeBufferPointer { vectorPointer in
            var host = msghdr(msg_name: UnsafeMutableRawPointer(bitPattern: name), msg_namelen: UInt32(truncatingIfNeeded: field(8)),
                              msg_iov: UnsafeMutablePointer(mutating: vectorPointer.baseAddress), msg_iovlen: vectors.count,
                              msg_control: UnsafeMutableRawPointer(bitPattern: control), msg_controllen: Int(field(40)),
                              msg_flags: Int32(truncatingIfNeeded: field(48)))
            let result = withUnsafeMutablePointer(to: &host) { Self.hostSyscall(number, Int(c.int32(0)), Int(bitPattern: $0), Int(c.int32(2))) }
            if number == SYS_recvmsg, result >= 0 {
                memory.store(UInt32(host.msg_namelen), at: header + 8)
                memory.store(UInt64(host.msg_controllen), at: header + 40)
                memory.store(host.msg_flags, at: header + 48)
            }
            return Self.host(result)
        }
    }
}

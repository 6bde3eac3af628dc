#if canImport(Glibc)
import Glibc
#endif
import CHostSyscall

/// Waiting on descriptors: poll, select, epoll, and the descriptors made to be waited on.
extension LinuxProcess {
    static func definePollingCalls(_ t: inout Table) {
        // struct pollfd, fd_set, timespec and sigset_t have one layout on both.
        t.passthrough(.ppoll, SYS_ppoll, [.pointer, .value, .pointer, .pointer, .value])
        t.define(.pselect6, 6) { p, c in
            // The sixth argument points at { const sigset_t *set; size_t size }: a pointer to translate.
            var mask: [Int] = [0, 0]
            if c[5] != 0 {
                guard p.buffer(c[5], 16) != nil, let set = p.hostAddress(p.memory.load(c[5], as: UInt64.self)) else { return efault }
                mask = [set, Int(p.memory.load(c[5] + 8, as: UInt64.self))]
            }
            guard let read = p.hostAddress(c[1]), let write = p.hostAddress(c[2]), let except = p.hostAddress(c[3]),
                  let timeout = p.hostAddress(c[4]) else { return efault }
            return mask.withUnsafeBufferPointer {
                host(hostSyscall(SYS_pselect6, Int(c.int32(0)), read, write, except, timeout, c[5] == 0 ? 0 : Int(bitPattern: $0.baseAddress)))
            }
        }
        t.passthrough(.epoll_create1, SYS_epoll_create1, [.value])
        t.define(.epoll_ctl, 4) { p, c in
            // struct epoll_event is packed on x86-64 (12 bytes) and padded on RISC-V (16 bytes).
            var event = [UInt8](repeating: 0, count: 12)
            if c[3] != 0 {
                guard p.buffer(c[3], 16) != nil else { return efault }
                event.withUnsafeMutableBytes {
                    $0.storeBytes(of: p.memory.load(c[3], as: UInt32.self), as: UInt32.self)
                    $0.storeBytes(of: p.memory.load(c[3] + 8, as: UInt64.self), toByteOffset: 4, as: UInt64.self)
                }
            }
            return event.withUnsafeBytes {
                host(hostSyscall(SYS_epoll_ctl, Int(c.int32(0)), Int(c.int32(1)), Int(c.int32(2)), c[3] == 0 ? 0 : Int(bitPattern: $0.baseAddress)))
            }
        }
        t.define(.epoll_pwait, 6) { p, c in p.epollWait(SYS_epoll_pwait, c) }
        t.define(.epoll_pwait2, 6) { p, c in p.epollWait(SYS_epoll_pwait2, c) }
        t.passthrough(.eventfd2, SYS_eventfd2, [.value, .value])
        // struct itimerspec has one layout on both.
        t.passthrough(.timerfd_create, SYS_timerfd_create, [.value, .value])
        t.passthrough(.timerfd_settime, SYS_timerfd_settime, [.value, .value, .pointer, .pointer])
        t.passthrough(.timerfd_gettime, SYS_timerfd_gettime, [.value, .pointer])
        t.passthrough(.inotify_init1, SYS_inotify_init1, [.value])
        t.passthrough(.inotify_add_watch, SYS_inotify_add_watch, [.value, .path, .value])
        t.passthrough(.inotify_rm_watch, SYS_inotify_rm_watch, [.value, .value])
    }

    /// epoll_pwait and epoll_pwait2: the host fills packed events, copied out padded.
    private func epollWait(_ number: Int32, _ c: Call) -> Int64 {
        let count = Int(c.int32(2))
        guard count > 0, count <= 1 << 20 else { return Self.einval }
        // epoll_pwait's timeout is milliseconds, epoll_pwait2's a pointer to a timespec.
        let timeout = number == SYS_epoll_pwait ? Int(c.int32(3)) : hostAddress(c[3])
        guard buffer(c[1], UInt64(count * 16), writable: true) != nil, let timeout, let mask = hostAddress(c[4]) else { return Self.efault }
        var events = [UInt8](repeating: 0, count: count * 12)
        let ready = events.withUnsafeMutableBytes {
            Self.hostSyscall(number, Int(c.int32(0)), Int(bitPattern: $0.baseAddress), count,
                             timeout, mask, Int(clamping: c[5]))
        }
        guard ready > 0 else { return Self.host(ready) }
        events.withUnsafeBytes { bytes in
            for index in 0..<ready {
                memory.store(bytes.loadUnaligned(fromByteOffset: index * 12, as: UInt32.self), at: c[1] + UInt64(index * 16))
                memory.store(UInt32(0), at: c[1] + UInt64(index * 16 + 4))
                memory.store(bytes.loadUnaligned(fromByteOffset: index * 12 + 4, as: UInt64.self), at: c[1] + UInt64(index * 16 + 8))
            }
        }
        return Int64(ready)
    }
}

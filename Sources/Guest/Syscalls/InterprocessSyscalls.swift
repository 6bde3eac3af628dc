#if canImport(Glibc)
import Glibc
#endif
import CHostSyscall

/// System V IPC and POSIX message queues: the `*_ds` structures, `struct mq_attr` and
/// `struct sembuf` have one layout on RISC-V and x86-64 (asm-generic's 64-bit ones), so the
/// host's calls serve, except that shared memory must be attached inside the guest's space.
extension LinuxProcess {
    static func defineInterprocessCalls(_ t: inout Table) {
        t.passthrough(.mq_open, SYS_mq_open, [.string, .value, .value, .pointer])
        t.passthrough(.mq_unlink, SYS_mq_unlink, [.string])
        t.passthrough(.mq_timedsend, SYS_mq_timedsend, [.value, .buffer(length: 2), .value, .value, .pointer])
        t.passthrough(.mq_timedreceive, SYS_mq_timedreceive, [.value, .buffer(length: 2), .value, .pointer, .pointer])
        t.passthrough(.mq_getsetattr, SYS_mq_getsetattr, [.value, .pointer, .pointer])
        t.passthrough(.mq_notify, SYS_mq_notify, [.value, .pointer])
        t.passthrough(.msgget, SYS_msgget, [.value, .value])
        t.passthrough(.msgctl, SYS_msgctl, [.value, .value, .pointer])
        t.passthrough(.msgsnd, SYS_msgsnd, [.value, .buffer(length: 2), .value, .value])
        t.passthrough(.msgrcv, SYS_msgrcv, [.value, .buffer(length: 2), .value, .value, .value])
        t.passthrough(.semget, SYS_semget, [.value, .value, .value])
        t.define(.semctl, 4) { p, c in
            // The fourth argument is a union: a value for SETVAL, a pointer for the rest that take one.
            let withPointer: Set<Int32> = [1, 2, 3, 13, 17, 18, 19, 20]  // IPC_SET, IPC_STAT, IPC_INFO, GETALL, SETALL, SEM_STAT, SEM_INFO, SEM_STAT_ANY
            let command = c.int32(2) & ~0x100  // IPC_64
            return p.forward(SYS_semctl, [.value, .value, .value, withPointer.contains(command) ? .pointer : .value], c)
        }
        t.passthrough(.semop, SYS_semop, [.value, .pointer, .value])
        t.passthrough(.semtimedop, SYS_semtimedop, [.value, .pointer, .value, .pointer])
        t.passthrough(.shmget, SYS_shmget, [.value, .value, .value])
        t.passthrough(.shmctl, SYS_shmctl, [.value, .value, .pointer])
        t.define(.shmat, 3) { p, c in p.attachSharedMemory(c) }
        t.define(.shmdt, 1) { p, c in p.detachSharedMemory(c) }
    }

    /// shmat: the segment is attached at a guest address (the one asked for, or a free one),
    /// over the reservation's pages there.
    private func attachSharedMemory(_ c: Call) -> Int64 {
        var status = [UInt8](repeating: 0, count: 112)  // struct shmid64_ds
        let found = status.withUnsafeMutableBytes { Self.hostSyscall(SYS_shmctl, Int(c.int32(0)), Int(IPC_STAT), Int(bitPattern: $0.baseAddress)) }
        guard found == 0 else { return Self.host(found) }
        let length = GuestMemory.pageUp(status.withUnsafeBytes { $0.load(fromByteOffset: 48, as: UInt64.self) })
        let readOnly = c.int32(2) & Int32(SHM_RDONLY) != 0
        var start = c[1]
        if start == 0 {
            guard let free = memory.findFree(length, from: Loader.mmapBase), free + length <= stackLimit else { return -Int64(ENOMEM) }
            start = free
        } else {
            if c.int32(2) & Int32(SHM_RND) != 0 { start &= ~UInt64(0xfff) }
            guard start % GuestMemory.pageSize == 0, memory.inBounds(start, length) else { return Self.einval }
        }
        do {
            try memory.attachShared(start, length, readOnly: readOnly) { host in
                Self.hostSyscall(SYS_shmat, Int(c.int32(0)), Int(bitPattern: host), Int(c.int32(2) | Int32(SHM_REMAP)))
            }
        } catch { return -Int64(error.errno ?? EINVAL) }
        return Int64(start)
    }

    private func detachSharedMemory(_ c: Call) -> Int64 {
        guard let region = memory.region(containing: c[0]), region.start == c[0], region.shared,
              case .named("[shm]") = region.source else { return Self.einval }
        var end = region.end
        while let next = memory.region(containing: end), next.shared, case .named("[shm]") = next.source { end = next.end }
        memory.unmap(region.start, end - region.start)
        return 0
    }
}

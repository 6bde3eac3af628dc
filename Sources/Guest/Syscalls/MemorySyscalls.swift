#if canImport(Glibc)
import Glibc
#endif
import CHostSyscall
import ELF

/// The guest's address space: brk, mmap and friends, all inside the one reservation of `GuestMemory`.
extension LinuxProcess {
    static func defineMemoryCalls(_ t: inout Table) {
        t.define(.brk, 1) { p, c in p.brk(c[0]) }
        t.define(.mmap, 6) { p, c in p.mmap(c) }
        t.define(.munmap, 2) { p, c in
            let start = c[0], length = GuestMemory.pageUp(c[1])
            guard start % GuestMemory.pageSize == 0, length > 0, p.memory.inBounds(start, length) else { return einval }
            p.memory.unmap(start, length)
            p.images.unmapped(start, start + length)
            return 0
        }
        t.define(.mprotect, 3) { p, c in
            let start = c[0], length = GuestMemory.pageUp(c[1])
            guard start % GuestMemory.pageSize == 0 else { return einval }
            do { try p.memory.protect(start, length, protection: c.int32(2)) } catch { return -Int64((error as? GuestError)?.errno ?? ENOMEM) }
            if c.int32(2) & PROT_EXEC != 0, let region = p.memory.region(containing: start),
               case .file(let path, let offset, _, _) = region.source {
                p.images.noteExecutableMapping(path: path, address: region.start, length: region.end - region.start, offset: offset)
            }
            return 0
        }
        t.define(.mremap, 5) { p, c in p.mremap(c) }
        // Advice and locking act on the host pages that hold the guest's, which are the guest's own.
        t.passthrough(.madvise, SYS_madvise, [.buffer(length: 1), .value, .value])
        t.passthrough(.msync, SYS_msync, [.buffer(length: 1), .value, .value])
        t.passthrough(.mlock, SYS_mlock, [.buffer(length: 1), .value])
        t.passthrough(.mlock2, SYS_mlock2, [.buffer(length: 1), .value, .value])
        t.passthrough(.munlock, SYS_munlock, [.buffer(length: 1), .value])
        t.passthrough(.mincore, SYS_mincore, [.buffer(length: 1), .value, .pointer])
        // Locking every current mapping would lock the whole reservation: the guest's pages are
        // locked by mlock, and these only say they were.
        t.define(.mlockall, 1) { _, _ in 0 }
        t.define(.munlockall, 0) { _, _ in 0 }
        // Guest threads are host threads of this process: the host's barriers are theirs.
        t.passthrough(.membarrier, SYS_membarrier, [.value, .value, .value])
        t.define(.riscv_flush_icache, 3) { p, c in
            // Translations of code the guest rewrote must not run again.
            let start = GuestMemory.pageDown(c[0]), end = GuestMemory.pageUp(c[1])
            if start < end, end <= GuestLimits.addressSpaceSize { p.memory.onInvalidate?(start, end) }
            return 0
        }
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

    /// The lowest free range of `length` bytes at or above `hint` (or the mmap base), below the stack.
    private func freeRange(_ length: UInt64, hint: UInt64) -> UInt64? {
        let preferred = hint >= Loader.mmapBase && memory.inBounds(hint, length) ? hint : Loader.mmapBase
        guard let found = memory.findFree(length, from: preferred) ?? memory.findFree(length, from: Loader.mmapBase),
              found + length <= stackLimit else { return nil }
        return found
    }

    private func mmap(_ c: Call) -> Int64 {
        let hint = c[0], length = GuestMemory.pageUp(c[1])
        let protection = c.int32(2), flags = c.int32(3), fd = c.int32(4), offset = c.int(5)
        guard length > 0, c[1] <= GuestLimits.addressSpaceSize, offset % Int64(GuestMemory.pageSize) == 0 else {
            return Self.einval
        }
        let fixed = flags & (MAP_FIXED | MAP_FIXED_NOREPLACE) != 0
        let start: UInt64
        if fixed {
            guard hint % GuestMemory.pageSize == 0, memory.inBounds(hint, length) else { return Self.einval }
            if flags & MAP_FIXED_NOREPLACE != 0, memory.regions.contains(where: { $0.start < hint + length && $0.end > hint }) {
                return -Int64(EEXIST)
            }
            start = hint
        } else {
            let anonymous = flags & MAP_ANONYMOUS != 0
            let library = anonymous || hint != 0 || offset != 0 ? nil : libraryAddress(fd: fd, length: length)
            guard let found = library ?? freeRange(length, hint: hint) else { return -Int64(ENOMEM) }
            start = found
        }
        let anonymous = flags & MAP_ANONYMOUS != 0
        do {
            try memory.map(start, length, protection: protection,
                           file: anonymous ? nil : (fd, offset, flags & MAP_SHARED != 0))
        } catch { return -Int64((error as? GuestError)?.errno ?? ENOMEM) }
        if !anonymous, protection & PROT_EXEC != 0 {
            images.noteExecutableMapping(path: GuestMemory.pathOfDescriptor(fd), address: start, length: length, offset: UInt64(offset))
        }
        return Int64(start)
    }

    /// Where a whole file mapped by the dynamic loader (a shared library's first mapping, which
    /// reserves its whole span) goes: an address chosen by the file's path, the same in every
    /// program, so the translations cached for a library serve every program that loads it
    /// (cached code is keyed by the guest instructions and their addresses). nil when that room
    /// is taken, or for what is not a regular file.
    func libraryAddress(fd: Int32, length: UInt64) -> UInt64? {
        var status = stat()
        guard fstat(fd, &status) == 0, status.st_mode & S_IFMT == S_IFREG, length <= Loader.libraryZoneSize / 64 else { return nil }
        return Loader.libraryAddress(for: GuestMemory.pathOfDescriptor(fd), length: length, in: memory, below: stackLimit)
    }

    private func mremap(_ c: Call) -> Int64 {
        let start = c[0], oldLength = GuestMemory.pageUp(c[1]), newLength = GuestMemory.pageUp(c[2]), flags = c.int32(3)
        let mayMove = flags & 1 != 0, fixed = flags & 2 != 0
        guard start % GuestMemory.pageSize == 0, newLength > 0, flags & ~7 == 0, !fixed || mayMove,
              memory.inBounds(start, max(oldLength, 1)), memory.inBounds(start, newLength) || mayMove else { return Self.einval }
        guard oldLength > 0, memory.isMapped(start, oldLength, needs: 0) else { return -Int64(EFAULT) }
        let target: UInt64
        if fixed {
            target = c[4]
            guard target % GuestMemory.pageSize == 0, memory.inBounds(target, newLength),
                  target + newLength <= start || target >= start + oldLength else { return Self.einval }
            memory.unmap(target, newLength)
        } else if newLength <= oldLength || !memory.regions.contains(where: { $0.start < start + newLength && $0.end > start + oldLength }) && memory.inBounds(start, newLength) {
            target = start
        } else {
            guard mayMove, let found = freeRange(newLength, hint: Loader.mmapBase) else { return -Int64(ENOMEM) }
            target = found
        }
        do { try memory.remap(start, oldLength: oldLength, to: target, newLength: newLength) } catch { return -Int64((error as? GuestError)?.errno ?? ENOMEM) }
        return Int64(target)
    }
}

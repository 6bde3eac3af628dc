#if canImport(Glibc)
import Glibc
#endif
import CHostSyscall
import ELF

/// The guest address space: one reserved host region of 2^38 bytes between two guards.
/// Translated code reaches guest address `register + offset` at
/// `base + (register & addressMask) + offset`, with offsets of at most `maximumDisplacement`
/// either way, so no guest value can reach host memory outside the reservation, and the
/// masked register is shared by every access through it (one `and` for all of a
/// function's stack accesses). Unmapped guest pages and the guards are PROT_NONE host
/// pages: touching one faults in the host, which `FaultHandler` reports as the guest's SIGSEGV.
public final class GuestMemory: @unchecked Sendable {
    public static let pageSize: UInt64 = 4096
    public static let addressMask: UInt64 = GuestLimits.addressSpaceSize - 1
    /// Room before the start and past the end for `maximumDisplacement` plus an access of up to 16 bytes.
    static let guardSize: UInt64 = 1 << 16
    /// The largest offset translated code adds to a masked address: the guards hold it plus an access of 16 bytes.
    public static let maximumDisplacement: Int64 = 1 << 15

    public let base: UnsafeMutableRawPointer
    public var baseAddress: UInt64 { UInt64(UInt(bitPattern: base)) }

    public struct Region: Equatable, Sendable {
        public var start: UInt64
        public var end: UInt64
        public var protection: Int32
        /// What `/proc/self/maps` shows for it: a file (with the offset of `start`), `[stack]`, `[heap]`.
        public var source: Source = .anonymous
        public var shared = false
    }

    public enum Source: Equatable, Sendable {
        case anonymous
        case named(String)
        case file(path: String, offset: UInt64, device: UInt64, inode: UInt64)
    }

    /// Mapped guest ranges, sorted and disjoint: a snapshot, which any thread may take while
    /// another changes the mappings.
    public var regions: [Region] { regionsLock.withLock { mappedRegions } }
    private var mappedRegions: [Region] = []
    /// Held only to read or replace `mappedRegions`, never around anything else.
    private let regionsLock = Lock()
    /// Called with a range whose contents or permissions changed, so translated code for it is dropped.
    public var onInvalidate: ((UInt64, UInt64) -> Void)?
    /// Held by every change of the mappings (the guest thread's), and by another thread while it
    /// reads guest code (see `withStableMappings`).
    private let mappingLock = Lock()

    public init() throws(GuestError) {
        let size = Int(GuestLimits.addressSpaceSize + 2 * Self.guardSize)
        let flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE
        let pointer = mmap(nil, size, PROT_NONE, flags, -1, 0)
        guard let pointer, pointer != MAP_FAILED else {
            throw .hostFailure("cannot reserve \(size >> 30) GiB for the guest address space: \(String(cString: strerror(errno)))")
        }
        base = pointer + Int(Self.guardSize)
        FaultHandler.guestRegion = (UInt(bitPattern: pointer), UInt(size), UInt(bitPattern: base))
    }

    public func host(_ address: UInt64) -> UnsafeMutableRawPointer {
        base + Int(address & Self.addressMask)
    }

    public static func pageDown(_ value: UInt64) -> UInt64 { value & ~(pageSize - 1) }
    public static func pageUp(_ value: UInt64) -> UInt64 { (value + pageSize - 1) & ~(pageSize - 1) }

    /// Whether [address, address+length) lies inside the guest address space (mapped or not).
    public func inBounds(_ address: UInt64, _ length: UInt64) -> Bool {
        let (end, overflow) = address.addingReportingOverflow(length)
        return !overflow && end <= GuestLimits.addressSpaceSize
    }

    public func region(containing address: UInt64) -> Region? {
        Self.region(containing: address, in: regions)
    }

    /// The mapping around `address` with `protection`, as bounds only: for callers on a hot path
    /// (a snapshot of `regions` and a `Region` cost reference counting).
    public func mappingBounds(around address: UInt64, needs protection: Int32) -> (start: UInt64, end: UInt64)? {
        regionsLock.withLock {
            guard let region = Self.region(containing: address, in: mappedRegions), region.protection & protection == protection else { return nil }
            return (region.start, region.end)
        }
    }

    private static func region(containing address: UInt64, in regions: [Region]) -> Region? {
        // Sorted and disjoint: the last one starting at or below `address`.
        var low = 0, high = regions.count
        while low < high {
            let middle = (low + high) / 2
            if regions[middle].start <= address { low = middle + 1 } else { high = middle }
        }
        guard low > 0, address < regions[low - 1].end else { return nil }
        return regions[low - 1]
    }

    public func isMapped(_ address: UInt64, _ length: UInt64, needs protection: Int32 = PROT_READ) -> Bool {
        guard inBounds(address, length) else { return false }
        let regions = self.regions
        var cursor = address
        let end = address + max(length, 1)
        while cursor < end {
            guard let region = Self.region(containing: cursor, in: regions), region.protection & protection == protection else { return false }
            cursor = region.end
        }
        return true
    }

    /// Maps fresh zeroed pages (or a file) at a page-aligned guest range, replacing whatever was there.
    public func map(_ start: UInt64, _ length: UInt64, protection: Int32,
                    file: (fd: Int32, offset: Int64, shared: Bool)? = nil, name: String? = nil) throws(GuestError) {
        try mappingLock.withLock { () throws(GuestError) in try mapLocked(start, length, protection: protection, file: file, name: name) }
    }

    private func mapLocked(_ start: UInt64, _ length: UInt64, protection: Int32,
                           file: (fd: Int32, offset: Int64, shared: Bool)?, name: String?) throws(GuestError) {
        precondition(start % Self.pageSize == 0 && length % Self.pageSize == 0)
        guard inBounds(start, length), length > 0 else { throw .badAddress(start) }
        var flags = MAP_FIXED
        let fd: Int32
        let offset: Int64
        if let file {
            flags |= file.shared ? MAP_SHARED : MAP_PRIVATE
            fd = file.fd; offset = file.offset
        } else {
            flags |= MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE
            fd = -1; offset = 0
        }
        let result = mmap(host(start), Int(length), Self.hostProtection(protection), flags, fd, Int(offset))
        guard result != MAP_FAILED else { throw .hostErrno(errno) }
        var region = Region(start: start, end: start + length, protection: protection, shared: file?.shared ?? false)
        if let file {
            var status = stat()
            fstat(file.fd, &status)
            region.source = .file(path: Self.pathOfDescriptor(file.fd), offset: UInt64(file.offset),
                                  device: UInt64(status.st_dev), inode: UInt64(status.st_ino))
        } else if let name {
            region.source = .named(name)
        }
        replaceRegions(start, start + length, with: region)
        onInvalidate?(start, start + length)
    }

    /// Attaches System V shared memory at [start, start+length): `attach` is the host's shmat at the
    /// host address it is given (with SHM_REMAP, over the reservation).
    public func attachShared(_ start: UInt64, _ length: UInt64, readOnly: Bool, attach: (UnsafeMutableRawPointer) -> Int) throws(GuestError) {
        try mappingLock.withLock { () throws(GuestError) in
            guard inBounds(start, length), length > 0 else { throw .badAddress(start) }
            guard attach(host(start)) != -1 else { throw .hostErrno(errno) }
            let protection = readOnly ? PROT_READ : PROT_READ | PROT_WRITE
            replaceRegions(start, start + length, with: Region(start: start, end: start + length, protection: protection,
                                                               source: .named("[shm]"), shared: true))
            onInvalidate?(start, start + length)
        }
    }

    /// The file a descriptor is open on, as the host names it.
    public static func pathOfDescriptor(_ fd: Int32) -> String { linkTarget("/proc/self/fd/\(fd)") ?? "" }

    /// Moves or resizes the mapping at [start, start+oldLength) to [target, target+newLength) as the
    /// host's mremap does (file pages stay file pages); `target` may equal `start`. The caller
    /// checks that the new range is free.
    public func remap(_ start: UInt64, oldLength: UInt64, to target: UInt64, newLength: UInt64) throws(GuestError) {
        try mappingLock.withLock { () throws(GuestError) in
            guard let first = region(containing: start), isMapped(start, oldLength, needs: 0) else { throw .hostErrno(EFAULT) }
            let reserve = MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE
            // The host pages the mapping moves to must be free for the host's mremap: give that part of the reservation back.
            let freed: (UInt64, UInt64) = target == start ? (start + oldLength, start + newLength) : (target, target + newLength)
            if freed.1 > freed.0 { munmap(host(freed.0), Int(freed.1 - freed.0)) }
            let flags = target == start ? 0 : 3  // MREMAP_MAYMOVE | MREMAP_FIXED
            let moved = pagelift_host_syscall(Int(SYS_mremap), Int(bitPattern: host(start)), Int(oldLength), Int(newLength), flags,
                                              Int(bitPattern: host(target)), 0)
            guard moved != -1 else {
                let code = errno
                if freed.1 > freed.0 { _ = mmap(host(freed.0), Int(freed.1 - freed.0), PROT_NONE, reserve, -1, 0) }
                throw .hostErrno(code)
            }
            if target != start {
                // The host's mremap left a hole where the mapping was: back to the reserve.
                _ = mmap(host(start), Int(oldLength), PROT_NONE, reserve, -1, 0)
                replaceRegions(start, start + oldLength, with: nil)
            } else if newLength < oldLength {
                _ = mmap(host(start + newLength), Int(oldLength - newLength), PROT_NONE, reserve, -1, 0)
                replaceRegions(start + newLength, start + oldLength, with: nil)
            }
            var remapped = first
            remapped.start = target; remapped.end = target + newLength
            replaceRegions(target, target + newLength, with: remapped)
            onInvalidate?(start, start + oldLength)
            if target != start { onInvalidate?(target, target + newLength) }
        }
    }

    /// Reinitializes the lock in a forked child, where no other thread is left to hold it.
    public func reinitializeAfterFork() {
        mappingLock.reinitialize()
        regionsLock.reinitialize()
    }

    public func unmap(_ start: UInt64, _ length: UInt64) {
        mappingLock.withLock {
            let result = mmap(host(start), Int(length), PROT_NONE, MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0)
            precondition(result != MAP_FAILED, "cannot return guest pages to the reserve")
            replaceRegions(start, start + length, with: nil)
            onInvalidate?(start, start + length)
        }
    }

    public func protect(_ start: UInt64, _ length: UInt64, protection: Int32) throws(GuestError) {
        try mappingLock.withLock { () throws(GuestError) in try protectLocked(start, length, protection: protection) }
    }

    private func protectLocked(_ start: UInt64, _ length: UInt64, protection: Int32) throws(GuestError) {
        guard isMapped(start, length, needs: 0) else { throw .hostErrno(ENOMEM) }
        guard mprotect(host(start), Int(length), Self.hostProtection(protection)) == 0 else { throw .hostErrno(errno) }
        var updated: [Region] = []
        for region in regions where region.start < start + length && region.end > start {
            var piece = region
            piece.start = max(region.start, start); piece.end = min(region.end, start + length)
            piece.protection = protection
            updated.append(piece)
        }
        for piece in updated { replaceRegions(piece.start, piece.end, with: piece) }
        onInvalidate?(start, start + length)
    }

    /// Guest pages need no host execute permission: the host runs translated code, never guest bytes.
    static func hostProtection(_ protection: Int32) -> Int32 { protection & (PROT_READ | PROT_WRITE) }

    /// Under the mapping lock, which makes this the only writer.
    private func replaceRegions(_ start: UInt64, _ end: UInt64, with region: Region?) {
        var result: [Region] = []
        for existing in regions {
            if existing.end <= start || existing.start >= end { result.append(existing); continue }
            if existing.start < start { var left = existing; left.end = start; result.append(left) }
            if existing.end > end {
                var right = existing
                right.start = end
                if case .file(let path, let offset, let device, let inode) = existing.source {
                    right.source = .file(path: path, offset: offset + (end - existing.start), device: device, inode: inode)
                }
                result.append(right)
            }
        }
        if let region { result.append(region) }
        result.sort { $0.start < $1.start }
        regionsLock.withLock { mappedRegions = result }
    }

    /// The lowest free page-aligned range of `length` bytes at or above `hint`.
    public func findFree(_ length: UInt64, from hint: UInt64) -> UInt64? {
        var candidate = Self.pageUp(hint)
        for region in regions where region.end > candidate {
            if region.start >= candidate + length { break }
            candidate = Self.pageUp(region.end)
        }
        return inBounds(candidate, length) ? candidate : nil
    }

    // Byte access from Swift (loader, syscalls). Callers check mapping where the guest supplies the address.
    public func write(_ bytes: [UInt8], at address: UInt64) {
        bytes.withUnsafeBytes { host(address).copyMemory(from: $0.baseAddress!, byteCount: bytes.count) }
    }

    /// Runs `body` while the mappings cannot change, with whether guest code at `address` is
    /// read-only code, which changes only with its mapping: another thread than the guest's may
    /// read such code in `body`, and what it reads stays valid until an invalidation.
    public func withStableMappings<T>(at address: UInt64, _ body: (_ readOnlyCode: Bool) -> T) -> T {
        mappingLock.withLock {
            let protection = region(containing: address)?.protection ?? 0
            return body(protection & (PROT_EXEC | PROT_WRITE) == PROT_EXEC)
        }
    }

    /// The 16-bit instruction parcel at `address`, or nil if it is not mapped executable. Code in
    /// an execute-only page (whose host page the guest must not read, as under qemu) is read
    /// through /proc/self/mem, which may read what the process's own mappings forbid.
    public func instructionParcel(at address: UInt64) -> UInt16? {
        // One lookup for the common case: the parcel inside one mapping.
        guard let region = region(containing: address), region.protection & PROT_EXEC != 0 else { return nil }
        let readable = address + 2 <= region.end ? region.protection & PROT_READ != 0 : isMapped(address, 2, needs: PROT_EXEC | PROT_READ)
        if readable { return load(address, as: UInt16.self) }
        guard isMapped(address, 2, needs: PROT_EXEC) else { return nil }
        let fd = open("/proc/self/mem", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var parcel: UInt16 = 0
        let count = pread(fd, &parcel, 2, Int(bitPattern: UInt(bitPattern: host(address))))
        return count == 2 ? parcel : nil
    }

    public func load<T: FixedWidthInteger>(_ address: UInt64, as type: T.Type) -> T {
        host(address).loadUnaligned(as: T.self)
    }

    public func store<T: FixedWidthInteger>(_ value: T, at address: UInt64) {
        host(address).storeBytes(of: value, as: T.self)
    }

    /// A NUL-terminated guest string, or nil if it runs into unmapped memory.
    public func string(at address: UInt64, limit: Int = 4096) -> String? {
        var bytes: [UInt8] = []
        var cursor = address
        while bytes.count < limit {
            guard isMapped(cursor, 1) else { return nil }
            let byte = load(cursor, as: UInt8.self)
            if byte == 0 { return String(decoding: bytes, as: UTF8.self) }
            bytes.append(byte)
            cursor += 1
        }
        return nil
    }
}

public enum GuestError: Error, CustomStringConvertible {
    case hostFailure(String)
    case hostErrno(Int32)
    case badAddress(UInt64)
    case load(String)

    public var errno: Int32? {
        if case .hostErrno(let code) = self { return code }
        return nil
    }

    public var description: String {
        switch self {
        case .hostFailure(let message): return message
        case .hostErrno(let code): return String(cString: strerror(code))
        case .badAddress(let address): return "guest address 0x\(String(address, radix: 16)) is outside the guest address space"
        case .load(let message): return message
        }
    }
}

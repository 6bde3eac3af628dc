#if canImport(Glibc)
import Glibc
#endif
import ELF
import Guest

/// The host code map: one flat table indexed by guest pc. The slot for pc is at
/// base + (pc >> 1) * 8 and holds the host entry of code correct for that address, or 0.
/// Reserved once without backing; only the pages of slots ever written cost memory.
public final class CodeMap: @unchecked Sendable {
    public let base: UnsafeMutablePointer<UInt64>
    public var baseAddress: UInt64 { UInt64(UInt(bitPattern: base)) }
    static let slotCount = Int(GuestLimits.addressSpaceSize >> 1)

    public init() throws(GuestError) {
        let size = Self.slotCount * 8
        let flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE
        let pointer = mmap(nil, size, PROT_READ | PROT_WRITE, flags, -1, 0)
        guard let pointer, pointer != MAP_FAILED else {
            throw .hostFailure("cannot reserve \(size >> 30) GiB for the host code map: \(String(cString: strerror(errno)))")
        }
        base = pointer.assumingMemoryBound(to: UInt64.self)
    }

    /// An aligned 8-byte store: other threads see the old entry or the new one, never a mix.
    public subscript(pc: UInt64) -> UInt64 {
        get { base[Int((pc & GuestMemory.addressMask) >> 1)] }
        set { base[Int((pc & GuestMemory.addressMask) >> 1)] = newValue }
    }
}

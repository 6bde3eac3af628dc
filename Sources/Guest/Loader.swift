#if canImport(Glibc)
import Glibc
#endif
import ELF

/// What the loader leaves for the CPU and the syscalls: where to start and where things are.
public struct LoadedProgram: Sendable {
    public var entry: UInt64
    public var stackPointer: UInt64
    public var programBreak: UInt64
    public var loadBias: UInt64
    public var executablePath: String
    /// The lowest address of the stack's reservation (`RLIMIT_STACK` below its top).
    public var stackLimit: UInt64
    /// The auxiliary vector as the guest's `/proc/self/auxv` shows it.
    public var auxiliaryVector: [UInt8]
    public var arguments: [String]
    /// The dynamic loader, when the program names one, and where it was placed.
    public var interpreter: (path: String, bias: UInt64, elf: ELFFile)?
}

public enum Loader {
    /// Static-pie executables are placed here (the kernel randomizes; tests must not depend on it).
    public static let pieBias: UInt64 = 0x4000_0000
    public static let stackTop: UInt64 = 0x3f_ff00_0000
    /// The stack's reservation when `RLIMIT_STACK` is unlimited, and the most it may be.
    static let unlimitedStackSize: UInt64 = 1 << 30
    static let largestStackSize: UInt64 = 32 << 30
    /// Where `mmap` looks for free room first, and where the dynamic loader is placed.
    public static let mmapBase: UInt64 = 0x20_0000_0000

    /// Shared libraries (and the dynamic loader) are placed in this zone at addresses chosen by
    /// their paths (see `libraryAddress`), in slots of `librarySlot` bytes.
    static let libraryZone: UInt64 = 0x28_0000_0000
    public static let libraryZoneSize: UInt64 = 56 << 30
    static let librarySlot: UInt64 = 2 << 20

    /// The address for a library of `length` bytes at `path`: a slot chosen by a hash of the path,
    /// or one of the next few if that one is taken, or nil.
    public static func libraryAddress(for path: String, length: UInt64, in memory: GuestMemory, below limit: UInt64) -> UInt64? {
        let slots = libraryZoneSize / librarySlot
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in path.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        for probe in 0..<UInt64(8) {
            let start = libraryZone + ((hash &+ probe &* 0x9e37_79b9) % slots) * librarySlot
            guard start + length <= libraryZone + libraryZoneSize, start + length <= limit else { continue }
            if !memory.regions.contains(where: { $0.start < start + length && $0.end > start }) { return start }
        }
        return nil
    }

    /// The stack's size as the kernel takes it: the soft `RLIMIT_STACK`.
    public static var stackSize: UInt64 {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_STACK.rawValue), &limit) == 0, limit.rlim_cur != rlim_t.max else { return unlimitedStackSize }
        return min(max(GuestMemory.pageUp(UInt64(limit.rlim_cur)), 128 << 10), largestStackSize)
    }

    /// Maps `elf` into `memory` (with its dynamic loader, looked up through `paths`, when it
    /// names one) and builds the initial stack the Linux kernel would: argc, argv, envp, auxv,
    /// and the strings and random bytes they point to.
    public static func load(_ elf: ELFFile, path: String, arguments: [String], environment: [String],
                            paths: GuestPaths, images: GuestImages, into memory: GuestMemory) throws(GuestError) -> LoadedProgram {
        let bias: UInt64 = elf.kind == .sharedObject ? pieBias : 0
        let stackSize = stackSize
        // Checked before anything is mapped: an absurd size is refused at once.
        guard let highest = pageRanges(elf, bias: bias).last?.end, highest <= stackTop - stackSize, highest <= mmapBase else {
            throw .load("\(path): segments reach into the stack or mmap area (above 0x\(String(mmapBase, radix: 16)))")
        }
        try mapImage(elf, bias: bias, into: memory, name: path)
        images.add(path: path, bias: bias, start: elf.loadSegments.map(\.virtualAddress).min()! + bias, end: highest, symbols: elf.symbols)

        var interpreter: (path: String, bias: UInt64, elf: ELFFile)?
        if let name = elf.interpreter {
            let hostPath = paths.host(name)
            let bytes: [UInt8]
            do { bytes = try readWholeFile(hostPath) } catch {
                let hint = paths.root == nil ? "; give the guest's root file system with -L ROOT" : " in the guest root \(paths.root!)"
                throw .load("\(path): cannot load its interpreter \(name)\(hint): \(error)")
            }
            let interpreterELF: ELFFile
            do { interpreterELF = try ELFFile(bytes: bytes) } catch { throw .load("\(path): interpreter \(hostPath): \(error)") }
            let span = pageRanges(interpreterELF, bias: 0)
            let low = span.first!.start, high = span.last!.end
            guard interpreterELF.kind == .sharedObject,
                  let start = libraryAddress(for: hostPath, length: high - low, in: memory, below: stackTop - stackSize)
                    ?? memory.findFree(high - low, from: mmapBase) else {
                throw .load("\(path): interpreter \(hostPath) is not a position-independent ELF that fits")
            }
            let interpreterBias = start - low
            try mapImage(interpreterELF, bias: interpreterBias, into: memory, name: hostPath)
            images.add(path: hostPath, bias: interpreterBias, start: start, end: start + high - low, symbols: interpreterELF.symbols)
            interpreter = (hostPath, interpreterBias, interpreterELF)
        }

        try memory.map(stackTop - stackSize, stackSize, protection: PROT_READ | PROT_WRITE, name: "[stack]")
        try SignalFrame.map(into: memory)
        let phdr = programHeaderAddress(elf) + bias
        let (stack, auxv) = buildStack(memory: memory, elf: elf, bias: bias, phdr: phdr, interpreterBias: interpreter?.bias ?? 0,
                                       path: path, arguments: arguments, environment: environment)
        let entry = interpreter.map { $0.elf.entry + $0.bias } ?? elf.entry + bias
        return LoadedProgram(entry: entry, stackPointer: stack, programBreak: highest, loadBias: bias, executablePath: path,
                             stackLimit: stackTop - stackSize, auxiliaryVector: auxv, arguments: arguments, interpreter: interpreter)
    }

    /// Maps the loadable segments of `elf` at `bias` with their permissions.
    static func mapImage(_ elf: ELFFile, bias: UInt64, into memory: GuestMemory, name: String) throws(GuestError) {
        let ranges = pageRanges(elf, bias: bias)
        for range in ranges {
            try memory.map(range.start, range.end - range.start, protection: PROT_READ | PROT_WRITE, name: name)
        }
        for segment in elf.loadSegments where segment.fileSize > 0 {
            let start = Int(segment.fileOffset)
            memory.write(Array(elf.bytes[start..<start + Int(segment.fileSize)]), at: segment.virtualAddress + bias)
        }
        for range in ranges {
            try memory.protect(range.start, range.end - range.start, protection: range.protection)
        }
    }

    /// The pages the segments cover, as ranges of one protection: a page two segments share gets
    /// both's. Computed per segment, not per page: a segment may be gigabytes of .bss.
    static func pageRanges(_ elf: ELFFile, bias: UInt64) -> [(start: UInt64, end: UInt64, protection: Int32)] {
        var ranges: [(start: UInt64, end: UInt64, protection: Int32)] = []
        // Segments are sorted and do not overlap (ELFFile checks), so only a boundary page can be shared.
        for segment in elf.loadSegments {
            var protection: Int32 = 0
            if segment.readable { protection |= PROT_READ }
            if segment.writable { protection |= PROT_WRITE }
            if segment.executable { protection |= PROT_EXEC }
            var start = GuestMemory.pageDown(segment.virtualAddress + bias)
            let end = GuestMemory.pageUp(segment.end + bias)
            if let last = ranges.last, last.end > start {
                // The previous segment's last page is this one's first.
                ranges[ranges.count - 1].end = start
                if ranges[ranges.count - 1].start == ranges[ranges.count - 1].end { ranges.removeLast() }
                ranges.append((start, start + GuestMemory.pageSize, protection | last.protection))
                start += GuestMemory.pageSize
            }
            if start < end { ranges.append((start, end, protection)) }
        }
        // Neighbours with one protection become one mapping.
        var merged: [(start: UInt64, end: UInt64, protection: Int32)] = []
        for range in ranges {
            if let last = merged.last, last.end == range.start, last.protection == range.protection {
                merged[merged.count - 1].end = range.end
            } else {
                merged.append(range)
            }
        }
        return merged
    }

    static func programHeaderAddress(_ elf: ELFFile) -> UInt64 {
        if let address = elf.programHeaderAddress { return address }
        for segment in elf.loadSegments where elf.programHeaderOffset >= segment.fileOffset
            && elf.programHeaderOffset < segment.fileOffset + segment.fileSize {
            return segment.virtualAddress + (elf.programHeaderOffset - segment.fileOffset)
        }
        return 0
    }

    enum AuxiliaryVector: UInt64 {
        case null = 0, phdr = 3, phent = 4, phnum = 5, pagesz = 6, base = 7, flags = 8, entry = 9
        case uid = 11, euid = 12, gid = 13, egid = 14, platform = 15, hwcap = 16, clktck = 17
        case secure = 23, random = 25, hwcap2 = 26, execfn = 31
    }

    /// RV64 IMAFDC as the kernel reports it: one bit per extension letter.
    static let hwcap: UInt64 = "imafdc".unicodeScalars.reduce(0) { $0 | 1 << UInt64($1.value - 97) }

    private static func buildStack(memory: GuestMemory, elf: ELFFile, bias: UInt64, phdr: UInt64, interpreterBias: UInt64, path: String,
                                   arguments: [String], environment: [String]) -> (UInt64, [UInt8]) {
        var top = stackTop
        func push(_ bytes: [UInt8]) -> UInt64 {
            top -= UInt64(bytes.count)
            memory.write(bytes, at: top)
            return top
        }
        func pushString(_ string: String) -> UInt64 { push(Array(string.utf8) + [0]) }

        let execfn = pushString(path)
        let environmentPointers = environment.reversed().map(pushString).reversed() as [UInt64]
        let argumentPointers = arguments.reversed().map(pushString).reversed() as [UInt64]
        let platform = pushString("riscv64")
        var random = [UInt8](repeating: 0, count: 16)
        random.withUnsafeMutableBytes { bytes in
            for index in bytes.indices { bytes[index] = UInt8.random(in: 0...255) }
        }
        let randomBytes = push(random)

        let auxv: [(AuxiliaryVector, UInt64)] = [
            (.phdr, phdr), (.phent, UInt64(elf.programHeaderEntrySize)), (.phnum, UInt64(elf.programHeaderCount)),
            (.pagesz, GuestMemory.pageSize), (.base, interpreterBias), (.flags, 0), (.entry, elf.entry + bias),
            (.uid, UInt64(getuid())), (.euid, UInt64(geteuid())), (.gid, UInt64(getgid())), (.egid, UInt64(getegid())),
            (.hwcap, hwcap), (.hwcap2, 0), (.clktck, 100), (.secure, 0), (.random, randomBytes),
            (.platform, platform), (.execfn, execfn), (.null, 0),
        ]
        var words: [UInt64] = [UInt64(arguments.count)]
        words += argumentPointers + [0] + environmentPointers + [0]
        for (key, value) in auxv { words += [key.rawValue, value] }

        top = (top - UInt64(words.count * 8)) & ~15
        for (index, word) in words.enumerated() { memory.store(word, at: top + UInt64(index * 8)) }
        let auxvBytes = auxv.flatMap { [$0.0.rawValue, $0.1] }.flatMap { word in (0..<8).map { UInt8(truncatingIfNeeded: word >> ($0 * 8)) } }
        return (top, auxvBytes)
    }
}

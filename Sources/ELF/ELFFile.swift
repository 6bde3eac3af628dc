/// A validated RISC-V ELF64 executable: everything the loader and the dumps need,
/// nothing read from the file after `init` returns.
public struct ELFFile: Sendable {
    public enum Kind: Sendable { case executable, sharedObject }

    public struct Segment: Sendable, Equatable {
        public var virtualAddress: UInt64
        public var fileOffset: UInt64
        public var fileSize: UInt64
        public var memorySize: UInt64
        public var readable, writable, executable: Bool
        public var end: UInt64 { virtualAddress + memorySize }
    }

    public struct Symbol: Sendable, Equatable {
        public var name: String
        public var address: UInt64
        public var size: UInt64
        public var isFunction: Bool

        public init(name: String, address: UInt64, size: UInt64, isFunction: Bool) {
            self.name = name; self.address = address; self.size = size; self.isFunction = isFunction
        }
    }

    public let bytes: [UInt8]
    public let kind: Kind
    public let entry: UInt64
    public let programHeaderOffset: UInt64
    public let programHeaderCount: Int
    public let programHeaderEntrySize: Int
    public let loadSegments: [Segment]
    /// The PT_PHDR address if present (an offset from the load bias for PIE).
    public let programHeaderAddress: UInt64?
    public let interpreter: String?
    /// Named functions and objects: what runtime messages and `lift` need.
    public let symbols: [Symbol]
    public let sections: [Section]
    /// The raw `.symtab`, for tools that must choose among symbols the way binutils does.
    public let symbolTable: [SymbolEntry]

    public struct Section: Sendable {
        public var name = ""
        var nameOffset: UInt32
        public var type: UInt32
        public var flags: UInt64
        public var address: UInt64
        public var fileOffset: UInt64
        public var size: UInt64
        var link: Int
        var entrySize: UInt64
        public var isExecutable: Bool { flags & 0x4 != 0 }          // SHF_EXECINSTR
        public var hasContents: Bool { type != 8 }                   // not SHT_NOBITS
    }

    public struct SymbolEntry: Sendable {
        public var name: String
        public var value: UInt64
        public var size: UInt64
        public var type: UInt8          // STT_*
        public var binding: UInt8       // STB_*
        public var sectionIndex: Int    // SHN_* or a section header index
    }

    public static let machineRISCV: UInt16 = 243
    static let pageSize: UInt64 = 4096

    public init(bytes: [UInt8]) throws(ELFError) {
        self.bytes = bytes
        let reader = ByteReader(bytes)
        guard bytes.count >= 64 else {
            throw bytes.isEmpty ? .empty : .truncated("the file has \(bytes.count) bytes, an ELF64 header needs 64")
        }
        guard bytes[0] == 0x7f, bytes[1] == 0x45, bytes[2] == 0x4c, bytes[3] == 0x46 else { throw .notELF }
        guard bytes[4] == 2 else { throw .unsupported("ELF class \(bytes[4]) (only 64-bit ELF is supported)") }
        guard bytes[5] == 1 else { throw .unsupported("data encoding \(bytes[5]) (only little-endian is supported)") }
        guard bytes[6] == 1 else { throw .malformed("ELF version \(bytes[6])") }
        let type = reader.u16(16)
        switch type {
        case 2: kind = .executable
        case 3: kind = .sharedObject
        default: throw .unsupported("ELF type \(type) (only executables and PIE are runnable)")
        }
        let machine = reader.u16(18)
        guard machine == Self.machineRISCV else {
            throw .wrongMachine(machine)
        }
        entry = reader.u64(24)
        programHeaderOffset = reader.u64(32)
        let sectionHeaderOffset = reader.u64(40)
        programHeaderEntrySize = Int(reader.u16(54))
        programHeaderCount = Int(reader.u16(56))
        let sectionHeaderEntrySize = Int(reader.u16(58))
        let sectionHeaderCount = Int(reader.u16(60))
        let sectionNameIndex = Int(reader.u16(62))

        guard programHeaderCount > 0 else { throw .malformed("no program headers") }
        guard programHeaderEntrySize == 56 else { throw .malformed("program header size \(programHeaderEntrySize), expected 56") }
        guard Self.fits(offset: programHeaderOffset, size: UInt64(programHeaderCount * 56), in: bytes.count) else {
            throw .truncated("program headers at offset \(programHeaderOffset) run past the end of the file")
        }

        var segments: [Segment] = []
        var phdrAddress: UInt64? = nil
        var interpreter: String? = nil
        for index in 0..<programHeaderCount {
            let at = Int(programHeaderOffset) + index * 56
            let type = reader.u32(at), flags = reader.u32(at + 4)
            let offset = reader.u64(at + 8), vaddr = reader.u64(at + 16)
            let filesz = reader.u64(at + 32), memsz = reader.u64(at + 40), align = reader.u64(at + 48)
            switch type {
            case 1: // PT_LOAD
                let name = "segment \(index) (vaddr 0x\(String(vaddr, radix: 16)))"
                guard Self.fits(offset: offset, size: filesz, in: bytes.count) else {
                    throw .truncated("\(name): file bytes \(offset)+\(filesz) lie past the end of the file (\(bytes.count) bytes)")
                }
                guard filesz <= memsz else { throw .malformed("\(name): file size \(filesz) exceeds memory size \(memsz)") }
                guard vaddr.addingReportingOverflow(memsz).overflow == false, vaddr + memsz <= GuestLimits.addressSpaceSize else {
                    throw .outOfBounds("\(name) with size \(memsz) lies outside the 2^38-byte guest address space")
                }
                guard align <= 1 || (vaddr % Self.pageSize) == (offset % Self.pageSize) else {
                    throw .malformed("\(name): address and file offset disagree modulo the page size")
                }
                if memsz == 0 { continue }
                segments.append(Segment(virtualAddress: vaddr, fileOffset: offset, fileSize: filesz, memorySize: memsz,
                                        readable: flags & 4 != 0, writable: flags & 2 != 0, executable: flags & 1 != 0))
            case 3: // PT_INTERP
                guard Self.fits(offset: offset, size: filesz, in: bytes.count), filesz > 0 else {
                    throw .truncated("PT_INTERP lies past the end of the file")
                }
                interpreter = String(decoding: bytes[Int(offset)..<Int(offset + filesz)].prefix { $0 != 0 }, as: UTF8.self)
            case 6: // PT_PHDR
                phdrAddress = vaddr
            default: break
            }
        }
        guard !segments.isEmpty else { throw .malformed("no loadable segments") }
        let sorted = segments.sorted { $0.virtualAddress < $1.virtualAddress }
        for (a, b) in zip(sorted, sorted.dropFirst()) where a.end > b.virtualAddress {
            throw .malformed("loadable segments at 0x\(String(a.virtualAddress, radix: 16)) and 0x\(String(b.virtualAddress, radix: 16)) overlap")
        }
        let entryPoint = entry
        guard sorted.contains(where: { $0.executable && entryPoint >= $0.virtualAddress && entryPoint < $0.end }) else {
            throw .malformed("entry point 0x\(String(entry, radix: 16)) is not inside an executable segment")
        }
        loadSegments = sorted
        programHeaderAddress = phdrAddress
        self.interpreter = interpreter
        sections = Self.readSections(reader, sectionHeaderOffset: sectionHeaderOffset, entrySize: sectionHeaderEntrySize,
                                     count: sectionHeaderCount, nameIndex: sectionNameIndex)
        let staticSymbols = Self.readSymbolTable(reader, sections: sections, type: 2)
        // A stripped shared library still names its exported functions in `.dynsym`; listings
        // name them with their versions (`printf@@GLIBC_2.27`), as binutils does.
        let dynamicSymbols = staticSymbols.isEmpty ? Self.readSymbolTable(reader, sections: sections, type: 11) : []
        symbolTable = staticSymbols.isEmpty ? Self.versioned(dynamicSymbols, reader, sections: sections) : staticSymbols
        symbols = (staticSymbols.isEmpty ? dynamicSymbols : staticSymbols).compactMap { entry in
            guard entry.type == 1 || entry.type == 2 || entry.type == 10, entry.value != 0, !entry.name.isEmpty, !entry.name.hasPrefix("$") else { return nil }
            return Symbol(name: entry.name, address: entry.value, size: entry.size, isFunction: entry.type != 1)
        }
    }

    static func fits(offset: UInt64, size: UInt64, in fileSize: Int) -> Bool {
        let (end, overflow) = offset.addingReportingOverflow(size)
        return !overflow && end <= UInt64(fileSize)
    }

    /// Section headers; a damaged table only costs names and listings, never the run.
    private static func readSections(_ reader: ByteReader, sectionHeaderOffset: UInt64, entrySize: Int,
                                     count: Int, nameIndex: Int) -> [Section] {
        guard count > 0, entrySize == 64,
              fits(offset: sectionHeaderOffset, size: UInt64(count * 64), in: reader.bytes.count) else { return [] }
        var sections = (0..<count).map { index -> Section in
            let at = Int(sectionHeaderOffset) + index * 64
            return Section(nameOffset: reader.u32(at), type: reader.u32(at + 4), flags: reader.u64(at + 8),
                           address: reader.u64(at + 16), fileOffset: reader.u64(at + 24), size: reader.u64(at + 32),
                           link: Int(reader.u32(at + 40)), entrySize: reader.u64(at + 56))
        }
        if nameIndex < count {
            let strings = sections[nameIndex]
            for index in sections.indices {
                sections[index].name = string(reader, in: strings, at: UInt64(sections[index].nameOffset))
            }
        }
        return sections
    }

    /// A NUL-terminated string of a string table section; empty when it lies outside the file.
    private static func string(_ reader: ByteReader, in table: Section, at offset: UInt64) -> String {
        guard offset < table.size, fits(offset: table.fileOffset, size: table.size, in: reader.bytes.count) else { return "" }
        let start = Int(table.fileOffset + offset), end = Int(table.fileOffset + table.size)
        return String(decoding: reader.bytes[start..<end].prefix { $0 != 0 }, as: UTF8.self)
    }

    /// `.dynsym`'s defined entries named with their versions from `.gnu.version` and
    /// `.gnu.version_d`: `name@@VERSION` for the default one, `name@VERSION` for a hidden one.
    private static func versioned(_ entries: [SymbolEntry], _ reader: ByteReader, sections: [Section]) -> [SymbolEntry] {
        guard let versions = sections.first(where: { $0.type == 0x6fff_ffff }),
              let definitions = sections.first(where: { $0.type == 0x6fff_fffd }), definitions.link < sections.count,
              fits(offset: versions.fileOffset, size: versions.size, in: reader.bytes.count),
              fits(offset: definitions.fileOffset, size: definitions.size, in: reader.bytes.count) else { return entries }
        var names: [UInt16: String] = [:]
        var at = definitions.fileOffset
        while at + 20 <= definitions.fileOffset + definitions.size {
            let index = reader.u16(Int(at) + 4), auxiliary = UInt64(reader.u32(Int(at) + 12)), next = UInt64(reader.u32(Int(at) + 16))
            if auxiliary >= 8, at + auxiliary + 8 <= definitions.fileOffset + definitions.size {
                names[index] = string(reader, in: sections[definitions.link], at: UInt64(reader.u32(Int(at + auxiliary))))
            }
            guard next > 0 else { break }
            at += next
        }
        return entries.enumerated().map { position, entry in
            // Entry `position` of this list is symbol `position + 1` of the table (index 0 is left out).
            let slot = versions.fileOffset + UInt64(position + 1) * 2
            guard entry.sectionIndex != 0, slot + 2 <= versions.fileOffset + versions.size else { return entry }
            let version = reader.u16(Int(slot))
            guard version & 0x7fff >= 2, let name = names[version & 0x7fff] else { return entry }
            var named = entry
            named.name += (version & 0x8000 != 0 ? "@" : "@@") + name
            return named
        }
    }

    /// Every entry of `.symtab` (type 2) or `.dynsym` (type 11), index 0 excluded, in table order.
    private static func readSymbolTable(_ reader: ByteReader, sections: [Section], type: UInt32) -> [SymbolEntry] {
        var result: [SymbolEntry] = []
        for table in sections where table.type == type && table.entrySize == 24 && table.link < sections.count {
            guard fits(offset: table.fileOffset, size: table.size, in: reader.bytes.count) else { continue }
            let strings = sections[table.link]
            for symbolIndex in 1..<max(1, Int(table.size / 24)) {
                let at = Int(table.fileOffset) + symbolIndex * 24
                let info = reader.bytes[at + 4]
                result.append(SymbolEntry(name: string(reader, in: strings, at: UInt64(reader.u32(at))),
                                          value: reader.u64(at + 8), size: reader.u64(at + 16),
                                          type: info & 0xf, binding: info >> 4, sectionIndex: Int(reader.u16(at + 6))))
            }
        }
        return result
    }
}

public enum GuestLimits {
    /// The guest address space is 2^38 bytes, as under Sv39.
    public static let addressBits = 38
    public static let addressSpaceSize: UInt64 = 1 << 38
}

public enum ELFError: Error, CustomStringConvertible, Equatable {
    case empty
    case notELF
    case truncated(String)
    case wrongMachine(UInt16)
    case unsupported(String)
    case malformed(String)
    case outOfBounds(String)

    public var description: String {
        switch self {
        case .empty: return "the file is empty"
        case .notELF: return "not an ELF file (bad magic number)"
        case .truncated(let what): return "truncated ELF file: \(what)"
        case .wrongMachine(let machine): return "not a RISC-V executable (ELF machine \(machine), expected \(ELFFile.machineRISCV))"
        case .unsupported(let what): return "unsupported ELF file: \(what)"
        case .malformed(let what): return "malformed ELF file: \(what)"
        case .outOfBounds(let what): return "malformed ELF file: \(what)"
        }
    }
}

struct ByteReader {
    let bytes: [UInt8]
    init(_ bytes: [UInt8]) { self.bytes = bytes }
    func u16(_ at: Int) -> UInt16 { UInt16(bytes[at]) | UInt16(bytes[at + 1]) << 8 }
    func u32(_ at: Int) -> UInt32 { UInt32(u16(at)) | UInt32(u16(at + 2)) << 16 }
    func u64(_ at: Int) -> UInt64 { UInt64(u32(at)) | UInt64(u32(at + 4)) << 32 }
}

import ELF
import Foundation
import Testing

/// A minimal valid RISC-V executable: ELF header, one program header, one executable PT_LOAD.
struct ELFBuilder {
    var bytes = [UInt8](repeating: 0, count: 0x200)

    init() {
        bytes.replaceSubrange(0..<4, with: [0x7f, 0x45, 0x4c, 0x46])
        bytes[4] = 2; bytes[5] = 1; bytes[6] = 1
        put16(2, at: 16)                  // ET_EXEC
        put16(243, at: 18)                // EM_RISCV
        put32(1, at: 20)
        put64(0x10100, at: 24)            // entry
        put64(64, at: 32)                 // phoff
        put16(64, at: 52); put16(56, at: 54); put16(1, at: 56)
        // PT_LOAD R+X: file [0, 0x200) at 0x10000
        put32(1, at: 64); put32(5, at: 68)
        put64(0, at: 72); put64(0x10000, at: 80); put64(0x10000, at: 88)
        put64(0x200, at: 96); put64(0x200, at: 104); put64(0x1000, at: 112)
    }

    mutating func put16(_ value: UInt16, at offset: Int) { for i in 0..<2 { bytes[offset + i] = UInt8(truncatingIfNeeded: value >> (8 * i)) } }
    mutating func put32(_ value: UInt32, at offset: Int) { for i in 0..<4 { bytes[offset + i] = UInt8(truncatingIfNeeded: value >> (8 * i)) } }
    mutating func put64(_ value: UInt64, at offset: Int) { for i in 0..<8 { bytes[offset + i] = UInt8(truncatingIfNeeded: value >> (8 * i)) } }
}

@Suite struct ELFFileTests {
    @Test func acceptsAMinimalExecutable() throws {
        let elf = try ELFFile(bytes: ELFBuilder().bytes)
        #expect(elf.entry == 0x10100)
        #expect(elf.loadSegments.count == 1 && elf.loadSegments[0].executable)
        #expect(elf.kind == .executable)
    }

    @Test func rejectsAZeroLengthFile() {
        #expect(throws: ELFError.empty) { try ELFFile(bytes: []) }
    }

    @Test func rejectsATruncatedFile() {
        let bytes = Array(ELFBuilder().bytes.prefix(40))
        #expect { try ELFFile(bytes: bytes) } throws: { error in
            if case .truncated = error as? ELFError { return true }
            return false
        }
    }

    @Test func rejectsProgramHeadersPastTheEnd() {
        var builder = ELFBuilder()
        builder.put64(0x1000, at: 32)
        #expect { try ELFFile(bytes: builder.bytes) } throws: { error in
            if case .truncated = error as? ELFError { return true }
            return false
        }
    }

    @Test func rejectsTheWrongMachine() {
        var builder = ELFBuilder()
        builder.put16(62, at: 18)        // x86-64
        #expect(throws: ELFError.wrongMachine(62)) { try ELFFile(bytes: builder.bytes) }
    }

    @Test func rejectsSomethingThatIsNotELF() {
        #expect(throws: ELFError.notELF) { try ELFFile(bytes: Array("#!/bin/sh\necho hello world, this is not an ELF file at all......\n".utf8)) }
    }

    @Test func rejectsASegmentWhoseFileBytesRunPastTheEnd() {
        var builder = ELFBuilder()
        builder.put64(0x10000, at: 96)   // filesz far beyond the file
        builder.put64(0x10000, at: 104)
        #expect { try ELFFile(bytes: builder.bytes) } throws: { error in
            if case .truncated = error as? ELFError { return true }
            return false
        }
    }

    @Test func rejectsASegmentOutsideTheGuestAddressSpace() {
        var builder = ELFBuilder()
        builder.put64(0xffff_ffff_ffff_0000, at: 80)
        #expect { try ELFFile(bytes: builder.bytes) } throws: { error in
            if case .outOfBounds = error as? ELFError { return true }
            return false
        }
    }

    @Test func rejectsFileSizeLargerThanMemorySize() {
        var builder = ELFBuilder()
        builder.put64(0x100, at: 104)
        #expect { try ELFFile(bytes: builder.bytes) } throws: { error in
            if case .malformed = error as? ELFError { return true }
            return false
        }
    }

    @Test func rejectsAnEntryOutsideExecutableCode() {
        var builder = ELFBuilder()
        builder.put64(0x50000, at: 24)
        #expect { try ELFFile(bytes: builder.bytes) } throws: { error in
            if case .malformed(let message) = error as? ELFError { return message.contains("entry point") }
            return false
        }
    }

    @Test func rejects32BitFiles() {
        var builder = ELFBuilder()
        builder.bytes[4] = 1
        #expect { try ELFFile(bytes: builder.bytes) } throws: { error in
            if case .unsupported = error as? ELFError { return true }
            return false
        }
    }

    @Test func describesAddressesBySymbol() {
        let table = SymbolTable([ELFFile.Symbol(name: "main", address: 0x1000, size: 0x40, isFunction: true)])
        #expect(table.describe(0x1000) == "main")
        #expect(table.describe(0x101c) == "main+0x1c")
        #expect(table.describe(0x2000) == "0x2000")
    }
}

/// A stripped shared library (the cross toolchain's riscv64 libc) is named by its dynamic
/// symbols: plain names for messages and profiles, versioned ones for listings, as objdump.
@Suite struct SharedLibrarySymbolTests {
    static let libc = "/usr/riscv64-linux-gnu/lib/libc.so.6"

    @Test func strippedLibrariesAreNamedByTheirDynamicSymbols() throws {
        let bytes = try #require(FileManager.default.contents(atPath: Self.libc), "the cross toolchain's libc is missing")
        let elf = try ELFFile(bytes: [UInt8](bytes))
        #expect(elf.kind == .sharedObject)
        let printf = try #require(elf.symbols.first { $0.name == "printf" })
        #expect(printf.isFunction && printf.size > 0)
        let listed = elf.symbolTable.filter { $0.value == printf.address }.map(\.name)
        #expect(listed.contains("printf@@GLIBC_2.27"), "\(listed)")
        #expect(!elf.symbolTable.contains { $0.name.hasPrefix("printf@") && $0.name != "printf@@GLIBC_2.27" })
    }
}

import ArgumentParser
import ELF
import Guest
import Foundation
import RISCV

struct Disasm: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Disassemble guest code the way riscv64-linux-gnu-objdump -d does.",
        discussion: """
            Without --symbol or --addr, every executable section is listed, line for line as objdump -d prints it \
            (alias syntax, or canonical mnemonics with -M no-aliases).
            """)

    @Option(help: "Only this function, by ELF symbol.") var symbol: String?
    @Option(help: "Start at this address (0x... or decimal).") var addr: String?
    @Option(help: "With --addr: how many instructions.") var count: Int?
    @Option(name: .customShort("M"), help: "objdump's disassembler option: no-aliases for canonical mnemonics.")
    var disassemblerOption: String?
    @Argument(help: "The RISC-V program.") var program: String

    func validate() throws {
        if symbol != nil && addr != nil { throw ValidationError("give at most one of --symbol and --addr") }
        if count != nil && addr == nil { throw ValidationError("--count needs --addr") }
        if let count, count <= 0 { throw ValidationError("--count must be positive") }
        if let disassemblerOption, disassemblerOption != "no-aliases" {
            throw ValidationError("unknown disassembler option '\(disassemblerOption)' (supported: no-aliases)")
        }
    }

    func run() throws {
        let elf: ELFFile
        do { elf = try ELFFile(bytes: try readWholeFile(program)) } catch { fail("\(program): \(error)") }
        var listing = ObjdumpListing(elf: elf, aliases: disassemblerOption == nil)
        var output = ""
        if let symbol {
            guard let found = elf.symbols.first(where: { $0.name == symbol }) else { fail("\(program): no symbol named '\(symbol)'") }
            guard listing.list(from: found.address, to: found.address + max(found.size, 2), into: &output) else {
                fail("\(program): '\(symbol)' is not in an executable section")
            }
        } else if let addr {
            let text = addr.lowercased()
            guard let start = text.hasPrefix("0x") ? UInt64(text.dropFirst(2), radix: 16) : UInt64(text) else {
                fail("--addr \(addr): not an address")
            }
            guard listing.list(from: start, instructions: count ?? 32, into: &output) else {
                fail("\(program): 0x\(String(start, radix: 16)) is not in an executable section")
            }
        } else {
            output = "\n\(program):     file format elf64-littleriscv\n\n"
            listing.listAll(into: &output)
        }
        FileHandle.standardOutput.write(output.data(using: .utf8)!)
    }
}

/// objdump -d's listing of a RISC-V ELF: its choice of symbol names, labels, skipped zero runs,
/// raw-byte columns and `# address` comments, so the two can be compared line by line.
struct ObjdumpListing {
    private let elf: ELFFile
    private let aliases: Bool
    private var tracker: ObjdumpAddressTracker
    private var symbols: [Candidate] = []
    private var sortedForSection = ""

    /// A symbol objdump may print, with the attributes its ordering looks at.
    private struct Candidate {
        let name: String
        let value: UInt64
        let size: UInt64
        let sectionName: String
        let isFunction: Bool
        let isObject: Bool
        let isLocal: Bool
        let isGlobal: Bool
        /// Mapping symbols and assembler-local labels are never printed.
        var isValid: Bool { !(name == "$d" || name == "$x" || name.hasPrefix("$xrv") || name.hasPrefix("$d.") || name.hasPrefix("$x.") || name == ".L0 ") }
    }

    init(elf: ELFFile, aliases: Bool) {
        self.elf = elf
        self.aliases = aliases
        let globalPointer = elf.symbolTable.first { $0.name == "__global_pointer$" }?.value
        tracker = ObjdumpAddressTracker(globalPointer: globalPointer)
        let sectionNames = elf.sections.map(\.name)
        for entry in elf.symbolTable {
            // objdump drops unnamed, section, file, undefined and common symbols.
            guard !entry.name.isEmpty, entry.type != 3, entry.type != 4,
                  entry.sectionIndex != 0, entry.sectionIndex != 0xfff2 else { continue }
            let sectionName = entry.sectionIndex == 0xfff1 ? "*ABS*"
                : entry.sectionIndex < sectionNames.count ? sectionNames[entry.sectionIndex] : ""
            symbols.append(Candidate(name: entry.name, value: entry.value, size: entry.size, sectionName: sectionName,
                                     isFunction: entry.type == 2 || entry.type == 10, isObject: entry.type == 1,
                                     isLocal: entry.binding == 0, isGlobal: entry.binding == 1))
        }
    }

    /// binutils' compare_symbols: by value, then the section being listed first, then "useful" symbols first.
    private mutating func sortSymbols(for section: String) {
        guard sortedForSection != section else { return }
        sortedForSection = section
        func isFileName(_ name: String) -> Bool { name.count > 2 && (name.hasSuffix(".o") || name.hasSuffix(".a")) }
        func isCompilerMarker(_ name: String) -> Bool { name.contains("gnu_compiled") || name.contains("gcc2_compiled") }
        symbols.sort { a, b in
            if a.value != b.value { return a.value < b.value }
            let keys: [(Bool, Bool)] = [
                (a.sectionName == section, b.sectionName == section),
                (!isCompilerMarker(a.name), !isCompilerMarker(b.name)),
                (!isFileName(a.name), !isFileName(b.name)),
                (a.isFunction, b.isFunction),
                (a.isObject, b.isObject),
                (!a.isLocal, !b.isLocal),
                (a.isGlobal, b.isGlobal),
            ]
            for (x, y) in keys where x != y { return x }
            if a.size != b.size { return a.size > b.size }
            if a.name.hasPrefix(".") != b.name.hasPrefix(".") { return !a.name.hasPrefix(".") }
            return Array(a.name.utf8).lexicographicallyPrecedes(Array(b.name.utf8))
        }
    }

    /// binutils' find_symbol_for_address for a linked executable: the best symbol at or below `address`.
    private func symbol(for address: UInt64, in section: String, requireSection: Bool = false) -> Int? {
        guard !symbols.isEmpty else { return nil }
        var low = 0, high = symbols.count
        while low + 1 < high {
            let middle = (low + high) / 2
            if symbols[middle].value > address { high = middle }
            else if symbols[middle].value < address { low = middle }
            else { low = middle; break }
        }
        var place = low
        while place > 0 && symbols[place].value == symbols[place - 1].value { place -= 1 }
        var index = place
        while index < high && symbols[index].value == symbols[place].value {
            if symbols[index].sectionName == section && symbols[index].isValid { return index }
            index += 1
        }
        func ok(_ index: Int) -> Bool { symbols[index].isValid && (!requireSection || symbols[index].sectionName == section) }
        if ok(place) { return place }
        var found: Int? = nil
        for candidate in stride(from: index - 1, through: 0, by: -1) where ok(candidate) {
            if let found, symbols[found].value != symbols[candidate].value { break }
            found = candidate
        }
        if let found { return found }
        return (place + 1..<symbols.count).first(where: ok)
    }

    private func describe(_ address: UInt64, symbol index: Int?, section: ELFFile.Section) -> String {
        guard let index else {
            let delta = address >= section.address ? "+0x" + String(address - section.address, radix: 16)
                                                   : "-0x" + String(section.address - address, radix: 16)
            return "<\(section.name)\(address == section.address ? "" : delta)>"
        }
        let symbol = symbols[index]
        if symbol.value == address { return "<\(symbol.name)>" }
        return symbol.value < address ? "<\(symbol.name)+0x\(String(address - symbol.value, radix: 16))>"
                                      : "<\(symbol.name)-0x\(String(symbol.value - address, radix: 16))>"
    }

    private func symbolize(_ address: UInt64, in section: ELFFile.Section) -> String {
        String(address, radix: 16) + " " + describe(address, symbol: symbol(for: address, in: section.name), section: section)
    }

    private var executableSections: [ELFFile.Section] {
        elf.sections.filter { $0.isExecutable && $0.hasContents && $0.size > 0 }
    }

    mutating func listAll(into output: inout String) {
        for section in executableSections {
            output += "\nDisassembly of section \(section.name):\n"
            list(section, from: section.address, to: section.address + section.size, into: &output)
        }
    }

    /// Lists [start, end) with objdump's labels; false when no executable section holds `start`.
    private func section(containing address: UInt64) -> ELFFile.Section? {
        executableSections.first { address >= $0.address && address < $0.address + $0.size }
    }

    mutating func list(from start: UInt64, to end: UInt64, into output: inout String) -> Bool {
        guard let section = section(containing: start) else { return false }
        list(section, from: start, to: min(end, section.address + section.size), into: &output)
        return true
    }

    /// Lists `count` instructions from `start`, under the label of the symbol that holds it.
    mutating func list(from start: UInt64, instructions count: Int, into output: inout String) -> Bool {
        guard let section = section(containing: start) else { return false }
        sortSymbols(for: section.name)
        output += "\n\(hexDigits(start, width: 16)) \(describe(start, symbol: symbol(for: start, in: section.name), section: section)):\n"
        var address = start
        for _ in 0..<count where address < section.address + section.size {
            address += instructionLine(at: address, in: section, width: addressWidth(section), into: &output)
        }
        return true
    }

    /// objdump's disassemble_section: blocks between consecutive symbols, each under a label.
    private mutating func list(_ section: ELFFile.Section, from start: UInt64, to end: UInt64, into output: inout String) {
        sortSymbols(for: section.name)
        let width = addressWidth(section)
        var address = start
        var current = symbol(for: start, in: section.name, requireSection: true)
        while address < end {
            output += "\n\(hexDigits(address, width: 16)) \(describe(address, symbol: current, section: section)):\n"
            var next: Int? = nil
            if let index = current, symbols[index].value > address {
                next = index
            } else if let index = current {
                next = (index..<symbols.count).first {
                    symbols[$0].sectionName == section.name && symbols[$0].value > symbols[index].value && symbols[$0].isValid
                }
            }
            var stop = next.map { symbols[$0].value } ?? end
            if stop > end || stop <= address { stop = end }
            listBlock(section, from: address, to: stop, width: width, into: &output)
            address = stop
            current = next
        }
    }

    /// objdump prints addresses without the leading zeros every address of the section shares, in groups of four.
    private func addressWidth(_ section: ELFFile.Section) -> Int {
        let digits = hexDigits(section.address + section.size, width: 16)
        var zeros = digits.prefix { $0 == "0" }.count
        if zeros == 16 && section.address != 0 { zeros = 0 }
        return 16 - (zeros == 0 ? 0 : (zeros - 1) & ~3)
    }

    private func bytes(at address: UInt64, count: Int, in section: ELFFile.Section) -> [UInt8] {
        let offset = Int(section.fileOffset + (address - section.address))
        let available = Int(section.address + section.size - address)
        return Array(elf.bytes[offset..<offset + max(0, min(count, available))])
    }

    /// objdump's disassemble_bytes: instructions, with runs of zero bytes shown as `...`.
    private mutating func listBlock(_ section: ELFFile.Section, from start: UInt64, to stop: UInt64, width: Int, into output: inout String) {
        var address = start
        while address < stop {
            let rest = bytes(at: address, count: Int(stop - address), in: section)
            let zeros = rest.prefix { $0 == 0 }.count
            if zeros >= 8 || (zeros == rest.count && zeros < 3) {
                // With more code to follow, skip only whole words so an instruction that starts with zeros survives.
                address += UInt64(zeros == rest.count ? zeros : zeros & ~3)
                output += "\t...\n"
                continue
            }
            address += instructionLine(at: address, in: section, width: width, into: &output)
        }
    }

    /// One line `   10438:\t7131                \tadd\tsp,sp,-192`; returns the instruction's size.
    private mutating func instructionLine(at address: UInt64, in section: ELFFile.Section, width: Int, into output: inout String) -> UInt64 {
        let raw = bytes(at: address, count: 4, in: section)
        let first = UInt16(raw[0]) | UInt16(raw.count > 1 ? raw[1] : 0) << 8
        let size = instructionLength(firstParcel: first) == 2 || raw.count < 4 ? 2 : 4
        let word = raw.prefix(size).enumerated().reduce(UInt32(0)) { $0 | UInt32($1.element) << (8 * $1.offset) }
        var text: String
        if let instruction = Decoder.decode(word), instruction.size == size {
            let assembly = instruction.assembly(at: address, aliases: aliases)
            text = assembly.text { symbolize($0, in: section) }
            if let target = tracker.annotation(for: instruction, assembly, at: address) {
                text += " # " + symbolize(target, in: section)
            }
        } else if size == 2 && word == 0 {
            text = aliases ? "unimp" : "c.unimp"
        } else {
            text = ".\(size)byte\t0x" + String(word, radix: 16)
        }
        let location = String(hexDigits(address, width: 16).suffix(width))
        let padded = String(repeating: " ", count: location.prefix { $0 == "0" }.count) + location.drop { $0 == "0" }
        let chunk = hexDigits(UInt64(word), width: size * 2)
        let columns = chunk + String(repeating: " ", count: 1 + (8 - size) / size * (2 * size + 1))
        output += "\(padded.isEmpty ? "0" : padded):\t\(columns)\t\(text)\n"
        return UInt64(size)
    }
}

import Foundation
import RISCV
import Testing
import TestSupport

/// `pagelift disasm` against riscv64-linux-gnu-objdump -d, line by line.
@Suite struct DisassemblyTests {
    static let modes: [[String]] = [[], ["-M", "no-aliases"]]

    /// Every line objdump prints for the whole code of static glibc programs (C and C++),
    /// including labels, `...` runs, raw bytes, symbolized targets and `# address` comments.
    @Test(arguments: ["libm", "classes"], modes)
    func wholeProgramsMatchObjdump(program: String, mode: [String]) throws {
        let binary = try InspectionTests.binary(program)
        try expectSameListing(binary, mode: mode)
    }

    /// Random encodings of every instruction PageLift decodes (operands, rounding modes, ordering
    /// bits, CSRs, shift amounts, compressed forms), with lui/auipc in the mix so objdump's
    /// address tracking is exercised, assembled into one program for the Zba/Zbb/Zbs architecture.
    @Test(arguments: modes)
    func randomEncodingsMatchObjdump(mode: [String]) throws {
        var random = SplitMix(state: 0x0b1d_0a5e)
        var words: [UInt32] = []
        for opcode in Opcode.allCases {
            guard let template = Decoder.encodingTemplate(for: opcode) else { continue }
            var accepted = 0
            while accepted < 40 {
                var word = template.match | (UInt32(truncatingIfNeeded: random.next()) & ~template.mask)
                word = Self.representable(word, opcode: opcode, random: &random)
                guard let decoded = Decoder.decode(word), decoded.opcode == opcode, decoded.size == 4 else { continue }
                words.append(word)
                accepted += 1
            }
        }
        var parcels = 0
        while parcels < 3000 {
            let parcel = UInt32(UInt16(truncatingIfNeeded: random.next()))
            guard let decoded = Decoder.decode(parcel), decoded.size == 2, !Self.isHint(decoded) else { continue }
            words.append(parcel)
            parcels += 1
        }
        for index in words.indices.reversed() where random.next() % 3 == 0 { words.swapAt(index, Int(random.next() % UInt64(index + 1))) }

        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pagelift-disasm-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let source = directory.appendingPathComponent("random.s"), object = directory.appendingPathComponent("random.o")
        let binary = directory.appendingPathComponent("random")
        let lines = words.map { ".insn 0x" + String($0, radix: 16) }
        try (".globl _start\n_start:\n" + lines.joined(separator: "\n") + "\n").write(to: source, atomically: true, encoding: .utf8)
        for command in [["riscv64-linux-gnu-as", "-march=rv64gc_zba_zbb_zbs", "-o", object.path, source.path],
                        ["riscv64-linux-gnu-ld", "-o", binary.path, object.path]] {
            let built = try Execution.run(["/usr/bin/env"] + command)
            try #require(built.status == 0, "\(command[0]): \(built.standardError)")
        }
        try expectSameListing(binary, mode: mode)
    }

    /// Fields objdump 2.40 spells differently for reasons that are not about the instruction:
    /// privileged CSRs it names, fence encodings it leaves as data, rm on exact conversions.
    static func representable(_ word: UInt32, opcode: Opcode, random: inout SplitMix) -> UInt32 {
        var word = word
        switch opcode {
        case .csrrw, .csrrs, .csrrc, .csrrwi, .csrrsi, .csrrci:
            let csrs: [UInt32] = [0x001, 0x002, 0x003, 0xc00, 0xc01, 0xc02, 0xc03, 0xc1f, 0x7c0, 0x8ff]
            word = word & 0x000f_ffff | csrs[Int(random.next() % UInt64(csrs.count))] << 20
        case .fence:
            word &= 0x0ff0_007f
            if random.next() % 8 == 0 { word = 0x8330_000f }
        case .fcvt_d_w, .fcvt_d_wu, .fcvt_d_s: word &= ~(0b111 << 12)
        default: break
        }
        return word
    }

    /// Compressed HINT encodings (rd = x0, zero shift amounts): objdump names them differently.
    static func isHint(_ instruction: Instruction) -> Bool {
        switch instruction.compressedName {
        case "c.li", "c.lui", "c.mv", "c.add": return instruction.rd == 0
        case "c.addi": return instruction.rd == 0 && instruction.imm != 0
        case "c.slli", "c.srli", "c.srai": return instruction.rd == 0 || instruction.imm == 0
        default: return false
        }
    }

    func expectSameListing(_ binary: URL, mode: [String]) throws {
        let expected = try Execution.run(["/usr/bin/env", "riscv64-linux-gnu-objdump", "-d"] + mode + [binary.path])
        let actual = try Execution.run([Tools.pagelift, "disasm"] + mode + [binary.path])
        try #require(expected.status == 0 && actual.status == 0, "\(expected.standardError)\(actual.standardError)")
        let want = expected.standardOutput.split(separator: "\n", omittingEmptySubsequences: false)
        let got = actual.standardOutput.split(separator: "\n", omittingEmptySubsequences: false)
        let instructionLines = want.filter { $0.hasPrefix(" ") && $0.contains(":\t") }.count
        var differences: [String] = []
        for index in 0..<max(want.count, got.count) {
            let a = index < want.count ? String(want[index]) : "<none>", b = index < got.count ? String(got[index]) : "<none>"
            if a != b { differences.append("line \(index + 1):\n  objdump:  \(a)\n  pagelift: \(b)") }
        }
        #expect(instructionLines > 1000)
        #expect(differences.isEmpty, "\(differences.count) of \(want.count) lines differ (\(instructionLines) instructions):\n\(differences.prefix(8).joined(separator: "\n"))")
    }
}

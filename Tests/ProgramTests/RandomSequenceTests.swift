import Foundation
import RISCV
import Testing

/// Random instruction sequences (see `SequenceGenerator`), each program run under qemu-riscv64
/// and under pagelift at -O0 and at -O2 without tiering (so LLVM optimizes code whose inputs
/// are all constants). The full register file and fcsr (rounding mode and the accrued exception
/// flags, which CSR instructions in the sequences also read, set and clear) must match after every sequence.
/// PAGELIFT_GENERATED_PROGRAMS raises the number of programs (of 200 sequences each).
@Suite struct RandomSequenceTests {
    static let sequencesPerProgram = 200
    static let programCount = Int(ProcessInfo.processInfo.environment["PAGELIFT_GENERATED_PROGRAMS"] ?? "") ?? 10

    struct Program: Sendable, CustomTestStringConvertible {
        let seed: UInt64
        var testDescription: String { "seed \(seed)" }
    }

    static var programs: [Program] { (0..<UInt64(programCount)).map { Program(seed: 1000 + $0) } }

    @Test(arguments: programs, [["-O0", "--no-cache"], ["-O2", "--no-tiering", "--no-cache"]])
    func registersMatchQemu(program: Program, mode: [String]) throws {
        try compare(program, mode: mode)
    }

    /// Optimized tier-up code, which assumes round-to-nearest-even and hands other modes (the
    /// sequences set frm) to the first compilation: every region promoted at its first
    /// execution, on the guest's thread. Fewer programs: each region compiles twice.
    @Test(arguments: programs.prefix(2))
    func optimizedTierMatchesQemu(program: Program) throws {
        try compare(program, mode: ["-O2", "--tier-threshold", "1", "--sync-tier-up", "--no-cache"], binaryName: "seq-tier-\(program.seed)")
    }

    /// `binaryName`: tests running at the same time must not assemble into the same file.
    private func compare(_ program: Program, mode: [String], binaryName: String? = nil) throws {
        var generator = SequenceGenerator(seed: program.seed)
        var label = 0
        let sequences = (0..<Self.sequencesPerProgram).map { _ in generator.sequence(length: 12, label: &label) }
        let binary = try assemble(SequenceGenerator.program(sequences), name: binaryName ?? "seq-\(program.seed)")
        let expected = try Execution.run([Tools.qemu, binary.path])
        let actual = try Execution.run([Tools.pagelift] + mode + [binary.path])
        try #require(expected.status == 0, "qemu failed: \(expected.standardError)")
        #expect(actual.status == 0, "pagelift failed: \(actual.standardError)")
        try #require(expected.output.count == Self.sequencesPerProgram * SequenceGenerator.dumpSize)
        var reported = 0
        for (index, sequence) in sequences.enumerated() {
            let range = index * SequenceGenerator.dumpSize..<(index + 1) * SequenceGenerator.dumpSize
            guard actual.output.count >= range.upperBound else {
                Issue.record("output ends before sequence \(index)")
                break
            }
            let differences = Self.differences(Array(expected.output[range]), Array(actual.output[range]))
            if !differences.isEmpty && reported < 20 {
                reported += 1
                Issue.record("""
                    sequence \(index) of seed \(program.seed) differs (\(mode.joined(separator: " "))):
                    \(differences.joined(separator: "\n"))
                    body:
                    \(sequence.body.joined(separator: "\n"))
                    """)
            }
        }
    }

    /// The word count instructions at their corners, against the values the Zbb specification
    /// defines (qemu 7.2 gets ctzw wrong when the low word is zero and high bits are set).
    @Test func countInstructionsFollowTheSpecification() throws {
        let cases: [(String, UInt64, UInt64)] = [
            ("ctzw", 0x8000_0000_0000_0000, 32), ("ctzw", 0x1_0000_0000, 32), ("ctzw", 0, 32), ("ctzw", 8, 3),
            ("ctzw", 0xffff_ffff_8000_0000, 31), ("clzw", 0xffff_ffff_0000_0001, 31), ("clzw", 0, 32),
            ("clzw", 0x8000_0000, 0), ("cpopw", 0xffff_ffff_0000_0003, 2), ("ctz", 0, 64), ("clz", 1, 63),
        ]
        var lines = [".option norelax", ".globl _start", "_start:", "lla s11, buffer"]
        for (index, (mnemonic, input, _)) in cases.enumerated() {
            lines += ["li t0, \(Int64(bitPattern: input))", "\(mnemonic) t1, t0", "sd t1, \(index * 8)(s11)"]
        }
        lines += ["li a0, 1", "mv a1, s11", "li a2, \(cases.count * 8)", "li a7, 64", "ecall",
                  "li a0, 0", "li a7, 93", "ecall", ".bss", "buffer: .space \(cases.count * 8)"]
        // Also linked as static-pie (ET_DYN without an interpreter), for the loader's relocated path.
        let text = lines.joined(separator: "\n") + "\n"
        let binaries = [try assemble(text, name: "count-corners"),
                        try assemble(text, name: "count-corners-pie", flags: ["-static-pie", "-Wl,--no-dynamic-linker"])]
        for binary in binaries {
            for mode in [["-O0", "--no-cache"], ["-O2", "--no-tiering", "--no-cache"]] {
                let result = try Execution.run([Tools.pagelift] + mode + [binary.path])
                try #require(result.output.count == cases.count * 8)
                for (index, (mnemonic, input, expected)) in cases.enumerated() {
                    let value = (0..<8).reduce(UInt64(0)) { $0 | UInt64(result.output[index * 8 + $1]) << UInt64(8 * $1) }
                    #expect(value == expected, "\(mnemonic) 0x\(String(input, radix: 16)) (\(binary.lastPathComponent) \(mode.joined(separator: " ")))")
                }
            }
        }
    }

    /// Setting or clearing fflags bits keeps the flags the host accrued since fcsr was last read
    /// (found by seed 1039: flt.s on an improperly boxed single raised invalid, then
    /// `csrrs zero, fflags, sp` without it dropped it). Each case: an operation raising a flag,
    /// a set or clear of other bits without reading the old value, then fflags.
    @Test func settingOrClearingFlagsKeepsAccruedOnes() throws {
        let cases = [
            ["li t0, 1", "fmv.d.x ft0, t0", "flt.s t1, ft0, ft0", "li t2, 1", "csrrs zero, fflags, t2"],
            ["li t0, 1", "fmv.d.x ft0, t0", "flt.s t1, ft0, ft0", "csrrsi zero, fflags, 4"],
            ["fcvt.d.w ft0, zero", "fdiv.d ft1, ft0, ft0", "csrrci zero, fflags, 1"],
            ["li t0, 3", "fcvt.d.w ft0, t0", "li t0, 1", "fcvt.d.w ft1, t0", "fdiv.d ft2, ft1, ft0", "li t2, 1", "csrrc zero, fflags, t2"],
        ]
        var lines = [".option norelax", ".globl _start", "_start:", "lla s11, buffer"]
        for (index, body) in cases.enumerated() {
            lines += ["csrwi fflags, 0"] + body + ["frflags t3", "sd t3, \(index * 8)(s11)"]
        }
        lines += ["li a0, 1", "mv a1, s11", "li a2, \(cases.count * 8)", "li a7, 64", "ecall",
                  "li a0, 0", "li a7, 93", "ecall", ".bss", "buffer: .space \(cases.count * 8)"]
        let binary = try assemble(lines.joined(separator: "\n") + "\n", name: "flags-kept")
        let expected = try Execution.run([Tools.qemu, binary.path])
        try #require(expected.status == 0 && expected.output.count == cases.count * 8)
        for mode in [["-O0", "--no-cache"], ["-O2", "--no-tiering", "--no-cache"]] {
            let result = try Execution.run([Tools.pagelift] + mode + [binary.path])
            #expect(result.output == expected.output, "\(mode.joined(separator: " ")): qemu \(Array(expected.output)) pagelift \(Array(result.output))")
        }
    }

    /// "a0: qemu 0x.. pagelift 0x.." lines for each register (and fcsr, flags included) that differs.
    static func differences(_ expected: [UInt8], _ actual: [UInt8]) -> [String] {
        func word(_ bytes: [UInt8], _ index: Int) -> UInt64 {
            (0..<8).reduce(UInt64(0)) { $0 | UInt64(bytes[index * 8 + $1]) << UInt64(8 * $1) }
        }
        let names = integerRegisterNames.dropFirst() + floatRegisterNames + ["fcsr"]
        return names.enumerated().compactMap { index, name in
            let (a, b) = (word(expected, index), word(actual, index))
            return a == b ? nil : "\(name): qemu 0x\(String(a, radix: 16)) pagelift 0x\(String(b, radix: 16))"
        }
    }

    func assemble(_ text: String, name: String, flags: [String] = ["-static"]) throws -> URL {
        let directory = GuestProgram.packageRoot.appendingPathComponent(".build/generated")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let source = directory.appendingPathComponent("\(name).S"), binary = directory.appendingPathComponent(name)
        try text.write(to: source, atomically: true, encoding: .utf8)
        let result = try Execution.run(["/usr/bin/env", "riscv64-linux-gnu-gcc", "-nostdlib"] + flags + ["-march=rv64gc_zba_zbb_zbs",
                                        "-o", binary.path, source.path])
        guard result.status == 0 else { throw HarnessError("assembling \(name) failed:\n\(result.standardError.prefix(3000))") }
        return binary
    }
}

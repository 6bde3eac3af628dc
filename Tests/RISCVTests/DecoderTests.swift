import Foundation
import RISCV
import Testing

@Suite struct DecoderTests {
    @Test func decodesBaseInstructions() throws {
        let addi = try #require(Decoder.decode(0x0015_0513))          // addi a0,a0,1
        #expect(addi.opcode == .addi && addi.rd == 10 && addi.rs1 == 10 && addi.imm == 1 && addi.size == 4)
        let lui = try #require(Decoder.decode(0xfffff_537))            // lui a0,0xfffff
        #expect(lui.opcode == .lui && lui.imm == -4096)
        let jal = try #require(Decoder.decode(0xff5f_f0ef))            // jal ra,-12
        #expect(jal.opcode == .jal && jal.rd == 1 && jal.imm == -12)
        let beq = try #require(Decoder.decode(0xfe05_0ee3))            // beq a0,zero,-4
        #expect(beq.opcode == .beq && beq.rs1 == 10 && beq.rs2 == 0 && beq.imm == -4)
        let sd = try #require(Decoder.decode(0xfe11_3c23))             // sd ra,-8(sp)
        #expect(sd.opcode == .sd && sd.rs1 == 2 && sd.rs2 == 1 && sd.imm == -8)
        let srai = try #require(Decoder.decode(0x43f5_5513))           // srai a0,a0,63
        #expect(srai.opcode == .srai && srai.imm == 63)
        #expect(Decoder.decode(0x0000_0073)?.opcode == .ecall)
        #expect(Decoder.decode(0x0010_0073)?.opcode == .ebreak)
        let fmadd = try #require(Decoder.decode(0x62b5_7543))          // fmadd.d fa0,fa0,fa1,fa2,dyn... rm=7
        #expect(fmadd.opcode == .fmadd_d && fmadd.rs3 == 12 && fmadd.roundingMode == 7)
        let amo = try #require(Decoder.decode(0x06b5_302f))            // amoadd.d.aqrl zero,a1,(a0)
        #expect(amo.opcode == .amoadd_d && amo.text(at: 0) == "amoadd.d.aqrl\tzero,a1,(a0)")
        #expect(amo.acquires && amo.releases)
        let fence = try #require(Decoder.decode(0x0230_000f))          // fence r,rw
        #expect(fence.text(at: 0) == "fence\tr,rw" && !fence.isTotalStoreOrderFence && !fence.acquires)
        let tso = try #require(Decoder.decode(0x8330_000f))
        #expect(tso.isTotalStoreOrderFence && tso.text(at: 0) == "fence.tso")
    }

    @Test func expandsCompressedInstructions() throws {
        let addi16 = try #require(Decoder.decode(0x1141))            // c.addi sp,-16
        #expect(addi16.opcode == .addi && addi16.rd == 2 && addi16.rs1 == 2 && addi16.imm == -16 && addi16.size == 2)
        let sdsp = try #require(Decoder.decode(0xe406))              // c.sdsp ra,8(sp)
        #expect(sdsp.opcode == .sd && sdsp.rs2 == 1 && sdsp.rs1 == 2 && sdsp.imm == 8)
        let ret = try #require(Decoder.decode(0x8082))               // c.jr ra
        #expect(ret.opcode == .jalr && ret.rd == 0 && ret.rs1 == 1 && ret.compressedName == "c.jr")
        let li = try #require(Decoder.decode(0x557d))                // c.li a0,-1
        #expect(li.opcode == .addi && li.rd == 10 && li.rs1 == 0 && li.imm == -1)
        let spAdjust = try #require(Decoder.decode(0x7139))          // c.addi16sp sp,-64
        #expect(spAdjust.opcode == .addi && spAdjust.imm == -64 && spAdjust.compressedName == "c.addi16sp")
        let load = try #require(Decoder.decode(0x6518))              // c.ld a4,8(a0)
        #expect(load.opcode == .ld && load.rd == 14 && load.rs1 == 10 && load.imm == 8)
    }

    /// The return-address-stack hints of the unprivileged spec's jalr table.
    @Test func jumpLinkageFollowsTheHints() throws {
        let cases: [(UInt32, JumpLinkage, String)] = [
            (0x0000_00ef, .call, "jal ra,0"), (0x0000_02ef, .call, "jal t0,0"), (0x0000_006f, .jump, "j 0"),
            (0x0000_056f, .jump, "jal a0,0"), (0x0000_8067, .return, "ret"), (0x0002_8067, .return, "jr t0"),
            (0x0007_80e7, .call, "jalr a5"), (0x0007_8067, .jump, "jr a5"), (0x0000_80e7, .call, "jalr ra,0(ra)"),
            (0x0000_82e7, .jump, "jalr t0,0(ra): pop, then push"), (0x0000_0513, .jump, "addi"),
        ]
        for (bits, expected, text) in cases {
            let instruction = try #require(Decoder.decode(bits), "\(text)")
            #expect(instruction.linkage == expected, "\(text)")
        }
    }

    @Test func rejectsIllegalEncodings() {
        #expect(Decoder.decode(0x0000) == nil)              // the all-zero parcel is defined illegal
        #expect(Decoder.decode(0xffff_ffff) == nil)
        #expect(Decoder.decode(0x0000_007f) == nil)         // 64-bit encoding space
        #expect(Decoder.decode(0x6101) == nil)              // c.addi16sp with a zero immediate is reserved
    }

    @Test func lengthsFollowTheLowBits() {
        #expect(instructionLength(firstParcel: 0x4501) == 2)
        #expect(instructionLength(firstParcel: 0x0513) == 4)
        #expect(instructionLength(firstParcel: 0x001f) == 0)
    }

    /// Every instruction of a static glibc program decodes to the mnemonic objdump prints
    /// (with -M no-aliases, so compressed forms keep their c. names).
    @Test func agreesWithObjdumpOnAStaticBinary() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        let source = root.appendingPathComponent("ProgramTests/Programs/libm.c")
        let binary = FileManager.default.temporaryDirectory.appendingPathComponent("pagelift-decoder-\(getpid())")
        defer { try? FileManager.default.removeItem(at: binary) }
        try run(["riscv64-linux-gnu-gcc", "-O2", "-static", "-o", binary.path, source.path, "-lm"])
        let listing = try run(["riscv64-linux-gnu-objdump", "-d", "-M", "no-aliases", "-j", ".text", binary.path])
        var checked = 0
        var mismatches: [String] = []
        for line in listing.split(separator: "\n") {
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false)
            guard fields.count >= 3, fields[0].hasSuffix(":"), fields[0].hasPrefix(" ") else { continue }
            let hex = fields[1].trimmingCharacters(in: .whitespaces)
            guard let bits = UInt32(hex, radix: 16) else { continue }
            let expected = fields[2].trimmingCharacters(in: .whitespaces)
            if expected.hasPrefix(".") || expected == "unimp" || expected == "c.unimp" { continue }
            let instruction = Decoder.decode(bits)
            let mnemonic = instruction.map { $0.assembly(at: 0, aliases: false).mnemonic }
            checked += 1
            if mnemonic != expected { mismatches.append("\(line) -> \(mnemonic ?? "illegal")") }
        }
        #expect(checked > 50_000)
        #expect(mismatches.isEmpty, "\(mismatches.count) of \(checked) differ, first: \(mismatches.prefix(10).joined(separator: "\n"))")
    }

    @discardableResult
    private func run(_ command: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = command
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        try #require(process.terminationStatus == 0, "\(command[0]) failed")
        return String(decoding: data, as: UTF8.self)
    }
}

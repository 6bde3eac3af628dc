/// The C extension (RV64): each 16-bit form expands to the base instruction it
/// stands for. Immediates are written as in the manual: `scatter(bits, from: 12,
/// to: [5, 4, 3])` says instruction bits 12, 11, 10 hold immediate bits 5, 4, 3.
enum Compressed {
    private static func scatter(_ bits: UInt32, from high: Int, to targets: [Int]) -> UInt32 {
        var value: UInt32 = 0
        for (index, target) in targets.enumerated() {
            value |= ((bits >> UInt32(high - index)) & 1) << UInt32(target)
        }
        return value
    }

    /// x8..x15, the registers the 3-bit fields name.
    private static func prime(_ bits: UInt32, _ low: Int) -> Int { Int(field(bits, low + 2, low)) + 8 }

    static func expand(_ parcel: UInt16) -> Instruction? {
        let c = UInt32(parcel)
        let funct3 = field(c, 15, 13)
        let rdFull = Int(field(c, 11, 7)), rs2Full = Int(field(c, 6, 2))
        let imm6 = signExtend(field(c, 12, 12) << 5 | field(c, 6, 2), bits: 6)
        let uimm6 = Int64(field(c, 12, 12) << 5 | field(c, 6, 2))

        func make(_ name: String, _ opcode: Opcode, rd: Int = 0, rs1: Int = 0, rs2: Int = 0, imm: Int64 = 0) -> Instruction {
            Instruction(opcode: opcode, rd: rd, rs1: rs1, rs2: rs2, imm: imm, funct3: 0, size: 2, bits: c, compressedName: name)
        }

        // Offsets of the register-based loads and stores (quadrant 0).
        let wordOffset = Int64(scatter(c, from: 12, to: [5, 4, 3]) | scatter(c, from: 6, to: [2, 6]))
        let doubleOffset = Int64(scatter(c, from: 12, to: [5, 4, 3]) | scatter(c, from: 6, to: [7, 6]))

        switch (c & 0b11, funct3) {
        case (0b00, 0b000):
            let imm = Int64(scatter(c, from: 12, to: [5, 4, 9, 8, 7, 6, 2, 3]))
            guard imm != 0 else { return nil }       // includes the all-zero parcel
            return make("c.addi4spn", .addi, rd: prime(c, 2), rs1: 2, imm: imm)
        case (0b00, 0b001): return make("c.fld", .fld, rd: prime(c, 2), rs1: prime(c, 7), imm: doubleOffset)
        case (0b00, 0b010): return make("c.lw", .lw, rd: prime(c, 2), rs1: prime(c, 7), imm: wordOffset)
        case (0b00, 0b011): return make("c.ld", .ld, rd: prime(c, 2), rs1: prime(c, 7), imm: doubleOffset)
        case (0b00, 0b101): return make("c.fsd", .fsd, rs1: prime(c, 7), rs2: prime(c, 2), imm: doubleOffset)
        case (0b00, 0b110): return make("c.sw", .sw, rs1: prime(c, 7), rs2: prime(c, 2), imm: wordOffset)
        case (0b00, 0b111): return make("c.sd", .sd, rs1: prime(c, 7), rs2: prime(c, 2), imm: doubleOffset)

        case (0b01, 0b000):
            return make("c.addi", .addi, rd: rdFull, rs1: rdFull, imm: imm6)
        case (0b01, 0b001):
            guard rdFull != 0 else { return nil }
            return make("c.addiw", .addiw, rd: rdFull, rs1: rdFull, imm: imm6)
        case (0b01, 0b010): return make("c.li", .addi, rd: rdFull, rs1: 0, imm: imm6)
        case (0b01, 0b011):
            if rdFull == 2 {
                let imm = signExtend(scatter(c, from: 12, to: [9]) | scatter(c, from: 6, to: [4, 6, 8, 7, 5]), bits: 10)
                guard imm != 0 else { return nil }
                return make("c.addi16sp", .addi, rd: 2, rs1: 2, imm: imm)
            }
            guard imm6 != 0 else { return nil }
            return make("c.lui", .lui, rd: rdFull, imm: imm6 << 12)
        case (0b01, 0b100):
            let rd = prime(c, 7), rs2 = prime(c, 2)
            switch field(c, 11, 10) {
            case 0b00: return make("c.srli", .srli, rd: rd, rs1: rd, imm: uimm6)
            case 0b01: return make("c.srai", .srai, rd: rd, rs1: rd, imm: uimm6)
            case 0b10: return make("c.andi", .andi, rd: rd, rs1: rd, imm: imm6)
            default:
                let ops: [(String, Opcode)?] = field(c, 12, 12) == 0
                    ? [("c.sub", .sub), ("c.xor", .xor), ("c.or", .or), ("c.and", .and)]
                    : [("c.subw", .subw), ("c.addw", .addw), nil, nil]
                guard let (name, opcode) = ops[Int(field(c, 6, 5))] else { return nil }
                return make(name, opcode, rd: rd, rs1: rd, rs2: rs2)
            }
        case (0b01, 0b101):
            let imm = signExtend(scatter(c, from: 12, to: [11, 4, 9, 8, 10, 6, 7, 3, 2, 1, 5]), bits: 12)
            return make("c.j", .jal, rd: 0, imm: imm)
        case (0b01, 0b110), (0b01, 0b111):
            let imm = signExtend(scatter(c, from: 12, to: [8, 4, 3]) | scatter(c, from: 6, to: [7, 6, 2, 1, 5]), bits: 9)
            return funct3 == 0b110 ? make("c.beqz", .beq, rs1: prime(c, 7), rs2: 0, imm: imm)
                                   : make("c.bnez", .bne, rs1: prime(c, 7), rs2: 0, imm: imm)

        case (0b10, 0b000): return make("c.slli", .slli, rd: rdFull, rs1: rdFull, imm: uimm6)
        case (0b10, 0b001):
            let imm = Int64(scatter(c, from: 12, to: [5]) | scatter(c, from: 6, to: [4, 3, 8, 7, 6]))
            return make("c.fldsp", .fld, rd: rdFull, rs1: 2, imm: imm)
        case (0b10, 0b010):
            guard rdFull != 0 else { return nil }
            let imm = Int64(scatter(c, from: 12, to: [5]) | scatter(c, from: 6, to: [4, 3, 2, 7, 6]))
            return make("c.lwsp", .lw, rd: rdFull, rs1: 2, imm: imm)
        case (0b10, 0b011):
            guard rdFull != 0 else { return nil }
            let imm = Int64(scatter(c, from: 12, to: [5]) | scatter(c, from: 6, to: [4, 3, 8, 7, 6]))
            return make("c.ldsp", .ld, rd: rdFull, rs1: 2, imm: imm)
        case (0b10, 0b100):
            if field(c, 12, 12) == 0 {
                if rs2Full == 0 {
                    guard rdFull != 0 else { return nil }
                    return make("c.jr", .jalr, rd: 0, rs1: rdFull)
                }
                return make("c.mv", .add, rd: rdFull, rs1: 0, rs2: rs2Full)
            }
            if rdFull == 0 && rs2Full == 0 { return make("c.ebreak", .ebreak) }
            if rs2Full == 0 { return make("c.jalr", .jalr, rd: 1, rs1: rdFull) }
            return make("c.add", .add, rd: rdFull, rs1: rdFull, rs2: rs2Full)
        case (0b10, 0b101):
            let imm = Int64(scatter(c, from: 12, to: [5, 4, 3, 8, 7, 6]))
            return make("c.fsdsp", .fsd, rs1: 2, rs2: rs2Full, imm: imm)
        case (0b10, 0b110):
            let imm = Int64(scatter(c, from: 12, to: [5, 4, 3, 2, 7, 6]))
            return make("c.swsp", .sw, rs1: 2, rs2: rs2Full, imm: imm)
        case (0b10, 0b111):
            let imm = Int64(scatter(c, from: 12, to: [5, 4, 3, 8, 7, 6]))
            return make("c.sdsp", .sd, rs1: 2, rs2: rs2Full, imm: imm)
        default:
            return nil
        }
    }
}

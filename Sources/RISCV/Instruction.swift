/// One decoded instruction. Compressed instructions are expanded to their base
/// equivalent; `size` (2 or 4) and `compressedName` remember where they came from.
public struct Instruction: Equatable, Sendable {
    public var opcode: Opcode
    public var rd: Int = 0
    public var rs1: Int = 0
    public var rs2: Int = 0
    public var rs3: Int = 0
    /// Immediate, already sign-extended (CSR number for Zicsr, pred/succ for fence).
    public var imm: Int64 = 0
    /// funct3: the rounding mode of floating-point instructions.
    public var funct3: Int = 0
    public var size: Int = 4
    /// The raw encoding (16 bits for compressed instructions).
    public var bits: UInt32 = 0
    /// `c.addi`, `c.lwsp`, ... for compressed instructions.
    public var compressedName: String? = nil

    public init(opcode: Opcode, rd: Int = 0, rs1: Int = 0, rs2: Int = 0, rs3: Int = 0, imm: Int64 = 0,
                funct3: Int = 0, size: Int = 4, bits: UInt32 = 0, compressedName: String? = nil) {
        self.opcode = opcode; self.rd = rd; self.rs1 = rs1; self.rs2 = rs2; self.rs3 = rs3
        self.imm = imm; self.funct3 = funct3; self.size = size; self.bits = bits
        self.compressedName = compressedName
    }

    public var operands: [Operand] { operandsByOpcode[opcode] ?? [] }

    /// The floating-point rounding mode field; 7 means "dynamic" (use frm).
    public var roundingMode: Int { funct3 }

    /// An atomic's aq bit: no later memory operation may be observed before it.
    public var acquires: Bool { opcode.isAtomic && bits & (1 << 26) != 0 }
    /// An atomic's rl bit: it may not be observed before any earlier memory operation.
    public var releases: Bool { opcode.isAtomic && bits & (1 << 25) != 0 }
    /// `fence.tso` (fm = 1000): orders everything but earlier stores before later loads.
    public var isTotalStoreOrderFence: Bool { opcode == .fence && bits >> 28 == 0b1000 }
}

/// Length in bytes of the instruction whose first 16-bit parcel is `parcel`.
/// RV64GC has only 16- and 32-bit instructions; longer encodings are reported as 0 (illegal).
public func instructionLength(firstParcel parcel: UInt16) -> Int {
    if parcel & 0b11 != 0b11 { return 2 }
    if parcel & 0b11100 != 0b11100 { return 4 }
    return 0
}

@inline(__always) func field(_ bits: UInt32, _ high: Int, _ low: Int) -> UInt32 {
    (bits >> UInt32(low)) & ((1 << UInt32(high - low + 1)) - 1)
}

@inline(__always) func signExtend(_ value: UInt32, bits: Int) -> Int64 {
    let shift = 64 - bits
    return (Int64(value) << Int64(shift)) >> Int64(shift)
}

public enum Decoder {
    /// Decodes the instruction whose encoding starts in the low bits of `bits`.
    /// Returns nil for anything that is not a legal RV64GC encoding.
    public static func decode(_ bits: UInt32) -> Instruction? {
        if bits & 0b11 != 0b11 { return Compressed.expand(UInt16(truncatingIfNeeded: bits)) }
        guard bits & 0b11100 != 0b11100 else { return nil }
        for row in encodingBuckets[Int(bits & 0x7f)] where bits & row.mask == row.match {
            // Rounding modes 5 and 6 are reserved: such an encoding is an illegal instruction.
            if row.operands.contains(.roundingMode), case 5...6 = field(bits, 14, 12) { return nil }
            return make(row, bits)
        }
        return nil
    }

    private static func make(_ row: EncodingRow, _ bits: UInt32) -> Instruction {
        var inst = Instruction(opcode: row.opcode,
                               rd: Int(field(bits, 11, 7)), rs1: Int(field(bits, 19, 15)),
                               rs2: Int(field(bits, 24, 20)), rs3: Int(field(bits, 31, 27)),
                               funct3: Int(field(bits, 14, 12)), size: 4, bits: bits)
        for operand in row.operands {
            switch operand {
            case .immI, .loadAddress: inst.imm = signExtend(field(bits, 31, 20), bits: 12)
            case .storeAddress: inst.imm = signExtend(field(bits, 31, 25) << 5 | field(bits, 11, 7), bits: 12)
            case .immU: inst.imm = signExtend(bits & 0xffff_f000, bits: 32)
            case .shamt: inst.imm = Int64(field(bits, 25, 20))
            case .csr: inst.imm = Int64(field(bits, 31, 20))
            case .fenceSets: inst.imm = Int64(field(bits, 27, 20))
            case .branchTarget:
                let value = field(bits, 31, 31) << 12 | field(bits, 7, 7) << 11
                    | field(bits, 30, 25) << 5 | field(bits, 11, 8) << 1
                inst.imm = signExtend(value, bits: 13)
            case .jumpTarget:
                let value = field(bits, 31, 31) << 20 | field(bits, 19, 12) << 12
                    | field(bits, 20, 20) << 11 | field(bits, 30, 21) << 1
                inst.imm = signExtend(value, bits: 21)
            default: break
            }
        }
        return inst
    }
}

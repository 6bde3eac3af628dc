/// ABI names, as objdump prints them.
public let integerRegisterNames = [
    "zero", "ra", "sp", "gp", "tp", "t0", "t1", "t2", "s0", "s1", "a0", "a1", "a2", "a3", "a4", "a5",
    "a6", "a7", "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9", "s10", "s11", "t3", "t4", "t5", "t6",
]
public let floatRegisterNames = [
    "ft0", "ft1", "ft2", "ft3", "ft4", "ft5", "ft6", "ft7", "fs0", "fs1", "fa0", "fa1", "fa2", "fa3", "fa4", "fa5",
    "fa6", "fa7", "fs2", "fs3", "fs4", "fs5", "fs6", "fs7", "fs8", "fs9", "fs10", "fs11", "ft8", "ft9", "ft10", "ft11",
]
let roundingModeNames = ["rne", "rtz", "rdn", "rup", "rmm", "invalid5", "invalid6", "dyn"]
let csrNames: [Int64: String] = [0x001: "fflags", 0x002: "frm", 0x003: "fcsr",
                                 0xc00: "cycle", 0xc01: "time", 0xc02: "instret"]

extension Instruction {
    /// Assembly text in objdump's `-M no-aliases` style: the mnemonic of the base
    /// instruction (or `c.*` when `compressedNames` is set) and its operands.
    /// `pc` turns pc-relative operands into absolute addresses.
    public func text(at pc: UInt64, compressedNames: Bool = false) -> String {
        let name = compressedNames ? (compressedName ?? opcode.mnemonic) : opcode.mnemonic
        var parts: [String] = []
        for operand in operands {
            switch operand {
            case .rd: parts.append(integerRegisterNames[rd])
            case .rs1: parts.append(integerRegisterNames[rs1])
            case .rs2: parts.append(integerRegisterNames[rs2])
            case .fd: parts.append(floatRegisterNames[rd])
            case .fs1: parts.append(floatRegisterNames[rs1])
            case .fs2: parts.append(floatRegisterNames[rs2])
            case .fs3: parts.append(floatRegisterNames[rs3])
            case .immI, .shamt: parts.append(String(imm))
            case .immU: parts.append("0x" + String(UInt64(bitPattern: imm >> 12) & 0xfffff, radix: 16))
            case .branchTarget, .jumpTarget:
                parts.append(String(pc &+ UInt64(bitPattern: imm), radix: 16))
            case .loadAddress, .storeAddress: parts.append("\(imm)(\(integerRegisterNames[rs1]))")
            case .atomicAddress: parts.append("(\(integerRegisterNames[rs1]))")
            case .csr: parts.append(csrNames[imm] ?? "0x" + String(imm, radix: 16))
            case .zimm: parts.append(String(rs1))
            case .roundingMode: if funct3 != 7 && !opcode.isExactConversion { parts.append(roundingModeNames[funct3]) }
            case .fenceSets:
                func set(_ bits: Int64) -> String {
                    let letters = zip("iorw", [8, 4, 2, 1]).filter { bits & Int64($0.1) != 0 }.map { String($0.0) }
                    return letters.isEmpty ? "0" : letters.joined()
                }
                parts.append(set(imm >> 4)); parts.append(set(imm & 0xf))
            }
        }
        var mnemonic = name
        if opcode.isAtomic {
            let aq = bits & (1 << 26) != 0, rl = bits & (1 << 25) != 0
            mnemonic += (aq ? ".aq" : "") + (rl ? ".rl" : "")
            if aq && rl { mnemonic = name + ".aqrl" }
        }
        return parts.isEmpty ? mnemonic : mnemonic + "\t" + parts.joined(separator: ",")
    }
}

extension Opcode {
    /// Conversions that never round: their rm field is encoded but has no effect, and assemblers omit it.
    public var isExactConversion: Bool { [.fcvt_d_w, .fcvt_d_wu, .fcvt_d_s].contains(self) }

    public var isAtomic: Bool { rawValue.hasPrefix("lr.") || rawValue.hasPrefix("sc.") || rawValue.hasPrefix("amo") }
}

/// `value` in lowercase hex, zero-padded to `width` digits.
public func hexDigits(_ value: UInt64, width: Int) -> String {
    let digits = String(value, radix: 16)
    return String(repeating: "0", count: max(0, width - digits.count)) + digits
}

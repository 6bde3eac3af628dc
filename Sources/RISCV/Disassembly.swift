/// ABI names, as objdump prints them.
public let integerRegisterNames = [
    "zero", "ra", "sp", "gp", "tp", "t0", "t1", "t2", "s0", "s1", "a0", "a1", "a2", "a3", "a4", "a5",
    "a6", "a7", "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9", "s10", "s11", "t3", "t4", "t5", "t6",
]
public let floatRegisterNames = [
    "ft0", "ft1", "ft2", "ft3", "ft4", "ft5", "ft6", "ft7", "fs0", "fs1", "fa0", "fa1", "fa2", "fa3", "fa4", "fa5",
    "fa6", "fa7", "fs2", "fs3", "fs4", "fs5", "fs6", "fs7", "fs8", "fs9", "fs10", "fs11", "ft8", "ft9", "ft10", "ft11",
]
let roundingModeNames = ["rne", "rtz", "rdn", "rup", "rmm", "unknown", "unknown", "dyn"]

/// The CSRs a user-mode program can name, spelled as binutils spells them.
let csrNames: [Int64: String] = {
    var names: [Int64: String] = [0x001: "fflags", 0x002: "frm", 0x003: "fcsr",
                                  0xc00: "cycle", 0xc01: "time", 0xc02: "instret"]
    for counter in 3...31 { names[0xc00 + Int64(counter)] = "hpmcounter\(counter)" }
    return names
}()

/// One operand as objdump prints it.
public enum AssemblyOperand: Equatable, Sendable {
    case register(String)
    /// Already formatted (`-192`, `0x1f`, `rtz`, `iorw`, `fflags`).
    case value(String)
    /// `offset(base)`, or `(base)` when the syntax has no offset.
    case memory(offset: Int64?, base: String)
    /// A pc-relative destination, printed as an address and a symbol.
    case target(UInt64)
}

/// objdump resolves some register+offset operands to an address and prints it as a
/// trailing `# address <symbol>` comment; this is the operand it would look at.
public struct AddressProbe: Equatable, Sendable {
    public var base: Int
    public var offset: Int64
    /// addiw: the address is the 32-bit result, sign-extended.
    public var wide: Bool
}

/// An instruction in the syntax of GNU objdump: `-M no-aliases` (canonical
/// mnemonics, `c.*` for compressed encodings) or its default alias syntax.
public struct Assembly: Equatable, Sendable {
    public var mnemonic: String
    public var operands: [AssemblyOperand]
    public var probe: AddressProbe? = nil

    public init(_ mnemonic: String, _ operands: [AssemblyOperand] = [], probe: AddressProbe? = nil) {
        self.mnemonic = mnemonic; self.operands = operands; self.probe = probe
    }

    /// `symbolize` turns a branch destination into text (objdump: `1047c <abort+0x44>`).
    public func text(symbolize: (UInt64) -> String = { String($0, radix: 16) }) -> String {
        guard !operands.isEmpty else { return mnemonic }
        let rendered = operands.map { operand -> String in
            switch operand {
            case .register(let name), .value(let name): return name
            case .memory(let offset?, let base): return "\(offset)(\(base))"
            case .memory(nil, let base): return "(\(base))"
            case .target(let address): return symbolize(address)
            }
        }
        return mnemonic + "\t" + rendered.joined(separator: ",")
    }
}

extension Instruction {
    /// Default alias syntax, branch targets as bare addresses: the text used in IR comments and messages.
    public func text(at pc: UInt64) -> String { assembly(at: pc).text() }

    public func assembly(at pc: UInt64, aliases: Bool = true) -> Assembly {
        if opcode == .fence && bits >> 28 == 0b1000 && imm == 0x33 { return Assembly("fence.tso") }
        // Reserved fields objdump does not accept (the hart ignores them).
        if opcode == .fence_i && bits != 0x100f { return Assembly(".4byte", [.value("0x" + String(bits, radix: 16))]) }
        if let compressedName {
            if !aliases { return compressedAssembly(compressedName, at: pc) }
            if let alias = compressedAlias(compressedName) { return alias }
        }
        if aliases, let alias = alias(at: pc) { return alias }
        return canonicalAssembly(at: pc)
    }

    private var x: (Int) -> AssemblyOperand { { .register(integerRegisterNames[$0]) } }
    private var f: (Int) -> AssemblyOperand { { .register(floatRegisterNames[$0]) } }
    private func decimal(_ value: Int64) -> AssemblyOperand { .value(String(value)) }
    private func hex(_ value: Int64) -> AssemblyOperand { .value("0x" + String(UInt64(bitPattern: value), radix: 16)) }
    private var upperImmediate: AssemblyOperand { hex((imm >> 12) & 0xfffff) }
    private var csrOperand: AssemblyOperand { .value(csrNames[imm] ?? "0x" + String(imm, radix: 16)) }
    /// Only full-size encodings carry the operand letters that make objdump look for an address.
    private func probe(_ base: Int, _ offset: Int64, wide: Bool = false) -> AddressProbe? {
        size == 4 ? AddressProbe(base: base, offset: offset, wide: wide) : nil
    }

    /// The canonical form: the base mnemonic with every operand the encoding has.
    private func canonicalAssembly(at pc: UInt64) -> Assembly {
        if isTotalStoreOrderFence { return Assembly("fence.tso", [], probe: nil) }
        var parts: [AssemblyOperand] = []
        var probe: AddressProbe? = nil
        for operand in operands {
            switch operand {
            case .rd: parts.append(x(rd))
            case .rs1: parts.append(x(rs1))
            case .rs2: parts.append(x(rs2))
            case .fd: parts.append(f(rd))
            case .fs1: parts.append(f(rs1))
            case .fs2: parts.append(f(rs2))
            case .fs3: parts.append(f(rs3))
            case .immI:
                parts.append(decimal(imm))
                if opcode == .addi || opcode == .addiw, rs1 != 0 { probe = self.probe(rs1, imm, wide: opcode == .addiw) }
            case .shamt: parts.append(hex(imm))
            case .immU: parts.append(upperImmediate)
            case .branchTarget, .jumpTarget: parts.append(.target(pc &+ UInt64(bitPattern: imm)))
            case .loadAddress, .storeAddress:
                parts.append(.memory(offset: imm, base: integerRegisterNames[rs1]))
                probe = self.probe(rs1, imm)
            case .atomicAddress: parts.append(.memory(offset: nil, base: integerRegisterNames[rs1]))
            case .csr: parts.append(csrOperand)
            case .zimm: parts.append(decimal(Int64(rs1)))
            case .roundingMode: if funct3 != 7 && !opcode.isExactConversion { parts.append(.value(roundingModeNames[funct3])) }
            case .fenceSets: parts.append(.value(fenceSet(imm >> 4))); parts.append(.value(fenceSet(imm & 0xf)))
            }
        }
        return Assembly(mnemonicWithOrdering, parts, probe: probe)
    }

    private var mnemonicWithOrdering: String {
        switch (acquires, releases) {
        case (true, true): return opcode.mnemonic + ".aqrl"
        case (true, false): return opcode.mnemonic + ".aq"
        case (false, true): return opcode.mnemonic + ".rl"
        case (false, false): return opcode.mnemonic
        }
    }

    private func fenceSet(_ bits: Int64) -> String {
        let letters = zip("iorw", [8, 4, 2, 1]).filter { bits & Int64($0.1) != 0 }.map { String($0.0) }
        return letters.isEmpty ? "unknown" : letters.joined()
    }

    /// `-M no-aliases` spelling of a compressed encoding: its own mnemonic and operand shapes.
    private func compressedAssembly(_ name: String, at pc: UInt64) -> Assembly {
        let target = AssemblyOperand.target(pc &+ UInt64(bitPattern: imm))
        switch name {
        case "c.addi4spn": return Assembly(name, [x(rd), x(2), decimal(imm)])
        case "c.fld": return Assembly(name, [f(rd), .memory(offset: imm, base: integerRegisterNames[rs1])])
        case "c.lw", "c.ld": return Assembly(name, [x(rd), .memory(offset: imm, base: integerRegisterNames[rs1])])
        case "c.fsd": return Assembly(name, [f(rs2), .memory(offset: imm, base: integerRegisterNames[rs1])])
        case "c.sw", "c.sd": return Assembly(name, [x(rs2), .memory(offset: imm, base: integerRegisterNames[rs1])])
        case "c.addi": return Assembly(name, [x(rd), decimal(imm)], probe: rd != 0 ? AddressProbe(base: rd, offset: imm, wide: false) : nil)
        case "c.addiw": return Assembly(name, [x(rd), decimal(imm)], probe: AddressProbe(base: rd, offset: imm, wide: true))
        case "c.li", "c.andi": return Assembly(name, [x(rd), decimal(imm)])
        case "c.addi16sp": return Assembly(name, [x(2), decimal(imm)])
        case "c.lui": return Assembly(name, [x(rd), upperImmediate])
        case "c.srli", "c.srai", "c.slli": return Assembly(name, [x(rd), hex(imm)])
        case "c.j": return Assembly(name, [target])
        case "c.beqz", "c.bnez": return Assembly(name, [x(rs1), target])
        case "c.fldsp": return Assembly(name, [f(rd), .memory(offset: imm, base: "sp")])
        case "c.lwsp", "c.ldsp": return Assembly(name, [x(rd), .memory(offset: imm, base: "sp")])
        case "c.fsdsp": return Assembly(name, [f(rs2), .memory(offset: imm, base: "sp")])
        case "c.swsp", "c.sdsp": return Assembly(name, [x(rs2), .memory(offset: imm, base: "sp")])
        case "c.jr", "c.jalr": return Assembly(name, [x(rs1)])
        case "c.ebreak": return Assembly(name)
        default: return Assembly(name, [x(rd), x(rs2)])      // c.mv, c.add, c.sub, ..., c.addw
        }
    }

    /// The compressed encodings whose alias differs from that of their expansion (or whose operands make objdump look for an address).
    private func compressedAlias(_ name: String) -> Assembly? {
        switch name {
        case "c.mv": return Assembly("mv", [x(rd), x(rs2)])
        case "c.addi" where rd == 0: return imm == 0 ? Assembly("nop") : Assembly("c.nop", [decimal(imm)])
        case "c.addi": return Assembly("add", [x(rd), x(rd), decimal(imm)], probe: AddressProbe(base: rd, offset: imm, wide: false))
        case "c.addiw" where imm != 0: return Assembly("addw", [x(rd), x(rd), decimal(imm)], probe: AddressProbe(base: rd, offset: imm, wide: true))
        default: return nil
        }
    }

    /// objdump's default syntax: the first pseudo-instruction of binutils' opcode table that matches.
    private func alias(at pc: UInt64) -> Assembly? {
        let target = AssemblyOperand.target(pc &+ UInt64(bitPattern: imm))
        let offsetBase = AssemblyOperand.memory(offset: imm, base: integerRegisterNames[rs1])
        switch opcode {
        case .addi:
            if rd == 0 && rs1 == 0 && imm == 0 { return Assembly("nop") }
            if rs1 == 0 { return Assembly("li", [x(rd), decimal(imm)]) }
            if imm == 0 { return Assembly("mv", [x(rd), x(rs1)]) }
            return Assembly("add", [x(rd), x(rs1), decimal(imm)], probe: probe(rs1, imm))
        case .addiw:
            if imm == 0 { return Assembly("sext.w", [x(rd), x(rs1)]) }
            return Assembly("addw", [x(rd), x(rs1), decimal(imm)], probe: rs1 != 0 ? probe(rs1, imm, wide: true) : nil)
        case .andi:
            if imm == 255 { return Assembly("zext.b", [x(rd), x(rs1)]) }
            return Assembly("and", [x(rd), x(rs1), decimal(imm)])
        case .ori: return Assembly("or", [x(rd), x(rs1), decimal(imm)])
        case .xori:
            if imm == -1 { return Assembly("not", [x(rd), x(rs1)]) }
            return Assembly("xor", [x(rd), x(rs1), decimal(imm)])
        case .sltiu where imm == 1: return Assembly("seqz", [x(rd), x(rs1)])
        case .slli, .srli, .srai, .slliw, .srliw, .sraiw, .rori, .roriw, .bclri, .bseti, .binvi, .bexti:
            // The register form's name: slli -> sll, slliw -> sllw, bclri -> bclr.
            let name = opcode.mnemonic.hasSuffix("iw") ? opcode.mnemonic.dropLast(2) + "w" : String(opcode.mnemonic.dropLast())
            return Assembly(name, [x(rd), x(rs1), hex(imm)])
        case .sub where rs1 == 0: return Assembly("neg", [x(rd), x(rs2)])
        case .subw where rs1 == 0: return Assembly("negw", [x(rd), x(rs2)])
        case .slt where rs2 == 0: return Assembly("sltz", [x(rd), x(rs1)])
        case .slt where rs1 == 0: return Assembly("sgtz", [x(rd), x(rs2)])
        case .sltu where rs1 == 0: return Assembly("snez", [x(rd), x(rs2)])
        case .add_uw where rs2 == 0: return Assembly("zext.w", [x(rd), x(rs1)])
        case .beq where rs2 == 0: return Assembly("beqz", [x(rs1), target])
        case .bne where rs2 == 0: return Assembly("bnez", [x(rs1), target])
        case .bge where rs1 == 0: return Assembly("blez", [x(rs2), target])
        case .bge where rs2 == 0: return Assembly("bgez", [x(rs1), target])
        case .blt where rs2 == 0: return Assembly("bltz", [x(rs1), target])
        case .blt where rs1 == 0: return Assembly("bgtz", [x(rs2), target])
        case .jal where rd == 0: return Assembly("j", [target])
        case .jal where rd == 1: return Assembly("jal", [target])
        case .jalr:
            if rd == 0 && rs1 == 1 && imm == 0 { return Assembly("ret") }
            let name = rd == 0 ? "jr" : "jalr"
            let link = rd == 0 || rd == 1 ? [] : [x(rd)]
            if imm == 0 { return Assembly(name, link + [x(rs1)]) }
            return Assembly(name, link + [offsetBase], probe: probe(rs1, imm))
        case .fence where imm == 0xff && bits >> 28 == 0: return Assembly("fence")
        case .fsgnj_s, .fsgnjn_s, .fsgnjx_s, .fsgnj_d, .fsgnjn_d, .fsgnjx_d:
            guard rs1 == rs2 else { return nil }
            let precision = opcode.mnemonic.suffix(2)
            let name = [.fsgnj_s, .fsgnj_d].contains(opcode) ? "fmv" : [.fsgnjn_s, .fsgnjn_d].contains(opcode) ? "fneg" : "fabs"
            return Assembly(name + precision, [f(rd), f(rs1)])
        case .csrrs, .csrrw, .csrrc, .csrrwi, .csrrsi, .csrrci: return csrAlias
        default: return nil
        }
    }

    private var csrAlias: Assembly? {
        let source = opcode == .csrrw || opcode == .csrrs || opcode == .csrrc ? x(rs1) : decimal(Int64(rs1))
        let floatName: [Int64: String] = [1: "flags", 2: "rm", 3: "csr"]
        switch opcode {
        case .csrrs where rs1 == 0:
            if let name = floatName[imm] { return Assembly("fr" + name, [x(rd)]) }
            if let counter = [0xc00: "rdcycle", 0xc01: "rdtime", 0xc02: "rdinstret"][imm] { return Assembly(counter, [x(rd)]) }
            return Assembly("csrr", [x(rd), csrOperand])
        case .csrrw where imm == 0xc00 && rd == 0 && rs1 == 0: return Assembly("unimp")
        case .csrrw:
            if let name = floatName[imm] { return Assembly("fs" + name, rd == 0 ? [source] : [x(rd), source]) }
        case .csrrwi:
            if imm == 1 || imm == 2 { return Assembly("fs" + floatName[imm]! + "i", [x(rd), source]) }
        default: break
        }
        // The immediate forms are spelled like the register forms.
        guard rd == 0 else { return source == x(rs1) ? nil : Assembly(String(opcode.mnemonic.dropLast()), [x(rd), csrOperand, source]) }
        let name = ["csrrw": "csrw", "csrrs": "csrs", "csrrc": "csrc", "csrrwi": "csrw", "csrrsi": "csrs", "csrrci": "csrc"]
        return Assembly(name[opcode.mnemonic]!, [csrOperand, source])
    }
}

extension Opcode {
    /// Conversions that never round: their rm field is encoded but has no effect, and assemblers omit it.
    public var isExactConversion: Bool { [.fcvt_d_w, .fcvt_d_wu, .fcvt_d_s].contains(self) }

    public var isAtomic: Bool { rawValue.hasPrefix("lr.") || rawValue.hasPrefix("sc.") || rawValue.hasPrefix("amo") }
}

/// What objdump knows about register values while it walks code in address order:
/// `lui`/`auipc` results and `gp`, used to print the address an operand refers to.
public struct ObjdumpAddressTracker: Sendable {
    private var highParts = [UInt64?](repeating: nil, count: 32)
    private let globalPointer: UInt64?

    public init(globalPointer: UInt64?) { self.globalPointer = globalPointer }

    /// The address objdump annotates this instruction with, if any.
    public mutating func annotation(for instruction: Instruction, _ assembly: Assembly, at pc: UInt64) -> UInt64? {
        switch instruction.opcode {
        case .lui: highParts[instruction.rd] = UInt64(bitPattern: instruction.imm)
        case .auipc: highParts[instruction.rd] = pc &+ UInt64(bitPattern: instruction.imm)
        default: break
        }
        guard let probe = assembly.probe else { return nil }
        var address: UInt64
        if let high = highParts[probe.base] {
            address = (probe.base != 0 ? high : 0) &+ UInt64(bitPattern: probe.offset)
            highParts[probe.base] = nil
        } else if probe.base == 3, let globalPointer {
            address = globalPointer &+ UInt64(bitPattern: probe.offset)
        } else if probe.base == 4 || probe.base == 0 {
            address = UInt64(bitPattern: probe.offset)
        } else {
            return nil
        }
        if probe.wide { address = UInt64(bitPattern: Int64(Int32(truncatingIfNeeded: address))) }
        return address
    }
}

/// `value` in lowercase hex, zero-padded to `width` digits.
public func hexDigits(_ value: UInt64, width: Int) -> String {
    let digits = String(value, radix: 16)
    return String(repeating: "0", count: max(0, width - digits.count)) + digits
}

/// Operands as they appear in assembly, in order. They also tell the decoder
/// which immediate format an instruction carries.
public enum Operand: Sendable {
    case rd, rs1, rs2                 // integer registers
    case fd, fs1, fs2, fs3            // floating-point registers
    case immI, immU, shamt            // immediates
    case branchTarget, jumpTarget     // pc-relative, printed as an address
    case loadAddress                  // immI(rs1)
    case storeAddress                 // immS(rs1)
    case atomicAddress                // (rs1)
    case csr, zimm                    // CSR number, rs1 field as an unsigned immediate
    case roundingMode                 // printed only when not dynamic
    case fenceSets                    // pred, succ
}

/// One row of the encoding table: bits that must match, and the operands.
struct EncodingRow {
    let opcode: Opcode
    let mask: UInt32
    let match: UInt32
    let operands: [Operand]
}

/// The RV64GC base encodings, written as in the ISA manual's tables:
/// bit 31 first, `.` for operand bits. Spaces only separate fields.
private let encodingTable: [(Opcode, String, [Operand])] = [
    (.lui,    ".................... ..... 0110111", [.rd, .immU]),
    (.auipc,  ".................... ..... 0010111", [.rd, .immU]),
    (.jal,    ".................... ..... 1101111", [.rd, .jumpTarget]),
    (.jalr,   "............ ..... 000 ..... 1100111", [.rd, .loadAddress]),
    (.beq,    "....... ..... ..... 000 ..... 1100011", [.rs1, .rs2, .branchTarget]),
    (.bne,    "....... ..... ..... 001 ..... 1100011", [.rs1, .rs2, .branchTarget]),
    (.blt,    "....... ..... ..... 100 ..... 1100011", [.rs1, .rs2, .branchTarget]),
    (.bge,    "....... ..... ..... 101 ..... 1100011", [.rs1, .rs2, .branchTarget]),
    (.bltu,   "....... ..... ..... 110 ..... 1100011", [.rs1, .rs2, .branchTarget]),
    (.bgeu,   "....... ..... ..... 111 ..... 1100011", [.rs1, .rs2, .branchTarget]),
    (.lb,     "............ ..... 000 ..... 0000011", [.rd, .loadAddress]),
    (.lh,     "............ ..... 001 ..... 0000011", [.rd, .loadAddress]),
    (.lw,     "............ ..... 010 ..... 0000011", [.rd, .loadAddress]),
    (.ld,     "............ ..... 011 ..... 0000011", [.rd, .loadAddress]),
    (.lbu,    "............ ..... 100 ..... 0000011", [.rd, .loadAddress]),
    (.lhu,    "............ ..... 101 ..... 0000011", [.rd, .loadAddress]),
    (.lwu,    "............ ..... 110 ..... 0000011", [.rd, .loadAddress]),
    (.sb,     "....... ..... ..... 000 ..... 0100011", [.rs2, .storeAddress]),
    (.sh,     "....... ..... ..... 001 ..... 0100011", [.rs2, .storeAddress]),
    (.sw,     "....... ..... ..... 010 ..... 0100011", [.rs2, .storeAddress]),
    (.sd,     "....... ..... ..... 011 ..... 0100011", [.rs2, .storeAddress]),
    (.addi,   "............ ..... 000 ..... 0010011", [.rd, .rs1, .immI]),
    (.slti,   "............ ..... 010 ..... 0010011", [.rd, .rs1, .immI]),
    (.sltiu,  "............ ..... 011 ..... 0010011", [.rd, .rs1, .immI]),
    (.xori,   "............ ..... 100 ..... 0010011", [.rd, .rs1, .immI]),
    (.ori,    "............ ..... 110 ..... 0010011", [.rd, .rs1, .immI]),
    (.andi,   "............ ..... 111 ..... 0010011", [.rd, .rs1, .immI]),
    (.slli,   "000000 ...... ..... 001 ..... 0010011", [.rd, .rs1, .shamt]),
    (.srli,   "000000 ...... ..... 101 ..... 0010011", [.rd, .rs1, .shamt]),
    (.srai,   "010000 ...... ..... 101 ..... 0010011", [.rd, .rs1, .shamt]),
    (.add,    "0000000 ..... ..... 000 ..... 0110011", [.rd, .rs1, .rs2]),
    (.sub,    "0100000 ..... ..... 000 ..... 0110011", [.rd, .rs1, .rs2]),
    (.sll,    "0000000 ..... ..... 001 ..... 0110011", [.rd, .rs1, .rs2]),
    (.slt,    "0000000 ..... ..... 010 ..... 0110011", [.rd, .rs1, .rs2]),
    (.sltu,   "0000000 ..... ..... 011 ..... 0110011", [.rd, .rs1, .rs2]),
    (.xor,    "0000000 ..... ..... 100 ..... 0110011", [.rd, .rs1, .rs2]),
    (.srl,    "0000000 ..... ..... 101 ..... 0110011", [.rd, .rs1, .rs2]),
    (.sra,    "0100000 ..... ..... 101 ..... 0110011", [.rd, .rs1, .rs2]),
    (.or,     "0000000 ..... ..... 110 ..... 0110011", [.rd, .rs1, .rs2]),
    (.and,    "0000000 ..... ..... 111 ..... 0110011", [.rd, .rs1, .rs2]),
    (.addiw,  "............ ..... 000 ..... 0011011", [.rd, .rs1, .immI]),
    (.slliw,  "0000000 ..... ..... 001 ..... 0011011", [.rd, .rs1, .shamt]),
    (.srliw,  "0000000 ..... ..... 101 ..... 0011011", [.rd, .rs1, .shamt]),
    (.sraiw,  "0100000 ..... ..... 101 ..... 0011011", [.rd, .rs1, .shamt]),
    (.addw,   "0000000 ..... ..... 000 ..... 0111011", [.rd, .rs1, .rs2]),
    (.subw,   "0100000 ..... ..... 000 ..... 0111011", [.rd, .rs1, .rs2]),
    (.sllw,   "0000000 ..... ..... 001 ..... 0111011", [.rd, .rs1, .rs2]),
    (.srlw,   "0000000 ..... ..... 101 ..... 0111011", [.rd, .rs1, .rs2]),
    (.sraw,   "0100000 ..... ..... 101 ..... 0111011", [.rd, .rs1, .rs2]),
    (.fence,  ".... .... .... ..... 000 ..... 0001111", [.fenceSets]),
    (.fence_i, "............ ..... 001 ..... 0001111", []),
    (.ecall,  "000000000000 00000 000 00000 1110011", []),
    (.ebreak, "000000000001 00000 000 00000 1110011", []),

    (.mul,    "0000001 ..... ..... 000 ..... 0110011", [.rd, .rs1, .rs2]),
    (.mulh,   "0000001 ..... ..... 001 ..... 0110011", [.rd, .rs1, .rs2]),
    (.mulhsu, "0000001 ..... ..... 010 ..... 0110011", [.rd, .rs1, .rs2]),
    (.mulhu,  "0000001 ..... ..... 011 ..... 0110011", [.rd, .rs1, .rs2]),
    (.div,    "0000001 ..... ..... 100 ..... 0110011", [.rd, .rs1, .rs2]),
    (.divu,   "0000001 ..... ..... 101 ..... 0110011", [.rd, .rs1, .rs2]),
    (.rem,    "0000001 ..... ..... 110 ..... 0110011", [.rd, .rs1, .rs2]),
    (.remu,   "0000001 ..... ..... 111 ..... 0110011", [.rd, .rs1, .rs2]),
    (.mulw,   "0000001 ..... ..... 000 ..... 0111011", [.rd, .rs1, .rs2]),
    (.divw,   "0000001 ..... ..... 100 ..... 0111011", [.rd, .rs1, .rs2]),
    (.divuw,  "0000001 ..... ..... 101 ..... 0111011", [.rd, .rs1, .rs2]),
    (.remw,   "0000001 ..... ..... 110 ..... 0111011", [.rd, .rs1, .rs2]),
    (.remuw,  "0000001 ..... ..... 111 ..... 0111011", [.rd, .rs1, .rs2]),

    (.lr_w,      "00010 .. 00000 ..... 010 ..... 0101111", [.rd, .atomicAddress]),
    (.sc_w,      "00011 .. ..... ..... 010 ..... 0101111", [.rd, .rs2, .atomicAddress]),
    (.amoswap_w, "00001 .. ..... ..... 010 ..... 0101111", [.rd, .rs2, .atomicAddress]),
    (.amoadd_w,  "00000 .. ..... ..... 010 ..... 0101111", [.rd, .rs2, .atomicAddress]),
    (.amoxor_w,  "00100 .. ..... ..... 010 ..... 0101111", [.rd, .rs2, .atomicAddress]),
    (.amoand_w,  "01100 .. ..... ..... 010 ..... 0101111", [.rd, .rs2, .atomicAddress]),
    (.amoor_w,   "01000 .. ..... ..... 010 ..... 0101111", [.rd, .rs2, .atomicAddress]),
    (.amomin_w,  "10000 .. ..... ..... 010 ..... 0101111", [.rd, .rs2, .atomicAddress]),
    (.amomax_w,  "10100 .. ..... ..... 010 ..... 0101111", [.rd, .rs2, .atomicAddress]),
    (.amominu_w, "11000 .. ..... ..... 010 ..... 0101111", [.rd, .rs2, .atomicAddress]),
    (.amomaxu_w, "11100 .. ..... ..... 010 ..... 0101111", [.rd, .rs2, .atomicAddress]),
    (.lr_d,      "00010 .. 00000 ..... 011 ..... 0101111", [.rd, .atomicAddress]),
    (.sc_d,      "00011 .. ..... ..... 011 ..... 0101111", [.rd, .rs2, .atomicAddress]),
    (.amoswap_d, "00001 .. ..... ..... 011 ..... 0101111", [.rd, .rs2, .atomicAddress]),
    (.amoadd_d,  "00000 .. ..... ..... 011 ..... 0101111", [.rd, .rs2, .atomicAddress]),
    (.amoxor_d,  "00100 .. ..... ..... 011 ..... 0101111", [.rd, .rs2, .atomicAddress]),
    (.amoand_d,  "01100 .. ..... ..... 011 ..... 0101111", [.rd, .rs2, .atomicAddress]),
    (.amoor_d,   "01000 .. ..... ..... 011 ..... 0101111", [.rd, .rs2, .atomicAddress]),
    (.amomin_d,  "10000 .. ..... ..... 011 ..... 0101111", [.rd, .rs2, .atomicAddress]),
    (.amomax_d,  "10100 .. ..... ..... 011 ..... 0101111", [.rd, .rs2, .atomicAddress]),
    (.amominu_d, "11000 .. ..... ..... 011 ..... 0101111", [.rd, .rs2, .atomicAddress]),
    (.amomaxu_d, "11100 .. ..... ..... 011 ..... 0101111", [.rd, .rs2, .atomicAddress]),

    (.csrrw,  "............ ..... 001 ..... 1110011", [.rd, .csr, .rs1]),
    (.csrrs,  "............ ..... 010 ..... 1110011", [.rd, .csr, .rs1]),
    (.csrrc,  "............ ..... 011 ..... 1110011", [.rd, .csr, .rs1]),
    (.csrrwi, "............ ..... 101 ..... 1110011", [.rd, .csr, .zimm]),
    (.csrrsi, "............ ..... 110 ..... 1110011", [.rd, .csr, .zimm]),
    (.csrrci, "............ ..... 111 ..... 1110011", [.rd, .csr, .zimm]),

    (.flw, "............ ..... 010 ..... 0000111", [.fd, .loadAddress]),
    (.fld, "............ ..... 011 ..... 0000111", [.fd, .loadAddress]),
    (.fsw, "....... ..... ..... 010 ..... 0100111", [.fs2, .storeAddress]),
    (.fsd, "....... ..... ..... 011 ..... 0100111", [.fs2, .storeAddress]),
    (.fmadd_s,  "..... 00 ..... ..... ... ..... 1000011", [.fd, .fs1, .fs2, .fs3, .roundingMode]),
    (.fmsub_s,  "..... 00 ..... ..... ... ..... 1000111", [.fd, .fs1, .fs2, .fs3, .roundingMode]),
    (.fnmsub_s, "..... 00 ..... ..... ... ..... 1001011", [.fd, .fs1, .fs2, .fs3, .roundingMode]),
    (.fnmadd_s, "..... 00 ..... ..... ... ..... 1001111", [.fd, .fs1, .fs2, .fs3, .roundingMode]),
    (.fmadd_d,  "..... 01 ..... ..... ... ..... 1000011", [.fd, .fs1, .fs2, .fs3, .roundingMode]),
    (.fmsub_d,  "..... 01 ..... ..... ... ..... 1000111", [.fd, .fs1, .fs2, .fs3, .roundingMode]),
    (.fnmsub_d, "..... 01 ..... ..... ... ..... 1001011", [.fd, .fs1, .fs2, .fs3, .roundingMode]),
    (.fnmadd_d, "..... 01 ..... ..... ... ..... 1001111", [.fd, .fs1, .fs2, .fs3, .roundingMode]),
    (.fadd_s,  "0000000 ..... ..... ... ..... 1010011", [.fd, .fs1, .fs2, .roundingMode]),
    (.fsub_s,  "0000100 ..... ..... ... ..... 1010011", [.fd, .fs1, .fs2, .roundingMode]),
    (.fmul_s,  "0001000 ..... ..... ... ..... 1010011", [.fd, .fs1, .fs2, .roundingMode]),
    (.fdiv_s,  "0001100 ..... ..... ... ..... 1010011", [.fd, .fs1, .fs2, .roundingMode]),
    (.fsqrt_s, "0101100 00000 ..... ... ..... 1010011", [.fd, .fs1, .roundingMode]),
    (.fadd_d,  "0000001 ..... ..... ... ..... 1010011", [.fd, .fs1, .fs2, .roundingMode]),
    (.fsub_d,  "0000101 ..... ..... ... ..... 1010011", [.fd, .fs1, .fs2, .roundingMode]),
    (.fmul_d,  "0001001 ..... ..... ... ..... 1010011", [.fd, .fs1, .fs2, .roundingMode]),
    (.fdiv_d,  "0001101 ..... ..... ... ..... 1010011", [.fd, .fs1, .fs2, .roundingMode]),
    (.fsqrt_d, "0101101 00000 ..... ... ..... 1010011", [.fd, .fs1, .roundingMode]),
    (.fsgnj_s,  "0010000 ..... ..... 000 ..... 1010011", [.fd, .fs1, .fs2]),
    (.fsgnjn_s, "0010000 ..... ..... 001 ..... 1010011", [.fd, .fs1, .fs2]),
    (.fsgnjx_s, "0010000 ..... ..... 010 ..... 1010011", [.fd, .fs1, .fs2]),
    (.fsgnj_d,  "0010001 ..... ..... 000 ..... 1010011", [.fd, .fs1, .fs2]),
    (.fsgnjn_d, "0010001 ..... ..... 001 ..... 1010011", [.fd, .fs1, .fs2]),
    (.fsgnjx_d, "0010001 ..... ..... 010 ..... 1010011", [.fd, .fs1, .fs2]),
    (.fmin_s, "0010100 ..... ..... 000 ..... 1010011", [.fd, .fs1, .fs2]),
    (.fmax_s, "0010100 ..... ..... 001 ..... 1010011", [.fd, .fs1, .fs2]),
    (.fmin_d, "0010101 ..... ..... 000 ..... 1010011", [.fd, .fs1, .fs2]),
    (.fmax_d, "0010101 ..... ..... 001 ..... 1010011", [.fd, .fs1, .fs2]),
    (.fcvt_s_d, "0100000 00001 ..... ... ..... 1010011", [.fd, .fs1, .roundingMode]),
    (.fcvt_d_s, "0100001 00000 ..... ... ..... 1010011", [.fd, .fs1, .roundingMode]),
    (.feq_s, "1010000 ..... ..... 010 ..... 1010011", [.rd, .fs1, .fs2]),
    (.flt_s, "1010000 ..... ..... 001 ..... 1010011", [.rd, .fs1, .fs2]),
    (.fle_s, "1010000 ..... ..... 000 ..... 1010011", [.rd, .fs1, .fs2]),
    (.feq_d, "1010001 ..... ..... 010 ..... 1010011", [.rd, .fs1, .fs2]),
    (.flt_d, "1010001 ..... ..... 001 ..... 1010011", [.rd, .fs1, .fs2]),
    (.fle_d, "1010001 ..... ..... 000 ..... 1010011", [.rd, .fs1, .fs2]),
    (.fclass_s, "1110000 00000 ..... 001 ..... 1010011", [.rd, .fs1]),
    (.fclass_d, "1110001 00000 ..... 001 ..... 1010011", [.rd, .fs1]),
    (.fcvt_w_s,  "1100000 00000 ..... ... ..... 1010011", [.rd, .fs1, .roundingMode]),
    (.fcvt_wu_s, "1100000 00001 ..... ... ..... 1010011", [.rd, .fs1, .roundingMode]),
    (.fcvt_l_s,  "1100000 00010 ..... ... ..... 1010011", [.rd, .fs1, .roundingMode]),
    (.fcvt_lu_s, "1100000 00011 ..... ... ..... 1010011", [.rd, .fs1, .roundingMode]),
    (.fcvt_w_d,  "1100001 00000 ..... ... ..... 1010011", [.rd, .fs1, .roundingMode]),
    (.fcvt_wu_d, "1100001 00001 ..... ... ..... 1010011", [.rd, .fs1, .roundingMode]),
    (.fcvt_l_d,  "1100001 00010 ..... ... ..... 1010011", [.rd, .fs1, .roundingMode]),
    (.fcvt_lu_d, "1100001 00011 ..... ... ..... 1010011", [.rd, .fs1, .roundingMode]),
    (.fcvt_s_w,  "1101000 00000 ..... ... ..... 1010011", [.fd, .rs1, .roundingMode]),
    (.fcvt_s_wu, "1101000 00001 ..... ... ..... 1010011", [.fd, .rs1, .roundingMode]),
    (.fcvt_s_l,  "1101000 00010 ..... ... ..... 1010011", [.fd, .rs1, .roundingMode]),
    (.fcvt_s_lu, "1101000 00011 ..... ... ..... 1010011", [.fd, .rs1, .roundingMode]),
    (.fcvt_d_w,  "1101001 00000 ..... ... ..... 1010011", [.fd, .rs1, .roundingMode]),
    (.fcvt_d_wu, "1101001 00001 ..... ... ..... 1010011", [.fd, .rs1, .roundingMode]),
    (.fcvt_d_l,  "1101001 00010 ..... ... ..... 1010011", [.fd, .rs1, .roundingMode]),
    (.fcvt_d_lu, "1101001 00011 ..... ... ..... 1010011", [.fd, .rs1, .roundingMode]),
    (.fmv_x_w, "1110000 00000 ..... 000 ..... 1010011", [.rd, .fs1]),
    (.fmv_w_x, "1111000 00000 ..... 000 ..... 1010011", [.fd, .rs1]),
    (.fmv_x_d, "1110001 00000 ..... 000 ..... 1010011", [.rd, .fs1]),
    (.fmv_d_x, "1111001 00000 ..... 000 ..... 1010011", [.fd, .rs1]),

    (.sh1add,    "0010000 ..... ..... 010 ..... 0110011", [.rd, .rs1, .rs2]),
    (.sh2add,    "0010000 ..... ..... 100 ..... 0110011", [.rd, .rs1, .rs2]),
    (.sh3add,    "0010000 ..... ..... 110 ..... 0110011", [.rd, .rs1, .rs2]),
    (.add_uw,    "0000100 ..... ..... 000 ..... 0111011", [.rd, .rs1, .rs2]),
    (.sh1add_uw, "0010000 ..... ..... 010 ..... 0111011", [.rd, .rs1, .rs2]),
    (.sh2add_uw, "0010000 ..... ..... 100 ..... 0111011", [.rd, .rs1, .rs2]),
    (.sh3add_uw, "0010000 ..... ..... 110 ..... 0111011", [.rd, .rs1, .rs2]),
    (.slli_uw,   "000010 ...... ..... 001 ..... 0011011", [.rd, .rs1, .shamt]),

    (.andn,   "0100000 ..... ..... 111 ..... 0110011", [.rd, .rs1, .rs2]),
    (.orn,    "0100000 ..... ..... 110 ..... 0110011", [.rd, .rs1, .rs2]),
    (.xnor,   "0100000 ..... ..... 100 ..... 0110011", [.rd, .rs1, .rs2]),
    (.clz,    "0110000 00000 ..... 001 ..... 0010011", [.rd, .rs1]),
    (.ctz,    "0110000 00001 ..... 001 ..... 0010011", [.rd, .rs1]),
    (.cpop,   "0110000 00010 ..... 001 ..... 0010011", [.rd, .rs1]),
    (.sext_b, "0110000 00100 ..... 001 ..... 0010011", [.rd, .rs1]),
    (.sext_h, "0110000 00101 ..... 001 ..... 0010011", [.rd, .rs1]),
    (.clzw,   "0110000 00000 ..... 001 ..... 0011011", [.rd, .rs1]),
    (.ctzw,   "0110000 00001 ..... 001 ..... 0011011", [.rd, .rs1]),
    (.cpopw,  "0110000 00010 ..... 001 ..... 0011011", [.rd, .rs1]),
    (.max,    "0000101 ..... ..... 110 ..... 0110011", [.rd, .rs1, .rs2]),
    (.maxu,   "0000101 ..... ..... 111 ..... 0110011", [.rd, .rs1, .rs2]),
    (.min,    "0000101 ..... ..... 100 ..... 0110011", [.rd, .rs1, .rs2]),
    (.minu,   "0000101 ..... ..... 101 ..... 0110011", [.rd, .rs1, .rs2]),
    (.zext_h, "0000100 00000 ..... 100 ..... 0111011", [.rd, .rs1]),
    (.rol,    "0110000 ..... ..... 001 ..... 0110011", [.rd, .rs1, .rs2]),
    (.ror,    "0110000 ..... ..... 101 ..... 0110011", [.rd, .rs1, .rs2]),
    (.rolw,   "0110000 ..... ..... 001 ..... 0111011", [.rd, .rs1, .rs2]),
    (.rorw,   "0110000 ..... ..... 101 ..... 0111011", [.rd, .rs1, .rs2]),
    (.rori,   "011000 ...... ..... 101 ..... 0010011", [.rd, .rs1, .shamt]),
    (.roriw,  "0110000 ..... ..... 101 ..... 0011011", [.rd, .rs1, .shamt]),
    (.orc_b,  "001010000111 ..... 101 ..... 0010011", [.rd, .rs1]),
    (.rev8,   "011010111000 ..... 101 ..... 0010011", [.rd, .rs1]),

    (.bclr,   "0100100 ..... ..... 001 ..... 0110011", [.rd, .rs1, .rs2]),
    (.bclri,  "010010 ...... ..... 001 ..... 0010011", [.rd, .rs1, .shamt]),
    (.bext,   "0100100 ..... ..... 101 ..... 0110011", [.rd, .rs1, .rs2]),
    (.bexti,  "010010 ...... ..... 101 ..... 0010011", [.rd, .rs1, .shamt]),
    (.binv,   "0110100 ..... ..... 001 ..... 0110011", [.rd, .rs1, .rs2]),
    (.binvi,  "011010 ...... ..... 001 ..... 0010011", [.rd, .rs1, .shamt]),
    (.bset,   "0010100 ..... ..... 001 ..... 0110011", [.rd, .rs1, .rs2]),
    (.bseti,  "001010 ...... ..... 001 ..... 0010011", [.rd, .rs1, .shamt]),
]

/// The table, bucketed by the major opcode (bits 6:0) so decoding scans a handful of rows.
let encodingBuckets: [[EncodingRow]] = {
    var buckets = [[EncodingRow]](repeating: [], count: 128)
    var seen = Set<Opcode>()
    for (opcode, pattern, operands) in encodingTable {
        let bits = pattern.filter { $0 != " " }
        precondition(bits.count == 32, "encoding of \(opcode) has \(bits.count) bits")
        precondition(seen.insert(opcode).inserted, "\(opcode) appears twice in the encoding table")
        var mask: UInt32 = 0, match: UInt32 = 0
        for (index, bit) in bits.enumerated() where bit != "." {
            let position = UInt32(31 - index)
            mask |= 1 << position
            if bit == "1" { match |= 1 << position }
        }
        precondition(mask & 0x7f == 0x7f, "\(opcode) must fix its major opcode")
        buckets[Int(match & 0x7f)].append(EncodingRow(opcode: opcode, mask: mask, match: match, operands: operands))
    }
    return buckets
}()

let operandsByOpcode: [Opcode: [Operand]] = {
    var result: [Opcode: [Operand]] = [:]
    for bucket in encodingBuckets { for row in bucket { result[row.opcode] = row.operands } }
    return result
}()

extension Decoder {
    /// The fixed bits of `opcode`'s encoding: any word with `word & mask == match` decodes
    /// to it (operand fields permitting). For generating test instructions.
    public static func encodingTemplate(for opcode: Opcode) -> (mask: UInt32, match: UInt32)? {
        for bucket in encodingBuckets {
            if let row = bucket.first(where: { $0.opcode == opcode }) { return (row.mask, row.match) }
        }
        return nil
    }
}

extension Opcode {
    /// The operands of this instruction in assembly order (also what the test generator writes).
    public var operands: [Operand] { operandsByOpcode[self] ?? [] }
}

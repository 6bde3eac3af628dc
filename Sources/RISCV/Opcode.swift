/// Every RV64GC instruction PageLift understands, named by its assembly mnemonic.
/// Compressed instructions expand to one of these (see `Compressed.swift`).
public enum Opcode: String, CaseIterable, Sendable {
    // RV64I
    case lui, auipc, jal, jalr
    case beq, bne, blt, bge, bltu, bgeu
    case lb, lh, lw, ld, lbu, lhu, lwu
    case sb, sh, sw, sd
    case addi, slti, sltiu, xori, ori, andi, slli, srli, srai
    case add, sub, sll, slt, sltu, xor, srl, sra, or, and
    case addiw, slliw, srliw, sraiw
    case addw, subw, sllw, srlw, sraw
    case fence
    case fence_i = "fence.i"
    case ecall, ebreak
    // M
    case mul, mulh, mulhsu, mulhu, div, divu, rem, remu
    case mulw, divw, divuw, remw, remuw
    // A
    case lr_w = "lr.w", sc_w = "sc.w", lr_d = "lr.d", sc_d = "sc.d"
    case amoswap_w = "amoswap.w", amoadd_w = "amoadd.w", amoxor_w = "amoxor.w", amoand_w = "amoand.w"
    case amoor_w = "amoor.w", amomin_w = "amomin.w", amomax_w = "amomax.w", amominu_w = "amominu.w", amomaxu_w = "amomaxu.w"
    case amoswap_d = "amoswap.d", amoadd_d = "amoadd.d", amoxor_d = "amoxor.d", amoand_d = "amoand.d"
    case amoor_d = "amoor.d", amomin_d = "amomin.d", amomax_d = "amomax.d", amominu_d = "amominu.d", amomaxu_d = "amomaxu.d"
    // Zicsr
    case csrrw, csrrs, csrrc, csrrwi, csrrsi, csrrci
    // F and D
    case flw, fsw, fld, fsd
    case fmadd_s = "fmadd.s", fmsub_s = "fmsub.s", fnmsub_s = "fnmsub.s", fnmadd_s = "fnmadd.s"
    case fmadd_d = "fmadd.d", fmsub_d = "fmsub.d", fnmsub_d = "fnmsub.d", fnmadd_d = "fnmadd.d"
    case fadd_s = "fadd.s", fsub_s = "fsub.s", fmul_s = "fmul.s", fdiv_s = "fdiv.s", fsqrt_s = "fsqrt.s"
    case fadd_d = "fadd.d", fsub_d = "fsub.d", fmul_d = "fmul.d", fdiv_d = "fdiv.d", fsqrt_d = "fsqrt.d"
    case fsgnj_s = "fsgnj.s", fsgnjn_s = "fsgnjn.s", fsgnjx_s = "fsgnjx.s"
    case fsgnj_d = "fsgnj.d", fsgnjn_d = "fsgnjn.d", fsgnjx_d = "fsgnjx.d"
    case fmin_s = "fmin.s", fmax_s = "fmax.s", fmin_d = "fmin.d", fmax_d = "fmax.d"
    case fcvt_s_d = "fcvt.s.d", fcvt_d_s = "fcvt.d.s"
    case feq_s = "feq.s", flt_s = "flt.s", fle_s = "fle.s"
    case feq_d = "feq.d", flt_d = "flt.d", fle_d = "fle.d"
    case fclass_s = "fclass.s", fclass_d = "fclass.d"
    case fcvt_w_s = "fcvt.w.s", fcvt_wu_s = "fcvt.wu.s", fcvt_l_s = "fcvt.l.s", fcvt_lu_s = "fcvt.lu.s"
    case fcvt_w_d = "fcvt.w.d", fcvt_wu_d = "fcvt.wu.d", fcvt_l_d = "fcvt.l.d", fcvt_lu_d = "fcvt.lu.d"
    case fcvt_s_w = "fcvt.s.w", fcvt_s_wu = "fcvt.s.wu", fcvt_s_l = "fcvt.s.l", fcvt_s_lu = "fcvt.s.lu"
    case fcvt_d_w = "fcvt.d.w", fcvt_d_wu = "fcvt.d.wu", fcvt_d_l = "fcvt.d.l", fcvt_d_lu = "fcvt.d.lu"
    case fmv_x_w = "fmv.x.w", fmv_w_x = "fmv.w.x", fmv_x_d = "fmv.x.d", fmv_d_x = "fmv.d.x"
    // Zba
    case sh1add, sh2add, sh3add
    case add_uw = "add.uw", sh1add_uw = "sh1add.uw", sh2add_uw = "sh2add.uw", sh3add_uw = "sh3add.uw", slli_uw = "slli.uw"
    // Zbb
    case andn, orn, xnor, clz, clzw, ctz, ctzw, cpop, cpopw, max, maxu, min, minu
    case sext_b = "sext.b", sext_h = "sext.h", zext_h = "zext.h"
    case rol, rolw, ror, rorw, rori, roriw
    case orc_b = "orc.b", rev8
    // Zbs
    case bclr, bclri, bext, bexti, binv, binvi, bset, bseti

    public var mnemonic: String { rawValue }
}

/// How an instruction leaves its block: the lifter and the page discovery both ask this.
public enum ControlFlow: Equatable, Sendable {
    case next                 // falls through to pc + size
    case jump                 // unconditional direct (jal)
    case branch               // conditional direct (b*)
    case indirect             // jalr
    case system               // ecall/ebreak: runtime decides
}

extension Opcode {
    public var controlFlow: ControlFlow {
        switch self {
        case .jal: return .jump
        case .beq, .bne, .blt, .bge, .bltu, .bgeu: return .branch
        case .jalr: return .indirect
        case .ecall, .ebreak: return .system
        default: return .next
        }
    }
}

/// What a jump means to a return-address stack, by the ISA's hints (the unprivileged spec's
/// table for jalr): x1 and x5 are link registers; writing one is a call, jumping through
/// one without writing one is a return. The lifter decides by it where a computed jump may
/// stay inside translated code (`FunctionLifter.Dispatch`).
public enum JumpLinkage: Equatable, Sendable {
    case call
    case `return`
    /// Neither, or both at once (a coroutine swap through the same stack slot): a plain jump.
    case jump
}

extension Instruction {
    public var linkage: JumpLinkage {
        func isLink(_ register: Int) -> Bool { register == 1 || register == 5 }
        switch opcode {
        case .jal: return isLink(rd) ? .call : .jump
        case .jalr:
            switch (isLink(rd), isLink(rs1)) {
            case (true, false): return .call
            case (true, true): return rd == rs1 ? .call : .jump
            case (false, true): return .return
            case (false, false): return .jump
            }
        default: return .jump
        }
    }
}

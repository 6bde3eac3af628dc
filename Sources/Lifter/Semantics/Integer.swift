import CLLVM
import RISCV

/// Integer computation: RV64I register-register and register-immediate forms, their
/// 32-bit `*w` variants, and the M extension. One operation table, one evaluator.
enum IntegerOperation {
    case add, sub, sll, slt, sltu, xor, srl, sra, or, and
    case mul, mulh, mulhsu, mulhu, div, divu, rem, remu
}

struct IntegerForm {
    let operation: IntegerOperation
    /// The second operand is the immediate rather than rs2.
    let immediate: Bool
    /// Computes on the low 32 bits and sign-extends the result (the `*w` forms).
    let word: Bool
}

let integerForms: [Opcode: IntegerForm] = {
    var forms: [Opcode: IntegerForm] = [:]
    func define(_ operation: IntegerOperation, register: Opcode? = nil, immediate: Opcode? = nil,
                registerWord: Opcode? = nil, immediateWord: Opcode? = nil) {
        if let register { forms[register] = IntegerForm(operation: operation, immediate: false, word: false) }
        if let immediate { forms[immediate] = IntegerForm(operation: operation, immediate: true, word: false) }
        if let registerWord { forms[registerWord] = IntegerForm(operation: operation, immediate: false, word: true) }
        if let immediateWord { forms[immediateWord] = IntegerForm(operation: operation, immediate: true, word: true) }
    }
    define(.add, register: .add, immediate: .addi, registerWord: .addw, immediateWord: .addiw)
    define(.sub, register: .sub, registerWord: .subw)
    define(.sll, register: .sll, immediate: .slli, registerWord: .sllw, immediateWord: .slliw)
    define(.srl, register: .srl, immediate: .srli, registerWord: .srlw, immediateWord: .srliw)
    define(.sra, register: .sra, immediate: .srai, registerWord: .sraw, immediateWord: .sraiw)
    define(.slt, register: .slt, immediate: .slti)
    define(.sltu, register: .sltu, immediate: .sltiu)
    define(.xor, register: .xor, immediate: .xori)
    define(.or, register: .or, immediate: .ori)
    define(.and, register: .and, immediate: .andi)
    define(.mul, register: .mul, registerWord: .mulw)
    define(.mulh, register: .mulh)
    define(.mulhsu, register: .mulhsu)
    define(.mulhu, register: .mulhu)
    define(.div, register: .div, registerWord: .divw)
    define(.divu, register: .divu, registerWord: .divuw)
    define(.rem, register: .rem, registerWord: .remw)
    define(.remu, register: .remu, registerWord: .remuw)
    return forms
}()

extension FunctionLifter {
    func liftInteger(_ instruction: Instruction, _ form: IntegerForm) {
        let a = readX(instruction.rs1)
        let b = form.immediate ? builder.constant(instruction.imm) : readX(instruction.rs2)
        let result: LLVMValueRef
        if form.word {
            let narrow = evaluate(form.operation, builder.trunc(a, types.i32), builder.trunc(b, types.i32), bits: 32)
            result = builder.sext(narrow, types.i64)
        } else {
            result = evaluate(form.operation, a, b, bits: 64)
        }
        writeX(instruction.rd, result)
    }

    /// The operation on `bits`-wide operands, with RISC-V's answers where LLVM's would be
    /// undefined or poison: shift amounts are taken modulo the width, division by zero gives
    /// all ones (quotient) or the dividend (remainder), and MIN / -1 overflows to MIN.
    private func evaluate(_ operation: IntegerOperation, _ a: LLVMValueRef, _ b: LLVMValueRef, bits: Int) -> LLVMValueRef {
        let type = types.integer(bits: bits)
        func constant(_ value: Int64) -> LLVMValueRef { builder.constant(value, type) }
        func shiftAmount() -> LLVMValueRef { builder.and(b, constant(Int64(bits - 1))) }
        func boolean(_ condition: LLVMValueRef) -> LLVMValueRef { builder.zext(condition, type) }
        func high(_ extendA: (LLVMValueRef, LLVMTypeRef) -> LLVMValueRef, _ extendB: (LLVMValueRef, LLVMTypeRef) -> LLVMValueRef) -> LLVMValueRef {
            let product = builder.mul(extendA(a, types.i128), extendB(b, types.i128))
            return builder.trunc(builder.lshr(product, builder.constant(Int64(64), types.i128)), type)
        }
        // Only division and remainder need these; lazily, so other operations emit no dead compares.
        var zero: LLVMValueRef { builder.icmp(LLVMIntEQ, b, constant(0)) }
        let minimum = constant(bits == 64 ? Int64.min : Int64(Int32.min))
        var overflow: LLVMValueRef { builder.and(builder.icmp(LLVMIntEQ, a, minimum), builder.icmp(LLVMIntEQ, b, constant(-1))) }

        switch operation {
        case .add: return builder.add(a, b)
        case .sub: return builder.sub(a, b)
        case .sll: return builder.shl(a, shiftAmount())
        case .srl: return builder.lshr(a, shiftAmount())
        case .sra: return builder.ashr(a, shiftAmount())
        case .slt: return boolean(builder.icmp(LLVMIntSLT, a, b))
        case .sltu: return boolean(builder.icmp(LLVMIntULT, a, b))
        case .xor: return builder.xor(a, b)
        case .or: return builder.or(a, b)
        case .and: return builder.and(a, b)
        case .mul: return builder.mul(a, b)
        case .mulh: return high(builder.sext, builder.sext)
        case .mulhsu: return high(builder.sext, builder.zext)
        case .mulhu: return high(builder.zext, builder.zext)
        case .div:
            let (isZero, overflows) = (zero, overflow)
            let quotient = builder.sdiv(a, builder.select(builder.or(isZero, overflows), constant(1), b))
            return builder.select(isZero, constant(-1), builder.select(overflows, minimum, quotient))
        case .divu:
            let isZero = zero
            return builder.select(isZero, constant(-1), builder.udiv(a, builder.select(isZero, constant(1), b)))
        case .rem:
            let (isZero, overflows) = (zero, overflow)
            let remainder = builder.srem(a, builder.select(builder.or(isZero, overflows), constant(1), b))
            return builder.select(isZero, a, builder.select(overflows, constant(0), remainder))
        case .remu:
            let isZero = zero
            return builder.select(isZero, a, builder.urem(a, builder.select(isZero, constant(1), b)))
        }
    }
}

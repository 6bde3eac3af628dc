import CLLVM
import RISCV

/// Integer computation: RV64I register-register and register-immediate forms, their
/// 32-bit `*w` variants, the M extension and the Zba, Zbb and Zbs bit-manipulation
/// extensions. One operation table, one evaluator.
enum IntegerOperation {
    case add, sub, sll, slt, sltu, xor, srl, sra, or, and
    case mul, mulh, mulhsu, mulhu, div, divu, rem, remu
    case shift1Add, shift2Add, shift3Add
    case andNot, orNot, xnor, max, maxu, min, minu, rotateLeft, rotateRight
    case countLeadingZeros, countTrailingZeros, populationCount
    case signExtendByte, signExtendHalf, zeroExtendHalf, orCombineBytes, byteReverse
    case bitClear, bitExtract, bitInvert, bitSet
}

struct IntegerForm {
    let operation: IntegerOperation
    /// The second operand is the immediate rather than rs2.
    let immediate: Bool
    /// Computes on the low 32 bits and sign-extends the result (the `*w` forms).
    let word: Bool
    /// rs1 is zero-extended from 32 bits first (the Zba `*.uw` forms).
    var unsignedWordSource = false
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
    define(.shift1Add, register: .sh1add)
    define(.shift2Add, register: .sh2add)
    define(.shift3Add, register: .sh3add)
    for (opcode, operation) in [(Opcode.add_uw, IntegerOperation.add), (.sh1add_uw, .shift1Add), (.sh2add_uw, .shift2Add), (.sh3add_uw, .shift3Add)] {
        forms[opcode] = IntegerForm(operation: operation, immediate: false, word: false, unsignedWordSource: true)
    }
    forms[.slli_uw] = IntegerForm(operation: .sll, immediate: true, word: false, unsignedWordSource: true)
    define(.andNot, register: .andn)
    define(.orNot, register: .orn)
    define(.xnor, register: .xnor)
    define(.max, register: .max)
    define(.maxu, register: .maxu)
    define(.min, register: .min)
    define(.minu, register: .minu)
    define(.rotateLeft, register: .rol, registerWord: .rolw)
    define(.rotateRight, register: .ror, immediate: .rori, registerWord: .rorw, immediateWord: .roriw)
    // Unary operations ignore their second operand.
    define(.countLeadingZeros, register: .clz, registerWord: .clzw)
    define(.countTrailingZeros, register: .ctz, registerWord: .ctzw)
    define(.populationCount, register: .cpop, registerWord: .cpopw)
    define(.signExtendByte, register: .sext_b)
    define(.signExtendHalf, register: .sext_h)
    define(.zeroExtendHalf, register: .zext_h)
    define(.orCombineBytes, register: .orc_b)
    define(.byteReverse, register: .rev8)
    define(.bitClear, register: .bclr, immediate: .bclri)
    define(.bitExtract, register: .bext, immediate: .bexti)
    define(.bitInvert, register: .binv, immediate: .binvi)
    define(.bitSet, register: .bset, immediate: .bseti)
    return forms
}()

extension FunctionLifter {
    func liftInteger(_ instruction: Instruction, _ form: IntegerForm) {
        let source = readX(instruction.rs1)
        let a = form.unsignedWordSource ? builder.zext(builder.trunc(source, types.i32), types.i64) : source
        // Unary operations (clz, rev8, ...) have no rs2: those bits are part of the opcode.
        let b = form.immediate ? builder.constant(instruction.imm)
            : instruction.operands.contains(.rs2) ? readX(instruction.rs2) : builder.constant(Int64(0))
        let result: LLVMValueRef
        if form.word {
            let narrow = evaluate(form.operation, builder.trunc(a, types.i32), builder.trunc(b, types.i32), bits: 32)
            result = builder.sext(narrow, types.i64)
        } else {
            result = evaluate(form.operation, a, b, bits: 64)
        }
        writeX(instruction.rd, result)
        // Not sp: a function's stack accesses stay on one masked sp, before and after the
        // bump (with sp too, calls took 0.79 -> 0.96 s; saves and restores around a call then
        // go through different host base registers).
        if form.operation == .add, form.immediate, !form.word, !form.unsignedWordSource, instruction.rd != 0, instruction.rd != 2 {
            let (base, displacement) = displacedRegisters[instruction.rs1] ?? (source, 0)
            displacedRegisters[instruction.rd] = (base, displacement &+ instruction.imm)
        }
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
        case .shift1Add, .shift2Add, .shift3Add:
            let amount: Int64 = operation == .shift1Add ? 1 : operation == .shift2Add ? 2 : 3
            return builder.add(builder.shl(a, constant(amount)), b)
        case .andNot: return builder.and(a, builder.xor(b, constant(-1)))
        case .orNot: return builder.or(a, builder.xor(b, constant(-1)))
        case .xnor: return builder.xor(builder.xor(a, b), constant(-1))
        case .max: return builder.select(builder.icmp(LLVMIntSGT, a, b), a, b)
        case .maxu: return builder.select(builder.icmp(LLVMIntUGT, a, b), a, b)
        case .min: return builder.select(builder.icmp(LLVMIntSLT, a, b), a, b)
        case .minu: return builder.select(builder.icmp(LLVMIntULT, a, b), a, b)
        // Funnel shifts take the amount modulo the width, as the rotates do.
        case .rotateLeft: return builder.intrinsic("llvm.fshl", [type], [a, a, b])
        case .rotateRight: return builder.intrinsic("llvm.fshr", [type], [a, a, b])
        case .countLeadingZeros: return builder.intrinsic("llvm.ctlz", [type], [a, builder.constant(UInt64(0), types.i1)])
        case .countTrailingZeros: return builder.intrinsic("llvm.cttz", [type], [a, builder.constant(UInt64(0), types.i1)])
        case .populationCount: return builder.intrinsic("llvm.ctpop", [type], [a])
        case .signExtendByte: return builder.sext(builder.trunc(a, types.i8), type)
        case .signExtendHalf: return builder.sext(builder.trunc(a, types.i16), type)
        case .zeroExtendHalf: return builder.zext(builder.trunc(a, types.i16), type)
        case .byteReverse: return builder.intrinsic("llvm.bswap", [type], [a])
        case .orCombineBytes:
            // Per byte: the high bit is set where the byte is non-zero; spread it over the byte.
            let low7 = constant(0x7f7f_7f7f_7f7f_7f7f), high = constant(Int64(bitPattern: 0x8080_8080_8080_8080))
            let flags = builder.and(builder.or(builder.add(builder.and(a, low7), low7), a), high)
            return builder.mul(builder.lshr(flags, constant(7)), constant(0xff))
        case .bitClear, .bitExtract, .bitInvert, .bitSet:
            let bit = builder.shl(constant(1), shiftAmount())
            switch operation {
            case .bitClear: return builder.and(a, builder.xor(bit, constant(-1)))
            case .bitInvert: return builder.xor(a, bit)
            case .bitSet: return builder.or(a, bit)
            default: return builder.and(builder.lshr(a, shiftAmount()), constant(1))
            }
        }
    }
}

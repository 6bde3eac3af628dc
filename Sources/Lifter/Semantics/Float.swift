import CLLVM
import Guest
import RISCV

/// The F and D extensions. FP registers hold raw 64-bit patterns; singles are NaN-boxed
/// (upper 32 bits all ones) and read as the canonical NaN when they are not. Results
/// that are NaN are the canonical NaN, as RISC-V requires (x86 would keep payloads).
enum Precision {
    case single, double
    var bits: Int { self == .single ? 32 : 64 }
    var mantissaBits: Int { self == .single ? 23 : 52 }
    var exponentBits: Int { self == .single ? 8 : 11 }
    var canonicalNaN: UInt64 { self == .single ? 0x7fc0_0000 : 0x7ff8_0000_0000_0000 }
}

enum FloatForm {
    case arithmetic(RoundedOperation, Precision)
    case squareRoot(Precision)
    case fused(negateProduct: Bool, negateAddend: Bool, Precision)
    case signInjection(SignSource, Precision)
    case minMax(maximum: Bool, Precision)
    /// feq is a quiet comparison; flt and fle signal invalid for any NaN.
    case compare(predicate: String, signaling: Bool, Precision)
    case classify(Precision)
    case toInteger(Precision, bits: Int, signed: Bool)
    case fromInteger(Precision, bits: Int, signed: Bool)
    case convert(from: Precision, to: Precision)
    case moveToInteger(Precision)
    case moveFromInteger(Precision)

    enum SignSource { case copy, negate, xor }
}

let floatForms: [Opcode: FloatForm] = [
    .fadd_s: .arithmetic(.add, .single), .fsub_s: .arithmetic(.subtract, .single),
    .fmul_s: .arithmetic(.multiply, .single), .fdiv_s: .arithmetic(.divide, .single),
    .fadd_d: .arithmetic(.add, .double), .fsub_d: .arithmetic(.subtract, .double),
    .fmul_d: .arithmetic(.multiply, .double), .fdiv_d: .arithmetic(.divide, .double),
    .fsqrt_s: .squareRoot(.single), .fsqrt_d: .squareRoot(.double),
    .fmadd_s: .fused(negateProduct: false, negateAddend: false, .single),
    .fmsub_s: .fused(negateProduct: false, negateAddend: true, .single),
    .fnmsub_s: .fused(negateProduct: true, negateAddend: false, .single),
    .fnmadd_s: .fused(negateProduct: true, negateAddend: true, .single),
    .fmadd_d: .fused(negateProduct: false, negateAddend: false, .double),
    .fmsub_d: .fused(negateProduct: false, negateAddend: true, .double),
    .fnmsub_d: .fused(negateProduct: true, negateAddend: false, .double),
    .fnmadd_d: .fused(negateProduct: true, negateAddend: true, .double),
    .fsgnj_s: .signInjection(.copy, .single), .fsgnjn_s: .signInjection(.negate, .single),
    .fsgnjx_s: .signInjection(.xor, .single),
    .fsgnj_d: .signInjection(.copy, .double), .fsgnjn_d: .signInjection(.negate, .double),
    .fsgnjx_d: .signInjection(.xor, .double),
    .fmin_s: .minMax(maximum: false, .single), .fmax_s: .minMax(maximum: true, .single),
    .fmin_d: .minMax(maximum: false, .double), .fmax_d: .minMax(maximum: true, .double),
    .feq_s: .compare(predicate: "oeq", signaling: false, .single), .flt_s: .compare(predicate: "olt", signaling: true, .single),
    .fle_s: .compare(predicate: "ole", signaling: true, .single),
    .feq_d: .compare(predicate: "oeq", signaling: false, .double), .flt_d: .compare(predicate: "olt", signaling: true, .double),
    .fle_d: .compare(predicate: "ole", signaling: true, .double),
    .fclass_s: .classify(.single), .fclass_d: .classify(.double),
    .fcvt_w_s: .toInteger(.single, bits: 32, signed: true), .fcvt_wu_s: .toInteger(.single, bits: 32, signed: false),
    .fcvt_l_s: .toInteger(.single, bits: 64, signed: true), .fcvt_lu_s: .toInteger(.single, bits: 64, signed: false),
    .fcvt_w_d: .toInteger(.double, bits: 32, signed: true), .fcvt_wu_d: .toInteger(.double, bits: 32, signed: false),
    .fcvt_l_d: .toInteger(.double, bits: 64, signed: true), .fcvt_lu_d: .toInteger(.double, bits: 64, signed: false),
    .fcvt_s_w: .fromInteger(.single, bits: 32, signed: true), .fcvt_s_wu: .fromInteger(.single, bits: 32, signed: false),
    .fcvt_s_l: .fromInteger(.single, bits: 64, signed: true), .fcvt_s_lu: .fromInteger(.single, bits: 64, signed: false),
    .fcvt_d_w: .fromInteger(.double, bits: 32, signed: true), .fcvt_d_wu: .fromInteger(.double, bits: 32, signed: false),
    .fcvt_d_l: .fromInteger(.double, bits: 64, signed: true), .fcvt_d_lu: .fromInteger(.double, bits: 64, signed: false),
    .fcvt_s_d: .convert(from: .double, to: .single), .fcvt_d_s: .convert(from: .single, to: .double),
    .fmv_x_w: .moveToInteger(.single), .fmv_x_d: .moveToInteger(.double),
    .fmv_w_x: .moveFromInteger(.single), .fmv_d_x: .moveFromInteger(.double),
]

/// Operations the runtime performs when the rounding mode is not round-to-nearest-even.
public enum RoundedOperation: UInt32, Sendable {
    case add, subtract, multiply, divide, squareRoot, fusedMultiplyAdd
    case fromInt32, fromUInt32, fromInt64, fromUInt64, narrow

    /// The constrained intrinsic of the binary arithmetic operations.
    var constrainedName: String { [.add: "fadd", .subtract: "fsub", .multiply: "fmul"][self] ?? "fdiv" }
}

/// RISC-V's fflags bits, as they sit in fcsr.
enum FloatFlag: Int64 {
    case inexact = 1, underflow = 2, overflow = 4, divideByZero = 8, invalid = 16
}

extension FunctionLifter {
    /// Emits an operation that rounds: `native` (LLVM's instruction, which rounds to nearest
    /// even) when the mode is RNE, the runtime helper for any other static mode, and for the
    /// dynamic mode a check of frm that takes the native path when frm is RNE.
    /// Operands are raw bits (integers for conversions); the result is a value of `precision`.
    func rounded(_ operation: RoundedOperation, _ precision: Precision, mode: Int, operands: [LLVMValueRef],
                 native: () -> LLVMValueRef) -> LLVMValueRef {
        func viaRuntime(_ mode: LLVMValueRef) -> LLVMValueRef {
            var arguments = operands.map { $0.isInteger64(types) ? $0 : builder.zext($0, types.i64) }
            while arguments.count < 3 { arguments.append(builder.constant(Int64(0))) }
            let bits = callPreservingAll(RuntimeSymbols.roundedOperation, returns: types.i64,
                                         [types.i32, types.i32, types.i32, types.i64, types.i64, types.i64],
                                         [builder.constant(Int64(operation.rawValue), types.i32),
                                          builder.constant(precision == .double ? Int64(1) : 0, types.i32), mode] + arguments)
            let narrowed = precision == .double ? bits : builder.trunc(bits, types.i32)
            return builder.bitcast(narrowed, floatType(precision))
        }
        switch mode {
        case 0: return native()
        case 1...4: return viaRuntime(builder.constant(Int64(mode), types.i32))
        default:
            if roundsToNearestOnly { return native() }
            let frm = roundingMode
            // Programs rarely leave round-to-nearest: lay the native path out as the straight line.
            let nearest = builder.intrinsic("llvm.expect", [types.i1], [builder.icmp(LLVMIntEQ, frm, builder.constant(Int64(0), types.i32)),
                                                                        builder.constant(UInt64(1), types.i1)])
            let fast = newBlock("round_nearest"), slow = newBlock("round_other"), done = newBlock("rounded")
            builder.condBr(nearest, fast, slow)
            builder.position(at: fast)
            let fastValue = native()
            let fastEnd = builder.currentBlock
            builder.br(done)
            builder.position(at: slow)
            let slowValue = viaRuntime(frm)
            let slowEnd = builder.currentBlock
            builder.br(done)
            builder.position(at: done)
            let phi = LLVMBuildPhi(builder.ref, floatType(precision), "")!
            var values: [LLVMValueRef?] = [fastValue, slowValue]
            var blocks: [LLVMBasicBlockRef?] = [fastEnd, slowEnd]
            LLVMAddIncoming(phi, &values, &blocks, 2)
            return phi
        }
    }

    func floatType(_ precision: Precision) -> LLVMTypeRef { precision == .single ? types.float : types.double }
    func bitsType(_ precision: Precision) -> LLVMTypeRef { types.integer(bits: precision.bits) }

    func boxSingle(_ bits32: LLVMValueRef) -> LLVMValueRef {
        builder.or(builder.zext(bits32, types.i64), builder.constant(UInt64(0xffff_ffff_0000_0000)))
    }

    /// The register's value as `precision`-wide bits (unboxing singles).
    func readFloatBits(_ index: Int, _ precision: Precision) -> LLVMValueRef {
        let raw = readFBits(index)
        guard precision == .single else { return raw }
        let boxed = builder.icmp(LLVMIntUGE, raw, builder.constant(UInt64(0xffff_ffff_0000_0000)))
        return builder.select(boxed, builder.trunc(raw, types.i32), builder.constant(Precision.single.canonicalNaN, types.i32))
    }

    func readFloat(_ index: Int, _ precision: Precision) -> LLVMValueRef {
        builder.bitcast(readFloatBits(index, precision), floatType(precision))
    }

    func writeFloatBits(_ index: Int, _ bits: LLVMValueRef, _ precision: Precision) {
        writeFBits(index, precision == .single ? boxSingle(bits) : bits)
    }

    func writeFloat(_ index: Int, _ value: LLVMValueRef, _ precision: Precision) {
        writeFloatBits(index, builder.bitcast(value, bitsType(precision)), precision)
    }

    /// A float's raw bits as an integer of its width.
    func bits(_ value: LLVMValueRef, _ precision: Precision) -> LLVMValueRef { builder.bitcast(value, bitsType(precision)) }

    /// By class, not by comparison: raises nothing, even for a signaling NaN.
    func isNaN(_ value: LLVMValueRef) -> LLVMValueRef {
        builder.intrinsic("llvm.is.fpclass", [LLVMTypeOf(value)], [value, builder.constant(Int64(3), types.i32)])
    }

    /// Ors flags the host does not raise by itself (conversions to integers) into fcsr, on a
    /// branch: they are rare, and an unconditional read-modify-write of fcsr would chain every
    /// such instruction to the previous one through memory.
    /// Untracked flags are not computed at all (first-tier code runs no pass that would drop them).
    func accrue(_ flags: @autoclosure () -> LLVMValueRef) {
        guard builder.tracksFloatFlags else { return }
        let flags = flags()
        let raised = builder.intrinsic("llvm.expect", [types.i1], [builder.icmp(LLVMIntNE, flags, builder.constant(Int64(0), types.i32)),
                                                                   builder.constant(UInt64(0), types.i1)])
        let record = newBlock("raise_flags"), done = newBlock("flags_raised")
        builder.condBr(raised, record, done)
        builder.position(at: record)
        let field = cpuField(CPULayout.fcsr)
        builder.store(builder.or(builder.load(types.i32, field, align: 4), flags), field, align: 4)
        builder.br(done)
        builder.position(at: done)
    }

    /// Writes an operation's result: canonical if NaN, as RISC-V's registers hold it. Arithmetic
    /// later in the same straight line reads the result as computed instead (`floatOperand`), so
    /// the canonicalization is dead wherever only arithmetic sees the register before it is
    /// written again (most temporaries), and off the dependency chain elsewhere.
    func writeFloatResult(_ index: Int, _ result: LLVMValueRef, _ precision: Precision) {
        writeFloat(index, canonical(result, precision), precision)
        uncanonicalResults[index] = (result, precision)
    }

    /// A register as an operand of an operation whose result is a NaN whenever an operand is
    /// one, and does not depend on which NaN (arithmetic, square root, fused multiply-add,
    /// comparison, conversion): an uncanonicalized result of earlier arithmetic does as well as
    /// its canonical form. It is never a signaling NaN (x86 quiets them), so raises nothing more.
    func floatOperand(_ index: Int, _ precision: Precision) -> LLVMValueRef {
        if let result = uncanonicalResults[index], result.precision == precision { return result.value }
        return readFloat(index, precision)
    }

    /// `value` is the result of an operation, so never a signaling NaN: the NaN test raises nothing.
    /// Results are hardly ever NaN, so the test is a predicted branch around the replacement
    /// instead of a conditional move the stored value would wait for.
    func canonical(_ value: LLVMValueRef, _ precision: Precision) -> LLVMValueRef {
        let nan = builder.bitcast(builder.constant(precision.canonicalNaN, bitsType(precision)), floatType(precision))
        let select = builder.select(builder.strictCompare("uno", value, value, ignoringExceptions: true), nan, value)
        if LLVMIsASelectInst(select) != nil { builder.markTrueSideRare(select) }
        return select
    }

    func liftFloat(_ instruction: Instruction, _ form: FloatForm) {
        let rd = instruction.rd, rs1 = instruction.rs1, rs2 = instruction.rs2
        switch form {
        case .arithmetic(let operation, let p):
            let a = floatOperand(rs1, p), b = floatOperand(rs2, p)
            let result = rounded(operation, p, mode: instruction.roundingMode, operands: [bits(a, p), bits(b, p)]) {
                builder.strict(operation.constrainedName, [floatType(p)], [a, b], rounds: true)
            }
            writeFloatResult(rd, result, p)
        case .squareRoot(let p):
            let a = floatOperand(rs1, p)
            let result = rounded(.squareRoot, p, mode: instruction.roundingMode, operands: [bits(a, p)]) {
                builder.strict("sqrt", [floatType(p)], [a], rounds: true)
            }
            writeFloatResult(rd, result, p)
        case .fused(let negateProduct, let negateAddend, let p):
            var a = floatOperand(rs1, p), c = floatOperand(instruction.rs3, p)
            let b = floatOperand(rs2, p)
            // RISC-V raises invalid for infinity times zero even when the addend is a quiet NaN; x86 does not.
            accrue(builder.select(productOfInfinityAndZero(bits(a, p), bits(b, p), p),
                                  builder.constant(FloatFlag.invalid.rawValue, types.i32), builder.constant(Int64(0), types.i32)))
            if negateProduct { a = LLVMBuildFNeg(builder.ref, a, "") }
            if negateAddend { c = LLVMBuildFNeg(builder.ref, c, "") }
            let result = rounded(.fusedMultiplyAdd, p, mode: instruction.roundingMode, operands: [bits(a, p), bits(b, p), bits(c, p)]) {
                builder.strict("fma", [floatType(p)], [a, b, c], rounds: true)
            }
            writeFloatResult(rd, result, p)
        case .signInjection(let source, let p):
            let a = readFloatBits(rs1, p), b = readFloatBits(rs2, p)
            let signMask = builder.constant(UInt64(1) << UInt64(p.bits - 1), bitsType(p))
            let magnitude = builder.and(a, builder.xor(signMask, builder.constant(Int64(-1), bitsType(p))))
            let sign: LLVMValueRef
            switch source {
            case .copy: sign = builder.and(b, signMask)
            case .negate: sign = builder.and(builder.xor(b, signMask), signMask)
            case .xor: sign = builder.and(builder.xor(a, b), signMask)
            }
            writeFloatBits(rd, builder.or(magnitude, sign), p)
        case .minMax(let maximum, let p):
            writeFloatBits(rd, minMax(readFloatBits(rs1, p), readFloatBits(rs2, p), maximum: maximum, p), p)
        case .compare(let predicate, let signaling, let p):
            let holds = builder.strictCompare(predicate, floatOperand(rs1, p), floatOperand(rs2, p), signaling: signaling)
            writeX(rd, builder.zext(holds, types.i64))
        case .classify(let p):
            writeX(rd, classify(readFloatBits(rs1, p), p))
        case .toInteger(let p, let bits, let signed):
            writeX(rd, toInteger(floatOperand(rs1, p), p, bits: bits, signed: signed, roundingMode: instruction.roundingMode))
        case .fromInteger(let p, let width, let signed):
            let register = readX(rs1)
            let source = width == 32 ? builder.trunc(register, types.i32) : register
            let operation: RoundedOperation = width == 32 ? (signed ? .fromInt32 : .fromUInt32) : (signed ? .fromInt64 : .fromUInt64)
            // int32 to double is exact: no rounding mode can change it.
            let mode = p == .double && width == 32 ? 0 : instruction.roundingMode
            let value = rounded(operation, p, mode: mode, operands: [register]) {
                builder.strict(signed ? "sitofp" : "uitofp", [floatType(p), LLVMTypeOf(source)], [source], rounds: true)
            }
            writeFloat(rd, value, p)
        case .convert(let from, let to):
            let value = floatOperand(rs1, from)
            let converted = to == .double ? builder.strict("fpext", [types.double, types.float], [value], rounds: false)
                : rounded(.narrow, .single, mode: instruction.roundingMode, operands: [bits(value, from)]) {
                    builder.strict("fptrunc", [types.float, types.double], [value], rounds: true)
                }
            writeFloatResult(rd, converted, to)
        case .moveToInteger(let p):
            let raw = readFBits(rs1)
            writeX(rd, p == .single ? builder.sext(builder.trunc(raw, types.i32), types.i64) : raw)
        case .moveFromInteger(let p):
            let raw = readX(rs1)
            writeFloatBits(rd, p == .single ? builder.trunc(raw, types.i32) : raw, p)
        }
    }

    /// Whether one factor is infinite and the other zero, by their bits (raising nothing).
    private func productOfInfinityAndZero(_ a: LLVMValueRef, _ b: LLVMValueRef, _ p: Precision) -> LLVMValueRef {
        let type = bitsType(p)
        let magnitudeMask = builder.constant((UInt64(1) << UInt64(p.bits - 1)) - 1, type)
        let infinity = builder.constant(((UInt64(1) << UInt64(p.exponentBits)) - 1) << UInt64(p.mantissaBits), type)
        let zero = builder.constant(UInt64(0), type)
        let (magnitudeA, magnitudeB) = (builder.and(a, magnitudeMask), builder.and(b, magnitudeMask))
        func both(_ x: LLVMValueRef, _ y: LLVMValueRef) -> LLVMValueRef {
            builder.and(builder.icmp(LLVMIntEQ, x, infinity), builder.icmp(LLVMIntEQ, y, zero))
        }
        return builder.or(both(magnitudeA, magnitudeB), both(magnitudeB, magnitudeA))
    }

    /// fmin/fmax: a NaN operand yields the other operand, two NaNs the canonical NaN, and -0 < +0.
    private func minMax(_ aBits: LLVMValueRef, _ bBits: LLVMValueRef, maximum: Bool, _ p: Precision) -> LLVMValueRef {
        let a = builder.bitcast(aBits, floatType(p)), b = builder.bitcast(bBits, floatType(p))
        let aNaN = isNaN(a), bNaN = isNaN(b)
        // Quiet comparisons: only a signaling NaN operand raises invalid, as fmin/fmax require.
        let aWins = builder.strictCompare(maximum ? "ogt" : "olt", a, b)
        let equal = builder.strictCompare("oeq", a, b)
        // Equal values differ at most in the sign of zero: min takes the negative one, max the positive.
        let tie = maximum ? builder.and(aBits, bBits) : builder.or(aBits, bBits)
        var result = builder.select(equal, tie, builder.select(aWins, aBits, bBits))
        result = builder.select(bNaN, aBits, result)
        result = builder.select(aNaN, bBits, result)
        return builder.select(builder.and(aNaN, bNaN), builder.constant(p.canonicalNaN, bitsType(p)), result)
    }

    /// fclass: a one-hot mask of the value's category.
    private func classify(_ bits: LLVMValueRef, _ p: Precision) -> LLVMValueRef {
        let type = bitsType(p)
        let mantissaMask = builder.constant((UInt64(1) << UInt64(p.mantissaBits)) - 1, type)
        let exponentMask = builder.constant(((UInt64(1) << UInt64(p.exponentBits)) - 1) << UInt64(p.mantissaBits), type)
        let quietBit = builder.constant(UInt64(1) << UInt64(p.mantissaBits - 1), type)
        let zero = builder.constant(UInt64(0), type)
        let negative = builder.icmp(LLVMIntSLT, bits, zero)
        let exponent = builder.and(bits, exponentMask)
        let mantissa = builder.and(bits, mantissaMask)
        let exponentZero = builder.icmp(LLVMIntEQ, exponent, zero)
        let exponentOnes = builder.icmp(LLVMIntEQ, exponent, exponentMask)
        let mantissaZero = builder.icmp(LLVMIntEQ, mantissa, zero)
        let quiet = builder.icmp(LLVMIntNE, builder.and(bits, quietBit), zero)
        let positive = builder.xor(negative, builder.constant(UInt64(1), types.i1))
        let infinite = builder.and(exponentOnes, mantissaZero)
        let nan = builder.and(exponentOnes, builder.xor(mantissaZero, builder.constant(UInt64(1), types.i1)))
        let isZero = builder.and(exponentZero, mantissaZero)
        let subnormal = builder.and(exponentZero, builder.xor(mantissaZero, builder.constant(UInt64(1), types.i1)))
        let normal = builder.xor(builder.or(exponentZero, exponentOnes), builder.constant(UInt64(1), types.i1))
        let classes: [(LLVMValueRef, Int)] = [
            (builder.and(negative, infinite), 0), (builder.and(negative, normal), 1),
            (builder.and(negative, subnormal), 2), (builder.and(negative, isZero), 3),
            (builder.and(positive, isZero), 4), (builder.and(positive, subnormal), 5),
            (builder.and(positive, normal), 6), (builder.and(positive, infinite), 7),
            (builder.and(nan, builder.xor(quiet, builder.constant(UInt64(1), types.i1))), 8), (builder.and(nan, quiet), 9),
        ]
        return classes.reduce(builder.constant(Int64(0))) { sum, entry in
            builder.or(sum, builder.select(entry.0, builder.constant(Int64(1) << Int64(entry.1)), builder.constant(Int64(0))))
        }
    }

    /// Rounds to an integral value in rounding mode `mode` (0..4), or in frm when `mode` is 7,
    /// raising no flag but invalid for a signaling NaN (the caller decides inexact).
    private func roundIntegral(_ value: LLVMValueRef, _ p: Precision, mode: Int) -> LLVMValueRef {
        let type = floatType(p)
        func rounded(_ mode: Int) -> LLVMValueRef {
            switch mode {
            case 1: return builder.strict("trunc", [type], [value], rounds: false)
            case 2: return builder.strict("floor", [type], [value], rounds: false)
            case 3: return builder.strict("ceil", [type], [value], rounds: false)
            case 4: return nearestMaxMagnitude(value, p)
            default: return builder.strict("roundeven", [type], [value], rounds: false)
            }
        }
        guard mode == 7 else { return rounded(mode) }
        let frm = roundingMode
        return (1...4).reduce(rounded(0)) { result, mode in
            builder.select(builder.icmp(LLVMIntEQ, frm, builder.constant(Int64(mode), types.i32)), rounded(mode), result)
        }
    }

    /// Round half away from zero, with exact steps only: values of 2^mantissaBits and more are integral
    /// already, below that the fraction x - trunc(x) and trunc(x) +- 1 are exact.
    private func nearestMaxMagnitude(_ value: LLVMValueRef, _ p: Precision) -> LLVMValueRef {
        let type = floatType(p)
        func constant(_ x: Double) -> LLVMValueRef { LLVMConstReal(type, x) }
        let magnitude = builder.intrinsic("llvm.fabs", [type], [value])
        let small = builder.strictCompare("olt", magnitude, constant(Double(sign: .plus, exponent: p.mantissaBits, significand: 1)))
        let x = builder.select(small, value, constant(0))
        let truncated = builder.strict("trunc", [type], [x], rounds: false)
        let fraction = builder.intrinsic("llvm.fabs", [type], [builder.strict("fsub", [type], [x, truncated], rounds: true)])
        let away = builder.select(builder.strictCompare("oge", fraction, constant(0.5)), constant(1), constant(0))
        let step = builder.intrinsic("llvm.copysign", [type], [away, value])
        return builder.select(small, builder.strict("fadd", [type], [truncated, step], rounds: true), value)
    }

    /// fcvt to an integer: saturates out-of-range values, maps NaN to the largest value, and
    /// raises invalid (out of range, NaN) or inexact (in range, not integral) itself, since
    /// the host's conversion sequences would raise other flags than RISC-V's.
    private func toInteger(_ value: LLVMValueRef, _ p: Precision, bits: Int, signed: Bool, roundingMode: Int) -> LLVMValueRef {
        let type = floatType(p)
        func constant(_ x: Double) -> LLVMValueRef { LLVMConstReal(type, x) }
        let integral = roundIntegral(value, p, mode: roundingMode)
        // In range: [-2^(bits-1), 2^(bits-1)) signed, (-1, 2^bits) unsigned; the bounds are exact in both precisions.
        let upper = constant(Double(sign: .plus, exponent: signed ? bits - 1 : bits, significand: 1))
        let lowerHolds = signed ? builder.strictCompare("oge", integral, constant(-Double(sign: .plus, exponent: bits - 1, significand: 1)))
                                : builder.strictCompare("ogt", integral, constant(-1))
        let inRange = builder.and(lowerHolds, builder.strictCompare("olt", integral, upper))
        let safe = builder.select(inRange, integral, constant(0))
        let converted: LLVMValueRef
        if signed || bits == 32 {
            // Unsigned words fit a signed 64-bit conversion.
            let wide = builder.strict("fptosi", [types.i64, type], [safe], rounds: false)
            converted = bits == 64 ? wide : builder.sext(builder.trunc(wide, types.i32), types.i64)
        } else {
            // 2^63 and above: subtract 2^63 first (exact there), chosen before subtracting so nothing else rounds.
            let twoTo63 = constant(Double(sign: .plus, exponent: 63, significand: 1))
            let high = builder.strictCompare("oge", safe, twoTo63)
            let adjusted = builder.strict("fsub", [type], [safe, builder.select(high, twoTo63, constant(0))], rounds: true)
            let low = builder.strict("fptosi", [types.i64, type], [adjusted], rounds: false)
            converted = builder.xor(low, builder.select(high, builder.constant(Int64.min), builder.constant(Int64(0))))
        }
        let largest: Int64 = signed ? (bits == 64 ? Int64.max : Int64(Int32.max)) : (bits == 64 ? -1 : Int64(Int32(bitPattern: UInt32.max)))
        let smallest: Int64 = signed ? (bits == 64 ? Int64.min : Int64(Int32.min)) : 0
        let positive = builder.or(isNaN(value), builder.strictCompare("ogt", value, constant(0)))
        let saturated = builder.select(positive, builder.constant(largest), builder.constant(smallest))
        accrue(builder.or(builder.select(inRange, builder.constant(Int64(0), types.i32), builder.constant(FloatFlag.invalid.rawValue, types.i32)),
                          builder.select(builder.and(inRange, builder.strictCompare("une", integral, value)),
                                         builder.constant(FloatFlag.inexact.rawValue, types.i32), builder.constant(Int64(0), types.i32))))
        return builder.select(inRange, converted, saturated)
    }
}

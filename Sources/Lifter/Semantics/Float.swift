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
    case arithmetic(LLVMOpcode, Precision)
    case squareRoot(Precision)
    case fused(negateProduct: Bool, negateAddend: Bool, Precision)
    case signInjection(SignSource, Precision)
    case minMax(maximum: Bool, Precision)
    case compare(LLVMRealPredicate, Precision)
    case classify(Precision)
    case toInteger(Precision, bits: Int, signed: Bool)
    case fromInteger(Precision, bits: Int, signed: Bool)
    case convert(from: Precision, to: Precision)
    case moveToInteger(Precision)
    case moveFromInteger(Precision)

    enum SignSource { case copy, negate, xor }
}

let floatForms: [Opcode: FloatForm] = [
    .fadd_s: .arithmetic(LLVMFAdd, .single), .fsub_s: .arithmetic(LLVMFSub, .single),
    .fmul_s: .arithmetic(LLVMFMul, .single), .fdiv_s: .arithmetic(LLVMFDiv, .single),
    .fadd_d: .arithmetic(LLVMFAdd, .double), .fsub_d: .arithmetic(LLVMFSub, .double),
    .fmul_d: .arithmetic(LLVMFMul, .double), .fdiv_d: .arithmetic(LLVMFDiv, .double),
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
    .feq_s: .compare(LLVMRealOEQ, .single), .flt_s: .compare(LLVMRealOLT, .single), .fle_s: .compare(LLVMRealOLE, .single),
    .feq_d: .compare(LLVMRealOEQ, .double), .flt_d: .compare(LLVMRealOLT, .double), .fle_d: .compare(LLVMRealOLE, .double),
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
            let (type, function) = helper(RuntimeSymbols.roundedOperation, returns: types.i64,
                                          [types.i32, types.i32, types.i32, types.i64, types.i64, types.i64])
            let bits = builder.call(type, function, [builder.constant(Int64(operation.rawValue), types.i32),
                                                     builder.constant(precision == .double ? Int64(1) : 0, types.i32), mode] + arguments)
            let narrowed = precision == .double ? bits : builder.trunc(bits, types.i32)
            return builder.bitcast(narrowed, floatType(precision))
        }
        switch mode {
        case 0: return native()
        case 1...4: return viaRuntime(builder.constant(Int64(mode), types.i32))
        default:
            let frm = builder.and(builder.lshr(builder.load(types.i32, cpuField(CPULayout.fcsr), align: 4),
                                               builder.constant(Int64(5), types.i32)), builder.constant(Int64(7), types.i32), "frm")
            let nearest = builder.icmp(LLVMIntEQ, frm, builder.constant(Int64(0), types.i32))
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

    func isNaN(_ value: LLVMValueRef) -> LLVMValueRef { builder.fcmp(LLVMRealUNO, value, value) }

    func canonical(_ value: LLVMValueRef, _ precision: Precision) -> LLVMValueRef {
        let nan = builder.bitcast(builder.constant(precision.canonicalNaN, bitsType(precision)), floatType(precision))
        return builder.select(isNaN(value), nan, value)
    }

    func liftFloat(_ instruction: Instruction, _ form: FloatForm) {
        let rd = instruction.rd, rs1 = instruction.rs1, rs2 = instruction.rs2
        switch form {
        case .arithmetic(let opcode, let p):
            let a = readFloat(rs1, p), b = readFloat(rs2, p)
            let operation: RoundedOperation = [LLVMFAdd: .add, LLVMFSub: .subtract, LLVMFMul: .multiply][opcode] ?? .divide
            let result = rounded(operation, p, mode: instruction.roundingMode, operands: [bits(a, p), bits(b, p)]) {
                LLVMBuildBinOp(builder.ref, opcode, a, b, "")!
            }
            writeFloat(rd, canonical(result, p), p)
        case .squareRoot(let p):
            let a = readFloat(rs1, p)
            let result = rounded(.squareRoot, p, mode: instruction.roundingMode, operands: [bits(a, p)]) {
                builder.intrinsic("llvm.sqrt", [floatType(p)], [a])
            }
            writeFloat(rd, canonical(result, p), p)
        case .fused(let negateProduct, let negateAddend, let p):
            var a = readFloat(rs1, p), c = readFloat(instruction.rs3, p)
            let b = readFloat(rs2, p)
            if negateProduct { a = LLVMBuildFNeg(builder.ref, a, "") }
            if negateAddend { c = LLVMBuildFNeg(builder.ref, c, "") }
            let result = rounded(.fusedMultiplyAdd, p, mode: instruction.roundingMode, operands: [bits(a, p), bits(b, p), bits(c, p)]) {
                builder.intrinsic("llvm.fma", [floatType(p)], [a, b, c])
            }
            writeFloat(rd, canonical(result, p), p)
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
        case .compare(let predicate, let p):
            writeX(rd, builder.zext(builder.fcmp(predicate, readFloat(rs1, p), readFloat(rs2, p)), types.i64))
        case .classify(let p):
            writeX(rd, classify(readFloatBits(rs1, p), p))
        case .toInteger(let p, let bits, let signed):
            writeX(rd, toInteger(readFloat(rs1, p), p, bits: bits, signed: signed, roundingMode: instruction.roundingMode))
        case .fromInteger(let p, let width, let signed):
            let register = readX(rs1)
            let source = width == 32 ? builder.trunc(register, types.i32) : register
            let operation: RoundedOperation = width == 32 ? (signed ? .fromInt32 : .fromUInt32) : (signed ? .fromInt64 : .fromUInt64)
            // int32 to double is exact: no rounding mode can change it.
            let mode = p == .double && width == 32 ? 0 : instruction.roundingMode
            let value = rounded(operation, p, mode: mode, operands: [register]) {
                signed ? LLVMBuildSIToFP(builder.ref, source, floatType(p), "")! : LLVMBuildUIToFP(builder.ref, source, floatType(p), "")!
            }
            writeFloat(rd, value, p)
        case .convert(let from, let to):
            let value = readFloat(rs1, from)
            let converted = to == .double ? LLVMBuildFPExt(builder.ref, value, types.double, "")!
                : rounded(.narrow, .single, mode: instruction.roundingMode, operands: [bits(value, from)]) {
                    LLVMBuildFPTrunc(builder.ref, value, types.float, "")!
                }
            writeFloat(rd, canonical(converted, to), to)
        case .moveToInteger(let p):
            let raw = readFBits(rs1)
            writeX(rd, p == .single ? builder.sext(builder.trunc(raw, types.i32), types.i64) : raw)
        case .moveFromInteger(let p):
            let raw = readX(rs1)
            writeFloatBits(rd, p == .single ? builder.trunc(raw, types.i32) : raw, p)
        }
    }

    /// fmin/fmax: a NaN operand yields the other operand, two NaNs the canonical NaN, and -0 < +0.
    private func minMax(_ aBits: LLVMValueRef, _ bBits: LLVMValueRef, maximum: Bool, _ p: Precision) -> LLVMValueRef {
        let a = builder.bitcast(aBits, floatType(p)), b = builder.bitcast(bBits, floatType(p))
        let aNaN = isNaN(a), bNaN = isNaN(b)
        let aWins = builder.fcmp(maximum ? LLVMRealOGT : LLVMRealOLT, a, b)
        let equal = builder.fcmp(LLVMRealOEQ, a, b)
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

    /// Rounds to an integral value in rounding mode `mode` (0..4), or in frm when `mode` is 7.
    private func roundIntegral(_ value: LLVMValueRef, _ p: Precision, mode: Int) -> LLVMValueRef {
        let type = floatType(p)
        func rounded(_ mode: Int) -> LLVMValueRef {
            switch mode {
            case 1: return builder.intrinsic("llvm.trunc", [type], [value])
            case 2: return builder.intrinsic("llvm.floor", [type], [value])
            case 3: return builder.intrinsic("llvm.ceil", [type], [value])
            case 4: return builder.intrinsic("llvm.round", [type], [value])
            default: return builder.intrinsic("llvm.roundeven", [type], [value])
            }
        }
        guard mode == 7 else { return rounded(mode) }
        let frm = builder.and(builder.lshr(builder.load(types.i32, cpuField(CPULayout.fcsr), align: 4),
                                           builder.constant(Int64(5), types.i32)), builder.constant(Int64(7), types.i32))
        return (1...4).reduce(rounded(0)) { result, mode in
            builder.select(builder.icmp(LLVMIntEQ, frm, builder.constant(Int64(mode), types.i32)), rounded(mode), result)
        }
    }

    /// fcvt to an integer saturates out-of-range values and maps NaN to the largest value.
    private func toInteger(_ value: LLVMValueRef, _ p: Precision, bits: Int, signed: Bool, roundingMode: Int) -> LLVMValueRef {
        let type = types.integer(bits: bits)
        let integral = roundIntegral(value, p, mode: roundingMode)
        let saturated = builder.intrinsic(signed ? "llvm.fptosi.sat" : "llvm.fptoui.sat", [type, floatType(p)], [integral])
        let largest: LLVMValueRef = signed
            ? builder.constant(bits == 64 ? Int64.max : Int64(Int32.max), type)
            : builder.constant(Int64(-1), type)
        let result = builder.select(isNaN(value), largest, saturated)
        return bits == 64 ? result : builder.sext(result, types.i64)
    }
}

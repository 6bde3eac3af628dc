#if canImport(Glibc)
import Glibc
#endif
import CHostFloat
import Lifter

/// Floating-point operations in a rounding mode other than round-to-nearest-even, called
/// from translated code (`RuntimeSymbols.roundedOperation`). The host rounds toward zero,
/// down and up natively; RISC-V's round-to-nearest-max-magnitude (RMM) has no x86 mode, so
/// it is computed in a wider format and rounded with ties away from zero.
/// The result's exception flags join the guest's accrued ones in the host's flags, which
/// is where native operations leave theirs; nothing else the helper computes does.
enum RoundedArithmetic {
    static func accruing(_ operation: RoundedOperation, double: Bool, mode: Int, _ a: UInt64, _ b: UInt64, _ c: UInt64) -> UInt64 {
        let accrued = pagelift_host_float_flags()
        pagelift_set_host_float_flags(0)
        let (result, flags) = mode == 4 ? tiesAway(operation, double: double, a, b, c)
                                        : (compute(operation, double: double, mode: mode, a, b, c), pagelift_host_float_flags())
        pagelift_set_host_float_flags(accrued | flags)
        return result
    }

    /// The operation in mode 0...3 (a host rounding mode), raising its flags in the host's.
    static func compute(_ operation: RoundedOperation, double: Bool, mode: Int, _ a: UInt64, _ b: UInt64, _ c: UInt64) -> UInt64 {
        let saved = fegetround()
        // An array, not a dictionary: building a dictionary does floating-point arithmetic (raising inexact).
        fesetround([FE_TONEAREST, FE_TOWARDZERO, FE_DOWNWARD, FE_UPWARD][min(max(mode, 0), 3)])
        defer { fesetround(saved) }
        if operation.isIntegerConversion { return convert(operation, double: double, opaque(a)) }
        if double {
            return evaluate(operation, Double(bitPattern: a), Double(bitPattern: b), Double(bitPattern: c), integer: a).bitPattern
        }
        if operation == .narrow { return UInt64(Float(opaque(Double(bitPattern: a))).bitPattern) }
        let (x, y, z) = (single(a), single(b), single(c))
        return UInt64(evaluate(operation, x, y, z, integer: a).bitPattern)
    }

    /// Integer to float with the host's conversion instructions. (Generic conversions are done
    /// in software and raise inexact where the value is exact.) An exact zero is +0 in every
    /// mode; the host's unsigned sequence would give -0 rounding down.
    @inline(never)
    private static func convert(_ operation: RoundedOperation, double: Bool, _ integer: UInt64) -> UInt64 {
        if integer & (operation.isWord ? 0xffff_ffff : ~0) == 0 { return 0 }
        let word = UInt32(truncatingIfNeeded: integer)
        switch (operation, double) {
        case (.fromInt32, true): return Double(Int32(bitPattern: word)).bitPattern
        case (.fromUInt32, true): return Double(word).bitPattern
        case (.fromInt64, true): return Double(Int64(bitPattern: integer)).bitPattern
        case (.fromUInt64, true): return Double(integer).bitPattern
        case (.fromInt32, false): return UInt64(Float(Int32(bitPattern: word)).bitPattern)
        case (.fromUInt32, false): return UInt64(Float(word).bitPattern)
        case (.fromInt64, false): return UInt64(Float(Int64(bitPattern: integer)).bitPattern)
        default: return UInt64(Float(integer).bitPattern)
        }
    }

    private static func single(_ bits: UInt64) -> Float { Float(bitPattern: UInt32(truncatingIfNeeded: bits)) }

    /// Keeps the optimizer from folding or moving arithmetic across the rounding-mode change.
    @inline(never) static func opaque<T>(_ value: T) -> T { value }

    @inline(never)
    private static func evaluate<T: BinaryFloatingPoint>(_ operation: RoundedOperation, _ a: T, _ b: T, _ c: T, integer: UInt64) -> T {
        let (a, b, c) = (opaque(a), opaque(b), opaque(c))
        switch operation {
        case .add: return a + b
        case .subtract: return a - b
        case .multiply: return a * b
        case .divide: return a / b
        case .squareRoot: return a.squareRoot()
        case .fusedMultiplyAdd: return c.addingProduct(a, b)
        case .fromInt32: return T(Int32(truncatingIfNeeded: integer))
        case .fromUInt32: return T(UInt32(truncatingIfNeeded: integer))
        case .fromInt64: return T(Int64(bitPattern: integer))
        case .fromUInt64: return T(integer)
        case .narrow: return T(Double(bitPattern: integer))
        }
    }

    /// RMM differs from round-to-nearest-even only on an exact tie. So: the correctly rounded
    /// RNE result, unless the operation computed in a wider format is exact (no inexact
    /// flag) and lies exactly halfway between two target values; then away from zero.
    /// (Rounding the wide result directly would round twice: a sqrt can land on a midpoint.)
    /// The flags are RNE's, which RMM shares except that a tie rounded up to the smallest
    /// normal magnitude is not tiny after rounding.
    private static func tiesAway(_ operation: RoundedOperation, double: Bool, _ a: UInt64, _ b: UInt64, _ c: UInt64) -> (UInt64, UInt32) {
        let nearest = compute(operation, double: double, mode: 0, a, b, c)
        var flags = pagelift_host_float_flags()
        feclearexcept(FE_INEXACT)
        let wide: Float80
        if double {
            wide = evaluate(operation, Float80(Double(bitPattern: a)), Float80(Double(bitPattern: b)), Float80(Double(bitPattern: c)), integer: a)
        } else if operation == .narrow {
            wide = Float80(Double(bitPattern: a))
        } else {
            wide = evaluate(operation, Float80(single(a)), Float80(single(b)), Float80(single(c)), integer: a)
        }
        guard fetestexcept(FE_INEXACT) == 0, wide.isFinite else { return (nearest, flags) }
        let underflow: UInt32 = 0x10
        if double, let away = tieAwayFromZero(wide, Double.self) {
            if away.magnitude == Double.leastNormalMagnitude { flags &= ~underflow }
            return (away.bitPattern, flags)
        }
        if !double, let away = tieAwayFromZero(wide, Float.self) {
            if away.magnitude == Float.leastNormalMagnitude { flags &= ~underflow }
            return (UInt64(away.bitPattern), flags)
        }
        return (nearest, flags)
    }

    /// The value away from zero when `wide` is exactly halfway between two `T` values, else nil.
    private static func tieAwayFromZero<T: BinaryFloatingPoint>(_ wide: Float80, _: T.Type) -> T? {
        let saved = fegetround()
        fesetround(FE_TOWARDZERO)
        let towardZero = T(opaque(wide))
        fesetround(saved)
        // ulp is the gap to the next larger magnitude, which may be infinity (overflow).
        let midpoint = abs(Float80(towardZero)) + Float80(towardZero.ulp) / 2
        guard abs(wide) == midpoint else { return nil }
        return wide > 0 ? towardZero.nextUp : towardZero.nextDown
    }
}

let roundedOperationHelper: @convention(c) (UInt32, UInt32, UInt32, UInt64, UInt64, UInt64) -> UInt64 = { operation, precision, mode, a, b, c in
    RoundedArithmetic.accruing(RoundedOperation(rawValue: operation) ?? .add, double: precision == 1, mode: Int(mode), a, b, c)
}

extension RoundedOperation {
    var isIntegerConversion: Bool { [.fromInt32, .fromUInt32, .fromInt64, .fromUInt64].contains(self) }
    var isWord: Bool { self == .fromInt32 || self == .fromUInt32 }
}

#if canImport(Glibc)
import Glibc
#endif
import Lifter

/// Floating-point operations in a rounding mode other than round-to-nearest-even, called
/// from translated code (`RuntimeSymbols.roundedOperation`). The host rounds toward zero,
/// down and up natively; RISC-V's round-to-nearest-max-magnitude (RMM) has no x86 mode, so
/// it is computed in a wider format and rounded with ties away from zero.
enum RoundedArithmetic {
    static func compute(_ operation: RoundedOperation, double: Bool, mode: Int, _ a: UInt64, _ b: UInt64, _ c: UInt64) -> UInt64 {
        if mode == 4 { return tiesAway(operation, double: double, a, b, c) }
        let saved = fegetround()
        fesetround([0: FE_TONEAREST, 1: FE_TOWARDZERO, 2: FE_DOWNWARD, 3: FE_UPWARD][mode] ?? FE_TONEAREST)
        defer { fesetround(saved) }
        if double {
            return evaluate(operation, Double(bitPattern: a), Double(bitPattern: b), Double(bitPattern: c), integer: a).bitPattern
        }
        if operation == .narrow { return UInt64(Float(opaque(Double(bitPattern: a))).bitPattern) }
        let (x, y, z) = (single(a), single(b), single(c))
        return UInt64(evaluate(operation, x, y, z, integer: a).bitPattern)
    }

    private static func single(_ bits: UInt64) -> Float { Float(bitPattern: UInt32(truncatingIfNeeded: bits)) }

    /// Keeps the optimizer from folding or moving arithmetic across the rounding-mode change.
    @inline(never) static func opaque<T>(_ value: T) -> T { value }

    @inline(never)
    private static func evaluate<T: BinaryFloatingPoint>(_ operation: RoundedOperation, _ a: T, _ b: T, _ c: T, integer: UInt64) -> T {
        let (a, b, c) = (opaque(a), opaque(b), opaque(c))
        // An exact zero converts to +0 in every mode; the host's unsigned conversion sequence would give -0 rounding down.
        if operation.isIntegerConversion, integer & (operation.isWord ? 0xffff_ffff : ~0) == 0 { return 0 }
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
    private static func tiesAway(_ operation: RoundedOperation, double: Bool, _ a: UInt64, _ b: UInt64, _ c: UInt64) -> UInt64 {
        let nearest = compute(operation, double: double, mode: 0, a, b, c)
        feclearexcept(FE_INEXACT)
        let wide: Float80
        if double {
            wide = evaluate(operation, Float80(Double(bitPattern: a)), Float80(Double(bitPattern: b)), Float80(Double(bitPattern: c)), integer: a)
        } else if operation == .narrow {
            wide = Float80(Double(bitPattern: a))
        } else {
            wide = evaluate(operation, Float80(single(a)), Float80(single(b)), Float80(single(c)), integer: a)
        }
        guard fetestexcept(FE_INEXACT) == 0, wide.isFinite else { return nearest }
        if double { return tieAwayFromZero(wide, Double.self).map { $0.bitPattern } ?? nearest }
        return tieAwayFromZero(wide, Float.self).map { UInt64($0.bitPattern) } ?? nearest
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
    RoundedArithmetic.compute(RoundedOperation(rawValue: operation) ?? .add, double: precision == 1, mode: Int(mode), a, b, c)
}

extension RoundedOperation {
    var isIntegerConversion: Bool { [.fromInt32, .fromUInt32, .fromInt64, .fromUInt64].contains(self) }
    var isWord: Bool { self == .fromInt32 || self == .fromUInt32 }
}

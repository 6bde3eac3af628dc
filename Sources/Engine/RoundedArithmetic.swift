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

    /// RMM: the exact result (or one with enough extra bits) in a wider format, then rounded
    /// to the nearest target value with ties away from zero.
    private static func tiesAway(_ operation: RoundedOperation, double: Bool, _ a: UInt64, _ b: UInt64, _ c: UInt64) -> UInt64 {
        if double {
            let wide = evaluate(operation, Float80(Double(bitPattern: a)), Float80(Double(bitPattern: b)),
                                Float80(Double(bitPattern: c)), integer: a)
            return round(wide, to: Double.self).bitPattern
        }
        let wide: Float80
        if operation == .narrow {
            wide = Float80(Double(bitPattern: a))
        } else {
            wide = evaluate(operation, Float80(single(a)), Float80(single(b)), Float80(single(c)), integer: a)
        }
        return UInt64(round(wide, to: Float.self).bitPattern)
    }

    private static func round<T: BinaryFloatingPoint>(_ wide: Float80, to: T.Type) -> T {
        guard wide.isFinite else { return T(wide) }
        let saved = fegetround()
        fesetround(FE_TOWARDZERO)
        let towardZero = T(opaque(wide))
        fesetround(saved)
        if Float80(towardZero) == wide { return towardZero }
        // ulp is the gap to the next larger magnitude, which may be infinity (overflow).
        let away = wide > 0 ? towardZero.nextUp : towardZero.nextDown
        let midpoint = abs(Float80(towardZero)) + Float80(towardZero.ulp) / 2
        return abs(wide) >= midpoint ? away : towardZero
    }
}

let roundedOperationHelper: @convention(c) (UInt32, UInt32, UInt32, UInt64, UInt64, UInt64) -> UInt64 = { operation, precision, mode, a, b, c in
    RoundedArithmetic.compute(RoundedOperation(rawValue: operation) ?? .add, double: precision == 1, mode: Int(mode), a, b, c)
}

extension RoundedOperation {
    var isIntegerConversion: Bool { [.fromInt32, .fromUInt32, .fromInt64, .fromUInt64].contains(self) }
    var isWord: Bool { self == .fromInt32 || self == .fromUInt32 }
}

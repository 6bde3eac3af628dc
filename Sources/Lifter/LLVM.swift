import CLLVM

/// An LLVM module in a context of its own, held through an ORC thread-safe context
/// so the JIT can take both over (`JIT.add`).
public final class IRModule: @unchecked Sendable {
    public let threadSafeContext: LLVMOrcThreadSafeContextRef
    public let context: LLVMContextRef
    public private(set) var module: LLVMModuleRef?

    /// `keepsValueNames`: local values and blocks keep the names the lifter gives them (guest
    /// registers and symbols), for readers of the IR; code that is only compiled drops them,
    /// which spares LLVM making each one unique (3% of a cold hello world).
    public init(name: String, keepsValueNames: Bool = true) {
        threadSafeContext = LLVMOrcCreateNewThreadSafeContext()
        context = LLVMOrcThreadSafeContextGetContext(threadSafeContext)
        if !keepsValueNames { LLVMContextSetDiscardValueNames(context, 1) }
        module = LLVMModuleCreateWithNameInContext(name, context)
    }

    deinit {
        if let module { LLVMDisposeModule(module) }
        LLVMOrcDisposeThreadSafeContext(threadSafeContext)
    }

    public var ref: LLVMModuleRef { module! }

    /// Gives up ownership of the module (the JIT takes it).
    public func release() -> LLVMModuleRef {
        let result = module!
        module = nil
        return result
    }

    /// The module as textual IR.
    public var text: String {
        let raw = LLVMPrintModuleToString(ref)!
        defer { LLVMDisposeMessage(raw) }
        return String(cString: raw)
    }

    /// Runs LLVM's verifier; returns its message when the module is broken.
    public func verify() -> String? {
        var message: UnsafeMutablePointer<CChar>?
        let broken = LLVMVerifyModule(ref, LLVMReturnStatusAction, &message) != 0
        defer { if let message { LLVMDisposeMessage(message) } }
        return broken ? String(cString: message!) : nil
    }

}

/// Types the lifter uses, made once per module.
struct IRTypes {
    let void, i1, i8, i16, i32, i64, i128, float, double, ptr: LLVMTypeRef
    /// The one signature every region function has: (cpu state, guest pc, the passed guest
    /// registers) -> void, with LLVM's GHC calling convention (see `RegisterPassing`).
    let pageFunction: LLVMTypeRef

    init(_ context: LLVMContextRef) {
        void = LLVMVoidTypeInContext(context)
        i1 = LLVMInt1TypeInContext(context)
        i8 = LLVMInt8TypeInContext(context)
        i16 = LLVMInt16TypeInContext(context)
        i32 = LLVMInt32TypeInContext(context)
        i64 = LLVMInt64TypeInContext(context)
        i128 = LLVMInt128TypeInContext(context)
        float = LLVMFloatTypeInContext(context)
        double = LLVMDoubleTypeInContext(context)
        ptr = LLVMPointerTypeInContext(context, 0)
        var parameters: [LLVMTypeRef?] = [ptr, i64] + [LLVMTypeRef?](repeating: i64, count: RegisterPassing.registers.count)
        pageFunction = LLVMFunctionType(void, &parameters, UInt32(parameters.count), 0)
    }

    func integer(bits: Int) -> LLVMTypeRef {
        switch bits {
        case 8: return i8
        case 16: return i16
        case 32: return i32
        case 64: return i64
        default: return i128
        }
    }
}

/// A thin layer over LLVMBuilderRef: the operations the instruction semantics are written in.
struct Builder {
    let ref: LLVMBuilderRef
    let types: IRTypes
    let module: LLVMModuleRef
    /// Floating-point operations keep the host's exception flags exact (see `strict`); off for
    /// programs that cannot see them (`FloatFlagsUse`), whose arithmetic is LLVM's ordinary one.
    var tracksFloatFlags = true

    func constant(_ value: Int64, _ type: LLVMTypeRef? = nil) -> LLVMValueRef {
        LLVMConstInt(type ?? types.i64, UInt64(bitPattern: value), 1)
    }
    func constant(_ value: UInt64, _ type: LLVMTypeRef? = nil) -> LLVMValueRef {
        LLVMConstInt(type ?? types.i64, value, 0)
    }

    func add(_ a: LLVMValueRef, _ b: LLVMValueRef, _ name: String = "") -> LLVMValueRef { LLVMBuildAdd(ref, a, b, name) }
    func sub(_ a: LLVMValueRef, _ b: LLVMValueRef, _ name: String = "") -> LLVMValueRef { LLVMBuildSub(ref, a, b, name) }
    func and(_ a: LLVMValueRef, _ b: LLVMValueRef, _ name: String = "") -> LLVMValueRef { LLVMBuildAnd(ref, a, b, name) }
    func or(_ a: LLVMValueRef, _ b: LLVMValueRef, _ name: String = "") -> LLVMValueRef { LLVMBuildOr(ref, a, b, name) }
    func xor(_ a: LLVMValueRef, _ b: LLVMValueRef, _ name: String = "") -> LLVMValueRef { LLVMBuildXor(ref, a, b, name) }
    func shl(_ a: LLVMValueRef, _ b: LLVMValueRef, _ name: String = "") -> LLVMValueRef { LLVMBuildShl(ref, a, b, name) }
    func lshr(_ a: LLVMValueRef, _ b: LLVMValueRef, _ name: String = "") -> LLVMValueRef { LLVMBuildLShr(ref, a, b, name) }
    func ashr(_ a: LLVMValueRef, _ b: LLVMValueRef, _ name: String = "") -> LLVMValueRef { LLVMBuildAShr(ref, a, b, name) }
    func mul(_ a: LLVMValueRef, _ b: LLVMValueRef, _ name: String = "") -> LLVMValueRef { LLVMBuildMul(ref, a, b, name) }
    func sdiv(_ a: LLVMValueRef, _ b: LLVMValueRef) -> LLVMValueRef { LLVMBuildSDiv(ref, a, b, "") }
    func udiv(_ a: LLVMValueRef, _ b: LLVMValueRef) -> LLVMValueRef { LLVMBuildUDiv(ref, a, b, "") }
    func srem(_ a: LLVMValueRef, _ b: LLVMValueRef) -> LLVMValueRef { LLVMBuildSRem(ref, a, b, "") }
    func urem(_ a: LLVMValueRef, _ b: LLVMValueRef) -> LLVMValueRef { LLVMBuildURem(ref, a, b, "") }
    func icmp(_ predicate: LLVMIntPredicate, _ a: LLVMValueRef, _ b: LLVMValueRef, _ name: String = "") -> LLVMValueRef {
        LLVMBuildICmp(ref, predicate, a, b, name)
    }
    func select(_ condition: LLVMValueRef, _ a: LLVMValueRef, _ b: LLVMValueRef, _ name: String = "") -> LLVMValueRef {
        LLVMBuildSelect(ref, condition, a, b, name)
    }
    func zext(_ value: LLVMValueRef, _ type: LLVMTypeRef) -> LLVMValueRef { LLVMBuildZExt(ref, value, type, "") }
    func sext(_ value: LLVMValueRef, _ type: LLVMTypeRef) -> LLVMValueRef { LLVMBuildSExt(ref, value, type, "") }
    func trunc(_ value: LLVMValueRef, _ type: LLVMTypeRef) -> LLVMValueRef { LLVMBuildTrunc(ref, value, type, "") }
    func bitcast(_ value: LLVMValueRef, _ type: LLVMTypeRef) -> LLVMValueRef { LLVMBuildBitCast(ref, value, type, "") }

    func load(_ type: LLVMTypeRef, _ pointer: LLVMValueRef, _ name: String = "", align: UInt32 = 1) -> LLVMValueRef {
        let value = LLVMBuildLoad2(ref, type, pointer, name)!
        LLVMSetAlignment(value, align)
        return value
    }
    @discardableResult
    func store(_ value: LLVMValueRef, _ pointer: LLVMValueRef, align: UInt32 = 1) -> LLVMValueRef {
        let instruction = LLVMBuildStore(ref, value, pointer)!
        LLVMSetAlignment(instruction, align)
        return instruction
    }
    func gep(_ base: LLVMValueRef, byteOffset: LLVMValueRef, _ name: String = "") -> LLVMValueRef {
        var indices: [LLVMValueRef?] = [byteOffset]
        return LLVMBuildInBoundsGEP2(ref, types.i8, base, &indices, 1, name)
    }
    func gep(_ base: LLVMValueRef, byteOffset: Int) -> LLVMValueRef {
        gep(base, byteOffset: constant(Int64(byteOffset)))
    }

    @discardableResult
    /// Calls carry `strictfp` while flags are tracked: the functions we build are then strictfp
    /// (see `strict`), and a call in one must not let LLVM assume the callee leaves the
    /// floating-point state alone.
    func call(_ type: LLVMTypeRef, _ function: LLVMValueRef, _ arguments: [LLVMValueRef], _ name: String = "") -> LLVMValueRef {
        var arguments = arguments.map { Optional($0) }
        let call = LLVMBuildCall2(ref, type, function, &arguments, UInt32(arguments.count), name)!
        if tracksFloatFlags { LLVMAddCallSiteAttribute(call, UInt32.max, Builder.attribute("strictfp", in: LLVMGetModuleContext(module))) }
        return call
    }

    static func attribute(_ name: String, _ value: UInt64 = 0, in context: LLVMContextRef) -> LLVMAttributeRef {
        LLVMCreateEnumAttribute(context, LLVMGetEnumAttributeKindForName(name, name.utf8.count), value)
    }

    /// A floating-point operation as LLVM's constrained intrinsic `llvm.experimental.constrained.<name>`,
    /// rounding to nearest (other modes go through the runtime) with strict exception semantics:
    /// the optimizer may neither drop, duplicate, move nor fold it, so the host's exception flags
    /// (MXCSR, where the guest's fflags accrue) see exactly the guest's operations.
    /// Without `tracksFloatFlags`, LLVM's instruction or intrinsic of the same name: the same
    /// value (rounding to nearest), which LLVM may fold, move and vectorize.
    func strict(_ name: String, _ overloads: [LLVMTypeRef], _ arguments: [LLVMValueRef], rounds: Bool) -> LLVMValueRef {
        if !tracksFloatFlags { return plain(name, overloads, arguments) }
        let context = LLVMGetModuleContext(module)
        func metadata(_ text: String) -> LLVMValueRef {
            LLVMMetadataAsValue(context, LLVMMDStringInContext2(context, text, text.utf8.count))
        }
        let rounding = rounds ? [metadata("round.tonearest")] : []
        return intrinsic("llvm.experimental.constrained." + name, overloads, arguments + rounding + [metadata("fpexcept.strict")])
    }

    /// `fcmp` with exception semantics: quiet compares raise invalid only for signaling NaNs
    /// (feq), signaling ones for any NaN (flt, fle).
    /// `ignoringExceptions`: for operands that cannot raise anything (results of arithmetic are never
    /// signaling NaNs), which lets LLVM use its cheapest comparison.
    func strictCompare(_ predicate: String, _ a: LLVMValueRef, _ b: LLVMValueRef, signaling: Bool = false,
                       ignoringExceptions: Bool = false) -> LLVMValueRef {
        if !tracksFloatFlags { return LLVMBuildFCmp(ref, Self.realPredicates[predicate]!, a, b, "") }
        let context = LLVMGetModuleContext(module)
        let condition = LLVMMetadataAsValue(context, LLVMMDStringInContext2(context, predicate, predicate.utf8.count))!
        let behavior = ignoringExceptions ? "fpexcept.ignore" : "fpexcept.strict"
        let except = LLVMMetadataAsValue(context, LLVMMDStringInContext2(context, behavior, behavior.utf8.count))!
        return intrinsic(signaling ? "llvm.experimental.constrained.fcmps" : "llvm.experimental.constrained.fcmp",
                         [LLVMTypeOf(a)], [a, b, condition, except])
    }

    /// The operation `strict` names, as an ordinary instruction (an intrinsic for the rest).
    private func plain(_ name: String, _ overloads: [LLVMTypeRef], _ arguments: [LLVMValueRef]) -> LLVMValueRef {
        let (a, type) = (arguments[0], overloads[0])
        switch name {
        case "fadd": return LLVMBuildFAdd(ref, a, arguments[1], "")
        case "fsub": return LLVMBuildFSub(ref, a, arguments[1], "")
        case "fmul": return LLVMBuildFMul(ref, a, arguments[1], "")
        case "fdiv": return LLVMBuildFDiv(ref, a, arguments[1], "")
        case "sitofp": return LLVMBuildSIToFP(ref, a, type, "")
        case "uitofp": return LLVMBuildUIToFP(ref, a, type, "")
        case "fptosi": return LLVMBuildFPToSI(ref, a, type, "")
        case "fptoui": return LLVMBuildFPToUI(ref, a, type, "")
        case "fpext": return LLVMBuildFPExt(ref, a, type, "")
        case "fptrunc": return LLVMBuildFPTrunc(ref, a, type, "")
        default: return intrinsic("llvm." + name, [type], arguments)
        }
    }

    static let realPredicates: [String: LLVMRealPredicate] = [
        "oeq": LLVMRealOEQ, "ogt": LLVMRealOGT, "oge": LLVMRealOGE, "olt": LLVMRealOLT, "ole": LLVMRealOLE,
        "one": LLVMRealONE, "ord": LLVMRealORD, "uno": LLVMRealUNO, "ueq": LLVMRealUEQ, "ugt": LLVMRealUGT,
        "uge": LLVMRealUGE, "ult": LLVMRealULT, "ule": LLVMRealULE, "une": LLVMRealUNE]

    /// Calls an LLVM intrinsic such as `llvm.fma` overloaded on `overloads`.
    func intrinsic(_ name: String, _ overloads: [LLVMTypeRef], _ arguments: [LLVMValueRef]) -> LLVMValueRef {
        let id = LLVMLookupIntrinsicID(name, name.utf8.count)
        var overloads = overloads.map { Optional($0) }
        let function = LLVMGetIntrinsicDeclaration(module, id, &overloads, overloads.count)!
        let type = LLVMIntrinsicGetType(LLVMGetModuleContext(module), id, &overloads, overloads.count)!
        return call(type, function, arguments)
    }

    /// Tells LLVM that `instruction` (a branch or select) all but never takes its true side, so
    /// that code generation makes a select a branch, predicted and off the dependency chain.
    func markTrueSideRare(_ instruction: LLVMValueRef) {
        let context = LLVMGetModuleContext(module)
        var operands: [LLVMMetadataRef?] = [LLVMMDStringInContext2(context, "branch_weights", 14)]
            + [1, 1 << 20].map { LLVMValueAsMetadata(LLVMConstInt(types.i32, $0, 0)) }
        let weights = LLVMMDNodeInContext2(context, &operands, operands.count)
        LLVMSetMetadata(instruction, LLVMGetMDKindIDInContext(context, "prof", 4), LLVMMetadataAsValue(context, weights))
    }

    func br(_ block: LLVMBasicBlockRef) { LLVMBuildBr(ref, block) }
    @discardableResult
    func condBr(_ condition: LLVMValueRef, _ then: LLVMBasicBlockRef, _ otherwise: LLVMBasicBlockRef) -> LLVMValueRef {
        LLVMBuildCondBr(ref, condition, then, otherwise)
    }

    /// Marks `latch`'s loop `llvm.loop.mustprogress`: LLVM may assume it ends.
    func markLoopMustProgress(_ latch: LLVMValueRef) {
        let context = LLVMGetModuleContext(module)
        var property: [LLVMMetadataRef?] = [LLVMMDStringInContext2(context, "llvm.loop.mustprogress", 22)]
        // A loop ID names itself first: made with a placeholder, which is then replaced by the node.
        let placeholder = LLVMTemporaryMDNode(context, nil, 0)
        var operands: [LLVMMetadataRef?] = [placeholder, LLVMMDNodeInContext2(context, &property, 1)]
        let loop = LLVMMDNodeInContext2(context, &operands, 2)!
        LLVMMetadataReplaceAllUsesWith(placeholder, loop)
        LLVMSetMetadata(latch, LLVMGetMDKindIDInContext(context, "llvm.loop", 9), LLVMMetadataAsValue(context, loop))
    }
    func position(at block: LLVMBasicBlockRef) { LLVMPositionBuilderAtEnd(ref, block) }
    var currentBlock: LLVMBasicBlockRef { LLVMGetInsertBlock(ref) }
}

extension LLVMValueRef {
    func isInteger64(_ types: IRTypes) -> Bool { LLVMTypeOf(self) == types.i64 }
}

/// Guest registers that travel between region functions in host registers rather than
/// through the CPU state: calls and returns cross regions, and these are the registers
/// they use most (ra, sp, a0..a5). LLVM's GHC convention passes all ten arguments in
/// registers and keeps no callee-saved ones, so a chain of tail calls stays in registers.
public enum RegisterPassing {
    public static let registers = [1, 2, 10, 11, 12, 13, 14, 15]
    public static let callingConvention = UInt32(LLVMGHCCallConv.rawValue)
}

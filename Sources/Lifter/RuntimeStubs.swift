import CLLVM
import Guest
import RISCV

/// The two functions between the dispatcher (C convention) and region functions (GHC
/// convention, passed registers): one enters translated code, one leaves it. And the
/// helpers region functions call with LLVM's preserve_all convention (they keep every
/// register, so the guest values translated code holds in XMM registers are not spilled
/// around calls): they are compiled here, for the same host features as the regions,
/// because which registers preserve_all covers depends on them (AVX-512 adds zmm16-31, k0-7).
public enum RuntimeStubs {
    /// `void enter(ptr cpu, i64 pc, ptr code)`: loads the passed registers from the CPU state and calls `code`.
    public static let enter = "pagelift_enter"
    /// A region function that stores the passed registers and returns to the dispatcher;
    /// `resolve` hands it out when translated code must stop (a fault at the target).
    public static let returnToDispatcher = "pagelift_return_to_dispatcher"

    /// The runtime's implementation behind `RuntimeSymbols.roundedOperation` (C convention).
    public static let roundedOperationImplementation = "pagelift_rounded_operation_implementation"

    public static func emit(into module: IRModule) {
        let types = IRTypes(module.context)
        let builder = Builder(ref: LLVMCreateBuilderInContext(module.context), types: types, module: module.ref)
        defer { LLVMDisposeBuilder(builder.ref) }
        func field(_ cpu: LLVMValueRef, _ register: Int) -> LLVMValueRef { builder.gep(cpu, byteOffset: CPULayout.x(register)) }

        var parameters: [LLVMTypeRef?] = [types.ptr, types.i64, types.ptr]
        let enterType = LLVMFunctionType(types.void, &parameters, 3, 0)!
        let enterFunction = LLVMAddFunction(module.ref, enter, enterType)!
        builder.position(at: LLVMAppendBasicBlockInContext(module.context, enterFunction, "entry"))
        let cpu = LLVMGetParam(enterFunction, 0)!
        let passed = RegisterPassing.registers.map { builder.load(types.i64, field(cpu, $0), integerRegisterNames[$0], align: 8) }
        let call = builder.call(types.pageFunction, LLVMGetParam(enterFunction, 2), [cpu, LLVMGetParam(enterFunction, 1)] + passed)
        LLVMSetInstructionCallConv(call, RegisterPassing.callingConvention)
        LLVMBuildRetVoid(builder.ref)

        let leave = LLVMAddFunction(module.ref, returnToDispatcher, types.pageFunction)!
        LLVMSetFunctionCallConv(leave, RegisterPassing.callingConvention)
        builder.position(at: LLVMAppendBasicBlockInContext(module.context, leave, "entry"))
        let leavingCPU = LLVMGetParam(leave, 0)!
        for (offset, register) in RegisterPassing.registers.enumerated() {
            builder.store(LLVMGetParam(leave, UInt32(2 + offset)), field(leavingCPU, register), align: 8)
        }
        LLVMBuildRetVoid(builder.ref)

        emitFloatFlagHelpers(builder)
        emitRoundedOperation(builder)
    }

    /// LLVM would end preserve_all functions with vzeroupper (after restoring the YMM registers
    /// they keep), zeroing the upper halves the caller relies on. The attribute replaces the
    /// target machine's feature list, so it repeats the host's.
    private static let preserveAllFeatures: String = {
        let features = LLVMGetHostCPUFeatures()!
        defer { LLVMDisposeMessage(features) }
        return String(cString: features) + ",-vzeroupper"
    }()

    private static func preserveAllFunction(_ builder: Builder, _ name: String, returns: LLVMTypeRef, _ parameters: [LLVMTypeRef]) -> LLVMValueRef {
        var parameters = parameters.map { Optional($0) }
        let function = LLVMAddFunction(builder.module, name, LLVMFunctionType(returns, &parameters, UInt32(parameters.count), 0))!
        LLVMSetFunctionCallConv(function, LLVMPreserveAllCallConv.rawValue)
        let value = preserveAllFeatures
        let context = LLVMGetModuleContext(builder.module)
        LLVMAddAttributeAtIndex(function, UInt32.max, LLVMCreateStringAttribute(context, "target-features", 15, value, UInt32(value.utf8.count)))
        builder.position(at: LLVMAppendBasicBlockInContext(LLVMGetModuleContext(builder.module), function, "entry"))
        return function
    }

    /// `i32 sync(i32 fcsr)`: fcsr with the host's accrued flags (MXCSR) or'ed in, for a CSR instruction that reads them.
    /// `settle(i32 fcsr)`: after one wrote fcsr's flags, clears the host's if they hold any fcsr lacks
    /// (reading MXCSR waits for the floating-point operations in flight; writing it costs more still).
    private static func emitFloatFlagHelpers(_ builder: Builder) {
        let types = builder.types
        func i32(_ value: Int64) -> LLVMValueRef { builder.constant(value, types.i32) }
        func readMXCSR() -> LLVMValueRef {
            let slot = LLVMBuildAlloca(builder.ref, types.i32, "mxcsr")!
            _ = builder.intrinsic("llvm.x86.sse.stmxcsr", [], [slot])
            return builder.load(types.i32, slot, "mxcsr", align: 4)
        }
        // x86: IE=1 DE=2 ZE=4 OE=8 UE=16 PE=32; RISC-V: NX=1 UF=2 OF=4 DZ=8 NV=16. DE means nothing to RISC-V.
        func riscvFlags(_ host: LLVMValueRef) -> LLVMValueRef {
            let moves: [(mask: Int64, shift: Int64)] = [(1, 4), (4, 1), (8, -1), (16, -3), (32, -5)]
            return moves.map { move -> LLVMValueRef in
                let bit = builder.and(host, i32(move.mask))
                return move.shift > 0 ? builder.shl(bit, i32(move.shift)) : builder.lshr(bit, i32(-move.shift))
            }.reduce(i32(0)) { builder.or($0, $1) }
        }

        let sync = preserveAllFunction(builder, RuntimeSymbols.syncFloatFlags, returns: types.i32, [types.i32])
        LLVMBuildRet(builder.ref, builder.or(LLVMGetParam(sync, 0)!, riscvFlags(readMXCSR())))

        let settle = preserveAllFunction(builder, RuntimeSymbols.settleFloatFlags, returns: types.void, [types.i32])
        let written = LLVMGetParam(settle, 0)!
        let mxcsr = readMXCSR()
        let extra = builder.and(riscvFlags(mxcsr), builder.xor(written, i32(-1)))
        let clear = LLVMAppendBasicBlockInContext(LLVMGetModuleContext(builder.module), settle, "clear")!
        let done = LLVMAppendBasicBlockInContext(LLVMGetModuleContext(builder.module), settle, "done")!
        builder.condBr(builder.icmp(LLVMIntNE, extra, i32(0)), clear, done)
        builder.position(at: clear)
        let slot = LLVMBuildAlloca(builder.ref, types.i32, "cleared")!
        builder.store(builder.and(mxcsr, i32(~0x3f)), slot, align: 4)
        _ = builder.intrinsic("llvm.x86.sse.ldmxcsr", [], [slot])
        builder.br(done)
        builder.position(at: done)
        LLVMBuildRetVoid(builder.ref)
    }

    /// `rounded(...)` with preserve_all, forwarding to the runtime's C-convention implementation.
    private static func emitRoundedOperation(_ builder: Builder) {
        let types = builder.types
        let parameters = [types.i32, types.i32, types.i32, types.i64, types.i64, types.i64]
        let function = preserveAllFunction(builder, RuntimeSymbols.roundedOperation, returns: types.i64, parameters)
        var parameterList = parameters.map { Optional($0) }
        let type = LLVMFunctionType(types.i64, &parameterList, UInt32(parameters.count), 0)!
        let implementation = LLVMAddFunction(builder.module, roundedOperationImplementation, type)!
        let result = builder.call(type, implementation, (0..<UInt32(parameters.count)).map { LLVMGetParam(function, $0)! })
        LLVMBuildRet(builder.ref, result)
    }
}

import CLLVM
import Guest
import RISCV

/// The two functions between the dispatcher (C convention) and region functions (GHC
/// convention, passed registers): one enters translated code, one leaves it.
public enum RuntimeStubs {
    /// `void enter(ptr cpu, i64 pc, ptr code)`: loads the passed registers from the CPU state and calls `code`.
    public static let enter = "pagelift_enter"
    /// A region function that stores the passed registers and returns to the dispatcher;
    /// `resolve` hands it out when translated code must stop (a fault at the target).
    public static let returnToDispatcher = "pagelift_return_to_dispatcher"

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
    }
}

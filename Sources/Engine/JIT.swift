import CLLVM
import Lifter

/// The process's one ORC LLJIT: host helpers as absolute symbols, a module per page.
public final class JIT: @unchecked Sendable {
    private let jit: LLVMOrcLLJITRef
    /// A target machine like the JIT's, for running passes and emitting assembly.
    public let targetMachine: LLVMTargetMachineRef

    public init(optimizationLevel: Int) throws(LLVMFailure) {
        LLVMInitializeNativeTarget()
        LLVMInitializeNativeAsmPrinter()
        let level: LLVMCodeGenOptLevel = switch optimizationLevel {
        case 0: LLVMCodeGenLevelNone
        case 1: LLVMCodeGenLevelLess
        case 2: LLVMCodeGenLevelDefault
        default: LLVMCodeGenLevelAggressive
        }
        func makeTargetMachine() throws(LLVMFailure) -> LLVMTargetMachineRef {
            let triple = LLVMGetDefaultTargetTriple()!
            defer { LLVMDisposeMessage(triple) }
            var target: LLVMTargetRef?
            var message: UnsafeMutablePointer<CChar>?
            guard LLVMGetTargetFromTriple(triple, &target, &message) == 0, let target else {
                defer { LLVMDisposeMessage(message) }
                throw LLVMFailure(context: "looking up the host target", message: message.map { String(cString: $0) } ?? "unknown")
            }
            let cpu = LLVMGetHostCPUName()!, features = LLVMGetHostCPUFeatures()!
            defer { LLVMDisposeMessage(cpu); LLVMDisposeMessage(features) }
            // The large code model: guest memory, the code map and the helpers sit at
            // arbitrary 64-bit addresses, out of reach of 32-bit displacements.
            return LLVMCreateTargetMachine(target, triple, cpu, features, level, LLVMRelocDefault, LLVMCodeModelLarge)
        }
        targetMachine = try makeTargetMachine()
        let builder = LLVMOrcCreateLLJITBuilder()!
        LLVMOrcLLJITBuilderSetJITTargetMachineBuilder(builder, LLVMOrcJITTargetMachineBuilderCreateFromTargetMachine(try makeTargetMachine()))
        var jit: LLVMOrcLLJITRef?
        try LLVMFailure.check(LLVMOrcCreateLLJIT(&jit, builder), "creating the JIT")
        self.jit = jit!
        LLVMOrcExecutionSessionSetErrorReporter(LLVMOrcLLJITGetExecutionSession(jit), { _, error in
            LLVMConsumeError(error)
        }, nil)
    }

    deinit {
        LLVMOrcDisposeLLJIT(jit)
        LLVMDisposeTargetMachine(targetMachine)
    }

    /// Makes `symbols` (name to host address) visible to every module as callable, exported symbols.
    public func defineAbsolute(_ symbols: [String: UInt64]) throws(LLVMFailure) {
        var pairs = symbols.map { name, address in
            LLVMOrcCSymbolMapPair(
                Name: LLVMOrcLLJITMangleAndIntern(jit, name),
                Sym: LLVMJITEvaluatedSymbol(Address: address, Flags: LLVMJITSymbolFlags(
                    GenericFlags: UInt8(LLVMJITSymbolGenericFlagsExported.rawValue | LLVMJITSymbolGenericFlagsCallable.rawValue),
                    TargetFlags: 0)))
        }
        let unit = LLVMOrcAbsoluteSymbols(&pairs, pairs.count)
        try LLVMFailure.check(LLVMOrcJITDylibDefine(LLVMOrcLLJITGetMainJITDylib(jit), unit), "defining runtime symbols")
    }

    /// Hands `module` (already optimized) to the JIT, which compiles it on first lookup.
    public func add(_ module: IRModule) throws(LLVMFailure) {
        let safeModule = LLVMOrcCreateNewThreadSafeModule(module.release(), module.threadSafeContext)!
        try LLVMFailure.check(LLVMOrcLLJITAddLLVMIRModule(jit, LLVMOrcLLJITGetMainJITDylib(jit), safeModule), "adding a module to the JIT")
    }

    public func lookup(_ name: String) throws(LLVMFailure) -> UInt64 {
        var address: LLVMOrcExecutorAddress = 0
        try LLVMFailure.check(LLVMOrcLLJITLookup(jit, &address, name), "looking up \(name)")
        return address
    }
}

import CLLVM
import Lifter

/// A new-pass-manager pipeline: a level (`default<O2>`) or any pipeline string.
public struct PassPipeline: Sendable, Equatable {
    public let text: String

    public init(level: Int) { text = "default<O\(level)>" }
    public init(text: String) { self.text = text }

    /// Optimizes `module` in place.
    public func run(on module: IRModule, targetMachine: LLVMTargetMachineRef) throws(LLVMFailure) {
        let options = LLVMCreatePassBuilderOptions()
        defer { LLVMDisposePassBuilderOptions(options) }
        try LLVMFailure.check(LLVMRunPasses(module.ref, text, targetMachine, options), "running pipeline '\(text)'")
    }
}

import CLLVM
import Lifter

/// A new-pass-manager pipeline: a level (`default<O2>`) or any pipeline string.
public struct PassPipeline: Sendable, Equatable {
    public let text: String

    public init(level: Int) { text = "default<O\(level)>" }
    public init(text: String) { self.text = text }

    /// `name` from Configs/pipelines.conf if it is one, else `name` as a pipeline string.
    public static func named(_ name: String, executablePath: String) throws -> PassPipeline {
        if let (_, text) = ConfigFile.read("pipelines.conf", executablePath: executablePath),
           let entry = try ConfigFile.settings(text).first(where: { $0.key == name }) {
            return PassPipeline(text: entry.value)
        }
        return PassPipeline(text: name)
    }

    /// Optimizes `module` in place.
    public func run(on module: IRModule, targetMachine: LLVMTargetMachineRef) throws(LLVMFailure) {
        let options = LLVMCreatePassBuilderOptions()
        defer { LLVMDisposePassBuilderOptions(options) }
        try LLVMFailure.check(LLVMRunPasses(module.ref, text, targetMachine, options), "running the pipeline")
    }

    /// Fails with LLVM's own message if the string does not parse.
    public func validate() throws(LLVMFailure) {
        let generator = try CodeGenerator(optimizationLevel: 0)
        try run(on: IRModule(name: "validate"), targetMachine: generator.targetMachine)
    }
}

import CLLVM

/// An error LLVM reported, with what we were doing when it did.
public struct LLVMFailure: Error, CustomStringConvertible {
    public let context: String
    public let message: String
    public var description: String { "\(context): \(message)" }

    /// Consumes `error`; nil when there was none.
    static func check(_ error: LLVMErrorRef?, _ context: @autoclosure () -> String) throws(LLVMFailure) {
        guard let error else { return }
        let raw = LLVMGetErrorMessage(error)!
        defer { LLVMDisposeErrorMessage(raw) }
        throw LLVMFailure(context: context(), message: String(cString: raw))
    }
}

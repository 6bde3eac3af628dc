import CLLVM
#if canImport(Glibc)
import Glibc
#endif
import Guest
import Lifter

/// LLVM's own command-line options (`Configs/tiers.conf` llvm_options), which LLVM keeps
/// process-wide: they are set before the first compilation and cannot change afterwards.
public enum LLVMOptions {
    private static let lock = Lock()
    nonisolated(unsafe) private static var applied: [String]? = nil

    /// Sets `options` for this process; a later call must ask for the same ones.
    /// LLVM's C API ignores an option it does not know, without saying so.
    public static func apply(_ options: [String]) throws {
        try lock.withLock {
            if let applied {
                guard applied == options else {
                    throw ConfigurationError("LLVM options \(options) asked for after \(applied) were set; they are fixed per process")
                }
                return
            }
            applied = options
            guard !options.isEmpty else { return }
            let arguments = ["pagelift (tiers.conf llvm_options)"] + options
            // Kept for the life of the process, as a program's argv would be.
            var pointers = arguments.map { UnsafePointer(strdup($0)) }
            LLVMParseCommandLineOptions(Int32(pointers.count), &pointers, nil)
        }
    }
}

/// Makes host target machines: large code model (guest memory, the code map and the
/// helpers sit at arbitrary 64-bit addresses), host CPU and features, a chosen codegen level.
enum HostTarget {
    static func makeTargetMachine(optimizationLevel: Int) throws(LLVMFailure) -> LLVMTargetMachineRef {
        LLVMInitializeNativeTarget()
        LLVMInitializeNativeAsmPrinter()
        // Translated code polls for signals through an inline-assembly load (see `PageLifter.readSignalPending`).
        LLVMInitializeNativeAsmParser()
        let level: LLVMCodeGenOptLevel = switch optimizationLevel {
        case 0: LLVMCodeGenLevelNone
        case 1: LLVMCodeGenLevelLess
        case 2: LLVMCodeGenLevelDefault
        default: LLVMCodeGenLevelAggressive
        }
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
        return LLVMCreateTargetMachine(target, triple, cpu, features, level, LLVMRelocDefault, LLVMCodeModelLarge)
    }
}

/// Turns optimized modules into relocatable object code at one codegen level.
/// One per thread: a target machine is not shared between concurrent compilations.
public final class CodeGenerator: @unchecked Sendable {
    public let targetMachine: LLVMTargetMachineRef

    public init(optimizationLevel: Int) throws(LLVMFailure) {
        targetMachine = try HostTarget.makeTargetMachine(optimizationLevel: optimizationLevel)
    }

    deinit { LLVMDisposeTargetMachine(targetMachine) }

    public func object(for module: IRModule) throws(LLVMFailure) -> ObjectCode {
        try emit(module, as: LLVMObjectFile)
    }

    /// The host assembly LLVM generates for `module`.
    public func assembly(for module: IRModule) throws(LLVMFailure) -> String {
        let code = try emit(module, as: LLVMAssemblyFile)
        return String(decoding: code.bytes, as: UTF8.self)
    }

    private func emit(_ module: IRModule, as kind: LLVMCodeGenFileType) throws(LLVMFailure) -> ObjectCode {
        var message: UnsafeMutablePointer<CChar>?
        var buffer: LLVMMemoryBufferRef?
        guard LLVMTargetMachineEmitToMemoryBuffer(targetMachine, module.ref, kind, &message, &buffer) == 0, let buffer else {
            defer { LLVMDisposeMessage(message) }
            throw LLVMFailure(context: "generating code", message: message.map { String(cString: $0) } ?? "unknown")
        }
        defer { LLVMDisposeMemoryBuffer(buffer) }
        let start = UnsafeRawPointer(LLVMGetBufferStart(buffer)!)
        return ObjectCode(bytes: [UInt8](UnsafeRawBufferPointer(start: start, count: LLVMGetBufferSize(buffer))))
    }
}

/// A relocatable object file in memory (also what the disk cache stores).
public struct ObjectCode: Sendable, Equatable {
    public var bytes: [UInt8]
    public init(bytes: [UInt8]) { self.bytes = bytes }

    /// The size in bytes of the object's code sections: each object holds one region function.
    public var codeSize: UInt64 {
        let buffer = bytes.withUnsafeBufferPointer { bytes in
            bytes.withMemoryRebound(to: CChar.self) { LLVMCreateMemoryBufferWithMemoryRangeCopy($0.baseAddress, $0.count, "object")! }
        }
        defer { LLVMDisposeMemoryBuffer(buffer) }
        let context = LLVMContextCreate()
        defer { LLVMContextDispose(context) }
        var message: UnsafeMutablePointer<CChar>?
        guard let binary = LLVMCreateBinary(buffer, context, &message) else {
            LLVMDisposeMessage(message)
            return 0
        }
        defer { LLVMDisposeBinary(binary) }
        guard let sections = LLVMObjectFileCopySectionIterator(binary) else { return 0 }
        defer { LLVMDisposeSectionIterator(sections) }
        var total: UInt64 = 0
        while LLVMObjectFileIsSectionIteratorAtEnd(binary, sections) == 0 {
            if let name = LLVMGetSectionName(sections), String(cString: name).hasPrefix(".text") || String(cString: name).hasPrefix(".ltext") {
                total += LLVMGetSectionSize(sections)
            }
            LLVMMoveToNextSection(sections)
        }
        return total
    }
}

/// The process's one ORC LLJIT: host helpers as absolute symbols, an object per region.
/// ORC links concurrently added objects safely, so the tier-up thread adds its own.
public final class JIT: @unchecked Sendable {
    private let jit: LLVMOrcLLJITRef

    public init() throws(LLVMFailure) {
        let builder = LLVMOrcCreateLLJITBuilder()!
        LLVMOrcLLJITBuilderSetJITTargetMachineBuilder(builder, LLVMOrcJITTargetMachineBuilderCreateFromTargetMachine(
            try HostTarget.makeTargetMachine(optimizationLevel: 0)))
        var jit: LLVMOrcLLJITRef?
        try LLVMFailure.check(LLVMOrcCreateLLJIT(&jit, builder), "creating the JIT")
        self.jit = jit!
        // Lookups report their own errors; don't let ORC print to the guest's stderr as well.
        LLVMOrcExecutionSessionSetErrorReporter(LLVMOrcLLJITGetExecutionSession(jit), { _, error in
            LLVMConsumeError(error)
        }, nil)
    }

    deinit { LLVMOrcDisposeLLJIT(jit) }

    /// Makes `symbols` (name to host address) visible to every object as callable, exported symbols.
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

    /// Links `object` and returns the address of `symbol` in it.
    public func load(_ object: ObjectCode, symbol: String) throws(LLVMFailure) -> UInt64 {
        try load(object, symbols: [symbol])[0]
    }

    /// Links `object` and returns the addresses of `symbols` in it.
    public func load(_ object: ObjectCode, symbols: [String]) throws(LLVMFailure) -> [UInt64] {
        let symbol = symbols[0]
        let buffer = object.bytes.withUnsafeBufferPointer { bytes in
            bytes.withMemoryRebound(to: CChar.self) {
                LLVMCreateMemoryBufferWithMemoryRangeCopy($0.baseAddress, $0.count, symbol)!
            }
        }
        try LLVMFailure.check(LLVMOrcLLJITAddObjectFile(jit, LLVMOrcLLJITGetMainJITDylib(jit), buffer), "adding the object for \(symbol)")
        return try symbols.map(lookup)
    }

    /// The address of a linked symbol.
    public func lookup(_ name: String) throws(LLVMFailure) -> UInt64 {
        var address: LLVMOrcExecutorAddress = 0
        try LLVMFailure.check(LLVMOrcLLJITLookup(jit, &address, name), "looking up \(name)")
        return address
    }
}

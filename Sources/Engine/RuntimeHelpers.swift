import CHostFloat
import CHostSyscall
import Guest

/// The C entry points translated code calls (by the addresses `Engine` defines for their
/// symbols): each finds the guest thread of the CPU state it is given and asks it or the
/// process's translator.
func guestThread(_ cpu: UnsafeMutableRawPointer) -> GuestThread {
    Unmanaged<GuestThread>.fromOpaque(cpu.load(fromByteOffset: CPULayout.runtime, as: UnsafeMutableRawPointer.self)).takeUnretainedValue()
}

// Runtime entries keep the guest's accrued floating-point flags (host MXCSR) out of reach
// of whatever arithmetic the runtime and LLVM do on this thread.
let resolveHelper: @convention(c) (UnsafeMutableRawPointer, UInt64) -> UInt64 = { cpu, pc in
    resolveFromTranslatedCode(cpu, pc, checkpoint: false)
}
let resolveAtCheckpointHelper: @convention(c) (UnsafeMutableRawPointer, UInt64) -> UInt64 = { cpu, pc in
    resolveFromTranslatedCode(cpu, pc, checkpoint: true)
}

/// A miss in the code map: the thread is out of translated code while the runtime finds or
/// compiles the code; with `checkpoint` (code that logs stores), the state it leaves is one.
private func resolveFromTranslatedCode(_ cpu: UnsafeMutableRawPointer, _ pc: UInt64, checkpoint: Bool) -> UInt64 {
    let flags = pagelift_host_float_flags()
    defer { pagelift_set_host_float_flags(flags) }
    let thread = guestThread(cpu), engine = thread.engine
    engine.leaveGuestCode(thread)
    defer { engine.enterGuestCode(thread) }
    let code = engine.resolve(pc, on: thread)
    if checkpoint && thread.cpu.stopReason == .none {
        thread.checkpoint.save(thread.cpu, hostFloatFlags: flags)
    }
    return code
}
// A syscall that lets translated code go on leaves the CPU state exact: the fault checkpoint.
let syscallHelper: @convention(c) (UnsafeMutableRawPointer) -> Int32 = { cpu in
    let flags = pagelift_host_float_flags()
    defer { pagelift_set_host_float_flags(flags) }
    let thread = guestThread(cpu)
    thread.engine.leaveGuestCode(thread)
    defer { thread.engine.enterGuestCode(thread) }
    var stops = thread.syscall()
    // The store log started (this call installed a fault handler, or another thread's did):
    // the thread goes on through the dispatcher, into code that logs.
    if stops == 0 && !thread.checkpoint.storeLogComplete && thread.engine.storeLogActive { stops = 1 }
    if stops == 0 { thread.checkpoint.save(thread.cpu, hostFloatFlags: flags) }
    return stops
}
// Other threads are what it guards against (see `PageLifter.logsStores`).
let checkpointHelper: @convention(c) (UnsafeMutableRawPointer) -> Void = { cpu in
    let thread = guestThread(cpu)
    thread.checkpoint.save(thread.cpu, hostFloatFlags: pagelift_host_float_flags())
}
let regionHotHelper: @convention(c) (UnsafeMutableRawPointer, UInt64) -> Void = { cpu, entry in
    GuestFloatFlags.preserved { let thread = guestThread(cpu); thread.engine.promote(entry: entry, on: thread) }
}
let flushInstructionsHelper: @convention(c) (UnsafeMutableRawPointer) -> Void = { cpu in
    GuestFloatFlags.preserved { let thread = guestThread(cpu); thread.engine.flushInstructions(on: thread) }
}
let readCounterHelper: @convention(c) (UnsafeMutableRawPointer, Int32) -> UInt64 = { cpu, csr in
    GuestFloatFlags.preserved { guestThread(cpu).engine.readCounter(csr) }
}
let replayAccessEntry: @convention(c) (UnsafeMutableRawPointer?, Int32, UInt64, Int32, UInt64, UInt64) -> UInt64 = pagelift_replay_access
let generalCodeHelper: @convention(c) (UnsafeMutableRawPointer, UInt64) -> UInt64 = { cpu, pc in
    GuestFloatFlags.preserved { let thread = guestThread(cpu); return thread.engine.generalCode(pc, on: thread) }
}

/// While translated code runs, the guest's floating-point exception flags accrue in the host's
/// (MXCSR); fcsr holds the rest. Runtime code in between must neither add to them nor lose them.
enum GuestFloatFlags {
    static func preserved<T>(_ body: () -> T) -> T {
        let flags = pagelift_host_float_flags()
        defer { pagelift_set_host_float_flags(flags) }
        return body()
    }
}

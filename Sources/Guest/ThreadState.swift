/// What the kernel keeps for each guest thread besides its registers: the signal mask, the
/// signals sent to it, its alternate signal stack, the addresses `clone` and
/// `set_tid_address` gave it, its robust futex list, and what its current syscall decided.
public final class ThreadState: @unchecked Sendable {
    /// The guest's mask (bit signal-1), which is also the host thread's (see `applySignalMaskToHost`).
    var signalMask: UInt64 = 0
    /// Signals waiting for delivery at the next safe point, with their siginfo: those the guest
    /// raised itself, and those the host recorded for this thread (`pagelift_record_signal`).
    var pendingSignals: [Int: [UInt8]] = [:]
    /// The mask a handler's frame saves when it is not the current one (during rt_sigsuspend).
    var maskToRestore: UInt64?
    var alternateSignalStack: (sp: UInt64, flags: UInt64, size: UInt64) = (0, 2, 0)
    /// Cleared and woken (a futex) when the thread ends: `CLONE_CHILD_CLEARTID`, `set_tid_address`.
    public internal(set) var clearChildTID: UInt64 = 0
    /// The head of the thread's robust futex list (`set_robust_list`), walked when it ends.
    public internal(set) var robustList: UInt64 = 0
    /// Handlers that decide the thread's or the process's fate instead of returning a value.
    var outcome: SyscallOutcome = .resume

    public init() {}

    /// A new thread's: the creating thread's mask, no alternate stack (as clone gives).
    public func forNewThread() -> ThreadState {
        let state = ThreadState()
        state.signalMask = signalMask
        return state
    }
}

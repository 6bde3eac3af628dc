/// Byte offsets into the CPU state block that Swift and JIT code both address.
/// One block per guest thread; the lifter emits loads and stores at these offsets.
public enum CPULayout {
    public static func x(_ index: Int) -> Int { index * 8 }
    public static func f(_ index: Int) -> Int { 256 + index * 8 }
    public static let pc = 512
    /// fflags in bits 4:0, frm in bits 7:5, as the fcsr CSR.
    public static let fcsr = 520
    public static let reservationAddress = 528
    public static let reservationValue = 536
    /// Why translated code returned to the dispatcher (`StopReason`).
    public static let stopReason = 544
    /// Detail for the stop: exit status, instruction bits, fault address, signal.
    public static let stopDetail = 552
    /// The runtime's guest thread that owns this CPU (an unretained Swift object), for helpers.
    public static let runtime = 560
    /// Nonzero when a signal waits for this thread: translated code polls it where it loops and
    /// where it enters a region, and returns to the dispatcher, which delivers the signal.
    public static let signalPending = 568
    /// The thread's store log (`StoreLog`): where it starts, and the number of the next entry.
    /// Translated code lifted with `PageLifter.logsStores` writes an entry before each store.
    public static let storeLog = 576
    public static let storeLogIndex = 584
    /// Nonzero once the process has more than one thread (a 32-bit word).
    public static let otherThreads = 592
    /// Nonzero while the thread runs translated code, which changes guest memory (a 32-bit word;
    /// `PAGELIFT_CPU_RUNS_GUEST_CODE` in host_syscall.h, see `Engine.stopOtherThreads`).
    public static let runsGuestCode = 596
    public static let size = 640
}

/// A guest thread's store log: a ring of 16-byte entries that translated code lifted with
/// `PageLifter.logsStores` writes before each guest store, holding what the store overwrites:
/// the host address, the width and a lap bit in the first word, the old value in the second.
/// A fault's replay reads the values its thread overwrote since the checkpoint from it (see
/// `FaultReplay`). Entry n goes to slot n mod capacity; its lap bit is bit `capacityBits` of
/// n, so the slots past the last entry written hold the previous lap's and end the scan.
public enum StoreLogLayout {
    public static let capacityBits = 16
    public static let capacity: UInt64 = 1 << UInt64(capacityBits)
    public static let entryBytes = 16
    /// Where the width (log2 of the bytes) lies in the first word.
    public static let widthShift: UInt64 = 56
    public static let lapShift: UInt64 = 63
    public static let addressMask: UInt64 = (1 << widthShift) - 1
}

/// Why translated code returned to the dispatcher.
public enum StopReason: UInt32, Sendable {
    case none = 0
    case exit = 1                 // detail: exit status
    case illegalInstruction = 2   // detail: instruction bits, pc: its address
    case signal = 3               // detail: signal number (guest-raised, e.g. abort)
    case breakpoint = 4           // ebreak
    case fetchFault = 5           // detail: address that could not be fetched
    case threadExit = 6           // detail: exit status of the thread alone
    case unreplayable = 7         // fault replay met a syscall or runtime call: it went astray
}

/// A guest hart's architectural state in a C-layout block (see `CPULayout`).
public final class CPUState: @unchecked Sendable {
    public let base: UnsafeMutableRawPointer
    /// The thread's state that is not architectural: signals, tid addresses.
    public let thread: ThreadState

    /// Translated code is told the state's alignment (see `PageLifter`).
    public static let alignment = 64

    public init(thread: ThreadState = ThreadState()) {
        self.thread = thread
        base = UnsafeMutableRawPointer.allocate(byteCount: CPULayout.size, alignment: Self.alignment)
        base.initializeMemory(as: UInt8.self, repeating: 0, count: CPULayout.size)
    }

    /// A new thread's CPU: the registers of this one (clone copies them all), its own thread state.
    public func copy(thread: ThreadState) -> CPUState {
        let copy = CPUState(thread: thread)
        copy.base.copyMemory(from: base, byteCount: CPULayout.runtime)
        copy.stopReason = .none
        copy.stopDetail = 0
        return copy
    }

    /// The word a signal recorded for this thread sets (see `CPULayout.signalPending`).
    public var signalPendingFlag: UnsafeMutablePointer<UInt32> {
        (base + CPULayout.signalPending).assumingMemoryBound(to: UInt32.self)
    }

    deinit { base.deallocate() }

    public subscript(x index: Int) -> UInt64 {
        get { base.load(fromByteOffset: CPULayout.x(index), as: UInt64.self) }
        set { if index != 0 { base.storeBytes(of: newValue, toByteOffset: CPULayout.x(index), as: UInt64.self) } }
    }

    public subscript(f index: Int) -> UInt64 {
        get { base.load(fromByteOffset: CPULayout.f(index), as: UInt64.self) }
        set { base.storeBytes(of: newValue, toByteOffset: CPULayout.f(index), as: UInt64.self) }
    }

    public var pc: UInt64 {
        get { base.load(fromByteOffset: CPULayout.pc, as: UInt64.self) }
        set { base.storeBytes(of: newValue, toByteOffset: CPULayout.pc, as: UInt64.self) }
    }

    public var fcsr: UInt32 {
        get { base.load(fromByteOffset: CPULayout.fcsr, as: UInt32.self) }
        set { base.storeBytes(of: newValue & 0xff, toByteOffset: CPULayout.fcsr, as: UInt32.self) }
    }

    public var stopReason: StopReason {
        get { StopReason(rawValue: base.load(fromByteOffset: CPULayout.stopReason, as: UInt32.self)) ?? .none }
        set { base.storeBytes(of: newValue.rawValue, toByteOffset: CPULayout.stopReason, as: UInt32.self) }
    }

    public var stopDetail: UInt64 {
        get { base.load(fromByteOffset: CPULayout.stopDetail, as: UInt64.self) }
        set { base.storeBytes(of: newValue, toByteOffset: CPULayout.stopDetail, as: UInt64.self) }
    }

    public var runtime: UnsafeMutableRawPointer? {
        get { base.load(fromByteOffset: CPULayout.runtime, as: UnsafeMutableRawPointer?.self) }
        set { base.storeBytes(of: newValue, toByteOffset: CPULayout.runtime, as: UnsafeMutableRawPointer?.self) }
    }

    public func stop(_ reason: StopReason, detail: UInt64 = 0) {
        stopReason = reason
        stopDetail = detail
    }
}

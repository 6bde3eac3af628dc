#if canImport(Glibc)
import Glibc
#endif
import CHostFloat
import CHostSyscall
import Guest
import Lifter

/// The guest state at the last point where the CPU state held all of it: entering translated
/// code from the dispatcher, and going on after a syscall. In between, translated code keeps
/// registers where LLVM put them (host registers, stack slots), which a host fault does not
/// reveal: a guest fault there is made exact by replaying from here (see `FaultReplay`).
final class Checkpoint {
    /// The registers, pc, fcsr and the LR reservation.
    static let bytes = CPULayout.stopReason
    let state = UnsafeMutableRawPointer.allocate(byteCount: Checkpoint.bytes, alignment: CPUState.alignment)
    /// The guest's floating-point flags that had accrued in the host (see `GuestFloatFlags`).
    var hostFloatFlags: UInt32 = 0
    /// The stack just above sp: code returns from the frames there and calls again, writing
    /// over what it read (a replay from memory alone would find the values it read gone).
    static let stackBytes: UInt64 = 1024
    let stack = UnsafeMutableRawPointer.allocate(byteCount: Int(stackBytes), alignment: 16)
    private(set) var stackStart: UInt64 = 0, stackLength: UInt64 = 0
    /// Where the stack's mapping starts: below sp is free stack, which code writes before it reads.
    private(set) var stackLimit: UInt64 = 0

    /// The number of the store log's next entry.
    private(set) var storeLogIndex: UInt64 = 0
    /// Whether all code the thread runs from its checkpoints on logs its stores: set where it
    /// enters code from the dispatcher, and true for every checkpoint until the next entry.
    var storeLogComplete = false

    /// Whose stack it copies.
    unowned(unsafe) let memory: GuestMemory

    init(memory: GuestMemory) { self.memory = memory }

    func save(_ cpu: CPUState, hostFloatFlags flags: UInt32) {
        state.copyMemory(from: cpu.base, byteCount: Self.bytes)
        hostFloatFlags = flags
        storeLogIndex = cpu.base.load(fromByteOffset: CPULayout.storeLogIndex, as: UInt64.self)
        let sp = cpu[x: 2]
        stackStart = sp
        if let mapping = memory.mappingBounds(around: sp, needs: PROT_READ) {
            stackLength = min(Self.stackBytes, mapping.end - sp)
            stackLimit = mapping.start
            stack.copyMemory(from: memory.host(sp), byteCount: Int(stackLength))
        } else {
            stackLength = 0
            stackLimit = sp
        }
    }

    /// The byte at `address` as it was at the checkpoint, if the checkpoint kept it.
    func stackByte(at address: UInt64) -> UInt8? {
        address &- stackStart < stackLength ? stack.load(fromByteOffset: Int(address - stackStart), as: UInt8.self) : nil
    }

    /// Whether `address` was free stack (below sp) at the checkpoint.
    func isFreeStack(_ address: UInt64) -> Bool { address >= stackLimit && address < stackStart }

    deinit {
        state.deallocate()
        stack.deallocate()
    }
}

/// A guest access that faulted, as the guest's handler sees it: the instruction, the address
/// and why (`si_code`).
struct GuestFault {
    let signal: Int32
    let pc: UInt64
    let address: UInt64
    let code: Int32
    let write: Bool
}

/// Replays the guest from its checkpoint up to the first access that faults, in code lifted
/// for replay (`PageLifter.replaying`): each access goes through `access`, which keeps the
/// replay's stores to itself. At the faulting access the replay's CPU state is the guest's, in
/// any tier: the same instruction semantics, without what LLVM made of them.
///
/// What the replay reads must be what the run read. Memory now is what the run left: right for
/// a byte the run did not write, and for one it read after its last write there. A byte the
/// run overwrote is in the thread's store log when its code logs stores (a process with a
/// SIGSEGV or SIGBUS handler, see `PageLifter.logsStores`): the log's oldest entry for it holds
/// its value at the checkpoint. Without a log, the stack just above sp is as the checkpoint saw
/// it, and a byte the run read before writing it elsewhere (a counter it increments, a lock
/// word) is gone. So the replay runs in passes: the first finds, by access, where each byte is
/// written last; the others read such lost bytes as memory's value changed by a different
/// pattern each. When they agree on every access, on the fault and on every register, the
/// state does not depend on the lost values, and is the guest's; else the replay fails rather
/// than guess.
final class FaultReplay {
    /// What the host saw: the signal and the guest address of the faulting access.
    let hostSignal: Int32
    let hostAddress: UInt64
    let memory: GuestMemory
    let checkpoint: Checkpoint
    /// The values at the checkpoint of the bytes the run overwrote since, from the store log.
    let overwritten: [UInt64: UInt8]
    /// The guest pages of the code that faulted (its region's), when the region is still there.
    let faultingCode: Set<UInt64>?
    /// Replays longer than this many accesses give up (a replay that went astray may loop).
    static let accessLimit = 20_000_000
    /// How the passes after the first change the bytes whose value is lost.
    static let patterns: [UInt8] = [0x00, 0xff, 0x5a]

    private final class PageRecord {
        var bytes = [UInt8](repeating: 0, count: Int(GuestMemory.pageSize))
        var written = [UInt64](repeating: 0, count: Int(GuestMemory.pageSize) / 64)
        /// Stored after the pass read a lost byte: the value may differ from the run's.
        var tainted = [UInt64](repeating: 0, count: Int(GuestMemory.pageSize) / 64)
    }
    /// This pass's stores.
    private var pages: [UInt64: PageRecord] = [:]
    /// From the first pass: per byte, the number of the access that wrote it last (from 1).
    private var lastWrites: [UInt64: [Int32]] = [:]
    /// The pattern of this pass, nil in the first.
    private var pattern: UInt8?
    private var accesses: Int32 = 0
    /// This pass's accesses (address, kind, width) hashed, to compare passes.
    private var trace: UInt64 = 0xcbf2_9ce4_8422_2325
    private var lostReads = 0
    private var fault: GuestFault?
    private var failure: String?

    init(hostSignal: Int32, hostAddress: UInt64, memory: GuestMemory, checkpoint: Checkpoint, overwritten: [UInt64: UInt8],
         faultingCode: Set<UInt64>?) {
        self.hostSignal = hostSignal
        self.hostAddress = hostAddress
        self.memory = memory
        self.checkpoint = checkpoint
        self.overwritten = overwritten
        self.faultingCode = faultingCode
    }

    private struct PassResult {
        let fault: GuestFault
        let state: [UInt8]
        let trace: UInt64
        let accesses: Int32
    }

    /// Runs the replay on `thread` from its checkpoint. On success the thread's CPU state is the
    /// guest's at the faulting instruction.
    func run(on thread: GuestThread) -> Result<GuestFault, FaultReplayFailure> {
        var results: [PassResult] = []
        for pattern in [nil] + Self.patterns.map(Optional.some) {
            switch runPass(pattern: pattern, on: thread) {
            case .failure(let failure): return .failure(failure)
            case .success(let result):
                if pattern != nil { results.append(result) }
            }
            // Nothing read was lost: the second pass is the run.
            if pattern != nil && lostReads == 0 { break }
        }
        let reference = results[0]
        for other in results.dropFirst() {
            guard other.trace == reference.trace, other.accesses == reference.accesses,
                  other.fault.pc == reference.fault.pc, other.fault.address == reference.fault.address else {
                return .failure(FaultReplayFailure(reason: "its path depends on values the code overwrote before the fault"))
            }
            let differing = (1..<32).filter { register in
                (0..<8).contains { other.state[CPULayout.x(register) + $0] != reference.state[CPULayout.x(register) + $0] }
            }.map { "x\($0)" } + (0..<32).filter { register in
                (0..<8).contains { other.state[CPULayout.f(register) + $0] != reference.state[CPULayout.f(register) + $0] }
            }.map { "f\($0)" }
            guard differing.isEmpty else {
                return .failure(FaultReplayFailure(reason: "\(differing.joined(separator: ", ")) at the fault depend on values the code overwrote before it"))
            }
        }
        reference.state.withUnsafeBytes { thread.cpu.base.copyMemory(from: $0.baseAddress!, byteCount: Checkpoint.bytes) }
        return .success(reference.fault)
    }

    private func runPass(pattern: UInt8?, on thread: GuestThread) -> Result<PassResult, FaultReplayFailure> {
        self.pattern = pattern
        pages = [:]
        accesses = 0
        trace = 0xcbf2_9ce4_8422_2325
        lostReads = 0
        fault = nil
        failure = nil
        let engine = thread.engine
        let state = CPUState(thread: thread.cpu.thread)
        state.base.copyMemory(from: checkpoint.state, byteCount: Checkpoint.bytes)
        state.runtime = thread.cpu.runtime
        pagelift_set_host_float_flags(checkpoint.hostFloatFlags)
        thread.replay = self
        defer { thread.replay = nil }
        while fault == nil && failure == nil {
            let pc = state.pc
            let code: UInt64
            do {
                guard let compiled = try engine.replayCode(at: pc, on: thread) else {
                    failure = "it reached pc 0x\(String(pc, radix: 16)), which is not code"
                    break
                }
                code = compiled
            } catch {
                failure = "compiling its code failed: \(error)"
                break
            }
            state.stopReason = .none
            switch engine.enterGuarded(state, pc, code) {
            case 0:
                if state.stopReason != .none { failure = "it stopped at pc 0x\(String(state.pc, radix: 16)) (\(state.stopReason)) before any access faulted" }
            case 2: break  // the fault, or a failure, is recorded
            default: failure = "replayed code faulted in the host"
            }
        }
        if let failure { return .failure(FaultReplayFailure(reason: failure)) }
        guard let fault else { return .failure(FaultReplayFailure(reason: "no fault")) }
        // The run faulted in that page: a replay that faults elsewhere went another way.
        func page(_ address: UInt64) -> UInt64 { address & GuestMemory.addressMask & ~(GuestMemory.pageSize - 1) }
        guard page(fault.address) == page(hostAddress) else {
            return .failure(FaultReplayFailure(reason: "it faulted at 0x\(String(fault.address, radix: 16)), the run at 0x\(String(hostAddress, radix: 16))"))
        }
        // Nor in other code: a nil dereference elsewhere faults in the same page (a Go replay
        // that took `morestack` where the run had not found one in the runtime, and the handler
        // got that state). Without the region, the address must be the run's to the byte.
        if let faultingCode {
            guard faultingCode.contains(DiscoveredPage.pageOf(fault.pc)) else {
                return .failure(FaultReplayFailure(reason: "it faulted at pc 0x\(String(fault.pc, radix: 16)), outside the code that faulted"))
            }
        } else if fault.signal == SIGSEGV, fault.address & GuestMemory.addressMask != hostAddress {
            return .failure(FaultReplayFailure(reason: "it faulted at 0x\(String(fault.address, radix: 16)), the run at 0x\(String(hostAddress, radix: 16))"))
        }
        return .success(PassResult(fault: fault, state: [UInt8](UnsafeRawBufferPointer(start: state.base, count: Checkpoint.bytes)),
                                   trace: trace, accesses: accesses))
    }

    /// One access of the replayed code (`RuntimeSymbols.replayAccess`): performs it on the
    /// replay's record, or sets `stop` where the replay ends.
    func access(pc: UInt64, kind: Int32, address: UInt64, bytes: Int, value: UInt64, expected: UInt64, stop: inout Bool) -> UInt64 {
        accesses += 1
        trace = (trace ^ address ^ UInt64(UInt32(bitPattern: kind)) << 56 ^ UInt64(bytes) << 48) &* 0x100_0000_01b3
        guard Int(accesses) <= Self.accessLimit else {
            failure = "it made \(Self.accessLimit) accesses without reaching a fault, the last at pc 0x\(String(pc, radix: 16)) of 0x\(String(address, radix: 16))"
            stop = true
            return 0
        }
        let reads = kind != ReplayAccess.store.rawValue, writes = kind != ReplayAccess.load.rawValue
        let needs = (reads ? PROT_READ : 0) | (writes ? PROT_WRITE : 0)
        let faultingPage = hostAddress & ~(GuestMemory.pageSize - 1)
        let touchesFaultingPage = (address & ~(GuestMemory.pageSize - 1)) == faultingPage
            || ((address &+ UInt64(bytes) &- 1) & ~(GuestMemory.pageSize - 1)) == faultingPage
        // A page beyond the end of its file (SIGBUS) is mapped as far as the mappings say.
        if !memory.isMapped(address, UInt64(bytes), needs: needs) || (hostSignal == SIGBUS && touchesFaultingPage) {
            let first = (0..<UInt64(bytes)).first { !memory.isMapped(address &+ $0, 1, needs: needs) } ?? 0
            let beyondFile = hostSignal == SIGBUS && touchesFaultingPage
            let faulting = beyondFile ? max(address, faultingPage) : address &+ first
            let code = beyondFile ? FaultCode.busAddressError : FaultCode.segmentation(at: faulting, in: memory)
            fault = GuestFault(signal: beyondFile ? SIGBUS : SIGSEGV, pc: pc, address: faulting, code: code, write: writes)
            stop = true
            return 0
        }
        let mask: UInt64 = bytes == 8 ? ~0 : (1 << UInt64(bytes * 8)) - 1
        var old: UInt64 = 0
        if reads {
            for index in 0..<bytes { old |= UInt64(read(address &+ UInt64(index))) << UInt64(index * 8) }
        }
        let new: UInt64?
        switch kind {
        case ReplayAccess.load.rawValue: new = nil
        case ReplayAccess.store.rawValue: new = value
        case ReplayAccess.compareExchange.rawValue: new = old == expected & mask ? value : nil
        default: new = Self.atomicResult(operation: kind - ReplayAccess.amo.rawValue, old: old, operand: value, bytes: bytes)
        }
        if let new {
            for index in 0..<bytes { write(address &+ UInt64(index), UInt8(truncatingIfNeeded: new >> UInt64(index * 8))) }
        }
        return old
    }

    private func record(_ page: UInt64) -> PageRecord {
        if let record = pages[page] { return record }
        let record = PageRecord()
        pages[page] = record
        return record
    }

    /// The access that writes the byte last in the run, as the first pass found it (0: none).
    private func lastWrite(_ address: UInt64) -> Int32 {
        lastWrites[address & ~(GuestMemory.pageSize - 1)]?[Int(address & (GuestMemory.pageSize - 1))] ?? 0
    }

    /// The byte this pass stored at `address` before it read a lost byte, if it did.
    private func storedUntainted(_ address: UInt64) -> UInt8? {
        guard let record = pages[address & ~(GuestMemory.pageSize - 1)] else { return nil }
        let index = Int(address & (GuestMemory.pageSize - 1))
        return record.written[index >> 6] & ~record.tainted[index >> 6] & (1 << UInt64(index & 63)) != 0 ? record.bytes[index] : nil
    }

    /// The byte this pass stored at `address`, if it did.
    private func stored(_ address: UInt64) -> UInt8? {
        guard let record = pages[address & ~(GuestMemory.pageSize - 1)] else { return nil }
        let index = Int(address & (GuestMemory.pageSize - 1))
        return record.written[index >> 6] & (1 << UInt64(index & 63)) != 0 ? record.bytes[index] : nil
    }

    private func read(_ address: UInt64) -> UInt8 {
        if pattern != nil {
            // Written by the replay for the last time, or never by either: memory holds what the
            // run read (even where this pass's own value differs, having read a changed byte).
            let last = lastWrite(address)
            if last != 0 ? accesses > last : overwritten[address] == nil {
                // A value this pass stored before it read any lost byte is the run's, and memory
                // may have been written by another thread since (Go's sysmon asking the goroutine
                // to yield, which the run had not seen).
                if last != 0, let own = storedUntainted(address) { return own }
                return memory.load(address, as: UInt8.self)
            }
        }
        if let byte = stored(address) ?? overwritten[address] ?? checkpoint.stackByte(at: address) { return byte }
        // The first pass reads memory as it is; free stack holds nothing the guest reads before
        // writing it. Anything else the run read before it wrote it is lost.
        guard let pattern, !checkpoint.isFreeStack(address) else { return memory.load(address, as: UInt8.self) }
        lostReads += 1
        return memory.load(address, as: UInt8.self) ^ pattern
    }

    private func write(_ address: UInt64, _ byte: UInt8) {
        let page = address & ~(GuestMemory.pageSize - 1)
        let record = record(page)
        let index = Int(address & (GuestMemory.pageSize - 1))
        record.written[index >> 6] |= 1 << UInt64(index & 63)
        if lostReads > 0 { record.tainted[index >> 6] |= 1 << UInt64(index & 63) } else { record.tainted[index >> 6] &= ~(1 << UInt64(index & 63)) }
        record.bytes[index] = byte
        if pattern == nil {
            if lastWrites[page] == nil { lastWrites[page] = [Int32](repeating: 0, count: Int(GuestMemory.pageSize)) }
            lastWrites[page]![index] = accesses
        }
    }

    /// An AMO's new value (LLVM's `LLVMAtomicRMWBinOp` numbering), `bytes` wide.
    private static func atomicResult(operation: Int32, old: UInt64, operand: UInt64, bytes: Int) -> UInt64 {
        let shift = UInt64(64 - bytes * 8)
        let signedOld = Int64(bitPattern: old << shift) >> Int64(shift), signedOperand = Int64(bitPattern: operand << shift) >> Int64(shift)
        let unsignedOld = (old << shift) >> shift, unsignedOperand = (operand << shift) >> shift
        switch operation {
        case 0: return operand                                   // xchg
        case 1: return old &+ operand                            // add
        case 3: return old & operand                             // and
        case 5: return old | operand                             // or
        case 6: return old ^ operand                             // xor
        case 7: return signedOld >= signedOperand ? old : operand    // max
        case 8: return signedOld <= signedOperand ? old : operand    // min
        case 9: return unsignedOld >= unsignedOperand ? old : operand  // umax
        default: return unsignedOld <= unsignedOperand ? old : operand // umin
        }
    }
}

struct FaultReplayFailure: Error {
    let reason: String
}

let replayAccessCallback: pagelift_replay_function = { cpu, kind, address, bytes, value, expected, stop in
    GuestFloatFlags.preserved {
        let thread = guestThread(cpu!)
        guard let replay = thread.replay else {
            stop?.pointee = 1
            return 0
        }
        var stopping = false
        let result = replay.access(pc: cpu!.load(fromByteOffset: CPULayout.pc, as: UInt64.self), kind: kind, address: address,
                                   bytes: Int(bytes), value: value, expected: expected, stop: &stopping)
        if stopping { stop?.pointee = 1 }
        return result
    }
}

extension GuestThread {
    /// From the store log, the value at the checkpoint of each byte the thread's stores
    /// overwrote since (empty without a complete log). Also makes the log's index in the CPU
    /// state the number of the next entry, which the faulting code may have held in a register
    /// only: going on from an earlier one would leave entries of this lap past the end.
    func overwrittenSinceCheckpoint() -> [UInt64: UInt8] {
        guard let log = storeLog else { return [:] }
        let capacity = StoreLogLayout.capacity
        let start = checkpoint.storeLogComplete ? checkpoint.storeLogIndex : cpu.base.load(fromByteOffset: CPULayout.storeLogIndex, as: UInt64.self)
        var end = start
        while end &- start < capacity {
            let word = log.load(fromByteOffset: Int(end & (capacity - 1)) * StoreLogLayout.entryBytes, as: UInt64.self)
            guard word >> StoreLogLayout.lapShift == (end >> UInt64(StoreLogLayout.capacityBits)) & 1 else { break }
            end += 1
        }
        cpu.base.storeBytes(of: end, toByteOffset: CPULayout.storeLogIndex, as: UInt64.self)
        // A full lap since the checkpoint: its first entries are overwritten.
        guard checkpoint.storeLogComplete, end &- start < capacity else { return [:] }
        var overwritten: [UInt64: UInt8] = [:]
        let guestBase = engine.memory.baseAddress
        // Newest first, so that each byte ends with its oldest entry's value.
        for index in stride(from: end, to: start, by: -1) {
            let slot = Int((index - 1) & (capacity - 1)) * StoreLogLayout.entryBytes
            let word = log.load(fromByteOffset: slot, as: UInt64.self)
            let old = log.load(fromByteOffset: slot + 8, as: UInt64.self)
            let address = (word & StoreLogLayout.addressMask) &- guestBase
            let bytes = 1 << Int((word >> StoreLogLayout.widthShift) & 3)
            for byte in 0..<bytes { overwritten[address &+ UInt64(byte)] = UInt8(truncatingIfNeeded: old >> UInt64(byte * 8)) }
        }
        return overwritten
    }

    /// Translated code left by a host fault in guest memory (`pagelift_enter_guarded`): the
    /// guest's handler gets the fault with the state at the faulting instruction, or the guest
    /// dies by it, with a report naming that instruction.
    func recoverFault() -> ThreadEnding? {
        var signal: Int32 = 0
        var hostAddress: UInt = 0
        pagelift_last_fault(&signal, &hostAddress)
        let guestAddress = UInt64(hostAddress &- FaultHandler.guestRegion.base)
        // Translated code stores its region's entry pc there, for this report.
        let enteredAt = cpu.pc
        let replay = FaultReplay(hostSignal: signal, hostAddress: guestAddress, memory: engine.memory, checkpoint: checkpoint,
                                 overwritten: overwrittenSinceCheckpoint(), faultingCode: engine.codePages(ofRegionEnteredAt: enteredAt))
        let process = engine.process
        engine.stopOtherThreads(except: self)
        let outcome = replay.run(on: self)
        engine.resumeOtherThreads()
        switch outcome {
        case .success(let fault):
            if process.deliverFault(cpu, signal: fault.signal, code: fault.code, address: fault.address) { return nil }
            let kind = fault.signal == SIGBUS ? "beyond the end of its file" : fault.code == FaultCode.mapError ? "unmapped" : fault.write ? "not writable" : "not readable"
            return .process(.killed(signal: fault.signal, reason: "pagelift: guest \(FaultHandler.signalName(fault.signal)): "
                + "\(fault.write ? "write to" : "read of") guest address 0x\(String(fault.address, radix: 16)) (\(kind)) "
                + "at pc 0x\(String(fault.pc, radix: 16)) (\(engine.symbols.describe(fault.pc)))"))
        case .failure(let failure):
            let handled = process.handlesFault(cpu, signal: signal)
            return .process(.killed(signal: signal, reason: "pagelift: guest \(FaultHandler.signalName(signal)): access to guest address "
                + "0x\(String(guestAddress, radix: 16)) in code entered at pc 0x\(String(enteredAt, radix: 16)) (\(engine.symbols.describe(enteredAt)))"
                + (handled ? "; the guest's handler was not called: its state at the fault could not be recovered exactly (\(failure.reason))" : " (its pc could not be found: \(failure.reason))")))
        }
    }
}

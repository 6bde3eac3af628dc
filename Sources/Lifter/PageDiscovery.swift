import RISCV

/// What sits at a guest address, as far as translation can tell.
public enum FetchedInstruction: Equatable, Sendable {
    case instruction(Instruction)
    case illegal(bits: UInt32, size: Int)
    /// The bytes are not mapped executable (e.g. the second half of an instruction on the next page).
    case unfetchable
}

/// The instructions of one guest page reachable from its entry points, without leaving the page.
public struct DiscoveredPage: Sendable {
    public let page: UInt64
    /// Addresses the host code map may send control to: requested entries and return addresses.
    public let entries: [UInt64]
    public let instructions: [UInt64: FetchedInstruction]
    /// Addresses that start a basic block.
    public let leaders: Set<UInt64>

    public static let pageSize: UInt64 = 4096

    public func contains(_ pc: UInt64) -> Bool { pc >= page && pc < page + Self.pageSize }

    /// Follows fall-through and direct branches from `entries` within the page.
    /// `fetch` returns the 16-bit parcel at an address, or nil if it is not executable.
    /// With `loopHeadersAreEntries`, targets of backward branches get map slots too, so a
    /// loop running in one version of the code can continue in a recompiled one.
    public static func discover(page: UInt64, entries: [UInt64], loopHeadersAreEntries: Bool = false,
                                fetch: (UInt64) -> UInt16?) -> DiscoveredPage {
        var instructions: [UInt64: FetchedInstruction] = [:]
        var allEntries = Set(entries)
        var leaders = Set(entries)
        var worklist = entries
        func inPage(_ pc: UInt64) -> Bool { pc >= page && pc < page + pageSize }

        while let pc = worklist.popLast() {
            guard inPage(pc), instructions[pc] == nil else { continue }
            let fetched = fetchInstruction(at: pc, fetch: fetch)
            instructions[pc] = fetched
            guard case .instruction(let instruction) = fetched else { continue }
            let next = pc &+ UInt64(instruction.size)
            let target = pc &+ UInt64(bitPattern: instruction.imm)
            switch instruction.opcode.controlFlow {
            case .next:
                worklist.append(next)
            case .system:
                if instruction.opcode == .ecall { worklist.append(next) }
            case .branch:
                leaders.formUnion([target, next])
                worklist += [target, next]
                if loopHeadersAreEntries, target <= pc { allEntries.insert(target) }
            case .jump, .indirect:
                if instruction.opcode == .jal, inPage(target) {
                    leaders.insert(target)
                    worklist.append(target)
                    if loopHeadersAreEntries, target <= pc { allEntries.insert(target) }
                }
                // A call returns through the map to the next instruction, so it must be an entry.
                if instruction.rd != 0, inPage(next) {
                    allEntries.insert(next)
                    leaders.insert(next)
                    worklist.append(next)
                }
            }
        }
        return DiscoveredPage(page: page, entries: allEntries.filter(inPage).sorted(),
                              instructions: instructions, leaders: leaders.filter(inPage))
    }

    static func fetchInstruction(at pc: UInt64, fetch: (UInt64) -> UInt16?) -> FetchedInstruction {
        guard let low = fetch(pc) else { return .unfetchable }
        let length = instructionLength(firstParcel: low)
        var bits = UInt32(low)
        if length == 4 {
            guard let high = fetch(pc &+ 2) else { return .unfetchable }
            bits |= UInt32(high) << 16
        }
        guard length != 0, let instruction = Decoder.decode(bits) else {
            return .illegal(bits: bits, size: max(length, 2))
        }
        return .instruction(instruction)
    }
}

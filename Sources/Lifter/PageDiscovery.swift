import RISCV

/// What sits at a guest address, as far as translation can tell.
public enum FetchedInstruction: Equatable, Sendable {
    case instruction(Instruction)
    case illegal(bits: UInt32, size: Int)
    /// The bytes are not mapped executable (e.g. the second half of an instruction on the next page).
    case unfetchable

    /// The decoded instruction, if there is one.
    public var instruction: Instruction? {
        if case .instruction(let instruction) = self { return instruction }
        return nil
    }
}

/// The instructions of one guest page reachable from its entry points without leaving the
/// page, and for optimized code also those of called functions in other pages (`callees`).
public struct DiscoveredPage: Sendable {
    /// The page whose code the region translates.
    public let page: UInt64
    /// Addresses the host code map may send control to: requested entries, return addresses (in
    /// every page of the region) and, with `loopHeadersAreEntries`, the headers of the page's
    /// outermost loops.
    public let entries: [UInt64]
    /// Functions of other pages the region's calls reach directly, translated with it from their
    /// first instruction (in their own pages) and returned from through the return dispatch.
    /// They are not entries: other callers keep the functions' own code.
    public let callees: [UInt64]
    public let instructions: [UInt64: FetchedInstruction]
    /// Addresses that start a basic block.
    public let leaders: Set<UInt64>
    /// Blocks that head a loop: targets of edges from blocks they dominate (entered from the
    /// entries). Profiled code counts the edges into them, and tier-up enters running loops at
    /// the outermost ones.
    public let loopHeaders: Set<UInt64>
    /// With `copiesEntriesInLoops`: for each entry that lies inside a loop (and is not that loop's
    /// header), the blocks of the copy of the code the map enters there (see
    /// `ControlFlowGraph.copies`), so that the region's own loops keep their one entry each. Such
    /// entries are the return addresses of calls the region makes in a loop, entries the map
    /// missed on in a loop's middle, and the headers of innermost loops inside others, which
    /// are entries only for this (first-tier code running such a loop hands over there).
    public let entryCopies: [UInt64: Set<UInt64>]
    /// The blocks (leaders) of innermost loops that make no call and no syscall: the loops LLVM
    /// may vectorize, whose stores optimized code leaves out of the store log (see
    /// `PageLifter.logsStoresInLoops`).
    public let leafLoopBlocks: Set<UInt64>

    /// Every address the map sends to the region's code.
    public var mapEntries: [UInt64] { Set(entries).union(entryCopies.keys).sorted() }

    public static let pageSize: UInt64 = 4096

    /// The pages the region's code lies in: its own, then the callees'.
    public var pages: [UInt64] { [page] + Set(callees.map(Self.pageOf)).subtracting([page]).sorted() }

    public static func pageOf(_ pc: UInt64) -> UInt64 { pc & ~(pageSize - 1) }

    /// Where the region's jal instructions (calls and jumps) go outside it.
    public var directTargetsElsewhere: Set<UInt64> {
        Set(instructions.compactMap { address, fetched -> UInt64? in
            guard case .instruction(let instruction) = fetched, instruction.opcode == .jal,
                  instruction.linkage == .call || instruction.linkage == .jump else { return nil }
            let target = address &+ UInt64(bitPattern: instruction.imm)
            return instructions[target] == nil ? target : nil
        })
    }

    /// Where control leaves the region for a known address (calls and jumps, branches and
    /// falling through into another page), in the order code running from `starts` would likely
    /// get there: each walk falls through branches before taking them (compilers put the
    /// unlikely side, such as error handling, out of line) and continues after calls, so a
    /// function's calls come in the order it makes them.
    public func exitsElsewhere(from starts: [UInt64]) -> [UInt64] {
        var exits: [UInt64] = [], visited = Set<UInt64>()
        var pending = Array((starts + entries).reversed())
        while var pc = pending.popLast() {
            walk: while visited.insert(pc).inserted {
                guard let fetched = instructions[pc] else {
                    exits.append(pc)
                    break
                }
                guard case .instruction(let instruction) = fetched else { break }
                let next = pc &+ UInt64(instruction.size), target = pc &+ UInt64(bitPattern: instruction.imm)
                switch instruction.opcode.controlFlow {
                case .next: pc = next
                case .system:
                    guard instruction.opcode == .ecall else { break walk }
                    pc = next
                case .branch:
                    pending.append(target)
                    pc = next
                case .jump, .indirect:
                    let direct = instruction.opcode == .jal
                    switch (direct, instruction.linkage) {
                    case (true, .call):
                        // A call in the region runs before its return address; one elsewhere is an exit.
                        pending.append(next)
                        pc = target
                    case (true, _): pc = target
                    case (false, .call): pc = next
                    default: break walk
                    }
                }
            }
        }
        return exits
    }

    public func contains(_ pc: UInt64) -> Bool { pages.contains(Self.pageOf(pc)) }

    /// Follows fall-through and direct branches from `entries` within the page, and from
    /// `callees` within theirs. `fetch` returns the 16-bit parcel at an address, or nil if it is
    /// not executable.
    /// With `loopHeadersAreEntries`, the headers of outermost loops get map slots too, so a loop
    /// running in one version of the code can continue in a recompiled one. Only headers of
    /// outermost loops: entering a loop anywhere else (an inner loop's header, the back-branch
    /// target of a loop entered in its middle) would give it a second entry, and LLVM keeps
    /// registers out of memory only in loops with one. Code running an inner loop continues
    /// in the new code when it comes round to the outer header, or, with `copiesEntriesInLoops`,
    /// at once through a copy of the code entered at an innermost loop's header (`entryCopies`).
    /// For finding loops, a call whose function is in the region continues at its return
    /// address, so a loop through a call has a header; only other calls' return addresses are
    /// where code starts. `callReturns` tells whether a call (by its address and return address)
    /// may return: one that ends its function (a call of `__stack_chk_fail` or `abort`, with the
    /// next function right behind it) does not, and what follows it is not the region's code.
    /// The region's returns would otherwise lead through that function back into the caller's
    /// loops (strsearch: from memcmp's stack check into memcpy, whose return went to memcmp's
    /// caller). Should such a call return after all, the map misses on its return address and
    /// translates it.
    public static func discover(page: UInt64, entries: [UInt64], callees: [UInt64] = [], loopHeadersAreEntries: Bool = false,
                                copiesEntriesInLoops: Bool = false, callReturns: (UInt64, UInt64) -> Bool = { _, _ in true },
                                fetch: (UInt64) -> UInt16?) -> DiscoveredPage {
        var instructions: [UInt64: FetchedInstruction] = [:]
        var allEntries = Set(entries)
        let pages = Set([page] + callees.map(pageOf))
        var leaders = Set(entries + callees)
        var worklist = entries + callees
        var returnsFromCallsInRegion = Set<UInt64>()
        func inRegion(_ pc: UInt64) -> Bool { pages.contains(pageOf(pc)) }
        func inPage(_ pc: UInt64) -> Bool { pageOf(pc) == page }

        while let pc = worklist.popLast() {
            guard inRegion(pc), instructions[pc] == nil else { continue }
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
            case .jump, .indirect:
                if instruction.opcode == .jal, inRegion(target) {
                    leaders.insert(target)
                    worklist.append(target)
                }
                // A call returns through the map to the next instruction, so it must be an entry.
                if instruction.rd != 0, inRegion(next), callReturns(pc, next) {
                    allEntries.insert(next)
                    if instruction.opcode == .jal, inRegion(target) { returnsFromCallsInRegion.insert(next) }
                    leaders.insert(next)
                    worklist.append(next)
                }
            }
        }
        let blockLeaders = leaders.filter(inRegion)
        let graph = ControlFlowGraph(entries: allEntries.filter(inRegion).union(callees), returnsFromCallsInRegion: returnsFromCallsInRegion,
                                     leaders: blockLeaders, instructions: instructions)
        let loops = graph.loops()
        let loopHeaders = Set(loops.keys)
        if loopHeadersAreEntries { allEntries.formUnion(ControlFlowGraph.outermost(loops).filter(inPage)) }
        var entryCopies: [UInt64: Set<UInt64>] = [:]
        if copiesEntriesInLoops {
            let innermost = ControlFlowGraph.innermost(loops).filter(inPage)
            entryCopies = graph.copies(enteredAt: allEntries.filter(inRegion).union(innermost), loops: loops)
        }
        return DiscoveredPage(page: page, entries: allEntries.filter(inRegion).sorted(), callees: callees.sorted(),
                              instructions: instructions, leaders: blockLeaders, loopHeaders: loopHeaders, entryCopies: entryCopies,
                              leafLoopBlocks: ControlFlowGraph.innermost(loops).reduce(into: Set<UInt64>()) { blocks, header in
                                  let body = loops[header]!
                                  if !body.contains(where: { Self.callsOrTraps(blockAt: $0, instructions: instructions, leaders: blockLeaders) }) {
                                      blocks.formUnion(body)
                                  }
                              })
    }

    /// Whether the block at `leader` calls a function or makes a syscall.
    private static func callsOrTraps(blockAt leader: UInt64, instructions: [UInt64: FetchedInstruction], leaders: Set<UInt64>) -> Bool {
        var address = leader
        while case .instruction(let instruction)? = instructions[address] {
            if instruction.opcode.controlFlow == .system || instruction.linkage == .call { return true }
            if instruction.opcode.controlFlow != .next { return false }
            address &+= UInt64(instruction.size)
            if leaders.contains(address) { return false }
        }
        return false
    }

    /// For each return instruction of the region, the return addresses of the region's calls of
    /// the functions it returns from: direct calls whose target reaches it without returning first
    /// (tail jumps included), and every call through a pointer, which may call any function. A
    /// function's code is what its first instruction reaches by falling through, branching and
    /// jumping, with calls continuing at their return address; a computed jump that is not a
    /// return (a switch) may reach any entry. Only lifting needs it, so discovery (run again for
    /// every callee tier-up considers) does not compute it.
    public func returnAddresses() -> [UInt64: [UInt64]] {
        var directCalls: [UInt64: [UInt64]] = [:]      // callee -> return addresses of its calls
        var pointerCalls: [UInt64] = []
        var returns: [UInt64] = []
        for (address, fetched) in instructions {
            guard case .instruction(let instruction) = fetched,
                  [.jump, .indirect].contains(instruction.opcode.controlFlow) else { continue }
            let next = address &+ UInt64(instruction.size)
            switch (instruction.opcode, instruction.linkage) {
            case (.jal, .call): directCalls[address &+ UInt64(bitPattern: instruction.imm), default: []].append(next)
            case (.jalr, .call): pointerCalls.append(next)
            case (.jalr, .return): returns.append(address)
            default: break
            }
        }
        guard !returns.isEmpty else { return [:] }
        // The returns the code from `starts` reaches, and whether it reaches a computed jump.
        func returnsReached(from starts: [UInt64]) -> (returns: Set<UInt64>, computedJump: Bool) {
            var visited = Set<UInt64>(), worklist = starts, reached = Set<UInt64>(), computedJump = false
            while let pc = worklist.popLast() {
                guard visited.insert(pc).inserted, case .instruction(let instruction)? = instructions[pc] else { continue }
                let next = pc &+ UInt64(instruction.size)
                switch instruction.opcode.controlFlow {
                case .next: worklist.append(next)
                case .system: if instruction.opcode == .ecall { worklist.append(next) }
                case .branch: worklist += [pc &+ UInt64(bitPattern: instruction.imm), next]
                case .jump, .indirect:
                    switch (instruction.opcode, instruction.linkage) {
                    case (_, .call): worklist.append(next)
                    case (.jalr, .return): reached.insert(pc)
                    case (.jal, _): worklist.append(pc &+ UInt64(bitPattern: instruction.imm))
                    default: computedJump = true
                    }
                }
            }
            return (reached, computedJump)
        }
        // Computed jumps lead to any entry: what the entries reach is walked once, not per function.
        var fromEntries: Set<UInt64>?
        var targets: [UInt64: Set<UInt64>] = Dictionary(uniqueKeysWithValues: returns.map { ($0, Set(pointerCalls)) })
        for (callee, returnAddresses) in directCalls where instructions[callee] != nil {
            var (reached, computedJump) = returnsReached(from: [callee])
            if computedJump {
                if fromEntries == nil { fromEntries = returnsReached(from: entries).returns }
                reached.formUnion(fromEntries!)
            }
            for address in reached { targets[address]?.formUnion(returnAddresses) }
        }
        return targets.mapValues { $0.sorted() }
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

/// The region's blocks (by leader) and the edges between them that stay in the function:
/// fall-through, branches and direct jumps inside the page, calls of functions in the region
/// (which continue at their return address), and computed jumps that are not returns (which
/// may reach any entry through the region's dispatch).
struct ControlFlowGraph {
    /// Where code starts, for dominance: the entries but the return addresses of calls in the
    /// region that code from the other entries reaches through their call.
    let roots: Set<UInt64>
    let successors: [UInt64: [UInt64]]

    init(entries: Set<UInt64>, returnsFromCallsInRegion: Set<UInt64>, leaders: Set<UInt64>, instructions: [UInt64: FetchedInstruction]) {
        var successors: [UInt64: [UInt64]] = [:]
        for leader in leaders where instructions[leader] != nil {
            var pc = leader
            var next: [UInt64] = []
            while case .instruction(let instruction)? = instructions[pc] {
                let fallThrough = pc &+ UInt64(instruction.size)
                let target = pc &+ UInt64(bitPattern: instruction.imm)
                var ends = true
                switch instruction.opcode.controlFlow {
                case .next: next = [fallThrough]; ends = false
                case .system: next = instruction.opcode == .ecall ? [fallThrough] : []; ends = instruction.opcode != .ecall
                case .branch: next = [target, fallThrough]
                case .jump:
                    // A call of a function in the region comes back (for loops through calls).
                    next = returnsFromCallsInRegion.contains(fallThrough) ? [target, fallThrough] : [target]
                case .indirect: next = instruction.linkage == .return ? [] : entries.sorted()
                }
                if !ends, !leaders.contains(fallThrough) {
                    pc = fallThrough
                    continue
                }
                break
            }
            successors[leader] = next.filter { leaders.contains($0) && instructions[$0] != nil }
        }
        self.successors = successors
        var roots = entries.subtracting(returnsFromCallsInRegion)
        var reached = Set<UInt64>(), worklist = Array(roots)
        while let block = worklist.popLast() {
            guard reached.insert(block).inserted else { continue }
            worklist += successors[block] ?? []
        }
        roots.formUnion(entries.intersection(returnsFromCallsInRegion).subtracting(reached))
        self.roots = roots
    }

    /// Loops by header, with the blocks of each (natural loops: the header and what reaches one of
    /// its back edges without passing it).
    func loops() -> [UInt64: Set<UInt64>] {
        let backEdges = self.backEdges()
        var predecessors: [UInt64: [UInt64]] = [:]
        for (block, next) in successors { for successor in next { predecessors[successor, default: []].append(block) } }
        var loops: [UInt64: Set<UInt64>] = [:]
        for (source, header) in backEdges {
            var body = loops[header] ?? [header]
            var worklist = body.contains(source) ? [] : [source]
            body.insert(source)
            while let block = worklist.popLast() {
                for predecessor in predecessors[block] ?? [] where !body.contains(predecessor) {
                    body.insert(predecessor)
                    worklist.append(predecessor)
                }
            }
            loops[header] = body
        }
        return loops
    }

    /// For each of `entries` inside a loop other than as its header, the blocks code entering
    /// there runs until it comes round to the header of a loop around it or leaves the
    /// outermost of those: what a copy of the code entered there needs. The copy's branches to
    /// those headers and out of the nest go to the original blocks, so neither the original's
    /// loops nor the copy's get a second entry.
    func copies(enteredAt entries: Set<UInt64>, loops: [UInt64: Set<UInt64>]) -> [UInt64: Set<UInt64>] {
        var copies: [UInt64: Set<UInt64>] = [:]
        for entry in entries where successors[entry] != nil {
            let around = loops.filter { $0.key != entry && $0.value.contains(entry) }
            guard let nest = around.values.max(by: { $0.count < $1.count }) else { continue }
            var copy: Set<UInt64> = [entry], worklist = [entry]
            while let block = worklist.popLast() {
                for successor in successors[block] ?? [] where nest.contains(successor) && around[successor] == nil {
                    if copy.insert(successor).inserted { worklist.append(successor) }
                }
            }
            copies[entry] = copy
        }
        return copies
    }

    /// Headers of the loops that contain no other loop. Code running a nest is almost always in
    /// its innermost loop when it looks for other code, and a copy entered at an outer header
    /// holds the loops inside it too (sha256's optimized code took 37 -> 79 ms to compile with
    /// a copy at every inner header, 64 ms with copies at the innermost ones).
    static func innermost(_ loops: [UInt64: Set<UInt64>]) -> Set<UInt64> {
        Set(loops.keys.filter { header in !loops.contains { $0.key != header && loops[header]!.contains($0.key) } })
    }

    /// Headers of the loops no other loop contains.
    static func outermost(_ loops: [UInt64: Set<UInt64>]) -> Set<UInt64> {
        Set(loops.keys.filter { header in !loops.contains { $0.key != header && $0.value.contains(header) } })
    }

    /// Edges to a block that dominates their source, with dominators from a virtual root that
    /// precedes every entry (Cooper, Harvey and Kennedy's iteration).
    func backEdges() -> [(source: UInt64, header: UInt64)] {
        var order: [UInt64] = []          // reverse postorder from the root
        var visited = Set<UInt64>()
        for entry in roots.sorted() where successors[entry] != nil && !visited.contains(entry) {
            var stack: [(UInt64, Int)] = [(entry, 0)]
            visited.insert(entry)
            while let (block, index) = stack.popLast() {
                let next = successors[block] ?? []
                if index < next.count {
                    stack.append((block, index + 1))
                    let successor = next[index]
                    if !visited.contains(successor) {
                        visited.insert(successor)
                        stack.append((successor, 0))
                    }
                } else {
                    order.append(block)
                }
            }
        }
        order.reverse()
        let position = Dictionary(uniqueKeysWithValues: order.enumerated().map { ($1, $0) })
        var predecessors: [UInt64: [UInt64]] = [:]
        for block in order { for successor in successors[block] ?? [] { predecessors[successor, default: []].append(block) } }
        // idom by position; -1 is the virtual root.
        var dominator = [Int](repeating: -2, count: order.count)
        func intersect(_ a: Int, _ b: Int) -> Int {
            var (a, b) = (a, b)
            while a != b {
                if a == -1 || b == -1 { return -1 }
                while a > b { a = dominator[a]; if a == -1 { return -1 } }
                while b > a { b = dominator[b]; if b == -1 { return -1 } }
            }
            return a
        }
        var changed = true
        while changed {
            changed = false
            for (index, block) in order.enumerated() {
                var candidate: Int? = roots.contains(block) ? -1 : nil
                for predecessor in predecessors[block] ?? [] {
                    guard let p = position[predecessor], dominator[p] != -2 else { continue }
                    candidate = candidate.map { intersect($0, p) } ?? p
                }
                if let candidate, dominator[index] != candidate {
                    dominator[index] = candidate
                    changed = true
                }
            }
        }
        func dominates(_ a: Int, _ b: Int) -> Bool {
            var current = b
            while current >= 0 {
                if current == a { return true }
                current = dominator[current]
            }
            return false
        }
        var edges: [(source: UInt64, header: UInt64)] = []
        for (index, block) in order.enumerated() {
            for successor in successors[block] ?? [] {
                if let target = position[successor], dominates(target, index) { edges.append((block, successor)) }
            }
        }
        return edges
    }
}

#if canImport(Glibc)
import Glibc
#endif
import ELF
import Guest
import Lifter
import RISCV

/// Translation without execution, for `pagelift lift`: the regions that hold one guest
/// function, in one module, named after guest symbols.
public struct FunctionLifting {
    public let module: IRModule
    /// Region functions in the module, by their entry address.
    public let regions: [(entry: UInt64, name: String)]

    /// Lifts the code reachable from `start` that stays inside [start, end): a region per page
    /// it enters, as the engine would translate them when the function runs. With
    /// `asOptimizedTier`, as tier-up translates hot code (see `PageLifter.assumesRoundToNearest`).
    public init(elf: ELFFile, path: String, sysroot: String? = nil, start: UInt64, end: UInt64, asOptimizedTier: Bool = false) throws {
        let memory = try GuestMemory()
        let symbols = GuestImages()
        let program = try Loader.load(elf, path: path, arguments: [path], environment: [], paths: GuestPaths(root: sysroot, executable: path),
                                      images: symbols, into: memory)
        // As a run would translate it: with exact flags unless the program cannot read them.
        let tracksFloatFlags = !FloatFlagsUse.observingReads(of: elf, bias: program.loadBias).isEmpty
        let lifter = PageLifter(describe: { symbols.describe($0) }, assumesRoundToNearest: asOptimizedTier,
                                tracksFloatFlags: tracksFloatFlags)
        module = IRModule(name: symbols.describe(start))
        var worklist = [start], seen = Set<UInt64>(), regions: [(UInt64, String)] = []
        while let pc = worklist.popLast() {
            guard seen.insert(pc).inserted, memory.isMapped(pc, 2, needs: PROT_EXEC) else { continue }
            let page = DiscoveredPage.discover(page: pc & ~(DiscoveredPage.pageSize - 1), entries: [pc],
                                               callReturns: symbols.callMayReturn, fetch: memory.instructionParcel(at:))
            let name = symbols.describe(pc)
            lifter.lift(page, into: module, functionName: name)
            regions.append((pc, name))
            for (address, fetched) in page.instructions {
                guard case .instruction(let instruction) = fetched else { continue }
                var successors = [address &+ UInt64(instruction.size)]
                if instruction.opcode == .jal || instruction.opcode.controlFlow == .branch {
                    successors.append(address &+ UInt64(bitPattern: instruction.imm))
                }
                for target in successors where !page.contains(target) && target >= start && target < end {
                    worklist.append(target)
                }
            }
        }
        self.regions = regions.sorted { $0.0 < $1.0 }
    }
}

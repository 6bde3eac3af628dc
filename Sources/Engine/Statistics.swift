#if canImport(Glibc)
import Glibc
#endif

/// Where translation time went, for one tier.
public struct TierStatistics: Sendable {
    public var regions = 0
    public var guestInstructions = 0
    public var liftSeconds = 0.0
    public var optimizeSeconds = 0.0
    public var codegenSeconds = 0.0
    public var codeBytes = 0
    public var totalSeconds: Double { liftSeconds + optimizeSeconds + codegenSeconds }
}

public struct EngineStatistics: Sendable {
    /// Tier 0: every region's first compilation (the only one without tiering).
    public var base = TierStatistics()
    /// Tier 1: hot regions recompiled at the run's optimization level.
    public var optimized = TierStatistics()
    public var mapMisses = 0
    public var syscalls = 0
    public var runSeconds = 0.0
    /// Regions whose optimized code came from the disk cache, and entries written to it.
    public var cacheHits = 0
    public var cacheStores = 0
    /// Linking the code of cache hits into the JIT.
    public var cacheLoadSeconds = 0.0
    /// The part of `base` compiled ahead of the guest by the speculation thread (see
    /// `Engine.speculate`), and how many of those regions the guest entered.
    public var speculated = TierStatistics()
    public var speculatedRegionsEntered = 0
    public var speculationWaitSeconds = 0.0
    public var speculationWaits = 0
    /// Entries and loop iterations first-tier code counted (of the regions still valid): how much
    /// of the run stayed in the cheap tier.
    public var firstTierExecutions: UInt64 = 0
    /// Whether translated code kept the accrued floating-point flags exact (see `FloatFlagsUse`).
    public var floatFlagsExact = true
}

extension TierStatistics {
    mutating func add(_ other: TierStatistics) {
        regions += other.regions
        guestInstructions += other.guestInstructions
        liftSeconds += other.liftSeconds
        optimizeSeconds += other.optimizeSeconds
        codegenSeconds += other.codegenSeconds
        codeBytes += other.codeBytes
    }
}

struct Stopwatch {
    private var last = Stopwatch.now()
    static func now() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }
    mutating func lap() -> Double {
        let current = Self.now()
        defer { last = current }
        return current - last
    }
}

import Engine
import Foundation
import Testing

@Suite struct TierConfigurationTests {
    @Test func theBuiltInDefaultsAreTheConfigFile() throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Configs/tiers.conf")
        let parsed = try TierConfiguration(parsing: String(contentsOf: path, encoding: .utf8))
        #expect(parsed == TierConfiguration())
    }

    @Test func rejectsUnknownSettingsAndBadValues() {
        #expect(throws: ConfigurationError.self) { try TierConfiguration(parsing: "hot_treshold = 5") }
        #expect(throws: ConfigurationError.self) { try TierConfiguration(parsing: "hot_threshold = -1") }
        #expect(throws: ConfigurationError.self) { try TierConfiguration(parsing: "just words") }
        #expect((try? TierConfiguration(parsing: "# comment\n hot_threshold = 7 # seven\n"))?.hotThreshold == 7)
        #expect(throws: ConfigurationError.self) { try TierConfiguration(parsing: "callee_pages = many") }
        #expect((try? TierConfiguration(parsing: "callee_pages = 0\ncallee_instructions = 50"))
            .map { [$0.calleePages, $0.calleeInstructions] } == [0, 50])
        #expect((try? TierConfiguration(parsing: "speculation_distance = 0"))?.speculationDistance == 0)
        #expect(throws: ConfigurationError.self) { try TierConfiguration(parsing: "speculation_distance = -2") }
    }

    @Test func readsLLVMOptions() throws {
        #expect(try TierConfiguration(parsing: "llvm_options = -a=1  -b").llvmOptions == ["-a=1", "-b"])
        #expect(throws: ConfigurationError.self) { try TierConfiguration(parsing: "llvm_options = vectorize-slp=false") }
    }

    @Test func readsTheCheapTiersPipeline() throws {
        #expect(try TierConfiguration(parsing: "base_pipeline = function(mem2reg)").basePipeline == "function(mem2reg)")
        #expect(try TierConfiguration(parsing: "base_pipeline = none").basePipeline == nil)
    }
}

import Foundation
import Testing

/// Real programs of Debian trixie's riscv64 port, from a root file system that
/// `Tests/DebianRoot/make-root.sh` builds with apt (cached in .build between runs on one
/// machine): shells, interpreters and a compiler that start riscv64 children, which only
/// pagelift can follow. Where qemu-riscv64 can run the same thing, the two must agree.
@Suite(.serialized) struct DebianRootTests {
    /// The root, built once per test run (a fresh machine fetches about 130 MB of packages).
    static let root: Result<String, HarnessError> = {
        let directory = GuestProgram.packageRoot.appendingPathComponent(".build/debian-root").path
        let script = GuestProgram.packageRoot.appendingPathComponent("Tests/DebianRoot/make-root.sh").path
        guard let result = try? Execution.run(["/bin/bash", script, directory], timeout: 900), result.status == 0 else {
            return .failure(HarnessError("building the Debian riscv64 root failed"))
        }
        return .success(directory)
    }()

    /// Every program of one test run shares a code cache: a child started again finds its libraries' code there.
    static let cache = FileManager.default.temporaryDirectory.appendingPathComponent("pagelift-debian-cache-\(UUID().uuidString)").path

    static let environment: [String: String] = [
        "PATH": "/usr/bin:/bin", "HOME": "/tmp", "LANG": "C", "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_AUTHOR_NAME": "Test", "GIT_AUTHOR_EMAIL": "test@example.org", "GIT_COMMITTER_NAME": "Test",
        "GIT_COMMITTER_EMAIL": "test@example.org", "GIT_AUTHOR_DATE": "2026-01-01T00:00:00Z", "GIT_COMMITTER_DATE": "2026-01-01T00:00:00Z",
    ]

    func pagelift(_ program: String, _ arguments: [String], in directory: URL? = nil) throws -> Execution {
        let root = try Self.root.get()
        var command = [Tools.pagelift, "--cache-dir", Self.cache, "-L", root, root + program] + arguments
        if let directory { command = ["/bin/sh", "-c", "cd \"$0\" && exec \"$@\"", directory.path] + command }
        return try Execution.run(command, environment: Self.environment, timeout: 600)
    }

    func qemu(_ program: String, _ arguments: [String]) throws -> Execution {
        let root = try Self.root.get()
        return try Execution.run([Tools.qemu, "-L", root, root + program] + arguments, environment: Self.environment)
    }

    /// A new folder holding `files` (name: contents).
    func scratch(_ files: [String: String] = [:]) throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pagelift-debian-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        for (name, contents) in files {
            try contents.write(to: directory.appendingPathComponent(name), atomically: true, encoding: .utf8)
        }
        return directory
    }

    /// Python threads are guest threads on host threads: a lock, a thread pool, a queue and a timer.
    @Test func pythonRunsThreadsAndAThreadPool() throws {
        let script = """
            import threading, concurrent.futures, queue
            counter = 0
            lock = threading.Lock()
            def work(n):
                global counter
                for _ in range(n):
                    with lock:
                        counter += 1
            threads = [threading.Thread(target=work, args=(2000,)) for _ in range(4)]
            for t in threads: t.start()
            for t in threads: t.join()
            print("counter", counter)
            with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
                print("squares", sum(pool.map(lambda x: x * x, range(200))))
            q = queue.Queue()
            def producer():
                for i in range(100): q.put(i)
                q.put(None)
            threading.Thread(target=producer).start()
            total = 0
            while (item := q.get()) is not None: total += item
            print("queue", total)
            event = threading.Event()
            threading.Timer(0.05, event.set).start()
            print("event", event.wait(5))
            """
        let expected = try qemu("/usr/bin/python3", ["-c", script])
        #expect(expected.standardOutput == "counter 8000\nsquares 2646700\nqueue 4950\nevent True\n")
        #expect(try pagelift("/usr/bin/python3", ["-c", script]) == expected)
    }

    @Test func bashRunsAPipelineOfCoreutils() throws {
        let script = "printf 'pear\\napple\\nfig\\n' | sort | tr a-z A-Z | head -n 2; echo $((6 * 7)) $(basename /usr/lib/x.so .so); ls /usr/bin/bash | wc -l"
        let result = try pagelift("/usr/bin/bash", ["-c", script])
        #expect(result.standardOutput == "APPLE\nFIG\n42 x\n1\n", "\(result.standardError)")
        #expect(result.status == 0)
        // Builtins only, which qemu can run too.
        let builtins = "for i in 1 2 3; do printf '%s-' $((i * i)); done; echo; [[ abc == a* ]] && echo glob"
        let expected = try qemu("/usr/bin/bash", ["-c", builtins])
        #expect(try pagelift("/usr/bin/bash", ["-c", builtins]) == expected)
    }

    @Test func python3RunsJSONAndASubprocess() throws {
        let script = """
            import json, subprocess, sys
            child = subprocess.run(["/usr/bin/echo", "from a child"], capture_output=True, text=True)
            print(json.dumps({"child": child.stdout.strip(), "status": child.returncode, "squares": [i * i for i in range(5)]}, sort_keys=True))
            sys.exit(4)
            """
        let result = try pagelift("/usr/bin/python3", ["-c", script])
        #expect(result.standardOutput == "{\"child\": \"from a child\", \"squares\": [0, 1, 4, 9, 16], \"status\": 0}\n", "\(result.standardError)")
        #expect(result.status == 4)
        let alone = "import json; print(json.dumps({'sum': sum(range(1000)), 'text': 'é'.upper()}))"
        #expect(try pagelift("/usr/bin/python3", ["-c", alone]) == (try qemu("/usr/bin/python3", ["-c", alone])))
    }

    @Test func perlMatchesQemu() throws {
        let script = "use POSIX qw(floor); my %h = map { $_ => $_ ** 2 } 1..6; print join(',', map { \"$_=$h{$_}\" } sort keys %h), ' ', floor(7 / 2), \"\\n\"; printf(\"%.3f\\n\", atan2(1, 1) * 4)"
        let expected = try qemu("/usr/bin/perl", ["-e", script])
        let actual = try pagelift("/usr/bin/perl", ["-e", script])
        #expect(actual == expected)
        #expect(actual.standardOutput == "1=1,2=4,3=9,4=16,5=25,6=36 3\n3.142\n")
    }

    /// gcc runs cc1, as, collect2 and ld: four riscv64 children, each under pagelift again.
    @Test func gccCompilesAndLinksAProgramThatRuns() throws {
        let directory = try scratch(["hello.c": "#include <stdio.h>\nint square(int x) { return x * x; }\nint main(void) { printf(\"built %d\\n\", square(7)); return 0; }\n"])
        defer { try? FileManager.default.removeItem(at: directory) }
        let compile = try pagelift("/usr/bin/gcc", ["-O2", "-o", "hello", "hello.c"], in: directory)
        #expect(compile.status == 0, "\(compile.standardError)")
        let root = try Self.root.get()
        let run = try Execution.run([Tools.pagelift, "--no-cache", "-L", root, directory.appendingPathComponent("hello").path])
        #expect(run.standardOutput == "built 49\n")
        let underQemu = try Execution.run([Tools.qemu, "-L", root, directory.appendingPathComponent("hello").path])
        #expect(underQemu.standardOutput == "built 49\n")
    }

    /// make runs its recipes through the root's /bin/sh, itself a riscv64 bash.
    @Test func makeRunsRecipesThroughTheShell() throws {
        let directory = try scratch(["Makefile": "all: upper.txt\n\t@echo done: $$(cat upper.txt)\nupper.txt: lower.txt\n\ttr a-z A-Z < lower.txt > upper.txt\n",
                                     "lower.txt": "shout\n"])
        defer { try? FileManager.default.removeItem(at: directory) }
        let result = try pagelift("/usr/bin/make", ["--no-print-directory"], in: directory)
        #expect(result.standardOutput == "tr a-z A-Z < lower.txt > upper.txt\ndone: SHOUT\n", "\(result.standardError)")
        #expect(result.status == 0)
    }

    @Test func gitInitAddCommitAndLog() throws {
        let directory = try scratch(["file.txt": "tracked\n"])
        defer { try? FileManager.default.removeItem(at: directory) }
        #expect(try pagelift("/usr/bin/git", ["init", "-q", "-b", "main", "."], in: directory).status == 0)
        #expect(try pagelift("/usr/bin/git", ["add", "file.txt"], in: directory).status == 0)
        let commit = try pagelift("/usr/bin/git", ["commit", "-q", "-m", "first commit"], in: directory)
        #expect(commit.status == 0, "\(commit.standardError)")
        let log = try pagelift("/usr/bin/git", ["log", "--format=%s %an %H"], in: directory)
        // Names, dates and contents are fixed, so the commit's hash is too: the host's git makes the same.
        let reference = try scratch(["file.txt": "tracked\n"])
        defer { try? FileManager.default.removeItem(at: reference) }
        let hostGit = "git init -q -b main . && git add file.txt && git commit -q -m 'first commit' && git log --format='%s %an %H'"
        let expected = try Execution.run(["/bin/sh", "-c", "cd \"$0\" && \(hostGit)", reference.path], environment: Self.environment)
        #expect(expected.status == 0 && expected.standardOutput.hasPrefix("first commit Test "))
        #expect(log.standardOutput == expected.standardOutput, "\(log.standardError)")
        let status = try pagelift("/usr/bin/git", ["status", "--porcelain"], in: directory)
        #expect(status.standardOutput.isEmpty && status.status == 0)
    }
}

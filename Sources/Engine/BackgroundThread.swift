#if canImport(Glibc)
import Glibc
#endif

/// Starts a detached host thread of the translator's own. Not a Dispatch queue: a forked child
/// has none of its parent's threads and must be able to start them again, which libdispatch's
/// worker pool does not promise.
enum BackgroundThread {
    /// `runsGuest`: a guest thread's, whose signal mask is the guest thread's (inherited from
    /// the thread that cloned it); otherwise a translator thread that takes no signal but faults.
    @discardableResult
    static func start(runsGuest: Bool = false, _ body: @escaping @Sendable () -> Void) -> Int32 {
        let box = Unmanaged.passRetained(Box(body, runsGuest: runsGuest)).toOpaque()
        var thread = pthread_t()
        var attributes = pthread_attr_t()
        pthread_attr_init(&attributes)
        defer { pthread_attr_destroy(&attributes) }
        pthread_attr_setdetachstate(&attributes, Int32(PTHREAD_CREATE_DETACHED))
        // LLVM's optimizer recurses deeply on large regions.
        pthread_attr_setstacksize(&attributes, 64 << 20)
        let result = pthread_create(&thread, &attributes, { argument in
            let box = Unmanaged<Box>.fromOpaque(argument!).takeRetainedValue()
            if !box.runsGuest {
                // Signals for the guest go to the guest's threads; this one keeps only its own faults.
                var blocked = sigset_t()
                sigfillset(&blocked)
                for fault in [SIGSEGV, SIGBUS, SIGILL, SIGFPE] { sigdelset(&blocked, fault) }
                pthread_sigmask(SIG_BLOCK, &blocked, nil)
            }
            box.body()
            return nil
        }, box)
        if result != 0 {
            Unmanaged<Box>.fromOpaque(box).release()
            precondition(runsGuest, "cannot start a translator thread: \(String(cString: strerror(result)))")
        }
        return result
    }

    private final class Box: @unchecked Sendable {
        let body: @Sendable () -> Void
        let runsGuest: Bool
        init(_ body: @escaping @Sendable () -> Void, runsGuest: Bool) { self.body = body; self.runsGuest = runsGuest }
    }
}

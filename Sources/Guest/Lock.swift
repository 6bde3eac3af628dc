#if canImport(Glibc)
import Glibc
#endif

/// A mutex with one condition, for the state the guest thread and the compile threads share.
public final class Lock: @unchecked Sendable {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let condition = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    public init() {
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(condition, nil)
    }
    deinit {
        pthread_cond_destroy(condition); condition.deallocate()
        pthread_mutex_destroy(mutex); mutex.deallocate()
    }

    /// In a forked child: threads that waited or held the lock in the parent do not exist here.
    public func reinitialize() {
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(condition, nil)
    }

    public func withLock<T, E: Error>(_ body: () throws(E) -> T) throws(E) -> T {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body()
    }

    /// Inside `withLock`: releases the lock until another thread calls `broadcast`.
    public func wait() { pthread_cond_wait(condition, mutex) }

    /// Wakes every thread in `wait`.
    public func broadcast() { pthread_cond_broadcast(condition) }
}

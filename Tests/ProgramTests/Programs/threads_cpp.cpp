// C++ threads: std::thread, std::async, std::atomic, std::mutex and std::condition_variable.
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <future>
#include <mutex>
#include <numeric>
#include <thread>
#include <vector>

static long sumRange(long from, long to) {
    long sum = 0;
    for (long i = from; i < to; i++) sum += i * i % 7;
    return sum;
}

int main() {
    std::atomic<long> total{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; t++)
        threads.emplace_back([&total, t] { for (int i = 0; i < 20000; i++) total.fetch_add(t + 1, std::memory_order_relaxed); });
    for (auto &thread : threads) thread.join();
    std::printf("atomic total=%ld\n", total.load());

    std::vector<std::future<long>> parts;
    for (long part = 0; part < 4; part++) parts.push_back(std::async(std::launch::async, sumRange, part * 100000, (part + 1) * 100000));
    long sum = 0;
    for (auto &part : parts) sum += part.get();
    std::printf("async sum=%ld (serial %ld)\n", sum, sumRange(0, 400000));

    std::mutex mutex;
    std::condition_variable ready;
    std::vector<int> handedOver;
    bool done = false;
    std::thread consumer([&] {
        std::unique_lock<std::mutex> lock(mutex);
        ready.wait(lock, [&] { return done; });
        std::printf("consumer saw %zu values, sum %d\n", handedOver.size(), std::accumulate(handedOver.begin(), handedOver.end(), 0));
    });
    for (int i = 0; i < 100; i++) {
        std::lock_guard<std::mutex> lock(mutex);
        handedOver.push_back(i);
    }
    {
        std::lock_guard<std::mutex> lock(mutex);
        done = true;
    }
    ready.notify_one();
    consumer.join();

    std::atomic<int> spinLock{0};
    long shared = 0;
    std::vector<std::thread> spinners;
    for (int t = 0; t < 4; t++)
        spinners.emplace_back([&] {
            for (int i = 0; i < 10000; i++) {
                int expected = 0;
                while (!spinLock.compare_exchange_weak(expected, 1, std::memory_order_acquire)) expected = 0;
                shared++;
                spinLock.store(0, std::memory_order_release);
            }
        });
    for (auto &thread : spinners) thread.join();
    std::printf("spin-locked counter=%ld\n", shared);
    return 0;
}

// POSIX threads: a mutex-guarded counter, a condition-variable queue, a barrier, pthread_once,
// thread-local storage with destructors, cancellation, and 64 threads at once.
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static pthread_mutex_t mutex = PTHREAD_MUTEX_INITIALIZER;
static long counter;
static __thread long perThread;

static void *count(void *argument) {
    for (int i = 0; i < 50000; i++) {
        pthread_mutex_lock(&mutex);
        counter++;
        pthread_mutex_unlock(&mutex);
        perThread += (long)argument;
    }
    return (void *)perThread;
}

// A bounded queue between producers and consumers.
enum { capacity = 8, items = 2000 };
static int queue[capacity], head, tail, size;
static pthread_cond_t notEmpty = PTHREAD_COND_INITIALIZER, notFull = PTHREAD_COND_INITIALIZER;
static void *produce(void *argument) {
    for (int i = 1; i <= items; i++) {
        pthread_mutex_lock(&mutex);
        while (size == capacity) pthread_cond_wait(&notFull, &mutex);
        queue[tail] = i; tail = (tail + 1) % capacity; size++;
        pthread_cond_signal(&notEmpty);
        pthread_mutex_unlock(&mutex);
    }
    return 0;
}
static void *consume(void *argument) {
    long sum = 0;
    for (int i = 0; i < items; i++) {
        pthread_mutex_lock(&mutex);
        while (size == 0) pthread_cond_wait(&notEmpty, &mutex);
        sum += queue[head]; head = (head + 1) % capacity; size--;
        pthread_cond_signal(&notFull);
        pthread_mutex_unlock(&mutex);
    }
    return (void *)sum;
}

static pthread_barrier_t barrier;
static int arrived[4];
static void *meet(void *argument) {
    long index = (long)argument;
    arrived[index] = 1;
    int serial = pthread_barrier_wait(&barrier);
    // After the barrier every thread sees every arrival.
    int all = arrived[0] + arrived[1] + arrived[2] + arrived[3];
    return (void *)(long)(all * 10 + (serial == PTHREAD_BARRIER_SERIAL_THREAD));
}

static pthread_once_t once = PTHREAD_ONCE_INIT;
static int initialized;
static void initialize(void) { initialized++; }
static void *callOnce(void *argument) { pthread_once(&once, initialize); return 0; }

static pthread_key_t key;
static int destroyed;
static void destroy(void *value) {
    pthread_mutex_lock(&mutex);
    destroyed += (int)(long)value;
    pthread_mutex_unlock(&mutex);
}
static void *withKey(void *argument) { pthread_setspecific(key, argument); return 0; }

static void *sleepForever(void *argument) {
    for (;;) pause();
    return 0;
}
static int cleanedUp;
static void cleanup(void *argument) { cleanedUp = 1; }
static void *waitForever(void *argument) {
    pthread_cleanup_push(cleanup, 0);
    pthread_mutex_lock(&mutex);
    for (;;) pthread_cond_wait(&notEmpty, &mutex);
    pthread_cleanup_pop(0);
    return 0;
}

static void *square(void *argument) { long n = (long)argument; return (void *)(n * n); }

int main(void) {
    pthread_t threads[64];
    for (long i = 0; i < 4; i++) pthread_create(&threads[i], 0, count, (void *)(i + 1));
    long perThreadSum = 0;
    for (int i = 0; i < 4; i++) { void *result; pthread_join(threads[i], &result); perThreadSum += (long)result; }
    printf("counter=%ld thread-local sum=%ld\n", counter, perThreadSum);

    pthread_create(&threads[0], 0, produce, 0);
    pthread_create(&threads[1], 0, consume, 0);
    void *consumed;
    pthread_join(threads[0], 0);
    pthread_join(threads[1], &consumed);
    printf("consumed sum=%ld (expected %d)\n", (long)consumed, items * (items + 1) / 2);

    pthread_barrier_init(&barrier, 0, 4);
    int serials = 0, seen = 0;
    for (long i = 0; i < 4; i++) pthread_create(&threads[i], 0, meet, (void *)i);
    for (int i = 0; i < 4; i++) { void *result; pthread_join(threads[i], &result); seen += (long)result / 10; serials += (long)result % 10; }
    printf("barrier: arrivals seen=%d serial threads=%d\n", seen, serials);

    for (int i = 0; i < 8; i++) pthread_create(&threads[i], 0, callOnce, 0);
    for (int i = 0; i < 8; i++) pthread_join(threads[i], 0);
    printf("pthread_once ran %d time(s)\n", initialized);

    pthread_key_create(&key, destroy);
    for (long i = 0; i < 5; i++) pthread_create(&threads[i], 0, withKey, (void *)(i + 1));
    for (int i = 0; i < 5; i++) pthread_join(threads[i], 0);
    printf("key destructors summed %d\n", destroyed);

    void *status;
    pthread_create(&threads[0], 0, sleepForever, 0);
    pthread_cancel(threads[0]);
    pthread_join(threads[0], &status);
    printf("cancelled in pause: %s\n", status == PTHREAD_CANCELED ? "yes" : "no");
    pthread_create(&threads[0], 0, waitForever, 0);
    usleep(10000);
    pthread_cancel(threads[0]);
    pthread_join(threads[0], &status);
    pthread_mutex_unlock(&mutex);
    printf("cancelled in cond_wait: %s, cleanup ran: %d\n", status == PTHREAD_CANCELED ? "yes" : "no", cleanedUp);

    for (long i = 0; i < 64; i++) pthread_create(&threads[i], 0, square, (void *)i);
    long squares = 0;
    for (int i = 0; i < 64; i++) { void *result; pthread_join(threads[i], &result); squares += (long)result; }
    printf("64 threads: sum of squares=%ld\n", squares);

    pthread_attr_t attributes;
    pthread_attr_init(&attributes);
    pthread_attr_setdetachstate(&attributes, PTHREAD_CREATE_DETACHED);
    pthread_create(&threads[0], &attributes, square, (void *)3);
    pthread_attr_destroy(&attributes);
    // exit from main ends the process with the detached thread wherever it is.
    return 0;
}

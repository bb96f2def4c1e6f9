import Dispatch
import Foundation
import Glibc
import Redis
import Synchronization
import Transport

/// `redis-bench --url redis://127.0.0.1:6379 --count 100000 --size 100 [--from-other-thread]`: pipelined
/// PUBLISH throughput of our client (the Redis adapter's hot path), with the process's CPU time. Compare
/// with `redis-benchmark -P 1000 -n 100000 publish channel <100 bytes>` against the same server.
/// `redis-bench --subscribe 100000`: receives that many messages on channel `bench` (publish them with
/// redis-benchmark) and reports the CPU per delivered message.
@main
struct RedisBench {
    static let flags = [
        CommandLineFlag("url", value: "URL", help: "Redis to publish to (default redis://127.0.0.1:6379)"),
        CommandLineFlag("count", value: "N", help: "PUBLISH commands to send (default 100000)"),
        CommandLineFlag("size", value: "BYTES", help: "payload bytes of each (default 100)"),
        CommandLineFlag("from-other-thread", help: "send from a thread other than the client's loop"),
        CommandLineFlag("subscribe", value: "N", help: "instead, receive N messages on channel `bench` and report CPU per message"),
    ]

    static func main() throws {
        let flags = CommandLineFlags.parseOrExit(program: "redis-bench", accepting: Self.flags)
        if flags.has("help") {
            print(CommandLineFlags.usage(synopsis: "usage: redis-bench [options]", flags: Self.flags), terminator: "")
            return
        }
        let url = flags.string("url") ?? "redis://127.0.0.1:6379"
        let count = flags.int("count", default: 100_000)
        let size = flags.int("size", default: 100)
        let fromOtherThread = flags.has("from-other-thread")
        let subscribeCount = flags.int("subscribe", default: 0)
        let group = try EventLoopGroup(loopCount: 1)
        let loop = group.loops[0]
        if subscribeCount > 0 {
            try Self.receive(subscribeCount, url: url, loop: loop)
            group.shutdown()
            return
        }
        let client = RedisClient(configuration: try RedisConfiguration(url: url), loop: loop)
        client.connect()
        let ready = DispatchSemaphore(value: 0)
        client.send(["PING"]) { _ in ready.signal() }
        ready.wait()

        let total = count
        let payload = [UInt8](repeating: UInt8(ascii: "x"), count: size)
        // Batches of 1,000, at most 20 in flight: the output buffer stays small, as in a steady stream of
        // broadcasts. The last PUBLISH of a batch carries a completion (replies come in order).
        let window = DispatchSemaphore(value: 20)
        let failures = Atomic<Int>(0)
        let cpuBefore = Self.cpuSeconds()
        let start = monotonicNanos()
        let batch = 1_000
        for first in stride(from: 0, to: total, by: batch) {
            window.wait()
            let last = min(total, first + batch)
            let publishBatch: @Sendable () -> Void = {
                for index in first..<last {
                    if index == last - 1 {
                        client.publish("bench", payload) { result in
                            if case .failure = result { failures.add(1, ordering: .relaxed) }
                            window.signal()
                        }
                    } else {
                        client.publish("bench", payload)
                    }
                }
            }
            if fromOtherThread { publishBatch() } else { loop.execute(publishBatch) }
        }
        for _ in 0..<20 { window.wait() }
        // libdispatch refuses to free a semaphore below its initial value.
        for _ in 0..<20 { window.signal() }
        if failures.load(ordering: .relaxed) > 0 { print("\(failures.load(ordering: .relaxed)) batches failed") }
        let seconds = Double(monotonicNanos() - start) / 1e9
        let cpu = Self.cpuSeconds() - cpuBefore
        print(String(format: "%d PUBLISH of %d bytes%@: %.3f s, %.0f/s, CPU %.3f s (%.2f µs per PUBLISH)",
                     count, size, fromOtherThread ? " (from another thread)" : "", seconds, Double(count) / seconds, cpu,
                     cpu * 1e6 / Double(count)))
        client.close()
        group.shutdown()
    }

    /// Counts `count` messages on `bench`; the clock and the CPU count start at the first one.
    private static func receive(_ count: Int, url: String, loop: EventLoop) throws {
        let received = Atomic<Int>(0)
        let firstAt = Atomic<UInt64>(0)
        let cpuAtFirst = Mutex<Double>(0)
        let done = DispatchSemaphore(value: 0)
        let subscriber = RedisSubscriber(configuration: try RedisConfiguration(url: url), loop: loop) { _ in
            let seen = received.add(1, ordering: .relaxed).newValue
            if seen == 1 {
                firstAt.store(monotonicNanos(), ordering: .relaxed)
                cpuAtFirst.withLock { $0 = Self.cpuSeconds() }
            }
            if seen == count { done.signal() }
        }
        subscriber.subscribe(["bench"])
        subscriber.connect()
        print("subscribed to bench; waiting for \(count) messages")
        done.wait()
        let seconds = Double(monotonicNanos() - firstAt.load(ordering: .relaxed)) / 1e9
        let cpu = Self.cpuSeconds() - cpuAtFirst.withLock { $0 }
        print(String(format: "%d messages received: %.3f s, %.0f/s, CPU %.3f s (%.2f µs per message)",
                     count, seconds, Double(count) / seconds, cpu, cpu * 1e6 / Double(count)))
        subscriber.close()
    }

    private static func cpuSeconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6
            + Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6
    }
}

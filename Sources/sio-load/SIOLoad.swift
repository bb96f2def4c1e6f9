import Dispatch
import EngineIO
import Foundation
import Glibc
import Synchronization
import Transport

/// `sio-load`: a Socket.IO load generator on our own event loop and client codecs, with the scenarios,
/// options and result lines of `sioload` (shared/perf), so that its figures for a server can be checked
/// against that independent C implementation (`make bench-loadgen`).
@main
struct SIOLoad {
    static func main() {
        let arguments = Array(CommandLine.arguments.dropFirst())
        if arguments.contains("--help") || arguments.contains("-h") {
            FileHandle.standardOutput.write(Data((LoadOptions.usage + "\n").utf8))
            exit(0)
        }
        if arguments.isEmpty {
            FileHandle.standardError.write(Data((LoadOptions.usage + "\n").utf8))
            exit(2)
        }
        let options: LoadOptions
        do {
            options = try LoadOptions.parse(arguments)
        } catch {
            FileHandle.standardError.write(Data("sio-load: \(error) (see sio-load --help)\n".utf8))
            exit(2)
        }
        let fileLimit = raiseFileLimit()
        if options.scenario == .capacity, let fileLimit, let connections = options.steps.last,
           UInt64(connections) + 64 > fileLimit {
            // As sioload: refuse at once rather than fail thousands of connects at the last step.
            FileHandle.standardError.write(Data("sio-load: RLIMIT_NOFILE \(fileLimit) too low for \(connections) connections\n".utf8))
            exit(2)
        }
        let outcome = run(options)
        FileHandle.standardOutput.write(Data(outcome.lines.map { $0 + "\n" }.joined().utf8))
        exit(outcome.status)
    }

    /// Runs one scenario on a fresh one-loop group and waits for it.
    static func run(_ options: LoadOptions) -> RunOutcome {
        let group: EventLoopGroup
        do {
            group = try EventLoopGroup(loopCount: 1)
        } catch {
            FileHandle.standardError.write(Data("sio-load: \(error)\n".utf8))
            exit(2)
        }
        let signals = TerminationSignals.install { _ in LoadRun.interrupted.store(true, ordering: .relaxed) }
        let outcome = runScenario(options, on: group.loops[0])
        withExtendedLifetime(signals) {}
        group.shutdown(timeoutSeconds: 2)
        return outcome
    }

    /// Runs `options`' scenario on `loop` and blocks the calling thread until it ends. Also used by tests.
    static func runScenario(_ options: LoadOptions, on loop: EventLoop) -> RunOutcome {
        let result = Mutex<RunOutcome?>(nil)
        let done = DispatchSemaphore(value: 0)
        loop.execute {
            let run: LoadRun
            switch options.scenario {
            case .echo: run = EchoRun(options: options, loop: loop)
            case .rate: run = RateRun(options: options, loop: loop)
            case .broadcast: run = BroadcastRun(options: options, loop: loop)
            case .capacity: run = CapacityRun(options: options, loop: loop)
            case .soak: run = SoakRun(options: options, loop: loop)
            }
            run.start { outcome in
                result.withLock { $0 = outcome }
                done.signal()
            }
        }
        done.wait()
        return result.withLock { $0 } ?? RunOutcome(lines: [], status: 2)
    }

    /// Raises RLIMIT_NOFILE as the servers do (the hard limit too when privileged, else the soft one up to
    /// it); returns the soft limit now in force, nil when it cannot be read.
    @discardableResult
    static func raiseFileLimit() -> UInt64? {
        FileDescriptorLimit.raise()?.soft
    }
}

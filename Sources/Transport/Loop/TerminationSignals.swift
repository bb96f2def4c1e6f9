import Dispatch
import Glibc

/// Runs a handler once when the process gets SIGINT or SIGTERM (graceful shutdown).
public enum TerminationSignals {
    /// Installs `handler` for SIGINT and SIGTERM; a second signal exits at once, for impatient operators.
    /// Keep the returned value alive for as long as the handler should stay installed.
    public static func install(_ handler: @escaping @Sendable (Int32) -> Void) -> [DispatchSourceSignal] {
        signal(SIGPIPE, SIG_IGN)
        var sources: [DispatchSourceSignal] = []
        let fired = SharedCounter(1)
        for number in [SIGINT, SIGTERM] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler {
                if fired.decrement() == 0 {
                    handler(number)
                } else {
                    exit(128 + number)
                }
            }
            source.resume()
            sources.append(source)
        }
        return sources
    }
}

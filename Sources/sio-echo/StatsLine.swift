import EngineIO
import Foundation
import Transport

/// `--stats-interval S`: what a soak run samples besides /proc, as one line on standard error every S seconds:
/// `sio-echo stats: sessions=N queued_output_bytes=B` (Engine.IO sessions open, and bytes waiting for clients
/// that read slower than they are sent to, over every loop).
enum StatsLine {
    /// Starts a thread that writes the line until the process exits; nothing for 0 seconds or fewer.
    static func start(every seconds: Int, engine: EngineServer, group: EventLoopGroup) {
        guard seconds > 0 else { return }
        let thread = Thread {
            while true {
                Thread.sleep(forTimeInterval: Double(seconds))
                let line = "sio-echo stats: sessions=\(engine.sessionCount) queued_output_bytes=\(group.outputBudget.totalBytes)\n"
                FileHandle.standardError.write(Data(line.utf8))
            }
        }
        thread.name = "sio-echo stats"
        thread.start()
    }
}

import Glibc
import Synchronization

// Back-pressure between the loops of a group. A broadcast read on one loop hops to every other loop with
// `execute`. When one peer floods a room, the loop that reads it can queue hops faster than a loop with
// many members runs them: that queue, and the packets it holds, would grow without bound, and everything
// else on the slow loop would wait behind it. So a loop whose queue passes `lagHighMark` makes the
// connection whose input fed it stop reading, until the queue is back under `lagLowMark`. The flooding
// peer then waits in TCP, as it would against a single-threaded server; other peers go on.

/// The loop running on the current thread, if any (a thread-local, set once by `EventLoop.run`).
private let currentLoopKey: pthread_key_t = {
    var key = pthread_key_t()
    pthread_key_create(&key, nil)
    return key
}()

extension EventLoop {
    /// Queued tasks above which a loop counts as behind.
    static let lagHighMark = 1024
    /// Queued tasks under which readers paused for it resume.
    static let lagLowMark = 256

    /// The loop whose thread calls this, or nil on other threads.
    static var current: EventLoop? {
        guard let pointer = pthread_getspecific(currentLoopKey) else { return nil }
        return Unmanaged<EventLoop>.fromOpaque(pointer).takeUnretainedValue()
    }

    /// Records this loop as the current thread's (the loop outlives its thread's run).
    func becomeCurrent() {
        pthread_setspecific(currentLoopKey, Unmanaged.passUnretained(self).toOpaque())
    }

    /// Called by `execute` (on the caller's thread) when this loop is behind: a loop that fed it notes it,
    /// so that the connection it is reading from stops (see `TCPConnection.readAvailable`).
    func noteFedWhileBehind() {
        guard let caller = EventLoop.current, caller !== self else { return }
        caller.lagTarget = self
    }

    /// True while this loop's queue is above the low mark.
    var isBehind: Bool { self.taskDepth.load(ordering: .relaxed) > Self.lagLowMark }

    /// Parks `connection` (which stopped reading) until `target` catches up. Loop thread only.
    func waitForLag(_ connection: TCPConnection, behind target: EventLoop) {
        self.lagWaiters.append((connection, target))
    }

    /// Lets the parked connections read again once the loops they wait for are under the low mark.
    func resumeLagWaiters() {
        var index = 0
        while index < self.lagWaiters.count {
            let waiter = self.lagWaiters[index]
            if waiter.target.isBehind {
                index += 1
                continue
            }
            self.lagWaiters.swapAt(index, self.lagWaiters.count - 1)
            self.lagWaiters.removeLast()
            waiter.connection.resumeAfterLag()
        }
    }
}

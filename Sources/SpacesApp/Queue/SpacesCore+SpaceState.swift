import Foundation
import SocketIO

extension SpacesCore {
    /// What anyone may see of a space: whether a worker serves it and how busy it is.
    func spaceState(_ spaceID: Int64) -> JSONValue {
        [
            "space_id": .int(spaceID),
            "connected": .bool(self.workerCount(spaceID: spaceID) > 0),
            "workers": .int(Int64(self.workerCount(spaceID: spaceID))),
            "queue_size": .int(Int64(self.queueSize(spaceID: spaceID))),
            "processing": .int(Int64(self.processingCount(spaceID: spaceID))),
        ]
    }

    /// Notes that `spaceID`'s state changed; watchers hear once at the end of this turn of the queue, so a burst
    /// of submissions costs one update, not one per request.
    func spaceChanged(_ spaceID: Int64) {
        guard self.onSpaceUpdate != nil else { return }
        let first = self.changedSpaces.isEmpty
        self.changedSpaces.insert(spaceID)
        if first { self.queue.async { self.flushSpaceUpdates() } }
    }

    private func flushSpaceUpdates() {
        let spaces = self.changedSpaces
        self.changedSpaces.removeAll()
        guard let onSpaceUpdate = self.onSpaceUpdate else { return }
        for spaceID in spaces.sorted() { onSpaceUpdate(spaceID, self.spaceState(spaceID)) }
    }
}

import Foundation
import SocketIO

extension SpacesCore {
    /// What anyone may see of a space: whether a worker serves it and how busy it is.
    func spaceState(_ spaceID: Int64) -> JSONValue {
        let counts: SpaceCounts
        if let cluster {
            // One round trip for the three counts of the whole cluster.
            counts = (try? cluster.spaceCounts(spaceID: spaceID)) ?? SpaceCounts()
        } else {
            counts = SpaceCounts(workers: self.workerCount(spaceID: spaceID), queued: self.queueSize(spaceID: spaceID),
                                 processing: self.processingCount(spaceID: spaceID))
        }
        return [
            "space_id": .int(spaceID),
            "connected": .bool(counts.workers > 0),
            "workers": .int(Int64(counts.workers)),
            "queue_size": .int(Int64(counts.queued)),
            "processing": .int(Int64(counts.processing)),
        ]
    }

    /// Notes that `spaceID`'s state changed; watchers hear once at the end of this turn of the queue, so a burst
    /// of submissions costs one update, not one per request.
    func spaceChanged(_ spaceID: Int64) {
        guard self.onSpaceUpdate != nil, self.wantsSpaceUpdates?(spaceID) ?? true else { return }
        let first = self.changedSpaces.isEmpty
        self.changedSpaces.insert(spaceID)
        guard first else { return }
        // On a cluster the state costs a query: under load, one per `clusterStateDelay` rather than one per request.
        if self.cluster != nil {
            self.queue.asyncAfter(deadline: .now() + Self.clusterStateDelay) { self.flushSpaceUpdates() }
        } else {
            self.queue.async { self.flushSpaceUpdates() }
        }
    }

    /// How long a cluster node gathers space changes before it reads and sends their state.
    static let clusterStateDelay = DispatchTimeInterval.milliseconds(100)

    private func flushSpaceUpdates() {
        let spaces = self.changedSpaces
        self.changedSpaces.removeAll()
        guard let onSpaceUpdate = self.onSpaceUpdate else { return }
        for spaceID in spaces.sorted() { onSpaceUpdate(spaceID, self.spaceState(spaceID)) }
    }
}

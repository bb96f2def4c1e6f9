import XCTest

@testable import SpacesApp

/// Who listens on the other nodes (`RemoteListeners`) and the updates skipped meanwhile (`SkippedUpdates`): the
/// bookkeeping that lets a cluster node skip live updates nobody can receive, with times given explicitly.
final class ClusterListenersTests: XCTestCase {
    private let start = 1_000.0
    private var settled: Double { self.start + RemoteListeners.grace + 1 }

    func testEveryoneListensDuringTheGraceThenOnlyWhatWasAnnounced() {
        let remote = RemoteListeners(now: self.start)
        XCTAssertTrue(remote.contains(7, now: self.start + RemoteListeners.grace / 2), "nodes not heard yet: assume a page")
        XCTAssertFalse(remote.contains(7, now: self.settled))
        XCTAssertEqual(remote.heard(node: "b", keys: [7, 8], complete: false, now: self.settled), [7, 8])
        XCTAssertTrue(remote.contains(7, now: self.settled))
        XCTAssertEqual(remote.heard(node: "c", keys: [8, 9], complete: true, now: self.settled), [9],
                       "8 already listens on b: not new")
    }

    func testAnnouncementsExpireAndCompleteOnesReplace() {
        let remote = RemoteListeners(now: self.start)
        _ = remote.heard(node: "b", keys: [1, 2], complete: true, now: self.settled)
        _ = remote.heard(node: "b", keys: [3], complete: false, now: self.settled + 1)
        XCTAssertTrue(remote.contains(1, now: self.settled + 1))
        XCTAssertTrue(remote.contains(3, now: self.settled + 1))
        _ = remote.heard(node: "b", keys: [3], complete: true, now: self.settled + 2)
        XCTAssertFalse(remote.contains(1, now: self.settled + 2), "a complete announcement drops what it omits")
        XCTAssertTrue(remote.contains(3, now: self.settled + 2 + RemoteListeners.expiry))
        XCTAssertFalse(remote.contains(3, now: self.settled + 2.5 + RemoteListeners.expiry), "a silent node is forgotten")
        XCTAssertEqual(remote.heard(node: "c", keys: [3], complete: true, now: self.settled + 20), [3],
                       "known only from an expired announcement: new again")
    }

    func testSkippedUpdatesAreKeptForTheirWindowAndCapacity() {
        let skipped = SkippedUpdates(window: 4, capacity: 3)
        skipped.note(key: 1, id: "a", now: 10)
        skipped.note(key: 2, id: "b", now: 11)
        skipped.note(key: 1, id: "a", now: 12)
        skipped.note(key: 1, id: "c", now: 13)
        XCTAssertEqual(skipped.ids(for: 1, now: 13), ["a", "c"], "distinct ids, oldest first")
        skipped.note(key: 1, id: "d", now: 14)
        XCTAssertEqual(skipped.ids(for: 2, now: 14), [], "beyond the capacity the oldest go")
        XCTAssertEqual(skipped.ids(for: 1, now: 17.5), ["d"], "older than the window: gone")
        for index in 0..<5_000 { skipped.note(key: 3, id: "x\(index)", now: 20) }
        XCTAssertEqual(skipped.ids(for: 3, now: 20), ["x4997", "x4998", "x4999"])
    }
}

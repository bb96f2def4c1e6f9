import Testing
@testable import SpacesApp

/// A node hears its own NOTIFYs: they are dropped on the listener's thread, others reach the core's queue.
@Suite struct ClusterWakeFilterTests {
    @Test func onlyTheNodesOwnWakeUpsAreDropped() {
        #expect(SpacesCore.isOwnWake("q 7 node-a1", nodeID: "node-a1"))
        #expect(SpacesCore.isOwnWake("x r-1 node-a1", nodeID: "node-a1"))
        #expect(!SpacesCore.isOwnWake("q 7 node-b2", nodeID: "node-a1"))
        #expect(!SpacesCore.isOwnWake("q 7 node-a1x", nodeID: "node-a1"), "a node whose id starts alike")
        #expect(!SpacesCore.isOwnWake("c rows", nodeID: "rows"), "not a wake-up of a node")
        #expect(!SpacesCore.isOwnWake("q node-a1", nodeID: "node-a1"))
    }
}

import EngineIO
import HTTPKit
import SocketIO

/// `GET /admin/websockets/status` (the original's shape, plus queue details) and `GET /metrics`.
enum MonitoringRoutes {
    static func install(on router: Router, site: SpacesSite) {
        router.get("/admin/websockets/status", handler: site.route { context in
            _ = try await site.requireAdmin(context)
            let status = try await site.core.perform { try site.core.connectionStatus() }
            return SpacesSite.json(status)
        })

        router.get("/metrics") { _ in
            let connections = site.connectionCount()
            let text = (try? await site.core.perform { try site.core.prometheusText(connections: connections) }) ?? ""
            return .text(text, contentType: "text/plain; version=0.0.4; charset=utf-8")
        }
    }
}

extension SpacesCore {
    /// `{success, connected_count, total_ws_spaces, connections, all_spaces}`.
    func connectionStatus() throws -> JSONValue {
        let spaces = try self.store.spaces().filter(\.isWebsockets)
        var connections: [JSONValue] = []
        if let cluster {
            // Every node's workers, each with the node it is connected to.
            let names = Dictionary(spaces.map { ($0.id, $0.name) }, uniquingKeysWith: { first, _ in first })
            for row in try cluster.clusterRegistrations() {
                let r = row.registration
                connections.append([
                    "connection_id": .string(r.workerID), "space_id": .int(r.spaceID),
                    "space_name": .string(names[r.spaceID] ?? ""), "connected_at": .string(ISOTime.format(r.registeredAt)),
                    "concurrency": .int(Int64(r.concurrency)), "in_flight": .int(Int64(row.inFlight)),
                    "node_id": .string(r.nodeID), "node_address": .string(row.nodeAddress),
                ])
            }
        }
        for space in spaces where self.cluster == nil {
            for workerID in self.holders[space.id] ?? [] {
                guard let entry = self.workers[workerID], let registration = entry.registrations[space.id] else { continue }
                connections.append([
                    "connection_id": .string(workerID), "space_id": .int(space.id), "space_name": .string(space.name),
                    "connected_at": .string(ISOTime.format(registration.registeredAt)),
                    "concurrency": .int(Int64(registration.concurrency)),
                    "in_flight": .int(Int64(registration.inFlight.count)),
                ])
            }
        }
        let all: [JSONValue] = spaces.map { space in
            [
                "space_id": .int(space.id), "space_name": .string(space.name),
                "is_connected": .bool(self.workerCount(spaceID: space.id) > 0),
                "worker_count": .int(Int64(self.workerCount(spaceID: space.id))),
                "max_workers": .int(Int64(space.maxWorkers)),
                "queue_size": .int(Int64(self.queueSize(spaceID: space.id))),
                "processing": .int(Int64(self.processingCount(spaceID: space.id))),
                "token_required": .bool(!(space.workerToken ?? "").isEmpty),
            ]
        }
        var status: JSONObject = [
            "success": true,
            "connected_count": .int(Int64(connections.count)),
            "total_ws_spaces": .int(Int64(spaces.count)),
            "connections": .array(connections),
            "all_spaces": .array(all),
        ]
        if let cluster {
            status["node_id"] = .string(self.nodeID)
            status["nodes"] = .array(try cluster.clusterNodes().map { node in
                ["node_id": .string(node.id), "address": .string(node.address),
                 "lease_seconds_left": .double((node.leaseSecondsLeft * 10).rounded() / 10)]
            })
        }
        return .object(status)
    }

    /// The Prometheus text exposition.
    func prometheusText(connections: Int) throws -> String {
        var out = ""
        func gauge(_ name: String, _ help: String, _ lines: [(String, Int)]) {
            out += "# HELP \(name) \(help)\n# TYPE \(name) gauge\n"
            for (labels, value) in lines { out += "\(name)\(labels) \(value)\n" }
        }
        func counter(_ name: String, _ help: String, _ value: Int) {
            out += "# HELP \(name) \(help)\n# TYPE \(name) counter\n\(name) \(value)\n"
        }
        gauge("spaces_socket_connections", "Open Engine.IO sessions (workers and browsers).", [("", connections)])
        gauge("spaces_worker_connections", "Sockets registered as workers.", [("", self.workers.count)])
        let spaces = try self.store.spaces().filter(\.isWebsockets)
        func label(_ space: Space) -> String {
            let name = space.name.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
                .replacingOccurrences(of: "\n", with: "\\n")
            return "{space_id=\"\(space.id)\",space=\"\(name)\"}"
        }
        // This node's own workers and the requests they hold (the whole site on a single node).
        let local = Dictionary(grouping: self.workers.values.flatMap { $0.registrations }, by: \.key)
        gauge("spaces_workers", "Workers registered per space on this node.",
              spaces.map { (label($0), self.cluster == nil ? self.workerCount(spaceID: $0.id) : local[$0.id]?.count ?? 0) })
        gauge("spaces_processing", "Requests held by this node's workers per space.",
              spaces.map { space in (label(space), local[space.id]?.reduce(0) { $0 + $1.value.inFlight.count } ?? 0) })
        gauge("spaces_queue_depth", "Requests waiting per space (the queue every node shares).",
              spaces.map { (label($0), self.queueSize(spaceID: $0.id)) })
        if let cluster {
            out = "# HELP spaces_node_info This node's id in the cluster.\n# TYPE spaces_node_info gauge\n"
                + "spaces_node_info{node=\"\(self.nodeID)\"} 1\n" + out
            gauge("spaces_cluster_nodes", "Nodes with a live lease.", [("", try cluster.clusterNodes().count)])
            gauge("spaces_cluster_workers", "Workers registered per space on every node.",
                  spaces.map { (label($0), self.workerCount(spaceID: $0.id)) })
            gauge("spaces_cluster_processing", "Requests held by workers per space on every node.",
                  spaces.map { (label($0), self.processingCount(spaceID: $0.id)) })
        }
        let counts = try self.store.countsByStatus()
        gauge("spaces_requests", "Stored requests by status.",
              RequestStatus.allCases.map { ("{status=\"\($0.rawValue)\"}", counts[$0] ?? 0) })
        counter("spaces_requests_submitted_total", "Requests accepted since start.", self.metrics.submitted)
        counter("spaces_requests_dispatched_total", "Deliveries to workers since start.", self.metrics.dispatched)
        counter("spaces_requests_redelivered_total", "Requests returned to the queue by a lost worker.", self.metrics.redelivered)
        counter("spaces_results_ignored_total", "Results from sockets not holding the request, or late.", self.metrics.ignoredResults)
        counter("spaces_registrations_refused_total", "Worker registrations refused.", self.metrics.registrationsRefused)
        out += self.metrics.dispatchWait.render(name: "spaces_dispatch_wait_seconds", help: "Time from submission to dispatch.")
        out += self.metrics.processing.render(name: "spaces_processing_seconds", help: "Time from dispatch to the end.")
        return out
    }
}

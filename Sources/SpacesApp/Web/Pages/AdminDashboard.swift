import Foundation
import SocketIO

/// One registration of a connected worker, as the dashboard lists it.
struct WorkerRow: Sendable {
    let connectionID: String
    let address: String
    let spaceID: Int64
    let spaceName: String
    let since: Double
    let inFlight: Int
    let concurrency: Int
    let completed: Int
    /// The node the worker is connected to ("" on a single node).
    var node = ""
}

/// What the dashboard shows of a space.
struct SpaceRow: Sendable {
    let space: Space
    let workers: Int
    let waiting: Int
    let processing: Int
}

/// Everything `/admin` shows, read in one turn of the core's queue.
struct DashboardData: Sendable {
    var spaces: [SpaceRow] = []
    var workers: [WorkerRow] = []
    var recent: [RequestRecord] = []
    var users: [User] = []
    var usedToday: [Int64: Int] = [:]
}

extension SpacesCore {
    func dashboardData(recentLimit: Int) throws -> DashboardData {
        var data = DashboardData()
        let spaces = try self.store.spaces()
        var names: [Int64: String] = [:]
        for space in spaces {
            names[space.id] = space.name
            data.spaces.append(SpaceRow(space: space, workers: self.workerCount(spaceID: space.id),
                                        waiting: self.queueSize(spaceID: space.id),
                                        processing: self.processingCount(spaceID: space.id)))
        }
        if let cluster {
            data.workers = try self.clusterWorkerRows(cluster, names: names)
        } else {
            for (id, entry) in self.workers {
                for (spaceID, registration) in entry.registrations {
                    data.workers.append(WorkerRow(
                        connectionID: id, address: entry.channel.address, spaceID: spaceID,
                        spaceName: names[spaceID] ?? "#\(spaceID)", since: registration.registeredAt,
                        inFlight: registration.inFlight.count, concurrency: registration.concurrency,
                        completed: registration.completed))
                }
            }
        }
        data.workers.sort { ($0.spaceName, $0.since) < ($1.spaceName, $1.since) }
        data.recent = try self.store.recentRequests(limit: recentLimit)
        data.users = try self.store.users()
        data.usedToday = try self.store.requestCountsByUser(since: ISOTime.startOfDay(self.clock()))
        return data
    }

    /// Every worker of the cluster, with its node (completions are counted by the node that has the worker).
    private func clusterWorkerRows(_ cluster: any ClusterQueueStore, names: [Int64: String]) throws -> [WorkerRow] {
        try cluster.clusterRegistrations().map { row in
            let r = row.registration
            return WorkerRow(connectionID: r.workerID, address: r.address, spaceID: r.spaceID,
                             spaceName: names[r.spaceID] ?? "#\(r.spaceID)", since: r.registeredAt, inFlight: row.inFlight,
                             concurrency: r.concurrency,
                             completed: self.workers[r.workerID]?.registrations[r.spaceID]?.completed ?? 0,
                             node: row.nodeAddress.isEmpty ? r.nodeID : "\(r.nodeID) (\(row.nodeAddress))")
        }
    }
}

/// `/admin`: spaces with their queues, connected workers, recent requests, users and their daily limits.
enum AdminDashboard {
    static func render(_ page: PageContext, _ data: DashboardData, now: Double) -> String {
        var body = """
            <div class="page-head"><h1>\(page.h(.admin))</h1>
            <p><a class="button" href="/admin/space/add">\(page.h(.newSpace))</a>
            <a href="/admin/websockets/status">\(page.h(.workerConnectionsJSON))</a> · <a href="/metrics">\(page.h(.metrics))</a></p></div>
            """
        body += "<section class=\"panel\" aria-labelledby=\"spaces-title\"><h2 id=\"spaces-title\">\(page.h(.spaces))</h2>"
        if data.spaces.isEmpty {
            body += "<p class=\"muted\">\(page.h(.noSpacesYet))</p>"
        } else {
            body += self.tableStart("admin-spaces", ["#", page.t(.name), page.t(.type), page.t(.workers), page.t(.waiting),
                                                     page.t(.processing), page.t(.workerToken), ""])
            for row in data.spaces {
                let space = row.space
                let ws = space.isWebsockets
                body += "<tr data-space-id=\"\(space.id)\"><td>\(space.id)</td>"
                    + "<td><a href=\"/ai_project/\(space.id)\">\(HTML.escape(space.name))</a></td>"
                    + "<td>\(page.h(ws ? .remoteWorkerSpace : .standardSpace))</td>"
                    + "<td>\(ws ? "\(row.workers) / \(space.maxWorkers)" : "–")</td><td>\(ws ? String(row.waiting) : "–")</td>"
                    + "<td>\(ws ? String(row.processing) : "–")</td>"
                    + "<td>\(ws ? page.h((space.workerToken ?? "").isEmpty ? .no : .yes) : "–")</td>"
                    + "<td><a href=\"/admin/space/edit/\(space.id)\">\(page.h(.edit))</a></td></tr>"
            }
            body += "</tbody></table></div>"
        }
        body += "</section>"

        body += "<section class=\"panel\" aria-labelledby=\"workers-title\"><h2 id=\"workers-title\">\(page.h(.connectedWorkers))</h2>"
        if data.workers.isEmpty {
            body += "<p class=\"muted\" id=\"no-workers\">\(page.h(.noWorkerConnected))</p>"
        } else {
            let clustered = data.workers.contains { !$0.node.isEmpty }
            body += self.tableStart("admin-workers", [page.t(.space), page.t(.connection), page.t(.address)]
                                    + (clustered ? [page.t(.node)] : []) + [page.t(.since), page.t(.inFlight), page.t(.completedCount)])
            for worker in data.workers {
                body += "<tr><td><a href=\"/ai_project/\(worker.spaceID)\">\(HTML.escape(worker.spaceName))</a></td>"
                    + "<td><code>\(HTML.escape(worker.connectionID))</code></td><td>\(HTML.escape(worker.address))</td>"
                    + (clustered ? "<td class=\"worker-node\">\(HTML.escape(worker.node))</td>" : "")
                    + "<td>\(self.time(worker.since, page)) <span class=\"muted\">(\(HTML.escape(self.duration(now - worker.since))))</span></td>"
                    + "<td>\(worker.inFlight) / \(worker.concurrency)</td><td>\(worker.completed)</td></tr>"
            }
            body += "</tbody></table></div>"
        }
        body += "</section>"

        body += "<section class=\"panel\" aria-labelledby=\"recent-title\"><h2 id=\"recent-title\">\(page.h(.recentRequests))</h2>"
        if data.recent.isEmpty {
            body += "<p class=\"muted\">\(page.h(.noRequestsYet))</p>"
        } else {
            let names = Dictionary(data.spaces.map { ($0.space.id, $0.space.name) }, uniquingKeysWith: { first, _ in first })
            body += self.tableStart("admin-requests", [page.t(.created), page.t(.user), page.t(.space), page.t(.status),
                                                       page.t(.duration), page.t(.error)])
            for record in data.recent {
                let end = record.finishedAt ?? now
                body += "<tr data-request-id=\"\(HTML.escape(record.id))\"><td>\(self.time(record.createdAt, page))</td>"
                    + "<td>\(HTML.escape(record.username))</td>"
                    + "<td>\(HTML.escape(names[record.spaceID] ?? "#\(record.spaceID)"))</td>"
                    + "<td><span class=\"status status-\(record.status.rawValue)\">\(page.h(Phrase.status(record.status)))</span></td>"
                    + "<td>\(HTML.escape(self.duration(end - record.createdAt)))</td>"
                    + "<td>\(HTML.escape(String((record.error ?? "").prefix(200))))</td></tr>"
            }
            body += "</tbody></table></div>"
        }
        body += "</section>"

        body += "<section class=\"panel\" aria-labelledby=\"users-title\"><h2 id=\"users-title\">\(page.h(.users))</h2>"
            + self.tableStart("admin-users", ["#", page.t(.username), page.t(.admin), page.t(.usedToday), page.t(.dailyLimit)])
        for user in data.users {
            let fieldID = "quota-\(user.id)"
            body += "<tr data-user=\"\(HTML.escape(user.username))\"><td>\(user.id)</td><td>\(HTML.escape(user.username))</td>"
                + "<td>\(page.h(user.isAdmin ? .yes : .no))</td><td>\(data.usedToday[user.id] ?? 0)</td>"
                + "<td><form method=\"post\" action=\"/admin/users/\(user.id)/quota\" class=\"inline\">"
                + "<label class=\"visually-hidden\" for=\"\(fieldID)\">\(page.h(.dailyLimitFor, ["name": user.username]))</label>"
                + "<input type=\"number\" min=\"0\" max=\"1000000\" name=\"daily_quota\" id=\"\(fieldID)\" value=\"\(user.dailyQuota)\" class=\"narrow\"> "
                + "<button type=\"submit\">\(page.h(.set))</button></form></td></tr>"
        }
        body += "</tbody></table></div><p class=\"hint\">\(page.h(.dailyLimitHint))</p></section>"
        return body
    }

    /// A scrollable table's opening, up to its body: `headers` are plain text.
    static func tableStart(_ id: String, _ headers: [String]) -> String {
        "<div class=\"table-wrap\"><table id=\"\(id)\"><thead><tr>"
            + headers.map { "<th scope=\"col\">\(HTML.escape($0))</th>" }.joined() + "</tr></thead><tbody>"
    }

    /// A UTC time the browser shows in local time (`<time>` carries the exact value).
    static func time(_ seconds: Double, _ page: PageContext) -> String {
        let iso = ISOTime.format(seconds)
        let shown = iso.replacingOccurrences(of: "T", with: " ").prefix(19)
        return "<time datetime=\"\(iso)\">\(HTML.escape(String(shown))) UTC</time>"
    }

    /// `4s`, `2m 05s`, `3h 02m`.
    static func duration(_ seconds: Double) -> String {
        let total = max(0, Int(seconds.rounded(.down)))
        if total < 60 { return "\(total)s" }
        if total < 3600 { return "\(total / 60)m \(String(total % 60).leftPadded(to: 2))s" }
        return "\(total / 3600)h \(String(total % 3600 / 60).leftPadded(to: 2))m"
    }
}

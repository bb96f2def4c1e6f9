import MessagePack
import SocketIO
@testable import SocketIORedis
import Testing

/// Every message Node's adapter and emitter published decodes into our types, and our types encode it back
/// byte for byte; the channels are the ones our channel names give.
struct RedisMessageFixtureTests {
    static let channels = RedisAdapterChannels(key: "socket.io", namespace: "/")

    @Test func fixtureFilesAreAllThere() throws {
        #expect(RedisFixtures.fileNames.count == 39)
        #expect(try RedisFixtures.publishes().count == 50)
    }

    @Test(arguments: try RedisFixtures.publishes())
    func everyPublishDecodesAndReencodesByteForByte(message: RedisFixtures.Message) throws {
        let expected = RedisFixtures.restoringBinary(message.decoded)
        if message.channel.hasPrefix("socket.io#") {
            let broadcast = try RedisBroadcastMessage.decode(message.payload)
            #expect(broadcast.encode() == message.payload)
            let channels = RedisAdapterChannels(key: "socket.io", namespace: broadcast.packet.namespace)
            #expect(channels.broadcastChannel(rooms: broadcast.rooms) == message.channel)
            #expect(broadcast.uid == expected[0]?.stringValue)
            #expect(broadcast.packet.json == expected[1])
        } else if message.channel.hasPrefix("socket.io-request#") {
            let request = try RedisRequest.decode(message.payload)
            #expect(request.encode() == message.payload)
            #expect(try RedisPayload.decode(message.payload) == expected)
            #expect(request.uid == expected["uid"]?.stringValue)
        } else {
            #expect(message.channel.hasPrefix("socket.io-response#/#"))
            let response = try RedisResponse.decode(message.payload)
            #expect(response.encode() == message.payload)
            #expect(try RedisPayload.decode(message.payload) == expected)
        }
    }

    // MARK: Built from our values (random ids taken from the capture)

    private func payload(_ file: String, _ index: Int) throws -> [UInt8] {
        try RedisFixtures.messages(file)[index].payload
    }

    @Test func broadcastAll() throws {
        let message = RedisBroadcastMessage(
            uid: "pMRoEx", packet: RedisEventPacket(event: "all", arguments: ["everyone", .double(1.5), .null, true], namespace: "/"),
            rooms: [], except: [], flags: RedisBroadcastFlags(SocketBroadcastFlags()))
        #expect(message.encode() == (try self.payload("broadcast-all.json", 0)))
        #expect(Self.channels.broadcastChannel(rooms: []) == "socket.io#/#")
    }

    @Test func broadcastBinaryStaysAnEventWithInlineBin() throws {
        let message = RedisBroadcastMessage(
            uid: "pMRoEx",
            packet: RedisEventPacket(event: "bin", arguments: [.binary([1, 2, 3, 255]), ["nested": .binary(Array("hi".utf8))]],
                                     namespace: "/"),
            rooms: ["r1"], except: [], flags: RedisBroadcastFlags())
        #expect(message.encode() == (try self.payload("broadcast-binary.json", 0)))
        #expect(Self.channels.broadcastChannel(rooms: ["r1"]) == "socket.io#/#r1#")
    }

    @Test func broadcastFlags() throws {
        var volatile = SocketBroadcastFlags()
        volatile.volatile = true
        let vol = RedisBroadcastMessage(uid: "pMRoEx", packet: RedisEventPacket(event: "vol", arguments: ["v"], namespace: "/"),
                                        rooms: [], except: [], flags: RedisBroadcastFlags(volatile))
        #expect(vol.encode() == (try self.payload("broadcast-volatile.json", 0)))
        var compress = SocketBroadcastFlags()
        compress.compress = false
        let cmp = RedisBroadcastMessage(uid: "pMRoEx", packet: RedisEventPacket(event: "cmp", arguments: ["c"], namespace: "/"),
                                        rooms: [], except: [], flags: RedisBroadcastFlags(compress))
        #expect(cmp.encode() == (try self.payload("broadcast-compress-false.json", 0)))
        let two = RedisBroadcastMessage(uid: "pMRoEx", packet: RedisEventPacket(event: "two", arguments: ["a", 2], namespace: "/"),
                                        rooms: ["r1", "r2"], except: ["ex"], flags: RedisBroadcastFlags())
        #expect(two.encode() == (try self.payload("broadcast-rooms-except.json", 0)))
        #expect(Self.channels.broadcastChannel(rooms: ["r1", "r2"]) == "socket.io#/#")
    }

    @Test func adminNamespaceBroadcast() throws {
        let admin = RedisAdapterChannels(key: "socket.io", namespace: "/admin")
        let message = RedisBroadcastMessage(uid: "QA4T95", packet: RedisEventPacket(event: "adm", arguments: ["to admins"], namespace: "/admin"),
                                            rooms: [], except: [], flags: RedisBroadcastFlags())
        #expect(message.encode() == (try self.payload("broadcast-admin-namespace.json", 0)))
        #expect(admin.broadcastChannel(rooms: []) == "socket.io#/admin#")
    }

    @Test func emitterBroadcastsWriteFlagsBeforeExcept() throws {
        let message = RedisBroadcastMessage(uid: "emitter", packet: RedisEventPacket(event: "emitter-except", arguments: [1], namespace: "/"),
                                            rooms: ["r1", "r2"], except: ["ex"], flags: RedisBroadcastFlags(compress: false),
                                            layout: .emitter)
        #expect(message.encode() == (try self.payload("emitter-rooms-except.json", 0)))
        let decoded = try RedisBroadcastMessage.decode(try self.payload("emitter-admin-volatile.json", 0))
        #expect(decoded.layout == .emitter && decoded.flags.volatile == true && decoded.packet.namespace == "/admin")
    }

    @Test func acknowledgedBroadcastRequestAndResponses() throws {
        let request = RedisRequest.broadcast(
            uid: "pMRoEx", requestId: "zmmAX2", packet: RedisEventPacket(event: "ask", arguments: ["q"], namespace: "/"),
            target: RedisTarget(rooms: ["r1"]), flags: RedisBroadcastFlags(timeoutMillis: 2000))
        #expect(request.encode() == (try self.payload("broadcast-with-ack.json", 0)))
        #expect(RedisResponse.clientCount(requestId: "zmmAX2", count: 1).encode() == (try self.payload("broadcast-with-ack.json", 2)))
        #expect(RedisResponse.ack(requestId: "zmmAX2", value: "answer from bob").encode() == (try self.payload("broadcast-with-ack.json", 3)))
        #expect(RedisResponse.ack(requestId: "873IKy", value: .binary([0, 1, 0xFE])).encode()
                == (try self.payload("broadcast-with-ack-binary.json", 3)))
        #expect(RedisResponse.clientCount(requestId: "bm1WNg", count: 0).encode()
                == (try self.payload("broadcast-with-ack-no-remote-client.json", 2)))
    }

    @Test func fetchAllRoomsAndServerSideEmit() throws {
        #expect(RedisRequest.fetch(uid: "pMRoEx", requestId: "iEDOH0", target: RedisTarget(rooms: ["r1"])).encode()
                == (try self.payload("fetch-sockets-room.json", 1)))
        #expect(RedisResponse.sockets(requestId: "JCS49r", sockets: []).encode()
                == (try self.payload("fetch-sockets-no-remote-match.json", 2)))
        #expect(RedisRequest.allRooms(uid: "pMRoEx", requestId: "7SQPmh").encode() == (try self.payload("all-rooms.json", 1)))
        #expect(RedisResponse.allRooms(requestId: "7SQPmh", rooms: ["_0bR-FKAj7u5qi8QAAAA", "PuYMC8tZJqijAT6UAAAE", "r1", "r2", "kick2"]).encode()
                == (try self.payload("all-rooms.json", 2)))
        #expect(RedisRequest.serverSideEmit(uid: "pMRoEx", requestId: nil, data: ["notify", "n1", ["k": 2]]).encode()
                == (try self.payload("server-side-emit.json", 0)))
        #expect(RedisRequest.serverSideEmit(uid: "pMRoEx", requestId: "CgSix7", data: ["whoami"]).encode()
                == (try self.payload("server-side-emit-with-ack.json", 1)))
        #expect(RedisResponse.serverSideEmit(requestId: "CgSix7", data: ["node": "node", "port": 4312]).encode()
                == (try self.payload("server-side-emit-with-ack.json", 2)))
        #expect(RedisRequest.serverSideEmit(uid: "emitter", requestId: nil, data: ["notify", "from emitter", 5]).encode()
                == (try self.payload("emitter-server-side-emit.json", 0)))
    }

    @Test func bulkOperations() throws {
        #expect(RedisRequest.join(uid: "pMRoEx", target: RedisTarget(rooms: ["r1"]), rooms: ["joined"]).encode()
                == (try self.payload("sockets-join.json", 0)))
        #expect(RedisRequest.leave(uid: "pMRoEx", target: RedisTarget(rooms: ["joined"]), rooms: ["joined"]).encode()
                == (try self.payload("sockets-leave.json", 0)))
        #expect(RedisRequest.disconnect(uid: "pMRoEx", target: RedisTarget(rooms: ["kick"]), close: false).encode()
                == (try self.payload("disconnect-sockets.json", 0)))
        #expect(RedisRequest.disconnect(uid: "pMRoEx", target: RedisTarget(rooms: ["kick-close"]), close: true).encode()
                == (try self.payload("disconnect-sockets-close.json", 0)))
        #expect(RedisRequest.join(uid: nil, target: RedisTarget(rooms: ["r1"]), rooms: ["emitter-joined"]).encode()
                == (try self.payload("emitter-sockets-join.json", 0)))
        #expect(RedisRequest.disconnect(uid: nil, target: RedisTarget(rooms: ["kick2"]), close: false).encode()
                == (try self.payload("emitter-disconnect-sockets.json", 0)))
    }

    @Test func fetchedSocketDetailsSurviveASnapshotRoundTrip() throws {
        for file in ["fetch-sockets-all.json", "fetch-sockets-room.json", "specific-response-channel-fetch-sockets.json"] {
            let message = try #require(try RedisFixtures.messages(file).last)
            guard case .sockets(_, let sockets) = try RedisResponse.decode(message.payload) else {
                Issue.record("not a sockets response")
                continue
            }
            #expect(!sockets.isEmpty)
            for socket in sockets {
                let snapshot = try #require(RedisSocketDetails(json: socket).snapshot)
                #expect(JSONSerializer.serialize(RedisSocketDetails(snapshot).json) == JSONSerializer.serialize(socket))
            }
        }
    }

    @Test func subscriptionsAndServerCountUseOurChannelNames() throws {
        for file in ["startup.json", "startup-node3-specific-response-channel.json", "shutdown.json"] {
            let root = try RedisFixtures.file(file)
            var uids: [String: String] = [:]
            for (_, node) in root["nodes"]?.objectValue ?? JSONObject() {
                for (namespace, uid) in node["adapter_uid_per_namespace"]?.objectValue ?? JSONObject() {
                    uids[uid.stringValue ?? ""] = namespace
                }
            }
            for message in try RedisFixtures.messages(file) where message.command != "QUIT" {
                let namespace = message.args.first.flatMap { arg in
                    ["/admin", "/"].first { arg.contains("#\($0)#") }
                } ?? "?"
                let channels = RedisAdapterChannels(key: "socket.io", namespace: namespace)
                let uid = uids.first { $0.value == namespace && message.args.contains(channels.specificResponse(uid: $0.key)) }?.key
                switch message.command {
                case "PSUBSCRIBE", "PUNSUBSCRIBE": #expect(message.args == [channels.broadcastPattern])
                case "SUBSCRIBE": #expect(message.args == [channels.request, channels.response, channels.specificResponse(uid: uid ?? "?")])
                case "UNSUBSCRIBE":
                    #expect(message.args.count == 1)
                    #expect([channels.request, channels.response].contains(message.args[0]) || uid != nil)
                default: Issue.record("unexpected \(message.command)")
                }
            }
        }
        let count = try RedisFixtures.messages("server-count.json")
        #expect(count.map(\.args) == [["NUMSUB", Self.channels.request]])
    }

    @Test func olderSingleSocketFormsAndTypeZeroDecode() throws {
        let join = try RedisRequest.decode(Array(#"{"uid":"abc","requestId":"r1","type":2,"sid":"s1","room":"x"}"#.utf8))
        #expect(join == .socketRoom(type: .remoteJoin, uid: "abc", requestId: "r1", socketId: "s1", room: "x"))
        let disconnect = try RedisRequest.decode(Array(#"{"uid":"abc","requestId":"r2","type":4,"sid":"s1","close":true}"#.utf8))
        #expect(disconnect == .disconnectSocket(uid: "abc", requestId: "r2", socketId: "s1", close: true))
        let sockets = try RedisRequest.decode(Array(#"{"uid":"abc","requestId":"r3","type":0,"rooms":["a"]}"#.utf8))
        #expect(sockets == .sockets(uid: "abc", requestId: "r3", rooms: ["a"]))
        #expect(RedisResponse.done(requestId: "r1").encode() == Array(#"{"requestId":"r1"}"#.utf8))
    }

    @Test func malformedMessagesAreErrorsNotCrashes() {
        #expect(throws: RedisMessageError.self) { try RedisRequest.decode(Array("{nope".utf8)) }
        #expect(throws: RedisMessageError.self) { try RedisRequest.decode([0xDD, 0xFF, 0xFF, 0xFF, 0xFF]) }
        #expect(throws: RedisMessageError.unknownType(42)) { try RedisRequest.decode(Array(#"{"type":42}"#.utf8)) }
        #expect(throws: RedisMessageError.self) { try RedisBroadcastMessage.decode([0x93, 0xA1, 0x61, 0xC0, 0x80]) }
        #expect(throws: RedisMessageError.self) { try RedisResponse.decode(Array(#"{"type":6}"#.utf8)) }
    }

    @Test func roomPartOfChannels() {
        #expect(Self.channels.roomPart(ofBroadcastChannel: "socket.io#/#") == "")
        #expect(Self.channels.roomPart(ofBroadcastChannel: "socket.io#/#r1#") == "r1")
        #expect(Self.channels.roomPart(ofBroadcastChannel: "socket.io#/admin#") == nil)
    }
}

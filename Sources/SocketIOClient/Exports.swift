// The value types of event arguments come from the SocketIO module; re-exported so that `import
// SocketIOClient` is enough to use the client.
@_exported import enum SocketIO.JSONValue
@_exported import struct SocketIO.JSONObject
@_exported import enum EngineIO.EngineTransport
@_exported import enum SocketIO.JSONParser
@_exported import enum SocketIO.JSONSerializer
@_exported import struct SocketIO.SocketArgumentError

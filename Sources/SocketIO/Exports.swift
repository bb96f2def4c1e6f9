// `import SocketIO` is all a server author writes: the layers below come with it. Whole modules rather than
// typealiases, because a server touches many of their names (Router, RequestContext, HTTPResponse and its
// helpers, EngineServerOptions, TLSServerContext, EventLoopGroup…) and a list of aliases would miss some and
// hide their extensions' documentation.
@_exported import EngineIO
@_exported import HTTPKit
@_exported import Transport

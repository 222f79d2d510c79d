import Logging
import MariaDBWire
import NIOCore
import NIOEmbedded
import NIOPosix
import ProxyConfiguration
import Testing

@testable import ProxyServer

/// Records what reaches the head of a pipeline: reads issued, and output shutdowns (which an
/// `EmbeddedChannel` would turn into a full close).
final class PipelineHeadRecorder: ChannelOutboundHandler {
    typealias OutboundIn = ByteBuffer
    var reads = 0
    var outputShutdowns = 0

    func read(context: ChannelHandlerContext) {
        reads += 1
        context.read()
    }

    func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        guard mode == .output else { return context.close(mode: mode, promise: promise) }
        outputShutdowns += 1
        promise?.succeed(())
    }
}

/// One `ProxyConnection` over two `EmbeddedChannel`s on one `EmbeddedEventLoop`: the relay handler
/// pair with the real connection and machine behind it, the backend "connected" in memory.
final class EmbeddedConnection {
    let loop = EmbeddedEventLoop()
    let client: EmbeddedChannel
    let connection: ProxyConnection
    let clientHead = PipelineHeadRecorder()
    let backendHead = PipelineHeadRecorder()
    var backend: EmbeddedChannel { connection.backendChannel as! EmbeddedChannel }

    init(settings: ProxySettings = ProxySettings()) throws {
        client = EmbeddedChannel(loop: loop)
        let loop = self.loop
        let backendHead = NIOLoopBound(self.backendHead, eventLoop: loop)
        let environment = ConnectionEnvironment(
            id: 1,
            transport: .tcp,
            settings: settings,
            tlsContext: nil,
            backendTLSContext: nil,
            currentRules: { .init() },
            handshakeGate: HandshakeGate(limit: 1),
            nameResolverPool: NIOThreadPool(numberOfThreads: 1),
            logger: Logger(label: "test")
        )
        let connector = BackendConnector { _, _, initialize in
            let channel = EmbeddedChannel(loop: loop)
            do {
                try channel.pipeline.syncOperations.addHandler(backendHead.value)
            } catch {
                return loop.makeFailedFuture(error)
            }
            return initialize(channel).flatMap {
                channel.connect(to: try! SocketAddress(ipAddress: "127.0.0.1", port: 3306))
            }.map { channel }
        }
        connection = ProxyConnection(clientChannel: client, environment: environment, backendConnector: connector)
        try client.pipeline.syncOperations.addHandler(clientHead)
        try connection.install()
        try client.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 40000)).wait()
        loop.run()
    }

    static func wire(_ packet: Packet) -> ByteBuffer {
        encodePacket(sequenceID: packet.sequenceID, payload: packet.payload)
    }

    /// Backend greeting, client login, backend OK: the connection is in the relay.
    func logIn() throws {
        try backend.writeInbound(Self.wire(ClientLoginStateMachineTests.greeting()))
        _ = try client.readOutbound(as: ByteBuffer.self)
        try client.writeInbound(Self.wire(ClientLoginStateMachineTests.response(seq: 1)))
        _ = try backend.readOutbound(as: ByteBuffer.self)
        try backend.writeInbound(Self.wire(Packet(sequenceID: 2, payload: ByteBuffer(bytes: [0, 0, 0, 2, 0, 0, 0]))))
        _ = try client.readOutbound(as: ByteBuffer.self)
        precondition(connection.machine.isRelaying, "the embedded login did not reach the relay")
    }

    func setWritable(_ channel: EmbeddedChannel, _ writable: Bool) {
        channel.isWritable = writable
        channel.pipeline.fireChannelWritabilityChanged()
    }

    func allOutbound(_ channel: EmbeddedChannel) throws -> [UInt8] {
        var bytes: [UInt8] = []
        while let buffer = try channel.readOutbound(as: ByteBuffer.self) { bytes += buffer.readableBytesView }
        return bytes
    }
}

/// The relay handler pair in memory: backpressure each way, half-close in both orders, the login
/// timeouts with `advanceTime`, and what the relay does to COM_MULTI and a refused COM_CHANGE_USER.
@Suite struct RelayHandlerTests {
    typealias T = CommandBoundaryTrackerTests

    @Test func bytesAreRelayedBothWays() throws {
        let c = try EmbeddedConnection()
        try c.logIn()
        try c.client.writeInbound(ByteBuffer(bytes: T.query))
        #expect(try c.allOutbound(c.backend) == T.query)
        try c.backend.writeInbound(ByteBuffer(bytes: [1, 0, 0, 1, 0xFB]))
        #expect(try c.allOutbound(c.client) == [1, 0, 0, 1, 0xFB])
    }

    @Test func aBackendThatCannotTakeMoreHoldsClientReadsUntilItCan() throws {
        let c = try EmbeddedConnection()
        try c.logIn()
        c.setWritable(c.backend, false)
        let before = c.clientHead.reads
        c.client.read()
        #expect(c.clientHead.reads == before)
        c.backend.read()
        #expect(c.backendHead.reads == 1)
        c.setWritable(c.backend, true)
        #expect(c.clientHead.reads == before + 1)
    }

    @Test func aClientThatCannotTakeMoreHoldsBackendReadsUntilItCan() throws {
        let c = try EmbeddedConnection()
        try c.logIn()
        c.setWritable(c.client, false)
        c.backend.read()
        c.client.read()
        #expect(c.backendHead.reads == 0)
        #expect(c.clientHead.reads == 0)
        c.setWritable(c.client, true)
        #expect(c.backendHead.reads == 1)
        #expect(c.clientHead.reads == 1)
    }

    @Test func theClientsEOFShutsTheBackendsOutputAfterItsBytesAndAnswersStillFlow() throws {
        let c = try EmbeddedConnection()
        try c.logIn()
        try c.client.writeInbound(ByteBuffer(bytes: T.query))
        c.client.pipeline.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
        c.loop.run()
        #expect(try c.allOutbound(c.backend) == T.query)
        #expect(c.backendHead.outputShutdowns == 1)
        #expect(c.backend.isActive)
        try c.backend.writeInbound(ByteBuffer(bytes: [1, 0, 0, 1, 0xFB]))
        #expect(try c.allOutbound(c.client) == [1, 0, 0, 1, 0xFB])
        #expect(c.client.isActive)
    }

    @Test func theBackendsEOFClosesTheClientAfterItsBytes() throws {
        let c = try EmbeddedConnection()
        try c.logIn()
        try c.backend.writeInbound(ByteBuffer(bytes: [1, 0, 0, 1, 0xFB]))
        c.backend.pipeline.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
        c.loop.run()
        #expect(try c.allOutbound(c.client) == [1, 0, 0, 1, 0xFB])
        #expect(!c.client.isActive)
        #expect(!c.backend.isActive)
        #expect(c.clientHead.outputShutdowns == 0)
        #expect(c.connection.handlers == nil, "the connection did not finish")
    }

    @Test func aClientSilentDuringTheLoginIsDroppedAtConnectTimeout() throws {
        var settings = ProxySettings()
        settings.connectTimeoutSeconds = 3
        let c = try EmbeddedConnection(settings: settings)
        try c.backend.writeInbound(EmbeddedConnection.wire(ClientLoginStateMachineTests.greeting()))
        _ = try c.client.readOutbound(as: ByteBuffer.self)
        c.loop.advanceTime(by: .milliseconds(2999))
        #expect(c.client.isActive)
        c.loop.advanceTime(by: .milliseconds(1))
        #expect(!c.client.isActive)
        #expect(!c.backend.isActive)
        #expect(try c.client.readOutbound(as: ByteBuffer.self) == nil)
        #expect(c.connection.machine.outcome == .loginTimedOut(seconds: 3))
    }

    @Test func aBackendSilentBeforeItsGreetingIsBlamedAtConnectTimeout() throws {
        var settings = ProxySettings()
        settings.connectTimeoutSeconds = 3
        let c = try EmbeddedConnection(settings: settings)
        c.loop.advanceTime(by: .seconds(3))
        let err = try #require(try c.client.readOutbound(as: ByteBuffer.self))
        let expected = MariaDBError.backendUnavailable(
            "backend 127.0.0.1:3306: no greeting within connect_timeout (3s)"
        )
        #expect(err == encodePacket(sequenceID: 0, payload: expected.encode(includeSQLState: false)))
        c.loop.run()
        #expect(!c.client.isActive)
    }

    @Test func theTimeoutIsCancelledByTheLogin() throws {
        let c = try EmbeddedConnection()
        try c.logIn()
        c.loop.advanceTime(by: .seconds(60))
        #expect(c.client.isActive)
        #expect(c.backend.isActive)
    }

    @Test func comMultiReachesTheBackendAsAnUnknownCommand() throws {
        let c = try EmbeddedConnection()
        try c.logIn()
        try c.client.writeInbound(ByteBuffer(bytes: COMMultiInterceptionTests.changeUserInside + T.query))
        #expect(try c.allOutbound(c.backend) == [1, 0, 0, 0, CommandByte.unusedCommand] + T.query)
    }

    @Test func aRefusedChangeOfUserIsAnsweredAfterOneSecondAndHoldsTheStream() throws {
        let c = try EmbeddedConnection()
        try c.logIn()
        // Unparsable: refused with 1047 (MariaDB's answer to a COM_CHANGE_USER it cannot read).
        let malformed = T.packet(0, [CommandByte.changeUser, 0x61])
        try c.client.writeInbound(ByteBuffer(bytes: malformed))
        try c.client.writeInbound(ByteBuffer(bytes: T.query))
        let reads = c.clientHead.reads
        c.client.read()
        #expect(c.clientHead.reads == reads, "client reads go on during the pause")
        #expect(try c.allOutbound(c.backend) == [])
        c.loop.advanceTime(by: .milliseconds(999))
        #expect(try c.allOutbound(c.client) == [])
        c.loop.advanceTime(by: .milliseconds(1))
        let answer = encodePacket(sequenceID: 1, payload: MariaDBError.unknownCommand().encode())
        #expect(try c.allOutbound(c.client) == Array(answer.readableBytesView))
        #expect(try c.allOutbound(c.backend) == T.query)
        #expect(c.clientHead.reads == reads + 1)
    }
}

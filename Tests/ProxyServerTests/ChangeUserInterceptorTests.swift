import NIOCore
import Testing

@testable import ProxyServer

/// The relay filter must deliver every byte except each COM_CHANGE_USER packet, in order, and the
/// packet itself whole, however the stream is cut into reads.
@Suite struct ChangeUserInterceptorTests {
    typealias T = CommandBoundaryTrackerTests

    static let stream = T.query + T.changeUser + T.query + T.packet(0, [0x0E]) + T.changeUser

    func run(
        _ chunks: [[UInt8]],
        limit: Int = 1 << 20
    ) -> (forwarded: [UInt8], held: [[UInt8]], results: [ChangeUserInterceptor.Result]) {
        let (forwarded, held, results) = Self.runWithCommands(chunks, limit: limit)
        return (forwarded, held.map(\.packet), results)
    }

    /// Feeds `chunks` as separate reads; returns the forwarded bytes, the held packets with their
    /// command bytes, and each read's result.
    static func runWithCommands(
        _ chunks: [[UInt8]],
        limit: Int = 1 << 20
    )
        -> (forwarded: [UInt8], held: [(command: UInt8, packet: [UInt8])], results: [ChangeUserInterceptor.Result])
    {
        var interceptor = ChangeUserInterceptor(limit: limit)
        var forwarded: [UInt8] = []
        var held: [(command: UInt8, packet: [UInt8])] = []
        var results: [ChangeUserInterceptor.Result] = []
        for chunk in chunks {
            results.append(
                interceptor.feed(
                    ByteBuffer(bytes: chunk),
                    forward: { forwarded += Array($0.readableBytesView) },
                    held: { command, packet in
                        held.append((command, Array(packet.readableBytesView)))
                        return true
                    }
                )
            )
        }
        return (forwarded, held, results)
    }

    @Test func wholeStream() {
        let (forwarded, held, _) = run([Self.stream])
        #expect(held == [T.changeUser, T.changeUser])
        #expect(forwarded == T.query + T.query + T.packet(0, [0x0E]))
    }

    @Test func everyTwoWaySplit() {
        for split in 1..<Self.stream.count {
            let (forwarded, held, _) = run([Array(Self.stream[..<split]), Array(Self.stream[split...])])
            #expect(held == [T.changeUser, T.changeUser], "split at \(split)")
            #expect(forwarded == T.query + T.query + T.packet(0, [0x0E]), "split at \(split)")
        }
    }

    @Test func byteByByte() {
        let (forwarded, held, _) = run(Self.stream.map { [$0] })
        #expect(held == [T.changeUser, T.changeUser])
        #expect(forwarded == T.query + T.query + T.packet(0, [0x0E]))
    }

    @Test func oversizedChangeUserIsReported() {
        let big = T.packet(0, [0x11] + Array(repeating: 0x41, count: 2000))
        let (_, held, results) = run([big], limit: 1000)
        #expect(held.isEmpty)
        #expect(results == [.oversized(2005)])
    }

    /// A refused change of user pauses the stream: nothing behind it reaches the backend until the
    /// caller resumes (it keeps later reads aside meanwhile), and then everything does, in order.
    @Test func pauseHoldsEverythingBehindTheChangeUntilResumed() {
        for split in 0...Self.stream.count {
            var interceptor = ChangeUserInterceptor()
            var forwarded: [UInt8] = []
            var held: [[UInt8]] = []
            var paused = false
            var aside: [UInt8] = []
            func feed(_ bytes: [UInt8]) {
                let result = interceptor.feed(
                    ByteBuffer(bytes: bytes),
                    forward: { forwarded += Array($0.readableBytesView) },
                    held: { _, packet in
                        held.append(Array(packet.readableBytesView))
                        return false
                    }
                )
                paused = result == .paused
            }
            for read in [Array(Self.stream[..<split]), Array(Self.stream[split...])] {
                if paused { aside += read } else { feed(read) }
            }
            #expect(held == [T.changeUser], "split at \(split)")
            #expect(forwarded == T.query, "split at \(split): bytes behind a paused change were forwarded")
            feed(aside)
            #expect(held == [T.changeUser, T.changeUser], "split at \(split)")
            #expect(forwarded == T.query + T.query + T.packet(0, [0x0E]), "split at \(split)")
            feed([])
            #expect(forwarded == T.query + T.query + T.packet(0, [0x0E]), "split at \(split)")
        }
    }
}

import MariaDBWire
import NIOCore
import Testing

@testable import ProxyServer

/// COM_MULTI (0xFE) packs several commands into one packet; a MariaDB 10.2–10.5 backend unpacks and
/// runs them, COM_CHANGE_USER included, so the relay must hold every COM_MULTI back (the connection
/// answers 1047 instead of forwarding it) — never pass it on as an ordinary command.
@Suite struct COMMultiInterceptionTests {
    typealias T = CommandBoundaryTrackerTests

    /// One sub-command as Connector/C 3.x packs it into COM_MULTI (ma_net_add_multi_command): a
    /// length-encoded length of command byte + data, then the command byte and data.
    static func subCommand(_ command: UInt8, _ data: [UInt8]) -> [UInt8] {
        var length = ByteBuffer()
        length.writeLengthEncodedInteger(UInt64(1 + data.count))
        return Array(length.readableBytesView) + [command] + data
    }

    /// mariadb_stmt_execute_direct("SELECT ?", one int): COM_STMT_PREPARE, then COM_STMT_EXECUTE with
    /// statement id -1 (the statement just prepared), no cursor, iteration count 1, one LONG parameter.
    static let executeDirect: [UInt8] = T.packet(
        0,
        [CommandByte.multi]
            + subCommand(CommandByte.stmtPrepare, Array("SELECT ?".utf8))
            + subCommand(
                CommandByte.stmtExecute,
                [
                    0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0x01, 0x00, 0x00, 0x00,
                    0x00, 0x01, 0x03, 0x00, 0x2A, 0x00, 0x00, 0x00,
                ]
            )
    )

    /// A COM_MULTI carrying a COM_QUERY and then a COM_CHANGE_USER to another account
    /// (user NUL, empty auth, no db, utf8mb4, mysql_native_password).
    static let changeUserInside: [UInt8] = T.packet(
        0,
        [CommandByte.multi]
            + subCommand(CommandByte.query, Array("SELECT 1".utf8))
            + subCommand(
                CommandByte.changeUser,
                Array("x509user".utf8) + [0, 0, 0, 45, 0]
                    + Array("mysql_native_password".utf8) + [0]
            )
    )

    @Test func trackerReportsCOMMultiAsHeld() {
        var tracker = CommandBoundaryTracker()
        #expect(
            tracker.scan(ByteBuffer(bytes: T.query + Self.executeDirect))
                == .held(offset: T.query.count, command: CommandByte.multi)
        )
    }

    @Test func executeDirectIsHeldWholeNotForwarded() {
        let stream = T.query + Self.executeDirect + T.query
        let (forwarded, held, results) = ChangeUserInterceptorTests.runWithCommands([stream])
        #expect(forwarded == T.query + T.query)
        #expect(held.map(\.command) == [CommandByte.multi])
        #expect(held.map(\.packet) == [Self.executeDirect])
        #expect(results == [.ok])
    }

    @Test func changeUserInsideCOMMultiNeverReachesTheBackendAtAnySplit() {
        let stream = T.query + Self.changeUserInside + T.packet(0, [0x0E]) + T.changeUser
        for split in 1..<stream.count {
            let (forwarded, held, _) = ChangeUserInterceptorTests.runWithCommands(
                [Array(stream[..<split]), Array(stream[split...])])
            #expect(forwarded == T.query + T.packet(0, [0x0E]), "split at \(split)")
            #expect(held.map(\.command) == [CommandByte.multi, CommandByte.changeUser], "split at \(split)")
            #expect(held.map(\.packet) == [Self.changeUserInside, T.changeUser], "split at \(split)")
        }
        // Byte by byte, too.
        let (forwarded, held, _) = ChangeUserInterceptorTests.runWithCommands(stream.map { [$0] })
        #expect(forwarded == T.query + T.packet(0, [0x0E]))
        #expect(held.map(\.packet) == [Self.changeUserInside, T.changeUser])
    }

    @Test func oversizedCOMMultiClosesTheSession() {
        let big = T.packet(
            0,
            [CommandByte.multi] + Self.subCommand(CommandByte.query, Array(repeating: 0x41, count: 2000))
        )
        let (forwarded, held, results) = ChangeUserInterceptorTests.runWithCommands([big], limit: 1000)
        #expect(forwarded.isEmpty)
        #expect(held.isEmpty)
        #expect(results == [.oversized(big.count)])
    }

    @Test func aByte0xFEInsideOtherPacketsIsNotACommand() {
        // 0xFE as the first byte of a LOAD DATA LOCAL chunk or of a query's continuation is data.
        let full = T.packet(0, [CommandByte.query] + Array(repeating: 0x20, count: 0xFF_FFFE))
        let stream = full + T.packet(1, [CommandByte.multi, 0x01]) + T.query
        let (forwarded, held, _) = ChangeUserInterceptorTests.runWithCommands([stream])
        #expect(held.isEmpty)
        #expect(forwarded == stream)
    }
}

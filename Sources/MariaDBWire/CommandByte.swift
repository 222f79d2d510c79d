/// Command-phase packet types (the first payload byte of a client command, sent at seq 0).
public enum CommandByte: Sendable {
    public static let sleep: UInt8 = 0x00
    public static let quit: UInt8 = 0x01
    public static let initDB: UInt8 = 0x02
    public static let query: UInt8 = 0x03
    public static let fieldList: UInt8 = 0x04
    public static let createDB: UInt8 = 0x05
    public static let dropDB: UInt8 = 0x06
    public static let refresh: UInt8 = 0x07
    public static let shutdown: UInt8 = 0x08
    public static let statistics: UInt8 = 0x09
    public static let processInfo: UInt8 = 0x0A
    public static let connect: UInt8 = 0x0B
    public static let processKill: UInt8 = 0x0C
    public static let debug: UInt8 = 0x0D
    public static let ping: UInt8 = 0x0E
    public static let time: UInt8 = 0x0F
    public static let delayedInsert: UInt8 = 0x10
    /// COM_CHANGE_USER re-runs authentication inside the session; the proxy must re-check TLS policy on it.
    public static let changeUser: UInt8 = 0x11
    public static let binlogDump: UInt8 = 0x12
    public static let tableDump: UInt8 = 0x13
    public static let connectOut: UInt8 = 0x14
    public static let registerSlave: UInt8 = 0x15
    public static let stmtPrepare: UInt8 = 0x16
    public static let stmtExecute: UInt8 = 0x17
    public static let stmtSendLongData: UInt8 = 0x18
    public static let stmtClose: UInt8 = 0x19
    public static let stmtReset: UInt8 = 0x1A
    public static let setOption: UInt8 = 0x1B
    public static let stmtFetch: UInt8 = 0x1C
    public static let daemon: UInt8 = 0x1D
    public static let binlogDumpGTID: UInt8 = 0x1E
    public static let resetConnection: UInt8 = 0x1F
    /// The first byte of the range no server assigns (COM_MDB_GAP_BEG in MariaDB, COM_END in MySQL 5.7):
    /// do_command dispatches it as COM_END, answered with 1047 `Unknown command`.
    public static let unusedCommand: UInt8 = 0x20
    /// COM_MULTI: several commands in one packet (MariaDB 10.2–10.5 only; each sub-command is a lenenc length,
    /// then its command byte and data). Those servers run the commands inside, COM_CHANGE_USER included.
    public static let multi: UInt8 = 0xFE
    /// MariaDB bulk execution of a prepared statement.
    public static let stmtBulkExecute: UInt8 = 0xFA
}

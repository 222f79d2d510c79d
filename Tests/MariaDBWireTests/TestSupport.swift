import NIOCore

@testable import MariaDBWire

/// Bytes from a hex string such as "20 00 00 01 85 ae"; whitespace is ignored.
func hex(_ string: String) -> [UInt8] {
    let digits = string.filter { !$0.isWhitespace }.map { UInt8(String($0), radix: 16)! }
    return stride(from: 0, to: digits.count, by: 2).map { digits[$0] << 4 | digits[$0 + 1] }
}

func buffer(_ bytes: [UInt8]) -> ByteBuffer {
    ByteBuffer(bytes: bytes)
}

func bytes(_ buffer: ByteBuffer) -> [UInt8] {
    Array(buffer.readableBytesView)
}

func ascii(_ string: String) -> [UInt8] {
    Array(string.utf8)
}

func le16(_ value: UInt16) -> [UInt8] {
    [UInt8(value & 0xFF), UInt8(value >> 8)]
}

func le32(_ value: UInt32) -> [UInt8] {
    (0..<4).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) }
}

/// Deterministic generator for the fuzz tests (SplitMix64).
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// A hand-built copy of a real MariaDB 10.11.19 (Debian 12) greeting: caps 0xF7FE / 0x81BF, ext 0x1D,
/// collation 45, autocommit, 21-byte auth data, mysql_native_password.
enum RealGreeting {
    static let version = "5.5.5-10.11.19-MariaDB-0+deb12u1"
    static let scramble1: [UInt8] = ascii("3Z&~O-`F")
    static let scramble2: [UInt8] = ascii("k9U>p]t2Ry[e")
    static let connectionID: UInt32 = 0x2A
    /// Offset of the low capability word in the payload.
    static let capabilityOffset = 1 + version.utf8.count + 1 + 4 + 8 + 1

    static var payload: [UInt8] {
        [0x0A] + ascii(version) + [0x00]
            + le32(connectionID)
            + scramble1 + [0x00]
            + [0xFE, 0xF7]  // capabilities, low 16
            + [0x2D]  // utf8mb4_general_ci
            + [0x02, 0x00]  // SERVER_STATUS_AUTOCOMMIT
            + [0xBF, 0x81]  // capabilities, high 16
            + [0x15]  // 21 bytes of auth data
            + [UInt8](repeating: 0, count: 6)
            + [0x1D, 0x00, 0x00, 0x00]  // MariaDB extended capabilities
            + scramble2 + [0x00]
            + ascii("mysql_native_password") + [0x00]
    }

    static var capabilities: CapabilityFlags { CapabilityFlags(lower: 0x81BF_F7FE, extended: 0x1D) }
}

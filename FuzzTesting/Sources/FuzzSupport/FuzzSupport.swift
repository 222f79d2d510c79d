import AccessPolicy
import MariaDBWire
import NIOCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// libFuzzer's input as an array (inputs are small; the copy is noise next to the work done).
public func fuzzInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> [UInt8] {
    guard let data, size > 0 else { return [] }
    return Array(UnsafeBufferPointer(start: data, count: size))
}

/// An oracle: when `condition` fails, stop with `message` (a trap, which libFuzzer reports as a
/// crash and saves the input). For properties the code must keep on every input, beyond "no trap".
public func fuzzCheck(_ condition: Bool, _ message: @autoclosure () -> String) {
    guard !condition else { return }
    fatalError("fuzz oracle failed: \(message())")
}

/// `FUZZ_TRACE=1` in the environment: the drivers print what each input led to (for checking seeds;
/// run the target on single files, e.g. `FUZZ_TRACE=1 .build-fuzz/debug/FuzzClientStream Corpus/FuzzClientStream/*`).
public let fuzzTraceEnabled = getenv("FUZZ_TRACE") != nil

public func fuzzTrace(_ message: @autoclosure () -> String) {
    if fuzzTraceEnabled { print(message()) }
}

/// Text as the daemon's `ProxyCommandLine.defaultReadFile` makes it: UTF-8, or Latin-1 when the
/// bytes are not valid UTF-8 (every byte is then one code point).
public func fileText(_ bytes: some Collection<UInt8>) -> String {
    if let text = String(validating: bytes, as: UTF8.self) { return text }
    // Latin-1 → UTF-8 by hand (much faster than appending Unicode scalars one by one).
    var utf8: [UInt8] = []
    utf8.reserveCapacity(bytes.count * 2)
    for byte in bytes {
        if byte < 0x80 {
            utf8.append(byte)
        } else {
            utf8.append(0xC0 | byte >> 6)
            utf8.append(0x80 | byte & 0x3F)
        }
    }
    return String(decoding: utf8, as: UTF8.self)
}

public func packet(_ sequenceID: UInt8, _ payload: [UInt8]) -> Packet {
    Packet(sequenceID: sequenceID, payload: ByteBuffer(bytes: payload))
}

/// The packet as it travels: 3-byte length, sequence id, payload.
public func wireBytes(_ packet: Packet) -> [UInt8] {
    Array(encodePacket(sequenceID: packet.sequenceID, payload: packet.payload).readableBytesView)
}

/// A small accounts file covering every REQUIRE kind, for the users in the captured traffic
/// (`app`, `ed`) and a few more; parsed once.
public let samplePolicySQL = """
    CREATE USER 'app'@'%' REQUIRE NONE;
    CREATE USER 'ed'@'%' REQUIRE SSL;
    CREATE USER 'ed'@'localhost' REQUIRE X509;
    CREATE USER 'root'@'localhost' REQUIRE SUBJECT '/CN=client' AND ISSUER '/CN=Example CA';
    CREATE USER 'cipher'@'127.0.0.1' REQUIRE CIPHER 'TLS_AES_256_GCM_SHA384';
    CREATE USER 'net'@'10.0.0.0/255.0.0.0';
    CREATE USER ''@'localhost' REQUIRE SSL;
    """

public let samplePolicy: AccessPolicy = {
    do {
        return try AccessPolicy.parse(samplePolicySQL, fileName: "fuzz-policy.sql")
    } catch {
        fatalError("the fuzz drivers' sample policy does not parse: \(error)")
    }
}()

/// Who the fuzzed client is: a TCP client from 127.0.0.1, or a unix-socket client.
public func sampleIdentity(unixSocket: Bool) -> ClientIdentity {
    unixSocket ? .unixSocket() : .tcp(ip: "127.0.0.1", resolvedHost: nil)
}

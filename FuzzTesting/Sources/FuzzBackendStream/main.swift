// FuzzBackendStream: arbitrary bytes as the backend → proxy stream during the login.
//
// Input: one option byte, then the stream.
//   0x01 TLS available, 0x02 the client upgrades with an SSLRequest (when TLS is available),
//   0x04 accounts policy (FuzzSupport.samplePolicy), 0x08 client identified after the greeting arrived,
//   0x10 the client answers auth requests with a wrong sequence id, 0x20 unix-socket client,
//   0x40 strict_accounts, 0x80 TLS client certificate
//
// The stream is split with PacketFramer; its first packet is the greeting (or an ERR before it), the
// rest go through the state machine's authentication phase (AuthSwitch, AuthMoreData, OK, ERR,
// anything). The client is the captured `mariadb` CLI: SSLRequest and/or HandshakeResponse, then a
// reply to every packet the machine says it must answer. When the stream ends before the login
// does, the backend "closes". After an OK, a real COM_CHANGE_USER goes through the relay, parsed with
// the capabilities negotiated from the fuzzed greeting.
//
// Oracles (besides "no trap"): a closed machine stays silent; the relay intercepts the
// COM_CHANGE_USER whole and passes the other command on untouched. The input's last 37 bytes also
// give the addresses of a PROXY header (the first bytes the backend receives with
// backend_proxy_protocol): it must be what MariaDB's parser (sql/proxy_protocol.cc) reads back.
import AccessPolicy
import CLibFuzzer
import FuzzConnection
import FuzzSupport
import MariaDBWire
import NIOCore
import ProxyServer
import ProxyTLS

#if canImport(Glibc)
import Glibc
#endif

/// A 20-byte native-password scramble and a 64-byte ed25519 signature, as clients answer.
let nativeReply = [UInt8](repeating: 0x5A, count: 20)
let ed25519Reply = [UInt8](repeating: 0xA5, count: 64)
let changeUserPacket = wireBytes(packet(0, Captured.changeUser))
let pingPacket: [UInt8] = [0x01, 0x00, 0x00, 0x00, CommandByte.ping]

final class Recorder {
    var forwarded: [UInt8] = []
    var intercepted: [[UInt8]] = []
}

/// The PROXY header for addresses taken from `bytes` (37 of them): family selector, two 16-byte
/// addresses (or unix paths), two ports.
func checkProxyHeader(_ bytes: [UInt8]) {
    let ports = (UInt16(bytes[33]) << 8 | UInt16(bytes[34]), UInt16(bytes[35]) << 8 | UInt16(bytes[36]))
    let addresses: ProxyProtocolHeader.Addresses
    let family: UInt8
    switch bytes[0] % 4 {
    case 0:
        addresses = .tcp4(
            source: Array(bytes[1..<5]),
            sourcePort: ports.0,
            destination: Array(bytes[5..<9]),
            destinationPort: ports.1
        )
        family = 0x11
    case 1:
        addresses = .tcp6(
            source: Array(bytes[1..<17]),
            sourcePort: ports.0,
            destination: Array(bytes[17..<33]),
            destinationPort: ports.1
        )
        family = 0x21
    case 2:
        addresses = .unix(
            source: String(decoding: bytes[1..<17], as: UTF8.self),
            destination: String(decoding: bytes[17..<33], as: UTF8.self)
        )
        family = 0x31
    default:
        addresses = .unknown
        family = 0x00
    }
    // v1: one printable line MariaDB reads with sscanf("PROXY %s %s %s %d %d") within 256 bytes.
    let v1 = ProxyProtocolHeader.encode(addresses, version: .v1)
    fuzzCheck(
        v1.count <= 107 && v1.suffix(2) == [0x0D, 0x0A] && v1.dropLast(2).allSatisfy { $0 >= 0x20 && $0 < 0x7F },
        "PROXY v1 header is not one short printable line: \(v1)"
    )
    let fields = String(decoding: v1.dropLast(2), as: UTF8.self).split(separator: " ", omittingEmptySubsequences: false)
    switch addresses {
    case .tcp4, .tcp6:
        fuzzCheck(
            fields.count == 6 && fields[1] == (family == 0x11 ? "TCP4" : "TCP6")
                && fields[4] == "\(ports.0)" && fields[5] == "\(ports.1)",
            "PROXY v1 fields: \(fields)"
        )
    case .unix, .unknown:
        fuzzCheck(fields == ["PROXY", "UNKNOWN"], "PROXY v1 without an IP family must be UNKNOWN: \(fields)")
    }
    // v2: signature, PROXY (or LOCAL), the family, and a length MariaDB reads right (it drops the
    // high byte and refuses more than 240), covering exactly the address block (no TLVs).
    let v2 = ProxyProtocolHeader.encode(addresses, version: .v2)
    fuzzCheck(v2.count >= 16 && Array(v2.prefix(12)) == ProxyProtocolHeader.v2Signature, "PROXY v2 signature")
    let length = Int(v2[14]) << 8 | Int(v2[15])
    let blockLength: [UInt8: Int] = [0x11: 12, 0x21: 36, 0x31: 216, 0x00: 0]
    fuzzCheck(v2[12] == (family == 0 ? 0x20 : 0x21) && v2[13] == family, "PROXY v2 command/family \(v2[12]) \(v2[13])")
    fuzzCheck(length == v2.count - 16 && length == blockLength[family] && length <= 240, "PROXY v2 length \(length)")
    if family == 0x11 || family == 0x21 {
        let size = family == 0x11 ? 4 : 16
        fuzzCheck(Array(v2[16..<16 + size]) == Array(bytes[1..<1 + size]), "PROXY v2 source address")
        fuzzCheck(Array(v2[(16 + 2 * size)..<(20 + 2 * size)]) == Array(bytes[33..<37]), "PROXY v2 ports")
    }
}

func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = fuzzInput(data, size)
    guard let options = input.first else { return 0 }
    if input.count >= 37 { checkProxyHeader(Array(input.suffix(37))) }
    let tlsAvailable = options & 0x01 != 0
    let upgrade = tlsAvailable && options & 0x02 != 0
    let identifyLate = options & 0x08 != 0
    let unixSocket = options & 0x20 != 0
    var login = Login(
        transport: unixSocket ? .unixSocket : .tcp,
        requireSecureTransport: false,
        tlsAvailable: tlsAvailable,
        policy: options & 0x04 != 0 ? samplePolicy : nil,
        strictAccounts: options & 0x40 != 0
    )
    let identity = sampleIdentity(unixSocket: unixSocket)

    var framer = PacketFramer()
    framer.append(ByteBuffer(bytes: input.dropFirst()))
    var pending = identifyLate ? [] : login.machine.clientIdentified(identity)
    var identified = !identifyLate

    enum ClientStep { case first, handshakeResponse, authReplies }
    var step = ClientStep.first
    var lastSequenceToClient: UInt8 = 0
    var clientPackets = 0
    var backendEnded = false
    var closed = false

    while true {
        var index = 0
        while index < pending.count {
            let effect = pending[index]
            index += 1
            switch effect {
            case .sendToClient(let sent): lastSequenceToClient = sent.sequenceID
            case .sendToBackend, .startBackendTLS, .startRelaying: break
            case .startTLS:
                pending += login.machine.tlsEstablished(
                    TLSFacts(
                        version: "TLSv1.3",
                        cipher: "TLS_AES_128_GCM_SHA256",
                        peerSubject: options & 0x80 != 0 ? "/CN=client" : nil,
                        peerIssuer: options & 0x80 != 0 ? "/CN=Example CA" : nil,
                        verifyResult: 0,
                        sessionReused: false
                    )
                )
            case .close: closed = true
            }
        }
        pending = []
        if closed || login.machine.isRelaying || backendEnded { break }

        if login.machine.wantsClientPacket && clientPackets < 32 {
            clientPackets += 1
            switch step {
            case .first where upgrade:
                pending = login.machine.clientPacketReceived(packet(1, Captured.sslRequest))
                step = .handshakeResponse
            case .first:
                pending = login.machine.clientPacketReceived(packet(1, Captured.handshakeResponse))
                step = .authReplies
            case .handshakeResponse:
                pending = login.machine.clientPacketReceived(packet(2, Captured.handshakeResponse))
                step = .authReplies
            case .authReplies:
                let sequenceID = lastSequenceToClient &+ (options & 0x10 != 0 ? 2 : 1)
                pending = login.machine.clientPacketReceived(
                    packet(sequenceID, clientPackets % 2 == 0 ? nativeReply : ed25519Reply)
                )
            }
            continue
        }

        do {
            if let next = try framer.nextPacket() {
                pending = login.machine.backendPacketReceived(next, rules: login.rules)
                if !identified {
                    identified = true
                    pending += login.machine.clientIdentified(identity)
                }
            } else {
                backendEnded = true
                pending = login.machine.backendFailed("backend closed the connection during login")
            }
        } catch {
            backendEnded = true
            pending = login.machine.backendFailed("backend sent a malformed packet (\(error))")
        }
    }

    fuzzTrace("login: \(login.machine.outcome)\(login.machine.isRelaying ? ", relaying" : "")")
    if closed {
        var silent = login.machine.backendPacketReceived(
            packet(2, [0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00]),
            rules: login.rules
        )
        silent += login.machine.clientPacketReceived(packet(lastSequenceToClient &+ 1, nativeReply))
        silent += login.machine.clientProtocolError("after close") + login.machine.backendFailed("after close")
        fuzzCheck(silent.isEmpty, "closed machine still acts: \(silent)")
        return 0
    }
    guard login.machine.isRelaying else { return 0 }

    // A COM_CHANGE_USER, parsed with the session capabilities the fuzzed greeting led to, then a ping.
    let recorder = Recorder()
    let open = login.relayFromClient(
        ByteBuffer(bytes: changeUserPacket + pingPacket),
        forward: { recorder.forwarded += $0.readableBytesView },
        changeUser: { buffer, _ in recorder.intercepted.append(Array(buffer.readableBytesView)) }
    )
    fuzzCheck(open, "the default COM_CHANGE_USER size cap refused a real packet")
    fuzzCheck(recorder.intercepted == [changeUserPacket], "the relay did not intercept the COM_CHANGE_USER whole")
    fuzzCheck(recorder.forwarded == pingPacket, "the relay changed the command after COM_CHANGE_USER")
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzerTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    fuzzOne(data, size)
}

var argc = CommandLine.argc
var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
exit(LLVMFuzzerRunDriver(&argc, &argv) { data, size in fuzzOne(data, size) })

// FuzzClientStream: arbitrary bytes as the client → proxy stream of one connection.
//
// Input: two option bytes, then the stream.
//   byte 0: 0x01 TLS available, 0x02 require_secure_transport, 0x04 unix-socket client,
//           0x08 accounts policy (FuzzSupport.samplePolicy), 0x10 strict_accounts,
//           0x20 client identified after the greeting arrived, 0x40 TLS client certificate,
//           0x80 the backend refuses the login (ERR 1045) instead of OK
//   byte 1: bits 0-1 number of auth round trips the backend asks for (AuthSwitch, then AuthMoreData),
//           bits 2-6 relay read size (0 = one read), 0x80 COM_CHANGE_USER size cap of 64 bytes
//
// The stream is split with PacketFramer and handed to the login state machine as the daemon does
// (first packet: SSLRequest or HandshakeResponse; an SSLRequest "completes" TLS at once and the
// following bytes stand for the decrypted stream; later packets: auth replies). A synthetic backend
// sends the captured greeting and answers every forwarded packet. After its OK the remaining bytes
// are the relay stream through the COM_CHANGE_USER interceptor, each held packet checked against
// the policy.
//
// Oracles (besides "no trap"): under require_secure_transport a TCP client's HandshakeResponse
// reaches the backend only after TLS; the forwarded HandshakeResponse, read as the backend reads it
// (no SSLRequest, capabilities from the packet itself), names the user the policy checked, whatever
// layout mix (pre-4.1 SSLRequest, 4.1-looking response) the client sent; the relay must pass on a
// prefix of its input, in order, with nothing invented; only COM_CHANGE_USER and COM_MULTI packets
// may be held back, whole; a COM_MULTI never reaches the backend and is answered 1047; and the result
// must not depend on how the stream is split into reads. A closed machine must stay silent.
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

let greeting = packet(0, Captured.greeting)
/// The captured backend's capabilities and default collation, as the backend parses a forwarded login with.
let backendGreeting: InitialHandshake = {
    do { return try InitialHandshake.decode(ByteBuffer(bytes: Captured.greeting)) } catch {
        fatalError("the captured greeting does not decode: \(error)")
    }
}()
/// OK after authentication: 0 rows, insert id 0, SERVER_STATUS_AUTOCOMMIT, 0 warnings (as captured).
let okPayload: [UInt8] = [0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00]
/// ERR 1045 28000 "Access denied", the shape mariadbd sends.
let accessDenied: [UInt8] = [0xFF, 0x15, 0x04] + Array("#28000Access denied for user 'app'@'localhost'".utf8)

func tlsFacts(clientCertificate: Bool) -> TLSFacts {
    TLSFacts(
        version: "TLSv1.3",
        cipher: "TLS_AES_256_GCM_SHA384",
        peerSubject: clientCertificate ? "/CN=client" : nil,
        peerIssuer: clientCertificate ? "/CN=Example CA" : nil,
        verifyResult: 0,
        sessionReused: false
    )
}

/// What the relay did with its input.
struct RelayTrace: Equatable {
    /// Everything passed on (forwarded bytes and intercepted COM_CHANGE_USER packets), in order.
    var emitted: [UInt8] = []
    /// What reached the backend: forwarded bytes and the COM_CHANGE_USER packets the policy allowed.
    var toBackend: [UInt8] = []
    var changeUsers: [[UInt8]] = []
    /// Answers sent to the client instead of refused COM_CHANGE_USER packets.
    var refusals: [[UInt8]] = []
    /// Answers sent to the client instead of COM_MULTI packets.
    var comMultiAnswers: [[UInt8]] = []
    var oversized = false
}

/// Collects what the relay callbacks report (a class, so both callbacks can append to it).
final class RelayRecorder {
    var trace = RelayTrace()
}

func relay(_ login: inout Login, _ input: [UInt8], readSize: Int) -> RelayTrace {
    let recorder = RelayRecorder()
    var offset = 0
    while offset < input.count {
        let end = readSize == 0 ? input.count : min(input.count, offset + readSize)
        let open = login.relayFromClient(
            ByteBuffer(bytes: input[offset..<end]),
            forward: { buffer in
                recorder.trace.emitted += buffer.readableBytesView
                recorder.trace.toBackend += buffer.readableBytesView
            },
            changeUser: { buffer, refusal in
                let bytes = Array(buffer.readableBytesView)
                recorder.trace.emitted += bytes
                recorder.trace.changeUsers.append(bytes)
                if bytes.count > 4, bytes[4] == CommandByte.multi {
                    fuzzCheck(refusal != nil, "COM_MULTI forwarded to the backend")
                    recorder.trace.comMultiAnswers.append(refusal.map(wireBytes) ?? [])
                } else if let refusal {
                    recorder.trace.refusals.append(wireBytes(refusal))
                } else {
                    recorder.trace.toBackend += bytes
                }
            }
        )
        offset = end
        if !open {
            recorder.trace.oversized = true
            break
        }
    }
    return recorder.trace
}

/// The commands the relay holds back whole.
let heldCommands: Set<UInt8> = [CommandByte.changeUser, CommandByte.multi]
/// MariaDB 10.6+'s answer to COM_MULTI, as the proxy sends it: ERR 1047 at seq 1.
let unknownCommand = wireBytes(Packet(sequenceID: 1, payload: MariaDBError.unknownCommand().encode()))

func checkRelay(_ trace: RelayTrace, input: [UInt8], limit: Int) {
    fuzzCheck(
        trace.emitted.count <= input.count && trace.emitted[...] == input[..<trace.emitted.count],
        "relay output is not a prefix of its input"
    )
    for packet in trace.changeUsers {
        let length = packet.count >= 4 ? Int(packet[0]) | Int(packet[1]) << 8 | Int(packet[2]) << 16 : -1
        fuzzCheck(
            packet.count >= 5 && length == packet.count - 4 && packet[3] == 0 && heldCommands.contains(packet[4]),
            "intercepted packet is not one whole COM_CHANGE_USER or COM_MULTI: \(packet.prefix(8))"
        )
        fuzzCheck(packet.count <= limit, "intercepted packet above the size cap")
    }
    fuzzCheck(trace.comMultiAnswers.allSatisfy { $0 == unknownCommand }, "COM_MULTI not answered with 1047 at seq 1")
    for answer in trace.refusals {
        fuzzCheck(
            answer.count > 4 && answer[3] == 1 && answer[4] == 0xFF,
            "refusal is not an ERR packet with sequence id 1"
        )
    }
    guard !trace.oversized else { return }
    // Held back at the end: at most a split header (< 5 bytes), or one incomplete COM_CHANGE_USER.
    let tail = input[trace.emitted.count...]
    if tail.count >= 5 {
        let start = tail.startIndex
        let length = Int(tail[start]) | Int(tail[start + 1]) << 8 | Int(tail[start + 2]) << 16
        fuzzCheck(
            tail[start + 3] == 0 && heldCommands.contains(tail[start + 4]) && tail.count < 4 + length,
            "relay holds back \(tail.count) bytes that are not an incomplete COM_CHANGE_USER or COM_MULTI"
        )
    }
}

func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = fuzzInput(data, size)
    guard input.count >= 2 else { return 0 }
    let options = input[0]
    let options2 = input[1]
    let unixSocket = options & 0x04 != 0
    let requireSecureTransport = options & 0x02 != 0
    var tlsStarted = false
    let changeUserLimit = options2 & 0x80 != 0 ? 64 : 1 << 20
    var login = Login(
        transport: unixSocket ? .unixSocket : .tcp,
        requireSecureTransport: requireSecureTransport,
        tlsAvailable: options & 0x01 != 0,
        policy: options & 0x08 != 0 ? samplePolicy : nil,
        strictAccounts: options & 0x10 != 0,
        changeUserLimit: changeUserLimit
    )
    let identity = sampleIdentity(unixSocket: unixSocket)

    var pending: [ClientLoginStateMachine.Action]
    if options & 0x20 != 0 {
        pending = login.machine.backendPacketReceived(greeting, rules: login.rules)
        fuzzCheck(pending.isEmpty, "greeting answered before the client was identified")
        pending += login.machine.clientIdentified(identity)
    } else {
        pending = login.machine.clientIdentified(identity)
        pending += login.machine.backendPacketReceived(greeting, rules: login.rules)
    }

    var framer = PacketFramer()
    framer.append(ByteBuffer(bytes: input[2...]))
    let authRounds = Int(options2 & 0x03)
    var authRoundsLeft = authRounds
    var loginForwarded = false
    var closed = false
    var steps = 0
    while !closed && !login.machine.isRelaying {
        steps += 1
        fuzzCheck(steps < 100_000, "login does not end")
        if !pending.isEmpty {
            switch pending.removeFirst() {
            case .sendToClient:
                break
            case .sendToBackend(let forwarded):
                // require_secure_transport: a TCP client's credentials never travel unencrypted.
                fuzzCheck(
                    !(requireSecureTransport && !unixSocket && !tlsStarted),
                    "HandshakeResponse forwarded from a plaintext TCP client under require_secure_transport"
                )
                if !loginForwarded {
                    // The backend, which sees no SSLRequest, must read the user the policy checked.
                    loginForwarded = true
                    let backendView = try? HandshakeResponse.decode(
                        forwarded.payload,
                        clientCapabilities: nil,
                        serverCapabilities: backendGreeting.capabilities,
                        serverDefaultCollation: UInt16(backendGreeting.characterSet)
                    )
                    fuzzCheck(backendView != nil, "the backend cannot parse the forwarded HandshakeResponse")
                    fuzzCheck(
                        backendView?.username == login.machine.username,
                        "forwarded user \(backendView?.username ?? "-") is not the checked \(login.machine.username ?? "-")"
                    )
                }
                // The backend answers what the proxy forwards: auth round trips, then OK or ERR.
                let reply: [UInt8]
                if authRoundsLeft > 0 {
                    reply = authRoundsLeft == authRounds ? Captured.authSwitchEd25519 : [0x01, 0x04]
                    authRoundsLeft -= 1
                } else {
                    reply = options & 0x80 != 0 ? accessDenied : okPayload
                }
                pending += login.machine.backendPacketReceived(
                    packet(forwarded.sequenceID &+ 1, reply),
                    rules: login.rules
                )
            case .startTLS:
                tlsStarted = true
                pending += login.machine.tlsEstablished(tlsFacts(clientCertificate: options & 0x40 != 0))
            case .startBackendTLS:
                fuzzCheck(false, "backend TLS started without backend_ssl")
            case .startRelaying:
                break
            case .close:
                closed = true
            }
            continue
        }
        guard login.machine.wantsClientPacket else { break }
        do {
            guard let next = try framer.nextPacket() else { break }
            pending = login.machine.clientPacketReceived(next)
        } catch {
            pending = login.machine.clientProtocolError("\(error)")
        }
    }

    fuzzTrace("login: \(login.machine.outcome)\(login.machine.isRelaying ? ", relaying" : "")")
    if closed {
        // Once closed, nothing more is sent anywhere.
        var silent = login.machine.clientPacketReceived(packet(2, [0x01]))
        silent += login.machine.backendPacketReceived(packet(2, okPayload), rules: login.rules)
        silent += login.machine.clientProtocolError("after close") + login.machine.backendFailed("after close")
        fuzzCheck(silent.isEmpty, "closed machine still acts: \(silent)")
        return 0
    }
    guard login.machine.isRelaying else { return 0 }

    let relayInput = Array(framer.takeRemainingBytes().readableBytesView)
    let readSize = Int((options2 >> 2) & 0x1F)
    var oneRead = login
    let trace = relay(&login, relayInput, readSize: readSize)
    fuzzTrace(
        "relay: \(relayInput.count) bytes in, \(trace.toBackend.count) to the backend, \(trace.changeUsers.count - trace.comMultiAnswers.count) COM_CHANGE_USER (\(trace.refusals.count) refused), \(trace.comMultiAnswers.count) COM_MULTI\(trace.oversized ? ", oversized" : "")"
    )
    checkRelay(trace, input: relayInput, limit: changeUserLimit)
    if readSize != 0 {
        let reference = relay(&oneRead, relayInput, readSize: 0)
        fuzzCheck(trace == reference, "relay result depends on how the stream is split into reads (size \(readSize))")
    }
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzerTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    fuzzOne(data, size)
}

var argc = CommandLine.argc
var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
exit(LLVMFuzzerRunDriver(&argc, &argv) { data, size in fuzzOne(data, size) })

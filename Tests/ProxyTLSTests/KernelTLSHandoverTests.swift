import Testing

@testable import ProxyTLS

/// The decision: hand over only when every byte and every sequence number is accounted for.
@Suite struct KernelTLSHandoverTests {
    static let exact = KernelTLSHandover(
        protocolVersion: 0x0304,
        cipherProtocolID: 0x1301,
        maxFragmentLengthNegotiated: false,
        disqualified: false,
        clientSecret: [UInt8](repeating: 1, count: 32),
        serverSecret: [UInt8](repeating: 2, count: 32),
        recordsRead: 1,
        recordsWritten: 3,
        unreadCiphertext: 0,
        opensslHasPending: false,
        unsentCiphertext: false,
        channelBufferedBytes: 0,
        pendingWrites: false
    )

    func reason(_ change: (inout KernelTLSHandover) -> Void) -> String? {
        var state = Self.exact
        change(&state)
        if case .stayInUserSpace(let reason) = state.decide() { return reason }
        return nil
    }

    @Test func anExactStateIsHandedOverWithTheCountedSequenceNumbers() throws {
        guard case .handOver(let transmit, let receive) = Self.exact.decide() else {
            Issue.record("expected a handover")
            return
        }
        #expect(Array(transmit.bytes[32..<40]) == [0, 0, 0, 0, 0, 0, 0, 3])
        #expect(Array(receive.bytes[32..<40]) == [0, 0, 0, 0, 0, 0, 0, 1])
        let serverKeys = try #require(
            KernelTLSKeySchedule.trafficKeys(
                secret: Self.exact.serverSecret,
                cipher: KernelTLSCipher.tls13(protocolID: 0x1301)!
            )
        )
        #expect(Array(transmit.bytes[12..<28]) == serverKeys.key)
        #expect(Array(receive.bytes[12..<28]) != serverKeys.key)
    }

    @Test func tls12StaysInUserSpace() {
        #expect(reason { $0.protocolVersion = 0x0303 } == "not TLS 1.3")
    }

    @Test func aSuiteTheKernelPathDoesNotTakeStaysInUserSpace() {
        #expect(reason { $0.cipherProtocolID = 0x1304 }?.hasPrefix("cipher suite 0x1304") == true)
    }

    @Test func aNegotiatedMaxFragmentLengthStaysInUserSpace() {
        #expect(reason { $0.maxFragmentLengthNegotiated = true } == "max_fragment_length negotiated")
    }

    @Test func aKeyUpdateStaysInUserSpace() {
        #expect(reason { $0.disqualified = true } == "key update or unreadable key log line")
    }

    @Test func missingSecretsStayInUserSpace() {
        #expect(reason { $0.clientSecret = [] } == "application traffic secrets not seen")
        #expect(reason { $0.serverSecret = [UInt8](repeating: 2, count: 48) } == "application traffic secrets not seen")
    }

    @Test func ciphertextNotYetReadStaysInUserSpace() {
        #expect(reason { $0.unreadCiphertext = 3 } == "received ciphertext not fully read")
        #expect(reason { $0.opensslHasPending = true } == "received ciphertext not fully read")
    }

    @Test func ciphertextNotYetOnTheSocketStaysInUserSpace() {
        #expect(reason { $0.unsentCiphertext = true } == "writes not yet encrypted or passed on")
        #expect(reason { $0.pendingWrites = true } == "writes not yet encrypted or passed on")
        #expect(reason { $0.channelBufferedBytes = 10 } == "ciphertext still buffered in the channel")
        #expect(reason { $0.channelBufferedBytes = nil } == "ciphertext still buffered in the channel")
    }
}

import Testing

@testable import MariaDBWire

@Suite struct SequenceMapperTests {
    @Test func tlsShiftsByOne() {
        let mapper = SequenceMapper(offset: 1)
        // Backend sees the response as seq 1 and answers at 2; the client used 2 and expects 3.
        #expect(mapper.backendSequence(forClient: 2) == 1)
        #expect(mapper.clientSequence(forBackend: 2) == 3)
        #expect(mapper.clientSequence(forBackend: 4) == 5)
    }

    @Test func plaintextIsIdentity() {
        let mapper = SequenceMapper(offset: 0)
        for value in UInt8.min...UInt8.max {
            #expect(mapper.clientSequence(forBackend: value) == value)
            #expect(mapper.backendSequence(forClient: value) == value)
        }
    }

    @Test func wrapsModulo256() {
        let mapper = SequenceMapper(offset: 1)
        #expect(mapper.clientSequence(forBackend: 255) == 0)
        #expect(mapper.backendSequence(forClient: 0) == 255)
        let big = SequenceMapper(offset: 200)
        #expect(big.clientSequence(forBackend: 100) == 44)
        #expect(big.backendSequence(forClient: 44) == 100)
    }

    @Test(arguments: [UInt8(0), 1, 2, 127, 255])
    func mappingsAreInverse(offset: UInt8) {
        let mapper = SequenceMapper(offset: offset)
        for value in UInt8.min...UInt8.max {
            #expect(mapper.backendSequence(forClient: mapper.clientSequence(forBackend: value)) == value)
        }
        #expect(mapper == SequenceMapper(offset: offset))
    }
}

import NIOCore
import Testing

@testable import MariaDBWire

@Suite struct CapabilityFlagsTests {
    @Test func flagValuesMatchMariaDBHeaders() {
        let expected: [(CapabilityFlags, UInt64)] = [
            (.clientMySQL, 1), (.foundRows, 2), (.longFlag, 4), (.connectWithDB, 8), (.noSchema, 16),
            (.compress, 32), (.odbc, 64), (.localFiles, 128), (.ignoreSpace, 256), (.protocol41, 512),
            (.interactive, 1024), (.ssl, 0x800), (.ignoreSigpipe, 4096), (.transactions, 8192),
            (.reserved, 16384), (.secureConnection, 0x8000), (.multiStatements, 1 << 16),
            (.multiResults, 1 << 17), (.psMultiResults, 1 << 18), (.pluginAuth, 1 << 19),
            (.connectAttrs, 1 << 20), (.pluginAuthLenencClientData, 1 << 21),
            (.canHandleExpiredPasswords, 1 << 22), (.sessionTrack, 1 << 23), (.deprecateEOF, 1 << 24),
            (.zstdCompression, 1 << 26), (.progressObsolete, 1 << 29), (.sslVerifyServerCert, 1 << 30),
            (.rememberOptions, 1 << 31), (.mariaDBProgress, 1 << 32), (.mariaDBReserved1, 1 << 33),
            (.mariaDBStmtBulkOperations, 1 << 34), (.mariaDBExtendedMetadata, 1 << 35),
            (.mariaDBCacheMetadata, 1 << 36), (.mariaDBBulkUnitResults, 1 << 37),
        ]
        for (flag, value) in expected {
            #expect(flag.rawValue == value)
        }
        #expect(CapabilityFlags.allNamed.count == expected.count)
    }

    @Test func wordsSplitAndJoin() {
        let caps = CapabilityFlags(lower: 0x81FF_FFFE, extended: 0x3D)
        #expect(caps.lowerWord == 0x81FF_FFFE)
        #expect(caps.extendedWord == 0x3D)
        #expect(caps.rawValue == 0x3D_81FF_FFFE)
        #expect(caps.contains(.mariaDBBulkUnitResults))
        #expect(caps.carriesMariaDBExtendedCapabilities)
        #expect(!CapabilityFlags([.clientMySQL, .ssl]).carriesMariaDBExtendedCapabilities)
    }

    @Test func descriptionNamesFlagsAndUnknownBits() {
        let caps: CapabilityFlags = [.ssl, .protocol41, CapabilityFlags(rawValue: 1 << 27)]
        #expect(caps.description == "0x8000a00 [PROTOCOL_41|SSL|bit27]")
    }
}

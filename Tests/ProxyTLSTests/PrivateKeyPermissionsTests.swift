import Glibc
import ProxyTLS
import Testing

@Suite struct PrivateKeyPermissionsTests {
    let proxyUser = PrivateKeyPermissions.ServiceIdentity(uid: 990, groups: [990, 4])
    let rootService = PrivateKeyPermissions.ServiceIdentity(uid: 0, groups: [0])

    func warning(owner: uid_t, group: gid_t, mode: UInt32, service: PrivateKeyPermissions.ServiceIdentity) -> String? {
        PrivateKeyPermissions.warning(
            path: "/k.pem",
            owner: owner,
            group: group,
            mode: 0o100000 | mode,
            service: service
        )
    }

    @Test func ownedByTheServiceUserWithMode600IsAccepted() {
        #expect(warning(owner: 990, group: 990, mode: 0o600, service: proxyUser) == nil)
        #expect(warning(owner: 990, group: 990, mode: 0o400, service: proxyUser) == nil)
    }

    @Test func ownedByTheServiceUserWithAnyGroupOrOtherBitIsWarned() {
        for mode: UInt32 in [0o640, 0o604, 0o610, 0o660, 0o644] {
            let text = warning(owner: 990, group: 990, mode: mode, service: proxyUser)
            #expect(text?.contains("mode \(String(mode, radix: 8))") == true, "\(String(mode, radix: 8))")
        }
    }

    @Test func ownedByRootWithTheServicesGroupAndMode640IsAccepted() {
        #expect(warning(owner: 0, group: 990, mode: 0o640, service: proxyUser) == nil)
        #expect(warning(owner: 0, group: 4, mode: 0o440, service: proxyUser) == nil, "a supplementary group counts")
    }

    @Test func ownedByRootWithGroupWriteOrOtherAccessIsWarned() {
        for mode: UInt32 in [0o660, 0o650, 0o644, 0o641, 0o642] {
            #expect(warning(owner: 0, group: 990, mode: mode, service: proxyUser) != nil, "\(String(mode, radix: 8))")
        }
    }

    @Test func ownedByRootButNotReadableByTheServiceIsWarnedAsAReloadFailure() {
        let foreignGroup = warning(owner: 0, group: 0, mode: 0o640, service: proxyUser)
        #expect(foreignGroup?.contains("a reload would fail to read it") == true)
        let noGroupRead = warning(owner: 0, group: 990, mode: 0o600, service: proxyUser)
        #expect(noGroupRead?.contains("a reload would fail to read it") == true)
    }

    @Test func aProxyRunningAsRootAcceptsRootOwnedKeysWithMode600Or640() {
        #expect(warning(owner: 0, group: 0, mode: 0o600, service: rootService) == nil)
        #expect(warning(owner: 0, group: 123, mode: 0o640, service: rootService) == nil)
        #expect(warning(owner: 0, group: 0, mode: 0o644, service: rootService) != nil)
    }

    @Test func ownedBySomeoneElseIsWarnedWhateverTheMode() {
        let text = warning(owner: 1234, group: 990, mode: 0o600, service: proxyUser)
        #expect(text?.contains("owned by neither root nor the user the proxy runs as") == true)
        #expect(text?.contains("owner uid 1234") == true)
    }
}

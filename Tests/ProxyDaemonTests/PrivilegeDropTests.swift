import Glibc
import ProxyDaemon
import ProxyTLS
import Testing

/// `user = NAME` decisions (the switch itself, `apply()`, is covered by the integration suite's
/// test_privileges.py, since it changes the whole process's ids).
@Suite struct PrivilegeDropTests {
    @Test func notStartedAsRootIgnoresTheOptionWithANote() throws {
        let resolved = try PrivilegeDrop.resolve("nobody", effectiveUID: 1000)
        #expect(resolved.drop == nil)
        #expect(resolved.note == "option 'user' ignored: one can only switch user when started as root")
    }

    @Test func rootSwitchesToAnUnprivilegedUser() throws {
        let entry = try #require(getpwnam("nobody"))
        let resolved = try PrivilegeDrop.resolve("nobody", effectiveUID: 0)
        #expect(resolved.drop == PrivilegeDrop(name: "nobody", uid: entry.pointee.pw_uid, gid: entry.pointee.pw_gid))
        #expect(resolved.note == nil)
    }

    @Test func userRootIsNoSwitch() throws {
        let resolved = try PrivilegeDrop.resolve("root", effectiveUID: 0)
        #expect(resolved.drop == nil)
        #expect(resolved.note == nil)
    }

    @Test func anUnknownUserIsAConfigurationError() {
        #expect(throws: PrivilegeDrop.Failure.unknownUser("no-such-user-xyz")) {
            try PrivilegeDrop.resolve("no-such-user-xyz", effectiveUID: 0)
        }
        #expect(PrivilegeDrop.Failure.unknownUser("x").description == "option 'user': no such user 'x'")
        #expect(
            PrivilegeDrop.Failure.failed("setuid", EPERM).description
                == "option 'user': setuid failed: Operation not permitted"
        )
    }

    @Test func theServingIdentityIsTheSwitchedUserWithItsGroups() throws {
        let entry = try #require(getpwnam("nobody"))
        let drop = PrivilegeDrop(name: "nobody", uid: entry.pointee.pw_uid, gid: entry.pointee.pw_gid)
        let identity = PrivateKeyPermissions.ServiceIdentity.serving(after: drop)
        #expect(identity.uid == drop.uid)
        #expect(identity.groups.contains(drop.gid))

        let current = PrivateKeyPermissions.ServiceIdentity.serving(after: nil)
        #expect(current.uid == geteuid())
        #expect(current.groups.contains(getegid()))
    }
}

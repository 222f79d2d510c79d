import FoundationEssentials
import Glibc
import ProxyTLS

/// `user = NAME`: give up root once the listeners are bound, as `mariadbd --user` does.
///
/// The user is looked up at startup (and by `--check`), before anything is bound or started, so an
/// unknown name stops the daemon cleanly; the switch itself happens once the listeners are bound.
package struct PrivilegeDrop: Sendable, Equatable {
    package enum Failure: Error, Equatable, CustomStringConvertible {
        case unknownUser(String)
        case failed(String, Int32)

        package var description: String {
            switch self {
            case .unknownUser(let name): return "option 'user': no such user '\(name)'"
            case .failed(let step, let code): return "option 'user': \(step) failed: \(String(cString: strerror(code)))"
            }
        }
    }

    package let name: String
    package let uid: uid_t
    package let gid: gid_t

    package init(name: String, uid: uid_t, gid: gid_t) {
        self.name = name
        self.uid = uid
        self.gid = gid
    }

    /// The switch to make, or nil with a note when there is none: not started as root (the option is
    /// then ignored, as mariadbd does) or the user is root itself.
    ///
    /// - Parameter effectiveUID: the process's effective uid (a parameter for the tests).
    package static func resolve(
        _ name: String,
        effectiveUID: uid_t = geteuid()
    ) throws -> (drop: PrivilegeDrop?, note: String?) {
        guard effectiveUID == 0 else {
            return (nil, "option 'user' ignored: one can only switch user when started as root")
        }
        guard let entry = getpwnam(name) else { throw Failure.unknownUser(name) }
        guard entry.pointee.pw_uid != 0 else { return (nil, nil) }
        return (PrivilegeDrop(name: name, uid: entry.pointee.pw_uid, gid: entry.pointee.pw_gid), nil)
    }

    /// Switches every thread of the process; returns the line to log, throws when a step failed.
    package func apply() throws -> String {
        // Order matters: supplementary groups and gid while still root, uid last.
        if initgroups(name, gid) != 0 { throw Failure.failed("initgroups", errno) }
        if setgid(gid) != 0 { throw Failure.failed("setgid", errno) }
        if setuid(uid) != 0 { throw Failure.failed("setuid", errno) }
        if setuid(0) == 0 { throw Failure.failed("dropping root (setuid(0) still works)", EPERM) }
        return "switched to user \(name) (uid \(uid), gid \(gid))"
    }
}

extension PrivateKeyPermissions.ServiceIdentity {
    /// Who serves once `drop` (if any) has been applied: its user and the groups `initgroups`
    /// gives it, or else this process's effective user and groups.
    package static func serving(after drop: PrivilegeDrop?) -> Self {
        guard let drop else { return current }
        var count: Int32 = 64
        var groups = [gid_t](repeating: 0, count: Int(count))
        while getgrouplist(drop.name, drop.gid, &groups, &count) < 0 {
            groups = [gid_t](repeating: 0, count: Int(count))
        }
        return Self(uid: drop.uid, groups: Set(groups.prefix(Int(count))).union([drop.gid]))
    }

    /// This process's effective user and groups (after any switch).
    package static var current: Self {
        let count = getgroups(0, nil)
        var groups = [gid_t](repeating: 0, count: Int(max(count, 0)))
        let filled = getgroups(count, &groups)
        return Self(uid: geteuid(), groups: Set(groups.prefix(Int(max(filled, 0)))).union([getegid()]))
    }
}

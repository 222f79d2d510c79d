#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Whether a private key file's owner and mode are safe, by PostgreSQL's rule for `ssl_key_file`
/// (src/backend/libpq/be-secure-common.c, `check_ssl_key_file_permissions`): owned by the user the
/// service runs as with no group or other access (0600), or owned by root with at most group read
/// (0640), the group being one the service belongs to. PostgreSQL refuses to start otherwise;
/// the proxy, like MariaDB, loads the key anyway and warns.
public enum PrivateKeyPermissions {
    /// The identity that has to read the key, at startup and at every reload.
    public struct ServiceIdentity: Sendable, Equatable {
        public let uid: uid_t
        public let groups: Set<gid_t>

        public init(uid: uid_t, groups: Set<gid_t>) {
            self.uid = uid
            self.groups = groups
        }
    }

    /// The warning for a key file with this owner, group and mode, or nil when the rule is met.
    public static func warning(
        path: String,
        owner: uid_t,
        group: gid_t,
        mode: UInt32,
        service: ServiceIdentity
    ) -> String? {
        let permissions = mode & 0o777
        let shown = "owner uid \(owner), group gid \(group), mode \(String(permissions, radix: 8))"
        let rule =
            "make it owned by the user the proxy runs as with mode 600, or by root with the proxy's group and mode 640"
        if owner == 0 {
            if permissions & 0o037 != 0 {
                return "private key '\(path)' is writable by its group or accessible to others (\(shown)); \(rule)"
            }
            // Group read must be the service's way in; otherwise the next reload cannot read the key.
            if service.uid != 0, !service.groups.contains(group) || permissions & 0o040 == 0 {
                return
                    "private key '\(path)' is owned by root and not readable by the proxy's group (\(shown)): a reload would fail to read it; \(rule)"
            }
            return nil
        }
        if owner == service.uid {
            if permissions & 0o077 == 0 { return nil }
            return "private key '\(path)' is accessible to group or others (\(shown)); \(rule)"
        }
        return "private key '\(path)' is owned by neither root nor the user the proxy runs as (\(shown)); \(rule)"
    }

    /// Checks the file at `path` (nil when it meets the rule or cannot be examined).
    public static func warning(path: String, service: ServiceIdentity) -> String? {
        var status = stat()
        guard stat(path, &status) == 0 else { return nil }
        return warning(
            path: path,
            owner: status.st_uid,
            group: status.st_gid,
            mode: UInt32(status.st_mode),
            service: service
        )
    }
}

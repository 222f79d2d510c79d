/// MariaDB 10.11's collation ids and the character set each belongs to: the one-byte id of the
/// HandshakeResponse (0–255) and the two-byte id of COM_CHANGE_USER (also the higher ones).
///
/// Generated from a MariaDB 10.11.19 server with
/// `SELECT id, character_set_name FROM information_schema.collations WHERE id IS NOT NULL ORDER BY id`
/// (322 ids). An id not listed is unknown to 10.11, which then falls back to its default
/// character set (sql/sql_connect.cc thd_init_client_charset).
public enum MariaDBCollations {
    /// The character set of collation `id`, or nil when MariaDB 10.11 has no such collation.
    public static func characterSet(ofCollation id: UInt16) -> String? {
        id < 256 ? characterSetByID[Int(id)] : characterSetAbove255[id]
    }

    /// Index = collation id.
    static let characterSetByID: [String?] = [
        /*   0 */ nil, "big5", "latin2", "dec8", "cp850", "latin1", "hp8", "koi8r",
        /*   8 */ "latin1", "latin2", "swe7", "ascii", "ujis", "sjis", "cp1251", "latin1",
        /*  16 */ "hebrew", nil, "tis620", "euckr", "latin7", "latin2", "koi8u", "cp1251",
        /*  24 */ "gb2312", "greek", "cp1250", "latin2", "gbk", "cp1257", "latin5", "latin1",
        /*  32 */ "armscii8", "utf8mb3", "cp1250", "ucs2", "cp866", "keybcs2", "macce", "macroman",
        /*  40 */ "cp852", "latin7", "latin7", "macce", "cp1250", "utf8mb4", "utf8mb4", "latin1",
        /*  48 */ "latin1", "latin1", "cp1251", "cp1251", "cp1251", "macroman", "utf16", "utf16",
        /*  56 */ "utf16le", "cp1256", "cp1257", "cp1257", "utf32", "utf32", "utf16le", "binary",
        /*  64 */ "armscii8", "ascii", "cp1250", "cp1256", "cp866", "dec8", "greek", "hebrew",
        /*  72 */ "hp8", "keybcs2", "koi8r", "koi8u", nil, "latin2", "latin5", "latin7",
        /*  80 */ "cp850", "cp852", "swe7", "utf8mb3", "big5", "euckr", "gb2312", "gbk",
        /*  88 */ "sjis", "tis620", "ucs2", "ujis", "geostd8", "geostd8", "latin1", "cp932",
        /*  96 */ "cp932", "eucjpms", "eucjpms", "cp1250", nil, "utf16", "utf16", "utf16",
        /* 104 */ "utf16", "utf16", "utf16", "utf16", "utf16", "utf16", "utf16", "utf16",
        /* 112 */ "utf16", "utf16", "utf16", "utf16", "utf16", "utf16", "utf16", "utf16",
        /* 120 */ "utf16", "utf16", "utf16", "utf16", "utf16", nil, nil, nil,
        /* 128 */ "ucs2", "ucs2", "ucs2", "ucs2", "ucs2", "ucs2", "ucs2", "ucs2",
        /* 136 */ "ucs2", "ucs2", "ucs2", "ucs2", "ucs2", "ucs2", "ucs2", "ucs2",
        /* 144 */ "ucs2", "ucs2", "ucs2", "ucs2", "ucs2", "ucs2", "ucs2", "ucs2",
        /* 152 */ nil, nil, nil, nil, nil, nil, nil, "ucs2",
        /* 160 */ "utf32", "utf32", "utf32", "utf32", "utf32", "utf32", "utf32", "utf32",
        /* 168 */ "utf32", "utf32", "utf32", "utf32", "utf32", "utf32", "utf32", "utf32",
        /* 176 */ "utf32", "utf32", "utf32", "utf32", "utf32", "utf32", "utf32", "utf32",
        /* 184 */ nil, nil, nil, nil, nil, nil, nil, nil,
        /* 192 */ "utf8mb3", "utf8mb3", "utf8mb3", "utf8mb3", "utf8mb3", "utf8mb3", "utf8mb3", "utf8mb3",
        /* 200 */ "utf8mb3", "utf8mb3", "utf8mb3", "utf8mb3", "utf8mb3", "utf8mb3", "utf8mb3", "utf8mb3",
        /* 208 */ "utf8mb3", "utf8mb3", "utf8mb3", "utf8mb3", "utf8mb3", "utf8mb3", "utf8mb3", "utf8mb3",
        /* 216 */ nil, nil, nil, nil, nil, nil, nil, "utf8mb3",
        /* 224 */ "utf8mb4", "utf8mb4", "utf8mb4", "utf8mb4", "utf8mb4", "utf8mb4", "utf8mb4", "utf8mb4",
        /* 232 */ "utf8mb4", "utf8mb4", "utf8mb4", "utf8mb4", "utf8mb4", "utf8mb4", "utf8mb4", "utf8mb4",
        /* 240 */ "utf8mb4", "utf8mb4", "utf8mb4", "utf8mb4", "utf8mb4", "utf8mb4", "utf8mb4", "utf8mb4",
        /* 248 */ nil, nil, nil, nil, nil, nil, nil, nil,
    ]

    /// The NO PAD and UCA 14.0.0 collations (ids above 255).
    static let characterSetAbove255: [UInt16: String] = [
        576: "utf8mb3", 577: "utf8mb3", 578: "utf8mb3", 608: "utf8mb4", 609: "utf8mb4", 610: "utf8mb4",
        640: "ucs2", 641: "ucs2", 642: "ucs2", 672: "utf16", 673: "utf16", 674: "utf16",
        736: "utf32", 737: "utf32", 738: "utf32", 1025: "big5", 1027: "dec8", 1028: "cp850",
        1030: "hp8", 1031: "koi8r", 1032: "latin1", 1033: "latin2", 1034: "swe7", 1035: "ascii",
        1036: "ujis", 1037: "sjis", 1040: "hebrew", 1042: "tis620", 1043: "euckr", 1046: "koi8u",
        1048: "gb2312", 1049: "greek", 1050: "cp1250", 1052: "gbk", 1054: "latin5", 1056: "armscii8",
        1057: "utf8mb3", 1059: "ucs2", 1060: "cp866", 1061: "keybcs2", 1062: "macce", 1063: "macroman",
        1064: "cp852", 1065: "latin7", 1067: "macce", 1069: "utf8mb4", 1070: "utf8mb4", 1071: "latin1",
        1074: "cp1251", 1075: "cp1251", 1077: "macroman", 1078: "utf16", 1079: "utf16", 1080: "utf16le",
        1081: "cp1256", 1082: "cp1257", 1083: "cp1257", 1084: "utf32", 1085: "utf32", 1086: "utf16le",
        1088: "armscii8", 1089: "ascii", 1090: "cp1250", 1091: "cp1256", 1092: "cp866", 1093: "dec8",
        1094: "greek", 1095: "hebrew", 1096: "hp8", 1097: "keybcs2", 1098: "koi8r", 1099: "koi8u",
        1101: "latin2", 1102: "latin5", 1103: "latin7", 1104: "cp850", 1105: "cp852", 1106: "swe7",
        1107: "utf8mb3", 1108: "big5", 1109: "euckr", 1110: "gb2312", 1111: "gbk", 1112: "sjis",
        1113: "tis620", 1114: "ucs2", 1115: "ujis", 1116: "geostd8", 1117: "geostd8", 1119: "cp932",
        1120: "cp932", 1121: "eucjpms", 1122: "eucjpms", 1125: "utf16", 1147: "utf16", 1152: "ucs2",
        1174: "ucs2", 1184: "utf32", 1206: "utf32", 1216: "utf8mb3", 1238: "utf8mb3", 1248: "utf8mb4",
        1270: "utf8mb4",
    ]
}

/* libsystemd for Swift: sd-daemon (notify, socket activation, watchdog) and sd-journal (sendv). */
#ifndef MARIADB_TLS_PROXY_CSYSTEMD_SHIM_H
#define MARIADB_TLS_PROXY_CSYSTEMD_SHIM_H

/* The Swift side passes CODE_FILE/CODE_LINE/CODE_FUNC itself; without this, sd_journal_sendv
   is a macro that would stamp this header's location on every entry (C callers only, but be explicit). */
#define SD_JOURNAL_SUPPRESS_LOCATION 1

#include <sys/uio.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-journal.h>

/* SD_LISTEN_FDS_START is a plain integer macro and imports on its own; this typed copy keeps
   call sites free of integer conversions. */
static inline int csystemd_listen_fds_start(void) { return SD_LISTEN_FDS_START; }

#endif

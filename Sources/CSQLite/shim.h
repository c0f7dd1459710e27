#ifndef WINNOW_CSQLITE_SHIM_H
#define WINNOW_CSQLITE_SHIM_H
#include <sqlite3.h>
/* SQLITE_TRANSIENT is a macro casting -1 to a function pointer: expose it as a function. */
static inline sqlite3_destructor_type winnow_sqlite_transient(void) { return SQLITE_TRANSIENT; }
static inline sqlite3_destructor_type winnow_sqlite_static(void) { return SQLITE_STATIC; }
#endif

#include <sqlite3.h>

/// SQLITE_TRANSIENT is a macro casting -1 to a function pointer; Swift cannot import it.
static inline sqlite3_destructor_type tg_sqlite_transient(void) { return SQLITE_TRANSIENT; }
/// SQLITE_STATIC likewise (a null destructor: the caller keeps the bytes alive until the next step/reset).
static inline sqlite3_destructor_type tg_sqlite_static(void) { return SQLITE_STATIC; }

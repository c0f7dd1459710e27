#ifndef WINNOW_CARCHIVE_SHIM_H
#define WINNOW_CARCHIVE_SHIM_H
#include <archive.h>
#include <archive_entry.h>

/* AE_IF* are cast macros that Swift cannot import: expose them as functions. */
static inline unsigned int winnow_ae_ifreg(void) { return (unsigned int)AE_IFREG; }
static inline unsigned int winnow_ae_ifdir(void) { return (unsigned int)AE_IFDIR; }
#endif

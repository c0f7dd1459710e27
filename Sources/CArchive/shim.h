#ifndef WINNOW_CARCHIVE_SHIM_H
#define WINNOW_CARCHIVE_SHIM_H
#include <archive.h>
#include <archive_entry.h>
#endif

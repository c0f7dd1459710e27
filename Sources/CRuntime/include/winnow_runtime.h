#ifndef WINNOW_RUNTIME_H
#define WINNOW_RUNTIME_H
/* Keeps large blocks in the malloc heap instead of a fresh mmap per allocation (glibc only; no-op elsewhere).
   Training allocates and frees the same large tensors every step; this saves re-zeroing their pages.
   Returns 1 when both settings were applied, 0 otherwise (not glibc, or glibc refused). */
int winnow_keep_large_allocations(void);
/* Returns free heap memory to the system (glibc malloc_trim; no-op elsewhere), so a benchmark can measure
   what the next phase adds. Returns 1 if memory was released. */
int winnow_release_free_memory(void);
#endif

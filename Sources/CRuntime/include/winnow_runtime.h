#ifndef WINNOW_RUNTIME_H
#define WINNOW_RUNTIME_H
/* Keeps large blocks in the malloc heap instead of a fresh mmap per allocation (glibc only; no-op elsewhere).
   Training allocates and frees the same large tensors every step; this saves re-zeroing their pages. */
void winnow_keep_large_allocations(void);
#endif

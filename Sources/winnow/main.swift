import CRuntime
import Foundation

// Training allocates and frees the same large tensors every step; by default glibc serves each from a
// fresh mmap and returns it on free, so every step pays the kernel to zero the pages again.
winnow_keep_large_allocations()

// The only place errors become exit codes (see ExitStatus.swift).
exit(ExitStatus.run(Winnow.self, arguments: Array(CommandLine.arguments.dropFirst())))

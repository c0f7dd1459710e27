import CRuntime
import Foundation
import Tensors

// Training allocates and frees the same large tensors every step; by default glibc serves each from a
// fresh mmap and returns it on free, so every step pays the kernel to zero the pages again.
_ = winnow_keep_large_allocations()
// The elementwise kernels use the other cores between matrix products, where OpenBLAS's workers would spin.
BLAS.limitIdleSpin()

// Under mpirun: MPI_Init here, MPI_Finalize (or MPI_Abort after an error) in World.exit.
World.start()
// The only place errors become exit codes (see ExitStatus.swift).
World.exit(ExitStatus.run(Winnow.self, arguments: Array(CommandLine.arguments.dropFirst())))

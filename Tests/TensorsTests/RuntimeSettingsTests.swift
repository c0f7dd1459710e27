import CRuntime
import Testing

/// The executable keeps large tensors in the malloc heap (glibc). The settings once sat behind an
/// `#if defined(__GLIBC__)` tested before any libc header had defined it, so they were silently compiled
/// out; this checks they are really applied.
@Suite struct RuntimeSettingsTests {
    @Test func largeAllocationsStayInTheHeap() {
        #if os(Linux)
            #expect(winnow_keep_large_allocations() == 1)
        #endif
    }
}
